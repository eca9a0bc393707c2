import fs from 'node:fs';
import path from 'node:path';
import {
  buildSchema,
  DocumentNode,
  getNamedType,
  GraphQLInputType,
  GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  OperationDefinitionNode,
  print,
  typeFromAST,
} from 'graphql';
import * as generated from '../../src/generated/graphql';
import { encodeCursor, toGlobalId } from '../../src/graphql/relay';
import { CLOSED_ENDPOINT, startTestApp, TestApp } from '../support/app';
import { cleanupDocker, docker, dockerEndpoint, TEST_IMAGE, uniqueName } from '../support/docker';
import { sql } from '../support/db';

/**
 * Issue 7 "Done when": at least 1,000 generated malformed variable sets across the queries and
 * mutations of schema/operations, against a real app (PostgreSQL, Redis, dockerd). Each set is a
 * plausible input with one to three leaves replaced by something hostile (NUL, 1 MB strings, lone
 * surrogates, huge/negative/NaN-ish numbers, wrong types, forged ids and cursors, ids of another
 * account, out-of-range dates, deep JSON, 10k-item arrays). Asserted for every response: no
 * INTERNAL_SERVER_ERROR or HTTP 500, an extensions.code on every error, no stack, SQL or UUID of the
 * other account in any message; and no container, volume or network was created by a refused input.
 * Seeded: FUZZ_SEED=<n> reproduces a run; a failure names the seed and the set's index.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const SETS = Number(process.env.FUZZ_SETS ?? 1200);
const CONCURRENCY = 6;

/** mulberry32: small, seedable, good enough to pick cases. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(next() * 16).toString(16)).join('');
  return {
    next,
    /** A v4-shaped UUID from the sequence. */
    uuid: () => `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[Math.floor(next() * 4)]}${hex(3)}-${hex(12)}`,
    /** A Docker name with this process's test prefix (cleaned up by cleanupDocker). */
    name: () => `fgt-fz-${process.pid}-${hex(8)}`,
    int: (n: number) => Math.floor(next() * n),
    chance: (p: number) => next() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)],
  };
}
type Rng = ReturnType<typeof prng>;

/** Operations that could harm the shared test daemon (or the fuzzer's own host) with a real host id. */
const NO_REAL_HOST = new Set(['InitSwarm', 'JoinSwarm', 'LeaveSwarm', 'UpdateSwarm', 'PruneVolumes', 'RemoveDockerHost', 'UpdateDockerHost', 'SetDockerHostMaintenance', 'SetMaintenanceBrief']);
/** Pulls and pushes name a registry on a closed loopback port: the daemon never contacts anything off this machine. */
const LOCAL_REGISTRY = '127.0.0.1:9/';
const REGISTRY_OPS = new Set(['PullImage', 'PushImage']);
const REFUSAL_CODES = new Set([
  'BAD_USER_INPUT',
  'FORBIDDEN',
  'NOT_FOUND',
  'UNAUTHENTICATED',
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
  'BAD_REQUEST',
  'QUERY_TOO_COMPLEX',
  'PAYLOAD_TOO_LARGE',
  'CONFLICT',
  'QUOTA_EXCEEDED',
]);
const LEAK = /stacktrace|select |insert into|update \w+ set|delete from|violates|DriverException|node_modules|\.ts:\d+/i;

interface Ids {
  ownHost: string;
  ownContainer: string;
  ownContainerName: string;
  ownActivities: string[];
  otherAccount: { globalIds: string[]; uuids: string[] };
}

interface Operation {
  name: string;
  document: DocumentNode;
  text: string;
  kind: 'query' | 'mutation';
  variables: Array<{ name: string; type: GraphQLInputType }>;
}

