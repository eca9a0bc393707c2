import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ACTIVE_DEPLOYMENT_STATUSES, SwarmCluster, SwarmDeployment, SwarmDeploymentKind, SwarmDeploymentStatus, SwarmService, SwarmStack, SwarmStackStatus } from '../../../entities';
import type { SecretBox } from '../../infra/crypto';
import type { JobQueue } from '../../infra/jobs';
import { AppError, badInput, conflict, ErrorCode, notFound } from '../../kernel/errors';
import { failureText } from '../../platform/supervision/deps';
import type { Logger } from '../../kernel/logger';
import { actorName, type Scope } from '../../kernel/scope';
import type { Audit } from '../../platform/audit/activity';
import type { ClusterOperations } from '../swarm';
import { serviceConverged } from '../swarm';
import { derivedTimeoutSeconds } from './converge';
import type { ConvertedStack } from './compose';
import { LABEL_NAMESPACE, loadStack } from './compose';
import type { StackChecker } from './check';
import type { DeploymentLog } from './progress';

/** The job queue that runs deployments (src/infra/jobs.ts). */
export const DEPLOY_QUEUE = 'stack-deployments';

/** What a deployment job carries: ids only. */
export interface DeployJob {
  accountId: string;
  deploymentId: string;
}

/** Queues a deployment's job (the one way: from a deploy, and from the runner's sweep); pg-boss does not expire it before the longest deadline could pass. */
export async function sendDeployJob(jobs: JobQueue, job: DeployJob): Promise<void> {
  await jobs.send(DEPLOY_QUEUE, job, { retryLimit: 3, retryDelay: 5, expireInSeconds: MAX_TIMEOUT_SECONDS + 600 });
}

/** Ended revisions kept per stack (besides the one it runs); older ones are deleted when a new one is recorded. */
export const KEEP_REVISIONS = 50;
/** Active (PENDING or IN_PROGRESS) deployments per account: one account cannot take every runner slot of the fleet. */
export const MAX_ACTIVE_PER_ACCOUNT = 10;

/** What is kept sealed with a deployment: what redeploy and rollback need to recreate secrets. */
export interface SealedInputs {
  variables: Record<string, string>;
  files: Record<string, string>;
  /** Secret data (base64) by secret name. */
  secretData: Record<string, string>;
}

export interface DeployOptions {
  prune?: boolean;
  timeoutSeconds?: number;
  idempotencyKey?: string;
}

/** Bounds of timeoutSeconds. */
export const MIN_TIMEOUT_SECONDS = 10;
export const MAX_TIMEOUT_SECONDS = 3600;

export interface StackDeploymentsDeps {
  ops: ClusterOperations;
  checker: StackChecker;
  jobs: JobQueue;
  secrets: SecretBox;
  audit: Audit;
  log: DeploymentLog;
  logger: Logger;
}

/** A revision about to be recorded. */
interface NewRevision {
  kind: SwarmDeploymentKind;
  sourceRevision: number | null;
  compose: string;
  converted: ConvertedStack;
  inputs: SealedInputs;
  prune: boolean;
  timeoutSeconds: number | null;
  idempotencyKey: string | null;
  images?: SwarmDeployment['images'];
}

/**
 * Stacks as versioned objects: every deploy, redeploy and rollback records a revision (the
 * compose text, the converted specs, the sealed inputs) and queues it as a durable job that the
 * DeploymentRunner applies and watches until its services converge. Everything a request can
 * refuse is refused before the revision is recorded: compose errors, external objects, the
 * host-access policy, a second active deployment of the stack (CONFLICT with its id).
 */
export class StackDeployments {
  constructor(private readonly d: StackDeploymentsDeps) {}

