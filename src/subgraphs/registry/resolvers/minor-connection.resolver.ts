import { Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import { requireChildPurpose } from '../../../audit/purpose';
import type { HubContext } from '../../../server/hub.context';
import { MAX_PAGE_SIZE } from './minor.resolver';
import { noteTested } from '../../shared/filter-tests';
import { MinorConnection, MinorCount, MinorEdge, PageInfo } from './types/minor-connection.type';

/**
 * A `minors` filter is a read of what it tests (FilterTests), recorded for every child whose
 * membership an answer depends on: the page's children when `edges` are asked (whatever is
 * selected under them: `edges { __typename }` names them too), the last one for `endCursor`, and
 * for `hasNextPage` the page's children and the one after it — whether there is a next page is a
 * count of the matches after the cursor, and a cursor can be made to start anywhere: a page
 * starting just before a named child told whether that child matched. A count under a test of the
 * child (not only of the region) is exact up to a page's worth (1,000) and "more than 1,000" (1,001)
 * above, and records every child it depends on: each child counted, up to 1,001 matching (a filter
 * tuned until 1,000 others match tells by 1,000 or 1,001 whether one more does); none from 1,002 on,
 * where no single child changes the answer. Exact larger counts, unrecorded, were differenced — the
 * count with a next visit due before T + 1 ms less the one before T is the one child due at T — to
 * read a named child's categories and risk level off one by one; how many children above 1,000
 * match, `minorCounts` answers, protected.
 */
@Resolver(() => PageInfo)
export class PageInfoResolver {
  @FieldResolver(() => String, { nullable: true })
  endCursor(@Root() info: PageInfo, @Ctx() ctx: HubContext): string | null {
    // An empty page's cursor is of no child: nothing to note, not a record that names none.
    if (info.minorId) noteTested(ctx, info.minorId, info.tested);
    return info.endCursor;
  }

  @FieldResolver(() => Boolean)
  hasNextPage(@Root() info: PageInfo, @Ctx() ctx: HubContext): boolean {
    // Without a filter the answer still tells whether a child follows the page, one a client knows by
    // id when it places `after` just before it: a read of that child's id, as under a filter of what
    // it tests. Unrecorded, a referral's purpose let an officer ask whether a child other than the
    // referral's still lives in the street.
    const tested = info.tested.length ? info.tested : [{ field: 'Minor.id', access: ctx.policy.access(ctx.subject, 'Minor.id') }];
    for (const minorId of info.decidedBy) noteTested(ctx, minorId, tested);
    return info.hasNextPage;
  }
}

@Resolver(() => MinorConnection)
export class MinorConnectionResolver {
  @FieldResolver(() => [MinorEdge])
  edges(@Root() page: MinorConnection, @Ctx() ctx: HubContext): MinorEdge[] {
    for (const edge of page.edges) noteTested(ctx, edge.minorId, page.counting.tested);
    return page.edges;
  }

  @FieldResolver(() => Int, {
    description:
      'Minors matching the filter in the caller’s jurisdiction. Under a filter that tests a child’s risk level, categories, age or next visit, a read of each child counted (of the fields tested), which needs a purpose; such a count above 1,000 is answered as 1,001, “more than 1,000” (minorCounts answers larger ones)',
  })
  totalCount(@Root() page: MinorConnection, @Ctx() ctx: HubContext): Promise<number> {
    let count = counts.get(page.counting);
    if (!count) counts.set(page.counting, (count = countOf(page.counting, ctx)));
    return count;
  }
}

/**
 * Each page's count, made once however many aliases of `totalCount` ask it: priced 1 by the cost
 * limit under its one root field, each alias was a statement of its own, and 1,600 of them (what
 * 5,000 tokens hold) were 1,600 counts of the caller's jurisdiction for a request priced 2,600.
 * Keyed by the page's `counting`: the page itself is a copy per field (type-graphql makes `@Root()`
 * an instance of its class).
 */
const counts = new WeakMap<MinorCount, Promise<number>>();

async function countOf({ where, params, tested }: MinorCount, ctx: HubContext): Promise<number> {
  if (tested.some((t) => t.field !== 'Minor.grid')) {
    requireChildPurpose(ctx.purpose, 'a count of children selected by their records reads them and');
    // Each child whose absence would change the answer is recorded: all of them up to 1,001 (at
    // exactly 1,001 each one makes it "more than 1,000"); from 1,002 on none does.
    const rows: { id: string }[] = await ctx.db.query(`SELECT x.id FROM registry.minor x WHERE ${where} LIMIT ${MAX_PAGE_SIZE + 2}`, params);
    if (rows.length <= MAX_PAGE_SIZE + 1) for (const { id } of rows) noteTested(ctx, id, tested);
    return Math.min(rows.length, MAX_PAGE_SIZE + 1);
  }
  const [{ count }] = await ctx.db.query(`SELECT count(*)::int AS count FROM registry.minor x WHERE ${where}`, params);
  return count;
}
