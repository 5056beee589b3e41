import { Department, Role } from '../src/auth/principal';
import { yearsBefore } from '../src/common/dates';
import { buildIdNumber } from '../src/common/id-number';
import { openDataSource } from '../src/db/data-source';
import { refreshStatistics } from '../src/subgraphs/statistics';
import { addMinors } from './support/statistics-fixtures';
import { startTestHub, TestHub } from './support/test-hub';

/**
 * The indicators checked by hand against the domain's definitions, on a district of children
 * registered, assessed, visited, categorised and moved through the public API.
 */
const DAY = 86_400_000;
const DISTRICT = '330187';
const STREET = `${DISTRICT}001`;
const COMMUNITY = `${STREET}001`;
const [G1, G2] = [`${COMMUNITY}001`, `${COMMUNITY}002`];
/** Districts of one street, community and grid each: a rate near its ends, reports on their deadlines. */
const [ROUNDING, DEADLINES, BIRTHDAYS] = ['330186', '330185', '330184'];
const CELL = 'value suppressed display';
const RATE = `numerator { ${CELL} } denominator { ${CELL} } percent suppressed display`;

describe('statistics: the indicators by hand (red team 4)', () => {
  let t: TestHub;
  let civil: string;
  let seq = 0;

  async function gql(query: string, variables: Record<string, unknown>) {
    const r = await t.gql(civil, query, variables);
    expect(r.errors).toBeUndefined();
    return Object.values(r.data as Record<string, any>)[0];
  }
  async function at<T>(daysBack: number, work: () => Promise<T>): Promise<T> {
    t.config.workflow.clockOffsetMs = -daysBack * DAY;
    try {
      return await work();
    } finally {
      t.config.workflow.clockOffsetMs = 0;
    }
  }
  const register = async (grid: string, birthDate = '2016-05-01') =>
    (
      await gql(`mutation($i: CreateMinorInput!) { createMinor(input: $i) { id } }`, {
        i: { name: '测试', idNumber: buildIdNumber('330102', birthDate, 100 + seq++), householdRegistration: '杭州', currentAddress: '杭州测试路', gridCode: grid },
      })
    ).id as string;
  const assess = (id: string, level: string, daysBack: number) =>
    gql(`mutation($id: ID!, $i: AssessmentInput!) { recordAssessment(minorId: $id, input: $i) { id } }`, {
      id,
      i: { level, reasons: '评估', assessedAt: new Date(Date.now() - daysBack * DAY).toISOString() },
    });
  const visit = (id: string, daysBack: number) =>
    gql(`mutation($id: ID!, $i: VisitInput!) { recordVisit(minorId: $id, input: $i) { id } }`, {
      id,
      i: { notes: '走访', visitedAt: new Date(Date.now() - daysBack * DAY).toISOString() },
    });
  const categorise = (id: string, category: string) => gql(`mutation($id: ID!, $c: DifficultyCategory!) { addCategory(minorId: $id, category: $c) { id } }`, { id, c: category });

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_SUPPRESSION_K: '2' } });
    for (const [code, parent, level] of [
      [DISTRICT, null, 'DISTRICT'],
      [STREET, DISTRICT, 'STREET'],
      [COMMUNITY, STREET, 'COMMUNITY'],
      [G1, COMMUNITY, 'GRID'],
      [G2, COMMUNITY, 'GRID'],
      ...[ROUNDING, DEADLINES, BIRTHDAYS].flatMap((d) => [
        [d, null, 'DISTRICT'],
        [`${d}001`, d, 'STREET'],
        [`${d}001001`, `${d}001`, 'COMMUNITY'],
        [`${d}001001001`, `${d}001001`, 'GRID'],
      ]),
    ]) {
      await t.sql(`INSERT INTO registry.region (code, parent_code, level, name) VALUES ($1, $2, $3, $4)`, [code, parent, level, `测试${code!.slice(-3)}`]);
    }
    civil = await t.token(Department.CIVIL_AFFAIRS, { region: DISTRICT });
  });
  afterAll(() => t.stop());

  it('never rounds a rate short of 100 % up to "100%", nor one above nothing down to "0%"', async () => {
    // The plans' target is 100 % (排查分类率、干预率、救助率): 11,995 of 12,000 children screened is
    // not the target met, and 5 of 11,995 assisted is not none.
    const district = ROUNDING;
    const grid = `${district}001001001`;
    await addMinors(t, grid, 12_000);
    const ids: string[] = (await t.sql(`SELECT id FROM registry.minor WHERE grid_code = $1 ORDER BY id LIMIT 11995`, [grid])).map((m) => m.id);
    await t.sql(`INSERT INTO registry.minor_category (minor_id, category, identified_at) SELECT unnest($1::uuid[]), 'LEFT_BEHIND', current_date`, [ids]);
    const officer = await t.token(Department.CIVIL_AFFAIRS, { region: district });
    for (const id of ids.slice(0, 5)) {
      for (const [query, input] of [
        [`mutation($id: ID!, $i: AssessmentInput!) { recordAssessment(minorId: $id, input: $i) { id } }`, { level: 'BLUE', reasons: '评估' }],
        [`mutation($id: ID!, $i: VisitInput!) { recordVisit(minorId: $id, input: $i) { id } }`, { notes: '走访' }],
      ] as const) {
        expect((await t.gql(officer, query, { id, i: input })).errors).toBeUndefined();
      }
    }
    await refreshStatistics(t.hub.db.ds);
    const r = await t.gql(officer, `{ statisticsRates(level: DISTRICT) { total { screening { ${RATE} } assistance { ${RATE} } } } }`);
    expect(r.errors).toBeUndefined();
    const { screening, assistance } = r.data.statisticsRates.total;
    expect([screening.numerator.value, screening.denominator.value, screening.percent, screening.display]).toEqual([11_995, 12_000, 99.9, '99.9%']);
    expect([assistance.numerator.value, assistance.denominator.value, assistance.percent, assistance.display]).toEqual([5, 11_995, 0.1, '0.1%']);
  });

  it('counts a report verified and handled exactly at its deadlines as handled in time, a millisecond later as not', async () => {
    const district = DEADLINES;
    const grid = `${district}001001001`;
    const reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, region: district });
    const police = await t.token(Department.POLICE, { region: district });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const filed = await t.gql(reporter, `mutation($i: FileReportInput!) { fileMandatoryReport(input: $i) { id } }`, {
        i: { harmType: 'NEGLECT', observation: '儿童长期独自在家', location: '社区走访', regionCode: grid, urgency: 'NORMAL', childDescription: '约8岁女孩' },
      });
      expect(filed.errors).toBeUndefined();
      const id = filed.data.fileMandatoryReport.id;
      for (const to of ['VERIFYING', 'HANDLED']) {
        expect((await t.gql(police, `mutation($id: ID!, $to: ReportStatus!) { transitionReport(id: $id, to: $to, note: "核查处置") { id } }`, { id, to })).errors).toBeUndefined();
      }
      ids.push(id);
    }
    // Each deadline set to the instant of its step: two exactly on it, two with verification a millisecond late.
    await t.sql(
      `UPDATE workflow.mandatory_report r SET
         verify_due_at = (SELECT at FROM workflow.report_transition WHERE report_id = r.id AND to_status = 'VERIFYING') - CASE WHEN r.id = ANY($2) THEN interval '1 millisecond' ELSE interval '0' END,
         handle_due_at = (SELECT at FROM workflow.report_transition WHERE report_id = r.id AND to_status = 'HANDLED')
       WHERE r.id = ANY($1)`,
      [ids, ids.slice(2)],
    );
    await refreshStatistics(t.hub.db.ds);
    const r = await t.gql(police, `{ statisticsRates(level: DISTRICT) { total { reportsHandledInTime { ${RATE} } } } }`);
    expect(r.errors).toBeUndefined();
    const rate = r.data.statisticsRates.total.reportsHandledInTime;
    expect([rate.numerator.value, rate.denominator.value, rate.display]).toEqual([2, 4, '50%']);
  });

  it('leaves out a child on their 18th birthday whatever time zone the database runs in', async () => {
    // The ages are days in China (ageOn, registry.is_minor); the summaries' age() took the dates as
    // midnights in the session's time zone, and a birth day whose midnight a summer time skips
    // (clocks from 00:00 to 01:00, as Brazil's, Chile's or Egypt's) was an hour short of 18 years.
    const now = new Date();
    const born = yearsBefore(now, 18);
    const [y, m, d] = born.split('-').map(Number);
    const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
    // Summer time from midnight on the birth day's weekday of its week in its month (a rule for every
    // year: 18 years on, the same date is another weekday, so today's midnight is an ordinary one).
    const rule = `<-03>3<-02>,M${m}.${d > 28 ? 5 : Math.ceil(d / 7)}.${weekday}/0,M${(m % 12) + 1}.1.0/0`;
    const grid = `${BIRTHDAYS}001001001`;
    await t.sql(
      `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code)
       VALUES (gen_random_uuid(), '测试', 'FEMALE', $1, upper(substr(md5(gen_random_uuid()::text), 1, 18)), '杭州', '杭州测试路', $2)`,
      [born, grid],
    );
    const database = new URL(t.databaseUrl).pathname.slice(1);
    await t.sql(`ALTER DATABASE ${database} SET timezone = '${rule}'`);
    const ds = await openDataSource(t.databaseUrl);
    try {
      const [{ gap }] = await ds.query(`SELECT $1::date::timestamptz::time <> '00:00' AS gap`, [born]);
      expect(gap).toBe(true);
      await refreshStatistics(ds);
    } finally {
      await ds.destroy();
      await t.sql(`ALTER DATABASE ${database} RESET timezone`);
    }
    const [{ n }] = await t.sql(`SELECT coalesce(sum(minors), 0)::int AS n FROM statistics.minor_cube WHERE district_code = $1`, [BIRTHDAYS]);
    expect(n).toBe(0);
  });

  it('counts registrations, assessments, visits, categories, a move and an 18th birthday as the definitions say', async () => {
    const twice = async (f: () => Promise<unknown>) => {
      await f();
      await f();
    };
    // A: ORANGE 10 days ago, visited 2 days ago: on time, intervened.
    await twice(async () => {
      const id = await register(G1);
      await assess(id, 'ORANGE', 10);
      await visit(id, 2);
    });
    // B: ORANGE 3 days ago, no visit: on time, not intervened.
    await twice(async () => assess(await register(G1), 'ORANGE', 3));
    // C: ORANGE 8 days ago, no visit: overdue.
    await twice(async () => assess(await register(G1), 'ORANGE', 8));
    // D: RED a day ago, visited since, then moved to G2: overdue (RED), intervened.
    await twice(async () => {
      const id = await register(G1);
      await assess(id, 'RED', 1);
      await visit(id, 0.5);
      await gql(`mutation($id: ID!) { updateMinor(id: $id, input: { gridCode: "${G2}" }) { id } }`, { id });
    });
    // E: YELLOW with a category, visited: assisted.
    await twice(async () => {
      const id = await register(G2);
      await categorise(id, 'LEFT_BEHIND');
      await assess(id, 'YELLOW', 5);
      await visit(id, 1);
    });
    // F: a category only: screened, unassessed, not assisted.
    await twice(async () => categorise(await register(G2), 'MIGRANT'));
    // G: nothing.
    await twice(async () => register(G2));
    // H: registered three days ago at 17, 18 since: out of every count of children.
    await twice(async () => {
      const birth = yearsBefore(new Date(Date.now() - DAY), 18);
      await at(3, () => register(G2, birth));
    });
    await refreshStatistics(t.hub.db.ds);
    const r = await t.gql(
      civil,
      `{ statisticsRates(level: DISTRICT) { total { screening { ${RATE} } assistance { ${RATE} } visitsOnTime { riskLevel rate { ${RATE} } } } }
         minorCounts(level: DISTRICT) { total { ${CELL} } } }`,
    );
    expect(r.errors).toBeUndefined();
    const { total } = r.data.statisticsRates;
    const shown = (value: number) => ({ value, suppressed: false, display: String(value) });
    // 14 children under 18 (H has turned 18); 12 with a category or an assessment (not G).
    expect(r.data.minorCounts.total).toEqual(shown(14));
    expect([total.screening.numerator, total.screening.denominator, total.screening.display]).toEqual([shown(12), shown(14), '85.7%']);
    // With a category: E and F; assessed and visited: E.
    expect([total.assistance.numerator, total.assistance.denominator, total.assistance.display]).toEqual([shown(2), shown(4), '50%']);
    // ORANGE: A and B not yet due, C a day past its week.
    const orange = total.visitsOnTime.find((v: any) => v.riskLevel === 'ORANGE').rate;
    expect([orange.numerator, orange.denominator, orange.display]).toEqual([shown(4), shown(6), '66.7%']);
  });
});
