import type Docker from 'dockerode';
import { EVENT_LINE_MAX_BYTES, LineFramer } from './framing';

/** One event as Docker sends it, with timeNano kept exact (it exceeds Number.MAX_SAFE_INTEGER). */
export interface RawDockerEvent {
  Type: string;
  Action: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  scope?: string;
  time: number;
  timeNano: string;
}

const TIME_NANO = /"timeNano"\s*:\s*(\d+)/;
/** PostgreSQL's bigint, where timeNano is stored. */
const MAX_TIME_NANO = 9_223_372_036_854_775_807n;

/** An event's Actor as Docker documents it (an ID and string attributes), whatever the engine sent: anything else is kept as its JSON text. */
function actorOf(actor: unknown): { ID: string; Attributes: Record<string, string> } {
  const a = (actor && typeof actor === 'object' ? actor : {}) as { ID?: unknown; Attributes?: unknown };
  const attributes: Record<string, string> = {};
  if (a.Attributes && typeof a.Attributes === 'object' && !Array.isArray(a.Attributes)) {
    for (const [k, v] of Object.entries(a.Attributes)) attributes[k] = typeof v === 'string' ? v : (JSON.stringify(v) ?? '');
  }
  return { ID: typeof a.ID === 'string' ? a.ID : '', Attributes: attributes };
}

/**
 * Parses one NDJSON line; timeNano is read from the text, before JSON.parse rounds it.
 * Throws on a line that is not JSON or not shaped like an event (Type, Action, time).
 */
export function parseEventLine(line: string): RawDockerEvent | undefined {
  const trimmed = line.trim();
  if (!trimmed) return undefined;
  const parsed = JSON.parse(trimmed) as Omit<RawDockerEvent, 'timeNano'> & { timeNano?: number };
  if (typeof parsed?.Type !== 'string' || typeof parsed.Action !== 'string' || !Number.isSafeInteger(parsed.time)) throw new SyntaxError('not a Docker event');
  const nano = TIME_NANO.exec(trimmed)?.[1] ?? (BigInt(parsed.time) * 1_000_000_000n).toString();
  // stored as a bigint: a larger one could never be stored, and would hold up every event after it
  if (BigInt(nano) > MAX_TIME_NANO) throw new SyntaxError('not a Docker event: timeNano out of range');
  return { ...parsed, Actor: actorOf(parsed.Actor), scope: typeof parsed.scope === 'string' ? parsed.scope : undefined, timeNano: nano };
}

/**
 * Splits a byte stream into event lines: one chunk may hold several events or part of one.
 * Returns the complete lines; keeps the remainder (at most EVENT_LINE_MAX_BYTES) for the next
 * chunk. A longer line cannot be an event: it is dropped, counted in `skipped`, and reading
 * goes on with the next line.
 */
export class LineSplitter {
  private readonly framer: LineFramer;
  /** Over-long lines dropped so far. */
  skipped = 0;

  constructor(maxBytes = EVENT_LINE_MAX_BYTES) {
    this.framer = new LineFramer(maxBytes);
  }

  push(chunk: Buffer | string): string[] {
    const lines: string[] = [];
    for (const l of this.framer.push(chunk)) {
      if (l.truncated) this.skipped++;
      else if (l.text.length > 0) lines.push(l.text);
    }
    return lines;
  }
}

/** `since` for the Engine API from an exact timeNano: "seconds.nanoseconds". */
export function sinceFromTimeNano(timeNano: string): string {
  const n = BigInt(timeNano);
  const seconds = n / 1_000_000_000n;
  const nanos = (n % 1_000_000_000n).toString().padStart(9, '0');
  return `${seconds}.${nanos}`;
}

export interface EventStreamHandlers {
  /** Called synchronously for every event; must not block (Docker drops events for a reader that stalls 100 ms). */
  onEvent(event: RawDockerEvent): void;
  /** Called once when the stream ends for any reason (daemon restart, network drop, stop()). */
  onEnd(error?: Error): void;
  /**
   * Lines that are not events (longer than EVENT_LINE_MAX_BYTES, not JSON, or not shaped like an event) were dropped:
   * called for the first, then at most once a minute with the count since the last call.
   */
  onSkipped?(skipped: { tooLong: number; invalid: number }): void;
}

const SKIP_REPORT_MS = 60_000;

/**
 * How long the daemon may take to answer a stream request (its response headers). An engine that
 * accepts the connection and never answers would otherwise hold its supervisor, and the process's
 * count of streams being opened, for good.
 */
export const STREAM_OPEN_TIMEOUT_MS = 15_000;

/**
 * A reader of one daemon's /events that never waits on I/O: each chunk is split into
 * lines and handed to onEvent synchronously; processing happens elsewhere.
 */
export class EventStream {
  private readonly abort = new AbortController();
  private ended = false;

  constructor(
    private readonly docker: Docker,
    private readonly handlers: EventStreamHandlers,
  ) {}

  /**
   * Resolves once the daemon accepted the stream (response headers arrived); rejects, with the
   * request aborted, when they did not arrive within `openTimeoutMs`. `filters`: e.g. { scope: ['swarm'] }.
   */
  async start(since?: string, filters?: Record<string, string[]>, openTimeoutMs = STREAM_OPEN_TIMEOUT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const unanswered = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.abort.abort();
        reject(new Error(`the engine did not answer the event stream request within ${openTimeoutMs} ms`));
      }, openTimeoutMs);
    });
    const request = this.docker.getEvents({ since, ...(filters ? { filters } : {}), abortSignal: this.abort.signal } as Docker.GetEventsOptions);
    request.catch(() => undefined); // rejected by the abort after a timeout: already reported
    const stream = (await Promise.race([request, unanswered]).finally(() => clearTimeout(timer))) as unknown as NodeJS.ReadableStream;
    const splitter = new LineSplitter();
    const skipped = { tooLong: 0, invalid: 0 };
    let reportedAt = 0;
    stream.on('data', (chunk: Buffer) => {
      // one chunk per turn of the event loop: a daemon that floods its stream cannot starve requests
      stream.pause();
      setImmediate(() => stream.resume());
      const tooLong = splitter.skipped;
      for (const line of splitter.push(chunk)) {
        let event: RawDockerEvent | undefined;
        try {
          event = parseEventLine(line);
        } catch {
          skipped.invalid++; // not an event: ignore the line, keep reading
          continue;
        }
        if (event) this.handlers.onEvent(event);
      }
      skipped.tooLong += splitter.skipped - tooLong;
      if ((skipped.tooLong || skipped.invalid) && Date.now() - reportedAt >= SKIP_REPORT_MS) {
        reportedAt = Date.now();
        this.handlers.onSkipped?.({ ...skipped });
        skipped.tooLong = skipped.invalid = 0;
      }
    });
    const end = (err?: Error) => {
      if (this.ended) return;
      this.ended = true;
      this.handlers.onEnd(this.abort.signal.aborted ? undefined : (err ?? new Error('event stream closed by the daemon')));
    };
    stream.on('end', () => end());
    stream.on('close', () => end());
    stream.on('error', (err: Error) => end(err));
  }

  stop(): void {
    this.abort.abort();
  }
}
