/**
 * The stacks module: compose stacks deployed on a swarm as `docker stack deploy` does, versioned
 * (`compose/`: the loader and converter, pure; `apply.ts`: the Engine API calls; `check.ts`: the
 * checks that run before anything changes; `deployments.ts`: revisions, redeploy, rollback,
 * cancel, remove, discovery; `runner.ts`: the durable job that applies a revision and watches it
 * converge; `converge.ts` and `diff.ts`: pure judgements).
 */
import type { SecretBox } from '../../infra/crypto';
import type { JobQueue } from '../../infra/jobs';
import type { Worker } from '../../kernel/worker';
import type { HostAccessGuard } from '../../platform/policy/enforce';
import { ClusterOperations, type SwarmModule } from '../swarm';
import { StackChecker } from './check';
import { DEPLOY_QUEUE, StackDeployments, type DeployJob } from './deployments';
import { DeploymentLog } from './progress';
import { DeploymentRunner } from './runner';

export { StackChecker } from './check';
export { StackDeployments, DEPLOY_QUEUE, MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS } from './deployments';
export type { DeployOptions } from './deployments';
export { DeploymentRunner } from './runner';
export { DEPLOYMENT_TOPIC } from './progress';
export type { DeploymentProgressPayload, ServiceProgress } from './progress';
export { applyStack, checkExternals } from './apply';
export type { AppliedStack } from './apply';

/** What the stacks module is built from (by the composition root). */
export type StacksDeps = ConstructorParameters<typeof ClusterOperations>[0] & {
  guard: HostAccessGuard;
  jobs: JobQueue;
  secrets: SecretBox;
  /** The swarm module: its supervisors watch the tasks of what a deployment changes. */
  swarm: Pick<SwarmModule, 'fleet'>;
};

export interface StacksModule {
  deployments: StackDeployments;
  runner: DeploymentRunner;
  workers: Worker[];
}

/** Deployments run on the job queue: this many at once per replica (each mostly waits for Docker). */
const DEPLOY_CONCURRENCY = 8;

export function createStacksModule(deps: StacksDeps): StacksModule {
  const ops = new ClusterOperations(deps, (clusterId) => deps.swarm.fleet.supervisor(clusterId)?.managerCallFailed());
  const log = new DeploymentLog(deps.pubsub, deps.logger);
  const checker = new StackChecker(ops, deps.guard);
  const deployments = new StackDeployments({ ops, checker, jobs: deps.jobs, secrets: deps.secrets, audit: deps.audit, log, logger: deps.logger });
  const runner = new DeploymentRunner({
    orm: deps.orm,
    ops,
    jobs: deps.jobs,
    secrets: deps.secrets,
    log,
    logger: deps.logger,
    watchTasks: (clusterId, serviceId) => deps.swarm.fleet.supervisor(clusterId)?.watchService(serviceId),
  });
  deps.jobs.queue<DeployJob>(DEPLOY_QUEUE, (data) => runner.handle(data), { concurrency: DEPLOY_CONCURRENCY });
  return { deployments, runner, workers: [runner] };
}
