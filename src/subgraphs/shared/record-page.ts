import { ClassType, Ctx, Field, FieldResolver, Int, ObjectType, Resolver, Root } from 'type-graphql';
import type { SelectQueryBuilder } from 'typeorm';
import { requireChildPurpose } from '../../audit/purpose';
import { badInput } from '../../errors/hub.exception';
import { isUuid } from '../../common/uuid';
import type { HubContext } from '../../server/hub.context';
import { MAX_PAGE_SIZE } from '../registry/resolvers/minor.resolver';
import { STREET_CODE_LENGTH } from '../registry/registry.loaders';
import { FilterRead, FilterTests, noteTested } from './filter-tests';
import { requirePageSize } from '../../common/validation';
import { entityReader } from '../../db/entity-reader';
import { inJurisdiction, jurisdictionParams, ofChildrenInJurisdiction } from './jurisdiction';

export interface Page<T> {
  nodes: T[];
  totalCount: number;
  nextCursor: string | null;
  /** What the list's filter tested (not a GraphQL field): read of each record's child the answer names. */
  tested: readonly FilterRead[];
  /** The children of the records `nextCursor` depends on: the page's and the one after it (not a GraphQL field). */
  decidedBy: (string | null)[];
  /**
   * The child of each matching record (null for a record naming none), at most `limit` of them, in
   * no order (not a GraphQL field): what a count under a filter depends on. Read only when asked.
   */
  matchingChildren(limit: number): Promise<(string | null)[]>;
  /** The children of at least `atLeast` of the matches, each once. */
  childrenMatchedAtLeast(atLeast: number): Promise<(string | null)[]>;
}

/**
 * A page type of one record type (`<Type>Page`): the records, how many match, where to go on; and
 * the resolver (list it among the slice's resolvers) that records the filter's tests as read of
 * each record's child the answer depends on — its nodes, for `nextCursor` the page's records and
 * the one after it, and for `totalCount` every record counted, as `minors { totalCount }` does.
 */
export function RecordPage<T extends { minorId: string | null }>(name: string, node: ClassType<T>): { Page: ClassType<Page<T>>; PageResolver: ClassType } {
  if (!name.endsWith('Page')) throw new Error(`A record page type is named <Type>Page, not ${name}`);
  const idField = `${name.slice(0, -'Page'.length)}.id`;
  @ObjectType(name, { description: 'A page of records in the caller’s jurisdiction, ordered by id' })
  class RecordPageType implements Page<T> {
    @Field(() => [node])
    nodes: T[];

    totalCount: number;

    @Field(() => String, { nullable: true, description: 'Pass as `after` for the next page; null on the last page' })
    nextCursor: string | null;

    tested: readonly FilterRead[];

    decidedBy: (string | null)[];

    matchingChildren: (limit: number) => Promise<(string | null)[]>;

    childrenMatchedAtLeast: (atLeast: number) => Promise<(string | null)[]>;
  }

  @Resolver(() => RecordPageType)
  class RecordPageResolver {
    @FieldResolver(() => [node])
    nodes(@Root() page: Page<T>, @Ctx() ctx: HubContext): T[] {
      for (const record of page.nodes) noteTested(ctx, record.minorId, page.tested);
      return page.nodes;
    }

    // The cursor is the page's last record's id, which `nodes { id }` serves only under a purpose, as
    // a read of its child: so is it here. Whether there is a next page is a count of the matches
    // after the cursor, which a client can make start anywhere: it depends on every record of the
    // page and the one after it, a read of their children — of what a filter tests, or without one of
    // their ids (a client that places `after` just before a record knows it). Selected alone it asks for
    // no child's record type, which is what the purpose rule looks for; refused whether or not the
    // page has records, so that the refusal tells nothing of them.
    @FieldResolver(() => String, { nullable: true })
    nextCursor(@Root() page: Page<T>, @Ctx() ctx: HubContext): string | null {
      requireChildPurpose(ctx.purpose, "a page's next cursor names a record of a child and");
      const read = [{ field: idField, access: ctx.policy.access(ctx.subject, idField) }];
      const last = page.nextCursor ? page.nodes[page.nodes.length - 1] : undefined;
      if (last) noteTested(ctx, last.minorId, read);
      for (const minorId of page.decidedBy) noteTested(ctx, minorId, page.tested.length ? page.tested : read);
      return page.nextCursor;
    }

    // Under a filter the count tells how many records match what it tests: in a street of a few
    // children, or varied by type, status or window, whose records they are. It is a read of each
    // record counted, as `minors { totalCount }` is of each child: a purpose, and every counted
    // record's child recorded up to 1,001 matches (at exactly 1,001 each one makes it "more than
    // 1,000"); from 1,002 on, the answer 1,001, the children enough of whose records match that
    // without them no more than 1,000 would — records are not children: a child's two of 1,002
    // matches had moved the answer from 1,000 to 1,001 unrecorded. Without a filter it tests nothing
    // of a child and stays exact. Nullable, as `nextCursor`: its refusal for want of a purpose is its
    // own path's, where a non-null count refused had nulled the whole page.
    @FieldResolver(() => Int, {
      nullable: true,
      description:
        'Records matching the filter in the caller’s jurisdiction. Under a filter (which tests the records’ type, status, dates…), a read of each counted record’s child (of the fields tested), which needs a purpose; such a count above 1,000 is answered as 1,001, “more than 1,000”',
    })
    totalCount(@Root() page: Page<T>, @Ctx() ctx: HubContext): Promise<number> {
      let count = counts.get(page);
      if (!count) counts.set(page, (count = countOf(page, ctx)));
      return count;
    }
  }
  return { Page: RecordPageType, PageResolver: RecordPageResolver };
}

