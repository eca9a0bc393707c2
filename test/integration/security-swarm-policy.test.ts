import { randomUUID } from 'node:crypto';
import { CreateServiceDocument, InitSwarmDocument, RemoveServiceDocument, RollbackServiceDocument, ScaleServiceDocument, ServiceSpecInput, UpdateServiceDocument } from '../../src/generated/graphql';
import { startTestApp, TestApp } from '../support/app';
import { ok, registerSwarmHosts, swarmDocker, swarmReset, swarmUpClean } from '../support/swarm';

/**
 * The host-access policy on swarm services (issue 7, route 4): createService and updateService
 * used to send bind mounts of / and of the Docker socket, and the host network, to every node
 * with only swarm.clusters.manage. Now they are FORBIDDEN without docker.containers.privileged
 * (on create, on update, and on scale/rollback of a spec that is), malformed mounts are
 * BAD_USER_INPUT before the manager sees them, and the manager shows nothing was made.
 */
const IMAGE = 'local/busybox:1';
const MANAGE = ['docker.hosts.manage', 'swarm.clusters.manage'];

interface GqlError {
  message: string;
  extensions?: Record<string, unknown>;
}

describe('host-access policy on swarm services (real swarm)', () => {
  let t: TestApp;
  let token: string;
  let privileged: string;
  let clusterId: string;
  const account = `swarmpolicy-${randomUUID().slice(0, 8)}`;

  const spec = (name: string, extra: Partial<ServiceSpecInput> = {}): ServiceSpecInput => ({
    name,
    image: IMAGE,
    command: ['sleep', '3600'],
    endpointMode: 'DNSRR',
    stopGracePeriodSeconds: 1,
    replicas: 0,
    ...extra,
  });

  const serviceNames = async () => (await swarmDocker(1, 'service', 'ls', '--format', '{{.Name}}')).split('\n').filter(Boolean);

  beforeAll(async () => {
    await swarmUpClean();
    t = await startTestApp({ config: { workers: true, sync: { retryBaseMs: 300 } } });
    token = await t.token({ account, permissions: MANAGE });
    privileged = await t.token({ account, permissions: [...MANAGE, 'docker.containers.privileged'] });
    const hosts = await registerSwarmHosts(t, token, 'pol');
    // one manager is enough here: every decision is made before or on the manager
    clusterId = ok(await t.gql(InitSwarmDocument, { input: { hostId: hosts[1], name: 'pol', syncIntervalSeconds: 30 } }, token)).initSwarm.cluster.id;
  }, 120_000);

  afterAll(async () => {
    await t?.stop();
    await swarmReset();
  }, 120_000);

  /** Refusals that must leave the manager without a service of that name. */
  const refusedCases = (): Array<[string, Partial<ServiceSpecInput>, string, RegExp]> => {
    return [
      ['a bind of /', { mounts: [{ type: 'BIND', source: '/', target: '/host' }] }, 'TaskTemplate.ContainerSpec.Mounts[0]', /bind of \/ is outside the allowed host roots/],
      [
        'a bind of the Docker socket',
        { mounts: [{ type: 'BIND', source: '/var/run/docker.sock', target: '/var/run/docker.sock' }] },
        'TaskTemplate.ContainerSpec.Mounts[0]',
        /outside the allowed host roots/,
      ],
      ['a read-only bind of /etc', { mounts: [{ type: 'BIND', source: '/etc', target: '/etc2', readOnly: true }] }, 'TaskTemplate.ContainerSpec.Mounts[0]', /outside/],
      ['the host network', { networks: ['host'] }, 'TaskTemplate.Networks[0].Target', /host network/],
      // every node would pull from its own loopback / network
      ['an image on a loopback registry', { image: '127.0.0.1:5000/internal/app:1' }, 'TaskTemplate.ContainerSpec.Image', /registry 127\.0\.0\.1 is a loopback address: every node would pull/],
      ['an image on a private registry', { image: '10.0.0.5:5000/x' }, 'TaskTemplate.ContainerSpec.Image', /registry 10\.0\.0\.5 is a private address/],
      // resolveImage makes the manager ask the registry before the spec is checked: refused first
      ['a digest resolved on a loopback registry', { image: 'localhost:5000/x', resolveImage: true }, 'spec.image', /registry localhost is the daemon's host/],
    ];
  };

  it('createService refuses binds of / and of the Docker socket and the host network, and creates nothing; with the permission they are accepted', async () => {
    for (const [what, extra, field, reason] of refusedCases()) {
      const name = `bad-${what
        .replace(/[^a-z]+/gi, '-')
        .replace(/^-|-$/g, '')
        .toLowerCase()}`;
      const res = await t.gql(CreateServiceDocument, { input: { clusterId, spec: spec(name, extra) } }, token);
      const err = res.errors?.[0] as GqlError | undefined;
      expect(err?.extensions).toMatchObject({ code: 'FORBIDDEN', permission: 'docker.containers.privileged', field });
      expect(err!.message).toMatch(reason);
      expect(await serviceNames()).not.toContain(name);
    }
    const res = await t.gql(
      CreateServiceDocument,
      { input: { clusterId, spec: spec('priv', { networks: ['host'], mounts: [{ type: 'BIND', source: '/', target: '/host', readOnly: true }] }) } },
      privileged,
    );
    expect(res.errors).toBeUndefined();
    expect(await serviceNames()).toContain('priv');
    ok(await t.gql(RemoveServiceDocument, { input: { serviceId: res.data!.createService.service.id } }, privileged));
  });

  it("the host network by the manager's network id, and a volume made on the manager with bind options, are refused too", async () => {
    const hostNetId = await swarmDocker(1, 'network', 'inspect', '-f', '{{.Id}}', 'host');
    const byId = await t.gql(CreateServiceDocument, { input: { clusterId, spec: spec('bad-host-net-id', { networks: [hostNetId] }) } }, token);
    expect(byId.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'TaskTemplate.Networks[0].Target' });
    expect(byId.errors?.[0].message).toMatch(/is the host network/);
    const vol = `pol-bound-${randomUUID().slice(0, 6)}`;
    await swarmDocker(1, 'volume', 'create', '--opt', 'type=none', '--opt', 'o=bind', '--opt', 'device=/', vol);
    try {
      const res = await t.gql(CreateServiceDocument, { input: { clusterId, spec: spec('bad-volume', { mounts: [{ type: 'VOLUME', source: vol, target: '/host' }] }) } }, token);
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'TaskTemplate.ContainerSpec.Mounts[0]' });
      expect(res.errors?.[0].message).toMatch(/has driver options/);
    } finally {
      await swarmDocker(1, 'volume', 'rm', vol);
    }
    expect(await serviceNames()).not.toEqual(expect.arrayContaining(['bad-host-net-id', 'bad-volume']));
  });

  it('a relative bind source or an empty target is BAD_USER_INPUT before the manager sees it, even with the permission', async () => {
    const cases: Array<[Partial<ServiceSpecInput>, string]> = [
      [{ mounts: [{ type: 'BIND', source: 'relative/dir', target: '/data' }] }, 'TaskTemplate.ContainerSpec.Mounts[0].Source'],
      [{ mounts: [{ type: 'BIND', source: '/srv/../etc', target: '/data' }] }, 'TaskTemplate.ContainerSpec.Mounts[0].Source'],
      [{ mounts: [{ type: 'TMPFS', target: '' }] }, 'TaskTemplate.ContainerSpec.Mounts[0].Target'],
      [{ mounts: [{ type: 'VOLUME', source: 'data', target: 'relative' }] }, 'TaskTemplate.ContainerSpec.Mounts[0].Target'],
    ];
    for (const [extra, field] of cases) {
      const res = await t.gql(CreateServiceDocument, { input: { clusterId, spec: spec('malformed', extra) } }, privileged);
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect(await serviceNames()).not.toContain('malformed');
  });

  it('updateService refuses the same specs and leaves the service as it was; with the permission they go through', async () => {
    const created = ok(await t.gql(CreateServiceDocument, { input: { clusterId, spec: spec('plain', { mounts: [{ type: 'TMPFS', target: '/scratch' }] }) } }, token)).createService.service;
    const inspect = () => swarmDocker(1, 'service', 'inspect', 'plain', '--format', '{{.Version.Index}} {{json .Spec.TaskTemplate.ContainerSpec.Mounts}} {{json .Spec.TaskTemplate.Networks}}');
    const before = await inspect();
    for (const [, extra, field, reason] of refusedCases()) {
      const res = await t.gql(UpdateServiceDocument, { input: { serviceId: created.id, spec: spec('plain', extra) } }, token);
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field });
      expect(res.errors?.[0].message).toMatch(reason);
    }
    const malformed = await t.gql(UpdateServiceDocument, { input: { serviceId: created.id, spec: spec('plain', { mounts: [{ type: 'BIND', source: 'rel', target: '/x' }] }) } }, token);
    expect(malformed.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'TaskTemplate.ContainerSpec.Mounts[0].Source' });
    expect(await inspect()).toBe(before);

    // with the permission: the update is the operator's decision
    const allowed = await t.gql(
      UpdateServiceDocument,
      { input: { serviceId: created.id, spec: spec('plain', { mounts: [{ type: 'BIND', source: '/', target: '/host', readOnly: true }] }) } },
      privileged,
    );
    expect(allowed.errors).toBeUndefined();
    expect(await swarmDocker(1, 'service', 'inspect', 'plain', '--format', '{{range .Spec.TaskTemplate.ContainerSpec.Mounts}}{{.Type}}:{{.Source}}:{{.ReadOnly}}{{end}}')).toBe('bind:/:true');

    // a spec that needs the permission cannot be scaled (more tasks of it) or rolled back to without it
    const scale = await t.gql(ScaleServiceDocument, { input: { serviceId: created.id, replicas: 1 } }, token);
    expect(scale.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'TaskTemplate.ContainerSpec.Mounts[0]' });
    ok(await t.gql(UpdateServiceDocument, { input: { serviceId: created.id, spec: spec('plain') } }, privileged));
    const rollback = await t.gql(RollbackServiceDocument, { input: { serviceId: created.id } }, token);
    expect(rollback.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'TaskTemplate.ContainerSpec.Mounts[0]' });
    expect(await swarmDocker(1, 'service', 'inspect', 'plain', '--format', '{{len .Spec.TaskTemplate.ContainerSpec.Mounts}} {{.Spec.Mode.Replicated.Replicas}}')).toBe('0 0');
    // an allowed spec scales as before
    ok(await t.gql(ScaleServiceDocument, { input: { serviceId: created.id, replicas: 1 } }, token));
    ok(await t.gql(RemoveServiceDocument, { input: { serviceId: created.id } }, token));
  });
});
