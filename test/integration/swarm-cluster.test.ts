import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DemoteNodeDocument,
  OnSwarmClusterStatusDocument,
  PromoteNodeDocument,
  SwarmClusterHealthDocument,
  SwarmClusterNodesDocument,
  SwarmClusterOverviewDocument,
  SwarmJoinTokensDocument,
  SyncSwarmClusterDocument,
  InitSwarmDocument,
  JoinSwarmDocument,
  UpdateSwarmDocument,
  SetSwarmClusterMaintenanceDocument,
  OnSwarmEventsDocument,
  SwarmClusterEventsDocument,
  LeaveSwarmDocument,
  RemoveNodeDocument,
  RegisterSwarmClusterDocument,
  UpdateSwarmClusterDocument,
  RemoveSwarmClusterDocument,
  SwarmClustersDocument,
} from '../../src/generated/graphql';
import { sql } from '../support/db';
import { eventually, startTestApp, subscribe, TestApp } from '../support/app';
import { nodeTable, ok, registerSwarmHosts, startNode, stopNode, swarmDocker, swarmNodes, swarmReset, swarmUpClean, SwarmNodeNo, waitForWorkerCertificate } from '../support/swarm';

/**
 * Swarm clusters against a real 3-node swarm (three dockerd in their own network namespaces,
 * test/support/swarm.sh): init and join through the API, nodes with their roles, promote and
 * demote one at a time, the last manager's demotion refused, quorum lost and regained.
 */
/** Tests that stop and start node daemons: raft's ~20 s give-up plus the polling waits exceed jest's 60 s default. */
const NODE_RESTART_TIMEOUT_MS = 240_000;

