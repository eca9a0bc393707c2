import { DockerHost, SwarmCluster, SwarmNetwork, SwarmNode, SwarmNodeRole } from '../../../entities';
import { AppError, ErrorCode } from '../../kernel/errors';
import { toGlobalId } from '../../kernel/ids';
import type { Scope } from '../../kernel/scope';
import type { Audit } from '../../platform/audit/activity';
import type { SecretBox } from '../../infra/crypto';
import type { FleetPubSub } from '../../infra/pubsub';
import type { TlsCredentials } from '../../infra/engine/client';
import type { NetworkInspect, SwarmInspect, SwarmSpec } from '../../infra/engine/types';
import type { DockerConnections } from '../../infra/engine/connections';
import type { SyncDeps } from '../../platform/supervision/deps';
import { EndpointKind, EndpointRegistry } from '../../platform/supervision/registry';
import type { LeasedFleet } from '../../platform/leasing/leased-fleet';
import type { HostService } from '../hosts';
import { ClusterSupervisor } from './supervisor';
import { seconds, versionOf, withVersionRetry } from './docker';
import type { ClusterOperations } from './operation';
import { clusterStatusChange, commitClusterStatus } from './status';
import { ClusterSyncResult, managerInfo } from './sync';

export interface ClusterInput {
  name?: string;
  managerEndpoint?: string;
  tlsVerify?: boolean;
  tlsCredentials?: TlsCredentials | null;
  syncIntervalSeconds?: number;
}

export interface SwarmSettingsInput {
  rotateWorkerToken?: boolean;
  rotateManagerToken?: boolean;
  rotateManagerUnlockKey?: boolean;
  autolockManagers?: boolean;
  taskHistoryRetentionLimit?: number;
  raft?: { snapshotInterval?: number; keepOldSnapshots?: number; logEntriesForSlowFollowers?: number; electionTick?: number; heartbeatTick?: number };
  dispatcherHeartbeatPeriodSeconds?: number;
  nodeCertExpirySeconds?: number;
}

export interface InitSwarmInput extends SwarmSettingsInput {
  hostId: string;
  name: string;
  listenAddr?: string;
  advertiseAddr?: string;
  dataPathAddr?: string;
  forceNewCluster?: boolean;
  defaultAddrPool?: string[];
  syncIntervalSeconds?: number;
}

export const DEFAULT_LISTEN_ADDR = '0.0.0.0:2377';

/** What SwarmManager is built from (by createSwarmModule). */
export interface SwarmManagerDeps {
  secrets: SecretBox;
  connections: DockerConnections;
  pubsub: FleetPubSub;
  audit: Audit;
  hosts: HostService;
  fleet: LeasedFleet<ClusterSupervisor>;
  ops: ClusterOperations;
  syncDeps: SyncDeps;
}

const clusterGid = (id: string) => toGlobalId('SwarmCluster', id);
const hostGid = (id: string) => toGlobalId('DockerHost', id);

/** Clusters (registration, settings, sync) and the swarm lifecycle of hosts (init, join, leave, update). */
export class SwarmManager {
  private readonly connections: DockerConnections;
  private readonly audit: Audit;
  private readonly hosts: HostService;
  private readonly ops: ClusterOperations;
  private readonly syncDeps: SyncDeps;
  readonly fleet: LeasedFleet<ClusterSupervisor>;

  private readonly registry: EndpointRegistry<SwarmCluster>;

  constructor(deps: SwarmManagerDeps) {
    this.connections = deps.connections;
    this.audit = deps.audit;
    const kind: EndpointKind<SwarmCluster> = {
      entity: SwarmCluster,
      typeName: 'SwarmCluster',
      noun: 'cluster',
      endpointField: 'managerEndpoint',
      claimColumn: 'cluster_id',
      syncIntervalSeconds: { min: 5, max: 3600 },
      subject: (cluster) => ({ cluster }),
      attach: (handle, cluster) => handle.setCluster(cluster),
      // quorum is unchanged by the transitions a mutation makes (maintenance, reconnect)
      commitStatus: (em, cluster, change) => commitClusterStatus(em, deps.pubsub, clusterStatusChange(cluster, change)),
    };
    this.registry = new EndpointRegistry(kind, { audit: deps.audit, secrets: deps.secrets, connections: deps.connections, fleet: deps.fleet });
    this.hosts = deps.hosts;
    this.fleet = deps.fleet;
    this.ops = deps.ops;
    this.syncDeps = deps.syncDeps;
  }

