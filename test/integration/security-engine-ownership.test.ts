import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  ActivitiesDocument,
  ContainersDocument,
  DockerHostDocument,
  DockerHostsDocument,
  ImagesDocument,
  RegisterDockerHostDocument,
  RegisterSwarmClusterDocument,
  RemoveDockerHostDocument,
  StoredEventsDocument,
  SyncDockerHostDocument,
  UpdateDockerHostDocument,
  VolumesDocument,
} from '../../src/generated/graphql';
import { FAILURE_REASONS } from '../../src/infra/engine/client';
import { fromGlobalId } from '../../src/graphql/relay';
import { eventually, startTestApp, TestApp, testEndpointAllow, testEnv } from '../support/app';
import { cleanupDocker, docker, dockerEndpoint, dockerSocket, TEST_IMAGE, testCerts, TestCerts, uniqueName } from '../support/docker';
import { sql } from '../support/db';
import { forwarder } from '../support/proxy';

/**
 * Issue 7, "engines belong to one account" (items 5 and 6 of what was found): endpoints outside
 * the operator's allow-list are refused before any connection; an engine (docker info ID) belongs
 * to the first account that reaches it, whatever URL another account uses; and what an endpoint
 * answers never comes back to the caller: lastError and errors carry fixed reasons. Everything
 * runs against the real test dockerd (unix socket and TLS listener) and local fakes on loopback.
 */

const TLS = 'tcp://127.0.0.1:23760';

type GqlResult = { data?: unknown; errors?: ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }> };

