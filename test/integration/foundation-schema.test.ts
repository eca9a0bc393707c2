import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { GraphQLSchema, GraphQLObjectType, GraphQLNonNull, GraphQLList, GraphQLInputObjectType, isObjectType, isInterfaceType, getNamedType, GraphQLType } from 'graphql';
import { FoundationNodeDocument, FoundationNodesDocument, ViewerDocument } from '../../src/generated/graphql';
import { buildFleetSchema, printFleetSchema } from '../../src/app/schema';
import { createMemoryPubSub } from '../../src/infra/pubsub';
import { startTestApp, TestApp } from '../support/app';
import { sql } from '../support/db';
import { ROOT } from '../support/process';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

describe('schema conventions over HTTP', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await startTestApp({ redis: false });
    token = await t.token({ account: 'schema-acct', subject: 'schema-user' });
  });
  afterAll(() => t?.stop());

  it('exposes opaque base64url ids, not the database uuid', async () => {
    const res = await t.gql(ViewerDocument, {}, token);
    const { user, account } = res.data!.viewer;
    const [row] = await sql<{ user_id: string; account_id: string }>(
      t.databaseUrl,
      "select u.id as user_id, a.id as account_id from users u join accounts a on a.id = u.account_id where a.name = 'schema-acct'",
    );
    for (const [globalId, uuid] of [
      [user.id, row.user_id],
      [account.id, row.account_id],
    ]) {
      expect(globalId).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(globalId).not.toMatch(UUID);
      expect(globalId).not.toContain(uuid);
      expect(globalId).not.toBe(uuid);
    }
    expect(user.id).not.toBe(account.id);
  });

  it('resolves the viewer objects through node(id:) with their type', async () => {
    const v = (await t.gql(ViewerDocument, {}, token)).data!.viewer;
    const u = await t.gql(FoundationNodeDocument, { id: v.user.id }, token);
    expect(u.data?.node).toEqual({ __typename: 'User', id: v.user.id, subject: 'schema-user' });
    const a = await t.gql(FoundationNodeDocument, { id: v.account.id }, token);
    expect(a.data?.node).toEqual({ __typename: 'Account', id: v.account.id, name: 'schema-acct' });
  });

  it.each([['not-an-id'], ['!!!'], [Buffer.from('User:123').toString('base64url')], [Buffer.from('no-separator').toString('base64url')], ['']])(
    'answers node(id: %p) with BAD_USER_INPUT',
    async (id) => {
      const res = await t.gql(FoundationNodeDocument, { id }, token);
      expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    },
  );

  it('answers nodes(ids:) with a malformed id among valid ones with BAD_USER_INPUT', async () => {
    const v = (await t.gql(ViewerDocument, {}, token)).data!.viewer;
    const res = await t.gql(FoundationNodesDocument, { ids: [v.user.id, 'garbage'] }, token);
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('answers nodes(ids:) in order, with null for ids that do not exist', async () => {
    const v = (await t.gql(ViewerDocument, {}, token)).data!.viewer;
    const missing = Buffer.from('User:00000000-0000-4000-8000-000000000000').toString('base64url');
    const res = await t.gql(FoundationNodesDocument, { ids: [v.account.id, missing, v.user.id] }, token);
    expect(res.errors).toBeUndefined();
    expect(res.data?.nodes.map((n) => n?.__typename ?? null)).toEqual(['Account', null, 'User']);
  });

  it('answers nodes(ids:) with more than 100 ids with BAD_USER_INPUT', async () => {
    const v = (await t.gql(ViewerDocument, {}, token)).data!.viewer;
    const res = await t.gql(FoundationNodesDocument, { ids: Array.from({ length: 101 }, () => v.user.id) }, token);
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.data?.nodes ?? null).toBeNull();
  });

  it('accepts nodes(ids:) with exactly 100 ids', async () => {
    const v = (await t.gql(ViewerDocument, {}, token)).data!.viewer;
    const res = await t.gql(FoundationNodesDocument, { ids: Array.from({ length: 100 }, () => v.user.id) }, token);
    expect(res.errors).toBeUndefined();
    expect(res.data?.nodes).toHaveLength(100);
  });
});