  /** A cluster of the scope's account, or NOT_FOUND. */
  get(scope: Scope, id: string): Promise<SwarmCluster> {
    return this.registry.get(scope, id);
  }

  async register(scope: Scope, input: ClusterInput & { name: string; managerEndpoint: string }) {
    const { row: cluster, activity } = await this.registry.register(scope, { ...input, endpoint: input.managerEndpoint }, {}, input);
    return { cluster, activity };
  }

  async update(scope: Scope, id: string, input: ClusterInput) {
    const { row: cluster, activity } = await this.registry.update(scope, id, { ...input, endpoint: input.managerEndpoint }, input);
    return { cluster, activity };
  }

  remove(scope: Scope, id: string) {
    return this.registry.remove(scope, id);
  }

  /** Maintenance on (no watching, no syncing) or off (back to pending: reconnects); the transition is published. */
  async setMaintenance(scope: Scope, id: string, on: boolean) {
    const { row: cluster, activity } = await this.registry.setMaintenance(scope, id, on);
    return { cluster, activity };
  }

  /** Full sync now: through the local supervisor when this replica runs it (ordered with events), else one-shot. */
  async sync(scope: Scope, id: string) {
    const {
      row: cluster,
      activity,
      result,
    } = await this.registry.sync(
      scope,
      id,
      // (the supervisor has recorded the outcome, quorum included; its Docker calls come out mapped)
      (cluster) => this.syncNow(cluster),
      (r) => ({ nodes: r.nodes, services: r.services, secrets: r.secrets, configs: r.configs, networks: r.networks, changes: r.changes.length }),
    );
    return { cluster, activity, result };
  }

  /** Runs a sync of a cluster in order with its events (or one-shot when no local supervisor runs it). */
  syncNow(cluster: SwarmCluster): Promise<ClusterSyncResult> {
    const supervisor = this.fleet.supervisor(cluster.id) ?? new ClusterSupervisor(this.syncDeps, cluster.id, cluster.account.id);
    return supervisor.syncNow();
  }

  /** A sync after a change (join, leave, settings): its failure is the supervisor's to record; logged here, never the caller's error. */
  private async syncAfter(scope: Scope, cluster: SwarmCluster, what: string): Promise<void> {
    await this.syncNow(cluster).catch((err) => scope.log.warn({ err, clusterId: cluster.id }, `cluster sync after ${what} failed`));
  }

  /** Join tokens, read live from the manager (never stored). */
  async joinTokens(scope: Scope, cluster: SwarmCluster): Promise<{ worker: string; manager: string }> {
    const swarm = await this.ops.read(scope, cluster, (manager) => manager.inspectSwarm());
    return { worker: swarm.JoinTokens?.Worker ?? '', manager: swarm.JoinTokens?.Manager ?? '' };
  }

