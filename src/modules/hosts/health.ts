import type { EntityManager } from '@mikro-orm/postgresql';
import type { DockerHost } from '../../../entities';

const TABLE = 'docker_containers';

export interface HostHealthFigures {
  status: DockerHost['status'];
  pingLatencyMs: number | null;
  healthy: number;
  unhealthy: number;
  starting: number;
  none: number;
  running: number;
  total: number;
  cpuCount: number | null;
  memoryBytes: string | null;
  storageBytes: string | null;
  lastSyncedAt: Date | null;
}

/** Health of a host from its stored inventory: one grouped query over its containers. */
export async function hostHealth(em: EntityManager, host: DockerHost): Promise<HostHealthFigures> {
  // host was loaded through the tenant filter, so filtering by its id keeps the query in the account
  const rows: { health: string | null; running: boolean; n: string }[] = await em
    .getConnection()
    .execute(`select health, state = 'running' as running, count(*) as n from ${TABLE} where host_id = ? group by 1, 2`, [host.id]);
  const counts = { healthy: 0, unhealthy: 0, starting: 0, none: 0, running: 0, total: 0 };
  for (const r of rows) {
    const n = Number(r.n);
    counts.total += n;
    if (r.running) counts.running += n;
    const key = r.health === 'healthy' || r.health === 'unhealthy' || r.health === 'starting' ? r.health : 'none';
    counts[key] += n;
  }
  return {
    status: host.status,
    pingLatencyMs: host.pingLatencyMs ?? null,
    ...counts,
    cpuCount: host.cpuCount ?? null,
    // bigint columns come back from MikroORM as JS bigint: keep them exact, as decimal strings
    memoryBytes: host.memoryBytes == null ? null : String(host.memoryBytes),
    storageBytes: host.storageBytes == null ? null : String(host.storageBytes),
    lastSyncedAt: host.lastSyncedAt ?? null,
  };
}
