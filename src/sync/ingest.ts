import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DockerContainer, DockerEvent, DockerHost, EventSeverity, EventSource } from '../../entities';
import type { FleetPubSub } from '../pubsub';
import { Topic } from '../pubsub/topics';
import { toPayload } from '../graphql/payload';
import { linkActivitiesToEvents } from '../audit/activity';
import type { RawDockerEvent } from './event-stream';
import { ContainerChange, rowFromInspect, upsertContainers } from './inventory';

/** Container actions after which the stored row is refreshed from an inspect. */
const REFRESH_ACTIONS = /^(create|start|restart|die|stop|kill|pause|unpause|rename|update|oom|health_status.*)$/;

export function severityOf(e: { Type: string; Action: string; Actor?: { Attributes?: Record<string, string> } }): EventSeverity {
  const a = e.Action;
  if (a === 'oom' || a.startsWith('health_status: unhealthy')) return EventSeverity.ERROR;
  if (a === 'die' && e.Actor?.Attributes?.exitCode && e.Actor.Attributes.exitCode !== '0') return EventSeverity.WARNING;
  if (a === 'kill' || a === 'destroy' || a === 'delete' || a === 'remove' || a === 'untag') return EventSeverity.WARNING;
  return EventSeverity.INFO;
}

let resyncCounter = 0n;
/** A unique timeNano for synthetic resync events (now, nanoseconds, plus a counter). */
function nowNano(): string {
  resyncCounter = (resyncCounter + 1n) % 1_000_000n;
  return (BigInt(Date.now()) * 1_000_000n + resyncCounter).toString();
}

/** Resync findings as events, so subscribers see what happened while the stream was down. */
export function resyncEvents(changes: ContainerChange[]): RawDockerEvent[] {
  return changes.map((c) => {
    const action = c.kind === 'created' ? 'create' : c.kind === 'removed' ? 'destroy' : c.after === 'running' ? 'start' : c.after === 'exited' || c.after === 'dead' ? 'die' : c.after === 'paused' ? 'pause' : 'update';
    const timeNano = nowNano();
    return {
      Type: 'container',
      Action: action,
      Actor: { ID: c.containerId, Attributes: { name: c.name, ...(c.before ? { 'state.old': c.before } : {}), ...(c.after ? { 'state.new': c.after } : {}), resync: c.kind } },
      scope: 'local',
      time: Number(BigInt(timeNano) / 1_000_000_000n),
      timeNano,
    };
  });
}

/**
 * Stores a batch of events of one host (idempotently: replays are skipped by the unique key)
 * and publishes the newly stored ones at once; then links them to the activities that caused
 * them. Publishing does not wait for Docker: the container rows the events concern are
 * refreshed afterwards by the caller (see containerRefreshes and refreshContainers), so a
 * slow inspect never delays delivery. Returns the stored events.
 */
export async function ingestEvents(em: EntityManager, pubsub: FleetPubSub, host: DockerHost, incoming: RawDockerEvent[], source: EventSource): Promise<DockerEvent[]> {
  const batch = await withoutKnownLifecycle(em, host, incoming, source);
  if (batch.length === 0) return [];
  const now = new Date();
  const rows = batch.map((e) => ({
    id: randomUUID(),
    account_id: host.account.id,
    host_id: host.id,
    type: e.Type.slice(0, 30),
    action: e.Action.slice(0, 100),
    actor_id: (e.Actor?.ID ?? '').slice(0, 255),
    attributes: JSON.stringify(e.Actor?.Attributes ?? {}),
    scope: e.scope ?? null,
    time: new Date(Number(BigInt(e.timeNano) / 1_000_000n)),
    time_nano: e.timeNano,
    severity: severityOf(e),
    source,
    created_at: now,
    updated_at: now,
  }));
  const inserted = (await em
    .getKnex()
    .insert(rows)
    .into('docker_events')
    .onConflict(['host_id', 'time_nano', 'type', 'action', 'actor_id'])
    .ignore()
    .returning('id')) as Array<{ id: string }>;
  const insertedIds = new Set(inserted.map((r) => r.id));
  const fresh = rows.filter((r) => insertedIds.has(r.id));

  const events = fresh.map((r) => {
    const ev = em.getEntityFactory().create(DockerEvent, {
      id: r.id,
      account: host.account.id,
      host: host.id,
      type: r.type,
      action: r.action,
      actorId: r.actor_id,
      attributes: JSON.parse(r.attributes),
      scope: r.scope,
      time: r.time,
      timeNano: r.time_nano,
      severity: r.severity,
      source: r.source,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    } as never, { merge: false, newEntity: false, initialized: true });
    return ev as DockerEvent;
  });
  // Stored: publish now, even if linking fails below, or a replay would skip them as already stored.
  for (const ev of events) await pubsub.emit(Topic.DOCKER_EVENTS, eventPayload(ev), host.id);
  await linkActivitiesToEvents(em, [...insertedIds]);
  return events;
}

