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

/** The `first` argument of a history list: HISTORY_PAGE when absent, checked by `historyPage`. */
export const HistoryFirst = () => Arg('first', () => Int, { defaultValue: HISTORY_PAGE });

/** The page size asked, or BAD_USER_INPUT outside 1..MAX_HISTORY_PAGE. */
export const historyPage = (first: number): number => requirePageSize(first, MAX_HISTORY_PAGE);

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

/** One DataLoader per page size asked in the request, made on first use: one statement per batch and size. */
export function byPageSize<V>(make: (first: number) => DataLoader<string, V>): (first: number) => DataLoader<string, V> {
  const loaders = new Map<number, DataLoader<string, V>>();
  return (first) => {
    let loader = loaders.get(first);
    if (!loader) loaders.set(first, (loader = make(first)));
    return loader;
  };
}
