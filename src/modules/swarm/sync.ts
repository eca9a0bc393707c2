import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { SecretKind, SecretReference, SwarmCluster, SwarmNetwork, SwarmNode, SwarmNodeAvailability, SwarmNodeRole, SwarmService, SwarmServiceMode } from '../../../entities';
import { AppError, ErrorCode } from '../../kernel/errors';
import { listedQuorum, serviceConverged } from './health';
import type { Engine } from '../../infra/engine/port';
import type { EngineInfo, LocalSwarm, NetworkInspect, NodeInspect, SecretInspect, ServiceInspect } from '../../infra/engine/types';

/** Something that changed between two syncs (for resync events after a reconnect). */
export interface SwarmChange {
  type: 'node' | 'service' | 'secret' | 'config' | 'network';
  action: 'create' | 'update' | 'remove';
  actorId: string;
  attributes: Record<string, string>;
}

export interface ClusterSyncResult {
  nodes: number;
  services: number;
  secrets: number;
  configs: number;
  networks: number;
  changes: SwarmChange[];
  /** Docker ids of services whose tasks need a look (new, changed, rolling, or Docker's counts differ from the stored ones). */
  watch: string[];
  /** Whether the node list shows a leader and a majority of managers not unreachable. */
  quorum: boolean;
}

export const STACK_LABEL = 'com.docker.stack.namespace';
export const FAMILY_LABEL = 'fleetgraph.secret.family';
export const GENERATION_LABEL = 'fleetgraph.secret.version';

/** `docker info` of an active swarm manager. */
export type ManagerInfo = EngineInfo & { Swarm: LocalSwarm };

/** Reads the manager's swarm state; throws when the endpoint is not an active manager. */
export async function managerInfo(engine: Engine): Promise<ManagerInfo> {
  const info = await engine.info();
  const sw = info.Swarm ?? {};
  if (sw.LocalNodeState !== 'active') throw new AppError(ErrorCode.DOCKER_ERROR, `The endpoint is not part of a swarm (LocalNodeState=${sw.LocalNodeState ?? 'unknown'})`);
  if (!sw.ControlAvailable) throw new AppError(ErrorCode.DOCKER_ERROR, "The endpoint is a swarm worker, not a manager: register a manager's Engine API");
  return { ...info, Swarm: sw };
}

const date = (v: unknown): Date | null => (typeof v === 'string' && !v.startsWith('0001-') ? new Date(v) : null);

export function nodeValues(n: NodeInspect): Partial<SwarmNode> {
  const ms = n.ManagerStatus;
  const platform = n.Description?.Platform;
  return {
    nodeId: n.ID,
    hostname: n.Description?.Hostname ?? n.ID,
    role: n.Spec?.Role === 'manager' ? SwarmNodeRole.MANAGER : SwarmNodeRole.WORKER,
    availability: (n.Spec?.Availability as SwarmNodeAvailability) ?? SwarmNodeAvailability.ACTIVE,
    state: String(n.Status?.State ?? 'unknown'),
    message: n.Status?.Message ? String(n.Status.Message).slice(0, 500) : null,
    addr: n.Status?.Addr ?? null,
    leader: Boolean(ms?.Leader),
    managerReachability: ms?.Reachability ?? null,
    managerAddr: ms?.Addr ?? null,
    engineVersion: n.Description?.Engine?.EngineVersion ?? null,
    platform: platform ? `${platform.OS}/${platform.Architecture}` : null,
    // bigint columns are mapped to exact decimal strings (BigIntType('string'))
    nanoCpus: n.Description?.Resources?.NanoCPUs != null ? String(n.Description.Resources.NanoCPUs) : null,
    memoryBytes: n.Description?.Resources?.MemoryBytes != null ? String(n.Description.Resources.MemoryBytes) : null,
    labels: n.Spec?.Labels ?? {},
    version: n.Version?.Index ?? 0,
  };
}

/**
 * A service's stored values from its inspect. Not its task counts: Docker's ServiceStatus counts
 * tasks of any spec version, so runningTasks/desiredTasks are written only by the task watcher
 * (src/modules/swarm/watch.ts), with the version they were counted at.
 */
