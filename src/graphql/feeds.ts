import { EventSource } from '../../entities';
import { badInput, notFound } from '../kernel/errors';
import { SequencedFeed } from '../platform/supervision/sequenced-feed';
import { toGlobalId } from '../kernel/ids';
import { traceEvent } from '../kernel/trace';
import { scopeOf, type Context } from './context';
import { expectGlobalId } from './relay';
import { filtered } from './subscriptions';

/** What a feed is about: a host or a cluster (its entity and GraphQL type). */
export interface FeedSubject<E extends { id: string }> {
  entity: new (...args: never[]) => E;
  typeName: string;
}

/** The caller's row a subscription names: UNAUTHENTICATED without a token, NOT_FOUND when it is not theirs. */
export async function subscribedRow<E extends { id: string }>(ctx: Context, subject: FeedSubject<E>, globalId: string, field: string): Promise<E> {
  scopeOf(ctx);
  const id = expectGlobalId(globalId, subject.typeName, field);
  const row = (await ctx.em.findOne(subject.entity, id as never)) as E | null;
  if (!row) throw notFound(subject.typeName, toGlobalId(subject.typeName, id));
  return row;
}

/** How a kind's stored events are read back for a resumed feed: the event entity, its owner field, and the payload published for it. */
export interface EventReplay<V extends { seq: number }> {
  entity: new () => V;
  ownerField: string;
  payload(event: V): Record<string, unknown>;
}

/** A cursor given as `after`: the decimal sequence number of an event of the subscribed host or cluster. */
export function cursorArg(after: string | null | undefined, field = 'after'): number | undefined {
  if (after === undefined || after === null) return undefined;
  if (!/^\d{1,15}$/.test(after)) throw badInput(field, 'must be an event cursor (the `cursor` of a delivered event)');
  return Number(after);
}

/** Whether a payload is a GAP announcement: delivered whatever the subscription's filter, so the consumer knows what it may have missed. */
const isGap = (p: { source?: string }) => p.source === EventSource.GAP;

/**
 * Events of one host or cluster: stored first, then published on `topic` under its id. With
 * `after`, the stored events after that cursor are replayed first; either way the feed is gap-free
 * and without duplicates across pub/sub outages (src/platform/supervision/sequenced-feed.ts),
 * narrowed by `matches` (GAP events always pass).
 */
export async function eventFeed<E extends { id: string }, V extends { seq: number }>(
  ctx: Context,
  subject: FeedSubject<E>,
  globalId: string,
  field: string,
  topic: string,
  replay: EventReplay<V>,
  after: number | undefined,
  matches: (event: V) => boolean,
) {
  const row = await subscribedRow(ctx, subject, globalId, field);
  const em = ctx.em;
  const feed = new SequencedFeed<V & Record<string, unknown>>({
    after,
    live: () => ctx.events.subscribeSequenced(topic, row.id),
    load: async (afterSeq, limit) => {
      // a fresh fork per page: a long-lived feed must not grow an identity map
      const rows = (await em.fork().find(replay.entity, { [replay.ownerField]: row.id, seq: { $gt: afterSeq } } as never, { orderBy: { seq: 'asc' } as never, limit })) as V[];
      return rows.map((r) => replay.payload(r) as V & Record<string, unknown>);
    },
    latest: async () => {
      const [owner] = (await em.getConnection().execute(`select event_seq from ${em.getMetadata().get(subject.entity.name).tableName} where id = ?`, [row.id])) as Array<{ event_seq: string }>;
      return Number(owner?.event_seq ?? 0);
    },
    onReconnect: (listener) => ctx.events.onReconnect(listener),
  });
  return tracedSends(filtered(feed, (e: V & { source?: string }) => isGap(e) || matches(e)));
}

/**
 * Traces when an event's result has been written out (stage `sent`): the execution asks for the
 * next event only after it handed the previous one's result to every socket of its group.
 */
function tracedSends<T>(inner: AsyncIterableIterator<T>): AsyncIterableIterator<T> {
  let last: string | undefined;
  return {
    next: () => {
      traceEvent('sent', last);
      last = undefined;
      return inner.next().then((r) => {
        if (!r.done) last = (r.value as { timeNano?: string }).timeNano;
        return r;
      });
    },
    return: () => (inner.return ? inner.return() : Promise.resolve({ value: undefined, done: true })),
    throw: (error?: unknown) => (inner.throw ? inner.throw(error) : Promise.reject(error)),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** Status transitions of the caller's hosts or clusters (published on `topic` under the account), or of one of them. */
export async function statusFeed<E extends { id: string }, P>(
  ctx: Context,
  subject: FeedSubject<E>,
  globalId: string | null | undefined,
  field: string,
  topic: string,
  subjectOf: (payload: P) => string,
) {
  const only = globalId ? (await subscribedRow(ctx, subject, globalId, field)).id : undefined;
  return filtered(ctx.events.subscribe(topic, scopeOf(ctx).accountId), (p: P) => !only || subjectOf(p) === only);
}
