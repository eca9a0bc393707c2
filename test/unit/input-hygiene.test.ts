import { buildSchema, GraphQLError, graphqlSync } from 'graphql';
import { ConnectionException } from '@mikro-orm/core';
import { AppError, boundedMessage, ErrorCode, formatError, isServiceUnavailable, shown } from '../../src/kernel/errors';
import { decodeCursor, encodeCursor, fromGlobalId, toGlobalId } from '../../src/graphql/relay';
import { guardArguments, INPUT_LIMITS } from '../../src/graphql/input-guard';
import { DateTimeISO } from '../../src/graphql/scalars';
import { principalFromClaims } from '../../src/server/auth';
import { parseDurationSeconds } from '../../src/kernel/config';

const ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

describe('cursors and global ids', () => {
  it('round-trips cursors of each kind', () => {
    const d = new Date('2024-05-01T12:00:00.123Z');
    expect(decodeCursor(encodeCursor({ value: d, id: ID }), 'date')).toEqual({ value: d, id: ID });
    expect(decodeCursor(encodeCursor({ value: 'web-1', id: ID }), 'string')).toEqual({ value: 'web-1', id: ID });
    expect(decodeCursor(encodeCursor({ value: 42, id: ID }), 'number')).toEqual({ value: 42, id: ID });
  });

  it.each([
    ['random base64', b64('hello world'), 'date'],
    ['padding and junk', `${encodeCursor({ value: 'a', id: ID })}==`, 'string'],
    ['not base64url', '!!!', 'string'],
    ['a string where a date is ordered', encodeCursor({ value: 'abc', id: ID }), 'date'],
    ['an invalid date', b64(JSON.stringify(['D:garbage', ID])), 'date'],
    ['a date before year 1', b64(JSON.stringify(['D:-200000-01-01T00:00:00.000Z', ID])), 'date'],
    ['year 10000', b64(JSON.stringify(['D:+010000-01-01T00:00:00.000Z', ID])), 'date'],
    ['a number where a string is ordered', encodeCursor({ value: 1, id: ID }), 'string'],
    ['1e999', b64(`[1e999,"${ID}"]`), 'number'],
    ['NUL in the value', encodeCursor({ value: 'a\u0000', id: ID }), 'string'],
    ['not a uuid', b64(JSON.stringify(['a', 'x'])), 'string'],
    ['three items', b64(JSON.stringify(['a', ID, 1])), 'string'],
    ['a global id', toGlobalId('DockerHost', ID), 'string'],
    ['too long', encodeCursor({ value: 'a'.repeat(5000), id: ID }), 'string'],
  ] as const)('refuses a forged cursor: %s', (_name, cursor, kind) => {
    expect(() => decodeCursor(cursor, kind, 'after')).toThrow(expect.objectContaining({ message: 'after: is not a valid cursor', extensions: { field: 'after', code: 'BAD_USER_INPUT' } }));
  });

  it('never echoes a long invalid id', () => {
    const huge = 'A'.repeat(1_000_000);
    expect(() => fromGlobalId(huge)).toThrow('id: (1000000 characters) is not a valid id');
    expect(() => fromGlobalId('bad\u0000id')).toThrow('id: (6 characters) is not a valid id');
    expect(() => fromGlobalId('nope')).toThrow('id: "nope" is not a valid id');
    expect(fromGlobalId(toGlobalId('DockerHost', ID))).toEqual({ type: 'DockerHost', id: ID });
  });
});

describe('DateTimeISO input', () => {
  it('accepts RFC 3339 dates of years 1–9999 and refuses others without echoing them', () => {
    expect(DateTimeISO.parseValue('2024-05-01T12:00:00Z')).toEqual(new Date('2024-05-01T12:00:00Z'));
    expect(DateTimeISO.parseValue('0001-01-01T00:00:00Z')).toEqual(new Date('0001-01-01T00:00:00Z'));
    for (const bad of ['10000-01-01T00:00:00Z', '0000-01-01T00:00:00Z', '2024-02-30T00:00:00Z', 'x'.repeat(1 << 20), 12, '']) {
      expect(() => DateTimeISO.parseValue(bad)).toThrow(/^DateTimeISO must be an RFC 3339 date-time/);
    }
  });
});

