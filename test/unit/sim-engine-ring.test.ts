import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { parseEventLine, RawDockerEvent, sinceFromTimeNano } from '../../src/infra/engine/event-stream';
import { EVENTS_LIMIT, nowNanos, parseEventTime, rfc3339Nano, SimEngine, startSimEngine } from '../support/sim-engine';

/**
 * The simulated engine's /events semantics (test/support/sim-engine.ts), read through dockerode as
 * fleetgraph reads them: Docker's 256-event replay ring (moby daemon/events/events.go), `since`
 * (inclusive, exact to the nanosecond, seconds.nanoseconds or RFC 3339), `until` ending the
 * stream, filters on replayed and live events, and what dropStreams/restart do to streams and ring.
 */

/** An open /events stream read through dockerode: its events, whether it ended. */
function reader(stream: NodeJS.ReadableStream) {
  const events: RawDockerEvent[] = [];
  let buffer = '';
  let ended = false;
  const waiters: Array<() => void> = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  stream.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const l of lines) {
      const e = parseEventLine(l);
      if (e) events.push(e);
    }
    wake();
  });
  const end = () => {
    ended = true;
    wake();
  };
  stream.on('end', end);
  stream.on('close', end);
  stream.on('error', end);
  return {
    events,
    get ended() {
      return ended;
    },
    /** Waits until `predicate` holds (or fails after timeoutMs). */
    async until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out; ${events.length} events, ended: ${ended}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
    destroy: () => (stream as unknown as { destroy(): void }).destroy(),
  };
}

