import type { MikroORM } from '@mikro-orm/postgresql';
import { DockerHost, SecretKind, SwarmCluster, SwarmNode, SwarmNodeAvailability, SwarmNodeRole, SwarmService, SwarmServiceMode } from '../../entities';
import { forkSystem } from '../../src/infra/db/orm';
import { CLOSED_ENDPOINT } from './app';

/**
 * A fleet written straight into the database of a test app (or benchmark): hosts and clusters
 * that never connect (apps run without workers, and their endpoint is a closed port) with their
 * stored inventory. Hosts and clusters go through the ORM (defaults as the entities have them);
 * containers, the bulk, through one INSERT … SELECT per call.
 */

/**
 * Container names of host n: mixed case and separators (their order is the database's collation,
 * never JavaScript's) and one name in ten the same ("Dup"), so pages tie on name and order by id.
 */
const CONTAINER_NAME = `case when n % 10 = 0 then 'Dup' when n % 3 = 0 then 'app-' || lpad(n::text, 5, '0') else 'App_' || lpad((n * 7919 % 100000)::text, 5, '0') end`;

export interface SeededFleet {
  accountId: string;
  /** Host ids, by name (the order of dockerHosts). */
  hostIds: string[];
}

/** `hosts` hosts named `<prefix>-h-000…`, each with `containers` containers (a third exited, labels tier=web|db) and `images` images. */
export async function seedFleet(orm: MikroORM, accountId: string, opts: { prefix: string; hosts: number; containers: number; images?: number }): Promise<SeededFleet> {
  const em = forkSystem(orm);
  const hosts = Array.from({ length: opts.hosts }, (_, i) =>
    em.create(DockerHost, { account: accountId, name: `${opts.prefix}-h-${String(i).padStart(3, '0')}`, apiEndpoint: CLOSED_ENDPOINT, environment: 'test' } as never),
  );
  await em.flush();
  const hostIds = hosts.map((h) => h.id);
  await insertContainers(orm, accountId, hostIds, opts.containers);
  if (opts.images) {
    await em.getConnection().execute(
      `insert into docker_images (id, created_at, updated_at, account_id, host_id, image_id, repo_tags, repo_digests, size_bytes, labels)
       select gen_random_uuid(), now() - make_interval(secs => n), now(), ?, h.id, 'sha256:' || md5(h.id::text || n), jsonb_build_array('img' || n || ':latest'), '[]'::jsonb, 1000 * n, '{}'::jsonb
       from unnest(?::uuid[]) as h(id), generate_series(1, ?) as n`,
      [accountId, `{${hostIds.join(',')}}`, opts.images],
    );
  }
  return { accountId, hostIds };
}

/**
 * `count` stored events on each of `hostIds` (numbered 1…count in the host's feed, one second
 * apart, every third one at the same time as the one before: pages tie on time and order by id).
 */
export async function insertEvents(orm: MikroORM, accountId: string, hostIds: string[], count: number): Promise<void> {
  await forkSystem(orm)
    .getConnection()
    .execute(
      `insert into docker_events (id, created_at, updated_at, account_id, host_id, type, action, actor_id, attributes, time, time_nano, seq)
       select gen_random_uuid(), now(), now(), ?, h.id, 'container', case when n % 2 = 0 then 'start' else 'die' end, 'actor-' || n, '{}'::jsonb,
              timestamptz '2026-01-01' + make_interval(secs => n - (n % 3 = 0)::int), (extract(epoch from timestamptz '2026-01-01')::bigint + n) * 1000000000, n
       from unnest(?::uuid[]) as h(id), generate_series(1, ?) as n`,
      [accountId, `{${hostIds.join(',')}}`, count],
    );
}

