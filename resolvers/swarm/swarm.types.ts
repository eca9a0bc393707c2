import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { IsOptional, MaxLength, ValidateNested } from 'class-validator';
import {
  DockerActivity,
  DockerHost,
  EventSeverity,
  HostStatus,
  SecretReference,
  SwarmCluster,
  SwarmEvent,
  SwarmNode,
  SwarmNodeAvailability,
  SwarmNodeRole,
  SwarmService,
  SwarmServiceMode,
} from '../../entities';
import { Connection } from '../../src/graphql/connection';
import { TlsCredentialsInput } from '../hosts/docker-host.types';

// ---------- enums of service specs (Docker's words as values) ----------

export enum UpdateFailureAction {
  CONTINUE = 'continue',
  PAUSE = 'pause',
  ROLLBACK = 'rollback',
}
registerEnumType(UpdateFailureAction, { name: 'UpdateFailureAction', description: 'What to do when an updated task fails (rollbackConfig: CONTINUE or PAUSE only).' });

export enum UpdateOrder {
  STOP_FIRST = 'stop-first',
  START_FIRST = 'start-first',
}
registerEnumType(UpdateOrder, { name: 'UpdateOrder' });

export enum EndpointMode {
  VIP = 'vip',
  DNSRR = 'dnsrr',
}
registerEnumType(EndpointMode, {
  name: 'EndpointMode',
  valuesConfig: { VIP: { description: "One virtual IP, load-balanced by IPVS (Docker's default)." }, DNSRR: { description: 'DNS round robin over the task IPs (no IPVS needed).' } },
});

export enum PortPublishMode {
  INGRESS = 'ingress',
  HOST = 'host',
}
registerEnumType(PortPublishMode, { name: 'PortPublishMode' });

export enum MountType {
  BIND = 'bind',
  VOLUME = 'volume',
  TMPFS = 'tmpfs',
}
registerEnumType(MountType, { name: 'MountType' });

export enum RestartCondition {
  NONE = 'none',
  ON_FAILURE = 'on-failure',
  ANY = 'any',
}
registerEnumType(RestartCondition, { name: 'RestartCondition' });

// ---------- clusters ----------

@InputType()
export class RegisterSwarmClusterInput {
  @Field(() => String, { description: 'Unique per account: letters, digits, ".", "_", "-" (1–100).' }) @MaxLength(100) name!: string;
  @Field(() => String, { description: 'Engine API of a manager: unix:///var/run/docker.sock, tcp://10.0.0.10:2376, http://… or https://…' }) @MaxLength(500) managerEndpoint!: string;
  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'Mutual TLS (needs ca, cert and key). Default false.' }) tlsVerify?: boolean;
  @Field(() => TlsCredentialsInput, { nullable: true }) @IsOptional() @ValidateNested() tlsCredentials?: TlsCredentialsInput;
  @Field(() => Int, { nullable: true, defaultValue: 60, description: 'Inventory sync interval, 5–3600 s. Default 60 (events also trigger a sync).' }) syncIntervalSeconds?: number;
}

@InputType()
export class UpdateSwarmClusterInput {
  @Field(() => ID) id!: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(100) name?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(500) managerEndpoint?: string;
  @Field(() => Boolean, { nullable: true }) @IsOptional() tlsVerify?: boolean;
  @Field(() => TlsCredentialsInput, { nullable: true }) @IsOptional() @ValidateNested() tlsCredentials?: TlsCredentialsInput;
  @Field(() => Int, { nullable: true }) @IsOptional() syncIntervalSeconds?: number;
}

@InputType()
export class SwarmClusterIdInput {
  @Field(() => ID) id!: string;
}

@InputType()
export class SetSwarmClusterMaintenanceInput {
  @Field(() => ID) id!: string;
  @Field(() => Boolean) maintenance!: boolean;
}

@InputType({ description: "Raft settings (Docker's defaults in parentheses)." })
export class RaftSettingsInput {
  @Field(() => Int, { nullable: true, description: 'Log entries between snapshots (10000).' }) @IsOptional() snapshotInterval?: number;
  @Field(() => Int, { nullable: true, description: 'Snapshots kept beyond the current one (0).' }) @IsOptional() keepOldSnapshots?: number;
  @Field(() => Int, { nullable: true, description: 'Entries kept for slow followers after a snapshot (500).' }) @IsOptional() logEntriesForSlowFollowers?: number;
  @Field(() => Int, { nullable: true, description: 'Ticks without a leader before an election (10).' }) @IsOptional() electionTick?: number;
  @Field(() => Int, { nullable: true, description: 'Ticks between leader heartbeats (1).' }) @IsOptional() heartbeatTick?: number;
}

