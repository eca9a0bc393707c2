import type { Server as HttpServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { ExecutionArgs, ExecutionResult, GraphQLError, GraphQLSchema, subscribe as graphqlSubscribe, execute as graphqlExecute, FieldNode, Kind, OperationDefinitionNode, ValueNode } from 'graphql';
import { WebSocket, WebSocketServer } from 'ws';
import { useServer, Extra } from 'graphql-ws/use/ws';
import type { Context as WsContext, Disposable, SubscribePayload } from 'graphql-ws';
import { AppError, conflict, unauthenticated } from '../kernel/errors';
import { buildContext, Context } from '../graphql/context';
import { withBoundedRows } from '../graphql/loaders';
import { isExpired, Principal, bearerToken } from './auth';
import { abortable } from '../kernel/abort';
import { allowance } from '../kernel/operation';
import type { Deadline, OperationGate } from './gate';
import type { ServerDeps } from './deps';
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
  /**
   * The operations of this connection by id, from their subscribe message until they end (one
   * per id: a subscribe reusing the id of one not ended yet closes the connection with 4409).
   */
  operations: Map<string, Operation>;
}

/** One subscribe message's operation: what it holds (a subscription slot, a deadline) is released once, by endOperation. */
interface Operation {
  /** The subscribe message's payload, which graphql-ws hands to onComplete too. */
  payload: object;
  /** Holds one of the account's subscription slots. */
  slot: boolean;
  /** A query's or mutation's deadline (the gate's, as over HTTP). */
  deadline?: Deadline;
}

/** Close code graphql-ws uses when a subscribe reuses the id of an operation still running. */
const WS_SUBSCRIBER_EXISTS = 4409;

type WsExtra = Extra & Partial<{ state: ConnectionState }>;

/**
 * Subscription fields that are live pub/sub feeds (no replay on join, results depend only on
 * arguments, account and permissions), marked in the schema with `@Extensions({ shareable: true })`:
 * subscribers asking the same thing share one execution. A field may name arguments that start a
 * replay (`@Extensions({ shareable: true, replayArgs: ['after'] })`): a subscription that sets one
 * runs on its own, since what it receives depends on when it joined.
 * Returns the shareable fields with their replay arguments.
 */
export function shareableSubscriptions(schema: GraphQLSchema): Map<string, readonly string[]> {
  const fields = schema.getSubscriptionType()?.getFields() ?? {};
  return new Map(
    Object.values(fields)
      .filter((f) => f.extensions?.shareable === true)
      .map((f) => [f.name, (f.extensions?.replayArgs as string[] | undefined) ?? []]),
  );
}

/**
 * Whether every root field is shareable and sets none of its replay arguments: literally, through
 * a variable given a value, or through a variable's default (`$after: String = "500"` sent without
 * `after` replays from 500 as much as sending it).
 */
export function sharesExecution(op: OperationDefinitionNode, shareable: Map<string, readonly string[]>, variables: Record<string, unknown> | null | undefined): boolean {
  const fields = rootFields(op);
  if (!fields?.length) return false;
  const defaults = new Map((op.variableDefinitions ?? []).map((d) => [d.variable.name.value, d.defaultValue]));
  const sets = (value: ValueNode) => {
    if (value.kind !== Kind.VARIABLE) return value.kind !== Kind.NULL;
    const name = value.name.value;
    if (variables && Object.hasOwn(variables, name)) return variables[name] != null;
    const fallback = defaults.get(name);
    return fallback !== undefined && fallback.kind !== Kind.NULL;
  };
  return fields.every((f) => {
    const replayArgs = shareable.get(f.name.value);
    if (!replayArgs) return false;
    return !(f.arguments ?? []).some((a) => replayArgs.includes(a.name.value) && sets(a.value));
  });
}
/** Results a subscriber of a shared execution may fall behind before it is ended with an error. */
export const SHARED_MAX_BACKLOG = 10_000;

