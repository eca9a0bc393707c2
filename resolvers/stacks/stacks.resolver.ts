import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Info, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { GraphQLResolveInfo } from 'graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { SwarmCluster, SwarmDeployment, SwarmService, SwarmStack } from '../../entities';
import { Context, loadedColumn, scopeOf } from '../../src/graphql/context';
import { ConnectionArgs, paginate } from '../../src/graphql/connection';
import { expectGlobalId, toGlobalId } from '../../src/graphql/relay';
import { filtered } from '../../src/graphql/subscriptions';
import { badInput } from '../../src/kernel/errors';
import { PERMISSIONS } from '../../src/kernel/permissions';
import { DEPLOYMENT_TOPIC, type DeploymentProgressPayload, type StackDeployments } from '../../src/modules/stacks';
import type { SwarmManager } from '../../src/modules/swarm';
import {
  DeployStackInput,
  DeploymentIdInput,
  DeploymentPayload,
  DeploymentProgress,
  RedeployDeploymentInput,
  RemoveStackPayload,
  RollbackStackInput,
  StackIdInput,
  SwarmDeploymentConnection,
  SwarmStackConnection,
} from './stacks.types';

/** A list of name/value pairs as a map; a name given twice is BAD_USER_INPUT. */
function mapOf(field: string, items: Array<{ key: string; value: string }> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, { key, value }] of (items ?? []).entries()) {
    if (Object.hasOwn(out, key)) throw badInput(`${field}[${i}]`, `${JSON.stringify(key)} is given twice`);
    Object.defineProperty(out, key, { value, enumerable: true });
  }
  return out;
}

const stackId = (id: string, field = 'stackId') => expectGlobalId(id, 'SwarmStack', field);
const deploymentId = (id: string, field = 'deploymentId') => expectGlobalId(id, 'SwarmDeployment', field);
const newestFirst = { field: 'revision', direction: 'desc' } as const;

@Resolver(() => SwarmStack)
export class StackResolver {
  constructor(
    private readonly clusters: SwarmManager,
    private readonly svc: StackDeployments,
  ) {}

  @Authorized(PERMISSIONS.stacksDeploy)
  @Mutation(() => DeploymentPayload, {
    description:
      'Deploys a compose file as `docker stack deploy --resolve-image never` would, as the next revision of the stack. The whole stack is converted and checked (compose errors, external objects, the host-access policy) before anything is recorded or created: bad input is BAD_USER_INPUT naming the path. The deployment runs as a durable job; follow it with deploymentProgress. A second deployment while one is active is CONFLICT with the active one’s id.',
  })
  async deployStack(@Arg('input', () => DeployStackInput) input: DeployStackInput, @Ctx() ctx: Context): Promise<DeploymentPayload> {
    const scope = scopeOf(ctx);
    const cluster = await this.clusters.get(scope, expectGlobalId(input.clusterId, 'SwarmCluster', 'clusterId'));
    const variables = mapOf(
      'variables',
      input.variables?.map((v) => ({ key: v.name, value: v.value })),
    );
    const files = mapOf(
      'files',
      input.files?.map((f) => ({ key: f.path, value: f.content })),
    );
    const deployment = await this.svc.deploy(
      scope,
      cluster,
      { name: input.name, compose: input.compose, variables, files },
      { prune: input.prune ?? false, timeoutSeconds: input.timeoutSeconds, idempotencyKey: input.idempotencyKey },
    );
    return { deployment, stack: deployment.stack };
  }

  @Authorized(PERMISSIONS.stacksDeploy)
  @Mutation(() => DeploymentPayload, { description: "Applies an earlier deployment's revision again (its pinned specs, the whole stack) as a new revision: the runbook's rollback path." })
  async redeployDeployment(@Arg('input', () => RedeployDeploymentInput) input: RedeployDeploymentInput, @Ctx() ctx: Context): Promise<DeploymentPayload> {
    const deployment = await this.svc.redeploy(scopeOf(ctx), deploymentId(input.deploymentId), input);
    return { deployment, stack: deployment.stack };
  }

