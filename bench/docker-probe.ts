/**
 * Child process of bench/events.ts: the RAW baseline and the load.
 *
 * - a plain HTTP GET /events on the test dockerd's unix socket (NDJSON, no dockerode), stamping
 *   each line on arrival: the floor any Docker event consumer can reach;
 * - a Redis tap on the host's pub/sub channel: when the server published the event (after it
 *   stored it), i.e. the server's ingest latency before any fan-out;
 * - the load generator: busybox containers created, started, killed and removed through the
 *   Engine API (dockerode), 7 events each (create, network connect, start, kill, die,
 *   network disconnect, destroy), 5 of them container events carrying the container's name.
 *
 * It runs apart from the server so that neither side's event loop delays the other's stamps.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import Redis from 'ioredis';
import { clockSkewMs, nanoToMs, serve, wallMs } from './common';

interface Seen {
  /** ms since epoch when the line/message was read here */
  at: number;
  timeNano: string;
  type: string;
  name?: string;
}

const socketPath = process.env.BENCH_DOCKER_SOCKET!;
const image = process.env.BENCH_IMAGE ?? 'local/busybox:1';
const docker = new Docker({ socketPath });

const raw: Seen[] = [];
const tapped: Seen[] = [];
let rawReq: http.ClientRequest | undefined;
let tap: Redis | undefined;
let publisher: Redis | undefined;
/** the last payload the server published: the template for synthetic events */
let template: Record<string, unknown> | undefined;

const TIME_NANO = /"timeNano"\s*:\s*(\d+)/;

/** Times the raw stream ended and was reopened (dockerd restarted by someone else's test, …). */
let rawReconnects = 0;
let lastTimeNano: string | undefined;
const seenKeys = new Set<string>();

/**
 * GET /events, one stamp per chunk (every line in it arrived together). The stream is reopened
 * with `since` when it ends (the test dockerd is shared and may be restarted by a test); the
 * replayed boundary events are dropped by key.
 */
function openRaw(): Promise<void> {
  return new Promise((resolve, reject) => {
    const since = lastTimeNano ? `?since=${BigInt(lastTimeNano) / 1_000_000_000n}.${(BigInt(lastTimeNano) % 1_000_000_000n).toString().padStart(9, '0')}` : '';
    let settled = false;
    let over = false;
    const ended = () => {
      if (closing || over) return;
      over = true;
      if (!settled) {
        settled = true;
        reject(new Error('GET /events failed'));
        return;
      }
      rawReconnects++;
      const retry = () =>
        setTimeout(() => {
          if (!closing) openRaw().catch(retry);
        }, 200);
      retry();
    };
    const req = http.get({ socketPath, path: `/events${since}`, headers: { host: 'docker' } }, (res) => {
      if (res.statusCode !== 200) return ended();
      settled = true;
      resolve();
      let rest = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const at = wallMs();
        const text = rest + chunk;
        const lines = text.split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          if (!line) continue;
          const tn = TIME_NANO.exec(line)?.[1];
          if (!tn) continue;
          const e = JSON.parse(line) as { Type: string; Action: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
          const key = `${tn}|${e.Type}|${e.Action}|${e.Actor?.ID}`;
          if (seenKeys.has(key)) continue;
          seenKeys.add(key);
          lastTimeNano = tn;
          raw.push({ at, timeNano: tn, type: e.Type, name: e.Actor?.Attributes?.name });
        }
      });
      res.on('end', ended);
      res.on('error', () => undefined);
    });
    req.on('error', ended);
    rawReq = req;
  });
}

async function openTap(redisUrl: string, channel: string): Promise<void> {
  tap = new Redis(redisUrl, { connectionName: 'fleetgraph-bench-tap' });
  tap.on('message', (_ch: string, message: string) => {
    const at = wallMs();
    const p = JSON.parse(message) as { timeNano: string; type: string; attributes?: Record<string, string> };
    if (p.type === 'container') template = p;
    tapped.push({ at, timeNano: p.timeNano, type: p.type, name: p.attributes?.name });
  });
  await tap.subscribe(channel);
}

/** create, start, kill, rm: 7 events (5 container events); `quick`: create, rm: 2 container events. */
async function lifecycle(name: string, quick: boolean): Promise<void> {
  const c = await docker.createContainer({ name, Image: image, Cmd: ['sleep', '600'], HostConfig: { NetworkMode: 'none' } });
  if (!quick) {
    await c.start();
    await c.kill();
  }
  await c.remove({ force: true });
}

