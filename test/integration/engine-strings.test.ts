import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { DockerHost, HostStatus } from '../../entities';
import { RegisterDockerHostDocument } from '../../src/generated/graphql';
import { fromGlobalId } from '../../src/graphql/relay';
import { eventually, startTestApp, TestApp, testEndpointAllow, testEnv } from '../support/app';
import { SimEngine, startSimEngine } from '../support/sim-engine';
import { sql } from '../support/db';

/**
 * What an engine says about itself (`docker info`) is written through the ORM on every sync. A
 * string holding U+0000, which PostgreSQL's text cannot store, must not fail the host's sync on
 * every retry: it is stored without it.
 */
describe('engine strings the ORM writes', () => {
  let t: TestApp;
  let sim: SimEngine;
  const dir = path.join(testEnv('FLEETGRAPH_TEST_BASE'), 'sim');

  beforeAll(async () => {
    fs.mkdirSync(dir, { recursive: true });
    sim = await startSimEngine({
      socketPath: path.join(dir, `strings-${process.pid}-${randomBytes(3).toString('hex')}.sock`),
      operatingSystem: 'Sim\u0000Linux',
      kernelVersion: '6.1\u0000-evil',
      images: [{ RepoTags: ['local/busybox:1'], Labels: { 'a\u0000b': 'c\u0000d' } }],
    });
    t = await startTestApp({ config: { workers: true, sync: { retryBaseMs: 200 } }, env: { FLEETGRAPH_ENDPOINT_ALLOW: testEndpointAllow(`unix:${dir}/`) } });
  });
  afterAll(async () => {
    await t?.stop();
    await sim?.stop();
  });

  /** Registers an engine for a fresh account and waits for its first sync (or failure); the host row as stored. */
  async function registerAndSync(name: string, apiEndpoint: string): Promise<{ id: string; host: DockerHost }> {
    const token = await t.token({ account: `${name}-${randomBytes(3).toString('hex')}`, permissions: ['docker.hosts.manage'] });
    const reg = await t.gql(RegisterDockerHostDocument, { input: { name, apiEndpoint, environment: 'development', syncIntervalSeconds: 3600 } }, token);
    expect(reg.errors).toBeUndefined();
    const id = fromGlobalId(reg.data!.registerDockerHost.host.id).id;
    const host = await eventually(async () => {
      const h = await t.app.services.orm.em.fork().findOne(DockerHost, id, { filters: false });
      return h && (h.lastSyncedAt || h.lastError) ? h : undefined;
    }, 60_000);
    return { id, host };
  }

  it('a host with 7,000 images syncs them all (11 parameters per image went past the 65,535 a statement may have)', async () => {
    const many = await startSimEngine({
      socketPath: path.join(dir, `images-${process.pid}-${randomBytes(3).toString('hex')}.sock`),
      images: Array.from({ length: 7000 }, (_, i) => ({ RepoTags: [`local/many:${i}`], Labels: { n: String(i) } })),
    });
    try {
      const { id, host } = await registerAndSync('many', many.endpoint);
      expect({ status: host.status, lastError: host.lastError, imageCount: host.imageCount }).toEqual({ status: HostStatus.CONNECTED, lastError: null, imageCount: 7000 });
      const [{ n }] = await sql<{ n: number }>(t.databaseUrl, 'select count(*)::int as n from docker_images where host_id = $1', [id]);
      expect(n).toBe(7000);
    } finally {
      await many.stop();
    }
  }, 120_000);

  it('a host whose `docker info` strings hold U+0000 syncs, and they are stored without it', async () => {
    const { host } = await registerAndSync('nul', sim.endpoint);
    expect({ status: host.status, lastError: host.lastError }).toEqual({ status: HostStatus.CONNECTED, lastError: null });
    expect({ operatingSystem: host.operatingSystem, kernelVersion: host.kernelVersion }).toEqual({ operatingSystem: 'SimLinux', kernelVersion: '6.1-evil' });
    expect(host.imageCount).toBe(1);
  });
});