@InputType()
export class InitSwarmInput {
  @Field(() => ID, { description: 'The registered DockerHost that becomes the first manager.' }) hostId!: string;
  @Field(() => String, { description: 'Name of the SwarmCluster registered for the new swarm.' }) @MaxLength(100) name!: string;
  @Field(() => String, { nullable: true, description: 'Raft listen address (default 0.0.0.0:2377).' }) @IsOptional() listenAddr?: string;
  @Field(() => String, { nullable: true, description: "Address other nodes reach this one at (default: the daemon's --swarm-default-advertise-addr or its only address)." })
  @IsOptional()
  advertiseAddr?: string;
  @Field(() => String, { nullable: true }) @IsOptional() dataPathAddr?: string;
  @Field(() => Boolean, { nullable: true, description: "Recover a swarm that lost quorum from this manager's state (default false)." }) @IsOptional() forceNewCluster?: boolean;
  @Field(() => [String], { nullable: true, description: 'Subnets for overlay networks (default 10.0.0.0/8 in /24s).' }) @IsOptional() defaultAddrPool?: string[];
  @Field(() => Boolean, { nullable: true }) @IsOptional() autolockManagers?: boolean;
  @Field(() => Int, { nullable: true, description: 'Tasks kept per slot in history (5).' }) @IsOptional() taskHistoryRetentionLimit?: number;
  @Field(() => RaftSettingsInput, { nullable: true }) @IsOptional() @ValidateNested() raft?: RaftSettingsInput;
  @Field(() => Float, { nullable: true, description: 'Agent heartbeat period, seconds (5).' }) @IsOptional() dispatcherHeartbeatPeriodSeconds?: number;
  @Field(() => Float, { nullable: true, description: 'Node certificate lifetime, seconds (90 days).' }) @IsOptional() nodeCertExpirySeconds?: number;
  @Field(() => Int, { nullable: true, defaultValue: 60 }) syncIntervalSeconds?: number;
}

@InputType()
export class JoinSwarmInput {
  @Field(() => ID, { description: 'The registered DockerHost that joins.' }) hostId!: string;
  @Field(() => ID) clusterId!: string;
  @Field(() => SwarmNodeRole) role!: SwarmNodeRole;
  @Field(() => String, { nullable: true, description: 'Default 0.0.0.0:2377.' }) @IsOptional() listenAddr?: string;
  @Field(() => String, { nullable: true }) @IsOptional() advertiseAddr?: string;
  @Field(() => String, { nullable: true }) @IsOptional() dataPathAddr?: string;
}

@InputType()
export class LeaveSwarmInput {
  @Field(() => ID) hostId!: string;
  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'Needed for a manager (it may cost the swarm its quorum).' }) force?: boolean;
}

@InputType()
export class UpdateSwarmInput {
  @Field(() => ID) clusterId!: string;
  @Field(() => Boolean, { nullable: true }) @IsOptional() rotateWorkerToken?: boolean;
  @Field(() => Boolean, { nullable: true }) @IsOptional() rotateManagerToken?: boolean;
  @Field(() => Boolean, { nullable: true }) @IsOptional() rotateManagerUnlockKey?: boolean;
  @Field(() => Boolean, { nullable: true }) @IsOptional() autolockManagers?: boolean;
  @Field(() => Int, { nullable: true }) @IsOptional() taskHistoryRetentionLimit?: number;
  @Field(() => RaftSettingsInput, { nullable: true }) @IsOptional() @ValidateNested() raft?: RaftSettingsInput;
  @Field(() => Float, { nullable: true }) @IsOptional() dispatcherHeartbeatPeriodSeconds?: number;
  @Field(() => Float, { nullable: true }) @IsOptional() nodeCertExpirySeconds?: number;
}

@ObjectType()
export class SwarmClusterPayload {
  @Field(() => SwarmCluster) cluster!: SwarmCluster;
  @Field(() => DockerActivity) activity!: DockerActivity;
}

@ObjectType()
export class RemovedPayload {
  @Field(() => ID) removedId!: string;
  @Field(() => DockerActivity) activity!: DockerActivity;
}

