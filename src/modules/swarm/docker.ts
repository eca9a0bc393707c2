import type { EntityManager } from '@mikro-orm/postgresql';
import { HostStatus, SwarmCluster, SwarmNode, SwarmNodeRole } from '../../../entities';
import { AppError, ErrorCode } from '../../kernel/errors';
import { dockerMessage, toDockerError } from '../../infra/engine/client';
import type { ConnectOptions, DockerConnection, DockerConnections } from '../../infra/engine/connections';

/** The registered manager's Docker clients (same cache and sealed-credential handling as hosts). */
export function registeredManager(connections: DockerConnections, em: EntityManager, cluster: SwarmCluster, opts: ConnectOptions = {}): Promise<DockerConnection> {
  return connections.forTarget(em, SwarmCluster, cluster, cluster.managerEndpoint, opts);
}

/**
 * The clients of a manager that answers. Normally the cluster's managerEndpoint; when that one
 * cannot be reached (not: answers with an error), another manager of the swarm that is also a
 * registered, connected DockerHost, through that host's own endpoint and credentials. So a
 * swarm that keeps quorum stays managed when the manager fleetgraph was given goes down. Costs
 * one ping per call; the failover lasts only until the registered manager answers again.
 */
export async function clusterConnection(connections: DockerConnections, em: EntityManager, cluster: SwarmCluster, opts: ConnectOptions = {}): Promise<DockerConnection> {
  try {
    // the first use also reads and claims the manager's identity: an unreachable manager fails here
    const primary = await registeredManager(connections, em, cluster, opts);
    await primary.api.ping();
    return primary;
  } catch (err) {
    if (toDockerError(err).code !== ErrorCode.DOCKER_UNREACHABLE) throw err;
    const managers = await em.find(SwarmNode, { cluster: cluster.id, role: SwarmNodeRole.MANAGER, host: { $ne: null } }, { populate: ['host'], orderBy: { leader: 'desc', hostname: 'asc' } });
    for (const node of managers) {
      const host = node.host;
      if (!host || host.apiEndpoint === cluster.managerEndpoint || host.status !== HostStatus.CONNECTED) continue;
      try {
        // that host's own supervisor verifies its connection on every reconnect
        const conn = await connections.for(em, host);
        await conn.api.ping();
        return conn;
      } catch {
        // try the next manager
      }
    }
    throw err;
  }
}

/**
 * Docker's answer when raft has no leader: HTTP 500 "rpc error: … The swarm does not have a
 * leader. It's possible that too few managers are online…". The first request after the
 * managers went away hangs until raft gives up ("context deadline exceeded", ~20 s).
 */
export function isQuorumLoss(err: unknown): boolean {
  const e = err as { statusCode?: number };
  if (typeof e?.statusCode !== 'number') return false;
  return /does not have a leader|context deadline exceeded/i.test(dockerMessage(err));
}

/** "update out of sequence": the version index sent was stale (optimistic concurrency). */
export function isOutOfSequence(err: unknown): boolean {
  return typeof (err as { statusCode?: number })?.statusCode === 'number' && /update out of sequence/i.test(dockerMessage(err));
}

/**
 * Maps a Docker error of a swarm call. Quorum loss is not a generic error: it comes out as
 * DOCKER_ERROR with `quorumLost: true` and a message that says what to do.
 */
export function toSwarmError(err: unknown, cluster?: { name: string }): AppError {
  if (isQuorumLoss(err)) {
    return new AppError(
      ErrorCode.DOCKER_ERROR,
      `Swarm${cluster ? ` "${cluster.name}"` : ''} has lost quorum (no raft leader): more than half of the managers must be online. Docker: ${dockerMessage(err)}`,
      { dockerStatus: 500, dockerMessage: dockerMessage(err), quorumLost: true },
    );
  }
  return toDockerError(err, cluster?.name);
}

/**
 * Runs an optimistic update: `attempt` reads the current version and sends it; on "update out
 * of sequence" (someone, or a rolling update, bumped it in between) it is re-read and retried.
 */
export async function withVersionRetry<T>(attempt: () => Promise<T>, tries = 5, onRetry?: (attempt: number) => void): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isOutOfSequence(err) || i >= tries) throw err;
      onRetry?.(i + 1);
      await new Promise((r) => setTimeout(r, 50 * i));
    }
  }
}

/** Docker durations are nanoseconds; the API takes seconds. */
export const seconds = (s: number | undefined | null): number | undefined => (s === undefined || s === null ? undefined : Math.round(s * 1e9));
