import { Arg, Args, Authorized, Ctx, Extensions, FieldResolver, ID, Info, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { GraphQLResolveInfo } from 'graphql';
import { DockerActivity, DockerContainer, DockerEvent, DockerHost, DockerImage, User } from '../../entities';
import { Context, scopeOf } from '../../src/graphql/context';
import { PERMISSIONS } from '../../src/kernel/permissions';
import { childConnection, ConnectionArgs, paginate } from '../../src/graphql/connection';
import { expectGlobalId, toGlobalId } from '../../src/graphql/relay';
import { hydrate } from '../../src/infra/pubsub/payload';
import { loaderOf } from '../../src/graphql/loaders';
import { filtered } from '../../src/graphql/subscriptions';
import { cursorArg, eventFeed, statusFeed } from '../../src/graphql/feeds';
import { Topic } from '../../src/infra/pubsub/topics';
import { activityWhere, containerWhere, eventMatches, eventWhere, HOST_EVENT_LOG, HostService, imageWhere } from '../../src/modules/hosts';
import type { HostStatusPayload } from '../../src/platform/supervision/status';
import {
  ActivityFilter,
  ContainerFilter,
  DockerActivityConnection,
  DockerContainerConnection,
  DockerEventConnection,
  DockerEventFilter,
  DockerHostConnection,
  DockerHostIdInput,
  DockerHostPayload,
  DockerHostStatusChange,
  DockerImageConnection,
  HostHealth,
  ImageFilter,
  RegisterDockerHostInput,
  RemoveDockerHostPayload,
  SetDockerHostMaintenanceInput,
  SyncDockerHostPayload,
  UpdateDockerHostInput,
} from './docker-host.types';

const byName = { field: 'name', direction: 'asc' } as const;
const newestFirst = { field: 'time', direction: 'desc' } as const;

/**
 * MikroORM 6 maps `bigint` columns to JS bigint, which GraphQL's String cannot serialize (and
 * JSON.stringify refuses): byte counts and timeNano leave as exact decimal strings.
 */
const decimal = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** A host's global id decoded (BAD_USER_INPUT naming `field` when it is not one). */
export const hostIdOf = (globalId: string, field: string) => expectGlobalId(globalId, 'DockerHost', field);

const HOST_FEED = { entity: DockerHost, typeName: 'DockerHost' };

/** The host referenced by an entity or by a pub/sub payload's hostId (through the tenant filter). */
async function hostOf(ctx: Context, row: { host?: DockerHost | null; hostId?: string | null }): Promise<DockerHost | null> {
  const id = row.host?.id ?? row.hostId;
  return id ? loaderOf(ctx, DockerHost).load(id) : null;
}

@Resolver(() => DockerHost)
export class DockerHostResolver {
  constructor(private readonly hosts: HostService) {}

  @Authorized()
  @Query(() => DockerHostConnection, { description: 'Docker hosts of your account, by name.' })
  dockerHosts(@Args() page: ConnectionArgs, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return paginate(ctx.em, DockerHost, {}, page, byName, info);
  }

  @Authorized()
  @Query(() => DockerHost, { description: 'One host by id (NOT_FOUND when it is not yours).' })
  dockerHost(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return this.hosts.get(scopeOf(ctx), hostIdOf(id, 'id'));
  }

  @Authorized()
  @Query(() => DockerContainerConnection, { description: 'Containers across all hosts of your account (from the last sync and live events).' })
  containers(@Args() page: ConnectionArgs, @Arg('filter', () => ContainerFilter, { nullable: true }) filter: ContainerFilter | undefined, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return paginate(ctx.em, DockerContainer, containerWhere(filter), page, byName, info);
  }

  @Authorized()
  @Query(() => DockerImageConnection, { description: 'Images across all hosts of your account.' })
  images(@Args() page: ConnectionArgs, @Arg('filter', () => ImageFilter, { nullable: true }) filter: ImageFilter | undefined, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return paginate(ctx.em, DockerImage, imageWhere(filter), page, undefined, info);
  }

  @Authorized()
  @Query(() => DockerEventConnection, { description: 'Stored Docker events across your hosts, newest first.' })
  dockerEvents(@Args() page: ConnectionArgs, @Arg('filter', () => DockerEventFilter, { nullable: true }) filter: DockerEventFilter | undefined, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return paginate(ctx.em, DockerEvent, eventWhere(filter), page, newestFirst, info);
  }

  @Authorized()
  @Query(() => DockerActivityConnection, { description: 'The audit log: every mutation, newest first.' })
  activities(@Args() page: ConnectionArgs, @Arg('filter', () => ActivityFilter, { nullable: true }) filter: ActivityFilter | undefined, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    const hostId = filter?.hostId ? hostIdOf(filter.hostId, 'filter.hostId') : undefined;
    return paginate(ctx.em, DockerActivity, activityWhere(filter && { ...filter, hostId }), page, { field: 'startedAt', direction: 'desc' }, info);
  }

  // --- fields ---
  // Nested connections load the pages of every host of the request in one statement (childConnection).

  @FieldResolver(() => DockerContainerConnection, { name: 'containers', description: 'Containers of this host in all states.' })
  containersOf(
    @Root() host: DockerHost,
    @Args() page: ConnectionArgs,
    @Arg('filter', () => ContainerFilter, { nullable: true }) filter: ContainerFilter | undefined,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ) {
    return childConnection(ctx, info, host.id, { entity: DockerContainer, parent: 'host', where: () => containerWhere(filter), args: page, order: byName, filter });
  }

  @FieldResolver(() => DockerImageConnection, { name: 'images' })
  imagesOf(
    @Root() host: DockerHost,
    @Args() page: ConnectionArgs,
    @Arg('filter', () => ImageFilter, { nullable: true }) filter: ImageFilter | undefined,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ) {
    return childConnection(ctx, info, host.id, { entity: DockerImage, parent: 'host', where: () => imageWhere(filter), args: page, filter });
  }

  @FieldResolver(() => DockerEventConnection, { name: 'events', description: 'Stored events of this host, newest first.' })
  eventsOf(
    @Root() host: DockerHost,
    @Args() page: ConnectionArgs,
    @Arg('filter', () => DockerEventFilter, { nullable: true }) filter: DockerEventFilter | undefined,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ) {
    return childConnection(ctx, info, host.id, { entity: DockerEvent, parent: 'host', where: () => eventWhere(filter), args: page, order: newestFirst, filter });
  }

  @FieldResolver(() => String, { nullable: true, description: 'Bytes, as a decimal string.' })
  memoryBytes(@Root() host: DockerHost) {
    return decimal(host.memoryBytes);
  }

  @FieldResolver(() => String, { nullable: true, description: 'Bytes used by images, as a decimal string.' })
  storageBytes(@Root() host: DockerHost) {
    return decimal(host.storageBytes);
  }

  @FieldResolver(() => HostHealth, { description: 'Daemon latency, container health counts and resources from the last sync.' })
  health(@Root() host: DockerHost, @Ctx() ctx: Context) {
    return this.hosts.health(scopeOf(ctx), host);
  }

  // --- mutations ---

  @Authorized(PERMISSIONS.hostsManage)
  @Mutation(() => DockerHostPayload, { description: 'Registers a Docker engine; it connects and syncs in the background (watch dockerHostStatusChanged).' })
  registerDockerHost(@Arg('input', () => RegisterDockerHostInput) input: RegisterDockerHostInput, @Ctx() ctx: Context) {
    return this.hosts.register(scopeOf(ctx), input);
  }

  @Authorized(PERMISSIONS.hostsManage)
  @Mutation(() => DockerHostPayload)
  updateDockerHost(@Arg('input', () => UpdateDockerHostInput) input: UpdateDockerHostInput, @Ctx() ctx: Context) {
    const { id, ...rest } = input;
    return this.hosts.update(scopeOf(ctx), hostIdOf(id, 'id'), rest);
  }

  @Authorized(PERMISSIONS.hostsManage)
  @Mutation(() => RemoveDockerHostPayload, { description: "Stops the host's workers and deletes it with its stored inventory and events (activities are kept)." })
  removeDockerHost(@Arg('input', () => DockerHostIdInput) input: DockerHostIdInput, @Ctx() ctx: Context) {
    return this.hosts.remove(scopeOf(ctx), hostIdOf(input.id, 'id'));
  }

  @Authorized(PERMISSIONS.hostsManage)
  @Mutation(() => DockerHostPayload)
  setDockerHostMaintenance(@Arg('input', () => SetDockerHostMaintenanceInput) input: SetDockerHostMaintenanceInput, @Ctx() ctx: Context) {
    return this.hosts.setMaintenance(scopeOf(ctx), hostIdOf(input.id, 'id'), input.maintenance);
  }

  @Authorized(PERMISSIONS.hostsManage)
  @Mutation(() => DockerHostPayload, { description: 'Resets the failure count; a host in error goes back to pending and reconnects.' })
  recoverDockerHost(@Arg('input', () => DockerHostIdInput) input: DockerHostIdInput, @Ctx() ctx: Context) {
    return this.hosts.recover(scopeOf(ctx), hostIdOf(input.id, 'id'));
  }

  @Authorized(PERMISSIONS.hostsManage)
  @Mutation(() => SyncDockerHostPayload, { description: 'Full inventory sync now (containers, images, system info).' })
  async syncDockerHost(@Arg('input', () => DockerHostIdInput) input: DockerHostIdInput, @Ctx() ctx: Context): Promise<SyncDockerHostPayload> {
    const { host, activity, result } = await this.hosts.sync(scopeOf(ctx), hostIdOf(input.id, 'id'));
    return { host, activity, containers: result.containers, images: result.images, changes: result.changes.length };
  }

  // --- subscriptions ---

  @Authorized()
  // a live pub/sub feed: subscribers asking the same thing share one execution (src/server/ws.ts)
  @Extensions({ shareable: true, replayArgs: ['after'] })
  @Subscription(() => DockerEvent, {
    name: 'dockerEvents',
    description:
      "Events of one host, each once and in order: stored first, then delivered through pub/sub to any replica. With `after` (an event's `cursor`), the stored events after it are replayed first. Pub/sub outages are filled from the store; GAP events (always delivered) say when Docker's own replay could not cover a reader's outage.",
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      const filter = args.filter as DockerEventFilter | undefined;
      return eventFeed(ctx, HOST_FEED, args.hostId as string, 'hostId', Topic.DOCKER_EVENTS, HOST_EVENT_LOG, cursorArg(args.after as string | undefined), (e: DockerEvent) => eventMatches(e, filter));
    },
  })
  dockerEvents$(
    @Root() payload: Record<string, unknown>,
    @Arg('hostId', () => ID) _hostId: string,
    @Arg('filter', () => DockerEventFilter, { nullable: true }) _filter: DockerEventFilter | undefined,
    @Arg('after', () => String, { nullable: true, description: "Resume after this event's `cursor`: the stored events after it are delivered first." }) _after: string | undefined,
  ): DockerEvent {
    return hydrate(DockerEvent, { ...payload, time: new Date(payload.time as string) });
  }

  @Authorized()
  // a live pub/sub feed: subscribers asking the same thing share one execution (src/server/ws.ts)
  @Extensions({ shareable: true })
  @Subscription(() => DockerHostStatusChange, {
    description: 'Status transitions of your hosts (or of one host).',
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      return statusFeed(ctx, HOST_FEED, args.hostId as string | undefined, 'hostId', Topic.HOST_STATUS, (p: HostStatusPayload) => p.hostId);
    },
  })
  dockerHostStatusChanged(@Root() p: HostStatusPayload, @Arg('hostId', () => ID, { nullable: true }) _hostId: string | undefined): DockerHostStatusChange {
    return { ...p, hostId: toGlobalId('DockerHost', p.hostId), changedAt: new Date(p.changedAt) };
  }

  @Authorized()
  // a live pub/sub feed: subscribers asking the same thing share one execution (src/server/ws.ts)
  @Extensions({ shareable: true })
  @Subscription(() => DockerActivity, {
    description: 'Activities of your account as they start, progress and finish.',
    subscribe: ({ args, context }) => {
      const ctx = context as Context;
      const hostId = args.hostId ? hostIdOf(args.hostId as string, 'hostId') : undefined;
      return filtered(ctx.events.subscribe(Topic.ACTIVITIES, scopeOf(ctx).accountId), (a: { hostId?: string }) => !hostId || a.hostId === hostId);
    },
  })
  activityUpdated(@Root() payload: Record<string, unknown>, @Arg('hostId', () => ID, { nullable: true }) _hostId: string | undefined): DockerActivity {
    return hydrateActivity(payload);
  }
}

