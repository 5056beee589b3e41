import { Department, Role } from '../src/auth/principal';
import { yearsBefore } from '../src/common/dates';
import { buildIdNumber } from '../src/common/id-number';
import { refreshStatistics } from '../src/subgraphs/statistics';
import { addMinors } from './support/statistics-fixtures';
import { startTestHub, TestHub } from './support/test-hub';

/**
 * Mandatory reports and referrals in the statistics: the "handled in time" rates with late and
 * not-yet-due cases, their suppression, and the REPORTS / REFERRALS trend series. Everything
 * happens in a district of its own, so that the demo data takes no part in the suppression.
 */
const K = 5;
const DAY = 86_400_000;
const DISTRICT = '330199';
const STREET1 = `${DISTRICT}001`;
const COMMUNITY1 = `${STREET1}001`;
const [GRID1, GRID2] = [`${COMMUNITY1}001`, `${COMMUNITY1}002`];
const STREET2 = `${DISTRICT}002`;
const GRID4 = `${STREET2}001001`;
/** Two more districts of one street, community and grid each, alike but for one child. */
const TWINS = ['330198', '330197'];
/** A district of one street, one community and two grids of six children each, for one late report. */
const LONE = '330196';
const [LONE_GRID1, LONE_GRID2] = [`${LONE}001001001`, `${LONE}001001002`];
/** A district of one street, one community and three grids: 6 reports in time in one, 2 and 3 late in the others. */
const SPLIT = '330195';
const SPLIT_COMMUNITY = `${SPLIT}001001`;
const SPLIT_GRIDS = [1, 2, 3].map((g) => `${SPLIT_COMMUNITY}00${g}`);
/** A district of two streets, one community and grid each, for referrals made at the district and at a street. */
const MOVES = '330194';
const [MOVES_STREET1, MOVES_STREET2] = [`${MOVES}001`, `${MOVES}002`];

