import { DEFAULT_LIMITS } from '../../src/kernel/config';
import { startTestApp, TestApp } from '../support/app';
import { rawGraphqlWs, trackedClient, wsExecute, TrackedClient, WsOutcome } from '../support/ws-helpers';

/**
 * Query limits on both transports: Apollo applies them in a plugin, graphql-ws in onSubscribe.
 * Every case runs over HTTP and over WS.
 */
type Transport = 'http' | 'ws';
interface Outcome {
  data: unknown;
  code?: unknown;
  limit?: unknown;
}

async function run(t: TestApp, ws: TrackedClient, transport: Transport, query: string, token: string): Promise<Outcome> {
  if (transport === 'http') {
    const res = await t.gql(query, {}, token);
    return { data: res.data ?? null, code: res.errors?.[0]?.extensions?.code, limit: res.errors?.[0]?.extensions?.limit };
  }
  const out: WsOutcome<unknown> = await wsExecute(ws.client, query);
  if (out.kind === 'result') return { data: out.result.data ?? null, code: out.result.errors?.[0]?.extensions?.code, limit: out.result.errors?.[0]?.extensions?.limit };
  if (out.kind === 'errors') return { data: null, code: out.errors[0]?.extensions?.code, limit: out.errors[0]?.extensions?.limit };
  throw new Error(`socket closed (${out.code} ${out.reason})`);
}

const TRANSPORTS: Transport[] = ['http', 'ws'];

describe('query limits (maxDepth 2, maxAliases 3, maxCost 5)', () => {
  let t: TestApp;
  let token: string;
  let ws: TrackedClient;
  beforeAll(async () => {
    t = await startTestApp({ redis: false, config: { limits: { ...DEFAULT_LIMITS, maxDepth: 2, maxAliases: 3, maxCost: 5 } } });
    token = await t.token({ account: 'limits' });
    ws = trackedClient(t.wsUrl, { authorization: `Bearer ${token}` });
    await ws.connected;
  });
  afterAll(async () => {
    await ws?.dispose();
    await t?.stop();
  });

  describe.each(TRANSPORTS)('over %s', (transport) => {
    it('runs a query inside every limit', async () => {
      const out = await run(t, ws, transport, 'query InsideLimits { viewer { permissions } }', token);
      expect(out).toEqual({ data: { viewer: { permissions: [] } }, code: undefined, limit: undefined });
    });

    it('refuses a query deeper than maxDepth with QUERY_TOO_COMPLEX', async () => {
      const out = await run(t, ws, transport, '{ viewer { user { id } } }', token);
      expect(out).toEqual({ data: null, code: 'QUERY_TOO_COMPLEX', limit: 'depth' });
    });

    it('counts depth through fragments', async () => {
      const out = await run(t, ws, transport, 'query Q { viewer { ...V } } fragment V on Viewer { user { ... on User { id } } }', token);
      expect(out).toMatchObject({ data: null, code: 'QUERY_TOO_COMPLEX', limit: 'depth' });
    });

    it('refuses a query with more aliases than maxAliases with QUERY_TOO_COMPLEX', async () => {
      const out = await run(t, ws, transport, '{ a: __typename b: __typename c: __typename d: __typename }', token);
      expect(out).toEqual({ data: null, code: 'QUERY_TOO_COMPLEX', limit: 'aliases' });
    });

    it('refuses a query that costs more than maxCost with QUERY_TOO_COMPLEX', async () => {
      const out = await run(t, ws, transport, '{ viewer { permissions } x: viewer { permissions } y: viewer { permissions } }', token);
      expect(out).toEqual({ data: null, code: 'QUERY_TOO_COMPLEX', limit: 'cost' });
    });
  });
});

