/**
 * npm run bench:replicas — several fleetgraph replicas on one PostgreSQL and Redis, reading a fleet
 * of simulated Docker engines (issue 9, "Done when": the multi-replica part of bench:scale).
 *
 * Starts the test services (test/support/services.sh up), one database, BENCH_HOSTS simulated
 * engines in this process (test/support/sim-engine.ts, unix sockets in a directory allow-listed
 * with FLEETGRAPH_ENDPOINT_ALLOW) and fleetgraph replicas as separate processes (src/main.ts via
 * test/support/replicas.ts, workers on, the test Redis). It registers every engine as a host,
 * subscribes BENCH_SUBSCRIBERS `dockerEvents(hostId, after)` feeds (one WebSocket each, spread over
 * the replicas; a feed whose replica dies resumes on another with `after` = its last cursor), and
 * runs container lifecycles on the engines at BENCH_RATE events/s in total, from the first
 * measurement to the end. Then:
 *
 * 1. steady state, for each replica count of BENCH_REPLICAS: ingest lag (Docker timeNano →
 *    docker_events.created_at), delivery (timeNano → a subscriber received it), leases and RSS per
 *    replica, measured over BENCH_SECONDS after BENCH_SETTLE_SECONDS;
 * 2. BENCH_KILLS rounds: SIGKILL the replica holding the most leases, time until all its hosts are
 *    leased by survivors, their /events streams open again and what their engines emitted
 *    meanwhile is stored; the killed replica is replaced by a new process between rounds;
 * 3. BENCH_TERMS rounds of the same with SIGTERM (graceful hand-off), and whether a GAP row appeared.
 *
 * Every event the simulators emitted (this process records each one's host and exact timeNano) is
 * looked up among the stored rows at the end: stored once, stored more than once (duplicated), not
 * stored but inside a GAP row's from/to window (gap-covered), or neither (lost). Every stored row of
 * a subscribed host must have reached that host's subscriber exactly once. Nothing is assumed: the
 * counts come from the database and from what the subscribers received. A benchmark, not a test:
 * it prints a table and has no pass/fail. See bench/README.md.
 *
 * Environment knobs (defaults in brackets):
 *   BENCH_HOSTS=200              simulated hosts (1–1000), one engine and one registered host each
 *   BENCH_RATE=100               events per second in total, spread evenly over the hosts (4 events per container lifecycle)
 *   BENCH_REPLICAS=1,2,3         replica counts measured in steady state, ascending; the rounds run with the last
 *   BENCH_SECONDS=15             measured seconds per replica count
 *   BENCH_SETTLE_SECONDS=5       wait after a replica count change before measuring
 *   BENCH_SUBSCRIBERS=20         subscribed hosts (one feed each, evenly spread over hosts and replicas)
 *   BENCH_KILLS=10               SIGKILL rounds (the issue asks for p99 over 20)
 *   BENCH_TERMS=2                SIGTERM rounds
 *   BENCH_TAKEOVER_SECONDS=30    how long after its signal a round waits for the hosts to be leased, read and caught up again;
 *                                then the replacement starts anyway (storing/caught-up are still computed from the rows at the end)
 *   BENCH_DRAIN_SECONDS=30       after the load stops, how long to wait for storing and delivery to finish
 *   BENCH_SYNC_SECONDS=60        each host's syncIntervalSeconds (fleetgraph's default is 60)
 *   BENCH_LOG_LEVEL=warn         the replicas' LOG_LEVEL; BENCH_LOG_FILE=<path> appends everything they log there
 *   BENCH_CPU_PROF=<dir>         replicas run with --cpu-prof into that directory (written when a replica exits: not on SIGKILL)
 *   BENCH_TS_NODE=0              1 = run replicas under ts-node (test/support/replicas.ts startReplica); default: the app is
 *                                compiled once (tsc --noCheck, into .data/) and replicas run `node …/src/main.js` as `npm start`
 *                                does: a ts-node start costs ~7 s of CPU, which on 2 cores disturbs what the rounds measure
 */
import 'reflect-metadata';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import WebSocket from 'ws';
import { createClient, Client as WsClient } from 'graphql-ws';
import { createTestDatabase, TEST_JWT_SECRET, testEndpointAllow, testEnv } from '../test/support/app';
import { childEnv, freePort, ServerProcess, waitUntilReady } from '../test/support/process';
import { pidOfLeaseOwner, startReplica } from '../test/support/replicas';
import { SimEngine, SimEvent, startSimEngine } from '../test/support/sim-engine';
import { signDevToken } from '../src/server/auth';
import { expectGlobalId } from '../src/graphql/relay';
import { DEFAULT_LEASE_SECONDS, DEFAULT_RECONCILE_MS, shareSlack, STARTS_AT_ONCE } from '../src/platform/leasing/lease-plan';
import { LoopLag, nanoToMs, summarize, Summary, wallMs, startServices } from './common';

const root = path.resolve(__dirname, '..');
const t0 = Date.now();
const log = (msg: string) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`);
const int = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a number ≥ 0`);
  return v;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const HOSTS = int('BENCH_HOSTS', 200);
const RATE = int('BENCH_RATE', 100);
const COUNTS = (process.env.BENCH_REPLICAS ?? '1,2,3')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
const SECONDS = int('BENCH_SECONDS', 15);
const SETTLE_MS = int('BENCH_SETTLE_SECONDS', 5) * 1000;
const SUBSCRIBERS = Math.min(int('BENCH_SUBSCRIBERS', 20), HOSTS);
const KILLS = int('BENCH_KILLS', 10);
const TERMS = int('BENCH_TERMS', 2);
const TAKEOVER_MS = int('BENCH_TAKEOVER_SECONDS', 30) * 1000;
const DRAIN_MS = int('BENCH_DRAIN_SECONDS', 30) * 1000;
const SYNC_SECONDS = int('BENCH_SYNC_SECONDS', 60);
/** Where every line the replicas log is appended (with BENCH_LOG_LEVEL, default warn), e.g. to read their stream-open timings. */
const LOG_FILE = process.env.BENCH_LOG_FILE;
const TS_NODE = process.env.BENCH_TS_NODE === '1';

const FEED = `subscription Feed($hostId: ID!, $after: String) {
  dockerEvents(hostId: $hostId, after: $after) { cursor timeNano source }
}`;

// ------------------------------------------------------------------------------------------------
// Services, engines, replicas
// ------------------------------------------------------------------------------------------------

/** One event a simulator emitted: the ground truth every stored row and delivery is checked against. */
interface Emitted {
  host: number;
  timeNano: string;
  ms: number;
  /** The stored row's unique key within its host (event-store.ts keyOf): `${timeNano} ${fact}`. */
  key: string;
  /** What happened, without when: `${Type} ${Action} ${Actor.ID}` (a RESYNC row reports the same fact with its own timeNano). */
  fact: string;
}

/** A simulated host: its engine and, once registered, its ids. */
interface Host {
  index: number;
  engine: SimEngine;
  gid: string;
  uuid: string;
}

/** What the bench needs of a replica process (test/support/replicas.ts Replica has it too). */
interface Proc {
  pid: number;
  url: string;
  gql<R = Record<string, unknown>>(query: string, variables: Record<string, unknown>, token: string): Promise<{ data?: R | null; errors?: ReadonlyArray<unknown> }>;
  owns(leaseOwner: string | null | undefined): boolean;
  alive(): boolean;
  signal(signal: 'SIGKILL' | 'SIGTERM'): Promise<number | string>;
  stop(): Promise<void>;
}

