/**
 * Durable timeouts: an instance past its timeout is stopped and ends TIMED_OUT even when the API
 * that started it stopped in between (the timeout is a pg-boss job in PostgreSQL, worked by the
 * next API). Also: the reaper takes over a running instance whose runner is gone.
 */
import { fromGlobalId } from '../../src/graphql/relay';
import { eventually, TestApp } from '../support/app';
import { docker, registerLocalHost, TEST_IMAGE, uniqueName } from '../support/docker';
import { sql } from '../support/db';
import { GET, INSTANCE_PERMISSIONS, RUN, useInstancesDatabase } from '../support/instances';

type Instance = Record<string, unknown> & { id: string; status: string; transitions: Array<{ status: string }>; securityViolations: Array<{ kind: string }> };

describe('container instances: durable timeouts', () => {
  const shared = useInstancesDatabase();
  const state = { account: '', hostId: '' };
  const start = () => shared.start();
  const apps = shared.apps;

  it('a run past its timeout with an API restart in between: TIMED_OUT, container stopped, token revoked', async () => {
    const first = await start();
    const account = uniqueName('timeout');
    const token = await first.token({ account, permissions: INSTANCE_PERMISSIONS });
    const hostId = await registerLocalHost(first, token);
    Object.assign(state, { account, hostId });
    const res = await first.gql<{ runContainerInstance: { instance: Instance } }, unknown>(
      RUN,
      { input: { hostId, config: { image: TEST_IMAGE, command: ['sleep', '600'], timeoutSeconds: 8, vaultPolicies: ['instance-reader'] } } },
      token,
    );
    expect(res.errors).toBeUndefined();
    const id = res.data!.runContainerInstance.instance.id;
    const uuid = fromGlobalId(id).id;
    const get = async (app: TestApp) => (await app.gql<{ containerInstance: Instance }, unknown>(GET, { id }, token)).data!.containerInstance;
    const running = await eventually(async () => ((i) => (i.status === 'RUNNING' ? i : null))(await get(first)), 30_000);
    const [job] = await sql(shared.db.url, `select state, start_after from pgboss.job where name = 'instances.timeout' and id = $1`, [uuid]);
    expect(job).toMatchObject({ state: 'created' });
    expect(new Date(job.start_after as string).getTime()).toBe(new Date(running.deadline as string).getTime());

    // the API goes away while the instance runs
    await first.app.stop();
    apps.splice(apps.indexOf(first), 1);
    const cid = await docker('ps', '-q', '--filter', `label=fleetgraph.instance=${uuid}`);
    expect(cid).not.toBe('');
    const [row] = await sql(shared.db.url, 'select status from container_instances where id = $1', [uuid]);
    expect(row.status).toBe('running');

    // a new API on the same database works the durable timeout job
    const second = await start();
    const done = await eventually(async () => ((i) => (i.status === 'TIMED_OUT' ? i : null))(await get(second)), 60_000, 300);
    expect(new Date(done.endedAt as string).getTime()).toBeGreaterThanOrEqual(new Date(running.deadline as string).getTime());
    expect(done.transitions.map((x) => x.status)).toEqual(['PENDING', 'PROVISIONING', 'RUNNING', 'TIMED_OUT']);
    expect(done.securityViolations.map((v) => v.kind)).toEqual(['TIMEOUT']);
    expect(done.hasSecurityViolations).toBe(true);
    expect(await docker('ps', '-aq', '--filter', `label=fleetgraph.instance=${uuid}`)).toBe('');
    expect(shared.vault.tokens().filter((tk) => tk.meta?.fleetgraph_instance === uuid)).toEqual([expect.objectContaining({ revoked: true })]);
    expect(done.vaultTokenRevokedAt).toBeTruthy();
  }, 180_000);

  it('an API restart finding an orphan: the reaper takes over a running instance whose runner is gone and ends it when it exits', async () => {
    const app = await start();
    const token = await app.token({ account: state.account, permissions: INSTANCE_PERMISSIONS });
    const res = await app.gql<{ runContainerInstance: { instance: Instance } }, unknown>(
      RUN,
      { input: { hostId: state.hostId, config: { image: TEST_IMAGE, command: ['sh', '-c', 'echo orphan-output; sleep 4'], timeoutSeconds: 300, vaultPolicies: ['instance-reader'] } } },
      token,
    );
    expect(res.errors).toBeUndefined();
    const id = res.data!.runContainerInstance.instance.id;
    const uuid = fromGlobalId(id).id;
    await eventually(async () => (await sql(shared.db.url, 'select status from container_instances where id = $1', [uuid]))[0]?.status === 'running', 30_000);
    await app.app.stop();
    apps.splice(apps.indexOf(app), 1);
    // the runner is gone for longer than the reaper waits, and the container exits meanwhile
    await sql(shared.db.url, "update container_instances set heartbeat_at = now() - interval '1 hour' where id = $1", [uuid]);
    await eventually(async () => (await docker('inspect', '-f', '{{.State.Running}}', `fg-instance-${uuid}`)) === 'false', 30_000);

    const next = await start();
    const get = async () => (await next.gql<{ containerInstance: Instance }, unknown>(GET, { id }, token)).data!.containerInstance;
    const done = await eventually(async () => ((i) => (i.status === 'COMPLETED' ? i : null))(await get()), 60_000, 300);
    expect(done).toMatchObject({ exitCode: 0, stdout: 'orphan-output\n' });
    expect(await docker('ps', '-aq', '--filter', `label=fleetgraph.instance=${uuid}`)).toBe('');
    expect(shared.vault.tokens().filter((tk) => tk.meta?.fleetgraph_instance === uuid)).toEqual([expect.objectContaining({ revoked: true })]);
  }, 180_000);
});
