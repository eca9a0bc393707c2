import { filter, pipe } from '@graphql-yoga/subscription';

/** Narrows a pub/sub iterator with a predicate; closing the result closes the source (no leaked Redis subscriptions). */
export function filtered<T>(source: AsyncIterable<unknown>, predicate: (payload: T) => boolean): AsyncIterable<T> {
  return pipe(source as AsyncIterable<T>, filter(predicate));
}
