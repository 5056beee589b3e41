import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import type { EntityManager } from 'typeorm';
import { chinaDay } from '../../../common/dates';
import { readOnly } from '../../../db/commit-outcome';
import { badInput, forbidden, HubErrorCode, HubException } from '../../../errors/hub.exception';
import { Access } from '../../../policy/policy.types';
import type { HubContext } from '../../../server/hub.context';
import { YOUNGEST_WITH_CATEGORY } from '../../registry/registry.constants';
import { DifficultyCategory, Gender, RegionLevel, RiskLevel } from '../../registry/registry.enums';
import { CubeSource, DimSpec, protectedTable, RegionNode, TableCell, TableOptions } from '../statistics.cube';
import { STALE_INTERVALS, type Summaries, summariesOf } from '../statistics.refresh';
import { categoryValues, checkLevel, foldsCategories, inJurisdiction, readsVisits, statisticsScope, type StatisticsScope as Scope } from '../statistics.scope';
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
const HIDDEN_DISPLAY = 'x';
const ASSESSED_LEVELS = [RiskLevel.RED, RiskLevel.ORANGE, RiskLevel.YELLOW, RiskLevel.BLUE];

/**
 * Every hidden cell shows the same mark, whatever its value. Labelled "<k" when small and "x" when
 * a complement (at least k), hidden cells were bounded by their labels: a published 10 split into
 * two "x" cells was two fives.
 */
const countCell = (c: { value: number; suppressed: boolean }): CountCell =>
  c.suppressed ? { value: null, suppressed: true, display: HIDDEN_DISPLAY } : { value: c.value, suppressed: false, display: String(c.value) };

/**
 * Every count of minors, without categories, is a cell of one lattice per district: grids and
 * every coarser region × risk level × age band × gender, each summed over or not, and × whether
 * the child's visit is overdue (MET: on time, NOT_MET: overdue) by region and risk level only.
 * MINORS is that last dimension summed, OVERDUE_VISITS its NOT_MET value, a visits-on-time rate
 * its MET value over the sum — for those who read visits; the others' lattice is the counts alone
 * (`childrenLattice`). The lattice is protected as a whole (`joint`), with the registry's
 * rules as known zeros, so no question about it, nor any combination of them, shows what another
 * hides; every question is a view of it, cut to the caller's level, dimensions and jurisdiction.
 * (Overdue visits by age band or gender would multiply the lines every small on-time count
 * forces complements along, and hide most of the coarser figures with them.)
 */
const VISIT_STATUS: DimSpec = { column: 'outcome', values: ['MET', 'NOT_MET'], additive: true, with: ['risk_level'] };
const ON_TIME = 'MET';
const OVERDUE = 'NOT_MET';
const MEASURE_STATUS: Record<StatisticsMeasure, string | null> = {
  [StatisticsMeasure.MINORS]: null,
  [StatisticsMeasure.OVERDUE_VISITS]: OVERDUE,
};
const LATTICE_DIMENSIONS = [StatisticsDimension.RISK_LEVEL, StatisticsDimension.AGE_BAND, StatisticsDimension.GENDER];

/**
 * The registry's rules every reader knows: RED is due at once, so no RED child is on time, and
 * no visit falls due before an assessment, so no UNASSESSED child is overdue.
 */
const VISIT_RULES = [
  { risk_level: RiskLevel.RED, outcome: ON_TIME },
  { risk_level: StatisticsRiskLevel.UNASSESSED, outcome: OVERDUE },
];

/** The oldest age of each band. */
const BAND_OLDEST: Record<AgeBand, number> = { AGE_0_2: 2, AGE_3_5: 5, AGE_6_11: 11, AGE_12_14: 14, AGE_15_17: 17 };

/**
 * The categories' zeros every reader knows, as the registry keeps them (YOUNGEST_WITH_CATEGORY): no
 * child under school age has dropped out. Hidden as small, they were taken for complements: a
 * district's 0–2 and 3–5 DROPOUT hidden beside its 6–11 and 15–17 published left its 12–14 to
 * be solved by whoever knew them to be 0 — every reader.
 */
const CATEGORY_RULES = Object.entries(YOUNGEST_WITH_CATEGORY).flatMap(([category, youngest]) =>
  Object.values(AgeBand)
    .filter((band) => BAND_OLDEST[band] < youngest)
    .map((band) => ({ category, age_band: band })),
);