export function serviceValues(s: ServiceInspect): Partial<SwarmService> {
  const spec = s.Spec ?? {};
  const replicated = spec.Mode?.Replicated;
  const labels = spec.Labels ?? {};
  return {
    serviceId: s.ID,
    name: spec.Name ?? s.ID,
    image: spec.TaskTemplate?.ContainerSpec?.Image ?? '',
    mode: replicated ? SwarmServiceMode.REPLICATED : SwarmServiceMode.GLOBAL,
    replicas: replicated ? (replicated.Replicas ?? 1) : null,
    stack: labels[STACK_LABEL] ?? null,
    labels,
    spec,
    previousSpec: s.PreviousSpec ?? null,
    updateStatus: s.UpdateStatus ?? null,
    updateState: s.UpdateStatus?.State ?? null,
    version: s.Version?.Index ?? 0,
    dockerUpdatedAt: date(s.UpdatedAt),
  };
}

export function secretValues(kind: SecretKind, s: SecretInspect): Partial<SecretReference> {
  const labels = s.Spec?.Labels ?? {};
  const gen = Number(labels[GENERATION_LABEL]);
  return {
    kind,
    dockerId: s.ID,
    name: s.Spec?.Name ?? s.ID,
    labels,
    version: s.Version?.Index ?? 0,
    family: labels[FAMILY_LABEL] ?? null,
    generation: Number.isInteger(gen) ? gen : null,
    dockerCreatedAt: date(s.CreatedAt),
    dockerUpdatedAt: date(s.UpdatedAt),
  };
}

export function networkValues(n: NetworkInspect): Partial<SwarmNetwork> {
  return {
    networkId: n.Id,
    name: n.Name,
    driver: n.Driver ?? '',
    scope: n.Scope ?? 'swarm',
    attachable: Boolean(n.Attachable),
    ingress: Boolean(n.Ingress),
    internal: Boolean(n.Internal),
    labels: n.Labels ?? {},
    stack: n.Labels?.[STACK_LABEL] ?? null,
    subnets: (n.IPAM?.Config ?? []).flatMap((c) => (c.Subnet ? [c.Subnet] : [])),
  };
}

/**
 * Makes the stored rows of one kind match Docker's list: creates, updates (when `changed`
 * says so) and deletes, and reports what changed.
 */
async function reconcile<T extends { id: string }>(
  em: EntityManager,
  entity: new () => T,
  cluster: SwarmCluster,
  stored: T[],
  key: (row: T) => string,
  incoming: Array<Partial<T>>,
  incomingKey: (v: Partial<T>) => string,
  conflict: string[],
  describe: (before: T | undefined, after: Partial<T> | undefined) => SwarmChange | undefined,
  listedAt: Date,
): Promise<SwarmChange[]> {
  const changes: SwarmChange[] = [];
  const byKey = new Map(stored.map((r) => [key(r), r]));
  for (const values of incoming) {
    const k = incomingKey(values);
    const row = byKey.get(k);
    byKey.delete(k);
    const change = describe(row, values);
    if (change) changes.push(change);
    // a mutation may store a newer version at any time after Docker was listed, also between this
    // read of the rows and their write: a versioned row is written only over a version not newer
    if (row) {
      const version = (values as { version?: unknown }).version;
      if (olderThan(values, row)) continue;
      if (typeof version === 'number') await em.nativeUpdate(entity, { id: row.id, version: { $lte: version } } as never, { ...values, updatedAt: new Date() } as never);
      else em.assign(row, values as never);
    } else await upsertRow(em, entity, cluster, values, conflict, 'ignore'); // stored meanwhile: that row is as new or newer
  }
  for (const row of byKey.values()) {
    const change = describe(row, undefined);
    if (change) changes.push(change);
    // not in Docker's list: gone, unless a mutation stored it (or touched it) after the list was read
    await em.nativeDelete(entity, { id: row.id, updatedAt: { $lt: listedAt } } as never);
  }
  return changes;
}

/**
 * Full list-and-diff of a cluster: nodes, services, secrets, configs and swarm-scoped networks.
 * Takes the manager's engine port, or (from the supervisor) its API client, then used through
 * the port all the same: the sync's errors come out mapped, a lost quorum as such.
 */
