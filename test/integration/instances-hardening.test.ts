/**
 * Container instances, hardening after review (real dockerd, PostgreSQL, Redis; the Vault double):
 * one ending per instance (timeout vs cancel vs the reaper), output kept out of the row and
 * bounded while counted exactly, the operator's quota ceiling and what refusals store, host
 * removed or lost, a token whose accessor could not be stored, the reaper chain surviving a
 * broken reschedule, audit rows of quota and callback-secret changes, secret env of the version
 * an instance started from, and a container killed from outside (KILLED_BY_SIGNAL).
 */
import Docker from 'dockerode';
import { ContainerInstance } from '../../entities';
import { eventually, testEndpointAllow, TestApp } from '../support/app';
import { docker, dockerSocket, TEST_IMAGE, uniqueName } from '../support/docker';
import { sql } from '../support/db';
import { forwarder } from '../support/proxy';
import { CREATE_TEMPLATE, INSTANCE_PERMISSIONS, instanceHelpers, startReceiver, useInstancesSuite } from '../support/instances';
import { toGlobalId } from '../../src/kernel/ids';
import pino from 'pino';
import { allowance } from '../../src/kernel/operation';
import { systemScope } from '../../src/platform/system-scope';

/** Ignores SIGTERM (busybox sleep as PID 1): a stop lasts the whole grace period, a wide window for races. */
const STUBBORN = ['sleep', '600'];
/** Exits at once on SIGTERM. */
const SLEEPER = ['sh', '-c', 'trap "exit 0" TERM; sleep 600 & wait'];
const CEILING = { concurrent: 4, memoryMb: 2048, cpuMillicores: 8000 };

