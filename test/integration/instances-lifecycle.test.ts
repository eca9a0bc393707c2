/**
 * Container instances on a real dockerd, PostgreSQL and Redis, with the Vault double: a template
 * run to completion (statuses in order on the subscription, output captured and bounded, usage
 * sampled, container removed, token revoked, signed callback), Vault down at provisioning, an
 * OOM kill, a spec refused by the host-access policy, and cancellation.
 */
import { eventually, subscribe, TestApp } from '../support/app';
import { docker, TEST_IMAGE, uniqueName } from '../support/docker';
import { sql } from '../support/db';
import { VaultDouble } from '../support/vault-double';
import { CREATE_TEMPLATE, Instance, instanceHelpers, ON_INSTANCE, RUN, startReceiver, useInstancesSuite, verifySignature } from '../support/instances';

describe('container instances: lifecycle', () => {
  const suite = useInstancesSuite({ accountPrefix: 'inst' });
  const { uuid, get, run, ended, containersOf, tokensOf } = instanceHelpers(suite);
  let vault: VaultDouble;
  let t: TestApp;
  let token: string;
  let hostId: string;
  beforeAll(() => void ({ vault, t, token, hostId } = suite));

  async function template(input: Record<string, unknown>): Promise<string> {
    const res = await t.gql<{ createContainerTemplate: { template: { id: string } } }, unknown>(CREATE_TEMPLATE, { input: { name: uniqueName('tpl'), image: TEST_IMAGE, ...input } }, token);
    expect(res.errors).toBeUndefined();
    return res.data!.createContainerTemplate.template.id;
  }

  it('runs a template to completion: statuses in order, output, usage, container gone, token revoked, signed callback', async () => {
    const receiver = await startReceiver();
    try {
      const secretRes = await t.gql<{ rotateInstanceCallbackSecret: { secret: string } }, unknown>('mutation { rotateInstanceCallbackSecret(input: {}) { secret } }', {}, token);
      const secret = secretRes.data!.rotateInstanceCallbackSecret.secret;
      const templateId = await template({
        command: ['sh', '-c', 'echo hello; echo oops >&2; head -c 4 "$FLEETGRAPH_VAULT_TOKEN_FILE"; echo; echo "secret=$API_KEY"; head -c 5000 /dev/zero | tr "\\0" x; echo; sleep 4'],
        secretEnv: ['API_KEY=s3cr3t-value'],
        vaultPolicies: ['instance-reader'],
        outputLimitBytes: 1000,
        memoryMb: 64,
        timeoutSeconds: 120,
      });
      const client = t.ws(token);
      const sub = subscribe<{ containerInstanceUpdated: { id: string; status: string } }, unknown>(client, ON_INSTANCE, {});
      await new Promise((r) => setTimeout(r, 500));

      const res = await run({ templateId, taskId: 'task-42', callbackUrl: receiver.url });
      expect(res.errors).toBeUndefined();
      const started = res.data!.runContainerInstance.instance;
      expect(started.status).toBe('PENDING');
      expect(res.data!.runContainerInstance.activity.status).toBe('SUCCEEDED');

      // while it runs: the token file is there, the token is not in docker inspect
      const running = await eventually(async () => ((i) => (i.status === 'RUNNING' ? i : null))(await get(started.id)), 30_000);
      const [cid] = await containersOf(started.id);
      expect(cid).toBeDefined();
      const env = await docker('inspect', '-f', '{{json .Config.Env}}', cid);
      expect(env).not.toMatch(/hvs\./);
      expect(env).not.toContain('VAULT_TOKEN=');
      expect(env).toContain('FLEETGRAPH_VAULT_TOKEN_FILE=/run/fleetgraph/vault-token');
      expect(running.vaultTokenIssuedAt).toBeTruthy();
      const [issued] = tokensOf(started.id);
      expect(issued).toMatchObject({ valid: true, renewable: false, ttl: 120 + 300, explicitMaxTtl: 120 + 300, policies: ['default', 'instance-reader'] });

      const done = await ended(started.id);
      expect(done).toMatchObject({ status: 'COMPLETED', exitCode: 0, errorCode: null, hasSecurityViolations: false, taskId: 'task-42', templateVersion: 1 });
      expect(done.stdout).toMatch(/^hello\nhvs\.\nsecret=s3cr3t-value\nxxx/);
      expect(Buffer.byteLength(done.stdout as string)).toBeLessThanOrEqual(1000);
      expect(done.stdoutDroppedBytes as number).toBeGreaterThan(4000);
      expect(done.stderr).toBe('oops\n');
      expect(done.samples as number).toBeGreaterThanOrEqual(2);
      expect(done.memoryUsedMb as number).toBeGreaterThan(0);
      expect(done.memoryUsedMbLast as number).toBeGreaterThan(0);
      expect(done.cpuUsedMillicores).not.toBeNull();
      expect(done.networkBytesIn).not.toBeNull();
      expect(done.transitions.map((x) => x.status)).toEqual(['PENDING', 'PROVISIONING', 'RUNNING', 'COMPLETED']);
      for (const k of ['provisioningAt', 'startedAt', 'endedAt']) expect(done[k]).toBeTruthy();

      // container gone, token revoked (the double says so), nothing secret stored
      expect(await containersOf(started.id)).toEqual([]);
      expect(tokensOf(started.id)).toEqual([expect.objectContaining({ revoked: true, valid: false })]);
      expect(done.vaultTokenRevokedAt).toBeTruthy();
      const [row] = await sql(t.databaseUrl, 'select spec::text as spec, vault_token_accessor from container_instances where id = $1', [uuid(started.id)]);
      expect(row.spec).not.toContain('s3cr3t-value');
      expect(row.vault_token_accessor).toBe(issued.accessor);
      const [tpl] = await sql(t.databaseUrl, 'select secret_env_sealed from container_templates where id = $1', [uuid(templateId)]);
      expect(tpl.secret_env_sealed).not.toContain('s3cr3t-value');

      // statuses in order on the subscription
      await sub.until((rs) => rs.some((r) => r.data?.containerInstanceUpdated.id === started.id && r.data.containerInstanceUpdated.status === 'COMPLETED'));
      const seen = sub.results
        .map((r) => r.data!.containerInstanceUpdated)
        .filter((u) => u.id === started.id)
        .map((u) => u.status);
      expect(seen.filter((s, i) => s !== seen[i - 1])).toEqual(['PENDING', 'PROVISIONING', 'RUNNING', 'COMPLETED']);
      sub.unsubscribe();
      await client.dispose();

      // the callback, signed with the account's secret
      await eventually(async () => receiver.received.length >= 1, 20_000);
      const [cb] = receiver.received;
      expect(verifySignature(secret, cb.headers, cb.body)).toBe(true);
      expect(verifySignature('another-secret', cb.headers, cb.body)).toBe(false);
      expect(verifySignature(secret, cb.headers, cb.body.replace('COMPLETED', 'FAILED'))).toBe(false);
      expect(cb.json).toMatchObject({ instanceId: started.id, taskId: 'task-42', status: 'COMPLETED', exitCode: 0, violations: [], attempt: 1 });
      expect((cb.json.output as { stdout: string }).stdout).toMatch(/^hello/);
      expect((cb.json.usage as { memoryUsedMb: number }).memoryUsedMb).toBeGreaterThan(0);
      const after = await eventually(async () => ((i) => (i.callbackStatus === 'DELIVERED' ? i : null))(await get(started.id)));
      expect(after.callbackAttempts).toEqual([{ attempt: 1, statusCode: 204, delivered: true, error: null }]);
    } finally {
      await receiver.close();
    }
  });

  it('Vault down at provisioning: FAILED with VAULT_ERROR, no container, no token; Vault back: nothing to reap', async () => {
    const templateId = await template({ command: ['sleep', '30'], vaultPolicies: ['instance-reader'] });
    const before = vault.tokens().length;
    await vault.down();
    try {
      const res = await run({ templateId });
      expect(res.errors).toBeUndefined();
      const id = res.data!.runContainerInstance.instance.id;
      const done = await ended(id);
      expect(done).toMatchObject({ status: 'FAILED', errorCode: 'VAULT_ERROR', containerId: null, vaultTokenIssuedAt: null });
      expect(done.error).toMatch(/connection refused/);
      expect(done.transitions.map((x) => x.status)).toEqual(['PENDING', 'PROVISIONING', 'FAILED']);
      expect(done.provisioningAt).toBeTruthy();
      expect(done.startedAt).toBeNull();
      expect(await containersOf(id)).toEqual([]);
    } finally {
      await vault.up();
    }
    expect(vault.tokens().length).toBe(before);
    vault.clearCalls();
    await t.app.services.instances.instances.reap();
    expect(vault.calls.filter((c) => /revoke|lookup/.test(c.path))).toEqual([]);
    expect(await sql(t.databaseUrl, 'select id from container_instances where vault_revoke_pending')).toEqual([]);
  });

  it('Vault refusing: FAILED with VAULT_ERROR and the reason Vault gave', async () => {
    vault.refuse('permission denied');
    try {
      const res = await run({ config: { image: TEST_IMAGE, command: ['true'], vaultPolicies: ['instance-reader'] } });
      expect(res.errors).toBeUndefined();
      const done = await ended(res.data!.runContainerInstance.instance.id);
      expect(done).toMatchObject({ status: 'FAILED', errorCode: 'VAULT_ERROR', containerId: null });
      expect(done.error).toMatch(/permission denied/);
    } finally {
      vault.accept();
    }
  });

  it('a container over its memory limit: FAILED with an OOM security violation, token revoked', async () => {
    const res = await run({ config: { image: TEST_IMAGE, command: ['tail', '/dev/zero'], memoryMb: 8, vaultPolicies: ['instance-reader'], tokenDelivery: 'ENV' } });
    expect(res.errors).toBeUndefined();
    const id = res.data!.runContainerInstance.instance.id;
    const done = await ended(id, 60_000);
    expect(done).toMatchObject({ status: 'FAILED', errorCode: 'OOM_KILLED', exitCode: 137, hasSecurityViolations: true });
    expect(done.securityViolations).toEqual([expect.objectContaining({ kind: 'OOM_KILLED', details: expect.objectContaining({ memoryLimitMb: 8 }) })]);
    expect(tokensOf(id)).toEqual([expect.objectContaining({ revoked: true })]);
    expect(await containersOf(id)).toEqual([]);
    const list = await t.gql<{ securityViolations: { nodes: Array<{ kind: string }> } }, unknown>(`query($id: ID) { securityViolations(instanceId: $id) { nodes { kind } } }`, { id }, token);
    expect(list.data!.securityViolations.nodes).toEqual([{ kind: 'OOM_KILLED' }]);
  });

  it('Vault policies the operator did not grant the account are refused, for templates and runs, and nothing is created', async () => {
    const before = vault.tokens().length;
    const tpl = await t.gql<unknown, unknown>(CREATE_TEMPLATE, { input: { name: uniqueName('tpl'), image: TEST_IMAGE, vaultPolicies: ['other-tenant-secrets'] } }, token);
    expect(tpl.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'vaultPolicies' });
    const res = await run({ config: { image: TEST_IMAGE, command: ['true'], vaultPolicies: ['instance-reader', 'other-tenant-secrets'] } });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'config.vaultPolicies' });
    expect(res.errors?.[0]?.message).toContain('other-tenant-secrets');
    expect(vault.tokens().length).toBe(before);
  });

  it('a spec the host-access policy refuses is recorded (FAILED, POLICY_REFUSED), not run', async () => {
    const res = await run({ config: { image: TEST_IMAGE, command: ['true'], network: 'host' } });
    expect(res.errors).toBeUndefined();
    const i = res.data!.runContainerInstance.instance;
    expect(i).toMatchObject({ status: 'FAILED', errorCode: 'FORBIDDEN', hasSecurityViolations: true, containerId: null });
    expect(i.securityViolations).toEqual([expect.objectContaining({ kind: 'POLICY_REFUSED' })]);
    expect(await containersOf(i.id)).toEqual([]);
    // templates pass the policy when saved
    const tpl = await t.gql(CREATE_TEMPLATE, { input: { name: uniqueName('tpl'), image: TEST_IMAGE, network: 'host' } }, token);
    expect(tpl.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('cancels a running instance: CANCELLED, container removed, token revoked', async () => {
    const res = await run({ config: { image: TEST_IMAGE, command: ['sleep', '300'], vaultPolicies: ['instance-reader'] } });
    const id = res.data!.runContainerInstance.instance.id;
    await eventually(async () => (await get(id)).status === 'RUNNING', 30_000);
    const cancel = await t.gql<{ cancelContainerInstance: { instance: Instance } }, unknown>(
      `mutation($id: ID!) { cancelContainerInstance(input: { id: $id }) { instance { id status } } }`,
      { id },
      token,
    );
    expect(cancel.errors).toBeUndefined();
    expect(cancel.data!.cancelContainerInstance.instance.status).toBe('CANCELLED');
    expect(await containersOf(id)).toEqual([]);
    expect(tokensOf(id)).toEqual([expect.objectContaining({ revoked: true })]);
    const again = await t.gql(`mutation($id: ID!) { cancelContainerInstance(input: { id: $id }) { instance { id } } }`, { id }, token);
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    // manual cleanup is idempotent
    const cleanup = await t.gql<{ cleanupVaultToken: { revoked: boolean; alreadyGone: boolean } }, unknown>(
      `mutation($id: ID!) { cleanupVaultToken(input: { instanceId: $id }) { revoked alreadyGone } }`,
      { id },
      token,
    );
    expect(cleanup.data!.cleanupVaultToken).toEqual({ revoked: true, alreadyGone: true });
  });

  it('Vault down when the instance ends: the reaper revokes the token when Vault is back (TOKEN_VALID_AFTER_END)', async () => {
    const res = await run({ config: { image: TEST_IMAGE, command: ['sleep', '3'], vaultPolicies: ['instance-reader'] } });
    const id = res.data!.runContainerInstance.instance.id;
    await eventually(async () => (await get(id)).status === 'RUNNING', 30_000);
    await vault.down();
    let done: Instance;
    try {
      done = await ended(id);
      expect(done).toMatchObject({ status: 'COMPLETED', vaultTokenRevokedAt: null });
      expect(await sql(t.databaseUrl, 'select vault_revoke_pending as p from container_instances where id = $1', [uuid(id)])).toEqual([{ p: true }]);
      await t.app.services.instances.instances.reap(); // Vault still down: stays pending
      expect(tokensOf(id)).toEqual([expect.objectContaining({ revoked: false, valid: true })]);
    } finally {
      await vault.up();
    }
    await t.app.services.instances.instances.reap();
    expect(tokensOf(id)).toEqual([expect.objectContaining({ revoked: true })]);
    done = await get(id);
    expect(done.vaultTokenRevokedAt).toBeTruthy();
    expect(done).toMatchObject({ hasSecurityViolations: true, securityViolations: [expect.objectContaining({ kind: 'TOKEN_VALID_AFTER_END' })] });
    expect(await sql(t.databaseUrl, 'select vault_revoke_pending as p from container_instances where id = $1', [uuid(id)])).toEqual([{ p: false }]);
  });

  it('picks a CONNECTED host with room when none is given, and keeps the container when asked', async () => {
    await eventually(
      async () => (await t.gql<{ dockerHost: { status: string } }, unknown>(`query($id: ID!) { dockerHost(id: $id) { status } }`, { id: hostId }, token)).data?.dockerHost.status === 'CONNECTED',
      30_000,
    );
    const res = await t.gql<{ runContainerInstance: { instance: { id: string; host: { id: string } } } }, unknown>(
      `mutation($input: RunContainerInstanceInput!) { runContainerInstance(input: $input) { instance { id host { id } } } }`,
      { input: { keepContainer: true, config: { image: TEST_IMAGE, command: ['true'], memoryMb: 16, env: ['APP_SETTING=kept-value-123'] } } },
      token,
    );
    expect(res.errors).toBeUndefined();
    const { id, host } = res.data!.runContainerInstance.instance;
    expect(host.id).toBe(hostId);
    const done = await ended(id);
    expect(done.status).toBe('COMPLETED');
    const kept = await containersOf(id);
    expect(kept).toHaveLength(1);
    // a kept instance container's environment is shown by name only
    const inspected = await eventually(async () => {
      const r = await t.gql<{ dockerHost: { containers: { nodes: Array<{ inspect: { Config: { Env: string[] } } }> } } }, unknown>(
        `query($id: ID!, $label: String!) { dockerHost(id: $id) { containers(first: 1, filter: { label: $label }) { nodes { inspect } } } }`,
        { id: hostId, label: `fleetgraph.instance=${uuid(id)}` },
        token,
      );
      return r.data?.dockerHost.containers.nodes[0]?.inspect;
    });
    expect(inspected.Config.Env).toContain('APP_SETTING=[redacted]');
    expect(JSON.stringify(inspected)).not.toContain('kept-value-123');
    await docker('rm', '-f', ...kept);
    // no host has that much memory free
    const tooBig = await t.gql(RUN, { input: { config: { image: TEST_IMAGE, command: ['true'], memoryMb: 1024 * 1024 } } }, token);
    expect(tooBig.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'memoryMb' });
  });

  it('refuses callbacks to addresses outside the allow-list, and runs without the permission are FORBIDDEN', async () => {
    await t.gql('mutation { rotateInstanceCallbackSecret(input: {}) { secret } }', {}, token);
    const res = await run({ config: { image: TEST_IMAGE, command: ['true'] }, callbackUrl: 'http://10.1.2.3/hook' });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'callbackUrl' });
    const reader = await t.token({ account: 'someone-else', permissions: [] });
    const denied = await t.gql(RUN, { input: { config: { image: TEST_IMAGE } } }, reader);
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
