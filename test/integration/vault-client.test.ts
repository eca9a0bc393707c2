/**
 * src/infra/vault.ts (node-vault over real HTTP) against the Vault double: the token lifecycle,
 * idempotent revocation, fast failures with Vault's reason, and no secret in any error.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { loadConfig } from '../../src/app/config';
import { DEFAULT_VAULT_TIMEOUT_MS, VaultConfig } from '../../src/kernel/config';
import { AppError, ErrorCode } from '../../src/kernel/errors';
import { redact } from '../../src/kernel/redact';
import { createVaultClient, InstanceTokenRequest, vaultReasons } from '../../src/infra/vault';
import { VaultDouble } from '../support/vault-double';

const request: InstanceTokenRequest = { policies: ['instance-a'], ttlSeconds: 120, explicitMaxTtlSeconds: 150, meta: { fleetgraph_instance: 'inst-1', account: 'acc-1' } };

/** The rejection of `promise` (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(AppError);
  return outcome.error as AppError;
}

/** Everything an error could expose: message, extensions, stack, JSON form, its redacted log form, and every property (hidden ones too, e.g. originalError/cause). */
function exposed(err: AppError): string {
  return [
    err.message,
    JSON.stringify(err.extensions),
    err.stack ?? '',
    JSON.stringify(err),
    JSON.stringify(redact(err)),
    inspect(err, { showHidden: true, depth: 10, maxStringLength: null, maxArrayLength: null }),
  ].join('\n');
}

