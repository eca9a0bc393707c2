import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { abortable } from '../../kernel/abort';
import { AppError, ErrorCode } from '../../kernel/errors';
import { engineError, EngineSubject, hasDockerStatus } from './errors';
import { followJsonStream, JsonProgress } from './json-stream';
import { Demuxer, LogLine, logLines, openLogStream, StreamName } from './logs';
import type {
  BuildSpec,
  ContainerCreateSpec,
  ContainerInspect,
  ContainerSummary,
  DistributionInspect,
  EngineInfo,
  ExecSpec,
  Filters,
  ImageInspect,
  ImageRemoveEntry,
  ImageSummary,
  LogQuery,
  NetworkConnectSpec,
  NetworkCreateSpec,
  NetworkInspect,
  NodeInspect,
  NodeSpec,
  RegistryAuth,
  SecretInspect,
  SecretSpec,
  ServiceInspect,
  ServiceSpec,
  ServiceUpdateOptions,
  ServiceUpdateResult,
  SwarmInitRequest,
  SwarmInspect,
  SwarmJoinRequest,
  SwarmRotation,
  SwarmSpec,
  TaskInspect,
  VolumeCreateSpec,
  VolumeInspect,
  VolumePruneResult,
} from './types';

export type { EngineSubject } from './errors';

/** The two clients of a connection (src/infra/engine/connections.ts, DockerConnection). */
export interface EngineClients {
  /** Ordinary calls: idle timeout, answers capped in size. */
  api: Docker;
  /** Calls that wait or stream (stop, restart, logs, exec, pull, push, build): no idle timeout. */
  stream: Docker;
}

/** The subject of a host's calls. */
export const hostSubject = (host: { name: string }): EngineSubject => ({ name: host.name, kind: 'host' });
/** The subject of a cluster's calls (through its manager): a lost quorum is reported as such. */
export const clusterSubject = (cluster: { name: string }): EngineSubject => ({ name: cluster.name, kind: 'cluster' });

/** A Docker answer that is not the JSON object or list the Engine API documents. */
const unexpected = (what: string) => new AppError(ErrorCode.DOCKER_ERROR, `Docker: unexpected answer to ${what}`);

function objectOf<T extends object>(value: unknown, what: string): T {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw unexpected(what);
  return value as T;
}