function loadOperations(schema: GraphQLSchema): Operation[] {
  const ops: Operation[] = [];
  for (const [exportName, value] of Object.entries(generated)) {
    if (!exportName.endsWith('Document') || typeof value !== 'object' || (value as DocumentNode).kind !== 'Document') continue;
    const document = value as DocumentNode;
    const op = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
    if (!op || op.operation === 'subscription') continue;
    ops.push({
      name: op.name!.value,
      document,
      text: print(document),
      kind: op.operation,
      variables: (op.variableDefinitions ?? []).map((v) => ({ name: v.variable.name.value, type: typeFromAST(schema, v.type as never) as GraphQLInputType })),
    });
  }
  return ops.sort((a, b) => a.name.localeCompare(b.name));
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
const ONE_MB = 'A'.repeat(1_000_000);

/** Hostile values by what the leaf is. */
function hostileString(rng: Rng, big: { used: boolean }): unknown {
  const cases: Array<() => unknown> = [
    () => 'a\u0000b',
    () => '\u0000',
    () => `name\u0000${'x'.repeat(rng.int(20))}`,
    () => '\ud800lone',
    () => 'tail\udc00',
    () => '\u0001\u0002\u001b[31m\u007f',
    () => '',
    () => ' ',
    () => 'x'.repeat(10_000),
    () => 'é'.repeat(70_000),
    () => "'; drop table accounts; --",
    () => rng.pick(['a??b=c', '??', '?=?', 'k=$1', ':name']),
    () => '../../../../etc/passwd',
    () => '%00%0a',
    () => '\u202eevil',
    () => '😀'.repeat(300),
    () => '{"json":"in a string"}',
    () => '2024-01-01T00:00:00Z',
    () => 'D:garbage',
    () => (big.used ? 'y'.repeat(100_000) : ((big.used = true), ONE_MB)),
  ];
  return rng.pick(cases)();
}

function hostileNumber(rng: Rng): unknown {
  return rng.pick([2147483648, -2147483649, -1, 0, 1e308, -1e308, 5e-324, 1.5, -0.000001, 2 ** 53 + 2, 'NaN', 'Infinity', '-Infinity', '1e999', '12', true, null, [], {}]);
}

function wrongType(rng: Rng): unknown {
  return rng.pick([{}, [], true, 'str', 123, -1.5, null, [null], [[['nested']]], { a: { b: 1 } }]);
}

function hostileId(rng: Rng, ids: Ids, big: { used: boolean }, realIds: boolean): unknown {
  const zero = rng.uuid();
  return rng.pick([
    () => rng.pick(ids.otherAccount.globalIds),
    () => toGlobalId(rng.pick(['DockerHost', 'DockerContainer', 'SwarmCluster', 'SwarmService', 'SwarmNode', 'SecretReference', 'DockerActivity', 'DockerImage', 'DockerEvent']), zero),
    () => toGlobalId('DockerHost', 'not-a-uuid'),
    () => toGlobalId('Nope', zero),
    () => toGlobalId(ids.ownHost ? 'DockerContainer' : 'DockerHost', zero),
    () => b64(`DockerHost:${zero}\u0000`),
    () => Buffer.from(`DockerHost:${zero}`).toString('base64'),
    () => b64(String(rng.next())),
    () => 'not-an-id',
    () => zero,
    () => '\u0000',
    () => 'A'.repeat(rng.pick([101, 5000])),
    () => (big.used ? 'B'.repeat(50_000) : ((big.used = true), ONE_MB)),
    () => (realIds ? rng.pick([ids.ownHost, ids.ownContainer, ...ids.ownActivities]) : 'not-an-id'), // a real id, maybe of the wrong type for this field
  ])();
}

function hostileCursor(rng: Rng, ids: Ids): unknown {
  const zero = rng.uuid();
  return rng.pick([
    () => b64(JSON.stringify(['D:garbage', zero])),
    () => b64(JSON.stringify(['D:-200000-01-01T00:00:00.000Z', zero])),
    () => b64(JSON.stringify(['D:+275760-09-13T00:00:00.000Z', zero])),
    () => b64(`[1e308,"${zero}"]`),
    () => b64(JSON.stringify([{ $gt: 1 }, zero])),
    () => b64(JSON.stringify(['x\u0000', zero])),
    () => b64(JSON.stringify(['a', 'not-a-uuid'])),
    () => encodeCursor({ value: rng.pick(['web', 7, new Date(0)]), id: zero }),
    () => rng.pick(ids.otherAccount.globalIds),
    () => b64(String(rng.next())),
    () => '!!!!',
    () => 'A'.repeat(5000),
  ])();
}

function hostileDate(rng: Rng): unknown {
  return rng.pick([
    '10000-01-01T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '-271821-04-20T00:00:00Z',
    '+275760-09-13T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-02-30T00:00:00Z',
    'now',
    '',
    1e15,
    -1,
    '2024-01-01T00:00:00+99:00',
    `2024-01-01T00:00:00Z${'0'.repeat(2000)}`,
  ]);
}

function deepObject(depth: number): unknown {
  let o: unknown = 'leaf';
  for (let i = 0; i < depth; i++) o = { d: o };
  return o;
}

function hostileJson(rng: Rng): unknown {
  return rng.pick([
    () => deepObject(rng.pick([5, 50, 500])),
    () => ({ key: 'v\u0000' }),
    () => ({ 'k\u0000': 'v' }),
    () => ({ ['k'.repeat(10_000)]: 'v' }),
    () => ({ k: 'v'.repeat(100_000) }),
    () => Object.fromEntries(Array.from({ length: rng.pick([101, 5000]) }, (_, i) => [`k${i}`, 'v'])),
    () => ({ k: null }),
    () => ({ k: [1, 2] }),
    () => ({ k: { nested: true } }),
    () => ({ k: 1e308, b: true }),
    () => ({ '': 'empty key' }),
    () => ({ lone: '\ud800' }),
    () => [1, 2, 3],
    () => 'not an object',
    () => 42,
  ])();
}

/** A value that passes coercion and, where it can, validation: the background the hostile leaves are put into. */
function plausible(type: GraphQLInputType, field: string, parent: string, op: Operation, ids: Ids, rng: Rng): unknown {
  if (isNonNullType(type)) return plausible(type.ofType, field, parent, op, ids, rng);
  if (isListType(type)) return [plausible(type.ofType, field, parent, op, ids, rng)];
  if (isInputObjectType(type)) {
    const out: Record<string, unknown> = {};
    for (const f of Object.values(type.getFields())) {
      // names are always given, so whatever Docker creates carries this process's prefix (cleaned up)
      if (isNonNullType(f.type) || f.name === 'name' || rng.chance(0.4)) out[f.name] = plausible(f.type, f.name, type.name, op, ids, rng);
    }
    return out;
  }
  if (isEnumType(type)) return rng.pick(type.getValues()).name;
  const scalar = getNamedType(type).name;
  const realHost = !NO_REAL_HOST.has(op.name);
  switch (scalar) {
    case 'ID': {
      const kind = idKind(field, parent + op.name);
      if (kind === 'DockerHost') return realHost ? ids.ownHost : rng.pick(ids.otherAccount.globalIds);
      if (kind === 'DockerContainer') return ids.ownContainer;
      return kind ? toGlobalId(kind, rng.uuid()) : rng.pick([ids.ownContainer, ...ids.ownActivities]);
    }
    case 'Int':
      return PLAUSIBLE_INTS[field] ?? 1;
    case 'Float':
      return 1.5;
    case 'Boolean':
      return false;
    case 'DateTimeISO':
      return '2024-01-01T00:00:00Z';
    case 'JSONObject':
      return { 'fuzz.label': 'x' };
    default:
      break;
  }
  if (field === 'apiEndpoint') return rng.pick([CLOSED_ENDPOINT, dockerEndpoint()]);
  if (field === 'image') return parent === 'CreateContainerInput' ? TEST_IMAGE : REGISTRY_OPS.has(op.name) ? `${LOCAL_REGISTRY}${rng.name()}` : `${rng.name()}:none`;
  if (field === 'container') return ids.ownContainerName;
  if (field === 'environment') return 'development';
  if (field === 'after') return undefined;
  return rng.name();
}

const PLAUSIBLE_INTS: Record<string, number> = { first: 5, syncIntervalSeconds: 60, timeoutSeconds: 5, tail: 10, containerPort: 8080, target: 8080, replicas: 1 };

/** The node type an ID field names, from its name or the input and operation it is in. */
function idKind(field: string, context: string): string | undefined {
  const byField: Record<string, string> = {
    hostId: 'DockerHost',
    containerId: 'DockerContainer',
    clusterId: 'SwarmCluster',
    serviceId: 'SwarmService',
    nodeId: 'SwarmNode',
    secretId: 'SecretReference',
    configId: 'SecretReference',
  };
  if (byField[field]) return byField[field];
  if (field !== 'id') return undefined;
  const kinds = [
    [/^Host|DockerHost/, 'DockerHost'],
    [/Service/, 'SwarmService'],
    [/Secret|Config/, 'SecretReference'],
    [/Swarm/, 'SwarmCluster'],
    [/Container|Exec/, 'DockerContainer'],
    [/Host/, 'DockerHost'],
  ] as const;
  for (const [pattern, kind] of kinds) {
    if (pattern.test(context)) return kind;
  }
  return undefined;
}

interface Leaf {
  type: GraphQLInputType;
  set: (v: unknown) => void;
}

/** Every position of a value (objects, lists and their items, scalars) with its type and a setter. */
function leaves(type: GraphQLInputType, value: unknown, set: (v: unknown) => void, out: Leaf[]): void {
  out.push({ type, set });
  const t = isNonNullType(type) ? type.ofType : type;
  if (isListType(t) && Array.isArray(value)) value.forEach((item, i) => leaves(t.ofType, item, (v) => (value[i] = v), out));
  if (isInputObjectType(t) && value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const f of Object.values(t.getFields())) leaves(f.type, record[f.name], (v) => (record[f.name] = v), out);
  }
}

