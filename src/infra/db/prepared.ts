import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Runs one statement as a named prepared statement: PostgreSQL parses it once per connection
 * instead of on every call (the event insert, a CTE of four parts, runs for every batch of every
 * endpoint). It is still planned for its parameters each time (`plan_cache_mode =
 * force_custom_plan` on every connection, src/infra/db/orm.ts). On the connection of `em`'s transaction when it has one (knex's
 * transaction client hands out that connection), else on one of the pool's. `?` placeholders, in
 * order, as the ORM writes them; a parameter whose type PostgreSQL can't infer from its place
 * needs a cast (`?::uuid`); arrays are PostgreSQL arrays (`= any(?::uuid[])`).
 */
export async function executePrepared<T>(em: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const statement = prepared(sql);
  const trx = em.getTransactionContext<{ client: unknown }>();
  const client = (trx ?? em.getConnection().getKnex()).client as PoolClient;
  const conn = await client.acquireConnection();
  try {
    return (await conn.query<T>({ name: statement.name, text: statement.text, values: params })).rows;
  } finally {
    await client.releaseConnection(conn);
  }
}

interface PoolClient {
  acquireConnection(): Promise<{ query<T>(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: T[] }> }>;
  releaseConnection(conn: unknown): Promise<void>;
}

/** Statement texts by their `?` form: a handful per process (each shape of the event insert). */
const statements = new Map<string, { name: string; text: string }>();
const MAX_STATEMENTS = 64;

function prepared(sql: string): { name: string; text: string } {
  let s = statements.get(sql);
  if (!s) {
    let n = 0;
    const text = sql.replace(/\?/g, () => `$${++n}`);
    s = { name: `fg_${createHash('sha256').update(text).digest('hex').slice(0, 20)}`, text };
    // bounded: the shapes are fixed by the code, never by input
    if (statements.size >= MAX_STATEMENTS) throw new Error('too many prepared statement shapes');
    statements.set(sql, s);
  }
  return s;
}
