import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

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
  process.stderr.write(`test services ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
