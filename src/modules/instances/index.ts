import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { InstanceSettings } from '../../../entities';
import type { EndpointPolicy } from '../../kernel/addresses';
import type { Logger } from '../../kernel/logger';
import type { InstanceQuotaCeiling } from '../../kernel/config';
import type { Scope } from '../../kernel/scope';
import type { Worker } from '../../kernel/worker';
import type { SecretBox } from '../../infra/crypto';
import type { FleetPubSub } from '../../infra/pubsub';
import type { JobQueue } from '../../infra/jobs';
import type { VaultPort } from '../../infra/vault';
import { VaultPolicyGrants } from './grants';
import type { Audit } from '../../platform/audit/activity';
import type { HostAccessGuard } from '../../platform/policy/enforce';
import type { HostService } from '../hosts';
import { CallbackSender, newCallbackSecret } from './callbacks';
import { CALLBACK_QUEUE, DEFAULT_INSTANCE_OPTIONS, InstanceOptions, InstanceService, REAP_QUEUE, TIMEOUT_QUEUE } from './instances';
import { QuotaService } from './quotas';
import { TemplateService } from './templates';

export { InstanceService, INSTANCE_TOPIC, DEFAULT_INSTANCE_OPTIONS, CALLBACK_QUEUE, REAP_QUEUE, TIMEOUT_QUEUE } from './instances';
export type { InstanceOptions, RunInput } from './instances';
export { TemplateService } from './templates';
export type { TemplateInput } from './templates';
export { QuotaService } from './quotas';
export type { QuotaFigure, QuotaLimits, QuotaUsage } from './quotas';
export { CallbackSender, signCallback, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './callbacks';
export { OVERRIDABLE, TOKEN_FILE } from './spec';
export type { DirectConfig, InstanceOverrides } from './spec';

/** What the instances module needs from the composition root. */
export interface InstancesModuleDeps {
  orm: MikroORM;
  pubsub: FleetPubSub;
  logger: Logger;
  audit: Audit;
  guard: HostAccessGuard;
  hosts: HostService;
  secrets: SecretBox;
  jobs: JobQueue;
  /** The callback allow-list (FLEETGRAPH_CALLBACK_ALLOW; public addresses only by default). */
  callbackPolicy: EndpointPolicy;
  vault?: VaultPort;
  vaultAddr?: string;
  /** The Vault policies each account may use (VaultConfig.accountPolicies); none when absent. */
  vaultAccountPolicies?: Record<string, string[]>;
  options?: Partial<InstanceOptions>;
  /** The operator's ceiling of account quotas (FLEETGRAPH_INSTANCE_QUOTA_MAX_*); the defaults when absent. */
  quotaCeiling?: InstanceQuotaCeiling;
}

/** The account's callback secret: sealed at rest, shown once when rotated. */
export class CallbackSecrets {
  constructor(
    private readonly quotas: QuotaService,
    private readonly box: SecretBox,
    private readonly audit: Audit,
  ) {}

  /**
   * A new secret for the account (the old one stops verifying at once); returned once, never
   * again. Audited: the activity names the rotation, never the secret.
   */
  async rotate(scope: Scope): Promise<string> {
    const spec = { action: 'instance.callback_secret.rotate', targetType: 'account', targetId: scope.accountId, parameters: {} };
    const { result } = await this.audit.run(scope, spec, async () => {
      const row = await this.quotas.settings(scope.em, scope.accountId);
      const secret = newCallbackSecret();
      row.callbackSecretSealed = this.box.seal(secret);
      await scope.em.flush();
      return secret;
    });
    return result;
  }

  async get(em: EntityManager, accountId: string): Promise<string | null> {
    const row = await em.findOne(InstanceSettings, { account: accountId }, { populate: ['callbackSecretSealed'] });
    return row?.callbackSecretSealed ? this.box.open(row.callbackSecretSealed) : null;
  }
}

export interface InstancesModule {
  templates: TemplateService;
  instances: InstanceService;
  quotas: QuotaService;
  callbackSecrets: CallbackSecrets;
  workers: Worker[];
}

/** Container templates and instances: services, their job queues, and the worker that kicks the reaper and stops the watchers. */
export function createInstancesModule(deps: InstancesModuleDeps): InstancesModule {
  const options: InstanceOptions = { ...DEFAULT_INSTANCE_OPTIONS, ...deps.options };
  const grants = new VaultPolicyGrants(deps.vaultAccountPolicies ?? {});
  const templates = new TemplateService(deps.audit, deps.guard, deps.secrets, grants);
  const quotas = new QuotaService(deps.audit, deps.quotaCeiling);
  const callbackSecrets = new CallbackSecrets(quotas, deps.secrets, deps.audit);
  const instances = new InstanceService({ ...deps, templates, quotas, grants, callbacks: new CallbackSender(deps.callbackPolicy), options });

  type JobData = { accountId: string; instanceId: string };
  deps.jobs.queue<JobData>(TIMEOUT_QUEUE, (data) => instances.onTimeout(data), { concurrency: 2 });
  deps.jobs.queue<JobData>(CALLBACK_QUEUE, (data) => instances.onCallback(data, (em, accountId) => callbackSecrets.get(em, accountId)), { concurrency: 2 });
  const reapJob = (startAfter?: number) => deps.jobs.send(REAP_QUEUE, {}, { singletonKey: 'reaper', ...(startAfter ? { startAfter } : {}) });
  deps.jobs.queue<object>(
    REAP_QUEUE,
    async () => {
      try {
        await instances.reap();
      } catch (err) {
        // a failed run is logged, not thrown: the next one is scheduled below either way
        deps.logger.error({ err }, 'reaper run failed');
      } finally {
        await reapJob(options.reapIntervalSeconds).catch((err) => deps.logger.warn({ err }, 'reaper not rescheduled: the watchdog queues it'));
      }
    },
    { policy: 'stately', concurrency: 1 },
  );

  /**
   * The reaper's chain reschedules itself, but a reschedule can fail (the database away just
   * then) and a chain that stops would stop revoking tokens for good. So every replica that runs
   * workers also queues it on a timer: a no-op while one is queued (one queued job per key on a
   * stately queue), a restart of the chain when it stopped.
   */
  let watchdog: NodeJS.Timeout | undefined;
  const worker: Worker = {
    name: 'instances',
    start: async () => {
      instances.resume();
      await reapJob();
      watchdog ??= setInterval(() => void reapJob().catch((err) => deps.logger.warn({ err }, 'reaper watchdog could not queue the reaper')), Math.max(1000, options.reapIntervalSeconds * 1000));
      watchdog.unref();
    },
    stop: async () => {
      if (watchdog) clearInterval(watchdog);
      watchdog = undefined;
      await instances.stop();
    },
  };
  return { templates, instances, quotas, callbackSecrets, workers: [worker] };
}