const FILE = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`;
const STEP = `mutation($id: ID!, $to: ReportStatus!) { transitionReport(id: $id, to: $to, note: "核查处置") { id } }`;
const REFER = `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`;
const ACCEPT = `mutation($id: ID!) { acceptReferral(id: $id) { id } }`;
const DECLINE = `mutation($id: ID!) { declineReferral(id: $id, reason: "不属本部门职责") { id } }`;
const COMPLETE = `mutation($id: ID!) { completeReferral(id: $id, outcome: "已落实") { id } }`;

const CELL = 'value suppressed display';
/** What every hidden cell displays, small or not. */
const HIDDEN = 'x';
const RATE = `numerator { ${CELL} } denominator { ${CELL} } percent suppressed display`;

describe('statistics: mandatory reports and referrals', () => {
  let t: TestHub;
  let reporter: string;
  let police: string;
  let civil: string;
  let gridCivil: Record<string, string>;
  let education: string;
  const children: Record<string, string[]> = {};

  async function gql(token: string, query: string, variables: Record<string, unknown>): Promise<string> {
    const r = await t.gql(token, query, variables);
    expect(r.errors).toBeUndefined();
    return Object.values(r.data as Record<string, { id: string }>)[0].id;
  }
  /** Runs `work` with the hub's clock shifted by `days`, as if it had happened then. */
  async function daysAgo<T>(days: number, work: () => Promise<T>): Promise<T> {
    t.config.workflow.clockOffsetMs = -days * DAY;
    try {
      return await work();
    } finally {
      t.config.workflow.clockOffsetMs = 0;
    }
  }

  const file = (grid: string, child?: string) =>
    gql(reporter, FILE, {
      input: {
        harmType: 'NEGLECT',
        observation: '儿童长期独自在家',
        location: '社区走访',
        regionCode: grid,
        urgency: 'URGENT',
        ...(child ? { childId: child } : { childDescription: '约8岁女孩' }),
      },
    });
  const step = (id: string, ...to: string[]) => to.reduce((p, s) => p.then(() => gql(police, STEP, { id, to: s })), Promise.resolve(''));
  const referAs = (token: string, child: string) => gql(token, REFER, { input: { minorId: child, type: 'EDUCATION_AID', toDepartment: 'EDUCATION', need: '家庭困难，申请教育资助' } });
  /** A referral made by civil affairs of the child's grid: it counts in the grid. */
  const refer = (grid: string, child: string) => referAs(gridCivil[grid], child);

  beforeAll(async () => {
    t = await startTestHub();
    const regions: [string, string | null, string][] = [
      [DISTRICT, null, 'DISTRICT'],
      [STREET1, DISTRICT, 'STREET'],
      [COMMUNITY1, STREET1, 'COMMUNITY'],
      [GRID1, COMMUNITY1, 'GRID'],
      [GRID2, COMMUNITY1, 'GRID'],
      [STREET2, DISTRICT, 'STREET'],
      [GRID4.slice(0, 12), STREET2, 'COMMUNITY'],
      [GRID4, GRID4.slice(0, 12), 'GRID'],
      ...TWINS.flatMap((d): [string, string | null, string][] => [
        [d, null, 'DISTRICT'],
        [`${d}001`, d, 'STREET'],
        [`${d}001001`, `${d}001`, 'COMMUNITY'],
        [`${d}001001001`, `${d}001001`, 'GRID'],
      ]),
      [LONE, null, 'DISTRICT'],
      [`${LONE}001`, LONE, 'STREET'],
      [`${LONE}001001`, `${LONE}001`, 'COMMUNITY'],
      [LONE_GRID1, `${LONE}001001`, 'GRID'],
      [LONE_GRID2, `${LONE}001001`, 'GRID'],
      [SPLIT, null, 'DISTRICT'],
      [`${SPLIT}001`, SPLIT, 'STREET'],
      [SPLIT_COMMUNITY, `${SPLIT}001`, 'COMMUNITY'],
      ...SPLIT_GRIDS.map((g): [string, string, string] => [g, SPLIT_COMMUNITY, 'GRID']),
      [MOVES, null, 'DISTRICT'],
      ...[MOVES_STREET1, MOVES_STREET2].flatMap((s): [string, string, string][] => [
        [s, MOVES, 'STREET'],
        [`${s}001`, s, 'COMMUNITY'],
        [`${s}001001`, `${s}001`, 'GRID'],
      ]),
    ];
    for (const [code, parent, level] of regions) {
      await t.sql(`INSERT INTO registry.region (code, parent_code, level, name) VALUES ($1, $2, $3, $4)`, [code, parent, level, `测试${code.slice(-3)}`]);
    }
    for (const [grid, n] of [[GRID1, 20], [GRID4, 2]] as const) {
      const rows = await t.sql(
        `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code)
         SELECT gen_random_uuid(), '测试', 'FEMALE', (current_date - INTERVAL '10 years')::date, upper(substr(md5(gen_random_uuid()::text), 1, 18)),
                '浙江省杭州市', '浙江省杭州市测试路1号', $1
         FROM generate_series(1, $2::int) RETURNING id`,
        [grid, n],
      );
      children[grid] = rows.map((r) => r.id);
    }
    reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, region: DISTRICT });
    police = await t.token(Department.POLICE, { region: DISTRICT });
    civil = await t.token(Department.CIVIL_AFFAIRS, { region: DISTRICT });
    education = await t.token(Department.EDUCATION, { region: DISTRICT });
    gridCivil = Object.fromEntries(await Promise.all([GRID1, GRID4].map(async (g) => [g, await t.token(Department.CIVIL_AFFAIRS, { user: `civil-${g}`, region: g })])));
    const kids = children[GRID1];

    // Reports (URGENT: verify within 60 minutes, handle within a day). Grid 1: 6 handled in time …
    for (let i = 0; i < 6; i++) await step(await file(GRID1, kids[i]), 'VERIFYING', 'HANDLED');
    // … 2 filed two days ago and handled only now, 3 filed two days ago and never verified (5 late) …
    for (let i = 6; i < 11; i++) {
      const id = await daysAgo(2, () => file(GRID1, kids[i]));
      if (i < 8) await step(id, 'VERIFYING', 'HANDLED');
    }
    // … one just received and one being verified, neither yet due: no outcome yet.
    await file(GRID1, kids[11]);
    await step(await file(GRID1, kids[12]), 'VERIFYING');
    // Grid 2: one report in time about a child the registry does not know, placed by the grid it was filed for.
    await step(await file(GRID2), 'VERIFYING', 'UNFOUNDED');

    // Referrals (answer within 72 hours, complete within 30 days). Grid 1: 3 completed and 2 declined in time …
    for (let i = 0; i < 5; i++) {
      const id = await refer(GRID1, kids[i]);
      if (i < 3) {
        await gql(education, ACCEPT, { id });
        await gql(education, COMPLETE, { id });
      } else await gql(education, DECLINE, { id });
    }
    // … 2 created four days ago and accepted only now, 3 created then and never answered (5 late) …
    for (let i = 5; i < 10; i++) {
      const id = await daysAgo(4, () => refer(GRID1, kids[i]));
      if (i < 7) await gql(education, ACCEPT, { id });
    }
    // … one pending and one accepted, neither yet due.
    await refer(GRID1, kids[10]);
    await gql(education, ACCEPT, { id: await refer(GRID1, kids[11]) });
    // Street 2: 2 declined in time, a count below k.
    for (const kid of children[GRID4]) await gql(education, DECLINE, { id: await refer(GRID4, kid) });

    // The lone district: one URGENT report filed for grid 1 two days ago and never verified, late; grid 2 none.
    await addMinors(t, LONE_GRID1, 6);
    await addMinors(t, LONE_GRID2, 6);
    const loneReporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'reporter-lone', region: LONE });
    await daysAgo(2, () =>
      gql(loneReporter, FILE, { input: { harmType: 'NEGLECT', observation: '儿童长期独自在家', location: '社区走访', regionCode: LONE_GRID1, urgency: 'URGENT', childDescription: '约8岁女孩' } }),
    );
    // The split district: grid 1 six reports handled in time, grids 2 and 3 two and three late.
    const splitReporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'reporter-split', region: SPLIT });
    const splitPolice = await t.token(Department.POLICE, { user: 'police-split', region: SPLIT });
    const fileSplit = (grid: string) =>
      gql(splitReporter, FILE, { input: { harmType: 'NEGLECT', observation: '儿童长期独自在家', location: '社区走访', regionCode: grid, urgency: 'URGENT', childDescription: '约8岁女孩' } });
    for (let i = 0; i < 6; i++) {
      const id = await fileSplit(SPLIT_GRIDS[0]);
      for (const to of ['VERIFYING', 'HANDLED']) await gql(splitPolice, STEP, { id, to });
    }
    for (let i = 0; i < 5; i++) await daysAgo(2, () => fileSplit(SPLIT_GRIDS[i < 2 ? 1 : 2]));

    await refreshStatistics(t.hub.db.ds);
  });
  afterAll(() => t.stop());

  const rates = async (token: string, level: string) => {
    const r = await t.gql(
      token,
      `{ statisticsRates(level: ${level}) {
          regions { regionCode reportsHandledInTime { ${RATE} } referralsHandledInTime { ${RATE} } }
          total { regionCode reportsHandledInTime { ${RATE} } referralsHandledInTime { ${RATE} } } } }`,
    );
    expect(r.errors).toBeUndefined();
    return r.data.statisticsRates;
  };
  const shown = (value: number) => ({ value, suppressed: false, display: String(value) });

  it('counts reports handled within both deadlines as MET, late or overdue ones as NOT_MET, not-yet-due ones not at all', async () => {
    const { total } = await rates(civil, 'DISTRICT');
    // 6 + 1 in time; 2 handled late + 3 overdue; 2 open and not yet due left out.
    expect(total.reportsHandledInTime).toEqual({
      numerator: shown(7),
      denominator: shown(12),
      percent: 58.3,
      suppressed: false,
      display: '58.3%',
    });
  });

  it('counts referrals answered (and completed) by their deadlines as MET, late or unanswered ones as NOT_MET', async () => {
    const { total } = await rates(civil, 'DISTRICT');
    // 3 completed + 2 declined + 2 declined in street 2; 2 answered late + 3 unanswered; 2 not yet due left out.
    expect(total.referralsHandledInTime).toEqual({
      numerator: shown(7),
      denominator: shown(12),
      percent: 58.3,
      suppressed: false,
      display: '58.3%',
    });
  });

  it('suppresses small parts of the rates, with a complement, like every other rate', async () => {
    const grids = await rates(civil, 'GRID');
    const grid = (code: string) => grids.regions.find((r: any) => r.regionCode === code);
    // Grid 2's single report is below k; grid 1 is hidden with it, else community − grid 1 = grid 2.
    expect(grid(GRID2).reportsHandledInTime).toMatchObject({ numerator: { value: null, display: HIDDEN }, percent: null, suppressed: true, display: 'suppressed' });
    expect(grid(GRID1).reportsHandledInTime).toMatchObject({ numerator: { value: null, display: HIDDEN }, suppressed: true });
    const streets = await rates(await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: DISTRICT }), 'STREET');
    const street = (code: string) => streets.regions.find((r: any) => r.regionCode === code);
    // Street 1 holds every report, street 2 none: a zero denominator is hidden as the trend hides a month
    // without reports, and street 1 with it, else the district minus street 1 would publish the zero.
    expect(street(STREET1).reportsHandledInTime).toMatchObject({ numerator: { value: null, display: HIDDEN }, denominator: { value: null, display: HIDDEN } });
    expect(street(STREET2).reportsHandledInTime).toMatchObject({ numerator: { value: null, display: HIDDEN }, denominator: { value: null, display: HIDDEN } });
    expect(streets.total.reportsHandledInTime).toMatchObject({ numerator: shown(7), denominator: shown(12) });
    // Nor does the district minus the grids it shows give a small remainder, whatever lies hidden between
    // them: the street and community were hidden, and grid 1's 11 published would have left grid 2's 1.
    for (const part of ['numerator', 'denominator']) {
      const published = grids.regions.reduce((n: number, r: any) => n + (r.reportsHandledInTime[part].value ?? 0), 0);
      const remainder = grids.total.reportsHandledInTime[part].value - published;
      expect(remainder === 0 || remainder >= K).toBe(true);
    }
    // Street 2's two referrals are below k; street 1's MET cell is hidden to protect them.
    expect(street(STREET2).referralsHandledInTime).toMatchObject({ numerator: { value: null, display: HIDDEN }, suppressed: true });
    expect(street(STREET1).referralsHandledInTime).toMatchObject({ numerator: { value: null, display: HIDDEN }, suppressed: true });
    expect(streets.total.referralsHandledInTime).toMatchObject({ numerator: shown(7), denominator: shown(12) });
  });

  it('publishes no numerator beside a hidden denominator, and hides a denominator of zero as the trend hides a zero month', async () => {
    // A red-team probe: grid 1's single late report read "0 of x" to a school officer (1–4 reports, every
    // one late) and grid 2's none "0 of 0", while the same officer's trend hid both grids' REPORTS months.
    const officer = await t.token(Department.EDUCATION, { region: LONE });
    const hidden = { numerator: { value: null, suppressed: true, display: HIDDEN }, denominator: { value: null, suppressed: true, display: HIDDEN }, percent: null, suppressed: true, display: 'suppressed' };
    for (const level of ['GRID', 'COMMUNITY', 'STREET', 'DISTRICT']) {
      const { regions, total } = await rates(officer, level);
      for (const region of [...regions, total]) {
        expect(region.reportsHandledInTime).toEqual(hidden);
        expect(region.referralsHandledInTime).toEqual(hidden);
      }
    }
    const reports = async (region: string) => {
      const r = await t.gql(await t.token(Department.EDUCATION, { region }), `{ monthlyTrend(months: 1) { points { series count { ${CELL} } } } }`);
      expect(r.errors).toBeUndefined();
      return r.data.monthlyTrend.points.find((p: { series: string }) => p.series === 'REPORTS').count;
    };
    expect([await reports(LONE_GRID1), await reports(LONE_GRID2)]).toEqual([
      { value: null, suppressed: true, display: HIDDEN },
      { value: null, suppressed: true, display: HIDDEN },
    ]);
  });

  it('hides a hidden denominator’s numerator in the table, so that a region’s numerator minus its sub-regions’ does not give it back', async () => {
    // The community: 6 of 11 in time. Grids 2 and 3 (2 and 3 reports, none in time) are below k and hidden
    // together; their numerators, 0, were published beside their hidden denominators, and hidden in the
    // answer alone they were the community's 6 minus grid 1's published 6: both grids' reports all late.
    const officer = await t.token(Department.EDUCATION, { region: SPLIT });
    const community = (await rates(officer, 'COMMUNITY')).regions.find((r: { regionCode: string }) => r.regionCode === SPLIT_COMMUNITY);
    expect(community.reportsHandledInTime).toEqual({ numerator: shown(6), denominator: shown(11), percent: 54.5, suppressed: false, display: '54.5%' });
    const grids = (await rates(officer, 'GRID')).regions;
    expect(grids.map((r: { regionCode: string }) => r.regionCode)).toEqual(SPLIT_GRIDS);
    const hiddenCell = { value: null, suppressed: true, display: HIDDEN };
    expect(grids.map((r: { reportsHandledInTime: unknown }) => r.reportsHandledInTime)).toEqual([
      { numerator: hiddenCell, denominator: shown(6), percent: null, suppressed: true, display: 'suppressed' },
      { numerator: hiddenCell, denominator: hiddenCell, percent: null, suppressed: true, display: 'suppressed' },
      { numerator: hiddenCell, denominator: hiddenCell, percent: null, suppressed: true, display: 'suppressed' },
    ]);
  });

  it('counts reports by the month received and referrals by the month created, in the grid filed for and the region made at', async () => {
    const trend = async (token: string) => {
      const r = await t.gql(token, `{ monthlyTrend(months: 2) { points { month series count { ${CELL} } } } }`);
      expect(r.errors).toBeUndefined();
      return r.data.monthlyTrend.points as { month: string; series: string; count: { value: number | null; suppressed: boolean; display: string } }[];
    };
    const truth = new Map(
      (
        await t.sql(
          `SELECT to_char(statistics.china_day(received_at), 'YYYY-MM') || '|REPORTS' AS k, count(*)::int AS n FROM workflow.mandatory_report WHERE region_code LIKE $1 GROUP BY 1
           UNION ALL
           SELECT to_char(statistics.china_day(created_at), 'YYYY-MM') || '|REFERRALS', count(*)::int FROM workflow.referral WHERE region_code LIKE $1 GROUP BY 1`,
          [`${DISTRICT}%`],
        )
      ).map((r) => [r.k as string, r.n as number]),
    );
    const points = await trend(civil);
    expect(new Set(points.map((p) => p.series))).toEqual(new Set(['NEW_CASES', 'ASSESSMENTS', 'VISITS', 'REPORTS', 'REFERRALS']));
    for (const p of points.filter((x) => x.series === 'REPORTS' || x.series === 'REFERRALS')) {
      const real = truth.get(`${p.month}|${p.series}`) ?? 0;
      if (real < K) expect(p.count).toEqual({ value: null, suppressed: true, display: HIDDEN });
      else expect(p.count).toEqual(shown(real));
    }
    const all = (series: string) => points.filter((p) => p.series === series).reduce((s, p) => s + (p.count.value ?? 0), 0);
    // 14 of each, unless the clock shift split them across a month boundary into small months.
    expect(all('REPORTS')).toBeLessThanOrEqual(14);
    expect(all('REFERRALS')).toBeLessThanOrEqual(14);
    expect(all('REPORTS') + all('REFERRALS')).toBeGreaterThanOrEqual(2 * K);
    // A street-2 officer's trend holds only its own two referrals: below k.
    const street2 = await trend(await t.token(Department.CIVIL_AFFAIRS, { region: STREET2 }));
    const current = street2.find((p) => p.series === 'REFERRALS' && p.month === new Date().toISOString().slice(0, 7))!;
    expect(current.count).toEqual({ value: null, suppressed: true, display: HIDDEN });
  });

  it('counts a report filed for a district at the district, whether or not the ID number it names is registered: the dashboard is no oracle on the registry', async () => {
    // Two districts alike, but for the ID number the reports name: a child of the first, unknown to the registry in the second.
    const [known, unknown] = TWINS;
    const birth = yearsBefore(new Date(), 10);
    const idNumber = (district: string, n: number) => buildIdNumber(district, birth, n);
    for (const district of [known, unknown]) {
      const grid = `${district}001001001`;
      await addMinors(t, grid, 20);
      await t.sql(
        `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code)
         VALUES (gen_random_uuid(), '测试', 'FEMALE', $3, $1, '浙江省杭州市', '浙江省杭州市测试路1号', $2)`,
        [idNumber(district, district === known ? 1 : 2), grid, birth],
      );
      // Five reports filed for the grid two days ago and never verified (late), one for the district
      // then and one now, both naming the child.
      const asReporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, user: `reporter-${district}`, region: district });
      const fileFor = (regionCode: string, childIdNumber?: string) =>
        gql(asReporter, FILE, { input: { harmType: 'NEGLECT', observation: '儿童长期独自在家', location: '学校门口', regionCode, urgency: 'URGENT', ...(childIdNumber ? { childIdNumber } : { childDescription: '约8岁女孩' }) } });
      for (let i = 0; i < 5; i++) await daysAgo(2, () => fileFor(grid));
      await daysAgo(2, () => fileFor(district, idNumber(district, 1)));
      await fileFor(district, idNumber(district, 1));
    }
    expect(await t.sql(`SELECT count(*)::int AS n FROM workflow.mandatory_report WHERE region_code IN ($1, $2) AND minor_id IS NOT NULL`, [known, unknown])).toEqual([{ n: 2 }]);
    await refreshStatistics(t.hub.db.ds);

    const dashboard = async (district: string) => {
      const token = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: district });
      const r = await t.gql(
        token,
        `{ monthlyTrend(months: 2) { points { month series count { ${CELL} } } }
           statisticsRates(level: STREET) { regions { regionCode reportsHandledInTime { ${RATE} } } total { regionCode reportsHandledInTime { ${RATE} } } } }`,
      );
      expect(r.errors).toBeUndefined();
      return JSON.parse(JSON.stringify(r.data).replaceAll(district, 'DISTRICT'));
    };
    const [registered, unregistered] = [await dashboard(known), await dashboard(unknown)];
    expect(registered).toEqual(unregistered);
    // All seven counted: six late ones in the district's rate, each in the month it was filed.
    expect(registered.statisticsRates.total.reportsHandledInTime).toMatchObject({ numerator: shown(0), denominator: shown(6), percent: 0 });
    // The street's five and the district's own one form the district's line: the street's hidden, or
    // the district minus the street would publish the one.
    expect(registered.statisticsRates.regions).toHaveLength(1);
    expect(registered.statisticsRates.regions[0].reportsHandledInTime.denominator.suppressed).toBe(true);
    const truth = await t.sql(
      `SELECT to_char(statistics.china_day(received_at), 'YYYY-MM') AS month, count(*)::int AS n FROM workflow.mandatory_report WHERE region_code LIKE $1 GROUP BY 1`,
      [`${known}%`],
    );
    expect(truth.reduce((n, r) => n + r.n, 0)).toBe(7);
    for (const { month, n } of truth) {
      const point = registered.monthlyTrend.points.find((p: { month: string; series: string }) => p.month === month && p.series === 'REPORTS');
      expect(point.count).toEqual(n < K ? { value: null, suppressed: true, display: HIDDEN } : shown(n));
    }
  });

  it('counts a referral at the region it was made at, where its row rule places it: a street counts none its officers may not list, and a moving child takes none along', async () => {
    const [grid1, grid2] = [MOVES_STREET1, MOVES_STREET2].map((s) => `${s}001001`);
    await addMinors(t, grid1, 13);
    const kids = (await t.sql(`SELECT id FROM registry.minor WHERE grid_code = $1 ORDER BY id`, [grid1])).map((r) => r.id as string);
    const officer = (department: Department, region: string) => t.token(department, { user: `${department}-${region}`, region });
    const answering = await officer(Department.EDUCATION, MOVES);
    // A red-team probe: six referrals the district's civil affairs made about street 1's children
    // counted in street 1's trend and rate, though no officer of street 1 may list them.
    const byDistrict = await officer(Department.CIVIL_AFFAIRS, MOVES);
    for (const kid of kids.slice(0, 6)) await gql(answering, DECLINE, { id: await referAs(byDistrict, kid) });
    // Seven made by street 1's own civil affairs (more than the district's own six, which the
    // district's line then hides to protect street 2's zero), about children who then move to street 2.
    const byStreet1 = await officer(Department.CIVIL_AFFAIRS, MOVES_STREET1);
    for (const kid of kids.slice(6, 13)) await gql(answering, DECLINE, { id: await referAs(byStreet1, kid) });
    await t.sql(`UPDATE registry.minor SET grid_code = $1 WHERE id = ANY($2)`, [grid2, kids.slice(6, 13)]);
    await refreshStatistics(t.hub.db.ds);

    const seen = async (token: string, level = 'STREET') => {
      const r = await t.gql(
        token,
        `{ referrals(first: 100) { id }
           statisticsRates(level: ${level}) { total { referralsHandledInTime { ${RATE} } } }
           monthlyTrend(months: 1) { points { series count { ${CELL} } } } }`,
      );
      expect(r.errors).toBeUndefined();
      return {
        listed: r.data.referrals.length,
        rate: r.data.statisticsRates.total.referralsHandledInTime.denominator,
        trend: r.data.monthlyTrend.points.find((p: { series: string }) => p.series === 'REFERRALS').count,
      };
    };
    const none = { value: null, suppressed: true, display: HIDDEN };
    // Street 1: its own seven, all declined in time; the district's six are not its.
    expect(await seen(byStreet1)).toEqual({ listed: 7, rate: shown(7), trend: shown(7) });
    // The school officer of street 1, to whom they were made, counts the same seven.
    expect(await seen(await officer(Department.EDUCATION, MOVES_STREET1))).toEqual({ listed: 7, rate: shown(7), trend: shown(7) });
    // Street 2: none made there, whoever lives there now.
    expect(await seen(await officer(Department.CIVIL_AFFAIRS, MOVES_STREET2))).toEqual({ listed: 0, rate: none, trend: none });
    // The district: all thirteen, its own six among them.
    expect(await seen(byDistrict, 'DISTRICT')).toEqual({ listed: 13, rate: shown(13), trend: shown(13) });
  });

  // Last: it adds reports to the summaries the tests above count.
  it('places a report at the region it was filed for, whoever it names: the trend is no oracle on the registry', async () => {
    const month = new Date().toISOString().slice(0, 7);
    const reports = async () =>
      new Map(
        (
          await t.sql(
            `SELECT region_code, sum(events)::int AS n FROM statistics.monthly_event WHERE series = 'REPORTS' AND to_char(month, 'YYYY-MM') = $1 AND district_code = $2 GROUP BY region_code`,
            [month, DISTRICT],
          )
        ).map((r) => [r.region_code as string, r.n as number]),
      );
    const before = await reports();
    // Filed for a grid of street 2: naming a registered child of street 1, and naming nobody.
    await file(GRID4, children[GRID1][15]);
    await file(GRID4);
    // Filed for a street: at the street, whether the child named lives there or not.
    await file(STREET1, children[GRID1][16]);
    await file(STREET2, children[GRID1][17]);
    await refreshStatistics(t.hub.db.ds);
    const after = await reports();
    const delta = (region: string) => (after.get(region) ?? 0) - (before.get(region) ?? 0);
    expect([delta(GRID4), delta(STREET1), delta(STREET2), delta(GRID1), delta(GRID2)]).toEqual([2, 1, 1, 0, 0]);
  });
});