  /** deployStack: checked in full, then recorded as the next revision and queued. */
  async deploy(
    scope: Scope,
    cluster: SwarmCluster,
    input: { name: string; compose: string; variables?: Record<string, string>; files?: Record<string, string> },
    options: DeployOptions = {},
  ): Promise<SwarmDeployment> {
    checkTimeout(options.timeoutSeconds);
    const replay = await this.byIdempotencyKey(scope, options.idempotencyKey);
    if (replay) return this.sameRequest(replay, cluster, input.name);
    const converted = loadStack({ name: input.name, compose: input.compose, variables: input.variables, files: input.files });
    await this.d.checker.checkStack(scope, cluster, converted);
    const secretData = Object.fromEntries(converted.secrets.map((s) => [s.Name, s.Data]));
    return this.record(scope, cluster, converted.name, {
      kind: SwarmDeploymentKind.DEPLOY,
      sourceRevision: null,
      compose: input.compose,
      converted,
      inputs: { variables: input.variables ?? {}, files: input.files ?? {}, secretData },
      prune: options.prune ?? false,
      timeoutSeconds: options.timeoutSeconds ?? null,
      idempotencyKey: options.idempotencyKey ?? null,
    });
  }

  /** redeployDeployment: that revision's pinned specs applied again as a new revision (the whole stack: services not in it are removed). */
  async redeploy(scope: Scope, deploymentId: string, options: DeployOptions = {}): Promise<SwarmDeployment> {
    const source = await this.get(scope, deploymentId);
    return this.again(scope, source, SwarmDeploymentKind.REDEPLOY, options);
  }

  /** rollbackStack: the whole stack back to one of its revisions. */
  async rollback(scope: Scope, stackId: string, toRevision: number, options: DeployOptions = {}): Promise<SwarmDeployment> {
    const stack = await this.stack(scope, stackId);
    const source = await scope.em.findOne(SwarmDeployment, { stack: stack.id, revision: toRevision });
    if (!source) throw badInput('toRevision', `stack ${stack.name} has no revision ${toRevision}`);
    return this.again(scope, source, SwarmDeploymentKind.ROLLBACK, options);
  }

  private async again(scope: Scope, source: SwarmDeployment, kind: SwarmDeploymentKind, options: DeployOptions): Promise<SwarmDeployment> {
    checkTimeout(options.timeoutSeconds);
    const replay = await this.byIdempotencyKey(scope, options.idempotencyKey);
    await scope.em.populate(source, ['stack', 'cluster', 'specs', 'sealedInputs', 'compose']);
    if (replay) return this.sameRequest(replay, source.cluster, source.stack.name);
    const inputs = JSON.parse(this.d.secrets.open(source.sealedInputs)) as SealedInputs;
    const converted = withSecretData(source.specs as unknown as ConvertedStack, inputs.secretData);
    // the policy of today applies to the specs of then
    await this.d.checker.checkStack(scope, source.cluster, converted);
    return this.record(scope, source.cluster, source.stack.name, {
      kind,
      sourceRevision: source.revision,
      compose: source.compose,
      converted,
      inputs,
      prune: true,
      timeoutSeconds: options.timeoutSeconds ?? source.timeoutSeconds ?? null,
      idempotencyKey: options.idempotencyKey ?? null,
      images: source.images,
    });
  }

  /** cancelDeployment: an active deployment stops where it is (what was applied stays; roll back to undo it). */
  async cancel(scope: Scope, deploymentId: string): Promise<SwarmDeployment> {
    const d = await this.get(scope, deploymentId);
    const spec = { action: 'stack.deployment.cancel', targetType: 'stack', targetId: d.stack.name, cluster: d.cluster, parameters: { deploymentId: d.id, revision: d.revision } };
    await this.d.audit.run(scope, spec, async () => {
      const by = `cancelled by ${actorName(scope.actor)}`;
      // the end and, in the same transaction, the stack's status: DEGRADED when it had started changing
      // the swarm; before that, only a stack still shown as being deployed (a new stack's first
      // revision) changes, since nothing deploys it any more: DEGRADED too, as nothing runs what was asked
      const end = await scope.em.transactional(async (tx) => {
        const ended = await this.d.log.end(tx, ref(d), { status: SwarmDeploymentStatus.CANCELLED, error: by }, 'cancelled', by);
        if (ended?.started) await tx.nativeUpdate(SwarmStack, { id: d.stack.id }, { status: SwarmStackStatus.DEGRADED, statusMessage: `revision ${d.revision} cancelled` });
        else if (ended)
          await tx.nativeUpdate(
            SwarmStack,
            { id: d.stack.id, status: { $in: [SwarmStackStatus.DEPLOYING, SwarmStackStatus.ROLLING_BACK] } },
            { status: SwarmStackStatus.DEGRADED, statusMessage: `revision ${d.revision} cancelled before it started` },
          );
        return ended;
      });
      if (!end) throw conflict(`deployment ${d.revision} of stack ${d.stack.name} is ${d.status}, not active`, { status: d.status });
      await end.publish();
    });
    return scope.em.findOneOrFail(SwarmDeployment, d.id, { populate: ['stack', 'cluster'], refresh: true });
  }