@ObjectType()
export class SyncSwarmClusterPayload {
  @Field(() => SwarmCluster) cluster!: SwarmCluster;
  @Field(() => DockerActivity) activity!: DockerActivity;
  @Field(() => Int) nodes!: number;
  @Field(() => Int) services!: number;
  @Field(() => Int) secrets!: number;
  @Field(() => Int) configs!: number;
  @Field(() => Int) networks!: number;
  @Field(() => Int, { description: 'Nodes, services, secrets, configs and networks created, changed or removed since the previous sync.' }) changes!: number;
}

@ObjectType()
export class JoinSwarmPayload {
  @Field(() => SwarmCluster) cluster!: SwarmCluster;
  @Field(() => SwarmNode, { nullable: true, description: 'The new node (null if the manager did not list it yet).' }) node?: SwarmNode | null;
  @Field(() => DockerHost) host!: DockerHost;
  @Field(() => DockerActivity) activity!: DockerActivity;
}

@ObjectType()
export class LeaveSwarmPayload {
  @Field(() => DockerHost) host!: DockerHost;
  @Field(() => DockerActivity) activity!: DockerActivity;
}

@ObjectType({ description: 'Join tokens (readable only with swarm.clusters.manage).' })
export class SwarmJoinTokens {
  @Field(() => String) worker!: string;
  @Field(() => String) manager!: string;
}

@ObjectType()
export class CountByKey {
  @Field(() => String) key!: string;
  @Field(() => Int) count!: number;
}

@ObjectType({ description: 'Health of a cluster from its last sync.' })
export class SwarmClusterHealth {
  @Field(() => HostStatus) status!: HostStatus;
  @Field(() => Boolean, { description: 'Held when reachable managers > managers / 2 (and the managers have a leader).' }) quorum!: boolean;
  @Field(() => Int) managers!: number;
  @Field(() => Int, { description: 'Without quorum only the manager fleetgraph talks to is known to be reachable.' }) reachableManagers!: number;
  @Field(() => Int, { description: 'Manager failures the swarm survives: (managers − 1) / 2.' }) faultsTolerated!: number;
  @Field(() => SwarmNode, { nullable: true }) leader?: SwarmNode | null;
  @Field(() => Int) nodes!: number;
  @Field(() => [CountByKey], { description: 'ready, down, unknown, disconnected.' }) nodesByState!: CountByKey[];
  @Field(() => [CountByKey], { description: 'active, pause, drain.' }) nodesByAvailability!: CountByKey[];
  @Field(() => Int) services!: number;
  @Field(() => Int, { description: 'Services whose running tasks equal the desired ones.' }) servicesConverged!: number;
  @Field(() => [String], { description: 'Names of services not converged.' }) servicesNotConverged!: string[];
  @Field(() => Date, { nullable: true }) lastSyncedAt?: Date | null;
}

@ObjectType({ description: 'A status or quorum transition of a cluster.' })
export class SwarmClusterStatusChange {
  @Field(() => ID) clusterId!: string;
  @Field(() => String) name!: string;
  @Field(() => HostStatus) status!: HostStatus;
  @Field(() => HostStatus) previousStatus!: HostStatus;
  @Field(() => Boolean, { nullable: true }) quorum?: boolean | null;
  @Field(() => Boolean, { nullable: true }) previousQuorum?: boolean | null;
  @Field(() => Int) consecutiveFailures!: number;
  @Field(() => String, { nullable: true }) lastError?: string | null;
  @Field(() => Date) changedAt!: Date;
}

// ---------- nodes ----------

@InputType()
export class UpdateNodeInput {
  @Field(() => ID) nodeId!: string;
  @Field(() => SwarmNodeAvailability, { nullable: true }) @IsOptional() availability?: SwarmNodeAvailability;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Replaces all node labels.' }) @IsOptional() labels?: Record<string, string>;
}

@InputType()
export class NodeIdInput {
  @Field(() => ID) nodeId!: string;
}

@InputType()
export class RemoveNodeInput {
  @Field(() => ID) nodeId!: string;
  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'Remove a node that is not down yet.' }) force?: boolean;
}

@ObjectType()
export class SwarmNodePayload {
  @Field(() => SwarmNode) node!: SwarmNode;
  @Field(() => DockerActivity) activity!: DockerActivity;
}

// ---------- services ----------

