import { randomUUID } from 'node:crypto';
import type { ExecutionResult } from 'graphql';
import {
  OnSwarmClusterStatusDocument,
  OnSwarmClusterStatusSubscription,
  SetSwarmClusterMaintenanceDocument,
  SwarmClusterHealthDocument,
  UpdateSwarmClusterDocument,
} from '../../src/generated/graphql';
import { eventually, startTestApp, subscribe, TestApp } from '../support/app';
import { formSwarmViaApi, ok, registerSwarmHosts, swarmNodes, swarmReset, swarmUpClean, SwarmNodeNo } from '../support/swarm';

/**
 * A cluster's status changes reach swarmClusterStatusChanged the way a host's reach
 * dockerHostStatusChanged: not only those the supervisor finds (connected, disconnected, quorum),
 * but also those a mutation makes — entering and leaving maintenance, and the reconnect after
 * new endpoint settings. (They used to be written to the row and never published.)
 */
describe('swarmClusterStatusChanged: maintenance and reconnect transitions (real swarm)', () => {
  let t: TestApp;
  let token: string;
  let hosts: Record<SwarmNodeNo, string>;
  let clusterId: string;

  type Change = OnSwarmClusterStatusSubscription['swarmClusterStatusChanged'];
  const changesOf = (rs: ExecutionResult<OnSwarmClusterStatusSubscription>[]): Change[] => rs.map((r) => r.data!.swarmClusterStatusChanged);
  /** Status transitions only (quorum-only changes left out), as "PREVIOUS>STATUS". */
  const transitions = (rs: ExecutionResult<OnSwarmClusterStatusSubscription>[]) =>
    changesOf(rs)
      .filter((c) => c.status !== c.previousStatus)
      .map((c) => `${c.previousStatus}>${c.status}`);

  async function connected(): Promise<void> {
    await eventually(
      async () => {
        const c = ok(await t.gql(SwarmClusterHealthDocument, { id: clusterId }, token)).swarmCluster;
        return c.status === 'CONNECTED' && c.quorum === true;
      },
      60_000,
      300,
    );
  }

  beforeAll(async () => {
    await swarmUpClean();
    t = await startTestApp({ config: { workers: true, sync: { retryBaseMs: 300 } } });
    token = await t.token({ account: `status-${randomUUID().slice(0, 8)}`, permissions: ['docker.hosts.manage', 'swarm.clusters.manage'] });
    hosts = await registerSwarmHosts(t, token, 'st');
    // n2 is a second manager: the cluster's endpoint can be moved to it
    clusterId = await formSwarmViaApi(t, token, hosts, 'st', { 2: 'MANAGER', 3: 'WORKER' });
    await connected();
  }, 180_000);

  afterAll(async () => {
    await t?.stop();
    await swarmReset();
  }, 120_000);

  it('entering maintenance (CONNECTED → MAINTENANCE) and leaving it (MAINTENANCE → PENDING, then CONNECTED again) are published', async () => {
    const ws = t.ws(token);
    const changes = subscribe(ws, OnSwarmClusterStatusDocument, { clusterId });
    await new Promise((r) => setTimeout(r, 300));

    const on = ok(await t.gql(SetSwarmClusterMaintenanceDocument, { input: { id: clusterId, maintenance: true } }, token)).setSwarmClusterMaintenance;
    expect(on.cluster.status).toBe('MAINTENANCE');
    const entered = await changes.until((rs) => changesOf(rs).some((c) => c.status === 'MAINTENANCE'));
    expect(changesOf(entered).find((c) => c.status === 'MAINTENANCE')).toMatchObject({ clusterId, name: 'st', previousStatus: 'CONNECTED', status: 'MAINTENANCE', quorum: true, previousQuorum: true });

    const off = ok(await t.gql(SetSwarmClusterMaintenanceDocument, { input: { id: clusterId, maintenance: false } }, token)).setSwarmClusterMaintenance;
    expect(off.cluster.status).toBe('PENDING');
    const left = await changes.until((rs) => changesOf(rs).some((c) => c.previousStatus === 'MAINTENANCE'));
    expect(changesOf(left).find((c) => c.previousStatus === 'MAINTENANCE')).toMatchObject({ clusterId, previousStatus: 'MAINTENANCE', status: 'PENDING', lastError: null });

    // the supervisor reconnects and says so too
    const all = await changes.until((rs) => transitions(rs).includes('PENDING>CONNECTED'), 60_000);
    expect(transitions(all)).toEqual(['CONNECTED>MAINTENANCE', 'MAINTENANCE>PENDING', 'PENDING>CONNECTED']);
    changes.unsubscribe();
    await ws.dispose();
  }, 120_000);

  it('a new manager endpoint puts the cluster back to PENDING (published), and it reconnects through the new endpoint', async () => {
    await connected();
    const n2 = (await swarmNodes())[2].endpoint;
    const ws = t.ws(token);
    const changes = subscribe(ws, OnSwarmClusterStatusDocument, { clusterId });
    await new Promise((r) => setTimeout(r, 300));

    const updated = ok(await t.gql(UpdateSwarmClusterDocument, { input: { id: clusterId, managerEndpoint: n2 } }, token)).updateSwarmCluster;
    expect(updated.cluster).toMatchObject({ managerEndpoint: n2, status: 'PENDING' });
    expect(updated.activity).toMatchObject({ action: 'cluster.update', status: 'SUCCEEDED' });
    const pending = await changes.until((rs) => changesOf(rs).some((c) => c.status === 'PENDING'));
    expect(changesOf(pending).find((c) => c.status === 'PENDING')).toMatchObject({ clusterId, name: 'st', previousStatus: 'CONNECTED', status: 'PENDING', lastError: null });

    const all = await changes.until((rs) => transitions(rs).includes('PENDING>CONNECTED'), 60_000);
    expect(transitions(all)).toEqual(['CONNECTED>PENDING', 'PENDING>CONNECTED']);
    await connected();
    changes.unsubscribe();
    await ws.dispose();
  }, 120_000);

  it("only the subscriber's account hears of it", async () => {
    const stranger = await t.token({ account: `status-other-${randomUUID().slice(0, 8)}`, permissions: ['swarm.clusters.manage'] });
    // naming another account's cluster is NOT_FOUND; the account-wide feed stays silent
    const ws = t.ws(stranger);
    const named = subscribe(ws, OnSwarmClusterStatusDocument, { clusterId });
    await named.until(() => false, 5_000).catch(() => undefined);
    expect(named.done || Boolean(named.error)).toBe(true);
    const errors = [...named.results.flatMap((r) => r.errors ?? []), ...(Array.isArray(named.error) ? named.error : [])];
    expect(errors[0]?.extensions?.code).toBe('NOT_FOUND');
    const all = subscribe(ws, OnSwarmClusterStatusDocument, {});
    await new Promise((r) => setTimeout(r, 300));
    ok(await t.gql(SetSwarmClusterMaintenanceDocument, { input: { id: clusterId, maintenance: true } }, token));
    ok(await t.gql(SetSwarmClusterMaintenanceDocument, { input: { id: clusterId, maintenance: false } }, token));
    await new Promise((r) => setTimeout(r, 1000));
    expect(all.results).toEqual([]);
    all.unsubscribe();
    await ws.dispose();
    await connected();
  }, 120_000);
});
