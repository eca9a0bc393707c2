import { randomUUID } from 'node:crypto';
import type { ExecutionResult } from 'graphql';
import {
  CreateConfigDocument,
  CreateSecretDocument,
  CreateServiceDocument,
  OnServiceLogsDocument,
  OnSwarmEventsDocument,
  OnSwarmEventsSubscription,
  RemoveConfigDocument,
  RemoveSecretDocument,
  RemoveServiceDocument,
  RollbackServiceDocument,
  RotateSecretDocument,
  ScaleServiceDocument,
  SecretInspectDocument,
  ServiceSpecInput,
  SwarmClusterEventsDocument,
  SwarmClusterInspectDocument,
  SwarmClusterNodesDocument,
  SwarmClusterOverviewDocument,
  SwarmServiceInspectDocument,
  SwarmServiceTasksDocument,
  UpdateNodeDocument,
  UpdateSecretDocument,
  UpdateServiceDocument,
} from '../../src/generated/graphql';
import { sql } from '../support/db';
import { eventually, startTestApp, subscribe, TestApp } from '../support/app';
import { formSwarmViaApi, ok, registerSwarmHosts, swarmDocker, swarmReset, swarmUpClean } from '../support/swarm';

/**
 * Services, nodes, secrets, configs and swarm events against a real 3-node swarm: replicas
 * spread over the nodes, drain, scale, optimistic update and server-side rollback, an update
 * that fails its healthcheck and is rolled back by Docker (seen on swarmEvents), secrets that
 * are never stored, rotation, service logs, stacks.
 */
const IMAGE = 'local/busybox:1';

type Ev = OnSwarmEventsSubscription['swarmEvents'];

