import type Docker from 'dockerode';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DockerHost, SwarmCluster } from '../../../entities';
import type { SecretBox } from '../crypto';
import type { EndpointPolicy } from '../../kernel/addresses';
import { AddressPin, assertEndpointAllowed, createDockerClient, MAX_RESPONSE_BYTES, destroyClient, EndpointRefused, EngineIdentity, parseEndpoint, readEngineIdentity, TlsCredentials } from './client';
import { engineError } from './errors';
import { claimEngine, ClaimHolder, heldByAnotherAccount } from './claims';

export interface DockerConnection {
  /** For ordinary calls: 60 s idle timeout. */
  api: Docker;
  /** For long streams (events, logs, pulls): no idle timeout. */
  stream: Docker;
}

/** What DockerConnections needs of a stored endpoint row (DockerHost, SwarmCluster). */
export interface SealedEndpoint {
  id: string;
  name: string;
  account: { id: string };
  tlsVerify: boolean;
  tlsCredentialsSealed?: string | null;
  connectionRevision: number;
}

export interface ConnectOptions {
  /**
   * New clients, verified again, even when clients of this revision are cached: supervisors ask
   * on every (re)connect, since the same URL may now lead to another engine (or a name to another
   * address). The cached clients are retired.
   */
  reverify?: boolean;
}

/** How long a registration waits for the endpoint to say what it is before it stays PENDING. */
export const PROBE_TIMEOUT_MS = 3000;
/** How long a connection waits for the endpoint to say what it is. */
export const VERIFY_TIMEOUT_MS = 15_000;

/** How long clients of a replaced connection (new endpoint or credentials) may finish their work. */
export const RETIRE_GRACE_MS = 30_000;

/**
 * Dockerode clients per host, built from the stored (sealed) settings and cached per connection
 * revision. Concurrent first uses share one build; clients of a replaced revision are closed
 * (their TLS agents destroyed) after a grace period, so old credentials stop being used.
 *
 * No client is handed out before the engine behind it was verified: it answered `docker info` like
 * Docker and its identity is claimed by the row's account (src/infra/engine/claims.ts). Every
 * connection the clients open passes the endpoint policy (src/kernel/addresses.ts), and a client
 * keeps the address it verified (a host name is resolved once per client), so what was verified
 * is what later calls reach; supervisors get new, re-verified clients on every reconnect.
 */
export class DockerConnections {
  private readonly cache = new Map<string, { revision: number; conn: Promise<DockerConnection> }>();

  constructor(
    private readonly secrets: SecretBox,
    readonly policy: EndpointPolicy,
  ) {}

  async for(em: EntityManager, host: DockerHost, opts: ConnectOptions = {}): Promise<DockerConnection> {
    return this.forTarget(em, DockerHost, host, host.apiEndpoint, opts);
  }

  /**
   * Clients for any row that stores an endpoint with sealed TLS credentials the way DockerHost
   * does (tlsVerify, tlsCredentialsSealed, connectionRevision): hosts, swarm clusters' managers.
   * Cached by the row's id (uuids never collide across tables) and connection revision.
   */
  async forTarget<T extends SealedEndpoint>(em: EntityManager, entity: new () => T, row: T, apiEndpoint: string, opts: ConnectOptions = {}): Promise<DockerConnection> {
    const hit = this.cache.get(row.id);
    if (hit && hit.revision === row.connectionRevision && !opts.reverify) return hit.conn;
    if (hit) this.retire(hit.conn);
    const conn = this.build(em, entity, row, apiEndpoint);
    const entry = { revision: row.connectionRevision, conn };
    this.cache.set(row.id, entry);
    // a failed build (bad stored settings, an engine that is not this account's) is not cached
    conn.catch(() => {
      if (this.cache.get(row.id) === entry) this.cache.delete(row.id);
    });
    return conn;
  }

  /** Drops the cached clients of a host (or cluster) by its id. */
  forget(hostId: string): void {
    const hit = this.cache.get(hostId);
    this.cache.delete(hostId);
    if (hit) this.retire(hit.conn);
  }

