import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { HostStatus, SupervisedEndpoint } from '../../../entities';
import { badInput, conflict, notFound } from '../../kernel/errors';
import { toGlobalId } from '../../kernel/ids';
import type { Scope } from '../../kernel/scope';
import type { SecretBox } from '../../infra/crypto';
import { credentialsOf, EngineIdentity, parseEndpoint, TlsCredentials } from '../../infra/engine/client';
import type { DockerConnections } from '../../infra/engine/connections';
import { releaseClaims, saveWithClaim } from '../../infra/engine/claims';
import type { ActivityHandle, ActivitySpec, Audit } from '../audit/activity';
import { HostStatusPayload, reconnect, recover, setMaintenance } from './status';

/** A supervised endpoint row: a host (apiEndpoint) or a cluster (managerEndpoint). */
export type Endpoint = SupervisedEndpoint & { name: string };

/** What differs between hosts and clusters; everything else about registering and running an endpoint is shared. */
export interface EndpointKind<E extends Endpoint> {
  entity: new (...args: never[]) => E;
  /** GraphQL type name (NOT_FOUND messages and audit parameters show global ids). */
  typeName: 'DockerHost' | 'SwarmCluster';
  /** `host` or `cluster`: action prefix (`host.register`), audit target type, messages. */
  noun: 'host' | 'cluster';
  /** The row's (and the input's) endpoint field. */
  endpointField: 'apiEndpoint' | 'managerEndpoint';
  /** Column of engine_claim_holders naming the row. */
  claimColumn: 'host_id' | 'cluster_id';
  syncIntervalSeconds: { min: number; max: number };
  /** Where the row appears in its activities (`host` or `cluster`). */
  subject(row: E): Pick<ActivitySpec, 'host' | 'cluster'>;
  attach(handle: ActivityHandle, row: E): void;
  /** Flushes and, after the commit, publishes a status change (if any) on the kind's topic. */
  commitStatus(em: EntityManager, row: E, change: HostStatusPayload | undefined): Promise<void>;
}

/** Settings every endpoint has; `endpoint` is the input's apiEndpoint or managerEndpoint. */
export interface EndpointSettings {
  name?: string;
  endpoint?: string;
  tlsVerify?: boolean;
  tlsCredentials?: TlsCredentials | null;
  syncIntervalSeconds?: number;
}

/** The fleet of supervisors (a LeasedFleet): told when a row changes, stopped with it. */
export interface EndpointFleet {
  notify(id: string): Promise<void>;
  supervisor(id: string): { stop(): Promise<void> } | undefined;
}

export interface EndpointRegistryDeps {
  audit: Audit;
  secrets: SecretBox;
  connections: DockerConnections;
  fleet: EndpointFleet;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const PEM = /-----BEGIN [A-Z0-9 ]+-----[\s\S]+-----END [A-Z0-9 ]+-----/;

/**
 * The one endpoint machinery of hosts and clusters: registration (first contact probed and the
 * engine claimed before anything is stored), settings (a connection change bumps the revision,
 * forgets cached clients and moves the status machine to pending), removal (claims released),
 * maintenance and recovery. Every status change goes through `kind.commitStatus`, so a host's
 * and a cluster's transitions are published the same way; every change is audited on the Scope.
 */
export class EndpointRegistry<E extends Endpoint> {
  constructor(
    private readonly kind: EndpointKind<E>,
    private readonly deps: EndpointRegistryDeps,
  ) {}

  /** A row of the scope's account, or NOT_FOUND. */
  async get(scope: Scope, id: string): Promise<E> {
    const row = await scope.em.findOne(this.kind.entity, id);
    if (!row) throw notFound(this.kind.typeName, this.globalId(id));
    return row as E;
  }

  globalId(id: string): string {
    return toGlobalId(this.kind.typeName, id);
  }

  private endpointOf(row: E): string {
    return (row as unknown as Record<string, string>)[this.kind.endpointField];
  }

  /** Input checks shared by every endpoint, before anything is written (the audit row included). */
  validate(input: EndpointSettings, creating: boolean): void {
    const { min, max } = this.kind.syncIntervalSeconds;
    if (input.name !== undefined && !NAME.test(input.name)) throw badInput('name', 'must be 1–100 letters, digits, ".", "_" or "-", starting with a letter or digit');
    if (input.syncIntervalSeconds !== undefined && (!Number.isInteger(input.syncIntervalSeconds) || input.syncIntervalSeconds < min || input.syncIntervalSeconds > max)) {
      throw badInput('syncIntervalSeconds', `must be an integer from ${min} to ${max}`);
    }
    const creds = input.tlsCredentials;
    if (creds) {
      for (const k of ['ca', 'cert', 'key'] as const) {
        if (creds[k] !== undefined && creds[k] !== null && creds[k] !== '' && !PEM.test(creds[k]!)) throw badInput(`tlsCredentials.${k}`, 'must be PEM text');
      }
    }
    if (input.endpoint !== undefined) {
      const endpoint = parseEndpoint(input.endpoint, input.tlsVerify ?? false, this.kind.endpointField);
      if (input.tlsVerify && endpoint.kind === 'unix') throw badInput('tlsVerify', 'does not apply to unix sockets');
      if (creating && input.tlsVerify && (!creds?.ca || !creds.cert || !creds.key)) throw badInput('tlsCredentials', 'ca, cert and key are all required when tlsVerify is true');
    }
  }

