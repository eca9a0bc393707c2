import { Arg, Authorized, Ctx, Extensions, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { DockerContainer, DockerHost, DockerImage } from '../../entities';
import { Context, scopeOf } from '../../src/graphql/context';
import { expectGlobalId } from '../../src/graphql/relay';
import { resolverInstance } from '../../src/graphql/instances';
import { PERMISSIONS } from '../../src/kernel/permissions';
import type { Scope } from '../../src/kernel/scope';
import type { HostService } from '../../src/modules/hosts';
import type { ContainerManager, DockerNetworkInfo, DockerVolumeInfo, ImageManager, NetworkManager, VolumeManager } from '../../src/modules/docker-resources';
import type { LogLine } from '../../src/infra/engine/logs';
import {
  BuildImageInput,
  BuildImagePayload,
  ConnectNetworkInput,
  ContainerIdInput,
  ContainerLogLine,
  ContainerStopInput,
  CreateContainerInput,
  CreateNetworkInput,
  CreateVolumeInput,
  DisconnectNetworkInput,
  DockerContainerPayload,
  DockerImagePayload,
  DockerNetwork,
  DockerNetworkPayload,
  DockerVolume,
  DockerVolumePayload,
  ExecContainerInput,
  ExecContainerPayload,
  PruneVolumesInput,
  PruneVolumesPayload,
  PullImageInput,
  PushImageInput,
  RemoveContainerInput,
  RemoveImageInput,
  RemoveImagePayload,
  RemoveNetworkInput,
  RemoveResourcePayload,
  RemoveVolumeInput,
  TagImageInput,
} from './docker-resources.types';

const network = (host: DockerHost, n: DockerNetworkInfo): DockerNetwork => Object.assign(new DockerNetwork(), n, { hostUuid: host.id });
const volume = (host: DockerHost, v: DockerVolumeInfo): DockerVolume => Object.assign(new DockerVolume(), v, { hostUuid: host.id });

/** The caller's host named by an argument or input field `hostId` (a global id). */
const hostFor = (hosts: HostService, scope: Scope, input: { hostId: string }) => hosts.get(scope, expectGlobalId(input.hostId, 'DockerHost', 'hostId'));
/** A container's global id decoded (BAD_USER_INPUT naming `field` when it is not one). */
const containerIdOf = (globalId: string, field: string) => expectGlobalId(globalId, 'DockerContainer', field);

@Resolver(() => DockerContainer)
export class ContainerOperationsResolver {
  constructor(
    private readonly hosts: HostService,
    readonly containers: ContainerManager,
  ) {}

  @Extensions({ dockerCalls: 1 })
  @FieldResolver(() => GraphQLJSONObject, { nullable: true, description: "Docker's inspect of this container, read live (DOCKER_ERROR when it is gone)." })
  inspect(@Root() row: DockerContainer, @Ctx() ctx: Context) {
    return this.containers.inspect(scopeOf(ctx), row);
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => DockerContainerPayload, { description: 'Creates a container (and starts it unless start: false).' })
  async createContainer(@Arg('input', () => CreateContainerInput) input: CreateContainerInput, @Ctx() ctx: Context): Promise<DockerContainerPayload> {
    const { hostId, ...spec } = input;
    const scope = scopeOf(ctx);
    const { result, activity } = await this.containers.create(scope, await hostFor(this.hosts, scope, { hostId }), spec);
    return { container: result, activity };
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => DockerContainerPayload)
  startContainer(@Arg('input', () => ContainerIdInput) input: ContainerIdInput, @Ctx() ctx: Context) {
    return this.lifecycle(ctx, input.id, 'start');
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => DockerContainerPayload, { description: 'SIGTERM, then SIGKILL after timeoutSeconds.' })
  stopContainer(@Arg('input', () => ContainerStopInput) input: ContainerStopInput, @Ctx() ctx: Context) {
    return this.lifecycle(ctx, input.id, 'stop', input.timeoutSeconds);
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => DockerContainerPayload)
  restartContainer(@Arg('input', () => ContainerStopInput) input: ContainerStopInput, @Ctx() ctx: Context) {
    return this.lifecycle(ctx, input.id, 'restart', input.timeoutSeconds);
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => RemoveResourcePayload)
  removeContainer(@Arg('input', () => RemoveContainerInput) input: RemoveContainerInput, @Ctx() ctx: Context) {
    return this.containers.remove(scopeOf(ctx), containerIdOf(input.id, 'id'), input.force ?? false, input.removeVolumes ?? false);
  }

  @Authorized(PERMISSIONS.containersExec)
  @Mutation(() => ExecContainerPayload, { description: 'Runs a command in a running container and returns its output and exit code (needs docker.containers.exec).' })
  async execContainer(@Arg('input', () => ExecContainerInput) input: ExecContainerInput, @Ctx() ctx: Context): Promise<ExecContainerPayload> {
    const { id, ...rest } = input;
    const { result, activity } = await this.containers.exec(scopeOf(ctx), containerIdOf(id, 'id'), rest);
    return { ...result, activity };
  }

  @Authorized(PERMISSIONS.logsRead)
  @Subscription(() => ContainerLogLine, {
    description:
      "A container's output, stdout and stderr demultiplexed, streamed from its host by the replica serving you (needs docker.logs.read). Ends when the container stops unless follow is false.",
    subscribe: ({ args, context, info }) => {
      const ctx = context as Context;
      const id = containerIdOf(args.containerId as string, 'containerId');
      // a live Docker stream, not a pub/sub topic: the composed resolver's ContainerManager opens it
      const { containers } = resolverInstance(info, ContainerOperationsResolver);
      return containers.logs(scopeOf(ctx), id, { follow: args.follow as boolean, tail: args.tail as number, since: (args.since as Date | undefined) ?? null });
    },
  })
  containerLogs(
    @Root() line: LogLine,
    @Arg('containerId', () => ID) _containerId: string,
    @Arg('follow', () => Boolean, { defaultValue: true }) _follow: boolean,
    @Arg('tail', () => Int, { defaultValue: 100, description: 'Lines from the end to start with (0–10000).' }) _tail: number,
    @Arg('since', () => Date, { nullable: true }) _since: Date | undefined,
  ): ContainerLogLine {
    return line;
  }

  private async lifecycle(ctx: Context, id: string, action: 'start' | 'stop' | 'restart', timeoutSeconds?: number): Promise<DockerContainerPayload> {
    const { result, activity } = await this.containers.lifecycle(scopeOf(ctx), containerIdOf(id, 'id'), action, timeoutSeconds);
    return { container: result, activity };
  }
}

@Resolver(() => DockerImage)
export class ImageOperationsResolver {
  constructor(
    private readonly hosts: HostService,
    private readonly images: ImageManager,
  ) {}

  @Extensions({ dockerCalls: 1 })
  @FieldResolver(() => GraphQLJSONObject, { nullable: true, description: "Docker's inspect of this image, read live." })
  inspect(@Root() row: DockerImage, @Ctx() ctx: Context) {
    return this.images.inspect(scopeOf(ctx), row);
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => DockerImagePayload, { description: 'Pulls an image; layer progress is on activity.progress (watch activityUpdated).' })
  async pullImage(@Arg('input', () => PullImageInput) input: PullImageInput, @Ctx() ctx: Context): Promise<DockerImagePayload> {
    const { hostId, ...rest } = input;
    const scope = scopeOf(ctx);
    const { result, activity } = await this.images.pull(scope, await hostFor(this.hosts, scope, { hostId }), rest);
    return { image: result, activity };
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => DockerImagePayload, { description: 'Pushes an image to its registry; progress as for pulls.' })
  async pushImage(@Arg('input', () => PushImageInput) input: PushImageInput, @Ctx() ctx: Context): Promise<DockerImagePayload> {
    const { hostId, ...rest } = input;
    const scope = scopeOf(ctx);
    const { result, activity } = await this.images.push(scope, await hostFor(this.hosts, scope, { hostId }), rest);
    return { image: result, activity };
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => DockerImagePayload)
  async tagImage(@Arg('input', () => TagImageInput) input: TagImageInput, @Ctx() ctx: Context): Promise<DockerImagePayload> {
    const { hostId, ...rest } = input;
    const scope = scopeOf(ctx);
    const { result, activity } = await this.images.tag(scope, await hostFor(this.hosts, scope, { hostId }), rest);
    return { image: result, activity };
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => RemoveImagePayload)
  async removeImage(@Arg('input', () => RemoveImageInput) input: RemoveImageInput, @Ctx() ctx: Context): Promise<RemoveImagePayload> {
    const scope = scopeOf(ctx);
    return this.images.remove(scope, await hostFor(this.hosts, scope, input), input.image, input.force ?? false, input.noPrune ?? false);
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => BuildImagePayload, { description: 'Builds an image from a base64 tar context; build output is on activity.progress while it runs and in log.' })
  async buildImage(@Arg('input', () => BuildImageInput) input: BuildImageInput, @Ctx() ctx: Context): Promise<BuildImagePayload> {
    const { hostId, ...rest } = input;
    const scope = scopeOf(ctx);
    const { result, activity } = await this.images.build(scope, await hostFor(this.hosts, scope, { hostId }), rest);
    return { ...result, activity };
  }
}

@Resolver(() => DockerHost)
export class HostResourcesResolver {
  constructor(
    private readonly networkManager: NetworkManager,
    private readonly volumeManager: VolumeManager,
  ) {}

  @Extensions({ dockerCalls: 1 })
  @FieldResolver(() => [DockerNetwork], { name: 'networks', description: 'Networks on this host, read live from Docker.' })
  async networksOf(@Root() host: DockerHost, @Arg('name', () => String, { nullable: true }) name: string | undefined, @Ctx() ctx: Context) {
    return (await this.networkManager.list(scopeOf(ctx), host, name)).map((n) => network(host, n));
  }

  @Extensions({ dockerCalls: 1 })
  @FieldResolver(() => [DockerVolume], { name: 'volumes', description: 'Volumes on this host, read live from Docker.' })
  async volumesOf(@Root() host: DockerHost, @Arg('name', () => String, { nullable: true }) name: string | undefined, @Ctx() ctx: Context) {
    return (await this.volumeManager.list(scopeOf(ctx), host, name)).map((v) => volume(host, v));
  }
}

@Resolver(() => DockerNetwork)
export class NetworkResolver {
  constructor(
    private readonly hosts: HostService,
    private readonly networkManager: NetworkManager,
  ) {}

  @Authorized()
  @Extensions({ dockerCalls: 1 })
  @Query(() => [DockerNetwork], { description: "Networks of one host (name filter: Docker's substring match)." })
  async networks(@Arg('hostId', () => ID) hostId: string, @Arg('name', () => String, { nullable: true }) name: string | undefined, @Ctx() ctx: Context) {
    const scope = scopeOf(ctx);
    const host = await hostFor(this.hosts, scope, { hostId });
    return (await this.networkManager.list(scope, host, name)).map((n) => network(host, n));
  }

  @Extensions({ dockerCalls: 1 })
  @FieldResolver(() => GraphQLJSONObject, { nullable: true, description: "Docker's inspect of this network, read live." })
  async inspect(@Root() n: DockerNetwork, @Ctx() ctx: Context) {
    const scope = scopeOf(ctx);
    return this.networkManager.inspect(scope, await this.hosts.get(scope, n.hostUuid), n.networkId);
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => DockerNetworkPayload)
  async createNetwork(@Arg('input', () => CreateNetworkInput) input: CreateNetworkInput, @Ctx() ctx: Context): Promise<DockerNetworkPayload> {
    const { hostId, ...rest } = input;
    const scope = scopeOf(ctx);
    const host = await hostFor(this.hosts, scope, { hostId });
    const { result, activity } = await this.networkManager.create(scope, host, rest);
    return { network: network(host, result), activity };
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => RemoveResourcePayload)
  async removeNetwork(@Arg('input', () => RemoveNetworkInput) input: RemoveNetworkInput, @Ctx() ctx: Context) {
    const scope = scopeOf(ctx);
    return this.networkManager.remove(scope, await hostFor(this.hosts, scope, input), input.network);
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => DockerNetworkPayload)
  async connectNetwork(@Arg('input', () => ConnectNetworkInput) input: ConnectNetworkInput, @Ctx() ctx: Context): Promise<DockerNetworkPayload> {
    const { hostId, ...rest } = input;
    const scope = scopeOf(ctx);
    const host = await hostFor(this.hosts, scope, { hostId });
    const { result, activity } = await this.networkManager.connect(scope, host, rest);
    return { network: network(host, result), activity };
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => DockerNetworkPayload)
  async disconnectNetwork(@Arg('input', () => DisconnectNetworkInput) input: DisconnectNetworkInput, @Ctx() ctx: Context): Promise<DockerNetworkPayload> {
    const scope = scopeOf(ctx);
    const host = await hostFor(this.hosts, scope, input);
    const { result, activity } = await this.networkManager.disconnect(scope, host, input.network, input.container, input.force ?? false);
    return { network: network(host, result), activity };
  }
}

@Resolver(() => DockerVolume)
export class VolumeResolver {
  constructor(
    private readonly hosts: HostService,
    private readonly volumeManager: VolumeManager,
  ) {}

  @Authorized()
  @Extensions({ dockerCalls: 1 })
  @Query(() => [DockerVolume], { description: 'Volumes of one host.' })
  async volumes(@Arg('hostId', () => ID) hostId: string, @Arg('name', () => String, { nullable: true }) name: string | undefined, @Ctx() ctx: Context) {
    const scope = scopeOf(ctx);
    const host = await hostFor(this.hosts, scope, { hostId });
    return (await this.volumeManager.list(scope, host, name)).map((v) => volume(host, v));
  }

  @Extensions({ dockerCalls: 1 })
  @FieldResolver(() => GraphQLJSONObject, { nullable: true, description: "Docker's inspect of this volume, read live." })
  async inspect(@Root() v: DockerVolume, @Ctx() ctx: Context) {
    const scope = scopeOf(ctx);
    return this.volumeManager.inspect(scope, await this.hosts.get(scope, v.hostUuid), v.name);
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => DockerVolumePayload)
  async createVolume(@Arg('input', () => CreateVolumeInput) input: CreateVolumeInput, @Ctx() ctx: Context): Promise<DockerVolumePayload> {
    const { hostId, ...rest } = input;
    const scope = scopeOf(ctx);
    const host = await hostFor(this.hosts, scope, { hostId });
    const { result, activity } = await this.volumeManager.create(scope, host, rest);
    return { volume: volume(host, result), activity };
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => RemoveResourcePayload)
  async removeVolume(@Arg('input', () => RemoveVolumeInput) input: RemoveVolumeInput, @Ctx() ctx: Context) {
    const scope = scopeOf(ctx);
    return this.volumeManager.remove(scope, await hostFor(this.hosts, scope, input), input.name, input.force ?? false);
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => PruneVolumesPayload, { description: 'Removes volumes no container uses (optionally only those with the given labels).' })
  async pruneVolumes(@Arg('input', () => PruneVolumesInput) input: PruneVolumesInput, @Ctx() ctx: Context) {
    const scope = scopeOf(ctx);
    return this.volumeManager.prune(scope, await hostFor(this.hosts, scope, input), input.labels);
  }
}