function listOf<T extends object>(value: unknown, what: string): T[] {
  if (!Array.isArray(value)) throw unexpected(what);
  return value as T[];
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/**
 * @types/dockerode leaves out two forms dockerode accepts: a build context given as a Buffer, and
 * a service created without registry credentials (`auth` undefined: with one argument dockerode
 * sends the spec itself as X-Registry-Auth). Both are typed here, once.
 */
type BuildImage = (context: Buffer, query: Record<string, unknown>) => Promise<NodeJS.ReadableStream>;
type CreateService = (auth: RegistryAuth | undefined, spec: ServiceSpec) => Promise<Docker.Service>;

/**
 * The engine port: every Docker call the domain makes, on one engine (a host, or a cluster's
 * manager), with our own types in and out. Every call's error goes through the mapper
 * (src/infra/engine/errors.ts) exactly once — also errors a stream emits later (logs, exec
 * output, pull/push/build progress) — so callers only ever see AppErrors from Docker.
 */
export class Engine {
  constructor(
    private readonly clients: EngineClients,
    readonly subject: EngineSubject,
  ) {}

  /** Runs one Docker call (or a sequence that reads one stream) with its errors mapped. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw engineError(err, this.subject);
    }
  }

  /** A look-up whose 404 means "not there": null. */
  private async find<T>(fn: () => Promise<T>): Promise<T | null> {
    try {
      return await this.call(fn);
    } catch (err) {
      if (hasDockerStatus(err, 404)) return null;
      throw err;
    }
  }

  private get api(): Docker {
    return this.clients.api;
  }

  private get stream(): Docker {
    return this.clients.stream;
  }

  // ---------------------------------------------------------------------------------- engine

  ping(): Promise<void> {
    return this.call(async () => void (await this.api.ping()));
  }

  info(): Promise<EngineInfo> {
    return this.call(async () => objectOf<EngineInfo>(await this.api.info(), 'info'));
  }

  // ---------------------------------------------------------------------------------- containers

  /** Every container, in any state. */
  listContainers(): Promise<ContainerSummary[]> {
    return this.call(() => this.api.listContainers({ all: true }));
  }

  inspectContainer(id: string): Promise<ContainerInspect> {
    return this.call(() => this.api.getContainer(id).inspect());
  }

  /** A container by id or name, or null when the engine does not have it (any more). */
  findContainer(id: string): Promise<ContainerInspect | null> {
    return this.find(() => this.api.getContainer(id).inspect());
  }

  /** Creates a container; returns its id. */
  createContainer(spec: ContainerCreateSpec): Promise<string> {
    return this.call(async () => (await this.api.createContainer(spec)).id);
  }

  startContainer(id: string): Promise<void> {
    return this.call(async () => void (await this.api.getContainer(id).start()));
  }

  /**
   * Stop and restart answer only once the container stopped (up to its grace period `t`): they go
   * through the client without an idle timeout, bounded by `signal`.
   */
  stopContainer(id: string, t: number | undefined, signal: AbortSignal): Promise<void> {
    return this.call(async () => void (await this.stream.getContainer(id).stop({ ...(t !== undefined ? { t } : {}), abortSignal: signal })));
  }

  restartContainer(id: string, t: number | undefined, signal: AbortSignal): Promise<void> {
    return this.call(async () => void (await this.stream.getContainer(id).restart({ ...(t !== undefined ? { t } : {}), abortSignal: signal })));
  }

  pauseContainer(id: string): Promise<void> {
    return this.call(async () => void (await this.api.getContainer(id).pause()));
  }

  unpauseContainer(id: string): Promise<void> {
    return this.call(async () => void (await this.api.getContainer(id).unpause()));
  }

  killContainer(id: string): Promise<void> {
    return this.call(async () => void (await this.api.getContainer(id).kill()));
  }

  /** One sample of a container's resource use (Docker's stats with stream=false and one-shot: no second sample awaited). */
  containerStats(id: string): Promise<Docker.ContainerStats> {
    return this.call(async () => objectOf<Docker.ContainerStats>(await this.api.getContainer(id).stats({ stream: false, 'one-shot': true }), 'container stats'));
  }

  removeContainer(id: string, options: { force: boolean; removeVolumes: boolean }): Promise<void> {
    return this.call(async () => void (await this.api.getContainer(id).remove({ force: options.force, v: options.removeVolumes })));
  }

  /**
   * Runs a command in a container: `consume` reads its multiplexed output (its errors, and the
   * stream's, are mapped too); then the exit code is read.
   */
  exec<R>(id: string, spec: ExecSpec, consume: (output: NodeJS.ReadableStream) => Promise<R>): Promise<{ output: R; exitCode: number | null }> {
    return this.call(async () => {
      // create and inspect are plain answers (capped, with a timeout); only the output is a stream
      const created = await this.api.getContainer(id).exec(spec);
      const output = await consume(await this.stream.getExec(created.id).start({ hijack: true, stdin: false }));
      const info = await this.api.getExec(created.id).inspect();
      return { output, exitCode: info.ExitCode ?? null };
    });
  }

  /**
   * A container's log lines, stdout and stderr demultiplexed (raw for a TTY container), always
   * read as a stream. Closing the iterator destroys the Docker stream; a failure of the stream
   * ends the iteration with the mapped error.
   */
  containerLogs(id: string, query: LogQuery): Promise<AsyncIterable<LogLine>> {
    return this.call(async () => {
      const tty = Boolean((await this.api.getContainer(id).inspect()).Config?.Tty);
      const options = { stdout: true, stderr: true, timestamps: true, tail: query.tail, follow: query.follow, since: query.since };
      const stream = await openLogStream(this.stream, `/containers/${encodeURIComponent(id)}/logs`, options, { 404: 'no such container', 500: 'server error' });
      return logLines(stream, tty, (l) => l, this.streamError);
    });
  }

  /**
   * A stopped container's whole output as raw demultiplexed chunks (no line framing, no
   * timestamps), each handed to `onChunk` as it is read: the caller keeps what it wants and
   * counts the rest, so an output of gigabytes (or one endless line) costs one chunk at a time.
   */
  /**
   * A container's whole output so far (not followed), chunk by chunk. With `signal`, given up
   * when it aborts, at any step: an engine that never answers, or trickles its logs, holds nothing.
   */
  containerOutput(id: string, onChunk: (stream: StreamName, data: Buffer) => void, signal?: AbortSignal): Promise<void> {
    return this.call(() =>
      abortable(
        (async () => {
          const tty = Boolean((await this.api.getContainer(id).inspect()).Config?.Tty);
          const stream = (await openLogStream(
            this.stream,
            `/containers/${encodeURIComponent(id)}/logs`,
            { stdout: true, stderr: true, follow: false },
            { 404: 'no such container', 500: 'server error' },
          )) as Readable;
          const cancel = () => void stream.destroy();
          if (signal?.aborted) return cancel();
          signal?.addEventListener('abort', cancel, { once: true });
          try {
            const demux = new Demuxer(tty);
            for await (const chunk of stream as AsyncIterable<Buffer>) for (const frame of demux.push(chunk)) onChunk(frame.stream, frame.data);
          } finally {
            signal?.removeEventListener('abort', cancel);
          }
        })(),
        signal,
      ),
    );
  }

  // ---------------------------------------------------------------------------------- images

  listImages(): Promise<ImageSummary[]> {
    return this.call(() => this.api.listImages({ all: false }));
  }

  inspectImage(ref: string): Promise<ImageInspect> {
    return this.call(() => this.api.getImage(ref).inspect());
  }

  /** An image by reference, or null when the engine does not have it. */
  findImage(ref: string): Promise<ImageInspect | null> {
    return this.find(() => this.api.getImage(ref).inspect());
  }

  /** Pulls an image, handing each progress line to `onProgress`; rejects with the first error Docker reports in the stream. */
  pullImage(ref: string, options: { auth?: RegistryAuth; platform?: string }, onProgress: (line: JsonProgress) => void): Promise<void> {
    return this.call(async () => {
      const stream = await this.stream.pull(ref, { authconfig: options.auth, ...(options.platform ? { platform: options.platform } : {}) });
      await followJsonStream(stream, onProgress);
    });
  }

  pushImage(name: string, options: { tag?: string; auth?: RegistryAuth }, onProgress: (line: JsonProgress) => void): Promise<void> {
    return this.call(async () => {
      const stream = await this.stream.getImage(name).push({ tag: options.tag, authconfig: options.auth });
      await followJsonStream(stream, onProgress);
    });
  }

  tagImage(ref: string, repo: string, tag: string): Promise<void> {
    return this.call(async () => void (await this.api.getImage(ref).tag({ repo, tag })));
  }

  removeImage(ref: string, options: { force: boolean; noPrune: boolean }): Promise<ImageRemoveEntry[]> {
    return this.call(async () => listOf<ImageRemoveEntry>(await this.api.getImage(ref).remove({ force: options.force, noprune: options.noPrune }), 'image remove'));
  }

  /** Builds an image from a tar context (rm and forcerm: no intermediate containers stay), handing each output line to `onLine`. */
  buildImage(context: Buffer, spec: BuildSpec, onLine: (line: JsonProgress) => void): Promise<void> {
    const json = (o: Record<string, string> | undefined) => (o ? JSON.stringify(o) : undefined);
    const query = {
      dockerfile: spec.dockerfile,
      t: spec.tags,
      buildargs: json(spec.buildArgs),
      labels: json(spec.labels),
      nocache: spec.noCache,
      pull: spec.pull ? '1' : undefined,
      rm: true,
      forcerm: true,
    };
    return this.call(async () => {
      const build = this.stream.buildImage as unknown as BuildImage;
      await followJsonStream(await build.call(this.stream, context, query), onLine);
    });
  }

  /** The registry's descriptor of an image (what `docker service create` pins the digest with). */
  imageDistribution(ref: string): Promise<DistributionInspect> {
    return this.call(async () => objectOf<DistributionInspect>(await this.api.getImage(ref).distribution(), 'distribution'));
  }

  // ---------------------------------------------------------------------------------- networks

  listNetworks(filters?: Filters): Promise<NetworkInspect[]> {
    return this.call(() => this.api.listNetworks(filters ? { filters } : {}));
  }

  inspectNetwork(ref: string): Promise<NetworkInspect> {
    return this.call(() => this.api.getNetwork(ref).inspect());
  }

  /** A network by name or id, or null when the engine has none. */
  findNetwork(ref: string): Promise<NetworkInspect | null> {
    return this.find(() => this.api.getNetwork(ref).inspect());
  }

  /** Creates a network; returns its id. */
  createNetwork(spec: NetworkCreateSpec): Promise<string> {
    return this.call(async () => (await this.api.createNetwork(spec)).id);
  }

  removeNetwork(ref: string): Promise<void> {
    return this.call(async () => void (await this.api.getNetwork(ref).remove()));
  }

  connectNetwork(ref: string, spec: NetworkConnectSpec): Promise<void> {
    return this.call(async () => void (await this.api.getNetwork(ref).connect(spec)));
  }

  disconnectNetwork(ref: string, container: string, force: boolean): Promise<void> {
    return this.call(async () => void (await this.api.getNetwork(ref).disconnect({ Container: container, Force: force })));
  }

  // ---------------------------------------------------------------------------------- volumes

  listVolumes(filters?: Filters): Promise<VolumeInspect[]> {
    return this.call(async () => (await this.api.listVolumes(filters ? { filters } : {})).Volumes ?? []);
  }

  inspectVolume(name: string): Promise<VolumeInspect> {
    return this.call(() => this.api.getVolume(name).inspect());
  }

  /** A volume by name, or null when the engine has none. */
  findVolume(name: string): Promise<VolumeInspect | null> {
    return this.find(() => this.api.getVolume(name).inspect());
  }

  /** Creates a volume; returns its inspect. */
  createVolume(spec: VolumeCreateSpec): Promise<VolumeInspect> {
    return this.call(async () => (await this.api.createVolume(spec)).inspect());
  }

  removeVolume(name: string, force: boolean): Promise<void> {
    return this.call(async () => void (await this.api.getVolume(name).remove({ force })));
  }

  pruneVolumes(filters?: Filters): Promise<VolumePruneResult> {
    return this.call(() => this.api.pruneVolumes(filters ? { filters } : {}));
  }

  // ---------------------------------------------------------------------------------- swarm

  inspectSwarm(): Promise<SwarmInspect> {
    return this.call(async () => objectOf<SwarmInspect>(await this.api.swarmInspect(), 'swarm inspect'));
  }

  initSwarm(request: SwarmInitRequest): Promise<void> {
    return this.call(async () => void (await this.api.swarmInit(request)));
  }

  joinSwarm(request: SwarmJoinRequest): Promise<void> {
    return this.call(async () => void (await this.api.swarmJoin(request)));
  }

  leaveSwarm(force: boolean): Promise<void> {
    return this.call(async () => void (await this.api.swarmLeave({ force })));
  }

  /** Sends the whole swarm spec with the version it was read at (Docker refuses a stale one: "update out of sequence"). */
  updateSwarm(version: number, spec: SwarmSpec, rotation: SwarmRotation): Promise<void> {
    return this.call(async () => void (await this.api.swarmUpdate({ _query: { version, ...rotation }, _body: spec })));
  }

  // ---------------------------------------------------------------------------------- nodes

  listNodes(): Promise<NodeInspect[]> {
    return this.call(async () => listOf<NodeInspect>(await this.api.listNodes(), 'node list'));
  }

  inspectNode(id: string): Promise<NodeInspect> {
    return this.call(async () => objectOf<NodeInspect>(await this.api.getNode(id).inspect(), 'node inspect'));
  }

  updateNode(id: string, version: number, spec: NodeSpec): Promise<void> {
    return this.call(async () => void (await this.api.getNode(id).update({ _query: { version }, _body: spec })));
  }

  removeNode(id: string, force: boolean): Promise<void> {
    return this.call(async () => void (await this.api.getNode(id).remove({ force })));
  }

  // ---------------------------------------------------------------------------------- services and tasks

  /** Services (with `status`: running/desired counts; with `filters`: Docker's, e.g. { label: ['k=v'] }). */
  listServices(options: { status?: boolean; filters?: Filters } = {}): Promise<ServiceInspect[]> {
    return this.call(async () => listOf<ServiceInspect>(await this.api.listServices(options), 'service list'));
  }

  inspectService(id: string): Promise<ServiceInspect> {
    return this.call(async () => objectOf<ServiceInspect>(await this.api.getService(id).inspect(), 'service inspect'));
  }

  /** Creates a service without registry credentials; returns its id. */
  createService(spec: ServiceSpec): Promise<string> {
    return this.call(async () => {
      const create = this.api.createService as unknown as CreateService;
      return (await create.call(this.api, undefined, spec)).id;
    });
  }

  /** Sends the whole spec with the version it was read at (or asks Docker's rollback to PreviousSpec). */
  updateService(id: string, version: number, spec: ServiceSpec, options: ServiceUpdateOptions = {}): Promise<ServiceUpdateResult> {
    return this.call(async () => {
      const res: unknown = await this.api.getService(id).update({ _query: { version, ...options }, _body: spec });
      return res && typeof res === 'object' ? (res as ServiceUpdateResult) : {};
    });
  }

  removeService(id: string): Promise<void> {
    return this.call(async () => void (await this.api.getService(id).remove()));
  }

  /** Lines of every task of a service (Docker's service logs, with details), demultiplexed, each passed through `map`. */
  serviceLogs<T>(id: string, query: LogQuery, map: (line: LogLine) => T): Promise<AsyncIterable<T>> {
    return this.call(async () => {
      const options = { stdout: true, stderr: true, timestamps: true, details: true, follow: query.follow, tail: query.tail };
      const stream = await openLogStream(this.stream, `/services/${encodeURIComponent(id)}/logs`, options, { 404: 'no such service', 500: 'server error', 503: 'node is not part of a swarm' });
      return logLines(stream, false, map, this.streamError);
    });
  }

  listTasks(filters: Filters): Promise<TaskInspect[]> {
    return this.call(async () => listOf<TaskInspect>(await this.api.listTasks({ filters }), 'task list'));
  }

  // ---------------------------------------------------------------------------------- secrets and configs

  listSecrets(): Promise<SecretInspect[]> {
    return this.call(async () => listOf<SecretInspect>(await this.api.listSecrets(), 'secret list'));
  }

  inspectSecret(id: string): Promise<SecretInspect> {
    return this.call(async () => objectOf<SecretInspect>(await this.api.getSecret(id).inspect(), 'secret inspect'));
  }

  /** Creates a secret (Data: base64); returns its id. */
  createSecret(spec: SecretSpec): Promise<string> {
    return this.call(async () => objectOf<{ id: string }>(await this.api.createSecret(spec), 'secret create').id);
  }

  updateSecret(id: string, version: number, spec: SecretSpec): Promise<void> {
    return this.call(async () => void (await this.api.getSecret(id).update({ _query: { version }, _body: spec })));
  }

  removeSecret(id: string): Promise<void> {
    return this.call(async () => void (await this.api.getSecret(id).remove()));
  }

  listConfigs(): Promise<SecretInspect[]> {
    return this.call(async () => listOf<SecretInspect>(await this.api.listConfigs(), 'config list'));
  }

  inspectConfig(id: string): Promise<SecretInspect> {
    return this.call(async () => objectOf<SecretInspect>(await this.api.getConfig(id).inspect(), 'config inspect'));
  }

  /** Creates a config (Data: base64); returns its id. */
  createConfig(spec: SecretSpec): Promise<string> {
    return this.call(async () => objectOf<{ id: string }>(await this.api.createConfig(spec), 'config create').id);
  }

  removeConfig(id: string): Promise<void> {
    return this.call(async () => void (await this.api.getConfig(id).remove()));
  }

  /** An error a stream emits after it was opened (logs), mapped like any call's. */
  private readonly streamError = (err: unknown): Error => asError(engineError(err, this.subject));
}
