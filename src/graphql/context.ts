import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { AuthChecker } from 'type-graphql';
import type { Config } from '../kernel/config';
import type { FleetPubSub } from '../infra/pubsub';
import { forbidden, isServiceUnavailable, serviceUnavailable, unauthenticated } from '../kernel/errors';
import { forkForAccount } from '../infra/db/orm';
import type { AccountDirectory, Membership } from '../modules/accounts/accounts';
import type { Principal, TokenVerifier } from '../server/auth';
import type { Logger } from '../kernel/logger';
import type { Metrics } from '../server/metrics';
import type { SecretBox } from '../infra/crypto';
import type { DockerConnections } from '../infra/engine/connections';
import type { HostService } from '../modules/hosts/hosts';
import type { ContainerManager } from '../modules/docker-resources/containers';
import type { ImageManager } from '../modules/docker-resources/images';
import type { NetworkManager } from '../modules/docker-resources/networks';
import type { VolumeManager } from '../modules/docker-resources/volumes';
import type { HostFleet } from '../modules/hosts/fleet';
import type { SwarmServices } from '../modules/swarm';

/** Process-wide services, built once in src/server/app.ts and handed to every request. */
export interface Services {
  config: Config;
  logger: Logger;
  orm: MikroORM;
  pubsub: FleetPubSub;
  metrics: Metrics;
  accounts: AccountDirectory;
  verifyToken: TokenVerifier;
  secrets: SecretBox;
  connections: DockerConnections;
  fleet: HostFleet;
  hosts: HostService;
  containers: ContainerManager;
  images: ImageManager;
  networks: NetworkManager;
  volumes: VolumeManager;
  /** Swarm clusters, nodes, services, secrets and configs (src/swarm). */
  swarm: SwarmServices;
}

export interface Context {
  requestId: string;
  principal?: Principal;
  membership?: Membership;
  /** A fork for this request (HTTP) or this subscribe message (WS), scoped to the caller's account. */
  em: EntityManager;
  services: Services;
  logger: Logger;
  /** Aborted when the request passes its deadline or its client leaves: live Docker reads stop waiting. */
  signal?: AbortSignal;
}

/** Account id used for anonymous requests: matches no rows. */
const NO_ACCOUNT = '00000000-0000-0000-0000-000000000000';

export async function buildContext(services: Services, token: string | undefined, requestId: string): Promise<Context> {
  let principal: Principal | undefined;
  let membership: Membership | undefined;
  if (token !== undefined) {
    principal = await services.verifyToken(token);
    // A database that cannot be reached is SERVICE_UNAVAILABLE, never a driver error with SQL in it
    membership = await services.accounts.resolve(principal).catch((err: unknown) => {
      throw isServiceUnavailable(err) ? serviceUnavailable() : err;
    });
  }
  const logger = services.logger.child({ requestId, account: principal?.account, sub: principal?.subject });
  return {
    requestId,
    principal,
    membership,
    em: forkForAccount(services.orm, membership?.accountId ?? NO_ACCOUNT),
    services,
    logger,
  };
}

/** The caller, or UNAUTHENTICATED. */
export function viewerOf(ctx: Context): { principal: Principal; membership: Membership } {
  if (!ctx.principal || !ctx.membership) throw unauthenticated();
  return { principal: ctx.principal, membership: ctx.membership };
}

export function hasPermission(ctx: Context, permission: string): boolean {
  return ctx.principal?.permissions.includes(permission) ?? false;
}

export function requirePermission(ctx: Context, permission: string): void {
  viewerOf(ctx);
  if (!hasPermission(ctx, permission)) throw forbidden(permission);
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
