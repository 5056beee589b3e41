import DataLoader from 'dataloader';
import { Arg, ID, Int } from 'type-graphql';
import { canonicalId, isUuid } from '../../common/uuid';
import { requirePageSize } from '../../common/validation';
import { badInput } from '../../errors/hub.exception';

/**
 * A child's history — the registry's visits and assessments, each department's records of the
 * child, a record's sub-records, the child's referrals and mandatory reports — is answered a page
 * at a time, newest first: it grows for as long as the child is followed (weekly 儿童之家
 * attendance is 52 rows a year, a referrer can add as many referrals as it likes), and a whole
 * list refused past UNPAGED_LIST_LIMIT could no longer be read by anyone. The cost limit prices
 * each list by the page asked. `after` walks on past the first page: a child followed for years
 * has more than MAX_HISTORY_PAGE rows in a list, and every one of them must be readable.
 */
export const HISTORY_PAGE = 20;
export const MAX_HISTORY_PAGE = 100;

/** The `first` argument of a history list: HISTORY_PAGE when absent, checked by the list (`historyList`). */
export const HistoryFirst = () => Arg('first', () => Int, { defaultValue: HISTORY_PAGE });

/**
 * The `after` argument of a history list: the id of the last row of the page before, in the list's
 * order as this caller reads it (newest first, or by id: `historyOf`).
 */
export const HISTORY_AFTER =
  'The id of the last row of the page before: the page goes on with the rows after it, in this list’s order as the caller reads it. A page shorter than `first` is the last';
export const HistoryAfter = () => Arg('after', () => ID, { nullable: true, description: HISTORY_AFTER });

/**
 * One refusal for every `after` that is not a row of this parent's list as this caller reads it —
 * another child's row, a row of another list, one outside the caller's jurisdiction or row rule,
 * an unknown id, no id at all — so that the refusal tells nothing of what the id is instead.
 */
export const notInList = () => badInput('after', 'not a row of this list: pass the id of the last row of the page before');

/**
 * A history list's description: newest first to whoever may read the date it is ordered by, by id
 * to anyone else (record-loaders.ts `readableOrder`); `after` pages on in the same order.
 */
export const historyOf = (what: string) =>
  `${what}: the first \`first\` (1–${MAX_HISTORY_PAGE}), newest first (by id to a caller who may not read the date), or with \`after\` the next \`first\` after that row`;

/**
 * The rank of a row in its parent's list, numbered in the statement by a window function: a batch
 * of parents is still read in one statement, each answering the first `first` of its own rows.
 */
export const rankedBy = (parent: string, order: string) => `row_number() OVER (PARTITION BY ${parent} ORDER BY ${order}) AS rank`;

/**
 * The pages of a batch with a cursor among them, as a statement's parameters: one entry per key (a
 * parent, and a page of its list) — the parent, the cursor (null for a first page) and the page
 * size, in three arrays of the same length, unnested together by `pagesOf`.
 */
export type PageParams = [parents: string[], afters: (string | null)[], firsts: number[]];

/** What a batch asks of its parents' lists: the first `first` of each, or with a cursor among its keys every page (`pages`). */
export interface BatchPages {
  first: number;
  pages: PageParams | null;
}

/**
 * SQL, a subquery of the rows of every page of a batch: `ranked` selects the parents' rows (`r.*`
 * and `rankedBy` as `rank`, `parent` the parent's column among them, the rows' key `id`), and
 * `$n`…`$n+2` hold the batch's `PageParams`. A key's page is its parent's rows ranked in (c, c +
 * first], c the rank of its `after` among that parent's rows (0 without one); the cursor row itself
 * comes too, which tells the cursor is a row of that list. A cursor that is not ranks no row, and
 * its key selects nothing. Rows in order of rank per parent: a page is the `first` rows following
 * its cursor (or the first `first`), whatever other pages of the parent the batch holds, since
 * each page's rows are contiguous ranks.
 */
