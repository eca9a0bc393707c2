import 'reflect-metadata';
import { buildFleetSchema } from '../../src/app/schema';
import { createMemoryPubSub } from '../../src/infra/pubsub';
import { parse, type OperationDefinitionNode } from 'graphql';
import { shareableSubscriptions, sharesExecution } from '../../src/server/ws';

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

describe('whether a subscription shares an execution', () => {
  const shareable = new Map<string, readonly string[]>([
    ['dockerEvents', ['after']],
    ['dockerHostStatusChanged', []],
  ]);
  const op = (doc: string) => parse(doc).definitions[0] as OperationDefinitionNode;
  const SUB = 'subscription S($h: ID!, $after: String) { dockerEvents(hostId: $h, after: $after) { id } }';

  it.each([
    ['no replay argument', SUB, { h: '1' }, true],
    ['after given null', SUB, { h: '1', after: null }, true],
    ['after given', SUB, { h: '1', after: '5' }, false],
    ['after literal', 'subscription { dockerEvents(hostId: "1", after: "5") { id } }', {}, false],
    ['after literal null', 'subscription { dockerEvents(hostId: "1", after: null) { id } }', {}, true],
    // the variable's default replays as much as a value sent for it
    ['after through a default', 'subscription S($h: ID!, $after: String = "500") { dockerEvents(hostId: $h, after: $after) { id } }', { h: '1' }, false],
    ['a default overridden by null', 'subscription S($h: ID!, $after: String = "500") { dockerEvents(hostId: $h, after: $after) { id } }', { h: '1', after: null }, true],
    ['a field that is not shareable', 'subscription { containerLogs(containerId: "1") }', {}, false],
    ['a directive on the root field', 'subscription { dockerHostStatusChanged @include(if: true) { hostId } }', {}, false],
  ])('%s', (_what, doc, variables, expected) => {
    expect(sharesExecution(op(doc), shareable, variables)).toBe(expected);
  });
});
