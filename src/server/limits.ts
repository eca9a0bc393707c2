import {
  DocumentNode,
  FragmentDefinitionNode,
  GraphQLError,
  GraphQLSchema,
  Kind,
  OperationDefinitionNode,
  SelectionSetNode,
  getNamedType,
} from 'graphql';
import { ComplexityEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import type { Limits } from '../config';
import { tooComplex } from '../errors';
import { DEFAULT_PAGE_SIZE } from '../graphql/connection';

/**
 * Query limits shared by both transports: Apollo runs them in a plugin (didResolveOperation),
 * graphql-ws in onSubscribe, because graphql-ws bypasses Apollo's plugins and rules.
 */
export function checkLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
  limits: Limits,
): GraphQLError[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: OperationDefinitionNode[] = [];
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    if (def.kind === Kind.OPERATION_DEFINITION) operations.push(def);
  }
  const errors: GraphQLError[] = [];
  for (const op of operations) {
    if (operationName && op.name?.value !== operationName) continue;
    const depth = measureDepth(op.selectionSet, fragments, 0, new Set());
    if (depth > limits.maxDepth) {
      errors.push(tooComplex(`Query depth ${depth} exceeds the limit of ${limits.maxDepth}`, { limit: 'depth', max: limits.maxDepth, actual: depth }));
    }
    const aliases = countAliases(op.selectionSet, fragments, new Set());
    if (aliases > limits.maxAliases) {
      errors.push(tooComplex(`Query uses ${aliases} aliases, more than the limit of ${limits.maxAliases}`, { limit: 'aliases', max: limits.maxAliases, actual: aliases }));
    }
  }
  if (errors.length > 0) return errors;
  try {
    const cost = getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      operationName: operationName ?? undefined,
      estimators: [connectionEstimator, simpleEstimator({ defaultComplexity: 1 })],
    });
    if (cost > limits.maxCost) {
      errors.push(tooComplex(`Query cost ${cost} exceeds the limit of ${limits.maxCost}`, { limit: 'cost', max: limits.maxCost, actual: cost }));
    }
  } catch {
    // invalid variables etc.: execution reports those with a proper error
  }
  return errors;
}

/** A connection field costs its children once per requested item (first, or the default page size). */
const connectionEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  const typeName = getNamedType(field.type).name;
  if (!typeName.endsWith('Connection')) return undefined;
  const first = typeof args.first === 'number' ? args.first : DEFAULT_PAGE_SIZE;
  return 1 + Math.max(first, 1) * childComplexity;
};

function measureDepth(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, depth: number, seen: Set<string>): number {
  let max = depth;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (sel.name.value.startsWith('__')) continue;
      max = Math.max(max, sel.selectionSet ? measureDepth(sel.selectionSet, fragments, depth + 1, seen) : depth + 1);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      max = Math.max(max, measureDepth(sel.selectionSet, fragments, depth, seen));
    } else {
      const frag = fragments.get(sel.name.value);
      if (!frag || seen.has(frag.name.value)) continue;
      max = Math.max(max, measureDepth(frag.selectionSet, fragments, depth, new Set([...seen, frag.name.value])));
    }
  }
  return max;
}

function countAliases(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, seen: Set<string>): number {
  let count = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (sel.alias) count++;
      if (sel.selectionSet) count += countAliases(sel.selectionSet, fragments, seen);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      count += countAliases(sel.selectionSet, fragments, seen);
    } else {
      const frag = fragments.get(sel.name.value);
      if (!frag || seen.has(frag.name.value)) continue;
      count += countAliases(frag.selectionSet, fragments, new Set([...seen, frag.name.value]));
    }
  }
  return count;
}
