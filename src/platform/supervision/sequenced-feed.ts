import { AppError, ErrorCode } from '../../kernel/errors';
import { traceEvent } from '../../kernel/trace';
import { FELL_BEHIND, type LiveChannel } from '../../infra/pubsub';

/** A stored event as it travels: every one has its owner's gap-free sequence number. */
export interface Sequenced {
  seq: number;
}

export interface SequencedFeedOptions<T extends Sequenced> {
  /**
   * Subscribes to the owner's live channel (FleetPubSub.subscribeSequenced). Called once, when the
   * feed has caught up with the store; the store is read again once the subscription is confirmed.
   */
  live(): LiveChannel;
  /** Stored events after `after`, in sequence order, at most `limit`. */
  load(after: number, limit: number): Promise<T[]>;
  /** The owner's last sequence number given out (the feed starts after it when no cursor is given). */
  latest(): Promise<number>;
  /** Registers a callback for "the live channel was down and is back" (pub/sub reconnect). Returns an unsubscribe function. */
  onReconnect(listener: () => void): () => void;
  /** Resume after this sequence number (a cursor the client had); undefined: from now on. */
  after?: number;
  /** Rows per store query (replay pages and gap fills). */
  pageSize?: number;
  /** How long the store may fail before the subscriber gets an error instead of waiting. */
  retryForMs?: number;
  /** The most events a resumed feed replays; an older cursor is refused (read the stored events with a query instead). */
  maxReplay?: number;
}

/** The most events a resumed feed replays by default. */
export const DEFAULT_MAX_REPLAY = 100_000;

const DEFAULT_PAGE = 500;
const DEFAULT_RETRY_FOR_MS = 30_000;
/** After a reconnect, a second catch-up this much later covers events published before the channel was subscribed again. */
const SECOND_CATCH_UP_MS = 1000;

/**
 * The events of one owner (a host or a cluster), exactly once and in sequence order, across
 * pub/sub outages. It replays from the store after the given cursor, then goes live; every live
 * event is checked against the last sequence number delivered: an older one is a duplicate and
 * is dropped, a newer one after a hole means events were missed (a publish lost, a channel that
 * was down), and the hole is filled from the store before going on. When the pub/sub connection
 * comes back, the feed catches up from the store even if no further event arrives.
 *
 * Memory is bounded: the store is read a page at a time, and only as fast as the consumer
 * pulls; the live channel is subscribed only once the replay has caught up, and holds a bounded
 * number of messages (past it, the feed reads the store instead).
 *
 * When the store cannot be read for `retryForMs`, the feed ends with SERVICE_UNAVAILABLE carrying
 * `lastCursor`, the cursor of the last event delivered: resubscribe with `after` set to it.
 */
