import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { ArrayMaxSize, IsOptional, MaxLength, ValidateNested } from 'class-validator';
import { GraphQLJSONObject } from 'graphql-scalars';
import { ContainerInstance, ContainerInstanceStatus, ContainerTemplate, DockerActivity, InstanceSettings, SecurityViolation, VaultTokenDelivery } from '../../entities';
import { Connection } from '../../src/graphql/connection';

export const ContainerTemplateConnection = Connection(ContainerTemplate);
export const ContainerInstanceConnection = Connection(ContainerInstance);
export const SecurityViolationConnection = Connection(SecurityViolation);

const OVERRIDES = 'Fields instances may override: command, env, timeoutSeconds, memoryMb, cpuMillicores.';

@InputType({ description: 'A container template. The container it makes must pass the host-access policy (FORBIDDEN naming the field otherwise).' })
export class CreateContainerTemplateInput {
  @Field(() => String) @MaxLength(100) name!: string;
  @Field(() => String, { description: 'Image reference; it must exist on the host an instance runs on.' }) @MaxLength(500) image!: string;
  @Field(() => [String], { nullable: true }) @IsOptional() @ArrayMaxSize(1000) command?: string[];
  @Field(() => [String], { nullable: true, description: 'NAME=value entries.' }) @IsOptional() @ArrayMaxSize(1000) env?: string[];
  @Field(() => [String], { nullable: true, description: 'NAME=value entries stored encrypted and never returned (write-only; only their names are shown).' })
  @IsOptional()
  @ArrayMaxSize(200)
  secretEnv?: string[];
  @Field(() => Int, { nullable: true, description: 'Memory limit in MiB (default 256).' }) @IsOptional() memoryMb?: number;
  @Field(() => Int, { nullable: true, description: 'CPU limit in millicores (default 1000).' }) @IsOptional() cpuMillicores?: number;
  @Field(() => Int, { nullable: true, description: 'Process limit (default 256).' }) @IsOptional() pidsLimit?: number;
  @Field(() => Int, { nullable: true, description: 'Default timeout in seconds (default 3600).' }) @IsOptional() timeoutSeconds?: number;
  @Field(() => [String], { nullable: true, description: 'Vault policies of the per-instance token (none: no token).' }) @IsOptional() @ArrayMaxSize(50) vaultPolicies?: string[];
  @Field(() => VaultTokenDelivery, { nullable: true, description: 'How the token reaches the container (default TMPFS_FILE).' }) @IsOptional() tokenDelivery?: VaultTokenDelivery;
  @Field(() => String, { nullable: true, description: 'Network mode or name (default bridge).' }) @IsOptional() @MaxLength(200) network?: string;
  @Field(() => GraphQLJSONObject, { nullable: true }) @IsOptional() labels?: Record<string, unknown>;
  @Field(() => Int, { nullable: true, description: 'Bytes of stdout and of stderr kept (default 65536, at most 16 MiB).' }) @IsOptional() outputLimitBytes?: number;
  @Field(() => [String], { nullable: true, description: OVERRIDES }) @IsOptional() @ArrayMaxSize(10) allowedOverrides?: string[];
  @Field(() => Int, { nullable: true, description: 'Template quota: instances at once.' }) @IsOptional() maxConcurrent?: number;
  @Field(() => Int, { nullable: true, description: 'Template quota: MiB at once.' }) @IsOptional() maxMemoryMb?: number;
  @Field(() => Int, { nullable: true, description: 'Template quota: millicores at once.' }) @IsOptional() maxCpuMillicores?: number;
}

