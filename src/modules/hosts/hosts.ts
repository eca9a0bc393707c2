import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { DockerHost, HostStatus } from '../../../entities';
import { badInput, conflict, notFound } from '../../kernel/errors';
import { toGlobalId } from '../../kernel/ids';
import type { Scope } from '../../kernel/scope';
import type { Audit } from '../../platform/audit/activity';
import type { SyncDeps } from '../../platform/supervision/deps';
import type { SecretBox } from '../../infra/crypto';
import { HostSupervisor } from './supervisor';
import type { HostFleet } from './fleet';
import { SyncResult } from './inventory';
import { hostHealth, HostHealthFigures } from './health';
import { commitStatus, HostStatusPayload, reconnect, recover, setMaintenance } from '../../platform/supervision/status';
import { credentialsOf, parseEndpoint, TlsCredentials } from '../../infra/engine/client';
import type { DockerConnection, DockerConnections } from '../../infra/engine/connections';
import { releaseClaims, saveWithClaim } from '../../infra/engine/claims';

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

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const ENVIRONMENT = /^[a-z0-9][a-z0-9_.-]{0,49}$/;
const PEM = /-----BEGIN [A-Z0-9 ]+-----[\s\S]+-----END [A-Z0-9 ]+-----/;

/** Registration, settings and lifecycle of Docker hosts, on a Scope (a request's or a worker's). */
export class HostService {
  constructor(
    private readonly audit: Audit,
    private readonly secrets: SecretBox,
    private readonly connections: DockerConnections,
    private readonly fleet: HostFleet,
    private readonly syncDeps: SyncDeps,
  ) {}

  /** A host of the scope's account by id, or NOT_FOUND. */
  async get(scope: Scope, id: string): Promise<DockerHost> {
    const host = await scope.em.findOne(DockerHost, id);
    if (!host) throw notFound('DockerHost', toGlobalId('DockerHost', id));
    return host;
  }

  /** Docker clients of a host. */
  connection(scope: Scope, host: DockerHost): Promise<DockerConnection> {
    return this.connections.for(scope.em, host);
  }

  /** Health of a host from its stored inventory. */
  health(scope: Scope, host: DockerHost): Promise<HostHealthFigures> {
    return hostHealth(scope.em, host);
  }

  async register(scope: Scope, input: Required<Pick<HostInput, 'name' | 'apiEndpoint' | 'environment'>> & HostInput) {
    const values = this.validate(input, true);
    const accountId = scope.accountId;
    if (await scope.em.count(DockerHost, { name: values.name })) throw conflict(`A host named "${values.name}" already exists`, { field: 'name' });
    // first contact: a refused endpoint or another account's engine leaves nothing stored, not even an audit row
    const identity = await this.connections.probe(scope.em, accountId, values.apiEndpoint!, values.tlsVerify ?? false, credentialsOf(input.tlsCredentials), 'apiEndpoint');
    const { result: host, activity } = await this.audit.run(scope, { action: 'host.register', targetType: 'host', targetId: values.name, parameters: input }, async (h) => {
      const host = scope.em.create(DockerHost, {
        account: accountId,
        name: values.name!,
        apiEndpoint: values.apiEndpoint!,
        environment: values.environment!,
        tlsVerify: values.tlsVerify ?? false,
        syncIntervalSeconds: values.syncIntervalSeconds ?? 60,
        status: HostStatus.PENDING,
      } as never);
      this.applyCredentials(host, input.tlsCredentials);
      await saveWithClaim(scope.em, accountId, { column: 'host_id', id: host.id }, identity, 'apiEndpoint', () => this.flushUnique(scope, values.name!));
      h.setHost(host);
      h.setTarget(host.id);
      return host;
    });
    await this.fleet.notify(host.id);
    return { host, activity };
  }

