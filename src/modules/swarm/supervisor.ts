import type { EntityManager } from '@mikro-orm/postgresql';
import { EventSource, HostStatus, SwarmCluster } from '../../../entities';
import { forkForAccount } from '../../infra/db/orm';
import { EventStream, RawDockerEvent, sinceFromTimeNano } from '../../infra/engine/event-stream';
import { failureText, isRefusal, MAX_QUEUED_EVENTS, SyncDeps } from '../../platform/supervision/deps';
import { AppError, ErrorCode } from '../../kernel/errors';
import { clusterConnection, isQuorumLoss } from './docker';
import { ingestSwarmEvents, resyncSwarmEvents } from './events';
import { clusterOutcome, commitClusterStatus } from './status';
import { ClusterSyncResult, syncCluster } from './sync';
import { Ticker } from '../../kernel/ticker';

/** Swarm events stored per insert. */
const STORE_BATCH = 500;

/** After swarm events, the inventory is re-read this much later (one sync for a burst). */
const EVENT_SYNC_DELAY_MS = 300;

/**
 * Supervises one Swarm cluster through its manager endpoint: one /events reader filtered to
 * scope=swarm (service, node, secret, config, network), a full sync at the cluster's interval,
 * after events and on demand, and the status machine with quorum. Event batches and syncs run
 * one at a time, in order. After every (re)connect of the stream, the first sync's findings are
 * stored and published as RESYNC events (what happened while nobody was listening).
 */
export class ClusterSupervisor {
  private stopped = false;
  private readonly ticker = new Ticker(
    () => this.tick(),
    (err) => this.log.error({ err }, 'cluster tick failed'),
  );
  private eventTimer?: NodeJS.Timeout;
  private stream?: EventStream;
  private streamRevision?: number;
  private lastTimeNano?: string;
  private chain: Promise<unknown> = Promise.resolve();
  /** Set when the stream was (re)opened: the next successful sync publishes what it finds. */
  private resyncPending = false;

  constructor(
    private readonly deps: SyncDeps,
    readonly clusterId: string,
    readonly accountId: string,
  ) {}

  private get log() {
    return this.deps.logger.child({ clusterId: this.clusterId });
  }

  private em(): EntityManager {
    return forkForAccount(this.deps.orm, this.accountId);
  }

  start(): void {
    this.schedule(0);
  }

  poke(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const ticks = this.ticker.stop();
    if (this.eventTimer) clearTimeout(this.eventTimer);
    this.closeStream();
    await ticks;
    await this.chain.catch(() => undefined);
  }

