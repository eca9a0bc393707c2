import type { EntityManager } from '@mikro-orm/postgresql';
import { ACTIVE_INSTANCE_STATUSES, ContainerInstance, ContainerTemplate, InstanceSettings } from '../../../entities';
import { AppError, badInput, ErrorCode } from '../../kernel/errors';
import type { Scope } from '../../kernel/scope';
import { DEFAULT_INSTANCE_QUOTA_MAX, type InstanceQuotaCeiling } from '../../kernel/config';
import type { Audit } from '../../platform/audit/activity';

/** One quota dimension: what is in use and the limit in force (the account's, or the operator's ceiling). */
export interface QuotaFigure {
  used: number;
  limit: number | null;
}

export interface QuotaUsage {
  concurrent: QuotaFigure;
  memoryMb: QuotaFigure;
  cpuMillicores: QuotaFigure;
}

export interface QuotaLimits {
  maxConcurrent?: number | null;
  maxMemoryMb?: number | null;
  maxCpuMillicores?: number | null;
}

const ACTIVE = ACTIVE_INSTANCE_STATUSES.map((s) => `'${s}'`).join(', ');

interface UsageRow {
  n: number;
  mem: number;
  cpu: number;
}

/** The ceiling's value of each limit. */
const CEILING_OF = { maxConcurrent: 'concurrent', maxMemoryMb: 'memoryMb', maxCpuMillicores: 'cpuMillicores' } as const;
const CEILING_ENV = {
  maxConcurrent: 'FLEETGRAPH_INSTANCE_QUOTA_MAX_CONCURRENT',
  maxMemoryMb: 'FLEETGRAPH_INSTANCE_QUOTA_MAX_MEMORY_MB',
  maxCpuMillicores: 'FLEETGRAPH_INSTANCE_QUOTA_MAX_CPU_MILLICORES',
} as const;

/**
 * Quotas of container instances (runbook: QuotaService), per account and optionally per
 * template: instances at once, MiB of memory limits, millicores of CPU limits. Every account's
 * limits sit under the operator's ceiling (FLEETGRAPH_INSTANCE_QUOTA_MAX_*): a quota above it is
 * refused, and an account without a quota gets the ceiling (fail closed: never unbounded).
 * Refusals are counted on the settings row, not stored one row each. Admission is
 * atomic: one transaction locks the account's settings row (`select … for update`), sums what
 * its active instances (PENDING, PROVISIONING, RUNNING) hold, and inserts the new instance only
 * when every limit still has room. Concurrent runs of one account therefore queue on that lock
 * and see each other's rows: 50 runs against a limit of 10 admit exactly 10.
 */
export class QuotaService {
  constructor(
    private readonly audit?: Audit,
    readonly ceiling: InstanceQuotaCeiling = DEFAULT_INSTANCE_QUOTA_MAX,
  ) {}

  /** The account's settings row, created on first use. */
  async settings(em: EntityManager, accountId: string): Promise<InstanceSettings> {
    await this.ensureRow(em, accountId);
    return em.findOneOrFail(InstanceSettings, { account: accountId });
  }

  /**
   * Sets the account's limits (null: the operator's ceiling), audited; BAD_USER_INPUT for a
   * negative or fractional one, or one above the ceiling.
   */
  async set(scope: Scope, limits: QuotaLimits): Promise<InstanceSettings> {
    for (const [k, v] of Object.entries(limits)) {
      if (!(k in CEILING_OF) || v == null) continue;
      const max = this.ceiling[CEILING_OF[k as keyof typeof CEILING_OF]];
      if (!Number.isSafeInteger(v) || v < 0) throw badInput(k, 'must be a whole number >= 0 (null: the operator ceiling)');
      if (v > max) throw badInput(k, `at most ${max}, the operator's ceiling (${CEILING_ENV[k as keyof typeof CEILING_ENV]})`);
    }
    const apply = async () => {
      const row = await this.settings(scope.em, scope.accountId);
      if (limits.maxConcurrent !== undefined) row.maxConcurrent = limits.maxConcurrent;
      if (limits.maxMemoryMb !== undefined) row.maxMemoryMb = limits.maxMemoryMb;
      if (limits.maxCpuMillicores !== undefined) row.maxCpuMillicores = limits.maxCpuMillicores;
      await scope.em.flush();
      return row;
    };
    if (!this.audit) return apply();
    const spec = { action: 'instance.quota.set', targetType: 'account', targetId: scope.accountId, parameters: { ...limits } };
    return (await this.audit.run(scope, spec, apply)).result;
  }