/** `containers` lifecycles, `concurrency` at a time, optionally paced to `perSecond` lifecycle starts. */
async function generate(prefix: string, containers: number, concurrency: number, perSecond: number, quick: boolean): Promise<{ startedAt: number; endedAt: number; failures: number }> {
  const startedAt = wallMs();
  let next = 0;
  let failures = 0;
  const gap = perSecond > 0 ? 1000 / perSecond : 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= containers) return;
      if (gap) {
        const due = startedAt + i * gap;
        const wait = due - wallMs();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      // a failed lifecycle (dockerd restarted by another test, …) is cleaned up and retried
      for (let attempt = 0; attempt < 3; attempt++) {
        const name = attempt ? `${prefix}-${i}-retry${attempt}` : `${prefix}-${i}`;
        try {
          await lifecycle(name, quick);
          break;
        } catch {
          failures++;
          await docker
            .getContainer(name)
            .remove({ force: true })
            .catch(() => undefined);
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { startedAt, endedAt: wallMs(), failures };
}

/**
 * Synthetic mode: publishes copies of a real payload straight to the host's Redis channel
 * (timeNano = now), bypassing Docker and the server's ingest: measures the fan-out alone.
 */
async function publish(redisUrl: string, channel: string, prefix: string, count: number, perSecond: number): Promise<{ startedAt: number; endedAt: number; failures: number }> {
  if (!template) throw new Error('no payload seen on the channel yet (run a Docker warm-up first)');
  publisher ??= new Redis(redisUrl, { connectionName: 'fleetgraph-bench-pub' });
  const startedAt = wallMs();
  const gap = 1000 / perSecond;
  for (let i = 0; i < count; i++) {
    const wait = startedAt + i * gap - wallMs();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const now = wallMs();
    const payload = {
      ...template,
      id: randomUUID(),
      action: 'bench',
      timeNano: (BigInt(Math.round(now * 1000)) * 1000n).toString(),
      time: new Date(now).toISOString(),
      attributes: { ...(template.attributes as object), name: `${prefix}-${i}` },
    };
    await publisher.publish(channel, JSON.stringify(payload));
  }
  return { startedAt, endedAt: wallMs(), failures: 0 };
}

/** Latencies (ms) from Docker's timeNano to arrival, for container events of this round's containers. */
function latencies(list: Seen[], prefix: string) {
  const mine = list.filter((e) => e.type === 'container' && e.name?.startsWith(`${prefix}-`));
  return {
    latencies: mine.map((e) => e.at - nanoToMs(e.timeNano)),
    firstEventMs: mine.length ? Math.min(...mine.map((e) => nanoToMs(e.timeNano))) : NaN,
    lastEventMs: mine.length ? Math.max(...mine.map((e) => nanoToMs(e.timeNano))) : NaN,
  };
}

async function removeLeftovers(prefix: string): Promise<number> {
  const list = await docker.listContainers({ all: true, filters: { name: [prefix] } });
  await Promise.all(
    list.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  return list.length;
}

let closing = false;

serve(async (req) => {
  switch (req.cmd) {
    case 'open':
      await openRaw();
      await openTap(req.redisUrl as string, req.channel as string);
      return { skewMs: clockSkewMs() };
    case 'generate':
      return generate(req.prefix as string, req.containers as number, req.concurrency as number, (req.perSecond as number) ?? 0, req.quick === true);
    case 'publish':
      return publish(req.redisUrl as string, req.channel as string, req.prefix as string, req.count as number, req.perSecond as number);
    case 'reconnects':
      return { reconnects: rawReconnects };
    case 'count':
      return { raw: (req.synthetic ? tapped : raw).filter((e) => e.type === 'container' && e.name?.startsWith(`${req.prefix}-`)).length };
    case 'collect': {
      const prefix = req.prefix as string;
      const t = latencies(tapped, prefix);
      const r = req.synthetic ? { ...t, latencies: [] } : latencies(raw, prefix);
      return {
        raw: r.latencies,
        redis: t.latencies,
        firstEventMs: r.firstEventMs,
        lastEventMs: r.lastEventMs,
      };
    }
    case 'close': {
      closing = true;
      rawReq?.destroy();
      await tap?.quit().catch(() => undefined);
      await publisher?.quit().catch(() => undefined);
      const removed = await removeLeftovers(req.prefix as string);
      return { removed, skewMs: clockSkewMs() };
    }
    default:
      throw new Error(`unknown command ${req.cmd}`);
  }
});
process.send?.({ id: 0, ok: true, ready: true });
