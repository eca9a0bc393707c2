import { StringDecoder } from 'node:string_decoder';
import type Docker from 'dockerode';

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

/** Parses one NDJSON line; timeNano is read from the text, before JSON.parse rounds it. */
export function parseEventLine(line: string): RawDockerEvent | undefined {
  const trimmed = line.trim();
  if (!trimmed) return undefined;
  const parsed = JSON.parse(trimmed) as Omit<RawDockerEvent, 'timeNano'> & { timeNano?: number };
  const nano = TIME_NANO.exec(trimmed)?.[1] ?? (BigInt(parsed.time) * 1_000_000_000n).toString();
  return { ...parsed, timeNano: nano };
}

/**
 * Splits a byte stream into lines: one chunk may hold several events or part of one.
 * Returns the complete lines; keeps the remainder for the next chunk.
 */
export class LineSplitter {
  private rest = '';
  // a chunk may also end inside a multi-byte UTF-8 character (a container name, a label)
  private readonly decoder = new StringDecoder('utf8');
  push(chunk: Buffer | string): string[] {
    const text = this.rest + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return lines.filter((l) => l.length > 0);
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
}

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

  /** Resolves once the daemon accepted the stream (response headers arrived). `filters`: e.g. { scope: ['swarm'] }. */
  async start(since?: string, filters?: Record<string, string[]>): Promise<void> {
    const stream = (await this.docker.getEvents({ since, ...(filters ? { filters } : {}), abortSignal: this.abort.signal } as Docker.GetEventsOptions)) as unknown as NodeJS.ReadableStream;
    const splitter = new LineSplitter();
    stream.on('data', (chunk: Buffer) => {
      for (const line of splitter.push(chunk)) {
        let event: RawDockerEvent | undefined;
        try {
          event = parseEventLine(line);
        } catch {
          continue; // not JSON: ignore the line, keep reading
        }
        if (event) this.handlers.onEvent(event);
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
