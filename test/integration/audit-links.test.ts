import { CreateContainerDocument } from '../../src/generated/graphql';
import { causes } from '../../src/platform/audit/links';
import { eventually, startTestApp, TestApp } from '../support/app';
import { TEST_IMAGE, cleanupDocker, registerLocalHost, uniqueName } from '../support/docker';

interface LinkedActivity {
  action: string;
  status: string;
  startedAt: string;
  events: { nodes: Array<{ id: string; action: string; time: string }> };
}

/**
 * An activity is linked to the events its own operation caused. Back-to-back operations on one
 * container (restart, stop, start, exec: 100 of them) used to share a time window, so one
 * arbitrary activity won an event: stop/start events went to an earlier container.create, and
 * activities were left without events of their own. Now each event goes to the latest activity
 * of its target that can cause its action.
 */
describe('audit links of back-to-back operations (real dockerd)', () => {
  let t: TestApp;
  let token: string;
  let hostId: string;

  beforeAll(async () => {
    t = await startTestApp({ config: { workers: true } });
    token = await t.token({ account: 'links', permissions: ['docker.hosts.manage', 'docker.resources.manage', 'docker.containers.exec'] });
    hostId = await registerLocalHost(t, token);
  });

  afterAll(async () => {
    await t?.stop();
    await cleanupDocker();
  });

  it('100 mixed operations on one container: every activity has its own events, of actions it causes, and none is shared', async () => {
    const created = await t.gql(CreateContainerDocument, { input: { hostId, name: uniqueName('links'), image: TEST_IMAGE, command: ['sleep', '3600'] } }, token);
    expect(created.errors).toBeUndefined();
    const id = created.data!.createContainer.container.id;
    const activityIds = [created.data!.createContainer.activity.id];
    const ops: Array<[string, string]> = [
      ['restartContainer', `{ id: "${id}", timeoutSeconds: 0 }`],
      ['stopContainer', `{ id: "${id}", timeoutSeconds: 0 }`],
      ['startContainer', `{ id: "${id}" }`],
      ['execContainer', `{ id: "${id}", command: ["true"] }`],
    ];
    for (let i = 0; i < 100; i++) {
      const [mutation, input] = ops[i % ops.length];
      const res = await t.gql<Record<string, { activity: { id: string; status: string } }>, Record<string, never>>(`mutation { ${mutation}(input: ${input}) { activity { id status } } }`, {}, token);
      expect(res.errors).toBeUndefined();
      expect(res.data![mutation].activity.status).toBe('SUCCEEDED');
      activityIds.push(res.data![mutation].activity.id);
    }

    const read = async (activityId: string) => {
      const r = await t.gql<{ node: LinkedActivity }, { id: string }>(
        'query($id: ID!) { node(id: $id) { ... on DockerActivity { action status startedAt events(first: 20) { nodes { id action time } } } } }',
        { id: activityId },
        token,
      );
      expect(r.errors).toBeUndefined();
      return r.data!.node;
    };
    // events are stored and linked as the supervisor reads them: wait until the last operation has its own
    await eventually(async () => (await read(activityIds[activityIds.length - 1])).events.nodes.length > 0, 30_000);

    const seen = new Map<string, string>();
    const withoutEvents: string[] = [];
    for (const [i, activityId] of activityIds.entries()) {
      const a = await read(activityId);
      if (a.events.nodes.length === 0) withoutEvents.push(`${i}:${a.action}`);
      for (const e of a.events.nodes) {
        // only actions this operation causes
        expect(`${a.action} → ${e.action}: ${causes(a.action, e.action)}`).toBe(`${a.action} → ${e.action}: true`);
        // never before the operation started (events of the previous operation stay with it)
        expect(Date.parse(e.time)).toBeGreaterThanOrEqual(Date.parse(a.startedAt) - 1000);
        expect(seen.get(e.id)).toBeUndefined();
        seen.set(e.id, activityId);
      }
    }
    expect(withoutEvents).toEqual([]);
    // every operation's expected events: stop gives die+stop, start gives start, exec gives its exec events
    const actionsOf = async (i: number) => (await read(activityIds[i])).events.nodes.map((e) => e.action.split(':')[0]);
    expect(await actionsOf(2)).toEqual(expect.arrayContaining(['die', 'stop']));
    expect(await actionsOf(3)).toEqual(['start']);
    expect(await actionsOf(4)).toEqual(expect.arrayContaining(['exec_create', 'exec_start', 'exec_die']));
  }, 240_000);
});
