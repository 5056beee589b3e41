import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import type { EntityManager } from 'typeorm';
import { badInput } from '../../../errors/hub.exception';
import type { HubContext } from '../../../server/hub.context';
import { DifficultyCategory, Gender, RegionLevel, RiskLevel } from '../../registry/registry.enums';
import { CubeSource, DimSpec, protectedTable, RegionNode, TableCell } from '../statistics.cube';
import { refreshedAt } from '../statistics.refresh';
import { categoryValues, checkLevel, foldsCategories, inJurisdiction, statisticsScope } from '../statistics.scope';
import { suppressSmall } from '../statistics.suppression';
import {
  AgeBand,
  CountCell,
  MonthlyTrend,
  RegionRates,
  StatisticsCell,
  StatisticsDimension,
  StatisticsFreshness,
  StatisticsMeasure,
  StatisticsRate,
  StatisticsRates,
  StatisticsRiskLevel,
  StatisticsScope,
  StatisticsTable,
  TrendSeries,
} from './types/statistics.types';

const MAX_TREND_MONTHS = 36;
const COMPLEMENT_DISPLAY = 'x';
const ASSESSED_LEVELS = [RiskLevel.RED, RiskLevel.ORANGE, RiskLevel.YELLOW, RiskLevel.BLUE];

/**
 * A hidden cell shows "<k" when it is small, and "x" when it is hidden only to protect another
 * (a complement): a street of 452 children must not be published as "<5".
 */
const countCell = (c: { value: number; suppressed: boolean }, k: number): CountCell =>
  c.suppressed
    ? { value: null, suppressed: true, display: c.value < k ? `<${k}` : COMPLEMENT_DISPLAY }
    : { value: c.value, suppressed: false, display: String(c.value) };

const MEASURE_COLUMN: Record<StatisticsMeasure, string> = {
  [StatisticsMeasure.MINORS]: 'minors',
  [StatisticsMeasure.OVERDUE_VISITS]: 'overdue',
};

/**
 * Every answer reads one snapshot (summaries can be refreshed concurrently), read-only: the
 * statistics subgraph never writes what it reports on.
 */
function inSnapshot<T>(ctx: HubContext, work: (em: EntityManager) => Promise<T>): Promise<T> {
  return ctx.db.transaction('REPEATABLE READ', async (em) => {
    await em.query('SET TRANSACTION READ ONLY');
    return work(em);
  });
}

function dimSpec(dim: StatisticsDimension, measure: StatisticsMeasure, folded: boolean): DimSpec {
  switch (dim) {
    case StatisticsDimension.RISK_LEVEL:
      // No visit falls due before an assessment: an UNASSESSED overdue cell is zero by definition,
      // and hiding that zero would force a needless complement into every row.
      return {
        column: 'risk_level',
        values: measure === StatisticsMeasure.OVERDUE_VISITS ? ASSESSED_LEVELS : Object.values(StatisticsRiskLevel),
        additive: true,
      };
    case StatisticsDimension.CATEGORY:
      return { column: 'category', values: categoryValues(folded), additive: false };
    case StatisticsDimension.AGE_BAND:
      return { column: 'age_band', values: Object.values(AgeBand), additive: true };
    case StatisticsDimension.GENDER:
      return { column: 'gender', values: Object.values(Gender), additive: true };
  }
}

/**
 * A rate from three protected cells of one table: the population and its MET / NOT_MET parts.
 * Those three are one line, so either all are published or at least two are hidden.
 */
function rateOf(k: number, denominator: TableCell, met: TableCell, notMet: TableCell): StatisticsRate {
  const suppressed = denominator.suppressed || met.suppressed || notMet.suppressed || denominator.value === 0;
  const percent = suppressed ? null : Math.round((met.value / denominator.value) * 1000) / 10;
  return {
    numerator: countCell(met, k),
    denominator: countCell(denominator, k),
    percent,
    suppressed,
    display: percent === null ? 'suppressed' : `${percent}%`,
  };
}

const OUTCOME = (values: readonly string[] = ['MET', 'NOT_MET']): DimSpec => ({ column: 'outcome', values, additive: true });

