import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';

/**
 * Starts (or reuses) the real services the suite talks to: PostgreSQL, Redis and a dockerd
 * with a TLS listener (test/support/services.sh), and writes their addresses to
 * .data/test-env.json for test/support/env.ts. FLEETGRAPH_TEST_DATABASE_URL and
 * FLEETGRAPH_TEST_REDIS_URL point the suite at services that already run.
 */
export default async function globalSetup(): Promise<void> {
  const root = path.resolve(__dirname, '..', '..');
  const script = path.join(__dirname, 'services.sh');
  const started = Date.now();
  execFileSync(script, ['up'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const out = execFileSync(script, ['env'], { encoding: 'utf8' });
  const env: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  fs.mkdirSync(path.join(root, '.data'), { recursive: true });
  fs.writeFileSync(path.join(root, '.data', 'test-env.json'), JSON.stringify(env, null, 2));
  await dropLeftoverDatabases(env.FLEETGRAPH_TEST_DATABASE_URL);
  process.stderr.write(`test services ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

/** Test databases (createTestDatabase) older than this were left by a run that was killed. */
const LEFTOVER_AFTER_S = 6 * 3600;

/**
 * Drops the test databases that killed runs left behind: those named with a creation time older
 * than LEFTOVER_AFTER_S, and those of the older naming (no time) that nobody is connected to.
 * A run of another checkout going on at the same time keeps its databases.
 */
async function dropLeftoverDatabases(url: string | undefined): Promise<void> {
  if (!url) return;
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ datname: string; used: boolean }>(
      `select d.datname, exists (select 1 from pg_stat_activity a where a.datname = d.datname) as used from pg_database d where d.datname like 'fg\\_%'`,
    );
    const now = Date.now() / 1000;
    const leftover = rows.filter(({ datname, used }) => {
      const timed = /^fg_([0-9a-z]{1,10})_[0-9a-f]{12}$/.exec(datname);
      if (timed) return now - parseInt(timed[1], 36) > LEFTOVER_AFTER_S;
      return /^fg_[0-9a-f]{12}$/.test(datname) && !used;
    });
    for (const { datname } of leftover) await c.query(`drop database if exists "${datname}" with (force)`).catch(() => undefined);
    if (leftover.length > 0) process.stderr.write(`dropped ${leftover.length} test database(s) left by killed runs\n`);
  } finally {
    await c.end();
  }
}
