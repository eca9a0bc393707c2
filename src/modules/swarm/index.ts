import type { Worker } from '../../kernel/worker';
import { LeasedFleet } from '../../platform/leasing/leased-fleet';
import type { HostAccessGuard } from '../../platform/policy/enforce';
import type { EndpointModuleDeps, SyncDeps } from '../../platform/supervision/deps';
import type { HostService } from '../hosts';
import { SwarmManager } from './clusters';
import { NodeManager } from './nodes';
import { ClusterOperations } from './operation';
import { ServiceManager } from './services';
import { ConfigManager, SecretManager } from './secrets';
import { ClusterSupervisor } from './supervisor';

export { SwarmManager, DEFAULT_LISTEN_ADDR, applySettings } from './clusters';
export type { ClusterInput, InitSwarmInput, SwarmSettingsInput } from './clusters';
export { NodeManager } from './nodes';
export type { NodeUpdateInput } from './nodes';
export { ServiceManager, SERVICE_LOG_TAIL_MAX, buildServiceSpec } from './services';
export type { ServiceLogLine, ServiceSpecInput, UpdateConfigInput } from './services';
export { ConfigManager, SecretManager, MAX_DATA_BYTES } from './secrets';
export { ClusterOperations } from './operation';
export { ClusterSupervisor } from './supervisor';
export { clusterHealth, quorumOf, serviceConverged } from './health';
export { serviceTaskState } from './tasks';
export type { ServiceTasksPayload, TaskView } from './tasks';
export { SWARM_EVENT_LOG } from './events';
export type { ClusterHealthFigures, CountBy } from './health';
export type { ClusterStatusPayload } from './status';
export type { ClusterSyncResult, SwarmChange } from './sync';

/** What the swarm module is built from (by the composition root). */
export interface SwarmDeps extends EndpointModuleDeps {
  guard: HostAccessGuard;
  /** initSwarm, joinSwarm and leaveSwarm act on registered hosts. */
  hosts: HostService;
}

/** The swarm side of the process: cluster supervision (a worker) and the services the resolvers call. */
export interface SwarmModule {
  fleet: LeasedFleet<ClusterSupervisor>;
  clusters: SwarmManager;
  nodes: NodeManager;
  services: ServiceManager;
  secrets: SecretManager;
  configs: ConfigManager;
  workers: Worker[];
}

export function createSwarmModule(deps: SwarmDeps): SwarmModule {
  const syncDeps: SyncDeps = deps;
  const fleet = new LeasedFleet<ClusterSupervisor>({
    name: 'cluster-fleet',
    table: 'swarm_clusters',
    orm: deps.orm,
    logger: deps.logger,
    pubsub: syncDeps.pubsub,
    create: (id, accountId, fence) => new ClusterSupervisor(syncDeps, id, accountId, fence),
  });
  // a failed manager call re-checks the cluster's health; a service mutation has its tasks watched (on this replica's supervisor, if it runs the cluster)
  const ops = new ClusterOperations(deps, (clusterId) => fleet.supervisor(clusterId)?.managerCallFailed());
  return {
    fleet,
    clusters: new SwarmManager({ secrets: deps.secrets, connections: deps.connections, pubsub: deps.pubsub, audit: deps.audit, hosts: deps.hosts, fleet, ops, syncDeps }),
    nodes: new NodeManager(ops),
    services: new ServiceManager(ops, deps.guard, (clusterId, serviceId) => fleet.supervisor(clusterId)?.watchService(serviceId)),
    secrets: new SecretManager(ops, deps.guard),
    configs: new ConfigManager(ops),
    workers: [fleet],
  };
}
