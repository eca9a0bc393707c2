import pino from 'pino';
import { JobQueue } from '../../src/infra/jobs';
import { createTestDatabase } from '../support/app';

const logger = pino({ level: 'silent' });

/** Stopping the job queue: no handler runs on after stop() resolved (the process closes its database next). */
describe('job queue stop', () => {
  let db: { url: string; drop: () => Promise<void> };
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());

  it("waits for a handler that outlives pg-boss's graceful timeout", async () => {
    const jobs = new JobQueue({ databaseUrl: db.url, pollingIntervalSeconds: 0.5, stopWaitMs: 1_000 }, logger);
    const events: string[] = [];
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const isStarted = new Promise<void>((r) => (started = r));
    jobs.queue<{ n: number }>(
      'slow',
      async ({ n }) => {
        events.push(`start ${n}`);
        started();
        await released;
        events.push(`end ${n}`);
      },
      { concurrency: 1 },
    );
    await jobs.start();
    await jobs.send('slow', { n: 1 });
    await isStarted;
    // the handler ends 1.6 s after stop began: past pg-boss's graceful timeout (1 s), inside our own wait (1 s more)
    setTimeout(release, 1_600);
    const stopping = jobs.stop().then(() => events.push('stopped'));
    await stopping;
    expect(events).toEqual(['start 1', 'end 1', 'stopped']);
    await expect(jobs.send('slow', { n: 2 })).rejects.toThrow(/stopped/);
  }, 30_000);

  it('gives up waiting after the bound, so a hung handler cannot hang shutdown', async () => {
    const jobs = new JobQueue({ databaseUrl: db.url, pollingIntervalSeconds: 0.5, stopWaitMs: 1_000 }, logger);
    let started!: () => void;
    const isStarted = new Promise<void>((r) => (started = r));
    jobs.queue<object>('hung', async () => {
      started();
      await new Promise((r) => setTimeout(r, 4_000));
    });
    await jobs.start();
    await jobs.send('hung', {});
    await isStarted;
    const t0 = Date.now();
    await jobs.stop();
    const took = Date.now() - t0;
    // pg-boss's 1 s and ours 1 s, a little slack; far below the handler's 4 s
    expect(took).toBeGreaterThanOrEqual(1_000);
    expect(took).toBeLessThan(3_500);
    await new Promise((r) => setTimeout(r, 2_500)); // let the handler end inside the test
  }, 30_000);
});
