import { createMemoryPubSub, FELL_BEHIND, LIVE_QUEUE_MAX, type LiveChannel } from '../../src/infra/pubsub';
import { SequencedFeed } from '../../src/platform/supervision/sequenced-feed';

/**
 * The delivery rules of a resumable feed (src/platform/supervision/sequenced-feed.ts), with the
 * in-process pub/sub as the live channel and an array as the store: replay then live, no
 * duplicate, holes filled from the store, a catch-up on reconnect, an explicit error when the
 * store stays unreadable.
 */
type Ev = { seq: number; name: string };

interface HarnessOptions {
  after?: number;
  pageSize?: number;
  retryForMs?: number;
  maxReplay?: number;
  /** Runs after each read of the store (`latest` or a page), before the feed goes on: a writer racing the feed. */
  afterRead?: (read: 'latest' | 'load') => Promise<void>;
  /** The live channel's subscription takes effect this much later (as Redis confirms a SUBSCRIBE a round trip later); what is published before is not received. */
  subscribeDelayMs?: number;
}

function harness({ afterRead, subscribeDelayMs, ...opts }: HarnessOptions = {}) {
  const pubsub = createMemoryPubSub();
  const store: Ev[] = [];
  const delayedChannel = (ms: number): LiveChannel => {
    let inner: LiveChannel | undefined;
    const subscribed = new Promise<void>((resolve) =>
      setTimeout(() => {
        inner = pubsub.subscribeSequenced('feed', 'h1');
        void inner.subscribed.then(resolve);
      }, ms),
    );
    return {
      subscribed,
      next: async () => (await subscribed, inner!.next()),
      return: async () => (await subscribed, inner!.return!()),
      throw: async (e?: unknown) => (await subscribed, inner!.throw!(e)),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  };
  const reconnects = new Set<() => void>();
  let failing = false;
  const feed = new SequencedFeed<Ev>({
    ...opts,
    live: () => (subscribeDelayMs === undefined ? pubsub.subscribeSequenced('feed', 'h1') : delayedChannel(subscribeDelayMs)),
    load: async (after, limit) => {
      if (failing) throw new Error('connection refused');
      const page = store.filter((e) => e.seq > after).slice(0, limit);
      await afterRead?.('load');
      return page;
    },
    latest: async () => {
      if (failing) throw new Error('connection refused');
      const latest = store.length;
      await afterRead?.('latest');
      return latest;
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
  /** The feed's next event, or 'waiting' if none came within `ms`. */
  const within = (feed: SequencedFeed<Ev>, ms = 1000) => Promise.race([feed.next().then((r) => r.value?.name), new Promise<string>((r) => setTimeout(() => r('waiting'), ms))]);

  it('without a cursor: an event stored right after the feed last read the store comes at once, not with the next event', async () => {
    let loads = 0;
    const h: ReturnType<typeof harness> = harness({
      subscribeDelayMs: 20,
      // the feed's one read after `latest`; the event is published right after it
      afterRead: async (read) => {
        if (read === 'load' && ++loads === 1) await h.add('racer');
      },
    });
    expect(await within(h.feed)).toBe('racer');
    await h.feed.return();
  });

  it('with a cursor: an event stored right after the replay read the store for the last time comes at once', async () => {
    let loads = 0;
    const h: ReturnType<typeof harness> = harness({
      after: 0,
      subscribeDelayMs: 20,
      // read 1: the replay page (short: replay done); read 2: the catch-up once live
      afterRead: async (read) => {
        if (read === 'load' && ++loads === 2) await h.add('racer');
      },
    });
    await h.add('a');
    expect(await within(h.feed)).toBe('a');
    expect(await within(h.feed)).toBe('racer');
    await h.feed.return();
  });

  it('a consumer that falls LIVE_QUEUE_MAX messages behind reads the store instead: every event once, in order, none held beyond the bound', async () => {
    const h = harness({ after: 0 });
    await h.add('first');
    expect(await h.take(1)).toEqual(['first']);
    // nobody pulls while more than the channel may hold are published
    for (let i = 0; i <= LIVE_QUEUE_MAX + 5; i++) await h.add(`e${i}`);
    const got = await h.take(LIVE_QUEUE_MAX + 6);
    expect(got[0]).toBe('e0');
    expect(got[got.length - 1]).toBe(`e${LIVE_QUEUE_MAX + 5}`);
    expect(new Set(got).size).toBe(LIVE_QUEUE_MAX + 6);
    expect(h.feed.cursor).toBe(LIVE_QUEUE_MAX + 7);
    await h.feed.return();
  });
});

describe('live channels hold at most LIVE_QUEUE_MAX messages for a slow consumer', () => {
  const flood = async (publish: (i: number) => Promise<unknown>) => {
    for (let i = 0; i <= LIVE_QUEUE_MAX; i++) await publish(i);
  };

  it('a plain subscription that falls behind is ended with RATE_LIMITED, not left to miss messages', async () => {
    const pubsub = createMemoryPubSub();
    const sub = pubsub.subscribe('status', 'acct');
    await (sub as unknown as { subscribed: Promise<void> }).subscribed;
    await flood((i) => pubsub.emit('status', { i }, 'acct'));
    await expect(sub[Symbol.asyncIterator]().next()).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED', limit: 'liveQueue', max: LIVE_QUEUE_MAX } });
    expect((await sub[Symbol.asyncIterator]().next()).done).toBe(true);
  });

  it("a sequenced feed's channel that falls behind says so once (the feed reads the store), then goes on live", async () => {
    const pubsub = createMemoryPubSub();
    const live = pubsub.subscribeSequenced('feed', 'h1');
    await live.subscribed;
    await flood((i) => pubsub.emit('feed', { seq: i + 1 }, 'h1'));
    expect((await live.next()).value).toBe(FELL_BEHIND);
    await pubsub.emit('feed', { seq: LIVE_QUEUE_MAX + 2 }, 'h1');
    expect((await live.next()).value).toEqual({ seq: LIVE_QUEUE_MAX + 2 });
    await live.return!();
  });
});
