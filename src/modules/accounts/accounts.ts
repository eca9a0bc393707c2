import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';

/** The token's identity as the directory needs it. */
export interface Identity {
  subject: string;
  account: string;
}

export interface Membership {
  accountId: string;
  userId: string;
}

const SEEN_REFRESH_MS = 60_000;

/**
 * Maps a verified principal to its account and user rows, creating them on first sight.
 * Results are cached per process; `last_seen_at` is refreshed at most once a minute.
 */
export class AccountDirectory {
  private readonly cache = new Map<string, { membership: Membership; seenAt: number }>();

  constructor(private readonly orm: MikroORM) {}

  async resolve(principal: Identity): Promise<Membership> {
    const key = `${principal.account}\u0000${principal.subject}`;
    const hit = this.cache.get(key);
    const now = Date.now();
    if (hit && now - hit.seenAt < SEEN_REFRESH_MS) return hit.membership;
    const conn = this.orm.em.getConnection();
    const [account] = await conn.execute<{ id: string }[]>(
      `insert into accounts (id, name, created_at, updated_at) values (?, ?, now(), now())
       on conflict (name) do update set name = excluded.name returning id`,
      [randomUUID(), principal.account],
    );
    const [user] = await conn.execute<{ id: string }[]>(
      `insert into users (id, account_id, subject, last_seen_at, created_at, updated_at) values (?, ?, ?, now(), now(), now())
       on conflict (account_id, subject) do update set last_seen_at = now() returning id`,
      [randomUUID(), account.id, principal.subject],
    );
    const membership = { accountId: account.id, userId: user.id };
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { membership, seenAt: now });
    return membership;
  }
}
