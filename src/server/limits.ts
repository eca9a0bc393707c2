import {
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLCompositeType,
  GraphQLError,
  GraphQLField,
  GraphQLSchema,
  Kind,
  OperationDefinitionNode,
  SelectionSetNode,
  ValueNode,
  getNamedType,
  getNullableType,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  parse,
} from 'graphql';
import type { Limits } from '../kernel/config';
import { badInput, tooComplex } from '../kernel/errors';
import { DEFAULT_PAGE_SIZE } from '../graphql/connection';

/**
 * The admission of a GraphQL operation, the same for HTTP (Apollo's context function) and
 * WebSocket (graphql-ws onSubscribe), before graphql-js validates it:
 *
 * 1. parse with a token cap (`maxTokens`): parsing stops at the cap, so a 40,000-field document
 *    costs a few milliseconds and never reaches validation;
 * 2. one linear walk of the document (each fragment analysed once and memoised, cycles refused)
 *    that counts depth, aliases, directives and repeated fields, and prices the operation.
 *
 * Validation is the expensive step (OverlappingFieldsCanBeMerged compares the fields of a
 * selection set pairwise): with tokens capped and no response name selected more than
 * `maxFieldRepeats` times in one selection set, it stays in the low milliseconds.
 *
 * Cost: 1 per field, plus `dockerCallCost` per live Docker call a field makes (its
 * `@Extensions({ dockerCalls: n })`); the cost of a connection's items (its `nodes` and `edges`)
 * is multiplied by `first` (default page size) while its `totalCount` and `pageInfo` count once,
 * and the cost of any other list's selection is multiplied by the length of its `ids` argument or
 * `listSize`. A cost that cannot be computed is an error, never a pass: a variable that does
 * not hold an integer for `first` is BAD_USER_INPUT; anything unexpected escapes as an internal
 * error (the request is refused either way).
 *
 * The two prices are what the work costs: a stored field is one resolver run over a row that
 * nested connections load for all parents in one statement (src/graphql/connection.ts), a live
 * call is a round trip to a Docker engine. With the defaults (field 1, Docker call 500, maxCost
 * 50,000) an operation makes at most ~100 live calls, and a dashboard page of 50 hosts × 100
 * containers with up to 8 fields per container (≈ 45,000) is admitted.
 */
export interface OperationRequest {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
}

export type Admission = { document: DocumentNode } | { errors: GraphQLError[] };

/** A graphql-js error (parse, validation) with the code Apollo gives it over HTTP. */
export function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { ...error.extensions, code } });
}

// graphql 16 says "more that N tokens"
const TOKEN_CAP = /Document contains more tha[nt] \d+ tokens/;

export function admitOperation(schema: GraphQLSchema, request: OperationRequest, limits: Limits): Admission {
  let document: DocumentNode;
  try {
    document = parse(request.query, { maxTokens: limits.maxTokens });
  } catch (err) {
    if (!(err instanceof GraphQLError)) throw err;
    if (TOKEN_CAP.test(err.message)) {
      return { errors: [tooComplex(`The document has more than ${limits.maxTokens} tokens`, { limit: 'tokens', max: limits.maxTokens })] };
    }
    return { errors: [withCode(err, 'GRAPHQL_PARSE_FAILED')] };
  }
  const errors = checkDocument(schema, document, request.variables ?? {}, limits);
  return errors.length > 0 ? { errors } : { document };
}

interface Totals {
  depth: number;
  aliases: number;
  directives: number;
  cost: number;
  /**
   * Cost of the fields of a connection that run once per item (`nodes`, `edges`): the field that
   * returns the connection multiplies it by its page size. Zero for any other selection set.
   */
  perItem: number;
  /** Fields that call Docker (refused in subscriptions, whose selection runs again for every event). */
  liveFields: number;
}

const ZERO: Totals = { depth: 0, aliases: 0, directives: 0, cost: 0, perItem: 0, liveFields: 0 };

/** Fields of a connection that run once per connection, not once per item: all others are priced per item (fail closed). */
const ONCE_PER_CONNECTION = new Set(['totalCount', 'pageInfo', '__typename']);

