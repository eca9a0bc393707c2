import type { SecretBox } from '../../infra/crypto';
import type { DockerConnections } from '../../infra/engine/connections';
import type { SyncDeps } from '../../platform/supervision/deps';
import { LeasedFleet } from '../../platform/leasing/leased-fleet';
import { SwarmManager } from './clusters';
import { NodeManager } from './nodes';
import { ServiceManager } from './services';
import { ConfigManager, SecretManager } from './secrets';
import { ClusterSupervisor } from './supervisor';

/** The swarm side of the process: cluster supervision (a worker) and the managers the resolvers call. */
export interface SwarmServices {
  fleet: LeasedFleet<ClusterSupervisor>;
  clusters: SwarmManager;
  nodes: NodeManager;
  services: ServiceManager;
  secrets: SecretManager;
  configs: ConfigManager;
}

export function createSwarmServices(secrets: SecretBox, connections: DockerConnections, syncDeps: SyncDeps): SwarmServices {
  const fleet = new LeasedFleet<ClusterSupervisor>({
    name: 'cluster-fleet',
    table: 'swarm_clusters',
    orm: syncDeps.orm,
    logger: syncDeps.logger,
    create: (id, accountId) => new ClusterSupervisor(syncDeps, id, accountId),
  });
  return {
    fleet,
    clusters: new SwarmManager(secrets, connections, fleet, syncDeps),
    nodes: new NodeManager(),
    services: new ServiceManager(),
    secrets: new SecretManager(),
    configs: new ConfigManager(),
  };
}