function pagesOf(ranked: string, parent: string, n: number): string {
  return (
    `WITH ranked AS (${ranked}), ` +
    `page AS (SELECT k.parent, k.after, k.first, CASE WHEN k.after IS NULL THEN 0 ELSE c.rank END AS at ` +
    `FROM unnest($${n}::uuid[], $${n + 1}::uuid[], $${n + 2}::int[]) AS k(parent, after, first) ` +
    `LEFT JOIN ranked c ON c.id = k.after AND c.${parent} = k.parent) ` +
    `SELECT ranked.* FROM ranked WHERE EXISTS (SELECT 1 FROM page WHERE page.parent = ranked.${parent} ` +
    `AND (ranked.id = page.after OR (ranked.rank > page.at AND ranked.rank <= page.at + page.first)))`
  );
}

/**
 * A batch's statement over `ranked` (aliased `alias` by its reader; its own parameters up to
 * `$n-1`): first pages only — what nearly every request asks — read as `rank <= first`, which
 * Postgres stops each parent's ranking at; with a cursor among the keys, `pagesOf` (a third more
 * per statement, measured on the 1M data set, for the unnest and the ranked rows read twice).
 */
export function pageStatement(ranked: string, parent: string, alias: string, n: number, batch: BatchPages): { from: string; rest: string; params: unknown[] } {
  return batch.pages
    ? { from: pagesOf(ranked, parent, n), rest: `ORDER BY ${alias}.rank`, params: batch.pages }
    : { from: ranked, rest: `WHERE ${alias}.rank <= $${n} ORDER BY ${alias}.rank`, params: [batch.first] };
}

/**
 * A history list of a request: `list(first, after).load(parent)` answers the parent's first `first`
 * rows, or with `after` the `first` rows that follow that row; `list(first, after)` refuses a page
 * size outside 1..MAX_HISTORY_PAGE and an `after` that is no id, `load` an `after` that is not a
 * row of the parent's list (BAD_USER_INPUT, `notInList`).
 */
export type HistoryList<V> = (first: number, after?: string | null) => { load(parent: string): Promise<V[]> };

interface PageKey {
  parent: string;
  first: number;
  after: string | null;
}

/**
 * One DataLoader per list and request, keyed by parent, page size and cursor, whatever pages the
 * request asks: a batch is one statement for all its parents and pages, `pages(parents, batch)`
 * answering each parent's rows of every page asked of it (`pageStatement`), in rank order, and each key
 * is answered the `first` rows after its cursor among them (or its parent's first `first`). A
 * loader per page size or cursor made one statement per distinct one: aliases `visits(first: 1)`
 * … `visits(first: 100)` under a page of children cost 100 statements, each ranking every row of
 * the page, which the cost limit (a statement priced at least ROOT_FIELD_COST) did not see.
 */
export function historyList<V extends { id: string }>(pages: (parents: string[], batch: BatchPages) => Promise<Map<string, V[]>>): HistoryList<V> {
  const loader = new DataLoader<PageKey, V[], string>(
    async (keys) => {
      // A parent that is no id has no rows (and would not pass as a uuid[] parameter).
      const asked = keys.filter((k) => isUuid(k.parent));
      // Not Math.max(...keys): a batch (1000 children, aliases of a list) may hold more keys than a call takes arguments.
      const first = asked.reduce((most, k) => Math.max(most, k.first), 0);
      const cursors = asked.some((k) => k.after !== null);
      const batch: BatchPages = { first, pages: cursors ? [asked.map((k) => k.parent), asked.map((k) => k.after), asked.map((k) => k.first)] : null };
      const rows = asked.length ? await pages([...new Set(asked.map((k) => k.parent))], batch) : new Map<string, V[]>();
      return keys.map((k): V[] | Error => {
        const list = rows.get(k.parent) ?? [];
        if (k.after === null) return list.slice(0, k.first);
        const at = list.findIndex((r) => r.id === k.after);
        return at < 0 ? notInList() : list.slice(at + 1, at + 1 + k.first);
      });
    },
    { cacheKeyFn: (k) => `${k.first} ${k.after} ${k.parent}` },
  );
  return (first, after) => {
    requirePageSize(first, MAX_HISTORY_PAGE);
    if (after != null && !isUuid(after)) throw notInList();
    const cursor = after == null ? null : canonicalId(after);
    return { load: (parent) => loader.load({ parent, first, after: cursor }) };
  };
}