describe('Vault client (src/infra/vault.ts) against the Vault double', () => {
  let double: VaultDouble;
  let config: VaultConfig;
  const secrets: string[] = [];

  beforeEach(async () => {
    double = await VaultDouble.start({
      policies: { 'instance-a': ['secret/data/a/*'], 'instance-b': [], fleetgraph: ['auth/token/create', 'auth/token/create/*', 'auth/token/lookup-accessor', 'auth/token/revoke-accessor'] },
      roles: { 'fleetgraph-instance': { allowedPolicies: ['instance-a'], renewable: false, tokenExplicitMaxTtlSeconds: 100 } },
    });
    config = { addr: double.url, token: double.rootToken, requestTimeoutMs: DEFAULT_VAULT_TIMEOUT_MS };
    secrets.length = 0;
    secrets.push(double.rootToken);
  });

  afterEach(async () => {
    await double.close();
  });

  /** No token (fleetgraph's or an instance's) anywhere in what the error exposes. */
  function expectNoSecret(err: AppError): void {
    const text = exposed(err);
    for (const s of secrets) expect(text).not.toContain(s);
  }

  it('create → lookup → revoke → lookup says gone', async () => {
    const vault = createVaultClient(config);
    const created = await vault.createInstanceToken(request);
    secrets.push(created.token);
    expect(created).toMatchObject({ leaseDurationSeconds: 120, policies: ['default', 'instance-a'], warnings: [] });
    expect(created.token).toMatch(/^hvs\./);

    // what went over the wire: not renewable, ttl and an explicit max, the metadata, fleetgraph's token
    const [call] = double.calls;
    expect(call).toMatchObject({ method: 'POST', path: '/v1/auth/token/create', status: 200, callerAccessor: double.rootAccessor });
    expect(call.body).toEqual({ policies: ['instance-a'], ttl: '120s', explicit_max_ttl: '150s', renewable: false, meta: { fleetgraph_instance: 'inst-1', account: 'acc-1' } });
    expect(double.token(created.accessor)).toMatchObject({ valid: true, renewable: false, ttl: 120, explicitMaxTtl: 150, orphan: false, meta: request.meta });

    const status = await vault.lookupAccessor(created.accessor);
    expect(status).toMatchObject({ valid: true, policies: ['default', 'instance-a'], meta: request.meta });
    expect(status!.expireTime!.getTime()).toBeGreaterThan(Date.now() + 100_000);
    expect(status!.expireTime!.getTime()).toBeLessThanOrEqual(Date.now() + 120_000);

    expect(await vault.revokeAccessor(created.accessor)).toEqual({ alreadyGone: false });
    expect(double.token(created.accessor)).toMatchObject({ revoked: true, valid: false });
    expect(await vault.lookupAccessor(created.accessor)).toBeNull();
    // the token itself no longer works
    const res = await fetch(`${double.url}/v1/auth/token/lookup-self`, { headers: { 'x-vault-token': created.token } });
    expect(res.status).toBe(403);
  });

  it('revoking twice is fine, and so is an accessor Vault never knew (Vault >= 1.10 and older)', async () => {
    const vault = createVaultClient(config);
    const { accessor, token } = await vault.createInstanceToken(request);
    secrets.push(token);
    expect(await vault.revokeAccessor(accessor)).toEqual({ alreadyGone: false });
    expect(await vault.revokeAccessor(accessor)).toEqual({ alreadyGone: true });
    expect(await vault.revokeAccessor('UnknownAccessor0123456789')).toEqual({ alreadyGone: true });

    const legacy = await VaultDouble.start({ revokeUnknownAccessor: 'invalid-accessor' });
    try {
      const old = createVaultClient({ ...config, addr: legacy.url, token: legacy.rootToken });
      expect(await old.revokeAccessor('UnknownAccessor0123456789')).toEqual({ alreadyGone: true });
      expect(legacy.calls.map((c) => c.status)).toEqual([400]);
    } finally {
      await legacy.close();
    }
  });

  it('a token past its ttl: lookup says gone, revoke says already gone', async () => {
    const vault = createVaultClient(config);
    const { accessor, token } = await vault.createInstanceToken({ ...request, ttlSeconds: 1, explicitMaxTtlSeconds: 1 });
    secrets.push(token);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await vault.lookupAccessor(accessor)).toBeNull();
    expect(await vault.revokeAccessor(accessor)).toEqual({ alreadyGone: true });
  });

  it('Vault down → VAULT_ERROR in well under 2 s with the reason; back up → works', async () => {
    const vault = createVaultClient(config);
    await double.down();
    for (const attempt of [
      () => vault.createInstanceToken(request),
      () => vault.revokeAccessor('SomeAccessor0123456789'),
      () => vault.lookupAccessor('SomeAccessor0123456789'),
      () => vault.health(),
    ]) {
      const started = Date.now();
      const err = await rejection(attempt());
      expect(Date.now() - started).toBeLessThan(2000);
      expect(err.code).toBe(ErrorCode.VAULT_ERROR);
      expect(err.message).toMatch(/^Vault is unreachable at http:\/\/127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)/);
      expect(err.extensions.reason).toBe('connection refused (ECONNREFUSED)');
      expectNoSecret(err);
    }
    await double.up();
    expect((await vault.health()).ready).toBe(true);
  });

  it('Vault hanging → VAULT_ERROR at the request timeout', async () => {
    const vault = createVaultClient({ ...config, requestTimeoutMs: 400 });
    double.hang();
    const started = Date.now();
    const err = await rejection(vault.createInstanceToken(request));
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(2000);
    expect(err.code).toBe(ErrorCode.VAULT_ERROR);
    expect(err.extensions.reason).toMatch(/timed out/);
    expectNoSecret(err);
  });

  it("Vault refusing → VAULT_ERROR with Vault's reason and status", async () => {
    const vault = createVaultClient(config);
    double.refuse('permission denied', 403);
    let err = await rejection(vault.createInstanceToken(request));
    expect(err.message).toBe('Vault refused to create the instance token: permission denied');
    expect(err.extensions).toMatchObject({ code: ErrorCode.VAULT_ERROR, reason: 'permission denied', vaultStatus: 403 });
    expectNoSecret(err);

    double.refuse('1 error occurred:\n\t* internal error\n\n', 500);
    err = await rejection(vault.lookupAccessor('SomeAccessor0123456789'));
    expect(err.extensions).toMatchObject({ reason: 'internal error', vaultStatus: 500 });

    double.accept();
    double.sealed();
    err = await rejection(vault.revokeAccessor('SomeAccessor0123456789'));
    expect(err.extensions).toMatchObject({ reason: 'Vault is sealed', vaultStatus: 503 });
    expect(await vault.health()).toEqual({ initialized: true, sealed: true, standby: false, version: '1.18.0', ready: false });
  });

  it('cuts a token Vault (or a proxy) echoes back out of the reason', async () => {
    const vault = createVaultClient(config);
    double.refuse(`bad token ${double.rootToken} in request`, 400);
    const err = await rejection(vault.createInstanceToken(request));
    expect(err.extensions.reason).toBe('bad token [redacted] in request');
    expectNoSecret(err);
  });

  it("fleetgraph's own token revoked or wrong → VAULT_ERROR permission denied / invalid token", async () => {
    const vault = createVaultClient({ ...config, token: 'hvs.NotATokenVaultKnows00' });
    secrets.push('hvs.NotATokenVaultKnows00');
    const err = await rejection(vault.createInstanceToken(request));
    expect(err.extensions).toMatchObject({ reason: 'permission denied; invalid token', vaultStatus: 403 });
    expectNoSecret(err);
  });

  it('a non-root fleetgraph token: the child-policy subset rule reaches the caller as VAULT_ERROR', async () => {
    const res = await fetch(`${double.url}/v1/auth/token/create`, {
      method: 'POST',
      headers: { 'x-vault-token': double.rootToken },
      body: JSON.stringify({ policies: ['fleetgraph', 'instance-a'], ttl: '1h' }),
    });
    const own = ((await res.json()) as any).auth;
    secrets.push(own.client_token);
    const vault = createVaultClient({ ...config, token: own.client_token });
    const ok = await vault.createInstanceToken(request);
    secrets.push(ok.token);
    expect(double.token(ok.accessor)).toMatchObject({ parentAccessor: own.accessor, valid: true });
    const err = await rejection(vault.createInstanceToken({ ...request, policies: ['instance-b'] }));
    expect(err.message).toBe('Vault refused to create the instance token: child policies must be subset of parent');
    expectNoSecret(err);
    // revoking fleetgraph's token takes its instance tokens with it
    await fetch(`${double.url}/v1/auth/token/revoke-accessor`, { method: 'POST', headers: { 'x-vault-token': double.rootToken }, body: JSON.stringify({ accessor: own.accessor }) });
    expect(double.token(ok.accessor)).toMatchObject({ valid: false });
  });

  it('creates against the token role (configured or per request) and reports the capped TTL', async () => {
    const vault = createVaultClient({ ...config, tokenRole: 'fleetgraph-instance' });
    const created = await vault.createInstanceToken({ ...request, ttlSeconds: 300, explicitMaxTtlSeconds: 300 });
    secrets.push(created.token);
    expect(double.calls[0].path).toBe('/v1/auth/token/create/fleetgraph-instance');
    expect(created.leaseDurationSeconds).toBe(100);
    expect(created.warnings).toHaveLength(2);
    expect(double.token(created.accessor)).toMatchObject({ role: 'fleetgraph-instance', explicitMaxTtl: 100 });
    const err = await rejection(vault.createInstanceToken({ ...request, role: 'missing-role' }));
    expect(err.extensions).toMatchObject({ reason: 'unknown role missing-role', vaultStatus: 400 });
  });

  it('reads the token file on every call (a rotating Vault Agent sink) and fails clearly without it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-vault-'));
    const file = path.join(dir, 'token');
    try {
      fs.writeFileSync(file, `${double.rootToken}\n`);
      const vault = createVaultClient({ addr: double.url, tokenFile: file, requestTimeoutMs: 2000 });
      const first = await vault.createInstanceToken(request);
      secrets.push(first.token);
      // rotate: the file now holds another token (a child of root allowed to create tokens)
      const res = await fetch(`${double.url}/v1/auth/token/create`, {
        method: 'POST',
        headers: { 'x-vault-token': double.rootToken },
        body: JSON.stringify({ policies: ['fleetgraph', 'instance-a'] }),
      });
      const rotated = ((await res.json()) as any).auth;
      secrets.push(rotated.client_token);
      fs.writeFileSync(file, rotated.client_token);
      const second = await vault.createInstanceToken(request);
      secrets.push(second.token);
      expect(double.calls.filter((c) => c.path === '/v1/auth/token/create').map((c) => c.callerAccessor)).toEqual([double.rootAccessor, double.rootAccessor, rotated.accessor]);
      fs.rmSync(file);
      const err = await rejection(vault.createInstanceToken(request));
      expect(err.code).toBe(ErrorCode.VAULT_ERROR);
      expect(err.extensions.reason).toBe('token file unreadable (ENOENT)');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses questionable requests before reaching Vault (fail closed)', async () => {
    const vault = createVaultClient(config);
    for (const bad of [
      { ...request, policies: [] }, // Vault would give the child fleetgraph's own policies
      { ...request, policies: ['root'] },
      { ...request, policies: ['a,b'] },
      { ...request, ttlSeconds: 0 },
      { ...request, ttlSeconds: 1.5 },
      { ...request, explicitMaxTtlSeconds: 60 }, // below the ttl
      { ...request, meta: { 'bad key': 'x' } },
      { ...request, role: '../sys/seal' },
    ]) {
      const err = await rejection(vault.createInstanceToken(bad));
      expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
    }
    expect((await rejection(vault.revokeAccessor('../x'))).code).toBe(ErrorCode.BAD_USER_INPUT);
    expect(double.calls).toEqual([]);
  });

  it('ignores VAULT_TOKEN / VAULT_SKIP_VERIFY-style ambient variables: only the configuration counts', async () => {
    const saved = process.env.VAULT_TOKEN;
    process.env.VAULT_TOKEN = double.rootToken;
    try {
      const vault = createVaultClient({ addr: double.url, token: 'hvs.WrongTokenOnPurpose000', requestTimeoutMs: 2000 });
      secrets.push('hvs.WrongTokenOnPurpose000');
      const err = await rejection(vault.createInstanceToken(request));
      expect(err.extensions.vaultStatus).toBe(403);
    } finally {
      if (saved === undefined) delete process.env.VAULT_TOKEN;
      else process.env.VAULT_TOKEN = saved;
    }
  });

  it('takes the items out of Vault multierror bodies', () => {
    expect(vaultReasons({ errors: ['2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n'] })).toEqual(['permission denied', 'invalid token']);
    expect(vaultReasons({ errors: ['plain'] })).toEqual(['plain']);
    expect(vaultReasons('<html>')).toEqual([]);
  });
});

