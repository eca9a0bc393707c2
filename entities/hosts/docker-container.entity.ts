import { Entity, Index, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { AccountOwned } from '../common/account-owned';
import { DockerHost } from './docker-host.entity';
import { Node } from '../common/node';

/**
 * A container as last seen on its host (sync and container events keep it current). Its stored
 * fields are `simple` (graphql's default resolver, without type-graphql's per-field wrapper): a
 * fleet page resolves thousands of rows. `id` (Node's globalId getter, under another name) and
 * field resolvers keep their resolvers.
 */
@Entity({ tableName: 'docker_containers' })
@Unique({ properties: ['host', 'containerId'] })
// a host's containers page (DockerHost.containers: by name, then id)
@Index({ properties: ['host', 'name', 'id'] })
@ObjectType({ implements: Node, description: 'A container on a Docker host, in any state.' })
export class DockerContainer extends AccountOwned {
  @ManyToOne(() => DockerHost, { deleteRule: 'cascade' })
  host!: DockerHost;

  @Property({ type: 'string', length: 64 })
  @Field(() => String, { simple: true, description: "Docker's container id." })
  containerId!: string;

  @Property({ type: 'string', length: 255 })
  @Index()
  @Field(() => String, { simple: true })
  name!: string;

  @Property({ type: 'string', length: 500 })
  @Field(() => String, { simple: true })
  image!: string;

  @Property({ type: 'string', length: 100, nullable: true })
  @Field(() => String, { simple: true, nullable: true })
  imageId?: string | null;

  @Property({ type: 'string', length: 20 })
  @Index()
  @Field(() => String, { simple: true, description: 'created, running, paused, restarting, removing, exited or dead' })
  state!: string;

  @Property({ type: 'string', length: 200, nullable: true })
  @Field(() => String, { simple: true, nullable: true, description: 'Docker\'s human status, e.g. "Up 3 minutes (healthy)".' })
  status?: string | null;

  @Property({ type: 'string', length: 20, nullable: true })
  @Field(() => String, { simple: true, nullable: true, description: 'healthy, unhealthy, starting, or null without a healthcheck' })
  health?: string | null;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { simple: true, nullable: true })
  command?: string | null;

  @Property({ type: 'json' })
  @Field(() => GraphQLJSONObject, { simple: true })
  labels: Record<string, string> = {};

  @Property({ type: 'json' })
  @Field(() => [GraphQLJSONObject], { simple: true, description: 'Port mappings as Docker lists them.' })
  ports: object[] = [];

  @Property({ type: 'datetime', length: 6, nullable: true })
  @Field(() => Date, { simple: true, nullable: true, description: 'When Docker created the container.' })
  dockerCreatedAt?: Date | null;
}
