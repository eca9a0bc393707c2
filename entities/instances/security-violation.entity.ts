import { Entity, Enum, Index, ManyToOne, Property } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { AccountOwned } from '../common/account-owned';
import { Node } from '../common/node';
import { ContainerInstance } from './container-instance.entity';
import { SecurityViolationKind } from './instance-enums';

/** Something an instance did (or was refused) that a security team wants to see. */
@Entity({ tableName: 'instance_security_violations' })
@Index({ properties: ['account', 'detectedAt'] })
@ObjectType({ implements: Node, description: 'A security violation of a container instance.' })
export class SecurityViolation extends AccountOwned {
  @ManyToOne(() => ContainerInstance, { deleteRule: 'cascade', index: true })
  instance!: ContainerInstance;

  @Enum({ items: () => SecurityViolationKind })
  @Field(() => SecurityViolationKind)
  kind!: SecurityViolationKind;

  @Property({ type: 'json' })
  @Field(() => GraphQLJSONObject)
  details: Record<string, unknown> = {};

  @Property({ type: 'datetime', length: 6 })
  @Field(() => Date)
  detectedAt: Date = new Date();
}
