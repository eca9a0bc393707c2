import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { EventSeverity, EventSource, SwarmCluster, SwarmEvent } from '../../entities';
import type { FleetPubSub } from '../pubsub';
import { Topic } from '../pubsub/topics';
import { toPayload } from '../graphql/payload';
import { linkActivitiesToEvents, SWARM_EVENT_LINK } from '../audit/activity';
import type { RawDockerEvent } from '../sync/event-stream';
import { severityOf } from '../sync/ingest';
import type { SwarmChange } from './sync';

/** Event types a manager reports with scope "swarm". */
export const SWARM_EVENT_TYPES = ['service', 'node', 'secret', 'config', 'network'];

export function swarmSeverity(e: RawDockerEvent): EventSeverity {
  const a = e.Actor?.Attributes ?? {};
  if (a['state.new'] === 'down' || a['updatestate.new'] === 'paused' || a['updatestate.new'] === 'rollback_paused') return EventSeverity.ERROR;
  if (a['updatestate.new'] === 'rollback_started' || a['state.new'] === 'disconnected') return EventSeverity.WARNING;
  return severityOf(e);
}

let counter = 0n;
function nowNano(): string {
  counter = (counter + 1n) % 1_000_000n;
  return (BigInt(Date.now()) * 1_000_000n + counter).toString();
}

/** Resync findings as events, so subscribers see what happened while the stream was down. */
export function resyncSwarmEvents(changes: SwarmChange[]): RawDockerEvent[] {
  return changes.map((c) => {
    const timeNano = nowNano();
    return { Type: c.type, Action: c.action, Actor: { ID: c.actorId, Attributes: { ...c.attributes, resync: 'true' } }, scope: 'swarm', time: Number(BigInt(timeNano) / 1_000_000_000n), timeNano };
  });
}

const ONCE = new Set(['create', 'remove']);

/**
 * A swarm object is created and removed once (Docker ids are never reused), so a create or
 * remove already stored is not stored or published again, whichever way it came: the replay
 * of a reconnected stream and the resync may both report it.
 */
async function withoutKnownLifecycle(em: EntityManager, cluster: SwarmCluster, events: RawDockerEvent[]): Promise<RawDockerEvent[]> {
  const once = events.filter((e) => ONCE.has(e.Action) && e.Actor?.ID);
  if (once.length === 0) return events;
  const known = (await em
    .getConnection()
    .execute(`select type, action, actor_id from swarm_events where cluster_id = ? and action in ('create', 'remove') and actor_id in (?)`, [
      cluster.id,
      [...new Set(once.map((e) => e.Actor!.ID!))],
    ])) as Array<{ type: string; action: string; actor_id: string }>;
  const seen = new Set(known.map((k) => `${k.type} ${k.action} ${k.actor_id}`));
  return events.filter((e) => {
    if (!ONCE.has(e.Action) || !e.Actor?.ID) return true;
    const key = `${e.Type} ${e.Action} ${e.Actor.ID}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function swarmEventPayload(ev: SwarmEvent): Record<string, unknown> {
  return toPayload(ev, ['account', 'cluster', 'activity']);
}

/**
 * Stores a batch of swarm events of one cluster (replays are skipped by the unique key) and
 * publishes the newly stored ones on swarmEvents:<cluster>. Returns them.
 */
export async function ingestSwarmEvents(em: EntityManager, pubsub: FleetPubSub, cluster: SwarmCluster, batch: RawDockerEvent[], source: EventSource): Promise<SwarmEvent[]> {
  let relevant = batch.filter((e) => e.scope === 'swarm' || SWARM_EVENT_TYPES.includes(e.Type));
  relevant = await withoutKnownLifecycle(em, cluster, relevant);
  if (relevant.length === 0) return [];
  const now = new Date();
  const rows = relevant.map((e) => ({
    id: randomUUID(),
    account_id: cluster.account.id,
    cluster_id: cluster.id,
    type: e.Type.slice(0, 30),
    action: e.Action.slice(0, 100),
    actor_id: (e.Actor?.ID ?? '').slice(0, 255),
    attributes: JSON.stringify(e.Actor?.Attributes ?? {}),
    time: new Date(Number(BigInt(e.timeNano) / 1_000_000n)),
    time_nano: e.timeNano,
    severity: swarmSeverity(e),
    source,
    created_at: now,
    updated_at: now,
  }));
  const inserted = (await em
    .getKnex()
    .insert(rows)
    .into('swarm_events')
    .onConflict(['cluster_id', 'time_nano', 'type', 'action', 'actor_id'])
    .ignore()
    .returning('id')) as Array<{ id: string }>;
  const ids = new Set(inserted.map((r) => r.id));
  await linkActivitiesToEvents(em, [...ids], SWARM_EVENT_LINK);
  const events = rows
    .filter((r) => ids.has(r.id))
    .map(
      (r) =>
        em.getEntityFactory().create(
          SwarmEvent,
          {
            id: r.id,
            account: cluster.account.id,
            cluster: cluster.id,
            type: r.type,
            action: r.action,
            actorId: r.actor_id,
            attributes: JSON.parse(r.attributes),
            time: r.time,
            timeNano: r.time_nano,
            severity: r.severity,
            source: r.source,
            createdAt: r.created_at,
            updatedAt: r.updated_at,
          } as never,
          { merge: false, newEntity: false, initialized: true },
        ) as SwarmEvent,
    );
  for (const ev of events) await pubsub.emit(Topic.SWARM_EVENTS, swarmEventPayload(ev), cluster.id);
  return events;
}
