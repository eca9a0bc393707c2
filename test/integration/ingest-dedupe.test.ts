import { DockerEvent, DockerHost, EventSource } from '../../entities';
import { RegisterDockerHostDocument } from '../../src/generated/graphql';
import { forkForAccount } from '../../src/infra/db/orm';
import { fromGlobalId } from '../../src/graphql/relay';
import { eventPayload, ingestEvents, resyncEvents } from '../../src/modules/hosts/ingest';
import type { RawDockerEvent } from '../../src/infra/engine/event-stream';
import { missingSocketEndpoint, startTestApp, TestApp } from '../support/app';

/** After a reconnect the `since` replay and the resync may report the same create/destroy: it is stored and sent once. */
describe('container create/destroy are ingested once, whichever way they come', () => {
  let t: TestApp;
  let host: DockerHost;
  const em = () => forkForAccount(t.app.services.orm, host.account.id);

  beforeAll(async () => {
    t = await startTestApp({ redis: false });
    const token = await t.token({ account: 'dedupe', permissions: ['docker.hosts.manage'] });
    const res = await t.gql(RegisterDockerHostDocument, { input: { name: 'h', apiEndpoint: missingSocketEndpoint(), environment: 'development' } }, token);
    const id = fromGlobalId(res.data!.registerDockerHost.host.id).id;
    host = await t.app.services.orm.em.fork().findOneOrFail(DockerHost, id, { filters: false });
  });
  afterAll(() => t?.stop());

  const streamEvent = (action: string, id: string, nanoOffset: bigint): RawDockerEvent => {
    const timeNano = String(BigInt(Date.now() - 5000) * 1_000_000n + nanoOffset);
    return { Type: 'container', Action: action, Actor: { ID: id, Attributes: { name: id } }, scope: 'local', time: Number(BigInt(timeNano) / 1_000_000_000n), timeNano };
  };

  it('a replayed stream create after a resync create is dropped; other actions pass', async () => {
    const id = 'a'.repeat(64);
    const resync = await ingestEvents(em(), t.app.services.pubsub, host, resyncEvents([{ containerId: id, name: 'x', kind: 'created', after: 'running' }]), EventSource.RESYNC);
    expect(resync.map((e) => e.action)).toEqual(['create']);
    const replay = await ingestEvents(em(), t.app.services.pubsub, host, [streamEvent('create', id, 1n), streamEvent('start', id, 2n)], EventSource.STREAM);
    expect(replay.map((e) => e.action)).toEqual(['start']);
  });

  it('a resync destroy after a stored stream destroy is dropped', async () => {
    const id = 'b'.repeat(64);
    const stream = await ingestEvents(em(), t.app.services.pubsub, host, [streamEvent('destroy', id, 3n)], EventSource.STREAM);
    expect(stream.map((e) => e.action)).toEqual(['destroy']);
    const resync = await ingestEvents(em(), t.app.services.pubsub, host, resyncEvents([{ containerId: id, name: 'y', kind: 'removed', before: 'exited' }]), EventSource.RESYNC);
    expect(resync).toEqual([]);
  });

  it('two different containers are not confused, and a batch holding the same create twice stores it once', async () => {
    const c = 'c'.repeat(64);
    const d = 'd'.repeat(64);
    const out = await ingestEvents(em(), t.app.services.pubsub, host, [streamEvent('create', c, 4n), streamEvent('create', c, 5n), streamEvent('create', d, 6n)], EventSource.STREAM);
    expect(out.map((e) => `${e.action} ${e.actorId[0]}`)).toEqual(['create c', 'create d']);
  });

  it('a live event carries the same fields as the same event replayed from the store', async () => {
    const e = 'e'.repeat(64);
    const [live] = await ingestEvents(em(), t.app.services.pubsub, host, [{ ...streamEvent('die', e, 7n), Actor: { ID: e, Attributes: { name: 'x', exitCode: '3' } } }], EventSource.STREAM);
    const replayed = await em().findOneOrFail(DockerEvent, live.id);
    const fromStore = eventPayload(replayed);
    // every field, the relations as ids (no activity yet: nothing caused it)
    expect(eventPayload(live)).toEqual(fromStore);
    expect(fromStore).toMatchObject({
      id: live.id,
      accountId: host.account.id,
      hostId: host.id,
      type: 'container',
      action: 'die',
      actorId: e,
      attributes: { name: 'x', exitCode: '3' },
      severity: 'warning',
      source: EventSource.STREAM,
      seq: live.seq,
    });
    expect(fromStore.createdAt).toBeInstanceOf(Date);
  });

  it('an engine string holding U+0000 (which PostgreSQL cannot store) is stored without it, and does not hold up the events after it', async () => {
    const f = 'f'.repeat(64);
    const poisoned = { ...streamEvent('start', f, 8n), Actor: { ID: f, Attributes: { 'la\u0000bel': 'va\u0000lue', name: 'n' } } };
    const [stored, next] = await ingestEvents(em(), t.app.services.pubsub, host, [poisoned, streamEvent('die', f, 9n)], EventSource.STREAM);
    expect(stored.attributes).toEqual({ label: 'value', name: 'n' });
    expect(next.action).toBe('die');
    expect((await em().findOneOrFail(DockerEvent, stored.id)).attributes).toEqual({ label: 'value', name: 'n' });
  });
});
