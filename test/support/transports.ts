import { print, ExecutionResult, GraphQLFormattedError } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { TestApp } from './app';
import { trackedClient, wsExecute } from './ws-helpers';

/**
 * The two ways a client reaches /graphql, behind one call, so that a behaviour suite is written
 * once and run over both (`for (const t of transports) describe(t.name, …)`), as graphql-ws and
 * Apollo Server test their transports.
 *
 * Both answer an ExecutionResult. Where a transport refuses before GraphQL answers (a WebSocket
 * closed by the server), the refusal is mapped to `{ errors: [{ message, extensions: { code } }] }`
 * so the suites assert the same `extensions.code` on both.
 */
export interface Transport {
  name: 'http' | 'ws';
  /** Runs one query or mutation; `token` undefined or null = anonymous. */
  execute<R, V>(t: TestApp, doc: TypedDocumentNode<R, V> | string, variables?: V, token?: string | null, options?: ExecuteOptions): Promise<ExecutionResult<R>>;
}

export interface ExecuteOptions {
  operationName?: string;
}

const source = (doc: TypedDocumentNode<unknown, unknown> | string) => (typeof doc === 'string' ? doc : print(doc));

/** One POST to /graphql with `authorization: Bearer …`, as a client would send it. */
export const httpTransport: Transport = {
  name: 'http',
  async execute<R, V>(t: TestApp, doc: TypedDocumentNode<R, V> | string, variables?: V, token?: string | null, options: ExecuteOptions = {}) {
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: source(doc as TypedDocumentNode<unknown, unknown>), variables, operationName: options.operationName }),
    });
    const text = await res.text();
    try {
      return JSON.parse(text) as ExecutionResult<R>;
    } catch {
      // not a GraphQL response at all: keep the status visible to the assertion
      return { errors: [{ message: `HTTP ${res.status}: ${text.slice(0, 200)}`, extensions: { code: `HTTP_${res.status}` } }] } as unknown as ExecutionResult<R>;
    }
  },
};

/**
 * Close codes the server uses to refuse a connection or an operation, and the GraphQL error code
 * HTTP answers for the same cause. 4403 is graphql-ws's Forbidden, which this server sends only
 * for a missing, invalid or expired token (HTTP: UNAUTHENTICATED).
 */
export const WS_CLOSE_CODES: Record<number, string> = {
  4403: 'UNAUTHENTICATED',
  4429: 'RATE_LIMITED',
  4409: 'CONFLICT',
  4400: 'BAD_REQUEST',
  1009: 'PAYLOAD_TOO_LARGE',
};

/**
 * A fresh graphql-ws client per call (lazy, `connectionParams: { authorization: 'Bearer …' }`),
 * disposed after its one operation. A graphql-ws `error` message (an array of errors) becomes
 * `{ errors }`; a socket the server closed becomes one error whose code is mapped from the close
 * code (WS_CLOSE_CODES, else WS_CLOSED), with `wsCloseCode` kept in extensions.
 */
export const wsTransport: Transport = {
  name: 'ws',
  async execute<R, V>(t: TestApp, doc: TypedDocumentNode<R, V> | string, variables?: V, token?: string | null, options: ExecuteOptions = {}) {
    const client = trackedClient(t.wsUrl, token ? { authorization: `Bearer ${token}` } : undefined, { lazy: true });
    try {
      const outcome = await wsExecute<R, V>(client.client, doc, variables, 10_000, options.operationName);
      if (outcome.kind === 'result') return outcome.result;
      if (outcome.kind === 'errors') return { errors: outcome.errors as GraphQLFormattedError[] } as unknown as ExecutionResult<R>;
      const code = WS_CLOSE_CODES[outcome.code] ?? 'WS_CLOSED';
      return { errors: [{ message: outcome.reason || `WebSocket closed with ${outcome.code}`, extensions: { code, wsCloseCode: outcome.code } }] } as unknown as ExecutionResult<R>;
    } finally {
      await client.dispose();
    }
  },
};

export const transports: Transport[] = [httpTransport, wsTransport];

/** The `extensions.code` of each error of a result, in order (what the suites compare across transports). */
export const codes = (res: ExecutionResult<unknown>): unknown[] => (res.errors ?? []).map((e) => e.extensions?.code);
