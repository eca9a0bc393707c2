import { createMemoryPubSub } from '../../src/infra/pubsub';
import { SequencedFeed } from '../../src/platform/supervision/sequenced-feed';

/**
 * The delivery rules of a resumable feed (src/platform/supervision/sequenced-feed.ts), with the
 * in-process pub/sub as the live channel and an array as the store: replay then live, no
 * duplicate, holes filled from the store, a catch-up on reconnect, an explicit error when the
 * store stays unreadable.
 */
type Ev = { seq: number; name: string };

function harness(opts: { after?: number; pageSize?: number; retryForMs?: number; maxReplay?: number } = {}) {
  const pubsub = createMemoryPubSub();
  const store: Ev[] = [];
  const reconnects = new Set<() => void>();
  let failing = false;
  const feed = new SequencedFeed<Ev>({
    ...opts,
    live: () => pubsub.subscribe('feed', 'h1')[Symbol.asyncIterator](),
    load: async (after, limit) => {
      if (failing) throw new Error('connection refused');
      return store.filter((e) => e.seq > after).slice(0, limit);
    },
    latest: async () => {
      if (failing) throw new Error('connection refused');
      return store.length;
    },
    onReconnect: (l) => {
      reconnects.add(l);
      return () => reconnects.delete(l);
    },
  });
  /** Stores an event; publishes it unless `lost`. */
  const add = async (name: string, lost = false) => {
    const e = { seq: store.length + 1, name };
    store.push(e);
    if (!lost) await pubsub.emit('feed', e, 'h1');
    return e;
  };
  const take = async (n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push((await feed.next()).value!.name);
    return out;
  };
  return {
    feed,
    add,
    take,
    reconnect: () => reconnects.forEach((l) => l()),
    fail: (on: boolean) => (failing = on),
    get listeners() {
      return reconnects.size;
    },
  };
}

const tick = () => new Promise((r) => setTimeout(r, 10));

describe('SequencedFeed', () => {
  it('replays the store after the cursor in pages, then goes live without a duplicate at the seam', async () => {
    const h = harness({ after: 2, pageSize: 2 });
    for (const n of ['a', 'b', 'c', 'd', 'e']) await h.add(n);
    const first = h.take(3);
    expect(await first).toEqual(['c', 'd', 'e']);
    const next = h.feed.next();
    await tick();
    await h.add('f');
    expect((await next).value).toEqual({ seq: 6, name: 'f' });
    expect(h.feed.cursor).toBe(6);
    await h.feed.return();
  });

  it('without a cursor starts after the last stored event', async () => {
    const h = harness();
    await h.add('old');
    const next = h.feed.next();
    await tick();
    await h.add('new');
    expect((await next).value!.name).toBe('new');
    await h.feed.return();
  });

  it('fills a hole from the store when a live event skips sequence numbers, and drops duplicates', async () => {
    const h = harness({ after: 0 });
    await h.add('a');
    expect(await h.take(1)).toEqual(['a']);
    await h.add('b', true); // its publish was lost
    await h.add('c', true);
    const next = h.take(3);
    await tick();
    await h.add('d'); // seq 4 arrives live after a hole of 2
    expect(await next).toEqual(['b', 'c', 'd']);
    await h.feed.return();
  });

  it('catches up from the store when the live channel comes back, even with no further event', async () => {
    const h = harness({ after: 0 });
    await h.add('a');
    expect(await h.take(1)).toEqual(['a']);
    const next = h.feed.next();
    await h.add('b', true); // published while the channel was down
    await tick();
    h.reconnect();
    expect((await next).value!.name).toBe('b');
    await h.feed.return();
    expect(h.listeners).toBe(0);
  });

  it('ends with SERVICE_UNAVAILABLE and the last cursor when the store stays unreadable', async () => {
    const h = harness({ after: 0, retryForMs: 300 });
    await h.add('a');
    expect(await h.take(1)).toEqual(['a']);
    h.fail(true);
    await h.add('b', true);
    await h.add('c'); // the hole needs the store
    const err = await h.feed.next().then(
      () => undefined,
      (e: { extensions?: Record<string, unknown> }) => e,
    );
    expect(err?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', lastCursor: '1' });
    expect((await h.feed.next()).done).toBe(true);
  });

  it('refuses a cursor ahead of the feed, and one further back than maxReplay', async () => {
    const ahead = harness({ after: 5 });
    await ahead.add('a');
    await expect(ahead.feed.next()).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'after', latestCursor: '1' } });
    const old = harness({ after: 0, maxReplay: 2 });
    for (const n of ['a', 'b', 'c']) await old.add(n);
    await expect(old.feed.next()).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', maxReplay: 2 } });
    const recent = harness({ after: 1, maxReplay: 2 });
    for (const n of ['a', 'b', 'c']) await recent.add(n);
    expect(await recent.take(2)).toEqual(['b', 'c']);
    await recent.feed.return();
  });
});
