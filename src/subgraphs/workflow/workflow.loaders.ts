import DataLoader from 'dataloader';
import { HubContext, sliceLoaders } from '../../server/hub.context';
import { MandatoryReport } from './entities/mandatory-report.entity';
import { Referral } from './entities/referral.entity';
import { ReportTransition } from './entities/report-transition.entity';
import { Department } from '../../auth/principal';
import { OPEN_REFERRAL } from './workflow.enums';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: unknown): s is string => typeof s === 'string' && UUID.test(s);

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

function groupBy<T>(rows: T[], key: (r: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const r of rows) map.set(key(r), [...(map.get(key(r)) ?? []), r]);
  return map;
}

/** One statement per batch whatever the page size; every loader applies the row rules. */
function createWorkflowLoaders(ctx: HubContext) {
  const db = ctx.db;
  const byMinor = <T extends { minorId: string | null }>(load: (ids: string[]) => Promise<T[]>) =>
    new DataLoader<string, T[]>(async (ids) => {
      const grouped = groupBy(await load(ids.filter(isUuid)), (r) => r.minorId!);
      return ids.map((id) => grouped.get(id) ?? []);
    });
  const openToMe = () =>
    db
      .getRepository(Referral)
      .createQueryBuilder('r')
      .where('r.to_department = :dept', { dept: ctx.principal.department })
      .andWhere('r.status = ANY(:open)', { open: OPEN_REFERRAL })
      .andWhere('r.region_code LIKE :jurisdiction', { jurisdiction: jurisdiction(ctx) });

  return {
    /** Open referrals addressed to the caller's department, per child: the request's field grants. */
    openReferralsByMinor: byMinor((ids) => openToMe().andWhere('r.minor_id = ANY(:ids)', { ids }).getMany()),
    openReferralById: new DataLoader<string, boolean>(async (ids) => {
      const valid = ids.filter(isUuid);
      const found = valid.length ? await openToMe().andWhere('r.id = ANY(:ids)', { ids: valid }).select('r.id').getMany() : [];
      const open = new Set(found.map((r) => r.id));
      return ids.map((id) => open.has(id));
    }),
    referralsByMinor: byMinor((ids) => {
      const v = referralVisibility(ctx);
      return db
        .getRepository(Referral)
        .createQueryBuilder('r')
        .where(v.sql, v.params)
        .andWhere('r.minor_id = ANY(:ids)', { ids })
        .orderBy('r.created_at', 'DESC')
        .addOrderBy('r.id')
        .getMany();
    }),
    reportsByMinor: byMinor((ids) =>
      db
        .getRepository(MandatoryReport)
        .createQueryBuilder('m')
        .where('m.region_code LIKE :jurisdiction', { jurisdiction: jurisdiction(ctx) })
        .andWhere('m.minor_id = ANY(:ids)', { ids })
        .orderBy('m.received_at', 'DESC')
        .addOrderBy('m.id')
        .getMany(),
    ),
    /** Keyed by reports already loaded under the jurisdiction rule. */
    transitionsByReport: new DataLoader<string, ReportTransition[]>(async (ids) => {
      const rows = await db
        .getRepository(ReportTransition)
        .createQueryBuilder('t')
        .where('t.report_id = ANY(:ids)', { ids: [...ids] })
        .orderBy('t.at')
        .addOrderBy('t.id')
        .getMany();
      const grouped = groupBy(rows, (t) => t.reportId);
      return ids.map((id) => grouped.get(id) ?? []);
    }),
  };
}

export type WorkflowLoaders = ReturnType<typeof createWorkflowLoaders>;
export const workflowLoaders = (ctx: HubContext): WorkflowLoaders => sliceLoaders(ctx, 'workflow', createWorkflowLoaders);
