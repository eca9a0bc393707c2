import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { SwarmDeployment, SwarmDeploymentKind, SwarmDeploymentStatus, SwarmStack, SwarmStackStatus, type PinnedImage } from '../../../entities';
import type { SecretBox } from '../../infra/crypto';
import { forkForAccount, forkSystem } from '../../infra/db/orm';
import type { Engine } from '../../infra/engine/port';
import type { ServiceInspect, ServiceSpec as EngineServiceSpec } from '../../infra/engine/types';
import type { JobQueue } from '../../infra/jobs';
import type { Logger } from '../../kernel/logger';
import type { Scope } from '../../kernel/scope';
import { Ticker } from '../../kernel/ticker';
import type { Worker } from '../../kernel/worker';
import { failureText } from '../../platform/supervision/deps';
import { systemScope } from '../../platform/system-scope';
import type { ClusterOperations } from '../swarm';
import { applyObjects, withIds, type AppliedStack } from './apply';
import { LABEL_NAMESPACE, type ConvertedStack } from './compose';
import { serviceVerdict, taskMemory, type ServiceVerdict, type TaskMemory } from './converge';
import { ref, sendDeployJob, withSecretData, type DeployJob, type SealedInputs } from './deployments';
import { stackDiff } from './diff';
import type { DeploymentLog, ServiceProgress } from './progress';

/** A claim on a deployment lasts this long without renewal; a replica that died leaves it to the sweep of another after that. */
export const CLAIM_SECONDS = 15;
/** The claim is renewed (and a cancel noticed) this often. */
const RENEW_MS = 2000;
/** Services and tasks are read this often while waiting for convergence. */
export const POLL_MS = 500;
/** How often each working replica looks for deployments nobody runs (a dead replica's, or a job that was never queued). */
export const SWEEP_MS = 5000;
/** A pending deployment whose job has not started after this is queued again. */
const UNSTARTED_SECONDS = 60;
/** A deployment is queued again by a sweep at most this often. */
const REQUEUE_SECONDS = 60;
/** Runs of one deployment (claims taken) before it ends FAILED "interrupted" rather than being resumed again. */
export const MAX_ATTEMPTS = 3;
/** Deployments queued again per sweep, at most. */
const SWEEP_BATCH = 50;
/** Services created, updated or removed at once by one deployment (each is a manager round trip and an audited activity). */
const SERVICE_CONCURRENCY = 4;

export interface DeploymentRunnerDeps {
  orm: MikroORM;
  ops: ClusterOperations;
  jobs: JobQueue;
  secrets: SecretBox;
  log: DeploymentLog;
  logger: Logger;
  /** Has a service's tasks watched by the cluster's supervisor (its stored figures follow at once). */
  watchTasks(clusterId: string, serviceId: string): void;
}

type Outcome = { ok: true } | { ok: false; error: string };

/** A claim taken: whether the deployment ran before (a resume), how many runs it has had, whether its deadline passed. */
interface Claim {
  resumed: boolean;
  attempts: number;
  late: boolean;
}

/** Why a run stopped before its end. */
class Stopped extends Error {}

/**
 * Runs deployments as durable jobs (DEPLOY_QUEUE on pg-boss): claims the deployment row (one
 * runner at a time, renewed every 2 s), applies the revision (objects, then each service
 * created, updated or removed, each an audited activity and a step), then reads services and
 * tasks every 500 ms until every service converged (SUCCEEDED), one failed or the deadline
 * passed (FAILED, with Docker's words), or the deployment was cancelled. A replica that stops
 * releases its claims; one that dies lets them expire; either way the sweep of a live replica
 * queues the deployment again and the next runner resumes it (applying is idempotent: services
 * are created when missing and updated to the revision's spec).
 */
export class DeploymentRunner implements Worker {
  readonly name = 'deployments';
  readonly owner = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly running = new Map<string, AbortController>();
  private sweeper?: Ticker;

  constructor(private readonly d: DeploymentRunnerDeps) {}

  async start(): Promise<void> {
    const sweeper = new Ticker(
      async () => {
        await this.sweep();
        sweeper.schedule(SWEEP_MS);
      },
      (err) => {
        this.d.logger.warn({ err }, 'deployment sweep failed');
        sweeper.schedule(SWEEP_MS);
      },
    );
    this.sweeper = sweeper;
    sweeper.schedule(0);
  }

  /** Stops the sweep and every run on this replica; their claims are released so another replica resumes them at once. */
  async stop(): Promise<void> {
    await this.sweeper?.stop();
    for (const ac of this.running.values()) ac.abort(new Stopped('replica stopping'));
    const deadline = Date.now() + 10_000;
    while (this.running.size && Date.now() < deadline) await sleep(50);
  }

