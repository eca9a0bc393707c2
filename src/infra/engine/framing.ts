/**
 * Bounded line framing for byte streams that come from a Docker daemon (events, logs, the JSON
 * progress of pull/push/build). A daemon is not trusted to end its lines: a line longer than
 * the framer's maximum is cut there, handed on at once marked `truncated`, and the rest of it
 * up to the next newline is dropped (counted in `droppedBytes`). Time is linear in the bytes
 * read (each byte is scanned once) and memory is at most `maxBytes` per framer.
 */

/** Docker event lines are a few hundred bytes; a longer one cannot be a valid event. */
export const EVENT_LINE_MAX_BYTES = 64 * 1024;
/** Container and service log lines (Docker's own log drivers split lines at 16 KiB); the timestamp counts. */
export const LOG_LINE_MAX_BYTES = 16 * 1024;
/** JSON progress lines of pull, push and build (a build output chunk is at most a few KiB of JSON). */
export const PROGRESS_LINE_MAX_BYTES = 64 * 1024;

export interface FramedLine {
  /** The line's text, without its '\n' (nor a '\r' before it), at most maxBytes of UTF-8. */
  text: string;
  /** The line was longer than maxBytes: `text` is its beginning, cut on a character boundary. */
  truncated: boolean;
}

const NEWLINE = 0x0a;
const CR = 0x0d;
const INITIAL_BYTES = 1024;

/** Length of the longest prefix of buf[0, end) that does not end inside a UTF-8 sequence. */
export function utf8Boundary(buf: Buffer, end: number): number {
  // the last lead byte among the (at most 4) final bytes, and whether its sequence is complete
  for (let i = end - 1; i >= 0 && i >= end - 4; i--) {
    const b = buf[i];
    if ((b & 0xc0) === 0x80) continue; // continuation byte
    const len = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return i + len <= end ? end : i;
  }
  return end;
}

/** Splits a byte stream into lines of at most `maxBytes` (see the module comment). */
export class LineFramer {
  private buf: Buffer;
  private size = 0;
  /** Inside a line already handed on cut: its bytes are dropped until the next newline. */
  private skipping = false;
  /** Bytes dropped from over-long lines so far. */
  droppedBytes = 0;
  /** Lines handed on cut so far. */
  truncatedLines = 0;

  constructor(readonly maxBytes: number) {
    if (!Number.isInteger(maxBytes) || maxBytes < 4) throw new RangeError('maxBytes must be an integer ≥ 4');
    this.buf = Buffer.allocUnsafe(Math.min(maxBytes, INITIAL_BYTES));
  }

  /** The complete (or cut) lines that `chunk` finishes; a partial line waits for its end or flush(). */
  push(chunk: Buffer | string): FramedLine[] {
    const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const out: FramedLine[] = [];
    let start = 0;
    while (start < data.length) {
      const nl = data.indexOf(NEWLINE, start);
      const end = nl === -1 ? data.length : nl;
      this.take(data, start, end, out);
      if (nl === -1) break;
      if (this.skipping) this.skipping = false;
      else out.push(this.emit(false));
      start = nl + 1;
    }
    return out;
  }

  /** The last line when the stream ends without a newline (none when it is empty or was already handed on cut). */
  flush(): FramedLine[] {
    const out = !this.skipping && this.size > 0 ? [this.emit(false)] : [];
    this.skipping = false;
    this.size = 0;
    return out;
  }

  private take(data: Buffer, start: number, end: number, out: FramedLine[]): void {
    const n = end - start;
    if (n === 0) return;
    if (this.skipping) {
      this.droppedBytes += n;
      return;
    }
    const room = this.maxBytes - this.size;
    const kept = Math.min(n, room);
    this.reserve(this.size + kept);
    data.copy(this.buf, this.size, start, start + kept);
    this.size += kept;
    if (n <= room) return;
    // over the limit: hand on what fits, drop the rest of the line
    const cut = utf8Boundary(this.buf, this.size);
    const text = this.buf.toString('utf8', 0, cut);
    this.droppedBytes += n - kept + (this.size - cut);
    this.truncatedLines++;
    this.size = 0;
    this.skipping = true;
    out.push({ text, truncated: true });
  }

  private emit(truncated: boolean): FramedLine {
    const end = this.size > 0 && this.buf[this.size - 1] === CR ? this.size - 1 : this.size;
    this.size = 0;
    return { text: this.buf.toString('utf8', 0, end), truncated };
  }

  private reserve(bytes: number): void {
    if (bytes <= this.buf.length) return;
    let len = this.buf.length;
    while (len < bytes) len *= 2;
    const next = Buffer.allocUnsafe(Math.min(len, this.maxBytes));
    this.buf.copy(next, 0, 0, this.size);
    this.buf = next;
  }
}