  @Authorized(PERMISSIONS.stacksDeploy)
  @Mutation(() => DeploymentPayload, {
    description: 'Takes the whole stack back to one of its revisions, as a new revision: services added since are removed, removed ones recreated, changed ones restored.',
  })
  async rollbackStack(@Arg('input', () => RollbackStackInput) input: RollbackStackInput, @Ctx() ctx: Context): Promise<DeploymentPayload> {
    const deployment = await this.svc.rollback(scopeOf(ctx), stackId(input.stackId), input.toRevision, input);
    return { deployment, stack: deployment.stack };
  }

  @Authorized(PERMISSIONS.stacksDeploy)
  @Mutation(() => DeploymentPayload, { description: 'Stops an active deployment where it is (what was applied stays; rollbackStack undoes it). CONFLICT when it is not active.' })
  async cancelDeployment(@Arg('input', () => DeploymentIdInput) input: DeploymentIdInput, @Ctx() ctx: Context): Promise<DeploymentPayload> {
    const deployment = await this.svc.cancel(scopeOf(ctx), deploymentId(input.deploymentId));
    return { deployment, stack: deployment.stack };
  }

  @Authorized(PERMISSIONS.stacksDeploy)
  @Mutation(() => RemoveStackPayload, { description: 'Removes the stack’s services, secrets, configs and networks as `docker stack rm` does; the stack and its history stay, REMOVED.' })
  async removeStack(@Arg('input', () => StackIdInput) input: StackIdInput, @Ctx() ctx: Context): Promise<RemoveStackPayload> {
    return { stack: await this.svc.remove(scopeOf(ctx), stackId(input.stackId)) };
  }

  @Authorized()
  @Query(() => SwarmStackConnection, { description: 'Your stacks (of one cluster, or all), by name; stacks deployed with the CLI are discovered from their services’ labels.' })
  async stacks(@Arg('clusterId', () => ID, { nullable: true }) clusterId: string | undefined, @Args() page: ConnectionArgs, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    const scope = scopeOf(ctx);
    const cluster = clusterId ? expectGlobalId(clusterId, 'SwarmCluster', 'clusterId') : undefined;
    await this.svc.discover(scope, cluster);
    return paginate(ctx.em, SwarmStack, cluster ? { cluster } : {}, page, { field: 'name', direction: 'asc' }, info);
  }

  @Authorized()
  @Query(() => SwarmStack)
  stack(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return this.svc.stack(scopeOf(ctx), stackId(id, 'id'));
  }

  @Authorized()
  @Query(() => SwarmDeployment)
  deployment(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return this.svc.get(scopeOf(ctx), deploymentId(id, 'id'));
  }

  @Authorized()
  @Subscription(() => DeploymentProgress, {
    description: 'Every step of a stack’s deployments (or of one deployment) and every change of a service’s convergence in them.',
    subscribe: ({ args, context }) => {
      const ctx = context as Context;
      const byStack = args.stackId ? stackId(args.stackId as string) : undefined;
      const byDeployment = args.deploymentId ? deploymentId(args.deploymentId as string) : undefined;
      if (!byStack && !byDeployment) throw badInput('stackId', 'give stackId or deploymentId');
      return filtered(
        ctx.events.subscribe(DEPLOYMENT_TOPIC, scopeOf(ctx).accountId),
        (p: DeploymentProgressPayload) => (!byStack || p.stackId === byStack) && (!byDeployment || p.deploymentId === byDeployment),
      );
    },
  })
  deploymentProgress(
    @Root() p: DeploymentProgressPayload,
    @Arg('stackId', () => ID, { nullable: true }) _stackId: string | undefined,
    @Arg('deploymentId', () => ID, { nullable: true }) _deploymentId: string | undefined,
  ): DeploymentProgress {
    return {
      deploymentId: toGlobalId('SwarmDeployment', p.deploymentId),
      stackId: toGlobalId('SwarmStack', p.stackId),
      revision: p.revision,
      status: p.status as DeploymentProgress['status'],
      step: p.step,
      services: p.services,
      at: new Date(p.at),
    };
  }

