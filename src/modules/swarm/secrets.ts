import { SecretKind, SecretReference, SwarmCluster, SwarmService } from '../../../entities';
import { badInput, conflict, notFound } from '../../kernel/errors';
import { toGlobalId } from '../../kernel/ids';
import type { Scope } from '../../kernel/scope';
import type { HostAccessGuard } from '../../platform/policy/enforce';
import { versionOf, withVersionRetry } from './docker';
import { checkServiceAccess } from './services';
import type { ClusterOperations } from './operation';
import { FAMILY_LABEL, GENERATION_LABEL, upsertService, upsertSecret } from './sync';

import type { SecretInspect, ServiceSpec } from '../../infra/engine/types';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Docker's limit for secret and config data. */
export const MAX_DATA_BYTES = 500 * 1024;

function checkData(value: string, field: string): Buffer {
  const data = Buffer.from(value, 'utf8');
  if (data.length === 0) throw badInput(field, 'must not be empty');
  if (data.length > MAX_DATA_BYTES) throw badInput(field, `must be at most ${MAX_DATA_BYTES} bytes`);
  return data;
}

function checkName(name: string): void {
  if (!NAME.test(name)) throw badInput('name', 'must be 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit');
}

const referenceGid = (id: string) => toGlobalId('SecretReference', id);

async function referenceById(scope: Scope, id: string, kind: SecretKind): Promise<SecretReference & { cluster: SwarmCluster }> {
  const row = await scope.em.findOne(SecretReference, { id, kind }, { populate: ['cluster'] });
  if (!row) throw notFound(kind === SecretKind.SECRET ? 'Secret' : 'Config', referenceGid(id));
  return row as SecretReference & { cluster: SwarmCluster };
}

/**
 * Swarm secrets. A value goes to Docker once and is never stored, logged (inputs are redacted
 * in activities) or returned; only metadata is kept (SecretReference). Docker lets only the
 * labels of a secret change; rotateSecret is the one way to change a value.
 */
export class SecretManager {
  constructor(
    private readonly ops: ClusterOperations,
    private readonly guard: HostAccessGuard,
  ) {}

  /** A secret of the scope's account, with its cluster, or NOT_FOUND. */
  get(scope: Scope, id: string) {
    return referenceById(scope, id, SecretKind.SECRET);
  }

  async create(scope: Scope, cluster: SwarmCluster, input: { name: string; value: string; labels?: Record<string, string> }) {
    checkName(input.name);
    const data = checkData(input.value, 'value');
    const { result, activity } = await this.ops.run(
      scope,
      cluster,
      { action: 'secret.create', targetType: 'secret', targetId: input.name, parameters: { name: input.name, labels: input.labels } },
      async (manager, h) => {
        const id = await manager.createSecret({ Name: input.name, Labels: input.labels ?? {}, Data: data.toString('base64') });
        h.setTarget(id);
        return upsertSecret(scope.em, cluster, SecretKind.SECRET, await manager.inspectSecret(id));
      },
    );
    return { secret: result, activity };
  }

  /** Labels only (Docker refuses any other change to a secret). */
  async update(scope: Scope, id: string, labels: Record<string, string>) {
    const row = await this.get(scope, id);
    const { result, activity } = await this.ops.run(
      scope,
      row.cluster,
      { action: 'secret.update', targetType: 'secret', targetId: row.dockerId, parameters: { secretId: referenceGid(row.id), name: row.name, labels } },
      async (manager) => {
        await withVersionRetry(async () => {
          const current = await manager.inspectSecret(row.dockerId);
          await manager.updateSecret(row.dockerId, versionOf(current), { ...current.Spec, Labels: labels });
        });
        return upsertSecret(scope.em, row.cluster, SecretKind.SECRET, await manager.inspectSecret(row.dockerId));
      },
    );
    return { secret: result, activity };
  }

  async remove(scope: Scope, id: string) {
    const row = await this.get(scope, id);
    const { activity } = await this.ops.run(
      scope,
      row.cluster,
      { action: 'secret.remove', targetType: 'secret', targetId: row.dockerId, parameters: { secretId: referenceGid(row.id), name: row.name } },
      async (manager) => {
        await manager.removeSecret(row.dockerId);
        scope.em.remove(row);
        await scope.em.flush();
      },
    );
    return { activity };
  }

