import { randomBytes } from 'node:crypto';
import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import type WebSocket from 'ws';
import { HostStatus } from '../../entities';
import { DEFAULT_LIMITS, Limits } from '../../src/kernel/config';
import { Topic } from '../../src/infra/pubsub/topics';
import { eventually, startTestApp, subscribe, testEndpointAllow, TestApp } from '../support/app';
import { stallingForwarder } from '../support/proxy';
import { whileLocked as whileTableLocked } from '../support/db';
import { rawGraphqlWs, trackedClient, wsExecute } from '../support/ws-helpers';
import { dockerSocket, registerForwardedHost } from '../support/docker';
import { DOCKER_API_VERSION } from '../../src/infra/engine/client';

/**
 * Issue 7, items 7–10 and 12: documents that used to stall the server are refused before
 * validation on both transports, operations have a deadline, and accounts are limited in
 * request rate, connections and subscriptions; a paused subscriber cannot grow the heap.
 */

const limitsWith = (l: Partial<Limits>): Limits => ({ ...DEFAULT_LIMITS, ...l });

async function metric(t: TestApp, name: string): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

interface Outcome {
  code?: unknown;
  limit?: unknown;
  data?: unknown;
  ms: number;
}

interface Transport {
  name: 'http' | 'ws';
  /** The largest request body/message the transport takes. */
  maxBytes: number;
  run(query: string): Promise<Outcome>;
  close(): Promise<void>;
}

async function httpTransport(t: TestApp, token: string): Promise<Transport> {
  return {
    name: 'http',
    maxBytes: DEFAULT_LIMITS.maxBodyBytes,
    async run(query) {
      const body = JSON.stringify({ query });
      const started = performance.now();
      const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
      const json = (await res.json()) as { data?: unknown; errors?: Array<{ extensions?: Record<string, unknown> }> };
      const ms = performance.now() - started;
      return { code: json.errors?.[0]?.extensions?.code, limit: json.errors?.[0]?.extensions?.limit, data: json.data, ms };
    },
    close: async () => undefined,
  };
}

/** A raw graphql-transport-ws connection: one subscribe message per run, timed to its error or result. */
async function wsTransport(t: TestApp, token: string): Promise<Transport> {
  const raw = await rawGraphqlWs(t.wsUrl);
  raw.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  expect(await raw.next()).toEqual({ type: 'connection_ack' });
  let n = 0;
  return {
    name: 'ws',
    maxBytes: DEFAULT_LIMITS.maxWsPayloadBytes,
    async run(query) {
      const id = String(++n);
      const message = JSON.stringify({ id, type: 'subscribe', payload: { query } });
      const started = performance.now();
      raw.socket.send(message);
      for (;;) {
        const m = (await raw.next()) as { id?: string; type: string; payload?: unknown };
        if (m.id !== id) continue;
        const ms = performance.now() - started;
        const first = m.type === 'error' ? (m.payload as Array<{ extensions?: Record<string, unknown> }>)[0] : (m.payload as { errors?: Array<{ extensions?: Record<string, unknown> }> }).errors?.[0];
        return { code: first?.extensions?.code, limit: first?.extensions?.limit, data: m.type === 'next' ? (m.payload as { data?: unknown }).data : undefined, ms };
      }
    },
    async close() {
      raw.socket.close(1000);
      await raw.closed;
    },
  };
}

/** `n` levels of fragments, each spreading the next twice: 2^n copies of the innermost once expanded. */
const doubling = (n: number, inner: string) =>
  `query { ...F0 } ${Array.from({ length: n }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join(' ')} fragment F${n} on Query { ${inner} }`;

/** As many repeated fields as fit in `bytes` (with room for the message envelope). */
const fieldsIn = (bytes: number) => `{ viewer { ${'permissions '.repeat(Math.floor((bytes - 200) / 12))} } }`;

/**
 * The hostile documents of the report. Each used to block the event loop (validation of a huge
 * or quadratic document, exponential fragment walks) or run (the cost limit gave up above
 * 10,000 fields; live fields cost 1 whatever list they sat in).
 */
