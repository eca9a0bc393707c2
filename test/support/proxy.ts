import net from 'node:net';

/** A TCP listener on 127.0.0.1 (fixed port once opened) that forwards to a unix socket or a local port, counting connections. */
export async function forwarder(to: { path: string } | { port: number }) {
  const sockets = new Set<net.Socket>();
  let target = to;
  let server: net.Server | undefined;
  let port = 0;
  let accepted = 0;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.createServer((client) => {
        accepted++;
        const upstream = 'path' in target ? net.connect(target.path) : net.connect(target.port, '127.0.0.1');
        for (const sock of [client, upstream]) {
          sockets.add(sock);
          sock.on('close', () => sockets.delete(sock));
          sock.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as net.AddressInfo).port;
        server = s;
        resolve();
      });
    });
  const drop = () => {
    for (const sock of sockets) sock.destroy();
  };
  const close = async () => {
    const s = server;
    server = undefined;
    drop();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await open();
  return {
    get port() {
      return port;
    },
    get accepted() {
      return accepted;
    },
    open,
    close,
    /** Sends new connections elsewhere and drops the current ones: the same URL now leads to another engine. */
    retarget(next: { path: string } | { port: number }) {
      target = next;
      drop();
    },
  };
}

/**
 * A TCP forwarder to the test dockerd that can hold what the client sends (so requests on
 * pooled connections hang), and tells when the client closed a connection it held.
 */
export async function stallingForwarder(socketPath: string) {
  const held = new Set<net.Socket>();
  let stalled = false;
  let closedWhileHeld = 0;
  const all = new Set<net.Socket>();
  /** The request line of every HTTP request seen (a chunk that starts one). */
  const requests: string[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(socketPath);
    all.add(client);
    client.on('close', () => all.delete(client));
    for (const s of [client, upstream]) s.on('error', () => undefined);
    client.on('data', (chunk: Buffer) => {
      const head = chunk.subarray(0, 200).toString('latin1');
      if (/^(GET|POST|PUT|DELETE|HEAD) /.test(head)) requests.push(head.slice(0, head.indexOf('\r\n')));
      if (stalled) held.add(client);
      else upstream.write(chunk);
    });
    upstream.pipe(client);
    client.on('close', () => {
      if (held.delete(client)) closedWhileHeld++;
      upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stall: (on: boolean) => (stalled = on),
    get held() {
      return held.size;
    },
    get closedWhileHeld() {
      return closedWhileHeld;
    },
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of all) c.destroy();
      }),
  };
}
