/**
 * npm run bench:events — Docker event latency and fan-out of the dockerEvents subscription.
 *
 * Starts the test services (test/support/services.sh up) and an in-process server on a fresh
 * database with Redis pub/sub and host workers on (startTestApp), registers the test dockerd,
 * then for each subscriber count N: N graphql-ws clients in child processes subscribe to
 * dockerEvents(hostId), a child makes container events, and the latency from Docker's event
 * time (timeNano) is measured at (a) a raw /events reader, (b) a Redis tap on the host's
 * channel (= when the server published, after storing) and (c) every GraphQL subscriber.
 * See bench/README.md.
 *
 * Environment knobs (defaults in brackets):
 *   BENCH_N=1,100,1000           subscriber counts, one round each
 *   BENCH_CONTAINERS=30          container lifecycles per round (7 Docker events each, 5 measured)
 *   BENCH_CONCURRENCY=2          lifecycles in flight at once
 *   BENCH_RATE=0                 lifecycle starts per second (0 = as fast as dockerd goes)
 *   BENCH_CLIENTS_PER_PROCESS=1000 subscribers per client child process (1 process leaves a core to the server)
 *   BENCH_DRAIN_SECONDS=30       how long to wait for deliveries after the last event before the round is cut
 *                                (undelivered events are reported as lost; keeps a run bounded)
 *   BENCH_QUERY=full|lean        full = the EventFields fragment the app uses (with host { id }); lean = no host
 *   BENCH_TRACE=1                time the server's ingest per batch (wraps ingestEvents and dockerode's inspect):
 *                                where "server published" latency goes, printed after the table
 *   BENCH_SOURCE=docker|redis    redis = skip Docker and the server's ingest: publish BENCH_CONTAINERS*5 copies of a
 *                                real payload straight to the host's Redis channel at BENCH_RATE/s (default 50):
 *                                the GraphQL fan-out alone (latency from the publish)
 */
import 'reflect-metadata';
import { fork, ChildProcess } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { print } from 'graphql';
import { startTestApp } from '../test/support/app';
import { DEFAULT_LIMITS } from '../src/kernel/config';
import { EventStage, setEventTrace } from '../src/kernel/trace';
import { OnDockerEventsDocument } from '../src/generated/graphql';
import { expectGlobalId } from '../src/graphql/relay';
import { PERMISSIONS } from '../src/kernel/permissions';
import { LoopLag, nanoToMs, Reply, summarize, Summary, wallMs, clockSkewMs, startServices } from './common';

