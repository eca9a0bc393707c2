/**
 * The host-access policy: the one decision on what a container or swarm task may reach of the
 * host it runs on. Every path that makes a container or a task (createContainer, createService,
 * updateService, scale and rollback, and later stacks and instances) turns the FINAL Docker
 * request body into a `HostAccessSpec` here and asks `hostAccessRefusals`; without the
 * permission `docker.containers.privileged` any refusal ends the request (FORBIDDEN, naming the
 * field), with it everything is allowed. Pure: no Docker calls; what only the engine knows
 * (existing volumes, what a network name stands for) is judged by `engineObjectRefusals` on
 * facts the caller looked up (src/platform/policy/enforce.ts).
 *
 * It is an ALLOW-LIST. Without the permission a spec may only use:
 * - named volumes of the `local` driver without driver options (checked on the engine: a volume
 *   made elsewhere with `o=bind,device=/` is refused), anonymous volumes, tmpfs;
 * - bind mounts of operator-listed host roots (FLEETGRAPH_HOST_BIND_ROOTS, default: none), see
 *   "Bind roots and symlinks" below;
 * - private namespaces only: no `host` network/pid/ipc/uts/userns/cgroupns, no network whose
 *   driver is `host`, and no `container:<id>` join at all (fleetgraph does not verify what the
 *   joined container may do, so joins need the permission);
 * - capabilities from Docker's default set only (moby oci/caps/defaults.go: CHOWN DAC_OVERRIDE
 *   FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL
 *   AUDIT_WRITE); dropping capabilities is always fine;
 * - no devices (Devices, DeviceRequests, DeviceCgroupRules), no security option but
 *   `no-new-privileges`, no seccomp/AppArmor/SELinux changes;
 * - sysctls from the namespaced list runc accepts (runc libcontainer/configs/validate):
 *   kernel.msgmax/msgmnb/msgmni, kernel.sem, kernel.shmall/shmmax/shmmni/shm_rmid_forced and
 *   fs.mqueue.* (private IPC namespace), net.* (private network namespace), kernel.domainname
 *   (private UTS namespace);
 * - the default runtime, cgroup parent, log driver (json-file, local or none), masked and
 *   read-only /proc paths; no VolumeDriver, VolumesFrom or volume DriverConfig.
 * - bind mounts without the SELinux relabel options z/Z (they relabel the HOST directory);
 * - networks: createNetwork with the bridge or overlay driver and a subnet/gateway outside
 *   loopback, link-local, multicast, unspecified and reserved ranges; connectNetwork to a network
 *   whose driver is bridge, overlay or null, with a fixed address outside those ranges;
 * - exec only into a container that itself passes this policy (`hostAccessOfRunningContainer`).
 * Every key of the body is classified (safe, decided here, or only accepted at its default);
 * a key the policy does not know is refused until someone classifies it. Keys are matched
 * case-insensitively, as Docker's JSON decoder does.
 *
 * Bind roots and symlinks. Docker resolves symlinks in a bind source on the host, so a path
 * check alone is walked around: a container bound read-write to /srv/data runs
 * `ln -s / /srv/data/r`, and a second container binding /srv/data/r gets the host's `/`. The
 * rule therefore is: a bind source must be EXACTLY one of the listed roots (`path[:ro|:rw]`,
 * read-only when the mode is omitted); a path below a root is refused, whatever the root's mode,
 * because what lies below a root (even a read-only one, which the host or another tenant may
 * write) is not something the policy can verify. A read-only root may only be bound read-only.
 * Roots must be absolute, normalised, not `/`, and no root may lie inside another (a writable
 * root could otherwise replace a nested one by a symlink). Inside the container, symlinks in a
 * bound root resolve against the container's own filesystem, so they cannot reach the host.
 * Operators must list only directories that no container or untrusted user can replace
 * (the root itself and its parents).
 */
import type { BindRoot } from '../../kernel/config';
import ipaddr from 'ipaddr.js';
import { badInput } from '../../kernel/errors';
import { AddressClass, classifyAddress } from '../../kernel/addresses';
import { registryRefusal } from './registry';

export type { BindRoot };

/** One reason a spec needs the privileged permission: the request-body field and why. */
export interface Refusal {
  field: string;
  reason: string;
}

export interface At<T> {
  field: string;
  value: T;
}

export type Namespace = 'network' | 'pid' | 'ipc' | 'uts' | 'userns' | 'cgroupns';

/** A mount in one shape, whether it came from Binds, Mounts, Tmpfs, Volumes or a service's Mounts. */
export interface MountSpec {
  field: string;
  type: string;
  /** Host path (bind), volume name (volume; '' for an anonymous volume), '' for tmpfs. */
  source: string;
  target: string;
  readOnly: boolean;
  /** Bind propagation, when one was asked for. */
  propagation?: string;
  /** SELinux relabel of the source (`z` or `Z`), when one was asked for. */
  relabel?: string;
  /** A volume's DriverConfig (Docker creates the volume with it when it does not exist). */
  volumeDriver?: { name: string; options: Record<string, unknown> };
}

/** What a container or task spec asks of its host, normalised from the Docker request body. */
export interface HostAccessSpec {
  privileged: Array<At<boolean>>;
  /** Namespace modes as given ('' = private). */
  namespaces: Array<At<string> & { kind: Namespace }>;
  /** Network names or ids the engine resolves (user-defined networks, service targets). */
  networks: Array<At<string>>;
  /** Capabilities granted (CapAdd, Capabilities, CapabilityAdd), as given. */
  capabilities: Array<At<string>>;
  devices: Array<At<unknown>>;
  securityOpt: Array<At<string>>;
  sysctls: Array<At<string>>;
  mounts: MountSpec[];
  /** Images every node pulls itself (a service's), by the registry they name. */
  images: Array<At<string>>;
  /** Keys the policy does not know, or known keys set away from their default. */
  unrecognised: Refusal[];
}

