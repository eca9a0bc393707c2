import { Authorized, Ctx, Field, ObjectType, Query, Resolver } from 'type-graphql';
import { Account, User } from '../../entities';
import { Context, viewerOf } from '../../src/graphql/context';

@ObjectType({ description: 'The caller: who they are, their account and what they may do.' })
export class Viewer {
  @Field(() => User) user!: User;
  @Field(() => Account) account!: Account;
  @Field(() => [String], { description: 'Permissions granted by the token.' }) permissions!: string[];
}

@Resolver()
export class ViewerResolver {
  @Authorized()
  @Query(() => Viewer, { description: 'The authenticated caller.' })
  async viewer(@Ctx() ctx: Context): Promise<Viewer> {
    const { principal, membership } = viewerOf(ctx);
    const [account, user] = await Promise.all([ctx.em.findOneOrFail(Account, membership.accountId), ctx.em.findOneOrFail(User, membership.userId)]);
    return { account, user, permissions: principal.permissions };
  }
}
