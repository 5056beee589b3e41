import { Department, Role } from '../src/auth/principal';
import { refreshStatistics, warmTables } from '../src/subgraphs/statistics';
import { acrossARefresh, addMinors, addRegionChain } from './support/statistics-fixtures';
import { poolSize, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

/**
 * Red team 46 (rt46e): the statistics refresh and what readers see of it.
 */
const DISTRICT = '330146';
const STREET = `${DISTRICT}001`;
const GRID = `${STREET}001001`;
const OTHER_DISTRICT = '330147';
const OTHER_GRID = `${OTHER_DISTRICT}001001001`;
/** A third district, of two streets, for the move. */
const MOVE_DISTRICT = '330148';
const MOVE_FROM = `${MOVE_DISTRICT}001001001`;
const MOVE_TO = `${MOVE_DISTRICT}002001001`;

describe('statistics refresh and freshness (red team 46)', () => {
  let t: TestHub;

  beforeAll(async () => {
    t = await startTestHub();
    await addRegionChain(t, GRID);
    await addMinors(t, GRID, 20);
    await addRegionChain(t, OTHER_GRID);
    await addMinors(t, OTHER_GRID, 40);
    await addRegionChain(t, MOVE_FROM);
    await addMinors(t, MOVE_FROM, 40);
    await addRegionChain(t, MOVE_TO);
    await addMinors(t, MOVE_TO, 10);
    await refreshStatistics(t.hub.db.ds);
  });
  afterAll(() => t.stop());


  it('answers one request from one state of the summaries: a field that read another refresh is refused, to be asked again', async () => {
    const officer = await t.token(Department.CIVIL_AFFAIRS, { region: DISTRICT });
    const n = poolSize(t);
    // The first n fields take the pool's n connections; the last one waits for one of them.
    const early = Array.from({ length: n - 1 }, (_, i) => `f${i}: statisticsFreshness { refreshedAt }`).join('\n');
    const query = `{
      ${early}
      before: minorCounts(level: STREET) { refreshedAt total { value } }
      after: minorCounts(level: STREET) { refreshedAt total { value } }
    }`;
    const r = await acrossARefresh(t, () => t.gql(officer, query), n, () => addMinors(t, GRID, 7));
    // One answer, one refresh: the field that read the new summaries is refused, to be asked again
    // (it had answered 27 beside a 20 and two stamps).
    expect((r.errors ?? []).map((e: any) => [e.path, e.extensions.code])).toEqual([[['after'], 'STATISTICS_REFRESHED']]);
    const answered = Object.values(r.data).filter(Boolean);
    expect({ answered: answered.length, stamps: new Set(answered.map((f: any) => f.refreshedAt)).size, before: r.data.before.total.value }).toEqual({ answered: n, stamps: 1, before: 20 });
    const again = await t.gql(officer, query);
    expect(again.errors).toBeUndefined();
    expect({ stamps: new Set(Object.values(again.data).map((f: any) => f.refreshedAt)).size, before: again.data.before.total.value, after: again.data.after.total.value }).toEqual({ stamps: 1, before: 27, after: 27 });
  });

  it('draws the dashboard page from one refresh: no table of another refresh is answered under its "Figures as of"', async () => {
    const dashboard = await t.token(Department.CIVIL_AFFAIRS, { region: DISTRICT, role: Role.DASHBOARD });
    const n = poolSize(t);
    // The dashboard's fields (dashboard.js DASHBOARD_QUERY, by street: the freshness it prints first),
    // n - 1 more freshness fields standing for a busy hub's other requests holding the pool.
    const early = Array.from({ length: n - 1 }, (_, i) => `f${i}: statisticsFreshness { refreshedAt }`).join('\n');
    const query = `{
      statisticsFreshness { refreshedAt }
      ${early}
      regionTotals: minorCounts(level: STREET) { refreshedAt cells { regionCode count { value suppressed } } }
      rates: statisticsRates(level: STREET) { refreshedAt total { screening { denominator { value } } } }
      trend: monthlyTrend(months: 1) { refreshedAt points { series count { value } } }
    }`;
    const r = await acrossARefresh(t, () => t.gql(dashboard, query), n, () => addMinors(t, GRID, 3));
    // The tables that read the new summaries are refused (the page asks again), never drawn under the old time.
    const errors = r.errors ?? [];
    const refused = errors.map((e: any) => e.path[0]).sort();
    expect({ codes: [...new Set(errors.map((e: any) => e.extensions.code))], refused }).toEqual({ codes: ['STATISTICS_REFRESHED'], refused: ['rates', 'regionTotals', 'trend'] });
    const printed = r.data.statisticsFreshness.refreshedAt;
    expect(Object.values(r.data).filter(Boolean).every((f: any) => f.refreshedAt === printed)).toBe(true);
  });

  // Pin: a cell a refresh makes small is hidden at once, on the new summaries and in the warmed table.
  it('hides after a refresh a cell that went from 8 to 1, in the answer computed on the new summaries and in the warmed one', async () => {
    // A district of its own (beforeAll): 40 children of 10, eight (four boys, four girls) at each risk level.
    const district = OTHER_DISTRICT;
    const grid = OTHER_GRID;
    const ids: { id: string; gender: string }[] = await t.sql(`SELECT id, gender FROM registry.minor WHERE grid_code = $1 ORDER BY gender, id`, [grid]);
    const levels = ['RED', 'ORANGE', 'YELLOW', 'BLUE', null];
    const at = (level: string | null) => ids.filter((_, i) => levels[Math.floor((i % 20) / 4)] === level).map((r) => r.id);
    for (const level of levels.slice(0, 4)) {
      await t.sql(`UPDATE registry.minor SET risk_level = $2, next_visit_due = now() - interval '1 day' WHERE id = ANY($1)`, [at(level), level]);
    }
    const officer = await t.token(Department.CIVIL_AFFAIRS, { region: district });
    const query = `{ minorCounts(level: STREET, by: [RISK_LEVEL]) { cells { riskLevel count { value suppressed } } } }`;
    const orange = async () => {
      const r = await t.gql(officer, query);
      expect(r.errors).toBeUndefined();
      return r.data.minorCounts.cells.find((c: any) => c.riskLevel === 'ORANGE').count;
    };
    await refreshStatistics(t.hub.db.ds);
    await warmTables(t.hub.db.ds);
    expect(await orange()).toEqual({ value: 8, suppressed: false });
    // All but one ORANGE child become YELLOW: ORANGE is 1.
    await t.sql(`UPDATE registry.minor SET risk_level = 'YELLOW' WHERE id = ANY($1)`, [at('ORANGE').slice(1)]);
    await refreshStatistics(t.hub.db.ds);
    expect(await warmTables(t.hub.db.ds)).toBeGreaterThan(0);
    expect(await orange()).toEqual({ value: null, suppressed: true });
  });

  // Pin: a child moved to another street (updateMinor) counts there, and no longer in its old street, after the next refresh.
  it('counts a child moved between streets in its new street after the refresh', async () => {
    const officer = await t.token(Department.CIVIL_AFFAIRS, { region: MOVE_DISTRICT });
    const totals = async () => {
      const r = await t.gql(officer, `{ minorCounts(level: STREET) { total { value } cells { regionCode count { value suppressed } } } }`);
      expect(r.errors).toBeUndefined();
      return Object.fromEntries([['total', r.data.minorCounts.total.value], ...r.data.minorCounts.cells.map((c: any) => [c.regionCode, c.count.value])]);
    };
    await refreshStatistics(t.hub.db.ds);
    const before = await totals();
    expect(before).toEqual({ total: 50, [MOVE_FROM.slice(0, 9)]: 40, [MOVE_TO.slice(0, 9)]: 10 });
    const moved = (await t.sql(`SELECT id FROM registry.minor WHERE grid_code = $1 ORDER BY id LIMIT 3`, [MOVE_FROM])).map((r: any) => r.id);
    for (const id of moved) {
      const r = await t.gql(officer, `mutation($id: ID!, $i: UpdateMinorInput!) { updateMinor(id: $id, input: $i) { id } }`, { id, i: { gridCode: MOVE_TO } });
      expect(r.errors).toBeUndefined();
    }
    expect(await totals()).toEqual(before); // until the refresh
    await refreshStatistics(t.hub.db.ds);
    expect(await totals()).toEqual({ total: 50, [MOVE_FROM.slice(0, 9)]: 37, [MOVE_TO.slice(0, 9)]: 13 });
  });
});
