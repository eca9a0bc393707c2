import { Entity, Enum, Property, Unique } from '@mikro-orm/core';
import { Field, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { AccountOwned } from '../common/account-owned';
import { Node } from '../common/node';
import { VaultTokenDelivery } from './instance-enums';

/** One plain environment entry of a template (secret ones are sealed and never returned). */
export interface TemplateEnvEntry {
  name: string;
  value: string;
}

/**
 * What a container instance runs, owned by an account and versioned: every update bumps
 * `version`, and instances record the version they ran. Secret environment values are stored
 * sealed (`secretEnvSealed`, no @Field) and are write-only: only their names come back.
 */
@Entity({ tableName: 'container_templates' })
@Unique({ properties: ['account', 'name'] })
@ObjectType({ implements: Node, description: 'A reusable container configuration for instances (runbook: ContainerTemplate).' })
export class ContainerTemplate extends AccountOwned {
  @Property({ type: 'string', length: 100 })
  @Field(() => String)
  name!: string;

  @Property({ type: 'integer' })
  @Field(() => Int, { description: 'Starts at 1; every update adds 1.' })
  version: number = 1;

  @Property({ type: 'string', length: 500 })
  @Field(() => String, { description: 'Image reference; it must exist on the target host.' })
  image!: string;

  @Property({ type: 'json', nullable: true })
  @Field(() => [String], { nullable: true, description: "The command (the image's default when null)." })
  command?: string[] | null;

  @Property({ type: 'json' })
  @Field(() => [String], { description: 'Plain environment entries as NAME=value.' })
  env: string[] = [];

  /** Sealed JSON of the secret entries (src/infra/crypto.ts): never exposed. */
  @Property({ type: 'text', nullable: true, lazy: true })
  secretEnvSealed?: string | null;

  @Property({ type: 'json' })
  @Field(() => [String], { description: 'Names of the secret environment entries (values are write-only).' })
  secretEnvNames: string[] = [];

  @Property({ type: 'integer' })
  @Field(() => Int, { description: 'Memory limit (MiB).' })
  memoryMb!: number;

  @Property({ type: 'integer' })
  @Field(() => Int, { description: 'CPU limit in millicores (1000 = one CPU).' })
  cpuMillicores!: number;

  @Property({ type: 'integer' })
  @Field(() => Int, { description: 'Maximum number of processes.' })
  pidsLimit!: number;

  @Property({ type: 'integer' })
  @Field(() => Int, { description: 'Default timeout (seconds) of its instances.' })
  timeoutSeconds!: number;

  @Property({ type: 'json' })
  @Field(() => [String], { description: 'Vault policies of the per-instance token (no token when empty).' })
  vaultPolicies: string[] = [];

  @Enum({ items: () => VaultTokenDelivery })
  @Field(() => VaultTokenDelivery)
  tokenDelivery: VaultTokenDelivery = VaultTokenDelivery.TMPFS_FILE;

  @Property({ type: 'string', length: 200, nullable: true })
  @Field(() => String, { nullable: true, description: 'Network mode or network name (bridge when null).' })
  network?: string | null;

  @Property({ type: 'json' })
  @Field(() => GraphQLJSONObject)
  labels: Record<string, string> = {};

  @Property({ type: 'integer' })
  @Field(() => Int, { description: 'Bytes of stdout and of stderr kept per instance (the rest is counted and dropped).' })
  outputLimitBytes!: number;

  @Property({ type: 'json' })
  @Field(() => [String], { description: 'Fields an instance may override: command, env, timeoutSeconds, memoryMb, cpuMillicores.' })
  allowedOverrides: string[] = [];

  @Property({ type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true, description: 'Quota of this template: instances at once.' })
  maxConcurrent?: number | null;

  @Property({ type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true, description: 'Quota of this template: MiB of memory at once.' })
  maxMemoryMb?: number | null;

  @Property({ type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true, description: 'Quota of this template: millicores at once.' })
  maxCpuMillicores?: number | null;
}
