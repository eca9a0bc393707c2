import WebSocket from 'ws';
import { createClient, Client as WsClient } from 'graphql-ws';
import type { ExecutionResult } from 'graphql';
import { TEST_JWT_SECRET, testEndpointAllow, testEnv } from './app';
import { childEnv, freePort, ServerProcess, spawnServer, waitUntilReady } from './process';

/**
 * One fleetgraph replica as its own process (`src/main.ts`), the way it runs in production: its
 * own lease owner id (`${hostname}-${pid}-…`), its own pool and pub/sub connections, so a SIGKILL
 * kills exactly one replica. Several on one database and Redis make a fleet.
 */
export interface Replica {
  name: string;
  server: ServerProcess;
  pid: number;
  url: string;
  /** GraphQL over HTTP to this replica. */
  gql<R = Record<string, unknown>>(query: string, variables: Record<string, unknown>, token: string): Promise<ExecutionResult<R>>;
  /** A graphql-ws client on this replica (disposed by stop()). */
  ws(token: string): WsClient;
  /** Whether a LeasedFleet owner id (`${hostname}-${pid}-${hex}`) is this process's. */
  owns(leaseOwner: string | null | undefined): boolean;
  alive(): boolean;
  /** Sends `signal` (by the pid of the process we spawned); resolves with the exit code or signal once it exited. */
  signal(signal: 'SIGKILL' | 'SIGTERM'): Promise<number | string>;
  /** SIGKILL if still running, after closing its WebSocket clients. */
  stop(): Promise<void>;
}

/** Replicas still running when this process exits (a test run aborted before its afterAll) are killed with it. */
const running = new Set<ServerProcess>();
process.once('exit', () => running.forEach((s) => s.kill()));

/** The pid inside a LeasedFleet owner id (hostnames may contain dashes: read it from the end). */
export function pidOfLeaseOwner(owner: string | null | undefined): number | undefined {
  const m = owner ? /-(\d+)-[0-9a-f]+$/.exec(owner) : null;
  return m ? Number(m[1]) : undefined;
}

/** Starts one replica on `databaseUrl` and the test Redis, with workers on; resolves once /readyz answers 200. */
export async function startReplica(name: string, databaseUrl: string, opts: { readyTimeoutMs?: number; env?: Record<string, string> } = {}): Promise<Replica> {
  const port = await freePort();
  const server = spawnServer(
    childEnv({
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      DATABASE_URL: databaseUrl,
      REDIS_URL: testEnv('FLEETGRAPH_TEST_REDIS_URL'),
      FLEETGRAPH_JWT_SECRET: TEST_JWT_SECRET,
      FLEETGRAPH_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      FLEETGRAPH_ENDPOINT_ALLOW: testEndpointAllow(),
      ...opts.env,
    }),
    port,
  );
  running.add(server);
  void server.exited.then(() => running.delete(server));
  const clients: WsClient[] = [];
  const replica: Replica = {
    name,
    server,
    pid: server.child.pid!,
    url: server.url,
    async gql(query, variables, token) {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as never;
    },
    ws(token) {
      const client = createClient({
        url: `${server.url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: true,
        connectionParams: { authorization: `Bearer ${token}` },
      });
      clients.push(client);
      return client;
    },
    owns: (owner) => pidOfLeaseOwner(owner) === server.child.pid,
    alive: () => server.child.exitCode === null && server.child.signalCode === null,
    async signal(signal) {
      if (replica.alive()) process.kill(server.child.pid!, signal);
      return server.exited;
    },
    async stop() {
      await Promise.all(clients.splice(0).map((c) => c.dispose()));
      server.kill();
      await server.exited;
    },
  };
  try {
    await waitUntilReady(server, opts.readyTimeoutMs ?? 90_000);
  } catch (err) {
    await replica.stop();
    throw err;
  }
  return replica;
}
