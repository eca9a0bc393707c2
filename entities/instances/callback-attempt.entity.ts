import { Entity, ManyToOne, Property } from '@mikro-orm/core';
import { Field, Int, ObjectType } from 'type-graphql';
import { AccountOwned } from '../common/account-owned';
import { Node } from '../common/node';
import { ContainerInstance } from './container-instance.entity';

/** One POST of an instance's result to its callback URL. */
@Entity({ tableName: 'instance_callback_attempts' })
@ObjectType({ implements: Node, description: 'One delivery attempt of a task callback.' })
export class CallbackAttempt extends AccountOwned {
  @ManyToOne(() => ContainerInstance, { deleteRule: 'cascade', index: true })
  instance!: ContainerInstance;

  @Property({ type: 'integer' })
  @Field(() => Int)
  attempt!: number;

  @Property({ type: 'datetime', length: 6 })
  @Field(() => Date)
  at: Date = new Date();

  @Property({ type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true, description: "The receiver's HTTP status." })
  statusCode?: number | null;

  @Property({ type: 'string', length: 500, nullable: true })
  @Field(() => String, { nullable: true })
  error?: string | null;

  @Property({ type: 'integer' })
  @Field(() => Int)
  durationMs!: number;

  @Property({ type: 'boolean' })
  @Field(() => Boolean)
  delivered!: boolean;
}
