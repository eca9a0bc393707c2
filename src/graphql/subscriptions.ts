/**
 * Narrows a pub/sub iterator with a predicate; closing the result closes the source (no leaked
 * Redis subscriptions). Pull-based and allocation-light: it runs once per delivery per
 * subscriber, so it is a plain iterator rather than a Repeater (@graphql-yoga/subscription's
 * filter costs several extra promise hops per value, measured with `npm run bench:events`).
 */
export function filtered<T>(source: AsyncIterable<unknown>, predicate: (payload: T) => boolean): AsyncIterableIterator<T> {
  const inner = source[Symbol.asyncIterator]() as AsyncIterator<T>;
  const done = (): IteratorResult<T> => ({ value: undefined, done: true });
  return {
    async next() {
      for (;;) {
        const r = await inner.next();
        if (r.done) return r;
        let keep: boolean;
        try {
          keep = predicate(r.value);
        } catch (err) {
          // a consumer's for-await does not call return() after next() throws: close the source here
          await inner.return?.();
          throw err;
        }
        if (keep) return r;
      }
    },
    return: async () => (inner.return ? inner.return() : done()),
    throw: async (error?: unknown) => (inner.throw ? inner.throw(error) : Promise.reject(error)),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
