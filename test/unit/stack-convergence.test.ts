import type { ServiceInspect, TaskInspect } from '../../src/infra/engine/types';
import { derivedTimeoutSeconds, FAILED_TASKS_LIMIT, serviceVerdict as verdictWith, DEFAULT_MONITOR_MS, taskMemory, UNSCHEDULABLE_MS, type TaskMemory } from '../../src/modules/stacks/converge';
import { changedFields, stackDiff } from '../../src/modules/stacks/diff';

/**
 * The pure judgements of a deployment: when a service counts as converged or failed (truthful:
 * never converged while a task of the new spec is missing, rejected or restarting), the derived
 * deadline, and the diff between the swarm's specs and a revision's.
 */
const template = { ContainerSpec: { Image: 'local/busybox:1', Command: ['sleep', '1'] } };
const oldTemplate = { ContainerSpec: { Image: 'local/busybox:0' } };

function service(extra: Partial<ServiceInspect['Spec']> = {}, status?: ServiceInspect['UpdateStatus']): ServiceInspect {
  return { ID: 's1', Version: { Index: 7 }, Spec: { Name: 'app_web', Mode: { Replicated: { Replicas: 2 } }, TaskTemplate: template, ...extra }, UpdateStatus: status ?? null };
}

let n = 0;
function task(state: string, opts: { slot?: number; desired?: string; spec?: TaskInspect['Spec']; err?: string; exit?: number; node?: string } = {}): TaskInspect {
  n += 1;
  return {
    ID: `t${n}`,
    ServiceID: 's1',
    Slot: opts.slot ?? n,
    NodeID: opts.node ?? 'n1',
    DesiredState: opts.desired ?? 'running',
    Status: { State: state, Err: opts.err, ContainerStatus: opts.exit === undefined ? undefined : { ExitCode: opts.exit } },
    Spec: opts.spec ?? template,
    UpdatedAt: new Date(Date.now() + n).toISOString(),
  };
}

/** A verdict with a memory in which every running task has been running long enough (unless one is given). */
function serviceVerdict(s: ServiceInspect, tasks: TaskInspect[], memory: TaskMemory | Map<string, number>, now: number) {
  if (memory instanceof Map) {
    const m = { ...taskMemory(), pendingSince: memory };
    for (const t of tasks) m.runningSince.set(t.ID, now - DEFAULT_MONITOR_MS);
    return verdictWith(s, tasks, m, now);
  }
  return verdictWith(s, tasks, memory, now);
}

