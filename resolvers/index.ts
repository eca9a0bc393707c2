import type { NonEmptyArray } from 'type-graphql';
import { NodeResolver } from './node/node.resolver';
import { ViewerResolver } from './accounts/viewer.resolver';
import { ContainerOperationsResolver, HostResourcesResolver, ImageOperationsResolver, NetworkResolver, VolumeResolver } from './docker-resources/docker-resources.resolver';
import { DockerActivityResolver, DockerContainerResolver, DockerEventResolver, DockerHostResolver, DockerImageResolver } from './hosts/docker-host.resolver';
import { SecretReferenceResolver, SwarmActivityResolver, SwarmClusterResolver, SwarmEventResolver, SwarmNetworkResolver, SwarmNodeResolver, SwarmServiceResolver } from './swarm/swarm.resolver';

/** Every resolver class of the schema. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const RESOLVERS: NonEmptyArray<Function> = [NodeResolver, ViewerResolver, DockerHostResolver, DockerContainerResolver, DockerImageResolver, DockerEventResolver, DockerActivityResolver,
  ContainerOperationsResolver, ImageOperationsResolver, HostResourcesResolver, NetworkResolver, VolumeResolver,
  SwarmClusterResolver, SwarmNodeResolver, SwarmServiceResolver, SecretReferenceResolver, SwarmEventResolver, SwarmActivityResolver, SwarmNetworkResolver];