  /** The stored TLS credentials of a row (decrypted), for a check before its settings change. */
  async storedCredentials<T extends SealedEndpoint>(em: EntityManager, entity: new () => T, id: string): Promise<TlsCredentials | undefined> {
    const sealed = (await em.findOne(entity as never, id as never, { fields: ['tlsCredentialsSealed'] as never, disableIdentityMap: true })) as T | null;
    return sealed?.tlsCredentialsSealed ? (JSON.parse(this.secrets.open(sealed.tlsCredentialsSealed)) as TlsCredentials) : undefined;
  }

  /**
   * First contact at registration (or a change of endpoint), before anything is stored: the
   * endpoint must be allowed (EndpointRefused otherwise), and when it answers like Docker within
   * PROBE_TIMEOUT_MS, its engine must not be another account's (EndpointRefused). Returns the
   * identity to claim with the row, or undefined when it did not answer (or not like Docker):
   * then the row is stored PENDING and its supervisor checks on first contact.
   */
  async probe(em: EntityManager, accountId: string, apiEndpoint: string, tlsVerify: boolean, creds: TlsCredentials | undefined, field: string): Promise<EngineIdentity | undefined> {
    const endpoint = parseEndpoint(apiEndpoint, tlsVerify, field);
    await assertEndpointAllowed(this.policy, endpoint, field);
    const client = createDockerClient(endpoint, tlsVerify, creds, { policy: this.policy, timeoutMs: PROBE_TIMEOUT_MS });
    try {
      const identity = await readEngineIdentity(client, PROBE_TIMEOUT_MS);
      if (await heldByAnotherAccount(em, accountId, identity)) throw new EndpointRefused('engine is registered by another account', field);
      return identity;
    } catch (err) {
      if (err instanceof EndpointRefused) throw new EndpointRefused(err.reason, field);
      return undefined;
    } finally {
      destroyClient(client);
    }
  }

  private async build<T extends SealedEndpoint>(em: EntityManager, entity: new () => T, row: T, apiEndpoint: string): Promise<DockerConnection> {
    const creds = await this.storedCredentials(em, entity, row.id);
    const endpoint = parseEndpoint(apiEndpoint, row.tlsVerify, fieldOf(entity));
    // one resolution for both clients: the engine verified through `api` is the one `stream` reaches
    const pin: AddressPin = {};
    const conn = {
      api: createDockerClient(endpoint, row.tlsVerify, creds, { policy: this.policy, timeoutMs: 60_000, maxResponseBytes: MAX_RESPONSE_BYTES, pin }),
      stream: createDockerClient(endpoint, row.tlsVerify, creds, { policy: this.policy, pin }),
    };
    try {
      await this.verify(em, entity, row, conn);
    } catch (err) {
      destroyClient(conn.api);
      destroyClient(conn.stream);
      // like any failed Docker call: DOCKER_UNREACHABLE with a fixed reason (refusals pass as they are)
      throw engineError(err, { name: row.name, kind: (entity as unknown) === SwarmCluster ? 'cluster' : 'host' });
    }
    return conn;
  }

  /** Reads what the endpoint is and claims it for the row's account (EndpointRefused when another account holds it). */
  private async verify<T extends SealedEndpoint>(em: EntityManager, entity: new () => T, row: T, conn: DockerConnection): Promise<void> {
    const identity = await readEngineIdentity(conn.api, VERIFY_TIMEOUT_MS);
    const holder: ClaimHolder = { column: (entity as unknown) === SwarmCluster ? 'cluster_id' : 'host_id', id: row.id };
    await claimEngine(em, row.account.id, holder, identity, fieldOf(entity));
  }

  private retire(conn: Promise<DockerConnection>): void {
    conn
      .then((c) => {
        const timer = setTimeout(() => {
          for (const client of [c.api, c.stream]) destroyClient(client);
        }, RETIRE_GRACE_MS);
        timer.unref();
      })
      .catch(() => undefined);
  }
}

function fieldOf(entity: unknown): string {
  return entity === SwarmCluster ? 'managerEndpoint' : 'apiEndpoint';
}
