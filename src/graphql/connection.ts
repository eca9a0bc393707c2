import { ArgsType, ClassType, Field, Int, ObjectType } from 'type-graphql';
import { IsOptional, Max, MaxLength, Min } from 'class-validator';
import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { raw, ReferenceKind, type EntityClass, type EntityManager, type EntityMetadata, type EntityName, type EntityProperty, type FilterQuery } from '@mikro-orm/postgresql';
import { CursorValueKind, decodeCursor, encodeCursor, MAX_CURSOR_LENGTH } from './relay';
import { batchLoaderOf } from './loaders';
import type { Context } from './context';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/**
 * Connection types are plain data (Page below): `simpleResolvers` gives their fields graphql's
 * default resolver, without type-graphql's per-field wrapper (a fleet page has thousands of them).
 */
@ObjectType({ description: 'Cursor pagination state (Relay connection spec).', simpleResolvers: true })
export class PageInfo {
  @Field(() => Boolean) hasNextPage!: boolean;
  @Field(() => Boolean) hasPreviousPage!: boolean;
  @Field(() => String, { nullable: true }) startCursor?: string | null;
  @Field(() => String, { nullable: true }) endCursor?: string | null;
}

@ArgsType()
export class ConnectionArgs {
  @Field(() => Int, { nullable: true, description: `Items to return (1–${MAX_PAGE_SIZE}, default ${DEFAULT_PAGE_SIZE}).` })
  @IsOptional()
  @Min(1)
  @Max(MAX_PAGE_SIZE, { message: `must not be greater than ${MAX_PAGE_SIZE}` })
  first?: number;

  @Field(() => String, { nullable: true, description: 'Return items after this cursor (pageInfo.endCursor of the previous page).' })
  @IsOptional()
  @MaxLength(MAX_CURSOR_LENGTH)
  after?: string;
}

export interface ConnectionShape<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: PageInfo;
  totalCount: number;
}

/** Builds `<Name>Connection` and `<Name>Edge` object types for a node type. */
export function Connection<T extends object>(itemType: ClassType<T>, name = itemType.name): ClassType<ConnectionShape<T>> {
  @ObjectType(`${name}Edge`, { simpleResolvers: true })
  class Edge {
    @Field(() => String) cursor!: string;
    @Field(() => itemType) node!: T;
  }

  @ObjectType(`${name}Connection`, { description: `A page of ${name} items.`, simpleResolvers: true })
  class Conn {
    @Field(() => [Edge]) edges!: Edge[];
    @Field(() => [itemType], { description: 'The items of this page (shortcut for edges.node).' }) nodes!: T[];
    @Field(() => PageInfo) pageInfo!: PageInfo;
    @Field(() => Int, { description: 'Items matching the filter, over all pages.' }) totalCount!: number;
  }
  return Conn;
}

export interface PageOrder {
  field: string;
  direction: 'asc' | 'desc';
}

const NEWEST_FIRST: PageOrder = { field: 'createdAt', direction: 'desc' };

/** What a connection's selection asks for: its rows (edges, nodes, pageInfo) and/or totalCount. */
export interface ConnectionNeeds {
  rows: boolean;
  count: boolean;
}

/** Fields of a connection that need no row: a selection of only these loads no page. */
const ROWLESS_FIELDS = new Set(['totalCount', '__typename']);

/**
 * What the field being resolved selects on its connection (through inline and named fragments):
 * the count runs only when totalCount is asked, the page only when anything but totalCount is.
 * Without `info`, or when a fragment cannot be found, both (never a missing answer).
 */
export function connectionNeeds(info: GraphQLResolveInfo | undefined): ConnectionNeeds {
  if (!info) return { rows: true, count: true };
  const needs = { rows: false, count: false };
  const visited = new Set<string>();
  const visit = (set: SelectionSetNode | undefined): void => {
    for (const sel of set?.selections ?? []) {
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value === 'totalCount') needs.count = true;
        else if (!ROWLESS_FIELDS.has(sel.name.value)) needs.rows = true;
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        visit(sel.selectionSet);
      } else if (!visited.has(sel.name.value)) {
        visited.add(sel.name.value);
        const fragment = info.fragments[sel.name.value];
        if (fragment) visit(fragment.selectionSet);
        else needs.rows = needs.count = true;
      }
    }
  };
  for (const node of info.fieldNodes) visit(node.selectionSet);
  return needs;
}

