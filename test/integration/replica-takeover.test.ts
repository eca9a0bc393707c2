import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { Client as PgClient } from 'pg';
import type { ExecutionResult } from 'graphql';
import { createTestDatabase, eventually, subscribe, TEST_JWT_SECRET } from '../support/app';
import { dockerEndpoint, dockerSocket, TEST_IMAGE } from '../support/docker';
import { Replica, startReplica } from '../support/replicas';
import { signDevToken } from '../../src/server/auth';
import { expectGlobalId } from '../../src/graphql/relay';
import { DEFAULT_LEASE_SECONDS, DEFAULT_RECONCILE_MS } from '../../src/platform/leasing/lease-plan';
import { parseEventLine, RawDockerEvent as RawEvent } from '../../src/infra/engine/event-stream';

/**
 * Issue 9 item 3, "takeover in seconds", with three replicas as separate processes on one
 * PostgreSQL and Redis, reading the real test dockerd: the lease holder killed with SIGKILL is
 * replaced within the lease time and nothing is lost silently (every event stored once, or covered
 * by a GAP row); a SIGTERM hands the host over at once with no gap; a reader whose lease was taken
 * stops writing (fencing) and the fleet claims the host back on its own.
 *
 * The load is image tag/untag pairs on the test image, each tag uniquely named. The ground truth is
 * a raw /events reader in this process: every image event of the test image Docker emitted while a
 * load ran (other files' events on the shared dockerd included: the host stores them all).
 */

const SUB = `subscription Feed($hostId: ID!, $after: String) {
  dockerEvents(hostId: $hostId, after: $after) { type action cursor source timeNano }
}`;
type FeedEvent = { type: string; action: string; cursor: string; source: string; timeNano: string };
type FeedResult = { dockerEvents: FeedEvent };

const REPO = 'local/fg-takeover';
/** Tag + untag pairs: 8 pairs a second is 16 events a second. */
const PAIRS_PER_SECOND = 8;

interface StoredRow {
  seq: number;
  type: string;
  action: string;
  actor_id: string;
  time_nano: string;
  source: string;
  attributes: Record<string, string>;
  created_at: Date;
  /** The host's event_seq, read in the same statement. */
  counter: number;
}
interface HostLease {
  lease_owner: string | null;
  lease_expires_at: Date | null;
  event_seq: number;
}
interface LoadRun {
  label: string;
  names: string[];
  /** Wall-clock bounds of the load, in ms (Docker's timeNano is on the same clock). */
  from: number;
  to: number;
}