/** Docker's default capability set (moby oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES: ReadonlySet<string> = new Set([
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'MKNOD',
  'NET_RAW',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
]);

/** Sysctls of the IPC namespace runc accepts (plus fs.mqueue.*). */
const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);
const SAFE_SECURITY_OPTS = new Set(['no-new-privileges', 'no-new-privileges:true', 'no-new-privileges=true']);
/** Mount types Docker knows; only the first three are open without the permission. */
export const MOUNT_TYPES = ['bind', 'volume', 'tmpfs', 'npipe', 'cluster', 'image'] as const;
const UNPRIVILEGED_MOUNT_TYPES = new Set(['bind', 'volume', 'tmpfs']);
/** Docker's rule for local volume names. */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const BIND_OPTIONS = new Set(['ro', 'rw', 'z', 'Z', 'nocopy', 'shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate', 'consistent', 'cached', 'delegated']);
const PROPAGATIONS = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);
/** Propagation that lets mounts travel from the container to the host is not open. */
const SAFE_PROPAGATIONS = new Set(['', 'private', 'rprivate', 'slave', 'rslave']);
/** Network drivers a spec may use without the permission (resolved on the engine). */
export const SAFE_NETWORK_DRIVERS = new Set(['bridge', 'overlay', 'null']);
const SAFE_LOG_DRIVERS = new Set(['', 'json-file', 'local', 'none']);

// ------------------------------------------------------------------------------------------ paths

/**
 * A normalised absolute host path: '//' and a trailing '/' collapsed; relative paths, '.' and
 * '..' segments and NUL are refused (BAD_USER_INPUT), never resolved.
 */
export function normaliseHostPath(path: string, field: string): string {
  if (typeof path !== 'string' || path === '') throw badInput(field, 'a host path is required');
  if (!path.startsWith('/')) throw badInput(field, `host path ${quote(path)} must be absolute`);
  if (path.includes('\0')) throw badInput(field, 'host path contains NUL');
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) throw badInput(field, `host path ${quote(path)} must be normalised (no "." or ".." segments)`);
  return '/' + segments.join('/');
}

function checkTarget(target: unknown, field: string): string {
  if (typeof target !== 'string' || target === '') throw badInput(field, 'a target path inside the container is required');
  if (!target.startsWith('/')) throw badInput(field, `target ${quote(target)} must be an absolute path`);
  if (target.includes('\0')) throw badInput(field, 'target contains NUL');
  if (target.split('/').every((s) => s === '')) throw badInput(field, 'target cannot be "/"');
  return target;
}

/**
 * Parses FLEETGRAPH_HOST_BIND_ROOTS: comma-separated `path[:ro|:rw]` (read-only when the mode is
 * omitted). Throws on anything malformed, on `/`, on duplicates and on nested roots.
 */
