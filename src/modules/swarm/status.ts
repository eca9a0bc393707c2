import type { EntityManager } from '@mikro-orm/postgresql';
import { HostStatus, SwarmCluster } from '../../../entities';
import type { FleetPubSub } from '../../infra/pubsub';
import { Topic } from '../../infra/pubsub/topics';
import { HostStatusPayload, recordFailure, recordSuccess } from '../../platform/supervision/status';

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
 * The host status machine (src/platform/supervision/status.ts) applied to a cluster, plus
 * quorum: a change of either is published on swarmClusterStatusChanged. Losing quorum counts as
 * a failure (the cluster cannot be managed) with a lastError that says so; a manager that answers
 * while its node list shows no leader or a majority of managers unreachable is connected without
 * quorum (`quorum` of the ok outcome: Docker says "no leader" a few seconds later). In maintenance
 * nothing changes (neither status nor quorum): the cluster is not being watched.
 */
export function clusterOutcome(
  cluster: SwarmCluster,
  outcome: { ok: true; quorum?: boolean } | { ok: false; error: string; quorumLost?: boolean; refused?: boolean },
  now = new Date(),
): ClusterStatusPayload | undefined {
  if (cluster.status === HostStatus.MAINTENANCE) return undefined;
  const previousStatus = cluster.status;
  const previousQuorum = cluster.quorum ?? null;
  if (outcome.ok) {
    recordSuccess(cluster, now);
    // the manager answered; its node list may still show a majority of managers unreachable
    cluster.quorum = outcome.quorum ?? true;
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

/**
 * A transition of the status machine made by a mutation (maintenance on or off, reconnect after
 * new endpoint or TLS settings) as the cluster's payload: quorum is unchanged by these.
 */
export function clusterStatusChange(cluster: SwarmCluster, change: HostStatusPayload | undefined): ClusterStatusPayload | undefined {
  if (!change) return undefined;
  const quorum = cluster.quorum ?? null;
  return {
    clusterId: cluster.id,
    accountId: change.accountId,
    name: change.name,
    status: change.status,
    previousStatus: change.previousStatus,
    quorum,
    previousQuorum: quorum,
    consecutiveFailures: change.consecutiveFailures,
    lastError: change.lastError,
    changedAt: change.changedAt,
  };
}

/** Flushes the cluster and publishes the change (if any) after the commit, as hosts' status changes are (commitStatus). */
export async function commitClusterStatus(em: EntityManager, pubsub: FleetPubSub, change: ClusterStatusPayload | undefined): Promise<void> {
  await em.flush();
  if (change) await pubsub.emit(Topic.SWARM_CLUSTER_STATUS, change, change.accountId);
}
