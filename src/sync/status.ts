import type { EntityManager } from '@mikro-orm/postgresql';
import { DockerHost, HostStatus, MAX_CONSECUTIVE_FAILURES } from '../../entities';
import type { FleetPubSub } from '../pubsub';
import { Topic } from '../pubsub/topics';

export interface HostStatusPayload {
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
 *   any ──setMaintenance──▶ maintenance ──clear──▶ pending (reconnects)
 *   recover: failures = 0, error → pending
 *   reconnect (endpoint or TLS settings changed): failures = 0, → pending unless in maintenance
 * Returns the payload to publish when the status changed.
 */
export function recordSuccess(host: DockerHost, now = new Date()): HostStatusPayload | undefined {
  if (host.status === HostStatus.MAINTENANCE) return undefined;
  const previous = host.status;
  host.consecutiveFailures = 0;
  host.lastError = null;
  host.lastConnectedAt = now;
  host.status = HostStatus.CONNECTED;
  return previous !== host.status ? change(host, previous, now) : undefined;
}

export function recordFailure(host: DockerHost, error: string, now = new Date()): HostStatusPayload | undefined {
  if (host.status === HostStatus.MAINTENANCE) return undefined;
  const previous = host.status;
  host.consecutiveFailures += 1;
  host.lastError = error.slice(0, 2000);
  if (host.consecutiveFailures >= MAX_CONSECUTIVE_FAILURES) host.status = HostStatus.ERROR;
  else if (host.status === HostStatus.CONNECTED) host.status = HostStatus.DISCONNECTED;
  return previous !== host.status ? change(host, previous, now) : undefined;
}

export function setMaintenance(host: DockerHost, on: boolean, now = new Date()): HostStatusPayload | undefined {
  const previous = host.status;
  if (on) host.status = HostStatus.MAINTENANCE;
  else if (host.status === HostStatus.MAINTENANCE) host.status = HostStatus.PENDING;
  return previous !== host.status ? change(host, previous, now) : undefined;
}

/** The runbook's record_success!: clears the failure count; an errored host goes back to pending and reconnects. */
export function recover(host: DockerHost, now = new Date()): HostStatusPayload | undefined {
  const previous = host.status;
  host.consecutiveFailures = 0;
  host.lastError = null;
  if (host.status === HostStatus.ERROR || host.status === HostStatus.DISCONNECTED) host.status = HostStatus.PENDING;
  return previous !== host.status ? change(host, previous, now) : undefined;
}

/** The endpoint or TLS settings changed: count from zero and reconnect (pending), unless in maintenance. */
export function reconnect(host: DockerHost, now = new Date()): HostStatusPayload | undefined {
  const previous = host.status;
  host.consecutiveFailures = 0;
  host.lastError = null;
  if (host.status !== HostStatus.MAINTENANCE) host.status = HostStatus.PENDING;
  return previous !== host.status ? change(host, previous, now) : undefined;
}

function change(host: DockerHost, previous: HostStatus, now: Date): HostStatusPayload {
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

/** Flushes the host and publishes the status change (if any) after the commit. */
export async function commitStatus(em: EntityManager, pubsub: FleetPubSub, change: HostStatusPayload | undefined): Promise<void> {
  await em.flush();
  if (change) await pubsub.emit(Topic.HOST_STATUS, change, change.accountId);
}
