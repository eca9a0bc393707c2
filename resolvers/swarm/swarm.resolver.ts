import { Arg, Args, Authorized, Ctx, Extensions, FieldResolver, ID, Info, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { GraphQLResolveInfo } from 'graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import type { FilterQuery } from '@mikro-orm/postgresql';
import { DockerActivity, DockerHost, SecretKind, SecretReference, SwarmCluster, SwarmEvent, SwarmNetwork, SwarmNode, SwarmNodeRole, SwarmService } from '../../entities';
import { assertAnyPermission, Context, hasPermission, scopeOf } from '../../src/graphql/context';
import { loaderOf } from '../../src/graphql/loaders';
import { PERMISSIONS } from '../../src/kernel/permissions';
import { childConnection, ConnectionArgs, paginate } from '../../src/graphql/connection';
import { expectGlobalId, toGlobalId } from '../../src/graphql/relay';
import { resolverInstance } from '../../src/graphql/instances';
import { hydrate } from '../../src/infra/pubsub/payload';
import { cursorArg, eventFeed, statusFeed, subscribedRow } from '../../src/graphql/feeds';
import { Topic } from '../../src/infra/pubsub/topics';
import { clusterHealth, ConfigManager, NodeManager, SecretManager, serviceConverged, ServiceManager, SWARM_EVENT_LOG, SwarmManager } from '../../src/modules/swarm';
import type { ClusterStatusPayload, ServiceLogLine as LogLine, ServiceTasksPayload, TaskView } from '../../src/modules/swarm';
import {
  ConfigIdInput,
  ConfigPayload,
  CreateConfigInput,
  CreateSecretInput,
  CreateServiceInput,
  InitSwarmInput,
  JoinSwarmInput,
  JoinSwarmPayload,
  LeaveSwarmInput,
  LeaveSwarmPayload,
  NodeIdInput,
  RegisterSwarmClusterInput,
  RemovedPayload,
  RemoveNodeInput,
  RotateSecretInput,
  RotateSecretPayload,
  ScaleServiceInput,
  SecretIdInput,
  SecretPayload,
  SecretReferenceConnection,
  ServiceIdInput,
  ServiceLogLine,
  ServiceTasksChange,
  SetSwarmClusterMaintenanceInput,
  SwarmClusterConnection,
  SwarmClusterHealth,
  SwarmClusterIdInput,
  SwarmClusterPayload,
  SwarmClusterStatusChange,
  SwarmEventConnection,
  SwarmEventFilter,
  SwarmJoinTokens,
  SwarmNodeConnection,
  SwarmNodePayload,
  SwarmServiceConnection,
  SwarmServiceFilter,
  SwarmServicePayload,
  SwarmTask,
  SwarmTaskChange,
  SyncSwarmClusterPayload,
  UpdateNodeInput,
  UpdateSecretInput,
  UpdateServiceInput,
  UpdateSwarmClusterInput,
  UpdateSwarmInput,
} from './swarm.types';

const byName = { field: 'name', direction: 'asc' } as const;
const byHostname = { field: 'hostname', direction: 'asc' } as const;
const newestFirst = { field: 'time', direction: 'desc' } as const;

/** The filter of a cluster's events (the cluster itself is the nested connection's parent). */
function eventWhere(f: SwarmEventFilter | undefined): FilterQuery<SwarmEvent> {
  const where: Record<string, unknown> = {};
  if (f?.types?.length) where.type = { $in: f.types };
  if (f?.actions?.length) where.action = { $in: f.actions };
  if (f?.actorId) where.actorId = f.actorId;
  if (f?.severities?.length) where.severity = { $in: f.severities };
  if (f?.since) where.time = { $gte: f.since };
  return where as FilterQuery<SwarmEvent>;
}

function eventMatches(e: { type: string; action: string; actorId: string; severity: string }, f: SwarmEventFilter | undefined): boolean {
  if (!f) return true;
  if (f.types?.length && !f.types.includes(e.type)) return false;
  if (f.actions?.length && !f.actions.includes(e.action)) return false;
  if (f.actorId && f.actorId !== e.actorId) return false;
  if (f.severities?.length && !f.severities.includes(e.severity as never)) return false;
  return true;
}

/** The filter of a cluster's services (the cluster itself is the nested connection's parent). */
function serviceWhere(f: SwarmServiceFilter | undefined): FilterQuery<SwarmService> {
  const where: Record<string, unknown> = {};
  if (f?.name) where.name = { $ilike: `%${f.name.replace(/[\\%_]/g, (c) => `\\${c}`)}%` };
  if (f?.stack) where.stack = f.stack;
  return where as FilterQuery<SwarmService>;
}

const clusterOf = (ctx: Context, row: { cluster: SwarmCluster | { id: string } } | { clusterId?: string }) => {
  const id = 'cluster' in row ? row.cluster.id : row.clusterId;
  return id ? loaderOf(ctx, SwarmCluster).load(id) : null;
};

/** Global ids of the swarm types, decoded here (the services take plain ids). */
const clusterIdOf = (globalId: string, field: string) => expectGlobalId(globalId, 'SwarmCluster', field);
const nodeIdOf = (globalId: string) => expectGlobalId(globalId, 'SwarmNode', 'nodeId');
const serviceIdOf = (globalId: string) => expectGlobalId(globalId, 'SwarmService', 'serviceId');
const referenceIdOf = (globalId: string, field: string) => expectGlobalId(globalId, 'SecretReference', field);
const hostIdOf = (globalId: string) => expectGlobalId(globalId, 'DockerHost', 'hostId');

const CLUSTER_FEED = { entity: SwarmCluster, typeName: 'SwarmCluster' };
const SERVICE_FEED = { entity: SwarmService, typeName: 'SwarmService' };

const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string));