/** An HTTP server on loopback (or a unix socket) answering every request with `handler`; counts requests. */
async function httpServer(handler: http.RequestListener, listenOn: { socket?: string } = {}) {
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    handler(req, res);
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => (listenOn.socket ? server.listen(listenOn.socket, resolve) : server.listen(0, '127.0.0.1', resolve)));
  return {
    port: listenOn.socket ? 0 : (server.address() as net.AddressInfo).port,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A Docker engine of its own (another ID): just enough of the Engine API for a host to connect and sync. */
function fakeEngine(id: string): http.RequestListener {
  return (req, res) => {
    const route = (req.url ?? '').replace(/^\/v1\.\d+/, '').split('?')[0];
    const headers = { 'content-type': 'application/json', 'api-version': '1.41', server: 'Docker/20.10.0 (linux)' };
    const json = (body: unknown, status = 200) => {
      res.writeHead(status, headers);
      res.end(JSON.stringify(body));
    };
    if (route === '/_ping') {
      res.writeHead(200, { ...headers, 'content-type': 'text/plain' });
      return void res.end('OK');
    }
    if (route === '/info') return json({ ID: id, ServerVersion: '20.10.0-fake', OperatingSystem: 'fake', NCPU: 1, MemTotal: 1024, Swarm: { LocalNodeState: 'inactive' } });
    if (route === '/containers/json' || route === '/images/json' || route === '/networks') return json([]);
    if (route === '/volumes') return json({ Volumes: [], Warnings: null });
    if (route === '/events') {
      res.writeHead(200, headers);
      return void res.flushHeaders();
    }
    json({ message: 'page not found' }, 404);
  };
}

const count = async (t: TestApp, table: string) => Number((await sql<{ n: string }>(t.databaseUrl, `select count(*)::text as n from ${table}`))[0].n);

describe('endpoints outside the allow-list (the test allow-list: the test engines only)', () => {
  let t: TestApp;
  let token: string;
  let listener: Awaited<ReturnType<typeof httpServer>>;
  let dir: string;

  beforeAll(async () => {
    t = await startTestApp({ config: { workers: true, sync: { retryBaseMs: 100 } } });
    token = await t.token({ account: 'policy-a', permissions: ['docker.hosts.manage', 'swarm.clusters.manage'] });
    // something that would answer, on loopback: it must never see a connection
    listener = await httpServer(fakeEngine('never-reached'));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fgt-policy-'));
  });
  afterAll(async () => {
    await listener?.close();
    await t?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const expectRefused = (res: GqlResult, field = 'apiEndpoint') => {
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field, reason: 'endpoint not allowed' });
    expect(res.errors?.[0].message).toMatch(/FLEETGRAPH_ENDPOINT_ALLOW/);
    expect(res.data).toBeNull();
  };

  it.each([
    ['loopback, a port not listed', (p: number) => `tcp://127.0.0.1:${p}`],
    ['loopback, decimal', (p: number) => `tcp://2130706433:${p}`],
    ['loopback, hex and short form', (p: number) => `tcp://0x7f.1:${p}`],
    ['loopback, octal', (p: number) => `http://0177.0.0.1:${p}`],
    ['loopback, IPv4-mapped IPv6', (p: number) => `http://[::ffff:127.0.0.1]:${p}`],
    ['loopback, IPv6', (p: number) => `tcp://[::1]:${p}`],
    ['loopback, another address', (p: number) => `tcp://127.0.0.2:${p}`],
    ['loopback, by name', (p: number) => `tcp://localhost:${p}`],
    ['unspecified', (p: number) => `tcp://0.0.0.0:${p}`],
  ])('registerDockerHost refuses %s with FORBIDDEN before any connection, storing nothing', async (_what, url) => {
    const [hosts, activities] = [await count(t, 'docker_hosts'), await count(t, 'docker_activities')];
    expectRefused(await t.gql(RegisterDockerHostDocument, { input: { name: uniqueName('refused'), apiEndpoint: url(listener.port), environment: 'development' } }, token));
    expect([await count(t, 'docker_hosts'), await count(t, 'docker_activities')]).toEqual([hosts, activities]);
    expect(listener.requests).toBe(0);
  });

  it('refuses unix sockets that are not listed, and a listed path that is a symlink to one that is not', async () => {
    expectRefused(await t.gql(RegisterDockerHostDocument, { input: { name: 'server-socket', apiEndpoint: 'unix:///var/run/docker.sock', environment: 'development' } }, token));
    // a socket outside the allow-list, reached through a symlink placed in an allow-listed directory
    const outside = await httpServer(fakeEngine('outside'), { socket: path.join(dir, 'engine.sock') });
    const missingDir = path.join(testEnv('FLEETGRAPH_TEST_BASE'), 'missing');
    fs.mkdirSync(missingDir, { recursive: true });
    const link = path.join(missingDir, `${uniqueName('link')}.sock`);
    fs.symlinkSync(path.join(dir, 'engine.sock'), link);
    try {
      expectRefused(await t.gql(RegisterDockerHostDocument, { input: { name: 'via-symlink', apiEndpoint: `unix://${link}`, environment: 'development' } }, token));
      expect(outside.requests).toBe(0);
      expect(await count(t, 'docker_hosts')).toBe(0);
    } finally {
      fs.rmSync(link, { force: true });
      await outside.close();
    }
  });

  it('refuses the same for swarm clusters (managerEndpoint) and for an update, which changes nothing', async () => {
    expectRefused(await t.gql(RegisterSwarmClusterDocument, { input: { name: 'c', managerEndpoint: `tcp://127.0.0.1:${listener.port}` } }, token), 'managerEndpoint');
    const reg = await t.gql(RegisterDockerHostDocument, { input: { name: 'allowed', apiEndpoint: dockerEndpoint(), environment: 'development', syncIntervalSeconds: 3600 } }, token);
    expect(reg.errors).toBeUndefined();
    const id = reg.data!.registerDockerHost.host.id;
    const activities = await count(t, 'docker_activities');
    expectRefused(await t.gql(UpdateDockerHostDocument, { input: { id, apiEndpoint: `tcp://[::ffff:7f00:1]:${listener.port}` } }, token));
    expect(await count(t, 'docker_activities')).toBe(activities);
    expect((await t.gql(DockerHostDocument, { id }, token)).data!.dockerHost.apiEndpoint).toBe(dockerEndpoint());
    expect(listener.requests).toBe(0);
  });

  it('checks at connect time too: a stored endpoint the allow-list does not permit is never connected to (error, fixed reason)', async () => {
    const reg = await t.gql(RegisterDockerHostDocument, { input: { name: 'rewired', apiEndpoint: dockerEndpoint(), environment: 'development', syncIntervalSeconds: 3600 } }, token);
    const id = reg.data!.registerDockerHost.host.id;
    await eventually(async () => (await t.gql(DockerHostDocument, { id }, token)).data!.dockerHost.status === 'CONNECTED');
    // as if stored before the allow-list existed (or before the operator narrowed it)
    await sql(t.databaseUrl, 'update docker_hosts set api_endpoint = $1, connection_revision = connection_revision + 1 where id = $2', [`tcp://127.0.0.1:${listener.port}`, fromGlobalId(id).id]);
    const sync = await t.gql(SyncDockerHostDocument, { input: { id } }, token);
    expect(sync.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'endpoint not allowed' });
    const h = (await t.gql(DockerHostDocument, { id }, token)).data!.dockerHost;
    expect(h).toMatchObject({ status: 'ERROR', lastError: 'endpoint not allowed' });
    expect(listener.requests).toBe(0);
  });
});

