/** A row this replica holds the lease on after a claim/renew statement. */
export interface HeldLease {
  id: string;
  accountId: string;
  /**
   * Reserved, not held yet: its owner is leaving and reads it until this replica's supervisor,
   * started in standby, has its stream open and takes the lease (warm hand-off).
   */
  reserved?: boolean;
}

export interface LeasePlan {
  /** Supervisors to stop: their rows' leases are no longer held (lost to another replica, or the row is gone). In supervisor order. */
  stop: string[];
  /**
   * Held rows above this replica's fair share: stop their supervisors (each stores what it read),
   * then release their leases and announce it, so that a replica under its share takes them.
   * In the order they were held; running supervisors are kept before new ones (never restarted for nothing).
   */
  shed: string[];
  /** Held rows kept without a supervisor yet: start one each. In the order they were held, without duplicates. */
  start: HeldLease[];
}

/**
 * Rows a replica may hold above its share before it sheds some: rounding (12 rows on 5 replicas)
 * and a replica joining or leaving between two reconciles never make leases move back and forth.
 * One row, plus 5 % of large shares.
 */
export function shareSlack(target: number): number {
  return 1 + Math.floor(target / 20);
}

/**
 * The lease decision of one reconcile, without I/O: given the rows whose lease this replica holds
 * now (in claim order), the ids it runs supervisors for, and its fair share (`target`:
 * ceil(rows / live replicas), computed by the claim statement; undefined: no limit), which supervisors to stop, which rows to shed and which to start. Rows held and
 * already supervised keep their supervisor (renewing a lease never restarts it). Above
 * target + shareSlack(target) it keeps `target` rows, running ones first, and sheds the rest.
 */
export function planLeases(held: Iterable<HeldLease>, supervised: Iterable<string>, target?: number): LeasePlan {
  const heldIds = new Set<string>();
  const rows: HeldLease[] = [];
  const running = new Set(supervised);
  for (const h of held) {
    if (heldIds.has(h.id)) continue;
    heldIds.add(h.id);
    rows.push(h);
  }
  const stop = [...running].filter((id) => !heldIds.has(id));
  let kept = rows;
  let shed: string[] = [];
  if (target !== undefined && rows.length > target + shareSlack(target)) {
    // running supervisors first (stable within each group): shedding them would restart a reader elsewhere for nothing
    const ordered = [...rows.filter((h) => running.has(h.id)), ...rows.filter((h) => !running.has(h.id))];
    kept = ordered.slice(0, Math.max(0, target));
    const keep = new Set(kept.map((h) => h.id));
    shed = rows.filter((h) => !keep.has(h.id)).map((h) => h.id);
  }
  return { stop, shed, start: kept.filter((h) => !running.has(h.id)) };
}

/**
 * Supervisors a fleet starts at once. A takeover claims many rows in one reconcile; each new
 * supervisor connects, verifies the engine and resumes its stream (its sync then waits for one of
 * the process's sync slots: supervisor.ts OPENING_SYNCS_AT_ONCE). A slot frees as soon as the
 * stream is open. Opening costs a few short statements and Docker calls, mostly waiting: the share
 * of a leaving replica's rows that one survivor takes (200 hosts on 3 replicas: 34 each) starts in
 * one wave, while a flood of thousands still can't open every stream at once.
 */
export const STARTS_AT_ONCE = 48;
/**
 * How long a starting supervisor holds its start slot at most: an engine that does not answer
 * (connect timeout) must not hold back the others; its supervisor carries on in the background.
 */
export const START_SLOT_MS = 1_500;

/**
 * How long a claim lasts without renewal, by default. A replica that dies has its rows claimed
 * within WATCH_MS when its connections close with it (its session's backend ends), else (a host
 * cut off from PostgreSQL) within DEFAULT_LEASE_SECONDS + DEFAULT_RECONCILE_MS (≤ 8 s); a replica
 * that stops releases them at once (LeasedFleet.stop). Renewing every row costs one
 * statement per reconcile per replica. A replica's presence (fleet_replicas) expires with the
 * same length, renewed in the same statement: a dead replica's rows are free exactly when it
 * stops counting in the others' fair share.
 */
export const DEFAULT_LEASE_SECONDS = 6;
/**
 * How often a replica looks for replicas of its fleet that died (their lease session's backend is
 * gone from PostgreSQL): a SIGKILL or crash moves the dead replica's rows within about this
 * plus CONFIRM_DEAD_MS, not after its leases expire. One cheap statement per fleet on each replica's own connection.
 */
export const WATCH_MS = 500;
/**
 * How long a stopping replica keeps reading the rows the others reserved, waiting for them to
 * take each lease once their own stream is open (warm hand-off); what is still its own then is
 * released the cold way (stop, store, release). Below the lease time: it renews meanwhile.
 */
export const HANDOVER_WAIT_MS = 5_000;
/** How long a stopping replica waits for another to reserve any of its rows before it releases them the cold way. */
export const RESERVE_WAIT_MS = 2_500;
/** How often a stopping replica looks which of its leases were taken (each one's reader stops then). */
export const HANDOVER_POLL_MS = 50;
/**
 * How long a replica must look dead (its backend gone) before its rows are claimed: a live
 * replica whose connection broke (a network blip, a PostgreSQL crash restart or failover) records
 * its new backend first thing on the new connection, well within this.
 */
export const CONFIRM_DEAD_MS = 1_000;
/** How often a replica claims and renews, by default: three renewals per lease, so one failed reconcile loses nothing. */
export const DEFAULT_RECONCILE_MS = 2_000;

export interface LeaseTiming {
  leaseSeconds: number;
  reconcileMs: number;
}

/** The fleet's lease length and reconcile interval, defaults filled in. */
export function leaseTiming(opts: { leaseSeconds?: number; reconcileMs?: number }): LeaseTiming {
  return { leaseSeconds: opts.leaseSeconds ?? DEFAULT_LEASE_SECONDS, reconcileMs: opts.reconcileMs ?? DEFAULT_RECONCILE_MS };
}
