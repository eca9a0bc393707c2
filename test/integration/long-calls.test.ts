import { CreateContainerDocument, ExecContainerDocument } from '../../src/generated/graphql';
import { MAX_LONG_DOCKER_CALLS_PER_ACCOUNT } from '../../src/kernel/config';
import { startTestApp, TestApp } from '../support/app';
import { cleanupDocker, registerLocalHost, TEST_IMAGE, uniqueName } from '../support/docker';

/**
 * Builds, pulls, pushes and execs hold a Docker stream and its buffers for their whole length:
 * one account has at most MAX_LONG_DOCKER_CALLS_PER_ACCOUNT of them at a time (real dockerd).
 */
describe('long Docker calls in flight per account', () => {
  let t: TestApp;
  let token: string;
  let containerId: string;

  beforeAll(async () => {
    t = await startTestApp({ redis: false });
    token = await t.token({ account: 'long-calls', permissions: ['docker.hosts.manage', 'docker.resources.manage', 'docker.containers.exec'] });
    const hostId = await registerLocalHost(t, token);
    const res = await t.gql(CreateContainerDocument, { input: { hostId, name: uniqueName('long'), image: TEST_IMAGE, command: ['sleep', '300'] } }, token);
    expect(res.errors).toBeUndefined();
    containerId = res.data!.createContainer.container.id;
  }, 60_000);
  afterAll(async () => {
    await cleanupDocker();
    await t?.stop();
  });

  it('one exec past the limit is RATE_LIMITED at once and leaves no activity; the others finish, and then execs run again', async () => {
    const exec = (seconds: number) => t.gql(ExecContainerDocument, { input: { id: containerId, command: ['sleep', String(seconds)] } }, token);
    const activities = async () =>
      (await t.gql<{ activities: { totalCount: number } }, unknown>(`{ activities(filter: { action: "container.exec" }) { totalCount } }`, {}, token)).data!.activities.totalCount;
    const running = Array.from({ length: MAX_LONG_DOCKER_CALLS_PER_ACCOUNT }, () => exec(2));
    // the others are under way (each holds its slot from the start)
    await new Promise((r) => setTimeout(r, 500));
    const refused = await exec(0);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'longDockerCalls', max: MAX_LONG_DOCKER_CALLS_PER_ACCOUNT });
    const done = await Promise.all(running);
    for (const r of done) expect(r.errors).toBeUndefined();
    expect(await activities()).toBe(MAX_LONG_DOCKER_CALLS_PER_ACCOUNT);
    expect((await exec(0)).errors).toBeUndefined();
  }, 60_000);
});
