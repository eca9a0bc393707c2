import type { GraphQLResolveInfo, GraphQLSchema } from 'graphql';

/**
 * The resolver instances a schema was built with, for subscription `subscribe` functions:
 * type-graphql calls those without a resolver instance, and a live stream that is not a pub/sub
 * topic (container or service logs) needs the resolver's injected services. Keyed by schema, so
 * several apps in one process (replicas in tests) never share them.
 */
const bySchema = new WeakMap<GraphQLSchema, ReadonlyMap<unknown, object>>();

/** Resolver instances by class: what type-graphql's container hands out, and what `resolverInstance` finds. */
export type ResolverInstances = ReadonlyMap<unknown, object>;

export function resolverInstances(instances: readonly object[]): ResolverInstances {
  return new Map(instances.map((r) => [r.constructor, r]));
}

/** Called by the composition root once the schema is built with `instances`. */
export function bindResolverInstances(schema: GraphQLSchema, instances: ResolverInstances): void {
  bySchema.set(schema, instances);
}

/** The composed instance of resolver class `cls` of the schema executing `info`. */
export function resolverInstance<T extends object>(info: GraphQLResolveInfo, cls: abstract new (...args: never[]) => T): T {
  const instance = bySchema.get(info.schema)?.get(cls);
  if (!instance) throw new Error(`no instance of resolver ${cls.name} was composed for this schema`);
  return instance as T;
}