describe('engines belong to one account (the test engines and loopback allowed)', () => {
  let t: TestApp;
  let a: string;
  let b: string;
  let certs: TestCerts;
  const aHosts: string[] = [];

  beforeAll(async () => {
    certs = testCerts();
    // fakes and forwarders listen on random loopback ports
    t = await startTestApp({ config: { workers: true, sync: { retryBaseMs: 100 } }, env: { FLEETGRAPH_ENDPOINT_ALLOW: testEndpointAllow('127.0.0.1') } });
    a = await t.token({ account: 'owner-a', permissions: ['docker.hosts.manage'] });
    b = await t.token({ account: 'intruder-b', permissions: ['docker.hosts.manage'] });
  });
  afterAll(async () => {
    await cleanupDocker();
    await t?.stop();
  });

  const register = (token: string, input: Record<string, unknown>) => t.gql(RegisterDockerHostDocument, { input: { environment: 'development', syncIntervalSeconds: 3600, ...input } as never }, token);
  const host = async (id: string, token: string) => (await t.gql(DockerHostDocument, { id }, token)).data!.dockerHost;
  const tls = () => ({ apiEndpoint: TLS, tlsVerify: true, tlsCredentials: { ca: certs.ca, cert: certs.cert, key: certs.key } });
  /** What account B can see of Docker at all: hosts, containers, images, events. */
  const seenByB = async () => ({
    hosts: (await t.gql(DockerHostsDocument, {}, b)).data!.dockerHosts.totalCount,
    containers: (await t.gql(ContainersDocument, {}, b)).data!.containers.totalCount,
    images: (await t.gql(ImagesDocument, {}, b)).data!.images.totalCount,
    events: (await t.gql(StoredEventsDocument, {}, b)).data!.dockerEvents.totalCount,
  });

  it('account A registers the test dockerd by its unix socket; B registering the same engine by TLS is refused on first contact, nothing stored', async () => {
    const mine = await register(a, { name: 'a-unix', apiEndpoint: dockerEndpoint() });
    expect(mine.errors).toBeUndefined();
    aHosts.push(mine.data!.registerDockerHost.host.id);
    await eventually(async () => (await host(aHosts[0], a)).status === 'CONNECTED');
    await docker('run', '-d', '--name', uniqueName('a-owned'), TEST_IMAGE, 'sleep', '300');

    const [hosts, activities] = [await count(t, 'docker_hosts'), await count(t, 'docker_activities')];
    const theirs = await register(b, { name: 'b-tls', ...tls() });
    expect(theirs.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'apiEndpoint', reason: 'engine is registered by another account' });
    expect(theirs.data).toBeNull();
    // and by the unix socket, the same
    const again = await register(b, { name: 'b-unix', apiEndpoint: dockerEndpoint() });
    expect(again.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'engine is registered by another account' });
    expect([await count(t, 'docker_hosts'), await count(t, 'docker_activities')]).toEqual([hosts, activities]);
    expect(await seenByB()).toEqual({ hosts: 0, containers: 0, images: 0, events: 0 });
    expect((await t.gql(ActivitiesDocument, {}, b)).data!.activities.totalCount).toBe(0);
  });

  it('the same account may register its engine twice (unix socket and TLS)', async () => {
    const res = await register(a, { name: 'a-tls', ...tls() });
    expect(res.errors).toBeUndefined();
    aHosts.push(res.data!.registerDockerHost.host.id);
    await eventually(async () => (await host(aHosts[1], a)).status === 'CONNECTED');
  });

  it("B's registration while the engine does not answer is stored pending; the supervisor refuses it on first contact and stores nothing of it", async () => {
    const gate = await forwarder({ path: dockerSocket() });
    await gate.close(); // down at registration time
    try {
      const res = await register(b, { name: 'b-later', apiEndpoint: `tcp://127.0.0.1:${gate.port}`, syncIntervalSeconds: 30 });
      expect(res.errors).toBeUndefined();
      const id = res.data!.registerDockerHost.host.id;
      expect(res.data!.registerDockerHost.host.status).toBe('PENDING');
      const down = await eventually(async () => {
        const h = await host(id, b);
        return h.consecutiveFailures >= 1 && h;
      });
      expect(down.lastError).toBe('connection refused');

      await gate.open(); // the engine answers: it is A's
      const refused = await eventually(async () => {
        const h = await host(id, b);
        return h.lastError === 'engine is registered by another account' && h;
      });
      expect(refused).toMatchObject({ status: 'ERROR', lastSyncedAt: null, dockerVersion: null, operatingSystem: null, containerCount: null, imageCount: null });
      expect(await seenByB()).toEqual({ hosts: 1, containers: 0, images: 0, events: 0 });
      const hostUuid = fromGlobalId(id).id;
      for (const table of ['docker_containers', 'docker_images', 'docker_events']) {
        expect([table, (await sql(t.databaseUrl, `select 1 from ${table} where host_id = $1`, [hostUuid])).length]).toEqual([table, 0]);
      }
      // nor through live calls or a sync
      const sync = await t.gql(SyncDockerHostDocument, { input: { id } }, b);
      expect(sync.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'engine is registered by another account' });
      const volumes = await t.gql(VolumesDocument, { hostId: id }, b);
      expect(volumes.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'engine is registered by another account' });
      expect(await seenByB()).toEqual({ hosts: 1, containers: 0, images: 0, events: 0 });
      await t.gql(RemoveDockerHostDocument, { input: { id } }, b);
    } finally {
      await gate.close();
    }
  });

  it("every reconnect checks again: a URL that now leads to A's engine puts B's host in error before anything is read", async () => {
    const own = await httpServer(fakeEngine(`B-OWN-${process.pid}`));
    const gate = await forwarder({ port: own.port });
    try {
      const res = await register(b, { name: 'b-own', apiEndpoint: `tcp://127.0.0.1:${gate.port}`, syncIntervalSeconds: 30 });
      expect(res.errors).toBeUndefined();
      const id = res.data!.registerDockerHost.host.id;
      const connected = await eventually(async () => {
        const h = await host(id, b);
        return h.status === 'CONNECTED' && h.lastSyncedAt && h;
      });
      expect(connected).toMatchObject({ dockerVersion: '20.10.0-fake', containerCount: 0 });

      gate.retarget({ path: dockerSocket() }); // same URL, now A's engine
      const refused = await eventually(async () => {
        const h = await host(id, b);
        return h.status === 'ERROR' && h.lastError === 'engine is registered by another account' && h;
      });
      expect(refused).toMatchObject({ dockerVersion: '20.10.0-fake', containerCount: 0 });
      expect(await seenByB()).toMatchObject({ containers: 0, images: 0, events: 0 });
      await t.gql(RemoveDockerHostDocument, { input: { id } }, b);
    } finally {
      await gate.close();
      await own.close();
    }
  });

  it('the claim is released when A removes the last host that holds it; then B may register the engine', async () => {
    const removeA = async (id: string) => expect((await t.gql(RemoveDockerHostDocument, { input: { id } }, a)).errors).toBeUndefined();
    await removeA(aHosts[0]);
    // A still holds it through its TLS host
    expect((await register(b, { name: 'b-tls', ...tls() })).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    await removeA(aHosts[1]);
    const res = await register(b, { name: 'b-tls', ...tls() });
    expect(res.errors).toBeUndefined();
    const id = res.data!.registerDockerHost.host.id;
    await eventually(async () => (await host(id, b)).status === 'CONNECTED');
    // and now A is the one refused
    expect((await register(a, { name: 'a-back', apiEndpoint: dockerEndpoint() })).errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'engine is registered by another account' });
    await t.gql(RemoveDockerHostDocument, { input: { id } }, b);
  });

  it('two accounts registering a free engine at the same moment: exactly one gets it', async () => {
    const results = await Promise.all([register(a, { name: 'race-a', apiEndpoint: dockerEndpoint() }), register(b, { name: 'race-b', ...tls() })]);
    const won = results.filter((r) => !r.errors);
    const lost = results.filter((r) => r.errors);
    expect([won.length, lost.length]).toEqual([1, 1]);
    expect(lost[0].errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'engine is registered by another account' });
    const owners = await sql<{ account_id: string }>(t.databaseUrl, "select distinct account_id from engine_claims where kind = 'engine'");
    expect(owners).toHaveLength(1);
    expect(await count(t, 'docker_hosts')).toBe(1);
  });
});

