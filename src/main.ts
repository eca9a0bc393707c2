import 'reflect-metadata';
import { loadConfig } from './app/config';
import { startApp } from './app';
import { createLogger } from './kernel/logger';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const app = await startApp(config, { logger });
  logger.info({ url: `${app.url}/graphql` }, 'fleetgraph listening');
  // Plain lines for humans reading the terminal.
  console.log(`\nfleetgraph is listening on ${app.url}/graphql (GraphQL over HTTP and graphql-ws)`);
  console.log(`  health: ${app.url}/healthz  readiness: ${app.url}/readyz  metrics: ${app.url}/metrics`);
  console.log(`  database: ${config.databaseUrl ? 'DATABASE_URL' : `embedded PostgreSQL in ${config.dataDir}/postgres`}; pub/sub: ${config.redisUrl ? 'Redis (REDIS_URL)' : 'in-process'}`);
  if (!config.production) console.log(`  Apollo Sandbox: open ${app.url}/graphql in a browser`);
  console.log('  get a token:  npm run token -- --account dev --permissions docker.hosts.manage,docker.resources.manage,docker.containers.exec,docker.logs.read\n');

  let signals = 0;
  const shutdown = (signal: string) => {
    if (signals++ > 0) process.exit(1);
    logger.info({ signal }, 'signal received');
    app.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
