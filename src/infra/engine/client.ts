import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { inspect } from 'node:util';
import Docker from 'dockerode';
import { AppError, ErrorCode, badInput } from '../../kernel/errors';
import { ENDPOINT_ALLOW_ENV, EndpointPolicy, normalSocketPath, parseAddress } from '../../kernel/addresses';
import { resolveHost } from '../dns';
import { currentBounds, loadedTooMuch, spend } from '../../kernel/operation';

export interface TlsCredentials {
  ca?: string;
  cert?: string;
  key?: string;
}

/** Credentials as given (null, or all three empty: none). */
export function credentialsOf(creds: TlsCredentials | null | undefined): TlsCredentials | undefined {
  return creds && (creds.ca || creds.cert || creds.key) ? creds : undefined;
}

export interface Endpoint {
  kind: 'unix' | 'tcp';
  socketPath?: string;
  host?: string;
  port?: number;
  /** https when TLS is used. */
  tls: boolean;
}

/** The Engine API version we speak (Debian 12's docker.io 20.10 serves 1.41). */
export const DOCKER_API_VERSION = 'v1.41';

/**
 * Parses and validates a host's apiEndpoint. unix:///path, tcp://host:port (TLS when tlsVerify),
 * http://host:port (never TLS), https://host:port (always TLS). Says nothing about whether the
 * endpoint is allowed: that is assertEndpointAllowed's (the operator's allow-list).
 */
export function parseEndpoint(apiEndpoint: string, tlsVerify: boolean, field = 'apiEndpoint'): Endpoint {
  let url: URL;
  try {
    url = new URL(apiEndpoint);
  } catch {
    throw badInput(field, 'must be a URL such as unix:///var/run/docker.sock, tcp://10.0.0.10:2376 or https://docker.example.com:2376');
  }
  if (url.username || url.password) throw badInput(field, 'must not contain credentials');
  switch (url.protocol) {
    case 'unix:': {
      let socketPath: string;
      try {
        socketPath = decodeURIComponent(url.pathname);
      } catch {
        throw badInput(field, 'unix endpoints look like unix:///var/run/docker.sock');
      }
      if (!normalSocketPath(socketPath) || socketPath.endsWith('/') || url.host || url.search || url.hash) throw badInput(field, 'unix endpoints look like unix:///var/run/docker.sock');
      return { kind: 'unix', socketPath, tls: false };
    }
    case 'tcp:':
    case 'http:':
    case 'https:': {
      if (!url.hostname) throw badInput(field, 'needs a host name');
      if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) throw badInput(field, 'must not have a path');
      const tls = url.protocol === 'https:' || (url.protocol === 'tcp:' && tlsVerify);
      if (url.protocol === 'http:' && tlsVerify) throw badInput('tlsVerify', 'cannot be used with an http:// endpoint; use https:// or tcp://');
      const port = url.port ? Number(url.port) : tls ? 2376 : 2375;
      return { kind: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port, tls };
    }
    default:
      throw badInput(field, `scheme ${url.protocol.replace(':', '')} is not supported (use unix, tcp, http or https)`);
  }
}

// ------------------------------------------------------------------------------------------------
// Failure reasons: what lastError and DOCKER_UNREACHABLE say about an endpoint. A closed set: never
// a body, a message or a path that came back from (or is about) the endpoint.
// ------------------------------------------------------------------------------------------------

