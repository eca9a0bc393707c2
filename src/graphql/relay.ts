import { badInput } from '../errors';

/** Opaque global ids: base64url("Type:uuid"). */
export function toGlobalId(type: string, id: string): string {
  return Buffer.from(`${type}:${id}`, 'utf8').toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function fromGlobalId(globalId: string, field = 'id'): { type: string; id: string } {
  const decoded = Buffer.from(globalId, 'base64url').toString('utf8');
  const sep = decoded.indexOf(':');
  const type = decoded.slice(0, sep);
  const id = decoded.slice(sep + 1);
  if (sep <= 0 || !UUID.test(id) || toGlobalId(type, id) !== globalId.replace(/=+$/, '')) {
    throw badInput(field, `"${globalId}" is not a valid id`);
  }
  return { type, id };
}

/** Decodes a global id and checks it names the expected type. */
export function expectGlobalId(globalId: string, type: string, field = 'id'): string {
  const decoded = fromGlobalId(globalId, field);
  if (decoded.type !== type) throw badInput(field, `expected a ${type} id`);
  return decoded.id;
}

export interface CursorKey {
  value: string | number;
  id: string;
}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([key.value, key.id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, field = 'after'): CursorKey {
  try {
    const [value, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if ((typeof value === 'string' || typeof value === 'number') && typeof id === 'string' && UUID.test(id)) return { value, id };
  } catch {
    /* fall through */
  }
  throw badInput(field, 'is not a valid cursor');
}
