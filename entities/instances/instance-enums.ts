import { registerEnumType } from 'type-graphql';

/** Where an instance is in its lifecycle (README "Container instances"). */
export enum ContainerInstanceStatus {
  PENDING = 'pending',
  PROVISIONING = 'provisioning',
  RUNNING = 'running',
  COMPLETED = 'completed',
  FAILED = 'failed',
  TIMED_OUT = 'timed_out',
  CANCELLED = 'cancelled',
}
registerEnumType(ContainerInstanceStatus, {
  name: 'ContainerInstanceStatus',
  valuesConfig: {
    PENDING: { description: 'Accepted (within quota), not yet provisioned.' },
    PROVISIONING: { description: 'Vault token being issued, container being created and started.' },
    RUNNING: { description: 'The container runs; resource usage is sampled.' },
    COMPLETED: { description: 'Exited with code 0.' },
    FAILED: { description: 'Exited with another code, was OOM-killed, or could not be provisioned (see errorCode).' },
    TIMED_OUT: { description: 'Stopped because it ran past its timeout.' },
    CANCELLED: { description: 'Stopped by cancelContainerInstance.' },
  },
});

/** Statuses of an instance that still holds (or will hold) quota, a container and a token. */
export const ACTIVE_INSTANCE_STATUSES: readonly ContainerInstanceStatus[] = [ContainerInstanceStatus.PENDING, ContainerInstanceStatus.PROVISIONING, ContainerInstanceStatus.RUNNING];

export function isActiveInstanceStatus(s: ContainerInstanceStatus): boolean {
  return ACTIVE_INSTANCE_STATUSES.includes(s);
}

/** How the per-instance Vault token reaches the container. */
export enum VaultTokenDelivery {
  TMPFS_FILE = 'tmpfs_file',
  ENV = 'env',
}
registerEnumType(VaultTokenDelivery, {
  name: 'VaultTokenDelivery',
  valuesConfig: {
    TMPFS_FILE: {
      description:
        'The default: a file (mode 0600, owned by the container user) on a tmpfs mounted at /run/fleetgraph, written before the command starts (the image needs /bin/sh). Never on disk, not in docker inspect.',
    },
    ENV: { description: 'The VAULT_TOKEN environment variable (visible to anyone who can inspect the container).' },
  },
});

export enum SecurityViolationKind {
  POLICY_REFUSED = 'policy_refused',
  OOM_KILLED = 'oom_killed',
  TIMEOUT = 'timeout',
  KILLED_BY_SIGNAL = 'killed_by_signal',
  TOKEN_VALID_AFTER_END = 'token_valid_after_end',
}
registerEnumType(SecurityViolationKind, {
  name: 'SecurityViolationKind',
  valuesConfig: {
    POLICY_REFUSED: { description: 'The spec was refused by the host-access policy (the instance did not run).' },
    OOM_KILLED: { description: 'The kernel killed the container for exceeding its memory limit.' },
    TIMEOUT: { description: 'The instance ran past its timeout and was stopped.' },
    KILLED_BY_SIGNAL: { description: 'The main process was killed by a signal fleetgraph did not send.' },
    TOKEN_VALID_AFTER_END: { description: "The instance's Vault token was still valid after it ended (found by the reaper, then revoked)." },
  },
});

/** Why an instance is ending, claimed once (the first of the runner, the timeout job, a cancel or the reaper wins). */
export enum InstanceEnding {
  EXITED = 'exited',
  TIMED_OUT = 'timed_out',
  CANCELLED = 'cancelled',
  HOST_LOST = 'host_lost',
  PROVISIONING_FAILED = 'provisioning_failed',
  ORPHANED = 'orphaned',
}