export const FAILURE_REASONS = [
  'connection refused',
  'connection timed out',
  'connection reset',
  'host unreachable',
  'name not resolved',
  'socket not found',
  'permission denied',
  'TLS handshake failed',
  'certificate not trusted',
  'TLS required by the endpoint',
  'not a Docker engine',
  'endpoint not allowed',
  'engine is registered by another account',
  'connection failed',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/**
 * A refusal of fleetgraph's own (FORBIDDEN, nothing is sent or stored): the endpoint is not on the
 * operator's allow-list, or the engine behind it belongs to another account. Permanent until
 * the settings change: supervisors put the host or cluster in ERROR at once.
 */
export class EndpointRefused extends AppError {
  constructor(
    readonly reason: 'endpoint not allowed' | 'engine is registered by another account',
    field = 'apiEndpoint',
  ) {
    super(
      ErrorCode.FORBIDDEN,
      reason === 'endpoint not allowed'
        ? `${field}: not allowed: unix sockets and loopback, link-local, private and other non-public addresses must be listed by the operator in ${ENDPOINT_ALLOW_ENV}`
        : `${field}: this Docker engine is registered by another account`,
      { field, reason },
    );
  }
}

/** The endpoint answered, but not as a Docker engine does (or demands TLS): DOCKER_UNREACHABLE with a fixed reason. */
export class EngineAnswerError extends AppError {
  constructor(readonly reason: 'not a Docker engine' | 'TLS required by the endpoint') {
    super(ErrorCode.DOCKER_UNREACHABLE, `Docker host unreachable: ${reason}`, { reason });
  }
}

/** The fixed reason of an error thrown on the way to an endpoint (network, TLS, policy, answer). */
export function describeNetworkError(err: unknown): FailureReason {
  if (err instanceof EndpointRefused || err instanceof EngineAnswerError) return err.reason;
  const e = err as { code?: string; message?: string } | undefined;
  const code = e?.code ?? '';
  const msg = e?.message ?? '';
  // the daemon's alerts (no or a foreign client certificate), protocol mismatches
  if (/^ERR_SSL|^EPROTO$/.test(code) || /alert|bad certificate|certificate required|handshake|wrong version number|EPROTO/i.test(msg)) return 'TLS handshake failed';
  // our check of the daemon's certificate (CA, name, validity)
  if (/^(CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_TLS_CERT)/.test(code) || /self[- ]signed|unable to verify|unable to get|altname|certificate has expired/i.test(msg))
    return 'certificate not trusted';
  if (/^ERR_TLS/.test(code)) return 'TLS handshake failed';
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ETIMEDOUT':
    case 'ESOCKETTIMEDOUT':
    case 'ABORT_ERR':
      return 'connection timed out';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return 'host unreachable';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NODATA':
      return 'name not resolved';
    // only sockets on the operator's allow-list are ever opened: their existence is no secret
    case 'ENOENT':
    case 'ENOTSOCK':
      return 'socket not found';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
  }
  if (/timed? ?out/i.test(msg)) return 'connection timed out';
  if (/socket hang up/i.test(msg)) return 'connection reset';
  return 'connection failed';
}

// ------------------------------------------------------------------------------------------------
// Connect-time policy: every connection (API calls, streams, exec) goes through a guarded agent
// ------------------------------------------------------------------------------------------------

/** A socket path must be allowed both as written and as its real path (a symlink below an allowed directory cannot lead out). */
async function socketTarget(policy: EndpointPolicy, socketPath: string): Promise<{ path: string }> {
  if (!policy.allowsSocket(socketPath)) throw new EndpointRefused('endpoint not allowed');
  const real = await fs.promises.realpath(socketPath);
  if (real !== socketPath && !policy.allowsSocket(real) && !(await allowedAsRealPath(policy, real))) throw new EndpointRefused('endpoint not allowed');
  return { path: real };
}

/** A name is resolved here and every address it has must be allowed; the first is the one connected to. */
async function resolveAllowed(policy: EndpointPolicy, host: string, port: number): Promise<string> {
  const addresses = await resolveHost(host);
  if (addresses.length === 0) throw Object.assign(new Error('not resolved'), { code: 'ENOTFOUND' });
  if (!addresses.every((a) => policy.allowsAddress(a.address, port))) throw new EndpointRefused('endpoint not allowed');
  return addresses[0].address;
}

/** An allow-list entry may itself go through a symlink (/var/run → /run): compare real paths too. */
async function allowedAsRealPath(policy: EndpointPolicy, real: string): Promise<boolean> {
  const { sockets, socketDirs } = policy.allow;
  const realOf = (p: string) => fs.promises.realpath(p).catch(() => null);
  for (const s of sockets) if ((await realOf(s)) === real) return true;
  for (const d of socketDirs) {
    const r = await realOf(d);
    if (r && real.startsWith(r.endsWith('/') ? r : `${r}/`)) return true;
  }
  return false;
}

/** Time to open a connection (TCP connect, or TLS handshake done); a slow daemon answer is not bounded by it. */
export const CONNECT_TIMEOUT_MS = 5000;

