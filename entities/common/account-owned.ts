import { ManyToOne } from '@mikro-orm/core';
import { Account } from '../accounts/account.entity';
import { Node } from './node';

/**
 * Base of every account-owned entity. The `tenant` filter (src/db/orm.ts) is enabled by
 * default on all subclasses and needs the caller's account id, so a query that forgets the
 * tenant fails instead of leaking rows.
 */
export abstract class AccountOwned extends Node {
  @ManyToOne(() => Account, { deleteRule: 'cascade', index: true })
  account!: Account;
}
