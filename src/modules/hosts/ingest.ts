import type { Engine } from '../../infra/engine/port';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DockerEvent, EventSource } from '../../../entities';
import { executePrepared } from '../../infra/db/prepared';
import type { FleetPubSub } from '../../infra/pubsub';
import { Topic } from '../../infra/pubsub/topics';
import { toPayload } from '../../infra/pubsub/payload';
import { linkActivitiesToEvents } from '../../platform/audit/activity';
import type { RawDockerEvent } from '../../infra/engine/event-stream';
import { EventLog, EventOwner, publishStored, severityOf, storeEvents, syntheticTimeNano } from '../../platform/supervision/event-store';
import { ContainerChange, rowFromInspect, upsertContainers } from './inventory';

/** Container actions after which the stored row is refreshed from an inspect. */
const REFRESH_ACTIONS = /^(create|start|restart|die|stop|kill|pause|unpause|rename|update|oom|health_status.*)$/;

/** Resync findings as events, so subscribers see what happened while the stream was down. */
export function resyncEvents(changes: ContainerChange[]): RawDockerEvent[] {
  return changes.map((c) => {
    const action =
      c.kind === 'created'
        ? 'create'
        : c.kind === 'removed'
          ? 'destroy'
          : c.after === 'running'
            ? 'start'
            : c.after === 'exited' || c.after === 'dead'
              ? 'die'
              : c.after === 'paused'
                ? 'pause'
                : 'update';
    const timeNano = syntheticTimeNano();
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

/** Host events: container create/destroy are stored once (see EventLog.once). */
const HOST_EVENTS: EventLog<DockerEvent> = {
  table: 'docker_events',
  ownerTable: 'docker_hosts',
  ownerColumn: 'host_id',
  ownerField: 'host',
  entity: DockerEvent,
  keepsScope: true,
  severity: severityOf,
  once: { types: ['container'], actions: ['create', 'destroy'] },
  // a resync reports changes since the last sync
  resyncLookbackMs: 60 * 60 * 1000,
};

/** Replays stored events of a host for resumable subscriptions. */
export const HOST_EVENT_LOG = { entity: DockerEvent, ownerField: 'host', payload: (ev: DockerEvent) => eventPayload(ev) } as const;

/**
 * Stores a batch of events of one host (idempotently: replays are skipped by the unique key)
 * and publishes the newly stored ones at once; then links them to the activities that caused
 * them (through `followUp`: the supervisor runs it off the event path). Publishing does not wait for Docker: the container rows the events concern are
 * refreshed afterwards by the caller (see containerRefreshes and refreshContainers), so a
 * slow inspect never delays delivery. Returns the stored events.
 */
export async function ingestEvents(
  em: EntityManager,
  pubsub: FleetPubSub,
  host: EventOwner,
  incoming: RawDockerEvent[],
  source: EventSource,
  fence?: string,
  followUp: (work: () => Promise<void>) => Promise<void> = (work) => work(),
): Promise<DockerEvent[]> {
  const events = await storeEvents(em, HOST_EVENTS, host, incoming, source, fence);
  if (events.length === 0) return [];
  // Stored: publish now, even if linking fails below, or a replay would skip them as already stored.
  await publishStored(pubsub, Topic.DOCKER_EVENTS, host.id, events.map(eventPayload));
  const ids = events.map((e) => e.id);
  await followUp(() => linkActivitiesToEvents(em, ids));
  return events;
}

/** A container id as Docker makes them (events naming anything else refresh nothing). */
const CONTAINER_ID = /^[0-9a-f]{64}$/;

/** Containers waiting for a refresh, at most: past it the list is dropped and one full sync asked instead. */
export const MAX_PENDING_REFRESH = 5000;

/** The containers a batch of events changed, with the last action seen for each. */
export function containerRefreshes(batch: RawDockerEvent[], into = new Map<string, string>()): Map<string, string> {
  for (const e of batch) {
    if (e.Type !== 'container' || !e.Actor?.ID || !CONTAINER_ID.test(e.Actor.ID)) continue;
    if (e.Action === 'destroy' || REFRESH_ACTIONS.test(e.Action)) into.set(e.Actor.ID, e.Action);
  }
  return into;
}

export function eventPayload(ev: DockerEvent): Record<string, unknown> {
  return toPayload(ev, ['account', 'host', 'activity']);
}

/**
 * Brings container rows up to date after container events: inspect, or delete on destroy. Runs
 * for nearly every event, so it reads no row and goes around the ORM: one upsert and at most one
 * delete, both prepared.
 */
export async function refreshContainers(em: EntityManager, host: EventOwner, engine: Engine, latest: Map<string, string>): Promise<void> {
  const destroyed: string[] = [];
  const refreshed = [];
  for (const [id, action] of latest) {
    if (action === 'destroy') {
      destroyed.push(id);
      continue;
    }
    const inspect = await engine.findContainer(id);
    if (inspect) refreshed.push(rowFromInspect(inspect));
    else destroyed.push(id);
  }
  await upsertContainers(em, host, refreshed);
  if (destroyed.length > 0) await executePrepared(em, `delete from docker_containers where host_id = ?::uuid and container_id = any(?::text[])`, [host.id, destroyed]);
}