/** A replica process and whether this bench has signalled it (then no feed is sent to it). */
interface Live {
  name: string;
  replica: Proc;
  gone: boolean;
}

/**
 * Warnings and errors the replicas logged, counted by message (pino JSON lines, level ≥ 40):
 * fenced readers, failed stores, paused streams… A bounded number of distinct messages.
 */
class LogTally {
  readonly counts = new Map<string, number>();
  private partial = '';

  feed(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop()!.slice(-65536);
    for (const line of lines) this.line(line);
  }

  private line(line: string): void {
    if (!line.startsWith('{')) return;
    try {
      const j = JSON.parse(line) as { level?: number; msg?: string };
      const level = j.level ?? 0;
      if (level < 40 || !j.msg) return;
      const key = `${level >= 50 ? 'error' : 'warn'}: ${j.msg.slice(0, 120)}`;
      if (this.counts.has(key) || this.counts.size < 50) this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    } catch {
      /* not a log line */
    }
  }
}

const replicaLogs = new LogTally();

/** Compiles the app once (no type check: what ts-node transpile-only runs, as plain JS) into `outDir`, inside the repo so that node_modules resolve. */
function compileApp(outDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json', '--noCheck', '--outDir', outDir], { cwd: root, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) =>
      err ? reject(new Error(`tsc failed: ${stdout.slice(-3000)}`)) : resolve(),
    );
  });
}

/** Env of a replica: the test services, workers on (the default), the simulators' directory allow-listed. */
function replicaEnv(databaseUrl: string, port: number, allow: string): NodeJS.ProcessEnv {
  return childEnv({
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    DATABASE_URL: databaseUrl,
    REDIS_URL: testEnv('FLEETGRAPH_TEST_REDIS_URL'),
    FLEETGRAPH_JWT_SECRET: TEST_JWT_SECRET,
    FLEETGRAPH_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    FLEETGRAPH_ENDPOINT_ALLOW: allow,
  });
}

/**
 * Starts `node <dist>/src/main.js` (as test/support/process.ts spawnServer starts src/main.ts under
 * ts-node), keeping only the last 64 KiB of its output; resolves once /readyz answers 200.
 */