/** A task of a payload or of the stored failing tasks (dates arrive as strings through Redis and JSON columns). */
function taskChange(t: TaskView | Record<string, unknown>): SwarmTaskChange {
  const v = t as TaskView;
  return { ...v, createdAt: dateOrNull(v.createdAt), updatedAt: dateOrNull(v.updatedAt) };
}

@Resolver(() => SwarmCluster)
export class SwarmClusterResolver {
  constructor(private readonly clusters: SwarmManager) {}

  @Authorized()
  @Query(() => SwarmClusterConnection, { description: 'Swarm clusters of your account, by name.' })
  swarmClusters(@Args() page: ConnectionArgs, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return paginate(ctx.em, SwarmCluster, {}, page, byName, info);
  }

  @Authorized()
  @Query(() => SwarmCluster, { description: 'One cluster by id (NOT_FOUND when it is not yours).' })
  swarmCluster(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return this.clusters.get(scopeOf(ctx), clusterIdOf(id, 'id'));
  }

  // --- fields ---

  @FieldResolver(() => SwarmClusterHealth, { description: 'Quorum, leader, managers reachable, faults tolerated, nodes by state and availability, services converged (from the last sync).' })
  health(@Root() cluster: SwarmCluster, @Ctx() ctx: Context) {
    return clusterHealth(ctx.em, cluster);
  }

  @Authorized(PERMISSIONS.clustersManage)
  @Extensions({ dockerCalls: 1 })
  @FieldResolver(() => SwarmJoinTokens, { description: 'Join tokens, read live from the manager. Needs swarm.clusters.manage.' })
  joinTokens(@Root() cluster: SwarmCluster, @Ctx() ctx: Context) {
    return this.clusters.joinTokens(scopeOf(ctx), cluster);
  }

  @Extensions({ dockerCalls: 1 })
  @FieldResolver(() => GraphQLJSONObject, { description: "Docker's GET /swarm, read live (join tokens left out)." })
  inspect(@Root() cluster: SwarmCluster, @Ctx() ctx: Context) {
    return this.clusters.inspect(scopeOf(ctx), cluster);
  }

  // Nested connections load the pages of every cluster of the request in one statement (childConnection).

  @FieldResolver(() => SwarmNodeConnection, { description: 'Nodes by hostname.' })
  nodes(
    @Root() cluster: SwarmCluster,
    @Args() page: ConnectionArgs,
    @Arg('role', () => SwarmNodeRole, { nullable: true }) role: SwarmNodeRole | undefined,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ) {
    return childConnection(ctx, info, cluster.id, { entity: SwarmNode, parent: 'cluster', where: () => (role ? { role } : {}), args: page, order: byHostname, filter: role ?? null });
  }

  @FieldResolver(() => SwarmServiceConnection, { description: 'Services by name.' })
  services(
    @Root() cluster: SwarmCluster,
    @Args() page: ConnectionArgs,
    @Arg('filter', () => SwarmServiceFilter, { nullable: true }) filter: SwarmServiceFilter | undefined,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ) {
    return childConnection(ctx, info, cluster.id, { entity: SwarmService, parent: 'cluster', where: () => serviceWhere(filter), args: page, order: byName, filter });
  }

