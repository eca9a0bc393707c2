import { HostStatus, MAX_CONSECUTIVE_FAILURES, SwarmCluster } from '../../entities';
import { HostStatusPayload, reconnect, recordFailure, recordSuccess, recover, setMaintenance, StatusSubject } from '../../src/platform/supervision/status';
import { clusterOutcome, clusterStatusChange } from '../../src/modules/swarm/status';

const { PENDING, CONNECTED, DISCONNECTED, ERROR, MAINTENANCE } = HostStatus;
const ALL = [PENDING, CONNECTED, DISCONNECTED, ERROR, MAINTENANCE];
const NOW = new Date('2030-01-02T03:04:05Z');
const EARLIER = new Date('2020-01-01T00:00:00Z');

function subject(status: HostStatus, consecutiveFailures = 0, lastError: string | null = null): StatusSubject {
  return { id: 'h1', account: { id: 'a1' }, name: 'web-1', status, consecutiveFailures, lastError, lastConnectedAt: EARLIER };
}

function cluster(status: HostStatus, quorum: boolean | null | undefined, consecutiveFailures = 0, lastError: string | null = null): SwarmCluster {
  return Object.assign(new SwarmCluster(), { id: 'c1', account: { id: 'a1' }, name: 'swarm-1', status, quorum, consecutiveFailures, lastError, lastConnectedAt: EARLIER });
}

/** [from status, failures before] → [to status, failures after, published?] */
type Row = [HostStatus, number, HostStatus, number, boolean];

function expectPayload(change: HostStatusPayload | undefined, previous: HostStatus, s: StatusSubject): void {
  expect(change).toEqual({
    hostId: 'h1',
    accountId: 'a1',
    name: 'web-1',
    status: s.status,
    previousStatus: previous,
    consecutiveFailures: s.consecutiveFailures,
    lastError: s.lastError ?? null,
    changedAt: NOW,
  });
}

function check(rows: Row[], apply: (s: StatusSubject) => HostStatusPayload | undefined): void {
  it.each(rows)('%s (failures %i) → %s (failures %i), published: %s', (from, failuresBefore, to, failuresAfter, published) => {
    const s = subject(from, failuresBefore, failuresBefore > 0 ? 'earlier error' : null);
    const change = apply(s);
    expect(s.status).toBe(to);
    expect(s.consecutiveFailures).toBe(failuresAfter);
    if (published) expectPayload(change, from, s);
    else expect(change).toBeUndefined();
  });
}