export function parseBindRoots(value: string | undefined): BindRoot[] {
  const roots: BindRoot[] = [];
  for (const raw of (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^(.*?)(?::(ro|rw))?$/.exec(raw)!;
    let path: string;
    try {
      path = normaliseHostPath(m[1], 'FLEETGRAPH_HOST_BIND_ROOTS');
    } catch (err) {
      throw new Error(`FLEETGRAPH_HOST_BIND_ROOTS: ${(err as Error).message.replace(/^FLEETGRAPH_HOST_BIND_ROOTS: /, '')} (entries are path[:ro|:rw])`);
    }
    if (path === '/') throw new Error('FLEETGRAPH_HOST_BIND_ROOTS: "/" cannot be a bind root');
    if (path.includes(':')) throw new Error(`FLEETGRAPH_HOST_BIND_ROOTS: "${raw}" is not path[:ro|:rw]`);
    for (const other of roots) {
      if (other.path === path) throw new Error(`FLEETGRAPH_HOST_BIND_ROOTS: ${path} is listed twice`);
      if (within(path, other.path) || within(other.path, path)) throw new Error(`FLEETGRAPH_HOST_BIND_ROOTS: ${path} and ${other.path} are nested (a root may not lie inside another)`);
    }
    roots.push({ path, readWrite: m[2] === 'rw' });
  }
  return roots;
}

/** `path` is strictly below `root`. */
function within(path: string, root: string): boolean {
  return path.startsWith(root + '/');
}

// ------------------------------------------------------------------------------- body walking

type Obj = Record<string, unknown>;

/** A key accepted only at its default: absent, null, or one of these values ('empty' = [] or {}). */
type Default = Array<string | number | boolean | 'empty'>;

interface Shape {
  /** Keys whose every value is harmless. */
  safe?: string[];
  /** Keys accepted only at their default. */
  defaults?: Record<string, Default>;
  /** Keys the caller decides (returned by `classify`). */
  decided?: string[];
}

const ABSENT: Default = [];
const EMPTY: Default = ['empty'];

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmpty = (v: unknown) => (Array.isArray(v) ? v.length === 0 : isObject(v) && Object.keys(v).length === 0);

/** A value shown in a message: short, never the whole input. */
function quote(v: unknown): string {
  const s = typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}

/**
 * Classifies every key of one object of the body against its shape (case-insensitively, as Go's
 * JSON decoder matches them); returns the decided keys' values by canonical name. Unknown keys,
 * keys given twice in different case, and defaulted keys set to something else are recorded as
 * unrecognised.
 */
function classify(obj: unknown, field: string, shape: Shape, out: HostAccessSpec): Obj {
  const decided: Obj = {};
  if (obj === undefined || obj === null) return decided;
  if (!isObject(obj)) {
    out.unrecognised.push({ field, reason: 'is not an object' });
    return decided;
  }
  const canonical = new Map<string, string>();
  for (const k of [...(shape.safe ?? []), ...Object.keys(shape.defaults ?? {}), ...(shape.decided ?? [])]) canonical.set(k.toLowerCase(), k);
  const seen = new Set<string>();
  for (const [key, value] of Object.entries(obj)) {
    const at = field ? `${field}.${key}` : key;
    const name = canonical.get(key.toLowerCase());
    if (seen.has(key.toLowerCase())) {
      out.unrecognised.push({ field: at, reason: 'is given twice (keys differing only in case)' });
      continue;
    }
    seen.add(key.toLowerCase());
    if (!name) {
      if (value !== undefined) out.unrecognised.push({ field: at, reason: 'is not a setting the host-access policy knows' });
      continue;
    }
    const def = shape.defaults?.[name];
    if (def) {
      const ok = value === undefined || value === null || def.some((d) => (d === 'empty' ? isEmpty(value) : d === value));
      if (!ok) out.unrecognised.push({ field: at, reason: `${quote(value)} is not allowed (only the default is)` });
    } else if (shape.decided?.includes(name)) {
      decided[name] = value;
    }
  }
  return decided;
}

function list(v: unknown, field: string, out: HostAccessSpec): unknown[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  out.unrecognised.push({ field, reason: 'is not a list' });
  return [];
}

function strings(v: unknown, field: string, out: HostAccessSpec): Array<At<string>> {
  return list(v, field, out).map((x, i) => ({ field: `${field}[${i}]`, value: typeof x === 'string' ? x : JSON.stringify(x) }));
}

function emptySpec(): HostAccessSpec {
  return { privileged: [], namespaces: [], networks: [], capabilities: [], devices: [], securityOpt: [], sysctls: [], mounts: [], images: [], unrecognised: [] };
}

// ----------------------------------------------------------------------------------- mounts

/**
 * Parses one HostConfig.Binds entry the way Docker's Linux parser does: `target` (anonymous
 * volume), `source:target` or `source:target:options`; a source starting with "/" is a host
 * path, anything else a volume name. Malformed entries are BAD_USER_INPUT.
 */
export function parseBind(spec: unknown, field: string): MountSpec {
  if (typeof spec !== 'string' || spec === '') throw badInput(field, 'a bind is "source:target[:options]"');
  const parts = spec.split(':');
  if (parts.length > 3) throw badInput(field, `${quote(spec)} is not "source:target[:options]"`);
  if (parts.length === 1) return { field, type: 'volume', source: '', target: checkTarget(parts[0], field), readOnly: false };
  const [source, target, options = ''] = parts;
  const opts = options === '' ? [] : options.split(',');
  for (const o of opts) if (!BIND_OPTIONS.has(o)) throw badInput(field, `unknown bind option ${quote(o)} (ro, rw, z, Z, nocopy, a propagation or a consistency)`);
  if (opts.includes('ro') && opts.includes('rw')) throw badInput(field, 'ro and rw together');
  const propagation = opts.filter((o) => PROPAGATIONS.has(o));
  if (propagation.length > 1) throw badInput(field, 'more than one propagation');
  const readOnly = opts.includes('ro');
  const relabel = opts.filter((o) => o === 'z' || o === 'Z');
  checkTarget(target, field);
  if (source.startsWith('/')) {
    if (opts.includes('nocopy')) throw badInput(field, 'nocopy applies to volumes, not to host paths');
    return {
      field,
      type: 'bind',
      source: normaliseHostPath(source, field),
      target,
      readOnly,
      ...(propagation[0] ? { propagation: propagation[0] } : {}),
      ...(relabel.length ? { relabel: relabel.join(',') } : {}),
    };
  }
  if (!VOLUME_NAME.test(source)) throw badInput(field, `source ${quote(source)} is neither an absolute host path nor a volume name`);
  if (propagation.length) throw badInput(field, 'propagation applies to host paths, not to volumes');
  return { field, type: 'volume', source, target, readOnly };
}

/** One HostConfig.Mounts / ContainerSpec.Mounts item (Docker's mount.Mount). */
function parseMount(m: unknown, field: string, out: HostAccessSpec): MountSpec {
  if (!isObject(m)) throw badInput(field, 'a mount is an object with Type, Source and Target');
  const v = classify(
    m,
    field,
    {
      safe: ['Consistency'],
      decided: ['Type', 'Source', 'Target', 'ReadOnly', 'BindOptions', 'VolumeOptions', 'TmpfsOptions'],
      defaults: { ImageOptions: ABSENT, ClusterOptions: ABSENT },
    },
    out,
  );
  const type = v.Type;
  if (typeof type !== 'string' || !(MOUNT_TYPES as readonly string[]).includes(type)) throw badInput(`${field}.Type`, `must be one of ${MOUNT_TYPES.join(', ')}`);
  const target = checkTarget(v.Target, `${field}.Target`);
  const source = v.Source ?? '';
  if (typeof source !== 'string') throw badInput(`${field}.Source`, 'must be a string');
  const spec: MountSpec = { field, type, source, target, readOnly: v.ReadOnly === true };
  if (type === 'bind') {
    spec.source = normaliseHostPath(source, `${field}.Source`);
    const bind = classify(
      v.BindOptions,
      `${field}.BindOptions`,
      {
        safe: ['NonRecursive', 'ReadOnlyForceRecursive'],
        decided: ['Propagation'],
        defaults: { CreateMountpoint: [false], ReadOnlyNonRecursive: [false] },
      },
      out,
    );
    if (bind.Propagation) spec.propagation = String(bind.Propagation);
  } else if (v.BindOptions != null) {
    throw badInput(`${field}.BindOptions`, `do not apply to a ${type} mount`);
  }
  if (type === 'volume') {
    if (source !== '' && !VOLUME_NAME.test(source)) throw badInput(`${field}.Source`, `${quote(source)} is not a volume name (letters, digits, "_", "." or "-", at least two)`);
    const vol = classify(v.VolumeOptions, `${field}.VolumeOptions`, { safe: ['NoCopy', 'Labels'], decided: ['DriverConfig'], defaults: { Subpath: [''] } }, out);
    if (vol.DriverConfig != null) {
      const dc = classify(vol.DriverConfig, `${field}.VolumeOptions.DriverConfig`, { decided: ['Name', 'Options'] }, out);
      spec.volumeDriver = {
        name: typeof dc.Name === 'string' ? dc.Name : JSON.stringify(dc.Name ?? ''),
        options: isObject(dc.Options) ? dc.Options : dc.Options == null ? {} : { invalid: dc.Options },
      };
    }
  } else if (v.VolumeOptions != null) {
    throw badInput(`${field}.VolumeOptions`, `do not apply to a ${type} mount`);
  }
  if (type === 'tmpfs') {
    if (source !== '') throw badInput(`${field}.Source`, 'a tmpfs mount has no source');
    classify(v.TmpfsOptions, `${field}.TmpfsOptions`, { safe: ['SizeBytes', 'Mode', 'Options'] }, out);
  } else if (v.TmpfsOptions != null) {
    throw badInput(`${field}.TmpfsOptions`, `do not apply to a ${type} mount`);
  }
  return spec;
}

function parseMounts(v: unknown, field: string, out: HostAccessSpec): void {
  list(v, field, out).forEach((m, i) => out.mounts.push(parseMount(m, `${field}[${i}]`, out)));
}

function parseSysctls(v: unknown, field: string, out: HostAccessSpec): void {
  if (v === undefined || v === null) return;
  if (!isObject(v)) {
    out.unrecognised.push({ field, reason: 'is not a map' });
    return;
  }
  for (const key of Object.keys(v)) out.sysctls.push({ field: `${field}.${key}`, value: key });
}

function parseLogConfig(v: unknown, field: string, typeKey: string, optionsKey: string, out: HostAccessSpec): void {
  const log = classify(v, field, { safe: [optionsKey], decided: [typeKey] }, out);
  const type = log[typeKey] ?? '';
  if (typeof type !== 'string' || !SAFE_LOG_DRIVERS.has(type))
    out.unrecognised.push({ field: `${field}.${typeKey}`, reason: `log driver ${quote(type)} is not allowed (json-file, local or none; others make the daemon send data elsewhere)` });
}

// ------------------------------------------------------------------------------ containers

/** Keys of Docker's container Config (plus the name and platform dockerode sends as query). */
const CONTAINER_CONFIG: Shape = {
  safe: [
    'name',
    'platform',
    'Hostname',
    'Domainname',
    'User',
    'AttachStdin',
    'AttachStdout',
    'AttachStderr',
    'ExposedPorts',
    'Tty',
    'OpenStdin',
    'StdinOnce',
    'Env',
    'Cmd',
    'Healthcheck',
    'ArgsEscaped',
    'Image',
    'WorkingDir',
    'Entrypoint',
    'NetworkDisabled',
    'MacAddress',
    'OnBuild',
    'Labels',
    'StopSignal',
    'StopTimeout',
    'Shell',
  ],
  decided: ['Volumes', 'HostConfig', 'NetworkingConfig'],
};

const HOST_CONFIG: Shape = {
  safe: [
    // resources that only limit the container
    'CpuShares',
    'Memory',
    'NanoCpus',
    'CpuPeriod',
    'CpuQuota',
    'CpusetCpus',
    'CpusetMems',
    'MemoryReservation',
    'MemorySwap',
    'MemorySwappiness',
    'PidsLimit',
    'BlkioWeight',
    'CpuCount',
    'CpuPercent',
    'CapDrop',
    'PortBindings',
    'RestartPolicy',
    'AutoRemove',
    'PublishAllPorts',
    'ReadonlyRootfs',
    'Dns',
    'DnsOptions',
    'DnsSearch',
    'ExtraHosts',
    'GroupAdd',
    'ShmSize',
    'ConsoleSize',
    'Init',
  ],
  decided: [
    'Binds',
    'Mounts',
    'Tmpfs',
    'NetworkMode',
    'PidMode',
    'IpcMode',
    'UTSMode',
    'UsernsMode',
    'CgroupnsMode',
    'Privileged',
    'CapAdd',
    'Capabilities',
    'Devices',
    'DeviceRequests',
    'DeviceCgroupRules',
    'SecurityOpt',
    'Sysctls',
    'LogConfig',
    'OomScoreAdj',
  ],
  defaults: {
    VolumeDriver: [''],
    VolumesFrom: EMPTY,
    Links: EMPTY,
    CgroupParent: [''],
    Cgroup: [''],
    Runtime: [''],
    Isolation: ['', 'default'],
    ContainerIDFile: [''],
    OomKillDisable: [false],
    CpuRealtimePeriod: [0],
    CpuRealtimeRuntime: [0],
    KernelMemory: [0],
    KernelMemoryTCP: [0],
    BlkioWeightDevice: EMPTY,
    BlkioDeviceReadBps: EMPTY,
    BlkioDeviceWriteBps: EMPTY,
    BlkioDeviceReadIOps: EMPTY,
    BlkioDeviceWriteIOps: EMPTY,
    IOMaximumIOps: [0],
    IOMaximumBandwidth: [0],
    Ulimits: EMPTY,
    StorageOpt: EMPTY,
    Annotations: EMPTY,
    // an empty list here UNMASKS /proc paths: only absent or null is the default
    MaskedPaths: ABSENT,
    ReadonlyPaths: ABSENT,
  },
};

function namespace(out: HostAccessSpec, kind: Namespace, field: string, v: unknown): void {
  if (v === undefined || v === null) return;
  out.namespaces.push({ kind, field, value: typeof v === 'string' ? v : JSON.stringify(v) });
}

/** What a container create body (Docker's Config + HostConfig, as sent) asks of the host. */
export function containerHostAccess(body: unknown): HostAccessSpec {
  const out = emptySpec();
  const top = classify(body, '', CONTAINER_CONFIG, out);
  // networks joined at create: not sent by fleetgraph; refused until classified
  classify(top.NetworkingConfig, 'NetworkingConfig', { defaults: { EndpointsConfig: EMPTY } }, out);
  if (isObject(top.Volumes)) {
    for (const target of Object.keys(top.Volumes)) out.mounts.push({ field: `Volumes.${target}`, type: 'volume', source: '', target: checkTarget(target, `Volumes.${target}`), readOnly: false });
  } else if (top.Volumes != null) out.unrecognised.push({ field: 'Volumes', reason: 'is not a map' });
  const F = 'HostConfig';
  const hc = classify(top.HostConfig, F, HOST_CONFIG, out);
  list(hc.Binds, `${F}.Binds`, out).forEach((b, i) => out.mounts.push(parseBind(b, `${F}.Binds[${i}]`)));
  parseMounts(hc.Mounts, `${F}.Mounts`, out);
  if (isObject(hc.Tmpfs)) {
    for (const target of Object.keys(hc.Tmpfs)) out.mounts.push({ field: `${F}.Tmpfs.${target}`, type: 'tmpfs', source: '', target: checkTarget(target, `${F}.Tmpfs`), readOnly: false });
  } else if (hc.Tmpfs != null) out.unrecognised.push({ field: `${F}.Tmpfs`, reason: 'is not a map' });
  namespace(out, 'network', `${F}.NetworkMode`, hc.NetworkMode);
  namespace(out, 'pid', `${F}.PidMode`, hc.PidMode);
  namespace(out, 'ipc', `${F}.IpcMode`, hc.IpcMode);
  namespace(out, 'uts', `${F}.UTSMode`, hc.UTSMode);
  namespace(out, 'userns', `${F}.UsernsMode`, hc.UsernsMode);
  namespace(out, 'cgroupns', `${F}.CgroupnsMode`, hc.CgroupnsMode);
  if (hc.Privileged != null) out.privileged.push({ field: `${F}.Privileged`, value: hc.Privileged === true });
  out.capabilities.push(...strings(hc.CapAdd, `${F}.CapAdd`, out), ...strings(hc.Capabilities, `${F}.Capabilities`, out));
  for (const key of ['Devices', 'DeviceRequests', 'DeviceCgroupRules']) list(hc[key], `${F}.${key}`, out).forEach((d, i) => out.devices.push({ field: `${F}.${key}[${i}]`, value: d }));
  out.securityOpt.push(...strings(hc.SecurityOpt, `${F}.SecurityOpt`, out));
  parseSysctls(hc.Sysctls, `${F}.Sysctls`, out);
  parseLogConfig(hc.LogConfig, `${F}.LogConfig`, 'Type', 'Config', out);
  oomScoreAdj(hc.OomScoreAdj, `${F}.OomScoreAdj`, out);
  return out;
}

/** A negative OOM score shields the container from the host's OOM killer at the host's expense. */
function oomScoreAdj(v: unknown, field: string, out: HostAccessSpec): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 1000) out.unrecognised.push({ field, reason: `${quote(v)} is not allowed (0–1000)` });
}