/**
 * Keyset pagination over (order field, id): one query for the page (when rows are selected) and
 * one for totalCount (only when it is selected: pass the resolver's `info`). Cursors are opaque.
 */
export async function paginate<T extends { id: string }>(
  em: EntityManager,
  entity: EntityName<T>,
  where: FilterQuery<T>,
  args: ConnectionArgs,
  order: PageOrder = NEWEST_FIRST,
  info?: GraphQLResolveInfo,
): Promise<ConnectionShape<T>> {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  const needs = connectionNeeds(info);
  const after = afterWhere<T>(em, entity, order, args.after);
  const pageWhere = after ? ({ $and: [where, after] } as FilterQuery<T>) : where;
  const [rows, totalCount] = await Promise.all([
    needs.rows ? em.find(entity, pageWhere, { orderBy: { [order.field]: order.direction, id: order.direction } as never, limit: first + 1 }) : [],
    needs.count ? em.count(entity, where) : undefined,
  ]);
  return pageOf(rows as T[], first, args, order.field, totalCount);
}

/** The rows after a cursor in (order field, id) order, or undefined without one (BAD_USER_INPUT for a cursor that is not one of ours). */
function afterWhere<T extends object>(em: EntityManager, entity: EntityName<T>, order: PageOrder, after: string | undefined): FilterQuery<T> | undefined {
  if (!after) return undefined;
  const { value, id } = decodeCursor(after, cursorKind(em, entity, order.field));
  const op = order.direction === 'desc' ? '$lt' : '$gt';
  return { $or: [{ [order.field]: { [op]: value } }, { [order.field]: value, id: { [op]: id } }] } as FilterQuery<T>;
}

/**
 * A connection from the first+1 rows of a page. Edges (a cursor per row) are built when first
 * read: a page asked for its nodes and pageInfo encodes two cursors, not one per row. A
 * totalCount that was not loaded (not selected) throws when read: if a selection ever reached
 * it, the field fails instead of answering 0.
 */
function pageOf<T extends { id: string }>(rows: T[], first: number, args: ConnectionArgs, field: string, totalCount: number | undefined): ConnectionShape<T> {
  return new Page(rows.length > first ? rows.slice(0, first) : rows, rows.length > first, Boolean(args.after), field, totalCount);
}

class Page<T extends { id: string }> implements ConnectionShape<T> {
  readonly pageInfo: PageInfo;
  private builtEdges: { cursor: string; node: T }[] | undefined;

  constructor(
    readonly nodes: T[],
    hasNextPage: boolean,
    hasPreviousPage: boolean,
    private readonly field: string,
    private readonly count: number | undefined,
  ) {
    const last = nodes[nodes.length - 1];
    this.pageInfo = {
      hasNextPage,
      hasPreviousPage,
      startCursor: nodes.length > 0 ? cursorOf(nodes[0], field) : null,
      endCursor: last ? cursorOf(last, field) : null,
    };
  }

  get edges(): { cursor: string; node: T }[] {
    return (this.builtEdges ??= this.nodes.map((node) => ({ node, cursor: cursorOf(node, this.field) })));
  }

  get totalCount(): number {
    if (this.count === undefined) throw new Error('totalCount was not loaded: the selection did not ask for it');
    return this.count;
  }
}

/** A nested connection: the children of one parent (a host's containers, a cluster's services, an activity's events). */
export interface ChildConnection<T extends { id: string }> {
  entity: EntityClass<T>;
  /** The child's ManyToOne property pointing at the parent (host, cluster, activity). */
  parent: string;
  /**
   * The filter, without the parent and the cursor; built once per statement (called by the batch,
   * so a raw fragment in it is fresh for each query).
   */
  where: () => FilterQuery<T>;
  args: ConnectionArgs;
  order?: PageOrder;
  /**
   * The field's arguments besides first/after (its filter, role, …), as plain data. With the
   * field's name they say which parents share a statement: the same field asked with the same
   * arguments under many parents is one batch, so `where` must depend on nothing else.
   */
  filter?: unknown;
}

