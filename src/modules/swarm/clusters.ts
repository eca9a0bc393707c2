import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { DockerHost, HostStatus, SwarmCluster, SwarmNetwork, SwarmNode, SwarmNodeRole } from '../../../entities';
import { AppError, ErrorCode, badInput, conflict, notFound } from '../../kernel/errors';
import { expectGlobalId } from '../../graphql/relay';
import type { Context } from '../../graphql/context';
import { runActivity } from '../../platform/audit/activity';
import type { SecretBox } from '../../infra/crypto';
import { credentialsOf, isDockerFailure, parseEndpoint, TlsCredentials, toDockerError } from '../../infra/engine/client';
import type { DockerConnections } from '../../infra/engine/connections';
import { releaseClaims, saveWithClaim } from '../../infra/engine/claims';
import type { SyncDeps } from '../../platform/supervision/deps';
import { setMaintenance, reconnect } from '../../platform/supervision/status';
import type { LeasedFleet } from '../../platform/leasing/leased-fleet';
import { ClusterSupervisor } from './supervisor';
import { seconds, toSwarmError, withVersionRetry } from './docker';
import { clusterOperation, clusterRead } from './operation';
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

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const PEM = /-----BEGIN [A-Z0-9 ]+-----[\s\S]+-----END [A-Z0-9 ]+-----/;
export const DEFAULT_LISTEN_ADDR = '0.0.0.0:2377';

/** Clusters (registration, settings, sync) and the swarm lifecycle of hosts (init, join, leave, update). */
export class SwarmManager {
  constructor(
    private readonly secrets: SecretBox,
    private readonly connections: DockerConnections,
    readonly fleet: LeasedFleet<ClusterSupervisor>,
    private readonly syncDeps: SyncDeps,
  ) {}

  async get(ctx: Context, globalId: string, field = 'clusterId'): Promise<SwarmCluster> {
    const id = expectGlobalId(globalId, 'SwarmCluster', field);
    const cluster = await ctx.em.findOne(SwarmCluster, id);
    if (!cluster) throw notFound('SwarmCluster', globalId);
    return cluster;
  }

  async register(ctx: Context, input: ClusterInput & { name: string; managerEndpoint: string }) {
    this.validate(input, true);
    if (await ctx.em.count(SwarmCluster, { name: input.name })) throw conflict(`A cluster named "${input.name}" already exists`, { field: 'name' });
    const accountId = ctx.membership!.accountId;
    // first contact: a refused endpoint or a swarm (or engine) of another account leaves nothing stored
    const identity = await this.connections.probe(ctx.em, accountId, input.managerEndpoint, input.tlsVerify ?? false, credentialsOf(input.tlsCredentials), 'managerEndpoint');
    const { result: cluster, activity } = await runActivity(ctx, { action: 'cluster.register', targetType: 'cluster', targetId: input.name, parameters: input }, async (h) => {
      const cluster = ctx.em.create(SwarmCluster, {
        account: ctx.membership!.accountId,
        name: input.name,
        managerEndpoint: input.managerEndpoint,
        tlsVerify: input.tlsVerify ?? false,
        syncIntervalSeconds: input.syncIntervalSeconds ?? 60,
        status: HostStatus.PENDING,
      } as never);
      this.applyCredentials(cluster, input.tlsCredentials);
      await saveWithClaim(ctx.em, accountId, { column: 'cluster_id', id: cluster.id }, identity, 'managerEndpoint', () => this.flushUnique(ctx, input.name));
      h.setCluster(cluster);
      h.setTarget(cluster.id);
      return cluster;
    });
    await this.fleet.notify(cluster.id);
    return { cluster, activity };
  }

