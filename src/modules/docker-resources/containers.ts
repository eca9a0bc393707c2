import { DockerContainer, DockerHost } from '../../../entities';
import { AppError, ErrorCode, badInput } from '../../kernel/errors';
import { toGlobalId } from '../../kernel/ids';
import type { Scope } from '../../kernel/scope';
import { rowFromInspect, upsertContainers } from '../hosts';
import type { HostOperations } from './operations';
import { containerHostAccess, HostAccessSpec, hostAccessOfRunningContainer } from '../../platform/policy/host-access';
import { HostAccessGuard, mayAccessHost } from '../../platform/policy/enforce';
import { Demuxer, LogLine } from '../../infra/engine/logs';
import { utf8Boundary } from '../../infra/engine/framing';
import { hasDockerStatus } from '../../infra/engine/errors';
import type { ContainerCreateSpec, ContainerInspect } from '../../infra/engine/types';

export interface PortInput {
  containerPort: number;
  hostPort?: number | null;
  protocol?: string | null;
  hostIp?: string | null;
}

export interface HealthcheckInput {
  test: string[];
  intervalSeconds?: number | null;
  timeoutSeconds?: number | null;
  retries?: number | null;
  startPeriodSeconds?: number | null;
}

export interface CreateContainerInput {
  name?: string | null;
  image: string;
  command?: string[] | null;
  entrypoint?: string[] | null;
  env?: string[] | null;
  labels?: Record<string, unknown> | null;
  workingDir?: string | null;
  user?: string | null;
  tty?: boolean | null;
  ports?: PortInput[] | null;
  binds?: string[] | null;
  networkMode?: string | null;
  pidMode?: string | null;
  ipcMode?: string | null;
  privileged?: boolean | null;
  capAdd?: string[] | null;
  capDrop?: string[] | null;
  restartPolicy?: string | null;
  memoryBytes?: number | null;
  nanoCpus?: number | null;
  healthcheck?: HealthcheckInput | null;
  autoRemove?: boolean | null;
  start?: boolean | null;
}

export interface ExecInput {
  command: string[];
  env?: string[] | null;
  workingDir?: string | null;
  user?: string | null;
  timeoutSeconds?: number | null;
}

export interface ExecResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
}

export interface LogsOptions {
  follow?: boolean | null;
  tail?: number | null;
  since?: Date | null;
}

const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const RESTART_POLICIES = new Set(['no', 'always', 'unless-stopped', 'on-failure']);
/** Output kept per stream from an exec (the rest is dropped and `truncated` set). */
export const EXEC_OUTPUT_LIMIT = 1024 * 1024;
export const EXEC_TIMEOUT_DEFAULT_S = 60;
export const EXEC_TIMEOUT_MAX_S = 3600;
export const LOG_TAIL_MAX = 10_000;
const SECOND_NS = 1_000_000_000;