const t0 = Date.now();
const log = (msg: string) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`);

const Ns = (process.env.BENCH_N ?? '1,100,1000')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => n > 0);
const CONTAINERS = Number(process.env.BENCH_CONTAINERS ?? 30);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 2);
const RATE = Number(process.env.BENCH_RATE ?? 0);
const PER_PROCESS = Number(process.env.BENCH_CLIENTS_PER_PROCESS ?? 1000);
const DRAIN_MS = Number(process.env.BENCH_DRAIN_SECONDS ?? 30) * 1000;
const LEAN = process.env.BENCH_QUERY === 'lean';
const SYNTHETIC = process.env.BENCH_SOURCE === 'redis';
const TRACE = process.env.BENCH_TRACE === '1';

/** BENCH_TRACE: per ingest batch, its size, how long its first event waited in the queue, and time spent. */
interface IngestTrace {
  at: number;
  events: number;
  waitedMs: number;
  ms: number;
  inspects: number;
  inspectMs: number;
}
const traces: IngestTrace[] = [];
/** BENCH_TRACE: SQL statements the server sent during the round, by their first words. */
const statements = new Map<string, number>();

/** Counts every statement sent through pg (MikroORM, knex and pg-boss all end in Client.query). */
function countStatements(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const pg = require('pg') as { Client: { prototype: { query: (...args: unknown[]) => unknown } } };
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
    const q = args[0] as string | { text?: string } | undefined;
    const text = typeof q === 'string' ? q : (q?.text ?? '');
    const key = text.replace(/\s+/g, ' ').trim().slice(0, 70);
    statements.set(key, (statements.get(key) ?? 0) + 1);
    const t = wallMs();
    const r = query.apply(this, args);
    // promise form only (the ORM, knex and pg-boss use it): its wall time, queueing on the connection included
    if (r && typeof (r as Promise<unknown>).then === 'function') {
      (r as Promise<unknown>).then(
        () => statementMs.get(key)?.push(wallMs() - t) ?? statementMs.set(key, [wallMs() - t]),
        () => undefined,
      );
    }
    return r;
  };
}
/** BENCH_TRACE: wall time of each statement from the call to its result, by its first words. */
const statementMs = new Map<string, number[]>();

/** The statements of the round, most frequent first, per measured event. */
function statementSummary(events: number): string {
  const top = [...statements.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
  const total = [...statements.values()].reduce((a, b) => a + b, 0);
  const ms = (k: string) => {
    const xs = statementMs.get(k);
    return xs?.length ? ` (p50 ${summarize(xs).p50.toFixed(1)} ms)` : '';
  };
  const line = `${(total / Math.max(events, 1)).toFixed(1)} SQL statements per measured event (7 Docker events per 5 measured): ${top.map(([k, n]) => `${(n / Math.max(events, 1)).toFixed(2)}× ${k}${ms(k)}`).join(' ; ')}`;
  statements.clear();
  statementMs.clear();
  return line;
}

/** Wraps the server's ingest and dockerode's inspect with timers (module exports are patched in place). */
function installTrace(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const ingest = require('../src/modules/hosts/ingest') as { ingestEvents: (...args: unknown[]) => Promise<unknown> };
  const Container = require('dockerode/lib/container') as { prototype: { inspect: (...args: unknown[]) => Promise<unknown> } };
  let inspects = 0;
  let inspectMs = 0;
  const inspect = Container.prototype.inspect;
  Container.prototype.inspect = async function (this: unknown, ...args: unknown[]) {
    const t = wallMs();
    try {
      return await inspect.apply(this, args);
    } finally {
      inspects++;
      inspectMs += wallMs() - t;
    }
  };
  const original = ingest.ingestEvents;
  ingest.ingestEvents = async (...args: unknown[]) => {
    // ingestEvents(em, pubsub, host, incoming, source, fence, followUp)
    const batch = args[3] as Array<{ timeNano: string }>;
    const t = wallMs();
    const before = { inspects, inspectMs };
    try {
      return await original(...args);
    } finally {
      traces.push({
        at: t,
        events: batch.length,
        waitedMs: batch.length ? t - nanoToMs(batch[0].timeNano) : 0,
        ms: wallMs() - t,
        inspects: inspects - before.inspects,
        inspectMs: inspectMs - before.inspectMs,
      });
    }
  };
}
const PREFIX = `fgbench-${process.pid}`;

/** Per event (Docker timeNano), when the server reached each stage (src/kernel/trace.ts); cleared per round. */
const STAGES: EventStage[] = ['read', 'store', 'stored', 'published', 'received', 'sent'];
const stageTimes = new Map<EventStage, Map<string, number>>(STAGES.map((s) => [s, new Map()]));
function installStageTrace(): void {
  setEventTrace((stage, timeNano, at) => {
    const m = stageTimes.get(stage)!;
    if (!m.has(timeNano) && m.size < 1_000_000) m.set(timeNano, at);
  });
}
/** Per stage, the latency from Docker's timeNano of the events read in this round (p50/p99 ms). */
function stageBreakdown(): string {
  const read = stageTimes.get('read')!;
  const parts = STAGES.map((stage) => {
    const m = stageTimes.get(stage)!;
    const lat = [...read.keys()].filter((k) => m.has(k)).map((k) => m.get(k)! - nanoToMs(k));
    const s = summarize(lat);
    return `${stage} ${s.p50.toFixed(1)}/${s.p99.toFixed(1)}`;
  });
  for (const m of stageTimes.values()) m.clear();
  return parts.join(' | ');
}

/** A forked child answering request/response messages (bench/common.ts serve()). */
class Child {
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  readonly ready: Promise<void>;
  private exited = false;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    this.ready = new Promise((resolve, reject) => {
      proc.on('message', (m: Reply) => {
        if (m.id === 0) return resolve();
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m);
        else p.reject(new Error(`${name}: ${m.error}`));
      });
      proc.on('exit', (code) => {
        this.exited = true;
        const err = new Error(`${name} exited with ${code}`);
        reject(err);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
    });
  }

  static start(name: string, file: string, env: Record<string, string> = {}): Child {
    const proc = fork(path.join(__dirname, file), [], {
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Child(name, proc);
  }

  call<T = Record<string, unknown>>(cmd: string, args: Record<string, unknown> = {}): Promise<Reply & T> {
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited`));
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: Reply) => void, reject });
      this.proc.send({ id, cmd, ...args });
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.disconnect?.();
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  }
}

