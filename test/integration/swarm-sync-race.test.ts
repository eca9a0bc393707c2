import { randomUUID } from 'node:crypto';
import { CreateServiceDocument, InitSwarmDocument, ServiceSpecInput, SwarmServiceInspectDocument, SyncSwarmClusterDocument, UpdateServiceDocument } from '../../src/generated/graphql';
import { startTestApp, TestApp } from '../support/app';
import { registerSwarmHosts, ok, swarmDocker, swarmReset, swarmUpClean } from '../support/swarm';

/**
 * The cluster supervisor's sync and createService both store the new service. They used to
 * find-then-insert, so when the sync saw the service first the mutation failed with a duplicate
 * key (INTERNAL_SERVER_ERROR carrying SQL) although Docker had created the service. Both now
 * write with INSERT … ON CONFLICT on the row's unique key. A sync also reads the stored rows
 * and writes them back later: a row a mutation created or updated in between must be neither
 * deleted nor overwritten with the older version the sync listed.
 */
describe('createService while the cluster syncs (real swarm)', () => {
  let t: TestApp;
  let token: string;
  let clusterId: string;

  beforeAll(async () => {
    await swarmUpClean();
    t = await startTestApp({ config: { workers: true, sync: { retryBaseMs: 300 } } });
    token = await t.token({ account: `race-${randomUUID().slice(0, 8)}`, permissions: ['docker.hosts.manage', 'swarm.clusters.manage'] });
    const hosts = await registerSwarmHosts(t, token, 'race');
    clusterId = ok(await t.gql(InitSwarmDocument, { input: { hostId: hosts[1], name: 'race', syncIntervalSeconds: 30 } }, token)).initSwarm.cluster.id;
  }, 120_000);

  afterAll(async () => {
    await t?.stop();
    await swarmReset();
  }, 120_000);

  it('20 creates, each racing syncs of the same cluster, all succeed and are stored once', async () => {
    const names: string[] = [];
    for (let i = 0; i < 20; i++) {
      const name = `race-${i}`;
      names.push(name);
      const spec: ServiceSpecInput = { name, image: 'local/busybox:1', command: ['sleep', '3600'], endpointMode: 'DNSRR', replicas: 0 };
      const [created, ...syncs] = await Promise.all([
        t.gql(CreateServiceDocument, { input: { clusterId, spec } }, token),
        // syncs started just before and just after Docker creates the service
        t.gql(SyncSwarmClusterDocument, { input: { id: clusterId } }, token),
        new Promise((r) => setTimeout(r, 15 * (i % 5))).then(() => t.gql(SyncSwarmClusterDocument, { input: { id: clusterId } }, token)),
      ]);
      expect(created.errors).toBeUndefined();
      expect(created.data!.createService.activity.status).toBe('SUCCEEDED');
      for (const s of syncs) expect((s as { errors?: unknown }).errors).toBeUndefined();
      // still stored once the racing syncs are done (a sync that listed Docker before the create must not delete it)
      expect(ok(await t.gql(SwarmServiceInspectDocument, { id: created.data!.createService.service.id }, token)).node).not.toBeNull();
    }
    const onDocker = (await swarmDocker(1, 'service', 'ls', '--format', '{{.Name}}')).split('\n');
    for (const n of names) expect(onDocker).toContain(n);
    const stored = ok(await t.gql(SyncSwarmClusterDocument, { input: { id: clusterId } }, token)).syncSwarmCluster.services;
    expect(stored).toBe(names.length);
  }, 300_000);

  it('20 updates, each racing syncs, leave the stored spec at the version the update made', async () => {
    const spec = (i: number): ServiceSpecInput => ({ name: 'race-upd', image: 'local/busybox:1', command: ['sleep', '3600'], endpointMode: 'DNSRR', replicas: 0, env: [`ROUND=${i}`] });
    const created = ok(await t.gql(CreateServiceDocument, { input: { clusterId, spec: spec(0) } }, token)).createService.service;
    for (let i = 1; i <= 20; i++) {
      const [updated, ...syncs] = await Promise.all([
        t.gql(UpdateServiceDocument, { input: { serviceId: created.id, spec: spec(i) } }, token),
        t.gql(SyncSwarmClusterDocument, { input: { id: clusterId } }, token),
        new Promise((r) => setTimeout(r, 15 * (i % 5))).then(() => t.gql(SyncSwarmClusterDocument, { input: { id: clusterId } }, token)),
      ]);
      expect(updated.errors).toBeUndefined();
      for (const s of syncs) expect((s as { errors?: unknown }).errors).toBeUndefined();
      const stored = ok(await t.gql(SwarmServiceInspectDocument, { id: created.id }, token)).node as unknown as { spec: { TaskTemplate: { ContainerSpec: { Env?: string[] } } } };
      expect(stored.spec.TaskTemplate.ContainerSpec.Env).toEqual([`ROUND=${i}`]);
    }
  }, 300_000);
});