@InputType({ description: 'Changes to a template (omitted fields are kept); the version goes up by one.' })
export class UpdateContainerTemplateInput {
  @Field(() => ID) id!: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(100) name?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(500) image?: string;
  @Field(() => [String], { nullable: true }) @IsOptional() @ArrayMaxSize(1000) command?: string[];
  @Field(() => [String], { nullable: true }) @IsOptional() @ArrayMaxSize(1000) env?: string[];
  @Field(() => [String], { nullable: true, description: 'Replaces every secret entry when given ([] removes them).' }) @IsOptional() @ArrayMaxSize(200) secretEnv?: string[];
  @Field(() => Int, { nullable: true }) @IsOptional() memoryMb?: number;
  @Field(() => Int, { nullable: true }) @IsOptional() cpuMillicores?: number;
  @Field(() => Int, { nullable: true }) @IsOptional() pidsLimit?: number;
  @Field(() => Int, { nullable: true }) @IsOptional() timeoutSeconds?: number;
  @Field(() => [String], { nullable: true }) @IsOptional() @ArrayMaxSize(50) vaultPolicies?: string[];
  @Field(() => VaultTokenDelivery, { nullable: true }) @IsOptional() tokenDelivery?: VaultTokenDelivery;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(200) network?: string;
  @Field(() => GraphQLJSONObject, { nullable: true }) @IsOptional() labels?: Record<string, unknown>;
  @Field(() => Int, { nullable: true }) @IsOptional() outputLimitBytes?: number;
  @Field(() => [String], { nullable: true, description: OVERRIDES }) @IsOptional() @ArrayMaxSize(10) allowedOverrides?: string[];
  @Field(() => Int, { nullable: true }) @IsOptional() maxConcurrent?: number;
  @Field(() => Int, { nullable: true }) @IsOptional() maxMemoryMb?: number;
  @Field(() => Int, { nullable: true }) @IsOptional() maxCpuMillicores?: number;
}

@InputType()
export class ContainerTemplateIdInput {
  @Field(() => ID) id!: string;
}

@InputType({ description: 'A direct configuration (instead of a template).' })
export class InstanceConfigInput {
  @Field(() => String) @MaxLength(500) image!: string;
  @Field(() => [String], { nullable: true }) @IsOptional() @ArrayMaxSize(1000) command?: string[];
  @Field(() => [String], { nullable: true }) @IsOptional() @ArrayMaxSize(1000) env?: string[];
  @Field(() => Int, { nullable: true }) @IsOptional() memoryMb?: number;
  @Field(() => Int, { nullable: true }) @IsOptional() cpuMillicores?: number;
  @Field(() => Int, { nullable: true }) @IsOptional() pidsLimit?: number;
  @Field(() => Int, { nullable: true }) @IsOptional() timeoutSeconds?: number;
  @Field(() => [String], { nullable: true }) @IsOptional() @ArrayMaxSize(50) vaultPolicies?: string[];
  @Field(() => VaultTokenDelivery, { nullable: true }) @IsOptional() tokenDelivery?: VaultTokenDelivery;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(200) network?: string;
  @Field(() => GraphQLJSONObject, { nullable: true }) @IsOptional() labels?: Record<string, unknown>;
  @Field(() => Int, { nullable: true }) @IsOptional() outputLimitBytes?: number;
}

@InputType({ description: 'Runs a container instance: templateId (with the overrides it allows) or config.' })
export class RunContainerInstanceInput {
  @Field(() => ID, { nullable: true }) @IsOptional() templateId?: string;
  @Field(() => InstanceConfigInput, { nullable: true }) @IsOptional() @ValidateNested() config?: InstanceConfigInput;
  @Field(() => ID, { nullable: true, description: 'Host to run on; fleetgraph picks a CONNECTED host with room (most free memory) when omitted.' }) @IsOptional() hostId?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(100) name?: string;
  @Field(() => [String], { nullable: true }) @IsOptional() @ArrayMaxSize(1000) command?: string[];
  @Field(() => [String], { nullable: true }) @IsOptional() @ArrayMaxSize(1000) env?: string[];
  @Field(() => Int, { nullable: true }) @IsOptional() timeoutSeconds?: number;
  @Field(() => Int, { nullable: true }) @IsOptional() memoryMb?: number;
  @Field(() => Int, { nullable: true }) @IsOptional() cpuMillicores?: number;
  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'Keep the container when the instance ends.' }) @IsOptional() keepContainer?: boolean;
  @Field(() => String, { nullable: true, description: 'A2A task id, echoed in the callback.' }) @IsOptional() @MaxLength(200) taskId?: string;
  @Field(() => String, { nullable: true, description: 'POSTed the signed result when the instance ends (public addresses only unless allowed by the operator).' })
  @IsOptional()
  @MaxLength(2000)
  callbackUrl?: string;
}

