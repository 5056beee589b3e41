import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { SENSITIVE_CATEGORIES } from '../src/policy/masks';
import { RegionLevel } from '../src/subgraphs/registry/registry.enums';
import { Policy } from '../src/policy/policy';
import { ALL_DEPARTMENTS, policyRow } from '../src/policy/policy.types';
import { buildPolicy } from '../src/server/bootstrap';
import { FIELD_GRANTS } from '../src/subgraphs';
import { REFRESH_LOCK, refreshStatistics, statisticsSubgraph } from '../src/subgraphs/statistics';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';
import { addMinors } from './support/statistics-fixtures';

/**
 * Aggregated views: counts against raw GROUP BYs on the registry, suppression, the differencing
 * guard, geography and jurisdiction limits, category folding, freshness and audit.
 */
const K = 5;
const DISTRICT = '330102';
/** Added by this test: a community of 53 children in three grids (3 + 20 + 30) in street 1 … */
const STREET1 = '330102001';
const COMMUNITY4 = '330102001004';
const GRIDS4 = { [`${COMMUNITY4}001`]: 3, [`${COMMUNITY4}002`]: 20, [`${COMMUNITY4}003`]: 30 };
/** … and a street of 3 children. */
const STREET6 = '330102006';
const GRID6 = '330102006001001';

/** Age on the refresh date in China, as the summaries compute it. */
const AGE = `date_part('year', age(statistics.china_day(now()), m.birth_date))`;
const AGE_BAND = `CASE WHEN ${AGE} < 3 THEN 'AGE_0_2' WHEN ${AGE} < 6 THEN 'AGE_3_5' WHEN ${AGE} < 12 THEN 'AGE_6_11' WHEN ${AGE} < 15 THEN 'AGE_12_14' ELSE 'AGE_15_17' END`;
const UNDER_18 = `${AGE} BETWEEN 0 AND 17`;

const CELL = 'value suppressed display';
type Cell = { value: number | null; suppressed: boolean; display: string };