describe('container instances: hardening', () => {
  const suite = useInstancesSuite({
    accountPrefix: 'hard',
    env: { FLEETGRAPH_ENDPOINT_ALLOW: testEndpointAllow('127.0.0.1') },
    config: {
      instanceQuotaMax: CEILING,
      instances: { hostLostAfterMs: 3000, reapIntervalSeconds: 1, wrapUpLeaseMs: 4000, refusedInstancesKept: 3, callbackRetryDelaySeconds: 1, stopGraceSeconds: 3 },
    },
  });
  const { uuid, get, run, ended, running, containersOf, tokensOf } = instanceHelpers(suite);
  let t: TestApp;
  let token: string;
  beforeAll(() => void ({ t, token } = suite));

  const instances = () => t.app.services.instances.instances;
  const accountId = async () => (await sql<{ id: string }>(t.databaseUrl, 'select id from accounts where name = $1', [suite.account]))[0].id;
  const activities = (targetId: string, actions: string[]) =>
    sql<{ action: string }>(t.databaseUrl, 'select action from docker_activities where target_id = $1 and action = any($2) order by started_at', [targetId, actions]);
  const cancel = (id: string) => t.gql(`mutation($id: ID!) { cancelContainerInstance(input: { id: $id }) { instance { id status } } }`, { id }, token);
  const rotateSecret = async () =>
    (await t.gql<{ rotateInstanceCallbackSecret: { secret: string } }, unknown>('mutation { rotateInstanceCallbackSecret(input: {}) { secret } }', {}, token)).data!.rotateInstanceCallbackSecret
      .secret;

  async function started(input: Record<string, unknown>): Promise<string> {
    const res = await run(input);
    expect(res.errors).toBeUndefined();
    const id = res.data!.runContainerInstance.instance.id;
    await running(id);
    return id;
  }

  it('timeout, cancel and the reaper racing: exactly one terminal status, one audit row, one callback', async () => {
    const receiver = await startReceiver();
    try {
      await rotateSecret();
      const id = await started({ callbackUrl: receiver.url, config: { image: TEST_IMAGE, command: STUBBORN, timeoutSeconds: 600, vaultPolicies: ['instance-reader'] } });
      const account = await accountId();

      // the cancel claims the ending and wraps up (a stop of ~3 s: the container ignores SIGTERM) ...
      const cancelled = cancel(id);
      await eventually(async () => (await sql(t.databaseUrl, 'select ending from container_instances where id = $1', [uuid(id)]))[0].ending !== null, 10_000, 20);
      // ... while the durable timeout job fires (the deadline long past) and the reaper finds the runner quiet
      await sql(t.databaseUrl, "update container_instances set deadline = now() - interval '1 hour', heartbeat_at = now() - interval '1 hour' where id = $1", [uuid(id)]);
      await Promise.all([instances().onTimeout({ accountId: account, instanceId: uuid(id) }), instances().reap(), instances().reap()]);
      await cancelled;

      const done = await ended(id);
      expect(done.status).toBe('CANCELLED');
      expect(done.transitions.map((x) => x.status)).toEqual(['PENDING', 'PROVISIONING', 'RUNNING', 'CANCELLED']);
      expect(done.securityViolations).toEqual([]);
      expect(await activities(id, ['instance.cancelled', 'instance.timed_out', 'instance.failed', 'instance.completed'])).toEqual([{ action: 'instance.cancelled' }]);
      expect(tokensOf(id)).toEqual([expect.objectContaining({ revoked: true })]);
      expect(await containersOf(id)).toEqual([]);
      await eventually(async () => (await get(id)).callbackStatus === 'DELIVERED', 20_000);
      await new Promise((r) => setTimeout(r, 3000));
      expect(receiver.received).toHaveLength(1);
      expect((await get(id)).callbackAttempts).toHaveLength(1);
      expect(await sql(t.databaseUrl, "select count(*)::int as n from pgboss.job where name = 'instances.callback' and data->>'instanceId' = $1", [uuid(id)])).toEqual([{ n: 1 }]);
    } finally {
      await receiver.close();
    }
  }, 90_000);

  it('the reaper leaves a wrap-up another worker holds, and takes over one whose claim expired', async () => {
    const id = await started({ config: { image: TEST_IMAGE, command: SLEEPER, vaultPolicies: ['instance-reader'] } });
    // a worker claimed the ending and is wrapping up (claim valid for an hour), its heartbeat long gone
    await sql(t.databaseUrl, "update container_instances set ending = 'cancelled', wrap_up_owner = 'another-worker', wrap_up_until = now() + interval '1 hour' where id = $1", [uuid(id)]);
    await new Promise((r) => setTimeout(r, 1500)); // the runner's watch loop sees the claim and leaves
    await sql(t.databaseUrl, "update container_instances set heartbeat_at = now() - interval '1 hour' where id = $1", [uuid(id)]);
    await instances().reap();
    await new Promise((r) => setTimeout(r, 2500));
    expect((await get(id)).status).toBe('RUNNING');
    expect(await containersOf(id)).toHaveLength(1);
    expect(tokensOf(id)).toEqual([expect.objectContaining({ revoked: false })]);

    // that worker died: its claim expires without renewal
    await sql(t.databaseUrl, "update container_instances set wrap_up_until = now() - interval '1 second' where id = $1", [uuid(id)]);
    const done = await ended(id, 20_000);
    expect(done.status).toBe('CANCELLED');
    expect(await containersOf(id)).toEqual([]);
    expect(tokensOf(id)).toEqual([expect.objectContaining({ revoked: true })]);
    expect(await activities(id, ['instance.cancelled'])).toHaveLength(1);
  }, 60_000);

  it('output stays out of the row: lists never load it, a query does; counted exactly past the limit with bounded memory', async () => {
    const limit = 1000;
    const bigBytes = 150 * 1024 * 1024;
    const res = await run({
      config: {
        image: TEST_IMAGE,
        // one endless line of 150 MiB, a newline, then 50,000 bytes on stderr
        command: ['sh', '-c', `head -c ${bigBytes} /dev/zero | tr "\\0" y; echo; head -c 50000 /dev/zero | tr "\\0" e >&2`],
        outputLimitBytes: limit,
        timeoutSeconds: 600,
      },
    });
    expect(res.errors).toBeUndefined();
    const id = res.data!.runContainerInstance.instance.id;
    await eventually(async () => ['RUNNING', 'COMPLETED'].includes((await get(id)).status), 30_000);
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    let done;
    try {
      done = await ended(id, 240_000);
    } finally {
      clearInterval(sampler);
    }
    expect(done.status).toBe('COMPLETED');
    expect(done.stdout).toBe('y'.repeat(limit));
    expect(done.stdoutDroppedBytes).toBe(bigBytes + 1 - limit);
    expect(done.stderr).toBe('e'.repeat(limit));
    expect(done.stderrDroppedBytes).toBe(50_000 - limit);
    // 150 MiB went through; what this process held stayed far below it
    expect(peak - base).toBeLessThan(64 * 1024 * 1024);

    // an ORM query of instances (what every list does) does not load the output
    const em = t.app.services.orm.em.fork();
    const [row] = await em.find(ContainerInstance, { id: uuid(id) }, { filters: false });
    expect(row.status).toBe('completed');
    expect(row.stdout).toBeUndefined();
    expect(row.stderr).toBeUndefined();
    const list = await t.gql<{ containerInstances: { nodes: Array<{ id: string; stdout: string | null }> } }, unknown>(
      `query { containerInstances(first: 100, filter: { status: [COMPLETED] }) { nodes { id stdout } } }`,
      {},
      token,
    );
    expect(list.data!.containerInstances.nodes.find((n) => n.id === id)?.stdout).toBe('y'.repeat(limit));

    // a request loads a stored output only once its size fits what the request may still load (maxLoadedBytes)
    const scope = (left: number) => ({ ...systemScope(t.app.services.orm, row.account.id, 'test', pino({ level: 'silent' })), loadable: allowance(left) });
    const roomy = scope(limit + 10);
    expect(await t.app.services.instances.instances.output(roomy, uuid(id), 'stdout')).toBe('y'.repeat(limit));
    expect(roomy.loadable.left).toBe(10);
    const tight = scope(limit - 1);
    await expect(t.app.services.instances.instances.output(tight, uuid(id), 'stderr')).rejects.toMatchObject({ extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'loadedBytes' } });
  }, 300_000);

  it('the operator ceiling caps every quota and applies without one; a refusal stores only a counter, policy refusals are pruned', async () => {
    const setQuota = (input: Record<string, unknown>, as = token) =>
      t.gql(`mutation($input: SetContainerQuotaInput!) { setContainerQuota(input: $input) { settings { maxConcurrent } quotaUsage { concurrent { used limit } } } }`, { input }, as);
    const over = await setQuota({ maxConcurrent: CEILING.concurrent + 1 });
    expect(over.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'maxConcurrent' });
    expect(over.errors?.[0]?.message).toMatch(/ceiling/);
    expect((await setQuota({ maxMemoryMb: CEILING.memoryMb + 1 })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'maxMemoryMb' });

    // no quota set: the ceiling is the quota
    expect((await setQuota({ maxConcurrent: null, maxMemoryMb: null, maxCpuMillicores: null })).errors).toBeUndefined();
    const usage = await t.gql<{ viewer: { account: { quotaUsage: Record<string, { used: number; limit: number }> } } }, unknown>(
      `{ viewer { account { quotaUsage { concurrent { used limit } memoryMb { used limit } cpuMillicores { used limit } } } } }`,
      {},
      token,
    );
    expect(usage.data!.viewer.account.quotaUsage).toEqual({
      concurrent: { used: 0, limit: 4 },
      memoryMb: { used: 0, limit: 2048 },
      cpuMillicores: { used: 0, limit: 8000 },
    });
    const runOther = (config: Record<string, unknown>) => run({ config });
    const admitted: string[] = [];
    for (let i = 0; i < CEILING.concurrent; i++) {
      const r = await runOther({ image: TEST_IMAGE, command: SLEEPER, memoryMb: 16, cpuMillicores: 100 });
      expect(r.errors).toBeUndefined();
      admitted.push(r.data!.runContainerInstance.instance.id);
    }
    const accountUuid = await accountId();
    // what a refused run would store: an instance row, or an activity of the run (provisioning activities of the admitted four come and go meanwhile)
    const count = async (table: string) =>
      (await sql<{ n: number }>(t.databaseUrl, `select count(*)::int as n from ${table} where account_id = $1${table === 'docker_activities' ? ` and action = 'instance.run'` : ''}`, [accountUuid]))[0]
        .n;
    const [activitiesBefore, instancesBefore] = [await count('docker_activities'), await count('container_instances')];
    for (let i = 0; i < 5; i++) {
      const refused = await runOther({ image: TEST_IMAGE, command: SLEEPER, memoryMb: 16, cpuMillicores: 100 });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: 'account', limit: 4, usage: 4 });
    }
    expect(await count('docker_activities')).toBe(activitiesBefore);
    expect(await count('container_instances')).toBe(instancesBefore);
    expect(await sql(t.databaseUrl, 'select quota_refusals from instance_settings where account_id = $1', [accountUuid])).toEqual([{ quota_refusals: 5 }]);
    await Promise.all(admitted.map((id) => t.gql(`mutation($id: ID!) { cancelContainerInstance(input: { id: $id }) { instance { status } } }`, { id }, token)));
    await eventually(
      async () =>
        (await sql<{ n: number }>(t.databaseUrl, `select count(*)::int as n from container_instances where account_id = $1 and status in ('pending', 'provisioning', 'running')`, [accountUuid]))[0]
          .n === 0,
      30_000,
    );

    // refused by the host-access policy: recorded, but only the newest few are kept
    for (let i = 0; i < 6; i++) {
      const r = await runOther({ image: TEST_IMAGE, command: ['true'], network: 'host' });
      expect(r.data!.runContainerInstance.instance).toBeTruthy();
    }
    expect(await sql(t.databaseUrl, "select count(*)::int as n from container_instances where account_id = $1 and error_code = 'FORBIDDEN'", [accountUuid])).toEqual([{ n: 3 }]);
  }, 90_000);

  it('setContainerQuota and rotateInstanceCallbackSecret are audited, never with the secret', async () => {
    const account = await accountId();
    const set = await t.gql(`mutation { setContainerQuota(input: { maxConcurrent: 3 }) { settings { maxConcurrent } } }`, {}, token);
    expect(set.errors).toBeUndefined();
    const secret = await rotateSecret();
    const rows = await sql<{ action: string; status: string; actor: string; row: string }>(
      t.databaseUrl,
      `select action, status, actor, row_to_json(a)::text as row from docker_activities a where account_id = $1 and action in ('instance.quota.set', 'instance.callback_secret.rotate') order by started_at`,
      [account],
    );
    expect(rows.map((r) => r.action)).toContain('instance.quota.set');
    expect(rows.map((r) => r.action)).toContain('instance.callback_secret.rotate');
    const quotaRow = rows.filter((r) => r.action === 'instance.quota.set').pop()!;
    expect(quotaRow).toMatchObject({ status: 'succeeded', actor: expect.stringMatching(/^user:/) });
    expect(JSON.parse(quotaRow.row).parameters).toMatchObject({ maxConcurrent: 3 });
    for (const r of rows) expect(r.row).not.toContain(secret);
    await t.gql(`mutation { setContainerQuota(input: { maxConcurrent: null }) { settings { maxConcurrent } } }`, {}, token);
  });

  it('an instance gets the secret env of the template version it was started from', async () => {
    const tpl = await t.gql<{ createContainerTemplate: { template: { id: string } } }, unknown>(
      CREATE_TEMPLATE,
      { input: { name: uniqueName('sec'), image: TEST_IMAGE, command: ['sh', '-c', 'echo "key=$API_KEY"'], secretEnv: ['API_KEY=version-one'], vaultPolicies: ['instance-reader'] } },
      token,
    );
    const templateId = tpl.data!.createContainerTemplate.template.id;
    suite.vault.slowCreate(1500); // provisioning waits for its token ...
    let id: string;
    try {
      const res = await run({ templateId });
      expect(res.errors).toBeUndefined();
      id = res.data!.runContainerInstance.instance.id;
      // ... while the template changes
      const upd = await t.gql(
        `mutation($input: UpdateContainerTemplateInput!) { updateContainerTemplate(input: $input) { template { version } } }`,
        { input: { id: templateId, secretEnv: ['API_KEY=version-two'] } },
        token,
      );
      expect(upd.errors).toBeUndefined();
    } finally {
      suite.vault.slowCreate(0);
    }
    const done = await ended(id);
    expect(done).toMatchObject({ status: 'COMPLETED', templateVersion: 1, stdout: 'key=version-one\n' });
    expect(await sql(t.databaseUrl, 'select secret_env_sealed from container_instances where id = $1', [uuid(id)])).toEqual([{ secret_env_sealed: null }]);
  });

  it("a container instance's container cannot be exec'd into (its secret env and token are write-only), nor can a container pass for one", async () => {
    const tpl = await t.gql<{ createContainerTemplate: { template: { id: string } } }, unknown>(
      CREATE_TEMPLATE,
      { input: { name: uniqueName('noexec'), image: TEST_IMAGE, command: SLEEPER, secretEnv: ['API_KEY=never-shown'], vaultPolicies: ['instance-reader'] } },
      token,
    );
    const res = await run({ templateId: tpl.data!.createContainerTemplate.template.id });
    expect(res.errors).toBeUndefined();
    const id = res.data!.runContainerInstance.instance.id;
    const { containerId } = await running(id);
    const execToken = await t.token({ account: suite.account, permissions: [...INSTANCE_PERMISSIONS, 'docker.resources.manage', 'docker.containers.exec', 'docker.containers.privileged'] });
    const [row] = await eventually(async () => {
      const rows = await sql<{ id: string }>(t.databaseUrl, 'select id from docker_containers where container_id = $1', [containerId]);
      return rows.length ? rows : undefined;
    });
    const exec = await t.gql(
      `mutation($input: ExecContainerInput!) { execContainer(input: $input) { exitCode stdout } }`,
      { input: { id: toGlobalId('DockerContainer', row.id), command: ['env'] } },
      execToken,
    );
    expect(exec.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'container instance' });
    expect(JSON.stringify(exec)).not.toContain('never-shown');
    // nor stopped or removed behind the instance's back: the run ends through the instance
    const globalRowId = toGlobalId('DockerContainer', row.id);
    const stop = await t.gql(`mutation($input: ContainerStopInput!) { stopContainer(input: $input) { activity { id } } }`, { input: { id: globalRowId, timeoutSeconds: 0 } }, execToken);
    expect(stop.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'container instance' });
    const remove = await t.gql(`mutation($input: RemoveContainerInput!) { removeContainer(input: $input) { removedId } }`, { input: { id: globalRowId, force: true } }, execToken);
    expect(remove.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'container instance' });
    expect(await docker('inspect', '-f', '{{.State.Running}}', String(containerId))).toBe('true');
    await cancel(id);
    await ended(id);
    // what it printed is for who runs instances or reads logs, not every member of the account
    const reader = await t.token({ account: suite.account, permissions: [] });
    const output = await t.gql(`query($id: ID!) { containerInstance(id: $id) { id stdout stderr } }`, { id }, reader);
    expect(output.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', permissions: ['containers.instances.run', 'docker.logs.read'] });
    const logReader = await t.token({ account: suite.account, permissions: ['docker.logs.read'] });
    expect((await t.gql(`query($id: ID!) { containerInstance(id: $id) { id stdout } }`, { id }, logReader)).errors).toBeUndefined();
    // only fleetgraph labels a container as an instance
    const hostId = (await t.gql<{ dockerHosts: { nodes: Array<{ id: string }> } }, unknown>('{ dockerHosts(first: 1) { nodes { id } } }', {}, token)).data!.dockerHosts.nodes[0].id;
    const fake = await t.gql(
      `mutation($input: CreateContainerInput!) { createContainer(input: $input) { container { id } } }`,
      { input: { hostId, image: TEST_IMAGE, command: ['true'], start: false, labels: { 'fleetgraph.instance': uuid(id) } } },
      execToken,
    );
    expect(fake.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'labels' });
  });

  it('a token whose accessor cannot be stored is revoked at once, and the instance fails', async () => {
    await sql(
      t.databaseUrl,
      `create or replace function fg_test_fail_accessor() returns trigger language plpgsql as $$ begin
         if new.vault_token_accessor is not null and old.vault_token_accessor is null and new.name like 'accessor-fail%' then raise exception 'test: accessor write fails'; end if;
         return new; end $$`,
    );
    await sql(t.databaseUrl, 'create trigger fg_test_fail_accessor before update on container_instances for each row execute function fg_test_fail_accessor()');
    try {
      const res = await run({ name: 'accessor-fail-1', config: { image: TEST_IMAGE, command: ['true'], vaultPolicies: ['instance-reader'] } });
      expect(res.errors).toBeUndefined();
      const id = res.data!.runContainerInstance.instance.id;
      const done = await ended(id);
      expect(done).toMatchObject({ status: 'FAILED', containerId: null, vaultTokenIssuedAt: null });
      expect(done.error).toMatch(/revoked/);
      const tokens = tokensOf(id);
      expect(tokens).toHaveLength(1);
      expect(tokens[0]).toMatchObject({ revoked: true, valid: false });
      expect(await containersOf(id)).toEqual([]);
    } finally {
      await sql(t.databaseUrl, 'drop trigger if exists fg_test_fail_accessor on container_instances');
    }
  });

  it('a container killed from outside with SIGKILL: FAILED with a KILLED_BY_SIGNAL violation', async () => {
    const id = await started({ config: { image: TEST_IMAGE, command: SLEEPER, vaultPolicies: ['instance-reader'] } });
    const [cid] = await containersOf(id);
    await new Docker({ socketPath: dockerSocket() }).getContainer(cid).kill({ signal: 'SIGKILL' });
    const done = await ended(id);
    expect(done).toMatchObject({ status: 'FAILED', exitCode: 137, errorCode: 'NONZERO_EXIT', hasSecurityViolations: true });
    expect(done.securityViolations).toEqual([expect.objectContaining({ kind: 'KILLED_BY_SIGNAL', details: { signal: 9, exitCode: 137 } })]);
    expect(tokensOf(id)).toEqual([expect.objectContaining({ revoked: true })]);
    expect(await containersOf(id)).toEqual([]);
  });

  describe('hosts going away', () => {
    /** The instance's container, left on the host fleetgraph lost (this test's only: the dockerd is shared). */
    const removeContainersOf = async (id: string) => {
      const ids = await containersOf(id);
      if (ids.length) await docker('rm', '-f', ...ids).catch(() => undefined);
    };
    async function proxiedHost(name: string) {
      const proxy = await forwarder({ path: dockerSocket() });
      const res = await t.gql<{ registerDockerHost: { host: { id: string } } }, unknown>(
        `mutation($input: RegisterDockerHostInput!) { registerDockerHost(input: $input) { host { id } } }`,
        { input: { name, apiEndpoint: `tcp://127.0.0.1:${proxy.port}`, environment: 'development' } },
        token,
      );
      expect(res.errors).toBeUndefined();
      return { proxy, hostId: res.data!.registerDockerHost.host.id };
    }

    it('host lost while running: FAILED with HOST_LOST and a clear reason, token revoked', async () => {
      const { proxy, hostId } = await proxiedHost(uniqueName('lost'));
      let id: string | undefined;
      try {
        id = await started({ hostId, config: { image: TEST_IMAGE, command: SLEEPER, vaultPolicies: ['instance-reader'] } });
        await proxy.close(); // the daemon is unreachable from now on
        const done = await ended(id, 30_000);
        expect(done).toMatchObject({ status: 'FAILED', errorCode: 'HOST_LOST' });
        expect(done.error).toMatch(/unreachable for \d+ s/);
        expect(done.error).toContain(`fleetgraph.instance=${uuid(id)}`);
        expect(tokensOf(id)).toEqual([expect.objectContaining({ revoked: true })]);
        expect(done.vaultTokenRevokedAt).toBeTruthy();
      } finally {
        await proxy.close();
        if (id) await removeContainersOf(id);
      }
    }, 60_000);

    it('host removed while running: FAILED with HOST_LOST naming the removal, token revoked', async () => {
      const { proxy, hostId } = await proxiedHost(uniqueName('removed'));
      let id: string | undefined;
      try {
        id = await started({ hostId, config: { image: TEST_IMAGE, command: SLEEPER, vaultPolicies: ['instance-reader'] } });
        const removed = await t.gql(`mutation($id: ID!) { removeDockerHost(input: { id: $id }) { removedId } }`, { id: hostId }, token);
        expect(removed.errors).toBeUndefined();
        const done = await ended(id, 30_000);
        expect(done).toMatchObject({ status: 'FAILED', errorCode: 'HOST_LOST' });
        expect(done.error).toMatch(/host was removed/);
        expect(tokensOf(id)).toEqual([expect.objectContaining({ revoked: true })]);
        // documented: the container is left on that host (fleetgraph can no longer reach it), labelled with the instance
        expect(await containersOf(id)).toHaveLength(1);
      } finally {
        await proxy.close();
        if (id) await removeContainersOf(id);
      }
    }, 60_000);
  });

  it('the reaper chain restarts after a reschedule was lost', async () => {
    const reapJobs = (since: Date) => sql<{ n: number }>(t.databaseUrl, "select count(*)::int as n from pgboss.job where name = 'instances.reap' and state = 'completed' and created_on > $1", [since]);
    await eventually(async () => (await reapJobs(new Date(Date.now() - 60_000)))[0].n > 0, 15_000);
    // the chain breaks: every queued reap job disappears (as when the run's reschedule failed) and none runs
    const until = Date.now() + 3000;
    for (;;) {
      await sql(t.databaseUrl, "delete from pgboss.job where name = 'instances.reap' and state in ('created', 'retry')");
      const [{ n }] = await sql<{ n: number }>(t.databaseUrl, "select count(*)::int as n from pgboss.job where name = 'instances.reap' and state = 'active'");
      if (Date.now() > until && n === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await sql(t.databaseUrl, "delete from pgboss.job where name = 'instances.reap' and state in ('created', 'retry')");
    const broken = new Date();
    await eventually(async () => (await reapJobs(broken))[0].n >= 2, 15_000, 250);
  }, 40_000);
});
