import { createHash, randomUUID } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import {
  ACTIVE_INSTANCE_STATUSES,
  CallbackAttempt,
  ContainerInstance,
  ContainerInstanceStatus,
  DockerHost,
  HostStatus,
  InstanceEnding,
  InstanceTransition,
  isActiveInstanceStatus,
  SecurityViolation,
  SecurityViolationKind,
  VaultTokenDelivery,
} from '../../../entities';
import { AppError, badInput, conflict, ErrorCode, notFound } from '../../kernel/errors';
import { toGlobalId } from '../../kernel/ids';
import type { Logger } from '../../kernel/logger';
import type { Scope } from '../../kernel/scope';
import { loadReserved } from '../../kernel/operation';
import type { FleetPubSub } from '../../infra/pubsub';
import { toPayload } from '../../infra/pubsub/payload';
import type { SecretBox } from '../../infra/crypto';
import type { JobQueue } from '../../infra/jobs';
import type { VaultPolicyGrants } from './grants';
import type { VaultPort } from '../../infra/vault';
import type { Engine } from '../../infra/engine/port';
import type { ContainerInspect } from '../../infra/engine/types';
import type { StreamName } from '../../infra/engine/logs';
import { utf8Boundary } from '../../infra/engine/framing';
import type { Audit } from '../../platform/audit/activity';
import type { HostAccessGuard } from '../../platform/policy/enforce';
import { containerHostAccess } from '../../platform/policy/host-access';
import { systemScope } from '../../platform/system-scope';
import type { HostService } from '../hosts';
import { CallbackSender, checkCallbackUrl } from './callbacks';
import { QuotaService } from './quotas';
import { createBody, DirectConfig, fromDirect, fromTemplate, INSTANCE_LABEL, InstanceOverrides, MIB, ResolvedRun, TOKEN_FILE, TOKEN_GRACE_SECONDS } from './spec';
import type { TemplateService } from './templates';

/** Pub/sub topic of instance changes; channel id: the account. */
export const INSTANCE_TOPIC = 'containerInstances';
export const TIMEOUT_QUEUE = 'instances.timeout';
export const REAP_QUEUE = 'instances.reap';
export const CALLBACK_QUEUE = 'instances.callback';

export interface InstanceOptions {
  /** Resource sampling and exit detection period of a running instance. */
  sampleIntervalMs: number;
  /** The reaper's period. */
  reapIntervalSeconds: number;
  /** A runner silent this long is gone: the reaper takes its instance over. */
  staleAfterMs: number;
  /** A host unreachable this long while an instance runs ends it FAILED (host lost). */
  hostLostAfterMs: number;
  /** docker stop grace period when fleetgraph stops an instance (timeout, cancel). */
  stopGraceSeconds: number;
  callbackRetryDelaySeconds: number;
  callbackRetryLimit: number;
  /** Callbacks are retried for this long after the instance ended. */
  callbackMaxAgeMs: number;
  /** Characters of stdout and stderr in a callback's body. */
  callbackExcerptChars: number;
  /** A wrap-up claim holds this long unless renewed (its holder renews it every third of it). */
  wrapUpLeaseMs: number;
  /** Policy-refused instances kept per account (older ones are deleted; their audit rows stay). */
  refusedInstancesKept: number;
}

export const DEFAULT_INSTANCE_OPTIONS: InstanceOptions = {
  sampleIntervalMs: 1000,
  reapIntervalSeconds: 15,
  staleAfterMs: 30_000,
  hostLostAfterMs: 60_000,
  stopGraceSeconds: 5,
  callbackRetryDelaySeconds: 30,
  callbackRetryLimit: 7,
  callbackMaxAgeMs: 3600_000,
  callbackExcerptChars: 4096,
  wrapUpLeaseMs: 60_000,
  refusedInstancesKept: 100,
};

export interface RunInput extends InstanceOverrides {
  templateId?: string | null;
  config?: DirectConfig | null;
  hostId?: string | null;
  name?: string | null;
  keepContainer?: boolean | null;
  taskId?: string | null;
  callbackUrl?: string | null;
}

export interface InstancesDeps {
  orm: MikroORM;
  pubsub: FleetPubSub;
  logger: Logger;
  audit: Audit;
  guard: HostAccessGuard;
  hosts: HostService;
  secrets: SecretBox;
  jobs: JobQueue;
  templates: TemplateService;
  quotas: QuotaService;
  grants: VaultPolicyGrants;
  callbacks: CallbackSender;
  /** Absent when Vault is not configured: instances asking for Vault policies then fail with VAULT_ERROR. */
  vault?: VaultPort;
  vaultAddr?: string;
  options: InstanceOptions;
}

const WORKER = 'instances';
const ACTIVE_SQL = ACTIVE_INSTANCE_STATUSES.map((s) => `'${s}'`).join(', ');
const TERMINAL_OF: Record<string, ContainerInstanceStatus> = {
  [InstanceEnding.TIMED_OUT]: ContainerInstanceStatus.TIMED_OUT,
  [InstanceEnding.CANCELLED]: ContainerInstanceStatus.CANCELLED,
};

/** What ends an instance, decided by whoever claimed the ending (stored with the claim, so whoever completes the wrap-up knows it). */
interface Outcome {
  ending: InstanceEnding;
  errorCode?: string;
  error?: string;
}

/** The error code of an instance that ended because its host was lost or removed. */
export const HOST_LOST = 'HOST_LOST';

/**
 * Container instances (runbook: Container Execution Lifecycle): run from a template or a direct
 * configuration, within quota, with a per-instance Vault token, watched while running, ended
 * exactly once with output captured, the container removed and the token revoked, and a signed
 * callback queued.
 *
 * Ending, exactly once: whoever sees a reason first (the runner seeing the exit, the durable
 * timeout job, a cancel, the reaper, a lost host) claims `ending` in one conditional update, and
 * with it the wrap-up claim (`wrap_up_owner`, `wrap_up_until`), renewed while it works. Only the
 * claim's holder writes the final status, in one conditional update (from an active status, by
 * that holder) together with the violations; the audit row, the publish and the callback job
 * follow only that winning update. Anyone else who finds the ending claimed leaves it to the
 * holder; the reaper takes over only a claim past its expiry (a holder that died).
 */
export class InstanceService {
  /** Background work of this replica (provisioning and watching), awaited on stop. */
  private readonly running = new Map<string, Promise<void>>();
  private stopping = false;

  constructor(private readonly d: InstancesDeps) {}

  // ------------------------------------------------------------------------------ queries

  async get(scope: Scope, id: string): Promise<ContainerInstance> {
    const row = await scope.em.findOne(ContainerInstance, id);
    if (!row) throw notFound('ContainerInstance', toGlobalId('ContainerInstance', id));
    return row;
  }

  violations(em: EntityManager, instanceId: string): Promise<SecurityViolation[]> {
    return em.find(SecurityViolation, { instance: instanceId }, { orderBy: { detectedAt: 'asc', id: 'asc' } });
  }

  callbackAttempts(em: EntityManager, instanceId: string): Promise<CallbackAttempt[]> {
    return em.find(CallbackAttempt, { instance: instanceId }, { orderBy: { attempt: 'asc' } });
  }

  // ------------------------------------------------------------------------------ run

