import { raw, type FilterQuery } from '@mikro-orm/postgresql';
import { DockerActivity, DockerContainer, DockerEvent, DockerImage } from '../../../entities';
import { badInput } from '../../kernel/errors';

/** Filter builders for inventory, event and activity lists (shared by per-host and fleet-wide queries). */
export interface ContainerFilterArgs {
  state?: string[];
  name?: string;
  label?: string;
}

const LIKE_ESCAPE = /[\\%_]/g;
const like = (s: string) => `%${s.replace(LIKE_ESCAPE, (m) => `\\${m}`)}%`;

export function containerWhere(filter: ContainerFilterArgs | undefined, hostId?: string): FilterQuery<DockerContainer> {
  const where: Record<string, unknown> = {};
  if (hostId) where.host = hostId;
  if (filter?.state?.length) where.state = { $in: filter.state };
  if (filter?.name) where.name = { $ilike: like(filter.name) };
  if (filter?.label) {
    const idx = filter.label.indexOf('=');
    const key = idx < 0 ? filter.label : filter.label.slice(0, idx);
    if (!key) throw badInput('filter.label', 'must be "key" or "key=value"');
    // key and value are bound parameters: a JSON property path built from user text puts the key in
    // the SQL, where knex reads "??" as an identifier binding
    const [test, params] = idx < 0 ? ['c.labels ->> ? is not null', [key]] : ['c.labels ->> ? = ?', [key, filter.label.slice(idx + 1)]];
    where.id = {
      $in: hostId ? raw(`(select c.id from docker_containers c where c.host_id = ? and ${test})`, [hostId, ...params]) : raw(`(select c.id from docker_containers c where ${test})`, params),
    };
  }
  return where as FilterQuery<DockerContainer>;
}

export function imageWhere(filter: { tag?: string } | undefined, hostId?: string): FilterQuery<DockerImage> {
  const where: Record<string, unknown> = {};
  if (hostId) where.host = hostId;
  if (filter?.tag) {
    // MikroORM has no operator for "an element of a jsonb array contains" and drops a raw *key* after
    // its first query (paginate runs find and count on one where): a raw *value* survives both.
    where.id = {
      $in: hostId
        ? raw('(select i.id from docker_images i where i.host_id = ? and i.repo_tags::text ilike ?)', [hostId, like(filter.tag)])
        : raw('(select i.id from docker_images i where i.repo_tags::text ilike ?)', [like(filter.tag)]),
    };
  }
  return where as FilterQuery<DockerImage>;
}

export interface EventFilterArgs {
  types?: string[];
  actions?: string[];
  actorId?: string;
  severities?: string[];
  since?: Date;
  until?: Date;
}

export function eventWhere(filter: EventFilterArgs | undefined, hostId?: string): FilterQuery<DockerEvent> {
  const where: Record<string, unknown> = {};
  if (hostId) where.host = hostId;
  if (filter?.types?.length) where.type = { $in: filter.types };
  if (filter?.actions?.length) where.action = { $in: filter.actions };
  if (filter?.actorId) where.actorId = filter.actorId;
  if (filter?.severities?.length) where.severity = { $in: filter.severities };
  if (filter?.since || filter?.until) where.time = { ...(filter.since ? { $gte: filter.since } : {}), ...(filter.until ? { $lte: filter.until } : {}) };
  return where as FilterQuery<DockerEvent>;
}

/** Same predicate as eventWhere, for live events on a subscription. */
export function eventMatches(e: { type: string; action: string; actorId: string; severity: string; time: Date | string }, filter: EventFilterArgs | undefined | null): boolean {
  if (!filter) return true;
  if (filter.types?.length && !filter.types.includes(e.type)) return false;
  if (filter.actions?.length && !filter.actions.includes(e.action)) return false;
  if (filter.actorId && filter.actorId !== e.actorId) return false;
  if (filter.severities?.length && !filter.severities.includes(e.severity)) return false;
  return true;
}

export interface ActivityFilterArgs {
  action?: string;
  status?: string[];
  /** The host's id (uuid): the GraphQL edge decodes the filter's global id. */
  hostId?: string;
  targetId?: string;
  since?: Date;
}

export function activityWhere(filter: ActivityFilterArgs | undefined): FilterQuery<DockerActivity> {
  const where: Record<string, unknown> = {};
  if (filter?.action) where.action = { $like: `${filter.action.replace(LIKE_ESCAPE, (m) => `\\${m}`)}%` };
  if (filter?.status?.length) where.status = { $in: filter.status };
  if (filter?.hostId) where.host = filter.hostId;
  if (filter?.targetId) where.targetId = filter.targetId;
  if (filter?.since) where.startedAt = { $gte: filter.since };
  return where as FilterQuery<DockerActivity>;
}
