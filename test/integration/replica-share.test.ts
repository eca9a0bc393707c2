import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { createTestDatabase, eventually, TEST_JWT_SECRET, testEndpointAllow, testEnv } from '../support/app';
import { Replica, startReplica } from '../support/replicas';
import { SimEngine, startSimEngine } from '../support/sim-engine';
import { signDevToken } from '../../src/server/auth';
import { expectGlobalId } from '../../src/graphql/relay';
import { CONFIRM_DEAD_MS, DEFAULT_LEASE_SECONDS, DEFAULT_RECONCILE_MS, shareSlack } from '../../src/platform/leasing/lease-plan';

/**
 * Issue 9 item 3 at fleet scale: leases spread over the replicas (each claims its fair share,
 * ceil(rows / live replicas), and sheds what it holds above it), so a SIGKILL orphans only the
 * dead replica's rows, which the survivors split, while their own hosts keep their readers.
 * Three replica processes (src/main.ts) on one PostgreSQL and Redis, twelve simulated engines
 * (test/support/sim-engine.ts) in this process: an engine counts the HTTP requests it served and
 * its open /events streams, so a reader restarted for nothing would show.
 */

const HOSTS = 12;

interface Host {
  engine: SimEngine;
  uuid: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('replica share (three replica processes, twelve simulated engines)', () => {
  const run = randomUUID().slice(0, 8);
  const dir = path.join(testEnv('FLEETGRAPH_TEST_BASE'), `replica-share-${run}`);
  const replicas: Replica[] = [];
  const hosts: Host[] = [];
  let db: { url: string; drop: () => Promise<void> };
  let pg: PgClient;
  let allow: string;

  /** Every host's lease owner now (null when free or expired). */
  async function owners(): Promise<Map<string, string | null>> {
    const { rows } = await pg.query(`select id, case when lease_expires_at > now() then lease_owner end as owner from docker_hosts`);
    return new Map((rows as Array<{ id: string; owner: string | null }>).map((r) => [r.id, r.owner]));
  }

  /** Leases per live replica (in `replicas` order), and how many hosts no live replica holds. */
  async function spread(): Promise<{ counts: number[]; orphans: number }> {
    const o = await owners();
    const live = replicas.filter((r) => r.alive());
    const counts = live.map((r) => [...o.values()].filter((x) => r.owns(x)).length);
    return { counts, orphans: HOSTS - counts.reduce((a, b) => a + b, 0) };
  }

  /** Each live replica holds between lo and hi leases, every host is held, and every engine has exactly one reader. */
  async function spreadWithin(lo: number, hi: number, timeoutMs: number): Promise<number[]> {
    return eventually(
      async () => {
        const { counts, orphans } = await spread();
        const readers = hosts.map((h) => h.engine.subscriberCount);
        return orphans === 0 && counts.every((n) => n >= lo && n <= hi) && readers.every((n) => n === 1) ? counts : undefined;
      },
      timeoutMs,
      100,
    );
  }

  /** One image event on an engine (no container: nothing is re-inspected); its timeNano. */
  const emitOn = (h: Host, tag: string) => h.engine.emit({ Type: 'image', Action: 'tag', Actor: { ID: `sha256:${'0'.repeat(64)}`, Attributes: { name: `local/share:${tag}` } } })[0].timeNano;

  /** Emits one event on each of `on` every `everyMs` until `stop()`; `emitted` lists them. */
  function emitEvery(on: Host[], tag: string, everyMs: number): { emitted: Array<{ host: Host; timeNano: string }>; stop: () => Promise<void> } {
    const emitted: Array<{ host: Host; timeNano: string }> = [];
    let emitting = true;
    const load = (async () => {
      for (let i = 0; emitting; i++) {
        for (const h of on) emitted.push({ host: h, timeNano: emitOn(h, `${tag}-${i}`) });
        await sleep(everyMs);
      }
    })();
    return {
      emitted,
      stop: () => {
        emitting = false;
        return load;
      },
    };
  }

  /** Every one of these events is stored (within 15 s), exactly once, and no GAP row was written for their hosts since `since`. */
  async function expectStoredOnce(events: Array<{ host: Host; timeNano: string }>, since: Date): Promise<void> {
    const stored = await eventually(async () => {
      const s = await storedOf(events, since);
      return s.counts.every((n) => n >= 1) ? s : undefined;
    }, 15_000);
    expect(stored.gaps).toBe(0);
    expect(stored.counts.filter((n) => n !== 1)).toEqual([]);
  }

  /** Rows stored for these (host, timeNano) pairs, and GAP rows of those hosts since `since`. */
  async function storedOf(events: Array<{ host: Host; timeNano: string }>, since: Date): Promise<{ counts: number[]; gaps: number }> {
    const { rows } = await pg.query(`select host_id, time_nano::text as t, source from docker_events where host_id = any($1::uuid[]) and created_at >= $2`, [events.map((e) => e.host.uuid), since]);
    const list = rows as Array<{ host_id: string; t: string; source: string }>;
    return {
      counts: events.map((e) => list.filter((r) => r.host_id === e.host.uuid && r.t === e.timeNano && r.source === 'stream').length),
      gaps: list.filter((r) => r.source === 'gap').length,
    };
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new PgClient({ connectionString: db.url });
    await pg.connect();
    fs.mkdirSync(dir, { recursive: true });
    for (let i = 0; i < HOSTS; i++) hosts.push({ engine: await startSimEngine({ socketPath: path.join(dir, `sim-${i}.sock`), name: `share-${run}-${i}` }), uuid: '' });
    allow = testEndpointAllow(`unix:${dir}/`);
    // the first applies the migrations alone; the other two join the fleet
    replicas.push(await startReplica('r1', db.url, { env: { FLEETGRAPH_ENDPOINT_ALLOW: allow } }));
    replicas.push(...(await Promise.all(['r2', 'r3'].map((n) => startReplica(n, db.url, { env: { FLEETGRAPH_ENDPOINT_ALLOW: allow } })))));
    const token = await signDevToken(TEST_JWT_SECRET, { account: `share-${run}`, subject: 'share-user', permissions: ['docker.hosts.manage'] });
    for (const [i, h] of hosts.entries()) {
      const reg = await replicas[i % 3].gql<{ registerDockerHost: { host: { id: string } } }>(
        `mutation($input: RegisterDockerHostInput!) { registerDockerHost(input: $input) { host { id } } }`,
        { input: { name: `share-${i}`, apiEndpoint: h.engine.endpoint, environment: 'development', syncIntervalSeconds: 3600 } },
        token,
      );
      expect(reg.errors).toBeUndefined();
      h.uuid = expectGlobalId(reg.data!.registerDockerHost.host.id, 'DockerHost');
    }
    await eventually(async () => {
      const { rows } = await pg.query(`select count(*)::int as n from docker_hosts where status = 'connected'`);
      return (rows[0] as { n: number }).n === HOSTS;
    }, 60_000);
  }, 240_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await Promise.all(hosts.map((h) => h.engine.stop().catch(() => undefined)));
    fs.rmSync(dir, { recursive: true, force: true });
    await pg?.end();
    await db?.drop();
  }, 60_000);