describe('serviceVerdict', () => {
  it('counts a running task only once it has been seen running for the update monitor (Docker’s 5 s, or UpdateConfig.Monitor)', () => {
    const memory = taskMemory();
    const tasks = [task('running', { slot: 1 }), task('running', { slot: 2 })];
    expect(serviceVerdict(service(), tasks, memory, 10_000).state).toBe('waiting');
    expect(serviceVerdict(service(), tasks, memory, 10_000 + DEFAULT_MONITOR_MS - 1).state).toBe('waiting');
    expect(serviceVerdict(service(), tasks, memory, 10_000 + DEFAULT_MONITOR_MS).state).toBe('converged');
    const quick = service({ UpdateConfig: { Monitor: 1e9 } });
    const m2 = taskMemory();
    expect(serviceVerdict(quick, tasks, m2, 0).state).toBe('waiting');
    expect(serviceVerdict(quick, tasks, m2, 1000).state).toBe('converged');
  });

  it('judges failures on the tasks the deployment made, not on the history from before it', () => {
    const old = task('rejected', { slot: 1, err: 'No such image: old' });
    const oldFail = [task('failed', { slot: 2, err: 'task: non-zero exit (1)' }), task('failed', { slot: 2, err: 'task: non-zero exit (1)' })];
    const running = [task('running', { slot: 1 }), task('running', { slot: 2 })];
    const memory = taskMemory([old.ID, ...oldFail.map((t) => t.ID)]);
    for (const t of running) memory.runningSince.set(t.ID, 0);
    expect(serviceVerdict(service(), [old, ...oldFail, ...running], memory, DEFAULT_MONITOR_MS).state).toBe('converged');
    expect(serviceVerdict(service(), [old, ...running], { ...memory, before: new Set() }, DEFAULT_MONITOR_MS).state).toBe('failed');
  });

  it('is converged only when running tasks of the new spec equal desired', () => {
    expect(serviceVerdict(service(), [task('running', { slot: 1 }), task('running', { slot: 2 })], new Map(), 0).state).toBe('converged');
    expect(serviceVerdict(service(), [task('running', { slot: 1 }), task('starting', { slot: 2 })], new Map(), 0)).toMatchObject({ state: 'waiting', running: 1, desired: 2 });
    // tasks of the old spec do not count, however many run
    expect(serviceVerdict(service(), [task('running', { slot: 1, spec: oldTemplate }), task('running', { slot: 2, spec: oldTemplate })], new Map(), 0)).toMatchObject({ state: 'waiting', running: 0 });
  });

  it('fails at once on a rejected task, with Docker’s error', () => {
    const v = serviceVerdict(service(), [task('rejected', { slot: 1, err: 'No such image: local/nope:404' }), task('running', { slot: 2 })], new Map(), 0);
    expect(v).toMatchObject({ state: 'failed' });
    expect(v.message).toContain('No such image: local/nope:404');
  });

  it('waits through one failed task of a restarting service, and fails at the limit (a crash loop)', () => {
    const one = [task('failed', { slot: 1, err: 'task: non-zero exit (3)', exit: 3 }), task('starting', { slot: 1 }), task('running', { slot: 2 })];
    expect(serviceVerdict(service(), one, new Map(), 0).state).toBe('waiting');
    const looping = [...one.slice(0, 1), ...Array.from({ length: FAILED_TASKS_LIMIT - 1 }, () => task('failed', { slot: 1, err: 'task: non-zero exit (3)', exit: 3 })), task('running', { slot: 2 })];
    const v = serviceVerdict(service(), looping, new Map(), 0);
    expect(v.state).toBe('failed');
    expect(v.message).toContain('non-zero exit (3)');
  });

  it('fails a task the scheduler cannot place after UNSCHEDULABLE_MS, not before', () => {
    const since = new Map<string, number>();
    const tasks = [task('pending', { slot: 1, err: 'no suitable node (scheduling constraints not satisfied on 3 nodes)' }), task('running', { slot: 2 })];
    expect(serviceVerdict(service(), tasks, since, 1000).state).toBe('waiting');
    expect(serviceVerdict(service(), tasks, since, 1000 + UNSCHEDULABLE_MS - 1).state).toBe('waiting');
    expect(serviceVerdict(service(), tasks, since, 1000 + UNSCHEDULABLE_MS)).toMatchObject({ state: 'failed', message: expect.stringContaining('no suitable node') });
  });

  it('fails when Docker paused or rolled back the update, with its message', () => {
    const tasks = [task('running', { slot: 1 }), task('running', { slot: 2 })];
    for (const State of ['paused', 'rollback_started', 'rollback_completed']) {
      const v = serviceVerdict(service({}, { State, Message: 'update paused due to failure or early termination of task x' }), tasks, new Map(), 0);
      expect(v.state).toBe('failed');
      expect(v.message).toContain('early termination');
    }
    expect(serviceVerdict(service({}, { State: 'updating' }), tasks, new Map(), 0).state).toBe('waiting');
    expect(serviceVerdict(service({}, { State: 'completed' }), tasks, new Map(), 0).state).toBe('converged');
  });

  it('counts a one-shot service (restart condition none) done when its tasks exited 0, failed when one did not', () => {
    const oneShot = service({ TaskTemplate: { ...template, RestartPolicy: { Condition: 'none' } } as never });
    const spec = oneShot.Spec!.TaskTemplate as TaskInspect['Spec'];
    expect(serviceVerdict(oneShot, [task('complete', { slot: 1, exit: 0, desired: 'shutdown', spec }), task('running', { slot: 2, spec })], new Map(), 0).state).toBe('waiting');
    expect(serviceVerdict(oneShot, [task('complete', { slot: 1, exit: 0, desired: 'shutdown', spec }), task('complete', { slot: 2, exit: 0, desired: 'shutdown', spec })], new Map(), 0).state).toBe(
      'converged',
    );
    expect(serviceVerdict(oneShot, [task('failed', { slot: 1, exit: 1, err: 'task: non-zero exit (1)', spec })], new Map(), 0).state).toBe('failed');
  });

  it('does not call a global service with no task yet converged', () => {
    const global = service({ Mode: { Global: {} } });
    expect(serviceVerdict(global, [], new Map(), 0).state).toBe('waiting');
    expect(serviceVerdict(global, [task('running', { node: 'a' }), task('running', { node: 'b' })], new Map(), 0)).toMatchObject({ state: 'converged', running: 2, desired: 2 });
  });
});

