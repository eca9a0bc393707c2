import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import type { Engine } from '../../infra/engine/port';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DockerContainer, DockerHost } from '../../../entities';
import { executePrepared } from '../../infra/db/prepared';
import { storable, storableJson } from '../../infra/db/storable';

/** A container row as we store it (from a list entry or an inspect). */
export interface ContainerRow {
  containerId: string;
  name: string;
  image: string;
  imageId: string | null;
  state: string;
  status: string | null;
  health: string | null;
  command: string | null;
  labels: Record<string, string>;
  ports: object[];
  dockerCreatedAt: Date | null;
}

export interface ContainerChange {
  containerId: string;
  name: string;
  kind: 'created' | 'changed' | 'removed';
  before?: string;
  after?: string;
}

const HEALTH = /\((healthy|unhealthy|health: starting)\)/;

export function rowFromList(c: Docker.ContainerInfo): ContainerRow {
  const health = HEALTH.exec(c.Status ?? '')?.[1];
  return {
    containerId: c.Id,
    name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''),
    image: c.Image,
    imageId: c.ImageID || null,
    state: c.State,
    status: c.Status || null,
    health: health === 'health: starting' ? 'starting' : (health ?? null),
    command: c.Command || null,
    labels: c.Labels ?? {},
    ports: (c.Ports ?? []) as object[],
    dockerCreatedAt: c.Created ? new Date(c.Created * 1000) : null,
  };
}