/**
 * Bounds the time to connect, and only that. docker-modem's own `connectionTimeout` runs until
 * the response headers arrive, so it cut off a `stop` or `restart` that waits for a container's
 * grace period (Docker answers only when the container has stopped) although Docker went on
 * and completed it.
 */
function boundConnect(socket: net.Socket): void {
  const ready = socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect';
  const timer = setTimeout(() => socket.destroy(Object.assign(new Error('connection timed out'), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS);
  timer.unref();
  const done = () => clearTimeout(timer);
  socket.once(ready, done);
  socket.once('close', done);
}

type CreateConnection = (options: object, cb?: (err: Error | null, socket?: net.Socket) => void) => net.Socket | undefined;

/**
 * Makes every connection of `agent` pass the endpoint policy, decided for the address actually
 * connected to (asynchronously: Node's Agent takes a callback). A host name is resolved once per
 * connection (options.pin, shared by its clients) and the checked address is kept: every later connection goes to that same address, so
 * neither DNS rebinding between a check and a connect nor a name that changes its answer between
 * the identity check and later calls can lead the client elsewhere.
 */
function guardAgent<A extends http.Agent>(agent: A, options: ClientOptions): A {
  const { policy } = options;
  // every client: a streaming one (no maximum for its streams) still has its error answers capped
  capResponses(agent, options.maxResponseBytes ?? Number.POSITIVE_INFINITY);
  const target = agent as unknown as { createConnection: CreateConnection };
  const connect = target.createConnection.bind(agent);
  const pin = options.pin ?? {};
  const where = async (options: { socketPath?: string; host?: string; port?: number | string }): Promise<{ path: string } | { host: string }> => {
    if (options.socketPath) return socketTarget(policy, options.socketPath);
    const host = String(options.host ?? '');
    const port = Number(options.port);
    if (net.isIP(host)) {
      if (!policy.allowsAddress(host, port)) throw new EndpointRefused('endpoint not allowed');
      return { host };
    }
    if (!pin.address) {
      const resolving = resolveAllowed(policy, host, port);
      pin.address = resolving;
      // a failed resolution is not kept
      resolving.catch(() => {
        if (pin.address === resolving) pin.address = undefined;
      });
    }
    return { host: await pin.address };
  };
  // docker-modem formats every request's options, agent included, with util.inspect(showHidden,
  // depth: null) for its debug log, even when that log is off: a keep-alive agent with its sockets
  // took milliseconds of CPU per Docker call. The agent inspects as a short tag instead.
  Object.defineProperty(agent, inspect.custom, { value: () => '[fleetgraph guarded agent]', configurable: true });
  target.createConnection = (options, cb) => {
    where(options as never).then(
      (to) => {
        let socket: net.Socket | undefined;
        try {
          socket = connect({ ...options, ...to });
        } catch (err) {
          return cb?.(err as Error);
        }
        if (socket) boundConnect(socket);
        cb?.(null, socket);
      },
      (err: Error) => cb?.(err),
    );
    return undefined;
  };
  return agent;
}

/**
 * Checks an endpoint before anything is stored: a socket or an IP address (in any notation) on the
 * spot, a host name by resolving it now (when it resolves; the connect-time check holds anyway).
 * Throws EndpointRefused (FORBIDDEN on `field`).
 */
export async function assertEndpointAllowed(policy: EndpointPolicy, endpoint: Endpoint, field = 'apiEndpoint'): Promise<void> {
  if (endpoint.kind === 'unix') {
    if (!policy.allowsSocket(endpoint.socketPath!)) throw new EndpointRefused('endpoint not allowed', field);
    return;
  }
  const literal = parseAddress(endpoint.host!);
  if (literal) {
    if (!policy.allowsAddress(endpoint.host!, endpoint.port!)) throw new EndpointRefused('endpoint not allowed', field);
    return;
  }
  const addresses = await resolveHost(endpoint.host!).catch(() => []);
  if (!addresses.every((a) => policy.allowsAddress(a.address, endpoint.port!))) throw new EndpointRefused('endpoint not allowed', field);
}

// ------------------------------------------------------------------------------------------------
// Clients
// ------------------------------------------------------------------------------------------------

export interface ClientOptions {
  /** Decides every connection the client makes. */
  policy: EndpointPolicy;
  /** Idle timeout for requests (ms); undefined for streaming clients (events, logs). */
  timeoutMs?: number;
  /**
   * Largest answer the client reads (bytes), for clients of non-streaming calls: docker-modem
   * reads such an answer whole into memory, so a hostile endpoint could fill the heap.
   */
  maxResponseBytes?: number;
  /**
   * Shared by the clients of one connection (api and stream): the host name is resolved once for
   * all of them, so the engine whose identity was checked through one client is the engine the
   * others reach (a name answering differently per lookup can't lead one client elsewhere).
   */
  pin?: AddressPin;
}

/** The checked address a host name resolved to, shared by the clients of one connection. */
export interface AddressPin {
  address?: Promise<string>;
}

/** Answers of non-streaming calls larger than this are cut off (a list of 10,000 containers is ~30 MiB). */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** The error code of an answer cut off at maxResponseBytes (mapped by src/infra/engine/errors.ts). */
export const RESPONSE_TOO_LARGE = 'ERESPONSETOOLARGE';

/**
 * Error answers are cut off at this size on every client, streaming ones too: docker-modem reads
 * an error answer whole into one string (a streaming call's too), and an endless one would grow
 * it until the process dies. Docker's own error answers are a short JSON message.
 */
export const ERROR_ANSWER_MAX_BYTES = 64 * 1024;

/**
 * Destroys any answer that grows past maxBytes, and any error answer (status 400 or more) past
 * ERROR_ANSWER_MAX_BYTES (each request of the agent, counted on its own).
 * A request made within a live read of a query or mutation (runBounded, src/kernel/operation.ts)
 * also counts its answer against the operation's loadable bytes, and is cancelled when the
 * operation's signal aborts (deadline, client gone) instead of running on unobserved.
 */
function capResponses(agent: http.Agent, maxBytes: number): void {
  const target = agent as unknown as { addRequest: (req: http.ClientRequest, options: object) => void };
  const add = target.addRequest.bind(agent);
  target.addRequest = (req, opts) => {
    const op = currentBounds();
    const signal = op?.signal;
    if (signal) {
      const cancel = () => req.destroy(signal.reason as Error);
      if (signal.aborted) queueMicrotask(cancel);
      else {
        signal.addEventListener('abort', cancel, { once: true });
        req.once('close', () => signal.removeEventListener('abort', cancel));
      }
    }
    // attached before docker-modem's own 'response' handler (the agent sees the request first)
    req.once('response', (res: http.IncomingMessage) => {
      let seen = 0;
      const cap = (res.statusCode ?? 0) >= 400 ? Math.min(maxBytes, ERROR_ANSWER_MAX_BYTES) : maxBytes;
      // a stream (no maximum, nothing to count) is left alone: a 'data' listener would start it flowing
      // before its consumer attaches, and the first chunks (often all of a short log) would be lost
      if (cap === Number.POSITIVE_INFINITY && !op?.loadable) return;
      res.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > cap) {
          const tooLarge = Object.assign(new Error(`answer larger than ${cap} bytes`), { code: RESPONSE_TOO_LARGE, limit: cap });
          // docker-modem listens on the answer of a streaming call (there the first error wins) and on the
          // request of the others; the answer emits nothing to no listener
          if (res.listenerCount('error') > 0) res.destroy(tooLarge);
          else req.destroy(tooLarge);
        }
        // cut off while it is still arriving; an answer already complete (its socket back in the pool,
        // where an error would go unhandled) is refused by boundedRead once the call returns
        else if (!spend(op?.loadable, chunk.length) && !res.complete) req.destroy(loadedTooMuch(op!.loadable!.max));
      });
    });
    add(req, opts);
  };
}

