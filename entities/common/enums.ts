import { registerEnumType } from 'type-graphql';

export enum HostStatus {
  PENDING = 'pending',
  CONNECTED = 'connected',
  DISCONNECTED = 'disconnected',
  ERROR = 'error',
  MAINTENANCE = 'maintenance',
}
registerEnumType(HostStatus, {
  name: 'HostStatus',
  description: 'Connection state of a Docker host (or a Swarm cluster manager endpoint).',
  valuesConfig: {
    PENDING: { description: 'Registered, not yet connected.' },
    CONNECTED: { description: 'Ping and info succeeded; syncing and streaming events.' },
    DISCONNECTED: { description: 'The connection dropped; retrying.' },
    ERROR: { description: `${5} consecutive failures; still retried at the sync interval. recoverDockerHost resets the count.` },
    MAINTENANCE: { description: 'Taken offline by an operator: no syncing, no event stream.' },
  },
});

export enum EventSeverity {
  INFO = 'info',
  WARNING = 'warning',
  ERROR = 'error',
}
registerEnumType(EventSeverity, { name: 'EventSeverity' });

export enum EventSource {
  STREAM = 'stream',
  RESYNC = 'resync',
  GAP = 'gap',
}
registerEnumType(EventSource, {
  name: 'EventSource',
  description:
    "STREAM: read from the daemon's /events. RESYNC: found by the list-and-diff after a reconnect (Docker had dropped it or was restarted). GAP: the stream was resumed but Docker's replay did not reach back to the last stored event: events between `attributes.from` and `attributes.to` (timeNano) may be missing; a resync follows.",
});

export enum ActivityStatus {
  PENDING = 'pending',
  SUCCEEDED = 'succeeded',
  FAILED = 'failed',
}
registerEnumType(ActivityStatus, { name: 'ActivityStatus' });

export enum ContainerState {
  CREATED = 'created',
  RUNNING = 'running',
  PAUSED = 'paused',
  RESTARTING = 'restarting',
  REMOVING = 'removing',
  EXITED = 'exited',
  DEAD = 'dead',
}
registerEnumType(ContainerState, { name: 'ContainerState' });