/**
 * Each page's count under a filter, made once however many aliases of `totalCount` ask it: priced
 * 1 by the cost limit under its one root field, each alias read up to 1,002 matches again, and
 * 1,600 of them (what 5,000 tokens hold) were 1,600 statements for a request priced 2,600.
 */
const counts = new WeakMap<Page<{ minorId: string | null }>, Promise<number>>();

async function countOf(page: Page<{ minorId: string | null }>, ctx: HubContext): Promise<number> {
  if (!page.tested.length) return page.totalCount;
  requireChildPurpose(ctx.purpose, 'a count of records under a filter reads the children it depends on and');
  // The count `paginate` made decides without another statement when nothing or too much matches.
  if (page.totalCount === 0) return 0;
  if (page.totalCount > MAX_PAGE_SIZE + 1) {
    for (const minorId of await page.childrenMatchedAtLeast(page.totalCount - MAX_PAGE_SIZE)) noteTested(ctx, minorId, page.tested);
    return MAX_PAGE_SIZE + 1;
  }
  const children = await page.matchingChildren(MAX_PAGE_SIZE + 2);
  if (children.length <= MAX_PAGE_SIZE + 1) for (const minorId of children) noteTested(ctx, minorId, page.tested);
  return Math.min(children.length, MAX_PAGE_SIZE + 1);
}

/** The `Type.field` rows of a page type: structure only, readable by whoever may run its query. */
export const PAGE_FIELDS = ['nodes', 'totalCount', 'nextCursor'];

/**
 * A page may walk the record table in id order, testing each record, when it expects to walk at
 * most this many records before it has `first + 1` matches; otherwise it reads every match as the
 * count it has just made did, and sorts them.
 */
const WALK_ROWS = 2_000;

/**
 * Keyset pagination by id of a list of records (alias `r`, its filters added) in the caller's
 * jurisdiction. `first` is 1..MAX_PAGE_SIZE; a cursor names the record kind so that one list's
 * cursor is refused by another.
 *
 * In a street or finer, the count reads the caller's children first (`ofChildrenInJurisdiction`),
 * at the cost of the area's children whatever other streets hold. A district's count is left to
 * the planner (`inJurisdiction`): reading its 100,000 children first cost ~200 ms at 1M children
 * even when the filter matched nothing, which the planner found from the record's own columns in
 * ~15 ms; and a district is a large share of the city's rows anyway. The page takes one of
 * two plans, chosen from the count, because Postgres cannot choose between them well: given
 * `ORDER BY id LIMIT n` it walked the table's primary key whenever it took the matches for spread
 * over the table — through every other street's records for a street's page (289 ms at 1M
 * children; 100,000 incidents in another street made it walk all of them). Record ids are random
 * UUIDs, so the matches are spread evenly through id order, and the walk is expected to read
 * `(first + 1) × rows in the table ÷ matches` records: a district's page of 50, about 500. When
 * that is more than WALK_ROWS, the page reads the matches behind an `OFFSET 0` fence (which keeps
 * the order and limit out of their plan) and sorts them.
 */
