import type { EntityManager } from '@mikro-orm/postgresql';
import { DockerHost, EventSource } from '../../../entities';
import type { RawDockerEvent } from '../../infra/engine/event-stream';
import { Engine, hostSubject } from '../../infra/engine/port';
import type { SyncDeps } from '../../platform/supervision/deps';
import type { EventOwner } from '../../platform/supervision/event-store';
import { commitStatus, recordFailure, recordSuccess } from '../../platform/supervision/status';
import { EndpointClients, EndpointSupervisor, Outcome } from '../../platform/supervision/supervisor';
import { containerRefreshes, ingestEvents, MAX_PENDING_REFRESH, refreshContainers, resyncEvents } from './ingest';
import { syncInventory, SyncResult } from './inventory';

/**
 * Supervises one host with the shared endpoint supervisor (src/platform/supervision/supervisor.ts):
 * its hooks store container events, re-inspect the containers they touched in a second lane that
 * shares a lock with syncs (so a sync's older list never overwrites a newer inspect), and drive
 * the host's status machine. The first sync after a reopened stream publishes what it found as
 * resync events, unless Docker's replay covered the outage.
 */
export class HostSupervisor extends EndpointSupervisor<DockerHost, SyncResult> {
  /** Containers to re-inspect (id → last action), filled by events. */
  private readonly pendingRefresh = new Map<string, string>();
  private refreshing?: Promise<void>;
  private inventoryLock: Promise<void> = Promise.resolve();

  constructor(deps: SyncDeps, hostId: string, accountId: string, fence?: string) {
    super(deps, { entity: DockerHost, noun: 'host', table: 'docker_hosts', events: { table: 'docker_events', subject: 'host_id' } }, hostId, accountId, fence);
  }

  get hostId(): string {
    return this.id;
  }

  override async stop(): Promise<void> {
    await super.stop();
    // the containers the last events touched are refreshed before stopping
    await this.refreshing?.catch(() => undefined);
  }

  protected connect(em: EntityManager, host: DockerHost, opts: { reverify?: boolean }): Promise<EndpointClients> {
    return this.deps.connections.for(em, host, opts);
  }

  protected syncRow(em: EntityManager, host: DockerHost, clients: EndpointClients): Promise<SyncResult> {
    return syncInventory(em, host, new Engine(clients, hostSubject(host)));
  }

  protected async ingest(em: EntityManager, host: EventOwner, events: RawDockerEvent[], source: EventSource, fence?: string): Promise<void> {
    if (source === EventSource.STREAM) {
      containerRefreshes(events, this.pendingRefresh);
      // an engine that sends container events faster than it answers inspects: one sync instead of a list without end
      if (this.pendingRefresh.size > MAX_PENDING_REFRESH) {
        this.pendingRefresh.clear();
        this.syncNow().catch((err) => this.log.warn({ err }, 'sync after too many container refreshes failed'));
      }
    }
    await ingestEvents(em, this.deps.pubsub, host, events, source, fence, (work) => this.followUp(work));
  }

  protected resyncEvents(result: SyncResult): RawDockerEvent[] {
    return resyncEvents(result.changes);
  }

  protected commitOutcome(em: EntityManager, host: DockerHost, outcome: Outcome): Promise<void> {
    return commitStatus(em, this.deps.pubsub, outcome.ok ? recordSuccess(host) : recordFailure(host, outcome.error, new Date(), outcome.refused));
  }

  protected override afterEvents(): void {
    this.kickRefresh();
  }

  protected override withSyncLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.inventoryLock.then(fn);
    this.inventoryLock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * The inventory lane: container rows touched by events are re-inspected here, off the event
   * path, so delivery never waits for Docker.
   */
  private kickRefresh(): void {
    if (this.refreshing || this.pendingRefresh.size === 0) return;
    this.refreshing = (async () => {
      while (this.pendingRefresh.size > 0) {
        const batch = new Map(this.pendingRefresh);
        this.pendingRefresh.clear();
        await this.withSyncLock(async () => {
          // through the clients of the stream the events came from; there always is one, as only
          // stream events queue refreshes (and a reopened stream's sync redoes the inventory anyway)
          const reading = this.reading;
          if (reading) await refreshContainers(this.em(), { id: this.id, account: { id: this.accountId } }, new Engine(reading.clients, hostSubject(reading)), batch);
        }).catch((err) => this.log.warn({ err, containers: batch.size }, 'container refresh failed; the next sync repairs the inventory'));
      }
    })().finally(() => {
      this.refreshing = undefined;
      this.kickRefresh();
    });
  }
}