/** Whether a type is a connection built by src/graphql/connection.ts (`<Name>Connection`). */
const isConnection = (type: GraphQLCompositeType | undefined) => Boolean(type && isObjectType(type) && type.name.endsWith('Connection'));

/** A fragment's totals and how many times it selects each response name at its top level (validation merges them into the spreading set). */
interface FragmentTotals {
  totals: Totals;
  repeats: Map<string, number>;
}

/**
 * Depth, aliases, directives and cost of every operation of a parsed document (each must be
 * within the limits: all of them reach validation), and repeated fields anywhere in it.
 * Returns the first limit exceeded, or none.
 */
export function checkDocument(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown>, limits: Limits): GraphQLError[] {
  try {
    const walk = new DocumentWalk(schema, document, variables, limits);
    for (const op of walk.operations) {
      const t = walk.operation(op);
      const exceeded =
        t.depth > limits.maxDepth
          ? tooComplex(`Query depth ${t.depth} exceeds the limit of ${limits.maxDepth}`, { limit: 'depth', max: limits.maxDepth, actual: t.depth })
          : t.aliases > limits.maxAliases
            ? tooComplex(`Query uses ${t.aliases} aliases, more than the limit of ${limits.maxAliases}`, { limit: 'aliases', max: limits.maxAliases, actual: t.aliases })
            : t.directives > limits.maxDirectives
              ? tooComplex(`Query uses ${t.directives} directives, more than the limit of ${limits.maxDirectives}`, { limit: 'directives', max: limits.maxDirectives, actual: t.directives })
              : // refused whatever it costs, so named before the cost (a live call alone is priced high)
                op.operation === 'subscription' && t.liveFields > 0
                ? tooComplex('A subscription may not select fields that call Docker (they would run again for every event); query them separately', {
                    limit: 'liveFieldInSubscription',
                    actual: t.liveFields,
                  })
                : // written so that NaN fails too
                  !(t.cost <= limits.maxCost)
                  ? tooComplex(`Query cost ${finite(t.cost)} exceeds the limit of ${limits.maxCost}`, { limit: 'cost', max: limits.maxCost, actual: finite(t.cost) })
                  : undefined;
      if (exceeded) return [exceeded];
    }
    walk.remainingFragments();
    return [];
  } catch (err) {
    if (err instanceof GraphQLError) return [err];
    throw err;
  }
}

/** What validation would say about the document (the walk met it first). */
const invalid = (message: string) => new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });

const finite = (n: number) => (Number.isFinite(n) ? n : Number.MAX_SAFE_INTEGER);

/** One pass over a document; each fragment's totals are computed once (they do not depend on where it is spread). */
class DocumentWalk {
  readonly operations: OperationDefinitionNode[] = [];
  private readonly fragments = new Map<string, FragmentDefinitionNode>();
  /** Totals per fragment; null while the fragment is being walked (a spread of it then is a cycle). */
  private readonly memo = new Map<string, FragmentTotals | null>();
  /** The largest integer default of each variable over the operations (fragments are shared by them). */
  private readonly defaults = new Map<string, number>();
  /** The longest list default of each variable over the operations (a non-list default counts as a list of one). */
  private readonly listDefaults = new Map<string, number>();

  constructor(
    private readonly schema: GraphQLSchema,
    document: DocumentNode,
    private readonly variables: Record<string, unknown>,
    private readonly limits: Limits,
  ) {
    for (const def of document.definitions) {
      if (def.kind === Kind.OPERATION_DEFINITION) {
        this.operations.push(def);
        for (const v of def.variableDefinitions ?? []) {
          const name = v.variable.name.value;
          if (v.defaultValue?.kind === Kind.INT) this.defaults.set(name, Math.max(this.defaults.get(name) ?? 0, Number(v.defaultValue.value)));
          if (v.defaultValue && v.defaultValue.kind !== Kind.NULL) {
            const length = v.defaultValue.kind === Kind.LIST ? v.defaultValue.values.length : 1;
            this.listDefaults.set(name, Math.max(this.listDefaults.get(name) ?? 0, length));
          }
        }
      } else if (def.kind === Kind.FRAGMENT_DEFINITION) {
        if (this.fragments.has(def.name.value)) throw invalid(`There can be only one fragment named "${def.name.value}".`);
        this.fragments.set(def.name.value, def);
      }
    }
  }