describe('argument guard', () => {
  let seen: unknown;
  // guardArguments wraps the resolvers present when it runs: install a probe resolver first
  const guarded = (() => {
    const s = buildSchema(`
      scalar JSONObject
      input F { name: String, tags: [String!], nested: G }
      input G { deep: String }
      type Query { q(filter: F, labels: JSONObject, ids: [ID!]): String }
    `);
    s.getQueryType()!.getFields().q.resolve = (_src, args) => {
      seen = args;
      return 'ok';
    };
    return guardArguments(s);
  })();
  const run = (variables: Record<string, unknown>) =>
    graphqlSync({ schema: guarded, source: 'query($f: F, $l: JSONObject, $i: [ID!]) { q(filter: $f, labels: $l, ids: $i) }', variableValues: variables });
  const errorOf = (variables: Record<string, unknown>) => {
    const res = run(variables);
    expect(res.errors).toHaveLength(1);
    return { message: res.errors![0].message, ...res.errors![0].extensions };
  };

  it('refuses NUL and lone surrogates anywhere, naming the field', () => {
    expect(errorOf({ f: { name: 'a\u0000b' } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.name' });
    expect(errorOf({ f: { tags: ['ok', 'x\u0000'] } })).toMatchObject({ field: 'filter.tags[1]' });
    expect(errorOf({ f: { nested: { deep: '\ud800' } } })).toMatchObject({ field: 'filter.nested.deep', message: expect.stringMatching(/lone surrogates/) });
    expect(errorOf({ i: ['\u0000'] })).toMatchObject({ field: 'ids[0]' });
    expect(errorOf({ l: { 'k\u0000': 'v' } })).toMatchObject({ field: 'labels' });
    expect(errorOf({ l: { k: 'v\u0000' } })).toMatchObject({ field: 'labels.k' });
  });

  it('bounds lists and JSON maps and wants flat scalar values', () => {
    expect(errorOf({ i: Array.from({ length: INPUT_LIMITS.maxListItems + 1 }, () => 'x') })).toMatchObject({ field: 'ids', message: 'ids: at most 1000 items' });
    expect(errorOf({ l: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, 'v'])) })).toMatchObject({ field: 'labels' });
    expect(errorOf({ l: { ['k'.repeat(256)]: 'v' } })).toMatchObject({ field: 'labels' });
    expect(errorOf({ l: { k: 'v'.repeat(4097) } })).toMatchObject({ field: 'labels.k' });
    expect(errorOf({ l: { k: { deep: 'v' } } })).toMatchObject({ field: 'labels.k', message: 'labels.k: must be a string, a number or a boolean' });
    expect(errorOf({ l: { k: null } })).toMatchObject({ field: 'labels.k' });
    expect(errorOf({ l: { k: ['v'] } })).toMatchObject({ field: 'labels.k' });
  });

  it('passes good input through and turns numbers and booleans of maps into strings', () => {
    expect(run({ f: { name: 'web', tags: ['a'] }, l: { team: 'core', n: 1, on: true }, i: ['x'] }).errors).toBeUndefined();
    expect(seen).toMatchObject({ filter: { name: 'web', tags: ['a'] }, labels: { team: 'core', n: '1', on: 'true' }, ids: ['x'] });
  });
});