  @FieldResolver(() => [SwarmNetwork], { description: 'Swarm-scoped networks (overlay, ingress) from the last sync, by name.' })
  networks(@Root() cluster: SwarmCluster, @Ctx() ctx: Context) {
    return ctx.em.find(SwarmNetwork, { cluster: cluster.id }, { orderBy: { name: 'asc' } });
  }

  @FieldResolver(() => SecretReferenceConnection, { description: 'Secrets (metadata only), by name.' })
  secrets(@Root() cluster: SwarmCluster, @Args() page: ConnectionArgs, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return childConnection(ctx, info, cluster.id, { entity: SecretReference, parent: 'cluster', where: () => ({ kind: SecretKind.SECRET }), args: page, order: byName });
  }

  @FieldResolver(() => SecretReferenceConnection, { description: 'Configs, by name.' })
  configs(@Root() cluster: SwarmCluster, @Args() page: ConnectionArgs, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return childConnection(ctx, info, cluster.id, { entity: SecretReference, parent: 'cluster', where: () => ({ kind: SecretKind.CONFIG }), args: page, order: byName });
  }

  @FieldResolver(() => SwarmEventConnection, { description: 'Stored swarm events, newest first.' })
  events(
    @Root() cluster: SwarmCluster,
    @Args() page: ConnectionArgs,
    @Arg('filter', () => SwarmEventFilter, { nullable: true }) filter: SwarmEventFilter | undefined,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ) {
    return childConnection(ctx, info, cluster.id, { entity: SwarmEvent, parent: 'cluster', where: () => eventWhere(filter), args: page, order: newestFirst, filter });
  }

  // --- mutations: clusters ---

  @Authorized(PERMISSIONS.clustersManage)
  @Mutation(() => SwarmClusterPayload, { description: "Registers an existing swarm by a manager's Engine API; it connects and syncs in the background (watch swarmClusterStatusChanged)." })
  registerSwarmCluster(@Arg('input', () => RegisterSwarmClusterInput) input: RegisterSwarmClusterInput, @Ctx() ctx: Context) {
    return this.clusters.register(scopeOf(ctx), input);
  }

  @Authorized(PERMISSIONS.clustersManage)
  @Mutation(() => SwarmClusterPayload)
  updateSwarmCluster(@Arg('input', () => UpdateSwarmClusterInput) input: UpdateSwarmClusterInput, @Ctx() ctx: Context) {
    const { id, ...rest } = input;
    return this.clusters.update(scopeOf(ctx), clusterIdOf(id, 'id'), rest);
  }

  @Authorized(PERMISSIONS.clustersManage)
  @Mutation(() => RemovedPayload, { description: 'Forgets the cluster (its stored nodes, services, events); the swarm itself is not touched.' })
  async removeSwarmCluster(@Arg('input', () => SwarmClusterIdInput) input: SwarmClusterIdInput, @Ctx() ctx: Context) {
    const { activity } = await this.clusters.remove(scopeOf(ctx), clusterIdOf(input.id, 'id'));
    return { removedId: input.id, activity };
  }

  @Authorized(PERMISSIONS.clustersManage)
  @Mutation(() => SwarmClusterPayload)
  setSwarmClusterMaintenance(@Arg('input', () => SetSwarmClusterMaintenanceInput) input: SetSwarmClusterMaintenanceInput, @Ctx() ctx: Context) {
    return this.clusters.setMaintenance(scopeOf(ctx), clusterIdOf(input.id, 'id'), input.maintenance);
  }

  @Authorized(PERMISSIONS.clustersManage)
  @Mutation(() => SyncSwarmClusterPayload, { description: 'Full sync now: nodes, services, secrets, configs; records status and quorum.' })
  async syncSwarmCluster(@Arg('input', () => SwarmClusterIdInput) input: SwarmClusterIdInput, @Ctx() ctx: Context): Promise<SyncSwarmClusterPayload> {
    const { cluster, activity, result } = await this.clusters.sync(scopeOf(ctx), clusterIdOf(input.id, 'id'));
    return { cluster, activity, nodes: result.nodes, services: result.services, secrets: result.secrets, configs: result.configs, networks: result.networks, changes: result.changes.length };
  }

