import { registerEnumType } from 'type-graphql';

/** Where a stack stands (README "Stacks and deployments"). */
export enum SwarmStackStatus {
  DEPLOYING = 'deploying',
  CONVERGED = 'converged',
  DEGRADED = 'degraded',
  FAILED = 'failed',
  ROLLING_BACK = 'rolling_back',
  REMOVED = 'removed',
}
registerEnumType(SwarmStackStatus, {
  name: 'SwarmStackStatus',
  valuesConfig: {
    DEPLOYING: { description: 'A deployment is in progress.' },
    CONVERGED: { description: 'Every service runs what was asked (the last deployment succeeded, or a discovered stack whose services are converged).' },
    DEGRADED: { description: 'Not every service runs what was asked (a cancelled deployment, tasks failing since, or a discovered stack not converged).' },
    FAILED: { description: 'The last deployment failed.' },
    ROLLING_BACK: { description: 'A rollback (rollbackStack) is in progress.' },
    REMOVED: { description: 'Removed with removeStack; its history is kept.' },
  },
});

/** Where a deployment stands; PENDING and IN_PROGRESS are active (one per stack at a time). */
export enum SwarmDeploymentStatus {
  PENDING = 'pending',
  IN_PROGRESS = 'in_progress',
  SUCCEEDED = 'succeeded',
  FAILED = 'failed',
  CANCELLED = 'cancelled',
  ROLLED_BACK = 'rolled_back',
}
registerEnumType(SwarmDeploymentStatus, {
  name: 'SwarmDeploymentStatus',
  valuesConfig: {
    PENDING: { description: 'Accepted and queued as a job.' },
    IN_PROGRESS: { description: 'Being applied, or waiting for its services to converge.' },
    SUCCEEDED: { description: 'Every service converged: running tasks of the new spec equal desired, no update in progress, none failing.' },
    FAILED: { description: "A service could not converge before the deadline, tasks were rejected or failed, or Docker paused or rolled back the update (Docker's words in `error`)." },
    CANCELLED: { description: 'Stopped with cancelDeployment; what was applied stays (roll back to undo it).' },
    ROLLED_BACK: { description: 'Succeeded, and a later rollbackStack went back to an earlier revision.' },
  },
});

/** How a deployment came to be. */
export enum SwarmDeploymentKind {
  DEPLOY = 'deploy',
  REDEPLOY = 'redeploy',
  ROLLBACK = 'rollback',
}
registerEnumType(SwarmDeploymentKind, {
  name: 'SwarmDeploymentKind',
  valuesConfig: {
    DEPLOY: { description: 'deployStack with a compose file.' },
    REDEPLOY: { description: "redeployDeployment: an earlier revision's pinned specs applied again." },
    ROLLBACK: { description: 'rollbackStack: the whole stack back to an earlier revision (services added since removed).' },
  },
});

export const ACTIVE_DEPLOYMENT_STATUSES: readonly SwarmDeploymentStatus[] = [SwarmDeploymentStatus.PENDING, SwarmDeploymentStatus.IN_PROGRESS];
