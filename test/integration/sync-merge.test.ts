import { SyncDockerHostDocument } from '../../src/generated/graphql';
import { eventually, startTestApp, testEndpointAllow, TestApp } from '../support/app';
import { dockerSocket, registerForwardedHost } from '../support/docker';
import { stallingForwarder } from '../support/proxy';

/**
 * Syncs of one host asked in a burst (a client repeating syncDockerHost) cost one full read of
 * the engine, not one each: a sync waiting at the end of the supervisor's queue is joined. The
 * engine is the real dockerd behind a forwarder that records each request line.
 */
describe('syncDockerHost in a burst (workers on, real dockerd)', () => {
  let t: TestApp;
  let token: string;
  let hostId: string;
  let proxy: Awaited<ReturnType<typeof stallingForwarder>>;

  beforeAll(async () => {
    proxy = await stallingForwarder(dockerSocket());
    t = await startTestApp({ redis: false, config: { workers: true }, env: { FLEETGRAPH_ENDPOINT_ALLOW: testEndpointAllow('127.0.0.1') } });
    token = await t.token({ account: 'sync-burst', permissions: ['docker.hosts.manage'] });
    hostId = await registerForwardedHost(t, token, proxy.port, 'burst');
    // the supervisor is connected and its first sync is done
    await eventually(async () => proxy.requests.some((r) => r.includes('/events')), 20_000, 50);
    await eventually(
      async () =>
        (await t.gql<{ node: { lastSyncedAt: string | null } }, unknown>(`query($id: ID!) { node(id: $id) { ... on DockerHost { lastSyncedAt } } }`, { id: hostId }, token)).data?.node?.lastSyncedAt !=
        null,
      20_000,
      100,
    );
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await proxy?.close();
  });

  it('ten concurrent syncs all answer, with at most two full reads of the engine', async () => {
    const lists = () => proxy.requests.filter((r) => /^GET \S*\/containers\/json/.test(r)).length;
    const before = lists();
    const results = await Promise.all(Array.from({ length: 10 }, () => t.gql(SyncDockerHostDocument, { input: { id: hostId } }, token)));
    for (const r of results) {
      expect(r.errors).toBeUndefined();
      expect(r.data!.syncDockerHost.activity.status).toBe('SUCCEEDED');
    }
    // the first runs at once; the nine asked while it ran join one more
    expect(lists() - before).toBeGreaterThanOrEqual(1);
    expect(lists() - before).toBeLessThanOrEqual(2);
  }, 60_000);
});
