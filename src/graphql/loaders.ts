import DataLoader from 'dataloader';
import type { Context } from './context';

/** How long a looked-up row is reused within one context (a request, or one subscription). */
const LOOKUP_TTL_MS = 1000;

/**
 * DataLoader's cache map with expiry: a long-lived subscription context serves rows at most 1 s
 * old, and holds only the rows of the last second (expired ones are swept as new ones come, so a
 * feed that looks up a new row for every event does not keep them all).
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; at: number }>();
  get size(): number {
    return this.entries.size;
  }
  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (Date.now() - e.at > LOOKUP_TTL_MS) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }
  set(key: string, value: V): void {
    const now = Date.now();
    // oldest first: re-set keys move to the end, so the expired ones are at the front
    this.entries.delete(key);
    this.entries.set(key, { value, at: now });
    for (const [k, e] of this.entries) {
      if (now - e.at <= LOOKUP_TTL_MS) break;
      this.entries.delete(k);
    }
  }
  delete(key: string): void {
    this.entries.delete(key);
  }
  clear(): void {
    this.entries.clear();
  }
}

/**
 * Batches the lookups of one request (or one subscription event) by id: a list of N containers
 * on M hosts loads its hosts in one query, not one per row. Rows are reused for at most
 * LOOKUP_TTL_MS, so a subscription delivering many events does not query once per delivery
 * and never serves a row older than that.
 */
const loaders = new WeakMap<Context, Map<string, DataLoader<string, unknown>>>();
export function loaderOf<T extends { id: string }>(ctx: Context, entity: new () => T): DataLoader<string, T | null> {
  let perCtx = loaders.get(ctx);
  if (!perCtx) loaders.set(ctx, (perCtx = new Map()));
  let loader = perCtx.get(entity.name) as DataLoader<string, T | null> | undefined;
  if (!loader) {
    loader = new DataLoader<string, T | null>(
      async (ids) => {
        const rows = (await ctx.em.find(entity as never, { id: { $in: [...ids] } } as never)) as T[];
        const byId = new Map(rows.map((r) => [r.id, r]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { cacheMap: new TtlCache<Promise<T | null>>() },
    );
    perCtx.set(entity.name, loader as DataLoader<string, unknown>);
  }
  return loader;
}

/**
 * A DataLoader for one batched read, per context and `key`: every call of `load` made while a
 * request's fields are being resolved goes to one call of `batch` (one SQL statement for all the
 * parents of a nested connection, src/graphql/connection.ts). The key names what is read and with
 * which arguments (two loads with one key must mean the same read); results are reused for at most
 * LOOKUP_TTL_MS, as in loaderOf, so a long-lived subscription context never serves stale pages.
 */
export function batchLoaderOf<V>(ctx: Context, key: string, batch: (ids: readonly string[]) => Promise<V[]>): DataLoader<string, V> {
  let perCtx = loaders.get(ctx);
  if (!perCtx) loaders.set(ctx, (perCtx = new Map()));
  const name = `batch:${key}`;
  let loader = perCtx.get(name) as DataLoader<string, V> | undefined;
  if (!loader) {
    loader = new DataLoader<string, V>(batch, { cacheMap: new TtlCache<Promise<V>>() });
    perCtx.set(name, loader as DataLoader<string, unknown>);
  }
  return loader;
}

/** Drops a context's lookups (their rows belong to an EntityManager about to be cleared). */
export function forgetLookups(ctx: Context): void {
  loaders.delete(ctx);
}

/** Rows a subscription's EntityManager may hold before it is cleared between two events. */
export const SUBSCRIPTION_ROWS_MAX = 1000;

/**
 * A subscription's results (graphql-js executes each event when its `next` is called), with the
 * context's EntityManager cleared before an event once it holds more than SUBSCRIPTION_ROWS_MAX
 * rows: the rows its field resolvers and lookups loaded for earlier events (hosts, activities,
 * users) would otherwise stay for the life of the feed. Between two events nothing of the
 * subscription runs on it, so nothing is cleared from under a resolver; the lookups go too.
 */
export function withBoundedRows<T>(results: AsyncIterableIterator<T>, ctx: Context): AsyncIterableIterator<T> {
  return {
    next() {
      if (ctx.em.getUnitOfWork().getIdentityMap().keys().length > SUBSCRIPTION_ROWS_MAX) {
        ctx.em.clear();
        forgetLookups(ctx);
      }
      return results.next();
    },
    return: async (value?: unknown) => (results.return ? results.return(value) : { value: undefined, done: true }),
    throw: async (error?: unknown) => (results.throw ? results.throw(error) : Promise.reject(error)),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
