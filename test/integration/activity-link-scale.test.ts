import { DockerEvent, DockerHost, EventSource } from '../../entities';
import { RegisterDockerHostDocument } from '../../src/generated/graphql';
import { forkForAccount } from '../../src/infra/db/orm';
import { fromGlobalId } from '../../src/graphql/relay';
import { ingestEvents } from '../../src/modules/hosts/ingest';
import { DOCKER_EVENT_LINK, linkStatement } from '../../src/platform/audit/activity';
import type { RawDockerEvent } from '../../src/infra/engine/event-stream';
import { missingSocketEndpoint, startTestApp, TestApp } from '../support/app';

/**
 * Every stored batch of events is linked to the activities that caused it. The look-up must not
 * grow with the audit log: with a long history it used to scan every activity for every event
 * (195 ms per event at 300,000 activities).
 */
describe('activity links with a long audit log', () => {
  let t: TestApp;
  let host: DockerHost;
  const em = () => forkForAccount(t.app.services.orm, host.account.id);
  const sql = (text: string, params: unknown[] = []) => em().getConnection().execute(text, params);

  beforeAll(async () => {
    t = await startTestApp({ redis: false });
    const token = await t.token({ account: 'link-scale', permissions: ['docker.hosts.manage'] });
    const res = await t.gql(RegisterDockerHostDocument, { input: { name: 'h', apiEndpoint: missingSocketEndpoint(), environment: 'development' } }, token);
    host = await t.app.services.orm.em.fork().findOneOrFail(DockerHost, fromGlobalId(res.data!.registerDockerHost.host.id).id, { filters: false });
    // 30,000 finished operations of the last 60 days on this host's containers
    await sql(
      `insert into docker_activities (id, created_at, updated_at, account_id, actor, action, target_type, target_id, host_id, parameters, status, started_at, finished_at)
       select gen_random_uuid(), now(), now(), ?, 'test', (array['container.start', 'container.stop', 'container.restart'])[1 + g % 3], 'container', md5(g::text) || md5((g + 1)::text),
              ?, '{}', 'succeeded', now() - g * interval '170 seconds', now() - g * interval '170 seconds' + interval '1 second'
         from generate_series(1, 30000) g`,
      [host.account.id, host.id],
    );
    await sql('analyze docker_activities');
  });
  afterAll(() => t?.stop());

  const activity = async (action: string, targetId: string, startedSecondsAgo: number) => {
    const [row] = await sql(
      `insert into docker_activities (id, created_at, updated_at, account_id, actor, action, target_type, target_id, host_id, parameters, status, started_at, finished_at)
       values (gen_random_uuid(), now(), now(), ?, 'test', ?, 'container', ?, ?, '{}', 'succeeded', now() - ? * interval '1 second', now()) returning id`,
      [host.account.id, action, targetId, host.id, startedSecondsAgo],
    );
    return (row as { id: string }).id;
  };
  const event = (action: string, actor: string): RawDockerEvent => {
    const timeNano = String(BigInt(Date.now() - 200) * 1_000_000n);
    return { Type: 'container', Action: action, Actor: { ID: actor, Attributes: {} }, scope: 'local', time: Number(BigInt(timeNano) / 1_000_000_000n), timeNano };
  };
  const linkedTo = async (id: string) => (await em().findOneOrFail(DockerEvent, id)).activity?.id ?? null;

  it('links a fresh event to its own operation among 30,000 old ones, and the look-up uses the index, not a scan of the log', async () => {
    const actor = 'd'.repeat(64);
    const mine = await activity('container.start', actor, 2);
    const [stored] = await ingestEvents(em(), t.app.services.pubsub, host, [event('start', actor)], EventSource.STREAM);
    expect(await linkedTo(stored.id)).toBe(mine);

    const statement = linkStatement(DOCKER_EVENT_LINK, 'e.id = ?::uuid', [stored.id]);
    const plan = (await sql(`explain ${statement.sql}`, statement.params)) as Array<{ 'QUERY PLAN': string }>;
    const text = plan.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toMatch(/docker_activities_host_id_finished_at_index/);
    expect(text).not.toMatch(/Seq Scan on docker_activities/);
  });

  it("matches a target as a prefix of the event's actor, taken literally: _ and % in a target are no wildcards", async () => {
    const actor = 'a' + 'b'.repeat(63);
    const byPrefix = await activity('container.stop', actor.slice(0, 12), 3);
    // newer, and it would match if its target were a LIKE pattern
    await activity('container.stop', 'a_b', 1);
    const [stored] = await ingestEvents(em(), t.app.services.pubsub, host, [event('stop', actor)], EventSource.STREAM);
    expect(await linkedTo(stored.id)).toBe(byPrefix);
  });
});
