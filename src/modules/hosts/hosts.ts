import { DockerHost } from '../../../entities';
import { badInput } from '../../kernel/errors';
import type { Scope } from '../../kernel/scope';
import type { Audit } from '../../platform/audit/activity';
import type { SyncDeps } from '../../platform/supervision/deps';
import type { SecretBox } from '../../infra/crypto';
import { HostSupervisor } from './supervisor';
import type { HostFleet } from './fleet';
import { hostHealth, HostHealthFigures } from './health';
import { commitStatus } from '../../platform/supervision/status';
import { EndpointKind, EndpointRegistry } from '../../platform/supervision/registry';
import type { TlsCredentials } from '../../infra/engine/client';
import type { DockerConnections } from '../../infra/engine/connections';
import { Engine, hostSubject } from '../../infra/engine/port';

export const STANDARD_ENVIRONMENTS = ['staging', 'production', 'development'];
export const SYNC_INTERVAL_MIN = 30;
export const SYNC_INTERVAL_MAX = 3600;

export interface HostInput {
  name?: string;
  apiEndpoint?: string;
  environment?: string;
  tlsVerify?: boolean;
  tlsCredentials?: TlsCredentials | null;
  syncIntervalSeconds?: number;
}

const ENVIRONMENT = /^[a-z0-9][a-z0-9_.-]{0,49}$/;

/** Registration, settings and lifecycle of Docker hosts, on a Scope (a request's or a worker's). */
export class HostService {
  private readonly registry: EndpointRegistry<DockerHost>;

  constructor(
    audit: Audit,
    secrets: SecretBox,
    private readonly connections: DockerConnections,
    private readonly fleet: HostFleet,
    private readonly syncDeps: SyncDeps,
  ) {
    const kind: EndpointKind<DockerHost> = {
      entity: DockerHost,
      typeName: 'DockerHost',
      noun: 'host',
      endpointField: 'apiEndpoint',
      claimColumn: 'host_id',
      syncIntervalSeconds: { min: SYNC_INTERVAL_MIN, max: SYNC_INTERVAL_MAX },
      subject: (host) => ({ host }),
      attach: (handle, host) => handle.setHost(host),
      commitStatus: (em, _host, change) => commitStatus(em, syncDeps.pubsub, change),
    };
    this.registry = new EndpointRegistry(kind, { audit, secrets, connections, fleet });
  }

  /** A host of the scope's account by id, or NOT_FOUND. */
  get(scope: Scope, id: string): Promise<DockerHost> {
    return this.registry.get(scope, id);
  }

  /** The engine port of a host (its Docker clients, every call's errors mapped once). */
  async engine(scope: Scope, host: DockerHost): Promise<Engine> {
    return new Engine(await this.connections.for(scope.em, host), hostSubject(host));
  }

  /** Health of a host from its stored inventory. */
  health(scope: Scope, host: DockerHost): Promise<HostHealthFigures> {
    return hostHealth(scope.em, host);
  }

  async register(scope: Scope, input: Required<Pick<HostInput, 'name' | 'apiEndpoint' | 'environment'>> & HostInput) {
    validateEnvironment(input.environment);
    const { row: host, activity } = await this.registry.register(scope, { ...input, endpoint: input.apiEndpoint }, { environment: input.environment }, input);
    return { host, activity };
  }

  async update(scope: Scope, id: string, input: HostInput) {
    validateEnvironment(input.environment);
    const { row: host, activity } = await this.registry.update(scope, id, { ...input, endpoint: input.apiEndpoint }, input, (host) => {
      if (input.environment !== undefined) host.environment = input.environment;
    });
    return { host, activity };
  }

  remove(scope: Scope, id: string) {
    return this.registry.remove(scope, id);
  }

  async setMaintenance(scope: Scope, id: string, on: boolean) {
    const { row: host, activity } = await this.registry.setMaintenance(scope, id, on);
    return { host, activity };
  }

  async recover(scope: Scope, id: string) {
    const { row: host, activity } = await this.registry.recover(scope, id);
    return { host, activity };
  }

  /** Full sync now: through the local supervisor when this replica runs it (ordered with events), else one-shot. */
  async sync(scope: Scope, id: string) {
    const {
      row: host,
      activity,
      result,
    } = await this.registry.sync(
      scope,
      id,
      (host) => (this.fleet.supervisor(host.id) ?? new HostSupervisor(this.syncDeps, host.id, host.account.id)).syncNow(),
      (r) => ({ containers: r.containers, images: r.images, changes: r.changes.length, pingMs: r.pingMs }),
    );
    return { host, activity, result };
  }
}

function validateEnvironment(environment: string | undefined): void {
  if (environment !== undefined && !ENVIRONMENT.test(environment)) {
    throw badInput('environment', `must be ${STANDARD_ENVIRONMENTS.join(', ')} or a custom label (lowercase letters, digits, ".", "_", "-"; at most 50)`);
  }
}
