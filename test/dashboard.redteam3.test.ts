import { Page } from 'playwright-core';
import { Department, Role } from '../src/auth/principal';
import { refreshStatistics } from '../src/subgraphs/statistics';
import { describeBrowser, HeadlessChromium, launchChromium } from './support/chromium';
import { startTestHub, TestHub } from './support/test-hub';

/**
 * The /dashboard page in headless Chromium, as shared by several people on one office machine:
 * what one signed-in user was shown is not shown to the next, whatever their token turns out to be.
 */
declare const window: any, document: any;


describeBrowser('dashboard page: one user’s figures are not left for the next', () => {
  let t: TestHub;
  let chromium: HeadlessChromium;
  let page: Page;
  let origin: string;

  beforeAll(async () => {
    t = await startTestHub();
    await refreshStatistics(t.hub.db.ds);
    origin = new URL(t.hub.url).origin;
    chromium = await launchChromium();
    page = await chromium.browser.newPage();
    page.on('pageerror', (e) => {
      throw e;
    });
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    await t?.stop();
  });

  const settled = () => page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 20_000 });
  const shown = () =>
    page.evaluate(() => ({
      scope: document.getElementById('scope').textContent,
      freshness: document.getElementById('freshness').textContent,
      riskRows: document.querySelectorAll('#risk-table tbody tr, #risk-table tfoot tr').length,
      rateRows: document.querySelectorAll('#rates-table tbody tr').length,
      charts: Object.keys(window.dashboard.charts),
      data: window.dashboard.data,
    }));
  const nothing = { scope: '', freshness: '', riskRows: 0, rateRows: 0, charts: [], data: null };

  it('signing out leaves none of the figures drawn in the page', async () => {
    await page.goto(`${origin}/dashboard/`);
    await page.fill('#token', await t.token(Department.CIVIL_AFFAIRS));
    await page.click('#sign-in-button');
    await settled();
    expect(await page.getAttribute('body', 'data-state')).toBe('ready');
    expect((await shown()).riskRows).toBeGreaterThan(1);

    await page.click('#sign-out');
    expect(await shown()).toEqual(nothing);
  });

  it('a next token that is refused statistics sees an error alone, not the previous user’s tables', async () => {
    await page.fill('#token', await t.token(Department.CIVIL_AFFAIRS));
    await page.click('#sign-in-button');
    await settled();
    expect(await page.getAttribute('body', 'data-state')).toBe('ready');
    // The previous user closes the tab's session by signing out... or simply walks away and the
    // next one pastes their own token in a new sign-in: both start from an empty page.
    await page.click('#sign-out');
    await page.fill('#token', await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-1' }));
    await page.click('#sign-in-button');
    await settled();
    expect(await page.getAttribute('body', 'data-state')).toBe('error');
    expect(await page.isVisible('#error')).toBe(true);
    expect(await shown()).toEqual(nothing);
    expect(await page.isVisible('#risk-table tbody tr')).toBe(false);
  });

  it('answers still on their way for a user who signed out are not drawn for the next one', async () => {
    const first = await t.token(Department.CIVIL_AFFAIRS);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    // The first user's figures are slow to come (a busy hub, a slow link).
    await page.route('**/graphql', async (route) => {
      const request = route.request();
      if (request.headers().authorization === `Bearer ${first}` && (request.postData() ?? '').includes('riskByRegion')) {
        held();
        await released;
      }
      await route.continue();
    });
    await page.click('#sign-out');
    await page.fill('#token', first);
    await page.click('#sign-in-button');
    await holding;
    await page.click('#sign-out');
    await page.fill('#token', await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-1' }));
    await page.click('#sign-in-button');
    await settled();
    expect(await page.getAttribute('body', 'data-state')).toBe('error');

    const answered = page.waitForEvent('requestfinished', (r) => (r.postData() ?? '').includes('riskByRegion'));
    release();
    await answered;
    // Time for the first load to go on past its answer, as it would have.
    await page.evaluate(() => new Promise((resolve) => window.setTimeout(resolve, 300)));
    expect(await page.getAttribute('body', 'data-state')).toBe('error');
    expect(await shown()).toEqual(nothing);
    await page.unroute('**/graphql');
  });

  it('draws a region name holding markup as text, in the table and the chart, and runs none of it', async () => {
    const name = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>';
    await t.sql(`INSERT INTO registry.region (code, parent_code, level, name) VALUES ('330102008', '330102', 'STREET', $1), ('330102008001', '330102008', 'COMMUNITY', 'c'), ('330102008001001', '330102008001', 'GRID', 'g')`, [name]);
    await t.sql(
      `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code)
       SELECT gen_random_uuid(), '测试', 'FEMALE', (current_date - INTERVAL '10 years')::date, upper(substr(md5(gen_random_uuid()::text), 1, 18)), '杭州', '杭州测试路', '330102008001001'
       FROM generate_series(1, 3)`,
    );
    await refreshStatistics(t.hub.db.ds);
    await page.click('#sign-out');
    await page.fill('#token', await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD }));
    await page.click('#sign-in-button');
    await settled();
    expect(await page.getAttribute('body', 'data-state')).toBe('ready');
    expect(await page.textContent('#risk-table tr[data-region="330102008"] th')).toBe(name);
    expect(await page.textContent('#rates-table')).toContain(name);
    expect(await page.evaluate(() => window.dashboard.charts['chart-risk'].data.labels)).toContain(name);
    expect(await page.evaluate(() => [window.pwned, document.querySelectorAll('main img, main script').length])).toEqual([undefined, 0]);
  });
});