  async update(ctx: Context, globalId: string, input: ClusterInput) {
    const cluster = await this.get(ctx, globalId, 'id');
    this.validate({ managerEndpoint: cluster.managerEndpoint, tlsVerify: cluster.tlsVerify, ...input }, false);
    if (input.tlsVerify ?? cluster.tlsVerify) {
      const creds = input.tlsCredentials;
      const complete = creds === undefined ? Boolean(cluster.tlsKeyId) : Boolean(creds?.ca && creds.cert && creds.key);
      if (!complete) throw badInput('tlsCredentials', 'ca, cert and key are all required when tlsVerify is true');
    }
    if (input.name && input.name !== cluster.name && (await ctx.em.count(SwarmCluster, { name: input.name, id: { $ne: cluster.id } }))) {
      throw conflict(`A cluster named "${input.name}" already exists`, { field: 'name' });
    }
    const connectionChanged =
      (input.managerEndpoint !== undefined && input.managerEndpoint !== cluster.managerEndpoint) || (input.tlsVerify !== undefined && input.tlsVerify !== cluster.tlsVerify) || input.tlsCredentials !== undefined;
    const identity = connectionChanged
      ? await this.connections.probe(
          ctx.em,
          cluster.account.id,
          input.managerEndpoint ?? cluster.managerEndpoint,
          input.tlsVerify ?? cluster.tlsVerify,
          input.tlsCredentials === undefined ? await this.connections.storedCredentials(ctx.em, SwarmCluster, cluster.id) : credentialsOf(input.tlsCredentials),
          'managerEndpoint',
        )
      : undefined;
    const { activity } = await runActivity(ctx, { action: 'cluster.update', targetType: 'cluster', targetId: cluster.id, cluster, parameters: input }, async () => {
      if (input.name) cluster.name = input.name;
      if (input.syncIntervalSeconds !== undefined) cluster.syncIntervalSeconds = input.syncIntervalSeconds;
      if (input.managerEndpoint !== undefined) cluster.managerEndpoint = input.managerEndpoint;
      if (input.tlsVerify !== undefined) cluster.tlsVerify = input.tlsVerify;
      if (input.tlsCredentials !== undefined) this.applyCredentials(cluster, input.tlsCredentials);
      if (connectionChanged) {
        cluster.connectionRevision += 1;
        reconnect(cluster);
        this.connections.forget(cluster.id);
      }
      await saveWithClaim(ctx.em, cluster.account.id, { column: 'cluster_id', id: cluster.id }, identity, 'managerEndpoint', () => this.flushUnique(ctx, cluster.name));
    });
    await this.fleet.notify(cluster.id);
    return { cluster, activity };
  }

  async remove(ctx: Context, globalId: string) {
    const cluster = await this.get(ctx, globalId, 'id');
    const { activity } = await runActivity(ctx, { action: 'cluster.remove', targetType: 'cluster', targetId: cluster.id, parameters: { id: globalId, name: cluster.name } }, async () => {
      await this.fleet.supervisor(cluster.id)?.stop();
      ctx.em.remove(cluster);
      await ctx.em.flush();
      this.connections.forget(cluster.id);
      await releaseClaims(ctx.em, cluster.account.id);
    });
    await this.fleet.notify(cluster.id);
    return { removedId: globalId, activity };
  }

  async setMaintenance(ctx: Context, globalId: string, on: boolean) {
    const cluster = await this.get(ctx, globalId, 'id');
    const { activity } = await runActivity(ctx, { action: on ? 'cluster.maintenance.enter' : 'cluster.maintenance.exit', targetType: 'cluster', targetId: cluster.id, cluster, parameters: { id: globalId, maintenance: on } }, async () => {
      setMaintenance(cluster, on);
      await ctx.em.flush();
    });
    await this.fleet.notify(cluster.id);
    return { cluster, activity };
  }

  /** Full sync now: through the local supervisor when this replica runs it (ordered with events), else one-shot. */
  async sync(ctx: Context, globalId: string) {
    const cluster = await this.get(ctx, globalId, 'id');
    if (cluster.status === HostStatus.MAINTENANCE) throw conflict(`Cluster "${cluster.name}" is in maintenance: no syncing until it is cleared`);
    const { result, activity } = await runActivity(ctx, { action: 'cluster.sync', targetType: 'cluster', targetId: cluster.id, cluster, parameters: { id: globalId } }, async (h) => {
      const r = await this.syncNow(cluster).catch((err) => {
        throw isDockerFailure(err) ? toSwarmError(err, cluster) : err;
      });
      h.activity.result = { nodes: r.nodes, services: r.services, secrets: r.secrets, configs: r.configs, networks: r.networks, changes: r.changes.length };
      return r;
    });
    await ctx.em.refresh(cluster);
    return { cluster, activity, result };
  }

  /** Runs a sync of a cluster in order with its events (or one-shot when no local supervisor runs it). */
  syncNow(cluster: SwarmCluster): Promise<ClusterSyncResult> {
    const supervisor = this.fleet.supervisor(cluster.id) ?? new ClusterSupervisor(this.syncDeps, cluster.id, cluster.account.id);
    return supervisor.syncNow();
  }

  /** Join tokens, read live from the manager (never stored). */
  async joinTokens(ctx: Context, cluster: SwarmCluster): Promise<{ worker: string; manager: string }> {
    const swarm = await clusterRead(ctx, cluster, (api) => api.swarmInspect());
    return { worker: swarm.JoinTokens?.Worker ?? '', manager: swarm.JoinTokens?.Manager ?? '' };
  }

