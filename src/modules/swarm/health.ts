import type { EntityManager } from '@mikro-orm/postgresql';
import { SwarmCluster, SwarmNode, SwarmNodeRole, SwarmService } from '../../../entities';
import type { NodeInspect } from '../../infra/engine/types';
import { rolloutPending } from './tasks';

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

/**
 * Quorum as a manager's node list shows it: a leader, and more than half of the managers not
 * unreachable (a manager just promoted is "unknown" for a moment: not counted as lost).
 */
export function listedQuorum(nodes: NodeInspect[]): boolean {
  const managers = nodes.filter((n) => n.ManagerStatus);
  const unreachable = managers.filter((n) => n.ManagerStatus?.Reachability === 'unreachable').length;
  return managers.some((n) => n.ManagerStatus?.Leader) && managers.length - unreachable > managers.length / 2;
}

function countBy<T>(rows: T[], key: (r: T) => string): CountBy[] {
  const m = new Map<string, number>();
  for (const r of rows) m.set(key(r), (m.get(key(r)) ?? 0) + 1);
  return [...m].map(([k, count]) => ({ key: k, count })).sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * Whether a service is converged: its tasks were read at its current version (a spec changed since
 * is not converged until they are read again), the running tasks of the current spec equal the
 * desired ones, no rollout is moving or paused, and no slot is failing. Unknown is not converged.
 */
export function serviceConverged(s: Pick<SwarmService, 'version' | 'tasksVersion' | 'runningTasks' | 'desiredTasks' | 'updateState' | 'failingTasks'>): boolean {
  if (s.tasksVersion === null || s.tasksVersion === undefined || s.tasksVersion !== s.version) return false;
  if (s.desiredTasks === null || s.desiredTasks === undefined || s.runningTasks !== s.desiredTasks) return false;
  return !rolloutPending(s.updateState) && !(s.failingTasks?.length ?? 0);
}

/**
 * Health from the last sync, the task watcher and the health probe (src/modules/swarm/watch.ts). Quorum is held when reachable managers > managers / 2; faults
 * tolerated = (managers − 1) / 2. When the manager answered "no leader", only the manager we
 * talk to is known to be reachable (the others' state cannot be read without a leader), so
 * reachable managers is counted as 1 and quorum is false, whatever the stored rows say.
 */
export async function clusterHealth(em: EntityManager, cluster: SwarmCluster): Promise<ClusterHealthFigures> {
  // services as the figures need them, not their specs (each up to what a manager answered), through a fork of
  // their own: the request's unit of work never holds a partly loaded service
  const [nodes, services] = await Promise.all([
    em.find(SwarmNode, { cluster: cluster.id }),
    em.fork().find(SwarmService, { cluster: cluster.id }, { fields: ['id', 'name', 'version', 'tasksVersion', 'runningTasks', 'desiredTasks', 'updateState', 'failingTasks'] }),
  ]);
  const managers = nodes.filter((n) => n.role === SwarmNodeRole.MANAGER);
  const lost = cluster.quorum === false;
  const reachableManagers = lost ? Math.min(1, managers.length) : managers.filter((m) => m.managerReachability === 'reachable' || m.leader).length;
  const raft = quorumOf(managers.length, reachableManagers);
  const quorum = !lost && raft.quorum;
  const notConverged = services.filter((s) => !serviceConverged(s)).map((s) => s.name);
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
