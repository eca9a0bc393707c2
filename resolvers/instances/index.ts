import type { InstancesModule } from '../../src/modules/instances';
import { AccountQuotaResolver, ContainerInstanceResolver, ContainerTemplateResolver } from './instances.resolver';

export { AccountQuotaResolver, ContainerInstanceResolver, ContainerTemplateResolver };

/** The instances module's resolver classes: templates, instances, the account's quota usage. */
export const INSTANCES_RESOLVERS = [ContainerTemplateResolver, ContainerInstanceResolver, AccountQuotaResolver] as const;

/** One instance per class of INSTANCES_RESOLVERS. */
export function createInstancesResolvers(m: InstancesModule): object[] {
  return [new ContainerTemplateResolver(m), new ContainerInstanceResolver(m), new AccountQuotaResolver(m)];
}
