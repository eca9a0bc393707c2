import type { MikroORM } from '@mikro-orm/postgresql';
import { DockerHost, SwarmCluster } from '../../../entities';
import type { Audit, ActivityHandle } from '../../platform/audit/activity';
import type { DockerConnections } from '../../infra/engine/connections';
import { isQuorumLoss } from '../../infra/engine/errors';
import type { Engine } from '../../infra/engine/port';
import { forkForAccount } from '../../infra/db/orm';
import type { FleetPubSub } from '../../infra/pubsub';
import { boundedRead } from '../../kernel/operation';
import { AppError, ErrorCode, notFound } from '../../kernel/errors';
import { toGlobalId } from '../../kernel/ids';
import type { Logger } from '../../kernel/logger';
import type { Scope } from '../../kernel/scope';
import { failureText } from '../../platform/supervision/deps';
import { clusterEngine } from './docker';
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
 * (`read`), and the manager's engine port (`engine`), whose calls come out mapped (DOCKER_ERROR,
 * DOCKER_UNREACHABLE; a lost quorum as such, `quorumLost`). A lost quorum is also recorded on the
 * cluster at once (status change published), not left for the next sync to find.
 */
export class ClusterOperations {
  /** @param managerFailed told of every failed manager call (the cluster's watch re-checks its health at once). */
  constructor(
    private readonly deps: ClusterOperationsDeps,
    private readonly managerFailed: (clusterId: string) => void = () => undefined,
  ) {}

  /**
   * The cluster a row belongs to, as a managed entity of the scope's EntityManager (no query when
   * it is loaded already). Rows of nested pages are not ORM entities and carry their cluster as
   * `{ id }`, which `em.populate` cannot load: every live read on a row goes through here.
   */
  async clusterOf(scope: Scope, ref: { id: string }): Promise<SwarmCluster> {
    const cluster = await scope.em.findOne(SwarmCluster, ref.id);
    if (!cluster) throw notFound('SwarmCluster', toGlobalId('SwarmCluster', ref.id));
    return cluster;
  }

  /** Like read, for a row of the cluster (see clusterOf). */
  async readOf<T>(scope: Scope, row: { cluster: { id: string } }, fn: (engine: Engine) => Promise<T>): Promise<T> {
    return this.read(scope, await this.clusterOf(scope, row.cluster), fn);
  }

  /** The engine of a manager that answers (the registered one, else another registered manager). */
  engine(scope: Scope, cluster: SwarmCluster): Promise<Engine> {
    return clusterEngine(this.deps.connections, scope.em, cluster);
  }

  /** An audited DockerActivity (with the cluster) around `fn`, which gets the manager's engine. */
  async run<T>(scope: Scope, cluster: SwarmCluster, spec: SwarmOperationSpec, fn: (engine: Engine, handle: ActivityHandle) => Promise<T>) {
    const engine = await this.engine(scope, cluster);
    return this.deps.audit.run(scope, { ...spec, cluster }, async (handle) => {
      try {
        return await fn(engine, handle);
      } catch (err) {
        await this.noticeFailure(cluster, err);
        throw err;
      }
    });
  }

  /** Reads from the manager (inspect, lists), nothing audited; gives up when the scope's signal aborts. */
  async read<T>(scope: Scope, cluster: SwarmCluster, fn: (engine: Engine) => Promise<T>): Promise<T> {
    try {
      const engine = await this.engine(scope, cluster);
      return await boundedRead(scope, () => fn(engine));
    } catch (err) {
      await this.noticeFailure(cluster, err);
      throw err;
    }
  }

  /** A failed Docker call: a lost quorum is recorded at once, and the cluster's health re-checked. */
  private async noticeFailure(cluster: SwarmCluster, err: unknown): Promise<void> {
    if (err instanceof AppError && (err.code === ErrorCode.DOCKER_ERROR || err.code === ErrorCode.DOCKER_UNREACHABLE)) this.managerFailed(cluster.id);
    await this.noticeQuorumLoss(cluster, err);
  }

  /** A lost quorum is recorded on the cluster (its own unit of work) and the status change published. */
  private async noticeQuorumLoss(cluster: SwarmCluster, err: unknown): Promise<void> {
    if (!isQuorumLoss(err)) return;
    try {
      const em = forkForAccount(this.deps.orm, cluster.account.id);
      const fresh = await em.findOne(SwarmCluster, cluster.id);
      if (fresh) await commitClusterStatus(em, this.deps.pubsub, clusterOutcome(fresh, { ok: false, error: failureText(err), quorumLost: true }));
    } catch (e) {
      this.deps.logger.warn({ err: e, clusterId: cluster.id }, 'could not record quorum loss');
    }
  }
}