describe('query limits with the default limits', () => {
  let t: TestApp;
  let token: string;
  let ws: TrackedClient;
  beforeAll(async () => {
    t = await startTestApp({ redis: false });
    token = await t.token({ account: 'limits-default' });
    ws = trackedClient(t.wsUrl, { authorization: `Bearer ${token}` });
    await ws.connected;
  });
  afterAll(async () => {
    await ws?.dispose();
    await t?.stop();
  });

  const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: viewer { permissions }`).join(' ')} }`;

  describe.each(TRANSPORTS)('over %s', (transport) => {
    it(`allows ${DEFAULT_LIMITS.maxAliases} aliases`, async () => {
      const out = await run(t, ws, transport, aliases(DEFAULT_LIMITS.maxAliases), token);
      expect(out.code).toBeUndefined();
      expect(Object.keys(out.data as object)).toHaveLength(DEFAULT_LIMITS.maxAliases);
    });

    it(`refuses ${DEFAULT_LIMITS.maxAliases + 1} aliases with QUERY_TOO_COMPLEX`, async () => {
      const out = await run(t, ws, transport, aliases(DEFAULT_LIMITS.maxAliases + 1), token);
      expect(out).toEqual({ data: null, code: 'QUERY_TOO_COMPLEX', limit: 'aliases' });
    });
  });

  describe('request size', () => {
    const post = (bytes: number) => {
      const base = { query: '{ viewer { permissions } }', variables: { pad: '' } };
      const overhead = Buffer.byteLength(JSON.stringify(base));
      const body = JSON.stringify({ ...base, variables: { pad: 'x'.repeat(bytes - overhead) } });
      expect(Buffer.byteLength(body)).toBe(bytes);
      return fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
    };

    it('accepts an HTTP body just under 1 MiB', async () => {
      const res = await post(DEFAULT_LIMITS.maxBodyBytes - 1024);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { data?: unknown }).data).toEqual({ viewer: { permissions: [] } });
    });

    it('answers an HTTP body over 1 MiB with 413', async () => {
      const res = await post(DEFAULT_LIMITS.maxBodyBytes + 1024);
      expect(res.status).toBe(413);
      const body = (await res.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
      expect(body.errors?.[0].extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    });

    const subscribeMessage = (bytes: number) => {
      const base = { id: '1', type: 'subscribe', payload: { query: '{ viewer { permissions } }\n#' } };
      const overhead = Buffer.byteLength(JSON.stringify(base));
      const msg = JSON.stringify({ ...base, payload: { query: base.payload.query + 'x'.repeat(bytes - overhead) } });
      expect(Buffer.byteLength(msg)).toBe(bytes);
      return msg;
    };

    async function acknowledged() {
      const raw = await rawGraphqlWs(t.wsUrl);
      raw.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
      expect(await raw.next()).toEqual({ type: 'connection_ack' });
      return raw;
    }

    it('runs a WS message just under maxWsPayloadBytes', async () => {
      const raw = await acknowledged();
      raw.socket.send(subscribeMessage(DEFAULT_LIMITS.maxWsPayloadBytes - 1024));
      expect(await raw.next()).toEqual({ id: '1', type: 'next', payload: { data: { viewer: { permissions: [] } } } });
      raw.socket.close(1000);
      await raw.closed;
    });

    it('closes the socket with 1009 on a WS message over maxWsPayloadBytes', async () => {
      const raw = await acknowledged();
      raw.socket.send(subscribeMessage(DEFAULT_LIMITS.maxWsPayloadBytes + 1024));
      const closed = await Promise.race([raw.closed, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('socket not closed')), 5000))]);
      expect(closed.code).toBe(1009);
      expect(raw.messages.filter((m) => (m as { type?: string }).type === 'next')).toEqual([]);
    });
  });
});

describe('operations per WS connection (maxSubscriptionsPerConnection 1)', () => {
  let t: TestApp;
  let ws: TrackedClient;
  beforeAll(async () => {
    t = await startTestApp({ redis: false, config: { limits: { ...DEFAULT_LIMITS, maxSubscriptionsPerConnection: 1 } } });
    ws = trackedClient(t.wsUrl, { authorization: `Bearer ${await t.token({ account: 'ops-per-conn' })}` });
    await ws.connected;
  });
  afterAll(async () => {
    await ws?.dispose();
    await t?.stop();
  });

  it('allows one operation when the limit is one', async () => {
    const out = await wsExecute(ws.client, '{ viewer { permissions } }');
    expect(out).toEqual({ kind: 'result', result: { data: { viewer: { permissions: [] } } } });
  });
});
