/**
 * npm run bench:scale — the fleet at scale.
 *
 * Part 1 (fleet queries, issue 9 item 7): starts the test services and an in-process server on a
 * fresh database (startTestApp, no workers: the hosts never connect), seeds BENCH_HOSTS hosts ×
 * BENCH_CONTAINERS containers for the measured account (and as many rows again, spread over
 * BENCH_OTHER_HOSTS hosts, for another account: the tenant filter has something to filter), then
 * runs the dashboard query
 *
 *   dockerHosts(first: 50) { nodes { id name containers(first: 100) { nodes { … } pageInfo { … } } } }
 *
 * BENCH_RUNS times over HTTP, each run followed by the same rows read with one hand-written
 * lateral-join SQL statement on a plain pg connection. It prints the SQL statements each query
 * sent, p50/p99 of both and their ratio (target ≤ 2×), and checks once that both return the same
 * rows in the same order.
 *
 * For scale, a third variant in the same runs: the transport floor, that SQL served by a bare
 * node:http handler in the same process as the same JSON document the GraphQL page answers
 * (global ids, cursors; checked equal once), fetched and parsed by the same client. Any HTTP API
 * for these rows pays at least this: JSON of ~0.8 MB out, over loopback, parsed back.
 *
 * Part 2 (replicas, issue 9 "Done when") is bench/replicas.ts: `npm run bench:scale` runs both.
 *
 * Environment knobs (defaults in brackets):
 *   BENCH_HOSTS=50             hosts of the measured account (the page asks for 50)
 *   BENCH_CONTAINERS=1000      containers per host
 *   BENCH_OTHER_HOSTS=10       hosts of the other account (BENCH_CONTAINERS each)
 *   BENCH_FIRST=100            containers per host page
 *   BENCH_RUNS=50              measured runs of each variant (after BENCH_WARMUP)
 *   BENCH_WARMUP=5
 *   BENCH_NODE_ENV=production  NODE_ENV of the libraries (graphql-js), as the Dockerfile runs them (bench/production-libraries.ts)
 */
// first: graphql-js reads NODE_ENV when it is loaded
import { LIBRARY_MODE } from './production-libraries';
import 'reflect-metadata';
import os from 'node:os';
import { Client as PgClient } from 'pg';
import { startTestApp, TestApp } from '../test/support/app';
import { operationStatements, seedFleet, statementCounter } from '../test/support/fleet';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { toGlobalId } from '../src/kernel/ids';
import { encodeCursor } from '../src/graphql/relay';
import { summarize, Summary, wallMs, startServices } from './common';

