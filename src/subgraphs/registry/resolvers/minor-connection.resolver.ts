import { Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import { PURPOSE_HEADER } from '../../../audit/purpose';
import { badInput } from '../../../errors/hub.exception';
import type { HubContext } from '../../../server/hub.context';
import { Minor } from '../entities/minor.entity';
import { MAX_PAGE_SIZE } from './minor.resolver';
import { noteTested } from '../../shared/filter-tests';
import { MinorConnection, MinorEdge, PageInfo } from './types/minor-connection.type';

/**
 * A `minors` filter is a read of what it tests (FilterTests): each child the answer names — by its
 * node, its cursor or the end cursor — is recorded as read of the fields tested. A count is a read
 * too when it can single children out: under a test of the child (not only of the region), a
 * count of at most a page's worth of children records each of them, so that narrowing a count to
 * one child (a grid, an age) and varying the categories asked tells the trail whose category was
 * learnt. A larger count names no child, as statistics do; to learn which of its children match,
 * one must list them, and that list is recorded.
 */
@Resolver(() => MinorEdge)
export class MinorEdgeResolver {
  @FieldResolver(() => Minor)
  node(@Root() edge: MinorEdge, @Ctx() ctx: HubContext): Minor {
    noteTested(ctx, edge.minorId, edge.tested);
    return edge.node;
  }

  @FieldResolver(() => String)
  cursor(@Root() edge: MinorEdge, @Ctx() ctx: HubContext): string {
    noteTested(ctx, edge.minorId, edge.tested);
    return edge.cursor;
  }
}

@Resolver(() => PageInfo)
export class PageInfoResolver {
  @FieldResolver(() => String, { nullable: true })
  endCursor(@Root() info: PageInfo, @Ctx() ctx: HubContext): string | null {
    if (info.minorId) noteTested(ctx, info.minorId, info.tested);
    return info.endCursor;
  }
}

@Resolver(() => MinorConnection)
export class MinorConnectionResolver {
  @FieldResolver(() => Int, {
    description:
      'Minors matching the filter in the caller’s jurisdiction. Under a filter that tests a child’s risk level, categories, age or next visit, a count of at most 1,000 children is a read of each of them (of the fields tested) and needs a purpose',
  })
  async totalCount(@Root() page: MinorConnection, @Ctx() ctx: HubContext): Promise<number> {
    const { where, params, tested } = page.counting;
    if (tested.some((t) => t.field !== 'Minor.grid')) {
      if (!ctx.purpose) throw badInput(PURPOSE_HEADER, `a count of children selected by their records reads them and must declare its purpose: ${PURPOSE_HEADER}: CODE[; reference]`);
      const rows: { id: string }[] = await ctx.db.query(`SELECT x.id FROM registry.minor x WHERE ${where} LIMIT ${MAX_PAGE_SIZE + 1}`, params);
      if (rows.length <= MAX_PAGE_SIZE) {
        for (const { id } of rows) noteTested(ctx, id, tested);
        return rows.length;
      }
    }
    const [{ count }] = await ctx.db.query(`SELECT count(*)::int AS count FROM registry.minor x WHERE ${where}`, params);
    return count;
  }
}
