import https from 'node:https';
import Docker from 'dockerode';
import { AppError, ErrorCode, badInput } from '../errors';

export interface TlsCredentials {
  ca?: string;
  cert?: string;
  key?: string;
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
 * http://host:port (never TLS), https://host:port (always TLS).
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
      const socketPath = decodeURIComponent(url.pathname);
      if (!socketPath.startsWith('/') || url.host) throw badInput(field, 'unix endpoints look like unix:///var/run/docker.sock');
      return { kind: 'unix', socketPath, tls: false };
    }
    case 'tcp:':
    case 'http:':
    case 'https:': {
      if (!url.hostname) throw badInput(field, 'needs a host name');
      if (url.pathname !== '/' && url.pathname !== '') throw badInput(field, 'must not have a path');
      const tls = url.protocol === 'https:' || (url.protocol === 'tcp:' && tlsVerify);
      if (url.protocol === 'http:' && tlsVerify) throw badInput('tlsVerify', 'cannot be used with an http:// endpoint; use https:// or tcp://');
      const port = url.port ? Number(url.port) : tls ? 2376 : 2375;
      return { kind: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port, tls };
    }
    default:
      throw badInput(field, `scheme ${url.protocol.replace(':', '')} is not supported (use unix, tcp, http or https)`);
  }
}

export interface ClientOptions {
  /** Idle timeout for requests (ms); undefined for streaming clients (events, logs). */
  timeoutMs?: number;
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
 * https.Agent.
 */
export function createDockerClient(endpoint: Endpoint, tlsVerify: boolean, creds: TlsCredentials | undefined, options: ClientOptions = {}): Docker {
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
    connectionTimeout: 5000,
    version: DOCKER_API_VERSION,
    agent: undefined as https.Agent | undefined,
  };
  if (endpoint.kind === 'unix') {
    return withoutDockerEnv(() => new Docker({ ...base, socketPath: endpoint.socketPath } as Docker.DockerOptions));
  }
  if (!endpoint.tls) {
    return withoutDockerEnv(() => new Docker({ ...base, host: endpoint.host, port: endpoint.port, protocol: 'http' } as Docker.DockerOptions));
  }
  if (tlsVerify && (!creds?.ca || !creds.cert || !creds.key)) {
    // Never let a TLS-verified host degrade to plain HTTP or to an unauthenticated client.
    throw new AppError(ErrorCode.BAD_USER_INPUT, 'tlsCredentials: ca, cert and key are all required when tlsVerify is true', { field: 'tlsCredentials' });
  }
  const agent = new https.Agent({
    keepAlive: true,
    ca: creds?.ca,
    cert: creds?.cert,
    key: creds?.key,
    rejectUnauthorized: tlsVerify,
  });
  return withoutDockerEnv(() => new Docker({ ...base, host: endpoint.host, port: endpoint.port, protocol: 'https', agent } as Docker.DockerOptions));
}

/** Network-level failures: the daemon could not be reached or the TLS handshake failed. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EPIPE',
  'ESOCKETTIMEDOUT',
  'EACCES',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

interface DockerodeError extends Error {
  statusCode?: number;
  json?: { message?: string } | string | null;
  reason?: string;
  code?: string;
}

/** Docker's own message from a dockerode error. */
export function dockerMessage(err: unknown): string {
  const e = err as DockerodeError;
  if (e?.json && typeof e.json === 'object' && e.json.message) return e.json.message;
  if (typeof e?.json === 'string' && e.json.trim()) return e.json.trim();
  return e?.message ?? String(err);
}

/**
 * Whether an error came from talking to Docker: Docker answered with an error status, or the
 * connection (socket, TCP, TLS) failed. Database errors and bugs are not Docker's and must not
 * be reported as DOCKER_ERROR (with, say, SQL text as "Docker's message").
 */
export function isDockerFailure(err: unknown): boolean {
  if (err instanceof AppError) return false;
  const e = err as DockerodeError;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.statusCode === 'number') return true;
  // MikroORM's DriverException family (UniqueConstraintViolationException, SyntaxErrorException, …)
  if (/Exception$/.test(e.name ?? '')) return false;
  const code = e.code ?? '';
  return UNREACHABLE.has(code) || /^E[A-Z]+$/.test(code) || /^ERR_(SSL|TLS)|CERT/.test(code) || /ECONN|socket hang up|timeout|certificate|SSL|TLS|EPROTO|HTTP request to an HTTPS server/i.test(e.message ?? '');
}

/**
 * Maps any error from a Docker call to DOCKER_ERROR (Docker answered with an error status; its
 * status and message are kept) or DOCKER_UNREACHABLE (no answer); AppErrors pass through.
 */
export function toDockerError(err: unknown, hostName?: string): AppError {
  if (err instanceof AppError) return err;
  const e = err as DockerodeError;
  if (typeof e?.statusCode === 'number') {
    const message = dockerMessage(err);
    return new AppError(ErrorCode.DOCKER_ERROR, `Docker: ${message}`, { dockerStatus: e.statusCode, dockerMessage: message });
  }
  const code = e?.code ?? '';
  const where = hostName ? ` (${hostName})` : '';
  if (UNREACHABLE.has(code) || /ECONN|socket hang up|timeout|certificate|SSL|TLS|EPROTO/i.test(e?.message ?? '')) {
    return new AppError(ErrorCode.DOCKER_UNREACHABLE, `Docker host unreachable${where}: ${describeNetworkError(e)}`, { reason: code || undefined });
  }
  return new AppError(ErrorCode.DOCKER_ERROR, `Docker: ${e?.message ?? String(err)}`);
}

/** A readable lastError for network and TLS failures. */
export function describeNetworkError(e: DockerodeError): string {
  const msg = e?.message ?? String(e);
  if (/bad certificate|certificate required|alert/i.test(msg)) return `TLS handshake refused by the daemon (client certificate missing or not trusted): ${msg}`;
  if (/self[- ]signed|unable to verify|UNABLE_TO_GET_ISSUER|altname/i.test(msg) || /CERT|SELF_SIGNED/.test(e?.code ?? '')) return `daemon certificate not trusted by the given CA: ${msg}`;
  if (e?.code === 'ECONNREFUSED') return `connection refused: ${msg}`;
  if (e?.code === 'ENOENT') return `socket not found: ${msg}`;
  return msg;
}