const DATE_FIELDS = ['startedAt', 'finishedAt', 'createdAt', 'updatedAt'];
function hydrateActivity(payload: Record<string, unknown>): DockerActivity {
  const copy = { ...payload };
  for (const k of DATE_FIELDS) if (typeof copy[k] === 'string') copy[k] = new Date(copy[k] as string);
  return hydrate(DockerActivity, copy);
}

@Resolver(() => DockerContainer)
export class DockerContainerResolver {
  @FieldResolver(() => DockerHost, { nullable: true })
  host(@Root() row: DockerContainer, @Ctx() ctx: Context) {
    return hostOf(ctx, row);
  }
}

@Resolver(() => DockerImage)
export class DockerImageResolver {
  @FieldResolver(() => String, { description: 'Bytes, as a decimal string.' })
  sizeBytes(@Root() row: DockerImage) {
    return decimal(row.sizeBytes) ?? '0';
  }

  @FieldResolver(() => DockerHost, { nullable: true })
  host(@Root() row: DockerImage, @Ctx() ctx: Context) {
    return hostOf(ctx, row);
  }
}

@Resolver(() => DockerEvent)
export class DockerEventResolver {
  @FieldResolver(() => String, { description: "Docker's timeNano, exact (nanoseconds since the epoch, decimal string)." })
  timeNano(@Root() row: DockerEvent) {
    return decimal(row.timeNano) ?? '';
  }

