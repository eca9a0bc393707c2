/**
 * Compose interpolation, ported from compose-go's template package (template/template.go) so that
 * a value means here what it means to `docker compose`: `$VAR`, `${VAR}`, `${VAR:-default}`
 * (unset or empty), `${VAR-default}` (unset), `${VAR:?message}` / `${VAR?message}` (required),
 * `${VAR:+alt}` / `${VAR+alt}`, `$$` for a literal `$`, and defaults, alternatives and messages
 * that themselves hold `${…}` (nested). Names are `[_a-zA-Z][_a-zA-Z0-9]*`. A `$` followed by
 * anything else is kept as is; `${` that does not form a valid expression is an error.
 * (The Docker CLI's older copy, cli/compose/template, lacks nesting and `:+`/`+`; every file it
 * accepts means the same here.)
 */
import { joinPath, Problems } from './problems';
import type { ComposeMap, ComposeValue } from './load';

/** A variable's value, or undefined when the deploy does not set it. */
export type Lookup = (name: string) => string | undefined;

/** Largest document interpolation may produce (sum of its strings, in characters): variables used many times cannot blow it up. */
export const MAX_INTERPOLATED_CHARS = 4 * 1024 * 1024;
/** Most values (strings, numbers, lists, mappings) a document may hold after alias expansion. */
export const MAX_VALUES = 200_000;

export class TemplateError extends Error {}

/**
 * compose-go's DefaultPattern, `\$(?:(?<escaped>\$)|(?<named>[_a-z][_a-z0-9]*)|\{(?:(?<braced>[_a-z][_a-z0-9]*(?::?[-+?](?:.*))?)\}|(?<invalid>)))`
 * (case-insensitive): escaped `$$`, named `$VAR`, braced `${…}` (greedy: up to the last `}` of the
 * line, nesting is resolved below), or an invalid `${`. As a regular expression it backtracks:
 * `${a-` repeated over half a MiB took tens of seconds. Matched here by hand, in linear time.
 */
export interface Expression {
  /** Where the match starts (its `$`) and ends (exclusive). */
  start: number;
  end: number;
  escaped?: string;
  named?: string;
  braced?: string;
}

const NAME = /[_a-z][_a-z0-9]*/iy;
const LINE_END = new Set(['\n', '\r', '\u2028', '\u2029']);

/** The expressions of a template, left to right, as DefaultPattern's global match finds them. */
export function expressions(s: string): Expression[] {
  // for each position, the last `}` at or after it on its line (where `.*` then `\}` ends), or -1
  const lastBrace = new Int32Array(s.length + 1).fill(-1);
  for (let i = s.length - 1, last = -1; i >= 0; i--) {
    if (LINE_END.has(s[i])) last = -1;
    else if (s[i] === '}' && last === -1) last = i;
    lastBrace[i] = last;
  }
  const name = (at: number) => {
    NAME.lastIndex = at;
    return NAME.exec(s)?.[0];
  };
  const out: Expression[] = [];
  for (let i = s.indexOf('$'); i >= 0; i = s.indexOf('$', i)) {
    const next = s[i + 1];
    if (next === '$') {
      out.push({ start: i, end: i + 2, escaped: '$' });
      i += 2;
      continue;
    }
    const named = name(i + 1);
    if (named) {
      out.push({ start: i, end: i + 1 + named.length, named });
      i += 1 + named.length;
      continue;
    }
    if (next !== '{') {
      i++;
      continue;
    }
    const braced = name(i + 2);
    let end = -1;
    if (braced) {
      const j = i + 2 + braced.length;
      const op = s[j] === ':' && '-+?'.includes(s[j + 1] ?? 'x') ? j + 2 : '-+?'.includes(s[j] ?? 'x') ? j + 1 : -1;
      // the operator form takes everything up to the line's last `}`; without one, only `${NAME}`
      if (op >= 0 && lastBrace[op] >= 0) end = lastBrace[op] + 1;
      else if (s[j] === '}') end = j + 1;
    }
    if (end < 0) out.push({ start: i, end: i + 2 });
    else out.push({ start: i, end, braced: s.slice(i + 2, end - 1) });
    i = end < 0 ? i + 2 : end;
  }
  return out;
}

/** DefaultPattern's `replace`: each expression replaced by `fn(match)`. */
function replaceExpressions(template: string, fn: (match: string) => string): string {
  let out = '';
  let at = 0;
  for (const e of expressions(template)) {
    out += template.slice(at, e.start) + fn(template.slice(e.start, e.end));
    at = e.end;
  }
  return out + template.slice(at);
}

type SubstituteFn = (substitution: string, lookup: Lookup, unset: Set<string>) => { value: string; applied: boolean };

const OPERATORS: Array<[string, SubstituteFn]> = [
  [':?', (s, l, u) => required(s, l, ':?', (v) => v !== '', u)],
  ['?', (s, l, u) => required(s, l, '?', () => true, u)],
  [':-', (s, l, u) => whenAbsent(s, l, true, u)],
  ['-', (s, l, u) => whenAbsent(s, l, false, u)],
  [':+', (s, l, u) => whenPresent(s, l, true, u)],
  ['+', (s, l, u) => whenPresent(s, l, false, u)],
];

