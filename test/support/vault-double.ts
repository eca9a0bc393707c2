/**
 * A Vault HTTP double for tests (no Vault binary installs on these machines): a node:http server
 * on 127.0.0.1:<ephemeral> answering the part of Vault's API fleetgraph calls, with Vault's
 * semantics and error bodies, plus controls to take it down, make it refuse or hang, or seal it.
 *
 * Semantics follow Vault's source and API docs; each rule cites where it comes from:
 * - [TS]  vault/token_store.go (hashicorp/vault): handleCreateCommon, handleLookup,
 *         handleUpdateLookupAccessor, handleUpdateRevokeAccessor, lookupInternal, revokeTree.
 * - [TTL] sdk/framework/lease.go CalculateTTL (TTL capped by explicit_max_ttl, with a warning).
 * - [RU]  sdk/logical/response_util.go RespondErrorCommon / RespondError: `{"errors":["…"]}`,
 *         ErrorResponse → 400, ErrPermissionDenied → 403, ErrSealed → 503.
 * - [RH]  vault/request_handling.go fetchACLTokenEntryAndEntity: a missing or unknown client token
 *         is ErrPermissionDenied; since Vault 1.17 (hashicorp/vault#25953, documented in
 *         website/content/docs/concepts/tokens.mdx "Error Responses") a revoked, expired or
 *         bogus token also carries "invalid token".
 * - [API] https://developer.hashicorp.com/vault/api-docs/auth/token and
 *         https://developer.hashicorp.com/vault/api-docs/system/health
 *
 * Simplifications (documented, fail closed): ACL policies are path grants given to the double
 * (`policies`), every capability on a granted path; "sudo" means the root policy; batch tokens,
 * periodic tokens, entity aliases and custom ids are refused with a 400 naming the double.
 */
import http from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

/** A token role (POST auth/token/roles/:name in Vault), reduced to the fields the double honours. */
export interface VaultDoubleRole {
  allowedPolicies?: string[];
  disallowedPolicies?: string[];
  orphan?: boolean;
  /** Vault's role default is true [TS rolesPath "renewable" Default: true]. */
  renewable?: boolean;
  tokenExplicitMaxTtlSeconds?: number;
  tokenNumUses?: number;
}

export interface VaultDoubleOptions {
  /** The root token (VAULT_DEV_ROOT_TOKEN_ID); random when omitted. */
  rootToken?: string;
  /**
   * ACL policies by name: the API paths (relative to /v1/) each grants, a trailing `*` a prefix
   * glob as in Vault's HCL (`auth/token/create*`). "default" is built in (Vault's default policy
   * lets a token look itself up, renew and revoke itself); "root" grants everything.
   */
  policies?: Record<string, string[]>;
  roles?: Record<string, VaultDoubleRole>;
  /** The token mount's default lease TTL; Vault's system default is 768h. */
  defaultLeaseTtlSeconds?: number;
  /** The token mount's max lease TTL; Vault's system default is 768h. */
  maxLeaseTtlSeconds?: number;
  /**
   * revoke-accessor of an accessor Vault no longer knows: "warning" (Vault >= 1.10, 200 with the
   * warning "No token found with this accessor", hashicorp/vault#13661) or "invalid-accessor"
   * (older Vault: 400 "1 error occurred:\n\t* invalid accessor\n\n", hashicorp/vault#9636).
   */
  revokeUnknownAccessor?: 'warning' | 'invalid-accessor';
  version?: string;
  /** Clock in milliseconds (tests may drive expiry without sleeping). */
  now?: () => number;
}

/** What tokens() shows of a token: never the token itself. */
export interface VaultDoubleToken {
  accessor: string;
  policies: string[];
  /** The TTL the token was created with (seconds, 0 = never expires). */
  ttl: number;
  explicitMaxTtl: number;
  renewable: boolean;
  meta: Record<string, string> | null;
  displayName: string;
  numUses: number;
  orphan: boolean;
  parentAccessor: string | null;
  role: string | null;
  path: string;
  createdAt: Date;
  expireTime: Date | null;
  revoked: boolean;
  expired: boolean;
  valid: boolean;
}

/** One request the double received (the token and any token in a body are never recorded). */
export interface VaultDoubleCall {
  at: Date;
  method: string;
  path: string;
  status: number;
  /** Accessor of the X-Vault-Token the caller sent, when the double knows it. */
  callerAccessor: string | null;
  namespace: string | null;
  body: Record<string, unknown> | null;
}

