import { Account } from './account.entity';
import { User } from './user.entity';
import { DockerHost } from './docker-host.entity';
import { DockerContainer } from './docker-container.entity';
import { DockerImage } from './docker-image.entity';
import { DockerEvent } from './docker-event.entity';
import { DockerActivity } from './docker-activity.entity';
import { SwarmCluster } from './swarm-cluster.entity';
import { SwarmNode } from './swarm-node.entity';
import { SwarmService } from './swarm-service.entity';
import { SwarmEvent } from './swarm-event.entity';
import { SecretReference } from './swarm-secret-reference.entity';
import { SwarmNetwork } from './swarm-network.entity';
import { EngineClaim, EngineClaimHolder } from './engine-claim.entity';

export { Node } from './node';
export { AccountOwned } from './account-owned';
export * from './enums';
export * from './swarm-enums';
export { MAX_CONSECUTIVE_FAILURES } from './docker-host.entity';
export { Account, User, DockerHost, DockerContainer, DockerImage, DockerEvent, DockerActivity, SwarmCluster, SwarmNode, SwarmService, SwarmEvent, SecretReference, SwarmNetwork };

/** Every MikroORM entity, registered with the ORM and with `node(id:)`. */
export const ENTITIES = [Account, User, DockerHost, DockerContainer, DockerImage, DockerEvent, DockerActivity, SwarmCluster, SwarmNode, SwarmService, SwarmEvent, SecretReference, SwarmNetwork];

export { EngineClaim, EngineClaimHolder, EngineClaimKind } from './engine-claim.entity';

/**
 * Global tables that are deliberately outside tenancy: not AccountOwned, not GraphQL nodes, never
 * resolvable through `node(id:)`. Only src/docker/engine-claims.ts uses them (engine ownership).
 */
export const INTERNAL_ENTITIES = [EngineClaim, EngineClaimHolder];
