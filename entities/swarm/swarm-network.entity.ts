import { Entity, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { AccountOwned } from '../common/account-owned';
import { Node } from '../common/node';
import { SwarmCluster } from './swarm-cluster.entity';

/** A swarm-scoped network (overlay, ingress) as the managers list it (synced, and after network events). */
@Entity({ tableName: 'swarm_networks' })
@Unique({ properties: ['cluster', 'networkId'] })
@ObjectType({ implements: Node, description: 'A swarm-scoped network (overlay, ingress).' })
export class SwarmNetwork extends AccountOwned {
  @ManyToOne(() => SwarmCluster, { deleteRule: 'cascade', index: true })
  cluster!: SwarmCluster;

  @Property({ type: 'string', length: 100 })
  @Field(() => String, { description: "Docker's network id." })
  networkId!: string;

  @Property({ type: 'string', length: 255 })
  @Field(() => String)
  name!: string;

  @Property({ type: 'string', length: 50 })
  @Field(() => String)
  driver!: string;

  @Property({ type: 'string', length: 20 })
  @Field(() => String)
  scope!: string;

  @Property({ type: 'boolean' })
  @Field(() => Boolean)
  attachable: boolean = false;

  @Property({ type: 'boolean' })
  @Field(() => Boolean, { description: 'The routing-mesh network.' })
  ingress: boolean = false;

  @Property({ type: 'boolean' })
  @Field(() => Boolean)
  internal: boolean = false;

  @Property({ type: 'json' })
  @Field(() => GraphQLJSONObject)
  labels: Record<string, string> = {};

  @Property({ type: 'string', length: 255, nullable: true })
  @Field(() => String, { nullable: true, description: 'Stack name: the com.docker.stack.namespace label.' })
  stack?: string | null;

  @Property({ type: 'json' })
  @Field(() => [String])
  subnets: string[] = [];
}