/** Environment variables docker-modem reads in its constructor (defaultOpts). */
const DOCKER_ENV = ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_CLIENT_TIMEOUT', 'DOCKER_PATH_PREFIX'] as const;

/**
 * Runs `fn` (synchronous) with docker-modem's environment variables hidden. Passing explicit
 * undefined options is not enough: with DOCKER_HOST=tcp://… and DOCKER_CERT_PATH set, the
 * Modem constructor reads <DOCKER_CERT_PATH>/{ca,cert,key}.pem before looking at its options
 * and throws when they are missing, so no client at all could be built (not even a unix one).
 * Synchronous, so no other code observes the environment without them.
 */
function withoutDockerEnv<T>(fn: () => T): T {
  const saved = DOCKER_ENV.map((k) => [k, process.env[k]] as const).filter(([, v]) => v !== undefined); // env-scan: hides
  for (const [k] of saved) delete process.env[k]; // env-scan: hides
  try {
    return fn();
  } finally {
    for (const [k, v] of saved) process.env[k] = v; // env-scan: hides
  }
}

/**
 * Builds a dockerode client from explicit settings only. docker-modem merges DOCKER_HOST,
 * DOCKER_TLS_VERIFY, DOCKER_CERT_PATH and DOCKER_CLIENT_TIMEOUT from the environment into
 * whatever options it gets, and silently falls back to plain HTTP unless ca, cert and key are
 * all set; so the environment is hidden while the client is built, every field is given here
 * (undefined wins over the environment in Object.assign), and TLS is configured through our own
 * https.Agent. Every client has its own agent, guarded by the endpoint policy.
 */