const HOSTILE: Array<{ name: string; query: (maxBytes: number) => string; limit: string }> = [
  { name: 'a document of 40,000 fields (20,000 on WS), just under the size limit', query: (max) => fieldsIn(Math.min(max, 40_000 * 12 + 200)), limit: 'tokens' },
  // the expanded fields merge into the operation's selection set: refused as repeats before they are priced
  { name: '25 nested fragment spreads (2^25 fields expanded)', query: () => doubling(25, 'viewer { permissions }'), limit: 'fieldRepeats' },
  {
    name: 'a costly query padded past 10,000 fields',
    query: () => doubling(14, 'viewer { permissions }').replace('query { ...F0 }', 'query { dockerHosts(first: 100) { nodes { containers(first: 100) { nodes { inspect } } } } ...F0 }'),
    limit: 'fieldRepeats',
  },
  {
    name: '150 fragments each selecting the same field, spread in one selection set',
    query: () => `query { ${Array.from({ length: 150 }, (_, i) => `...F${i}`).join(' ')} } ${Array.from({ length: 150 }, (_, i) => `fragment F${i} on Query { viewer { permissions } }`).join(' ')}`,
    limit: 'fieldRepeats',
  },
  {
    name: 'a list variable with a default of 100 ids (priced as the list, not as 1)',
    query: () => `query($ids: [ID!]! = [${Array.from({ length: 100 }, (_, i) => `"h${i}"`).join(',')}]) { nodes(ids: $ids) { ... on DockerHost { containers(first: 90) { nodes { inspect } } } } }`,
    limit: 'cost',
  },
  {
    name: 'a subscription selecting live Docker fields (run again for every event)',
    query: () => 'subscription { dockerEvents(hostId: "x") { host { volumes { inspect } networks { inspect } } } }',
    limit: 'liveFieldInSubscription',
  },
  { name: 'an amplifying live-field query', query: () => '{ dockerHosts { nodes { containers { nodes { inspect } } volumes { inspect } networks { inspect } } } }', limit: 'cost' },
  { name: 'many directives', query: () => `{ __typename ${'@include(if: true) '.repeat(250)} }`, limit: 'directives' },
  { name: 'one field selected 1,900 times (validation compares them pairwise)', query: () => `{ viewer { ${'permissions '.repeat(1900)} } }`, limit: 'fieldRepeats' },
];

/**
 * Time bound: a refusal must come back within 100 ms measured on loopback from this process
 * (the server runs in it): the round trip adds a few milliseconds to the server's time, and
 * each case takes the best of three runs so that a stall caused by another process on this
 * shared machine is not counted. Before this change the same documents took seconds to minutes.
 */
const BOUND_MS = 100;

describe('hostile documents are refused before validation, on both transports', () => {
  let t: TestApp;
  let token: string;
  const transports: Transport[] = [];

  beforeAll(async () => {
    t = await startTestApp({ redis: false });
    token = await t.token({ account: 'hostile' });
    transports.push(await httpTransport(t, token), await wsTransport(t, token));
    // warm both paths (JIT, account row), so the timings below are the gate's
    for (const tr of transports) expect((await tr.run('{ viewer { permissions } }')).data).toEqual({ viewer: { permissions: [] } });
  });
  afterAll(async () => {
    for (const tr of transports) await tr.close();
    await t?.stop();
  });

  for (const name of ['http', 'ws'] as const) {
    describe(name, () => {
      it.each(HOSTILE)('$name → QUERY_TOO_COMPLEX ($limit) within 100 ms; /healthz stays under 100 ms', async ({ query, limit }) => {
        const tr = transports.find((x) => x.name === name)!;
        const doc = query(tr.maxBytes);
        // /healthz polled during each run; the API shares this process with jest, so one round may
        // catch a GC pause: the best round must stay under the bound, and no round may stall
        const outcomes: Outcome[] = [];
        const healthMax: number[] = [];
        for (let i = 0; i < 3; i++) {
          const health: number[] = [];
          let polling = true;
          const poller = (async () => {
            while (polling) {
              const started = performance.now();
              await (await fetch(`${t.url}/healthz`)).json();
              health.push(performance.now() - started);
              await new Promise((r) => setTimeout(r, 5));
            }
          })();
          outcomes.push(await tr.run(doc));
          polling = false;
          await poller;
          expect(health.length).toBeGreaterThan(0);
          healthMax.push(Math.max(...health));
        }
        for (const o of outcomes) expect({ code: o.code, limit: o.limit, data: o.data ?? null }).toEqual({ code: 'QUERY_TOO_COMPLEX', limit, data: null });
        const best = Math.min(...outcomes.map((o) => o.ms));
        expect(best).toBeLessThan(BOUND_MS);
        expect(Math.min(...healthMax)).toBeLessThan(BOUND_MS);
        expect(Math.max(...healthMax)).toBeLessThan(10 * BOUND_MS);
      });
    });
  }

  it('counts refusals by limit in /metrics', async () => {
    expect(await metric(t, 'fleetgraph_refusals_total{limit="cost"}')).toBeGreaterThanOrEqual(12);
    expect(await metric(t, 'fleetgraph_refusals_total{limit="liveFieldInSubscription"}')).toBeGreaterThanOrEqual(6);
    expect(await metric(t, 'fleetgraph_refusals_total{limit="tokens"}')).toBeGreaterThanOrEqual(6);
  });
});

