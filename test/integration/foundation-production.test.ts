import { startTestApp, TestApp } from '../support/app';
import { trackedClient, wsExecute, TrackedClient } from '../support/ws-helpers';

/**
 * NODE_ENV=production: introspection off, no field suggestions, no stack traces, no landing
 * page — on HTTP and on graphql-ws. The development app shows the opposite, so the checks
 * cannot pass by accident.
 */
type Transport = 'http' | 'ws';
interface Answer {
  data: unknown;
  errors: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

async function ask(t: TestApp, ws: TrackedClient, transport: Transport, query: string, variables: Record<string, unknown>, token: string): Promise<Answer> {
  if (transport === 'http') {
    const res = await t.gql(query, variables, token);
    return { data: res.data ?? null, errors: (res.errors ?? []) as unknown as Answer['errors'] };
  }
  const out = await wsExecute(ws.client, query, variables);
  if (out.kind === 'result') return { data: out.result.data ?? null, errors: (out.result.errors ?? []) as unknown as Answer['errors'] };
  if (out.kind === 'errors') return { data: null, errors: out.errors as Answer['errors'] };
  throw new Error(`socket closed (${out.code} ${out.reason})`);
}

const INTROSPECTION = '{ __schema { queryType { name } } }';
const TYPE_INTROSPECTION = '{ __type(name: "Viewer") { name } }';
const MISSPELLED = '{ viewer { permision } }';
const BAD_ID = 'query BadId($id: ID!) { node(id: $id) { id } }';
/** A server-side error that is not the client's input (client input errors never carry stacks). */
const MISSING_HOST = 'query MissingHost($id: ID!) { dockerHost(id: $id) { id } }';
const MISSING_HOST_ID = Buffer.from('DockerHost:00000000-0000-4000-8000-000000000001').toString('base64url');

describe.each([
  ['production', true],
  ['development', false],
] as const)('%s mode', (mode, production) => {
  let t: TestApp;
  let token: string;
  let ws: TrackedClient;
  beforeAll(async () => {
    t = await startTestApp({ redis: false, env: { NODE_ENV: production ? 'production' : 'development' } });
    expect(t.config.production).toBe(production);
    token = await t.token({ account: `mode-${mode}` });
    ws = trackedClient(t.wsUrl, { authorization: `Bearer ${token}` });
    await ws.connected;
  });
  afterAll(async () => {
    await ws?.dispose();
    await t?.stop();
  });

  describe.each(['http', 'ws'] as const)('over %s', (transport) => {
    it(production ? 'refuses introspection (__schema)' : 'answers introspection (__schema)', async () => {
      const a = await ask(t, ws, transport, INTROSPECTION, {}, token);
      if (production) {
        expect(a.data).toBeNull();
        expect(a.errors.length).toBeGreaterThan(0);
        expect(a.errors[0].message).toMatch(/introspection/i);
        expect(a.errors[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      } else {
        expect(a.errors).toEqual([]);
        expect(a.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
      }
    });

    it(production ? 'refuses introspection (__type)' : 'answers introspection (__type)', async () => {
      const a = await ask(t, ws, transport, TYPE_INTROSPECTION, {}, token);
      if (production) {
        expect(a.data).toBeNull();
        expect(a.errors[0].message).toMatch(/introspection/i);
      } else {
        expect(a.data).toEqual({ __type: { name: 'Viewer' } });
      }
    });

    it(production ? 'gives no "Did you mean" suggestion for a misspelled field' : 'suggests the right field for a misspelled one', async () => {
      const a = await ask(t, ws, transport, MISSPELLED, {}, token);
      expect(a.data).toBeNull();
      expect(a.errors[0].message).toContain('permision');
      expect(a.errors[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      if (production) expect(JSON.stringify(a.errors)).not.toMatch(/Did you mean/);
      else expect(a.errors[0].message).toMatch(/Did you mean "permissions"\?/);
    });

    it('keeps error codes and sends no stack trace with an error (in development too)', async () => {
      const a = await ask(t, ws, transport, MISSING_HOST, { id: MISSING_HOST_ID }, token);
      expect(a.errors[0].extensions?.code).toBe('NOT_FOUND');
      const bad = await ask(t, ws, transport, BAD_ID, { id: 'not-an-id' }, token);
      expect(bad.errors[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(bad.errors[0].extensions?.stacktrace).toBeUndefined();
      // Apollo adds stack traces in development (includeStacktraceInErrorResponses); formatError drops them in every mode
      const text = JSON.stringify([a.errors, bad.errors]);
      expect(text).not.toMatch(/stacktrace/i);
      expect(text).not.toMatch(/\bat \S+ \(|\.ts:\d+|node_modules/);
    });

    it('answers a syntax error with GRAPHQL_PARSE_FAILED and no stack trace', async () => {
      const a = await ask(t, ws, transport, '{ viewer { ', {}, token);
      expect(a.errors[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
      if (production) expect(JSON.stringify(a.errors)).not.toMatch(/stacktrace|\.ts:\d+|node_modules/);
    });
  });

  it(production ? 'serves no Apollo Sandbox landing page at /graphql' : 'serves the Apollo Sandbox landing page at /graphql', async () => {
    const res = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
    const text = await res.text();
    if (production) expect(text).not.toMatch(/sandbox|apollo-server-landing-page|embeddable/i);
    else {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(text).toMatch(/sandbox/i);
    }
  });
});
