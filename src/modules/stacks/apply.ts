/**
 * Applies a converted stack (src/modules/stacks/compose) to a swarm through a manager's engine
 * port, in the order `docker stack deploy` does (cli/command/stack/swarm/deploy_composefile.go):
 * external networks checked, then networks, secrets and configs created (secrets and configs that
 * exist already are updated, as the CLI does), then services created or updated, with secret and
 * config ids looked up by name. No image digest is resolved (`--resolve-image never`).
 */
import { badInput, conflict } from '../../kernel/errors';
import type { Engine } from '../../infra/engine/port';
import type { FileReference, NetworkCreateSpec, SecretInspect, ServiceInspect, ServiceSpec as EngineServiceSpec } from '../../infra/engine/types';
import { LABEL_NAMESPACE, type ConvertedStack, type ServiceSpec } from './compose';

/** What applyStack did, by name (for the deploy's answer and the activity). */
export interface AppliedStack {
  services: { created: string[]; updated: string[] };
  networks: string[];
  secrets: string[];
  configs: string[];
  /** Warnings Docker gave on service create/update (e.g. an image it could not check). */
  warnings: string[];
}

/** Networks that always exist on every node and are never looked up (the CLI's isUserDefined). */
const BUILTIN_NETWORKS = new Set(['host', 'bridge', 'none', 'default']);

/**
 * Checks what the stack references but does not create (external networks, secrets and configs),
 * before anything is created: a missing one is BAD_USER_INPUT naming it, as the CLI refuses the
 * deploy with "network … not found" / "secret not found: …" before its first create.
 */
export async function checkExternals(engine: Engine, stack: ConvertedStack): Promise<{ secrets: Map<string, string>; configs: Map<string, string> }> {
  for (const name of stack.externalNetworks) {
    if (BUILTIN_NETWORKS.has(name)) continue;
    const found = await engine.findNetwork(name);
    if (!found || found.Name !== name) throw badInput(`networks.${name}`, `network "${name}" is declared as external, but could not be found; create it first`);
    if (found.Scope !== 'swarm') throw badInput(`networks.${name}`, `network "${name}" is declared as external, but it is not in the right scope: "${String(found.Scope)}" instead of "swarm"`);
  }
  const secrets = idsByName(await engine.listSecrets());
  const configs = idsByName(await engine.listConfigs());
  for (const name of stack.externalSecrets) if (!secrets.has(name)) throw badInput(`secrets.${name}`, `secret not found: ${name}`);
  for (const name of stack.externalConfigs) if (!configs.has(name)) throw badInput(`configs.${name}`, `config not found: ${name}`);
  return { secrets, configs };
}

/** Creates (or updates) everything the converted stack holds, networks first and services last. */
export async function applyStack(engine: Engine, stack: ConvertedStack): Promise<AppliedStack> {
  const applied: AppliedStack = { services: { created: [], updated: [] }, networks: [], secrets: [], configs: [], warnings: [] };
  const known = await applyObjects(engine, stack, applied);
  await deployServices(engine, stack, known, applied);
  return applied;
}

/** Secret and config ids by name, as known after applyObjects (for withIds). */
export type KnownObjects = { secrets: Map<string, string>; configs: Map<string, string> };

/** Everything but the services: external objects checked, then networks, secrets and configs created (or updated), as the CLI does before its services. */
export async function applyObjects(engine: Engine, stack: ConvertedStack, applied: AppliedStack): Promise<KnownObjects> {
  const known = await checkExternals(engine, stack);
  await createNetworks(engine, stack, applied);
  for (const secret of stack.secrets) {
    const id = known.secrets.get(secret.Name);
    if (id) await engine.updateSecret(id, await secretVersion(engine, id), secret);
    else known.secrets.set(secret.Name, await engine.createSecret(secret));
    applied.secrets.push(secret.Name);
  }
  for (const config of stack.configs) {
    const id = known.configs.get(config.Name);
    if (id) {
      // Docker never changes a config's data: the same content is kept, another one is a conflict
      if ((await engine.inspectConfig(id)).Spec?.Data !== config.Data) throw conflict(`config ${config.Name} exists with other content; configs cannot be changed, give the new one another name`);
      continue;
    }
    known.configs.set(config.Name, await engine.createConfig(config));
    applied.configs.push(config.Name);
  }
  return known;
}

/** The stack's networks that do not exist yet (the CLI skips those that exist with the stack's label). */
async function createNetworks(engine: Engine, stack: ConvertedStack, applied: AppliedStack): Promise<void> {
  const existing = new Set((await engine.listNetworks({ label: [`${LABEL_NAMESPACE}=${stack.name}`] })).map((n) => n.Name));
  for (const network of stack.networks) {
    if (existing.has(network.Name)) continue;
    await engine.createNetwork(network as NetworkCreateSpec);
    applied.networks.push(network.Name);
  }
}

/** Services created, or updated at their current version when the stack has them already. */
async function deployServices(engine: Engine, stack: ConvertedStack, known: KnownObjects, applied: AppliedStack): Promise<void> {
  const existing = new Map<string, ServiceInspect>();
  for (const s of await engine.listServices()) if (s.Spec?.Labels?.[LABEL_NAMESPACE] === stack.name && s.Spec.Name) existing.set(s.Spec.Name, s);
  for (const service of stack.services) {
    const spec = withIds(service, known);
    const current = existing.get(service.Name);
    if (current) {
      const res = await engine.updateService(current.ID, current.Version?.Index ?? 0, spec);
      applied.warnings.push(...(res.Warnings ?? []));
      applied.services.updated.push(service.Name);
    } else {
      await engine.createService(spec);
      applied.services.created.push(service.Name);
    }
  }
}

/** The service spec with SecretID/ConfigID filled from the names (the CLI's ParseSecrets/ParseConfigs). */
export function withIds(service: ServiceSpec, known: KnownObjects): EngineServiceSpec {
  const container = service.TaskTemplate.ContainerSpec;
  const ref = (kind: 'secret' | 'config', name: string): string => {
    const id = (kind === 'secret' ? known.secrets : known.configs).get(name);
    if (!id) throw badInput(`${kind}s.${name}`, `${kind} not found: ${name}`);
    return id;
  };
  const secrets: FileReference[] | undefined = container.Secrets?.map((s) => ({ File: s.File, SecretID: ref('secret', s.SecretName), SecretName: s.SecretName }));
  const configs: FileReference[] | undefined = container.Configs?.map((c) => ({ File: c.File, ConfigID: ref('config', c.ConfigName), ConfigName: c.ConfigName }));
  const out: EngineServiceSpec = { ...service, TaskTemplate: { ...service.TaskTemplate, ContainerSpec: { ...container } } };
  if (secrets) out.TaskTemplate!.ContainerSpec!.Secrets = secrets;
  if (configs) out.TaskTemplate!.ContainerSpec!.Configs = configs;
  return out;
}

function idsByName(list: SecretInspect[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of list) {
    const name = (item.Spec as { Name?: string } | undefined)?.Name;
    if (name) out.set(name, item.ID);
  }
  return out;
}

async function secretVersion(engine: Engine, id: string): Promise<number> {
  return (await engine.inspectSecret(id)).Version?.Index ?? 0;
}
