import type Docker from 'dockerode';
import type { EntityManager } from '@mikro-orm/postgresql';
import { EventSource, HostStatus } from '../../../entities';
import { forkForAccount } from '../../infra/db/orm';
import { EventStream, RawDockerEvent, sinceFromTimeNano } from '../../infra/engine/event-stream';
import { AppError, conflict, ErrorCode } from '../../kernel/errors';
import type { Logger } from '../../kernel/logger';
import { Ticker } from '../../kernel/ticker';
import { traceEvent } from '../../kernel/trace';
import { failureText, isRefusal, MAX_QUEUED_EVENTS, SyncDeps } from './deps';
import { EventOwner, gapEvent, LeaseLost } from './event-store';
import type { Endpoint } from './registry';

/** What a supervisor's kind is stored as: the endpoint's table, and the events table and column naming it. */
export interface SupervisedTables<E extends Endpoint> {
  entity: new (...args: never[]) => E;
  /** `host` or `cluster` (log messages). */
  noun: string;
  table: 'docker_hosts' | 'swarm_clusters';
  events: { table: 'docker_events' | 'swarm_events'; subject: 'host_id' | 'cluster_id' };
}

/** The outcome of a check of the endpoint, for the status machine. */
export type Outcome = { ok: true } | { ok: false; error: string; refused: boolean; cause: unknown };

/** The Docker clients of an endpoint: `api` for calls, `stream` for the event stream (no response cap). */
export interface EndpointClients {
  api: Docker;
  stream: Docker;
}

type Job<R> = { kind: 'events'; events: RawDockerEvent[]; source: EventSource } | { kind: 'sync'; done: (err?: unknown, r?: R) => void };

/** Where a reopened stream resumes: Docker's `since`, and the stored event it should replay first (when known exactly). */
interface Resume {
  since?: string;
  boundaryNano?: string;
}

/** How long the sync after a reopen waits for Docker's replay to start (it is immediate unless the daemon restarted). */
const REPLAY_WAIT_MS = 500;

/**
 * Syncs right after a stream opened (a takeover, a replica start, a reconnect) running at once in
 * a process. A takeover opens many streams within seconds: their syncs, all at once, would share
 * the CPU and the database pool with the event batches of every stream. Such a sync waits for a
 * slot before it is queued, so the endpoint's own events are stored meanwhile; the syncs at each
 * endpoint's interval do not wait.
 */
const OPENING_SYNCS_AT_ONCE = 4;
/** How long such a sync holds its slot at most: a slow engine (calls time out after 60 s) must not hold up the others. */
const SYNC_SLOT_MS = 5_000;

/** A claim on one of a Slots' places: `granted` resolves true once it holds one, false when released (cancelled) before. */
interface SlotClaim {
  granted: Promise<boolean>;
  /** Gives the place back, or cancels the wait; idempotent. */
  release(): void;
}

/** A counting semaphore with cancellable waits, first come first served. */
class Slots {
  private used = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  claim(): SlotClaim {
    let state: 'waiting' | 'held' | 'done' = 'waiting';
    let settle!: (held: boolean) => void;
    const granted = new Promise<boolean>((resolve) => (settle = resolve));
    const grant = () => {
      state = 'held';
      settle(true);
    };
    if (this.used < this.size) {
      this.used++;
      grant();
    } else this.waiting.push(grant);
    const release = () => {
      if (state === 'waiting') {
        this.waiting.splice(this.waiting.indexOf(grant), 1);
        settle(false);
      } else if (state === 'held') {
        // the place passes to the next waiter as it is
        const next = this.waiting.shift();
        if (next) next();
        else this.used--;
      }
      state = 'done';
    };
    return { granted, release };
  }
}

const openingSyncs = new Slots(OPENING_SYNCS_AT_ONCE);

/** How long a sync after an opened stream waits at most for the other streams being opened. */
const OPENINGS_WAIT_MS = 3_000;

/**
 * The streams being opened in this process right now. A takeover opens dozens at once; the syncs
 * after them wait until none is opening any more (at most OPENINGS_WAIT_MS), so that every stream
 * is read again, and the events Docker replays are stored, before syncs take the CPU and the pool.
 */
class Openings {
  private count = 0;
  private readonly waiters = new Set<() => void>();

