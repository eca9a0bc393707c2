import { badInput } from '../../kernel/errors';
import type { Scope } from '../../kernel/scope';

/**
 * Which Vault policies each account's instance tokens may carry: an operator's allow-list
 * (FLEETGRAPH_VAULT_ACCOUNT_POLICIES, account name → policy names; `*` for every account, for a
 * single-tenant install). One Vault token role serves the whole install, so without this any
 * account could ask for another tenant's policy. Fails closed: an account not listed gets none.
 */
export class VaultPolicyGrants {
  constructor(private readonly byAccount: Readonly<Record<string, readonly string[]>>) {}

  /** BAD_USER_INPUT naming the policies `scope`'s account may not use (checked when a template is saved and at every run). */
  async check(scope: Scope, policies: readonly string[] | null | undefined, field = 'vaultPolicies'): Promise<void> {
    if (!policies?.length) return;
    const [row] = (await scope.em.getConnection().execute('select name from accounts where id = ?', [scope.accountId])) as Array<{ name: string }>;
    const allowed = new Set([...(this.byAccount['*'] ?? []), ...((row && this.byAccount[row.name]) ?? [])]);
    const refused = policies.filter((p) => !allowed.has(p));
    if (refused.length > 0) {
      throw badInput(field, `not granted to this account by the operator (FLEETGRAPH_VAULT_ACCOUNT_POLICIES): ${refused.slice(0, 10).join(', ')}`);
    }
  }
}
