import { Entity, Enum, Index, ManyToOne, Property } from '@mikro-orm/core';
import { Field, Float, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { AccountOwned } from '../common/account-owned';
import { Node } from '../common/node';
import { DockerHost } from '../hosts/docker-host.entity';
import { ContainerTemplate } from './container-template.entity';
import { ContainerInstanceStatus, InstanceEnding, VaultTokenDelivery } from './instance-enums';

/** One status change, as the timeline keeps it. */
export interface InstanceTransition {
  /** As the API names it: PENDING, PROVISIONING, … */
  status: string;
  at: string;
}

/** The resolved configuration an instance runs (template plus overrides, or direct config); no secret values. */
export interface InstanceSpec {
  image: string;
  command: string[] | null;
  env: string[];
  secretEnvNames: string[];
  pidsLimit: number;
  network: string | null;
  labels: Record<string, string>;
  vaultPolicies: string[];
  tokenDelivery: VaultTokenDelivery;
  outputLimitBytes: number;
}

/**
 * One run of a container (runbook: ContainerInstance): PENDING → PROVISIONING → RUNNING →
 * COMPLETED | FAILED | TIMED_OUT | CANCELLED. Of its Vault token only the accessor is stored
 * (never the token, and the accessor is not exposed).
 */
@Entity({ tableName: 'container_instances' })
@Index({ properties: ['account', 'status'] })
@Index({ properties: ['account', 'createdAt'] })
// the heartbeat reaper's scan (migration Migration20261201150000_instances_hardening)
@Index({
  name: 'container_instances_active_heartbeat_index',
  expression: `create index "container_instances_active_heartbeat_index" on "container_instances" ("heartbeat_at") where "status" in ('pending', 'provisioning', 'running')`,
})
@ObjectType({ implements: Node, description: 'A run of a container from a template or a direct configuration.' })
export class ContainerInstance extends AccountOwned {
  @Property({ type: 'string', length: 100 })
  @Field(() => String)
  name!: string;

  @ManyToOne(() => ContainerTemplate, { nullable: true, deleteRule: 'set null' })
  template?: ContainerTemplate | null;

  @Property({ type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true, description: 'Version of the template it ran.' })
  templateVersion?: number | null;

  @ManyToOne(() => DockerHost, { nullable: true, deleteRule: 'set null' })
  host?: DockerHost | null;

  @Enum({ items: () => ContainerInstanceStatus })
  @Field(() => ContainerInstanceStatus)
  status: ContainerInstanceStatus = ContainerInstanceStatus.PENDING;

  @Property({ type: 'json' })
  @Field(() => GraphQLJSONObject, { description: 'The configuration it runs (image, command, env without secret values, limits).' })
  spec!: InstanceSpec;

  @Property({ type: 'integer' })
  @Field(() => Int)
  memoryMb!: number;

  @Property({ type: 'integer' })
  @Field(() => Int)
  cpuMillicores!: number;

  @Property({ type: 'integer' })
  @Field(() => Int)
  timeoutSeconds!: number;

  @Property({ type: 'boolean' })
  @Field(() => Boolean, { description: 'Keep the container when the instance ends (default: removed).' })
  keepContainer: boolean = false;

  @Property({ type: 'json' })
  @Field(() => [GraphQLJSONObject], { description: 'Every status with the time it was entered: [{ status, at }].' })
  transitions: InstanceTransition[] = [];

  @Property({ type: 'datetime', length: 6, nullable: true }) @Field(() => Date, { nullable: true }) provisioningAt?: Date | null;
  @Property({ type: 'datetime', length: 6, nullable: true }) @Field(() => Date, { nullable: true }) startedAt?: Date | null;
  @Property({ type: 'datetime', length: 6, nullable: true }) @Field(() => Date, { nullable: true }) endedAt?: Date | null;
  @Property({ type: 'datetime', length: 6, nullable: true }) @Field(() => Date, { nullable: true, description: 'When a running instance times out.' }) deadline?: Date | null;

  /** Why it is ending, claimed once by whoever ends it (runner, timeout job, cancel, reaper). */
  @Enum({ items: () => InstanceEnding, nullable: true })
  ending?: InstanceEnding | null;

  /**
   * The wrap-up claim: who is ending the instance (a random id per attempt) and until when. Only
   * the holder may write the final status; a claim past `wrapUpUntil` (its holder died) may be
   * taken over by the reaper. Renewed while the wrap-up runs.
   */
  @Property({ type: 'string', length: 64, nullable: true })
  wrapUpOwner?: string | null;

  @Property({ type: 'datetime', length: 6, nullable: true })
  wrapUpUntil?: Date | null;

  /**
   * The secret environment of the template version it was started from, sealed (a later template
   * update must not change what this run gets); never exposed, wiped when the instance ends.
   */
  @Property({ type: 'text', nullable: true, lazy: true })
  secretEnvSealed?: string | null;

  /** Last sign of life of the replica running it (the reaper takes over instances whose runner went quiet). */
  @Property({ type: 'datetime', length: 6, nullable: true })
  heartbeatAt?: Date | null;

  @Property({ type: 'string', length: 100, nullable: true })
  @Index()
  @Field(() => String, { nullable: true, description: "Docker's id of the container once created." })
  containerId?: string | null;

  @Property({ type: 'integer', nullable: true }) @Field(() => Int, { nullable: true }) exitCode?: number | null;
  @Property({ type: 'text', nullable: true }) @Field(() => String, { nullable: true }) error?: string | null;
  @Property({ type: 'string', length: 50, nullable: true }) @Field(() => String, { nullable: true, description: 'VAULT_ERROR, QUOTA_EXCEEDED, DOCKER_ERROR, FORBIDDEN, …' }) errorCode?: string | null;

  /**
   * Captured output, up to the output limit. Lazy: never loaded with the row (a list of 100
   * instances must not read up to 2 × 16 MiB each); the GraphQL fields load it on demand.
   */
  @Property({ type: 'text', nullable: true, lazy: true })
  @Field(() => String, { nullable: true, description: 'stdout, up to the output limit (on containerInstanceUpdated: its first 4,096 characters).' })
  stdout?: string | null;
  @Property({ type: 'text', nullable: true, lazy: true })
  @Field(() => String, { nullable: true, description: 'stderr, up to the output limit (on containerInstanceUpdated: its first 4,096 characters).' })
  stderr?: string | null;
  @Property({ type: 'double', default: 0 }) @Field(() => Float, { description: 'Bytes of stdout past the limit (dropped).' }) stdoutDroppedBytes: number = 0;
  @Property({ type: 'double', default: 0 }) @Field(() => Float, { description: 'Bytes of stderr past the limit (dropped).' }) stderrDroppedBytes: number = 0;

  @Property({ type: 'double', nullable: true }) @Field(() => Float, { nullable: true, description: 'Peak memory use sampled (MiB).' }) memoryUsedMb?: number | null;
  @Property({ type: 'double', nullable: true }) @Field(() => Float, { nullable: true, description: 'Last memory use sampled (MiB).' }) memoryUsedMbLast?: number | null;
  @Property({ type: 'double', nullable: true }) @Field(() => Float, { nullable: true, description: 'CPU use at the last sample (millicores).' }) cpuUsedMillicores?: number | null;
  @Property({ type: 'double', nullable: true }) @Field(() => Float, { nullable: true, description: "Bytes written by the container's block I/O (sampled)." }) storageUsedBytes?: number | null;
  @Property({ type: 'double', nullable: true }) @Field(() => Float, { nullable: true }) networkBytesIn?: number | null;
  @Property({ type: 'double', nullable: true }) @Field(() => Float, { nullable: true }) networkBytesOut?: number | null;
  @Property({ type: 'integer', default: 0 }) @Field(() => Int, { description: 'Resource samples taken.' }) samples: number = 0;
  @Property({ type: 'datetime', length: 6, nullable: true }) @Field(() => Date, { nullable: true }) sampledAt?: Date | null;

  /** Accessor of the instance's Vault token (never the token); not exposed. */
  @Property({ type: 'string', length: 200, nullable: true })
  vaultTokenAccessor?: string | null;

  @Property({ type: 'datetime', length: 6, nullable: true })
  @Field(() => Date, { nullable: true, description: 'When its Vault token was issued.' })
  vaultTokenIssuedAt?: Date | null;

  @Property({ type: 'datetime', length: 6, nullable: true })
  @Field(() => Date, { nullable: true, description: 'When its Vault token was revoked (or found gone).' })
  vaultTokenRevokedAt?: Date | null;

  /** The instance ended but its token could not be revoked yet (Vault down): the reaper retries. */
  @Property({ type: 'boolean', default: false })
  @Index()
  vaultRevokePending: boolean = false;

  @Property({ type: 'boolean', default: false })
  @Field(() => Boolean)
  hasSecurityViolations: boolean = false;

  @Property({ type: 'string', length: 200, nullable: true })
  @Field(() => String, { nullable: true, description: 'A2A task this instance works for.' })
  taskId?: string | null;

  @Property({ type: 'string', length: 2000, nullable: true })
  @Field(() => String, { nullable: true, description: 'Where the signed result is POSTed when it ends.' })
  callbackUrl?: string | null;

  @Property({ type: 'string', length: 20, nullable: true })
  @Field(() => String, { nullable: true, description: 'PENDING, DELIVERED or GAVE_UP.' })
  callbackStatus?: string | null;
}