  async update(scope: Scope, id: string, input: HostInput) {
    const host = await this.get(scope, id);
    const values = this.validate({ apiEndpoint: host.apiEndpoint, tlsVerify: host.tlsVerify, ...stripUndefined(input) }, false);
    if (values.tlsVerify) {
      // a verified host must end up with a full set of credentials: new ones, or the stored ones
      const creds = input.tlsCredentials;
      const complete = creds === undefined ? Boolean(host.tlsKeyId) : Boolean(creds?.ca && creds.cert && creds.key);
      if (!complete) throw badInput('tlsCredentials', 'ca, cert and key are all required when tlsVerify is true');
    }
    // like validation, a name clash is refused before the audit row is written (as in register)
    if (values.name !== undefined && values.name !== host.name && (await scope.em.count(DockerHost, { name: values.name, id: { $ne: host.id } }))) {
      throw conflict(`A host named "${values.name}" already exists`, { field: 'name' });
    }
    const connectionChanged =
      (input.apiEndpoint !== undefined && input.apiEndpoint !== host.apiEndpoint) || (input.tlsVerify !== undefined && input.tlsVerify !== host.tlsVerify) || input.tlsCredentials !== undefined;
    const identity = connectionChanged
      ? await this.connections.probe(
          scope.em,
          host.account.id,
          values.apiEndpoint!,
          values.tlsVerify ?? false,
          input.tlsCredentials === undefined ? await this.connections.storedCredentials(scope.em, DockerHost, host.id) : credentialsOf(input.tlsCredentials),
          'apiEndpoint',
        )
      : undefined;
    let statusChange: HostStatusPayload | undefined;
    const { activity } = await this.audit.run(scope, { action: 'host.update', targetType: 'host', targetId: host.id, host, parameters: input }, async () => {
      if (values.name !== undefined && values.name !== host.name) host.name = values.name;
      if (values.environment !== undefined) host.environment = values.environment;
      if (values.syncIntervalSeconds !== undefined) host.syncIntervalSeconds = values.syncIntervalSeconds;
      if (input.apiEndpoint !== undefined) host.apiEndpoint = values.apiEndpoint!;
      if (input.tlsVerify !== undefined) host.tlsVerify = input.tlsVerify;
      if (input.tlsCredentials !== undefined) this.applyCredentials(host, input.tlsCredentials);
      if (connectionChanged) {
        host.connectionRevision += 1;
        statusChange = reconnect(host);
        this.connections.forget(host.id);
      }
      await saveWithClaim(scope.em, host.account.id, { column: 'host_id', id: host.id }, identity, 'apiEndpoint', () => this.flushUnique(scope, host.name));
      // a status change is published like any other (connected → pending here)
      await commitStatus(scope.em, this.syncDeps.pubsub, statusChange);
    });
    await this.fleet.notify(host.id);
    return { host, activity };
  }

  async remove(scope: Scope, id: string) {
    const host = await this.get(scope, id);
    const globalId = toGlobalId('DockerHost', host.id);
    const { activity } = await this.audit.run(scope, { action: 'host.remove', targetType: 'host', targetId: host.id, parameters: { id: globalId, name: host.name } }, async () => {
      await this.fleet.supervisor(host.id)?.stop();
      scope.em.remove(host);
      await scope.em.flush();
      this.connections.forget(host.id);
      // its claims went with it (ON DELETE CASCADE): the engine is free unless another row of the account holds it
      await releaseClaims(scope.em, host.account.id);
    });
    await this.fleet.notify(host.id);
    return { removedId: globalId, activity };
  }

  async setMaintenance(scope: Scope, id: string, on: boolean) {
    const host = await this.get(scope, id);
    const globalId = toGlobalId('DockerHost', host.id);
    const { activity } = await this.audit.run(
      scope,
      { action: on ? 'host.maintenance.enter' : 'host.maintenance.exit', targetType: 'host', targetId: host.id, host, parameters: { id: globalId, maintenance: on } },
      async () => {
        await commitStatus(scope.em, this.syncDeps.pubsub, setMaintenance(host, on));
      },
    );
    await this.fleet.notify(host.id);
    return { host, activity };
  }