  /** Counts one opening; the function returned ends it (idempotent). */
  begin(): () => void {
    this.count++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--this.count === 0) for (const wake of [...this.waiters]) wake();
    };
  }

  /** Resolves when no stream is opening, or after `maxMs`. */
  settled(maxMs: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, maxMs);
      this.waiters.add(wake);
    });
  }
}

const openings = new Openings();

/** Follow-ups (activity links) of stored batches that may wait before the next batch waits for them. */
const MAX_FOLLOW_UPS = 4;

/** Backoff between attempts to store a batch while the database fails. */
const STORE_RETRY_MS = { first: 200, max: 5000 };

/**
 * Supervises one endpoint (a host or a Swarm cluster), the same way for both: connects (every
 * reconnect checks again what the engine is and that it is this account's), keeps one /events
 * reader open and resumes it where it stopped, syncs at the endpoint's interval and on demand,
 * drives the status machine (backoff after failures, maintenance left alone), and runs event
 * batches and syncs one at a time, in order, through one queue bounded by MAX_QUEUED_EVENTS.
 *
 * A kind supplies its hooks: how to connect, sync, store events, turn a sync's findings into
 * resync events, and commit an outcome (with its own status payload and topic).
 */
export abstract class EndpointSupervisor<E extends Endpoint, R extends { changes: readonly unknown[] }> {
  protected stopped = false;
  private readonly ticker: Ticker;
  private stream?: EventStream;
  /** The endpoint's connectionRevision the open stream was made with. */
  private streamRevision?: number;
  /**
   * The clients the last stream was opened with (verified then) and the endpoint's name: the
   * event path's follow-ups (a host's container refresh) ask the engine the events came from
   * through them, without reading the row.
   */
  protected reading?: { clients: EndpointClients; name: string };
  private lastTimeNano?: string;
  private readonly queue: Job<R>[] = [];
  private draining?: Promise<void>;
  /** Events read from the stream and not yet handed to the store (bounded by MAX_QUEUED_EVENTS). */
  private queuedEvents = 0;
  /** Whether the open stream's replay started at the event it resumed from (nothing was missed). */
  private replayCovered = false;
  /** Follow-up work of stored batches (activity links), in order, off the event path. */
  private followUps: Promise<void> = Promise.resolve();
  private followUpsWaiting = 0;
  /** Set when the stream was (re)opened on an endpoint synced before: the next successful sync publishes what it finds. */
  private resyncPending = false;
  private firstChecked!: () => void;
  /** The slot the sync after an opened stream waits for or holds (released by stop()). */
  private syncSlot?: SlotClaim;
  /** Set when started in standby (a warm hand-off): takes the endpoint's lease; see holdsLease(). */
  private takeLease?: () => Promise<boolean>;
  private leaseTaken?: Promise<boolean>;
  /** A standby whose stream resumed past Docker's replay: the leaving reader is behind; it keeps the lease for now. */
  private replayMissed = false;
  /**
   * Resolves once the first check after start() has the stream open (or failed), or on stop(): a
   * fleet taking over many endpoints starts them a few at a time (LeasedFleet).
   */
  readonly firstCheck = new Promise<void>((resolve) => (this.firstChecked = resolve));

  /**
   * @param fence the lease id of this replica (LeasedFleet.owner): events are stored only while
   * the endpoint's lease is still this replica's; undefined outside a fleet (no fencing).
   */
  protected constructor(
    protected readonly deps: SyncDeps,
    private readonly tables: SupervisedTables<E>,
    readonly id: string,
    readonly accountId: string,
    protected readonly fence?: string,
  ) {
    this.ticker = new Ticker(
      () => this.tick(),
      (err) => this.log.error({ err }, `${tables.noun} supervisor tick failed`),
    );
  }

  // ------------------------------------------------------------------ hooks

