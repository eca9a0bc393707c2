import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { Context, scopeOf } from '../../src/graphql/context';
import { expectGlobalId } from '../../src/graphql/relay';
import { PERMISSIONS } from '../../src/kernel/permissions';
import { badInput } from '../../src/kernel/errors';
import type { StackDeployer } from '../../src/modules/stacks';
import type { SwarmManager } from '../../src/modules/swarm';
import { DeployStackInput, DeployStackPayload } from './stacks.types';

/** A list of name/value pairs as a map; a name given twice is BAD_USER_INPUT. */
function mapOf(field: string, items: Array<{ key: string; value: string }> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, { key, value }] of (items ?? []).entries()) {
    if (Object.hasOwn(out, key)) throw badInput(`${field}[${i}]`, `${JSON.stringify(key)} is given twice`);
    Object.defineProperty(out, key, { value, enumerable: true });
  }
  return out;
}

@Resolver()
export class StackResolver {
  constructor(
    private readonly clusters: SwarmManager,
    private readonly stacks: StackDeployer,
  ) {}

  @Authorized(PERMISSIONS.stacksDeploy)
  @Mutation(() => DeployStackPayload, {
    description:
      'Deploys a compose file as `docker stack deploy --resolve-image never` would: the whole stack is converted and checked (compose errors, external objects, the host-access policy) before anything is created; bad input is BAD_USER_INPUT naming the path.',
  })
  async deployStack(@Arg('input', () => DeployStackInput) input: DeployStackInput, @Ctx() ctx: Context): Promise<DeployStackPayload> {
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
    const res = await this.stacks.deploy(scope, cluster, { name: input.name, compose: input.compose, variables, files });
    return { stack: input.name, ...res };
  }
}