/** Builds Docker's create body from our input (field names as in the Engine API). */
export function createOptions(input: CreateContainerInput): ContainerCreateSpec {
  if (!input.image?.trim()) throw badInput('image', 'is required');
  if (input.name != null && !CONTAINER_NAME.test(input.name)) throw badInput('name', 'must be letters, digits, "_", "." or "-" (1–128), starting with a letter or digit');
  const restart = input.restartPolicy ?? 'no';
  const [policy, retries] = restart.split(':');
  if (!RESTART_POLICIES.has(policy) || (retries !== undefined && (policy !== 'on-failure' || !/^\d+$/.test(retries)))) {
    throw badInput('restartPolicy', 'must be no, always, unless-stopped, on-failure or on-failure:N');
  }
  for (const e of input.env ?? []) if (!/^[^=]+=/.test(e)) throw badInput('env', `entries look like NAME=value (got "${e.split('=')[0]}")`);
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostPort: string; HostIp?: string }>> = {};
  for (const p of input.ports ?? []) {
    const proto = (p.protocol ?? 'tcp').toLowerCase();
    if (!['tcp', 'udp', 'sctp'].includes(proto)) throw badInput('ports.protocol', 'must be tcp, udp or sctp');
    if (!Number.isInteger(p.containerPort) || p.containerPort < 1 || p.containerPort > 65535) throw badInput('ports.containerPort', 'must be 1–65535');
    if (p.hostPort != null && (!Number.isInteger(p.hostPort) || p.hostPort < 0 || p.hostPort > 65535)) throw badInput('ports.hostPort', 'must be 0–65535 (0: any free port)');
    const key = `${p.containerPort}/${proto}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostPort: p.hostPort != null ? String(p.hostPort) : '', ...(p.hostIp ? { HostIp: p.hostIp } : {}) });
  }
  const hc = input.healthcheck;
  const labels = Object.fromEntries(Object.entries(input.labels ?? {}).map(([k, v]) => [k, String(v)]));
  // fleetgraph's own labels say which containers are container instances (whose values are write-only)
  for (const k of Object.keys(labels)) if (k.toLowerCase().startsWith('fleetgraph.')) throw badInput('labels', 'labels starting with "fleetgraph." are set by fleetgraph');
  return {
    name: input.name ?? undefined,
    Image: input.image.trim(),
    Cmd: input.command ?? undefined,
    Entrypoint: input.entrypoint ?? undefined,
    Env: input.env ?? undefined,
    Labels: labels,
    WorkingDir: input.workingDir ?? undefined,
    User: input.user ?? undefined,
    Tty: input.tty ?? false,
    ExposedPorts: exposed,
    Healthcheck: hc
      ? {
          Test: hc.test[0] === 'NONE' || hc.test[0] === 'CMD' || hc.test[0] === 'CMD-SHELL' ? hc.test : ['CMD-SHELL', hc.test.join(' ')],
          Interval: (hc.intervalSeconds ?? 30) * SECOND_NS,
          Timeout: (hc.timeoutSeconds ?? 30) * SECOND_NS,
          Retries: hc.retries ?? 3,
          StartPeriod: (hc.startPeriodSeconds ?? 0) * SECOND_NS,
        }
      : undefined,
    HostConfig: {
      PortBindings: bindings,
      Binds: input.binds ?? undefined,
      NetworkMode: input.networkMode ?? undefined,
      PidMode: input.pidMode ?? undefined,
      IpcMode: input.ipcMode ?? undefined,
      Privileged: input.privileged ?? false,
      CapAdd: input.capAdd ?? undefined,
      CapDrop: input.capDrop ?? undefined,
      RestartPolicy: { Name: policy, MaximumRetryCount: retries ? Number(retries) : 0 },
      Memory: input.memoryBytes ?? undefined,
      NanoCpus: input.nanoCpus ?? undefined,
      AutoRemove: input.autoRemove ?? false,
    },
  };
}

/** Stores what Docker now says about one container and returns the row. */
async function storeInspect(scope: Scope, host: DockerHost, info: ContainerInspect): Promise<DockerContainer> {
  await upsertContainers(scope.em, host, [rowFromInspect(info)]);
  const row = await scope.em.findOne(DockerContainer, { host, containerId: info.Id }, { refresh: true });
  return row!;
}

/** Docker answers 304 when a container already is in the asked state: not an error for us. */
const alreadyThere = (err: unknown): boolean => hasDockerStatus(err, 304);

/** Docker's default stop grace period, and how long past the grace period a stop may take to answer. */
const STOP_GRACE_DEFAULT_S = 10;
const STOP_MARGIN_S = 30;

/** Containers: create, lifecycle, remove, exec and logs (the runbook's ContainerManager). */
/** The label fleetgraph puts on a container instance's container (src/modules/instances). */
const INSTANCE_LABEL = 'fleetgraph.instance';

/**
 * A container instance's container is the instance's own: exec would show its write-only values
 * (`env`), and stopping, killing or removing it would end the run behind the instance's back
 * (its output, its token revocation, its callback). It is acted on through its instance.
 */
const LIFECYCLE_DONE = { start: 'started', stop: 'stopped', restart: 'restarted', pause: 'paused', unpause: 'unpaused', kill: 'killed' } as const;

function refuseInstanceContainer(labels: Record<string, string> | undefined, what: string): void {
  if (labels?.[INSTANCE_LABEL] !== undefined)
    throw new AppError(ErrorCode.FORBIDDEN, `A container instance's container cannot be ${what}: act on it through its instance (cancelContainerInstance)`, { reason: 'container instance' });
}

export class ContainerManager {
  constructor(
    private readonly ops: HostOperations,
    private readonly guard: HostAccessGuard,
  ) {}

