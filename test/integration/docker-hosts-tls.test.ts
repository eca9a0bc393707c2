import Redis from 'ioredis';
import {
  ActivitiesDocument,
  DockerHostDocument,
  OnHostStatusDocument,
  RecoverDockerHostDocument,
  RegisterDockerHostDocument,
  SyncDockerHostDocument,
  UpdateDockerHostDocument,
  ViewerDocument,
} from '../../src/generated/graphql';
import { createDockerClient, parseEndpoint } from '../../src/infra/engine/client';
import { engineError } from '../../src/infra/engine/errors';
import { EndpointPolicy, parseEndpointAllowList } from '../../src/kernel/addresses';
import { AppError } from '../../src/kernel/errors';
import { fromGlobalId } from '../../src/graphql/relay';
import { eventually, startTestApp, subscribe, TestApp, testEndpointAllow, testEnv } from '../support/app';
import { dockerEndpoint, testCerts, TestCerts } from '../support/docker';
import { sql } from '../support/db';

/**
 * TLS for real against the test dockerd's --tlsverify listener (tcp://127.0.0.1:23760, certificates
 * made by test/support/services.sh with openssl); the DOCKER_* environment guard; and TLS material
 * that never leaves the server (GraphQL, audit rows, database columns).
 */
const TLS = 'tcp://127.0.0.1:23760';
const HTTPS = 'https://127.0.0.1:23760';

