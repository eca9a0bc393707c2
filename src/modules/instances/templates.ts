import { ContainerTemplate, VaultTokenDelivery } from '../../../entities';
import { badInput, conflict, notFound } from '../../kernel/errors';
import { toGlobalId } from '../../kernel/ids';
import type { Scope } from '../../kernel/scope';
import type { SecretBox } from '../../infra/crypto';
import type { Audit } from '../../platform/audit/activity';
import type { HostAccessGuard } from '../../platform/policy/enforce';
import { containerHostAccess } from '../../platform/policy/host-access';
import type { VaultPolicyGrants } from './grants';
import { checkEnv, checkLabels, checkName, checkOverrides, checkPolicies, checkRange, createBody, DEFAULTS, fromTemplate } from './spec';

/** Input of createContainerTemplate / updateContainerTemplate (every field optional on update). */
export interface TemplateInput {
  name?: string | null;
  image?: string | null;
  command?: string[] | null;
  env?: string[] | null;
  /** NAME=value entries stored sealed; on update, replaces all secret entries when given. */
  secretEnv?: string[] | null;
  memoryMb?: number | null;
  cpuMillicores?: number | null;
  pidsLimit?: number | null;
  timeoutSeconds?: number | null;
  vaultPolicies?: string[] | null;
  tokenDelivery?: VaultTokenDelivery | null;
  network?: string | null;
  labels?: Record<string, unknown> | null;
  outputLimitBytes?: number | null;
  allowedOverrides?: string[] | null;
  maxConcurrent?: number | null;
  maxMemoryMb?: number | null;
  maxCpuMillicores?: number | null;
}

/** Container templates of an account (runbook: ContainerTemplate), versioned on change. */
export class TemplateService {
  constructor(
    private readonly audit: Audit,
    private readonly guard: HostAccessGuard,
    private readonly secrets: SecretBox,
    private readonly grants: VaultPolicyGrants,
  ) {}

  async get(scope: Scope, id: string): Promise<ContainerTemplate> {
    const t = await scope.em.findOne(ContainerTemplate, id);
    if (!t) throw notFound('ContainerTemplate', toGlobalId('ContainerTemplate', id));
    return t;
  }

  /**
   * The template's secret environment as stored (sealed), for an instance to keep with the
   * version it starts from: a later update must not change what an already accepted run gets.
   */
  async sealedSecretEnv(scope: Scope, t: ContainerTemplate): Promise<string | null> {
    if (t.secretEnvNames.length === 0) return null;
    await scope.em.populate(t, ['secretEnvSealed']);
    return t.secretEnvSealed ?? null;
  }

  /** Secret entries sealed by sealedSecretEnv, decrypted (only for the container's create body). */
  openSecretEnv(sealed: string | null | undefined): string[] {
    return sealed ? (JSON.parse(this.secrets.open(sealed)) as string[]) : [];
  }

  async create(scope: Scope, input: TemplateInput) {
    await this.grants.check(scope, input.vaultPolicies);
    const t = new ContainerTemplate();
    t.account = scope.accountId as never;
    this.apply(scope, t, {
      memoryMb: DEFAULTS.memoryMb,
      cpuMillicores: DEFAULTS.cpuMillicores,
      pidsLimit: DEFAULTS.pidsLimit,
      timeoutSeconds: DEFAULTS.timeoutSeconds,
      outputLimitBytes: DEFAULTS.outputLimitBytes,
      ...dropNulls(input),
    });
    if (!t.name) throw badInput('name', 'is required');
    if (!t.image) throw badInput('image', 'is required');
    return this.audit.run(scope, { action: 'template.create', targetType: 'containerTemplate', targetId: t.name, parameters: redactInput(input) }, async (handle) => {
      await this.unique(scope, t.name);
      scope.em.persist(t);
      await scope.em.flush();
      handle.setTarget(t.globalId);
      return t;
    });
  }

  /** Applies the changes and bumps the version (instances record the version they ran). */
  async update(scope: Scope, id: string, input: TemplateInput) {
    await this.grants.check(scope, input.vaultPolicies);
    const t = await this.get(scope, id);
    return this.audit.run(scope, { action: 'template.update', targetType: 'containerTemplate', targetId: t.globalId, parameters: redactInput(input) }, async () => {
      const name = t.name;
      this.apply(scope, t, dropNulls(input));
      if (t.name !== name) await this.unique(scope, t.name);
      t.version += 1;
      await scope.em.flush();
      return t;
    });
  }

