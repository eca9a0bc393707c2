import { DEFAULT_LIMITS } from '../../src/kernel/config';
import { startTestApp, TestApp } from '../support/app';
import { whileLocked } from '../support/db';

/**
 * Every pooled connection has a statement_timeout (limits.statementTimeoutMs): a statement stuck
 * behind a lock ends in SERVICE_UNAVAILABLE instead of holding the request and its connection.
 */
describe('database statement timeout (statementTimeoutMs 1000)', () => {
  let t: TestApp;
  let token: string;
  const Q = `query { dockerHosts(first: 5) { totalCount nodes { id } } }`;

  beforeAll(async () => {
    // the migrations of a fresh database ran under this limit too (they run without it)
    t = await startTestApp({ redis: false, config: { limits: { ...DEFAULT_LIMITS, statementTimeoutMs: 1000 } } });
    token = await t.token({ account: 'db-timeouts' });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('every pooled connection carries it, and idle transactions are bounded too', async () => {
    const em = t.app.services.orm.em.fork();
    const [row] = await em
      .getConnection()
      .execute<Array<{ statement_timeout: string; idle: string }>>(`select current_setting('statement_timeout') as statement_timeout, current_setting('idle_in_transaction_session_timeout') as idle`);
    expect(row).toEqual({ statement_timeout: '1s', idle: '1min' });
  });

  it('a query waiting on a lock past the limit answers SERVICE_UNAVAILABLE without the database details, and the next one works', async () => {
    expect((await t.gql(Q, {}, token)).errors).toBeUndefined();
    const { outcome: res, ms: waited } = await whileLocked(t.databaseUrl, 'docker_hosts', () => t.gql(Q, {}, token));
    expect(res.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(JSON.stringify(res.errors)).not.toMatch(/docker_hosts|statement timeout|canceling/i);
    // cancelled by the server after ~1 s, well before the 30 s request deadline
    expect(waited).toBeLessThan(15_000);
    const after = await t.gql(Q, {}, token);
    expect(after.errors).toBeUndefined();
  });
});