  /** The endpoint's clients (`reverify`: check again what the engine is and whose, before anything is read). */
  protected abstract connect(em: EntityManager, row: E, opts: { reverify?: boolean }): Promise<EndpointClients>;
  /** Reads the endpoint's inventory into the database (sets lastSyncedAt), through the engine port. */
  protected abstract syncRow(em: EntityManager, row: E, clients: EndpointClients): Promise<R>;
  /**
   * Stores and publishes events of the endpoint (with `fence`: only while the lease is this
   * replica's, else LeaseLost). `owner` is only the endpoint's id and account: the stream path
   * does not read the row.
   */
  protected abstract ingest(em: EntityManager, owner: EventOwner, events: RawDockerEvent[], source: EventSource, fence?: string): Promise<void>;
  /** A sync's findings as events (what happened while nobody was listening). */
  protected abstract resyncEvents(result: R): RawDockerEvent[];
  /** Applies an outcome to the status machine, flushes, and publishes the change (if any). */
  protected abstract commitOutcome(em: EntityManager, row: E, outcome: Outcome): Promise<void>;
  /** Filters of the event stream (e.g. `{ scope: ['swarm'] }`). */
  protected streamFilters(): Record<string, string[]> | undefined {
    return undefined;
  }
  /** Whether the stream stays open after a failed check (a swarm without quorum still streams). */
  protected keepsStreamAfter(_err: unknown): boolean {
    return false;
  }
  /**
   * Whether a successful sync publishes its findings as resync events: when no stream saw what
   * changed (`unseen`: the stream was just reopened, or none is open in this process, e.g. a
   * sync on demand on an API-only replica), and never for the first sync (that is the inventory).
   */
  protected publishesResync(wasSynced: boolean, unseen: boolean): boolean {
    return wasSynced && unseen;
  }
  /** Runs after a batch of events was stored (a refresh of what it touched, a sync soon). */
  protected afterEvents(_events: RawDockerEvent[]): void {}
  /**
   * Runs follow-up work of a stored and published batch (linking its events to activities) after
   * the previous ones, without holding up the next batch. Bounded: with MAX_FOLLOW_UPS waiting,
   * the caller waits for them first. Failures are logged: the activity side links again when it
   * finishes.
   */
  protected async followUp(work: () => Promise<void>): Promise<void> {
    if (this.followUpsWaiting >= MAX_FOLLOW_UPS) await this.followUps;
    this.followUpsWaiting++;
    this.followUps = this.followUps
      .then(work)
      .catch((err) => this.log.warn({ err }, 'follow-up of stored events failed'))
      .finally(() => this.followUpsWaiting--);
  }

  /** Runs a sync under the kind's lock (if any). */
  protected withSyncLock<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  // ------------------------------------------------------------------ lifecycle

  private readonly owner: EventOwner = { id: this.id, account: { id: this.accountId } };

  protected get log(): Logger {
    return this.deps.logger.child({ [`${this.tables.noun}Id`]: this.id });
  }

  protected em(): EntityManager {
    return forkForAccount(this.deps.orm, this.accountId);
  }

  /**
   * Starts supervising. With `takeLease` the supervisor starts in standby (a warm hand-off, see
   * LeasedFleet): the lease is still the leaving replica's, which keeps reading and storing; this
   * one opens its stream (buffering what it reads) and takes the lease once the stream is read,
   * before it writes anything. Events both readers read are stored once (storeEvents skips what is
   * stored), so the endpoint's events never wait for a stream to be opened.
   */
  start(takeLease?: () => Promise<boolean>): void {
    this.takeLease = takeLease;
    this.ticker.schedule(0);
  }

  /**
   * Whether this supervisor may write: always, unless it started in standby; then the first call
   * takes the lease (once), and false means another replica has it (or the statement failed; its
   * fleet reserves the row again at the next reconcile): the supervisor stops without writing.
   */
  private async holdsLease(): Promise<boolean> {
    if (!this.takeLease) return true;
    if (!this.leaseTaken) {
      // a standby that is stopping, or whose stream resumed past Docker's replay (the leaving reader
      // is behind and stores its backlog first), never takes the lease: its fleet tries again later
      if (this.stopped || this.replayMissed) {
        void this.stop();
        return false;
      }
      this.leaseTaken = this.takeLease().catch((err: unknown) => {
        this.log.warn({ err }, 'taking over the lease failed');
        return false;
      });
    }
    if (await this.leaseTaken) return true;
    void this.stop();
    return false;
  }

  /** Started in standby and not holding the lease yet. */
  private get inStandby(): boolean {
    return Boolean(this.takeLease) && !this.leaseTaken;
  }

  /**
   * Its fleet is handing its endpoint over warm (LeasedFleet.stop): the next reader will take the
   * lease while this one still reads, so finding the lease gone is expected, not worth a warning.
   */
  expectHandOver(): void {
    this.handingOver = true;
  }