  /**
   * Changes a secret's value the only way Docker allows: creates `<family>-v<n+1>` with the new
   * value, repoints every service that mounts the old one (same target file, so the containers
   * see the new content after their rolling restart), then removes the old secret.
   */
  async rotate(scope: Scope, id: string, value: string) {
    const row = await this.get(scope, id);
    const data = checkData(value, 'value');
    const { result, activity } = await this.ops.run(
      scope,
      row.cluster,
      { action: 'secret.rotate', targetType: 'secret', targetId: row.dockerId, parameters: { secretId: referenceGid(row.id), name: row.name } },
      async (manager, h) => {
        const old = await manager.inspectSecret(row.dockerId);
        const labels = { ...(old.Spec?.Labels ?? {}) };
        const previousName = old.Spec?.Name ?? old.ID;
        const family = labels[FAMILY_LABEL] ?? previousName;
        const generation = (Number(labels[GENERATION_LABEL]) || 1) + 1;
        const name = `${family}-v${generation}`;
        const mounts = (s: { Spec?: ServiceSpec | null }) => s.Spec?.TaskTemplate?.ContainerSpec?.Secrets ?? [];
        const services = (await manager.listServices()).filter((s) => mounts(s).some((r) => r.SecretID === old.ID));
        // redeploying runs tasks again: the service policy first (before anything changes), and on each spec as sent
        for (const s of services) await checkServiceAccess(this.guard, scope, manager, s.Spec);
        const createdId = await manager.createSecret({
          Name: name,
          Labels: { ...labels, [FAMILY_LABEL]: family, [GENERATION_LABEL]: String(generation) },
          Data: data.toString('base64'),
        });
        const updated: SwarmService[] = [];
        for (const s of services) {
          await withVersionRetry(async () => {
            const current = await manager.inspectService(s.ID);
            const spec = structuredClone(current.Spec ?? {});
            const container = spec.TaskTemplate?.ContainerSpec;
            if (container) container.Secrets = (container.Secrets ?? []).map((r) => (r.SecretID === old.ID ? { ...r, SecretID: createdId, SecretName: name } : r));
            await checkServiceAccess(this.guard, scope, manager, spec);
            await manager.updateService(s.ID, versionOf(current), spec);
          });
          updated.push(await upsertService(scope.em, row.cluster, await manager.inspectService(s.ID)));
        }
        await manager.removeSecret(old.ID);
        scope.em.remove(row);
        const secret = await upsertSecret(scope.em, row.cluster, SecretKind.SECRET, await manager.inspectSecret(createdId));
        h.activity.result = { newSecretId: createdId, name, servicesUpdated: updated.map((u) => u.name), removedSecretId: old.ID };
        return { secret, services: updated, previousName };
      },
    );
    return { ...result, activity };
  }
}

/** Swarm configs: created, inspected (data read live), removed. Docker allows no other change. */
export class ConfigManager {
  constructor(private readonly ops: ClusterOperations) {}

  /** A config of the scope's account, with its cluster, or NOT_FOUND. */
  get(scope: Scope, id: string) {
    return referenceById(scope, id, SecretKind.CONFIG);
  }

  async create(scope: Scope, cluster: SwarmCluster, input: { name: string; data: string; labels?: Record<string, string> }) {
    checkName(input.name);
    const data = checkData(input.data, 'data');
    const { result, activity } = await this.ops.run(
      scope,
      cluster,
      { action: 'config.create', targetType: 'config', targetId: input.name, parameters: { name: input.name, labels: input.labels, bytes: data.length } },
      async (manager, h) => {
        const id = await manager.createConfig({ Name: input.name, Labels: input.labels ?? {}, Data: data.toString('base64') });
        h.setTarget(id);
        return upsertSecret(scope.em, cluster, SecretKind.CONFIG, await manager.inspectConfig(id));
      },
    );
    return { config: result, activity };
  }

  async remove(scope: Scope, id: string) {
    const row = await this.get(scope, id);
    const { activity } = await this.ops.run(
      scope,
      row.cluster,
      { action: 'config.remove', targetType: 'config', targetId: row.dockerId, parameters: { configId: referenceGid(row.id), name: row.name } },
      async (manager) => {
        await manager.removeConfig(row.dockerId);
        scope.em.remove(row);
        await scope.em.flush();
      },
    );
    return { activity };
  }

  /** Docker's inspect of a secret or config, read live. */
  async inspect(scope: Scope, row: SecretReference): Promise<SecretInspect> {
    return this.ops.readOf(scope, row, (manager) => (row.kind === SecretKind.SECRET ? manager.inspectSecret(row.dockerId) : manager.inspectConfig(row.dockerId)));
  }

  /** The config's content, read live (configs are not secret). */
  async data(scope: Scope, row: SecretReference): Promise<string> {
    if (row.kind !== SecretKind.CONFIG) throw conflict('Secret values are write-only');
    const cfg = await this.ops.readOf(scope, row, (manager) => manager.inspectConfig(row.dockerId));
    return Buffer.from(cfg.Spec?.Data ?? '', 'base64').toString('utf8');
  }
}
