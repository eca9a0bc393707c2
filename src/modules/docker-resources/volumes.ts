import type { DockerHost } from '../../../entities';
import { badInput } from '../../kernel/errors';
import type { Scope } from '../../kernel/scope';
import type { HostOperations } from './operations';
import type { VolumeInspect } from '../../infra/engine/types';
import { hostAccessForbidden, mayAccessHost } from '../../platform/policy/enforce';

export interface DockerVolumeInfo {
  name: string;
  driver: string;
  mountpoint: string;
  scope: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  createdAt: Date | null;
}

export interface CreateVolumeInput {
  name?: string | null;
  driver?: string | null;
  driverOpts?: Record<string, unknown> | null;
  labels?: Record<string, unknown> | null;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/;

export function volumeInfo(v: VolumeInspect): DockerVolumeInfo {
  return {
    name: v.Name,
    driver: v.Driver,
    mountpoint: v.Mountpoint,
    scope: v.Scope ?? 'local',
    labels: v.Labels ?? {},
    options: v.Options ?? {},
    createdAt: v.CreatedAt ? new Date(v.CreatedAt) : null,
  };
}

const strings = (o: Record<string, unknown> | null | undefined) => Object.fromEntries(Object.entries(o ?? {}).map(([k, v]) => [k, String(v)]));

/** Volumes of one host (the runbook's VolumeManager): live from Docker, not stored. */
export class VolumeManager {
  constructor(private readonly ops: HostOperations) {}

  list(scope: Scope, host: DockerHost, name?: string | null): Promise<DockerVolumeInfo[]> {
    return this.ops.read(scope, host, async (engine) => {
      const volumes = await engine.listVolumes(name ? { name: [name] } : undefined);
      return volumes.map(volumeInfo).sort((a, b) => a.name.localeCompare(b.name));
    });
  }

  inspect(scope: Scope, host: DockerHost, name: string): Promise<VolumeInspect> {
    return this.ops.read(scope, host, (engine) => engine.inspectVolume(name));
  }

  async create(scope: Scope, host: DockerHost, input: CreateVolumeInput) {
    if (input.name != null && !NAME.test(input.name)) throw badInput('name', 'must be letters, digits, "_", "." or "-", starting with a letter or digit');
    const driver = input.driver ?? 'local';
    if (!driver.trim()) throw badInput('driver', 'must be a volume driver name (local by default)');
    // a local volume with options (type=none,o=bind,device=/) is a bind of any host path; other drivers are plugins
    const refusals = [
      ...(driver !== 'local' ? [{ field: 'driver', reason: `volume driver ${JSON.stringify(driver.slice(0, 100))} is not local` }] : []),
      ...(Object.keys(input.driverOpts ?? {}).length ? [{ field: 'driverOpts', reason: 'driver options can mount any host path into the volume' }] : []),
    ];
    if (refusals.length && !mayAccessHost(scope)) throw hostAccessForbidden(refusals);
    return this.ops.run(scope, host, { action: 'volume.create', targetType: 'volume', targetId: input.name ?? null, parameters: input }, async ({ engine, handle }) => {
      const v = await engine.createVolume({
        Name: input.name ?? undefined,
        Driver: driver,
        DriverOpts: strings(input.driverOpts),
        Labels: strings(input.labels),
      });
      handle.setTarget(v.Name);
      return volumeInfo(v);
    });
  }

  async remove(scope: Scope, host: DockerHost, name: string, force: boolean) {
    // the name goes into a Docker API path
    if (!NAME.test(name)) throw badInput('name', 'must be letters, digits, "_", "." or "-", starting with a letter or digit');
    const { activity } = await this.ops.run(scope, host, { action: 'volume.remove', targetType: 'volume', targetId: name, parameters: { name, force } }, async ({ engine }) => {
      await engine.removeVolume(name, force);
    });
    return { removedId: name, activity };
  }

  /** Removes unused volumes (optionally only those with all the given labels). */
  async prune(scope: Scope, host: DockerHost, labels: string[] | null | undefined) {
    for (const l of labels ?? []) if (!l.trim()) throw badInput('labels', 'entries are key or key=value');
    const { result, activity } = await this.ops.run(scope, host, { action: 'volume.prune', targetType: 'volume', targetId: null, parameters: { labels } }, async ({ engine, handle }) => {
      const res = await engine.pruneVolumes(labels?.length ? { label: labels } : undefined);
      const out = { volumesDeleted: res.VolumesDeleted ?? [], spaceReclaimedBytes: String(res.SpaceReclaimed ?? 0) };
      handle.activity.result = { deleted: out.volumesDeleted.length, spaceReclaimedBytes: out.spaceReclaimedBytes };
      return out;
    });
    return { ...result, activity };
  }
}
