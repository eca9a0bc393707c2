import type { MikroORM } from '@mikro-orm/postgresql';
import { toGlobalId } from '../../src/kernel/ids';
import { decodeCursor, encodeCursor } from '../../src/graphql/relay';
import { startTestApp, TestApp } from '../support/app';
import { sql } from '../support/db';
import { insertContainers, insertEvents, operationStatements, seedFleet, SeededFleet, seedSwarm, SeededSwarm, statementCounter } from '../support/fleet';

/**
 * Issue 9, item 7: nested connections load every parent's page in one statement (a lateral join
 * through a batch loader), count only when totalCount is selected (one grouped statement for all
 * parents), and answer exactly what SQL answers: order (the database's collation, ties by id),
 * cursors, hasNextPage, filters — and never another account's rows.
 *
 * Account A: 50 hosts × 30 containers (+ 2 images each), 5 clusters; account B: 3 hosts × 5
 * containers, and one container of B planted on a host of A (a row only the tenant filter of the
 * nested statement keeps out).
 */

const HOSTS = 50;
const CONTAINERS = 30;

let t: TestApp;
let orm: MikroORM;
let tokenA: string;
let tokenB: string;
let a: SeededFleet;
let b: SeededFleet;
let swarm: SeededSwarm;

interface Page {
  nodes: Array<{ id: string; name: string; state?: string }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount?: number;
}

const gid = (type: string, id: string) => toGlobalId(type, id);

async function accountId(token: string): Promise<string> {
  return (await t.app.services.accounts.resolve(await t.app.services.verifyToken(token))).accountId;
}

/** Runs a query over HTTP; returns its data and the SQL statements it sent (without the request's account lookup). */
async function run<R>(query: string, variables: Record<string, unknown> = {}, token = tokenA): Promise<{ data: R; statements: string[] }> {
  const counter = statementCounter(orm);
  try {
    const res = await t.gql<R, Record<string, unknown>>(query, variables, token);
    expect(res.errors).toBeUndefined();
    return { data: res.data as R, statements: operationStatements(counter.statements) };
  } finally {
    counter.stop();
  }
}