  /** removeStack: its services, networks, secrets and configs removed as `docker stack rm` does; the stack and its history are kept as REMOVED. */
  async remove(scope: Scope, stackId: string): Promise<SwarmStack> {
    const stack = await this.stack(scope, stackId);
    // REMOVED first, in one statement that no active deployment may exist for (a deploy recorded after it runs later and sets DEPLOYING)
    const marked = (await scope.em
      .getConnection()
      .execute(
        `update swarm_stacks set status = ?, status_message = null, updated_at = now() where id = ? and account_id = ? and not exists (select 1 from swarm_deployments where stack_id = ? and status in ('pending', 'in_progress')) returning id`,
        [SwarmStackStatus.REMOVED, stack.id, scope.accountId, stack.id],
      )) as unknown[];
    if (!marked.length) {
      const active = await scope.em.findOne(SwarmDeployment, { stack: stack.id, status: { $in: [...ACTIVE_DEPLOYMENT_STATUSES] } });
      throw conflict(`stack ${stack.name} has an active deployment${active ? ` (revision ${active.revision})` : ''}; cancel it first`, active ? { deploymentId: active.globalId } : {});
    }
    await this.d.ops
      .run(scope, stack.cluster, { action: 'stack.remove', targetType: 'stack', targetId: stack.name, parameters: { name: stack.name } }, async (engine) => {
        const filter = { label: [`${LABEL_NAMESPACE}=${stack.name}`] };
        // the CLI's order (cli/command/stack/swarm/remove.go): services, secrets, configs, networks
        for (const s of await engine.listServices({ filters: filter })) await engine.removeService(s.ID);
        for (const s of await engine.listSecrets()) if (labelOf(s) === stack.name) await engine.removeSecret(s.ID);
        for (const c of await engine.listConfigs()) if (labelOf(c) === stack.name) await engine.removeConfig(c.ID);
        for (const n of await engine.listNetworks(filter)) await engine.removeNetwork(n.Id ?? n.Name ?? '');
      })
      .catch(async (err: unknown) => {
        await scope.em.nativeUpdate(SwarmStack, { id: stack.id }, { status: SwarmStackStatus.DEGRADED, statusMessage: `removeStack failed part-way: ${failureText(err)}`.slice(0, 4000) });
        throw err;
      });
    return scope.em.findOneOrFail(SwarmStack, stack.id, { populate: ['cluster'], refresh: true });
  }

  // ------------------------------------------------------------------------------ queries

  async get(scope: Scope, deploymentId: string): Promise<SwarmDeployment> {
    const d = await scope.em.findOne(SwarmDeployment, deploymentId, { populate: ['stack', 'cluster'] });
    if (!d) throw notFound('Deployment', deploymentId);
    return d;
  }

  async stack(scope: Scope, stackId: string): Promise<SwarmStack> {
    const s = await scope.em.findOne(SwarmStack, stackId, { populate: ['cluster'] });
    if (!s) throw notFound('Stack', stackId);
    return s;
  }