  /** `docker swarm init` on a registered host; registers the new cluster with the host's endpoint and credentials. */
  async initSwarm(scope: Scope, input: InitSwarmInput) {
    const em = scope.em;
    const host = await this.hosts.get(scope, input.hostId);
    this.registry.validate({ name: input.name, syncIntervalSeconds: input.syncIntervalSeconds }, false);
    await this.registry.assertNameFree(scope, input.name);
    const engine = await this.hosts.engine(scope, host);
    const parameters = { ...input, hostId: hostGid(host.id) };
    const { result: cluster, activity } = await this.audit.run(scope, { action: 'swarm.init', targetType: 'cluster', targetId: input.name, host, parameters }, async (h) => {
      await engine.initSwarm({
        ListenAddr: input.listenAddr ?? DEFAULT_LISTEN_ADDR,
        AdvertiseAddr: input.advertiseAddr,
        DataPathAddr: input.dataPathAddr,
        ForceNewCluster: input.forceNewCluster ?? false,
        DefaultAddrPool: input.defaultAddrPool,
        Spec: applySettings({}, input),
        AutoLockManagers: input.autolockManagers,
      });
      const info = await managerInfo(engine);
      host.swarmNodeId = info.Swarm.NodeID ?? null;
      const sealed = host.tlsKeyId ? (await em.findOne(DockerHost, host.id, { fields: ['tlsCredentialsSealed'], disableIdentityMap: true }))?.tlsCredentialsSealed : null;
      const cluster = await this.registry.insert(scope, {
        name: input.name,
        managerEndpoint: host.apiEndpoint,
        tlsVerify: host.tlsVerify,
        tlsCredentialsSealed: sealed ?? null,
        tlsKeyId: sealed ? host.tlsKeyId : null,
        syncIntervalSeconds: input.syncIntervalSeconds ?? 60,
        swarmId: info.Swarm.Cluster?.ID ?? null,
      });
      h.setCluster(cluster);
      h.setTarget(cluster.id);
      h.activity.result = { swarmId: cluster.swarmId, nodeId: info.Swarm.NodeID };
      return cluster;
    });
    await this.fleet.notify(cluster.id);
    await this.syncAfter(scope, cluster, 'init');
    await em.refresh(cluster);
    return { cluster, activity };
  }

  /** Joins a registered host to a cluster as worker or manager, with the token read from the cluster's manager. */
  async joinSwarm(scope: Scope, input: { hostId: string; clusterId: string; role: SwarmNodeRole; listenAddr?: string; advertiseAddr?: string; dataPathAddr?: string }) {
    const em = scope.em;
    const host = await this.hosts.get(scope, input.hostId);
    const cluster = await this.get(scope, input.clusterId);
    // the host's own engine: its errors name the host
    const hostEngine = await this.hosts.engine(scope, host);
    const parameters = { ...input, hostId: hostGid(host.id), clusterId: clusterGid(cluster.id) };
    const { activity } = await this.ops.run(scope, cluster, { action: 'swarm.join', targetType: 'host', targetId: host.id, host, parameters }, async (manager, h) => {
      const [swarm, info] = await Promise.all([manager.inspectSwarm(), managerInfo(manager)]);
      const token = input.role === SwarmNodeRole.MANAGER ? swarm.JoinTokens?.Manager : swarm.JoinTokens?.Worker;
      const remotes = (info.Swarm.RemoteManagers ?? []).flatMap((m) => (m.Addr ? [m.Addr] : []));
      if (remotes.length === 0) throw new AppError(ErrorCode.DOCKER_ERROR, 'The manager reports no manager addresses to join');
      await hostEngine.joinSwarm({
        ListenAddr: input.listenAddr ?? DEFAULT_LISTEN_ADDR,
        AdvertiseAddr: input.advertiseAddr,
        DataPathAddr: input.dataPathAddr,
        RemoteAddrs: remotes,
        JoinToken: token,
      });
      host.swarmNodeId = (await hostEngine.info()).Swarm?.NodeID ?? null;
      await em.flush();
      h.activity.result = { nodeId: host.swarmNodeId, role: input.role };
    });
    await this.syncAfter(scope, cluster, 'join');
    const node = host.swarmNodeId ? await em.findOne(SwarmNode, { cluster, nodeId: host.swarmNodeId }) : null;
    await em.refresh(cluster);
    return { cluster, node, host, activity };
  }

