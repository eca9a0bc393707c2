export const REDACTED = '[redacted]';

/**
 * Keys named like a secret, wherever they appear (any depth, any casing): their values are
 * replaced whole. A pattern, not a list: "dbPassword", "NPM_TOKEN", "tlsCredentials",
 * "registryAuth", "privateKey", "unlockKey", "joinToken" are all caught.
 */
export const SECRET_KEY = /(pass(word|phrase|wd)?|secret|token|key|credential|auth|private|cert|cookie|session|signature)/i;
/** Exact keys whose values are secrets although the name does not say so (CA, secret and config data). */
const SECRET_EXACT_KEYS = /^(ca|value|data|secretValue)$/i;
/** Maps whose every value is redacted (keys kept): build args and volume driver options carry credentials and host paths. */
const VALUE_MAP_KEYS = /^(buildArgs|driverOpts)$/i;
/** Argument vectors: the program is kept, its arguments redacted (`sh -c '<secret>'`). */
const ARGV_KEYS = /^(command|cmd|args|entrypoint|test)$/i;
/** NAME=value lists: names kept, values redacted. */
const ENV_KEYS = /^env$/i;
/** Large blobs: kept out of audit rows, replaced by their size. */
const BLOB_KEYS = /^(contextTarBase64)$/;
/**
 * The whole userinfo of a URL (`scheme://user:password@`, `scheme://token@`), up to the last `@`
 * of the word: a token may stand alone as the user, and a password may hold `/` or `@`.
 * A path with an `@` is over-redacted rather than a password under-redacted.
 */
export const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)\S*@/gi;
/** URL_USERINFO matched by hand: as a regular expression it backtracks quadratically (`"@" + "a.".repeat(n)`). */
export function replaceUserinfo(value: string, replacement: (scheme: string) => string): string {
  if (!value.includes('://')) return value;
  const n = value.length;
  const isSpace = (c: string) => /\s/.test(c);
  const isWord = (c: string | undefined) => c !== undefined && /\w/.test(c);
  const isScheme = (c: string) => /[a-z0-9+.-]/i.test(c);
  // for each position: where its run of non-blanks ends, and the last "@" in the run from there
  const runEnd = new Int32Array(n + 1);
  const lastAt = new Int32Array(n + 1).fill(-1);
  runEnd[n] = n;
  for (let i = n - 1; i >= 0; i--) {
    if (isSpace(value[i])) {
      runEnd[i] = i;
      lastAt[i] = -1;
    } else {
      runEnd[i] = runEnd[i + 1];
      lastAt[i] = value[i] === '@' && lastAt[i + 1] === -1 ? i : lastAt[i + 1];
    }
  }
  let out = '';
  let at = 0;
  for (let i = value.indexOf('://'); i >= 0; i = value.indexOf('://', Math.max(i + 1, at))) {
    if (i < at) continue;
    let b = i;
    while (b > at && isScheme(value[b - 1])) b--;
    // the leftmost start of a scheme: a letter at a word boundary (\b[a-z])
    let p = -1;
    for (let q = b; q < i; q++) {
      if (/[a-z]/i.test(value[q]) && (q === 0 || !isWord(value[q - 1]))) {
        p = q;
        break;
      }
    }
    const j = i + 3 < n && !isSpace(value[i + 3]) ? lastAt[i + 3] : -1;
    if (p < 0 || j < 0) continue;
    out += value.slice(at, p) + replacement(value.slice(p, i + 3)) + '@';
    at = j + 1;
  }
  return out + value.slice(at);
}
/** A program name kept from an argument vector; anything else (`PGPASSWORD=x psql`) is redacted too. */
const PROGRAM = /^[\w./+-]{1,200}$/;
const MAX_DEPTH = 8;

/**
 * Deep copy of an operation's input (or a log object) with secrets replaced by "[redacted]":
 * values under keys named like a secret, every value of buildArgs and driverOpts, the arguments of
 * commands (argv[0] kept), environment values (names kept), passwords in URLs. Labels, names and
 * other settings stay readable. Errors become plain objects redacted the same way; dates pass.
 */
export function redact(input: unknown, depth = 0): unknown {
  if (typeof input === 'string') return redactString(input);
  if (input instanceof Error) return redactError(input, depth);
  if (input === null || typeof input !== 'object' || input instanceof Date || Buffer.isBuffer(input)) return input;
  if (depth > MAX_DEPTH) return REDACTED;
  if (Array.isArray(input)) return input.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
    if (v === undefined) continue;
    out[k] = redactEntry(k, v, depth);
  }
  return out;
}

function redactEntry(key: string, value: unknown, depth: number): unknown {
  if (value === null) return null;
  if (SECRET_KEY.test(key) || SECRET_EXACT_KEYS.test(key)) return REDACTED;
  if (BLOB_KEYS.test(key)) return typeof value === 'string' ? `[${Math.floor((value.length * 3) / 4)} bytes]` : REDACTED;
  if (VALUE_MAP_KEYS.test(key)) {
    return typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.keys(value as object).map((k) => [k, REDACTED])) : REDACTED;
  }
  if (ARGV_KEYS.test(key) && Array.isArray(value)) return value.map((arg, i) => (i === 0 && typeof arg === 'string' && PROGRAM.test(arg) ? arg : REDACTED));
  if (ENV_KEYS.test(key) && Array.isArray(value)) {
    return value.map((e) => (typeof e !== 'string' ? REDACTED : e.includes('=') ? `${e.slice(0, e.indexOf('='))}=${REDACTED}` : e));
  }
  return redact(value, depth + 1);
}

function redactString(value: string): string {
  return value.includes('@') ? replaceUserinfo(value, (scheme) => `${scheme}${REDACTED}`) : value;
}

/**
 * An error as a plain object: its message and stack as strings (URL credentials redacted) and its
 * own fields (docker-modem's `json`, a driver's `parameters`, …) through the same redaction.
 */
function redactError(err: Error, depth: number): Record<string, unknown> {
  const own = depth > MAX_DEPTH ? {} : (redact({ ...err }, depth + 1) as Record<string, unknown>);
  return { ...own, type: err.name, message: redactString(err.message), ...(err.stack ? { stack: redactString(err.stack) } : {}) };
}
