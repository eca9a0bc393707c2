import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { ErrorCode } from '../kernel/errors';
import { isStorableDate } from './relay';

const MAX_DATE_TEXT = 64;
const INVALID_DATE = 'DateTimeISO must be an RFC 3339 date-time (e.g. 2024-05-01T12:00:00Z) from year 0001 to 9999';

function parseDate(value: unknown): Date {
  if (typeof value === 'string' && value.length <= MAX_DATE_TEXT) {
    let date: Date | undefined;
    try {
      date = GraphQLDateTimeISO.parseValue(value) as Date;
    } catch {
      date = undefined;
    }
    if (date && isStorableDate(date)) return date;
  }
  // The value is not repeated: it may be megabytes long.
  throw new GraphQLError(INVALID_DATE, { extensions: { code: ErrorCode.BAD_USER_INPUT } });
}

/**
 * The schema's DateTimeISO (type-graphql's Date scalar, same name and output) with input bounded
 * to what PostgreSQL's timestamptz and every client can hold: RFC 3339 strings of years 0001–9999.
 * Out-of-range or invalid dates are BAD_USER_INPUT before any resolver runs.
 */
export const DateTimeISO = new GraphQLScalarType<Date, string>({
  name: 'DateTimeISO',
  description: GraphQLDateTimeISO.description,
  serialize: (value) => GraphQLDateTimeISO.serialize(value) as string,
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});
