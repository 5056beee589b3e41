import { HubErrorCode, HubException } from '../../errors/hub.exception';

/**
 * The most items a list without a page size answers for one parent (a child's categories or
 * guardians, a department's records of the child, a record's sub-records). The cost limit prices
 * such a list at a handful of items (UNPAGED_LIST_SIZE, or the bound the domain keeps): a list far
 * longer than that was answered whole, and one read of a child whose list had been grown on purpose
 * answered hundreds of KB through a limit that counted five. Above it the field is refused for that
 * parent, so the client knows the list is not whole; it is never cut short.
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
