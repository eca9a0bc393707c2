/**
 * Container settings that hand the container root on the host. Creating a container with any
 * of them needs the `docker.containers.privileged` permission.
 */

/** Capabilities that amount to host root (or to escaping the container) when added. */
export const DANGEROUS_CAPABILITIES = new Set([
  'ALL',
  'SYS_ADMIN',
  'SYS_MODULE',
  'SYS_PTRACE',
  'SYS_RAWIO',
  'SYS_BOOT',
  'SYS_TIME',
  'DAC_READ_SEARCH',
  'DAC_OVERRIDE',
  'NET_ADMIN',
  'MAC_ADMIN',
  'MAC_OVERRIDE',
  'BPF',
  'PERFMON',
  'SETFCAP',
]);

/** Host paths whose bind mount gives control of the host (the paths themselves or anything below). */
const DANGEROUS_BIND_ROOTS = ['/', '/etc', '/proc', '/sys', '/dev', '/boot', '/root', '/var/lib/docker', '/var/lib/containerd', '/run/containerd', '/usr', '/lib', '/bin', '/sbin'];
const DOCKER_SOCKETS = /(^|\/)(docker|containerd|podman)\.sock$/;

export interface HostConfigLike {
  Privileged?: boolean;
  PidMode?: string;
  NetworkMode?: string;
  IpcMode?: string;
  UsernsMode?: string;
  UTSMode?: string;
  CgroupnsMode?: string;
  CapAdd?: string[];
  Binds?: string[];
  Mounts?: Array<{ Type?: string; Source?: string }>;
  Devices?: unknown[];
  SecurityOpt?: string[];
}

function normalizePath(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (!seg || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return '/' + parts.join('/');
}

function dangerousBind(source: string): string | undefined {
  if (!source.startsWith('/')) return undefined; // a named volume
  const p = normalizePath(source);
  if (DOCKER_SOCKETS.test(p) || /^\/(var\/)?run$/.test(p) || p === '/var/run/docker' || p === '/run/docker') return `bind of the Docker socket or its directory (${p})`;
  if (p === '/') return 'bind of the host root (/)';
  for (const root of DANGEROUS_BIND_ROOTS) {
    if (root !== '/' && (p === root || p.startsWith(root + '/'))) return `bind of a host system path (${p})`;
  }
  return undefined;
}

/** Why a container spec gives root on the host; empty when it does not. */
export function privilegedReasons(hc: HostConfigLike | undefined): string[] {
  if (!hc) return [];
  const reasons: string[] = [];
  if (hc.Privileged) reasons.push('Privileged');
  for (const [key, value] of [
    ['PidMode', hc.PidMode],
    ['NetworkMode', hc.NetworkMode],
    ['IpcMode', hc.IpcMode],
    ['UsernsMode', hc.UsernsMode],
    ['UTSMode', hc.UTSMode],
    ['CgroupnsMode', hc.CgroupnsMode],
  ] as const) {
    if (value === 'host') reasons.push(`${key}=host`);
  }
  for (const cap of hc.CapAdd ?? []) {
    const c = cap.toUpperCase().replace(/^CAP_/, '');
    if (DANGEROUS_CAPABILITIES.has(c)) reasons.push(`CapAdd ${c}`);
  }
  for (const bind of hc.Binds ?? []) {
    const why = dangerousBind(bind.split(':')[0]);
    if (why) reasons.push(why);
  }
  for (const m of hc.Mounts ?? []) {
    if ((m.Type ?? 'volume') === 'bind' && m.Source) {
      const why = dangerousBind(m.Source);
      if (why) reasons.push(why);
    }
  }
  if ((hc.Devices ?? []).length > 0) reasons.push('host devices');
  for (const opt of hc.SecurityOpt ?? []) {
    if (/unconfined|no-new-privileges[:=]false|label[:=]disable/i.test(opt)) reasons.push(`SecurityOpt ${opt}`);
  }
  return reasons;
}