// -------------------------------------------------------------------------------- services

const SERVICE_SPEC: Shape = {
  safe: ['Name', 'Labels', 'Mode', 'UpdateConfig', 'RollbackConfig', 'EndpointSpec'],
  decided: ['TaskTemplate'],
  // the deprecated top-level Networks: TaskTemplate.Networks is the one place
  defaults: { Networks: EMPTY },
};

const TASK_TEMPLATE: Shape = {
  safe: ['RestartPolicy', 'Placement', 'ForceUpdate'],
  decided: ['ContainerSpec', 'Resources', 'Networks', 'LogDriver', 'Runtime'],
  defaults: { PluginSpec: ABSENT, NetworkAttachmentSpec: ABSENT },
};

const CONTAINER_SPEC: Shape = {
  safe: [
    'Labels',
    'Command',
    'Args',
    'Hostname',
    'Env',
    'Dir',
    'User',
    'Groups',
    'TTY',
    'OpenStdin',
    'ReadOnly',
    'StopSignal',
    'StopGracePeriod',
    'HealthCheck',
    'Hosts',
    'DNSConfig',
    'Secrets',
    'Configs',
    'Init',
    'CapabilityDrop',
  ],
  decided: ['Image', 'Mounts', 'Privileges', 'Sysctls', 'CapabilityAdd', 'OomScoreAdj'],
  defaults: { Isolation: ['', 'default'], Ulimits: EMPTY },
};

