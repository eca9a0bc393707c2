import type { EntityManager } from '@mikro-orm/postgresql';
import { HostStatus, SwarmCluster, SwarmNode, SwarmService } from '../../../entities';
import { hasDockerStatus, isQuorumLoss } from '../../infra/engine/errors';
import type { Engine } from '../../infra/engine/port';
import type { NodeInspect, ServiceInspect } from '../../infra/engine/types';
import type { FleetPubSub } from '../../infra/pubsub';
import { Topic } from '../../infra/pubsub/topics';
import type { Logger } from '../../kernel/logger';
import { failureText } from '../../platform/supervision/deps';
import { listedQuorum } from './health';
import { clusterOutcome, commitClusterStatus } from './status';
import { nodeValues, serviceValues, upsertNode, upsertService } from './sync';
import { MAX_TASKS_PER_CHANGE, MAX_TASKS_READ, ServiceTasksPayload, ServiceTaskState, serviceTaskState, storedFigures, taskChanges, TaskView } from './tasks';

/** Reads of a changing service's tasks: this often until they settle. */
export const TASK_POLL_MS = 500;
/** Then less and less often while they stay settled… */
export const TASK_BACKOFF_MS = [1000, 2000, 5000];
/** …and no more once they stayed settled this long (the next service event, mutation or sync arms the watch again). */
export const SETTLED_HOLD_MS = 15_000;
/** Services watched at once per cluster; more wait their turn (bounded too). */
export const MAX_WATCHED = 16;
const MAX_WAITING = 10_000;
/** Task lists remembered after a watch ended, so a new watch delivers only what changed since (bounded). */
const MAX_REMEMBERED = 256;
/** The health probe (GET /nodes): this often while the cluster looks healthy… */
export const HEALTH_PROBE_MS = 2000;
/** …and this often while a manager is unreachable, a node is not ready, or quorum is lost. */
export const HEALTH_AT_RISK_MS = 1000;
/** The probe of a manager that does not answer backs off up to this. */
const UNREACHABLE_PROBE_MAX_MS = 30_000;
/** How long stop() waits for the step under way. */
const STOP_WAIT_MS = 2000;
/** A cached engine port is used this long at most (the supervisor may have moved to another manager). */
const ENGINE_TTL_MS = 30_000;

/** What the watch needs of its cluster supervisor. */
export interface WatchHost {
  readonly clusterId: string;
  readonly accountId: string;
  readonly log: Logger;
  readonly pubsub: FleetPubSub;
  em(): EntityManager;
  /** The engine port of a manager that answers. */
  engine(em: EntityManager, cluster: SwarmCluster): Promise<Engine>;
  /** The manager stopped answering: the supervisor reconnects (and records it). */
  unreachable(): void;
}

interface Watched {
  nextAt: number;
  /** Index into TASK_BACKOFF_MS once settled. */
  step: number;
  settledSince?: number;
  figures?: string;
  /** Failed reads in a row (backoff while the manager does not answer). */
  failures?: number;
}

/**
 * The live side of a cluster (Docker has no task events): a task watcher and a health probe,
 * run one Docker call at a time per cluster.
 *
 * - A service is watched after each of its events, after a mutation, and when a sync finds its
 *   figures stale: its tasks are read every 500 ms until they settle (every task of the current
 *   spec in its desired state, or failed/rejected; no rollout moving), then after 1 s, 2 s, 5 s,
 *   and no more once settled for SETTLED_HOLD_MS. Each read that changes something is stored at
 *   once (running/desired of the current spec with the version they were counted at, update
 *   status, failing tasks with Docker's error) and published on serviceTasksChanged.
 * - The health probe lists the nodes every HEALTH_PROBE_MS (HEALTH_AT_RISK_MS while something is
 *   wrong), and at once after a node event or a failed manager call: leader, reachable managers
 *   and quorum are stored and a quorum change is published on swarmClusterStatusChanged. (When
 *   two of three managers stop within seconds, the remaining one emits no node event: without
 *   quorum it cannot commit one. Only a probe finds that.)
 */
