import type Docker from 'dockerode';
import { DockerContainer, DockerHost } from '../../../entities';
import { notFound } from '../../kernel/errors';
import { toGlobalId } from '../../kernel/ids';
import { abortable } from '../../kernel/abort';
import type { Scope } from '../../kernel/scope';
import { toDockerError } from '../../infra/engine/client';
import type { DockerConnection } from '../../infra/engine/connections';
import type { ActivityHandle, Audit } from '../../platform/audit/activity';
import type { HostService } from '../hosts';

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
 * How the resource managers reach a host's Docker: one way to run a mutation (audited), one way
 * to read live (not audited), both with Docker's errors mapped the same way.
 */
export class HostOperations {
  constructor(
    private readonly hosts: HostService,
    private readonly audit: Audit,
  ) {}

  /**
   * The one way a resource mutation runs: the host's Docker clients, and an audited activity
   * (recording the scope's actor) around `fn`. Docker's errors come out as DOCKER_ERROR (status
   * and message kept) or DOCKER_UNREACHABLE.
   */
  async run<T>(scope: Scope, host: DockerHost, spec: OperationSpec, fn: (op: Operation) => Promise<T>) {
    const docker = await this.hosts.connection(scope, host);
    return this.audit.run(scope, { ...spec, host }, (handle) => fn({ host, docker, handle }));
  }

  /** The one way to read live from a host's Docker (inspect, lists): errors mapped like mutations', nothing audited; gives up when the scope's signal aborts. */
  async read<T>(scope: Scope, host: DockerHost, fn: (api: Docker) => Promise<T>): Promise<T> {
    try {
      const docker = await this.hosts.connection(scope, host);
      // past the deadline (or the client gone) no Docker call starts
      scope.signal?.throwIfAborted();
      return await abortable(fn(docker.api), scope.signal);
    } catch (err) {
      throw toDockerError(err, host.name);
    }
  }

  /** The host's Docker clients, for streams that outlive one call (logs); the caller maps errors. */
  connection(scope: Scope, host: DockerHost): Promise<DockerConnection> {
    return this.hosts.connection(scope, host);
  }

  /** A host of the scope's account by id, or NOT_FOUND. */
  host(scope: Scope, id: string): Promise<DockerHost> {
    return this.hosts.get(scope, id);
  }

  /** A stored container of the scope's account by id, with its host, or NOT_FOUND. */
  async container(scope: Scope, id: string): Promise<DockerContainer> {
    const row = await scope.em.findOne(DockerContainer, id, { populate: ['host'] });
    if (!row) throw notFound('DockerContainer', toGlobalId('DockerContainer', id));
    return row;
  }
}