@InputType()
export class ContainerInstanceIdInput {
  @Field(() => ID) id!: string;
}

@InputType()
export class CleanupVaultTokenInput {
  @Field(() => ID) instanceId!: string;
}

@InputType({ description: "The account's instance quota; null = the operator ceiling (FLEETGRAPH_INSTANCE_QUOTA_MAX_*), omitted = unchanged; above the ceiling is BAD_USER_INPUT." })
export class SetContainerQuotaInput {
  @Field(() => Int, { nullable: true }) @IsOptional() maxConcurrent?: number | null;
  @Field(() => Int, { nullable: true }) @IsOptional() maxMemoryMb?: number | null;
  @Field(() => Int, { nullable: true }) @IsOptional() maxCpuMillicores?: number | null;
}

@InputType()
export class ContainerInstanceFilter {
  @Field(() => [ContainerInstanceStatus], { nullable: true }) @IsOptional() @ArrayMaxSize(7) status?: ContainerInstanceStatus[];
  @Field(() => ID, { nullable: true }) @IsOptional() templateId?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(200) taskId?: string;
  @Field(() => Boolean, { nullable: true }) @IsOptional() hasSecurityViolations?: boolean;
}

@ObjectType()
export class ContainerTemplatePayload {
  @Field(() => ContainerTemplate) template!: ContainerTemplate;
  @Field(() => DockerActivity) activity!: DockerActivity;
}

@ObjectType()
export class RemoveContainerTemplatePayload {
  @Field(() => ID) removedId!: string;
  @Field(() => DockerActivity) activity!: DockerActivity;
}

@ObjectType()
export class ContainerInstancePayload {
  @Field(() => ContainerInstance) instance!: ContainerInstance;
  @Field(() => DockerActivity) activity!: DockerActivity;
}

@ObjectType()
export class CleanupVaultTokenPayload {
  @Field(() => ContainerInstance) instance!: ContainerInstance;
  @Field(() => Boolean, { description: 'The instance had a token (its accessor was revoked).' }) revoked!: boolean;
  @Field(() => Boolean, { description: 'Vault no longer knew the token (already revoked or expired).' }) alreadyGone!: boolean;
  @Field(() => DockerActivity) activity!: DockerActivity;
}

@InputType({ description: 'Nothing to choose: a new secret replaces the current one at once.' })
export class RotateInstanceCallbackSecretInput {
  @Field(() => String, { nullable: true, description: 'Echoed back (Relay convention).' }) @IsOptional() @MaxLength(100) clientMutationId?: string;
}

@ObjectType()
export class RotateCallbackSecretPayload {
  @Field(() => String, { nullable: true }) clientMutationId?: string | null;
  @Field(() => String, { description: 'The new HMAC-SHA256 secret callbacks are signed with. Shown once: store it now.' }) secret!: string;
}

@ObjectType({ description: 'One quota dimension.' })
export class QuotaFigure {
  @Field(() => Int, { description: 'Held by PENDING, PROVISIONING and RUNNING instances.' }) used!: number;
  @Field(() => Int, { nullable: true, description: 'The limit in force: the account quota, else the operator ceiling (never unlimited).' }) limit?: number | null;
}

@ObjectType({ description: "What the account's active container instances hold against its quota." })
export class QuotaUsage {
  @Field(() => QuotaFigure) concurrent!: QuotaFigure;
  @Field(() => QuotaFigure) memoryMb!: QuotaFigure;
  @Field(() => QuotaFigure) cpuMillicores!: QuotaFigure;
}

@ObjectType()
export class SetContainerQuotaPayload {
  @Field(() => InstanceSettings) settings!: InstanceSettings;
  @Field(() => QuotaUsage) quotaUsage!: QuotaUsage;
}