describe('Swarm clusters on a real 3-node swarm', () => {
  let t: TestApp;
  let token: string;
  let hosts: Record<SwarmNodeNo, string>;
  let clusterId: string;
  const account = `swarm-${randomUUID().slice(0, 8)}`;
  const nodeIds: Partial<Record<string, string>> = {}; // hostname -> SwarmNode global id

  async function nodes() {
    ok(await t.gql(SyncSwarmClusterDocument, { input: { id: clusterId } }, token));
    const list = ok(await t.gql(SwarmClusterNodesDocument, { id: clusterId }, token)).swarmCluster.nodes.nodes;
    for (const n of list) nodeIds[n.hostname] = n.id;
    return Object.fromEntries(list.map((n) => [n.hostname, n]));
  }

  /** Waits until the swarm itself (docker node ls on n1) shows `want` as hostname -> manager status. */
  async function cliRoles(want: Record<string, string>, via: SwarmNodeNo = 1) {
    await eventually(
      async () => {
        const table = await nodeTable(via);
        // '' = a worker: no manager status at all
        return Object.entries(want).every(([h, s]) => (s === '' ? /^Ready Active$/.test((table[h] ?? '').trim()) : (table[h] ?? '').trim().endsWith(s))) ? table : undefined;
      },
      90_000,
      300,
    );
  }

  beforeAll(async () => {
    await swarmUpClean();
    t = await startTestApp({ config: { workers: true, sync: { retryBaseMs: 300 } } });
    token = await t.token({ account, permissions: ['docker.hosts.manage', 'swarm.clusters.manage'] });
    hosts = await registerSwarmHosts(t, token, 'c');
  }, 120_000);

  afterAll(async () => {
    await t?.stop();
    await swarmReset();
  }, 120_000);

  it('initSwarm turns a registered host into a manager and registers the cluster; the last manager cannot be demoted', async () => {
    const res = ok(await t.gql(InitSwarmDocument, { input: { hostId: hosts[1], name: 'c-prod', syncIntervalSeconds: 30 } }, token));
    clusterId = res.initSwarm.cluster.id;
    expect(res.initSwarm.cluster.swarmId).toBeTruthy();
    expect(res.initSwarm.activity).toMatchObject({ action: 'swarm.init', status: 'SUCCEEDED', host: { id: hosts[1] }, cluster: { id: clusterId } });
    expect(await swarmDocker(1, 'info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}')).toBe('active true');

    // the same name again: refused before Docker is touched
    const dup = await t.gql(InitSwarmDocument, { input: { hostId: hosts[2], name: 'c-prod' } }, token);
    expect(dup.errors?.[0].extensions?.code).toBe('CONFLICT');

    const n = await nodes();
    expect(Object.keys(n)).toEqual(['fg-n1']);
    expect(n['fg-n1']).toMatchObject({ role: 'MANAGER', leader: true, state: 'ready', host: { id: hosts[1] } });
    const demote = await t.gql(DemoteNodeDocument, { input: { nodeId: nodeIds['fg-n1']! } }, token);
    expect(demote.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(demote.errors?.[0].message).toMatch(/last manager/);
    expect(await swarmDocker(1, 'node', 'inspect', 'self', '--format', '{{.Spec.Role}}')).toBe('manager');
  });

  it('join tokens are readable only with swarm.clusters.manage', async () => {
    const reader = await t.token({ account, subject: 'reader', permissions: [] });
    const denied = await t.gql(SwarmJoinTokensDocument, { id: clusterId }, reader);
    expect(denied.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const tokens = ok(await t.gql(SwarmJoinTokensDocument, { id: clusterId }, token)).swarmCluster.joinTokens;
    expect(tokens.worker).toBe(await swarmDocker(1, 'swarm', 'join-token', '-q', 'worker'));
    expect(tokens.manager).toMatch(/^SWMTKN-/);
    // a stranger does not see the cluster at all
    const stranger = await t.token({ account: `${account}-x`, permissions: ['swarm.clusters.manage'] });
    expect((await t.gql(SwarmJoinTokensDocument, { id: clusterId }, stranger)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    // rotation through updateSwarm changes the worker token
    const rotated = ok(await t.gql(UpdateSwarmDocument, { input: { clusterId, rotateWorkerToken: true, taskHistoryRetentionLimit: 3, dispatcherHeartbeatPeriodSeconds: 1 } }, token));
    expect(rotated.updateSwarm.activity.status).toBe('SUCCEEDED');
    expect(ok(await t.gql(SwarmJoinTokensDocument, { id: clusterId }, token)).swarmCluster.joinTokens.worker).not.toBe(tokens.worker);
    const swarmSpec = rotated.updateSwarm.cluster.spec as { Orchestration?: { TaskHistoryRetentionLimit?: number }; Dispatcher?: { HeartbeatPeriod?: number } };
    expect(swarmSpec.Orchestration?.TaskHistoryRetentionLimit).toBe(3);
    // (a 1 s heartbeat also makes the later "node down" checks quicker)
    expect(swarmSpec.Dispatcher?.HeartbeatPeriod).toBe(1e9);
    expect(await swarmDocker(1, 'info', '--format', '{{.Swarm.Cluster.Spec.Dispatcher.HeartbeatPeriod}}')).toBe('1s');
  });

  it("joinSwarm adds a manager and a worker with the cluster's tokens; nodes are listed with their roles", async () => {
    const m = ok(await t.gql(JoinSwarmDocument, { input: { hostId: hosts[2], clusterId, role: 'MANAGER' } }, token));
    expect(m.joinSwarm.activity).toMatchObject({ action: 'swarm.join', status: 'SUCCEEDED', cluster: { id: clusterId } });
    expect(JSON.stringify(m.joinSwarm.activity.parameters)).not.toMatch(/SWMTKN/);
    ok(await t.gql(JoinSwarmDocument, { input: { hostId: hosts[3], clusterId, role: 'WORKER' } }, token));
    await cliRoles({ 'fg-n1': 'Leader', 'fg-n2': 'Reachable' });
    const n = await eventually(async () => {
      const all = await nodes();
      return Object.keys(all).length === 3 && Object.values(all).every((x) => x.state === 'ready') && all['fg-n2'].managerReachability === 'reachable' ? all : undefined;
    }, 30_000);
    expect(Object.fromEntries(Object.entries(n).map(([h, x]) => [h, x.role]))).toEqual({ 'fg-n1': 'MANAGER', 'fg-n2': 'MANAGER', 'fg-n3': 'WORKER' });
    expect(n['fg-n1'].leader).toBe(true);
    expect(n['fg-n3'].managerReachability).toBeNull();
    // every node is linked to the registered host whose engine it is
    expect(n['fg-n2'].host?.id).toBe(hosts[2]);
    expect(n['fg-n3'].host?.id).toBe(hosts[3]);
    // the same roles as `docker node ls`
    const table = await nodeTable(1);
    expect(table['fg-n3']).toMatch(/^Ready Active\s*$/);

    const overview = ok(await t.gql(SwarmClusterOverviewDocument, { id: clusterId }, token)).swarmCluster;
    expect(overview.health).toMatchObject({ quorum: true, managers: 2, reachableManagers: 2, faultsTolerated: 0, nodes: 3, leader: { hostname: 'fg-n1' } });
    expect(overview.health.nodesByState).toEqual([{ key: 'ready', count: 3 }]);
    expect(overview.status).toBe('CONNECTED');
  });

  it('promote and demote, one at a time', async () => {
    ok(await t.gql(PromoteNodeDocument, { input: { nodeId: nodeIds['fg-n3']! } }, token));
    await cliRoles({ 'fg-n3': 'Reachable' });
    const demoted = ok(await t.gql(DemoteNodeDocument, { input: { nodeId: nodeIds['fg-n2']! } }, token));
    expect(demoted.demoteNode.activity).toMatchObject({ action: 'node.demote', status: 'SUCCEEDED' });
    expect(demoted.demoteNode.node.role).toBe('WORKER');
    await cliRoles({ 'fg-n2': '', 'fg-n3': 'Reachable', 'fg-n1': 'Leader' });
    await waitForWorkerCertificate(2);
    ok(await t.gql(PromoteNodeDocument, { input: { nodeId: nodeIds['fg-n2']! } }, token));
    await cliRoles({ 'fg-n1': 'Leader', 'fg-n2': 'Reachable', 'fg-n3': 'Reachable' });
    const n = await eventually(async () => {
      const all = await nodes();
      return Object.values(all).every((x) => x.role === 'MANAGER' && (x.leader || x.managerReachability === 'reachable')) ? all : undefined;
    }, 30_000);
    expect(Object.values(n).filter((x) => x.leader)).toHaveLength(1);
    const health = ok(await t.gql(SwarmClusterHealthDocument, { id: clusterId }, token)).swarmCluster.health;
    expect(health).toMatchObject({ quorum: true, managers: 3, reachableManagers: 3, faultsTolerated: 1 });
    const audit = await sql<{ action: string; cluster_id: string }>(t.databaseUrl, `select action, cluster_id from docker_activities where action like 'node.%' order by started_at`);
    expect(audit.map((a) => a.action)).toEqual(['node.demote', 'node.promote', 'node.demote', 'node.promote']);
  });

  it(
    'stopping 2 of 3 managers shows quorum lost (status change published); restarting them shows it regained',
    async () => {
      const ws = t.ws(token);
      const changes = subscribe(ws, OnSwarmClusterStatusDocument, { clusterId });
      await new Promise((r) => setTimeout(r, 300));
      await Promise.all([stopNode(2), stopNode(3)]);
      // the first request after the managers went away may hang until raft gives up (~20 s)
      const lost = await eventually(
        async () => {
          const res = await t.gql(SyncSwarmClusterDocument, { input: { id: clusterId } }, token);
          return res.errors?.[0].extensions?.quorumLost ? res.errors[0] : undefined;
        },
        60_000,
        500,
      );
      expect(lost.extensions?.code).toBe('DOCKER_ERROR');
      expect(lost.message).toMatch(/lost quorum/);
      await changes.until((rs) => rs.some((r) => r.data?.swarmClusterStatusChanged.quorum === false));
      const down = ok(await t.gql(SwarmClusterHealthDocument, { id: clusterId }, token)).swarmCluster;
      expect(down.quorum).toBe(false);
      expect(down.lastError).toMatch(/quorum lost/);
      expect(down.health).toMatchObject({ quorum: false, managers: 3, reachableManagers: 1, faultsTolerated: 1, leader: null });

      await Promise.all([startNode(2), startNode(3)]);
      const back = await eventually(
        async () => {
          const res = await t.gql(SyncSwarmClusterDocument, { input: { id: clusterId } }, token);
          if (res.errors) return undefined;
          const h = ok(await t.gql(SwarmClusterHealthDocument, { id: clusterId }, token)).swarmCluster;
          return h.health.quorum && h.health.reachableManagers === 3 ? h : undefined;
        },
        90_000,
        500,
      );
      expect(back).toMatchObject({ status: 'CONNECTED', quorum: true, health: { managers: 3, faultsTolerated: 1 } });
      await changes.until((rs) => rs.some((r) => r.data?.swarmClusterStatusChanged.quorum === true && r.data.swarmClusterStatusChanged.previousQuorum === false));
      changes.unsubscribe();
    },
    NODE_RESTART_TIMEOUT_MS,
  );

  it(
    'when the registered manager is down, the cluster is managed through another manager that is a registered host',
    async () => {
      await stopNode(1);
      try {
        // node 1's engine is the cluster's managerEndpoint; nodes 2 and 3 keep quorum and elect a leader
        const synced = await eventually(
          async () => {
            const res = await t.gql(SyncSwarmClusterDocument, { input: { id: clusterId } }, token);
            return res.errors ? undefined : res;
          },
          60_000,
          500,
        );
        expect(synced.errors).toBeUndefined();
        const h = ok(await t.gql(SwarmClusterHealthDocument, { id: clusterId }, token)).swarmCluster;
        expect(h.status).toBe('CONNECTED');
        expect(h.health).toMatchObject({ quorum: true, managers: 3, reachableManagers: 2 });
        expect(h.health.leader?.hostname).not.toBe('fg-n1');
      } finally {
        await startNode(1);
      }
      await eventually(async () => ok(await t.gql(SwarmClusterHealthDocument, { id: clusterId }, token)).swarmCluster.health.reachableManagers === 3, 60_000, 500);
    },
    NODE_RESTART_TIMEOUT_MS,
  );

  it(
    'after maintenance and a manager restart (Docker forgot its events), the resync finds what changed and publishes it',
    async () => {
      ok(await t.gql(SetSwarmClusterMaintenanceDocument, { input: { id: clusterId, maintenance: true } }, token));
      const ws = t.ws(token);
      const events = subscribe(ws, OnSwarmEventsDocument, { clusterId, filter: { types: ['config'] } });
      await new Promise((r) => setTimeout(r, 300));
      const file = path.join(os.tmpdir(), `fg-swarm-config-${process.pid}`);
      fs.writeFileSync(file, 'level=debug\n');
      const id = await swarmDocker(1, 'config', 'create', 'missed-while-away', file);
      fs.rmSync(file, { force: true });
      await stopNode(1);
      await startNode(1);
      ok(await t.gql(SetSwarmClusterMaintenanceDocument, { input: { id: clusterId, maintenance: false } }, token));
      const seen = await events.until((rs) => rs.some((r) => r.data?.swarmEvents.actorId === id && r.data.swarmEvents.action === 'create'), 60_000);
      // Docker may or may not still replay it after the restart (its buffer is in memory); either
      // way the subscriber gets it once: from the stream's replay, or from the resync (RESYNC)
      await new Promise((r) => setTimeout(r, 1000));
      const got = seen.map((r) => r.data!.swarmEvents).filter((e) => e.actorId === id);
      expect(got).toHaveLength(1);
      expect(got[0]).toMatchObject({ type: 'config', action: 'create' });
      if (got[0].source === 'RESYNC') expect(got[0].attributes).toMatchObject({ name: 'missed-while-away', resync: 'true' });
      const stored = ok(await t.gql(SwarmClusterEventsDocument, { id: clusterId, filter: { actorId: id }, first: 10 }, token)).swarmCluster.events.nodes;
      expect(stored.map((e) => `${e.type} ${e.action} ${e.source}`)).toEqual([`config create ${got[0].source}`]);
      events.unsubscribe();
      await eventually(async () => ok(await t.gql(SwarmClusterHealthDocument, { id: clusterId }, token)).swarmCluster.health.reachableManagers === 3, 60_000, 500);
    },
    NODE_RESTART_TIMEOUT_MS,
  );

  it('leaveSwarm takes a host out; removeNode removes the node that is left behind', async () => {
    const n3 = nodeIds['fg-n3']!;
    ok(await t.gql(DemoteNodeDocument, { input: { nodeId: n3 } }, token));
    const left = ok(await t.gql(LeaveSwarmDocument, { input: { hostId: hosts[3], force: true } }, token));
    expect(left.leaveSwarm.activity).toMatchObject({ action: 'swarm.leave', status: 'SUCCEEDED', host: { id: hosts[3] } });
    expect(await swarmDocker(3, 'info', '--format', '{{.Swarm.LocalNodeState}}')).toBe('inactive');
    await eventually(async () => (await nodes())['fg-n3']?.state === 'down', 30_000, 500);
    const removed = ok(await t.gql(RemoveNodeDocument, { input: { nodeId: n3 } }, token));
    expect(removed.removeNode).toMatchObject({ removedId: n3, activity: { action: 'node.remove', status: 'SUCCEEDED' } });
    expect(Object.keys(await nodes()).sort()).toEqual(['fg-n1', 'fg-n2']);
    expect(Object.keys(await nodeTable(1)).sort()).toEqual(['fg-n1', 'fg-n2']);
    // a manager is not removed this way
    const refused = await t.gql(RemoveNodeDocument, { input: { nodeId: nodeIds['fg-n2']! } }, token);
    expect(refused.errors?.[0].extensions?.code).toBe('CONFLICT');
  });

  it('registerSwarmCluster for an existing swarm, updateSwarmCluster, removeSwarmCluster; another account can neither register the swarm nor see it', async () => {
    const nodesEnv = await swarmNodes();
    const other = await t.token({ account: `${account}-2`, permissions: ['swarm.clusters.manage'] });
    // the swarm (and its manager engines) belong to the account that registered them first: refused at first contact, nothing stored
    const [before] = await sql<{ n: string }>(t.databaseUrl, 'select (select count(*) from swarm_clusters) + (select count(*) from docker_activities) as n');
    const stolen = await t.gql(RegisterSwarmClusterDocument, { input: { name: 'same-swarm', managerEndpoint: nodesEnv[2].endpoint, syncIntervalSeconds: 30 } }, other);
    expect(stolen.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'managerEndpoint', reason: 'engine is registered by another account' });
    expect(stolen.data).toBeNull();
    expect(await sql(t.databaseUrl, 'select (select count(*) from swarm_clusters) + (select count(*) from docker_activities) as n')).toEqual([before]);
    expect(ok(await t.gql(SwarmClustersDocument, {}, other)).swarmClusters.totalCount).toBe(0);
    // the account that holds it may register it once more, through another manager
    const reg = ok(await t.gql(RegisterSwarmClusterDocument, { input: { name: 'same-swarm', managerEndpoint: nodesEnv[2].endpoint, syncIntervalSeconds: 30 } }, token)).registerSwarmCluster;
    expect(reg.activity).toMatchObject({ action: 'cluster.register', status: 'SUCCEEDED', cluster: { id: reg.cluster.id } });
    const synced = ok(await t.gql(SyncSwarmClusterDocument, { input: { id: reg.cluster.id } }, token)).syncSwarmCluster;
    expect(synced).toMatchObject({ nodes: 2, cluster: { status: 'CONNECTED', quorum: true } });
    const mine = ok(await t.gql(SwarmClusterHealthDocument, { id: clusterId }, token)).swarmCluster;
    const again = ok(await t.gql(SwarmClusterOverviewDocument, { id: reg.cluster.id }, token)).swarmCluster;
    expect(again.swarmId).toBe(ok(await t.gql(SwarmClusterOverviewDocument, { id: clusterId }, token)).swarmCluster.swarmId);
    expect(mine.health.managers).toBe(2);
    // tenancy: ids of one account mean nothing to another
    expect((await t.gql(SwarmClusterHealthDocument, { id: clusterId }, other)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const peek = await t.gql<{ node: unknown }, { id: string }>('query($id: ID!) { node(id: $id) { id } }', { id: nodeIds['fg-n1']! }, other);
    expect(peek.data?.node).toBeNull();
    const demote = await t.gql(DemoteNodeDocument, { input: { nodeId: nodeIds['fg-n2']! } }, other);
    expect(demote.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    // an invalid endpoint is refused at once
    const bad = await t.gql(UpdateSwarmClusterDocument, { input: { id: reg.cluster.id, managerEndpoint: 'ftp://x' } }, token);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'managerEndpoint' });
    const renamed = ok(await t.gql(UpdateSwarmClusterDocument, { input: { id: reg.cluster.id, name: 'renamed', managerEndpoint: nodesEnv[1].endpoint } }, token)).updateSwarmCluster;
    expect(renamed.cluster).toMatchObject({ name: 'renamed', managerEndpoint: nodesEnv[1].endpoint, status: 'PENDING' });
    const gone = ok(await t.gql(RemoveSwarmClusterDocument, { input: { id: reg.cluster.id } }, token)).removeSwarmCluster;
    expect(gone.activity).toMatchObject({ action: 'cluster.remove', status: 'SUCCEEDED' });
    expect(ok(await t.gql(SwarmClustersDocument, {}, token)).swarmClusters.totalCount).toBe(1);
    // still the first cluster's: removing the second released nothing another account could take
    expect((await t.gql(RegisterSwarmClusterDocument, { input: { name: 'same-swarm', managerEndpoint: nodesEnv[1].endpoint, syncIntervalSeconds: 30 } }, other)).errors?.[0].extensions?.code).toBe(
      'FORBIDDEN',
    );
    // the swarm itself is untouched
    expect(await swarmDocker(1, 'info', '--format', '{{.Swarm.LocalNodeState}}')).toBe('active');
  });
});
