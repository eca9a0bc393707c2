import type { NonEmptyArray } from 'type-graphql';
import type { HostsModule } from '../src/modules/hosts';
import type { DockerResourcesModule } from '../src/modules/docker-resources';
import type { SwarmModule } from '../src/modules/swarm';
import type { InstancesModule } from '../src/modules/instances';
import type { StacksModule } from '../src/modules/stacks';
import { ACCOUNTS_RESOLVERS, createAccountsResolvers } from './accounts';
import { createDockerResourcesResolvers, DOCKER_RESOURCES_RESOLVERS } from './docker-resources';
import { createHostsResolvers, HOSTS_RESOLVERS } from './hosts';
import { createNodeResolvers, NODE_RESOLVERS } from './node';
import { createSwarmResolvers, SWARM_RESOLVERS } from './swarm';
import { createInstancesResolvers, INSTANCES_RESOLVERS } from './instances';
import { createStacksResolvers, STACKS_RESOLVERS } from './stacks';

/** Every resolver class of the schema. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const RESOLVERS: NonEmptyArray<Function> = [
  ...NODE_RESOLVERS,
  ...ACCOUNTS_RESOLVERS,
  ...HOSTS_RESOLVERS,
  ...DOCKER_RESOURCES_RESOLVERS,
  ...SWARM_RESOLVERS,
  ...INSTANCES_RESOLVERS,
  ...STACKS_RESOLVERS,
];

/** The modules the resolvers call. */
export interface ResolverModules {
  hosts: HostsModule;
  resources: DockerResourcesModule;
  swarm: SwarmModule;
  instances: InstancesModule;
  stacks: StacksModule;
}

/** One instance of every resolver class, with its services injected (the composition root hands them to type-graphql's container). */
export function createResolvers(m: ResolverModules): object[] {
  return [
    ...createNodeResolvers(),
    ...createAccountsResolvers(),
    ...createHostsResolvers(m.hosts),
    ...createDockerResourcesResolvers({ hosts: m.hosts.hosts, ...m.resources }),
    ...createSwarmResolvers(m.swarm),
    ...createInstancesResolvers(m.instances),
    ...createStacksResolvers(m.stacks, m.swarm),
  ];
}
