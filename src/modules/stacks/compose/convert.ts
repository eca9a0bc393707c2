/**
 * Conversion of a validated compose document to Engine API specs, following `docker stack
 * deploy` (docker/cli): cli/compose/convert/service.go (services), compose.go (namespace, labels,
 * networks, secrets, configs), volume.go (mounts), cli/compose/loader/loader.go (how each field is
 * read: short syntaxes, environment, external objects) and cli/command/stack/deploy_composefile.go
 * (which networks are created, the "overlay" default driver). Comments name the Go function a
 * piece follows. Every problem is collected with its path and thrown together; nothing here
 * talks to Docker: ids of secrets and configs are left for the deployer.
 */
import { posix } from 'node:path';
import { EnvFileError, parseEnvFile } from './envfile';
import type { Lookup } from './interpolate';
import type { ComposeMap, ComposeValue } from './load';
import {
  effectiveCapabilities,
  goCompare,
  goSorted,
  imageReferenceProblem,
  isAddress,
  isPrefix,
  ParseError,
  parseBytes,
  parseCpus,
  parseDuration,
  parseShortPort,
  parseShortVolume,
  shlexSplit,
} from './parse';
import { composeProblem, joinPath, Problems } from './problems';
import { MAX_SERVICE_REPLICAS } from '../../../kernel/config';
import type {
  ConfigReference,
  ConfigSpec,
  ContainerSpec,
  ConvertedStack,
  HealthConfig,
  Labels,
  Mount,
  NetworkAttachment,
  NetworkCreate,
  PortConfig,
  ResourceRequirements,
  RestartPolicy,
  SecretReference,
  SecretSpec,
  ServiceMode,
  ServiceSpec,
  StackVolume,
  Ulimit,
  UpdateConfig,
} from './types';

/** com.docker.stack.namespace: on every service, container, network, secret, config and volume of the stack. */
export const LABEL_NAMESPACE = 'com.docker.stack.namespace';
/** com.docker.stack.image: the image as written in the file, on the service (the CLI compares it on redeploy). */
export const LABEL_IMAGE = 'com.docker.stack.image';
/** The driver of networks the file does not give one (deploy_composefile.go, defaultNetworkDriver). */
export const DEFAULT_NETWORK_DRIVER = 'overlay';
/** Swarm's limits on secret and config data (swarmkit api/validation). */
export const MAX_SECRET_BYTES = 500 * 1024;
export const MAX_CONFIG_BYTES = 1000 * 1024;
/** Most bytes a stack's secrets, configs and env files may add up to (counted per use). */
export const MAX_STACK_DATA_BYTES = 8 * 1024 * 1024;

/** swarmkit's rule for service names (controlapi isValidDNSName), at most 63 characters. */
const SERVICE_NAME = /^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$/;
/** swarmkit's rule for secret and config names, at most 64 characters. */
const OBJECT_NAME = /^[a-zA-Z0-9]+(?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$/;

/** Service keys the CLI refuses outright (types.ForbiddenProperties), with its explanations. */
const FORBIDDEN: Record<string, string> = {
  extends: 'Support for `extends` is not implemented yet.',
  volume_driver: 'Instead of setting the volume driver on the service, define a volume using the top-level `volumes` option and specify the driver there.',
  volumes_from: 'To share a volume between services, define it using the top-level `volumes` option and reference it from each service that shares it using the service-level `volumes` option.',
  cpu_quota: 'Set resource limits using deploy.resources',
  cpu_shares: 'Set resource limits using deploy.resources',
  cpuset: 'Set resource limits using deploy.resources',
  mem_limit: 'Set resource limits using deploy.resources',
  memswap_limit: 'Set resource limits using deploy.resources',
};

/** Service keys the CLI reports as deprecated (types.DeprecatedProperties). */
const DEPRECATED: Record<string, string> = {
  container_name: 'Setting the container name is not supported.',
  expose: "Exposing ports is unnecessary - services on the same network can access each other's containers on any port.",
};

/**
 * The service keys that reach the spec, and inside deploy the keys that do (allow-list: anything
 * else is reported as "Ignoring unsupported options: …", the CLI's wording). `restart` is not
 * listed: the CLI reports it as unsupported (types.UnsupportedProperties) and still maps it to a
 * restart policy when deploy.restart_policy is absent; so do we.
 */
type Shape = { [key: string]: true | Shape };
const SERVICE_SHAPE: Shape = {
  image: true,
  command: true,
  entrypoint: true,
  environment: true,
  env_file: true,
  labels: true,
  healthcheck: true,
  logging: true,
  networks: true,
  ports: true,
  volumes: true,
  secrets: true,
  configs: true,
  user: true,
  working_dir: true,
  hostname: true,
  stop_grace_period: true,
  stop_signal: true,
  init: true,
  cap_add: true,
  cap_drop: true,
  sysctls: true,
  ulimits: true,
  extra_hosts: true,
  dns: true,
  dns_search: true,
  read_only: true,
  tty: true,
  stdin_open: true,
  isolation: true,
  oom_score_adj: true,
  deploy: {
    mode: true,
    replicas: true,
    labels: true,
    update_config: true,
    rollback_config: true,
    restart_policy: true,
    endpoint_mode: true,
    placement: true,
    resources: { limits: { cpus: true, memory: true, pids: true }, reservations: { cpus: true, memory: true, generic_resources: true } },
  },
};

/** Top-level keys; `include` pulls in other files, which a deploy does not carry. */
const TOP_LEVEL = new Set(['version', 'name', 'services', 'networks', 'volumes', 'secrets', 'configs']);

export interface ConvertInput {
  stack: string;
  doc: ComposeMap;
  lookup: Lookup;
  envFiles: Record<string, string>;
  files: Record<string, string>;
  /** Warnings so far (interpolation); conversion adds its own. */
  warnings: string[];
}

/** Converts the document; throws BAD_USER_INPUT with every problem found. */
export function convertStack(input: ConvertInput): ConvertedStack {
  const c = new Converter(input);
  return c.run();
}

// ------------------------------------------------------------------------------------------------
// Reading values (the document passed the schema, so shapes are known; these keep TypeScript honest)
// ------------------------------------------------------------------------------------------------

function isMap(v: ComposeValue | undefined): v is ComposeMap {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);
}

function get(map: ComposeValue | undefined, key: string): ComposeValue | undefined {
  return isMap(map) && Object.hasOwn(map, key) ? map[key] : undefined;
}

function mapOf(v: ComposeValue | undefined): ComposeMap {
  return isMap(v) ? v : {};
}

function has(map: ComposeValue | undefined, key: string): boolean {
  return isMap(map) && Object.hasOwn(map, key) && map[key] !== undefined;
}

/** fmt.Sprint of a scalar (how the CLI turns YAML numbers and booleans into strings). */
function text(v: ComposeValue | undefined): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function list(v: ComposeValue | undefined): ComposeValue[] {
  return Array.isArray(v) ? v : [];
}

/** types.StringList: a string or a list of strings. */
function stringList(v: ComposeValue | undefined): string[] {
  if (typeof v === 'string') return [v];
  return list(v).map((x) => text(x) ?? '');
}

function entries(map: ComposeValue | undefined): Array<[string, ComposeValue]> {
  return isMap(map) ? Object.entries(map) : [];
}

