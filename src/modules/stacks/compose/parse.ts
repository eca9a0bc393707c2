/**
 * The Go parsers `docker stack deploy` runs on compose values, ported so that a value converts
 * to the same number or list here: time.ParseDuration, go-units RAMInBytes, the CLI's ParseCPUs
 * (big.Rat), google/shlex Split, go-connections' port specs (nat.ParsePortSpec with
 * swarmopts.ConvertPortToPortConfig), the CLI's volume short syntax (internal/volumespec), the
 * capability normaliser (opts/capabilities.go), netip address checks and Go's byte-wise string order.
 * Each throws ParseError with the Go code's wording where it has one.
 */
import { isIP, isIPv4 } from 'node:net';

export class ParseError extends Error {}

// ------------------------------------------------------------------------------------------------
// Ordering
// ------------------------------------------------------------------------------------------------

/** Go's string order (bytes of UTF-8), which sort.Strings and cmp.Compare use. */
export function goCompare(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function goSorted(values: Iterable<string>): string[] {
  return [...values].sort(goCompare);
}

// ------------------------------------------------------------------------------------------------
// Durations, sizes, CPUs
// ------------------------------------------------------------------------------------------------

const DURATION_UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5
  μs: 1_000n, // U+03BC
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const DURATION_PART = /^(\d*)(?:\.(\d*))?([^\d.]*)/;

/**
 * time.ParseDuration, in nanoseconds ("1m30s" → 90000000000). Limited to what a JS number holds
 * exactly (2^53 ns, about 104 days), far beyond any healthcheck, grace period or update delay.
 */
export function parseDuration(text: string): number {
  let s = text;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s.startsWith('-');
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new ParseError(`invalid duration ${JSON.stringify(text)}`);
  let total = 0n;
  while (s !== '') {
    // a number (digits, an optional fraction) and its unit: the run of characters that are neither
    const [all, whole, fraction = '', unitName] = DURATION_PART.exec(s) ?? ['', '', '', ''];
    if (whole === '' && fraction === '') throw new ParseError(`invalid duration ${JSON.stringify(text)}`);
    if (unitName === '') throw new ParseError(`missing unit in duration ${JSON.stringify(text)}`);
    if (!Object.hasOwn(DURATION_UNITS, unitName)) throw new ParseError(`unknown unit ${JSON.stringify(unitName)} in duration ${JSON.stringify(text)}`);
    const unit = DURATION_UNITS[unitName];
    total += BigInt(whole || '0') * unit;
    if (fraction) {
      // Go adds the fraction as float64(f) * (float64(unit) / scale), truncated
      total += BigInt(Math.trunc(Number(fraction) * (Number(unit) / 10 ** fraction.length)));
    }
    s = s.slice(all.length);
  }
  if (total > BigInt(Number.MAX_SAFE_INTEGER)) throw new ParseError(`duration ${JSON.stringify(text)} is too long`);
  return Number(negative ? -total : total);
}

const SIZE_UNITS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
const GO_FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** go-units RAMInBytes: "512m" → 536870912 (binary multiples; b, k, kb, kib, …). A YAML integer is taken as bytes. */
export function parseBytes(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new ParseError(`invalid size: '${value}'`);
    return value;
  }
  let sep = -1;
  for (let i = value.length - 1; i >= 0; i--) {
    if ('01234567890. '.includes(value[i])) {
      sep = i;
      break;
    }
  }
  if (sep === -1) throw new ParseError(`invalid size: '${value}'`);
  const num = value[sep] !== ' ' ? value.slice(0, sep + 1) : value.slice(0, sep);
  const sfx = value.slice(sep + 1);
  if (!GO_FLOAT.test(num)) throw new ParseError(`invalid size: '${value}'`);
  let size = Number(num);
  if (size < 0) throw new ParseError(`invalid size: '${value}'`);
  if (sfx.length === 0) return Math.trunc(size);
  const bad = () => new ParseError(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw bad();
  const lower = sfx.toLowerCase();
  if (lower[0] === 'b') {
    if (lower.length > 1) throw bad();
    return Math.trunc(size);
  }
  const mul = Object.hasOwn(SIZE_UNITS, lower[0]) ? SIZE_UNITS[lower[0]] : undefined;
  if (mul === undefined) throw bad();
  size *= mul;
  if ((lower.length === 2 && lower[1] !== 'b') || (lower.length === 3 && lower.slice(1) !== 'ib')) throw bad();
  return Math.trunc(size);
}

/** The CLI's ParseCPUs: a rational number of CPUs ("0.5", "1/4", "2") → nano CPUs, which must come out whole. */
export function parseCpus(value: string | number): number {
  const text = typeof value === 'number' ? String(value) : value;
  let num: bigint;
  let den: bigint;
  const fraction = /^([+-]?)(\d+)\/(\d+)$/.exec(text);
  const decimal = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (fraction) {
    num = BigInt(fraction[2]) * (fraction[1] === '-' ? -1n : 1n);
    den = BigInt(fraction[3]);
    if (den === 0n) throw new ParseError(`failed to parse ${text} as a rational number`);
  } else if (decimal && (decimal[2] !== '' || (decimal[3] ?? '') !== '') && Math.abs(Number(decimal[4] ?? 0)) < 1000) {
    const digits = `${decimal[2]}${decimal[3] ?? ''}` || '0';
    const exp = Number(decimal[4] ?? 0) - (decimal[3] ?? '').length;
    num = BigInt(digits) * (decimal[1] === '-' ? -1n : 1n);
    den = 1n;
    if (exp >= 0) num *= 10n ** BigInt(exp);
    else den = 10n ** BigInt(-exp);
  } else {
    throw new ParseError(`failed to parse ${text} as a rational number`);
  }
  const nano = num * 1_000_000_000n;
  if (nano % den !== 0n) throw new ParseError('value is too precise');
  const result = nano / den;
  if (result > BigInt(Number.MAX_SAFE_INTEGER) || result < -BigInt(Number.MAX_SAFE_INTEGER)) throw new ParseError(`${text} CPUs is out of range`);
  return Number(result);
}

// ------------------------------------------------------------------------------------------------
// Commands
// ------------------------------------------------------------------------------------------------

/** google/shlex Split, which the CLI applies to a `command:` or `entrypoint:` given as a string. */
export function shlexSplit(input: string): string[] {
  const words: string[] = [];
  type State = 'start' | 'word' | 'escaping' | 'escapingQuoted' | 'quotingEscaping' | 'quoting' | 'comment';
  let state: State = 'start';
  let value = '';
  const chars = [...input];
  for (let i = 0; i <= chars.length; i++) {
    const eof = i === chars.length;
    const ch = eof ? '' : chars[i];
    const space = ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
    switch (state) {
      case 'start':
        if (eof) return words;
        if (space) break;
        if (ch === '"') state = 'quotingEscaping';
        else if (ch === "'") state = 'quoting';
        else if (ch === '\\') state = 'escaping';
        else if (ch === '#') state = 'comment';
        else {
          value = ch;
          state = 'word';
        }
        break;
      case 'word':
        if (eof || space) {
          words.push(value);
          value = '';
          state = 'start';
          if (eof) return words;
        } else if (ch === '"') state = 'quotingEscaping';
        else if (ch === "'") state = 'quoting';
        else if (ch === '\\') state = 'escaping';
        else value += ch;
        break;
      case 'escaping':
        if (eof) throw new ParseError('EOF found after escape character');
        value += ch;
        state = 'word';
        break;
      case 'escapingQuoted':
        if (eof) throw new ParseError('EOF found after escape character');
        value += ch;
        state = 'quotingEscaping';
        break;
      case 'quotingEscaping':
        if (eof) throw new ParseError('EOF found when expecting closing quote');
        if (ch === '"') state = 'word';
        else if (ch === '\\') state = 'escapingQuoted';
        else value += ch;
        break;
      case 'quoting':
        if (eof) throw new ParseError('EOF found when expecting closing quote');
        if (ch === "'") state = 'word';
        else value += ch;
        break;
      case 'comment':
        if (eof) return words;
        if (ch === '\n') state = 'start';
        break;
    }
  }
  return words;
}

// ------------------------------------------------------------------------------------------------
// Ports
// ------------------------------------------------------------------------------------------------

/** A published port as the CLI builds it from the short syntax. */
export interface ShortPort {
  protocol: string;
  target: number;
  published: number;
  mode: 'ingress';
}

function portNumber(raw: string): number {
  if (raw === '') throw new ParseError('value is empty');
  if (!/^[+-]?\d+$/.test(raw)) throw new ParseError('invalid syntax');
  const n = Number(raw);
  if (n < 0 || n > 65535) throw new ParseError('value out of range (0–65535)');
  return n;
}

function portRange(raw: string): [number, number] {
  if (raw === '') throw new ParseError('empty string specified for ports');
  const dash = raw.indexOf('-');
  const start = dash < 0 ? raw : raw.slice(0, dash);
  const end = dash < 0 ? undefined : raw.slice(dash + 1);
  const s = portNumber(start);
  if (end === undefined || start === end) return [s, s];
  const e = portNumber(end);
  if (e < s) throw new ParseError(`invalid port range: ${raw}`);
  return [s, e];
}

/**
 * A short-syntax port ("8080:80", "127.0.0.1:53:53/udp", "9000-9001:90-91", "80") as the CLI
 * turns it into port configs: published in ingress mode, a host IP ignored with the CLI's
 * warning, a port without a published one published as 0 (Docker picks one).
 */
export function parseShortPort(spec: string, warnings: string[]): ShortPort[] {
  const parts = spec.split(':');
  let ip = '';
  let hostPort = '';
  let containerPart: string;
  if (parts.length === 1) containerPart = parts[0];
  else if (parts.length === 2) [hostPort, containerPart] = parts;
  else if (parts.length === 3) [ip, hostPort, containerPart] = parts;
  else {
    ip = parts.slice(0, -2).join(':');
    hostPort = parts[parts.length - 2];
    containerPart = parts[parts.length - 1];
  }
  const slash = containerPart.indexOf('/');
  const containerPort = slash < 0 ? containerPart : containerPart.slice(0, slash);
  let proto = slash < 0 ? '' : containerPart.slice(slash + 1);
  if (containerPort === '') proto = '';
  else if (proto === '') proto = 'tcp';
  if (containerPort === '') throw new ParseError(`no port specified: ${spec}<empty>`);
  proto = proto.toLowerCase();
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') throw new ParseError(`invalid proto: ${proto}`);
  if (ip.startsWith('[')) {
    if (!ip.endsWith(']')) throw new ParseError(`invalid IP address ${ip}`);
    ip = ip.slice(1, -1);
  }
  if (ip !== '' && isIP(ip) === 0) throw new ParseError(`invalid IP address: ${ip}`);
  let start: number;
  let end: number;
  try {
    [start, end] = portRange(containerPort);
  } catch {
    throw new ParseError(`invalid containerPort: ${containerPort}`);
  }
  let hostStart = 0;
  let hostEnd = 0;
  if (hostPort !== '') {
    try {
      [hostStart, hostEnd] = portRange(hostPort);
    } catch {
      throw new ParseError(`invalid hostPort: ${hostPort}`);
    }
    if (end - start !== hostEnd - hostStart && end !== start) throw new ParseError(`invalid ranges specified for container and host Ports: ${containerPart.split('/')[0]} and ${hostPort}`);
  }
  const out: ShortPort[] = [];
  const count = end - start + 1;
  for (let i = 0; i < count; i++) {
    const target = start + i;
    // the binding's host port: one port, or the whole host range when one container port maps to a range
    let published: [number, number] = [0, 0];
    if (hostPort !== '') published = count === 1 && hostStart !== hostEnd ? [hostStart, hostEnd] : [hostStart + i, hostStart + i];
    if (ip !== '' && !isUnspecified(ip)) {
      const hp = hostPort === '' ? '' : count === 1 && hostStart !== hostEnd ? `${hostStart}-${hostEnd}` : String(hostStart + i);
      warnings.push(`ignoring IP-address (${ip.includes(':') ? `[${ip}]` : ip}:${hp}:${target}/${proto}) service will listen on '0.0.0.0'`);
    }
    for (let p = published[0]; p <= published[1]; p++) out.push({ protocol: proto, target, published: p, mode: 'ingress' });
  }
  return out;
}

function isUnspecified(ip: string): boolean {
  return ip === '0.0.0.0' || /^[0:]+$/.test(ip) || ip === '::';
}

// ------------------------------------------------------------------------------------------------
// Volumes
// ------------------------------------------------------------------------------------------------

/** A short-syntax volume as the CLI's volumespec.Parse reads it. */
export interface ShortVolume {
  type: 'volume' | 'bind';
  source: string;
  target: string;
  readOnly: boolean;
  nocopy: boolean;
  propagation?: string;
}

const PROPAGATIONS = new Set(['rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave']);

/** "data:/var/lib/data:ro", "/host:/in:rshared", "/anonymous" → its parts (volumespec.Parse). */
export function parseShortVolume(spec: string): ShortVolume {
  const volume: ShortVolume = { type: 'volume', source: '', target: '', readOnly: false, nocopy: false };
  const chars = [...spec];
  if (chars.length === 0) throw new ParseError('invalid empty volume spec');
  if (spec.length <= 2) {
    volume.target = spec;
    return volume;
  }
  let buffer: string[] = [];
  const isWindowsDrive = (buf: string[], ch: string) => ch === ':' && buf.length === 1 && /\p{L}/u.test(buf[0]);
  for (let i = 0; i <= chars.length; i++) {
    const end = i === chars.length;
    const ch = end ? '' : chars[i];
    if (!end && isWindowsDrive(buffer, ch)) buffer.push(ch);
    else if (end || ch === ':') {
      const text = buffer.join('');
      if (buffer.length === 0) throw new ParseError(`invalid spec: ${spec}: empty section between colons`);
      if (volume.source === '' && end) volume.target = text;
      else if (volume.source === '') volume.source = text;
      else if (volume.target === '') volume.target = text;
      else if (!end) throw new ParseError(`invalid spec: ${spec}: too many colons`);
      else {
        for (const option of text.split(',')) {
          if (option === 'ro') volume.readOnly = true;
          else if (option === 'rw') volume.readOnly = false;
          else if (option === 'nocopy') volume.nocopy = true;
          else if (PROPAGATIONS.has(option)) volume.propagation = option;
        }
      }
      buffer = [];
    } else buffer.push(ch);
  }
  volume.type = volume.source !== '' && isFilePath(volume.source) ? 'bind' : 'volume';
  return volume;
}

function isFilePath(source: string): boolean {
  if (source[0] === '.' || source[0] === '/' || source[0] === '~') return true;
  const chars = [...source];
  if (chars.length === 1) return false;
  if (source.startsWith('\\\\')) return true;
  return chars[1] === ':' && /\p{L}/u.test(chars[0]);
}

// ------------------------------------------------------------------------------------------------
// Names and addresses
// ------------------------------------------------------------------------------------------------

/** opts.NormalizeCapability: upper case, `CAP_` prefix, except ALL and RESET. */
function normalizeCapability(capability: string): string {
  const c = capability.trim().toUpperCase();
  if (c === 'ALL' || c === 'RESET') return c;
  return c.startsWith('CAP_') ? c : `CAP_${c}`;
}

/** opts.EffectiveCapAddCapDrop: normalised, ALL wins over the rest, a capability both added and dropped is added, RESET dropped, sorted. */
export function effectiveCapabilities(add: string[], drop: string[]): { capAdd: string[]; capDrop: string[] } {
  let adds = new Set(add.map(normalizeCapability));
  let drops = new Set(drop.map(normalizeCapability));
  if (adds.has('ALL')) adds = new Set(['ALL']);
  if (drops.has('ALL')) drops = new Set(['ALL']);
  const capDrop = [...drops].filter((c) => !adds.has(c) && c !== 'RESET');
  const capAdd = [...adds].filter((c) => c !== 'RESET');
  return { capAdd: goSorted(capAdd), capDrop: goSorted(capDrop) };
}

/** netip.ParseAddr, as far as the CLI relies on it (DNS servers that do not parse are left out). */
export function isAddress(value: string): boolean {
  return isIP(value) !== 0;
}

/** netip.ParsePrefix: an address, "/", a prefix length in range (no leading zeros). */
export function isPrefix(value: string): boolean {
  const slash = value.lastIndexOf('/');
  if (slash < 0) return false;
  const addr = value.slice(0, slash);
  const bits = value.slice(slash + 1);
  if (!/^(0|[1-9]\d{0,2})$/.test(bits) || addr.includes('%')) return false;
  const kind = isIPv4(addr) ? 32 : isIP(addr) === 6 ? 128 : 0;
  return kind > 0 && Number(bits) <= kind;
}

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const REFERENCE = new RegExp(
  `^((?:(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)` +
    `(?::[\\w][\\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,})?$`,
);

/**
 * distribution/reference ParseAnyReference, which the CLI runs on every service's image: a
 * 64-hex image ID, or `[domain[:port]/]path[:tag][@digest]` with a lowercase path of at most 255
 * characters. Returns why not, or undefined.
 */
export function imageReferenceProblem(image: string): string | undefined {
  if (/^[a-f0-9]{64}$/.test(image)) return undefined;
  const m = REFERENCE.exec(image);
  if (!m) {
    if (/[A-Z]/.test(image.split(/[:@]/)[0].split('/').slice(-1)[0] ?? '')) return 'invalid reference format: repository name must be lowercase';
    return 'invalid reference format';
  }
  if (m[1].length > 255) return 'repository name must not be more than 255 characters';
  // a first component without "." or ":" (and not "localhost") is a path, which must be lowercase
  const first = m[1].split('/')[0];
  if (m[1].includes('/') && !first.includes('.') && !first.includes(':') && first !== 'localhost' && first !== first.toLowerCase()) {
    return 'invalid reference format: repository name must be lowercase';
  }
  return undefined;
}
