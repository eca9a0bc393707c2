import { Ticker } from '../../src/kernel/ticker';

/** A tick whose runs stay open until the test finishes them, counting calls and overlap. */
function controlledTick() {
  const pending: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  const state = { calls: 0, active: 0, maxActive: 0 };
  const tick = jest.fn(
    () =>
      new Promise<void>((resolve, reject) => {
        state.calls += 1;
        state.active += 1;
        state.maxActive = Math.max(state.maxActive, state.active);
        const done = () => (state.active -= 1);
        pending.push({
          resolve: () => {
            done();
            resolve();
          },
          reject: (err) => {
            done();
            reject(err);
          },
        });
      }),
  );
  return {
    tick,
    state,
    /** Finishes the oldest open run. */
    finish: () => pending.shift()!.resolve(),
    fail: (err: unknown) => pending.shift()!.reject(err),
  };
}

const advance = (ms: number) => jest.advanceTimersByTimeAsync(ms);

describe('Ticker (src/kernel/ticker.ts)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs the tick once after the delay, not before', async () => {
    const tick = jest.fn(async () => undefined);
    const ticker = new Ticker(tick, jest.fn());
    ticker.schedule(1000);
    await advance(999);
    expect(tick).not.toHaveBeenCalled();
    await advance(1);
    expect(tick).toHaveBeenCalledTimes(1);
    await advance(10_000);
    expect(tick).toHaveBeenCalledTimes(1);
  });

  it('an earlier schedule replaces a later pending one (a poke runs now, once)', async () => {
    const tick = jest.fn(async () => undefined);
    const ticker = new Ticker(tick, jest.fn());
    ticker.schedule(30_000);
    ticker.schedule(10);
    await advance(10);
    expect(tick).toHaveBeenCalledTimes(1);
    await advance(60_000);
    expect(tick).toHaveBeenCalledTimes(1);
  });

  it('the last schedule wins: a later one replaces an earlier pending one too', async () => {
    const tick = jest.fn(async () => undefined);
    const ticker = new Ticker(tick, jest.fn());
    ticker.schedule(10);
    ticker.schedule(5000);
    await advance(4999);
    expect(tick).not.toHaveBeenCalled();
    await advance(1);
    expect(tick).toHaveBeenCalledTimes(1);
  });

  it('never runs two ticks at once: timers firing during a run make exactly one more run, right after', async () => {
    const t = controlledTick();
    const ticker = new Ticker(t.tick, jest.fn());
    ticker.schedule(0);
    await advance(0);
    expect(t.state.calls).toBe(1);

    // Two pokes fire while the first run is still going.
    ticker.schedule(0);
    await advance(0);
    ticker.schedule(5);
    await advance(5);
    expect(t.state.calls).toBe(1);

    t.finish();
    await advance(0);
    expect(t.state.calls).toBe(2);
    t.finish();
    await advance(60_000);
    expect(t.state.calls).toBe(2);
    expect(t.state.maxActive).toBe(1);
  });

  it('a poke that fired during a run is not lost to the run’s own (longer) reschedule', async () => {
    let runs = 0;
    let release!: () => void;
    const tick = jest.fn(async () => {
      runs += 1;
      if (runs === 1) await new Promise<void>((r) => (release = r));
      ticker.schedule(30_000); // a supervisor's regular reschedule
    });
    const ticker = new Ticker(tick, jest.fn());
    ticker.schedule(0);
    await advance(0);
    ticker.schedule(0); // poke while running
    await advance(0);
    release();
    await advance(0);
    expect(tick).toHaveBeenCalledTimes(2);
  });

  it('without a timer firing during a run there is no extra run', async () => {
    const t = controlledTick();
    const ticker = new Ticker(t.tick, jest.fn());
    ticker.schedule(0);
    await advance(0);
    t.finish();
    await advance(60_000);
    expect(t.state.calls).toBe(1);
  });

  it('errors go to the handler and the ticker keeps working', async () => {
    const boom = new Error('boom');
    const onError = jest.fn();
    const tick = jest.fn().mockRejectedValueOnce(boom).mockResolvedValue(undefined);
    const ticker = new Ticker(tick, onError);
    ticker.schedule(0);
    await advance(0);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError).toHaveBeenCalledWith(boom);
    ticker.schedule(0);
    await advance(0);
    expect(tick).toHaveBeenCalledTimes(2);
    expect(onError).toHaveBeenCalledTimes(1);
  });

  it('a failed run still makes the extra run a poke asked for', async () => {
    const t = controlledTick();
    const onError = jest.fn();
    const ticker = new Ticker(t.tick, onError);
    ticker.schedule(0);
    await advance(0);
    ticker.schedule(0);
    await advance(0);
    t.fail(new Error('lost stream'));
    await advance(0);
    expect(onError).toHaveBeenCalledWith(new Error('lost stream'));
    expect(t.state.calls).toBe(2);
  });

  it('stop cancels a pending timer and makes schedule a no-op', async () => {
    const tick = jest.fn(async () => undefined);
    const ticker = new Ticker(tick, jest.fn());
    ticker.schedule(100);
    await ticker.stop();
    ticker.schedule(0);
    await advance(60_000);
    expect(tick).not.toHaveBeenCalled();
  });

  it('stop waits for the running tick, and no tick runs after it, not even a requested extra one', async () => {
    const t = controlledTick();
    const ticker = new Ticker(t.tick, jest.fn());
    ticker.schedule(0);
    await advance(0);
    ticker.schedule(0); // fires during the run: would normally cause one more run
    await advance(0);

    let stopped = false;
    const stopping = ticker.stop().then(() => (stopped = true));
    await advance(0);
    expect(stopped).toBe(false);

    t.finish();
    await stopping;
    expect(stopped).toBe(true);
    await advance(60_000);
    expect(t.state.calls).toBe(1);
  });

  it('stop resolves when the running tick fails', async () => {
    const t = controlledTick();
    const onError = jest.fn();
    const ticker = new Ticker(t.tick, onError);
    ticker.schedule(0);
    await advance(0);
    const stopping = ticker.stop();
    t.fail(new Error('late'));
    await expect(stopping).resolves.toBeUndefined();
    expect(onError).toHaveBeenCalledTimes(1);
  });

  it('stop with nothing running or pending resolves at once', async () => {
    await expect(
      new Ticker(
        jest.fn(async () => undefined),
        jest.fn(),
      ).stop(),
    ).resolves.toBeUndefined();
  });
});
