import { LeasedFleet } from '../../platform/leasing/leased-fleet';
import type { SyncDeps } from '../../platform/supervision/deps';
import { HostSupervisor } from './supervisor';

/** How long a replica's claim on a host lasts without renewal. */
export const LEASE_SECONDS = 30;

/**
 * One HostSupervisor per host this replica holds a lease on (leases on docker_hosts rows): with
 * several replicas each host has exactly one supervisor, and a crashed replica's hosts move to
 * another within LEASE_SECONDS. The lease scheme itself is LeasedFleet's, shared with clusters.
 */
export type HostFleet = LeasedFleet<HostSupervisor>;

export function createHostFleet(deps: SyncDeps): HostFleet {
  return new LeasedFleet<HostSupervisor>({
    name: 'host-fleet',
    table: 'docker_hosts',
    orm: deps.orm,
    logger: deps.logger,
    create: (id, accountId) => new HostSupervisor(deps, id, accountId),
    leaseSeconds: LEASE_SECONDS,
  });
}
