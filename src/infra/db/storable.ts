import { ReferenceKind, type EntityMetadata, type EventArgs, type EventSubscriber } from '@mikro-orm/postgresql';

/**
 * PostgreSQL's text and jsonb cannot hold U+0000, and an engine may send one (in a label, say):
 * a statement carrying it fails on every retry. What fleetgraph stores from an engine goes without
 * it.
 */
export function storable(s: string): string {
  return s.includes('\u0000') ? s.replaceAll('\u0000', '') : s;
}

/** A record of strings (an event's attributes, labels) as stored: keys and values without U+0000. */
export function storableStrings(record: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record)) out[storable(k)] = storable(v);
  return out;
}

/** JSON text of an engine's data for a jsonb parameter, every string and key without U+0000 (dates are ISO strings by the time the replacer sees them). */
export function storableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'string') return storable(v);
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).some((k) => k.includes('\u0000'))) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [storable(k), x]));
    }
    return v;
  });
}

/** Whether a JSON-like value holds U+0000 in any string or key. */
function holdsNul(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('\u0000');
  if (Array.isArray(v)) return v.some(holdsNul);
  if (v && typeof v === 'object' && !(v instanceof Date) && !Buffer.isBuffer(v)) return Object.entries(v).some(([k, x]) => k.includes('\u0000') || holdsNul(x));
  return false;
}

/**
 * Every entity the ORM writes has its scalar strings and JSON values stored without U+0000
 * (`docker info` strings on a host's sync, a swarm service's spec, labels given through the API):
 * one such value would otherwise fail its flush on every retry. Runs before each insert and
 * update; the ORM writes what the hook leaves on the entity.
 */
export class StorableEntities implements EventSubscriber {
  beforeCreate(args: EventArgs<object>): void {
    clean(args.entity as Record<string, unknown>, args.meta);
  }

  beforeUpdate(args: EventArgs<object>): void {
    clean(args.entity as Record<string, unknown>, args.meta);
  }
}

function clean(entity: Record<string, unknown>, meta: EntityMetadata): void {
  for (const prop of meta.props) {
    if (prop.kind !== ReferenceKind.SCALAR || prop.persist === false) continue;
    const v = entity[prop.name];
    if (!holdsNul(v)) continue;
    entity[prop.name] = typeof v === 'string' ? storable(v) : (JSON.parse(storableJson(v)) as unknown);
  }
}
