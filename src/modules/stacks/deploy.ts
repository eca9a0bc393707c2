import type { SwarmCluster } from '../../../entities';
import { AppError } from '../../kernel/errors';
import type { Scope } from '../../kernel/scope';
import type { Engine } from '../../infra/engine/port';
import type { NetworkInspect } from '../../infra/engine/types';
import type { HostAccessGuard, EngineLookups } from '../../platform/policy/enforce';
import { serviceHostAccess } from '../../platform/policy/host-access';
import type { ClusterOperations } from '../swarm';
import { applyStack, checkExternals } from './apply';
import { loadStack, type ConvertedStack } from './compose';

/** What deployStack takes: the compose text and what `docker stack deploy` would read from its environment and disk. */
export interface DeployStackInput {
  name: string;
  compose: string;
  /** Interpolation variables (`${VAR}`). */
  variables?: Record<string, string>;
  /** Contents of the files the compose file names (secrets, configs, env_file), by the path written there. */
  files?: Record<string, string>;
}

export interface DeployStackResult {
  /** The services created or updated (`<stack>_<name>`), sorted. */
  services: string[];
  /** What the converter (and Docker) warned about: unsupported keys, unset variables. */
  warnings: string[];
}

/**
 * Deploys a compose stack on a cluster, as `docker stack deploy --resolve-image never` would. The
 * whole stack is converted and checked first — compose errors, missing external objects and the
 * host-access policy on every service spec — so that bad input changes nothing on the swarm;
 * then everything is created under one audited activity.
 */
export class StackDeployer {
  /** @param watchTasks has a created service's tasks watched until they settle (the swarm module's task watcher). */
  constructor(
    private readonly ops: ClusterOperations,
    private readonly guard: HostAccessGuard,
    private readonly watchTasks: (clusterId: string, serviceId: string) => void = () => undefined,
  ) {}

  async deploy(scope: Scope, cluster: SwarmCluster, input: DeployStackInput) {
    const stack = loadStack({ name: input.name, compose: input.compose, variables: input.variables, files: input.files });
    await this.ops.read(scope, cluster, (manager) => this.check(scope, manager, stack));
    // the activity's parameters: names only, never the compose text or the files (they may hold secrets)
    const parameters = { name: stack.name, services: stack.services.map((s) => s.Name), variables: Object.keys(input.variables ?? {}), files: Object.keys(input.files ?? {}) };
    const { result, activity } = await this.ops.run(scope, cluster, { action: 'stack.deploy', targetType: 'stack', targetId: stack.name, parameters }, async (manager) => {
      const applied = await applyStack(manager, stack);
      for (const s of await manager.listServices()) if (s.Spec?.Name && stack.services.some((x) => x.Name === s.Spec?.Name)) this.watchTasks(cluster.id, s.ID);
      return applied;
    });
    const services = [...result.services.created, ...result.services.updated].sort();
    return { services, warnings: [...stack.warnings, ...result.warnings], activity };
  }

  /** Every check that needs no change on the swarm: external objects exist, every service spec passes the host-access policy. */
  private async check(scope: Scope, manager: Engine, stack: ConvertedStack): Promise<void> {
    await checkExternals(manager, stack);
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
 * The policy's look-ups with the stack's own networks answered from the converted stack (they do
 * not exist yet, and their driver is the one the file gives): a stack network with the host
 * driver is refused like an existing one.
 */
function stackLookups(manager: Engine, stack: ConvertedStack): EngineLookups {
  const own = new Map(stack.networks.map((n) => [n.Name, { Name: n.Name, Driver: n.Driver } as NetworkInspect]));
  return {
    findVolume: (name) => manager.findVolume(name),
    findNetwork: async (ref) => own.get(ref) ?? manager.findNetwork(ref),
  };
}

/** A refusal of one service's spec, its field prefixed with `services.<name>.` (the path in the compose file's terms). */
function inService(err: unknown, service: string): unknown {
  if (!(err instanceof AppError)) return err;
  const field = typeof err.extensions.field === 'string' ? `services.${service}.${err.extensions.field}` : `services.${service}`;
  return new AppError(err.code, `services.${service}: ${err.message}`, { ...err.extensions, field });
}