/** Statements reading `table` (a count or a page). */
const on = (statements: string[], table: string) => statements.filter((s) => s.includes(`"${table}"`));
const counts = (statements: string[]) => statements.filter((s) => /count\(/i.test(s));

/** Hand-written SQL: a host's containers of account A in (name, id) order, optionally after a cursor key and with a state filter. */
async function expected(hostId: string, opts: { after?: { value: string; id: string }; state?: string; label?: [string, string] } = {}) {
  const params: unknown[] = [hostId, a.accountId];
  let where = 'host_id = $1 and account_id = $2';
  if (opts.after) {
    params.push(opts.after.value, opts.after.id);
    where += ` and (name > $${params.length - 1} or (name = $${params.length - 1} and id > $${params.length}))`;
  }
  if (opts.state) {
    params.push(opts.state);
    where += ` and state = $${params.length}`;
  }
  if (opts.label) {
    params.push(opts.label[0], opts.label[1]);
    where += ` and labels ->> $${params.length - 1} = $${params.length}`;
  }
  return sql<{ id: string; name: string }>(t.databaseUrl, `select id, name from docker_containers where ${where} order by name, id`, params);
}

/** The page SQL says a connection of `first` items holds. */
function pageOf(rows: Array<{ id: string; name: string }>, first: number) {
  return { ids: rows.slice(0, first).map((r) => gid('DockerContainer', r.id)), names: rows.slice(0, first).map((r) => r.name), hasNextPage: rows.length > first };
}

const pageFrom = (p: Page) => ({ ids: p.nodes.map((n) => n.id), names: p.nodes.map((n) => n.name), hasNextPage: p.pageInfo.hasNextPage });

beforeAll(async () => {
  t = await startTestApp({ redis: false });
  orm = t.app.services.orm;
  tokenA = await t.token({ account: 'fleet-a' });
  tokenB = await t.token({ account: 'fleet-b' });
  a = await seedFleet(orm, await accountId(tokenA), { prefix: 'a', hosts: HOSTS, containers: CONTAINERS, images: 2 });
  b = await seedFleet(orm, await accountId(tokenB), { prefix: 'b', hosts: 3, containers: 5 });
  // B's row on A's first host, named to sort first: only the tenant filter of the nested statement keeps it out
  await insertContainers(orm, b.accountId, [a.hostIds[0]], 1, '0-planted-');
  await insertEvents(orm, a.accountId, a.hostIds.slice(0, 3), 7);
  swarm = await seedSwarm(orm, a.accountId, { prefix: 'a', clusters: 5, services: 6, nodes: 4 });
});
afterAll(() => t?.stop());

const FLEET = `query Fleet($hosts: Int!, $first: Int!) {
  dockerHosts(first: $hosts) {
    nodes {
      id name
      containers(first: $first) { nodes { id name state } pageInfo { hasNextPage endCursor } }
      images(first: 2) { nodes { id imageId } }
      events(first: 3) { nodes { id } }
    }
  }
}`;

describe('nested connections', () => {
  it('load all parents in a constant number of statements: the same for 5 and 50 hosts, one per nested connection, no count', async () => {
    const five = await run<{ dockerHosts: { nodes: unknown[] } }>(FLEET, { hosts: 5, first: 10 });
    const fifty = await run<{ dockerHosts: { nodes: unknown[] } }>(FLEET, { hosts: 50, first: 10 });
    expect(five.data.dockerHosts.nodes).toHaveLength(5);
    expect(fifty.data.dockerHosts.nodes).toHaveLength(50);
    expect(fifty.statements.length).toBe(five.statements.length);
    for (const table of ['docker_containers', 'docker_images', 'docker_events']) {
      expect({ table, n: on(fifty.statements, table).length }).toEqual({ table, n: 1 });
    }
    expect(counts(fifty.statements)).toEqual([]);
    // and nothing else: the hosts page and the 3 nested pages
    expect(fifty.statements).toHaveLength(4);
  });

  it('answer what SQL answers: order by the collation with ties by id, hasNextPage and endCursor, for every host', async () => {
    const { data } = await run<{ dockerHosts: { nodes: Array<{ id: string; name: string; containers: Page }> } }>(FLEET, { hosts: 50, first: 7 });
    const hosts = data.dockerHosts.nodes;
    expect(hosts.map((h) => h.id)).toEqual(a.hostIds.map((id) => gid('DockerHost', id)));
    for (const [i, host] of hosts.entries()) {
      const rows = await expected(a.hostIds[i]);
      expect(rows).toHaveLength(CONTAINERS);
      expect(pageFrom(host.containers)).toEqual(pageOf(rows, 7));
      expect(decodeCursor(host.containers.pageInfo.endCursor!, 'string')).toEqual({ value: rows[6].name, id: rows[6].id });
    }
    // the ties are really there: several "Dup" on one page boundary or another
    expect((await expected(a.hostIds[0])).filter((r) => r.name === 'Dup').length).toBeGreaterThan(1);
  });

  it('walk every page of one host through the cursor (ties included), and share a cursor across hosts as a position', async () => {
    const rows = await expected(a.hostIds[1]);
    const walked: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i++) {
      const res: { data: { node: { containers: Page } } } = await run(
        `query($id: ID!, $after: String) { node(id: $id) { ... on DockerHost { containers(first: 4, after: $after) { nodes { id name } pageInfo { hasNextPage endCursor } } } } }`,
        {
          id: gid('DockerHost', a.hostIds[1]),
          after,
        },
      );
      const page: Page = res.data.node.containers;
      walked.push(...page.nodes.map((n) => n.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(walked).toEqual(rows.map((r) => gid('DockerContainer', r.id)));

    // one cursor (a (name, id) position) for three hosts in one request: one statement, each host's rows after it
    const cursorRow = rows[11];
    const cursor = encodeCursor({ value: cursorRow.name, id: cursorRow.id });
    const ids = a.hostIds.slice(0, 3);
    const { data, statements } = await run<{ nodes: Array<{ containers: Page }> }>(
      `query($ids: [ID!]!, $after: String) { nodes(ids: $ids) { ... on DockerHost { containers(first: 5, after: $after) { nodes { id name } pageInfo { hasNextPage endCursor } } } } }`,
      { ids: ids.map((id) => gid('DockerHost', id)), after: cursor },
    );
    expect(on(statements, 'docker_containers')).toHaveLength(1);
    for (const [i, id] of ids.entries()) expect(pageFrom(data.nodes[i].containers)).toEqual(pageOf(await expected(id, { after: { value: cursorRow.name, id: cursorRow.id } }), 5));
  });

  it('apply the filters as the per-host query did (state, label)', async () => {
    const { data, statements } = await run<{ dockerHosts: { nodes: Array<{ exited: Page; web: Page }> } }>(
      `{ dockerHosts(first: 10) { nodes { exited: containers(first: 4, filter: { state: ["exited"] }) { nodes { id name } pageInfo { hasNextPage endCursor } totalCount }
                                          web: containers(first: 4, filter: { label: "tier=web" }) { nodes { id name } pageInfo { hasNextPage endCursor } } } } }`,
    );
    // two argument sets: two page statements, and one count (only `exited` asks for it)
    expect(on(statements, 'docker_containers')).toHaveLength(3);
    for (const [i, host] of data.dockerHosts.nodes.entries()) {
      const exited = await expected(a.hostIds[i], { state: 'exited' });
      expect({ ...pageFrom(host.exited), totalCount: host.exited.totalCount }).toEqual({ ...pageOf(exited, 4), totalCount: exited.length });
      expect(pageFrom(host.web)).toEqual(pageOf(await expected(a.hostIds[i], { label: ['tier', 'web'] }), 4));
    }
  });

  it('load every field the items select, whichever way they select it (columns of the selection, or the whole row)', async () => {
    const { data, statements } = await run<{
      dockerHosts: {
        nodes: Array<{
          slim: { nodes: Array<{ id: string }> };
          rich: { edges: Array<{ cursor: string; node: Record<string, unknown> }> };
          images: { nodes: Array<{ sizeBytes: string; repoTags: string[]; host: { id: string } }> };
          events: { nodes: Array<{ id: string; cursor: string; action: string; timeNano: string }> };
        }>;
      };
    }>(
      `{ dockerHosts(first: 3) { nodes {
          slim: containers(first: 3) { nodes { id } }
          rich: containers(first: 3) { edges { cursor node { ...C host { id name } } } }
          images(first: 1) { nodes { sizeBytes repoTags host { id } } }
          events(first: 4) { nodes { id cursor action timeNano } } } } }
       fragment C on DockerContainer { id name labels ports state image dockerCreatedAt createdAt }`,
    );
    // the same arguments with two selections: two statements, one with fewer columns
    const pages = on(statements, 'docker_containers');
    expect(pages).toHaveLength(2);
    expect(pages.some((s) => !s.includes('"labels"'))).toBe(true);
    for (const [i, host] of data.dockerHosts.nodes.entries()) {
      const rows = await sql<{ id: string; name: string; labels: object; state: string; created_at: Date }>(
        t.databaseUrl,
        'select id, name, labels, state, created_at from docker_containers where host_id = $1 and account_id = $2 order by name, id limit 3',
        [a.hostIds[i], a.accountId],
      );
      expect(host.slim.nodes).toEqual(rows.map((r) => ({ id: gid('DockerContainer', r.id) })));
      expect(host.rich.edges.map((e) => e.node)).toEqual(
        rows.map((r) => ({
          id: gid('DockerContainer', r.id),
          name: r.name,
          labels: r.labels,
          ports: [],
          state: r.state,
          image: 'local/busybox:1',
          dockerCreatedAt: null,
          createdAt: r.created_at.toISOString(),
          host: { id: gid('DockerHost', a.hostIds[i]), name: `a-h-${String(i).padStart(3, '0')}` },
        })),
      );
      expect(host.rich.edges.map((e) => decodeCursor(e.cursor, 'string').id)).toEqual(rows.map((r) => r.id));
      expect(host.images.nodes).toEqual([{ sizeBytes: '1000', repoTags: ['img1:latest'], host: { id: gid('DockerHost', a.hostIds[i]) } }]);
      // cursor is not a column (a getter over seq): the whole row is loaded
      const events = await sql<{ id: string; seq: string; action: string; time_nano: string }>(
        t.databaseUrl,
        'select id, seq, action, time_nano from docker_events where host_id = $1 order by time desc, id desc limit 4',
        [a.hostIds[i]],
      );
      expect(events).toHaveLength(4);
      expect(host.events.nodes).toEqual(events.map((e) => ({ id: gid('DockerEvent', e.id), cursor: String(e.seq), action: e.action, timeNano: String(e.time_nano) })));
    }
  });

  it('images: newest first, per host, in the same statement for all hosts', async () => {
    const { data } = await run<{ dockerHosts: { nodes: Array<{ images: { nodes: Array<{ id: string }> } }> } }>(FLEET, { hosts: 3, first: 1 });
    for (const [i, host] of data.dockerHosts.nodes.entries()) {
      const rows = await sql<{ id: string }>(t.databaseUrl, 'select id from docker_images where host_id = $1 order by created_at desc, id desc', [a.hostIds[i]]);
      expect(host.images.nodes.map((n) => n.id)).toEqual(rows.map((r) => gid('DockerImage', r.id)));
    }
  });
});

describe('totalCount', () => {
  it('is counted only when selected: once for all hosts (grouped), and at the top level once', async () => {
    const without = await run(`{ dockerHosts(first: 50) { nodes { id containers(first: 2) { nodes { id } } } } }`);
    expect(counts(without.statements)).toEqual([]);

    const { data, statements } = await run<{ dockerHosts: { totalCount: number; nodes: Array<{ containers: { totalCount: number } }> } }>(
      `{ dockerHosts(first: 50) { totalCount nodes { id containers(first: 2) { totalCount nodes { id } } } } }`,
    );
    expect(counts(statements)).toHaveLength(2);
    expect(statements.length).toBe(without.statements.length + 2);
    expect(data.dockerHosts.totalCount).toBe(HOSTS);
    // the planted row of B on host 0 is not counted
    expect(data.dockerHosts.nodes.map((h) => h.containers.totalCount)).toEqual(a.hostIds.map(() => CONTAINERS));
  });

  it('through a fragment; a selection of only totalCount reads no page', async () => {
    const { data, statements } = await run<{ dockerHosts: { nodes: Array<{ containers: { totalCount: number } }> } }>(
      `query { dockerHosts(first: 20) { nodes { containers(filter: { state: ["running"] }) { ...Count } } } } fragment Count on DockerContainerConnection { totalCount }`,
    );
    const containerStatements = on(statements, 'docker_containers');
    expect(containerStatements).toHaveLength(1);
    expect(counts(containerStatements)).toHaveLength(1);
    const running = await sql<{ host_id: string; n: string }>(t.databaseUrl, `select host_id, count(*) n from docker_containers where account_id = $1 and state = 'running' group by host_id`, [
      a.accountId,
    ]);
    const byHost = new Map(running.map((r) => [r.host_id, Number(r.n)]));
    expect(data.dockerHosts.nodes.map((h) => h.containers.totalCount)).toEqual(a.hostIds.slice(0, 20).map((id) => byHost.get(id)));
  });
});

describe('accounts', () => {
  it("another account's rows never appear, even on one of your hosts; its hosts are not yours", async () => {
    const { data } = await run<{ dockerHosts: { nodes: Array<{ containers: Page }> } }>(
      `{ dockerHosts(first: 1) { nodes { containers(first: 100) { totalCount nodes { id name } pageInfo { hasNextPage endCursor } } } } }`,
    );
    const planted = await sql<{ id: string }>(t.databaseUrl, 'select id from docker_containers where account_id = $1 and host_id = $2', [b.accountId, a.hostIds[0]]);
    expect(planted).toHaveLength(1);
    const host0 = data.dockerHosts.nodes[0].containers;
    expect(host0.nodes.map((n) => n.id)).not.toContain(gid('DockerContainer', planted[0].id));
    expect(host0.totalCount).toBe(CONTAINERS);
    expect(pageFrom(host0)).toEqual(pageOf(await expected(a.hostIds[0]), 100));

    // A asking for B's host by id: null, and nothing of B is read
    const cross = await run<{ nodes: unknown[] }>(`query($ids: [ID!]!) { nodes(ids: $ids) { ... on DockerHost { id containers { nodes { id } } } } }`, { ids: [gid('DockerHost', b.hostIds[0])] });
    expect(cross.data.nodes).toEqual([null]);

    // B sees its 3 hosts and their 5 containers each, and not its planted row's host
    const asB = await run<{ dockerHosts: { nodes: Array<{ id: string; containers: { totalCount: number } }> } }>(`{ dockerHosts(first: 50) { nodes { id containers { totalCount } } } }`, {}, tokenB);
    expect(asB.data.dockerHosts.nodes).toEqual(b.hostIds.map((id) => ({ id: gid('DockerHost', id), containers: { totalCount: 5 } })));
  });
});

describe('swarm clusters', () => {
  it('services, nodes, secrets and configs of every cluster: one statement each, as SQL orders them', async () => {
    const { data, statements } = await run<{
      swarmClusters: {
        nodes: Array<{
          services: { nodes: Array<{ name: string }>; pageInfo: { hasNextPage: boolean } };
          nodes: { nodes: Array<{ hostname: string }> };
          secrets: { totalCount: number };
          configs: { totalCount: number };
        }>;
      };
    }>(
      `{ swarmClusters(first: 10) { nodes { services(first: 4) { nodes { name } pageInfo { hasNextPage } } nodes(first: 3) { nodes { hostname } } secrets { totalCount } configs { totalCount } } } }`,
    );
    expect(on(statements, 'swarm_services')).toHaveLength(1);
    expect(on(statements, 'swarm_nodes')).toHaveLength(1);
    // secrets and configs: one count each (only totalCount is selected)
    expect(on(statements, 'swarm_secret_references')).toHaveLength(2);
    expect(data.swarmClusters.nodes).toHaveLength(5);
    for (const [i, cluster] of data.swarmClusters.nodes.entries()) {
      const services = await sql<{ name: string }>(t.databaseUrl, 'select name from swarm_services where cluster_id = $1 order by name, id', [swarm.clusterIds[i]]);
      const nodes = await sql<{ hostname: string }>(t.databaseUrl, 'select hostname from swarm_nodes where cluster_id = $1 order by hostname, id limit 3', [swarm.clusterIds[i]]);
      expect(cluster.services).toEqual({ nodes: services.slice(0, 4).map((s) => ({ name: s.name })), pageInfo: { hasNextPage: true } });
      expect(cluster.nodes.nodes).toEqual(nodes);
      expect([cluster.secrets.totalCount, cluster.configs.totalCount]).toEqual([2, 1]);
    }
  });
});
