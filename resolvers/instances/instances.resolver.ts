import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Info, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { GraphQLResolveInfo } from 'graphql';
import type { FilterQuery } from '@mikro-orm/core';
import { Account, CallbackAttempt, ContainerInstance, ContainerTemplate, DockerHost, SecurityViolation } from '../../entities';
import { assertAnyPermission, Context, scopeOf } from '../../src/graphql/context';
import { ConnectionArgs, paginate } from '../../src/graphql/connection';
import { expectGlobalId } from '../../src/graphql/relay';
import { filtered } from '../../src/graphql/subscriptions';
import { hydrate } from '../../src/infra/pubsub/payload';
import { PERMISSIONS } from '../../src/kernel/permissions';
import { INSTANCE_TOPIC, type InstancesModule } from '../../src/modules/instances';
import {
  CleanupVaultTokenInput,
  CleanupVaultTokenPayload,
  ContainerInstanceConnection,
  ContainerInstanceFilter,
  ContainerInstanceIdInput,
  ContainerInstancePayload,
  ContainerTemplateConnection,
  ContainerTemplateIdInput,
  ContainerTemplatePayload,
  CreateContainerTemplateInput,
  QuotaUsage,
  RemoveContainerTemplatePayload,
  RotateCallbackSecretPayload,
  RotateInstanceCallbackSecretInput,
  SetContainerQuotaPayload,
  RunContainerInstanceInput,
  SecurityViolationConnection,
  SetContainerQuotaInput,
  UpdateContainerTemplateInput,
} from './instances.types';

const templateIdOf = (id: string, field: string) => expectGlobalId(id, 'ContainerTemplate', field);
const instanceIdOf = (id: string, field: string) => expectGlobalId(id, 'ContainerInstance', field);
const byName = { field: 'name', direction: 'asc' } as const;
const newestFirst = { field: 'createdAt', direction: 'desc' } as const;

/** Dates arrive as ISO strings when a payload went through Redis without the reviver. */
const DATE_FIELDS = ['createdAt', 'updatedAt', 'provisioningAt', 'startedAt', 'endedAt', 'deadline', 'sampledAt', 'vaultTokenIssuedAt', 'vaultTokenRevokedAt'];
function hydrateInstance(payload: Record<string, unknown>): ContainerInstance {
  const copy = { ...payload };
  for (const k of DATE_FIELDS) if (typeof copy[k] === 'string') copy[k] = new Date(copy[k] as string);
  return hydrate(ContainerInstance, copy);
}

@Resolver(() => ContainerTemplate)
export class ContainerTemplateResolver {
  constructor(private readonly m: InstancesModule) {}

  @Authorized()
  @Query(() => ContainerTemplateConnection, { description: 'Container templates of your account, by name.' })
  containerTemplates(@Args() page: ConnectionArgs, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return paginate(ctx.em, ContainerTemplate, {}, page, byName, info);
  }

  @Authorized()
  @Query(() => ContainerTemplate, { description: 'One template (NOT_FOUND when it is not yours).' })
  containerTemplate(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return this.m.templates.get(scopeOf(ctx), templateIdOf(id, 'id'));
  }

  @Authorized(PERMISSIONS.templatesManage)
  @Mutation(() => ContainerTemplatePayload, { description: 'Creates a container template (needs containers.templates.manage).' })
  async createContainerTemplate(@Arg('input', () => CreateContainerTemplateInput) input: CreateContainerTemplateInput, @Ctx() ctx: Context): Promise<ContainerTemplatePayload> {
    const { result, activity } = await this.m.templates.create(scopeOf(ctx), input);
    return { template: result, activity };
  }

  @Authorized(PERMISSIONS.templatesManage)
  @Mutation(() => ContainerTemplatePayload, { description: 'Changes a template; its version goes up by one (running instances keep what they run).' })
  async updateContainerTemplate(@Arg('input', () => UpdateContainerTemplateInput) input: UpdateContainerTemplateInput, @Ctx() ctx: Context): Promise<ContainerTemplatePayload> {
    const { id, ...changes } = input;
    const { result, activity } = await this.m.templates.update(scopeOf(ctx), templateIdOf(id, 'id'), changes);
    return { template: result, activity };
  }

