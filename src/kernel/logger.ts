import pino, { Logger } from 'pino';
import { redact } from './redact';

/** Paths whose values never reach a log line (pino's fast redaction, before the deep pass below). */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'token',
  '*.token',
  'password',
  '*.password',
  'tlsCredentials',
  '*.tlsCredentials',
  '*.*.tlsCredentials',
  'key',
  '*.key',
  'secret',
  '*.secret',
  'data',
  '*.data',
  'variables',
  '*.variables',
];

/**
 * Every log line goes through the audit redaction (src/audit/redact.ts) at every depth: keys named
 * like a secret, build args, driver options, command arguments and env values never reach a log,
 * wherever they sit in the logged object. Errors are logged as pino serialises them.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'fleetgraph' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { log: (object) => redact(object) as Record<string, unknown> },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

export type { Logger };