const keyOfRaw = (e: RawEvent) => `${e.timeNano} ${e.Type} ${e.Action} ${e.Actor?.ID ?? ''}`;
const keyOfRow = (r: StoredRow) => `${r.time_nano} ${r.type} ${r.action} ${r.actor_id}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('replica takeover (three replica processes, one database and Redis, the real dockerd)', () => {
  const engine = new Docker({ socketPath: dockerSocket() });
  const run = randomUUID().slice(0, 8);
  const replicas: Replica[] = [];
  /** Tags made and not yet removed (removed in afterAll when a test failed mid-load). */
  const leftTags = new Set<string>();
  const raw: RawEvent[] = [];
  const rawAbort = new AbortController();
  let db: { url: string; drop: () => Promise<void> };
  let pg: PgClient;
  let token: string;
  let hostId: string;
  let hostUuid: string;
  let imageId: string;
  let stopLoad: (() => Promise<LoadRun>) | undefined;

  /** The raw reader: every image event of the dockerd, from now on. */
  async function startRawReader(): Promise<void> {
    const stream = (await engine.getEvents({ filters: { type: ['image'] }, abortSignal: rawAbort.signal } as Docker.GetEventsOptions)) as unknown as NodeJS.ReadableStream;
    let buf = '';
    stream.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        // parsed like the app does: timeNano exact (it does not fit a double)
        const event = parseEventLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
        if (event) raw.push(event);
      }
    });
    stream.on('error', () => undefined);
  }

  /** Tag/untag pairs of the test image at PAIRS_PER_SECOND until stopped; each tag is named `${run}-${label}-${i}`. */
  function startLoad(label: string): () => Promise<LoadRun> {
    const names: string[] = [];
    const from = Date.now();
    let running = true;
    let failure: unknown;
    const image = engine.getImage(TEST_IMAGE);
    const pace = async (step: number) => {
      const due = from + (step * 1000) / (2 * PAIRS_PER_SECOND);
      if (due > Date.now()) await sleep(due - Date.now());
    };
    const done = (async () => {
      for (let i = 0; running; i++) {
        const tag = `${run}-${label}-${i}`;
        const ref = `${REPO}:${tag}`;
        leftTags.add(ref);
        await image.tag({ repo: REPO, tag });
        names.push(ref);
        await pace(2 * i + 1);
        await engine.getImage(ref).remove();
        leftTags.delete(ref);
        await pace(2 * i + 2);
      }
    })().catch((err) => (failure = err));
    const stop = async () => {
      running = false;
      await done;
      stopLoad = undefined;
      if (failure) throw failure;
      return { label, names, from, to: Date.now() };
    };
    stopLoad = stop;
    return stop;
  }

  /** A load of `ms`. */
  async function loadFor(label: string, ms: number): Promise<LoadRun> {
    const stop = startLoad(label);
    await sleep(ms);
    return stop();
  }

  async function lease(): Promise<HostLease> {
    const { rows } = await pg.query(`select lease_owner, lease_expires_at, event_seq::int as event_seq from docker_hosts where id = $1`, [hostUuid]);
    return rows[0] as HostLease;
  }

  async function storedRows(): Promise<StoredRow[]> {
    const { rows } = await pg.query(
      `select seq::int as seq, type, action, actor_id, time_nano::text as time_nano, source, attributes, created_at, (select event_seq::int from docker_hosts where id = $1) as counter
         from docker_events where host_id = $1 order by seq`,
      [hostUuid],
    );
    return rows as StoredRow[];
  }

  /** The live replica holding the host's lease. */
  async function holder(): Promise<Replica> {
    return eventually(async () => {
      const { lease_owner } = await lease();
      return replicas.find((r) => r.alive() && r.owns(lease_owner));
    }, 15_000);
  }

  /** Every image event of the test image the raw reader saw during `load`. */
  function groundTruth(load: LoadRun): RawEvent[] {
    const from = BigInt(load.from) * 1_000_000n;
    const to = BigInt(load.to) * 1_000_000n;
    return raw.filter((e) => e.Type === 'image' && e.Actor?.ID === imageId && BigInt(e.timeNano) >= from && BigInt(e.timeNano) <= to);
  }

  /** GAP rows' windows [from, to] (timeNano). */
  const gapsOf = (rows: StoredRow[]) => rows.filter((r) => r.source === 'gap').map((r) => ({ seq: r.seq, from: BigInt(r.attributes.from), to: BigInt(r.attributes.to) }));

  /**
   * How the load's events ended up: `missing` are neither stored nor inside a GAP row's window,
   * `duplicated` are stored more than once, `covered` are not stored but inside a GAP window. Also
   * checks that the raw reader saw every tag the load made (else the ground truth is incomplete).
   */
  function account(load: LoadRun, rows: StoredRow[]) {
    const truth = groundTruth(load);
    const seenTags = new Set(truth.filter((e) => e.Action === 'tag').map((e) => e.Actor?.Attributes?.name));
    const unseenTags = load.names.filter((n) => !seenTags.has(n));
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(keyOfRow(r), (counts.get(keyOfRow(r)) ?? 0) + 1);
    const gaps = gapsOf(rows);
    const missing: string[] = [];
    const duplicated: string[] = [];
    let covered = 0;
    for (const e of truth) {
      const n = counts.get(keyOfRaw(e)) ?? 0;
      if (n > 1) duplicated.push(keyOfRaw(e));
      if (n >= 1) continue;
      if (gaps.some((g) => BigInt(e.timeNano) >= g.from && BigInt(e.timeNano) <= g.to)) covered++;
      else missing.push(`${keyOfRaw(e)} ${e.Actor?.Attributes?.name ?? ''}`);
    }
    return { truth: truth.length, tags: load.names.length, unseenTags, missing, duplicated, covered };
  }

  /** Waits until every event of the load is stored or covered by a GAP (the new reader catches up). */
  async function settled(load: LoadRun): Promise<StoredRow[]> {
    await eventually(async () => account(load, await storedRows()).missing.length === 0, 20_000, 250).catch(() => undefined);
    return storedRows();
  }

  /** Sequence numbers 1..N with no hole, and the host's counter at N (read in the same statement). */
  function expectGapFreeSeq(rows: StoredRow[]): void {
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    expect(rows[rows.length - 1].counter).toBe(rows.length);
  }

  /**
   * When a new owner took the lease: its claim statement set lease_expires_at to now() + the lease
   * length (read before its first renewal, which comes a reconcile later).
   */
  async function waitForNewOwner(previous: Replica, timeoutMs: number): Promise<{ owner: Replica; claimedAt: number }> {
    return eventually(
      async () => {
        const l = await lease();
        const owner = replicas.find((r) => r !== previous && r.alive() && r.owns(l.lease_owner));
        return owner && l.lease_expires_at ? { owner, claimedAt: l.lease_expires_at.getTime() - DEFAULT_LEASE_SECONDS * 1000 } : undefined;
      },
      timeoutMs,
      50,
    );
  }

  /** The first event the new owner stored: rows created after its claim (the old owner stored nothing after it). */
  async function firstStoredAfter(claimedAt: number, timeoutMs: number): Promise<number> {
    return eventually(
      async () => {
        const { rows } = await pg.query(`select min(created_at) as at from docker_events where host_id = $1 and created_at >= $2`, [hostUuid, new Date(claimedAt)]);
        return (rows[0] as { at: Date | null }).at?.getTime();
      },
      timeoutMs,
      50,
    );
  }

  /** A subscriber that resumes after `after` must get seq after+1 … N, each once, in order, equal to the stored rows. */
  async function expectFeed(sub: ReturnType<typeof subscribe<FeedResult, { hostId: string; after?: string }>>, after: number, rows: StoredRow[]): Promise<void> {
    const last = rows[rows.length - 1].seq;
    const delivered = (rs: ExecutionResult<FeedResult>[]) => rs.map((r) => r.data?.dockerEvents).filter((e): e is FeedEvent => Boolean(e));
    await sub.until((rs) => delivered(rs).some((e) => Number(e.cursor) >= last), 20_000);
    await sleep(500); // a duplicate would arrive now
    expect(sub.error).toBeUndefined();
    const got = delivered(sub.results)
      .filter((e) => Number(e.cursor) <= last)
      .map((e) => `${e.cursor} ${e.timeNano} ${e.type} ${e.action} ${e.source.toLowerCase()}`);
    const want = rows.filter((r) => r.seq > after).map((r) => `${r.seq} ${r.time_nano} ${r.type} ${r.action} ${r.source}`);
    expect(got).toEqual(want);
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new PgClient({ connectionString: db.url });
    await pg.connect();
    imageId = (await engine.getImage(TEST_IMAGE).inspect()).Id;
    await startRawReader();
    // the first applies the migrations alone; the other two join the fleet
    const started = Date.now();
    replicas.push(await startReplica('r1', db.url));
    replicas.push(...(await Promise.all([startReplica('r2', db.url), startReplica('r3', db.url)])));
    console.log(`three replicas ready in ${Date.now() - started} ms`);
    token = await signDevToken(TEST_JWT_SECRET, { account: `takeover-${run}`, subject: 'takeover-user', permissions: ['docker.hosts.manage'] });
    const reg = await replicas[0].gql<{ registerDockerHost: { host: { id: string } } }>(
      `mutation($input: RegisterDockerHostInput!) { registerDockerHost(input: $input) { host { id } } }`,
      { input: { name: 'takeover', apiEndpoint: dockerEndpoint(), environment: 'development', syncIntervalSeconds: 3600 } },
      token,
    );
    expect(reg.errors).toBeUndefined();
    hostId = reg.data!.registerDockerHost.host.id;
    hostUuid = expectGlobalId(hostId, 'DockerHost');
    await eventually(async () => {
      const r = await replicas[1].gql<{ dockerHost: { status: string; lastSyncedAt: string | null } }>(`query($id: ID!) { dockerHost(id: $id) { status lastSyncedAt } }`, { id: hostId }, token);
      return r.data?.dockerHost.status === 'CONNECTED' && r.data.dockerHost.lastSyncedAt;
    }, 30_000);
    await holder();
  }, 240_000);

  afterAll(async () => {
    await stopLoad?.().catch(() => undefined);
    await Promise.all(replicas.map((r) => r.stop()));
    rawAbort.abort();
    await Promise.all(
      [...leftTags].map((ref) =>
        engine
          .getImage(ref)
          .remove()
          .catch(() => undefined),
      ),
    );
    await pg?.end();
    await db?.drop();
  }, 60_000);

  it('SIGKILL of the lease holder: another replica reads the host within the lease time; every event stored once or covered by a GAP; a subscriber resuming from before the kill gets each once, in order', async () => {
    const stop = startLoad('kill');
    await sleep(3000);
    const dead = await holder();
    const survivor = replicas.find((r) => r !== dead && r.alive())!;
    const before = (await lease()).event_seq;
    expect(before).toBeGreaterThan(10);
    const after = before - 10;
    const live = subscribe<FeedResult, { hostId: string; after?: string }>(survivor.ws(token), SUB, { hostId, after: String(after) });

    const killedAt = Date.now();
    await dead.signal('SIGKILL');
    const { owner, claimedAt } = await waitForNewOwner(dead, 20_000);
    const firstStored = await firstStoredAfter(claimedAt, 10_000);
    const takeoverMs = firstStored - killedAt;
    console.log(`SIGKILL takeover: ${dead.name} killed, ${owner.name} claimed the host after ${claimedAt - killedAt} ms and stored its first event after ${takeoverMs} ms`);

    await sleep(3000);
    const load = await stop();
    const rows = await settled(load);
    const result = account(load, rows);
    console.log(`SIGKILL: ${result.truth} events from Docker during the load (${result.tags} tags of ours), ${result.covered} covered by ${gapsOf(rows).length} GAP row(s)`);

    expect(takeoverMs).toBeLessThan(15_000);
    expect(owner.alive()).toBe(true);
    expect(result.unseenTags).toEqual([]);
    expect(result.truth).toBeGreaterThanOrEqual(2 * result.tags - 1);
    expect(result.missing).toEqual([]);
    expect(result.duplicated).toEqual([]);
    expectGapFreeSeq(rows);
    await expectFeed(live, after, rows);
    // a subscriber that comes later with the same cursor gets the same feed from the store
    const late = subscribe<FeedResult, { hostId: string; after?: string }>(survivor.ws(token), SUB, { hostId, after: String(after) });
    await expectFeed(late, after, rows);
    live.unsubscribe();
    late.unsubscribe();
  }, 90_000);

  it('SIGTERM of the lease holder: hands the host over at once, with no gap; every event stored exactly once', async () => {
    const stop = startLoad('term');
    await sleep(2000);
    const leaving = await holder();
    const survivor = replicas.find((r) => r !== leaving && r.alive())!;
    const gapsBefore = gapsOf(await storedRows()).length;
    const after = (await lease()).event_seq;
    const live = subscribe<FeedResult, { hostId: string; after?: string }>(survivor.ws(token), SUB, { hostId, after: String(after) });

    const termAt = Date.now();
    const exited = leaving.signal('SIGTERM');
    const { owner, claimedAt } = await waitForNewOwner(leaving, 10_000);
    const firstStored = await firstStoredAfter(claimedAt, 10_000);
    const handoffMs = firstStored - termAt;
    console.log(`SIGTERM hand-off: ${owner.name} claimed the host ${claimedAt - termAt} ms after the signal and stored its first event after ${handoffMs} ms`);

    await sleep(2000);
    const load = await stop();
    expect(await exited).toBe(0);
    const rows = await settled(load);
    const result = account(load, rows);

    expect(handoffMs).toBeLessThan(4000);
    expect(result.unseenTags).toEqual([]);
    expect(result.missing).toEqual([]);
    expect(result.duplicated).toEqual([]);
    expect(result.covered).toBe(0);
    expect(gapsOf(rows).length).toBe(gapsBefore);
    expectGapFreeSeq(rows);
    await expectFeed(live, after, rows);
    live.unsubscribe();
  }, 60_000);

  it('fencing: a reader whose lease was given to another owner stops writing; the fleet claims the host back once that lease expires', async () => {
    // the reader has stored events before (a new reader resumes after the last one)
    await settled(await loadFor('prefence', 1000));
    const reader = await holder();
    // right after a renewal, so that the reader's next reconcile is ~2 s away: what stops it is the
    // fenced store, not the reconcile
    const renewed = (await lease()).lease_expires_at!.getTime();
    await eventually(async () => ((await lease()).lease_expires_at!.getTime() !== renewed ? true : undefined), 5000, 20);
    const fake = `fenced-${run}`;
    const { rows: fenced } = await pg.query(`update docker_hosts set lease_owner = $2 where id = $1 returning now() as at, event_seq::int as seq, lease_expires_at`, [hostUuid, fake]);
    const fencedAt = (fenced[0] as { at: Date }).at.getTime();
    const seqAtFence = (fenced[0] as { seq: number }).seq;
    const stop = startLoad('fence');

    // while the fake owner holds the lease, nothing is stored
    let reclaimed: { owner: Replica; claimedAt: number } | undefined;
    const deadline = Date.now() + 15_000;
    while (!reclaimed && Date.now() < deadline) {
      const l = await lease();
      const owner = replicas.find((r) => r.alive() && r.owns(l.lease_owner));
      if (owner && l.lease_expires_at) reclaimed = { owner, claimedAt: l.lease_expires_at.getTime() - DEFAULT_LEASE_SECONDS * 1000 };
      else expect({ owner: l.lease_owner, seq: l.event_seq }).toEqual({ owner: fake, seq: seqAtFence });
      await sleep(50);
    }
    expect(reclaimed).toBeDefined();
    const { rows: written } = await pg.query(`select count(*)::int as n from docker_events where host_id = $1 and created_at >= $2 and created_at < $3`, [
      hostUuid,
      new Date(fencedAt),
      new Date(reclaimed!.claimedAt),
    ]);
    expect((written[0] as { n: number }).n).toBe(0);
    expect(reader.server.output()).toContain('lease taken over by another replica: this reader stops writing');
    console.log(`fencing: ${reclaimed!.owner.name} claimed the host back ${reclaimed!.claimedAt - fencedAt} ms after the lease was given away`);
    expect(reclaimed!.claimedAt - fencedAt).toBeLessThan(DEFAULT_LEASE_SECONDS * 1000 + 4000);

    // events flow again, the fenced window's included (replayed by Docker from the last stored event)
    await firstStoredAfter(reclaimed!.claimedAt, 10_000);
    await sleep(1500);
    const load = await stop();
    const rows = await settled(load);
    const result = account(load, rows);
    expect(result.unseenTags).toEqual([]);
    expect(result.missing).toEqual([]);
    expect(result.duplicated).toEqual([]);
    expect(result.covered).toBe(0);
    expectGapFreeSeq(rows);
  }, 60_000);

  it('a lease that comes back before the next reconcile: the replica that stopped on the fence reads the host again', async () => {
    await settled(await loadFor('pregiveback', 1000));
    const reader = await holder();
    const { lease_owner: readerOwner } = await lease();
    const fenceLine = 'lease taken over by another replica: this reader stops writing';
    const fencesBefore = reader.server.output().split(fenceLine).length;
    const renewed = (await lease()).lease_expires_at!.getTime();
    const renewedAt = await eventually(
      async () => {
        const at = (await lease()).lease_expires_at!.getTime();
        return at !== renewed ? at - DEFAULT_LEASE_SECONDS * 1000 : undefined;
      },
      5000,
      20,
    );
    await pg.query(`update docker_hosts set lease_owner = $2 where id = $1`, [hostUuid, `fenced2-${run}`]);
    const stop = startLoad('giveback');
    await eventually(async () => reader.server.output().split(fenceLine).length > fencesBefore, 5000, 20);
    // the lease is given back to the reader before its next reconcile (an operator's restore, or
    // the other owner releasing it and this replica claiming it first): it must read the host again
    const { rows } = await pg.query(`update docker_hosts set lease_owner = $2 where id = $1 returning now() as at`, [hostUuid, readerOwner]);
    const restoredAt = (rows[0] as { at: Date }).at.getTime();
    // given back before the reader's next reconcile (else this case was not exercised)
    expect(restoredAt - renewedAt).toBeLessThan(DEFAULT_RECONCILE_MS - 200);
    const first = await firstStoredAfter(restoredAt, 10_000);
    console.log(`give-back: first event stored ${first - restoredAt} ms after the lease was given back`);
    await sleep(1500);
    const load = await stop();
    const stored = await settled(load);
    const result = account(load, stored);
    expect(result.missing).toEqual([]);
    expect(result.duplicated).toEqual([]);
    expectGapFreeSeq(stored);
  }, 60_000);
});
