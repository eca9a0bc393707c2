import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import pino from 'pino';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createTestDatabase, eventually } from '../support/app';
import { initOrm, migrate } from '../../src/infra/db/orm';
import { createMemoryPubSub } from '../../src/infra/pubsub';
import { LeasedFleet, Supervised } from '../../src/platform/leasing/leased-fleet';
import { HANDOVER_WAIT_MS } from '../../src/platform/leasing/lease-plan';

/**
 * The warm hand-off protocol of LeasedFleet (src/platform/leasing/leased-fleet.ts) against real
 * PostgreSQL, with supervisors that only record what the fleet asks of them: a stopping replica's
 * rows are reserved by the others within their share, their supervisors start in standby and take
 * the lease themselves, and the leaving replica stops a reader only once its lease was taken.
 */

const ROWS = 12;
const TABLE = 'warm_rows';

/** What a fake supervisor saw: its row's owner when it was told to stop, and whether it started in standby. */
class FakeSupervisor implements Supervised {
  readonly firstCheck = Promise.resolve();
  stopped = false;
  standby = false;
  ownerAtStop?: string | null;
  expectedHandOver = false;
  takeLease?: () => Promise<boolean>;

  constructor(
    readonly id: string,
    private readonly fleet: string,
    private readonly onStart: (sup: FakeSupervisor) => void,
    private readonly ownerOf: (id: string) => Promise<string | null>,
  ) {}

  start(takeLease?: () => Promise<boolean>): void {
    this.standby = Boolean(takeLease);
    this.takeLease = takeLease;
    this.onStart(this);
  }

  async handOff(): Promise<void> {
    if (this.ownerAtStop === undefined) this.ownerAtStop = await this.ownerOf(this.id);
    this.stopped = true;
  }

  async stop(): Promise<void> {
    await this.handOff();
  }

  poke(): void {}

  expectHandOver(): void {
    this.expectedHandOver = true;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  toString(): string {
    return `${this.fleet}:${this.id}`;
  }
}

describe('warm hand-off of leased rows (LeasedFleet, real PostgreSQL, recording supervisors)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let orm: MikroORM;
  let pg: Pool;
  const pubsub = createMemoryPubSub();
  const logger = pino({ level: 'silent' });
  const fleets: Array<LeasedFleet<FakeSupervisor>> = [];

  const ownerOf = async (id: string) => ((await pg.query(`select lease_owner from ${TABLE} where id = $1`, [id])).rows[0] as { lease_owner: string | null }).lease_owner;
  const owners = async () =>
    (await pg.query(`select id, lease_owner, lease_next_owner from ${TABLE} order by id`)).rows as Array<{ id: string; lease_owner: string | null; lease_next_owner: string | null }>;

  /** A fleet whose supervisors take their reserved leases at once (`takes`) or never (a standby that cannot read). */
  function fleet(name: string, takes = true): { fleet: LeasedFleet<FakeSupervisor>; sups: FakeSupervisor[] } {
    const sups: FakeSupervisor[] = [];
    const f = new LeasedFleet<FakeSupervisor>({
      name,
      table: TABLE,
      orm,
      logger,
      pubsub,
      reconcileMs: 500,
      create: (id) => {
        // a standby that cannot read stops on its own, as EndpointSupervisor does when its stream does not open
        const onStart = (s: FakeSupervisor) => {
          if (!s.takeLease) return;
          if (takes) void s.takeLease();
          else setTimeout(() => (s.stopped = true), 100);
        };
        const sup = new FakeSupervisor(id, name, onStart, ownerOf);
        sups.push(sup);
        return sup;
      },
    });
    fleets.push(f);
    return { fleet: f, sups };
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    orm = await initOrm(db.url);
    await migrate(orm, db.url);
    // a pool: the recording supervisors read their row's owner concurrently
    pg = new Pool({ connectionString: db.url, max: 4 });
    // the columns a leased table needs (docker_hosts and swarm_clusters have them)
    await pg.query(`create table ${TABLE} (id uuid primary key, account_id uuid not null, lease_owner varchar(100), lease_expires_at timestamptz, lease_next_owner varchar(100))`);
  }, 60_000);

  beforeEach(async () => {
    await pg.query(`delete from ${TABLE}`);
    await pg.query(`delete from fleet_replicas where fleet = $1`, [TABLE]);
    for (let i = 0; i < ROWS; i++) await pg.query(`insert into ${TABLE} (id, account_id) values ($1, $2)`, [randomUUID(), randomUUID()]);
  });