@InputType()
export class ServiceMountInput {
  @Field(() => MountType) type!: MountType;
  @Field(() => String, {
    nullable: true,
    description:
      "Absolute, normalised host path (bind; exactly one of the operator's host roots unless docker.containers.privileged) or volume name (volume; a local volume without options). None for tmpfs.",
  })
  @IsOptional()
  source?: string;
  @Field(() => String, { description: 'Absolute path in the container.' }) target!: string;
  @Field(() => Boolean, { nullable: true, defaultValue: false }) readOnly?: boolean;
}

@InputType()
export class ServicePortInput {
  @Field(() => Int) target!: number;
  @Field(() => Int, { nullable: true, description: 'Default: assigned by Docker (30000–32767 for ingress).' }) @IsOptional() published?: number;
  @Field(() => String, { nullable: true, defaultValue: 'tcp', description: 'tcp, udp or sctp (tcp).' }) protocol?: string;
  @Field(() => PortPublishMode, { nullable: true, defaultValue: PortPublishMode.INGRESS, description: "INGRESS (routing mesh, Docker's default; needs IPVS) or HOST (the node running the task)." })
  publishMode?: PortPublishMode;
}

@InputType()
export class ServiceResourcesInput {
  @Field(() => Float, { nullable: true, description: 'CPU cores (e.g. 0.5). Default: no limit.' }) @IsOptional() cpuLimit?: number;
  @Field(() => String, { nullable: true, description: 'Bytes, decimal string. Default: no limit.' }) @IsOptional() memoryLimitBytes?: string;
  @Field(() => Float, { nullable: true }) @IsOptional() cpuReservation?: number;
  @Field(() => String, { nullable: true }) @IsOptional() memoryReservationBytes?: string;
}

@InputType()
export class PlacementInput {
  @Field(() => [String], { nullable: true, description: 'e.g. "node.role==worker", "node.labels.zone==a".' }) @IsOptional() constraints?: string[];
  @Field(() => [String], { nullable: true, description: 'Spread descriptors, e.g. "node.labels.zone".' }) @IsOptional() preferences?: string[];
  @Field(() => Int, { nullable: true, description: 'Max tasks of this service per node (default 0 = unlimited).' }) @IsOptional() maxReplicasPerNode?: number;
}

@InputType()
export class ServiceHealthcheckInput {
  @Field(() => [String], { description: 'e.g. ["CMD", "true"], ["CMD-SHELL", "nc -z localhost 80"], ["NONE"].' }) test!: string[];
  @Field(() => Float, { nullable: true, defaultValue: 30, description: 'Seconds between checks (30).' }) intervalSeconds?: number;
  @Field(() => Float, { nullable: true, defaultValue: 30, description: 'Seconds before a check counts as failed (30).' }) timeoutSeconds?: number;
  @Field(() => Int, { nullable: true, defaultValue: 3, description: 'Consecutive failures before unhealthy (3).' }) retries?: number;
  @Field(() => Float, { nullable: true, defaultValue: 0, description: 'Seconds during which failures do not count (0).' }) startPeriodSeconds?: number;
}

@InputType()
export class RestartPolicyInput {
  @Field(() => RestartCondition, { nullable: true, defaultValue: RestartCondition.ANY, description: "ANY (Docker's default)." }) condition?: RestartCondition;
  @Field(() => Float, { nullable: true, defaultValue: 5, description: 'Seconds between restart attempts (5).' }) delaySeconds?: number;
  @Field(() => Int, { nullable: true, defaultValue: 0, description: '0 = unlimited (0).' }) maxAttempts?: number;
  @Field(() => Float, { nullable: true, defaultValue: 0, description: 'Seconds over which attempts are counted (0 = unbounded).' }) windowSeconds?: number;
}

@InputType({ description: "How tasks are updated (or rolled back). Defaults are Docker's: parallelism 1, delay 0 s, failureAction PAUSE, monitor 5 s, maxFailureRatio 0, order STOP_FIRST." })
export class UpdateConfigInput {
  @Field(() => Int, { nullable: true, defaultValue: 1, description: 'Tasks updated at once (0 = all) (1).' }) parallelism?: number;
  @Field(() => Float, { nullable: true, defaultValue: 0, description: 'Seconds between batches (0).' }) delaySeconds?: number;
  @Field(() => UpdateFailureAction, { nullable: true, defaultValue: UpdateFailureAction.PAUSE, description: 'PAUSE (default), CONTINUE or ROLLBACK.' }) failureAction?: UpdateFailureAction;
  @Field(() => Float, { nullable: true, defaultValue: 5, description: 'Seconds a new task is watched for failure (5).' }) monitorSeconds?: number;
  @Field(() => Float, { nullable: true, defaultValue: 0, description: 'Failure ratio tolerated, 0–1 (0).' }) maxFailureRatio?: number;
  @Field(() => UpdateOrder, { nullable: true, defaultValue: UpdateOrder.STOP_FIRST, description: 'STOP_FIRST (default) or START_FIRST.' }) order?: UpdateOrder;
}

