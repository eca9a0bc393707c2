import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConnectNetworkDocument, CreateContainerDocument, CreateNetworkDocument, CreateVolumeDocument, ExecContainerDocument } from '../../src/generated/graphql';
import { startTestApp, TestApp } from '../support/app';
import { TEST_IMAGE, cleanupDocker, docker, dockerEndpoint, registerLocalHost, uniqueName } from '../support/docker';

/**
 * The host-access policy against the real dockerd: the routes to host root found in issue 7
 * (a volume with bind driver options, a symlink planted in an allowed bind root, host paths a
 * deny-list missed, capabilities and host namespaces) end in FORBIDDEN without
 * docker.containers.privileged and leave nothing behind on Docker; with the permission the
 * same specs are accepted.
 */
const MANAGE = ['docker.hosts.manage', 'docker.resources.manage'];
const PRIVILEGED = [...MANAGE, 'docker.containers.privileged'];

interface GqlError {
  message: string;
  extensions?: Record<string, unknown>;
}

describe('host-access policy on a real dockerd', () => {
  let t: TestApp;
  let token: string;
  let privileged: string;
  let hostId: string;
  let base: string;
  let rwRoot: string;
  let roRoot: string;

  beforeAll(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'fgt-roots-'));
    rwRoot = path.join(base, 'rw');
    roRoot = path.join(base, 'ro');
    fs.mkdirSync(rwRoot);
    fs.mkdirSync(roRoot);
    fs.writeFileSync(path.join(roRoot, 'hello'), 'hello');
    t = await startTestApp({ env: { FLEETGRAPH_HOST_BIND_ROOTS: `${rwRoot}:rw,${roRoot}` } });
    token = await t.token({ account: 'hostaccess', permissions: MANAGE });
    privileged = await t.token({ account: 'hostaccess', permissions: PRIVILEGED });
    hostId = await registerLocalHost(t, token);
  });

  afterAll(async () => {
    await cleanupDocker();
    await t?.stop();
    // the planted symlink points at /: remove the link, never follow it
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  async function createContainer(extra: Record<string, unknown>, tok = token) {
    const name = uniqueName('ha');
    const res = await t.gql(CreateContainerDocument, { input: { hostId, name, image: TEST_IMAGE, command: ['sleep', '300'], start: false, ...extra } }, tok);
    return { name, res, error: res.errors?.[0] as GqlError | undefined };
  }

  /** No container of that name exists on the daemon. */
  async function expectNoContainer(name: string) {
    expect(await docker('ps', '-aq', '--filter', `name=^${name}$`)).toBe('');
  }

  /** The request was refused with FORBIDDEN naming the field and the permission, and made nothing. */
  async function expectRefused(r: { name: string; error?: GqlError }, field: string | RegExp, reason: RegExp) {
    expect(r.error?.extensions).toMatchObject({ code: 'FORBIDDEN', permission: 'docker.containers.privileged' });
    expect(r.error!.extensions!.field).toEqual(typeof field === 'string' ? field : expect.stringMatching(field));
    expect(r.error!.message).toMatch(reason);
    expect(r.error!.message).toContain('needs the permission "docker.containers.privileged"');
    await expectNoContainer(r.name);
  }

  describe('route 1: volumes with driver options', () => {
    it('createVolume with driver options or another driver needs the permission and creates nothing', async () => {
      const name = uniqueName('vol');
      const res = await t.gql(CreateVolumeDocument, { input: { hostId, name, driverOpts: { type: 'none', o: 'bind', device: '/' } } }, token);
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', permission: 'docker.containers.privileged', field: 'driverOpts' });
      expect(res.errors?.[0].message).toMatch(/^driverOpts: driver options can mount any host path/);
      const plugin = await t.gql(CreateVolumeDocument, { input: { hostId, name, driver: 'rexray' } }, token);
      expect(plugin.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'driver' });
      expect(await docker('volume', 'ls', '-q', '--filter', `name=${name}`)).toBe('');
      // with the permission: options are the operator's business (a tmpfs-backed local volume here)
      const allowed = await t.gql(CreateVolumeDocument, { input: { hostId, name, driverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } } }, privileged);
      expect(allowed.errors).toBeUndefined();
      expect(JSON.parse(await docker('volume', 'inspect', '-f', '{{json .Options}}', name))).toEqual({ type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
    });

    it('a volume made outside fleetgraph with bind options cannot be mounted without the permission', async () => {
      const vol = uniqueName('vol');
      await docker('volume', 'create', '--driver', 'local', '--opt', 'type=none', '--opt', 'o=bind', '--opt', `device=${roRoot}`, vol);
      await expectRefused(await createContainer({ binds: [`${vol}:/host`] }), 'HostConfig.Binds[0]', new RegExp(`volume ${vol} has driver options`));
      await expectRefused(await createContainer({ binds: [`${vol}:/host:ro`] }), 'HostConfig.Binds[0]', /driver options/);
      // a plain local volume, existing or not, is fine
      const plain = uniqueName('vol');
      await docker('volume', 'create', plain);
      const ok = await createContainer({ binds: [`${plain}:/a`, `${uniqueName('vol')}:/b`] });
      expect(ok.res.errors).toBeUndefined();
      // with the permission, the same spec goes through (and sees the host directory)
      const allowed = await createContainer({ binds: [`${vol}:/host:ro`], command: ['cat', '/host/hello'], start: true }, privileged);
      expect(allowed.res.errors).toBeUndefined();
      await docker('wait', allowed.name);
      expect(await docker('logs', allowed.name)).toBe('hello');
    });
  });

  describe('route 2: a symlink planted in a bind root', () => {
    it('container A binds the read-write root and plants a link to /; container B binding it is refused', async () => {
      const a = await createContainer({ binds: [`${rwRoot}:/d`], command: ['ln', '-s', '/', '/d/r'], start: true });
      expect(a.res.errors).toBeUndefined();
      expect(await docker('wait', a.name)).toBe('0');
      expect(fs.readlinkSync(path.join(rwRoot, 'r'))).toBe('/');
      await expectRefused(await createContainer({ binds: [`${rwRoot}/r:/host`] }), 'HostConfig.Binds[0]', /below the host root .*symlinks below a root cannot be verified/);
      await expectRefused(await createContainer({ binds: [`${rwRoot}/r/etc:/etc2:ro`] }), 'HostConfig.Binds[0]', /below the host root/);
      // a sub-path of the read-only root is refused too, and the read-only root may only be bound read-only
      await expectRefused(await createContainer({ binds: [`${roRoot}/hello:/hello:ro`] }), 'HostConfig.Binds[0]', /below the host root/);
      await expectRefused(await createContainer({ binds: [`${roRoot}:/ro`] }), 'HostConfig.Binds[0]', /read-only/);
      const ro = await createContainer({ binds: [`${roRoot}:/ro:ro`] });
      expect(ro.res.errors).toBeUndefined();
      // with the permission, B's spec is the operator's decision
      const allowed = await createContainer({ binds: [`${rwRoot}/r:/host:ro`] }, privileged);
      expect(allowed.res.errors).toBeUndefined();
    });

    it('bind sources with "..", relative paths or empty targets are BAD_USER_INPUT, even with the permission', async () => {
      for (const [b, tok] of [
        [`${rwRoot}/../../etc:/x`, token],
        ['rel/dir:/x', privileged],
        [`${rwRoot}:`, privileged],
        [`${rwRoot}:relative`, token],
      ] as const) {
        const r = await createContainer({ binds: [b] }, tok);
        expect(r.error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'HostConfig.Binds[0]' });
        await expectNoContainer(r.name);
      }
    });
  });

  describe('route 3: host paths outside the roots', () => {
    it.each(['/var', '/var/lib/docker', '/home', '/tmp', '/run', '/run/dbus/system_bus_socket', '/opt', '/srv', '/'])('a bind of %s is refused', async (p) => {
      await expectRefused(await createContainer({ binds: [`${p}:/h:ro`] }), 'HostConfig.Binds[0]', new RegExp(`bind of ${p.replace(/\//g, '\\/')} is outside the allowed host roots`));
    });

    it("the daemon's own socket is refused, and allowed with the permission", async () => {
      const sock = dockerEndpoint().replace('unix://', '');
      await expectRefused(await createContainer({ binds: [`${sock}:/var/run/docker.sock`] }), 'HostConfig.Binds[0]', /outside the allowed host roots/);
      const allowed = await createContainer({ binds: ['/var:/v:ro', `${sock}:/var/run/docker.sock`] }, privileged);
      expect(allowed.res.errors).toBeUndefined();
      expect(await docker('inspect', '-f', '{{len .HostConfig.Binds}}', allowed.name)).toBe('2');
    });
  });

  describe('capabilities and namespaces', () => {
    it("only Docker's default capabilities may be added", async () => {
      for (const cap of ['SYS_ADMIN', 'SYS_RESOURCE', 'LINUX_IMMUTABLE', 'NET_BROADCAST', 'SYSLOG', 'ALL']) {
        await expectRefused(await createContainer({ capAdd: [cap] }), 'HostConfig.CapAdd[0]', new RegExp(`capability "${cap}" is not in Docker's default set`));
      }
      const ok = await createContainer({ capAdd: ['CHOWN', 'cap_kill'], capDrop: ['ALL'] });
      expect(ok.res.errors).toBeUndefined();
      const allowed = await createContainer({ capAdd: ['SYS_RESOURCE', 'LINUX_IMMUTABLE'] }, privileged);
      expect(allowed.res.errors).toBeUndefined();
      expect(await docker('inspect', '-f', '{{json .HostConfig.CapAdd}}', allowed.name)).toBe('["SYS_RESOURCE","LINUX_IMMUTABLE"]');
    });

    it("no host namespace: not by name, not by the host network's id, no container: joins", async () => {
      const hostNetId = await docker('network', 'inspect', '-f', '{{.Id}}', 'host');
      await expectRefused(await createContainer({ networkMode: hostNetId }), 'HostConfig.NetworkMode', /is the host network/);
      await expectRefused(await createContainer({ networkMode: hostNetId.slice(0, 12) }), 'HostConfig.NetworkMode', /is the host network/);
      const target = await createContainer({ start: true });
      expect(target.res.errors).toBeUndefined();
      await expectRefused(await createContainer({ pidMode: `container:${target.name}` }), 'HostConfig.PidMode', /joins another container's pid namespace/);
      await expectRefused(await createContainer({ networkMode: `container:${target.name}` }), 'HostConfig.NetworkMode', /joins another container's network namespace/);
      await expectRefused(await createContainer({ ipcMode: 'host' }), 'HostConfig.IpcMode', /host's ipc namespace/);
      const allowed = await createContainer({ pidMode: `container:${target.name}` }, privileged);
      expect(allowed.res.errors).toBeUndefined();
    });
  });

  describe('review fixes: SELinux relabel, networks, exec', () => {
    /** FORBIDDEN naming the field and the permission. */
    function expectForbidden(errors: readonly GqlError[] | undefined, field: string, reason: RegExp) {
      expect(errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', permission: 'docker.containers.privileged', field });
      expect(errors![0].message).toMatch(reason);
    }

    it('a z/Z relabel of a bind root is refused, even read-only; allowed with the permission', async () => {
      await expectRefused(await createContainer({ binds: [`${roRoot}:/d:ro,Z`] }), 'HostConfig.Binds[0]', /SELinux relabel "Z"/);
      await expectRefused(await createContainer({ binds: [`${rwRoot}:/d:z`] }), 'HostConfig.Binds[0]', /SELinux relabel "z"/);
      const allowed = await createContainer({ binds: [`${roRoot}:/d:ro,z`] }, privileged);
      expect(allowed.res.errors).toBeUndefined();
    });

    it('createNetwork: only bridge/overlay, no subnet or gateway in host ranges, without the permission', async () => {
      const name = uniqueName('net');
      const meta = await t.gql(CreateNetworkDocument, { input: { hostId, name, subnet: '169.254.169.0/24' } }, token);
      expectForbidden(meta.errors, 'subnet', /link-local/);
      const gw = await t.gql(CreateNetworkDocument, { input: { hostId, name, subnet: '10.251.7.0/24', gateway: '127.0.0.1' } }, token);
      expectForbidden(gw.errors, 'gateway', /loopback/);
      const mv = await t.gql(CreateNetworkDocument, { input: { hostId, name, driver: 'macvlan' } }, token);
      expectForbidden(mv.errors, 'driver', /"macvlan" is not allowed/);
      const bad = await t.gql(CreateNetworkDocument, { input: { hostId, name, subnet: '10.0.0.0/33' } }, token);
      expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'subnet' });
      expect(await docker('network', 'ls', '-q', '--filter', `name=${name}`)).toBe('');
      // with the permission the link-local subnet is the operator's decision
      const allowed = await t.gql(CreateNetworkDocument, { input: { hostId, name, subnet: '169.254.169.0/24' } }, privileged);
      expect(allowed.errors).toBeUndefined();
    });

    it('connectNetwork: the host network (by id) and a link-local address need the permission', async () => {
      const target = await createContainer({ start: true });
      expect(target.res.errors).toBeUndefined();
      const hostNetId = (await docker('network', 'inspect', '-f', '{{.Id}}', 'host')).slice(0, 12);
      const viaId = await t.gql(ConnectNetworkDocument, { input: { hostId, network: hostNetId, container: target.name } }, token);
      expectForbidden(viaId.errors, 'network', /is the host network/);
      const name = uniqueName('net');
      const net = `10.${150 + Math.floor(Math.random() * 40)}.${Math.floor(Math.random() * 250) + 1}`;
      await docker('network', 'create', '--subnet', `${net}.0/24`, name);
      const meta = await t.gql(ConnectNetworkDocument, { input: { hostId, network: name, container: target.name, ipv4Address: '169.254.169.254' } }, token);
      expectForbidden(meta.errors, 'ipv4Address', /link-local/);
      expect(await docker('inspect', '-f', '{{len .NetworkSettings.Networks}}', target.name)).toBe('1');
      const ok = await t.gql(ConnectNetworkDocument, { input: { hostId, network: name, container: target.name, ipv4Address: `${net}.20` } }, token);
      expect(ok.errors).toBeUndefined();
      // dockerd can keep the endpoint of a force-removed container: disconnect so cleanup removes the network
      await docker('network', 'disconnect', '-f', name, target.name);
    });

    it('exec into a container with host access needs the privileged permission too', async () => {
      const execOnly = await t.token({ account: 'hostaccess', permissions: [...MANAGE, 'docker.containers.exec'] });
      const execPrivileged = await t.token({ account: 'hostaccess', permissions: [...PRIVILEGED, 'docker.containers.exec'] });
      const hostPid = await createContainer({ pidMode: 'host', start: true }, privileged);
      expect(hostPid.res.errors).toBeUndefined();
      const id = hostPid.res.data!.createContainer.container.id;
      const refused = await t.gql(ExecContainerDocument, { input: { id, command: ['cat', '/proc/1/cmdline'] } }, execOnly);
      expectForbidden(refused.errors, 'HostConfig.PidMode', /host's pid namespace/);
      const allowed = await t.gql(ExecContainerDocument, { input: { id, command: ['true'] } }, execPrivileged);
      expect(allowed.errors).toBeUndefined();
      expect(allowed.data!.execContainer.exitCode).toBe(0);
      // a plain container (as Docker's inspect shows it) needs only the exec permission
      const plain = await createContainer({ start: true });
      const ok = await t.gql(ExecContainerDocument, { input: { id: plain.res.data!.createContainer.container.id, command: ['true'] } }, execOnly);
      expect(ok.errors).toBeUndefined();
    });
  });
});
