import { Arg, Authorized, Ctx, Extensions, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { DockerContainer, DockerHost, DockerImage } from '../../entities';
import { Context } from '../../src/graphql/context';
import { PERMISSIONS } from '../../src/server/auth';
import { liveRead } from '../../src/modules/docker-resources/operations';
import type { DockerNetworkInfo } from '../../src/modules/docker-resources/networks';
import type { DockerVolumeInfo } from '../../src/modules/docker-resources/volumes';
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

/** The caller's host named by a mutation input. */
const hostFor = (ctx: Context, input: { hostId: string }) => ctx.services.hosts.get(ctx, input.hostId);

@Resolver(() => DockerContainer)
export class ContainerOperationsResolver {
  @Extensions({ dockerCalls: 1 })
  @FieldResolver(() => GraphQLJSONObject, { nullable: true, description: 'Docker\'s inspect of this container, read live (DOCKER_ERROR when it is gone).' })
  async inspect(@Root() row: DockerContainer, @Ctx() ctx: Context) {
    const host = await ctx.em.findOneOrFail(DockerHost, row.host.id);
    return liveRead(ctx, host, async (api) => (await api.getContainer(row.containerId).inspect()) as unknown as Record<string, unknown>);
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => DockerContainerPayload, { description: 'Creates a container (and starts it unless start: false).' })
  async createContainer(@Arg('input', () => CreateContainerInput) input: CreateContainerInput, @Ctx() ctx: Context): Promise<DockerContainerPayload> {
    const { hostId, ...spec } = input;
    const { result, activity } = await ctx.services.containers.create(ctx, await hostFor(ctx, { hostId }), spec);
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
    return ctx.services.containers.remove(ctx, input.id, input.force ?? false, input.removeVolumes ?? false);
  }

  @Authorized(PERMISSIONS.containersExec)
  @Mutation(() => ExecContainerPayload, { description: 'Runs a command in a running container and returns its output and exit code (needs docker.containers.exec).' })
  async execContainer(@Arg('input', () => ExecContainerInput) input: ExecContainerInput, @Ctx() ctx: Context): Promise<ExecContainerPayload> {
    const { id, ...rest } = input;
    const { result, activity } = await ctx.services.containers.exec(ctx, id, rest);
    return { ...result, activity };
  }

  @Authorized(PERMISSIONS.logsRead)
  @Subscription(() => ContainerLogLine, {
    description: 'A container\'s output, stdout and stderr demultiplexed, streamed from its host by the replica serving you (needs docker.logs.read). Ends when the container stops unless follow is false.',
    subscribe: ({ args, context }) => {
      const ctx = context as Context;
      return ctx.services.containers.logs(ctx, args.containerId as string, { follow: args.follow as boolean, tail: args.tail as number, since: (args.since as Date | undefined) ?? null });
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
    const { result, activity } = await ctx.services.containers.lifecycle(ctx, id, action, timeoutSeconds);
    return { container: result, activity };
  }
}

@Resolver(() => DockerImage)
export class ImageOperationsResolver {
  @Extensions({ dockerCalls: 1 })
  @FieldResolver(() => GraphQLJSONObject, { nullable: true, description: 'Docker\'s inspect of this image, read live.' })
  inspect(@Root() row: DockerImage, @Ctx() ctx: Context) {
    return ctx.services.images.inspect(ctx, row);
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => DockerImagePayload, { description: 'Pulls an image; layer progress is on activity.progress (watch activityUpdated).' })
  async pullImage(@Arg('input', () => PullImageInput) input: PullImageInput, @Ctx() ctx: Context): Promise<DockerImagePayload> {
    const { hostId, ...rest } = input;
    const { result, activity } = await ctx.services.images.pull(ctx, await hostFor(ctx, { hostId }), rest);
    return { image: result, activity };
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => DockerImagePayload, { description: 'Pushes an image to its registry; progress as for pulls.' })
  async pushImage(@Arg('input', () => PushImageInput) input: PushImageInput, @Ctx() ctx: Context): Promise<DockerImagePayload> {
    const { hostId, ...rest } = input;
    const { result, activity } = await ctx.services.images.push(ctx, await hostFor(ctx, { hostId }), rest);
    return { image: result, activity };
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => DockerImagePayload)
  async tagImage(@Arg('input', () => TagImageInput) input: TagImageInput, @Ctx() ctx: Context): Promise<DockerImagePayload> {
    const { hostId, ...rest } = input;
    const { result, activity } = await ctx.services.images.tag(ctx, await hostFor(ctx, { hostId }), rest);
    return { image: result, activity };
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => RemoveImagePayload)
  async removeImage(@Arg('input', () => RemoveImageInput) input: RemoveImageInput, @Ctx() ctx: Context): Promise<RemoveImagePayload> {
    return ctx.services.images.remove(ctx, await hostFor(ctx, input), input.image, input.force ?? false, input.noPrune ?? false);
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => BuildImagePayload, { description: 'Builds an image from a base64 tar context; build output is on activity.progress while it runs and in log.' })
  async buildImage(@Arg('input', () => BuildImageInput) input: BuildImageInput, @Ctx() ctx: Context): Promise<BuildImagePayload> {
    const { hostId, ...rest } = input;
    const { result, activity } = await ctx.services.images.build(ctx, await hostFor(ctx, { hostId }), rest);
    return { ...result, activity };
  }
}

@Resolver(() => DockerHost)
export class HostResourcesResolver {
  @Extensions({ dockerCalls: 1 })
  @FieldResolver(() => [DockerNetwork], { name: 'networks', description: 'Networks on this host, read live from Docker.' })
  async networksOf(@Root() host: DockerHost, @Arg('name', () => String, { nullable: true }) name: string | undefined, @Ctx() ctx: Context) {
    return (await ctx.services.networks.list(ctx, host, name)).map((n) => network(host, n));
  }

  @Extensions({ dockerCalls: 1 })
  @FieldResolver(() => [DockerVolume], { name: 'volumes', description: 'Volumes on this host, read live from Docker.' })
  async volumesOf(@Root() host: DockerHost, @Arg('name', () => String, { nullable: true }) name: string | undefined, @Ctx() ctx: Context) {
    return (await ctx.services.volumes.list(ctx, host, name)).map((v) => volume(host, v));
  }
}

@Resolver(() => DockerNetwork)
export class NetworkResolver {
  @Authorized()
  @Extensions({ dockerCalls: 1 })
  @Query(() => [DockerNetwork], { description: 'Networks of one host (name filter: Docker\'s substring match).' })
  async networks(@Arg('hostId', () => ID) hostId: string, @Arg('name', () => String, { nullable: true }) name: string | undefined, @Ctx() ctx: Context) {
    const host = await hostFor(ctx, { hostId });
    return (await ctx.services.networks.list(ctx, host, name)).map((n) => network(host, n));
  }

  @Extensions({ dockerCalls: 1 })
  @FieldResolver(() => GraphQLJSONObject, { nullable: true, description: 'Docker\'s inspect of this network, read live.' })
  async inspect(@Root() n: DockerNetwork, @Ctx() ctx: Context) {
    return ctx.services.networks.inspect(ctx, await ctx.em.findOneOrFail(DockerHost, n.hostUuid), n.networkId);
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => DockerNetworkPayload)
  async createNetwork(@Arg('input', () => CreateNetworkInput) input: CreateNetworkInput, @Ctx() ctx: Context): Promise<DockerNetworkPayload> {
    const { hostId, ...rest } = input;
    const host = await hostFor(ctx, { hostId });
    const { result, activity } = await ctx.services.networks.create(ctx, host, rest);
    return { network: network(host, result), activity };
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => RemoveResourcePayload)
  async removeNetwork(@Arg('input', () => RemoveNetworkInput) input: RemoveNetworkInput, @Ctx() ctx: Context) {
    return ctx.services.networks.remove(ctx, await hostFor(ctx, input), input.network);
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => DockerNetworkPayload)
  async connectNetwork(@Arg('input', () => ConnectNetworkInput) input: ConnectNetworkInput, @Ctx() ctx: Context): Promise<DockerNetworkPayload> {
    const { hostId, ...rest } = input;
    const host = await hostFor(ctx, { hostId });
    const { result, activity } = await ctx.services.networks.connect(ctx, host, rest);
    return { network: network(host, result), activity };
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => DockerNetworkPayload)
  async disconnectNetwork(@Arg('input', () => DisconnectNetworkInput) input: DisconnectNetworkInput, @Ctx() ctx: Context): Promise<DockerNetworkPayload> {
    const host = await hostFor(ctx, input);
    const { result, activity } = await ctx.services.networks.disconnect(ctx, host, input.network, input.container, input.force ?? false);
    return { network: network(host, result), activity };
  }
}

@Resolver(() => DockerVolume)
export class VolumeResolver {
  @Authorized()
  @Extensions({ dockerCalls: 1 })
  @Query(() => [DockerVolume], { description: 'Volumes of one host.' })
  async volumes(@Arg('hostId', () => ID) hostId: string, @Arg('name', () => String, { nullable: true }) name: string | undefined, @Ctx() ctx: Context) {
    const host = await hostFor(ctx, { hostId });
    return (await ctx.services.volumes.list(ctx, host, name)).map((v) => volume(host, v));
  }

  @Extensions({ dockerCalls: 1 })
  @FieldResolver(() => GraphQLJSONObject, { nullable: true, description: 'Docker\'s inspect of this volume, read live.' })
  async inspect(@Root() v: DockerVolume, @Ctx() ctx: Context) {
    return ctx.services.volumes.inspect(ctx, await ctx.em.findOneOrFail(DockerHost, v.hostUuid), v.name);
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => DockerVolumePayload)
  async createVolume(@Arg('input', () => CreateVolumeInput) input: CreateVolumeInput, @Ctx() ctx: Context): Promise<DockerVolumePayload> {
    const { hostId, ...rest } = input;
    const host = await hostFor(ctx, { hostId });
    const { result, activity } = await ctx.services.volumes.create(ctx, host, rest);
    return { volume: volume(host, result), activity };
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => RemoveResourcePayload)
  async removeVolume(@Arg('input', () => RemoveVolumeInput) input: RemoveVolumeInput, @Ctx() ctx: Context) {
    return ctx.services.volumes.remove(ctx, await hostFor(ctx, input), input.name, input.force ?? false);
  }

  @Authorized(PERMISSIONS.resourcesManage)
  @Mutation(() => PruneVolumesPayload, { description: 'Removes volumes no container uses (optionally only those with the given labels).' })
  async pruneVolumes(@Arg('input', () => PruneVolumesInput) input: PruneVolumesInput, @Ctx() ctx: Context) {
    return ctx.services.volumes.prune(ctx, await hostFor(ctx, input), input.labels);
  }
}
