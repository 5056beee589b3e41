import DataLoader from 'dataloader';
import type { ObjectLiteral } from 'typeorm';
import { groupBy } from '../../common/group-by';
import { isUuid } from '../../common/uuid';
import { entityReader } from '../../db/entity-reader';
import { HubContext, sliceLoaders } from '../../server/hub.context';
import { MandatoryReport } from './entities/mandatory-report.entity';
import { Referral } from './entities/referral.entity';
import { ReportTransition } from './entities/report-transition.entity';
import { Department } from '../../auth/principal';
import { OPEN_REFERRAL } from './workflow.enums';
import { historyList, pageStatement, rankedBy } from '../shared/history-page';
import { boundedLists } from '../shared/list-limit';

/** LIKE pattern of the caller's jurisdiction subtree (codes are digits only). */
export const jurisdiction = (ctx: HubContext) => `${ctx.principal.region}%`;

/**
 * Row rule of referrals: the departments on it see it, civil affairs (the lead) sees every one;
 * always inside the caller's jurisdiction over the region it was addressed to.
 */
export function referralVisibility(ctx: HubContext, alias = 'r'): { sql: string; params: Record<string, unknown> } {
  const dept = ctx.principal.department;
  const party = dept === Department.CIVIL_AFFAIRS ? 'TRUE' : `(${alias}.from_department = :dept OR ${alias}.to_department = :dept)`;
  return { sql: `${party} AND ${alias}.region_code LIKE :jurisdiction`, params: { dept, jurisdiction: jurisdiction(ctx) } };
}

/**
 * A condition written with TypeORM's named parameters (`:name`) for a statement with positional ones,
 * numbered from `first`; parameters it does not mention are left out, as Postgres requires of a
 * prepared statement. (`::` casts are not parameters.)
 */
function positional(sql: string, params: Record<string, unknown>, first: number): { sql: string; values: unknown[] } {
  const values: unknown[] = [];
  const numbers = new Map<string, number>();
  const out = sql.replace(/(?<![:\w]):([A-Za-z_]\w*)/g, (_, name: string) => {
    if (!(name in params)) throw new Error(`no value for parameter :${name}`);
    let n = numbers.get(name);
    if (n === undefined) numbers.set(name, (n = first + values.push(params[name]) - 1));
    return `$${n}`;
  });
  return { sql: out, values };
}

/** One statement per batch whatever the page size; every loader applies the row rules. */
function createWorkflowLoaders(ctx: HubContext) {
  const db = ctx.db;
  // A child's reports, referrals and transitions: prepared by keys (EntityReader), not planned per call.
  const read = <T extends ObjectLiteral>(entity: new () => T, alias: string, rest: string, params: unknown[]) =>
    entityReader(db, entity, alias).read(db, rest, params, { byKeys: true });
  /**
   * The pages asked of each child's rows `where` selects (with `params` from $2), a page of
   * children in one statement: ranked per child by a window function (history-page.ts).
   */
  const newestByMinor = <T extends { minorId: string | null; id: string }>(entity: new () => T, where: string, order: string, params: unknown[]) => {
    const ranked = `SELECT r.*, ${rankedBy('r.minor_id', order)} FROM ${db.getMetadata(entity).tablePath} r WHERE r.minor_id = ANY($1) AND ${where}`;
    return historyList(async (ids, batch) => {
      const { from, rest, params: paging } = pageStatement(ranked, 'minor_id', 'r', params.length + 2, batch);
      return groupBy(await entityReader(db, entity, 'r').read(db, rest, [ids, ...params, ...paging], { from, byKeys: true }), (r) => r.minorId!);
    });
  };
  const visible = referralVisibility(ctx);
  const referralRule = positional(visible.sql, visible.params, 2);
  const openToMe = () =>
    db
      .getRepository(Referral)
      .createQueryBuilder('r')
      .where('r.to_department = :dept', { dept: ctx.principal.department })
      .andWhere('r.status = ANY(:open)', { open: OPEN_REFERRAL })
      .andWhere('r.region_code LIKE :jurisdiction', { jurisdiction: jurisdiction(ctx) });

  return {
    /** Each open referral to the caller's department, by id (its child, type and referrer: the request's field grant); null for any other id. */
    openReferralById: new DataLoader<string, Pick<Referral, 'minorId' | 'type' | 'fromDepartment' | 'toDepartment'> | null>(async (ids) => {
      const valid = ids.filter(isUuid);
      const found = valid.length ? await openToMe().andWhere('r.id = ANY(:ids)', { ids: valid }).select(['r.id', 'r.minorId', 'r.type', 'r.fromDepartment', 'r.toDepartment']).getMany() : [];
      const byId = new Map(found.map((r) => [r.id, r]));
      // The reference exactly as the hub writes the id: a spelling in capitals finds nothing (docs/workflows.md).
      return ids.map((id) => byId.get(id) ?? null);
    }),
    referralsByMinor: newestByMinor(Referral, referralRule.sql, 'r.created_at DESC, r.id', referralRule.values),
    reportsByMinor: newestByMinor(MandatoryReport, 'r.region_code LIKE $2', 'r.received_at DESC, r.id', [jurisdiction(ctx)]),
    /**
     * Keyed by reports already loaded under the jurisdiction rule. Whole, not paged: a report takes
     * at most three steps (REPORT_TRANSITIONS has no cycle, each step is taken under the report's
     * row lock), far below the bound of unpaged lists, which stays as a backstop. Steps at one
     * instant (a step is recorded no earlier than the one before it: `stepTime`) go in the order
     * they were taken, which the status they left tells, not by their random ids.
     */
    transitionsByReport: new DataLoader<string, ReportTransition[]>(async (ids) => {
      const rows = await read(ReportTransition, 't', `WHERE t.report_id = ANY($1) ORDER BY t.at, array_position(ARRAY['RECEIVED','VERIFYING','HANDLED'], t.from_status), t.id`, [[...ids]]);
      return boundedLists(ids, groupBy(rows, (t) => t.reportId), ReportTransition.name);
    }),
  };
}

export type WorkflowLoaders = ReturnType<typeof createWorkflowLoaders>;
export const workflowLoaders = (ctx: HubContext): WorkflowLoaders => sliceLoaders(ctx, 'workflow', createWorkflowLoaders);