  /** CONFLICT when another row of the account has the name. */
  async assertNameFree(scope: Scope, name: string, except?: string): Promise<void> {
    const where = except ? { name, id: { $ne: except } } : { name };
    if (await scope.em.count(this.kind.entity, where as never)) throw this.nameTaken(name);
  }

  private nameTaken(name: string) {
    return conflict(`A ${this.kind.noun} named "${name}" already exists`, { field: 'name' });
  }

  /**
   * Registers a row: validation, name, first contact (a refused endpoint or another account's
   * engine leaves nothing stored, not even an audit row), then the audited insert with the claim.
   * `fields` are the kind's own columns.
   */
  async register(
    scope: Scope,
    input: EndpointSettings & { name: string; endpoint: string },
    fields: Record<string, unknown>,
    parameters: object,
  ): Promise<{ row: E; activity: Awaited<ReturnType<Audit['run']>>['activity'] }> {
    this.validate(input, true);
    await this.assertNameFree(scope, input.name);
    const identity = await this.deps.connections.probe(scope.em, scope.accountId, input.endpoint, input.tlsVerify ?? false, credentialsOf(input.tlsCredentials), this.kind.endpointField);
    const { result: row, activity } = await this.deps.audit.run(scope, { action: `${this.kind.noun}.register`, targetType: this.kind.noun, targetId: input.name, parameters }, async (h) => {
      const row = scope.em.create(this.kind.entity, {
        account: scope.accountId,
        name: input.name,
        [this.kind.endpointField]: input.endpoint,
        tlsVerify: input.tlsVerify ?? false,
        syncIntervalSeconds: input.syncIntervalSeconds ?? 60,
        status: HostStatus.PENDING,
        ...fields,
      } as never) as E;
      this.applyCredentials(row, input.tlsCredentials);
      await this.saveWithClaim(scope, row, identity);
      this.kind.attach(h, row);
      h.setTarget(row.id);
      return row;
    });
    await this.deps.fleet.notify(row.id);
    return { row, activity };
  }

  /** Registers a row made from an existing engine connection (swarm init): no probe, the audit row is the caller's. */
  async insert(scope: Scope, values: Record<string, unknown>): Promise<E> {
    const row = scope.em.create(this.kind.entity, { account: scope.accountId, status: HostStatus.PENDING, ...values } as never) as E;
    await this.flushUnique(scope, row.name);
    return row;
  }

  /**
   * Changes settings. A new endpoint, TLS mode or credentials is probed first (claims included),
   * then bumps the connection revision, forgets cached clients and moves the status machine to
   * pending; that transition is published. `apply` sets the kind's own fields.
   */
  async update(scope: Scope, id: string, input: EndpointSettings, parameters: object, apply?: (row: E) => void) {
    const row = await this.get(scope, id);
    const tlsVerify = input.tlsVerify ?? row.tlsVerify;
    this.validate({ ...input, endpoint: input.endpoint ?? this.endpointOf(row), tlsVerify }, false);
    if (tlsVerify) {
      // a verified endpoint must end up with a full set of credentials: new ones, or the stored ones
      const creds = input.tlsCredentials;
      const complete = creds === undefined ? Boolean(row.tlsKeyId) : Boolean(creds?.ca && creds.cert && creds.key);
      if (!complete) throw badInput('tlsCredentials', 'ca, cert and key are all required when tlsVerify is true');
    }
    if (input.name !== undefined && input.name !== row.name) await this.assertNameFree(scope, input.name, row.id);
    const connectionChanged =
      (input.endpoint !== undefined && input.endpoint !== this.endpointOf(row)) || (input.tlsVerify !== undefined && input.tlsVerify !== row.tlsVerify) || input.tlsCredentials !== undefined;
    const identity = connectionChanged
      ? await this.deps.connections.probe(
          scope.em,
          row.account.id,
          input.endpoint ?? this.endpointOf(row),
          tlsVerify,
          input.tlsCredentials === undefined ? await this.deps.connections.storedCredentials(scope.em, this.kind.entity as never, row.id) : credentialsOf(input.tlsCredentials),
          this.kind.endpointField,
        )
      : undefined;
    const { activity } = await this.deps.audit.run(scope, { action: `${this.kind.noun}.update`, targetType: this.kind.noun, targetId: row.id, ...this.kind.subject(row), parameters }, async () => {
      let statusChange: HostStatusPayload | undefined;
      if (input.name !== undefined) row.name = input.name;
      if (input.syncIntervalSeconds !== undefined) row.syncIntervalSeconds = input.syncIntervalSeconds;
      if (input.endpoint !== undefined) (row as unknown as Record<string, string>)[this.kind.endpointField] = input.endpoint;
      if (input.tlsVerify !== undefined) row.tlsVerify = input.tlsVerify;
      if (input.tlsCredentials !== undefined) this.applyCredentials(row, input.tlsCredentials);
      apply?.(row);
      if (connectionChanged) {
        row.connectionRevision += 1;
        statusChange = reconnect(row);
        this.deps.connections.forget(row.id);
      }
      await this.saveWithClaim(scope, row, identity);
      // a status change is published like any other (connected → pending here)
      await this.kind.commitStatus(scope.em, row, statusChange);
    });
    await this.deps.fleet.notify(row.id);
    return { row, activity };
  }