describe('what an endpoint answers never comes back: fixed reasons', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp({ config: { workers: true, sync: { retryBaseMs: 100 } }, env: { FLEETGRAPH_ENDPOINT_ALLOW: testEndpointAllow('127.0.0.1') } });
    token = await t.token({ account: 'reasons', permissions: ['docker.hosts.manage'] });
  });
  afterAll(() => t?.stop());

  const BODY = 'Cannot GET /v1.41/events';

  it.each([
    [
      'an HTTP server that answers 404 with its own body',
      'not a Docker engine',
      ((_req, res) => {
        res.writeHead(404, { 'content-type': 'text/html; charset=utf-8', 'x-powered-by': 'Express' });
        res.end(`<!DOCTYPE html><html><body><pre>${BODY}</pre></body></html>`);
      }) as http.RequestListener,
    ],
    [
      "an HTTP server that answers 200 with JSON that is not Docker's",
      'not a Docker engine',
      ((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: BODY, ID: BODY }));
      }) as http.RequestListener,
    ],
    [
      'a server that hangs up',
      'connection reset',
      ((req) => {
        req.socket.destroy();
      }) as http.RequestListener,
    ],
  ] as Array<[string, string, http.RequestListener]>)('%s: lastError and every error say "%s", the answer appears nowhere', async (_what, reason, handler) => {
    const server = await httpServer(handler);
    const seen: string[] = [];
    const keep = <T>(r: T) => {
      seen.push(JSON.stringify(r));
      return r;
    };
    try {
      const res = keep(
        await t.gql(RegisterDockerHostDocument, { input: { name: uniqueName('odd'), apiEndpoint: `tcp://127.0.0.1:${server.port}`, environment: 'development', syncIntervalSeconds: 30 } }, token),
      );
      expect(res.errors).toBeUndefined();
      const id = res.data!.registerDockerHost.host.id;
      const h = await eventually(async () => {
        const r = keep(await t.gql(DockerHostDocument, { id }, token));
        return r.data!.dockerHost.lastError ? r.data!.dockerHost : undefined;
      });
      expect(h.lastError).toBe(reason);
      expect(FAILURE_REASONS).toContain(h.lastError);
      const sync = keep(await t.gql(SyncDockerHostDocument, { input: { id } }, token));
      expect(sync.errors?.[0].extensions).toMatchObject({ code: 'DOCKER_UNREACHABLE', reason });
      expect(sync.errors?.[0].message).toMatch(new RegExp(`: ${reason}$`));
      keep(await t.gql(VolumesDocument, { hostId: id }, token));
      keep(await t.gql(ActivitiesDocument, { filter: { hostId: id } }, token));
      const [row] = await sql<{ last_error: string }>(t.databaseUrl, 'select last_error from docker_hosts where id = $1', [fromGlobalId(id).id]);
      seen.push(row.last_error);
      expect(server.requests).toBeGreaterThan(0);
      for (const text of seen) {
        expect(text).not.toContain('Cannot GET');
        expect(text).not.toMatch(/socket hang up|ECONNRESET|<html|Express/i);
      }
      await t.gql(RemoveDockerHostDocument, { input: { id } }, token);
    } finally {
      await server.close();
    }
  });

  it('a closed port is "connection refused", a missing allow-listed socket "socket not found", with no path or code', async () => {
    for (const [apiEndpoint, reason] of [
      ['tcp://127.0.0.1:1', 'connection refused'],
      [`unix://${testEnv('FLEETGRAPH_TEST_BASE')}/missing/${uniqueName('gone')}.sock`, 'socket not found'],
    ]) {
      const res = await t.gql(RegisterDockerHostDocument, { input: { name: uniqueName('down'), apiEndpoint, environment: 'development', syncIntervalSeconds: 30 } }, token);
      const id = res.data!.registerDockerHost.host.id;
      const h = await eventually(async () => {
        const d = (await t.gql(DockerHostDocument, { id }, token)).data!.dockerHost;
        return d.lastError ? d : undefined;
      });
      expect(h.lastError).toBe(reason);
      const sync = await t.gql(SyncDockerHostDocument, { input: { id } }, token);
      expect(sync.errors?.[0].message).toMatch(new RegExp(`^Docker host unreachable \\(${h.name}\\): ${reason}$`));
    }
  });
});
