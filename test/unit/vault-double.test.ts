/**
 * The Vault double's semantics, over HTTP with fetch: what fleetgraph's Vault client is tested
 * against must behave like Vault (test/support/vault-double.ts cites the Vault source for each rule).
 */
import { goDuration, multierror, parseDurationSecond, sanitizePolicies, VaultDouble } from '../support/vault-double';

interface Answer {
  status: number;
  body: any;
}

/** One Vault API call (`path` relative to /v1/). */
async function vault(double: VaultDouble, method: string, path: string, options: { token?: string | null; body?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = options.token === undefined ? double.rootToken : options.token;
  if (token !== null) headers['x-vault-token'] = token;
  const res = await fetch(`${double.url}/v1/${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const create = (double: VaultDouble, body: unknown, token?: string, path = 'auth/token/create') => vault(double, 'POST', path, { token, body });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Vault double', () => {
  let double: VaultDouble;

  beforeEach(async () => {
    double = await VaultDouble.start({
      policies: { 'instance-a': ['secret/data/a/*'], creator: ['auth/token/create', 'auth/token/lookup-accessor', 'auth/token/revoke-accessor'], 'instance-b': [] },
      roles: { instances: { allowedPolicies: ['instance-a'], orphan: true, renewable: false, tokenExplicitMaxTtlSeconds: 60 } },
    });
  });

  afterEach(async () => {
    await double.close();
  });

  describe('token create', () => {
    it("answers Vault's auth block: policies with default, ttl as lease_duration, metadata, accessor", async () => {
      const res = await create(double, { policies: ['instance-a'], ttl: '90s', explicit_max_ttl: '120s', renewable: false, meta: { fleetgraph_instance: 'i-1' }, display_name: 'fleetgraph instance' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ data: null, warnings: null, lease_id: '', mount_type: 'token' });
      expect(res.body.auth).toMatchObject({
        policies: ['default', 'instance-a'],
        token_policies: ['default', 'instance-a'],
        metadata: { fleetgraph_instance: 'i-1' },
        lease_duration: 90,
        renewable: false,
        token_type: 'service',
        orphan: false,
        num_uses: 0,
      });
      expect(res.body.auth.client_token).toMatch(/^hvs\.[A-Za-z0-9]{24}$/);
      const [t] = double.tokens();
      expect(t).toMatchObject({
        accessor: res.body.auth.accessor,
        ttl: 90,
        explicitMaxTtl: 120,
        renewable: false,
        displayName: 'token-fleetgraph-instance',
        parentAccessor: double.rootAccessor,
        valid: true,
      });
    });

    it('caps the ttl at explicit_max_ttl with Vault’s warning', async () => {
      const res = await create(double, { policies: ['instance-a'], ttl: '1h', explicit_max_ttl: '30s' });
      expect(res.status).toBe(200);
      expect(res.body.auth.lease_duration).toBe(30);
      expect(res.body.warnings).toEqual(['TTL of "1h0m0s" exceeded the effective max_ttl of "30s"; TTL value is capped accordingly']);
      const look = await vault(double, 'POST', 'auth/token/lookup-accessor', { body: { accessor: res.body.auth.accessor } });
      expect(look.body.data).toMatchObject({ creation_ttl: 30, explicit_max_ttl: 30, id: '' });
    });

    it("uses the mount's default TTL (768h) when none is asked for, and warns of unknown policies", async () => {
      const res = await create(double, { policies: ['nonexistent'] });
      expect(res.body.auth.lease_duration).toBe(768 * 3600);
      expect(res.body.warnings).toEqual(['Policy "nonexistent" does not exist']);
    });

    it('refuses a child token with policies its (non-root) parent lacks; root may grant any', async () => {
      const parent = await create(double, { policies: ['creator', 'instance-a'], ttl: '1h' });
      const parentToken = parent.body.auth.client_token;
      const ok = await create(double, { policies: ['instance-a'], ttl: '60s' }, parentToken);
      expect(ok.status).toBe(200);
      expect(ok.body.auth.policies).toEqual(['default', 'instance-a']); // the parent has default, so the child gets it
      const denied = await create(double, { policies: ['instance-b'], ttl: '60s' }, parentToken);
      expect(denied).toEqual({ status: 400, body: { errors: ['child policies must be subset of parent'] } });
      const inherit = await create(double, { ttl: '60s' }, parentToken);
      expect(inherit.body.auth.policies).toEqual(['creator', 'default', 'instance-a']);
      const root = await create(double, { policies: ['instance-b'] });
      expect(root.status).toBe(200);
      const escalate = await create(double, { policies: ['root'] }, parentToken);
      expect(escalate).toEqual({ status: 400, body: { errors: ['child policies must be subset of parent'] } });
    });

    it('applies a role: allowed policies, orphan, not renewable, its explicit max', async () => {
      const res = await create(double, { policies: ['instance-a'], ttl: '1h', renewable: true }, undefined, 'auth/token/create/instances');
      expect(res.status).toBe(200);
      expect(res.body.auth).toMatchObject({ lease_duration: 60, renewable: false, orphan: true, policies: ['default', 'instance-a'] });
      expect(double.tokens()[0]).toMatchObject({ role: 'instances', path: 'auth/token/create/instances', orphan: true });
      const outside = await create(double, { policies: ['instance-b'] }, undefined, 'auth/token/create/instances');
      expect(outside.status).toBe(400);
      expect(outside.body.errors[0]).toMatch(/^token policies \(\["default" "instance-b"\]\) must be subset of the role's allowed policies/);
      expect(await create(double, {}, undefined, 'auth/token/create/nope')).toEqual({ status: 400, body: { errors: ['unknown role nope'] } });
    });

    it('refuses malformed requests the way Vault does', async () => {
      expect(await create(double, { ttl: '-5s' })).toEqual({ status: 400, body: { errors: ['ttl must be positive'] } });
      expect(await create(double, { ttl: 'soon' })).toEqual({ status: 400, body: { errors: ['time: invalid duration "soon"'] } });
      expect(await create(double, { num_uses: -1 })).toEqual({ status: 400, body: { errors: ['number of uses cannot be negative'] } });
      expect(await create(double, { policies: ['response-wrapping'] })).toEqual({ status: 400, body: { errors: ['cannot assign policy "response-wrapping"'] } });
      const notJson = await fetch(`${double.url}/v1/auth/token/create`, { method: 'POST', headers: { 'x-vault-token': double.rootToken }, body: '{nope' });
      expect(notJson.status).toBe(400);
      expect(((await notJson.json()) as any).errors[0]).toMatch(/^failed to parse JSON input/);
    });
  });

  describe('expiry, use counts and revocation', () => {
    it('a token past its ttl is gone: refused as a credential, unknown to lookups', async () => {
      const res = await create(double, { policies: ['instance-a'], ttl: '1s' });
      const { client_token: token, accessor } = res.body.auth;
      expect((await vault(double, 'GET', 'auth/token/lookup-self', { token })).status).toBe(200);
      await sleep(1100);
      expect(await vault(double, 'GET', 'auth/token/lookup-self', { token })).toEqual({ status: 403, body: { errors: [multierror('permission denied', 'invalid token')] } });
      expect(await vault(double, 'POST', 'auth/token/lookup-accessor', { body: { accessor } })).toEqual({ status: 400, body: { errors: ['invalid accessor'] } });
      expect(await vault(double, 'POST', 'auth/token/lookup', { body: { token } })).toEqual({ status: 403, body: { errors: ['bad token'] } });
      expect(double.token(accessor)).toMatchObject({ expired: true, revoked: false, valid: false });
    });

    it('follows an injected clock: expiry without sleeping, remaining ttl in lookups', async () => {
      let now = Date.parse('2026-12-01T10:00:00Z');
      const clocked = await VaultDouble.start({ now: () => now });
      try {
        const res = await create(clocked, { policies: ['p'], ttl: '10m' });
        now += 4 * 60_000;
        const look = await vault(clocked, 'POST', 'auth/token/lookup-accessor', { body: { accessor: res.body.auth.accessor } });
        expect(look.body.data).toMatchObject({ ttl: 360, creation_ttl: 600, expire_time: '2026-12-01T10:10:00.000Z', issue_time: '2026-12-01T10:00:00.000Z', renewable: true });
        now += 6 * 60_000;
        expect((await vault(clocked, 'POST', 'auth/token/lookup-accessor', { body: { accessor: res.body.auth.accessor } })).status).toBe(400);
      } finally {
        await clocked.close();
      }
    });

    it('a token with num_uses 1 works once', async () => {
      const res = await create(double, { policies: ['instance-a'], num_uses: 1 });
      const token = res.body.auth.client_token;
      expect((await vault(double, 'GET', 'auth/token/lookup-self', { token })).status).toBe(200);
      expect((await vault(double, 'GET', 'auth/token/lookup-self', { token })).status).toBe(403);
      expect(double.token(res.body.auth.accessor)).toMatchObject({ revoked: true, valid: false });
    });

    it('revoke-accessor: 204, then refused; again: 200 with the warning; children go with the parent, orphans stay', async () => {
      const parent = await create(double, { policies: ['creator', 'instance-a'] });
      const child = await create(double, { policies: ['instance-a'] }, parent.body.auth.client_token);
      const orphan = await create(double, { policies: ['instance-a'] }, undefined, 'auth/token/create-orphan');
      const revoke = await vault(double, 'POST', 'auth/token/revoke-accessor', { body: { accessor: parent.body.auth.accessor } });
      expect(revoke).toEqual({ status: 204, body: undefined });
      expect((await vault(double, 'GET', 'auth/token/lookup-self', { token: parent.body.auth.client_token })).status).toBe(403);
      expect((await vault(double, 'GET', 'auth/token/lookup-self', { token: child.body.auth.client_token })).status).toBe(403);
      expect((await vault(double, 'GET', 'auth/token/lookup-self', { token: orphan.body.auth.client_token })).status).toBe(200);
      expect(double.token(child.body.auth.accessor)).toMatchObject({ revoked: true });
      const again = await vault(double, 'POST', 'auth/token/revoke-accessor', { body: { accessor: parent.body.auth.accessor } });
      expect(again.status).toBe(200);
      expect(again.body.warnings).toEqual(['No token found with this accessor']);
      expect(await vault(double, 'POST', 'auth/token/revoke-accessor', { body: {} })).toEqual({ status: 400, body: { errors: ['missing accessor'] } });
    });

    it('can answer an unknown accessor like Vault < 1.10 (400 invalid accessor)', async () => {
      const legacy = await VaultDouble.start({ revokeUnknownAccessor: 'invalid-accessor' });
      try {
        expect(await vault(legacy, 'POST', 'auth/token/revoke-accessor', { body: { accessor: 'abc' } })).toEqual({ status: 400, body: { errors: [multierror('invalid accessor')] } });
      } finally {
        await legacy.close();
      }
    });
  });

  describe('errors, ACLs and controls', () => {
    it("answers Vault's error bodies and status codes", async () => {
      expect(await vault(double, 'GET', 'auth/token/lookup-self', { token: null })).toEqual({ status: 403, body: { errors: ['permission denied'] } });
      expect(await vault(double, 'GET', 'auth/token/lookup-self', { token: 'hvs.bogus' })).toEqual({ status: 403, body: { errors: [multierror('permission denied', 'invalid token')] } });
      expect(await vault(double, 'POST', 'secret/nothing-here', { body: {} })).toEqual({ status: 404, body: { errors: ['unsupported path'] } });
      // a token whose policies don't grant the path: a policy denial
      const weak = await create(double, { policies: ['instance-a'] });
      expect(await create(double, { policies: ['instance-a'] }, weak.body.auth.client_token)).toEqual({ status: 403, body: { errors: [multierror('permission denied')] } });
    });

    it('refuse(reason, status) answers every API call with the reason; accept() ends it; health is not refused', async () => {
      double.refuse('permission denied by the test', 403);
      expect(await create(double, { policies: ['p'] })).toEqual({ status: 403, body: { errors: ['permission denied by the test'] } });
      double.refuse('internal error', 500);
      expect(await create(double, { policies: ['p'] })).toEqual({ status: 500, body: { errors: ['internal error'] } });
      expect((await vault(double, 'GET', 'sys/health')).status).toBe(200);
      double.accept();
      expect((await create(double, { policies: ['p'] })).status).toBe(200);
    });

    it('sealed: 503 "Vault is sealed", health 503 with sealed true; unsealed: 200', async () => {
      const healthy = await vault(double, 'GET', 'sys/health', { token: null });
      expect(healthy).toMatchObject({ status: 200, body: { initialized: true, sealed: false, standby: false } });
      double.sealed();
      expect(await create(double, { policies: ['p'] })).toEqual({ status: 503, body: { errors: ['Vault is sealed'] } });
      expect(await vault(double, 'GET', 'sys/health', { token: null })).toMatchObject({ status: 503, body: { sealed: true } });
      double.sealed(false);
      expect((await create(double, { policies: ['p'] })).status).toBe(200);
    });

    it('down(): connection refused; up(): same port, same tokens', async () => {
      const res = await create(double, { policies: ['p'], ttl: '1h' });
      const url = double.url;
      await double.down();
      const refused = await fetch(`${url}/v1/sys/health`).catch((err: any) => err.cause?.code);
      expect(refused).toBe('ECONNREFUSED');
      await double.up();
      expect(double.url).toBe(url);
      expect((await vault(double, 'GET', 'auth/token/lookup-self', { token: res.body.auth.client_token })).status).toBe(200);
    });

    it('hang(): requests get no answer until down() cuts the connection', async () => {
      double.hang();
      const pending = fetch(`${double.url}/v1/sys/health`, { signal: AbortSignal.timeout(300) }).then(
        () => 'answered',
        (err: any) => err.name,
      );
      expect(await pending).toBe('TimeoutError');
      double.hang(false);
    });

    it('logs calls with the caller’s accessor and never a token', async () => {
      const res = await create(double, { policies: ['p'], meta: { instance: 'i-9' } });
      await vault(double, 'POST', 'auth/token/lookup', { body: { token: res.body.auth.client_token } });
      const calls = double.calls;
      expect(calls.map((c) => [c.method, c.path, c.status])).toEqual([
        ['POST', '/v1/auth/token/create', 200],
        ['POST', '/v1/auth/token/lookup', 200],
      ]);
      expect(calls[0]).toMatchObject({ callerAccessor: double.rootAccessor, body: { policies: ['p'], meta: { instance: 'i-9' } } });
      expect(calls[1].body).toEqual({ token: '[redacted]' });
      const text = JSON.stringify(calls) + JSON.stringify(double.tokens());
      expect(text).not.toContain(res.body.auth.client_token);
      expect(text).not.toContain(double.rootToken);
    });
  });

  describe('helpers mirror Vault’s', () => {
    it('parses durations like parseutil.ParseDurationSecond and prints them like Go', () => {
      expect([parseDurationSecond('90'), parseDurationSecond(90), parseDurationSecond('1h30m'), parseDurationSecond('2d'), parseDurationSecond('')]).toEqual([90, 90, 5400, 172800, 0]);
      expect(() => parseDurationSecond('1x')).toThrow('time: invalid duration "1x"');
      expect([goDuration(3600), goDuration(90), goDuration(30), goDuration(768 * 3600)]).toEqual(['1h0m0s', '1m30s', '30s', '768h0m0s']);
    });

    it('sanitizes policies like policyutil.SanitizePolicies', () => {
      expect(sanitizePolicies([' B', 'a', 'a', ''], true)).toEqual(['a', 'b', 'default']);
      expect(sanitizePolicies(['x', 'root'], true)).toEqual(['root']);
    });
  });
});
