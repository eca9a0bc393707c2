/**
 * Validation against the compose specification's JSON schema (vendored: compose-spec.json, see
 * README.md), with ajv, compiled once. Every violation is reported with a dotted path
 * (`services.web.deploy.replicas: must be integer`). Where the schema offers alternatives
 * (`oneOf`: a port is a number, a string or a mapping), the alternative the value was meant as is
 * the one reported, not every alternative's complaint.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import specSchema from './compose-spec.json';
import { castAt, define } from './interpolate';
import type { ComposeMap, ComposeValue } from './load';
import { composeError, joinPath, type Violation } from './problems';

type Schema = Record<string, unknown>;
const SCHEMA_ID = 'compose_spec.json';

interface Compiled {
  ajv: Ajv;
  validate: ValidateFunction;
  /** Each `oneOf`/`anyOf` list of the schema → its JSON pointer, to compile one alternative on its own. */
  pointers: Map<unknown, string>;
  /** Path patterns (keys, `*` any key, `[]` any item) where the schema allows `x-` extension keys. */
  extensions: Trie;
}

let compiled: Compiled | undefined;

/** Compiles the schema the first time it is needed (about 150 ms), then reuses it. */
function schema(): Compiled {
  if (compiled) return compiled;
  // the vendored file names draft-07 as "https://json-schema.org/draft-07/schema" (no "#"), which
  // ajv does not know by that spelling; ajv's default meta-schema is draft-07 itself
  const { $schema: _meta, ...body } = specSchema as Schema;
  const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
  addFormats(ajv);
  ajv.addSchema(body, SCHEMA_ID);
  const validate = ajv.getSchema(SCHEMA_ID);
  if (!validate) throw new Error('the compose schema did not compile');
  const pointers = new Map<unknown, string>();
  indexCombinators(body, '', pointers);
  compiled = { ajv, validate, pointers, extensions: extensionPaths(body) };
  return compiled;
}

/**
 * Removes the `x-` extension fields wherever the schema allows them (the top level, a service,
 * its deploy block, a network, …), as compose does before using a file: they are for anchors and
 * tools, not for Docker. Keys such as a label named `x-team` are data and stay.
 */
export function dropExtensions(doc: ComposeMap): ComposeMap {
  const trie = schema().extensions;
  const walk = (value: ComposeValue, nodes: Trie[]): ComposeValue => {
    if (Array.isArray(value)) return value.map((item) => walk(item, stepItem(nodes)));
    if (value === null || typeof value !== 'object') return value;
    const here = nodes.some((n) => n.extensions);
    const out: ComposeMap = {};
    for (const [key, item] of Object.entries(value)) {
      if (here && key.startsWith('x-')) continue;
      define(out, key, walk(item, step(nodes, key)));
    }
    return out;
  };
  return walk(doc, [trie]) as ComposeMap;
}

/** Validates the document; throws BAD_USER_INPUT listing every violation. */
export function validateCompose(doc: ComposeMap): void {
  const { validate } = schema();
  const violations: Violation[] = [];
  if (!validate(doc)) {
    for (const found of simplify(validate.errors ?? [], doc, '')) {
      // where the Docker CLI wants a number or a boolean, say that (the schema also allows a string, for interpolation)
      const kind = found.keyword === 'type' ? castAt(segmentsOf(doc, found.at)) : undefined;
      violations.push({ path: found.path, message: kind ? KIND_MESSAGE[kind] : found.message });
    }
  }
  violations.push(...typeViolations(doc));
  if (violations.length > 0) throw composeError(violations);
}

// ------------------------------------------------------------------------------------------------
// ajv's errors → one violation per problem
// ------------------------------------------------------------------------------------------------

interface Found extends Violation {
  /** ajv's keyword (`type` at the root of an alternative marks an alternative of the wrong kind). */
  keyword: string;
  /** The instance path the error is at, relative to the validated value. */
  at: string;
  expected?: string[];
}

