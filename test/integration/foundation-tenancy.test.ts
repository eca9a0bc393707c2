import type { MikroORM } from '@mikro-orm/postgresql';
import { print } from 'graphql';
import {
  DockerHostDocument,
  FoundationNodeDocument,
  FoundationNodesDocument,
  HostContainersDocument,
  HostImagesDocument,
  RecoverDockerHostDocument,
  RegisterDockerHostDocument,
  RemoveDockerHostDocument,
  SetDockerHostMaintenanceDocument,
  StoredEventsDocument,
  SyncDockerHostDocument,
  UpdateDockerHostDocument,
  ViewerDocument,
} from '../../src/generated/graphql';
import { ENTITIES, Account, User } from '../../entities';
import { forkForAccount, tenantScopedEntities, SYSTEM } from '../../src/infra/db/orm';
import { startTestApp, TestApp } from '../support/app';
import { sql } from '../support/db';
import { cleanupDocker, docker, dockerEndpoint, TEST_IMAGE, uniqueName } from '../support/docker';

/**
 * Tenancy: account B must not read (or, once mutations exist, change) account A's rows.
 *
 * To extend for a new entity: add an entry to OWNED_BY_A that creates (or finds) one object of
 * account A and returns its global id; add cross-account mutations to CROSS_ACCOUNT_MUTATIONS.
 * The ORM-level checks below run over every registered entity automatically.
 */
interface Tenant {
  token: string;
  accountId: string; // global id
  userId: string; // global id
}
interface OwnedFixture {
  type: string;
  /** Returns the global id of an object owned by account A. */
  create: (t: TestApp, a: Tenant) => Promise<string>;
}
/**
 * A's Docker host (the test dockerd's unix socket), synced twice so that it has containers,
 * images and a stored (resync) event; shared by the Docker fixtures below.
 */
interface HostOfA {
  hostId: string;
  activityId: string;
  containerId: string;
  imageId: string;
  eventId: string;
}
let hostOfA: Promise<HostOfA> | undefined;
function dockerHostOfA(t: TestApp, a: Tenant): Promise<HostOfA> {
  return (hostOfA ??= (async () => {
    const ok = <R>(res: { data?: R | null; errors?: unknown }): R => {
      if (res.errors || !res.data) throw new Error(`fixture failed: ${JSON.stringify(res.errors)}`);
      return res.data;
    };
    const reg = ok(await t.gql(RegisterDockerHostDocument, { input: { name: 'a-host', apiEndpoint: dockerEndpoint(), environment: 'development' } }, a.token)).registerDockerHost;
    const hostId = reg.host.id;
    ok(await t.gql(SyncDockerHostDocument, { input: { id: hostId } }, a.token));
    // made after the first sync, so the second sync stores it and records a resync event for it
    const name = uniqueName('tenancy');
    await docker('create', '--name', name, TEST_IMAGE, 'true');
    ok(await t.gql(SyncDockerHostDocument, { input: { id: hostId } }, a.token));
    const container = ok(await t.gql(HostContainersDocument, { id: hostId, filter: { name } }, a.token)).dockerHost.containers.nodes[0];
    const image = ok(await t.gql(HostImagesDocument, { id: hostId, filter: { tag: TEST_IMAGE } }, a.token)).dockerHost.images.nodes[0];
    const event = ok(await t.gql(StoredEventsDocument, { filter: { actorId: container.containerId }, first: 1 }, a.token)).dockerEvents.nodes[0];
    if (!container || !image || !event) throw new Error('fixture failed: no container, image or event for A');
    return { hostId, activityId: reg.activity.id, containerId: container.id, imageId: image.id, eventId: event.id };
  })());
}

