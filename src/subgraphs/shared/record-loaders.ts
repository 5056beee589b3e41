import type { DataSource, ObjectLiteral } from 'typeorm';
import { groupBy } from '../../common/group-by';
import { entityReader } from '../../db/entity-reader';
import type { HubContext } from '../../server/hub.context';
import { Access } from '../../policy/policy.types';
import { jurisdictionPattern } from '../registry/registry.loaders';
import type { ChildRecord } from './child-record';
import { inJurisdiction } from './jurisdiction';
import { BatchPages, historyList, HistoryList, pageStatement, rankedBy } from './history-page';

export type Order = [property: string, direction: 'ASC' | 'DESC'][];

const column = (db: DataSource, entity: new () => unknown, property: string) => {
  const c = db.getMetadata(entity).findColumnWithPropertyName(property);
  if (!c) throw new Error(`${entity.name} has no column for ${property}`);
  return c.databaseName;
};
const orderBy = (db: DataSource, entity: new () => unknown, order: Order) =>
  [...order.map(([property, direction]) => `r.${column(db, entity, property)} ${direction}`), 'r.id ASC'].join(', ');

/**
 * The part of a list's order this caller may see: the order tells how the records compare on its
 * fields, read or not, so a field the caller may not read exactly (e.g. schools and
 * IdentityVerification.verifiedOn) drops out and the id decides — a random UUID, it tells nothing.
 */
function readableOrder(ctx: HubContext, entity: new () => unknown, order: Order): Order {
  return order.filter(([property]) => {
    const key = `${entity.name}.${property}`;
    if (!ctx.policy.row(key)) throw new Error(`${key} orders a list but has no policy row`);
    return ctx.policy.access(ctx.subject, key) === Access.ALLOW;
  });
}

// Statement texts by entity, parent, condition and order, built once: the loaders are made for every request.
const texts = new WeakMap<object, Map<string, string>>();
function ranked(db: DataSource, entity: new () => unknown, parent: string, where: string, order: Order): string {
  let byEntity = texts.get(entity);
  if (!byEntity) texts.set(entity, (byEntity = new Map()));
  const key = `${parent} ${where} ${JSON.stringify(order)}`;
  let t = byEntity.get(key);
  if (!t) {
    t = `SELECT r.*, ${rankedBy(`r.${parent}`, orderBy(db, entity, order))} FROM ${db.getMetadata(entity).tablePath} r WHERE ${where}`;
    byEntity.set(key, t);
  }
  return t;
}

/**
 * The rows of each page asked (history-page.ts `pageStatement`) of a batch of parents, in one
 * statement (`EntityReader`, prepared by keys: planning it cost Postgres five times its execution);
 * `where` selects the rows, its parameters `params`, the batch's the next ones. `parent` is the
 * parent's column.
 */
function pagesOfEach<T extends ObjectLiteral>(ctx: HubContext, entity: new () => T, parent: string, where: string, order: Order, params: unknown[], batch: BatchPages): Promise<T[]> {
  const { from, rest, params: paging } = pageStatement(ranked(ctx.db, entity, parent, where, order), parent, 'r', params.length + 1, batch);
  return entityReader(ctx.db, entity, 'r').read(ctx.db, rest, [...params, ...paging], { from, byKeys: true });
}

/**
 * A department's records of many children, a page of each (history-page.ts): one statement per
 * batch whatever the page sizes, the jurisdiction applied in the statement itself (not only at
 * reference resolution), ordered by `order` as far as the caller may read its fields, then id — so
 * that for a caller who may not read the date the pages go by id, and so does `after`.
 */
export function recordsByMinor<T extends ChildRecord>(ctx: HubContext, entity: new () => T, order: Order): HistoryList<T> {
  const readable = readableOrder(ctx, entity, order);
  return historyList(async (ids, batch) => {
    const where = `r.minor_id = ANY($1) AND ${inJurisdiction('r', '$2')}`;
    return groupBy(await pagesOfEach(ctx, entity, 'minor_id', where, readable, [ids, jurisdictionPattern(ctx)], batch), (r) => r.minorId);
  });
}

/**
 * Sub-records (actions of a report, visits of a plan) of parents already loaded under the
 * jurisdiction rule, a page of each parent's, ordered as `recordsByMinor`.
 */
export function recordsByParent<T extends ObjectLiteral & { id: string }>(ctx: HubContext, entity: new () => T, parentKey: keyof T & string, order: Order): HistoryList<T> {
  const readable = readableOrder(ctx, entity, order);
  const parent = column(ctx.db, entity, parentKey);
  return historyList(async (ids, batch) => {
    const rows = await pagesOfEach(ctx, entity, parent, `r.${parent} = ANY($1)`, readable, [ids], batch);
    return groupBy(rows, (r) => String(r[parentKey]));
  });
}
