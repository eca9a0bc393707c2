import { SwarmCluster, SwarmNode, SwarmService, SwarmServiceMode } from '../../../entities';
import { badInput, conflict, notFound } from '../../kernel/errors';
import { toGlobalId } from '../../kernel/ids';
import { MAX_SERVICE_REPLICAS } from '../../kernel/config';
import type { Scope } from '../../kernel/scope';
import type { LogLine } from '../../infra/engine/logs';
import type { Engine } from '../../infra/engine/port';
import type { FileReference, ServiceInspect, ServiceSpec, ServiceUpdateOptions, TaskTemplate } from '../../infra/engine/types';
import { seconds, versionOf, withVersionRetry } from './docker';
import type { ClusterOperations } from './operation';
import { upsertService } from './sync';
import { serviceHostAccess } from '../../platform/policy/host-access';
import { assertRegistry, type EngineLookups, type HostAccessGuard } from '../../platform/policy/enforce';

export interface ServiceSpecInput {
  name: string;
  image: string;
  resolveImage?: boolean;
  command?: string[];
  args?: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  labels?: Record<string, string>;
  containerLabels?: Record<string, string>;
  mounts?: Array<{ type: string; source?: string; target: string; readOnly?: boolean }>;
  networks?: string[];
  ports?: Array<{ target: number; published?: number; protocol?: string; publishMode?: string }>;
  endpointMode?: string;
  resources?: { cpuLimit?: number; memoryLimitBytes?: string; cpuReservation?: number; memoryReservationBytes?: string };
  placement?: { constraints?: string[]; preferences?: string[]; maxReplicasPerNode?: number };
  mode?: SwarmServiceMode;
  replicas?: number;
  healthcheck?: { test: string[]; intervalSeconds?: number; timeoutSeconds?: number; retries?: number; startPeriodSeconds?: number };
  restartPolicy?: { condition?: string; delaySeconds?: number; maxAttempts?: number; windowSeconds?: number };
  updateConfig?: UpdateConfigInput;
  rollbackConfig?: UpdateConfigInput;
  stopGracePeriodSeconds?: number;
  secrets?: Array<{ secret: string; target?: string }>;
  configs?: Array<{ config: string; target?: string }>;
}

export interface UpdateConfigInput {
  parallelism?: number;
  delaySeconds?: number;
  failureAction?: string;
  monitorSeconds?: number;
  maxFailureRatio?: number;
  order?: string;
}

export interface ServiceLogLine {
  stream: 'stdout' | 'stderr';
  line: string;
  timestamp?: string;
  taskId?: string;
  nodeId?: string;
  /** The line was longer than LOG_LINE_MAX_BYTES: cut there, the rest dropped. */
  truncated: boolean;
}

export const SERVICE_LOG_TAIL_MAX = 10_000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function updateConfig(c: UpdateConfigInput | undefined): Record<string, unknown> | undefined {
  if (!c) return undefined;
  return {
    Parallelism: c.parallelism ?? 1,
    Delay: seconds(c.delaySeconds ?? 0),
    FailureAction: c.failureAction ?? 'pause',
    Monitor: seconds(c.monitorSeconds ?? 5),
    MaxFailureRatio: c.maxFailureRatio ?? 0,
    Order: c.order ?? 'stop-first',
  };
}

function checkUpdateConfig(c: UpdateConfigInput | undefined, field: string): void {
  if (!c) return;
  if (c.parallelism !== undefined && (!Number.isInteger(c.parallelism) || c.parallelism < 0)) throw badInput(`${field}.parallelism`, 'must be an integer ≥ 0 (0 = all at once)');
  if (c.maxFailureRatio !== undefined && !(c.maxFailureRatio >= 0 && c.maxFailureRatio <= 1)) throw badInput(`${field}.maxFailureRatio`, 'must be from 0 to 1');
  for (const k of ['delaySeconds', 'monitorSeconds'] as const) if (c[k] !== undefined && !(c[k]! >= 0)) throw badInput(`${field}.${k}`, 'must be ≥ 0');
}

