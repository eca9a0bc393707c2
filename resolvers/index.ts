import type { NonEmptyArray } from 'type-graphql';
import { NodeResolver } from './node.resolver';
import { ViewerResolver } from './viewer.resolver';

/** Every resolver class of the schema. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const RESOLVERS: NonEmptyArray<Function> = [NodeResolver, ViewerResolver];