const t0 = Date.now();
const log = (msg: string) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`);
const int = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

const HOSTS = int('BENCH_HOSTS', 50);
const CONTAINERS = int('BENCH_CONTAINERS', 1000);
const OTHER_HOSTS = int('BENCH_OTHER_HOSTS', 10);
const FIRST = int('BENCH_FIRST', 100);
const RUNS = int('BENCH_RUNS', 50);
const WARMUP = int('BENCH_WARMUP', 5);
const PAGE_HOSTS = 50;

/** What every part gets: the server, the measured account's token and id. */
interface ScaleContext {
  t: TestApp;
  token: string;
  accountId: string;
}

const CONTAINER_FIELDS = 'id name state image status';

/** The dashboard query, with or without totalCount (host page and per-host counts). */
const fleetQuery = (totalCount: boolean) => `query Fleet {
  dockerHosts(first: ${PAGE_HOSTS}) {
    ${totalCount ? 'totalCount' : ''}
    nodes {
      id name
      containers(first: ${FIRST}) { ${totalCount ? 'totalCount' : ''} nodes { ${CONTAINER_FIELDS} } pageInfo { hasNextPage endCursor } }
    }
  }
}`;

/** The same rows by hand: the account's first 50 hosts by name, each with its first+1 containers by (name, id), in one lateral join. */
const HAND_WRITTEN_SQL = `
  select h.id as host_id, h.name as host_name, c.id, c.name, c.state, c.image, c.status
  from (select id, name from docker_hosts where account_id = $1 order by name, id limit $2) h
  cross join lateral (
    select id, name, state, image, status from docker_containers
    where host_id = h.id and account_id = $1 order by name, id limit $3
  ) c
  order by h.name, h.id, c.name, c.id`;

interface FleetData {
  dockerHosts: { nodes: Array<{ id: string; name: string; containers: { nodes: Array<{ id: string; name: string }>; pageInfo: { hasNextPage: boolean } } }> };
}

/** One GraphQL run over HTTP: its time (ms, response parsed), data and statements. */
async function graphqlRun(ctx: ScaleContext, query: string): Promise<{ ms: number; data: FleetData; statements: number }> {
  const counter = statementCounter(ctx.t.app.services.orm);
  try {
    const started = wallMs();
    const res = await ctx.t.gql<FleetData, Record<string, never>>(query, {}, ctx.token);
    const ms = wallMs() - started;
    if (res.errors) throw new Error(`fleet query failed: ${JSON.stringify(res.errors).slice(0, 500)}`);
    return { ms, data: res.data!, statements: operationStatements(counter.statements).length };
  } finally {
    counter.stop();
  }
}

/** One run of the hand-written SQL on a plain pg connection: its time (ms, rows parsed) and rows. */
async function sqlRun(pg: PgClient, accountId: string): Promise<{ ms: number; rows: Array<{ host_id: string; id: string }> }> {
  const started = wallMs();
  const res = await pg.query<{ host_id: string; id: string }>(HAND_WRITTEN_SQL, [accountId, PAGE_HOSTS, FIRST + 1]);
  return { ms: wallMs() - started, rows: res.rows };
}

/** The GraphQL answer and the SQL answer hold the same hosts and containers in the same order (hasNextPage from the extra row). */
function sameRows(data: FleetData, rows: Array<{ host_id: string; id: string }>): boolean {
  const byHost = new Map<string, string[]>();
  for (const r of rows) byHost.set(r.host_id, [...(byHost.get(r.host_id) ?? []), r.id]);
  const hosts = data.dockerHosts.nodes;
  if (hosts.length !== byHost.size) return false;
  return hosts.every((h, i) => {
    const [hostId, ids] = [...byHost][i];
    if (h.id !== toGlobalId('DockerHost', hostId)) return false;
    const page = ids.slice(0, FIRST).map((id) => toGlobalId('DockerContainer', id));
    return h.containers.pageInfo.hasNextPage === ids.length > FIRST && JSON.stringify(h.containers.nodes.map((n) => n.id)) === JSON.stringify(page);
  });
}

interface FleetRow {
  variant: string;
  statements: number;
  graphql: Summary;
  sql: Summary;
  /** The same rows as JSON over HTTP without GraphQL (page variant only). */
  floor?: Summary;
}

type SqlRow = { host_id: string; host_name: string; id: string; name: string; state: string; image: string; status: string | null };

/** The GraphQL page's `data` built from the hand-written SQL's rows (the floor endpoint's answer). */
function pageFromRows(rows: SqlRow[]): unknown {
  const hosts: Array<{ id: string; name: string; containers: { nodes: object[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }> = [];
  let hostId: string | undefined;
  let last: SqlRow | undefined;
  for (const r of rows) {
    if (r.host_id !== hostId) {
      hostId = r.host_id;
      last = undefined;
      hosts.push({ id: toGlobalId('DockerHost', r.host_id), name: r.host_name, containers: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } });
    }
    const page = hosts[hosts.length - 1].containers;
    if (page.nodes.length === FIRST) {
      page.pageInfo.hasNextPage = true;
      continue;
    }
    page.nodes.push({ id: toGlobalId('DockerContainer', r.id), name: r.name, state: r.state, image: r.image, status: r.status });
    last = r;
    page.pageInfo.endCursor = encodeCursor({ value: last.name, id: last.id });
  }
  return { dockerHosts: { nodes: hosts } };
}

/** The transport floor: a bare node:http handler answering the hand-written SQL as the page's JSON, on its own pg connection. */
async function startFloorEndpoint(databaseUrl: string, accountId: string): Promise<{ url: string; stop(): Promise<void> }> {
  const pg = new PgClient({ connectionString: databaseUrl });
  await pg.connect();
  const server = http.createServer((_req, res) => {
    pg.query<SqlRow>(HAND_WRITTEN_SQL, [accountId, PAGE_HOSTS, FIRST + 1]).then(
      (r) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ data: pageFromRows(r.rows) }));
      },
      (err: Error) => {
        res.statusCode = 500;
        res.end(JSON.stringify({ errors: [{ message: err.message }] }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pg.end();
    },
  };
}

/** One request to the floor endpoint with the client t.gql uses (fetch, body parsed): its time (ms) and data. */
async function floorRun(url: string): Promise<{ ms: number; data: unknown }> {
  const started = wallMs();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const body = (await res.json()) as { data: unknown };
  return { ms: wallMs() - started, data: body.data };
}

/** Part 1: the dashboard query against the hand-written SQL, interleaved run by run (both see the same machine). */
async function fleetQueryRound(ctx: ScaleContext): Promise<FleetRow[]> {
  const pg = new PgClient({ connectionString: ctx.t.databaseUrl });
  await pg.connect();
  const floorEndpoint = await startFloorEndpoint(ctx.t.databaseUrl, ctx.accountId);
  try {
    const out: FleetRow[] = [];
    for (const totalCount of [false, true]) {
      const query = fleetQuery(totalCount);
      const check = await graphqlRun(ctx, query);
      const same = sameRows(check.data, (await sqlRun(pg, ctx.accountId)).rows);
      log(`${totalCount ? 'with totalCount' : 'page only'}: ${check.statements} statements, same rows as SQL: ${same ? 'yes' : 'NO'}`);
      if (!same) throw new Error('the fleet query and the hand-written SQL disagree');
      // the floor answers the page variant's document, byte for byte
      const withFloor = !totalCount;
      if (withFloor && JSON.stringify((await floorRun(floorEndpoint.url)).data) !== JSON.stringify(check.data)) throw new Error('the floor endpoint does not answer the same document');
      const graphql: number[] = [];
      const sql: number[] = [];
      const floor: number[] = [];
      const statements: number[] = [];
      for (let i = 0; i < WARMUP + RUNS; i++) {
        const g = await graphqlRun(ctx, query);
        const s = await sqlRun(pg, ctx.accountId);
        const f = withFloor ? await floorRun(floorEndpoint.url) : undefined;
        statements.push(g.statements);
        if (i < WARMUP) continue;
        graphql.push(g.ms);
        sql.push(s.ms);
        if (f) floor.push(f.ms);
      }
      out.push({
        variant: totalCount ? 'page + totalCount' : 'page',
        statements: mode(statements),
        graphql: summarize(graphql),
        sql: summarize(sql),
        floor: withFloor ? summarize(floor) : undefined,
      });
    }
    return out;
  } finally {
    await floorEndpoint.stop();
    await pg.end();
  }
}

/** The statement count most runs sent (they should all send the same). */
function mode(values: number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
}

function printFleet(rows: FleetRow[]): void {
  const f = (n: number) => n.toFixed(1).padStart(7);
  console.log(`\nfleet query: ${PAGE_HOSTS} hosts × first ${FIRST} containers (${HOSTS} × ${CONTAINERS} stored; ${CONTAINER_FIELDS.split(' ').length} fields per container), ${RUNS} runs each`);
  console.log(
    `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, libraries in NODE_ENV=${LIBRARY_MODE}, load average ${os.loadavg()[0].toFixed(1)}, ${new Date().toISOString().slice(0, 10)}\n`,
  );
  console.log('variant              statements   graphql p50     p99   sql p50     p99   ratio p50   p99   (target ≤ 2×)');
  for (const r of rows) {
    console.log(
      `${r.variant.padEnd(20)} ${String(r.statements).padStart(10)}   ${f(r.graphql.p50)} ${f(r.graphql.p99)}   ${f(r.sql.p50)} ${f(r.sql.p99)}   ${(r.graphql.p50 / r.sql.p50).toFixed(2).padStart(8)}× ${(r.graphql.p99 / r.sql.p99).toFixed(2).padStart(5)}×`,
    );
  }
  for (const r of rows) {
    if (!r.floor) continue;
    console.log(
      `${'floor (JSON over HTTP)'.padEnd(22)} ${' '.repeat(10)} ${f(r.floor.p50)} ${f(r.floor.p99)}   ratio to sql ${(r.floor.p50 / r.sql.p50).toFixed(2)}× p50 ${(r.floor.p99 / r.sql.p99).toFixed(2)}× p99; graphql / floor ${(r.graphql.p50 / r.floor.p50).toFixed(2)}× p50`,
    );
  }
  console.log('(ms; graphql = HTTP request to parsed response, sql = the same rows by one hand-written lateral join on a plain pg connection,');
  console.log(' floor = that statement answered as the same JSON document by a bare node:http handler, fetched and parsed like graphql)');
}

async function main(): Promise<void> {
  log('starting test services (test/support/services.sh up)');
  startServices();
  const t = await startTestApp({ redis: false });
  try {
    const token = await t.token({ account: 'scale' });
    const { accountId } = await t.app.services.accounts.resolve(await t.app.services.verifyToken(token));
    const other = await t.app.services.accounts.resolve(await t.app.services.verifyToken(await t.token({ account: 'scale-other' })));
    log(`seeding ${HOSTS} hosts × ${CONTAINERS} containers (+ ${OTHER_HOSTS} × ${CONTAINERS} of another account)`);
    await seedFleet(t.app.services.orm, accountId, { prefix: 'scale', hosts: HOSTS, containers: CONTAINERS });
    await seedFleet(t.app.services.orm, other.accountId, { prefix: 'other', hosts: OTHER_HOSTS, containers: CONTAINERS });
    await t.app.services.orm.em.getConnection().execute('analyze');
    const ctx: ScaleContext = { t, token, accountId };
    printFleet(await fleetQueryRound(ctx));
  } finally {
    await t.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