/** Ids and names of secrets/configs named in a spec input, resolved on the manager. */
async function references(manager: Engine, kind: 'secret' | 'config', refs: Array<{ name: string; target?: string }> | undefined): Promise<FileReference[] | undefined> {
  if (!refs?.length) return undefined;
  return Promise.all(
    refs.map(async (r) => {
      const found = kind === 'secret' ? await manager.inspectSecret(r.name) : await manager.inspectConfig(r.name);
      const name = found.Spec?.Name;
      const file = { Name: r.target ?? name, UID: '0', GID: '0', Mode: 0o444 };
      return kind === 'secret' ? { SecretID: found.ID, SecretName: name, File: file } : { ConfigID: found.ID, ConfigName: name, File: file };
    }),
  );
}

function checkReplicas(replicas: number, field: string): void {
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > MAX_SERVICE_REPLICAS) throw badInput(field, `must be an integer from 0 to ${MAX_SERVICE_REPLICAS}`);
}

/** A ServiceSpec as built from our input: it always has a task template. */
export type BuiltServiceSpec = ServiceSpec & { TaskTemplate: TaskTemplate };

/** Builds Docker's ServiceSpec from the input (durations in ns, bytes as numbers, defaults as documented). */
export async function buildServiceSpec(manager: Engine, input: ServiceSpecInput, mayResolve: (image: string) => void = () => undefined): Promise<BuiltServiceSpec> {
  if (!NAME.test(input.name)) throw badInput('spec.name', 'must be 1–63 letters, digits, ".", "_" or "-", starting with a letter or digit');
  if (!input.image?.trim()) throw badInput('spec.image', 'is required');
  const mode = input.mode ?? SwarmServiceMode.REPLICATED;
  if (input.replicas !== undefined) checkReplicas(input.replicas, 'spec.replicas');
  if (mode === SwarmServiceMode.GLOBAL && input.replicas !== undefined) throw badInput('spec.replicas', 'does not apply to global services');
  checkUpdateConfig(input.updateConfig, 'spec.updateConfig');
  checkUpdateConfig(input.rollbackConfig, 'spec.rollbackConfig');
  if (input.rollbackConfig?.failureAction === 'rollback') throw badInput('spec.rollbackConfig.failureAction', 'must be CONTINUE or PAUSE (a rollback cannot roll back)');
  let image = input.image.trim();
  if (input.resolveImage && !image.includes('@')) {
    // what `docker service create` does by default: pin the tag to the registry's digest (the
    // manager asks the registry now, before the spec's policy check: `mayResolve` refuses first)
    mayResolve(image);
    const digest = (await manager.imageDistribution(image)).Descriptor?.digest;
    if (digest) image = `${image}@${digest}`;
  }
  const hc = input.healthcheck;
  const res = input.resources;
  const bytes = (v: string | undefined, field: string) => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw badInput(field, 'must be a whole number of bytes');
    return Number(v);
  };
  const [secrets, configs] = await Promise.all([
    references(
      manager,
      'secret',
      input.secrets?.map((s) => ({ name: s.secret, target: s.target })),
    ),
    references(
      manager,
      'config',
      input.configs?.map((c) => ({ name: c.config, target: c.target })),
    ),
  ]);
  return {
    Name: input.name,
    Labels: input.labels ?? {},
    TaskTemplate: {
      ContainerSpec: {
        Image: image,
        ...(input.command ? { Command: input.command } : {}),
        ...(input.args ? { Args: input.args } : {}),
        ...(input.env ? { Env: input.env } : {}),
        ...(input.workdir ? { Dir: input.workdir } : {}),
        ...(input.user ? { User: input.user } : {}),
        ...(input.containerLabels ? { Labels: input.containerLabels } : {}),
        ...(input.mounts ? { Mounts: input.mounts.map((m) => ({ Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readOnly ?? false })) } : {}),
        ...(hc
          ? {
              Healthcheck: {
                Test: hc.test,
                Interval: seconds(hc.intervalSeconds ?? 30),
                Timeout: seconds(hc.timeoutSeconds ?? 30),
                Retries: hc.retries ?? 3,
                StartPeriod: seconds(hc.startPeriodSeconds ?? 0),
              },
            }
          : {}),
        ...(input.stopGracePeriodSeconds !== undefined ? { StopGracePeriod: seconds(input.stopGracePeriodSeconds) } : {}),
        ...(secrets ? { Secrets: secrets } : {}),
        ...(configs ? { Configs: configs } : {}),
      },
      ...(res
        ? {
            Resources: {
              Limits: { NanoCPUs: seconds(res.cpuLimit), MemoryBytes: bytes(res.memoryLimitBytes, 'spec.resources.memoryLimitBytes') },
              Reservations: { NanoCPUs: seconds(res.cpuReservation), MemoryBytes: bytes(res.memoryReservationBytes, 'spec.resources.memoryReservationBytes') },
            },
          }
        : {}),
      ...(input.restartPolicy
        ? {
            RestartPolicy: {
              Condition: input.restartPolicy.condition ?? 'any',
              Delay: seconds(input.restartPolicy.delaySeconds ?? 5),
              MaxAttempts: input.restartPolicy.maxAttempts ?? 0,
              Window: seconds(input.restartPolicy.windowSeconds ?? 0),
            },
          }
        : {}),
      ...(input.placement
        ? {
            Placement: {
              Constraints: input.placement.constraints ?? [],
              Preferences: (input.placement.preferences ?? []).map((p) => ({ Spread: { SpreadDescriptor: p } })),
              ...(input.placement.maxReplicasPerNode !== undefined ? { MaxReplicas: input.placement.maxReplicasPerNode } : {}),
            },
          }
        : {}),
      ...(input.networks ? { Networks: input.networks.map((n) => ({ Target: n })) } : {}),
    },
    Mode: mode === SwarmServiceMode.GLOBAL ? { Global: {} } : { Replicated: { Replicas: input.replicas ?? 1 } },
    ...(input.updateConfig ? { UpdateConfig: updateConfig(input.updateConfig) } : {}),
    ...(input.rollbackConfig ? { RollbackConfig: updateConfig(input.rollbackConfig) } : {}),
    EndpointSpec: {
      Mode: input.endpointMode ?? 'vip',
      ...(input.ports ? { Ports: input.ports.map((p) => ({ TargetPort: p.target, PublishedPort: p.published, Protocol: p.protocol ?? 'tcp', PublishMode: p.publishMode ?? 'ingress' })) } : {}),
    },
  };
}

