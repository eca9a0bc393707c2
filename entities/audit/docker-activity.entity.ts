import { Entity, Enum, Index, ManyToOne, Property } from '@mikro-orm/core';
import { Field, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { AccountOwned } from '../common/account-owned';
import { DockerHost } from '../hosts/docker-host.entity';
import { SwarmCluster } from '../swarm/swarm-cluster.entity';
import { ActivityStatus } from '../common/enums';
import { Node } from '../common/node';
import { User } from '../accounts/user.entity';

/** One operation, audited (asked by a user, or run by a system worker): who, what, on what, with which (redacted) parameters, and how it ended. */
@Entity({ tableName: 'docker_activities' })
@Index({ properties: ['account', 'startedAt'] })
// the activity link (src/platform/audit/activity.ts linkBest) looks up, per stored event, the
// activities of its host or cluster still running or finished within seconds of it
@Index({
  name: 'docker_activities_host_id_finished_at_index',
  expression: `create index "docker_activities_host_id_finished_at_index" on "docker_activities" ("host_id", (coalesce("finished_at", 'infinity'::timestamptz)))`,
})
@Index({
  name: 'docker_activities_cluster_id_finished_at_index',
  expression: `create index "docker_activities_cluster_id_finished_at_index" on "docker_activities" ("cluster_id", (coalesce("finished_at", 'infinity'::timestamptz)))`,
})
@ObjectType({ implements: Node, description: 'An audited operation (every mutation that touches Docker writes one).' })
export class DockerActivity extends AccountOwned {
  /** The user who asked (null for a system worker's operation). */
  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  user?: User | null;

  @Property({ type: 'string', length: 255 })
  @Field(() => String, { description: 'Who ran it: `user:<token subject>` for a request, `system:<worker>` for a background worker (a timeout, a reaper, a deployment step).' })
  actor!: string;

  @Property({ type: 'string', length: 100 })
  @Index()
  @Field(() => String, { description: 'e.g. container.start, image.pull, host.register' })
  action!: string;

  @Property({ type: 'string', length: 50 })
  @Field(() => String, { description: 'container, image, network, volume, host, …' })
  targetType!: string;

  @Property({ type: 'string', length: 255, nullable: true })
  @Index()
  @Field(() => String, { nullable: true, description: 'Docker id or name of the target, when known.' })
  targetId?: string | null;

  @ManyToOne(() => DockerHost, { nullable: true, deleteRule: 'set null' })
  host?: DockerHost | null;

  /** The Swarm cluster the operation targeted (swarm, node, service, secret and config operations). */
  @ManyToOne(() => SwarmCluster, { nullable: true, deleteRule: 'set null' })
  cluster?: SwarmCluster | null;

  @Property({ type: 'json' })
  @Field(() => GraphQLJSONObject, { description: 'Input of the operation; secrets are replaced by "[redacted]".' })
  parameters: Record<string, unknown> = {};

  @Enum({ items: () => ActivityStatus })
  @Index()
  @Field(() => ActivityStatus)
  status: ActivityStatus = ActivityStatus.PENDING;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: "Docker's (or our) error text when failed." })
  error?: string | null;

  @Property({ type: 'string', length: 50, nullable: true })
  @Field(() => String, { nullable: true, description: 'Error code (DOCKER_ERROR, DOCKER_UNREACHABLE, …) when failed.' })
  errorCode?: string | null;

  @Property({ type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true, description: "Docker's HTTP status when it refused." })
  dockerStatus?: number | null;

  @Property({ type: 'json', nullable: true })
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Latest progress (pull/push/build): { status, current, total, … }.' })
  progress?: Record<string, unknown> | null;

  @Property({ type: 'json', nullable: true })
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Result summary (ids created, exit code, …).' })
  result?: Record<string, unknown> | null;

  @Property({ type: 'datetime', length: 6 })
  @Field(() => Date)
  startedAt: Date = new Date();

  @Property({ type: 'datetime', length: 6, nullable: true })
  @Field(() => Date, { nullable: true })
  finishedAt?: Date | null;

  @Property({ type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true })
  durationMs?: number | null;
}
