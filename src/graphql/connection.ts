import { ArgsType, ClassType, Field, Int, ObjectType } from 'type-graphql';
import { IsOptional, Max, MaxLength, Min } from 'class-validator';
import type { EntityManager, EntityName, FilterQuery } from '@mikro-orm/postgresql';
import { CursorValueKind, decodeCursor, encodeCursor, MAX_CURSOR_LENGTH } from './relay';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

@ObjectType({ description: 'Cursor pagination state (Relay connection spec).' })
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
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => String) cursor!: string;
    @Field(() => itemType) node!: T;
  }

  @ObjectType(`${name}Connection`, { description: `A page of ${name} items.` })
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

/**
 * Keyset pagination over (order field, id): one query for the page, one for totalCount,
 * whatever the page. Cursors are opaque.
 */
export async function paginate<T extends { id: string }>(
  em: EntityManager,
  entity: EntityName<T>,
  where: FilterQuery<T>,
  args: ConnectionArgs,
  order: PageOrder = { field: 'createdAt', direction: 'desc' },
): Promise<ConnectionShape<T>> {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  let pageWhere = where;
  if (args.after) {
    const { value, id } = decodeCursor(args.after, cursorKind(em, entity, order.field));
    const op = order.direction === 'desc' ? '$lt' : '$gt';
    pageWhere = { $and: [where, { $or: [{ [order.field]: { [op]: value } }, { [order.field]: value, id: { [op]: id } }] }] } as FilterQuery<T>;
  }
  const [rows, totalCount] = await Promise.all([em.find(entity, pageWhere, { orderBy: { [order.field]: order.direction, id: order.direction } as never, limit: first + 1 }), em.count(entity, where)]);
  const hasNextPage = rows.length > first;
  const page = rows.slice(0, first);
  const edges = page.map((node) => ({ node, cursor: cursorOf(node, order.field) }));
  return {
    edges,
    nodes: page,
    totalCount,
    pageInfo: {
      hasNextPage,
      hasPreviousPage: Boolean(args.after),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}

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
