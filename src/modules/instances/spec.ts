import { ContainerTemplate, InstanceSpec, VaultTokenDelivery } from '../../../entities';
import { badInput } from '../../kernel/errors';
import type { ContainerCreateSpec } from '../../infra/engine/types';

/**
 * Pure rules of instance configuration: template input checks, template + overrides → the spec
 * an instance runs, and spec → Docker's create body. No I/O, so every rule is unit-testable.
 */

export const MIB = 1024 * 1024;
/** Where the Vault token file lives in the container (a tmpfs: never written to disk). */
export const TOKEN_DIR = '/run/fleetgraph';
export const TOKEN_FILE = `${TOKEN_DIR}/vault-token`;
/** Label naming the instance on its container (the reaper finds orphans by it). */
export const INSTANCE_LABEL = 'fleetgraph.instance';
export const ACCOUNT_LABEL = 'fleetgraph.account';
/** Seconds the wrapper waits for the token file before giving up (exit 125). */
export const TOKEN_WAIT_SECONDS = 60;
/** Extra token lifetime past the timeout (stopping, collecting output, revoking). */
export const TOKEN_GRACE_SECONDS = 300;

export const LIMITS = {
  memoryMb: { min: 6, max: 1024 * 1024 },
  cpuMillicores: { min: 10, max: 256_000 },
  pidsLimit: { min: 1, max: 1_000_000 },
  timeoutSeconds: { min: 1, max: 7 * 24 * 3600 },
  outputLimitBytes: { min: 0, max: 16 * MIB },
} as const;

export const DEFAULTS = { memoryMb: 256, cpuMillicores: 1000, pidsLimit: 256, timeoutSeconds: 3600, outputLimitBytes: 64 * 1024 } as const;

/** Fields an instance may override when its template allows it. */
export const OVERRIDABLE = ['command', 'env', 'timeoutSeconds', 'memoryMb', 'cpuMillicores'] as const;
export type Overridable = (typeof OVERRIDABLE)[number];

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,99}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const POLICY = /^[a-z0-9][a-z0-9_.\-/]{0,127}$/i;
/**
 * Environment names fleetgraph sets or that would redirect the workload's Vault client (its
 * address, TLS checks, a proxy that sees the token): refused in templates and overrides.
 */
const RESERVED_ENV = (name: string) => /^(VAULT_|FLEETGRAPH_)/i.test(name) || /^(HTTPS?_PROXY|ALL_PROXY|NO_PROXY)$/i.test(name);

export function checkName(name: string, field = 'name'): string {
  if (!NAME.test(name)) throw badInput(field, 'letters, digits, "_", "." and "-" (1–100), starting with a letter or digit');
  return name;
}

export function checkRange(field: keyof typeof LIMITS, value: number): number {
  const { min, max } = LIMITS[field];
  if (!Number.isSafeInteger(value) || value < min || value > max) throw badInput(field, `must be a whole number from ${min} to ${max}`);
  return value;
}

/** NAME=value entries; names are checked, values are free. Names fleetgraph sets itself are refused. */
export function checkEnv(entries: string[], field = 'env'): string[] {
  for (const e of entries) {
    const eq = e.indexOf('=');
    const name = eq > 0 ? e.slice(0, eq) : '';
    if (!ENV_NAME.test(name)) throw badInput(field, 'entries look like NAME=value with NAME of letters, digits and _');
    if (RESERVED_ENV(name)) throw badInput(field, `${name} is reserved (fleetgraph sets the Vault client's environment)`);
  }
  return entries;
}

export function checkPolicies(policies: string[]): string[] {
  for (const p of policies) {
    if (!POLICY.test(p) || ['root', 'default'].includes(p.toLowerCase())) throw badInput('vaultPolicies', `"${p.slice(0, 128)}" is not a policy an instance token may carry`);
  }
  return [...new Set(policies)];
}

export function checkOverrides(fields: string[]): string[] {
  for (const f of fields) if (!(OVERRIDABLE as readonly string[]).includes(f)) throw badInput('allowedOverrides', `one of ${OVERRIDABLE.join(', ')}`);
  return [...new Set(fields)];
}

export function checkLabels(labels: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (k.startsWith('fleetgraph.')) throw badInput('labels', 'labels starting with "fleetgraph." are set by fleetgraph');
    out[k] = String(v);
  }
  return out;
}

/** Overrides an instance asks for. */
export interface InstanceOverrides {
  command?: string[] | null;
  env?: string[] | null;
  timeoutSeconds?: number | null;
  memoryMb?: number | null;
  cpuMillicores?: number | null;
}

/** A direct configuration (no template). */
export interface DirectConfig extends InstanceOverrides {
  image: string;
  pidsLimit?: number | null;
  network?: string | null;
  labels?: Record<string, unknown> | null;
  vaultPolicies?: string[] | null;
  tokenDelivery?: VaultTokenDelivery | null;
  outputLimitBytes?: number | null;
}

export interface ResolvedRun {
  spec: InstanceSpec;
  memoryMb: number;
  cpuMillicores: number;
  timeoutSeconds: number;
}