  /**
   * Deployments that are active but run by nobody (a dead replica's, whose claim expired; a job
   * that never started): queued again, each at most once a minute across replicas (the row
   * records it), so a deployment waiting for a free slot is not queued over and over.
   */
  async sweep(): Promise<void> {
    const rows = (await forkSystem(this.d.orm)
      .getConnection()
      .execute(
        `update swarm_deployments set requeued_at = now() where id in (
           select id from swarm_deployments where status in ('pending', 'in_progress')
             and ((worker_owner is null and (status = 'in_progress' or created_at < now() - make_interval(secs => ?))) or worker_expires_at < now())
             and (requeued_at is null or requeued_at < now() - make_interval(secs => ?))
           order by created_at limit ? for update skip locked)
         returning id, account_id`,
        [UNSTARTED_SECONDS, REQUEUE_SECONDS, SWEEP_BATCH],
      )) as Array<{ id: string; account_id: string }>;
    for (const r of rows) if (!this.running.has(r.id)) await sendDeployJob(this.d.jobs, { accountId: r.account_id, deploymentId: r.id });
  }

  /** The job handler. A second job for a deployment this replica already runs returns at once (the claim keeps other replicas out). */
  async handle(job: DeployJob): Promise<void> {
    if (this.running.has(job.deploymentId)) return;
    const ac = new AbortController();
    this.running.set(job.deploymentId, ac);
    let renew: NodeJS.Timeout | undefined;
    try {
      const em = forkForAccount(this.d.orm, job.accountId);
      const claim = await this.claim(em, job.accountId, job.deploymentId);
      if (!claim) return;
      renew = setInterval(() => {
        void this.renew(em, job.deploymentId)
          .then((held) => {
            if (!held) ac.abort(new Stopped('claim lost or deployment cancelled'));
          })
          .catch((err) => this.d.logger.warn({ err, deploymentId: job.deploymentId }, 'deployment claim not renewed'));
      }, RENEW_MS);
      await this.execute(job.accountId, job.deploymentId, claim, ac.signal);
    } finally {
      if (renew) clearInterval(renew);
      this.running.delete(job.deploymentId);
    }
  }

  /**
   * Takes the deployment if nobody holds it (or the holder's claim expired): IN_PROGRESS, its
   * deadline set on the first claim, the attempt counted.
   */
  private async claim(em: EntityManager, accountId: string, id: string): Promise<Claim | null> {
    const rows = (await em.getConnection().execute(
      `with prev as (select id, started_at from swarm_deployments where id = ? and account_id = ? for update)
       update swarm_deployments d set worker_owner = ?, worker_expires_at = now() + make_interval(secs => ?), status = 'in_progress', attempts = d.attempts + 1,
         started_at = coalesce(d.started_at, now()), deadline_at = coalesce(d.deadline_at, now() + make_interval(secs => coalesce(d.timeout_seconds, 600)))
       from prev where d.id = prev.id and d.status in ('pending', 'in_progress') and (d.worker_owner is null or d.worker_expires_at < now())
       returning prev.started_at as prev_started, d.attempts, d.deadline_at < now() as late`,
      [id, accountId, this.owner, CLAIM_SECONDS],
    )) as Array<{ prev_started: Date | null; attempts: number; late: boolean }>;
    return rows.length ? { resumed: rows[0].prev_started !== null, attempts: rows[0].attempts, late: rows[0].late } : null;
  }

  /** Renews the claim; false when it is no longer ours or the deployment is no longer in progress (cancelled). */
  private async renew(em: EntityManager, id: string): Promise<boolean> {
    const n = await em
      .getConnection()
      .execute(
        `update swarm_deployments set worker_expires_at = now() + make_interval(secs => ?) where id = ? and worker_owner = ? and status = 'in_progress'`,
        [CLAIM_SECONDS, id, this.owner],
        'run',
      );
    return ((n as { affectedRows?: number }).affectedRows ?? 0) > 0;
  }

