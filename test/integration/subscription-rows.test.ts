import { DockerContainer, DockerHost } from '../../entities';
import { buildContext, Context } from '../../src/graphql/context';
import { loaderOf, SUBSCRIPTION_ROWS_MAX, withBoundedRows } from '../../src/graphql/loaders';
import { seedFleet } from '../support/fleet';
import { startTestApp, TestApp } from '../support/app';

/**
 * A subscription's context lives as long as its feed: the rows its events' field resolvers load
 * into the context's EntityManager must not pile up for days (withBoundedRows).
 */
describe('rows held by a subscription context (real PostgreSQL)', () => {
  let t: TestApp;
  let ctx: Context;
  let hostId: string;

  beforeAll(async () => {
    t = await startTestApp({ redis: false });
    const token = await t.token({ account: 'sub-rows' });
    const principal = await t.app.services.verifyToken(token);
    const { accountId } = await t.app.services.accounts.resolve(principal);
    ({
      hostIds: [hostId],
    } = await seedFleet(t.app.services.orm, accountId, { prefix: 'rows', hosts: 1, containers: SUBSCRIPTION_ROWS_MAX + 200 }));
    ctx = await buildContext(t.app.services.context, token, 'sub-rows');
  }, 60_000);
  afterAll(() => t?.stop());

  /** An endless source standing for a feed: one value per pull. */
  function source(): AsyncIterableIterator<number> {
    let n = 0;
    return {
      next: async () => ({ value: n++, done: false }),
      return: async () => ({ value: undefined, done: true }),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
  const held = () => ctx.em.getUnitOfWork().getIdentityMap().keys().length;

  it('past SUBSCRIPTION_ROWS_MAX rows the EntityManager is cleared before the next event, and the lookups with it; below it nothing is', async () => {
    const results = withBoundedRows(source(), ctx);
    // an event whose resolvers looked up the host and a few rows: kept (the next event may reuse them)
    const host = await loaderOf(ctx, DockerHost).load(hostId);
    expect(host?.id).toBe(hostId);
    await ctx.em.find(DockerContainer, { host: hostId }, { limit: 10 });
    await results.next();
    // the host, its account (as a reference) and the 10 containers
    expect(held()).toBeGreaterThanOrEqual(11);
    expect(held()).toBeLessThan(20);
    expect(await loaderOf(ctx, DockerHost).load(hostId)).toBe(host);
    // events that loaded every container of the host: cleared before the next one runs
    await ctx.em.find(DockerContainer, { host: hostId });
    expect(held()).toBeGreaterThan(SUBSCRIPTION_ROWS_MAX);
    await results.next();
    expect(held()).toBe(0);
    // a fresh lookup, managed by the same (cleared) EntityManager: resolvers can populate it
    const again = await loaderOf(ctx, DockerHost).load(hostId);
    expect(again).not.toBe(host);
    expect(ctx.em.getUnitOfWork().getById(DockerHost.name, hostId)).toBe(again);
    await results.return!();
  });
});
