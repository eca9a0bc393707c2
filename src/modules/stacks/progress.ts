import type { EntityManager } from '@mikro-orm/postgresql';
import { SwarmDeployment, type DeploymentStep } from '../../../entities';
import type { FleetPubSub } from '../../infra/pubsub';
import type { Logger } from '../../kernel/logger';

/** Pub/sub topic of deploymentProgress; id: the account. */
export const DEPLOYMENT_TOPIC = 'swarmDeployments';
/** Most steps kept per deployment (a long convergence adds one per change of a service); past it only the end step is still recorded. */
export const MAX_STEPS = 1000;
const MAX_MESSAGE = 2000;

/** What the log needs of a deployment. */
export type DeploymentRef = Pick<SwarmDeployment, 'id' | 'revision'> & { accountId: string; stackId: string };

/** One service's convergence as deploymentProgress shows it. */
export interface ServiceProgress {
  service: string;
  state: 'converged' | 'waiting' | 'failed';
  running: number;
  desired: number;
  message: string;
}

/** What deploymentProgress delivers: the deployment's status, the step just recorded (if any), and per-service convergence. */
export interface DeploymentProgressPayload {
  accountId: string;
  deploymentId: string;
  stackId: string;
  revision: number;
  status: string;
  step: DeploymentStep | null;
  services: ServiceProgress[];
  at: Date;
}

/**
 * The record of a deployment's progress: steps appended in one statement (numbered in the
 * database, so two writers never give the same number), published on DEPLOYMENT_TOPIC.
 */
export class DeploymentLog {
  constructor(
    private readonly pubsub: FleetPubSub,
    private readonly logger: Logger,
  ) {}

  /** Appends a step and publishes it with the deployment's status and per-service figures. */
  async step(em: EntityManager, d: DeploymentRef, kind: string, target: string | null, message: string, services: ServiceProgress[] = []): Promise<void> {
    const row = await this.write(em, d, kind, target, message);
    if (row) await this.publish(d, row.status, row.last, services);
  }

  /**
   * Ends the deployment with its last step, in one statement (inside `em`'s transaction when it
   * has one), and only from an active status (with `owner`: only while that runner holds it).
   * Returns null when it was no longer the caller's to end; else whether it had started, and the
   * publish to call once the transaction committed.
   */
  async end(
    em: EntityManager,
    d: DeploymentRef,
    end: { status: string; error: string | null; owner?: string },
    kind: string,
    message: string,
  ): Promise<{ started: boolean; publish: () => Promise<void> } | null> {
    const row = await this.write(em, d, kind, null, message, end);
    return row ? { started: row.started_at !== null, publish: () => this.publish(d, row.status, row.last, []) } : null;
  }

  /** The one statement behind step and end. Ordinary steps stop at MAX_STEPS - 1; the end step is always recorded. */
  private async write(em: EntityManager, d: DeploymentRef, kind: string, target: string | null, message: string, end?: { status: string; error: string | null; owner?: string }) {
    const set = end ? `, status = ?, error = ?, finished_at = now(), worker_owner = null, worker_expires_at = null` : '';
    const where = end ? ` and status in ('pending', 'in_progress')${end.owner ? ' and worker_owner = ?' : ''}` : '';
    const params: unknown[] = [end ? MAX_STEPS : MAX_STEPS - 1, kind, target, message.slice(0, MAX_MESSAGE)];
    if (end) params.push(end.status, end.error === null ? null : end.error.slice(0, 4000));
    params.push(d.id, d.accountId);
    if (end?.owner) params.push(end.owner);
    const rows = (await em.getConnection().execute(
      `update swarm_deployments set steps = case when jsonb_array_length(steps::jsonb) >= ? then steps::jsonb else steps::jsonb || jsonb_build_array(jsonb_build_object('n', jsonb_array_length(steps::jsonb) + 1, 'at', to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'kind', ?::text, 'target', ?::text, 'message', ?::text)) end, updated_at = now()${set}
       where id = ? and account_id = ?${where} returning status, started_at, steps::jsonb -> -1 as last`,
      params,
      'all',
      em.getTransactionContext(),
    )) as Array<{ status: string; started_at: Date | null; last: DeploymentStep | null }>;
    return rows[0] ?? null;
  }

  /** Publishes the deployment's state without a step (per-service figures changed). */
  async publish(d: DeploymentRef, status: string, step: DeploymentStep | null, services: ServiceProgress[] = []): Promise<void> {
    const payload: DeploymentProgressPayload = { accountId: d.accountId, deploymentId: d.id, stackId: d.stackId, revision: d.revision, status, step, services, at: new Date() };
    await this.pubsub.emit(DEPLOYMENT_TOPIC, payload, d.accountId).catch((err) => this.logger.warn({ err }, 'deployment progress not published'));
  }
}