@Resolver()
export class StatisticsResolver {
  @Query(() => StatisticsTable, {
    nullable: true,
    description: 'Counts by region at `level` within the caller’s jurisdiction, broken down by `by`; small cells suppressed',
  })
  minorCounts(
    @Ctx() ctx: HubContext,
    @Arg('level', () => RegionLevel) level: RegionLevel,
    @Arg('by', () => [StatisticsDimension], { defaultValue: [] }) by: StatisticsDimension[],
    @Arg('measure', () => StatisticsMeasure, { defaultValue: StatisticsMeasure.MINORS }) measure: StatisticsMeasure,
  ): Promise<StatisticsTable> {
    if (new Set(by).size !== by.length) throw badInput('by', 'lists a dimension twice');
    return inSnapshot(ctx, async (em) => {
      const scope = await statisticsScope(em, ctx);
      checkLevel(ctx, scope, level);
      const folded = by.includes(StatisticsDimension.CATEGORY) && foldsCategories(ctx, level);
      const dims = by.map((d) => dimSpec(d, measure, folded));
      const byCategory = by.includes(StatisticsDimension.CATEGORY);
      const value = MEASURE_COLUMN[measure];
      const source: CubeSource = byCategory
        ? { table: 'statistics.category_cube', value, where: { sql: 'c.category = ANY($2)', params: [categoryValues(folded)] } }
        : { table: 'statistics.minor_cube', value };
      const at = await refreshedAt(em);
      const k = ctx.config.statistics.suppressionK;
      const common = { anchor: scope.anchor, nodes: scope.nodes, k, zeroIsSmall: true };
      const table = await protectedTable(em, { ...common, level, dims, source }, at);
      // Children with several categories count once per category, so a category table's cells
      // do not sum to its total; the total is the plain table's, protected like any other.
      const totalCell = byCategory
        ? (await protectedTable(em, { ...common, level: scope.node.level, dims: [], source: { table: 'statistics.minor_cube', value } }, at)).cell(scope.node.code, [])
        : table.cell(scope.node.code, by.map(() => null));
      const dimValue = (cell: TableCell, d: StatisticsDimension) => (by.includes(d) ? cell.values[by.indexOf(d)] : null);
      return {
        level,
        measure,
        dimensions: by,
        categoriesFolded: folded,
        refreshedAt: at,
        cells: table.cells
          .filter((c) => inJurisdiction(ctx, c.node.code))
          .map(
            (c): StatisticsCell => ({
              regionCode: c.node.code,
              regionName: c.node.name,
              riskLevel: dimValue(c, StatisticsDimension.RISK_LEVEL) as StatisticsRiskLevel | null,
              category: dimValue(c, StatisticsDimension.CATEGORY) as DifficultyCategory | null,
              ageBand: dimValue(c, StatisticsDimension.AGE_BAND) as AgeBand | null,
              gender: dimValue(c, StatisticsDimension.GENDER) as Gender | null,
              count: countCell(c, k),
            }),
          ),
        total: countCell(totalCell!, k),
      };
    });
  }

  @Query(() => StatisticsRates, { nullable: true, description: 'The plans’ rates per region at `level` and for the whole jurisdiction' })
  statisticsRates(@Ctx() ctx: HubContext, @Arg('level', () => RegionLevel) level: RegionLevel): Promise<StatisticsRates> {
    return inSnapshot(ctx, async (em) => {
      const scope = await statisticsScope(em, ctx);
      checkLevel(ctx, scope, level);
      const at = await refreshedAt(em);
      const k = ctx.config.statistics.suppressionK;
      // Rates publish zeros (0% and 100% are the indicator itself); small non-zero parts are suppressed.
      const common = { anchor: scope.anchor, nodes: scope.nodes, level, k, zeroIsSmall: false };
      const rateTable = (met: string, notMet: string, where?: CubeSource['where']) =>
        protectedTable(em, { ...common, dims: [OUTCOME()], source: { table: 'statistics.minor_cube', value: { met, notMet }, where } }, at);
      const screening = await rateTable('screened', 'minors - screened');
      const intervention = await rateTable('visited_since_assessment', 'minors - visited_since_assessment', {
        sql: `c.risk_level IN ('RED', 'ORANGE')`,
        params: [],
      });
      const assistance = await rateTable('assisted', 'with_category - assisted');
      const onTime = await protectedTable(em, {
        ...common,
        dims: [{ column: 'risk_level', values: ASSESSED_LEVELS, additive: true }, OUTCOME()],
        source: { table: 'statistics.minor_cube', value: { met: 'minors - overdue', notMet: 'overdue' }, where: { sql: 'c.risk_level = ANY($2)', params: [ASSESSED_LEVELS] } },
      }, at);
      const workflowRate = (met: string, notMet: string) =>
        protectedTable(em, { ...common, dims: [OUTCOME()], source: { table: 'statistics.workflow_cube', value: { met, notMet } } }, at);
      const reports = await workflowRate('reports_met', 'reports_not_met');
      const referrals = await workflowRate('referrals_met', 'referrals_not_met');
      const ratesOf = (node: RegionNode): RegionRates => {
        const simple = (t: Awaited<ReturnType<typeof rateTable>>) =>
          rateOf(k, t.cell(node.code, [null])!, t.cell(node.code, ['MET'])!, t.cell(node.code, ['NOT_MET'])!);
        return {
          regionCode: node.code,
          regionName: node.name,
          screening: simple(screening),
          intervention: simple(intervention),
          assistance: simple(assistance),
          visitsOnTime: ASSESSED_LEVELS.map((riskLevel) => ({
            riskLevel,
            rate: rateOf(k, onTime.cell(node.code, [riskLevel, null])!, onTime.cell(node.code, [riskLevel, 'MET'])!, onTime.cell(node.code, [riskLevel, 'NOT_MET'])!),
          })),
          reportsHandledInTime: simple(reports),
          referralsHandledInTime: simple(referrals),
        };
      };
      return {
        level,
        refreshedAt: at,
        regions: (scope.nodes.get(level) ?? []).filter((n) => inJurisdiction(ctx, n.code)).map(ratesOf),
        total: ratesOf(scope.node),
      };
    });
  }

