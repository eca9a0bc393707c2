import type { StacksModule } from '../../src/modules/stacks';
import type { SwarmModule } from '../../src/modules/swarm';
import { ClusterStacksResolver, DeploymentFieldsResolver, StackResolver } from './stacks.resolver';

export { StackResolver, ClusterStacksResolver, DeploymentFieldsResolver };

/** The stacks module's resolver classes: stacks, deployments, their mutations and deploymentProgress. */
export const STACKS_RESOLVERS = [StackResolver, ClusterStacksResolver, DeploymentFieldsResolver] as const;

/** One instance per class of STACKS_RESOLVERS. */
export function createStacksResolvers(m: StacksModule, swarm: Pick<SwarmModule, 'clusters'>): object[] {
  return [new StackResolver(swarm.clusters, m.deployments), new ClusterStacksResolver(m.deployments), new DeploymentFieldsResolver()];
}
