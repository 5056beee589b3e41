import { Department, Role } from '../src/auth/principal';
import { refreshStatistics } from '../src/subgraphs/statistics';
import { addRegionChain } from './support/statistics-fixtures';
import { Span } from './support/statistics-disclosure';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

/**
 * Red team 37: dashboards and statistics — what a reader can still single out.
 */
const AGES = ['AGE_0_2', 'AGE_3_5', 'AGE_6_11', 'AGE_12_14', 'AGE_15_17'];
/** An age in years inside each band (birth date: that many years and 100 days ago). */
const AGE_YEARS = [1, 4, 9, 13, 16];
const RISKS = ['RED', 'ORANGE', 'YELLOW', 'BLUE', null];


/** `n` children of `grid` aged `years`, risk levels in turn, with `category` if given. */
async function kids(t: TestHub, grid: string, years: number, n: number, category?: string): Promise<void> {
  if (!n) return;
  const rows: { id: string }[] = await t.sql(
    `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code, risk_level)
     SELECT gen_random_uuid(), '红队', CASE WHEN i % 2 = 0 THEN 'MALE' ELSE 'FEMALE' END, (current_date - make_interval(years => $3::int, days => 100))::date,
            upper(substr(md5(gen_random_uuid()::text), 1, 18)), '浙江省杭州市上城区', '浙江省杭州市上城区测试路1号', $1, ($4::text[])[1 + i % 5]
     FROM generate_series(1, $2::int) i RETURNING id`,
    [grid, n, years, RISKS],
  );
  if (category) {
    await t.sql(`INSERT INTO registry.minor_category (minor_id, category, identified_at) SELECT unnest($1::uuid[]), $2, current_date`, [rows.map((r) => r.id), category]);
  }
}

