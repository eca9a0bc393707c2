import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { EventSeverity, EventSource } from '../../../entities';
import type { RawDockerEvent } from '../../infra/engine/event-stream';
import type { FleetPubSub } from '../../infra/pubsub';
import { traceEvent } from '../../kernel/trace';
import { executePrepared } from '../../infra/db/prepared';
import { storable, storableStrings } from '../../infra/db/storable';
import { hydrate } from '../../infra/pubsub/payload';

/** Where one kind of Docker event is stored: host events (docker_events) or swarm events (swarm_events). */
export interface EventLog<E> {
  table: 'docker_events' | 'swarm_events';
  /** The owners' table, which holds the sequence counter (event_seq) and the lease. */
  ownerTable: 'docker_hosts' | 'swarm_clusters';
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

/**
 * Since when a once-action of this batch is looked for among stored events: a replayed stream
 * event may already be stored as a (later) resync row, and a resync row's change may already be
 * stored as a stream event from before the last sync. null: no limit.
 */
function onceSince(log: EventLog<unknown>, once: RawDockerEvent[], source: EventSource): Date | null {
  if (source === EventSource.RESYNC) return log.resyncLookbackMs === undefined ? null : new Date(Date.now() - log.resyncLookbackMs);
  const earliest = once.reduce((min, e) => (BigInt(e.timeNano) < min ? BigInt(e.timeNano) : min), BigInt(once[0].timeNano));
  return new Date(Number(earliest / 1_000_000n));
}

/** Keeps the first of each event key and of each once-action (type, action, actor) within a batch. */
function dedupeBatch(log: EventLog<unknown>, incoming: RawDockerEvent[]): RawDockerEvent[] {
  const keys = new Set<string>();
  return incoming.filter((e) => {
    const key = isOnce(log, e) ? `once ${e.Type} ${e.Action} ${e.Actor!.ID}` : keyOf(e);
    if (keys.has(key)) return false;
    keys.add(key);
    return true;
  });
}

/**
 * The once-action check of storeEvents, only put in the statement when the batch has a
 * once-action. Without one it would still be planned: with no `since` it is costed as a scan of
 * all the owner's stored events per row, and that estimate alone makes PostgreSQL JIT-compile
 * the statement (jit_above_cost): measured 600 ms per single-event insert with 500,000 stored
 * events for the host, against 0.8 ms without the clause.
 */
function onceClause(table: string, ownerColumn: string, since: Date | null): string {
  return `and not (i.once and exists (select 1 from ${table} e where e.${ownerColumn} = ? and e.type = i.type and e.action = i.action and e.actor_id = i.actor_id${since ? ' and e.time >= ?' : ''}))`;
}

/** Whose events are stored: a host or a cluster, by id, with its account. */
export interface EventOwner {
  id: string;
  account: { id: string };
}

/** The unique key of a stored event within its owner. */
const keyOf = (e: RawDockerEvent) => `${e.timeNano} ${e.Type.slice(0, 30)} ${e.Action.slice(0, 100)} ${(e.Actor?.ID ?? '').slice(0, 255)}`;

/**
 * Thrown when the owner's lease belongs to another replica: this reader was taken over and must
 * stop writing (fencing). Nothing of the batch was stored.
 */
export class LeaseLost extends Error {
  constructor(readonly ownerId: string) {
    super(`the lease on ${ownerId} is held by another replica`);
  }
}

/**
 * Stores a batch of events of one owner idempotently, in ONE statement: events already stored
 * (same owner, timeNano, type, action, actor; once-actions: same type, action and actor since
 * onceSince) are skipped, the
 * new ones are numbered after the owner's `event_seq` counter in batch order, and the counter is
 * advanced, so sequence numbers are gap-free and monotonic per owner. The counter's row lock
 * serializes writers of one owner. With `fence` (the replica's lease id), nothing is stored
 * unless the owner's lease is still this replica's: LeaseLost is thrown instead.
 * Returns the newly stored events (of the entity's class, not managed by an EntityManager), in
 * sequence order, ready to publish.
 */
export async function storeEvents<E>(em: EntityManager, log: EventLog<E>, owner: EventOwner, incoming: RawDockerEvent[], source: EventSource, fence?: string): Promise<E[]> {
  const batch = dedupeBatch(log, incoming);
  if (batch.length === 0) return [];
  const onceEvents = batch.filter((e) => isOnce(log, e));
  const hasOnce = onceEvents.length > 0;
  const since = hasOnce ? onceSince(log, onceEvents, source) : null;
  const rows = batch.map((e, ord) => ({
    ord,
    id: randomUUID(),
    type: storable(e.Type).slice(0, 30),
    action: storable(e.Action).slice(0, 100),
    actor_id: storable(e.Actor?.ID ?? '').slice(0, 255),
    attributes: storableStrings(e.Actor?.Attributes ?? {}),
    scope: e.scope ? storable(e.scope) : null,
    time_nano: e.timeNano,
    severity: log.severity(e),
    once: isOnce(log, e),
  }));
  const { ownerTable, table, ownerColumn } = log;
  const [result] = await executePrepared<{ owned: number; stored: Array<{ id: string; seq: number; at: string }> }>(
    em,
    `with incoming as (
       select * from jsonb_to_recordset(?::jsonb) as x(ord int, id uuid, type text, action text, actor_id text, attributes jsonb, scope text, time_nano bigint, severity text, once boolean)
     ), fresh as (
       select i.*, row_number() over (order by i.ord) as n from incoming i
        where not exists (select 1 from ${table} e where e.${ownerColumn} = ? and e.time_nano = i.time_nano and e.type = i.type and e.action = i.action and e.actor_id = i.actor_id)
          ${hasOnce ? onceClause(table, ownerColumn, since) : ''}
     ), bump as (
       update ${ownerTable} set event_seq = event_seq + (select count(*) from fresh)
        where id = ? ${fence ? 'and lease_owner = ?' : ''}
        returning event_seq - (select count(*) from fresh) as base
     ), ins as (
       insert into ${table} (id, account_id, ${ownerColumn}, type, action, actor_id, attributes, ${log.keepsScope ? 'scope, ' : ''}time, time_nano, severity, source, seq, created_at, updated_at)
       select f.id, ?::uuid, ?::uuid, f.type, f.action, f.actor_id, f.attributes, ${log.keepsScope ? 'f.scope, ' : ''}to_timestamp(f.time_nano / 1000000 / 1000.0), f.time_nano, f.severity, ?::text, b.base + f.n, now(), now()
         from fresh f cross join bump b
       returning id, seq, created_at
     )
     select (select count(*) from bump)::int as owned, coalesce((select json_agg(json_build_object('id', id, 'seq', seq, 'at', created_at) order by seq) from ins), '[]'::json) as stored`,
    [JSON.stringify(rows), owner.id, ...(hasOnce ? [owner.id, ...(since ? [since] : [])] : []), owner.id, ...(fence ? [fence] : []), owner.account.id, owner.id, source],
  );
  if (result.owned === 0) {
    if (fence) throw new LeaseLost(owner.id);
    return [];
  }
  for (const r of rows) traceEvent('stored', r.time_nano);
  const byId = new Map<string, (typeof rows)[number]>(rows.map((r) => [r.id, r]));
  // built as the ORM would load them, without its entity factory (it runs for every stored event):
  // the entity's class, its columns, and its relations as references by id
  return result.stored.map(({ id, seq, at }) => {
    const r = byId.get(id)!;
    const createdAt = new Date(at);
    return hydrate(log.entity as new () => E & object, {
      id,
      account: { id: owner.account.id },
      [log.ownerField]: { id: owner.id },
      // linked to its activity afterwards (linkActivitiesToEvents)
      activity: null,
      type: r.type,
      action: r.action,
      actorId: r.actor_id,
      attributes: r.attributes,
      ...(log.keepsScope ? { scope: r.scope } : {}),
      time: new Date(Number(BigInt(r.time_nano) / 1_000_000n)),
      timeNano: r.time_nano,
      severity: r.severity,
      source,
      seq: Number(seq),
      createdAt,
      updatedAt: createdAt,
    });
  });
}

export function severityOf(e: { Type: string; Action: string; Actor?: { Attributes?: Record<string, string> } }): EventSeverity {
  const a = e.Action;
  if (e.Type === GAP_TYPE && a === GAP_ACTION) return EventSeverity.WARNING;
  if (a === 'oom' || a.startsWith('health_status: unhealthy')) return EventSeverity.ERROR;
  if (a === 'die' && e.Actor?.Attributes?.exitCode && e.Actor.Attributes.exitCode !== '0') return EventSeverity.WARNING;
  if (a === 'kill' || a === 'destroy' || a === 'delete' || a === 'remove' || a === 'untag') return EventSeverity.WARNING;
  return EventSeverity.INFO;
}

/**
 * Publishes stored events of one owner on `topic:<owner>`, all at once (in order on one
 * connection). A publish that fails is not retried one by one: the owner's latest event is kept
 * in the pub/sub outbox, and subscribers that see its sequence number fill the gap from the store.
 * This replica's own subscribers get them at once, without the Redis round trip (emitSequenced).
 */
export async function publishStored(pubsub: FleetPubSub, topic: string, ownerId: string, payloads: Array<{ seq?: unknown; timeNano?: unknown }>): Promise<void> {
  await Promise.all(
    payloads.map((p) =>
      // every stored event has its number; without one (never expected) it only goes through the transport
      (hasSeq(p) ? pubsub.emitSequenced(topic, p, ownerId, 'latest-event') : pubsub.emit(topic, p, ownerId, 'latest-event')).then(() => traceEvent('published', p.timeNano as string)),
    ),
  );
}

const hasSeq = <P extends { seq?: unknown }>(p: P): p is P & { seq: number } => typeof p.seq === 'number';

/** The type and action of a GAP event (source GAP): Docker's replay did not reach back to the last stored event. */
export const GAP_TYPE = 'stream';
export const GAP_ACTION = 'gap';

/**
 * The event that announces a possible gap: events between `fromNano` (the last stored event) and
 * `toNano` (the first event Docker replayed) may be missing. It sorts just before the replayed
 * event, so it takes the sequence number before it.
 */
export function gapEvent(fromNano: string, toNano: string, reason: string): RawDockerEvent {
  const timeNano = (BigInt(toNano) - 1n).toString();
  return {
    Type: GAP_TYPE,
    Action: GAP_ACTION,
    Actor: { ID: '', Attributes: { from: fromNano, to: toNano, reason } },
    scope: 'local',
    time: Number(BigInt(timeNano) / 1_000_000_000n),
    timeNano,
  };
}