export function rowFromInspect(c: Docker.ContainerInspectInfo): ContainerRow {
  const ports: object[] = [];
  for (const [key, bindings] of Object.entries(c.NetworkSettings?.Ports ?? {})) {
    const [priv, type] = key.split('/');
    for (const b of bindings ?? [{ HostIp: '', HostPort: '' }]) {
      ports.push({ PrivatePort: Number(priv), Type: type, ...(b.HostPort ? { PublicPort: Number(b.HostPort), IP: b.HostIp } : {}) });
    }
  }
  return {
    containerId: c.Id,
    name: c.Name.replace(/^\//, ''),
    image: c.Config?.Image ?? c.Image,
    imageId: c.Image || null,
    state: c.State.Status,
    status: describeState(c.State),
    health: (c.State as { Health?: { Status?: string } }).Health?.Status ?? null,
    command: [c.Path, ...(c.Args ?? [])].join(' ') || null,
    labels: c.Config?.Labels ?? {},
    ports,
    dockerCreatedAt: c.Created ? new Date(c.Created) : null,
  };
}

function describeState(s: Docker.ContainerInspectInfo['State']): string {
  if (s.Running) return s.Paused ? 'Paused' : `Up since ${s.StartedAt}`;
  if (s.Status === 'exited') return `Exited (${s.ExitCode}) at ${s.FinishedAt}`;
  return s.Status;
}

/**
 * Upserts container rows of one host in one prepared statement (one shape whatever the number of
 * rows: they travel as one JSON parameter). It runs after nearly every container event.
 */
export async function upsertContainers(em: EntityManager, host: { id: string; account: { id: string } }, rows: ContainerRow[]): Promise<void> {
  if (rows.length === 0) return;
  const json = rows.map((r) => ({
    id: randomUUID(),
    container_id: r.containerId,
    name: r.name,
    image: r.image.slice(0, 500),
    image_id: r.imageId,
    state: r.state,
    status: r.status?.slice(0, 200) ?? null,
    health: r.health,
    command: r.command,
    labels: r.labels,
    ports: r.ports,
    docker_created_at: r.dockerCreatedAt,
  }));
  await executePrepared(
    em,
    `insert into docker_containers (id, account_id, host_id, container_id, name, image, image_id, state, status, health, command, labels, ports, docker_created_at, created_at, updated_at)
     select x.id, ?::uuid, ?::uuid, x.container_id, x.name, x.image, x.image_id, x.state, x.status, x.health, x.command, coalesce(x.labels, '{}'), coalesce(x.ports, '[]'), x.docker_created_at, now(), now()
       from jsonb_to_recordset(?::jsonb) as x(id uuid, container_id text, name text, image text, image_id text, state text, status text, health text, command text, labels jsonb, ports jsonb, docker_created_at timestamptz)
     on conflict (host_id, container_id) do update set
       name = excluded.name, image = excluded.image, image_id = excluded.image_id, state = excluded.state, status = excluded.status, health = excluded.health,
       command = excluded.command, labels = excluded.labels, ports = excluded.ports, docker_created_at = excluded.docker_created_at, updated_at = excluded.updated_at`,
    [host.account.id, host.id, storableJson(json)],
  );
}

export interface SyncResult {
  changes: ContainerChange[];
  containers: number;
  images: number;
  pingMs: number;
}

/**
 * Full list-and-diff of one host: ping, info, containers (all states) and images; bulk
 * upserts, deletes rows Docker no longer has, stores system info and counts on the host,
 * and returns what changed in the container inventory.
 */
export async function syncInventory(em: EntityManager, host: DockerHost, engine: Engine): Promise<SyncResult> {
  const t0 = process.hrtime.bigint();
  await engine.ping();
  const pingMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const [info, containers, images] = await Promise.all([engine.info(), engine.listContainers(), engine.listImages()]);
  const rows = containers.map(rowFromList);
  const before = await em.find(DockerContainer, { host }, { fields: ['containerId', 'name', 'state'] as never, disableIdentityMap: true });
  const beforeById = new Map(before.map((c) => [c.containerId, c]));
  const changes: ContainerChange[] = [];
  for (const r of rows) {
    const old = beforeById.get(r.containerId);
    if (!old) changes.push({ containerId: r.containerId, name: r.name, kind: 'created', after: r.state });
    else if (old.state !== r.state) changes.push({ containerId: r.containerId, name: r.name, kind: 'changed', before: old.state, after: r.state });
    beforeById.delete(r.containerId);
  }
  for (const gone of beforeById.values()) changes.push({ containerId: gone.containerId, name: gone.name, kind: 'removed', before: gone.state });

  await upsertContainers(em, host, rows);
  // the kept ids as one array parameter (a `not in` list is a parameter per container)
  await executePrepared(em, `delete from docker_containers where host_id = ?::uuid and not (container_id = any(?::text[]))`, [host.id, rows.map((r) => storable(r.containerId))]);

  await replaceImages(em, host, images);
  const now = new Date();

  const swarm = info.Swarm;
  host.engineId = (info.ID as string) ?? null;
  host.dockerVersion = (info.ServerVersion as string) ?? null;
  host.operatingSystem = (info.OperatingSystem as string) ?? null;
  host.osType = (info.OSType as string) ?? null;
  host.architecture = (info.Architecture as string) ?? null;
  host.kernelVersion = (info.KernelVersion as string) ?? null;
  host.cpuCount = (info.NCPU as number) ?? null;
  host.memoryBytes = info.MemTotal != null ? String(info.MemTotal) : null;
  host.storageDriver = (info.Driver as string) ?? null;
  host.storageBytes = String(images.reduce((sum, i) => sum + (i.Size ?? 0), 0));
  host.containerCount = containers.length;
  host.runningContainerCount = containers.filter((c) => c.State === 'running').length;
  host.imageCount = images.length;
  host.swarmNodeId = swarm?.LocalNodeState === 'active' && swarm.NodeID ? swarm.NodeID : null;
  host.pingLatencyMs = Math.round(pingMs * 100) / 100;
  host.lastSyncedAt = now;
  return { changes, containers: containers.length, images: images.length, pingMs };
}

/** Stores a host's full image list: bulk upsert, then delete rows Docker no longer has. */
export async function replaceImages(em: EntityManager, host: DockerHost, images: Docker.ImageInfo[]): Promise<void> {
  // one JSON parameter for all rows, and the kept ids as one array: a host with thousands of images
  // stays far below PostgreSQL's 65,535 parameters per statement (11 per row failed past ~5,900)
  if (images.length > 0) {
    const rows = images.map((i) => ({
      id: randomUUID(),
      image_id: i.Id,
      repo_tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
      repo_digests: (i.RepoDigests ?? []).filter((t) => t !== '<none>@<none>'),
      size_bytes: String(i.Size ?? 0),
      labels: i.Labels ?? {},
      docker_created_at: i.Created ? new Date(i.Created * 1000) : null,
    }));
    await executePrepared(
      em,
      `insert into docker_images (id, account_id, host_id, image_id, repo_tags, repo_digests, size_bytes, labels, docker_created_at, created_at, updated_at)
       select x.id, ?::uuid, ?::uuid, x.image_id, coalesce(x.repo_tags, '[]'), coalesce(x.repo_digests, '[]'), x.size_bytes::bigint, coalesce(x.labels, '{}'), x.docker_created_at, now(), now()
         from jsonb_to_recordset(?::jsonb) as x(id uuid, image_id text, repo_tags jsonb, repo_digests jsonb, size_bytes text, labels jsonb, docker_created_at timestamptz)
       on conflict (host_id, image_id) do update set
         repo_tags = excluded.repo_tags, repo_digests = excluded.repo_digests, size_bytes = excluded.size_bytes, labels = excluded.labels,
         docker_created_at = excluded.docker_created_at, updated_at = excluded.updated_at`,
      [host.account.id, host.id, storableJson(rows)],
    );
  }
  await executePrepared(em, `delete from docker_images where host_id = ?::uuid and not (image_id = any(?::text[]))`, [host.id, images.map((i) => storable(i.Id))]);
}

/** Re-lists the images of a host (after pull, build, tag, remove) and stores them. */
export async function refreshImages(em: EntityManager, host: DockerHost, engine: Engine): Promise<void> {
  await replaceImages(em, host, await engine.listImages());
}