  @Authorized(PERMISSIONS.templatesManage)
  @Mutation(() => RemoveContainerTemplatePayload, { description: 'Removes a template (its instances keep their configuration).' })
  removeContainerTemplate(@Arg('input', () => ContainerTemplateIdInput) input: ContainerTemplateIdInput, @Ctx() ctx: Context) {
    return this.m.templates.remove(scopeOf(ctx), templateIdOf(input.id, 'id'));
  }

  @Authorized(PERMISSIONS.templatesManage)
  @Mutation(() => SetContainerQuotaPayload, { description: "Sets the account's instance quota (needs containers.templates.manage)." })
  async setContainerQuota(@Arg('input', () => SetContainerQuotaInput) input: SetContainerQuotaInput, @Ctx() ctx: Context): Promise<SetContainerQuotaPayload> {
    const scope = scopeOf(ctx);
    const settings = await this.m.quotas.set(scope, input);
    return { settings, quotaUsage: await this.m.quotas.usage(scope) };
  }

  @Authorized(PERMISSIONS.templatesManage)
  @Mutation(() => RotateCallbackSecretPayload, { description: 'A new HMAC secret for task callbacks, returned once (needs containers.templates.manage).' })
  async rotateInstanceCallbackSecret(@Arg('input', () => RotateInstanceCallbackSecretInput) input: RotateInstanceCallbackSecretInput, @Ctx() ctx: Context): Promise<RotateCallbackSecretPayload> {
    return { secret: await this.m.callbackSecrets.rotate(scopeOf(ctx)), clientMutationId: input.clientMutationId ?? null };
  }
}

@Resolver(() => ContainerInstance)
export class ContainerInstanceResolver {
  constructor(private readonly m: InstancesModule) {}

