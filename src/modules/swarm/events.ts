import type { EntityManager } from '@mikro-orm/postgresql';
import { EventSeverity, EventSource, SwarmEvent } from '../../../entities';
import type { FleetPubSub } from '../../infra/pubsub';
import { Topic } from '../../infra/pubsub/topics';
import { toPayload } from '../../infra/pubsub/payload';
import { linkActivitiesToEvents, SWARM_EVENT_LINK } from '../../platform/audit/activity';
import type { RawDockerEvent } from '../../infra/engine/event-stream';
import { EventLog, EventOwner, GAP_TYPE, publishStored, storeEvents, syntheticTimeNano } from '../../platform/supervision/event-store';
import { severityOf } from '../../platform/supervision/event-store';
import type { SwarmChange } from './sync';

/** Event types a manager reports with scope "swarm". */
export const SWARM_EVENT_TYPES = ['service', 'node', 'secret', 'config', 'network'];

export function swarmSeverity(e: RawDockerEvent): EventSeverity {
  const a = e.Actor?.Attributes ?? {};
  if (a['state.new'] === 'down' || a['updatestate.new'] === 'paused' || a['updatestate.new'] === 'rollback_paused') return EventSeverity.ERROR;
  if (a['updatestate.new'] === 'rollback_started' || a['state.new'] === 'disconnected') return EventSeverity.WARNING;
  return severityOf(e);
}

/** Resync findings as events, so subscribers see what happened while the stream was down. */
export function resyncSwarmEvents(changes: SwarmChange[]): RawDockerEvent[] {
  return changes.map((c) => {
    const timeNano = syntheticTimeNano();
    return { Type: c.type, Action: c.action, Actor: { ID: c.actorId, Attributes: { ...c.attributes, resync: 'true' } }, scope: 'swarm', time: Number(BigInt(timeNano) / 1_000_000_000n), timeNano };
  });
}

/** Swarm events: a swarm object's create and remove are stored once (see EventLog.once). */
const SWARM_EVENTS: EventLog<SwarmEvent> = {
  table: 'swarm_events',
  ownerTable: 'swarm_clusters',
  ownerColumn: 'cluster_id',
  ownerField: 'cluster',
  entity: SwarmEvent,
  keepsScope: false,
  severity: swarmSeverity,
  once: { types: 'any', actions: ['create', 'remove'] },
};

export function swarmEventPayload(ev: SwarmEvent): Record<string, unknown> {
  return toPayload(ev, ['account', 'cluster', 'activity']);
}

/** Replays stored events of a cluster for resumable subscriptions. */
export const SWARM_EVENT_LOG = { entity: SwarmEvent, ownerField: 'cluster', payload: (ev: SwarmEvent) => swarmEventPayload(ev) } as const;

/**
 * Stores a batch of swarm events of one cluster (replays are skipped by the unique key) and
 * publishes the newly stored ones on swarmEvents:<cluster>. Returns them.
 */
export async function ingestSwarmEvents(
  em: EntityManager,
  pubsub: FleetPubSub,
  cluster: EventOwner,
  batch: RawDockerEvent[],
  source: EventSource,
  fence?: string,
  followUp: (work: () => Promise<void>) => Promise<void> = (work) => work(),
): Promise<SwarmEvent[]> {
  const relevant = batch.filter((e) => e.scope === 'swarm' || SWARM_EVENT_TYPES.includes(e.Type) || e.Type === GAP_TYPE);
  const events = await storeEvents(em, SWARM_EVENTS, cluster, relevant, source, fence);
  if (events.length === 0) return [];
  // Stored: publish now, even if linking fails below, or a replay would skip them as already stored.
  await publishStored(pubsub, Topic.SWARM_EVENTS, cluster.id, events.map(swarmEventPayload));
  const ids = events.map((e) => e.id);
  await followUp(() => linkActivitiesToEvents(em, ids, SWARM_EVENT_LINK));
  return events;
}
