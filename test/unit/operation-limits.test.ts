import { GraphQLSchema, parse } from 'graphql';
import { DEFAULT_LIMITS, Limits, parseLimits } from '../../src/kernel/config';
import { buildFleetSchema } from '../../src/app/schema';
import { createMemoryPubSub } from '../../src/infra/pubsub';
import { admitOperation, checkDocument } from '../../src/server/limits';
import { abortable } from '../../src/kernel/abort';

/**
 * The operation gate on the real schema (building it touches no service): pricing, linear
 * walks over fragments, and refusals that are errors rather than passes.
 */
let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildFleetSchema(createMemoryPubSub());
});

/** The cost of a document (the limit set to 0, so the refusal reports it), or the error's code. */
function cost(query: string, variables: Record<string, unknown> = {}): number | string {
  const [e] = checkDocument(schema, parse(query), variables, { ...DEFAULT_LIMITS, maxCost: 0 });
  return e.extensions.limit === 'cost' ? (e.extensions.actual as number) : String(e.extensions.code);
}

function refusal(query: string, limits: Partial<Limits> = {}, variables: Record<string, unknown> = {}) {
  const out = admitOperation(schema, { query, variables }, { ...DEFAULT_LIMITS, ...limits });
  if (!('errors' in out)) return undefined;
  const [e] = out.errors;
  return { code: e.extensions.code, limit: e.extensions.limit, message: e.message };
}

/** `n` levels of fragments, each spreading the next twice: 2^n copies of the innermost once expanded. */
const doubling = (n: number, inner: string, each = '') =>
  `query { ...F0 } ${Array.from({ length: n }, (_, i) => `fragment F${i} on Query { ${each.replace('$i', String(i))} ...F${i + 1} ...F${i + 1} }`).join(' ')} fragment F${n} on Query { ${inner} }`;

describe('pricing', () => {
  it('a field costs 1; a connection multiplies its selection by first (default 20)', () => {
    expect(cost('{ viewer { permissions } }')).toBe(2);
    // 1 + 20 × (nodes 1 + id 1)
    expect(cost('{ dockerHosts { nodes { id } } }')).toBe(41);
    expect(cost('{ dockerHosts(first: 5) { nodes { id } } }')).toBe(11);
  });

  it('a live Docker field costs dockerCallCost per call and is multiplied by the lists it sits in', () => {
    const D = DEFAULT_LIMITS.dockerCallCost;
    // dockerHosts: 1 + 20 × (nodes 1 + containers (1 + 20 × (nodes 1 + inspect 1 + D)))
    expect(cost('{ dockerHosts { nodes { containers { nodes { inspect } } } } }')).toBe(1 + 20 * (1 + 1 + 20 * (1 + 1 + D)));
    // volumes: a live list (1 + D) whose items are priced listSize (20) times
    expect(cost('{ dockerHosts { nodes { volumes { inspect } } } }')).toBe(1 + 20 * (1 + 1 + D + 20 * (1 + D)));
    expect(cost('query($id: ID!) { networks(hostId: $id) { name } }', { id: 'x' })).toBe(1 + D + 20 * 1);
  });

  it("a connection's totalCount and pageInfo count once, its items once per item", () => {
    // 1 + totalCount 1 + pageInfo (1 + 2) + 5 × (nodes 1 + id 1)
    expect(cost('{ dockerHosts(first: 5) { totalCount pageInfo { hasNextPage endCursor } nodes { id } } }')).toBe(1 + 1 + 3 + 5 * 2);
    // through a fragment on the connection type too
    expect(cost('{ dockerHosts(first: 5) { ...C } } fragment C on DockerHostConnection { totalCount edges { cursor node { id } } }')).toBe(1 + 1 + 5 * (1 + 1 + 2));
  });

  it('admits a dashboard page of 50 hosts × 100 containers with the default limits; refuses the same page with live fields', () => {
    const page =
      '{ dockerHosts(first: 50) { totalCount pageInfo { hasNextPage endCursor } nodes { id name status containers(first: 100) { totalCount pageInfo { hasNextPage endCursor } nodes { id name state image status health } } } } }';
    expect(cost(page)).toBeLessThanOrEqual(DEFAULT_LIMITS.maxCost);
    expect(refusal(page)).toBeUndefined();
    expect(refusal('{ dockerHosts(first: 50) { nodes { containers(first: 100) { nodes { id name state image status health command imageId } } } } }')).toBeUndefined();
    expect(refusal('{ dockerHosts(first: 50) { nodes { containers(first: 100) { nodes { id inspect } } } } }')).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'cost' });
    // about 100 live calls is the most one operation may make
    expect(refusal('query($id: ID!) { dockerHost(id: $id) { containers(first: 90) { nodes { inspect } } } }', {}, { id: 'x' })).toBeUndefined();
    expect(refusal('query($id: ID!) { dockerHost(id: $id) { containers(first: 100) { nodes { inspect } } } }', {}, { id: 'x' })).toMatchObject({ limit: 'cost' });
  });

  it('a list asked for by ids costs its selection once per id', () => {
    expect(cost('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: ['a', 'b', 'c'] })).toBe(1 + 3);
    expect(cost('{ nodes(ids: ["a", "b"]) { id } }')).toBe(1 + 2);
  });

  it('first from a variable, from its default, or the default page size; a non-integer is BAD_USER_INPUT, not a pass', () => {
    const q = 'query($n: Int) { dockerHosts(first: $n) { nodes { id } } }';
    expect(cost(q, { n: 5 })).toBe(11);
    expect(cost(q)).toBe(41);
    expect(cost('query($n: Int = 7) { dockerHosts(first: $n) { nodes { id } } }')).toBe(15);
    expect(cost(q, { n: '5' })).toBe('BAD_USER_INPUT');
    expect(cost(q, { n: 1.5 })).toBe('BAD_USER_INPUT');
    expect(cost(q, { n: { first: 1 } })).toBe('BAD_USER_INPUT');
  });

  it("an unset list variable is priced at its default's length, or maxPageSize without a default (never 1)", () => {
    const ids = Array.from({ length: 100 }, (_, i) => `"h${i}"`).join(', ');
    const selection = '{ nodes(ids: $ids) { ... on DockerHost { containers(first: 90) { nodes { inspect } } } } }';
    const inline = cost(`{ nodes(ids: [${ids}]) { ... on DockerHost { containers(first: 90) { nodes { inspect } } } } }`);
    // the default is priced as the same list written inline
    expect(cost(`query($ids: [ID!]! = [${ids}]) ${selection}`)).toBe(inline);
    const D = DEFAULT_LIMITS.dockerCallCost;
    expect(inline).toBe(1 + 100 * (1 + 90 * (1 + 1 + D)));
    // a variable given wins over its default
    expect(cost(`query($ids: [ID!]! = [${ids}]) ${selection}`, { ids: ['a'] })).toBe(1 + 1 + 90 * (2 + D));
    // no default and unset: the largest list a page holds
    expect(cost('query($ids: [ID!]) { nodes(ids: $ids) { id } }')).toBe(1 + DEFAULT_LIMITS.maxPageSize);
    expect(cost('query($ids: [ID!] = "a") { nodes(ids: $ids) { id } }')).toBe(1 + 1);
    expect(refusal(`query($ids: [ID!]! = [${ids}]) ${selection}`)).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'cost' });
  });

  it('every operation of the document is checked, not only the one that runs', () => {
    const doc = 'query Small { viewer { permissions } } query Big { dockerHosts(first: 100) { nodes { containers(first: 100) { nodes { inspect } } } } }';
    expect(refusal(doc, {}, {})).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'cost' });
  });
});