function hostile(leaf: Leaf, name: string, op: Operation, ids: Ids, rng: Rng, big: { used: boolean }): unknown {
  if (rng.chance(0.08)) return wrongType(rng);
  const t = isNonNullType(leaf.type) ? leaf.type.ofType : leaf.type;
  if (isListType(t)) return rng.chance(0.5) ? Array.from({ length: 10_000 }, () => 'x') : [];
  if (isInputObjectType(t)) return rng.pick([{}, { unknownField: 1 }, null, 'string']);
  if (isEnumType(t)) return rng.pick(['NOT_A_VALUE', 'x'.repeat(200_000), '\u0000', 1]);
  const scalar = isScalarType(t) ? t.name : '';
  if (scalar === 'ID') return hostileId(rng, ids, big, !NO_REAL_HOST.has(op.name));
  if (scalar === 'Int' || scalar === 'Float') return hostileNumber(rng);
  if (scalar === 'Boolean') return wrongType(rng);
  if (scalar === 'DateTimeISO') return hostileDate(rng);
  if (scalar === 'JSONObject') return hostileJson(rng);
  if (name === 'after') return hostileCursor(rng, ids);
  return hostileString(rng, big);
}

/** A plausible set for the operation's variables with one to three leaves made hostile (cursors are recognised by the variable name "after"). */
function generateSet(op: Operation, ids: Ids, rng: Rng): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  for (const v of op.variables) {
    const value = plausible(v.type, v.name, '', op, ids, rng);
    if (value !== undefined && (isNonNullType(v.type) || rng.chance(0.6))) variables[v.name] = value;
  }
  const all: Array<Leaf & { name: string }> = [];
  for (const v of op.variables) {
    const found: Leaf[] = [];
    leaves(v.type, variables[v.name], (x) => (variables[v.name] = x), found);
    all.push(...found.map((l) => ({ ...l, name: v.name })));
  }
  const big = { used: false };
  const count = all.length === 0 ? 0 : 1 + rng.int(3);
  // mostly scalar leaves deep in the input, so that the rest of the set gets past coercion and validation
  const scalars = all.filter((l) => !isListType(isNonNullType(l.type) ? l.type.ofType : l.type) && !isInputObjectType(getNamedType(l.type)));
  for (let i = 0; i < count; i++) {
    const leaf = scalars.length && rng.chance(0.75) ? rng.pick(scalars) : rng.pick(all);
    leaf.set(hostile(leaf, leaf.name, op, ids, rng, big));
  }
  const input = variables.input as { image?: unknown } | undefined;
  if (REGISTRY_OPS.has(op.name) && input && typeof input === 'object' && typeof input.image === 'string' && !input.image.startsWith(LOCAL_REGISTRY)) input.image = `${LOCAL_REGISTRY}${input.image}`;
  return variables;
}

