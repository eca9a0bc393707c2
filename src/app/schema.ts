import 'reflect-metadata';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { RESOLVERS } from '../../resolvers';
import { authChecker } from '../graphql/context';
import { createMemoryPubSub, FleetPubSub } from '../infra/pubsub';
import { guardArguments } from '../graphql/input-guard';
import { DateTimeISO } from '../graphql/scalars';
import { bindResolverInstances, resolverInstances } from '../graphql/instances';

/**
 * The executable schema. `resolvers` are the resolver instances the composition root built
 * (their services injected by constructor); type-graphql's container hands them out by class.
 * Without them (printing the SDL) nothing is resolved.
 */
export async function buildFleetSchema(pubSub: FleetPubSub, resolvers: object[] = []): Promise<GraphQLSchema> {
  const instances = resolverInstances(resolvers);
  const schema = await buildSchema({
    resolvers: RESOLVERS,
    container: {
      get: (cls) => {
        const instance = instances.get(cls);
        if (!instance) throw new Error(`no instance of resolver ${(cls as { name?: string }).name} was composed`);
        return instance;
      },
    },
    pubSub,
    authChecker,
    authMode: 'error',
    validate: { forbidUnknownValues: false },
    emitSchemaFile: false,
    scalarsMap: [{ type: Date, scalar: DateTimeISO }],
  });
  // subscription `subscribe` functions that open a live Docker stream find the instances here (src/graphql/instances.ts)
  bindResolverInstances(schema, instances);
  // Every argument is checked once, before any resolver (src/graphql/input-guard.ts).
  return guardArguments(schema);
}

/** The SDL committed as schema/schema.graphql (sorted, so diffs are stable). */
export async function printFleetSchema(): Promise<string> {
  const schema = await buildFleetSchema(createMemoryPubSub());
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
