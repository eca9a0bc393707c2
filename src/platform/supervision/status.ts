import type { EntityManager } from '@mikro-orm/postgresql';
import { HostStatus, MAX_CONSECUTIVE_FAILURES } from '../../../entities';
import type { FleetPubSub } from '../../infra/pubsub';
import { Topic } from '../../infra/pubsub/topics';

/**
 * Anything with a connection status: a DockerHost, a SwarmCluster. The machine below only
 * touches these fields.
 */
export interface StatusSubject {
  id: string;
  account: { id: string };
  name: string;
  status: HostStatus;
  consecutiveFailures: number;
  lastError?: string | null;
  lastConnectedAt?: Date | null;
}

export interface HostStatusPayload {
  /** Id of the subject (the host, or the cluster for cluster status changes). */
  hostId: string;
  accountId: string;
  name: string;
  status: HostStatus;
  previousStatus: HostStatus;
  consecutiveFailures: number;
  lastError: string | null;
  changedAt: Date;
}

/**
 * The host status machine, in one place:
 *   pending ──ok──▶ connected ──failure──▶ disconnected ──(5 failures in a row)──▶ error
 *   any ──refused (endpoint not allowed, engine of another account)──▶ error
 *   any ──setMaintenance──▶ maintenance ──clear──▶ pending (reconnects)
 *   recover: failures = 0, error → pending
 *   reconnect (endpoint or TLS settings changed): failures = 0, → pending unless in maintenance
 * Returns the payload to publish when the status changed.
 */
export function recordSuccess(host: StatusSubject, now = new Date()): HostStatusPayload | undefined {
  if (host.status === HostStatus.MAINTENANCE) return undefined;
  const previous = host.status;
  host.consecutiveFailures = 0;
  host.lastError = null;
  host.lastConnectedAt = now;
  host.status = HostStatus.CONNECTED;
  return previous !== host.status ? change(host, previous, now) : undefined;
}

/**
 * `refused`: fleetgraph itself refused the endpoint (not on the allow-list, or its engine is
 * another account's): error at once, retrying cannot help until the settings change.
 */
export function recordFailure(host: StatusSubject, error: string, now = new Date(), refused = false): HostStatusPayload | undefined {
  if (host.status === HostStatus.MAINTENANCE) return undefined;
  const previous = host.status;
  host.consecutiveFailures += 1;
  host.lastError = error.slice(0, 2000);
  if (refused || host.consecutiveFailures >= MAX_CONSECUTIVE_FAILURES) host.status = HostStatus.ERROR;
  else if (host.status === HostStatus.CONNECTED) host.status = HostStatus.DISCONNECTED;
  return previous !== host.status ? change(host, previous, now) : undefined;
}

export function setMaintenance(host: StatusSubject, on: boolean, now = new Date()): HostStatusPayload | undefined {
  const previous = host.status;
  if (on) host.status = HostStatus.MAINTENANCE;
  else if (host.status === HostStatus.MAINTENANCE) host.status = HostStatus.PENDING;
  return previous !== host.status ? change(host, previous, now) : undefined;
}

/** The runbook's record_success!: clears the failure count; an errored host goes back to pending and reconnects. */
export function recover(host: StatusSubject, now = new Date()): HostStatusPayload | undefined {
  const previous = host.status;
  host.consecutiveFailures = 0;
  host.lastError = null;
  if (host.status === HostStatus.ERROR || host.status === HostStatus.DISCONNECTED) host.status = HostStatus.PENDING;
  return previous !== host.status ? change(host, previous, now) : undefined;
}

/** The endpoint or TLS settings changed: count from zero and reconnect (pending), unless in maintenance. */
export function reconnect(host: StatusSubject, now = new Date()): HostStatusPayload | undefined {
  const previous = host.status;
  host.consecutiveFailures = 0;
  host.lastError = null;
  if (host.status !== HostStatus.MAINTENANCE) host.status = HostStatus.PENDING;
  return previous !== host.status ? change(host, previous, now) : undefined;
}

function change(host: StatusSubject, previous: HostStatus, now: Date): HostStatusPayload {
  return {
    hostId: host.id,
    accountId: host.account.id,
    name: host.name,
    status: host.status,
    previousStatus: previous,
    consecutiveFailures: host.consecutiveFailures,
    lastError: host.lastError ?? null,
    changedAt: now,
  };
}

/** Flushes the subject and publishes the status change (if any) after the commit (on `topic`, default host status). */
export async function commitStatus(em: EntityManager, pubsub: FleetPubSub, change: HostStatusPayload | undefined, topic: string = Topic.HOST_STATUS): Promise<void> {
  await em.flush();
  if (change) await pubsub.emit(topic, change, change.accountId);
}