export class ClusterWatch {
  private readonly watched = new Map<string, Watched>();
  private readonly waiting = new Set<string>();
  private readonly remembered = new Map<string, Map<string, TaskView>>();
  private healthDueAt = 0;
  private healthFailures = 0;
  private engineCache?: { engine: Engine; at: number };
  private timer?: NodeJS.Timeout;
  private busy?: Promise<void>;
  private started = false;
  private stopped = false;

  constructor(private readonly host: WatchHost) {}

  /** Starts the probe and the watches (idempotent; after the supervisor's first successful sync). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.schedule();
  }

  /** Stops; waits for the step under way, but not for a Docker call that hangs (a manager without quorum may take 20 s). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.busy, new Promise((r) => (timer = setTimeout(r, STOP_WAIT_MS)))]);
    clearTimeout(timer);
  }

  /** Reads the service's tasks now and keeps watching them until they settle. */
  watch(serviceId: string): void {
    if (this.stopped) return;
    const w = this.watched.get(serviceId);
    if (w) {
      Object.assign(w, { nextAt: Date.now(), step: 0, settledSince: undefined });
    } else if (this.watched.size < MAX_WATCHED) {
      this.watched.set(serviceId, { nextAt: Date.now(), step: 0 });
    } else if (this.waiting.size < MAX_WAITING) {
      this.waiting.add(serviceId);
    }
    this.schedule();
  }

  /** The service is gone. */
  forget(serviceId: string): void {
    this.watched.delete(serviceId);
    this.waiting.delete(serviceId);
    this.remembered.delete(serviceId);
    this.promote();
  }

  /** Lists the nodes now (after a node event or a failed manager call). */
  recheckHealth(): void {
    this.healthDueAt = 0;
    this.schedule();
  }

  /** The engine may have changed (the supervisor reconnected). */
  dropEngine(): void {
    this.engineCache = undefined;
  }

  // ------------------------------------------------------------------ the loop

  private schedule(): void {
    if (!this.started || this.stopped || this.busy) return;
    if (this.timer) clearTimeout(this.timer);
    let due = this.healthDueAt;
    for (const w of this.watched.values()) due = Math.min(due, w.nextAt);
    this.timer = setTimeout(() => this.runNext(), Math.max(0, due - Date.now()));
    this.timer.unref?.();
  }

  /** One job (the earliest due), then the next is scheduled: never two Docker calls of this cluster in flight. */
  private runNext(): void {
    if (this.stopped || this.busy) return;
    this.busy = this.next()
      .catch((err) => this.host.log.warn({ err }, 'cluster watch step failed'))
      .finally(() => {
        this.busy = undefined;
        this.schedule();
      });
  }

  private async next(): Promise<void> {
    let service: [string, Watched] | undefined;
    for (const entry of this.watched) if (!service || entry[1].nextAt < service[1].nextAt) service = entry;
    const now = Date.now();
    // a step that throws (the store refused what the engine answered) comes again after a pause, not at once:
    // every normal outcome sets its own next time
    const retryAt = now + TASK_BACKOFF_MS[TASK_BACKOFF_MS.length - 1];
    if (this.healthDueAt <= now && (!service || this.healthDueAt <= service[1].nextAt)) {
      this.healthDueAt = retryAt;
      return this.probeHealth();
    }
    if (service && service[1].nextAt <= now) {
      service[1].nextAt = retryAt;
      return this.pollService(service[0], service[1]);
    }
  }

  private promote(): void {
    for (const id of this.waiting) {
      if (this.watched.size >= MAX_WATCHED) return;
      this.waiting.delete(id);
      this.watched.set(id, { nextAt: Date.now(), step: 0 });
    }
  }

  /** The cluster row (null when removed or in maintenance: nothing is read then) and its engine port. */
  private async connect(em: EntityManager): Promise<{ cluster: SwarmCluster; engine: Engine } | null> {
    const cluster = await em.findOne(SwarmCluster, this.host.clusterId);
    if (!cluster || cluster.status === HostStatus.MAINTENANCE) return null;
    const cached = this.engineCache;
    if (cached && Date.now() - cached.at < ENGINE_TTL_MS) return { cluster, engine: cached.engine };
    const engine = await this.host.engine(em, cluster);
    this.engineCache = { engine, at: Date.now() };
    return { cluster, engine };
  }

