import type Docker from 'dockerode';
import { DockerHost, SwarmCluster } from '../../../entities';
import { ActivityHandle, runActivity } from '../../platform/audit/activity';
import { isDockerFailure } from '../../infra/engine/client';
import type { Context } from '../../graphql/context';
import { abortable } from '../../kernel/abort';
import { clusterConnection, isQuorumLoss, toSwarmError } from './docker';
import { clusterOutcome, commitClusterStatus } from './status';
import { forkForAccount } from '../../infra/db/orm';

export interface SwarmOperationSpec {
  action: string;
  targetType: string;
  targetId?: string | null;
  host?: DockerHost | null;
  parameters?: object;
}

/**
 * The one way a swarm mutation runs: an audited DockerActivity (with the cluster) around
 * `fn`, which gets the manager's API client. Docker's errors come out as DOCKER_ERROR /
 * DOCKER_UNREACHABLE; a lost quorum is reported as such (`quorumLost`) and recorded on the
 * cluster at once (status change published), not left for the next sync to find.
 */
export async function clusterOperation<T>(ctx: Context, cluster: SwarmCluster, spec: SwarmOperationSpec, fn: (api: Docker, handle: ActivityHandle) => Promise<T>) {
  const { api } = await clusterConnection(ctx.services.connections, ctx.em, cluster);
  return runActivity(ctx, { ...spec, cluster }, async (handle) => {
    try {
      return await fn(api, handle);
    } catch (err) {
      if (isQuorumLoss(err)) await noteQuorumLoss(ctx, cluster, err);
      throw isDockerFailure(err) ? toSwarmError(err, cluster) : err;
    }
  });
}

/** Reads from the manager (inspect, lists) with errors mapped like mutations', nothing audited. */
export async function clusterRead<T>(ctx: Context, cluster: SwarmCluster, fn: (api: Docker) => Promise<T>): Promise<T> {
  try {
    const { api } = await clusterConnection(ctx.services.connections, ctx.em, cluster);
    // past the deadline (or the client gone) no Docker call starts
    ctx.signal?.throwIfAborted();
    return await abortable(fn(api), ctx.signal);
  } catch (err) {
    if (isQuorumLoss(err)) await noteQuorumLoss(ctx, cluster, err);
    throw isDockerFailure(err) ? toSwarmError(err, cluster) : err;
  }
}

async function noteQuorumLoss(ctx: Context, cluster: SwarmCluster, err: unknown): Promise<void> {
  try {
    const em = forkForAccount(ctx.services.orm, cluster.account.id);
    const fresh = await em.findOne(SwarmCluster, cluster.id);
    if (fresh) await commitClusterStatus(em, ctx.services.pubsub, clusterOutcome(fresh, { ok: false, error: (err as Error).message, quorumLost: true }));
  } catch (e) {
    ctx.logger.warn({ err: e }, 'could not record quorum loss');
  }
}
