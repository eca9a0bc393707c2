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
}

const STREAMS: Record<number, StreamName> = { 0: 'stdout', 1: 'stdout', 2: 'stderr' };

/** Incremental demultiplexer: feed chunks, get complete frames' payloads per stream. */
export class Demuxer {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly tty: boolean) {}

  push(chunk: Buffer): Array<{ stream: StreamName; data: Buffer }> {
    if (this.tty) return [{ stream: 'stdout', data: chunk }];
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    const out: Array<{ stream: StreamName; data: Buffer }> = [];
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) break;
      out.push({ stream: STREAMS[this.buf[0]] ?? 'stdout', data: this.buf.subarray(8, 8 + size) });
      this.buf = this.buf.subarray(8 + size);
    }
    return out;
  }
}

/** Splits each stream's bytes into lines (a partial line waits for its end, or for flush). */
export class LineAssembler {
  private partial: Record<StreamName, string> = { stdout: '', stderr: '' };

  constructor(private readonly timestamps: boolean) {}

  push(stream: StreamName, data: Buffer): LogLine[] {
    const text = this.partial[stream] + data.toString('utf8');
    const parts = text.split('\n');
    this.partial[stream] = parts.pop() ?? '';
    return parts.map((l) => this.line(stream, l.replace(/\r$/, '')));
  }

  flush(): LogLine[] {
    const out: LogLine[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream]) out.push(this.line(stream, this.partial[stream]));
      this.partial[stream] = '';
    }
    return out;
  }

  private line(stream: StreamName, raw: string): LogLine {
    if (!this.timestamps) return { stream, line: raw };
    const space = raw.indexOf(' ');
    return space > 0 ? { stream, timestamp: raw.slice(0, space), line: raw.slice(space + 1) } : { stream, line: raw };
  }
}
