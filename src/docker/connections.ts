import type Docker from 'dockerode';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DockerHost } from '../../entities';
import type { SecretBox } from '../crypto';
import { createDockerClient, parseEndpoint, TlsCredentials } from './client';

export interface DockerConnection {
  /** For ordinary calls: 60 s idle timeout. */
  api: Docker;
  /** For long streams (events, logs, pulls): no idle timeout. */
  stream: Docker;
}

/** What DockerConnections needs of a stored endpoint row (DockerHost, SwarmCluster). */
export interface SealedEndpoint {
  id: string;
  tlsVerify: boolean;
  tlsCredentialsSealed?: string | null;
  connectionRevision: number;
}

/** How long clients of a replaced connection (new endpoint or credentials) may finish their work. */
export const RETIRE_GRACE_MS = 30_000;

/**
 * Dockerode clients per host, built from the stored (sealed) settings and cached per connection
 * revision. Concurrent first uses share one build; clients of a replaced revision are closed
 * (their TLS agents destroyed) after a grace period, so old credentials stop being used.
 */
export class DockerConnections {
  private readonly cache = new Map<string, { revision: number; conn: Promise<DockerConnection> }>();

  constructor(private readonly secrets: SecretBox) {}

  async for(em: EntityManager, host: DockerHost): Promise<DockerConnection> {
    return this.forTarget(em, DockerHost, host, host.apiEndpoint);
  }

  /**
   * Clients for any row that stores an endpoint with sealed TLS credentials the way DockerHost
   * does (tlsVerify, tlsCredentialsSealed, connectionRevision): hosts, swarm clusters' managers.
   * Cached by the row's id (uuids never collide across tables) and connection revision.
   */
  forTarget<T extends SealedEndpoint>(em: EntityManager, entity: new () => T, row: T, apiEndpoint: string): Promise<DockerConnection> {
    const hit = this.cache.get(row.id);
    if (hit && hit.revision === row.connectionRevision) return hit.conn;
    if (hit) this.retire(hit.conn);
    const conn = this.build(em, entity, row, apiEndpoint);
    this.cache.set(row.id, { revision: row.connectionRevision, conn });
    // a failed build (bad stored settings) is not cached
    conn.catch(() => {
      if (this.cache.get(row.id)?.conn === conn) this.cache.delete(row.id);
    });
    return conn;
  }

  /** Drops the cached clients of a host (or cluster) by its id. */
  forget(hostId: string): void {
    const hit = this.cache.get(hostId);
    this.cache.delete(hostId);
    if (hit) this.retire(hit.conn);
  }

  private async build<T extends SealedEndpoint>(em: EntityManager, entity: new () => T, row: T, apiEndpoint: string): Promise<DockerConnection> {
    const sealed = (await em.findOne(entity as never, row.id as never, { fields: ['tlsCredentialsSealed'] as never, disableIdentityMap: true })) as T | null;
    const creds = sealed?.tlsCredentialsSealed ? (JSON.parse(this.secrets.open(sealed.tlsCredentialsSealed)) as TlsCredentials) : undefined;
    const endpoint = parseEndpoint(apiEndpoint, row.tlsVerify);
    return {
      api: createDockerClient(endpoint, row.tlsVerify, creds, { timeoutMs: 60_000 }),
      stream: createDockerClient(endpoint, row.tlsVerify, creds, {}),
    };
  }

  private retire(conn: Promise<DockerConnection>): void {
    conn
      .then((c) => {
        const timer = setTimeout(() => {
          for (const client of [c.api, c.stream]) (client.modem as unknown as { agent?: { destroy?: () => void } }).agent?.destroy?.();
        }, RETIRE_GRACE_MS);
        timer.unref();
      })
      .catch(() => undefined);
  }
}