  operation(op: OperationDefinitionNode): Totals {
    const root = op.operation === 'query' ? this.schema.getQueryType() : op.operation === 'mutation' ? this.schema.getMutationType() : this.schema.getSubscriptionType();
    const t = this.selectionSet(op.selectionSet, root ?? undefined);
    const ownDirectives = (op.directives?.length ?? 0) + (op.variableDefinitions ?? []).reduce((n, v) => n + (v.directives?.length ?? 0), 0);
    // perItem is zero on a root type; folded in anyway, so nothing priced is ever left out
    return { ...t, cost: t.cost + t.perItem, perItem: 0, directives: t.directives + ownDirectives };
  }

  /** Fragments no operation spreads: validation refuses them, but walks them first, so they are checked too. */
  remainingFragments(): void {
    for (const name of this.fragments.keys()) this.fragment(name);
  }

  private fragment(name: string): FragmentTotals {
    const known = this.memo.get(name);
    if (known) return known;
    if (known === null) throw invalid(`Cannot spread fragment "${name}" within itself.`);
    const def = this.fragments.get(name);
    if (!def) return { totals: ZERO, repeats: new Map() }; // unknown fragment: validation refuses it
    this.memo.set(name, null);
    const repeats = new Map<string, number>();
    const t = { ...ZERO };
    this.collect(def.selectionSet, compositeType(this.schema, def.typeCondition.name.value), repeats, t);
    const result = { totals: { ...t, directives: t.directives + (def.directives?.length ?? 0) }, repeats };
    this.memo.set(name, result);
    return result;
  }

  private selectionSet(set: SelectionSetNode, type: GraphQLCompositeType | undefined): Totals {
    const totals = { ...ZERO };
    this.collect(set, type, new Map(), totals);
    return totals;
  }

  /**
   * Adds the selections of `set` to `totals`. Inline and named fragments are flattened into the
   * same response-name counts, as validation merges them (a named fragment's counts are computed
   * once and added at each spread: the document is capped at `maxTokens`, so this stays cheap).
   * Alternatives on abstract types are added up (an upper bound).
   */
  private collect(set: SelectionSetNode, type: GraphQLCompositeType | undefined, repeats: Map<string, number>, totals: Totals): void {
    for (const sel of set.selections) {
      totals.directives += sel.directives?.length ?? 0;
      if (sel.kind === Kind.FIELD) {
        const responseName = (sel.alias ?? sel.name).value;
        this.count(repeats, responseName, 1);
        if (sel.alias) totals.aliases++;
        this.field(sel, type, totals);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const inner = sel.typeCondition ? compositeType(this.schema, sel.typeCondition.name.value) : type;
        const t = { ...ZERO };
        this.collect(sel.selectionSet, inner, repeats, t);
        add(totals, t);
      } else {
        const fragment = this.fragment(sel.name.value);
        for (const [responseName, n] of fragment.repeats) this.count(repeats, responseName, n);
        add(totals, fragment.totals);
      }
    }
  }

  /** Counts `n` more selections of a response name in one selection set; refuses more than maxFieldRepeats. */
  private count(repeats: Map<string, number>, responseName: string, n: number): void {
    const seen = (repeats.get(responseName) ?? 0) + n;
    if (seen > this.limits.maxFieldRepeats) {
      throw tooComplex(`"${responseName.slice(0, 100)}" is selected more than ${this.limits.maxFieldRepeats} times in one selection set`, { limit: 'fieldRepeats', max: this.limits.maxFieldRepeats });
    }
    repeats.set(responseName, seen);
  }

