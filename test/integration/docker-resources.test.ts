import {
  BuildImageDocument,
  ConnectNetworkDocument,
  ContainerInspectDocument,
  CreateContainerDocument,
  CreateNetworkDocument,
  CreateVolumeDocument,
  DisconnectNetworkDocument,
  ExecContainerDocument,
  HostNetworksAndVolumesDocument,
  NetworkInspectDocument,
  NetworksDocument,
  OnContainerLogsDocument,
  PruneVolumesDocument,
  PullImageDocument,
  PushImageDocument,
  RegisterDockerHostDocument,
  RemoveContainerDocument,
  RemoveImageDocument,
  RemoveNetworkDocument,
  RemoveVolumeDocument,
  RestartContainerDocument,
  StartContainerDocument,
  StopContainerDocument,
  TagImageDocument,
  VolumesDocument,
} from '../../src/generated/graphql';
import { eventually, missingSocketEndpoint, startTestApp, subscribe, TestApp } from '../support/app';
import { TEST_IMAGE, cleanupDocker, docker, registerLocalHost, tarBase64, uniqueName } from '../support/docker';
import { sql } from '../support/db';

const MANAGE = ['docker.hosts.manage', 'docker.resources.manage'];

function code(res: { errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> }): unknown {
  return res.errors?.[0]?.extensions?.code;
}

