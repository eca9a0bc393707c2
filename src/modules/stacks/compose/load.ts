import { isScalar, LineCounter, parseDocument, visit, YAMLError } from 'yaml';
import type { ScalarTag } from 'yaml';
import { composeProblem } from './problems';

/** Largest compose file accepted, in bytes (UTF-8). A real stack file is a few KiB. */
export const MAX_COMPOSE_BYTES = 512 * 1024;
/**
 * yaml's guard against alias expansion ("billion laughs"): how many times aliases may be resolved,
 * weighted by what they contain. 100 is yaml's default and ample for `<<: *defaults` files.
 */
export const MAX_ALIAS_COUNT = 100;

/** A value of a parsed compose file: what YAML gives once turned into plain JSON-like data. */
export type ComposeValue = string | number | boolean | null | ComposeValue[] | ComposeMap;
export interface ComposeMap {
  [key: string]: ComposeValue;
}

/**
 * YAML 1.1 octals (`mode: 0440`). The Docker CLI parses with go-yaml v3, which still reads a
 * leading-zero integer as octal (strconv.ParseInt base 0); YAML 1.2's core schema would read 440.
 * Secret and config modes are written this way, so the CLI's reading wins.
 */
const legacyOctal: ScalarTag = {
  identify: (value) => typeof value === 'number',
  default: true,
  tag: 'tag:yaml.org,2002:int',
  format: 'OCT',
  test: /^[-+]?0[0-7]+$/,
  resolve: (text) => (text.startsWith('-') ? -parseInt(text.slice(1), 8) : parseInt(text.replace(/^\+/, ''), 8)),
};

/**
 * Parses the compose text into plain data: anchors and aliases resolved, merge keys (`<<`)
 * applied as compose does, duplicate keys refused, mapping keys turned into strings. Refuses,
 * with BAD_USER_INPUT naming the line: a file over MAX_COMPOSE_BYTES, invalid YAML, several
 * documents, a key that is itself a mapping or list, alias expansion past MAX_ALIAS_COUNT, and a
 * top level that is not a mapping.
 */
export function parseCompose(text: string): ComposeMap {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_COMPOSE_BYTES) throw composeProblem('compose', `the file is ${bytes} bytes; at most ${MAX_COMPOSE_BYTES} are accepted`);
  const lines = new LineCounter();
  const doc = parseDocument(text, { merge: true, uniqueKeys: true, prettyErrors: false, lineCounter: lines, customTags: (tags) => [legacyOctal, ...tags] });
  const first = doc.errors[0];
  if (first) throw composeProblem(where(lines, first.pos[0]), reason(first));
  let badKey: number | undefined;
  visit(doc, {
    Pair(_key, pair) {
      if (badKey !== undefined) return visit.BREAK;
      const key = pair.key;
      if (key !== null && !isScalar(key)) badKey = (key as { range?: [number] }).range?.[0] ?? 0;
      return undefined;
    },
  });
  if (badKey !== undefined) throw composeProblem(where(lines, badKey), 'a mapping key must be a plain value, not a mapping, a list or an alias');
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // yaml throws a ReferenceError for excessive aliasing and for an alias to an unknown anchor
    throw composeProblem('compose', error instanceof Error ? error.message : 'the file cannot be read');
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw composeProblem('compose', 'the top level must be a mapping (services:, networks:, …)');
  return data as ComposeMap;
}

function where(lines: LineCounter, offset: number): string {
  const { line, col } = lines.linePos(offset);
  return `compose (line ${line}, column ${col})`;
}

/** yaml's message without its own position suffix (we give line and column in the path). */
function reason(error: YAMLError): string {
  if (error.code === 'MULTIPLE_DOCS') return 'a compose file is one YAML document (found a second one after ---)';
  return error.message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '').trim();
}