  /** Removes a row: its supervisor stops, its claims go with it (the engine is free unless another row of the account holds it). */
  async remove(scope: Scope, id: string) {
    const row = await this.get(scope, id);
    const globalId = this.globalId(row.id);
    const { activity } = await this.deps.audit.run(
      scope,
      { action: `${this.kind.noun}.remove`, targetType: this.kind.noun, targetId: row.id, parameters: { id: globalId, name: row.name } },
      async () => {
        await this.deps.fleet.supervisor(row.id)?.stop();
        scope.em.remove(row);
        await scope.em.flush();
        this.deps.connections.forget(row.id);
        await releaseClaims(scope.em, row.account.id);
      },
    );
    await this.deps.fleet.notify(row.id);
    return { removedId: globalId, activity };
  }

  /** Maintenance on (no watching, no syncing) or off (back to pending: reconnects); the transition is published. */
  async setMaintenance(scope: Scope, id: string, on: boolean) {
    return this.transition(scope, id, on ? 'maintenance.enter' : 'maintenance.exit', { maintenance: on }, (row) => setMaintenance(row, on));
  }

  /** Clears failures of a row in error (back to pending); the transition is published. */
  async recover(scope: Scope, id: string) {
    return this.transition(scope, id, 'recover', {}, (row) => recover(row));
  }

  /**
   * A full sync now, audited (`<noun>.sync`); refused (CONFLICT) in maintenance. `run` syncs the
   * row (through the local supervisor when this replica runs it, ordered with events, else one-shot)
   * and `summary` is what the activity records of its result.
   */
  async sync<R>(scope: Scope, id: string, run: (row: E) => Promise<R>, summary: (result: R) => Record<string, unknown>) {
    const row = await this.get(scope, id);
    if (row.status === HostStatus.MAINTENANCE) throw conflict(`${this.kind.noun === 'host' ? 'Host' : 'Cluster'} "${row.name}" is in maintenance: no syncing until it is cleared`);
    const spec: ActivitySpec = { action: `${this.kind.noun}.sync`, targetType: this.kind.noun, targetId: row.id, ...this.kind.subject(row), parameters: { id: this.globalId(row.id) } };
    const { result, activity } = await this.deps.audit.run(scope, spec, async (h) => {
      const r = await run(row);
      h.activity.result = summary(r);
      return r;
    });
    await scope.em.refresh(row);
    return { row, activity, result };
  }

  private async transition(scope: Scope, id: string, action: string, parameters: object, move: (row: E) => HostStatusPayload | undefined) {
    const row = await this.get(scope, id);
    const spec: ActivitySpec = {
      action: `${this.kind.noun}.${action}`,
      targetType: this.kind.noun,
      targetId: row.id,
      ...this.kind.subject(row),
      parameters: { id: this.globalId(row.id), ...parameters },
    };
    const { activity } = await this.deps.audit.run(scope, spec, () => this.kind.commitStatus(scope.em, row, move(row)));
    await this.deps.fleet.notify(row.id);
    return { row, activity };
  }

  private applyCredentials(row: E, creds: TlsCredentials | null | undefined): void {
    if (creds === undefined) return;
    if (creds === null || (!creds.ca && !creds.cert && !creds.key)) {
      row.tlsCredentialsSealed = null;
      row.tlsKeyId = null;
      return;
    }
    row.tlsCredentialsSealed = this.deps.secrets.seal(JSON.stringify({ ca: creds.ca, cert: creds.cert, key: creds.key }));
    row.tlsKeyId = this.deps.secrets.keyId;
  }

  private saveWithClaim(scope: Scope, row: E, identity: EngineIdentity | undefined): Promise<void> {
    return saveWithClaim(scope.em, row.account.id, { column: this.kind.claimColumn, id: row.id }, identity, this.kind.endpointField, () => this.flushUnique(scope, row.name));
  }

  /** Flushes; a unique-name race lost to a concurrent request is CONFLICT, as the check before it. */
  async flushUnique(scope: Scope, name: string): Promise<void> {
    try {
      await scope.em.flush();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw this.nameTaken(name);
      throw err;
    }
  }
}
