import type { EntityManager } from '@mikro-orm/postgresql';
import { ACTIVE_INSTANCE_STATUSES, ContainerInstance, ContainerTemplate, InstanceSettings } from '../../../entities';
import { AppError, badInput, ErrorCode } from '../../kernel/errors';
import type { Scope } from '../../kernel/scope';

/** One quota dimension: what is in use and the limit (null = unlimited). */
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

/**
 * Quotas of container instances (runbook: QuotaService), per account and optionally per
 * template: instances at once, MiB of memory limits, millicores of CPU limits. Admission is
 * atomic: one transaction locks the account's settings row (`select … for update`), sums what
 * its active instances (PENDING, PROVISIONING, RUNNING) hold, and inserts the new instance only
 * when every limit still has room. Concurrent runs of one account therefore queue on that lock
 * and see each other's rows: 50 runs against a limit of 10 admit exactly 10.
 */
export class QuotaService {
  /** The account's settings row, created on first use. */
  async settings(em: EntityManager, accountId: string): Promise<InstanceSettings> {
    await this.ensureRow(em, accountId);
    return em.findOneOrFail(InstanceSettings, { account: accountId });
  }

  /** Sets the account's limits (null: unlimited); BAD_USER_INPUT for a negative or fractional one. */
  async set(scope: Scope, limits: QuotaLimits): Promise<InstanceSettings> {
    for (const [k, v] of Object.entries(limits)) if (v != null && (!Number.isSafeInteger(v) || v < 0)) throw badInput(k, 'must be a whole number >= 0 (null: unlimited)');
    const row = await this.settings(scope.em, scope.accountId);
    if (limits.maxConcurrent !== undefined) row.maxConcurrent = limits.maxConcurrent;
    if (limits.maxMemoryMb !== undefined) row.maxMemoryMb = limits.maxMemoryMb;
    if (limits.maxCpuMillicores !== undefined) row.maxCpuMillicores = limits.maxCpuMillicores;
    await scope.em.flush();
    return row;
  }

  /** What the account's active instances hold against its limits. */
  async usage(scope: Scope): Promise<QuotaUsage> {
    const row = await this.settings(scope.em, scope.accountId);
    const used = await this.used(scope.em, scope.accountId);
    return {
      concurrent: { used: used.n, limit: row.maxConcurrent ?? null },
      memoryMb: { used: used.mem, limit: row.maxMemoryMb ?? null },
      cpuMillicores: { used: used.cpu, limit: row.maxCpuMillicores ?? null },
    };
  }

  /**
   * Inserts `instance` (PENDING) if the account's and the template's quotas have room for it,
   * in one transaction under the account's lock; QUOTA_EXCEEDED with the limit and the usage
   * otherwise (nothing inserted).
   */
  async admit(em: EntityManager, accountId: string, instance: ContainerInstance, template: ContainerTemplate | null): Promise<void> {
    await this.ensureRow(em, accountId);
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
      check('account', { maxConcurrent: limits.max_concurrent, maxMemoryMb: limits.max_memory_mb, maxCpuMillicores: limits.max_cpu_millicores }, account, instance);
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
