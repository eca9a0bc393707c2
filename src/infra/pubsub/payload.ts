/**
 * Entities travel through pub/sub as plain JSON. `toPayload` keeps scalar columns and turns
 * relations into `<name>Id`; `hydrate` gives a payload back its class so getters such as
 * the global `id` work in subscription resolvers.
 */
export function toPayload(entity: object, relations: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entity)) {
    if (k.startsWith('_') || k.startsWith('__')) continue;
    if (relations.includes(k)) {
      out[`${k}Id`] = (v as { id?: string } | null)?.id ?? null;
      continue;
    }
    if (v !== null && typeof v === 'object' && !(v instanceof Date) && !Array.isArray(v) && isEntityLike(v)) continue;
    out[k] = v;
  }
  return out;
}

function isEntityLike(v: object): boolean {
  return Object.prototype.hasOwnProperty.call(v, '__helper') || typeof (v as { __meta?: unknown }).__meta !== 'undefined' || (v.constructor !== Object && 'id' in v);
}

export function hydrate<T extends object>(cls: new () => T, payload: Record<string, unknown>): T {
  return Object.assign(Object.create(cls.prototype), payload) as T;
}
