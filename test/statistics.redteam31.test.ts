import { Department, Role } from '../src/auth/principal';
import { startTestHub, TestHub } from './support/test-hub';
import { addDistrictQ, addRegionChain } from './support/statistics-fixtures';
import { refreshStatistics } from '../src/subgraphs/statistics';

jest.setTimeout(600_000);

describe('statistics (redteam31)', () => {
  let t: TestHub;

  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t?.stop());

  it('a street added to the region tree before its children does not take down an ordinary district\'s statistics (INTERNAL_SERVER_ERROR: the bound pass hides a complement for every pinned cell, more than there are)', async () => {
    // Red team 24's district Q: three streets (one community and grid each), 1,360 children.
    const DQ = '330196';
    await addDistrictQ(t, DQ);
    await refreshStatistics(t.hub.db.ds);
    const dash = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: DQ });
    const question = `{ minorCounts(level: STREET, by: [RISK_LEVEL]) { cells { regionCode riskLevel count { value suppressed } } total { value } } }`;
    const before = await t.gql(dash, question);
    expect(before.errors).toBeUndefined();
    // A fourth street, its community and grid, loaded ahead of its children (no child there yet).
    await addRegionChain(t, `${DQ}004001001`);
    const after = await t.gql(dash, question);
    expect(after.errors?.map((e) => e.extensions?.code)).toBeUndefined();
    // And it still publishes, each published count the true one.
    type Cell = { regionCode: string; riskLevel: string | null; count: { value: number | null; suppressed: boolean } };
    const published = (after.data.minorCounts.cells as Cell[]).filter((c) => !c.count.suppressed);
    expect(published.length).toBeGreaterThan(0);
    const truth = await t.sql(
      `SELECT substr(grid_code, 1, 9) AS street, coalesce(risk_level, 'UNASSESSED') AS risk, count(*)::int AS n FROM registry.minor WHERE grid_code LIKE $1 GROUP BY 1, 2`,
      [`${DQ}%`],
    );
    const count = (street: string, risk: string | null) => truth.find((r) => r.street === street && r.risk === (risk ?? 'UNASSESSED'))?.n ?? 0;
    expect(published.map((c) => [c.regionCode, c.riskLevel, c.count.value])).toEqual(published.map((c) => [c.regionCode, c.riskLevel, count(c.regionCode, c.riskLevel)]));
  });
});
