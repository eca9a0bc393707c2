import { Viewer, ViewerResolver } from './viewer.resolver';

export { Viewer, ViewerResolver };

/** The accounts module's resolver classes (the caller). */
export const ACCOUNTS_RESOLVERS = [ViewerResolver] as const;

export function createAccountsResolvers(): object[] {
  return [new ViewerResolver()];
}
