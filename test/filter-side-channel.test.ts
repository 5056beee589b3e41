import { Department, Role } from '../src/auth/principal';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

/** Filtering by a value the caller cannot read would reveal it: such filters are FORBIDDEN. */
describe('filter side channel', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  const list = (filter: string) => `{ minors(first: 5, filter: ${filter}) { totalCount edges { node { id } } } }`;

  it('refuses a sensitive-category filter to a department that sees it masked', async () => {
    for (const d of [Department.EDUCATION, Department.YOUTH_LEAGUE, Department.WOMENS_FEDERATION]) {
      const r = await t.gql(await t.token(d), list('{ categories: [CRIME_VICTIM] }'));
      expect(errorCodes(r)).toEqual(['FORBIDDEN']);
      expect(r.data?.minors ?? null).toBeNull();
      // Mixed with an allowed one it is refused too: otherwise totals would differ.
      expect(errorCodes(await t.gql(await t.token(d), list('{ categories: [LEFT_BEHIND, DOMESTIC_VIOLENCE] }')))).toEqual(['FORBIDDEN']);
    }
  });

  it('serves category filters that the mask shows unchanged, and exact ones to those who may read them', async () => {
    const [{ n }] = await t.sql(`SELECT count(DISTINCT minor_id)::int AS n FROM registry.minor_category WHERE category = 'LEFT_BEHIND'`);
    const edu = await t.gql(await t.token(Department.EDUCATION), list('{ categories: [LEFT_BEHIND] }'));
    expect(edu.errors).toBeUndefined();
    expect(edu.data.minors.totalCount).toBe(n);
    const [{ v }] = await t.sql(`SELECT count(DISTINCT minor_id)::int AS v FROM registry.minor_category WHERE category = 'CRIME_VICTIM'`);
    const police = await t.gql(await t.token(Department.POLICE), list('{ categories: [CRIME_VICTIM] }'));
    expect(police.data.minors.totalCount).toBe(v);
  });

  it('refuses NEEDS_SUPPORT as a filter value: it is a mask, not a category', async () => {
    expect(errorCodes(await t.gql(await t.token(Department.POLICE), list('{ categories: [NEEDS_SUPPORT] }')))).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses a look-up by ID number to those who only see it masked', async () => {
    const [{ id_number }] = await t.sql(`SELECT id_number FROM registry.minor LIMIT 1`);
    const q = `query($n: String!) { minorByIdNumber(idNumber: $n) { id } }`;
    for (const d of [Department.EDUCATION, Department.JUSTICE, Department.YOUTH_LEAGUE, Department.WOMENS_FEDERATION]) {
      const r = await t.gql(await t.token(d), q, { n: id_number });
      expect(errorCodes(r)).toEqual(['FORBIDDEN']);
      expect(r.data?.minorByIdNumber ?? null).toBeNull();
    }
  });

  it('gives AUDITOR and DASHBOARD no list of children at all', async () => {
    for (const role of [Role.AUDITOR, Role.DASHBOARD]) {
      const r = await t.gql(await t.token(Department.CIVIL_AFFAIRS, { role }), list('{ riskLevels: [RED] }'));
      expect(errorCodes(r)).toEqual(['FORBIDDEN']);
    }
  });

  it('filters by risk level, age and due date with the right counts', async () => {
    const token = await t.token(Department.EDUCATION);
    const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM registry.minor WHERE risk_level IN ('RED','ORANGE')`);
    expect((await t.gql(token, list('{ riskLevels: [RED, ORANGE] }'))).data.minors.totalCount).toBe(n);
    const [{ a }] = await t.sql(
      `SELECT count(*)::int AS a FROM registry.minor WHERE date_part('year', age(statistics.china_day(now()), birth_date)) BETWEEN 6 AND 12`,
    );
    expect((await t.gql(token, list('{ ageMin: 6, ageMax: 12 }'))).data.minors.totalCount).toBe(a);
    const [{ d }] = await t.sql(`SELECT count(*)::int AS d FROM registry.minor WHERE next_visit_due < now()`);
    const overdue = await t.gql(token, list(`{ nextVisitDueBefore: "${new Date().toISOString()}" }`));
    expect(overdue.data.minors.totalCount).toBe(d);
    expect(errorCodes(await t.gql(token, list('{ ageMin: 19 }')))).toEqual(['BAD_USER_INPUT']);
  });
});
