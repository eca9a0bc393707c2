import type { EntityManager } from '@mikro-orm/postgresql';
import { ActivityStatus, DockerActivity, DockerHost, SwarmCluster, User } from '../../../entities';
import { AppError, ErrorCode } from '../../kernel/errors';
import type { FleetPubSub } from '../../infra/pubsub';
import type { Scope } from '../../kernel/scope';
import { actorName } from '../../kernel/scope';
import { Topic } from '../../infra/pubsub/topics';
import { toPayload } from '../../infra/pubsub/payload';
import { redact } from '../../kernel/redact';
import { familyValues } from './links';
import { executePrepared } from '../../infra/db/prepared';

export interface ActivitySpec {
  action: string;
  targetType: string;
  targetId?: string | null;
  host?: DockerHost | null;
  /** The Swarm cluster a swarm operation targets. */
  cluster?: SwarmCluster | null;
  parameters?: object;
}

export interface ActivityHandle {
  activity: DockerActivity;
  /** Records progress (throttled to one write and publish per 500 ms). */
  progress(p: Record<string, unknown>): void;
  setTarget(id: string): void;
  /** Attaches the host once it exists (registration). */
  setHost(host: DockerHost): void;
  /** Attaches the cluster once it exists (registration, swarm init). */
  setCluster(cluster: SwarmCluster): void;
}

const PROGRESS_INTERVAL_MS = 500;
/** docker_activities.target_id is varchar(255); targets come from user input (image references up to 500). */
const MAX_TARGET_LENGTH = 255;
const boundedTarget = (id: string | null | undefined) => (id == null ? null : id.slice(0, MAX_TARGET_LENGTH));

export function activityPayload(a: DockerActivity): Record<string, unknown> {
  return toPayload(a, ['account', 'user', 'host', 'cluster']);
}

/** The audit trail: every operation that changes something runs through `run`, from a request or from a worker. */
export class Audit {
  constructor(private readonly pubsub: FleetPubSub) {}

  /**
   * Runs one audited operation: writes a pending DockerActivity (parameters redacted, the
   * scope's actor recorded), runs `fn`, then records succeeded or failed with Docker's error
   * text and the duration, publishes each state, and links the events the operation caused.
   * Errors are rethrown as they are: Docker's come mapped by the engine port (DOCKER_ERROR /
   * DOCKER_UNREACHABLE); anything else that is no AppError is recorded as INTERNAL_SERVER_ERROR.
   */
  run<T>(scope: Scope, spec: ActivitySpec, fn: (handle: ActivityHandle) => Promise<T>): Promise<{ result: T; activity: DockerActivity }> {
    return runActivity(this.pubsub, scope, spec, fn);
  }
}

async function publish(pubsub: FleetPubSub, scope: Scope, a: DockerActivity): Promise<void> {
  await pubsub.emit(Topic.ACTIVITIES, activityPayload(a), a.account.id).catch((err) => scope.log.warn({ err }, 'activity publish failed'));
}

