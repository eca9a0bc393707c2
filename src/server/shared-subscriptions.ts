import type { ExecutionResult } from 'graphql';
import { AppError, ErrorCode } from '../kernel/errors';

/**
 * Many subscribers often run the same subscription (same document, variables, account and
 * permissions): a dashboard open in many browsers, or many agents watching one host. Executing
 * it once per event for each of them costs most of the server's time per delivery. A group
 * executes it once and hands each result to every member.
 *
 * A member may take results through a direct sink (its WebSocket): the group serializes each
 * result once and every member sends the same text, with no per-member promise or execution.
 * Its iterator then only signals the end (or an error) to the graphql-ws server.
 *
 * Sharing is only for subscriptions whose results do not depend on when a member joined (live
 * pub/sub feeds, no initial replay such as a log tail) and not on who the member is beyond
 * account and permissions: the key must include those. Any other subscription runs in a group of
 * its own (a key nobody else has), so that every subscriber is bounded the same way: by its
 * sink's send buffer, or by `maxBacklog` results.
 */
export interface SharedSubscriptionsOptions {
  /** Results buffered for a member that does not keep up before it is ended with an error. */
  maxBacklog: number;
}

type Source = AsyncIterator<ExecutionResult>;

/**
 * Delivers a result straight to a member's socket, given the result serialized once for the
 * whole group. Returns false when the member cannot take more (its socket's buffer is full).
 */
export type DirectSink = (result: ExecutionResult, json: string) => boolean;

/**
 * A subscriber too slow for what it asked for: ended, with a code it can act on. `lastCursor` is
 * the `cursor` of the last result it was given, when it selected one (an event feed's): it
 * resubscribes with `after` set to it and misses nothing.
 */
const tooSlow = (limit: string, message: string, last: ExecutionResult | undefined) => new AppError(ErrorCode.RATE_LIMITED, message, { limit, lastCursor: cursorOf(last) ?? null });

/** The `cursor` of a result's one root field, if it has one. */
function cursorOf(result: ExecutionResult | undefined): string | undefined {
  const roots = result?.data ? Object.values(result.data) : [];
  const root = roots.length === 1 ? (roots[0] as { cursor?: unknown } | null) : null;
  return typeof root?.cursor === 'string' ? root.cursor : undefined;
}

class Member implements AsyncIterableIterator<ExecutionResult> {
  private readonly queue: ExecutionResult[] = [];
  private waiting?: (r: IteratorResult<ExecutionResult>) => void;
  private failing?: (e: unknown) => void;
  private ended = false;
  private error?: unknown;
  /** The last result this member was given (sent to its socket, or taken with next()). */
  private last?: ExecutionResult;

  constructor(
    private readonly maxBacklog: number,
    private readonly leave: (m: Member) => void,
    readonly sink?: DirectSink,
  ) {}

  /** Hands a result to the member: through its direct sink, or queued for next(). */
  push(result: ExecutionResult, json?: () => string): void {
    if (this.ended) return;
    if (this.sink) {
      if (this.sink(result, json!())) this.last = result;
      else this.fail(tooSlow('sendBuffer', 'subscriber fell behind (more than its send buffer); resubscribe with `after: lastCursor` to read what was missed', this.last));
      return;
    }
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = this.failing = undefined;
      this.last = result;
      w({ value: result, done: false });
      return;
    }
    if (this.queue.length >= this.maxBacklog) {
      this.fail(tooSlow('backlog', `subscriber fell more than ${this.maxBacklog} results behind; resubscribe with \`after: lastCursor\` to read what was missed`, this.last));
      return;
    }
    this.queue.push(result);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.leave(this);
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = this.failing = undefined;
      w({ value: undefined, done: true });
    }
  }

  fail(error: unknown): void {
    if (this.ended) return;
    this.error = error;
    this.ended = true;
    this.queue.length = 0;
    this.leave(this);
    if (this.failing) {
      const f = this.failing;
      this.waiting = this.failing = undefined;
      f(error);
    }
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.queue.length > 0) {
      this.last = this.queue.shift()!;
      return Promise.resolve({ value: this.last, done: false });
    }
    if (this.error) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failing = reject;
    });
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.queue.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    this.end();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ExecutionResult> {
    return this;
  }
}

class Group {
  readonly members = new Set<Member>();
  private closed = false;

  constructor(
    private readonly source: Source,
    private readonly onEmpty: () => void,
  ) {}

  join(maxBacklog: number, sink?: DirectSink): Member {
    const member = new Member(maxBacklog, (m) => this.leave(m), sink);
    this.members.add(member);
    return member;
  }

  /** Reads the source once per result and fans it out; ends every member when the source ends. */
  async pump(): Promise<void> {
    try {
      for (;;) {
        const r = await this.source.next();
        if (r.done || this.closed) break;
        // serialized at most once per result, however many members send it
        let json: string | undefined;
        const serialize = () => (json ??= JSON.stringify(r.value));
        for (const m of this.members) m.push(r.value, serialize);
      }
      for (const m of [...this.members]) m.end();
    } catch (err) {
      for (const m of [...this.members]) m.fail(err);
    } finally {
      this.close();
    }
  }

  private leave(m: Member): void {
    this.members.delete(m);
    if (this.members.size === 0) this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onEmpty();
    void this.source.return?.().catch(() => undefined);
  }
}

export class SharedSubscriptions {
  private readonly groups = new Map<string, Group>();

  constructor(private readonly options: SharedSubscriptionsOptions) {}

  /** Number of distinct executions running (for tests and metrics). */
  get size(): number {
    return this.groups.size;
  }

  /**
   * Joins the group for `key`, starting it with `start` when there is none. A start that does
   * not give an iterator (an error result) is returned as is and makes no group.
   */
  async join(key: string, start: () => Promise<Source | ExecutionResult>, sink?: DirectSink): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const existing = this.groups.get(key);
    if (existing) return existing.join(this.options.maxBacklog, sink);
    const started = await start();
    if (!isAsyncIterator(started)) return started;
    // another member may have started the same group while this one awaited
    const raced = this.groups.get(key);
    if (raced) {
      void started.return?.();
      return raced.join(this.options.maxBacklog, sink);
    }
    const group = new Group(started, () => {
      if (this.groups.get(key) === group) this.groups.delete(key);
    });
    this.groups.set(key, group);
    const member = group.join(this.options.maxBacklog, sink);
    void group.pump();
    return member;
  }
}

function isAsyncIterator(v: unknown): v is Source {
  return typeof v === 'object' && v !== null && typeof (v as Source).next === 'function';
}
