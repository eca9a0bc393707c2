import path from 'node:path';
import ipaddr from 'ipaddr.js';

/**
 * Which Docker endpoints fleetgraph may connect to (pure: no DNS, no file system; the connect-time
 * guard in src/infra/engine/client.ts resolves names and socket paths and asks this module).
 *
 * Public unicast addresses are allowed. Everything else — `unix://` sockets, loopback, link-local,
 * private (RFC 1918, IPv6 unique-local), CGNAT, unspecified, multicast, broadcast and every other
 * special-purpose range (documentation, benchmarking, NAT64, 6to4, Teredo, IPv4-compatible IPv6…) —
 * is refused unless the operator lists it in FLEETGRAPH_ENDPOINT_ALLOW. Addresses are normalised
 * first: IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is the IPv4 address, and the numeric forms inet_aton
 * accepts (`2130706433`, `0x7f.1`, `017700000001`, `127.1`) are the dotted address they mean.
 */

export const ENDPOINT_ALLOW_ENV = 'FLEETGRAPH_ENDPOINT_ALLOW';
/** Outside production, with FLEETGRAPH_ENDPOINT_ALLOW unset: the local Docker socket only. */
export const DEV_ENDPOINT_ALLOW = 'unix:/var/run/docker.sock';

export type AddressClass = 'public' | 'loopback' | 'link-local' | 'private' | 'cgnat' | 'unspecified' | 'multicast' | 'broadcast' | 'reserved';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** ipaddr.js range names that have a class of their own; every other non-unicast range is 'reserved'. */
const RANGE_CLASS: Record<string, AddressClass> = {
  unicast: 'public',
  loopback: 'loopback',
  linkLocal: 'link-local',
  private: 'private',
  uniqueLocal: 'private',
  carrierGradeNat: 'cgnat',
  unspecified: 'unspecified',
  multicast: 'multicast',
  broadcast: 'broadcast',
};

/** ::/96, the deprecated IPv4-compatible IPv6 addresses (::7f00:1): never public. */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

/**
 * An IP address in any notation the resolver accepts, normalised (IPv4-mapped IPv6 becomes IPv4);
 * null when the text is not an IP address (a host name). Brackets around IPv6 are accepted.
 */
export function parseAddress(text: string): Address | null {
  const t = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!ipaddr.isValid(t)) return null;
  try {
    return ipaddr.process(t);
  } catch {
    return null;
  }
}

/** The class of an address (see AddressClass); null when the text is not an IP address. */
export function classifyAddress(text: string | Address): AddressClass | null {
  const addr = typeof text === 'string' ? parseAddress(text) : text;
  if (!addr) return null;
  if (addr.kind() === 'ipv6' && inRange(addr, IPV4_COMPATIBLE) && addr.range() !== 'unspecified' && addr.range() !== 'loopback') return 'reserved';
  return RANGE_CLASS[addr.range()] ?? 'reserved';
}

interface AddressRule {
  range: [Address, number];
  /** Only this port, when given. */
  port?: number;
}

/** The operator's allow-list (FLEETGRAPH_ENDPOINT_ALLOW), parsed. */
export interface EndpointAllowList {
  addresses: AddressRule[];
  /** Exact socket paths. */
  sockets: string[];
  /** Directories (ending in "/"): any socket below them. */
  socketDirs: string[];
}

export const EMPTY_ALLOW_LIST: EndpointAllowList = { addresses: [], sockets: [], socketDirs: [] };

/** An absolute, normalised socket path (no "..", ".", "//", NUL), or null. */
export function normalSocketPath(p: string): string | null {
  if (!p.startsWith('/') || p.includes('\0') || path.posix.normalize(p) !== p) return null;
  return p;
}

function parsePort(text: string, entry: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new Error(`${ENDPOINT_ALLOW_ENV}: bad port in "${entry}"`);
  return port;
}