  @Authorized()
  @Query(() => ContainerInstanceConnection, { description: 'Container instances of your account, newest first.' })
  containerInstances(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => ContainerInstanceFilter, { nullable: true }) filter: ContainerInstanceFilter | undefined,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ) {
    const where: FilterQuery<ContainerInstance> = {};
    if (filter?.status?.length) where.status = { $in: filter.status };
    if (filter?.templateId) where.template = templateIdOf(filter.templateId, 'filter.templateId');
    if (filter?.taskId) where.taskId = filter.taskId;
    if (filter?.hasSecurityViolations != null) where.hasSecurityViolations = filter.hasSecurityViolations;
    return paginate(ctx.em, ContainerInstance, where, page, newestFirst, info);
  }

  @Authorized()
  @Query(() => ContainerInstance, { description: 'One instance (NOT_FOUND when it is not yours).' })
  containerInstance(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return this.m.instances.get(scopeOf(ctx), instanceIdOf(id, 'id'));
  }

  @Authorized()
  @Query(() => SecurityViolationConnection, { description: 'Security violations across your instances, newest first.' })
  securityViolations(@Args() page: ConnectionArgs, @Arg('instanceId', () => ID, { nullable: true }) instanceId: string | undefined, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    const where: FilterQuery<SecurityViolation> = instanceId ? { instance: instanceIdOf(instanceId, 'instanceId') } : {};
    return paginate(ctx.em, SecurityViolation, where, page, { field: 'detectedAt', direction: 'desc' }, info);
  }

  @Authorized(PERMISSIONS.instancesRun)
  @Mutation(() => ContainerInstancePayload, {
    description:
      'Runs a container instance from a template or a direct configuration (needs containers.instances.run). QUOTA_EXCEEDED (with limit and usage) past a quota; a spec the host-access policy refuses comes back FAILED with a POLICY_REFUSED violation.',
  })
  async runContainerInstance(@Arg('input', () => RunContainerInstanceInput) input: RunContainerInstanceInput, @Ctx() ctx: Context): Promise<ContainerInstancePayload> {
    const { templateId, hostId, ...rest } = input;
    return this.m.instances.run(scopeOf(ctx), {
      ...rest,
      templateId: templateId ? templateIdOf(templateId, 'templateId') : null,
      hostId: hostId ? expectGlobalId(hostId, 'DockerHost', 'hostId') : null,
    });
  }

  @Authorized(PERMISSIONS.instancesRun)
  @Mutation(() => ContainerInstancePayload, { description: 'Stops an active instance: CANCELLED, container removed, token revoked.' })
  cancelContainerInstance(@Arg('input', () => ContainerInstanceIdInput) input: ContainerInstanceIdInput, @Ctx() ctx: Context) {
    return this.m.instances.cancel(scopeOf(ctx), instanceIdOf(input.id, 'id'));
  }

  @Authorized(PERMISSIONS.instancesRun)
  @Mutation(() => CleanupVaultTokenPayload, { description: "Revokes an ended instance's Vault token by accessor (manual cleanup; idempotent)." })
  cleanupVaultToken(@Arg('input', () => CleanupVaultTokenInput) input: CleanupVaultTokenInput, @Ctx() ctx: Context) {
    return this.m.instances.cleanupVaultToken(scopeOf(ctx), instanceIdOf(input.instanceId, 'instanceId'));
  }

  @Authorized()
  @Subscription(() => ContainerInstance, {
    description: 'Every change of your instances (status, usage samples, callback status), or of one instance.',
    subscribe: ({ args, context }) => {
      const ctx = context as Context;
      const only = args.instanceId ? instanceIdOf(args.instanceId as string, 'instanceId') : undefined;
      return filtered(ctx.events.subscribe(INSTANCE_TOPIC, scopeOf(ctx).accountId), (p: { id?: string }) => !only || p.id === only);
    },
  })
  containerInstanceUpdated(@Root() payload: Record<string, unknown>, @Arg('instanceId', () => ID, { nullable: true }) _instanceId: string | undefined): ContainerInstance {
    return hydrateInstance(payload);
  }

  // --- fields ---

  @FieldResolver(() => ContainerTemplate, { nullable: true, description: 'The template it ran (null for a direct configuration or a removed template).' })
  template(@Root() row: ContainerInstance, @Ctx() ctx: Context) {
    const id = (row.template as { id?: string } | null | undefined)?.id ?? (row as unknown as { templateId?: string }).templateId;
    return id ? ctx.em.findOne(ContainerTemplate, id) : null;
  }

  @FieldResolver(() => DockerHost, { nullable: true })
  host(@Root() row: ContainerInstance, @Ctx() ctx: Context) {
    const id = (row.host as { id?: string } | null | undefined)?.id ?? (row as unknown as { hostId?: string }).hostId;
    return id ? ctx.em.findOne(DockerHost, id) : null;
  }

  /**
   * Output is lazy on the row (lists never load it): loaded here when asked for. A payload of
   * containerInstanceUpdated carries its start already.
   */
  @FieldResolver(() => String, { nullable: true, description: 'stdout, up to the output limit (on containerInstanceUpdated: its first 4,096 characters).' })
  async stdout(@Root() row: ContainerInstance, @Ctx() ctx: Context) {
    // output is what the run printed: for who runs instances, or reads logs
    assertAnyPermission(ctx, PERMISSIONS.instancesRun, PERMISSIONS.logsRead);
    return typeof row.stdout === 'string' ? row.stdout : this.m.instances.output(scopeOf(ctx), row.id, 'stdout');
  }

  @FieldResolver(() => String, { nullable: true, description: 'stderr, up to the output limit (on containerInstanceUpdated: its first 4,096 characters).' })
  async stderr(@Root() row: ContainerInstance, @Ctx() ctx: Context) {
    assertAnyPermission(ctx, PERMISSIONS.instancesRun, PERMISSIONS.logsRead);
    return typeof row.stderr === 'string' ? row.stderr : this.m.instances.output(scopeOf(ctx), row.id, 'stderr');
  }

  @FieldResolver(() => [SecurityViolation], { name: 'securityViolations', description: 'Its security violations, oldest first.' })
  violationsOf(@Root() row: ContainerInstance, @Ctx() ctx: Context) {
    return this.m.instances.violations(ctx.em, row.id);
  }

  @FieldResolver(() => [CallbackAttempt], { description: 'Every delivery attempt of its callback, in order.' })
  callbackAttempts(@Root() row: ContainerInstance, @Ctx() ctx: Context) {
    return this.m.instances.callbackAttempts(ctx.em, row.id);
  }
}

@Resolver(() => Account)
export class AccountQuotaResolver {
  constructor(private readonly m: InstancesModule) {}

  @FieldResolver(() => QuotaUsage, { nullable: true, description: 'What your active container instances hold against the quota (null for an account that is not yours).' })
  quotaUsage(@Root() account: Account, @Ctx() ctx: Context) {
    const scope = scopeOf(ctx);
    if (scope.accountId !== account.id) return null;
    return this.m.quotas.usage(scope);
  }
}
