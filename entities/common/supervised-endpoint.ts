import { BigIntType, Entity, Enum, Index, Property } from '@mikro-orm/core';
import { Field, Int, ObjectType } from 'type-graphql';
import { AccountOwned } from './account-owned';
import { HostStatus } from './enums';

/**
 * What DockerHost and SwarmCluster share: a Docker API reached with sealed TLS credentials
 * (write-only: `tlsCredentialsSealed` has no @Field), the status machine's fields
 * (src/platform/supervision/status.ts), and the lease of the replica that supervises it (src/platform/leasing/leased-fleet.ts).
 */
@Entity({ abstract: true })
@ObjectType()
export abstract class SupervisedEndpoint extends AccountOwned {
  @Property({ type: 'boolean' })
  @Field(() => Boolean, { description: "Verify the daemon's certificate against the given CA and present a client certificate." })
  tlsVerify: boolean = false;

  /** Sealed JSON { ca, cert, key }; write-only. */
  @Property({ type: 'text', nullable: true, lazy: true })
  tlsCredentialsSealed?: string | null;

  @Property({ type: 'string', length: 50, nullable: true })
  tlsKeyId?: string | null;

  /** Bumped whenever endpoint or TLS settings change: cached Docker clients are rebuilt. */
  @Property({ type: 'integer' })
  connectionRevision: number = 1;

  /** Replica that supervises this row (sync and event stream) until leaseExpiresAt. */
  @Property({ type: 'string', length: 100, nullable: true })
  leaseOwner?: string | null;

  @Property({ type: 'datetime', length: 6, nullable: true })
  leaseExpiresAt?: Date | null;

  /** Replica that reserved this row while its owner is leaving: it opens its stream, then takes the lease (warm hand-off). */
  @Property({ type: 'string', length: 100, nullable: true })
  leaseNextOwner?: string | null;

  /** The last event sequence number given out for this endpoint (see StoredEvent.seq); only the event store writes it. */
  @Property({ type: new BigIntType('number'), default: 0 })
  eventSeq: number = 0;

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
  @Field(() => Date, { nullable: true, description: 'Time of the last event read from the Docker API (the stream resumes from here).' })
  lastEventAt?: Date | null;
}
