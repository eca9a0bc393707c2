/**
 * A simulated Docker engine for tests and benchmarks (issue 9, item 5): an HTTP server (node:http)
 * on a unix socket or on 127.0.0.1:<port> that speaks the subset of the Engine API fleetgraph uses,
 * so dockerode talks to it unchanged (`new Docker(sim.dockerOptions)`).
 *
 * What it serves (every path also under a version prefix, `/v1.41/…`; 1.12 ≤ version ≤ 1.43 by default):
 * - `GET|HEAD /_ping`, `GET /version`, `GET /info` (an ID stable per engine, across restart());
 * - containers: list (`all`, `filters`: id, name, label, status), inspect (full id, name, or a
 *   unique id prefix), create (`name`, 409 on a taken name, 404 for an unknown image), start, stop,
 *   restart, kill, pause, unpause, remove (`force`); images list and inspect; networks and
 *   volumes list/inspect (the three predefined networks, no volumes);
 * - `GET /events` with `filters` (type, event, container, image, label, scope, and the other
 *   name filters, with moby's matching rules), `since`/`until` (seconds[.nanoseconds] as the
 *   daemon takes them, and RFC 3339 as the CLI accepts them), and Docker's replay ring of the last
 *   256 events (moby daemon/events/events.go: `eventsLimit = 256`; on subscribe, buffered events
 *   with since ≤ timeNano ≤ until are replayed, walking back from the newest and stopping at the
 *   first older than since; no since and no until: no replay; an until in the past ends the
 *   stream after the replay, a future one ends it at that time).
 * - errors as Docker writes them: `{"message": "…"}` with its status codes (404 No such
 *   container, 409 name conflict / not running, 304 already started / stopped, 400 bad input).
 *
 * Container operations emit what dockerd 20.10 emits, in its order and with its attributes
 * (labels, `image`, `name`; `exitCode` on die, `signal` on kill), each with an exact `timeNano`,
 * strictly increasing per engine: create; start; stop → kill(15) [wait t s] kill(9) die stop;
 * restart → the stop sequence, start, restart; kill → kill(signal) [die]; rm -f → kill(9) die
 * destroy. A container's process is modelled from its command like PID 1 of a busybox image:
 * `true`, `false`, `sh -c 'exit N'` and a bare `sh` exit at once, `sleep N` after N seconds,
 * anything else runs until killed and ignores SIGTERM (as PID 1 without a handler does), unless
 * the engine or the container says it exits on SIGTERM (`sigtermExitCode`).
 *
 * The script API drives it for tests: `emit()` pushes synthetic events (exact timeNano or the
 * engine clock), the container operations are methods too (`createContainer`, `stopContainer`…),
 * `seedContainers()` adds containers without events (as if they predated the ring), `rate()` runs
 * container lifecycles at a given number of events per second, `dropStreams()` cuts every
 * `/events` connection (the ring stays, like a network cut), `restart()` drops all connections,
 * forgets the ring and stops running containers as a daemon restart without live-restore does,
 * `stop()` shuts the engine down.
 *
 * Start one with `startSimEngine({ socketPath })` (or `{ port: 0 }`), many with `startSimFleet(n, dir)`.
 * fleetgraph registers `sim.endpoint` once its allow-list admits it (tests: the socket's directory
 * passed to testEndpointAllow, as test/integration/sim-engine-parity.test.ts does).
 *
 * Scale: one http.Server per engine (a listening handle and a few objects each; 200+ in one
 * process cost a few MB). A server per engine keeps each engine's connections its own, so
 * dropStreams/restart/stop of one engine never touch another's. Memory is bounded: the ring holds
 * 256 events; containers are what the script (or clients) created, capped by `maxContainers`;
 * an /events subscriber that does not read is skipped once 1 MiB waits for it (dockerd skips a
 * subscriber that stalls 100 ms with a full 1024-event buffer), counted in `stats.dropped`.
 *
 * Not simulated: logs, exec, attach, wait, networks/volumes changes, images pull/build, swarm,
 * restart policies, health checks. A route it does not know answers 404 "page not found", as
 * dockerd does.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';

/**
 * The highest API version the simulator answers by default. Its answers and events are those of
 * the test dockerd (Debian 12's docker.io 20.10, API 1.41), which this subset shares with the
 * versions up to 1.43; a path under a newer version than the engine's is refused (400) as dockerd
 * refuses it. `apiVersion` sets it per engine.
 */
export const SIM_API_VERSION = '1.43';
export const SIM_MIN_API_VERSION = '1.12';
/** moby daemon/events/events.go: eventsLimit. */
export const EVENTS_LIMIT = 256;
/** What a non-reading /events subscriber may have waiting before events are skipped for it. */
const SLOW_SUBSCRIBER_BYTES = 1024 * 1024;
/** Largest request body read (a container create spec). */
const MAX_BODY_BYTES = 1024 * 1024;
const ZERO_TIME = '0001-01-01T00:00:00Z';

// ------------------------------------------------------------------------------------------------
// Clock: wall-clock nanoseconds with hrtime resolution (Date.now() alone has milliseconds)
// ------------------------------------------------------------------------------------------------

const EPOCH_OFFSET_NS = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Nanoseconds since the epoch, now. */
export function nowNanos(): bigint {
  return EPOCH_OFFSET_NS + process.hrtime.bigint();
}

