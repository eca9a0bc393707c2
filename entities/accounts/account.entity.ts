import { Entity, Property, Unique } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { Node } from '../common/node';

/** A tenant. Created on first sight of a valid token whose `account` claim names it. */
@Entity({ tableName: 'accounts' })
@ObjectType({ implements: Node, description: 'A tenant: every host, cluster and activity belongs to one account.' })
export class Account extends Node {
  @Property({ type: 'string', length: 200 })
  @Unique()
  @Field(() => String, { description: 'The account key carried in tokens (`account` claim).' })
  name!: string;
}
