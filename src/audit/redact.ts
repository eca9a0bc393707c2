export const REDACTED = '[redacted]';

/** Keys whose values are secrets wherever they appear in an input. */
const SECRET_KEYS = /^(tlsCredentials|ca|cert|key|password|passphrase|token|secret|secretValue|value|data|auth|authconfig|registryAuth|identitytoken|privateKey|joinToken|unlockKey)$/i;
/** Large blobs: kept out of audit rows, replaced by their size. */
const BLOB_KEYS = /^(contextTarBase64)$/;

/**
 * Deep copy of an operation's input with secrets replaced by "[redacted]". Environment
 * entries ("NAME=value") keep their names only: values of env vars are often credentials.
 */
export function redact(input: unknown, depth = 0): unknown {
  if (depth > 8) return REDACTED;
  if (Array.isArray(input)) return input.map((v) => redact(v, depth + 1));
  if (input === null || typeof input !== 'object' || input instanceof Date) return input;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
    if (v === undefined) continue;
    if (SECRET_KEYS.test(k)) out[k] = REDACTED;
    else if (BLOB_KEYS.test(k)) out[k] = typeof v === 'string' ? `[${Math.floor((v.length * 3) / 4)} bytes]` : REDACTED;
    else if (/^env$/i.test(k) && Array.isArray(v)) out[k] = v.map((e) => (typeof e === 'string' && e.includes('=') ? `${e.slice(0, e.indexOf('='))}=${REDACTED}` : e));
    else out[k] = redact(v, depth + 1);
  }
  return out;
}
