import { NodeResolver } from './node.resolver';

export { NodeResolver };

/** Relay's node/nodes lookups (any type, by global id). */
export const NODE_RESOLVERS = [NodeResolver] as const;

export function createNodeResolvers(): object[] {
  return [new NodeResolver()];
}