/** types.Labels / Mapping: a mapping, or a list of `key=value` (a bare key is ""). */
function labelsOf(v: ComposeValue | undefined): Labels {
  const out: Labels = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = text(item) ?? '';
      const eq = s.indexOf('=');
      setKey(out, eq < 0 ? s : s.slice(0, eq), eq < 0 ? '' : s.slice(eq + 1));
    }
  } else for (const [k, value] of entries(v)) setKey(out, k, text(value) ?? '');
  return out;
}

/** types.MappingWithEquals (environment): a bare key or a null value has no value (null). */
function environmentOf(v: ComposeValue | undefined): Map<string, string | null> {
  const out = new Map<string, string | null>();
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = text(item) ?? '';
      const eq = s.indexOf('=');
      out.set(eq < 0 ? s : s.slice(0, eq), eq < 0 ? null : s.slice(eq + 1));
    }
  } else for (const [k, value] of entries(v)) out.set(k, text(value) ?? null);
  return out;
}

function setKey<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

function sortedRecord(map: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of goSorted(Object.keys(map))) setKey(out, k, map[k]);
  return out;
}

/** Adds the namespace label (addStackLabel); keys sorted so equal specs serialise equally. */
function withStackLabel(stack: string, labels: Labels): Labels {
  return sortedRecord({ ...labels, [LABEL_NAMESPACE]: stack });
}

/** Normalises a path sent with the deploy or written in the file: `./a/../b.env` → `b.env`. */
export function normalizeFilePath(path: string): string {
  const p = posix.normalize(path.replace(/\\/g, '/'));
  return p.startsWith('./') ? p.slice(2) : p;
}

function isUserDefinedNetwork(name: string): boolean {
  // container.NetworkMode.IsUserDefined: not default, bridge, host, none or container:<id>
  return !['default', 'bridge', 'host', 'none'].includes(name) && !name.startsWith('container:');
}

