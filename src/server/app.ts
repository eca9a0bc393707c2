import 'reflect-metadata';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ApolloServer, ApolloServerPlugin, HeaderMap } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import type { MikroORM } from '@mikro-orm/postgresql';
import { GraphQLError } from 'graphql';
import { Config } from '../config';
import { formatError, ErrorCode } from '../errors';
import { initOrm, migrate } from '../db/orm';
import { startEmbeddedPostgres, EmbeddedDatabase } from '../db/embedded';
import { createPubSub } from '../pubsub';
import { buildFleetSchema } from '../graphql/schema';
import { AccountDirectory } from './accounts';
import { bearerToken, createTokenVerifier } from './auth';
import { buildContext, Context, Services } from './context';
import { checkLimits } from './limits';
import { createLogger, Logger } from './logger';
import { Metrics } from './metrics';
import { attachWebSocketServer } from './ws';
import { Workers } from './workers';
import { createSecretBox } from '../crypto';
import { DockerConnections } from '../docker/connections';
import { HostService } from '../docker/hosts';
import { ContainerManager } from '../docker/containers';
import { ImageManager } from '../docker/images';
import { NetworkManager } from '../docker/networks';
import { VolumeManager } from '../docker/volumes';
import { createHostFleet } from '../sync/fleet';
import { createSwarmServices } from '../swarm';

export interface App {
  services: Services;
  httpServer: http.Server;
  /** http://host:port once listening. */
  url: string;
  stop(): Promise<void>;
}

/** Builds every service, applies migrations, and starts listening. */
export async function startApp(config: Config, options: { logger?: Logger } = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.logLevel);
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres(config.dataDir, logger);
    databaseUrl = embedded.url;
  }
  const orm: MikroORM = await initOrm(databaseUrl, { logger: (message) => logger.debug({ orm: message }, 'mikro-orm'), colors: false });
  await migrate(orm, databaseUrl, logger);
  const pubsub = createPubSub(config.redisUrl, logger);
  const metrics = new Metrics();
  const secrets = createSecretBox(config);
  const connections = new DockerConnections(secrets);
  const syncDeps = { orm, pubsub, logger, connections, retryBaseMs: config.sync.retryBaseMs };
  const fleet = createHostFleet(syncDeps);
  const swarm = createSwarmServices(secrets, connections, syncDeps);
  const services: Services = {
    config,
    logger,
    orm,
    pubsub,
    metrics,
    accounts: new AccountDirectory(orm),
    verifyToken: createTokenVerifier(config.jwt),
    secrets,
    connections,
    fleet,
    hosts: new HostService(secrets, connections, fleet, syncDeps),
    containers: new ContainerManager(),
    images: new ImageManager(),
    networks: new NetworkManager(),
    volumes: new VolumeManager(),
    swarm,
  };
  const schema = await buildFleetSchema(pubsub);
  const workers = new Workers(services);
  workers.add(fleet);
  workers.add(swarm.fleet);

  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const ws = attachWebSocketServer(httpServer, schema, services);

  const apollo = new ApolloServer<Context>({
    schema,
    introspection: !config.production,
    includeStacktraceInErrorResponses: !config.production,
    hideSchemaDetailsFromClientErrors: config.production,
    formatError: (formatted, error) => {
      const out = formatError(formatted, config.production);
      if (out.extensions?.code === ErrorCode.INTERNAL_SERVER_ERROR) {
        logger.error({ err: (error as GraphQLError)?.originalError ?? error }, 'unexpected error');
      }
      return out;
    },
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: 5000 }),
      { serverWillStart: async () => ({ drainServer: async () => ws.dispose() }) },
      config.production ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }),
      limitsPlugin(config),
      observabilityPlugin(metrics),
    ],
  });
  await apollo.start();

  app.use((req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && /^[\w.-]{1,100}$/.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = id;
    res.setHeader('x-request-id', id);
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const [database, pubsubOk] = await Promise.all([
      orm.em.getConnection().execute('select 1').then(() => true, () => false),
      pubsub.ready(),
    ]);
    const ok = database && pubsubOk;
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'unavailable', database, pubsub: pubsubOk, pubsubKind: pubsub.kind });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  app.use(
    '/graphql',
    express.json({ limit: config.limits.maxBodyBytes }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        try {
          return await buildContext(services, bearerToken(req.headers.authorization), res.locals.requestId as string);
        } catch (err) {
          if (err instanceof GraphQLError) {
            throw new GraphQLError(err.message, { extensions: { ...err.extensions, http: { status: err.extensions.code === ErrorCode.UNAUTHENTICATED ? 401 : 400 } } });
          }
          throw err;
        }
      },
    }),
  );
  app.use((err: Error & { status?: number; type?: string }, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(err);
    const status = err.status ?? 500;
    const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status < 500 ? 'BAD_REQUEST' : ErrorCode.INTERNAL_SERVER_ERROR;
    if (status >= 500) logger.error({ err }, 'http error');
    res.status(status).json({ errors: [{ message: status === 413 ? `Request body exceeds ${config.limits.maxBodyBytes} bytes` : status < 500 ? err.message : 'Internal server error', extensions: { code } }] });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const address = httpServer.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${host}:${address.port}`;
  if (config.workers) await workers.start();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down');
      await workers.stop();
      await apollo.stop(); // drains HTTP, closes websockets with 1001
      await pubsub.close().catch((err) => logger.warn({ err }, 'pubsub close'));
      await orm.close(true);
      await embedded?.stop();
      logger.info('stopped');
    })());
  return { services, httpServer, url, stop };
}

/** Depth, alias and cost limits for HTTP operations (the WS path runs the same check). */
function limitsPlugin(config: Config): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, schema }) {
          const errors = checkLimits(schema, document, request.variables, request.operationName, config.limits);
          if (errors.length > 0) {
            const e = errors[0];
            throw new GraphQLError(e.message, { extensions: { ...e.extensions, http: { status: 400, headers: new HeaderMap() } } });
          }
        },
      };
    },
  };
}

/** Operation counts and durations by name; request logs with the request id. */
function observabilityPlugin(metrics: Metrics): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ operation, operationName, errors, response }) {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const name = Metrics.label(operationName);
          const type = operation?.operation ?? 'unknown';
          const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
          const failed = (errors?.length ?? 0) > 0 || (body?.errors?.length ?? 0) > 0;
          metrics.operations.inc({ operation: name, type, transport: 'http', outcome: failed ? 'error' : 'ok' });
          metrics.duration.observe({ operation: name, type }, seconds);
          contextValue.logger?.debug({ operation: name, type, ms: Math.round(seconds * 1000), failed }, 'graphql operation');
        },
      };
    },
  };
}
