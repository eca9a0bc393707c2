import { BigIntType, Entity, Enum, Index, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { AccountOwned } from './account-owned';
import { EventSeverity, EventSource } from './enums';
import { Node } from './node';
import { SwarmCluster } from './swarm-cluster.entity';
import type { DockerActivity } from './docker-activity.entity';

/**
 * A swarm-scoped event (service, node, secret, config, network) read from a manager's /events,
 * or found by the list-and-diff after a reconnect. Stored once per (cluster, timeNano, type,
 * action, actor).
 */
@Entity({ tableName: 'swarm_events' })
@Unique({ properties: ['cluster', 'timeNano', 'type', 'action', 'actorId'] })
@Index({ properties: ['cluster', 'time'] })
@ObjectType({ implements: Node, description: 'A swarm event (service, node, secret, config or network).' })
export class SwarmEvent extends AccountOwned {
  @ManyToOne(() => SwarmCluster, { deleteRule: 'cascade' })
  cluster!: SwarmCluster;

  @Property({ type: 'string', length: 30 })
  @Field(() => String, { description: 'service, node, secret, config or network' })
  type!: string;

  @Property({ type: 'string', length: 100 })
  @Field(() => String, { description: 'create, update, remove (resync findings use the same words)' })
  action!: string;

  @Property({ type: 'string', length: 255 })
  @Field(() => String)
  actorId!: string;

  @Property({ type: 'json' })
  @Field(() => GraphQLJSONObject, { description: 'Docker\'s attributes, e.g. name, replicas.old/new, updatestate.old/new, availability.old/new, state.old/new.' })
  attributes: Record<string, string> = {};

  @Property({ type: 'datetime', length: 6 })
  @Field(() => Date)
  time!: Date;

  @Property({ type: new BigIntType('string') })
  @Field(() => String, { description: 'Docker\'s timeNano, exact (decimal string).' })
  timeNano!: string;

  @Enum({ items: () => EventSeverity })
  @Field(() => EventSeverity)
  severity: EventSeverity = EventSeverity.INFO;

  @Enum({ items: () => EventSource })
  @Field(() => EventSource)
  source: EventSource = EventSource.STREAM;

  /** The activity (mutation) that caused the event: same cluster and target, within its time window. */
  @ManyToOne({ entity: 'DockerActivity', nullable: true, deleteRule: 'set null' })
  activity?: DockerActivity | null;
}
