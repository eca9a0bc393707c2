/**
 * What each audited action makes Docker report: the event actions (of the activity's target)
 * that an operation causes. An event is linked to an activity of its target only when the
 * activity's action can cause it, so back-to-back operations on one container (stop, start,
 * restart, …) each get their own events, never a neighbour's. An action not listed here (host
 * and cluster settings, swarm membership) links to any event of its target in its window.
 *
 * Event actions are matched exactly, or as a prefix before ": " (Docker's `exec_start: sh -c …`).
 */
export const EVENT_FAMILIES: Readonly<Record<string, readonly string[]>> = {
  'container.create': ['create', 'start'],
  'container.start': ['start'],
  'container.stop': ['kill', 'die', 'stop'],
  'container.restart': ['kill', 'die', 'stop', 'start', 'restart'],
  'container.kill': ['kill', 'die'],
  'container.pause': ['pause'],
  'container.unpause': ['unpause'],
  'container.remove': ['kill', 'die', 'stop', 'destroy'],
  'container.exec': ['exec_create', 'exec_start', 'exec_die'],
  'image.pull': ['pull'],
  'image.push': ['push'],
  'image.tag': ['tag'],
  'image.remove': ['untag', 'delete'],
  'image.build': ['tag'],
  'network.create': ['create'],
  'network.remove': ['destroy'],
  'network.connect': ['connect'],
  'network.disconnect': ['disconnect'],
  'volume.create': ['create'],
  'volume.remove': ['destroy'],
  'service.create': ['create'],
  'service.update': ['update'],
  'service.scale': ['update'],
  'service.rollback': ['update'],
  'service.remove': ['remove'],
  'node.update': ['update'],
  'node.promote': ['update'],
  'node.demote': ['update'],
  'node.remove': ['remove'],
  'secret.create': ['create'],
  'secret.update': ['update'],
  'secret.remove': ['remove'],
  'config.create': ['create'],
  'config.remove': ['remove'],
};

let families: { sql: string; params: readonly string[] } | undefined;

/** The families as a SQL `values` list of `(activity_action, event_action)` rows, and its parameters (built once: the link runs for every stored batch). */
export function familyValues(): { sql: string; params: readonly string[] } {
  if (!families) {
    const pairs = Object.entries(EVENT_FAMILIES).flatMap(([action, events]) => events.map((e) => [action, e]));
    families = { sql: `values ${pairs.map(() => '(?, ?)').join(', ')}`, params: pairs.flat() };
  }
  return families;
}

/** Whether an event's action is one the activity's action causes (unlisted actions: any). */
export function causes(activityAction: string, eventAction: string): boolean {
  const family = EVENT_FAMILIES[activityAction];
  if (!family) return true;
  return family.some((e) => eventAction === e || eventAction.startsWith(`${e}: `));
}