describe('schema conventions (static)', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await buildFleetSchema(createMemoryPubSub());
  });

  const unwrap = (type: GraphQLType): GraphQLType => (type instanceof GraphQLNonNull ? type.ofType : type);

  it('has a Node interface with id: ID!, and node(id:) / nodes(ids:) / viewer on Query', () => {
    const node = schema.getType('Node');
    expect(isInterfaceType(node)).toBe(true);
    if (!isInterfaceType(node)) return;
    expect(String(node.getFields().id.type)).toBe('ID!');
    const q = schema.getQueryType()!.getFields();
    expect(String(q.node.type)).toBe('Node');
    expect(q.node.args.map((a) => `${a.name}: ${a.type}`)).toEqual(['id: ID!']);
    expect(String(q.nodes.type)).toBe('[Node]!');
    expect(q.nodes.args.map((a) => `${a.name}: ${a.type}`)).toEqual(['ids: [ID!]!']);
    const viewer = getNamedType(q.viewer.type) as GraphQLObjectType;
    expect(Object.keys(viewer.getFields()).sort()).toEqual(expect.arrayContaining(['account', 'permissions', 'user']));
  });

  it('every object type with an id field implements Node', () => {
    const offenders = Object.values(schema.getTypeMap())
      .filter((type): type is GraphQLObjectType => isObjectType(type) && !type.name.startsWith('__'))
      .filter((type) => 'id' in type.getFields() && !type.getInterfaces().some((i) => i.name === 'Node'))
      .map((type) => type.name);
    expect(offenders).toEqual([]);
  });

  it('every *Connection type has edges, nodes, pageInfo: PageInfo! and totalCount: Int!, and every connection field takes first/after', () => {
    const problems: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || !type.name.endsWith('Connection')) continue;
      const f = type.getFields();
      if (!f.edges || !f.nodes) problems.push(`${type.name}: edges/nodes missing`);
      if (String(f.pageInfo?.type) !== 'PageInfo!') problems.push(`${type.name}: pageInfo is ${f.pageInfo?.type}`);
      if (String(f.totalCount?.type) !== 'Int!') problems.push(`${type.name}: totalCount is ${f.totalCount?.type}`);
    }
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) && !isInterfaceType(type)) continue;
      if (type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        if (!getNamedType(field.type).name.endsWith('Connection')) continue;
        const args = field.args.map((a) => a.name);
        if (!args.includes('first') || !args.includes('after')) problems.push(`${type.name}.${field.name}: args ${args.join(',')}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every mutation takes exactly one non-null `input` object and returns a *Payload object', () => {
    const mutation = schema.getMutationType();
    const problems: string[] = [];
    for (const field of Object.values(mutation?.getFields() ?? {})) {
      const [arg, ...rest] = field.args;
      if (!arg || rest.length > 0 || arg.name !== 'input') problems.push(`${field.name}: args ${field.args.map((a) => a.name).join(',')}`);
      else if (!(arg.type instanceof GraphQLNonNull) || !(arg.type.ofType instanceof GraphQLInputObjectType)) problems.push(`${field.name}: input is ${arg.type}`);
      const ret = unwrap(field.type);
      if (ret instanceof GraphQLList || !isObjectType(ret) || !ret.name.endsWith('Payload')) problems.push(`${field.name}: returns ${field.type}`);
    }
    expect(problems).toEqual([]);
  });

  it('schema/schema.graphql equals the schema emitted from the resolvers', async () => {
    const committed = fs.readFileSync(path.join(ROOT, 'schema', 'schema.graphql'), 'utf8');
    expect(await printFleetSchema()).toBe(committed);
  });

  it('`npm run schema:check` exits 0 on the committed schema', async () => {
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile('npm', ['run', '-s', 'schema:check'], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (((err as NodeJS.ErrnoException & { code?: number }).code as unknown as number) ?? 1) : 0, stdout, stderr }),
      );
    });
    expect({ code: result.code, out: result.stdout + result.stderr }).toEqual({ code: 0, out: expect.stringContaining('up to date') });
  }, 60_000);
});