  private field(node: FieldNode, parent: GraphQLCompositeType | undefined, totals: Totals): void {
    const name = node.name.value;
    const def = fieldOf(parent, name);
    const childType = def ? compositeType(this.schema, getNamedType(def.type).name) : undefined;
    const child = node.selectionSet ? this.selectionSet(node.selectionSet, childType) : ZERO;
    totals.aliases += child.aliases;
    totals.directives += child.directives;
    totals.liveFields += child.liveFields;
    // introspection (development only) and __typename: neither depth nor cost, as before
    if (name.startsWith('__')) return;
    totals.depth = Math.max(totals.depth, 1 + child.depth);
    const calls = this.dockerCalls(def);
    if (calls > 0) totals.liveFields++;
    const times = this.multiplier(node, def, parent);
    // a connection's items run `first` times, its totalCount and pageInfo once
    const cost = 1 + calls * this.limits.dockerCallCost + (isConnection(childType) ? times * child.perItem + child.cost : times * (child.cost + child.perItem));
    if (isConnection(parent) && !ONCE_PER_CONNECTION.has(name)) totals.perItem += cost;
    else totals.cost += cost;
  }

  private dockerCalls(def: GraphQLField<unknown, unknown> | undefined): number {
    const calls = def?.extensions?.dockerCalls;
    if (calls === undefined) return 0;
    if (typeof calls !== 'number' || !Number.isFinite(calls) || calls < 0) throw new Error(`field ${def!.name}: extensions.dockerCalls must be a non-negative number`);
    return calls;
  }

  /** How many times a field's selection runs: a connection's page size, a list's length, else 1. */
  private multiplier(node: FieldNode, def: GraphQLField<unknown, unknown> | undefined, parent: GraphQLCompositeType | undefined): number {
    if (!def) return 1;
    const named = getNamedType(def.type);
    if (isObjectType(named) && named.name.endsWith('Connection')) return this.intArgument(node, 'first') ?? DEFAULT_PAGE_SIZE;
    // edges and nodes of a connection are already counted by the connection
    if (!isListType(getNullableType(def.type)) || parent?.name.endsWith('Connection')) return 1;
    return this.listLength(node, 'ids') ?? this.limits.listSize;
  }

  /** An Int argument's value, from the literal or the variables (a variable's default when unset). */
  private intArgument(node: FieldNode, name: string): number | undefined {
    const value = node.arguments?.find((a) => a.name.value === name)?.value;
    if (!value) return undefined;
    if (value.kind === Kind.VARIABLE) {
      const v = this.variables[value.name.value];
      if (v === undefined || v === null) return this.defaults.get(value.name.value);
      if (!Number.isSafeInteger(v)) throw badInput(name, `must be an integer (variable $${value.name.value})`);
      return Math.max(1, v as number);
    }
    if (value.kind === Kind.NULL) return undefined;
    // anything but an integer literal is refused by validation; price it as the largest page meanwhile
    return value.kind === Kind.INT ? Math.max(1, Number(value.value)) : this.limits.maxPageSize;
  }

  /**
   * The length of a list argument (a single value counts as one, as input coercion makes it a
   * list of one); an unset variable has its default's length, or, with no default, maxPageSize.
   */
  private listLength(node: FieldNode, name: string): number | undefined {
    const value: ValueNode | undefined = node.arguments?.find((a) => a.name.value === name)?.value;
    if (!value) return undefined;
    if (value.kind === Kind.LIST) return value.values.length;
    if (value.kind !== Kind.VARIABLE) return 1;
    const v = this.variables[value.name.value];
    if (v === undefined || v === null) return this.listDefaults.get(value.name.value) ?? this.limits.maxPageSize;
    return Array.isArray(v) ? v.length : 1;
  }
}

function add(to: Totals, t: Totals): void {
  to.depth = Math.max(to.depth, t.depth);
  to.aliases += t.aliases;
  to.directives += t.directives;
  to.cost += t.cost;
  to.perItem += t.perItem;
  to.liveFields += t.liveFields;
}

function compositeType(schema: GraphQLSchema, name: string): GraphQLCompositeType | undefined {
  const type = schema.getType(name);
  return type && isCompositeType(type) ? type : undefined;
}

function fieldOf(type: GraphQLCompositeType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
  return type && (isObjectType(type) || isInterfaceType(type)) ? type.getFields()[name] : undefined;
}