describe('subscriptions', () => {
  it('may not select fields that call Docker (their selection runs for every event), also through fragments', () => {
    expect(refusal('subscription { dockerEvents(hostId: "x") { host { volumes { inspect } networks { inspect } } } }')).toMatchObject({
      code: 'QUERY_TOO_COMPLEX',
      limit: 'liveFieldInSubscription',
    });
    expect(refusal('subscription { dockerEvents(hostId: "x") { ...E } } fragment E on DockerEvent { host { ...H } } fragment H on DockerHost { volumes { name } }')).toMatchObject({
      limit: 'liveFieldInSubscription',
    });
    // stored fields are fine, and the same live fields in a query are priced, not refused
    expect(refusal('subscription { dockerEvents(hostId: "x") { id host { id name } } }')).toBeUndefined();
    expect(refusal('query { dockerHosts(first: 1) { nodes { volumes { name } } } }')).toBeUndefined();
  });
});

describe('linear in the document', () => {
  it('25 levels of doubling fragments (2^25 copies) are priced and refused in milliseconds', () => {
    const started = performance.now();
    // the 2^25 viewers merge into the operation's selection set
    expect(refusal(doubling(25, 'viewer { permissions }'))).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'fieldRepeats' });
    // and are priced when repeats are allowed
    expect(refusal(doubling(25, 'viewer { permissions }'), { maxFieldRepeats: 2 ** 30 })).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'cost' });
    expect(refusal(doubling(25, '__typename', 'a$i: __typename'), { maxFieldRepeats: 2 ** 30 })).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'aliases' });
    expect(refusal(doubling(25, 'viewer { permissions @include(if: true) }'), { maxFieldRepeats: 2 ** 30 })).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'directives' });
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('a padded query (more than 10,000 fields once fragments are expanded) is still priced', () => {
    const padded = doubling(16, 'viewer { permissions }').replace('query { ...F0 }', 'query { dockerHosts(first: 100) { nodes { id } } ...F0 }');
    expect(refusal(padded, { maxFieldRepeats: 2 ** 30 })).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'cost' });
  });

  it('depth counts through fragments once each', () => {
    const chain = `query { viewer { ...D0 } } ${Array.from({ length: 13 }, (_, i) => `fragment D${i} on Viewer { ...D${i + 1} }`).join(' ')} fragment D13 on Viewer { user { id } }`;
    expect(refusal(chain, { maxDepth: 2 })).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'depth' });
    expect(refusal(chain, { maxDepth: 3 })).toBeUndefined();
  });

  it('a fragment cycle is refused without looping', () => {
    expect(refusal('query { ...A } fragment A on Query { ...B } fragment B on Query { viewer { permissions } ...A }')).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED' });
    expect(refusal('query { viewer { permissions } } fragment A on Query { ...A }')).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED' });
  });
});

