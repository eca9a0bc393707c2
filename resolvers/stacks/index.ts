import type { StacksModule } from '../../src/modules/stacks';
import type { SwarmModule } from '../../src/modules/swarm';
import { StackResolver } from './stacks.resolver';

export { StackResolver };

/** The stacks module's resolver classes: deployStack. */
export const STACKS_RESOLVERS = [StackResolver] as const;

/** One instance per class of STACKS_RESOLVERS. */
export function createStacksResolvers(m: StacksModule, swarm: Pick<SwarmModule, 'clusters'>): object[] {
  return [new StackResolver(swarm.clusters, m.stacks)];
}