/**
 * The host-access policy (src/platform/policy/host-access.ts) on the ServiceSpec about to run
 * tasks: the final body as sent (or, for a rollback, the previous spec Docker goes back to).
 * Malformed mounts are BAD_USER_INPUT; anything beyond the allow-list needs
 * docker.containers.privileged. Named volumes and networks are looked up on the manager: a
 * volume of the same name that someone made by hand on another node is not seen.
 */
export function checkServiceAccess(guard: HostAccessGuard, scope: Scope, manager: EngineLookups, spec: ServiceSpec | null | undefined): Promise<void> {
  return guard.checkOn(scope, manager, serviceHostAccess(spec));
}

const serviceGid = (id: string) => toGlobalId('SwarmService', id);

/**
 * Services through the cluster's manager. No call makes the daemon look up image digests at a
 * registry (Engine API ≥ 1.30 only does that when the client asks; the CLI asks by default,
 * dockerode does not); `resolveImage: true` pins the digest here first, like the CLI.
 * Updates are optimistic: inspect, send with Version.Index, retry on "update out of sequence".
 */
export class ServiceManager {
  /** @param watchTasks has a changed service's tasks read at once and watched until they settle (src/modules/swarm/watch.ts). */
  constructor(
    private readonly ops: ClusterOperations,
    private readonly guard: HostAccessGuard,
    private readonly watchTasks: (clusterId: string, serviceId: string) => void = () => undefined,
  ) {}