/** What a swarm ServiceSpec (as sent to, or as read back from, the manager) asks of its nodes. */
export function serviceHostAccess(spec: unknown): HostAccessSpec {
  const out = emptySpec();
  const top = classify(spec, '', SERVICE_SPEC, out);
  const T = 'TaskTemplate';
  const tt = classify(top.TaskTemplate, T, TASK_TEMPLATE, out);
  const runtime = tt.Runtime ?? '';
  if (runtime !== '' && runtime !== 'container') out.unrecognised.push({ field: `${T}.Runtime`, reason: `${quote(runtime)} is not allowed (container tasks only)` });
  const res = classify(tt.Resources, `${T}.Resources`, { decided: ['Limits', 'Reservations'] }, out);
  classify(res.Limits, `${T}.Resources.Limits`, { safe: ['NanoCPUs', 'MemoryBytes', 'Pids'] }, out);
  classify(res.Reservations, `${T}.Resources.Reservations`, { safe: ['NanoCPUs', 'MemoryBytes'], defaults: { GenericResources: EMPTY } }, out);
  list(tt.Networks, `${T}.Networks`, out).forEach((n, i) => {
    const field = `${T}.Networks[${i}]`;
    const net = classify(n, field, { safe: ['Aliases'], decided: ['Target'], defaults: { DriverOpts: EMPTY } }, out);
    if (typeof net.Target !== 'string' || net.Target === '') throw badInput(`${field}.Target`, 'a network name or id is required');
    out.networks.push({ field: `${field}.Target`, value: net.Target });
  });
  if (tt.LogDriver != null) parseLogConfig(tt.LogDriver, `${T}.LogDriver`, 'Name', 'Options', out);
  const C = `${T}.ContainerSpec`;
  const cs = classify(tt.ContainerSpec, C, CONTAINER_SPEC, out);
  if (cs.Image != null) out.images.push({ field: `${C}.Image`, value: typeof cs.Image === 'string' ? cs.Image : JSON.stringify(cs.Image) });
  parseMounts(cs.Mounts, `${C}.Mounts`, out);
  parseSysctls(cs.Sysctls, `${C}.Sysctls`, out);
  out.capabilities.push(...strings(cs.CapabilityAdd, `${C}.CapabilityAdd`, out));
  oomScoreAdj(cs.OomScoreAdj, `${C}.OomScoreAdj`, out);
  const P = `${C}.Privileges`;
  const priv = classify(cs.Privileges, P, { safe: ['NoNewPrivileges'], decided: ['Seccomp', 'AppArmor'], defaults: { CredentialSpec: ABSENT, SELinuxContext: ABSENT } }, out);
  for (const key of ['Seccomp', 'AppArmor']) {
    const conf = classify(priv[key], `${P}.${key}`, { decided: ['Mode'], defaults: { Profile: ABSENT } }, out);
    if (conf.Mode != null && conf.Mode !== 'default') out.securityOpt.push({ field: `${P}.${key}.Mode`, value: `${key.toLowerCase()}=${String(conf.Mode)}` });
  }
  return out;
}

