import type { EndpointAllowList } from './addresses';

/** A host directory operators open to bind mounts (FLEETGRAPH_HOST_BIND_ROOTS). */
export interface BindRoot {
  path: string;
  readWrite: boolean;
}

/** Every environment variable the API reads, in one place (docker-compose.yml is checked against this list). */
export const ENV_VARS = [
  'NODE_ENV',
  'PORT',
  'HOST',
  'LOG_LEVEL',
  'DATABASE_URL',
  'REDIS_URL',
  'FLEETGRAPH_DATA_DIR',
  'FLEETGRAPH_JWT_SECRET',
  'FLEETGRAPH_JWKS_URL',
  'FLEETGRAPH_JWT_ISSUER',
  'FLEETGRAPH_JWT_AUDIENCE',
  'FLEETGRAPH_JWT_MAX_LIFETIME',
  'FLEETGRAPH_ENCRYPTION_KEY',
  'FLEETGRAPH_ENCRYPTION_KEY_ID',
  'FLEETGRAPH_ENCRYPTION_OLD_KEYS',
  'FLEETGRAPH_WORKERS',
  'FLEETGRAPH_ENDPOINT_ALLOW',
  'FLEETGRAPH_HOST_BIND_ROOTS',
  'FLEETGRAPH_LIMITS',
  'VAULT_ADDR',
  'VAULT_TOKEN',
  'VAULT_NAMESPACE',
  'FLEETGRAPH_VAULT_TOKEN_FILE',
  'FLEETGRAPH_VAULT_TOKEN_ROLE',
  'FLEETGRAPH_VAULT_ACCOUNT_POLICIES',
  'FLEETGRAPH_CALLBACK_ALLOW',
  'FLEETGRAPH_INSTANCE_QUOTA_MAX_CONCURRENT',
  'FLEETGRAPH_INSTANCE_QUOTA_MAX_MEMORY_MB',
  'FLEETGRAPH_INSTANCE_QUOTA_MAX_CPU_MILLICORES',
] as const;

export type EnvName = (typeof ENV_VARS)[number];

/** Request limits (src/server/limits.ts, src/server/rate-limit.ts); FLEETGRAPH_LIMITS overrides any of them. */
export interface Limits {
  maxDepth: number;
  maxAliases: number;
  /** Largest price of an operation (src/server/limits.ts): 1 per field, dockerCallCost per live Docker call, each multiplied by the lists it sits in. */
  maxCost: number;
  maxPageSize: number;
  maxBodyBytes: number;
  maxWsPayloadBytes: number;
  maxSubscriptionsPerConnection: number;
  /** Lexical tokens a document may have (checked while parsing, before validation). */
  maxTokens: number;
  /** Directives a document may use (counted through fragments). */
  maxDirectives: number;
  /** Times one response name may be selected in one selection set (validation compares them pairwise). */
  maxFieldRepeats: number;
  /** Items assumed for a list field that is not a connection (Docker lists, stacks, tasks) when pricing a query. */
  listSize: number;
  /** Price of one live call to Docker (a field marked with @Extensions({ dockerCalls })), in cost units. */
  dockerCallCost: number;
  /** Deadline of an HTTP request: past it the request is answered with TIMEOUT and its live Docker reads are abandoned. */
  requestTimeoutMs: number;
  /**
   * Longest one database statement may run, on every pooled connection (PostgreSQL's
   * statement_timeout): one past it is cancelled, and a request that waited on it answers
   * SERVICE_UNAVAILABLE. Migrations run without it.
   */
  statementTimeoutMs: number;
  /**
   * Bytes one query or mutation may load: the answers of its live Docker calls and its large
   * stored fields (instance output, compose files, deployment specs). Past it the call or field
   * fails with QUERY_TOO_COMPLEX (limit loadedBytes); what was loaded before stays in the answer.
   */
  maxLoadedBytes: number;
  /** Bytes a WebSocket may have unsent before a subscription delivering to it is ended as too slow. */
  maxWsBufferedBytes: number;
  /** Open WebSocket connections per account (per replica). */
  maxConnectionsPerAccount: number;
  /** Active subscriptions per account over all its connections (per replica). */
  maxSubscriptionsPerAccount: number;
  /** HTTP requests, WS connection inits and WS subscribe messages per minute per account (per address when anonymous). */
  requestsPerMinute: number;
}