const OWNED_BY_A: OwnedFixture[] = [
  { type: 'Account', create: async (_t, a) => a.accountId },
  { type: 'User', create: async (_t, a) => a.userId },
  { type: 'DockerHost', create: async (t, a) => (await dockerHostOfA(t, a)).hostId },
  { type: 'DockerActivity', create: async (t, a) => (await dockerHostOfA(t, a)).activityId },
  { type: 'DockerContainer', create: async (t, a) => (await dockerHostOfA(t, a)).containerId },
  { type: 'DockerImage', create: async (t, a) => (await dockerHostOfA(t, a)).imageId },
  { type: 'DockerEvent', create: async (t, a) => (await dockerHostOfA(t, a)).eventId },
];
interface CrossAccountMutation {
  name: string;
  /** The mutation document and its variables, given the global id of A's object. */
  build: (id: string) => { query: string; variables: Record<string, unknown> };
  target: string; // fixture type the mutation is aimed at
}
const CROSS_ACCOUNT_MUTATIONS: CrossAccountMutation[] = [
  {
    name: 'updateDockerHost',
    target: 'DockerHost',
    build: (id) => ({ query: print(UpdateDockerHostDocument), variables: { input: { id, environment: 'hijacked', apiEndpoint: 'tcp://203.0.113.1:2375' } } }),
  },
  { name: 'setDockerHostMaintenance', target: 'DockerHost', build: (id) => ({ query: print(SetDockerHostMaintenanceDocument), variables: { input: { id, maintenance: true } } }) },
  { name: 'recoverDockerHost', target: 'DockerHost', build: (id) => ({ query: print(RecoverDockerHostDocument), variables: { input: { id } } }) },
  { name: 'syncDockerHost', target: 'DockerHost', build: (id) => ({ query: print(SyncDockerHostDocument), variables: { input: { id } } }) },
  { name: 'removeDockerHost', target: 'DockerHost', build: (id) => ({ query: print(RemoveDockerHostDocument), variables: { input: { id } } }) },
];

/** Entities that are deliberately global (not scoped by account). Keep this empty unless there is a reason. */
const GLOBAL_ENTITIES: string[] = [];