function simplify(errors: ErrorObject[], data: ComposeValue, prefix: string): Found[] {
  const combos = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  // the outermost alternatives; at one path the last reported is the outer one (ajv reports inner first)
  const outer = combos.filter((c, i) => !combos.some((o, j) => o !== c && (under(c.instancePath, o.instancePath) || (o.instancePath === c.instancePath && j > i))));
  const out: Found[] = [];
  for (const e of errors) {
    if (outer.some((c) => e.instancePath === c.instancePath || under(e.instancePath, c.instancePath))) continue;
    out.push(describe(e, data, prefix));
  }
  for (const c of outer) out.push(...alternative(c, data, prefix));
  return out;
}

function under(path: string, parent: string): boolean {
  return path.startsWith(`${parent}/`);
}

/** Reports the alternative the value was meant as: one of the right kind (fewest errors first); if none, what kinds are allowed. */
function alternative(combo: ErrorObject, data: ComposeValue, prefix: string): Found[] {
  const { ajv, pointers } = schema();
  const path = dotted(data, combo.instancePath, prefix) || 'compose';
  const pointer = pointers.get(combo.schema);
  const value = valueAt(data, combo.instancePath);
  if (pointer === undefined || !Array.isArray(combo.schema)) return [describe(combo, data, prefix)];
  const branches = combo.schema.map((_branch, i) => {
    const check = ajv.getSchema(`${SCHEMA_ID}#${pointer}/${i}`);
    if (!check || check(value)) return [] as Found[];
    return simplify(check.errors ?? [], value as ComposeValue, path);
  });
  if (branches.some((b) => b.length === 0)) return [{ path, at: combo.instancePath, keyword: combo.keyword, message: 'matches more than one of the allowed forms' }];
  const ofKind = branches.filter((b) => !b.some((f) => f.keyword === 'type' && f.at === ''));
  if (ofKind.length > 0) return ofKind.reduce((best, b) => (b.length < best.length ? b : best)).map((f) => ({ ...f, at: combo.instancePath + f.at }));
  const kinds = [...new Set(branches.flatMap((b) => b.filter((f) => f.keyword === 'type' && f.at === '').flatMap((f) => f.expected ?? [])))];
  return [{ path, at: combo.instancePath, keyword: 'type', expected: kinds, message: `must be ${kinds.join(' or ')}` }];
}

function describe(e: ErrorObject, data: ComposeValue, prefix: string): Found {
  const raw = dotted(data, e.instancePath, prefix);
  const path = raw || 'compose';
  const base = { at: e.instancePath, keyword: e.keyword };
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type': {
      const expected = ([] as string[]).concat(params.type as string | string[]);
      return { ...base, path, expected, message: `must be ${expected.join(' or ')}` };
    }
    case 'additionalProperties':
      return { ...base, path: joinPath(raw, String(params.additionalProperty)), message: 'is not allowed here' };
    case 'required':
      return { ...base, path: joinPath(raw, String(params.missingProperty)), message: 'is required' };
    case 'enum':
      return { ...base, path, message: `must be one of: ${(params.allowedValues as unknown[]).map((v) => String(v)).join(', ')}` };
    case 'const':
      return { ...base, path, message: `must be ${JSON.stringify(params.allowedValue)}` };
    case 'pattern':
      return { ...base, path, message: `must match the pattern ${String(params.pattern)}` };
    default:
      return { ...base, path, message: e.message ?? 'is invalid' };
  }
}

/** `/services/web/ports/0` → `services.web.ports[0]` (brackets where the value is a list; '' for the top level). */
function dotted(data: ComposeValue, pointer: string, prefix: string): string {
  let path = prefix;
  let node: ComposeValue | undefined = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      path = joinPath(path, Number(key));
      node = node[Number(key)];
    } else {
      path = joinPath(path, key);
      node = node !== null && typeof node === 'object' && Object.hasOwn(node, key) ? node[key] : undefined;
    }
  }
  return path;
}

/** `/services/web/ports/0` → `['services', 'web', 'ports', '[]']` (the form CASTS patterns use). */
function segmentsOf(data: ComposeValue, pointer: string): string[] {
  const out: string[] = [];
  let node: ComposeValue | undefined = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      out.push('[]');
      node = node[Number(key)];
    } else {
      out.push(key);
      node = node !== null && typeof node === 'object' && Object.hasOwn(node, key) ? node[key] : undefined;
    }
  }
  return out;
}

function valueAt(data: ComposeValue, pointer: string): ComposeValue | undefined {
  let node: ComposeValue | undefined = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) node = node[Number(key)];
    else node = node !== null && typeof node === 'object' && Object.hasOwn(node, key) ? node[key] : undefined;
  }
  return node;
}