  private handingOver = false;

  /** Fenced off: another replica holds the lease. This reader stops writing. */
  private leaseLost(fields: Record<string, unknown>): void {
    if (this.handingOver) this.log.info(fields, 'lease taken by the next reader (warm hand-off): this reader stops');
    else this.log.warn(fields, 'lease taken over by another replica: this reader stops writing');
    void this.stop();
  }

  /** Whether stop() was called (by its fleet, or by itself: fencing, or the endpoint is gone). */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Re-reads the endpoint now (after an update, maintenance change or recovery). */
  poke(): void {
    this.ticker.schedule(0);
  }

  /**
   * Stops reading and stores what was read (with the sync running, if any; queued syncs are not
   * run): once it resolves, another replica may read the endpoint. What a stream opening right now
   * reads after this is fenced off by the lease.
   */
  async handOff(): Promise<void> {
    this.stopped = true;
    this.syncSlot?.release();
    this.closeStream();
    this.firstChecked();
    await this.draining?.catch(() => undefined);
  }

  /** Stops: hands off, then waits for the running check and the follow-ups of stored events. */
  async stop(): Promise<void> {
    await this.handOff();
    await this.ticker.stop();
    await this.draining?.catch(() => undefined);
    await this.followUps;
  }

  /**
   * A full sync now, in order with queued events; records the outcome. A sync already waiting at
   * the end of the queue (not started) is joined rather than queued again: it runs after this
   * call with nothing in between, so it is the sync asked for. Syncs asked in a burst (one
   * client repeating syncDockerHost) thus cost one.
   */
  syncNow(): Promise<R> {
    return new Promise((resolve, reject) => {
      const done = (err?: unknown, r?: R) => (err ? reject(err) : resolve(r!));
      const last = this.queue[this.queue.length - 1];
      if (last?.kind === 'sync') {
        const before = last.done;
        last.done = (err, r) => {
          before(err, r);
          done(err, r);
        };
        return;
      }
      this.enqueue({ kind: 'sync', done });
    });
  }

  protected schedule(ms: number): void {
    this.ticker.schedule(ms);
  }

  private async tick(): Promise<void> {
    try {
      await this.check();
    } finally {
      this.firstChecked();
    }
  }

  private async check(): Promise<void> {
    if (this.stopped) return;
    const em = this.em();
    const row = await em.findOne(this.tables.entity, this.id);
    if (!row) return void this.stop();
    if (row.status === HostStatus.MAINTENANCE) {
      this.closeStream();
      // nothing to read: a standby takes the lease at once, so the leaving replica can go
      if (!(await this.holdsLease())) return;
      return this.schedule(row.syncIntervalSeconds * 1000);
    }
    try {
      // the endpoint or credentials changed since the stream was opened: reopen it with the new ones
      if (this.stream && this.streamRevision !== row.connectionRevision) this.closeStream();
      // a reopened stream first replays what Docker still buffers: the sync waits for it to start
      const opening = !this.stream;
      const opened = opening ? await this.openStream(em, row) : undefined;
      // a standby waits for Docker's replay to start: resumed past it, it does not take over
      if (opened && this.inStandby) await opened.replay;
      // the stream is read: a standby takes the lease now (the old reader stops on the fence)
      if (!(await this.holdsLease())) return;
      // a fleet taking over many endpoints starts the next one now
      this.firstChecked();
      if (opened) {
        await opened.replay;
        await this.syncInSlot();
      } else await this.syncNow();
      this.schedule(row.syncIntervalSeconds * 1000);
    } catch (err) {
      // stopped meanwhile (its syncs are not run, its stream closed): that is no failure of the endpoint
      if (this.stopped) return;
      // the sync already recorded the failure when it got that far
      if (!(err as { recorded?: boolean }).recorded) await this.recordFailure(err);
      // a standby that could not open the stream stopped: the leaving reader goes on
      if (this.stopped) return;
      if (!this.keepsStreamAfter(err)) this.closeStream();
      const fresh = await this.em().findOne(this.tables.entity, this.id);
      const failures = fresh?.consecutiveFailures ?? 1;
      this.schedule(Math.min(this.deps.retryBaseMs * 2 ** Math.max(failures - 1, 0), row.syncIntervalSeconds * 1000));
    }
  }

