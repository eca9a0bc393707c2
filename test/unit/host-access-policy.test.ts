import {
  containerHostAccess,
  engineObjectRefusals,
  EngineObjects,
  HostAccessSpec,
  hostAccessRefusals,
  namedVolumes,
  networkReferences,
  endpointAddressRefusals,
  hostAccessOfRunningContainer,
  networkAttachAccess,
  networkCreateRefusals,
  stackNetworkRefusals,
  parseBindRoots,
  serviceHostAccess,
} from '../../src/platform/policy/host-access';
import { createOptions } from '../../src/modules/docker-resources/containers';
import { buildServiceSpec } from '../../src/modules/swarm/services';
import { SwarmServiceMode } from '../../entities';
import { MAX_SERVICE_REPLICAS } from '../../src/kernel/config';

/**
 * The host-access policy as a table: container create bodies and swarm ServiceSpecs, allowed
 * and refused, decided on the body Docker would get. Roots: /srv/rw (read-write), /srv/ro.
 */
const ROOTS = parseBindRoots('/srv/rw:rw, /srv/ro');

type Kind = 'container' | 'service';
type Obj = Record<string, unknown>;

/** A container create body with this HostConfig (and top-level extras). */
const c = (hostConfig: Obj, top: Obj = {}): Obj => ({ Image: 'local/busybox:1', Cmd: ['true'], ...top, HostConfig: hostConfig });
/** A ServiceSpec with this ContainerSpec (and TaskTemplate / top-level extras). */
const s = (containerSpec: Obj, taskTemplate: Obj = {}, top: Obj = {}): Obj => ({
  Name: 'svc',
  ...top,
  TaskTemplate: { ContainerSpec: { Image: 'local/busybox:1', ...containerSpec }, ...taskTemplate },
  Mode: { Replicated: { Replicas: 1 } },
});
const bind = (spec: string) => c({ Binds: [spec] });
const svcMount = (m: Obj) => s({ Mounts: [m] });

function access(kind: Kind, body: Obj): HostAccessSpec {
  return kind === 'container' ? containerHostAccess(body) : serviceHostAccess(body);
}

function refusals(kind: Kind, body: Obj) {
  return hostAccessRefusals(access(kind, body), ROOTS);
}

