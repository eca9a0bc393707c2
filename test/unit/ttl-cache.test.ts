import { TtlCache } from '../../src/graphql/loaders';

/**
 * The lookup cache of a request or a subscription context: a feed that looks up a new row for
 * every event (an event's activity, say) must not keep every row it ever looked up.
 */
describe('TtlCache', () => {
  afterEach(() => jest.useRealTimers());

  it('serves a row for 1 s, and holds only the rows of the last second however many were set', () => {
    jest.useFakeTimers({ now: 0 });
    const cache = new TtlCache<number>();
    cache.set('a', 1);
    expect(cache.get('a')).toBe(1);
    // a feed looking up 10 new rows a second for 10 minutes
    for (let i = 0; i < 6000; i++) {
      jest.setSystemTime(i * 100);
      cache.set(`row-${i}`, i);
    }
    expect(cache.size).toBeLessThanOrEqual(11);
    expect(cache.get('row-5999')).toBe(5999);
    expect(cache.get('a')).toBeUndefined();
  });

  it('a row set again counts from its latest set', () => {
    jest.useFakeTimers({ now: 0 });
    const cache = new TtlCache<number>();
    cache.set('a', 1);
    cache.set('b', 2);
    jest.setSystemTime(900);
    cache.set('a', 3);
    jest.setSystemTime(1500);
    cache.set('c', 4);
    expect(cache.get('a')).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.size).toBe(2);
  });
});