const ONCE = new Set(['create', 'destroy']);
/** How far back a resync's create/destroy is looked for (a resync reports changes since the last sync). */
const LIFECYCLE_LOOKBACK_MS = 60 * 60 * 1000;

/**
 * A container is created and destroyed once (ids are never reused), so a create or destroy
 * already stored is not stored or published again, whichever way it came: after a reconnect
 * the stream's `since` replay and the list-and-diff resync may both report it. One indexed
 * query (host, time), only for batches that hold such events.
 */
async function withoutKnownLifecycle(em: EntityManager, host: DockerHost, events: RawDockerEvent[], source: EventSource): Promise<RawDockerEvent[]> {
  const once = events.filter((e) => e.Type === 'container' && ONCE.has(e.Action) && e.Actor?.ID);
  if (once.length === 0) return events;
  const earliest = once.reduce((min, e) => (BigInt(e.timeNano) < min ? BigInt(e.timeNano) : min), BigInt(once[0].timeNano));
  // a replayed stream event may already be stored as a (later) resync row; a resync row's change
  // may already be stored as a stream event from before the last sync
  const since = source === EventSource.RESYNC ? new Date(Date.now() - LIFECYCLE_LOOKBACK_MS) : new Date(Number(earliest / 1_000_000n));
  const known = (await em.getConnection().execute(
    `select action, actor_id from docker_events
      where host_id = ? and time >= ? and type = 'container' and action in ('create', 'destroy') and actor_id in (?)`,
    [host.id, since, [...new Set(once.map((e) => e.Actor!.ID!))]],
  )) as Array<{ action: string; actor_id: string }>;
  const seen = new Set(known.map((k) => `${k.action} ${k.actor_id}`));
  return events.filter((e) => {
    if (e.Type !== 'container' || !ONCE.has(e.Action) || !e.Actor?.ID) return true;
    const key = `${e.Action} ${e.Actor.ID}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The containers a batch of events changed, with the last action seen for each. */
export function containerRefreshes(batch: RawDockerEvent[], into = new Map<string, string>()): Map<string, string> {
  for (const e of batch) {
    if (e.Type !== 'container' || !e.Actor?.ID) continue;
    if (e.Action === 'destroy' || REFRESH_ACTIONS.test(e.Action)) into.set(e.Actor.ID, e.Action);
  }
  return into;
}

export function eventPayload(ev: DockerEvent): Record<string, unknown> {
  return toPayload(ev, ['account', 'host', 'activity']);
}

/** Brings container rows up to date after container events: inspect, or delete on destroy. */
export async function refreshContainers(em: EntityManager, host: DockerHost, docker: Docker, latest: Map<string, string>): Promise<void> {
  const destroyed: string[] = [];
  const refreshed = [];
  for (const [id, action] of latest) {
    if (action === 'destroy') {
      destroyed.push(id);
      continue;
    }
    try {
      refreshed.push(rowFromInspect(await docker.getContainer(id).inspect()));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) destroyed.push(id);
      else throw err;
    }
  }
  await upsertContainers(em, host, refreshed);
  if (destroyed.length > 0) await em.nativeDelete(DockerContainer, { host, containerId: { $in: destroyed } });
}
