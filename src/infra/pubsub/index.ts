import Redis, { RedisOptions } from 'ioredis';
import { PubSub as MemoryPubSub, PubSubEngine } from 'graphql-subscriptions';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { PubSub as TypeGraphQLPubSub } from 'type-graphql';
import type { Logger } from '../../kernel/logger';

/**
 * The one PubSub of the process. Implements type-graphql's interface over either
 * graphql-redis-subscriptions (separate publisher and subscriber connections, Dates revived)
 * or graphql-subscriptions' in-process PubSub. Channel = topic, or `topic:id` when a
 * subscription uses a dynamic topic id.
 */
export interface FleetPubSub extends TypeGraphQLPubSub {
  /** Publishes `payload` on `topic` (and `topic:id` channel when id is given). Resolves once sent. */
  emit(topic: string, payload: object, id?: string): Promise<void>;
  /** Whether the backing transport is reachable (for /readyz). */
  ready(): Promise<boolean>;
  readonly kind: 'redis' | 'memory';
  close(): Promise<void>;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** JSON reviver that turns ISO-8601 UTC strings back into Dates after the Redis round trip. */
export function reviveDates(_key: string, value: unknown): unknown {
  return typeof value === 'string' && ISO_DATE.test(value) ? new Date(value) : value;
}

export function channel(topic: string, id?: unknown): string {
  return id === undefined || id === null ? topic : `${topic}:${String(id)}`;
}

/**
 * graphql-subscriptions' iterator never settles a next() called after return(); this one
 * answers `done` instead, so a consumer that races an unsubscribe cannot hang.
 */
function closeable<T>(inner: AsyncIterator<T>): AsyncIterableIterator<T> {
  let closed = false;
  const done = (): IteratorResult<T> => ({ value: undefined, done: true });
  return {
    next: () => (closed ? Promise.resolve(done()) : inner.next()),
    return: async () => {
      closed = true;
      return inner.return ? inner.return() : done();
    },
    throw: async (error?: unknown) => {
      closed = true;
      return inner.throw ? inner.throw(error) : Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

function adapt(engine: PubSubEngine, kind: FleetPubSub['kind'], extra: { ready: () => Promise<boolean>; close: () => Promise<void> }): FleetPubSub {
  return {
    kind,
    publish(routingKey: string, ...args: unknown[]) {
      const [a, b] = args;
      const target = b === undefined ? routingKey : channel(routingKey, a);
      void engine.publish(target, (b === undefined ? a : b) as object);
    },
    subscribe(routingKey: string, dynamicId?: unknown) {
      return closeable(engine.asyncIterableIterator(channel(routingKey, dynamicId)));
    },
    async emit(topic: string, payload: object, id?: string) {
      await engine.publish(channel(topic, id), payload);
    },
    ...extra,
  };
}

export function createMemoryPubSub(): FleetPubSub {
  const engine = new MemoryPubSub();
  return adapt(engine, 'memory', { ready: async () => true, close: async () => undefined });
}

export function createRedisPubSub(redisUrl: string, logger: Logger): FleetPubSub {
  const options: RedisOptions = {
    // fail fast on publish while Redis is away rather than hanging a mutation
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 200, 5000),
    lazyConnect: false,
  };
  const publisher = new Redis(redisUrl, { ...options, connectionName: 'fleetgraph-pub' });
  const subscriber = new Redis(redisUrl, { ...options, maxRetriesPerRequest: null, connectionName: 'fleetgraph-sub' });
  for (const [name, client] of [
    ['publisher', publisher],
    ['subscriber', subscriber],
  ] as const) {
    client.on('error', (err) => logger.warn({ err: err.message, client: name }, 'redis error'));
    client.on('reconnecting', () => logger.warn({ client: name }, 'redis reconnecting'));
  }
  const engine = new RedisPubSub({ publisher, subscriber, reviver: reviveDates });
  return adapt(engine, 'redis', {
    ready: async () => {
      try {
        return (await publisher.ping()) === 'PONG' && subscriber.status === 'ready';
      } catch {
        return false;
      }
    },
    close: async () => {
      await engine.close();
    },
  });
}

export function createPubSub(redisUrl: string | undefined, logger: Logger): FleetPubSub {
  return redisUrl ? createRedisPubSub(redisUrl, logger) : createMemoryPubSub();
}