describe('statistics (redteam37)', () => {
  let t: TestHub;

  // 330181: three streets (one community and grid each) of 50 children in every age band, and
  // children who dropped out of school — none younger than school age, as anywhere.
  const DROPOUTS = '330181';
  const DROPOUT_ROWS: Record<string, number[]> = {
    [`${DROPOUTS}001`]: [0, 0, 5, 2, 20],
    [`${DROPOUTS}002`]: [0, 0, 6, 20, 20],
    [`${DROPOUTS}003`]: [0, 0, 20, 6, 20],
  };

  beforeAll(async () => {
    t = await startTestHub();
    for (const [street, row] of Object.entries(DROPOUT_ROWS)) {
      const grid = `${street}001001`;
      await addRegionChain(t, grid);
      for (const [b, years] of AGE_YEARS.entries()) {
        await kids(t, grid, years, 50);
        await kids(t, grid, years, row[b], 'DROPOUT');
      }
    }
    await refreshStatistics(t.hub.db.ds);
  });
  afterAll(() => t?.stop());

  it('a dashboard cannot solve a hidden category count with the zeros every reader knows (no child under school age has dropped out)', async () => {
    const dashboard = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: DROPOUTS });
    const streets = Object.keys(DROPOUT_ROWS);
    // Unknowns: each street's dropouts of each age band.
    const at = (s: number, b: number) => s * AGES.length + b;
    const truth = streets.flatMap((s) => DROPOUT_ROWS[s]);
    const span = new Span(truth.length);
    const known = new Span(truth.length);
    // What everyone knows: 失学辍学 is of children of school age; none aged 0–5 has dropped out.
    streets.forEach((_, s) => {
      for (const b of [0, 1]) {
        span.add(new Map([[at(s, b), 1]]));
        known.add(new Map([[at(s, b), 1]]));
      }
    });
    const hidden: { label: string; coef: Map<number, number>; value: number }[] = [];
    for (const level of ['DISTRICT', 'STREET']) {
      for (const by of ['CATEGORY', 'CATEGORY, AGE_BAND']) {
        const r = await t.gql(dashboard, `{ minorCounts(level: ${level}, by: [${by}]) { cells { regionCode category ageBand count { value suppressed } } } }`);
        expect(r.errors).toBeUndefined();
        for (const c of r.data.minorCounts.cells.filter((x: { category: string }) => x.category === 'DROPOUT')) {
          const coef = new Map<number, number>();
          streets.forEach((code, s) => {
            if (!code.startsWith(c.regionCode)) return;
            AGES.forEach((age, b) => {
              if (c.ageBand === null || c.ageBand === age) coef.set(at(s, b), 1);
            });
          });
          const value = [...coef.keys()].reduce((sum, i) => sum + truth[i], 0);
          if (c.count.suppressed) hidden.push({ label: `${c.regionCode} DROPOUT ${c.ageBand ?? 'all ages'}`, coef, value });
          else {
            expect(c.count.value).toBe(value);
            span.add(coef);
          }
        }
      }
    }
    // Street 1's 2 dropouts aged 12–14 were hidden as small; the district's 12–14 is the district
    // less its published 6–11 and 15–17 (its 0–2 and 3–5 are 0), street 3's the street less its
    // published ones, street 2's 20 is published: 28 − 6 − 20 = 2.
    const solved = hidden.filter((h) => span.determines(h.coef) && !known.determines(h.coef) && h.value > 0 && h.value < 5);
    expect(solved.map((h) => `${h.label} = ${h.value}`)).toEqual([]);
  });

  // The zeros above are the registry's: `addCategory` refuses DROPOUT and IDLE under 6 and
  // EARLY_MARRIAGE under 12, on the day identified (YOUNGEST_WITH_CATEGORY), else they were not true.
  it('refuses a category no child of that age can have, on the day identified', async () => {
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const [{ code: grid }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '330102%' ORDER BY code LIMIT 1`);
    const child = async (years: number, days: number): Promise<string> => {
      const [{ id }] = await t.sql(
        `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code)
         VALUES (gen_random_uuid(), '红队', 'MALE', (current_date - make_interval(years => $2::int, days => $3::int))::date, upper(substr(md5(gen_random_uuid()::text), 1, 18)), '浙江省杭州市上城区', '浙江省杭州市上城区测试路1号', $1)
         RETURNING id`,
        [grid, years, days],
      );
      return id;
    };
    const add = async (id: string, category: string, identifiedAt?: string) => {
      const r = await t.gql(civil, `mutation($id: ID!, $c: DifficultyCategory!, $at: String) { addCategory(minorId: $id, category: $c, identifiedAt: $at) { id } }`, { id, c: category, at: identifiedAt ?? null });
      return r.errors ? r.errors.map((e: any) => [e.extensions.code, e.extensions.field]) : 'added';
    };
    const five = await child(5, 300);
    const six = await child(6, 10);
    const eleven = await child(11, 300);
    const twelve = await child(12, 10);
    // Six today (and 10 days), five on this day a year ago.
    const [{ d: aYearAgo }] = await t.sql(`SELECT to_char(current_date - interval '1 year', 'YYYY-MM-DD') AS d`);
    expect({
      dropoutAtFive: await add(five, 'DROPOUT'),
      idleAtFive: await add(five, 'IDLE'),
      dropoutAtSixDatedAtFive: await add(six, 'DROPOUT', aYearAgo),
      dropoutAtSix: await add(six, 'DROPOUT'),
      marriageAtEleven: await add(eleven, 'EARLY_MARRIAGE'),
      marriageAtTwelve: await add(twelve, 'EARLY_MARRIAGE'),
      povertyAtFive: await add(five, 'POVERTY'),
    }).toEqual({
      dropoutAtFive: [['BAD_USER_INPUT', 'category']],
      idleAtFive: [['BAD_USER_INPUT', 'category']],
      dropoutAtSixDatedAtFive: [['BAD_USER_INPUT', 'category']],
      dropoutAtSix: 'added',
      marriageAtEleven: [['BAD_USER_INPUT', 'category']],
      marriageAtTwelve: 'added',
      povertyAtFive: 'added',
    });
  });
});
