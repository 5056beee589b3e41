import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import { isRegionCode, requireSomeValues } from '../../../common/validation';
import { badInput } from '../../../errors/hub.exception';
import type { HubContext } from '../../../server/hub.context';
import { RiskLevel } from '../../registry/registry.enums';
import { assessmentsNewestFirst, gravestFirst, isMinorAt } from '../../registry/registry.loaders';
import { FilterTests, noteTested } from '../../shared/filter-tests';
import { minorInJurisdiction, NO_CHILD } from '../../shared/jurisdiction';
import { canonicalId, isUuid } from '../../../common/uuid';
import { OverdueVisit } from '../entities/overdue-visit.type';
import { jurisdiction } from '../workflow.loaders';
import { AFTER_CHILD, afterParam, fromItem, pageAfter, startsWithItem } from '../workflow.pages';
import { pageSize } from './report.resolver';

interface OverdueRow {
  minor_id: string;
  risk_level: RiskLevel;
  grid_code: string;
  next_visit_due: Date;
  last_visit_at: Date | null;
  responsible_worker: string | null;
}

/**
 * The `VISIT_OVERDUE` dedupe key of a child, due date and the grid told, `VISIT_OVERDUE:<minor id>:<due
 * date as Date#toISOString()>:<grid>` (the job appends `:<department>` per recipient). Kept in one
 * place because the job's query rebuilds it in SQL (`visitOverdueKeySql`) to leave out children
 * already told. The grid is part of it: a child told overdue and then moved, still overdue by the
 * same date (a move changes no due date), was taken as told, and its new grid's civil affairs never
 * learnt of the lapse, while the old grid's notice no longer names the child to anyone.
 */
export const visitOverdueKey = (minorId: string, due: Date, gridCode: string) => `VISIT_OVERDUE:${minorId}:${new Date(due).toISOString()}:${gridCode}`;
/**
 * The same key in SQL: `to_char(… AT TIME ZONE 'UTC', …MS"Z")` truncates to the millisecond exactly
 * as node-pg's parse of a `timestamptz` does, so both spell one due date alike.
 */
const visitOverdueKeySql = `'VISIT_OVERDUE:' || m.id || ':' || to_char(m.next_visit_due AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || ':' || m.grid_code`;

/**
 * Children whose visit is overdue for their level, read from the registry's ledger (the due date
 * is kept there by each assessment and visit: RED now, ORANGE weekly, YELLOW monthly, BLUE
 * quarterly). Read-only: the workflow never writes registry tables. `untoldTo` (the job): only
 * children some of these departments have not yet been told about for their current due date
 * (no `VISIT_OVERDUE` notification with that dedupe key), so that a job taking them a batch at a
 * time reaches every one instead of the same first batch again, and none of `except` (those the
 * run has tried: one that failed waits for the next pass). `after` (the list's pages): the
 * rows from that child on, the child itself first (`fromItem`), its key read by a subselect under
 * the same conditions, so that a child not in this list has none and the page no rows.
 */
