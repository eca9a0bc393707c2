import { Field, ID, InputType, Int, ObjectType, Float } from 'type-graphql';
import { ArrayMaxSize, IsOptional, MaxLength, ValidateNested } from 'class-validator';
import { GraphQLJSONObject } from 'graphql-scalars';
import { DockerActivity, DockerContainer, DockerImage } from '../../entities';

// ---------- containers ----------

@InputType({ description: "A published port (Docker's -p hostIp:hostPort:containerPort/protocol)." })
export class PortInput {
  @Field(() => Int) containerPort!: number;
  @Field(() => Int, { nullable: true, description: 'Host port; 0 or null picks a free one.' }) @IsOptional() hostPort?: number;
  @Field(() => String, { nullable: true, defaultValue: 'tcp', description: 'tcp (default), udp or sctp.' }) @IsOptional() protocol?: string;
  @Field(() => String, { nullable: true, description: 'Host address to bind; default all addresses.' }) @IsOptional() @MaxLength(100) hostIp?: string;
}

@InputType({ description: "Docker HEALTHCHECK. Defaults as Docker's: interval 30 s, timeout 30 s, 3 retries, start period 0." })
export class HealthcheckInput {
  @Field(() => [String], { description: '["CMD", "prog", "arg"], ["CMD-SHELL", "command"], ["NONE"], or words joined into a CMD-SHELL.' }) @ArrayMaxSize(100) test!: string[];
  @Field(() => Int, { nullable: true }) @IsOptional() intervalSeconds?: number;
  @Field(() => Int, { nullable: true }) @IsOptional() timeoutSeconds?: number;
  @Field(() => Int, { nullable: true }) @IsOptional() retries?: number;
  @Field(() => Int, { nullable: true }) @IsOptional() startPeriodSeconds?: number;
}

@InputType({
  description:
    "A container to create (and by default start). Without the permission docker.containers.privileged the host-access policy only allows named local volumes without driver options, tmpfs, binds of the host roots the operator lists (FLEETGRAPH_HOST_BIND_ROOTS, default none), private namespaces (no host mode, no container:<id> join, no host network) and Docker's default capabilities; anything else is FORBIDDEN naming the field.",
})
export class CreateContainerInput {
  @Field(() => ID) hostId!: string;
  @Field(() => String, { nullable: true, description: 'Container name; Docker picks one when omitted.' }) @IsOptional() @MaxLength(128) name?: string;
  @Field(() => String, { description: 'Image reference; it must exist on the host (pull it first).' }) @MaxLength(500) image!: string;
  @Field(() => [String], { nullable: true }) @IsOptional() @ArrayMaxSize(1000) command?: string[];
  @Field(() => [String], { nullable: true }) @IsOptional() @ArrayMaxSize(100) entrypoint?: string[];
  @Field(() => [String], { nullable: true, description: 'NAME=value entries. Values are redacted in the audit log.' }) @IsOptional() @ArrayMaxSize(1000) env?: string[];
  @Field(() => GraphQLJSONObject, { nullable: true }) @IsOptional() labels?: Record<string, unknown>;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(1000) workingDir?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(200) user?: string;
  @Field(() => Boolean, { nullable: true, defaultValue: false }) @IsOptional() tty?: boolean;
  @Field(() => [PortInput], { nullable: true }) @IsOptional() @ValidateNested() @ArrayMaxSize(100) ports?: PortInput[];
  @Field(() => [String], {
    nullable: true,
    description: 'Binds "source:target[:options]"; source an absolute, normalised host path (exactly one of the operator\'s host roots, unless privileged) or a volume name; target an absolute path.',
  })
  @IsOptional()
  @ArrayMaxSize(100)
  binds?: string[];
  @Field(() => String, { nullable: true, description: 'bridge (default), none, container:<id>, a network name, or host (privileged).' }) @IsOptional() @MaxLength(200) networkMode?: string;
  @Field(() => String, { nullable: true, description: 'host is privileged.' }) @IsOptional() @MaxLength(200) pidMode?: string;
  @Field(() => String, { nullable: true, description: 'host is privileged.' }) @IsOptional() @MaxLength(200) ipcMode?: string;
  @Field(() => Boolean, { nullable: true, defaultValue: false }) @IsOptional() privileged?: boolean;
  @Field(() => [String], { nullable: true }) @IsOptional() @ArrayMaxSize(50) capAdd?: string[];
  @Field(() => [String], { nullable: true }) @IsOptional() @ArrayMaxSize(50) capDrop?: string[];
  @Field(() => String, { nullable: true, defaultValue: 'no', description: 'no (default), always, unless-stopped, on-failure[:N].' }) @IsOptional() restartPolicy?: string;
  @Field(() => Float, { nullable: true, description: 'Memory limit in bytes.' }) @IsOptional() memoryBytes?: number;
  @Field(() => Float, { nullable: true, description: 'CPU limit in 1e-9 CPUs (1.5 CPUs = 1500000000).' }) @IsOptional() nanoCpus?: number;
  @Field(() => HealthcheckInput, { nullable: true }) @IsOptional() @ValidateNested() healthcheck?: HealthcheckInput;
  @Field(() => Boolean, { nullable: true, defaultValue: false }) @IsOptional() autoRemove?: boolean;
  @Field(() => Boolean, { nullable: true, defaultValue: true, description: 'Start after creating (default true).' }) @IsOptional() start?: boolean;
}

