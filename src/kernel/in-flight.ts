import { AppError, ErrorCode } from './errors';

/**
 * At most `max` calls in flight per key (an account), in this process: past it a call is refused
 * at once (RATE_LIMITED with `limit` and `max`), before it changes anything. For work that holds
 * memory and a connection for its whole length (builds, pulls, pushes, exec), which the request
 * rate alone does not bound: one account could otherwise start thousands at a time.
 */
export class InFlight {
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly limit: string,
    private readonly what: string,
  ) {}

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const n = this.counts.get(key) ?? 0;
    if (n >= this.max) throw new AppError(ErrorCode.RATE_LIMITED, `At most ${this.max} ${this.what} at a time per account: wait for one to finish`, { limit: this.limit, max: this.max });
    this.counts.set(key, n + 1);
    try {
      return await fn();
    } finally {
      const left = (this.counts.get(key) ?? 1) - 1;
      if (left > 0) this.counts.set(key, left);
      else this.counts.delete(key);
    }
  }

  /** Calls in flight for `key`. */
  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}