// ------------------------------------------------------------------------------- decisions

/** The namespace modes that keep a private namespace, per kind. */
const PRIVATE_MODES: Record<Namespace, string[]> = {
  network: ['', 'default', 'bridge', 'none'],
  pid: [''],
  ipc: ['', 'private', 'shareable', 'none'],
  uts: [''],
  userns: [''],
  cgroupns: ['', 'private'],
};

/** The namespace of this kind is the container's own (a user-defined network is, too). */
function privateNamespace(spec: HostAccessSpec, kind: Namespace): boolean {
  return spec.namespaces.filter((n) => n.kind === kind).every((n) => PRIVATE_MODES[kind].includes(n.value) || (kind === 'network' && userDefinedNetwork(n.value)));
}

/** A NetworkMode naming a network (not a namespace mode): what it stands for is asked of the engine. */
function userDefinedNetwork(mode: string): boolean {
  return !PRIVATE_MODES.network.includes(mode) && mode !== 'host' && !mode.startsWith('container:');
}

function sysctlAllowed(key: string, spec: HostAccessSpec): string | undefined {
  const shared = (kind: Namespace) => !privateNamespace(spec, kind);
  if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) return shared('ipc') ? 'needs a private IPC namespace' : undefined;
  if (key.startsWith('net.')) return shared('network') ? 'needs a private network namespace' : undefined;
  if (key === 'kernel.domainname') return shared('uts') ? 'needs a private UTS namespace' : undefined;
  return 'is not a namespaced sysctl (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*, kernel.domainname)';
}

function bindRefusal(m: MountSpec, roots: BindRoot[]): string | undefined {
  const root = roots.find((r) => r.path === m.source);
  if (root) return !m.readOnly && !root.readWrite ? `bind of ${m.source} is read-write but that host root is read-only (bind it read-only)` : undefined;
  const parent = roots.find((r) => within(m.source, r.path));
  if (parent) return `bind of ${m.source} is below the host root ${parent.path}: only a root itself may be bound (symlinks below a root cannot be verified)`;
  return `bind of ${m.source} is outside the allowed host roots`;
}

function mountRefusal(m: MountSpec, roots: BindRoot[]): string | undefined {
  if (!UNPRIVILEGED_MOUNT_TYPES.has(m.type)) return `a ${m.type} mount reaches the host`;
  if (m.propagation !== undefined && !SAFE_PROPAGATIONS.has(m.propagation)) return `propagation ${quote(m.propagation)} lets mounts reach the host`;
  if (m.volumeDriver && (!['', 'local'].includes(m.volumeDriver.name) || !isEmpty(m.volumeDriver.options))) return 'a volume DriverConfig (driver or driver options) can mount any host path';
  if (m.relabel) return `SELinux relabel ${quote(m.relabel)} changes the label of the host directory ${m.source} (even a read-only root)`;
  if (m.type === 'bind') return bindRefusal(m, roots);
  return undefined;
}

function capabilityName(c: string): string {
  return c.trim().toUpperCase().replace(/^CAP_/, '');
}

/**
 * Everything in `spec` that needs the privileged permission (empty: the spec is allowed). Facts
 * only the engine knows (existing volumes, what a network name stands for) are judged by
 * `engineObjectRefusals`.
 */
export function hostAccessRefusals(spec: HostAccessSpec, roots: BindRoot[]): Refusal[] {
  const out: Refusal[] = [];
  for (const p of spec.privileged) if (p.value) out.push({ field: p.field, reason: 'a privileged container has every capability and device of the host' });
  for (const n of spec.namespaces) {
    if (PRIVATE_MODES[n.kind].includes(n.value)) continue;
    if (n.value === 'host') out.push({ field: n.field, reason: `${n.kind} mode host shares the host's ${n.kind} namespace` });
    else if (n.value.startsWith('container:')) out.push({ field: n.field, reason: `${quote(n.value)} joins another container's ${n.kind} namespace (joins are not verified)` });
    else if (n.kind === 'network' && userDefinedNetwork(n.value))
      continue; // judged on the engine
    else out.push({ field: n.field, reason: `${n.kind} mode ${quote(n.value)} is not allowed` });
  }
  for (const n of spec.networks) if (n.value === 'host') out.push({ field: n.field, reason: "the host network shares the host's network namespace" });
  for (const c of spec.capabilities) if (!DEFAULT_CAPABILITIES.has(capabilityName(c.value))) out.push({ field: c.field, reason: `capability ${quote(c.value)} is not in Docker's default set` });
  for (const d of spec.devices) out.push({ field: d.field, reason: 'host devices are not allowed' });
  for (const s of spec.securityOpt)
    if (!SAFE_SECURITY_OPTS.has(s.value)) out.push({ field: s.field, reason: `security option ${quote(s.value)} may weaken confinement (only no-new-privileges is open)` });
  for (const s of spec.sysctls) {
    const why = s.value.includes('/') ? 'write sysctls with dots' : sysctlAllowed(s.value, spec);
    if (why) out.push({ field: s.field, reason: `sysctl ${quote(s.value)} ${why}` });
  }
  for (const m of spec.mounts) {
    const why = mountRefusal(m, roots);
    if (why) out.push({ field: m.field, reason: why });
  }
  for (const i of spec.images) {
    const why = registryRefusal(i.value);
    if (why) out.push({ field: i.field, reason: `${why}: every node would pull from it` });
  }
  out.push(...spec.unrecognised);
  return out;
}

