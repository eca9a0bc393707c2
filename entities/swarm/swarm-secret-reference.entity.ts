import { Entity, Enum, Index, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { Field, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { AccountOwned } from '../common/account-owned';
import { Node } from '../common/node';
import { SwarmCluster } from './swarm-cluster.entity';
import { SecretKind } from './swarm-enums';

/**
 * Metadata of a swarm secret or config: name, labels, versions. Secret values are never stored
 * (they pass through to Docker once); config data is Docker's, read live when asked.
 */
@Entity({ tableName: 'swarm_secret_references' })
@Unique({ properties: ['cluster', 'kind', 'dockerId'] })
// a cluster's secrets and configs pages (SwarmCluster.secrets/configs: by name, then id)
@Index({ properties: ['cluster', 'kind', 'name', 'id'] })
@ObjectType({ implements: Node, description: "A swarm secret or config (metadata only: a secret's value is never stored or returned)." })
export class SecretReference extends AccountOwned {
  @ManyToOne(() => SwarmCluster, { deleteRule: 'cascade', index: true })
  cluster!: SwarmCluster;

  @Enum({ items: () => SecretKind })
  @Field(() => SecretKind)
  kind!: SecretKind;

  @Property({ type: 'string', length: 100 })
  @Field(() => String, { description: "Docker's secret (or config) id." })
  dockerId!: string;

  @Property({ type: 'string', length: 255 })
  @Field(() => String)
  name!: string;

  @Property({ type: 'json' })
  @Field(() => GraphQLJSONObject)
  labels: Record<string, string> = {};

  @Property({ type: 'integer' })
  @Field(() => Int, { description: "Docker's Version.Index." })
  version!: number;

  @Property({ type: 'string', length: 255, nullable: true })
  @Field(() => String, { nullable: true, description: 'rotateSecret: the logical name every version shares (label fleetgraph.secret.family).' })
  family?: string | null;

  @Property({ type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true, description: 'rotateSecret: the version number within the family (label fleetgraph.secret.version).' })
  generation?: number | null;

  @Property({ type: 'datetime', length: 6, nullable: true })
  @Field(() => Date, { nullable: true })
  dockerCreatedAt?: Date | null;

  @Property({ type: 'datetime', length: 6, nullable: true })
  @Field(() => Date, { nullable: true })
  dockerUpdatedAt?: Date | null;
}