describe('host status machine (src/platform/supervision/status.ts)', () => {
  it('MAX_CONSECUTIVE_FAILURES is the documented 5', () => {
    expect(MAX_CONSECUTIVE_FAILURES).toBe(5);
  });

  describe('recordSuccess', () => {
    check(
      [
        [PENDING, 0, CONNECTED, 0, true],
        [DISCONNECTED, 3, CONNECTED, 0, true],
        [ERROR, 5, CONNECTED, 0, true],
        [CONNECTED, 0, CONNECTED, 0, false],
        [MAINTENANCE, 2, MAINTENANCE, 2, false],
      ],
      (s) => recordSuccess(s, NOW),
    );

    it('clears the error and stamps lastConnectedAt, also without a status change', () => {
      const s = subject(CONNECTED, 0, 'old');
      expect(recordSuccess(s, NOW)).toBeUndefined();
      expect(s).toMatchObject({ lastError: null, lastConnectedAt: NOW });
    });

    it('is ignored in maintenance (sticky): nothing is touched', () => {
      const s = subject(MAINTENANCE, 2, 'old');
      expect(recordSuccess(s, NOW)).toBeUndefined();
      expect(s).toEqual(subject(MAINTENANCE, 2, 'old'));
    });
  });

  describe('recordFailure', () => {
    const M = MAX_CONSECUTIVE_FAILURES;
    check(
      [
        [PENDING, 0, PENDING, 1, false],
        [PENDING, M - 2, PENDING, M - 1, false],
        [PENDING, M - 1, ERROR, M, true],
        [CONNECTED, 0, DISCONNECTED, 1, true],
        [CONNECTED, M - 1, ERROR, M, true],
        [DISCONNECTED, 1, DISCONNECTED, 2, false],
        [DISCONNECTED, M - 2, DISCONNECTED, M - 1, false],
        [DISCONNECTED, M - 1, ERROR, M, true],
        [ERROR, M, ERROR, M + 1, false],
        [MAINTENANCE, 0, MAINTENANCE, 0, false],
        [MAINTENANCE, M - 1, MAINTENANCE, M - 1, false],
      ],
      (s) => recordFailure(s, 'connect ECONNREFUSED', NOW),
    );

    describe('refused: error at once', () => {
      check(
        [
          [PENDING, 0, ERROR, 1, true],
          [CONNECTED, 0, ERROR, 1, true],
          [DISCONNECTED, 1, ERROR, 2, true],
          [ERROR, 1, ERROR, 2, false],
          [MAINTENANCE, 0, MAINTENANCE, 0, false],
        ],
        (s) => recordFailure(s, 'endpoint not allowed', NOW, true),
      );
    });

    it('records the error (truncated to 2000 characters) in the subject and the payload', () => {
      const s = subject(CONNECTED);
      const change = recordFailure(s, 'x'.repeat(5000), NOW);
      expect(s.lastError).toBe('x'.repeat(2000));
      expect(change?.lastError).toBe('x'.repeat(2000));
      expect(change?.consecutiveFailures).toBe(1);
    });

    it('is ignored in maintenance (sticky): error and count stay as they were', () => {
      const s = subject(MAINTENANCE, 1, 'old');
      expect(recordFailure(s, 'new', NOW, true)).toBeUndefined();
      expect(s).toEqual(subject(MAINTENANCE, 1, 'old'));
    });

    it('reaches error after exactly MAX_CONSECUTIVE_FAILURES failures in a row from connected', () => {
      const s = subject(CONNECTED);
      const seen: Array<HostStatus | undefined> = [];
      for (let i = 0; i < MAX_CONSECUTIVE_FAILURES; i++) seen.push(recordFailure(s, `boom ${i}`, NOW)?.status);
      expect(seen).toEqual([DISCONNECTED, ...Array(MAX_CONSECUTIVE_FAILURES - 2).fill(undefined), ERROR]);
      expect(s).toMatchObject({ status: ERROR, lastError: `boom ${MAX_CONSECUTIVE_FAILURES - 1}` });
    });
  });

  describe('setMaintenance(on)', () => {
    check(
      [
        [PENDING, 0, MAINTENANCE, 0, true],
        [CONNECTED, 0, MAINTENANCE, 0, true],
        [DISCONNECTED, 2, MAINTENANCE, 2, true],
        [ERROR, 5, MAINTENANCE, 5, true],
        [MAINTENANCE, 0, MAINTENANCE, 0, false],
      ],
      (s) => setMaintenance(s, true, NOW),
    );
  });

  describe('setMaintenance(off)', () => {
    check(
      [
        [MAINTENANCE, 0, PENDING, 0, true],
        [PENDING, 0, PENDING, 0, false],
        [CONNECTED, 0, CONNECTED, 0, false],
        [DISCONNECTED, 2, DISCONNECTED, 2, false],
        [ERROR, 5, ERROR, 5, false],
      ],
      (s) => setMaintenance(s, false, NOW),
    );
  });

  describe('recover', () => {
    check(
      [
        [ERROR, 5, PENDING, 0, true],
        [DISCONNECTED, 2, PENDING, 0, true],
        [PENDING, 3, PENDING, 0, false],
        [CONNECTED, 0, CONNECTED, 0, false],
        [MAINTENANCE, 2, MAINTENANCE, 0, false],
      ],
      (s) => recover(s, NOW),
    );

    it('clears lastError in every state', () => {
      for (const status of ALL) {
        const s = subject(status, 1, 'old');
        recover(s, NOW);
        expect(s.lastError).toBeNull();
      }
    });
  });

  describe('reconnect (endpoint or TLS settings changed)', () => {
    check(
      [
        [CONNECTED, 0, PENDING, 0, true],
        [DISCONNECTED, 2, PENDING, 0, true],
        [ERROR, 5, PENDING, 0, true],
        [PENDING, 3, PENDING, 0, false],
        [MAINTENANCE, 2, MAINTENANCE, 0, false],
      ],
      (s) => reconnect(s, NOW),
    );

    it('clears lastError in every state', () => {
      for (const status of ALL) {
        const s = subject(status, 1, 'old');
        reconnect(s, NOW);
        expect(s.lastError).toBeNull();
      }
    });
  });

  it('maintenance is sticky: no success or failure leaves it, only setMaintenance(off)', () => {
    const s = subject(MAINTENANCE);
    for (let i = 0; i < MAX_CONSECUTIVE_FAILURES + 1; i++) recordFailure(s, 'down', NOW);
    recordFailure(s, 'refused', NOW, true);
    recordSuccess(s, NOW);
    reconnect(s, NOW);
    recover(s, NOW);
    expect(s.status).toBe(MAINTENANCE);
    expect(setMaintenance(s, false, NOW)?.status).toBe(PENDING);
  });
});