describe('resource operations on a real dockerd', () => {
  let t: TestApp;
  let token: string;
  let hostId: string;

  beforeAll(async () => {
    t = await startTestApp({ config: { workers: true } });
    token = await t.token({ account: 'resources', permissions: MANAGE });
    hostId = await registerLocalHost(t, token);
  });
  afterAll(async () => {
    await cleanupDocker();
    await t?.stop();
  });

  async function create(extra: Record<string, unknown> = {}, tok = token) {
    const name = uniqueName('c');
    const res = await t.gql(CreateContainerDocument, { input: { hostId, name, image: TEST_IMAGE, command: ['sleep', '300'], ...extra } }, tok);
    return { name, res };
  }

  describe('containers', () => {
    it('creates and starts a container, stores it, and audits with env values redacted', async () => {
      const { name, res } = await create({ env: ['DB_PASSWORD=hunter2', 'MODE=x'], labels: { team: 'core' } });
      expect(res.errors).toBeUndefined();
      const c = res.data!.createContainer.container;
      expect(c).toMatchObject({ name, state: 'running', image: TEST_IMAGE, labels: { team: 'core' } });
      expect(await docker('inspect', '-f', '{{.State.Running}} {{.Id}}', name)).toBe(`true ${c.containerId}`);
      const a = res.data!.createContainer.activity;
      expect(a).toMatchObject({ action: 'container.create', status: 'SUCCEEDED', targetId: c.containerId });
      expect(JSON.stringify(a.parameters)).not.toContain('hunter2');
      expect((a.parameters as { env: string[] }).env).toEqual(['DB_PASSWORD=[redacted]', 'MODE=[redacted]']);
      const rows = await sql(t.databaseUrl, 'select parameters::text as p from docker_activities where target_id = $1', [c.containerId]);
      expect(rows.length).toBe(1);
      expect(String(rows[0].p)).not.toContain('hunter2');
    });

    it('stops, starts and restarts; a second start is not an error', async () => {
      const { name, res } = await create();
      const id = res.data!.createContainer.container.id;
      const stopped = await t.gql(StopContainerDocument, { input: { id, timeoutSeconds: 1 } }, token);
      expect(stopped.errors).toBeUndefined();
      expect(stopped.data!.stopContainer.container.state).toBe('exited');
      expect(await docker('inspect', '-f', '{{.State.Status}}', name)).toBe('exited');
      const started = await t.gql(StartContainerDocument, { input: { id } }, token);
      expect(started.data!.startContainer.container.state).toBe('running');
      const again = await t.gql(StartContainerDocument, { input: { id } }, token);
      expect(again.errors).toBeUndefined();
      const before = await docker('inspect', '-f', '{{.State.StartedAt}}', name);
      const restarted = await t.gql(RestartContainerDocument, { input: { id, timeoutSeconds: 1 } }, token);
      expect(restarted.errors).toBeUndefined();
      const inspect = restarted.data!.restartContainer.container.inspect as { State: { StartedAt: string; Running: boolean } };
      expect(inspect.State.Running).toBe(true);
      expect(inspect.State.StartedAt).not.toBe(before);
    });

    it('links the Docker events an operation caused to its activity', async () => {
      const { res } = await create();
      const activityId = res.data!.createContainer.activity.id;
      const events = await eventually(async () => {
        const r = await t.gql<{ node: { events: { nodes: Array<{ action: string }> } } }, { id: string }>(
          'query($id: ID!) { node(id: $id) { ... on DockerActivity { events(first: 20) { nodes { action } } } } }',
          { id: activityId },
          token,
        );
        const actions = r.data?.node.events.nodes.map((n) => n.action) ?? [];
        return actions.includes('create') && actions.includes('start') ? actions : undefined;
      });
      expect(events).toEqual(expect.arrayContaining(['create', 'start']));
    });

    it('refuses specs that give root on the host without docker.containers.privileged, and creates nothing', async () => {
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ privileged: true }, /Privileged: a privileged container/],
        [{ binds: ['/:/host'] }, /bind of \/ is outside the allowed host roots/],
        [{ binds: ['/var/run/docker.sock:/var/run/docker.sock'] }, /outside the allowed host roots/],
        [{ binds: ['/etc/shadow:/x:ro'] }, /outside the allowed host roots/],
        [{ pidMode: 'host' }, /pid mode host/],
        [{ networkMode: 'host' }, /network mode host/],
        [{ capAdd: ['SYS_ADMIN'] }, /SYS_ADMIN/],
        [{ capAdd: ['cap_sys_module'] }, /SYS_MODULE/i],
      ];
      for (const [spec, why] of cases) {
        const { name, res } = await create({ ...spec, start: false });
        expect(code(res)).toBe('FORBIDDEN');
        expect(res.errors![0].message).toMatch(why);
        expect(res.errors![0].message).toContain('docker.containers.privileged');
        expect(await docker('ps', '-aq', '--filter', `name=^${name}$`)).toBe('');
      }
      // a named volume and a default capability are fine (host paths need FLEETGRAPH_HOST_BIND_ROOTS)
      const ok = await create({ binds: [`${uniqueName('vol')}:/data:ro`], capAdd: ['NET_BIND_SERVICE'], start: false });
      expect(ok.res.errors).toBeUndefined();
      // with the permission, the privileged spec goes through
      const privileged = await t.token({ account: 'resources', permissions: [...MANAGE, 'docker.containers.privileged'] });
      const allowed = await create({ privileged: true, start: false }, privileged);
      expect(allowed.res.errors).toBeUndefined();
      expect(await docker('inspect', '-f', '{{.HostConfig.Privileged}}', allowed.name)).toBe('true');
    });

    it('rejects bad input with the field named and needs docker.resources.manage', async () => {
      const bad = await create({ restartPolicy: 'sometimes' });
      expect(code(bad.res)).toBe('BAD_USER_INPUT');
      expect(bad.res.errors![0].extensions!.field).toBe('restartPolicy');
      const badPort = await create({ ports: [{ containerPort: 70000 }] });
      expect(badPort.res.errors![0].extensions!.field).toBe('ports.containerPort');
      const reader = await t.token({ account: 'resources', permissions: [] });
      const denied = await create({}, reader);
      expect(code(denied.res)).toBe('FORBIDDEN');
      for (const n of [bad.name, badPort.name, denied.name]) expect(await docker('ps', '-aq', '--filter', `name=^${n}$`)).toBe('');
    });

    it('passes Docker errors through as DOCKER_ERROR with status and message', async () => {
      const missing = await create({ image: 'fgt-does-not-exist:1' });
      expect(code(missing.res)).toBe('DOCKER_ERROR');
      expect(missing.res.errors![0].extensions!.dockerStatus).toBe(404);
      expect(missing.res.errors![0].message).toMatch(/No such image/i);
      // and the failure is audited with Docker's text
      const rows = await sql(t.databaseUrl, "select status, error, docker_status from docker_activities where action = 'container.create' and target_id = $1", [missing.name]);
      expect(rows).toEqual([{ status: 'failed', error: expect.stringMatching(/No such image/i), docker_status: 404 }]);

      // a container removed behind our back: the event stream drops its row, so its id is NOT_FOUND
      const { name, res } = await create();
      const id = res.data!.createContainer.container.id;
      await docker('rm', '-f', name);
      const start = await eventually(async () => {
        const r = await t.gql(StartContainerDocument, { input: { id } }, token);
        return code(r) === 'NOT_FOUND' ? r : undefined;
      });
      expect(start.errors![0].message).toContain(id);
    });

    it('removes a running container with force', async () => {
      const { name, res } = await create();
      const id = res.data!.createContainer.container.id;
      const plain = await t.gql(RemoveContainerDocument, { input: { id } }, token);
      expect(code(plain)).toBe('DOCKER_ERROR');
      expect(plain.errors![0].extensions!.dockerStatus).toBe(409);
      const forced = await t.gql(RemoveContainerDocument, { input: { id, force: true } }, token);
      expect(forced.errors).toBeUndefined();
      expect(forced.data!.removeContainer.removedId).toBe(id);
      expect(await docker('ps', '-aq', '--filter', `name=^${name}$`)).toBe('');
      const node = await t.gql(ContainerInspectDocument, { id }, token);
      expect(node.data?.node ?? null).toBeNull();
    });

    it('execs a command and returns stdout, stderr and the exit code (needs docker.containers.exec)', async () => {
      const { res } = await create();
      const id = res.data!.createContainer.container.id;
      const input = { id, command: ['sh', '-c', 'echo out; echo err >&2; exit 3'] };
      const denied = await t.gql(ExecContainerDocument, { input }, token);
      expect(code(denied)).toBe('FORBIDDEN');
      const exec = await t.token({ account: 'resources', permissions: [...MANAGE, 'docker.containers.exec'] });
      const r = await t.gql(ExecContainerDocument, { input }, exec);
      expect(r.errors).toBeUndefined();
      expect(r.data!.execContainer).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n', truncated: false });
      const big = await t.gql(ExecContainerDocument, { input: { id, command: ['sh', '-c', 'head -c 1100000 /dev/zero | tr "\\0" a'] } }, exec);
      expect(big.data!.execContainer.truncated).toBe(true);
      expect(big.data!.execContainer.stdout.length).toBe(1024 * 1024);
    });

    it('streams demultiplexed logs: tail without follow completes; follow delivers new lines', async () => {
      const script = 'for i in 1 2 3; do echo out-$i; echo err-$i >&2; done; sleep 1; echo late; sleep 300';
      const { res } = await create({ command: ['sh', '-c', script] });
      const id = res.data!.createContainer.container.id;
      const logs = await t.token({ account: 'resources', permissions: ['docker.logs.read'] });
      const client = t.ws(logs);
      const follow = subscribe(client, OnContainerLogsDocument, { containerId: id, follow: true, tail: 100 });
      const got = await follow.until((r) => r.some((x) => x.data?.containerLogs.line === 'late'));
      const lines = got.map((r) => r.data!.containerLogs);
      expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.line)).toEqual(['out-1', 'out-2', 'out-3', 'late']);
      expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.line)).toEqual(['err-1', 'err-2', 'err-3']);
      expect(lines[0].timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z$/);
      follow.unsubscribe();

      // Docker orders stdout and stderr lines written at the same instant either way: take the last line only
      const tail = subscribe(client, OnContainerLogsDocument, { containerId: id, follow: false, tail: 1 });
      await eventually(async () => tail.done);
      expect(tail.results.map((r) => r.data!.containerLogs)).toEqual([expect.objectContaining({ stream: 'stdout', line: 'late' })]);

      const noPerm = subscribe(t.ws(token), OnContainerLogsDocument, { containerId: id });
      const [denied] = await noPerm.until((r) => r.length > 0);
      expect(denied.errors![0].extensions!.code).toBe('FORBIDDEN');
      expect(denied.errors![0].message).toContain('docker.logs.read');
    });
  });

  describe('images', () => {
    it('tags, inspects and removes an image', async () => {
      const repo = `${uniqueName('img')}/tagged`;
      const tagged = await t.gql(TagImageDocument, { input: { hostId, image: TEST_IMAGE, repo, tag: 'v1' } }, token);
      expect(tagged.errors).toBeUndefined();
      expect(tagged.data!.tagImage.image!.repoTags).toEqual(expect.arrayContaining([`${repo}:v1`, TEST_IMAGE]));
      expect((tagged.data!.tagImage.image!.inspect as { Id: string }).Id).toBe(tagged.data!.tagImage.image!.imageId);
      expect(await docker('image', 'inspect', '-f', '{{.Id}}', `${repo}:v1`)).toBe(tagged.data!.tagImage.image!.imageId);
      const removed = await t.gql(RemoveImageDocument, { input: { hostId, image: `${repo}:v1` } }, token);
      expect(removed.errors).toBeUndefined();
      expect(removed.data!.removeImage.untagged).toEqual([`${repo}:v1`]);
      expect(removed.data!.removeImage.deleted).toEqual([]);
      await expect(docker('image', 'inspect', `${repo}:v1`)).rejects.toThrow();
      const badRef = await t.gql(TagImageDocument, { input: { hostId, image: TEST_IMAGE, repo: 'UPPER/case' } }, token);
      expect(code(badRef)).toBe('BAD_USER_INPUT');
      expect(badRef.errors![0].extensions!.field).toBe('repo');
    });

    it('builds from a tar context with progress and log; a failing build is DOCKER_ERROR with the reason', async () => {
      const tag = `${uniqueName('build')}:1`;
      const context = await tarBase64({
        Dockerfile: `FROM ${TEST_IMAGE}\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt > /copy.txt\nLABEL fleetgraph.test=build\n`,
        'hello.txt': 'hello from the context\n',
      });
      const built = await t.gql(BuildImageDocument, { input: { hostId, contextTarBase64: context, tags: [tag] } }, token);
      expect(built.errors).toBeUndefined();
      const out = built.data!.buildImage;
      expect(out.log.join('\n')).toMatch(/Step 2\/4 : COPY hello.txt/);
      expect(out.image!.repoTags).toContain(tag);
      expect(out.image!.labels).toMatchObject({ 'fleetgraph.test': 'build' });
      expect(await docker('run', '--rm', tag, 'cat', '/copy.txt')).toBe('hello from the context');
      expect(JSON.stringify(out.activity.parameters)).not.toContain(context.slice(0, 40));

      const failing = await tarBase64({ Dockerfile: `FROM ${TEST_IMAGE}\nRUN echo boom && exit 7\n` });
      const failed = await t.gql(BuildImageDocument, { input: { hostId, contextTarBase64: failing, tags: [`${uniqueName('build')}:bad`] } }, token);
      expect(code(failed)).toBe('DOCKER_ERROR');
      expect(failed.errors![0].message).toMatch(/returned a non-zero code: 7/);
      await docker('image', 'rm', tag);
    });

    it('reports pull and push failures from an unreachable registry as DOCKER_ERROR, audited, credentials redacted', async () => {
      const auth = { username: 'ci', password: 'registry-secret-pw', serverAddress: '127.0.0.1:9' };
      // a loopback registry needs docker.containers.privileged (test/integration/security-build.test.ts)
      const privileged = await t.token({ account: 'resources', permissions: [...MANAGE, 'docker.containers.privileged'] });
      const pull = await t.gql(PullImageDocument, { input: { hostId, image: '127.0.0.1:9/fleetgraph/nothing', tag: '1', registryAuth: auth } }, privileged);
      expect(code(pull)).toBe('DOCKER_ERROR');
      expect(pull.errors![0].message).toMatch(/127\.0\.0\.1:9/);
      const repo = `127.0.0.1:9/${uniqueName('push')}`;
      await docker('tag', TEST_IMAGE, `${repo}:1`);
      const push = await t.gql(PushImageDocument, { input: { hostId, image: repo, tag: '1', registryAuth: auth } }, privileged);
      expect(code(push)).toBe('DOCKER_ERROR');
      expect(push.errors![0].message).toMatch(/connection refused|dial tcp/i);
      await docker('image', 'rm', `${repo}:1`);
      const rows = await sql(t.databaseUrl, "select action, status, error, parameters::text as p from docker_activities where action in ('image.pull','image.push') order by started_at");
      expect(rows.map((r) => [r.action, r.status])).toEqual([
        ['image.pull', 'failed'],
        ['image.push', 'failed'],
      ]);
      for (const r of rows) {
        expect(String(r.error)).toMatch(/127\.0\.0\.1:9/);
        expect(String(r.p)).not.toContain('registry-secret-pw');
      }
    });
  });

  describe('networks and volumes', () => {
    it('creates a network, connects and disconnects a container, inspects, lists and removes it', async () => {
      const name = uniqueName('net');
      const net = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250) + 1}`;
      const created = await t.gql(CreateNetworkDocument, { input: { hostId, name, subnet: `${net}.0/24`, gateway: `${net}.1`, labels: { purpose: 'test' } } }, token);
      expect(created.errors).toBeUndefined();
      expect(created.data!.createNetwork.network).toMatchObject({ name, driver: 'bridge', ipam: [{ subnet: `${net}.0/24`, gateway: `${net}.1` }], labels: { purpose: 'test' } });
      const { name: cname } = await create();
      const connected = await t.gql(ConnectNetworkDocument, { input: { hostId, network: name, container: cname, aliases: ['db'], ipv4Address: `${net}.50` } }, token);
      expect(connected.errors).toBeUndefined();
      expect(connected.data!.connectNetwork.network.containers).toEqual([expect.objectContaining({ name: cname, ipv4Address: `${net}.50/24` })]);
      expect(await docker('inspect', '-f', `{{(index .NetworkSettings.Networks "${name}").IPAddress}}`, cname)).toBe(`${net}.50`);
      const listed = await t.gql(NetworksDocument, { hostId, name }, token);
      expect(listed.data!.networks.map((n) => n.name)).toEqual([name]);
      const inspected = await t.gql(NetworkInspectDocument, { hostId, name }, token);
      expect((inspected.data!.networks[0].inspect as { Name: string }).Name).toBe(name);
      const disconnected = await t.gql(DisconnectNetworkDocument, { input: { hostId, network: name, container: cname } }, token);
      expect(disconnected.data!.disconnectNetwork.network.containers).toEqual([]);
      const removed = await t.gql(RemoveNetworkDocument, { input: { hostId, network: name } }, token);
      expect(removed.errors).toBeUndefined();
      await expect(docker('network', 'inspect', name)).rejects.toThrow();
    });

    it('rejects bad network input and refuses to remove predefined networks', async () => {
      const bad = await t.gql(CreateNetworkDocument, { input: { hostId, name: uniqueName('net'), subnet: 'ten-dot' } }, token);
      expect(code(bad)).toBe('BAD_USER_INPUT');
      expect(bad.errors![0].extensions!.field).toBe('subnet');
      const predefined = await t.gql(RemoveNetworkDocument, { input: { hostId, network: 'host' } }, token);
      expect(code(predefined)).toBe('BAD_USER_INPUT');
      expect(await docker('network', 'inspect', '-f', '{{.Name}}', 'host')).toBe('host');
      const missing = await t.gql(RemoveNetworkDocument, { input: { hostId, network: uniqueName('nonet') } }, token);
      expect(code(missing)).toBe('DOCKER_ERROR');
      expect(missing.errors![0].extensions!.dockerStatus).toBe(404);
    });

    it('creates, lists, inspects, removes and prunes volumes', async () => {
      const name = uniqueName('vol');
      const label = `fgt.run=${uniqueName('run')}`;
      const [lk, lv] = label.split('=');
      const created = await t.gql(CreateVolumeDocument, { input: { hostId, name, labels: { [lk]: lv } } }, token);
      expect(created.errors).toBeUndefined();
      expect(created.data!.createVolume.volume).toMatchObject({ name, driver: 'local', labels: { [lk]: lv } });
      const listed = await t.gql(VolumesDocument, { hostId, name }, token);
      expect(listed.data!.volumes.map((v) => v.name)).toEqual([name]);
      const viaHost = await t.gql(HostNetworksAndVolumesDocument, { id: hostId }, token);
      expect(viaHost.data!.dockerHost.networks.map((n) => n.name)).toEqual(expect.arrayContaining(['host', 'none'])); // the test dockerd runs with --bridge=none;
      expect(viaHost.data!.dockerHost.volumes.find((v) => v.name === name)!.inspect).toMatchObject({ Name: name });

      const removed = await t.gql(RemoveVolumeDocument, { input: { hostId, name } }, token);
      expect(removed.errors).toBeUndefined();
      await expect(docker('volume', 'inspect', name)).rejects.toThrow();

      const keep = uniqueName('vol');
      const unused = uniqueName('vol');
      const inUse = uniqueName('vol');
      await docker('volume', 'create', keep);
      await docker('volume', 'create', '--label', label, unused);
      await docker('volume', 'create', '--label', label, inUse);
      await create({ binds: [`${inUse}:/data`] });
      const pruned = await t.gql(PruneVolumesDocument, { input: { hostId, labels: [label] } }, token);
      expect(pruned.errors).toBeUndefined();
      expect(pruned.data!.pruneVolumes.volumesDeleted).toEqual([unused]);
      expect(await docker('volume', 'ls', '-q', '--filter', `name=${inUse}`)).toBe(inUse);
      expect(await docker('volume', 'ls', '-q', '--filter', `name=${keep}`)).toBe(keep);
      expect(pruned.data!.pruneVolumes.activity).toMatchObject({ action: 'volume.prune', status: 'SUCCEEDED' });
    });
  });

  it('reports an unreachable host as DOCKER_UNREACHABLE', async () => {
    const reg = await t.gql(RegisterDockerHostDocument, { input: { name: 'gone', apiEndpoint: missingSocketEndpoint(), environment: 'development' } }, token);
    const gone = reg.data!.registerDockerHost.host.id;
    const res = await t.gql(CreateVolumeDocument, { input: { hostId: gone, name: uniqueName('vol') } }, token);
    expect(code(res)).toBe('DOCKER_UNREACHABLE');
    const list = await t.gql(VolumesDocument, { hostId: gone }, token);
    expect(code(list)).toBe('DOCKER_UNREACHABLE');
  });
});
