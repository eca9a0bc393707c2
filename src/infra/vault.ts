import { promises as fs } from 'node:fs';
import NodeVault from 'node-vault';
import { AppError, badInput, ErrorCode } from '../kernel/errors';
import type { VaultConfig } from '../kernel/config';

/**
 * fleetgraph's Vault client (node-vault 0.12 over axios): short-lived tokens for container
 * instances, their lookup and revocation by accessor, and Vault's health.
 *
 * Secrets: fleetgraph's own token and the tokens it creates never leave this file except as the
 * return value of createInstanceToken. Every failure is a fresh AppError(VAULT_ERROR) built from
 * Vault's `errors` array or a network error code; the library's errors (axios keeps the request
 * headers, hence the token, and the body on `config`) are never attached, wrapped or logged, and
 * any secret Vault (or a proxy) echoes back is cut out of the reason.
 */

/** What createInstanceToken needs; ttl and explicit max in seconds. */
export interface InstanceTokenRequest {
  /** Vault policies of the token; at least one, never "root" (an empty list would inherit fleetgraph's own). */
  policies: string[];
  /** Token TTL: the instance's timeout plus a grace period. */
  ttlSeconds: number;
  /** Hard ceiling (explicit_max_ttl), >= ttlSeconds; defaults to ttlSeconds. */
  explicitMaxTtlSeconds?: number;
  /** Token metadata (shown by lookups and written to Vault's audit log), e.g. { fleetgraph_instance: id }. */
  meta: Record<string, string>;
  /** Token role; defaults to the configured FLEETGRAPH_VAULT_TOKEN_ROLE. */
  role?: string;
  /** Vault shows it as "token-<displayName>". */
  displayName?: string;
  /** Leave out Vault's "default" policy (self lookup, cubbyhole). */
  noDefaultPolicy?: boolean;
}

export interface InstanceToken {
  /** The secret: hand it to the container, store nothing but the accessor. */
  token: string;
  accessor: string;
  /** The TTL Vault granted (it caps the request by the role's or mount's maximum). */
  leaseDurationSeconds: number;
  policies: string[];
  /** Vault's warnings (a capped TTL, an unknown policy). */
  warnings: string[];
}

export interface AccessorStatus {
  /** False once the token is past its expiry (Vault may answer for an instant before revoking it). */
  valid: boolean;
  /** Null for a token without expiry. */
  expireTime: Date | null;
  ttlSeconds: number;
  policies: string[];
  meta: Record<string, string>;
}

export interface VaultHealth {
  initialized: boolean;
  sealed: boolean;
  standby: boolean;
  version: string | null;
  /** Initialized, unsealed and active: token calls can succeed. */
  ready: boolean;
}

export interface VaultPort {
  createInstanceToken(request: InstanceTokenRequest): Promise<InstanceToken>;
  revokeAccessor(accessor: string): Promise<{ alreadyGone: boolean }>;
  lookupAccessor(accessor: string): Promise<AccessorStatus | null>;
  health(): Promise<VaultHealth>;
}

/** Vault's policy names as fleetgraph accepts them (an allow-list: no commas, spaces or globs). */
const POLICY_NAME = /^[a-z0-9][a-z0-9_.\-/]{0,127}$/i;
/** Accessors: base62 (with ".<namespace id>" in a namespace) or the UUIDs of Vault < 1.10. */
const ACCESSOR = /^[A-Za-z0-9][A-Za-z0-9.-]{0,127}$/;
/** Role names in a path (Vault's framework.GenericNameRegex). */
const ROLE_NAME = /^\w(?:[\w.-]*\w)?$/;
const META_KEY = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_META_ENTRIES = 32;
const MAX_META_VALUE = 512;
/** Vault's default max lease TTL is 768h; fleetgraph never asks for more. */
const MAX_TTL_SECONDS = 768 * 3600;
const MAX_REASON_LENGTH = 500;
const MAX_TOKEN_FILE_BYTES = 8192;
/** A token as an HTTP header value: visible ASCII only. */
const TOKEN_SHAPE = /^[\x21-\x7e]{1,4096}$/;
/** Network error codes and what they mean, for reasons (an allow-list: other codes are "request failed"). */
const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ECONNABORTED: 'timed out',
  ETIMEDOUT: 'timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'name resolution failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate does not match the host',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS certificate chain is self-signed',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate cannot be verified',
  CERT_HAS_EXPIRED: 'TLS certificate has expired',
};
/** Vault's answers meaning "this accessor's token is already gone" (see revokeAccessor). */
const GONE_REASONS = new Set(['invalid accessor', 'token not found']);
const NO_TOKEN_WARNING = 'No token found with this accessor';

