import { Entity, Index, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { StoredEvent } from '../common/stored-event';
import { Node } from '../common/node';
import { SwarmCluster } from './swarm-cluster.entity';

/**
 * A swarm-scoped event (service, node, secret, config, network) read from a manager's /events,
 * or found by the list-and-diff after a reconnect. Stored once per (cluster, timeNano, type,
 * action, actor).
 */
@Entity({ tableName: 'swarm_events' })
@Unique({ properties: ['cluster', 'timeNano', 'type', 'action', 'actorId'] })
@Unique({ properties: ['cluster', 'seq'] })
// a cluster's events page (SwarmCluster.events: newest first, then id) and an activity's (DockerActivity.swarmEvents: oldest first)
@Index({ properties: ['cluster', 'time', 'id'] })
@Index({ properties: ['activity', 'time', 'id'] })
@ObjectType({ implements: Node, description: 'A swarm event (service, node, secret, config or network).' })
export class SwarmEvent extends StoredEvent {
  @ManyToOne(() => SwarmCluster, { deleteRule: 'cascade' })
  cluster!: SwarmCluster;

  @Property({ type: 'string', length: 30 })
  @Field(() => String, { description: 'service, node, secret, config or network' })
  type!: string;

  @Property({ type: 'string', length: 100 })
  @Field(() => String, { description: 'create, update, remove (resync findings use the same words)' })
  action!: string;

  @Property({ type: 'json' })
  @Field(() => GraphQLJSONObject, { description: "Docker's attributes, e.g. name, replicas.old/new, updatestate.old/new, availability.old/new, state.old/new." })
  attributes: Record<string, string> = {};
}