describe('formatError', () => {
  const f = (message: string, extensions: Record<string, unknown> = {}, error?: unknown, production = false) => formatError({ message, extensions }, production, error);

  it('masks unknown errors in every mode, with no stack trace or SQL', () => {
    for (const production of [false, true]) {
      expect(f("select * from accounts where id = '…'", { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['DriverException: …'] }, new Error('x'), production)).toEqual({
        message: 'Internal server error',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
      expect(f('Something', {}, undefined, production).extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    }
  });

  it("gives graphql-js's own input refusals a client code", () => {
    const message = 'Too many errors processing variables, error limit reached. Execution aborted.';
    expect(f(message, { code: 'INTERNAL_SERVER_ERROR' }, new GraphQLError(message))).toEqual({ message, extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('drops stack traces of known errors in development too', () => {
    expect(f('Host x was not found', { code: 'NOT_FOUND', stacktrace: ['at x'] })).toEqual({ message: 'Host x was not found', extensions: { code: 'NOT_FOUND' } });
  });

  it('maps lost database connections to SERVICE_UNAVAILABLE with a fixed message', () => {
    const lost = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const wrapped = new GraphQLError('connect ECONNREFUSED 127.0.0.1:5432', { originalError: lost });
    expect(f('connect ECONNREFUSED 127.0.0.1:5432', { code: 'INTERNAL_SERVER_ERROR' }, wrapped)).toEqual({
      message: 'The service is temporarily unavailable; try again later',
      extensions: { code: ErrorCode.SERVICE_UNAVAILABLE },
    });
    expect(isServiceUnavailable(new ConnectionException(new Error('x')))).toBe(true);
    expect(isServiceUnavailable(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    expect(isServiceUnavailable(Object.assign(new Error('Knex: Timeout acquiring a connection'), { name: 'KnexTimeoutError' }))).toBe(true);
    expect(isServiceUnavailable(Object.assign(new Error('invalid input syntax'), { code: '22P02' }))).toBe(false);
    expect(isServiceUnavailable(new AppError(ErrorCode.DOCKER_UNREACHABLE, 'connection refused'))).toBe(false);
  });

  it('never echoes long values, whoever built the message', () => {
    const long = 'x'.repeat(100_000);
    expect(f(`Value "${long}" does not exist in "EventSeverity" enum.`, { code: 'GRAPHQL_VALIDATION_FAILED' }).message).toBe('Value (100000 characters) does not exist in "EventSeverity" enum.');
    expect(boundedMessage(`no quotes ${long}`).length).toBeLessThanOrEqual(1001);
    expect(shown('short')).toBe('"short"');
    expect(shown('a\nb')).toBe('(3 characters)');
    expect(boundedMessage('Field "a" of "B" and "c\\"d"')).toBe('Field "a" of "B" and "c\\"d"');
    expect(boundedMessage(`unterminated "${long}`).length).toBeLessThanOrEqual(1001);
  });
});

describe('token claims', () => {
  const now = 1_800_000_000;
  const base = { sub: 'alice', account: 'acme', permissions: ['docker.hosts.manage'], iat: now, exp: now + 3600 };
  const max = 24 * 3600;

  it('accepts a bounded token', () => {
    expect(principalFromClaims(base, max, now)).toEqual({ subject: 'alice', account: 'acme', permissions: ['docker.hosts.manage'], expiresAt: now + 3600 });
    expect(principalFromClaims({ ...base, iat: undefined, exp: now + max }, max, now).expiresAt).toBe(now + max);
  });

  it.each([
    ['no exp', { ...base, exp: undefined }, /no expiry/],
    ['lifetime over the maximum', { ...base, exp: now + max + 1 }, /lifetime exceeds/],
    ['no iat and exp too far', { ...base, iat: undefined, exp: now + max + 60 }, /lifetime exceeds/],
    ['iat in the future', { ...base, iat: now + 60, exp: now + 120 }, /"iat"/],
    ['NUL in account', { ...base, account: 'ac\u0000me' }, /account claim/],
    ['newline in sub', { ...base, sub: 'al\nice' }, /subject/],
    ['long account', { ...base, account: 'a'.repeat(201) }, /account claim/],
    ['empty sub', { ...base, sub: '' }, /subject/],
    ['101 permissions', { ...base, permissions: Array.from({ length: 101 }, (_, i) => `p${i}`) }, /permissions/],
    ['a long permission', { ...base, permissions: ['p'.repeat(101)] }, /permissions/],
    ['a NUL permission', { ...base, permissions: ['p\u0000'] }, /permissions/],
    ['permissions not an array', { ...base, permissions: 'all' }, /permissions/],
  ])('refuses %s with UNAUTHENTICATED', (_name, claims, message) => {
    expect(() => principalFromClaims(claims as never, max, now)).toThrow(expect.objectContaining({ message: expect.stringMatching(message), extensions: { code: 'UNAUTHENTICATED' } }));
  });

  it('parses FLEETGRAPH_JWT_MAX_LIFETIME strictly', () => {
    expect(parseDurationSeconds('24h', 'X')).toBe(86400);
    expect(parseDurationSeconds('90', 'X')).toBe(90);
    expect(parseDurationSeconds('7d', 'X')).toBe(604800);
    for (const bad of ['', '0', '-1', '1w', '1.5h', 'h', '24 hours']) expect(() => parseDurationSeconds(bad, 'X')).toThrow(/X must be a duration/);
  });
});