/** Strings of a variable set that look like names this process gave (to find what Docker created for it). */
function fuzzNames(value: unknown, out: Set<string>): Set<string> {
  if (typeof value === 'string' && value.startsWith('fgt-fz-')) out.add(value.replace(/:none$/, ''));
  else if (Array.isArray(value)) value.forEach((v) => fuzzNames(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => fuzzNames(v, out));
  return out;
}

async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

describe(`security fuzz (seed ${SEED}, ${SETS} variable sets)`, () => {
  let t: TestApp;
  let token: string;
  const ids = {} as Ids;

  beforeAll(async () => {
    t = await startTestApp({ config: { workers: true }, env: { FLEETGRAPH_LIMITS: JSON.stringify({ requestsPerMinute: 1_000_000 }) } });
    const all = ['docker.hosts.manage', 'docker.resources.manage', 'docker.containers.exec', 'docker.logs.read', 'swarm.clusters.manage', 'swarm.secrets.manage'];
    token = await t.token({ account: 'fuzzer', permissions: all });
    const host = await t.gql(generated.RegisterDockerHostDocument, { input: { name: 'fuzz-local', apiEndpoint: dockerEndpoint(), environment: 'development' } }, token);
    expect(host.errors).toBeUndefined();
    ids.ownHost = host.data!.registerDockerHost.host.id;
    ids.ownContainerName = uniqueName('fz');
    const c = await t.gql(generated.CreateContainerDocument, { input: { hostId: ids.ownHost, name: ids.ownContainerName, image: TEST_IMAGE, command: ['sleep', '600'] } }, token);
    expect(c.errors).toBeUndefined();
    ids.ownContainer = c.data!.createContainer.container.id;
    ids.ownActivities = [host.data!.registerDockerHost.activity.id, c.data!.createContainer.activity.id];

    // Another account: its ids (activities, the account and user rows) are what a hostile tenant would forge.
    const other = await t.token({ account: 'fuzz-victim', permissions: all });
    const victim = await t.gql(generated.RegisterDockerHostDocument, { input: { name: 'victim', apiEndpoint: CLOSED_ENDPOINT, environment: 'development' } }, other);
    const viewer = await t.gql(generated.ViewerDocument, undefined, other);
    const activities = await t.gql(generated.ActivitiesDocument, { first: 5 }, other);
    const globalIds = [viewer.data!.viewer.account.id, viewer.data!.viewer.user.id, ...(activities.data?.activities.nodes ?? []).map((a) => a.id)];
    if (victim.data) globalIds.push(victim.data.registerDockerHost.host.id);
    const rows = await sql<{ id: string }>(
      t.databaseUrl,
      "select a.id from accounts a where a.name = 'fuzz-victim' union all select u.id from users u join accounts a on a.id = u.account_id where a.name = 'fuzz-victim' union all select d.id from docker_activities d join accounts a on a.id = d.account_id where a.name = 'fuzz-victim'",
    );
    ids.otherAccount = { globalIds, uuids: rows.map((r) => r.id) };
    expect(ids.otherAccount.uuids.length).toBeGreaterThanOrEqual(2);
  });

  afterAll(async () => {
    await cleanupDocker();
    const images = (await docker('image', 'ls', '--format', '{{.Repository}}:{{.Tag}}')).split('\n').filter((r) => r.includes(`-${process.pid}-`));
    if (images.length) await docker('image', 'rm', '-f', ...images).catch(() => undefined);
    await t?.stop();
  });

  it('answers every malformed variable set with a coded client error or data: no 500, no stack, no SQL, no other account', async () => {
    const schema = buildSchema(fs.readFileSync(path.resolve(__dirname, '../../schema/schema.graphql'), 'utf8'));
    const ops = loadOperations(schema);
    expect(ops.length).toBeGreaterThan(60);
    const rng = prng(SEED);
    const sets = Array.from({ length: SETS }, (_, i) => {
      const op = ops[i % ops.length];
      return { i, op, variables: generateSet(op, ids, rng) };
    });

    const failures: string[] = [];
    const refusedNames = new Map<string, string>();
    const codes = new Map<string, number>();
    const started = Math.floor(Date.now() / 1000) - 1;
    await pool(sets, CONCURRENCY, async ({ i, op, variables }) => {
      const body = JSON.stringify({ query: op.text, variables });
      const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
      const text = await res.text();
      let json: { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> };
      try {
        json = JSON.parse(text);
      } catch {
        json = {};
      }
      const problems: string[] = [];
      if (res.status >= 500) problems.push(`HTTP ${res.status}`);
      if (!json.errors && json.data === undefined) problems.push(`not a GraphQL response: ${text.slice(0, 200)}`);
      if (process.env.FUZZ_LOG)
        fs.appendFileSync(process.env.FUZZ_LOG, `#${i} ${op.name} ${json.errors ? json.errors.map((e) => `${e.extensions?.code} ${e.message.slice(0, 100)}`).join(' | ') : 'OK'}\n`);
      for (const e of json.errors ?? []) {
        const code = e.extensions?.code;
        codes.set(code ?? 'none', (codes.get(code ?? 'none') ?? 0) + 1);
        if (!code) problems.push(`error without code: ${e.message.slice(0, 200)}`);
        if (code === 'INTERNAL_SERVER_ERROR' || code === 'SERVICE_UNAVAILABLE') problems.push(`${code} at ${JSON.stringify((e as { path?: unknown }).path)}`);
      }
      const errorsText = JSON.stringify(json.errors ?? []);
      if (LEAK.test(errorsText)) problems.push(`leak: ${errorsText.match(LEAK)![0]} in ${errorsText.slice(0, 300)}`);
      for (const uuid of ids.otherAccount.uuids) if (text.includes(uuid)) problems.push(`another account's id ${uuid} in the response`);
      if (errorsText.length > 20_000) problems.push(`errors of ${errorsText.length} characters`);
      if (op.kind === 'mutation' && json.errors?.length && json.errors.every((e) => REFUSAL_CODES.has(e.extensions?.code ?? ''))) {
        for (const n of fuzzNames(variables, new Set())) refusedNames.set(n, `#${i} ${op.name} (${json.errors.map((e) => `${e.extensions?.code}: ${e.message.slice(0, 120)}`).join(', ')})`);
      }
      if (problems.length) {
        const shown = JSON.stringify(variables, (_k, v) =>
          typeof v === 'string' && v.length > 80 ? `${v.slice(0, 40)}…(${v.length})` : Array.isArray(v) && v.length > 10 ? `[${v.length} items]` : v,
        );
        failures.push(`#${i} ${op.name} ${problems.join('; ')}\n    variables: ${shown.slice(0, 600)}`);
      }
    });

    // Nothing on the Docker side carries a name that only a refused mutation used (the setup's container is named by some on purpose).
    refusedNames.delete(ids.ownContainerName);
    const events = (await docker('events', '--since', String(started), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'event=create', '--format', '{{json .}}'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { Type: string; Actor: { ID: string; Attributes?: Record<string, string> } });
    for (const e of events) {
      const name = e.Type === 'volume' ? e.Actor.ID : e.Actor.Attributes?.name;
      if (name && refusedNames.has(name)) failures.push(`a ${e.Type} "${name}" was created although the mutation naming it was refused: ${refusedNames.get(name)}`);
    }

    const summary = [...codes]
      .sort((a, b) => b[1] - a[1])
      .map(([c, n]) => `${c}=${n}`)
      .join(' ');
    console.log(`security fuzz: seed ${SEED}, ${sets.length} variable sets over ${ops.length} operations; error codes: ${summary}`);
    expect({ seed: SEED, sets: sets.length, failures: failures.slice(0, 40), failureCount: failures.length, codes: summary }).toMatchObject({ failures: [], failureCount: 0 });
    expect(sets.length).toBeGreaterThanOrEqual(1000);
  }, 300_000);
});
