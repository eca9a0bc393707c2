import path from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract, pack, type Header } from 'tar-stream';
import type { Refusal } from '../../platform/policy/host-access';
import { registryRefusal } from '../../platform/policy/registry';

export { registryHost, registryRefusal } from '../../platform/policy/registry';

/**
 * What an image build or a pull/push may make the Docker daemon reach (pure: no DNS, no Docker).
 *
 * dockerd fetches `ADD http://…` sources, base images and registries from the HOST's network
 * namespace, so without `docker.containers.privileged` a Dockerfile may use only the instructions
 * of BUILD_INSTRUCTIONS, ADD/COPY only with local sources, and images (FROM, COPY --from, pull,
 * push) only from registries that are not on a loopback, link-local, private or otherwise
 * non-public address. Registry host NAMES are not resolved here (the daemon resolves them): a
 * public name pointing at 127.0.0.1 is not caught; `localhost` and `*.localhost` are.
 */

/** Instructions a build may use without the permission (ONBUILD and anything unknown are refused). */
export const BUILD_INSTRUCTIONS = new Set([
  'from',
  'run',
  'cmd',
  'label',
  'expose',
  'env',
  'add',
  'copy',
  'entrypoint',
  'volume',
  'user',
  'workdir',
  'arg',
  'stopsignal',
  'healthcheck',
  'shell',
  'maintainer',
]);

/**
 * Flags accepted per instruction (others are refused: the classic builder rejects most anyway).
 * FROM --platform is not: another platform's variant of a base image would be pulled unchecked.
 */
const FLAGS: Record<string, Set<string>> = {
  add: new Set(['chown', 'chmod', 'link']),
  copy: new Set(['chown', 'chmod', 'link', 'from']),
  healthcheck: new Set(['interval', 'timeout', 'start-period', 'start-interval', 'retries']),
};

/** Longest Dockerfile read from a context. */
export const DOCKERFILE_MAX_BYTES = 1024 * 1024;

/** A Dockerfile that cannot be found or parsed (the caller makes it BAD_USER_INPUT). */
export class DockerfileError extends Error {}

export interface Instruction {
  /** 1-based line where the instruction starts. */
  line: number;
  /** Lowercase. */
  keyword: string;
  flags: Array<{ name: string; value: string | null; raw: string }>;
  /** The arguments after the flags. */
  args: string;
  /** The arguments as a JSON array of strings, when written in that form. */
  json: string[] | null;
}

/** Characters a Dockerfile may not hold (see parseDockerfile): controls but tab, LF and CR; format characters; separators but space. */
const UNCLEAR_CHARACTER = /[^\P{Cc}\t\n\r]|[\p{Cf}\p{Zl}\p{Zp}]|(?! )\p{Zs}/u;

/** A parser directive, matched on a line whose trailing blanks are cut first (`(.+?)\\s*$` backtracks quadratically on a long run of blanks). */
const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+)$/;
/** Parser directives dockerd knows; an unknown one ends the directives (it is a comment). */
const KNOWN_DIRECTIVES = new Set(['escape', 'syntax', 'check']);

/**
 * Parses a Dockerfile the way dockerd's parser splits it: parser directives at the top (`# escape=`),
 * comment and blank lines skipped (also inside continuations), lines joined on the escape character
 * at the end of a line, case-insensitive instructions, leading `--flags`, JSON-array arguments.
 */
export function parseDockerfile(text: string): Instruction[] {
  if (text.includes('\0')) throw new DockerfileError('contains a NUL byte');
  const body = text.replace(/^\uFEFF/, '');
  // controls, format characters and spaces other than space and tab: JavaScript and Go (dockerd's
  // parser) disagree on which are whitespace (U+FEFF, for one), so a line this review skips as blank
  // could end a continuation in dockerd's reading, and an instruction hidden in it would run unchecked
  const unclear = UNCLEAR_CHARACTER.exec(body);
  if (unclear) {
    const line = body.slice(0, unclear.index).split('\n').length;
    throw new DockerfileError(`line ${line}: character U+${unclear[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} is not allowed (only space and tab as blanks)`);
  }
  const lines = body.split('\n').map((l) => l.replace(/\r$/, ''));
  let escape = '\\';
  let i = 0;
  const seen = new Set<string>();
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i].trimEnd());
    if (!m || !KNOWN_DIRECTIVES.has(m[1].toLowerCase())) break;
    const key = m[1].toLowerCase();
    if (seen.has(key)) throw new DockerfileError(`line ${i + 1}: directive "${key}" given twice`);
    seen.add(key);
    if (key === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw new DockerfileError(`line ${i + 1}: escape must be \\ or \``);
      escape = m[2];
    }
  }
  const continuation = new RegExp(`${escape === '\\' ? '\\\\' : '`'}[ \\t]*$`);
  const isComment = (l: string) => /^\s*#/.test(l);
  const out: Instruction[] = [];
  for (; i < lines.length; i++) {
    const first = lines[i].trimStart();
    if (!first.trim() || isComment(first)) continue;
    const start = i + 1;
    let line = first;
    let more = continuation.test(line);
    if (more) line = line.replace(continuation, '');
    while (more && i + 1 < lines.length) {
      const next = lines[++i];
      if (isComment(next) || !next.trim()) continue;
      more = continuation.test(next);
      line += more ? next.replace(continuation, '') : next;
    }
    out.push(instruction(line, start));
  }
  return out;
}

