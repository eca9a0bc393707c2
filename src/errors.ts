import { GraphQLError, GraphQLFormattedError } from 'graphql';

/** The error codes clients can rely on (`extensions.code`). */
export enum ErrorCode {
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  CONFLICT = 'CONFLICT',
  DOCKER_UNREACHABLE = 'DOCKER_UNREACHABLE',
  DOCKER_ERROR = 'DOCKER_ERROR',
  QUOTA_EXCEEDED = 'QUOTA_EXCEEDED',
  VAULT_ERROR = 'VAULT_ERROR',
  QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
  }
  get code(): ErrorCode {
    return this.extensions.code as ErrorCode;
  }
}

export const unauthenticated = (message = 'A valid bearer token is required') =>
  new AppError(ErrorCode.UNAUTHENTICATED, message);
export const forbidden = (permission: string) =>
  new AppError(ErrorCode.FORBIDDEN, `This action needs the permission "${permission}"`, { permission });
export const notFound = (what: string, id?: string) =>
  new AppError(ErrorCode.NOT_FOUND, id ? `${what} ${id} was not found` : `${what} was not found`);
export const badInput = (field: string, message: string) =>
  new AppError(ErrorCode.BAD_USER_INPUT, `${field}: ${message}`, { field });
export const conflict = (message: string, extensions: Record<string, unknown> = {}) =>
  new AppError(ErrorCode.CONFLICT, message, extensions);
export const tooComplex = (message: string, extensions: Record<string, unknown> = {}) =>
  new AppError(ErrorCode.QUERY_TOO_COMPLEX, message, extensions);

const SUGGESTION = / ?Did you mean .*\?$/;
const CLIENT_CODES = new Set<string>([ErrorCode.BAD_USER_INPUT, 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_REQUEST']);
const KNOWN_CODES = new Set<string>([...Object.values(ErrorCode), 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'OPERATION_RESOLUTION_FAILURE']);

/**
 * One error formatter for HTTP and WebSocket: known errors keep their message and code;
 * anything else becomes INTERNAL_SERVER_ERROR with no detail in production.
 * Field suggestions ("Did you mean …?") are removed in production.
 */
export function formatError(formatted: GraphQLFormattedError, production: boolean): GraphQLFormattedError {
  const code = (formatted.extensions?.code as string | undefined) ?? undefined;
  // class-validator failures from type-graphql's validate
  const validationErrors = formatted.extensions?.validationErrors as Array<{ property: string; constraints?: Record<string, string>; children?: unknown[] }> | undefined;
  if (validationErrors && validationErrors.length > 0) {
    const first = firstConstraint(validationErrors);
    return {
      message: `${first.field}: ${first.message}`,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.BAD_USER_INPUT, field: first.field },
    };
  }
  if (code && KNOWN_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
    const { stacktrace, ...rest } = (formatted.extensions ?? {}) as Record<string, unknown>;
    const safe = withoutInputValues(formatted.message);
    const message = production ? safe.replace(SUGGESTION, '') : safe;
    // Client errors carry no stack trace even in development: graphql-js puts submitted values in them.
    const keepStack = !production && stacktrace && !CLIENT_CODES.has(code);
    return { ...formatted, message, extensions: keepStack ? { ...rest, stacktrace } : rest };
  }
  if (production) {
    return { message: 'Internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
  }
  return { ...formatted, extensions: { ...formatted.extensions, code: code ?? ErrorCode.INTERNAL_SERVER_ERROR } };
}

const VARIABLE_VALUE = /^(Variable "\$[^"]+") got invalid value [\s\S]*$/;
const AT_PATH = / at "([^"]+)"; /g;
const VALUE_TAIL = /(cannot represent[^:]*?value)(: [\s\S]*)$|(, found) [\s\S]*$/;

/**
 * graphql-js echoes the submitted value in input coercion errors ("Variable "$input" got invalid
 * value { tlsCredentials: { key: "-----BEGIN…" } }; …"), which would send secrets back and into
 * logs. Keep the variable, the path and the reason; drop the values.
 */
export function withoutInputValues(message: string): string {
  const m = VARIABLE_VALUE.exec(message);
  let out = message;
  if (m) {
    const paths = [...message.matchAll(AT_PATH)];
    const at = paths.length ? ` at "${paths[paths.length - 1][1]}"` : '';
    const reason = message.slice(message.lastIndexOf('; ') + 2);
    out = `${m[1]} got an invalid value${at}; ${reason}`;
  }
  return out.replace(VALUE_TAIL, (_all, represent: string | undefined, _tail, found: string | undefined) => (represent ? represent : found ? ', found an invalid value' : ''));
}

function firstConstraint(errors: Array<{ property: string; constraints?: Record<string, string>; children?: unknown[] }>, prefix = ''): { field: string; message: string } {
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints && Object.keys(e.constraints).length > 0) {
      return { field, message: Object.values(e.constraints)[0] };
    }
    if (e.children && e.children.length > 0) {
      return firstConstraint(e.children as typeof errors, field);
    }
  }
  return { field: 'input', message: 'is invalid' };
}
