import { Entity, Enum, Index, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { Field, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { AccountOwned } from '../common/account-owned';
import { Node } from '../common/node';
import { SwarmCluster } from './swarm-cluster.entity';
import { SwarmServiceMode } from './swarm-enums';

/** A service of a swarm (synced from GET /services?status=true and service events). */
@Entity({ tableName: 'swarm_services' })
@Unique({ properties: ['cluster', 'serviceId'] })
@Index({ properties: ['cluster', 'stack'] })
// a cluster's services page (SwarmCluster.services: by name, then id)
@Index({ properties: ['cluster', 'name', 'id'] })
@ObjectType({ implements: Node, description: 'A Swarm service.' })
export class SwarmService extends AccountOwned {
  @ManyToOne(() => SwarmCluster, { deleteRule: 'cascade', index: true })
  cluster!: SwarmCluster;

  @Property({ type: 'string', length: 100 })
  @Field(() => String, { description: "Docker's service id." })
  serviceId!: string;

  @Property({ type: 'string', length: 255 })
  @Field(() => String)
  name!: string;

  @Property({ type: 'string', length: 500 })
  @Field(() => String, { description: 'TaskTemplate.ContainerSpec.Image as stored by Docker (may be pinned to a digest).' })
  image!: string;

  @Enum({ items: () => SwarmServiceMode })
  @Field(() => SwarmServiceMode)
  mode!: SwarmServiceMode;

  @Property({ type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true, description: 'Replicated services: desired replicas (null for global services).' })
  replicas?: number | null;

  @Property({ type: 'integer', nullable: true })
  @Field(() => Int, {
    nullable: true,
    description: 'Tasks wanted: the replicas of a replicated service; for a global one, the nodes the orchestrator gives a task (eligible nodes). Null until the tasks were first read.',
  })
  desiredTasks?: number | null;

  @Property({ type: 'integer', nullable: true })
  @Field(() => Int, {
    nullable: true,
    description:
      'Tasks of the current spec running (state and desired state running), as `docker service ps` shows them; kept up to date while the service changes (tasks are read every 500 ms until they settle). Null until first read.',
  })
  runningTasks?: number | null;

  @Property({ type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true, description: 'The service version (Version.Index) runningTasks and desiredTasks were counted at; they are current only when it equals `version`.' })
  tasksVersion?: number | null;

  @Property({ type: 'datetime', length: 6, nullable: true })
  @Field(() => Date, { nullable: true, description: 'When a read of the tasks last found a change (the figures are as of then).' })
  tasksCheckedAt?: Date | null;

  /** Tasks of the current spec that failed or were rejected in a slot with no running task (newest first, at most 20): what `failingTasks` shows. */
  @Property({ type: 'json', nullable: true })
  failingTasks?: Array<Record<string, unknown>> | null;

  @Property({ type: 'string', length: 255, nullable: true })
  @Field(() => String, { nullable: true, description: 'Stack name: the com.docker.stack.namespace label.' })
  stack?: string | null;

  @Property({ type: 'json' })
  @Field(() => GraphQLJSONObject, { description: 'Service labels (Spec.Labels).' })
  labels: Record<string, string> = {};

  @Property({ type: 'json' })
  @Field(() => GraphQLJSONObject, { description: "Docker's full service spec." })
  spec: Record<string, unknown> = {};

  @Property({ type: 'json', nullable: true })
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'The spec before the last update (what rollbackService returns to).' })
  previousSpec?: Record<string, unknown> | null;

  @Property({ type: 'json', nullable: true })
  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'UpdateStatus: { State: updating|paused|completed|rollback_started|rollback_paused|rollback_completed, StartedAt, CompletedAt, Message }.',
  })
  updateStatus?: Record<string, unknown> | null;

  @Property({ type: 'string', length: 30, nullable: true })
  @Field(() => String, { nullable: true, description: 'UpdateStatus.State, for filtering.' })
  updateState?: string | null;

  @Property({ type: 'integer' })
  @Field(() => Int, { description: "Docker's Version.Index." })
  version!: number;

  @Property({ type: 'datetime', length: 6, nullable: true })
  @Field(() => Date, { nullable: true, description: "Docker's UpdatedAt." })
  dockerUpdatedAt?: Date | null;
}