/** A node-vault ApiResponseError: Vault answered with a status other than 200/204. */
interface VaultApiError {
  response: { statusCode: number; body: unknown };
}

export class VaultClient implements VaultPort {
  private readonly client: NodeVault.client;
  private readonly origin: string;

  constructor(private readonly config: VaultConfig) {
    this.origin = new URL(config.addr).origin;
    this.client = NodeVault({
      endpoint: config.addr,
      // axios timeout per request; strictSSL pinned so VAULT_SKIP_VERIFY in the environment can't turn TLS verification off
      requestOptions: { timeout: config.requestTimeoutMs, strictSSL: true },
      // node-vault's debug logger prints request bodies: never
      debug: () => undefined,
    });
    // node-vault falls back to VAULT_TOKEN, VAULT_NAMESPACE and VAULT_PREFIX from the process
    // environment; only the configuration counts (the token is sent per request, see send()).
    const mutable = this.client as unknown as { token: string; namespace?: string; pathPrefix: string };
    mutable.token = '';
    mutable.namespace = config.namespace;
    mutable.pathPrefix = '';
  }

  /**
   * A child token of fleetgraph's token for one instance: the given policies, `ttl`, an explicit
   * `explicit_max_ttl`, metadata naming the instance, and `renewable: false`.
   *
   * Not renewable: the instance's lifetime is known when the token is made (timeout + grace), so
   * nothing needs to renew it, and a renewable token would let the workload holding it keep it
   * alive (renew-self) after its instance ended if revocation failed. With renewable false the
   * token dies at its TTL whatever happens; explicit_max_ttl is the ceiling a token role's
   * defaults or a later renewal grant can't lift.
   *
   * A child (not an orphan) token: revoking or losing fleetgraph's own token revokes every
   * instance token with it, so none outlives the credential that made it. A token role can make
   * them orphans (`orphan=true`) where operators want that.
   */
  async createInstanceToken(request: InstanceTokenRequest): Promise<InstanceToken> {
    const body = this.createBody(request);
    const role = request.role ?? this.config.tokenRole;
    if (role !== undefined && !ROLE_NAME.test(role)) throw badInput('role', 'must be a Vault token role name');
    const path = role ? `auth/token/create/${role}` : 'auth/token/create';
    const answer = await this.send('create the instance token', (headers) => this.client.write(path, body, { headers }));
    const auth = (answer as { auth?: Record<string, unknown> } | undefined)?.auth;
    const token = auth?.client_token;
    const accessor = auth?.accessor;
    if (typeof token !== 'string' || typeof accessor !== 'string' || !TOKEN_SHAPE.test(token) || !ACCESSOR.test(accessor)) {
      throw vaultError('Vault answered the token request without a token and accessor', 'unexpected answer');
    }
    return {
      token,
      accessor,
      leaseDurationSeconds: Number(auth?.lease_duration) || 0,
      policies: stringList(auth?.policies),
      warnings: stringList((answer as { warnings?: unknown }).warnings).map((w) => this.scrub(w, [token])),
    };
  }

  /**
   * Revokes the token behind an accessor (and its children). Idempotent: a token Vault no longer
   * knows counts as revoked. Vault >= 1.10 answers that case 200 with the warning "No token found
   * with this accessor" (hashicorp/vault#13661); older Vault answers 400 "invalid accessor"
   * (hashicorp/vault#9636), and an accessor whose token expired but is not yet cleaned up gives
   * 400 "token not found" (token_store.go handleUpdateRevokeAccessor).
   */
  async revokeAccessor(accessor: string): Promise<{ alreadyGone: boolean }> {
    checkAccessor(accessor);
    try {
      const answer = await this.send('revoke the instance token', (headers) => this.client.write('auth/token/revoke-accessor', { accessor }, { headers }), GONE_REASONS);
      return { alreadyGone: stringList((answer as { warnings?: unknown } | undefined)?.warnings).includes(NO_TOKEN_WARNING) };
    } catch (err) {
      if (err instanceof GoneError) return { alreadyGone: true };
      throw err;
    }
  }

