import { randomBytes } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { print, ExecutionResult } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import WebSocket from 'ws';
import { createClient, Client as WsClient } from 'graphql-ws';
import pino from 'pino';
import type { Config } from '../../src/kernel/config';
import { loadConfig } from '../../src/app/config';
import { startApp, App } from '../../src/app';
import { signDevToken } from '../../src/server/auth';

export const TEST_JWT_SECRET = 'test-secret-0123456789-0123456789-abcdef';

export function testEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the suite with npm test`);
  return v;
}

/** A closed port on loopback: tests of hosts that never answer register tcp://127.0.0.1:1 (allow-listed below). */
export const CLOSED_ENDPOINT = 'tcp://127.0.0.1:1';

/** A socket that never exists, in an allow-listed directory: tests of unreachable unix hosts. */
export function missingSocketEndpoint(name = 'none'): string {
  return `unix://${testEnv('FLEETGRAPH_TEST_BASE')}/missing/${name}.sock`;
}

/**
 * FLEETGRAPH_ENDPOINT_ALLOW for test apps: exactly the test engines (the dockerd's unix socket and
 * its TLS listener on 127.0.0.1:23760, the swarm nodes' sockets) plus the two endpoints that never
 * answer (CLOSED_ENDPOINT, missingSocketEndpoint). Extra entries are appended (e.g. '127.0.0.1' for
 * tests that put a proxy or a fake daemon on a random loopback port).
 */
export function testEndpointAllow(...extra: string[]): string {
  const tls = new URL(testEnv('FLEETGRAPH_TEST_DOCKER_TLS_ENDPOINT'));
  return [
    `unix:${testEnv('FLEETGRAPH_TEST_DOCKER_SOCKET')}`,
    `${tls.hostname}:${tls.port}`,
    `unix:${(process.env.FLEETGRAPH_SWARM_BASE || '/tmp/fleetgraph-swarm').replace(/\/?$/, '/')}`,
    '127.0.0.1:1',
    `unix:${testEnv('FLEETGRAPH_TEST_BASE')}/missing/`,
    ...extra,
  ].join(',');
}

/** Creates an empty database on the test PostgreSQL; returns its URL and a drop function. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = new URL(testEnv('FLEETGRAPH_TEST_DATABASE_URL'));
  // its creation time in the name: a run that was killed leaves it behind, and the next run drops it (global-setup.ts)
  const name = `fg_${Math.floor(Date.now() / 1000).toString(36)}_${randomBytes(6).toString('hex')}`;
  const admin = new PgClient({ connectionString: base.toString() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base.toString());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new PgClient({ connectionString: base.toString() });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export interface TestApp {
  app: App;
  url: string;
  wsUrl: string;
  databaseUrl: string;
  config: Config;
  token(opts: { account: string; permissions?: string[]; subject?: string; expiresIn?: string | number }): Promise<string>;
  gql<R, V>(doc: TypedDocumentNode<R, V> | string, variables?: V, token?: string): Promise<ExecutionResult<R> & { status: number }>;
  ws(token?: string | Record<string, unknown>): WsClient;
  stop(): Promise<void>;
}

export interface TestAppOptions {
  /** Share this database (e.g. a second replica); default: a fresh one. */
  databaseUrl?: string;
  redis?: boolean;
  env?: Record<string, string>;
  config?: Partial<Config>;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const db = options.databaseUrl ? { url: options.databaseUrl, drop: async () => undefined } : await createTestDatabase();
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: 'test',
    FLEETGRAPH_JWT_SECRET: TEST_JWT_SECRET,
    FLEETGRAPH_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    DATABASE_URL: db.url,
    ...(options.redis === false ? {} : { REDIS_URL: testEnv('FLEETGRAPH_TEST_REDIS_URL') }),
    FLEETGRAPH_ENDPOINT_ALLOW: testEndpointAllow(),
    ...options.env,
  };
  const config = loadConfig(env, { port: 0, host: '127.0.0.1', workers: false, ...options.config });
  const logger = pino({ level: process.env.FLEETGRAPH_TEST_LOG_LEVEL ?? 'silent' });
  const app = await startApp(config, { logger });
  const clients: WsClient[] = [];
  const wsUrl = app.url.replace(/^http/, 'ws') + '/graphql';
  return {
    app,
    url: app.url,
    wsUrl,
    databaseUrl: db.url,
    config,
    token: ({ account, permissions = [], subject = `${account}-user`, expiresIn }) => signDevToken(TEST_JWT_SECRET, { account, permissions, subject, expiresIn }),
    async gql(doc, variables, token) {
      const res = await fetch(`${app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query: typeof doc === 'string' ? doc : print(doc), variables }),
      });
      const body = (await res.json()) as ExecutionResult<never>;
      return { ...body, status: res.status };
    },
    ws(token) {
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: true,
        connectionParams: typeof token === 'string' ? { authorization: `Bearer ${token}` } : token,
      });
      clients.push(client);
      return client;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.dispose()));
      await app.stop();
      // pg-boss checks every second, after its stop resolved, whether its workers have stopped, and
      // each check require()s a module: after this suite's teardown that throws, and jest charges it
      // to the next suite. Its last check comes within a second of the workers stopping.
      if (config.workers) await new Promise((resolve) => setTimeout(resolve, 1100));
      await db.drop();
    },
  };
}

/** Collects the results of one subscription; `next()` waits for the next one. */
export function subscribe<R, V>(client: WsClient, doc: TypedDocumentNode<R, V> | string, variables?: V) {
  const results: ExecutionResult<R>[] = [];
  const waiters: Array<() => void> = [];
  let error: unknown;
  let done = false;
  const unsubscribe = client.subscribe<R>(
    { query: typeof doc === 'string' ? doc : print(doc), variables: variables as Record<string, unknown> | undefined },
    {
      next: (r) => {
        results.push(r as ExecutionResult<R>);
        waiters.splice(0).forEach((w) => w());
      },
      error: (e) => {
        error = e;
        waiters.splice(0).forEach((w) => w());
      },
      complete: () => {
        done = true;
        waiters.splice(0).forEach((w) => w());
      },
    },
  );
  return {
    results,
    unsubscribe,
    get error() {
      return error;
    },
    get done() {
      return done;
    },
    /** Waits until `predicate` holds for the collected results (or an error/complete). */
    async until(predicate: (results: ExecutionResult<R>[]) => boolean, timeoutMs = 15_000): Promise<ExecutionResult<R>[]> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(results)) {
        if (error) throw error instanceof Error ? error : new Error(JSON.stringify(error, Object.getOwnPropertyNames(error ?? {})));
        if (done) throw new Error('subscription completed before the condition held');
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out waiting; got ${JSON.stringify(results).slice(0, 2000)}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return results;
    },
  };
}

/** Polls `fn` until it returns a truthy value. */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