/**
 * The children's lattice a subject is served from. With the visit status only for those who read
 * visits (`Minor.nextVisitDue`): protected beside the overdue and on-time counts, the counts of
 * children a school, the Youth League or a dashboard is served were hidden or shown by those counts,
 * which they may not read — visits alone, the same children at the same levels, turned a school's
 * published count of a grid's RED children hidden and a hidden one published, telling it that the
 * grid's children had been visited. Their lattice is the counts alone, protected as a whole like the
 * other, as the categories are folded per subject. Two patterns of the same counts tell nothing to
 * whoever is served both (an officer who reads visits and a dashboard): such an officer counts every
 * cell exactly from the children it lists, and reads each child's visit status.
 */
function childrenLattice(scope: Scope, k: number, visits: boolean): TableOptions {
  return {
    anchor: scope.anchor,
    nodes: scope.nodes,
    level: RegionLevel.GRID,
    dims: [...LATTICE_DIMENSIONS.map((d) => dimSpec(d, false)), ...(visits ? [VISIT_STATUS] : [])],
    source: visits
      ? { table: 'statistics.minor_cube', value: { met: 'minors - overdue', notMet: 'overdue' }, knownZero: VISIT_RULES }
      : { table: 'statistics.minor_cube', value: 'minors' },
    k,
    zeroIsSmall: true,
    joint: true,
  };
}

/** Lattice order of a category table's dimensions, whatever order a caller lists them in. */
const DIMENSION_ORDER = [StatisticsDimension.CATEGORY, StatisticsDimension.RISK_LEVEL, StatisticsDimension.AGE_BAND, StatisticsDimension.GENDER];

/** A cell of the children's lattice: one value per dimension (null: summed over), and the visit status in a lattice with it. */
const childrenCell = (risk: string | null, age: string | null, gender: string | null, status: string | null, visits = true) =>
  visits ? [risk, age, gender, status] : [risk, age, gender];

/**
 * Every answer reads one snapshot (summaries can be refreshed concurrently), read-only: the
 * statistics subgraph never writes what it reports on. The fields of one request run side by side,
 * each in a snapshot of its own: one that sees other summaries than the request's first (a refresh
 * committed between them) is refused, retryably, rather than answered beside the others — a page
 * printed one refresh's time over another's tables, and its margins did not add up to its rows.
 */
function inSnapshot<T>(ctx: HubContext, work: (em: EntityManager, summaries: Summaries) => Promise<T>): Promise<T> {
  return ctx.db.transaction('REPEATABLE READ', async (em) => {
    await readOnly(em);
    const summaries = await summariesOf(em);
    const first = ctx.loaders.get(REQUEST_SUMMARIES) as Summaries | undefined;
    if (!first) ctx.loaders.set(REQUEST_SUMMARIES, summaries);
    else if (first.generation !== summaries.generation || first.at.getTime() !== summaries.at.getTime()) {
      throw new HubException(HubErrorCode.STATISTICS_REFRESHED, 'The statistics were refreshed while this request was answered: send it again for figures of one refresh');
    }
    return work(em, summaries);
  });
}

/** The summaries the request's first statistics field read (`inSnapshot`), in its loaders: per request. */
const REQUEST_SUMMARIES = 'statistics-summaries';

function dimSpec(dim: StatisticsDimension, folded: boolean): DimSpec {
  switch (dim) {
    case StatisticsDimension.RISK_LEVEL:
      return { column: 'risk_level', values: Object.values(StatisticsRiskLevel), additive: true };
    case StatisticsDimension.CATEGORY:
      return { column: 'category', values: categoryValues(folded), additive: false };
    case StatisticsDimension.AGE_BAND:
      return { column: 'age_band', values: Object.values(AgeBand), additive: true };
    case StatisticsDimension.GENDER:
      return { column: 'gender', values: Object.values(Gender), additive: true };
  }
}

/**
 * One decimal, but 100 % only when every one counts and 0 % only when none does: the plans' targets
 * are 100 % (排查分类率、干预率、救助率), and rounded to the nearest tenth 11,995 of 12,000 children
 * screened read "100%" — the target met, with five children unscreened.
 */
