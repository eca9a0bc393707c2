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

/** Dockerode clients per host, built from the stored (sealed) settings and cached per connection revision. */
export class DockerConnections {
  private readonly cache = new Map<string, { revision: number; conn: DockerConnection }>();

  constructor(private readonly secrets: SecretBox) {}

  async for(em: EntityManager, host: DockerHost): Promise<DockerConnection> {
    const hit = this.cache.get(host.id);
    if (hit && hit.revision === host.connectionRevision) return hit.conn;
    const sealed = await em.findOne(DockerHost, host.id, { fields: ['tlsCredentialsSealed'] as never, disableIdentityMap: true });
    const creds = sealed?.tlsCredentialsSealed ? (JSON.parse(this.secrets.open(sealed.tlsCredentialsSealed)) as TlsCredentials) : undefined;
    const endpoint = parseEndpoint(host.apiEndpoint, host.tlsVerify);
    const conn = {
      api: createDockerClient(endpoint, host.tlsVerify, creds, { timeoutMs: 60_000 }),
      stream: createDockerClient(endpoint, host.tlsVerify, creds, {}),
    };
    this.cache.set(host.id, { revision: host.connectionRevision, conn });
    return conn;
  }

  forget(hostId: string): void {
    this.cache.delete(hostId);
  }
}