describe('request deadline (requestTimeoutMs 500)', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await startTestApp({ redis: false, config: { limits: limitsWith({ requestTimeoutMs: 500 }) } });
    token = await t.token({ account: 'deadline' });
  });
  afterAll(() => t?.stop());

  /** Runs `run` while another session holds a lock `{ dockerHosts { totalCount } }` needs. */
  const whileLocked = <T>(run: () => Promise<T>) => whileTableLocked(t.databaseUrl, 'docker_hosts', run);

  it('an operation stuck past its deadline is answered TIMEOUT (503) at the deadline; the server goes on', async () => {
    expect((await t.gql('{ dockerHosts { totalCount } }', {}, token)).data).toEqual({ dockerHosts: { totalCount: 0 } });
    const { outcome: res, ms } = await whileLocked(() => t.gql('{ dockerHosts { totalCount } }', {}, token));
    expect(res.status).toBe(503);
    expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'TIMEOUT', limit: 'deadline' } });
    expect(res.data).toBeUndefined();
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(ms).toBeLessThan(2000);
    // the abandoned operation finishes unobserved; the next one runs normally
    expect((await t.gql('{ dockerHosts { totalCount } }', {}, token)).data).toEqual({ dockerHosts: { totalCount: 0 } });
    expect(await metric(t, 'fleetgraph_refusals_total{limit="deadline"}')).toBe(1);
  });

  it('over WebSocket too: a query stuck past its deadline is answered TIMEOUT at the deadline', async () => {
    const ws = trackedClient(t.wsUrl, { authorization: `Bearer ${token}` });
    await ws.connected;
    const { outcome, ms } = await whileLocked(() => wsExecute(ws.client, '{ dockerHosts { totalCount } }'));
    expect(outcome).toMatchObject({ kind: 'result', result: { errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'TIMEOUT', limit: 'deadline' }) })] } });
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(ms).toBeLessThan(2000);
    expect(await wsExecute(ws.client, '{ dockerHosts { totalCount } }')).toEqual({ kind: 'result', result: { data: { dockerHosts: { totalCount: 0 } } } });
    await ws.dispose();
  });
});

