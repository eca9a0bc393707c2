/**
 * The parity corpus (test/fixtures/compose/*.yml) through the converter: for each file, the
 * fields `docker stack deploy` would send, derived from docker/cli's Go code (the file cited next
 * to each expectation: cli/compose/convert/{service,compose,volume}.go, cli/compose/loader/loader.go,
 * cli/command/stack/deploy_composefile.go). The lead's parity test deploys the same files with the
 * CLI and with fleetgraph; this one pins what the converter produces without Docker.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { loadStack, type ConvertedStack, type ServiceSpec } from '../../src/modules/stacks/compose';
import { MAX_STACK_DATA_BYTES } from '../../src/modules/stacks/compose/convert';
import { MAX_SERVICE_REPLICAS } from '../../src/kernel/config';
import { parseCompose } from '../../src/modules/stacks/compose/load';
import { interpolate } from '../../src/modules/stacks/compose/interpolate';
import { parseDuration, parseShortPort } from '../../src/modules/stacks/compose/parse';

const DIR = path.join(__dirname, '..', 'fixtures', 'compose');
const STACK = 'par';
const NS = { 'com.docker.stack.namespace': STACK };
const IMAGE = 'local/busybox:1';

/** The files secrets, configs and env_file entries of the corpus name (`./files/…`), as a deploy would send them. */
function corpusFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(path.join(DIR, 'files'))) out[`./files/${f}`] = fs.readFileSync(path.join(DIR, 'files', f), 'utf8');
  return out;
}

function load(file: string, variables: Record<string, string> = {}): ConvertedStack {
  return loadStack({ name: STACK, compose: fs.readFileSync(path.join(DIR, file), 'utf8'), variables, files: corpusFiles() });
}

function service(stack: ConvertedStack, name: string): ServiceSpec {
  const found = stack.services.find((s) => s.Name === `${STACK}_${name}`);
  if (!found) throw new Error(`no service ${name} in ${stack.services.map((s) => s.Name).join(', ')}`);
  return found;
}

const corpus = fs.readdirSync(DIR).filter((f) => f.endsWith('.yml'));

