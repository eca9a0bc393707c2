import path from 'node:path';
import { Client } from 'pg';
import { EntityManager, MikroORM, Options, ReflectMetadataProvider } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { ENTITIES, INTERNAL_ENTITIES, AccountOwned, Account } from '../../../entities';
import { migrationsList } from './migrations';
import { StorableEntities } from './storable';
import type { Logger } from '../../kernel/logger';
import { DEFAULT_LIMITS } from '../../kernel/config';

export const TENANT_FILTER = 'tenant';

/** Names of entities scoped by the tenant filter: every AccountOwned subclass, plus Account itself. */
export function tenantScopedEntities(): string[] {
  return ENTITIES.filter((e) => e.prototype instanceof AccountOwned || e === Account).map((e) => e.name);
}

/** A transaction left open this long without a statement is ended by PostgreSQL (its locks with it). */
const IDLE_IN_TRANSACTION_MS = 60_000;

export function ormOptions(clientUrl: string, extra: Partial<Options> = {}, statementTimeoutMs = DEFAULT_LIMITS.statementTimeoutMs): Options {
  return {
    clientUrl,
    entities: [...ENTITIES, ...INTERNAL_ENTITIES],
    metadataProvider: ReflectMetadataProvider,
    metadataCache: { enabled: false },
    discovery: { warnWhenNoEntities: true },
    extensions: [Migrator],
    // replica presence (src/platform/leasing) is written by plain statements and has no entity: the
    // schema diff (migration:create) must not propose to drop it
    schemaGenerator: { skipTables: ['fleet_replicas'] },
    // nothing the ORM writes holds U+0000 (PostgreSQL refuses it): see src/infra/db/storable.ts
    subscribers: [new StorableEntities()],
    forceUtcTimezone: true,
    pool: { min: 0, max: 10 },
    // every statement here is short: JIT compilation only adds latency (an event insert costed high on a
    // host with 500,000 stored events took 0.5–0.9 s to compile, 2–6 ms to run). Named prepared
    // statements (src/infra/db/prepared.ts) are planned for their actual parameters every time: with
    // generic plans, the event insert and activity link got slower as the table grew (bench:replicas'
    // ingest lag p50 went from 1.6 to 160 ms)
    // No statement runs without a bound: a lock held by a stuck transaction, or a plan gone wrong, ends
    // in an error instead of holding a pooled connection (and the request or worker on it) forever.
    driverOptions: {
      connection: {
        options: '-c jit=off -c plan_cache_mode=force_custom_plan',
        statement_timeout: statementTimeoutMs,
        idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
      },
    },
    migrations: {
      migrationsList: migrationsList(),
      path: path.join(__dirname, 'migrations'),
      pathTs: path.join(__dirname, 'migrations'),
      snapshotName: '.snapshot-fleetgraph',
      // the snapshot is the entities' schema as of the last migration:create (src/cli/migration.ts turns it
      // on). Left on, every run that applies migrations would rewrite it from the database it ran on,
      // with what migrations add outside the entities, and in production into the app's own files
      snapshot: false,
      transactional: true,
      allOrNothing: true,
      emit: 'ts',
    },
    filters: {
      [TENANT_FILTER]: {
        name: TENANT_FILTER,
        // Account rows are scoped by their own id, everything else by its account.
        cond: (args: { accountId: string }, _type: unknown, _em: unknown, _opts: unknown, entityName?: unknown) =>
          entityName === 'Account' || (entityName as { name?: string })?.name === 'Account' ? { id: args.accountId } : { account: args.accountId },
        entity: tenantScopedEntities(),
        default: true,
      },
    },
    ...extra,
  };
}

/** ORM options of the migration tooling: with the committed snapshot of the entities' schema. */
export function withSnapshot(options: Options): Options {
  return { ...options, migrations: { ...options.migrations, snapshot: true } };
}

export async function initOrm(clientUrl: string, extra: Partial<Options> = {}, statementTimeoutMs?: number): Promise<MikroORM> {
  return MikroORM.init(ormOptions(clientUrl, extra, statementTimeoutMs));
}

/** Advisory lock key: replicas starting together run migrations one after another. */
const MIGRATION_LOCK_KEY = 0x666c6565; // "flee"

/**
 * Applies pending migrations while holding a PostgreSQL session-level advisory lock on a
 * dedicated connection, so concurrent replicas never race. Returns the names applied.
 */
export async function migrate(orm: MikroORM, clientUrl: string, logger?: Logger): Promise<string[]> {
  const lock = new Client({ connectionString: clientUrl });
  await lock.connect();
  try {
    const started = Date.now();
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const waited = Date.now() - started;
    // in one transaction of our own, so its statements may take as long as they need (an index on a
    // large table), without the pool's statement_timeout
    const connection = orm.em.getConnection();
    const applied = await connection.transactional(async (trx) => {
      await connection.execute('set local statement_timeout = 0', [], 'run', trx);
      return orm.getMigrator().up({ transaction: trx });
    });
    logger?.info({ applied: applied.map((m) => m.name), lockWaitMs: waited }, 'migrations applied');
    return applied.map((m) => m.name);
  } finally {
    await lock.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.end().catch(() => undefined);
  }
}

/** A fresh EntityManager scoped to one account (the tenant filter gets its argument). */
export function forkForAccount(orm: MikroORM, accountId: string): EntityManager {
  const em = orm.em.fork({ clear: true }) as EntityManager;
  em.setFilterParams(TENANT_FILTER, { accountId });
  return em;
}

/** A fresh EntityManager for system work across accounts (workers, auth bootstrap). */
export function forkSystem(orm: MikroORM): EntityManager {
  const em = orm.em.fork({ clear: true }) as EntityManager;
  return em;
}

/** Options to pass to find calls made by system work (tenant filter off). */
export const SYSTEM = { filters: { [TENANT_FILTER]: false } } as const;