export class SequencedFeed<T extends Sequenced> implements AsyncIterableIterator<T> {
  private lastSeq?: number;
  private readonly buffer: T[] = [];
  private phase: 'replay' | 'live' = 'replay';
  private liveIterator?: LiveChannel;
  private pendingLive?: Promise<IteratorResult<unknown>>;
  private catchUp = false;
  /** Whether the given cursor was checked against the feed (checkCursor). */
  private checked = false;
  private wake?: () => void;
  private closed = false;
  private readonly unsubscribe: () => void;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly opts: SequencedFeedOptions<T>) {
    this.lastSeq = opts.after;
    this.unsubscribe = opts.onReconnect(() => {
      this.requestCatchUp();
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.requestCatchUp();
      }, SECOND_CATCH_UP_MS);
      this.timers.add(timer);
    });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  /** The cursor of the last event delivered (or the start point). */
  get cursor(): number | undefined {
    return this.lastSeq;
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.closed) return { value: undefined, done: true };
      const buffered = this.buffer.shift();
      if (buffered) {
        if (this.lastSeq !== undefined && buffered.seq <= this.lastSeq) continue;
        this.lastSeq = buffered.seq;
        return { value: buffered, done: false };
      }
      if (this.phase === 'replay') {
        await this.replayStep();
        continue;
      }
      if (this.catchUp) {
        this.catchUp = false;
        await this.fill();
        continue;
      }
      const r = await this.nextLive();
      if (r === 'woken') continue;
      if (r.done) return this.end();
      // the channel dropped messages this feed was too slow for: they are in the store
      if (r.value === FELL_BEHIND) this.catchUp = true;
      else this.accept(r.value as T);
    }
  }

  /** One replay page; once a page comes back short, subscribes live and closes the seam with one more read. */
  private async replayStep(): Promise<void> {
    if (this.lastSeq === undefined) {
      // no cursor: from now on, with the same seam as a resumed feed's: what is stored after `latest`
      // and before the channel is subscribed is read from the store
      this.lastSeq = await this.withRetry(() => this.opts.latest());
      this.checked = true;
      await this.subscribeLive();
      this.phase = 'live';
      this.catchUp = true;
      return;
    }
    if (!this.checked) await this.checkCursor(this.lastSeq);
    const limit = this.opts.pageSize ?? DEFAULT_PAGE;
    const page = await this.withRetry(() => this.opts.load(this.lastSeq!, limit));
    this.buffer.push(...page);
    if (page.length < limit) {
      await this.subscribeLive();
      this.phase = 'live';
      // events stored between the last page and the subscription are read from the store
      this.catchUp = true;
    }
  }

  /**
   * Subscribes the live channel and waits until the transport confirmed it: an event published
   * before that is not delivered live, so the store is read only after it (else a quiet owner's
   * event could wait for the next one to reveal the hole).
   */
  private async subscribeLive(): Promise<void> {
    this.liveIterator = this.opts.live();
    await this.liveIterator.subscribed;
  }

  /** A cursor must be one the feed gave out (not ahead of it) and recent enough to replay (BAD_USER_INPUT otherwise). */
  private async checkCursor(after: number): Promise<void> {
    this.checked = true;
    const latest = await this.withRetry(() => this.opts.latest());
    const max = this.opts.maxReplay ?? DEFAULT_MAX_REPLAY;
    const refuse = async (message: string, extensions: Record<string, unknown>) => {
      await this.end();
      throw new AppError(ErrorCode.BAD_USER_INPUT, message, { field: 'after', latestCursor: String(latest), ...extensions });
    };
    if (after > latest) await refuse('after: no event has this cursor yet', {});
    if (latest - after > max) await refuse(`after: more than ${max} events behind; read the stored events with a query, then subscribe with a recent cursor`, { maxReplay: max });
  }

  /** A live event: delivered when it is the next one, dropped when already delivered, a hole filled from the store first. */
  private accept(event: T): void {
    traceEvent('received', (event as { timeNano?: string }).timeNano);
    const last = this.lastSeq ?? 0;
    if (event.seq <= last) return;
    if (event.seq === last + 1) {
      this.buffer.push(event);
      return;
    }
    // a hole: the store has every event up to this one (it is stored before it is published)
    this.catchUp = true;
  }

  /** Reads the store after the last delivered event; asks for more while pages come back full. */
  private async fill(): Promise<void> {
    const limit = this.opts.pageSize ?? DEFAULT_PAGE;
    const page = await this.withRetry(() => this.opts.load(this.lastSeq ?? 0, limit));
    this.buffer.push(...page);
    if (page.length === limit) this.catchUp = true;
  }

  private requestCatchUp(): void {
    this.catchUp = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** The next live message, or 'woken' when a catch-up was requested while waiting. */
  private async nextLive(): Promise<IteratorResult<unknown> | 'woken'> {
    this.pendingLive ??= this.liveIterator!.next();
    const woken = new Promise<'woken'>((resolve) => (this.wake = () => resolve('woken')));
    const r = await Promise.race([this.pendingLive, woken]);
    this.wake = undefined;
    if (r !== 'woken') this.pendingLive = undefined;
    return r;
  }

  private async withRetry<R>(read: () => Promise<R>): Promise<R> {
    const started = Date.now();
    const deadline = this.opts.retryForMs ?? DEFAULT_RETRY_FOR_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return await read();
      } catch (err) {
        if (this.closed) throw err;
        if (Date.now() - started >= deadline) {
          await this.end();
          throw new AppError(ErrorCode.SERVICE_UNAVAILABLE, 'Missed events could not be read from the store; resubscribe with `after: lastCursor` to resume', {
            lastCursor: this.lastSeq === undefined ? null : String(this.lastSeq),
          });
        }
        await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 4000)));
      }
    }
  }

  private async end(): Promise<IteratorResult<T>> {
    if (!this.closed) {
      this.closed = true;
      this.unsubscribe();
      for (const t of this.timers) clearTimeout(t);
      this.timers.clear();
      this.buffer.length = 0;
      this.wake?.();
      await this.liveIterator?.return?.().catch(() => undefined);
    }
    return { value: undefined, done: true };
  }

  return(): Promise<IteratorResult<T>> {
    return this.end();
  }

  async throw(error?: unknown): Promise<IteratorResult<T>> {
    await this.end();
    throw error;
  }
}