describe('statistics', () => {
  let t: TestHub;
  let dashboard: string;

  async function addRegion(code: string, parent: string, level: string) {
    await t.sql(`INSERT INTO registry.region (code, parent_code, level, name) VALUES ($1, $2, $3, $4)`, [code, parent, level, `测试${code.slice(-3)}`]);
  }

  beforeAll(async () => {
    t = await startTestHub();
    await addRegion(COMMUNITY4, STREET1, 'COMMUNITY');
    for (const [grid, n] of Object.entries(GRIDS4)) {
      await addRegion(grid, COMMUNITY4, 'GRID');
      await addMinors(t, grid, n);
    }
    await addRegion(STREET6, DISTRICT, 'STREET');
    await addRegion(GRID6.slice(0, 12), STREET6, 'COMMUNITY');
    await addRegion(GRID6, GRID6.slice(0, 12), 'GRID');
    await addMinors(t, GRID6, 3);
    await refreshStatistics(t.hub.db.ds);
    dashboard = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD });
  });
  afterAll(() => t.stop());

  async function counts(token: string, args: string, fields = 'regionCode riskLevel category ageBand gender'): Promise<{ cells: any[]; total: Cell; categoriesFolded: boolean }> {
    const r = await t.gql(token, `{ minorCounts(${args}) { categoriesFolded total { ${CELL} } cells { ${fields} count { ${CELL} } } } }`);
    expect(r.errors).toBeUndefined();
    return r.data.minorCounts;
  }

  /** Published values are the truth; small true values are never published. */
  function expectMatches(cells: any[], truth: Map<string, number>, key: (c: any) => string) {
    expect(cells.length).toBeGreaterThan(0);
    for (const c of cells) {
      const real = truth.get(key(c)) ?? 0;
      if (c.count.suppressed) expect([c.count.value, c.count.display]).toEqual([null, 'x']);
      else expect(c.count.value).toBe(real);
      if (real < K) expect(c.count.suppressed).toBe(true);
    }
  }

  const truthOf = async (sql: string, params: unknown[] = []) =>
    new Map((await t.sql(sql, params)).map((r: any) => [r.k as string, Number(r.n)]));

  it('counts by street and risk level match a raw GROUP BY on the registry', async () => {
    const table = await counts(dashboard, 'level: STREET, by: [RISK_LEVEL]');
    const truth = await truthOf(
      `SELECT left(grid_code, 9) || '|' || coalesce(risk_level, 'UNASSESSED') AS k, count(*) AS n FROM registry.minor m WHERE ${UNDER_18} GROUP BY 1`,
    );
    expect(table.cells).toHaveLength(5 * 5);
    expectMatches(table.cells, truth, (c) => `${c.regionCode}|${c.riskLevel}`);
    const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM registry.minor m WHERE ${UNDER_18}`);
    expect(table.total).toEqual({ value: n, suppressed: false, display: String(n) });
  });

  it('counts by age band × gender and by category match raw GROUP BYs', async () => {
    const byAge = await counts(dashboard, 'level: STREET, by: [AGE_BAND, GENDER]');
    const ageTruth = await truthOf(
      `SELECT left(grid_code, 9) || '|' || ${AGE_BAND} || '|' || gender AS k, count(*) AS n FROM registry.minor m WHERE ${UNDER_18} GROUP BY 1`,
    );
    expectMatches(byAge.cells, ageTruth, (c) => `${c.regionCode}|${c.ageBand}|${c.gender}`);
    expect(byAge.cells.some((c) => !c.count.suppressed)).toBe(true);

    // A dashboard gets the sensitive categories as NEEDS_SUPPORT (distinct children with any of them).
    const byCategory = await counts(dashboard, 'level: DISTRICT, by: [CATEGORY]');
    const categoryTruth = await truthOf(
      `SELECT CASE WHEN c.category = ANY($1) THEN 'NEEDS_SUPPORT' ELSE c.category END AS k, count(DISTINCT m.id) AS n
       FROM registry.minor_category c JOIN registry.minor m ON m.id = c.minor_id WHERE ${UNDER_18} GROUP BY 1`,
      [[...SENSITIVE_CATEGORIES]],
    );
    expect(byCategory.categoriesFolded).toBe(true);
    expect(byCategory.cells).toHaveLength(15);
    expectMatches(byCategory.cells, categoryTruth, (c) => c.category);
  });

  it('overdue visits by street and risk level match the registry’s due dates', async () => {
    const table = await counts(await t.token(Department.CIVIL_AFFAIRS), 'level: STREET, by: [RISK_LEVEL], measure: OVERDUE_VISITS');
    const [{ at }] = await t.sql(`SELECT refreshed_at AS at FROM statistics.refresh`);
    const truth = await truthOf(
      `SELECT left(grid_code, 9) || '|' || risk_level AS k, count(*) AS n FROM registry.minor m WHERE ${UNDER_18} AND next_visit_due < $1 GROUP BY 1`,
      [at],
    );
    expect(new Set(table.cells.map((c) => c.riskLevel))).toEqual(new Set(['RED', 'ORANGE', 'YELLOW', 'BLUE']));
    expectMatches(table.cells, truth, (c) => `${c.regionCode}|${c.riskLevel}`);
  });

  describe('suppression', () => {
    /** The district's children by street and gender, from the registry. */
    async function streetGenderTruth() {
      return truthOf(
        `SELECT k, n FROM (
           SELECT left(grid_code, 9) || '|' || gender AS k, count(*) AS n FROM registry.minor m WHERE ${UNDER_18} GROUP BY 1
           UNION ALL SELECT left(grid_code, 9) || '|*', count(*) FROM registry.minor m WHERE ${UNDER_18} GROUP BY 1
           UNION ALL SELECT 'D|' || gender, count(*) FROM registry.minor m WHERE ${UNDER_18} GROUP BY 1
           UNION ALL SELECT 'D|*', count(*) FROM registry.minor m WHERE ${UNDER_18}) x`,
      );
    }

    it('hides a small street together with a complement, so the district total does not reveal it', async () => {
      const streets = await counts(dashboard, 'level: STREET');
      const hidden = streets.cells.filter((c) => c.count.suppressed);
      // Street 6 (3 children) is below k; hiding it alone, district − visible streets would be 3.
      expect(hidden.map((c) => c.regionCode)).toContain(STREET6);
      expect(hidden.length).toBeGreaterThanOrEqual(2);
      const visibleSum = streets.cells.reduce((s, c) => s + (c.count.value ?? 0), 0);
      const difference = streets.total.value! - visibleSum;
      expect(difference).toBeGreaterThanOrEqual(K);
      expect(difference).not.toBe(3);
      // One complement: the next-smallest street.
      const smallestOther = streets.cells.filter((c) => c.regionCode !== STREET6).sort((a, b) => (a.count.value ?? Infinity) - (b.count.value ?? Infinity));
      expect(hidden).toHaveLength(2);
      expect(hidden.find((c) => c.regionCode !== STREET6)!.regionCode).toBe(smallestOther[smallestOther.length - 1].regionCode);
    });

    it('no published row or column total recovers a hidden cell (street × gender with both margins)', async () => {
      const truth = await streetGenderTruth();
      const cells = (await counts(dashboard, 'level: STREET, by: [GENDER]')).cells;
      const rowTotals = (await counts(dashboard, 'level: STREET')).cells;
      const district = await counts(dashboard, 'level: DISTRICT, by: [GENDER]');
      const published = new Map<string, Cell>();
      for (const c of cells) published.set(`${c.regionCode}|${c.gender}`, c.count);
      for (const c of rowTotals) published.set(`${c.regionCode}|*`, c.count);
      for (const c of district.cells) published.set(`D|${c.gender}`, c.count);
      published.set('D|*', district.total);
      expect(published.get(`${STREET6}|MALE`)!.suppressed).toBe(true);

      const streetCodes = [...new Set(cells.map((c) => c.regionCode))];
      const lines: { total: string; members: string[] }[] = [
        ...streetCodes.map((s) => ({ total: `${s}|*`, members: [`${s}|MALE`, `${s}|FEMALE`] })),
        ...['MALE', 'FEMALE', '*'].map((g) => ({ total: `D|${g}`, members: streetCodes.map((s) => `${s}|${g}`) })),
        { total: 'D|*', members: ['D|MALE', 'D|FEMALE'] },
      ];
      for (const line of lines) {
        const hidden = line.members.filter((m) => published.get(m)!.suppressed);
        if (published.get(line.total)!.suppressed) continue;
        // Published total: nothing hidden, or at least two hidden cells adding up to k or more.
        const hiddenSum = hidden.reduce((s, m) => s + truth.get(m)!, 0);
        expect({ line: line.total, ok: hidden.length === 0 || (hidden.length >= 2 && hiddenSum >= K) }).toEqual({ line: line.total, ok: true });
      }
      for (const [key, cell] of published) if (!cell.suppressed) expect(cell.value).toBe(truth.get(key) ?? 0);
    });

    it('a differencing attack on grids fails: community minus the published grids is not the small grid', async () => {
      const officer = await t.token(Department.CIVIL_AFFAIRS);
      const grids = (await counts(officer, 'level: GRID')).cells.filter((c) => c.regionCode.startsWith(COMMUNITY4));
      const community = (await counts(officer, 'level: COMMUNITY')).cells.find((c) => c.regionCode === COMMUNITY4)!;
      expect(community.count.value).toBe(53);
      const small = grids.find((g) => g.regionCode === `${COMMUNITY4}001`)!;
      expect(small.count.suppressed).toBe(true);
      // The attacker's best: the community's count minus every grid it can see.
      const attack = community.count.value! - grids.reduce((s, g) => s + (g.count.value ?? 0), 0);
      expect(attack).not.toBe(3);
      expect(grids.filter((g) => g.count.suppressed).length).toBeGreaterThanOrEqual(2);
      // "The street without grid 1" cannot even be asked: geography is whole nodes of one level.
      const r = await t.gql(officer, `{ minorCounts(level: STREET, excludeRegions: ["${COMMUNITY4}001"]) { total { value } } }`);
      expect(errorCodes(r)).toContain('GRAPHQL_VALIDATION_FAILED');
    });

    it('shows a cell with the same status to the district and to a street officer of that district', async () => {
      const district = (await counts(await t.token(Department.CIVIL_AFFAIRS), 'level: GRID, by: [GENDER]')).cells;
      const street = (await counts(await t.token(Department.CIVIL_AFFAIRS, { region: STREET1 }), 'level: GRID, by: [GENDER]')).cells;
      expect(street.length).toBe(12 * 2);
      expect(street.some((c) => c.count.suppressed)).toBe(true);
      for (const c of street) {
        expect(district.find((d) => d.regionCode === c.regionCode && d.gender === c.gender)!.count).toEqual(c.count);
      }
    });
  });

  describe('geography and jurisdiction', () => {
    it('refuses a dashboard anything finer than a street, and any AUDITOR', async () => {
      for (const level of ['COMMUNITY', 'GRID']) {
        const r = await t.gql(dashboard, `{ minorCounts(level: ${level}) { total { value } } }`);
        expect(errorCodes(r)).toEqual(['FORBIDDEN']);
        expect(r.errors![0].message).toMatch(/DASHBOARD may break statistics down to STREET/);
      }
      const rates = await t.gql(dashboard, `{ statisticsRates(level: GRID) { level } }`);
      expect(errorCodes(rates)).toEqual(['FORBIDDEN']);
      // Nor the monthly trend of a node finer than a street (the trend is of the caller's own node).
      for (const region of [`${COMMUNITY4}002`, COMMUNITY4]) {
        const fine = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region });
        const trend = await t.gql(fine, `{ monthlyTrend(months: 1) { points { count { value } } } }`);
        expect(errorCodes(trend)).toEqual(['FORBIDDEN']);
        expect(trend.data?.monthlyTrend ?? null).toBeNull();
      }
      expect((await t.gql(await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: STREET1 }), `{ monthlyTrend(months: 1) { points { month } } }`)).errors).toBeUndefined();
      const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR });
      const r = await t.gql(auditor, `{ minorCounts(level: DISTRICT) { total { value } } }`);
      expect(errorCodes(r)).toEqual(['FORBIDDEN']);
      expect(r.data?.minorCounts ?? null).toBeNull();
    });

    it('applies a coarser finest level from HUB_STATISTICS_FINEST_LEVELS', async () => {
      const { finestLevels } = t.config.statistics;
      const builtIn = finestLevels.DASHBOARD;
      finestLevels.DASHBOARD = RegionLevel.DISTRICT;
      try {
        const r = await t.gql(dashboard, `{ minorCounts(level: STREET) { total { value } } statisticsScope { finestLevel } }`);
        expect(errorCodes(r)).toEqual(['FORBIDDEN']);
        expect(r.errors![0].message).toMatch(/DASHBOARD may break statistics down to DISTRICT at the finest, not STREET/);
        expect((await t.gql(dashboard, `{ statisticsScope { finestLevel } }`)).data.statisticsScope.finestLevel).toBe('DISTRICT');
      } finally {
        finestLevels.DASHBOARD = builtIn;
      }
    });

    it('gives a street officer their street only: cells, totals, rates and trend', async () => {
      // The largest untouched street: the smallest is the district line's complement for street 6.
      const [{ street }] = await t.sql(
        `SELECT left(grid_code, 9) AS street FROM registry.minor WHERE grid_code NOT LIKE $1 GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`,
        [`${STREET1}%`],
      );
      const officer = await t.token(Department.POLICE, { region: street });
      const table = await counts(officer, 'level: GRID, by: [RISK_LEVEL]');
      expect(table.cells.length).toBe(9 * 5);
      expect(table.cells.every((c) => c.regionCode.startsWith(street))).toBe(true);
      const truth = await truthOf(
        `SELECT grid_code || '|' || coalesce(risk_level, 'UNASSESSED') AS k, count(*) AS n FROM registry.minor m WHERE ${UNDER_18} AND grid_code LIKE $1 GROUP BY 1`,
        [`${street}%`],
      );
      expectMatches(table.cells, truth, (c) => `${c.regionCode}|${c.riskLevel}`);
      const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM registry.minor m WHERE ${UNDER_18} AND grid_code LIKE $1`, [`${street}%`]);
      expect(table.total.value).toBe(n);

      const rates = await t.gql(officer, `{ statisticsRates(level: STREET) { regions { regionCode } total { regionCode screening { denominator { value } } } } }`);
      expect(rates.data.statisticsRates.regions).toEqual([{ regionCode: street }]);
      expect(rates.data.statisticsRates.total).toEqual({ regionCode: street, screening: { denominator: { value: n } } });

      const trend = await t.gql(officer, `{ monthlyTrend(months: 3) { points { month series count { value } } } }`);
      const newCases = trend.data.monthlyTrend.points.filter((p: any) => p.series === 'NEW_CASES' && p.count.value !== null);
      const [{ created }] = await t.sql(`SELECT count(*)::int AS created FROM registry.minor WHERE grid_code LIKE $1`, [`${street}%`]);
      expect(newCases.reduce((s: number, p: any) => s + p.count.value, 0)).toBe(created);

      const coarser = await t.gql(officer, `{ minorCounts(level: DISTRICT) { total { value } } }`);
      expect(errorCodes(coarser)).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('sensitive categories', () => {
    const communityTruth = (folded: boolean) =>
      truthOf(
        folded
          ? `SELECT left(m.grid_code, 12) || '|' || CASE WHEN c.category = ANY($1) THEN 'NEEDS_SUPPORT' ELSE c.category END AS k, count(DISTINCT m.id) AS n
             FROM registry.minor_category c JOIN registry.minor m ON m.id = c.minor_id WHERE ${UNDER_18} GROUP BY 1`
          : `SELECT left(m.grid_code, 12) || '|' || c.category AS k, count(*) AS n
             FROM registry.minor_category c JOIN registry.minor m ON m.id = c.minor_id WHERE ${UNDER_18} AND $1::text[] IS NOT NULL GROUP BY 1`,
        [[...SENSITIVE_CATEGORIES]],
      );

    it('folds them into NEEDS_SUPPORT at every level for departments that read them masked', async () => {
      const education = await t.token(Department.EDUCATION);
      const table = await counts(education, 'level: COMMUNITY, by: [CATEGORY]');
      expect(table.categoriesFolded).toBe(true);
      const seen = new Set(table.cells.map((c) => c.category));
      for (const s of SENSITIVE_CATEGORIES) expect(seen.has(s)).toBe(false);
      expect(seen.has('NEEDS_SUPPORT')).toBe(true);
      expectMatches(table.cells, await communityTruth(true), (c) => `${c.regionCode}|${c.category}`);
      expect(table.cells.some((c) => c.category === 'NEEDS_SUPPORT' && !c.count.suppressed)).toBe(true);

      // Exact counts at any level would name children to the department: it lists them with their
      // street, risk level, age, gender and NEEDS_SUPPORT, so a cell whose count of one sensitive
      // category equals its NEEDS_SUPPORT children tells each child's category.
      for (const department of [Department.EDUCATION, Department.YOUTH_LEAGUE, Department.WOMENS_FEDERATION]) {
        const token = await t.token(department);
        for (const [level, by] of [['STREET', '[CATEGORY, RISK_LEVEL, AGE_BAND, GENDER]'], ['GRID', '[CATEGORY]'], ['DISTRICT', '[CATEGORY]']]) {
          const table = await counts(token, `level: ${level}, by: ${by}`);
          expect([department, level, table.categoriesFolded]).toEqual([department, level, true]);
          expect(table.cells.filter((c) => SENSITIVE_CATEGORIES.has(c.category))).toEqual([]);
        }
      }
    });

    it('counts them exactly down to the grid for civil affairs, police and justice', async () => {
      const police = await t.token(Department.POLICE);
      const table = await counts(police, 'level: COMMUNITY, by: [CATEGORY]');
      expect(table.categoriesFolded).toBe(false);
      expect(table.cells.some((c) => c.category === 'NEEDS_SUPPORT')).toBe(false);
      expectMatches(table.cells, await communityTruth(false), (c) => `${c.regionCode}|${c.category}`);
      const grid = await counts(await t.token(Department.JUSTICE), 'level: GRID, by: [CATEGORY]');
      expect(grid.categoriesFolded).toBe(false);
    });
  });

  it('computes the rates from the registry as docs/statistics.md defines them', async () => {
    const r = await t.gql(
      await t.token(Department.CIVIL_AFFAIRS),
      `{ statisticsRates(level: STREET) { regions { regionCode
          screening { numerator { ${CELL} } denominator { ${CELL} } percent suppressed display }
          intervention { numerator { ${CELL} } denominator { ${CELL} } percent suppressed }
          assistance { numerator { ${CELL} } denominator { ${CELL} } percent suppressed }
          visitsOnTime { riskLevel rate { numerator { ${CELL} } denominator { ${CELL} } percent suppressed } } } } }`,
    );
    expect(r.errors).toBeUndefined();
    const [{ at }] = await t.sql(`SELECT refreshed_at AS at FROM statistics.refresh`);
    const facts = `
      WITH f AS (
        SELECT left(m.grid_code, 9) AS street, m.risk_level, m.next_visit_due,
               EXISTS (SELECT 1 FROM registry.minor_category c WHERE c.minor_id = m.id) AS has_category,
               (SELECT max(assessed_at) FROM registry.risk_assessment a WHERE a.minor_id = m.id) AS assessed_at,
               (SELECT max(visited_at) FROM registry.visit v WHERE v.minor_id = m.id) AS visited_at
        FROM registry.minor m WHERE ${UNDER_18})
      SELECT street,
        count(*) AS minors,
        count(*) FILTER (WHERE has_category OR assessed_at IS NOT NULL) AS screened,
        count(*) FILTER (WHERE risk_level IN ('RED', 'ORANGE')) AS high,
        count(*) FILTER (WHERE risk_level IN ('RED', 'ORANGE') AND visited_at >= assessed_at) AS intervened,
        count(*) FILTER (WHERE has_category) AS categorised,
        count(*) FILTER (WHERE has_category AND assessed_at IS NOT NULL AND visited_at IS NOT NULL) AS assisted,
        count(*) FILTER (WHERE risk_level = 'YELLOW') AS yellow,
        count(*) FILTER (WHERE risk_level = 'YELLOW' AND next_visit_due >= $1) AS yellow_on_time
      FROM f GROUP BY street`;
    const truth = new Map((await t.sql(facts, [at])).map((row: any) => [row.street, row]));
    let published = 0;
    const check = (rate: any, num: number, den: number) => {
      if (!rate.numerator.suppressed) expect(rate.numerator.value).toBe(num);
      if (!rate.denominator.suppressed) expect(rate.denominator.value).toBe(den);
      if (!rate.suppressed) {
        published++;
        expect(rate.percent).toBe(Math.round((num / den) * 1000) / 10);
        expect(num === 0 || num >= K).toBe(true);
        expect(den - num === 0 || den - num >= K).toBe(true);
      }
    };
    for (const region of r.data.statisticsRates.regions) {
      const x = truth.get(region.regionCode);
      check(region.screening, Number(x.screened), Number(x.minors));
      check(region.intervention, Number(x.intervened), Number(x.high));
      check(region.assistance, Number(x.assisted), Number(x.categorised));
      check(region.visitsOnTime.find((v: any) => v.riskLevel === 'YELLOW').rate, Number(x.yellow_on_time), Number(x.yellow));
    }
    // Most are published; zeros are hidden like the counts' (street 6 has no category, no
    // assessment), and so are the complements of small visits-on-time counts (ORANGE children
    // are rarely on time), which the counts and overdue counts share.
    expect(published).toBeGreaterThanOrEqual(8);
    // Street 6 (3 children) has no rate to show.
    expect(r.data.statisticsRates.regions.find((x: any) => x.regionCode === STREET6).screening.suppressed).toBe(true);
  });

  it('publishes no rate’s numerator beside its hidden denominator, at any level', async () => {
    const RATE = `numerator { ${CELL} } denominator { ${CELL} } percent suppressed`;
    const fields = `regionCode screening { ${RATE} } intervention { ${RATE} } assistance { ${RATE} } visitsOnTime { rate { ${RATE} } }
      reportsHandledInTime { ${RATE} } referralsHandledInTime { ${RATE} }`;
    const officer = await t.token(Department.WOMENS_FEDERATION);
    let hiddenDenominators = 0;
    for (const [token, level] of [[officer, 'GRID'], [officer, 'COMMUNITY'], [officer, 'STREET']]) {
      const r = await t.gql(token, `{ statisticsRates(level: ${level}) { regions { ${fields} } total { ${fields} } } }`);
      expect(r.errors).toBeUndefined();
      const { regions, total } = r.data.statisticsRates;
      for (const region of [...regions, total]) {
        const rates = [region.screening, region.intervention, region.assistance, ...region.visitsOnTime.map((v: any) => v.rate), region.reportsHandledInTime, region.referralsHandledInTime];
        for (const rate of rates.filter((x) => x.denominator.suppressed)) {
          hiddenDenominators++;
          // A RED child is never on time: the grids' "0 of x" RED rates were the registry's rule, and still a numerator.
          expect([rate.numerator, rate.percent, rate.suppressed]).toEqual([{ value: null, suppressed: true, display: 'x' }, null, true]);
        }
      }
    }
    expect(hiddenDenominators).toBeGreaterThan(0);
  });

  describe('visit statistics', () => {
    const VISIT_RATES = `intervention { display } assistance { display } visitsOnTime { riskLevel rate { display } }`;
    const QUERY = `{ overdue: minorCounts(level: STREET, by: [RISK_LEVEL], measure: OVERDUE_VISITS) { total { value } cells { regionCode riskLevel count { ${CELL} } } }
      rates: statisticsRates(level: STREET) { regions { regionCode screening { display } ${VISIT_RATES} reportsHandledInTime { display } } total { regionCode ${VISIT_RATES} } }
      trend: monthlyTrend(months: 12) { points { month series count { ${CELL} } } } }`;

    it('are refused to schools, the Youth League and dashboards, who may not read a child’s visits: FORBIDDEN, the rest served', async () => {
      for (const [subject, token] of [['EDUCATION', await t.token(Department.EDUCATION)], ['YOUTH_LEAGUE', await t.token(Department.YOUTH_LEAGUE)], ['DASHBOARD', dashboard]]) {
        const r = await t.gql(token, QUERY);
        expect(r.data.overdue).toBeNull();
        // Every region's three visit rates and the jurisdiction's, each on its own path.
        const streets = r.data.rates.regions.length;
        expect(streets).toBeGreaterThan(1);
        const refused = (r.errors ?? []).map((e) => `${e.path?.join('.')} ${e.extensions?.code}`).sort();
        const RATE_FIELDS = ['intervention', 'assistance', 'visitsOnTime'];
        expect(refused).toEqual(
          [
            'overdue',
            ...Array.from({ length: streets }, (_, i) => RATE_FIELDS.map((f) => `rates.regions.${i}.${f}`)).flat(),
            ...RATE_FIELDS.map((f) => `rates.total.${f}`),
          ]
            .map((path) => `${path} FORBIDDEN`)
            .sort(),
        );
        expect(r.errors!.find((e) => e.path?.[0] === 'overdue')!.message).toBe(`Overdue visits are counted from Minor.nextVisitDue, which ${subject} may not read`);
        for (const region of r.data.rates.regions) {
          expect([region.intervention, region.assistance, region.visitsOnTime]).toEqual([null, null, null]);
          expect(region.screening.display).toBeDefined();
          expect(region.reportsHandledInTime.display).toBeDefined();
        }
        // No VISITS month: the trend has the other four series only.
        expect(new Set(r.data.trend.points.map((p: any) => p.series))).toEqual(new Set(['NEW_CASES', 'ASSESSMENTS', 'REPORTS', 'REFERRALS']));
        expect(r.data.trend.points).toHaveLength(12 * 4);
      }
    });

    it('are served unchanged to those who read visits (civil affairs, police, justice, the women’s federation)', async () => {
      const answers = [];
      for (const department of [Department.CIVIL_AFFAIRS, Department.POLICE, Department.JUSTICE, Department.WOMENS_FEDERATION]) {
        const r = await t.gql(await t.token(department), QUERY);
        expect({ department, errors: r.errors }).toEqual({ department, errors: undefined });
        answers.push(r.data);
      }
      for (const answer of answers) expect(answer).toEqual(answers[0]);
      const [{ overdue, rates, trend }] = answers;
      expect(overdue.cells.some((c: any) => !c.count.suppressed && c.count.value > 0)).toBe(true);
      expect(rates.total.visitsOnTime).toHaveLength(4);
      expect(rates.total.intervention.display).toMatch(/%$/);
      expect(trend.points.filter((p: any) => p.series === 'VISITS')).toHaveLength(12);
    });

    it('cannot drift from the visit fields: a table serving a visit rate to a school does not start', () => {
      const rows = buildPolicy().all();
      const widened = (key: string) =>
        new Policy(rows.map((row) => (`${row.type}.${row.field}` === key ? policyRow(row.type, row.field, { allow: [...ALL_DEPARTMENTS, Role.DASHBOARD] }, row.reason) : row)));
      expect(buildPolicy().rebuildLeaks(FIELD_GRANTS)).toEqual([]);
      for (const [key, whole] of [['RegionRates.visitsOnTime', 'Minor.nextVisitDue'], ['RegionRates.intervention', 'Visit.visitedAt'], ['RegionRates.assistance', 'Visit.visitedAt']]) {
        const leaks = widened(key).rebuildLeaks(FIELD_GRANTS);
        for (const subject of [Department.EDUCATION, Department.YOUTH_LEAGUE, Role.DASHBOARD]) {
          expect(leaks).toContain(`${subject} reads ${key} but ${whole} is DENY: the two rebuild ${whole}`);
        }
      }
    });
  });

  it('monthly trend matches raw monthly counts, small months suppressed', async () => {
    const r = await t.gql(await t.token(Department.CIVIL_AFFAIRS), `{ monthlyTrend(months: 12) { points { month series count { ${CELL} } } } }`);
    expect(r.errors).toBeUndefined();
    const truth = await truthOf(`
      SELECT to_char(statistics.china_day(a.assessed_at), 'YYYY-MM') || '|ASSESSMENTS' AS k, count(*) AS n FROM registry.risk_assessment a GROUP BY 1
      UNION ALL SELECT to_char(statistics.china_day(v.visited_at), 'YYYY-MM') || '|VISITS', count(*) FROM registry.visit v GROUP BY 1
      UNION ALL SELECT to_char(statistics.china_day(m.created_at), 'YYYY-MM') || '|NEW_CASES', count(*) FROM registry.minor m GROUP BY 1
      UNION ALL SELECT to_char(statistics.china_day(w.received_at), 'YYYY-MM') || '|REPORTS', count(*) FROM workflow.mandatory_report w GROUP BY 1
      UNION ALL SELECT to_char(statistics.china_day(w.created_at), 'YYYY-MM') || '|REFERRALS', count(*) FROM workflow.referral w GROUP BY 1`);
    expect(r.data.monthlyTrend.points).toHaveLength(12 * 5);
    expectMatches(
      r.data.monthlyTrend.points.map((p: any) => ({ ...p, regionCode: p.month })),
      truth,
      (p) => `${p.month}|${p.series}`,
    );
  });

  it('answers from the summaries until they are refreshed, and says when that was', async () => {
    const before = await t.gql(dashboard, `{ statisticsFreshness { refreshedAt refreshIntervalSeconds stale } minorCounts(level: DISTRICT) { total { value } } }`);
    await addMinors(t, `${COMMUNITY4}003`, 1);
    const stale = await t.gql(dashboard, `{ minorCounts(level: DISTRICT) { total { value } } }`);
    expect(stale.data.minorCounts.total.value).toBe(before.data.minorCounts.total.value);
    await refreshStatistics(t.hub.db.ds);
    const after = await t.gql(dashboard, `{ statisticsFreshness { refreshedAt } minorCounts(level: DISTRICT) { total { value } } }`);
    expect(after.data.minorCounts.total.value).toBe(before.data.minorCounts.total.value + 1);
    expect(Date.parse(after.data.statisticsFreshness.refreshedAt)).toBeGreaterThan(Date.parse(before.data.statisticsFreshness.refreshedAt));
    // Test hubs run no refresh timer: whether the summaries are stale, the hub cannot tell.
    expect(before.data.statisticsFreshness).toMatchObject({ refreshIntervalSeconds: 0, stale: null });
  });

  it('refreshes on the slice’s timer: at start when the summaries are old, not again while they are fresh', async () => {
    const refreshed = async () => (await t.sql(`SELECT refreshed_at AS at FROM statistics.refresh`))[0].at.getTime();
    const total = async () => (await t.gql(dashboard, `{ minorCounts(level: DISTRICT) { total { value } } }`)).data.minorCounts.total.value;
    await t.sql(`UPDATE statistics.refresh SET refreshed_at = now() - interval '1 hour'`);
    const before = await total();
    await addMinors(t, `${COMMUNITY4}003`, 1);
    const runtime = { ds: t.hub.db.ds, maintenance: t.hub.db.maintenance, config: { ...t.config, statistics: { ...t.config.statistics, refreshSeconds: 600 } }, policy: buildPolicy(), audit: t.hub.audit };
    // stop() waits for the refresh the start began.
    await statisticsSubgraph.start!(runtime).stop();
    const first = await refreshed();
    expect(Date.now() - first).toBeLessThan(60_000);
    // The table asked before was computed again after the refresh: summaries changed since,
    // without a new stamp, do not show in it.
    await addMinors(t, `${COMMUNITY4}003`, 1);
    await t.sql(`REFRESH MATERIALIZED VIEW statistics.minor_cube`);
    expect(await total()).toBe(before + 1);
    // Refreshed less than half an interval ago: a second process's start leaves it alone.
    await statisticsSubgraph.start!(runtime).stop();
    expect(await refreshed()).toBe(first);
  });

  it('audits an aggregate query like any other request', async () => {
    const res = await post(t, dashboard, { query: `query StreetRisk { minorCounts(level: STREET, by: [RISK_LEVEL]) { total { value } } }` }, {});
    expect(res.status).toBe(200);
    const event = await eventOf(t, res.requestId);
    expect(event).toMatchObject({ operationName: 'StreetRisk', role: 'DASHBOARD', outcome: 'SUCCESS', reads: [] });
  });
});