  /**
   * Records the stacks deployed with the CLI (of one cluster, or all), discovered from the
   * services' com.docker.stack.namespace label (managed: false), with a status from their
   * services' convergence; called before stacks are listed.
   */
  async discover(scope: Scope, clusterId?: string): Promise<void> {
    const em = scope.em;
    const accountId = scope.accountId;
    const services = await em.find(SwarmService, { stack: { $ne: null }, ...(clusterId ? { cluster: clusterId } : {}) });
    const groups = new Map<string, SwarmService[]>();
    for (const s of services) {
      const key = `${s.cluster.id}\u0000${s.stack}`;
      const list = groups.get(key);
      if (list) list.push(s);
      else groups.set(key, [s]);
    }
    const known = await em.find(SwarmStack, clusterId ? { cluster: clusterId } : {});
    const byKey = new Map(known.map((s) => [`${s.cluster.id}\u0000${s.name}`, s]));
    for (const [key, list] of groups) {
      const [cluster, name] = key.split('\u0000');
      const status = list.every((s) => serviceConverged(s)) ? SwarmStackStatus.CONVERGED : SwarmStackStatus.DEGRADED;
      const row = byKey.get(key);
      if (!row) {
        await em
          .getConnection()
          .execute(
            `insert into swarm_stacks (id, account_id, cluster_id, name, status, managed, last_revision, created_at, updated_at) values (gen_random_uuid(), ?, ?, ?, ?, false, 0, now(), now()) on conflict (cluster_id, name) do nothing`,
            [accountId, cluster, name, status],
          );
      } else if (!row.managed || row.status === SwarmStackStatus.REMOVED) {
        // discovered stacks follow their services; a removed stack deployed again with the CLI comes back
        if (row.status !== status) await em.nativeUpdate(SwarmStack, { id: row.id }, { status });
      }
    }
  }

  // ------------------------------------------------------------------------------ recording

  private async byIdempotencyKey(scope: Scope, key: string | undefined): Promise<SwarmDeployment | null> {
    if (!key) return null;
    return scope.em.findOne(SwarmDeployment, { idempotencyKey: key }, { populate: ['stack', 'cluster'] });
  }

  /** The same idempotency key again: the same deployment, if it was for the same stack. */
  private sameRequest(d: SwarmDeployment, cluster: SwarmCluster, name: string): SwarmDeployment {
    if (d.cluster.id !== cluster.id || d.stack.name !== name) throw conflict(`idempotencyKey was used for another stack (${d.stack.name})`, { deploymentId: d.globalId });
    return d;
  }

  /**
   * Records the next revision in one transaction (stack row upserted, revision counted, the one
   * active deployment per stack enforced by a unique index), then queues its job. A job that
   * could not be queued is sent again by the runner's sweep.
   */
  private async record(scope: Scope, cluster: SwarmCluster, name: string, r: NewRevision): Promise<SwarmDeployment> {
    const active = await scope.em.count(SwarmDeployment, { status: { $in: [...ACTIVE_DEPLOYMENT_STATUSES] } });
    if (active >= MAX_ACTIVE_PER_ACCOUNT)
      throw new AppError(ErrorCode.QUOTA_EXCEEDED, `your account has ${active} active deployments, the most at once; wait for one to end`, { limit: MAX_ACTIVE_PER_ACCOUNT, usage: active });
    const parameters = { name, kind: r.kind, sourceRevision: r.sourceRevision, services: r.converted.services.map((s) => s.Name), prune: r.prune };
    const { result: deployment } = await this.d.audit.run(scope, { action: `stack.${r.kind}`, targetType: 'stack', targetId: name, cluster, parameters }, async () => {
      try {
        return await scope.em.fork().transactional((em) => this.insert(em, scope, cluster, name, r));
      } catch (err) {
        if (!(err instanceof UniqueConstraintViolationException)) throw err;
        const key = r.idempotencyKey ? await this.byIdempotencyKey(scope, r.idempotencyKey) : null;
        if (key) return this.sameRequest(key, cluster, name);
        const active = await scope.em.findOne(SwarmDeployment, { cluster: cluster.id, stack: { name }, status: { $in: [...ACTIVE_DEPLOYMENT_STATUSES] } });
        throw conflict(`stack ${name} has an active deployment${active ? ` (revision ${active.revision})` : ''}; wait for it or cancel it`, active ? { deploymentId: active.globalId } : {});
      }
    });
    await this.prune(scope.em, deployment);
    await this.d.log.step(
      scope.em,
      ref(deployment),
      'queued',
      null,
      `revision ${deployment.revision} (${r.kind}${r.sourceRevision ? ` of revision ${r.sourceRevision}` : ''}) queued by ${deployment.actor}`,
    );
    await sendDeployJob(this.d.jobs, { accountId: scope.accountId, deploymentId: deployment.id }).catch((err) =>
      this.d.logger.warn({ err, deploymentId: deployment.id }, 'deployment job not queued; the sweep will'),
    );
    return scope.em.findOneOrFail(SwarmDeployment, deployment.id, { populate: ['stack', 'cluster'], refresh: true });
  }