  @Query(() => MonthlyTrend, { nullable: true, description: 'Events per month over the caller’s jurisdiction, the last `months` months to the refresh' })
  monthlyTrend(@Ctx() ctx: HubContext, @Arg('months', () => Int, { defaultValue: 12 }) months: number): Promise<MonthlyTrend> {
    if (!Number.isInteger(months) || months < 1 || months > MAX_TREND_MONTHS) throw badInput('months', `must be between 1 and ${MAX_TREND_MONTHS}`);
    return inSnapshot(ctx, async (em) => {
      const scope = await statisticsScope(em, ctx);
      // The trend is of the caller's own node: one finer than their finest level is refused like a table at it.
      checkLevel(ctx, scope, scope.node.level);
      const at = await refreshedAt(em);
      const k = ctx.config.statistics.suppressionK;
      const window: string[] = [];
      for (let i = months - 1; i >= 0; i--) {
        window.push(new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() - i, 1)).toISOString().slice(0, 7));
      }
      const rows: { month: string; series: TrendSeries; n: string }[] = await em.query(
        `SELECT to_char(month, 'YYYY-MM') AS month, series, sum(events)::bigint AS n
         FROM statistics.monthly_event
         WHERE district_code = $1 AND grid_code LIKE $2 AND month >= $3::date
         GROUP BY month, series`,
        [scope.anchor, `${ctx.principal.region}%`, `${window[0]}-01`],
      );
      const counts = new Map(rows.map((r) => [`${r.month}|${r.series}`, Number(r.n)]));
      // Calendar months are fixed, disjoint buckets and no window total is published, so there
      // is nothing to difference: primary suppression is enough here.
      const points = window.flatMap((month) =>
        Object.values(TrendSeries).map((series) => ({ month, series, cell: { value: counts.get(`${month}|${series}`) ?? 0, suppressed: false, fixed: false, order: 0 } })),
      );
      suppressSmall(points.map((p) => p.cell), k, true);
      return { refreshedAt: at, points: points.map((p) => ({ month: p.month, series: p.series, count: countCell(p.cell, k) })) };
    });
  }

  @Query(() => StatisticsFreshness, { nullable: true, description: 'When the statistics were last recomputed' })
  statisticsFreshness(@Ctx() ctx: HubContext): Promise<StatisticsFreshness> {
    return inSnapshot(ctx, async (em) => ({ refreshedAt: await refreshedAt(em), refreshIntervalSeconds: ctx.config.statistics.refreshSeconds }));
  }

  @Query(() => StatisticsScope, { nullable: true, description: 'The caller’s jurisdiction node, finest level and k' })
  statisticsScope(@Ctx() ctx: HubContext): Promise<StatisticsScope> {
    return inSnapshot(ctx, async (em) => {
      const scope = await statisticsScope(em, ctx);
      return { regionCode: scope.node.code, regionName: scope.node.name, level: scope.node.level, finestLevel: scope.finest, suppressionK: ctx.config.statistics.suppressionK };
    });
  }
}