/** Named volumes the spec mounts (the engine must say what they are). */
export function namedVolumes(spec: HostAccessSpec): string[] {
  return [...new Set(spec.mounts.filter((m) => m.type === 'volume' && m.source !== '').map((m) => m.source))];
}

/** User-defined networks the spec joins (the engine must say which driver they have). */
export function networkReferences(spec: HostAccessSpec): string[] {
  const modes = spec.namespaces.filter((n) => n.kind === 'network' && userDefinedNetwork(n.value));
  return [...new Set([...modes, ...spec.networks].map((n) => n.value))];
}

/** What the engine says about the volumes and networks a spec names (null: does not exist). */
export interface EngineObjects {
  volumes: Map<string, { driver: string; options: Record<string, unknown> | null } | null>;
  networks: Map<string, { name: string; driver: string } | null>;
}

/**
 * Refusals only the engine's answer can give: a named volume that exists with another driver
 * than `local` or with driver options (a local volume with `o=bind,device=/` is the host's `/`),
 * and a network whose driver is not bridge, overlay or null (`host` above all, which a name or
 * id may stand for). Objects that do not exist are fine: Docker creates a plain local volume,
 * and refuses an unknown network.
 */
export function engineObjectRefusals(spec: HostAccessSpec, objects: EngineObjects): Refusal[] {
  const out: Refusal[] = [];
  for (const m of spec.mounts) {
    if (m.type !== 'volume' || !m.source) continue;
    const v = objects.volumes.get(m.source);
    if (!v) continue;
    if (v.driver !== 'local') out.push({ field: m.field, reason: `volume ${m.source} uses the driver ${quote(v.driver)} (only local volumes without options are open)` });
    else if (!isEmpty(v.options ?? {})) out.push({ field: m.field, reason: `volume ${m.source} has driver options (a local volume with options can mount any host path)` });
  }
  const refs = [...spec.namespaces.filter((n) => n.kind === 'network' && userDefinedNetwork(n.value)), ...spec.networks];
  for (const ref of refs) {
    const n = objects.networks.get(ref.value);
    if (!n) continue;
    if (n.driver === 'host' || n.name === 'host') out.push({ field: ref.field, reason: `network ${quote(ref.value)} is the host network` });
    else if (!SAFE_NETWORK_DRIVERS.has(n.driver)) out.push({ field: ref.field, reason: `network ${quote(ref.value)} uses the driver ${quote(n.driver)} (bridge, overlay and null are open)` });
  }
  return out;
}

// -------------------------------------------------------------------------------- networks

/** Network drivers createNetwork may use without the permission (null is Docker's own "none"). */
export const CREATABLE_NETWORK_DRIVERS = new Set(['bridge', 'overlay']);
/** Address classes a subnet, gateway or fixed container address may not touch without the permission. */
const HOST_ADDRESS_CLASSES: ReadonlySet<AddressClass> = new Set(['loopback', 'link-local', 'multicast', 'unspecified', 'broadcast', 'reserved']);

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** The special ranges ipaddr.js classifies by (the classifier's own table), as [base, prefix]. */
function specialRanges(kind: 'ipv4' | 'ipv6'): Array<[Address, number]> {
  const proto = (kind === 'ipv4' ? ipaddr.IPv4 : ipaddr.IPv6).prototype as unknown as { SpecialRanges: Record<string, [Address, number] | Array<[Address, number]>> };
  return Object.values(proto.SpecialRanges).flatMap((r) => (Array.isArray(r[0]) ? (r as Array<[Address, number]>) : [r as [Address, number]]));
}

/** A CIDR as [network address, prefix]; IPv4-mapped IPv6 becomes IPv4. Malformed: BAD_USER_INPUT. */
function parseCidr(text: string, field: string): [Address, number] {
  let cidr: [Address, number];
  try {
    cidr = ipaddr.parseCIDR(text);
  } catch {
    throw badInput(field, `${quote(text)} is not a CIDR such as 10.20.0.0/24`);
  }
  const [addr, bits] = cidr;
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) return [(addr as ipaddr.IPv6).toIPv4Address(), bits - 96];
  return cidr;
}

/** The address classes a subnet overlaps (its own, and every special range inside it). */
function subnetClasses([addr, bits]: [Address, number]): Set<AddressClass> {
  const classes = new Set<AddressClass>([classifyAddress(addr)!]);
  for (const [base, b] of specialRanges(addr.kind())) if (b >= bits && base.match(addr, bits)) classes.add(classifyAddress(base)!);
  return classes;
}

function addressRefusal(field: string, text: string, classes: Set<AddressClass>): Refusal[] {
  const host = [...classes].filter((c) => HOST_ADDRESS_CLASSES.has(c));
  return host.length ? [{ field, reason: `${quote(text)} is in a ${host.join('/')} range (routes of the host such as cloud metadata at 169.254.169.254)` }] : [];
}

/** A fixed address given to a container on a network (connectNetwork ipv4Address). Malformed: BAD_USER_INPUT. */
export function endpointAddressRefusals(field: string, address: string): Refusal[] {
  const cls = classifyAddress(address);
  if (!cls || !(ipaddr.IPv4.isValidFourPartDecimal(address) || ipaddr.IPv6.isValid(address))) throw badInput(field, 'must be an IP address');
  return addressRefusal(field, address, new Set([cls]));
}