  /** A service of the scope's account, with its cluster, or NOT_FOUND. */
  async get(scope: Scope, id: string): Promise<SwarmService & { cluster: SwarmCluster }> {
    const row = await scope.em.findOne(SwarmService, id, { populate: ['cluster'] });
    if (!row) throw notFound('SwarmService', serviceGid(id));
    return row as SwarmService & { cluster: SwarmCluster };
  }

  async create(scope: Scope, cluster: SwarmCluster, spec: ServiceSpecInput) {
    const { result, activity } = await this.ops.run(scope, cluster, { action: 'service.create', targetType: 'service', targetId: spec.name, parameters: spec }, async (manager, h) => {
      const body = await buildServiceSpec(manager, spec, (image) => assertRegistry(scope, image, 'spec.image'));
      await checkServiceAccess(this.guard, scope, manager, body);
      const id = await manager.createService(body);
      h.setTarget(id);
      this.watchTasks(cluster.id, id);
      return upsertService(scope.em, cluster, await manager.inspectService(id));
    });
    return { service: result, activity };
  }

  /** Replaces the whole spec (what `docker service update` sends, too). */
  async update(scope: Scope, id: string, spec: ServiceSpecInput, forceUpdate = false) {
    const row = await this.get(scope, id);
    if (spec.name !== row.name) throw badInput('spec.name', 'a service cannot be renamed');
    return this.change(scope, row, 'service.update', { serviceId: serviceGid(row.id), spec, forceUpdate }, async (manager, current) => {
      const body = await buildServiceSpec(manager, spec, (image) => assertRegistry(scope, image, 'spec.image'));
      if (forceUpdate) body.TaskTemplate.ForceUpdate = (current.Spec?.TaskTemplate?.ForceUpdate ?? 0) + 1;
      return { body };
    });
  }

  async scale(scope: Scope, id: string, replicas: number) {
    checkReplicas(replicas, 'replicas');
    const row = await this.get(scope, id);
    return this.change(scope, row, 'service.scale', { serviceId: serviceGid(row.id), replicas }, async (_manager, current) => {
      if (!current.Spec?.Mode?.Replicated) throw conflict(`Service "${row.name}" is global: it runs one task per node and cannot be scaled`);
      return { body: { ...current.Spec, Mode: { Replicated: { Replicas: replicas } } } };
    });
  }

  /** Docker's server-side rollback to PreviousSpec (one level, like `docker service rollback`). */
  async rollback(scope: Scope, id: string) {
    const row = await this.get(scope, id);
    return this.change(scope, row, 'service.rollback', { serviceId: serviceGid(row.id) }, async (_manager, current) => {
      if (!current.PreviousSpec) throw conflict(`Service "${row.name}" has no previous spec to roll back to`);
      return { body: current.Spec ?? {}, options: { rollback: 'previous' } };
    });
  }

  async remove(scope: Scope, id: string) {
    const row = await this.get(scope, id);
    const { activity } = await this.ops.run(
      scope,
      row.cluster,
      { action: 'service.remove', targetType: 'service', targetId: row.serviceId, parameters: { serviceId: serviceGid(row.id), name: row.name } },
      async (manager) => {
        await manager.removeService(row.serviceId);
        scope.em.remove(row);
        await scope.em.flush();
      },
    );
    return { activity };
  }

  /** Tasks of a service (live), newest first, with their node's hostname. */
  async tasks(scope: Scope, service: SwarmService, desiredState?: string) {
    const cluster = await this.ops.clusterOf(scope, service.cluster);
    const filters: Record<string, string[]> = { service: [service.serviceId] };
    if (desiredState) filters['desired-state'] = [desiredState];
    const tasks = await this.ops.read(scope, cluster, (manager) => manager.listTasks(filters));
    const nodes = await scope.em.find(SwarmNode, { cluster: cluster.id });
    const byNode = new Map(nodes.map((n) => [n.nodeId, n]));
    return tasks
      .map((t) => ({
        taskId: t.ID,
        slot: t.Slot ?? null,
        state: t.Status?.State ?? 'unknown',
        desiredState: t.DesiredState ?? 'unknown',
        message: t.Status?.Message ?? null,
        error: t.Status?.Err ?? null,
        exitCode: t.Status?.ContainerStatus?.ExitCode ?? null,
        containerId: t.Status?.ContainerStatus?.ContainerID ?? null,
        nodeId: t.NodeID ?? null,
        node: t.NodeID ? (byNode.get(t.NodeID) ?? null) : null,
        image: t.Spec?.ContainerSpec?.Image ?? null,
        createdAt: t.CreatedAt ? new Date(t.CreatedAt) : null,
        updatedAt: t.UpdatedAt ? new Date(t.UpdatedAt) : null,
      }))
      .sort((a, b) => (b.updatedAt?.getTime() ?? 0) - (a.updatedAt?.getTime() ?? 0));
  }

