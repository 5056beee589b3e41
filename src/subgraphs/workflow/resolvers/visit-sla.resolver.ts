import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import { badInput } from '../../../errors/hub.exception';
import type { HubContext } from '../../../server/hub.context';
import { RiskLevel } from '../../registry/registry.enums';
import { OverdueVisit } from '../entities/overdue-visit.type';
import { jurisdiction } from '../workflow.loaders';
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
 * Children whose visit is overdue for their level, read from the registry's ledger (the due date
 * is kept there by each assessment and visit: RED now, ORANGE weekly, YELLOW monthly, BLUE
 * quarterly). Read-only: the workflow never writes registry tables.
 */
export async function overdueVisitRows(
  query: (sql: string, params: unknown[]) => Promise<OverdueRow[]>,
  regionPattern: string,
  now: Date,
  levels: readonly RiskLevel[],
  limit: number,
): Promise<OverdueRow[]> {
  return query(
    `SELECT m.id AS minor_id, m.risk_level, m.grid_code, m.next_visit_due, v.visited_at AS last_visit_at,
            coalesce(v.visitor, a.assessor) AS responsible_worker
       FROM registry.minor m
       LEFT JOIN LATERAL (SELECT visited_at, visitor FROM registry.visit WHERE minor_id = m.id ORDER BY visited_at DESC, id LIMIT 1) v ON TRUE
       LEFT JOIN LATERAL (SELECT assessor FROM registry.risk_assessment WHERE minor_id = m.id ORDER BY assessed_at DESC, id LIMIT 1) a ON TRUE
      WHERE m.grid_code LIKE $1 AND m.next_visit_due < $2 AND m.risk_level = ANY($3)
      ORDER BY array_position(ARRAY['RED','ORANGE','YELLOW','BLUE'], m.risk_level), m.next_visit_due, m.id
      LIMIT $4`,
    [regionPattern, now, levels, limit],
  );
}

@Resolver(() => OverdueVisit)
export class VisitSlaResolver {
  @Query(() => [OverdueVisit], { nullable: true, description: '分级保护: children whose visit is overdue, most urgent level first, then longest overdue' })
  async overdueVisits(
    @Ctx() ctx: HubContext,
    @Arg('regionCode', () => ID, { nullable: true, description: 'A region inside the caller’s jurisdiction; default all of it' }) regionCode?: string,
    @Arg('riskLevels', () => [RiskLevel], { nullable: true }) riskLevels?: RiskLevel[],
    @Arg('first', () => Int, { defaultValue: 100 }) first = 100,
  ): Promise<OverdueVisit[]> {
    ctx.policy.assertFilterable(ctx.subject, 'Minor.nextVisitDue', 'overdueVisits');
    let pattern = jurisdiction(ctx);
    if (regionCode != null) {
      ctx.policy.assertFilterable(ctx.subject, 'Minor.grid', 'regionCode');
      if (!/^\d{6,15}$/.test(regionCode) || !regionCode.startsWith(ctx.principal.region)) {
        throw badInput('regionCode', 'must be a region inside your jurisdiction');
      }
      pattern = `${regionCode}%`;
    }
    if (riskLevels?.length) ctx.policy.assertFilterable(ctx.subject, 'Minor.riskLevel', 'riskLevels');
    const levels = riskLevels?.length ? riskLevels : Object.values(RiskLevel);
    const rows = await overdueVisitRows((sql, p) => ctx.db.query(sql, p), pattern, ctx.now, levels, pageSize(first));
    return rows.map((r) => ({
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
