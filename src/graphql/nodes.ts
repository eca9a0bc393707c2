import type { EntityManager } from '@mikro-orm/postgresql';
import { ENTITIES, Node } from '../../entities';
import { fromGlobalId } from './relay';

const BY_NAME = new Map<string, (typeof ENTITIES)[number]>(ENTITIES.map((e) => [e.name, e]));

/**
 * Resolves global ids to entities, one query per type. Goes through the request's
 * EntityManager, so the tenant filter hides other accounts' rows (they come back null).
 */
export async function loadNodes(em: EntityManager, ids: string[]): Promise<(Node | null)[]> {
  const decoded = ids.map((id) => fromGlobalId(id));
  const byType = new Map<string, string[]>();
  for (const d of decoded) {
    if (!BY_NAME.has(d.type)) continue;
    byType.set(d.type, [...(byType.get(d.type) ?? []), d.id]);
  }
  const found = new Map<string, Node>();
  await Promise.all(
    [...byType].map(async ([type, uuids]) => {
      const rows = (await em.find(BY_NAME.get(type)! as never, { id: { $in: uuids } } as never)) as Node[];
      for (const row of rows) found.set(`${type}:${row.id}`, row);
    }),
  );
  return decoded.map((d) => found.get(`${d.type}:${d.id}`) ?? null);
}
