import PgBoss from 'pg-boss';
import type { Logger } from '../kernel/logger';
import type { Worker } from '../kernel/worker';

/**
 * Durable jobs in PostgreSQL (pg-boss 10, its own `pgboss` schema in fleetgraph's database): work
 * that must happen even if the replica that planned it is gone by then (an instance's timeout,
 * a task callback's retries, a deployment step). A job is a row: it survives restarts, is handed
 * to one worker of one replica at a time, and a job that was active when its replica stopped is
 * failed and retried (pg-boss `failWip`), so handlers must be idempotent.
 *
 * One wrapper for every module: `queue(name, options)` declares a queue and its handler before
 * start; `send` works on any replica (API-only replicas too), `start` (the Worker) starts
 * fetching for the declared queues only when the process runs workers.
 */

export interface JobOptions {
  /** Run no earlier than this (a Date, or seconds from now). */
  startAfter?: Date | number;
  /** A stable job id (a uuid): sending the same id twice makes one job (the second send is a no-op and returns null). */
  id?: string;
  /** With a `stately` queue: at most one queued job per key. */
  singletonKey?: string;
  retryLimit?: number;
  /** Seconds before the first retry. */
  retryDelay?: number;
  /** Doubles the delay at each retry (with jitter). */
  retryBackoff?: boolean;
  /** An active job not finished within this is failed (and retried). */
  expireInSeconds?: number;
}

export interface QueueOptions {
  /** pg-boss policy: `standard` (default), or `stately` (one queued and one active per singleton key). */
  policy?: 'standard' | 'stately';
  /** Jobs handled at once by this replica. */
  concurrency?: number;
}

export type JobHandler<T> = (data: T, job: { id: string; name: string }) => Promise<void>;

/** Queue names as pg-boss accepts them. */
const QUEUE_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

export interface JobsConfig {
  /** The database (pg-boss opens its own small pool). */
  databaseUrl: string;
  /** How often an idle worker looks for due jobs (pg-boss's minimum is 0.5 s). */
  pollingIntervalSeconds?: number;
  /** Connections of pg-boss's pool. */
  poolSize?: number;
  /** How long stopping waits for running handlers, in ms (pg-boss's graceful stop, then ours; default 10 s). */
  stopWaitMs?: number;
}

/** How long after its stop pg-boss may still check that its workers stopped (its offWork loop waits 1 s per look). */
const OFF_WORK_CHECK_MS = 1100;

