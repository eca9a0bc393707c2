import { BigIntType, Entity, Index, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { AccountOwned } from '../common/account-owned';
import { DockerHost } from './docker-host.entity';
import { Node } from '../common/node';

@Entity({ tableName: 'docker_images' })
@Unique({ properties: ['host', 'imageId'] })
// a host's images page (DockerHost.images: newest first, then id)
@Index({ properties: ['host', 'createdAt', 'id'] })
@ObjectType({ implements: Node, description: 'An image stored on a Docker host.' })
export class DockerImage extends AccountOwned {
  @ManyToOne(() => DockerHost, { deleteRule: 'cascade' })
  host!: DockerHost;

  @Property({ type: 'string', length: 100 })
  @Field(() => String, { description: 'sha256:… image id' })
  imageId!: string;

  @Property({ type: 'json' })
  @Field(() => [String])
  repoTags: string[] = [];

  @Property({ type: 'json' })
  @Field(() => [String])
  repoDigests: string[] = [];

  @Property({ type: new BigIntType('string') })
  @Field(() => String, { description: 'Bytes, as a decimal string.' })
  sizeBytes: string = '0';

  @Property({ type: 'json' })
  @Field(() => GraphQLJSONObject)
  labels: Record<string, string> = {};

  @Property({ type: 'datetime', length: 6, nullable: true })
  @Field(() => Date, { nullable: true })
  dockerCreatedAt?: Date | null;
}