describe('cluster status (src/modules/swarm/status.ts)', () => {
  describe('clusterOutcome', () => {
    it('first successful check: pending → connected, quorum null → true', () => {
      const c = cluster(PENDING, null);
      expect(clusterOutcome(c, { ok: true }, NOW)).toEqual({
        clusterId: 'c1',
        accountId: 'a1',
        name: 'swarm-1',
        status: CONNECTED,
        previousStatus: PENDING,
        quorum: true,
        previousQuorum: null,
        consecutiveFailures: 0,
        lastError: null,
        changedAt: NOW,
      });
      expect(c).toMatchObject({ status: CONNECTED, quorum: true, lastConnectedAt: NOW });
    });

    it('treats an unset quorum as null', () => {
      expect(clusterOutcome(cluster(PENDING, undefined), { ok: true }, NOW)?.previousQuorum).toBeNull();
    });

    it('a success with nothing changed publishes nothing', () => {
      expect(clusterOutcome(cluster(CONNECTED, true), { ok: true }, NOW)).toBeUndefined();
    });

    it('quorum lost: connected → disconnected, quorum true → false, lastError says so', () => {
      const c = cluster(CONNECTED, true);
      expect(clusterOutcome(c, { ok: false, error: 'no leader', quorumLost: true }, NOW)).toMatchObject({
        status: DISCONNECTED,
        previousStatus: CONNECTED,
        quorum: false,
        previousQuorum: true,
        consecutiveFailures: 1,
        lastError: 'quorum lost: no leader',
      });
      expect(c).toMatchObject({ status: DISCONNECTED, quorum: false, lastError: 'quorum lost: no leader' });
    });

    it('quorum lost with the status unchanged is still published (quorum alone changed)', () => {
      const change = clusterOutcome(cluster(DISCONNECTED, true, 1), { ok: false, error: 'no leader', quorumLost: true }, NOW);
      expect(change).toMatchObject({ status: DISCONNECTED, previousStatus: DISCONNECTED, quorum: false, previousQuorum: true, consecutiveFailures: 2 });
    });

    it('quorum still lost, status unchanged: nothing published, failures still counted', () => {
      const c = cluster(DISCONNECTED, false, 1);
      expect(clusterOutcome(c, { ok: false, error: 'no leader', quorumLost: true }, NOW)).toBeUndefined();
      expect(c.consecutiveFailures).toBe(2);
    });

    it('quorum lost MAX_CONSECUTIVE_FAILURES times in a row → error', () => {
      const change = clusterOutcome(cluster(DISCONNECTED, false, MAX_CONSECUTIVE_FAILURES - 1), { ok: false, error: 'no leader', quorumLost: true }, NOW);
      expect(change).toMatchObject({ status: ERROR, previousStatus: DISCONNECTED, quorum: false, previousQuorum: false });
    });

    it('quorum regained: disconnected → connected, quorum false → true', () => {
      const c = cluster(DISCONNECTED, false, 3, 'quorum lost: no leader');
      expect(clusterOutcome(c, { ok: true }, NOW)).toMatchObject({
        status: CONNECTED,
        previousStatus: DISCONNECTED,
        quorum: true,
        previousQuorum: false,
        consecutiveFailures: 0,
        lastError: null,
      });
    });

    it('quorum regained with the status unchanged is still published', () => {
      expect(clusterOutcome(cluster(CONNECTED, false), { ok: true }, NOW)).toMatchObject({ status: CONNECTED, previousStatus: CONNECTED, quorum: true, previousQuorum: false });
    });

    it('an unreachable manager (not a quorum loss) leaves quorum as it was', () => {
      const c = cluster(CONNECTED, true);
      expect(clusterOutcome(c, { ok: false, error: 'ECONNREFUSED' }, NOW)).toMatchObject({
        status: DISCONNECTED,
        previousStatus: CONNECTED,
        quorum: true,
        previousQuorum: true,
        lastError: 'ECONNREFUSED',
      });
      expect(clusterOutcome(c, { ok: false, error: 'ECONNREFUSED' }, NOW)).toBeUndefined();
      expect(c).toMatchObject({ quorum: true, consecutiveFailures: 2 });
    });

    it('refused: error at once', () => {
      expect(clusterOutcome(cluster(CONNECTED, true), { ok: false, error: 'not allowed', refused: true }, NOW)).toMatchObject({ status: ERROR, previousStatus: CONNECTED, quorum: true });
    });

    it('in maintenance nothing changes, neither status nor quorum', () => {
      for (const outcome of [{ ok: true as const }, { ok: false as const, error: 'no leader', quorumLost: true }, { ok: false as const, error: 'x', refused: true }]) {
        const c = cluster(MAINTENANCE, true, 1, 'old');
        expect(clusterOutcome(c, outcome, NOW)).toBeUndefined();
        expect(c).toMatchObject({ status: MAINTENANCE, quorum: true, consecutiveFailures: 1, lastError: 'old', lastConnectedAt: EARLIER });
      }
    });
  });

  describe('clusterStatusChange', () => {
    it('no transition → nothing to publish', () => {
      expect(clusterStatusChange(cluster(CONNECTED, true), undefined)).toBeUndefined();
      const c = cluster(MAINTENANCE, true);
      expect(clusterStatusChange(c, setMaintenance(c, true, NOW))).toBeUndefined();
    });

    it('maintenance on: the machine’s transition as the cluster payload, quorum unchanged', () => {
      const c = cluster(CONNECTED, false, 2, 'quorum lost: x');
      expect(clusterStatusChange(c, setMaintenance(c, true, NOW))).toEqual({
        clusterId: 'c1',
        accountId: 'a1',
        name: 'swarm-1',
        status: MAINTENANCE,
        previousStatus: CONNECTED,
        quorum: false,
        previousQuorum: false,
        consecutiveFailures: 2,
        lastError: 'quorum lost: x',
        changedAt: NOW,
      });
    });

    it('reconnect: error → pending with failures cleared; unknown quorum is null', () => {
      const c = cluster(ERROR, undefined, 5, 'boom');
      expect(clusterStatusChange(c, reconnect(c, NOW))).toMatchObject({
        status: PENDING,
        previousStatus: ERROR,
        quorum: null,
        previousQuorum: null,
        consecutiveFailures: 0,
        lastError: null,
      });
    });
  });
});