function parseRange(text: string, entry: string): [Address, number] {
  try {
    if (text.includes('/')) {
      const [addr, bits] = ipaddr.parseCIDR(text);
      // a CIDR of IPv4-mapped addresses means the IPv4 range
      if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) return [(addr as ipaddr.IPv6).toIPv4Address(), bits - 96];
      return [addr, bits];
    }
    const addr = parseAddress(text);
    if (addr) return [addr, addr.kind() === 'ipv4' ? 32 : 128];
  } catch {
    // reported below
  }
  throw new Error(`${ENDPOINT_ALLOW_ENV}: "${entry}" is not an IP address, a CIDR range or unix:/absolute/path`);
}

/**
 * Parses a comma-separated allow-list: `10.0.0.0/8`, `192.168.1.5`, `127.0.0.1:23760` (one port),
 * `::1`, `[fd00::/8]:2376`, `unix:/var/run/docker.sock` (one socket), `unix:/run/docker/` (any
 * socket below a directory); `unix:///path` is read as `unix:/path`. Host names are not accepted
 * (the list is about addresses). A malformed entry throws.
 */
export function parseEndpointAllowList(text: string): EndpointAllowList {
  const list: EndpointAllowList = { addresses: [], sockets: [], socketDirs: [] };
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    if (entry.startsWith('unix:')) {
      const p = normalSocketPath(entry.slice('unix:'.length).replace(/^\/\/(?=\/)/, ''));
      if (!p || p === '/') throw new Error(`${ENDPOINT_ALLOW_ENV}: "${entry}" must be unix: and an absolute, normalised path`);
      (p.endsWith('/') ? list.socketDirs : list.sockets).push(p);
      continue;
    }
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    const v4port = /^([0-9a-fA-Fx./]+):(\d+)$/.exec(entry);
    if (bracketed) list.addresses.push({ range: parseRange(bracketed[1], entry), port: bracketed[2] ? parsePort(bracketed[2], entry) : undefined });
    else if (v4port) list.addresses.push({ range: parseRange(v4port[1], entry), port: parsePort(v4port[2], entry) });
    else list.addresses.push({ range: parseRange(entry, entry) });
  }
  return list;
}

/**
 * The allow-list in force: FLEETGRAPH_ENDPOINT_ALLOW when set ("none" for an empty list), else
 * nothing in production and the local Docker socket (DEV_ENDPOINT_ALLOW) outside it.
 */
export function loadEndpointAllowList(value: string | undefined, production: boolean): EndpointAllowList {
  if (value === undefined || value.trim() === '') return production ? EMPTY_ALLOW_LIST : parseEndpointAllowList(DEV_ENDPOINT_ALLOW);
  if (value.trim() === 'none') return EMPTY_ALLOW_LIST;
  return parseEndpointAllowList(value);
}

/** Decides endpoints against the allow-list. */
export class EndpointPolicy {
  constructor(readonly allow: EndpointAllowList) {}

  /** Whether an address (already resolved: an IP in any notation) and port may be connected to. */
  allowsAddress(text: string, port: number): boolean {
    const addr = parseAddress(text);
    if (!addr) return false;
    if (this.listed(addr, port)) return true;
    return classifyAddress(addr) === 'public';
  }

  /** Whether a unix socket path is on the allow-list (exactly, or below a listed directory). */
  allowsSocket(p: string): boolean {
    const normal = normalSocketPath(p);
    if (!normal) return false;
    return this.allow.sockets.includes(normal) || this.allow.socketDirs.some((d) => normal.startsWith(d));
  }

  private listed(addr: Address, port: number): boolean {
    return this.allow.addresses.some((r) => inRange(addr, r.range) && (r.port === undefined || r.port === port));
  }
}

function inRange(addr: Address, [base, bits]: [Address, number]): boolean {
  if (addr.kind() !== base.kind()) return false;
  return addr.kind() === 'ipv4' ? (addr as ipaddr.IPv4).match(base as ipaddr.IPv4, bits) : (addr as ipaddr.IPv6).match(base as ipaddr.IPv6, bits);
}