describe('request rate per account, shared by replicas through Redis (requestsPerMinute 6)', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const config = { limits: limitsWith({ requestsPerMinute: 6 }) };
    a = await startTestApp({ config });
    b = await startTestApp({ config });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  it('HTTP requests, WS connection inits and subscribes on either replica count against one budget; other accounts are not affected', async () => {
    // Redis keeps the counts for a minute: a fresh account per run
    const account = `rate-${randomBytes(4).toString('hex')}`;
    const token = await a.token({ account });
    const ok = (r: { status: number; errors?: unknown }) => expect({ status: r.status, errors: r.errors }).toEqual({ status: 200, errors: undefined });
    for (let i = 0; i < 3; i++) ok(await a.gql('{ viewer { permissions } }', {}, token));
    for (let i = 0; i < 2; i++) ok(await b.gql('{ viewer { permissions } }', {}, token));
    // the 6th: a connection
    const ws = trackedClient(b.wsUrl, { authorization: `Bearer ${token}` });
    await ws.connected;
    // the 7th: a subscribe
    const out = await wsExecute(ws.client, '{ viewer { permissions } }');
    expect(out).toMatchObject({ kind: 'errors', errors: [{ extensions: { code: 'RATE_LIMITED', limit: 'rate' } }] });
    const res = await fetch(`${a.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ viewer { permissions } }' }),
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await res.json()) as { errors: Array<{ extensions: Record<string, unknown> }> }).errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'rate', max: 6 });
    // a new connection of the account is refused with 4429
    const refused = trackedClient(a.wsUrl, { authorization: `Bearer ${token}` });
    expect((await refused.nextClose()).code).toBe(4429);
    await refused.dispose();
    await ws.dispose();
    ok(await a.gql('{ viewer { permissions } }', {}, await a.token({ account: `${account}-other` })));
  });
});

describe('anonymous requests are limited per address (in process, requestsPerMinute 3)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ redis: false, config: { limits: limitsWith({ requestsPerMinute: 3 }) } });
  });
  afterAll(() => t?.stop());

  it('the 4th anonymous request in a minute is 429, as is a request with a bad token', async () => {
    for (let i = 0; i < 3; i++) expect((await t.gql('{ __typename }')).status).toBe(200);
    const res = await t.gql('{ __typename }');
    expect(res.status).toBe(429);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect((await t.gql('{ __typename }', {}, 'not-a-token')).status).toBe(429);
    // an account has its own budget
    expect((await t.gql('{ viewer { permissions } }', {}, await t.token({ account: 'anon-neighbour' }))).status).toBe(200);
  });
});

describe('connections and subscriptions per account (maxConnectionsPerAccount 2, maxSubscriptionsPerAccount 3)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ redis: false, config: { limits: limitsWith({ maxConnectionsPerAccount: 2, maxSubscriptionsPerAccount: 3 }) } });
  });
  afterAll(() => t?.stop());

  const STATUS = 'subscription { dockerHostStatusChanged { hostId status } }';

  it('a third connection is closed with 4429 until one of the two closes; other accounts connect', async () => {
    const token = await t.token({ account: 'conn-limit' });
    const c1 = trackedClient(t.wsUrl, { authorization: `Bearer ${token}` });
    const c2 = trackedClient(t.wsUrl, { authorization: `Bearer ${token}` });
    await Promise.all([c1.connected, c2.connected]);
    const c3 = trackedClient(t.wsUrl, { authorization: `Bearer ${token}` });
    expect(await c3.nextClose()).toMatchObject({ code: 4429 });
    await c3.dispose();
    const other = trackedClient(t.wsUrl, { authorization: `Bearer ${await t.token({ account: 'conn-limit-other' })}` });
    await other.connected;
    await c1.dispose();
    await eventually(async () => (await metric(t, 'fleetgraph_ws_connections')) === 2, 5000, 50);
    const c4 = trackedClient(t.wsUrl, { authorization: `Bearer ${token}` });
    await c4.connected;
    for (const c of [c2, c4, other]) await c.dispose();
  });

  it('subscribe, complete and subscribe again with one id in one write hold no slot once the socket closes', async () => {
    const token = await t.token({ account: 'id-reuse' });
    for (let round = 0; round < 3; round++) {
      const raw = await rawGraphqlWs(t.wsUrl);
      raw.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
      expect(await raw.next()).toEqual({ type: 'connection_ack' });
      const subscribeX = JSON.stringify({ id: 'x', type: 'subscribe', payload: { query: STATUS } });
      // the three frames reach the server in one TCP write
      const tcp = (raw.socket as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
      tcp.cork();
      raw.socket.send(subscribeX);
      raw.socket.send(JSON.stringify({ id: 'x', type: 'complete' }));
      raw.socket.send(subscribeX);
      tcp.uncork();
      await new Promise((r) => setTimeout(r, 200));
      raw.socket.close(1000);
      await raw.closed;
    }
    await eventually(async () => (await metric(t, 'fleetgraph_ws_subscriptions')) === 0, 5000, 50);
    // all three of the account's slots are free
    const c = trackedClient(t.wsUrl, { authorization: `Bearer ${token}` });
    await c.connected;
    const subs = [subscribe(c.client, STATUS), subscribe(c.client, STATUS), subscribe(c.client, STATUS)];
    await eventually(async () => (await metric(t, 'fleetgraph_ws_subscriptions')) === 3, 5000, 50);
    expect(subs.map((s) => s.error)).toEqual([undefined, undefined, undefined]);
    await c.dispose();
    await eventually(async () => (await metric(t, 'fleetgraph_ws_subscriptions')) === 0, 5000, 50);
  });

  it('subscriptions are counted over all connections of the account and freed when they end', async () => {
    const token = await t.token({ account: 'sub-limit' });
    const c1 = trackedClient(t.wsUrl, { authorization: `Bearer ${token}` });
    const c2 = trackedClient(t.wsUrl, { authorization: `Bearer ${token}` });
    await Promise.all([c1.connected, c2.connected]);
    const subs = [subscribe(c1.client, STATUS), subscribe(c1.client, STATUS), subscribe(c2.client, STATUS)];
    await eventually(async () => (await metric(t, 'fleetgraph_ws_subscriptions')) === 3, 5000, 50);
    const fourth = subscribe(c2.client, STATUS);
    await eventually(async () => fourth.error, 5000, 20);
    expect(fourth.error).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'RATE_LIMITED', limit: 'subscriptions', max: 3 }) })]);
    // queries on the same connection still run
    expect(await wsExecute(c2.client, '{ viewer { permissions } }')).toEqual({ kind: 'result', result: { data: { viewer: { permissions: [] } } } });
    subs[0].unsubscribe();
    await eventually(async () => (await metric(t, 'fleetgraph_ws_subscriptions')) === 2, 5000, 50);
    const again = subscribe(c2.client, STATUS);
    await eventually(async () => (await metric(t, 'fleetgraph_ws_subscriptions')) === 3, 5000, 50);
    expect(again.error).toBeUndefined();
    // closing a connection frees its subscriptions
    await c1.dispose();
    await eventually(async () => (await metric(t, 'fleetgraph_ws_subscriptions')) === 2, 5000, 50);
    const afterClose = subscribe(c2.client, STATUS);
    await eventually(async () => (await metric(t, 'fleetgraph_ws_subscriptions')) === 3, 5000, 50);
    expect(afterClose.error).toBeUndefined();
    await c2.dispose();
  });
});

describe('a paused subscriber that opted out of sharing (maxWsBufferedBytes 1 MiB)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ redis: false, config: { limits: limitsWith({ maxWsBufferedBytes: 1024 * 1024 }) } });
  });
  afterAll(() => t?.stop());

  /** heapUsed + external after a full collection. */
  function memory(): number {
    v8.setFlagsFromString('--expose-gc');
    (vm.runInNewContext('gc') as () => void)();
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  }

  it('is ended once its socket has more than the cap unsent, and the heap does not grow with what it would not read', async () => {
    const account = 'paused';
    const token = await t.token({ account });
    const { accountId } = await t.app.services.accounts.resolve(await t.app.services.verifyToken(token));
    const raw = await rawGraphqlWs(t.wsUrl);
    raw.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    expect(await raw.next()).toEqual({ type: 'connection_ack' });
    // a directive on the root field: not shared, so not on the shared path's cap before this change
    raw.socket.send(JSON.stringify({ id: 's', type: 'subscribe', payload: { query: 'subscription { dockerHostStatusChanged @include(if: true) { hostId name lastError } }' } }));
    await eventually(async () => (await metric(t, 'fleetgraph_ws_shared_executions')) === 1, 5000, 20);
    (raw.socket as WebSocket).pause();

    const before = memory();
    // 800 events of 128 KiB each (100 MiB), each a distinct string
    for (let i = 0; i < 800; i++) {
      const lastError = randomBytes(96 * 1024).toString('base64');
      await t.app.services.pubsub.emit(
        Topic.HOST_STATUS,
        {
          hostId: '00000000-0000-0000-0000-000000000001',
          accountId,
          name: `h${i}`,
          status: HostStatus.ERROR,
          previousStatus: HostStatus.CONNECTED,
          consecutiveFailures: i,
          lastError,
          changedAt: new Date(),
        },
        accountId,
      );
      if (i % 10 === 9) await new Promise((r) => setImmediate(r));
    }
    // the server ended the subscription's execution while the client was still paused
    await eventually(async () => (await metric(t, 'fleetgraph_ws_shared_executions')) === 0, 10_000, 50);
    const grown = memory() - before;
    expect(grown).toBeLessThan(30 * 1024 * 1024);
    expect(await metric(t, 'fleetgraph_refusals_total{limit="sendBuffer"}')).toBe(1);

    // once it reads again, the client gets what was buffered, then an error it can act on
    (raw.socket as WebSocket).resume();
    let last: { id?: string; type: string; payload?: unknown } | undefined;
    do last = (await raw.next()) as typeof last;
    while (last?.type === 'next');
    expect(last).toMatchObject({ id: 's', type: 'error', payload: [{ extensions: { code: 'RATE_LIMITED', limit: 'sendBuffer' } }] });
    const delivered = raw.messages.filter((m) => (m as { type: string }).type === 'next').length;
    expect(delivered).toBeLessThan(800);
    await eventually(async () => (await metric(t, 'fleetgraph_ws_subscriptions')) === 0, 5000, 50);
    raw.socket.close(1000);
    await raw.closed;
  });
});

describe('live reads are bounded by their request (requestTimeoutMs 700, maxLoadedBytes sized to the test engine)', () => {
  let t: TestApp;
  let token: string;
  let hostId: string;
  let proxy: Awaited<ReturnType<typeof stallingForwarder>>;
  let oneList: number;
  const NETWORKS = (n: number) => `query($h: ID!) { ${Array.from({ length: n }, (_, i) => `n${i}: networks(hostId: $h) { name }`).join(' ')} }`;

  beforeAll(async () => {
    // the size of one answer of GET /networks on this engine: two fit in the allowance, three do not
    oneList = await networksAnswerBytes();
    t = await startTestApp({
      redis: false,
      config: { limits: limitsWith({ requestTimeoutMs: 700, maxLoadedBytes: Math.floor(oneList * 2.5) }) },
      env: { FLEETGRAPH_ENDPOINT_ALLOW: testEndpointAllow('127.0.0.1') },
    });
    token = await t.token({ account: 'bounded-reads', permissions: ['docker.hosts.manage'] });
    proxy = await stallingForwarder(dockerSocket());
    hostId = await registerForwardedHost(t, token, proxy.port, 'stalling');
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await proxy?.close();
  });

  it('what one operation loads from Docker is bounded: past maxLoadedBytes a live field fails with QUERY_TOO_COMPLEX, the next operation starts afresh', async () => {
    expect(oneList).toBeGreaterThan(100);
    const two = await t.gql<Record<string, Array<{ name: string }>>, { h: string }>(NETWORKS(2), { h: hostId }, token);
    expect(two.errors).toBeUndefined();
    expect(two.data!.n0.map((n) => n.name)).toContain('host');
    const four = await t.gql<Record<string, Array<{ name: string }> | null>, { h: string }>(NETWORKS(4), { h: hostId }, token);
    expect(four.errors?.length).toBeGreaterThanOrEqual(1);
    for (const e of four.errors!) expect(e.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'loadedBytes', max: Math.floor(oneList * 2.5) });
    // the allowance is per operation
    expect((await t.gql(NETWORKS(2), { h: hostId }, token)).errors).toBeUndefined();
  });

  it('a live read still waiting at the deadline is cancelled: its connection to the engine is closed, not left to finish unobserved', async () => {
    proxy.stall(true);
    try {
      const started = performance.now();
      const res = await t.gql(NETWORKS(1), { h: hostId }, token);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'TIMEOUT' });
      await eventually(async () => proxy.closedWhileHeld >= 1, 5_000, 50);
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      proxy.stall(false);
    }
    expect((await t.gql(NETWORKS(1), { h: hostId }, token)).errors).toBeUndefined();
  });
});

/** Bytes of the test dockerd's answer to GET /networks (what one `networks` field loads). */
function networksAnswerBytes(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: dockerSocket(), path: `/${DOCKER_API_VERSION}/networks` }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => resolve(n));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}
