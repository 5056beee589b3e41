import { Department, Role } from '../src/auth/principal';
import { refreshStatistics } from '../src/subgraphs/statistics';
import { MAX_CELLS } from '../src/subgraphs/statistics/statistics.config';
import { addMinors } from './support/statistics-fixtures';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

/**
 * The children's lattice is the whole district down to GRID, whatever level a caller asks for
 * (statistics.resolver.ts `childrenLattice`). A district with more regions than the lattice's bound
 * allows is refused as too large for the hub, not as a caller's bad `by`: no argument would make it fit.
 */
describe('statistics of a district too large to protect at once', () => {
  const BIG = '330199';
  let t: TestHub;

  beforeAll(async () => {
    t = await startTestHub();
    // One street, two communities and 1,900 grids: some city districts have this many, more than either
    // lattice holds (with the visit status, for those who read visits, and without, for the others).
    const [{ parent }] = await t.sql(`SELECT parent_code AS parent FROM registry.region WHERE code = '330102'`);
    const add = (code: string, parentCode: string, level: string) =>
      t.sql(`INSERT INTO registry.region (code, parent_code, level, name) VALUES ($1, $2, $3, $4)`, [code, parentCode, level, `大区${code.slice(-3)}`]);
    await add(BIG, parent, 'DISTRICT');
    await add(`${BIG}001`, BIG, 'STREET');
    for (const [community, grids] of [[`${BIG}001001`, 999], [`${BIG}001002`, 901]] as const) {
      await add(community, `${BIG}001`, 'COMMUNITY');
      await t.sql(
        `INSERT INTO registry.region (code, parent_code, level, name) SELECT $1 || lpad(i::text, 3, '0'), $1, 'GRID', '网格' || i FROM generate_series(1, $2::int) i`,
        [community, grids],
      );
    }
    await addMinors(t, `${BIG}001001001`, 10);
    await refreshStatistics(t.hub.db.ds);
  });
  afterAll(() => t.stop());

  it('refuses every count of its children with LIMIT_EXCEEDED naming the district, at any level and for any caller', async () => {
    const dashboard = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: BIG });
    const officer = await t.token(Department.EDUCATION, { region: `${BIG}001` });
    for (const [token, level] of [[dashboard, 'DISTRICT'], [dashboard, 'STREET'], [officer, 'GRID']]) {
      const r = await t.gql(token, `{ minorCounts(level: ${level}) { total { value } } }`);
      expect([level, errorCodes(r)]).toEqual([level, ['LIMIT_EXCEEDED']]);
      expect(r.errors![0].message).toMatch(new RegExp(`^The statistics of district ${BIG} need \\d+ cells \\(at most ${MAX_CELLS}\\)`));
      expect(r.errors![0].extensions!.field).toBeUndefined();
    }
  });

  it('still answers the demo district beside it', async () => {
    const r = await t.gql(await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD }), `{ minorCounts(level: DISTRICT) { total { value } } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data.minorCounts.total.value).toBeGreaterThan(0);
  });
});