@InputType()
export class ContainerIdInput {
  @Field(() => ID, { description: 'DockerContainer id.' }) id!: string;
}

@InputType()
export class ContainerStopInput {
  @Field(() => ID, { description: 'DockerContainer id.' }) id!: string;
  @Field(() => Int, { nullable: true, description: "Seconds to wait before killing (Docker's default: 10)." }) @IsOptional() timeoutSeconds?: number;
}

@InputType()
export class RemoveContainerInput {
  @Field(() => ID) id!: string;
  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'Kill a running container first.' }) @IsOptional() force?: boolean;
  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'Also remove its anonymous volumes.' }) @IsOptional() removeVolumes?: boolean;
}

@InputType()
export class ExecContainerInput {
  @Field(() => ID) id!: string;
  @Field(() => [String], { description: 'Program and arguments (no shell unless you run one).' }) @ArrayMaxSize(1000) command!: string[];
  @Field(() => [String], { nullable: true }) @IsOptional() @ArrayMaxSize(1000) env?: string[];
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(1000) workingDir?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(200) user?: string;
  @Field(() => Int, { nullable: true, defaultValue: 60, description: 'Give up waiting after this many seconds (1–3600, default 60).' }) @IsOptional() timeoutSeconds?: number;
}

@ObjectType()
export class DockerContainerPayload {
  @Field(() => DockerContainer) container!: DockerContainer;
  @Field(() => DockerActivity) activity!: DockerActivity;
}

@ObjectType({ description: 'What a removal removed: the id you gave (global id for containers, Docker name or id for networks and volumes).' })
export class RemoveResourcePayload {
  @Field(() => String) removedId!: string;
  @Field(() => DockerActivity) activity!: DockerActivity;
}

@ObjectType()
export class ExecContainerPayload {
  @Field(() => Int, { nullable: true }) exitCode?: number | null;
  @Field(() => String) stdout!: string;
  @Field(() => String) stderr!: string;
  @Field(() => Boolean, { description: 'Output beyond 1 MiB per stream was dropped.' }) truncated!: boolean;
  @Field(() => DockerActivity) activity!: DockerActivity;
}

@ObjectType({ description: "One line of a container's output." })
export class ContainerLogLine {
  @Field(() => String, { description: 'stdout or stderr' }) stream!: string;
  @Field(() => String) line!: string;
  @Field(() => String, { nullable: true, description: "Docker's RFC 3339 timestamp with nanoseconds." }) timestamp?: string;
  @Field(() => Boolean, { description: 'The line was longer than 16 KiB (LOG_LINE_MAX_BYTES, timestamp included): it was cut there, on a character boundary, and the rest of it was dropped.' })
  truncated!: boolean;
}

// ---------- images ----------

@InputType({ description: 'Registry credentials. Write-only: passed to Docker, never stored or logged.' })
export class RegistryAuthInput {
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(500) username?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(5000) password?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(500) serverAddress?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(5000) identityToken?: string;
}

@InputType()
export class PullImageInput {
  @Field(() => ID) hostId!: string;
  @Field(() => String, { description: 'name, name:tag or name@sha256:…' }) @MaxLength(500) image!: string;
  @Field(() => String, { nullable: true, description: 'Tag when not part of image (Docker pulls latest when neither is given).' }) @IsOptional() tag?: string;
  @Field(() => String, { nullable: true, description: 'os[/arch[/variant]]' }) @IsOptional() @MaxLength(100) platform?: string;
  @Field(() => RegistryAuthInput, { nullable: true }) @IsOptional() @ValidateNested() registryAuth?: RegistryAuthInput;
}