async function startCompiledReplica(dist: string, databaseUrl: string, allow: string): Promise<Proc> {
  const port = await freePort();
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...profile, path.join(dist, 'src', 'main.js')], { cwd: root, env: replicaEnv(databaseUrl, port, allow), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    const text = d.toString('utf8');
    out = (out + text).slice(-65536);
    replicaLogs.feed(text);
    if (LOG_FILE) fs.appendFileSync(LOG_FILE, text);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const server: ServerProcess = {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    exited,
    kill: () => {
      if (alive() && child.pid) process.kill(child.pid, 'SIGKILL');
    },
  };
  const proc: Proc = {
    pid: child.pid!,
    url: server.url,
    async gql(query, variables, token) {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as never;
    },
    owns: (owner) => pidOfLeaseOwner(owner) === child.pid,
    alive,
    async signal(signal) {
      if (alive()) process.kill(child.pid!, signal);
      return exited;
    },
    async stop() {
      // a profiled replica writes its profile on a clean exit only: SIGTERM first, SIGKILL after 10 s
      if (process.env.BENCH_CPU_PROF && alive()) {
        process.kill(child.pid!, 'SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
      }
      server.kill();
      await exited;
    },
  };
  try {
    await waitUntilReady(server, 180_000);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return proc;
}

/** VmRSS of a process in MB, from /proc (undefined once it exited). */
function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------------------------------------
// Feeds: a dockerEvents subscriber that resumes on another replica when its own goes away
// ------------------------------------------------------------------------------------------------

interface Delivery {
  seq: number;
  timeNano: string;
  source: string;
  at: number;
}

/**
 * One subscribed host's feed. It always subscribes with `after` = the last cursor it received
 * (0 at first, before any event), so that the feed, across replicas and reconnects, must be the
 * host's stored rows 1..N, each once, in order: everything it receives is recorded and checked.
 */
class Feed {
  readonly deliveries: Delivery[] = [];
  last = 0;
  errors: string[] = [];
  resumes = 0;
  /** Messages that arrived on a subscription after the feed had left it (not counted as deliveries). */
  stale = 0;
  target?: Live;
  private client?: WsClient;
  private closed = false;

  constructor(
    readonly host: Host,
    private readonly token: string,
    private readonly pick: (avoid?: Live) => Live | undefined,
  ) {}

  /** (Re)subscribes on `target`, after the last cursor received. */
  attach(target: Live): void {
    this.detach();
    this.target = target;
    const client = createClient({
      url: `${target.replica.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
      connectionParams: { authorization: `Bearer ${this.token}` },
    });
    this.client = client;
    client.subscribe<{ dockerEvents: { cursor: string; timeNano: string; source: string } }>(
      { query: FEED, variables: { hostId: this.host.gid, after: String(this.last) } },
      {
        next: (r) => {
          // a message of a subscription this feed already left (it resumed elsewhere after `last`) is not a delivery
          if (client !== this.client) {
            this.stale++;
            return;
          }
          const e = r.data?.dockerEvents;
          if (!e) {
            if (this.errors.length < 20) this.errors.push(JSON.stringify(r.errors ?? r).slice(0, 300));
            return;
          }
          const seq = Number(e.cursor);
          this.deliveries.push({ seq, timeNano: e.timeNano, source: e.source, at: wallMs() });
          if (seq > this.last) this.last = seq;
        },
        error: (err) => this.lost(client, err),
        complete: () => this.lost(client, 'completed'),
      },
    );
  }

  /** The subscription ended without us asking (its replica went away): resume on another one. */
  private lost(client: WsClient, why: unknown): void {
    if (client !== this.client || this.closed) return;
    this.client = undefined;
    void client.dispose();
    const reason = why instanceof Error ? why.message : typeof why === 'object' && why && 'code' in why ? `close ${(why as { code: number }).code}` : String(why);
    if (reason !== 'completed' && !/close 10\d\d/.test(reason) && this.errors.length < 20) this.errors.push(reason.slice(0, 300));
    const from = this.target;
    setTimeout(() => {
      if (this.closed || this.client) return;
      const next = this.pick(from?.gone ? undefined : from);
      if (!next) return;
      this.resumes++;
      this.attach(next);
    }, 100);
  }

  detach(): void {
    const c = this.client;
    this.client = undefined;
    void c?.dispose();
  }

  close(): void {
    this.closed = true;
    this.detach();
  }
}

// ------------------------------------------------------------------------------------------------
// What happened: segments of the run, steady-state windows, hand-over rounds
// ------------------------------------------------------------------------------------------------

/** A stretch of the run: events whose timeNano falls in [from, next segment's from) are counted in it. */
interface Segment {
  label: string;
  from: number;
}

interface Steady {
  segment: Segment;
  replicas: number;
  windowFrom: number;
  windowTo: number;
  leases: string;
  rss: string;
  benchLagP99: number;
}

interface Round {
  segment: Segment;
  signal: 'SIGKILL' | 'SIGTERM';
  victim: string;
  victimLeases: number;
  at: number;
  hosts: number[];
  /** Per host of the victim: when a survivor held its lease, when its engine saw an /events stream again (wall ms). */
  claimed: Map<number, number>;
  reading: Map<number, number>;
  /** Hosts the victim did not hold whose /events stream closed during the round (a survivor's reader restarted: must be none). */
  disturbed: Set<number>;
  /** Leases per replica before the signal, as "r1 67 · r2 67 · r3 66". */
  spread: string;
  exit?: number | string;
  exitMs?: number;
}

/** A stored row, as the accounting needs it. */
interface Row {
  host: string;
  seq: number;
  timeNano: string;
  key: string;
  fact: string;
  source: string;
  createdMs: number;
  gapFrom?: string;
  gapTo?: string;
}

// ------------------------------------------------------------------------------------------------
// The bench
// ------------------------------------------------------------------------------------------------

class Bench {
  readonly emitted: Emitted[] = [];
  readonly hosts: Host[] = [];
  readonly lives: Live[] = [];
  readonly feeds: Feed[] = [];
  readonly segments: Segment[] = [];
  readonly steady: Steady[] = [];
  readonly rounds: Round[] = [];
  readonly lag = new LoopLag();
  private replicaNo = 0;
  private db?: { url: string; drop: () => Promise<void> };
  private pg?: PgClient;
  private token = '';
  /** The simulators' sockets (allow-listed for the replicas); under the test base, set once the services are up. */
  private dir = '';
  /** Where the app is compiled to (inside the repo so that node_modules resolve; .data/ is ignored by git). */
  private readonly dist = path.join(root, '.data', `bench-replicas-dist-${process.pid}`);
  private readonly loadAbort = new AbortController();
  private loads: Array<Promise<unknown>> = [];
  private sampler?: NodeJS.Timeout;
  loadAvgStart = os.loadavg();

  private get sql(): PgClient {
    if (!this.pg) throw new Error('no database');
    return this.pg;
  }

  live(): Live[] {
    return this.lives.filter((l) => !l.gone && l.replica.alive());
  }

  async setup(): Promise<void> {
    startServices();
    this.dir = path.join(testEnv('FLEETGRAPH_TEST_BASE'), `bench-replicas-${process.pid}`);
    this.db = await createTestDatabase();
    this.pg = new PgClient({ connectionString: this.db.url });
    await this.pg.connect();
    fs.mkdirSync(this.dir, { recursive: true });
    let compiled: Promise<void> = Promise.resolve();
    if (!TS_NODE) {
      log(`compiling the app into ${path.relative(root, this.dist)} (tsc --noCheck)`);
      compiled = compileApp(this.dist);
    }
    for (let i = 0; i < HOSTS; i++) {
      const engine = await startSimEngine({
        socketPath: path.join(this.dir, `sim-${i}.sock`),
        name: `bench-sim-${i}`,
        onEvent: (e: SimEvent) => {
          const fact = `${e.Type} ${e.Action} ${e.Actor.ID}`;
          this.emitted.push({ host: i, timeNano: e.timeNano, ms: nanoToMs(e.timeNano), key: `${e.timeNano} ${fact}`, fact });
        },
      });
      this.hosts.push({ index: i, engine, gid: '', uuid: '' });
    }
    log(`${HOSTS} simulated engines listening in ${this.dir}`);
    await compiled;
    // the first replica applies the migrations alone
    await this.addReplica();
    this.token = await signDevToken(TEST_JWT_SECRET, { account: `bench-replicas-${process.pid}`, subject: 'bench', permissions: ['docker.hosts.manage'] });
    await this.registerHosts();
  }

  /** Starts one more replica process (workers on) on the bench's database. */
  async addReplica(): Promise<Live> {
    const name = `r${++this.replicaNo}`;
    const started = Date.now();
    const allow = testEndpointAllow(`unix:${this.dir}/`);
    let replica: Proc;
    if (TS_NODE) {
      const r = await startReplica(name, this.db!.url, { readyTimeoutMs: 180_000, env: { LOG_LEVEL: 'warn', FLEETGRAPH_ENDPOINT_ALLOW: allow } });
      r.server.child.stdout!.on('data', (d: Buffer) => replicaLogs.feed(d.toString('utf8')));
      r.server.child.stderr!.on('data', (d: Buffer) => replicaLogs.feed(d.toString('utf8')));
      replica = r;
    } else replica = await startCompiledReplica(this.dist, this.db!.url, allow);
    const live: Live = { name, replica, gone: false };
    this.lives.push(live);
    log(`replica ${name} (pid ${replica.pid}) ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return live;
  }

  /** Registers every engine over GraphQL (a few at a time), then waits until each host is connected and its engine has an /events reader. */
  private async registerHosts(): Promise<void> {
    const r = this.lives[0].replica;
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < HOSTS; i = next++) {
        const h = this.hosts[i];
        const res = await r.gql<{ registerDockerHost: { host: { id: string } } }>(
          `mutation($input: RegisterDockerHostInput!) { registerDockerHost(input: $input) { host { id } } }`,
          { input: { name: `sim-${i}`, apiEndpoint: h.engine.endpoint, environment: 'development', syncIntervalSeconds: SYNC_SECONDS } },
          this.token,
        );
        if (res.errors || !res.data) throw new Error(`registering sim-${i}: ${JSON.stringify(res.errors)}`);
        h.gid = res.data.registerDockerHost.host.id;
        h.uuid = expectGlobalId(h.gid, 'DockerHost');
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: 6 }, worker));
    log(`${HOSTS} hosts registered in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const deadline = Date.now() + 60_000 + HOSTS * 500;
    for (;;) {
      const { rows } = await this.sql.query(`select count(*) filter (where status = 'connected')::int as n from docker_hosts`);
      const reading = this.hosts.filter((h) => h.engine.subscriberCount > 0).length;
      if ((rows[0] as { n: number }).n === HOSTS && reading === HOSTS) break;
      if (Date.now() > deadline) throw new Error(`hosts not all connected: ${(rows[0] as { n: number }).n} connected, ${reading} engines with a reader`);
      await sleep(250);
    }
    log(`all hosts connected, every engine read, ${((Date.now() - started) / 1000).toFixed(1)} s after the first registration`);
  }

  /** The live replica with the fewest feeds (other than `avoid`). */
  pickReplica(avoid?: Live): Live | undefined {
    const candidates = this.live().filter((l) => l !== avoid);
    const pool = candidates.length > 0 ? candidates : this.live();
    return pool.sort((a, b) => this.feeds.filter((f) => f.target === a).length - this.feeds.filter((f) => f.target === b).length)[0];
  }

  /** Subscribes the sampled hosts (evenly spread over the fleet), before any event exists. */
  startFeeds(): void {
    for (let k = 0; k < SUBSCRIBERS; k++) {
      const host = this.hosts[Math.floor((k * HOSTS) / SUBSCRIBERS)];
      const feed = new Feed(host, this.token, (avoid) => this.pickReplica(avoid));
      this.feeds.push(feed);
      feed.attach(this.live()[k % this.live().length]);
    }
  }

  /** Moves feed k to live replica k mod n (each resumes after its last cursor). */
  spreadFeeds(): void {
    const live = this.live();
    this.feeds.forEach((f, k) => {
      const target = live[k % live.length];
      if (f.target !== target) f.attach(target);
    });
  }

  /** Container lifecycles on every engine, staggered so that the fleet emits RATE events/s evenly, until stopLoad(). */
  startLoad(): void {
    const perHost = RATE / HOSTS;
    const dayMs = 24 * 3600 * 1000;
    this.loads = this.hosts.map(async (h, i) => {
      await sleep((i * 1000) / RATE);
      if (this.loadAbort.signal.aborted) return;
      return h.engine.rate(perHost, dayMs, { concurrency: 1, namePrefix: `bench-${i}`, signal: this.loadAbort.signal });
    });
  }

  /** Stops the load; the lifecycles in flight finish at once (rate() does that). */
  async stopLoad(): Promise<void> {
    this.loadAbort.abort();
    await Promise.all(this.loads);
  }

  segment(label: string): Segment {
    const s = { label, from: wallMs() };
    this.segments.push(s);
    return s;
  }

  /** Live leases per replica, as "r1 200 · r2 0". */
  async leases(): Promise<{ text: string; byLive: Map<Live, number> }> {
    const { rows } = await this.sql.query(`select lease_owner, count(*)::int as n from docker_hosts where lease_owner is not null and lease_expires_at > now() group by 1`);
    const byLive = new Map<Live, number>(this.live().map((l) => [l, 0]));
    let other = 0;
    for (const r of rows as Array<{ lease_owner: string; n: number }>) {
      const l = this.lives.find((x) => x.replica.owns(r.lease_owner));
      if (l) byLive.set(l, (byLive.get(l) ?? 0) + r.n);
      else other += r.n;
    }
    const text = [...byLive].map(([l, n]) => `${l.name} ${n}`).join(' · ') + (other ? ` · ? ${other}` : '');
    return { text, byLive };
  }

  rss(): string {
    return this.live()
      .map((l) => `${l.name} ${rssMb(l.replica.pid)?.toFixed(0) ?? '-'}`)
      .join(' · ');
  }

  /** Steady state with `n` replicas: start what is missing, spread the feeds, settle, measure. */
  async steadyState(n: number): Promise<void> {
    const segment = this.segment(`${n} replica${n > 1 ? 's' : ''}`);
    while (this.live().length < n) await this.addReplica();
    await this.settleLeases();
    this.spreadFeeds();
    await sleep(SETTLE_MS);
    this.lag.reset();
    const windowFrom = wallMs();
    log(`measuring ${n} replica(s) for ${SECONDS} s`);
    await sleep(SECONDS * 1000);
    const windowTo = wallMs();
    const { text } = await this.leases();
    this.steady.push({ segment, replicas: n, windowFrom, windowTo, leases: text, rss: this.rss(), benchLagP99: this.lag.read().p99 });
    // the window's last events are stored before whatever comes next (a kill) could delay them
    await sleep(SETTLE_MS);
  }

  /**
   * One hand-over round: signal the replica holding the most leases, then watch (every 10 ms in
   * this process) each of its hosts' engines for its /events stream to close and open again, and
   * (every 100 ms in the database) for a survivor to hold the host's lease. Replaces the replica.
   */
  async handover(signal: 'SIGKILL' | 'SIGTERM', no: number): Promise<void> {
    const { byLive, text: spread } = await this.leases();
    const [victim, victimLeases] = [...byLive].sort((a, b) => b[1] - a[1])[0];
    const { rows: ownerRows } = await this.sql.query(`select id, lease_owner from docker_hosts where lease_expires_at > now()`);
    const victimUuids = new Set((ownerRows as Array<{ id: string; lease_owner: string | null }>).filter((r) => victim.replica.owns(r.lease_owner)).map((r) => r.id));
    const hosts = this.hosts.filter((h) => victimUuids.has(h.uuid)).map((h) => h.index);
    const segment = this.segment(`${signal} ${no}`);
    const round: Round = { segment, signal, victim: victim.name, victimLeases, at: 0, hosts, claimed: new Map(), reading: new Map(), disturbed: new Set(), spread };
    this.rounds.push(round);
    const closed = new Set<number>();
    const others = this.hosts.filter((h) => !victimUuids.has(h.uuid)).map((h) => h.index);
    const sample = () => {
      const now = wallMs();
      for (const i of hosts) {
        if (round.reading.has(i)) continue;
        const n = this.hosts[i].engine.subscriberCount;
        if (n === 0) closed.add(i);
        // read again: a reader after none (cold), or a second reader beside the old one (a warm SIGTERM hand-off)
        else if (closed.has(i) || n >= 2) round.reading.set(i, now);
      }
      for (const i of others) if (this.hosts[i].engine.subscriberCount === 0) round.disturbed.add(i);
    };
    this.sampler = setInterval(sample, 10);
    victim.gone = true;
    round.at = wallMs();
    const exited = victim.replica.signal(signal).then((code) => {
      round.exit = code;
      round.exitMs = wallMs() - round.at;
    });
    log(`${signal} ${no}: ${victim.name} (pid ${victim.replica.pid}, ${victimLeases} leases; ${spread})`);
    const uuids = hosts.map((i) => this.hosts[i].uuid);
    const byUuid = new Map(hosts.map((i) => [this.hosts[i].uuid, i]));
    const deadline = round.at + TAKEOVER_MS;
    while (wallMs() < deadline && (round.claimed.size < hosts.length || round.reading.size < hosts.length)) {
      const { rows: leaseRows } = await this.sql.query(`select id, lease_owner from docker_hosts where id = any($1::uuid[])`, [uuids]);
      const now = wallMs();
      for (const r of leaseRows as Array<{ id: string; lease_owner: string | null }>) {
        const i = byUuid.get(r.id)!;
        if (!round.claimed.has(i) && this.live().some((l) => l.replica.owns(r.lease_owner))) round.claimed.set(i, now);
      }
      await sleep(100);
    }
    clearInterval(this.sampler);
    sample();
    const ms = (m: Map<number, number>) => (m.size === hosts.length ? `${(Math.max(...m.values()) - round.at).toFixed(0)} ms` : `${m.size}/${hosts.length} hosts`);
    log(`${signal} ${no}: claimed ${ms(round.claimed)}, reading ${ms(round.reading)}; survivors' hosts whose reader closed meanwhile: ${round.disturbed.size}`);
    await exited;
    // the survivor stores the backlog before the next replica's start takes the CPU
    const left = await this.waitCaughtUp(round);
    log(`${signal} ${no}: ${left === 0 ? 'caught up' : `${left} backlog events still not stored`} after ${(wallMs() - round.at).toFixed(0)} ms`);
    await sleep(1000);
    await this.addReplica();
    await this.settleLeases();
    await sleep(1000);
  }

  /**
   * After a replica joined, waits (at most TAKEOVER_MS) until the others shed their surplus to it:
   * every host leased, no live replica above its fair share plus slack, every engine read once; so
   * that the next round starts from a spread fleet and its "others" column counts restarts, not
   * the hand-over of the join.
   */
  private async settleLeases(): Promise<void> {
    const started = wallMs();
    for (;;) {
      const { byLive } = await this.leases();
      const share = Math.ceil(HOSTS / this.live().length);
      const held = [...byLive.values()];
      const spread = held.reduce((a, b) => a + b, 0) === HOSTS && held.every((n) => n <= share + shareSlack(share));
      if (spread && this.hosts.every((h) => h.engine.subscriberCount === 1)) break;
      if (wallMs() - started > TAKEOVER_MS) {
        log(`leases not spread after ${TAKEOVER_MS / 1000} s: ${(await this.leases()).text}`);
        break;
      }
      await sleep(200);
    }
    log(`leases spread in ${(wallMs() - started).toFixed(0)} ms: ${(await this.leases()).text}`);
  }

  /**
   * Waits until every event the round's hosts emitted between the signal and their stream
   * reopening is stored, inside a GAP window or reported by a RESYNC row (or the round's time is
   * up); returns how many are not.
   */
  private async waitCaughtUp(round: Round): Promise<number> {
    const hosts = new Set(round.hosts);
    const backlog = this.emitted.filter((e) => hosts.has(e.host) && e.ms >= round.at && e.ms <= (round.reading.get(e.host) ?? -Infinity));
    const uuids = round.hosts.map((i) => this.hosts[i].uuid);
    for (;;) {
      const { rows } = await this.sql.query(
        `select host_id, source, time_nano::text as time_nano, type, action, actor_id, attributes->>'from' as gap_from, attributes->>'to' as gap_to
           from docker_events where host_id = any($1::uuid[]) and created_at >= to_timestamp($2 / 1000.0)`,
        [uuids, round.at],
      );
      const seen = new Set<string>();
      const gaps: Array<{ host: string; from: bigint; to: bigint }> = [];
      for (const r of rows as Array<Record<string, string>>) {
        if (r.source === 'gap') gaps.push({ host: r.host_id, from: BigInt(r.gap_from ?? '0'), to: BigInt(r.gap_to ?? '0') });
        else seen.add(`${r.host_id} ${r.source === 'resync' ? '' : `${r.time_nano} `}${r.type} ${r.action} ${r.actor_id}`);
      }
      const left = backlog.filter((e) => {
        const uuid = this.hosts[e.host].uuid;
        if (seen.has(`${uuid} ${e.key}`) || seen.has(`${uuid} ${e.fact}`)) return false;
        const t = BigInt(e.timeNano);
        return !gaps.some((g) => g.host === uuid && t >= g.from && t <= g.to);
      }).length;
      if (left === 0 || wallMs() > round.at + TAKEOVER_MS) return left;
      await sleep(200);
    }
  }

  /** After the load: waits until the stored rows stop changing and every feed reached its host's last sequence number. */
  async drain(): Promise<void> {
    const deadline = Date.now() + DRAIN_MS;
    let lastCount = -1;
    let stableSince = Date.now();
    for (;;) {
      const { rows } = await this.sql.query(`select count(*)::int as n from docker_events`);
      const count = (rows[0] as { n: number }).n;
      if (count !== lastCount) {
        lastCount = count;
        stableSince = Date.now();
      }
      const { rows: seqRows } = await this.sql.query(`select id, event_seq::int as seq from docker_hosts`);
      const seqOf = new Map((seqRows as Array<{ id: string; seq: number }>).map((r) => [r.id, r.seq]));
      const behind = this.feeds.filter((f) => f.last < (seqOf.get(f.host.uuid) ?? 0)).length;
      if (Date.now() - stableSince > 2000 && behind === 0) return;
      if (Date.now() > deadline) {
        log(`drain cut after ${DRAIN_MS / 1000} s: ${behind} feed(s) behind`);
        return;
      }
      await sleep(250);
    }
  }

  async rows(): Promise<Row[]> {
    const { rows } = await this.sql.query(
      `select host_id, seq::int as seq, time_nano::text as time_nano, type, action, actor_id, source,
              attributes->>'from' as gap_from, attributes->>'to' as gap_to, extract(epoch from created_at) * 1000 as created_ms
         from docker_events order by host_id, seq`,
    );
    return (rows as Array<Record<string, string | number | null>>).map((r) => ({
      host: r.host_id as string,
      seq: r.seq as number,
      timeNano: r.time_nano as string,
      key: `${r.time_nano} ${r.type} ${r.action} ${r.actor_id}`,
      fact: `${r.type} ${r.action} ${r.actor_id}`,
      source: r.source as string,
      createdMs: Number(r.created_ms),
      ...(r.source === 'gap' ? { gapFrom: r.gap_from as string, gapTo: r.gap_to as string } : {}),
    }));
  }

  async teardown(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    for (const f of this.feeds) f.close();
    this.loadAbort.abort();
    await Promise.all(this.lives.map((l) => l.replica.stop().catch(() => undefined)));
    await Promise.all(this.hosts.map((h) => h.engine.stop().catch(() => undefined)));
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    fs.rmSync(this.dist, { recursive: true, force: true });
    await this.pg?.end().catch(() => undefined);
    await this.db?.drop().catch((err) => log(`could not drop the database: ${(err as Error).message}`));
  }
}

// ------------------------------------------------------------------------------------------------
// Accounting
// ------------------------------------------------------------------------------------------------

interface Outcome {
  events: number;
  once: number;
  lost: number;
  duplicated: number;
  covered: number;
  /** Not stored, but a RESYNC row of the host reports the same fact (type, action, actor) with a synthetic timeNano. */
  replaced: number;
  /** Stored rows of subscribed hosts, and how their deliveries went. */
  feedRows: number;
  feedLost: number;
  feedDup: number;
}

const emptyOutcome = (): Outcome => ({ events: 0, once: 0, lost: 0, duplicated: 0, covered: 0, replaced: 0, feedRows: 0, feedLost: 0, feedDup: 0 });

/** Everything the run produced, counted per segment (by Docker time) and in total. */
class Accounting {
  readonly bySegment = new Map<Segment, Outcome>();
  readonly total = emptyOutcome();
  resyncRows = 0;
  /** RESYNC rows reporting a fact also stored from the stream (a subscriber sees it twice). */
  resyncRepeats = 0;
  gapRows = 0;
  unknownRows = 0;
  seqHoles = 0;
  feedOutOfOrder = 0;
  feedMismatch = 0;
  feedExtra = 0;
  lostSamples: string[] = [];
  /** Per host uuid: stored rows by key, and created_ms of the first. */
  private readonly stored = new Map<string, Map<string, { n: number; createdMs: number }>>();
  private readonly gaps = new Map<string, Array<{ from: bigint; to: bigint; createdMs: number }>>();
  /** Per host uuid: facts reported by RESYNC rows (with created_ms), and facts stored from the stream. */
  private readonly resynced = new Map<string, Map<string, number>>();
  private readonly streamFacts = new Map<string, Set<string>>();
  /** Per host uuid: its rows. */
  private readonly byHost = new Map<string, Row[]>();

  constructor(
    private readonly bench: Bench,
    readonly rows: Row[],
  ) {
    this.index();
    this.countEmitted();
    this.countFeeds();
  }

  segmentOf(ms: number): Segment {
    let s = this.bench.segments[0];
    for (const x of this.bench.segments) if (x.from <= ms) s = x;
    return s;
  }

  private outcome(s: Segment): Outcome {
    let o = this.bySegment.get(s);
    if (!o) this.bySegment.set(s, (o = emptyOutcome()));
    return o;
  }

  private index(): void {
    let host = '';
    let expect = 1;
    for (const r of this.rows) {
      const list = this.byHost.get(r.host) ?? [];
      list.push(r);
      this.byHost.set(r.host, list);
      if (r.host !== host) {
        host = r.host;
        expect = 1;
      }
      if (r.seq !== expect) this.seqHoles++;
      expect = r.seq + 1;
      if (r.source === 'resync') {
        this.resyncRows++;
        const m = this.resynced.get(r.host) ?? new Map<string, number>();
        if (!m.has(r.fact)) m.set(r.fact, r.createdMs);
        this.resynced.set(r.host, m);
      }
      if (r.source === 'gap') {
        this.gapRows++;
        const list = this.gaps.get(r.host) ?? [];
        list.push({ from: BigInt(r.gapFrom ?? '0'), to: BigInt(r.gapTo ?? '0'), createdMs: r.createdMs });
        this.gaps.set(r.host, list);
      }
      if (r.source !== 'stream') continue;
      const facts = this.streamFacts.get(r.host) ?? new Set<string>();
      facts.add(r.fact);
      this.streamFacts.set(r.host, facts);
      const m = this.stored.get(r.host) ?? new Map<string, { n: number; createdMs: number }>();
      const x = m.get(r.key);
      if (x) x.n++;
      else m.set(r.key, { n: 1, createdMs: r.createdMs });
      this.stored.set(r.host, m);
    }
  }

  /** The stored copy of an emitted event (undefined: not stored). */
  storedOf(e: Emitted): { n: number; createdMs: number } | undefined {
    return this.stored.get(this.bench.hosts[e.host].uuid)?.get(e.key);
  }

  /** created_ms of the RESYNC row reporting the event's fact, if any. */
  resyncOf(e: Emitted): number | undefined {
    return this.resynced.get(this.bench.hosts[e.host].uuid)?.get(e.fact);
  }

  /** The GAP row whose window holds the event, if any. */
  gapOf(e: Emitted): { createdMs: number } | undefined {
    const t = BigInt(e.timeNano);
    return this.gaps.get(this.bench.hosts[e.host].uuid)?.find((g) => t >= g.from && t <= g.to);
  }

  private countEmitted(): void {
    const matched = new Map<string, number>();
    for (const e of this.bench.emitted) {
      const o = this.outcome(this.segmentOf(e.ms));
      for (const x of [o, this.total]) x.events++;
      const s = this.storedOf(e);
      if (s) {
        const uuid = this.bench.hosts[e.host].uuid;
        matched.set(uuid, (matched.get(uuid) ?? 0) + 1);
        for (const x of [o, this.total]) {
          if (s.n === 1) x.once++;
          else x.duplicated++;
        }
      } else if (this.gapOf(e)) {
        for (const x of [o, this.total]) x.covered++;
      } else if (this.resyncOf(e) !== undefined) {
        for (const x of [o, this.total]) x.replaced++;
      } else {
        for (const x of [o, this.total]) x.lost++;
        if (this.lostSamples.length < 5) this.lostSamples.push(`sim-${e.host} ${e.key} (${new Date(e.ms).toISOString()})`);
      }
    }
    // stream rows no simulator emitted (must be none)
    for (const [uuid, m] of this.stored) this.unknownRows += m.size - (matched.get(uuid) ?? 0);
    for (const [uuid, m] of this.resynced) for (const fact of m.keys()) if (this.streamFacts.get(uuid)?.has(fact)) this.resyncRepeats++;
  }

  /** Each stored row of a subscribed host delivered once to its feed, in order, with the stored timeNano. */
  private countFeeds(): void {
    for (const f of this.bench.feeds) {
      const rows = this.byHost.get(f.host.uuid) ?? [];
      const bySeq = new Map(rows.map((r) => [r.seq, r]));
      const got = new Map<number, number>();
      let prev = 0;
      for (const d of f.deliveries) {
        got.set(d.seq, (got.get(d.seq) ?? 0) + 1);
        if (d.seq <= prev) this.feedOutOfOrder++;
        prev = Math.max(prev, d.seq);
        const r = bySeq.get(d.seq);
        if (!r) this.feedExtra++;
        else if (r.timeNano !== d.timeNano) this.feedMismatch++;
      }
      for (const r of rows) {
        const o = this.outcome(this.segmentOf(nanoToMs(r.timeNano)));
        const n = got.get(r.seq) ?? 0;
        for (const x of [o, this.total]) {
          x.feedRows++;
          if (n === 0) x.feedLost++;
          if (n > 1) x.feedDup += n - 1;
        }
      }
    }
  }

  /** Ingest lag (created_at − timeNano) of stream rows whose event falls in [from, to]. */
  ingestLag(from: number, to: number): Summary {
    const out: number[] = [];
    for (const r of this.rows) {
      if (r.source !== 'stream') continue;
      const ms = nanoToMs(r.timeNano);
      if (ms >= from && ms <= to) out.push(r.createdMs - ms);
    }
    return summarize(out);
  }

  /** Delivery latency (receipt − timeNano) of stream events in [from, to], over every feed. */
  deliveryLag(from: number, to: number): Summary {
    const out: number[] = [];
    for (const f of this.bench.feeds)
      for (const d of f.deliveries) {
        if (d.source !== 'STREAM') continue;
        const ms = nanoToMs(d.timeNano);
        if (ms >= from && ms <= to) out.push(d.at - ms);
      }
    return summarize(out);
  }

  /**
   * When a round's hosts were caught up: for each host, the latest store (or GAP row) of the events
   * it emitted between the signal and its stream reopening; undefined when one was never stored.
   */
  caughtUp(round: Round): { atMs: number | undefined; backlog: number; unstored: number; delay: Summary } {
    let latest = round.at;
    let backlog = 0;
    let unstored = 0;
    const delays: number[] = [];
    const hosts = new Set(round.hosts);
    for (const e of this.bench.emitted) {
      if (!hosts.has(e.host) || e.ms < round.at) continue;
      const reading = round.reading.get(e.host);
      if (reading === undefined || e.ms > reading) continue;
      backlog++;
      const stored = this.storedOf(e)?.createdMs;
      if (stored !== undefined) delays.push(stored - e.ms);
      const at = stored ?? this.gapOf(e)?.createdMs ?? this.resyncOf(e);
      if (at !== undefined) latest = Math.max(latest, at);
      else unstored++;
    }
    return { atMs: unstored ? undefined : latest, backlog, unstored, delay: summarize(delays) };
  }

  /**
   * When the round's hosts were all storing again: per host, the first row a survivor stored (created
   * after the SIGKILL, or after the host was claimed for a SIGTERM, whose victim stores what it read
   * before it lets go) when the host emitted something between the signal and its stream reopening;
   * else its reopening (nothing was waiting to be stored). The latest over the hosts; undefined
   * while a host with such a backlog has no row.
   */
  storingAgain(round: Round): number | undefined {
    // a SIGTERM hands over warm: the victim keeps storing until the new reader takes the lease, so
    // a survivor's first row only shows when the next event came; what counts is that every event
    // of the hand-over is stored (its delay is printed beside)
    if (round.signal === 'SIGTERM') return round.reading.size === round.hosts.length ? this.caughtUp(round).atMs : undefined;
    const waiting = new Set<number>();
    const hosts = new Set(round.hosts);
    for (const e of this.bench.emitted) if (e.ms >= round.at && hosts.has(e.host) && e.ms <= (round.reading.get(e.host) ?? -Infinity)) waiting.add(e.host);
    let latest = round.at;
    for (const i of round.hosts) {
      const reading = round.reading.get(i);
      if (reading === undefined) return undefined;
      if (!waiting.has(i)) {
        latest = Math.max(latest, reading);
        continue;
      }
      const after = round.signal === 'SIGKILL' ? round.at : (round.claimed.get(i) ?? round.at);
      const uuid = this.bench.hosts[i].uuid;
      const first = this.firstRowAfter(uuid, after);
      if (first === undefined) return undefined;
      latest = Math.max(latest, first);
    }
    return latest;
  }

  /** created_ms of the host's first row created after `ms`. */
  private firstRowAfter(uuid: string, ms: number): number | undefined {
    let best: number | undefined;
    for (const r of this.byHost.get(uuid) ?? []) if (r.createdMs > ms && (best === undefined || r.createdMs < best)) best = r.createdMs;
    return best;
  }

  /** GAP rows of the round's hosts created during the round. */
  gapsIn(round: Round, until: number): number {
    const uuids = new Set(round.hosts.map((i) => this.bench.hosts[i].uuid));
    return this.rows.filter((r) => r.source === 'gap' && uuids.has(r.host) && r.createdMs >= round.at && r.createdMs < until).length;
  }
}

// ------------------------------------------------------------------------------------------------
// Report
// ------------------------------------------------------------------------------------------------

const f = (v: number | undefined, d = 0) => (v !== undefined && Number.isFinite(v) ? v.toFixed(d) : '-');
const lat = (s: Summary) => `${f(s.p50, 1).padStart(7)} ${f(s.p99, 1).padStart(7)} ${f(s.max, 1).padStart(7)}`;
const outcome = (o: Outcome) => `${String(o.lost).padStart(4)} ${String(o.duplicated).padStart(4)} ${String(o.covered).padStart(4)} ${String(o.replaced).padStart(6)}`;
const feedOutcome = (o: Outcome) => `${String(o.feedLost).padStart(4)} ${String(o.feedDup).padStart(4)}`;

interface Takeover {
  claimed?: number;
  reading?: number;
  storing?: number;
  total?: number;
  caught?: number;
  /** Per host, reading − claimed: how long a survivor took to open the stream of a host it had just leased (negative: opened before it took the lease, warm). */
  open: Summary;
  /** How long the backlog's events waited to be stored (created_at − emitted), p50/max. */
  delay: Summary;
  backlog: number;
  unstored: number;
}

const takeovers = new Map<Round, Takeover>();

function takeoverOf(round: Round, acc: Accounting): Takeover {
  const known = takeovers.get(round);
  if (known) return known;
  const all = (m: Map<number, number>) => (m.size === round.hosts.length ? Math.max(round.at, ...m.values()) - round.at : undefined);
  const claimed = all(round.claimed);
  const reading = all(round.reading);
  const storingAt = acc.storingAgain(round);
  const storing = storingAt === undefined ? undefined : storingAt - round.at;
  const c = acc.caughtUp(round);
  const caught = c.atMs === undefined ? undefined : c.atMs - round.at;
  const total = claimed === undefined || reading === undefined || storing === undefined ? undefined : Math.max(claimed, reading, storing);
  const open = summarize(round.hosts.filter((i) => round.claimed.has(i) && round.reading.has(i)).map((i) => round.reading.get(i)! - round.claimed.get(i)!));
  const t = { claimed, reading, storing, total, caught, open, delay: c.delay, backlog: c.backlog, unstored: c.unstored };
  takeovers.set(round, t);
  return t;
}

function report(bench: Bench, acc: Accounting, meta: { setupSec: number; totalSec: number }): void {
  const cpus = os.cpus();
  const lines: string[] = [];
  const nextFrom = (s: Segment) => bench.segments[bench.segments.indexOf(s) + 1]?.from ?? Infinity;
  lines.push('');
  lines.push('fleetgraph bench:replicas');
  lines.push(`date    : ${new Date().toISOString()}`);
  lines.push(
    `machine : ${cpus.length} × ${cpus[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, load avg ${bench.loadAvgStart
      .map((l) => l.toFixed(2))
      .join(' ')} at start, ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at end`,
  );
  lines.push(`software: node ${process.version}; replicas = src/main.ts processes, workers on; one PostgreSQL database and the test Redis`);
  lines.push(
    `load    : ${HOSTS} simulated engines (test/support/sim-engine.ts) registered as hosts, ${RATE} events/s in total (${(RATE / HOSTS).toFixed(2)}/s per host; ` +
      `container create/start/die/destroy), host sync every ${SYNC_SECONDS} s`,
  );
  lines.push(
    `feeds   : ${bench.feeds.length} dockerEvents(hostId, after) { cursor timeNano source } subscribers, one WebSocket each, spread over the replicas; ` +
      `leases ${DEFAULT_LEASE_SECONDS} s, reconcile every ${DEFAULT_RECONCILE_MS / 1000} s, fair share per replica, ${STARTS_AT_ONCE} supervisor starts at a time`,
  );
  lines.push(`run     : setup ${meta.setupSec.toFixed(0)} s, total ${meta.totalSec.toFixed(0)} s`);
  lines.push('');
  lines.push(`steady state: latency in ms from Docker timeNano (p50 p99 max) over ${SECONDS} s per row`);
  const h1 = `${'replicas'.padStart(8)} | ${'leases per replica'.padEnd(22)} | ${'events'.padStart(6)} | ${'ingest lag'.padEnd(23)} | ${'delivery'.padEnd(23)} | ${'stored lost  dup  gap resync'} | ${'fed lost  dup'} | ${'RSS MB per replica'.padEnd(24)} | bench lag p99`;
  lines.push(h1);
  lines.push('-'.repeat(h1.length));
  for (const s of bench.steady) {
    const o = acc.bySegment.get(s.segment) ?? emptyOutcome();
    const ingest = acc.ingestLag(s.windowFrom, s.windowTo);
    const delivery = acc.deliveryLag(s.windowFrom, s.windowTo);
    lines.push(
      `${String(s.replicas).padStart(8)} | ${s.leases.padEnd(22)} | ${String(ingest.n).padStart(6)} | ${lat(ingest)} | ${lat(delivery)} | ${' '.repeat(6)}${outcome(o)} | ${' '.repeat(3)}${feedOutcome(o)} | ${s.rss.padEnd(24)} | ${f(s.benchLagP99, 1).padStart(13)}`,
    );
  }
  if (bench.rounds.length > 0) {
    lines.push('');
    lines.push('hand-over rounds: ms after the signal to the victim (the replica holding the most leases)');
    const h2 = `${'round'.padStart(10)} | ${'victim'.padEnd(10)} | ${'claimed'.padStart(7)} | ${'reading'.padStart(7)} | ${'storing'.padStart(7)} | ${'takeover'.padStart(8)} | ${'open p50/max'.padStart(12)} | ${'caught up'.padStart(9)} | ${'backlog'.padStart(7)} | ${'delay p50/max'.padStart(13)} | ${'events'.padStart(6)} | stored lost  dup  gap resync | GAP rows | fed lost  dup | ${'others'.padStart(6)} | exit`;
    lines.push(h2);
    lines.push('-'.repeat(h2.length));
    for (const r of bench.rounds) {
      const t = takeoverOf(r, acc);
      const o = acc.bySegment.get(r.segment) ?? emptyOutcome();
      const exit = r.exit === undefined ? '-' : `${r.exit}${r.signal === 'SIGTERM' && r.exitMs !== undefined ? ` in ${r.exitMs.toFixed(0)} ms` : ''}`;
      lines.push(
        `${r.segment.label.padStart(10)} | ${`${r.victim} ${r.victimLeases}`.padEnd(10)} | ${f(t.claimed).padStart(7)} | ${f(t.reading).padStart(7)} | ${f(t.storing).padStart(7)} | ${(t.total === undefined ? 'timeout' : f(t.total)).padStart(8)} | ${`${f(t.open.p50)}/${f(t.open.max)}`.padStart(12)} | ${(t.caught === undefined ? `${t.unstored} left` : f(t.caught)).padStart(9)} | ${String(t.backlog).padStart(7)} | ${`${f(t.delay.p50)}/${f(t.delay.max)}`.padStart(13)} | ${String(o.events).padStart(6)} | ${' '.repeat(6)}${outcome(o)} | ${String(acc.gapsIn(r, nextFrom(r.segment))).padStart(8)} | ${' '.repeat(3)}${feedOutcome(o)} | ${String(r.disturbed.size).padStart(6)} | ${exit}`,
      );
    }
    lines.push('');
    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      const rs = bench.rounds.filter((r) => r.signal === signal);
      if (rs.length === 0) continue;
      const totals = rs.map((r) => takeoverOf(r, acc).total);
      const done = totals.filter((t): t is number => t !== undefined);
      const s = summarize(done);
      const caught = summarize(rs.map((r) => takeoverOf(r, acc).caught).filter((c): c is number => c !== undefined));
      const gaps = rs.reduce((a, r) => a + acc.gapsIn(r, nextFrom(r.segment)), 0);
      lines.push(
        `${signal === 'SIGKILL' ? 'SIGKILL takeover' : 'SIGTERM hand-off'}: ${rs.length} round(s), p50 ${f(s.p50)} ms, p99 ${f(s.p99)} ms, max ${f(s.max)} ms` +
          `${done.length < rs.length ? `, ${rs.length - done.length} not complete within ${TAKEOVER_MS / 1000} s` : ''}; caught up p50 ${f(caught.p50)} ms, max ${f(caught.max)} ms; GAP rows ${gaps}` +
          ` (target ${signal === 'SIGKILL' ? 'p99 ≤ 10 000 ms over 20 kills' : '≤ 2 000 ms with no gap'})`,
      );
    }
  }
  const t = acc.total;
  lines.push('');
  lines.push(
    `totals  : ${t.events} events emitted; stored exactly once ${t.once}, lost ${t.lost}, duplicated ${t.duplicated}, gap-covered ${t.covered}, ` +
      `replaced by a RESYNC row ${t.replaced}; rows: ${acc.rows.length} (RESYNC ${acc.resyncRows}, of which repeat a stored stream event ${acc.resyncRepeats}; GAP ${acc.gapRows}; ` +
      `stream rows no engine emitted ${acc.unknownRows}), sequence holes ${acc.seqHoles}`,
  );
  lines.push(
    `feeds   : ${t.feedRows} stored rows of subscribed hosts, ${bench.feeds.reduce((a, x) => a + x.deliveries.length, 0)} deliveries; not delivered ${t.feedLost}, ` +
      `delivered twice or more ${t.feedDup}, out of order ${acc.feedOutOfOrder}, timeNano ≠ stored ${acc.feedMismatch}, cursor never stored ${acc.feedExtra}; ` +
      `resumed on another replica ${bench.feeds.reduce((a, x) => a + x.resumes, 0)} times (${bench.feeds.reduce((a, x) => a + x.stale, 0)} messages of left subscriptions ignored)`,
  );
  for (const s of acc.lostSamples) lines.push(`  lost e.g. ${s}`);
  const logged = [...replicaLogs.counts].sort((a, b) => b[1] - a[1]);
  lines.push(`replicas: ${logged.length === 0 ? 'no warning or error logged' : 'logged (warn/error, by message, all replicas):'}`);
  for (const [msg, n] of logged.slice(0, 12)) lines.push(`  ${String(n).padStart(6)} × ${msg}`);
  const errs = bench.feeds.flatMap((x) => x.errors.map((e) => `sim-${x.host.index}: ${e}`));
  for (const e of errs.slice(0, 5)) lines.push(`  feed error: ${e}`);
  lines.push('');
  lines.push('legend');
  lines.push("  ingest lag   : docker_events.created_at (PostgreSQL's now() of the storing statement, so a little before its commit) − the event's timeNano");
  lines.push('  delivery     : when a subscriber in this process received the event − its timeNano (same clock); STREAM events of the window only');
  lines.push('  events       : stream rows whose event falls in the measured window (steady state) / events emitted during the round (rounds)');
  lines.push("  stored       : events emitted in the row's stretch of the run (until the next row starts): lost = neither stored nor inside a GAP");
  lines.push("                 row's from/to window nor replaced, dup = stored more than once, gap = not stored but covered by a GAP row,");
  lines.push('                 resync = not stored, but a RESYNC row (synthetic timeNano) reports the same type, action and actor');
  lines.push('  fed          : stored rows (any source) of the subscribed hosts in that stretch: lost = never delivered, dup = extra deliveries');
  lines.push('  leases / RSS : at the end of the window (VmRSS of each replica process); bench lag p99 = event-loop delay of this process');
  lines.push('  claimed      : every host of the victim is leased by a live replica (polled every 100 ms)');
  lines.push("  reading      : every one of those hosts' engines has an /events stream open again (sampled every 10 ms): after none (SIGKILL), or beside");
  lines.push('                 the old one (SIGTERM: the warm hand-off opens the new reader before the old one stops)');
  lines.push('  storing      : SIGKILL: every one of those hosts that emitted events between the signal and its stream reopening has a row a survivor');
  lines.push('                 stored (the others: their reopening, as nothing waited to be stored); SIGTERM: every such event is stored (by the victim');
  lines.push('                 until the lease moved, then by the survivor), as in caught up');
  lines.push('  takeover     : the latest of claimed, reading and storing; open = per host, reading − claimed (connect, verify, resume query, GET /events;');
  lines.push('                 negative on a warm hand-off: the survivor takes the lease once its stream is open)');
  lines.push('  delay        : how long the backlog events waited to be stored (created_at − emitted), p50/max: what a subscriber sees of the hand-over');
  lines.push('  caught up    : every event those hosts emitted between the signal and their stream reopening (backlog) is stored, in a GAP window or');
  lines.push("                 reported by a RESYNC row; exit = the victim's exit status (SIGTERM: and how long it took)");
  lines.push("  others       : hosts the victim did not hold whose /events stream closed during the round (a survivor's reader restarted; 0 expected)");
  process.stdout.write(lines.join('\n') + '\n');
}

async function main(): Promise<void> {
  if (!(HOSTS >= 1 && HOSTS <= 1000)) throw new Error('BENCH_HOSTS must be between 1 and 1000');
  if (!(RATE > 0)) throw new Error('BENCH_RATE must be > 0');
  if (COUNTS.length === 0 || COUNTS.some((n, i) => i > 0 && n < COUNTS[i - 1])) throw new Error('BENCH_REPLICAS must be ascending replica counts, e.g. 1,2,3');
  const bench = new Bench();
  // Ctrl-C: the replicas (same process group) stop by themselves; the database, sockets and compiled app are removed
  process.once('SIGINT', () => void bench.teardown().finally(() => process.exit(130)));
  try {
    bench.segment('setup');
    await bench.setup();
    const setupSec = (Date.now() - t0) / 1000;
    bench.startFeeds();
    bench.startLoad();
    for (const n of COUNTS) await bench.steadyState(n);
    if (bench.live().length >= 2) {
      for (let k = 1; k <= KILLS; k++) await bench.handover('SIGKILL', k);
      for (let k = 1; k <= TERMS; k++) await bench.handover('SIGTERM', k);
    } else if (KILLS + TERMS > 0) log('hand-over rounds skipped: they need at least 2 replicas (BENCH_REPLICAS)');
    bench.segment('end');
    log('stopping the load, draining');
    await bench.stopLoad();
    await bench.drain();
    const acc = new Accounting(bench, await bench.rows());
    report(bench, acc, { setupSec, totalSec: (Date.now() - t0) / 1000 });
  } finally {
    await bench.teardown();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
