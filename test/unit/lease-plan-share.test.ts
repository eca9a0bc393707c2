import { planLeases, shareSlack, START_SLOT_MS, STARTS_AT_ONCE } from '../../src/platform/leasing/lease-plan';

const held = (...ids: string[]) => ids.map((id) => ({ id, accountId: `acct-${id}` }));
const ids = (n: number, prefix = 'h') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

/**
 * The fair share (src/platform/leasing/lease-plan.ts): the claim statement caps claims at
 * ceil(rows / live replicas); the plan sheds what a replica holds above that share plus a slack.
 * Simulated here over whole fleets of replicas, reconcile by reconcile, the way LeasedFleet and
 * its SQL do it: claims up to the share from the free rows, shedding releases rows.
 */
describe('lease plan: fair share', () => {
  it('slack: one row, plus 5 % of large shares', () => {
    expect([0, 1, 4, 19, 20, 67, 100, 334].map(shareSlack)).toEqual([1, 1, 1, 1, 2, 4, 6, 17]);
  });

  it('within share + slack nothing is shed (rounding and joins never move leases back and forth)', () => {
    expect(planLeases(held(...ids(5)), ids(5), 4)).toEqual({ stop: [], shed: [], start: [] });
    expect(planLeases(held(...ids(71)), ids(71), 67).shed).toEqual([]);
  });

  it('above share + slack: keeps the share, sheds the rest', () => {
    const plan = planLeases(held(...ids(12)), ids(12), 4);
    expect(plan.shed).toEqual(ids(12).slice(4));
    expect(plan.start).toEqual([]);
    expect(plan.stop).toEqual([]);
  });

  it('keeps running supervisors before rows not started yet, and starts only the kept ones', () => {
    // h1..h3 running, h4..h8 held but not supervised yet (a claim before the share shrank)
    const plan = planLeases(held('h4', 'h1', 'h5', 'h2', 'h6', 'h3', 'h7', 'h8'), ['h1', 'h2', 'h3'], 4);
    expect(plan.shed).toEqual(['h5', 'h6', 'h7', 'h8']);
    expect(plan.start).toEqual(held('h4'));
  });

  it('a lost lease is stopped, not shed', () => {
    const plan = planLeases(held(...ids(8)), [...ids(8), 'gone'], 2);
    expect(plan.stop).toEqual(['gone']);
    expect(plan.shed).toEqual(ids(8).slice(2));
  });

  it('no target: no limit (everything held is kept)', () => {
    expect(planLeases(held(...ids(50)), [], undefined).start).toHaveLength(50);
  });

  /** A fleet of replicas on `rows` rows: each reconcile claims free rows up to ceil(rows/live) − held, as the SQL does, then sheds by the plan. */
  function simulate(rows: number) {
    const owner = new Map<string, string | undefined>(ids(rows).map((id) => [id, undefined]));
    const live = new Set<string>();
    const running = new Map<string, Set<string>>();
    const restarts = new Map<string, number>();
    const reconcile = (r: string) => {
      const target = Math.ceil(rows / live.size);
      const mine = [...owner].filter(([, o]) => o === r).map(([id]) => id);
      const free = [...owner].filter(([, o]) => o === undefined || !live.has(o)).map(([id]) => id);
      const claimed = free.slice(0, Math.max(0, target - mine.length));
      for (const id of claimed) owner.set(id, r);
      const sup = running.get(r)!;
      const plan = planLeases(held(...mine, ...claimed), sup, target);
      for (const id of [...plan.stop, ...plan.shed]) sup.delete(id);
      for (const id of plan.shed) owner.set(id, undefined);
      for (const h of plan.start) {
        sup.add(h.id);
        restarts.set(h.id, (restarts.get(h.id) ?? 0) + 1);
      }
    };
    return {
      owner,
      restarts,
      join(r: string) {
        live.add(r);
        running.set(r, new Set());
      },
      kill(r: string) {
        live.delete(r);
        running.delete(r);
      },
      round() {
        for (const r of live) reconcile(r);
      },
      counts: () => [...live].map((r) => [...owner.values()].filter((o) => o === r).length),
      supervised: () => [...running.values()].reduce((a, s) => a + s.size, 0),
    };
  }

  it('12 rows, replicas joining one by one: each of 3 ends with 3–5, every row supervised once', () => {
    const f = simulate(12);
    f.join('r1');
    f.round();
    expect(f.counts()).toEqual([12]);
    f.join('r2');
    f.round();
    f.round();
    f.join('r3');
    f.round();
    f.round();
    for (const n of f.counts()) expect([3, 4, 5]).toContain(n);
    expect(f.counts().reduce((a, b) => a + b)).toBe(12);
    expect(f.supervised()).toBe(12);
  });

  it('200 rows on 3 replicas: a kill moves only the dead one’s rows, split between the survivors; the others are not restarted', () => {
    const f = simulate(200);
    for (const r of ['r1', 'r2', 'r3']) {
      f.join(r);
      f.round();
      f.round();
    }
    const counts = f.counts();
    for (const n of counts) expect(n >= 62 && n <= 71).toBe(true);
    const before = new Map(f.owner);
    const restartsBefore = new Map(f.restarts);
    f.kill('r3');
    f.round();
    const moved = [...f.owner].filter(([id, o]) => o !== before.get(id)).map(([id]) => id);
    expect(moved.every((id) => before.get(id) === 'r3')).toBe(true);
    expect(moved).toHaveLength([...before.values()].filter((o) => o === 'r3').length);
    for (const n of f.counts()) expect(n).toBeLessThanOrEqual(100);
    expect(f.supervised()).toBe(200);
    // survivors' own rows kept their supervisors
    for (const [id, o] of before) if (o !== 'r3') expect(f.restarts.get(id)).toBe(restartsBefore.get(id));
  });

  it('starts a few supervisors at a time, and no start slot is held for long', () => {
    expect(STARTS_AT_ONCE).toBeGreaterThanOrEqual(2);
    expect(STARTS_AT_ONCE).toBeLessThanOrEqual(64);
    expect(START_SLOT_MS).toBeLessThanOrEqual(2000);
  });
});
