import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually, startTestApp, subscribe, TestApp } from '../support/app';
import { Replica, startReplica } from '../support/replicas';
import { deploymentEnded, formSwarmViaApi, ok, registerSwarmHosts, swarmDocker, swarmReset, swarmUpClean } from '../support/swarm';

/**
 * Stacks as versioned deployments on the real 3-node swarm, the docker CLI as the oracle: revisions
 * with diffs, whole-stack rollback to a revision (the swarm's specs equal the revision's again),
 * truthful convergence (a missing image, a crash loop and a failing healthcheck end FAILED with
 * Docker's words, a good stack SUCCEEDED only once the CLI sees every task running), every step on
 * deploymentProgress, one active deployment per stack (CONFLICT), idempotency keys, cancel,
 * stacks of the CLI discovered, removeStack, and a deployment that survives the SIGKILL of the
 * replica running it. The API is served by an in-process app without workers; the deployments
 * (jobs) and the cluster's supervision run in a replica process, as in production.
 */
const NS = 'com.docker.stack.namespace';
const DEPLOYMENT_FIELDS = 'id revision kind status sourceRevision error diff { created updated { service fields } removed unchanged } steps { n kind target message } stack { id name status }';
const DEPLOY = `mutation($input: DeployStackInput!) { deployStack(input: $input) { deployment { ${DEPLOYMENT_FIELDS} } } }`;
const ROLLBACK = `mutation($input: RollbackStackInput!) { rollbackStack(input: $input) { deployment { ${DEPLOYMENT_FIELDS} } } }`;
const REDEPLOY = `mutation($input: RedeployDeploymentInput!) { redeployDeployment(input: $input) { deployment { ${DEPLOYMENT_FIELDS} } } }`;
const CANCEL = `mutation($input: DeploymentIdInput!) { cancelDeployment(input: $input) { deployment { id status } stack { status } } }`;
const REMOVE = `mutation($input: StackIdInput!) { removeStack(input: $input) { stack { status } } }`;
const DEPLOYMENT = `query($id: ID!) { deployment(id: $id) { ${DEPLOYMENT_FIELDS} } }`;
const STACK = `query($id: ID!) { stack(id: $id) { name status managed currentDeployment { revision } services { name runningTasks desiredTasks } deployments(first: 10) { nodes { revision kind status sourceRevision diff { created updated { service fields } removed unchanged } } } } }`;
const STACKS = `query($clusterId: ID) { stacks(clusterId: $clusterId, first: 100) { nodes { id name managed status currentDeployment { revision } } } }`;
const PROGRESS = `subscription($stackId: ID) { deploymentProgress(stackId: $stackId) { deploymentId revision status step { n kind target message } services { service state running desired } } }`;

interface Step {
  n: number;
  kind: string;
  target: string | null;
  message: string;
}
interface Deployment {
  id: string;
  revision: number;
  kind: string;
  status: string;
  sourceRevision: number | null;
  error: string | null;
  diff: { created: string[]; updated: Array<{ service: string; fields: string[] }>; removed: string[]; unchanged: string[] } | null;
  steps: Step[];
  stack: { id: string; name: string; status: string };
}

const svc = (name: string, body: string) => `  ${name}:\n    image: local/busybox:1\n    stop_grace_period: 1s\n${body}`;
const SLEEP = "    command: ['sleep', '3600']\n";

const REV1 = `services:\n${svc('api', `${SLEEP}    environment: { MODE: one }\n    deploy: { replicas: 2 }\n`)}${svc('cache', `${SLEEP}`)}`;
const REV2 = `services:\n${svc('api', `${SLEEP}    environment: { MODE: two }\n    deploy: { replicas: 3 }\n`)}${svc('worker', `${SLEEP}`)}`;
/** Healthy only after `seconds`: its tasks stay "starting" until then. */
const slow = (seconds: number) =>
  `services:\n${svc('web', `    command: ['sh', '-c', 'sleep ${seconds}; touch /tmp/ready; sleep 3600']\n    healthcheck: { test: ['CMD', 'test', '-f', '/tmp/ready'], interval: 1s, timeout: 1s, retries: 3, start_period: 60s }\n`)}`;

