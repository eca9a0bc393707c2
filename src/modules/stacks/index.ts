/**
 * The stacks module: compose stacks deployed on a swarm as `docker stack deploy` does
 * (`compose/`: the loader and converter, pure; `apply.ts`: the Engine API calls; `deploy.ts`:
 * the checked, audited deploy).
 */
import type { Worker } from '../../kernel/worker';
import type { HostAccessGuard } from '../../platform/policy/enforce';
import { ClusterOperations, type SwarmModule } from '../swarm';
import { StackDeployer } from './deploy';

export { StackDeployer } from './deploy';
export type { DeployStackInput, DeployStackResult } from './deploy';
export { applyStack, checkExternals } from './apply';
export type { AppliedStack } from './apply';

/** What the stacks module is built from (by the composition root). */
export type StacksDeps = ConstructorParameters<typeof ClusterOperations>[0] & {
  guard: HostAccessGuard;
  /** The swarm module: its supervisors watch the tasks of what a deploy creates. */
  swarm: Pick<SwarmModule, 'fleet'>;
};

export interface StacksModule {
  stacks: StackDeployer;
  workers: Worker[];
}

export function createStacksModule(deps: StacksDeps): StacksModule {
  const ops = new ClusterOperations(deps, (clusterId) => deps.swarm.fleet.supervisor(clusterId)?.managerCallFailed());
  return { stacks: new StackDeployer(ops, deps.guard, (clusterId, serviceId) => deps.swarm.fleet.supervisor(clusterId)?.watchService(serviceId)), workers: [] };
}