  // --- fields ---

  @FieldResolver(() => SwarmCluster)
  cluster(@Root() stack: SwarmStack, @Ctx() ctx: Context) {
    return ctx.em.findOneOrFail(SwarmCluster, stack.cluster.id);
  }

  @FieldResolver(() => [SwarmService], { description: 'Its services (com.docker.stack.namespace=<name>) with running/desired and failing tasks, by name.' })
  services(@Root() stack: SwarmStack, @Ctx() ctx: Context) {
    return ctx.em.find(SwarmService, { cluster: stack.cluster.id, stack: stack.name }, { orderBy: { name: 'asc' } });
  }

  @FieldResolver(() => Int)
  serviceCount(@Root() stack: SwarmStack, @Ctx() ctx: Context) {
    return ctx.em.count(SwarmService, { cluster: stack.cluster.id, stack: stack.name });
  }

  @FieldResolver(() => SwarmDeployment, { nullable: true, description: 'The deployment the stack runs: the last that succeeded (null for a discovered stack).' })
  currentDeployment(@Root() stack: SwarmStack, @Ctx() ctx: Context) {
    return stack.currentDeploymentId ? ctx.em.findOne(SwarmDeployment, stack.currentDeploymentId) : null;
  }

  @FieldResolver(() => SwarmDeploymentConnection, { description: 'Its deployments, newest first, with their diffs.' })
  deployments(@Root() stack: SwarmStack, @Args() page: ConnectionArgs, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return paginate(ctx.em, SwarmDeployment, { stack: stack.id }, page, newestFirst, info);
  }
}

/** Fields of a deployment that are not loaded with its row: the compose text and the specs (large), the stack and cluster. */
@Resolver(() => SwarmDeployment)
export class DeploymentFieldsResolver {
  @Authorized(PERMISSIONS.stacksDeploy)
  @FieldResolver(() => String, { description: 'The compose file as given. Values written in it (environment) are in it: needs swarm.stacks.deploy.' })
  async compose(@Root() d: SwarmDeployment, @Ctx() ctx: Context): Promise<string> {
    return loadedColumn(ctx, SwarmDeployment, d.id, 'compose', async () => (await ctx.em.findOneOrFail(SwarmDeployment, d.id, { fields: ['compose'] })).compose);
  }

  @Authorized(PERMISSIONS.stacksDeploy)
  @FieldResolver(() => GraphQLJSONObject, {
    description: 'The converted Engine API specs (services, networks, configs; secrets without their data). Interpolated values (environment) are in them: needs swarm.stacks.deploy.',
  })
  async specs(@Root() d: SwarmDeployment, @Ctx() ctx: Context): Promise<Record<string, unknown>> {
    return loadedColumn(ctx, SwarmDeployment, d.id, 'specs', async () => (await ctx.em.findOneOrFail(SwarmDeployment, d.id, { fields: ['specs'] })).specs);
  }

  @FieldResolver(() => SwarmStack)
  stack(@Root() d: SwarmDeployment, @Ctx() ctx: Context) {
    return ctx.em.findOneOrFail(SwarmStack, d.stack.id);
  }

  @FieldResolver(() => SwarmCluster)
  cluster(@Root() d: SwarmDeployment, @Ctx() ctx: Context) {
    return ctx.em.findOneOrFail(SwarmCluster, d.cluster.id);
  }
}

@Resolver(() => SwarmCluster)
export class ClusterStacksResolver {
  constructor(private readonly svc: StackDeployments) {}

  @FieldResolver(() => [SwarmStack], { description: 'Its stacks by name (discovered from service labels when deployed with the CLI).' })
  async stacks(@Root() cluster: SwarmCluster, @Ctx() ctx: Context): Promise<SwarmStack[]> {
    const scope = scopeOf(ctx);
    await this.svc.discover(scope, cluster.id);
    return ctx.em.find(SwarmStack, { cluster: cluster.id }, { orderBy: { name: 'asc' } });
  }
}
