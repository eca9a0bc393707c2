import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { forkForAccount } from '../../src/infra/db/orm';
import { createDockerClient, destroyClient, parseEndpoint } from '../../src/infra/engine/client';
import { Engine } from '../../src/infra/engine/port';
import type { LiveChannel } from '../../src/infra/pubsub';
import { Topic } from '../../src/infra/pubsub/topics';
import { EndpointPolicy, parseEndpointAllowList } from '../../src/kernel/addresses';
import type { ServiceTasksPayload } from '../../src/modules/swarm';
import { MAX_TASKS_PER_CHANGE } from '../../src/modules/swarm/tasks';
import { ClusterWatch } from '../../src/modules/swarm/watch';
import { startTestApp, TestApp } from '../support/app';
import { seedSwarm } from '../support/fleet';
import { sql } from '../support/db';

/**
 * A cluster's task watcher against a manager that answers what it likes (an HTTP server on a
 * unix socket playing the Engine API), with the real database and pub/sub: what it publishes and
 * how often it asks stay bounded whatever the manager answers.
 */
describe('cluster watch against a hostile manager', () => {
  let t: TestApp;
  let dir: string;
  let server: http.Server;
  let clients: ReturnType<typeof createDockerClient>[];
  let engine: Engine;
  let accountId: string;
  let clusterId: string;
  let serviceRow: string;
  const dockerServiceId = 'svc-0-0';
  let tasks = 0;
  let updateState = 'completed';
  let inspects = 0;

  const template = { ContainerSpec: { Image: 'local/busybox:1' } };
  const service = () => ({
    ID: dockerServiceId,
    Version: { Index: 7 },
    Spec: { Name: 'Web', Mode: { Replicated: { Replicas: tasks } }, TaskTemplate: template },
    UpdateStatus: { State: updateState },
  });
  const task = (i: number) => ({
    ID: `task-${String(i).padStart(6, '0')}`,
    ServiceID: dockerServiceId,
    Slot: i + 1,
    NodeID: 'node-0-0',
    DesiredState: 'running',
    Status: { State: 'running', Timestamp: '2026-12-01T00:00:00Z' },
    Spec: template,
  });

  beforeAll(async () => {
    t = await startTestApp({ redis: false });
    const token = await t.token({ account: 'watch-bounds' });
    accountId = (await t.app.services.accounts.resolve(await t.app.services.verifyToken(token))).accountId;
    [clusterId] = (await seedSwarm(t.app.services.orm, accountId, { prefix: 'wb', clusters: 1, services: 1, nodes: 1 })).clusterIds;
    serviceRow = (await sql<{ id: string }>(t.databaseUrl, 'select id from swarm_services where service_id = $1 and cluster_id = $2', [dockerServiceId, clusterId]))[0].id;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-manager-'));
    const sock = path.join(dir, 'docker.sock');
    server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const url = req.url ?? '';
      if (url.includes(`/services/${dockerServiceId}`)) {
        inspects++;
        return res.end(JSON.stringify(service()));
      }
      if (url.includes('/tasks')) return res.end(JSON.stringify(Array.from({ length: tasks }, (_, i) => task(i))));
      if (url.includes('/nodes'))
        return res.end(
          JSON.stringify([
            { ID: 'node-0-0', Spec: { Role: 'manager', Availability: 'active' }, Status: { State: 'ready' }, ManagerStatus: { Leader: true, Reachability: 'reachable' }, Version: { Index: 1 } },
          ]),
        );
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    const policy = new EndpointPolicy(parseEndpointAllowList(`unix:${sock}`));
    clients = [createDockerClient(parseEndpoint(`unix://${sock}`, false), false, undefined, { policy, timeoutMs: 10_000, maxResponseBytes: 64 * 1024 * 1024 })];
    engine = new Engine({ api: clients[0], stream: clients[0] }, { name: 'hostile', kind: 'cluster' });
  }, 60_000);
  afterAll(async () => {
    for (const c of clients ?? []) destroyClient(c);
    await new Promise((r) => server?.close(r));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await t?.stop();
  });

  const watchOf = () =>
    new ClusterWatch({
      clusterId,
      accountId,
      log: pino({ level: 'silent' }),
      pubsub: t.app.services.pubsub,
      em: () => forkForAccount(t.app.services.orm, accountId),
      engine: async () => engine,
      unreachable: () => undefined,
    });

  it(`a change lists at most ${MAX_TASKS_PER_CHANGE} tasks and counts the rest in tasksOmitted`, async () => {
    tasks = 1200;
    updateState = 'completed';
    const feed = t.app.services.pubsub.subscribe(Topic.SWARM_SERVICE_TASKS, serviceRow) as LiveChannel;
    await feed.subscribed;
    const watch = watchOf();
    try {
      watch.start();
      watch.watch(dockerServiceId);
      const { value } = (await feed.next()) as { value: ServiceTasksPayload };
      expect(value.tasks).toHaveLength(MAX_TASKS_PER_CHANGE);
      expect(value.tasksOmitted).toBe(1200 - MAX_TASKS_PER_CHANGE);
      expect(value.runningTasks).toBe(1200);
    } finally {
      await watch.stop();
      await feed.return?.();
    }
  });

  it('a read the store refuses (an UpdateStatus.State longer than its column) is retried after a pause, not in a loop', async () => {
    tasks = 3;
    updateState = 'x'.repeat(40);
    const watch = watchOf();
    try {
      inspects = 0;
      watch.start();
      watch.watch(dockerServiceId);
      await new Promise((r) => setTimeout(r, 2000));
      // one read, then the 5 s pause (without it: hundreds of reads in 2 s)
      expect(inspects).toBeGreaterThanOrEqual(1);
      expect(inspects).toBeLessThanOrEqual(2);
    } finally {
      await watch.stop();
    }
  });
});
