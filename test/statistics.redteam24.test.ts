import { Department, Role } from '../src/auth/principal';
import { refreshStatistics } from '../src/subgraphs/statistics';
import { eventOf, post } from './support/audit-helpers';
import { addRegionChain } from './support/statistics-fixtures';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

/**
 * Regression review (red team 24) of 14a1471 (one shared computation per summaries and question)
 * and 4193706 (a solved zero hidden as small is protected), and what a dashboard can still solve
 * by combining its questions.
 */
const RISKS = ['RED', 'ORANGE', 'YELLOW', 'BLUE', 'UNASSESSED'] as const;
/** An age in years inside each band (birth date: that many years and 100 days ago). */
const AGE_YEARS = [1, 4, 9, 13, 16];
const GENDERS = ['MALE', 'FEMALE'] as const;

// District Q: three streets (one community and grid each), children by risk level × age band × gender,
// ordinary counts (a random district of about 1,360 children). Each row: 50 counts, in the order
// risk level, then age band, then gender (MALE, FEMALE).
const DQ = '330196';
const streetsQ = ['001', '002', '003'].map((s) => `${DQ}${s}`);
const COUNTS_Q: number[][] = [
  [13, 1, 6, 4, 10, 0, 16, 6, 8, 2, 3, 17, 4, 4, 24, 0, 18, 24, 6, 2, 11, 20, 13, 24, 22, 1, 0, 0, 5, 15, 3, 15, 1, 13, 17, 13, 0, 21, 18, 3, 0, 0, 16, 0, 0, 14, 3, 5, 14, 9],
  [21, 23, 4, 12, 21, 6, 0, 22, 13, 6, 15, 0, 7, 6, 3, 15, 1, 0, 22, 23, 0, 23, 0, 20, 0, 16, 12, 13, 4, 0, 12, 0, 19, 11, 18, 15, 0, 3, 0, 0, 11, 0, 6, 6, 2, 23, 0, 0, 8, 17],
  [13, 3, 14, 0, 0, 15, 6, 11, 4, 0, 4, 5, 12, 0, 23, 19, 0, 14, 1, 1, 0, 0, 6, 23, 1, 3, 2, 6, 0, 19, 18, 18, 21, 0, 15, 23, 11, 20, 0, 23, 16, 2, 19, 0, 14, 11, 0, 20, 24, 0],
];

type Count = { value: number | null; suppressed: boolean };
type Row = { regionCode: string; riskLevel: string | null; ageBand: string | null; gender: string | null; count: Count };