@InputType()
export class PushImageInput {
  @Field(() => ID) hostId!: string;
  @Field(() => String, { description: 'registry/repository to push.' }) @MaxLength(500) image!: string;
  @Field(() => String, { nullable: true }) @IsOptional() tag?: string;
  @Field(() => RegistryAuthInput, { nullable: true }) @IsOptional() @ValidateNested() registryAuth?: RegistryAuthInput;
}

@InputType()
export class TagImageInput {
  @Field(() => ID) hostId!: string;
  @Field(() => String, { description: 'Source image reference or id.' }) @MaxLength(500) image!: string;
  @Field(() => String, { description: 'Target repository.' }) @MaxLength(500) repo!: string;
  @Field(() => String, { nullable: true, defaultValue: 'latest' }) @IsOptional() tag?: string;
}

@InputType()
export class RemoveImageInput {
  @Field(() => ID) hostId!: string;
  @Field(() => String, { description: 'Reference or id.' }) @MaxLength(500) image!: string;
  @Field(() => Boolean, { nullable: true, defaultValue: false }) @IsOptional() force?: boolean;
  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'Keep untagged parents.' }) @IsOptional() noPrune?: boolean;
}

@InputType({ description: 'Builds an image from a tar context uploaded inline (base64). The request body limit (1 MiB) bounds the context size: about 750 KiB of tar.' })
export class BuildImageInput {
  @Field(() => ID) hostId!: string;
  @Field(() => String, { description: 'The build context as a tar archive (gzip allowed), base64-encoded.' }) contextTarBase64!: string;
  @Field(() => String, { nullable: true, defaultValue: 'Dockerfile' }) @IsOptional() @MaxLength(500) dockerfile?: string;
  @Field(() => [String], { nullable: true }) @IsOptional() @ArrayMaxSize(20) tags?: string[];
  @Field(() => GraphQLJSONObject, { nullable: true }) @IsOptional() buildArgs?: Record<string, unknown>;
  @Field(() => GraphQLJSONObject, { nullable: true }) @IsOptional() labels?: Record<string, unknown>;
  @Field(() => Boolean, { nullable: true, defaultValue: false }) @IsOptional() noCache?: boolean;
  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'Always pull newer base images.' }) @IsOptional() pull?: boolean;
}

@ObjectType()
export class DockerImagePayload {
  @Field(() => DockerImage, { nullable: true, description: 'The image as stored after the operation (null if Docker does not list it).' }) image?: DockerImage | null;
  @Field(() => DockerActivity, { description: 'Progress of pulls and pushes is on activity.progress (and activityUpdated).' }) activity!: DockerActivity;
}

@ObjectType()
export class RemoveImagePayload {
  @Field(() => [String]) untagged!: string[];
  @Field(() => [String]) deleted!: string[];
  @Field(() => DockerActivity) activity!: DockerActivity;
}

@ObjectType()
export class BuildImagePayload {
  @Field(() => DockerImage, { nullable: true }) image?: DockerImage | null;
  @Field(() => String, { nullable: true }) imageId?: string | null;
  @Field(() => [String], { description: 'The last 200 lines of build output; a line longer than 16 KiB is cut there and ends with "…[line truncated]".' }) log!: string[];
  @Field(() => DockerActivity) activity!: DockerActivity;
}

// ---------- networks ----------

@ObjectType()
export class NetworkIpam {
  @Field(() => String, { nullable: true }) subnet?: string;
  @Field(() => String, { nullable: true }) gateway?: string;
}

@ObjectType()
export class NetworkEndpoint {
  @Field(() => String) containerId!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true }) ipv4Address?: string;
}

@ObjectType({ description: 'A network on a Docker host (read live from Docker).' })
export class DockerNetwork {
  /** Host uuid, for the inspect field. */
  hostUuid!: string;
  @Field(() => String, { description: "Docker's network id." }) networkId!: string;
  @Field(() => String) name!: string;
  @Field(() => String) driver!: string;
  @Field(() => String) scope!: string;
  @Field(() => Boolean) internal!: boolean;
  @Field(() => Boolean) attachable!: boolean;
  @Field(() => Boolean) ingress!: boolean;
  @Field(() => [NetworkIpam]) ipam!: NetworkIpam[];
  @Field(() => GraphQLJSONObject) labels!: Record<string, string>;
  @Field(() => [NetworkEndpoint]) containers!: NetworkEndpoint[];
  @Field(() => Date, { nullable: true }) createdAt?: Date | null;
}