function percentOf(met: number, of: number): number {
  const percent = Math.round((met / of) * 1000) / 10;
  if (percent === 100 && met < of) return 99.9;
  if (percent === 0 && met > 0) return 0.1;
  return percent;
}

/**
 * A rate from three protected cells of one table: the population and its MET / NOT_MET parts.
 * Those three are one line, so either all are published or at least two are hidden. A numerator
 * is never shown beside a hidden population: a rate's table hides its parts with their whole
 * (`rate` in statistics.cube.ts); the children's lattice publishes RED's on-time 0 there, which the
 * registry's rule tells every reader, and a numerator of "0 of x" reads as a rate all the same.
 */
function rateOf(denominator: TableCell, met: TableCell, notMet: TableCell): StatisticsRate {
  const suppressed = denominator.suppressed || met.suppressed || notMet.suppressed || denominator.value === 0;
  const percent = suppressed ? null : percentOf(met.value, denominator.value);
  return {
    numerator: countCell({ value: met.value, suppressed: met.suppressed || denominator.suppressed }),
    denominator: countCell(denominator),
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
    if (measure === StatisticsMeasure.OVERDUE_VISITS && !readsVisits(ctx, 'Minor.nextVisitDue')) {
      throw forbidden(`Overdue visits are counted from Minor.nextVisitDue, which ${ctx.subject} may not read`, { field: 'Minor.nextVisitDue', argument: 'measure' });
    }
    return inSnapshot(ctx, async (em, summaries) => {
      const scope = await statisticsScope(em, ctx);
      checkLevel(ctx, scope, level);
      const byCategory = by.includes(StatisticsDimension.CATEGORY);
      const status = MEASURE_STATUS[measure];
      // Overdue children by category would be linked to the children by category through every
      // RED child (overdue by definition) in tables that are protected one by one: not published.
      if (byCategory && status !== null) throw badInput('measure', 'overdue visits are not broken down by category');
      if (status !== null && by.some((d) => d !== StatisticsDimension.RISK_LEVEL)) throw badInput('measure', 'overdue visits are broken down by risk level only');
      const folded = byCategory && foldsCategories(ctx);
      const at = summaries.at;
      const k = ctx.config.statistics.suppressionK;
      // OVERDUE_VISITS is refused above to whoever reads no visits: `status` is then null.
      const visits = readsVisits(ctx, 'Minor.nextVisitDue');
      const children = await protectedTable(em, childrenLattice(scope, k, visits), summaries);
      const total = children.cell(scope.node.code, childrenCell(null, null, null, status, visits))!;
      let cells: TableCell[];
      let dimValue: (cell: TableCell, d: StatisticsDimension) => string | null;
      if (byCategory) {
        // Children with several categories count once per category, so a category table's cells
        // do not sum to its total (the children's lattice's), nor form lines with any other table.
        const dims = DIMENSION_ORDER.filter((d) => by.includes(d));
        const table = await protectedTable(em, {
          anchor: scope.anchor,
          nodes: scope.nodes,
          level,
          dims: dims.map((d) => dimSpec(d, folded)),
          source: { table: 'statistics.category_cube', value: 'minors', where: { sql: 'c.category = ANY($2)', params: [categoryValues(folded)] }, knownZero: CATEGORY_RULES },
          k,
          zeroIsSmall: true,
          within: { of: childrenLattice(scope, k, visits), columns: ['risk_level', 'age_band', 'gender'] },
        }, summaries);
        cells = table.cells(level, dims.map(() => true));
        dimValue = (cell, d) => (dims.includes(d) ? cell.values[dims.indexOf(d)] : null);
      } else {
        // No child is overdue before an assessment: overdue tables list the assessed levels only.
        cells = children
          .cells(level, [...LATTICE_DIMENSIONS.map((d) => by.includes(d)), ...(visits ? [status !== null] : [])])
          .filter((c) => (c.values[LATTICE_DIMENSIONS.length] ?? null) === status && !(status === OVERDUE && c.values[0] === StatisticsRiskLevel.UNASSESSED));
        dimValue = (cell, d) => (LATTICE_DIMENSIONS.includes(d) ? cell.values[LATTICE_DIMENSIONS.indexOf(d)] : null);
      }
      return {
        level,
        measure,
        dimensions: by,
        categoriesFolded: folded,
        refreshedAt: at,
        cells: cells
          .filter((c) => inJurisdiction(ctx, c.node.code))
          .map(
            (c): StatisticsCell => ({
              regionCode: c.node.code,
              regionName: c.node.name,
              riskLevel: dimValue(c, StatisticsDimension.RISK_LEVEL) as StatisticsRiskLevel | null,
              category: dimValue(c, StatisticsDimension.CATEGORY) as DifficultyCategory | null,
              ageBand: dimValue(c, StatisticsDimension.AGE_BAND) as AgeBand | null,
              gender: dimValue(c, StatisticsDimension.GENDER) as Gender | null,
              count: countCell(c),
            }),
          ),
        total: countCell(total),
      };
    });
  }

  @Query(() => StatisticsRates, { nullable: true, description: 'The plans’ rates per region at `level` and for the whole jurisdiction' })
  statisticsRates(@Ctx() ctx: HubContext, @Arg('level', () => RegionLevel) level: RegionLevel): Promise<StatisticsRates> {
    return inSnapshot(ctx, async (em, summaries) => {
      const scope = await statisticsScope(em, ctx);
      checkLevel(ctx, scope, level);
      const at = summaries.at;
      const k = ctx.config.statistics.suppressionK;
      // The rates of children are the counts' cells, or protected with the counts' cells as their
      // populations, and suppress zeros as the counts do: a published zero numerator or
      // population (no child screened, none with a category) would show zeros the counts hide.
      const common = { anchor: scope.anchor, nodes: scope.nodes, level, k, zeroIsSmall: true as const, rate: true };
      const visits = readsVisits(ctx, 'Minor.nextVisitDue');
      const children = childrenLattice(scope, k, visits);
      const cellOf = (risk: string | null, status: string | null = null) => childrenCell(risk, null, null, status, visits);
      const rateTable = (met: string, notMet: string, where?: CubeSource['where'], population?: TableOptions['population'], within?: TableOptions['within']) =>
        protectedTable(em, { ...common, dims: [OUTCOME()], source: { table: 'statistics.minor_cube', value: { met, notMet }, where }, population, within }, summaries);
      const screening = await rateTable('screened', 'minors - screened', undefined, { of: children, ways: [[cellOf(null)]] });
      // The rates counted from visits are not computed for a subject the policy refuses them
      // (null with FORBIDDEN on their path, from the policy's rows).
      const serves = (field: 'intervention' | 'assistance' | 'visitsOnTime') => ctx.policy.access(ctx.subject, `RegionRates.${field}`) === Access.ALLOW;
      const intervention = serves('intervention')
        ? await rateTable(
            'visited_since_assessment',
            'minors - visited_since_assessment',
            { sql: `c.risk_level IN ('RED', 'ORANGE')`, params: [] },
            {
              of: children,
              ways: [
                [RiskLevel.RED, RiskLevel.ORANGE].map((r) => cellOf(r)),
                [cellOf(null), ...[RiskLevel.YELLOW, RiskLevel.BLUE, StatisticsRiskLevel.UNASSESSED].map((r) => cellOf(r))],
              ],
            },
          )
        : null;
      // Children with a category are counted nowhere else: that population is protected on its own.
      const assistance = serves('assistance') ? await rateTable('assisted', 'with_category - assisted', undefined, undefined, { of: children, columns: [] }) : null;
      // Served only with `Minor.nextVisitDue` (PARTS_OF): from the lattice with the visit status.
      const onTime = serves('visitsOnTime') && visits ? await protectedTable(em, children, summaries) : null;
      // Reports and referrals are events, not children, and no count shares their cells: their
      // rates publish a numerator of zero beside a published denominator (0% and 100% are the
      // indicator itself), but hide a denominator of zero as the trend hides a month without one.
      const workflowRate = (met: string, notMet: string) =>
        protectedTable(
          em,
          { ...common, zeroIsSmall: 'wholes', dims: [OUTCOME()], source: { table: 'statistics.workflow_cube', value: { met, notMet }, placedAbove: true } },
          summaries,
        );
      const reports = await workflowRate('reports_met', 'reports_not_met');
      const referrals = await workflowRate('referrals_met', 'referrals_not_met');
      const ratesOf = (node: RegionNode): RegionRates => {
        const simple = (t: Awaited<ReturnType<typeof rateTable>>) =>
          rateOf(t.cell(node.code, [null])!, t.cell(node.code, ['MET'])!, t.cell(node.code, ['NOT_MET'])!);
        return {
          regionCode: node.code,
          regionName: node.name,
          screening: simple(screening),
          intervention: intervention ? simple(intervention) : null,
          assistance: assistance ? simple(assistance) : null,
          visitsOnTime: onTime
            ? ASSESSED_LEVELS.map((riskLevel) => ({
                riskLevel,
                rate: rateOf(
                  onTime.cell(node.code, cellOf(riskLevel))!,
                  onTime.cell(node.code, cellOf(riskLevel, ON_TIME))!,
                  onTime.cell(node.code, cellOf(riskLevel, OVERDUE))!,
                ),
              }))
            : null,
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
    return inSnapshot(ctx, async (em, summaries) => {
      const scope = await statisticsScope(em, ctx);
      // The trend is of the caller's own node: one finer than their finest level is refused like a table at it.
      checkLevel(ctx, scope, scope.node.level);
      const at = summaries.at;
      const k = ctx.config.statistics.suppressionK;
      // Months in China, as monthly_event buckets them (statistics.china_day). An event counts in
      // the trend of the region it is placed at and of that region's ancestors (a report filed for
      // a street, a referral made at one: the street's and the district's, no community's).
      const [year, month] = chinaDay(at).split('-').map(Number);
      const window: string[] = [];
      for (let i = months - 1; i >= 0; i--) {
        window.push(new Date(Date.UTC(year, month - 1 - i, 1)).toISOString().slice(0, 7));
      }
      const rows: { month: string; series: TrendSeries; n: string }[] = await em.query(
        `SELECT to_char(month, 'YYYY-MM') AS month, series, sum(events)::bigint AS n
         FROM statistics.monthly_event
         WHERE district_code = $1 AND region_code LIKE $2 AND month >= $3::date
         GROUP BY month, series`,
        [scope.anchor, `${ctx.principal.region}%`, `${window[0]}-01`],
      );
      const counts = new Map(rows.map((r) => [`${r.month}|${r.series}`, Number(r.n)]));
      // Calendar months are fixed, disjoint buckets and the trend publishes no window total: its
      // cells are suppressed one by one. The node's count of children can act as the NEW_CASES
      // total of a young registry, and consecutive refreshes differ by what changed: both left to
      // the owner (docs/statistics.md, residual risks).
      // Visits a month are visit history: not a series at all for those who may not read it.
      const series = Object.values(TrendSeries).filter((s) => s !== TrendSeries.VISITS || readsVisits(ctx, 'Visit.visitedAt'));
      const points = window.flatMap((month) =>
        series.map((series) => ({ month, series, cell: { value: counts.get(`${month}|${series}`) ?? 0, suppressed: false, fixed: false, order: 0 } })),
      );
      suppressSmall(points.map((p) => p.cell), k, true);
      return { refreshedAt: at, points: points.map((p) => ({ month: p.month, series: p.series, count: countCell(p.cell) })) };
    });
  }

  @Query(() => StatisticsFreshness, { nullable: true, description: 'When the statistics were last recomputed' })
  statisticsFreshness(@Ctx() ctx: HubContext): Promise<StatisticsFreshness> {
    const interval = ctx.config.statistics.refreshSeconds;
    return inSnapshot(ctx, async (em, summaries) => {
      // Judged on the database's clock, which stamped the summaries (refreshStatistics).
      const [{ stale }] = interval === 0 ? [{ stale: null }] : await em.query(`SELECT $1::timestamptz < now() - make_interval(secs => $2) AS stale`, [summaries.at, interval * STALE_INTERVALS]);
      return { refreshedAt: summaries.at, refreshIntervalSeconds: interval, stale };
    });
  }

  @Query(() => StatisticsScope, { nullable: true, description: 'The caller’s jurisdiction node, finest level and k' })
  statisticsScope(@Ctx() ctx: HubContext): Promise<StatisticsScope> {
    return inSnapshot(ctx, async (em) => {
      const scope = await statisticsScope(em, ctx);
      return { regionCode: scope.node.code, regionName: scope.node.name, level: scope.node.level, finestLevel: scope.finest, suppressionK: ctx.config.statistics.suppressionK };
    });
  }
}
