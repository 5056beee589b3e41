import { Department, Role } from '../src/auth/principal';
import { refreshStatistics } from '../src/subgraphs/statistics';
import { addRegionChain } from './support/statistics-fixtures';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

/**
 * Red team 32: review of 96488fa (the bound pass hides one complement a line per pass), on regions
 * loaded ahead of their children.
 */
const RISKS = ['RED', 'ORANGE', 'YELLOW', 'BLUE', 'UNASSESSED'];
const AGE_YEARS = [1, 4, 9, 13, 16];
const GENDERS = ['MALE', 'FEMALE'];
// Red team 24's district Q: three streets (one community and grid each), 1,360 children by risk
// level × age band × gender; each row: 50 counts, risk level, then age band, then gender.
const COUNTS_Q: number[][] = [
  [13, 1, 6, 4, 10, 0, 16, 6, 8, 2, 3, 17, 4, 4, 24, 0, 18, 24, 6, 2, 11, 20, 13, 24, 22, 1, 0, 0, 5, 15, 3, 15, 1, 13, 17, 13, 0, 21, 18, 3, 0, 0, 16, 0, 0, 14, 3, 5, 14, 9],
  [21, 23, 4, 12, 21, 6, 0, 22, 13, 6, 15, 0, 7, 6, 3, 15, 1, 0, 22, 23, 0, 23, 0, 20, 0, 16, 12, 13, 4, 0, 12, 0, 19, 11, 18, 15, 0, 3, 0, 0, 11, 0, 6, 6, 2, 23, 0, 0, 8, 17],
  [13, 3, 14, 0, 0, 15, 6, 11, 4, 0, 4, 5, 12, 0, 23, 19, 0, 14, 1, 1, 0, 0, 6, 23, 1, 3, 2, 6, 0, 19, 18, 18, 21, 0, 15, 23, 11, 20, 0, 23, 16, 2, 19, 0, 14, 11, 0, 20, 24, 0],
];

/** District Q's children under `district` (streets 001–003, community and grid 001 each). */
async function loadQ(t: TestHub, district: string): Promise<void> {
  const rows: { grid: string; risk: string | null; years: number; gender: string; n: number }[] = [];
  for (const [s, counts] of COUNTS_Q.entries()) {
    const grid = `${district}00${s + 1}001001`;
    await addRegionChain(t, grid);
    counts.forEach((n, i) => {
      const risk = RISKS[Math.floor(i / 10)];
      if (n) rows.push({ grid, risk: risk === 'UNASSESSED' ? null : risk, years: AGE_YEARS[Math.floor(i / 2) % 5], gender: GENDERS[i % 2], n });
    });
  }
  await t.sql(
    `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code, risk_level)
     SELECT gen_random_uuid(), '红队', r.gender, (current_date - make_interval(years => r.years, days => 100))::date,
            upper(substr(md5(gen_random_uuid()::text), 1, 18)), '浙江省杭州市上城区', '浙江省杭州市上城区测试路1号', r.grid, r.risk
     FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::int[]) AS r(grid, risk, years, gender, n), generate_series(1, r.n)`,
    [rows.map((r) => r.grid), rows.map((r) => r.risk), rows.map((r) => r.years), rows.map((r) => r.gender), rows.map((r) => r.n)],
  );
}

type Cell = { regionCode: string; count: { value: number | null; suppressed: boolean } };
const BY_STREET = `{ minorCounts(level: STREET, by: [RISK_LEVEL]) { cells { regionCode count { value suppressed } } total { value suppressed } } }`;

describe('statistics (redteam32)', () => {
  let t: TestHub;

  beforeAll(async () => {
    t = await startTestHub();
    // 330177: Q and a community without children in streets 001 and 002 (no empty street).
    await loadQ(t, '330177');
    await addRegionChain(t, '330177001002001');
    await addRegionChain(t, '330177002002001');
    await refreshStatistics(t.hub.db.ds);
  });
  afterAll(() => t?.stop());

  it('pins: empty communities inside populated streets leave the streets\' counts by risk level published', async () => {
    const dash = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: '330177' });
    const r = await t.gql(dash, BY_STREET);
    expect(r.errors).toBeUndefined();
    const cells = r.data.minorCounts.cells as Cell[];
    expect(cells.filter((c) => !c.count.suppressed).length).toBe(15);
  });
});
