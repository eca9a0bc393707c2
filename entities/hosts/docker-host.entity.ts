import { BigIntType, Entity, Property, Unique } from '@mikro-orm/core';
import { Field, Int, ObjectType } from 'type-graphql';
import { SupervisedEndpoint } from '../common/supervised-endpoint';
import { Node } from '../common/node';

export const MAX_CONSECUTIVE_FAILURES = 5;

/**
 * A registered Docker engine. TLS credentials are stored sealed (AES-256-GCM) in
 * `tlsCredentialsSealed` and never exposed: that property has no @Field.
 */
@Entity({ tableName: 'docker_hosts' })
@Unique({ properties: ['account', 'name'] })
@ObjectType({ implements: Node, description: 'A Docker engine registered with fleetgraph.' })
export class DockerHost extends SupervisedEndpoint {
  @Property({ type: 'string', length: 100 })
  @Field(() => String)
  name!: string;

  @Property({ type: 'string', length: 500 })
  @Field(() => String, { description: 'unix:///path, tcp://host:port, http(s)://host:port' })
  apiEndpoint!: string;

  @Property({ type: 'string', length: 50 })
  @Field(() => String, { description: 'staging, production, development, or a custom label' })
  environment!: string;

  // --- system info from the last sync ---
  @Property({ type: 'string', length: 100, nullable: true }) @Field(() => String, { nullable: true }) engineId?: string | null;
  @Property({ type: 'string', length: 50, nullable: true }) @Field(() => String, { nullable: true }) dockerVersion?: string | null;
  @Property({ type: 'string', length: 200, nullable: true }) @Field(() => String, { nullable: true }) operatingSystem?: string | null;
  @Property({ type: 'string', length: 50, nullable: true }) @Field(() => String, { nullable: true }) osType?: string | null;
  @Property({ type: 'string', length: 50, nullable: true }) @Field(() => String, { nullable: true }) architecture?: string | null;
  @Property({ type: 'string', length: 200, nullable: true }) @Field(() => String, { nullable: true }) kernelVersion?: string | null;
  @Property({ type: 'integer', nullable: true }) @Field(() => Int, { nullable: true }) cpuCount?: number | null;
  @Property({ type: new BigIntType('string'), nullable: true }) @Field(() => String, { nullable: true, description: 'Bytes, as a decimal string.' }) memoryBytes?: string | null;
  @Property({ type: new BigIntType('string'), nullable: true }) @Field(() => String, { nullable: true, description: 'Bytes used by images, as a decimal string.' }) storageBytes?: string | null;
  @Property({ type: 'string', length: 50, nullable: true }) @Field(() => String, { nullable: true }) storageDriver?: string | null;
  @Property({ type: 'integer', nullable: true }) @Field(() => Int, { nullable: true }) containerCount?: number | null;
  @Property({ type: 'integer', nullable: true }) @Field(() => Int, { nullable: true }) runningContainerCount?: number | null;
  @Property({ type: 'integer', nullable: true }) @Field(() => Int, { nullable: true }) imageCount?: number | null;
  @Property({ type: 'string', length: 100, nullable: true }) @Field(() => String, { nullable: true, description: 'Swarm node id of this engine, when it is part of a swarm.' }) swarmNodeId?:
    string | null;
  @Property({ type: 'double', nullable: true }) pingLatencyMs?: number | null;
}
