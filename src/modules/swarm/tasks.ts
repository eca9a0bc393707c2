import type { ServiceInspect, TaskInspect } from '../../infra/engine/types';

/**
 * What a service's tasks say, computed the way Docker counts them, but for the CURRENT spec only.
 *
 * Docker's own count (swarmkit's ListServiceStatuses, shown by `docker service ls` on API ≥ 1.41)
 * counts every task in state running, of any spec version, and takes `Replicas` as desired (for a
 * global service: the tasks whose desired state is running). During a rolling update that counts
 * the old spec's tasks as if they were the new one's. The Engine API gives a task no spec version,
 * but swarmkit copies the service's task template into every task it makes (orchestrator.NewTask)
 * and treats a task whose template differs as dirty (IsTaskDirty): a task is of the current spec
 * when its Spec equals the service's TaskTemplate (the daemon adds `Runtime` to the service's copy
 * only, so that key is left out of the comparison).
 */

/** One task as the API shows it (SwarmTask, serviceTasksChanged). */
export interface TaskView {
  taskId: string;
  slot: number | null;
  nodeId: string | null;
  state: string;
  desiredState: string;
  message: string | null;
  error: string | null;
  exitCode: number | null;
  /** Whether the task was made from the service's current spec. */
  currentSpec: boolean;
  createdAt: Date | null;
  updatedAt: Date | null;
}

/** The service's figures from one read of its tasks. */
export interface ServiceTaskState {
  version: number;
  running: number;
  desired: number;
  updateState: string | null;
  updateMessage: string | null;
  /** Current-spec tasks that failed or were rejected in a slot (node, for global services) where none of the current spec runs: Docker's error is theirs. */
  failing: TaskView[];
  /** Every task by id. */
  tasks: Map<string, TaskView>;
  /** Nothing is expected to move: see `settledState`. */
  settled: boolean;
  converged: boolean;
}

/** Task states after which a task never changes again. */
const TERMINAL = new Set(['complete', 'shutdown', 'failed', 'rejected', 'orphaned', 'remove']);
const FAILED = new Set(['failed', 'rejected']);
/** Update states of a rollout that is still moving (paused ones wait for a person: settled, not converged). */
const ROLLING = new Set(['updating', 'rollback_started']);
/** Update states after which the service is not what was asked. */
const STUCK = new Set(['paused', 'rollback_paused']);
/** Most failing tasks kept per service. */
export const FAILING_MAX = 20;

/** JSON with object keys sorted and `Runtime` left out (see above): equal templates give equal strings. */
function canonical(value: unknown): string {
  return JSON.stringify(value ?? {}, (key, v: unknown) => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .filter((k) => !(k === 'Runtime' && typeof o[k] === 'string'))
        .sort()
        .map((k) => [k, o[k]]),
    );
  });
}

const date = (v: unknown): Date | null => (typeof v === 'string' && !v.startsWith('0001-') ? new Date(v) : null);

export function taskView(t: TaskInspect, template: string): TaskView {
  return {
    taskId: t.ID,
    slot: t.Slot ?? null,
    nodeId: t.NodeID || null,
    state: String(t.Status?.State ?? 'unknown'),
    desiredState: String(t.DesiredState ?? 'unknown'),
    message: t.Status?.Message ? String(t.Status.Message).slice(0, 500) : null,
    error: t.Status?.Err ? String(t.Status.Err).slice(0, 2000) : null,
    exitCode: t.Status?.ContainerStatus?.ExitCode ?? null,
    // no Spec (an engine that leaves it out): counted as current, as Docker would
    currentSpec: t.Spec === undefined || canonical(t.Spec) === template,
    createdAt: date(t.CreatedAt),
    updatedAt: date(t.UpdatedAt),
  };
}

/** Whether a task asked to run (desired running, or ready: a new task of an update waiting for its turn). */
const wanted = (t: TaskView) => t.desiredState === 'running' || t.desiredState === 'ready';

/**
 * Running/desired of the current spec, the update status, the failing tasks, and whether the
 * service has settled: every task of the current spec in its desired state (or failed/rejected),
 * no older task still being stopped, no rollout moving, and the running count at the desired one
 * unless tasks fail.
 */