function indexCombinators(node: unknown, pointer: string, out: Map<unknown, string>): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    node.forEach((item, i) => indexCombinators(item, `${pointer}/${i}`, out));
    return;
  }
  for (const [key, value] of Object.entries(node)) {
    const at = `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if ((key === 'oneOf' || key === 'anyOf') && Array.isArray(value)) out.set(value, at);
    indexCombinators(value, at, out);
  }
}

// ------------------------------------------------------------------------------------------------
// What the schema lets through but Docker needs typed
// ------------------------------------------------------------------------------------------------

const KIND_MESSAGE = { int: 'must be integer', float: 'must be number', bool: 'must be boolean' } as const;

/**
 * The schema accepts strings where compose interpolates numbers and booleans (`replicas:
 * "${N}"`); after interpolation those values must have become what the Docker CLI types them as
 * (see CASTS in interpolate.ts).
 */
function typeViolations(doc: ComposeMap): Violation[] {
  const out: Violation[] = [];
  const walk = (value: ComposeValue, path: string, segments: string[]) => {
    if (typeof value === 'string') {
      const kind = castAt(segments);
      if (kind) out.push({ path, message: KIND_MESSAGE[kind] });
      return;
    }
    if (Array.isArray(value)) value.forEach((item, i) => walk(item, joinPath(path, i), [...segments, '[]']));
    else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) walk(item, joinPath(path, key), [...segments, key]);
  };
  walk(doc, '', []);
  return out;
}

// ------------------------------------------------------------------------------------------------
// Where x- keys are extensions, read from the schema
// ------------------------------------------------------------------------------------------------

interface Trie {
  extensions: boolean;
  children: Map<string, Trie>;
}

/** The trie nodes a mapping key leads to: the key itself and any-key (`*`). */
function step(nodes: Trie[], key: string): Trie[] {
  const next: Trie[] = [];
  for (const n of nodes) {
    for (const k of new Set([key, '*'])) {
      const child = n.children.get(k);
      if (child) next.push(child);
    }
  }
  return next;
}

/** The trie nodes a list item leads to. */
function stepItem(nodes: Trie[]): Trie[] {
  return nodes.flatMap((n) => n.children.get('[]') ?? []);
}

/** Walks the schema (following local $refs, once per ref on a path) and records each path whose object allows `^x-` keys. */
function extensionPaths(root: Schema): Trie {
  const trie: Trie = { extensions: false, children: new Map() };
  const at = (segments: string[]): Trie => {
    let node = trie;
    for (const s of segments) {
      let child = node.children.get(s);
      if (!child) node.children.set(s, (child = { extensions: false, children: new Map() }));
      node = child;
    }
    return node;
  };
  const visit = (node: unknown, segments: string[], refs: Set<string>) => {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || segments.length > 12) return;
    const s = node as Schema;
    if (typeof s.$ref === 'string' && s.$ref.startsWith('#/') && !refs.has(s.$ref)) {
      visit(resolve(root, s.$ref), segments, new Set([...refs, s.$ref]));
    }
    for (const key of ['oneOf', 'anyOf', 'allOf'] as const) if (Array.isArray(s[key])) for (const b of s[key] as unknown[]) visit(b, segments, refs);
    const props = s.properties as Record<string, unknown> | undefined;
    if (props) for (const [k, v] of Object.entries(props)) visit(v, [...segments, k], refs);
    const patterns = s.patternProperties as Record<string, unknown> | undefined;
    if (patterns) {
      for (const [pattern, v] of Object.entries(patterns)) {
        if (pattern === '^x-') at(segments).extensions = true;
        else visit(v, [...segments, '*'], refs);
      }
    }
    if (s.additionalProperties && typeof s.additionalProperties === 'object') visit(s.additionalProperties, [...segments, '*'], refs);
    if (s.items) for (const item of ([] as unknown[]).concat(s.items)) visit(item, [...segments, '[]'], refs);
  };
  visit(root, [], new Set());
  return trie;
}

function resolve(root: Schema, ref: string): unknown {
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = node !== null && typeof node === 'object' ? (node as Schema)[key] : undefined;
  }
  return node;
}