interface TokenEntry {
  id: string;
  accessor: string;
  parent: TokenEntry | null;
  policies: string[];
  meta: Record<string, string> | null;
  displayName: string;
  /** Uses left; 0 = unlimited, -1 = used up (Vault's tokenRevocationPending) [TS UseToken]. */
  numUses: number;
  createdMs: number;
  ttl: number;
  explicitMaxTtl: number;
  renewable: boolean;
  path: string;
  role: string | null;
  revokedMs: number | null;
}

class VaultHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors.join('; '));
  }
}

/** Vault's default policy paths (the built-in "default" policy) relevant to the token store. */
const DEFAULT_POLICY_PATHS = ['auth/token/lookup-self', 'auth/token/renew-self', 'auth/token/revoke-self'];
/** [TS] nonAssignablePolicies. */
const NON_ASSIGNABLE = ['response-wrapping', 'control-group'];
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_CALLS = 1000;
const HOURS_768 = 768 * 3600;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** [TS] framework.GenericNameRegex("role_name"). */
const ROLE_NAME = /^\w(?:[\w.-]*\w)?$/;

/** Go's multierror text, which Vault puts whole into errors[0] for a multierror [RU RespondError]. */
export function multierror(...errors: string[]): string {
  return `${errors.length} error${errors.length === 1 ? '' : 's'} occurred:\n${errors.map((e) => `\t* ${e}`).join('\n')}\n\n`;
}

function base62(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += BASE62[b % 62];
  return out;
}

/** Go's time.Duration String() for whole seconds ("1h0m0s", "30s"), used in Vault's warnings [TTL]. */
export function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

const GO_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/**
 * go-secure-stdlib parseutil.ParseDurationSecond: an integer is seconds, "Nd" is days, anything
 * else goes through Go's time.ParseDuration ("90s", "1h30m"). Returns whole seconds.
 */
export function parseDurationSecond(raw: unknown): number {
  if (raw === undefined || raw === null || raw === '') return 0;
  if (typeof raw === 'number' && Number.isFinite(raw)) return Math.trunc(raw);
  if (typeof raw !== 'string') throw new VaultHttpError(400, ['could not parse duration from input']);
  if (/^[-+]?\d+$/.test(raw)) return Number(raw);
  const days = /^([-+]?\d+)d$/.exec(raw);
  if (days) return Number(days[1]) * 86400;
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(raw);
  if (!m) throw new VaultHttpError(400, [`time: invalid duration "${raw}"`]);
  let total = 0;
  for (const part of raw.replace(/^[-+]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * GO_UNITS[part[2]];
  return Math.trunc(m[1] === '-' ? -total : total);
}

/** [TS] policyutil.SanitizePolicies: trimmed, lower-cased, "root" alone, "default" added on request, sorted, unique. */
export function sanitizePolicies(policies: string[], addDefault: boolean): string[] {
  let out = policies.map((p) => p.trim().toLowerCase()).filter((p) => p !== '');
  if (out.includes('root')) out = ['root'];
  if (addDefault && !out.includes('root') && !out.includes('default')) out.push('default');
  return [...new Set(out)].sort();
}

/** mapstructure.WeakDecode of the create request [TS handleCreateCommon]: strings, numbers, bools convert; objects don't. */
function weakString(field: string, v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new VaultHttpError(400, [`Error decoding request: '${field}' expected type 'string', got unconvertible type`]);
}

function weakBool(field: string, v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string' && ['1', 't', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (typeof v === 'string' && ['0', 'f', 'false', 'FALSE', 'False', ''].includes(v)) return false;
  throw new VaultHttpError(400, [`Error decoding request: cannot parse '${field}' as bool`]);
}

function weakInt(field: string, v: unknown): number {
  if (v === undefined || v === null || v === '') return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^[-+]?\d+$/.test(v)) return Number(v);
  throw new VaultHttpError(400, [`Error decoding request: cannot parse '${field}' as int`]);
}

function weakStringList(field: string, v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map((x, i) => weakString(`${field}[${i}]`, x));
  return [weakString(field, v)];
}

function weakStringMap(field: string, v: unknown): Record<string, string> | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new VaultHttpError(400, [`Error decoding request: '${field}' expected a map, got unconvertible type`]);
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, weakString(`${field}[${k}]`, x)]));
}