  private async execute(accountId: string, id: string, claim: Claim, signal: AbortSignal): Promise<void> {
    const scope = systemScope(this.d.orm, accountId, 'deployments', this.d.logger);
    const em = scope.em;
    const d = await em.findOneOrFail(SwarmDeployment, id, { populate: ['stack', 'cluster', 'specs', 'sealedInputs'] });
    const r = ref(d);
    // a deployment that keeps losing its replica, or is resumed past its deadline, ends here without applying again
    if (claim.attempts > MAX_ATTEMPTS || claim.late)
      return this.finish(em, d, { ok: false, error: `interrupted: ${claim.late ? 'resumed after its deadline' : `${claim.attempts - 1} runs did not finish (the replicas running it stopped)`}` });
    // only while it is still ours and in progress (a cancel may have come in between)
    await em
      .getConnection()
      .execute(
        `update swarm_stacks set status = ?, status_message = null, updated_at = now() where id = ? and exists (select 1 from swarm_deployments where id = ? and status = 'in_progress' and worker_owner = ?)`,
        [d.kind === SwarmDeploymentKind.ROLLBACK ? SwarmStackStatus.ROLLING_BACK : SwarmStackStatus.DEPLOYING, d.stack.id, d.id, this.owner],
        'run',
      );
    await this.d.log.step(
      em,
      r,
      claim.resumed ? 'resume' : 'start',
      null,
      claim.resumed ? `resumed by ${this.owner} (run ${claim.attempts}; the replica that ran it stopped or died)` : `started by ${this.owner}`,
    );
    let outcome: Outcome;
    try {
      const { names, before } = await this.apply(scope, d, signal);
      outcome = await this.converge(scope, d, names, before, signal);
    } catch (err) {
      if (signal.aborted) return this.interrupted(em, d, signal.reason);
      outcome = { ok: false, error: failureText(err) };
    }
    await this.finish(em, d, outcome);
  }

  /** Stopped before the end: a stopping replica releases its claim (another resumes at once); a lost claim or a cancel leaves the row to its new state. */
  private async interrupted(em: EntityManager, d: SwarmDeployment, reason: unknown): Promise<void> {
    if (reason instanceof Stopped && reason.message === 'replica stopping') {
      await em.getConnection().execute(`update swarm_deployments set worker_expires_at = now() - interval '1 second' where id = ? and worker_owner = ?`, [d.id, this.owner], 'run');
      await this.d.log.step(em, ref(d), 'paused', null, `${this.owner} is stopping; another replica resumes the deployment`);
    }
  }

  /**
   * Applies the revision: objects, then services (created, updated, removed when pruned), each an
   * activity and a step. Returns the services' names and the ids of the tasks that existed before
   * (their failures are not this deployment's).
   */
  private async apply(scope: Scope, d: SwarmDeployment, signal: AbortSignal): Promise<{ names: string[]; before: string[] }> {
    const em = scope.em;
    const r = ref(d);
    const inputs = JSON.parse(this.d.secrets.open(d.sealedInputs)) as SealedInputs;
    const stack = withSecretData(d.specs as unknown as ConvertedStack, inputs.secretData);
    const cluster = d.cluster;
    const base = { targetType: 'stack', targetId: stack.name, parameters: { deploymentId: d.id, revision: d.revision } };
    const applied: AppliedStack = { services: { created: [], updated: [] }, networks: [], secrets: [], configs: [], warnings: [] };
    const { result: known } = await this.d.ops.run(scope, cluster, { ...base, action: 'stack.objects' }, (engine) => applyObjects(engine, stack, applied));
    for (const [kind, names] of [
      ['network', applied.networks],
      ['secret', applied.secrets],
      ['config', applied.configs],
    ] as const)
      for (const n of names) await this.d.log.step(em, r, kind, n, `${kind} ${n} created`);
    throwIfStopped(signal);

    const engine = await this.d.ops.engine(scope, cluster);
    const current = new Map<string, ServiceInspect>();
    for (const s of await engine.listServices({ filters: { label: [`${LABEL_NAMESPACE}=${stack.name}`] } })) if (s.Spec?.Name) current.set(s.Spec.Name, s);
    const desired = stack.services.map((s) => pinned(withIds(s, known), d.kind === SwarmDeploymentKind.DEPLOY ? [] : d.images));
    const before = current.size ? (await engine.listTasks({ service: [...current.keys()] })).map((t) => t.ID) : [];
    // the diff is the swarm before the first run: a resumed run keeps it (it would compare with what the first run applied)
    const diff = d.diff ?? stackDiff(new Map([...current].map(([n, s]) => [n, s.Spec ?? {}])), desired, d.prune, await this.previousSpecs(em, d));
    if (!d.diff) {
      await em.nativeUpdate(SwarmDeployment, { id: d.id, diff: null }, { diff });
      await this.d.log.step(em, r, 'diff', null, `${diff.created.length} to create, ${diff.updated.length} to update, ${diff.removed.length} to remove, ${diff.unchanged.length} unchanged`);
    }

    const warnings: string[] = [];
    await eachLimited(desired, SERVICE_CONCURRENCY, async (spec) => {
      throwIfStopped(signal);
      const name = spec.Name!;
      const existing = current.get(name);
      const fields = diff.updated.find((u) => u.service === name)?.fields ?? [];
      const action = existing ? 'service.update' : 'service.create';
      const { result: serviceId } = await this.d.ops.run(scope, cluster, { ...base, action, targetType: 'service', targetId: name }, async (e) => {
        if (!existing) return e.createService(spec);
        // the version of now: the service may have changed since it was listed (a resumed run, a sync)
        const fresh = await e.inspectService(existing.ID);
        warnings.push(...((await e.updateService(existing.ID, fresh.Version?.Index ?? 0, spec)).Warnings ?? []));
        return existing.ID;
      });
      await this.d.log.step(em, r, action, name, existing ? (fields.length ? `updated: ${fields.join(', ')}` : 'updated (no field changed)') : 'created');
      this.d.watchTasks(cluster.id, serviceId);
    });
    await eachLimited(diff.removed, SERVICE_CONCURRENCY, async (name) => {
      throwIfStopped(signal);
      const s = current.get(name);
      if (!s) return; // removed by an earlier run
      await this.d.ops.run(scope, cluster, { ...base, action: 'service.remove', targetType: 'service', targetId: name }, (e) => e.removeService(s.ID));
      await this.d.log.step(em, r, 'service.remove', name, 'removed (not in this revision)');
    });
    const images = d.kind === SwarmDeploymentKind.DEPLOY ? await pinImages(engine, desired) : d.images;
    await em.nativeUpdate(SwarmDeployment, { id: d.id }, { images, warnings: [...new Set([...d.warnings, ...warnings])].slice(0, 200) });
    return { names: desired.map((s) => s.Name!), before };
  }