  @Authorized(PERMISSIONS.clustersManage, PERMISSIONS.hostsManage)
  @Mutation(() => SwarmClusterPayload, {
    description:
      '`docker swarm init` on a registered host: it becomes the first manager, and the swarm is registered as a cluster (same endpoint and TLS as the host). Needs swarm.clusters.manage and docker.hosts.manage.',
  })
  initSwarm(@Arg('input', () => InitSwarmInput) input: InitSwarmInput, @Ctx() ctx: Context) {
    return this.clusters.initSwarm(scopeOf(ctx), { ...input, hostId: hostIdOf(input.hostId) });
  }

  @Authorized(PERMISSIONS.clustersManage, PERMISSIONS.hostsManage)
  @Mutation(() => JoinSwarmPayload, { description: 'Joins a registered host to a cluster as WORKER or MANAGER, with the join token read from the cluster.' })
  joinSwarm(@Arg('input', () => JoinSwarmInput) input: JoinSwarmInput, @Ctx() ctx: Context) {
    return this.clusters.joinSwarm(scopeOf(ctx), { ...input, hostId: hostIdOf(input.hostId), clusterId: clusterIdOf(input.clusterId, 'clusterId') });
  }

  @Authorized(PERMISSIONS.clustersManage, PERMISSIONS.hostsManage)
  @Mutation(() => LeaveSwarmPayload, { description: '`docker swarm leave` on a registered host. The node stays listed (down) until removeNode.' })
  leaveSwarm(@Arg('input', () => LeaveSwarmInput) input: LeaveSwarmInput, @Ctx() ctx: Context) {
    return this.clusters.leaveSwarm(scopeOf(ctx), { ...input, hostId: hostIdOf(input.hostId) });
  }

  @Authorized(PERMISSIONS.clustersManage)
  @Mutation(() => SwarmClusterPayload, { description: 'Swarm settings (raft, dispatcher, CA, task history, autolock) and join-token rotation.' })
  updateSwarm(@Arg('input', () => UpdateSwarmInput) input: UpdateSwarmInput, @Ctx() ctx: Context) {
    const { clusterId, ...rest } = input;
    return this.clusters.updateSwarm(scopeOf(ctx), clusterIdOf(clusterId, 'clusterId'), rest);
  }

  // --- subscriptions ---

  @Authorized()
  @Extensions({ shareable: true, replayArgs: ['after'] })
  @Subscription(() => SwarmEvent, {
    name: 'swarmEvents',
    description:
      "Swarm events of a cluster (service, node, secret, config, network), each once and in order: stored first, then delivered through pub/sub to any replica. With `after` (an event's `cursor`), the stored events after it are replayed first; GAP events are always delivered.",
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      const filter = args.filter as SwarmEventFilter | undefined;
      return eventFeed(ctx, CLUSTER_FEED, args.clusterId as string, 'clusterId', Topic.SWARM_EVENTS, SWARM_EVENT_LOG, cursorArg(args.after as string | undefined), (e: SwarmEvent) =>
        eventMatches(e, filter),
      );
    },
  })
  swarmEvents$(
    @Root() payload: Record<string, unknown>,
    @Arg('clusterId', () => ID) _clusterId: string,
    @Arg('filter', () => SwarmEventFilter, { nullable: true }) _filter: SwarmEventFilter | undefined,
    @Arg('after', () => String, { nullable: true, description: "Resume after this event's `cursor`: the stored events after it are delivered first." }) _after: string | undefined,
  ): SwarmEvent {
    return hydrate(SwarmEvent, { ...payload, time: new Date(payload.time as string) });
  }

  @Authorized()
  @Extensions({ shareable: true })
  @Subscription(() => SwarmClusterStatusChange, {
    description: 'Status and quorum transitions of your clusters (or of one).',
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      return statusFeed(ctx, CLUSTER_FEED, args.clusterId as string | undefined, 'clusterId', Topic.SWARM_CLUSTER_STATUS, (p: ClusterStatusPayload) => p.clusterId);
    },
  })
  swarmClusterStatusChanged(@Root() p: ClusterStatusPayload, @Arg('clusterId', () => ID, { nullable: true }) _clusterId: string | undefined): SwarmClusterStatusChange {
    return { ...p, clusterId: toGlobalId('SwarmCluster', p.clusterId), changedAt: new Date(p.changedAt) };
  }
}

@Resolver(() => SwarmNode)
export class SwarmNodeResolver {
  constructor(private readonly nodes: NodeManager) {}

