import 'reflect-metadata';
import { buildFleetSchema } from '../../src/app/schema';
import { createMemoryPubSub } from '../../src/infra/pubsub';
import { shareableSubscriptions } from '../../src/server/ws';

/**
 * Which subscriptions share one execution is marked in the schema (`@Extensions({ shareable: true })`),
 * not listed by name in the transport: exactly the live pub/sub feeds, never the log streams (each
 * subscriber has its own Docker stream and position).
 */
describe('shareable subscriptions', () => {
  it('are the pub/sub feeds marked in the schema', async () => {
    const schema = await buildFleetSchema(createMemoryPubSub());
    expect([...shareableSubscriptions(schema).keys()].sort()).toEqual(['activityUpdated', 'dockerEvents', 'dockerHostStatusChanged', 'swarmClusterStatusChanged', 'swarmEvents']);
    const all = Object.keys(schema.getSubscriptionType()!.getFields());
    expect(all).toEqual(expect.arrayContaining(['containerLogs', 'serviceLogs']));
    expect(shareableSubscriptions(schema).has('containerLogs')).toBe(false);
    // a resumed event feed replays from its cursor: it runs on its own
    expect(shareableSubscriptions(schema).get('dockerEvents')).toEqual(['after']);
    expect(shareableSubscriptions(schema).get('swarmEvents')).toEqual(['after']);
  });
});
