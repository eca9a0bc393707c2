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
