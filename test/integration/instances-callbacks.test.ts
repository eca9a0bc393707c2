/**
 * Task callbacks: retried with backoff when the receiver fails, every attempt recorded and signed;
 * given up after the retry limit.
 */
import { eventually, TestApp } from '../support/app';
import { TEST_IMAGE } from '../support/docker';
import { GET, RUN, startReceiver, useInstancesSuite, verifySignature } from '../support/instances';

type Instance = { id: string; status: string; callbackStatus: string | null; callbackAttempts: Array<{ attempt: number; statusCode: number | null; delivered: boolean }> };

describe('container instances: task callbacks', () => {
  const suite = useInstancesSuite({ accountPrefix: 'cb', config: { instances: { callbackRetryDelaySeconds: 1, callbackRetryLimit: 3 } } });
  let t: TestApp;
  let token: string;
  let hostId: string;
  let secret: string;

  beforeAll(async () => {
    ({ t, token, hostId } = suite);
    const res = await t.gql<{ rotateInstanceCallbackSecret: { secret: string } }, unknown>('mutation { rotateInstanceCallbackSecret(input: {}) { secret } }', {}, token);
    secret = res.data!.rotateInstanceCallbackSecret.secret;
  });

  const get = async (id: string) => (await t.gql<{ containerInstance: Instance }, unknown>(GET, { id }, token)).data!.containerInstance;

  it('retries a failing receiver with backoff and records every attempt', async () => {
    const receiver = await startReceiver({ failFirst: 2 });
    try {
      const res = await t.gql<{ runContainerInstance: { instance: Instance } }, unknown>(
        RUN,
        { input: { hostId, taskId: 't-1', callbackUrl: receiver.url, config: { image: TEST_IMAGE, command: ['sh', '-c', 'exit 3'] } } },
        token,
      );
      expect(res.errors).toBeUndefined();
      const id = res.data!.runContainerInstance.instance.id;
      const done = await eventually(async () => ((i) => (i.callbackStatus === 'DELIVERED' ? i : null))(await get(id)), 60_000, 300);
      expect(done.status).toBe('FAILED');
      expect(done.callbackAttempts).toEqual([
        { attempt: 1, statusCode: 503, delivered: false, error: 'HTTP 503' },
        { attempt: 2, statusCode: 503, delivered: false, error: 'HTTP 503' },
        { attempt: 3, statusCode: 204, delivered: true, error: null },
      ]);
      expect(receiver.calls).toBe(3);
      const [cb] = receiver.received;
      expect(verifySignature(secret, cb.headers, cb.body)).toBe(true);
      expect(cb.json).toMatchObject({ instanceId: id, taskId: 't-1', status: 'FAILED', exitCode: 3, errorCode: 'NONZERO_EXIT', attempt: 3 });
    } finally {
      await receiver.close();
    }
  });

  it('gives up after the retry limit', async () => {
    const receiver = await startReceiver({ failFirst: 1000 });
    try {
      const res = await t.gql<{ runContainerInstance: { instance: Instance } }, unknown>(
        RUN,
        { input: { hostId, callbackUrl: receiver.url, config: { image: TEST_IMAGE, command: ['true'] } } },
        token,
      );
      const id = res.data!.runContainerInstance.instance.id;
      const done = await eventually(async () => ((i) => (i.callbackStatus === 'GAVE_UP' ? i : null))(await get(id)), 90_000, 300);
      expect(done.callbackAttempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
      expect(done.callbackAttempts.every((a) => !a.delivered && a.statusCode === 503)).toBe(true);
      await new Promise((r) => setTimeout(r, 3000));
      expect(receiver.calls).toBe(4);
    } finally {
      await receiver.close();
    }
  }, 120_000);
});
