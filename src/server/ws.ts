import type { Server as HttpServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { ExecutionResult, GraphQLError, GraphQLSchema, NoSchemaIntrospectionCustomRule, specifiedRules, validate, getOperationAST, subscribe as graphqlSubscribe, Kind, OperationDefinitionNode } from 'graphql';
import { WebSocket, WebSocketServer } from 'ws';
import { useServer, Extra } from 'graphql-ws/use/ws';
import type { Disposable } from 'graphql-ws';
import { AppError, formatError, unauthenticated } from '../errors';
import { buildContext, Services } from './context';
import { isExpired, Principal, bearerToken } from './auth';
import { admitOperation, withCode } from './limits';
import { Metrics } from './metrics';
import { AccountLimits, accountKey, addressKey, rateLimited } from './rate-limit';
import { DirectSink, SharedSubscriptions } from './shared-subscriptions';

/** Close code graphql-ws uses for Forbidden: sent when the token is missing, invalid or expired. */
export const WS_FORBIDDEN = 4403;
/** Close code for a connection refused by a per-account limit (request rate, connections). */
export const WS_RATE_LIMITED = 4429;

interface ConnectionState {
  principal?: Principal;
  token?: string;
  expiryTimer?: NodeJS.Timeout;
  /** The account holding one of its connection slots through this connection. */
  account?: string;
  /** Active subscription operation ids (each holds a subscription slot of the account). */
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

function rootFields(op: OperationDefinitionNode): string[] | undefined {
  const names: string[] = [];
  for (const sel of op.selectionSet.selections) {
    if (sel.kind !== Kind.FIELD || sel.directives?.length) return undefined;
    names.push(sel.name.value);
  }
  return names;
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
 * again here: authentication (connection_init, then expiry on every subscribe), the request
 * rate, the operation gate (admitOperation, as for HTTP), validation with the same rules, error
 * masking, metrics. On top: connections and subscriptions per account, and every subscription
 * delivered through a SharedSubscriptions group whose sink ends it once the socket has more than
 * `maxWsBufferedBytes` unsent.
 */
export function attachWebSocketServer(httpServer: HttpServer, schema: GraphQLSchema, services: Services, limits: AccountLimits): { dispose: () => Promise<void> } {
  const { config, logger, metrics } = services;
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: config.limits.maxWsPayloadBytes });
  const rules = config.production ? [...specifiedRules, NoSchemaIntrospectionCustomRule] : specifiedRules;
  /** Client-facing errors; unexpected ones are logged first. */
  const format = (errors: readonly GraphQLError[]) =>
    errors.map((e) => {
      if (!e.extensions?.code || e.extensions.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: e.originalError ?? e }, 'subscription error');
      return formatError(e.toJSON(), config.production, e);
    });
  const refuse = (error: GraphQLError): GraphQLError[] => {
    metrics.refused(error);
    return [error];
  };
  const refuseConnection = (extra: WsExtra, error: GraphQLError): false => {
    metrics.refused(error);
    extra.socket.close(WS_RATE_LIMITED, error.message);
    return false;
  };

  const shared = new SharedSubscriptions({ maxBacklog: SHARED_MAX_BACKLOG });
  const deliveries = new WeakMap<object, { key: string; socket: WebSocket; id: string }>();
  /**
   * Sends a result as graphql-ws's `next` message straight to the socket, reusing the group's
   * serialization; refuses it once the socket has more than maxWsBufferedBytes unsent.
   */
  const directSink =
    (socket: WebSocket, id: string): DirectSink =>
    (result, json) => {
      if (socket.readyState !== WebSocket.OPEN) return true;
      if (socket.bufferedAmount > config.limits.maxWsBufferedBytes) {
        metrics.refused({ extensions: { limit: 'sendBuffer' } });
        return false;
      }
      const payload = result.errors ? JSON.stringify({ ...result, errors: format(result.errors as GraphQLError[]) }) : json;
      socket.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`);
      return true;
    };
  metrics.sharedExecutions = () => shared.size;

  const endSubscription = (state: ConnectionState, id: string) => {
    if (!state.subscriptions.delete(id)) return;
    metrics.wsSubscriptions.dec();
    if (state.principal) limits.endSubscription(state.principal.account);
  };

  const disposable: Disposable = useServer<Record<string, unknown>, { state: ConnectionState }>(
    {
      schema,
      // Every subscription runs in a group: shareable ones under their key, the others alone.
      subscribe: (args) => {
        const delivery = args.contextValue ? deliveries.get(args.contextValue as object) : undefined;
        if (!delivery) return graphqlSubscribe(args);
        return shared.join(delivery.key, async () => graphqlSubscribe(args), directSink(delivery.socket, delivery.id));
      },
      onConnect: async (ctx) => {
        const extra = ctx.extra as WsExtra;
        extra.state = { subscriptions: new Set() };
        let principal: Principal | undefined;
        try {
          const token = tokenFromParams(ctx.connectionParams);
          if (token) {
            principal = await services.verifyToken(token);
            extra.state.token = token;
          }
        } catch (err) {
          logger.info({ reason: (err as Error).message }, 'websocket connection refused');
        }
        try {
          await limits.consume(principal ? accountKey(principal.account) : addressKey(extra.request.socket.remoteAddress));
        } catch (err) {
          if (err instanceof AppError) return refuseConnection(extra, err);
          throw err;
        }
        // closed while this awaited: onClose has run already, so no slot may be taken
        if (!principal || extra.socket.readyState !== WebSocket.OPEN) return false;
        if (!limits.openConnection(principal.account)) {
          return refuseConnection(extra, rateLimited(`At most ${config.limits.maxConnectionsPerAccount} connections per account`, { limit: 'connections', max: config.limits.maxConnectionsPerAccount }));
        }
        extra.state.principal = principal;
        extra.state.account = principal.account;
        if (principal.expiresAt) {
          const ms = principal.expiresAt * 1000 - Date.now();
          extra.state.expiryTimer = setTimeout(() => extra.socket.close(WS_FORBIDDEN, 'Forbidden: token expired'), Math.min(Math.max(ms, 0), 2 ** 31 - 1));
        }
        metrics.wsConnections.inc();
        return true;
      },
      onClose: (ctx) => {
        const state = (ctx.extra as WsExtra).state;
        if (!state) return;
        if (state.expiryTimer) clearTimeout(state.expiryTimer);
        for (const id of [...state.subscriptions]) endSubscription(state, id);
        if (state.account) {
          limits.closeConnection(state.account);
          metrics.wsConnections.dec();
          state.account = undefined;
        }
      },
      onSubscribe: async (ctx, id, payload) => {
        const extra = ctx.extra as WsExtra;
        const state = extra.state!;
        if (!state.principal || isExpired(state.principal)) {
          extra.socket.close(WS_FORBIDDEN, 'Forbidden: token expired');
          return [unauthenticated('Token has expired')];
        }
        try {
          await limits.consume(accountKey(state.principal.account));
        } catch (err) {
          if (err instanceof AppError) return refuse(err);
          throw err;
        }
        // graphql-ws has already reserved this operation's id in ctx.subscriptions
        if (Object.keys(ctx.subscriptions).length > config.limits.maxSubscriptionsPerConnection) {
          return refuse(rateLimited(`At most ${config.limits.maxSubscriptionsPerConnection} operations at once per connection`, { limit: 'operationsPerConnection', max: config.limits.maxSubscriptionsPerConnection }));
        }
        const admitted = admitOperation(schema, payload, config.limits);
        if ('errors' in admitted) return refuse(admitted.errors[0]);
        const { document } = admitted;
        const validationErrors = validate(schema, document, rules);
        if (validationErrors.length > 0) return validationErrors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
        const operation = getOperationAST(document, payload.operationName);
        const isSubscription = operation?.operation === 'subscription';
        if (isSubscription) {
          try {
            limits.startSubscription(state.principal.account);
          } catch (err) {
            if (err instanceof AppError) return refuse(err);
            throw err;
          }
          state.subscriptions.add(id);
          metrics.wsSubscriptions.inc();
        }
        let contextValue;
        try {
          contextValue = await buildContext(services, state.token, `ws-${randomUUID()}`);
        } catch (err) {
          endSubscription(state, id);
          throw err;
        }
        if (isSubscription) {
          const fields = rootFields(operation);
          const shareable = fields?.length && fields.every((f) => SHAREABLE_SUBSCRIPTIONS.has(f)) && contextValue.membership;
          const permissions = [...state.principal.permissions].sort().join(',');
          const key = shareable
            ? JSON.stringify([payload.query, payload.operationName ?? null, payload.variables ?? null, contextValue.membership!.accountId, permissions])
            : `own:${randomUUID()}`;
          deliveries.set(contextValue, { key, socket: extra.socket, id });
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
      onComplete: (ctx, id) => {
        const state = (ctx.extra as WsExtra).state;
        if (state) endSubscription(state, id);
      },
      onError: (_ctx, _id, _payload, errors) => format(errors),
      onNext: (_ctx, _id, _payload, _args, result: ExecutionResult) => (result.errors ? { ...result, errors: format(result.errors) } : undefined),
    },
    wsServer,
  );
  return {
    dispose: async () => {
      await disposable.dispose();
    },
  };
}
