/**
 * `env_file` contents, read the way compose reads them (compose-go's dotenv/parser.go): `KEY=VAL`
 * or `KEY: VAL`, an optional `export ` prefix, `#` comments (whole lines, and ` #…` after an
 * unquoted value), single quotes taken literally, double quotes with escapes (`\n`, `\t`, `\"`,
 * `\\`, `\$`, octal `\0NNN`) and interpolation, unquoted values interpolated and trimmed, a bare
 * `KEY` taking the variable's value when the deploy gives one (and dropped otherwise).
 * Interpolation inside the file sees the deploy's variables first, then the keys defined above it.
 */
import { substitute, type Lookup } from './interpolate';

/** One line's problem: which line and why (the caller adds the file's path). */
export class EnvFileError extends Error {}

const EXPORT = /^export\s+/;
const ESCAPES = /\\(?:[abcfnrtv$"\\]|0\d{0,3})/g;
const SIMPLE_ESCAPES: Record<string, string> = { a: '\u0007', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '"': '"', '\\': '\\' };

/** Parses an env file into its variables, in the order they appear (a repeated key keeps its last value). */
export function parseEnvFile(src: string, lookup: Lookup): Map<string, string> {
  const out = new Map<string, string>();
  const state = { line: 1 };
  let rest = src.startsWith('\uFEFF') ? src.slice(1) : src;
  for (;;) {
    rest = statementStart(rest, state);
    if (rest === '') break;
    const { key, left, inherited } = keyName(rest, state);
    if (key.includes(' ')) throw new EnvFileError(`line ${state.line}: key cannot contain a space`);
    if (inherited) {
      const value = lookup(key);
      if (value !== undefined) out.set(key, value);
      rest = left;
      continue;
    }
    const { value, left: after } = varValue(left, out, lookup, state);
    out.set(key, value);
    rest = after;
  }
  return out;
}

/** Skips blank space and comment lines; returns the text from the next statement. */
function statementStart(src: string, state: { line: number }): string {
  for (;;) {
    let pos = 0;
    while (pos < src.length && /\s/u.test(src[pos])) {
      if (src[pos] === '\n') state.line++;
      pos++;
    }
    if (pos >= src.length) return '';
    src = src.slice(pos);
    if (src[0] !== '#') return src;
    const nl = src.indexOf('\n');
    if (nl < 0) return '';
    src = src.slice(nl);
  }
}

function keyName(src: string, state: { line: number }): { key: string; left: string; inherited: boolean } {
  if (EXPORT.test(src)) src = src.slice('export'.length).replace(/^[\t\v\f\r \u0085\u00a0]+/, '');
  let key = '';
  let offset = 0;
  let inherited = false;
  let found = false;
  for (let i = 0; i < src.length;) {
    const ch = String.fromCodePoint(src.codePointAt(i) ?? 0);
    if (ch === '=' || ch === ':' || ch === '\n') {
      key = src.slice(0, i);
      offset = i + 1;
      inherited = ch === '\n';
      found = true;
      break;
    }
    const allowed = isSpace(ch) || ch === '_' || ch === '.' || ch === '-' || ch === '[' || ch === ']' || /[\p{L}\p{N}]/u.test(ch);
    if (!allowed) throw new EnvFileError(`line ${state.line}: unexpected character ${JSON.stringify(ch)} in variable name ${JSON.stringify(src.split('\n', 1)[0])}`);
    i += ch.length;
  }
  if (!found) {
    // a last line without "=" and without a newline: compose reads it as a bare KEY
    key = src;
    offset = src.length;
    inherited = true;
  }
  if (inherited && !key.includes(' ')) state.line++;
  key = key.trimEnd();
  const left = src.slice(offset).replace(/^[\t\v\f\r \u0085\u00a0]+/, '');
  return { key, left, inherited };
}

function varValue(src: string, defined: Map<string, string>, lookup: Lookup, state: { line: number }): { value: string; left: string } {
  const quote = src[0] === '"' || src[0] === "'" ? src[0] : undefined;
  if (!quote) {
    const nl = src.indexOf('\n');
    let value = nl < 0 ? src : src.slice(0, nl);
    const left = nl < 0 ? '' : src.slice(nl + 1);
    state.line++;
    const comment = value.indexOf(' #');
    if (comment >= 0) value = value.slice(0, comment);
    value = value.trimEnd();
    return { value: expand(value, defined, lookup), left };
  }
  let escaped = false;
  let chars = '';
  for (let i = 1; i < src.length; i++) {
    const ch = src[i];
    if (ch === '\n') state.line++;
    if (ch !== quote) {
      if (!escaped && ch === '\\') {
        escaped = true;
        continue;
      }
      if (escaped) {
        escaped = false;
        chars += '\\';
      }
      chars += ch;
      continue;
    }
    if (escaped) {
      escaped = false;
      chars += ch;
      continue;
    }
    const value = quote === '"' ? expand(expandEscapes(chars), defined, lookup) : chars;
    return { value, left: src.slice(i + 1) };
  }
  const end = src.indexOf('\n');
  throw new EnvFileError(`line ${state.line}: unterminated quoted value ${end < 0 ? src : src.slice(0, end)}`);
}

/** Shell escapes in double quotes; `\$` becomes `$$` so interpolation leaves a literal `$`. */
function expandEscapes(value: string): string {
  return value.replace(ESCAPES, (match) => {
    if (match === '\\$') return '$$';
    if (match.startsWith('\\0')) {
      const digits = match.slice(2);
      // Go's UnquoteChar wants exactly three octal digits after the backslash ("\0123" → "\123")
      if (digits.length === 3 && /^[0-7]{3}$/.test(digits)) {
        const code = parseInt(digits, 8);
        return code <= 0xff ? String.fromCharCode(code) : match;
      }
      return match;
    }
    return SIMPLE_ESCAPES[match[1]] ?? match;
  });
}

function expand(value: string, defined: Map<string, string>, lookup: Lookup): string {
  try {
    return substitute(value, (name) => lookup(name) ?? defined.get(name)).value;
  } catch (error) {
    throw new EnvFileError(error instanceof Error ? error.message : String(error));
  }
}

function isSpace(ch: string): boolean {
  return ch === '\t' || ch === '\v' || ch === '\f' || ch === '\r' || ch === ' ' || ch === '\u0085' || ch === '\u00a0';
}