/** Does one of the policies grant the API path (exact, or a `prefix*` glob)? "root" grants all. */
function grants(policyPaths: Record<string, string[]>, policies: string[], path: string): boolean {
  if (policies.includes('root')) return true;
  return policies.some((p) => (policyPaths[p] ?? []).some((g) => (g.endsWith('*') ? path.startsWith(g.slice(0, -1)) : path === g)));
}

export class VaultDouble {
  readonly rootToken: string;
  private readonly server: http.Server;
  private readonly byId = new Map<string, TokenEntry>();
  private readonly byAccessor = new Map<string, TokenEntry>();
  private readonly callLog: VaultDoubleCall[] = [];
  private readonly policyPaths: Record<string, string[]>;
  private readonly roles: Record<string, VaultDoubleRole>;
  private readonly now: () => number;
  private port = 0;
  private refusal: { status: number; reason: string } | null = null;
  private isSealed = false;
  private hanging = false;
  private delayMs = 0;
  private listening = false;

  private constructor(private readonly options: VaultDoubleOptions) {
    this.now = options.now ?? Date.now;
    this.policyPaths = { ...options.policies, default: [...DEFAULT_POLICY_PATHS, ...(options.policies?.default ?? [])] };
    this.roles = options.roles ?? {};
    this.rootToken = options.rootToken ?? `hvs.${base62(24)}`;
    // [TS rootToken]: policies ["root"], path auth/token/root, display name "root", no TTL, no parent
    this.store({
      id: this.rootToken,
      accessor: base62(24),
      parent: null,
      policies: ['root'],
      meta: null,
      displayName: 'root',
      numUses: 0,
      createdMs: this.now(),
      ttl: 0,
      explicitMaxTtl: 0,
      renewable: false,
      path: 'auth/token/root',
      role: null,
      revokedMs: null,
    });
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  /** Starts a double on 127.0.0.1 with an ephemeral port. */
  static async start(options: VaultDoubleOptions = {}): Promise<VaultDouble> {
    const double = new VaultDouble(options);
    await double.up();
    return double;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get rootAccessor(): string {
    return this.byId.get(this.rootToken)!.accessor;
  }

  /** Every request received so far (the last MAX_CALLS), oldest first. */
  get calls(): VaultDoubleCall[] {
    return [...this.callLog];
  }

  clearCalls(): void {
    this.callLog.length = 0;
  }

  /** Tokens created through the API (not the root token), without their ids. */
  tokens(): VaultDoubleToken[] {
    return [...this.byId.values()].filter((t) => t.id !== this.rootToken).map((t) => this.describe(t));
  }

  /** The token behind an accessor, as tokens() shows it; undefined when the double never issued it. */
  token(accessor: string): VaultDoubleToken | undefined {
    const t = this.byAccessor.get(accessor);
    return t ? this.describe(t) : undefined;
  }

  /** Connection refused: closes the listener and every open connection; tokens are kept. */
  async down(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** Listens again, on the same port after down(). */
  async up(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.listening = true;
  }

  /** Every request except sys/health is answered `status` with `{"errors":[reason]}` until accept(). */
  refuse(reason: string, status = 403): void {
    this.refusal = { status, reason };
  }

  accept(): void {
    this.refusal = null;
  }

  /** Sealed: sys/health answers 503 with sealed true, everything else 503 "Vault is sealed" [RU AdjustErrorStatusCode]. */
  sealed(on = true): void {
    this.isSealed = on;
  }

  /** Token creation answers only after `ms` (a slow Vault: the instance stays in PROVISIONING that long); 0 to stop. */
  slowCreate(ms: number): void {
    this.delayMs = ms;
  }

  /** Accepts connections and requests but never answers (a hung Vault or a black-holing proxy). */
  hang(on = true): void {
    this.hanging = on;
  }

  async close(): Promise<void> {
    await this.down();
  }

  // ------------------------------------------------------------------------------------------
  // Token store
  // ------------------------------------------------------------------------------------------

  private store(t: TokenEntry): TokenEntry {
    this.byId.set(t.id, t);
    this.byAccessor.set(t.accessor, t);
    return t;
  }

  private expireMs(t: TokenEntry): number | null {
    return t.ttl > 0 ? t.createdMs + t.ttl * 1000 : null;
  }

  /**
   * A token counts when it is not revoked, not past its TTL, not used up, and (unless it is an
   * orphan) its parent counts too: Vault revokes a token's children with it, and its expiry
   * revokes the tree [TS revokeTree, lookupInternal].
   */
  private live(t: TokenEntry | undefined): t is TokenEntry {
    for (let cur: TokenEntry | null | undefined = t; cur; cur = cur.parent) {
      const expire = this.expireMs(cur);
      if (cur.revokedMs !== null || cur.numUses < 0 || (expire !== null && this.now() >= expire)) return false;
    }
    return t !== undefined;
  }

  private describe(t: TokenEntry): VaultDoubleToken {
    const expire = this.expireMs(t);
    return {
      accessor: t.accessor,
      policies: [...t.policies],
      ttl: t.ttl,
      explicitMaxTtl: t.explicitMaxTtl,
      renewable: t.renewable,
      meta: t.meta ? { ...t.meta } : null,
      displayName: t.displayName,
      numUses: t.numUses,
      orphan: t.parent === null,
      parentAccessor: t.parent?.accessor ?? null,
      role: t.role,
      path: t.path,
      createdAt: new Date(t.createdMs),
      expireTime: expire === null ? null : new Date(expire),
      revoked: t.revokedMs !== null,
      expired: expire !== null && this.now() >= expire,
      valid: this.live(t),
    };
  }

  /** Revokes a token and every non-orphan descendant [TS revokeTreeInternal]. */
  private revokeTree(root: TokenEntry): void {
    const at = this.now();
    const stack = [root];
    while (stack.length > 0) {
      const t = stack.pop()!;
      if (t.revokedMs === null) t.revokedMs = at;
      for (const child of this.byId.values()) if (child.parent === t && child.revokedMs === null) stack.push(child);
    }
  }

  // ------------------------------------------------------------------------------------------
  // HTTP
  // ------------------------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://vault');
    const call: VaultDoubleCall = { at: new Date(this.now()), method: req.method ?? '', path: url.pathname, status: 0, callerAccessor: null, namespace: header(req, 'x-vault-namespace'), body: null };
    this.callLog.push(call);
    if (this.callLog.length > MAX_CALLS) this.callLog.shift();
    if (this.hanging) return; // the socket stays open until down()/close()
    if (this.delayMs > 0 && url.pathname.startsWith('/v1/auth/token/create')) await new Promise((r) => setTimeout(r, this.delayMs));
    let status: number;
    let body: unknown;
    try {
      [status, body] = await this.route(req, url, call);
    } catch (err) {
      const e = err instanceof VaultHttpError ? err : new VaultHttpError(500, [String((err as Error)?.message ?? err)]);
      [status, body] = [e.status, { errors: e.errors }];
    }
    call.status = status;
    if (body === undefined) {
      res.writeHead(status).end();
    } else {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' }).end(text);
    }
  }

  private async route(req: http.IncomingMessage, url: URL, call: VaultDoubleCall): Promise<[number, unknown]> {
    if (!url.pathname.startsWith('/v1/')) throw new VaultHttpError(404, []);
    const path = url.pathname.slice('/v1/'.length);
    const method = (req.method ?? 'GET').toUpperCase();
    if (path === 'sys/health') return this.health(method);
    const body = method === 'POST' || method === 'PUT' ? await readJson(req) : {};
    call.body = recordedBody(body);
    if (this.refusal) throw new VaultHttpError(this.refusal.status, [this.refusal.reason]);
    // [RH switchedLockHandleRequest] sealed before anything else; [RU] ErrSealed → 503
    if (this.isSealed) throw new VaultHttpError(503, ['Vault is sealed']);
    const caller = this.authenticate(req, call);
    const operation = method === 'GET' ? 'read' : method === 'POST' || method === 'PUT' ? 'update' : 'other';
    const handler = this.handlerFor(path, operation);
    if (!handler) throw new VaultHttpError(operation === 'other' ? 405 : 404, [operation === 'other' ? 'unsupported operation' : 'unsupported path']);
    // [RH CheckToken → performPolicyChecks]: a policy denial is a multierror holding "permission denied"
    if (!grants(this.policyPaths, caller.policies, path)) throw new VaultHttpError(403, [multierror('permission denied')]);
    this.use(caller);
    try {
      return handler(caller, body);
    } finally {
      if (caller.numUses < 0) this.revokeTree(caller); // [TS UseToken]: the last use revokes after the request
    }
  }

  /**
   * X-Vault-Token (or `Authorization: Bearer`). Missing: 403 "permission denied". Unknown, revoked
   * or expired: 403 with "permission denied" and "invalid token" [RH, hashicorp/vault#25953].
   */
  private authenticate(req: http.IncomingMessage, call: VaultDoubleCall): TokenEntry {
    const bearer = /^Bearer (.+)$/.exec(header(req, 'authorization') ?? '')?.[1];
    const token = header(req, 'x-vault-token') ?? bearer;
    if (!token) throw new VaultHttpError(403, ['permission denied']);
    const entry = this.byId.get(token);
    call.callerAccessor = entry?.accessor ?? null;
    if (!this.live(entry)) throw new VaultHttpError(403, [multierror('permission denied', 'invalid token')]);
    return entry;
  }

  /** [TS UseToken]: a restricted-use token loses one use per request; the last one marks it for revocation. */
  private use(t: TokenEntry): void {
    if (t.numUses > 0) t.numUses = t.numUses === 1 ? -1 : t.numUses - 1;
  }

  private handlerFor(path: string, operation: string): ((caller: TokenEntry, body: Record<string, unknown>) => [number, unknown]) | undefined {
    if (operation === 'update') {
      if (path === 'auth/token/create') return (c, b) => this.create(c, b, { orphan: false, role: null });
      if (path === 'auth/token/create-orphan') return (c, b) => this.create(c, b, { orphan: true, role: null });
      if (path.startsWith('auth/token/create/') && ROLE_NAME.test(path.slice('auth/token/create/'.length))) {
        return (c, b) => this.create(c, b, { orphan: false, role: path.slice('auth/token/create/'.length) });
      }
      if (path === 'auth/token/lookup-accessor') return (_c, b) => this.lookupAccessor(b);
      if (path === 'auth/token/revoke-accessor') return (_c, b) => this.revokeAccessor(b);
      if (path === 'auth/token/lookup') return (c, b) => this.lookup(c, b);
      if (path === 'auth/token/lookup-self') return (c) => this.lookupSelf(c);
    }
    if (operation === 'read') {
      if (path === 'auth/token/lookup-self') return (c) => this.lookupSelf(c);
      if (path === 'auth/token/lookup') return (c, b) => this.lookup(c, b);
    }
    return undefined;
  }

  /** [API sys/health]: unauthenticated; 200 active, 503 sealed; a GET body, a HEAD status only. */
  private health(method: string): [number, unknown] {
    if (method !== 'GET' && method !== 'HEAD') throw new VaultHttpError(405, []);
    const status = this.isSealed ? 503 : 200;
    const body = {
      initialized: true,
      sealed: this.isSealed,
      standby: false,
      performance_standby: false,
      replication_performance_mode: 'disabled',
      replication_dr_mode: 'disabled',
      server_time_utc: Math.floor(this.now() / 1000),
      version: this.options.version ?? '1.18.0',
      cluster_name: 'vault-cluster-double',
      cluster_id: 'b2b3a4c5-0000-4000-8000-double000000',
    };
    return [status, method === 'HEAD' ? undefined : body];
  }

  // ------------------------------------------------------------------------------------------
  // auth/token/create, create-orphan, create/:role_name [TS handleCreateCommon]
  // ------------------------------------------------------------------------------------------

  private create(parent: TokenEntry, body: Record<string, unknown>, how: { orphan: boolean; role: string | null }): [number, unknown] {
    const isSudo = parent.policies.includes('root');
    // The caller's use was counted before the handler runs [TS UseToken]: a last use leaves no parent,
    // any other restricted-use token could escape its count through children
    if (parent.numUses < 0) throw new VaultHttpError(400, ['parent token lookup failed: no parent found']);
    if (parent.numUses > 0) throw new VaultHttpError(400, ['restricted use token cannot generate child tokens']);
    const role = how.role === null ? null : this.roles[how.role];
    if (how.role !== null && !role) throw new VaultHttpError(400, [`unknown role ${how.role}`]);
    const data = {
      id: weakString('id', body.id),
      policies: weakStringList('policies', body.policies),
      meta: weakStringMap('meta', body.meta),
      noParent: weakBool('no_parent', body.no_parent) ?? false,
      noDefaultPolicy: weakBool('no_default_policy', body.no_default_policy) ?? false,
      ttl: weakString('ttl', body.ttl),
      renewable: weakBool('renewable', body.renewable),
      explicitMaxTtl: weakString('explicit_max_ttl', body.explicit_max_ttl),
      displayName: weakString('display_name', body.display_name),
      numUses: weakInt('num_uses', body.num_uses),
      period: weakString('period', body.period),
      type: weakString('type', body.type),
      entityAlias: weakString('entity_alias', body.entity_alias),
    };
    if (data.type !== '' && data.type !== 'service') {
      if (data.type === 'batch') throw new VaultHttpError(400, ['batch tokens are not supported by the Vault double']);
      throw new VaultHttpError(400, ["invalid 'token_type' value"]);
    }
    if (data.numUses < 0) throw new VaultHttpError(400, ['number of uses cannot be negative']);
    if (data.entityAlias !== '') throw new VaultHttpError(400, ['entity aliases are not supported by the Vault double']);
    if (data.id !== '') throw new VaultHttpError(400, ['custom token ids are not supported by the Vault double']);
    if (parseDurationSecond(data.period) !== 0) throw new VaultHttpError(400, ['periodic tokens are not supported by the Vault double']);

    let renewable = data.renewable ?? true;
    let numUses = data.numUses;
    if (role) {
      // a role can only take renewability away, and the lower non-zero use count wins
      if (renewable && role.renewable === false) renewable = false;
      const roleUses = role.tokenNumUses ?? 0;
      if (roleUses !== 0 && (numUses === 0 || roleUses < numUses)) numUses = roleUses;
    }
    const displayName = data.displayName === '' ? 'token' : `token-${data.displayName}`.replace(/[^a-zA-Z0-9-]/g, '-').replace(/-$/, '');
    const policies = this.childPolicies(parent, role, data.policies, data.noDefaultPolicy, isSudo);
    const orphan = role ? role.orphan === true : data.noParent ? this.requireSudo(isSudo) : how.orphan;

    const warnings: string[] = [];
    let explicitMaxTtl = this.positiveDuration(data.explicitMaxTtl, 'explicit_max_ttl must be positive');
    let ttl = this.positiveDuration(data.ttl, 'ttl must be positive');
    const roleMax = role?.tokenExplicitMaxTtlSeconds ?? 0;
    if (roleMax !== 0) {
      if (explicitMaxTtl !== 0) warnings.push(`Explicit max TTL specified both during creation call and in role; using the lesser value of ${Math.min(roleMax, explicitMaxTtl)} seconds`);
      explicitMaxTtl = explicitMaxTtl === 0 ? roleMax : Math.min(roleMax, explicitMaxTtl);
    }
    // Only calculate a TTL when there is one, or the token is not a root token [TS]; [TTL] caps it
    if (ttl > 0 || !policies.includes('root')) ttl = this.calculateTtl(ttl, explicitMaxTtl, warnings);
    if (ttl === 0 && explicitMaxTtl > 0) ttl = explicitMaxTtl; // root tokens are still bound by explicit max TTL
    if (ttl === 0) {
      if (parent.ttl !== 0) throw new VaultHttpError(400, ['expiring root tokens cannot create non-expiring root tokens']);
      renewable = false; // non-expiring root tokens are not advertised as renewable
    }
    const path = how.role !== null ? `auth/token/create/${how.role}` : how.orphan ? 'auth/token/create-orphan' : 'auth/token/create';
    const entry = this.store({
      id: `hvs.${base62(24)}`,
      accessor: base62(24),
      parent: orphan ? null : parent,
      policies,
      meta: data.meta,
      displayName,
      numUses,
      createdMs: this.now(),
      ttl,
      explicitMaxTtl,
      renewable,
      path,
      role: how.role,
      revokedMs: null,
    });
    for (const p of policies) if (p !== 'root' && !(p in this.policyPaths)) warnings.push(`Policy "${p}" does not exist`);
    return [200, this.envelope({ auth: this.authBlock(entry), warnings })];
  }

  private requireSudo(isSudo: boolean): true {
    if (!isSudo) throw new VaultHttpError(400, ['root or sudo privileges required to create orphan token']);
    return true;
  }

  private positiveDuration(raw: string, negative: string): number {
    const seconds = parseDurationSecond(raw);
    if (seconds < 0) throw new VaultHttpError(400, [negative]);
    return seconds;
  }

  /** [TTL] CalculateTTL at creation: the requested TTL (or the mount default), capped by min(mount max, explicit max). */
  private calculateTtl(requested: number, explicitMaxTtl: number, warnings: string[]): number {
    let maxTtl = this.options.maxLeaseTtlSeconds ?? HOURS_768;
    if (explicitMaxTtl > 0 && explicitMaxTtl < maxTtl) maxTtl = explicitMaxTtl;
    const ttl = requested > 0 ? requested : (this.options.defaultLeaseTtlSeconds ?? HOURS_768);
    if (ttl > maxTtl) {
      warnings.push(`TTL of "${goDuration(ttl)}" exceeded the effective max_ttl of "${goDuration(maxTtl)}"; TTL value is capped accordingly`);
      return maxTtl;
    }
    return ttl;
  }

  /**
   * [TS handleCreateCommon] policy rules: a role with allowed/disallowed lists decides alone;
   * no policies inherit the parent's; otherwise the child's policies must be a subset of the
   * parent's unless the parent has root/sudo ("child policies must be subset of parent").
   */
  private childPolicies(parent: TokenEntry, role: VaultDoubleRole | null | undefined, requested: string[], noDefault: boolean, isSudo: boolean): string[] {
    let policies: string[];
    let addDefault = false;
    const allowed = role?.allowedPolicies ?? [];
    const disallowed = role?.disallowedPolicies ?? [];
    if (role && (allowed.length > 0 || disallowed.length > 0)) {
      const localDefault = !noDefault && !disallowed.includes('default');
      policies = requested.length > 0 ? sanitizePolicies(requested, localDefault) : [];
      if (allowed.length > 0) {
        const sanitizedAllowed = sanitizePolicies(allowed, localDefault);
        if (policies.length === 0) policies = sanitizedAllowed;
        else if (policies.some((p) => !sanitizedAllowed.includes(p))) {
          throw new VaultHttpError(400, [`token policies (${goList(policies)}) must be subset of the role's allowed policies (${goList(sanitizedAllowed)}) or glob policies ([])`]);
        }
      } else if (policies.length === 0) {
        policies = sanitizePolicies(parent.policies, localDefault);
      }
      const bad = policies.find((p) => disallowed.map((d) => d.toLowerCase()).includes(p));
      if (bad) throw new VaultHttpError(400, [`token policy "${bad}" is disallowed by this role`]);
    } else if (requested.length === 0) {
      policies = sanitizePolicies(parent.policies, false);
    } else if (!isSudo) {
      const input = sanitizePolicies(requested, false);
      const parentPolicies = sanitizePolicies(parent.policies, false);
      if (input.some((p) => !parentPolicies.includes(p))) throw new VaultHttpError(400, ['child policies must be subset of parent']);
      policies = requested;
      addDefault = !noDefault && parent.policies.includes('default');
    } else {
      policies = requested;
      addDefault = !noDefault;
    }
    let out = sanitizePolicies(policies, addDefault);
    if (noDefault) out = out.filter((p) => p !== 'default');
    const nonAssignable = out.find((p) => NON_ASSIGNABLE.includes(p));
    if (nonAssignable) throw new VaultHttpError(400, [`cannot assign policy "${nonAssignable}"`]);
    if (out.includes('root') && !parent.policies.includes('root')) throw new VaultHttpError(400, ['root tokens may not be created without parent token being root']);
    return out;
  }

  /** The `auth` block of a create response [TS resp.Auth, API "Create token" sample response]. */
  private authBlock(t: TokenEntry): Record<string, unknown> {
    return {
      client_token: t.id,
      accessor: t.accessor,
      policies: t.policies,
      token_policies: t.policies,
      identity_policies: null,
      metadata: t.meta,
      lease_duration: t.ttl,
      renewable: t.renewable,
      entity_id: '',
      token_type: 'service',
      orphan: t.parent === null,
      mfa_requirement: null,
      num_uses: t.numUses,
    };
  }

  private envelope(parts: { data?: unknown; auth?: unknown; warnings?: string[] }): Record<string, unknown> {
    return {
      request_id: randomUUID(),
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      data: parts.data ?? null,
      wrap_info: null,
      warnings: parts.warnings && parts.warnings.length > 0 ? parts.warnings : null,
      auth: parts.auth ?? null,
      mount_type: 'token',
    };
  }

  // ------------------------------------------------------------------------------------------
  // Lookups and revocation
  // ------------------------------------------------------------------------------------------

  /** [TS handleLookup] data; `id` is blanked by the accessor lookup. */
  private lookupData(t: TokenEntry, withId: boolean): Record<string, unknown> {
    const expire = this.expireMs(t);
    const data: Record<string, unknown> = {
      accessor: t.accessor,
      creation_time: Math.floor(t.createdMs / 1000),
      creation_ttl: t.ttl,
      display_name: t.displayName,
      entity_id: '',
      expire_time: expire === null ? null : new Date(expire).toISOString(),
      explicit_max_ttl: t.explicitMaxTtl,
      id: withId ? t.id : '',
      meta: t.meta,
      num_uses: t.numUses,
      orphan: t.parent === null,
      path: t.path,
      policies: t.policies,
      ttl: expire === null ? 0 : Math.max(0, Math.floor((expire - this.now()) / 1000)),
      type: 'service',
    };
    if (expire !== null) {
      data.issue_time = new Date(t.createdMs).toISOString();
      data.renewable = t.renewable && this.now() < expire;
    }
    if (t.role !== null) data.role = t.role;
    return data;
  }

  /** [TS handleUpdateLookupAccessor]: "missing accessor" / "invalid accessor" are 400 (StatusBadRequest). */
  private lookupAccessor(body: Record<string, unknown>): [number, unknown] {
    const accessor = weakString('accessor', body.accessor);
    if (accessor === '') throw new VaultHttpError(400, ['missing accessor']);
    const t = this.byAccessor.get(accessor);
    if (!this.live(t)) throw new VaultHttpError(400, ['invalid accessor']);
    return [200, this.envelope({ data: this.lookupData(t, false) })];
  }

  /**
   * [TS handleUpdateRevokeAccessor]: revokes the token and its children, 204. An accessor Vault
   * no longer knows (revoked, expired) is 200 with the warning "No token found with this accessor"
   * since Vault 1.10 (hashicorp/vault#13661); before, 400 "invalid accessor" (multierror).
   */
  private revokeAccessor(body: Record<string, unknown>): [number, unknown] {
    const accessor = weakString('accessor', body.accessor);
    if (accessor === '') throw new VaultHttpError(400, ['missing accessor']);
    const t = this.byAccessor.get(accessor);
    if (!this.live(t)) {
      if (this.options.revokeUnknownAccessor === 'invalid-accessor') throw new VaultHttpError(400, [multierror('invalid accessor')]);
      return [200, this.envelope({ warnings: ['No token found with this accessor'] })];
    }
    this.revokeTree(t);
    return [204, undefined];
  }

  /** [TS handleLookup]: the token in the body (else the caller's own); unknown → 403 "bad token" (ErrPermissionDenied). */
  private lookup(caller: TokenEntry, body: Record<string, unknown>): [number, unknown] {
    const id = weakString('token', body.token) || caller.id;
    const t = this.byId.get(id);
    if (!this.live(t)) throw new VaultHttpError(403, ['bad token']);
    return [200, this.envelope({ data: this.lookupData(t, true) })];
  }

  private lookupSelf(caller: TokenEntry): [number, unknown] {
    return [200, this.envelope({ data: this.lookupData(caller, true) })];
  }
}

/** Go's %q of a []string, as Vault prints policy lists in errors: ["a" "b"]. */
function goList(items: string[]): string {
  return `[${items.map((i) => `"${i}"`).join(' ')}]`;
}

function header(req: http.IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return typeof v === 'string' && v !== '' ? v : null;
}

/** The request body as JSON: empty is {}; over 1 MiB 413; not JSON 400 "failed to parse JSON input" (Vault's http/logical.go). */
async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new VaultHttpError(413, ['http: request body too large']);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new VaultHttpError(400, [`failed to parse JSON input: ${(err as Error).message}`]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new VaultHttpError(400, ['failed to parse JSON input: not an object']);
  return parsed as Record<string, unknown>;
}

/** The body as the calls log keeps it: a `token` field (auth/token/lookup) is never recorded. */
function recordedBody(body: Record<string, unknown>): Record<string, unknown> | null {
  if (Object.keys(body).length === 0) return null;
  const copy = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
  if ('token' in copy) copy.token = '[redacted]';
  return copy;
}
