import { LeasedFleet } from '../../platform/leasing/leased-fleet';
import type { SyncDeps } from '../../platform/supervision/deps';
import { HostSupervisor } from './supervisor';

/**
 * One HostSupervisor per host this replica holds a lease on (leases on docker_hosts rows): with
 * several replicas each host has exactly one supervisor, and a crashed replica's hosts move to
 * another within the lease time (src/platform/leasing/lease-plan.ts). The lease scheme itself is LeasedFleet's, shared with clusters.
 */
export type HostFleet = LeasedFleet<HostSupervisor>;

export function createHostFleet(deps: SyncDeps): HostFleet {
  return new LeasedFleet<HostSupervisor>({
    name: 'host-fleet',
    table: 'docker_hosts',
    orm: deps.orm,
    logger: deps.logger,
    pubsub: deps.pubsub,
    create: (id, accountId, fence) => new HostSupervisor(deps, id, accountId, fence),
  });
}