export function createDockerClient(endpoint: Endpoint, tlsVerify: boolean, creds: TlsCredentials | undefined, options: ClientOptions): Docker {
  const base = {
    socketPath: undefined as string | undefined,
    host: undefined as string | undefined,
    port: undefined as number | undefined,
    protocol: undefined as 'http' | 'https' | undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
    pathPrefix: '/',
    username: undefined,
    password: undefined,
    timeout: options.timeoutMs,
    // connect time is bounded in guardAgent (boundConnect), not by docker-modem's connectionTimeout
    connectionTimeout: undefined,
    version: DOCKER_API_VERSION,
    agent: undefined as http.Agent | undefined,
  };
  if (endpoint.kind === 'unix') {
    const agent = guardAgent(new http.Agent({ keepAlive: true }), options);
    return withoutDockerEnv(() => new Docker({ ...base, socketPath: endpoint.socketPath, agent } as Docker.DockerOptions));
  }
  if (!endpoint.tls) {
    const agent = guardAgent(new http.Agent({ keepAlive: true }), options);
    return withoutDockerEnv(() => new Docker({ ...base, host: endpoint.host, port: endpoint.port, protocol: 'http', agent } as Docker.DockerOptions));
  }
  if (tlsVerify && (!creds?.ca || !creds.cert || !creds.key)) {
    // Never let a TLS-verified host degrade to plain HTTP or to an unauthenticated client.
    throw new AppError(ErrorCode.BAD_USER_INPUT, 'tlsCredentials: ca, cert and key are all required when tlsVerify is true', { field: 'tlsCredentials' });
  }
  const agent = guardAgent(
    new https.Agent({
      keepAlive: true,
      ca: creds?.ca,
      cert: creds?.cert,
      key: creds?.key,
      rejectUnauthorized: tlsVerify,
    }),
    options,
  );
  return withoutDockerEnv(() => new Docker({ ...base, host: endpoint.host, port: endpoint.port, protocol: 'https', agent } as Docker.DockerOptions));
}

/** Closes a client's connections (its own agent). */
export function destroyClient(client: Docker): void {
  (client.modem as unknown as { agent?: { destroy?: () => void } }).agent?.destroy?.();
}

// ------------------------------------------------------------------------------------------------
// Engine identity: what the endpoint says it is, read with bounded requests before anything else
// ------------------------------------------------------------------------------------------------

/** What an engine says it is (`docker info`), the keys of its ownership claims. */
export interface EngineIdentity {
  /** `docker info` ID. */
  engineId: string;
  /** Swarm cluster id, when the engine is a swarm manager. */
  swarmId?: string;
  /** Swarm node ids: its own, the managers it knows, and (a manager) every node of the swarm. */
  nodeIds: string[];
}

