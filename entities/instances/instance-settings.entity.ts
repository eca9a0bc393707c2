import { Entity, Property, Unique } from '@mikro-orm/core';
import { Field, Int, ObjectType } from 'type-graphql';
import { AccountOwned } from '../common/account-owned';
import { Node } from '../common/node';

/**
 * Per-account settings of container instances (one row per account, created on first use):
 * the account's quota, and the sealed HMAC secret task callbacks are signed with (no @Field:
 * it is shown once, by rotateInstanceCallbackSecret). The quota check locks this row
 * (`select … for update`), which serialises concurrent runs of one account.
 */
@Entity({ tableName: 'instance_settings' })
@Unique({ properties: ['account'] })
@ObjectType({ implements: Node, description: "The account's container-instance settings: its quota (null = the operator ceiling)." })
export class InstanceSettings extends AccountOwned {
  @Property({ type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true, description: 'Instances at once (PENDING, PROVISIONING or RUNNING).' })
  maxConcurrent?: number | null;

  @Property({ type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true, description: 'MiB of memory limits at once.' })
  maxMemoryMb?: number | null;

  @Property({ type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true, description: 'Millicores of CPU limits at once.' })
  maxCpuMillicores?: number | null;

  /** Runs refused by the quota (counted here instead of storing a row per refusal: bounded). */
  @Property({ type: 'integer', default: 0 })
  quotaRefusals: number = 0;

  @Property({ type: 'datetime', length: 6, nullable: true })
  lastQuotaRefusalAt?: Date | null;

  @Property({ type: 'text', nullable: true, lazy: true })
  callbackSecretSealed?: string | null;
}
