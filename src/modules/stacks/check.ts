import type { SwarmCluster } from '../../../entities';
import { AppError, badInput } from '../../kernel/errors';
import type { Scope } from '../../kernel/scope';
import type { Engine } from '../../infra/engine/port';
import type { NetworkInspect } from '../../infra/engine/types';
import { refuse, type HostAccessGuard, type EngineLookups } from '../../platform/policy/enforce';
import { serviceHostAccess, stackNetworkRefusals } from '../../platform/policy/host-access';
import type { ClusterOperations } from '../swarm';
import { checkExternals } from './apply';
import type { ConvertedStack } from './compose';

/**
 * Every check of a stack that needs no change on the swarm, so that bad input changes nothing:
 * the whole stack is converted first (by the caller), then external objects must exist and
 * every service spec must pass the host-access policy (a stack network with the host driver is
 * refused like an existing one), and so must every network the stack creates (driver, subnets,
 * IPAM, driver options).
 */
export class StackChecker {
  constructor(
    private readonly ops: ClusterOperations,
    private readonly guard: HostAccessGuard,
  ) {}

  /** Checks a converted stack against the cluster (read-only: external objects, the policy on every service). */
  async checkStack(scope: Scope, cluster: SwarmCluster, stack: ConvertedStack): Promise<void> {
    await this.ops.read(scope, cluster, (manager) => this.check(scope, manager, stack));
  }

  private async check(scope: Scope, manager: Engine, stack: ConvertedStack): Promise<void> {
    // the stack's own networks are created before its services: judged like createNetwork's
    refuse(scope, stack.networks.flatMap(stackNetworkRefusals));
    await checkExternals(manager, stack);
    await checkConfigs(manager, stack);
    const lookups = stackLookups(manager, stack);
    for (const service of stack.services) {
      try {
        await this.guard.checkOn(scope, lookups, serviceHostAccess(service));
      } catch (err) {
        throw inService(err, service.Name.slice(stack.name.length + 1));
      }
    }
  }
}

/**
 * The policy's look-ups with the stack's own networks answered from the converted stack when they
 * do not exist yet (their driver is the one the file gives): a stack network with the host driver
 * is refused like an existing one. One that exists already is not created again (createNetworks),
 * so the services join it as the manager has it, whatever driver the file claims: it is judged so.
 */
function stackLookups(manager: Engine, stack: ConvertedStack): EngineLookups {
  const own = new Map(stack.networks.map((n) => [n.Name, { Name: n.Name, Driver: n.Driver } as NetworkInspect]));
  return {
    findVolume: (name) => manager.findVolume(name),
    findNetwork: async (ref) => {
      const found = await manager.findNetwork(ref);
      // Docker also answers an id prefix: only the network of that very name (or id) stands for the stack's own
      if (found && (found.Name === ref || found.Id === ref)) return found;
      return own.get(ref) ?? found;
    },
  };
}

/** A refusal of one service's spec, its field prefixed with `services.<name>.` (the path in the compose file's terms). */
function inService(err: unknown, service: string): unknown {
  if (!(err instanceof AppError)) return err;
  const field = typeof err.extensions.field === 'string' ? `services.${service}.${err.extensions.field}` : `services.${service}`;
  return new AppError(err.code, `services.${service}: ${err.message}`, { ...err.extensions, field });
}

/** Docker never changes a config's data: a stack config that exists with other content is refused before anything is created (the CLI fails half-way instead). */
async function checkConfigs(manager: Engine, stack: ConvertedStack): Promise<void> {
  if (!stack.configs.length) return;
  const existing = new Map<string, string>();
  for (const c of await manager.listConfigs()) {
    const name = (c.Spec as { Name?: string } | undefined)?.Name;
    if (name) existing.set(name, c.ID);
  }
  for (const config of stack.configs) {
    const id = existing.get(config.Name);
    if (id && (await manager.inspectConfig(id)).Spec?.Data !== config.Data)
      throw badInput(`configs.${config.Name.slice(stack.name.length + 1)}`, `config ${config.Name} exists with other content; configs cannot be changed, give the new one another name`);
  }
}
