import { failureText, STORE_FAILED } from '../../src/platform/supervision/deps';
import { ConnectionException, DriverException, UniqueConstraintViolationException } from '@mikro-orm/core';
import { AppError, ErrorCode, badInput } from '../../src/kernel/errors';
import { EndpointRefused, RESPONSE_TOO_LARGE } from '../../src/infra/engine/client';
import { dockerAnswer, engineError, hasDockerStatus, isQuorumLoss, withEngineErrors } from '../../src/infra/engine/errors';

/** Errors as dockerode (docker-modem) reports them. */
const statusError = (statusCode: number, message: string) => Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message}`), { statusCode, json: { message } });
const networkError = (code: string, message = `connect ${code} /var/run/docker.sock`) => Object.assign(new Error(message), { code });

const host = { name: 'web-1', kind: 'host' } as const;
const cluster = { name: 'prod', kind: 'cluster' } as const;
const NO_LEADER = "rpc error: code = Unknown desc = The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.";

describe('engineError, the one mapper of Docker errors (no Docker needed)', () => {
  it('Docker answered with an error status: DOCKER_ERROR with its status and message', () => {
    const mapped = engineError(statusError(404, 'No such container: abc'), host) as AppError;
    expect(mapped).toBeInstanceOf(AppError);
    expect(mapped.message).toBe('Docker: No such container: abc');
    expect(mapped.extensions).toEqual({ code: ErrorCode.DOCKER_ERROR, dockerStatus: 404, dockerMessage: 'No such container: abc' });
    // a body that is plain text, and a very long message (cut, with the count of what was left out)
    expect((engineError(Object.assign(new Error('x'), { statusCode: 500, json: ' plain text ' })) as AppError).extensions.dockerMessage).toBe('plain text');
    const long = engineError(statusError(500, 'y'.repeat(2500))) as AppError;
    expect(long.extensions.dockerMessage).toBe(`${'y'.repeat(2000)}… [500 more characters]`);
  });

  it('no answer: DOCKER_UNREACHABLE with a fixed reason, naming the subject when there is one', () => {
    const refused = engineError(networkError('ECONNREFUSED'), host) as AppError;
    expect(refused.message).toBe('Docker host unreachable (web-1): connection refused');
    expect(refused.extensions).toEqual({ code: ErrorCode.DOCKER_UNREACHABLE, reason: 'connection refused' });
    expect((engineError(networkError('ENOENT')) as AppError).message).toBe('Docker host unreachable: socket not found');
    expect((engineError(networkError('ETIMEDOUT'), cluster) as AppError).extensions).toMatchObject({ code: 'DOCKER_UNREACHABLE', reason: 'connection timed out' });
    expect((engineError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })) as AppError).extensions.reason).toBe('connection reset');
    expect((engineError(networkError('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate')) as AppError).extensions.reason).toBe('certificate not trusted');
    // what the endpoint sent is never in the message
    expect((engineError(networkError('EPROTO', 'secret-from-the-endpoint EPROTO')) as AppError).message).not.toMatch(/secret/);
  });

  it('an answer larger than the client reads: DOCKER_ERROR "answer too large"', () => {
    const mapped = engineError(Object.assign(new Error('answer larger than 67108864 bytes'), { code: RESPONSE_TOO_LARGE }), host) as AppError;
    expect(mapped.message).toBe('Docker: the answer was larger than 64 MiB and was not read');
    expect(mapped.extensions).toEqual({ code: ErrorCode.DOCKER_ERROR, reason: 'answer too large' });
  });

  it("a cluster's lost quorum is reported as such; the same answer from a host is an ordinary DOCKER_ERROR", () => {
    const lost = engineError(statusError(500, NO_LEADER), cluster) as AppError;
    expect(lost.message).toBe(`Swarm "prod" has lost quorum (no raft leader): more than half of the managers must be online. Docker: ${NO_LEADER}`);
    expect(lost.extensions).toEqual({ code: ErrorCode.DOCKER_ERROR, dockerStatus: 500, dockerMessage: NO_LEADER, quorumLost: true });
    expect(isQuorumLoss(lost)).toBe(true);
    expect((engineError(statusError(500, 'rpc error: code = Unknown desc = context deadline exceeded'), cluster) as AppError).extensions.quorumLost).toBe(true);
    const fromHost = engineError(statusError(500, NO_LEADER), host) as AppError;
    expect(fromHost.extensions.quorumLost).toBeUndefined();
    expect(fromHost.message).toBe(`Docker: ${NO_LEADER}`);
    // the raw answer is recognised too (the supervisors' own calls), an error that is not Docker's is not
    expect(isQuorumLoss(statusError(500, NO_LEADER))).toBe(true);
    expect(isQuorumLoss(new Error('The swarm does not have a leader'))).toBe(false);
    expect(isQuorumLoss(statusError(404, 'no such node'))).toBe(false);
  });

  it('AppErrors pass through as they are (already mapped, or our own)', () => {
    const own = badInput('image', 'is required');
    expect(engineError(own, host)).toBe(own);
    const refused = new EndpointRefused('endpoint not allowed');
    expect(engineError(refused, host)).toBe(refused);
    const mapped = engineError(statusError(409, 'conflict'), host);
    expect(engineError(mapped, cluster)).toBe(mapped);
  });

  it("errors that are not Docker's (bugs, the database) are left untouched: the audit trail reports them as INTERNAL_SERVER_ERROR", () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'Id')");
    expect(engineError(bug, host)).toBe(bug);
    const sql = new UniqueConstraintViolationException(Object.assign(new Error('duplicate key value violates unique constraint "swarm_services_pkey"'), { code: '23505' }));
    expect(engineError(sql, host)).toBe(sql);
    expect(engineError('a string', host)).toBe('a string');
    expect(engineError(undefined)).toBeUndefined();
  });

  it("Docker's status is read the same from a mapped error and from dockerode's", async () => {
    expect(dockerAnswer(statusError(304, 'container already started'))).toEqual({ status: 304, message: 'container already started' });
    expect(dockerAnswer(engineError(statusError(304, 'container already started'), host))).toEqual({ status: 304, message: 'container already started' });
    expect(hasDockerStatus(engineError(statusError(404, 'no such volume')), 404)).toBe(true);
    expect(hasDockerStatus(engineError(networkError('ECONNREFUSED')), 404)).toBe(false);
    expect(dockerAnswer(new AppError(ErrorCode.NOT_FOUND, 'not found', { dockerStatus: 404 }))).toBeUndefined();
    // code that still calls dockerode itself gets its errors mapped once
    await expect(withEngineErrors(host, () => Promise.reject(networkError('ECONNREFUSED')))).rejects.toMatchObject({ message: 'Docker host unreachable (web-1): connection refused' });
    await expect(withEngineErrors(host, async () => 'ok')).resolves.toBe('ok');
  });
});

describe('failureText: what a host or cluster shows as its last error', () => {
  it("a database error of fleetgraph's own is no failure on the way to the engine, and shows none of its detail", () => {
    const sqlError = Object.assign(new Error('insert into "docker_hosts" ... invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' });
    const connRefused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:55432'), { code: 'ECONNREFUSED' });
    expect(failureText(new DriverException(sqlError))).toBe(STORE_FAILED);
    // PostgreSQL down: MikroORM's ConnectionException (a DriverException) is not "connection refused" by the engine
    expect(failureText(new ConnectionException(connRefused))).toBe(STORE_FAILED);
    // the engine's own socket refusing stays what it is
    expect(failureText(connRefused)).toBe('connection refused');
  });
});
