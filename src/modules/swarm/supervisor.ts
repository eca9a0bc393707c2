import type { EntityManager } from '@mikro-orm/postgresql';
import { EventSource, HostStatus, SwarmCluster } from '../../../entities';
import type { RawDockerEvent } from '../../infra/engine/event-stream';
import { clusterSubject, Engine } from '../../infra/engine/port';
import type { SyncDeps } from '../../platform/supervision/deps';
import type { EventOwner } from '../../platform/supervision/event-store';
import { EndpointClients, EndpointSupervisor, Outcome } from '../../platform/supervision/supervisor';
import { clusterConnection, isQuorumLoss } from './docker';
import { ingestSwarmEvents, resyncSwarmEvents } from './events';
import { clusterOutcome, commitClusterStatus } from './status';
import { ClusterSyncResult, syncCluster } from './sync';
import { ClusterWatch } from './watch';

/** After swarm events, the inventory is re-read this much later (one sync for a burst). */
const EVENT_SYNC_DELAY_MS = 300;
/** Event-driven syncs of one cluster start at most this often: a manager streaming events without pause gets one sync per gap, not one per burst. */
const EVENT_SYNC_MIN_GAP_MS = 2000;

/**
 * Supervises one Swarm cluster through its manager endpoint with the shared endpoint supervisor
 * (src/platform/supervision/supervisor.ts): one /events reader filtered to scope=swarm (service,
 * node, secret, config, network), a full sync at the cluster's interval, shortly after events and
 * on demand, and the status machine with quorum. After every (re)connect of the stream, the first
 * sync's findings are stored and published as RESYNC events.
 */
export class ClusterSupervisor extends EndpointSupervisor<SwarmCluster, ClusterSyncResult> {
  private eventTimer?: NodeJS.Timeout;
  private lastEventSyncAt = 0;
  /** Quorum as the last sync's node list showed it (recorded with its outcome). */
  private syncedQuorum?: boolean;
  /** The task watcher and health probe of this cluster (src/modules/swarm/watch.ts). */
  readonly watch: ClusterWatch;

  constructor(deps: SyncDeps, clusterId: string, accountId: string, fence?: string) {
    super(deps, { entity: SwarmCluster, noun: 'cluster', table: 'swarm_clusters', events: { table: 'swarm_events', subject: 'cluster_id' } }, clusterId, accountId, fence);
    this.watch = new ClusterWatch({
      clusterId,
      accountId,
      log: this.log,
      pubsub: deps.pubsub,
      em: () => this.em(),
      engine: async (em, cluster) => new Engine(await this.connect(em, cluster, {}), clusterSubject(cluster)),
      unreachable: () => this.poke(),
    });
  }

  get clusterId(): string {
    return this.id;
  }

  /** Started by the fleet: only then does the watch run (a one-shot supervisor of a sync elsewhere starts none). */
  private supervising = false;

  override start(takeLease?: () => Promise<boolean>): void {
    this.supervising = true;
    super.start(takeLease);
  }

  override async stop(): Promise<void> {
    if (this.eventTimer) clearTimeout(this.eventTimer);
    await this.watch.stop();
    await super.stop();
  }

  /** A service changed (a mutation of this replica): its tasks are read now and watched until they settle. */
  watchService(serviceId: string): void {
    this.watch.watch(serviceId);
  }

  /** A call to the manager failed somewhere (a mutation, a live read): leader, managers and quorum are checked now. */
  managerCallFailed(): void {
    this.watch.recheckHealth();
  }

  /** The manager, or another reachable manager of the cluster when it is down. */
  protected connect(em: EntityManager, cluster: SwarmCluster, opts: { reverify?: boolean }): Promise<EndpointClients> {
    return clusterConnection(this.deps.connections, em, cluster, opts);
  }

  protected async syncRow(em: EntityManager, cluster: SwarmCluster, clients: EndpointClients): Promise<ClusterSyncResult> {
    this.watch.dropEngine();
    const result = await syncCluster(em, cluster, new Engine(clients, clusterSubject(cluster)));
    cluster.lastSyncedAt = new Date();
    this.syncedQuorum = result.quorum;
    for (const id of result.watch) this.watch.watch(id);
    if (this.supervising) this.watch.start();
    return result;
  }

  protected async ingest(em: EntityManager, cluster: EventOwner, events: RawDockerEvent[], source: EventSource, fence?: string): Promise<void> {
    await ingestSwarmEvents(em, this.deps.pubsub, cluster, events, source, fence, (work) => this.followUp(work));
  }

  protected resyncEvents(result: ClusterSyncResult): RawDockerEvent[] {
    return resyncSwarmEvents(result.changes);
  }

  protected commitOutcome(em: EntityManager, cluster: SwarmCluster, outcome: Outcome): Promise<void> {
    const change = outcome.ok
      ? clusterOutcome(cluster, { ok: true, quorum: this.syncedQuorum })
      : clusterOutcome(cluster, { ok: false, error: outcome.error, quorumLost: isQuorumLoss(outcome.cause), refused: outcome.refused });
    return commitClusterStatus(em, this.deps.pubsub, change);
  }

  protected override streamFilters(): Record<string, string[]> {
    return { scope: ['swarm'] };
  }

  /** Without quorum the manager itself still answers and streams: keep the stream then. */
  protected override keepsStreamAfter(err: unknown): boolean {
    return isQuorumLoss(err);
  }

  /**
   * After events: a service's tasks are watched from its event on (Docker has no task events), a
   * node event re-checks leader, managers and quorum at once, and the inventory is re-read
   * shortly after (one sync for a burst).
   */
  protected override afterEvents(events: RawDockerEvent[]): void {
    for (const e of events) {
      const id = e.Actor?.ID;
      if (e.Type === 'service' && id) {
        if (e.Action === 'remove') this.watch.forget(id);
        else this.watch.watch(id);
      } else if (e.Type === 'node') this.watch.recheckHealth();
    }
    if (this.eventTimer || this.stopped) return;
    const delay = Math.max(EVENT_SYNC_DELAY_MS, this.lastEventSyncAt + EVENT_SYNC_MIN_GAP_MS - Date.now());
    this.eventTimer = setTimeout(() => {
      this.eventTimer = undefined;
      this.lastEventSyncAt = Date.now();
      this.syncUnlessMaintenance().catch(() => undefined);
    }, delay);
  }

  /**
   * The sync after events, unless the cluster went into maintenance meanwhile: a sync then would
   * store what changed without publishing it, and the resync after maintenance would find nothing.
   */
  private async syncUnlessMaintenance(): Promise<void> {
    const [row] = (await this.em().getConnection().execute('select status from swarm_clusters where id = ?', [this.id])) as Array<{ status: HostStatus }>;
    if (!row || row.status === HostStatus.MAINTENANCE) return;
    await this.syncNow();
  }
}