/**
 * One parent's page of a nested connection, loaded with every other parent of the request asking
 * the same field with the same arguments: one statement for all their pages (a lateral join:
 * each parent's first+1 rows in (order, id) order, through the index on (parent, order, id)), and,
 * only when totalCount is selected, one statement counting them all (grouped by parent). Same
 * order, cursors, filters and tenant filter as paginate.
 */
export function childConnection<T extends { id: string }>(ctx: Context, info: GraphQLResolveInfo, parentId: string, spec: ChildConnection<T>): Promise<ConnectionShape<T>> {
  const order = spec.order ?? NEWEST_FIRST;
  const first = spec.args.first ?? DEFAULT_PAGE_SIZE;
  const needs = connectionNeeds(info);
  const field = `${info.parentType.name}.${info.fieldName}`;
  const filterKey = JSON.stringify(spec.filter ?? null);
  // decoded here, so a bad cursor is BAD_USER_INPUT before any statement
  const after = afterWhere<T>(ctx.em, spec.entity, order, spec.args.after);
  const meta = ctx.em.getMetadata().get<T>(spec.entity.name);
  const columns = needs.rows ? projection(info, meta, [spec.parent, order.field]) : undefined;
  const rows = needs.rows
    ? batchLoaderOf<T[]>(ctx, `page ${field} ${first} ${spec.args.after ?? ''} ${filterKey} ${columns?.join(',') ?? '*'}`, (ids) =>
        loadPages(ctx.em, spec, after, order, first + 1, columns, ids),
      ).load(parentId)
    : Promise.resolve([]);
  const count = needs.count ? batchLoaderOf<number>(ctx, `count ${field} ${filterKey}`, (ids) => loadCounts(ctx.em, spec, ids)).load(parentId) : Promise.resolve(undefined);
  return Promise.all([rows, count]).then(([r, n]) => pageOf(r, first, spec.args, order.field, n));
}

/** The column of an entity property (host → host_id), for the raw parts of the batched statements. */
function columnOf(em: EntityManager, entity: EntityClass<object>, property: string): string {
  const column = em.getMetadata().get(entity.name).properties[property]?.fieldNames?.[0];
  if (!column) throw new Error(`connection: ${entity.name} has no column for ${property}`);
  return column;
}

/**
 * The pages of many parents in one statement:
 *   select c.* from unnest(array[…]::uuid[]) with ordinality p(parent_id, ord)
 *   cross join lateral (select … where <tenant> and <filter> and <after> and c.<parent> = p.parent_id
 *                       order by <order>, id limit <n>) c
 *   order by p.ord, c.<order>, c.id
 * The inner query is MikroORM's (filters, raw fragments and the tenant filter as em.find applies
 * them); the outer order is SQL's, so string order follows the database's collation.
 */
async function loadPages<T extends { id: string }>(
  em: EntityManager,
  spec: ChildConnection<T>,
  after: FilterQuery<T> | undefined,
  order: PageOrder,
  limit: number,
  columns: string[] | undefined,
  parentIds: readonly string[],
): Promise<T[][]> {
  const parent = columnOf(em, spec.entity, spec.parent);
  const orderColumn = columnOf(em, spec.entity, order.field);
  const where = spec.where();
  const qb = em
    .createQueryBuilder(spec.entity, 'c')
    .select(columns ?? '*')
    .where((after ? { $and: [where, after] } : where) as never)
    .andWhere(`c.${quoted(parent)} = p.parent_id`)
    .orderBy({ [order.field]: order.direction, id: order.direction } as never)
    .limit(limit);
  await qb.applyFilters();
  const dir = order.direction === 'desc' ? 'desc' : 'asc';
  const statement = em
    .getKnex()
    .raw(`select c.* from unnest(array[?]::uuid[]) with ordinality as p(parent_id, ord) cross join lateral ? as c order by p.ord, c.${quoted(orderColumn)} ${dir}, c.id ${dir}`, [
      [...parentIds],
      qb.getKnexQuery(),
    ]);
  const rows = (await em.getConnection().execute(statement, [], 'all', em.getTransactionContext())) as Array<Record<string, unknown>>;
  const byParent = new Map<string, T[]>(parentIds.map((id) => [id, []]));
  const objects = entitiesOf(em, spec.entity, rows);
  for (let i = 0; i < rows.length; i++) byParent.get(String(rows[i][parent]))?.push(objects[i]);
  return parentIds.map((id) => byParent.get(id)!);
}