  @FieldResolver(() => SwarmCluster, { nullable: true })
  cluster(@Root() row: SwarmNode, @Ctx() ctx: Context) {
    return clusterOf(ctx, row);
  }

  @FieldResolver(() => DockerHost, { nullable: true, description: 'The registered host whose engine is this node (same node id in its info).' })
  host(@Root() row: SwarmNode, @Ctx() ctx: Context) {
    return row.host ? ctx.em.findOne(DockerHost, row.host.id) : null;
  }

  @Extensions({ dockerCalls: 1 })
  @FieldResolver(() => GraphQLJSONObject, { description: "Docker's GET /nodes/{id}, read live." })
  inspect(@Root() row: SwarmNode, @Ctx() ctx: Context) {
    return this.nodes.inspect(scopeOf(ctx), row);
  }

  @Authorized(PERMISSIONS.clustersManage)
  @Mutation(() => SwarmNodePayload, { description: 'Availability (ACTIVE, PAUSE, DRAIN) and labels; sent with the node\'s version, retried on "update out of sequence".' })
  updateNode(@Arg('input', () => UpdateNodeInput) input: UpdateNodeInput, @Ctx() ctx: Context) {
    const { nodeId, ...rest } = input;
    return this.nodes.update(scopeOf(ctx), nodeIdOf(nodeId), rest);
  }

  @Authorized(PERMISSIONS.clustersManage)
  @Mutation(() => SwarmNodePayload)
  promoteNode(@Arg('input', () => NodeIdInput) input: NodeIdInput, @Ctx() ctx: Context) {
    return this.nodes.promote(scopeOf(ctx), nodeIdOf(input.nodeId));
  }

  @Authorized(PERMISSIONS.clustersManage)
  @Mutation(() => SwarmNodePayload, { description: 'Refused (CONFLICT) for the last manager.' })
  demoteNode(@Arg('input', () => NodeIdInput) input: NodeIdInput, @Ctx() ctx: Context) {
    return this.nodes.demote(scopeOf(ctx), nodeIdOf(input.nodeId));
  }

  @Authorized(PERMISSIONS.clustersManage)
  @Mutation(() => RemovedPayload, { description: 'Removes a worker node (demote a manager first; force for a node that is not down).' })
  async removeNode(@Arg('input', () => RemoveNodeInput) input: RemoveNodeInput, @Ctx() ctx: Context) {
    const { activity } = await this.nodes.remove(scopeOf(ctx), nodeIdOf(input.nodeId), input.force ?? false);
    return { removedId: input.nodeId, activity };
  }
}

@Resolver(() => SwarmService)
export class SwarmServiceResolver {
  constructor(
    private readonly clusters: SwarmManager,
    readonly services: ServiceManager,
  ) {}

  @FieldResolver(() => SwarmCluster, { nullable: true })
  cluster(@Root() row: SwarmService, @Ctx() ctx: Context) {
    return clusterOf(ctx, row);
  }

  @Extensions({ dockerCalls: 1 })
  @FieldResolver(() => [SwarmTask], { description: 'Tasks, newest first, read live (state, desired state, node, error, exit code).' })
  tasks(@Root() row: SwarmService, @Arg('desiredState', () => String, { nullable: true, description: 'e.g. running, shutdown' }) desiredState: string | undefined, @Ctx() ctx: Context) {
    return this.services.tasks(scopeOf(ctx), row, desiredState);
  }

  @Extensions({ dockerCalls: 1 })
  @FieldResolver(() => GraphQLJSONObject, {
    description: "Docker's GET /services/{id}, read live. Environment values are shown to callers with swarm.clusters.manage or swarm.stacks.deploy only (names to others).",
  })
  async inspect(@Root() row: SwarmService, @Ctx() ctx: Context) {
    const inspect = (await this.services.inspect(scopeOf(ctx), row)) as { Spec?: Record<string, unknown>; PreviousSpec?: Record<string, unknown> };
    return showsSpecValues(ctx) ? inspect : { ...inspect, Spec: envRedacted(inspect.Spec), PreviousSpec: envRedacted(inspect.PreviousSpec) };
  }

  @FieldResolver(() => GraphQLJSONObject, {
    description: "Docker's full service spec. Environment values are shown to callers with swarm.clusters.manage or swarm.stacks.deploy only (names to others).",
  })
  spec(@Root() row: SwarmService, @Ctx() ctx: Context): Record<string, unknown> {
    return showsSpecValues(ctx) ? row.spec : envRedacted(row.spec)!;
  }

