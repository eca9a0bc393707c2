import { defaultFieldResolver, GraphQLArgument, GraphQLFieldResolver, GraphQLInputType, GraphQLSchema, isInputObjectType, isListType, isNonNullType, isObjectType, isScalarType } from 'graphql';
import { badInput, shown } from '../kernel/errors';

/** Bounds every argument of every field is held to, whatever its resolver. */
export const INPUT_LIMITS = {
  /** Items of any list argument (the largest legitimate list, env or command, allows 1000). */
  maxListItems: 1000,
  /** JSONObject inputs (labels, buildArgs, driverOpts, …): Docker wants flat string maps. */
  maxMapKeys: 100,
  maxMapKeyLength: 255,
  maxMapValueLength: 4096,
} as const;

const JSON_MAP_SCALARS = new Set(['JSONObject']);

/**
 * Checks (and normalises) the coerced arguments of a field before its resolver or subscribe runs:
 * - no string anywhere (input fields, list items, JSON keys and values) holds a NUL character or a
 *   lone UTF-16 surrogate: PostgreSQL text and jsonb cannot store them, Docker names and labels neither;
 * - no list has more than maxListItems items;
 * - JSONObject inputs are flat maps of bounded size whose values are strings, numbers or booleans;
 *   numbers and booleans become strings (what Docker expects).
 * Refusals are BAD_USER_INPUT naming the argument path (e.g. "input.labels", "filter.name").
 * Returns `args` itself when nothing needed normalising.
 */
export function checkArguments(defs: readonly GraphQLArgument[], args: Record<string, unknown>): Record<string, unknown> {
  let out = args;
  for (const def of defs) {
    const value = args[def.name];
    if (value === undefined || value === null) continue;
    const checked = checkValue(def.type, value, def.name);
    if (checked !== value) out = { ...out, [def.name]: checked };
  }
  return out;
}

function checkValue(type: GraphQLInputType, value: unknown, path: string): unknown {
  if (value === null || value === undefined) return value;
  if (isNonNullType(type)) return checkValue(type.ofType, value, path);
  if (isListType(type)) {
    if (!Array.isArray(value)) return checkValue(type.ofType, value, path);
    if (value.length > INPUT_LIMITS.maxListItems) throw badInput(path, `at most ${INPUT_LIMITS.maxListItems} items`);
    let out: unknown[] | undefined;
    value.forEach((item, i) => {
      const checked = checkValue(type.ofType, item, `${path}[${i}]`);
      if (checked !== item) (out ??= [...value])[i] = checked;
    });
    return out ?? value;
  }
  if (isInputObjectType(type)) {
    const record = value as Record<string, unknown>;
    let out: Record<string, unknown> | undefined;
    for (const field of Object.values(type.getFields())) {
      const item = record[field.name];
      if (item === undefined) continue;
      const checked = checkValue(field.type, item, `${path}.${field.name}`);
      if (checked !== item) (out ??= { ...record })[field.name] = checked;
    }
    return out ?? value;
  }
  if (isScalarType(type) && JSON_MAP_SCALARS.has(type.name)) return checkStringMap(value, path);
  if (typeof value === 'string') checkString(value, path);
  return value;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkString(value: string, path: string): void {
  if (value.includes('\u0000')) throw badInput(path, 'must not contain NUL (\\u0000) characters');
  if (LONE_SURROGATE.test(value)) throw badInput(path, 'must be well-formed Unicode (no lone surrogates)');
}

function checkStringMap(value: unknown, path: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badInput(path, 'must be an object of strings');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > INPUT_LIMITS.maxMapKeys) throw badInput(path, `at most ${INPUT_LIMITS.maxMapKeys} keys`);
  let normalised = false;
  const out: Record<string, string> = {};
  for (const [key, item] of entries) {
    if (key.length === 0 || key.length > INPUT_LIMITS.maxMapKeyLength) throw badInput(path, `keys must be 1–${INPUT_LIMITS.maxMapKeyLength} characters`);
    checkString(key, path);
    const itemPath = `${path}.${shown(key, '')}`;
    if (typeof item === 'string') {
      if (item.length > INPUT_LIMITS.maxMapValueLength) throw badInput(itemPath, `must be at most ${INPUT_LIMITS.maxMapValueLength} characters`);
      checkString(item, itemPath);
      out[key] = item;
    } else if ((typeof item === 'number' && Number.isFinite(item)) || typeof item === 'boolean') {
      out[key] = String(item);
      normalised = true;
    } else {
      throw badInput(itemPath, 'must be a string, a number or a boolean');
    }
  }
  return normalised ? out : (value as Record<string, string>);
}

/**
 * Wraps the resolver (and, for subscriptions, the subscribe function) of every field that takes
 * arguments so checkArguments runs first: one edge check for HTTP and WebSocket, queries,
 * mutations, subscriptions and nested fields alike.
 */
export function guardArguments(schema: GraphQLSchema): GraphQLSchema {
  const subscriptionType = schema.getSubscriptionType();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.args.length === 0) continue;
      const guard =
        <S, C>(fn: GraphQLFieldResolver<S, C>): GraphQLFieldResolver<S, C> =>
        (source, args, context, info) =>
          fn(source, checkArguments(field.args, args), context, info);
      if (type === subscriptionType && field.subscribe) field.subscribe = guard(field.subscribe);
      else field.resolve = guard(field.resolve ?? defaultFieldResolver);
    }
  }
  return schema;
}