  /** The token behind an accessor, or null when Vault no longer knows it (400 "invalid accessor"). */
  async lookupAccessor(accessor: string): Promise<AccessorStatus | null> {
    checkAccessor(accessor);
    let answer: unknown;
    try {
      answer = await this.send('look up the instance token', (headers) => this.client.write('auth/token/lookup-accessor', { accessor }, { headers }), new Set(['invalid accessor']));
    } catch (err) {
      if (err instanceof GoneError) return null;
      throw err;
    }
    const data = (answer as { data?: Record<string, unknown> } | undefined)?.data;
    if (!data) throw vaultError('Vault answered the accessor lookup without data', 'unexpected answer');
    const expireTime = typeof data.expire_time === 'string' && !Number.isNaN(Date.parse(data.expire_time)) ? new Date(data.expire_time) : null;
    return {
      valid: expireTime === null || expireTime.getTime() > Date.now(),
      expireTime,
      ttlSeconds: Number(data.ttl) || 0,
      policies: stringList(data.policies),
      meta: stringMap(data.meta),
    };
  }

  /** GET sys/health (unauthenticated; node-vault resolves its 429/5xx bodies as answers). */
  async health(): Promise<VaultHealth> {
    const answer = await this.send('report its health', () => this.client.read('sys/health'), undefined, false);
    const body = answer as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || typeof body.sealed !== 'boolean') throw vaultError('Vault answered the health check with something else than its health', 'unexpected answer');
    const initialized = body.initialized === true;
    const standby = body.standby === true;
    return { initialized, sealed: body.sealed, standby, version: typeof body.version === 'string' ? body.version : null, ready: initialized && !body.sealed && !standby };
  }

  /** The create request body, validated (fail closed: nothing questionable reaches Vault). */
  private createBody(request: InstanceTokenRequest): Record<string, unknown> {
    if (!Array.isArray(request.policies) || request.policies.length === 0) throw badInput('policies', 'at least one Vault policy is required');
    for (const p of request.policies) {
      if (!POLICY_NAME.test(p)) throw badInput('policies', 'a Vault policy name has letters, digits, _, -, . and / only');
      if (['root', 'default'].includes(p.toLowerCase())) throw badInput('policies', `"${p}" is not a policy an instance token may ask for`);
    }
    const ttl = request.ttlSeconds;
    const max = request.explicitMaxTtlSeconds ?? ttl;
    if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS) throw badInput('ttlSeconds', `must be a whole number of seconds between 1 and ${MAX_TTL_SECONDS}`);
    if (!Number.isSafeInteger(max) || max < ttl || max > MAX_TTL_SECONDS) throw badInput('explicitMaxTtlSeconds', `must be a whole number of seconds between ttlSeconds and ${MAX_TTL_SECONDS}`);
    const entries = Object.entries(request.meta ?? {});
    if (entries.length > MAX_META_ENTRIES) throw badInput('meta', `at most ${MAX_META_ENTRIES} entries`);
    for (const [k, v] of entries) {
      if (!META_KEY.test(k) || typeof v !== 'string' || v.length > MAX_META_VALUE) throw badInput('meta', `keys are 1-64 of A-Z a-z 0-9 _ . -, values strings of at most ${MAX_META_VALUE} characters`);
    }
    const body: Record<string, unknown> = {
      policies: request.policies,
      ttl: `${ttl}s`,
      explicit_max_ttl: `${max}s`,
      renewable: false,
      meta: Object.fromEntries(entries),
    };
    if (request.displayName !== undefined) {
      if (!/^[A-Za-z0-9-]{1,64}$/.test(request.displayName)) throw badInput('displayName', 'letters, digits and - only, at most 64');
      body.display_name = request.displayName;
    }
    if (request.noDefaultPolicy) body.no_default_policy = true;
    return body;
  }

  /**
   * One Vault call with fleetgraph's token, under a deadline (axios's timeout covers connect and
   * idle sockets; this one also a response that trickles). Every failure becomes VAULT_ERROR,
   * except a reason listed in `gone`, which becomes GoneError for the caller to treat as success.
   */
  private async send(operation: string, call: (headers: Record<string, string>) => Promise<unknown>, gone?: Set<string>, authenticated = true): Promise<unknown> {
    const token = authenticated ? await this.ownToken() : '';
    const headers: Record<string, string> = authenticated ? { 'X-Vault-Token': token } : {};
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlineError()), this.config.requestTimeoutMs + 250);
      timer.unref();
    });
    try {
      return await Promise.race([call(headers), deadline]);
    } catch (err) {
      throw this.mapError(operation, err, token, gone);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Vault's refusal, a network failure or the deadline as VAULT_ERROR with a reason and never a secret. */
  private mapError(operation: string, err: unknown, token: string, gone?: Set<string>): Error {
    if (err instanceof DeadlineError) return vaultError(`Vault did not answer within ${this.config.requestTimeoutMs} ms (${operation})`, 'timed out');
    const response = (err as Partial<VaultApiError> | null)?.response;
    if (response && typeof response.statusCode === 'number') {
      const reasons = vaultReasons(response.body).map((r) => this.scrub(r, [token]));
      if (gone && reasons.length > 0 && reasons.every((r) => gone.has(r))) return new GoneError();
      const reason = bounded(reasons.join('; ') || `HTTP ${response.statusCode}`);
      return vaultError(`Vault refused to ${operation}: ${reason}`, reason, { vaultStatus: response.statusCode });
    }
    const code = (err as { code?: unknown } | null)?.code;
    const known = typeof code === 'string' ? NETWORK_CODES[code] : undefined;
    const reason = known ? `${known} (${code})` : typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? `request failed (${code})` : 'request failed';
    return vaultError(`Vault is unreachable at ${this.origin}: ${reason} (${operation})`, reason);
  }

  /** fleetgraph's token: the token file (read on every call, a Vault Agent sink rotates it) or VAULT_TOKEN. */
  private async ownToken(): Promise<string> {
    let token = this.config.token ?? '';
    if (this.config.tokenFile) {
      try {
        const handle = await fs.open(this.config.tokenFile, 'r');
        try {
          const { buffer, bytesRead } = await handle.read(Buffer.alloc(MAX_TOKEN_FILE_BYTES + 1), 0, MAX_TOKEN_FILE_BYTES + 1, 0);
          if (bytesRead > MAX_TOKEN_FILE_BYTES) throw vaultError('The Vault token file is larger than a token', 'token file too large');
          token = buffer.subarray(0, bytesRead).toString('utf8').trim();
        } finally {
          await handle.close();
        }
      } catch (err) {
        if (err instanceof AppError) throw err;
        const code = (err as { code?: unknown }).code;
        throw vaultError(`Cannot read the Vault token file ${this.config.tokenFile}`, `token file unreadable${typeof code === 'string' && /^[A-Z0-9_]{1,32}$/.test(code) ? ` (${code})` : ''}`);
      }
    }
    if (!TOKEN_SHAPE.test(token)) throw vaultError('fleetgraph has no usable Vault token (VAULT_TOKEN or FLEETGRAPH_VAULT_TOKEN_FILE)', 'no token');
    return token;
  }

  /** Cuts known secrets out of a text Vault sent back (a proxy may echo a request). */
  private scrub(text: string, secrets: string[]): string {
    let out = text;
    for (const s of [...secrets, this.config.token ?? '']) if (s.length >= 8) out = out.split(s).join('[redacted]');
    return out;
  }
}

