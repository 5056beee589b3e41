import { Page } from 'playwright-core';
import { Department, Role } from '../src/auth/principal';
import { refreshStatistics } from '../src/subgraphs/statistics';
import { describeBrowser, HeadlessChromium, launchChromium } from './support/chromium';
import { startTestHub, TestHub } from './support/test-hub';

/**
 * The /dashboard page in a real headless Chromium (Debian's package, driven by playwright-core):
 * it signs in with a pasted token, draws its charts from the public API, and shows a suppressed
 * cell as suppressed. CI installs Chromium; only a developer machine without it skips.
 */
/** Globals of the page, where the callbacks given to page.evaluate run (the project has no DOM typings). */
declare const window: any, document: any, sessionStorage: any, localStorage: any;

/** A street of three children: every count of it is below k. */
const SMALL_STREET = '330102009';
const SMALL_GRID = '330102009001001';

describeBrowser('dashboard page (headless Chromium)', () => {
  let t: TestHub;
  let chromium: HeadlessChromium;
  let page: Page;
  let token: string;
  let origin: string;
  const requests: string[] = [];

  beforeAll(async () => {
    t = await startTestHub();
    await t.sql(`INSERT INTO registry.region (code, parent_code, level, name) VALUES ($1, '330102', 'STREET', '测试街道'), ($2, $1, 'COMMUNITY', '测试社区'), ($3, $2, 'GRID', '测试网格')`, [
      SMALL_STREET,
      SMALL_GRID.slice(0, 12),
      SMALL_GRID,
    ]);
    await t.sql(
      `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code)
       SELECT gen_random_uuid(), '测试', 'FEMALE', (current_date - INTERVAL '10 years')::date, upper(substr(md5(gen_random_uuid()::text), 1, 18)), '杭州', '杭州测试路', $1
       FROM generate_series(1, 3)`,
      [SMALL_GRID],
    );
    await refreshStatistics(t.hub.db.ds);
    token = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD });
    origin = new URL(t.hub.url).origin;

    chromium = await launchChromium();
    page = await chromium.browser.newPage();
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => {
      throw e;
    });
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    await t?.stop();
  });

  it('signs in with a token and renders every chart with the API’s numbers', async () => {
    await page.goto(`${origin}/dashboard`);
    expect(await page.getAttribute('body', 'data-state')).toBe('signed-out');
    await page.fill('#token', token);
    await page.click('#sign-in-button');
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 20_000 });
    expect(await page.textContent('#error')).toBe('');
    expect(await page.getAttribute('body', 'data-state')).toBe('ready');
    // A hub running no refresh timer (as test hubs) neither claims a cadence ("every 0 s") nor can tell staleness.
    expect(await page.textContent('#freshness')).toMatch(/^Figures as of .+ \(refreshed by another process\)$/);

    // What the charts drew, read from Chart.js itself.
    const drawn = await page.evaluate(() => {
      const charts = (window as any).dashboard.charts;
      return Object.fromEntries(
        Object.entries(charts).map(([id, chart]: [string, any]) => [
          id,
          { labels: chart.data.labels, datasets: chart.data.datasets.map((d: any) => ({ label: d.label, data: d.data })) },
        ]),
      );
    });
    // A dashboard reads no child's visits: no overdue chart, a note in its place (checked below).
    expect(Object.keys(drawn).sort()).toEqual(['chart-categories', 'chart-risk', 'chart-trend']);

    const api = await t.gql(
      token,
      `{ risk: minorCounts(level: STREET, by: [RISK_LEVEL]) { cells { regionCode regionName riskLevel count { value } } }
         categories: minorCounts(level: DISTRICT, by: [CATEGORY]) { cells { category count { value } } }
         trend: monthlyTrend(months: 12) { points { month series count { value } } } }`,
    );
    expect(api.errors).toBeUndefined();
    const streets = [...new Set(api.data.risk.cells.map((c: any) => c.regionCode))];
    const seriesOf = (cells: any[], levels: string[]) =>
      levels.map((level) => ({ label: level, data: streets.map((s) => cells.find((c) => c.regionCode === s && c.riskLevel === level).count.value) }));
    expect(drawn['chart-risk'].labels).toEqual(streets.map((s) => api.data.risk.cells.find((c: any) => c.regionCode === s).regionName));
    expect(drawn['chart-risk'].datasets).toEqual(seriesOf(api.data.risk.cells, ['RED', 'ORANGE', 'YELLOW', 'BLUE', 'UNASSESSED']));
    expect(drawn['chart-categories'].labels).toEqual(api.data.categories.cells.map((c: any) => c.category));
    expect(drawn['chart-categories'].datasets[0].data).toEqual(api.data.categories.cells.map((c: any) => c.count.value));
    const months = [...new Set(api.data.trend.points.map((p: any) => p.month))];
    expect(drawn['chart-trend'].labels).toEqual(months);
    expect(drawn['chart-trend'].datasets.map((d: any) => d.label)).toEqual(['NEW_CASES', 'ASSESSMENTS', 'REPORTS', 'REFERRALS']);
    for (const d of drawn['chart-trend'].datasets) {
      expect(d.data).toEqual(months.map((m) => api.data.trend.points.find((p: any) => p.month === m && p.series === d.label).count.value));
    }
    // Numbers, not just shapes: the biggest street's UNASSESSED bar is a real count.
    expect(drawn['chart-risk'].datasets[4].data.some((v: number | null) => typeof v === 'number' && v > 100)).toBe(true);
  });

  it('shows a suppressed cell as suppressed, in the table and as a gap in the chart', async () => {
    const row = page.locator(`#risk-table tr[data-region="${SMALL_STREET}"]`);
    const unassessed = row.locator('td[data-risk="UNASSESSED"]');
    expect(await unassessed.textContent()).toBe('x');
    expect(await unassessed.getAttribute('class')).toBe('suppressed');
    const gap = await page.evaluate((street) => {
      const chart = (window as any).dashboard.charts['chart-risk'];
      const i = chart.data.labels.indexOf('测试街道');
      return { street, value: chart.data.datasets[4].data[i] };
    }, SMALL_STREET);
    expect(gap.value).toBeNull();
  });

  it('shows the visit statistics a dashboard is refused as not available, not as an error', async () => {
    expect(await page.isVisible('#overdue-refused')).toBe(true);
    expect(await page.isVisible('#chart-overdue')).toBe(false);
    const total = page.locator('#rates-table tbody tr').last();
    // Region, screening, intervention, assistance, reports, referrals.
    const cells = await total.locator('td').allTextContents();
    expect([cells[1], cells[2]]).toEqual(['—', '—']);
    expect(cells[0]).toMatch(/%$/);
  });

  it('loads nothing from outside the hub, and keeps the token in this tab only', async () => {
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((u) => !u.startsWith(origin))).toEqual([]);
    expect(requests).toContain(`${origin}/dashboard/vendor/chart.umd.min.js`);
    expect(await page.evaluate(() => [sessionStorage.length, localStorage.length])).toEqual([1, 0]);
    await page.click('#sign-out');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(await page.getAttribute('body', 'data-state')).toBe('signed-out');
  });

  it('draws overdue visits for an officer who reads visits', async () => {
    const officer = await t.token(Department.CIVIL_AFFAIRS);
    await page.fill('#token', officer);
    await page.click('#sign-in-button');
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 20_000 });
    expect(await page.getAttribute('body', 'data-state')).toBe('ready');
    expect(await page.isVisible('#overdue-refused')).toBe(false);
    const overdue = await page.evaluate(() => {
      const chart = (window as any).dashboard.charts['chart-overdue'];
      return { labels: chart.data.labels, datasets: chart.data.datasets.map((d: any) => ({ label: d.label, data: d.data })) };
    });
    const api = await t.gql(officer, `{ overdue: minorCounts(level: STREET, by: [RISK_LEVEL], measure: OVERDUE_VISITS) { cells { regionCode regionName riskLevel count { value } } } }`);
    expect(api.errors).toBeUndefined();
    const streets = [...new Set(api.data.overdue.cells.map((c: any) => c.regionCode))];
    expect(overdue.labels).toEqual(streets.map((s) => api.data.overdue.cells.find((c: any) => c.regionCode === s).regionName));
    expect(overdue.datasets).toEqual(
      ['RED', 'ORANGE', 'YELLOW', 'BLUE'].map((level) => ({
        label: level,
        data: streets.map((s) => api.data.overdue.cells.find((c: any) => c.regionCode === s && c.riskLevel === level).count.value),
      })),
    );
    await page.click('#sign-out');
  });
});
