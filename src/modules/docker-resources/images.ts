import { DockerImage, DockerHost } from '../../../entities';
import { badInput } from '../../kernel/errors';
import type { Scope } from '../../kernel/scope';
import { replaceImages } from '../hosts';
import type { ActivityHandle } from '../../platform/audit/activity';
import type { JsonProgress } from '../../infra/engine/json-stream';
import type { Engine } from '../../infra/engine/port';
import type { ImageInspect, RegistryAuth } from '../../infra/engine/types';
import type { HostOperations } from './operations';
import { FramedLine, LineFramer, LOG_LINE_MAX_BYTES } from '../../infra/engine/framing';
import { baseImageRefusals, DockerfileError, readContext, reviewDockerfile } from './build-policy';
import { assertRegistry, hostAccessForbidden, mayAccessHost } from '../../platform/policy/enforce';

export interface RegistryAuthInput {
  username?: string | null;
  password?: string | null;
  serverAddress?: string | null;
  identityToken?: string | null;
}

export interface PullImageInput {
  image: string;
  tag?: string | null;
  platform?: string | null;
  registryAuth?: RegistryAuthInput | null;
}

export interface PushImageInput {
  image: string;
  tag?: string | null;
  registryAuth?: RegistryAuthInput | null;
}

export interface TagImageInput {
  image: string;
  repo: string;
  tag?: string | null;
}

export interface BuildImageInput {
  /** The build context: a tar archive, base64-encoded (gzip allowed). */
  contextTarBase64: string;
  dockerfile?: string | null;
  tags?: string[] | null;
  buildArgs?: Record<string, unknown> | null;
  labels?: Record<string, unknown> | null;
  noCache?: boolean | null;
  pull?: boolean | null;
}

/** Docker's reference grammar: [domain[:port]/]path[:tag][@digest]; path components lowercase. */
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/;
const TAG_OR_DIGEST = /^(?<name>(?:[^/:@]+:[0-9]+\/)?[^:@]+)(?::(?<tag>[\w][\w.-]{0,127}))?(?:@(?<digest>sha256:[a-f0-9]{64}))?$/;

/** Whether `ref` is a valid image reference (name, name:tag, registry:5000/ns/name:tag, name@sha256:…). */
export function isReference(ref: string): boolean {
  const m = TAG_OR_DIGEST.exec(ref);
  if (!m?.groups) return false;
  const parts = m.groups.name.split('/');
  // The first component is a registry when it has a dot or a port, or is localhost (Docker's rule).
  if (parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === 'localhost')) {
    if (!DOMAIN.test(parts.shift()!)) return false;
  }
  return parts.every((p) => PATH_COMPONENT.test(p));
}
const TAG = /^[\w][\w.-]{0,127}$/;
const IMAGE_ID = /^(sha256:)?[a-f0-9]{12,64}$/;
/** Build output lines kept on the activity's progress and in the payload. */
export const BUILD_LOG_LINES = 200;
/** Appended to a build output line cut at LOG_LINE_MAX_BYTES. */
export const BUILD_LINE_CUT = '…[line truncated]';

export function checkReference(ref: string, field: string): string {
  const r = ref?.trim();
  if (!r || r.length > 500 || !(isReference(r) || IMAGE_ID.test(r))) throw badInput(field, `"${ref}" is not an image reference (name[:tag] or name@sha256:…)`);
  return r;
}

function checkTag(tag: string | null | undefined, field: string): string | undefined {
  if (tag == null) return undefined;
  if (!TAG.test(tag)) throw badInput(field, 'must be letters, digits, "_", "." or "-" (1–128)');
  return tag;
}

function authConfig(auth: RegistryAuthInput | null | undefined): RegistryAuth | undefined {
  if (!auth) return undefined;
  return {
    username: auth.username ?? undefined,
    password: auth.password ?? undefined,
    serveraddress: auth.serverAddress ?? undefined,
    ...(auth.identityToken ? { identitytoken: auth.identityToken } : {}),
  };
}

/**
 * Without docker.containers.privileged, the Dockerfile may not make the daemon reach the host's
 * network (src/modules/docker-resources/build-policy.ts), nor may the build pull: its base images must be on the host
 * (read before the audited build) and carry no ONBUILD triggers. Returns the context to send: for
 * such a caller, packed again from what was reviewed (readContext).
 */
