import { CreateContainerDocument, RestartContainerDocument, StopContainerDocument } from '../../src/generated/graphql';
import { startTestApp, TestApp } from '../support/app';
import { TEST_IMAGE, cleanupDocker, docker, registerLocalHost, uniqueName } from '../support/docker';

/**
 * A stop or restart waits for the container's grace period before Docker answers. The client
 * used to give up after 5 s (docker-modem's connectionTimeout runs until the response headers)
 * and reported DOCKER_UNREACHABLE with a FAILED activity while Docker completed the restart.
 */
describe('stop and restart wait for the grace period', () => {
  let t: TestApp;
  let token: string;
  let hostId: string;

  beforeAll(async () => {
    t = await startTestApp();
    token = await t.token({ account: 'lifecycle', permissions: ['docker.hosts.manage', 'docker.resources.manage'] });
    hostId = await registerLocalHost(t, token);
  });
  afterAll(async () => {
    await cleanupDocker();
    await t?.stop();
  });

  async function stubborn(): Promise<{ id: string; name: string }> {
    const name = uniqueName('stubborn');
    // a shell as PID 1 with no TERM handler ignores SIGTERM: only SIGKILL after the grace period stops it
    const res = await t.gql(CreateContainerDocument, { input: { hostId, name, image: TEST_IMAGE, command: ['sh', '-c', 'while :; do sleep 1; done'] } }, token);
    expect(res.errors).toBeUndefined();
    return { id: res.data!.createContainer.container.id, name };
  }

  it('restartContainer with timeoutSeconds 8 on a container that ignores SIGTERM succeeds', async () => {
    const c = await stubborn();
    const before = await docker('inspect', '-f', '{{.State.StartedAt}}', c.name);
    const started = Date.now();
    const res = await t.gql(RestartContainerDocument, { input: { id: c.id, timeoutSeconds: 8 } }, token);
    const ms = Date.now() - started;
    expect(res.errors).toBeUndefined();
    expect(res.data!.restartContainer.activity.status).toBe('SUCCEEDED');
    expect(ms).toBeGreaterThanOrEqual(7_000); // it really waited for the grace period
    expect(await docker('inspect', '-f', '{{.State.Running}}', c.name)).toBe('true');
    expect(await docker('inspect', '-f', '{{.State.StartedAt}}', c.name)).not.toBe(before);
  }, 60_000);

  it('stopContainer with timeoutSeconds 7 succeeds and the container is stopped', async () => {
    const c = await stubborn();
    const res = await t.gql(StopContainerDocument, { input: { id: c.id, timeoutSeconds: 7 } }, token);
    expect(res.errors).toBeUndefined();
    expect(res.data!.stopContainer.activity.status).toBe('SUCCEEDED');
    expect(res.data!.stopContainer.container.state).toBe('exited');
  }, 60_000);
});
