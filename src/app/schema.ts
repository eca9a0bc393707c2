import 'reflect-metadata';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { RESOLVERS } from '../../resolvers';
import { authChecker } from '../graphql/context';
import { createMemoryPubSub, FleetPubSub } from '../infra/pubsub';
import { guardArguments } from '../graphql/input-guard';
import { DateTimeISO } from '../graphql/scalars';

export async function buildFleetSchema(pubSub: FleetPubSub): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: RESOLVERS,
    pubSub,
    authChecker,
    authMode: 'error',
    validate: { forbidUnknownValues: false },
    emitSchemaFile: false,
    scalarsMap: [{ type: Date, scalar: DateTimeISO }],
  });
  // Every argument is checked once, before any resolver (src/graphql/input-guard.ts).
  return guardArguments(schema);
}

/** The SDL committed as schema/schema.graphql (sorted, so diffs are stable). */
export async function printFleetSchema(): Promise<string> {
  const schema = await buildFleetSchema(createMemoryPubSub());
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