async function assertBuild(ops: HostOperations, scope: Scope, host: DockerHost, input: BuildImageInput, context: Buffer, dockerfile: string): Promise<Buffer> {
  if (mayAccessHost(scope)) return context;
  let review;
  let reviewed: Buffer;
  try {
    const read = await readContext(context, dockerfile);
    reviewed = read.context;
    review = reviewDockerfile(read.dockerfile);
  } catch (err) {
    if (err instanceof DockerfileError) throw badInput('dockerfile', err.message);
    throw err;
  }
  if (input.pull) review.refusals.push({ field: 'pull', reason: 'pulling base images during a build skips the ONBUILD check (pull them with pullImage first)' });
  if (review.refusals.length) throw hostAccessForbidden(review.refusals);
  const refs = [...new Set(review.images.map((i) => i.ref))];
  if (!refs.length) return reviewed;
  const onEngine = await ops.read(
    scope,
    host,
    async (engine) =>
      new Map(
        await Promise.all(
          refs.map(async (ref) => {
            const image = await engine.findImage(ref);
            return [ref, image && { onBuild: image.Config?.OnBuild ?? [] }] as const;
          }),
        ),
      ),
  );
  const refusals = baseImageRefusals(review.images, onEngine);
  if (refusals.length) throw hostAccessForbidden(refusals);
  return reviewed;
}

/** Layers tracked per pull/push (a hostile daemon could report any number of ids). */
const PROGRESS_LAYERS_MAX = 1000;
const STATUS_MAX_CHARS = 200;

/**
 * Pull/push progress per layer, condensed for the activity's progress field. Keeps only the
 * latest state of at most PROGRESS_LAYERS_MAX layers, with statuses cut to STATUS_MAX_CHARS.
 */
