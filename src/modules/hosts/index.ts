import type { Worker } from '../../kernel/worker';
import type { EndpointModuleDeps, SyncDeps } from '../../platform/supervision/deps';
import { createHostFleet, HostFleet } from './fleet';
import { HostService } from './hosts';

export { HostService, STANDARD_ENVIRONMENTS, SYNC_INTERVAL_MAX, SYNC_INTERVAL_MIN } from './hosts';
export type { HostInput } from './hosts';
export { createHostFleet } from './fleet';
export type { HostFleet } from './fleet';
export { HostSupervisor } from './supervisor';
export type { HostHealthFigures } from './health';
export { hostHealth } from './health';
export { refreshImages, replaceImages, rowFromInspect, rowFromList, syncInventory, upsertContainers } from './inventory';
export type { ContainerChange, ContainerRow, SyncResult } from './inventory';
export { containerRefreshes, eventPayload, HOST_EVENT_LOG, ingestEvents, refreshContainers, resyncEvents } from './ingest';
export { activityWhere, containerWhere, eventMatches, eventWhere, imageWhere } from './queries';
export type { ActivityFilterArgs, ContainerFilterArgs, EventFilterArgs } from './queries';

/** What the hosts module needs from the composition root. */
export type HostsDeps = EndpointModuleDeps;

/** Docker hosts: their registration and settings (HostService) and their supervision (the fleet, a worker). */
export interface HostsModule {
  hosts: HostService;
  fleet: HostFleet;
  workers: Worker[];
}

export function createHostsModule(deps: HostsDeps): HostsModule {
  const syncDeps: SyncDeps = deps;
  const fleet = createHostFleet(syncDeps);
  const hosts = new HostService(deps.audit, deps.secrets, deps.connections, fleet, syncDeps);
  return { hosts, fleet, workers: [fleet] };
}