describe('stack deployments on a real 3-node swarm', () => {
  let t: TestApp;
  let worker: Replica;
  let token: string;
  let clusterId: string;
  const account = `deploys-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    await swarmUpClean();
    t = await startTestApp({ config: { workers: false } });
    worker = await startReplica('r1', t.databaseUrl, { readyTimeoutMs: 90_000 });
    token = await t.token({ account, permissions: ['docker.hosts.manage', 'swarm.clusters.manage', 'swarm.stacks.deploy'] });
    const hosts = await registerSwarmHosts(t, token, 'dp');
    clusterId = await formSwarmViaApi(t, token, hosts, 'dp-swarm', { 2: 'WORKER', 3: 'WORKER' });
  }, 240_000);

  afterAll(async () => {
    await worker?.stop();
    await t?.stop();
    await swarmReset();
  }, 120_000);

  const gql = <R>(doc: string, variables: Record<string, unknown>) => t.gql<R, Record<string, unknown>>(doc, variables, token);
  const deploy = async (name: string, compose: string, extra: Record<string, unknown> = {}) =>
    ok(await gql<{ deployStack: { deployment: Deployment } }>(DEPLOY, { input: { clusterId, name, compose, ...extra } })).deployStack.deployment;

  const finished = (id: string, timeoutMs = 120_000) => deploymentEnded<Deployment>(t, token, id, DEPLOYMENT_FIELDS, timeoutMs);

  /** The specs of the stack's services as the CLI shows them, by name, without what changes on every update (version, dates, ids). */
  async function cliSpecs(stack: string): Promise<Record<string, unknown>> {
    const names = (await swarmDocker(1, 'service', 'ls', '--filter', `label=${NS}=${stack}`, '--format', '{{.Name}}')).split('\n').filter(Boolean).sort();
    const out: Record<string, unknown> = {};
    for (const n of names) out[n] = JSON.parse(await swarmDocker(1, 'service', 'inspect', n, '--format', '{{json .Spec}}'));
    return out;
  }

  /** `docker service ls` replicas of the stack: "name running/desired", sorted. */
  async function cliReplicas(stack: string): Promise<string[]> {
    return (await swarmDocker(1, 'service', 'ls', '--filter', `label=${NS}=${stack}`, '--format', '{{.Name}} {{.Replicas}}')).split('\n').filter(Boolean).sort();
  }

  it('records revisions with diffs, and rollbackStack takes the whole stack back to revision 1 (specs equal, compared with the CLI)', async () => {
    const r1 = await finished((await deploy('app', REV1)).id);
    expect(r1).toMatchObject({ revision: 1, kind: 'DEPLOY', status: 'SUCCEEDED', error: null });
    expect(r1.diff).toEqual({ created: ['app_api', 'app_cache'], updated: [], removed: [], unchanged: [] });
    // SUCCEEDED only once every task of the new spec runs, as the CLI counts them
    expect(await cliReplicas('app')).toEqual(['app_api 2/2', 'app_cache 1/1']);
    const specs1 = await cliSpecs('app');

    const r2 = await finished((await deploy('app', REV2, { prune: true })).id);
    expect(r2).toMatchObject({ revision: 2, status: 'SUCCEEDED' });
    expect(r2.diff?.created).toEqual(['app_worker']);
    expect(r2.diff?.removed).toEqual(['app_cache']);
    expect(r2.diff?.updated.map((u) => u.service)).toEqual(['app_api']);
    expect(r2.diff?.updated[0].fields).toEqual(expect.arrayContaining(['Mode.Replicated.Replicas', 'TaskTemplate.ContainerSpec.Env']));
    expect(await cliReplicas('app')).toEqual(['app_api 3/3', 'app_worker 1/1']);

    const rb = await finished(ok(await gql<{ rollbackStack: { deployment: Deployment } }>(ROLLBACK, { input: { stackId: r1.stack.id, toRevision: 1 } })).rollbackStack.deployment.id);
    expect(rb).toMatchObject({ revision: 3, kind: 'ROLLBACK', sourceRevision: 1, status: 'SUCCEEDED' });
    expect(rb.diff?.created).toEqual(['app_cache']);
    expect(rb.diff?.removed).toEqual(['app_worker']);
    expect(rb.diff?.updated.map((u) => u.service)).toEqual(['app_api']);
    expect(await cliSpecs('app')).toEqual(specs1);
    expect(await cliReplicas('app')).toEqual(['app_api 2/2', 'app_cache 1/1']);

    const stack = ok(
      await gql<{ stack: { status: string; managed: boolean; currentDeployment: { revision: number }; deployments: { nodes: Array<Partial<Deployment>> } } }>(STACK, { id: r1.stack.id }),
    ).stack;
    expect(stack).toMatchObject({ status: 'CONVERGED', managed: true, currentDeployment: { revision: 3 } });
    expect(stack.deployments.nodes.map((d) => [d.revision, d.kind, d.status, d.sourceRevision])).toEqual([
      [3, 'ROLLBACK', 'SUCCEEDED', 1],
      [2, 'DEPLOY', 'ROLLED_BACK', null],
      [1, 'DEPLOY', 'SUCCEEDED', null],
    ]);
    // every Docker change of a deployment is a step, in order
    expect(rb.steps.map((s) => s.n)).toEqual(rb.steps.map((_s, i) => i + 1));
    expect(
      rb.steps
        .filter((s) => s.kind.startsWith('service.') && s.kind !== 'service.state')
        .map((s) => `${s.kind} ${s.target}`)
        .sort(),
    ).toEqual(['service.create app_cache', 'service.remove app_worker', 'service.update app_api']);

    // redeployDeployment of revision 2: the runbook's path, the whole stack as it was then
    const re = await finished(ok(await gql<{ redeployDeployment: { deployment: Deployment } }>(REDEPLOY, { input: { deploymentId: r2.id } })).redeployDeployment.deployment.id);
    expect(re).toMatchObject({ revision: 4, kind: 'REDEPLOY', sourceRevision: 2, status: 'SUCCEEDED' });
    expect(await cliReplicas('app')).toEqual(['app_api 3/3', 'app_worker 1/1']);
  }, 400_000);

  it('keeps stacks, deployments and their progress to the account, and refuses bad arguments without changing anything', async () => {
    const mine = await finished((await deploy('tenant', `services:\n${svc('web', SLEEP)}`)).id);
    const other = await t.token({ account: `intruder-${randomUUID().slice(0, 8)}`, permissions: ['docker.hosts.manage', 'swarm.clusters.manage', 'swarm.stacks.deploy'] });
    const as = (doc: string, variables: Record<string, unknown>) => t.gql(doc, variables, other);
    const code = (res: { errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> }) => res.errors?.[0]?.extensions?.code;
    expect(code(await as(STACK, { id: mine.stack.id }))).toBe('NOT_FOUND');
    expect(code(await as(DEPLOYMENT, { id: mine.id }))).toBe('NOT_FOUND');
    expect(code(await as(ROLLBACK, { input: { stackId: mine.stack.id, toRevision: 1 } }))).toBe('NOT_FOUND');
    expect(code(await as(REDEPLOY, { input: { deploymentId: mine.id } }))).toBe('NOT_FOUND');
    expect(code(await as(CANCEL, { input: { deploymentId: mine.id } }))).toBe('NOT_FOUND');
    expect(code(await as(REMOVE, { input: { stackId: mine.stack.id } }))).toBe('NOT_FOUND');
    expect(code(await as(DEPLOY, { input: { clusterId, name: 'tenant', compose: `services:\n${svc('web', SLEEP)}` } }))).toBe('NOT_FOUND');
    expect((ok(await as(STACKS, {})) as { stacks: { nodes: unknown[] } }).stacks.nodes).toEqual([]);
    // the intruder's progress feed stays silent while the owner deploys
    const spy = subscribe<{ deploymentProgress: { deploymentId: string } }, { stackId: string }>(t.ws(other), PROGRESS, { stackId: mine.stack.id });
    const next = await finished((await deploy('tenant', `services:\n${svc('web', `${SLEEP}    deploy: { replicas: 2 }\n`)}`)).id);
    expect(next.status).toBe('SUCCEEDED');
    expect(spy.results.filter((r) => r.data)).toEqual([]);
    spy.unsubscribe();

    // bad arguments: refused, nothing recorded
    const bad = [
      await gql(ROLLBACK, { input: { stackId: mine.stack.id, toRevision: 99 } }),
      await gql(DEPLOY, { input: { clusterId, name: 'tenant', compose: `services:\n${svc('web', SLEEP)}`, timeoutSeconds: 5 } }),
      await gql(DEPLOY, { input: { clusterId, name: 'tenant', compose: `services:\n${svc('web', SLEEP)}`, timeoutSeconds: 100000 } }),
      await gql(DEPLOY, { input: { clusterId, name: 'Bad Name!', compose: `services:\n${svc('web', SLEEP)}` } }),
      await gql(DEPLOYMENT, { id: mine.stack.id }),
    ];
    expect(bad.map(code)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT']);
    const history = ok(await gql<{ stack: { deployments: { nodes: Array<{ revision: number }> } } }>(STACK, { id: mine.stack.id })).stack.deployments.nodes;
    expect(history.map((d) => d.revision)).toEqual([2, 1]);
  }, 180_000);

  it('ends a missing image, a crash loop and a failing healthcheck FAILED with Docker’s reason, and a good stack SUCCEEDED', async () => {
    const cases = {
      noimage: `services:\n  web:\n    image: local/nope:404\n${SLEEP}`,
      crash: `services:\n${svc('web', "    command: ['sh', '-c', 'exit 3']\n    deploy: { restart_policy: { delay: 1s } }\n")}`,
      unhealthy: `services:\n${svc('web', `${SLEEP}    healthcheck: { test: ['CMD', 'false'], interval: 1s, timeout: 1s, retries: 1 }\n    deploy: { restart_policy: { delay: 1s } }\n`)}`,
      good: `services:\n${svc('web', `${SLEEP}    deploy: { replicas: 2 }\n`)}`,
    };
    const started = Date.now();
    const ids = await Promise.all(Object.entries(cases).map(async ([name, compose]) => [name, (await deploy(name, compose, { timeoutSeconds: 90 })).id] as const));
    const ended = Object.fromEntries(await Promise.all(ids.map(async ([name, id]) => [name, await finished(id)] as const)));
    expect(Date.now() - started).toBeLessThan(95_000 + 30_000);
    expect(ended.good).toMatchObject({ status: 'SUCCEEDED', error: null });
    expect(ended.noimage).toMatchObject({ status: 'FAILED', error: expect.stringMatching(/No such image|pull access denied|manifest|not found/i) });
    expect(ended.crash).toMatchObject({ status: 'FAILED', error: expect.stringMatching(/non-zero exit \(3\)/) });
    expect(ended.unhealthy).toMatchObject({ status: 'FAILED', error: expect.stringMatching(/unhealthy/i) });
    for (const name of ['noimage', 'crash', 'unhealthy']) {
      expect(ended[name].steps.at(-1)).toMatchObject({ kind: 'failed' });
      expect(ended[name].stack.status).toBe('FAILED');
    }
  }, 300_000);

  it('delivers every step and every change of convergence on deploymentProgress', async () => {
    const first = await finished((await deploy('watched', `services:\n${svc('web', SLEEP)}`)).id);
    const feed = subscribe<
      { deploymentProgress: { deploymentId: string; revision: number; status: string; step: Step | null; services: Array<{ service: string; state: string; running: number; desired: number }> } },
      { stackId: string }
    >(t.ws(token), PROGRESS, { stackId: first.stack.id });
    await new Promise((r) => setTimeout(r, 500));
    const second = await deploy('watched', `services:\n${svc('web', `${SLEEP}    deploy: { replicas: 3 }\n`)}`);
    const done = await finished(second.id);
    expect(done.status).toBe('SUCCEEDED');
    await feed.until((rs) => rs.some((r) => r.data?.deploymentProgress.step?.kind === 'done'), 20_000);
    const steps = feed.results.map((r) => r.data!.deploymentProgress).filter((p) => p.deploymentId === second.id && p.step);
    expect(steps.map((p) => p.step!.n)).toEqual(done.steps.map((s) => s.n));
    expect(steps.map((p) => p.step!.kind)).toEqual(done.steps.map((s) => s.kind));
    // convergence changes carry the per-service figures; the last says 3/3
    const states = feed.results.map((r) => r.data!.deploymentProgress).filter((p) => p.step?.kind === 'service.state');
    expect(states.at(-1)!.services).toEqual([{ service: 'watched_web', state: 'converged', running: 3, desired: 3 }]);
    feed.unsubscribe();
  }, 180_000);

  it('allows one active deployment per stack (CONFLICT with its id), returns the same deployment for the same idempotencyKey, and cancels', async () => {
    const key = `key-${randomUUID()}`;
    const a = await deploy('busy', slow(20), { idempotencyKey: key });
    const same = await deploy('busy', slow(20), { idempotencyKey: key });
    expect(same.id).toBe(a.id);
    const second = await t.gql(DEPLOY, { input: { clusterId, name: 'busy', compose: slow(5) } }, token);
    expect(second.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', deploymentId: a.id });
    const cancelled = ok(await gql<{ cancelDeployment: { deployment: { status: string }; stack: { status: string } } }>(CANCEL, { input: { deploymentId: a.id } })).cancelDeployment;
    expect(cancelled).toEqual({ deployment: { id: a.id, status: 'CANCELLED' }, stack: { status: 'DEGRADED' } });
    const again = await t.gql(CANCEL, { input: { deploymentId: a.id } }, token);
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    // the slot is free again
    const next = await deploy('busy', slow(1), { timeoutSeconds: 60 });
    expect(next.revision).toBe(2);
    expect((await finished(next.id)).status).toBe('SUCCEEDED');
  }, 180_000);

  it('discovers stacks deployed with the CLI, and removeStack removes what docker stack rm would', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-stack-'));
    const file = path.join(dir, 'compose.yml');
    fs.writeFileSync(file, `services:\n${svc('web', SLEEP)}`);
    await swarmDocker(1, 'stack', 'deploy', '--resolve-image', 'never', '-c', file, 'clistack');
    fs.rmSync(dir, { recursive: true, force: true });
    const found = await (async () => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const list = ok(await gql<{ stacks: { nodes: Array<{ id: string; name: string; managed: boolean; status: string; currentDeployment: null | object }> } }>(STACKS, { clusterId })).stacks.nodes;
        const s = list.find((x) => x.name === 'clistack');
        if (s) return s;
        if (Date.now() > deadline) throw new Error(`clistack not discovered: ${JSON.stringify(list)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    expect(found).toMatchObject({ managed: false, currentDeployment: null });

    const removed = ok(await gql<{ removeStack: { stack: { status: string } } }>(REMOVE, { input: { stackId: found.id } })).removeStack;
    expect(removed.stack.status).toBe('REMOVED');
    expect(await cliReplicas('clistack')).toEqual([]);
    // the swarm network is removed at once; a node drops its own copy once the stack's last container
    // there has stopped (as after docker stack rm), so the node is asked until then
    const networks = () => swarmDocker(1, 'network', 'ls', '--filter', `label=${NS}=clistack`, '--format', '{{.Name}}').then((out) => out.trim());
    await eventually(async () => (await networks()) === '', 30_000, 500).catch(() => undefined);
    expect(await networks()).toBe('');
  }, 120_000);

  it('finishes a deployment whose replica was killed with SIGKILL: another replica resumes it within 60 s', async () => {
    const d = await deploy('crashy', slow(12), { timeoutSeconds: 120 });
    // wait until the replica applied it and waits for convergence
    const deadline = Date.now() + 60_000;
    for (;;) {
      const now = ok(await gql<{ deployment: Deployment }>(DEPLOYMENT, { id: d.id })).deployment;
      if (now.steps.some((s) => s.kind === 'converge')) break;
      if (Date.now() > deadline) throw new Error(`not applied: ${JSON.stringify(now.steps)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await worker.signal('SIGKILL')).toBe('SIGKILL');
    worker = await startReplica('r2', t.databaseUrl, { readyTimeoutMs: 90_000 });
    const restarted = Date.now();
    const end = await finished(d.id, 60_000);
    expect(Date.now() - restarted).toBeLessThan(60_000);
    expect(end).toMatchObject({ status: 'SUCCEEDED', error: null });
    expect(end.steps.some((s) => s.kind === 'resume')).toBe(true);
    expect(await cliReplicas('crashy')).toEqual(['crashy_web 1/1']);
  }, 240_000);
});