describe('before validation', () => {
  it('a 40,000-field document stops at the token cap', () => {
    const query = `{ viewer { ${'permissions '.repeat(40_000)} } }`;
    expect(refusal(query)).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'tokens' });
    expect(refusal(`{ viewer { ${'permissions '.repeat(40)} } }`, { maxTokens: 40 })).toMatchObject({ limit: 'tokens' });
  });

  it('one response name selected many times in a selection set (validation compares them pairwise) is refused', () => {
    expect(refusal(`{ viewer { ${'permissions '.repeat(21)} } }`)).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'fieldRepeats' });
    // inline fragments merge into the same selection set
    expect(refusal(`{ viewer { ${'... on Viewer { permissions } '.repeat(21)} } }`)).toMatchObject({ limit: 'fieldRepeats' });
    expect(refusal(`{ viewer { ${'permissions '.repeat(20)} } }`)).toBeUndefined();
  });

  it('named fragments spread in one selection set count into it, as validation merges them', () => {
    const spreads = (n: number) =>
      `query { ${Array.from({ length: n }, (_, i) => `...F${i}`).join(' ')} } ${Array.from({ length: n }, (_, i) => `fragment F${i} on Query { viewer { permissions } }`).join(' ')}`;
    const started = performance.now();
    expect(refusal(spreads(150))).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'fieldRepeats' });
    expect(refusal(spreads(21))).toMatchObject({ limit: 'fieldRepeats' });
    expect(performance.now() - started).toBeLessThan(50);
    expect(refusal(spreads(20))).toBeUndefined();
    // through nested fragments too: 3 × 7 = 21 viewers in the operation's selection set
    const nested = `query { ...A ...A ...A } fragment A on Query { ${Array.from({ length: 7 }, () => '...B').join(' ')} } fragment B on Query { viewer { id } }`;
    expect(refusal(nested)).toMatchObject({ limit: 'fieldRepeats' });
  });

  it('many directives are refused', () => {
    expect(refusal(`{ __typename ${'@include(if: true) '.repeat(51)} }`)).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'directives' });
  });

  it('syntax errors are GRAPHQL_PARSE_FAILED', () => {
    expect(refusal('{ viewer ')).toMatchObject({ code: 'GRAPHQL_PARSE_FAILED' });
  });
});

describe('FLEETGRAPH_LIMITS', () => {
  it('overrides known limits with positive integers and refuses anything else', () => {
    expect(parseLimits(undefined)).toEqual(DEFAULT_LIMITS);
    expect(parseLimits('{"maxCost": 8000, "requestsPerMinute": 60}')).toEqual({ ...DEFAULT_LIMITS, maxCost: 8000, requestsPerMinute: 60 });
    expect(() => parseLimits('{"maxCots": 1}')).toThrow(/unknown limit "maxCots"/);
    expect(() => parseLimits('{"maxCost": 0}')).toThrow(/positive integer/);
    expect(() => parseLimits('{"maxCost": "5000"}')).toThrow(/positive integer/);
    expect(() => parseLimits('[1]')).toThrow(/JSON object/);
    expect(() => parseLimits('maxCost=1')).toThrow(/JSON object/);
  });
});

describe('abortable', () => {
  it('stops waiting when the signal aborts, with its reason', async () => {
    const controller = new AbortController();
    const never = new Promise<string>(() => undefined);
    const waiting = abortable(never, controller.signal);
    controller.abort(new Error('deadline'));
    await expect(waiting).rejects.toThrow('deadline');
    await expect(abortable(Promise.resolve('ok'), controller.signal)).rejects.toThrow('deadline');
    await expect(abortable(Promise.resolve('ok'), new AbortController().signal)).resolves.toBe('ok');
    await expect(abortable(Promise.reject(new Error('docker')), undefined)).rejects.toThrow('docker');
  });
});
