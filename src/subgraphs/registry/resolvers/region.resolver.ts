import { Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { HubContext } from '../../../server/hub.context';
import { Region } from '../entities/region.entity';
import { jurisdictionPattern, registryLoaders } from '../registry.loaders';

@Resolver(() => Region)
export class RegionResolver {
  @Query(() => [Region], { nullable: true, description: 'The caller’s jurisdiction: its node and every node below, by code' })
  regions(@Ctx() ctx: HubContext): Promise<Region[]> {
    return ctx.db
      .getRepository(Region)
      .createQueryBuilder('r')
      .where('r.code LIKE :jurisdiction', { jurisdiction: jurisdictionPattern(ctx) })
      .orderBy('r.code')
      .getMany();
  }

  @FieldResolver(() => Region, { nullable: true, description: 'Null above the caller’s jurisdiction' })
  parent(@Root() region: Region, @Ctx() ctx: HubContext): Promise<Region | null> | null {
    return region.parentCode ? registryLoaders(ctx).regionByCode.load(region.parentCode) : null;
  }

  @FieldResolver(() => [Region], { nullable: true })
  children(@Root() region: Region, @Ctx() ctx: HubContext): Promise<Region[]> {
    return registryLoaders(ctx).regionChildren.load(region.code);
  }
}
