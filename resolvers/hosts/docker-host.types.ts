import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { IsOptional, MaxLength, ValidateNested } from 'class-validator';
import { DockerActivity, DockerEvent, DockerHost, DockerContainer, DockerImage, HostStatus, ActivityStatus, EventSeverity } from '../../entities';
import { Connection } from '../../src/graphql/connection';

@InputType({ description: 'PEM-encoded TLS material. Write-only: stored encrypted (AES-256-GCM), never returned, redacted in logs and activities.' })
export class TlsCredentialsInput {
  @Field(() => String, { nullable: true, description: "CA certificate that signed the daemon's certificate." })
  @IsOptional()
  @MaxLength(20000)
  ca?: string;

  @Field(() => String, { nullable: true, description: 'Client certificate (extendedKeyUsage=clientAuth).' })
  @IsOptional()
  @MaxLength(20000)
  cert?: string;

  @Field(() => String, { nullable: true, description: 'Client private key.' })
  @IsOptional()
  @MaxLength(20000)
  key?: string;
}

@InputType()
export class RegisterDockerHostInput {
  @Field(() => String, { description: 'Unique per account: letters, digits, ".", "_", "-" (1–100).' })
  @MaxLength(100)
  name!: string;

  @Field(() => String, { description: 'Docker Engine API: unix:///var/run/docker.sock, tcp://10.0.0.10:2376, http://… or https://…' })
  @MaxLength(500)
  apiEndpoint!: string;

  @Field(() => String, { description: 'staging, production, development, or a custom label.' })
  @MaxLength(50)
  environment!: string;

  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'Use mutual TLS and verify the daemon against the CA (needs ca, cert and key). Default false.' })
  tlsVerify?: boolean;

  @Field(() => TlsCredentialsInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  tlsCredentials?: TlsCredentialsInput;

  @Field(() => Int, { nullable: true, defaultValue: 60, description: 'Inventory sync interval, 30–3600 s. Default 60.' })
  syncIntervalSeconds?: number;
}

@InputType()
export class UpdateDockerHostInput {
  @Field(() => ID) id!: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(100) name?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(500) apiEndpoint?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(50) environment?: string;
  @Field(() => Boolean, { nullable: true }) @IsOptional() tlsVerify?: boolean;
  @Field(() => TlsCredentialsInput, { nullable: true, description: 'Replaces the stored credentials; all fields empty removes them.' })
  @IsOptional()
  @ValidateNested()
  tlsCredentials?: TlsCredentialsInput;
  @Field(() => Int, { nullable: true }) @IsOptional() syncIntervalSeconds?: number;
}

@InputType()
export class DockerHostIdInput {
  @Field(() => ID) id!: string;
}

@InputType()
export class SetDockerHostMaintenanceInput {
  @Field(() => ID) id!: string;
  @Field(() => Boolean, { description: 'true: stop syncing and streaming; false: reconnect (status goes back to pending).' }) maintenance!: boolean;
}

@ObjectType()
export class DockerHostPayload {
  @Field(() => DockerHost) host!: DockerHost;
  @Field(() => DockerActivity) activity!: DockerActivity;
}

@ObjectType()
export class RemoveDockerHostPayload {
  @Field(() => ID) removedId!: string;
  @Field(() => DockerActivity) activity!: DockerActivity;
}

@ObjectType()
export class SyncDockerHostPayload {
  @Field(() => DockerHost) host!: DockerHost;
  @Field(() => DockerActivity) activity!: DockerActivity;
  @Field(() => Int) containers!: number;
  @Field(() => Int) images!: number;
  @Field(() => Int, { description: 'Containers created, changed or removed since the previous sync.' }) changes!: number;
}

@InputType()
export class ContainerFilter {
  @Field(() => [String], { nullable: true, description: 'created, running, paused, restarting, removing, exited, dead' }) @IsOptional() state?: string[];
  @Field(() => String, { nullable: true, description: 'Substring of the container name (case-insensitive).' }) @IsOptional() @MaxLength(255) name?: string;
  @Field(() => String, { nullable: true, description: '"key" (label present) or "key=value".' }) @IsOptional() @MaxLength(500) label?: string;
}

@InputType()
export class ImageFilter {
  @Field(() => String, { nullable: true, description: 'Substring of a repo tag.' }) @IsOptional() @MaxLength(255) tag?: string;
}

@InputType()
export class DockerEventFilter {
  @Field(() => [String], { nullable: true, description: 'container, image, network, volume, …' }) @IsOptional() types?: string[];
  @Field(() => [String], { nullable: true, description: 'create, start, die, destroy, …' }) @IsOptional() actions?: string[];
  @Field(() => String, { nullable: true }) @IsOptional() actorId?: string;
  @Field(() => [EventSeverity], { nullable: true }) @IsOptional() severities?: EventSeverity[];
  @Field(() => Date, { nullable: true }) @IsOptional() since?: Date;
  @Field(() => Date, { nullable: true }) @IsOptional() until?: Date;
}

@InputType()
export class ActivityFilter {
  @Field(() => String, { nullable: true, description: 'Action prefix, e.g. "container." or "image.pull".' }) @IsOptional() action?: string;
  @Field(() => [ActivityStatus], { nullable: true }) @IsOptional() status?: ActivityStatus[];
  @Field(() => ID, { nullable: true }) @IsOptional() hostId?: string;
  @Field(() => String, { nullable: true }) @IsOptional() targetId?: string;
  @Field(() => Date, { nullable: true }) @IsOptional() since?: Date;
}

@ObjectType({ description: 'Health of a host from its last check: daemon latency, container health, resources.' })
export class HostHealth {
  @Field(() => HostStatus) status!: HostStatus;
  @Field(() => Number, { nullable: true, description: 'Daemon /_ping round trip at the last sync (ms).' }) pingLatencyMs?: number | null;
  @Field(() => Int) healthy!: number;
  @Field(() => Int) unhealthy!: number;
  @Field(() => Int) starting!: number;
  @Field(() => Int, { description: 'Containers without a healthcheck.' }) none!: number;
  @Field(() => Int) running!: number;
  @Field(() => Int) total!: number;
  @Field(() => Int, { nullable: true }) cpuCount?: number | null;
  @Field(() => String, { nullable: true }) memoryBytes?: string | null;
  @Field(() => String, { nullable: true, description: 'Bytes used by images.' }) storageBytes?: string | null;
  @Field(() => Date, { nullable: true }) lastSyncedAt?: Date | null;
}

@ObjectType({ description: 'A status transition of a host.' })
export class DockerHostStatusChange {
  @Field(() => ID) hostId!: string;
  @Field(() => String) name!: string;
  @Field(() => HostStatus) status!: HostStatus;
  @Field(() => HostStatus) previousStatus!: HostStatus;
  @Field(() => Int) consecutiveFailures!: number;
  @Field(() => String, { nullable: true }) lastError?: string | null;
  @Field(() => Date) changedAt!: Date;
}

export const DockerHostConnection = Connection(DockerHost);
export const DockerContainerConnection = Connection(DockerContainer);
export const DockerImageConnection = Connection(DockerImage);
export const DockerEventConnection = Connection(DockerEvent);
export const DockerActivityConnection = Connection(DockerActivity);
