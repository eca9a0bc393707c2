import { DEFAULT_LEASE_SECONDS, DEFAULT_RECONCILE_MS, leaseTiming, planLeases } from '../../src/platform/leasing/lease-plan';

const held = (...ids: string[]) => ids.map((id) => ({ id, accountId: `acct-${id}` }));

describe('lease plan (src/platform/leasing/lease-plan.ts)', () => {
  it.each([
    ['nothing held, nothing running', [], [], [], []],
    ['first reconcile: start a supervisor per held row', ['a', 'b'], [], [], ['a', 'b']],
    ['renewal: held and running rows keep their supervisor', ['a', 'b'], ['a', 'b'], [], []],
    ['lease lost (another replica took it, or the row was removed): stop', ['a'], ['a', 'b'], ['b'], []],
    ['everything lost', [], ['a', 'b'], ['a', 'b'], []],
    ['a crashed replica’s row claimed: start it, keep the rest', ['a', 'c'], ['a'], [], ['c']],
    ['lost one, gained another', ['b', 'c'], ['a', 'b'], ['a'], ['c']],
  ])('%s', (_name, heldIds, running, stop, start) => {
    const plan = planLeases(held(...heldIds), running);
    expect(plan.stop).toEqual(stop);
    expect(plan.start).toEqual(held(...start));
  });

  it('starts carry the row’s account (the supervisor is created with it)', () => {
    expect(planLeases([{ id: 'h1', accountId: 'acct-9' }], []).start).toEqual([{ id: 'h1', accountId: 'acct-9' }]);
  });

  it('keeps the order: stops in supervisor order, starts in the order rows were held', () => {
    expect(planLeases(held('z', 'y', 'x'), ['c', 'z', 'a']).stop).toEqual(['c', 'a']);
    expect(planLeases(held('z', 'y', 'x'), ['c', 'z', 'a']).start.map((h) => h.id)).toEqual(['y', 'x']);
  });

  it('starts one supervisor per row even if a row comes back twice', () => {
    expect(planLeases(held('a', 'a', 'b'), []).start.map((h) => h.id)).toEqual(['a', 'b']);
  });

  it('accepts the fleet’s live iterators (Map keys) and leaves the inputs alone', () => {
    const supervisors = new Map([
      ['a', 1],
      ['b', 2],
    ]);
    const rows = held('b', 'c');
    const plan = planLeases(rows, supervisors.keys());
    expect(plan).toEqual({ stop: ['a'], shed: [], start: held('c') });
    expect([...supervisors.keys()]).toEqual(['a', 'b']);
    expect(rows).toEqual(held('b', 'c'));
  });
});

describe('lease timing', () => {
  it('fills in the defaults', () => {
    expect(leaseTiming({})).toEqual({ leaseSeconds: 6, reconcileMs: 2_000 });
    // a dead replica's rows are taken over within 10 s (issue 9)
    expect(DEFAULT_LEASE_SECONDS * 1000 + DEFAULT_RECONCILE_MS).toBeLessThanOrEqual(10_000);
    expect(leaseTiming({ leaseSeconds: 5, reconcileMs: 200 })).toEqual({ leaseSeconds: 5, reconcileMs: 200 });
    expect(leaseTiming({ leaseSeconds: 7 })).toEqual({ leaseSeconds: 7, reconcileMs: DEFAULT_RECONCILE_MS });
  });

  it('by default a lease is renewed at least twice before it expires, so one failed reconcile loses no row', () => {
    expect(DEFAULT_LEASE_SECONDS * 1000).toBeGreaterThanOrEqual(3 * DEFAULT_RECONCILE_MS);
  });
});
