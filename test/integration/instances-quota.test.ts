/**
 * Instance quotas are enforced atomically: 50 concurrent runContainerInstance calls against a
 * quota of 10 start exactly 10 (20 rounds in a row), the rest get QUOTA_EXCEEDED with the limit
 * and the usage; template quotas on top; usage readable as viewer.account.quotaUsage.
 */
import { eventually, TestApp } from '../support/app';
import { TEST_IMAGE, uniqueName } from '../support/docker';
import { sql } from '../support/db';
import { CREATE_TEMPLATE, useInstancesSuite } from '../support/instances';

const RUN = `mutation Run($input: RunContainerInstanceInput!) { runContainerInstance(input: $input) { instance { id status } } }`;
const USAGE = `{ viewer { account { quotaUsage { concurrent { used limit } memoryMb { used limit } cpuMillicores { used limit } } } } }`;
/** Exits at once on SIGTERM (busybox sleep as PID 1 would wait for the kill). */
const SLEEPER = ['sh', '-c', 'trap "exit 0" TERM; sleep 600 & wait'];

describe('container instances: quotas', () => {
  const suite = useInstancesSuite({ accountPrefix: 'quota' });
  let t: TestApp;
  let token: string;
  let hostId: string;
  beforeAll(() => void ({ t, token, hostId } = suite));

  const setQuota = (input: Record<string, unknown>) =>
    t.gql(
      `mutation($input: SetContainerQuotaInput!) { setContainerQuota(input: $input) { settings { maxConcurrent maxMemoryMb maxCpuMillicores } quotaUsage { concurrent { used limit } } } }`,
      { input },
      token,
    );
  const usage = async () => (await t.gql<{ viewer: { account: { quotaUsage: Record<string, { used: number; limit: number | null }> } } }, unknown>(USAGE, {}, token)).data!.viewer.account.quotaUsage;

  /** Cancels every active instance of the account and waits until none holds quota. */
  async function drain(ids: string[]): Promise<void> {
    await Promise.all(ids.map((id) => t.gql(`mutation($id: ID!) { cancelContainerInstance(input: { id: $id }) { instance { status } } }`, { id }, token)));
    await eventually(async () => (await usage()).concurrent.used === 0, 60_000, 250);
  }

  it('50 concurrent runs against a quota of 10 start exactly 10, 20 times in a row', async () => {
    expect((await setQuota({ maxConcurrent: 10, maxMemoryMb: null, maxCpuMillicores: null })).errors).toBeUndefined();
    for (let round = 0; round < 20; round++) {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          t.gql<{ runContainerInstance: { instance: { id: string } } }, unknown>(
            RUN,
            { input: { hostId, name: `r${round}-${i}`, config: { image: TEST_IMAGE, command: SLEEPER, memoryMb: 16, cpuMillicores: 100 } } },
            token,
          ),
        ),
      );
      const admitted = results.filter((r) => !r.errors).map((r) => r.data!.runContainerInstance.instance.id);
      const refused = results.filter((r) => r.errors);
      expect({ round, admitted: admitted.length, refused: refused.length }).toEqual({ round, admitted: 10, refused: 40 });
      for (const r of refused) expect(r.errors![0].extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: 'account', limit: 10, usage: 10, requested: 1 });
      expect(await usage()).toMatchObject({ concurrent: { used: 10, limit: 10 }, memoryMb: { used: 160, limit: t.config.instanceQuotaMax!.memoryMb } });
      // the 10 really start
      await eventually(
        async () => {
          const rows = await sql<{ n: number }>(t.databaseUrl, `select count(*)::int as n from container_instances where name like $1 and status = 'running'`, [`r${round}-%`]);
          return rows[0].n === 10;
        },
        60_000,
        250,
      );
      await drain(admitted);
    }
    const [all] = await sql<{ n: number }>(t.databaseUrl, `select count(*)::int as n from container_instances where name ~ '^r[0-9]+-'`);
    expect(all.n).toBe(200);
  }, 900_000);

  it('memory quota and template quota: QUOTA_EXCEEDED naming which', async () => {
    expect((await setQuota({ maxConcurrent: null, maxMemoryMb: 100 })).errors).toBeUndefined();
    const big = await t.gql(RUN, { input: { hostId, config: { image: TEST_IMAGE, command: SLEEPER, memoryMb: 128 } } }, token);
    expect(big.errors?.[0]?.extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: 'account', resource: 'memory (MiB)', limit: 100, usage: 0, requested: 128 });

    await setQuota({ maxMemoryMb: null });
    const tpl = await t.gql<{ createContainerTemplate: { template: { id: string } } }, unknown>(
      CREATE_TEMPLATE,
      { input: { name: uniqueName('q'), image: TEST_IMAGE, command: SLEEPER, memoryMb: 16, maxConcurrent: 1 } },
      token,
    );
    const templateId = tpl.data!.createContainerTemplate.template.id;
    const first = await t.gql<{ runContainerInstance: { instance: { id: string } } }, unknown>(RUN, { input: { hostId, templateId } }, token);
    expect(first.errors).toBeUndefined();
    const second = await t.gql(RUN, { input: { hostId, templateId } }, token);
    expect(second.errors?.[0]?.extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: 'template', limit: 1, usage: 1 });
    // another template (or a direct run) is not held by it
    const direct = await t.gql<{ runContainerInstance: { instance: { id: string } } }, unknown>(RUN, { input: { hostId, config: { image: TEST_IMAGE, command: SLEEPER, memoryMb: 16 } } }, token);
    expect(direct.errors).toBeUndefined();
    await drain([first.data!.runContainerInstance.instance.id, direct.data!.runContainerInstance.instance.id]);
  }, 120_000);
});