/** The job queue of the process; start/stop as a Worker. */
export class JobQueue implements Worker {
  readonly name = 'jobs';
  private readonly boss: PgBoss;
  private readonly queues = new Map<string, { options: QueueOptions; handler: JobHandler<never> }>();
  /** pg-boss worker ids of this replica, by queue: woken at once when this replica sends a job due now. */
  private readonly workerIds = new Map<string, string[]>();
  private opened?: Promise<void>;
  private working = false;
  private stopped = false;
  /** Handlers running on this replica: stop() waits for them, so no pg-boss worker outlives the queue. */
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly config: JobsConfig,
    private readonly logger: Logger,
  ) {
    this.boss = new PgBoss({
      connectionString: config.databaseUrl,
      max: config.poolSize ?? 4,
      application_name: 'fleetgraph-jobs',
      // maintenance (expiry, archiving) runs on every replica that works; pg-boss serialises it with a lock
      supervise: true,
      schedule: false,
      migrate: true,
    });
    // pg-boss reports errors of its background loops here; without a listener EventEmitter would throw
    this.boss.on('error', (err) => this.logger.warn({ err }, 'job queue error'));
  }

  /** Declares a queue and the handler that works it (before start). */
  queue<T>(name: string, handler: JobHandler<T>, options: QueueOptions = {}): void {
    if (!QUEUE_NAME.test(name)) throw new Error(`job queue name "${name}" is not valid`);
    if (this.queues.has(name)) throw new Error(`job queue ${name} is declared twice`);
    this.queues.set(name, { options, handler: handler as JobHandler<never> });
  }

  /** Opens pg-boss (creating or migrating its schema) and the declared queues, once; sending needs no worker. */
  private open(): Promise<void> {
    this.opened ??= (async () => {
      await this.boss.start();
      for (const [name, q] of this.queues) await this.boss.createQueue(name, { name, policy: q.options.policy ?? 'standard' });
    })().catch((err) => {
      this.opened = undefined;
      throw err;
    });
    return this.opened;
  }

  /** Queues a job; resolves with its id, or null when an equal job (same id, or same singleton key on a stately queue) is already queued. */
  async send<T extends object>(name: string, data: T, options: JobOptions = {}): Promise<string | null> {
    if (!this.queues.has(name)) throw new Error(`job queue ${name} is not declared`);
    if (this.stopped) throw new Error('the job queue is stopped');
    await this.open();
    const { startAfter, ...rest } = options;
    const send: PgBoss.SendOptions = { ...rest };
    if (startAfter !== undefined) send.startAfter = typeof startAfter === 'number' ? Math.max(0, Math.ceil(startAfter)) : startAfter;
    const id = await this.boss.send(name, data, send);
    // a job due now is fetched at once by an idle worker of this replica, not at its next poll
    if (id && startAfter === undefined) for (const w of this.workerIds.get(name) ?? []) this.boss.notifyWorker(w);
    return id;
  }

  /** Cancels a queued job (a timeout that is no longer needed); a job already done or gone is fine. */
  async cancel(name: string, id: string): Promise<void> {
    await this.open();
    await this.boss.cancel(name, id).catch((err) => this.logger.debug({ err, queue: name }, 'job cancel'));
  }

  /** Worker: starts working every declared queue on this replica. */
  async start(): Promise<void> {
    await this.open();
    if (this.working) return;
    this.working = true;
    for (const [name, q] of this.queues) {
      const concurrency = Math.max(1, q.options.concurrency ?? 2);
      for (let i = 0; i < concurrency; i++) {
        const id = await this.boss.work<object>(name, { pollingIntervalSeconds: this.config.pollingIntervalSeconds ?? 1, batchSize: 1 }, async (jobs) => {
          for (const job of jobs) await this.run(q.handler, job);
        });
        this.workerIds.set(name, [...(this.workerIds.get(name) ?? []), id]);
      }
    }
  }

  /**
   * Runs one fetched job. A job fetched while the queue stops is not run: it fails here and pg-boss
   * retries it (on this replica after a restart, or on another one), instead of running against
   * connections that are closing.
   */
  private run(handler: JobHandler<never>, job: PgBoss.Job<object>): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('the job queue is stopping'));
    const run = handler(job.data as never, { id: job.id, name: job.name }).finally(() => this.running.delete(run));
    this.running.add(run);
    return run;
  }

  /**
   * Stops fetching, waits (bounded) for running handlers, then closes pg-boss's pool. pg-boss's own
   * wait ends at its timeout even when a handler still runs; this one waits for the handlers it
   * started too (as long again at most), so none runs on after the process closed its database.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (!this.opened) return;
    await this.opened.catch(() => undefined);
    const waitMs = this.config.stopWaitMs ?? 10_000;
    await this.boss.stop({ graceful: true, timeout: waitMs, wait: true, close: true });
    // pg-boss's stop does not wait for its per-queue "workers stopped?" checks, which look again once a
    // second on timers of their own: give them that second, so none of its timers outlives the queue
    if (this.working) await new Promise((resolve) => setTimeout(resolve, OFF_WORK_CHECK_MS));
    if (this.running.size === 0) return;
    this.logger.warn({ running: this.running.size }, 'job handlers still running after the job queue stopped; waiting for them');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.running]), new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]).finally(() => clearTimeout(timer));
  }
}

export function createJobQueue(config: JobsConfig, logger: Logger): JobQueue {
  return new JobQueue(config, logger);
}