export interface Config {
  production: boolean;
  port: number;
  host: string;
  logLevel: string;
  databaseUrl?: string;
  redisUrl?: string;
  dataDir: string;
  /** maxLifetimeSeconds: the longest `exp - iat` a token may have (tokens without exp are refused). */
  jwt: { secret?: string; jwksUrl?: string; issuer?: string; audience?: string; maxLifetimeSeconds: number };
  encryption: { key?: string; keyId: string; oldKeys?: string };
  /** Run background workers (host supervisors). Off for API-only replicas and some tests. */
  workers: boolean;
  /** Non-public Docker endpoints (unix sockets, loopback/private/link-local addresses) the operator allows (FLEETGRAPH_ENDPOINT_ALLOW). */
  endpointAllow: EndpointAllowList;
  /** Host directories containers may bind without docker.containers.privileged (FLEETGRAPH_HOST_BIND_ROOTS, `path[:ro|:rw]`, default none; src/platform/policy/host-access.ts). */
  hostAccess: { bindRoots: BindRoot[] };
  limits: Limits;
  /** Host supervision: first retry delay after a failure (doubles per failure, capped at the sync interval). */
  sync: { retryBaseMs: number };
  /** Vault for per-instance tokens (src/infra/vault.ts); absent when VAULT_ADDR is unset. */
  vault?: VaultConfig;
  /** Non-public addresses task callbacks may be sent to (FLEETGRAPH_CALLBACK_ALLOW, same syntax as FLEETGRAPH_ENDPOINT_ALLOW, addresses only); default none: public addresses only. */
  callbackAllow?: EndpointAllowList;
  /** Timings of container instances (src/modules/instances); defaults there. Not read from the environment (tests and embedders). */
  instances?: InstanceTuning;
  /**
   * The operator's ceiling of every account's instance quota (FLEETGRAPH_INSTANCE_QUOTA_MAX_*): an
   * account may set a lower quota, never a higher one, and without one the ceiling applies.
   */
  instanceQuotaMax?: InstanceQuotaCeiling;
}

/** The operator's ceiling of instance quotas (per account, instances at once). */
export interface InstanceQuotaCeiling {
  concurrent: number;
  memoryMb: number;
  cpuMillicores: number;
}

/** Used when FLEETGRAPH_INSTANCE_QUOTA_MAX_* are unset: quotas are never unbounded. */
export const DEFAULT_INSTANCE_QUOTA_MAX: InstanceQuotaCeiling = { concurrent: 50, memoryMb: 64 * 1024, cpuMillicores: 64_000 };

/** Overrides of container-instance timings (see DEFAULT_INSTANCE_OPTIONS in src/modules/instances/instances.ts). */
export interface InstanceTuning {
  sampleIntervalMs?: number;
  /** How long a wrap-up claim holds without renewal (its holder renews it while it works). */
  wrapUpLeaseMs?: number;
  /** Policy-refused instances kept per account (older ones are deleted; their audit rows stay). */
  refusedInstancesKept?: number;
  reapIntervalSeconds?: number;
  staleAfterMs?: number;
  hostLostAfterMs?: number;
  stopGraceSeconds?: number;
  callbackRetryDelaySeconds?: number;
  callbackRetryLimit?: number;
}