const INFO_MAX_BYTES = 1024 * 1024;
const NODES_MAX_BYTES = 16 * 1024 * 1024;
const MAX_NODES = 10_000;
/** Docker ids: engine ids (UUIDs, or the older "ABCD:EFGH:…"), swarm and node ids (base32). */
const ID = /^[A-Za-z0-9][A-Za-z0-9:_.-]{0,199}$/;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One GET through a client's own (guarded) agent, reading at most maxBytes of the answer. */
function engineGet(client: Docker, apiPath: string, maxBytes: number, timeoutMs: number): Promise<Answer> {
  const m = client.modem as unknown as { socketPath?: string; host?: string; port?: number; protocol: string; agent: http.Agent };
  const transport = m.protocol === 'https' ? https : http;
  return new Promise((resolve, reject) => {
    // a total deadline, not an idle one: an endpoint that drips bytes is given up too
    const timer = setTimeout(() => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), timeoutMs);
    const done =
      <T>(fn: (v: T) => void) =>
      (v: T) => {
        clearTimeout(timer);
        fn(v);
      };
    resolve = done(resolve);
    reject = done(reject);
    const req = transport.request(
      { socketPath: m.socketPath, host: m.host, port: m.port, path: `/${DOCKER_API_VERSION}${apiPath}`, method: 'GET', agent: m.agent, headers: { accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            req.destroy();
            return reject(new EngineAnswerError('not a Docker engine'));
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The JSON object of a Docker answer, or EngineAnswerError. */
function dockerJson(a: Answer): Record<string, unknown> {
  if (a.status === 400 && a.body.includes('HTTP request to an HTTPS server')) throw new EngineAnswerError('TLS required by the endpoint');
  // Docker sets Api-Version on every answer and answers JSON
  if (a.status !== 200 || !a.headers['api-version'] || !/^application\/json/.test(a.headers['content-type'] ?? '')) throw new EngineAnswerError('not a Docker engine');
  try {
    const v = JSON.parse(a.body.toString('utf8')) as unknown;
    if (v && typeof v === 'object') return v as Record<string, unknown>;
  } catch {
    // below
  }
  throw new EngineAnswerError('not a Docker engine');
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && ID.test(v) ? v : undefined);

/**
 * Reads what the endpoint says it is: `docker info` (its ID; swarm node id, cluster id and the
 * managers it knows) and, on a swarm manager, the ids of every node. Bounded in size and time;
 * throws EngineAnswerError ("not a Docker engine") when the answer is not Docker's, and the raw
 * network error when there is no answer (map it with describeNetworkError).
 */
export async function readEngineIdentity(client: Docker, timeoutMs: number): Promise<EngineIdentity> {
  const info = dockerJson(await engineGet(client, '/info', INFO_MAX_BYTES, timeoutMs));
  const engineId = str(info.ID);
  if (!engineId) throw new EngineAnswerError('not a Docker engine');
  const swarm = (info.Swarm ?? {}) as { LocalNodeState?: unknown; NodeID?: unknown; ControlAvailable?: unknown; Cluster?: { ID?: unknown } | null; RemoteManagers?: unknown };
  const nodeIds = new Set<string>();
  let swarmId: string | undefined;
  if (swarm.LocalNodeState === 'active') {
    const own = str(swarm.NodeID);
    if (own) nodeIds.add(own);
    for (const m of Array.isArray(swarm.RemoteManagers) ? swarm.RemoteManagers.slice(0, MAX_NODES) : []) {
      const id = str((m as { NodeID?: unknown })?.NodeID);
      if (id) nodeIds.add(id);
    }
    if (swarm.ControlAvailable === true) {
      swarmId = str(swarm.Cluster?.ID);
      // without quorum the manager cannot list nodes: what info said is all there is then
      const nodes = await engineGet(client, '/nodes', NODES_MAX_BYTES, timeoutMs).catch(() => undefined);
      if (nodes?.status === 200) {
        try {
          const list = JSON.parse(nodes.body.toString('utf8')) as unknown;
          for (const n of Array.isArray(list) ? list.slice(0, MAX_NODES) : []) {
            const id = str((n as { ID?: unknown })?.ID);
            if (id) nodeIds.add(id);
          }
        } catch {
          // not a node list: ignored
        }
      }
    }
  }
  return { engineId, swarmId, nodeIds: [...nodeIds] };
}
