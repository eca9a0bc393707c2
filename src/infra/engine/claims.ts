import type { EntityManager } from '@mikro-orm/postgresql';
import { EngineClaimKind } from '../../../entities';
import { EndpointRefused, EngineIdentity } from './client';

/**
 * Engines belong to one account. An engine is known by what it says it is (src/infra/engine/client.ts
 * readEngineIdentity): its `docker info` ID, the swarm cluster ID when it is a manager, and swarm
 * node IDs (its own, the managers it knows, every node when it is a manager). Each of these is
 * claimed in the global engine_claims table (primary key (kind, external_id), so one owner in the
 * database itself) by the first account whose host or cluster reaches it; engine_claim_holders
 * records which of that account's hosts and clusters hold it. Another account reaching any of
 * them is refused. The same account may register one engine several times (unix socket and TLS,
 * a host and a cluster): each row holds the claim. A claim is released when its last holder goes
 * (removal, or a re-verification that finds another engine behind the URL); a claim without
 * holders is never an obstacle (it is taken over).
 *
 * Everything here is raw SQL on the global tables, outside the tenant filter, on purpose.
 */

export interface ClaimHolder {
  column: 'host_id' | 'cluster_id';
  id: string;
}

type Key = [EngineClaimKind, string];

/** The claim keys of an identity, in one fixed order (overlapping claims lock rows in the same order: no deadlock). */
export function claimKeys(identity: EngineIdentity): Key[] {
  const keys: Key[] = [[EngineClaimKind.ENGINE, identity.engineId]];
  if (identity.swarmId) keys.push([EngineClaimKind.SWARM, identity.swarmId]);
  for (const n of identity.nodeIds) keys.push([EngineClaimKind.NODE, n]);
  const text = (k: Key) => `${k[0]}\u0000${k[1]}`;
  return [...new Map(keys.map((k) => [text(k), k])).values()].sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
}

const tuples = (keys: Key[]) => keys.map(() => '(?, ?)').join(', ');

/** Runs `fn` in the caller's transaction, or in one of its own. */
async function inTransaction<T>(em: EntityManager, fn: (tx: EntityManager) => Promise<T>): Promise<T> {
  if (em.isInTransaction()) return fn(em);
  const tx = em.fork({ clear: true });
  await tx.begin();
  try {
    const result = await fn(tx);
    await tx.commit();
    return result;
  } catch (err) {
    await tx.rollback();
    throw err;
  }
}

/** Whether another account holds any claim of this identity (read only: the check before anything is written). */
export async function heldByAnotherAccount(em: EntityManager, accountId: string, identity: EngineIdentity): Promise<boolean> {
  const keys = claimKeys(identity);
  const rows = (await em.execute(
    `select 1 as held from engine_claims c
      where c.account_id <> ? and (c.kind, c.external_id) in (${tuples(keys)})
        and exists (select 1 from engine_claim_holders h where h.claim_kind = c.kind and h.claim_external_id = c.external_id)
      limit 1`,
    [accountId, ...keys.flat()],
  )) as unknown[];
  return rows.length > 0;
}

/**
 * Claims an identity for `holder` (a host or cluster of `accountId`), race-free: one statement
 * inserts the claims that are new and, for those that exist, locks them (ON CONFLICT DO UPDATE)
 * and returns their owner, in key order; an owner with holders of its own refuses
 * (EndpointRefused, FORBIDDEN on `field`), one without is taken over. Claims the holder held for
 * another identity (the endpoint now leads elsewhere) are let go. Runs in the caller's transaction
 * when there is one, so a refusal rolls back what it wrote.
 */