function dockerVersion(socketPath: string): Promise<{ Version: string; ApiVersion: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath, path: '/version', headers: { host: 'docker' } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(JSON.parse(body)));
      })
      .on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RoundResult {
  n: number;
  processes: number;
  events: number;
  offeredPerSec: number;
  raw: Summary;
  redis: Summary;
  gql: Summary;
  deliveries: number;
  deliveriesPerSec: number;
  missing: number;
  serverCpuMs: number;
  cpuUsPerDelivery: number;
  serverLagP99: number;
  clientLagP99: number;
  errors: number;
  connectSec: number;
  /** times the raw /events stream ended during the round (dockerd restarted by someone else) */
  dockerRestarts: number;
  trace?: string;
  /** Per-stage latency from Docker's event time inside the server (stageBreakdown). */
  stages: string;
}

function traceSummary(list: IngestTrace[]): string {
  if (list.length === 0) return 'no ingest batches';
  const ev = list.reduce((a, t) => a + t.events, 0);
  const busy = list.reduce((a, t) => a + t.ms, 0);
  const ins = list.reduce((a, t) => a + t.inspects, 0);
  const insMs = list.reduce((a, t) => a + t.inspectMs, 0);
  const ms = summarize(list.map((t) => t.ms));
  const waited = summarize(list.map((t) => t.waitedMs));
  return (
    `${list.length} ingest batches, ${(ev / list.length).toFixed(1)} events/batch; per batch ${ms.p50.toFixed(1)} ms p50 ${ms.max.toFixed(1)} max ` +
    `(${((100 * insMs) / busy).toFixed(0)}% in ${ins} container inspects, ${(insMs / Math.max(ins, 1)).toFixed(1)} ms each); ` +
    `first event of a batch waited ${waited.p50.toFixed(1)} ms p50 ${waited.max.toFixed(1)} max for the queue; ingest busy ${(busy / 1000).toFixed(1)} s`
  );
}