  /** A full sync now, in order with queued events; records the outcome (status, quorum). */
  syncNow(): Promise<ClusterSyncResult> {
    const run = this.chain.then(() => this.runSync());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private schedule(ms: number): void {
    this.ticker.schedule(ms);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const cluster = await this.em().findOne(SwarmCluster, this.clusterId);
    if (!cluster) return void this.stop();
    if (cluster.status === HostStatus.MAINTENANCE) {
      this.closeStream();
      return this.schedule(cluster.syncIntervalSeconds * 1000);
    }
    try {
      if (this.stream && this.streamRevision !== cluster.connectionRevision) this.closeStream();
      if (!this.stream) await this.openStream(cluster);
      await this.syncNow();
      this.schedule(cluster.syncIntervalSeconds * 1000);
    } catch (err) {
      if (!(err as { recorded?: boolean }).recorded) await this.recordFailure(err);
      // without quorum the manager itself still answers and streams: keep the stream then
      if (!isQuorumLoss(err)) this.closeStream();
      const fresh = await this.em().findOne(SwarmCluster, this.clusterId);
      const failures = fresh?.consecutiveFailures ?? 1;
      this.schedule(Math.min(this.deps.retryBaseMs * 2 ** Math.max(failures - 1, 0), cluster.syncIntervalSeconds * 1000));
    }
  }

  /** A mutation may have put the cluster in maintenance while this sync ran: keep that (as the host supervisor does). */
  private async keepMaintenance(em: EntityManager, cluster: SwarmCluster): Promise<void> {
    const [row] = (await em.getConnection().execute('select status from swarm_clusters where id = ?', [cluster.id])) as Array<{ status: HostStatus }>;
    if (row?.status === HostStatus.MAINTENANCE) cluster.status = HostStatus.MAINTENANCE;
  }

  private async recordFailure(err: unknown, text = failureText(err)): Promise<void> {
    const em = this.em();
    const cluster = await em.findOne(SwarmCluster, this.clusterId);
    if (!cluster || cluster.status === HostStatus.MAINTENANCE) return;
    this.log.warn({ error: text }, 'cluster check failed');
    await commitClusterStatus(em, this.deps.pubsub, clusterOutcome(cluster, { ok: false, error: text, quorumLost: isQuorumLoss(err), refused: isRefusal(err) }));
  }

  private async resumeSince(em: EntityManager, cluster: SwarmCluster): Promise<string | undefined> {
    if (this.lastTimeNano) return sinceFromTimeNano(this.lastTimeNano);
    const [last] = (await em
      .getConnection()
      .execute(`select time_nano::text as time_nano from swarm_events where cluster_id = ? and source = ? order by time desc, time_nano desc limit 1`, [cluster.id, EventSource.STREAM])) as Array<{
      time_nano: string;
    }>;
    if (last?.time_nano) return sinceFromTimeNano(last.time_nano);
    return cluster.lastEventAt ? (cluster.lastEventAt.getTime() / 1000).toFixed(3) : undefined;
  }

  /** Every (re)connect first checks again what the manager is and that it is this account's: nothing is read before. */
  private async openStream(cluster: SwarmCluster): Promise<void> {
    const em = this.em();
    const { stream: client } = await clusterConnection(this.deps.connections, em, cluster, { reverify: true });
    const since = await this.resumeSince(em, cluster);
    const reader = new EventStream(client, {
      onEvent: (event) => {
        if (this.pending.length >= MAX_QUEUED_EVENTS) {
          // storing can't keep up: stop reading rather than queue without bound; the reconnect
          // resumes with `since` from the last queued event (as the host reader does)
          if (this.stream === reader) {
            this.stream = undefined;
            reader.stop();
            this.log.warn({ queued: this.pending.length }, 'swarm event stream paused: too many events waiting to be stored');
            const paused = new AppError(ErrorCode.DOCKER_ERROR, 'event stream paused', { reason: `more than ${MAX_QUEUED_EVENTS} events waiting to be stored` });
            void this.recordFailure(paused, `event stream lost: ${failureText(paused)}`).finally(() => this.schedule(this.deps.retryBaseMs));
          }
          return;
        }
        this.lastTimeNano = event.timeNano;
        this.enqueueEvents([event]);
      },
      onEnd: (error) => {
        if (this.stream !== reader) return;
        this.stream = undefined;
        if (this.stopped) return;
        this.log.warn({ error: error?.message }, 'swarm event stream ended; reconnecting');
        void this.recordFailure(error, `event stream lost: ${error ? failureText(error) : 'closed'}`).finally(() => this.schedule(this.deps.retryBaseMs));
      },
      onSkipped: (skipped) => this.log.warn(skipped, 'event stream: lines that are not events dropped'),
    });
    this.stream = reader;
    this.streamRevision = cluster.connectionRevision;
    this.resyncPending = Boolean(cluster.lastSyncedAt);
    try {
      await reader.start(since, { scope: ['swarm'] });
    } catch (err) {
      if (this.stream === reader) this.stream = undefined;
      throw err;
    }
  }

  private closeStream(): void {
    const s = this.stream;
    this.stream = undefined;
    s?.stop();
  }

  private pending: RawDockerEvent[] = [];

  /** Never awaits: the reader must keep reading. Batches go through the chain. */
  private enqueueEvents(events: RawDockerEvent[]): void {
    const first = this.pending.length === 0;
    this.pending.push(...events);
    if (!first) return;
    this.chain = this.chain.then(async () => {
      // in batches of a bounded size: one insert never carries the whole backlog
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, STORE_BATCH);
        try {
          const em = this.em();
          const cluster = await em.findOneOrFail(SwarmCluster, this.clusterId);
          await ingestSwarmEvents(em, this.deps.pubsub, cluster, batch, EventSource.STREAM);
        } catch (err) {
          this.log.error({ err, events: batch.length }, 'storing swarm events failed');
        }
      }
      this.syncSoon();
    });
  }

  /** Re-reads the inventory shortly after events (services, nodes, secrets changed). */
  private syncSoon(): void {
    if (this.eventTimer || this.stopped) return;
    this.eventTimer = setTimeout(() => {
      this.eventTimer = undefined;
      this.syncNow().catch(() => undefined);
    }, EVENT_SYNC_DELAY_MS);
  }

  private async runSync(): Promise<ClusterSyncResult> {
    const em = this.em();
    const cluster = await em.findOneOrFail(SwarmCluster, this.clusterId);
    try {
      const { api } = await clusterConnection(this.deps.connections, em, cluster);
      const result = await syncCluster(em, cluster, api);
      cluster.lastSyncedAt = new Date();
      if (this.lastTimeNano) cluster.lastEventAt = new Date(Number(BigInt(this.lastTimeNano) / 1_000_000n));
      await this.keepMaintenance(em, cluster);
      // published like any other change (in maintenance there is none: clusterOutcome leaves it alone)
      await commitClusterStatus(em, this.deps.pubsub, clusterOutcome(cluster, { ok: true }));
      if (this.resyncPending) {
        this.resyncPending = false;
        if (result.changes.length > 0) await ingestSwarmEvents(em, this.deps.pubsub, cluster, resyncSwarmEvents(result.changes), EventSource.RESYNC);
      }
      return result;
    } catch (err) {
      em.clear();
      await this.recordFailure(err);
      throw Object.assign(err as object, { recorded: true });
    }
  }
}