export async function paginate<T extends { id: string; minorId: string | null }>(
  ctx: HubContext,
  qb: SelectQueryBuilder<T>,
  kind: string,
  tests: FilterTests,
  first: number,
  after?: string | null,
): Promise<Page<T>> {
  requirePageSize(first, MAX_PAGE_SIZE);
  const meta = qb.expressionMap.mainAlias!.metadata;
  const scope = ctx.principal.region.length >= STREET_CODE_LENGTH ? ofChildrenInJurisdiction('r') : inJurisdiction('r');
  const counted: { total: number; rows: number } | undefined = await qb
    .clone()
    .andWhere(scope, jurisdictionParams(ctx))
    .select('COUNT(*)::int', 'total')
    .addSelect('(SELECT reltuples FROM pg_class WHERE oid = to_regclass(:table))', 'rows')
    .setParameter('table', meta.tablePath)
    .getRawOne();
  const totalCount = counted?.total ?? 0;
  // A table never analysed has no estimate (reltuples -1): the page is read as the count was
  // rather than walked an unknown distance.
  const tableRows = counted?.rows ?? -1;
  const walk = totalCount > 0 && tableRows > 0 && ((first + 1) * tableRows) / totalCount <= WALK_ROWS;
  const page = qb.clone().andWhere(walk ? inJurisdiction('r') : scope, jurisdictionParams(ctx));
  // `after: ""` is a cursor no page returned, refused like any other: not taken for the first page.
  if (after != null) {
    const raw = Buffer.from(after, 'base64url').toString();
    const id = raw.startsWith(`${kind}:`) ? raw.slice(kind.length + 1) : '';
    if (!isUuid(id)) throw badInput('after', 'not a cursor returned by this list');
    page.andWhere('r.id > :after', { after: id });
  }
  const [matching, params] = page.select('*').getQueryAndParameters();
  const rows = await entityReader(qb.connection, meta.target as new () => T, 'r').read(qb.connection, `ORDER BY r.id LIMIT $${params.length + 1}`, [...params, first + 1], {
    from: walk ? matching : `${matching} OFFSET 0`,
  });
  const nodes = rows.slice(0, first);
  const last = nodes[nodes.length - 1];
  // A first page of fewer than `first + 1` records holds every match, so a count under a filter
  // needs no further statement; on any other page it reads the matches' children, scoped as the
  // count was, and only when `totalCount` is asked.
  const whole = after == null && rows.length <= first;
  return {
    nodes,
    totalCount,
    nextCursor: rows.length > first && last ? Buffer.from(`${kind}:${last.id}`).toString('base64url') : null,
    tested: tests.tested,
    decidedBy: rows.map((r) => r.minorId),
    matchingChildren: async (limit) => {
      if (whole) return rows.map((r) => r.minorId);
      const found: { minor_id: string | null }[] = await qb.clone().andWhere(scope, jurisdictionParams(ctx)).select('r.minor_id', 'minor_id').limit(limit).getRawMany();
      return found.map((r) => r.minor_id);
    },
    childrenMatchedAtLeast: async (atLeast) => {
      const found: { minor_id: string | null }[] = await qb
        .clone()
        .andWhere(scope, jurisdictionParams(ctx))
        .select('r.minor_id', 'minor_id')
        .groupBy('r.minor_id')
        .having('COUNT(*) >= :atLeast', { atLeast })
        .getRawMany();
      return found.map((r) => r.minor_id);
    },
  };
}
