import type Docker from 'dockerode';
import type { MikroORM } from '@mikro-orm/postgresql';
import { DockerHost, SwarmCluster } from '../../../entities';
import type { Audit, ActivityHandle } from '../../platform/audit/activity';
import { isDockerFailure } from '../../infra/engine/client';
import type { DockerConnection, DockerConnections } from '../../infra/engine/connections';
import { forkForAccount } from '../../infra/db/orm';
import type { FleetPubSub } from '../../infra/pubsub';
import { abortable } from '../../kernel/abort';
import type { Logger } from '../../kernel/logger';
import type { Scope } from '../../kernel/scope';
import { clusterConnection, isQuorumLoss, toSwarmError } from './docker';
import { clusterOutcome, commitClusterStatus } from './status';

export interface SwarmOperationSpec {
  action: string;
  targetType: string;
  targetId?: string | null;
  host?: DockerHost | null;
  parameters?: object;
}

export interface ClusterOperationsDeps {
  orm: MikroORM;
  pubsub: FleetPubSub;
  logger: Logger;
  connections: DockerConnections;
  audit: Audit;
}

/**
 * How every swarm manager talks to a cluster's manager: audited mutations (`run`), live reads
 * (`read`), and the manager's clients (`connection`). Docker's errors come out as DOCKER_ERROR /
 * DOCKER_UNREACHABLE; a lost quorum is reported as such (`quorumLost`) and recorded on the
 * cluster at once (status change published), not left for the next sync to find.
 */
export class ClusterOperations {
  constructor(private readonly deps: ClusterOperationsDeps) {}

  /** The clients of a manager that answers (the registered one, else another registered manager). */
  connection(scope: Scope, cluster: SwarmCluster): Promise<DockerConnection> {
    return clusterConnection(this.deps.connections, scope.em, cluster);
  }

  /** An audited DockerActivity (with the cluster) around `fn`, which gets the manager's API client. */
  async run<T>(scope: Scope, cluster: SwarmCluster, spec: SwarmOperationSpec, fn: (api: Docker, handle: ActivityHandle) => Promise<T>) {
    const { api } = await this.connection(scope, cluster);
    return this.deps.audit.run(scope, { ...spec, cluster }, async (handle) => {
      try {
        return await fn(api, handle);
      } catch (err) {
        throw await this.failure(cluster, err);
      }
    });
  }

  /** Reads from the manager (inspect, lists) with errors mapped like mutations', nothing audited; gives up when the scope's signal aborts. */
  async read<T>(scope: Scope, cluster: SwarmCluster, fn: (api: Docker) => Promise<T>): Promise<T> {
    try {
      const { api } = await this.connection(scope, cluster);
      // past the deadline (or the client gone) no Docker call starts
      scope.signal?.throwIfAborted();
      return await abortable(fn(api), scope.signal);
    } catch (err) {
      throw await this.failure(cluster, err);
    }
  }

  /** Docker's error as the API reports it; a lost quorum is recorded on the cluster first. Anything else passes unchanged. */
  async failure(cluster: SwarmCluster, err: unknown): Promise<unknown> {
    if (isQuorumLoss(err)) await this.noteQuorumLoss(cluster, err);
    return isDockerFailure(err) ? toSwarmError(err, cluster) : err;
  }

  /** Records the lost quorum on the cluster (its own unit of work) and publishes the status change. */
  async noteQuorumLoss(cluster: SwarmCluster, err: unknown): Promise<void> {
    try {
      const em = forkForAccount(this.deps.orm, cluster.account.id);
      const fresh = await em.findOne(SwarmCluster, cluster.id);
      if (fresh) await commitClusterStatus(em, this.deps.pubsub, clusterOutcome(fresh, { ok: false, error: (err as Error).message, quorumLost: true }));
    } catch (e) {
      this.deps.logger.warn({ err: e, clusterId: cluster.id }, 'could not record quorum loss');
    }
  }
}