function instruction(line: string, start: number): Instruction {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(line.trim())!;
  const keyword = m[1].toLowerCase();
  let rest = m[2];
  const flags: Instruction['flags'] = [];
  for (;;) {
    const f = /^--(\S*)\s*/.exec(rest);
    if (!f) break;
    rest = rest.slice(f[0].length);
    if (f[1] === '') break; // "--" ends the flags
    const eq = f[1].indexOf('=');
    flags.push({ name: (eq < 0 ? f[1] : f[1].slice(0, eq)).toLowerCase(), value: eq < 0 ? null : f[1].slice(eq + 1), raw: f[0].trim() });
  }
  const args = rest.trim();
  return { line: start, keyword, flags, args, json: jsonArgs(args) };
}

function jsonArgs(args: string): string[] | null {
  if (!args.startsWith('[')) return null;
  try {
    const v: unknown = JSON.parse(args);
    return Array.isArray(v) && v.every((s) => typeof s === 'string') ? v : null;
  } catch {
    return null;
  }
}

/** The value dockerd's word processing would make of a plain word: quotes and escape characters dropped. */
function unquoted(word: string): string {
  return word.replace(/["'\\`]/g, '');
}

/** Arguments of ADD/COPY/FROM: the JSON form or whitespace-separated words. */
function words(ins: Instruction): string[] {
  return ins.json ?? ins.args.split(/\s+/).filter(Boolean);
}

/**
 * Everything in the Dockerfile that needs the privileged permission, each as `dockerfile:<line>`
 * and the reason (empty: the build is allowed). Fails closed: `$` in an image or a source is
 * refused (its value cannot be known here), as is any flag the policy does not know.
 */
export function dockerfileRefusals(text: string): Refusal[] {
  return reviewDockerfile(text).refusals;
}

/** An image the build starts from or copies from (not a stage, not scratch), by Dockerfile line. */
export interface BaseImage {
  line: number;
  ref: string;
}

/** The refusals of dockerfileRefusals and the base images the daemon will use (to check on the engine). */
export function reviewDockerfile(text: string): { refusals: Refusal[]; images: BaseImage[] } {
  const out: Refusal[] = [];
  const images: BaseImage[] = [];
  const stages = new Set<string>();
  let stageCount = 0;
  for (const ins of parseDockerfile(text)) {
    const refuse = (reason: string) => out.push({ field: `dockerfile:${ins.line}`, reason: `${ins.keyword.toUpperCase()} ${reason}` });
    if (!BUILD_INSTRUCTIONS.has(ins.keyword)) {
      refuse('is not an allowed instruction');
      continue;
    }
    for (const f of ins.flags) {
      if (!FLAGS[ins.keyword]?.has(f.name)) refuse(`flag --${f.name} is not allowed`);
      else if (/["'\\`]/.test(f.raw)) refuse(`flag --${f.name} must not be quoted or escaped`);
    }
    if (ins.keyword === 'from') {
      const [image = '', as, name] = words(ins);
      const ref = unquoted(image);
      if (image.includes('$')) refuse('image with a variable cannot be checked');
      else if (!stages.has(ref.toLowerCase()) && ref.toLowerCase() !== 'scratch') {
        const why = registryRefusal(ref);
        if (why) refuse(why);
        else images.push({ line: ins.line, ref });
      }
      if (as?.toLowerCase() === 'as' && name) stages.add(unquoted(name).toLowerCase());
      stageCount++;
    }
    if (ins.keyword === 'add' || ins.keyword === 'copy') {
      const from = ins.flags.find((f) => f.name === 'from')?.value;
      if (from != null) {
        if (from.includes('$')) refuse('--from with a variable cannot be checked');
        else if (!stages.has(from.toLowerCase()) && !(/^\d+$/.test(from) && Number(from) < stageCount)) {
          const why = registryRefusal(from);
          if (why) refuse(`--from: ${why}`);
          else images.push({ line: ins.line, ref: from });
        }
      }
      const args = words(ins);
      for (const src of args.slice(0, -1)) {
        if (src.includes('$')) refuse(`source with a variable cannot be checked`);
        else if (unquoted(src).includes('://') || src.includes('://')) refuse('source must be a path in the context, not a URL');
      }
    }
  }
  return { refusals: out, images };
}

/**
 * The base images as the engine has them (null: not on the host) judged: an image with ONBUILD
 * triggers would run instructions this policy never saw, and one not on the host would be pulled
 * by the build unchecked, so both are refused (pull it with pullImage first).
 */
export function baseImageRefusals(images: BaseImage[], onEngine: Map<string, { onBuild: unknown[] } | null>): Refusal[] {
  const out: Refusal[] = [];
  for (const { line, ref } of images) {
    const img = onEngine.get(ref);
    if (!img) out.push({ field: `dockerfile:${line}`, reason: `image ${ref} is not on the host: pull it first` });
    else if (img.onBuild.length) out.push({ field: `dockerfile:${line}`, reason: `image ${ref} has ONBUILD triggers` });
  }
  return out;
}

const norm = (p: string) => path.posix.normalize(p.replace(/^\/+/, '')).replace(/^\.\//, '');

/** Most bytes a build context may unpack to: a gzip context could otherwise grow a thousandfold in memory. */
export const CONTEXT_MAX_UNPACKED_BYTES = 64 * 1024 * 1024;

/**
 * Reads the Dockerfile `name` from a build context (tar, gzip allowed) as dockerd would find it,
 * including its fallback from `Dockerfile` to `dockerfile`. Fails closed: the file must be a
 * regular file given once, and no entry may make it or a directory above it a link.
 *
 * Returns the context packed again from the entries read, which is what dockerd must be given:
 * tar readers disagree on archives that go on after their end marker, and on names dockerd
 * cleans (`Dockerfile/`), so the daemon builds exactly what was reviewed.
 */
export async function readContext(context: Buffer, name: string): Promise<{ dockerfile: string; context: Buffer }> {
  const wanted = [norm(name), ...(name === 'Dockerfile' ? ['dockerfile'] : [])];
  const found = new Map<string, Buffer | 'bad'>();
  const ex = extract();
  const out = pack();
  const packed: Buffer[] = [];
  const collected = (async () => {
    for await (const c of out) packed.push(c as Buffer);
  })();
  // ends with an error once `out` is destroyed below: awaited on success only
  collected.catch(() => undefined);
  const input = Readable.from([context]);
  const gzip = context[0] === 0x1f && context[1] === 0x8b;
  let unpacked = 0;
  let tooLarge = false;
  try {
    (gzip ? input.pipe(createGunzip()) : input).on('error', (e) => ex.destroy(e)).pipe(ex);
    for await (const entry of ex) {
      const header = entry.header;
      const chunks: Buffer[] = [];
      for await (const c of entry) {
        unpacked += (c as Buffer).length;
        if (unpacked > CONTEXT_MAX_UNPACKED_BYTES) {
          tooLarge = true;
          throw new Error('too large');
        }
        chunks.push(c as Buffer);
      }
      const data = Buffer.concat(chunks);
      // dockerd cleans a trailing slash off a file's name: `Dockerfile/` is its Dockerfile too
      const n = header.type === 'directory' ? norm(header.name) : norm(header.name).replace(/\/+$/, '');
      for (const w of wanted) {
        if (n === w) found.set(w, found.has(w) || header.type !== 'file' || data.length > DOCKERFILE_MAX_BYTES ? 'bad' : data);
        else if (w.startsWith(`${n}/`) && header.type !== 'directory') found.set(w, 'bad');
      }
      await repack(out, header, header.type === 'file' || header.type === 'contiguous-file' ? data : undefined);
    }
    out.finalize();
    await collected;
  } catch {
    out.destroy();
    if (tooLarge) throw new DockerfileError(`the build context unpacks to more than ${CONTEXT_MAX_UNPACKED_BYTES} bytes`);
    throw new DockerfileError('the build context is not a readable tar archive (plain or gzip)');
  }
  for (const w of wanted) {
    const f = found.get(w);
    if (f === 'bad') throw new DockerfileError(`${w} must be a regular file of at most ${DOCKERFILE_MAX_BYTES} bytes, given once, not below a link`);
    if (f) return { dockerfile: f.toString('utf8'), context: Buffer.concat(packed) };
  }
  throw new DockerfileError(`${wanted[0]} is not in the build context`);
}

/** The Dockerfile of a build context (readContext without the packed context). */
export async function readDockerfile(context: Buffer, name: string): Promise<string> {
  return (await readContext(context, name)).dockerfile;
}

function repack(out: ReturnType<typeof pack>, header: Header, data: Buffer | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve());
    if (data) out.entry({ ...header }, data, done);
    else out.entry({ ...header, size: 0 }, done);
  });
}
