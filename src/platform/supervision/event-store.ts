import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { EventSeverity, EventSource } from '../../../entities';
import type { RawDockerEvent } from '../../infra/engine/event-stream';

/** Where one kind of Docker event is stored: host events (docker_events) or swarm events (swarm_events). */
export interface EventLog<E> {
  table: 'docker_events' | 'swarm_events';
  /** The owner's column and entity property. */
  ownerColumn: 'host_id' | 'cluster_id';
  ownerField: 'host' | 'cluster';
  entity: new () => E;
  /** Whether Docker's `scope` is kept (docker_events has the column). */
  keepsScope: boolean;
  severity(e: RawDockerEvent): EventSeverity;
  /**
   * Actions that happen once per object (its create and its removal; ids are never reused), for
   * these event types. One already stored is not stored or published again, whichever way it
   * came: after a reconnect the stream's `since` replay and the resync may both report it.
   */
  once: { types: readonly string[] | 'any'; actions: readonly string[] };
  /** How far back a resync's once-action is looked for; undefined: no limit. */
  resyncLookbackMs?: number;
}

let syntheticCounter = 0n;
/** A unique timeNano for synthetic (resync) events: now in nanoseconds plus a counter. */
export function syntheticTimeNano(): string {
  syntheticCounter = (syntheticCounter + 1n) % 1_000_000n;
  return (BigInt(Date.now()) * 1_000_000n + syntheticCounter).toString();
}

function isOnce(log: EventLog<unknown>, e: RawDockerEvent): boolean {
  return Boolean(e.Actor?.ID) && log.once.actions.includes(e.Action) && (log.once.types === 'any' || log.once.types.includes(e.Type));
}

/** Drops once-actions already stored (one indexed query on (owner, time), only for batches holding them). */
async function withoutStoredOnce<E>(em: EntityManager, log: EventLog<E>, ownerId: string, events: RawDockerEvent[], source: EventSource): Promise<RawDockerEvent[]> {
  const once = events.filter((e) => isOnce(log, e));
  if (once.length === 0) return events;
  const earliest = once.reduce((min, e) => (BigInt(e.timeNano) < min ? BigInt(e.timeNano) : min), BigInt(once[0].timeNano));
  // a replayed stream event may already be stored as a (later) resync row; a resync row's change
  // may already be stored as a stream event from before the last sync
  const since = source === EventSource.RESYNC ? (log.resyncLookbackMs === undefined ? null : new Date(Date.now() - log.resyncLookbackMs)) : new Date(Number(earliest / 1_000_000n));
  const known = (await em.getConnection().execute(
    `select type, action, actor_id from ${log.table}
      where ${log.ownerColumn} = ? ${since ? 'and time >= ?' : ''} and action in (?) and actor_id in (?)`,
    [ownerId, ...(since ? [since] : []), [...log.once.actions], [...new Set(once.map((e) => e.Actor!.ID!))]],
  )) as Array<{ type: string; action: string; actor_id: string }>;
  const seen = new Set(known.map((k) => `${k.type} ${k.action} ${k.actor_id}`));
  return events.filter((e) => {
    if (!isOnce(log, e)) return true;
    const key = `${e.Type} ${e.Action} ${e.Actor!.ID}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Stores a batch of events of one owner idempotently (replays are skipped by the unique key
 * (owner, timeNano, type, action, actor), once-actions by withoutStoredOnce) with one insert,
 * and returns the newly stored ones as entities, ready to publish.
 */
export async function storeEvents<E>(em: EntityManager, log: EventLog<E>, owner: { id: string; account: { id: string } }, incoming: RawDockerEvent[], source: EventSource): Promise<E[]> {
  const batch = await withoutStoredOnce(em, log, owner.id, incoming, source);
  if (batch.length === 0) return [];
  const now = new Date();
  const rows = batch.map((e) => ({
    id: randomUUID(),
    account_id: owner.account.id,
    [log.ownerColumn]: owner.id,
    type: e.Type.slice(0, 30),
    action: e.Action.slice(0, 100),
    actor_id: (e.Actor?.ID ?? '').slice(0, 255),
    attributes: JSON.stringify(e.Actor?.Attributes ?? {}),
    ...(log.keepsScope ? { scope: e.scope ?? null } : {}),
    time: new Date(Number(BigInt(e.timeNano) / 1_000_000n)),
    time_nano: e.timeNano,
    severity: log.severity(e),
    source,
    created_at: now,
    updated_at: now,
  }));
  const inserted = (await em.getKnex().insert(rows).into(log.table).onConflict([log.ownerColumn, 'time_nano', 'type', 'action', 'actor_id']).ignore().returning('id')) as Array<{ id: string }>;
  const ids = new Set(inserted.map((r) => r.id));
  return rows
    .filter((r) => ids.has(r.id))
    .map(
      (r) =>
        em.getEntityFactory().create(
          log.entity,
          {
            id: r.id,
            account: owner.account.id,
            [log.ownerField]: owner.id,
            type: r.type,
            action: r.action,
            actorId: r.actor_id,
            attributes: JSON.parse(r.attributes),
            ...(log.keepsScope ? { scope: (r as { scope?: string | null }).scope } : {}),
            time: r.time,
            timeNano: r.time_nano,
            severity: r.severity,
            source: r.source,
            createdAt: r.created_at,
            updatedAt: r.updated_at,
          } as never,
          { merge: false, newEntity: false, initialized: true },
        ) as E,
    );
}

export function severityOf(e: { Type: string; Action: string; Actor?: { Attributes?: Record<string, string> } }): EventSeverity {
  const a = e.Action;
  if (a === 'oom' || a.startsWith('health_status: unhealthy')) return EventSeverity.ERROR;
  if (a === 'die' && e.Actor?.Attributes?.exitCode && e.Actor.Attributes.exitCode !== '0') return EventSeverity.WARNING;
  if (a === 'kill' || a === 'destroy' || a === 'delete' || a === 'remove' || a === 'untag') return EventSeverity.WARNING;
  return EventSeverity.INFO;
}
