import Redis from 'ioredis';
import {
  ActivitiesDocument,
  DockerHostDocument,
  DockerHostsDocument,
  FoundationNodeDocument,
  HostContainersDocument,
  ContainersDocument,
  OnActivityDocument,
  OnHostStatusDocument,
  RecoverDockerHostDocument,
  RegisterDockerHostDocument,
  RemoveDockerHostDocument,
  SetDockerHostMaintenanceDocument,
  SyncDockerHostDocument,
  UpdateDockerHostDocument,
  ViewerDocument,
} from '../../src/generated/graphql';
import { fromGlobalId } from '../../src/graphql/relay';
import { eventually, missingSocketEndpoint, startTestApp, subscribe, TestApp, testEndpointAllow, testEnv } from '../support/app';
import { cleanupDocker, docker, dockerEndpoint, dockerSocket, TEST_IMAGE, uniqueName } from '../support/docker';
import { sql } from '../support/db';
import { forwarder } from '../support/proxy';

/**
 * Docker hosts through GraphQL with the host supervisors running (workers on): registration and
 * its validation, the status machine (pending → connected, maintenance, recovery), removal,
 * the audit log and its subscription, and tenancy. The unix socket of the test dockerd is the host.
 */
describe('docker hosts (workers on)', () => {
  let t: TestApp;
  let redis: Redis;
  let manager: string; // docker.hosts.manage
  let reader: string; // account member without the permission
  let stranger: string; // another account, with the permission
  let accountUuid: string;
  let hostId: string;
  const HOST = 'local-engine';

  const count = async (table: string) => Number((await sql<{ n: string }>(t.databaseUrl, `select count(*)::text as n from ${table}`))[0].n);
  /** Waits until the server subscribed to a pub/sub channel (so nothing published after this is missed). */
  const subscribed = (channel: string) => eventually(async () => Number(((await redis.pubsub('NUMSUB', channel)) as [string, number])[1]) > 0, 10_000, 20);
  const host = async (id = hostId, token = manager) => {
    const res = await t.gql(DockerHostDocument, { id }, token);
    expect(res.errors).toBeUndefined();
    return res.data!.dockerHost;
  };
  const register = (input: Record<string, unknown>, token = manager) =>
    t.gql(RegisterDockerHostDocument, { input: { apiEndpoint: dockerEndpoint(), environment: 'development', ...input } as never }, token);

  beforeAll(async () => {
    // proxies to the test dockerd listen on random loopback ports
    t = await startTestApp({ config: { workers: true, sync: { retryBaseMs: 100 } }, env: { FLEETGRAPH_ENDPOINT_ALLOW: testEndpointAllow('127.0.0.1') } });
    redis = new Redis(testEnv('FLEETGRAPH_TEST_REDIS_URL'));
    manager = await t.token({ account: 'hosts-a', permissions: ['docker.hosts.manage'] });
    reader = await t.token({ account: 'hosts-a', subject: 'reader', permissions: [] });
    stranger = await t.token({ account: 'hosts-b', permissions: ['docker.hosts.manage'] });
    const viewer = await t.gql(ViewerDocument, {}, manager);
    accountUuid = fromGlobalId(viewer.data!.viewer.account.id).id;
  });
  afterAll(async () => {
    await cleanupDocker();
    redis?.disconnect();
    await t?.stop();
  });

  describe('registration of the local engine', () => {
    it('goes pending → connected (seen on dockerHostStatusChanged), with system info and a first sync', async () => {
      const sub = subscribe(t.ws(manager), OnHostStatusDocument, {});
      await subscribed(`dockerHostStatus:${accountUuid}`);

      const res = await register({ name: HOST, syncIntervalSeconds: 30 });
      expect(res.errors).toBeUndefined();
      const { host: registered, activity } = res.data!.registerDockerHost;
      hostId = registered.id;
      expect(registered).toMatchObject({
        name: HOST,
        apiEndpoint: dockerEndpoint(),
        environment: 'development',
        tlsVerify: false,
        hasTlsCredentials: false,
        syncIntervalSeconds: 30,
        status: 'PENDING',
        consecutiveFailures: 0,
      });
      expect(activity).toMatchObject({ action: 'host.register', targetType: 'host', status: 'SUCCEEDED', host: { id: hostId, name: HOST }, user: { subject: 'hosts-a-user' } });

      const seen = await sub.until((rs) => rs.some((r) => r.data?.dockerHostStatusChanged.status === 'CONNECTED'));
      sub.unsubscribe();
      const change = seen.map((r) => r.data!.dockerHostStatusChanged).find((c) => c.status === 'CONNECTED')!;
      expect(change).toMatchObject({ hostId, name: HOST, previousStatus: 'PENDING', consecutiveFailures: 0, lastError: null });
      expect(Number.isNaN(Date.parse(change.changedAt))).toBe(false);

      const h = await eventually(async () => {
        const h = await host();
        return h.lastSyncedAt ? h : undefined;
      });
      const info = JSON.parse(await docker('info', '--format', '{{json .}}')) as Record<string, unknown>;
      expect(h).toMatchObject({
        status: 'CONNECTED',
        dockerVersion: info.ServerVersion,
        operatingSystem: info.OperatingSystem,
        architecture: info.Architecture,
        cpuCount: info.NCPU,
        memoryBytes: String(info.MemTotal),
      });
      expect(h.imageCount).toBeGreaterThanOrEqual(1);
      expect(h.containerCount).toEqual(expect.any(Number));
      expect(h.health.pingLatencyMs).toBeGreaterThan(0);
    });

    it('keeps the inventory current: syncDockerHost and container events', async () => {
      const name = uniqueName('hosts');
      const id = await docker('run', '-d', '--name', name, '--label', 'fgt.hosts=1', TEST_IMAGE, 'sleep', '300');
      const s = await t.gql(SyncDockerHostDocument, { input: { id: hostId } }, manager);
      expect(s.errors).toBeUndefined();
      expect(s.data!.syncDockerHost.activity).toMatchObject({ action: 'host.sync', status: 'SUCCEEDED' });
      const rows = await t.gql(HostContainersDocument, { id: hostId, filter: { name } }, manager);
      expect(rows.data!.dockerHost.containers.nodes).toEqual([expect.objectContaining({ containerId: id, name, state: 'running', labels: { 'fgt.hosts': '1' } })]);
      const fleet = await t.gql(ContainersDocument, { filter: { name } }, manager);
      expect(fleet.data!.containers.nodes).toEqual([expect.objectContaining({ containerId: id, host: { id: hostId, name: HOST } })]);

      await docker('rm', '-f', name);
      await eventually(async () => (await t.gql(HostContainersDocument, { id: hostId, filter: { name } }, manager)).data!.dockerHost.containers.totalCount === 0);
    });
  });

  describe('validation', () => {
    let hosts: number;
    let activities: number;
    beforeEach(async () => {
      hosts = await count('docker_hosts');
      activities = await count('docker_activities');
    });
    afterEach(async () => {
      // refused input writes nothing: no host, no audit row
      expect(await count('docker_hosts')).toBe(hosts);
      expect(await count('docker_activities')).toBe(activities);
    });

    it.each([
      ['ftp://10.0.0.1:2375', /scheme ftp is not supported/],
      ['ssh://10.0.0.1', /scheme ssh is not supported/],
      ['/var/run/docker.sock', /must be a URL/],
      ['tcp://user:secret@10.0.0.1:2376', /must not contain credentials/],
      ['tcp://10.0.0.1:2376/v1.41', /must not have a path/],
      ['unix://relative/docker.sock', /unix endpoints look like/],
    ])('refuses apiEndpoint %s with BAD_USER_INPUT naming the field', async (apiEndpoint, message) => {
      const res = await register({ name: uniqueName('bad'), apiEndpoint });
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'apiEndpoint' });
      expect(res.errors?.[0].message).toMatch(message);
      expect(res.data).toBeNull();
    });

    it.each([29, 3601, 0, -60])('refuses syncIntervalSeconds %d', async (syncIntervalSeconds) => {
      const res = await register({ name: uniqueName('interval'), syncIntervalSeconds });
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'syncIntervalSeconds' });
    });

    it.each([
      ['name', { name: 'has space' }],
      ['name', { name: '' }],
      ['environment', { name: 'env-bad', environment: 'Prod!' }],
      ['environment', { name: 'env-empty', environment: '' }],
      ['tlsVerify', { name: 'tls-on-unix', tlsVerify: true }],
      ['tlsVerify', { name: 'tls-on-http', apiEndpoint: 'http://127.0.0.1:2375', tlsVerify: true }],
    ])('refuses a bad %s', async (field, input) => {
      const res = await register(input);
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    });

    it('refuses TLS material that is not PEM, without echoing it', async () => {
      const res = await register({ name: 'not-pem', apiEndpoint: 'tcp://127.0.0.1:23760', tlsVerify: true, tlsCredentials: { ca: 'x', cert: 'y', key: 'my-secret-key-text' } });
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
      expect(String(res.errors?.[0].extensions?.field)).toMatch(/^tlsCredentials/);
      expect(JSON.stringify(res)).not.toContain('my-secret-key-text');
    });

    it('refuses a duplicate name in the account with CONFLICT', async () => {
      const res = await register({ name: HOST });
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'name' });
    });

    it('refuses registration without docker.hosts.manage with FORBIDDEN', async () => {
      const res = await register({ name: 'no-permission' }, reader);
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN' });
      const attempts = await Promise.all([
        t.gql(UpdateDockerHostDocument, { input: { id: hostId, environment: 'staging' } }, reader),
        t.gql(SetDockerHostMaintenanceDocument, { input: { id: hostId, maintenance: true } }, reader),
        t.gql(SyncDockerHostDocument, { input: { id: hostId } }, reader),
        t.gql(RecoverDockerHostDocument, { input: { id: hostId } }, reader),
        t.gql(RemoveDockerHostDocument, { input: { id: hostId } }, reader),
      ]);
      for (const r of attempts) expect(r.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', permission: 'docker.hosts.manage' });
      // reading needs only membership
      expect((await host(hostId, reader)).name).toBe(HOST);
    });
  });

  it('accepts the standard environments and a custom label; the same name in another account is fine', async () => {
    for (const environment of ['staging', 'production', 'edge-eu.1']) {
      const res = await register({ name: `env-${environment}`, environment, apiEndpoint: 'tcp://127.0.0.1:1', syncIntervalSeconds: 3600 });
      expect(res.errors).toBeUndefined();
      expect(res.data!.registerDockerHost.host.environment).toBe(environment);
      const removed = await t.gql(RemoveDockerHostDocument, { input: { id: res.data!.registerDockerHost.host.id } }, manager);
      expect(removed.errors).toBeUndefined();
    }
    const other = await register({ name: HOST, apiEndpoint: 'tcp://127.0.0.1:1', syncIntervalSeconds: 3600 }, stranger);
    expect(other.errors).toBeUndefined();
    await t.gql(RemoveDockerHostDocument, { input: { id: other.data!.registerDockerHost.host.id } }, stranger);
  });

  it('updateDockerHost changes settings, validates them, and refuses a name taken in the account', async () => {
    const ok = await t.gql(UpdateDockerHostDocument, { input: { id: hostId, environment: 'lab-2', syncIntervalSeconds: 120 } }, manager);
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.updateDockerHost.host).toMatchObject({ environment: 'lab-2', syncIntervalSeconds: 120, name: HOST });
    expect(ok.data!.updateDockerHost.activity).toMatchObject({ action: 'host.update', status: 'SUCCEEDED', parameters: { environment: 'lab-2', syncIntervalSeconds: 120 } });

    const activities = await count('docker_activities');
    const bad = await t.gql(UpdateDockerHostDocument, { input: { id: hostId, syncIntervalSeconds: 3601 } }, manager);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'syncIntervalSeconds' });
    const scheme = await t.gql(UpdateDockerHostDocument, { input: { id: hostId, apiEndpoint: 'gopher://x' } }, manager);
    expect(scheme.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'apiEndpoint' });

    const tls = await t.gql(UpdateDockerHostDocument, { input: { id: hostId, apiEndpoint: 'tcp://127.0.0.1:23760', tlsVerify: true } }, manager);
    expect(tls.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tlsCredentials' });
    expect(await count('docker_activities')).toBe(activities);

    const other = await register({ name: 'taken-name', apiEndpoint: 'tcp://127.0.0.1:1', syncIntervalSeconds: 3600 });
    const afterRegister = await count('docker_activities');
    const taken = await t.gql(UpdateDockerHostDocument, { input: { id: hostId, name: 'taken-name' } }, manager);
    expect(taken.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'name' });
    expect(await count('docker_activities')).toBe(afterRegister);
    await t.gql(RemoveDockerHostDocument, { input: { id: other.data!.registerDockerHost.host.id } }, manager);
    expect((await host()).name).toBe(HOST);
    expect((await host()).status).toBe('CONNECTED');
  });

  describe('connection loss', () => {
    it('connected → disconnected when the connection drops, connected again when the daemon is back', async () => {
      const proxy = await forwarder({ path: dockerSocket() });
      try {
        const res = await register({ name: 'via-proxy', apiEndpoint: `tcp://127.0.0.1:${proxy.port}`, syncIntervalSeconds: 30 });
        expect(res.errors).toBeUndefined();
        const id = res.data!.registerDockerHost.host.id;
        await eventually(async () => (await host(id)).status === 'CONNECTED');
        const sub = subscribe(t.ws(manager), OnHostStatusDocument, { hostId: id });
        await subscribed(`dockerHostStatus:${accountUuid}`);

        await proxy.close(); // the daemon "goes away": the event stream drops, new connections are refused
        const lost = await sub.until((rs) => rs.some((r) => r.data?.dockerHostStatusChanged.status === 'DISCONNECTED'));
        const change = lost.map((r) => r.data!.dockerHostStatusChanged).find((c) => c.status === 'DISCONNECTED')!;
        expect(change).toMatchObject({ previousStatus: 'CONNECTED', consecutiveFailures: 1, lastError: expect.stringMatching(/event stream lost/) });

        await proxy.open();
        const back = await sub.until((rs) => rs.some((r) => r.data?.dockerHostStatusChanged.status === 'CONNECTED'));
        sub.unsubscribe();
        expect(back.map((r) => r.data!.dockerHostStatusChanged.status)[0]).toBe('DISCONNECTED');
        expect(await host(id)).toMatchObject({ status: 'CONNECTED', consecutiveFailures: 0, lastError: null });
        await t.gql(RemoveDockerHostDocument, { input: { id } }, manager);
      } finally {
        await proxy.close();
      }
    });

    it('a new endpoint (updateDockerHost) is a status change too: connected → pending → connected', async () => {
      const [one, two] = [await forwarder({ path: dockerSocket() }), await forwarder({ path: dockerSocket() })];
      try {
        const res = await register({ name: 'moving', apiEndpoint: `tcp://127.0.0.1:${one.port}`, syncIntervalSeconds: 30 });
        const id = res.data!.registerDockerHost.host.id;
        await eventually(async () => (await host(id)).status === 'CONNECTED');
        const sub = subscribe(t.ws(manager), OnHostStatusDocument, { hostId: id });
        await subscribed(`dockerHostStatus:${accountUuid}`);
        const upd = await t.gql(UpdateDockerHostDocument, { input: { id, apiEndpoint: `tcp://127.0.0.1:${two.port}` } }, manager);
        expect(upd.errors).toBeUndefined();
        expect(upd.data!.updateDockerHost.host).toMatchObject({ status: 'PENDING', apiEndpoint: `tcp://127.0.0.1:${two.port}` });
        const seen = await sub.until((rs) => rs.some((r) => r.data?.dockerHostStatusChanged.status === 'CONNECTED'));
        expect(seen.map((r) => `${r.data!.dockerHostStatusChanged.previousStatus}>${r.data!.dockerHostStatusChanged.status}`)).toEqual(['CONNECTED>PENDING', 'PENDING>CONNECTED']);
        sub.unsubscribe();
        await t.gql(RemoveDockerHostDocument, { input: { id } }, manager);
      } finally {
        await one.close();
        await two.close();
      }
    });
  });

  describe('periodic sync', () => {
    it("syncs at the host's interval without being asked", async () => {
      const res = await register({ name: 'ticking', syncIntervalSeconds: 30 });
      const id = res.data!.registerDockerHost.host.id;
      await eventually(async () => (await host(id)).lastSyncedAt);
      // 30 s is the smallest interval the API accepts; shorten it underneath for the test, then wake the supervisor
      await sql(t.databaseUrl, 'update docker_hosts set sync_interval_seconds = 1 where id = $1', [fromGlobalId(id).id]);
      await t.gql(UpdateDockerHostDocument, { input: { id, environment: 'staging' } }, manager);
      const syncs = new Set<string>();
      await eventually(
        async () => {
          syncs.add((await host(id)).lastSyncedAt!);
          return syncs.size >= 3;
        },
        10_000,
        100,
      );
      const [{ n }] = await sql<{ n: string }>(t.databaseUrl, "select count(*)::text as n from docker_activities where action = 'host.sync'");
      expect(n).toBe('1'); // the earlier syncDockerHost only: scheduled syncs are not user activities
      await t.gql(RemoveDockerHostDocument, { input: { id } }, manager);
    });
  });

  describe('maintenance', () => {
    it('stops syncing while on (syncDockerHost refuses clearly, no inventory changes), reconnects when cleared', async () => {
      const before = await host();
      const sub = subscribe(t.ws(manager), OnHostStatusDocument, { hostId });
      await subscribed(`dockerHostStatus:${accountUuid}`);

      const on = await t.gql(SetDockerHostMaintenanceDocument, { input: { id: hostId, maintenance: true } }, manager);
      expect(on.errors).toBeUndefined();
      expect(on.data!.setDockerHostMaintenance.host.status).toBe('MAINTENANCE');
      expect(on.data!.setDockerHostMaintenance.activity.status).toBe('SUCCEEDED');
      await sub.until((rs) => rs.some((r) => r.data?.dockerHostStatusChanged.status === 'MAINTENANCE'));
      // the supervisor drops its event stream
      const supervisor = t.app.services.hosts.fleet.supervisor(fromGlobalId(hostId).id) as unknown as { stream?: unknown };
      await eventually(async () => supervisor.stream === undefined);

      const frozen = (await host()).lastSyncedAt;
      const refused = await t.gql(SyncDockerHostDocument, { input: { id: hostId } }, manager);
      expect(refused.errors?.[0].extensions?.code).toBe('CONFLICT');
      expect(refused.errors?.[0].message).toMatch(/maintenance/);

      const name = uniqueName('maint');
      await docker('run', '-d', '--name', name, TEST_IMAGE, 'sleep', '300');
      await new Promise((r) => setTimeout(r, 1000)); // a live stream would have stored it by now
      const during = await t.gql(HostContainersDocument, { id: hostId, filter: { name } }, manager);
      expect(during.data!.dockerHost.containers.totalCount).toBe(0);
      const still = await host();
      expect(still.status).toBe('MAINTENANCE');
      expect(still.lastSyncedAt).toBe(frozen);
      expect(Date.parse(still.lastSyncedAt!)).toBeGreaterThanOrEqual(Date.parse(before.lastSyncedAt!));

      const off = await t.gql(SetDockerHostMaintenanceDocument, { input: { id: hostId, maintenance: false } }, manager);
      expect(off.errors).toBeUndefined();
      expect(off.data!.setDockerHostMaintenance.host.status).toBe('PENDING');
      const seen = await sub.until((rs) => rs.some((r) => r.data?.dockerHostStatusChanged.status === 'CONNECTED'));
      sub.unsubscribe();
      expect(seen.map((r) => `${r.data!.dockerHostStatusChanged.previousStatus}>${r.data!.dockerHostStatusChanged.status}`)).toEqual([
        'CONNECTED>MAINTENANCE',
        'MAINTENANCE>PENDING',
        'PENDING>CONNECTED',
      ]);
      // the resync after maintenance picks up what happened meanwhile
      await eventually(async () => (await t.gql(HostContainersDocument, { id: hostId, filter: { name } }, manager)).data!.dockerHost.containers.totalCount === 1);
    });
  });

  describe('recovery', () => {
    it('recoverDockerHost resets consecutiveFailures; an unreachable host ends in error after 5 failures', async () => {
      const res = await register({ name: 'unreachable', apiEndpoint: missingSocketEndpoint('no-such'), syncIntervalSeconds: 30 });
      expect(res.errors).toBeUndefined();
      const id = res.data!.registerDockerHost.host.id;
      const errored = await eventually(async () => {
        const h = await host(id);
        return h.status === 'ERROR' && h;
      }, 20_000);
      expect(errored.consecutiveFailures).toBeGreaterThanOrEqual(5);
      // a fixed reason (the socket is on the allow-list: its existence is no secret), no path, no message
      expect(errored.lastError).toBe('socket not found');

      const recovered = await t.gql(RecoverDockerHostDocument, { input: { id } }, manager);
      expect(recovered.errors).toBeUndefined();
      expect(recovered.data!.recoverDockerHost.host).toMatchObject({ consecutiveFailures: 0, lastError: null, status: 'PENDING' });
      expect(recovered.data!.recoverDockerHost.activity.status).toBe('SUCCEEDED');
      const [row] = await sql<{ consecutive_failures: number }>(t.databaseUrl, 'select consecutive_failures from docker_hosts where id = $1', [fromGlobalId(id).id]);
      expect(row.consecutive_failures).toBeLessThan(5);
      // it is retried, and fails its way back to error (the count starts again from 0)
      await eventually(async () => (await host(id)).consecutiveFailures >= 1);
      const sync = await t.gql(SyncDockerHostDocument, { input: { id } }, manager);
      expect(sync.errors?.[0].extensions?.code).toBe('DOCKER_UNREACHABLE');
      expect(sync.data).toBeNull();
      await t.gql(RemoveDockerHostDocument, { input: { id } }, manager);
    });

    it('recoverDockerHost on a connected host keeps it connected', async () => {
      const res = await t.gql(RecoverDockerHostDocument, { input: { id: hostId } }, manager);
      expect(res.errors).toBeUndefined();
      expect(res.data!.recoverDockerHost.host).toMatchObject({ status: 'CONNECTED', consecutiveFailures: 0 });
    });
  });

  describe('audit', () => {
    it('every host mutation left an activity with status, duration, user and redacted parameters', async () => {
      const res = await t.gql(ActivitiesDocument, { filter: { hostId, action: 'host.' }, first: 30 }, manager);
      expect(res.errors).toBeUndefined();
      const acts = res.data!.activities.nodes;
      expect(new Set(acts.map((a) => a.action))).toEqual(new Set(['host.register', 'host.sync', 'host.update', 'host.maintenance.enter', 'host.maintenance.exit', 'host.recover']));
      for (const a of acts) {
        expect(a).toMatchObject({ status: 'SUCCEEDED', targetType: 'host', targetId: fromGlobalId(hostId).id, user: { subject: 'hosts-a-user' }, host: { id: hostId, name: HOST } });
        expect(a.durationMs).toBeGreaterThanOrEqual(0);
        expect(Date.parse(a.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(a.startedAt));
      }
      // newest first
      const started = acts.map((a) => Date.parse(a.startedAt));
      expect([...started].sort((x, y) => y - x)).toEqual(started);
      expect(acts.find((a) => a.action === 'host.register')!.parameters).toMatchObject({ name: HOST, apiEndpoint: dockerEndpoint(), environment: 'development', syncIntervalSeconds: 30 });
    });

    it('filters by action prefix and status, and pages with cursors', async () => {
      const all = await t.gql(ActivitiesDocument, { filter: { hostId }, first: 30 }, manager);
      const total = all.data!.activities.totalCount;
      expect(total).toBe(all.data!.activities.nodes.length);
      expect(total).toBeGreaterThanOrEqual(6);

      const seen: string[] = [];
      let after: string | null | undefined;
      for (;;) {
        const page = await t.gql(ActivitiesDocument, { filter: { hostId }, first: 2, after }, manager);
        expect(page.errors).toBeUndefined();
        expect(page.data!.activities.totalCount).toBe(total);
        seen.push(...page.data!.activities.nodes.map((n) => n.id));
        if (!page.data!.activities.pageInfo.hasNextPage) break;
        after = page.data!.activities.pageInfo.endCursor;
      }
      expect(seen).toEqual(all.data!.activities.nodes.map((n) => n.id));

      const maint = await t.gql(ActivitiesDocument, { filter: { hostId, action: 'host.maintenance' } }, manager);
      expect(maint.data!.activities.nodes.map((n) => n.action).sort()).toEqual(['host.maintenance.enter', 'host.maintenance.exit']);
      const failed = await t.gql(ActivitiesDocument, { filter: { hostId, status: ['FAILED'] } }, manager);
      expect(failed.data!.activities.totalCount).toBe(0);
      const failedAnywhere = await t.gql(ActivitiesDocument, { filter: { action: 'host.sync', status: ['FAILED'] } }, manager);
      expect(failedAnywhere.data!.activities.nodes[0]).toMatchObject({ status: 'FAILED', errorCode: 'DOCKER_UNREACHABLE', error: 'Docker host unreachable (unreachable): socket not found' });
      const since = await t.gql(ActivitiesDocument, { filter: { hostId, since: new Date(Date.now() + 60_000).toISOString() } }, manager);
      expect(since.data!.activities.totalCount).toBe(0);
      const badHost = await t.gql(ActivitiesDocument, { filter: { hostId: 'nope' } }, manager);
      expect(badHost.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.hostId' });
    });

    it('activityUpdated delivers an activity as it starts and as it ends', async () => {
      const sub = subscribe(t.ws(manager), OnActivityDocument, { hostId });
      await subscribed(`dockerActivities:${accountUuid}`);
      const res = await t.gql(SyncDockerHostDocument, { input: { id: hostId } }, manager);
      expect(res.errors).toBeUndefined();
      const activityId = res.data!.syncDockerHost.activity.id;
      const seen = await sub.until((rs) => rs.some((r) => r.data?.activityUpdated.id === activityId && r.data.activityUpdated.status === 'SUCCEEDED'));
      sub.unsubscribe();
      const mine = seen.map((r) => r.data!.activityUpdated).filter((a) => a.id === activityId);
      expect(mine.map((a) => a.status)).toEqual(['PENDING', 'SUCCEEDED']);
      expect(mine[1]).toMatchObject({ action: 'host.sync', host: { id: hostId, name: HOST }, user: { subject: 'hosts-a-user' } });
      expect(mine[1].durationMs).toBeGreaterThanOrEqual(0);
      expect(mine[1].result).toMatchObject({ containers: expect.any(Number), images: expect.any(Number) });
    });

    it('another account does not receive the activities', async () => {
      const sub = subscribe(t.ws(stranger), OnActivityDocument, {});
      const strangerAccount = fromGlobalId((await t.gql(ViewerDocument, {}, stranger)).data!.viewer.account.id).id;
      await subscribed(`dockerActivities:${strangerAccount}`);
      const mineSub = subscribe(t.ws(manager), OnActivityDocument, {});
      await eventually(async () => Number(((await redis.pubsub('NUMSUB', `dockerActivities:${accountUuid}`)) as [string, number])[1]) > 0);
      await t.gql(RecoverDockerHostDocument, { input: { id: hostId } }, manager);
      await mineSub.until((rs) => rs.some((r) => r.data?.activityUpdated.status === 'SUCCEEDED'));
      expect(sub.results).toEqual([]);
      sub.unsubscribe();
      mineSub.unsubscribe();
    });
  });

  describe('tenancy', () => {
    it('another account cannot see the host or its inventory', async () => {
      const one = await t.gql(DockerHostDocument, { id: hostId }, stranger);
      expect(one.errors?.[0].extensions?.code).toBe('NOT_FOUND');
      const node = await t.gql(FoundationNodeDocument, { id: hostId }, stranger);
      expect(node.data?.node).toBeNull();
      const list = await t.gql(DockerHostsDocument, {}, stranger);
      expect(list.data!.dockerHosts.nodes.map((h) => h.id)).not.toContain(hostId);
      const containers = await t.gql(ContainersDocument, { first: 100 }, stranger);
      expect(containers.data!.containers.totalCount).toBe(0);
      const acts = await t.gql(ActivitiesDocument, { filter: { hostId } }, stranger);
      expect(acts.data!.activities.totalCount).toBe(0);
      const sub = subscribe(t.ws(stranger), OnHostStatusDocument, { hostId });
      await sub.until(() => false, 5000).catch(() => undefined);
      expect(sub.done || Boolean(sub.error)).toBe(true);
      const errors = [...sub.results.flatMap((r) => r.errors ?? []), ...(Array.isArray(sub.error) ? sub.error : [])];
      expect(errors[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(sub.results.some((r) => r.data?.dockerHostStatusChanged)).toBe(false);
    });

    it('another account cannot mutate the host', async () => {
      const before = await host();
      const attempts = [
        t.gql(UpdateDockerHostDocument, { input: { id: hostId, environment: 'hijacked' } }, stranger),
        t.gql(SetDockerHostMaintenanceDocument, { input: { id: hostId, maintenance: true } }, stranger),
        t.gql(RecoverDockerHostDocument, { input: { id: hostId } }, stranger),
        t.gql(SyncDockerHostDocument, { input: { id: hostId } }, stranger),
        t.gql(RemoveDockerHostDocument, { input: { id: hostId } }, stranger),
      ];
      for (const res of await Promise.all(attempts)) expect(res.errors?.[0].extensions?.code).toBe('NOT_FOUND');
      const after = await host();
      expect(after).toMatchObject({ environment: before.environment, status: 'CONNECTED', name: HOST });
    });
  });

  describe('removal', () => {
    it("stops the host's workers and deletes it with its inventory and events; activities are kept", async () => {
      const uuid = fromGlobalId(hostId).id;
      expect(t.app.services.hosts.fleet.supervisor(uuid)).toBeDefined();
      const inv = async () =>
        (
          await sql<{ c: string; i: string; e: string }>(
            t.databaseUrl,
            `select (select count(*) from docker_containers where host_id = $1)::text as c, (select count(*) from docker_images where host_id = $1)::text as i,
                    (select count(*) from docker_events where host_id = $1)::text as e`,
            [uuid],
          )
        )[0];
      const before = await inv();
      expect(Number(before.i)).toBeGreaterThan(0);
      expect(Number(before.e)).toBeGreaterThan(0);

      const res = await t.gql(RemoveDockerHostDocument, { input: { id: hostId } }, manager);
      expect(res.errors).toBeUndefined();
      expect(res.data!.removeDockerHost).toMatchObject({ removedId: hostId, activity: { action: 'host.remove', status: 'SUCCEEDED', targetId: uuid, parameters: { name: HOST } } });
      expect(t.app.services.hosts.fleet.supervisor(uuid)).toBeUndefined();
      expect(await inv()).toEqual({ c: '0', i: '0', e: '0' });

      const gone = await t.gql(DockerHostDocument, { id: hostId }, manager);
      expect(gone.errors?.[0].extensions?.code).toBe('NOT_FOUND');
      const again = await t.gql(RemoveDockerHostDocument, { input: { id: hostId } }, manager);
      expect(again.errors?.[0].extensions?.code).toBe('NOT_FOUND');

      // the audit trail survives, detached from the host
      const [{ n }] = await sql<{ n: string }>(t.databaseUrl, `select count(*)::text as n from docker_activities where target_id = $1 and action like 'host.%'`, [uuid]);
      expect(Number(n)).toBeGreaterThanOrEqual(8);
      const acts = await t.gql(ActivitiesDocument, { filter: { targetId: uuid, action: 'host.register' } }, manager);
      expect(acts.data!.activities.nodes[0]).toMatchObject({ action: 'host.register', host: null });

      // nothing keeps writing for it
      const name = uniqueName('after-remove');
      await docker('run', '-d', '--name', name, TEST_IMAGE, 'sleep', '300');
      await new Promise((r) => setTimeout(r, 500));
      expect(await inv()).toEqual({ c: '0', i: '0', e: '0' });
      // the name is free again
      const re = await register({ name: HOST, apiEndpoint: 'tcp://127.0.0.1:1', syncIntervalSeconds: 3600 });
      expect(re.errors).toBeUndefined();
    });
  });
});