/**
 * Substitutes the variables of one string. Returns the result and the names that were used
 * without a value (compose warns about those and uses ""). Throws TemplateError for an invalid
 * expression or a required variable without a value.
 */
export function substitute(template: string, lookup: Lookup): { value: string; unset: string[] } {
  const unset = new Set<string>();
  const value = substituteWith(template, lookup, unset);
  return { value, unset: [...unset] };
}

function substituteWith(template: string, lookup: Lookup, unset: Set<string>): string {
  let failure: TemplateError | undefined;
  const out = replaceExpressions(template, (match: string) => {
    try {
      return replacement(match, lookup, unset);
    } catch (error) {
      failure ??= error instanceof TemplateError ? error : new TemplateError(String(error));
      return '';
    }
  });
  if (failure) {
    if (failure.message === '') throw new TemplateError(`invalid interpolation format in ${JSON.stringify(template)}: you may need to escape any $ with another $`);
    throw failure;
  }
  return out;
}

/** compose-go's DefaultReplacementAppliedFunc: the first closing brace at depth 0 ends the expression; what follows is substituted on its own. */
function replacement(match: string, lookup: Lookup, unset: Set<string>): string {
  const operator = operatorOf(match);
  const close = firstClosingBrace(match);
  let rest = '';
  let substring = match;
  if (close > -1) {
    rest = match.slice(close + 1);
    substring = match.slice(0, close + 1);
  }
  const groups: Partial<Expression> = expressions(substring)[0] ?? {};
  if (groups.escaped) return groups.escaped;
  let substitution = groups.named;
  let braced = false;
  if (!substitution) {
    substitution = groups.braced;
    braced = true;
  }
  if (!substitution) throw new TemplateError('');
  if (braced) {
    const { value, applied } = operator(substitution, lookup, unset);
    if (applied) return value + substituteWith(rest, lookup, unset);
  }
  const value = lookup(substitution);
  if (value === undefined) unset.add(substitution);
  return value ?? '';
}

/** The operator that appears first in the match decides how the expression is read (compose-go's getSubstitutionFunctionForTemplate). */
function operatorOf(match: string): SubstituteFn {
  let best: SubstituteFn = OPERATORS[0][1];
  let bestIndex = Infinity;
  for (const [op, fn] of OPERATORS) {
    const i = match.indexOf(op);
    if (i >= 0 && i < bestIndex) {
      best = fn;
      bestIndex = i;
    }
  }
  return best;
}

function firstClosingBrace(s: string): number {
  let open = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '}') {
      open--;
      if (open === 0) return i;
    }
    if (s[i] === '{') {
      open++;
      i++;
    }
  }
  return -1;
}

function partition(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + sep.length)];
}

function whenAbsent(substitution: string, lookup: Lookup, emptyOrUnset: boolean, unset: Set<string>) {
  const sep = emptyOrUnset ? ':-' : '-';
  if (!substitution.includes(sep)) return { value: '', applied: false };
  const [name, fallback] = partition(substitution, sep);
  const value = lookup(name);
  if (value === undefined || (emptyOrUnset && value === '')) return { value: substituteWith(fallback, lookup, unset), applied: true };
  return { value, applied: true };
}

function whenPresent(substitution: string, lookup: Lookup, notEmpty: boolean, unset: Set<string>) {
  const sep = notEmpty ? ':+' : '+';
  if (!substitution.includes(sep)) return { value: '', applied: false };
  const [name, alternative] = partition(substitution, sep);
  const value = lookup(name);
  if (value !== undefined && (!notEmpty || value !== '')) return { value: substituteWith(alternative, lookup, unset), applied: true };
  return { value: value ?? '', applied: true };
}

function required(substitution: string, lookup: Lookup, sep: string, valid: (v: string) => boolean, unset: Set<string>) {
  if (!substitution.includes(sep)) return { value: '', applied: false };
  const [name, message] = partition(substitution, sep);
  const value = lookup(name);
  if (value === undefined || !valid(value)) {
    const reason = substituteWith(message, lookup, unset);
    throw new TemplateError(reason ? `required variable ${name} is missing a value: ${reason}` : `required variable ${name} is missing a value`);
  }
  return { value, applied: true };
}

// ------------------------------------------------------------------------------------------------
// The document
// ------------------------------------------------------------------------------------------------

export type Cast = 'int' | 'float' | 'bool';

/**
 * Where a string is turned into a number or a boolean once interpolated: the Docker CLI's list
 * (cli/compose/loader/interpolate.go, interpolateTypeCastMapping) plus init, pids and tmpfs mode,
 * which the CLI types the same way. `*` is any key, `[]` any list item. A string that does not
 * parse stays a string, and validation reports it ("must be integer").
 */