export async function syncCluster(em: EntityManager, cluster: SwarmCluster, engine: Engine): Promise<ClusterSyncResult> {
  const listedAt = new Date();
  const info = await managerInfo(engine);
  const swarm = info.Swarm.Cluster ?? {};
  const [nodes, services, secrets, configs, networks] = await Promise.all([
    engine.listNodes(),
    engine.listServices({ status: true }),
    engine.listSecrets(),
    engine.listConfigs(),
    engine.listNetworks({ scope: ['swarm'] }),
  ]);
  cluster.swarmId = swarm.ID ?? cluster.swarmId;
  cluster.spec = swarm.Spec ?? cluster.spec;
  cluster.specVersion = swarm.Version?.Index ?? cluster.specVersion;
  cluster.swarmCreatedAt = date(swarm.CreatedAt) ?? cluster.swarmCreatedAt;

  const [storedNodes, storedServices, storedSecrets, storedNetworks] = await Promise.all([
    em.find(SwarmNode, { cluster }),
    em.find(SwarmService, { cluster }),
    em.find(SecretReference, { cluster }),
    em.find(SwarmNetwork, { cluster }),
  ]);
  const watch = servicesToWatch(services, storedServices);
  const changes: SwarmChange[] = [];
  changes.push(
    ...(await reconcile(
      em,
      SwarmNode,
      cluster,
      storedNodes,
      (r) => r.nodeId,
      nodes.map(nodeValues),
      (v) => v.nodeId!,
      ['cluster', 'nodeId'],
      (before, after) => {
        const id = (after?.nodeId ?? before?.nodeId)!;
        const name = after?.hostname ?? before?.hostname ?? id;
        if (!before) return { type: 'node', action: 'create', actorId: id, attributes: { name } };
        if (!after) return { type: 'node', action: 'remove', actorId: id, attributes: { name } };
        const attrs: Record<string, string> = {};
        if (before.state !== after.state) Object.assign(attrs, { 'state.old': before.state, 'state.new': after.state! });
        if (before.availability !== after.availability) Object.assign(attrs, { 'availability.old': before.availability, 'availability.new': after.availability! });
        if (before.role !== after.role) Object.assign(attrs, { 'role.old': before.role, 'role.new': after.role! });
        return Object.keys(attrs).length ? { type: 'node', action: 'update', actorId: id, attributes: { name, ...attrs } } : undefined;
      },
      listedAt,
    )),
  );
  changes.push(
    ...(await reconcile(
      em,
      SwarmService,
      cluster,
      storedServices,
      (r) => r.serviceId,
      services.map(serviceValues),
      (v) => v.serviceId!,
      ['cluster', 'serviceId'],
      (before, after) => {
        const id = (after?.serviceId ?? before?.serviceId)!;
        const name = after?.name ?? before?.name ?? id;
        if (!before) return { type: 'service', action: 'create', actorId: id, attributes: { name } };
        if (!after) return { type: 'service', action: 'remove', actorId: id, attributes: { name } };
        if (before.version === after.version) return undefined;
        const attrs: Record<string, string> = { name };
        if (before.replicas !== after.replicas) Object.assign(attrs, { 'replicas.old': String(before.replicas ?? ''), 'replicas.new': String(after.replicas ?? '') });
        if (before.image !== after.image) Object.assign(attrs, { 'image.old': before.image, 'image.new': after.image! });
        if (before.updateState !== after.updateState) Object.assign(attrs, { 'updatestate.old': before.updateState ?? '', 'updatestate.new': after.updateState ?? '' });
        return { type: 'service', action: 'update', actorId: id, attributes: attrs };
      },
      listedAt,
    )),
  );
  const incomingSecrets = [...secrets.map((s) => secretValues(SecretKind.SECRET, s)), ...configs.map((c) => secretValues(SecretKind.CONFIG, c))];
  changes.push(
    ...(await reconcile(
      em,
      SecretReference,
      cluster,
      storedSecrets,
      (r) => `${r.kind}:${r.dockerId}`,
      incomingSecrets,
      (v) => `${v.kind}:${v.dockerId}`,
      ['cluster', 'kind', 'dockerId'],
      (before, after) => {
        if (before && after) return undefined;
        const row = (after ?? before)!;
        return { type: row.kind as 'secret' | 'config', action: before ? 'remove' : 'create', actorId: row.dockerId!, attributes: { name: row.name! } };
      },
      listedAt,
    )),
  );
  changes.push(
    ...(await reconcile(
      em,
      SwarmNetwork,
      cluster,
      storedNetworks,
      (r) => r.networkId,
      networks.filter((n) => n.Scope === 'swarm').map(networkValues),
      (v) => v.networkId!,
      ['cluster', 'networkId'],
      (before, after) => {
        if (before && after) return undefined;
        const row = (after ?? before)!;
        return { type: 'network', action: before ? 'remove' : 'create', actorId: row.networkId!, attributes: { name: row.name! } };
      },
      listedAt,
    )),
  );
  await em.flush();
  await linkNodesToHosts(em, cluster);
  return { nodes: nodes.length, services: services.length, secrets: secrets.length, configs: configs.length, networks: networks.length, changes, watch, quorum: listedQuorum(nodes) };
}

