import type { HostService } from '../../src/modules/hosts';
import { DockerActivityResolver, DockerContainerResolver, DockerEventResolver, DockerHostResolver, DockerImageResolver } from './docker-host.resolver';

export { DockerActivityResolver, DockerContainerResolver, DockerEventResolver, DockerHostResolver, DockerImageResolver };

/** The hosts module's resolver classes (inventory, events and the audit log read through them). */
export const HOSTS_RESOLVERS = [DockerHostResolver, DockerContainerResolver, DockerImageResolver, DockerEventResolver, DockerActivityResolver] as const;

/** One instance per class of HOSTS_RESOLVERS, with its services. */
export function createHostsResolvers(m: { hosts: HostService }): object[] {
  return [new DockerHostResolver(m.hosts), new DockerContainerResolver(), new DockerImageResolver(), new DockerEventResolver(), new DockerActivityResolver()];
}
