import { Entity, Enum, Index, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { Field, Int, ObjectType } from 'type-graphql';
import { AccountOwned } from '../common/account-owned';
import { Node } from '../common/node';
import { SwarmCluster } from '../swarm/swarm-cluster.entity';
import { SwarmStack } from './swarm-stack.entity';
import { SwarmDeploymentKind, SwarmDeploymentStatus } from './stack-enums';

/** One step of a deployment, in order (deployment(id).steps, deploymentProgress). */
@ObjectType('SwarmDeploymentStep', {
  description:
    'One step of a deployment: queued, start/resume, network/secret/config created, diff, service.create/update/remove, converge, service.state (a service’s convergence changed), done, failed, cancelled.',
})
export class DeploymentStep {
  @Field(() => Int, { description: '1, 2, … within the deployment.' }) n!: number;
  @Field(() => Date) at!: string;
  @Field(() => String) kind!: string;
  @Field(() => String, { nullable: true, description: 'The service (`<stack>_<name>`) or object the step is about.' }) target!: string | null;
  @Field(() => String) message!: string;
}

@ObjectType('SwarmServiceChange')
export class ServiceChange {
  @Field(() => String) service!: string;
  @Field(() => [String], { description: 'Changed fields of the service spec (`TaskTemplate.ContainerSpec.Image`, `Mode.Replicated.Replicas`, …).' }) fields!: string[];
}

/** What a deployment changes compared with the stack's services before it. */
@ObjectType('SwarmDeploymentDiff', { description: 'What a deployment changed compared with the swarm before it (`<stack>_<name>` service names).' })
export class DeploymentDiff {
  @Field(() => [String]) created!: string[];
  @Field(() => [ServiceChange]) updated!: ServiceChange[];
  @Field(() => [String], { description: 'Removed: not in the revision (prune, rollback, redeploy).' }) removed!: string[];
  @Field(() => [String]) unchanged!: string[];
}

/** An image as pinned by a deployment: the reference in the file, and what it resolved to. */
@ObjectType('PinnedImage', { description: "A service's image as a deployment pinned it." })
export class PinnedImage {
  @Field(() => String) service!: string;
  @Field(() => String, { description: 'The reference in the compose file.' }) image!: string;
  @Field(() => String, {
    nullable: true,
    description: 'The registry digest (`sha256:…`) when the reference carried one or the manager has a repo digest for it; redeploy and rollback then run `image@digest`.',
  })
  digest!: string | null;
  @Field(() => String, { nullable: true, description: 'The image ID the manager has for the reference (no registry asked, as with --resolve-image never).' }) imageId!: string | null;
}

/**
 * One revision of a stack: the compose file and variable names as given, the converted specs
 * with images pinned, the diff from the stack before it, and the ordered steps of applying it
 * and watching it converge. Variable values and file contents (secrets) are kept sealed only
 * (`sealedInputs`, never exposed), so redeploy and rollback can recreate secrets.
 */
@Entity({ tableName: 'swarm_deployments' })
@Unique({ properties: ['stack', 'revision'] })
@Unique({ properties: ['account', 'idempotencyKey'] })
// one active deployment per stack (CONFLICT on a second)
@Index({ name: 'swarm_deployments_one_active', expression: "create unique index swarm_deployments_one_active on swarm_deployments (stack_id) where status in ('pending', 'in_progress')" })
@Index({ properties: ['stack', 'createdAt'] })
@ObjectType({ implements: Node, description: 'A revision of a stack and the record of deploying it.' })
export class SwarmDeployment extends AccountOwned {
  @ManyToOne(() => SwarmStack, { deleteRule: 'cascade' })
  stack!: SwarmStack;

  @ManyToOne(() => SwarmCluster, { deleteRule: 'cascade', index: true })
  cluster!: SwarmCluster;

  @Property({ type: 'integer' })
  @Field(() => Int, { description: 'Revision number within the stack: 1, 2, …' })
  revision!: number;

  @Enum({ items: () => SwarmDeploymentKind })
  @Field(() => SwarmDeploymentKind)
  kind!: SwarmDeploymentKind;

  @Property({ type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true, description: 'REDEPLOY and ROLLBACK: the revision whose specs it applies.' })
  sourceRevision?: number | null;

  @Enum({ items: () => SwarmDeploymentStatus })
  @Field(() => SwarmDeploymentStatus)
  status: SwarmDeploymentStatus = SwarmDeploymentStatus.PENDING;

  @Property({ type: 'string', length: 32 })
  @Field(() => String, { description: "How services are replaced: ROLLING (each service's update_config: parallelism, delay, order, failure_action)." })
  strategy: string = 'ROLLING';

  /** The compose file as given (GraphQL: a field resolver loads it; it is not loaded with the row). */
  @Property({ type: 'text', lazy: true })
  compose!: string;

  @Property({ type: 'json' })
  @Field(() => [String], { description: 'Names of the variables given (values are kept sealed, never shown).' })
  variableNames: string[] = [];

  @Property({ type: 'json' })
  @Field(() => [String], { description: 'Paths of the files given (contents kept sealed, never shown).' })
  fileNames: string[] = [];

  /** Sealed JSON { variables, files, secretData }: what redeploy and rollback need to recreate secrets. Never exposed. */
  @Property({ type: 'text', lazy: true })
  sealedInputs!: string;

  /** The converted Engine API specs (GraphQL: a field resolver loads them; not loaded with the row). */
  @Property({ type: 'json', lazy: true })
  specs!: Record<string, unknown>;

  @Property({ type: 'json' })
  @Field(() => [PinnedImage], { description: 'Each service image as pinned.' })
  images: PinnedImage[] = [];

  @Property({ type: 'json', nullable: true })
  @Field(() => DeploymentDiff, { nullable: true, description: 'Compared with the swarm before it (null until applied).' })
  diff?: DeploymentDiff | null;

  @Property({ type: 'json' })
  @Field(() => [DeploymentStep], { description: 'Ordered steps.' })
  steps: DeploymentStep[] = [];

  @Property({ type: 'json' })
  @Field(() => [String], { description: 'Warnings of the converter and of Docker (unsupported keys, …).' })
  warnings: string[] = [];

  @Property({ type: 'boolean' })
  @Field(() => Boolean, { description: 'Services of the stack not in this revision are removed (always for ROLLBACK).' })
  prune: boolean = false;

  @Property({ type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true, description: 'The deadline asked for, in seconds (else derived from update_config).' })
  timeoutSeconds?: number | null;

  @Property({ type: 'datetime', length: 6, nullable: true })
  @Field(() => Date, { nullable: true })
  deadlineAt?: Date | null;

  @Property({ type: 'string', length: 200, nullable: true })
  @Field(() => String, { nullable: true })
  idempotencyKey?: string | null;

  @Property({ type: 'string', length: 300 })
  @Field(() => String, { description: 'Who asked for it: user:<subject> or system:<worker>.' })
  actor!: string;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: "Why it failed, in Docker's words when Docker gave them." })
  error?: string | null;

  @Property({ type: 'datetime', length: 6, nullable: true })
  @Field(() => Date, { nullable: true })
  startedAt?: Date | null;

  @Property({ type: 'datetime', length: 6, nullable: true })
  @Field(() => Date, { nullable: true })
  finishedAt?: Date | null;

  /** The DockerActivity of the whole deployment. */
  @Property({ type: 'uuid', nullable: true })
  activityId?: string | null;

  /** The replica running it, and until when (renewed while it runs): an expired claim is resumed by another replica. */
  @Property({ type: 'string', length: 200, nullable: true })
  workerOwner?: string | null;

  @Property({ type: 'datetime', length: 6, nullable: true })
  workerExpiresAt?: Date | null;

  /** Runs started (claims taken): a deployment that keeps killing its replicas ends FAILED "interrupted" instead of being resumed forever. */
  @Property({ type: 'integer' })
  attempts: number = 0;

  /** When a sweep last queued it again: at most once a minute across replicas. */
  @Property({ type: 'datetime', length: 6, nullable: true })
  requeuedAt?: Date | null;
}
