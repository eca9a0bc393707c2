import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { ArrayMaxSize, IsOptional, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { DeploymentStep, SwarmDeployment, SwarmDeploymentStatus, SwarmStack } from '../../entities';
import { Connection } from '../../src/graphql/connection';
import { MAX_TIMEOUT_SECONDS, MIN_TIMEOUT_SECONDS } from '../../src/modules/stacks';

export const SwarmStackConnection = Connection(SwarmStack);
export const SwarmDeploymentConnection = Connection(SwarmDeployment);

@InputType({ description: 'An interpolation variable (`${NAME}` in the compose file), as the shell environment of `docker stack deploy` gives it.' })
export class StackVariableInput {
  @Field(() => String) @MaxLength(1000) name!: string;
  @Field(() => String) value!: string;
}

@InputType({ description: 'A file the compose file names (a secret, config or env_file `file:`), sent with the deploy: the path as written there and its content.' })
export class StackFileInput {
  @Field(() => String) @MaxLength(4096) path!: string;
  @Field(() => String) content!: string;
}

/** What every mutation that records a revision takes besides its subject. */
@InputType({ description: 'Options of every mutation that records a revision.' })
export class RevisionOptionsInput {
  @Field(() => Int, {
    nullable: true,
    description: `Seconds for every service to converge before the deployment is FAILED (${MIN_TIMEOUT_SECONDS}–${MAX_TIMEOUT_SECONDS}); default: derived from each service's update_config.`,
  })
  @IsOptional()
  @Min(MIN_TIMEOUT_SECONDS)
  @Max(MAX_TIMEOUT_SECONDS)
  timeoutSeconds?: number;

  @Field(() => String, { nullable: true, description: 'The same key again returns the same deployment instead of recording another (a retried request).' })
  @IsOptional()
  @MaxLength(200)
  idempotencyKey?: string;
}

@InputType()
export class DeployStackInput extends RevisionOptionsInput {
  @Field(() => ID) clusterId!: string;
  @Field(() => String, { description: 'The stack name: the `<name>_` prefix of everything created and the com.docker.stack.namespace label.' }) @MaxLength(100) name!: string;
  @Field(() => String, { description: 'The compose file (YAML), at most 512 KiB.' }) compose!: string;
  @Field(() => [StackVariableInput], { nullable: true }) @IsOptional() @ArrayMaxSize(1000) @ValidateNested() variables?: StackVariableInput[];
  @Field(() => [StackFileInput], { nullable: true }) @IsOptional() @ArrayMaxSize(100) @ValidateNested() files?: StackFileInput[];
  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'Remove services of the stack that the file no longer has (`docker stack deploy --prune`).' })
  @IsOptional()
  prune?: boolean;
}

@InputType()
export class RedeployDeploymentInput extends RevisionOptionsInput {
  @Field(() => ID, { description: 'The deployment whose revision is applied again (its pinned specs; the whole stack).' }) deploymentId!: string;
}

@InputType()
export class RollbackStackInput extends RevisionOptionsInput {
  @Field(() => ID) stackId!: string;
  @Field(() => Int, { description: 'The revision to go back to: services added since are removed, removed ones recreated, changed ones restored.' }) @Min(1) toRevision!: number;
}

@InputType()
export class DeploymentIdInput {
  @Field(() => ID) deploymentId!: string;
}

@InputType()
export class StackIdInput {
  @Field(() => ID) stackId!: string;
}

@ObjectType()
export class DeploymentPayload {
  @Field(() => SwarmDeployment, { description: 'The deployment recorded (PENDING: queued as a job; follow it with deploymentProgress).' }) deployment!: SwarmDeployment;
  @Field(() => SwarmStack) stack!: SwarmStack;
}

@ObjectType()
export class RemoveStackPayload {
  @Field(() => SwarmStack) stack!: SwarmStack;
}

@ObjectType({ description: "A service's convergence within a deployment." })
export class ServiceProgressView {
  @Field(() => String) service!: string;
  @Field(() => String, { description: 'converged, waiting or failed.' }) state!: string;
  @Field(() => Int, { description: 'Running tasks of the new spec.' }) running!: number;
  @Field(() => Int) desired!: number;
  @Field(() => String) message!: string;
}

@ObjectType({ description: 'A step of a deployment or a change of its services’ convergence, as it happens.' })
export class DeploymentProgress {
  @Field(() => ID) deploymentId!: string;
  @Field(() => ID) stackId!: string;
  @Field(() => Int) revision!: number;
  @Field(() => SwarmDeploymentStatus) status!: SwarmDeploymentStatus;
  @Field(() => DeploymentStep, { nullable: true }) step?: DeploymentStep | null;
  @Field(() => [ServiceProgressView]) services!: ServiceProgressView[];
  @Field(() => Date) at!: Date;
}