/** `count` containers on each of `hostIds`, owned by `accountId` (names: CONTAINER_NAME). */
export async function insertContainers(orm: MikroORM, accountId: string, hostIds: string[], count: number, namePrefix = ''): Promise<void> {
  if (count <= 0 || hostIds.length === 0) return;
  await forkSystem(orm)
    .getConnection()
    .execute(
      `insert into docker_containers (id, created_at, updated_at, account_id, host_id, container_id, name, image, state, status, labels, ports)
       select gen_random_uuid(), now(), now(), ?, h.id, md5(h.id::text || ? || n), ? || ${CONTAINER_NAME}, 'local/busybox:1',
              case when n % 3 = 0 then 'exited' else 'running' end, 'Up',
              jsonb_build_object('tier', case when n % 2 = 0 then 'web' else 'db' end), '[]'::jsonb
       from unnest(?::uuid[]) as h(id), generate_series(1, ?) as n`,
      [accountId, namePrefix, namePrefix, `{${hostIds.join(',')}}`, count],
    );
}

export interface SeededSwarm {
  clusterIds: string[];
}

/** `clusters` clusters named `<prefix>-c-000…`, each with `services` services (stacks a|b), `nodes` nodes (the first a manager) and two secrets and a config. */
export async function seedSwarm(orm: MikroORM, accountId: string, opts: { prefix: string; clusters: number; services: number; nodes: number }): Promise<SeededSwarm> {
  const em = forkSystem(orm);
  const clusters = Array.from({ length: opts.clusters }, (_, i) =>
    em.create(SwarmCluster, { account: accountId, name: `${opts.prefix}-c-${String(i).padStart(3, '0')}`, managerEndpoint: CLOSED_ENDPOINT } as never),
  );
  for (const [c, cluster] of clusters.entries()) {
    for (let s = 0; s < opts.services; s++) {
      em.create(SwarmService, {
        account: accountId,
        cluster,
        serviceId: `svc-${c}-${s}`,
        name: s % 4 === 0 ? 'Web' : `svc-${String((s * 37) % 101).padStart(3, '0')}`,
        image: 'local/busybox:1',
        mode: SwarmServiceMode.REPLICATED,
        replicas: 1,
        stack: s % 2 === 0 ? 'a' : 'b',
        version: 1,
      } as never);
    }
    for (let n = 0; n < opts.nodes; n++) {
      em.create(SwarmNode, {
        account: accountId,
        cluster,
        nodeId: `node-${c}-${n}`,
        hostname: `node-${String((n * 13) % 29).padStart(2, '0')}`,
        role: n === 0 ? SwarmNodeRole.MANAGER : SwarmNodeRole.WORKER,
        availability: SwarmNodeAvailability.ACTIVE,
        state: 'ready',
        version: 1,
      } as never);
    }
    for (const [k, kind] of [SecretKind.SECRET, SecretKind.SECRET, SecretKind.CONFIG].entries()) {
      em.create('SecretReference', { account: accountId, cluster, kind, dockerId: `ref-${c}-${k}`, name: `${kind}-${k}`, version: 1 } as never);
    }
  }
  await em.flush();
  return { clusterIds: clusters.map((c) => c.id) };
}

/** The account lookup a request makes before its operation (src/modules/accounts: on first sight, then once a minute). */
const ACCOUNT_LOOKUP = /^\s*insert into (accounts|users) /i;

/** The statements of an operation: what the counter saw, without the request's own account lookup. */
export const operationStatements = (statements: string[]) => statements.filter((s) => !ACCOUNT_LOOKUP.test(s));

/**
 * Counts the SQL statements an app's ORM sends to PostgreSQL (the knex client's 'query' event:
 * every MikroORM query, raw or not, goes through it). Call stop() when done.
 */
export function statementCounter(orm: MikroORM): { statements: string[]; reset(): void; stop(): void } {
  const knex = orm.em.getConnection().getKnex();
  const statements: string[] = [];
  const onQuery = (q: { sql: string }) => statements.push(q.sql);
  knex.on('query', onQuery);
  return {
    statements,
    reset: () => statements.splice(0),
    stop: () => void knex.removeListener('query', onQuery),
  };
}