/**
 * What createNetwork asks of the host: a driver other than bridge or overlay (macvlan, ipvlan and
 * plugins reach the host's own networks), and a subnet or gateway touching loopback, link-local,
 * multicast, unspecified or reserved addresses. Malformed CIDR or address: BAD_USER_INPUT.
 */
export function networkCreateRefusals(input: { driver?: string | null; subnet?: string | null; gateway?: string | null }): Refusal[] {
  const out: Refusal[] = [];
  const driver = input.driver ?? 'bridge';
  if (!CREATABLE_NETWORK_DRIVERS.has(driver)) out.push({ field: 'driver', reason: `network driver ${quote(driver)} is not allowed (bridge and overlay are open)` });
  if (input.subnet != null) out.push(...addressRefusal('subnet', input.subnet, subnetClasses(parseCidr(input.subnet, 'subnet'))));
  if (input.gateway != null) out.push(...endpointAddressRefusals('gateway', input.gateway));
  return out;
}

/** Driver options a network may be created with, per driver, without the permission (overlay: encrypt its traffic). */
const CREATABLE_NETWORK_OPTIONS: Record<string, ReadonlySet<string>> = { overlay: new Set(['encrypted']) };

/**
 * What a stack's network (as the compose converter makes it) asks of the host: createNetwork's
 * rules for its driver and every subnet, and nothing else it could reach the host with: the
 * default IPAM driver without options, driver options only from CREATABLE_NETWORK_OPTIONS.
 */
export function stackNetworkRefusals(network: {
  Name: string;
  Driver?: string;
  Options?: Record<string, string>;
  IPAM?: { Driver?: string; Config?: Array<{ Subnet?: string }>; Options?: Record<string, string> };
}): Refusal[] {
  const at = (field: string) => `networks.${network.Name}.${field}`;
  const pools = network.IPAM?.Config ?? [];
  const out = networkCreateRefusals({ driver: network.Driver ?? 'bridge' }).map((r) => ({ ...r, field: at(r.field) }));
  pools.forEach((pool, i) => {
    if (pool.Subnet != null) out.push(...networkCreateRefusals({ driver: 'bridge', subnet: pool.Subnet }).map((r) => ({ ...r, field: at(`ipam.config[${i}].subnet`) })));
  });
  const ipamDriver = network.IPAM?.Driver ?? '';
  if (ipamDriver !== '' && ipamDriver !== 'default') out.push({ field: at('ipam.driver'), reason: `IPAM driver ${quote(ipamDriver)} is not allowed (only the default)` });
  if (!isEmpty(network.IPAM?.Options ?? {})) out.push({ field: at('ipam.options'), reason: 'IPAM options are not allowed' });
  const allowed = CREATABLE_NETWORK_OPTIONS[network.Driver ?? 'bridge'] ?? new Set<string>();
  for (const key of Object.keys(network.Options ?? {}))
    if (!allowed.has(key)) out.push({ field: at(`driver_opts.${key}`), reason: `driver option ${quote(key)} is not allowed${allowed.size ? ` (only ${[...allowed].join(', ')})` : ''}` });
  return out;
}

/** Joining a network that exists on the engine: judged by `engineObjectRefusals` like a create's networks. */
export function networkAttachAccess(network: string, field: string): HostAccessSpec {
  const out = emptySpec();
  out.networks.push({ field, value: network });
  return out;
}

// ----------------------------------------------------------------------- running containers

/** The HostConfig keys of a container's inspect that say what it may reach of the host. */
const RUNNING_HOST_CONFIG_KEYS = [
  'Privileged',
  'NetworkMode',
  'PidMode',
  'IpcMode',
  'UTSMode',
  'UsernsMode',
  'CgroupnsMode',
  'CapAdd',
  'Devices',
  'DeviceRequests',
  'SecurityOpt',
  'Sysctls',
  'Binds',
  'Mounts',
  'Capabilities',
  'DeviceCgroupRules',
  'VolumesFrom',
  'VolumeDriver',
  'CgroupParent',
  'Runtime',
  'MaskedPaths',
  'ReadonlyPaths',
];

/**
 * What dockerd's inspect shows for a container created without them: its runtime, and the /proc
 * and /sys paths it masks and makes read-only (moby's defaults since 19.03; a privileged or
 * `systempaths=unconfined` container shows empty lists). A list that keeps all of these is the default.
 */
const INSPECT_DEFAULTS = {
  Runtime: 'runc',
  MaskedPaths: ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware'],
  ReadonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
};

/**
 * What an existing container (its inspect) may reach of the host, judged as if it were being
 * created: exec into it gives the caller the same reach, so it needs the same permission. Every
 * HostConfig key a create is judged on counts; what the daemon fills in by default is taken as
 * the default (INSPECT_DEFAULTS).
 * Inspect shows the daemon's defaults filled in; on a cgroup v1 daemon the default cgroupns mode
 * is `host`, which every container gets (a create that leaves it unset is allowed), so that one
 * value is judged as the default there (`cgroupVersion` from the daemon's info).
 */
export function hostAccessOfRunningContainer(inspect: { HostConfig?: unknown }, cgroupVersion?: string): HostAccessSpec {
  const hc = isObject(inspect.HostConfig) ? { ...inspect.HostConfig } : {};
  if (cgroupVersion === '1' && hc.CgroupnsMode === 'host') delete hc.CgroupnsMode;
  if (hc.Runtime === INSPECT_DEFAULTS.Runtime) delete hc.Runtime;
  for (const key of ['MaskedPaths', 'ReadonlyPaths'] as const) {
    const v = hc[key];
    if (Array.isArray(v) && INSPECT_DEFAULTS[key].every((p) => v.includes(p))) delete hc[key];
  }
  return containerHostAccess({ HostConfig: Object.fromEntries(RUNNING_HOST_CONFIG_KEYS.filter((k) => hc[k] != null).map((k) => [k, hc[k]])) });
}
