import { AppError, ErrorCode } from '../../../kernel/errors';

/** One thing wrong with a compose file, at a dotted path (`services.web.deploy.replicas`). */
export interface Violation {
  path: string;
  message: string;
}

/** Violations listed in an error's `extensions.violations` at most; the message names the first few. */
export const MAX_VIOLATIONS = 100;
const IN_MESSAGE = 10;

/**
 * The one error every refusal of a compose file becomes: BAD_USER_INPUT whose message names each
 * problem as `path: message` (the first ten, then how many more), with `field` set to the first
 * path and the list in `extensions.violations`, so a client can point at every line at once.
 */
export function composeError(violations: Violation[]): AppError {
  const list = dedupe(violations).slice(0, MAX_VIOLATIONS);
  const shown = list.slice(0, IN_MESSAGE).map(line);
  const more = list.length > IN_MESSAGE ? ` (and ${list.length - IN_MESSAGE} more)` : '';
  const message = list.length === 1 ? shown[0] : `${list.length} problems in the compose file: ${shown.join('; ')}${more}`;
  return new AppError(ErrorCode.BAD_USER_INPUT, message, { field: list[0]?.path ?? 'compose', violations: list });
}

/** A refusal for a single path. */
export function composeProblem(path: string, message: string): AppError {
  return composeError([{ path, message }]);
}

function line(v: Violation): string {
  return v.path ? `${v.path}: ${v.message}` : v.message;
}

function dedupe(violations: Violation[]): Violation[] {
  const seen = new Set<string>();
  return violations.filter((v) => {
    const key = `${v.path}\u0000${v.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Collects the problems of one pass (conversion finds several at once) and throws them together:
 * a user fixes every undefined network in one round trip, not one per deploy.
 */
export class Problems {
  private readonly list: Violation[] = [];

  add(path: string, message: string): void {
    if (this.list.length < MAX_VIOLATIONS) this.list.push({ path, message });
  }

  get size(): number {
    return this.list.length;
  }

  /** Throws the collected problems, if any. */
  throwIfAny(): void {
    if (this.list.length > 0) throw composeError(this.list);
  }
}

/** Joins path segments the way messages show them: keys with dots, list indexes in brackets. */
export function joinPath(base: string, segment: string | number): string {
  if (typeof segment === 'number') return `${base}[${segment}]`;
  return base ? `${base}.${segment}` : segment;
}