  @FieldResolver(() => GraphQLJSONObject, { nullable: true, description: 'The spec before the last update (what rollbackService returns to); environment values as in `spec`.' })
  previousSpec(@Root() row: SwarmService, @Ctx() ctx: Context): Record<string, unknown> | null {
    const previous = row.previousSpec ?? null;
    return showsSpecValues(ctx) ? previous : (envRedacted(previous) ?? null);
  }

  @FieldResolver(() => Boolean, {
    description:
      'Tasks read at the current version, running tasks of the current spec equal to the desired ones, no rollout moving or paused, no slot failing (what SwarmClusterHealth.servicesConverged counts).',
  })
  converged(@Root() row: SwarmService): boolean {
    return serviceConverged(row);
  }

  @FieldResolver(() => String, { nullable: true, description: 'UpdateStatus.Message (e.g. "update paused due to failure or early termination of task …").' })
  updateMessage(@Root() row: SwarmService): string | null {
    const m = row.updateStatus?.Message;
    return typeof m === 'string' ? m : null;
  }

  @FieldResolver(() => [SwarmTaskChange], {
    description: "Tasks of the current spec that failed or were rejected in a slot where none runs, newest first, with Docker's error (kept up to date by the task watcher).",
  })
  failingTasks(@Root() row: SwarmService): SwarmTaskChange[] {
    return (row.failingTasks ?? []).map(taskChange);
  }

  @Authorized(PERMISSIONS.clustersManage)
  @Mutation(() => SwarmServicePayload, { description: 'Creates a service. The daemon is not asked to resolve image digests unless spec.resolveImage.' })
  async createService(@Arg('input', () => CreateServiceInput) input: CreateServiceInput, @Ctx() ctx: Context) {
    const scope = scopeOf(ctx);
    const cluster = await this.clusters.get(scope, clusterIdOf(input.clusterId, 'clusterId'));
    return this.services.create(scope, cluster, input.spec);
  }

  @Authorized(PERMISSIONS.clustersManage)
  @Mutation(() => SwarmServicePayload, { description: 'Replaces the spec (optimistic: sent with the version index, retried on "update out of sequence"). Docker keeps the old spec as previousSpec.' })
  updateService(@Arg('input', () => UpdateServiceInput) input: UpdateServiceInput, @Ctx() ctx: Context) {
    return this.services.update(scopeOf(ctx), serviceIdOf(input.serviceId), input.spec, input.forceUpdate ?? false);
  }

  @Authorized(PERMISSIONS.clustersManage)
  @Mutation(() => SwarmServicePayload)
  scaleService(@Arg('input', () => ScaleServiceInput) input: ScaleServiceInput, @Ctx() ctx: Context) {
    return this.services.scale(scopeOf(ctx), serviceIdOf(input.serviceId), input.replicas);
  }

  @Authorized(PERMISSIONS.clustersManage)
  @Mutation(() => SwarmServicePayload, { description: "Docker's server-side rollback to the previous spec (one level)." })
  rollbackService(@Arg('input', () => ServiceIdInput) input: ServiceIdInput, @Ctx() ctx: Context) {
    return this.services.rollback(scopeOf(ctx), serviceIdOf(input.serviceId));
  }

  @Authorized(PERMISSIONS.clustersManage)
  @Mutation(() => RemovedPayload)
  async removeService(@Arg('input', () => ServiceIdInput) input: ServiceIdInput, @Ctx() ctx: Context) {
    const { activity } = await this.services.remove(scopeOf(ctx), serviceIdOf(input.serviceId));
    return { removedId: input.serviceId, activity };
  }