  /** Live `GET /services/{id}`. */
  async inspect(scope: Scope, service: SwarmService): Promise<ServiceInspect> {
    return this.ops.readOf(scope, service, (manager) => manager.inspectService(service.serviceId));
  }

  /** Lines of every task of the service (Docker's service logs), demultiplexed, with task and node ids. */
  async logs(scope: Scope, id: string, options: { follow: boolean; tail: number }): Promise<AsyncIterable<ServiceLogLine>> {
    const row = await this.get(scope, id);
    if (!Number.isInteger(options.tail) || options.tail < 0 || options.tail > SERVICE_LOG_TAIL_MAX) throw badInput('tail', `must be 0–${SERVICE_LOG_TAIL_MAX}`);
    const manager = await this.ops.engine(scope, row.cluster);
    return manager.serviceLogs(row.serviceId, { follow: options.follow, tail: options.tail }, withDetails);
  }

  /**
   * The shared path of update, scale and rollback: inspect, build the new body from the current
   * state, send it with the version index; re-read and retry on "update out of sequence".
   */
  private async change(
    scope: Scope,
    row: SwarmService & { cluster: SwarmCluster },
    action: string,
    parameters: object,
    build: (manager: Engine, current: ServiceInspect) => Promise<{ body: ServiceSpec; options?: ServiceUpdateOptions }>,
  ) {
    const { result, activity } = await this.ops.run(scope, row.cluster, { action, targetType: 'service', targetId: row.serviceId, parameters }, async (manager, h) => {
      let warnings: string[] = [];
      let attempts = 1;
      await withVersionRetry(
        async () => {
          const current = await manager.inspectService(row.serviceId);
          const { body, options } = await build(manager, current);
          // every change runs tasks of the spec it leaves: scale and rollback too
          await checkServiceAccess(this.guard, scope, manager, options?.rollback ? current.PreviousSpec : body);
          const res = await manager.updateService(row.serviceId, versionOf(current), body, options);
          warnings = res.Warnings ?? [];
        },
        5,
        (n) => (attempts = n),
      );
      h.activity.result = { attempts, ...(warnings.length ? { warnings } : {}) };
      this.watchTasks(row.cluster.id, row.serviceId);
      return upsertService(scope.em, row.cluster, await manager.inspectService(row.serviceId));
    });
    return { service: result, activity };
  }
}

// pairs separated by exactly one comma: unambiguous, so matching is linear in the line (no backtracking blow-up)
const DETAILS = /^([\w.-]+=[^,\s]*(?:,[\w.-]+=[^,\s]*)*) (.*)$/s;

/** Service log lines with details=true start with "com.docker.swarm.node.id=…,com.docker.swarm.service.id=…,com.docker.swarm.task.id=… ". */
function withDetails(l: LogLine): ServiceLogLine {
  const m = DETAILS.exec(l.line);
  if (!m) return l;
  const attrs = Object.fromEntries(
    m[1]
      .split(',')
      .filter(Boolean)
      .map((kv) => kv.split('=') as [string, string]),
  );
  return { stream: l.stream, timestamp: l.timestamp, line: m[2], taskId: attrs['com.docker.swarm.task.id'], nodeId: attrs['com.docker.swarm.node.id'], truncated: l.truncated };
}
