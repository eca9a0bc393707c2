import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import Redis from 'ioredis';
import type { ExecutionResult } from 'graphql';
import {
  CreateContainerDocument,
  DockerHostDocument,
  HostContainersDocument,
  OnDockerEventsDocument,
  OnDockerEventsSubscription,
  RegisterDockerHostDocument,
  RemoveContainerDocument,
  RestartContainerDocument,
  StartContainerDocument,
  StopContainerDocument,
} from '../../src/generated/graphql';
import { expectGlobalId } from '../../src/graphql/relay';
import { parseEventLine, RawDockerEvent } from '../../src/infra/engine/event-stream';
import { eventually, startTestApp, subscribe, TestApp, testEndpointAllow, testEnv } from '../support/app';
import { cleanupDocker, dockerEndpoint, dockerSocket, TEST_IMAGE, uniqueName } from '../support/docker';
import { SimEngine, startSimEngine } from '../support/sim-engine';

/**
 * One host behaviour suite, run against the real test dockerd and against the simulated engine
 * (test/support/sim-engine.ts), so the simulator cannot drift from what fleetgraph sees of Docker:
 * register a host over GraphQL and see it CONNECTED with the engine's own system info, its
 * inventory list containers made behind fleetgraph's back, create/stop/start/restart/remove a
 * container through fleetgraph, and the dockerEvents subscription deliver exactly the events the
 * engine itself records for it (same actions, same order, same timeNano, same attributes); Docker's
 * errors come through with the same status. Each target is driven out of band through dockerode,
 * the same calls for both, in place of the docker CLI.
 */

type LiveEvent = OnDockerEventsSubscription['dockerEvents'];

/** An engine the suite runs against: its endpoint for registration, and a dockerode for out-of-band calls. */
interface EngineTarget {
  label: string;
  start(): Promise<{ endpoint: string; docker: Docker; allow: string[] }>;
  stop(): Promise<void>;
}

const realDockerd: EngineTarget = {
  label: 'the real test dockerd',
  async start() {
    return { endpoint: dockerEndpoint(), docker: new Docker({ socketPath: dockerSocket(), version: 'v1.41' }), allow: [] };
  },
  async stop() {
    await cleanupDocker();
  },
};

/** The simulator's socket lives in its own directory under the test base, allow-listed for its app only. */
function simulatorTarget(): EngineTarget {
  let sim: SimEngine | undefined;
  const dir = path.join(testEnv('FLEETGRAPH_TEST_BASE'), 'sim');
  return {
    label: 'the simulated engine',
    async start() {
      fs.mkdirSync(dir, { recursive: true });
      sim = await startSimEngine({ socketPath: path.join(dir, `parity-${process.pid}-${randomBytes(3).toString('hex')}.sock`) });
      return { endpoint: sim.endpoint, docker: new Docker({ ...sim.dockerOptions, version: 'v1.41' }), allow: [`unix:${dir}/`] };
    },
    async stop() {
      await sim?.stop();
    },
  };
}

/** What each engine must record, and fleetgraph deliver, for: create (started), stop t=0, start, start again, restart t=0, remove -f. */
const EXPECTED_ACTIONS = ['create', 'start', 'kill', 'kill', 'die', 'stop', 'start', 'kill', 'kill', 'die', 'stop', 'start', 'restart', 'kill', 'die', 'destroy'];
const EXPECTED_SIGNALS = ['15', '9', '15', '9', '9'];

/** The engine's own record of a container's events (GET /events with since, until and a container filter), timeNano exact. */
async function engineEvents(docker: Docker, containerId: string, sinceSeconds: number): Promise<RawDockerEvent[]> {
  const until = (Date.now() / 1000 + 0.001).toFixed(3);
  const stream = (await docker.getEvents({ since: sinceSeconds.toFixed(3), until, filters: { container: [containerId] } } as unknown as Docker.GetEventsOptions)) as unknown as NodeJS.ReadableStream;
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  return text
    .split('\n')
    .map((l) => parseEventLine(l))
    .filter((e): e is RawDockerEvent => Boolean(e));
}

const code = (res: { errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> }) => res.errors?.[0]?.extensions?.code;