  /**
   * Checks the request, the host-access policy (with the caller's permissions) and the quota,
   * stores the instance PENDING and starts provisioning it in the background. A spec the policy
   * refuses is recorded as a FAILED instance with a POLICY_REFUSED violation and not run.
   */
  async run(scope: Scope, input: RunInput) {
    if ((input.templateId == null) === (input.config == null)) throw badInput('templateId', 'give either templateId or config');
    const template = input.templateId ? await this.d.templates.get(scope, input.templateId) : null;
    const resolved: ResolvedRun = template ? fromTemplate(template, input) : fromDirect(input.config!);
    // at every run: the operator may have withdrawn a policy since the template was saved
    await this.d.grants.check(scope, resolved.spec.vaultPolicies, template ? 'templateId' : 'config.vaultPolicies');
    if (input.taskId != null && (input.taskId.length === 0 || input.taskId.length > 200)) throw badInput('taskId', '1–200 characters');
    if (input.callbackUrl != null) {
      const url = checkCallbackUrl(input.callbackUrl);
      await this.d.callbacks.resolveAllowed(url);
      const settings = await this.d.quotas.settings(scope.em, scope.accountId);
      await scope.em.populate(settings, ['callbackSecretSealed']);
      if (!settings.callbackSecretSealed) throw badInput('callbackUrl', 'set the account callback secret first (rotateInstanceCallbackSecret)');
    }
    const host = input.hostId ? await this.d.hosts.get(scope, input.hostId) : await this.pickHost(scope, resolved.memoryMb);

    const instance = new ContainerInstance();
    instance.account = scope.accountId as never;
    instance.name = input.name ? input.name.slice(0, 100) : `${template?.name ?? 'instance'}-${instance.id.slice(0, 8)}`;
    instance.template = template;
    instance.templateVersion = template?.version ?? null;
    instance.host = host;
    instance.spec = resolved.spec;
    instance.memoryMb = resolved.memoryMb;
    instance.cpuMillicores = resolved.cpuMillicores;
    instance.timeoutSeconds = resolved.timeoutSeconds;
    instance.keepContainer = input.keepContainer ?? false;
    instance.taskId = input.taskId ?? null;
    instance.callbackUrl = input.callbackUrl ?? null;
    instance.transitions = [transition(ContainerInstanceStatus.PENDING)];
    // the secrets of the version this run is accepted with, not of whatever the template says when it provisions
    instance.secretEnvSealed = template ? await this.d.templates.sealedSecretEnv(scope, template) : null;

    const spec = { action: 'instance.run', targetType: 'containerInstance', targetId: instance.globalId, host, parameters: { ...input, template: template?.name } };
    const refused = await this.policyRefusal(scope, host, instance);
    if (refused) return this.refuse(scope, instance, refused, spec);

    // a refusal (QUOTA_EXCEEDED) stores nothing but the account's refusal counter: refused runs
    // must not grow the database without bound; an admitted run is audited
    await this.d.quotas.admit(scope.em, scope.accountId, instance, template);
    const { activity } = await this.d.audit.run(scope, spec, async () => undefined);
    await this.publish(scope.log, instance);
    this.track(instance.id, this.provision(scope.accountId, instance.id));
    return { instance, activity };
  }

  /** FORBIDDEN from the policy (spec or engine objects) as a value, or null when allowed. */
  private async policyRefusal(scope: Scope, host: DockerHost, instance: ContainerInstance): Promise<AppError | null> {
    const body = createBody({
      instanceId: instance.id,
      accountId: scope.accountId,
      name: 'policy-check',
      spec: instance.spec,
      memoryMb: instance.memoryMb,
      cpuMillicores: instance.cpuMillicores,
      secretEnv: [],
      image: { entrypoint: null, cmd: ['true'] },
      withToken: instance.spec.vaultPolicies.length > 0,
    });
    const access = containerHostAccess(body);
    try {
      this.d.guard.check(scope, access);
      if (instance.spec.network) {
        const engine = await this.d.hosts.engine(scope, host);
        await this.d.guard.checkEngineObjects(scope, engine, access);
      }
      return null;
    } catch (err) {
      if (err instanceof AppError && err.code === ErrorCode.FORBIDDEN) return err;
      throw err;
    }
  }

  /** Records a refused spec: the instance FAILED (never run) with a POLICY_REFUSED violation. */
  private async refuse(scope: Scope, instance: ContainerInstance, err: AppError, spec: { action: string; targetType: string; targetId: string; host: DockerHost; parameters: object }) {
    const now = new Date();
    instance.status = ContainerInstanceStatus.FAILED;
    instance.errorCode = ErrorCode.FORBIDDEN;
    instance.error = err.message;
    instance.endedAt = now;
    instance.hasSecurityViolations = true;
    instance.secretEnvSealed = null;
    instance.transitions.push(transition(ContainerInstanceStatus.FAILED, now));
    const violation = scope.em.create(SecurityViolation, {
      account: scope.accountId,
      instance,
      kind: SecurityViolationKind.POLICY_REFUSED,
      details: { reasons: err.extensions.reasons ?? [err.message], permission: err.extensions.permission },
      detectedAt: now,
    } as never);
    scope.em.persist([instance, violation]);
    await scope.em.flush();
    const { activity } = await this.d.audit.run(scope, { ...spec, action: 'instance.refused', parameters: { ...spec.parameters, reasons: err.extensions.reasons } }, async () => undefined);
    await this.pruneRefused(scope);
    await this.publish(scope.log, instance);
    return { instance, activity };
  }

  /**
   * Keeps the newest `refusedInstancesKept` policy-refused instances of the account and deletes
   * older ones (with their violations): a caller repeating a refused spec must not grow the
   * table without bound. Their audit rows (instance.refused) stay.
   */
  private async pruneRefused(scope: Scope): Promise<void> {
    await scope.em
      .getConnection()
      .execute(
        `delete from container_instances where id in (select id from container_instances where account_id = ? and status = 'failed' and error_code = ? and provisioning_at is null
          order by created_at desc, id desc offset ?)`,
        [scope.accountId, ErrorCode.FORBIDDEN, this.d.options.refusedInstancesKept],
      )
      .catch((err) => scope.log.warn({ err }, 'refused instances not pruned'));
  }

  /** A CONNECTED host of the account with room for `memoryMb`: the one with the most free memory (its memory minus what active instances hold). */
  private async pickHost(scope: Scope, memoryMb: number): Promise<DockerHost> {
    const hosts = await scope.em.find(DockerHost, { status: HostStatus.CONNECTED });
    if (hosts.length === 0) throw conflict('No connected Docker host to run on: give hostId or connect a host', { field: 'hostId' });
    const rows = await scope.em
      .getConnection()
      .execute<Array<{ host_id: string; mem: number }>>(
        `select host_id, coalesce(sum(memory_mb), 0)::int as mem from container_instances where account_id = ? and status in (${ACTIVE_SQL}) and host_id is not null group by host_id`,
        [scope.accountId],
      );
    const held = new Map(rows.map((r) => [r.host_id, r.mem]));
    const free = (h: DockerHost) => Number(h.memoryBytes ?? 0) / MIB - (held.get(h.id) ?? 0);
    const fitting = hosts.filter((h) => free(h) >= memoryMb).sort((a, b) => free(b) - free(a));
    if (fitting.length === 0) throw conflict(`No connected host has ${memoryMb} MiB free for this instance`, { field: 'memoryMb' });
    return fitting[0];
  }

  // ------------------------------------------------------------------------------ provisioning

