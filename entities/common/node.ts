import { randomUUID } from 'node:crypto';
import { PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, InterfaceType } from 'type-graphql';
import { toGlobalId } from '../../src/kernel/ids';

/**
 * Every entity is a GraphQL `Node`: `id` is an opaque global id ("Type:uuid" in base64url),
 * resolvable with `node(id:)`. The database key is `id` (uuid) and is not exposed as such.
 */
@InterfaceType('Node', {
  description: 'An object with a globally unique, opaque id. Fetch any of them with `node(id:)`.',
  resolveType: (value: object) => value.constructor.name,
})
export abstract class Node {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'datetime', length: 6 })
  @Field(() => Date)
  createdAt: Date = new Date();

  @Property({ type: 'datetime', length: 6, onUpdate: () => new Date() })
  @Field(() => Date)
  updatedAt: Date = new Date();

  @Field(() => ID, { name: 'id', description: 'Opaque global id' })
  get globalId(): string {
    return toGlobalId(this.constructor.name, this.id);
  }
}
