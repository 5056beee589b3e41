import { HubErrorCode, HubException } from '../../errors/hub.exception';

/**
 * The most items a list without a page size answers for one parent. Such lists are those the
 * domain keeps short — a child's guardians (MAX_GUARDIANS at write) and categories (one of each),
 * a report's steps (the state machine's three) — while whatever grows with a child's history is
 * paged (history-page.ts). The cost limit prices an unpaged list at a handful of items
 * (UNPAGED_LIST_SIZE, or the bound the domain keeps): a list far longer than that, written past
 * the API, would be answered whole through a limit that counted five. Above it the field is
 * refused for that parent, so the client knows the list is not whole; it is never cut short.
 */
export const UNPAGED_LIST_LIMIT = 50;

/**
 * Each key's rows, as a DataLoader answers them, with LIMIT_EXCEEDED in place of a list longer
 * than UNPAGED_LIST_LIMIT: the field resolved from it is refused on that path (and audited as
 * refused), the rest of the answer served.
 */
export function boundedLists<T>(keys: readonly string[], grouped: ReadonlyMap<string, T[]>, what: string): (T[] | HubException)[] {
  return keys.map((key) => {
    const rows = grouped.get(key) ?? [];
    return rows.length > UNPAGED_LIST_LIMIT
      ? new HubException(HubErrorCode.LIMIT_EXCEEDED, `More than ${UNPAGED_LIST_LIMIT} ${what} records in one list are not served`)
      : rows;
  });
}
