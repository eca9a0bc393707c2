import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { monitorEventLoopDelay, IntervalHistogram } from 'node:perf_hooks';

/**
 * Wall clock in ms with sub-ms resolution: the monotonic clock anchored at process start
 * (performance.timeOrigin is CLOCK_REALTIME then). Docker's timeNano is CLOCK_REALTIME of the
 * same kernel, so both sides read the same clock; Date.now() would round to whole ms.
 */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** How far wallMs() is from Date.now() right now (ms; drift since process start plus rounding). */
export function clockSkewMs(): number {
  const samples: number[] = [];
  for (let i = 0; i < 20; i++) {
    const a = wallMs();
    const d = Date.now();
    const b = wallMs();
    samples.push(d + 0.5 - (a + b) / 2); // Date.now() truncates: +0.5 ms centres it
  }
  samples.sort((x, y) => x - y);
  return samples[samples.length >> 1];
}

/** Docker's timeNano (a decimal string above 2^53) as ms since the epoch, µs-exact. */
export function nanoToMs(timeNano: string): number {
  const n = BigInt(timeNano);
  return Number(n / 1000n) / 1000;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(values: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.length ? sorted[sorted.length - 1] : NaN };
}

/** Event-loop delay of this process, reset per round. */
export class LoopLag {
  private readonly h: IntervalHistogram = monitorEventLoopDelay({ resolution: 5 });
  constructor() {
    this.h.enable();
  }
  reset(): void {
    this.h.reset();
  }
  /** p99 and max in ms. */
  read(): { p99: number; max: number } {
    return { p99: this.h.percentile(99) / 1e6, max: this.h.max / 1e6 };
  }
  stop(): void {
    this.h.disable();
  }
}

/** Request/response over a forked child's IPC channel. */
export interface Request {
  id: number;
  cmd: string;
  [k: string]: unknown;
}
export interface Reply {
  id: number;
  ok: boolean;
  error?: string;
  [k: string]: unknown;
}

/** Child side: answers requests with the handler's result. */
export function serve(handler: (req: Request) => Promise<Record<string, unknown> | void>): void {
  process.on('message', (msg: Request) => {
    handler(msg).then(
      (out) => process.send?.({ id: msg.id, ok: true, ...(out ?? {}) } satisfies Reply),
      (err: Error) => process.send?.({ id: msg.id, ok: false, error: err?.stack ?? String(err) } satisfies Reply),
    );
  });
  // the parent went away: do not linger
  process.on('disconnect', () => process.exit(0));
}

/** services.sh up, then its env into process.env (what test/support/global-setup.ts and env.ts do for jest). */
export function startServices(): void {
  const script = path.join(__dirname, '..', 'test', 'support', 'services.sh');
  execFileSync(script, ['up'], { stdio: ['ignore', process.stderr, 'inherit'] });
  const out = execFileSync(script, ['env'], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) process.env[m[1]] ??= m[2];
  }
  // never pick up the developer's own Docker or database
  for (const k of ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_CONTEXT', 'DATABASE_URL', 'REDIS_URL']) delete process.env[k];
}
