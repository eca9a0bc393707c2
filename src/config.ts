import path from 'node:path';

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
  'FLEETGRAPH_ENCRYPTION_KEY',
  'FLEETGRAPH_ENCRYPTION_KEY_ID',
  'FLEETGRAPH_ENCRYPTION_OLD_KEYS',
  'FLEETGRAPH_WORKERS',
  'VAULT_ADDR',
  'VAULT_TOKEN',
] as const;

export type EnvName = (typeof ENV_VARS)[number];

export interface Limits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  maxPageSize: number;
  maxBodyBytes: number;
  maxWsPayloadBytes: number;
  maxSubscriptionsPerConnection: number;
}

export interface Config {
  production: boolean;
  port: number;
  host: string;
  logLevel: string;
  databaseUrl?: string;
  redisUrl?: string;
  dataDir: string;
  jwt: { secret?: string; jwksUrl?: string; issuer?: string; audience?: string };
  encryption: { key?: string; keyId: string; oldKeys?: string };
  /** Run background workers (host supervisors). Off for API-only replicas and some tests. */
  workers: boolean;
  limits: Limits;
  /** Host supervision: first retry delay after a failure (doubles per failure, capped at the sync interval). */
  sync: { retryBaseMs: number };
  vault: { addr?: string; token?: string };
}

export const DEFAULT_LIMITS: Limits = {
  maxDepth: 12,
  maxAliases: 30,
  maxCost: 5000,
  maxPageSize: 100,
  maxBodyBytes: 1024 * 1024,
  maxWsPayloadBytes: 256 * 1024,
  maxSubscriptionsPerConnection: 100,
};

/** Development-only secret used when FLEETGRAPH_JWT_SECRET is unset outside production. */
export const DEV_JWT_SECRET = 'fleetgraph-development-secret-change-me-0123456789';

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const production = env.NODE_ENV === 'production';
  const dataDir = path.resolve(env.FLEETGRAPH_DATA_DIR || '.data');
  const jwt = {
    secret: env.FLEETGRAPH_JWT_SECRET || (production || env.FLEETGRAPH_JWKS_URL ? undefined : DEV_JWT_SECRET),
    jwksUrl: env.FLEETGRAPH_JWKS_URL || undefined,
    issuer: env.FLEETGRAPH_JWT_ISSUER || undefined,
    audience: env.FLEETGRAPH_JWT_AUDIENCE || undefined,
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
    limits: { ...DEFAULT_LIMITS },
    sync: { retryBaseMs: 1000 },
    vault: { addr: env.VAULT_ADDR || undefined, token: env.VAULT_TOKEN || undefined },
    ...overrides,
  };
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) {
    throw new Error(`PORT must be an integer between 0 and 65535, got ${env.PORT}`);
  }
  return config;
}