describe('compose corpus → Engine API specs (docker stack deploy parity)', () => {
  it('holds at least 12 files, each using only local/busybox:1', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(12);
    for (const file of corpus) {
      const stack = load(file);
      expect(stack.services.length).toBeGreaterThan(0);
      for (const s of stack.services) expect(s.TaskTemplate.ContainerSpec.Image).toBe(IMAGE);
    }
  });

  it('every corpus file passes the schema the Docker CLI validates with (config_schema_v3.13.json), after interpolation', () => {
    // cli/compose/schema/schema.go: draft-04 with "ports" and "duration" format checkers; ajv reads
    // the draft-04 keywords the file uses the same way once its "id"s are dropped
    const raw = JSON.parse(fs.readFileSync(path.join(DIR, 'cli-schema', 'config_schema_v3.13.json'), 'utf8'));
    const strip = (n: any): any =>
      Array.isArray(n)
        ? n.map(strip)
        : n && typeof n === 'object'
          ? Object.fromEntries(
              Object.entries(n)
                .filter(([k, v]) => !((k === 'id' || k === '$schema') && typeof v === 'string'))
                .map(([k, v]) => [k, strip(v)]),
            )
          : n;
    const ajv = new Ajv({ allErrors: true, strict: false });
    const ok = (fn: () => unknown) => {
      try {
        fn();
        return true;
      } catch {
        return false;
      }
    };
    ajv.addFormat('ports', { type: 'string', validate: (s: string) => ok(() => parseShortPort(s, [])) });
    ajv.addFormat('duration', (s: string) => ok(() => parseDuration(s)));
    ajv.addFormat('expose', true);
    const validate = ajv.compile(strip(raw));
    for (const file of corpus) {
      const doc = interpolate(parseCompose(fs.readFileSync(path.join(DIR, file), 'utf8')), () => undefined, []);
      const valid = validate(doc);
      expect({ file, errors: valid ? [] : validate.errors }).toEqual({ file, errors: [] });
    }
    // and the checker is not a rubber stamp
    expect(validate({ services: { a: { image: IMAGE, deploy: { replicas: 'two' } } } })).toBe(false);
    expect(validate({ services: { a: { image: IMAGE, stop_grace_period: '10' } } })).toBe(false);
  });

  it('minimal.yml: <stack>_<name>, namespace and image labels, the <stack>_default overlay network', () => {
    const stack = load('minimal.yml');
    const app = service(stack, 'app');
    // service.go Service: Annotations.Name = namespace.Scope(name); Labels = deploy labels + namespace, plus LabelImage
    expect(app.Name).toBe('par_app');
    expect(app.Labels).toEqual({ ...NS, 'com.docker.stack.image': IMAGE });
    // ContainerSpec.Labels = service labels + namespace; Args = command; Privileges always set
    expect(app.TaskTemplate.ContainerSpec).toEqual({
      Image: IMAGE,
      Labels: NS,
      Args: ['sleep', '3600'],
      Privileges: { CredentialSpec: null, SELinuxContext: null, NoNewPrivileges: false },
    });
    // convertServiceNetworks: no networks → "default", scoped, the service name as alias (user-defined network)
    expect(app.TaskTemplate.Networks).toEqual([{ Target: 'par_default', Aliases: ['app'] }]);
    // convertDeployMode("", nil) → Replicated with no replica count; Resources/Placement always non-nil; EndpointSpec always set
    expect(app.Mode).toEqual({ Replicated: {} });
    expect(app.TaskTemplate.Resources).toEqual({});
    expect(app.TaskTemplate.Placement).toEqual({});
    expect(app.EndpointSpec).toEqual({});
    expect(app.TaskTemplate.RestartPolicy).toBeUndefined();
    expect(app.UpdateConfig).toBeUndefined();
    // compose.go Networks + deploy_composefile.go createNetworks: the default network, driver "overlay", namespace label
    expect(stack.networks).toEqual([{ Name: 'par_default', Driver: 'overlay', Internal: false, Attachable: false, Labels: NS }]);
    expect(stack.secrets).toEqual([]);
    expect(stack.configs).toEqual([]);
    expect(stack.warnings).toEqual([]);
  });

  it('deploy-full.yml: replicas, endpoint mode, labels, resources, restart policy, update and rollback configs', () => {
    const api = service(load('deploy-full.yml'), 'api');
    expect(api.Mode).toEqual({ Replicated: { Replicas: 2 } });
    // convertEndpointSpec: Mode lower-cased
    expect(api.EndpointSpec).toEqual({ Mode: 'dnsrr' });
    expect(api.Labels).toEqual({ ...NS, 'com.docker.stack.image': IMAGE, 'com.example.tier': 'backend', 'com.example.owner': 'ops' });
    // convertResources: opts.ParseCPUs ("0.50" → 5e8 nano CPUs), go-units RAMInBytes (64M → 64 MiB), Pids
    expect(api.TaskTemplate.Resources).toEqual({
      Limits: { NanoCPUs: 500_000_000, MemoryBytes: 64 * 1024 * 1024, Pids: 100 },
      Reservations: { NanoCPUs: 250_000_000, MemoryBytes: 32 * 1024 * 1024 },
    });
    // convertRestartPolicy: durations in ns
    expect(api.TaskTemplate.RestartPolicy).toEqual({ Condition: 'on-failure', Delay: 5e9, MaxAttempts: 3, Window: 120e9 });
    // convertUpdateConfig: Parallelism as given (0 stays 0), MaxFailureRatio and Order always present
    expect(api.UpdateConfig).toEqual({ Parallelism: 2, Delay: 10e9, FailureAction: 'rollback', Monitor: 30e9, MaxFailureRatio: 0.1, Order: 'start-first' });
    expect(api.RollbackConfig).toEqual({ Parallelism: 0, Delay: 1e9, FailureAction: 'pause', Monitor: 5e9, MaxFailureRatio: 0.5, Order: 'stop-first' });
  });

  it('healthcheck.yml: exec and shell tests, durations in ns, disable and NONE', () => {
    const stack = load('healthcheck.yml');
    // convertHealthcheck: time.Duration values; retries as given
    expect(service(stack, 'exec').TaskTemplate.ContainerSpec.Healthcheck).toEqual({
      Test: ['CMD', 'true'],
      Interval: 10e9,
      Timeout: 3e9,
      Retries: 4,
      StartPeriod: 90e9,
      StartInterval: 2e9,
    });
    // loader.go transformHealthCheckTest: a string becomes ["CMD-SHELL", s]
    expect(service(stack, 'shell').TaskTemplate.ContainerSpec.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'test -e /bin/sh'], Interval: 500e6 });
    // convertHealthcheck: disable → Test ["NONE"]; a NONE test is passed as written
    expect(service(stack, 'disabled').TaskTemplate.ContainerSpec.Healthcheck).toEqual({ Test: ['NONE'] });
    expect(service(stack, 'none').TaskTemplate.ContainerSpec.Healthcheck).toEqual({ Test: ['NONE'] });
  });

  it('ports.yml: short syntax expanded (ingress, tcp default, ranges, host IP ignored with a warning), long syntax as written, sorted', () => {
    const stack = load('ports.yml');
    // loader.go toServicePortConfigs (nat.ParsePortSpecs + swarmopts.ConvertPortToPortConfig); service.go
    // convertEndpointSpec sorts with PortConfig.Compare (published, target, protocol, mode); zero fields are omitempty
    expect(service(stack, 'web').EndpointSpec.Ports).toEqual([
      { Protocol: 'tcp', TargetPort: 9000, PublishMode: 'ingress' },
      { Protocol: 'udp', TargetPort: 53, PublishedPort: 38053, PublishMode: 'ingress' },
      { Protocol: 'tcp', TargetPort: 80, PublishedPort: 38080, PublishMode: 'ingress' },
      { Protocol: 'tcp', TargetPort: 81, PublishedPort: 38081, PublishMode: 'ingress' },
      { Protocol: 'tcp', TargetPort: 82, PublishedPort: 38082, PublishMode: 'ingress' },
      { Protocol: 'tcp', TargetPort: 8080, PublishedPort: 38090, PublishMode: 'ingress' },
      // the long syntax passes protocol and mode through as written (none given: none sent; Docker defaults to tcp)
      { TargetPort: 8081, PublishedPort: 38091, PublishMode: 'host' },
      { Protocol: 'tcp', TargetPort: 443, PublishedPort: 38443, PublishMode: 'ingress' },
    ]);
    // swarmopts/port.go ConvertPortToPortConfig's warning
    expect(stack.warnings).toEqual(["ignoring IP-address (127.0.0.1:38443:443/tcp) service will listen on '0.0.0.0'"]);
  });

  it('volumes.yml: named volumes scoped and labelled (or by name:), driver config, anonymous, bind, tmpfs', () => {
    const stack = load('volumes.yml');
    const mounts = service(stack, 'store').TaskTemplate.ContainerSpec.Mounts;
    const dataOptions = { Labels: { ...NS, 'com.example.backup': 'daily' } };
    // volume.go handleVolumeToMount: Source = namespace.Scope(name) unless the volume has a name; VolumeOptions
    // always set for a named volume, with labels (+ namespace) and a DriverConfig when a driver or driver_opts is set
    expect(mounts).toEqual([
      { Type: 'volume', Source: 'par_data', Target: '/data', VolumeOptions: dataOptions },
      {
        Type: 'volume',
        Source: 'shared-cache-volume',
        Target: '/cache',
        ReadOnly: true,
        VolumeOptions: { Labels: NS, DriverConfig: { Name: 'local', Options: { type: 'tmpfs', device: 'tmpfs' } } },
      },
      // volumespec.Parse: one path is an anonymous volume
      { Type: 'volume', Target: '/anonymous' },
      // an absolute source is a bind (volumespec isFilePath)
      { Type: 'bind', Source: '/tmp', Target: '/host-tmp', ReadOnly: true },
      { Type: 'volume', Source: 'par_data', Target: '/data-nocopy', VolumeOptions: { NoCopy: true, ...dataOptions } },
      { Type: 'bind', Source: '/tmp', Target: '/host-tmp-private', ReadOnly: true, BindOptions: { Propagation: 'rprivate' } },
      // handleTmpfsToMount: TmpfsOptions.SizeBytes
      { Type: 'tmpfs', Target: '/scratch', TmpfsOptions: { SizeBytes: 16777216 } },
    ]);
    expect(stack.volumes.map((v) => v.Name)).toEqual(['par_data', 'shared-cache-volume']);
  });

  it('secrets-configs.yml: created from the files sent, scoped names (or name:), references with targets, owners and modes', () => {
    const stack = load('secrets-configs.yml');
    const b64 = (f: string) => Buffer.from(corpusFiles()[`./files/${f}`]).toString('base64');
    // compose.go Secrets/Configs + fileObjectConfig: Name = name: or namespace.Scope(key); Labels + namespace; Data = file content
    expect(stack.secrets).toEqual([
      { Name: 'par_api_key', Labels: { ...NS, 'com.example.kind': 'key' }, Data: b64('api_key.txt') },
      { Name: 'par_db_password', Labels: NS, Data: b64('db_password.txt') },
    ]);
    expect(stack.configs).toEqual([
      { Name: 'fixed-nginx-config', Labels: NS, Data: b64('nginx.conf') },
      { Name: 'par_app_config', Labels: NS, Data: b64('app.conf') },
    ]);
    const app = service(stack, 'app').TaskTemplate.ContainerSpec;
    // service.go convertFileObject: target defaults to the source key, uid/gid "0", mode 0444; sorted by name.
    // Modes are written in YAML 1.1 octal (0400), which the CLI's go-yaml reads as octal.
    expect(app.Secrets).toEqual([
      { File: { Name: 'api.key', UID: '1000', GID: '1000', Mode: 0o400 }, SecretName: 'par_api_key' },
      { File: { Name: 'db_password', UID: '0', GID: '0', Mode: 0o444 }, SecretName: 'par_db_password' },
    ]);
    expect(app.Configs).toEqual([
      { File: { Name: '/etc/nginx/conf.d/default.conf', UID: '0', GID: '0', Mode: 0o440 }, ConfigName: 'fixed-nginx-config' },
      { File: { Name: 'app_config', UID: '0', GID: '0', Mode: 0o444 }, ConfigName: 'par_app_config' },
    ]);
  });

  it('networks.yml: only networks services use are created, with IPAM, labels, internal/attachable; aliases; sorted attachments', () => {
    const stack = load('networks.yml');
    // deploy_composefile.go getServicesDeclaredNetworks: "unused" is not created; compose.go Networks
    expect(stack.networks).toEqual([
      { Name: 'par_default', Driver: 'overlay', Internal: false, Attachable: false, Labels: NS },
      { Name: 'par_private', Driver: 'overlay', Internal: true, Attachable: false, Labels: NS },
      { Name: 'par_public', Driver: 'overlay', Internal: false, Attachable: true, Labels: { ...NS, 'com.example.net': 'public' }, IPAM: { Config: [{ Subnet: '10.231.7.0/24' }] } },
    ]);
    // convertServiceNetworks: user aliases then the service name, sorted by target
    expect(service(stack, 'front').TaskTemplate.Networks).toEqual([
      { Target: 'par_private', Aliases: ['front'] },
      { Target: 'par_public', Aliases: ['www', 'front-alias', 'front'] },
    ]);
    expect(service(stack, 'back').TaskTemplate.Networks).toEqual([{ Target: 'par_private', Aliases: ['back'] }]);
    expect(service(stack, 'loner').TaskTemplate.Networks).toEqual([{ Target: 'par_default', Aliases: ['loner'] }]);
  });

  it('env-interp.yml: defaults, $$, env_file then environment, bare keys from the variables, sorted', () => {
    const plain = load('env-interp.yml');
    const app = service(plain, 'app');
    // interpolation defaults; $$ is a literal $ (template.go)
    expect(app.TaskTemplate.ContainerSpec.Image).toBe(IMAGE);
    expect(app.TaskTemplate.ContainerSpec.Args).toEqual(['sh', '-c', 'echo $HOME && sleep 3600']);
    expect(app.TaskTemplate.ContainerSpec.Labels).toEqual({ ...NS, 'com.example.stage': 'dev' });
    // loader/interpolate.go casts deploy.replicas to an integer
    expect(app.Mode).toEqual({ Replicated: { Replicas: 1 } });
    // loader.go resolveEnvironment: env_file first, environment overrides; a bare key without a variable stays "KEY";
    // service.go convertEnvironment sorts
    expect(app.TaskTemplate.ContainerSpec.Env).toEqual(['EMPTY=', 'FILE_ONLY=from-file', 'FROM_FILE_OVERRIDE=compose', 'GREETING=hello', 'PASSED_THROUGH', 'SPACED=two words']);
    expect(service(plain, 'map').TaskTemplate.ContainerSpec.Env).toEqual(['A_KEY=1', 'B_KEY=two words', 'C_BOOL=true', 'D_NULL']);

    const given = load('env-interp.yml', { GREETING: 'hi', STAGE: '', REPLICAS: '3', PASSED_THROUGH: 'yes', EMPTY: 'filled' });
    const app2 = service(given, 'app');
    // updateEnvironment: a key without a value, or with an empty one, takes the variable
    expect(app2.TaskTemplate.ContainerSpec.Env).toEqual(['EMPTY=filled', 'FILE_ONLY=from-file', 'FROM_FILE_OVERRIDE=compose', 'GREETING=hi', 'PASSED_THROUGH=yes', 'SPACED=two words']);
    // ${STAGE-dev}: set but empty → empty
    expect(app2.TaskTemplate.ContainerSpec.Labels).toEqual({ ...NS, 'com.example.stage': '' });
    expect(app2.Mode).toEqual({ Replicated: { Replicas: 3 } });
  });

  it('global-mode.yml: Global mode, constraint, update config with the parallelism default', () => {
    const agent = service(load('global-mode.yml'), 'agent');
    expect(agent.Mode).toEqual({ Global: {} });
    expect(agent.TaskTemplate.Placement).toEqual({ Constraints: ['node.platform.os == linux'] });
    expect(agent.UpdateConfig).toEqual({ Parallelism: 1, Delay: 2e9, MaxFailureRatio: 0, Order: 'stop-first' });
  });

  it('container-keys.yml: entrypoint/command split like a shell, and every container key the CLI maps', () => {
    const box = service(load('container-keys.yml'), 'box');
    // service.go Service: ContainerSpec fields; loader.go transformShellCommand (google/shlex; # starts a comment)
    expect(box.TaskTemplate.ContainerSpec).toEqual({
      Image: IMAGE,
      Labels: { ...NS, 'com.example.container': 'yes' },
      Command: ['/bin/sh', '-c'],
      Args: ['sleep 3600'],
      Hostname: 'box-host',
      Dir: '/tmp',
      User: '1000:1000',
      Privileges: { CredentialSpec: null, SELinuxContext: null, NoNewPrivileges: false },
      Init: true,
      StopSignal: 'SIGINT',
      TTY: true,
      OpenStdin: true,
      ReadOnly: true,
      StopGracePeriod: 65e9,
      // convertExtraHosts: "IP host", order kept; "host=ip" accepted too (transformHostsList)
      Hosts: ['10.0.0.5 db.internal', '10.0.0.6 cache.internal'],
      DNSConfig: { Nameservers: ['10.0.0.53', '10.0.0.54'], Search: ['example.internal'] },
      Sysctls: { 'net.core.somaxconn': '1024' },
      // opts.EffectiveCapAddCapDrop: normalised to CAP_…, ALL upper-cased
      CapabilityAdd: ['CAP_NET_BIND_SERVICE'],
      CapabilityDrop: ['ALL'],
    });
    expect(box.Labels).toEqual({ ...NS, 'com.docker.stack.image': IMAGE, 'com.example.service': 'yes' });
  });

  it('logging-ulimits.yml: log driver with options, ulimits sorted (a single value sets soft and hard)', () => {
    const logs = service(load('logging-ulimits.yml'), 'logs');
    expect(logs.TaskTemplate.LogDriver).toEqual({ Name: 'json-file', Options: { 'max-size': '10m', 'max-file': '3' } });
    // convertUlimits
    expect(logs.TaskTemplate.ContainerSpec.Ulimits).toEqual([
      { Name: 'nofile', Soft: 1024, Hard: 2048 },
      { Name: 'nproc', Soft: 512, Hard: 512 },
    ]);
  });

  it('placement.yml: constraints, spread preferences, max replicas per node', () => {
    const spread = service(load('placement.yml'), 'spread');
    // service.go getPlacementPreference
    expect(spread.TaskTemplate.Placement).toEqual({
      Constraints: ['node.role == manager', 'node.platform.os == linux'],
      Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }, { Spread: { SpreadDescriptor: 'node.id' } }],
      MaxReplicas: 2,
    });
    expect(spread.Mode).toEqual({ Replicated: { Replicas: 2 } });
  });

  it('jobs.yml: replicated-job (replicas = max concurrent = total completions) and global-job', () => {
    const stack = load('jobs.yml');
    // convertDeployMode
    expect(service(stack, 'migrate').Mode).toEqual({ ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 2 } });
    expect(service(stack, 'migrate').TaskTemplate.RestartPolicy).toEqual({ Condition: 'none' });
    expect(service(stack, 'each-node').Mode).toEqual({ GlobalJob: {} });
  });

  it("unsupported.yml: the CLI's warnings for unsupported and deprecated keys; restart still maps to a policy", () => {
    const stack = load('unsupported.yml');
    // cli/command/stack/loader.go loadComposeFile: "Ignoring unsupported options: …" and "Ignoring deprecated options:…";
    // depends_on is not in the CLI's list (it ignores it silently): ours is an allow-list of what is converted
    expect(stack.warnings).toEqual([
      'Ignoring unsupported options: build, depends_on, links, privileged, restart',
      "Ignoring deprecated options:\n\ncontainer_name: Setting the container name is not supported.\n\nexpose: Exposing ports is unnecessary - services on the same network can access each other's containers on any port.",
    ]);
    // convertRestartPolicy falls back to the legacy restart: "on-failure:5"
    expect(service(stack, 'app').TaskTemplate.RestartPolicy).toEqual({ Condition: 'on-failure', MaxAttempts: 5 });
    expect(service(stack, 'app').TaskTemplate.ContainerSpec).not.toHaveProperty('Privileged');
  });

  it('anchors.yml: anchors and merge keys resolved, x- fields gone', () => {
    const stack = load('anchors.yml');
    const one = service(stack, 'one');
    const two = service(stack, 'two');
    expect(one.TaskTemplate.ContainerSpec.Labels).toEqual({ ...NS, 'com.example.common': 'true' });
    expect(one.Mode).toEqual({ Replicated: { Replicas: 2 } });
    expect(one.Labels).toEqual({ ...NS, 'com.docker.stack.image': IMAGE, 'com.example.deploy': 'anchored' });
    // a merge key's own keys win over the merged ones
    expect(two.Mode).toEqual({ Replicated: { Replicas: 1 } });
    expect(two.Labels).toEqual(one.Labels);
    expect(two.TaskTemplate.ContainerSpec.Env).toEqual(['ROLE=two']);
    expect(JSON.stringify(stack)).not.toContain('x-');
    expect(stack.warnings).toEqual([]);
  });

  it('is deterministic: the same input gives byte-identical output', () => {
    for (const file of corpus) expect(JSON.stringify(load(file))).toBe(JSON.stringify(load(file)));
  });
});

