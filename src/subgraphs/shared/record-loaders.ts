import DataLoader from 'dataloader';
import type { ObjectLiteral } from 'typeorm';
import type { HubContext } from '../../server/hub.context';
import { isUuid } from '../registry/registry.loaders';
import type { ChildRecord } from './child-record';
import { inJurisdiction, jurisdictionParams } from './jurisdiction';

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

/**
 * One statement per batch: a department's records of many children, the jurisdiction applied in
 * the statement itself (not only at reference resolution), ordered by `order` then id.
 */
export function recordsByMinor<T extends ChildRecord>(ctx: HubContext, entity: new () => T, order: Order): DataLoader<string, T[]> {
  return new DataLoader<string, T[]>(async (ids) => {
    const valid = ids.filter(isUuid);
    let rows: T[] = [];
    if (valid.length) {
      const qb = ctx.db
        .getRepository(entity)
        .createQueryBuilder('r')
        .where('r.minor_id = ANY(:ids)', { ids: valid })
        .andWhere(inJurisdiction('r'), jurisdictionParams(ctx));
      for (const [property, direction] of order) qb.addOrderBy(`r.${property}`, direction);
      rows = await qb.addOrderBy('r.id', 'ASC').getMany();
    }
    const grouped = groupBy(rows, (r) => r.minorId);
    return ids.map((id) => grouped.get(id) ?? []);
  });
}

/**
 * Sub-records (actions of a report, visits of a plan) of parents already loaded under the
 * jurisdiction rule, one statement per batch.
 */
export function recordsByParent<T extends ObjectLiteral>(ctx: HubContext, entity: new () => T, parentKey: keyof T & string, order: Order): DataLoader<string, T[]> {
  return new DataLoader<string, T[]>(async (ids) => {
    const qb = ctx.db.getRepository(entity).createQueryBuilder('r').where(`r.${parentKey} = ANY(:ids)`, { ids: [...ids] });
    for (const [property, direction] of order) qb.addOrderBy(`r.${property}`, direction);
    const rows = await qb.addOrderBy('r.id', 'ASC').getMany();
    const grouped = groupBy(rows, (r) => String(r[parentKey]));
    return ids.map((id) => grouped.get(id) ?? []);
  });
}