  /**
   * The host-access policy on the final create body (src/platform/policy/host-access.ts): malformed
   * mounts are BAD_USER_INPUT, anything beyond the allow-list needs docker.containers.privileged.
   */
  private mayCreate(scope: Scope, opts: ContainerCreateSpec): HostAccessSpec {
    const access = containerHostAccess(opts);
    this.guard.check(scope, access);
    return access;
  }

  /**
   * Docker's inspect of a stored container, read live (DOCKER_ERROR when it is gone). A container
   * instance's environment carries write-only values (secret env, an ENV-delivered Vault token):
   * its values are shown as `[redacted]`, names only.
   */
  async inspect(scope: Scope, row: DockerContainer): Promise<ContainerInspect> {
    const host = await this.ops.host(scope, row.host.id);
    const inspect = await this.ops.read(scope, host, (engine) => engine.inspectContainer(row.containerId));
    const config = (inspect as { Config?: { Env?: string[]; Labels?: Record<string, string> } }).Config;
    if (config?.Labels?.[INSTANCE_LABEL] !== undefined && Array.isArray(config.Env)) {
      config.Env = config.Env.map((e) => (e.includes('=') ? `${e.slice(0, e.indexOf('='))}=[redacted]` : e));
    }
    return inspect;
  }

  async create(scope: Scope, host: DockerHost, input: CreateContainerInput) {
    const opts = createOptions(input);
    const access = this.mayCreate(scope, opts);
    // the volumes and networks it names, as this engine has them (read before the audited create)
    await this.ops.read(scope, host, (engine) => this.guard.checkEngineObjects(scope, engine, access));
    const start = input.start ?? true;
    return this.ops.run(scope, host, { action: 'container.create', targetType: 'container', targetId: input.name ?? null, parameters: input }, async ({ engine, handle }) => {
      const id = await engine.createContainer(opts);
      handle.setTarget(id);
      if (start) await engine.startContainer(id);
      return storeInspect(scope, host, await engine.inspectContainer(id));
    });
  }

  /** Start, stop, restart, pause, unpause or kill a stored container (by id): from a request or from a worker's scope. */
  async lifecycle(scope: Scope, id: string, action: 'start' | 'stop' | 'restart' | 'pause' | 'unpause' | 'kill', timeoutSeconds?: number | null) {
    const row = await this.ops.container(scope, id);
    refuseInstanceContainer(row.labels, `${LIFECYCLE_DONE[action]} directly`);
    if (timeoutSeconds != null && (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 0 || timeoutSeconds > 3600)) throw badInput('timeoutSeconds', 'must be 0–3600');
    return this.ops.run(
      scope,
      row.host,
      { action: `container.${action}`, targetType: 'container', targetId: row.containerId, parameters: { id: toGlobalId('DockerContainer', row.id), timeoutSeconds } },
      async ({ engine }) => {
        const c = row.containerId;
        const t = timeoutSeconds ?? undefined;
        // stop and restart answer only once the container stopped (up to its grace period): bounded by the grace period plus a margin
        const bound = AbortSignal.timeout(((t ?? STOP_GRACE_DEFAULT_S) + STOP_MARGIN_S) * 1000);
        try {
          if (action === 'start') await engine.startContainer(c);
          else if (action === 'stop') await engine.stopContainer(c, t, bound);
          else if (action === 'restart') await engine.restartContainer(c, t, bound);
          else if (action === 'pause') await engine.pauseContainer(c);
          else if (action === 'unpause') await engine.unpauseContainer(c);
          else await engine.killContainer(c);
        } catch (err) {
          if (!alreadyThere(err)) throw err;
        }
        return storeInspect(scope, row.host, await engine.inspectContainer(c));
      },
    );
  }

  async remove(scope: Scope, id: string, force: boolean, removeVolumes: boolean) {
    const row = await this.ops.container(scope, id);
    refuseInstanceContainer(row.labels, 'removed directly');
    const globalId = toGlobalId('DockerContainer', row.id);
    const { activity } = await this.ops.run(
      scope,
      row.host,
      { action: 'container.remove', targetType: 'container', targetId: row.containerId, parameters: { id: globalId, force, removeVolumes } },
      async ({ engine }) => {
        await engine.removeContainer(row.containerId, { force, removeVolumes });
        await scope.em.nativeDelete(DockerContainer, { id: row.id });
      },
    );
    return { removedId: globalId, activity };
  }

