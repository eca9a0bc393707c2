import type Docker from 'dockerode';
import { DockerContainer, DockerHost } from '../../../entities';
import { runActivity, ActivityHandle } from '../../platform/audit/activity';
import { expectGlobalId } from '../../graphql/relay';
import { notFound } from '../../kernel/errors';
import { toDockerError } from '../../infra/engine/client';
import type { Context } from '../../graphql/context';
import { abortable } from '../../kernel/abort';
import type { DockerConnection } from '../../infra/engine/connections';
import { FramedLine, LineFramer, PROGRESS_LINE_MAX_BYTES } from '../../infra/engine/framing';

export interface OperationSpec {
  action: string;
  targetType: string;
  targetId?: string | null;
  parameters?: object;
}

export interface Operation {
  host: DockerHost;
  docker: DockerConnection;
  handle: ActivityHandle;
}

/**
 * The one way a resource mutation runs: the caller's host (NOT_FOUND when it is not theirs),
 * its Docker clients, and an audited activity around `fn`. Docker's errors come out as
 * DOCKER_ERROR (status and message kept) or DOCKER_UNREACHABLE.
 */
export async function hostOperation<T>(ctx: Context, host: DockerHost, spec: OperationSpec, fn: (op: Operation) => Promise<T>) {
  const docker = await ctx.services.hosts.connection(ctx, host);
  return runActivity(ctx, { ...spec, host }, (handle) => fn({ host, docker, handle }));
}

/** A stored container of the caller's account by global id, with its host. */
export async function containerById(ctx: Context, globalId: string, field = 'id'): Promise<DockerContainer> {
  const id = expectGlobalId(globalId, 'DockerContainer', field);
  const row = await ctx.em.findOne(DockerContainer, id, { populate: ['host'] });
  if (!row) throw notFound('DockerContainer', globalId);
  return row;
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
    stream.on('close', () => finish((stream as { readableEnded?: boolean }).readableEnded === false ? Object.assign(new Error('Docker closed the stream before its end'), { code: 'ECONNRESET' }) : undefined));
    stream.on('error', (err: Error) => finish(err));
  });
}

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

/** A read-only live call to a host's Docker (inspect, lists): errors mapped like mutations', nothing audited. */
export async function liveRead<T>(ctx: Context, host: DockerHost, fn: (api: Docker) => Promise<T>): Promise<T> {
  try {
    const docker = await ctx.services.hosts.connection(ctx, host);
    // past the deadline (or the client gone) no Docker call starts
    ctx.signal?.throwIfAborted();
    return await abortable(fn(docker.api), ctx.signal);
  } catch (err) {
    throw toDockerError(err, host.name);
  }
}