  @Authorized()
  @Subscription(() => ServiceTasksChange, {
    description:
      "Changes of a service's tasks (Docker has no task events: fleetgraph reads them every 500 ms while the service changes): each read that changed a task delivers the changed tasks and the service's running/desired after them. Your own services only (NOT_FOUND otherwise).",
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      const row = await subscribedRow(ctx, SERVICE_FEED, args.serviceId as string, 'serviceId');
      return ctx.events.subscribe(Topic.SWARM_SERVICE_TASKS, row.id);
    },
  })
  serviceTasksChanged(@Root() p: ServiceTasksPayload, @Arg('serviceId', () => ID) _serviceId: string): ServiceTasksChange {
    return { ...p, serviceId: toGlobalId('SwarmService', p.serviceId), tasks: p.tasks.map(taskChange), observedAt: new Date(p.observedAt) };
  }

  @Authorized(PERMISSIONS.logsRead)
  @Subscription(() => ServiceLogLine, {
    description: 'Output of all tasks of a service (needs docker.logs.read), streamed from the manager by the replica serving you. Ends after the tail unless follow.',
    subscribe: ({ args, context, info }) => {
      const ctx = context as Context;
      const id = serviceIdOf(args.serviceId as string);
      // a live Docker stream, not a pub/sub topic: the composed resolver's ServiceManager opens it
      const { services } = resolverInstance(info, SwarmServiceResolver);
      return services.logs(scopeOf(ctx), id, { follow: args.follow as boolean, tail: args.tail as number });
    },
  })
  serviceLogs(
    @Root() line: LogLine,
    @Arg('serviceId', () => ID) _serviceId: string,
    @Arg('follow', () => Boolean, { defaultValue: true }) _follow: boolean,
    @Arg('tail', () => Int, { defaultValue: 100, description: 'Lines per task from the end to start with (0–10000).' }) _tail: number,
  ): ServiceLogLine {
    return line;
  }
}

@Resolver(() => SecretReference)
export class SecretReferenceResolver {
  constructor(
    private readonly clusters: SwarmManager,
    private readonly secrets: SecretManager,
    private readonly configs: ConfigManager,
  ) {}

  @FieldResolver(() => SwarmCluster, { nullable: true })
  cluster(@Root() row: SecretReference, @Ctx() ctx: Context) {
    return clusterOf(ctx, row);
  }

  @Extensions({ dockerCalls: 1 })
  @FieldResolver(() => GraphQLJSONObject, { description: "Docker's inspect, read live (a secret's has no data: Docker never returns it)." })
  inspect(@Root() row: SecretReference, @Ctx() ctx: Context) {
    return this.configs.inspect(scopeOf(ctx), row);
  }

  @Extensions({ dockerCalls: 1 })
  @FieldResolver(() => String, { nullable: true, description: 'Configs only: the content, read live. Always null for secrets (write-only).' })
  async data(@Root() row: SecretReference, @Ctx() ctx: Context) {
    if (row.kind !== SecretKind.CONFIG) return null;
    // a stack's files become configs: their content is for who manages the swarm, deploys stacks or manages its secrets
    assertAnyPermission(ctx, PERMISSIONS.clustersManage, PERMISSIONS.stacksDeploy, PERMISSIONS.secretsManage);
    return this.configs.data(scopeOf(ctx), row);
  }

  @Authorized(PERMISSIONS.secretsManage)
  @Mutation(() => SecretPayload, { description: 'Creates a secret; the value goes to Docker once and is never stored, logged or returned. Needs swarm.secrets.manage.' })
  async createSecret(@Arg('input', () => CreateSecretInput) input: CreateSecretInput, @Ctx() ctx: Context) {
    const scope = scopeOf(ctx);
    const cluster = await this.clusters.get(scope, clusterIdOf(input.clusterId, 'clusterId'));
    return this.secrets.create(scope, cluster, input);
  }

  @Authorized(PERMISSIONS.secretsManage)
  @Mutation(() => SecretPayload, { description: 'Labels only (Docker allows no other change to a secret; use rotateSecret for a new value).' })
  updateSecret(@Arg('input', () => UpdateSecretInput) input: UpdateSecretInput, @Ctx() ctx: Context) {
    return this.secrets.update(scopeOf(ctx), referenceIdOf(input.secretId, 'secretId'), input.labels);
  }

  @Authorized(PERMISSIONS.secretsManage)
  @Mutation(() => RemovedPayload)
  async removeSecret(@Arg('input', () => SecretIdInput) input: SecretIdInput, @Ctx() ctx: Context) {
    const { activity } = await this.secrets.remove(scopeOf(ctx), referenceIdOf(input.secretId, 'secretId'));
    return { removedId: input.secretId, activity };
  }

  @Authorized(PERMISSIONS.secretsManage)
  @Mutation(() => RotateSecretPayload, { description: 'New value: creates <family>-v<n+1>, repoints every service that uses the secret (same target file; rolling restart), removes the old one.' })
  rotateSecret(@Arg('input', () => RotateSecretInput) input: RotateSecretInput, @Ctx() ctx: Context) {
    return this.secrets.rotate(scopeOf(ctx), referenceIdOf(input.secretId, 'secretId'), input.value);
  }