describe('derivedTimeoutSeconds', () => {
  it('grows with batches, delay and monitor, between 60 s and an hour', () => {
    expect(derivedTimeoutSeconds([{ Mode: { Replicated: { Replicas: 1 } } }])).toBe(95);
    // a healthcheck's start period and interval × retries are waited for too
    expect(derivedTimeoutSeconds([{ TaskTemplate: { ContainerSpec: { Healthcheck: { StartPeriod: 120e9, Interval: 10e9, Retries: 3 } } } }])).toBe(95 + 150);
    const slow = derivedTimeoutSeconds([{ Mode: { Replicated: { Replicas: 6 } }, UpdateConfig: { Parallelism: 1, Delay: 10e9, Monitor: 5e9 } }]);
    expect(slow).toBe(6 * 45 + 60);
    expect(derivedTimeoutSeconds([{ Mode: { Replicated: { Replicas: 1000 } }, UpdateConfig: { Parallelism: 1, Delay: 60e9 } }])).toBe(3600);
  });
});

describe('stack diff', () => {
  const web = { Name: 'app_web', Labels: { a: '1' }, Mode: { Replicated: { Replicas: 2 } }, TaskTemplate: { ContainerSpec: { Image: 'x:1', Env: ['A=1'] } } };

  it('names the fields a revision changes, ignoring what Docker filled in that neither revision sets', () => {
    const onSwarm = { ...web, TaskTemplate: { ...web.TaskTemplate, ForceUpdate: 0, Runtime: 'container' }, EndpointSpec: { Mode: 'vip' } };
    expect(changedFields(onSwarm, web)).toEqual([]);
    expect(changedFields(onSwarm, { ...web, Mode: { Replicated: { Replicas: 3 } } })).toEqual(['Mode.Replicated.Replicas']);
    expect(changedFields(onSwarm, { ...web, TaskTemplate: { ContainerSpec: { Image: 'x:1', Env: ['A=2'] } } })).toEqual(['TaskTemplate.ContainerSpec.Env']);
  });

  it('counts a key the file dropped when the previous revision set it', () => {
    const withHealth = { ...web, TaskTemplate: { ContainerSpec: { ...web.TaskTemplate.ContainerSpec, Healthcheck: { Test: ['CMD', 'true'] } } } };
    expect(changedFields(withHealth, web)).toEqual([]);
    expect(changedFields(withHealth, web, withHealth)).toEqual(['TaskTemplate.ContainerSpec.Healthcheck']);
  });

  it('lists services created, updated, removed (only when pruned) and unchanged', () => {
    const current = new Map([
      ['app_web', web],
      ['app_old', { ...web, Name: 'app_old' }],
    ]);
    const desired = [
      { ...web, Labels: { a: '2' } },
      { ...web, Name: 'app_new' },
    ];
    expect(stackDiff(current, desired, true)).toEqual({ created: ['app_new'], updated: [{ service: 'app_web', fields: ['Labels.a'] }], removed: ['app_old'], unchanged: [] });
    expect(stackDiff(current, [web], false)).toEqual({ created: [], updated: [], removed: [], unchanged: ['app_web'] });
  });
});