  /** Deletes the stack's ended revisions beyond the newest KEEP_REVISIONS (never the one it runs). */
  private async prune(em: EntityManager, d: SwarmDeployment): Promise<void> {
    await em.getConnection().execute(
      `delete from swarm_deployments where stack_id = ? and account_id = ? and status not in ('pending', 'in_progress')
         and id is distinct from (select current_deployment_id from swarm_stacks where id = ?)
         and revision <= (select max(revision) from swarm_deployments where stack_id = ?) - ?`,
      [d.stack.id, d.account.id, d.stack.id, d.stack.id, KEEP_REVISIONS],
      'run',
    );
  }

  private async insert(em: EntityManager, scope: Scope, cluster: SwarmCluster, name: string, r: NewRevision): Promise<SwarmDeployment> {
    const [row] = (await em.getConnection().execute(
      `insert into swarm_stacks (id, account_id, cluster_id, name, status, managed, last_revision, created_at, updated_at) values (gen_random_uuid(), ?, ?, ?, ?, true, 1, now(), now())
       on conflict (cluster_id, name) do update set last_revision = swarm_stacks.last_revision + 1, managed = true, updated_at = now() where swarm_stacks.account_id = excluded.account_id returning id, last_revision`,
      [scope.accountId, cluster.id, name, SwarmStackStatus.DEPLOYING],
      'all',
      em.getTransactionContext(),
    )) as Array<{ id: string; last_revision: number }>;
    const specs = withSecretData(r.converted, {});
    const timeout = r.timeoutSeconds ?? derivedTimeoutSeconds(r.converted.services as never);
    const deployment = em.create(SwarmDeployment, {
      account: scope.accountId,
      stack: row.id,
      cluster: cluster.id,
      revision: row.last_revision,
      kind: r.kind,
      sourceRevision: r.sourceRevision,
      status: SwarmDeploymentStatus.PENDING,
      compose: r.compose,
      variableNames: Object.keys(r.inputs.variables).sort(),
      fileNames: Object.keys(r.inputs.files).sort(),
      sealedInputs: this.d.secrets.seal(JSON.stringify(r.inputs)),
      specs: specs as unknown as Record<string, unknown>,
      images: r.images ?? [],
      warnings: r.converted.warnings,
      prune: r.prune,
      timeoutSeconds: timeout,
      idempotencyKey: r.idempotencyKey,
      actor: actorName(scope.actor),
    } as never);
    await em.flush();
    return deployment;
  }
}

/** The converted stack with each secret's Data replaced from `data` (empty when absent): specs are stored without it. */
export function withSecretData(stack: ConvertedStack, data: Record<string, string>): ConvertedStack {
  return { ...stack, secrets: stack.secrets.map((s) => ({ ...s, Data: Object.hasOwn(data, s.Name) ? data[s.Name] : '' })) };
}

/** What DeploymentLog needs of a deployment. */
export function ref(d: SwarmDeployment): { id: string; revision: number; accountId: string; stackId: string } {
  return { id: d.id, revision: d.revision, accountId: d.account.id, stackId: d.stack.id };
}

function checkTimeout(t: number | undefined): void {
  if (t !== undefined && (!Number.isInteger(t) || t < MIN_TIMEOUT_SECONDS || t > MAX_TIMEOUT_SECONDS))
    throw badInput('timeoutSeconds', `must be an integer between ${MIN_TIMEOUT_SECONDS} and ${MAX_TIMEOUT_SECONDS}`);
}

function labelOf(o: { Spec?: unknown }): string | undefined {
  return (o.Spec as { Labels?: Record<string, string> } | undefined)?.Labels?.[LABEL_NAMESPACE];
}
