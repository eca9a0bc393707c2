import type { SwarmModule } from '../../src/modules/swarm';
import { SecretReferenceResolver, SwarmActivityResolver, SwarmClusterResolver, SwarmEventResolver, SwarmNetworkResolver, SwarmNodeResolver, SwarmServiceResolver } from './swarm.resolver';

export { SecretReferenceResolver, SwarmActivityResolver, SwarmClusterResolver, SwarmEventResolver, SwarmNetworkResolver, SwarmNodeResolver, SwarmServiceResolver };

/** The swarm module's resolver classes: clusters, nodes, services, secrets and configs, networks, swarm events. */
export const SWARM_RESOLVERS = [SwarmClusterResolver, SwarmNodeResolver, SwarmServiceResolver, SecretReferenceResolver, SwarmEventResolver, SwarmActivityResolver, SwarmNetworkResolver] as const;

/** One instance per class of SWARM_RESOLVERS, with its services. */
export function createSwarmResolvers(m: Pick<SwarmModule, 'clusters' | 'nodes' | 'services' | 'secrets' | 'configs'>): object[] {
  return [
    new SwarmClusterResolver(m.clusters),
    new SwarmNodeResolver(m.nodes),
    new SwarmServiceResolver(m.clusters, m.services),
    new SecretReferenceResolver(m.clusters, m.secrets, m.configs),
    new SwarmEventResolver(),
    new SwarmActivityResolver(),
    new SwarmNetworkResolver(m.clusters),
  ];
}