export function serviceTaskState(service: ServiceInspect, tasks: TaskInspect[]): ServiceTaskState {
  const template = canonical(service.Spec?.TaskTemplate);
  const views = tasks.map((t) => taskView(t, template));
  const current = views.filter((t) => t.currentSpec);
  const running = current.filter((t) => t.state === 'running' && t.desiredState === 'running');
  const replicated = service.Spec?.Mode?.Replicated;
  // global: the nodes the orchestrator gave a task to run (one per eligible node), as Docker counts them
  const desired = replicated ? (replicated.Replicas ?? 1) : new Set(views.filter(wanted).map((t) => t.nodeId ?? t.taskId)).size;
  const placeOf = (t: TaskView) => (replicated ? `slot:${t.slot}` : `node:${t.nodeId}`);
  const runningPlaces = new Set(running.map(placeOf));
  const failing: TaskView[] = [];
  const seenPlaces = new Set<string>();
  for (const t of [...current].sort((a, b) => (b.updatedAt?.getTime() ?? 0) - (a.updatedAt?.getTime() ?? 0))) {
    if (!FAILED.has(t.state) || runningPlaces.has(placeOf(t)) || seenPlaces.has(placeOf(t))) continue;
    seenPlaces.add(placeOf(t));
    if (failing.length < FAILING_MAX) failing.push(t);
  }
  const updateState = typeof service.UpdateStatus?.State === 'string' ? service.UpdateStatus.State : null;
  const updateMessage = typeof service.UpdateStatus?.Message === 'string' ? service.UpdateStatus.Message : null;
  const inPlace = (t: TaskView) => (wanted(t) ? t.state === 'running' : TERMINAL.has(t.state)) || FAILED.has(t.state);
  const rolling = updateState !== null && ROLLING.has(updateState);
  const settled = !rolling && views.every(inPlace) && (running.length === desired || failing.length > 0);
  const converged = settled && running.length === desired && failing.length === 0 && !(updateState !== null && STUCK.has(updateState));
  return {
    version: service.Version?.Index ?? 0,
    running: running.length,
    desired,
    updateState,
    updateMessage,
    failing,
    tasks: new Map(views.map((t) => [t.taskId, t])),
    settled,
    converged,
  };
}

/** The tasks that appeared, changed (state, desired state, error, node) or went away between two reads. */
export function taskChanges(before: Map<string, TaskView> | undefined, after: Map<string, TaskView>): TaskView[] {
  const changed: TaskView[] = [];
  for (const t of after.values()) {
    const b = before?.get(t.taskId);
    if (!b || b.state !== t.state || b.desiredState !== t.desiredState || b.error !== t.error || b.nodeId !== t.nodeId || b.currentSpec !== t.currentSpec) changed.push(t);
  }
  for (const b of before?.values() ?? []) if (!after.has(b.taskId)) changed.push({ ...b, state: 'remove', desiredState: 'remove' });
  return changed;
}

/** A service's stored figures (what health and the API read), written by the task watcher. */
export interface StoredTaskFigures {
  runningTasks: number;
  desiredTasks: number;
  tasksVersion: number;
  failingTasks: Array<Record<string, unknown>>;
}

export function storedFigures(s: ServiceTaskState): StoredTaskFigures {
  return {
    runningTasks: s.running,
    desiredTasks: s.desired,
    tasksVersion: s.version,
    failingTasks: s.failing.map((t) => ({ ...t, createdAt: t.createdAt?.toISOString() ?? null, updatedAt: t.updatedAt?.toISOString() ?? null })),
  };
}

/** What serviceTasksChanged delivers: the changed tasks and the service's figures after them. */
export interface ServiceTasksPayload {
  /** SwarmService.id (uuid). */
  serviceId: string;
  dockerServiceId: string;
  clusterId: string;
  accountId: string;
  version: number;
  runningTasks: number;
  desiredTasks: number;
  converged: boolean;
  updateState: string | null;
  updateMessage: string | null;
  tasks: TaskView[];
  /** Changed tasks left out of `tasks` (at most MAX_TASKS_PER_CHANGE are listed). */
  tasksOmitted: number;
  observedAt: Date;
}

/** Changed tasks one ServiceTasksChange lists: a message stays small for Redis and every subscriber. */
export const MAX_TASKS_PER_CHANGE = 500;

/** Tasks of one service read per poll: more than a service can have (1,000 replicas × Docker's history of 5, twice). */
export const MAX_TASKS_READ = 10_000;

/** Update states in which a service is not converged whatever its counts say. */
export function rolloutPending(updateState: string | null | undefined): boolean {
  return updateState !== null && updateState !== undefined && (ROLLING.has(updateState) || STUCK.has(updateState));
}
