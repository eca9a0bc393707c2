import { notFound } from '../kernel/errors';
import { toGlobalId } from '../kernel/ids';
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

/** Live events of one host or cluster (stored first, then published on `topic` under its id), narrowed by `matches`. */
export async function eventFeed<E extends { id: string }, T>(ctx: Context, subject: FeedSubject<E>, globalId: string, field: string, topic: string, matches: (event: T) => boolean) {
  const row = await subscribedRow(ctx, subject, globalId, field);
  return filtered(ctx.events.subscribe(topic, row.id), matches);
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
