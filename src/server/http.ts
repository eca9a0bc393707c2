import 'reflect-metadata';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ApolloServer, ApolloServerPlugin, HeaderMap } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { GraphQLError } from 'graphql';
import type { Config } from '../kernel/config';
import { allowance } from '../kernel/operation';
import { ErrorCode, formatError } from '../kernel/errors';
import { buildContext, Context } from '../graphql/context';
import type { ServerDeps } from './deps';
import { bearerToken } from './auth';
import { OperationGate } from './gate';
import type { OperationRequest } from './limits';
import { AccountLimits, accountKey, addressKey } from './rate-limit';
import { attachWebSocketServer } from './ws';

export type { ServerDeps };

export interface Server {
  httpServer: http.Server;
  /** http://host:port once listening. */
  url: string;
  /** Drains HTTP and WebSocket, closes the per-account limiters. */
  stop(): Promise<void>;
}

/** GraphQL over HTTP (Apollo) and WebSocket (graphql-ws) on one port, both through one OperationGate; /healthz, /readyz, /metrics. */
export async function startServer(deps: ServerDeps): Promise<Server> {
  const { config, logger, metrics, schema } = deps;
  const gate = new OperationGate(schema, config, metrics, logger);
  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const accountLimits = new AccountLimits(config.limits, config.redisUrl, logger);
  const ws = attachWebSocketServer(httpServer, gate, deps, accountLimits);

  const apollo = new ApolloServer<Context>({
    schema,
    introspection: !config.production,
    includeStacktraceInErrorResponses: !config.production,
    hideSchemaDetailsFromClientErrors: config.production,
    // the operation gate (httpContext) has parsed and checked the document with the same cap
    parseOptions: { maxTokens: config.limits.maxTokens },
    validationRules: gate.extraRules,
    // a persisted query is run by hash with new variables: it would skip the gate's pricing
    persistedQueries: false,
    formatError: (formatted, error) => gate.formatError(formatted, error),
    // compact JSON: Apollo indents by default, which made a 5,000-row page about a third larger and cost 5 % of its CPU
    stringifyResult: (result) => JSON.stringify(result),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: 5000 }),
      // no cache hints in this schema: its per-field hook only cost time (about 6% of a 5,000-row page)
      ApolloServerPluginCacheControlDisabled(),
      { serverWillStart: async () => ({ drainServer: async () => ws.dispose() }) },
      config.production ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }),
      observabilityPlugin(gate),
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
    const r = await deps.ready();
    const ok = r.database && r.pubsub;
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'unavailable', ...r });
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
      context = await buildContext(deps.context, bearerToken(req.headers.authorization), res.locals.requestId as string);
    } catch (err) {
      failure = err;
    }
    await accountLimits.consume(context?.principal ? accountKey(context.principal.account) : addressKey(req.socket.remoteAddress));
    if (!context) throw failure;
    const operation = httpOperation(req);
    if (operation) {
      const admitted = gate.admit(operation);
      if ('errors' in admitted) throw admitted.errors[0];
    }
    context.signal = res.locals.signal as AbortSignal;
    context.loadable = allowance(config.limits.maxLoadedBytes);
    return context;
  };
  app.use(
    '/graphql',
    deadline(gate, config),
    express.json({ limit: config.limits.maxBodyBytes }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        try {
          return await httpContext(req, res);
        } catch (err) {
          if (err instanceof GraphQLError) {
            gate.refused(err);
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
    res
      .status(status)
      .json({ errors: [{ message: status === 413 ? `Request body exceeds ${config.limits.maxBodyBytes} bytes` : status < 500 ? err.message : 'Internal server error', extensions: { code } }] });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const address = httpServer.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${host}:${address.port}`;
  return {
    httpServer,
    url,
    stop: async () => {
      await apollo.stop(); // drains HTTP, closes websockets with 1001
      await accountLimits.close();
    },
  };
}

/** HTTP status of a refusal made before Apollo runs (Apollo sends it with the error). */
function withHttpStatus(err: GraphQLError): GraphQLError {
  const code = err.extensions.code;
  const status = code === ErrorCode.UNAUTHENTICATED ? 401 : code === ErrorCode.RATE_LIMITED ? 429 : code === ErrorCode.SERVICE_UNAVAILABLE ? 503 : code === ErrorCode.INTERNAL_SERVER_ERROR ? 500 : 400;
  const headers = new HeaderMap();
  if (typeof err.extensions.retryAfter === 'number') headers.set('retry-after', String(err.extensions.retryAfter));
  return new GraphQLError(err.message, {
    nodes: err.nodes,
    source: err.source,
    positions: err.positions,
    originalError: err.originalError,
    extensions: { ...err.extensions, http: { status, headers } },
  });
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
 * The request's deadline (the gate's, as for WebSocket): past it the client gets TIMEOUT (503)
 * at once and the context's signal aborts, so the live Docker reads the operation waits for
 * give up; the same signal aborts when the client goes away.
 */
function deadline(gate: OperationGate, config: Config): express.RequestHandler {
  return (_req, res, next) => {
    const d = gate.deadline((error) => {
      if (res.headersSent) return;
      res.locals.timedOut = true;
      res.status(503).json({ errors: [formatError(error.toJSON(), config.production, error)] });
    });
    res.locals.signal = d.signal;
    res.once('close', () => d.end());
    next();
  };
}

/** Operation counts and durations by name (the gate's metrics); request logs with the request id. */
function observabilityPlugin(gate: OperationGate): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ operation, operationName, errors, response }) {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const type = operation?.operation ?? 'unknown';
          const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
          const failed = (errors?.length ?? 0) > 0 || (body?.errors?.length ?? 0) > 0;
          gate.observe('http', operationName, type, failed ? 'error' : 'ok', seconds);
          contextValue.logger?.debug({ operation: operationName ?? undefined, type, ms: Math.round(seconds * 1000), failed }, 'graphql operation');
        },
      };
    },
  };
}
