import { DriverException, type MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../../kernel/logger';
import { AppError } from '../../kernel/errors';
import type { FleetPubSub } from '../../infra/pubsub';
import { describeNetworkError, EndpointRefused } from '../../infra/engine/client';
import { dockerAnswer } from '../../infra/engine/errors';
import type { DockerConnections } from '../../infra/engine/connections';
import type { SecretBox } from '../../infra/crypto';
import type { Audit } from '../audit/activity';

/** What a supervisor (of a host or of a cluster) needs. */
export interface SyncDeps {
  orm: MikroORM;
  pubsub: FleetPubSub;
  logger: Logger;
  connections: DockerConnections;
  /** First retry delay after a failure; doubles per consecutive failure up to the sync interval. */
  retryBaseMs: number;
  /** Events per storage batch. */
  batchSize?: number;
}

/**
 * Text for lastError from any failure: a fixed reason (describeNetworkError) for anything on the
 * way to the engine, never what an endpoint answered. Only an engine whose identity was verified
 * (every client is, src/infra/engine/connections.ts) has its own error messages shown; our own errors
 * (AppError) show their reason or message.
 */
/** Events a host's reader may hold waiting to be stored before it stops reading and resumes later. */
export const MAX_QUEUED_EVENTS = 20_000;

export function failureText(err: unknown): string {
  // Docker's answer, whether mapped by the engine port or as dockerode reported it
  const answer = dockerAnswer(err);
  if (answer) return `Docker answered ${answer.status}: ${answer.message}`;
  if (err instanceof AppError) return typeof err.extensions.reason === 'string' ? err.extensions.reason : err.message;
  // fleetgraph's own database failed, not the way to the engine (a refused connection to PostgreSQL is no refusal of the engine's)
  if (err instanceof DriverException) return STORE_FAILED;
  return describeNetworkError(err);
}

/** lastError when the engine answered but fleetgraph could not store the outcome (a database error: no detail of it is shown). */
export const STORE_FAILED = 'fleetgraph could not store what the engine reported (database error)';

/** Refusals of our own (endpoint not allowed, engine of another account) put the subject in error at once. */
export const isRefusal = (err: unknown): boolean => err instanceof EndpointRefused;

/** What a module of supervised endpoints (hosts, clusters) is built from: its supervisors' needs, sealed credentials and the audit trail. */
export interface EndpointModuleDeps extends SyncDeps {
  secrets: SecretBox;
  audit: Audit;
}