  it('spreads the leases: 12 hosts on 3 replicas, each holds 3–5, one reader per engine, and nothing moves once spread', async () => {
    const counts = await spreadWithin(3, 5, 30_000);
    console.log(`leases per replica: ${counts.join(' · ')}`);
    const { rows } = await pg.query(`select count(*)::int as n from fleet_replicas where fleet = 'docker_hosts' and expires_at > now()`);
    expect((rows[0] as { n: number }).n).toBe(3);
    // stable: three reconciles later the same owners, no reader reopened (a request served would show it)
    const before = await owners();
    const requests = hosts.map((h) => h.engine.stats.requests);
    await sleep(3 * DEFAULT_RECONCILE_MS);
    expect(await owners()).toEqual(before);
    expect(hosts.map((h) => h.engine.stats.requests)).toEqual(requests);
    expect(hosts.map((h) => h.engine.subscriberCount)).toEqual(hosts.map(() => 1));
  }, 60_000);

  it('a replica whose lease connection is cut (pg_terminate_backend) reconnects and keeps its hosts: no one takes it for dead', async () => {
    await spreadWithin(3, 5, 30_000);
    const before = await owners();
    const requests = hosts.map((h) => h.engine.stats.requests);
    const owner = [...before.values()].find((o): o is string => Boolean(o))!;
    const { rows } = await pg.query(`select pg_terminate_backend(backend_pid) as cut from fleet_replicas where fleet = 'docker_hosts' and owner = $1`, [owner]);
    expect((rows[0] as { cut: boolean }).cut).toBe(true);
    // longer than the others need to judge a replica dead (CONFIRM_DEAD_MS) and to claim, with margin
    await sleep(CONFIRM_DEAD_MS + 2 * DEFAULT_RECONCILE_MS);
    expect(await owners()).toEqual(before);
    expect(hosts.map((h) => h.engine.stats.requests)).toEqual(requests);
    // its presence names its new backend
    const { rows: presence } = await pg.query(
      `select exists (select 1 from pg_stat_activity a where a.pid = r.backend_pid and a.backend_start = r.backend_start) as alive from fleet_replicas r where fleet = 'docker_hosts' and owner = $1`,
      [owner],
    );
    expect((presence[0] as { alive: boolean }).alive).toBe(true);
  }, 60_000);

