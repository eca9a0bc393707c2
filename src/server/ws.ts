import type { Server as HttpServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { GraphQLError, GraphQLSchema, NoSchemaIntrospectionCustomRule, parse, specifiedRules, validate, getOperationAST, subscribe as graphqlSubscribe, Kind, OperationDefinitionNode } from 'graphql';
import { WebSocket, WebSocketServer } from 'ws';
import { useServer, Extra } from 'graphql-ws/use/ws';
import type { Disposable } from 'graphql-ws';
import { formatError, unauthenticated, tooComplex } from '../errors';
import { buildContext, Services } from './context';
import { isExpired, Principal, bearerToken } from './auth';
import { checkLimits } from './limits';
import { Metrics } from './metrics';
import { DirectSink, SharedSubscriptions } from './shared-subscriptions';

/** Close code graphql-ws uses for Forbidden: sent when the token is missing, invalid or expired. */
export const WS_FORBIDDEN = 4403;

interface ConnectionState {
  principal?: Principal;
  token?: string;
  expiryTimer?: NodeJS.Timeout;
  counted?: boolean;
  /** Active subscription operation ids, for the subscriptions gauge. */
  subscriptions: Set<string>;
}

type WsExtra = Extra & { state?: ConnectionState };

/**
 * Subscriptions that are live pub/sub feeds (no replay on join, results depend only on
 * arguments, account and permissions): subscribers asking the same thing share one execution.
 */
export const SHAREABLE_SUBSCRIPTIONS = new Set(['dockerEvents', 'dockerHostStatusChanged', 'activityUpdated', 'swarmEvents', 'swarmClusterStatusChanged']);
/** Results a subscriber of a shared execution may fall behind before it is ended with an error. */
export const SHARED_MAX_BACKLOG = 10_000;
/** Bytes a subscriber's socket may have unsent before it is ended as too slow (shared feeds). */
export const SHARED_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

function rootFields(op: OperationDefinitionNode): string[] | undefined {
  const names: string[] = [];
  for (const sel of op.selectionSet.selections) {
    if (sel.kind !== Kind.FIELD || sel.directives?.length) return undefined;
    names.push(sel.name.value);
  }
  return names;
}

/** Parse and validation errors carry the same codes Apollo gives them over HTTP. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { ...error.extensions, code } });
}

/** Reads the token from connection_init: `{ authorization: "Bearer …" }` or `{ token: "…" }`. */
function tokenFromParams(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  if (!params) return undefined;
  if (typeof params.token === 'string') return params.token;
  const header = params.authorization ?? params.Authorization;
  return typeof header === 'string' ? bearerToken(header) : undefined;
}

/**
 * graphql-ws on the HTTP server's /graphql path. Everything Apollo does for HTTP is done
 * again here: authentication (connection_init, then expiry on every subscribe), validation
 * with the same rules, query limits, error masking, metrics.
 */
export function attachWebSocketServer(httpServer: HttpServer, schema: GraphQLSchema, services: Services): { dispose: () => Promise<void> } {
  const { config, logger, metrics } = services;
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: config.limits.maxWsPayloadBytes });
  const rules = config.production ? [...specifiedRules, NoSchemaIntrospectionCustomRule] : specifiedRules;
  const format = (errors: readonly GraphQLError[]) => errors.map((e) => formatError(e.toJSON(), config.production));

  const shared = new SharedSubscriptions({ maxBacklog: SHARED_MAX_BACKLOG });
  const shareKeys = new WeakMap<object, { key: string; socket: WebSocket; id: string }>();
  /**
   * Sends a shared result as graphql-ws's `next` message straight to the socket, reusing the
   * group's serialization. Results with errors go through the same formatting as onNext.
   */
  const directSink =
    (socket: WebSocket, id: string): DirectSink =>
    (result, json) => {
      if (socket.readyState !== WebSocket.OPEN) return true;
      if (socket.bufferedAmount > SHARED_MAX_BUFFERED_BYTES) return false;
      const payload = result.errors ? JSON.stringify({ ...result, errors: format(result.errors as GraphQLError[]) }) : json;
      socket.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`);
      return true;
    };
  metrics.sharedExecutions = () => shared.size;

  const disposable: Disposable = useServer<Record<string, unknown>, { state: ConnectionState }>(
    {
      schema,
      subscribe: (args) => {
        const share = args.contextValue ? shareKeys.get(args.contextValue as object) : undefined;
        if (!share) return graphqlSubscribe(args);
        return shared.join(share.key, async () => graphqlSubscribe(args), directSink(share.socket, share.id));
      },
      onConnect: async (ctx) => {
        const extra = ctx.extra as WsExtra;
        extra.state = { subscriptions: new Set() };
        try {
          const token = tokenFromParams(ctx.connectionParams);
          if (!token) return false;
          const principal = await services.verifyToken(token);
          extra.state.principal = principal;
          extra.state.token = token;
          if (principal.expiresAt) {
            const ms = principal.expiresAt * 1000 - Date.now();
            extra.state.expiryTimer = setTimeout(() => extra.socket.close(WS_FORBIDDEN, 'Forbidden: token expired'), Math.min(Math.max(ms, 0), 2 ** 31 - 1));
          }
          metrics.wsConnections.inc();
          extra.state.counted = true;
          return true;
        } catch (err) {
          logger.info({ reason: (err as Error).message }, 'websocket connection refused');
          return false;
        }
      },
      onClose: (ctx) => {
        const state = (ctx.extra as WsExtra).state;
        if (state?.expiryTimer) clearTimeout(state.expiryTimer);
        if (state?.counted) metrics.wsConnections.dec();
        if (state) metrics.wsSubscriptions.dec(state.subscriptions.size);
        state?.subscriptions.clear();
      },
      onSubscribe: async (ctx, id, payload) => {
        const extra = ctx.extra as WsExtra;
        const state = extra.state!;
        if (!state.principal || isExpired(state.principal)) {
          extra.socket.close(WS_FORBIDDEN, 'Forbidden: token expired');
          return [unauthenticated('Token has expired')];
        }
        // graphql-ws has already reserved this operation's id in ctx.subscriptions
        if (Object.keys(ctx.subscriptions).length > config.limits.maxSubscriptionsPerConnection) {
          return [tooComplex(`At most ${config.limits.maxSubscriptionsPerConnection} operations per connection`, { limit: 'subscriptions' })];
        }
        let document;
        try {
          document = parse(payload.query);
        } catch (err) {
          return [withCode(err as GraphQLError, 'GRAPHQL_PARSE_FAILED')];
        }
        const validationErrors = validate(schema, document, rules);
        if (validationErrors.length > 0) return validationErrors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
        const limitErrors = checkLimits(schema, document, payload.variables ?? undefined, payload.operationName, config.limits);
        if (limitErrors.length > 0) return limitErrors;
        const operation = getOperationAST(document, payload.operationName);
        const contextValue = await buildContext(services, state.token, `ws-${randomUUID()}`);
        const fields = operation?.operation === 'subscription' ? rootFields(operation) : undefined;
        if (fields?.length && fields.every((f) => SHAREABLE_SUBSCRIPTIONS.has(f)) && contextValue.membership) {
          const permissions = [...(state.principal.permissions ?? [])].sort().join(',');
          shareKeys.set(contextValue, {
            key: JSON.stringify([payload.query, payload.operationName ?? null, payload.variables ?? null, contextValue.membership.accountId, permissions]),
            socket: extra.socket,
            id,
          });
        }
        metrics.operations.inc({ operation: Metrics.label(payload.operationName ?? operation?.name?.value), type: operation?.operation ?? 'unknown', transport: 'ws', outcome: 'started' });
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
        };
      },
      onOperation: (ctx, id, _payload, args) => {
        const op = getOperationAST(args.document, args.operationName);
        const state = (ctx.extra as WsExtra).state;
        if (op?.operation === 'subscription' && state && !state.subscriptions.has(id)) {
          state.subscriptions.add(id);
          metrics.wsSubscriptions.inc();
        }
      },
      onComplete: (ctx, id) => {
        const state = (ctx.extra as WsExtra).state;
        if (state?.subscriptions.delete(id)) metrics.wsSubscriptions.dec();
      },
      onError: (_ctx, _id, _payload, errors) => format(errors),
      onNext: (_ctx, _id, _payload, _args, result) => {
        if (!result.errors) return undefined;
        for (const e of result.errors) {
          if (!e.extensions?.code || e.extensions.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: e.originalError ?? e }, 'subscription error');
        }
        return { ...result, errors: format(result.errors) };
      },
    },
    wsServer,
  );
  return {
    dispose: async () => {
      await disposable.dispose();
    },
  };
}