  @FieldResolver(() => DockerHost, { nullable: true })
  host(@Root() row: DockerEvent, @Ctx() ctx: Context) {
    return hostOf(ctx, row as DockerEvent & { hostId?: string });
  }

  @FieldResolver(() => DockerActivity, { nullable: true, description: 'The activity that caused this event, when one did.' })
  activity(@Root() row: DockerEvent & { activityId?: string | null }, @Ctx() ctx: Context) {
    const id = row.activity?.id ?? row.activityId;
    return id ? loaderOf(ctx, DockerActivity).load(id) : null;
  }
}

@Resolver(() => DockerActivity)
export class DockerActivityResolver {
  @FieldResolver(() => User, { nullable: true })
  user(@Root() row: DockerActivity & { userId?: string | null }, @Ctx() ctx: Context) {
    const id = row.user?.id ?? row.userId;
    return id ? loaderOf(ctx, User).load(id) : null;
  }

  @FieldResolver(() => DockerHost, { nullable: true })
  host(@Root() row: DockerActivity & { hostId?: string | null }, @Ctx() ctx: Context) {
    return hostOf(ctx, row);
  }

  @FieldResolver(() => DockerEventConnection, { description: 'Docker events linked to this activity (same actor, within its time window).' })
  events(@Root() row: DockerActivity, @Args() page: ConnectionArgs, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return childConnection(ctx, info, row.id, { entity: DockerEvent, parent: 'activity', where: () => ({}), args: page, order: { field: 'time', direction: 'asc' } });
  }
}