  it('SIGKILL of one replica moves only its hosts, split between the survivors before its leases expire (its connection closed); the survivors’ hosts are not restarted', async () => {
    await spreadWithin(3, 5, 30_000);
    const before = await owners();
    const victim = replicas.filter((r) => r.alive()).sort((a, b) => [...before.values()].filter((o) => b.owns(o)).length - [...before.values()].filter((o) => a.owns(o)).length)[0];
    const orphaned = hosts.filter((h) => victim.owns(before.get(h.uuid)));
    const kept = hosts.filter((h) => !victim.owns(before.get(h.uuid)));
    const keptRequests = kept.map((h) => h.engine.stats.requests);
    expect(orphaned.length).toBeGreaterThanOrEqual(3);

    // the dead replica's backend goes with its process: its rows are claimed before its leases would expire
    const { rows: held } = await pg.query(`select min(lease_expires_at) as until from docker_hosts where lease_owner = $1`, [before.get(orphaned[0].uuid)]);
    const killedAt = Date.now();
    await victim.signal('SIGKILL');
    // what the dead replica's engines emit while nobody reads them is replayed by Docker to the new reader
    await eventually(async () => orphaned.every((h) => h.engine.subscriberCount === 0), 5000, 20);
    const missed = orphaned.map((h) => ({ host: h, timeNano: emitOn(h, `killed-${run}`) }));
    const claimedAll = await eventually(
      async () => {
        const { rows } = await pg.query(`select bool_and(lease_owner <> $1) as moved, now() < $2 as before_expiry from docker_hosts where id = any($3)`, [
          before.get(orphaned[0].uuid),
          (held[0] as { until: Date }).until,
          orphaned.map((h) => h.uuid),
        ]);
        const r = rows[0] as { moved: boolean; before_expiry: boolean };
        return r.moved ? r : undefined;
      },
      20_000,
      20,
    );
    expect(claimedAll.before_expiry).toBe(true);
    const readAgain = new Map<Host, number>();
    await eventually(
      async () => {
        for (const h of orphaned) if (!readAgain.has(h) && h.engine.subscriberCount === 1) readAgain.set(h, Date.now() - killedAt);
        return readAgain.size === orphaned.length;
      },
      20_000,
      20,
    );
    const last = Math.max(...readAgain.values());
    console.log(`SIGKILL of ${victim.name} (${orphaned.length} hosts): read again after ${[...readAgain.values()].sort((a, b) => a - b).join(', ')} ms`);
    expect(last).toBeLessThan(DEFAULT_LEASE_SECONDS * 1000 + DEFAULT_RECONCILE_MS + 2000);

    const after = await owners();
    const survivors = replicas.filter((r) => r.alive());
    // only the dead replica's hosts moved, each to a survivor; the others kept owner, reader and requests
    for (const h of kept) expect(after.get(h.uuid)).toBe(before.get(h.uuid));
    for (const h of orphaned) expect(survivors.some((r) => r.owns(after.get(h.uuid)))).toBe(true);
    expect(kept.map((h) => h.engine.stats.requests)).toEqual(keptRequests);
    expect(kept.map((h) => h.engine.subscriberCount)).toEqual(kept.map(() => 1));
    // each survivor within its new share (6) plus the slack
    const { counts, orphans } = await spread();
    expect(orphans).toBe(0);
    for (const n of counts) expect(n).toBeLessThanOrEqual(Math.ceil(HOSTS / 2) + shareSlack(Math.ceil(HOSTS / 2)));
    // the events of the outage are stored, once each, from Docker's replay (no GAP)
    const stored = await eventually(async () => {
      const s = await storedOf(missed, new Date(killedAt));
      return s.counts.every((n) => n >= 1) ? s : undefined;
    }, 10_000);
    expect(stored).toEqual({ counts: missed.map(() => 1), gaps: 0 });
  }, 90_000);