  /** The limits in force for an account's row: its own, capped by the ceiling; the ceiling when unset. */
  effective(row: { maxConcurrent?: number | null; maxMemoryMb?: number | null; maxCpuMillicores?: number | null }): Required<{ [K in keyof QuotaLimits]: number }> {
    const cap = (v: number | null | undefined, max: number) => (v == null ? max : Math.min(v, max));
    return {
      maxConcurrent: cap(row.maxConcurrent, this.ceiling.concurrent),
      maxMemoryMb: cap(row.maxMemoryMb, this.ceiling.memoryMb),
      maxCpuMillicores: cap(row.maxCpuMillicores, this.ceiling.cpuMillicores),
    };
  }

  /** What the account's active instances hold against its limits. */
  async usage(scope: Scope): Promise<QuotaUsage> {
    const row = await this.settings(scope.em, scope.accountId);
    const used = await this.used(scope.em, scope.accountId);
    const limit = this.effective(row);
    return {
      concurrent: { used: used.n, limit: limit.maxConcurrent },
      memoryMb: { used: used.mem, limit: limit.maxMemoryMb },
      cpuMillicores: { used: used.cpu, limit: limit.maxCpuMillicores },
    };
  }

  /**
   * Inserts `instance` (PENDING) if the account's (capped by the ceiling) and the template's
   * quotas have room for it, in one transaction under the account's lock; QUOTA_EXCEEDED with the
   * limit and the usage otherwise: nothing inserted, the account's refusal counter goes up.
   */
  async admit(em: EntityManager, accountId: string, instance: ContainerInstance, template: ContainerTemplate | null): Promise<void> {
    await this.ensureRow(em, accountId);
    try {
      await this.insertWithinQuota(em, accountId, instance, template);
    } catch (err) {
      if (err instanceof AppError && err.code === ErrorCode.QUOTA_EXCEEDED) {
        await em
          .getConnection()
          .execute('update instance_settings set quota_refusals = quota_refusals + 1, last_quota_refusal_at = now() where account_id = ?', [accountId])
          .catch(() => undefined);
      }
      throw err;
    }
  }

  private async insertWithinQuota(em: EntityManager, accountId: string, instance: ContainerInstance, template: ContainerTemplate | null): Promise<void> {
    await em.transactional(async (tx) => {
      const ctx = tx.getTransactionContext();
      const conn = tx.getConnection();
      const [limits] = await conn.execute<Array<{ max_concurrent: number | null; max_memory_mb: number | null; max_cpu_millicores: number | null }>>(
        'select max_concurrent, max_memory_mb, max_cpu_millicores from instance_settings where account_id = ? for update',
        [accountId],
        'all',
        ctx,
      );
      const account = await this.used(tx as EntityManager, accountId);
      check('account', this.effective({ maxConcurrent: limits.max_concurrent, maxMemoryMb: limits.max_memory_mb, maxCpuMillicores: limits.max_cpu_millicores }), account, instance);
      if (template && (template.maxConcurrent != null || template.maxMemoryMb != null || template.maxCpuMillicores != null)) {
        const ofTemplate = await this.used(tx as EntityManager, accountId, template.id);
        check('template', template, ofTemplate, instance);
      }
      tx.persist(instance);
      await tx.flush();
    });
  }

  private async used(em: EntityManager, accountId: string, templateId?: string): Promise<UsageRow> {
    const [row] = await em.getConnection().execute<UsageRow[]>(
      `select count(*)::int as n, coalesce(sum(memory_mb), 0)::int as mem, coalesce(sum(cpu_millicores), 0)::int as cpu
           from container_instances where account_id = ? and status in (${ACTIVE})${templateId ? ' and template_id = ?' : ''}`,
      templateId ? [accountId, templateId] : [accountId],
      'all',
      em.getTransactionContext(),
    );
    return row;
  }

  private async ensureRow(em: EntityManager, accountId: string): Promise<void> {
    const probe = new InstanceSettings();
    await em
      .getConnection()
      .execute(
        'insert into instance_settings (id, account_id, created_at, updated_at) values (?, ?, now(), now()) on conflict (account_id) do nothing',
        [probe.id, accountId],
        'run',
        em.getTransactionContext(),
      );
  }
}

/** QUOTA_EXCEEDED naming the first limit the instance would pass, with the limit and the usage. */
function check(scope: 'account' | 'template', limits: QuotaLimits, used: UsageRow, instance: ContainerInstance): void {
  const over = (resource: string, limit: number | null | undefined, inUse: number, asked: number) => {
    if (limit == null || inUse + asked <= limit) return;
    throw new AppError(ErrorCode.QUOTA_EXCEEDED, `The ${scope} quota of ${resource} is ${limit}; ${inUse} in use, ${asked} asked`, { quota: scope, resource, limit, usage: inUse, requested: asked });
  };
  over('concurrent instances', limits.maxConcurrent, used.n, 1);
  over('memory (MiB)', limits.maxMemoryMb, used.mem, instance.memoryMb);
  over('CPU (millicores)', limits.maxCpuMillicores, used.cpu, instance.cpuMillicores);
}