/** Per entity: its columns → how a page row's value becomes the property's (cached; metadata never changes). Strings and numbers need no conversion. */
type Column = { name: string; convert: ((value: unknown) => unknown) | undefined };
interface RowShape {
  columns: Map<string, Column>;
  /** The prototype of page rows: the entity's, with the ORM's accessors shadowed (see rowPrototype). */
  proto: object;
}
const rowShapes = new WeakMap<EntityMetadata, RowShape>();

/** Whether `name` is an accessor somewhere on the prototype chain (assigning it would run a setter). */
function isAccessor(proto: object | null, name: string): boolean {
  for (let p = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const d = Object.getOwnPropertyDescriptor(p, name);
    if (d) return Boolean(d.get || d.set);
  }
  return false;
}

function rowShapeOf(em: EntityManager, meta: EntityMetadata, entityProto: object): RowShape {
  let shape = rowShapes.get(meta);
  if (shape) return shape;
  const platform = em.getPlatform();
  const columns = new Map<string, Column>();
  for (const prop of Object.values(meta.properties) as EntityProperty[]) {
    const column = prop.fieldNames?.[0];
    if (!column || !COLUMN_KINDS.has(prop.kind)) continue;
    const convert =
      prop.kind === ReferenceKind.MANY_TO_ONE
        ? (v: unknown) => (v === null || v === undefined ? v : { id: String(v) })
        : prop.runtimeType === 'Date'
          ? // the driver returns timestamps as text (full precision); em.find parses them the same way
            (v: unknown) => (v === null || v === undefined || v instanceof Date ? v : platform.parseDate(v as string))
          : prop.customType
            ? (v: unknown) => (v === null || v === undefined ? v : prop.customType!.convertToJSValue(v, platform))
            : undefined;
    columns.set(column, { name: prop.name, convert });
  }
  shape = {
    columns,
    proto: rowPrototype(
      entityProto,
      [...columns.values()].map((c) => c.name),
    ),
  };
  rowShapes.set(meta, shape);
  return shape;
}

/**
 * The prototype page rows are made from: the entity's own (so instanceof, the constructor's name
 * for Node.resolveType, getters such as globalId and field resolvers work), with a plain writable
 * slot over every property the ORM made an accessor (its setters would build a managed entity's
 * state). Assigning a column then makes an ordinary own property, the same shape for every row:
 * defining each one instead took 4% of a 5,000-row page's CPU, this takes under 1%.
 */
function rowPrototype(entityProto: object, names: string[]): object {
  const slots: PropertyDescriptorMap = {};
  for (const name of names) if (isAccessor(entityProto, name)) slots[name] = { value: undefined, writable: true, enumerable: false, configurable: true };
  return Object.create(entityProto, slots) as object;
}

/**
 * Page rows as read-only objects of the entity's class (its getters and field resolvers work),
 * with columns turned into properties, custom types converted and each parent as `{ id }`. Not
 * ORM entities: a page's rows are only read, and building thousands of managed entities cost
 * three times as long as the statement. The columns are matched once per statement (every row
 * of a result has the same ones).
 */
function entitiesOf<T extends object>(em: EntityManager, entity: EntityClass<T>, rows: Array<Record<string, unknown>>): T[] {
  if (rows.length === 0) return [];
  const shape = rowShapeOf(em, em.getMetadata().get(entity.name), entity.prototype as object);
  const plan = Object.keys(rows[0]).flatMap((column) => {
    const c = shape.columns.get(column);
    return c ? [{ column, ...c }] : [];
  });
  const out = new Array<T>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const obj = Object.create(shape.proto) as Record<string, unknown>;
    for (const c of plan) obj[c.name] = c.convert ? c.convert(row[c.column]) : row[c.column];
    out[i] = obj as T;
  }
  return out;
}

