import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { ConnectionException } from '@mikro-orm/core';

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
  /** Too many requests, connections or subscriptions for the account (or address): retry later (HTTP 429, WS close 4429). */
  RATE_LIMITED = 'RATE_LIMITED',
  /** The request ran past its deadline (HTTP 503); what it was waiting for was abandoned. */
  TIMEOUT = 'TIMEOUT',
  /** The database (or another backing service) cannot be reached: retry later. */
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

const UNAVAILABLE_MESSAGE = 'The service is temporarily unavailable; try again later';

export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
  }
  get code(): ErrorCode {
    return this.extensions.code as ErrorCode;
  }
}

export const unauthenticated = (message = 'A valid bearer token is required') => new AppError(ErrorCode.UNAUTHENTICATED, message);
export const forbidden = (permission: string) => new AppError(ErrorCode.FORBIDDEN, `This action needs the permission "${permission}"`, { permission });
export const notFound = (what: string, id?: string) => new AppError(ErrorCode.NOT_FOUND, id ? `${what} ${shown(id, '')} was not found` : `${what} was not found`);
export const badInput = (field: string, message: string) => new AppError(ErrorCode.BAD_USER_INPUT, `${field}: ${message}`, { field });
export const conflict = (message: string, extensions: Record<string, unknown> = {}) => new AppError(ErrorCode.CONFLICT, message, extensions);
export const serviceUnavailable = () => new AppError(ErrorCode.SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE);
export const tooComplex = (message: string, extensions: Record<string, unknown> = {}) => new AppError(ErrorCode.QUERY_TOO_COMPLEX, message, extensions);

/** User input longer than this is shown in messages by its length only. */
export const MAX_SHOWN_INPUT = 100;
/** Longest message a client gets; anything longer is cut. */
export const MAX_MESSAGE_LENGTH = 1000;
/** C0 and C1 control characters: text carrying them is never echoed, and never stored as a name. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * How a user-supplied value may appear in a message: as is (or quoted) when short and printable,
 * else only its length: a 1 MB id is never echoed.
 */
export function shown(value: string, quote = '"'): string {
  return value.length <= MAX_SHOWN_INPUT && !CONTROL_CHARS.test(value) ? `${quote}${value}${quote}` : `(${value.length} characters)`;
}

const SUGGESTION = / ?Did you mean .*\?$/;
/** Codes of our own errors and of graphql-js / Apollo request errors: their messages are for the client. */
const KNOWN_CODES = new Set<string>([...Object.values(ErrorCode), 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'OPERATION_RESOLUTION_FAILURE']);
const INTERNAL_MESSAGE = 'Internal server error';
/** graphql-js refusals of client input that Apollo leaves without a code (e.g. more than 50 invalid variable values). */
const GRAPHQL_INPUT_ERRORS = new Set(['Too many errors processing variables, error limit reached. Execution aborted.', 'Too many validation errors, error limit reached. Validation aborted.']);

/**
 * One error formatter for HTTP and WebSocket, in every mode: known errors keep their code and
 * their message (values the client sent are dropped or shortened, never a stack trace); anything
 * else is INTERNAL_SERVER_ERROR "Internal server error" (logged server-side by the caller), except
 * a lost database or Redis connection, which is SERVICE_UNAVAILABLE with a fixed message.
 * Field suggestions ("Did you mean …?") are removed in production.
 * `error` is the error as thrown (Apollo's second formatError argument, or the GraphQLError on WS).
 */
export function formatError(formatted: GraphQLFormattedError, production: boolean, error?: unknown): GraphQLFormattedError {
  const where = { locations: formatted.locations, path: formatted.path };
  const code = (formatted.extensions?.code as string | undefined) ?? undefined;
  // class-validator failures from type-graphql's validate
  const validationErrors = formatted.extensions?.validationErrors as Array<{ property: string; constraints?: Record<string, string>; children?: unknown[] }> | undefined;
  if (validationErrors && validationErrors.length > 0) {
    const first = firstConstraint(validationErrors);
    return { message: boundedMessage(`${first.field}: ${first.message}`), ...where, extensions: { code: ErrorCode.BAD_USER_INPUT, field: first.field } };
  }
  if (code && KNOWN_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
    const { stacktrace: _stack, exception: _exception, ...rest } = (formatted.extensions ?? {}) as Record<string, unknown>;
    const safe = boundedMessage(withoutInputValues(formatted.message));
    // extension texts (dockerMessage, reason, …) are bounded like messages
    const extensions = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, typeof v === 'string' ? boundedMessage(v) : v]));
    return { ...formatted, message: production ? safe.replace(SUGGESTION, '') : safe, extensions };
  }
  if (GRAPHQL_INPUT_ERRORS.has(formatted.message) && !(error as GraphQLError | undefined)?.originalError) {
    return { message: formatted.message, ...where, extensions: { code: ErrorCode.BAD_USER_INPUT } };
  }
  if (isServiceUnavailable(error)) return { message: UNAVAILABLE_MESSAGE, ...where, extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } };
  return { message: INTERNAL_MESSAGE, ...where, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
}

/** Caps a message and replaces every quoted value longer than MAX_SHOWN_INPUT by its length (one linear pass). */
export function boundedMessage(message: string): string {
  let out = '';
  let from = 0;
  while (out.length <= MAX_MESSAGE_LENGTH) {
    const open = message.indexOf('"', from);
    if (open < 0) break;
    let close = open + 1;
    while (close < message.length && message[close] !== '"') close += message[close] === '\\' ? 2 : 1;
    if (close >= message.length) break;
    const inner = close - open - 1;
    out += message.slice(from, open) + (inner > MAX_SHOWN_INPUT ? `(${inner} characters)` : message.slice(open, close + 1));
    from = close + 1;
  }
  out += message.slice(from, from + MAX_MESSAGE_LENGTH + 1);
  return out.length > MAX_MESSAGE_LENGTH ? `${out.slice(0, MAX_MESSAGE_LENGTH)}…` : out;
}

/**
 * PostgreSQL SQLSTATE classes of a lost or refused connection (08), resources (53), shutdown
 * (57P), and a statement cancelled by statement_timeout (57014).
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P|57014$)/;
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const UNAVAILABLE_TEXT = /Connection terminated|Timeout acquiring a connection|Connection is closed|connection timeout|Client has encountered a connection error/i;

/** Whether an error (or the error it wraps) says the database or Redis cannot be reached. */
export function isServiceUnavailable(error: unknown): boolean {
  // graphql-js wraps what it catches (originalError; thrownValue for values that are not Errors of its realm)
  const inner = (e: object) => (e as { originalError?: unknown }).originalError ?? (e as { thrownValue?: unknown }).thrownValue ?? (e as { cause?: unknown }).cause;
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 5; e = inner(e), depth++) {
    if (e instanceof AppError) return false;
    if (e instanceof ConnectionException) return true;
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code))) return true;
    if (name === 'KnexTimeoutError' || name === 'MaxRetriesPerRequestError') return true;
    if (typeof message === 'string' && UNAVAILABLE_TEXT.test(message)) return true;
  }
  return false;
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