@InputType()
export class ServiceSecretInput {
  @Field(() => String, { description: 'Secret name or Docker id.' }) secret!: string;
  @Field(() => String, { nullable: true, description: "File name under /run/secrets (default: the secret's name)." }) @IsOptional() target?: string;
}

@InputType()
export class ServiceConfigInput {
  @Field(() => String, { description: 'Config name or Docker id.' }) config!: string;
  @Field(() => String, { nullable: true, description: 'Path in the container (default: /<config name>).' }) @IsOptional() target?: string;
}

@InputType({ description: "A full service spec. Omitted fields get Docker's defaults (given in each description)." })
export class ServiceSpecInput {
  @Field(() => String) @MaxLength(63) name!: string;
  @Field(() => String) @MaxLength(500) image!: string;
  @Field(() => Boolean, {
    nullable: true,
    defaultValue: false,
    description: 'Pin the image to its registry digest first (what the docker CLI does by default). Default false: the daemon never contacts a registry for it.',
  })
  resolveImage?: boolean;
  @Field(() => [String], { nullable: true, description: "Replaces the image's ENTRYPOINT." }) @IsOptional() command?: string[];
  @Field(() => [String], { nullable: true, description: "Replaces the image's CMD." }) @IsOptional() args?: string[];
  @Field(() => [String], { nullable: true, description: '"NAME=value" entries.' }) @IsOptional() env?: string[];
  @Field(() => String, { nullable: true }) @IsOptional() workdir?: string;
  @Field(() => String, { nullable: true }) @IsOptional() user?: string;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Service labels (com.docker.stack.namespace puts it in a stack).' }) @IsOptional() labels?: Record<string, string>;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Labels of the task containers.' }) @IsOptional() containerLabels?: Record<string, string>;
  @Field(() => [ServiceMountInput], { nullable: true }) @IsOptional() @ValidateNested() mounts?: ServiceMountInput[];
  @Field(() => [String], { nullable: true, description: 'Network names or ids to attach.' }) @IsOptional() networks?: string[];
  @Field(() => [ServicePortInput], { nullable: true }) @IsOptional() @ValidateNested() ports?: ServicePortInput[];
  @Field(() => EndpointMode, { nullable: true, defaultValue: EndpointMode.VIP, description: "VIP (Docker's default) or DNSRR." }) endpointMode?: EndpointMode;
  @Field(() => ServiceResourcesInput, { nullable: true }) @IsOptional() @ValidateNested() resources?: ServiceResourcesInput;
  @Field(() => PlacementInput, { nullable: true }) @IsOptional() @ValidateNested() placement?: PlacementInput;
  @Field(() => SwarmServiceMode, { nullable: true, defaultValue: SwarmServiceMode.REPLICATED, description: 'REPLICATED (default) or GLOBAL (one task per node).' }) mode?: SwarmServiceMode;
  @Field(() => Int, { nullable: true, description: 'Replicated services: tasks to run (default 1).' }) @IsOptional() replicas?: number;
  @Field(() => ServiceHealthcheckInput, { nullable: true, description: "Default: the image's HEALTHCHECK, if any." }) @IsOptional() @ValidateNested() healthcheck?: ServiceHealthcheckInput;
  @Field(() => RestartPolicyInput, { nullable: true, description: 'Default: restart on any exit, 5 s apart, unlimited.' }) @IsOptional() @ValidateNested() restartPolicy?: RestartPolicyInput;
  @Field(() => UpdateConfigInput, { nullable: true }) @IsOptional() @ValidateNested() updateConfig?: UpdateConfigInput;
  @Field(() => UpdateConfigInput, { nullable: true, description: 'Same defaults as updateConfig; failureAction ROLLBACK is not allowed here.' })
  @IsOptional()
  @ValidateNested()
  rollbackConfig?: UpdateConfigInput;
  @Field(() => Float, { nullable: true, description: 'Seconds between SIGTERM and SIGKILL (10).' }) @IsOptional() stopGracePeriodSeconds?: number;
  @Field(() => [ServiceSecretInput], { nullable: true }) @IsOptional() @ValidateNested() secrets?: ServiceSecretInput[];
  @Field(() => [ServiceConfigInput], { nullable: true }) @IsOptional() @ValidateNested() configs?: ServiceConfigInput[];
}