  /** The specs of the revision the stack ran before this one (so that a field dropped from the file shows in the diff). */
  private async previousSpecs(em: EntityManager, d: SwarmDeployment): Promise<Map<string, EngineServiceSpec> | undefined> {
    const stack = await em.findOneOrFail(SwarmStack, d.stack.id);
    if (!stack.currentDeploymentId || stack.currentDeploymentId === d.id) return undefined;
    const prev = await em.findOne(SwarmDeployment, stack.currentDeploymentId, { populate: ['specs'] });
    const services = (prev?.specs as { services?: EngineServiceSpec[] } | undefined)?.services ?? [];
    return new Map(services.map((s) => [s.Name ?? '', s]));
  }

  /** Reads the services and their tasks every POLL_MS until each converged, one failed, or the deadline passed. */
  private async converge(scope: Scope, d: SwarmDeployment, names: string[], before: string[], signal: AbortSignal): Promise<Outcome> {
    const em = scope.em;
    const r = ref(d);
    const fresh = await em.findOneOrFail(SwarmDeployment, d.id, { refresh: true });
    const deadline = fresh.deadlineAt?.getTime() ?? Date.now() + 600_000;
    await this.d.log.step(em, r, 'converge', null, `waiting for ${names.length} services to converge (deadline ${new Date(deadline).toISOString()})`);
    const memory = taskMemory(before);
    const shown = new Map<string, string>();
    let unreachable = false;
    for (;;) {
      throwIfStopped(signal);
      let verdicts: Map<string, ServiceVerdict>;
      try {
        verdicts = await this.read(scope, d, names, memory);
        unreachable = false;
      } catch (err) {
        if (Date.now() > deadline) return { ok: false, error: `not converged by the deadline; the managers did not answer: ${failureText(err)}` };
        if (!unreachable) await this.d.log.step(em, r, 'manager', null, `reading services failed (retrying): ${failureText(err)}`);
        unreachable = true;
        await sleep(POLL_MS * 2, signal);
        continue;
      }
      const progress: ServiceProgress[] = names.map((service) => ({ service, ...verdicts.get(service)! }));
      for (const p of progress) {
        const summary = `${p.state} ${p.message}`;
        if (shown.get(p.service) === summary) continue;
        shown.set(p.service, summary);
        await this.d.log.step(em, r, 'service.state', p.service, `${p.state}: ${p.message}`, progress);
      }
      const failed = progress.find((p) => p.state === 'failed');
      if (failed) return { ok: false, error: `${failed.service}: ${failed.message}` };
      if (progress.every((p) => p.state === 'converged')) return { ok: true };
      if (Date.now() > deadline) {
        const waiting = progress.filter((p) => p.state !== 'converged').map((p) => `${p.service}: ${p.message}`);
        return { ok: false, error: `not converged within ${fresh.timeoutSeconds ?? '?'} s: ${waiting.join('; ')}` };
      }
      await sleep(POLL_MS, signal);
    }
  }

