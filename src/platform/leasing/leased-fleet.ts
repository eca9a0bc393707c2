import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Worker } from '../../kernel/worker';
import type { FleetPubSub } from '../../infra/pubsub';
import { Topic } from '../../infra/pubsub/topics';
import { DedicatedSession } from '../../infra/db/session';
import { CONFIRM_DEAD_MS, HANDOVER_POLL_MS, HANDOVER_WAIT_MS, HeldLease, leaseTiming, planLeases, RESERVE_WAIT_MS, START_SLOT_MS, STARTS_AT_ONCE, WATCH_MS } from './lease-plan';

/** One supervised row's worker (a host's or a cluster's supervisor). */
export interface Supervised {
  /** Starts; with `takeLease`, in standby: it takes the lease itself once its stream is read (warm hand-off). */
  start(takeLease?: () => Promise<boolean>): void;
  /** Resolves once its first check after start() has the stream open (or failed), or on stop(). */
  readonly firstCheck: Promise<void>;
  /** Stops reading and stores what it read: from then on another replica may read the row (its lease can go). */
  handOff(): Promise<void>;
  /** Its lease is about to be taken by the next reader while it still reads (a warm hand-off): no warning when its store finds it gone. */
  expectHandOver(): void;
  stop(): Promise<void>;
  poke(): void;
  /** Whether it stopped on its own (its store found the lease taken: fencing; or its row gone). */
  readonly isStopped: boolean;
}

export interface LeasedFleetOptions<S extends Supervised> {
  name: string;
  /** Table whose rows carry lease_owner / lease_expires_at (and account_id); also the fleet's name in fleet_replicas. */
  table: string;
  orm: MikroORM;
  logger: Logger;
  /** A supervisor for a row; `fence` is this replica's lease id, which its writes check (fencing). */
  create(id: string, accountId: string, fence: string): S;
  /** Where replicas announce leases they gave up (on stop, or shed above their share), so the others take them at once. */
  pubsub?: Pick<FleetPubSub, 'emit' | 'subscribe'>;
  leaseSeconds?: number;
  reconcileMs?: number;
}

/**
 * Replicas of fleet $1 other than $2 whose presence names a backend of this PostgreSQL instance
 * (written since it started) that is gone, or is another one now (pid reused). A process that dies
 * closes its connections and PostgreSQL ends their backends at once. Presences without a backend,
 * from before a PostgreSQL restart, or whose backend can't be seen are not judged here: their
 * leases expire. A live replica whose session reconnected is in this list until its first
 * statement on the new connection records the new backend (DedicatedSession's onConnect), so a
 * replica counts as dead only once it stayed in the list for CONFIRM_DEAD_MS (LeasedFleet).
 */
export const DEAD_REPLICAS = `select r.owner from fleet_replicas r
   where r.fleet = $1 and r.owner <> $2 and r.backend_pid is not null and r.seen_at > pg_postmaster_start_time()
     and not exists (select 1 from pg_stat_activity a where a.pid = r.backend_pid and (a.backend_start is null or a.backend_start = r.backend_start))`;

/**
 * The other replicas of fleet $1 than $2 that count as live (presence not expired, backend not
 * gone), as a FROM clause; `gone` lists the owners whose backend is gone (DEAD_REPLICAS, or a CTE of it).
 */
const otherLiveReplicas = (gone: string) => `fleet_replicas where fleet = $1 and owner <> $2 and expires_at > now() and owner not in (${gone})`;

/** The statement that records the session's backend in this replica's presence ($1 fleet, $2 owner), first on each new connection. */
const RECORD_BACKEND = `update fleet_replicas set backend_pid = pg_backend_pid(), backend_start = (select backend_start from pg_stat_activity where pid = pg_backend_pid())
   where fleet = $1 and owner = $2`;

/** What the claim statement answers: the fair share, and the rows held after it (renewed, newly claimed, then reserved). */
interface Claim {
  live: number;
  target: number;
  held: HeldLease[];
}

