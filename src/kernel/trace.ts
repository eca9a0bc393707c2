import { performance } from 'node:perf_hooks';

/**
 * Where a Docker event is on its way to subscribers: read from the stream, handed to the store,
 * stored, published (Redis acknowledged the PUBLISH), received by a subscriber's feed (on the
 * storing replica: handed over in-process, before the acknowledgement), sent (its result written
 * to the subscribers' sockets). Benchmarks (bench/events.ts) install a sink to print the time
 * each stage adds; without one, tracing costs one comparison.
 */
export type EventStage = 'read' | 'store' | 'stored' | 'published' | 'received' | 'sent';

type Sink = (stage: EventStage, timeNano: string, atMs: number) => void;
let sink: Sink | undefined;

/** Installs (or, with undefined, removes) the process's event trace sink. */
export function setEventTrace(next: Sink | undefined): void {
  sink = next;
}

/** Records that the event with Docker time `timeNano` reached `stage` now (wall clock, sub-ms). */
export function traceEvent(stage: EventStage, timeNano: string | undefined): void {
  if (sink && timeNano) sink(stage, timeNano, performance.timeOrigin + performance.now());
}
