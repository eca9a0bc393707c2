import { AsyncLocalStorage } from 'node:async_hooks';
import { abortable } from './abort';
import { tooComplex } from './errors';

/** Bytes a query or mutation may still load (limits.maxLoadedBytes), shared by everything it runs. */
export interface Allowance {
  left: number;
  readonly max: number;
}

export const allowance = (max: number): Allowance => ({ left: max, max });

/**
 * What bounds a live read of a query or mutation below the layers that see its Scope (the
 * engine clients' agents, src/infra/engine/client.ts): its signal (deadline, client gone) and
 * the bytes the operation may load. Entered only around the read itself (runBounded), never
 * around work that outlives the request (supervisors, streams, jobs).
 */
export interface ReadBounds {
  /** Aborts at the operation's deadline or when its client leaves: the read's Docker requests are cancelled. */
  signal?: AbortSignal;
  loadable?: Allowance;
}

const current = new AsyncLocalStorage<ReadBounds>();

/**
 * The one way a request's live Docker read runs: not started past the deadline, given up when
 * the signal aborts (its requests cancelled), its answers counted against the allowance.
 */
export async function boundedRead<T>(bounds: ReadBounds, fn: () => Promise<T>): Promise<T> {
  bounds.signal?.throwIfAborted();
  const { loadable } = bounds;
  const result = await abortable(runBounded({ signal: bounds.signal, loadable }, fn), bounds.signal);
  if (loadable && loadable.left < 0) throw loadedTooMuch(loadable.max);
  return result;
}

/** Runs `fn` (and the requests it makes) under these bounds. */
export function runBounded<T>(bounds: ReadBounds, fn: () => T): T {
  return current.run(bounds, fn);
}

/** The bounds of the read the caller runs in, if any. */
export function currentBounds(): ReadBounds | undefined {
  return current.getStore();
}

const bytesText = (n: number) => (n >= 1024 * 1024 ? `${Math.round(n / 1024 / 1024)} MiB` : n >= 1024 ? `${Math.round(n / 1024)} KiB` : `${n} bytes`);

/** The error of an operation that loaded more than limits.maxLoadedBytes. */
export const loadedTooMuch = (max: number) =>
  tooComplex(`The operation loaded more than ${bytesText(max)} (Docker answers and large stored fields); ask for fewer live or large fields per request`, {
    limit: 'loadedBytes',
    max,
  });

/** Counts `bytes` against an allowance (none: nothing to count); false once it is spent. */
export function spend(loadable: Allowance | undefined, bytes: number): boolean {
  if (!loadable) return true;
  loadable.left -= bytes;
  return loadable.left >= 0;
}

/**
 * A large stored value loaded only once its size (asked first, cheaply) is taken from the
 * operation's allowance: past it QUERY_TOO_COMPLEX, and the value is never read. Sizes are taken
 * one by one as they come back, so a page of such fields loads at most the allowance.
 */
export async function loadReserved<T>(loadable: Allowance | undefined, size: () => Promise<number>, load: () => Promise<T>): Promise<T> {
  if (loadable && !spend(loadable, await size())) throw loadedTooMuch(loadable.max);
  return load();
}
