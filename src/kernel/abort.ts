import { AppError, ErrorCode } from './errors';

/**
 * Settles with `promise`, or rejects with the signal's reason once it aborts (the request's
 * deadline passed, or its client left): the caller stops waiting for a live Docker read, which
 * then finishes unobserved.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** The error a request gets when it runs past its deadline. */
export const timedOut = (ms: number) => new AppError(ErrorCode.TIMEOUT, `The request took longer than its deadline of ${ms} ms and was abandoned`, { limit: 'deadline', max: ms });

/** Settles with `work`, or rejects (ETIMEDOUT) once `ms` passed: the caller stops waiting, `work` finishes unobserved. */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(Object.assign(new Error(`timed out after ${ms} ms`), { code: 'ETIMEDOUT' })), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
