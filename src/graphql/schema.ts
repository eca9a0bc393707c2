import 'reflect-metadata';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { RESOLVERS } from '../../resolvers';
import { authChecker } from '../server/context';
import { createMemoryPubSub, FleetPubSub } from '../pubsub';

export async function buildFleetSchema(pubSub: FleetPubSub): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: RESOLVERS,
    pubSub,
    authChecker,
    authMode: 'error',
    validate: { forbidUnknownValues: false },
    emitSchemaFile: false,
  });
}

/** The SDL committed as schema/schema.graphql (sorted, so diffs are stable). */
export async function printFleetSchema(): Promise<string> {
  const schema = await buildFleetSchema(createMemoryPubSub());
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
