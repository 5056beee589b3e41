import { Department, Role } from '../src/auth/principal';
import { chinaDay } from '../src/common/dates';
import { refreshStatistics, warmTables } from '../src/subgraphs/statistics';
import { eventsOf, post } from './support/audit-helpers';
import { addRegionChain } from './support/statistics-fixtures';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';
import { describeBrowser, HeadlessChromium, launchChromium } from './support/chromium';

declare const document: any;

jest.setTimeout(300_000);

/**
 * Code review of the statistics subgraph around suppression (redteam17): ages and months on the
 * China day of the refresh, concurrent and failing refreshes, the cache between callers, scope of
 * odd region codes, argument validation and the audit of statistics requests.
 */
const OTHER = '330199';
const STREET_A = '330199001';
const STREET_B = '330199002';
const GRID_A = '330199001001001';
const GRID_B = '330199002001001';
const LEAK = /relation |column |syntax error|QueryFailed|\.ts:\d|\bat [A-Za-z.]+ \(|SELECT |statistics\./i;

describe('statistics code review (redteam17)', () => {
  let t: TestHub;
  let logSpy: jest.SpyInstance;

  /** n children in `grid` born on `birth` (a date), registered at `createdAt`. */
  const addChildren = async (grid: string, n: number, birth: string, createdAt?: string) => {
    await t.sql(
      `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code, created_at)
       SELECT gen_random_uuid(), '红队', CASE WHEN i % 2 = 0 THEN 'MALE' ELSE 'FEMALE' END, $3::date,
              upper(substr(md5(gen_random_uuid()::text), 1, 18)), '浙江省杭州市上城区', '浙江省杭州市上城区测试路1号', $1, coalesce($4::timestamptz, now())
       FROM generate_series(1, $2::int) i`,
      [grid, n, birth, createdAt ?? null],
    );
  };
  const yearsBefore = (day: string, years: number, plusDays = 0) => {
    const [y, m, d] = day.split('-').map(Number);
    return new Date(Date.UTC(y - years, m - 1, d + plusDays)).toISOString().slice(0, 10);
  };

  beforeAll(async () => {
    logSpy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    t = await startTestHub();
    await addRegionChain(t, GRID_A);
    await addRegionChain(t, GRID_B);
    // Regions a token names must exist when the region directory first loads (it reloads at most every 30 s).
    await t.sql(`INSERT INTO registry.region (code, parent_code, level, name) VALUES ('330198', NULL, 'DISTRICT', '空区'), ('330197', NULL, 'DISTRICT', '空区二'), ('330197001', '330197', 'STREET', '空街')`);
  });
  afterAll(async () => {
    logSpy.mockRestore();
    await t?.stop();
  });

  it('counts ages on the China day of the refresh: 18 today in China is out, 3 today in China is AGE_3_5', async () => {
    const today = chinaDay(new Date());
    // 6 children 18 today in China (not minors), 6 aged 17 until tomorrow in China, 6 aged 3 today in China.
    await addChildren(GRID_A, 6, yearsBefore(today, 18));
    await addChildren(GRID_A, 6, yearsBefore(today, 18, 1));
    await addChildren(GRID_A, 6, yearsBefore(today, 3));
    await refreshStatistics(t.hub.db.ds);
    const rows = await t.sql(`SELECT age_band, sum(minors)::int AS n FROM statistics.minor_cube WHERE grid_code = $1 GROUP BY age_band ORDER BY age_band`, [GRID_A]);
    expect(rows).toEqual([
      { age_band: 'AGE_15_17', n: 6 },
      { age_band: 'AGE_3_5', n: 6 },
    ]);
    const officer = await t.token(Department.CIVIL_AFFAIRS, { region: OTHER });
    const r = await t.gql(officer, `{ minorCounts(level: DISTRICT) { total { value suppressed } } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data.minorCounts.total).toEqual({ value: 12, suppressed: false });
  });

  it('buckets new cases by the month in China: 00:30 on the 1st in China is this month, 23:30 the day before is the last', async () => {
    const today = chinaDay(new Date());
    const [y, m] = today.split('-').map(Number);
    const firstUtc = Date.UTC(y, m - 1, 1) - 8 * 3600_000; // 00:00 on the 1st in China
    const thisMonth = new Date(Date.UTC(y, m - 1, 1)).toISOString().slice(0, 7);
    const lastMonth = new Date(Date.UTC(y, m - 2, 1)).toISOString().slice(0, 7);
    await addChildren(GRID_B, 5, yearsBefore(today, 10), new Date(firstUtc + 30 * 60_000).toISOString());
    await addChildren(GRID_B, 6, yearsBefore(today, 10), new Date(firstUtc - 30 * 60_000).toISOString());
    await refreshStatistics(t.hub.db.ds);
    const officer = await t.token(Department.CIVIL_AFFAIRS, { region: STREET_B });
    const r = await t.gql(officer, `{ monthlyTrend(months: 2) { points { month series count { value suppressed } } } }`);
    expect(r.errors).toBeUndefined();
    const newCases = r.data.monthlyTrend.points.filter((p: any) => p.series === 'NEW_CASES');
    expect(newCases).toEqual([
      { month: lastMonth, series: 'NEW_CASES', count: { value: 6, suppressed: false } },
      { month: thisMonth, series: 'NEW_CASES', count: { value: 5, suppressed: false } },
    ]);
  });

  it('refreshes once when two refreshes race, and serves answers meanwhile', async () => {
    const officer = await t.token(Department.CIVIL_AFFAIRS, { region: OTHER });
    const q = `{ minorCounts(level: STREET, by: [GENDER]) { refreshedAt total { value } } }`;
    const [a, b, answer] = await Promise.all([refreshStatistics(t.hub.db.ds), refreshStatistics(t.hub.db.ds), t.gql(officer, q)]);
    expect([a, b].filter(Boolean).length).toBe(1);
    expect(answer.errors).toBeUndefined();
    const after = await t.gql(officer, q);
    expect(after.errors).toBeUndefined();
    const [{ at }] = await t.sql(`SELECT refreshed_at AS at FROM statistics.refresh`);
    expect(new Date(after.data.minorCounts.refreshedAt).getTime()).toBe(new Date(at).getTime());
  });

  it('keeps the previous summaries and stamp when a refresh fails half-way', async () => {
    const officer = await t.token(Department.CIVIL_AFFAIRS, { region: OTHER });
    const q = `{ minorCounts(level: STREET) { refreshedAt total { value } } }`;
    const before = await t.gql(officer, q);
    await addChildren(GRID_A, 7, '2016-06-01');
    // The third view (monthly_event) cannot be refreshed concurrently without its unique index.
    const [{ def }] = await t.sql(`SELECT indexdef AS def FROM pg_indexes WHERE schemaname = 'statistics' AND indexname = 'monthly_event_key'`);
    await t.sql(`DROP INDEX statistics.monthly_event_key`);
    try {
      await expect(refreshStatistics(t.hub.db.ds)).rejects.toThrow();
    } finally {
      await t.sql(def);
    }
    const failed = await t.gql(officer, q);
    expect(failed.errors).toBeUndefined();
    expect(failed.data.minorCounts).toEqual(before.data.minorCounts);
    await refreshStatistics(t.hub.db.ds);
    const after = await t.gql(officer, q);
    expect(after.errors).toBeUndefined();
    expect(after.data.minorCounts.total.value).toBe(before.data.minorCounts.total.value + 7);
  });

  it('cuts a cached table to each caller: street A and street B officers of one district', async () => {
    const q = `{ minorCounts(level: GRID, by: [AGE_BAND]) { cells { regionCode } total { value } } }`;
    const a = await t.gql(await t.token(Department.POLICE, { region: STREET_A }), q);
    const b = await t.gql(await t.token(Department.POLICE, { region: STREET_B }), q);
    expect(a.errors).toBeUndefined();
    expect(b.errors).toBeUndefined();
    expect(new Set(a.data.minorCounts.cells.map((c: any) => c.regionCode))).toEqual(new Set([GRID_A]));
    expect(new Set(b.data.minorCounts.cells.map((c: any) => c.regionCode))).toEqual(new Set([GRID_B]));
    expect(a.data.minorCounts.total.value).not.toBe(b.data.minorCounts.total.value);
  });

  it('folds categories for a school asking after civil affairs, and a dashboard after police', async () => {
    const q = `{ minorCounts(level: STREET, by: [CATEGORY, RISK_LEVEL]) { categoriesFolded cells { category } } }`;
    const ca = await t.gql(await t.token(Department.CIVIL_AFFAIRS), q);
    const ed = await t.gql(await t.token(Department.EDUCATION), q);
    const dash = await t.gql(await t.token(Department.POLICE, { role: Role.DASHBOARD }), q);
    for (const r of [ca, ed, dash]) expect(r.errors).toBeUndefined();
    expect(ca.data.minorCounts.categoriesFolded).toBe(false);
    for (const r of [ed, dash]) {
      expect(r.data.minorCounts.categoriesFolded).toBe(true);
      const cats = new Set(r.data.minorCounts.cells.map((c: any) => c.category));
      expect(cats.has('CRIME_VICTIM')).toBe(false);
      expect(cats.has('NEEDS_SUPPORT')).toBe(true);
    }
  });

  it('answers region codes in odd forms without another jurisdiction', async () => {
    const q = `{ minorCounts(level: STREET) { cells { regionCode } total { value } } }`;
    for (const region of ['3301990', '33019900', '330199001001', '3301020', '330102001001001001'.slice(0, 15)]) {
      const r = await t.gql(await t.token(Department.CIVIL_AFFAIRS, { region }), q);
      if (r.errors) {
        // A code that is no node of the region tree is refused at the token (region directory).
        expect(['FORBIDDEN', 'UNAUTHENTICATED', 'BAD_USER_INPUT']).toContain(r.errors[0].extensions?.code);
        expect(r.errors[0].message).not.toMatch(LEAK);
      } else {
        expect(r.data.minorCounts.cells.every((c: any) => c.regionCode.startsWith(region))).toBe(true);
      }
    }
  });

  it('refuses a dashboard of a community the street table, the community table and the trend', async () => {
    const dash = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: GRID_A.slice(0, 12) });
    const codes = async (q: string) => (await t.gql(dash, q)).errors?.map((e) => e.extensions?.code);
    expect(await codes(`{ minorCounts(level: STREET) { total { value } } }`)).toEqual(['BAD_USER_INPUT']);
    expect(await codes(`{ minorCounts(level: COMMUNITY) { total { value } } }`)).toEqual(['FORBIDDEN']);
    expect(await codes(`{ statisticsRates(level: COMMUNITY) { total { regionCode } } }`)).toEqual(['FORBIDDEN']);
    expect(await codes(`{ monthlyTrend { points { month } } }`)).toEqual(['FORBIDDEN']);
  });

  it('types argument errors: duplicates, months out of range, overdue by category', async () => {
    const officer = await t.token(Department.CIVIL_AFFAIRS, { region: OTHER });
    const code = async (q: string) => {
      const r = await t.gql(officer, q);
      for (const e of r.errors ?? []) expect(e.message).not.toMatch(LEAK);
      return r.errors?.map((e) => e.extensions?.code);
    };
    expect(await code(`{ minorCounts(level: GRID, by: [GENDER, GENDER]) { total { value } } }`)).toEqual(['BAD_USER_INPUT']);
    expect(await code(`{ minorCounts(level: GRID, by: []) { total { value } } }`)).toBeUndefined();
    expect(await code(`{ minorCounts(level: GRID, by: [CATEGORY], measure: OVERDUE_VISITS) { total { value } } }`)).toEqual(['BAD_USER_INPUT']);
    expect(await code(`{ minorCounts(level: GRID, by: [AGE_BAND], measure: OVERDUE_VISITS) { total { value } } }`)).toEqual(['BAD_USER_INPUT']);
    expect(await code(`{ monthlyTrend(months: 0) { points { month } } }`)).toEqual(['BAD_USER_INPUT']);
    expect(await code(`{ monthlyTrend(months: 37) { points { month } } }`)).toEqual(['BAD_USER_INPUT']);
    expect(await code(`{ monthlyTrend(months: -2147483648) { points { month } } }`)).toEqual(['BAD_USER_INPUT']);
    expect(await code(`{ minorCounts(level: GRID, by: [NOPE]) { total { value } } }`)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('audits a statistics request: operation, outcome, no child read', async () => {
    const officer = await t.token(Department.CIVIL_AFFAIRS, { region: OTHER });
    const ok = await post(t, officer, { query: `query Stats { minorCounts(level: STREET) { total { value } } }` });
    expect(ok.json.errors).toBeUndefined();
    const [ev] = await eventsOf(t, ok.requestId);
    expect(ev.outcome).toBe('SUCCESS');
    expect(ev.body.operation ?? ev.body.operationName).toBeDefined();
    expect(JSON.stringify(ev.body)).toContain('Stats');
    const dash = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: OTHER });
    const denied = await post(t, dash, { query: `query Stats { minorCounts(level: GRID) { total { value } } }` });
    expect(denied.json.errors[0].extensions.code).toBe('FORBIDDEN');
    const [dev] = await eventsOf(t, denied.requestId);
    expect(dev.outcome).toBe('DENIED');
    const bad = await post(t, officer, { query: `query Stats { minorCounts(level: GRID, by: [GENDER, GENDER]) { total { value } } }` });
    const [bev] = await eventsOf(t, bad.requestId);
    expect(bev.outcome).toBe('INVALID');
  });

  it('warms the tables after a refresh without handing one caller another’s', async () => {
    const a = await t.token(Department.POLICE, { region: STREET_A });
    const q = `{ minorCounts(level: GRID, by: [GENDER]) { cells { regionCode } } }`;
    await t.gql(a, q);
    await refreshStatistics(t.hub.db.ds);
    await warmTables(t.hub.db.ds);
    const b = await t.gql(await t.token(Department.EDUCATION, { region: STREET_B }), q);
    expect(b.errors).toBeUndefined();
    expect(b.data.minorCounts.cells.every((c: any) => c.regionCode.startsWith(STREET_B))).toBe(true);
  });

  it('keeps every answer consistent with its refresh stamp while refreshes, warm-ups and requests race', async () => {
    const officers = await Promise.all([
      t.token(Department.CIVIL_AFFAIRS, { region: OTHER }),
      t.token(Department.POLICE, { region: OTHER }),
      t.token(Department.EDUCATION, { region: OTHER }),
      t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: OTHER }),
    ]);
    const q = `{ minorCounts(level: STREET, by: [RISK_LEVEL]) { refreshedAt total { value suppressed } } }`;
    const seen = new Map<string, Set<number>>();
    const asks: Promise<void>[] = [];
    const ask = async (token: string) => {
      const r = await t.gql(token, q);
      expect(r.errors).toBeUndefined();
      const { refreshedAt, total } = r.data.minorCounts;
      expect(total.suppressed).toBe(false);
      (seen.get(refreshedAt) ?? seen.set(refreshedAt, new Set()).get(refreshedAt)!).add(total.value);
    };
    for (let round = 0; round < 4; round++) {
      await addChildren(GRID_A, 5, '2015-03-03');
      for (let i = 0; i < 6; i++) asks.push(ask(officers[i % officers.length]));
      const refresh = refreshStatistics(t.hub.db.ds).then(() => warmTables(t.hub.db.ds));
      for (let i = 0; i < 6; i++) asks.push(ask(officers[i % officers.length]));
      await refresh;
    }
    await Promise.all(asks);
    const stamps = [...seen.keys()].sort();
    for (const at of stamps) expect([at, [...seen.get(at)!]]).toEqual([at, [expect.any(Number)]]);
    const totals = stamps.map((at) => [...seen.get(at)!][0]);
    expect(totals).toEqual([...totals].sort((a, b) => a - b));
  });

  it('refuses statistics to auditors, reporters and employers, typed', async () => {
    for (const role of [Role.AUDITOR, Role.REPORTER, Role.EMPLOYER]) {
      const token = await t.token(Department.CIVIL_AFFAIRS, { role, region: OTHER });
      for (const q of [
        `{ minorCounts(level: DISTRICT) { total { value } } }`,
        `{ statisticsRates(level: DISTRICT) { total { regionCode } } }`,
        `{ monthlyTrend { points { month } } }`,
        `{ statisticsFreshness { refreshedAt } }`,
        `{ statisticsScope { regionCode } }`,
      ]) {
        const r = await t.gql(token, q);
        expect([role, q, r.errors?.map((e) => e.extensions?.code)]).toEqual([role, q, ['FORBIDDEN']]);
      }
    }
  });

  it('serves statistics without a declared purpose, audited as one event', async () => {
    const officer = await t.token(Department.POLICE, { region: STREET_A });
    const r = await post(t, officer, { query: `query Two { a: minorCounts(level: GRID) { total { value } } b: statisticsRates(level: GRID) { total { regionCode } } c: monthlyTrend(months: 3) { points { month } } }` }, {});
    expect([r.status, r.json.errors]).toEqual([200, undefined]);
    const events = await eventsOf(t, r.requestId);
    expect(events.map((e) => e.outcome)).toEqual(['SUCCESS']);
    const dash = await t.token(Department.POLICE, { role: Role.DASHBOARD, region: STREET_A });
    const d = await post(t, dash, { query: `query Rates { statisticsRates(level: STREET) { total { regionCode intervention { display } screening { display } } } }` }, {});
    expect(d.json.errors.map((e: any) => [e.extensions.code, e.path.join('.')])).toEqual([['FORBIDDEN', 'statisticsRates.total.intervention']]);
    expect((await eventsOf(t, d.requestId)).map((e) => e.outcome)).toEqual(['PARTIAL']);
  });

  it('answers a district without children, and one whose street has no grid, without an internal error', async () => {
    await refreshStatistics(t.hub.db.ds);
    for (const region of ['330198', '330197', '330197001']) {
      for (const token of [await t.token(Department.POLICE, { region }), await t.token(Department.EDUCATION, { role: Role.DASHBOARD, region })]) {
        for (const q of [
          `{ minorCounts(level: STREET, by: [RISK_LEVEL]) { cells { regionCode count { display } } total { display } } }`,
          `{ minorCounts(level: STREET, by: [CATEGORY]) { cells { regionCode } total { display } } }`,
          `{ statisticsRates(level: STREET) { regions { regionCode } total { screening { display } reportsHandledInTime { display } } } }`,
          `{ monthlyTrend(months: 2) { points { count { display } } } }`,
          `{ statisticsScope { regionCode level finestLevel } }`,
        ]) {
          const r = await t.gql(token, q);
          expect([region, q, (r.errors ?? []).map((e) => e.extensions?.code).filter((c) => c !== 'FORBIDDEN')]).toEqual([region, q, []]);
        }
      }
    }
  });

  it('skips a timer tick when the summaries are fresh, and refreshes when they are not', async () => {
    await refreshStatistics(t.hub.db.ds);
    expect(await refreshStatistics(t.hub.db.ds, 60)).toBe(false);
    await t.sql(`UPDATE statistics.refresh SET refreshed_at = now() - interval '2 minutes'`);
    expect(await refreshStatistics(t.hub.db.ds, 60)).toBe(true);
  });

  it('answers the largest category tables of the demo district promptly or refuses them typed', async () => {
    const police = await t.token(Department.POLICE);
    const school = await t.token(Department.EDUCATION);
    for (const token of [police, school]) {
      for (const level of ['STREET', 'COMMUNITY', 'GRID']) {
        const started = Date.now();
        const r = await t.gql(token, `{ minorCounts(level: ${level}, by: [CATEGORY, RISK_LEVEL, AGE_BAND, GENDER]) { cells { regionCode } } }`);
        const ms = Date.now() - started;
        expect((r.errors ?? []).map((e) => e.extensions?.code).filter((c) => c !== 'BAD_USER_INPUT' && c !== 'LIMIT_EXCEEDED')).toEqual([]);
        expect(ms).toBeLessThan(10_000);
      }
    }
  });

  it('serves the dashboard’s own files only, each with its headers', async () => {
    const origin = new URL(t.hub.url).origin;
    const get = async (path: string) => {
      const res = await fetch(origin + path, { redirect: 'manual' });
      return { status: res.status, csp: res.headers.get('content-security-policy'), frame: res.headers.get('x-frame-options'), body: await res.text() };
    };
    const index = await get('/dashboard/');
    expect(index.status).toBe(200);
    expect(index.csp).toContain("default-src 'none'");
    expect((await get('/dashboard/vendor/chart.umd.min.js')).status).toBe(200);
    for (const path of [
      '/dashboard/%2e%2e/package.json',
      '/dashboard/..%2fpackage.json',
      '/dashboard/..%5c..%5cpackage.json',
      '/dashboard/vendor/..%2f..%2f..%2f..%2f..%2fpackage.json',
      '/dashboard/vendor/chart.umd.min.js/..%2f..%2fpackage.json',
      '/dashboard/.env',
      '/dashboard/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json',
      '/dashboard//etc/passwd',
      '/dashboard/vendor/',
      '/dashboard/../statistics.dashboard.ts',
      '/dashboard/%2e%2e/statistics.dashboard.ts',
    ]) {
      const r = await get(path);
      expect([path, r.status === 200 && !/^<!doctype html>/i.test(r.body.trim()) ? r.body.slice(0, 80) : 'not served']).toEqual([path, 'not served']);
      expect(r.body).not.toMatch(/"name":\s*"|root:|import /);
    }
  });

  it('moves a child’s count with the child after a refresh, and keeps the old one until then', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code = $1 AND birth_date = '2015-03-03' LIMIT 1`, [GRID_A]);
    const q = `{ minorCounts(level: GRID) { refreshedAt cells { regionCode count { value } } } }`;
    const officer = await t.token(Department.CIVIL_AFFAIRS, { region: OTHER });
    await refreshStatistics(t.hub.db.ds);
    const count = (r: any, grid: string) => r.data.minorCounts.cells.find((c: any) => c.regionCode === grid).count.value;
    const before = await t.gql(officer, q);
    const moved = await t.gql(officer, `mutation($id: ID!) { updateMinor(id: $id, input: { gridCode: "${GRID_B}" }) { id } }`, { id });
    expect(moved.errors).toBeUndefined();
    expect(await t.gql(officer, q)).toEqual(before);
    await refreshStatistics(t.hub.db.ds);
    const after = await t.gql(officer, q);
    expect([count(after, GRID_A), count(after, GRID_B)]).toEqual([count(before, GRID_A) - 1, count(before, GRID_B) + 1]);
  });

  it('labels the trend’s months by the refresh’s day in China (a stamp at 20:00 UTC on the last of a month is the next month)', async () => {
    const officer = await t.token(Department.CIVIL_AFFAIRS, { region: OTHER });
    await t.sql(`UPDATE statistics.refresh SET refreshed_at = '2026-11-30T20:00:00Z'`);
    const r = await t.gql(officer, `{ monthlyTrend(months: 2) { refreshedAt points { month } } }`);
    expect(r.errors).toBeUndefined();
    expect([...new Set(r.data.monthlyTrend.points.map((p: any) => p.month))]).toEqual(['2026-11', '2026-12']);
    await refreshStatistics(t.hub.db.ds);
  });

  it('[observation] a stamp ahead of the database clock makes every timer tick skip', async () => {
    await t.sql(`UPDATE statistics.refresh SET refreshed_at = now() + interval '1 hour'`);
    const skipped = await refreshStatistics(t.hub.db.ds, 150);
    await refreshStatistics(t.hub.db.ds);
    console.warn(`refresh with a stamp 1 h ahead: ${skipped ? 'refreshed' : 'skipped'}`);
  });
});


describe('statistics served alone behind the gateway (redteam17)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startDistributedTestHub();
  });
  afterAll(() => t?.stop());

  it('answers the same typed errors and figures as in process', async () => {
    const police = await t.token(Department.POLICE);
    const dash = await t.token(Department.POLICE, { role: Role.DASHBOARD });
    const cases: [string, string, string[] | undefined][] = [
      [police, `{ minorCounts(level: GRID, by: [GENDER, GENDER]) { total { value } } }`, ['BAD_USER_INPUT']],
      [dash, `{ minorCounts(level: GRID) { total { value } } }`, ['FORBIDDEN']],
      [dash, `{ minorCounts(level: STREET, measure: OVERDUE_VISITS) { total { value } } }`, ['FORBIDDEN']],
      [police, `{ monthlyTrend(months: 99) { points { month } } }`, ['BAD_USER_INPUT']],
      [dash, `{ statisticsRates(level: STREET) { total { intervention { display } } } }`, ['FORBIDDEN']],
      [police, `{ minorCounts(level: STREET, by: [RISK_LEVEL]) { total { value } } }`, undefined],
    ];
    for (const [token, q, codes] of cases) {
      const r = await t.gql(token, q);
      for (const e of r.errors ?? []) expect(e.message).not.toMatch(LEAK);
      expect([q, r.errors?.map((e) => e.extensions?.code)]).toEqual([q, codes]);
    }
    const r = await post(t, police, { query: `query D { minorCounts(level: STREET) { total { value } } monthlyTrend(months: 1) { refreshedAt } }` }, {});
    expect(r.json.errors).toBeUndefined();
    const events = await eventsOf(t, r.requestId);
    expect(events.map((e) => [e.outcome, e.body.operationName, e.body.reads])).toEqual([['SUCCESS', 'D', []]]);
  });
});

