import { Client as PgClient } from 'pg';

/** Runs one SQL query on `url` on a short-lived connection. */
export async function sql<T extends Record<string, unknown> = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new PgClient({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/**
 * Runs `run` while another session of `url` holds an exclusive lock on `table` (what needs the
 * table waits until the lock goes); returns its outcome and how long it took.
 */
export async function whileLocked<T>(url: string, table: string, run: () => Promise<T>): Promise<{ outcome: T; ms: number }> {
  const pg = new PgClient({ connectionString: url });
  await pg.connect();
  try {
    await pg.query('begin');
    await pg.query(`lock table ${table} in access exclusive mode`);
    const started = performance.now();
    const outcome = await run();
    return { outcome, ms: performance.now() - started };
  } finally {
    await pg.query('rollback').catch(() => undefined);
    await pg.end();
  }
}
