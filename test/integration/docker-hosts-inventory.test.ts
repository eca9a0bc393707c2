import { ContainersDocument, DockerHostDocument, HostContainersDocument, HostImagesDocument, ImagesDocument, RegisterDockerHostDocument, SyncDockerHostDocument } from '../../src/generated/graphql';
import { eventually, startTestApp, TestApp } from '../support/app';
import { cleanupDocker, docker, dockerEndpoint, TEST_IMAGE, uniqueName } from '../support/docker';
import { sql } from '../support/db';
import { fromGlobalId } from '../../src/graphql/relay';

/**
 * Inventory sync on demand (syncDockerHost) with the background workers off, so the stored
 * inventory changes only when the test syncs: containers in all states, images, system info,
 * filters, fleet-wide queries, removal of rows Docker no longer has, health counts, and a
 * constant number of SQL statements for fleet-wide lists however many hosts there are.
 */
describe('docker host inventory (syncDockerHost, workers off)', () => {
  let t: TestApp;
  let token: string;
  let hostId: string;
  const label = uniqueName('inv'); // a label value that only this file's containers carry
  const running = uniqueName('inv-run');
  const created = uniqueName('inv-created');
  const exited = uniqueName('inv-exited');
  const healthy = uniqueName('inv-healthy');
  const unhealthy = uniqueName('inv-unhealthy');
  const ids: Record<string, string> = {};

  const register = async (name: string) => {
    const res = await t.gql(RegisterDockerHostDocument, { input: { name, apiEndpoint: dockerEndpoint(), environment: 'development', syncIntervalSeconds: 30 } }, token);
    expect(res.errors).toBeUndefined();
    return res.data!.registerDockerHost.host.id;
  };
  const sync = async (id: string) => {
    const res = await t.gql(SyncDockerHostDocument, { input: { id } }, token);
    expect(res.errors).toBeUndefined();
    return res.data!.syncDockerHost;
  };
  const mine = (id: string, filter: Record<string, unknown> = {}) => t.gql(HostContainersDocument, { id, first: 100, filter: { label: `fgt.inv=${label}`, ...filter } }, token);

  beforeAll(async () => {
    t = await startTestApp({ config: { workers: false } });
    token = await t.token({ account: 'inventory', permissions: ['docker.hosts.manage'] });
    ids.running = await docker('run', '-d', '--name', running, '--label', `fgt.inv=${label}`, '--label', 'fgt.role=web', TEST_IMAGE, 'sleep', '300');
    ids.created = await docker('create', '--name', created, '--label', `fgt.inv=${label}`, '--label', 'fgt.role=db', TEST_IMAGE, 'sleep', '300');
    ids.exited = await docker('run', '--name', exited, '--label', `fgt.inv=${label}`, TEST_IMAGE, 'true');
    ids.exited = await docker('inspect', '-f', '{{.Id}}', exited);
    hostId = await register('inventory-local');
  });
  afterAll(async () => {
    await cleanupDocker();
    await t?.stop();
  });

  it('stays pending without workers until synced; the first sync fills system info and counts', async () => {
    const before = await t.gql(DockerHostDocument, { id: hostId }, token);
    expect(before.data?.dockerHost).toMatchObject({ status: 'PENDING', lastSyncedAt: null, dockerVersion: null });

    const s = await sync(hostId);
    const info = JSON.parse(await docker('info', '--format', '{{json .}}')) as Record<string, unknown>;
    expect(s.host).toMatchObject({
      status: 'CONNECTED',
      consecutiveFailures: 0,
      lastError: null,
      dockerVersion: info.ServerVersion,
      operatingSystem: info.OperatingSystem,
      architecture: info.Architecture,
      cpuCount: info.NCPU,
      memoryBytes: String(info.MemTotal),
    });
    expect(Number(s.host.storageBytes)).toBeGreaterThan(0);
    expect(Date.now() - Date.parse(s.host.lastSyncedAt!)).toBeLessThan(30_000);
    expect(s.containers).toBe(s.host.containerCount);
    expect(s.images).toBe(s.host.imageCount);
    expect(s.containers).toBeGreaterThanOrEqual(3);
    expect(s.images).toBeGreaterThanOrEqual(1);
    expect(s.activity).toMatchObject({ action: 'host.sync', status: 'SUCCEEDED', errorCode: null });
    expect(s.activity.durationMs).toBeGreaterThanOrEqual(0);
    expect(s.activity.result).toMatchObject({ containers: s.containers, images: s.images });
  });

  it('stores containers in all states with name, image, state and labels', async () => {
    const res = await mine(hostId);
    expect(res.errors).toBeUndefined();
    const nodes = res.data!.dockerHost.containers.nodes;
    expect(res.data!.dockerHost.containers.totalCount).toBe(3);
    const byName = Object.fromEntries(nodes.map((n) => [n.name, n]));
    expect(byName[running]).toMatchObject({ containerId: ids.running, state: 'running', image: TEST_IMAGE, labels: { 'fgt.inv': label, 'fgt.role': 'web' } });
    expect(byName[created]).toMatchObject({ containerId: ids.created, state: 'created' });
    expect(byName[exited]).toMatchObject({ containerId: ids.exited, state: 'exited' });
    expect(byName[exited].status).toMatch(/^Exited \(0\)/);
  });

  it("filters a host's containers by state, name and label", async () => {
    const names = async (filter: Record<string, unknown>) => {
      const res = await mine(hostId, filter);
      expect(res.errors).toBeUndefined();
      return res.data!.dockerHost.containers.nodes.map((n) => n.name).sort();
    };
    expect(await names({ state: ['running'] })).toEqual([running]);
    expect(await names({ state: ['created', 'exited'] })).toEqual([created, exited].sort());
    expect(await names({ state: ['paused'] })).toEqual([]);
    // name: case-insensitive substring; "_" and "%" are literal
    expect(await names({ name: created.toUpperCase() })).toEqual([created]);
    expect(await names({ name: 'inv-%' })).toEqual([]);
    // label: "key" (present) or "key=value"
    expect(await names({ label: 'fgt.role' })).toEqual([running, created].sort());
    expect(await names({ label: 'fgt.role=db' })).toEqual([created]);
    expect(await names({ label: 'fgt.role=nope' })).toEqual([]);
    const bad = await mine(hostId, { label: '=x' });
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.label' });
  });

  it("pages a host's containers with cursors", async () => {
    const page1 = await t.gql(HostContainersDocument, { id: hostId, first: 2, filter: { label: `fgt.inv=${label}` } }, token);
    expect(page1.errors).toBeUndefined();
    const c1 = page1.data!.dockerHost.containers;
    expect(c1.nodes).toHaveLength(2);
    expect(c1.pageInfo.hasNextPage).toBe(true);
    const page2 = await t.gql(HostContainersDocument, { id: hostId, first: 2, after: c1.pageInfo.endCursor, filter: { label: `fgt.inv=${label}` } }, token);
    const c2 = page2.data!.dockerHost.containers;
    expect(c2.nodes).toHaveLength(1);
    expect(c2.pageInfo.hasNextPage).toBe(false);
    expect(new Set([...c1.nodes, ...c2.nodes].map((n) => n.name))).toEqual(new Set([running, created, exited]));
  });

  it('stores images with tags, per host and fleet-wide', async () => {
    const res = await t.gql(HostImagesDocument, { id: hostId, filter: { tag: 'local/busybox' } }, token);
    expect(res.errors).toBeUndefined();
    const imageId = await docker('image', 'inspect', '-f', '{{.Id}}', TEST_IMAGE);
    expect(res.data!.dockerHost.images.nodes).toEqual([expect.objectContaining({ imageId, repoTags: expect.arrayContaining([TEST_IMAGE]) })]);
    expect(Number(res.data!.dockerHost.images.nodes[0].sizeBytes)).toBeGreaterThan(0);

    const fleet = await t.gql(ImagesDocument, { filter: { tag: TEST_IMAGE }, first: 10 }, token);
    expect(fleet.errors).toBeUndefined();
    expect(fleet.data!.images.nodes).toEqual([expect.objectContaining({ imageId, host: { id: hostId, name: 'inventory-local' } })]);
    const none = await t.gql(ImagesDocument, { filter: { tag: 'no-such-image-anywhere' } }, token);
    expect(none.data!.images.totalCount).toBe(0);
  });

  it('lists containers fleet-wide with their host and the same filters', async () => {
    const res = await t.gql(ContainersDocument, { filter: { label: `fgt.inv=${label}`, state: ['running'] }, first: 10 }, token);
    expect(res.errors).toBeUndefined();
    expect(res.data!.containers).toEqual({
      totalCount: 1,
      nodes: [expect.objectContaining({ name: running, containerId: ids.running, state: 'running', host: { id: hostId, name: 'inventory-local' } })],
    });
  });

  it('health: ping latency and container health counts from the last sync', async () => {
    await docker('run', '-d', '--name', healthy, '--label', `fgt.inv=${label}`, '--health-cmd', 'true', '--health-interval', '1s', '--health-retries', '1', TEST_IMAGE, 'sleep', '300');
    await docker('run', '-d', '--name', unhealthy, '--label', `fgt.inv=${label}`, '--health-cmd', 'false', '--health-interval', '1s', '--health-retries', '1', TEST_IMAGE, 'sleep', '300');
    const healthOf = (name: string) => docker('inspect', '-f', '{{.State.Health.Status}}', name);
    await eventually(async () => (await healthOf(healthy)) === 'healthy' && (await healthOf(unhealthy)) === 'unhealthy');
    await sync(hostId);

    const res = await t.gql(DockerHostDocument, { id: hostId }, token);
    expect(res.errors).toBeUndefined();
    const h = res.data!.dockerHost;
    expect(h.health.status).toBe('CONNECTED');
    expect(h.health.pingLatencyMs).toBeGreaterThan(0);
    expect(h.health.pingLatencyMs).toBeLessThan(5000);
    expect(h.health.lastSyncedAt).toBe(h.lastSyncedAt);
    expect(h.health.cpuCount).toBe(h.cpuCount);
    expect(h.health.memoryBytes).toBe(h.memoryBytes);
    expect(h.health.storageBytes).toBe(h.storageBytes);

    const rows = await mine(hostId, { name: 'inv-' });
    const byName = Object.fromEntries(rows.data!.dockerHost.containers.nodes.map((n) => [n.name, n]));
    expect(byName[healthy].health).toBe('healthy');
    expect(byName[unhealthy].health).toBe('unhealthy');
    expect(byName[running].health).toBeNull();

    // The counts agree with the stored rows of this host (the daemon is shared, so compare with the store).
    const stored = await sql<{ health: string | null; state: string }>(t.databaseUrl, 'select health, state from docker_containers where host_id = $1', [fromGlobalId(hostId).id]);
    const count = (p: (r: { health: string | null; state: string }) => boolean) => stored.filter(p).length;
    expect(h.health).toMatchObject({
      total: stored.length,
      running: count((r) => r.state === 'running'),
      healthy: count((r) => r.health === 'healthy'),
      unhealthy: count((r) => r.health === 'unhealthy'),
      starting: count((r) => r.health === 'starting'),
      none: count((r) => r.health === null),
    });
    expect(h.health.healthy).toBeGreaterThanOrEqual(1);
    expect(h.health.unhealthy).toBeGreaterThanOrEqual(1);
    expect(h.health.total).toBe(h.containerCount);
  });

  it('removes rows of containers and images that vanished from Docker at the next sync, and reports the changes', async () => {
    const tag = `fgt-inv-${process.pid}-${Date.now()}:1`;
    await docker('tag', TEST_IMAGE, tag);
    await sync(hostId);
    const tagged = await t.gql(HostImagesDocument, { id: hostId, filter: { tag } }, token);
    expect(tagged.data!.dockerHost.images.nodes[0]?.repoTags).toContain(tag);

    await docker('rm', '-f', created, exited);
    await docker('rmi', tag);
    await docker('stop', '-t', '0', running);
    const s = await sync(hostId);
    expect(s.changes).toBeGreaterThanOrEqual(3);

    const res = await mine(hostId);
    const names = res.data!.dockerHost.containers.nodes.map((n) => n.name);
    expect(names).not.toContain(created);
    expect(names).not.toContain(exited);
    expect(res.data!.dockerHost.containers.nodes.find((n) => n.name === running)?.state).toBe('exited');
    const [{ n }] = await sql<{ n: string }>(t.databaseUrl, 'select count(*)::text as n from docker_containers where container_id = any($1)', [[ids.created, ids.exited]]);
    expect(n).toBe('0');
    const after = await t.gql(HostImagesDocument, { id: hostId, filter: { tag: 'local/busybox' } }, token);
    expect(after.data!.dockerHost.images.nodes.flatMap((i) => i.repoTags)).not.toContain(tag);
  });

  it('runs a constant number of SQL statements for fleet-wide containers and images with 1 or 3 hosts', async () => {
    const knex = t.app.services.orm.em.getKnex();
    const statements: string[] = [];
    const onQuery = (q: { sql: string }) => statements.push(q.sql);
    /** Statements of one request (after a warm-up request, so the account cache is filled). */
    const measure = async (run: () => Promise<{ errors?: unknown; hosts: Array<string | undefined> }>, expectHosts: number) => {
      await run();
      statements.length = 0;
      knex.on('query', onQuery);
      try {
        const res = await run();
        expect(res.errors).toBeUndefined();
        expect(new Set(res.hosts).size).toBe(expectHosts);
        return statements.length;
      } finally {
        knex.off('query', onQuery);
      }
    };
    const containers = async () => {
      const res = await t.gql(ContainersDocument, { first: 100 }, token);
      return { errors: res.errors, hosts: res.data?.containers.nodes.map((n) => n.host?.id) ?? [] };
    };
    const images = async () => {
      const res = await t.gql(ImagesDocument, { first: 100 }, token);
      return { errors: res.errors, hosts: res.data?.images.nodes.map((n) => n.host?.id) ?? [] };
    };
    const containers1 = await measure(containers, 1);
    const images1 = await measure(images, 1);
    expect(containers1).toBeGreaterThan(0);

    for (const name of ['inventory-second', 'inventory-third']) await sync(await register(name));
    const containers3 = await measure(containers, 3);
    const images3 = await measure(images, 3);
    expect({ containers: containers3, images: images3 }).toEqual({ containers: containers1, images: images1 });
    expect(containers3).toBeLessThanOrEqual(4);
  });
});
