import type { EntityManager, EntityName, MikroORM } from '@mikro-orm/postgresql';
import type { AuthChecker } from 'type-graphql';
import { AppError, ErrorCode, forbidden, isServiceUnavailable, serviceUnavailable, unauthenticated } from '../kernel/errors';
import type { Logger } from '../kernel/logger';
import type { Scope } from '../kernel/scope';
import { Allowance, loadReserved } from '../kernel/operation';
import { forkForAccount } from '../infra/db/orm';
import type { FleetPubSub } from '../infra/pubsub';

/** Who is calling, as read from a verified JWT. */
export interface Principal {
  subject: string;
  /** The account's external key (the `account` claim). */
  account: string;
  permissions: string[];
  /** Seconds since epoch (every accepted token has one); re-checked on every WebSocket subscribe. */
  expiresAt: number;
}

/** The account and user rows of a principal. */
export interface Membership {
  accountId: string;
  userId: string;
}

/** What building a request's Context needs (given by the composition root). */
export interface ContextDeps {
  orm: MikroORM;
  logger: Logger;
  verifyToken(token: string): Promise<Principal>;
  resolveMembership(principal: Principal): Promise<Membership>;
  pubsub: FleetPubSub;
}

/** The request (HTTP) or subscribe message (WS): only resolvers/ and src/graphql see it; services get its Scope. */
export interface Context {
  requestId: string;
  principal?: Principal;
  membership?: Membership;
  /** A fork for this request (HTTP) or this subscribe message (WS), scoped to the caller's account. */
  em: EntityManager;
  logger: Logger;
  /** Live feeds for subscription resolvers (their `subscribe` functions have no resolver instance). */
  events: Pick<FleetPubSub, 'subscribe' | 'subscribeSequenced' | 'onReconnect'>;
  /** Aborted when the request passes its deadline or its client leaves: live Docker reads stop waiting. */
  signal?: AbortSignal;
  /** Bytes a query or mutation may still load (limits.maxLoadedBytes); attached by the transports, none for subscriptions. */
  loadable?: Allowance;
  /** Built once by scopeOf. */
  scope?: Scope;
}

/** Account id used for anonymous requests: matches no rows. */
const NO_ACCOUNT = '00000000-0000-0000-0000-000000000000';

export async function buildContext(deps: ContextDeps, token: string | undefined, requestId: string): Promise<Context> {
  let principal: Principal | undefined;
  let membership: Membership | undefined;
  if (token !== undefined) {
    principal = await deps.verifyToken(token);
    // A database that cannot be reached is SERVICE_UNAVAILABLE, never a driver error with SQL in it
    membership = await deps.resolveMembership(principal).catch((err: unknown) => {
      throw isServiceUnavailable(err) ? serviceUnavailable() : err;
    });
  }
  const logger = deps.logger.child({ requestId, account: principal?.account, sub: principal?.subject });
  return {
    requestId,
    principal,
    membership,
    em: forkForAccount(deps.orm, membership?.accountId ?? NO_ACCOUNT),
    logger,
    events: deps.pubsub,
  };
}

/** The caller, or UNAUTHENTICATED. */
export function viewerOf(ctx: Context): { principal: Principal; membership: Membership } {
  if (!ctx.principal || !ctx.membership) throw unauthenticated();
  return { principal: ctx.principal, membership: ctx.membership };
}

/** The caller's Scope (UNAUTHENTICATED without a token): what every service method runs on. */
export function scopeOf(ctx: Context): Scope {
  if (ctx.scope) return ctx.scope;
  const { principal, membership } = viewerOf(ctx);
  const ctxRef = ctx;
  ctx.scope = {
    accountId: membership.accountId,
    actor: { kind: 'user', userId: membership.userId, subject: principal.subject },
    permissions: principal.permissions,
    em: ctx.em,
    log: ctx.logger,
    // read at use: transports attach the signal after the context is built
    get signal() {
      return ctxRef.signal;
    },
    get loadable() {
      return ctxRef.loadable;
    },
  };
  return ctx.scope;
}

export function hasPermission(ctx: Context, permission: string): boolean {
  return ctx.principal?.permissions.includes(permission) ?? false;
}

/** FORBIDDEN unless the caller holds one of `permissions` (the first is named, the others listed). */
export function assertAnyPermission(ctx: Context, ...permissions: string[]): void {
  viewerOf(ctx);
  if (permissions.some((p) => hasPermission(ctx, p))) return;
  throw new AppError(ErrorCode.FORBIDDEN, `This needs one of the permissions ${permissions.map((p) => `"${p}"`).join(', ')}`, { permission: permissions[0], permissions });
}

/**
 * type-graphql auth checker: `@Authorized()` needs a token (account membership),
 * `@Authorized('perm')` also needs that permission.
 */
export const authChecker: AuthChecker<Context> = ({ context }, permissions) => {
  viewerOf(context);
  for (const p of permissions) if (!hasPermission(context, p)) throw forbidden(p);
  return true;
};

/**
 * A large stored column of one row (a compose file, deployment specs) for a query's answer:
 * its size is asked first and taken from what the operation may load (limits.maxLoadedBytes),
 * and `load` runs only if it fits (QUERY_TOO_COMPLEX otherwise): a page of them cannot fill the
 * server's memory. The row's id comes from a row the caller already read under the tenant filter.
 */
export function loadedColumn<T>(ctx: Context, entity: EntityName<object>, id: string, property: string, load: () => Promise<T>): Promise<T> {
  const meta = ctx.em.getMetadata().get(entity as never);
  const column = meta.properties[property as never].fieldNames[0];
  return loadReserved(
    ctx.loadable,
    async () => Number((await ctx.em.getConnection().execute<Array<{ n: number | null }>>(`select octet_length("${column}"::text) as n from "${meta.tableName}" where id = ?`, [id]))[0]?.n ?? 0),
    load,
  );
}
