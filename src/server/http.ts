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
import { Config } from '../kernel/config';
import { AppError, formatError, ErrorCode } from '../kernel/errors';
import { initOrm, migrate } from '../infra/db/orm';
import { startEmbeddedPostgres, EmbeddedDatabase } from '../infra/db/embedded';
import { createPubSub } from '../infra/pubsub';
import { buildFleetSchema } from '../app/schema';
import { AccountDirectory } from '../modules/accounts/accounts';
import { bearerToken, createTokenVerifier } from './auth';
import { buildContext, Context, Services } from '../graphql/context';
import { admitOperation, OperationRequest } from './limits';
import { timedOut } from '../kernel/abort';
import { AccountLimits, accountKey, addressKey } from './rate-limit';
import { createLogger, Logger } from '../kernel/logger';
import { Metrics } from './metrics';
import { attachWebSocketServer } from './ws';
import { Workers } from '../kernel/worker';
import { createSecretBox } from '../infra/crypto';
import { DockerConnections } from '../infra/engine/connections';
import { EndpointPolicy } from '../kernel/addresses';
import { HostService } from '../modules/hosts/hosts';
import { ContainerManager } from '../modules/docker-resources/containers';
import { ImageManager } from '../modules/docker-resources/images';
import { NetworkManager } from '../modules/docker-resources/networks';
import { VolumeManager } from '../modules/docker-resources/volumes';
import { createHostFleet } from '../modules/hosts/fleet';
import { createSwarmServices } from '../modules/swarm';

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
  const connections = new DockerConnections(secrets, new EndpointPolicy(config.endpointAllow));
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
  const workers = new Workers(logger);
  workers.add(fleet);
  workers.add(swarm.fleet);

  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const accountLimits = new AccountLimits(config.limits, config.redisUrl, logger);
  const ws = attachWebSocketServer(httpServer, schema, services, accountLimits);

  const apollo = new ApolloServer<Context>({
    schema,
    introspection: !config.production,
    includeStacktraceInErrorResponses: !config.production,
    hideSchemaDetailsFromClientErrors: config.production,
    // the operation gate (httpContext) has parsed and checked the document with the same cap
    parseOptions: { maxTokens: config.limits.maxTokens },
    // a persisted query is run by hash with new variables: it would skip the gate's pricing
    persistedQueries: false,
    formatError: (formatted, error) => {
      const out = formatError(formatted, config.production, error);
      if (out.extensions?.code === ErrorCode.INTERNAL_SERVER_ERROR || out.extensions?.code === ErrorCode.SERVICE_UNAVAILABLE) {
        logger.error({ err: (error as GraphQLError)?.originalError ?? error }, 'unexpected error');
      }
      return out;
    },
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: 5000 }),
      { serverWillStart: async () => ({ drainServer: async () => ws.dispose() }) },
      config.production ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }),
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
  /**
   * Runs before Apollo parses anything: authentication, the request rate of the account (of the
   * address when anonymous), then the operation gate shared with WebSocket (token cap, depth,
   * aliases, directives, cost). Apollo's parse and validation only see admitted documents.
   */
  const httpContext = async (req: express.Request, res: express.Response): Promise<Context> => {
    let context: Context | undefined;
    let failure: unknown;
    try {
      context = await buildContext(services, bearerToken(req.headers.authorization), res.locals.requestId as string);
    } catch (err) {
      failure = err;
    }
    await accountLimits.consume(context?.principal ? accountKey(context.principal.account) : addressKey(req.socket.remoteAddress));
    if (!context) throw failure;
    const operation = httpOperation(req);
    if (operation) {
      const admitted = admitOperation(schema, operation, config.limits);
      if ('errors' in admitted) throw admitted.errors[0];
    }
    context.signal = res.locals.signal as AbortSignal;
    return context;
  };
  app.use(
    '/graphql',
    deadline(config, metrics),
    express.json({ limit: config.limits.maxBodyBytes }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        try {
          return await httpContext(req, res);
        } catch (err) {
          if (err instanceof GraphQLError) {
            metrics.refused(err);
            throw withHttpStatus(err);
          }
          throw err;
        }
      },
    }),
  );
  app.use((err: Error & { status?: number; type?: string }, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    // the deadline answered already; Apollo's late answer has nowhere to go
    if (res.locals.timedOut) return;
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
      await accountLimits.close();
      await pubsub.close().catch((err) => logger.warn({ err }, 'pubsub close'));
      await orm.close(true);
      await embedded?.stop();
      logger.info('stopped');
    })());
  return { services, httpServer, url, stop };
}

/** HTTP status of a refusal made before Apollo runs (Apollo sends it with the error). */
function withHttpStatus(err: GraphQLError): GraphQLError {
  const code = err.extensions.code;
  const status = code === ErrorCode.UNAUTHENTICATED ? 401 : code === ErrorCode.RATE_LIMITED ? 429 : code === ErrorCode.SERVICE_UNAVAILABLE ? 503 : code === ErrorCode.INTERNAL_SERVER_ERROR ? 500 : 400;
  const headers = new HeaderMap();
  if (typeof err.extensions.retryAfter === 'number') headers.set('retry-after', String(err.extensions.retryAfter));
  return new GraphQLError(err.message, { nodes: err.nodes, source: err.source, positions: err.positions, originalError: err.originalError, extensions: { ...err.extensions, http: { status, headers } } });
}

/** The operation of an HTTP request as Apollo will read it (GET: the URL; POST: the JSON body), when there is one. */
function httpOperation(req: express.Request): OperationRequest | undefined {
  if (req.method === 'GET') {
    const params = new URL(req.originalUrl, 'http://localhost').searchParams;
    const query = params.get('query');
    if (query === null) return undefined;
    let variables: unknown;
    try {
      variables = JSON.parse(params.get('variables') ?? 'null');
    } catch {
      throw new GraphQLError('`variables` in the URL is not JSON', { extensions: { code: 'BAD_REQUEST' } });
    }
    return { query, variables: isRecord(variables) ? variables : undefined, operationName: params.get('operationName') };
  }
  const body: unknown = req.body;
  // anything else (a batch, no query) Apollo refuses before parsing
  if (!isRecord(body) || typeof body.query !== 'string') return undefined;
  return { query: body.query, variables: isRecord(body.variables) ? body.variables : undefined, operationName: typeof body.operationName === 'string' ? body.operationName : undefined };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The request's deadline: past it the client gets TIMEOUT (503) at once and the context's
 * signal aborts, so the live Docker reads the operation waits for give up; the same signal
 * aborts when the client goes away.
 */
function deadline(config: Config, metrics: Metrics): express.RequestHandler {
  const ms = config.limits.requestTimeoutMs;
  return (_req, res, next) => {
    const controller = new AbortController();
    res.locals.signal = controller.signal;
    const timer = setTimeout(() => {
      const error = timedOut(ms);
      controller.abort(error);
      if (res.headersSent) return;
      res.locals.timedOut = true;
      metrics.refused(error);
      res.status(503).json({ errors: [formatError(error.toJSON(), config.production, error)] });
    }, ms);
    res.once('close', () => {
      clearTimeout(timer);
      if (!controller.signal.aborted) controller.abort(new AppError(ErrorCode.TIMEOUT, 'The request ended'));
    });
    next();
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