async function main(): Promise<void> {
  log('starting test services (test/support/services.sh up)');
  startServices();
  const socket = process.env.FLEETGRAPH_TEST_DOCKER_SOCKET!;
  const image = process.env.FLEETGRAPH_TEST_IMAGE ?? 'local/busybox:1';
  const redisUrl = process.env.FLEETGRAPH_TEST_REDIS_URL!;

  if (TRACE) {
    installTrace();
    countStatements();
  }
  installStageTrace();
  log('starting the server (fresh database, Redis pub/sub, workers on)');
  // one account opens every subscriber: lift its per-account limits (connections, subscriptions, request rate)
  const limits = { ...DEFAULT_LIMITS, maxConnectionsPerAccount: 100_000, maxSubscriptionsPerAccount: 100_000, requestsPerMinute: 10_000_000 };
  const t = await startTestApp({ config: { workers: true, limits } });
  const children: Child[] = [];
  let probe: Child | undefined;
  const stopAll = async () => {
    await Promise.all(
      children.splice(0).map((c) =>
        c
          .call('close')
          .catch(() => undefined)
          .then(() => c.stop()),
      ),
    );
    if (probe) {
      const p = probe;
      probe = undefined;
      const r = await p.call<{ removed: number }>('close', { prefix: PREFIX }).catch(() => undefined);
      if (r?.removed) log(`removed ${r.removed} leftover containers`);
      await p.stop();
    }
    await t.stop();
  };
  process.once('SIGINT', () => {
    log('interrupted; cleaning up');
    void stopAll().finally(() => process.exit(130));
  });

  try {
    const token = await t.token({ account: 'bench', permissions: [PERMISSIONS.hostsManage] });
    const reg = await t.gql<{ registerDockerHost: { host: { id: string } } }, unknown>(
      `mutation($input: RegisterDockerHostInput!) { registerDockerHost(input: $input) { host { id status } } }`,
      { input: { name: 'bench-local', apiEndpoint: `unix://${socket}`, environment: 'development', syncIntervalSeconds: 3600 } },
      token,
    );
    if (reg.errors || !reg.data) throw new Error(`registerDockerHost: ${JSON.stringify(reg.errors)}`);
    const hostId = reg.data.registerDockerHost.host.id;
    const hostUuid = expectGlobalId(hostId, 'DockerHost');
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await t.gql<{ dockerHost: { status: string; lastSyncedAt: string | null; lastError: string | null } }, unknown>(
        `query($id: ID!) { dockerHost(id: $id) { status lastSyncedAt lastError } }`,
        { id: hostId },
        token,
      );
      const h = r.data?.dockerHost;
      if (h?.status === 'CONNECTED' && h.lastSyncedAt) break;
      if (Date.now() > deadline) throw new Error(`host not connected after 30 s: ${JSON.stringify(r)}`);
      await sleep(100);
    }
    log(`host ${hostId} connected and synced`);

    probe = Child.start('docker-probe', 'docker-probe.ts', { BENCH_DOCKER_SOCKET: socket, BENCH_IMAGE: image });
    await probe.ready;
    const channel = `dockerEvents:${hostUuid}`;
    const opened = await probe.call<{ skewMs: number }>('open', { redisUrl, channel });
    const skews = [clockSkewMs(), opened.skewMs];

    const query = LEAN ? `subscription($hostId: ID!) { dockerEvents(hostId: $hostId) { id type action actorId attributes time timeNano severity source } }` : print(OnDockerEventsDocument);
    const serverLag = new LoopLag();
    const results: RoundResult[] = [];

    for (const n of Ns) {
      const processes = Math.max(1, Math.ceil(n / PER_PROCESS));
      log(`N=${n}: connecting ${n} graphql-ws subscribers in ${processes} child process(es)`);
      const connectStart = Date.now();
      for (let i = 0; i < processes; i++) children.push(Child.start(`subscribers-${i}`, 'subscribers.ts'));
      await Promise.all(children.map((c) => c.ready));
      const share = (i: number) => Math.floor(n / processes) + (i < n % processes ? 1 : 0);
      const connected = await Promise.all(children.map((c, i) => c.call<{ skewMs: number }>('connect', { wsUrl: t.wsUrl, token, query, variables: { hostId }, count: share(i), batch: 50 })));
      skews.push(...connected.map((c) => c.skewMs));
      const connectSec = (Date.now() - connectStart) / 1000;

      // wait for every subscription to be live at the server (Redis subscribed, iterator pulling)
      const warm = `${PREFIX}-w${n}`;
      await Promise.all(children.map((c) => c.call('round', { prefix: warm })));
      await probe.call('generate', { prefix: warm, containers: 1, concurrency: 1, perSecond: 0, quick: true });
      await waitDelivered(probe, children, warm, false, 60_000, 10_000);
      log(`N=${n}: ${connectSec.toFixed(1)} s to connect, warm-up delivered; measuring ${CONTAINERS} container lifecycles`);

      // the measured round
      const prefix = `${PREFIX}-n${n}`;
      await Promise.all(children.map((c) => c.call('round', { prefix })));
      const traceFrom = traces.length;
      for (const m of stageTimes.values()) m.clear();
      statements.clear();
      const reconnects0 = (await probe.call<{ reconnects: number }>('reconnects')).reconnects;
      const cpu0 = process.cpuUsage();
      serverLag.reset();
      const gen = SYNTHETIC
        ? await probe.call<{ failures: number }>('publish', { redisUrl, channel, prefix, count: CONTAINERS * 5, perSecond: RATE || 50 })
        : await probe.call<{ failures: number }>('generate', { prefix, containers: CONTAINERS, concurrency: CONCURRENCY, perSecond: RATE });
      await waitDelivered(probe, children, prefix, SYNTHETIC, DRAIN_MS, 10_000);
      const cpu = process.cpuUsage(cpu0);
      const lagNow = serverLag.read();
      const p = await probe.call<{ raw: number[]; redis: number[]; firstEventMs: number; lastEventMs: number }>('collect', { prefix, synthetic: SYNTHETIC });
      const reconnects = (await probe.call<{ reconnects: number }>('reconnects')).reconnects - reconnects0;
      const cs = await Promise.all(
        children.map((c) => c.call<{ latencies: number[]; perSubscriber: number[]; messages: number; lastAt: number; errors: number; lagP99: number; skewMs: number; lastError: string }>('collect')),
      );
      skews.push(...cs.map((c) => c.skewMs));
      const gqlLat = cs.flatMap((c) => c.latencies);
      const deliveries = cs.reduce((a, c) => a + c.messages, 0);
      const lastAt = Math.max(...cs.map((c) => c.lastAt));
      const events = SYNTHETIC ? p.redis.length : p.raw.length;
      const result: RoundResult = {
        n,
        processes,
        events,
        offeredPerSec: events / ((p.lastEventMs - p.firstEventMs) / 1000),
        raw: summarize(p.raw),
        redis: summarize(p.redis),
        gql: summarize(gqlLat),
        deliveries,
        deliveriesPerSec: deliveries / ((lastAt - p.firstEventMs) / 1000),
        missing: cs.reduce((a, c) => a + c.perSubscriber.reduce((b, got) => b + Math.max(0, events - got), 0), 0),
        dockerRestarts: reconnects,
        serverCpuMs: (cpu.user + cpu.system) / 1000,
        cpuUsPerDelivery: (cpu.user + cpu.system) / Math.max(deliveries, 1),
        serverLagP99: lagNow.p99,
        clientLagP99: Math.max(...cs.map((c) => c.lagP99)),
        errors: cs.reduce((a, c) => a + c.errors, 0),
        connectSec,
        trace: TRACE ? `${traceSummary(traces.slice(traceFrom))}\n    ${statementSummary(p.raw.length)}` : undefined,
        stages: stageBreakdown(),
      };
      if (result.errors) log(`N=${n}: ${result.errors} subscription errors, e.g. ${cs.find((c) => c.lastError)?.lastError}`);
      if (gen.failures) log(`N=${n}: ${gen.failures} container lifecycle attempts failed (retried)`);
      if (reconnects) log(`N=${n}: the raw /events stream ended ${reconnects} time(s) during the round: dockerd was restarted; this round is disturbed`);
      results.push(result);
      log(`N=${n}: done: graphql p50 ${result.gql.p50.toFixed(1)} p99 ${result.gql.p99.toFixed(1)} ms, ${Math.round(result.deliveriesPerSec)} deliveries/s`);

      await Promise.all(children.map((c) => c.call('close').catch(() => undefined)));
      await Promise.all(children.splice(0).map((c) => c.stop()));
      await sleep(500); // let the server finish closing sockets before the next round
    }
    serverLag.stop();

    const version = await dockerVersion(socket);
    printReport(results, { dockerd: `${version.Version} (API ${version.ApiVersion})`, maxSkewMs: Math.max(...skews.map(Math.abs)), lean: LEAN });
  } finally {
    await stopAll();
  }
}

