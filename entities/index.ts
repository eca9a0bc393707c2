import { Account } from './accounts/account.entity';
import { User } from './accounts/user.entity';
import { DockerHost } from './hosts/docker-host.entity';
import { DockerContainer } from './hosts/docker-container.entity';
import { DockerImage } from './hosts/docker-image.entity';
import { DockerEvent } from './hosts/docker-event.entity';
import { DockerActivity } from './audit/docker-activity.entity';
import { SwarmCluster } from './swarm/swarm-cluster.entity';
import { SwarmNode } from './swarm/swarm-node.entity';
import { SwarmService } from './swarm/swarm-service.entity';
import { SwarmEvent } from './swarm/swarm-event.entity';
import { SecretReference } from './swarm/swarm-secret-reference.entity';
import { SwarmNetwork } from './swarm/swarm-network.entity';
import { EngineClaim, EngineClaimHolder } from './engine/engine-claim.entity';
import { ContainerTemplate } from './instances/container-template.entity';
import { ContainerInstance } from './instances/container-instance.entity';
import { SecurityViolation } from './instances/security-violation.entity';
import { CallbackAttempt } from './instances/callback-attempt.entity';
import { InstanceSettings } from './instances/instance-settings.entity';
import { SwarmStack } from './stacks/swarm-stack.entity';
import { SwarmDeployment } from './stacks/swarm-deployment.entity';

export { Node } from './common/node';
export { AccountOwned } from './common/account-owned';
export * from './common/enums';
export * from './swarm/swarm-enums';
export { MAX_CONSECUTIVE_FAILURES } from './hosts/docker-host.entity';
export { Account, User, DockerHost, DockerContainer, DockerImage, DockerEvent, DockerActivity, SwarmCluster, SwarmNode, SwarmService, SwarmEvent, SecretReference, SwarmNetwork };

/** Every MikroORM entity, registered with the ORM and with `node(id:)`. */
export const ENTITIES = [
  Account,
  User,
  DockerHost,
  DockerContainer,
  DockerImage,
  DockerEvent,
  DockerActivity,
  SwarmCluster,
  SwarmNode,
  SwarmService,
  SwarmEvent,
  SecretReference,
  SwarmNetwork,
  ContainerTemplate,
  ContainerInstance,
  SecurityViolation,
  CallbackAttempt,
  InstanceSettings,
  SwarmStack,
  SwarmDeployment,
];

export { EngineClaim, EngineClaimHolder, EngineClaimKind } from './engine/engine-claim.entity';

/**
 * Global tables that are deliberately outside tenancy: not AccountOwned, not GraphQL nodes, never
 * resolvable through `node(id:)`. Only src/infra/engine/claims.ts uses them (engine ownership).
 */
export const INTERNAL_ENTITIES = [EngineClaim, EngineClaimHolder];
export { SupervisedEndpoint } from './common/supervised-endpoint';
export { ContainerTemplate, ContainerInstance, SecurityViolation, CallbackAttempt, InstanceSettings };
export * from './instances/instance-enums';
export type { TemplateEnvEntry } from './instances/container-template.entity';
export type { InstanceSpec, InstanceTransition } from './instances/container-instance.entity';
export { SwarmStack, SwarmDeployment };
export * from './stacks/stack-enums';
export { DeploymentStep, DeploymentDiff, PinnedImage } from './stacks/swarm-deployment.entity';