@InputType()
export class CreateNetworkInput {
  @Field(() => ID) hostId!: string;
  @Field(() => String) @MaxLength(128) name!: string;
  @Field(() => String, { nullable: true, defaultValue: 'bridge' }) @IsOptional() @MaxLength(100) driver?: string;
  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'No external connectivity.' }) @IsOptional() internal?: boolean;
  @Field(() => Boolean, { nullable: true, defaultValue: false }) @IsOptional() attachable?: boolean;
  @Field(() => GraphQLJSONObject, { nullable: true }) @IsOptional() labels?: Record<string, unknown>;
  @Field(() => String, { nullable: true, description: 'CIDR, e.g. 10.20.0.0/24; Docker picks one when omitted.' }) @IsOptional() @MaxLength(50) subnet?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(50) gateway?: string;
}

@InputType()
export class RemoveNetworkInput {
  @Field(() => ID) hostId!: string;
  @Field(() => String, { description: 'Name or id.' }) @MaxLength(128) network!: string;
}

@InputType()
export class ConnectNetworkInput {
  @Field(() => ID) hostId!: string;
  @Field(() => String, { description: 'Network name or id.' }) @MaxLength(128) network!: string;
  @Field(() => String, { description: 'Container name or Docker id.' }) @MaxLength(128) container!: string;
  @Field(() => [String], { nullable: true }) @IsOptional() @ArrayMaxSize(50) aliases?: string[];
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(50) ipv4Address?: string;
}

@InputType()
export class DisconnectNetworkInput {
  @Field(() => ID) hostId!: string;
  @Field(() => String) @MaxLength(128) network!: string;
  @Field(() => String) @MaxLength(128) container!: string;
  @Field(() => Boolean, { nullable: true, defaultValue: false }) @IsOptional() force?: boolean;
}

@ObjectType()
export class DockerNetworkPayload {
  @Field(() => DockerNetwork) network!: DockerNetwork;
  @Field(() => DockerActivity) activity!: DockerActivity;
}

// ---------- volumes ----------

@ObjectType({ description: 'A volume on a Docker host (read live from Docker).' })
export class DockerVolume {
  hostUuid!: string;
  @Field(() => String) name!: string;
  @Field(() => String) driver!: string;
  @Field(() => String) mountpoint!: string;
  @Field(() => String) scope!: string;
  @Field(() => GraphQLJSONObject) labels!: Record<string, string>;
  @Field(() => GraphQLJSONObject) options!: Record<string, string>;
  @Field(() => Date, { nullable: true }) createdAt?: Date | null;
}

@InputType()
export class CreateVolumeInput {
  @Field(() => ID) hostId!: string;
  @Field(() => String, { nullable: true, description: 'Docker picks a name when omitted.' }) @IsOptional() @MaxLength(255) name?: string;
  @Field(() => String, { nullable: true, defaultValue: 'local', description: 'Another driver than local needs docker.containers.privileged.' }) @IsOptional() @MaxLength(100) driver?: string;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Driver options need docker.containers.privileged (a local volume with options can mount any host path).' })
  @IsOptional()
  driverOpts?: Record<string, unknown>;
  @Field(() => GraphQLJSONObject, { nullable: true }) @IsOptional() labels?: Record<string, unknown>;
}

@InputType()
export class RemoveVolumeInput {
  @Field(() => ID) hostId!: string;
  @Field(() => String) @MaxLength(255) name!: string;
  @Field(() => Boolean, { nullable: true, defaultValue: false }) @IsOptional() force?: boolean;
}

@InputType()
export class PruneVolumesInput {
  @Field(() => ID) hostId!: string;
  @Field(() => [String], { nullable: true, description: 'Only volumes with these labels ("key" or "key=value").' }) @IsOptional() @ArrayMaxSize(20) labels?: string[];
}

@ObjectType()
export class DockerVolumePayload {
  @Field(() => DockerVolume) volume!: DockerVolume;
  @Field(() => DockerActivity) activity!: DockerActivity;
}

@ObjectType()
export class PruneVolumesPayload {
  @Field(() => [String]) volumesDeleted!: string[];
  @Field(() => String, { description: 'Bytes, as a decimal string.' }) spaceReclaimedBytes!: string;
  @Field(() => DockerActivity) activity!: DockerActivity;
}
