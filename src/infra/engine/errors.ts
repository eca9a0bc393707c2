import { AppError, ErrorCode } from '../../kernel/errors';
import { describeNetworkError, MAX_RESPONSE_BYTES, RESPONSE_TOO_LARGE } from './client';

/**
 * THE mapper of Docker's errors (issue 8): every call of the engine port (src/infra/engine/port.ts)
 * and every connection build goes through `engineError` once, so managers, the audit trail and
 * resolvers only ever see AppErrors from Docker.
 */

/** What a Docker call was made for: named in DOCKER_UNREACHABLE; a cluster's manager may report a lost quorum. */
export interface EngineSubject {
  name: string;
  kind: 'host' | 'cluster';
}

/** Network-level failures: the daemon could not be reached or the TLS handshake failed. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EPIPE',
  'ESOCKETTIMEDOUT',
  'EACCES',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** How dockerode (docker-modem) reports a failed call. */
interface DockerodeError {
  name?: string;
  message?: string;
  statusCode?: number;
  json?: { message?: string } | string | null;
  reason?: string;
  code?: string;
}

const asDockerode = (err: unknown): DockerodeError | undefined => (err && typeof err === 'object' ? (err as DockerodeError) : undefined);

/** Docker's messages are kept up to this length (a failed build step can send 64 KiB). */
const DOCKER_MESSAGE_MAX = 2000;

/** Docker's answer when raft has no leader (HTTP 500), or when the first request after the managers went away gave up (~20 s). */
const QUORUM_LOSS = /does not have a leader|context deadline exceeded/i;

/** Docker's own message from a dockerode error (from an engine whose identity was verified). */
export function dockerMessage(err: unknown): string {
  const e = asDockerode(err);
  const text = e?.json && typeof e.json === 'object' && e.json.message ? e.json.message : typeof e?.json === 'string' && e.json.trim() ? e.json.trim() : (e?.message ?? String(err));
  return text.length > DOCKER_MESSAGE_MAX ? `${text.slice(0, DOCKER_MESSAGE_MAX)}… [${text.length - DOCKER_MESSAGE_MAX} more characters]` : text;
}

/**
 * Whether an error came from talking to Docker: Docker answered with an error status, or the
 * connection (socket, TCP, TLS) failed. Database errors and bugs are not Docker's and must not
 * be reported as DOCKER_ERROR (with, say, SQL text as "Docker's message").
 */
function isDockerFailure(err: unknown): boolean {
  if (err instanceof AppError) return false;
  const e = asDockerode(err);
  if (!e) return false;
  if (typeof e.statusCode === 'number') return true;
  // MikroORM's DriverException family (UniqueConstraintViolationException, SyntaxErrorException, …)
  if (/Exception$/.test(e.name ?? '')) return false;
  const code = e.code ?? '';
  return (
    UNREACHABLE.has(code) ||
    /^E[A-Z]+$/.test(code) ||
    /^ERR_(SSL|TLS)|CERT/.test(code) ||
    /ECONN|socket hang up|timeout|certificate|SSL|TLS|EPROTO|HTTP request to an HTTPS server/i.test(e.message ?? '')
  );
}

/**
 * Maps an error of a Docker call, once:
 * - Docker answered with an error status: DOCKER_ERROR with `dockerStatus` and `dockerMessage`
 *   (every client talks to an engine whose identity was verified first); on a cluster's manager,
 *   a lost raft quorum is DOCKER_ERROR with `quorumLost: true` and a message that says what to do;
 * - an answer larger than the client reads: DOCKER_ERROR, reason "answer too large";
 * - no answer (socket, TCP, TLS): DOCKER_UNREACHABLE with a fixed reason, naming the subject.
 * AppErrors pass through (already mapped, or our own), and so does anything that is not Docker's
 * (a bug, a database error): the audit trail reports those as INTERNAL_SERVER_ERROR.
 */
export function engineError(err: unknown, subject?: EngineSubject): unknown {
  if (!isDockerFailure(err)) return err;
  const e = asDockerode(err)!;
  if (typeof e.statusCode === 'number') {
    const message = dockerMessage(err);
    if (subject?.kind === 'cluster' && QUORUM_LOSS.test(message)) {
      return new AppError(ErrorCode.DOCKER_ERROR, `Swarm "${subject.name}" has lost quorum (no raft leader): more than half of the managers must be online. Docker: ${message}`, {
        dockerStatus: 500,
        dockerMessage: message,
        quorumLost: true,
      });
    }
    return new AppError(ErrorCode.DOCKER_ERROR, `Docker: ${message}`, { dockerStatus: e.statusCode, dockerMessage: message });
  }
  const code = e.code ?? '';
  if (code === RESPONSE_TOO_LARGE) {
    const limit = (err as { limit?: number }).limit ?? MAX_RESPONSE_BYTES;
    const size = limit >= 1024 * 1024 ? `${limit / 1024 / 1024} MiB` : `${limit / 1024} KiB`;
    return new AppError(ErrorCode.DOCKER_ERROR, `Docker: the answer was larger than ${size} and was not read`, { reason: 'answer too large' });
  }
  if (UNREACHABLE.has(code) || /ECONN|socket hang up|timeout|certificate|SSL|TLS|EPROTO/i.test(e.message ?? '')) {
    const reason = describeNetworkError(e);
    const where = subject ? ` (${subject.name})` : '';
    return new AppError(ErrorCode.DOCKER_UNREACHABLE, `Docker host unreachable${where}: ${reason}`, { reason });
  }
  return new AppError(ErrorCode.DOCKER_ERROR, 'Docker: the request failed');
}

/** Runs `fn` (code that still calls dockerode itself) with its errors mapped once by engineError. */
export async function withEngineErrors<T>(subject: EngineSubject, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw engineError(err, subject);
  }
}

/** Docker's status and message of a failed call, whether mapped (DOCKER_ERROR) or as dockerode reported it; undefined for anything else. */
export function dockerAnswer(err: unknown): { status: number; message: string } | undefined {
  if (err instanceof AppError) {
    const { dockerStatus, dockerMessage: message } = err.extensions;
    return err.code === ErrorCode.DOCKER_ERROR && typeof dockerStatus === 'number' && typeof message === 'string' ? { status: dockerStatus, message } : undefined;
  }
  const e = asDockerode(err);
  return typeof e?.statusCode === 'number' ? { status: e.statusCode, message: dockerMessage(err) } : undefined;
}

/** Whether Docker answered with this status (304 "already there", 404 "no such …"). */
export function hasDockerStatus(err: unknown, status: number): boolean {
  return dockerAnswer(err)?.status === status;
}

/** A lost raft quorum: mapped (`quorumLost`), or Docker's answer as dockerode reported it. */
export function isQuorumLoss(err: unknown): boolean {
  if (err instanceof AppError) return err.extensions.quorumLost === true;
  const answer = dockerAnswer(err);
  return answer !== undefined && QUORUM_LOSS.test(answer.message);
}
