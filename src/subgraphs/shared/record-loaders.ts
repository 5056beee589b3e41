import DataLoader from 'dataloader';
import type { DataSource, ObjectLiteral } from 'typeorm';
import { entityReader } from '../../db/entity-reader';
import type { HubContext } from '../../server/hub.context';
import { isUuid } from '../../common/uuid';
import { Access } from '../../policy/policy.types';
import { jurisdictionPattern } from '../registry/registry.loaders';
import type { ChildRecord } from './child-record';
import { inJurisdiction } from './jurisdiction';
import { boundedLists } from './list-limit';

export type Order = [property: string, direction: 'ASC' | 'DESC'][];

function groupBy<T>(rows: T[], key: (r: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = map.get(k);
    if (list) list.push(r);
    else map.set(k, [r]);
  }
  return map;
}

const column = (db: DataSource, entity: new () => unknown, property: string) => {
  const c = db.getMetadata(entity).findColumnWithPropertyName(property);
  if (!c) throw new Error(`${entity.name} has no column for ${property}`);
  return `r.${c.databaseName}`;
};
const orderBy = (db: DataSource, entity: new () => unknown, order: Order) =>
  [...order.map(([property, direction]) => `${column(db, entity, property)} ${direction}`), 'r.id ASC'].join(', ');

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

// Statement texts by entity, condition and order, built once: the loaders are made for every request.
const texts = new WeakMap<object, Map<string, string>>();
function text(db: DataSource, entity: new () => unknown, where: string, order: Order): string {
  let byEntity = texts.get(entity);
  if (!byEntity) texts.set(entity, (byEntity = new Map()));
  const key = `${where} ${JSON.stringify(order)}`;
  let t = byEntity.get(key);
  if (!t) byEntity.set(key, (t = `WHERE ${where} ORDER BY ${orderBy(db, entity, order)}`));
  return t;
}

/**
 * One statement per batch: a department's records of many children, the jurisdiction applied in
 * the statement itself (not only at reference resolution), ordered by `order` (as far as the caller
 * may read its fields) then id; a child's list longer than UNPAGED_LIST_LIMIT is refused. Prepared
 * (`EntityReader`, by keys): planning it cost Postgres five times its execution.
 */
export function recordsByMinor<T extends ChildRecord>(ctx: HubContext, entity: new () => T, order: Order): DataLoader<string, T[]> {
  const readable = readableOrder(ctx, entity, order);
  return new DataLoader<string, T[]>(async (ids) => {
    const valid = ids.filter(isUuid);
    const rows = valid.length
      ? await entityReader(ctx.db, entity, 'r').read(ctx.db, text(ctx.db, entity, `r.minor_id = ANY($1) AND ${inJurisdiction('r', '$2')}`, readable), [valid, jurisdictionPattern(ctx)], { byKeys: true })
      : [];
    return boundedLists(ids, groupBy(rows, (r) => r.minorId), entity.name);
  });
}

/**
 * Sub-records (actions of a report, visits of a plan) of parents already loaded under the
 * jurisdiction rule, one prepared statement per batch; ordered and bounded as `recordsByMinor`.
 */
export function recordsByParent<T extends ObjectLiteral>(ctx: HubContext, entity: new () => T, parentKey: keyof T & string, order: Order): DataLoader<string, T[]> {
  const readable = readableOrder(ctx, entity, order);
  return new DataLoader<string, T[]>(async (ids) => {
    const where = `${column(ctx.db, entity, parentKey)} = ANY($1)`;
    const rows = await entityReader(ctx.db, entity, 'r').read(ctx.db, text(ctx.db, entity, where, readable), [[...ids]], { byKeys: true });
    return boundedLists(ids, groupBy(rows, (r) => String(r[parentKey])), entity.name);
  });
}
