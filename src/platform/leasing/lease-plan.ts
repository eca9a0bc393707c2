/** A row this replica holds the lease on after a claim/renew statement. */
export interface HeldLease {
  id: string;
  accountId: string;
}

export interface LeasePlan {
  /** Supervisors to stop: their rows' leases are no longer held (lost to another replica, or the row is gone). In supervisor order. */
  stop: string[];
  /** Held rows without a supervisor yet: start one each. In the order they were held, without duplicates. */
  start: HeldLease[];
}

/**
 * The lease decision of one reconcile, without I/O: given the rows whose lease this replica holds
 * now and the ids it runs supervisors for, which supervisors to stop and which to start. Rows
 * held and already supervised keep their supervisor (renewing a lease never restarts it).
 */
export function planLeases(held: Iterable<HeldLease>, supervised: Iterable<string>): LeasePlan {
  const heldIds = new Set<string>();
  const start: HeldLease[] = [];
  const running = new Set(supervised);
  for (const h of held) {
    if (heldIds.has(h.id)) continue;
    heldIds.add(h.id);
    if (!running.has(h.id)) start.push(h);
  }
  return { stop: [...running].filter((id) => !heldIds.has(id)), start };
}

/**
 * How long a claim lasts without renewal, by default. A replica that dies without releasing its
 * leases has them taken over within DEFAULT_LEASE_SECONDS + DEFAULT_RECONCILE_MS (≤ 8 s); a
 * replica that stops releases them at once (LeasedFleet.stop). Renewing every row costs one
 * statement per reconcile per replica.
 */
export const DEFAULT_LEASE_SECONDS = 6;
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