/** The client for a configuration. */
export function createVaultClient(config: VaultConfig): VaultClient {
  return new VaultClient(config);
}

class DeadlineError extends Error {}
/** Vault said the token is already gone (handled by the caller as success). */
class GoneError extends Error {}

function vaultError(message: string, reason: string, extensions: Record<string, unknown> = {}): AppError {
  return new AppError(ErrorCode.VAULT_ERROR, message, { ...extensions, reason });
}

function checkAccessor(accessor: string): void {
  if (typeof accessor !== 'string' || !ACCESSOR.test(accessor)) throw badInput('accessor', 'is not a Vault token accessor');
}

/**
 * Vault's reasons from an error body `{"errors":["…"]}`. Vault puts a Go multierror whole in one
 * entry ("1 error occurred:\n\t* permission denied\n\n"); its items are taken out of it.
 */
export function vaultReasons(body: unknown): string[] {
  const errors = (body as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return [];
  const out: string[] = [];
  for (const e of errors.slice(0, 10)) {
    if (typeof e !== 'string') continue;
    const items = /^\d+ errors? occurred:\n/.test(e) ? [...e.matchAll(/^\t\* (.*)$/gm)].map((m) => m[1]) : [e];
    for (const item of items) {
      const clean = [...item]
        .map((c) => (c < ' ' || c === '\u007f' ? ' ' : c))
        .join('')
        .replace(/ +/g, ' ')
        .trim();
      if (clean) out.push(clean);
    }
  }
  return out;
}

function bounded(text: string): string {
  return text.length > MAX_REASON_LENGTH ? `${text.slice(0, MAX_REASON_LENGTH)}…` : text;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function stringMap(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