function bytesOf(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

// ------------------------------------------------------------------------------------------------

class Converter {
  private readonly problems = new Problems();
  /** Bytes of data the stack carries so far (carry). */
  private dataBytes = 0;
  private readonly stack: string;
  private readonly doc: ComposeMap;
  private readonly warnings: string[];
  private readonly networks: ComposeMap;
  private readonly volumes: ComposeMap;
  private readonly secrets: ComposeMap;
  private readonly configs: ComposeMap;
  private readonly usedVolumes = new Map<string, StackVolume>();

  constructor(private readonly input: ConvertInput) {
    this.stack = input.stack;
    this.doc = input.doc;
    this.warnings = input.warnings;
    this.networks = mapOf(get(this.doc, 'networks'));
    this.volumes = mapOf(get(this.doc, 'volumes'));
    this.secrets = mapOf(get(this.doc, 'secrets'));
    this.configs = mapOf(get(this.doc, 'configs'));
  }

  private scope(name: string): string {
    return `${this.stack}_${name}`;
  }

  private fail(path: string, message: string): void {
    this.problems.add(path, message);
  }

  /**
   * Counts what the stack carries (secret and config contents, each service's env files): one
   * file named by thousands of entries would otherwise be copied once per entry. Past
   * MAX_STACK_DATA_BYTES the conversion stops at once.
   */
  private carry(path: string, bytes: number): void {
    this.dataBytes += bytes;
    if (this.dataBytes > MAX_STACK_DATA_BYTES) throw composeProblem(path, `the stack's secrets, configs and env files add up to more than ${MAX_STACK_DATA_BYTES} bytes`);
  }

  /** Records a problem and gives up on the value at path. */
  private refuse(path: string, message: string): undefined {
    this.problems.add(path, message);
    return undefined;
  }

  /** Runs fn, turning a ParseError into a problem at path. */
  private parsed<T>(path: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (error) {
      if (error instanceof ParseError) {
        this.fail(path, error.message);
        return undefined;
      }
      throw error;
    }
  }

  private duration(path: string, v: ComposeValue | undefined): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number') {
      // the schema asks for a string (Go's Duration parses one); a bare 0 can only mean 0
      if (v === 0) return 0;
      this.fail(path, 'must be a duration such as "10s" or "1m30s"');
      return undefined;
    }
    return this.parsed(path, () => parseDuration(String(v)));
  }

  run(): ConvertedStack {
    this.checkTopLevel();
    const services = this.convertServices();
    const { networks, externalNetworks } = this.convertNetworks();
    const { secrets, externalSecrets } = this.convertSecrets();
    const { configs, externalConfigs } = this.convertConfigs();
    this.checkVolumes();
    this.problems.throwIfAny();
    return {
      name: this.stack,
      services,
      networks,
      externalNetworks,
      secrets,
      externalSecrets,
      configs,
      externalConfigs,
      volumes: [...this.usedVolumes.values()].sort((a, b) => goCompare(a.Name, b.Name)),
      warnings: this.warnings,
    };
  }

  private checkTopLevel(): void {
    for (const key of Object.keys(this.doc)) {
      if (key === 'include') this.fail('include', 'is not supported: send one compose file with everything the stack needs');
      else if (!TOP_LEVEL.has(key)) this.warnings.push(`Ignoring unsupported options: ${key}`);
    }
  }

  // ----------------------------------------------------------------------------------------------
  // Services (service.go: Services, Service)
  // ----------------------------------------------------------------------------------------------

  private convertServices(): ServiceSpec[] {
    const services = mapOf(get(this.doc, 'services'));
    const unsupported = new Set<string>();
    const deprecated = new Map<string, string>();
    const out: ServiceSpec[] = [];
    for (const [name, raw] of entries(services)) {
      const path = joinPath('services', name);
      const service = mapOf(raw);
      this.checkKeys(path, service, unsupported, deprecated);
      const spec = this.convertService(name, path, service);
      if (spec) out.push(spec);
    }
    if (unsupported.size > 0) this.warnings.push(`Ignoring unsupported options: ${goSorted(unsupported).join(', ')}`);
    if (deprecated.size > 0) {
      const lines = goSorted([...deprecated].map(([k, d]) => `${k}: ${d}`));
      this.warnings.push(`Ignoring deprecated options:\n\n${lines.join('\n\n')}`);
    }
    return out.sort((a, b) => goCompare(a.Name, b.Name));
  }

  /** loader.go validateForbidden, GetUnsupportedProperties, GetDeprecatedProperties, with an allow-list of what is converted. */
  private checkKeys(path: string, service: ComposeMap, unsupported: Set<string>, deprecated: Map<string, string>): void {
    const walk = (value: ComposeMap, shape: Shape, prefix: string) => {
      for (const key of Object.keys(value)) {
        const name = prefix ? `${prefix}.${key}` : key;
        if (!prefix && Object.hasOwn(FORBIDDEN, key)) this.fail(joinPath(path, key), `is not supported by docker stack deploy: ${FORBIDDEN[key]}`);
        else if (!prefix && Object.hasOwn(DEPRECATED, key)) deprecated.set(key, DEPRECATED[key]);
        else if (!Object.hasOwn(shape, key)) unsupported.add(name);
        else {
          const sub = shape[key];
          if (sub !== true && isMap(value[key])) walk(value[key] as ComposeMap, sub, name);
        }
      }
    };
    walk(service, SERVICE_SHAPE, '');
    // tmpfs mounts: the CLI keeps only the size (volumespec.TmpFsOpts)
    for (const item of list(get(service, 'volumes'))) if (has(get(item, 'tmpfs'), 'mode')) unsupported.add('volumes.tmpfs.mode');
  }

  private convertService(name: string, path: string, service: ComposeMap): ServiceSpec | undefined {
    const fullName = this.scope(name);
    if (fullName.length > 63 || !SERVICE_NAME.test(fullName)) {
      this.fail(path, `the service name ${JSON.stringify(fullName)} is not valid for Swarm (letters, digits, "-" and "_" between them, at most 63 characters)`);
    }
    const image = text(get(service, 'image'));
    if (!image) this.fail(joinPath(path, 'image'), `is required: docker stack deploy does not build images (service ${name})`);
    else {
      const problem = imageReferenceProblem(image);
      if (problem) this.fail(joinPath(path, 'image'), `invalid image reference for service ${name}: ${problem}`);
    }
    const deploy = mapOf(get(service, 'deploy'));
    const container = this.containerSpec(path, service, image ?? '');
    const spec: ServiceSpec = {
      Name: fullName,
      Labels: sortedRecord({ ...withStackLabel(this.stack, labelsOf(get(deploy, 'labels'))), [LABEL_IMAGE]: image ?? '' }),
      TaskTemplate: {
        ContainerSpec: container,
        Resources: this.resources(joinPath(joinPath(path, 'deploy'), 'resources'), get(deploy, 'resources')),
        Placement: this.placement(get(deploy, 'placement')),
        ForceUpdate: 0,
      },
      Mode: this.mode(joinPath(path, 'deploy'), deploy),
      EndpointSpec: this.endpoint(path, service, deploy),
    };
    const restart = this.restartPolicy(path, service, deploy);
    if (restart) spec.TaskTemplate.RestartPolicy = restart;
    const networks = this.serviceNetworks(name, path, service);
    if (networks.length > 0) spec.TaskTemplate.Networks = networks;
    const logging = get(service, 'logging');
    if (isMap(logging)) {
      const driver = text(get(logging, 'driver'));
      const options = get(logging, 'options');
      spec.TaskTemplate.LogDriver = {};
      if (driver) spec.TaskTemplate.LogDriver.Name = driver;
      if (isMap(options) && Object.keys(options).length > 0) spec.TaskTemplate.LogDriver.Options = sortedRecord(labelsOf(options));
    }
    const update = this.updateConfig(joinPath(joinPath(path, 'deploy'), 'update_config'), get(deploy, 'update_config'));
    if (update) spec.UpdateConfig = update;
    const rollback = this.updateConfig(joinPath(joinPath(path, 'deploy'), 'rollback_config'), get(deploy, 'rollback_config'));
    if (rollback) spec.RollbackConfig = rollback;
    return spec;
  }

  private containerSpec(path: string, service: ComposeMap, image: string): ContainerSpec {
    const spec: ContainerSpec = {
      Image: image,
      Labels: withStackLabel(this.stack, labelsOf(get(service, 'labels'))),
      Privileges: { CredentialSpec: null, SELinuxContext: null, NoNewPrivileges: false },
    };
    const entrypoint = this.shellCommand(joinPath(path, 'entrypoint'), get(service, 'entrypoint'));
    if (entrypoint && entrypoint.length > 0) spec.Command = entrypoint;
    const command = this.shellCommand(joinPath(path, 'command'), get(service, 'command'));
    if (command && command.length > 0) spec.Args = command;
    const setString = (key: keyof ContainerSpec & ('Hostname' | 'Dir' | 'User' | 'StopSignal' | 'Isolation'), from: string) => {
      const v = text(get(service, from));
      if (v) spec[key] = v;
    };
    setString('Hostname', 'hostname');
    setString('Dir', 'working_dir');
    setString('User', 'user');
    setString('StopSignal', 'stop_signal');
    setString('Isolation', 'isolation');
    const hosts = this.extraHosts(get(service, 'extra_hosts'));
    if (hosts.length > 0) spec.Hosts = hosts;
    const dns = stringList(get(service, 'dns'));
    const search = stringList(get(service, 'dns_search'));
    if (dns.length > 0 || search.length > 0) {
      // convertDNSConfig: nameservers that are not addresses are left out, as netip.ParseAddr fails on them
      spec.DNSConfig = {};
      const servers = dns.filter(isAddress);
      if (servers.length > 0) spec.DNSConfig.Nameservers = servers;
      if (search.length > 0) spec.DNSConfig.Search = search;
    }
    const health = this.healthcheck(joinPath(path, 'healthcheck'), get(service, 'healthcheck'));
    if (health) spec.Healthcheck = health;
    const env = this.environment(path, service);
    if (env.length > 0) spec.Env = env;
    const mounts = this.mounts(path, service);
    if (mounts.length > 0) spec.Mounts = mounts;
    const grace = this.duration(joinPath(path, 'stop_grace_period'), get(service, 'stop_grace_period'));
    if (grace !== undefined) spec.StopGracePeriod = grace;
    if (get(service, 'tty') === true) spec.TTY = true;
    if (get(service, 'stdin_open') === true) spec.OpenStdin = true;
    if (get(service, 'read_only') === true) spec.ReadOnly = true;
    const secrets = this.secretRefs(path, service);
    if (secrets.length > 0) spec.Secrets = secrets;
    const configs = this.configRefs(path, service);
    if (configs.length > 0) spec.Configs = configs;
    const init = get(service, 'init');
    if (typeof init === 'boolean') spec.Init = init;
    const sysctls = get(service, 'sysctls');
    if (sysctls !== undefined && sysctls !== null) {
      const map = labelsOf(sysctls);
      if (Object.keys(map).length > 0) spec.Sysctls = sortedRecord(map);
    }
    const { capAdd, capDrop } = effectiveCapabilities(stringList(get(service, 'cap_add')), stringList(get(service, 'cap_drop')));
    if (capAdd.length > 0) spec.CapabilityAdd = capAdd;
    if (capDrop.length > 0) spec.CapabilityDrop = capDrop;
    const ulimits = this.ulimits(get(service, 'ulimits'));
    if (ulimits.length > 0) spec.Ulimits = ulimits;
    const oom = get(service, 'oom_score_adj');
    if (typeof oom === 'number' && oom !== 0) spec.OomScoreAdj = oom;
    return spec;
  }

  /** transformShellCommand: a string is split like a shell would (google/shlex), a list is taken as is. */
  private shellCommand(path: string, v: ComposeValue | undefined): string[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return this.parsed(path, () => shlexSplit(v));
    return list(v).map((x) => text(x) ?? '');
  }

  /** transformHostsList + convertExtraHosts: `host:ip` / `host=ip` entries (or a mapping) → "ip host", brackets dropped from IPv6. */
  private extraHosts(v: ComposeValue | undefined): string[] {
    const pairs: string[] = [];
    if (Array.isArray(v)) {
      for (const item of v) {
        const s = text(item) ?? '';
        const sep = s.includes('=') ? '=' : s.includes(':') ? ':' : undefined;
        if (!sep) continue;
        const i = s.indexOf(sep);
        pairs.push(`${s.slice(0, i)}:${s.slice(i + 1)}`);
      }
    } else if (isMap(v)) {
      // toStringList: "host:ip" sorted; compose-spec also allows a list of addresses per host
      const flat: string[] = [];
      for (const [host, ip] of Object.entries(v)) {
        if (ip === null) continue;
        for (const one of Array.isArray(ip) ? ip : [ip]) flat.push(`${host}:${text(one) ?? ''}`);
      }
      pairs.push(...goSorted(flat));
    }
    return pairs.map((pair) => {
      const i = pair.indexOf(':');
      let ip = pair.slice(i + 1);
      if (ip.length > 2 && ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
      return `${ip} ${pair.slice(0, i)}`;
    });
  }

  /** convertHealthcheck (durations in ns; `disable` → Test ["NONE"]; a string test → CMD-SHELL). */
  private healthcheck(path: string, v: ComposeValue | undefined): HealthConfig | undefined {
    if (v === undefined || v === null) return undefined;
    const h = mapOf(v);
    const test = get(h, 'test');
    const tests = typeof test === 'string' ? ['CMD-SHELL', test] : Array.isArray(test) ? test.map((x) => text(x) ?? '') : [];
    if (get(h, 'disable') === true) {
      if (tests.length > 0) {
        this.fail(path, "test and disable can't be set at the same time");
        return undefined;
      }
      return { Test: ['NONE'] };
    }
    const out: HealthConfig = {};
    if (tests.length > 0) out.Test = tests;
    for (const [key, field] of [
      ['interval', 'Interval'],
      ['timeout', 'Timeout'],
      ['start_period', 'StartPeriod'],
      ['start_interval', 'StartInterval'],
    ] as const) {
      const d = this.duration(joinPath(path, key), get(h, key));
      if (d) out[field] = d;
    }
    const retries = get(h, 'retries');
    if (typeof retries === 'number') {
      if (retries < 0) this.fail(joinPath(path, 'retries'), 'must not be negative');
      else if (retries > 0) out.Retries = retries;
    }
    return out;
  }

  /**
   * resolveEnvironment / updateEnvironment / convertEnvironment: env_file entries first, then
   * `environment:`; a variable without a value (or with an empty one) takes the deploy's variable
   * of that name when there is one; sorted as "KEY=value" strings (a key without value as "KEY").
   */
  private environment(path: string, service: ComposeMap): string[] {
    const env = new Map<string, string | null>();
    const update = (vars: Map<string, string | null>) => {
      for (const [k, v] of vars) {
        const looked = this.input.lookup(k);
        env.set(k, (v === null || v === '') && looked !== undefined ? looked : v);
      }
    };
    const envFile = get(service, 'env_file');
    const files: Array<{ file: string; required: boolean; at: string }> = [];
    if (typeof envFile === 'string') files.push({ file: envFile, required: true, at: joinPath(path, 'env_file') });
    else
      list(envFile).forEach((item, i) => {
        const at = joinPath(joinPath(path, 'env_file'), i);
        if (isMap(item)) files.push({ file: text(get(item, 'path')) ?? '', required: get(item, 'required') !== false, at });
        else files.push({ file: text(item) ?? '', required: true, at });
      });
    for (const { file, required, at } of files) {
      const key = normalizeFilePath(file);
      const content = Object.hasOwn(this.input.envFiles, key) ? this.input.envFiles[key] : Object.hasOwn(this.input.files, key) ? this.input.files[key] : undefined;
      if (content === undefined) {
        if (required) this.fail(at, `${JSON.stringify(file)} was not sent with the deploy (envFiles)`);
        continue;
      }
      this.carry(at, bytesOf(content));
      try {
        update(parseEnvFile(content, this.input.lookup));
      } catch (error) {
        if (!(error instanceof EnvFileError)) throw error;
        this.fail(at, `invalid env file ${JSON.stringify(file)}: ${error.message}`);
      }
    }
    update(environmentOf(get(service, 'environment')));
    return goSorted([...env].map(([k, v]) => (v === null ? k : `${k}=${v}`)));
  }

  /** convertUlimits: a number sets soft and hard, sorted by name. */
  private ulimits(v: ComposeValue | undefined): Ulimit[] {
    const out: Ulimit[] = [];
    for (const [name, value] of entries(v)) {
      if (typeof value === 'number') out.push({ Name: name, Soft: value, Hard: value });
      else out.push({ Name: name, Soft: Number(get(value, 'soft') ?? 0), Hard: Number(get(value, 'hard') ?? 0) });
    }
    return out.sort((a, b) => goCompare(a.Name, b.Name));
  }

  // ----------------------------------------------------------------------------------------------
  // deploy:
  // ----------------------------------------------------------------------------------------------

  /** convertDeployMode. */
  private mode(path: string, deploy: ComposeMap): ServiceMode {
    const mode = text(get(deploy, 'mode')) ?? '';
    const raw = get(deploy, 'replicas');
    let replicas: number | undefined;
    if (typeof raw === 'number') {
      if (raw < 0) this.fail(joinPath(path, 'replicas'), 'must not be negative');
      else if (raw > MAX_SERVICE_REPLICAS) this.fail(joinPath(path, 'replicas'), `must be at most ${MAX_SERVICE_REPLICAS}`);
      else replicas = raw;
    }
    switch (mode) {
      case 'global-job':
      case 'global':
        if (replicas !== undefined) this.fail(joinPath(path, 'replicas'), 'replicas can only be used with replicated or replicated-job mode');
        return mode === 'global' ? { Global: {} } : { GlobalJob: {} };
      case 'replicated-job':
        return { ReplicatedJob: replicas === undefined ? {} : { MaxConcurrent: replicas, TotalCompletions: replicas } };
      case 'replicated':
      case '':
        return { Replicated: replicas === undefined ? {} : { Replicas: replicas } };
      default:
        this.fail(joinPath(path, 'mode'), `unknown mode: ${mode}`);
        return { Replicated: {} };
    }
  }

  /** convertResources: limits (cpus, memory, pids) and reservations (cpus, memory, generic resources); always an object. */
  private resources(path: string, v: ComposeValue | undefined): ResourceRequirements {
    const out: ResourceRequirements = {};
    const limits = get(v, 'limits');
    if (isMap(limits)) {
      const at = joinPath(path, 'limits');
      out.Limits = {};
      const cpus = this.cpus(joinPath(at, 'cpus'), get(limits, 'cpus'));
      if (cpus) out.Limits.NanoCPUs = cpus;
      const memory = this.bytes(joinPath(at, 'memory'), get(limits, 'memory'));
      if (memory) out.Limits.MemoryBytes = memory;
      const pids = get(limits, 'pids');
      if (typeof pids === 'number' && pids !== 0) out.Limits.Pids = pids;
    }
    const reservations = get(v, 'reservations');
    if (isMap(reservations)) {
      const at = joinPath(path, 'reservations');
      out.Reservations = {};
      const cpus = this.cpus(joinPath(at, 'cpus'), get(reservations, 'cpus'));
      if (cpus) out.Reservations.NanoCPUs = cpus;
      const memory = this.bytes(joinPath(at, 'memory'), get(reservations, 'memory'));
      if (memory) out.Reservations.MemoryBytes = memory;
      const generic = list(get(reservations, 'generic_resources')).map((r) => {
        const d = get(r, 'discrete_resource_spec');
        if (d === undefined) return {};
        const spec: { Kind?: string; Value?: number } = {};
        const kind = text(get(d, 'kind'));
        const value = get(d, 'value');
        if (kind) spec.Kind = kind;
        if (typeof value === 'number' && value !== 0) spec.Value = value;
        return { DiscreteResourceSpec: spec };
      });
      if (generic.length > 0) out.Reservations.GenericResources = generic;
    }
    return out;
  }

  private cpus(path: string, v: ComposeValue | undefined): number | undefined {
    if (v === undefined || v === null || v === '') return undefined;
    return this.parsed(path, () => parseCpus(typeof v === 'number' ? v : String(v)));
  }

  private bytes(path: string, v: ComposeValue | undefined): number | undefined {
    if (v === undefined || v === null) return undefined;
    return this.parsed(path, () => parseBytes(typeof v === 'number' ? v : String(v)));
  }

  /** convertRestartPolicy: deploy.restart_policy, else the legacy `restart:`. */
  private restartPolicy(path: string, service: ComposeMap, deploy: ComposeMap): RestartPolicy | undefined {
    const policy = get(deploy, 'restart_policy');
    const at = joinPath(joinPath(path, 'deploy'), 'restart_policy');
    if (isMap(policy)) {
      const out: RestartPolicy = {};
      const condition = text(get(policy, 'condition'));
      if (condition) out.Condition = condition;
      const delay = this.duration(joinPath(at, 'delay'), get(policy, 'delay'));
      if (delay !== undefined) out.Delay = delay;
      const attempts = get(policy, 'max_attempts');
      if (typeof attempts === 'number') {
        if (attempts < 0) this.fail(joinPath(at, 'max_attempts'), 'must not be negative');
        else out.MaxAttempts = attempts;
      }
      const window = this.duration(joinPath(at, 'window'), get(policy, 'window'));
      if (window !== undefined) out.Window = window;
      return out;
    }
    const restart = text(get(service, 'restart')) ?? '';
    if (restart === '') return undefined;
    const colon = restart.indexOf(':');
    const name = colon < 0 ? restart : restart.slice(0, colon);
    const count = colon < 0 ? '' : restart.slice(colon + 1);
    const where = joinPath(path, 'restart');
    if (colon >= 0 && name === '') {
      this.fail(where, 'invalid restart policy format: no policy provided before colon');
      return undefined;
    }
    let retries = 0;
    if (count !== '') {
      if (!/^[+-]?\d+$/.test(count)) {
        this.fail(where, 'invalid restart policy format: maximum retry count must be an integer');
        return undefined;
      }
      retries = Number(count);
      if (retries < 0) {
        this.fail(where, 'invalid restart policy: maximum retry count cannot be negative');
        return undefined;
      }
    }
    const attempts = retries > 0 ? { MaxAttempts: retries } : {};
    switch (name) {
      case 'no':
        return undefined;
      case 'always':
      case 'unless-stopped':
        return { Condition: 'any', ...attempts };
      case 'on-failure':
        return { Condition: 'on-failure', ...attempts };
      default:
        this.fail(where, `invalid restart policy: unknown policy '${name}' (must be one of 'no', 'always', 'on-failure', or 'unless-stopped')`);
        return undefined;
    }
  }

  /** Service.Placement: constraints, spread preferences, max replicas per node; always an object. */
  private placement(v: ComposeValue | undefined): ServiceSpec['TaskTemplate']['Placement'] {
    const out: ServiceSpec['TaskTemplate']['Placement'] = {};
    const constraints = stringList(get(v, 'constraints'));
    if (constraints.length > 0) out.Constraints = constraints;
    const preferences = list(get(v, 'preferences')).map((p) => ({ Spread: { SpreadDescriptor: text(get(p, 'spread')) ?? '' } }));
    if (preferences.length > 0) out.Preferences = preferences;
    const max = get(v, 'max_replicas_per_node');
    if (typeof max === 'number' && max > 0) out.MaxReplicas = max;
    return out;
  }

  /** convertUpdateConfig: parallelism 1 unless given; MaxFailureRatio and Order always sent. */
  private updateConfig(path: string, v: ComposeValue | undefined): UpdateConfig | undefined {
    if (!isMap(v)) return undefined;
    const parallelism = get(v, 'parallelism');
    const out: UpdateConfig = { Parallelism: typeof parallelism === 'number' ? parallelism : 1, MaxFailureRatio: 0, Order: '' };
    if (typeof parallelism === 'number' && parallelism < 0) this.fail(joinPath(path, 'parallelism'), 'must not be negative');
    const delay = this.duration(joinPath(path, 'delay'), get(v, 'delay'));
    if (delay) out.Delay = delay;
    const action = text(get(v, 'failure_action'));
    if (action) out.FailureAction = action;
    const monitor = this.duration(joinPath(path, 'monitor'), get(v, 'monitor'));
    if (monitor) out.Monitor = monitor;
    const ratio = get(v, 'max_failure_ratio');
    if (typeof ratio === 'number') out.MaxFailureRatio = float32(ratio);
    out.Order = text(get(v, 'order')) ?? '';
    return out;
  }

  /** convertEndpointSpec: ports (short syntax expanded, long syntax as written) sorted as PortConfig.Compare does. */
  private endpoint(path: string, service: ComposeMap, deploy: ComposeMap): ServiceSpec['EndpointSpec'] {
    const ports: PortConfig[] = [];
    list(get(service, 'ports')).forEach((item, i) => {
      const at = joinPath(joinPath(path, 'ports'), i);
      if (typeof item === 'string' || typeof item === 'number') {
        const parsed = this.parsed(at, () => parseShortPort(String(item), this.warnings));
        // PortConfig's fields are omitempty: a port published as 0 (Docker picks one) leaves PublishedPort out
        for (const p of parsed ?? []) ports.push({ Protocol: p.protocol, TargetPort: p.target, ...(p.published ? { PublishedPort: p.published } : {}), PublishMode: p.mode });
        return;
      }
      const target = get(item, 'target');
      const published = get(item, 'published');
      if (typeof target !== 'number') this.fail(joinPath(at, 'target'), 'is required (a port number)');
      if (published !== undefined && published !== null && typeof published !== 'number') {
        this.fail(joinPath(at, 'published'), 'must be a port number (docker stack deploy does not publish ranges in the long syntax)');
      }
      for (const [key, n] of [
        ['target', target],
        ['published', published],
      ] as const) {
        if (typeof n === 'number' && (n < 0 || n > 65535)) this.fail(joinPath(at, key), 'must be a port number (0-65535)');
      }
      const port: PortConfig = {};
      const protocol = text(get(item, 'protocol'));
      if (protocol) port.Protocol = protocol;
      if (typeof target === 'number' && target !== 0) port.TargetPort = target;
      if (typeof published === 'number' && published !== 0) port.PublishedPort = published;
      const mode = text(get(item, 'mode'));
      if (mode) port.PublishMode = mode;
      ports.push(port);
    });
    ports.sort(comparePorts);
    const out: ServiceSpec['EndpointSpec'] = {};
    const mode = text(get(deploy, 'endpoint_mode'));
    if (mode) out.Mode = mode.toLowerCase();
    if (ports.length > 0) out.Ports = ports;
    return out;
  }

  // ----------------------------------------------------------------------------------------------
  // Networks (service.go convertServiceNetworks; compose.go Networks; deploy_composefile.go)
  // ----------------------------------------------------------------------------------------------

  /** The networks a service joins, by compose name (`default` when it names none). */
  private serviceNetworkNames(service: ComposeMap): Map<string, ComposeValue> {
    const raw = get(service, 'networks');
    const out = new Map<string, ComposeValue>();
    if (Array.isArray(raw)) for (const n of raw) out.set(text(n) ?? '', null);
    else for (const [k, v] of entries(raw)) out.set(k, v);
    if (out.size === 0) out.set('default', null);
    return out;
  }

  /** The Docker name of a stack network: its `name:`, or `<stack>_<key>`. */
  private networkName(key: string): string {
    const config = get(this.networks, key);
    const name = text(get(config, 'name'));
    if (name) return name;
    const external = get(config, 'external');
    const externalName = text(get(external, 'name'));
    if (isExternal(config) && externalName) return externalName;
    return isExternal(config) ? key : this.scope(key);
  }

  private serviceNetworks(name: string, path: string, service: ComposeMap): NetworkAttachment[] {
    const out: NetworkAttachment[] = [];
    for (const [key, config] of this.serviceNetworkNames(service)) {
      if (!Object.hasOwn(this.networks, key) && key !== 'default') {
        this.fail(joinPath(joinPath(path, 'networks'), key), `undefined network ${JSON.stringify(key)}`);
        continue;
      }
      const target = this.networkName(key);
      const attachment: NetworkAttachment = { Target: target };
      const aliases = stringList(get(config ?? undefined, 'aliases'));
      // only user-defined networks take aliases; the service's name is always one
      if (isUserDefinedNetwork(target)) aliases.push(name);
      if (aliases.length > 0) attachment.Aliases = aliases;
      const opts = get(config ?? undefined, 'driver_opts');
      if (isMap(opts) && Object.keys(opts).length > 0) attachment.DriverOpts = sortedRecord(labelsOf(opts));
      out.push(attachment);
    }
    return out.sort((a, b) => goCompare(a.Target, b.Target));
  }

  /** Networks: those services join (getServicesDeclaredNetworks), external ones only referenced. */
  private convertNetworks(): { networks: NetworkCreate[]; externalNetworks: string[] } {
    const used = new Set<string>();
    for (const [, service] of entries(get(this.doc, 'services'))) for (const key of this.serviceNetworkNames(mapOf(service)).keys()) used.add(key);
    const created = new Map<string, NetworkCreate>();
    const external = new Set<string>();
    for (const key of used) {
      if (!Object.hasOwn(this.networks, key) && key !== 'default') continue; // reported with the service
      const config = get(this.networks, key);
      const path = joinPath('networks', key);
      const name = this.networkName(key);
      if (isExternal(config)) {
        if (text(get(config, 'name')) && text(get(get(config, 'external'), 'name'))) {
          this.fail(path, `network ${key}: network.external.name and network.name conflict; only use network.name`);
        }
        // networks that always exist on every node (host, bridge, none) are not looked up (validateExternalNetworks)
        if (isUserDefinedNetwork(name)) external.add(name);
        continue;
      }
      const spec: NetworkCreate = {
        Name: name,
        Driver: text(get(config, 'driver')) || DEFAULT_NETWORK_DRIVER,
        Internal: get(config, 'internal') === true,
        Attachable: get(config, 'attachable') === true,
        Labels: withStackLabel(this.stack, labelsOf(get(config, 'labels'))),
      };
      const options = get(config, 'driver_opts');
      if (isMap(options)) spec.Options = sortedRecord(labelsOf(options));
      const ipam = get(config, 'ipam');
      const ipamDriver = text(get(ipam, 'driver'));
      const pools = list(get(ipam, 'config'));
      if (ipamDriver || pools.length > 0) {
        spec.IPAM = {};
        if (ipamDriver) spec.IPAM.Driver = ipamDriver;
        if (pools.length > 0) {
          spec.IPAM.Config = pools.map((pool, i) => {
            // only the subnet is taken (compose.go Networks). The CLI sends one that does not parse
            // as netip.ParsePrefix's zero value, i.e. no subnet at all; refusing it is safer
            const subnet = text(get(pool, 'subnet'));
            if (subnet === undefined) return {};
            if (!isPrefix(subnet)) this.fail(joinPath(joinPath(joinPath(joinPath(path, 'ipam'), 'config'), i), 'subnet'), `${JSON.stringify(subnet)} is not a subnet in CIDR notation`);
            return { Subnet: subnet };
          });
        }
      }
      if (created.has(name)) this.fail(path, `two networks of the stack are named ${JSON.stringify(name)}`);
      created.set(name, spec);
    }
    return { networks: [...created.values()].sort((a, b) => goCompare(a.Name, b.Name)), externalNetworks: goSorted(external) };
  }

  // ----------------------------------------------------------------------------------------------
  // Volumes (volume.go; loader.go resolveVolumePaths, LoadVolumes)
  // ----------------------------------------------------------------------------------------------

  private checkVolumes(): void {
    for (const [key, config] of entries(this.volumes)) {
      if (!isExternal(config)) continue;
      for (const field of ['driver', 'driver_opts', 'labels']) {
        const v = get(config, field);
        const set = field === 'driver' ? Boolean(text(v)) : isMap(v) ? Object.keys(v).length > 0 : Array.isArray(v) && v.length > 0;
        if (set) this.fail(joinPath('volumes', key), `conflicting parameters "external" and ${JSON.stringify(field)} specified for volume ${JSON.stringify(key)}`);
      }
      if (text(get(config, 'name')) && text(get(get(config, 'external'), 'name'))) {
        this.fail(joinPath('volumes', key), `volume ${key}: volume.external.name and volume.name conflict; only use volume.name`);
      }
    }
  }

  private mounts(path: string, service: ComposeMap): Mount[] {
    const out: Mount[] = [];
    list(get(service, 'volumes')).forEach((item, i) => {
      const at = joinPath(joinPath(path, 'volumes'), i);
      const m = this.mount(at, item);
      if (m) out.push(m);
    });
    return out;
  }

  /** One service volume: read (short syntax through volumespec.Parse), bind source checked, converted (convertVolumeToMount). */
  private mount(at: string, item: ComposeValue): Mount | undefined {
    let v: {
      type: string;
      source: string;
      target: string;
      readOnly: boolean;
      consistency: string;
      bind?: ComposeValue;
      volume?: ComposeValue;
      tmpfs?: ComposeValue;
      image?: ComposeValue;
      cluster?: ComposeValue;
    };
    if (typeof item === 'string') {
      const short = this.parsed(at, () => parseShortVolume(item));
      if (!short) return undefined;
      v = { type: short.type, source: short.source, target: short.target, readOnly: short.readOnly, consistency: '' };
      if (short.nocopy) v.volume = { nocopy: true };
      if (short.propagation) v.bind = { propagation: short.propagation };
    } else {
      v = {
        type: text(get(item, 'type')) ?? '',
        source: text(get(item, 'source')) ?? '',
        target: text(get(item, 'target')) ?? '',
        readOnly: get(item, 'read_only') === true,
        consistency: text(get(item, 'consistency')) ?? '',
      };
      for (const key of ['bind', 'volume', 'tmpfs', 'image', 'cluster'] as const) if (has(item, key)) v[key] = get(item, key) ?? {};
    }
    if (v.type === 'bind') {
      if (v.source === '') {
        this.fail(at, 'invalid mount config for type "bind": field Source must not be empty');
        return undefined;
      }
      const source = this.bindSource(at, v.source);
      if (source === undefined) return undefined;
      v.source = source;
    }
    const base: Mount = { Type: (v.type || 'volume') as Mount['Type'] };
    if (v.source) base.Source = v.source;
    if (v.target) base.Target = v.target;
    if (v.readOnly) base.ReadOnly = true;
    if (v.consistency) base.Consistency = v.consistency;
    const incompatible = (type: string, ...keys: Array<'bind' | 'volume' | 'tmpfs' | 'image' | 'cluster'>) => {
      for (const key of keys) {
        if (v[key] !== undefined) {
          this.fail(at, `${key === 'image' ? 'images' : key} options are incompatible with type ${type}`);
          return true;
        }
      }
      return false;
    };
    switch (v.type) {
      case 'volume':
      case '': {
        if (incompatible('volume', 'image', 'tmpfs', 'bind', 'cluster')) return undefined;
        if (v.source === '') return base; // anonymous volume
        if (!Object.hasOwn(this.volumes, v.source)) {
          this.fail(at, `undefined volume ${JSON.stringify(v.source)}`);
          return undefined;
        }
        const config = get(this.volumes, v.source);
        base.Source = this.volumeName(v.source);
        base.VolumeOptions = {};
        if (v.volume !== undefined) {
          if (get(v.volume, 'nocopy') === true) base.VolumeOptions.NoCopy = true;
          const subpath = text(get(v.volume, 'subpath'));
          if (subpath) base.VolumeOptions.Subpath = subpath;
        }
        this.noteVolume(v.source, base.Source);
        if (isExternal(config)) return base;
        base.VolumeOptions.Labels = withStackLabel(this.stack, labelsOf(get(config, 'labels')));
        const driver = text(get(config, 'driver'));
        const opts = get(config, 'driver_opts');
        if (driver || isMap(opts)) {
          base.VolumeOptions.DriverConfig = {};
          if (driver) base.VolumeOptions.DriverConfig.Name = driver;
          if (isMap(opts) && Object.keys(opts).length > 0) base.VolumeOptions.DriverConfig.Options = sortedRecord(labelsOf(opts));
        }
        return base;
      }
      case 'image':
        if (v.source === '') return this.refuse(at, 'invalid image source, source cannot be empty');
        if (incompatible('image', 'volume', 'bind', 'tmpfs', 'cluster')) return undefined;
        if (v.image !== undefined) {
          const subpath = text(get(v.image, 'subpath'));
          base.ImageOptions = subpath ? { Subpath: subpath } : {};
        }
        return base;
      case 'bind':
        if (incompatible('bind', 'volume', 'image', 'tmpfs', 'cluster')) return undefined;
        if (v.bind !== undefined) {
          const propagation = text(get(v.bind, 'propagation'));
          base.BindOptions = propagation ? { Propagation: propagation } : {};
        }
        return base;
      case 'tmpfs': {
        if (v.source !== '') return this.refuse(at, 'invalid tmpfs source, source must be empty');
        if (incompatible('tmpfs', 'bind', 'volume', 'image', 'cluster')) return undefined;
        if (v.tmpfs !== undefined) {
          const size = get(v.tmpfs, 'size');
          const bytes = size === undefined || size === null ? undefined : this.parsed(joinPath(joinPath(at, 'tmpfs'), 'size'), () => parseBytes(typeof size === 'number' ? size : String(size)));
          base.TmpfsOptions = bytes ? { SizeBytes: bytes } : {};
        }
        return base;
      }
      case 'npipe':
        if (v.source === '') return this.refuse(at, 'invalid npipe source, source cannot be empty');
        if (incompatible('npipe', 'volume', 'image', 'tmpfs')) return undefined;
        if (v.bind !== undefined) {
          const propagation = text(get(v.bind, 'propagation'));
          base.BindOptions = propagation ? { Propagation: propagation } : {};
        }
        return base;
      case 'cluster':
        if (v.source === '') return this.refuse(at, 'invalid cluster source, source cannot be empty');
        if (incompatible('cluster', 'tmpfs', 'bind', 'volume')) return undefined;
        base.ClusterOptions = {};
        if (!v.source.startsWith('group:')) {
          if (!Object.hasOwn(this.volumes, v.source)) return this.refuse(at, `undefined volume ${JSON.stringify(v.source)}`);
          base.Source = this.volumeName(v.source);
        }
        return base;
      default:
        this.fail(joinPath(at, 'type'), 'volume type must be volume, bind, tmpfs, npipe, or cluster');
        return undefined;
    }
  }

  /**
   * resolveVolumePaths/expandUser: `~` is the deploy's HOME variable; the CLI makes a relative
   * source absolute against its working directory, which a server does not have, so a relative
   * source is refused.
   */
  private bindSource(at: string, source: string): string | undefined {
    let s = source;
    if (s.startsWith('~')) {
      const home = this.input.lookup('HOME');
      if (home === undefined) {
        this.fail(at, `cannot expand "~" in ${JSON.stringify(source)}: the deploy sets no HOME variable`);
        return undefined;
      }
      s = home + s.slice(1);
    }
    const windowsAbsolute = /^[A-Za-z]:[\\/]/.test(s) || s.startsWith('\\\\');
    if (!s.startsWith('/') && !windowsAbsolute) {
      this.fail(at, `bind mount source ${JSON.stringify(source)} must be an absolute path (there is no working directory to resolve it against)`);
      return undefined;
    }
    return s;
  }

  private volumeName(key: string): string {
    const config = get(this.volumes, key);
    const name = text(get(config, 'name'));
    if (name) return name;
    const externalName = text(get(get(config, 'external'), 'name'));
    if (isExternal(config)) return externalName || key;
    return this.scope(key);
  }

  private noteVolume(key: string, name: string): void {
    if (this.usedVolumes.has(key)) return;
    const config = get(this.volumes, key);
    const volume: StackVolume = { Name: name, External: isExternal(config) };
    if (!volume.External) {
      const driver = text(get(config, 'driver'));
      if (driver) volume.Driver = driver;
      const opts = get(config, 'driver_opts');
      if (isMap(opts) && Object.keys(opts).length > 0) volume.DriverOpts = sortedRecord(labelsOf(opts));
      volume.Labels = withStackLabel(this.stack, labelsOf(get(config, 'labels')));
    }
    this.usedVolumes.set(key, volume);
  }

  // ----------------------------------------------------------------------------------------------
  // Secrets and configs (compose.go Secrets, Configs; service.go convertServiceSecrets, convertFileObject)
  // ----------------------------------------------------------------------------------------------

  private objectName(kind: 'secret' | 'config', key: string, config: ComposeValue | undefined, path: string): string {
    const name = text(get(config, 'name'));
    const externalName = text(get(get(config, 'external'), 'name'));
    if (isExternal(config)) {
      if (name && externalName) this.fail(path, `${kind} ${key}: ${kind}.external.name and ${kind}.name conflict; only use ${kind}.name`);
      return name || externalName || key;
    }
    return name || this.scope(key);
  }

  /** The data of a secret or config: `file:` sent with the deploy, inline `content:`, or `environment:` (a deploy variable). */
  private objectData(kind: 'secret' | 'config', path: string, config: ComposeValue | undefined): string | undefined {
    const file = text(get(config, 'file'));
    const content = get(config, 'content');
    const variable = text(get(config, 'environment'));
    if (file !== undefined) {
      const key = normalizeFilePath(file);
      if (!Object.hasOwn(this.input.files, key)) {
        this.fail(joinPath(path, 'file'), `${JSON.stringify(file)} was not sent with the deploy (files)`);
        return undefined;
      }
      return this.input.files[key];
    }
    if (typeof content === 'string') return content;
    if (variable !== undefined) {
      const value = this.input.lookup(variable);
      if (value === undefined) this.fail(joinPath(path, 'environment'), `the variable ${variable} is not set in the deploy's variables`);
      return value;
    }
    this.fail(path, `a ${kind} needs file, ${kind === 'config' ? 'content, ' : ''}environment or external`);
    return undefined;
  }

  private convertSecrets(): { secrets: SecretSpec[]; externalSecrets: string[] } {
    const out: SecretSpec[] = [];
    for (const [key, config] of entries(this.secrets)) {
      const path = joinPath('secrets', key);
      const name = this.objectName('secret', key, config, path);
      if (isExternal(config)) continue;
      this.checkObjectName('secret', path, name);
      const driver = text(get(config, 'driver'));
      let data = '';
      if (driver) {
        if (text(get(config, 'file'))) this.fail(path, `secret ${key}: secret.driver and secret.file conflict; only use secret.driver`);
      } else {
        const content = this.objectData('secret', path, config);
        if (content === undefined) continue;
        if (bytesOf(content) > MAX_SECRET_BYTES) this.fail(path, `the secret's data is ${bytesOf(content)} bytes; Swarm accepts at most ${MAX_SECRET_BYTES}`);
        this.carry(path, bytesOf(content));
        data = Buffer.from(content, 'utf8').toString('base64');
      }
      const spec: SecretSpec = { Name: name, Labels: withStackLabel(this.stack, labelsOf(get(config, 'labels'))), Data: data };
      if (driver) {
        spec.Driver = { Name: driver };
        const opts = get(config, 'driver_opts');
        if (isMap(opts) && Object.keys(opts).length > 0) spec.Driver.Options = sortedRecord(labelsOf(opts));
      }
      const template = text(get(config, 'template_driver'));
      if (template) spec.Templating = { Name: template };
      out.push(spec);
    }
    return { secrets: out.sort((a, b) => goCompare(a.Name, b.Name)), externalSecrets: this.externalUsed('secrets', this.secrets) };
  }

  private convertConfigs(): { configs: ConfigSpec[]; externalConfigs: string[] } {
    const out: ConfigSpec[] = [];
    for (const [key, config] of entries(this.configs)) {
      const path = joinPath('configs', key);
      const name = this.objectName('config', key, config, path);
      if (isExternal(config)) continue;
      this.checkObjectName('config', path, name);
      const content = this.objectData('config', path, config);
      if (content === undefined) continue;
      if (bytesOf(content) > MAX_CONFIG_BYTES) this.fail(path, `the config's data is ${bytesOf(content)} bytes; Swarm accepts at most ${MAX_CONFIG_BYTES}`);
      this.carry(path, bytesOf(content));
      const spec: ConfigSpec = { Name: name, Labels: withStackLabel(this.stack, labelsOf(get(config, 'labels'))), Data: Buffer.from(content, 'utf8').toString('base64') };
      const template = text(get(config, 'template_driver'));
      if (template) spec.Templating = { Name: template };
      out.push(spec);
    }
    return { configs: out.sort((a, b) => goCompare(a.Name, b.Name)), externalConfigs: this.externalUsed('configs', this.configs) };
  }

  private checkObjectName(kind: string, path: string, name: string): void {
    if (name.length > 64 || !OBJECT_NAME.test(name)) {
      this.fail(path, `the ${kind} name ${JSON.stringify(name)} is not valid for Swarm (letters and digits, with "-", "_" or "." between them, at most 64 characters)`);
    }
  }

  /** Names of the external secrets or configs services mount (the CLI looks each up by name). */
  private externalUsed(section: 'secrets' | 'configs', declared: ComposeMap): string[] {
    const names = new Set<string>();
    for (const [, service] of entries(get(this.doc, 'services'))) {
      for (const ref of list(get(service, section))) {
        const source = typeof ref === 'string' ? ref : (text(get(ref, 'source')) ?? '');
        if (Object.hasOwn(declared, source) && isExternal(get(declared, source))) {
          names.add(this.objectName(section === 'secrets' ? 'secret' : 'config', source, get(declared, source), joinPath(section, source)));
        }
      }
    }
    return goSorted(names);
  }

  private fileRefs(kind: 'secret' | 'config', path: string, service: ComposeMap): Array<{ name: string; file: SecretReference['File'] }> {
    const section = kind === 'secret' ? 'secrets' : 'configs';
    const declared = kind === 'secret' ? this.secrets : this.configs;
    const out: Array<{ name: string; file: SecretReference['File'] }> = [];
    const targets = new Set<string>();
    list(get(service, section)).forEach((ref, i) => {
      const at = joinPath(joinPath(path, section), i);
      const source = typeof ref === 'string' ? ref : (text(get(ref, 'source')) ?? '');
      if (!Object.hasOwn(declared, source)) {
        this.fail(at, `undefined ${kind} ${JSON.stringify(source)}`);
        return;
      }
      const name = this.objectName(kind, source, get(declared, source), joinPath(section, source));
      const target = (typeof ref === 'string' ? undefined : text(get(ref, 'target'))) || source;
      const uid = (typeof ref === 'string' ? undefined : text(get(ref, 'uid'))) || '0';
      const gid = (typeof ref === 'string' ? undefined : text(get(ref, 'gid'))) || '0';
      const mode = typeof ref === 'string' ? undefined : get(ref, 'mode');
      if (mode !== undefined && (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o7777)) {
        this.fail(joinPath(at, 'mode'), 'must be a file mode (for example 0440)');
        return;
      }
      if (targets.has(target)) {
        this.fail(at, `duplicate ${kind} target for ${name} not allowed`);
        return;
      }
      targets.add(target);
      out.push({ name, file: { Name: target, UID: uid, GID: gid, Mode: typeof mode === 'number' ? mode : 0o444 } });
    });
    // sorted by name for idempotence (sort.SliceStable on the name); equal names by target
    return out.sort((a, b) => goCompare(a.name, b.name) || goCompare(a.file.Name, b.file.Name));
  }

  private secretRefs(path: string, service: ComposeMap): SecretReference[] {
    return this.fileRefs('secret', path, service).map(({ name, file }) => ({ File: file, SecretName: name }));
  }

  private configRefs(path: string, service: ComposeMap): ConfigReference[] {
    return this.fileRefs('config', path, service).map(({ name, file }) => ({ File: file, ConfigName: name }));
  }
}

/** `external: true`, or the deprecated `external: { name: … }`. */
function isExternal(config: ComposeValue | undefined): boolean {
  const external = get(config, 'external');
  return external === true || isMap(external);
}

/** A float32 as Go's encoding/json prints it: the shortest decimal that reads back as the same float32. */
function float32(value: number): number {
  const f = Math.fround(value);
  for (let digits = 1; digits <= 9; digits++) {
    const shortest = Number(f.toPrecision(digits));
    if (Math.fround(shortest) === f) return shortest;
  }
  return f;
}

/** swarm.PortConfig.Compare: published, target, protocol, publish mode. */
function comparePorts(a: PortConfig, b: PortConfig): number {
  return (
    (a.PublishedPort ?? 0) - (b.PublishedPort ?? 0) || (a.TargetPort ?? 0) - (b.TargetPort ?? 0) || goCompare(a.Protocol ?? '', b.Protocol ?? '') || goCompare(a.PublishMode ?? '', b.PublishMode ?? '')
  );
}