/**
 * Services whose tasks the watcher should read: Docker emits no task events, so a task that
 * died, was rescheduled or failed is found here: the stored figures are not of the listed
 * version, a rollout moves, or Docker's own counts (ServiceStatus) differ from the stored ones.
 */
function servicesToWatch(listed: ServiceInspect[], stored: SwarmService[]): string[] {
  const byId = new Map(stored.map((r) => [r.serviceId, r]));
  return listed
    .filter((s) => {
      const row = byId.get(s.ID);
      if (!row || row.tasksVersion !== (s.Version?.Index ?? 0) || !serviceConverged({ ...row, version: s.Version?.Index ?? 0, updateState: s.UpdateStatus?.State ?? null })) return true;
      const status = s.ServiceStatus;
      return status !== null && status !== undefined && (status.RunningTasks !== row.runningTasks || status.DesiredTasks !== row.desiredTasks);
    })
    .map((s) => s.ID);
}

/** A SwarmNode whose engine is a registered DockerHost (same swarm node id in its info) is linked to it. */
export async function linkNodesToHosts(em: EntityManager, cluster: SwarmCluster): Promise<void> {
  await em.getConnection().execute(
    `update swarm_nodes n set host_id = h.id
       from docker_hosts h
      where n.cluster_id = ? and h.account_id = n.account_id and h.swarm_node_id = n.node_id and n.host_id is distinct from h.id`,
    [cluster.id],
  );
}

/**
 * Inserts or updates one row of a cluster in a single statement (INSERT … ON CONFLICT on the
 * row's unique key): the supervisor's sync and a mutation storing the same object race, and
 * neither may fail with a duplicate key.
 */
/** Whether `incoming` carries an older Docker version index than the stored row. */
function olderThan(incoming: object, row: object): boolean {
  const a = (incoming as { version?: number }).version;
  const b = (row as { version?: number }).version;
  return typeof a === 'number' && typeof b === 'number' && a < b;
}

async function upsertRow<T extends object>(
  em: EntityManager,
  entity: new () => T,
  cluster: SwarmCluster,
  values: Partial<T>,
  conflict: string[],
  onConflict: 'merge' | 'ignore' = 'merge',
): Promise<T> {
  // upsert with plain data skips the entities' initialisers: a new row needs its key and times
  const now = new Date();
  const data = { id: randomUUID(), createdAt: now, updatedAt: now, ...values, account: cluster.account.id, cluster: cluster.id };
  return em.upsert(entity, data as never, { onConflictFields: conflict as never, onConflictAction: onConflict, onConflictExcludeFields: ['id', 'createdAt'] as never });
}

/** Stores one service from an inspect (after a mutation), so the graph answers at once. */
export function upsertService(em: EntityManager, cluster: SwarmCluster, inspect: ServiceInspect): Promise<SwarmService> {
  return upsertRow(em, SwarmService, cluster, serviceValues(inspect), ['cluster', 'serviceId']);
}

export function upsertNode(em: EntityManager, cluster: SwarmCluster, inspect: NodeInspect): Promise<SwarmNode> {
  return upsertRow(em, SwarmNode, cluster, nodeValues(inspect), ['cluster', 'nodeId']);
}

export function upsertSecret(em: EntityManager, cluster: SwarmCluster, kind: SecretKind, inspect: SecretInspect): Promise<SecretReference> {
  return upsertRow(em, SecretReference, cluster, secretValues(kind, inspect), ['cluster', 'kind', 'dockerId']);
}