/** A template's configuration with the overrides it allows (any other override is BAD_USER_INPUT naming it). */
export function fromTemplate(t: ContainerTemplate, o: InstanceOverrides): ResolvedRun {
  for (const f of OVERRIDABLE) {
    if (o[f] != null && !t.allowedOverrides.includes(f)) throw badInput(f, `the template ${t.name} does not allow overriding ${f}`);
  }
  return {
    spec: {
      image: t.image,
      command: o.command ?? t.command ?? null,
      env: o.env ? mergeEnv(t.env, checkEnv(o.env)) : [...t.env],
      secretEnvNames: [...t.secretEnvNames],
      pidsLimit: t.pidsLimit,
      network: t.network ?? null,
      labels: { ...t.labels },
      vaultPolicies: [...t.vaultPolicies],
      tokenDelivery: t.tokenDelivery,
      outputLimitBytes: t.outputLimitBytes,
    },
    memoryMb: checkRange('memoryMb', o.memoryMb ?? t.memoryMb),
    cpuMillicores: checkRange('cpuMillicores', o.cpuMillicores ?? t.cpuMillicores),
    timeoutSeconds: checkRange('timeoutSeconds', o.timeoutSeconds ?? t.timeoutSeconds),
  };
}

/** A direct configuration, checked and with defaults. */
export function fromDirect(c: DirectConfig): ResolvedRun {
  if (!c.image?.trim() || c.image.length > 500) throw badInput('config.image', 'is required (at most 500 characters)');
  return {
    spec: {
      image: c.image.trim(),
      command: c.command ?? null,
      env: checkEnv(c.env ?? [], 'config.env'),
      secretEnvNames: [],
      pidsLimit: checkRange('pidsLimit', c.pidsLimit ?? DEFAULTS.pidsLimit),
      network: c.network ?? null,
      labels: checkLabels(c.labels ?? {}),
      vaultPolicies: checkPolicies(c.vaultPolicies ?? []),
      tokenDelivery: c.tokenDelivery ?? VaultTokenDelivery.TMPFS_FILE,
      outputLimitBytes: checkRange('outputLimitBytes', c.outputLimitBytes ?? DEFAULTS.outputLimitBytes),
    },
    memoryMb: checkRange('memoryMb', c.memoryMb ?? DEFAULTS.memoryMb),
    cpuMillicores: checkRange('cpuMillicores', c.cpuMillicores ?? DEFAULTS.cpuMillicores),
    timeoutSeconds: checkRange('timeoutSeconds', c.timeoutSeconds ?? DEFAULTS.timeoutSeconds),
  };
}

/** Entries of `extra` replace same-named entries of `base`. */
function mergeEnv(base: string[], extra: string[]): string[] {
  const names = new Set(extra.map((e) => e.slice(0, e.indexOf('='))));
  return [...base.filter((e) => !names.has(e.slice(0, e.indexOf('=')))), ...extra];
}

/**
 * The shell wrapper of TMPFS_FILE delivery: waits (bounded) until fleetgraph has written the
 * token file, then execs the real command, so the workload never starts without its token.
 */
const WAIT_SCRIPT = `i=0; while [ ! -s ${TOKEN_FILE} ]; do i=$((i+1)); if [ $i -gt ${TOKEN_WAIT_SECONDS * 10} ]; then echo "fleetgraph: no Vault token after ${TOKEN_WAIT_SECONDS}s" >&2; exit 125; fi; sleep 0.1; done; exec "$@"`;

export interface CreateBodyInput {
  instanceId: string;
  accountId: string;
  name: string;
  spec: InstanceSpec;
  memoryMb: number;
  cpuMillicores: number;
  /** Decrypted secret entries of the template (NAME=value). */
  secretEnv: string[];
  /** The image's own entrypoint and command (TMPFS_FILE wraps them). */
  image: { entrypoint: string[] | null; cmd: string[] | null };
  /** ENV delivery: the token; TMPFS_FILE: undefined (written by exec after start). */
  envToken?: string;
  /** Whether a Vault token is handed over at all. */
  withToken: boolean;
  vaultAddr?: string;
}

/** Docker's create body of an instance's container. */
export function createBody(i: CreateBodyInput): ContainerCreateSpec {
  const env = [...i.spec.env, ...i.secretEnv];
  let entrypoint: string[] | undefined;
  let cmd: string[] | undefined = i.spec.command ?? undefined;
  const hostConfig: Record<string, unknown> = {
    Memory: i.memoryMb * MIB,
    // no swap: a container over its memory is OOM-killed instead of swapping
    MemorySwap: i.memoryMb * MIB,
    NanoCpus: i.cpuMillicores * 1_000_000,
    PidsLimit: i.spec.pidsLimit,
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: false,
    NetworkMode: i.spec.network ?? undefined,
  };
  if (i.withToken) {
    if (i.vaultAddr) env.push(`VAULT_ADDR=${i.vaultAddr}`);
    if (i.spec.tokenDelivery === VaultTokenDelivery.ENV) {
      env.push(`VAULT_TOKEN=${i.envToken ?? ''}`);
    } else {
      env.push(`FLEETGRAPH_VAULT_TOKEN_FILE=${TOKEN_FILE}`);
      hostConfig.Tmpfs = { [TOKEN_DIR]: 'rw,noexec,nosuid,nodev,size=65536' };
      const argv = [...(i.image.entrypoint ?? []), ...(i.spec.command ?? i.image.cmd ?? [])];
      if (argv.length === 0) throw badInput('command', 'the image has no command and none is given');
      entrypoint = ['/bin/sh', '-c', WAIT_SCRIPT, 'fleetgraph-wait'];
      cmd = argv;
    }
  }
  return {
    name: i.name,
    Image: i.spec.image,
    Entrypoint: entrypoint,
    Cmd: cmd,
    Env: env,
    Labels: { ...i.spec.labels, [INSTANCE_LABEL]: i.instanceId, [ACCOUNT_LABEL]: i.accountId },
    Tty: false,
    HostConfig: hostConfig as ContainerCreateSpec['HostConfig'],
  };
}
