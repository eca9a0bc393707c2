import { Entity, Enum, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { Field, Int, ObjectType } from 'type-graphql';
import { AccountOwned } from '../common/account-owned';
import { Node } from '../common/node';
import { SwarmCluster } from '../swarm/swarm-cluster.entity';
import { SwarmStackStatus } from './stack-enums';

/**
 * A compose stack on a swarm: what `docker stack ls` lists (services labelled
 * com.docker.stack.namespace=<name>), with its deployment history when fleetgraph deployed it.
 * Stacks deployed with the CLI are discovered (managed: false) and have no revisions until
 * fleetgraph deploys them.
 */
@Entity({ tableName: 'swarm_stacks' })
@Unique({ properties: ['cluster', 'name'] })
@ObjectType({ implements: Node, description: 'A compose stack on a swarm, with its deployment history.' })
export class SwarmStack extends AccountOwned {
  @ManyToOne(() => SwarmCluster, { deleteRule: 'cascade', index: true })
  cluster!: SwarmCluster;

  @Property({ type: 'string', length: 100 })
  @Field(() => String, { description: 'The stack name: the `<name>_` prefix of its objects and the com.docker.stack.namespace label.' })
  name!: string;

  @Enum({ items: () => SwarmStackStatus })
  @Field(() => SwarmStackStatus)
  status: SwarmStackStatus = SwarmStackStatus.CONVERGED;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'Why the stack is not converged (the last deployment’s error), when it is known.' })
  statusMessage?: string | null;

  @Property({ type: 'boolean' })
  @Field(() => Boolean, { description: 'Deployed by fleetgraph (false: discovered, deployed with the CLI; no revisions yet).' })
  managed: boolean = false;

  @Property({ type: 'integer' })
  @Field(() => Int, { description: 'The last revision number given to a deployment of this stack (0: none yet).' })
  lastRevision: number = 0;

  /** SwarmDeployment.id of the deployment the stack runs (the last one that succeeded, or the active one). A plain id: the two tables refer to each other. */
  @Property({ type: 'uuid', nullable: true })
  currentDeploymentId?: string | null;
}