  afterEach(async () => {
    await Promise.all(fleets.splice(0).map((f) => f.stop().catch(() => undefined)));
  });

  afterAll(async () => {
    await pg?.end();
    await orm?.close(true);
    await db?.drop();
  });

  it('a stopping replica keeps each row until a survivor took its lease; the survivors split the rows within their share, and nothing stays leased to the leaving one', async () => {
    const leaving = fleet('leaving');
    await leaving.fleet.start();
    expect((await owners()).every((r) => r.lease_owner === leaving.fleet.owner)).toBe(true);
    const a = fleet('a');
    const b = fleet('b');
    // the survivors join without taking anything (the leaving replica holds all 12; their claims find no free row)
    await Promise.all([a.fleet.start(), b.fleet.start()]);
    // shedding above the share moves rows the cold way: wait until the three are spread, then count who holds what
    await eventually(async () => {
      const o = await owners();
      return [leaving, a, b].every((x) => o.filter((r) => r.lease_owner === x.fleet.owner).length === 4) ? o : undefined;
    }, 15_000);
    const leavingRows = (await owners()).filter((r) => r.lease_owner === leaving.fleet.owner).map((r) => r.id);

    await leaving.fleet.stop();

    const after = await owners();
    // every row is held by a survivor, none reserved or left to the leaving replica
    expect(after.filter((r) => r.lease_owner !== a.fleet.owner && r.lease_owner !== b.fleet.owner)).toEqual([]);
    expect(after.filter((r) => r.lease_next_owner !== null)).toEqual([]);
    // within the share of 12 rows on 2 replicas (6, plus the slack of 1)
    for (const x of [a, b]) expect(after.filter((r) => r.lease_owner === x.fleet.owner).length).toBeLessThanOrEqual(7);
    // the leaving replica's readers of those rows stopped only once a survivor held the lease (make before break), and knew it was coming
    const moved = leaving.sups.filter((s) => leavingRows.includes(s.id));
    expect(moved.length).toBe(4);
    for (const s of moved) {
      expect([a.fleet.owner, b.fleet.owner]).toContain(s.ownerAtStop);
      expect(s.expectedHandOver).toBe(true);
    }
    // each moved row was started in standby by the survivor that holds it now
    for (const id of leavingRows) {
      const holder = after.find((r) => r.id === id)!.lease_owner;
      const sup = [...a.sups, ...b.sups].find((s) => s.id === id && !s.stopped)!;
      expect(sup.standby).toBe(true);
      expect(holder).toBe(sup.toString().startsWith('a:') ? a.fleet.owner : b.fleet.owner);
    }
    expect(await pg.query(`select owner from fleet_replicas where fleet = $1 and owner = $2`, [TABLE, leaving.fleet.owner]).then((r) => r.rows)).toEqual([]);
  }, 60_000);

  it('survivors whose standbys never read: the leaving replica falls back to releasing its rows, which are then claimed, not left reserved', async () => {
    const leaving = fleet('leaving');
    await leaving.fleet.start();
    const survivor = fleet('stuck', false);
    await survivor.fleet.start();
    await eventually(async () => {
      const o = await owners();
      return o.filter((r) => r.lease_owner === leaving.fleet.owner).length === 6 && o.filter((r) => r.lease_owner === survivor.fleet.owner).length === 6;
    }, 15_000);

    const started = Date.now();
    await leaving.fleet.stop();
    const took = Date.now() - started;
    // it waited for the reservations to turn into leases, bounded, then went the cold way
    expect(took).toBeGreaterThanOrEqual(HANDOVER_WAIT_MS - 100);
    expect(took).toBeLessThan(HANDOVER_WAIT_MS + 5_000);
    // nothing is leased to the leaving replica or still reserved for a standby that never read: the survivor claims them as free rows
    const rows = await eventually(async () => {
      const o = await owners();
      return o.every((r) => r.lease_owner === survivor.fleet.owner && r.lease_next_owner === null) ? o : undefined;
    }, 10_000);
    expect(rows.length).toBe(ROWS);
  }, 60_000);

  it('a lone replica stops without waiting for anyone', async () => {
    const alone = fleet('alone');
    await alone.fleet.start();
    const started = Date.now();
    await alone.fleet.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect((await owners()).filter((r) => r.lease_owner !== null || r.lease_next_owner !== null)).toEqual([]);
  }, 30_000);
});
