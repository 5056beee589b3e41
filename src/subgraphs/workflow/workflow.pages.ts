import type { ObjectLiteral, Repository } from 'typeorm';
import { canonicalId, isUuid } from '../../common/uuid';
import { badInput } from '../../errors/hub.exception';
import type { HubContext } from '../../server/hub.context';
import { type FilterRead, noteTested } from '../shared/filter-tests';
import { asSeenBy } from '../shared/jurisdiction';

/**
 * The `after` argument of the workflow lists. An accepted `after` tells the caller that its item
 * passes the list's filters now (still unacknowledged, still overdue, still of a status asked),
 * which the page before, however recent, told only of its own moment: so each list records its
 * filter's tests of the item's child as it does of each child it names. The item's sort key is no
 * new read: the page before showed it, and a page shows only its own items' keys. A refused
 * `after` the caller may see tells as much — its item does not pass the filters — so the list
 * records the same tests of its child (RefusedAfter); one the caller may not see records nothing,
 * and takes the same statements.
 */
export const AFTER = 'The id of the last item of the page before: the page goes on after it, in the list’s order. A page shorter than `first` is the last';
export const AFTER_CHILD = 'The child’s id (`minor { id }`) of the last item of the page before: the page goes on after it, in the list’s order. A page shorter than `first` is the last';

/** A list's row rule and filters for one alias of its table, with TypeORM's named parameters. */
export type ListRule = (alias: string) => { sql: string; params: Record<string, unknown> };

/** The ids a list gives as `after`, in the case Postgres prints them; null for what is no id, which matches no row. */
export const afterParam = (after: string) => (isUuid(after) ? canonicalId(after) : null);

/**
 * What a list records when its `after` item is refused: the list's rule without its filters (what
 * the caller may see of the table), and the tests its filters made of the item found so (`tells`).
 */
export interface RefusedAfter<T> {
  visible: ListRule;
  tells: (item: T) => Promise<void>;
}

/** A refused item of a list of records about children: its filters' `tested` recorded of its child, as the caller sees it (asSeenBy). */
export const testedOfItsChild = <T extends { minorId: string | null }>(ctx: HubContext, visible: ListRule, tested: readonly FilterRead[]): RefusedAfter<T> => ({
  visible,
  tells: async (item) => noteTested(ctx, (await asSeenBy(ctx, item)).minorId, tested),
});

/** A list's order: its sort key for one alias of its table, and which way it runs; ties go by id. */
export interface ListOrder {
  key: (alias: string) => string;
  direction: 'ASC' | 'DESC';
}

/**
 * One page of a workflow list in its `order`, in one statement. With `after`, the rows from that
 * item on in the list's order — the item itself first, then up to `limit` after it, its ties on
 * the key by id — where a subselect reads its key under the list's own rule: an item the caller
 * cannot see or the filters leave out (or an unknown id, or no id) has no key, the page no rows,
 * and is refused as one, in the same statement. The item is returned as the page's first row so
 * that the caller can record what its being accepted tells (`pageAfter` drops it from the answer).
 */
export async function inOrder<T extends ObjectLiteral & { id: string }>(
  repository: Repository<T>,
  order: ListOrder,
  rule: ListRule,
  limit: number,
  after: string | null | undefined,
  refused?: RefusedAfter<T>,
): Promise<T[]> {
  const list = rule('l');
  const sortKey = order.key('l');
  const page = repository.createQueryBuilder('l').where(list.sql, list.params);
  if (after != null) {
    const item = rule('prev');
    const itemKey = `(SELECT ${order.key('prev')} FROM ${repository.metadata.tablePath} prev WHERE prev.id = :after AND ${item.sql})`;
    const beyond = order.direction === 'DESC' ? '<' : '>';
    page.andWhere(`(${sortKey} ${beyond} ${itemKey} OR (${sortKey} = ${itemKey} AND l.id >= :after))`, { ...item.params, after: afterParam(after) });
  }
  const rows = await page
    .orderBy(sortKey, order.direction)
    .addOrderBy('l.id')
    .limit(after == null ? limit : limit + 1)
    .getMany();
  if (after != null && refused && !startsWithItem(rows, after, (r) => r.id)) {
    const visible = refused.visible('prev');
    const item = await repository.createQueryBuilder('prev').where('prev.id = :after', { after: afterParam(after) }).andWhere(visible.sql, visible.params).getOne();
    if (item) await refused.tells(item);
  }
  return fromItem(rows, after, (r) => r.id);
}

/** A page of a list ordered newest first (`<at> DESC, id`): `inOrder` by the time column `at`. */
export const newestFirst = <T extends ObjectLiteral & { id: string }>(
  repository: Repository<T>,
  at: string,
  rule: ListRule,
  limit: number,
  after: string | null | undefined,
  refused?: RefusedAfter<T>,
): Promise<T[]> => inOrder(repository, { key: (alias) => `${alias}.${at}`, direction: 'DESC' }, rule, limit, after, refused);

export const startsWithItem = <T>(rows: T[], after: string, idOf: (row: T) => string): boolean => rows.length > 0 && idOf(rows[0]) === canonicalId(after);

/**
 * Rows read from `after` on, as they must start: with the item itself, else `after` is no item of
 * the list as this caller, with these filters, reads it — refused alike whatever it is instead.
 */
export function fromItem<T>(rows: T[], after: string | null | undefined, idOf: (row: T) => string): T[] {
  if (after != null && !startsWithItem(rows, after, idOf)) {
    throw badInput('after', 'not an item of this list: pass the id of the last item of the page before');
  }
  return rows;
}

/** The page in rows read from `after` on (`fromItem`): without the item, which the page before ended with. */
export const pageAfter = <T>(rows: T[], after: string | null | undefined): T[] => (after == null ? rows : rows.slice(1));