const CASTS: Array<[string[], Cast]> = [
  ...(
    [
      [['configs', '[]', 'mode'], 'int'],
      [['secrets', '[]', 'mode'], 'int'],
      [['healthcheck', 'retries'], 'int'],
      [['healthcheck', 'disable'], 'bool'],
      [['deploy', 'replicas'], 'int'],
      [['deploy', 'update_config', 'parallelism'], 'int'],
      [['deploy', 'update_config', 'max_failure_ratio'], 'float'],
      [['deploy', 'rollback_config', 'parallelism'], 'int'],
      [['deploy', 'rollback_config', 'max_failure_ratio'], 'float'],
      [['deploy', 'restart_policy', 'max_attempts'], 'int'],
      [['deploy', 'placement', 'max_replicas_per_node'], 'int'],
      [['deploy', 'resources', 'limits', 'pids'], 'int'],
      [['ports', '[]', 'target'], 'int'],
      [['ports', '[]', 'published'], 'int'],
      [['ulimits', '*'], 'int'],
      [['ulimits', '*', 'hard'], 'int'],
      [['ulimits', '*', 'soft'], 'int'],
      [['privileged'], 'bool'],
      [['oom_score_adj'], 'int'],
      [['read_only'], 'bool'],
      [['stdin_open'], 'bool'],
      [['tty'], 'bool'],
      [['init'], 'bool'],
      [['volumes', '[]', 'read_only'], 'bool'],
      [['volumes', '[]', 'volume', 'nocopy'], 'bool'],
      [['volumes', '[]', 'tmpfs', 'mode'], 'int'],
    ] as Array<[string[], Cast]>
  ).map(([path, cast]): [string[], Cast] => [['services', '*', ...path], cast]),
  [['networks', '*', 'external'], 'bool'],
  [['networks', '*', 'internal'], 'bool'],
  [['networks', '*', 'attachable'], 'bool'],
  [['volumes', '*', 'external'], 'bool'],
  [['secrets', '*', 'external'], 'bool'],
  [['configs', '*', 'external'], 'bool'],
];

export function castAt(segments: string[]): Cast | undefined {
  for (const [pattern, cast] of CASTS) {
    if (pattern.length === segments.length && pattern.every((p, i) => p === '*' || p === segments[i])) return cast;
  }
  return undefined;
}

function cast(value: string, kind: Cast): ComposeValue {
  switch (kind) {
    case 'int':
      // strconv.Atoi: an optional sign and decimal digits
      return /^[+-]?\d+$/.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : value;
    case 'float': {
      const n = Number(value);
      return value.trim() !== '' && Number.isFinite(n) ? n : value;
    }
    case 'bool':
      // the CLI's toBoolean (YAML 1.1 booleans)
      switch (value.toLowerCase()) {
        case 'y':
        case 'yes':
        case 'true':
        case 'on':
          return true;
        case 'n':
        case 'no':
        case 'false':
        case 'off':
          return false;
        default:
          return value;
      }
  }
}

/**
 * Interpolates every string value of the document (never a key), casting the values listed in
 * CASTS. Every failing value is reported with its path (`services.web.image: required variable
 * TAG is missing a value: set TAG`); names used without a value are added to `warnings` the way
 * compose words it. The result is a new tree: aliased (shared) parts of the parsed YAML are copied,
 * within MAX_INTERPOLATED_CHARS and MAX_VALUES.
 */
export function interpolate(doc: ComposeMap, lookup: Lookup, warnings: string[]): ComposeMap {
  const problems = new Problems();
  const unset = new Set<string>();
  const budget = { chars: 0, values: 0 };
  const walk = (value: ComposeValue, path: string, segments: string[]): ComposeValue => {
    if (++budget.values > MAX_VALUES) throw new BudgetError(`the document holds more than ${MAX_VALUES} values once its aliases are expanded`);
    if (typeof value === 'string') {
      let out = value;
      try {
        const result = substitute(value, lookup);
        out = result.value;
        for (const name of result.unset) unset.add(name);
      } catch (error) {
        problems.add(path, error instanceof Error ? error.message : String(error));
      }
      budget.chars += out.length;
      if (budget.chars > MAX_INTERPOLATED_CHARS) throw new BudgetError(`the interpolated document is larger than ${MAX_INTERPOLATED_CHARS} characters`);
      const kind = castAt(segments);
      return kind ? cast(out, kind) : out;
    }
    if (Array.isArray(value)) return value.map((item, i) => walk(item, joinPath(path, i), [...segments, '[]']));
    if (value !== null && typeof value === 'object') {
      const out: ComposeMap = {};
      for (const [key, item] of Object.entries(value)) define(out, key, walk(item, joinPath(path, key), [...segments, key]));
      return out;
    }
    return value;
  };
  let result: ComposeValue;
  try {
    result = walk(doc, '', []);
  } catch (error) {
    if (error instanceof BudgetError) {
      problems.add('compose', error.message);
      problems.throwIfAny();
    }
    throw error;
  }
  problems.throwIfAny();
  for (const name of [...unset].sort()) warnings.push(`The ${JSON.stringify(name)} variable is not set. Defaulting to a blank string.`);
  return result as ComposeMap;
}

class BudgetError extends Error {}

/** Sets an own property even for keys like `__proto__` (the document's keys are the user's). */
export function define(target: ComposeMap, key: string, value: ComposeValue): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}