export function layerProgress(): (line: JsonProgress) => Record<string, unknown> {
  const layers = new Map<string, { status: string; current?: number; total?: number }>();
  let status = '';
  return (l) => {
    const st = typeof l.status === 'string' ? l.status.slice(0, STATUS_MAX_CHARS) : undefined;
    if (typeof l.id === 'string' && st) {
      const id = l.id.slice(0, STATUS_MAX_CHARS);
      if (layers.has(id) || layers.size < PROGRESS_LAYERS_MAX) layers.set(id, { status: st, current: num(l.progressDetail?.current), total: num(l.progressDetail?.total) });
    } else if (st) status = st;
    const list = [...layers.values()];
    const current = list.reduce((s, x) => s + (x.current ?? 0), 0);
    const total = list.reduce((s, x) => s + (x.total ?? 0), 0);
    return { status, layers: list.length, layersDone: list.filter((x) => /complete|already exists|pushed|mounted/i.test(x.status)).length, bytesCurrent: current, bytesTotal: total };
  };
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function tracker(handle: ActivityHandle) {
  const progress = layerProgress();
  return (line: JsonProgress) => handle.progress(progress(line));
}

/** The host's image list, stored again (after a pull, push, tag, remove or build). */
async function refreshImages(scope: Scope, host: DockerHost, engine: Engine): Promise<void> {
  await replaceImages(scope.em, host, await engine.listImages());
}

async function storedImage(scope: Scope, host: DockerHost, engine: Engine, ref: string): Promise<DockerImage | null> {
  await refreshImages(scope, host, engine);
  const info = await engine.inspectImage(ref).catch(() => null);
  return info ? scope.em.findOne(DockerImage, { host, imageId: info.Id }, { refresh: true }) : null;
}

/** Images: pull, push, tag, remove, build, inspect (the runbook's ImageManager). */
export class ImageManager {
  constructor(private readonly ops: HostOperations) {}

  pull(scope: Scope, host: DockerHost, input: PullImageInput) {
    return this.ops.long(scope, () => this.pullNow(scope, host, input));
  }

  private async pullNow(scope: Scope, host: DockerHost, input: PullImageInput) {
    const image = checkReference(input.image, 'image');
    const tag = checkTag(input.tag, 'tag');
    const ref = tag ? `${image}:${tag}` : image;
    assertRegistry(scope, image, 'image');
    return this.ops.run(scope, host, { action: 'image.pull', targetType: 'image', targetId: ref, parameters: input }, async ({ engine, handle }) => {
      await engine.pullImage(ref, { auth: authConfig(input.registryAuth), platform: input.platform ?? undefined }, tracker(handle));
      return storedImage(scope, host, engine, ref.includes(':') || ref.includes('@') ? ref : `${ref}:latest`);
    });
  }

  push(scope: Scope, host: DockerHost, input: PushImageInput) {
    return this.ops.long(scope, () => this.pushNow(scope, host, input));
  }

  private async pushNow(scope: Scope, host: DockerHost, input: PushImageInput) {
    const image = checkReference(input.image, 'image');
    const tag = checkTag(input.tag, 'tag');
    assertRegistry(scope, image, 'image');
    return this.ops.run(scope, host, { action: 'image.push', targetType: 'image', targetId: tag ? `${image}:${tag}` : image, parameters: input }, async ({ engine, handle }) => {
      await engine.pushImage(image, { tag, auth: authConfig(input.registryAuth) }, tracker(handle));
      return storedImage(scope, host, engine, tag ? `${image}:${tag}` : image);
    });
  }

  async tag(scope: Scope, host: DockerHost, input: TagImageInput) {
    const image = checkReference(input.image, 'image');
    const repo = checkReference(input.repo, 'repo');
    const tag = checkTag(input.tag, 'tag') ?? 'latest';
    return this.ops.run(scope, host, { action: 'image.tag', targetType: 'image', targetId: image, parameters: input }, async ({ engine }) => {
      await engine.tagImage(image, repo, tag);
      return storedImage(scope, host, engine, `${repo}:${tag}`);
    });
  }

  async remove(scope: Scope, host: DockerHost, image: string, force: boolean, noPrune: boolean) {
    const ref = checkReference(image, 'image');
    const { result, activity } = await this.ops.run(scope, host, { action: 'image.remove', targetType: 'image', targetId: ref, parameters: { image, force, noPrune } }, async ({ engine }) => {
      const out = await engine.removeImage(ref, { force, noPrune });
      await refreshImages(scope, host, engine);
      return { untagged: out.flatMap((o) => (o.Untagged ? [o.Untagged] : [])), deleted: out.flatMap((o) => (o.Deleted ? [o.Deleted] : [])) };
    });
    return { ...result, activity };
  }

  build(scope: Scope, host: DockerHost, input: BuildImageInput) {
    return this.ops.long(scope, () => this.buildNow(scope, host, input));
  }

  private async buildNow(scope: Scope, host: DockerHost, input: BuildImageInput) {
    const context = Buffer.from(input.contextTarBase64 ?? '', 'base64');
    if (context.length === 0) throw badInput('contextTarBase64', 'must be a base64-encoded tar archive');
    const tags = (input.tags ?? []).map((t, i) => checkReference(t, `tags.${i}`));
    const dockerfile = input.dockerfile ?? 'Dockerfile';
    if (dockerfile.startsWith('/') || dockerfile.split('/').includes('..')) throw badInput('dockerfile', 'must be a path inside the context');
    const reviewed = await assertBuild(this.ops, scope, host, input, context, dockerfile);
    const strings = (o: Record<string, unknown> | null | undefined) => (o ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)])) : undefined);
    const spec = { dockerfile, tags, buildArgs: strings(input.buildArgs), labels: strings(input.labels), noCache: input.noCache ?? false, pull: input.pull ?? false };
    return this.ops.run(scope, host, { action: 'image.build', targetType: 'image', targetId: tags[0] ?? null, parameters: input }, async ({ engine, handle }) => {
      const log: string[] = [];
      let imageId: string | undefined;
      // build output comes in chunks that are not lines: framed again, lines cut at LOG_LINE_MAX_BYTES
      const framer = new LineFramer(LOG_LINE_MAX_BYTES);
      const keep = (lines: FramedLine[]) => {
        for (const l of lines) if (l.text.trim()) log.push(l.truncated ? `${l.text}${BUILD_LINE_CUT}` : l.text);
        if (log.length > BUILD_LOG_LINES) log.splice(0, log.length - BUILD_LOG_LINES);
      };
      await engine
        .buildImage(reviewed, spec, (line) => {
          if (typeof line.aux?.ID === 'string') imageId = line.aux.ID;
          if (typeof line.stream === 'string') {
            keep(framer.push(line.stream));
            handle.progress({ step: [...log].reverse().find((l) => /^Step \d+\/\d+/.test(l)) ?? null, lines: log.length });
          }
        })
        .catch((err: unknown) => {
          // the failed build's last lines go with the activity
          keep(framer.flush());
          handle.activity.result = { log: log.slice(-50) };
          throw err;
        });
      keep(framer.flush());
      await refreshImages(scope, host, engine);
      const image = imageId ? await scope.em.findOne(DockerImage, { host, imageId }, { refresh: true }) : null;
      handle.activity.result = { imageId: imageId ?? null, tags };
      return { image, imageId: imageId ?? null, log };
    });
  }

  /** Docker's inspect of a stored image (live). */
  async inspect(scope: Scope, row: DockerImage): Promise<ImageInspect> {
    const host = await this.ops.host(scope, row.host.id);
    return this.ops.read(scope, host, (engine) => engine.inspectImage(row.imageId));
  }
}