describe('Swarm services on a real 3-node swarm', () => {
  let t: TestApp;
  let token: string;
  let clusterId: string;
  let events: ReturnType<typeof subscribe<OnSwarmEventsSubscription, { clusterId: string }>>;
  const account = `swarmsvc-${randomUUID().slice(0, 8)}`;
  const evs = (rs: ExecutionResult<OnSwarmEventsSubscription>[]): Ev[] => rs.map((r) => r.data?.swarmEvents).filter((e): e is Ev => Boolean(e));

  /** A service spec on the test image: dnsrr (no IPVS here), quick to stop. */
  const spec = (name: string, extra: Partial<ServiceSpecInput> = {}): ServiceSpecInput => ({
    name,
    image: IMAGE,
    command: ['sleep', '3600'],
    endpointMode: 'DNSRR',
    stopGracePeriodSeconds: 1,
    ...extra,
  });

  async function createService(s: ServiceSpecInput) {
    const res = ok(await t.gql(CreateServiceDocument, { input: { clusterId, spec: s } }, token));
    return res.createService;
  }

  async function tasks(serviceId: string, desiredState = 'running') {
    const res = ok(await t.gql(SwarmServiceTasksDocument, { id: serviceId, desiredState }, token));
    const node = res.node as Extract<typeof res.node, { __typename?: 'SwarmService' }> & { tasks: Array<{ state: string; node?: { hostname: string } | null; taskId: string }> };
    return node.tasks;
  }

  /** Waits until exactly `n` tasks run; returns their hostnames, sorted. */
  async function running(serviceId: string, n: number, timeoutMs = 30_000): Promise<string[]> {
    return eventually(
      async () => {
        const all = await tasks(serviceId);
        const run = all.filter((x) => x.state === 'running');
        return run.length === n && all.length === n ? run.map((x) => x.node?.hostname ?? '?').sort() : undefined;
      },
      timeoutMs,
      300,
    );
  }

  async function serviceState(serviceId: string) {
    const res = ok(await t.gql(SwarmServiceInspectDocument, { id: serviceId }, token));
    return res.node as { spec: Record<string, any>; previousSpec?: Record<string, any> | null; inspect: Record<string, any> };
  }

  beforeAll(async () => {
    await swarmUpClean();
    t = await startTestApp({ config: { workers: true, sync: { retryBaseMs: 300 } } });
    token = await t.token({ account, permissions: ['docker.hosts.manage', 'swarm.clusters.manage', 'swarm.secrets.manage', 'docker.logs.read'] });
    const hosts = await registerSwarmHosts(t, token, 's');
    clusterId = await formSwarmViaApi(t, token, hosts, 's-prod', { 2: 'MANAGER', 3: 'WORKER' });
    events = subscribe(t.ws(token), OnSwarmEventsDocument, { clusterId });
    await new Promise((r) => setTimeout(r, 300));
  }, 180_000);

  afterAll(async () => {
    events?.unsubscribe();
    await t?.stop();
    await swarmReset();
  }, 120_000);

  it('createService: 3 replicas spread over the 3 nodes, image not resolved at a registry; the create is seen on swarmEvents', async () => {
    const { service, activity } = await createService(spec('web', { replicas: 3 }));
    expect(activity).toMatchObject({ action: 'service.create', status: 'SUCCEEDED', cluster: { id: clusterId }, targetId: service.serviceId });
    expect(service).toMatchObject({ name: 'web', image: IMAGE, mode: 'REPLICATED', replicas: 3 });
    expect(await running(service.id, 3)).toEqual(['fg-n1', 'fg-n2', 'fg-n3']);
    // the daemon did not pin a digest (that would need a registry)
    expect(await swarmDocker(1, 'service', 'inspect', 'web', '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}}')).toBe(IMAGE);
    expect(await swarmDocker(1, 'service', 'inspect', 'web', '--format', '{{.Spec.EndpointSpec.Mode}}')).toBe('dnsrr');
    await events.until((rs) => evs(rs).some((e) => e.type === 'service' && e.action === 'create' && e.actorId === service.serviceId));
    // the stored event is linked to the activity that caused it
    const stored = ok(await t.gql(SwarmClusterEventsDocument, { id: clusterId, filter: { actorId: service.serviceId, actions: ['create'] }, first: 5 }, token)).swarmCluster.events.nodes;
    expect(stored.map((e) => e.activity?.id)).toEqual([activity.id]);
  });

  it('drain moves the tasks off a node; labels and availability go through the version index', async () => {
    const nodes = ok(await t.gql(SwarmClusterNodesDocument, { id: clusterId }, token)).swarmCluster.nodes.nodes;
    const n3 = nodes.find((n) => n.hostname === 'fg-n3')!;
    const web = ok(await t.gql(SwarmClusterOverviewDocument, { id: clusterId }, token)).swarmCluster.services.nodes.find((s) => s.name === 'web')!;
    const drained = ok(await t.gql(UpdateNodeDocument, { input: { nodeId: n3.id, availability: 'DRAIN', labels: { zone: 'b' } } }, token)).updateNode;
    expect(drained.node).toMatchObject({ availability: 'DRAIN', labels: { zone: 'b' } });
    expect(drained.node.version).toBeGreaterThan(n3.version);
    expect(drained.activity).toMatchObject({ action: 'node.update', status: 'SUCCEEDED' });
    const placed = await running(web.id, 3, 45_000);
    expect(placed).not.toContain('fg-n3');
    expect(await swarmDocker(1, 'node', 'inspect', 'fg-n3', '--format', '{{.Spec.Availability}} {{index .Spec.Labels "zone"}}')).toBe('drain b');
    await events.until((rs) => evs(rs).some((e) => e.type === 'node' && e.actorId === n3.nodeId && e.attributes['availability.new'] === 'drain'));
    ok(await t.gql(UpdateNodeDocument, { input: { nodeId: n3.id, availability: 'ACTIVE' } }, token));
    expect(await swarmDocker(1, 'node', 'inspect', 'fg-n3', '--format', '{{.Spec.Availability}}')).toBe('active');

    // concurrent updates of one node: the stale ones get "update out of sequence" and are retried
    const n1 = nodes.find((n) => n.hostname === 'fg-n1')!;
    const parallel = await Promise.all([1, 2, 3, 4, 5].map((i) => t.gql(UpdateNodeDocument, { input: { nodeId: n1.id, labels: { batch: String(i) } } }, token)));
    const results = parallel.map((r) => ok(r).updateNode.activity);
    expect(results.every((a) => a.status === 'SUCCEEDED')).toBe(true);
    const attempts = results.map((a) => (a.result as { attempts: number }).attempts);
    expect(Math.max(...attempts)).toBeGreaterThan(1);
    expect(await swarmDocker(1, 'node', 'inspect', 'fg-n1', '--format', '{{len .Spec.Labels}}')).toBe('1');
  });

  it("scaleService, updateService (optimistic) and rollbackService (Docker's server-side rollback to the previous spec)", async () => {
    const web = ok(await t.gql(SwarmClusterOverviewDocument, { id: clusterId }, token)).swarmCluster.services.nodes.find((s) => s.name === 'web')!;
    const scaled = ok(await t.gql(ScaleServiceDocument, { input: { serviceId: web.id, replicas: 1 } }, token)).scaleService;
    expect(scaled.service.replicas).toBe(1);
    expect(scaled.service.version).toBeGreaterThan(web.version);
    await running(web.id, 1);
    const updated = ok(await t.gql(UpdateServiceDocument, { input: { serviceId: web.id, spec: spec('web', { replicas: 1, env: ['COLOR=blue'] }) } }, token)).updateService;
    expect(updated.activity.status).toBe('SUCCEEDED');
    const afterUpdate = await serviceState(web.id);
    expect(afterUpdate.spec.TaskTemplate.ContainerSpec.Env).toEqual(['COLOR=blue']);
    expect(afterUpdate.previousSpec?.TaskTemplate.ContainerSpec.Env).toBeUndefined();
    const rolled = ok(await t.gql(RollbackServiceDocument, { input: { serviceId: web.id } }, token)).rollbackService;
    expect(rolled.activity).toMatchObject({ action: 'service.rollback', status: 'SUCCEEDED' });
    const afterRollback = await serviceState(web.id);
    expect(afterRollback.inspect.Spec.TaskTemplate.ContainerSpec.Env).toBeUndefined();
    expect(await swarmDocker(1, 'service', 'inspect', 'web', '--format', '{{.Spec.TaskTemplate.ContainerSpec.Env}}')).toBe('[]');
    // a global service cannot be scaled: refused with a clear error
    const g = await createService(spec('agent', { mode: 'GLOBAL' }));
    const refused = await t.gql(ScaleServiceDocument, { input: { serviceId: g.service.id, replicas: 2 } }, token);
    expect(refused.errors?.[0].extensions?.code).toBe('CONFLICT');
    ok(await t.gql(RemoveServiceDocument, { input: { serviceId: g.service.id } }, token));
  });

  it('an update that fails its healthcheck with failureAction ROLLBACK ends rolled back, and a swarmEvents subscriber saw the rollback', async () => {
    const healthy = { test: ['CMD', 'true'], intervalSeconds: 1, timeoutSeconds: 1, retries: 1 };
    const failing = { test: ['CMD', 'false'], intervalSeconds: 1, timeoutSeconds: 1, retries: 1 };
    const updateConfig = { parallelism: 1, failureAction: 'ROLLBACK' as const, monitorSeconds: 10, maxFailureRatio: 0 };
    const rollbackConfig = { parallelism: 1, monitorSeconds: 2 };
    const { service } = await createService(spec('hc', { replicas: 1, healthcheck: healthy, updateConfig, rollbackConfig }));
    await running(service.id, 1);
    const from = events.results.length;
    const upd = ok(await t.gql(UpdateServiceDocument, { input: { serviceId: service.id, spec: spec('hc', { replicas: 1, healthcheck: failing, updateConfig, rollbackConfig }) } }, token));
    expect(upd.updateService.activity.status).toBe('SUCCEEDED');
    await events.until((rs) => evs(rs.slice(from)).some((e) => e.actorId === service.serviceId && e.attributes['updatestate.new'] === 'rollback_started'), 60_000);
    const final = await eventually(
      async () => {
        ok(await t.gql(SwarmClusterEventsDocument, { id: clusterId, first: 1 }, token)); // (reads go through the store)
        const s = await serviceState(service.id);
        return s.inspect.UpdateStatus?.State === 'rollback_completed' ? s : undefined;
      },
      60_000,
      500,
    );
    expect(final.inspect.Spec.TaskTemplate.ContainerSpec.Healthcheck.Test).toEqual(['CMD', 'true']);
    await running(service.id, 1);
    // stored as well, with the rollback marked as a warning
    const stored = ok(await t.gql(SwarmClusterEventsDocument, { id: clusterId, filter: { actorId: service.serviceId, types: ['service'] }, first: 50 }, token)).swarmCluster.events.nodes;
    expect(stored.find((e) => e.attributes['updatestate.new'] === 'rollback_started')?.severity).toBe('WARNING');
    // the stored service row follows (event-triggered sync)
    await eventually(async () => {
      const row = ok(await t.gql(SwarmServiceTasksDocument, { id: service.id }, token)).node as { updateState?: string | null };
      return row.updateState === 'rollback_completed';
    }, 15_000);
  });

  it('secrets: write-only values, labels-only updates, rotation repoints the services; configs', async () => {
    const value = `s3cret-${randomUUID()}`;
    const created = ok(await t.gql(CreateSecretDocument, { input: { clusterId, name: 'db-pass', value, labels: { app: 'shop' } } }, token)).createSecret;
    expect(created.secret).toMatchObject({ kind: 'SECRET', name: 'db-pass', labels: { app: 'shop' }, data: null });
    expect(JSON.stringify(created.activity.parameters)).not.toContain(value);
    const app = await createService(spec('app', { replicas: 1, secrets: [{ secret: 'db-pass', target: 'db' }], command: ['sh', '-c', 'cat /run/secrets/db; echo; sleep 3600'] }));
    await running(app.service.id, 1);

    // inspect is Docker's (which never returns a secret's data)
    const inspected = ok(await t.gql(SecretInspectDocument, { id: created.secret.id }, token)).node as unknown as { inspect: { Spec: Record<string, unknown> }; data: string | null };
    expect(inspected.inspect.Spec).toMatchObject({ Name: 'db-pass', Labels: { app: 'shop' } });
    expect(inspected.inspect.Spec.Data).toBeUndefined();
    expect(inspected.data).toBeNull();

    // Docker lets only labels change
    const relabeled = ok(await t.gql(UpdateSecretDocument, { input: { secretId: created.secret.id, labels: { app: 'shop', tier: 'db' } } }, token)).updateSecret;
    expect(relabeled.secret.labels).toEqual({ app: 'shop', tier: 'db' });

    // in use: Docker refuses the removal (its error, kept)
    const inUse = await t.gql(RemoveSecretDocument, { input: { secretId: created.secret.id } }, token);
    expect(inUse.errors?.[0].extensions?.code).toBe('DOCKER_ERROR');

    const newValue = `rotated-${randomUUID()}`;
    const rotated = ok(await t.gql(RotateSecretDocument, { input: { secretId: created.secret.id, value: newValue } }, token)).rotateSecret;
    expect(rotated.secret).toMatchObject({ name: 'db-pass-v2', family: 'db-pass', generation: 2 });
    expect(rotated.previousName).toBe('db-pass');
    expect(rotated.services.map((s) => s.name)).toEqual(['app']);
    const refs = (rotated.services[0].spec as { TaskTemplate: { ContainerSpec: { Secrets: Array<{ SecretName: string; File: { Name: string } }> } } }).TaskTemplate.ContainerSpec.Secrets;
    expect(refs.map((r) => `${r.SecretName}:${r.File.Name}`)).toEqual(['db-pass-v2:db']);
    expect((await swarmDocker(1, 'secret', 'ls', '--format', '{{.Name}}')).split('\n').sort()).toEqual(['db-pass-v2']);
    // the running task reads the new value from the same file
    await eventually(async () => (await swarmDocker(1, 'service', 'logs', '--raw', 'app')).includes(newValue), 45_000, 500);

    // no value is stored anywhere in the database
    const dump = await sql<{ t: string }>(
      t.databaseUrl,
      `select string_agg(x::text, ' ') as t from (select row_to_json(a)::text as x from docker_activities a union all select row_to_json(s)::text from swarm_secret_references s union all select row_to_json(e)::text from swarm_events e) q`,
    );
    expect(dump[0].t).not.toContain(value);
    expect(dump[0].t).not.toContain(newValue);

    const cfg = ok(await t.gql(CreateConfigDocument, { input: { clusterId, name: 'nginx-conf', data: 'worker_processes 1;', labels: {} } }, token)).createConfig;
    expect(cfg.config).toMatchObject({ kind: 'CONFIG', name: 'nginx-conf', data: 'worker_processes 1;' });
    ok(await t.gql(RemoveConfigDocument, { input: { configId: cfg.config.id } }, token));
    expect(await swarmDocker(1, 'config', 'ls', '-q')).toBe('');
    ok(await t.gql(RemoveServiceDocument, { input: { serviceId: app.service.id } }, token));
    ok(await t.gql(RemoveSecretDocument, { input: { secretId: rotated.secret.id } }, token));
    await events.until((rs) => evs(rs).some((e) => e.type === 'secret' && e.action === 'remove' && e.actorId === rotated.secret.dockerId));
  });

  it('serviceLogs streams the lines of every task; stacks group services by com.docker.stack.namespace', async () => {
    const talk = await createService(spec('shop_talk', { replicas: 2, command: ['sh', '-c', 'echo hello from $(hostname); sleep 3600'], labels: { 'com.docker.stack.namespace': 'shop' } }));
    await running(talk.service.id, 2);
    const lines = await eventually(
      async () => {
        const sub = subscribe(t.ws(token), OnServiceLogsDocument, { serviceId: talk.service.id, follow: false, tail: 10 });
        await sub.until(() => sub.done, 15_000).catch(() => undefined);
        const got = sub.results.map((r) => r.data?.serviceLogs).filter(Boolean);
        return got.filter((l) => l!.line.startsWith('hello from')).length >= 2 ? got : undefined;
      },
      30_000,
      500,
    );
    const hello = lines.filter((l) => l!.line.startsWith('hello from'));
    expect(new Set(hello.map((l) => l!.taskId)).size).toBe(2);
    expect(hello[0]).toMatchObject({ stream: 'stdout', nodeId: expect.any(String), timestamp: expect.any(String) });

    // follow: the stream stays open after the tail
    const live = subscribe(t.ws(token), OnServiceLogsDocument, { serviceId: talk.service.id, follow: true, tail: 1 });
    await live.until((rs) => rs.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(live.done).toBe(false);
    live.unsubscribe();

    // an overlay network of the stack: synced (after its event) with its labels
    const netId = await swarmDocker(1, 'network', 'create', '-d', 'overlay', '--attachable', '--label', 'com.docker.stack.namespace=shop', 'shop_backend');
    await events.until((rs) => evs(rs).some((e) => e.type === 'network' && e.action === 'create' && e.actorId === netId));
    const net = await eventually(async () => ok(await t.gql(SwarmClusterInspectDocument, { id: clusterId }, token)).swarmCluster.networks.find((n) => n.networkId === netId), 15_000);
    expect(net).toMatchObject({ name: 'shop_backend', driver: 'overlay', scope: 'swarm', attachable: true, stack: 'shop' });
    expect(net.subnets.length).toBe(1);
    expect((net.inspect as { Id: string }).Id).toBe(netId);
    const all = ok(await t.gql(SwarmClusterInspectDocument, { id: clusterId }, token)).swarmCluster.networks;
    expect(all.find((n) => n.ingress)?.name).toBe('ingress');

    const stacks = ok(await t.gql(SwarmClusterOverviewDocument, { id: clusterId }, token)).swarmCluster.stacks;
    expect(stacks).toEqual([{ name: 'shop', serviceCount: 1, services: [{ name: 'shop_talk' }] }]);
    // the docker CLI sees the same stack
    expect(await swarmDocker(1, 'stack', 'ls', '--format', '{{.Name}} {{.Services}}')).toBe('shop 1');
  });

  it("a full spec maps to Docker's fields: placement, resources, restart policy, mounts, host-mode ports, configs, env, labels", async () => {
    const cfg = ok(await t.gql(CreateConfigDocument, { input: { clusterId, name: 'app-conf', data: 'port=8081\n' } }, token)).createConfig.config;
    const { service, activity } = await createService(
      spec('full', {
        replicas: 1,
        command: ['sh', '-c', 'cat /etc/app.conf; echo $MODE; sleep 3600'],
        env: ['MODE=full'],
        labels: { team: 'core' },
        containerLabels: { role: 'probe' },
        placement: { constraints: ['node.hostname==fg-n2'], maxReplicasPerNode: 1 },
        resources: { cpuLimit: 0.5, memoryLimitBytes: String(64 * 1024 * 1024), memoryReservationBytes: String(16 * 1024 * 1024) },
        restartPolicy: { condition: 'ON_FAILURE', delaySeconds: 2, maxAttempts: 3 },
        mounts: [{ type: 'TMPFS', target: '/scratch' }],
        ports: [{ target: 80, published: 8081, publishMode: 'HOST' }],
        configs: [{ config: 'app-conf', target: '/etc/app.conf' }],
        updateConfig: { parallelism: 2, delaySeconds: 1, order: 'START_FIRST' },
      }),
    );
    expect(activity.status).toBe('SUCCEEDED');
    expect(await running(service.id, 1)).toEqual(['fg-n2']);
    const fmt = [
      '{{json .Spec.TaskTemplate.Placement}}',
      '{{.Spec.TaskTemplate.Resources.Limits.NanoCPUs}} {{.Spec.TaskTemplate.Resources.Limits.MemoryBytes}} {{.Spec.TaskTemplate.Resources.Reservations.MemoryBytes}}',
      '{{.Spec.TaskTemplate.RestartPolicy.Condition}} {{.Spec.TaskTemplate.RestartPolicy.Delay}} {{.Spec.TaskTemplate.RestartPolicy.MaxAttempts}}',
      '{{range .Spec.TaskTemplate.ContainerSpec.Mounts}}{{.Type}}:{{.Target}}{{end}}',
      '{{range .Spec.EndpointSpec.Ports}}{{.PublishMode}}:{{.PublishedPort}}->{{.TargetPort}}/{{.Protocol}}{{end}}',
      '{{range .Spec.TaskTemplate.ContainerSpec.Configs}}{{.ConfigName}}:{{.File.Name}}{{end}}',
      '{{.Spec.UpdateConfig.Parallelism}} {{.Spec.UpdateConfig.Delay}} {{.Spec.UpdateConfig.Order}} {{.Spec.UpdateConfig.FailureAction}} {{.Spec.UpdateConfig.Monitor}}',
      '{{index .Spec.Labels "team"}} {{index .Spec.TaskTemplate.ContainerSpec.Labels "role"}}',
    ].join('|');
    expect((await swarmDocker(1, 'service', 'inspect', 'full', '--format', fmt)).split('|')).toEqual([
      '{"Constraints":["node.hostname==fg-n2"],"MaxReplicas":1}',
      '500000000 67108864 16777216',
      'on-failure 2s 3',
      'tmpfs:/scratch',
      'host:8081->80/tcp',
      'app-conf:/etc/app.conf',
      '2 1s start-first pause 5s',
      'core probe',
    ]);
    await eventually(async () => /port=8081[\s\S]*full/.test(await swarmDocker(1, 'service', 'logs', '--raw', 'full')), 20_000, 500);
    ok(await t.gql(RemoveServiceDocument, { input: { serviceId: service.id } }, token));
    ok(await t.gql(RemoveConfigDocument, { input: { configId: cfg.id } }, token));
  });
});
