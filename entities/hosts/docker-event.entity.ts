import { Entity, Index, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { StoredEvent } from '../common/stored-event';
import { DockerHost } from './docker-host.entity';
import { Node } from '../common/node';

/**
 * An event of a Docker daemon, stored once: (host, timeNano, type, action, actorId) is unique,
 * so replays after a reconnect are idempotent. timeNano is kept as an exact decimal string.
 */
@Entity({ tableName: 'docker_events' })
@Unique({ properties: ['host', 'timeNano', 'type', 'action', 'actorId'] })
@Unique({ properties: ['host', 'seq'] })
// a host's events page (DockerHost.events: newest first, then id) and an activity's (DockerActivity.events: oldest first)
@Index({ properties: ['host', 'time', 'id'] })
@Index({ properties: ['activity', 'time', 'id'] })
@ObjectType({ implements: Node, description: 'An event from a Docker daemon (container, image, network, volume, …).' })
export class DockerEvent extends StoredEvent {
  @ManyToOne(() => DockerHost, { deleteRule: 'cascade' })
  host!: DockerHost;

  @Property({ type: 'string', length: 30 })
  @Field(() => String, { description: 'container, image, network, volume, daemon, plugin, …' })
  type!: string;

  @Property({ type: 'string', length: 100 })
  @Field(() => String, { description: 'create, start, die, destroy, pull, … (resync events: the action that explains the change)' })
  action!: string;

  @Property({ type: 'json' })
  @Field(() => GraphQLJSONObject)
  attributes: Record<string, string> = {};

  @Property({ type: 'string', length: 10, nullable: true })
  @Field(() => String, { nullable: true, description: 'local or swarm' })
  scope?: string | null;
}
