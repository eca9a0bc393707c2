import type Docker from 'dockerode';
import { FixedBuffer, Repeater } from '@graphql-yoga/subscription';
import { LineFramer, LOG_LINE_MAX_BYTES } from './framing';

/**
 * Docker's multiplexed stream format (non-TTY containers and execs): frames of an 8-byte
 * header [stream, 0, 0, 0, size (uint32 BE)] followed by `size` bytes. TTY output is raw.
 */
export type StreamName = 'stdout' | 'stderr';

export interface LogLine {
  stream: StreamName;
  line: string;
  /** Docker's RFC 3339 nano timestamp when requested. */
  timestamp?: string;
  /** The line was longer than LOG_LINE_MAX_BYTES: it was cut there and the rest of it dropped. */
  truncated: boolean;
}

const STREAMS: Record<number, StreamName> = { 0: 'stdout', 1: 'stdout', 2: 'stderr' };

/**
 * Incremental demultiplexer: feed chunks, get each frame's payload per stream as it arrives.
 * A frame is passed through in pieces, never assembled: its header may announce up to 4 GiB.
 */
export class Demuxer {
  private readonly header = Buffer.alloc(8);
  private headerBytes = 0;
  /** Payload bytes of the current frame still to come. */
  private remaining = 0;
  private stream: StreamName = 'stdout';

  constructor(private readonly tty: boolean) {}

  push(chunk: Buffer): Array<{ stream: StreamName; data: Buffer }> {
    if (this.tty) return [{ stream: 'stdout', data: chunk }];
    const out: Array<{ stream: StreamName; data: Buffer }> = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining === 0) {
        const n = Math.min(8 - this.headerBytes, chunk.length - i);
        chunk.copy(this.header, this.headerBytes, i, i + n);
        this.headerBytes += n;
        i += n;
        if (this.headerBytes < 8) break;
        this.headerBytes = 0;
        this.stream = STREAMS[this.header[0]] ?? 'stdout';
        this.remaining = this.header.readUInt32BE(4);
        continue;
      }
      const n = Math.min(this.remaining, chunk.length - i);
      out.push({ stream: this.stream, data: chunk.subarray(i, i + n) });
      this.remaining -= n;
      i += n;
    }
    return out;
  }
}

/** Splits each stream's bytes into lines of at most LOG_LINE_MAX_BYTES (a partial line waits for its end, or for flush). */
export class LineAssembler {
  private readonly framers: Record<StreamName, LineFramer>;

  constructor(
    private readonly timestamps: boolean,
    maxBytes = LOG_LINE_MAX_BYTES,
  ) {
    this.framers = { stdout: new LineFramer(maxBytes), stderr: new LineFramer(maxBytes) };
  }

  push(stream: StreamName, data: Buffer): LogLine[] {
    return this.framers[stream].push(data).map((l) => this.line(stream, l.text, l.truncated));
  }

  flush(): LogLine[] {
    return (['stdout', 'stderr'] as const).flatMap((stream) => this.framers[stream].flush().map((l) => this.line(stream, l.text, l.truncated)));
  }

  private line(stream: StreamName, raw: string, truncated: boolean): LogLine {
    if (!this.timestamps) return { stream, line: raw, truncated };
    const space = raw.indexOf(' ');
    return space > 0 ? { stream, timestamp: raw.slice(0, space), line: raw.slice(space + 1), truncated } : { stream, line: raw, truncated };
  }
}

/**
 * Opens a log endpoint (`/containers/{id}/logs`, `/services/{id}/logs`) as a stream, whether it
 * follows or not: dockerode reads a non-follow answer whole into memory, which for a container
 * that printed gigabytes (or one endless line) is gigabytes.
 */
export function openLogStream(docker: Docker, path: string, options: Record<string, unknown>, statusCodes: Record<number, string>): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => {
    docker.modem.dial({ path: `${path}?`, method: 'GET', isStream: true, statusCodes: { 200: true, ...statusCodes }, options }, (err, stream) =>
      err ? reject(err) : resolve(stream as NodeJS.ReadableStream),
    );
  });
}

/** Lines buffered per log subscriber before the Docker stream is paused. */
export const LOG_BUFFER_LINES = 16_384;

/**
 * A Docker log stream as the lines a subscriber receives: demultiplexed, framed (bounded
 * lines), mapped. Each line's push is awaited, so when the subscriber lags the buffer fills and
 * the Docker stream is no longer read (never more than LOG_BUFFER_LINES lines wait, and no
 * chunk of thousands of short lines can overflow the pending pushes). Closing the iterator
 * (the client unsubscribes) destroys the Docker stream.
 */
export function logLines<T>(stream: NodeJS.ReadableStream, tty: boolean, map: (l: LogLine) => T, mapError: (err: unknown) => Error): AsyncIterable<T> {
  return new Repeater<T>(async (push, stop) => {
    const demux = new Demuxer(tty);
    const lines = new LineAssembler(true);
    const pump = async () => {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        for (const frame of demux.push(chunk)) for (const l of lines.push(frame.stream, frame.data)) await push(map(l));
      }
      for (const l of lines.flush()) await push(map(l));
    };
    pump().then(
      () => stop(),
      (err: unknown) => stop(mapError(err)),
    );
    await stop;
    (stream as unknown as { destroy?: () => void }).destroy?.();
  }, new FixedBuffer(LOG_BUFFER_LINES));
}
