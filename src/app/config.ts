import path from 'node:path';
import {
  Config,
  DEFAULT_INSTANCE_QUOTA_MAX,
  DEFAULT_JWT_MAX_LIFETIME_SECONDS,
  DEFAULT_VAULT_TIMEOUT_MS,
  DEV_JWT_SECRET,
  InstanceQuotaCeiling,
  parseDurationSeconds,
  parseLimits,
  VaultConfig,
} from '../kernel/config';
import { EMPTY_ALLOW_LIST, EndpointAllowList, loadEndpointAllowList, parseEndpointAllowList } from '../kernel/addresses';
import { parseBindRoots } from '../platform/policy/host-access';

/** Reads the environment into a Config (every variable is listed in ENV_VARS); a malformed value throws at startup. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const production = env.NODE_ENV === 'production';
  const dataDir = path.resolve(env.FLEETGRAPH_DATA_DIR || '.data');
  const jwt = {
    secret: env.FLEETGRAPH_JWT_SECRET || (production || env.FLEETGRAPH_JWKS_URL ? undefined : DEV_JWT_SECRET),
    jwksUrl: env.FLEETGRAPH_JWKS_URL || undefined,
    issuer: env.FLEETGRAPH_JWT_ISSUER || undefined,
    audience: env.FLEETGRAPH_JWT_AUDIENCE || undefined,
    maxLifetimeSeconds: env.FLEETGRAPH_JWT_MAX_LIFETIME ? parseDurationSeconds(env.FLEETGRAPH_JWT_MAX_LIFETIME, 'FLEETGRAPH_JWT_MAX_LIFETIME') : DEFAULT_JWT_MAX_LIFETIME_SECONDS,
  };
  if (!jwt.secret && !jwt.jwksUrl) {
    throw new Error('FLEETGRAPH_JWT_SECRET or FLEETGRAPH_JWKS_URL must be set in production');
  }
  if (jwt.secret && Buffer.byteLength(jwt.secret) < 32) {
    throw new Error('FLEETGRAPH_JWT_SECRET must be at least 32 bytes');
  }
  const config: Config = {
    production,
    port: env.PORT !== undefined ? Number(env.PORT) : 4000,
    host: env.HOST || '0.0.0.0',
    logLevel: env.LOG_LEVEL || (production ? 'info' : 'debug'),
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    dataDir,
    jwt,
    encryption: { key: env.FLEETGRAPH_ENCRYPTION_KEY || undefined, keyId: env.FLEETGRAPH_ENCRYPTION_KEY_ID || 'k1', oldKeys: env.FLEETGRAPH_ENCRYPTION_OLD_KEYS || undefined },
    workers: env.FLEETGRAPH_WORKERS !== 'false',
    endpointAllow: loadEndpointAllowList(env.FLEETGRAPH_ENDPOINT_ALLOW, production),
    hostAccess: { bindRoots: parseBindRoots(env.FLEETGRAPH_HOST_BIND_ROOTS) },
    limits: parseLimits(env.FLEETGRAPH_LIMITS),
    sync: { retryBaseMs: 1000 },
    vault: loadVaultConfig(env),
    callbackAllow: loadCallbackAllowList(env.FLEETGRAPH_CALLBACK_ALLOW),
    instanceQuotaMax: loadInstanceQuotaMax(env),
    ...overrides,
  };
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) {
    throw new Error(`PORT must be an integer between 0 and 65535, got ${env.PORT}`);
  }
  return config;
}

/**
 * FLEETGRAPH_INSTANCE_QUOTA_MAX_CONCURRENT / _MEMORY_MB / _CPU_MILLICORES: the ceiling of every
 * account's instance quota; each unset one takes its default (never unbounded). A value that is
 * not a whole number >= 1 stops the start.
 */