export async function overdueVisitRows(
  query: (sql: string, params: unknown[]) => Promise<OverdueRow[]>,
  regionPattern: string,
  now: Date,
  levels: readonly RiskLevel[],
  limit: number,
  only:
    | { untoldTo: readonly string[]; except: readonly string[]; after?: undefined; refused?: undefined }
    | { untoldTo?: undefined; except?: undefined; after?: string | null; refused?: (after: string) => Promise<void> } = {},
): Promise<OverdueRow[]> {
  // With `after`, the child itself comes first and `limit` more after it, as in `inOrder`.
  const params: unknown[] = [regionPattern, now, levels, only.after != null ? limit + 1 : limit];
  const overdue = (m: string) => `${m}.grid_code LIKE $1 AND ${isMinorAt(`${m}.birth_date`, '$2')} AND ${m}.next_visit_due < $2 AND ${m}.risk_level = ANY($3)`;
  const key = (m: string) => `${gravestFirst(`${m}.risk_level`)}, ${m}.next_visit_due, ${m}.id`;
  let also = '';
  if (only.untoldTo) {
    params.push(only.untoldTo);
    also += ` AND EXISTS (SELECT 1 FROM unnest($${params.length}::text[]) d(department) WHERE NOT EXISTS (
              SELECT 1 FROM workflow.notification n WHERE n.dedupe_key = ${visitOverdueKeySql} || ':' || d.department))`;
    params.push(only.except);
    also += ` AND m.id <> ALL($${params.length}::uuid[])`;
  }
  if (only.after != null) {
    params.push(afterParam(only.after));
    also += ` AND (${key('m')}) >= (SELECT ${key('prev')} FROM registry.minor prev WHERE prev.id = $${params.length} AND ${overdue('prev')})`;
  }
  const rows = await query(
    `SELECT m.id AS minor_id, m.risk_level, m.grid_code, m.next_visit_due, v.visited_at AS last_visit_at,
            coalesce(v.visitor, a.assessor) AS responsible_worker
       FROM registry.minor m
       LEFT JOIN LATERAL (SELECT visited_at, visitor FROM registry.visit WHERE minor_id = m.id ORDER BY visited_at DESC, id LIMIT 1) v ON TRUE
       LEFT JOIN LATERAL (SELECT assessor FROM registry.risk_assessment WHERE minor_id = m.id ORDER BY ${assessmentsNewestFirst()} LIMIT 1) a ON TRUE
      WHERE ${overdue('m')}${also}
      ORDER BY ${key('m')}
      LIMIT $4`,
    params,
  );
  if (only.after != null && only.refused && !startsWithItem(rows, only.after, (r) => r.minor_id)) await only.refused(only.after);
  return fromItem(rows, only.after, (r) => r.minor_id);
}

@Resolver(() => OverdueVisit)
export class VisitSlaResolver {
  @Query(() => [OverdueVisit], { nullable: true, description: '分级保护: children whose visit is overdue, most urgent level first, then longest overdue' })
  async overdueVisits(
    @Ctx() ctx: HubContext,
    @Arg('regionCode', () => ID, { nullable: true, description: 'A region inside the caller’s jurisdiction; default all of it' }) regionCode?: string,
    @Arg('riskLevels', () => [RiskLevel], { nullable: true }) riskLevels?: RiskLevel[],
    @Arg('first', () => Int, { defaultValue: 100 }) first = 100,
    @Arg('after', () => ID, { nullable: true, description: AFTER_CHILD }) after?: string | null,
  ): Promise<OverdueVisit[]> {
    const tests = new FilterTests(ctx);
    tests.check('Minor.nextVisitDue', 'overdueVisits');
    let pattern = jurisdiction(ctx);
    if (regionCode != null) {
      tests.check('Minor.grid', 'regionCode');
      if (!isRegionCode(regionCode) || !regionCode.startsWith(ctx.principal.region)) {
        throw badInput('regionCode', 'must be a region inside your jurisdiction');
      }
      pattern = `${regionCode}%`;
    }
    // The list runs gravest level first whether or not levels are asked, so its order alone ranks
    // the children it names by level: a read of each one's level, selected or not.
    tests.check('Minor.riskLevel', riskLevels != null ? 'riskLevels' : 'overdueVisits');
    const levels = riskLevels == null ? Object.values(RiskLevel) : requireSomeValues('riskLevels', riskLevels);
    const rows = await overdueVisitRows((sql, p) => ctx.db.query(sql, p), pattern, ctx.now, levels, pageSize(first), {
      after,
      // Refused, a child of the caller's is known not to be: as much a read (AFTER in workflow.pages).
      // Asked for no id too (NO_CHILD), as for an unknown one: the same statements.
      refused: async (id) => {
        const child = await minorInJurisdiction(ctx, isUuid(id) ? canonicalId(id) : NO_CHILD);
        if (child) noteTested(ctx, child.id, tests.tested);
      },
    });
    // Each child listed is known to be overdue (and of a level asked): a read of what was tested.
    // So is the `after` child, whose being accepted is a test of it (AFTER in workflow.pages).
    for (const r of rows) noteTested(ctx, r.minor_id, tests.tested);
    return pageAfter(rows, after).map((r) => ({
      minorId: r.minor_id,
      minor: { id: r.minor_id },
      riskLevel: r.risk_level,
      gridCode: r.grid_code,
      nextVisitDue: r.next_visit_due,
      lastVisitAt: r.last_visit_at,
      daysOverdue: Math.floor((ctx.now.getTime() - new Date(r.next_visit_due).getTime()) / 86_400_000),
      responsibleWorker: r.responsible_worker,
    }));
  }
}
