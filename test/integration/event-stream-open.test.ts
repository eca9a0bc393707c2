import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createDockerClient, destroyClient, parseEndpoint } from '../../src/infra/engine/client';
import { EventStream, type RawDockerEvent } from '../../src/infra/engine/event-stream';
import { EndpointPolicy, parseEndpointAllowList } from '../../src/kernel/addresses';

/** Opening an engine's /events stream is bounded: an engine that accepts and never answers cannot hold a supervisor for good. */
describe('event stream opening', () => {
  const clientFor = (port: number) =>
    createDockerClient(parseEndpoint(`tcp://127.0.0.1:${port}`, false), false, undefined, { policy: new EndpointPolicy(parseEndpointAllowList(`127.0.0.1:${port}`)) });

  it('gives up on an engine that accepts the connection and never answers, and closes the connection', async () => {
    const sockets: net.Socket[] = [];
    const closed: Promise<void>[] = [];
    const server = net.createServer((s) => {
      sockets.push(s);
      s.resume(); // read (and drop) the request, so that the client's close is seen
      closed.push(new Promise((resolve) => s.on('close', () => resolve())));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = clientFor((server.address() as AddressInfo).port);
    try {
      const ended: Array<Error | undefined> = [];
      const stream = new EventStream(client, { onEvent: () => undefined, onEnd: (e) => ended.push(e) });
      const t0 = Date.now();
      await expect(stream.start(undefined, undefined, 300)).rejects.toThrow(/did not answer the event stream request within 300 ms/);
      expect(Date.now() - t0).toBeLessThan(2_000);
      expect(sockets).toHaveLength(1);
      await closed[0]; // the request was aborted: the engine's side sees the connection close
      expect(ended).toEqual([]); // a stream that never opened does not report an end
    } finally {
      destroyClient(client);
      sockets.forEach((s) => s.destroy());
      server.close();
    }
  });

  it('keeps a stream that answered: an idle stream past the open timeout still delivers', async () => {
    let res: http.ServerResponse | undefined;
    const server = http.createServer((req, response) => {
      res = response;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.flushHeaders();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = clientFor((server.address() as AddressInfo).port);
    try {
      const events: RawDockerEvent[] = [];
      const stream = new EventStream(client, { onEvent: (e) => events.push(e), onEnd: () => undefined });
      await stream.start(undefined, undefined, 300);
      await new Promise((r) => setTimeout(r, 600));
      const timeNano = String(BigInt(Date.now()) * 1_000_000n);
      // Docker writes timeNano as a JSON number, beyond double precision
      res!.write(`{"Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{}},"scope":"local","time":${Math.floor(Date.now() / 1000)},"timeNano":${timeNano}}\n`);
      for (let i = 0; i < 50 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(events.map((e) => e.timeNano)).toEqual([timeNano]);
      stream.stop();
    } finally {
      destroyClient(client);
      server.closeAllConnections();
      server.close();
    }
  });
});
