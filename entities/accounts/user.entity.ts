import { Entity, Property, Unique } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { AccountOwned } from '../common/account-owned';
import { Node } from '../common/node';

/** A token subject within an account. Created on first sight of a valid token. */
@Entity({ tableName: 'users' })
@Unique({ properties: ['account', 'subject'] })
@ObjectType({ implements: Node, description: 'A token subject within an account.' })
export class User extends AccountOwned {
  @Property({ type: 'string', length: 300 })
  @Field(() => String, { description: 'The token subject (`sub` claim).' })
  subject!: string;

  @Property({ type: 'datetime', length: 6 })
  @Field(() => Date)
  lastSeenAt: Date = new Date();
}