function rootFields(op: OperationDefinitionNode): FieldNode[] | undefined {
  const fields: FieldNode[] = [];
  for (const sel of op.selectionSet.selections) {
    if (sel.kind !== Kind.FIELD || sel.directives?.length) return undefined;
    fields.push(sel);
  }
  return fields;
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
export function attachWebSocketServer(httpServer: HttpServer, gate: OperationGate, deps: ServerDeps, limits: AccountLimits): { dispose: () => Promise<void> } {
  const { config, logger, metrics, schema } = deps;
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: config.limits.maxWsPayloadBytes });
  const shareable = shareableSubscriptions(schema);
  const format = (errors: readonly GraphQLError[]) => gate.format(errors);
  const refuse = (error: GraphQLError): GraphQLError[] => [gate.refused(error)];
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
      // a closed socket ends the subscription (nothing else may: graphql-ws no longer tracks it)
      if (socket.readyState !== WebSocket.OPEN) return false;
      if (socket.bufferedAmount > config.limits.maxWsBufferedBytes) {
        metrics.refused({ extensions: { limit: 'sendBuffer' } });
        return false;
      }
      const payload = result.errors ? JSON.stringify({ ...result, errors: format(result.errors as GraphQLError[]) }) : json;
      socket.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`);
      return true;
    };
  metrics.sharedExecutions = () => shared.size;

  /** Releases what an operation holds, once; nothing if `op` is no longer the connection's operation for `id`. */
  const endOperation = (state: ConnectionState, id: string, op: Operation) => {
    if (state.operations.get(id) !== op) return;
    state.operations.delete(id);
    op.deadline?.end();
    if (op.slot) {
      metrics.wsSubscriptions.dec();
      if (state.principal) limits.endSubscription(state.principal.account);
    }
  };
  const disposable: Disposable = useServer<Record<string, unknown>, { state: ConnectionState }>(
    {
      schema,
      // A query or mutation is answered TIMEOUT at its deadline, as over HTTP (what it waits for then finishes unobserved).
      execute: (args) => {
        const signal = (args.contextValue as { signal?: AbortSignal } | undefined)?.signal;
        const result = graphqlExecute(args);
        return signal ? abortable(Promise.resolve(result), signal).catch((reason: GraphQLError) => ({ errors: [reason] })) : result;
      },
      // Every subscription runs in a group: shareable ones under their key, the others alone.
      subscribe: (args) => {
        const delivery = args.contextValue ? deliveries.get(args.contextValue as object) : undefined;
        if (!delivery) return boundedSubscribe(args);
        return shared.join(delivery.key, async () => boundedSubscribe(args), directSink(delivery.socket, delivery.id));
      },
      onConnect: async (ctx) => {
        const extra = ctx.extra as WsExtra;
        extra.state = { operations: new Map() };
        let principal: Principal | undefined;
        try {
          const token = tokenFromParams(ctx.connectionParams);
          if (token) {
            principal = await deps.context.verifyToken(token);
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
          return refuseConnection(
            extra,
            rateLimited(`At most ${config.limits.maxConnectionsPerAccount} connections per account`, { limit: 'connections', max: config.limits.maxConnectionsPerAccount }),
          );
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
        for (const [id, op] of [...state.operations]) endOperation(state, id, op);
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
        // graphql-ws forgets an id at its complete message even while its subscribe is still being
        // admitted, so it would let the id be subscribed again: refuse that as it refuses a duplicate
        if (state.operations.has(id)) {
          extra.socket.close(WS_SUBSCRIBER_EXISTS, `Subscriber for ${id.slice(0, 100)} already exists`);
          return [conflict(`Operation ${id.slice(0, 100)} has not ended yet`)];
        }
        const op: Operation = { payload, slot: false };
        state.operations.set(id, op);
        try {
          const result = await admitWsOperation(ctx, id, payload, op);
          if (Array.isArray(result)) endOperation(state, id, op);
          return result;
        } catch (err) {
          endOperation(state, id, op);
          // a failure of fleetgraph's own while admitting it (the database away while the context is
          // built, say) ends this operation with an error message (formatted by onError: a code, no
          // internals), not the whole connection with its other subscriptions
          return [err instanceof GraphQLError ? err : new GraphQLError(err instanceof Error ? err.message : String(err), { originalError: err instanceof Error ? err : undefined })];
        }
      },
      onComplete: (ctx, id, payload) => {
        const state = (ctx.extra as WsExtra).state;
        const op = state?.operations.get(id);
        // the operation this complete belongs to (graphql-ws passes the same payload), not a later one with the id
        if (state && op?.payload === payload) endOperation(state, id, op);
      },
      onError: (_ctx, _id, _payload, errors) => format(errors),
      onNext: (_ctx, _id, _payload, _args, result: ExecutionResult) => (result.errors ? { ...result, errors: format(result.errors) } : undefined),
    },
    wsServer,
  );

  /**
   * Admits one subscribe message: request rate, operation gate, validation, subscription slot,
   * context. After each await the operation must still be the connection's (not completed,
   * socket open), else it is refused: nothing it took is left behind.
   */
  async function admitWsOperation(ctx: WsContext<Record<string, unknown>, WsExtra>, id: string, payload: SubscribePayload, op: Operation): Promise<ExecutionArgs | readonly GraphQLError[]> {
    const extra = ctx.extra;
    const state = extra.state!;
    const principal = state.principal!;
    const current = () => extra.socket.readyState === WebSocket.OPEN && state.operations.get(id) === op && id in ctx.subscriptions;
    const ended = () => [conflict(`Operation ${id.slice(0, 100)} ended before it started`)];
    try {
      await limits.consume(accountKey(principal.account));
    } catch (err) {
      if (err instanceof AppError) return refuse(err);
      throw err;
    }
    if (!current()) return ended();
    // graphql-ws has already reserved this operation's id in ctx.subscriptions
    if (Object.keys(ctx.subscriptions).length > config.limits.maxSubscriptionsPerConnection) {
      return refuse(
        rateLimited(`At most ${config.limits.maxSubscriptionsPerConnection} operations at once per connection`, { limit: 'operationsPerConnection', max: config.limits.maxSubscriptionsPerConnection }),
      );
    }
    const admitted = gate.admit(payload);
    if ('errors' in admitted) return admitted.errors;
    const { document } = admitted;
    const validationErrors = gate.validate(document);
    if (validationErrors.length > 0) return validationErrors;
    const resolved = gate.operation(document, payload.operationName);
    if ('errors' in resolved) return resolved.errors;
    const { operation } = resolved;
    const isSubscription = operation.operation === 'subscription';
    if (isSubscription) {
      try {
        limits.startSubscription(principal.account);
      } catch (err) {
        if (err instanceof AppError) return refuse(err);
        throw err;
      }
      op.slot = true;
      metrics.wsSubscriptions.inc();
    }
    const contextValue = await buildContext(deps.context, state.token, `ws-${randomUUID()}`);
    if (!current()) return ended();
    if (isSubscription) {
      const shared = sharesExecution(operation, shareable, payload.variables) && contextValue.membership;
      const permissions = [...principal.permissions].sort().join(',');
      const key = shared ? JSON.stringify([payload.query, payload.operationName ?? null, payload.variables ?? null, contextValue.membership!.accountId, permissions]) : `own:${randomUUID()}`;
      deliveries.set(contextValue, { key, socket: extra.socket, id });
    } else {
      // subscriptions have no deadline: they run until completed
      op.deadline = gate.deadline();
      contextValue.signal = op.deadline.signal;
      contextValue.loadable = allowance(config.limits.maxLoadedBytes);
    }
    gate.observe('ws', payload.operationName ?? operation.name?.value, operation.operation, 'started');
    return {
      schema,
      document,
      operationName: payload.operationName,
      variableValues: payload.variables,
      contextValue,
    };
  }

  return {
    dispose: async () => {
      await disposable.dispose();
    },
  };
}

/** graphql-js subscribe, with the subscription context's rows bounded between events (withBoundedRows). */
async function boundedSubscribe(args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
  const result = await graphqlSubscribe(args);
  if (!(Symbol.asyncIterator in result)) return result;
  return withBoundedRows(result, args.contextValue as Context) as AsyncGenerator<ExecutionResult>;
}