/**
 * Runs one supervisor per row this replica holds a lease on. Leases live on the row
 * (lease_owner, lease_expires_at) and are claimed or renewed in one statement per reconcile,
 * so with several replicas each row has exactly one supervisor, and a crashed replica's rows
 * move to another within the lease time. The same statement renews the replica's presence in
 * fleet_replicas, and a replica claims free rows only up to its fair share (rows / live
 * replicas) and sheds what it holds well above it: leases spread over the replicas, so a kill
 * orphans about 1/N of the rows, which the survivors split. New supervisors start a few at a
 * time (STARTS_AT_ONCE). Hosts (src/modules/hosts/fleet.ts) and Swarm clusters use it.
 */
export class LeasedFleet<S extends Supervised> implements Worker {
  readonly name: string;
  readonly owner = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly supervisors = new Map<string, S>();
  /** Created supervisors waiting for a start slot (in claim order), and how many are starting. */
  private readonly waiting: Array<{ id: string; sup: S; reserved: boolean }> = [];
  private starting = 0;
  /**
   * Rows whose supervisors are stopping off the reconcile (lost leases; shed ones, released once
   * stopped), and that work: a reconcile never waits for a supervisor to store what it read, so
   * renewals keep their pace; these rows get no new supervisor until their old one has stopped.
   */
  private readonly stopping = new Set<string>();
  private stoppingWork: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private deathWatch?: NodeJS.Timeout;
  private watching = false;
  /** Replicas seen dead by the watch, and since when (ms): dead for the claim once CONFIRM_DEAD_MS passed. */
  private readonly deadSince = new Map<string, number>();
  /** When a failed death check was last logged (they are logged once a minute at most). */
  private watchFailureLogged = 0;
  /** The fleet's own connection: claims and renewals never wait for the pool, and its backend is this replica's presence. */
  private readonly session: DedicatedSession;
  private running = false;
  private reconciling: Promise<void> = Promise.resolve();
  /** The reconcile waiting for the running one to end (shared by every call meanwhile). */
  private queued?: Promise<void>;
  private handoffs?: AsyncIterator<unknown>;
  /** Reserved rows whose leases the next statement takes (takeReserved), and the statement running. */
  private nextTake?: { ids: string[]; taken: Promise<Set<string>> };
  private taking: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: LeasedFleetOptions<S>) {
    this.name = opts.name;
    this.session = DedicatedSession.forOrm(opts.orm, `fleetgraph ${opts.name}`, (client) => client.query(RECORD_BACKEND, [opts.table, this.owner]));
  }

  async start(): Promise<void> {
    this.running = true;
    this.listenForHandoffs();
    await this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), leaseTiming(this.opts).reconcileMs);
    this.deathWatch = setInterval(() => void this.watchForDeaths(), WATCH_MS);
  }

  /** Another replica released leases (it is stopping, or shed some above its share): claim them now rather than at the next reconcile. */
  private listenForHandoffs(): void {
    if (!this.opts.pubsub) return;
    const iterator = this.opts.pubsub.subscribe(Topic.LEASES_RELEASED, this.opts.table)[Symbol.asyncIterator]();
    this.handoffs = iterator;
    void (async () => {
      for (;;) {
        const r = await iterator.next();
        if (r.done || !this.running) return;
        if ((r.value as { owner?: string }).owner !== this.owner) void this.reconcile();
      }
    })().catch((err) => {
      if (!this.running) return;
      // the channel was interrupted (pub/sub reconnected) or fell behind: hand-offs may have been
      // missed, so the fleet is reconciled now, and listened to again
      this.opts.logger.info({ err: (err as Error).message, fleet: this.name }, 'lease hand-off listener interrupted: reconciling, listening again');
      void this.reconcile();
      this.listenForHandoffs();
    });
  }

  /**
   * Hands the fleet over and stops. Warm first (handOverWarm): it leaves the fleet and keeps
   * reading while the other replicas reserve its rows, open their own streams and take the
   * leases; each of its supervisors stops once its lease was taken. What is still its own after
   * HANDOVER_WAIT_MS (or when no other replica reserves anything) goes the cold way: every
   * supervisor stops (storing what it read first), then the leases are released and the other
   * replicas told, which claim them at once and resume from the last stored event. Either way
   * there is no gap; warm, the events never wait for a stream to be opened.
   */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.timer);
    clearInterval(this.deathWatch);
    void this.handoffs?.return?.();
    await this.reconciling;
    this.waiting.splice(0);
    await this.stoppingWork;
    // the leases are renewed until they are released: a reader storing what it read for longer
    // than a lease must not be fenced off on its way out
    const renewing = setInterval(() => void this.renewOnly(), leaseTiming(this.opts).reconcileMs);
    try {
      const { taken } = await this.handOverWarm();
      const ids = [...this.supervisors.keys()];
      await this.stopSupervisors(ids, (handedOff) => {
        clearInterval(renewing);
        return this.release(handedOff, true);
      });
      await taken;
      // whatever is still this replica's or reserved by it (a standby's take that ended while it
      // stopped) goes too: no row stays leased to a replica that is gone
      await this.release([], true);
    } finally {
      clearInterval(renewing);
    }
    await this.session.close();
  }

  /**
   * The warm part of stop(), when other replicas of the fleet are live: deletes this replica's
   * presence (its rows become reservable, and the others' fair share grows) and announces it,
   * then looks every HANDOVER_POLL_MS which leases were taken and stops their supervisors (their
   * readers; anything they had not stored is in the new reader's stream, which resumed from the
   * last stored event). Announces again while rows are held and not reserved (a reservation skips
   * rows locked by a store right then). Ends when no supervisor is left, after HANDOVER_WAIT_MS,
   * when nobody reserved anything within RESERVE_WAIT_MS, or when no other replica is live any
   * more (all stopping at once). Failures end it: stop() goes on cold.
   */
  private async handOverWarm(): Promise<{ taken: Promise<unknown> }> {
    const stopping: Array<Promise<void>> = [];
    if (this.supervisors.size === 0 || !this.opts.pubsub) return { taken: Promise.resolve() };
    const { table } = this.opts;
    const { reconcileMs } = leaseTiming(this.opts);
    // the others reserve at their next reconcile at the latest (when the announcement is lost)
    const reserveWait = Math.max(RESERVE_WAIT_MS, reconcileMs + 500);
    const handOverWait = Math.max(HANDOVER_WAIT_MS, reserveWait + 2_500);
    const started = Date.now();
    try {
      const othersLive = async () => {
        const [others] = await this.session.query<{ n: number }>(`select count(*)::int as n from ${otherLiveReplicas(DEAD_REPLICAS)}`, [table, this.owner]);
        return others.n > 0;
      };
      if (!(await othersLive())) return { taken: Promise.resolve() };
      for (const sup of this.supervisors.values()) sup.expectHandOver();
      await this.session.query(`delete from fleet_replicas where fleet = $1 and owner = $2`, [table, this.owner]);
      let announced = 0;
      let reservedAny = false;
      while (this.supervisors.size > 0 && Date.now() - started < handOverWait) {
        if (Date.now() - announced >= 500) {
          announced = Date.now();
          await this.opts.pubsub.emit(Topic.LEASES_RELEASED, { owner: this.owner, leaving: true }, table).catch(() => undefined);
        }
        await new Promise((resolve) => setTimeout(resolve, HANDOVER_POLL_MS));
        const held = await this.session.query<{ id: string; reserved: boolean }>(`select id, lease_next_owner is not null as reserved from ${table} where lease_owner = $1`, [this.owner]);
        const still = new Set(held.map((r) => r.id));
        const taken = [...this.supervisors.keys()].filter((id) => !still.has(id));
        if (taken.length > 0) stopping.push(this.stopSupervisors(taken));
        if (held.some((r) => r.reserved) || taken.length > 0) reservedAny = true;
        if (!reservedAny && Date.now() - started >= reserveWait) break;
        // the others left too (a whole deployment stopping): nobody is going to reserve what is left
        if (held.some((r) => !r.reserved) && !(await othersLive())) break;
        // only rows nobody reserved yet need another announcement
        if (held.every((r) => r.reserved)) announced = Date.now();
      }
    } catch (err) {
      this.opts.logger.warn({ err, fleet: this.name }, 'warm hand-off failed; releasing the leases');
    }
    this.opts.logger.info({ fleet: this.name, ms: Date.now() - started, left: this.supervisors.size }, 'warm hand-off ended');
    // the readers whose leases were taken finish stopping while the rest is released (a slow stop
    // holds up nothing); wrapped, or awaiting the result would wait for them
    return { taken: Promise.all(stopping).catch((err: unknown) => this.opts.logger.warn({ err, fleet: this.name }, 'stopping supervisors failed')) };
  }

  /** Renews the leases this replica holds, nothing else (while it stops); a failure is left to the lease's length. */
  private async renewOnly(): Promise<void> {
    const lease = leaseTiming(this.opts).leaseSeconds;
    await this.session
      // in id order and skipping rows locked right now (a successor taking them, a store): never part of a deadlock
      .query(
        `update ${this.opts.table} set lease_expires_at = now() + ($2 * interval '1 second')
          where id in (select id from ${this.opts.table} where lease_owner = $1 order by id for update skip locked) and lease_owner = $1`,
        [this.owner, lease],
      )
      .catch((err: unknown) => this.opts.logger.warn({ err, fleet: this.name }, 'renewing leases while stopping failed'));
  }

  get isRunning(): boolean {
    return this.running;
  }

  supervisor(id: string): S | undefined {
    return this.supervisors.get(id);
  }

  /** Called after a row was created, changed or removed: reconcile now and wake its supervisor. */
  async notify(id: string): Promise<void> {
    if (!this.running) return;
    await this.reconcile();
    this.supervisors.get(id)?.poke();
  }

  /**
   * Runs a reconcile after the one running, if any. Calls while one is already waiting share it
   * (the timer, hand-offs, deaths and notifications never pile reconciles up behind a slow one).
   */
  reconcile(): Promise<void> {
    if (this.queued) return this.queued;
    const run = this.reconciling
      .then(() => {
        this.queued = undefined;
        return this.reconcileOnce();
      })
      .catch((err) => this.opts.logger.error({ err, fleet: this.name }, 'reconcile failed'));
    this.queued = run;
    this.reconciling = run;
    return run;
  }

  private async reconcileOnce(): Promise<void> {
    if (!this.running) return;
    // a supervisor that stopped on its own is not one: once it has finished, if the lease is
    // (again) this replica's, a new one starts, else the row would stay leased here with nobody reading it
    this.stopInBackground(
      [...this.supervisors].filter(([, sup]) => sup.isStopped).map(([id]) => id),
      false,
    );
    const claim = await this.claim();
    // rows still stopping (shed ones stay held until released) are not planned again
    const plan = planLeases(
      claim.held.filter((h) => !this.stopping.has(h.id)),
      this.supervisors.keys(),
      claim.target,
    );
    this.stopInBackground(plan.stop, false);
    if (plan.shed.length > 0) {
      this.opts.logger.info({ fleet: this.name, shed: plan.shed.length, held: claim.held.length, share: claim.target, replicas: claim.live }, 'leases above the fair share handed over');
      this.stopInBackground(plan.shed, true);
    }
    for (const h of plan.start) {
      if (this.supervisors.has(h.id) || !this.running) continue;
      const sup = this.opts.create(h.id, h.accountId, this.owner);
      this.supervisors.set(h.id, sup);
      this.waiting.push({ id: h.id, sup, reserved: Boolean(h.reserved) });
    }
    this.startWaiting();
  }

  /**
   * The one statement of a reconcile, on the fleet's own session (never behind the pool's request
   * and ingest work): renews this replica's presence (expiring with its leases, naming the
   * session's backend) and deletes presences expired a minute ago (skipping those another replica
   * deletes right now: no deadlock; a dead replica's presence stays until then, so that every
   * survivor sees it dead, not only the first to claim); renews every lease it holds; claims free
   * or expired rows, and those of replicas confirmed dead ($4: seen dead for CONFIRM_DEAD_MS), up
   * to its fair share, ceil(rows / live replicas), minus what it holds (rows locked by another
   * replica's claim right now are skipped, not waited for). A replica whose backend is gone does
   * not count as live even before it is confirmed dead (at worst the others' share is briefly
   * larger: they take nothing of its rows until then). Its own presence is counted as one (a
   * statement does not see its own insert). Within the same share it reserves rows of replicas
   * that are leaving (a valid lease whose owner has no presence any more: LeasedFleet.stop) that
   * no live replica reserved yet; those are returned `reserved`, and their supervisors start in
   * standby (takeReserved). Its reservations still pending (on a valid lease) count in its share.
   * A reserved row whose lease went free (the leaving replica released it, or its lease expired)
   * is claimed like any free row, the reserving replica's first; claiming clears the reservation.
   */
  private async claim(): Promise<Claim> {
    const table = this.opts.table;
    const lease = leaseTiming(this.opts).leaseSeconds;
    const [row] = await this.session.query<{ live: number; target: number; renewed: HeldLease[]; claimed: HeldLease[]; reserved: HeldLease[] }>(
      `with presence as (
         insert into fleet_replicas (fleet, owner, seen_at, expires_at, backend_pid, backend_start)
         values ($1, $2, now(), now() + ($3 * interval '1 second'), pg_backend_pid(), (select backend_start from pg_stat_activity where pid = pg_backend_pid()))
         on conflict (fleet, owner) do update
           set seen_at = excluded.seen_at, expires_at = excluded.expires_at, backend_pid = excluded.backend_pid, backend_start = excluded.backend_start
         returning owner
       ), gone as (${DEAD_REPLICAS}
       ), dead as (
         select owner from gone where owner = any($4::text[])
       ), forgotten as (
         delete from fleet_replicas where (fleet, owner) in (
           select fleet, owner from fleet_replicas
            where fleet = $1 and expires_at < now() - interval '1 minute'
            for update skip locked
         ) returning owner
       ), live as (
         select 1 + count(*)::int as n from ${otherLiveReplicas('select owner from gone')}
       ), share as (
         select ceil((select count(*) from ${table})::numeric / (select n from live))::int as target
       ), renewed as (
         update ${table} set lease_expires_at = now() + ($3 * interval '1 second') where lease_owner = $2 returning id, account_id
       ), pending as (
         select id, account_id from ${table} where lease_next_owner = $2 and lease_owner <> $2 and lease_expires_at >= now()
       ), free as (
         select id from ${table}
          where (lease_owner is null or lease_expires_at < now() or lease_owner in (select owner from dead)) and lease_owner is distinct from $2
          order by lease_next_owner is not distinct from $2 desc, id
          limit greatest(0, (select target from share) - (select count(*) from ${table} where lease_owner = $2) - (select count(*) from pending))
          for update skip locked
       ), claimed as (
         update ${table} t set lease_owner = $2, lease_next_owner = null, lease_expires_at = now() + ($3 * interval '1 second') from free
          where t.id = free.id and (t.lease_owner is null or t.lease_expires_at < now() or t.lease_owner in (select owner from dead))
          returning t.id, t.account_id
       ), reserve as (
         select id from ${table} t
          where t.lease_owner <> $2 and t.lease_expires_at >= now()
            and not exists (select 1 from fleet_replicas r where r.fleet = $1 and r.owner = t.lease_owner)
            and (t.lease_next_owner is null
                 or not exists (select 1 from fleet_replicas r where r.fleet = $1 and r.owner = t.lease_next_owner and r.expires_at > now() and r.owner not in (select owner from gone)))
          order by id
          limit greatest(0, (select target from share) - (select count(*) from ${table} where lease_owner = $2) - (select count(*) from pending) - (select count(*) from free))
          for update skip locked
       ), reserved as (
         update ${table} t set lease_next_owner = $2 from reserve where t.id = reserve.id returning t.id, t.account_id
       ), standing as (
         select id, account_id from pending
         union select id, account_id from reserved
       )
       select (select n from live) as live, (select target from share) as target,
              coalesce((select json_agg(json_build_object('id', id, 'accountId', account_id)) from renewed), '[]') as renewed,
              coalesce((select json_agg(json_build_object('id', id, 'accountId', account_id)) from claimed), '[]') as claimed,
              coalesce((select json_agg(json_build_object('id', id, 'accountId', account_id, 'reserved', true)) from standing), '[]') as reserved`,
      [table, this.owner, lease, this.confirmedDead()],
    );
    return { live: row.live, target: row.target, held: [...row.renewed, ...row.claimed, ...row.reserved] };
  }

  /**
   * A reserved row's standby supervisor has its stream open: the lease becomes this replica's
   * (the leaving owner's reader stops on the fence, its unstored events are in the new stream).
   * False when the reservation is gone (another replica claimed the row meanwhile). A takeover
   * opens dozens of streams within a second: the rows whose streams opened while a statement
   * ran are taken together by the next one.
   */
  private takeReserved(id: string): Promise<boolean> {
    if (!this.nextTake) {
      const ids: string[] = [];
      const taken = this.taking.then(() => {
        this.nextTake = undefined;
        return this.takeLeases(ids);
      });
      this.taking = taken.catch(() => undefined);
      this.nextTake = { ids, taken };
    }
    this.nextTake.ids.push(id);
    return this.nextTake.taken.then((rows) => rows.has(id));
  }

  private async takeLeases(ids: string[]): Promise<Set<string>> {
    const lease = leaseTiming(this.opts).leaseSeconds;
    // rows locked in id order; taken only from an owner that left the fleet (no presence), is gone, or is this replica
    const rows = await this.session.query<{ id: string }>(
      `with mine as (
         select id from ${this.opts.table} t
          where id = any($1::uuid[]) and (lease_next_owner = $2 or lease_owner = $2)
            and (lease_owner is null or lease_owner = $2 or lease_expires_at < now()
                 or not exists (select 1 from fleet_replicas r where r.fleet = $4 and r.owner = t.lease_owner))
          order by id for update
       )
       update ${this.opts.table} t set lease_owner = $2, lease_next_owner = null, lease_expires_at = now() + ($3 * interval '1 second')
         from mine where t.id = mine.id returning t.id`,
      [ids, this.owner, lease, this.opts.table],
    );
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Every WATCH_MS: which other replicas of the fleet look dead (their session's backend is gone)
   * while they still hold rows. One that still looks dead CONFIRM_DEAD_MS later is dead: the claim
   * takes its rows now rather than when its leases expire (a live replica whose connection was
   * made again records its new backend well within that). A failed check decides nothing: the
   * leases' expiry still moves the rows.
   */
  private async watchForDeaths(): Promise<void> {
    // one check at a time: a slow database must not queue checks on the session behind each other
    if (!this.running || this.watching) return;
    this.watching = true;
    let seen: Array<{ owner: string }>;
    try {
      seen = await this.session.query<{ owner: string }>(`${DEAD_REPLICAS} and exists (select 1 from ${this.opts.table} t where t.lease_owner = r.owner)`, [this.opts.table, this.owner]);
    } catch (err) {
      this.deadSince.clear();
      if (Date.now() - this.watchFailureLogged > 60_000) {
        this.watchFailureLogged = Date.now();
        this.opts.logger.warn({ err, fleet: this.name }, 'looking for dead replicas failed; their leases still expire');
      }
      return;
    } finally {
      this.watching = false;
    }
    const now = Date.now();
    const owners = new Set(seen.map((r) => r.owner));
    for (const owner of [...this.deadSince.keys()]) if (!owners.has(owner)) this.deadSince.delete(owner);
    for (const owner of owners) if (!this.deadSince.has(owner)) this.deadSince.set(owner, now);
    const confirmed = this.confirmedDead();
    if (confirmed.length > 0 && this.running) {
      this.opts.logger.info({ fleet: this.name, replicas: confirmed }, 'a replica of the fleet died: claiming its rows');
      await this.reconcile();
    }
  }

  /** The replicas the watch has seen dead for CONFIRM_DEAD_MS or longer. */
  private confirmedDead(): string[] {
    const now = Date.now();
    return [...this.deadSince].filter(([, since]) => now - since >= CONFIRM_DEAD_MS).map(([owner]) => owner);
  }

  /**
   * Stops these supervisors off the reconcile (each stores what it read first); `release`: then
   * releases their leases and announces it (shedding). Until then their rows are `stopping`.
   */
  private stopInBackground(ids: string[], release: boolean): void {
    // shed rows held without a supervisor (claimed and shed in one reconcile) are released at once
    const bare = release ? ids.filter((id) => !this.supervisors.has(id) && !this.stopping.has(id)) : [];
    if (bare.length > 0) void this.release(bare, false);
    const mine = ids.filter((id) => this.supervisors.has(id) && !this.stopping.has(id));
    if (mine.length === 0) return;
    for (const id of mine) this.stopping.add(id);
    const work = this.stopSupervisors(mine, release ? (handedOff) => this.release(handedOff, false) : undefined)
      .catch((err) => this.opts.logger.warn({ err, fleet: this.name }, 'stopping supervisors failed'))
      .finally(() => {
        mine.forEach((id) => this.stopping.delete(id));
        // a row whose lease is still (or again) this replica's gets its new supervisor now, not a reconcile later
        if (!release && this.running) void this.reconcile();
      });
    this.stoppingWork = Promise.all([this.stoppingWork, work]).then(() => undefined);
  }

  /**
   * Stops these supervisors and forgets them. `handedOff` runs once every one of them stopped
   * reading and stored what it read, before they finish the rest (follow-ups, inventory
   * refreshes): a release there lets the next replica start reading without waiting for that.
   */
  private async stopSupervisors(ids: string[], handedOff?: (ids: string[]) => Promise<void>): Promise<void> {
    const sups: S[] = [];
    for (const id of ids) {
      const sup = this.supervisors.get(id);
      if (!sup) continue;
      this.supervisors.delete(id);
      sups.push(sup);
    }
    await Promise.all(sups.map((sup) => sup.handOff()));
    await handedOff?.(ids);
    await Promise.all(sups.map((sup) => sup.stop()));
  }

  /**
   * Releases leases whose supervisors stopped (and, when `leaving`, this replica's presence) and
   * announces it on LEASES_RELEASED, so that the other replicas claim them now: the one way leases
   * are handed over, on stop and when shedding above the fair share.
   */
  private async release(ids: string[], leaving: boolean): Promise<void> {
    const conn = this.opts.orm.em.getConnection();
    if (leaving) await conn.execute(`delete from fleet_replicas where fleet = ? and owner = ?`, [this.opts.table, this.owner]).catch(() => undefined);
    if (ids.length === 0 && !leaving) return;
    // leaving: every row this replica holds or reserved, whether a supervisor ran for it or not
    const rows = leaving ? '' : 'and id in (?)';
    const released = (await conn
      .execute(
        `update ${this.opts.table}
            set lease_owner = case when lease_owner = ? then null else lease_owner end,
                lease_expires_at = case when lease_owner = ? then null else lease_expires_at end,
                lease_next_owner = case when lease_next_owner = ? then null else lease_next_owner end
          where (lease_owner = ? or lease_next_owner = ?) ${rows} returning id`,
        [this.owner, this.owner, this.owner, this.owner, this.owner, ...(leaving ? [] : [ids])],
      )
      .catch(() => [])) as unknown[];
    if (released.length === 0) return;
    await this.opts.pubsub
      ?.emit(Topic.LEASES_RELEASED, { owner: this.owner, released: released.length }, this.opts.table)
      .catch((err: unknown) => this.opts.logger.warn({ err, fleet: this.name }, 'lease hand-off not announced; the others claim at their next reconcile'));
  }

  /**
   * Starts waiting supervisors, STARTS_AT_ONCE at a time: a slot frees when a supervisor's first
   * check finished (its stream is read), or after START_SLOT_MS (an engine that does not answer
   * holds no one back). Supervisors stopped or replaced meanwhile are skipped.
   */
  private startWaiting(): void {
    while (this.running && this.starting < STARTS_AT_ONCE && this.waiting.length > 0) {
      const { id, sup, reserved } = this.waiting.shift()!;
      if (sup.isStopped || this.supervisors.get(id) !== sup) continue;
      this.starting++;
      let slot: NodeJS.Timeout | undefined;
      sup.start(reserved ? () => this.takeReserved(id) : undefined);
      void Promise.race([sup.firstCheck, new Promise<void>((resolve) => (slot = setTimeout(resolve, START_SLOT_MS)))]).finally(() => {
        clearTimeout(slot);
        this.starting--;
        this.startWaiting();
      });
    }
  }
}