  /** Runs a command in a running container; waits for it and returns its output and exit code. */
  exec(scope: Scope, id: string, input: ExecInput) {
    return this.ops.long(scope, () => this.execNow(scope, id, input));
  }

  private async execNow(scope: Scope, id: string, input: ExecInput) {
    const row = await this.ops.container(scope, id);
    if (!input.command?.length) throw badInput('command', 'needs at least one element');
    const timeoutS = input.timeoutSeconds ?? EXEC_TIMEOUT_DEFAULT_S;
    if (!Number.isInteger(timeoutS) || timeoutS < 1 || timeoutS > EXEC_TIMEOUT_MAX_S) throw badInput('timeoutSeconds', `must be 1–${EXEC_TIMEOUT_MAX_S}`);
    await this.ops.read(scope, row.host, async (engine) => {
      const inspect = await engine.inspectContainer(row.containerId);
      // as the engine has it now (the stored row may not be refreshed yet)
      refuseInstanceContainer((inspect as { Config?: { Labels?: Record<string, string> } }).Config?.Labels, "exec'd into");
      // exec gets what the container may reach of the host: a container with host access needs the privileged permission too
      if (!mayAccessHost(scope)) await this.guard.checkOn(scope, engine, hostAccessOfRunningContainer(inspect, (await engine.info()).CgroupVersion));
    });
    return this.ops.run(
      scope,
      row.host,
      { action: 'container.exec', targetType: 'container', targetId: row.containerId, parameters: { id: toGlobalId('DockerContainer', row.id), ...input } },
      async ({ engine, handle }) => {
        const spec = { Cmd: input.command, Env: input.env ?? undefined, WorkingDir: input.workingDir ?? undefined, User: input.user ?? undefined, AttachStdout: true, AttachStderr: true, Tty: false };
        const { output: out, exitCode } = await engine.exec(row.containerId, spec, (stream) => collectExec(stream, timeoutS));
        const result: ExecResult = { exitCode, ...out };
        handle.activity.result = { exitCode: result.exitCode, stdoutBytes: out.stdout.length, stderrBytes: out.stderr.length, truncated: out.truncated };
        return result;
      },
    );
  }

  /**
   * Streams a container's log lines, stdout and stderr demultiplexed. Closing the iterator
   * (client unsubscribes) destroys the Docker stream.
   */
  async logs(scope: Scope, id: string, options: LogsOptions): Promise<AsyncIterable<LogLine>> {
    const row = await this.ops.container(scope, id);
    const tail = options.tail ?? 100;
    if (!Number.isInteger(tail) || tail < 0 || tail > LOG_TAIL_MAX) throw badInput('tail', `must be 0–${LOG_TAIL_MAX}`);
    const engine = await this.ops.engine(scope, row.host);
    return engine.containerLogs(row.containerId, { tail, follow: options.follow ?? true, since: options.since ? Math.floor(options.since.getTime() / 1000) : undefined });
  }
}

function collectExec(stream: NodeJS.ReadableStream, timeoutS: number): Promise<Omit<ExecResult, 'exitCode'>> {
  return new Promise((resolve, reject) => {
    const demux = new Demuxer(false);
    const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const size = { stdout: 0, stderr: 0 };
    let truncated = false;
    const timer = setTimeout(() => {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      reject(new AppError(ErrorCode.DOCKER_ERROR, `exec did not finish within ${timeoutS} s (the process may still run in the container)`, { timeoutSeconds: timeoutS }));
    }, timeoutS * 1000);
    stream.on('data', (chunk: Buffer) => {
      for (const f of demux.push(chunk)) {
        const room = EXEC_OUTPUT_LIMIT - size[f.stream];
        if (room <= 0) {
          truncated = true;
          continue;
        }
        if (f.data.length > room) {
          // cut on a character boundary; the stream is full from here on
          out[f.stream].push(Buffer.from(f.data.subarray(0, utf8Boundary(f.data, room))));
          size[f.stream] = EXEC_OUTPUT_LIMIT;
          truncated = true;
          continue;
        }
        // a copy: a piece of a frame must not keep the whole socket chunk it came in alive
        out[f.stream].push(Buffer.from(f.data));
        size[f.stream] += f.data.length;
      }
    });
    stream.on('end', () => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out.stdout).toString('utf8'), stderr: Buffer.concat(out.stderr).toString('utf8'), truncated });
    });
    stream.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