describe('statistics: a hidden total two levels up', () => {
  /**
   * A district of 12 children, all LEFT_BEHIND: street 1's one community holds grid 1 (11) and grid 2 (1),
   * street 2's one grid none. A database of its own: the tests above count the whole registry.
   */
  const D = '330193';
  const [STREET_1, STREET_2] = [`${D}001`, `${D}002`];
  const [GRID_1, GRID_2, GRID_EMPTY] = [`${STREET_1}001001`, `${STREET_1}001002`, `${STREET_2}001001`];
  let t: TestHub;

  beforeAll(async () => {
    t = await startTestHub();
    const regions: [string, string | null, string][] = [
      [D, null, 'DISTRICT'],
      [STREET_1, D, 'STREET'],
      [`${STREET_1}001`, STREET_1, 'COMMUNITY'],
      [GRID_1, `${STREET_1}001`, 'GRID'],
      [GRID_2, `${STREET_1}001`, 'GRID'],
      [STREET_2, D, 'STREET'],
      [`${STREET_2}001`, STREET_2, 'COMMUNITY'],
      [GRID_EMPTY, `${STREET_2}001`, 'GRID'],
    ];
    for (const [code, parent, level] of regions) {
      await t.sql(`INSERT INTO registry.region (code, parent_code, level, name) VALUES ($1, $2, $3, $4)`, [code, parent, level, `测试${code.slice(-3)}`]);
    }
    await addMinors(t, GRID_1, 11);
    await addMinors(t, GRID_2, 1);
    await t.sql(
      `INSERT INTO registry.minor_category (minor_id, category, identified_at) SELECT id, 'LEFT_BEHIND', current_date FROM registry.minor WHERE grid_code LIKE $1`,
      [`${D}%`],
    );
    await refreshStatistics(t.hub.db.ds);
  });
  afterAll(() => t.stop());

  it('leaves no small remainder between a published district and its published grids, in the children’s lattice and the category tables', async () => {
    // Street 2's 0 hid street 1 with it, and street 1's only community with that: hidden totals. Grid 2's 1
    // under the community was then the community's one hidden member, and grid 1's 11 published left the
    // district's 12 minus 11 = 1 to grid 2 and street 2's grid, which no count can make negative: grid 2 held
    // at most 1 child. A hidden total now keeps hidden members adding up to k under it, as the rates' do.
    const officer = await t.token(Department.CIVIL_AFFAIRS, { region: D });
    const ask = async (args: string) => {
      const r = await t.gql(officer, `{ minorCounts(${args}) { total { ${CELL} } cells { regionCode category count { ${CELL} } } } }`);
      expect(r.errors).toBeUndefined();
      return r.data.minorCounts as { total: Cell; cells: { regionCode: string; category: string | null; count: Cell }[] };
    };
    const hidden = { value: null, suppressed: true, display: 'x' };
    const children = await ask('level: GRID');
    expect(children.total).toEqual({ value: 12, suppressed: false, display: '12' });
    const leftBehind = (await ask('level: GRID, by: [CATEGORY]')).cells.filter((c) => c.category === 'LEFT_BEHIND');
    const district = (await ask('level: DISTRICT, by: [CATEGORY]')).cells.find((c) => c.category === 'LEFT_BEHIND')!;
    expect(district.count).toEqual({ value: 12, suppressed: false, display: '12' });
    const tables = { children: children.cells, leftBehind };
    for (const grids of Object.values(tables)) expect(grids.map((c) => c.regionCode)).toEqual([GRID_1, GRID_2, GRID_EMPTY]);
    const remainders = Object.entries(tables).map(([table, grids]) => ({ table, remainder: 12 - grids.reduce((n, c) => n + (c.count.value ?? 0), 0) }));
    expect(remainders.filter(({ remainder }) => remainder > 0 && remainder < K)).toEqual([]);
    // Street 2 holds no child: its zeros are published (docs/statistics.md, Primary), and street 1 is the district's 12.
    const zero = { value: 0, suppressed: false, display: '0' };
    for (const grids of Object.values(tables)) expect(grids.map((c) => c.count)).toEqual([hidden, hidden, zero]);
    const streets = await ask('level: STREET');
    expect(streets.cells.map((c) => c.count)).toEqual([{ value: 12, suppressed: false, display: '12' }, zero]);
  });

});

