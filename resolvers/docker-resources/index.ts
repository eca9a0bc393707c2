import type { HostService } from '../../src/modules/hosts';
import type { DockerResourcesModule } from '../../src/modules/docker-resources';
import { ContainerOperationsResolver, HostResourcesResolver, ImageOperationsResolver, NetworkResolver, VolumeResolver } from './docker-resources.resolver';

export { ContainerOperationsResolver, HostResourcesResolver, ImageOperationsResolver, NetworkResolver, VolumeResolver };

/** The docker-resources module's resolver classes: containers, images, networks, volumes. */
export const DOCKER_RESOURCES_RESOLVERS = [ContainerOperationsResolver, ImageOperationsResolver, HostResourcesResolver, NetworkResolver, VolumeResolver] as const;

/** One instance per class of DOCKER_RESOURCES_RESOLVERS: the managers, and the hosts (global ids of hosts name the host an operation runs on). */
export function createDockerResourcesResolvers(m: { hosts: HostService } & DockerResourcesModule): object[] {
  return [
    new ContainerOperationsResolver(m.hosts, m.containers),
    new ImageOperationsResolver(m.hosts, m.images),
    new HostResourcesResolver(m.networks, m.volumes),
    new NetworkResolver(m.hosts, m.networks),
    new VolumeResolver(m.hosts, m.volumes),
  ];
}
