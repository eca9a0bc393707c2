import { Entity, Property, Unique } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { SupervisedEndpoint } from '../common/supervised-endpoint';
import { Node } from '../common/node';

/**
 * A Docker Swarm, reached through one manager's Engine API. Same connection settings (TLS
 * sealed, write-only) and the same status machine as a DockerHost. Join tokens are never
 * stored: they are read from the manager when an authorized caller asks.
 */
@Entity({ tableName: 'swarm_clusters' })
@Unique({ properties: ['account', 'name'] })
@ObjectType({ implements: Node, description: 'A Docker Swarm cluster, managed through one manager endpoint.' })
export class SwarmCluster extends SupervisedEndpoint {
  @Property({ type: 'string', length: 100 })
  @Field(() => String)
  name!: string;

  @Property({ type: 'string', length: 500 })
  @Field(() => String, { description: 'Engine API of a manager: unix:///path, tcp://host:port, http(s)://host:port' })
  managerEndpoint!: string;

  // --- from the last sync ---
  @Property({ type: 'string', length: 100, nullable: true })
  @Field(() => String, { nullable: true, description: "Docker's swarm id (`docker info` Swarm.Cluster.ID)." })
  swarmId?: string | null;

  @Property({ type: 'boolean', nullable: true })
  @Field(() => Boolean, { nullable: true, description: 'Whether the managers had a leader at the last check (null before the first).' })
  quorum?: boolean | null;

  @Property({ type: 'json', nullable: true })
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Swarm spec from the last sync: Orchestration, Raft, Dispatcher, CAConfig, EncryptionConfig, TaskDefaults.' })
  spec?: Record<string, unknown> | null;

  @Property({ type: 'integer', nullable: true })
  specVersion?: number | null;

  @Property({ type: 'datetime', length: 6, nullable: true })
  @Field(() => Date, { nullable: true, description: "When the swarm was created (Docker's CreatedAt)." })
  swarmCreatedAt?: Date | null;
}