@InputType()
export class CreateServiceInput {
  @Field(() => ID) clusterId!: string;
  @Field(() => ServiceSpecInput) @ValidateNested() spec!: ServiceSpecInput;
}

@InputType()
export class UpdateServiceInput {
  @Field(() => ID) serviceId!: string;
  @Field(() => ServiceSpecInput, { description: 'The full new spec (replaces the current one).' }) @ValidateNested() spec!: ServiceSpecInput;
  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'Recreate the tasks even if nothing changed.' }) forceUpdate?: boolean;
}

@InputType()
export class ScaleServiceInput {
  @Field(() => ID) serviceId!: string;
  @Field(() => Int) replicas!: number;
}

@InputType()
export class ServiceIdInput {
  @Field(() => ID) serviceId!: string;
}

@ObjectType()
export class SwarmServicePayload {
  @Field(() => SwarmService) service!: SwarmService;
  @Field(() => DockerActivity) activity!: DockerActivity;
}

@ObjectType({ description: "A task (one slot's container) of a service, read live from the manager." })
export class SwarmTask {
  @Field(() => String) taskId!: string;
  @Field(() => Int, { nullable: true }) slot?: number | null;
  @Field(() => String, { description: 'new, pending, assigned, accepted, preparing, starting, running, complete, shutdown, failed, rejected, orphaned, remove' }) state!: string;
  @Field(() => String) desiredState!: string;
  @Field(() => String, { nullable: true }) message?: string | null;
  @Field(() => String, { nullable: true }) error?: string | null;
  @Field(() => Int, { nullable: true }) exitCode?: number | null;
  @Field(() => String, { nullable: true }) containerId?: string | null;
  @Field(() => String, { nullable: true, description: "Docker's node id." }) nodeId?: string | null;
  @Field(() => SwarmNode, { nullable: true }) node?: SwarmNode | null;
  @Field(() => String, { nullable: true }) image?: string | null;
  @Field(() => Date, { nullable: true }) createdAt?: Date | null;
  @Field(() => Date, { nullable: true }) updatedAt?: Date | null;
}

@ObjectType({ description: 'A task as the task watcher read it (serviceTasksChanged, SwarmService.failingTasks).' })
export class SwarmTaskChange {
  @Field(() => String) taskId!: string;
  @Field(() => Int, { nullable: true, description: 'Replicated services: the slot (service.N in `docker service ps`).' }) slot?: number | null;
  @Field(() => String, { nullable: true, description: "Docker's node id." }) nodeId?: string | null;
  @Field(() => String, { description: 'new … running, complete, shutdown, failed, rejected, orphaned; `remove` when the task is no longer listed.' }) state!: string;
  @Field(() => String) desiredState!: string;
  @Field(() => String, { nullable: true }) message?: string | null;
  @Field(() => String, { nullable: true, description: 'Docker\'s error (Status.Err), e.g. "No such image: …", "no suitable node …", "task: non-zero exit (1)".' }) error?: string | null;
  @Field(() => Int, { nullable: true }) exitCode?: number | null;
  @Field(() => Boolean, { description: "Whether the task was made from the service's current spec." }) currentSpec!: boolean;
  @Field(() => Date, { nullable: true }) createdAt?: Date | null;
  @Field(() => Date, { nullable: true }) updatedAt?: Date | null;
}

@ObjectType({ description: "A change of a service's tasks: the tasks that changed, and the service's figures after it." })
export class ServiceTasksChange {
  @Field(() => ID, { description: 'The SwarmService.' }) serviceId!: string;
  @Field(() => String, { description: "Docker's service id." }) dockerServiceId!: string;
  @Field(() => Int, { description: 'The service version the figures are of.' }) version!: number;
  @Field(() => Int, { description: 'Running tasks of the current spec.' }) runningTasks!: number;
  @Field(() => Int) desiredTasks!: number;
  @Field(() => Boolean, { description: 'Running equals desired, no rollout moving or paused, no slot failing.' }) converged!: boolean;
  @Field(() => String, { nullable: true, description: 'UpdateStatus.State.' }) updateState?: string | null;
  @Field(() => String, { nullable: true, description: 'UpdateStatus.Message.' }) updateMessage?: string | null;
  @Field(() => [SwarmTaskChange], { description: 'The tasks that changed, at most 500.' }) tasks!: SwarmTaskChange[];
  @Field(() => Int, { description: "Changed tasks not listed in `tasks` (past 500): read the service's tasks for all of them." }) tasksOmitted!: number;
  @Field(() => Date) observedAt!: Date;
}