  /** `docker swarm leave` on a registered host (force: also a manager, at the risk of the quorum). */
  async leaveSwarm(scope: Scope, input: { hostId: string; force?: boolean }) {
    const em = scope.em;
    const host = await this.hosts.get(scope, input.hostId);
    const engine = await this.hosts.engine(scope, host);
    const nodeId = host.swarmNodeId;
    const linked = nodeId ? await em.findOne(SwarmNode, { nodeId }, { populate: ['cluster'] }) : null;
    const parameters = { ...input, hostId: hostGid(host.id) };
    const { activity } = await this.audit.run(scope, { action: 'swarm.leave', targetType: 'host', targetId: host.id, host, parameters }, async () => {
      await engine.leaveSwarm(input.force ?? false);
      host.swarmNodeId = null;
      await em.flush();
    });
    if (linked) await this.syncAfter(scope, linked.cluster, 'leave');
    return { host, activity };
  }

  /** Swarm settings (raft, dispatcher, CA, orchestration, autolock) and join-token rotation; optimistic, retried. */
  async updateSwarm(scope: Scope, id: string, input: SwarmSettingsInput) {
    const cluster = await this.get(scope, id);
    const { activity } = await this.ops.run(scope, cluster, { action: 'swarm.update', targetType: 'cluster', targetId: cluster.id, parameters: input }, async (manager) => {
      await withVersionRetry(async () => {
        const swarm = await manager.inspectSwarm();
        const spec = applySettings(structuredClone(swarm.Spec ?? {}), input);
        if (input.autolockManagers !== undefined) spec.EncryptionConfig = { ...(spec.EncryptionConfig ?? {}), AutoLockManagers: input.autolockManagers };
        await manager.updateSwarm(versionOf(swarm), spec, {
          rotateWorkerToken: input.rotateWorkerToken ?? false,
          rotateManagerToken: input.rotateManagerToken ?? false,
          rotateManagerUnlockKey: input.rotateManagerUnlockKey ?? false,
        });
      });
    });
    await this.syncAfter(scope, cluster, 'settings update');
    await scope.em.refresh(cluster);
    return { cluster, activity };
  }

  /** Live `GET /swarm` (without the join tokens). */
  async inspect(scope: Scope, cluster: SwarmCluster): Promise<Omit<SwarmInspect, 'JoinTokens'>> {
    const { JoinTokens: _tokens, ...rest } = await this.ops.read(scope, cluster, (manager) => manager.inspectSwarm());
    return rest;
  }

  /** Live `GET /networks/{id}` on the manager. */
  async inspectNetwork(scope: Scope, network: SwarmNetwork): Promise<NetworkInspect> {
    return this.ops.readOf(scope, network, (manager) => manager.inspectNetwork(network.networkId));
  }
}

/** Applies settings input to a swarm spec (Docker's field names; durations in nanoseconds). */
export function applySettings(spec: SwarmSpec, input: SwarmSettingsInput): SwarmSpec {
  if (input.taskHistoryRetentionLimit !== undefined) spec.Orchestration = { ...(spec.Orchestration ?? {}), TaskHistoryRetentionLimit: input.taskHistoryRetentionLimit };
  if (input.raft) {
    const r = input.raft;
    spec.Raft = {
      ...(spec.Raft ?? {}),
      ...(r.snapshotInterval !== undefined ? { SnapshotInterval: r.snapshotInterval } : {}),
      ...(r.keepOldSnapshots !== undefined ? { KeepOldSnapshots: r.keepOldSnapshots } : {}),
      ...(r.logEntriesForSlowFollowers !== undefined ? { LogEntriesForSlowFollowers: r.logEntriesForSlowFollowers } : {}),
      ...(r.electionTick !== undefined ? { ElectionTick: r.electionTick } : {}),
      ...(r.heartbeatTick !== undefined ? { HeartbeatTick: r.heartbeatTick } : {}),
    };
  }
  if (input.dispatcherHeartbeatPeriodSeconds !== undefined) spec.Dispatcher = { ...(spec.Dispatcher ?? {}), HeartbeatPeriod: seconds(input.dispatcherHeartbeatPeriodSeconds) };
  if (input.nodeCertExpirySeconds !== undefined) spec.CAConfig = { ...(spec.CAConfig ?? {}), NodeCertExpiry: seconds(input.nodeCertExpirySeconds) };
  return spec;
}
