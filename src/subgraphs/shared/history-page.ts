import DataLoader from 'dataloader';
import { Arg, Int } from 'type-graphql';
import { requirePageSize } from '../../common/validation';

/**
 * A child's history — the registry's visits and assessments, each department's records of the
 * child, a record's sub-records, the child's referrals and mandatory reports — is answered a page
 * at a time, newest first: it grows for as long as the child is followed (weekly 儿童之家
 * attendance is 52 rows a year, a referrer can add as many referrals as it likes), and a whole
 * list refused past UNPAGED_LIST_LIMIT could no longer be read by anyone. The cost limit prices
 * each list by the page asked.
 */
export const HISTORY_PAGE = 20;
export const MAX_HISTORY_PAGE = 100;

/** The `first` argument of a history list: HISTORY_PAGE when absent, checked by the list (`historyList`). */
export const HistoryFirst = () => Arg('first', () => Int, { defaultValue: HISTORY_PAGE });

/**
 * A history list's description: newest first to whoever may read the date it is ordered by, by id
 * to anyone else (record-loaders.ts `readableOrder`).
 */
export const historyOf = (what: string) => `${what}: the first \`first\` (1–${MAX_HISTORY_PAGE}), newest first`;

/**
 * The rank of a row in its parent's list, numbered in the statement by a window function: a batch
 * of parents is still read in one statement, each answering the first `first` of its own rows.
 */
export const rankedBy = (parent: string, order: string) => `row_number() OVER (PARTITION BY ${parent} ORDER BY ${order}) AS rank`;

/**
 * A history list of a request: `list(first).load(parent)` answers the parent's first `first` rows;
 * `list(first)` refuses a page size outside 1..MAX_HISTORY_PAGE (BAD_USER_INPUT).
 */
export type HistoryList<V> = (first: number) => { load(parent: string): Promise<V[]> };

/**
 * One DataLoader per list and request, keyed by parent and page size, whatever sizes the request
 * asks: a batch is one statement for all its parents, `newest(parents, first)` ranking each
 * parent's rows up to the largest `first` of the batch, and each key is answered its parent's rows
 * (in rank order) cut to its own `first`. A loader per page size made one statement per distinct
 * `first`: aliases `visits(first: 1)` … `visits(first: 100)` under a page of children cost 100
 * statements, each ranking every row of the page, which the cost limit (a statement priced at
 * least ROOT_FIELD_COST) did not see.
 */
export function historyList<V>(newest: (parents: string[], first: number) => Promise<Map<string, V[]>>): HistoryList<V> {
  const loader = new DataLoader<{ parent: string; first: number }, V[], string>(
    async (keys) => {
      // Not Math.max(...keys): a batch (1000 children, aliases of a list) may hold more keys than a call takes arguments.
      const rows = await newest([...new Set(keys.map((k) => k.parent))], keys.reduce((most, k) => Math.max(most, k.first), 0));
      return keys.map((k) => (rows.get(k.parent) ?? []).slice(0, k.first));
    },
    { cacheKeyFn: (k) => `${k.first} ${k.parent}` },
  );
  return (first) => {
    requirePageSize(first, MAX_HISTORY_PAGE);
    return { load: (parent) => loader.load({ parent, first }) };
  };
}