/** How fleetgraph reaches Vault. Its own token is a secret: never logged, never put in an error. */
export interface VaultConfig {
  /** VAULT_ADDR: http(s) origin of the Vault server. */
  addr: string;
  /** VAULT_TOKEN: fleetgraph's own token (the parent of every instance token). */
  token?: string;
  /** FLEETGRAPH_VAULT_TOKEN_FILE: a file holding the token, read on every call (a Vault Agent sink rotates it); wins over VAULT_TOKEN. */
  tokenFile?: string;
  /** VAULT_NAMESPACE (Vault Enterprise), sent as X-Vault-Namespace. */
  namespace?: string;
  /** FLEETGRAPH_VAULT_TOKEN_ROLE: instance tokens are created against auth/token/create/<role> when set. */
  tokenRole?: string;
  /** A Vault call that takes longer fails with VAULT_ERROR (an unreachable Vault must fail fast). */
  requestTimeoutMs: number;
  /** FLEETGRAPH_VAULT_ACCOUNT_POLICIES: the policies each account's instance tokens may carry (account name → names; `*`: every account). Default none. */
  accountPolicies?: Record<string, string[]>;
}

/** Default VaultConfig.requestTimeoutMs. */
export const DEFAULT_VAULT_TIMEOUT_MS = 5000;

/**
 * Most tasks one replicated service (or job) may ask for, through the API or a stack: the managers
 * create a task per replica in their raft store at once, so 10^9 replicas would exhaust them.
 */
export const MAX_SERVICE_REPLICAS = 1000;

/** Builds, pulls, pushes and execs one account may have running at a time, per replica (each holds a Docker stream and its buffers for its whole length). */
export const MAX_LONG_DOCKER_CALLS_PER_ACCOUNT = 8;

export const DEFAULT_LIMITS: Limits = {
  maxDepth: 12,
  maxAliases: 30,
  // a field costs 1 and a live Docker call 500 (src/server/limits.ts): at most ~100 Docker calls per
  // operation, and room for a 50-host × 100-container page with a few fields per container
  maxCost: 50_000,
  maxPageSize: 100,
  maxBodyBytes: 1024 * 1024,
  maxWsPayloadBytes: 256 * 1024,
  maxSubscriptionsPerConnection: 100,
  maxTokens: 2000,
  maxDirectives: 50,
  maxFieldRepeats: 20,
  listSize: 20,
  dockerCallCost: 500,
  requestTimeoutMs: 30_000,
  statementTimeoutMs: 30_000,
  maxLoadedBytes: 128 * 1024 * 1024,
  maxWsBufferedBytes: 16 * 1024 * 1024,
  maxConnectionsPerAccount: 50,
  maxSubscriptionsPerAccount: 1000,
  requestsPerMinute: 3000,
};

/** FLEETGRAPH_LIMITS: a JSON object of Limits fields, each a positive integer, e.g. {"maxCost":8000}. */
export function parseLimits(text: string | undefined): Limits {
  if (!text) return { ...DEFAULT_LIMITS };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('FLEETGRAPH_LIMITS must be a JSON object such as {"maxCost": 8000}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('FLEETGRAPH_LIMITS must be a JSON object');
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(parsed)) {
    if (!Object.hasOwn(DEFAULT_LIMITS, key)) throw new Error(`FLEETGRAPH_LIMITS: unknown limit "${key}" (known: ${Object.keys(DEFAULT_LIMITS).join(', ')})`);
    if (!Number.isSafeInteger(value) || (value as number) <= 0) throw new Error(`FLEETGRAPH_LIMITS: ${key} must be a positive integer`);
    limits[key as keyof Limits] = value as number;
  }
  return limits;
}

/** Default FLEETGRAPH_JWT_MAX_LIFETIME: 24 hours. */
export const DEFAULT_JWT_MAX_LIFETIME_SECONDS = 24 * 3600;

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "3600", "90s", "30m", "24h", "7d" → seconds (a positive integer); anything else throws. */
export function parseDurationSeconds(text: string, name: string): number {
  const m = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  const seconds = m ? Number(m[1]) * DURATION_UNITS[m[2] || 's'] : NaN;
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new Error(`${name} must be a duration such as 3600, 30m, 24h or 7d, got "${text}"`);
  return seconds;
}

/** Development-only secret used when FLEETGRAPH_JWT_SECRET is unset outside production. */
export const DEV_JWT_SECRET = 'fleetgraph-development-secret-change-me-0123456789';
