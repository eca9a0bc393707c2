import { DockerContainer, DockerHost } from '../../../entities';
import { notFound } from '../../kernel/errors';
import { toGlobalId } from '../../kernel/ids';
import { boundedRead } from '../../kernel/operation';
import { MAX_LONG_DOCKER_CALLS_PER_ACCOUNT } from '../../kernel/config';
import { InFlight } from '../../kernel/in-flight';
import type { Scope } from '../../kernel/scope';
import type { Engine } from '../../infra/engine/port';
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
  /** The host's engine port: its calls' errors come out mapped (DOCKER_ERROR, DOCKER_UNREACHABLE). */
  engine: Engine;
  handle: ActivityHandle;
}

/**
 * How the resource managers reach a host's Docker: one way to run a mutation (audited), one way
 * to read live (not audited), both through the host's engine port (errors mapped there, once).
 */
export class HostOperations {
  private readonly longCalls = new InFlight(MAX_LONG_DOCKER_CALLS_PER_ACCOUNT, 'longDockerCalls', 'builds, pulls, pushes and execs');

  constructor(
    private readonly hosts: HostService,
    private readonly audit: Audit,
  ) {}

  /**
   * A mutation that holds a Docker stream and its buffers for its whole length (build, pull,
   * push, exec): at most MAX_LONG_DOCKER_CALLS_PER_ACCOUNT at a time per account, RATE_LIMITED
   * past it before anything is read, recorded or sent.
   */
  long<T>(scope: Scope, fn: () => Promise<T>): Promise<T> {
    return this.longCalls.run(scope.accountId, fn);
  }

  /** The one way a resource mutation runs: the host's engine, and an audited activity (recording the scope's actor) around `fn`. */
  async run<T>(scope: Scope, host: DockerHost, spec: OperationSpec, fn: (op: Operation) => Promise<T>) {
    const engine = await this.hosts.engine(scope, host);
    return this.audit.run(scope, { ...spec, host }, (handle) => fn({ host, engine, handle }));
  }

  /** The one way to read live from a host's Docker (inspect, lists): nothing audited; gives up when the scope's signal aborts. */
  async read<T>(scope: Scope, host: DockerHost, fn: (engine: Engine) => Promise<T>): Promise<T> {
    const engine = await this.hosts.engine(scope, host);
    return boundedRead(scope, () => fn(engine));
  }

  /** The host's engine, for streams that outlive one call (logs). */
  engine(scope: Scope, host: DockerHost): Promise<Engine> {
    return this.hosts.engine(scope, host);
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
