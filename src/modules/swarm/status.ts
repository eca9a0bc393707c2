import type { EntityManager } from '@mikro-orm/postgresql';
import type { HostStatus, SwarmCluster } from '../../../entities';
import type { FleetPubSub } from '../../infra/pubsub';
import { Topic } from '../../infra/pubsub/topics';
import { recordFailure, recordSuccess } from '../../platform/supervision/status';

export interface ClusterStatusPayload {
  clusterId: string;
  accountId: string;
  name: string;
  status: HostStatus;
  previousStatus: HostStatus;
  /** Whether the managers have a leader; null when unknown (the manager could not be reached). */
  quorum: boolean | null;
  previousQuorum: boolean | null;
  consecutiveFailures: number;
  lastError: string | null;
  changedAt: Date;
}

/**
 * The host status machine (src/sync/status.ts) applied to a cluster, plus quorum: a change of
 * either is published on swarmClusterStatusChanged. Losing quorum counts as a failure (the
 * cluster cannot be managed) with a lastError that says so.
 */
export function clusterOutcome(cluster: SwarmCluster, outcome: { ok: true } | { ok: false; error: string; quorumLost?: boolean; refused?: boolean }, now = new Date()): ClusterStatusPayload | undefined {
  const previousStatus = cluster.status;
  const previousQuorum = cluster.quorum ?? null;
  if (outcome.ok) {
    recordSuccess(cluster, now);
    cluster.quorum = true;
  } else {
    recordFailure(cluster, outcome.quorumLost ? `quorum lost: ${outcome.error}` : outcome.error, now, outcome.refused);
    if (outcome.quorumLost) cluster.quorum = false;
  }
  const quorum = cluster.quorum ?? null;
  if (previousStatus === cluster.status && previousQuorum === quorum) return undefined;
  return {
    clusterId: cluster.id,
    accountId: cluster.account.id,
    name: cluster.name,
    status: cluster.status,
    previousStatus,
    quorum,
    previousQuorum,
    consecutiveFailures: cluster.consecutiveFailures,
    lastError: cluster.lastError ?? null,
    changedAt: now,
  };
}

export async function commitClusterStatus(em: EntityManager, pubsub: FleetPubSub, change: ClusterStatusPayload | undefined): Promise<void> {
  await em.flush();
  if (change) await pubsub.emit(Topic.SWARM_CLUSTER_STATUS, change, change.accountId);
}