export async function claimEngine(em: EntityManager, accountId: string, holder: ClaimHolder, identity: EngineIdentity, field = 'apiEndpoint'): Promise<void> {
  const keys = claimKeys(identity);
  // the usual case (every reconnect, every takeover): nothing to write, one read instead of a transaction
  if (await claimedAsItIs(em, accountId, holder, keys)) return;
  const kinds = keys.map((k) => k[0]);
  const ids = keys.map((k) => k[1]);
  await inTransaction(em, async (tx) => {
    const owners = (await tx.execute(
      `insert into engine_claims (kind, external_id, account_id, created_at)
        select k, e, ?, now() from unnest(array[?]::text[], array[?]::text[]) with ordinality as t(k, e, n) order by n
        on conflict (kind, external_id) do update set account_id = engine_claims.account_id
        returning kind, external_id, account_id`,
      [accountId, kinds, ids],
    )) as Array<{ kind: EngineClaimKind; external_id: string; account_id: string }>;
    const foreign = owners.filter((o) => o.account_id !== accountId).map((o) => [o.kind, o.external_id] as Key);
    if (foreign.length > 0) {
      const held = (await tx.execute(`select 1 as held from engine_claim_holders where (claim_kind, claim_external_id) in (${tuples(foreign)}) limit 1`, foreign.flat())) as unknown[];
      if (held.length > 0) throw new EndpointRefused('engine is registered by another account', field);
      await tx.execute(`update engine_claims set account_id = ?, created_at = now() where (kind, external_id) in (${tuples(foreign)})`, [accountId, ...foreign.flat()]);
    }
    await tx.execute(
      `insert into engine_claim_holders (id, claim_kind, claim_external_id, ${holder.column})
        select gen_random_uuid(), k, e, ? from unnest(array[?]::text[], array[?]::text[]) as t(k, e)
        on conflict do nothing`,
      [holder.id, kinds, ids],
    );
    await tx.execute(`delete from engine_claim_holders where ${holder.column} = ? and (claim_kind, claim_external_id) not in (${tuples(keys)})`, [holder.id, ...keys.flat()]);
    await releaseOrphans(tx, accountId);
  });
}

/**
 * Whether `holder` already holds exactly these claims and each is `accountId`'s: then claiming
 * would change nothing. Only this account's own holders can change that state (a claim with
 * holders is never taken by another account), so the read is enough.
 */
async function claimedAsItIs(em: EntityManager, accountId: string, holder: ClaimHolder, keys: Key[]): Promise<boolean> {
  const [row] = (await em.execute(
    `select (select count(*) from engine_claim_holders h where h.${holder.column} = ?)::int as held,
            (select count(*) from engine_claim_holders h join engine_claims c on c.kind = h.claim_kind and c.external_id = h.claim_external_id
              where h.${holder.column} = ? and c.account_id = ? and (h.claim_kind, h.claim_external_id) in (${tuples(keys)}))::int as mine`,
    [holder.id, holder.id, accountId, ...keys.flat()],
  )) as Array<{ held: number; mine: number }>;
  return row.held === keys.length && row.mine === keys.length;
}

/**
 * Deletes the account's claims that no host or cluster holds any more (holders go with their
 * rows: ON DELETE CASCADE). Rows being claimed right now are skipped (locked); each candidate is
 * locked before it is checked again and deleted, so a holder committed meanwhile keeps it.
 */
async function releaseOrphans(tx: EntityManager, accountId: string): Promise<void> {
  const orphans = (await tx.execute(
    `select kind, external_id from engine_claims c
      where c.account_id = ? and not exists (select 1 from engine_claim_holders h where h.claim_kind = c.kind and h.claim_external_id = c.external_id)
      for update skip locked`,
    [accountId],
  )) as Array<{ kind: EngineClaimKind; external_id: string }>;
  if (orphans.length === 0) return;
  const keys = orphans.map((o) => [o.kind, o.external_id] as Key);
  await tx.execute(
    `delete from engine_claims c
      where (c.kind, c.external_id) in (${tuples(keys)})
        and not exists (select 1 from engine_claim_holders h where h.claim_kind = c.kind and h.claim_external_id = c.external_id)`,
    keys.flat(),
  );
}

/** Releases what the account no longer holds (after a host or cluster was removed). */
export function releaseClaims(em: EntityManager, accountId: string): Promise<void> {
  return inTransaction(em, (tx) => releaseOrphans(tx, accountId));
}

/**
 * Saves a new or changed host or cluster (`save` flushes it) and claims the identity its endpoint
 * showed at registration, in one transaction: a refusal leaves nothing stored. Without an
 * identity (the endpoint did not answer) it only saves; the supervisor claims on first contact.
 */
export async function saveWithClaim(em: EntityManager, accountId: string, holder: ClaimHolder, identity: EngineIdentity | undefined, field: string, save: () => Promise<void>): Promise<void> {
  if (!identity) return save();
  await em.begin();
  try {
    await save();
    await claimEngine(em, accountId, holder, identity, field);
    await em.commit();
  } catch (err) {
    await em.rollback();
    throw err;
  }
}
