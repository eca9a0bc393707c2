import { randomUUID } from 'node:crypto';
import { Check, Entity, ManyToOne, PrimaryKey, PrimaryKeyProp, Property, Unique } from '@mikro-orm/core';
import { Account } from '../accounts/account.entity';
import { DockerHost } from '../hosts/docker-host.entity';
import { SwarmCluster } from '../swarm/swarm-cluster.entity';

/** What an engine says it is: `docker info` ID, swarm cluster ID, swarm node ID. */
export enum EngineClaimKind {
  ENGINE = 'engine',
  SWARM = 'swarm',
  NODE = 'node',
}

/**
 * The one account an engine, swarm or swarm node belongs to (src/infra/engine/claims.ts).
 * Deliberately GLOBAL: not an AccountOwned entity, not a GraphQL Node, not in ENTITIES (so
 * `node(id:)` never reaches it); only raw SQL in engine-claims.ts reads and writes it. The primary
 * key makes ownership exclusive in the database itself.
 */
@Entity({ tableName: 'engine_claims' })
export class EngineClaim {
  [PrimaryKeyProp]?: ['kind', 'externalId'];

  @PrimaryKey({ type: 'string', length: 10 })
  kind!: EngineClaimKind;

  @PrimaryKey({ type: 'string', length: 200 })
  externalId!: string;

  @ManyToOne(() => Account, { deleteRule: 'cascade', index: true })
  account!: Account;

  @Property({ type: 'datetime', length: 6 })
  createdAt: Date = new Date();
}

/**
 * Which host or cluster rows of the owning account hold a claim. A claim without holders is
 * released (deleted after a removal, or taken over by the next account that needs it); holders go
 * with their host or cluster (ON DELETE CASCADE).
 */
@Entity({ tableName: 'engine_claim_holders' })
@Unique({ properties: ['claim', 'host'] })
@Unique({ properties: ['claim', 'cluster'] })
@Check({ name: 'engine_claim_holders_one_holder_check', expression: 'num_nonnulls(host_id, cluster_id) = 1' })
export class EngineClaimHolder {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => EngineClaim, { deleteRule: 'cascade', updateRule: 'cascade' })
  claim!: EngineClaim;

  @ManyToOne(() => DockerHost, { nullable: true, deleteRule: 'cascade', index: true })
  host?: DockerHost | null;

  @ManyToOne(() => SwarmCluster, { nullable: true, deleteRule: 'cascade', index: true })
  cluster?: SwarmCluster | null;
}
