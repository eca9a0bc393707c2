import { DockerContainer, DockerHost } from '../../entities';
import { RegisterDockerHostDocument } from '../../src/generated/graphql';
import { forkForAccount } from '../../src/infra/db/orm';
import { fromGlobalId } from '../../src/graphql/relay';
import { upsertContainers } from '../../src/modules/hosts/inventory';
import type { ContainerRow } from '../../src/modules/hosts/inventory';
import { missingSocketEndpoint, startTestApp, TestApp } from '../support/app';

/**
 * The container upsert runs after nearly every container event, as one prepared statement with
 * the rows as one JSON parameter: what is stored is what the ORM reads back, for every column.
 */
describe('container rows: the prepared upsert', () => {
  let t: TestApp;
  let host: DockerHost;
  let other: DockerHost;
  const em = () => forkForAccount(t.app.services.orm, host.account.id);

  beforeAll(async () => {
    t = await startTestApp({ redis: false });
    const register = async (account: string) => {
      const token = await t.token({ account, permissions: ['docker.hosts.manage'] });
      const res = await t.gql(RegisterDockerHostDocument, { input: { name: 'h', apiEndpoint: missingSocketEndpoint(), environment: 'development' } }, token);
      return t.app.services.orm.em.fork().findOneOrFail(DockerHost, fromGlobalId(res.data!.registerDockerHost.host.id).id, { filters: false });
    };
    host = await register('rows-a');
    other = await register('rows-b');
  });
  afterAll(() => t?.stop());

  const row = (id: string, over: Partial<ContainerRow> = {}): ContainerRow => ({
    containerId: id,
    name: `c-${id.slice(0, 6)}`,
    image: 'local/busybox:1',
    imageId: 'sha256:' + 'f'.repeat(64),
    state: 'running',
    status: 'Up 2 seconds',
    health: null,
    command: 'sh -c "sleep 1000"',
    labels: { 'com.example/ü': 'ä "quoted" \\ back', empty: '' },
    ports: [{ PrivatePort: 80, Type: 'tcp', PublicPort: 8080, IP: '127.0.0.1' }],
    dockerCreatedAt: new Date('2026-12-01T10:00:00.123Z'),
    ...over,
  });
  const stored = async (h: DockerHost, id: string) => (await forkForAccount(t.app.services.orm, h.account.id).findOne(DockerContainer, { host: h, containerId: id }))!;

  it('inserts every column as given, and a second upsert of the same container updates it in place', async () => {
    const id = 'a'.repeat(64);
    await upsertContainers(em(), host, [row(id)]);
    const first = await stored(host, id);
    // every column of the entity, as given (the id and the time compared on their own)
    const { containerId, dockerCreatedAt, ...columns } = row(id);
    expect(first.containerId).toBe(containerId);
    expect(first).toMatchObject(columns);
    expect(first.name).toBe('c-aaaaaa');
    expect(first.dockerCreatedAt?.toISOString()).toBe(dockerCreatedAt!.toISOString());

    await upsertContainers(em(), host, [row(id, { name: 'renamed', state: 'exited', status: null, health: 'unhealthy', labels: {}, ports: [], dockerCreatedAt: null, imageId: null })]);
    const second = await stored(host, id);
    expect(second.id).toBe(first.id);
    expect(second).toMatchObject({ name: 'renamed', state: 'exited', status: null, health: 'unhealthy', labels: {}, ports: [], dockerCreatedAt: null, imageId: null });
    expect(second.updatedAt.getTime()).toBeGreaterThanOrEqual(first.updatedAt.getTime());
  });

  it('cuts an over-long image and status to their columns, and keeps each host (and account) to its own rows', async () => {
    const id = 'b'.repeat(64);
    await upsertContainers(em(), host, [row(id, { image: 'x'.repeat(700), status: 's'.repeat(300) }), row('c'.repeat(64))]);
    await upsertContainers(forkForAccount(t.app.services.orm, other.account.id), other, [row(id, { name: 'theirs' })]);
    const mine = await stored(host, id);
    expect(mine.image).toBe('x'.repeat(500));
    expect(mine.status).toBe('s'.repeat(200));
    expect(mine.name).toBe('c-bbbbbb');
    const theirs = await stored(other, id);
    expect(theirs.name).toBe('theirs');
    expect(theirs.account.id).toBe(other.account.id);
    expect(await em().count(DockerContainer, { host })).toBe(3);
  });

  it('stores an engine string holding U+0000 (which PostgreSQL cannot store) without it, rather than failing every refresh and sync', async () => {
    const id = 'd'.repeat(64);
    await upsertContainers(em(), host, [row(id, { command: 'sh -c "a\u0000b"', labels: { 'k\u0000ey': 'v\u0000al' }, status: 'Up\u0000' })]);
    expect(await stored(host, id)).toMatchObject({ command: 'sh -c "ab"', labels: { key: 'val' }, status: 'Up' });
  });
});
