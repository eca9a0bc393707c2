import { AppError, ErrorCode } from '../../kernel/errors';
import type { BindRoot } from '../../kernel/config';
import { PERMISSIONS } from '../../kernel/permissions';
import { can, type Scope } from '../../kernel/scope';
import type { Engine } from '../../infra/engine/port';
import { EngineObjects, HostAccessSpec, Refusal, engineObjectRefusals, hostAccessRefusals, namedVolumes, networkReferences } from './host-access';
import { registryRefusal } from './registry';

/**
 * Applies the host-access policy (src/platform/policy/host-access.ts) to a request: callers hold the
 * privileged permission, or every refusal ends the request as FORBIDDEN naming the field.
 */

const PERMISSION = PERMISSIONS.containersPrivileged;

export function mayAccessHost(scope: Scope): boolean {
  return can(scope, PERMISSION);
}

/** FORBIDDEN for the first refusal (all of them in `reasons`), naming the field and the permission. */
export function hostAccessForbidden(refusals: Refusal[]): AppError {
  const [first] = refusals;
  const more = refusals.length > 1 ? ` (and ${refusals.length - 1} more)` : '';
  return new AppError(ErrorCode.FORBIDDEN, `${first.field}: ${first.reason}${more}: needs the permission "${PERMISSION}"`, {
    permission: PERMISSION,
    field: first.field,
    reasons: refusals.map((r) => `${r.field}: ${r.reason}`),
  });
}

/** Without the permission, the daemon may not be made to contact a registry on a non-public address (src/platform/policy/registry.ts). */
export function assertRegistry(scope: Scope, ref: string, field: string): void {
  const why = registryRefusal(ref);
  if (why) refuse(scope, [{ field, reason: why }]);
}

/** FORBIDDEN for any refusal (computed by src/platform/policy/host-access.ts) unless the caller holds the permission. */
export function refuse(scope: Scope, refusals: Refusal[]): void {
  if (refusals.length && !mayAccessHost(scope)) throw hostAccessForbidden(refusals);
}

/** The look-ups the policy makes on an engine (a host, or a swarm manager). */
export type EngineLookups = Pick<Engine, 'findVolume' | 'findNetwork'>;

/**
 * The decision on what the engine holds: looks up the named volumes and the networks the spec
 * uses on `engine` (the host, or the swarm manager) and refuses a non-local volume, a local one
 * with driver options, and a host (or unknown-driver) network. Skipped with the permission.
 *
 * A volume made with driver options between this look-up and Docker's create would slip
 * through; making one needs the privileged permission or direct access to the engine, which
 * is host root already. For services the look-up is on the manager fleetgraph talks to: a
 * volume of the same name made by hand on another node is not seen (documented limit).
 */
async function assertEngineObjects(scope: Scope, engine: EngineLookups, spec: HostAccessSpec): Promise<void> {
  if (mayAccessHost(scope)) return;
  const volumes = namedVolumes(spec);
  const networks = networkReferences(spec);
  if (!volumes.length && !networks.length) return;
  const objects: EngineObjects = { volumes: new Map(), networks: new Map() };
  await Promise.all([
    ...volumes.map(async (name) => {
      const v = await engine.findVolume(name);
      objects.volumes.set(name, v ? { driver: v.Driver, options: v.Options ?? null } : null);
    }),
    ...networks.map(async (ref) => {
      const n = await engine.findNetwork(ref);
      objects.networks.set(ref, n ? { name: n.Name, driver: n.Driver } : null);
    }),
  ]);
  refuse(scope, engineObjectRefusals(spec, objects));
}

/** The host-access policy with the operator's bind roots: the guard every container and task spec passes. */
export class HostAccessGuard {
  constructor(private readonly bindRoots: BindRoot[]) {}

  /** The decision on the spec itself (no engine call). */
  check(scope: Scope, spec: HostAccessSpec): void {
    refuse(scope, hostAccessRefusals(spec, this.bindRoots));
  }

  /** The decision on what the engine holds (named volumes, networks), looked up on `engine`. */
  checkEngineObjects(scope: Scope, engine: EngineLookups, spec: HostAccessSpec): Promise<void> {
    return assertEngineObjects(scope, engine, spec);
  }

  /** Both decisions on one spec: the spec itself, then what the engine holds. */
  async checkOn(scope: Scope, engine: EngineLookups, spec: HostAccessSpec): Promise<void> {
    this.check(scope, spec);
    await assertEngineObjects(scope, engine, spec);
  }
}