/** Sets DOCKER_* variables in this (the server's) process for the duration of a block. */
function withDockerEnv(vars: Record<string, string>) {
  const saved: Record<string, string | undefined> = {};
  beforeAll(() => {
    for (const [k, v] of Object.entries(vars)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
  });
  afterAll(() => {
    for (const k of Object.keys(vars)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
}

describe('createDockerClient against the real TLS daemon', () => {
  let certs: TestCerts;
  let policy: EndpointPolicy;
  beforeAll(() => {
    certs = testCerts();
    policy = new EndpointPolicy(parseEndpointAllowList(testEndpointAllow()));
  });

  it('connects with the right ca, cert and key (https with mutual TLS)', async () => {
    const docker = createDockerClient(parseEndpoint(TLS, true), true, { ca: certs.ca, cert: certs.cert, key: certs.key }, { policy, timeoutMs: 10_000 });
    expect(String(await docker.ping())).toBe('OK');
    const info = await docker.info();
    expect(info.ServerVersion).toEqual(expect.any(String));
    expect((docker.modem as unknown as { protocol: string }).protocol).toBe('https');
  });

  it('is refused by the daemon with a client certificate from another CA: DOCKER_UNREACHABLE, readable', async () => {
    const docker = createDockerClient(parseEndpoint(TLS, true), true, { ca: certs.ca, cert: certs.wrongCert, key: certs.wrongKey }, { policy, timeoutMs: 10_000 });
    const err = await docker.ping().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeDefined();
    const mapped = engineError(err, { name: 'tls-host', kind: 'host' }) as AppError;
    expect(mapped.code).toBe('DOCKER_UNREACHABLE');
    expect(mapped.message).toBe('Docker host unreachable (tls-host): TLS handshake failed');
    expect(mapped.extensions.reason).toBe('TLS handshake failed');
  });

  it('refuses a daemon whose certificate the given CA did not sign', async () => {
    const docker = createDockerClient(parseEndpoint(TLS, true), true, { ca: certs.wrongCa, cert: certs.cert, key: certs.key }, { policy, timeoutMs: 10_000 });
    const err = await docker.ping().then(
      () => undefined,
      (e: unknown) => e,
    );
    const mapped = engineError(err) as AppError;
    expect(mapped.code).toBe('DOCKER_UNREACHABLE');
    expect(mapped.message).toBe('Docker host unreachable: certificate not trusted');
  });

  it('never builds a TLS-verified client without all of ca, cert and key (no silent plain-HTTP fallback)', () => {
    for (const creds of [undefined, { ca: certs.ca, cert: certs.cert }, { ca: certs.ca, key: certs.key }, { cert: certs.cert, key: certs.key }]) {
      let thrown: unknown;
      try {
        createDockerClient(parseEndpoint(TLS, true), true, creds, { policy });
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(AppError);
      expect((thrown as AppError).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tlsCredentials' });
    }
  });

  it('parses endpoints: tcp is TLS only with tlsVerify, https always, http never', () => {
    expect(parseEndpoint(TLS, false)).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 23760, tls: false });
    expect(parseEndpoint(TLS, true)).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 23760, tls: true });
    expect(parseEndpoint('https://docker.example', false)).toEqual({ kind: 'tcp', host: 'docker.example', port: 2376, tls: true });
    expect(parseEndpoint('tcp://[::1]', false)).toEqual({ kind: 'tcp', host: '::1', port: 2375, tls: false });
    expect(parseEndpoint('unix:///var/run/docker.sock', false)).toEqual({ kind: 'unix', socketPath: '/var/run/docker.sock', tls: false });
    expect(() => parseEndpoint('http://x:2375', true)).toThrow(/tlsVerify/);
  });

  describe('with bogus DOCKER_HOST / DOCKER_CERT_PATH / DOCKER_TLS_VERIFY in the environment', () => {
    withDockerEnv({ DOCKER_HOST: 'tcp://127.0.0.1:1', DOCKER_CERT_PATH: '/nonexistent/fleetgraph-certs', DOCKER_TLS_VERIFY: '1', DOCKER_CLIENT_TIMEOUT: '1' });

    it('still builds a unix client for the configured socket and reaches it', async () => {
      const docker = createDockerClient(parseEndpoint(dockerEndpoint(), false), false, undefined, { policy, timeoutMs: 10_000 });
      const modem = docker.modem as unknown as Record<string, unknown>;
      expect(modem).toMatchObject({ socketPath: testEnv('FLEETGRAPH_TEST_DOCKER_SOCKET'), host: undefined, ca: undefined, cert: undefined, key: undefined, protocol: 'http' });
      expect(String(await docker.ping())).toBe('OK');
      // the environment is left as the caller set it
      expect(process.env.DOCKER_CERT_PATH).toBe('/nonexistent/fleetgraph-certs');
    });
  });

  describe('with DOCKER_* pointing at the real TLS daemon and its client certificates', () => {
    withDockerEnv({ DOCKER_HOST: TLS, DOCKER_CERT_PATH: testEnv('FLEETGRAPH_TEST_DOCKER_CERTS'), DOCKER_TLS_VERIFY: '1' });

    it("a plain tcp client stays plain HTTP (the daemon answers that it wants HTTPS) instead of borrowing the environment's TLS", async () => {
      const docker = createDockerClient(parseEndpoint(TLS, false), false, undefined, { policy, timeoutMs: 10_000 });
      const modem = docker.modem as unknown as Record<string, unknown>;
      expect(modem).toMatchObject({ protocol: 'http', host: '127.0.0.1', port: 23760, ca: undefined, cert: undefined, key: undefined });
      const err = (await docker.ping().then(
        () => undefined,
        (e: unknown) => e,
      )) as { statusCode?: number; message?: string };
      expect(err).toBeDefined();
      expect(err.statusCode).toBe(400);
      expect(String(err.message)).toMatch(/HTTP request to an HTTPS server/);
    });

    it("a TLS client without credentials of its own does not pick up the environment's certificates", async () => {
      const docker = createDockerClient(parseEndpoint(HTTPS, false), false, undefined, { policy, timeoutMs: 10_000 });
      await expect(docker.ping()).rejects.toBeDefined();
    });
  });
});

describe('TLS hosts through GraphQL (workers on)', () => {
  let t: TestApp;
  let token: string;
  let accountUuid: string;
  let certs: TestCerts;
  let goodId: string;

  const register = (input: Record<string, unknown>) => t.gql(RegisterDockerHostDocument, { input: { environment: 'production', syncIntervalSeconds: 30, ...input } as never }, token);
  const host = async (id: string) => {
    const res = await t.gql(DockerHostDocument, { id }, token);
    expect(res.errors).toBeUndefined();
    return res.data!.dockerHost;
  };
  const endsIn = async (id: string, status: string, timeoutMs = 20_000) =>
    eventually(async () => {
      const h = await host(id);
      return h.status === status && h;
    }, timeoutMs);

  beforeAll(async () => {
    certs = testCerts();
    t = await startTestApp({ config: { workers: true, sync: { retryBaseMs: 50 } } });
    token = await t.token({ account: 'tls', permissions: ['docker.hosts.manage'] });
    accountUuid = fromGlobalId((await t.gql(ViewerDocument, {}, token)).data!.viewer.account.id).id;
  });
  afterAll(() => t?.stop());

  it('registers with the right ca, cert and key and connects', async () => {
    const res = await register({ name: 'tls-good', apiEndpoint: TLS, tlsVerify: true, tlsCredentials: { ca: certs.ca, cert: certs.cert, key: certs.key } });
    expect(res.errors).toBeUndefined();
    goodId = res.data!.registerDockerHost.host.id;
    expect(res.data!.registerDockerHost.host).toMatchObject({ tlsVerify: true, hasTlsCredentials: true, status: 'PENDING' });
    const h = await endsIn(goodId, 'CONNECTED');
    expect(h).toMatchObject({ consecutiveFailures: 0, lastError: null, dockerVersion: expect.any(String) });
    await eventually(async () => (await host(goodId)).lastSyncedAt);
    const s = await t.gql(SyncDockerHostDocument, { input: { id: goodId } }, token);
    expect(s.errors).toBeUndefined();
    expect(s.data!.syncDockerHost.images).toBeGreaterThanOrEqual(1);
  });

  it('with a client certificate from another CA it ends in error after 5 failures, with a readable lastError', async () => {
    const sub = subscribe(t.ws(token), OnHostStatusDocument, {});
    await eventually(
      async () => {
        const r = await fetchNumsub(`dockerHostStatus:${accountUuid}`);
        return r > 0;
      },
      10_000,
      20,
    );
    const res = await register({ name: 'tls-wrong-cert', apiEndpoint: TLS, tlsVerify: true, tlsCredentials: { ca: certs.ca, cert: certs.wrongCert, key: certs.wrongKey } });
    expect(res.errors).toBeUndefined();
    const id = res.data!.registerDockerHost.host.id;
    const h = await endsIn(id, 'ERROR');
    expect(h.consecutiveFailures).toBeGreaterThanOrEqual(5);
    expect(h.lastError).toBe('TLS handshake failed');
    const seen = await sub.until((rs) => rs.some((r) => r.data?.dockerHostStatusChanged.hostId === id && r.data.dockerHostStatusChanged.status === 'ERROR'));
    sub.unsubscribe();
    const change = seen.map((r) => r.data!.dockerHostStatusChanged).find((c) => c.hostId === id && c.status === 'ERROR')!;
    expect(change).toMatchObject({ previousStatus: 'PENDING', name: 'tls-wrong-cert', lastError: 'TLS handshake failed' });
    expect(change.consecutiveFailures).toBe(5);
    // it never connected on the way
    expect(seen.some((r) => r.data?.dockerHostStatusChanged.hostId === id && r.data.dockerHostStatusChanged.status === 'CONNECTED')).toBe(false);

    // syncing it now fails as DOCKER_UNREACHABLE and the failure is audited with the reason
    const sync = await t.gql(SyncDockerHostDocument, { input: { id } }, token);
    expect(sync.errors?.[0].extensions?.code).toBe('DOCKER_UNREACHABLE');
    expect(sync.errors?.[0].message).toMatch(/: TLS handshake failed$/);
    const acts = await t.gql(ActivitiesDocument, { filter: { hostId: id, action: 'host.sync' }, first: 5 }, token);
    expect(acts.data!.activities.nodes[0]).toMatchObject({ status: 'FAILED', errorCode: 'DOCKER_UNREACHABLE', error: expect.stringMatching(/: TLS handshake failed$/) });
    expect(acts.data!.activities.nodes[0].durationMs).toBeGreaterThanOrEqual(0);

    // recovery resets the count; with the right credentials (updateDockerHost) it connects
    const rec = await t.gql(RecoverDockerHostDocument, { input: { id } }, token);
    expect(rec.data!.recoverDockerHost.host).toMatchObject({ status: 'PENDING', consecutiveFailures: 0, lastError: null });
    const upd = await t.gql(UpdateDockerHostDocument, { input: { id, tlsCredentials: { ca: certs.ca, cert: certs.cert, key: certs.key } } }, token);
    expect(upd.errors).toBeUndefined();
    await endsIn(id, 'CONNECTED');
  });

  it('without a client certificate (https, no credentials) it ends in error too', async () => {
    const res = await register({ name: 'tls-no-cert', apiEndpoint: HTTPS });
    expect(res.errors).toBeUndefined();
    const h = await endsIn(res.data!.registerDockerHost.host.id, 'ERROR');
    expect(h.lastError).toBe('TLS handshake failed');
  });

  it("with a CA that did not sign the daemon's certificate it ends in error", async () => {
    const res = await register({ name: 'tls-wrong-ca', apiEndpoint: TLS, tlsVerify: true, tlsCredentials: { ca: certs.wrongCa, cert: certs.cert, key: certs.key } });
    expect(res.errors).toBeUndefined();
    const h = await endsIn(res.data!.registerDockerHost.host.id, 'ERROR');
    expect(h.lastError).toBe('certificate not trusted');
  });

  it('plain tcp to the TLS port does not silently become TLS: it fails', async () => {
    const res = await register({ name: 'tls-plain', apiEndpoint: TLS, tlsVerify: false });
    expect(res.errors).toBeUndefined();
    const h = await endsIn(res.data!.registerDockerHost.host.id, 'ERROR');
    expect(h.lastError).toBe('TLS required by the endpoint');
  });

  it.each([
    ['no key', { ca: 'CA', cert: 'CERT' }],
    ['no cert', { ca: 'CA', key: 'KEY' }],
    ['no ca', { cert: 'CERT', key: 'KEY' }],
    ['no credentials', null],
  ])('refuses tlsVerify with %s at registration (BAD_USER_INPUT)', async (_what, partial) => {
    const pem = { CA: certs.ca, CERT: certs.cert, KEY: certs.key } as Record<string, string>;
    const tlsCredentials = partial && Object.fromEntries(Object.entries(partial).map(([k, v]) => [k, pem[v]]));
    const before = await sql<{ n: string }>(t.databaseUrl, 'select (select count(*) from docker_hosts) + (select count(*) from docker_activities) as n');
    const res = await register({ name: 'tls-partial', apiEndpoint: TLS, tlsVerify: true, ...(tlsCredentials ? { tlsCredentials } : {}) });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tlsCredentials' });
    expect(JSON.stringify(res)).not.toContain(certs.key.split('\n')[1]);
    expect(await sql(t.databaseUrl, 'select (select count(*) from docker_hosts) + (select count(*) from docker_activities) as n')).toEqual(before);
  });

  describe('DOCKER_* environment of the server process', () => {
    withDockerEnv({ DOCKER_HOST: 'tcp://127.0.0.1:1', DOCKER_CERT_PATH: '/nonexistent/fleetgraph-certs', DOCKER_TLS_VERIFY: '1' });

    it('does not stop a unix host from connecting', async () => {
      const res = await register({ name: 'env-unix', apiEndpoint: dockerEndpoint(), environment: 'development' });
      expect(res.errors).toBeUndefined();
      const h = await endsIn(res.data!.registerDockerHost.host.id, 'CONNECTED');
      expect(h.lastError).toBeNull();
    });
  });

  describe('DOCKER_* of the server process pointing at the TLS daemon with valid client certificates', () => {
    withDockerEnv({ DOCKER_HOST: TLS, DOCKER_CERT_PATH: testEnv('FLEETGRAPH_TEST_DOCKER_CERTS'), DOCKER_TLS_VERIFY: '1' });

    it("a plain tcp host does not switch to the environment's TLS (it would connect if it did)", async () => {
      const res = await register({ name: 'env-plain-tcp', apiEndpoint: TLS, tlsVerify: false });
      expect(res.errors).toBeUndefined();
      const h = await endsIn(res.data!.registerDockerHost.host.id, 'ERROR');
      expect(h.lastError).toBe('TLS required by the endpoint');
    });

    it("an https host without credentials does not borrow the environment's client certificate", async () => {
      const res = await register({ name: 'env-https', apiEndpoint: HTTPS });
      expect(res.errors).toBeUndefined();
      const h = await endsIn(res.data!.registerDockerHost.host.id, 'ERROR');
      expect(h.lastError).toBe('TLS handshake failed');
    });
  });

  describe('TLS material never leaves the server', () => {
    /** Lines of base64 from a PEM body: any one of them in a response would be a leak. */
    const bodyLines = (pem: string) => pem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'));
    const expectNoLeak = (text: string, what: string, pems: string[]) => {
      for (const pem of pems) {
        for (const line of bodyLines(pem)) {
          if (text.includes(line)) throw new Error(`${what} contains TLS material: …${line}…`);
        }
      }
    };

    it('not in any field of the host (every field of DockerHost, from introspection)', async () => {
      await t.gql(UpdateDockerHostDocument, { input: { id: goodId, tlsCredentials: { ca: certs.ca, cert: certs.cert, key: certs.key } } }, token);
      const query = `query Everything($id: ID!) { dockerHost(id: $id) { ${await selectionOf(t, token, 'DockerHost', 2)} } }`;
      expect(query).toContain('hasTlsCredentials');
      const res = await t.gql(query, { id: goodId }, token);
      expect(res.errors).toBeUndefined();
      const h = (res.data as { dockerHost: Record<string, unknown> }).dockerHost;
      expect(h).toMatchObject({ name: 'tls-good', hasTlsCredentials: true });
      expectNoLeak(JSON.stringify(res), 'dockerHost', [certs.key, certs.cert, certs.ca]);
      const names = Object.keys(h).join(' ');
      expect(names).not.toMatch(/credential(s)?Sealed|tlsKey|privateKey/i);
    });

    it('not in audit parameters (activities query, activity payloads) — redacted', async () => {
      const res = await t.gql(ActivitiesDocument, { first: 30 }, token);
      expect(res.errors).toBeUndefined();
      const withCreds = res.data!.activities.nodes.filter((a) => 'tlsCredentials' in a.parameters);
      expect(withCreds.length).toBeGreaterThanOrEqual(3); // registrations and updates that sent credentials
      for (const a of withCreds) expect(a.parameters.tlsCredentials).toBe('[redacted]');
      expectNoLeak(JSON.stringify(res), 'activities', [certs.key, certs.cert, certs.ca, certs.wrongKey]);
    });

    it('not in any database column except the sealed one (AES-256-GCM with a key id)', async () => {
      const dump = await sql<{ t: string; row: unknown }>(
        t.databaseUrl,
        `select 'activity' as t, row_to_json(a)::text as row from docker_activities a
         union all select 'event', row_to_json(e)::text from docker_events e
         union all select 'host', (to_jsonb(h) - 'tls_credentials_sealed')::text from docker_hosts h`,
      );
      expect(dump.length).toBeGreaterThan(5);
      expectNoLeak(dump.map((r) => r.row).join('\n'), 'database rows', [certs.key, certs.wrongKey]);

      const [sealed] = await sql<{ s: string; k: string }>(t.databaseUrl, 'select tls_credentials_sealed as s, tls_key_id as k from docker_hosts where id = $1', [fromGlobalId(goodId).id]);
      expect(sealed.k).toBe('k1');
      expect(sealed.s).toMatch(/^v1\.k1\./);
      expectNoLeak(sealed.s, 'sealed column', [certs.key, certs.cert, certs.ca]);
      expect(JSON.parse(t.app.services.secrets.open(sealed.s))).toEqual({ ca: certs.ca, cert: certs.cert, key: certs.key });
    });
  });
});

async function fetchNumsub(channel: string): Promise<number> {
  const r = new Redis(testEnv('FLEETGRAPH_TEST_REDIS_URL'));
  try {
    return Number(((await r.pubsub('NUMSUB', channel)) as [string, number])[1]);
  } finally {
    r.disconnect();
  }
}

interface IntrospectedField {
  name: string;
  args: Array<{ type: { kind: string } }>;
  type: IntrospectedType;
}
interface IntrospectedType {
  kind: string;
  name: string | null;
  ofType: IntrospectedType | null;
}

/** A selection of every field of a type without required arguments, objects down to `depth`. */
async function selectionOf(t: TestApp, token: string, typeName: string, depth: number): Promise<string> {
  const res = await t.gql(
    `query($name: String!) { __type(name: $name) { fields { name args { type { kind } } type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }`,
    { name: typeName },
    token,
  );
  const fields = (res.data as { __type: { fields: IntrospectedField[] } }).__type.fields;
  const parts: string[] = [];
  for (const f of fields) {
    if (f.args.some((a) => a.type.kind === 'NON_NULL')) continue;
    // live per-row reads of Docker objects (not host data); other tests add and remove containers meanwhile
    if (f.name === 'inspect' && depth < 2) continue;
    let ty: IntrospectedType = f.type;
    while (ty.ofType) ty = ty.ofType;
    if (ty.kind === 'SCALAR' || ty.kind === 'ENUM') parts.push(f.name);
    else if ((ty.kind === 'OBJECT' || ty.kind === 'INTERFACE') && depth > 0) {
      const inner = await selectionOf(t, token, ty.name!, depth - 1);
      if (inner) parts.push(`${f.name} { ${inner} }`);
    }
  }
  return parts.join(' ');
}