describe('simulated engine: the /events replay ring, since and until', () => {
  let dir: string;
  let sim: SimEngine;
  let docker: Docker;
  /** 300 events 1 µs apart, 10 s in the past: the ring keeps the last 256 (44..299). */
  let script: Array<{ timeNano: string; id: string }>;

  const open = async (query: Record<string, unknown>) => reader((await docker.getEvents(query as Docker.GetEventsOptions)) as unknown as NodeJS.ReadableStream);
  /** A stream that must end by itself (until in the past): all its events. */
  const past = async (query: Record<string, unknown>) => {
    const r = await open(query);
    await r.until(() => r.ended);
    return r.events;
  };
  const ids = (events: RawDockerEvent[]) => events.map((e) => e.Actor!.ID);
  const range = (from: number, to: number) => script.slice(from, to + 1).map((s) => s.id);

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-sim-'));
    sim = await startSimEngine({ socketPath: path.join(dir, 'engine.sock') });
    docker = new Docker({ ...sim.dockerOptions, version: 'v1.41' });
    const base = nowNanos() - 10_000_000_000n;
    script = Array.from({ length: 300 }, (_, i) => ({ timeNano: (base + BigInt(i) * 1000n).toString(), id: `c${String(i).padStart(3, '0')}` }));
    sim.emit(script.map((s, i) => ({ Action: i % 2 ? 'start' : 'create', Actor: { ID: s.id, Attributes: { name: s.id, ...(i % 3 === 0 ? { tier: 'db' } : {}) } }, timeNano: s.timeNano })));
  });
  afterAll(async () => {
    await sim?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the last 256 events', () => {
    expect(EVENTS_LIMIT).toBe(256);
    expect(sim.buffered().map((e) => e.Actor.ID)).toEqual(range(44, 299));
  });

  it('replays from `since` inside the ring, inclusive and exact to the nanosecond, until `until` (then the stream ends)', async () => {
    const got = await past({ since: sinceFromTimeNano(script[200].timeNano), until: sinceFromTimeNano(script[250].timeNano) });
    expect(ids(got)).toEqual(range(200, 250));
    // timeNano exact (well past 2^53), attributes as given
    expect(got.map((e) => e.timeNano)).toEqual(script.slice(200, 251).map((s) => s.timeNano));
    expect(got[0]).toMatchObject({ Type: 'container', Action: 'create', scope: 'local', Actor: { ID: 'c200', Attributes: { name: 'c200' } } });
    // one nanosecond later: the boundary event is not replayed
    const after = await past({ since: sinceFromTimeNano((BigInt(script[200].timeNano) + 1n).toString()), until: sinceFromTimeNano(script[202].timeNano) });
    expect(ids(after)).toEqual(range(201, 202));
  });

  it('replays the whole ring when `since` is older than it', async () => {
    expect(ids(await past({ since: sinceFromTimeNano(script[0].timeNano), until: sinceFromTimeNano(script[299].timeNano) }))).toEqual(range(44, 299));
    expect(ids(await past({ since: '1', until: sinceFromTimeNano(script[299].timeNano) }))).toEqual(range(44, 299));
    // `until` alone: everything buffered up to it
    expect(ids(await past({ until: sinceFromTimeNano(script[100].timeNano) }))).toEqual(range(44, 100));
  });

  it('takes RFC 3339 times as well as seconds.nanoseconds', async () => {
    const at = BigInt(script[120].timeNano);
    expect(parseEventTime(rfc3339Nano(at))).toBe(at);
    expect(parseEventTime(sinceFromTimeNano(script[120].timeNano))).toBe(at);
    expect(parseEventTime('1700000000.5')).toBe(1_700_000_000_500_000_000n);
    const got = await past({ since: rfc3339Nano(at), until: rfc3339Nano(BigInt(script[121].timeNano)) });
    expect(ids(got)).toEqual(range(120, 121));
    await expect(past({ since: 'yesterday' })).rejects.toMatchObject({ statusCode: 400 });
    await expect(past({ since: sinceFromTimeNano(script[2].timeNano), until: sinceFromTimeNano(script[1].timeNano) })).rejects.toMatchObject({ statusCode: 400 });
  });

  it('filters replayed events as dockerd does (type, event, container name/id prefix, label)', async () => {
    const window = { since: sinceFromTimeNano(script[240].timeNano), until: sinceFromTimeNano(script[249].timeNano) };
    expect(ids(await past({ ...window, filters: { event: ['start'] } }))).toEqual(['c241', 'c243', 'c245', 'c247', 'c249']);
    expect(ids(await past({ ...window, filters: { label: ['tier=db'] } }))).toEqual(['c240', 'c243', 'c246', 'c249']);
    expect(ids(await past({ ...window, filters: { container: ['c24'] } }))).toEqual(range(240, 249));
    expect(ids(await past({ ...window, filters: { type: ['network'] } }))).toEqual([]);
    // the older map form of filters
    expect(ids(await past({ ...window, filters: { event: { create: true } } }))).toEqual(['c240', 'c242', 'c244', 'c246', 'c248']);
  });

  it('without since/until: no replay, only live events (filtered); a future `until` ends the stream at that time', async () => {
    const live = await open({ filters: { type: ['container'], label: ['live'] } });
    const bounded = await open({ since: sinceFromTimeNano(script[298].timeNano), until: (Date.now() / 1000 + 0.4).toFixed(3) });
    await sim.waitForSubscribers(2);
    const emitted = sim.emit([
      { Action: 'start', Actor: { ID: 'l1', Attributes: { live: '1' } } },
      { Action: 'start', Actor: { ID: 'l2' } },
      { Type: 'network', Action: 'connect', Actor: { ID: 'n1', Attributes: { live: '1' } } },
    ]);
    // the clock: strictly increasing, after the largest scripted timeNano
    const nanos = emitted.map((e) => BigInt(e.timeNano));
    expect(nanos[0] > BigInt(script[299].timeNano) && nanos[1] > nanos[0] && nanos[2] > nanos[1]).toBe(true);
    await live.until(() => live.events.length >= 1);
    expect(ids(live.events)).toEqual(['l1']);
    // replay (298, 299), then live, then the end at `until`
    await bounded.until(() => bounded.ended, 3000);
    expect(ids(bounded.events)).toEqual(['c298', 'c299', 'l1', 'l2', 'n1']);
    expect(live.ended).toBe(false);
    live.destroy();
  });

  it('dropStreams cuts the streams and keeps the ring; restart forgets the ring and keeps the engine ID', async () => {
    const { ID } = (await docker.info()) as { ID: string };
    const r = await open({});
    await sim.waitForSubscribers(1);
    expect(sim.dropStreams()).toBe(1);
    await r.until(() => r.ended);
    expect(sim.subscriberCount).toBe(0);
    const last = sim.buffered().at(-1)!;
    expect(ids(await past({ since: sinceFromTimeNano(last.timeNano), until: sinceFromTimeNano(last.timeNano) }))).toEqual([last.Actor.ID]);

    const r2 = await open({});
    await sim.waitForSubscribers(1);
    await sim.restart({ downMs: 50 });
    await r2.until(() => r2.ended);
    expect(sim.buffered()).toEqual([]);
    expect(await past({ since: '1', until: (Date.now() / 1000).toFixed(3) })).toEqual([]);
    expect(((await docker.info()) as { ID: string }).ID).toBe(ID);
  });

  it('stays bounded: the ring never holds more than 256 events', () => {
    for (let i = 0; i < 2000; i++) sim.emit({ Action: 'update', Actor: { ID: `b${i}` } });
    const buffered = sim.buffered();
    expect(buffered).toHaveLength(256);
    expect(buffered[0].Actor.ID).toBe('b1744');
    expect(buffered.at(-1)!.Actor.ID).toBe('b1999');
  });

  it('accepts version prefixes up to its API version and refuses newer ones as dockerd does', async () => {
    const get = (p: string) =>
      new Promise<{ status: number; body: string; version?: string }>((resolve, reject) => {
        const req = http.get({ socketPath: path.join(dir, 'engine.sock'), path: p }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, body, version: res.headers['api-version'] as string | undefined }));
        });
        req.on('error', reject);
      });
    expect(await get('/v1.43/_ping')).toMatchObject({ status: 200, body: 'OK', version: '1.43' });
    expect(await get('/v1.41/info')).toMatchObject({ status: 200 });
    expect(await get('/_ping')).toMatchObject({ status: 200, body: 'OK' });
    expect(await get('/v1.99/info')).toMatchObject({ status: 400, body: expect.stringContaining('client version 1.99 is too new') });
    expect(await get('/v1.41/containers/nope/json')).toEqual({ status: 404, body: '{"message":"No such container: nope"}\n', version: '1.43' });
    expect(await get('/v1.41/no/such/route')).toMatchObject({ status: 404, body: '{"message":"page not found"}\n' });
  });
});
