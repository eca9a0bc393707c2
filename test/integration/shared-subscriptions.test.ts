import type { ExecutionResult } from 'graphql';
import { OnActivityDocument, RegisterDockerHostDocument } from '../../src/generated/graphql';
import { SharedSubscriptions } from '../../src/server/shared-subscriptions';
import { eventually, missingSocketEndpoint, startTestApp, subscribe, TestApp } from '../support/app';

async function sharedExecutions(t: TestApp): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  return Number(/^fleetgraph_ws_shared_executions (\d+)/m.exec(text)?.[1] ?? NaN);
}

describe('subscribers of the same live feed share one execution', () => {
  let t: TestApp;

  beforeAll(async () => {
    // in-process pub/sub: a Redis SUBSCRIBE is confirmed asynchronously, after the shared
    // execution already counts, so a publish right after could race it (not what is tested here)
    t = await startTestApp({ redis: false });
  });
  afterAll(() => t?.stop());

  it('same account and permissions share; others get their own; each sees only its account', async () => {
    const perms = ['docker.hosts.manage'];
    const a = await t.token({ account: 'share-a', permissions: perms });
    const aOther = await t.token({ account: 'share-a', permissions: [...perms, 'docker.logs.read'], subject: 'another-user' });
    const b = await t.token({ account: 'share-b', permissions: perms });
    const same = [0, 1, 2].map(() => subscribe(t.ws(a), OnActivityDocument, {}));
    const other = subscribe(t.ws(aOther), OnActivityDocument, {});
    const foreign = subscribe(t.ws(b), OnActivityDocument, {});
    // three distinct keys: (a, perms), (a, perms + logs), (b, perms)
    await eventually(async () => (await sharedExecutions(t)) === 3);

    const reg = await t.gql(RegisterDockerHostDocument, { input: { name: 'shared', apiEndpoint: missingSocketEndpoint(), environment: 'development' } }, a);
    expect(reg.errors).toBeUndefined();
    const activityId = reg.data!.registerDockerHost.activity.id;
    const finished = (r: ExecutionResult<{ activityUpdated: { id: string; status: string } }>[]) =>
      r.some((x) => x.data?.activityUpdated.id === activityId && x.data.activityUpdated.status === 'SUCCEEDED');
    for (const s of [...same, other]) await s.until(finished);
    // every member of the shared group got the same results in the same order
    const seen = same.map((s) => s.results.map((r) => `${r.data!.activityUpdated.id}:${r.data!.activityUpdated.status}`));
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[2]).toEqual(seen[0]);
    expect(foreign.results).toEqual([]);

    // leaving members do not stop the others; the execution ends with its last member
    same[0].unsubscribe();
    same[1].unsubscribe();
    const reg2 = await t.gql(RegisterDockerHostDocument, { input: { name: 'shared-2', apiEndpoint: missingSocketEndpoint(), environment: 'development' } }, a);
    const id2 = reg2.data!.registerDockerHost.activity.id;
    await same[2].until((r) => r.some((x) => x.data?.activityUpdated.id === id2));
    expect(same[0].results.some((x) => x.data?.activityUpdated.id === id2)).toBe(false);
    same[2].unsubscribe();
    await eventually(async () => (await sharedExecutions(t)) === 2);
    other.unsubscribe();
    foreign.unsubscribe();
    await eventually(async () => (await sharedExecutions(t)) === 0);
  });
});

