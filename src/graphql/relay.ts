import { badInput, CONTROL_CHARS, shown } from '../kernel/errors';

export { toGlobalId } from '../kernel/ids';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** A global id is base64url of "Type:uuid": type names are short, so ids are too. */
export const MAX_GLOBAL_ID_LENGTH = 200;
/** Cursors hold one order value and an id. */
export const MAX_CURSOR_LENGTH = 1000;

/** Decodes strict base64url (no padding, no other characters, canonical): anything else is undefined. */
function fromBase64url(text: string, maxLength: number): string | undefined {
  if (text.length === 0 || text.length > maxLength || !BASE64URL.test(text)) return undefined;
  const decoded = Buffer.from(text, 'base64url').toString('utf8');
  return Buffer.from(decoded, 'utf8').toString('base64url') === text ? decoded : undefined;
}

export function fromGlobalId(globalId: string, field = 'id'): { type: string; id: string } {
  const decoded = fromBase64url(globalId.replace(/=+$/, ''), MAX_GLOBAL_ID_LENGTH);
  const sep = decoded?.indexOf(':') ?? -1;
  const type = decoded?.slice(0, sep) ?? '';
  const id = decoded?.slice(sep + 1) ?? '';
  if (sep <= 0 || !/^[A-Za-z]\w*$/.test(type) || !UUID.test(id)) {
    throw badInput(field, `${shown(globalId)} is not a valid id`);
  }
  return { type, id };
}

/** Decodes a global id and checks it names the expected type. */
export function expectGlobalId(globalId: string, type: string, field = 'id'): string {
  const decoded = fromGlobalId(globalId, field);
  if (decoded.type !== type) throw badInput(field, `expected a ${type} id`);
  return decoded.id;
}

/** What a cursor's order value is: a timestamp, a string column or a number column. */
export type CursorValueKind = 'date' | 'string' | 'number';

export interface CursorKey {
  value: string | number | Date;
  id: string;
}

/** Timestamps PostgreSQL and every client can represent: years 1 to 9999 (UTC). */
export const MIN_DATE_MS = Date.parse('0001-01-01T00:00:00.000Z');
export const MAX_DATE_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** Whether a Date is valid and inside [year 1, year 9999]. */
export function isStorableDate(d: Date): boolean {
  const t = d.getTime();
  return Number.isFinite(t) && t >= MIN_DATE_MS && t <= MAX_DATE_MS;
}

export function encodeCursor(key: CursorKey): string {
  const value = key.value instanceof Date ? `D:${key.value.toISOString()}` : key.value;
  return Buffer.from(JSON.stringify([value, key.id]), 'utf8').toString('base64url');
}

const MAX_CURSOR_STRING = 500;

/**
 * Decodes a cursor made by encodeCursor for a connection ordered by a column of `kind`. A forged,
 * truncated, oversized or foreign cursor is BAD_USER_INPUT naming `field`: nothing of it reaches SQL
 * unless it is a well-formed value of the right type.
 */
export function decodeCursor(cursor: string, kind: CursorValueKind, field = 'after'): CursorKey {
  const key = parseCursor(cursor, kind);
  if (!key) throw badInput(field, 'is not a valid cursor');
  return key;
}

function parseCursor(cursor: string, kind: CursorValueKind): CursorKey | undefined {
  const text = fromBase64url(cursor, MAX_CURSOR_LENGTH);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return undefined;
  const [value, id] = parsed as [unknown, unknown];
  if (typeof id !== 'string' || !UUID.test(id)) return undefined;
  if (kind === 'number') return typeof value === 'number' && Number.isFinite(value) ? { value, id } : undefined;
  if (typeof value !== 'string' || value.length > MAX_CURSOR_STRING || CONTROL_CHARS.test(value)) return undefined;
  if (kind === 'string') return { value, id };
  if (!/^D:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(value)) return undefined;
  const date = new Date(value.slice(2));
  return isStorableDate(date) && date.toISOString() === value.slice(2) ? { value: date, id } : undefined;
}