  // ------------------------------------------------------------------ tasks

  private async pollService(serviceId: string, w: Watched): Promise<void> {
    const em = this.host.em();
    let read: { cluster: SwarmCluster; service: ServiceInspect; state: ServiceTaskState } | null;
    try {
      const conn = await this.connect(em);
      if (!conn) {
        w.nextAt = Date.now() + TASK_BACKOFF_MS[TASK_BACKOFF_MS.length - 1];
        return;
      }
      const service = await conn.engine.inspectService(serviceId);
      // an engine answering more tasks than a service can have is read up to the cap (its own figures go wrong, nothing else)
      const tasks = (await conn.engine.listTasks({ service: [serviceId] })).slice(0, MAX_TASKS_READ);
      read = { cluster: conn.cluster, service, state: serviceTaskState(service, tasks) };
    } catch (err) {
      if (hasDockerStatus(err, 404)) return this.forget(serviceId);
      this.managerCallFailed(err);
      w.failures = (w.failures ?? 0) + 1;
      w.nextAt = Date.now() + Math.min(TASK_BACKOFF_MS[0] * 2 ** (w.failures - 1), UNREACHABLE_PROBE_MAX_MS);
      return;
    }
    w.failures = 0;
    const { cluster, service, state } = read;
    const before = this.remembered.get(serviceId);
    const changes = taskChanges(before, state.tasks);
    const figures = JSON.stringify([state.version, state.running, state.desired, state.updateState, state.updateMessage, state.failing.map((t) => t.taskId)]);
    if (changes.length > 0 || figures !== w.figures) {
      const rowId = await this.store(em, cluster, service, state);
      if (!rowId) {
        // a newer version is stored: read again soon, at that version
        w.nextAt = Date.now() + TASK_POLL_MS;
        return;
      }
      w.figures = figures;
      this.remember(serviceId, state.tasks);
      await this.host.pubsub.emit(Topic.SWARM_SERVICE_TASKS, this.payload(rowId, serviceId, state, changes), rowId);
    }
    this.reschedule(serviceId, w, state.settled);
  }

  /** 500 ms while the tasks move; 1 s, 2 s, 5 s once settled; dropped after SETTLED_HOLD_MS settled. */
  private reschedule(serviceId: string, w: Watched, settled: boolean): void {
    const now = Date.now();
    if (!settled) {
      Object.assign(w, { nextAt: now + TASK_POLL_MS, step: 0, settledSince: undefined });
      return;
    }
    w.settledSince ??= now;
    if (now - w.settledSince >= SETTLED_HOLD_MS) {
      this.watched.delete(serviceId);
      this.promote();
      return;
    }
    w.nextAt = now + TASK_BACKOFF_MS[Math.min(w.step, TASK_BACKOFF_MS.length - 1)];
    w.step++;
  }

