import pino, { Logger } from 'pino';

/** Paths whose values never reach a log line. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
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
];

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'fleetgraph' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

export type { Logger };
