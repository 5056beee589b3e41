import { Department, Role } from '../src/auth/principal';
import { chinaDay } from '../src/common/dates';
import { refreshStatistics } from '../src/subgraphs/statistics';
import { addRegionChain } from './support/statistics-fixtures';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * docs/statistics.md read claim by claim (redteam20): differencing attacks on what a dashboard and
 * an officer are served — the suppression bound itself, and the line rules taken together.
 */
const RISKS = ['RED', 'ORANGE', 'YELLOW', 'BLUE', 'UNASSESSED'] as const;

/** Hidden cells a reader can solve exactly from linear equations (Gauss–Jordan over the reals). */
function determined(unknowns: string[], equations: { coef: Map<string, number>; rhs: number }[]): Map<string, number> {
  const idx = new Map(unknowns.map((u, i) => [u, i]));
  const rows = equations.map((e) => {
    const r = new Array(unknowns.length + 1).fill(0);
    for (const [u, c] of e.coef) r[idx.get(u)!] += c;
    r[unknowns.length] = e.rhs;
    return r;
  });
  let pivotRow = 0;
  for (let col = 0; col < unknowns.length && pivotRow < rows.length; col++) {
    let p = -1;
    for (let r = pivotRow; r < rows.length; r++) if (Math.abs(rows[r][col]) > 1e-9) p = p < 0 ? r : p;
    if (p < 0) continue;
    [rows[pivotRow], rows[p]] = [rows[p], rows[pivotRow]];
    const pv = rows[pivotRow][col];
    rows[pivotRow] = rows[pivotRow].map((x) => x / pv);
    for (let r = 0; r < rows.length; r++) {
      if (r === pivotRow || Math.abs(rows[r][col]) < 1e-12) continue;
      const f = rows[r][col];
      rows[r] = rows[r].map((x, j) => x - f * rows[pivotRow][j]);
    }
    pivotRow++;
  }
  const out = new Map<string, number>();
  for (const r of rows) {
    const nz = r.slice(0, unknowns.length).map((x, i) => [x, i] as const).filter(([x]) => Math.abs(x) > 1e-9);
    if (nz.length === 1) out.set(unknowns[nz[0][1]], Math.round(r[unknowns.length] / nz[0][0]));
  }
  return out;
}

/** A street × column table with its published margins: the hidden cells a reader solves exactly. */
function solveTable(
  streets: string[],
  columns: readonly string[],
  cell: (street: string, column: string) => { value: number | null; suppressed: boolean },
  rowTotal: (street: string) => { value: number | null; suppressed: boolean },
  columnTotal: (column: string) => { value: number | null; suppressed: boolean },
): { shown: string[]; solved: Record<string, number> } {
  const hidden: string[] = [];
  const equations: { coef: Map<string, number>; rhs: number }[] = [];
  for (const s of streets) for (const c of columns) if (cell(s, c).suppressed) hidden.push(`${s}/${c}`);
  const line = (total: { value: number | null; suppressed: boolean }, members: [string, string][]) => {
    if (total.suppressed) return;
    const coef = new Map<string, number>();
    let rhs = total.value!;
    for (const [s, c] of members) {
      const m = cell(s, c);
      if (m.suppressed) coef.set(`${s}/${c}`, 1);
      else rhs -= m.value!;
    }
    equations.push({ coef, rhs });
  };
  for (const s of streets) line(rowTotal(s), columns.map((c) => [s, c]));
  for (const c of columns) line(columnTotal(c), streets.map((s) => [s, c]));
  const shown = streets.map((s) => columns.map((c) => (cell(s, c).suppressed ? 'x' : cell(s, c).value)).join(' '));
  return { shown, solved: Object.fromEntries(determined(hidden, equations)) };
}