  /** PENDING → PROVISIONING → (token, container, start) → RUNNING, then watch; any failure ends it FAILED without leftovers. */
  private async provision(accountId: string, id: string): Promise<void> {
    const scope = this.scope(accountId);
    let instance: ContainerInstance | null = null;
    try {
      if (!(await this.advance(scope, id, ContainerInstanceStatus.PENDING, ContainerInstanceStatus.PROVISIONING, { provisioningAt: new Date() }))) return this.wrapUpClaimed(accountId, id);
      instance = await scope.em.findOneOrFail(ContainerInstance, id, { populate: ['host', 'template', 'secretEnvSealed'] });
      await this.publish(scope.log, instance);
      await this.auditTransition(scope, instance, 'instance.provisioning');
      if (!instance.host) {
        if (!(await this.end(accountId, id, { ending: InstanceEnding.HOST_LOST, errorCode: HOST_LOST, error: 'Its host was removed before the instance started' })))
          await this.wrapUpClaimed(accountId, id);
        return;
      }

      let token: string | undefined;
      if (instance.spec.vaultPolicies.length > 0) {
        const issued = await this.issueToken(scope, instance);
        if (!issued) return;
        token = issued;
      }
      if (await this.claimed(scope, id)) return this.wrapUpClaimed(accountId, id);

      const engine = await this.d.hosts.engine(scope, instance.host!);
      const image = await engine.findImage(instance.spec.image);
      if (!image) throw new AppError(ErrorCode.DOCKER_ERROR, `Docker: the image ${instance.spec.image} is not on the host ${instance.host!.name} (pull it first)`);
      // the secrets of the template version the run was accepted with (sealed on the instance)
      const secretEnv = this.d.templates.openSecretEnv(instance.secretEnvSealed);
      const body = createBody({
        instanceId: instance.id,
        accountId,
        name: `fg-instance-${instance.id}`,
        spec: instance.spec,
        memoryMb: instance.memoryMb,
        cpuMillicores: instance.cpuMillicores,
        secretEnv,
        image: { entrypoint: argv(image.Config?.Entrypoint), cmd: argv(image.Config?.Cmd) },
        envToken: instance.spec.tokenDelivery === VaultTokenDelivery.ENV ? token : undefined,
        withToken: token !== undefined,
        vaultAddr: this.d.vaultAddr,
      });
      const containerId = await engine.createContainer(body);
      await scope.em.nativeUpdate(ContainerInstance, { id }, { containerId, heartbeatAt: new Date() });
      instance.containerId = containerId;
      if (await this.claimed(scope, id)) return this.wrapUpClaimed(accountId, id);
      await engine.startContainer(containerId);
      if (token !== undefined && instance.spec.tokenDelivery === VaultTokenDelivery.TMPFS_FILE) await this.writeTokenFile(engine, containerId, token);
      token = undefined;

      const startedAt = new Date();
      const deadline = new Date(startedAt.getTime() + instance.timeoutSeconds * 1000);
      if (!(await this.advance(scope, id, ContainerInstanceStatus.PROVISIONING, ContainerInstanceStatus.RUNNING, { startedAt, deadline }))) return this.wrapUpClaimed(accountId, id);
      // the reaper also ends instances well past their deadline, should this job be lost (a replica stopping right now)
      await this.d.jobs
        .send(TIMEOUT_QUEUE, { accountId, instanceId: id }, { id, startAfter: deadline, retryLimit: 10, retryDelay: 5 })
        .catch((err) => scope.log.warn({ err, instance: id }, 'timeout job not queued'));
      scope.em.clear();
      instance = await scope.em.findOneOrFail(ContainerInstance, id, { populate: ['host'] });
      await this.publish(scope.log, instance);
      await this.auditTransition(scope, instance, 'instance.running');
      await this.watch(accountId, id);
    } catch (err) {
      const e = err instanceof AppError ? err : new AppError(ErrorCode.INTERNAL_SERVER_ERROR, 'Internal error while provisioning');
      if (!(err instanceof AppError)) scope.log.error({ err, instance: id }, 'instance provisioning failed unexpectedly');
      if (!(await this.end(accountId, id, { ending: InstanceEnding.PROVISIONING_FAILED, errorCode: String(e.extensions.code), error: e.message }))) await this.wrapUpClaimed(accountId, id);
    }
  }

  /**
   * The instance's Vault token: the template's policies, ttl = timeout + grace, the same
   * explicit max, not renewable, metadata naming the instance; only the accessor is stored.
   * Vault unreachable or refusing ends the instance FAILED with VAULT_ERROR (returns null).
   */
  private async issueToken(scope: Scope, instance: ContainerInstance): Promise<string | null> {
    const ttl = instance.timeoutSeconds + TOKEN_GRACE_SECONDS;
    let issued: { token: string; accessor: string };
    try {
      if (!this.d.vault) throw new AppError(ErrorCode.VAULT_ERROR, 'Vault is not configured (VAULT_ADDR): this instance asks for Vault policies', { reason: 'not configured' });
      issued = await this.d.vault.createInstanceToken({
        policies: instance.spec.vaultPolicies,
        ttlSeconds: ttl,
        explicitMaxTtlSeconds: ttl,
        meta: { fleetgraph_instance: instance.id, fleetgraph_account: scope.accountId, fleetgraph_instance_name: instance.name },
        displayName: 'fleetgraph-instance',
      });
    } catch (err) {
      const e = err instanceof AppError ? err : new AppError(ErrorCode.VAULT_ERROR, 'Vault token issuance failed', { reason: 'unexpected error' });
      if (!(await this.end(scope.accountId, instance.id, { ending: InstanceEnding.PROVISIONING_FAILED, errorCode: ErrorCode.VAULT_ERROR, error: e.message })))
        await this.wrapUpClaimed(scope.accountId, instance.id);
      return null;
    }
    await this.storeAccessor(scope, instance, issued.accessor);
    return issued.token;
  }

  /**
   * Stores a new token's accessor right after Vault made it, or revokes the token. The accessor
   * is the only handle fleetgraph has on the token: a token whose accessor is not stored could
   * never be revoked by an ending, the reaper or cleanupVaultToken. So a failed write (the
   * database away, the row gone) revokes the token at once, by the accessor still in memory, and
   * fails the provisioning. (A process killed exactly between Vault's answer and this write is
   * the one case left: that token dies at its TTL, timeout + grace, as it is not renewable.)
   */
  private async storeAccessor(scope: Scope, instance: ContainerInstance, accessor: string): Promise<void> {
    try {
      const rows = await scope.em
        .getConnection()
        .execute<Array<{ id: string }>>('update container_instances set vault_token_accessor = ?, vault_token_issued_at = now(), heartbeat_at = now() where id = ? returning id', [
          accessor,
          instance.id,
        ]);
      if (rows.length !== 1) throw new AppError(ErrorCode.NOT_FOUND, 'The instance is gone');
      instance.vaultTokenAccessor = accessor;
    } catch (err) {
      await this.d
        .vault!.revokeAccessor(accessor)
        .catch((revokeErr) => scope.log.error({ err: revokeErr instanceof AppError ? revokeErr.message : 'error', instance: instance.id }, 'unstored Vault token not revoked: it dies at its TTL'));
      throw err instanceof AppError ? err : new AppError(ErrorCode.INTERNAL_SERVER_ERROR, 'The Vault token could not be recorded: it was revoked');
    }
  }

  /**
   * TMPFS_FILE delivery: an exec writes the token (passed in the exec's environment, which
   * docker inspect does not show) to the tmpfs file the wrapper waits for; atomically, mode 0600.
   */
  private async writeTokenFile(engine: Engine, containerId: string, token: string): Promise<void> {
    const script = `umask 077 && printf %s "$FLEETGRAPH_TOKEN" > ${TOKEN_FILE}.tmp && mv ${TOKEN_FILE}.tmp ${TOKEN_FILE}`;
    const { exitCode } = await engine.exec(containerId, { Cmd: ['/bin/sh', '-c', script], Env: [`FLEETGRAPH_TOKEN=${token}`], AttachStdout: true, AttachStderr: true, Tty: false }, (stream) =>
      drain(stream, TOKEN_WRITE_TIMEOUT_MS),
    );
    if (exitCode !== 0) throw new AppError(ErrorCode.DOCKER_ERROR, `Could not write the Vault token file in the container (exit code ${exitCode}); TMPFS_FILE delivery needs /bin/sh in the image`);
  }

