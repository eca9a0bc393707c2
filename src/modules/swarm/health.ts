import type { EntityManager } from '@mikro-orm/postgresql';
import { SwarmCluster, SwarmNode, SwarmNodeRole, SwarmService } from '../../../entities';

export interface CountBy {
  key: string;
  count: number;
}

export interface ClusterHealthFigures {
  status: SwarmCluster['status'];
  quorum: boolean;
  managers: number;
  reachableManagers: number;
  faultsTolerated: number;
  leader: SwarmNode | null;
  nodes: number;
  nodesByState: CountBy[];
  nodesByAvailability: CountBy[];
  services: number;
  servicesConverged: number;
  servicesNotConverged: string[];
  lastSyncedAt: Date | null;
}

/** Raft arithmetic: quorum needs a strict majority of managers; (managers − 1) / 2 may fail. */
export function quorumOf(managers: number, reachable: number): { quorum: boolean; faultsTolerated: number; needed: number } {
  return { quorum: managers > 0 && reachable > managers / 2, faultsTolerated: Math.max(0, Math.floor((managers - 1) / 2)), needed: Math.floor(managers / 2) + 1 };
}

function countBy<T>(rows: T[], key: (r: T) => string): CountBy[] {
  const m = new Map<string, number>();
  for (const r of rows) m.set(key(r), (m.get(key(r)) ?? 0) + 1);
  return [...m].map(([k, count]) => ({ key: k, count })).sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * Health from the last sync. Quorum is held when reachable managers > managers / 2; faults
 * tolerated = (managers − 1) / 2. When the manager answered "no leader", only the manager we
 * talk to is known to be reachable (the others' state cannot be read without a leader), so
 * reachable managers is counted as 1 and quorum is false, whatever the stored rows say.
 */
export async function clusterHealth(em: EntityManager, cluster: SwarmCluster): Promise<ClusterHealthFigures> {
  const [nodes, services] = await Promise.all([em.find(SwarmNode, { cluster: cluster.id }), em.find(SwarmService, { cluster: cluster.id })]);
  const managers = nodes.filter((n) => n.role === SwarmNodeRole.MANAGER);
  const lost = cluster.quorum === false;
  const reachableManagers = lost ? Math.min(1, managers.length) : managers.filter((m) => m.managerReachability === 'reachable' || m.leader).length;
  const raft = quorumOf(managers.length, reachableManagers);
  const quorum = !lost && raft.quorum;
  const notConverged = services.filter((s) => s.desiredTasks !== null && s.desiredTasks !== undefined && s.runningTasks !== s.desiredTasks).map((s) => s.name);
  return {
    status: cluster.status,
    quorum,
    managers: managers.length,
    reachableManagers,
    faultsTolerated: raft.faultsTolerated,
    leader: lost ? null : (managers.find((m) => m.leader) ?? null),
    nodes: nodes.length,
    nodesByState: countBy(nodes, (n) => n.state),
    nodesByAvailability: countBy(nodes, (n) => n.availability),
    services: services.length,
    servicesConverged: services.length - notConverged.length,
    servicesNotConverged: notConverged.sort(),
    lastSyncedAt: cluster.lastSyncedAt ?? null,
  };
}
