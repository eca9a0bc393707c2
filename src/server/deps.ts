import type { GraphQLSchema } from 'graphql';
import type { Config } from '../kernel/config';
import type { Logger } from '../kernel/logger';
import type { ContextDeps } from '../graphql/context';
import type { Metrics } from './metrics';

/** What the transports need, handed over by the composition root (src/app). */
export interface ServerDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  schema: GraphQLSchema;
  /** What a request's Context is built from. */
  context: ContextDeps;
  /** Readiness of the stores (/readyz). */
  ready(): Promise<{ database: boolean; pubsub: boolean; pubsubKind: string }>;
}