/** RFC 3339 with nanoseconds, trailing zeros trimmed, as Go's time.RFC3339Nano prints UTC times. */
export function rfc3339Nano(nanos: bigint): string {
  const ms = Number(nanos / 1_000_000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  const frac = (((nanos % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${frac ? `.${frac}` : ''}Z`;
}

// ------------------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------------------

/** An answer Docker gives as an error status (304 carries no body). */
export class DockerError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const noSuchContainer = (ref: string) => new DockerError(404, `No such container: ${ref}`);

// ------------------------------------------------------------------------------------------------
// Timestamps of /events (since, until)
// ------------------------------------------------------------------------------------------------

const UNIX_TS = /^(-?\d+)(?:\.(\d*))?$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * `since`/`until` as nanoseconds, null when absent. The daemon takes "seconds[.nanoseconds]"
 * (moby timestamp.ParseTimestamps: the fraction padded or cut to 9 digits); RFC 3339 is what the
 * CLI accepts and converts before sending, taken here too. Anything else is 400.
 */
export function parseEventTime(value: string | null): bigint | null {
  if (value === null || value === '') return null;
  const unix = UNIX_TS.exec(value);
  if (unix) {
    const frac = (unix[2] ?? '').slice(0, 9).padEnd(9, '0');
    return BigInt(unix[1]) * 1_000_000_000n + BigInt(frac || '0');
  }
  const t = RFC3339.exec(value);
  if (t) {
    const [, y, mo, d, h, mi, s, frac = '', zone] = t;
    const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
    if (Number.isNaN(ms)) throw new DockerError(400, `invalid timestamp ${JSON.stringify(value)}`);
    let offsetMin = 0;
    if (zone.toUpperCase() !== 'Z') offsetMin = (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
    return (BigInt(ms) - BigInt(offsetMin) * 60_000n) * 1_000_000n + BigInt(frac.padEnd(9, '0') || '0');
  }
  throw new DockerError(400, `invalid timestamp ${JSON.stringify(value)}`);
}

// ------------------------------------------------------------------------------------------------
// Events
// ------------------------------------------------------------------------------------------------

/** An event as a script gives it: Type defaults to container, scope to local, timeNano to the engine clock. */
export interface SimEventInput {
  Type?: string;
  Action: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  scope?: string;
  timeNano?: bigint | string;
}

/** An event as the engine sent (or would send) it; timeNano exact, as a decimal string. */
export interface SimEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: string;
  time: number;
  timeNano: string;
}

interface StoredEvent {
  event: SimEvent;
  nano: bigint;
  /** The NDJSON line, serialised once for every subscriber. */
  line: string;
}

/** Attributes with keys in Go's map order (sorted), as dockerd marshals them. */
function sortedAttributes(attrs: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(attrs).sort()) out[k] = String(attrs[k]);
  return out;
}

/**
 * One event as dockerd 20.10 writes it on /events: the legacy fields first (status, id, from:
 * container events; status, id: image events), then Type, Action, Actor, scope, time and
 * timeNano — the latter written as an integer literal, exact (it exceeds 2^53).
 */
export function eventLine(e: SimEvent): string {
  const legacy: Record<string, string> = {};
  if (e.Type === 'container' || e.Type === 'image') {
    legacy.status = e.Action;
    if (e.Actor.ID) legacy.id = e.Actor.ID;
    if (e.Type === 'container' && e.Actor.Attributes.image) legacy.from = e.Actor.Attributes.image;
  }
  const head = JSON.stringify({ ...legacy, Type: e.Type, Action: e.Action, Actor: { ID: e.Actor.ID, Attributes: sortedAttributes(e.Actor.Attributes) }, scope: e.scope, time: e.time });
  return `${head.slice(0, -1)},"timeNano":${e.timeNano}}\n`;
}

/**
 * Docker's replay ring (moby daemon/events/events.go): the last EVENTS_LIMIT events published,
 * oldest dropped first, in publication order.
 */
export class EventRing {
  private readonly slots: Array<StoredEvent | undefined>;
  private head = 0;
  private count = 0;

  constructor(readonly limit = EVENTS_LIMIT) {
    this.slots = new Array<StoredEvent | undefined>(limit);
  }

  get size(): number {
    return this.count;
  }

  push(e: StoredEvent): void {
    this.slots[(this.head + this.count) % this.limit] = e;
    if (this.count < this.limit) this.count++;
    else this.head = (this.head + 1) % this.limit;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  /** Oldest first. */
  toArray(): StoredEvent[] {
    const out: StoredEvent[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.slots[(this.head + i) % this.limit]!);
    return out;
  }

  /**
   * moby loadBufferedEvents: nothing without since and until; else, walking back from the newest,
   * stop at the first event older than since, skip those after until (when given), keep those
   * the filter includes; oldest first.
   */
  replay(since: bigint | null, until: bigint | null, include: (e: SimEvent) => boolean): StoredEvent[] {
    if (since === null && until === null) return [];
    const from = since ?? 0n;
    const out: StoredEvent[] = [];
    for (let i = this.count - 1; i >= 0; i--) {
      const e = this.slots[(this.head + i) % this.limit]!;
      if (e.nano < from) break;
      if (until !== null && until > 0n && e.nano > until) continue;
      if (include(e.event)) out.push(e);
    }
    return out.reverse();
  }
}

// ------------------------------------------------------------------------------------------------
// Filters (moby api/types/filters.Args and daemon/events/filter.go)
// ------------------------------------------------------------------------------------------------

export type Filters = Map<string, Set<string>>;

/** `filters` as JSON: `{"type":["container"]}` or the older `{"type":{"container":true}}`. 400 when not. */
export function parseFilters(raw: string | null): Filters {
  const out: Filters = new Map();
  if (!raw) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new DockerError(400, `invalid filter '${raw}'`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new DockerError(400, `invalid filter '${raw}'`);
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    const values = Array.isArray(value) ? value : value && typeof value === 'object' ? Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] === true) : null;
    if (!values || values.some((v) => typeof v !== 'string')) throw new DockerError(400, `invalid filter '${raw}'`);
    out.set(key, new Set(values as string[]));
  }
  return out;
}

/** filters.Args.ExactMatch: true without values for the key. */
function exactMatch(f: Filters, key: string, source: string): boolean {
  const values = f.get(key);
  if (!values || values.size === 0) return true;
  return values.has(source);
}

/** filters.Args.FuzzyMatch: an exact value or a prefix of source. */
function fuzzyMatch(f: Filters, key: string, source: string): boolean {
  if (exactMatch(f, key, source)) return true;
  for (const prefix of f.get(key)!) if (source.startsWith(prefix)) return true;
  return false;
}

/** filters.Args.MatchKVList: every `key` or `key=value` holds. */
function matchKVList(f: Filters, key: string, attrs: Record<string, string>): boolean {
  const values = f.get(key);
  if (!values || values.size === 0) return true;
  if (Object.keys(attrs).length === 0) return false;
  for (const v of values) {
    const eq = v.indexOf('=');
    const k = eq < 0 ? v : v.slice(0, eq);
    if (!(k in attrs)) return false;
    if (eq >= 0 && attrs[k] !== v.slice(eq + 1)) return false;
  }
  return true;
}

/** reference.FamiliarName, enough for filters: no digest, no tag, no docker.io/library/ prefix. */
function stripTag(image: string): string {
  let name = image.split('@')[0];
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) name = name.slice(0, colon);
  return name.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
}

const NAME_FILTERED_TYPES = ['daemon', 'container', 'plugin', 'volume', 'network', 'node', 'service', 'secret', 'config'];

/** daemon/events/filter.go Include. */
export function eventIncluded(f: Filters, ev: SimEvent): boolean {
  if (f.size === 0) return true;
  const attrs = ev.Actor.Attributes;
  const fuzzyEvent = ['health_status', 'exec_create', 'exec_start'].some((a) => f.get('event')?.has(a));
  if (!(fuzzyEvent ? fuzzyMatch(f, 'event', ev.Action) : exactMatch(f, 'event', ev.Action))) return false;
  if (!exactMatch(f, 'type', ev.Type)) return false;
  if (f.has('scope') && !exactMatch(f, 'scope', ev.scope)) return false;
  for (const t of NAME_FILTERED_TYPES) if (!(fuzzyMatch(f, t, ev.Actor.ID) || fuzzyMatch(f, t, attrs.name ?? ''))) return false;
  const imageName = attrs[ev.Type === 'image' ? 'name' : 'image'] ?? '';
  if (!(exactMatch(f, 'image', ev.Actor.ID) || exactMatch(f, 'image', imageName) || exactMatch(f, 'image', stripTag(ev.Actor.ID)) || exactMatch(f, 'image', stripTag(imageName)))) return false;
  return matchKVList(f, 'label', attrs);
}

// ------------------------------------------------------------------------------------------------
// Images and containers
// ------------------------------------------------------------------------------------------------

export interface SimImage {
  /** sha256:… (derived from the first tag when not given). */
  Id?: string;
  RepoTags: string[];
  Size?: number;
  Labels?: Record<string, string> | null;
  /** Created, seconds since the epoch. */
  Created?: number;
  /** The image's default command (busybox: ["sh"]). */
  Cmd?: string[];
  Env?: string[];
}

/** The image every simulated engine has unless told otherwise: the test image. */
export const DEFAULT_IMAGES: SimImage[] = [{ RepoTags: ['local/busybox:1'], Size: 1984168, Cmd: ['sh'], Env: ['PATH=/bin'] }];

type ContainerState = 'created' | 'running' | 'paused' | 'exited' | 'dead';

/** How a container's main process ends. */
interface ProcessModel {
  /** Exits by itself this long after a start (ms), with exitCode. */
  exitsAfterMs?: number;
  exitCode?: number;
  /** Exit code on SIGTERM; null: ignores it (PID 1 without a handler). */
  sigtermExitCode: number | null;
}

interface SimContainer {
  id: string;
  name: string;
  image: string;
  imageId: string;
  path: string;
  args: string[];
  config: Record<string, unknown>;
  hostConfig: Record<string, unknown>;
  labels: Record<string, string>;
  createdNano: bigint;
  state: ContainerState;
  exitCode: number;
  pid: number;
  startedAt: bigint | null;
  finishedAt: bigint | null;
  restartCount: number;
  process: ProcessModel;
  /** The running process's own exit timer. */
  exitTimer?: NodeJS.Timeout;
  /** Waiters for the process to end (stop's grace period). */
  exitWaiters: Array<() => void>;
  removing: boolean;
}

/** What `createContainer` takes: the Engine API's create body, plus the name. */
export interface SimContainerSpec {
  name?: string;
  Image: string;
  Cmd?: string[];
  Entrypoint?: string[] | null;
  Env?: string[];
  Labels?: Record<string, string>;
  Tty?: boolean;
  StopSignal?: string;
  StopTimeout?: number;
  ExposedPorts?: Record<string, object>;
  HostConfig?: Record<string, unknown>;
  [key: string]: unknown;
}

const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, USR1: 10, USR2: 12, TERM: 15, STOP: 19, CONT: 18, WINCH: 28 };

/** A signal as Docker takes it ("SIGKILL", "KILL", "9"); 400 when unknown. */
function parseSignal(raw: string | null | undefined, fallback: number): number {
  if (!raw) return fallback;
  if (/^\d+$/.test(raw)) return Number(raw);
  const n = SIGNALS[raw.toUpperCase().replace(/^SIG/, '')];
  if (!n) throw new DockerError(400, `Invalid signal: ${raw}`);
  return n;
}

/** The exit behaviour of a busybox PID 1 running `argv`. */
function processOf(argv: string[], sigtermExitCode: number | null): ProcessModel {
  const [cmd = '', ...rest] = argv;
  const base = path.basename(cmd);
  if (base === 'true') return { exitsAfterMs: 0, exitCode: 0, sigtermExitCode };
  if (base === 'false') return { exitsAfterMs: 0, exitCode: 1, sigtermExitCode };
  if ((base === 'sh' || base === 'bash') && rest.length === 0) return { exitsAfterMs: 0, exitCode: 0, sigtermExitCode };
  if ((base === 'sh' || base === 'bash') && rest[0] === '-c') {
    const script = (rest[1] ?? '').trim();
    const exit = /^exit\s+(\d+)$/.exec(script);
    if (exit) return { exitsAfterMs: 0, exitCode: Number(exit[1]) % 256, sigtermExitCode };
    if (script === 'true' || script === '') return { exitsAfterMs: 0, exitCode: 0, sigtermExitCode };
    if (script === 'false') return { exitsAfterMs: 0, exitCode: 1, sigtermExitCode };
  }
  if (base === 'sleep' && rest.length === 1 && /^\d+(\.\d+)?$/.test(rest[0])) return { exitsAfterMs: Number(rest[0]) * 1000, exitCode: 0, sigtermExitCode };
  return { sigtermExitCode };
}

/** Docker's "Up 3 seconds" / "Exited (0) 2 minutes ago" durations (go-units HumanDuration, roughly). */
function humanDuration(ns: bigint): string {
  const s = Number(ns / 1_000_000_000n);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  return `${Math.floor(h / 24)} days`;
}

/** A name like Docker's generated ones (adjective_surname). */
function generatedName(taken: (n: string) => boolean): string {
  const left = ['admiring', 'brave', 'clever', 'eager', 'focused', 'gallant', 'happy', 'keen', 'nifty', 'quirky', 'sharp', 'vigilant'];
  const right = ['babbage', 'curie', 'darwin', 'euler', 'hopper', 'lovelace', 'noether', 'ritchie', 'shannon', 'turing', 'wozniak', 'yonath'];
  for (let i = 0; ; i++) {
    const pick = (l: string[]) => l[randomBytes(1)[0] % l.length];
    const n = `${pick(left)}_${pick(right)}${i > 4 ? randomBytes(2).toString('hex') : ''}`;
    if (!taken(n)) return n;
  }
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const imageIdOf = (img: SimImage) =>
  img.Id ??
  `sha256:${createHash('sha256')
    .update(img.RepoTags[0] ?? hex(8))
    .digest('hex')}`;
/** A reference with its implicit tag: "busybox" → "busybox:latest". */
const withTag = (ref: string) => (ref.includes('@') || ref.lastIndexOf(':') > ref.lastIndexOf('/') ? ref : `${ref}:latest`);

/** An engine ID in the older "ABCD:EFGH:…" form (12 groups of 4 base32 characters), derived from a seed. */
function engineIdFrom(seed: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const digest = createHash('sha512').update(seed).digest();
  let out = '';
  for (let i = 0; i < 48; i++) {
    if (i > 0 && i % 4 === 0) out += ':';
    out += alphabet[digest[i % digest.length] % 32];
  }
  return out;
}

/** Docker's boolean query values (httputils.BoolValue). */
const boolParam = (v: string | null) => v !== null && !['', '0', 'no', 'false', 'none'].includes(v.trim().toLowerCase());

// ------------------------------------------------------------------------------------------------
// The engine
// ------------------------------------------------------------------------------------------------

export interface SimEngineOptions {
  /** Listen on this unix socket (its directory must exist; a stale file is replaced)… */
  socketPath?: string;
  /** …or on 127.0.0.1:port (0: an ephemeral port, kept across restart()). Default when no socketPath: 0. */
  port?: number;
  /** Highest API version served (default SIM_API_VERSION). */
  apiVersion?: string;
  /** `docker info` Name; default sim-<random>. */
  name?: string;
  /** `docker info` ID (what fleetgraph claims engines by); default: random per engine, kept across restart(). */
  id?: string;
  images?: SimImage[];
  ncpu?: number;
  memTotal?: number;
  serverVersion?: string;
  operatingSystem?: string;
  kernelVersion?: string;
  cgroupVersion?: '1' | '2';
  /** Exit code of containers on SIGTERM; default null: they ignore it (a busybox PID 1 does). */
  sigtermExitCode?: number | null;
  /** Upper bound of the containers map (create answers 500 beyond it). */
  maxContainers?: number;
  /** Called for every event the engine publishes (benchmarks stamp them here). */
  onEvent?: (event: SimEvent) => void;
}

export interface SimStats {
  /** Events published. */
  emitted: number;
  /** Events skipped for slow /events subscribers. */
  dropped: number;
  /** HTTP requests served. */
  requests: number;
}

export interface RateOptions {
  /** Lifecycles in flight at once, interleaved (default 4). */
  concurrency?: number;
  image?: string;
  namePrefix?: string;
  labels?: Record<string, string>;
  signal?: AbortSignal;
}

export interface RateResult {
  /** Events published by the run (including those finishing the last lifecycles). */
  emitted: number;
  /** Lifecycles begun (each: create, start, die, destroy). */
  lifecycles: number;
  firstTimeNano?: string;
  lastTimeNano?: string;
}

export interface SeedSpec {
  name?: string;
  image?: string;
  labels?: Record<string, string>;
  cmd?: string[];
  state?: 'created' | 'running' | 'exited';
  exitCode?: number;
}

interface Subscriber {
  res: http.ServerResponse;
  filters: Filters;
  timer?: NodeJS.Timeout;
}

interface Route {
  method: string;
  pattern: RegExp;
  handle: (req: http.IncomingMessage, res: http.ServerResponse, url: URL, params: string[]) => Promise<void> | void;
}

/** Starts a simulated engine and resolves once it listens. */
export async function startSimEngine(options: SimEngineOptions = {}): Promise<SimEngine> {
  const engine = new SimEngine(options);
  await engine.listen();
  return engine;
}

/** Starts `count` engines on sockets `<dir>/<prefix>-<i>.sock` (dir made if needed). */
export async function startSimFleet(count: number, dir: string, options: Omit<SimEngineOptions, 'socketPath' | 'port'> & { prefix?: string } = {}): Promise<SimEngine[]> {
  fs.mkdirSync(dir, { recursive: true });
  const { prefix = 'sim', ...rest } = options;
  const engines: SimEngine[] = [];
  try {
    for (let i = 0; i < count; i++) engines.push(await startSimEngine({ ...rest, name: rest.name ? `${rest.name}-${i}` : undefined, socketPath: path.join(dir, `${prefix}-${i}.sock`) }));
  } catch (err) {
    await Promise.all(engines.map((e) => e.stop()));
    throw err;
  }
  return engines;
}

export class SimEngine {
  readonly id: string;
  readonly name: string;
  readonly apiVersion: string;
  readonly stats: SimStats = { emitted: 0, dropped: 0, requests: 0 };
  private readonly ring = new EventRing();
  private readonly subscribers = new Set<Subscriber>();
  private readonly containers = new Map<string, SimContainer>();
  private readonly byName = new Map<string, string>();
  private readonly images: Array<SimImage & { Id: string }>;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly routes: Route[];
  private server?: http.Server;
  private lastNano = 0n;
  private boundPort?: number;
  private stopped = false;
  private readonly subscriberWaiters: Array<() => void> = [];

  constructor(private readonly options: SimEngineOptions = {}) {
    this.name = options.name ?? `sim-${hex(4)}`;
    this.apiVersion = options.apiVersion ?? SIM_API_VERSION;
    this.id = options.id ?? engineIdFrom(`${this.name}/${options.socketPath ?? ''}/${hex(8)}`);
    this.images = (options.images ?? DEFAULT_IMAGES).map((i) => ({ ...i, Id: imageIdOf(i) }));
    this.routes = this.buildRoutes();
  }

  // ---------------------------------------------------------------------------------- addresses

  /** The endpoint to register with fleetgraph: unix:///… or tcp://127.0.0.1:port. */
  get endpoint(): string {
    return this.options.socketPath ? `unix://${this.options.socketPath}` : `tcp://127.0.0.1:${this.port}`;
  }

  /** dockerode's options for this engine. */
  get dockerOptions(): { socketPath: string } | { host: string; port: number } {
    return this.options.socketPath ? { socketPath: this.options.socketPath } : { host: '127.0.0.1', port: this.port };
  }

  get port(): number {
    if (this.boundPort === undefined) throw new Error('sim engine: not listening on a port');
    return this.boundPort;
  }

  /** Open /events streams. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Containers the engine has now. */
  get containerCount(): number {
    return this.containers.size;
  }

  /** The replay ring, oldest first. */
  buffered(): SimEvent[] {
    return this.ring.toArray().map((e) => e.event);
  }

  /** Resolves once at least `n` /events streams are open. */
  async waitForSubscribers(n = 1, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.subscribers.size < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`sim engine ${this.name}: ${this.subscribers.size} /events subscribers, waited for ${n}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.subscriberWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  // ---------------------------------------------------------------------------------- lifecycle

  /** Starts listening (again, after restart(): the same socket path or port). */
  async listen(): Promise<void> {
    if (this.server) return;
    this.stopped = false;
    const server = http.createServer((req, res) => void this.serve(req, res));
    server.keepAliveTimeout = 60_000;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    const { socketPath } = this.options;
    if (socketPath) fs.rmSync(socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const done = () => {
        server.off('error', reject);
        resolve();
      };
      if (socketPath) server.listen(socketPath, done);
      else server.listen(this.boundPort ?? this.options.port ?? 0, '127.0.0.1', done);
    });
    if (!socketPath) this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Cuts every /events connection (as a network cut would); the ring stays, so `since` replays. Returns how many were cut. */
  dropStreams(): number {
    const n = this.subscribers.size;
    for (const s of [...this.subscribers]) {
      this.unsubscribe(s);
      s.res.socket?.destroy();
      s.res.destroy();
    }
    return n;
  }

  /**
   * A daemon restart without live-restore: every connection drops, the engine is gone for `downMs`
   * (connections refused), the ring is forgotten, running containers end (killed by the
   * shutdown: 137, or their SIGTERM exit code) without events anyone could replay. Containers and
   * the engine ID stay.
   */
  async restart(opts: { downMs?: number } = {}): Promise<void> {
    await this.close();
    this.ring.clear();
    const at = this.tick();
    for (const c of this.containers.values()) {
      if (c.state !== 'running' && c.state !== 'paused') continue;
      this.clearExitTimer(c);
      c.state = 'exited';
      c.exitCode = c.process.sigtermExitCode ?? 137;
      c.finishedAt = at;
      c.pid = 0;
      c.exitWaiters.splice(0).forEach((w) => w());
    }
    if (opts.downMs) await new Promise((r) => setTimeout(r, opts.downMs));
    await this.listen();
  }

  /** Shuts the engine down: connections closed, timers cleared, the socket file removed. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.containers.values()) this.clearExitTimer(c);
    await this.close();
  }

  private async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of [...this.subscribers]) this.unsubscribe(s);
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
    if (this.options.socketPath) fs.rmSync(this.options.socketPath, { force: true });
  }

  // ---------------------------------------------------------------------------------- events

  /** The engine clock: now, or one nanosecond after the last event (strictly increasing). */
  private tick(): bigint {
    const now = nowNanos();
    this.lastNano = now > this.lastNano ? now : this.lastNano + 1n;
    return this.lastNano;
  }

  /**
   * Publishes synthetic events (no container state changes): into the ring and to every
   * subscriber whose filters include them. An explicit timeNano is kept exactly (even one not
   * after the last: a script may test out-of-order input; the ring's replay then behaves as
   * dockerd's does, stopping at the first older event); the clock continues after the largest.
   */
  emit(input: SimEventInput | SimEventInput[]): SimEvent[] {
    return (Array.isArray(input) ? input : [input]).map((e) => {
      let nano: bigint;
      if (e.timeNano !== undefined) {
        nano = BigInt(e.timeNano);
        if (nano > this.lastNano) this.lastNano = nano;
      } else nano = this.tick();
      return this.publish({ Type: e.Type ?? 'container', Action: e.Action, Actor: { ID: e.Actor?.ID ?? '', Attributes: { ...(e.Actor?.Attributes ?? {}) } }, scope: e.scope ?? 'local' }, nano);
    });
  }

  private publish(base: Omit<SimEvent, 'time' | 'timeNano'>, nano: bigint): SimEvent {
    const event: SimEvent = { ...base, time: Number(nano / 1_000_000_000n), timeNano: nano.toString() };
    const stored: StoredEvent = { event, nano, line: eventLine(event) };
    this.ring.push(stored);
    this.stats.emitted++;
    for (const s of this.subscribers) if (eventIncluded(s.filters, event)) this.send(s, stored);
    this.options.onEvent?.(event);
    return event;
  }

  private send(s: Subscriber, e: StoredEvent): void {
    if (s.res.writableLength > SLOW_SUBSCRIBER_BYTES) {
      this.stats.dropped++;
      return;
    }
    s.res.write(e.line);
  }

  /** A container event with the attributes dockerd sets: its labels, image and name, plus `extra`. */
  private containerEvent(c: SimContainer, action: string, extra: Record<string, string> = {}): SimEvent {
    return this.publish({ Type: 'container', Action: action, Actor: { ID: c.id, Attributes: { ...c.labels, image: c.image, name: c.name, ...extra } }, scope: 'local' }, this.tick());
  }

  // ---------------------------------------------------------------------------------- containers (script API; the HTTP routes call these)

  /** Finds a container as dockerd does: full id, then name, then a unique id prefix. */
  private lookup(ref: string): SimContainer {
    const direct = this.containers.get(ref);
    if (direct) return direct;
    const byName = this.byName.get(ref.replace(/^\//, ''));
    if (byName) return this.containers.get(byName)!;
    if (ref && /^[0-9a-f]+$/.test(ref)) {
      let found: SimContainer | undefined;
      for (const c of this.containers.values()) {
        if (!c.id.startsWith(ref)) continue;
        if (found) throw new DockerError(400, `multiple IDs found with provided prefix: ${ref}`);
        found = c;
      }
      if (found) return found;
    }
    throw noSuchContainer(ref);
  }

  private findImage(ref: string): (SimImage & { Id: string }) | undefined {
    const tagged = withTag(ref);
    return this.images.find(
      (i) => i.RepoTags.includes(tagged) || i.Id === ref || i.Id === `sha256:${ref}` || (ref.length >= 4 && i.Id.replace(/^sha256:/, '').startsWith(ref.replace(/^sha256:/, ''))),
    );
  }

  /** POST /containers/create: emits create. */
  createContainer(spec: SimContainerSpec, opts: { sigtermExitCode?: number | null; silent?: boolean } = {}): string {
    const { name: rawName, ...body } = spec;
    if (rawName !== undefined && rawName !== '' && !VALID_NAME.test(rawName)) throw new DockerError(400, `Invalid container name (${rawName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (typeof body.Image !== 'string' || !body.Image) throw new DockerError(400, 'Config cannot be empty in order to create a container');
    const image = this.findImage(body.Image);
    if (!image) throw new DockerError(404, `No such image: ${withTag(body.Image)}`);
    const name = rawName ? rawName.replace(/^\//, '') : generatedName((n) => this.byName.has(n));
    const taken = this.byName.get(name);
    if (taken)
      throw new DockerError(409, `Conflict. The container name "/${name}" is already in use by container "${taken}". You have to remove (or rename) that container to be able to reuse that name.`);
    if (this.containers.size >= (this.options.maxContainers ?? 100_000)) throw new DockerError(500, 'sim engine: container limit reached');
    const entrypoint = Array.isArray(body.Entrypoint) && body.Entrypoint.length ? body.Entrypoint : [];
    const cmd = Array.isArray(body.Cmd) && body.Cmd.length ? body.Cmd : entrypoint.length ? [] : (image.Cmd ?? []);
    const argv = [...entrypoint, ...cmd];
    const id = hex(32);
    const labels = Object.fromEntries(Object.entries({ ...(image.Labels ?? {}), ...(body.Labels ?? {}) }).map(([k, v]) => [k, String(v)]));
    const sigterm = opts.sigtermExitCode !== undefined ? opts.sigtermExitCode : (this.options.sigtermExitCode ?? null);
    const c: SimContainer = {
      id,
      name,
      image: body.Image,
      imageId: image.Id,
      path: argv[0] ?? '',
      args: argv.slice(1),
      config: {
        Hostname: id.slice(0, 12),
        Domainname: '',
        User: body.User ?? '',
        AttachStdin: false,
        AttachStdout: false,
        AttachStderr: false,
        ExposedPorts: body.ExposedPorts ?? undefined,
        Tty: Boolean(body.Tty),
        OpenStdin: false,
        StdinOnce: false,
        Env: [...(image.Env ?? []), ...(body.Env ?? [])],
        Cmd: cmd.length ? cmd : null,
        Image: body.Image,
        Volumes: null,
        WorkingDir: body.WorkingDir ?? '',
        Entrypoint: entrypoint.length ? entrypoint : null,
        OnBuild: null,
        Labels: labels,
        ...(body.StopSignal ? { StopSignal: body.StopSignal } : {}),
        ...(body.StopTimeout !== undefined ? { StopTimeout: body.StopTimeout } : {}),
        ...(body.Healthcheck ? { Healthcheck: body.Healthcheck } : {}),
      },
      hostConfig: { NetworkMode: 'default', RestartPolicy: { Name: '', MaximumRetryCount: 0 }, AutoRemove: false, PortBindings: null, Binds: null, Privileged: false, ...(body.HostConfig ?? {}) },
      labels,
      createdNano: this.peekNow(),
      state: 'created',
      exitCode: 0,
      pid: 0,
      startedAt: null,
      finishedAt: null,
      restartCount: 0,
      process: processOf(argv, sigterm),
      exitWaiters: [],
      removing: false,
    };
    this.containers.set(id, c);
    this.byName.set(name, id);
    if (!opts.silent) c.createdNano = BigInt(this.containerEvent(c, 'create').timeNano);
    return id;
  }

  /** The clock's next value without publishing (a silent container's Created). */
  private peekNow(): bigint {
    const now = nowNanos();
    return now > this.lastNano ? now : this.lastNano + 1n;
  }

  /** POST /containers/{id}/start: 304 when running; emits start (and die at once for a process that exits by itself). */
  startContainer(ref: string): void {
    const c = this.lookup(ref);
    if (c.state === 'paused') throw new DockerError(409, 'cannot start a paused container, try unpause instead');
    if (c.state === 'running') throw new DockerError(304, 'container already started');
    this.run(c);
  }

  private run(c: SimContainer, silent = false): void {
    c.state = 'running';
    c.exitCode = 0;
    c.pid = 1000 + (randomBytes(2).readUInt16BE() % 30000);
    const at = silent ? this.peekNow() : BigInt(this.containerEvent(c, 'start').timeNano);
    c.startedAt = at;
    const after = c.process.exitsAfterMs;
    if (after !== undefined) {
      c.exitTimer = this.later(after, () => {
        c.exitTimer = undefined;
        if (c.state === 'running') this.exited(c, c.process.exitCode ?? 0);
      });
    }
  }

  /** The main process ended: die (with exitCode), waiters released, AutoRemove honoured (destroy). */
  private exited(c: SimContainer, exitCode: number): void {
    this.clearExitTimer(c);
    c.state = 'exited';
    c.exitCode = exitCode;
    c.pid = 0;
    c.finishedAt = BigInt(this.containerEvent(c, 'die', { exitCode: String(exitCode) }).timeNano);
    c.exitWaiters.splice(0).forEach((w) => w());
    if (c.hostConfig.AutoRemove === true && !c.removing) this.destroy(c);
  }

  private destroy(c: SimContainer): void {
    c.removing = true;
    this.containerEvent(c, 'destroy');
    this.containers.delete(c.id);
    if (this.byName.get(c.name) === c.id) this.byName.delete(c.name);
  }

  /** Delivers a signal: kill event; SIGKILL ends the process (137), SIGTERM when it handles it. */
  private signal(c: SimContainer, sig: number): void {
    this.containerEvent(c, 'kill', { signal: String(sig) });
    if (sig === 9) this.exited(c, 137);
    else if (sig === 15 && c.process.sigtermExitCode !== null) this.exited(c, c.process.sigtermExitCode);
  }

  /** Waits until the container is no longer running, at most `ms` (negative: without bound). */
  private waitExit(c: SimContainer, ms: number): Promise<void> {
    if (c.state !== 'running' && c.state !== 'paused') return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) {
          clearTimeout(timer);
          this.timers.delete(timer);
        }
        resolve();
      };
      c.exitWaiters.push(done);
      if (ms >= 0) timer = this.later(ms, done);
    });
  }

  /** dockerd's containerStop: the stop signal, the grace period, SIGKILL if still running; then stop. */
  private async stopSequence(c: SimContainer, t: number | undefined): Promise<void> {
    const grace = t ?? (typeof c.config.StopTimeout === 'number' ? c.config.StopTimeout : 10);
    this.signal(c, parseSignal(c.config.StopSignal as string | undefined, 15));
    await this.waitExit(c, grace < 0 ? -1 : grace * 1000);
    if (c.state === 'running' || c.state === 'paused') this.signal(c, 9);
    this.containerEvent(c, 'stop');
  }

  /** POST /containers/{id}/stop: 304 when not running. Answers once the container stopped (after the grace period `t` for a process ignoring SIGTERM). */
  async stopContainer(ref: string, t?: number): Promise<void> {
    const c = this.lookup(ref);
    if (c.state !== 'running' && c.state !== 'paused') throw new DockerError(304, 'container already stopped');
    await this.stopSequence(c, t);
  }

  /** POST /containers/{id}/restart: the stop sequence when running, then start and restart. */
  async restartContainer(ref: string, t?: number): Promise<void> {
    const c = this.lookup(ref);
    if (c.state === 'running' || c.state === 'paused') await this.stopSequence(c, t);
    if (!this.containers.has(c.id)) throw noSuchContainer(ref);
    c.restartCount = 0;
    this.run(c);
    this.containerEvent(c, 'restart');
  }

  /** POST /containers/{id}/kill: 409 when not running. */
  killContainer(ref: string, signal?: string): void {
    const c = this.lookup(ref);
    const sig = parseSignal(signal, 9);
    if (c.state !== 'running' && c.state !== 'paused') throw new DockerError(409, `Cannot kill container: ${ref}: Container ${c.id} is not running`);
    this.signal(c, sig);
  }

  pauseContainer(ref: string): void {
    const c = this.lookup(ref);
    if (c.state === 'paused') throw new DockerError(409, `Container ${c.id} is already paused`);
    if (c.state !== 'running') throw new DockerError(409, `Container ${c.id} is not running`);
    c.state = 'paused';
    this.containerEvent(c, 'pause');
  }

  unpauseContainer(ref: string): void {
    const c = this.lookup(ref);
    if (c.state !== 'paused') throw new DockerError(409, `Container ${c.id} is not paused`);
    c.state = 'running';
    this.containerEvent(c, 'unpause');
  }

  /** DELETE /containers/{id}: 409 for a running container without force; force: kill(9), die, destroy. */
  removeContainer(ref: string, force = false): void {
    const c = this.lookup(ref);
    if (c.removing) throw new DockerError(409, `removal of container ${c.id} is already in progress`);
    if (c.state === 'paused' && !force) throw new DockerError(409, `You cannot remove a paused container ${c.id}. Unpause and then stop the container before attempting removal or force remove`);
    if (c.state === 'running' && !force) throw new DockerError(409, `You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`);
    c.removing = true;
    if (c.state === 'running' || c.state === 'paused') this.signal(c, 9);
    this.destroy(c);
  }

  /** Adds containers without any event (as if they predated the ring): inventories at scale. Returns their ids. */
  seedContainers(specs: SeedSpec[]): string[] {
    return specs.map((s) => {
      const id = this.createContainer({ name: s.name, Image: s.image ?? this.images[0]?.RepoTags[0] ?? 'local/busybox:1', Cmd: s.cmd ?? ['sleep', '86400'], Labels: s.labels }, { silent: true });
      const c = this.containers.get(id)!;
      if (s.state === 'running' || s.state === 'exited') {
        c.process = { sigtermExitCode: c.process.sigtermExitCode };
        this.run(c, true);
      }
      if (s.state === 'exited') {
        c.state = 'exited';
        c.exitCode = s.exitCode ?? 0;
        c.pid = 0;
        c.finishedAt = this.peekNow();
      }
      return id;
    });
  }

  /** GET /containers/{id}/json. */
  inspectContainer(ref: string): Record<string, unknown> {
    const c = this.lookup(ref);
    const ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
    if (c.state === 'running' || c.state === 'paused') {
      for (const p of Object.keys((c.config.ExposedPorts as Record<string, object> | undefined) ?? {})) ports[p] = null;
      for (const [p, bindings] of Object.entries((c.hostConfig.PortBindings as Record<string, Array<{ HostIp?: string; HostPort?: string }>> | null) ?? {})) {
        ports[p] = (bindings ?? []).map((b, i) => ({ HostIp: b.HostIp || '0.0.0.0', HostPort: b.HostPort || String(32768 + ((parseInt(c.id.slice(0, 4), 16) + i) % 28000)) }));
      }
    }
    return {
      Id: c.id,
      Created: rfc3339Nano(c.createdNano),
      Path: c.path,
      Args: c.args,
      State: {
        Status: c.state,
        Running: c.state === 'running' || c.state === 'paused',
        Paused: c.state === 'paused',
        Restarting: false,
        OOMKilled: false,
        Dead: c.state === 'dead',
        Pid: c.pid,
        ExitCode: c.exitCode,
        Error: '',
        StartedAt: c.startedAt ? rfc3339Nano(c.startedAt) : ZERO_TIME,
        FinishedAt: c.finishedAt ? rfc3339Nano(c.finishedAt) : ZERO_TIME,
      },
      Image: c.imageId,
      ResolvConfPath: '',
      HostnamePath: '',
      HostsPath: '',
      LogPath: '',
      Name: `/${c.name}`,
      RestartCount: c.restartCount,
      Driver: 'overlay2',
      Platform: 'linux',
      MountLabel: '',
      ProcessLabel: '',
      AppArmorProfile: '',
      ExecIDs: null,
      HostConfig: c.hostConfig,
      GraphDriver: { Data: null, Name: 'overlay2' },
      Mounts: [],
      Config: c.config,
      NetworkSettings: { Bridge: '', SandboxID: '', HairpinMode: false, Ports: ports, SandboxKey: '', IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '', Networks: {} },
    };
  }

  /** GET /containers/json: newest first; `all` false: running (and paused) only. */
  listContainers(all: boolean, filters: Filters = new Map()): Array<Record<string, unknown>> {
    const now = nowNanos();
    const out: Array<Record<string, unknown>> = [];
    const list = [...this.containers.values()].reverse();
    for (const c of list) {
      if (!all && c.state !== 'running' && c.state !== 'paused') continue;
      if (filters.get('id')?.size && ![...filters.get('id')!].some((p) => c.id.startsWith(p))) continue;
      // (dockerd matches names as regular expressions; a substring is what tests use)
      if (filters.get('name')?.size && ![...filters.get('name')!].some((n) => c.name.includes(n.replace(/^\^?\/?/, '')))) continue;
      if (filters.get('status')?.size && !filters.get('status')!.has(c.state)) continue;
      if (!matchKVList(filters, 'label', c.labels)) continue;
      const status =
        c.state === 'running'
          ? `Up ${humanDuration(now - (c.startedAt ?? now))}`
          : c.state === 'paused'
            ? `Up ${humanDuration(now - (c.startedAt ?? now))} (Paused)`
            : c.state === 'exited'
              ? `Exited (${c.exitCode}) ${humanDuration(now - (c.finishedAt ?? now))} ago`
              : 'Created';
      const ports: Array<Record<string, unknown>> = [];
      if (c.state === 'running' || c.state === 'paused') {
        const inspect = this.inspectContainer(c.id) as { NetworkSettings: { Ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> } };
        for (const [key, bindings] of Object.entries(inspect.NetworkSettings.Ports)) {
          const [priv, type] = key.split('/');
          if (!bindings) ports.push({ PrivatePort: Number(priv), Type: type });
          else for (const b of bindings) ports.push({ IP: b.HostIp, PrivatePort: Number(priv), PublicPort: Number(b.HostPort), Type: type });
        }
      }
      out.push({
        Id: c.id,
        Names: [`/${c.name}`],
        Image: c.image,
        ImageID: c.imageId,
        Command: [c.path, ...c.args].join(' '),
        Created: Number(c.createdNano / 1_000_000_000n),
        Ports: ports,
        Labels: c.labels,
        State: c.state,
        Status: status,
        HostConfig: { NetworkMode: String(c.hostConfig.NetworkMode ?? 'default') },
        NetworkSettings: { Networks: {} },
        Mounts: [],
      });
    }
    return out;
  }

  // ---------------------------------------------------------------------------------- load

  /**
   * Runs container lifecycles (create, start, die with exit code 0, destroy: 4 events each),
   * `concurrency` of them interleaved, at `eventsPerSecond` for `durationMs`; the lifecycles
   * still in flight at the end are finished at once (so no container is left behind). One timer
   * per due event (or batch), not a polling loop: 200 engines at low rates cost little.
   */
  rate(eventsPerSecond: number, durationMs: number, opts: RateOptions = {}): Promise<RateResult> {
    if (!(eventsPerSecond > 0) || !(durationMs >= 0)) throw new Error('rate: eventsPerSecond > 0 and durationMs >= 0');
    const total = Math.round((eventsPerSecond * durationMs) / 1000);
    const slots: Array<{ id: string; step: number } | undefined> = new Array(Math.max(1, opts.concurrency ?? 4)).fill(undefined);
    const result: RateResult = { emitted: 0, lifecycles: 0 };
    const prefix = opts.namePrefix ?? `load-${hex(3)}`;
    const before = this.stats.emitted;
    let k = 0;
    /** One event: the next step of the next slot's lifecycle (a new one in an empty slot). */
    const step = () => {
      const j = k++ % slots.length;
      const s = slots[j];
      if (!s) {
        const id = this.createContainer({
          name: `${prefix}-${result.lifecycles++}`,
          Image: opts.image ?? this.images[0]?.RepoTags[0] ?? 'local/busybox:1',
          Cmd: ['sleep', 'infinity'],
          Labels: opts.labels,
        });
        slots[j] = { id, step: 1 };
        return;
      }
      const c = this.containers.get(s.id);
      if (!c) {
        slots[j] = undefined; // removed by someone else meanwhile
        return step();
      }
      if (s.step === 1) this.run(c);
      else if (s.step === 2) this.exited(c, 0);
      else this.destroy(c);
      s.step++;
      if (s.step > 3) slots[j] = undefined;
    };
    const finish = () => {
      for (let j = 0; j < slots.length; j++) {
        while (slots[j]) {
          k = j;
          step();
        }
      }
    };
    return new Promise((resolve) => {
      const started = performance.now();
      let done = 0;
      const end = () => {
        finish();
        result.emitted = this.stats.emitted - before;
        if (result.emitted > 0) result.lastTimeNano = this.lastNano.toString();
        resolve(result);
      };
      const tick = () => {
        if (this.stopped || opts.signal?.aborted) return end();
        const due = Math.min(total, Math.floor(((performance.now() - started) * eventsPerSecond) / 1000) + 1);
        while (done < due) {
          step();
          // (each step publishes exactly one event: the clock's last value is its timeNano)
          if (done++ === 0) result.firstTimeNano = this.lastNano.toString();
        }
        if (done >= total) return end();
        const nextAt = started + (done * 1000) / eventsPerSecond;
        this.later(Math.max(0, nextAt - performance.now()), tick);
      };
      if (total === 0) return end();
      tick();
    });
  }

  // ---------------------------------------------------------------------------------- HTTP

  private later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
    return t;
  }

  private clearExitTimer(c: SimContainer): void {
    if (!c.exitTimer) return;
    clearTimeout(c.exitTimer);
    this.timers.delete(c.exitTimer);
    c.exitTimer = undefined;
  }

  private headers(extra: Record<string, string | number> = {}): Record<string, string | number> {
    const version = this.options.serverVersion ?? '20.10.24+sim';
    return { 'Api-Version': this.apiVersion, 'Docker-Experimental': 'false', Ostype: 'linux', Server: `Docker/${version} (linux)`, ...extra };
  }

  private json(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body) + '\n';
    res.writeHead(status, this.headers({ 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }));
    res.end(text);
  }

  private empty(res: http.ServerResponse, status: number): void {
    res.writeHead(status, this.headers());
    res.end();
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.stats.requests++;
    try {
      const url = new URL(req.url ?? '/', 'http://sim');
      let p = url.pathname;
      const version = /^\/v(\d+\.\d+)(\/.*)$/.exec(p);
      if (version) {
        const [maj, min] = version[1].split('.').map(Number);
        const [maxMaj, maxMin] = this.apiVersion.split('.').map(Number);
        const [minMaj, minMin] = SIM_MIN_API_VERSION.split('.').map(Number);
        if (maj > maxMaj || (maj === maxMaj && min > maxMin)) throw new DockerError(400, `client version ${version[1]} is too new. Maximum supported API version is ${this.apiVersion}`);
        if (maj < minMaj || (maj === minMaj && min < minMin))
          throw new DockerError(400, `client version ${version[1]} is too old. Minimum supported API version is ${SIM_MIN_API_VERSION}, please upgrade your client to a newer version`);
        p = version[2];
      }
      const method = req.method === 'HEAD' && p === '/_ping' ? 'HEAD' : (req.method ?? 'GET');
      for (const r of this.routes) {
        if (r.method !== method && !(r.method === 'GET' && method === 'HEAD')) continue;
        const m = r.pattern.exec(p);
        if (!m) continue;
        await r.handle(
          req,
          res,
          url,
          m.slice(1).map((s) => decodeURIComponent(s)),
        );
        return;
      }
      // dockerd's answer to a route it does not have (no Api-Version header)
      const text = '{"message":"page not found"}\n';
      res.writeHead(404, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof DockerError) {
        if (err.status === 304) return this.empty(res, 304);
        return this.json(res, err.status, { message: err.message });
      }
      this.json(res, 500, { message: (err as Error).message ?? String(err) });
    }
  }

  private readBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) {
          reject(new DockerError(400, 'request body too large'));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (!text.trim()) return resolve({});
        try {
          const v = JSON.parse(text) as unknown;
          if (!v || typeof v !== 'object' || Array.isArray(v)) return reject(new DockerError(400, 'invalid JSON: not an object'));
          resolve(v as Record<string, unknown>);
        } catch (err) {
          reject(new DockerError(400, `invalid JSON: ${(err as Error).message}`));
        }
      });
      req.on('error', reject);
    });
  }

  private info(): Record<string, unknown> {
    let running = 0;
    let paused = 0;
    for (const c of this.containers.values()) {
      if (c.state === 'running') running++;
      else if (c.state === 'paused') paused++;
    }
    const o = this.options;
    return {
      ID: this.id,
      Containers: this.containers.size,
      ContainersRunning: running,
      ContainersPaused: paused,
      ContainersStopped: this.containers.size - running - paused,
      Images: this.images.length,
      Driver: 'overlay2',
      DriverStatus: [],
      MemoryLimit: true,
      SwapLimit: true,
      Debug: false,
      NFd: 20 + this.sockets.size,
      NGoroutines: 40 + this.subscribers.size,
      SystemTime: rfc3339Nano(nowNanos()),
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: o.cgroupVersion ?? '2',
      NEventsListener: this.subscribers.size,
      KernelVersion: o.kernelVersion ?? '6.1.0-sim',
      OperatingSystem: o.operatingSystem ?? 'Simulated Linux',
      OSVersion: '12',
      OSType: 'linux',
      Architecture: 'x86_64',
      IndexServerAddress: 'https://index.docker.io/v1/',
      NCPU: o.ncpu ?? 2,
      MemTotal: o.memTotal ?? 8 * 1024 * 1024 * 1024,
      DockerRootDir: '/var/lib/docker',
      Name: this.name,
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: o.serverVersion ?? '20.10.24+sim',
      Runtimes: { runc: { path: 'runc' } },
      DefaultRuntime: 'runc',
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: false,
      Isolation: '',
      SecurityOptions: ['name=seccomp,profile=default'],
      Warnings: null,
    };
  }

  private version(): Record<string, unknown> {
    const v = this.options.serverVersion ?? '20.10.24+sim';
    const details = {
      ApiVersion: this.apiVersion,
      Arch: 'amd64',
      Experimental: 'false',
      GitCommit: 'sim',
      GoVersion: 'go1.19.8',
      KernelVersion: this.options.kernelVersion ?? '6.1.0-sim',
      MinAPIVersion: SIM_MIN_API_VERSION,
      Os: 'linux',
    };
    return {
      Platform: { Name: '' },
      Components: [{ Name: 'Engine', Version: v, Details: details }],
      Version: v,
      ApiVersion: this.apiVersion,
      MinAPIVersion: SIM_MIN_API_VERSION,
      GitCommit: 'sim',
      GoVersion: 'go1.19.8',
      Os: 'linux',
      Arch: 'amd64',
      KernelVersion: details.KernelVersion,
      BuildTime: '2026-01-01T00:00:00.000000000+00:00',
    };
  }

  private imageSummary(i: SimImage & { Id: string }): Record<string, unknown> {
    return {
      Containers: -1,
      Created: i.Created ?? 1_700_000_000,
      Id: i.Id,
      Labels: i.Labels ?? null,
      ParentId: '',
      RepoDigests: null,
      RepoTags: i.RepoTags,
      SharedSize: -1,
      Size: i.Size ?? 0,
      VirtualSize: i.Size ?? 0,
    };
  }

  /** GET /events: replay from the ring, then live, under one synchronous step (no gap, no duplicate at the seam). */
  private events(res: http.ServerResponse, url: URL): void {
    const since = parseEventTime(url.searchParams.get('since'));
    const until = parseEventTime(url.searchParams.get('until'));
    const filters = parseFilters(url.searchParams.get('filters'));
    const now = nowNanos();
    if (until !== null && since !== null && until < since) {
      throw new DockerError(400, `\`since\` time (${url.searchParams.get('since')}) cannot be after \`until\` time (${url.searchParams.get('until')})`);
    }
    const onlyPast = until !== null && until < now;
    res.writeHead(200, this.headers({ 'Content-Type': 'application/json' }));
    res.flushHeaders();
    const replay = this.ring.replay(since, until, (e) => eventIncluded(filters, e));
    for (const e of replay) res.write(e.line);
    if (onlyPast) {
      res.end();
      return;
    }
    const sub: Subscriber = { res, filters };
    if (until !== null) sub.timer = this.later(Number((until - now) / 1_000_000n) + 1, () => this.unsubscribe(sub, true));
    this.subscribers.add(sub);
    this.subscriberWaiters.splice(0).forEach((w) => w());
    // (the response's close: the request's fires as soon as its empty body was read)
    res.on('close', () => this.unsubscribe(sub));
  }

  private unsubscribe(s: Subscriber, end = false): void {
    if (!this.subscribers.delete(s)) return;
    if (s.timer) {
      clearTimeout(s.timer);
      this.timers.delete(s.timer);
    }
    if (end && !s.res.writableEnded) s.res.end();
  }

  private buildRoutes(): Route[] {
    const c = '/containers/([^/]+)';
    const t = (url: URL) => {
      const raw = url.searchParams.get('t');
      if (raw === null || raw === '') return undefined;
      const n = Number(raw);
      if (!Number.isInteger(n)) throw new DockerError(400, `invalid value for t: ${raw}`);
      return n;
    };
    return [
      {
        method: 'HEAD',
        pattern: /^\/_ping$/,
        handle: (_req, res) => {
          res.writeHead(
            200,
            this.headers({ 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache', 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 0, Swarm: 'inactive' }),
          );
          res.end();
        },
      },
      {
        method: 'GET',
        pattern: /^\/_ping$/,
        handle: (_req, res) => {
          res.writeHead(
            200,
            this.headers({ 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache', 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 2, Swarm: 'inactive' }),
          );
          res.end('OK');
        },
      },
      { method: 'GET', pattern: /^\/version$/, handle: (_req, res) => this.json(res, 200, this.version()) },
      { method: 'GET', pattern: /^\/info$/, handle: (_req, res) => this.json(res, 200, this.info()) },
      { method: 'GET', pattern: /^\/events$/, handle: (_req, res, url) => this.events(res, url) },
      {
        method: 'GET',
        pattern: /^\/containers\/json$/,
        handle: (_req, res, url) => this.json(res, 200, this.listContainers(boolParam(url.searchParams.get('all')), parseFilters(url.searchParams.get('filters')))),
      },
      {
        method: 'POST',
        pattern: /^\/containers\/create$/,
        handle: async (req, res, url) => {
          const body = await this.readBody(req);
          const id = this.createContainer({ ...(body as SimContainerSpec), name: url.searchParams.get('name') ?? undefined });
          this.json(res, 201, { Id: id, Warnings: [] });
        },
      },
      { method: 'GET', pattern: new RegExp(`^${c}/json$`), handle: (_req, res, _url, [id]) => this.json(res, 200, this.inspectContainer(id)) },
      {
        method: 'POST',
        pattern: new RegExp(`^${c}/start$`),
        handle: (_req, res, _url, [id]) => {
          this.startContainer(id);
          this.empty(res, 204);
        },
      },
      {
        method: 'POST',
        pattern: new RegExp(`^${c}/stop$`),
        handle: async (_req, res, url, [id]) => {
          await this.stopContainer(id, t(url));
          this.empty(res, 204);
        },
      },
      {
        method: 'POST',
        pattern: new RegExp(`^${c}/restart$`),
        handle: async (_req, res, url, [id]) => {
          await this.restartContainer(id, t(url));
          this.empty(res, 204);
        },
      },
      {
        method: 'POST',
        pattern: new RegExp(`^${c}/kill$`),
        handle: (_req, res, url, [id]) => {
          this.killContainer(id, url.searchParams.get('signal') ?? undefined);
          this.empty(res, 204);
        },
      },
      {
        method: 'POST',
        pattern: new RegExp(`^${c}/pause$`),
        handle: (_req, res, _url, [id]) => {
          this.pauseContainer(id);
          this.empty(res, 204);
        },
      },
      {
        method: 'POST',
        pattern: new RegExp(`^${c}/unpause$`),
        handle: (_req, res, _url, [id]) => {
          this.unpauseContainer(id);
          this.empty(res, 204);
        },
      },
      {
        method: 'DELETE',
        pattern: new RegExp(`^${c}$`),
        handle: (_req, res, url, [id]) => {
          this.removeContainer(id, boolParam(url.searchParams.get('force')));
          this.empty(res, 204);
        },
      },
      {
        method: 'GET',
        pattern: /^\/images\/json$/,
        handle: (_req, res) =>
          this.json(
            res,
            200,
            this.images.map((i) => this.imageSummary(i)),
          ),
      },
      {
        method: 'GET',
        pattern: /^\/images\/(.+)\/json$/,
        handle: (_req, res, _url, [ref]) => {
          const i = this.findImage(ref);
          if (!i) throw new DockerError(404, `No such image: ${ref}`);
          this.json(res, 200, {
            Id: i.Id,
            RepoTags: i.RepoTags,
            RepoDigests: [],
            Parent: '',
            Comment: '',
            Created: new Date((i.Created ?? 1_700_000_000) * 1000).toISOString(),
            Config: { Cmd: i.Cmd ?? null, Env: i.Env ?? null, Labels: i.Labels ?? null },
            Architecture: 'amd64',
            Os: 'linux',
            Size: i.Size ?? 0,
            VirtualSize: i.Size ?? 0,
            RootFS: { Type: 'layers', Layers: [] },
          });
        },
      },
      { method: 'GET', pattern: /^\/networks$/, handle: (_req, res) => this.json(res, 200, PREDEFINED_NETWORKS) },
      {
        method: 'GET',
        pattern: /^\/networks\/([^/]+)$/,
        handle: (_req, res, _url, [ref]) => {
          const n = PREDEFINED_NETWORKS.find((x) => x.Name === ref || x.Id === ref || (ref.length >= 3 && x.Id.startsWith(ref)));
          if (!n) throw new DockerError(404, `network ${ref} not found`);
          this.json(res, 200, n);
        },
      },
      { method: 'GET', pattern: /^\/volumes$/, handle: (_req, res) => this.json(res, 200, { Volumes: [], Warnings: null }) },
      {
        method: 'GET',
        pattern: /^\/volumes\/([^/]+)$/,
        handle: (_req, _res, _url, [name]) => {
          throw new DockerError(404, `get ${name}: no such volume`);
        },
      },
    ];
  }
}

const network = (name: string, driver: string) => ({
  Name: name,
  Id: createHash('sha256').update(`sim-network-${name}`).digest('hex'),
  Created: '2026-01-01T00:00:00Z',
  Scope: 'local',
  Driver: driver,
  EnableIPv6: false,
  IPAM: { Driver: 'default', Options: null, Config: [] },
  Internal: false,
  Attachable: false,
  Ingress: false,
  ConfigFrom: { Network: '' },
  ConfigOnly: false,
  Containers: {},
  Options: {},
  Labels: {},
});

/** The networks every engine has. */
const PREDEFINED_NETWORKS = [network('bridge', 'bridge'), network('host', 'host'), network('none', 'null')];