function hostBehaviourSuite(target: EngineTarget): void {
  describe(`host behaviour against ${target.label}`, () => {
    let t: TestApp;
    let docker: Docker;
    let endpoint: string;
    let token: string;
    let hostId: string;
    let redis: Redis;
    let sub: ReturnType<typeof subscribe<OnDockerEventsSubscription, { hostId: string }>>;
    /** In the name of every container the suite makes (and only those): the inventory and the engine's list are compared on it. */
    const mark = `parity${randomBytes(3).toString('hex')}`;
    const before = { name: uniqueName(`${mark}-pre`), id: '' };

    /** The stored inventory rows whose names the suite made, as "id name state". */
    async function inventory(): Promise<string[]> {
      const res = await t.gql(HostContainersDocument, { id: hostId, filter: { name: mark }, first: 100 }, token);
      if (res.errors) throw new Error(JSON.stringify(res.errors));
      return res.data!.dockerHost.containers.nodes.map((c) => `${c.containerId} ${c.name} ${c.state}`).sort();
    }

    /** The engine's own list of the same containers. */
    async function engineList(): Promise<string[]> {
      const list = await docker.listContainers({ all: true, filters: { name: [mark] } });
      return list.map((c) => `${c.Id} ${c.Names[0].replace(/^\//, '')} ${c.State}`).sort();
    }

    beforeAll(async () => {
      const started = await target.start();
      docker = started.docker;
      endpoint = started.endpoint;
      t = await startTestApp({ config: { workers: true, sync: { retryBaseMs: 200 } }, env: { FLEETGRAPH_ENDPOINT_ALLOW: testEndpointAllow(...started.allow) } });
      token = await t.token({ account: `parity-${randomBytes(3).toString('hex')}`, permissions: ['docker.hosts.manage', 'docker.resources.manage'] });
      redis = new Redis(testEnv('FLEETGRAPH_TEST_REDIS_URL'));
      // a container the engine had before fleetgraph knew it
      const c = await docker.createContainer({ name: before.name, Image: TEST_IMAGE, Cmd: ['sleep', '300'], Labels: { 'fgt.parity': 'pre' } });
      await c.start();
      before.id = c.id;
    });

    afterAll(async () => {
      sub?.unsubscribe();
      redis?.disconnect();
      await t?.stop();
      await target.stop();
    });

    it("registers over GraphQL, becomes CONNECTED with the engine's own system info, and lists the engine's containers", async () => {
      const reg = await t.gql(RegisterDockerHostDocument, { input: { name: 'parity', apiEndpoint: endpoint, environment: 'development', syncIntervalSeconds: 3600 } }, token);
      expect(reg.errors).toBeUndefined();
      expect(reg.data!.registerDockerHost.host.status).toBe('PENDING');
      hostId = reg.data!.registerDockerHost.host.id;

      const host = await eventually(async () => {
        const h = (await t.gql(DockerHostDocument, { id: hostId }, token)).data?.dockerHost;
        return h?.status === 'CONNECTED' && h.lastSyncedAt ? h : undefined;
      });
      const info = (await docker.info()) as Record<string, unknown>;
      expect(host).toMatchObject({
        status: 'CONNECTED',
        consecutiveFailures: 0,
        lastError: null,
        dockerVersion: info.ServerVersion,
        operatingSystem: info.OperatingSystem,
        architecture: info.Architecture,
        cpuCount: info.NCPU,
        memoryBytes: String(info.MemTotal),
      });
      expect(host.imageCount).toBeGreaterThanOrEqual(1);
      expect(host.runningContainerCount).toBeGreaterThanOrEqual(1);
      expect(host.health!.pingLatencyMs).toBeGreaterThan(0);

      const res = await t.gql(HostContainersDocument, { id: hostId, filter: { name: before.name } }, token);
      expect(res.data!.dockerHost.containers.nodes).toEqual([
        expect.objectContaining({ containerId: before.id, name: before.name, image: TEST_IMAGE, state: 'running', labels: { 'fgt.parity': 'pre' } }),
      ]);
      expect(await inventory()).toEqual(await engineList());
    });

    it('runs a container lifecycle through fleetgraph; dockerEvents delivers what the engine recorded, in order, timeNano exact', async () => {
      sub = subscribe(t.ws(token), OnDockerEventsDocument, { hostId });
      const channel = `dockerEvents:${expectGlobalId(hostId, 'DockerHost')}`;
      await eventually(async () => Number(((await redis.pubsub('NUMSUB', channel)) as [string, number])[1]) > 0, 10_000, 50);
      const since = Date.now() / 1000 - 1;

      const name = uniqueName(`${mark}-life`);
      const created = await t.gql(CreateContainerDocument, { input: { hostId, name, image: TEST_IMAGE, command: ['sleep', '300'], labels: { 'fgt.parity': 'life' } } }, token);
      expect(created.errors).toBeUndefined();
      const row = created.data!.createContainer.container;
      expect(row).toMatchObject({ name, state: 'running', image: TEST_IMAGE, labels: { 'fgt.parity': 'life' } });
      expect(created.data!.createContainer.activity).toMatchObject({ action: 'container.create', status: 'SUCCEEDED', targetId: row.containerId });

      const stopped = await t.gql(StopContainerDocument, { input: { id: row.id, timeoutSeconds: 0 } }, token);
      expect(stopped.errors).toBeUndefined();
      expect(stopped.data!.stopContainer.container.state).toBe('exited');
      const started = await t.gql(StartContainerDocument, { input: { id: row.id } }, token);
      expect(started.data!.startContainer.container.state).toBe('running');
      // Docker answers 304 to a second start: not an error, and no event
      const again = await t.gql(StartContainerDocument, { input: { id: row.id } }, token);
      expect(again.errors).toBeUndefined();
      expect(again.data!.startContainer.activity.status).toBe('SUCCEEDED');
      const restarted = await t.gql(RestartContainerDocument, { input: { id: row.id, timeoutSeconds: 0 } }, token);
      expect(restarted.errors).toBeUndefined();
      const inspect = restarted.data!.restartContainer.container.inspect as { State: { Running: boolean; ExitCode: number }; Name: string; Config: { Labels: Record<string, string> } };
      expect(inspect).toMatchObject({ Name: `/${name}`, State: { Running: true, ExitCode: 0 }, Config: { Labels: { 'fgt.parity': 'life' } } });
      await eventually(async () => (await inventory()).includes(`${row.containerId} ${name} running`), 10_000, 100);

      // removing a running container needs force, as Docker says (409)
      const plain = await t.gql(RemoveContainerDocument, { input: { id: row.id } }, token);
      expect(code(plain)).toBe('DOCKER_ERROR');
      expect(plain.errors![0].extensions!.dockerStatus).toBe(409);
      const removed = await t.gql(RemoveContainerDocument, { input: { id: row.id, force: true } }, token);
      expect(removed.errors).toBeUndefined();

      const ofContainer = (rs: ExecutionResult<OnDockerEventsSubscription>[]) =>
        rs.map((r) => r.data?.dockerEvents).filter((e): e is LiveEvent => Boolean(e && e.type === 'container' && e.actorId === row.containerId));
      await sub.until((rs) => ofContainer(rs).some((e) => e.action === 'destroy'));
      const live = ofContainer(sub.results);
      expect(live.map((e) => e.action)).toEqual(EXPECTED_ACTIONS);
      expect(live.filter((e) => e.action === 'kill').map((e) => e.attributes.signal)).toEqual(EXPECTED_SIGNALS);
      expect(live.filter((e) => e.action === 'die').map((e) => e.attributes.exitCode)).toEqual(['137', '137', '137']);
      for (const e of live) {
        expect(e.source).toBe('STREAM');
        expect(e.attributes).toMatchObject({ name, image: TEST_IMAGE, 'fgt.parity': 'life' });
      }
      const nanos = live.map((e) => BigInt(e.timeNano));
      expect(nanos.every((n, i) => i === 0 || n > nanos[i - 1])).toBe(true);

      // the engine's own record: the same events, with the same nanoseconds and attributes
      const own = await engineEvents(docker, row.containerId, since);
      expect(live.map((e) => ({ action: e.action, timeNano: e.timeNano, attributes: e.attributes }))).toEqual(
        own.map((e) => ({ action: e.Action, timeNano: e.timeNano, attributes: e.Actor?.Attributes })),
      );

      // the inventory follows (the row goes with destroy), and equals the engine's list
      await eventually(async () => !(await inventory()).some((l) => l.startsWith(row.containerId)), 10_000, 100);
      expect(await inventory()).toEqual(await engineList());
    });

    it("passes the engine's errors through with Docker's status: a taken name is 409, an unknown image 404", async () => {
      const taken = await t.gql(CreateContainerDocument, { input: { hostId, name: before.name, image: TEST_IMAGE, command: ['true'] } }, token);
      expect(code(taken)).toBe('DOCKER_ERROR');
      expect(taken.errors![0].extensions).toMatchObject({ dockerStatus: 409 });
      expect(taken.errors![0].message).toContain(`The container name "/${before.name}" is already in use`);
      const missing = await t.gql(CreateContainerDocument, { input: { hostId, name: uniqueName(`${mark}-missing`), image: 'fgt-parity-missing:1' } }, token);
      expect(code(missing)).toBe('DOCKER_ERROR');
      expect(missing.errors![0].extensions).toMatchObject({ dockerStatus: 404 });
      expect(missing.errors![0].message).toContain('No such image: fgt-parity-missing:1');
    });

    it('follows changes made behind its back through the event stream alone (no sync)', async () => {
      const { lastSyncedAt } = (await t.gql(DockerHostDocument, { id: hostId }, token)).data!.dockerHost;
      const name = uniqueName(`${mark}-oob`);
      const c = await docker.createContainer({ name, Image: TEST_IMAGE, Cmd: ['sh', '-c', 'exit 3'] });
      await eventually(async () => (await inventory()).includes(`${c.id} ${name} created`), 10_000, 100);
      await c.start();
      await eventually(async () => (await inventory()).includes(`${c.id} ${name} exited`), 10_000, 100);
      expect(((await c.inspect()) as { State: { ExitCode: number } }).State.ExitCode).toBe(3);
      await c.remove();
      await docker.getContainer(before.id).remove({ force: true });
      await eventually(async () => (await inventory()).length === 0, 10_000, 100);
      expect(await engineList()).toEqual([]);
      expect((await t.gql(DockerHostDocument, { id: hostId }, token)).data!.dockerHost.lastSyncedAt).toBe(lastSyncedAt);
    });
  });
}

hostBehaviourSuite(realDockerd);
hostBehaviourSuite(simulatorTarget());
