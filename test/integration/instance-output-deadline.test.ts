import { createDockerClient, destroyClient, parseEndpoint } from '../../src/infra/engine/client';
import { Engine } from '../../src/infra/engine/port';
import { EndpointPolicy, parseEndpointAllowList } from '../../src/kernel/addresses';
import { captureOutput } from '../../src/modules/instances/instances';
import { docker, dockerSocket, TEST_IMAGE, uniqueName } from '../support/docker';
import { stallingForwarder } from '../support/proxy';

/**
 * An instance's wrap-up reads the container's output from its engine. An engine that stops
 * answering (here: a forwarder to the real dockerd that holds what it is sent) must not hold the
 * worker: the read is given up at its deadline, keeping what came.
 */
describe('captureOutput against a real dockerd, directly and through an engine that stops answering', () => {
  let proxy: Awaited<ReturnType<typeof stallingForwarder>>;
  let engine: Engine;
  let clients: ReturnType<typeof createDockerClient>[];
  const name = uniqueName('capture');

  beforeAll(async () => {
    await docker('run', '--name', name, TEST_IMAGE, 'sh', '-c', 'echo out-line; echo err-line >&2');
    proxy = await stallingForwarder(dockerSocket());
    const policy = new EndpointPolicy(parseEndpointAllowList('127.0.0.1'));
    const endpoint = parseEndpoint(`tcp://127.0.0.1:${proxy.port}`, false);
    clients = [createDockerClient(endpoint, false, undefined, { policy, timeoutMs: 60_000 }), createDockerClient(endpoint, false, undefined, { policy })];
    engine = new Engine({ api: clients[0], stream: clients[1] }, { name: 'stalling', kind: 'host' });
  }, 60_000);
  afterAll(async () => {
    for (const c of clients ?? []) destroyClient(c);
    await proxy?.close();
    await docker('rm', '-f', name).catch(() => undefined);
  });

  it('reads stdout and stderr when the engine answers', async () => {
    const out = await captureOutput(engine, name, 1024, AbortSignal.timeout(10_000));
    expect(out).toMatchObject({ stdout: 'out-line\n', stderr: 'err-line\n', stdoutDroppedBytes: 0, stderrDroppedBytes: 0 });
  });

  it('gives up at its deadline when the engine stops answering, with what came by then', async () => {
    proxy.stall(true);
    try {
      const started = performance.now();
      const out = await captureOutput(engine, name, 1024, AbortSignal.timeout(500));
      const ms = performance.now() - started;
      expect(out).toEqual({ stdout: '', stderr: '', stdoutDroppedBytes: 0, stderrDroppedBytes: 0 });
      // without the deadline this waits for the client's idle timeout (none on the stream client)
      expect(ms).toBeLessThan(10_000);
    } finally {
      proxy.stall(false);
    }
  });
});