  /** `docker swarm init` on a registered host; registers the new cluster with the host's endpoint and credentials. */
  async initSwarm(ctx: Context, input: InitSwarmInput) {
    const host = await ctx.services.hosts.get(ctx, input.hostId, 'hostId');
    this.validate({ name: input.name, syncIntervalSeconds: input.syncIntervalSeconds }, false);
    if (await ctx.em.count(SwarmCluster, { name: input.name })) throw conflict(`A cluster named "${input.name}" already exists`, { field: 'name' });
    const { api } = await ctx.services.hosts.connection(ctx, host);
    const { result: cluster, activity } = await runActivity(ctx, { action: 'swarm.init', targetType: 'cluster', targetId: input.name, host, parameters: input }, async (h) => {
      await api.swarmInit({
        ListenAddr: input.listenAddr ?? DEFAULT_LISTEN_ADDR,
        AdvertiseAddr: input.advertiseAddr,
        DataPathAddr: input.dataPathAddr,
        ForceNewCluster: input.forceNewCluster ?? false,
        DefaultAddrPool: input.defaultAddrPool,
        Spec: applySettings({}, input),
        AutoLockManagers: input.autolockManagers,
      } as never);
      const info = await managerInfo(api);
      host.swarmNodeId = info.Swarm.NodeID;
      const sealed = host.tlsKeyId ? (await ctx.em.findOne(DockerHost, host.id, { fields: ['tlsCredentialsSealed'] as never, disableIdentityMap: true }))?.tlsCredentialsSealed : null;
      const cluster = ctx.em.create(SwarmCluster, {
        account: ctx.membership!.accountId,
        name: input.name,
        managerEndpoint: host.apiEndpoint,
        tlsVerify: host.tlsVerify,
        tlsCredentialsSealed: sealed ?? null,
        tlsKeyId: sealed ? host.tlsKeyId : null,
        syncIntervalSeconds: input.syncIntervalSeconds ?? 60,
        swarmId: info.Swarm.Cluster?.ID ?? null,
        status: HostStatus.PENDING,
      } as never);
      await this.flushUnique(ctx, input.name);
      h.setCluster(cluster);
      h.setTarget(cluster.id);
      h.activity.result = { swarmId: cluster.swarmId, nodeId: info.Swarm.NodeID };
      return cluster;
    });
    await this.fleet.notify(cluster.id);
    await this.syncNow(cluster).catch((err) => ctx.logger.warn({ err }, 'first cluster sync failed'));
    await ctx.em.refresh(cluster);
    return { cluster, activity };
  }

  /** Joins a registered host to a cluster as worker or manager, with the token read from the cluster's manager. */
  async joinSwarm(ctx: Context, input: { hostId: string; clusterId: string; role: SwarmNodeRole; listenAddr?: string; advertiseAddr?: string; dataPathAddr?: string }) {
    const host = await ctx.services.hosts.get(ctx, input.hostId, 'hostId');
    const cluster = await this.get(ctx, input.clusterId);
    const hostApi = (await ctx.services.hosts.connection(ctx, host)).api;
    const { activity } = await clusterOperation(ctx, cluster, { action: 'swarm.join', targetType: 'host', targetId: host.id, host, parameters: input }, async (api, h) => {
      const [swarm, info] = await Promise.all([api.swarmInspect(), managerInfo(api)]);
      const token = input.role === SwarmNodeRole.MANAGER ? swarm.JoinTokens?.Manager : swarm.JoinTokens?.Worker;
      const remotes: string[] = (info.Swarm.RemoteManagers ?? []).map((m: { Addr: string }) => m.Addr);
      if (remotes.length === 0) throw new AppError(ErrorCode.DOCKER_ERROR, 'The manager reports no manager addresses to join');
      try {
        await hostApi.swarmJoin({ ListenAddr: input.listenAddr ?? DEFAULT_LISTEN_ADDR, AdvertiseAddr: input.advertiseAddr, DataPathAddr: input.dataPathAddr, RemoteAddrs: remotes, JoinToken: token } as never);
        const hostInfo = (await hostApi.info()) as { Swarm?: { NodeID?: string } };
        host.swarmNodeId = hostInfo.Swarm?.NodeID ?? null;
      } catch (err) {
        throw toDockerError(err, host.name);
      }
      await ctx.em.flush();
      h.activity.result = { nodeId: host.swarmNodeId, role: input.role };
    });
    await this.syncNow(cluster).catch((err) => ctx.logger.warn({ err }, 'cluster sync after join failed'));
    const node = host.swarmNodeId ? await ctx.em.findOne(SwarmNode, { cluster, nodeId: host.swarmNodeId }) : null;
    await ctx.em.refresh(cluster);
    return { cluster, node, host, activity };
  }

