import type { ServiceInspect, TaskInspect } from '../../src/infra/engine/types';
import { serviceTaskState, taskChanges } from '../../src/modules/swarm/tasks';
import { listedQuorum, serviceConverged } from '../../src/modules/swarm/health';

/**
 * The figures of src/modules/swarm/tasks.ts, from Engine API answers shaped as a 20.10 manager
 * gives them (the task's Spec has no `Runtime`, the service's TaskTemplate has).
 */
const template = (env: string[]) => ({ ContainerSpec: { Image: 'local/busybox:1', Args: ['sleep', '3600'], Env: env }, ForceUpdate: 0, Placement: {} });
const service = (replicas: number | null, env: string[], update?: { State: string; Message?: string }): ServiceInspect => ({
  ID: 'svc',
  Version: { Index: 40 },
  Spec: { Name: 'web', TaskTemplate: { ...template(env), Runtime: 'container' }, Mode: replicas === null ? { Global: {} } : { Replicated: { Replicas: replicas } } },
  UpdateStatus: update ?? null,
});
let n = 0;
const task = (slot: number | null, state: string, desired: string, env: string[], extra: Partial<TaskInspect> = {}): TaskInspect => ({
  ID: `t${++n}`,
  Slot: slot ?? undefined,
  NodeID: `node${slot ?? n}`,
  DesiredState: desired,
  Status: { State: state },
  Spec: template(env),
  UpdatedAt: new Date(1_800_000_000_000 + n * 1000).toISOString(),
  ...extra,
});

describe('service task figures (current spec only)', () => {
  it("counts only the current spec's running tasks during a rolling update, and is not settled until the rollout ends", () => {
    const s = serviceTaskState(service(3, ['A=2'], { State: 'updating' }), [
      task(1, 'running', 'running', ['A=2']),
      task(2, 'running', 'running', ['A=1']), // old spec, not yet replaced
      task(3, 'running', 'running', ['A=1']),
      task(1, 'shutdown', 'shutdown', ['A=1']),
    ]);
    expect(s).toMatchObject({ running: 1, desired: 3, settled: false, converged: false, updateState: 'updating' });
  });

  it('settled and converged once every task of the current spec runs and the old ones are down', () => {
    const s = serviceTaskState(service(2, ['A=2'], { State: 'completed' }), [task(1, 'running', 'running', ['A=2']), task(2, 'running', 'running', ['A=2']), task(2, 'shutdown', 'shutdown', ['A=1'])]);
    expect(s).toMatchObject({ running: 2, desired: 2, settled: true, converged: true, failing: [] });
    // a task still being stopped (scale-down asks for `remove`) keeps it unsettled
    expect(serviceTaskState(service(1, ['A=2']), [task(1, 'running', 'running', ['A=2']), task(2, 'running', 'remove', ['A=2'])]).settled).toBe(false);
  });

  it("a slot whose tasks are rejected is failing with Docker's error: settled (nothing moves) but not converged", () => {
    const s = serviceTaskState(service(1, []), [
      task(1, 'rejected', 'shutdown', [], { Status: { State: 'rejected', Err: 'No such image: local/missing:1' } }),
      task(1, 'rejected', 'ready', [], { Status: { State: 'rejected', Err: 'No such image: local/missing:1' } }),
    ]);
    expect(s.failing).toHaveLength(1);
    expect(s.failing[0]).toMatchObject({ state: 'rejected', error: 'No such image: local/missing:1', currentSpec: true });
    expect(s).toMatchObject({ running: 0, desired: 1, settled: true, converged: false });
    // a new attempt pending: moving again
    expect(serviceTaskState(service(1, []), [task(1, 'rejected', 'shutdown', []), task(1, 'pending', 'running', [])]).settled).toBe(false);
  });

  it('a failure in a slot that runs again is history, not failing', () => {
    const s = serviceTaskState(service(1, []), [task(1, 'failed', 'shutdown', [], { Status: { State: 'failed', Err: 'task: non-zero exit (1)' } }), task(1, 'running', 'running', [])]);
    expect(s).toMatchObject({ failing: [], converged: true });
  });

  it('global: desired is the nodes given a task to run', () => {
    const s = serviceTaskState(service(null, []), [task(null, 'running', 'running', []), task(null, 'preparing', 'running', []), task(null, 'shutdown', 'shutdown', [])]);
    expect(s).toMatchObject({ running: 1, desired: 2, settled: false });
  });

  it('a paused update is settled but not converged', () => {
    const s = serviceTaskState(service(1, ['A=2'], { State: 'paused', Message: 'update paused due to failure' }), [task(1, 'running', 'running', ['A=2'])]);
    expect(s).toMatchObject({ settled: true, converged: false, updateMessage: 'update paused due to failure' });
  });

  it('changes: new, changed and vanished tasks', () => {
    const a = serviceTaskState(service(1, []), [task(1, 'starting', 'running', [], { ID: 'x' }), task(1, 'shutdown', 'shutdown', [], { ID: 'y' })]).tasks;
    const b = serviceTaskState(service(1, []), [task(1, 'running', 'running', [], { ID: 'x' }), task(1, 'running', 'running', [], { ID: 'z' })]).tasks;
    expect(
      taskChanges(a, b)
        .map((t) => `${t.taskId}:${t.state}`)
        .sort(),
    ).toEqual(['x:running', 'y:remove', 'z:running']);
    expect(taskChanges(b, b)).toEqual([]);
  });
});

describe('stored convergence and listed quorum', () => {
  const row = { version: 5, tasksVersion: 5, runningTasks: 3, desiredTasks: 3, updateState: 'completed', failingTasks: [] };
  it('converged only with figures of the current version, running = desired, no rollout, no failing slot', () => {
    expect(serviceConverged(row)).toBe(true);
    expect(serviceConverged({ ...row, version: 6 })).toBe(false);
    expect(serviceConverged({ ...row, tasksVersion: null })).toBe(false);
    expect(serviceConverged({ ...row, runningTasks: 2 })).toBe(false);
    expect(serviceConverged({ ...row, updateState: 'rollback_started' })).toBe(false);
    expect(serviceConverged({ ...row, updateState: 'paused' })).toBe(false);
    expect(serviceConverged({ ...row, failingTasks: [{ taskId: 'x' }] })).toBe(false);
  });

  it('quorum: a leader and a majority of managers not unreachable', () => {
    const m = (leader: boolean, reach: string) => ({ ID: `${leader}${reach}${Math.random()}`, ManagerStatus: { Leader: leader, Reachability: reach } });
    expect(listedQuorum([m(true, 'reachable'), m(false, 'reachable'), m(false, 'unreachable')])).toBe(true);
    expect(listedQuorum([m(true, 'reachable'), m(false, 'unreachable'), m(false, 'unreachable')])).toBe(false);
    expect(listedQuorum([m(false, 'reachable'), m(false, 'reachable')])).toBe(false);
    // a manager just promoted is "unknown" for a moment: not lost
    expect(listedQuorum([m(true, 'reachable'), m(false, 'unknown')])).toBe(true);
  });
});