/** Kinds of property a page can load as columns of its own rows. */
const COLUMN_KINDS = new Set<string>([ReferenceKind.SCALAR, ReferenceKind.MANY_TO_ONE]);

/**
 * The properties a page must load for what its items select (nodes { … } and edges { node { … } },
 * through fragments), plus id and `always` (the parent, the order field): fewer columns to send
 * and parse. Every selected field must be a column property of the entity (stored field or
 * many-to-one); any other field (a resolver reading whatever it needs: inspect, cursor, …) means
 * the whole row — undefined, never a guess.
 */
function projection<T extends object>(info: GraphQLResolveInfo, meta: EntityMetadata<T>, always: string[]): string[] | undefined {
  const wanted = new Set<string>(['id', ...always]);
  const visited = new Set<string>();
  let whole = false;
  const items = (set: SelectionSetNode | undefined, level: 'connection' | 'edge' | 'item'): void => {
    for (const sel of set?.selections ?? []) {
      if (sel.kind === Kind.INLINE_FRAGMENT) items(sel.selectionSet, level);
      else if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = info.fragments[sel.name.value];
        if (!fragment) whole = true;
        else if (!visited.has(`${level}:${sel.name.value}`)) {
          visited.add(`${level}:${sel.name.value}`);
          items(fragment.selectionSet, level);
        }
      } else if (level === 'connection') {
        if (sel.name.value === 'nodes') items(sel.selectionSet, 'item');
        else if (sel.name.value === 'edges') items(sel.selectionSet, 'edge');
      } else if (level === 'edge') {
        if (sel.name.value === 'node') items(sel.selectionSet, 'item');
      } else if (sel.name.value !== '__typename') {
        const prop = (meta.properties as Record<string, EntityMetadata<T>['properties'][never] | undefined>)[sel.name.value];
        if (prop && COLUMN_KINDS.has(prop.kind) && !prop.lazy && prop.persist !== false) wanted.add(prop.name);
        else if (sel.name.value !== 'id') whole = true;
      }
    }
  };
  for (const node of info.fieldNodes) items(node.selectionSet, 'connection');
  return whole ? undefined : [...wanted].sort();
}

/** totalCount of many parents in one statement: select <parent>, count(*) … where <parent> in (…) group by <parent>. */
async function loadCounts<T extends { id: string }>(em: EntityManager, spec: ChildConnection<T>, parentIds: readonly string[]): Promise<number[]> {
  const parent = columnOf(em, spec.entity, spec.parent);
  const qb = em
    .createQueryBuilder(spec.entity, 'c')
    .select([raw(`c.${quoted(parent)} as parent_id`), raw('count(*) as n')])
    .where({ $and: [spec.where(), { [spec.parent]: { $in: [...parentIds] } }] } as never)
    .groupBy(raw(`c.${quoted(parent)}`) as never);
  await qb.applyFilters();
  const rows = (await qb.execute('all', false)) as unknown as Array<{ parent_id: string; n: string | number }>;
  const byParent = new Map(rows.map((r) => [String(r.parent_id), Number(r.n)]));
  return parentIds.map((id) => byParent.get(id) ?? 0);
}

/** A column name from entity metadata, quoted for PostgreSQL (metadata names are ours, never user input). */
const quoted = (column: string) => `"${column.replace(/"/g, '""')}"`;

function cursorOf(node: { id: string }, field: string): string {
  return encodeCursor({ value: (node as unknown as Record<string, string | number | Date>)[field], id: node.id });
}

/** The kind of value the order column holds, from the entity's metadata: a cursor must carry that kind. */
function cursorKind<T extends object>(em: EntityManager, entity: EntityName<T>, field: string): CursorValueKind {
  const type = em.getMetadata().find(entity as never)?.properties[field as never]?.runtimeType;
  if (type === 'Date') return 'date';
  if (type === 'number') return 'number';
  if (type === 'string') return 'string';
  throw new Error(`paginate: cannot order by ${field} (${type})`);
}