  it('a replica joining takes its share from the others gracefully: shed hosts are read again with no gap, the rest are not restarted', async () => {
    const before = await owners();
    const requests = new Map(hosts.map((h) => [h, h.engine.stats.requests]));
    const joinedAt = new Date();
    const joined = await startReplica('r4', db.url, { env: { FLEETGRAPH_ENDPOINT_ALLOW: allow } });
    replicas.push(joined);
    // events keep coming while the leases move: every one stored exactly once
    const { emitted, stop } = emitEvery(hosts, `join-${run}`, 250);
    const counts = await spreadWithin(3, 5, 30_000);
    console.log(`after r4 joined: leases per replica ${counts.join(' · ')}`);
    await sleep(1000);
    await stop();
    const after = await owners();
    const moved = hosts.filter((h) => after.get(h.uuid) !== before.get(h.uuid));
    // the joiner's share came from the others (each above 4 + 1 after the kill: 6 and 6)
    expect(moved.length).toBeGreaterThanOrEqual(3);
    expect(moved.every((h) => joined.owns(after.get(h.uuid)))).toBe(true);
    expect(moved.length).toBe([...after.values()].filter((o) => joined.owns(o)).length);
    // hosts that stayed were not restarted: their engines served no request but the events stream (none)
    for (const h of hosts.filter((x) => !moved.includes(x))) expect(h.engine.stats.requests).toBe(requests.get(h));
    await expectStoredOnce(emitted, joinedAt);
    expect(joined.server.output()).not.toContain('"level":50');
  }, 120_000);
  it('SIGTERM of one replica hands its hosts over warm: each new reader opens before the old one lets go (no engine is left unread), every event is stored once, no GAP', async () => {
    const before = await spreadWithin(3, 5, 30_000).then(() => owners());
    const live = replicas.filter((r) => r.alive());
    const leaving = live.sort((a, b) => [...before.values()].filter((o) => b.owns(o)).length - [...before.values()].filter((o) => a.owns(o)).length)[0];
    const moving = hosts.filter((h) => leaving.owns(before.get(h.uuid)));
    expect(moving.length).toBeGreaterThanOrEqual(3);
    // readers per engine, sampled in this process (the simulated engines live here) every few ms
    const fewest = new Map(moving.map((h) => [h, Infinity]));
    const most = new Map(moving.map((h) => [h, 0]));
    const sampler = setInterval(() => {
      for (const h of moving) {
        fewest.set(h, Math.min(fewest.get(h)!, h.engine.subscriberCount));
        most.set(h, Math.max(most.get(h)!, h.engine.subscriberCount));
      }
    }, 2);
    const { emitted, stop } = emitEvery(moving, `term-${run}`, 50);
    const termAt = new Date();
    try {
      await sleep(200);
      expect(await leaving.signal('SIGTERM')).toBe(0);
      await eventually(async () => {
        const o = await owners();
        return moving.every((h) => live.some((r) => r !== leaving && r.owns(o.get(h.uuid)))) && moving.every((h) => h.engine.subscriberCount === 1);
      }, 15_000);
      await sleep(300);
    } finally {
      clearInterval(sampler);
      await stop();
    }
    // make before break: every engine had both readers at once and never none
    expect(moving.map((h) => fewest.get(h))).toEqual(moving.map(() => 1));
    expect(moving.map((h) => most.get(h))).toEqual(moving.map(() => 2));
    // it went warm all the way: nothing was left to release the cold way
    const ended = leaving.server
      .output()
      .split('\n')
      .filter((l) => l.includes('"warm hand-off ended"'))
      .map((l) => JSON.parse(l) as { left: number });
    expect(ended.map((e) => e.left)).toEqual([0]);
    // a reader fenced off by the next one during a warm hand-off is expected: no warning
    expect(leaving.server.output()).not.toContain('lease taken over by another replica');
    await expectStoredOnce(emitted, termAt);
  }, 90_000);
});
