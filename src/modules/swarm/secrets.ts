import { SecretKind, SecretReference, SwarmCluster, SwarmService } from '../../../entities';
import { badInput, conflict, notFound } from '../../kernel/errors';
import { toGlobalId } from '../../kernel/ids';
import type { Scope } from '../../kernel/scope';
import type { HostAccessGuard } from '../../platform/policy/enforce';
import { withVersionRetry } from './docker';
import { checkServiceAccess } from './services';
import type { ClusterOperations } from './operation';
import { FAMILY_LABEL, GENERATION_LABEL, upsertService, upsertSecret } from './sync';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

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
      async (api, h) => {
        const created = (await api.createSecret({ Name: input.name, Labels: input.labels ?? {}, Data: data.toString('base64') } as never)) as unknown as { id: string };
        h.setTarget(created.id);
        return upsertSecret(scope.em, cluster, SecretKind.SECRET, (await api.getSecret(created.id).inspect()) as Obj);
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
      async (api) => {
        const secret = api.getSecret(row.dockerId);
        await withVersionRetry(async () => {
          const current = (await secret.inspect()) as Obj;
          await secret.update({ _query: { version: current.Version.Index }, _body: { ...current.Spec, Labels: labels } } as never);
        });
        return upsertSecret(scope.em, row.cluster, SecretKind.SECRET, (await secret.inspect()) as Obj);
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
      async (api) => {
        await api.getSecret(row.dockerId).remove();
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
      async (api, h) => {
        const old = (await api.getSecret(row.dockerId).inspect()) as Obj;
        const labels = { ...(old.Spec.Labels ?? {}) };
        const family = labels[FAMILY_LABEL] ?? old.Spec.Name;
        const generation = (Number(labels[GENERATION_LABEL]) || 1) + 1;
        const name = `${family}-v${generation}`;
        const services = ((await api.listServices()) as Obj[]).filter((s) => (s.Spec?.TaskTemplate?.ContainerSpec?.Secrets ?? []).some((r: Obj) => r.SecretID === old.ID));
        // redeploying runs tasks again: the service policy first (before anything changes), and on each spec as sent
        for (const s of services) await checkServiceAccess(this.guard, scope, api, s.Spec);
        const created = (await api.createSecret({
          Name: name,
          Labels: { ...labels, [FAMILY_LABEL]: family, [GENERATION_LABEL]: String(generation) },
          Data: data.toString('base64'),
        } as never)) as unknown as { id: string };
        const updated: SwarmService[] = [];
        for (const s of services) {
          const service = api.getService(s.ID);
          await withVersionRetry(async () => {
            const current = (await service.inspect()) as Obj;
            const spec = structuredClone(current.Spec);
            spec.TaskTemplate.ContainerSpec.Secrets = (spec.TaskTemplate.ContainerSpec.Secrets ?? []).map((r: Obj) => (r.SecretID === old.ID ? { ...r, SecretID: created.id, SecretName: name } : r));
            await checkServiceAccess(this.guard, scope, api, spec);
            await service.update({ _query: { version: current.Version.Index }, _body: spec } as never);
          });
          updated.push(await upsertService(scope.em, row.cluster, (await service.inspect()) as Obj));
        }
        await api.getSecret(old.ID).remove();
        scope.em.remove(row);
        const secret = await upsertSecret(scope.em, row.cluster, SecretKind.SECRET, (await api.getSecret(created.id).inspect()) as Obj);
        h.activity.result = { newSecretId: created.id, name, servicesUpdated: updated.map((u) => u.name), removedSecretId: old.ID };
        return { secret, services: updated, previousName: old.Spec.Name as string };
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
      async (api, h) => {
        const created = (await api.createConfig({ Name: input.name, Labels: input.labels ?? {}, Data: data.toString('base64') } as never)) as unknown as { id: string };
        h.setTarget(created.id);
        return upsertSecret(scope.em, cluster, SecretKind.CONFIG, (await api.getConfig(created.id).inspect()) as Obj);
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
      async (api) => {
        await api.getConfig(row.dockerId).remove();
        scope.em.remove(row);
        await scope.em.flush();
      },
    );
    return { activity };
  }

  /** Docker's inspect of a secret or config, read live. */
  async inspect(scope: Scope, row: SecretReference): Promise<Obj> {
    await scope.em.populate(row, ['cluster']);
    return this.ops.read(scope, row.cluster as SwarmCluster, (api) => (row.kind === SecretKind.SECRET ? api.getSecret(row.dockerId).inspect() : api.getConfig(row.dockerId).inspect()) as Promise<Obj>);
  }

  /** The config's content, read live (configs are not secret). */
  async data(scope: Scope, row: SecretReference): Promise<string> {
    if (row.kind !== SecretKind.CONFIG) throw conflict('Secret values are write-only');
    await scope.em.populate(row, ['cluster']);
    const cfg = (await this.ops.read(scope, row.cluster as SwarmCluster, (api) => api.getConfig(row.dockerId).inspect())) as Obj;
    return Buffer.from(cfg.Spec?.Data ?? '', 'base64').toString('utf8');
  }
}
