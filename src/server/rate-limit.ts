import Redis from 'ioredis';
import { RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Limits } from '../kernel/config';
import { AppError, ErrorCode } from '../kernel/errors';
import type { Logger } from '../kernel/logger';

/** Who a limit applies to: an account (its `account` claim) or, for anonymous callers, an address. */
export type LimitKey = `account:${string}` | `address:${string}`;

export const accountKey = (account: string): LimitKey => `account:${account}`;
export const addressKey = (address: string | undefined): LimitKey => `address:${address ?? 'unknown'}`;

export const rateLimited = (message: string, extensions: Record<string, unknown> = {}) => new AppError(ErrorCode.RATE_LIMITED, message, extensions);

/**
 * Per-account limits on both transports: a request rate (rate-limiter-flexible: in process, or
 * on Redis shared by the replicas when REDIS_URL is set, falling back to in-process counting
 * while Redis is unreachable), and the WebSocket connections and subscriptions an account holds
 * on this replica.
 */
export class AccountLimits {
  private readonly rate: RateLimiterAbstract;
  private readonly redis?: Redis;
  private readonly connections: Slots;
  private readonly subscriptions: Slots;

  constructor(
    private readonly limits: Limits,
    redisUrl: string | undefined,
    logger: Logger,
  ) {
    const options = { keyPrefix: 'fleetgraph:rate', points: limits.requestsPerMinute, duration: 60 };
    const memory = new RateLimiterMemory(options);
    if (redisUrl) {
      this.redis = new Redis(redisUrl, { connectionName: 'fleetgraph-rate', maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (times) => Math.min(times * 200, 5000) });
      this.redis.on('error', (err) => logger.warn({ err: err.message, client: 'rate-limit' }, 'redis error'));
      this.rate = new RateLimiterRedis({ ...options, storeClient: this.redis, rejectIfRedisNotReady: true, insuranceLimiter: memory });
    } else {
      this.rate = memory;
    }
    this.connections = new Slots(limits.maxConnectionsPerAccount);
    this.subscriptions = new Slots(limits.maxSubscriptionsPerAccount);
  }

  /** Counts one request (HTTP request, WS connection_init or subscribe); RATE_LIMITED past the rate. */
  async consume(key: LimitKey): Promise<void> {
    try {
      await this.rate.consume(key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      const retryAfter = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      throw rateLimited(`More than ${this.limits.requestsPerMinute} requests a minute; retry in ${retryAfter} s`, { limit: 'rate', max: this.limits.requestsPerMinute, retryAfter });
    }
  }

  /** Takes a WebSocket connection slot of the account; false when it holds them all. */
  openConnection(account: string): boolean {
    return this.connections.take(account);
  }

  closeConnection(account: string): void {
    this.connections.release(account);
  }

  /** Takes a subscription slot of the account (over all its connections); RATE_LIMITED when it holds them all. */
  startSubscription(account: string): void {
    if (!this.subscriptions.take(account)) {
      throw rateLimited(`At most ${this.limits.maxSubscriptionsPerAccount} active subscriptions per account`, { limit: 'subscriptions', max: this.limits.maxSubscriptionsPerAccount });
    }
  }

  endSubscription(account: string): void {
    this.subscriptions.release(account);
  }

  async close(): Promise<void> {
    this.redis?.disconnect();
  }
}

/** Counts held per key, at most `max` each. */
class Slots {
  private readonly held = new Map<string, number>();

  constructor(private readonly max: number) {}

  take(key: string): boolean {
    const n = this.held.get(key) ?? 0;
    if (n >= this.max) return false;
    this.held.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = (this.held.get(key) ?? 0) - 1;
    if (n > 0) this.held.set(key, n);
    else this.held.delete(key);
  }
}