describe('SharedSubscriptions (fan-out logic)', () => {
  /** A source whose results the test pushes; records whether it was closed. */
  function source() {
    const pending: Array<(r: IteratorResult<ExecutionResult>) => void> = [];
    const buffered: ExecutionResult[] = [];
    let closed = false;
    const it: AsyncIterator<ExecutionResult> = {
      next: () => (buffered.length ? Promise.resolve({ value: buffered.shift()!, done: false }) : new Promise((r) => pending.push(r))),
      return: async () => {
        closed = true;
        pending.splice(0).forEach((p) => p({ value: undefined, done: true }));
        return { value: undefined, done: true };
      },
    };
    return {
      it,
      emit(n: number) {
        const v = { data: { n } };
        const p = pending.shift();
        if (p) p({ value: v, done: false });
        else buffered.push(v);
      },
      get closed() {
        return closed;
      },
    };
  }
  const tick = () => new Promise((r) => setImmediate(r));

  it('starts once per key, fans out in order, and closes the source with the last member', async () => {
    const shared = new SharedSubscriptions({ maxBacklog: 100 });
    const src = source();
    let starts = 0;
    const start = async () => {
      starts++;
      return src.it;
    };
    const m1 = (await shared.join('k', start)) as AsyncIterableIterator<ExecutionResult>;
    const m2 = (await shared.join('k', start)) as AsyncIterableIterator<ExecutionResult>;
    expect(starts).toBe(1);
    expect(shared.size).toBe(1);
    src.emit(1);
    src.emit(2);
    expect((await m1.next()).value).toEqual({ data: { n: 1 } });
    expect((await m2.next()).value).toEqual({ data: { n: 1 } });
    expect((await m2.next()).value).toEqual({ data: { n: 2 } });
    await m1.return!();
    expect(src.closed).toBe(false);
    await m2.return!();
    await tick();
    expect(src.closed).toBe(true);
    expect(shared.size).toBe(0);
  });

  it('ends a member that falls too far behind with an error, without holding back the others', async () => {
    const shared = new SharedSubscriptions({ maxBacklog: 3 });
    const src = source();
    const slow = (await shared.join('k', async () => src.it)) as AsyncIterableIterator<ExecutionResult>;
    const fast = (await shared.join('k', async () => src.it)) as AsyncIterableIterator<ExecutionResult>;
    const got: number[] = [];
    for (let i = 1; i <= 5; i++) {
      src.emit(i);
      got.push(((await fast.next()).value as { data: { n: number } }).data.n);
    }
    expect(got).toEqual([1, 2, 3, 4, 5]);
    await expect(slow.next()).rejects.toThrow(/fell more than 3 results behind/);
    await fast.return!();
  });

  it('direct sinks get each result serialized once; a sink that cannot take more ends its member', async () => {
    const shared = new SharedSubscriptions({ maxBacklog: 100 });
    const src = source();
    const sent: Record<string, string[]> = { a: [], b: [] };
    let bFull = false;
    const a = (await shared.join(
      'k',
      async () => src.it,
      (_r, json) => (sent.a.push(json), true),
    )) as AsyncIterableIterator<ExecutionResult>;
    const b = (await shared.join(
      'k',
      async () => src.it,
      (_r, json) => (bFull ? false : (sent.b.push(json), true)),
    )) as AsyncIterableIterator<ExecutionResult>;
    const bEnd = b.next().catch((e: Error) => e);
    src.emit(1);
    await tick();
    bFull = true;
    src.emit(2);
    await tick();
    expect(sent.a).toEqual(['{"data":{"n":1}}', '{"data":{"n":2}}']);
    expect(sent.b).toEqual(['{"data":{"n":1}}']);
    expect(String(await bEnd)).toMatch(/fell behind/);
    // the member's iterator only signals the end
    const aEnd = a.next();
    await a.return!();
    expect(await aEnd).toEqual({ value: undefined, done: true });
  });

  it('a member ended for falling behind is told the cursor of the last event it was given (to resume with `after`)', async () => {
    const shared = new SharedSubscriptions({ maxBacklog: 100 });
    const pending: Array<(r: IteratorResult<ExecutionResult>) => void> = [];
    const it: AsyncIterator<ExecutionResult> = { next: () => new Promise((r) => pending.push(r)), return: async () => ({ value: undefined, done: true }) };
    const emit = (cursor: string) => pending.shift()!({ value: { data: { dockerEvents: { action: 'start', cursor } } }, done: false });
    let full = false;
    const member = (await shared.join(
      'k',
      async () => it,
      () => !full,
    )) as AsyncIterableIterator<ExecutionResult>;
    const ended = member.next().catch((e: { extensions?: Record<string, unknown> }) => e);
    await tick();
    emit('41');
    await tick();
    emit('42');
    await tick();
    full = true;
    emit('43');
    expect((await ended) as { extensions?: Record<string, unknown> }).toMatchObject({ extensions: { code: 'RATE_LIMITED', limit: 'sendBuffer', lastCursor: '42' } });
  });

  it('an error result from start makes no group', async () => {
    const shared = new SharedSubscriptions({ maxBacklog: 3 });
    const res = await shared.join('k', async () => ({ errors: [] }) as unknown as ExecutionResult);
    expect(res).toEqual({ errors: [] });
    expect(shared.size).toBe(0);
  });
});