describe('statistics: summaries no refresh has renewed', () => {
  let t: TestHub;
  let dashboard: string;
  let dba: Client;

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_STATISTICS_REFRESH_SECONDS: '600' } });
    dashboard = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: DISTRICT });
    // The refresh lock held by the test (waiting out the start's refresh): the timer's ticks skip, so
    // the stamps set below stay as set.
    dba = new Client({ connectionString: t.databaseUrl });
    await dba.connect();
    await dba.query(`SELECT pg_advisory_lock($1)`, [REFRESH_LOCK]);
  });
  afterAll(async () => {
    await dba?.end();
    await t?.stop();
  });

  const freshnessAged = async (seconds: number) => {
    await dba.query(`UPDATE statistics.refresh SET refreshed_at = now() - make_interval(secs => $1)`, [seconds]);
    const r = await t.gql(dashboard, `{ statisticsFreshness { refreshIntervalSeconds stale } }`);
    expect(r.errors).toBeUndefined();
    return r.data.statisticsFreshness;
  };

  // A refresh that failed was only logged, and the dashboard went on printing "Figures as of" a time
  // hours old as if the figures were current.
  it('says the figures are stale once three refresh intervals pass without a refresh, and not before', async () => {
    expect(await freshnessAged(0)).toEqual({ refreshIntervalSeconds: 600, stale: false });
    expect(await freshnessAged(1_790)).toEqual({ refreshIntervalSeconds: 600, stale: false });
    expect(await freshnessAged(1_810)).toEqual({ refreshIntervalSeconds: 600, stale: true });
    expect(await freshnessAged(86_400)).toEqual({ refreshIntervalSeconds: 600, stale: true });
  });
});