@ObjectType({ description: "One line of a service's output (any task)." })
export class ServiceLogLine {
  @Field(() => String, { description: 'stdout or stderr' }) stream!: string;
  @Field(() => String) line!: string;
  @Field(() => String, { nullable: true }) timestamp?: string;
  @Field(() => String, { nullable: true }) taskId?: string;
  @Field(() => String, { nullable: true }) nodeId?: string;
  @Field(() => Boolean, { description: 'The line was longer than 16 KiB (LOG_LINE_MAX_BYTES, timestamp included): it was cut there, on a character boundary, and the rest of it was dropped.' })
  truncated!: boolean;
}

@InputType()
export class SwarmServiceFilter {
  @Field(() => String, { nullable: true, description: 'Substring of the name (case-insensitive).' }) @IsOptional() @MaxLength(255) name?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(255) stack?: string;
}

// ---------- secrets and configs ----------

@InputType()
export class CreateSecretInput {
  @Field(() => ID) clusterId!: string;
  @Field(() => String) @MaxLength(64) name!: string;
  @Field(() => String, { description: 'Write-only: passed to Docker, never stored, logged or returned. Up to 500 KiB.' }) value!: string;
  @Field(() => GraphQLJSONObject, { nullable: true }) @IsOptional() labels?: Record<string, string>;
}

@InputType()
export class UpdateSecretInput {
  @Field(() => ID) secretId!: string;
  @Field(() => GraphQLJSONObject, { description: 'Replaces the labels (the only thing Docker lets change on a secret).' }) labels!: Record<string, string>;
}

@InputType()
export class SecretIdInput {
  @Field(() => ID) secretId!: string;
}

@InputType()
export class RotateSecretInput {
  @Field(() => ID) secretId!: string;
  @Field(() => String, { description: 'The new value (write-only).' }) value!: string;
}

@InputType()
export class CreateConfigInput {
  @Field(() => ID) clusterId!: string;
  @Field(() => String) @MaxLength(64) name!: string;
  @Field(() => String, { description: 'Content (UTF-8 text, up to 500 KiB).' }) data!: string;
  @Field(() => GraphQLJSONObject, { nullable: true }) @IsOptional() labels?: Record<string, string>;
}

@InputType()
export class ConfigIdInput {
  @Field(() => ID) configId!: string;
}

@ObjectType()
export class SecretPayload {
  @Field(() => SecretReference) secret!: SecretReference;
  @Field(() => DockerActivity) activity!: DockerActivity;
}

@ObjectType()
export class RotateSecretPayload {
  @Field(() => SecretReference, { description: 'The new version.' }) secret!: SecretReference;
  @Field(() => String) previousName!: string;
  @Field(() => [SwarmService], { description: 'Services repointed to the new version.' }) services!: SwarmService[];
  @Field(() => DockerActivity) activity!: DockerActivity;
}

@ObjectType()
export class ConfigPayload {
  @Field(() => SecretReference) config!: SecretReference;
  @Field(() => DockerActivity) activity!: DockerActivity;
}

// ---------- events ----------

@InputType()
export class SwarmEventFilter {
  @Field(() => [String], { nullable: true, description: 'service, node, secret, config, network' }) @IsOptional() types?: string[];
  @Field(() => [String], { nullable: true, description: 'create, update, remove' }) @IsOptional() actions?: string[];
  @Field(() => String, { nullable: true }) @IsOptional() actorId?: string;
  @Field(() => [EventSeverity], { nullable: true }) @IsOptional() severities?: EventSeverity[];
  @Field(() => Date, { nullable: true }) @IsOptional() since?: Date;
}

export const SwarmClusterConnection = Connection(SwarmCluster);
export const SwarmNodeConnection = Connection(SwarmNode);
export const SwarmServiceConnection = Connection(SwarmService);
export const SwarmEventConnection = Connection(SwarmEvent);
export const SecretReferenceConnection = Connection(SecretReference);
