import type { EntityManager } from '@mikro-orm/postgresql';
import { DockerHost, EventSource, HostStatus } from '../../../entities';
import { forkForAccount } from '../../infra/db/orm';
import { AppError, ErrorCode } from '../../kernel/errors';
import { failureText, isRefusal, MAX_QUEUED_EVENTS, SyncDeps } from '../../platform/supervision/deps';
import { EventStream, RawDockerEvent, sinceFromTimeNano } from '../../infra/engine/event-stream';
import { containerRefreshes, ingestEvents, refreshContainers, resyncEvents } from './ingest';
import { syncInventory, SyncResult } from './inventory';
import { commitStatus, recordFailure, recordSuccess } from '../../platform/supervision/status';
import { Ticker } from '../../kernel/ticker';

type Job = { kind: 'events'; events: RawDockerEvent[] } | { kind: 'sync'; done: (err?: unknown, r?: SyncResult) => void };

/**
 * Supervises one host: connects, keeps one /events reader open, syncs the inventory at the
 * host's interval, and drives the status machine. Events and syncs go through one serial
 * queue; events are stored and published at once, and the containers they touched are
 * re-inspected in a second lane that shares a lock with syncs.
 */
export class HostSupervisor {
  private stopped = false;
  private readonly ticker = new Ticker(
    () => this.tick(),
    (err) => this.log.error({ err }, 'supervisor tick failed'),
  );
  private stream?: EventStream;
  private readonly queue: Job[] = [];
  private draining?: Promise<void>;
  private lastTimeNano?: string;
  /** Events read from the stream and not yet handed to the store (bounded by MAX_QUEUED_EVENTS). */
  private queuedEvents = 0;
  /** The host's connectionRevision the open stream was made with. */
  private streamRevision?: number;
  /** Containers to re-inspect (id → last action), filled by events. */
  private readonly pendingRefresh = new Map<string, string>();
  private refreshing?: Promise<void>;
  private inventoryLock: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: SyncDeps,
    readonly hostId: string,
    readonly accountId: string,
  ) {}

  private get log() {
    return this.deps.logger.child({ hostId: this.hostId });
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stream?.stop();
    this.stream = undefined;
    await this.ticker.stop();
    // events already read are stored, and the containers they touched refreshed, before stopping:
    // a replica that takes over must not find a stale inventory and report it as a change
    await this.draining?.catch(() => undefined);
    await this.refreshing?.catch(() => undefined);
  }

  /** Re-reads the host now (after an update, maintenance change or recovery). */
  poke(): void {
    this.schedule(0);
  }

  /** Runs a full sync now, in order with queued events; used by syncDockerHost. */
  syncNow(): Promise<SyncResult | undefined> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'sync', done: (err, r) => (err ? reject(err) : resolve(r)) }));
  }

  private schedule(ms: number): void {
    this.ticker.schedule(ms);
  }

  private em(): EntityManager {
    return forkForAccount(this.deps.orm, this.accountId);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const em = this.em();
    const host = await em.findOne(DockerHost, this.hostId);
    if (!host) return void this.stop();
    if (host.status === HostStatus.MAINTENANCE) {
      this.closeStream();
      return this.schedule(host.syncIntervalSeconds * 1000);
    }
    try {
      // the endpoint or credentials changed since the stream was opened: reopen it with the new ones
      if (this.stream && this.streamRevision !== host.connectionRevision) this.closeStream();
      if (!this.stream) await this.openStream(em, host);
      await this.syncNow();
      this.schedule(host.syncIntervalSeconds * 1000);
    } catch (err) {
      // the sync job already recorded the failure when it got that far
      if (!(err as { recorded?: boolean }).recorded) await this.fail(em, host, err);
      this.closeStream();
      const fresh = await this.em().findOne(DockerHost, this.hostId);
      const failures = fresh?.consecutiveFailures ?? 1;
      this.schedule(Math.min(this.deps.retryBaseMs * 2 ** Math.max(failures - 1, 0), host.syncIntervalSeconds * 1000));
    }
  }

  /**
   * Maintenance may have been set by a mutation while this sync ran on an older copy of the
   * host: take the stored status then, so the sync does not write CONNECTED over it.
   */
  private async keepMaintenance(em: EntityManager, host: DockerHost): Promise<void> {
    const [row] = (await em.getConnection().execute('select status from docker_hosts where id = ?', [host.id])) as Array<{ status: HostStatus }>;
    if (row?.status === HostStatus.MAINTENANCE) host.status = HostStatus.MAINTENANCE;
  }

  private async fail(em: EntityManager, host: DockerHost, err: unknown): Promise<void> {
    await this.keepMaintenance(em, host);
    const text = failureText(err);
    this.log.warn({ error: text }, 'host check failed');
    await commitStatus(em, this.deps.pubsub, recordFailure(host, text, new Date(), isRefusal(err)));
  }

  /**
   * Where to resume the stream: the last event this supervisor read, else the newest event
   * stored for the host (exact, so a new supervisor after a restart or a lease move replays
   * what Docker still buffers instead of starting from "now"), else lastEventAt. `since` is
   * inclusive: the replayed boundary event is dropped by the unique key.
   */
  private async resumeSince(em: EntityManager, host: DockerHost): Promise<string | undefined> {
    if (this.lastTimeNano) return sinceFromTimeNano(this.lastTimeNano);
    const [last] = (await em
      .getConnection()
      .execute(`select time_nano::text as time_nano from docker_events where host_id = ? and source = ? order by time desc, time_nano desc limit 1`, [host.id, EventSource.STREAM])) as Array<{
      time_nano: string;
    }>;
    if (last?.time_nano) return sinceFromTimeNano(last.time_nano);
    return host.lastEventAt ? (host.lastEventAt.getTime() / 1000).toFixed(3) : undefined;
  }

  /** Every (re)connect first checks again what the endpoint is and that it is this account's: nothing is read before. */
  private async openStream(em: EntityManager, host: DockerHost): Promise<void> {
    const { stream: client } = await this.deps.connections.for(em, host, { reverify: true });
    const since = await this.resumeSince(em, host);
    const reader = new EventStream(client, {
      onEvent: (event) => {
        if (this.queuedEvents >= MAX_QUEUED_EVENTS) {
          // storing can't keep up (a flood, or the database is slow): stop reading rather than
          // queue without bound; the reconnect resumes with `since` from the last queued event
          if (this.stream === reader) {
            this.stream = undefined;
            reader.stop();
            this.log.warn({ queued: this.queuedEvents }, 'event stream paused: too many events waiting to be stored');
            void this.streamLost(new AppError(ErrorCode.DOCKER_ERROR, 'event stream paused', { reason: `more than ${MAX_QUEUED_EVENTS} events waiting to be stored` }));
          }
          return;
        }
        this.lastTimeNano = event.timeNano;
        this.queuedEvents++;
        const last = this.queue[this.queue.length - 1];
        if (last?.kind === 'events' && last.events.length < (this.deps.batchSize ?? 500)) last.events.push(event);
        else this.enqueue({ kind: 'events', events: [event] });
      },
      onEnd: (error) => {
        if (this.stream !== reader) return;
        this.stream = undefined;
        if (this.stopped) return;
        this.log.warn({ error: error?.message }, 'event stream ended; reconnecting');
        void this.streamLost(error);
      },
      onSkipped: (skipped) => this.log.warn(skipped, 'event stream: lines that are not events dropped'),
    });
    // assigned before start() so that an end right after the start is not mistaken for a stale reader's
    this.stream = reader;
    this.streamRevision = host.connectionRevision;
    try {
      await reader.start(since);
    } catch (err) {
      if (this.stream === reader) this.stream = undefined;
      throw err;
    }
  }

  /** The daemon connection dropped: the host is disconnected until the next tick reconnects. */
  private async streamLost(error?: Error): Promise<void> {
    try {
      const em = this.em();
      const host = await em.findOne(DockerHost, this.hostId);
      if (host && host.status !== HostStatus.MAINTENANCE) {
        await commitStatus(em, this.deps.pubsub, recordFailure(host, `event stream lost: ${error ? failureText(error) : 'closed'}`));
      }
    } catch (err) {
      this.log.warn({ err }, 'could not record stream loss');
    }
    this.schedule(this.deps.retryBaseMs);
  }

  private closeStream(): void {
    const s = this.stream;
    this.stream = undefined;
    s?.stop();
  }

  private enqueue(job: Job): void {
    this.queue.push(job);
    this.kick();
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.queue.length > 0 && !this.stopped) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const job = this.queue.shift()!;
      if (job.kind === 'sync') {
        try {
          job.done(undefined, await this.runSync());
        } catch (err) {
          job.done(err);
        }
        continue;
      }
      this.queuedEvents -= job.events.length;
      try {
        const em = this.em();
        const host = await em.findOneOrFail(DockerHost, this.hostId);
        containerRefreshes(job.events, this.pendingRefresh);
        await ingestEvents(em, this.deps.pubsub, host, job.events, EventSource.STREAM);
      } catch (err) {
        this.log.error({ err, events: job.events.length }, 'storing events failed; the next sync repairs the inventory');
      }
      this.kickRefresh();
    }
  }

  /**
   * The inventory lane: container rows touched by events are re-inspected here, off the event
   * path, so delivery never waits for Docker. Refreshes and full syncs hold one lock, so a
   * sync's older list never overwrites a newer inspect.
   */
  private kickRefresh(): void {
    if (this.refreshing || this.pendingRefresh.size === 0) return;
    this.refreshing = (async () => {
      while (this.pendingRefresh.size > 0) {
        const batch = new Map(this.pendingRefresh);
        this.pendingRefresh.clear();
        await this.withInventoryLock(async () => {
          const em = this.em();
          const host = await em.findOneOrFail(DockerHost, this.hostId);
          const { api } = await this.deps.connections.for(em, host);
          await refreshContainers(em, host, api, batch);
        }).catch((err) => this.log.warn({ err, containers: batch.size }, 'container refresh failed; the next sync repairs the inventory'));
      }
    })().finally(() => {
      this.refreshing = undefined;
      this.kickRefresh();
    });
  }

  private withInventoryLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.inventoryLock.then(fn);
    this.inventoryLock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private runSync(): Promise<SyncResult> {
    return this.withInventoryLock(() => this.syncLocked());
  }

  private async syncLocked(): Promise<SyncResult> {
    const em = this.em();
    const host = await em.findOneOrFail(DockerHost, this.hostId);
    // The first sync of a host loads its inventory; later ones publish what changed (resync events).
    const emitChanges = Boolean(host.lastSyncedAt);
    try {
      const { api } = await this.deps.connections.for(em, host);
      const result = await syncInventory(em, host, api);
      if (this.lastTimeNano) host.lastEventAt = new Date(Number(BigInt(this.lastTimeNano) / 1_000_000n));
      await this.keepMaintenance(em, host);
      const change = recordSuccess(host);
      await commitStatus(em, this.deps.pubsub, change);
      if (emitChanges && result.changes.length > 0) {
        await ingestEvents(em, this.deps.pubsub, host, resyncEvents(result.changes), EventSource.RESYNC);
      }
      return result;
    } catch (err) {
      await this.fail(em, host, err);
      throw Object.assign(err as object, { recorded: true });
    }
  }
}
