import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import pino from 'pino';
import { DockerEvent, DockerHost, EventSource } from '../../entities';
import { RegisterDockerHostDocument } from '../../src/generated/graphql';
import { fromGlobalId } from '../../src/graphql/relay';
import { forkForAccount } from '../../src/infra/db/orm';
import * as prepared from '../../src/infra/db/prepared';
import type { RawDockerEvent } from '../../src/infra/engine/event-stream';
import { createRedisPubSub, FleetPubSub, type LiveChannel } from '../../src/infra/pubsub';
import { eventPayload, ingestEvents } from '../../src/modules/hosts/ingest';
import { SequencedFeed } from '../../src/platform/supervision/sequenced-feed';
import { eventually, missingSocketEndpoint, startTestApp, TestApp, testEnv } from '../support/app';

const logger = pino({ level: 'silent' });

/** What the event path costs: the store statement's plan at a realistic table size, and the hop to this replica's own subscribers. */
describe('event delivery latency', () => {
  let t: TestApp;
  let host: DockerHost;
  const em = () => forkForAccount(t.app.services.orm, host.account.id);

  beforeAll(async () => {
    t = await startTestApp({ redis: false });
    const token = await t.token({ account: 'latency', permissions: ['docker.hosts.manage'] });
    const res = await t.gql(RegisterDockerHostDocument, { input: { name: 'h', apiEndpoint: missingSocketEndpoint(), environment: 'development' } }, token);
    host = await t.app.services.orm.em.fork().findOneOrFail(DockerHost, fromGlobalId(res.data!.registerDockerHost.host.id).id, { filters: false });
  });
  afterAll(() => t?.stop());

  const event = (action: string, actor: string): RawDockerEvent => {
    const timeNano = String(BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000)));
    return { Type: 'container', Action: action, Actor: { ID: actor, Attributes: { name: actor.slice(0, 8) } }, scope: 'local', time: Number(BigInt(timeNano) / 1_000_000_000n), timeNano };
  };

  it('plans the store statement under jit_above_cost with 30,000 stored events of the host (no once-check when the batch has no create/destroy)', async () => {
    const conn = t.app.services.orm.em.getConnection();
    // a week of a busy host, numbered after the current counter
    await conn.execute(
      `insert into docker_events (id, created_at, updated_at, account_id, host_id, type, action, actor_id, attributes, scope, time, time_nano, severity, source, seq)
       select gen_random_uuid(), t, t, ?, ?, 'container', (array['create','start','kill','die','destroy'])[1 + g % 5], md5((g / 5)::text) || md5((g / 5)::text),
              '{"name":"x"}'::jsonb, 'local', t, (extract(epoch from t) * 1e9)::bigint + g, 'info', 'stream', h.event_seq + g
         from docker_hosts h, generate_series(1, 30000) g, lateral (select now() - interval '8 days' + g * interval '20 seconds') x(t)
        where h.id = ?`,
      [host.account.id, host.id, host.id],
    );
    await conn.execute(`update docker_hosts set event_seq = (select max(seq) from docker_events where host_id = ?) where id = ?`, [host.id, host.id]);
    await conn.execute('analyze docker_events');
    const [{ jit_above_cost: jitAbove }] = (await conn.execute('show jit_above_cost')) as Array<{ jit_above_cost: string }>;

    // the statement storeEvents sends, planned (not run) for a batch without and one with a once-action
    const costOf = async (batch: RawDockerEvent[]) => {
      const fork = em();
      let captured: { sql: string; params: unknown[] } | undefined;
      const run = prepared.executePrepared;
      const spy = jest.spyOn(prepared, 'executePrepared').mockImplementation((e, sql, params) => {
        if (sql.includes('jsonb_to_recordset')) captured = { sql, params };
        return run(e, sql, params);
      });
      const stored = await ingestEvents(fork, t.app.services.pubsub, host, batch, EventSource.STREAM).finally(() => spy.mockRestore());
      expect(stored.map((e) => e.action)).toEqual(batch.map((e) => e.Action));
      // planned as for a host whose events no longer fit a hash in work_mem (hundreds of thousands): a small work_mem stands in for the size
      const [plan] = await t.app.services.orm.em.fork().transactional(async (tem) => {
        const c = tem.getConnection();
        await c.execute(`set local work_mem = '64kB'`, [], 'all', tem.getTransactionContext());
        return (await c.execute(`explain (format json) ${captured!.sql}`, captured!.params, 'all', tem.getTransactionContext())) as Array<{ 'QUERY PLAN': Array<{ Plan: { 'Total Cost': number } }> }>;
      });
      return plan['QUERY PLAN'][0].Plan['Total Cost'];
    };
    const actor = 'e'.repeat(64);
    expect(await costOf([event('start', actor), event('die', actor)])).toBeLessThan(Number(jitAbove));
    expect(await costOf([event('destroy', actor)])).toBeLessThan(Number(jitAbove));
  });

  it('plans prepared statements for their parameters every time', async () => {
    // after five runs PostgreSQL may switch a prepared statement to a generic plan: with the event
    // insert and the activity link prepared that way, bench:replicas' steady-state ingest lag went
    // from 1.6 to 160 ms (p50) and grew with the table
    const rows = await prepared.executePrepared<{ plan_cache_mode: string; jit: string }>(em(), 'select current_setting(?) as plan_cache_mode, current_setting(?) as jit', ['plan_cache_mode', 'jit']);
    expect(rows).toEqual([{ plan_cache_mode: 'force_custom_plan', jit: 'off' }]);
  });

  describe('on Redis', () => {
    let one: FleetPubSub;
    let two: FleetPubSub;
    let probe: Redis;
    const numsub = async (channel: string) => Number(((await probe.pubsub('NUMSUB', channel)) as [string, number])[1]);

    beforeAll(async () => {
      one = createRedisPubSub(testEnv('FLEETGRAPH_TEST_REDIS_URL'), logger);
      two = createRedisPubSub(testEnv('FLEETGRAPH_TEST_REDIS_URL'), logger);
      probe = new Redis(testEnv('FLEETGRAPH_TEST_REDIS_URL'));
      await eventually(async () => (await one.ready()) && (await two.ready()), 10_000, 50);
    });
    afterAll(async () => {
      await one?.close();
      await two?.close();
      probe?.disconnect();
    });

    it('emitSequenced hands a stored event to this replica before Redis acknowledges it, and to other replicas through Redis, with the same types', async () => {
      const topic = `TEST_${randomUUID()}`;
      const here = (one.subscribe(topic, 'h') as AsyncIterable<Record<string, unknown>>)[Symbol.asyncIterator]();
      const there = (two.subscribe(topic, 'h') as AsyncIterable<Record<string, unknown>>)[Symbol.asyncIterator]();
      const [hereFirst, thereFirst] = [here.next(), there.next()];
      await eventually(async () => (await numsub(`${topic}:h`)) === 2, 5000, 20);
      // confirmed on each side too (a message read with the SUBSCRIBE reply is dropped until then)
      await Promise.all([here, there].map((c) => (c as unknown as LiveChannel).subscribed));
      const at = new Date('2026-01-02T03:04:05.678Z');
      const acked = one.emitSequenced(topic, { seq: 7, time: at, timeNano: '1' }, 'h', 'latest-event');
      const first = await Promise.race([hereFirst.then((r) => r.value), acked.then(() => 'acknowledged first')]);
      expect(first).toEqual({ seq: 7, time: at, timeNano: '1' });
      expect((first as { time: Date }).time).toBeInstanceOf(Date);
      expect(await acked).toBe(true);
      expect((await thereFirst).value).toEqual({ seq: 7, time: at, timeNano: '1' });
      // the copy that comes back through Redis is still delivered here; a sequenced feed drops it
      expect((await here.next()).value).toMatchObject({ seq: 7 });
      await here.return?.();
      await there.return?.();
    });

    it('a sequenced feed on the storing replica delivers each stored event once, in order', async () => {
      const hostEm = em();
      const topic = 'dockerEvents';
      // resumed from the current counter: whatever is stored from here on is delivered, whether it comes live or from the store
      const after = (await hostEm.fork().findOneOrFail(DockerHost, host.id, { filters: false })).eventSeq;
      const feed = new SequencedFeed<DockerEvent & { seq: number }>({
        after: Number(after),
        live: () => one.subscribeSequenced(topic, host.id),
        load: async (after, limit) => (await hostEm.fork().find(DockerEvent, { host: host.id, seq: { $gt: after } }, { orderBy: { seq: 'asc' }, limit })).map((e) => eventPayload(e) as never),
        latest: async () => (await hostEm.fork().findOneOrFail(DockerHost, host.id, { filters: false })).eventSeq,
        onReconnect: (l) => one.onReconnect(l),
      });
      const got: number[] = [];
      const reading = (async () => {
        for await (const e of feed) {
          got.push(e.seq);
          if (got.length === 6) break;
        }
      })();
      // live once it subscribed the channel
      await eventually(async () => (await numsub(`${topic}:${host.id}`)) >= 1, 5000, 20);
      const actor = 'f'.repeat(64);
      const stored: number[] = [];
      for (const action of ['create', 'start', 'kill', 'die', 'stop', 'destroy']) stored.push(...(await ingestEvents(em(), one, host, [event(action, actor)], EventSource.STREAM)).map((e) => e.seq));
      await reading;
      expect(got).toEqual(stored);
    });
  });
});