  // ------------------------------------------------------------------------------ watching

  /**
   * Samples a running instance until it ends: Docker's stats (memory peak and last, CPU from
   * two consecutive samples, block I/O, network), a heartbeat the reaper reads, and its state;
   * an exit claims the ending. Stops quietly when another party claimed the ending or the
   * replica stops (the reaper of a live replica takes over then).
   */
  private async watch(accountId: string, id: string): Promise<void> {
    const scope = this.scope(accountId);
    let previous: { cpuNs: number; at: number } | null = null;
    let unreachableSince: number | null = null;
    while (!this.stopping) {
      scope.em.clear();
      const row = await scope.em.findOne(ContainerInstance, id, { populate: ['host'] });
      if (!row || row.status !== ContainerInstanceStatus.RUNNING || row.ending || !row.containerId) return;
      if (!row.host) {
        // the host was removed (its row is gone, the instance's host_id set null): nothing can reach the container any more
        await this.end(accountId, id, { ending: InstanceEnding.HOST_LOST, errorCode: HOST_LOST, error: hostGone(row, 'was removed') });
        return;
      }
      try {
        const engine = await this.d.hosts.engine(scope, row.host);
        const info = await engine.findContainer(row.containerId);
        unreachableSince = null;
        if (!info || !info.State?.Running) {
          await this.end(accountId, id, { ending: InstanceEnding.EXITED, ...(info ? {} : { errorCode: ErrorCode.DOCKER_ERROR, error: 'The container disappeared while running' }) });
          return;
        }
        previous = await this.sample(scope, engine, row, previous).catch(async () => {
          await scope.em.nativeUpdate(ContainerInstance, { id }, { heartbeatAt: new Date() });
          return previous;
        });
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== ErrorCode.DOCKER_UNREACHABLE) scope.log.warn({ err, instance: id }, 'instance watch');
        unreachableSince ??= Date.now();
        await scope.em.nativeUpdate(ContainerInstance, { id }, { heartbeatAt: new Date() });
        if (Date.now() - unreachableSince > this.d.options.hostLostAfterMs) {
          const lostFor = Math.round((Date.now() - unreachableSince) / 1000);
          await this.end(accountId, id, { ending: InstanceEnding.HOST_LOST, errorCode: HOST_LOST, error: hostGone(row, `${row.host.name} was unreachable for ${lostFor} s`) });
          return;
        }
      }
      await sleep(this.d.options.sampleIntervalMs);
    }
  }

  /** One resource sample stored on the instance (and its heartbeat). */
  private async sample(scope: Scope, engine: Engine, row: ContainerInstance, previous: { cpuNs: number; at: number } | null): Promise<{ cpuNs: number; at: number } | null> {
    const s = await engine.containerStats(row.containerId!);
    const now = Date.now();
    const usage = Number(s.memory_stats?.usage ?? 0);
    const cache = Number((s.memory_stats?.stats as Record<string, number> | undefined)?.inactive_file ?? (s.memory_stats?.stats as Record<string, number> | undefined)?.cache ?? 0);
    const memMb = Math.max(0, usage - cache) / MIB;
    const cpuNs = Number(s.cpu_stats?.cpu_usage?.total_usage ?? 0);
    const cpu = previous && now > previous.at ? Math.max(0, ((cpuNs - previous.cpuNs) / ((now - previous.at) * 1e6)) * 1000) : null;
    let rx = 0;
    let tx = 0;
    for (const n of Object.values(s.networks ?? {})) {
      rx += Number((n as { rx_bytes?: number }).rx_bytes ?? 0);
      tx += Number((n as { tx_bytes?: number }).tx_bytes ?? 0);
    }
    const written = (s.blkio_stats?.io_service_bytes_recursive ?? []).filter((e) => /write/i.test(e.op)).reduce((a, e) => a + Number(e.value), 0);
    await scope.em.getConnection().execute(
      `update container_instances set memory_used_mb = greatest(coalesce(memory_used_mb, 0), ?), memory_used_mb_last = ?, cpu_used_millicores = coalesce(?, cpu_used_millicores),
         storage_used_bytes = ?, network_bytes_in = ?, network_bytes_out = ?, samples = samples + 1, sampled_at = now(), heartbeat_at = now() where id = ?`,
      [memMb, memMb, cpu, written, rx, tx, row.id],
    );
    return { cpuNs, at: now };
  }

  // ------------------------------------------------------------------------------ ending

  /**
   * Claims the ending and the wrap-up in one conditional update (from an active status, while
   * nobody claimed an ending) and wraps up; false when someone else ended or is ending it.
   */
  private async end(accountId: string, id: string, outcome: Outcome): Promise<boolean> {
    const scope = this.scope(accountId);
    const owner = randomUUID();
    const claimed = await scope.em.getConnection().execute<Array<{ id: string }>>(
      `update container_instances set ending = ?, error_code = coalesce(?, error_code), error = coalesce(?, error), wrap_up_owner = ?, wrap_up_until = now() + (? * interval '1 millisecond')
        where id = ? and ending is null and status in (${ACTIVE_SQL}) returning id`,
      [outcome.ending, outcome.errorCode ?? null, outcome.error ?? null, owner, this.d.options.wrapUpLeaseMs, id],
    );
    if (claimed.length === 0) return false;
    await this.wrapUp(accountId, id, owner);
    return true;
  }

  /**
   * Takes the wrap-up of an instance whose ending is claimed, if nobody holds it (or its holder's
   * claim expired: it died) and wraps up; false when another party holds it or it ended.
   */
  private async takeWrapUp(accountId: string, id: string): Promise<boolean> {
    const owner = randomUUID();
    const taken = await this.scope(accountId)
      .em.getConnection()
      .execute<Array<{ id: string }>>(
        `update container_instances set wrap_up_owner = ?, wrap_up_until = now() + (? * interval '1 millisecond')
          where id = ? and ending is not null and status in (${ACTIVE_SQL}) and (wrap_up_until is null or wrap_up_until < now()) returning id`,
        [owner, this.d.options.wrapUpLeaseMs, id],
      );
    if (taken.length === 0) return false;
    await this.wrapUp(accountId, id, owner);
    return true;
  }

  /**
   * The runner found the ending claimed by someone else while provisioning. It wraps up when
   * nobody does; when another party is wrapping up, it waits (bounded by that claim's expiry)
   * for the end and then removes what it made meanwhile (a container created, a token stored
   * after that wrap-up looked), which that wrap-up could not see.
   */
  private async wrapUpClaimed(accountId: string, id: string): Promise<void> {
    const scope = this.scope(accountId);
    const giveUpAt = Date.now() + this.d.options.wrapUpLeaseMs * 3;
    for (;;) {
      if (await this.takeWrapUp(accountId, id)) return;
      scope.em.clear();
      const row = await scope.em.findOne(ContainerInstance, id, { populate: ['host'] });
      if (!row) return;
      if (!isActiveInstanceStatus(row.status)) return this.removeLeftovers(scope, row);
      if (this.stopping || Date.now() > giveUpAt) return;
      await sleep(250);
    }
  }

  /** Removes the container and revokes the token of an instance that has already ended (idempotent). */
  private async removeLeftovers(scope: Scope, row: ContainerInstance): Promise<void> {
    if (row.host) {
      try {
        const engine = await this.d.hosts.engine(scope, row.host);
        const containerId = row.containerId ?? (await this.findByLabel(engine, row.id));
        if (containerId && !row.keepContainer) await engine.removeContainer(containerId, { force: true, removeVolumes: true });
      } catch (err) {
        scope.log.warn({ err, instance: row.id }, 'leftover container of an ended instance not removed');
      }
    }
    const revoked = await this.revokeToken(scope, row);
    if (revoked) await scope.em.nativeUpdate(ContainerInstance, { id: row.id }, revoked);
  }

  private async claimed(scope: Scope, id: string): Promise<boolean> {
    const [row] = await scope.em.getConnection().execute<Array<{ ending: string | null }>>('select ending from container_instances where id = ?', [id]);
    return row?.ending != null;
  }

  /**
   * The one way an instance ends, run by the holder of its wrap-up claim (`owner`): stop the
   * container (timeout, cancel), read its state and output, remove it (unless kept), revoke the
   * token, then the final status in one conditional update with the violations. The claim is
   * renewed while this runs. Only when that update wins (the instance was still active and the
   * claim still ours) are the audit row, the publish and the callback job made: a wrap-up that
   * lost its claim (it took longer than the lease and the reaper took over) leaves those to the
   * winner, and its container removal and token revocation were idempotent.
   */
  private async wrapUp(accountId: string, id: string, owner: string): Promise<void> {
    const scope = this.scope(accountId);
    const renew = setInterval(
      () => {
        scope.em
          .getConnection()
          .execute(`update container_instances set wrap_up_until = now() + (? * interval '1 millisecond') where id = ? and wrap_up_owner = ?`, [this.d.options.wrapUpLeaseMs, id, owner])
          .catch(() => undefined);
      },
      Math.max(100, Math.floor(this.d.options.wrapUpLeaseMs / 3)),
    );
    renew.unref();
    try {
      await this.wrapUpOwned(scope, accountId, id, owner);
    } finally {
      clearInterval(renew);
    }
  }

  private async wrapUpOwned(scope: Scope, accountId: string, id: string, owner: string): Promise<void> {
    const row = await scope.em.findOneOrFail(ContainerInstance, id, { populate: ['host'] });
    const ending = row.ending ?? InstanceEnding.ORPHANED;
    const violations: Array<{ kind: SecurityViolationKind; details: Record<string, unknown> }> = [];
    let state: ContainerInspect['State'] | null = null;
    let errorCode = row.errorCode ?? null;
    let error = row.error ?? null;
    let output: CapturedOutput | null = null;
    let containerId = row.containerId ?? null;

    if (row.host) {
      try {
        const engine = await this.d.hosts.engine(scope, row.host);
        containerId ??= await this.findByLabel(engine, id);
        if (containerId) {
          if (ending === InstanceEnding.TIMED_OUT || ending === InstanceEnding.CANCELLED || ending === InstanceEnding.PROVISIONING_FAILED) {
            await engine.stopContainer(containerId, this.d.options.stopGraceSeconds, AbortSignal.timeout((this.d.options.stopGraceSeconds + 30) * 1000)).catch(() => undefined);
          }
          const info = await engine.findContainer(containerId);
          state = info?.State ?? null;
          if (info) {
            output = await captureOutput(engine, containerId, row.spec.outputLimitBytes, AbortSignal.timeout(OUTPUT_CAPTURE_MS)).catch((err) => {
              scope.log.warn({ err, instance: id }, 'instance output capture failed');
              return null;
            });
            if (!row.keepContainer)
              await engine.removeContainer(containerId, { force: true, removeVolumes: true }).catch((err) => scope.log.warn({ err, instance: id }, 'instance container removal failed'));
          }
        }
      } catch (err) {
        scope.log.warn({ err, instance: id }, 'instance wrap-up could not reach the host');
        if (ending === InstanceEnding.ORPHANED || ending === InstanceEnding.HOST_LOST) {
          errorCode ??= HOST_LOST;
          error ??= 'The host could not be reached to end the instance';
        }
      }
    }

    let status: ContainerInstanceStatus;
    if (TERMINAL_OF[ending]) status = TERMINAL_OF[ending];
    else if (ending === InstanceEnding.EXITED || (ending === InstanceEnding.ORPHANED && state && !state.Running)) {
      status = !errorCode && state && state.ExitCode === 0 && !state.OOMKilled ? ContainerInstanceStatus.COMPLETED : ContainerInstanceStatus.FAILED;
    } else status = ContainerInstanceStatus.FAILED;
    if (ending === InstanceEnding.ORPHANED && !errorCode && status === ContainerInstanceStatus.FAILED && !(state && !state.Running)) {
      errorCode = ErrorCode.INTERNAL_SERVER_ERROR;
      error = 'The replica running this instance stopped before it was running';
    }
    let exitCode: number | null = null;
    if (state) {
      exitCode = typeof state.ExitCode === 'number' ? state.ExitCode : null;
      if (state.OOMKilled) {
        violations.push({ kind: SecurityViolationKind.OOM_KILLED, details: { memoryLimitMb: row.memoryMb, memoryUsedMb: row.memoryUsedMb ?? null, exitCode: state.ExitCode } });
        if (status === ContainerInstanceStatus.FAILED) {
          errorCode ??= 'OOM_KILLED';
          error ??= `Killed for exceeding its memory limit of ${row.memoryMb} MiB`;
        }
      } else if (ending === InstanceEnding.EXITED && state.ExitCode > 128 && state.ExitCode < 160) {
        violations.push({ kind: SecurityViolationKind.KILLED_BY_SIGNAL, details: { signal: state.ExitCode - 128, exitCode: state.ExitCode } });
      }
      if (status === ContainerInstanceStatus.FAILED && !errorCode && ending === InstanceEnding.EXITED) {
        errorCode = 'NONZERO_EXIT';
        error = `Exited with code ${state.ExitCode}`;
      }
    }
    if (ending === InstanceEnding.TIMED_OUT) violations.push({ kind: SecurityViolationKind.TIMEOUT, details: { timeoutSeconds: row.timeoutSeconds, deadline: row.deadline?.toISOString() ?? null } });

    const revoked = await this.revokeToken(scope, row);
    const now = new Date();
    const won = await this.commitEnding(scope, accountId, row, owner, {
      status,
      now,
      errorCode,
      error,
      exitCode,
      containerId,
      output,
      revoked,
      violations,
    });
    if (!won) {
      scope.log.info({ instance: id }, 'instance wrap-up lost its claim: the final status was written by another party');
      return;
    }

    scope.em.clear();
    const ended = await scope.em.findOneOrFail(ContainerInstance, id, { populate: ['host'] });
    await this.publish(scope.log, ended, output);
    await this.auditTransition(scope, ended, `instance.${status}`, { exitCode, errorCode, violations: violations.map((v) => v.kind) });
    if (ending !== InstanceEnding.TIMED_OUT) await this.d.jobs.cancel(TIMEOUT_QUEUE, id).catch(() => undefined);
    if (ended.callbackUrl) {
      // a stable job id: whatever happens, one callback job per instance
      await this.d.jobs
        .send(
          CALLBACK_QUEUE,
          { accountId, instanceId: id },
          { id: callbackJobId(id), retryLimit: this.d.options.callbackRetryLimit, retryDelay: this.d.options.callbackRetryDelaySeconds, retryBackoff: true },
        )
        .catch((err) => scope.log.error({ err, instance: id }, 'callback could not be queued'));
    }
  }

  /**
   * The final transition: one conditional update (still active, our wrap-up claim) with the
   * violations, in one transaction. True when it won; false when the instance had ended already
   * or the claim is no longer ours (nothing written then).
   */
  private async commitEnding(scope: Scope, accountId: string, row: ContainerInstance, owner: string, f: FinalState): Promise<boolean> {
    return scope.em.transactional(async (tx) => {
      const ctx = tx.getTransactionContext();
      const params: unknown[] = [
        f.status,
        f.now,
        f.errorCode,
        f.error,
        f.exitCode,
        f.containerId,
        JSON.stringify([transition(f.status, f.now)]),
        f.violations.length > 0,
        row.callbackUrl ? 'PENDING' : null,
        f.output?.stdout ?? null,
        f.output?.stderr ?? null,
        f.output?.stdoutDroppedBytes ?? 0,
        f.output?.stderrDroppedBytes ?? 0,
        f.revoked?.vaultTokenRevokedAt ?? null,
        f.revoked?.vaultRevokePending ?? false,
        row.id,
        owner,
      ];
      const won = await tx.getConnection().execute<Array<{ id: string }>>(
        `update container_instances set status = ?, ended_at = ?, error_code = ?, error = ?, exit_code = ?, container_id = ?, transitions = transitions || ?::jsonb,
            has_security_violations = has_security_violations or ?, callback_status = ?, stdout = ?, stderr = ?, stdout_dropped_bytes = ?, stderr_dropped_bytes = ?,
            vault_token_revoked_at = coalesce(vault_token_revoked_at, ?), vault_revoke_pending = ?, secret_env_sealed = null, wrap_up_owner = null, wrap_up_until = null, updated_at = now()
          where id = ? and status in (${ACTIVE_SQL}) and wrap_up_owner = ? returning id`,
        params,
        'all',
        ctx,
      );
      if (won.length !== 1) return false;
      for (const v of f.violations) tx.persist(tx.create(SecurityViolation, { account: accountId, instance: row.id, kind: v.kind, details: v.details, detectedAt: f.now } as never));
      await tx.flush();
      return true;
    });
  }

  /** A container labelled with the instance (the runner died between create and storing its id). */
  private async findByLabel(engine: Engine, id: string): Promise<string | null> {
    const all = await engine.listContainers();
    return all.find((c) => c.Labels?.[INSTANCE_LABEL] === id)?.Id ?? null;
  }

  /**
   * Revokes the instance's token by accessor (idempotent); what to store: revoked now, or
   * (Vault away) pending for the reaper. Null when there is nothing to revoke.
   */
  private async revokeToken(scope: Scope, row: ContainerInstance): Promise<{ vaultTokenRevokedAt: Date | null; vaultRevokePending: boolean } | null> {
    if (!row.vaultTokenAccessor || row.vaultTokenRevokedAt) return null;
    try {
      if (!this.d.vault) throw new Error('Vault is not configured');
      await this.d.vault.revokeAccessor(row.vaultTokenAccessor);
      return { vaultTokenRevokedAt: new Date(), vaultRevokePending: false };
    } catch (err) {
      scope.log.warn({ err: err instanceof AppError ? err.message : 'error', instance: row.id }, 'Vault token revocation failed: the reaper retries');
      return { vaultTokenRevokedAt: null, vaultRevokePending: true };
    }
  }

  // ------------------------------------------------------------------------------ operator actions

  /**
   * Stops an active instance (CANCELLED); CONFLICT when it ended or another party (the timeout,
   * the runner seeing the exit) is ending it. A running instance is wrapped up here; one this
   * replica is still provisioning is wrapped up by its runner (which sees the claim), awaited.
   */
  async cancel(scope: Scope, id: string) {
    const row = await this.get(scope, id);
    if (!isActiveInstanceStatus(row.status)) throw conflict(`The instance ended already (${row.status.toUpperCase()})`);
    const { activity } = await this.d.audit.run(scope, { action: 'instance.cancel', targetType: 'containerInstance', targetId: row.globalId, host: row.host ?? null }, async () => {
      // the ending and (unless this replica's runner is still provisioning it: it wraps up itself) the wrap-up, in one statement
      const owner = randomUUID();
      const provisioningHere = this.running.has(id);
      const claimed = await scope.em.getConnection().execute<Array<{ status: string; wrap_up_owner: string | null }>>(
        `update container_instances set ending = ?,
            wrap_up_owner = case when status = 'running' or not ? then ? else wrap_up_owner end,
            wrap_up_until = case when status = 'running' or not ? then now() + (? * interval '1 millisecond') else wrap_up_until end
          where id = ? and ending is null and status in (${ACTIVE_SQL}) returning status, wrap_up_owner`,
        [InstanceEnding.CANCELLED, provisioningHere, owner, provisioningHere, this.d.options.wrapUpLeaseMs, id],
      );
      if (claimed.length === 0) throw conflict('The instance is ending already');
      if (claimed[0].wrap_up_owner === owner) await this.wrapUp(scope.accountId, id, owner);
      else await this.running.get(id)?.catch(() => undefined);
    });
    scope.em.clear();
    return { instance: await this.get(scope, id), activity };
  }

  /** Revokes an ended instance's token by accessor (manual cleanup; idempotent). */
  async cleanupVaultToken(scope: Scope, id: string) {
    const row = await this.get(scope, id);
    if (isActiveInstanceStatus(row.status)) throw conflict('The instance is still active: cancel it first (its token is revoked when it ends)');
    let alreadyGone = true;
    const { activity } = await this.d.audit.run(scope, { action: 'instance.vault_cleanup', targetType: 'containerInstance', targetId: row.globalId }, async () => {
      if (!row.vaultTokenAccessor) return;
      if (!this.d.vault) throw new AppError(ErrorCode.VAULT_ERROR, 'Vault is not configured (VAULT_ADDR)', { reason: 'not configured' });
      ({ alreadyGone } = await this.d.vault.revokeAccessor(row.vaultTokenAccessor));
      row.vaultTokenRevokedAt ??= new Date();
      row.vaultRevokePending = false;
      await scope.em.flush();
    });
    return { instance: row, revoked: row.vaultTokenAccessor != null, alreadyGone, activity };
  }

  // ------------------------------------------------------------------------------ jobs

  /** The durable timeout: a running instance past its deadline is stopped and ends TIMED_OUT (also after a restart). */
  async onTimeout(data: { accountId: string; instanceId: string }): Promise<void> {
    const scope = this.scope(data.accountId);
    const row = await scope.em.findOne(ContainerInstance, data.instanceId);
    if (!row || !isActiveInstanceStatus(row.status)) return;
    if (row.deadline && row.deadline.getTime() > Date.now() + 1000) {
      await this.d.jobs.send(TIMEOUT_QUEUE, data, { startAfter: row.deadline, retryLimit: 10, retryDelay: 5 });
      return;
    }
    // claimed by another party (a cancel, the runner seeing the exit): it wraps up, unless its claim expired
    if (row.ending) {
      await this.takeWrapUp(data.accountId, data.instanceId);
      return;
    }
    await this.end(data.accountId, data.instanceId, { ending: InstanceEnding.TIMED_OUT, errorCode: 'TIMED_OUT', error: `Ran past its timeout of ${row.timeoutSeconds} s` });
  }

  /**
   * The reaper: revokes tokens of instances that ended while Vault was away (recording a
   * TOKEN_VALID_AFTER_END violation when the token was still valid), takes over running instances
   * whose runner went quiet (a restart), and ends instances stuck before RUNNING without a runner.
   */
  async reap(): Promise<void> {
    const em = this.d.orm.em.fork({ clear: true });
    const conn = em.getConnection();
    // taken (flag cleared) in one statement, so two reapers never handle one token; put back when Vault is still away
    const pending = await conn.execute<Array<{ id: string; account_id: string }>>(
      `update container_instances set vault_revoke_pending = false
        where id in (select id from container_instances where vault_revoke_pending limit 100 for update skip locked) returning id, account_id`,
    );
    for (const p of pending) {
      await this.reapToken(p.account_id, p.id).catch(async (err) => {
        this.d.logger.debug({ err: err instanceof AppError ? err.message : 'error', instance: p.id }, 'reaper: token still pending');
        await conn.execute('update container_instances set vault_revoke_pending = true where id = ?', [p.id]);
      });
    }

    // instances whose host was removed (host_id set null by the foreign key): nothing can reach their container any more
    const hostless = await conn.execute<Array<{ id: string; account_id: string; container_id: string | null }>>(
      `select id, account_id, container_id from container_instances where status in (${ACTIVE_SQL}) and host_id is null and ending is null limit 50`,
    );
    for (const h of hostless) {
      if (this.running.has(`end:${h.id}`)) continue;
      const why = { id: h.id, containerId: h.container_id } as ContainerInstance;
      this.track(`end:${h.id}`, this.end(h.account_id, h.id, { ending: InstanceEnding.HOST_LOST, errorCode: HOST_LOST, error: hostGone(why, 'was removed') }));
    }

    // wrap-ups claimed and abandoned (their holder died: the claim expired without renewal)
    const abandoned = await conn.execute<Array<{ id: string; account_id: string }>>(
      `select id, account_id from container_instances where status in (${ACTIVE_SQL}) and ending is not null and (wrap_up_until is null or wrap_up_until < now()) limit 50`,
    );
    for (const a of abandoned) {
      if (this.running.has(a.id) || this.running.has(`end:${a.id}`)) continue;
      this.track(`end:${a.id}`, this.takeWrapUp(a.account_id, a.id));
    }

    const staleSeconds = Math.ceil(this.d.options.staleAfterMs / 1000);
    const stale = await conn.execute<Array<{ id: string; account_id: string; status: string; ending: string | null }>>(
      `update container_instances set heartbeat_at = now()
        where id in (select id from container_instances where status in (${ACTIVE_SQL}) and ending is null and coalesce(heartbeat_at, created_at) < now() - (? * interval '1 second') limit 50 for update skip locked)
        returning id, account_id, status, ending`,
      [staleSeconds],
    );
    // a safety net under the durable timeout job: running instances well past their deadline
    const overdue = await conn.execute<Array<{ id: string; account_id: string }>>(
      `select id, account_id from container_instances where status = 'running' and ending is null and deadline < now() - interval '60 seconds' limit 50`,
    );
    for (const o of overdue) if (!this.running.has(`timeout:${o.id}`)) this.track(`timeout:${o.id}`, this.onTimeout({ accountId: o.account_id, instanceId: o.id }));
    for (const s of stale) {
      if (this.running.has(s.id)) continue;
      if (s.status === ContainerInstanceStatus.RUNNING) this.track(s.id, this.watch(s.account_id, s.id));
      else this.track(s.id, this.end(s.account_id, s.id, { ending: InstanceEnding.ORPHANED }));
    }
  }

  private async reapToken(accountId: string, id: string): Promise<void> {
    const scope = this.scope(accountId);
    const row = await scope.em.findOne(ContainerInstance, id);
    if (!row?.vaultTokenAccessor || !this.d.vault) return;
    const status = await this.d.vault.lookupAccessor(row.vaultTokenAccessor);
    if (status?.valid) {
      row.hasSecurityViolations = true;
      scope.em.persist(
        scope.em.create(SecurityViolation, {
          account: accountId,
          instance: row,
          kind: SecurityViolationKind.TOKEN_VALID_AFTER_END,
          details: { endedAt: row.endedAt?.toISOString() ?? null, expireTime: status.expireTime?.toISOString() ?? null },
          detectedAt: new Date(),
        } as never),
      );
    }
    await this.d.vault.revokeAccessor(row.vaultTokenAccessor);
    row.vaultTokenRevokedAt = new Date();
    row.vaultRevokePending = false;
    await scope.em.flush();
    await this.publish(scope.log, row);
  }

  /** One delivery attempt of an ended instance's callback (thrown error: pg-boss retries with backoff). */
  async onCallback(data: { accountId: string; instanceId: string }, secretOf: (em: EntityManager, accountId: string) => Promise<string | null>): Promise<void> {
    const scope = this.scope(data.accountId);
    const row = await scope.em.findOne(ContainerInstance, data.instanceId);
    if (!row?.callbackUrl || row.callbackStatus === 'DELIVERED' || row.callbackStatus === 'GAVE_UP') return;
    const secret = await secretOf(scope.em, data.accountId);
    const violations = await this.violations(scope.em, row.id);
    const n = (await scope.em.count(CallbackAttempt, { instance: row.id })) + 1;
    // only the excerpt is read: the output columns are lazy and may hold MiBs
    const [out] = await scope.em
      .getConnection()
      .execute<Array<{ stdout: string | null; stderr: string | null }>>('select left(stdout, ?) as stdout, left(stderr, ?) as stderr from container_instances where id = ?', [
        this.d.options.callbackExcerptChars,
        this.d.options.callbackExcerptChars,
        row.id,
      ]);
    const body = JSON.stringify({
      instanceId: row.globalId,
      taskId: row.taskId ?? null,
      status: row.status.toUpperCase(),
      exitCode: row.exitCode ?? null,
      errorCode: row.errorCode ?? null,
      error: row.error ?? null,
      output: { stdout: out?.stdout ?? '', stderr: out?.stderr ?? '', stdoutDroppedBytes: row.stdoutDroppedBytes, stderrDroppedBytes: row.stderrDroppedBytes },
      usage: {
        memoryUsedMb: row.memoryUsedMb ?? null,
        memoryUsedMbLast: row.memoryUsedMbLast ?? null,
        cpuUsedMillicores: row.cpuUsedMillicores ?? null,
        storageUsedBytes: row.storageUsedBytes ?? null,
        networkBytesIn: row.networkBytesIn ?? null,
        networkBytesOut: row.networkBytesOut ?? null,
      },
      violations: violations.map((v) => ({ kind: v.kind.toUpperCase(), details: v.details, detectedAt: v.detectedAt.toISOString() })),
      startedAt: row.startedAt?.toISOString() ?? null,
      endedAt: row.endedAt?.toISOString() ?? null,
      attempt: n,
    });
    const result = secret ? await this.d.callbacks.deliver(row.callbackUrl, secret, body) : { delivered: false, statusCode: null, error: 'no callback secret', durationMs: 0 };
    scope.em.persist(
      scope.em.create(CallbackAttempt, {
        account: data.accountId,
        instance: row,
        attempt: n,
        at: new Date(),
        statusCode: result.statusCode,
        error: result.error,
        durationMs: result.durationMs,
        delivered: result.delivered,
      } as never),
    );
    const tooOld = !row.endedAt || Date.now() - row.endedAt.getTime() > this.d.options.callbackMaxAgeMs;
    const lastTry = n > this.d.options.callbackRetryLimit;
    if (result.delivered) row.callbackStatus = 'DELIVERED';
    else if (tooOld || lastTry || !secret) row.callbackStatus = 'GAVE_UP';
    await scope.em.flush();
    await this.publish(scope.log, row);
    if (!result.delivered && row.callbackStatus === 'PENDING') throw new Error(`callback attempt ${n} failed: ${result.error}`);
  }

  // ------------------------------------------------------------------------------ plumbing

  /** Moves the status from `from` to `to` unless the ending was claimed; false when it was (or the status moved). */
  private async advance(scope: Scope, id: string, from: ContainerInstanceStatus, to: ContainerInstanceStatus, extra: Record<string, Date>): Promise<boolean> {
    const sets = Object.keys(extra).map((k) => `${k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)} = ?`);
    const rows = await scope.em.getConnection().execute<Array<{ id: string }>>(
      `update container_instances set status = ?, transitions = transitions || ?::jsonb, heartbeat_at = now(), updated_at = now()${sets.length ? ', ' + sets.join(', ') : ''}
        where id = ? and status = ? and ending is null returning id`,
      [to, JSON.stringify([transition(to)]), ...Object.values(extra), id, from],
    );
    return rows.length === 1;
  }

  private async auditTransition(scope: Scope, row: ContainerInstance, action: string, result?: Record<string, unknown>): Promise<void> {
    await this.d.audit
      .run(scope, { action, targetType: 'containerInstance', targetId: row.globalId, host: row.host ?? null, parameters: { status: row.status.toUpperCase() } }, async (handle) => {
        if (result) handle.activity.result = result;
      })
      .catch((err) => scope.log.warn({ err }, 'instance audit failed'));
  }

  /** Publishes the instance on its account's channel (emit never throws); output (lazy, not on the row) as its start only. */
  private async publish(log: Logger, row: ContainerInstance, output?: CapturedOutput | null): Promise<void> {
    const payload = toPayload(row, ['account', 'template', 'host']);
    for (const k of ['vaultTokenAccessor', 'ending', 'heartbeatAt', 'wrapUpOwner', 'wrapUpUntil', 'secretEnvSealed', 'stdout', 'stderr']) delete payload[k];
    // output can be MiBs: subscribers get its start (query containerInstance for all of it)
    if (output) for (const k of ['stdout', 'stderr'] as const) payload[k] = output[k].slice(0, PUBLISHED_OUTPUT_CHARS);
    await this.d.pubsub.emit(INSTANCE_TOPIC, payload, row.account.id ?? (row.account as unknown as string)).catch((err) => log.warn({ err }, 'instance publish failed'));
  }

  /**
   * stdout or stderr of an instance (lazy columns, up to 16 MiB each), loaded for the GraphQL
   * field only, and only once its size is taken from the request's allowance (maxLoadedBytes).
   */
  async output(scope: Scope, id: string, stream: 'stdout' | 'stderr'): Promise<string | null> {
    const conn = scope.em.getConnection();
    const where = 'from container_instances where id = ? and account_id = ?';
    return loadReserved(
      scope.loadable,
      async () => Number((await conn.execute<Array<{ n: number | null }>>(`select octet_length(${stream}) as n ${where}`, [id, scope.accountId]))[0]?.n ?? 0),
      async () => (await conn.execute<Array<{ text: string | null }>>(`select ${stream} as text ${where}`, [id, scope.accountId]))[0]?.text ?? null,
    );
  }

  private scope(accountId: string): Scope {
    return systemScope(this.d.orm, accountId, WORKER, this.d.logger);
  }

  /** Keeps a background task of this replica until it settles (stop waits for them). */
  private track(id: string, work: Promise<unknown>): void {
    const p = work
      .then(() => undefined)
      .catch((err) => this.d.logger.error({ err, instance: id }, 'instance background work failed'))
      .finally(() => {
        if (this.running.get(id) === p) this.running.delete(id);
      });
    this.running.set(id, p);
  }

  /** Stops watching (the instances keep running; the reaper of whichever replica runs next takes them over). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.race([Promise.allSettled([...this.running.values()]), sleep(15_000)]);
  }

  resume(): void {
    this.stopping = false;
  }
}

/** stdout and stderr as kept (up to the limit each) and the bytes dropped past it. */
interface CapturedOutput {
  stdout: string;
  stderr: string;
  stdoutDroppedBytes: number;
  stderrDroppedBytes: number;
}

