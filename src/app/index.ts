import type { Config } from '../kernel/config';
import { createLogger, Logger } from '../kernel/logger';
import { startServer, Server } from '../server/http';
import { compose, Composition } from './compose';

export interface App {
  /** The composed process: modules, stores, workers (tests and operators' scripts reach services here). */
  services: Composition;
  httpServer: Server['httpServer'];
  /** http://host:port once listening. */
  url: string;
  stop(): Promise<void>;
}

/** Composes the process, applies migrations, listens, and starts the workers (unless config.workers is off). */
export async function startApp(config: Config, options: { logger?: Logger } = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const services = await compose(config, logger);
  const server = await startServer({
    config,
    logger,
    metrics: services.metrics,
    schema: services.schema,
    context: services.context,
    ready: async () => {
      const [database, pubsub] = await Promise.all([
        services.orm.em
          .getConnection()
          .execute('select 1')
          .then(
            () => true,
            () => false,
          ),
        services.pubsub.ready(),
      ]);
      return { database, pubsub, pubsubKind: services.pubsub.kind };
    },
  });
  if (config.workers) await services.workers.start();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down');
      await services.workers.stop();
      await server.stop();
      await services.close();
      logger.info('stopped');
    })());
  return { services, httpServer: server.httpServer, url: server.url, stop };
}

export { loadConfig } from './config';