  /** One read of the stack's services and their tasks (two Docker calls), judged service by service. */
  private async read(scope: Scope, d: SwarmDeployment, names: string[], memory: TaskMemory): Promise<Map<string, ServiceVerdict>> {
    const engine = await this.d.ops.engine(scope, d.cluster);
    const services = new Map<string, ServiceInspect>();
    for (const s of await engine.listServices({ filters: { label: [`${LABEL_NAMESPACE}=${d.stack.name}`] } })) if (s.Spec?.Name) services.set(s.Spec.Name, s);
    const tasks = await engine.listTasks({ service: names });
    const now = Date.now();
    const out = new Map<string, ServiceVerdict>();
    for (const name of names) {
      const s = services.get(name);
      if (!s) {
        out.set(name, { state: 'failed', running: 0, desired: 0, message: 'the service was removed during the deployment' });
        continue;
      }
      out.set(
        name,
        serviceVerdict(
          s,
          tasks.filter((t) => t.ServiceID === s.ID),
          memory,
          now,
        ),
      );
    }
    return out;
  }

  /**
   * Records the end (only while this runner still holds the deployment) and, in the same
   * transaction, the stack's status and the revisions a rollback undid; publishes after commit.
   */
  private async finish(em: EntityManager, d: SwarmDeployment, outcome: Outcome): Promise<void> {
    const status = outcome.ok ? SwarmDeploymentStatus.SUCCEEDED : SwarmDeploymentStatus.FAILED;
    const ended = await em.transactional(async (tx) => {
      const end = await this.d.log.end(
        tx,
        ref(d),
        { status, error: outcome.ok ? null : outcome.error, owner: this.owner },
        outcome.ok ? 'done' : 'failed',
        outcome.ok ? 'every service converged' : outcome.error,
      );
      if (!end) return null;
      if (outcome.ok) {
        await tx.nativeUpdate(SwarmStack, { id: d.stack.id }, { status: SwarmStackStatus.CONVERGED, statusMessage: null, currentDeploymentId: d.id });
        if (d.kind === SwarmDeploymentKind.ROLLBACK && d.sourceRevision)
          await tx.nativeUpdate(
            SwarmDeployment,
            { stack: d.stack.id, revision: { $gt: d.sourceRevision, $lt: d.revision }, status: SwarmDeploymentStatus.SUCCEEDED },
            { status: SwarmDeploymentStatus.ROLLED_BACK },
          );
      } else {
        await tx.nativeUpdate(SwarmStack, { id: d.stack.id }, { status: SwarmStackStatus.FAILED, statusMessage: `revision ${d.revision}: ${outcome.error}`.slice(0, 4000) });
      }
      return end;
    });
    await ended?.publish();
  }
}

/** The spec with its image pinned to the digest the revision recorded (redeploy and rollback run what ran then). */
function pinned(spec: EngineServiceSpec, images: PinnedImage[]): EngineServiceSpec {
  const container = spec.TaskTemplate?.ContainerSpec;
  const pin = images.find((i) => i.service === spec.Name);
  if (!container?.Image || !pin?.digest || container.Image.includes('@')) return spec;
  return { ...spec, TaskTemplate: { ...spec.TaskTemplate, ContainerSpec: { ...container, Image: `${container.Image}@${pin.digest}` } } };
}

/**
 * Each service's image as the manager knows it: the registry digest when the reference carries
 * one or the manager's image has a repo digest for it (a pulled image), else its image ID (an
 * image made or loaded locally; no registry is asked, as with --resolve-image never).
 */
async function pinImages(engine: Engine, specs: EngineServiceSpec[]): Promise<PinnedImage[]> {
  const out: PinnedImage[] = [];
  for (const spec of specs) {
    const image = spec.TaskTemplate?.ContainerSpec?.Image ?? '';
    const at = image.indexOf('@');
    if (at >= 0) {
      out.push({ service: spec.Name ?? '', image, digest: image.slice(at + 1), imageId: null });
      continue;
    }
    const found = await engine.findImage(image).catch(() => null);
    const repo = image.replace(/:[^/:]+$/, '');
    const digest = found?.RepoDigests?.map((d) => d.split('@')).find(([r]) => r === repo)?.[1] ?? null;
    out.push({ service: spec.Name ?? '', image, digest, imageId: found?.Id ?? null });
  }
  return out;
}

/** Runs `fn` on every item, at most `limit` at a time; the first failure is thrown once the running ones have ended (none starts after it). */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.err;
}

function throwIfStopped(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Stopped(String(signal.reason));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
