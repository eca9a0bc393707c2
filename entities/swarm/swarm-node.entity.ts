import { BigIntType, Entity, Enum, Index, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { Field, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { AccountOwned } from '../common/account-owned';
import { DockerHost } from '../hosts/docker-host.entity';
import { Node } from '../common/node';
import { SwarmCluster } from './swarm-cluster.entity';
import { SwarmNodeAvailability, SwarmNodeRole } from './swarm-enums';

/** A node of a swarm, as the managers see it (synced from GET /nodes and node events). */
@Entity({ tableName: 'swarm_nodes' })
@Unique({ properties: ['cluster', 'nodeId'] })
// a cluster's nodes page (SwarmCluster.nodes: by hostname, then id)
@Index({ properties: ['cluster', 'hostname', 'id'] })
@ObjectType({ implements: Node, description: 'A node of a Swarm cluster.' })
export class SwarmNode extends AccountOwned {
  @ManyToOne(() => SwarmCluster, { deleteRule: 'cascade', index: true })
  cluster!: SwarmCluster;

  @Property({ type: 'string', length: 100 })
  @Field(() => String, { description: "Docker's node id." })
  nodeId!: string;

  @Property({ type: 'string', length: 255 })
  @Field(() => String)
  hostname!: string;

  @Enum({ items: () => SwarmNodeRole })
  @Field(() => SwarmNodeRole)
  role!: SwarmNodeRole;

  @Enum({ items: () => SwarmNodeAvailability })
  @Field(() => SwarmNodeAvailability)
  availability!: SwarmNodeAvailability;

  @Property({ type: 'string', length: 20 })
  @Field(() => String, { description: "unknown, down, ready or disconnected (Docker's Status.State)." })
  state!: string;

  @Property({ type: 'string', length: 500, nullable: true })
  @Field(() => String, { nullable: true, description: 'Status.Message, e.g. why a node is down.' })
  message?: string | null;

  @Property({ type: 'string', length: 100, nullable: true })
  @Field(() => String, { nullable: true, description: 'Address the node is seen at (Status.Addr).' })
  addr?: string | null;

  @Property({ type: 'boolean' })
  @Field(() => Boolean, { description: 'Whether this manager is the raft leader.' })
  leader: boolean = false;

  @Property({ type: 'string', length: 20, nullable: true })
  @Field(() => String, { nullable: true, description: 'Managers only: reachable, unreachable or unknown (ManagerStatus.Reachability).' })
  managerReachability?: string | null;

  @Property({ type: 'string', length: 100, nullable: true })
  @Field(() => String, { nullable: true, description: 'Managers only: raft address (ManagerStatus.Addr).' })
  managerAddr?: string | null;

  @Property({ type: 'string', length: 50, nullable: true })
  @Field(() => String, { nullable: true })
  engineVersion?: string | null;

  @Property({ type: 'string', length: 100, nullable: true })
  @Field(() => String, { nullable: true, description: 'OS/architecture, e.g. linux/x86_64.' })
  platform?: string | null;

  @Property({ type: new BigIntType('string'), nullable: true })
  nanoCpus?: string | null;

  @Property({ type: new BigIntType('string'), nullable: true })
  memoryBytes?: string | null;

  @Property({ type: 'json' })
  @Field(() => GraphQLJSONObject, { description: 'Node labels (Spec.Labels).' })
  labels: Record<string, string> = {};

  @Property({ type: 'integer' })
  @Field(() => Int, { description: "Docker's Version.Index: every update sends it (optimistic concurrency)." })
  version!: number;

  /** The registered DockerHost whose engine is this node (same node id in its info), if any. */
  @ManyToOne(() => DockerHost, { nullable: true, deleteRule: 'set null' })
  host?: DockerHost | null;
}