/** What a wrap-up writes in its final transition. */
interface FinalState {
  status: ContainerInstanceStatus;
  now: Date;
  errorCode: string | null;
  error: string | null;
  exitCode: number | null;
  containerId: string | null;
  output: CapturedOutput | null;
  revoked: { vaultTokenRevokedAt: Date | null; vaultRevokePending: boolean } | null;
  violations: Array<{ kind: SecurityViolationKind; details: Record<string, unknown> }>;
}

/** How long the wrap-up reads an instance's output; what came by then is kept. */
export const OUTPUT_CAPTURE_MS = 60_000;

/**
 * stdout and stderr up to `limit` bytes each (cut on a character boundary), read as raw chunks:
 * past the limit a stream's bytes are only counted, never kept, so memory stays at the limit
 * plus one chunk whatever the container printed (and a line without end is counted exactly).
 */
export async function captureOutput(engine: Engine, containerId: string, limit: number, signal?: AbortSignal): Promise<CapturedOutput> {
  const kept: Record<StreamName, Buffer[]> = { stdout: [], stderr: [] };
  const size: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  const dropped: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  const read = engine.containerOutput(
    containerId,
    (stream, data) => {
      const room = limit - size[stream];
      if (room <= 0) {
        dropped[stream] += data.length;
        return;
      }
      // a copy: the chunk is the socket's buffer, which must not be held (it may be much larger than what is kept)
      const take = data.length <= room ? data.length : utf8Boundary(data, room);
      kept[stream].push(Buffer.from(data.subarray(0, take)));
      size[stream] += take;
      dropped[stream] += data.length - take;
      if (take < data.length) size[stream] = limit;
    },
    signal,
  );
  // past the deadline what was read is kept: an engine that trickles its logs cannot hold the worker
  await read.catch((err: unknown) => {
    if (!signal?.aborted) throw err;
  });
  return {
    stdout: Buffer.concat(kept.stdout).toString('utf8'),
    stderr: Buffer.concat(kept.stderr).toString('utf8'),
    stdoutDroppedBytes: dropped.stdout,
    stderrDroppedBytes: dropped.stderr,
  };
}