  @Authorized(PERMISSIONS.clustersManage)
  @Mutation(() => ConfigPayload)
  async createConfig(@Arg('input', () => CreateConfigInput) input: CreateConfigInput, @Ctx() ctx: Context) {
    const scope = scopeOf(ctx);
    const cluster = await this.clusters.get(scope, clusterIdOf(input.clusterId, 'clusterId'));
    return this.configs.create(scope, cluster, input);
  }

  @Authorized(PERMISSIONS.clustersManage)
  @Mutation(() => RemovedPayload)
  async removeConfig(@Arg('input', () => ConfigIdInput) input: ConfigIdInput, @Ctx() ctx: Context) {
    const { activity } = await this.configs.remove(scopeOf(ctx), referenceIdOf(input.configId, 'configId'));
    return { removedId: input.configId, activity };
  }
}

@Resolver(() => SwarmNetwork)
export class SwarmNetworkResolver {
  constructor(private readonly clusters: SwarmManager) {}

  @FieldResolver(() => SwarmCluster, { nullable: true })
  cluster(@Root() row: SwarmNetwork, @Ctx() ctx: Context) {
    return clusterOf(ctx, row);
  }

  @Extensions({ dockerCalls: 1 })
  @FieldResolver(() => GraphQLJSONObject, { description: "Docker's GET /networks/{id} on the manager, read live." })
  inspect(@Root() row: SwarmNetwork, @Ctx() ctx: Context) {
    return this.clusters.inspectNetwork(scopeOf(ctx), row);
  }
}

@Resolver(() => SwarmEvent)
export class SwarmEventResolver {
  @FieldResolver(() => String, { description: "Docker's timeNano, exact (decimal string)." })
  timeNano(@Root() row: SwarmEvent) {
    return row.timeNano === null || row.timeNano === undefined ? '' : String(row.timeNano);
  }

  @FieldResolver(() => SwarmCluster, { nullable: true })
  cluster(@Root() row: SwarmEvent & { clusterId?: string }, @Ctx() ctx: Context) {
    return clusterOf(ctx, row.cluster ? row : { clusterId: row.clusterId });
  }

  @FieldResolver(() => DockerActivity, { nullable: true, description: 'The activity (mutation) that caused this event, when one did.' })
  activity(@Root() row: SwarmEvent & { activityId?: string | null }, @Ctx() ctx: Context) {
    const id = row.activity?.id ?? row.activityId;
    return id ? ctx.em.findOne(DockerActivity, id) : null;
  }
}

@Resolver(() => DockerActivity)
export class SwarmActivityResolver {
  @FieldResolver(() => SwarmCluster, { nullable: true, description: 'The cluster a swarm operation targeted.' })
  cluster(@Root() row: DockerActivity & { clusterId?: string | null }, @Ctx() ctx: Context) {
    const id = row.cluster?.id ?? row.clusterId;
    return id ? ctx.em.findOne(SwarmCluster, id) : null;
  }

  @FieldResolver(() => SwarmEventConnection, { description: 'Swarm events linked to this activity (same cluster and target, within its time window).' })
  swarmEvents(@Root() row: DockerActivity, @Args() page: ConnectionArgs, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return childConnection(ctx, info, row.id, { entity: SwarmEvent, parent: 'activity', where: () => ({}), args: page, order: { field: 'time', direction: 'asc' } });
  }
}

/** Whether the caller sees a service spec's environment values (interpolated stack variables among them). */
function showsSpecValues(ctx: Context): boolean {
  return hasPermission(ctx, PERMISSIONS.clustersManage) || hasPermission(ctx, PERMISSIONS.stacksDeploy);
}

/** A service spec with its tasks' environment values replaced by `[redacted]` (names kept). */
function envRedacted(spec: Record<string, unknown> | null | undefined): Record<string, unknown> | null | undefined {
  const template = spec?.TaskTemplate as { ContainerSpec?: { Env?: unknown } } | undefined;
  const env = template?.ContainerSpec?.Env;
  if (!spec || !Array.isArray(env)) return spec;
  const redacted = env.map((e) => (typeof e === 'string' && e.includes('=') ? `${e.slice(0, e.indexOf('='))}=[redacted]` : e));
  return { ...spec, TaskTemplate: { ...template, ContainerSpec: { ...template!.ContainerSpec, Env: redacted } } };
}