describe('bounds of what a stack may ask for', () => {
  const refusal = (compose: string, files: Record<string, string> = {}) => {
    try {
      loadStack({ name: 'app', compose, files });
    } catch (err) {
      return err as { extensions: { code: string; field: string }; message: string };
    }
    throw new Error('the stack was accepted');
  };

  it(`refuses more than ${MAX_SERVICE_REPLICAS} replicas (the managers would create a task per replica at once)`, () => {
    const err = refusal('services:\n  web:\n    image: busybox\n    deploy:\n      replicas: 1000000000\n');
    expect(err.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'services.web.deploy.replicas' });
    expect(loadStack({ name: 'app', compose: `services:\n  web:\n    image: busybox\n    deploy:\n      replicas: ${MAX_SERVICE_REPLICAS}\n` }).services[0].Mode).toEqual({
      Replicated: { Replicas: MAX_SERVICE_REPLICAS },
    });
  });

  it('stops converting once secrets and configs naming one file add up to more than MAX_STACK_DATA_BYTES', () => {
    const file = 'x'.repeat(400 * 1024);
    const count = Math.ceil(MAX_STACK_DATA_BYTES / file.length) + 5;
    const secrets = Array.from({ length: count }, (_, i) => `  s${i}:\n    file: ./big\n`).join('');
    const err = refusal(`services:\n  web:\n    image: busybox\nsecrets:\n${secrets}`, { big: file });
    expect(err.extensions.code).toBe('BAD_USER_INPUT');
    expect(err.message).toMatch(/add up to more than/);
  });
});
