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