/** The callback job's id: a uuid derived from the instance's, so one instance never gets two callback jobs. */
function callbackJobId(instanceId: string): string {
  const h = createHash('sha256').update(`fleetgraph.callback:${instanceId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/** The error text of an instance whose host is gone: what happened, and where its container may still be. */
function hostGone(row: ContainerInstance, what: string): string {
  return `Its host ${what} while the instance ran: it ended FAILED and its Vault token was revoked; its container ${row.containerId ? row.containerId.slice(0, 12) + ' ' : ''}(label ${INSTANCE_LABEL}=${row.id}) may still exist on that host and is not removed by fleetgraph`;
}

/** A timeline entry: the status as the API names it (PENDING, …) and when. */
function transition(status: ContainerInstanceStatus, at = new Date()): InstanceTransition {
  return { status: status.toUpperCase(), at: at.toISOString() };
}

/** An image's Entrypoint/Cmd as an argument vector (Docker may give a string: shell form). */
function argv(v: string | string[] | null | undefined): string[] | null {
  if (v == null) return null;
  return typeof v === 'string' ? ['/bin/sh', '-c', v] : v;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Reads an exec's output to its end, at most `timeoutMs`: an image whose shell never exits (or
 * leaves a child holding stdout) must not keep an instance in PROVISIONING for ever. Past the
 * deadline the stream is destroyed and the provisioning fails (the container is then removed).
 */
function drain(stream: NodeJS.ReadableStream, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      reject(new AppError(ErrorCode.DOCKER_ERROR, `Writing the Vault token file took more than ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      resolve();
    };
    stream.on('data', () => undefined);
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Characters of stdout and of stderr a containerInstanceUpdated delivery carries. */
const PUBLISHED_OUTPUT_CHARS = 4096;

/** How long the exec that writes the token file may take. */
const TOKEN_WRITE_TIMEOUT_MS = 15_000;