describe('tenancy', () => {
  let t: TestApp;
  let a: Tenant;
  let b: Tenant;
  const ids = new Map<string, string>();

  async function tenant(account: string): Promise<Tenant> {
    const token = await t.token({ account, permissions: ['docker.hosts.manage', 'swarm.clusters.manage'] });
    const res = await t.gql(ViewerDocument, {}, token);
    expect(res.errors).toBeUndefined();
    return { token, accountId: res.data!.viewer.account.id, userId: res.data!.viewer.user.id };
  }

  beforeAll(async () => {
    t = await startTestApp({ redis: false });
    a = await tenant('tenant-a');
    b = await tenant('tenant-b');
    for (const f of OWNED_BY_A) ids.set(f.type, await f.create(t, a));
  });
  afterAll(async () => {
    await cleanupDocker();
    await t?.stop();
  });

  describe.each(OWNED_BY_A.map((f) => [f.type]))('%s of account A', (type) => {
    it('is readable by A through node(id:)', async () => {
      const res = await t.gql(FoundationNodeDocument, { id: ids.get(type)! }, a.token);
      expect(res.errors).toBeUndefined();
      expect(res.data?.node).toMatchObject({ __typename: type, id: ids.get(type) });
    });

    it('is null for B through node(id:)', async () => {
      const res = await t.gql(FoundationNodeDocument, { id: ids.get(type)! }, b.token);
      expect(res.errors).toBeUndefined();
      expect(res.data?.node).toBeNull();
    });

    it("is null for B through nodes(ids:), next to B's own objects", async () => {
      const res = await t.gql(FoundationNodesDocument, { ids: [b.accountId, ids.get(type)!, b.userId] }, b.token);
      expect(res.errors).toBeUndefined();
      expect(res.data?.nodes.map((n) => n?.id ?? null)).toEqual([b.accountId, null, b.userId]);
    });

    it('is not readable without a token', async () => {
      const res = await t.gql(FoundationNodeDocument, { id: ids.get(type)! });
      expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      expect(res.data?.node ?? null).toBeNull();
    });
  });

  if (CROSS_ACCOUNT_MUTATIONS.length === 0) {
    it.todo("B cannot mutate A's objects by id (add entries to CROSS_ACCOUNT_MUTATIONS when mutations exist)");
  } else {
    it.each(CROSS_ACCOUNT_MUTATIONS.map((m) => [m.name, m]))("B cannot run %s on A's object", async (_name, m) => {
      const { query, variables } = (m as CrossAccountMutation).build(ids.get((m as CrossAccountMutation).target)!);
      const res = await t.gql(query, variables, b.token);
      expect(['NOT_FOUND', 'FORBIDDEN']).toContain(res.errors?.[0].extensions?.code);
    });

    it("leaves A's objects as they were after B's attempts", async () => {
      const res = await t.gql(DockerHostDocument, { id: ids.get('DockerHost')! }, a.token);
      expect(res.errors).toBeUndefined();
      expect(res.data?.dockerHost).toMatchObject({ name: 'a-host', environment: 'development', apiEndpoint: dockerEndpoint(), status: 'CONNECTED' });
      const [{ n }] = await sql<{ n: string }>(t.databaseUrl, "select count(*)::text as n from docker_activities a join accounts c on c.id = a.account_id where c.name = 'tenant-b'");
      expect(n).toBe('0');
    });
  }

  it("shows B only B's account and user in viewer", async () => {
    const res = await t.gql(ViewerDocument, {}, b.token);
    expect(res.data?.viewer.account).toEqual({ id: b.accountId, name: 'tenant-b' });
    expect(res.data?.viewer.user.id).toBe(b.userId);
    expect(res.data?.viewer.account.id).not.toBe(a.accountId);
  });

  describe('through the ORM', () => {
    let orm: MikroORM;
    let accountA: string;
    let accountB: string;

    beforeAll(async () => {
      orm = t.app.services.orm;
      const rows = await sql<{ id: string; name: string }>(t.databaseUrl, "select id, name from accounts where name in ('tenant-a', 'tenant-b')");
      accountA = rows.find((r) => r.name === 'tenant-a')!.id;
      accountB = rows.find((r) => r.name === 'tenant-b')!.id;
      // a second user in A so "only A's rows" is more than one row
      await t.gql(ViewerDocument, {}, await t.token({ account: 'tenant-a', subject: 'second-a' }));
    });

    it("forkForAccount(A): find(User, {}) returns exactly A's users", async () => {
      const [{ n }] = await sql<{ n: string }>(t.databaseUrl, 'select count(*)::text as n from users where account_id = $1', [accountA]);
      const users = await forkForAccount(orm, accountA).find(User, {}, { populate: ['account'] as never });
      expect(users.length).toBe(Number(n));
      expect(users.length).toBeGreaterThanOrEqual(2);
      expect(users.every((u) => u.account.id === accountA)).toBe(true);
    });

    it("forkForAccount(A): B's user by primary key is not found", async () => {
      const [bUser] = await sql<{ id: string }>(t.databaseUrl, 'select id from users where account_id = $1', [accountB]);
      const em = forkForAccount(orm, accountA);
      expect(await em.findOne(User, { id: bUser.id })).toBeNull();
      expect(await em.count(User, { id: bUser.id })).toBe(0);
    });

    it("forkForAccount(A): find(Account, {}) returns only A's account", async () => {
      const accounts = await forkForAccount(orm, accountA).find(Account, {});
      expect(accounts.map((x) => x.id)).toEqual([accountA]);
    });

    it('a fork without the tenant parameter fails closed when querying User', async () => {
      const em = orm.em.fork({ clear: true });
      await expect(em.find(User, {})).rejects.toThrow(/No arguments provided for filter 'tenant'/);
      await expect(em.findOne(User, { subject: 'tenant-a-user' })).rejects.toThrow(/No arguments provided for filter 'tenant'/);
      await expect(em.count(User, {})).rejects.toThrow(/No arguments provided for filter 'tenant'/);
    });

    it('the tenant filter can only be skipped explicitly (SYSTEM), and then sees every account', async () => {
      const users = await orm.em.fork({ clear: true }).find(User, {}, SYSTEM);
      const accounts = new Set(users.map((u) => (u.account as unknown as { id: string }).id));
      expect(accounts.has(accountA) && accounts.has(accountB)).toBe(true);
    });

    const scoped = ENTITIES.map((e) => e.name).filter((n) => !GLOBAL_ENTITIES.includes(n));
    it.each(scoped.map((n) => [n]))('entity %s is covered by the tenant filter and fails closed without it', async (name) => {
      expect(tenantScopedEntities()).toContain(name);
      const entity = ENTITIES.find((e) => e.name === name)!;
      await expect(orm.em.fork({ clear: true }).find(entity as never, {})).rejects.toThrow(/No arguments provided for filter 'tenant'/);
    });

    it.each(scoped.map((n) => [n]))("entity %s queried through forkForAccount(A) returns only A's rows", async (name) => {
      const entity = ENTITIES.find((e) => e.name === name)!;
      const rows = (await forkForAccount(orm, accountA).find(entity as never, {}, { limit: 50 })) as Array<{ id: string; account?: { id: string } }>;
      for (const row of rows) expect(name === 'Account' ? row.id : row.account?.id).toBe(accountA);
    });
  });
});
