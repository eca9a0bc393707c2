import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDockerClient, destroyClient, parseEndpoint, toDockerError } from '../../src/docker/client';
import { EndpointPolicy, parseEndpointAllowList } from '../../src/policy/endpoints';

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
    const mapped = toDockerError(err);
    expect(mapped.extensions.code).toBe('DOCKER_ERROR');
    expect(mapped.message).toMatch(/larger than/);
    await new Promise((r) => setTimeout(r, 100));
    expect(aborted).toBe(true);
    expect(sent).toBeLessThan(50 * MB); // the server was stopped early, not read to the end
    expect((process.memoryUsage().heapUsed - heapBefore) / MB).toBeLessThan(50);
  });

  it('an ordinary answer below the maximum is read as before', async () => {
    const policy = new EndpointPolicy(parseEndpointAllowList(`unix:${sock}`));
    const client = createDockerClient(parseEndpoint(`unix://${sock}`, false), false, undefined, { policy, timeoutMs: 30_000, maxResponseBytes: 4 * MB });
    await expect(client.listImages()).resolves.toEqual([]);
    destroyClient(client);
  });
});
