import dns from 'node:dns';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { AddressPin, createDockerClient, destroyClient, parseEndpoint } from '../../src/infra/engine/client';
import { engineError } from '../../src/infra/engine/errors';
import type { AppError } from '../../src/kernel/errors';
import { EndpointPolicy, parseEndpointAllowList } from '../../src/kernel/addresses';

/**
 * docker-modem reads the answer of a non-streaming call whole into memory: an endpoint that
 * answers /containers/json with gigabytes would fill the heap. The API client cuts such an answer
 * off at its maximum. A real HTTP server on a unix socket plays the endpoint.
 */
describe('answers of non-streaming Docker calls are bounded', () => {
  const MB = 1024 * 1024;
  let dir: string;
  let sock: string;
  let server: http.Server;
  let sent = 0;
  let aborted = false;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-bounds-'));
    sock = path.join(dir, 'docker.sock');
    server = http.createServer((req, res) => {
      if (req.url!.includes('/events')) {
        // an error answer that never ends, to a streaming call
        sent = 0;
        aborted = false;
        res.on('close', () => (aborted = !res.writableFinished));
        res.writeHead(500, { 'content-type': 'application/json' });
        const junk = 'x'.repeat(64 * 1024);
        const drip = () => {
          while (!res.destroyed && sent < 200 * MB) {
            sent += junk.length;
            if (!res.write(junk)) return res.once('drain', drip);
          }
          res.end();
        };
        return drip();
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      if (!req.url!.includes('/containers/json')) return res.end('[]');
      // an endless JSON array: '[' then elements forever, never closed
      sent = 0;
      aborted = false;
      res.on('close', () => (aborted = !res.writableFinished));
      const chunk = `{"Id":"${'a'.repeat(64)}"},`.repeat(1000);
      res.write('[');
      const pump = () => {
        while (!res.destroyed && sent < 200 * MB) {
          sent += chunk.length;
          if (!res.write(chunk)) return res.once('drain', pump);
        }
        res.end(']');
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(sock, resolve));
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a 200 MB answer is cut off at the client maximum with a fixed DOCKER_ERROR', async () => {
    const policy = new EndpointPolicy(parseEndpointAllowList(`unix:${sock}`));
    const client = createDockerClient(parseEndpoint(`unix://${sock}`, false), false, undefined, { policy, timeoutMs: 30_000, maxResponseBytes: 4 * MB });
    const heapBefore = process.memoryUsage().heapUsed;
    const err = await client.listContainers({ all: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    destroyClient(client);
    expect(err).toBeDefined();
    const mapped = engineError(err) as AppError;
    expect(mapped.extensions.code).toBe('DOCKER_ERROR');
    expect(mapped.message).toMatch(/larger than/);
    await new Promise((r) => setTimeout(r, 100));
    expect(aborted).toBe(true);
    expect(sent).toBeLessThan(50 * MB); // the server was stopped early, not read to the end
    expect((process.memoryUsage().heapUsed - heapBefore) / MB).toBeLessThan(50);
  });

  it('a streaming client (no maximum for its streams) still cuts an error answer off at 64 KiB', async () => {
    const policy = new EndpointPolicy(parseEndpointAllowList(`unix:${sock}`));
    const stream = createDockerClient(parseEndpoint(`unix://${sock}`, false), false, undefined, { policy });
    const heapBefore = process.memoryUsage().heapUsed;
    const err = await stream.getEvents({}).then(
      () => undefined,
      (e: unknown) => e,
    );
    destroyClient(stream);
    const mapped = engineError(err) as AppError;
    expect(mapped.extensions).toMatchObject({ code: 'DOCKER_ERROR', reason: 'answer too large' });
    expect(mapped.message).toMatch(/larger than 64 KiB/);
    await new Promise((r) => setTimeout(r, 100));
    expect(aborted).toBe(true);
    expect(sent).toBeLessThan(50 * MB);
    expect((process.memoryUsage().heapUsed - heapBefore) / MB).toBeLessThan(50);
  });

  it('an ordinary answer below the maximum is read as before', async () => {
    const policy = new EndpointPolicy(parseEndpointAllowList(`unix:${sock}`));
    const client = createDockerClient(parseEndpoint(`unix://${sock}`, false), false, undefined, { policy, timeoutMs: 30_000, maxResponseBytes: 4 * MB });
    await expect(client.listImages()).resolves.toEqual([]);
    destroyClient(client);
  });

  it("keeps docker-modem's per-request debug formatting cheap: the agent, sockets and all, formats as a short tag", async () => {
    // docker-modem runs util.inspect(options, { showHidden: true, depth: null }) on every request,
    // its debug log on or off; with the agent and its keep-alive sockets that was ~2.4 ms of CPU a call
    const policy = new EndpointPolicy(parseEndpointAllowList(`unix:${sock}`));
    const client = createDockerClient(parseEndpoint(`unix://${sock}`, false), false, undefined, { policy, timeoutMs: 30_000, maxResponseBytes: 4 * MB });
    await Promise.all([client.listImages(), client.listImages(), client.listImages()]); // sockets open in the agent
    const agent = (client as unknown as { modem: { agent: http.Agent } }).modem.agent;
    const formatted = inspect({ path: '/images/json', agent }, { showHidden: true, depth: null });
    expect(formatted).toContain('[fleetgraph guarded agent]');
    expect(formatted.length).toBeLessThan(200);
    destroyClient(client);
  });
});

/**
 * A host name that answers differently per lookup (DNS rebinding) must not lead the clients of
 * one connection to different engines: the identity is checked through one client, and the
 * others (events, logs, exec) must reach that same engine. Two real HTTP servers on 127.0.0.1
 * and 127.0.0.2 play the two engines; the resolver is the only stand-in.
 */
describe('the clients of one connection reach one address', () => {
  const servers: http.Server[] = [];
  let port = 0;
  const realLookup = dns.promises.lookup;
  const realResolve = { resolve4: dns.promises.resolve4, resolve6: dns.promises.resolve6 };

  beforeAll(async () => {
    for (const [ip, id] of [
      ['127.0.0.1', 'checked-engine'],
      ['127.0.0.2', 'other-engine'],
    ]) {
      const server = http.createServer((req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify([{ Id: id }]));
      });
      await new Promise<void>((resolve) => server.listen(port, ip, resolve));
      port = (server.address() as { port: number }).port;
      servers.push(server);
    }
    let lookups = 0;
    (dns.promises as { lookup: unknown }).lookup = async () => [{ address: ++lookups === 1 ? '127.0.0.1' : '127.0.0.2', family: 4 }];
    // DNS proper (asked first) does not know the name: the system resolver above decides
    for (const name of ['resolve4', 'resolve6'] as const) (dns.promises as Record<string, unknown>)[name] = async () => Promise.reject(Object.assign(new Error('not found'), { code: dns.NOTFOUND }));
  });
  afterAll(async () => {
    (dns.promises as { lookup: unknown }).lookup = realLookup;
    Object.assign(dns.promises, realResolve);
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  it('api and stream clients sharing a pin resolve the name once', async () => {
    const policy = new EndpointPolicy(parseEndpointAllowList('127.0.0.1,127.0.0.2'));
    const endpoint = parseEndpoint(`tcp://engine.rebind.test:${port}`, false);
    const pin: AddressPin = {};
    const api = createDockerClient(endpoint, false, undefined, { policy, timeoutMs: 5000, pin });
    const stream = createDockerClient(endpoint, false, undefined, { policy, pin });
    try {
      const viaApi = (await api.listContainers()) as Array<{ Id: string }>;
      const viaStream = (await stream.listContainers()) as Array<{ Id: string }>;
      expect(viaApi[0].Id).toBe('checked-engine');
      expect(viaStream[0].Id).toBe('checked-engine');
    } finally {
      destroyClient(api);
      destroyClient(stream);
    }
  });
});
