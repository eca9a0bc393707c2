import type { EntityManager } from '@mikro-orm/postgresql';
import { HostStatus, SwarmCluster, SwarmNode, SwarmNodeRole } from '../../../entities';
import { AppError, ErrorCode } from '../../kernel/errors';
import type { ConnectOptions, DockerConnection, DockerConnections } from '../../infra/engine/connections';
import { dockerAnswer } from '../../infra/engine/errors';
import { clusterSubject, Engine } from '../../infra/engine/port';

// (the cluster supervisor reads it from here)
export { isQuorumLoss } from '../../infra/engine/errors';

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
  const subject = clusterSubject(cluster);
  try {
    // the first use also reads and claims the manager's identity: an unreachable manager fails here
    const primary = await registeredManager(connections, em, cluster, opts);
    await new Engine(primary, subject).ping();
    return primary;
  } catch (err) {
    if (!(err instanceof AppError && err.code === ErrorCode.DOCKER_UNREACHABLE)) throw err;
    const managers = await em.find(SwarmNode, { cluster: cluster.id, role: SwarmNodeRole.MANAGER, host: { $ne: null } }, { populate: ['host'], orderBy: { leader: 'desc', hostname: 'asc' } });
    for (const node of managers) {
      const host = node.host;
      if (!host || host.apiEndpoint === cluster.managerEndpoint || host.status !== HostStatus.CONNECTED) continue;
      try {
        // that host's own supervisor verifies its connection on every reconnect
        const conn = await connections.for(em, host);
        await new Engine(conn, subject).ping();
        return conn;
      } catch {
        // try the next manager
      }
    }
    throw err;
  }
}

/** The engine port of a cluster's manager (see clusterConnection): every call's errors mapped once, a lost quorum reported as such. */
export async function clusterEngine(connections: DockerConnections, em: EntityManager, cluster: SwarmCluster): Promise<Engine> {
  return new Engine(await clusterConnection(connections, em, cluster), clusterSubject(cluster));
}

/** "update out of sequence": the version index sent was stale (optimistic concurrency). */
export function isOutOfSequence(err: unknown): boolean {
  const answer = dockerAnswer(err);
  return answer !== undefined && /update out of sequence/i.test(answer.message);
}

/** The version index of a swarm object as read (sent back with its update). */
export const versionOf = (o: { Version?: { Index?: number } }): number => o.Version?.Index ?? 0;

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