  /** The sync after the stream opened, in one of the process's slots (OPENING_SYNCS_AT_ONCE); none once stopped. */
  private async syncInSlot(): Promise<void> {
    await openings.settled(OPENINGS_WAIT_MS);
    if (this.stopped) return;
    const slot = openingSyncs.claim();
    this.syncSlot = slot;
    try {
      if (!(await slot.granted) || this.stopped) return;
      const timer = setTimeout(slot.release, SYNC_SLOT_MS);
      try {
        await this.syncNow();
      } finally {
        clearTimeout(timer);
      }
    } finally {
      slot.release();
      if (this.syncSlot === slot) this.syncSlot = undefined;
    }
  }

  /**
   * A failed check: recorded on a fresh copy of the row, unless it is in maintenance (a mutation
   * may have put it there while the check ran).
   */
  private async recordFailure(err: unknown, text = failureText(err)): Promise<void> {
    // a standby that could not open (or keep) its stream stops without taking the lease: the
    // leaving reader goes on, and the fleet tries again, or the hand-over ends the cold way
    if (this.inStandby) {
      this.log.info({ error: text }, `standby ${this.tables.noun} reader could not read; the current reader keeps the lease`);
      void this.stop();
      return;
    }
    if (!(await this.holdsLease())) return;
    try {
      const em = this.em();
      const row = await em.findOne(this.tables.entity, this.id);
      if (!row || row.status === HostStatus.MAINTENANCE) return;
      this.log.warn({ error: text }, `${this.tables.noun} check failed`);
      await this.commitOutcome(em, row, { ok: false, error: text, refused: isRefusal(err), cause: err });
    } catch (e) {
      this.log.warn({ err: e }, 'could not record the failure');
    }
  }

  /** Maintenance may have been set by a mutation while a sync ran on an older copy: take the stored status then. */
  private async keepMaintenance(em: EntityManager, row: E): Promise<void> {
    const [stored] = (await em.getConnection().execute(`select status from ${this.tables.table} where id = ?`, [row.id])) as Array<{ status: HostStatus }>;
    if (stored?.status === HostStatus.MAINTENANCE) row.status = HostStatus.MAINTENANCE;
  }

  /**
   * Where to resume the stream: the last event this supervisor read, else the newest event stored
   * for the endpoint (so a new supervisor after a restart or a lease move replays what Docker still
   * buffers instead of starting from "now"), else lastEventAt, else the registration time. `since` is inclusive: the replayed
   * boundary event is dropped by the unique key, and when Docker's replay does not start with it,
   * events may be missing (see gapEvent).
   */
  private async resumeFrom(em: EntityManager, row: E): Promise<Resume> {
    if (this.lastTimeNano) return { since: sinceFromTimeNano(this.lastTimeNano), boundaryNano: this.lastTimeNano };
    const { table, subject } = this.tables.events;
    const [last] = (await em
      .getConnection()
      .execute(`select time_nano::text as time_nano from ${table} where ${subject} = ? and source = ? order by time desc, time_nano desc limit 1`, [row.id, EventSource.STREAM])) as Array<{
      time_nano: string;
    }>;
    if (last?.time_nano) return { since: sinceFromTimeNano(last.time_nano), boundaryNano: last.time_nano };
    // nothing stored from the stream yet (a new endpoint, or a first reader that was fenced off
    // before it stored anything): replay what Docker still buffers since the endpoint was registered
    const from = row.lastEventAt ?? row.createdAt;
    return { since: (from.getTime() / 1000).toFixed(3) };
  }

  /** Adds events read from the stream to the queue (appended to the last batch while it is a stream batch with room). */
  private queueEvents(events: RawDockerEvent[], source: EventSource): void {
    this.queuedEvents += events.length;
    const last = this.queue[this.queue.length - 1];
    if (source === EventSource.STREAM && last?.kind === 'events' && last.source === source && last.events.length + events.length <= (this.deps.batchSize ?? 500)) last.events.push(...events);
    else this.enqueue({ kind: 'events', events, source });
  }

