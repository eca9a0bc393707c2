import { BigIntType, Entity, Enum, Index, Property, Unique } from '@mikro-orm/core';
import { Field, Int, ObjectType } from 'type-graphql';
import { AccountOwned } from './account-owned';
import { HostStatus } from './enums';
import { Node } from './node';

export const MAX_CONSECUTIVE_FAILURES = 5;

/**
 * A registered Docker engine. TLS credentials are stored sealed (AES-256-GCM) in
 * `tlsCredentialsSealed` and never exposed: that property has no @Field.
 */
@Entity({ tableName: 'docker_hosts' })
@Unique({ properties: ['account', 'name'] })
@ObjectType({ implements: Node, description: 'A Docker engine registered with fleetgraph.' })
export class DockerHost extends AccountOwned {
  @Property({ type: 'string', length: 100 })
  @Field(() => String)
  name!: string;

  @Property({ type: 'string', length: 500 })
  @Field(() => String, { description: 'unix:///path, tcp://host:port, http(s)://host:port' })
  apiEndpoint!: string;

  @Property({ type: 'string', length: 50 })
  @Field(() => String, { description: 'staging, production, development, or a custom label' })
  environment!: string;

  @Property({ type: 'boolean' })
  @Field(() => Boolean, { description: 'Verify the daemon\'s certificate against the given CA and present a client certificate.' })
  tlsVerify: boolean = false;

  /** Sealed JSON { ca, cert, key }; write-only. */
  @Property({ type: 'text', nullable: true, lazy: true })
  tlsCredentialsSealed?: string | null;

  @Property({ type: 'string', length: 50, nullable: true })
  tlsKeyId?: string | null;

  /** Bumped whenever endpoint or TLS settings change: cached Docker clients are rebuilt. */
  @Property({ type: 'integer' })
  connectionRevision: number = 1;

  /** Replica that supervises this host (sync and event stream) until leaseExpiresAt. */
  @Property({ type: 'string', length: 100, nullable: true })
  leaseOwner?: string | null;

  @Property({ type: 'datetime', length: 6, nullable: true })
  leaseExpiresAt?: Date | null;

  @Field(() => Boolean, { description: 'Whether TLS credentials are stored (they are never returned).' })
  get hasTlsCredentials(): boolean {
    return Boolean(this.tlsKeyId);
  }

  @Property({ type: 'integer' })
  @Field(() => Int)
  syncIntervalSeconds: number = 60;

  @Enum({ items: () => HostStatus })
  @Index()
  @Field(() => HostStatus)
  status: HostStatus = HostStatus.PENDING;

  @Property({ type: 'integer' })
  @Field(() => Int)
  consecutiveFailures: number = 0;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true })
  lastError?: string | null;

  @Property({ type: 'datetime', length: 6, nullable: true })
  @Field(() => Date, { nullable: true })
  lastSyncedAt?: Date | null;

  @Property({ type: 'datetime', length: 6, nullable: true })
  @Field(() => Date, { nullable: true })
  lastConnectedAt?: Date | null;

  @Property({ type: 'datetime', length: 6, nullable: true })
  @Field(() => Date, { nullable: true, description: 'Time of the last event read from the daemon (stream resumes from here).' })
  lastEventAt?: Date | null;

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
  @Property({ type: 'string', length: 100, nullable: true }) @Field(() => String, { nullable: true, description: 'Swarm node id of this engine, when it is part of a swarm.' }) swarmNodeId?: string | null;
  @Property({ type: 'double', nullable: true }) pingLatencyMs?: number | null;
}
