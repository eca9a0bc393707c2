import { ViewerDocument } from '../../src/generated/graphql';
import { startTestApp, TestApp, TEST_JWT_SECRET } from '../support/app';
import { makeSigningKey, signHs256, signWith, startJwksServer, unsignedToken, SigningKey } from '../support/jwks';
import { sql } from '../support/db';

const now = () => Math.floor(Date.now() / 1000);

describe('auth over HTTP with HS256 (FLEETGRAPH_JWT_SECRET)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ redis: false });
  });
  afterAll(() => t?.stop());

  it('accepts a valid HS256 token and answers the viewer from its claims', async () => {
    const token = await signHs256(TEST_JWT_SECRET, { sub: 'alice', account: 'hs-valid', permissions: ['p.one'] });
    const res = await t.gql(ViewerDocument, {}, token);
    expect(res.errors).toBeUndefined();
    expect(res.status).toBe(200);
    expect(res.data?.viewer).toMatchObject({ user: { subject: 'alice' }, account: { name: 'hs-valid' }, permissions: ['p.one'] });
  });

  it('rejects an expired token with UNAUTHENTICATED (HTTP 401)', async () => {
    const token = await signHs256(TEST_JWT_SECRET, { sub: 'alice', account: 'hs-expired', permissions: [], exp: now() - 120 });
    const res = await t.gql(ViewerDocument, {}, token);
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.data ?? null).toBeNull();
    expect(res.status).toBe(401);
  });

  it('rejects an unsigned alg:none token with UNAUTHENTICATED', async () => {
    const token = unsignedToken({ sub: 'mallory', account: 'hs-none', permissions: ['docker.hosts.manage'], iat: now(), exp: now() + 3600 });
    const res = await t.gql(ViewerDocument, {}, token);
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.data ?? null).toBeNull();
  });

  it('rejects a token signed with a different secret with UNAUTHENTICATED', async () => {
    const token = await signHs256('another-secret-that-is-long-enough-0123456789', { sub: 'mallory', account: 'hs-wrong', permissions: [] });
    const res = await t.gql(ViewerDocument, {}, token);
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.data ?? null).toBeNull();
  });

  it('rejects a token whose payload was altered after signing', async () => {
    const token = await signHs256(TEST_JWT_SECRET, { sub: 'alice', account: 'hs-tamper', permissions: [] });
    const [h, , s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'alice', account: 'hs-tamper', permissions: ['docker.hosts.manage'], exp: now() + 3600 })).toString('base64url');
    const res = await t.gql(ViewerDocument, {}, `${h}.${forged}.${s}`);
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('rejects an RS256 token when the server is configured for HS256 (algorithm pinned)', async () => {
    const key = await makeSigningKey('RS256', 'k-rs');
    const token = await signWith(key, { sub: 'alice', account: 'hs-rs', permissions: [] });
    const res = await t.gql(ViewerDocument, {}, token);
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('rejects a token without an account claim', async () => {
    const token = await signHs256(TEST_JWT_SECRET, { sub: 'alice', permissions: [] });
    const res = await t.gql(ViewerDocument, {}, token);
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.data ?? null).toBeNull();
  });

  it('rejects a token without a subject', async () => {
    const token = await signHs256(TEST_JWT_SECRET, { account: 'hs-nosub', permissions: [] });
    const res = await t.gql(ViewerDocument, {}, token);
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('rejects a token whose permissions claim is not a list of strings', async () => {
    const token = await signHs256(TEST_JWT_SECRET, { sub: 'alice', account: 'hs-perm', permissions: 'docker.hosts.manage' });
    const res = await t.gql(ViewerDocument, {}, token);
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('rejects an Authorization header that is not a bearer token', async () => {
    const token = await t.token({ account: 'hs-basic' });
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${token}` },
      body: JSON.stringify({ query: '{ viewer { permissions } }' }),
    });
    const body = (await res.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
    expect(body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('creates the account and user rows on first sight of a valid token, once', async () => {
    const account = `first-sight-${Date.now()}`;
    const count = async () => {
      const [a] = await sql<{ n: string }>(t.databaseUrl, 'select count(*)::text as n from accounts where name = $1', [account]);
      const [u] = await sql<{ n: string }>(t.databaseUrl, 'select count(*)::text as n from users u join accounts a on a.id = u.account_id where a.name = $1', [account]);
      return { accounts: Number(a.n), users: Number(u.n) };
    };
    expect(await count()).toEqual({ accounts: 0, users: 0 });
    const token = await t.token({ account, subject: 'first' });
    const one = await t.gql(ViewerDocument, {}, token);
    expect(one.errors).toBeUndefined();
    expect(await count()).toEqual({ accounts: 1, users: 1 });
    const two = await t.gql(ViewerDocument, {}, token);
    expect(two.data?.viewer.user.id).toBe(one.data?.viewer.user.id);
    expect(two.data?.viewer.account.id).toBe(one.data?.viewer.account.id);
    expect(await count()).toEqual({ accounts: 1, users: 1 });
    // a second subject joins the same account
    const other = await t.gql(ViewerDocument, {}, await t.token({ account, subject: 'second' }));
    expect(other.data?.viewer.account.id).toBe(one.data?.viewer.account.id);
    expect(other.data?.viewer.user.id).not.toBe(one.data?.viewer.user.id);
    expect(await count()).toEqual({ accounts: 1, users: 2 });
  });

  it('creates no rows for a rejected token', async () => {
    const account = `rejected-${Date.now()}`;
    const token = await signHs256(TEST_JWT_SECRET, { sub: 'x', account, permissions: [], exp: now() - 120 });
    await t.gql(ViewerDocument, {}, token);
    const rows = await sql(t.databaseUrl, 'select id from accounts where name = $1', [account]);
    expect(rows).toHaveLength(0);
  });
});

describe('auth over HTTP with a JWKS (RS256 / ES256)', () => {
  const ISSUER = 'https://idp.fleetgraph.test/';
  let t: TestApp;
  let jwks: Awaited<ReturnType<typeof startJwksServer>>;
  let rs: SigningKey;
  let es: SigningKey;
  let stranger: SigningKey;

  beforeAll(async () => {
    rs = await makeSigningKey('RS256', 'rs-1');
    es = await makeSigningKey('ES256', 'es-1');
    stranger = await makeSigningKey('RS256', 'rs-1'); // same kid, key not published
    jwks = await startJwksServer([rs, es]);
    t = await startTestApp({ redis: false, env: { FLEETGRAPH_JWT_SECRET: '', FLEETGRAPH_JWKS_URL: jwks.url, FLEETGRAPH_JWT_ISSUER: ISSUER } });
  });
  afterAll(async () => {
    await t?.stop();
    await jwks?.close();
  });

  it('accepts an RS256 token signed by a key in the JWKS', async () => {
    const token = await signWith(rs, { sub: 'rs-user', account: 'jwks-rs', permissions: ['a'], iss: ISSUER });
    const res = await t.gql(ViewerDocument, {}, token);
    expect(res.errors).toBeUndefined();
    expect(res.data?.viewer).toMatchObject({ user: { subject: 'rs-user' }, account: { name: 'jwks-rs' }, permissions: ['a'] });
    expect(jwks.requests()).toBeGreaterThan(0);
  });

  it('accepts an ES256 token signed by a key in the JWKS', async () => {
    const token = await signWith(es, { sub: 'es-user', account: 'jwks-es', permissions: ['b'], iss: ISSUER });
    const res = await t.gql(ViewerDocument, {}, token);
    expect(res.errors).toBeUndefined();
    expect(res.data?.viewer).toMatchObject({ user: { subject: 'es-user' }, account: { name: 'jwks-es' }, permissions: ['b'] });
  });

  it('rejects an HS256 token when configured for JWKS', async () => {
    const token = await signHs256(TEST_JWT_SECRET, { sub: 'hs-user', account: 'jwks-hs', permissions: [], iss: ISSUER });
    const res = await t.gql(ViewerDocument, {}, token);
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.data ?? null).toBeNull();
  });

  it('rejects an HS256 token keyed with the published public key (algorithm confusion)', async () => {
    const token = await signHs256(JSON.stringify(rs.publicJwk), { sub: 'hs-user', account: 'jwks-confused', permissions: [], iss: ISSUER });
    const res = await t.gql(ViewerDocument, {}, token);
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('rejects an RS256 token signed by a key that is not in the JWKS', async () => {
    const token = await signWith(stranger, { sub: 'rs-user', account: 'jwks-stranger', permissions: [], iss: ISSUER });
    const res = await t.gql(ViewerDocument, {}, token);
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('rejects an unsigned alg:none token', async () => {
    const token = unsignedToken({ sub: 'm', account: 'jwks-none', permissions: [], iss: ISSUER, exp: now() + 3600 });
    const res = await t.gql(ViewerDocument, {}, token);
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('rejects an expired RS256 token', async () => {
    const token = await signWith(rs, { sub: 'rs-user', account: 'jwks-expired', permissions: [], iss: ISSUER, exp: now() - 120 });
    const res = await t.gql(ViewerDocument, {}, token);
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('rejects a token from another issuer when FLEETGRAPH_JWT_ISSUER is set', async () => {
    const token = await signWith(rs, { sub: 'rs-user', account: 'jwks-iss', permissions: [], iss: 'https://evil.example/' });
    const res = await t.gql(ViewerDocument, {}, token);
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('rejects an RS256 token without an account claim', async () => {
    const token = await signWith(rs, { sub: 'rs-user', permissions: [], iss: ISSUER });
    const res = await t.gql(ViewerDocument, {}, token);
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});
