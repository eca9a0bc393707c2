import Redis, { RedisOptions } from 'ioredis';
import { PubSub as MemoryPubSub, PubSubEngine } from 'graphql-subscriptions';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { PubSub as TypeGraphQLPubSub } from 'type-graphql';
import type { Logger } from '../../kernel/logger';
import { AppError, ErrorCode } from '../../kernel/errors';
import { withTimeout } from '../../kernel/abort';

/**
 * The one PubSub of the process. Implements type-graphql's interface over either
 * graphql-redis-subscriptions (separate publisher and subscriber connections, Dates revived)
 * or graphql-subscriptions' in-process PubSub. Channel = topic, or `topic:id` when a
 * subscription uses a dynamic topic id.
 */
export interface FleetPubSub extends TypeGraphQLPubSub {
  /**
   * Publishes `payload` on `topic` (and `topic:id` channel when id is given). Never hangs and never
   * throws: resolves true once sent, or false within PUBLISH_TIMEOUT_MS when the transport is away;
   * the payload is then kept in a bounded outbox and sent when the transport is back. Payloads
   * with the same `channel` and `replaces` key replace each other in the outbox (the latest wins):
   * event feeds pass one key per channel, since a subscriber fills a gap from the store anyway.
   */
  emit(topic: string, payload: object, id?: string, replaces?: string): Promise<boolean>;
  /**
   * emit() for payloads that carry their owner's gap-free sequence number (`seq`: the stored
   * events of a host or cluster), whose subscribers drop what they already delivered: besides the
   * publish, this process's own subscribers of the channel get the payload at once, without the
   * round trip through Redis (its copy arriving later is dropped by sequence number). Only for
   * what is already stored: a subscriber that misses it fills the hole from the store.
   */
  emitSequenced(topic: string, payload: { readonly seq: number; readonly [field: string]: unknown }, id?: string, replaces?: string): Promise<boolean>;
  /**
   * The live channel of a sequenced feed (payloads that are stored before they are published):
   * `subscribed` resolves once the transport confirmed the subscription, so that a read of the
   * store after it misses nothing published later. It holds at most LIVE_QUEUE_MAX messages for
   * a consumer slower than the channel; past that it drops them and yields FELL_BEHIND once, and
   * the consumer reads the store instead.
   */
  subscribeSequenced(topic: string, id: string): LiveChannel;
  /** Calls `listener` each time the subscriber connection is back after a drop (live feeds then replay what they missed). Returns an unsubscribe function. */
  onReconnect(listener: () => void): () => void;
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

/** Messages a live subscription holds for a consumer slower than its channel. */
export const LIVE_QUEUE_MAX = 10_000;

/** Yielded by a sequenced live channel that dropped messages (its consumer fell behind): read the store. */
export const FELL_BEHIND = Symbol('fell behind');

export interface LiveChannel extends AsyncIterableIterator<unknown> {
  /** Resolves once the transport confirmed the subscription (rejects if it refused it). */
  readonly subscribed: Promise<void>;
}

/**
 * A subscription to one channel, made at once (not at the first next(), as graphql-subscriptions'
 * iterators do), with a bounded queue. A consumer that falls LIVE_QUEUE_MAX messages behind gets
 * FELL_BEHIND (mode 'marker': it can read the store) or an error (mode 'error': it cannot, and is
 * told rather than left to miss messages). A next() after return() answers `done`.
 */
function liveChannel(engine: PubSubEngine, target: string, mode: 'marker' | 'error', onReconnect?: (listener: () => void) => () => void, max = LIVE_QUEUE_MAX): LiveChannel {
  const queue: unknown[] = [];
  let waiter: ((r: IteratorResult<unknown>) => void) | undefined;
  let failWaiter: ((e: unknown) => void) | undefined;
  let behind = false;
  let closed = false;
  const done = (): IteratorResult<unknown> => ({ value: undefined, done: true });
  const fellBehind = () => new AppError(ErrorCode.RATE_LIMITED, `This subscription fell more than ${max} messages behind its channel and was ended; subscribe again`, { limit: 'liveQueue', max });
  // without a store to read what was published while the transport was away, a plain
  // subscription is ended with an error when it comes back, never left to have missed it silently
  let interrupted = false;
  const interruption = () =>
    new AppError(ErrorCode.SERVICE_UNAVAILABLE, 'The live channel was interrupted and what happened meanwhile may be missing: read the current state and subscribe again', {
      reason: 'pub/sub reconnected',
    });
  const offReconnect =
    mode === 'error' && onReconnect
      ? onReconnect(() => {
          if (closed) return;
          interrupted = true;
          const f = failWaiter;
          waiter = failWaiter = undefined;
          if (f) {
            void channelIterator.return!();
            f(interruption());
          }
        })
      : () => undefined;
  const onMessage = (message: unknown) => {
    if (closed) return;
    if (waiter) {
      const w = waiter;
      waiter = failWaiter = undefined;
      w({ value: message, done: false });
    } else if (queue.length < max) queue.push(message);
    else {
      // what it held is dropped too: the consumer reads the store (or is told it fell behind)
      behind = true;
      queue.length = 0;
    }
  };
  const subscription = engine.subscribe(target, onMessage, {});
  const subscribed = subscription.then(() => undefined);
  // a refused subscription ends a waiting consumer with the transport's error (it is not left waiting)
  subscribed.catch((err: unknown) => {
    const f = failWaiter;
    waiter = failWaiter = undefined;
    f?.(err);
  });
  const channelIterator: LiveChannel = {
    subscribed,
    next: () => {
      if (closed) return Promise.resolve(done());
      if (interrupted) {
        void channelIterator.return!();
        return Promise.reject(interruption());
      }
      if (behind) {
        behind = false;
        if (mode === 'marker') return Promise.resolve({ value: FELL_BEHIND, done: false });
        void channelIterator.return!();
        return Promise.reject(fellBehind());
      }
      if (queue.length > 0) return Promise.resolve({ value: queue.shift(), done: false });
      return subscribed.then(
        () =>
          new Promise<IteratorResult<unknown>>((resolve, reject) => {
            if (closed) return resolve(done());
            if (queue.length > 0 || behind || interrupted) return resolve(channelIterator.next());
            waiter = resolve;
            failWaiter = reject;
          }),
      );
    },
    return: async () => {
      if (!closed) {
        closed = true;
        offReconnect();
        queue.length = 0;
        const w = waiter;
        waiter = failWaiter = undefined;
        w?.(done());
        // not awaited: while the transport is away the subscription is only confirmed once it is back
        void subscription.then((id) => engine.unsubscribe(id)).catch(() => undefined);
      }
      return done();
    },
    throw: async (error?: unknown) => {
      await channelIterator.return!();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return channelIterator;
}

/** How long a publish may take before it is counted as failed and kept in the outbox. */
export const PUBLISH_TIMEOUT_MS = 1000;
/** Payloads kept for a transport that is away; past this the oldest are dropped (and logged). */
export const OUTBOX_MAX = 10_000;

/**
 * Payloads that could not be published, in the order they were emitted, sent again when the
 * transport is back. Bounded: beyond OUTBOX_MAX the oldest is dropped and counted.
 */
export class Outbox {
  private readonly entries = new Map<string, { channel: string; payload: object }>();
  dropped = 0;

  constructor(private readonly max = OUTBOX_MAX) {}

  get size(): number {
    return this.entries.size;
  }

  keep(channel: string, payload: object, replaces?: string): void {
    const key = replaces === undefined ? `${channel}|${Math.random()}` : `${channel}|${replaces}`;
    this.entries.delete(key);
    this.entries.set(key, { channel, payload });
    if (this.entries.size > this.max) {
      this.entries.delete(this.entries.keys().next().value!);
      this.dropped++;
    }
  }

  /** Sends what is kept, oldest first; stops at the first failure (the rest stays for the next try). */
  async flush(send: (channel: string, payload: object) => Promise<void>): Promise<number> {
    let sent = 0;
    for (const [key, { channel, payload }] of [...this.entries]) {
      try {
        await send(channel, payload);
      } catch {
        return sent;
      }
      // a newer payload under the same key may have replaced it while it was sent
      if (this.entries.get(key)?.payload === payload) this.entries.delete(key);
      sent++;
    }
    return sent;
  }
}

interface Transport {
  /**
   * Hands a payload to this process's subscribers of a channel as if it had come back from the
   * transport (same parsing, so the same types), for emitSequenced. Absent for the in-process
   * engine, whose emit already delivers here.
   */
  deliverHere?: (channel: string, payload: object) => void;
  ready: () => Promise<boolean>;
  close: () => Promise<void>;
  onReconnect: (listener: () => void) => () => void;
  outbox: Outbox;
}

function adapt(engine: PubSubEngine, kind: FleetPubSub['kind'], transport: Transport): FleetPubSub {
  const { outbox, deliverHere, ...extra } = transport;
  return {
    kind,
    publish(routingKey: string, ...args: unknown[]) {
      const [a, b] = args;
      void this.emit(routingKey, (b === undefined ? a : b) as object, b === undefined ? undefined : String(a));
    },
    subscribe(routingKey: string, dynamicId?: unknown) {
      return liveChannel(engine, channel(routingKey, dynamicId), 'error', extra.onReconnect);
    },
    subscribeSequenced(topic: string, id: string) {
      return liveChannel(engine, channel(topic, id), 'marker');
    },
    async emit(topic: string, payload: object, id?: string, replaces?: string) {
      const target = channel(topic, id);
      try {
        await withTimeout(engine.publish(target, payload), PUBLISH_TIMEOUT_MS);
        return true;
      } catch {
        outbox.keep(target, payload, replaces);
        return false;
      }
    },
    emitSequenced(topic: string, payload: { readonly seq: number; readonly [field: string]: unknown }, id?: string, replaces?: string) {
      // the publish is written to the connection first (synchronously), so other replicas are not held up by this one's subscribers
      const sent = this.emit(topic, payload, id, replaces);
      // in a later turn, as a message from Redis would come: the fan-out to this replica's
      // subscribers (a thousand socket writes) must not hold up the caller's next batch
      if (deliverHere)
        setImmediate(() => {
          try {
            deliverHere(channel(topic, id), payload);
          } catch {
            // never fails anyone: the payload is stored, and a subscriber that missed it fills the hole from the store
          }
        });
      return sent;
    },
    ...extra,
  };
}

export function createMemoryPubSub(): FleetPubSub {
  const engine = new MemoryPubSub();
  return adapt(engine, 'memory', { ready: async () => true, close: async () => undefined, onReconnect: () => () => undefined, outbox: new Outbox() });
}

export function createRedisPubSub(redisUrl: string, logger: Logger): FleetPubSub {
  const options: RedisOptions = {
    retryStrategy: (times) => Math.min(times * 100, 1000),
    lazyConnect: false,
  };
  // a publish fails at once while Redis is away (no offline queue) and goes to the outbox
  const publisher = new Redis(redisUrl, { ...options, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectionName: 'fleetgraph-pub' });
  // subscriptions wait for Redis and are made again on reconnect (ioredis autoResubscribe); no
  // ready check: its INFO is refused once a SUBSCRIBE queued before the connect went out first
  const subscriber = new Redis(redisUrl, { ...options, maxRetriesPerRequest: null, enableReadyCheck: false, connectionName: 'fleetgraph-sub' });
  const outbox = new Outbox();
  publisher.on('ready', () => {
    if (outbox.size === 0) return;
    void outbox
      .flush((target, payload) => publisher.publish(target, JSON.stringify(payload)).then(() => undefined))
      .then((sent) => {
        logger.info({ sent, left: outbox.size, dropped: outbox.dropped }, 'pub/sub back: kept payloads published');
      });
  });
  const listeners = new Set<() => void>();
  let subscribedOnce = false;
  subscriber.on('ready', () => {
    if (!subscribedOnce) return void (subscribedOnce = true);
    logger.warn({ listeners: listeners.size }, 'pub/sub subscriber reconnected: live feeds replay what they missed');
    for (const l of listeners) l();
  });
  for (const [name, client] of [
    ['publisher', publisher],
    ['subscriber', subscriber],
  ] as const) {
    client.on('error', (err) => logger.warn({ err: err.message, client: name }, 'redis error'));
    client.on('reconnecting', () => logger.warn({ client: name }, 'redis reconnecting'));
  }
  const engine = new RedisPubSub({ publisher, subscriber, reviver: reviveDates });
  // the engine's own dispatcher for a message read from Redis: parsed with the reviver once, then handed to each subscriber of the channel
  const dispatch = (engine as unknown as { onMessage(pattern: string | undefined, channel: string, message: string): void }).onMessage.bind(engine);
  return adapt(engine, 'redis', {
    outbox,
    deliverHere: (target, payload) => dispatch(undefined, target, JSON.stringify(payload)),
    onReconnect: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
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
