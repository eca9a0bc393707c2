import { startTestApp, TestApp } from '../support/app';
import { TEST_IMAGE, cleanupDocker, docker, registerLocalHost, uniqueName } from '../support/docker';
import { systemScope } from '../../src/platform/system-scope';
import { ActivityStatus } from '../../entities';

/**
 * A domain service runs without a request: a worker builds a system Scope for the account and
 * calls the same ContainerManager a mutation calls. The audit trail records who acted either
 * way: `system:<worker>` for the worker, `user:<token subject>` for a request.
 */
describe('a worker restarts a container on a system scope', () => {
  let t: TestApp;
  let token: string;
  let hostId: string;
  const subject = 'worker-scope-alice';

  const ACTIVITIES = `query ($filter: ActivityFilter) {
    activities(first: 50, filter: $filter) { edges { node { action status actor targetId error user { id } host { id } } } }
  }`;
  type ActivityRow = { action: string; status: string; actor: string; targetId: string | null; error: string | null; user: { id: string } | null; host: { id: string } | null };

  async function activities(action: string): Promise<ActivityRow[]> {
    const res = await t.gql<{ activities: { edges: Array<{ node: ActivityRow }> } }, unknown>(ACTIVITIES, { filter: { action, hostId } }, token);
    expect(res.errors).toBeUndefined();
    return res.data!.activities.edges.map((e) => e.node);
  }

  /** The uuid inside a global id (base64url of "Type:uuid"): what service methods take. */
  function uuidOf(globalId: string, type: string): string {
    const [t, id] = Buffer.from(globalId, 'base64url').toString('utf8').split(':');
    expect(t).toBe(type);
    return id;
  }

  beforeAll(async () => {
    t = await startTestApp();
    token = await t.token({ account: 'worker-scope', subject, permissions: ['docker.hosts.manage', 'docker.resources.manage'] });
    hostId = await registerLocalHost(t, token);
  });
  afterAll(async () => {
    await cleanupDocker();
    await t?.stop();
  });

  it('records actor system:test-restarter for the worker and user:<subject> for the request', async () => {
    const name = uniqueName('worker-scope');
    const created = await t.gql<{ createContainer: { container: { id: string; containerId: string }; activity: { actor: string; status: string } } }, unknown>(
      `mutation ($input: CreateContainerInput!) { createContainer(input: $input) { container { id containerId } activity { actor status } } }`,
      { input: { hostId, name, image: TEST_IMAGE, command: ['sleep', '300'] } },
      token,
    );
    expect(created.errors).toBeUndefined();
    const { container } = created.data!.createContainer;
    expect(created.data!.createContainer.activity).toEqual({ actor: `user:${subject}`, status: 'SUCCEEDED' });

    const viewer = await t.gql<{ viewer: { account: { id: string } } }, unknown>('{ viewer { account { id } } }', undefined, token);
    expect(viewer.errors).toBeUndefined();
    const accountId = uuidOf(viewer.data!.viewer.account.id, 'Account');
    const before = await docker('inspect', '-f', '{{.State.StartedAt}}', name);

    // as a worker would: no request, no viewer, a system scope for the account
    const { orm, resources, logger } = t.app.services;
    const scope = systemScope(orm, accountId, 'test-restarter', logger);
    const { result, activity } = await resources.containers.lifecycle(scope, uuidOf(container.id, 'DockerContainer'), 'restart', 1);
    expect(activity.status).toBe(ActivityStatus.SUCCEEDED);
    expect(activity.actor).toBe('system:test-restarter');
    expect(result.state).toBe('running');
    expect(await docker('inspect', '-f', '{{.State.StartedAt}}', name)).not.toBe(before);

    const restarts = await activities('container.restart');
    expect(restarts).toEqual([{ action: 'container.restart', status: 'SUCCEEDED', actor: 'system:test-restarter', targetId: container.containerId, error: null, user: null, host: { id: hostId } }]);

    // the same operation asked by the user through GraphQL records the user
    const byUser = await t.gql<{ restartContainer: { activity: { actor: string; status: string } } }, unknown>(
      `mutation ($input: ContainerStopInput!) { restartContainer(input: $input) { activity { actor status } } }`,
      { input: { id: container.id, timeoutSeconds: 1 } },
      token,
    );
    expect(byUser.errors).toBeUndefined();
    expect(byUser.data!.restartContainer.activity).toEqual({ actor: `user:${subject}`, status: 'SUCCEEDED' });

    const all = await activities('container.');
    const actors = all.map((a) => `${a.action} ${a.actor} ${a.status} ${a.user ? 'user' : 'no-user'}`).sort();
    expect(actors).toEqual([`container.create user:${subject} SUCCEEDED user`, `container.restart system:test-restarter SUCCEEDED no-user`, `container.restart user:${subject} SUCCEEDED user`]);
  }, 60_000);

  it('a worker scope of another account does not reach the container', async () => {
    const other = await t.token({ account: 'worker-scope-other', permissions: [] });
    const viewer = await t.gql<{ viewer: { account: { id: string } } }, unknown>('{ viewer { account { id } } }', undefined, other);
    const otherAccount = uuidOf(viewer.data!.viewer.account.id, 'Account');
    const list = await t.gql<{ containers: { edges: Array<{ node: { id: string } }> } }, unknown>('{ containers(first: 1) { edges { node { id } } } }', undefined, token);
    const containerId = uuidOf(list.data!.containers.edges[0].node.id, 'DockerContainer');

    const { orm, resources, logger } = t.app.services;
    await expect(resources.containers.lifecycle(systemScope(orm, otherAccount, 'test-restarter', logger), containerId, 'restart')).rejects.toMatchObject({
      extensions: { code: 'NOT_FOUND' },
    });
    // nothing was run, so nothing was audited for the other account
    const audited = await t.gql<{ activities: { edges: unknown[] } }, unknown>('{ activities(first: 5) { edges { node { id } } } }', undefined, other);
    expect(audited.data!.activities.edges).toEqual([]);
  }, 30_000);
});