describeBrowser('dashboard page under HUB_STATISTICS_FINEST_LEVELS=DASHBOARD=DISTRICT (redteam17)', () => {
  let t: TestHub;
  let chromium: HeadlessChromium;

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_STATISTICS_FINEST_LEVELS: 'DASHBOARD=DISTRICT' } });
    chromium = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await chromium?.close();
    await t?.stop();
  });

  it('draws a district dashboard’s figures at the district, the finest level its role may see', async () => {
    const token = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD });
    // The API serves it every figure at DISTRICT …
    const api = await t.gql(token, `{ statisticsScope { level finestLevel } minorCounts(level: DISTRICT, by: [RISK_LEVEL]) { total { value } } statisticsRates(level: DISTRICT) { total { screening { display } } } }`);
    expect(api.errors).toBeUndefined();
    expect(api.data.statisticsScope).toEqual({ level: 'DISTRICT', finestLevel: 'DISTRICT' });
    // … and the page the DASHBOARD role is for draws them.
    const page = await chromium.browser.newPage();
    await page.goto(`${new URL(t.hub.url).origin}/dashboard/`);
    await page.fill('#token', token);
    await page.click('#sign-in-button');
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 20_000 });
    const shown = await page.evaluate(() => ({ state: document.body.dataset.state, error: document.getElementById('error').textContent }));
    expect(shown).toEqual({ state: 'ready', error: '' });
  });
});