function loadInstanceQuotaMax(env: NodeJS.ProcessEnv): InstanceQuotaCeiling {
  const read = (name: string, raw: string | undefined, fallback: number): number => {
    if (raw === undefined || raw.trim() === '') return fallback;
    const n = Number(raw.trim());
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a whole number >= 1`);
    return n;
  };
  return {
    concurrent: read('FLEETGRAPH_INSTANCE_QUOTA_MAX_CONCURRENT', env.FLEETGRAPH_INSTANCE_QUOTA_MAX_CONCURRENT, DEFAULT_INSTANCE_QUOTA_MAX.concurrent),
    memoryMb: read('FLEETGRAPH_INSTANCE_QUOTA_MAX_MEMORY_MB', env.FLEETGRAPH_INSTANCE_QUOTA_MAX_MEMORY_MB, DEFAULT_INSTANCE_QUOTA_MAX.memoryMb),
    cpuMillicores: read('FLEETGRAPH_INSTANCE_QUOTA_MAX_CPU_MILLICORES', env.FLEETGRAPH_INSTANCE_QUOTA_MAX_CPU_MILLICORES, DEFAULT_INSTANCE_QUOTA_MAX.cpuMillicores),
  };
}

/** Vault role names as Vault accepts them in a path (framework.GenericNameRegex). */
const VAULT_ROLE = /^\w(?:[\w.-]*\w)?$/;

/**
 * The Vault section: absent without VAULT_ADDR. With it, the address must be an http(s) URL
 * without credentials and a token must come from VAULT_TOKEN or FLEETGRAPH_VAULT_TOKEN_FILE
 * (the file wins: it is the more specific, rotating source).
 */
function loadVaultConfig(env: NodeJS.ProcessEnv): VaultConfig | undefined {
  if (!env.VAULT_ADDR) return undefined;
  let url: URL;
  try {
    url = new URL(env.VAULT_ADDR);
  } catch {
    throw new Error('VAULT_ADDR must be a URL such as https://vault.example:8200');
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.username || url.password) throw new Error('VAULT_ADDR must be an http(s) URL without credentials');
  const tokenFile = env.FLEETGRAPH_VAULT_TOKEN_FILE || undefined;
  const token = env.VAULT_TOKEN || undefined;
  if (!tokenFile && !token) throw new Error('VAULT_ADDR is set: set VAULT_TOKEN or FLEETGRAPH_VAULT_TOKEN_FILE too');
  const tokenRole = env.FLEETGRAPH_VAULT_TOKEN_ROLE || undefined;
  if (tokenRole && !VAULT_ROLE.test(tokenRole)) throw new Error('FLEETGRAPH_VAULT_TOKEN_ROLE must be a Vault role name (letters, digits, _, - and .)');
  return {
    addr: `${url.origin}${url.pathname.replace(/\/+$/, '')}`,
    token: tokenFile ? undefined : token,
    tokenFile,
    namespace: env.VAULT_NAMESPACE || undefined,
    tokenRole,
    requestTimeoutMs: DEFAULT_VAULT_TIMEOUT_MS,
    accountPolicies: loadAccountPolicies(env.FLEETGRAPH_VAULT_ACCOUNT_POLICIES),
  };
}

/** FLEETGRAPH_VAULT_ACCOUNT_POLICIES: a JSON object of account name → Vault policy names, e.g. {"acme": ["acme-reports"]}. */
function loadAccountPolicies(value: string | undefined): Record<string, string[]> {
  if (!value || value.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error('FLEETGRAPH_VAULT_ACCOUNT_POLICIES must be JSON such as {"acme": ["acme-reports"]}');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('FLEETGRAPH_VAULT_ACCOUNT_POLICIES must be a JSON object of account name → policy names');
  const out: Record<string, string[]> = {};
  for (const [account, policies] of Object.entries(parsed as Record<string, unknown>)) {
    if (!Array.isArray(policies) || !policies.every((p) => typeof p === 'string' && p.length > 0 && p.length <= 128)) {
      throw new Error(`FLEETGRAPH_VAULT_ACCOUNT_POLICIES: "${account.slice(0, 100)}" must list policy names`);
    }
    out[account] = policies as string[];
  }
  return out;
}

/**
 * FLEETGRAPH_CALLBACK_ALLOW: non-public addresses (CIDR, address, address:port) task callbacks
 * may go to; unset, empty or "none": public addresses only, in every environment. Sockets make
 * no sense for a URL and are refused.
 */
function loadCallbackAllowList(value: string | undefined): EndpointAllowList {
  if (!value || value.trim() === '' || value.trim() === 'none') return EMPTY_ALLOW_LIST;
  let list: EndpointAllowList;
  try {
    list = parseEndpointAllowList(value);
  } catch (err) {
    throw new Error((err as Error).message.replace('FLEETGRAPH_ENDPOINT_ALLOW', 'FLEETGRAPH_CALLBACK_ALLOW'));
  }
  if (list.sockets.length || list.socketDirs.length) throw new Error('FLEETGRAPH_CALLBACK_ALLOW lists addresses only (no unix: entries)');
  return list;
}
