import type { DeploymentDiff } from '../../../entities';
import type { ServiceSpec as EngineServiceSpec } from '../../infra/engine/types';

/** How deep a changed field is named (`TaskTemplate.ContainerSpec.Image`). */
const FIELD_DEPTH = 3;

/** Leaf paths of a spec to FIELD_DEPTH levels; deeper objects and arrays are compared whole. */
function leaves(value: unknown, prefix = '', depth = 0, out = new Map<string, string>()): Map<string, string> {
  if (value && typeof value === 'object' && !Array.isArray(value) && depth < FIELD_DEPTH) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) leaves(v, prefix ? `${prefix}.${k}` : k, depth + 1, out);
    return out;
  }
  out.set(prefix, canonical(value));
  return out;
}

/** JSON with object keys sorted, so equal values compare equal whatever Docker's key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as object).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

/**
 * The fields of a service that a deployment changes: every field the new spec sets (and every
 * field the stack's previous revision set, so that a key dropped from the file counts) whose
 * value differs from the service's spec on the swarm. Fields Docker fills in by itself and that
 * neither revision sets are not compared.
 */
export function changedFields(current: EngineServiceSpec, desired: EngineServiceSpec, previous?: EngineServiceSpec): string[] {
  const now = leaves(current);
  const want = leaves(desired);
  const paths = new Set([...want.keys(), ...(previous ? leaves(previous).keys() : [])]);
  const changed: string[] = [];
  for (const path of paths) if ((want.get(path) ?? 'null') !== (now.get(path) ?? 'null')) changed.push(path);
  return changed.sort();
}

/** The diff of a deployment: services created, updated (with fields), removed (when pruned), unchanged. */
export function stackDiff(current: Map<string, EngineServiceSpec>, desired: EngineServiceSpec[], prune: boolean, previous?: Map<string, EngineServiceSpec>): DeploymentDiff {
  const diff: DeploymentDiff = { created: [], updated: [], removed: [], unchanged: [] };
  const names = new Set<string>();
  for (const spec of desired) {
    const name = spec.Name ?? '';
    names.add(name);
    const now = current.get(name);
    if (!now) {
      diff.created.push(name);
      continue;
    }
    const fields = changedFields(now, spec, previous?.get(name));
    if (fields.length) diff.updated.push({ service: name, fields });
    else diff.unchanged.push(name);
  }
  if (prune) for (const name of current.keys()) if (!names.has(name)) diff.removed.push(name);
  diff.created.sort();
  diff.removed.sort();
  diff.unchanged.sort();
  diff.updated.sort((a, b) => (a.service < b.service ? -1 : 1));
  return diff;
}
