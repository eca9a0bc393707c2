import { ViewerDocument } from '../../src/generated/graphql';
import { startTestApp, TestApp } from '../support/app';
import { codes, transports } from '../support/transports';

/**
 * The operation gate (parse with a token cap, depth, aliases, directives, repeated fields, cost,
 * then validation) over HTTP and over graphql-ws, from one definition: a document is refused
 * with the same `extensions.code` (and `extensions.limit`) whichever transport carries it.
 *
 * Limits (FLEETGRAPH_LIMITS, over the defaults): depth 4, 3 aliases, 3 directives, 5 repeats of
 * a field in a selection set, cost 100, 200 tokens. The Viewer operation (depth 3, cost 8) fits.
 */
const LIMITS = { maxDepth: 4, maxAliases: 3, maxDirectives: 3, maxFieldRepeats: 5, maxCost: 100, maxTokens: 200 };

/** The first error's code and limit, and whether any data came back. */
const refusal = (res: { data?: unknown; errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> }) => ({
  code: res.errors?.[0]?.extensions?.code,
  limit: res.errors?.[0]?.extensions?.limit,
  data: res.data ?? null,
});

describe('operation gate over every transport', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ redis: false, env: { FLEETGRAPH_LIMITS: JSON.stringify(LIMITS) } });
  });
  afterAll(() => t?.stop());

  for (const tr of transports) {
    describe(tr.name, () => {
      let token: string;
      beforeAll(async () => {
        token = await t.token({ account: `limits-${tr.name}`, permissions: ['docker.logs.read'] });
      });
      const run = (query: string, variables?: Record<string, unknown>, operationName?: string) => tr.execute<unknown, Record<string, unknown>>(t, query, variables, token, { operationName });

      it('runs an operation inside every limit', async () => {
        const res = await tr.execute(t, ViewerDocument, {}, token);
        expect(res.errors).toBeUndefined();
        expect(res.data?.viewer).toMatchObject({ account: { name: `limits-${tr.name}` }, permissions: ['docker.logs.read'] });
        // exactly at the limits: 3 aliases, 3 directives, depth 4
        const edge = await run('{ a: __typename b: __typename c: __typename viewer @include(if: true) { user @skip(if: false) { id @include(if: true) } } }');
        expect(edge.errors).toBeUndefined();
        expect(edge.data).toMatchObject({ a: 'Query', b: 'Query', c: 'Query', viewer: { user: { id: expect.any(String) } } });
        const deep = await run('{ dockerHosts(first: 2) { nodes { health { status } } } }');
        expect(deep).toEqual({ data: { dockerHosts: { nodes: [] } } });
      });

      it.each([
        ['too deep', '{ dockerHosts(first: 1) { nodes { containers(first: 1) { nodes { id } } } } }', 'depth'],
        [
          'too deep through a fragment',
          'query Q { dockerHosts(first: 1) { ...H } } fragment H on DockerHostConnection { nodes { ... on DockerHost { containers(first: 1) { nodes { id } } } } }',
          'depth',
        ],
        ['too many aliases', '{ a: __typename b: __typename c: __typename d: __typename }', 'aliases'],
        ['too many directives', '{ __typename @include(if: true) viewer @include(if: true) { permissions @include(if: true) user @skip(if: false) { id } } }', 'directives'],
        ['a field repeated too often', `{ viewer { ${'permissions '.repeat(6)} } }`, 'fieldRepeats'],
        ['too costly', '{ dockerHosts(first: 100) { nodes { id name } } }', 'cost'],
        ['too costly through a list variable default', 'query($first: Int = 100) { dockerHosts(first: $first) { nodes { id name } } }', 'cost'],
        ['too many tokens', `{ viewer { ${Array.from({ length: 120 }, (_, i) => `p${i}: permissions`).join(' ')} } }`, 'tokens'],
      ])('refuses a document %s with QUERY_TOO_COMPLEX before running it', async (_what, query, limit) => {
        expect(refusal(await run(query))).toEqual({ code: 'QUERY_TOO_COMPLEX', limit, data: null });
      });

      it('refuses a subscription selecting live Docker fields with QUERY_TOO_COMPLEX', async () => {
        expect(refusal(await run('subscription { dockerEvents(hostId: "x") { host { volumes { name } } } }'))).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 'liveFieldInSubscription', data: null });
      });

      it('refuses an unknown field with GRAPHQL_VALIDATION_FAILED, every error coded', async () => {
        const res = await run('{ viewer { permissions nope } nothere }');
        expect(codes(res)).toEqual(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_VALIDATION_FAILED']);
        expect(res.errors!.map((e) => e.message).join('\n')).toMatch(/Cannot query field "nope" on type "Viewer"/);
        expect(res.data ?? null).toBeNull();
      });

      it('refuses a syntax error with GRAPHQL_PARSE_FAILED', async () => {
        const res = await run('{ viewer { permissions }');
        expect(codes(res)).toEqual(['GRAPHQL_PARSE_FAILED']);
        expect(res.errors![0].message).toMatch(/Syntax Error/);
        expect(res.data ?? null).toBeNull();
      });

      it('refuses a variable of the wrong type with BAD_USER_INPUT', async () => {
        const res = await run('query($first: Int) { dockerHosts(first: $first) { totalCount } }', { first: 'ten' });
        expect(codes(res)).toEqual(['BAD_USER_INPUT']);
        expect(res.data ?? null).toBeNull();
      });

      // Both transports resolve the operation the same way (OperationGate.operation over WS, Apollo over HTTP).
      it('refuses an operationName the document does not define with OPERATION_RESOLUTION_FAILURE', async () => {
        const res = await run('query A { __typename } query B { __typename }', {}, 'C');
        expect(codes(res)).toEqual(['OPERATION_RESOLUTION_FAILURE']);
        expect(res.data ?? null).toBeNull();
      });

      it('refuses an anonymous caller of a valid query with UNAUTHENTICATED', async () => {
        const res = await tr.execute(t, '{ viewer { permissions } }', {});
        expect(codes(res)).toEqual(['UNAUTHENTICATED']);
        expect(res.data ?? null).toBeNull();
      });

      // The one deliberate difference: WS authenticates the connection (connection_init) and refuses an
      // anonymous one before any document, while HTTP admits an anonymous document through the gate first
      // (introspection and Apollo Sandbox need no token), so its refusal is the gate's or the resolver's.
      it.each([
        ['too many aliases', '{ a: __typename b: __typename c: __typename d: __typename }', 'QUERY_TOO_COMPLEX'],
        ['an unknown field', '{ nothere }', 'GRAPHQL_VALIDATION_FAILED'],
        ['a syntax error', '{ viewer { permissions }', 'GRAPHQL_PARSE_FAILED'],
      ])('refuses an anonymous caller with a bad document (%s): WS at the connection, HTTP at the gate', async (_what, query, httpCode) => {
        const res = await tr.execute(t, query, {});
        expect(codes(res)).toEqual([tr.name === 'ws' ? 'UNAUTHENTICATED' : httpCode]);
        expect(res.data ?? null).toBeNull();
      });
    });
  }
});
