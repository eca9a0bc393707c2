import type { MikroORM } from '@mikro-orm/postgresql';
import { forkForAccount } from '../infra/db/orm';
import type { Logger } from '../kernel/logger';
import { ALL_PERMISSIONS } from '../kernel/permissions';
import type { Scope } from '../kernel/scope';

/**
 * The Scope a background worker acts on for one account: actor `system:<worker>`, its own unit
 * of work with the tenant filter on, the account's full permissions unless narrowed. Audit rows
 * written on it record the worker, not a user.
 */
export function systemScope(orm: MikroORM, accountId: string, worker: string, logger: Logger, permissions: readonly string[] = ALL_PERMISSIONS): Scope {
  return {
    accountId,
    actor: { kind: 'system', worker },
    permissions,
    em: forkForAccount(orm, accountId),
    log: logger.child({ worker, account: accountId }),
  };
}
