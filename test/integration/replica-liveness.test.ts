import { Client as PgClient } from 'pg';
import { createTestDatabase } from '../support/app';
import { initOrm, migrate } from '../../src/infra/db/orm';
import { DEAD_REPLICAS } from '../../src/platform/leasing/leased-fleet';
import type { MikroORM } from '@mikro-orm/postgresql';

/**
 * Which replicas the fleet judges dead without waiting for their leases (src/platform/leasing/
 * leased-fleet.ts DEAD_REPLICAS), against real PostgreSQL backends: a presence whose session's
 * backend is gone is dead; one whose backend is alive, or that can't be judged (no backend
 * recorded, written before PostgreSQL started), is left to its lease.
 */
describe('replica liveness by its session backend', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let orm: MikroORM;
  let pg: PgClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    orm = await initOrm(db.url);
    await migrate(orm, db.url);
    pg = new PgClient({ connectionString: db.url });
    await pg.connect();
  }, 60_000);

  afterAll(async () => {
    await pg?.end();
    await orm?.close(true);
    await db?.drop();
  });

  /** A connection's backend (pid, start), and a way to end it. */
  async function backend(): Promise<{ pid: number; start: string; end: () => Promise<void> }> {
    const c = new PgClient({ connectionString: db.url });
    await c.connect();
    const { rows } = await c.query(`select pid, backend_start::text as start from pg_stat_activity where pid = pg_backend_pid()`);
    return { ...(rows[0] as { pid: number; start: string }), end: () => c.end() };
  }

  async function present(owner: string, pid: number | null, start: string | null, seenAt = 'now()'): Promise<void> {
    await pg.query(`insert into fleet_replicas (fleet, owner, seen_at, expires_at, backend_pid, backend_start) values ('docker_hosts', $1, ${seenAt}, now() + interval '6 seconds', $2, $3)`, [
      owner,
      pid,
      start,
    ]);
  }

  const dead = async (me = 'me') => ((await pg.query(DEAD_REPLICAS, ['docker_hosts', me])).rows as Array<{ owner: string }>).map((r) => r.owner).sort();

  it('a replica whose backend ended is dead at once; live backends, unrecorded ones and those from before PostgreSQL started are not judged', async () => {
    const alive = await backend();
    const gone = await backend();
    const reused = await backend();
    await present('alive', alive.pid, alive.start);
    await present('gone', gone.pid, gone.start);
    // the pid is alive, but it is another backend now (its start differs): the recorded one is gone
    await present('reused', reused.pid, '2000-01-01T00:00:00Z');
    await present('unrecorded', null, null);
    await present('me', alive.pid, alive.start);
    // written before this PostgreSQL instance started: its pid means nothing now
    await present('before-restart', 999_999, '1970-01-01T00:00:00Z', `pg_postmaster_start_time() - interval '1 second'`);
    expect(await dead()).toEqual(['reused']);

    await gone.end();
    // PostgreSQL ends the backend as soon as the socket closes
    for (let i = 0; i < 100 && !(await dead()).includes('gone'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await dead()).toEqual(['gone', 'reused']);
    // a replica never judges itself, and only its own fleet's presences count
    expect(await dead('gone')).toEqual(['reused']);
    expect((await pg.query(DEAD_REPLICAS, ['swarm_clusters', 'me'])).rows).toEqual([]);
    await alive.end();
    await reused.end();
  });
});
