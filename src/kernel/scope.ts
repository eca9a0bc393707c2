import type { EntityManager } from '@mikro-orm/postgresql';
import { forbidden } from './errors';
import type { Logger } from './logger';
import type { Allowance } from './operation';

/**
 * Who acts: a user of the account (a request carrying their token) or a system worker acting
 * for the account (a timeout, a reaper, a deployment step). Audit rows record it as
 * `user:<subject>` or `system:<worker>`.
 */
export type Actor = { kind: 'user'; userId: string; subject: string } | { kind: 'system'; worker: string };

/**
 * What every domain service method runs on, the same from a request or from a worker: the
 * account, the actor, what it may do, a unit of work scoped to the account (tenant filter on),
 * a logger carrying the request id or the worker's name, and an optional signal (a request's
 * deadline or its client leaving) that live Docker reads give up on.
 */
export interface Scope {
  readonly accountId: string;
  readonly actor: Actor;
  readonly permissions: readonly string[];
  readonly em: EntityManager;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  /** What a request's live reads and large fields may still load (src/kernel/operation.ts); none for workers. */
  readonly loadable?: Allowance;
}

/** `user:<subject>` or `system:<worker>`: the actor as audit rows store it. */
export function actorName(actor: Actor): string {
  return actor.kind === 'user' ? `user:${actor.subject}` : `system:${actor.worker}`;
}

export function can(scope: Scope, permission: string): boolean {
  return scope.permissions.includes(permission);
}

/** FORBIDDEN unless the scope holds the permission. */
export function requirePermission(scope: Scope, permission: string): void {
  if (!can(scope, permission)) throw forbidden(permission);
}
