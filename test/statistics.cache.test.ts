import { Department, Role } from '../src/auth/principal';
import { refreshStatistics, warmTables } from '../src/subgraphs/statistics';
import { startTestHub, TestHub } from './support/test-hub';
import { addMinors } from './support/statistics-fixtures';

/**
 * Cached protected tables (statistics.cache.ts): one question asked again gets the same answer,
 * a refresh is seen at once, and the cache never hands one caller's table to another.
 */
const DISTRICT = '330102';
const STREET1 = '330102001';
/** A second district of this test's own: 7 children in one grid. */
const OTHER = '330199';
const OTHER_GRID = '330199001001001';

const GRID_BY_GENDER = `{ minorCounts(level: GRID, by: [GENDER]) { refreshedAt total { value suppressed display } cells { regionCode regionName gender count { value suppressed display } } } }`;

describe('statistics cache', () => {
  let t: TestHub;
  let officer: string;

  const ask = async (token: string, query = GRID_BY_GENDER) => {
    const r = await t.gql(token, query);
    expect(r.errors).toBeUndefined();
    return r.data;
  };
  const firstGrid = async () => (await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE $1 ORDER BY code LIMIT 1`, [`${STREET1}%`]))[0].code;

  beforeAll(async () => {
    t = await startTestHub();
    const levels = ['DISTRICT', 'STREET', 'COMMUNITY', 'GRID'];
    for (const [i, len] of [6, 9, 12, 15].entries()) {
      await t.sql(`INSERT INTO registry.region (code, parent_code, level, name) VALUES ($1, $2, $3, $4)`, [
        OTHER_GRID.slice(0, len),
        i ? OTHER_GRID.slice(0, [6, 9, 12][i - 1]) : null,
        levels[i],
        `别区${i}`,
      ]);
    }
    await addMinors(t, OTHER_GRID, 7);
    await refreshStatistics(t.hub.db.ds);
    officer = await t.token(Department.CIVIL_AFFAIRS);
  });
  afterAll(() => t.stop());

  it('answers a repeated question identically', async () => {
    const first = await ask(officer);
    expect(first.minorCounts.cells.length).toBeGreaterThan(0);
    expect(await ask(officer)).toEqual(first);
    expect(await ask(await t.token(Department.POLICE))).toEqual(first);
  });

  it('keeps a table until the refresh stamp moves, and never past it', async () => {
    const grid = await firstGrid();
    const count = async () => (await ask(officer)).minorCounts.cells.filter((c: any) => c.regionCode === grid).reduce((s: number, c: any) => s + (c.count.value ?? 0), 0);
    const before = await ask(officer);
    const was = await count();
    await addMinors(t, grid, 20);
    // Summaries recomputed without a new stamp are not the refresh the cache is keyed on …
    await t.sql(`REFRESH MATERIALIZED VIEW statistics.minor_cube`);
    expect(await ask(officer)).toEqual(before);
    // … a refresh is, and the next answer is computed on the new summaries.
    await refreshStatistics(t.hub.db.ds);
    const after = await ask(officer);
    expect(after.minorCounts.refreshedAt).not.toBe(before.minorCounts.refreshedAt);
    expect(after.minorCounts.total.value).toBe(before.minorCounts.total.value + 20);
    expect(await count()).toBe(was + 20);
  });

  it('refreshes and keeps tables again once the database clock has stepped back (a stamp ahead of now)', async () => {
    const grid = await firstGrid();
    // The last refresh was stamped by a clock an hour ahead, since set right.
    await t.sql(`UPDATE statistics.refresh SET refreshed_at = now() + interval '1 hour'`);
    await ask(officer);
    // The timer does not take that stamp for a recent refresh …
    expect(await refreshStatistics(t.hub.db.ds, 60)).toBe(true);
    const [{ ahead }] = await t.sql(`SELECT refreshed_at > now() AS ahead FROM statistics.refresh`);
    expect(ahead).toBe(false);
    // … and the summaries it made, stamped before the ones cached, are cached in turn: summaries
    // recomputed without a refresh are not seen by an answer asked twice.
    const after = await ask(officer);
    await addMinors(t, grid, 4);
    await t.sql(`REFRESH MATERIALIZED VIEW statistics.minor_cube`);
    expect(await ask(officer)).toEqual(after);
    await refreshStatistics(t.hub.db.ds);
    expect((await ask(officer)).minorCounts.total.value).toBe(after.minorCounts.total.value + 4);
  });

  it('computes again after a refresh the tables asked before it, on the new summaries', async () => {
    const before = await ask(officer);
    const grid = await firstGrid();
    await addMinors(t, grid, 5);
    await refreshStatistics(t.hub.db.ds);
    expect(await warmTables(t.hub.db.ds)).toBeGreaterThan(0);
    expect(await warmTables(t.hub.db.ds)).toBe(0); // handed out once
    // Summaries changed without a new stamp: an answer computed now would show these 3 …
    await addMinors(t, grid, 3);
    await t.sql(`REFRESH MATERIALIZED VIEW statistics.minor_cube`);
    // … the warmed table shows the refresh's figures: it was computed by the warm-up, not now.
    const after = await ask(officer);
    expect(after.minorCounts.refreshedAt).not.toBe(before.minorCounts.refreshedAt);
    expect(after.minorCounts.total.value).toBe(before.minorCounts.total.value + 5);
    await refreshStatistics(t.hub.db.ds);
    expect((await ask(officer)).minorCounts.total.value).toBe(before.minorCounts.total.value + 8);
  });

  it('sees a region added to the tree without waiting for a refresh', async () => {
    await ask(officer);
    const community = (await firstGrid()).slice(0, 12);
    const grid = `${community}999`;
    await t.sql(`INSERT INTO registry.region (code, parent_code, level, name) VALUES ($1, $2, 'GRID', '新网格')`, [grid, community]);
    const cells = (await ask(officer)).minorCounts.cells.filter((c: any) => c.regionCode === grid);
    // No child there yet: a known zero (docs/statistics.md, Primary).
    expect(cells.map((c: any) => [c.regionName, c.count.display])).toEqual([
      ['新网格', '0'],
      ['新网格', '0'],
    ]);
  });

  it('gives callers of another district, or of a street, their own table', async () => {
    const district = await ask(officer);
    const other = await ask(await t.token(Department.CIVIL_AFFAIRS, { region: OTHER }));
    expect(new Set(other.minorCounts.cells.map((c: any) => c.regionCode))).toEqual(new Set([OTHER_GRID]));
    expect(other.minorCounts.total).toEqual({ value: 7, suppressed: false, display: '7' });

    const street = await ask(await t.token(Department.CIVIL_AFFAIRS, { region: STREET1 }));
    expect(street.minorCounts.cells.length).toBeGreaterThan(0);
    expect(street.minorCounts.cells.every((c: any) => c.regionCode.startsWith(STREET1))).toBe(true);
    expect(street.minorCounts.cells).toEqual(district.minorCounts.cells.filter((c: any) => c.regionCode.startsWith(STREET1)));
    const [{ n }] = await t.sql(`SELECT sum(minors)::int AS n FROM statistics.minor_cube WHERE street_code = $1`, [STREET1]);
    expect(street.minorCounts.total.value).toBe(n);
    // The district's table is unchanged by the others asked in between.
    expect(await ask(officer)).toEqual(district);
  });

  it('keeps folded and exact categories apart, and dashboards to their level', async () => {
    const query = `{ minorCounts(level: GRID, by: [CATEGORY]) { categoriesFolded cells { category } } }`;
    const police = await ask(await t.token(Department.POLICE), query);
    const education = await ask(await t.token(Department.EDUCATION), query);
    expect(police.minorCounts.categoriesFolded).toBe(false);
    expect(education.minorCounts.categoriesFolded).toBe(true);
    const categories = (d: any) => new Set(d.minorCounts.cells.map((c: any) => c.category));
    expect(categories(police).has('NEEDS_SUPPORT')).toBe(false);
    expect(categories(education).has('NEEDS_SUPPORT')).toBe(true);
    expect(categories(education).has('CRIME_VICTIM')).toBe(false);

    const dashboard = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD });
    const r = await t.gql(dashboard, GRID_BY_GENDER);
    expect(r.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('computes every table over the caller’s district only', async () => {
    const [{ n }] = await t.sql(`SELECT sum(minors)::int AS n FROM statistics.minor_cube WHERE district_code = $1`, [DISTRICT]);
    expect((await ask(officer)).minorCounts.total.value).toBe(n);
  });
});