/** Waits until every subscriber has every container event of `prefix` that the raw reader saw. */
async function waitDelivered(probe: Child, children: Child[], prefix: string, synthetic: boolean, timeoutMs: number, idleMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProgress = Date.now();
  let lastTotal = -1;
  for (;;) {
    const { raw } = await probe.call<{ raw: number }>('count', { prefix, synthetic });
    const progress = await Promise.all(children.map((c) => c.call<{ messages: number; minPerSubscriber: number }>('progress')));
    if (raw > 0 && progress.every((p) => p.minPerSubscriber >= raw)) return;
    // any delivery counts as progress: a server working through a backlog is still delivering
    const total = progress.reduce((a, p) => a + p.messages, 0);
    if (total !== lastTotal) {
      lastTotal = total;
      lastProgress = Date.now();
    }
    if (Date.now() > deadline || Date.now() - lastProgress > idleMs) {
      log(`${prefix}: stopped waiting: raw ${raw} events, slowest subscriber has ${Math.min(...progress.map((p) => p.minPerSubscriber))}`);
      return;
    }
    await sleep(100);
  }
}

function printReport(results: RoundResult[], info: { dockerd: string; maxSkewMs: number; lean: boolean }): void {
  const cpus = os.cpus();
  const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '-');
  const lat = (s: Summary) => `${f(s.p50).padStart(6)} ${f(s.p99).padStart(6)} ${f(s.max).padStart(6)}`;
  const lines: string[] = [];
  lines.push('');
  lines.push('fleetgraph bench:events');
  lines.push(
    `machine : ${cpus.length} × ${cpus[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, load avg ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  lines.push(`software: node ${process.version}, dockerd ${info.dockerd}; Redis pub/sub; PostgreSQL (test services)`);
  lines.push(
    SYNTHETIC
      ? `load    : BENCH_SOURCE=redis: per round ${CONTAINERS * 5} copies of a stored event's payload published straight to the host's Redis channel at ${RATE || 50}/s ` +
          `(Docker and the server's ingest bypassed: latency is from the publish, i.e. the fan-out alone)`
      : `load    : per round ${CONTAINERS} busybox containers created, started, killed, removed (${CONCURRENCY} at a time${RATE ? `, ${RATE}/s` : ''}): ` +
          `7 Docker events each; the ${CONTAINERS * 5} container events are measured`,
  );
  lines.push(
    `query   : dockerEvents(hostId) { ${info.lean ? 'id type action actorId attributes time timeNano severity source' : '...EventFields (incl. host { id })'} }, one WebSocket per subscriber`,
  );
  lines.push(`clocks  : Docker timeNano vs performance.timeOrigin + performance.now() in each process; max |skew to Date.now()| ${info.maxSkewMs.toFixed(2)} ms`);
  lines.push('');
  lines.push('latency from Docker event time, ms (p50 p99 max)');
  lines.push(
    `${'N'.padStart(5)} | ${'events'.padStart(6)} | ${'raw /events'.padEnd(20)} | ${'server published'.padEnd(20)} | ${'graphql subscribers'.padEnd(20)} | ${'deliveries'.padStart(10)} | ${'deliv/s'.padStart(8)} | ${'lost'.padStart(5)} | ${'srv CPU µs/deliv'.padStart(16)} | ${'srv lag p99'.padStart(11)} | ${'cli lag p99'.padStart(11)}`,
  );
  lines.push('-'.repeat(lines[lines.length - 1].length));
  for (const r of results) {
    lines.push(
      `${String(r.n).padStart(5)} | ${String(r.events).padStart(6)} | ${lat(r.raw)} | ${lat(r.redis)} | ${lat(r.gql)} | ${String(r.deliveries).padStart(10)} | ${String(Math.round(r.deliveriesPerSec)).padStart(8)} | ${String(r.missing).padStart(5)} | ${f(r.cpuUsPerDelivery).padStart(16)} | ${f(r.serverLagP99).padStart(11)} | ${f(r.clientLagP99).padStart(11)}`,
    );
  }
  for (const r of results) {
    if (r.dockerRestarts) lines.push(`  !! N=${r.n}: dockerd went away ${r.dockerRestarts} time(s) during this round (the test dockerd is shared): figures disturbed, run again`);
  }
  lines.push('');
  lines.push('raw /events       : plain HTTP GET /events on the docker socket, in a child process (the floor)');
  lines.push("server published  : a Redis SUBSCRIBE on the host's channel: the server stored the event (insert, inspect, activity link) and published it");
  lines.push('graphql subscribers: every delivery to every subscriber (N × events samples), stamped in the client child processes');
  lines.push("deliveries, deliv/s: all messages received by all subscribers (also network events and other users' events) / (last receipt - first event time)");
  lines.push('lost              : measured container events the raw reader saw that a subscriber did not get, summed over subscribers');
  lines.push('srv CPU µs/deliv  : CPU time of the server process during the round / deliveries (includes ingest; at N=1 that is all it is)');
  lines.push(`lag               : event-loop delay p99 (ms) of the server process and of the busiest client process; clients ran in ${results.map((r) => `${r.processes}`).join('/')} process(es)`);
  lines.push('');
  lines.push('server stages, ms from Docker event time (p50/p99): read = line parsed off /events, store = batch handed to PostgreSQL,');
  lines.push("stored = insert returned, published = Redis PUBLISH acknowledged, received = reached the subscribers' feed on this replica (handed over");
  lines.push("in-process, so it can come before published), sent = its result written to the subscribers' sockets (the shared execution asked for the next)");
  for (const r of results) lines.push(`  N=${r.n}: ${r.stages}`);
  if (results.some((r) => r.trace)) {
    lines.push('');
    lines.push("ingest trace (BENCH_TRACE=1): time from the Docker event to the server's publish");
    for (const r of results) if (r.trace) lines.push(`  N=${r.n}: ${r.trace}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