// [description, kind, body]
const ALLOWED: Array<[string, Kind, Obj]> = [
  ['a plain container', 'container', c({})],
  ['a named local volume', 'container', bind('data:/data')],
  ['a named volume read-only, nocopy', 'container', bind('data:/data:ro,nocopy')],
  ['an anonymous volume (Binds)', 'container', bind('/data')],
  ['an anonymous volume (Config.Volumes)', 'container', c({}, { Volumes: { '/data': {} } })],
  ['tmpfs (HostConfig.Tmpfs)', 'container', c({ Tmpfs: { '/run': 'rw,size=64m' } })],
  ['tmpfs (Mounts)', 'container', c({ Mounts: [{ Type: 'tmpfs', Target: '/scratch', TmpfsOptions: { SizeBytes: 1 << 20 } }] })],
  ['a volume mount with a local DriverConfig without options', 'container', c({ Mounts: [{ Type: 'volume', Source: 'data', Target: '/d', VolumeOptions: { DriverConfig: { Name: 'local' } } }] })],
  ['the read-write root itself', 'container', bind('/srv/rw:/d')],
  ['the read-write root itself, spelled with // and a trailing /', 'container', bind('//srv//rw/:/d:rw')],
  ['the read-only root itself, read-only', 'container', bind('/srv/ro:/d:ro')],
  ['the read-only root as a read-only bind mount', 'container', c({ Mounts: [{ Type: 'bind', Source: '/srv/ro', Target: '/d', ReadOnly: true, BindOptions: { Propagation: 'rprivate' } }] })],
  ['default capabilities added, in any spelling', 'container', c({ CapAdd: ['NET_BIND_SERVICE', 'cap_chown', 'Kill'] })],
  ['dropping capabilities, ALL included', 'container', c({ CapDrop: ['ALL'] })],
  ['no-new-privileges', 'container', c({ SecurityOpt: ['no-new-privileges', 'no-new-privileges:true'] })],
  ['namespaced sysctls', 'container', c({ Sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0', 'kernel.shmmax': '1', 'fs.mqueue.msg_max': '10', 'kernel.domainname': 'x' } })],
  ['private namespace modes', 'container', c({ NetworkMode: 'none', IpcMode: 'shareable', PidMode: '', CgroupnsMode: 'private' })],
  ['a user-defined network (driver asked of the engine)', 'container', c({ NetworkMode: 'backend' })],
  [
    'resources, ports, restart policy, json-file logs, a positive OOM score',
    'container',
    c({
      Memory: 64 << 20,
      NanoCpus: 5e8,
      PidsLimit: 100,
      PortBindings: { '80/tcp': [{ HostPort: '8080' }] },
      RestartPolicy: { Name: 'always' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m' } },
      OomScoreAdj: 500,
    }),
  ],
  ['defaults spelled out', 'container', c({ Privileged: false, VolumeDriver: '', VolumesFrom: [], Devices: [], CgroupParent: '', Runtime: '', MaskedPaths: null })],
  ['a plain service', 'service', s({})],
  [
    'a service with tmpfs and a named volume',
    'service',
    s({
      Mounts: [
        { Type: 'tmpfs', Target: '/scratch' },
        { Type: 'volume', Source: 'data', Target: '/data', ReadOnly: false },
      ],
    }),
  ],
  ['a service binding the read-only root read-only', 'service', svcMount({ Type: 'bind', Source: '/srv/ro', Target: '/d', ReadOnly: true })],
  ['a service with no-new-privileges and default seccomp/AppArmor', 'service', s({ Privileges: { NoNewPrivileges: true, Seccomp: { Mode: 'default' }, AppArmor: { Mode: 'default' } } })],
  ['a service adding a default capability', 'service', s({ CapabilityAdd: ['CAP_KILL'], CapabilityDrop: ['CAP_NET_RAW'] })],
  ['a service on an overlay network (driver asked of the engine)', 'service', s({}, { Networks: [{ Target: 'backend', Aliases: ['web'] }] })],
  [
    'a service spec as the manager reads it back',
    'service',
    s(
      { Init: false, StopGracePeriod: 1e9, DNSConfig: {}, Isolation: 'default', HealthCheck: { Test: ['NONE'] } },
      { Resources: { Limits: {}, Reservations: {} }, RestartPolicy: { Condition: 'any', MaxAttempts: 0 }, Placement: {}, ForceUpdate: 0, Runtime: 'container' },
      { Labels: {}, EndpointSpec: { Mode: 'dnsrr' }, UpdateConfig: { Parallelism: 1 } },
    ),
  ],
];

// [description, kind, body, field that is named, reason pattern]
const REFUSED: Array<[string, Kind, Obj, string, RegExp]> = [
  ['privileged', 'container', c({ Privileged: true }), 'HostConfig.Privileged', /privileged container/],
  ['"privileged" in lower case (Docker matches keys case-insensitively)', 'container', c({ privileged: true }), 'HostConfig.Privileged', /privileged container/],
  ['a key given twice in different case', 'container', c({ Privileged: false, PRIVILEGED: true }), 'HostConfig.PRIVILEGED', /twice/],
  ['bind of /', 'container', bind('/:/host'), 'HostConfig.Binds[0]', /bind of \/ is outside the allowed host roots/],
  ['SELinux relabel Z of the read-only root', 'container', bind('/srv/ro:/d:ro,Z'), 'HostConfig.Binds[0]', /SELinux relabel "Z" changes the label of the host directory \/srv\/ro/],
  ['SELinux relabel z of the read-write root', 'container', bind('/srv/rw:/d:z'), 'HostConfig.Binds[0]', /SELinux relabel "z"/],
  ['bind of the Docker socket', 'container', bind('/var/run/docker.sock:/var/run/docker.sock'), 'HostConfig.Binds[0]', /outside the allowed host roots/],
  ["bind of containerd's socket", 'container', bind('/run/containerd/containerd.sock:/c.sock'), 'HostConfig.Binds[0]', /outside/],
  ["bind of podman's socket", 'container', bind('/run/podman/podman.sock:/p.sock'), 'HostConfig.Binds[0]', /outside/],
  ['bind of /var', 'container', bind('/var:/v'), 'HostConfig.Binds[0]', /bind of \/var is outside/],
  ['bind of /home', 'container', bind('/home:/h:ro'), 'HostConfig.Binds[0]', /outside/],
  ['bind of /tmp', 'container', bind('/tmp:/t'), 'HostConfig.Binds[0]', /outside/],
  ['bind of the D-Bus system socket', 'container', bind('/run/dbus/system_bus_socket:/s'), 'HostConfig.Binds[0]', /outside/],
  ['bind of /srv (the parent of the roots)', 'container', bind('/srv:/s:ro'), 'HostConfig.Binds[0]', /outside/],
  ['bind of a path below a read-write root (a planted symlink)', 'container', bind('/srv/rw/r:/host'), 'HostConfig.Binds[0]', /below the host root \/srv\/rw.*symlinks/],
  ['bind of a path below a read-only root', 'container', bind('/srv/ro/sub:/x:ro'), 'HostConfig.Binds[0]', /below the host root \/srv\/ro/],
  ['the read-only root bound read-write', 'container', bind('/srv/ro:/d'), 'HostConfig.Binds[0]', /read-only/],
  ['a root-named prefix that is not the root (/srv/rw2)', 'container', bind('/srv/rw2:/d'), 'HostConfig.Binds[0]', /outside/],
  ['a bind mount of /etc (Mounts)', 'container', c({ Mounts: [{ Type: 'bind', Source: '/etc', Target: '/e', ReadOnly: true }] }), 'HostConfig.Mounts[0]', /outside/],
  ['a bind with rshared propagation', 'container', bind('/srv/rw:/d:rshared'), 'HostConfig.Binds[0]', /propagation/],
  [
    'CreateMountpoint',
    'container',
    c({ Mounts: [{ Type: 'bind', Source: '/srv/rw', Target: '/d', BindOptions: { CreateMountpoint: true } }] }),
    'HostConfig.Mounts[0].BindOptions.CreateMountpoint',
    /only the default/,
  ],
  [
    'a volume DriverConfig with bind options',
    'container',
    c({ Mounts: [{ Type: 'volume', Source: 'v1', Target: '/h', VolumeOptions: { DriverConfig: { Name: 'local', Options: { type: 'none', o: 'bind', device: '/' } } } }] }),
    'HostConfig.Mounts[0]',
    /DriverConfig/,
  ],
  [
    'a volume with another driver (DriverConfig)',
    'container',
    c({ Mounts: [{ Type: 'volume', Source: 'v1', Target: '/h', VolumeOptions: { DriverConfig: { Name: 'rexray' } } }] }),
    'HostConfig.Mounts[0]',
    /DriverConfig/,
  ],
  ['HostConfig.VolumeDriver', 'container', c({ VolumeDriver: 'rexray', Binds: ['v1:/v'] }), 'HostConfig.VolumeDriver', /only the default/],
  ['VolumesFrom', 'container', c({ VolumesFrom: ['privileged-one'] }), 'HostConfig.VolumesFrom', /only the default/],
  ['an npipe mount', 'container', c({ Mounts: [{ Type: 'npipe', Source: '\\\\.\\pipe\\docker_engine', Target: '/p' }] }), 'HostConfig.Mounts[0]', /npipe mount/],
  ['host network', 'container', c({ NetworkMode: 'host' }), 'HostConfig.NetworkMode', /host's network namespace/],
  ['host PID', 'container', c({ PidMode: 'host' }), 'HostConfig.PidMode', /host's pid namespace/],
  ['host IPC', 'container', c({ IpcMode: 'host' }), 'HostConfig.IpcMode', /host's ipc/],
  ['host UTS', 'container', c({ UTSMode: 'host' }), 'HostConfig.UTSMode', /host's uts/],
  ['host user namespace', 'container', c({ UsernsMode: 'host' }), 'HostConfig.UsernsMode', /host's userns/],
  ['host cgroup namespace', 'container', c({ CgroupnsMode: 'host' }), 'HostConfig.CgroupnsMode', /host's cgroupns/],
  ['a container: network join', 'container', c({ NetworkMode: 'container:abc' }), 'HostConfig.NetworkMode', /joins another container's network/],
  ['a container: PID join', 'container', c({ PidMode: 'container:abc' }), 'HostConfig.PidMode', /joins another container's pid/],
  ['a container: IPC join', 'container', c({ IpcMode: 'container:abc' }), 'HostConfig.IpcMode', /joins/],
  ['CAP_SYS_ADMIN', 'container', c({ CapAdd: ['SYS_ADMIN'] }), 'HostConfig.CapAdd[0]', /"SYS_ADMIN" is not in Docker's default set/],
  ['cap_sys_module in lower case', 'container', c({ CapAdd: ['cap_sys_module'] }), 'HostConfig.CapAdd[0]', /not in Docker's default set/],
  ['NET_ADMIN', 'container', c({ CapAdd: ['CHOWN', 'NET_ADMIN'] }), 'HostConfig.CapAdd[1]', /NET_ADMIN/],
  ['ALL capabilities', 'container', c({ CapAdd: ['ALL'] }), 'HostConfig.CapAdd[0]', /ALL/],
  ['SYS_PTRACE', 'container', c({ CapAdd: ['SYS_PTRACE'] }), 'HostConfig.CapAdd[0]', /SYS_PTRACE/],
  ['BPF', 'container', c({ CapAdd: ['BPF'] }), 'HostConfig.CapAdd[0]', /BPF/],
  ['HostConfig.Capabilities (replaces the set)', 'container', c({ Capabilities: ['CAP_SYS_ADMIN'] }), 'HostConfig.Capabilities[0]', /default set/],
  ['a host device', 'container', c({ Devices: [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rwm' }] }), 'HostConfig.Devices[0]', /devices/],
  ['a device request (GPUs)', 'container', c({ DeviceRequests: [{ Driver: 'nvidia', Count: -1 }] }), 'HostConfig.DeviceRequests[0]', /devices/],
  ['a device cgroup rule', 'container', c({ DeviceCgroupRules: ['c *:* rwm'] }), 'HostConfig.DeviceCgroupRules[0]', /devices/],
  ['apparmor=unconfined', 'container', c({ SecurityOpt: ['apparmor=unconfined'] }), 'HostConfig.SecurityOpt[0]', /weaken confinement/],
  ['seccomp=unconfined', 'container', c({ SecurityOpt: ['seccomp=unconfined'] }), 'HostConfig.SecurityOpt[0]', /weaken/],
  ['label=disable', 'container', c({ SecurityOpt: ['label=disable'] }), 'HostConfig.SecurityOpt[0]', /weaken/],
  ['an SELinux type (spc_t)', 'container', c({ SecurityOpt: ['label=type:spc_t'] }), 'HostConfig.SecurityOpt[0]', /weaken/],
  ['no-new-privileges=false', 'container', c({ SecurityOpt: ['no-new-privileges=false'] }), 'HostConfig.SecurityOpt[0]', /weaken/],
  ['a host-wide sysctl', 'container', c({ Sysctls: { 'kernel.core_pattern': '|/tmp/x' } }), 'HostConfig.Sysctls.kernel.core_pattern', /not a namespaced sysctl/],
  ['vm.* sysctl', 'container', c({ Sysctls: { 'vm.swappiness': '0' } }), 'HostConfig.Sysctls.vm.swappiness', /not a namespaced/],
  ['an IPC sysctl in the host IPC namespace', 'container', c({ IpcMode: 'host', Sysctls: { 'kernel.shmmax': '1' } }), 'HostConfig.Sysctls.kernel.shmmax', /private IPC/],
  ['a sysctl written with slashes', 'container', c({ Sysctls: { 'kernel/core_pattern': 'x' } }), 'HostConfig.Sysctls.kernel/core_pattern', /dots/],
  ['another runtime', 'container', c({ Runtime: 'runsc' }), 'HostConfig.Runtime', /only the default/],
  ['a cgroup parent', 'container', c({ CgroupParent: '/' }), 'HostConfig.CgroupParent', /only the default/],
  ['empty MaskedPaths (unmasks /proc)', 'container', c({ MaskedPaths: [] }), 'HostConfig.MaskedPaths', /only the default/],
  ['empty ReadonlyPaths', 'container', c({ ReadonlyPaths: [] }), 'HostConfig.ReadonlyPaths', /only the default/],
  ['OomKillDisable', 'container', c({ OomKillDisable: true }), 'HostConfig.OomKillDisable', /only the default/],
  ['a negative OOM score', 'container', c({ OomScoreAdj: -1000 }), 'HostConfig.OomScoreAdj', /0–1000/],
  ['the syslog log driver', 'container', c({ LogConfig: { Type: 'syslog', Config: { 'syslog-address': 'udp://10.0.0.1:514' } } }), 'HostConfig.LogConfig.Type', /log driver/],
  ['an unknown HostConfig key', 'container', c({ FutureHostAccess: true }), 'HostConfig.FutureHostAccess', /not a setting the host-access policy knows/],
  ['an unknown top-level key', 'container', c({}, { Future: 1 }), 'Future', /not a setting/],
  ['NetworkingConfig endpoints', 'container', c({}, { NetworkingConfig: { EndpointsConfig: { host: {} } } }), 'NetworkingConfig.EndpointsConfig', /only the default/],
  ['a service binding /', 'service', svcMount({ Type: 'bind', Source: '/', Target: '/host' }), 'TaskTemplate.ContainerSpec.Mounts[0]', /bind of \/ is outside/],
  ['a service binding the Docker socket', 'service', svcMount({ Type: 'bind', Source: '/var/run/docker.sock', Target: '/var/run/docker.sock' }), 'TaskTemplate.ContainerSpec.Mounts[0]', /outside/],
  ['a service binding below a root', 'service', svcMount({ Type: 'bind', Source: '/srv/rw/r', Target: '/x' }), 'TaskTemplate.ContainerSpec.Mounts[0]', /below the host root/],
  ['a service on the host network (by name)', 'service', s({}, { Networks: [{ Target: 'host' }] }), 'TaskTemplate.Networks[0].Target', /host network/],
  ['a service adding SYS_ADMIN', 'service', s({ CapabilityAdd: ['CAP_SYS_ADMIN'] }), 'TaskTemplate.ContainerSpec.CapabilityAdd[0]', /default set/],
  ['a service without seccomp', 'service', s({ Privileges: { Seccomp: { Mode: 'unconfined' } } }), 'TaskTemplate.ContainerSpec.Privileges.Seccomp.Mode', /weaken/],
  ['a service without AppArmor', 'service', s({ Privileges: { AppArmor: { Mode: 'disabled' } } }), 'TaskTemplate.ContainerSpec.Privileges.AppArmor.Mode', /weaken/],
  ['a service with SELinux disabled', 'service', s({ Privileges: { SELinuxContext: { Disable: true } } }), 'TaskTemplate.ContainerSpec.Privileges.SELinuxContext', /only the default/],
  [
    'a service volume with driver options',
    'service',
    svcMount({ Type: 'volume', Source: 'v1', Target: '/h', VolumeOptions: { DriverConfig: { Name: 'local', Options: { type: 'none', o: 'bind', device: '/' } } } }),
    'TaskTemplate.ContainerSpec.Mounts[0]',
    /DriverConfig/,
  ],
  ['a service with a host-wide sysctl', 'service', s({ Sysctls: { 'kernel.modprobe': '/tmp/x' } }), 'TaskTemplate.ContainerSpec.Sysctls.kernel.modprobe', /not a namespaced/],
  ['a plugin task', 'service', s({}, { Runtime: 'plugin', PluginSpec: { Name: 'x' } }), 'TaskTemplate.Runtime', /container tasks only/],
  ['a service log driver sending elsewhere', 'service', s({}, { LogDriver: { Name: 'gelf', Options: { 'gelf-address': 'udp://10.0.0.1:12201' } } }), 'TaskTemplate.LogDriver.Name', /log driver/],
  ['an unknown ContainerSpec key', 'service', s({ Devices: ['/dev/kmsg'] }), 'TaskTemplate.ContainerSpec.Devices', /not a setting/],
  ['the deprecated top-level Networks', 'service', s({}, {}, { Networks: [{ Target: 'host' }] }), 'Networks', /only the default/],
];

// [description, kind, body, field]
const MALFORMED: Array<[string, Kind, Obj, string]> = [
  ['a relative bind source', 'container', bind('data/x:/d'), 'HostConfig.Binds[0]'],
  ['"." as a bind source', 'container', bind('.:/d'), 'HostConfig.Binds[0]'],
  ['".." in a bind source', 'container', bind('/srv/rw/../../etc:/d'), 'HostConfig.Binds[0]'],
  ['an empty bind target', 'container', bind('/srv/rw:'), 'HostConfig.Binds[0]'],
  ['a relative bind target', 'container', bind('/srv/rw:data'), 'HostConfig.Binds[0]'],
  ['"/" as a target', 'container', bind('data:/'), 'HostConfig.Binds[0]'],
  ['an unknown bind option', 'container', bind('/srv/rw:/d:exec'), 'HostConfig.Binds[0]'],
  ['ro and rw together', 'container', bind('/srv/rw:/d:ro,rw'), 'HostConfig.Binds[0]'],
  ['too many colons', 'container', bind('/a:/b:ro:x'), 'HostConfig.Binds[0]'],
  ['an unknown mount type', 'container', c({ Mounts: [{ Type: 'weird', Source: 'x', Target: '/x' }] }), 'HostConfig.Mounts[0].Type'],
  ['a tmpfs mount with a source', 'container', c({ Mounts: [{ Type: 'tmpfs', Source: '/etc', Target: '/x' }] }), 'HostConfig.Mounts[0].Source'],
  ['a service bind with a relative source', 'service', svcMount({ Type: 'bind', Source: 'relative/dir', Target: '/x' }), 'TaskTemplate.ContainerSpec.Mounts[0].Source'],
  ['a service mount with an empty target', 'service', svcMount({ Type: 'tmpfs', Target: '' }), 'TaskTemplate.ContainerSpec.Mounts[0].Target'],
  ['a service mount without a type', 'service', svcMount({ Source: 'data', Target: '/data' }), 'TaskTemplate.ContainerSpec.Mounts[0].Type'],
  ['a service volume with a path as its name', 'service', svcMount({ Type: 'volume', Source: '/etc', Target: '/x' }), 'TaskTemplate.ContainerSpec.Mounts[0].Source'],
];

describe('host-access policy (table)', () => {
  it('has at least 40 specs over containers and services', () => {
    const all = [...ALLOWED, ...REFUSED, ...MALFORMED];
    expect(all.length).toBeGreaterThanOrEqual(40);
    expect(all.filter((r) => r[1] === 'service').length).toBeGreaterThanOrEqual(15);
  });

  it.each(ALLOWED)('allows %s (%s)', (_d, kind, body) => {
    expect(refusals(kind, body)).toEqual([]);
  });

  it.each(REFUSED)('refuses %s (%s)', (_d, kind, body, field, reason) => {
    const out = refusals(kind, body);
    expect(out.length).toBeGreaterThan(0);
    const hit = out.find((r) => r.field === field);
    expect(hit).toBeDefined();
    expect(hit!.reason).toMatch(reason);
  });

  it.each(MALFORMED)('rejects %s as BAD_USER_INPUT (%s)', (_d, kind, body, field) => {
    expect(() => access(kind, body)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field }) }));
  });

  it('with no roots configured, no host path may be bound at all', () => {
    expect(hostAccessRefusals(containerHostAccess(bind('/srv/rw:/d')), [])).toEqual([{ field: 'HostConfig.Binds[0]', reason: 'bind of /srv/rw is outside the allowed host roots' }]);
    expect(parseBindRoots(undefined)).toEqual([]);
    expect(parseBindRoots('')).toEqual([]);
  });
});

describe("host-access policy: a service's image", () => {
  const refusals = (image: string) => hostAccessRefusals(serviceHostAccess(s({ Image: image })), ROOTS);
  it.each(['local/busybox:1', 'busybox', 'ghcr.io/a/b:1', 'busybox@sha256:' + 'a'.repeat(64)])('%s: every node may pull it', (image) => expect(refusals(image)).toEqual([]));
  it.each([
    ['127.0.0.1:5000/internal/app', /loopback/],
    ['10.0.0.5:5000/x', /private/],
    ['[::1]:5000/x', /loopback/],
    ['169.254.169.254/x', /link-local/],
    ['localhost:5000/x@sha256:' + 'a'.repeat(64), /daemon's host/],
  ])('%s: refused, as every node would pull from its own network', (image, reason) => {
    expect(refusals(image)).toEqual([{ field: 'TaskTemplate.ContainerSpec.Image', reason: expect.stringMatching(reason) }]);
  });
});

describe('host-access policy: what the engine holds', () => {
  const objects = (volumes: Array<[string, { driver: string; options: Obj | null } | null]>, networks: Array<[string, { name: string; driver: string } | null]> = []): EngineObjects => ({
    volumes: new Map(volumes),
    networks: new Map(networks),
  });

  it('names the volumes and networks to look up', () => {
    const spec = containerHostAccess(c({ Binds: ['a1:/a', '/srv/rw:/r', '/anon', 'a1:/b'], Mounts: [{ Type: 'volume', Source: 'b2', Target: '/b2' }], NetworkMode: 'backend' }));
    expect(namedVolumes(spec)).toEqual(['a1', 'b2']);
    expect(networkReferences(spec)).toEqual(['backend']);
    expect(networkReferences(containerHostAccess(c({ NetworkMode: 'none' })))).toEqual([]);
    expect(networkReferences(serviceHostAccess(s({}, { Networks: [{ Target: 'n1' }, { Target: 'n2' }] })))).toEqual(['n1', 'n2']);
  });

  it('refuses an existing volume with driver options or another driver; a plain or missing one is fine', () => {
    const spec = containerHostAccess(c({ Binds: ['bound:/host', 'nfs1:/n', 'plain:/p', 'missing:/m'] }));
    const out = engineObjectRefusals(
      spec,
      objects([
        ['bound', { driver: 'local', options: { type: 'none', o: 'bind', device: '/' } }],
        ['nfs1', { driver: 'rexray', options: null }],
        ['plain', { driver: 'local', options: null }],
        ['missing', null],
      ]),
    );
    expect(out).toEqual([
      { field: 'HostConfig.Binds[0]', reason: expect.stringMatching(/volume bound has driver options/) },
      { field: 'HostConfig.Binds[1]', reason: expect.stringMatching(/driver "rexray"/) },
    ]);
    // the same for a service's volume mount
    const svc = serviceHostAccess(svcMount({ Type: 'volume', Source: 'bound', Target: '/h' }));
    expect(engineObjectRefusals(svc, objects([['bound', { driver: 'local', options: { o: 'bind' } }]]))).toHaveLength(1);
  });

  it('refuses a network that is the host network by id, or has a driver off the list', () => {
    const svc = serviceHostAccess(s({}, { Networks: [{ Target: 'k3j2h4' }, { Target: 'lan' }, { Target: 'backend' }, { Target: 'gone' }] }));
    const out = engineObjectRefusals(
      svc,
      objects(
        [],
        [
          ['k3j2h4', { name: 'host', driver: 'host' }],
          ['lan', { name: 'lan', driver: 'macvlan' }],
          ['backend', { name: 'backend', driver: 'overlay' }],
          ['gone', null],
        ],
      ),
    );
    expect(out.map((r) => r.field)).toEqual(['TaskTemplate.Networks[0].Target', 'TaskTemplate.Networks[1].Target']);
    expect(out[0].reason).toMatch(/host network/);
    const ctr = containerHostAccess(c({ NetworkMode: 'aaea4c70c04e' }));
    expect(engineObjectRefusals(ctr, objects([], [['aaea4c70c04e', { name: 'host', driver: 'host' }]]))).toEqual([{ field: 'HostConfig.NetworkMode', reason: expect.stringMatching(/host network/) }]);
  });
});

describe('bind roots (FLEETGRAPH_HOST_BIND_ROOTS)', () => {
  it('parses path[:ro|:rw], read-only by default, normalised', () => {
    expect(parseBindRoots('/srv/a, /srv/b:rw ,//data//x/:ro')).toEqual([
      { path: '/srv/a', readWrite: false },
      { path: '/srv/b', readWrite: true },
      { path: '/data/x', readWrite: false },
    ]);
  });

  it.each([
    ['/', /"\/" cannot be a bind root/],
    ['srv/a', /absolute/],
    ['/srv/../etc', /normalised/],
    ['/srv/a:rwx', /path\[:ro\|:rw\]/],
    ['/srv/a,/srv/a:rw', /listed twice/],
    ['/srv:rw,/srv/a', /nested/],
    ['/srv/a/b,/srv/a', /nested/],
  ])('refuses %s at startup', (value, message) => {
    expect(() => parseBindRoots(value)).toThrow(message);
  });
});

describe('the specs fleetgraph itself builds pass the policy', () => {
  it('a container with every input field set is allowed (no unclassified key)', () => {
    const body = createOptions({
      name: 'full',
      image: 'local/busybox:1',
      command: ['sleep', '1'],
      entrypoint: ['/bin/sh', '-c'],
      env: ['A=1'],
      labels: { a: 'b' },
      workingDir: '/w',
      user: '1000',
      tty: true,
      ports: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1' }],
      binds: ['data:/data', '/srv/rw:/rw'],
      networkMode: 'none',
      pidMode: '',
      ipcMode: 'private',
      privileged: false,
      capAdd: ['NET_BIND_SERVICE'],
      capDrop: ['ALL'],
      restartPolicy: 'on-failure:3',
      memoryBytes: 1 << 26,
      nanoCpus: 1e9,
      healthcheck: { test: ['CMD', 'true'], intervalSeconds: 5 },
      autoRemove: false,
    });
    expect(hostAccessRefusals(containerHostAccess(body), ROOTS)).toEqual([]);
  });

  it('a service asks for at most MAX_SERVICE_REPLICAS replicas', async () => {
    await expect(buildServiceSpec({} as never, { name: 'many', image: 'local/busybox:1', replicas: MAX_SERVICE_REPLICAS + 1 })).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'spec.replicas' },
    });
    expect((await buildServiceSpec({} as never, { name: 'many', image: 'local/busybox:1', replicas: MAX_SERVICE_REPLICAS })).Mode).toEqual({ Replicated: { Replicas: MAX_SERVICE_REPLICAS } });
  });

  it('a service with every input field set is allowed (no unclassified key)', async () => {
    // the engine port's two look-ups buildServiceSpec makes here
    const api = {
      inspectSecret: async () => ({ ID: 's1', Spec: { Name: 'sec' } }),
      inspectConfig: async () => ({ ID: 'c1', Spec: { Name: 'conf' } }),
    } as never;
    const body = await buildServiceSpec(api, {
      name: 'full',
      image: 'local/busybox:1',
      command: ['sh'],
      args: ['-c', 'sleep 1'],
      env: ['A=1'],
      workdir: '/w',
      user: '1000',
      labels: { a: 'b' },
      containerLabels: { c: 'd' },
      mounts: [
        { type: 'tmpfs', target: '/t' },
        { type: 'volume', source: 'data', target: '/d', readOnly: true },
        { type: 'bind', source: '/srv/ro', target: '/ro', readOnly: true },
      ],
      networks: ['backend'],
      ports: [{ target: 80, published: 8080 }],
      endpointMode: 'dnsrr',
      resources: { cpuLimit: 0.5, memoryLimitBytes: '67108864', cpuReservation: 0.1, memoryReservationBytes: '1048576' },
      placement: { constraints: ['node.role==worker'], preferences: ['node.labels.zone'], maxReplicasPerNode: 2 },
      mode: SwarmServiceMode.REPLICATED,
      replicas: 2,
      healthcheck: { test: ['CMD', 'true'] },
      restartPolicy: { condition: 'on-failure', maxAttempts: 3 },
      updateConfig: { parallelism: 1 },
      rollbackConfig: { parallelism: 1 },
      stopGracePeriodSeconds: 1,
      secrets: [{ secret: 'sec' }],
      configs: [{ config: 'conf', target: '/etc/conf' }],
    });
    expect(hostAccessRefusals(serviceHostAccess(body), ROOTS)).toEqual([]);
  });
});

describe('networks a stack creates (as the compose converter makes them)', () => {
  const net = (extra: Obj) => ({ Name: 'app_n', Driver: 'overlay', ...extra });
  it('the default overlay, an encrypted one, a bridge on a private subnet: allowed', () => {
    expect(stackNetworkRefusals(net({}))).toEqual([]);
    expect(stackNetworkRefusals(net({ Options: { encrypted: '' } }))).toEqual([]);
    expect(stackNetworkRefusals(net({ Driver: 'bridge', IPAM: { Config: [{ Subnet: '10.30.0.0/24' }] } }))).toEqual([]);
  });
  it.each([
    // the manager would route 169.254.169.254 into the bridge, and a container there would answer as the metadata service
    [{ Driver: 'bridge', IPAM: { Config: [{ Subnet: '169.254.169.252/30' }] } }, 'networks.app_n.ipam.config[0].subnet'],
    [{ IPAM: { Config: [{ Subnet: '10.1.0.0/24' }, { Subnet: '127.0.0.0/8' }] } }, 'networks.app_n.ipam.config[1].subnet'],
    [{ Driver: 'macvlan' }, 'networks.app_n.driver'],
    [{ IPAM: { Driver: 'dhcp' } }, 'networks.app_n.ipam.driver'],
    [{ IPAM: { Options: { x: '1' } } }, 'networks.app_n.ipam.options'],
    [{ Driver: 'bridge', Options: { 'com.docker.network.bridge.name': 'docker0' } }, 'networks.app_n.driver_opts.com.docker.network.bridge.name'],
    [{ Options: { 'com.docker.network.driver.mtu': '9000', encrypted: '' } }, 'networks.app_n.driver_opts.com.docker.network.driver.mtu'],
  ])('%j: refused', (extra, field) => {
    expect(stackNetworkRefusals(net(extra)).map((r) => r.field)).toEqual([field]);
  });
});

describe('networks: createNetwork and connectNetwork', () => {
  it('createNetwork: bridge and overlay only, private or public subnets', () => {
    expect(networkCreateRefusals({})).toEqual([]);
    expect(networkCreateRefusals({ driver: 'overlay', subnet: '10.20.0.0/24', gateway: '10.20.0.1' })).toEqual([]);
    expect(networkCreateRefusals({ subnet: '172.30.0.0/16' })).toEqual([]);
    for (const driver of ['macvlan', 'ipvlan', 'host', 'null', 'weave/net:latest']) expect(networkCreateRefusals({ driver }).map((r) => r.field)).toEqual(['driver']);
  });

  it.each([
    ['169.254.169.0/24', 'link-local'],
    ['127.0.0.0/8', 'loopback'],
    ['224.1.0.0/16', 'multicast'],
    ['0.0.0.0/8', 'unspecified'],
    ['240.0.0.0/8', 'reserved'],
    ['160.0.0.0/4', 'link-local'], // a wide subnet that contains 169.254/16
    ['::ffff:169.254.169.0/120', 'link-local'],
    ['fe80::/64', 'link-local'],
  ])('createNetwork refuses subnet %s (%s)', (subnet, cls) => {
    const out = networkCreateRefusals({ subnet });
    expect(out).toEqual([{ field: 'subnet', reason: expect.stringContaining(cls) }]);
  });

  it('refuses a gateway and a container address in host ranges; malformed input is BAD_USER_INPUT', () => {
    expect(networkCreateRefusals({ subnet: '10.1.0.0/24', gateway: '169.254.169.254' }).map((r) => r.field)).toEqual(['gateway']);
    expect(endpointAddressRefusals('ipv4Address', '169.254.169.254')).toEqual([{ field: 'ipv4Address', reason: expect.stringContaining('link-local') }]);
    expect(endpointAddressRefusals('ipv4Address', '10.1.0.5')).toEqual([]);
    for (const subnet of ['300.1.1.0/24', '10.0.0.0/33', '10.0.0.0'])
      expect(() => networkCreateRefusals({ subnet })).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'subnet' }) }));
    expect(() => endpointAddressRefusals('ipv4Address', '2130706433')).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }));
  });

  it("connectNetwork: the network is judged on the engine like a create's networks", () => {
    const spec = networkAttachAccess('lan', 'network');
    expect(hostAccessRefusals(spec, ROOTS)).toEqual([]);
    expect(engineObjectRefusals(spec, { volumes: new Map(), networks: new Map([['lan', { name: 'lan', driver: 'macvlan' }]]) })).toEqual([
      { field: 'network', reason: expect.stringMatching(/driver "macvlan"/) },
    ]);
  });
});

describe('exec: what a running container may reach of the host', () => {
  const inspect = (hc: Obj) => ({
    Id: 'x',
    Config: { Image: 'i', Env: ['A=1'] },
    HostConfig: {
      NetworkMode: 'bridge',
      PidMode: '',
      IpcMode: 'private',
      CgroupnsMode: 'private',
      Privileged: false,
      CapAdd: null,
      Devices: [],
      Binds: null,
      Mounts: null,
      LogConfig: { Type: 'syslog' },
      Runtime: 'runc',
      CgroupParent: '',
      VolumeDriver: '',
      VolumesFrom: null,
      DeviceCgroupRules: null,
      // as dockerd 20.10's inspect shows them for a plain container (a newer one masks more)
      MaskedPaths: [
        '/proc/asound',
        '/proc/acpi',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/proc/scsi',
        '/sys/firmware',
        '/sys/devices/virtual/powercap',
      ],
      ReadonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
      ...hc,
    },
  });
  it('a plain container (as inspect shows it) has none; other HostConfig keys are not judged', () => {
    expect(hostAccessRefusals(hostAccessOfRunningContainer(inspect({})), ROOTS)).toEqual([]);
  });
  it('cgroupns host is the default on a cgroup v1 daemon, host access on a v2 one', () => {
    expect(hostAccessRefusals(hostAccessOfRunningContainer(inspect({ CgroupnsMode: 'host' }), '1'), ROOTS)).toEqual([]);
    expect(hostAccessRefusals(hostAccessOfRunningContainer(inspect({ CgroupnsMode: 'host' }), '2'), ROOTS).map((r) => r.field)).toEqual(['HostConfig.CgroupnsMode']);
  });
  it.each([
    [{ Privileged: true }, 'HostConfig.Privileged'],
    [{ PidMode: 'host' }, 'HostConfig.PidMode'],
    [{ CapAdd: ['SYS_ADMIN'] }, 'HostConfig.CapAdd[0]'],
    [{ Binds: ['/:/host'] }, 'HostConfig.Binds[0]'],
    [{ Mounts: [{ Type: 'bind', Source: '/etc', Target: '/e' }] }, 'HostConfig.Mounts[0]'],
    [{ Devices: [{ PathOnHost: '/dev/sda' }] }, 'HostConfig.Devices[0]'],
    // mknod of the host's disks (CAP_MKNOD is a default capability)
    [{ DeviceCgroupRules: ['b 8:* rwm'] }, 'HostConfig.DeviceCgroupRules[0]'],
    // the mounts of another container, which may bind the host's /
    [{ VolumesFrom: ['binds-root'] }, 'HostConfig.VolumesFrom'],
    [{ Runtime: 'runsc' }, 'HostConfig.Runtime'],
    [{ CgroupParent: '/' }, 'HostConfig.CgroupParent'],
    [{ VolumeDriver: 'local-persist' }, 'HostConfig.VolumeDriver'],
    // --security-opt systempaths=unconfined: /proc and /sys unmasked
    [{ MaskedPaths: [] }, 'HostConfig.MaskedPaths'],
    [{ ReadonlyPaths: ['/proc/bus'] }, 'HostConfig.ReadonlyPaths'],
  ])('%j has host access', (hc, field) => {
    expect(hostAccessRefusals(hostAccessOfRunningContainer(inspect(hc)), ROOTS).map((r) => r.field)).toContain(field);
  });
});