async function runActivity<T>(pubsub: FleetPubSub, scope: Scope, spec: ActivitySpec, fn: (handle: ActivityHandle) => Promise<T>): Promise<{ result: T; activity: DockerActivity }> {
  // The audit row has its own unit of work: a failed operation's half-made entities are never flushed with it.
  const em = scope.em.fork();
  const activity = em.create(DockerActivity, {
    account: scope.accountId,
    user: scope.actor.kind === 'user' ? em.getReference(User, scope.actor.userId) : null,
    actor: actorName(scope.actor),
    action: spec.action,
    targetType: spec.targetType,
    targetId: boundedTarget(spec.targetId),
    host: spec.host ? em.getReference(DockerHost, spec.host.id) : null,
    cluster: spec.cluster ? em.getReference(SwarmCluster, spec.cluster.id) : null,
    parameters: (redact(spec.parameters ?? {}) as Record<string, unknown>) ?? {},
    status: ActivityStatus.PENDING,
    startedAt: new Date(),
  } as never);
  await em.flush();
  await publish(pubsub, scope, activity);

  let lastProgress = 0;
  let pendingProgress: Promise<void> = Promise.resolve();
  const handle: ActivityHandle = {
    activity,
    progress(p) {
      activity.progress = p;
      const now = Date.now();
      if (now - lastProgress < PROGRESS_INTERVAL_MS) return;
      lastProgress = now;
      pendingProgress = pendingProgress
        .then(async () => {
          await em.nativeUpdate(DockerActivity, { id: activity.id }, { progress: p });
          await publish(pubsub, scope, activity);
        })
        .catch(() => undefined);
    },
    setTarget(id) {
      activity.targetId = boundedTarget(id);
    },
    setHost(host) {
      activity.host = em.getReference(DockerHost, host.id);
    },
    setCluster(cluster) {
      activity.cluster = em.getReference(SwarmCluster, cluster.id);
    },
  };

  const started = process.hrtime.bigint();
  const finish = async (status: ActivityStatus, error?: AppError) => {
    await pendingProgress;
    activity.status = status;
    activity.finishedAt = new Date();
    activity.durationMs = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
    if (error) {
      activity.error = error.message.slice(0, 4000);
      activity.errorCode = String(error.extensions.code);
      activity.dockerStatus = typeof error.extensions.dockerStatus === 'number' ? error.extensions.dockerStatus : null;
    }
    await em.flush();
    await linkEventsToActivity(em, activity);
    await publish(pubsub, scope, activity);
  };

  try {
    const result = await fn(handle);
    await finish(ActivityStatus.SUCCEEDED);
    return { result, activity };
  } catch (err) {
    // Docker's errors arrive mapped (the engine port, src/infra/engine/port.ts): anything else that is no AppError is
    // a bug or a database failure, and the audit row and the client get no internals.
    if (!(err instanceof AppError)) {
      scope.log.error({ err }, 'activity failed unexpectedly');
      await finish(ActivityStatus.FAILED, new AppError(ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error'));
      throw err;
    }
    if (err.code === ErrorCode.INTERNAL_SERVER_ERROR) scope.log.error({ err }, 'activity failed unexpectedly');
    await finish(ActivityStatus.FAILED, err);
    throw err;
  }
}

/** Slack around an activity's window within which events of its target are attributed to it. */
export const LINK_WINDOW_SECONDS = 2;

/** An events table and the column that ties its rows to the activity's subject (host or cluster). */
export interface EventLink {
  table: 'docker_events' | 'swarm_events';
  /** Column of the events table, and of docker_activities, naming the subject. */
  subject: 'host_id' | 'cluster_id';
}
export const DOCKER_EVENT_LINK: EventLink = { table: 'docker_events', subject: 'host_id' };
export const SWARM_EVENT_LINK: EventLink = { table: 'swarm_events', subject: 'cluster_id' };

/**
 * Links events of the activity's target, seen during its window, to the activity that caused
 * them: Docker events of its host, and swarm events of its cluster (see `linkBest`).
 */
export async function linkEventsToActivity(em: EntityManager, activity: DockerActivity): Promise<void> {
  if (!activity.targetId) return;
  const window = [activity.targetId, activity.targetId.slice(0, 12), activity.startedAt, activity.finishedAt ?? new Date(), LINK_WINDOW_SECONDS];
  const ofTarget = `(e.actor_id = ? or starts_with(e.actor_id, ?)) and e.time between ?::timestamptz - interval '1 second' and ?::timestamptz + (?::int * interval '1 second')`;
  if (activity.host) await linkBest(em, DOCKER_EVENT_LINK, `e.host_id = ? and ${ofTarget}`, [activity.host.id, ...window]);
  if (activity.cluster) await linkBest(em, SWARM_EVENT_LINK, `e.cluster_id = ? and ${ofTarget}`, [activity.cluster.id, ...window]);
}

/** Links freshly stored events to the activities that caused them (see `linkBest`). */
export async function linkActivitiesToEvents(em: EntityManager, eventIds: string[], link: EventLink = DOCKER_EVENT_LINK): Promise<void> {
  if (eventIds.length === 0) return;
  await linkBest(em, link, 'e.id = any(?::uuid[])', [eventIds]);
}

/**
 * Links each unlinked event chosen by `where` to the one activity that caused it: an activity of
 * the same host (or cluster) and target, whose action can cause the event's action
 * (src/platform/audit/links.ts), whose window contains the event; of those, the latest one that
 * had started when the event happened. Back-to-back operations on one target each get their own
 * events, and no event is linked twice. Both sides call it: when events are stored (the
 * operation is still running) and when an activity finishes (its target id is known by then).
 */
async function linkBest(em: EntityManager, link: EventLink, where: string, params: unknown[]): Promise<void> {
  const statement = linkStatement(link, where, params);
  // prepared: it runs after every stored batch, and its family table makes it long to parse and plan
  await executePrepared(em, statement.sql, statement.params);
}

/** The statement of linkBest (`?` placeholders), exported for the test that reads its plan. */
export function linkStatement(link: EventLink, where: string, params: unknown[]): { sql: string; params: unknown[] } {
  const families = familyValues();
  return {
    sql: `with f(activity_action, event_action) as (${families.sql})
     update ${link.table} t set activity_id = pick.activity_id
       from (select e.id as event_id,
                    (select a.id from docker_activities a
                      where a.${link.subject} = e.${link.subject}
                        -- implied by the window below; it is what the (subject, finished_at) index finds
                        and coalesce(a.finished_at, 'infinity'::timestamptz) >= e.time - (?::int * interval '1 second')
                        and a.target_id is not null
                        and (e.actor_id = a.target_id or starts_with(e.actor_id, left(a.target_id, 12)))
                        and e.time between a.started_at - interval '1 second' and coalesce(a.finished_at, now()) + (?::int * interval '1 second')
                        and (not exists (select 1 from f where f.activity_action = a.action)
                             or exists (select 1 from f where f.activity_action = a.action and (e.action = f.event_action or e.action like f.event_action || ': %')))
                      order by (a.started_at <= e.time) desc, a.started_at desc
                      limit 1) as activity_id
               from ${link.table} e
              where e.activity_id is null and ${where}) pick
      where t.id = pick.event_id and pick.activity_id is not null`,
    params: [...families.params, LINK_WINDOW_SECONDS, LINK_WINDOW_SECONDS, ...params],
  };
}