describe('statistics claims (redteam20)', () => {
  let t: TestHub;
  let logSpy: jest.SpyInstance;

  const yearsAgo = (years: number) => {
    const [y, m, d] = chinaDay(new Date()).split('-').map(Number);
    return new Date(Date.UTC(y - years, m - 1, d)).toISOString().slice(0, 10);
  };
  /** n children of one age band and gender in `grid` at `risk` (UNASSESSED: none). */
  const addChildren = async (grid: string, n: number, risk: string, gender = 'MALE', age = 9) => {
    if (n === 0) return;
    await t.sql(
      `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code, risk_level)
       SELECT gen_random_uuid(), '红队', $5, $3::date, upper(substr(md5(gen_random_uuid()::text), 1, 18)), '浙江省杭州市上城区', '浙江省杭州市上城区测试路1号', $1, $4
       FROM generate_series(1, $2::int) i`,
      [grid, n, yearsAgo(age), risk === 'UNASSESSED' ? null : risk, gender],
    );
  };

  // District A (bridge): four streets, each one community of one grid.
  const DA = '330177';
  const streetsA = ['001', '002', '003', '004'].map((s) => `${DA}${s}`);
  const gridOf = (street: string) => `${street}001001`;
  // Rows: streets; columns: RED ORANGE YELLOW BLUE UNASSESSED.
  const BRIDGE: number[][] = [
    [2, 5, 1, 20, 30],
    [5, 1, 20, 21, 31],
    [22, 23, 5, 1, 32],
    [24, 25, 6, 5, 33],
  ];
  // District C: the same shape, children with the category POVERTY (a category table: protectLines).
  const DC = '330179';
  const streetsC = ['001', '002', '003', '004'].map((s) => `${DC}${s}`);
  // District D: the same street × risk level counts, spread over two communities per street, both
  // genders and two age bands (what a real district looks like), for the dashboard page's own table.
  const DD = '330176';
  const streetsD = ['001', '002', '003', '004'].map((s) => `${DD}${s}`);
  const addSpread = async (street: string, n: number, risk: string) => {
    if (n === 0) return;
    await t.sql(
      `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code, risk_level)
       SELECT gen_random_uuid(), '红队', CASE WHEN (i / 2) % 2 = 0 THEN 'MALE' ELSE 'FEMALE' END,
              CASE WHEN i % 3 = 0 THEN $4::date ELSE $3::date END, upper(substr(md5(gen_random_uuid()::text), 1, 18)),
              '浙江省杭州市上城区', '浙江省杭州市上城区测试路1号', $1 || CASE WHEN i % 2 = 0 THEN '001001' ELSE '002001' END, $5
       FROM generate_series(0, $2::int - 1) i`,
      [street, n, yearsAgo(9), yearsAgo(14), risk === 'UNASSESSED' ? null : risk],
    );
  };
  // District B (bounds): one street, one community of three grids with k-1, k and k+1 children.
  const DB = '330178';
  const gridsB = ['001', '002', '003'].map((g) => `${DB}001001${g}`);

  beforeAll(async () => {
    logSpy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    t = await startTestHub();
    for (const s of streetsA) await addRegionChain(t, gridOf(s));
    for (const g of gridsB) await addRegionChain(t, g);
    for (const [i, s] of streetsA.entries()) for (const [j, r] of RISKS.entries()) await addChildren(gridOf(s), BRIDGE[i][j], r);
    for (const [i, g] of gridsB.entries()) await addChildren(g, 4 + i, 'BLUE');
    for (const s of streetsC) await addRegionChain(t, gridOf(s));
    for (const [i, s] of streetsC.entries()) for (const [j, r] of RISKS.entries()) await addChildren(gridOf(s), BRIDGE[i][j], r);
    for (const s of streetsD) for (const c of ['001001', '002001']) await addRegionChain(t, `${s}${c}`);
    for (const [i, s] of streetsD.entries()) for (const [j, r] of RISKS.entries()) await addSpread(s, BRIDGE[i][j], r);
    await t.sql(`INSERT INTO registry.minor_category (minor_id, category, identified_at) SELECT id, 'POVERTY', '2026-01-01' FROM registry.minor WHERE grid_code LIKE $1`, [`${DC}%`]);
    await refreshStatistics(t.hub.db.ds);
  });
  afterAll(async () => {
    logSpy.mockRestore();
    await t?.stop();
  });

  it('a dashboard cannot solve any hidden street × risk level cell from the street table, its margins and the district', async () => {
    const dash = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: DA });
    // The dashboard page's own request (dashboard.js: riskByRegion, regionTotals, riskTotals).
    const page = await t.gql(
      dash,
      `{ riskByRegion: minorCounts(level: STREET, by: [RISK_LEVEL]) { cells { regionCode riskLevel count { value suppressed } } }
         regionTotals: minorCounts(level: STREET) { cells { regionCode count { value suppressed } } }
         riskTotals: minorCounts(level: DISTRICT, by: [RISK_LEVEL]) { cells { riskLevel count { value suppressed } } total { value suppressed } } }`,
    );
    expect(page.errors).toBeUndefined();
    const cells = { data: { minorCounts: page.data.riskByRegion } };
    const streets = { data: { minorCounts: page.data.regionTotals } };
    const district = { data: { minorCounts: page.data.riskTotals } };
    const result = solveTable(
      streetsA,
      RISKS,
      (s, r) => cells.data.minorCounts.cells.find((c: any) => c.regionCode === s && c.riskLevel === r).count,
      (s) => streets.data.minorCounts.cells.find((c: any) => c.regionCode === s).count,
      (r) => district.data.minorCounts.cells.find((c: any) => c.riskLevel === r).count,
    );
    // Found: street 1's YELLOW (1 child) = (street 1 − its published) + (street 2 − its published)
    // − (RED column − published RED) − (ORANGE column − published ORANGE): a bridge between two
    // protected cycles in a two-dimensional table, every line of which holds.
    expect(result).toEqual({ shown: result.shown, solved: {} });
  });

  it('a dashboard cannot solve any hidden street × risk level cell of a district with several communities, genders and ages', async () => {
    const dash = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: DD });
    const cells = await t.gql(dash, `{ minorCounts(level: STREET, by: [RISK_LEVEL]) { cells { regionCode riskLevel count { value suppressed } } } }`);
    const streets = await t.gql(dash, `{ minorCounts(level: STREET) { cells { regionCode count { value suppressed } } } }`);
    const district = await t.gql(dash, `{ minorCounts(level: DISTRICT, by: [RISK_LEVEL]) { cells { riskLevel count { value suppressed } } } }`);
    for (const r of [cells, streets, district]) expect(r.errors).toBeUndefined();
    const result = solveTable(
      streetsD,
      RISKS,
      (s, r) => cells.data.minorCounts.cells.find((c: any) => c.regionCode === s && c.riskLevel === r).count,
      (s) => streets.data.minorCounts.cells.find((c: any) => c.regionCode === s).count,
      (r) => district.data.minorCounts.cells.find((c: any) => c.riskLevel === r).count,
    );
    expect(result).toEqual({ shown: result.shown, solved: {} });
  });

  it('a dashboard cannot solve any hidden street × risk level cell of a category from the category tables', async () => {
    const dash = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: DC });
    const table = await t.gql(dash, `{ minorCounts(level: STREET, by: [CATEGORY, RISK_LEVEL]) { cells { regionCode category riskLevel count { value suppressed } } } }`);
    const rows = await t.gql(dash, `{ minorCounts(level: STREET, by: [CATEGORY]) { cells { regionCode category count { value suppressed } } } }`);
    const cols = await t.gql(dash, `{ minorCounts(level: DISTRICT, by: [CATEGORY, RISK_LEVEL]) { cells { category riskLevel count { value suppressed } } } }`);
    for (const r of [table, rows, cols]) expect(r.errors).toBeUndefined();
    const P = 'POVERTY';
    const result = solveTable(
      streetsC,
      RISKS,
      (s, r) => table.data.minorCounts.cells.find((c: any) => c.regionCode === s && c.category === P && c.riskLevel === r).count,
      (s) => rows.data.minorCounts.cells.find((c: any) => c.regionCode === s && c.category === P).count,
      (r) => cols.data.minorCounts.cells.find((c: any) => c.category === P && c.riskLevel === r).count,
    );
    expect(result).toEqual({ shown: result.shown, solved: {} });
  });

  it('shows a count with one status everywhere: street totals, the screening rate’s populations and the totals of every table', async () => {
    for (const district of [DA, DD, DC]) {
      const dash = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: district });
      const r = await t.gql(
        dash,
        `{ streets: minorCounts(level: STREET) { cells { regionCode count { value suppressed } } total { value suppressed } }
           risk: minorCounts(level: STREET, by: [RISK_LEVEL, GENDER]) { total { value suppressed } }
           cats: minorCounts(level: STREET, by: [CATEGORY]) { total { value suppressed } }
           whole: minorCounts(level: DISTRICT) { cells { count { value suppressed } } }
           rates: statisticsRates(level: STREET) { regions { regionCode screening { denominator { value suppressed } numerator { value suppressed } } }
                                                   total { screening { denominator { value suppressed } } } } }`,
      );
      expect(r.errors).toBeUndefined();
      for (const s of r.data.streets.cells) {
        const rate = r.data.rates.regions.find((x: any) => x.regionCode === s.regionCode);
        expect([s.regionCode, rate.screening.denominator]).toEqual([s.regionCode, s.count]);
      }
      for (const total of [r.data.risk.total, r.data.cats.total, r.data.whole.cells[0].count, r.data.rates.total.screening.denominator]) {
        expect(total).toEqual(r.data.streets.total);
      }
    }
  });

  it('suppresses at exactly the bound: k-1 hidden, k and k+1 published or hidden with a complement, never a remainder below k', async () => {
    const officer = await t.token(Department.CIVIL_AFFAIRS, { region: DB });
    const r = await t.gql(officer, `{ statisticsScope { suppressionK } minorCounts(level: GRID) { cells { regionCode count { value suppressed display } } total { value suppressed } } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data.statisticsScope.suppressionK).toBe(5);
    const by = new Map(r.data.minorCounts.cells.map((c: any) => [c.regionCode, c.count]));
    expect(by.get(gridsB[0])).toEqual({ value: null, suppressed: true, display: 'x' });
    // 4 is hidden, so a second grid must be: the smallest published non-zero (5), not 6.
    expect(by.get(gridsB[1])).toEqual({ value: null, suppressed: true, display: 'x' });
    expect(by.get(gridsB[2])).toEqual({ value: 6, suppressed: false, display: '6' });
    expect(r.data.minorCounts.total).toEqual({ value: 15, suppressed: false });
    // The community's count minus its published grids leaves 9, not the hidden 4.
    const community = await t.gql(officer, `{ minorCounts(level: COMMUNITY) { cells { regionCode count { value suppressed } } } }`);
    expect(community.data.minorCounts.cells).toEqual([{ regionCode: `${DB}001001`, count: { value: 15, suppressed: false } }]);
  });
});