  /** `docker swarm leave` on a registered host (force: also a manager, at the risk of the quorum). */
  async leaveSwarm(ctx: Context, input: { hostId: string; force?: boolean }) {
    const host = await ctx.services.hosts.get(ctx, input.hostId, 'hostId');
    const { api } = await ctx.services.hosts.connection(ctx, host);
    const nodeId = host.swarmNodeId;
    const linked = nodeId ? await ctx.em.findOne(SwarmNode, { nodeId }, { populate: ['cluster'] }) : null;
    const { activity } = await runActivity(ctx, { action: 'swarm.leave', targetType: 'host', targetId: host.id, host, parameters: input }, async () => {
      await api.swarmLeave({ force: input.force ?? false });
      host.swarmNodeId = null;
      await ctx.em.flush();
    });
    if (linked) await this.syncNow(linked.cluster).catch(() => undefined);
    return { host, activity };
  }

  /** Swarm settings (raft, dispatcher, CA, orchestration, autolock) and join-token rotation; optimistic, retried. */
  async updateSwarm(ctx: Context, globalId: string, input: SwarmSettingsInput) {
    const cluster = await this.get(ctx, globalId);
    const { activity } = await clusterOperation(ctx, cluster, { action: 'swarm.update', targetType: 'cluster', targetId: cluster.id, parameters: input }, async (api) => {
      await withVersionRetry(async () => {
        const swarm = await api.swarmInspect();
        const spec = applySettings(structuredClone(swarm.Spec ?? {}), input);
        if (input.autolockManagers !== undefined) spec.EncryptionConfig = { ...(spec.EncryptionConfig ?? {}), AutoLockManagers: input.autolockManagers };
        await api.swarmUpdate({
          _query: {
            version: swarm.Version.Index,
            rotateWorkerToken: input.rotateWorkerToken ?? false,
            rotateManagerToken: input.rotateManagerToken ?? false,
            rotateManagerUnlockKey: input.rotateManagerUnlockKey ?? false,
          },
          _body: spec,
        } as never);
      });
    });
    await this.syncNow(cluster).catch(() => undefined);
    await ctx.em.refresh(cluster);
    return { cluster, activity };
  }

  /** Live `GET /swarm` (without the join tokens). */
  async inspect(ctx: Context, cluster: SwarmCluster): Promise<Record<string, unknown>> {
    const swarm = (await clusterRead(ctx, cluster, (api) => api.swarmInspect())) as Record<string, unknown>;
    const { JoinTokens: _tokens, ...rest } = swarm;
    return rest;
  }

  /** Live `GET /networks/{id}` on the manager. */
  inspectNetwork(ctx: Context, network: SwarmNetwork): Promise<Record<string, unknown>> {
    return clusterRead(ctx, network.cluster as SwarmCluster, (api) => api.getNetwork(network.networkId).inspect() as unknown as Promise<Record<string, unknown>>);
  }

  private applyCredentials(cluster: SwarmCluster, creds: TlsCredentials | null | undefined): void {
    if (creds === undefined) return;
    if (creds === null || (!creds.ca && !creds.cert && !creds.key)) {
      cluster.tlsCredentialsSealed = null;
      cluster.tlsKeyId = null;
      return;
    }
    cluster.tlsCredentialsSealed = this.secrets.seal(JSON.stringify({ ca: creds.ca, cert: creds.cert, key: creds.key }));
    cluster.tlsKeyId = this.secrets.keyId;
  }

  private validate(input: ClusterInput, creating: boolean): void {
    if (input.name !== undefined && !NAME.test(input.name)) throw badInput('name', 'must be 1–100 letters, digits, ".", "_" or "-", starting with a letter or digit');
    if (input.syncIntervalSeconds !== undefined && (!Number.isInteger(input.syncIntervalSeconds) || input.syncIntervalSeconds < 5 || input.syncIntervalSeconds > 3600)) {
      throw badInput('syncIntervalSeconds', 'must be an integer from 5 to 3600');
    }
    const creds = input.tlsCredentials;
    if (creds) {
      for (const k of ['ca', 'cert', 'key'] as const) if (creds[k] && !PEM.test(creds[k]!)) throw badInput(`tlsCredentials.${k}`, 'must be PEM text');
    }
    if (input.managerEndpoint !== undefined) {
      const endpoint = parseEndpoint(input.managerEndpoint, input.tlsVerify ?? false, 'managerEndpoint');
      if (input.tlsVerify && endpoint.kind === 'unix') throw badInput('tlsVerify', 'does not apply to unix sockets');
      if (creating && input.tlsVerify && (!creds?.ca || !creds.cert || !creds.key)) throw badInput('tlsCredentials', 'ca, cert and key are all required when tlsVerify is true');
    }
  }

  private async flushUnique(ctx: Context, name: string): Promise<void> {
    try {
      await ctx.em.flush();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw conflict(`A cluster named "${name}" already exists`, { field: 'name' });
      throw err;
    }
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Spec = Record<string, any>;

/** Applies settings input to a swarm spec (Docker's field names; durations in nanoseconds). */
export function applySettings(spec: Spec, input: SwarmSettingsInput): Spec {
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
