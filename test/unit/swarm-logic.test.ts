import { quorumOf } from '../../src/modules/swarm/health';
import { isOutOfSequence, isQuorumLoss, withVersionRetry } from '../../src/modules/swarm/docker';
import { engineError } from '../../src/infra/engine/errors';
import type { AppError } from '../../src/kernel/errors';
import { buildServiceSpec } from '../../src/modules/swarm/services';

/** Docker's errors as dockerode reports them. */
const dockerError = (statusCode: number, message: string) => Object.assign(new Error(`(HTTP code ${statusCode}) ${message}`), { statusCode, json: { message } });

describe('swarm logic (no Docker needed)', () => {
  it('quorum is a strict majority; (managers − 1) / 2 faults are tolerated', () => {
    expect([1, 2, 3, 4, 5, 7].map((m) => quorumOf(m, m).faultsTolerated)).toEqual([0, 0, 1, 1, 2, 3]);
    expect(quorumOf(3, 2).quorum).toBe(true);
    expect(quorumOf(3, 1).quorum).toBe(false);
    expect(quorumOf(4, 2).quorum).toBe(false);
    expect(quorumOf(5, 3)).toEqual({ quorum: true, faultsTolerated: 2, needed: 3 });
    expect(quorumOf(0, 0).quorum).toBe(false);
  });

  it('"no leader" is quorum loss, reported as such; "out of sequence" is retried, other errors are not', async () => {
    const noLeader = dockerError(
      500,
      "rpc error: code = Unknown desc = The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.",
    );
    expect(isQuorumLoss(noLeader)).toBe(true);
    expect(isQuorumLoss(dockerError(500, 'rpc error: code = Unknown desc = context deadline exceeded'))).toBe(true);
    expect(isQuorumLoss(new Error('The swarm does not have a leader'))).toBe(false); // not from Docker
    const mapped = engineError(noLeader, { name: 'prod', kind: 'cluster' }) as AppError;
    expect(mapped.extensions).toMatchObject({ code: 'DOCKER_ERROR', quorumLost: true, dockerStatus: 500 });
    expect(mapped.message).toMatch(/Swarm "prod" has lost quorum/);

    const stale = dockerError(500, 'rpc error: code = Unknown desc = update out of sequence');
    expect(isOutOfSequence(stale)).toBe(true);
    let calls = 0;
    const retried: number[] = [];
    await expect(
      withVersionRetry(
        async () => (++calls < 3 ? Promise.reject(stale) : 'ok'),
        5,
        (n) => retried.push(n),
      ),
    ).resolves.toBe('ok');
    expect(calls).toBe(3);
    expect(retried).toEqual([2, 3]);
    calls = 0;
    await expect(withVersionRetry(async () => (++calls, Promise.reject(dockerError(400, 'invalid spec'))))).rejects.toMatchObject({ statusCode: 400 });
    expect(calls).toBe(1);
    calls = 0;
    await expect(withVersionRetry(async () => (++calls, Promise.reject(stale)), 3)).rejects.toBe(stale);
    expect(calls).toBe(3);
  });

  it("service specs: Docker's field names, nanoseconds, defaults; bad input refused before Docker", async () => {
    const api = {} as never; // no secrets, configs or resolveImage: Docker is not called
    const spec = await buildServiceSpec(api, {
      name: 'web',
      image: 'local/busybox:1',
      replicas: 2,
      healthcheck: { test: ['CMD', 'true'], intervalSeconds: 1.5 },
      updateConfig: { failureAction: 'rollback' },
    });
    expect(spec).toMatchObject({
      Name: 'web',
      Mode: { Replicated: { Replicas: 2 } },
      TaskTemplate: { ContainerSpec: { Image: 'local/busybox:1', Healthcheck: { Test: ['CMD', 'true'], Interval: 1.5e9, Timeout: 30e9, Retries: 3, StartPeriod: 0 } } },
      UpdateConfig: { Parallelism: 1, Delay: 0, FailureAction: 'rollback', Monitor: 5e9, MaxFailureRatio: 0, Order: 'stop-first' },
      EndpointSpec: { Mode: 'vip' },
    });
    expect(spec.RollbackConfig).toBeUndefined();
    const global = await buildServiceSpec(api, { name: 'agent', image: 'x', mode: 'global' as never });
    expect(global.Mode).toEqual({ Global: {} });
    await expect(buildServiceSpec(api, { name: 'x', image: 'x', rollbackConfig: { failureAction: 'rollback' } })).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'spec.rollbackConfig.failureAction' },
    });
    await expect(buildServiceSpec(api, { name: 'x', image: 'x', updateConfig: { maxFailureRatio: 2 } })).rejects.toMatchObject({ extensions: { field: 'spec.updateConfig.maxFailureRatio' } });
    await expect(buildServiceSpec(api, { name: 'bad name', image: 'x' })).rejects.toMatchObject({ extensions: { field: 'spec.name' } });
    await expect(buildServiceSpec(api, { name: 'g', image: 'x', mode: 'global' as never, replicas: 2 })).rejects.toMatchObject({ extensions: { field: 'spec.replicas' } });
    await expect(buildServiceSpec(api, { name: 'm', image: 'x', resources: { memoryLimitBytes: '1e9' } })).rejects.toMatchObject({ extensions: { field: 'spec.resources.memoryLimitBytes' } });
  });
});