describe('statistics regression review (redteam24)', () => {
  let t: TestHub;
  let logSpy: jest.SpyInstance;

  beforeAll(async () => {
    logSpy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    t = await startTestHub();
    const grids: string[] = [];
    const risks: (string | null)[] = [];
    const years: number[] = [];
    const genders: string[] = [];
    const ns: number[] = [];
    for (const [s, street] of streetsQ.entries()) {
      await addRegionChain(t, `${street}001001`);
      COUNTS_Q[s].forEach((n, i) => {
        if (!n) return;
        grids.push(`${street}001001`);
        risks.push(RISKS[Math.floor(i / 10)] === 'UNASSESSED' ? null : RISKS[Math.floor(i / 10)]);
        years.push(AGE_YEARS[Math.floor(i / 2) % 5]);
        genders.push(GENDERS[i % 2]);
        ns.push(n);
      });
    }
    await t.sql(
      `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code, risk_level)
       SELECT gen_random_uuid(), '红队', r.gender, (current_date - make_interval(years => r.years, days => 100))::date,
              upper(substr(md5(gen_random_uuid()::text), 1, 18)), '浙江省杭州市上城区', '浙江省杭州市上城区测试路1号', r.grid, r.risk
       FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::int[]) AS r(grid, risk, years, gender, n), generate_series(1, r.n)`,
      [grids, risks, years, genders, ns],
    );
    await refreshStatistics(t.hub.db.ds);
  });
  afterAll(async () => {
    logSpy.mockRestore();
    await t?.stop();
  });

  const table = async (token: string, level: string, by: string[]): Promise<Row[]> => {
    const r = await t.gql(token, `{ minorCounts(level: ${level}, by: [${by}]) { cells { regionCode riskLevel ageBand gender count { value suppressed } } } }`);
    expect(r.errors).toBeUndefined();
    return r.data.minorCounts.cells;
  };
  const find = (rows: Row[], code: string, risk: string | null, age: string | null, gender: string | null) =>
    rows.find((c) => c.regionCode === code && c.riskLevel === risk && c.ageBand === age && c.gender === gender)!.count;

  it('a dashboard cannot pin a hidden cell from four published ones and "no count is negative" (all girls aged 3–5 of street 3 YELLOW; its hidden zeros read back)', async () => {
    const dash = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: DQ });
    const [s1, s2, s3] = streetsQ;
    const districtRAG = await table(dash, 'DISTRICT', ['RISK_LEVEL', 'AGE_BAND', 'GENDER']);
    const streetRAG = await table(dash, 'STREET', ['RISK_LEVEL', 'AGE_BAND', 'GENDER']);
    const streetRA = await table(dash, 'STREET', ['RISK_LEVEL', 'AGE_BAND']);
    const streetAG = await table(dash, 'STREET', ['AGE_BAND', 'GENDER']);
    // The target: street 3's YELLOW girls aged 3–5, and that street's other risk levels of them (hidden zeros).
    const target = find(streetRAG, s3, 'YELLOW', 'AGE_3_5', 'FEMALE');
    const zeros = RISKS.filter((r) => r !== 'YELLOW').map((r) => find(streetRAG, s3, r, 'AGE_3_5', 'FEMALE'));
    expect(target.suppressed).toBe(true);
    expect(zeros.every((z) => z.suppressed)).toBe(true);
    // What the reader combines, each published: the district's YELLOW girls 3–5, street 1's, street 2's
    // YELLOW children 3–5 (both genders), street 3's girls 3–5 (every risk level).
    const inputs = [
      find(districtRAG, DQ, 'YELLOW', 'AGE_3_5', 'FEMALE'),
      find(streetRAG, s1, 'YELLOW', 'AGE_3_5', 'FEMALE'),
      find(streetRA, s2, 'YELLOW', 'AGE_3_5', null),
      find(streetAG, s3, null, 'AGE_3_5', 'FEMALE'),
    ];
    const published = inputs.every((c) => !c.suppressed);
    const [district, street1, street2Both, street3Girls] = inputs.map((c) => c.value ?? 0);
    // Street 2's YELLOW girls are at most its YELLOW children 3–5, so street 3's are at least the
    // district's less street 1's less those; at most street 3's girls 3–5. Equal bounds pin the
    // hidden cell (and every other risk level of those girls at 0): not to be published together.
    const lower = district - street1 - street2Both;
    expect({ published, pinned: published && lower >= street3Girls }).toEqual({ published, pinned: false });
  });

  it('one computation shared by callers of several jurisdictions and roles after a refresh: each is cut to its own jurisdiction and audited on its own (pins 14a1471)', async () => {
    const [s1, , s3] = streetsQ;
    const askers = [
      { token: await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: DQ, user: 'rt24-dash-district' }), region: DQ, role: 'DASHBOARD' },
      { token: await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: s1, user: 'rt24-dash-s1' }), region: s1, role: 'DASHBOARD' },
      // A school reads no visits: it is served from the dashboard's lattice, the same question's computation.
      { token: await t.token(Department.EDUCATION, { region: s3, user: 'rt24-school-s3' }), region: s3, role: 'OFFICER' },
    ];
    await refreshStatistics(t.hub.db.ds);
    const query = `query Shared { minorCounts(level: STREET, by: [RISK_LEVEL]) { cells { regionCode riskLevel count { value suppressed } } total { value suppressed } } }`;
    const answers = await Promise.all(askers.map((a) => post(t, a.token, { query }, {})));
    const whole = answers[0].json.data.minorCounts;
    for (const [i, a] of askers.entries()) {
      const r = answers[i].json;
      expect(r.errors).toBeUndefined();
      expect(r.data.minorCounts.cells).toEqual(whole.cells.filter((c: any) => c.regionCode.startsWith(a.region)));
      const event = await eventOf(t, answers[i].requestId);
      expect(event).toMatchObject({ operationName: 'Shared', outcome: 'SUCCESS' });
      expect(event.role).toBe(a.role);
    }
    expect(new Set(answers.map((a) => a.requestId)).size).toBe(3);
  });
});
