import WebSocket from 'ws';
import { print, ExecutionResult, GraphQLFormattedError } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient, Client as WsClient } from 'graphql-ws';

/** What a WebSocket close looks like to a test. */
export interface Closed {
  code: number;
  reason: string;
}

export interface TrackedClient {
  client: WsClient;
  /** Every close the client has seen, in order. */
  closes: Closed[];
  /** Resolves with the next close (or the first one if it already happened). */
  nextClose(timeoutMs?: number): Promise<Closed>;
  /** Resolves once connection_ack arrived (non-lazy clients). */
  connected: Promise<void>;
  dispose(): Promise<void>;
}

/**
 * A graphql-ws client that records its close events. `lazy: false` connects at once and keeps
 * the socket open (the harness's `t.ws()` is lazy and closes the socket after each operation).
 */
export function trackedClient(wsUrl: string, connectionParams: Record<string, unknown> | undefined, opts: { lazy?: boolean } = {}): TrackedClient {
  const closes: Closed[] = [];
  const waiters: Array<(c: Closed) => void> = [];
  let onConnected!: () => void;
  let onConnectFailed!: (e: unknown) => void;
  const connected = new Promise<void>((resolve, reject) => {
    onConnected = resolve;
    onConnectFailed = reject;
  });
  connected.catch(() => undefined);
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: opts.lazy ?? false,
    connectionParams,
    onNonLazyError: () => undefined,
    on: {
      connected: () => onConnected(),
      closed: (event) => {
        const e = event as { code?: number; reason?: string };
        const c = { code: e.code ?? -1, reason: String(e.reason ?? '') };
        closes.push(c);
        onConnectFailed(c);
        waiters.splice(0).forEach((w) => w(c));
      },
    },
  });
  let seen = 0;
  return {
    client,
    closes,
    connected,
    nextClose(timeoutMs = 10_000) {
      if (closes.length > seen) return Promise.resolve(closes[seen++]);
      return new Promise<Closed>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no close within ${timeoutMs} ms`)), timeoutMs);
        waiters.push((c) => {
          clearTimeout(t);
          seen++;
          resolve(c);
        });
      });
    },
    dispose: async () => {
      await client.dispose();
    },
  };
}

export type WsOutcome<R> = { kind: 'result'; result: ExecutionResult<R> } | { kind: 'errors'; errors: GraphQLFormattedError[] } | { kind: 'closed'; code: number; reason: string };

/** Runs one query/mutation over graphql-ws and reports how it ended (result, error message, or a closed socket). */
export function wsExecute<R, V>(client: WsClient, doc: TypedDocumentNode<R, V> | string, variables?: V, timeoutMs = 10_000, operationName?: string): Promise<WsOutcome<R>> {
  return new Promise((resolve, reject) => {
    let result: ExecutionResult<R> | undefined;
    const timer = setTimeout(() => reject(new Error(`ws operation did not finish in ${timeoutMs} ms`)), timeoutMs);
    client.subscribe<R>(
      { query: typeof doc === 'string' ? doc : print(doc), variables: variables as Record<string, unknown> | undefined, ...(operationName ? { operationName } : {}) },
      {
        next: (r) => {
          result = r as ExecutionResult<R>;
        },
        error: (err) => {
          clearTimeout(timer);
          if (Array.isArray(err)) resolve({ kind: 'errors', errors: err as GraphQLFormattedError[] });
          else if (err && typeof (err as { code?: unknown }).code === 'number') {
            const e = err as { code: number; reason?: string };
            resolve({ kind: 'closed', code: e.code, reason: String(e.reason ?? '') });
          } else reject(err instanceof Error ? err : new Error(String(err)));
        },
        complete: () => {
          clearTimeout(timer);
          if (result) resolve({ kind: 'result', result });
          else reject(new Error('completed without a result'));
        },
      },
    );
  });
}

/** A bare WebSocket speaking graphql-transport-ws, for protocol-level checks. */
export async function rawGraphqlWs(wsUrl: string): Promise<{ socket: WebSocket; closed: Promise<Closed>; messages: unknown[]; next(): Promise<unknown> }> {
  const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
  const messages: unknown[] = [];
  const waiters: Array<() => void> = [];
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)));
    waiters.splice(0).forEach((w) => w());
  });
  socket.on('error', () => undefined);
  const closed = new Promise<Closed>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let read = 0;
  return {
    socket,
    closed,
    messages,
    async next() {
      while (messages.length <= read) await new Promise<void>((r) => waiters.push(r));
      return messages[read++];
    },
  };
}