describe('loadConfig: the vault section', () => {
  const base = { NODE_ENV: 'development' };

  it('reads the per-account policy grants, and refuses grants that are not a JSON object of name lists', () => {
    const env = { ...base, VAULT_ADDR: 'https://vault.example:8200', VAULT_TOKEN: 't' };
    expect(loadConfig({ ...env, FLEETGRAPH_VAULT_ACCOUNT_POLICIES: '{"acme": ["acme-read"], "*": ["shared"]}' }).vault?.accountPolicies).toEqual({ acme: ['acme-read'], '*': ['shared'] });
    for (const bad of ['[1]', '{"acme": "acme-read"}', '{"acme": [""]}', 'not json']) {
      expect(() => loadConfig({ ...env, FLEETGRAPH_VAULT_ACCOUNT_POLICIES: bad })).toThrow(/FLEETGRAPH_VAULT_ACCOUNT_POLICIES/);
    }
  });

  it('is absent without VAULT_ADDR and complete with it', () => {
    expect(loadConfig(base).vault).toBeUndefined();
    expect(loadConfig({ ...base, VAULT_ADDR: 'https://vault.example:8200/', VAULT_TOKEN: 't0ken-value', VAULT_NAMESPACE: 'team-a', FLEETGRAPH_VAULT_TOKEN_ROLE: 'fleetgraph-instance' }).vault).toEqual(
      {
        accountPolicies: {},
        addr: 'https://vault.example:8200',
        token: 't0ken-value',
        tokenFile: undefined,
        namespace: 'team-a',
        tokenRole: 'fleetgraph-instance',
        requestTimeoutMs: DEFAULT_VAULT_TIMEOUT_MS,
      },
    );
  });

  it('prefers the token file, and refuses a missing token, credentials in the URL or a bad role', () => {
    expect(loadConfig({ ...base, VAULT_ADDR: 'http://vault:8200', VAULT_TOKEN: 'x', FLEETGRAPH_VAULT_TOKEN_FILE: '/run/vault/token' }).vault).toMatchObject({
      token: undefined,
      tokenFile: '/run/vault/token',
    });
    expect(() => loadConfig({ ...base, VAULT_ADDR: 'http://vault:8200' })).toThrow(/VAULT_TOKEN or FLEETGRAPH_VAULT_TOKEN_FILE/);
    expect(() => loadConfig({ ...base, VAULT_ADDR: 'http://u:p@vault:8200', VAULT_TOKEN: 'x' })).toThrow(/without credentials/);
    expect(() => loadConfig({ ...base, VAULT_ADDR: 'vault:8200', VAULT_TOKEN: 'x' })).toThrow(/VAULT_ADDR/);
    expect(() => loadConfig({ ...base, VAULT_ADDR: 'http://vault:8200', VAULT_TOKEN: 'x', FLEETGRAPH_VAULT_TOKEN_ROLE: 'a/b' })).toThrow(/FLEETGRAPH_VAULT_TOKEN_ROLE/);
  });
});