  private remember(serviceId: string, tasks: Map<string, TaskView>): void {
    this.remembered.delete(serviceId);
    this.remembered.set(serviceId, tasks);
    if (this.remembered.size > MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
  }

  /**
   * Stores the service as read with its task figures, unless a newer version is stored already
   * (a mutation or sync wrote it meanwhile: the next read counts at that version). Returns the
   * row's id, or null when nothing was written.
   */
  private async store(em: EntityManager, cluster: SwarmCluster, service: ServiceInspect, state: ServiceTaskState): Promise<string | null> {
    const values = { ...serviceValues(service), ...storedFigures(state), tasksCheckedAt: new Date(), updatedAt: new Date() };
    const where = { cluster: cluster.id, serviceId: service.ID };
    let updated = await em.nativeUpdate(SwarmService, { ...where, version: { $lte: state.version } }, values as never);
    if (updated === 0 && !(await em.findOne(SwarmService, where, { fields: ['id'] }))) {
      // seen before the sync stored it (its create event came first)
      await upsertService(em, cluster, service);
      updated = await em.nativeUpdate(SwarmService, { ...where, version: { $lte: state.version } }, values as never);
    }
    if (updated === 0) return null;
    const row = await em.findOne(SwarmService, where, { fields: ['id'] });
    return row?.id ?? null;
  }

  private payload(rowId: string, serviceId: string, s: ServiceTaskState, tasks: TaskView[]): ServiceTasksPayload {
    return {
      serviceId: rowId,
      dockerServiceId: serviceId,
      clusterId: this.host.clusterId,
      accountId: this.host.accountId,
      version: s.version,
      runningTasks: s.running,
      desiredTasks: s.desired,
      converged: s.converged,
      updateState: s.updateState,
      updateMessage: s.updateMessage,
      tasks: tasks.slice(0, MAX_TASKS_PER_CHANGE),
      tasksOmitted: Math.max(0, tasks.length - MAX_TASKS_PER_CHANGE),
      observedAt: new Date(),
    };
  }

  // ------------------------------------------------------------------ health

  /** A manager call failed: the engine may be gone, and quorum may be lost; the health probe runs next. */
  private managerCallFailed(err: unknown): void {
    this.dropEngine();
    this.host.log.debug({ err: failureText(err) }, 'cluster watch: manager call failed');
    this.recheckHealth();
  }

  private async probeHealth(): Promise<void> {
    this.healthDueAt = Date.now() + HEALTH_AT_RISK_MS;
    const em = this.host.em();
    let nodes: NodeInspect[];
    let cluster: SwarmCluster;
    try {
      const conn = await this.connect(em);
      if (!conn) {
        this.healthDueAt = Date.now() + HEALTH_PROBE_MS;
        return;
      }
      cluster = conn.cluster;
      nodes = await conn.engine.listNodes();
    } catch (err) {
      this.dropEngine();
      await this.healthFailed(err);
      return;
    }
    this.healthFailures = 0;
    await this.storeNodes(em, cluster, nodes);
    const quorum = listedQuorum(nodes);
    // the status machine stays the supervisor's; a change of quorum is recorded (and published) here
    if (cluster.quorum !== quorum) await commitClusterStatus(em, this.host.pubsub, clusterOutcome(cluster, { ok: true, quorum }));
    const atRisk = !quorum || nodes.some((n) => n.Status?.State !== 'ready' || (n.ManagerStatus && n.ManagerStatus.Reachability !== 'reachable'));
    this.healthDueAt = Date.now() + (atRisk ? HEALTH_AT_RISK_MS : HEALTH_PROBE_MS);
  }

  /** "No leader": recorded at once (published); no answer at all: the supervisor reconnects. */
  private async healthFailed(err: unknown): Promise<void> {
    const first = this.healthFailures === 0;
    this.healthFailures++;
    if (!isQuorumLoss(err)) {
      // no answer: the supervisor reconnects (with its own backoff); the probe backs off too
      this.healthDueAt = Date.now() + Math.min(HEALTH_AT_RISK_MS * 2 ** (this.healthFailures - 1), UNREACHABLE_PROBE_MAX_MS);
      if (first) this.host.unreachable();
      return;
    }
    try {
      const em = this.host.em();
      const cluster = await em.findOne(SwarmCluster, this.host.clusterId);
      if (cluster && cluster.quorum !== false) await commitClusterStatus(em, this.host.pubsub, clusterOutcome(cluster, { ok: false, error: failureText(err), quorumLost: true }));
    } catch (e) {
      this.host.log.warn({ err: e }, 'could not record quorum loss');
    }
  }

  /** Node rows whose state, availability, role, leadership, reachability or version differ from the list are written (new ones too). */
  private async storeNodes(em: EntityManager, cluster: SwarmCluster, nodes: NodeInspect[]): Promise<void> {
    const stored = new Map((await em.find(SwarmNode, { cluster: cluster.id })).map((n) => [n.nodeId, n]));
    for (const n of nodes) {
      const v = nodeValues(n);
      const row = stored.get(n.ID);
      const same =
        row &&
        row.state === v.state &&
        row.availability === v.availability &&
        row.role === v.role &&
        row.leader === v.leader &&
        row.managerReachability === v.managerReachability &&
        row.version === v.version;
      if (!same) await upsertNode(em, cluster, n);
    }
  }
}