  /** Removes a template; its instances keep their configuration (their template link becomes null). */
  async remove(scope: Scope, id: string) {
    const t = await this.get(scope, id);
    const removedId = t.globalId;
    const { activity } = await this.audit.run(scope, { action: 'template.remove', targetType: 'containerTemplate', targetId: removedId }, async () => {
      await scope.em.removeAndFlush(t);
    });
    return { removedId, activity };
  }

  private async unique(scope: Scope, name: string): Promise<void> {
    if (await scope.em.count(ContainerTemplate, { name })) throw conflict(`A template named ${name} exists already`, { field: 'name' });
  }

  /** Checks every given field, then the host-access policy on the container it would make. */
  private apply(scope: Scope, t: ContainerTemplate, i: TemplateInput): void {
    if (i.name != null) t.name = checkName(i.name);
    if (i.image != null) t.image = i.image.trim();
    if (i.command !== undefined) t.command = i.command;
    if (i.env != null) t.env = checkEnv(i.env);
    if (i.secretEnv != null) {
      checkEnv(i.secretEnv, 'secretEnv');
      t.secretEnvNames = i.secretEnv.map((e) => e.slice(0, e.indexOf('=')));
      t.secretEnvSealed = i.secretEnv.length ? this.secrets.seal(JSON.stringify(i.secretEnv)) : null;
    }
    if (i.memoryMb != null) t.memoryMb = checkRange('memoryMb', i.memoryMb);
    if (i.cpuMillicores != null) t.cpuMillicores = checkRange('cpuMillicores', i.cpuMillicores);
    if (i.pidsLimit != null) t.pidsLimit = checkRange('pidsLimit', i.pidsLimit);
    if (i.timeoutSeconds != null) t.timeoutSeconds = checkRange('timeoutSeconds', i.timeoutSeconds);
    if (i.vaultPolicies != null) t.vaultPolicies = checkPolicies(i.vaultPolicies);
    if (i.tokenDelivery != null) t.tokenDelivery = i.tokenDelivery;
    if (i.network !== undefined) t.network = i.network;
    if (i.labels != null) t.labels = checkLabels(i.labels);
    if (i.outputLimitBytes != null) t.outputLimitBytes = checkRange('outputLimitBytes', i.outputLimitBytes);
    if (i.allowedOverrides != null) t.allowedOverrides = checkOverrides(i.allowedOverrides);
    for (const k of ['maxConcurrent', 'maxMemoryMb', 'maxCpuMillicores'] as const) if (i[k] !== undefined) t[k] = i[k];
    if (t.image) this.checkPolicy(scope, t);
  }

  /** The host-access policy on the container the template makes (named volumes and networks are looked up again at run time, on the host). */
  private checkPolicy(scope: Scope, t: ContainerTemplate): void {
    const run = fromTemplate(t, {});
    const body = createBody({
      instanceId: 'template',
      accountId: scope.accountId,
      name: 'template',
      spec: run.spec,
      memoryMb: run.memoryMb,
      cpuMillicores: run.cpuMillicores,
      secretEnv: [],
      image: { entrypoint: null, cmd: ['true'] },
      withToken: run.spec.vaultPolicies.length > 0,
    });
    this.guard.check(scope, containerHostAccess(body));
  }
}

function dropNulls(input: TemplateInput): TemplateInput {
  // command and network may be cleared with null; for the rest null means "unchanged"
  return Object.fromEntries(Object.entries(input).filter(([k, v]) => v !== null || k === 'command' || k === 'network' || k.startsWith('max'))) as TemplateInput;
}

/** The audit's copy of an input: secret values never reach it. */
function redactInput(input: TemplateInput): Record<string, unknown> {
  const { secretEnv, ...rest } = input;
  return { ...rest, ...(secretEnv ? { secretEnv: secretEnv.map((e) => `${e.slice(0, e.indexOf('='))}=[redacted]`) } : {}) };
}