  /**
   * Opens the stream from where it stopped; resolves once Docker answered, with a promise that
   * resolves once Docker replays its first event (or after REPLAY_WAIT_MS without one) when
   * resuming from a known event. The sync after a reopen waits for that, so that it knows whether
   * Docker's replay covered the outage (then what changed meanwhile arrives as the events
   * themselves, and the sync publishes no RESYNC rows that would stand in for them).
   */
  private async openStream(em: EntityManager, row: E): Promise<{ replay: Promise<void> }> {
    const end = openings.begin();
    try {
      return await this.openStreamNow(em, row);
    } finally {
      end();
    }
  }

  private async openStreamNow(em: EntityManager, row: E): Promise<{ replay: Promise<void> }> {
    const began = performance.now();
    const took: Record<string, number> = {};
    const timed = <T>(name: string, work: Promise<T>) => work.finally(() => (took[name] = Math.round(performance.now() - began)));
    // the engine is verified while the resume point is read (its own EntityManager: both run at once)
    const [clients, { since, boundaryNano }] = await Promise.all([timed('connectMs', this.connect(em, row, { reverify: true })), timed('resumeMs', this.resumeFrom(this.em(), row))]);
    const client = clients.stream;
    this.reading = { clients, name: row.name };
    let first = true;
    this.replayCovered = false;
    let replayStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (replayStarted = resolve));
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
        if (this.replayMissed) return;
        if (first) {
          first = false;
          this.replayCovered = Boolean(boundaryNano) && BigInt(event.timeNano) <= BigInt(boundaryNano!);
          // Docker replays from its ring of the last 256 events: when the first event is newer than
          // the one we resumed from, the ring no longer reached back to it and events may be lost
          if (boundaryNano && BigInt(event.timeNano) > BigInt(boundaryNano) && this.inStandby) {
            // a standby: the reader it takes over from is that far behind; it keeps reading and
            // stores what it read, and the hand-over is tried again (or ends the cold way)
            this.replayMissed = true;
            this.log.info({ from: boundaryNano, to: event.timeNano }, "standby stream resumed past Docker's replay: the current reader keeps the lease");
            replayStarted();
            void this.stop();
            return;
          }
          replayStarted();
          if (boundaryNano && BigInt(event.timeNano) > BigInt(boundaryNano)) {
            this.log.warn({ from: boundaryNano, to: event.timeNano }, "event stream resumed past Docker's replay: announcing a gap, a resync follows");
            this.queueEvents([gapEvent(boundaryNano, event.timeNano, "Docker's event replay did not reach back to the last stored event")], EventSource.GAP);
          }
        }
        this.lastTimeNano = event.timeNano;
        traceEvent('read', event.timeNano);
        this.queueEvents([event], EventSource.STREAM);
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
    this.streamRevision = row.connectionRevision;
    this.resyncPending = true;
    try {
      await reader.start(since, this.streamFilters());
    } catch (err) {
      if (this.stream === reader) this.stream = undefined;
      throw err;
    }
    took.streamMs = Math.round(performance.now() - began);
    // stop() ran while the stream was being opened: it found no stream to close
    if (this.stopped) {
      this.closeStream();
      return { replay: Promise.resolve() };
    }
    this.log.info({ ...took, resumed: Boolean(boundaryNano) }, 'event stream opened');
    if (!boundaryNano) return { replay: Promise.resolve() };
    let timer: NodeJS.Timeout | undefined;
    return { replay: Promise.race([started, new Promise<void>((resolve) => (timer = setTimeout(resolve, REPLAY_WAIT_MS)))]).finally(() => clearTimeout(timer)) };
  }

  /** The connection dropped: the endpoint is disconnected until the next tick reconnects. */
  private async streamLost(error?: Error): Promise<void> {
    await this.recordFailure(error, `event stream lost: ${error ? failureText(error) : 'closed'}`);
    this.schedule(this.deps.retryBaseMs);
  }

  private closeStream(): void {
    const s = this.stream;
    this.stream = undefined;
    s?.stop();
  }

  // ------------------------------------------------------------------ the queue

  private enqueue(job: Job<R>): void {
    this.queue.push(job);
    this.kick();
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      // also when stopped: a sync queued as the loop ended is then refused there, not left unsettled
      if (this.queue.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const job = this.queue.shift()!;
      if (job.kind === 'sync') {
        // a stopping supervisor stores what it read, but syncs no more: the next reader syncs
        if (this.stopped) {
          job.done(new Error(`${this.tables.noun} supervisor stopped`));
          continue;
        }
        try {
          job.done(undefined, await this.withSyncLock(() => this.runSync()));
        } catch (err) {
          job.done(err);
        }
        continue;
      }
      if (!(await this.store(job))) {
        // stopped: what is left is not stored, and syncs waiting behind are not run
        for (const left of this.queue.splice(0)) if (left.kind === 'sync') left.done(new Error(`${this.tables.noun} supervisor stopped`));
        this.queuedEvents = 0;
        return;
      }
      this.afterEvents(job.events);
    }
  }

  /**
   * Stores one batch, retrying with backoff while the database fails: events read are never
   * dropped (the stream keeps reading into the bounded queue meanwhile, and pauses when it is
   * full). Returns false when the supervisor stopped: the lease moved (fencing), the endpoint is
   * gone, or stop() was called while the database was still failing.
   */
  private async store(job: Extract<Job<R>, { kind: 'events' }>): Promise<boolean> {
    // a standby's stream is read: its events are stored once it holds the lease
    if (!(await this.holdsLease())) return false;
    for (let attempt = 0; ; attempt++) {
      // a stop waits for the batch being stored, but not for a database that keeps failing
      if (this.stopped && attempt > 0) {
        this.log.error({ events: job.events.length }, 'stopped before events could be stored; the next reader resumes from the last stored event');
        return false;
      }
      try {
        for (const e of job.events) traceEvent('store', e.timeNano);
        // no read of the row: a removed endpoint stores nothing (its counter row is gone) and its tick stops the supervisor
        await this.ingest(this.em(), this.owner, job.events, job.source, this.fence);
        this.queuedEvents -= job.events.length;
        return true;
      } catch (err) {
        if (err instanceof LeaseLost) {
          this.leaseLost({ events: job.events.length });
          return false;
        }
        const wait = Math.min(STORE_RETRY_MS.first * 2 ** attempt, STORE_RETRY_MS.max);
        if (attempt === 0 || wait === STORE_RETRY_MS.max) this.log.error({ err, events: job.events.length, attempt, retryInMs: wait }, 'storing events failed; kept and retried');
        await this.pause(wait);
      }
    }
  }

  /** Waits `ms`, or less when the supervisor stops. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const started = Date.now();
      const check = setInterval(
        () => {
          if (this.stopped || Date.now() - started >= ms) {
            clearInterval(check);
            resolve();
          }
        },
        Math.min(ms, 100),
      );
    });
  }

  private async runSync(): Promise<R> {
    // a sync asked of a standby before its stream is read would take the lease from a working reader
    if (this.inStandby && !this.stream) throw conflict(`the ${this.tables.noun} is being handed over to another replica; try again in a few seconds`);
    if (!(await this.holdsLease())) throw new Error(`${this.tables.noun} supervisor stopped`);
    const em = this.em();
    const row = await em.findOneOrFail(this.tables.entity, this.id);
    const wasSynced = Boolean(row.lastSyncedAt);
    try {
      const result = await this.syncRow(em, row, await this.connect(em, row, {}));
      if (this.lastTimeNano) row.lastEventAt = new Date(Number(BigInt(this.lastTimeNano) / 1_000_000n));
      await this.keepMaintenance(em, row);
      // published like any other change (in maintenance there is none: the status machine leaves it alone)
      await this.commitOutcome(em, row, { ok: true });
      const reopened = this.resyncPending;
      this.resyncPending = false;
      // Docker's replay reached back to the last stored event: the changes arrive as themselves
      const covered = reopened && this.replayCovered;
      if (!covered && this.publishesResync(wasSynced, reopened || !this.stream) && result.changes.length > 0) {
        // in batches as stream events are: an engine reporting 200,000 changes makes no 200,000-row statement
        const events = this.resyncEvents(result);
        const size = this.deps.batchSize ?? 500;
        for (let i = 0; i < events.length; i += size) await this.ingest(em, row, events.slice(i, i + size), EventSource.RESYNC, this.fence);
      }
      return result;
    } catch (err) {
      em.clear();
      if (err instanceof LeaseLost) {
        this.leaseLost({});
        throw Object.assign(err, { recorded: true });
      }
      await this.recordFailure(err);
      throw Object.assign(err as object, { recorded: true });
    }
  }
}
