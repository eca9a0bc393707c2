import type Docker from 'dockerode';
import { DockerContainer, DockerHost } from '../../entities';
import { runActivity, ActivityHandle } from '../audit/activity';
import { expectGlobalId } from '../graphql/relay';
import { notFound } from '../errors';
import { toDockerError } from './client';
import type { Context } from '../server/context';
import type { DockerConnection } from './connections';

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

/** Reads the whole body of a Docker stream that reports JSON lines (pull, push, build). */
export function followJsonStream(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  onLine: (line: JsonProgress) => void,
): Promise<JsonProgress[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, output: JsonProgress[]) => {
        if (err) return reject(err);
        const failed = output.find((o) => o.error || o.errorDetail);
        if (failed) return reject(new StreamError(failed.errorDetail?.message ?? failed.error ?? 'failed'));
        resolve(output);
      },
      onLine,
    );
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
    return await fn(docker.api);
  } catch (err) {
    throw toDockerError(err, host.name);
  }
}
