import type { ServiceInspect, TaskInspect } from '../../infra/engine/types';
import { serviceTaskState } from '../swarm';

/**
 * Whether one service of a deployment has converged, from one read of the service and its tasks
 * (pure; the runner reads every 500 ms). Truthful by construction: a service is done only when
 * running tasks of the NEW spec equal desired (replicated) or one per eligible node (global), no
 * update is moving, and no task of the new spec is failing. Swarm reports a task with a
 * healthcheck as running only once the container is healthy (the task stays "starting" until
 * then, and an unhealthy container fails the task), so running tasks are healthy ones.
 * A one-shot service (restart_policy condition none) is done when its tasks exited 0. Running
 * tasks count once seen running for the service's update monitor (stableMs).
 */
export type ServiceVerdict = { state: 'converged' | 'waiting' | 'failed'; running: number; desired: number; message: string };

/** Failed tasks of the new spec before a restarting service counts as crash-looping (one failure may be retried into success). */
export const FAILED_TASKS_LIMIT = 2;
/** A task of the new spec that the scheduler cannot place ("no suitable node …") fails the deployment after this long. */
export const UNSCHEDULABLE_MS = 10_000;

/** Update states that mean Docker did not apply the update as asked. */
const UPDATE_FAILED: Record<string, string> = {
  paused: 'update paused',
  rollback_started: 'update rolled back by Docker',
  rollback_paused: 'update rollback paused',
  rollback_completed: 'update rolled back by Docker',
};

/**
 * A running task counts once it has been seen running for the service's update monitor
 * (UpdateConfig.Monitor, Docker's default 5 s): the window in which Docker itself counts a new
 * task's failure against an update, and what `docker service create` waits before it says
 * "converged". A process that exits or fails its healthcheck within it is not converged.
 */
export const DEFAULT_MONITOR_MS = 5000;

export function stableMs(service: ServiceInspect): number {
  const monitor = (service.Spec?.UpdateConfig as { Monitor?: number } | undefined)?.Monitor;
  return typeof monitor === 'number' && monitor > 0 ? monitor / 1e6 : DEFAULT_MONITOR_MS;
}

/**
 * What the caller keeps across reads of one deployment: the tasks that existed before it applied
 * anything (their failures are history, not this deployment's), when each task was first seen
 * pending with a scheduler error, and first seen running.
 */
export interface TaskMemory {
  before: Set<string>;
  pendingSince: Map<string, number>;
  runningSince: Map<string, number>;
}

export const taskMemory = (before: Iterable<string> = []): TaskMemory => ({ before: new Set(before), pendingSince: new Map(), runningSince: new Map() });

/** @param now the read's time (the caller's clock: Docker's timestamps are the manager's). */
export function serviceVerdict(service: ServiceInspect, tasks: TaskInspect[], memory: TaskMemory, now: number): ServiceVerdict {
  const { pendingSince, runningSince } = memory;
  const st = serviceTaskState(service, tasks);
  const current = [...st.tasks.values()].filter((t) => t.currentSpec);
  // failures are judged on the tasks this deployment made, not on the history Docker keeps (5 per slot)
  const made = current.filter((t) => !memory.before.has(t.taskId));
  const base = { running: st.running, desired: st.desired };
  if (st.updateState && UPDATE_FAILED[st.updateState]) return { ...base, state: 'failed', message: `${UPDATE_FAILED[st.updateState]}${st.updateMessage ? `: ${st.updateMessage}` : ''}` };
  const rejected = made.find((t) => t.state === 'rejected');
  if (rejected) return { ...base, state: 'failed', message: `task rejected: ${rejected.error ?? rejected.message ?? 'rejected'}` };
  for (const t of made) {
    if (t.state !== 'pending' || !t.error) continue;
    const since = pendingSince.get(t.taskId) ?? now;
    pendingSince.set(t.taskId, since);
    if (now - since >= UNSCHEDULABLE_MS) return { ...base, state: 'failed', message: `task not scheduled: ${t.error}` };
  }
  const failed = made.filter((t) => t.state === 'failed').sort((a, b) => (b.updatedAt?.getTime() ?? 0) - (a.updatedAt?.getTime() ?? 0));
  const oneShot = (service.Spec?.TaskTemplate?.RestartPolicy as { Condition?: string } | undefined)?.Condition === 'none';
  if (oneShot) {
    if (failed.length) return { ...base, state: 'failed', message: `task failed: ${failed[0].error ?? failed[0].message ?? 'failed'}` };
    const replicas = service.Spec?.Mode?.Replicated?.Replicas ?? st.desired;
    const done = current.filter((t) => t.state === 'complete' && (t.exitCode ?? 0) === 0).length;
    return done >= replicas ? { ...base, state: 'converged', message: `${done}/${replicas} tasks completed` } : { ...base, state: 'waiting', message: `${done}/${replicas} tasks completed` };
  }
  if (failed.length >= FAILED_TASKS_LIMIT) return { ...base, state: 'failed', message: `task failed ${failed.length} times: ${failed[0].error ?? failed[0].message ?? 'failed'}` };
  const global = !service.Spec?.Mode?.Replicated;
  const stable = stableMs(service);
  let young = 0;
  for (const t of current) {
    if (t.state !== 'running') continue;
    const since = runningSince.get(t.taskId) ?? now;
    runningSince.set(t.taskId, since);
    if (now - since < stable) young++;
  }
  // a global service with no task yet has not been scheduled: 0/0 is not convergence
  const converged = st.converged && !(global && st.desired === 0) && young === 0;
  const status = `${st.running}/${st.desired} running${young ? ` (${young} for less than ${stable / 1000} s)` : ''}${st.updateState ? `, update ${st.updateState}` : ''}`;
  return { ...base, state: converged ? 'converged' : 'waiting', message: status };
}

/** Nanoseconds (Docker's durations) to ms. */
const ms = (ns: unknown) => (typeof ns === 'number' && ns > 0 ? ns / 1e6 : 0);

/**
 * The deadline of a deployment when none is given: each service updates in ceil(replicas /
 * parallelism) batches of (delay + monitor + the healthcheck's start period and interval ×
 * retries + 30 s to start), services in parallel, plus 60 s, between 60 s and an hour.
 */
export function derivedTimeoutSeconds(
  services: ReadonlyArray<{
    Mode?: { Replicated?: { Replicas?: number } };
    UpdateConfig?: { Parallelism?: number; Delay?: number; Monitor?: number };
    TaskTemplate?: { ContainerSpec?: { Healthcheck?: { StartPeriod?: number; Interval?: number; Retries?: number } } };
  }>,
): number {
  let longest = 0;
  for (const s of services) {
    const replicas = s.Mode?.Replicated?.Replicas ?? 1;
    const parallelism = s.UpdateConfig?.Parallelism || replicas || 1;
    const batches = Math.max(1, Math.ceil(replicas / parallelism));
    const health = s.TaskTemplate?.ContainerSpec?.Healthcheck;
    const healthMs = health ? ms(health.StartPeriod) + (ms(health.Interval) || 30_000) * (health.Retries ?? 3) : 0;
    const batchMs = ms(s.UpdateConfig?.Delay) + (ms(s.UpdateConfig?.Monitor) || DEFAULT_MONITOR_MS) + healthMs + 30_000;
    longest = Math.max(longest, batches * batchMs);
  }
  return Math.min(3600, Math.max(60, Math.ceil(longest / 1000) + 60));
}
