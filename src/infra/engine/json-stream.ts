import { FramedLine, LineFramer, PROGRESS_LINE_MAX_BYTES } from './framing';

/** One line of a Docker stream that reports JSON progress (pull, push, build). */
export interface JsonProgress {
  id?: string;
  status?: string;
  stream?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: { ID?: string; Tag?: string; Digest?: string };
  error?: string;
  errorDetail?: { message?: string; code?: number };
}

/** An error Docker reported inside a 200 stream (pull/push/build): mapped to DOCKER_ERROR with status 500. */
export class StreamError extends Error {
  readonly statusCode = 500;
  readonly json: { message: string };
  constructor(message: string) {
    super(message);
    this.json = { message };
  }
}

/**
 * Reads a Docker stream that reports JSON lines (pull, push, build) to its end, handing each
 * line to `onLine`; rejects with the first error Docker reported in it. Lines are framed with
 * a bound (PROGRESS_LINE_MAX_BYTES): an over-long line or one that is not JSON is skipped, and
 * nothing is kept but the first error, so a hostile daemon cannot make it grow.
 */
export function followJsonStream(stream: NodeJS.ReadableStream, onLine: (line: JsonProgress) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const framer = new LineFramer(PROGRESS_LINE_MAX_BYTES);
    let failed: JsonProgress | undefined;
    let done = false;
    const handle = (lines: FramedLine[]) => {
      for (const l of lines) {
        if (l.truncated || !l.text.trim()) continue;
        let obj: JsonProgress;
        try {
          obj = JSON.parse(l.text) as JsonProgress;
        } catch {
          continue;
        }
        if (obj === null || typeof obj !== 'object') continue;
        if (!failed && (obj.error || obj.errorDetail)) failed = obj;
        onLine(obj);
      }
    };
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      if (err) return reject(err);
      handle(framer.flush());
      if (failed) return reject(new StreamError(String(failed.errorDetail?.message ?? failed.error ?? 'failed')));
      resolve();
    };
    stream.on('data', (chunk: Buffer) => {
      if (!done) handle(framer.push(chunk));
    });
    stream.on('end', () => finish());
    // a stream that closes without its end (connection lost) did not finish its work
    stream.on('close', () =>
      finish((stream as { readableEnded?: boolean }).readableEnded === false ? Object.assign(new Error('Docker closed the stream before its end'), { code: 'ECONNRESET' }) : undefined),
    );
    stream.on('error', (err: Error) => finish(err));
  });
}