  async recover(scope: Scope, id: string) {
    const host = await this.get(scope, id);
    const globalId = toGlobalId('DockerHost', host.id);
    const { activity } = await this.audit.run(scope, { action: 'host.recover', targetType: 'host', targetId: host.id, host, parameters: { id: globalId } }, async () => {
      await commitStatus(scope.em, this.syncDeps.pubsub, recover(host));
    });
    await this.fleet.notify(host.id);
    return { host, activity };
  }

  /** Full sync now: through the local supervisor when this replica runs it (ordered with events), else one-shot. */
  async sync(scope: Scope, id: string) {
    const host = await this.get(scope, id);
    const globalId = toGlobalId('DockerHost', host.id);
    if (host.status === HostStatus.MAINTENANCE) throw conflict(`Host "${host.name}" is in maintenance: no syncing until it is cleared`);
    const { result, activity } = await this.audit.run(scope, { action: 'host.sync', targetType: 'host', targetId: host.id, host, parameters: { id: globalId } }, async (h) => {
      const supervisor = this.fleet.supervisor(host.id) ?? new HostSupervisor(this.syncDeps, host.id, host.account.id);
      const r = (await supervisor.syncNow()) as SyncResult;
      h.activity.result = { containers: r.containers, images: r.images, changes: r.changes.length, pingMs: r.pingMs };
      return r;
    });
    await scope.em.refresh(host);
    return { host, activity, result };
  }

  private applyCredentials(host: DockerHost, creds: TlsCredentials | null | undefined): void {
    if (creds === undefined) return;
    if (creds === null || (!creds.ca && !creds.cert && !creds.key)) {
      host.tlsCredentialsSealed = null;
      host.tlsKeyId = null;
      return;
    }
    host.tlsCredentialsSealed = this.secrets.seal(JSON.stringify({ ca: creds.ca, cert: creds.cert, key: creds.key }));
    host.tlsKeyId = this.secrets.keyId;
  }

  private validate(input: HostInput, creating: boolean): HostInput {
    if (input.name !== undefined && !NAME.test(input.name)) throw badInput('name', 'must be 1–100 letters, digits, ".", "_" or "-", starting with a letter or digit');
    if (input.environment !== undefined && !ENVIRONMENT.test(input.environment)) {
      throw badInput('environment', `must be ${STANDARD_ENVIRONMENTS.join(', ')} or a custom label (lowercase letters, digits, ".", "_", "-"; at most 50)`);
    }
    if (input.syncIntervalSeconds !== undefined && (!Number.isInteger(input.syncIntervalSeconds) || input.syncIntervalSeconds < SYNC_INTERVAL_MIN || input.syncIntervalSeconds > SYNC_INTERVAL_MAX)) {
      throw badInput('syncIntervalSeconds', `must be an integer from ${SYNC_INTERVAL_MIN} to ${SYNC_INTERVAL_MAX}`);
    }
    // before anything is written (the audit row included): refused input leaves no trace
    const creds = input.tlsCredentials;
    if (creds) {
      for (const k of ['ca', 'cert', 'key'] as const) {
        if (creds[k] !== undefined && creds[k] !== null && creds[k] !== '' && !PEM.test(creds[k]!)) throw badInput(`tlsCredentials.${k}`, 'must be PEM text');
      }
    }
    if (input.apiEndpoint !== undefined) {
      const endpoint = parseEndpoint(input.apiEndpoint, input.tlsVerify ?? false);
      if (input.tlsVerify && endpoint.kind === 'unix') throw badInput('tlsVerify', 'does not apply to unix sockets');
      if (creating && input.tlsVerify && (!creds?.ca || !creds.cert || !creds.key)) {
        throw badInput('tlsCredentials', 'ca, cert and key are all required when tlsVerify is true');
      }
    }
    return input;
  }

  private async flushUnique(scope: Scope, name: string): Promise<void> {
    try {
      await scope.em.flush();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw conflict(`A host named "${name}" already exists`, { field: 'name' });
      throw err;
    }
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
