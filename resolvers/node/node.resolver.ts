import { Arg, Authorized, Ctx, ID, Query, Resolver } from 'type-graphql';
import { Node } from '../../entities';
import { Context } from '../../src/graphql/context';
import { loadNodes } from '../../src/graphql/nodes';
import { MAX_PAGE_SIZE } from '../../src/graphql/connection';
import { badInput } from '../../src/kernel/errors';

@Resolver()
export class NodeResolver {
  @Authorized()
  @Query(() => Node, { nullable: true, description: 'Fetches any object by its global id; null when it does not exist or is not yours.' })
  async node(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Node | null> {
    const [node] = await loadNodes(ctx.em, [id]);
    return node;
  }

  @Authorized()
  @Query(() => [Node], { nullable: 'items', description: `Fetches up to ${MAX_PAGE_SIZE} objects by global id, in order; null for each missing one.` })
  async nodes(@Arg('ids', () => [ID]) ids: string[], @Ctx() ctx: Context): Promise<(Node | null)[]> {
    if (ids.length > MAX_PAGE_SIZE) throw badInput('ids', `at most ${MAX_PAGE_SIZE} ids`);
    return loadNodes(ctx.em, ids);
  }
}
