/**
 * The compose loader and converter: compose text in, the Engine API specs `docker stack deploy`
 * would send out. Pure: no Docker, no database. load (YAML) → interpolate → drop `x-` fields →
 * validate (compose-spec JSON schema) → convert. Every refusal is BAD_USER_INPUT naming the path,
 * raised before anything is created.
 */
import { convertStack, normalizeFilePath } from './convert';
import { interpolate } from './interpolate';
import { parseCompose } from './load';
import { composeProblem } from './problems';
import type { ConvertedStack, LoadStackInput } from './types';
import { dropExtensions, validateCompose } from './validate';

export type * from './types';
export { MAX_COMPOSE_BYTES, MAX_ALIAS_COUNT } from './load';
export { MAX_INTERPOLATED_CHARS } from './interpolate';
export { LABEL_IMAGE, LABEL_NAMESPACE, DEFAULT_NETWORK_DRIVER, MAX_CONFIG_BYTES, MAX_SECRET_BYTES, normalizeFilePath } from './convert';
export type { Violation } from './problems';

/**
 * A stack's name: lowercase letters, digits, `-` and `_`, starting with a letter or digit (the
 * compose project name rule; the CLI only refuses an empty one). Kept short so that
 * `<stack>_<service>` fits Swarm's 63 characters for a service name.
 */
export const STACK_NAME = /^[a-z0-9][a-z0-9_-]*$/;
export const MAX_STACK_NAME = 40;
/** What may be sent with a deploy besides the compose file. */
export const MAX_VARIABLES = 1000;
export const MAX_VARIABLE_BYTES = 256 * 1024;
export const MAX_FILES = 100;
export const MAX_FILES_BYTES = 8 * 1024 * 1024;

/** Checks a stack name (BAD_USER_INPUT on `name`). */
export function checkStackName(name: string): void {
  if (name.length === 0 || name.length > MAX_STACK_NAME || !STACK_NAME.test(name)) {
    throw composeProblem('name', `a stack name is 1 to ${MAX_STACK_NAME} lowercase letters, digits, "-" and "_", starting with a letter or digit`);
  }
}

/** Loads, interpolates, validates and converts a compose file for the stack `name`. */
export function loadStack(input: LoadStackInput): ConvertedStack {
  checkStackName(input.name);
  const variables = checkedVariables(input.variables ?? {});
  const envFiles = checkedFiles('envFiles', input.envFiles ?? {});
  const files = checkedFiles('files', input.files ?? {});
  checkTotal(envFiles, files);
  const lookup = (key: string) => (Object.hasOwn(variables, key) ? variables[key] : undefined);
  const warnings: string[] = [];
  const parsed = parseCompose(input.compose);
  const doc = dropExtensions(interpolate(parsed, lookup, warnings));
  validateCompose(doc);
  return convertStack({ stack: input.name, doc, lookup, envFiles, files, warnings });
}

function checkedVariables(variables: Record<string, string>): Record<string, string> {
  const keys = Object.keys(variables);
  if (keys.length > MAX_VARIABLES) throw composeProblem('variables', `at most ${MAX_VARIABLES} variables are accepted`);
  let bytes = 0;
  const out: Record<string, string> = {};
  for (const key of keys) {
    const value = variables[key];
    if (key === '' || key.includes('=') || key.includes('\u0000')) throw composeProblem(`variables.${key}`, 'a variable name is not empty and holds no "=" or NUL');
    if (typeof value !== 'string') throw composeProblem(`variables.${key}`, 'must be a string');
    bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
    Object.defineProperty(out, key, { value, enumerable: true });
  }
  if (bytes > MAX_VARIABLE_BYTES) throw composeProblem('variables', `the variables hold ${bytes} bytes; at most ${MAX_VARIABLE_BYTES} are accepted`);
  return out;
}

/** Files sent with the deploy, keyed by their normalised path (`./a.env` and `a.env` are one file). */
function checkedFiles(field: string, files: Record<string, string>): Record<string, string> {
  const keys = Object.keys(files);
  if (keys.length > MAX_FILES) throw composeProblem(field, `at most ${MAX_FILES} files are accepted`);
  const out: Record<string, string> = {};
  for (const key of keys) {
    const value = files[key];
    if (typeof value !== 'string') throw composeProblem(`${field}.${key}`, 'must be the file content as a string');
    const normal = normalizeFilePath(key);
    if (Object.hasOwn(out, normal)) throw composeProblem(`${field}.${key}`, `names the same file as another entry (${normal})`);
    Object.defineProperty(out, normal, { value, enumerable: true });
  }
  return out;
}

function checkTotal(...sets: Array<Record<string, string>>): void {
  let bytes = 0;
  for (const set of sets) for (const value of Object.values(set)) bytes += Buffer.byteLength(value);
  if (bytes > MAX_FILES_BYTES) throw composeProblem('files', `the files sent hold ${bytes} bytes; at most ${MAX_FILES_BYTES} are accepted`);
}
