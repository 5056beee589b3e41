import { Department, Role } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, startTestHub, statementParameters, TestHub } from './support/test-hub';

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

  describe('a filter is a read of what it tests', () => {
    const COUNT = `query($g: String!, $a: Int!, $c: [DifficultyCategory!]) { minors(filter: { regionCode: $g, ageMin: $a, ageMax: $a, categories: $c }) { totalCount } }`;
    const readsOf = async (requestId: string) =>
      Object.fromEntries((await eventOf(t, requestId)).reads.map((r: { minorId: string; fields: Record<string, string> }) => [r.minorId, r.fields]));
    let target: { id: string; grid: string; age: number; category: string };

    beforeAll(async () => {
      const [child] = await t.sql(
        `SELECT m.id, m.grid_code AS grid, c.category FROM registry.minor m JOIN registry.minor_category c ON c.minor_id = m.id
          WHERE c.category = 'CRIME_VICTIM' ORDER BY m.id LIMIT 1`,
      );
      const police = await t.token(Department.POLICE);
      const r = await t.gql(police, `query($id: ID!) { minor(id: $id) { age } }`, { id: child.id });
      target = { ...child, age: r.data.minor.age };
    });

    it('a count narrowed by a child’s records names each child it counts, with the fields tested, and needs a purpose', async () => {
      const police = await t.token(Department.POLICE, { user: 'po-count' });
      const variables = { g: target.grid, a: target.age, c: [target.category] };
      const page = await t.gql(police, `query($g: String!, $a: Int!, $c: [DifficultyCategory!]) { minors(first: 1000, filter: { regionCode: $g, ageMin: $a, ageMax: $a, categories: $c }) { edges { node { id } } } }`, variables);
      const matching = page.data.minors.edges.map((e: { node: { id: string } }) => e.node.id).sort();
      expect(matching).toContain(target.id);

      const refused = await post(t, police, { query: COUNT, variables }, {});
      expect([refused.json.data?.minors ?? null, refused.json.errors.map((e: any) => [e.extensions.code, e.extensions.field])]).toEqual([null, [['BAD_USER_INPUT', 'x-purpose']]]);
      expect(await readsOf(refused.requestId)).toEqual({});

      const counted = await post(t, police, { query: COUNT, variables }, { 'x-purpose': 'CASE_HANDLING' });
      expect(counted.json.data.minors.totalCount).toBe(matching.length);
      const reads = await readsOf(counted.requestId);
      expect(Object.keys(reads).sort()).toEqual(matching);
      expect(reads[target.id]).toEqual({ 'Minor.age': 'ALLOW', 'Minor.grid': 'ALLOW', 'MinorCategory.category': 'ALLOW' });
    });

    it('a count by region alone is exact and names none; under a test of the child, more than 1,000 is 1,001, so that two large counts cannot be differenced', async () => {
      const police = await t.token(Department.POLICE);
      const byRegion = await post(t, police, { query: `query($g: String!) { minors(filter: { regionCode: $g }) { totalCount } }`, variables: { g: target.grid } }, {});
      const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM registry.minor WHERE grid_code = $1`, [target.grid]);
      expect([byRegion.json.errors, byRegion.json.data.minors.totalCount]).toEqual([undefined, n]);
      expect(await readsOf(byRegion.requestId)).toEqual({});
      // The count due before a child's next visit, and 1 ms after it, differed by that one child.
      const [due] = await t.sql(`SELECT id, next_visit_due FROM registry.minor WHERE next_visit_due IS NOT NULL ORDER BY next_visit_due DESC LIMIT 1`);
      const [{ before }] = await t.sql(`SELECT count(*)::int AS before FROM registry.minor WHERE next_visit_due < $1`, [due.next_visit_due]);
      expect(before).toBeGreaterThan(1000);
      const COUNT_DUE = `query($d: DateTimeISO!) { minors(filter: { nextVisitDueBefore: $d }) { totalCount } }`;
      const counts = [];
      for (const d of [due.next_visit_due, new Date(due.next_visit_due.getTime() + 1)]) {
        const r = await post(t, police, { query: COUNT_DUE, variables: { d: d.toISOString() } }, { 'x-purpose': 'CASE_HANDLING' });
        counts.push(r.json.data.minors.totalCount);
        expect(await readsOf(r.requestId)).toEqual({});
      }
      expect(counts).toEqual([1001, 1001]);
    });

    it('records every child of a count of exactly 1,001: each one makes it "more than 1,000" (a filter tuned until 1,000 others match)', async () => {
      const police = await t.token(Department.POLICE);
      // The 1,001 children due soonest (the demo's due dates are days: made distinct here, as times are).
      await t.sql(
        `UPDATE registry.minor m SET next_visit_due = m.next_visit_due + n.rn * interval '1 millisecond'
           FROM (SELECT id, row_number() OVER (ORDER BY next_visit_due, id) AS rn FROM registry.minor WHERE next_visit_due IS NOT NULL) n WHERE n.id = m.id`,
      );
      const due = await t.sql(`SELECT id, next_visit_due FROM registry.minor WHERE next_visit_due IS NOT NULL ORDER BY next_visit_due, id LIMIT 1002`);
      expect(due[1000].next_visit_due.getTime()).toBeLessThan(due[1001].next_visit_due.getTime());
      const before = new Date(due[1000].next_visit_due.getTime() + 1).toISOString();
      const r = await post(t, police, { query: `query($d: DateTimeISO!) { minors(filter: { nextVisitDueBefore: $d }) { totalCount } }`, variables: { d: before } }, { 'x-purpose': 'CASE_HANDLING' });
      expect(r.json.data.minors.totalCount).toBe(1001);
      const reads = await readsOf(r.requestId);
      expect(Object.keys(reads).sort()).toEqual(due.slice(0, 1001).map((m: { id: string }) => m.id).sort());
      expect(reads[due[0].id]).toEqual({ 'Minor.nextVisitDue': 'ALLOW' });
    });

    it('hasNextPage depends on the page’s children and the one after it, wherever a cursor starts the page: recorded as their reads', async () => {
      const police = await t.token(Department.POLICE);
      const f = { riskLevels: ['RED', 'ORANGE'] };
      const three = (await t.gql(police, `query($f: MinorFilter) { minors(first: 3, filter: $f) { edges { node { id } } } }`, { f })).data.minors.edges.map(
        (e: { node: { id: string } }) => e.node.id,
      );
      // A cursor made by the client, just before the second child: whether there is a next page tells whether it matches.
      const before = (id: string) => {
        const hex = id.replace(/-/g, '');
        const prev = (BigInt(`0x${hex}`) - 1n).toString(16).padStart(32, '0');
        return Buffer.from(`minor:${prev.slice(0, 8)}-${prev.slice(8, 12)}-${prev.slice(12, 16)}-${prev.slice(16, 20)}-${prev.slice(20)}`).toString('base64url');
      };
      const Q = `query($f: MinorFilter, $after: String) { minors(first: 1, after: $after, filter: $f) { pageInfo { hasNextPage } } }`;
      const r = await post(t, police, { query: Q, variables: { f, after: before(three[1]) } });
      expect(r.json.data.minors.pageInfo.hasNextPage).toBe(true);
      const reads = await readsOf(r.requestId);
      expect(Object.keys(reads).sort()).toEqual([three[1], three[2]].sort());
      for (const id of [three[1], three[2]]) expect(reads[id]['Minor.riskLevel']).toBe('ALLOW');
    });

    it('edges name the page’s children whatever is selected under them: `edges { __typename }` records the tests too', async () => {
      const police = await t.token(Department.POLICE);
      const r = await post(t, police, { query: `{ minors(first: 2, filter: { categories: [CRIME_VICTIM] }) { edges { __typename } } }` });
      const named = (await t.gql(police, `{ minors(first: 2, filter: { categories: [CRIME_VICTIM] }) { edges { node { id } } } }`)).data.minors.edges.map(
        (e: { node: { id: string } }) => e.node.id,
      );
      const reads = await readsOf(r.requestId);
      expect(Object.keys(reads).sort()).toEqual([...named].sort());
      for (const id of named) expect(reads[id]).toEqual({ 'MinorCategory.category': 'ALLOW' });
    });

    it('a page records the fields its filter tested for each child it names, by its node, its cursor or the end cursor', async () => {
      const education = await t.token(Department.EDUCATION);
      const Q = `query($f: MinorFilter) { minors(first: 3, filter: $f) { edges { cursor } } }`;
      const r = await post(t, education, { query: Q, variables: { f: { riskLevels: ['RED', 'ORANGE'], categories: ['LEFT_BEHIND'] } } });
      const named = (await t.gql(education, `{ minors(first: 3, filter: { riskLevels: [RED, ORANGE], categories: [LEFT_BEHIND] }) { edges { node { id } } } }`)).data.minors.edges.map(
        (e: { node: { id: string } }) => e.node.id,
      );
      const reads = await readsOf(r.requestId);
      expect(Object.keys(reads).sort()).toEqual([...named].sort());
      // Education reads categories masked (the sensitive ones); it may filter by those the mask shows unchanged.
      for (const id of named) expect(reads[id]).toEqual({ 'MinorCategory.category': 'MASK', 'MinorEdge.cursor': 'ALLOW', 'Minor.riskLevel': 'ALLOW' });
      const end = await post(t, education, { query: `{ minors(first: 3, filter: { riskLevels: [RED] }) { pageInfo { endCursor } } }` });
      const last = (await t.gql(education, `{ minors(first: 3, filter: { riskLevels: [RED] }) { edges { node { id } } } }`)).data.minors.edges.at(-1).node.id;
      expect(await readsOf(end.requestId)).toEqual({ [last]: { 'Minor.riskLevel': 'ALLOW', 'PageInfo.endCursor': 'ALLOW' } });
    });
  });

  it('sends an enum list to the database as the set it means, however often a value repeats', async () => {
    const police = await t.token(Department.POLICE);
    const sent = await statementParameters(t, async () => {
      const many = [...Array(5000).fill('LEFT_BEHIND'), 'ORPHAN'];
      const Q = `query($c: [DifficultyCategory!]) { minors(first: 1000, filter: { categories: $c }) { edges { node { id } } } }`;
      const repeated = await t.gql(police, Q, { c: many });
      const once = await t.gql(police, Q, { c: ['LEFT_BEHIND', 'ORPHAN'] });
      expect(repeated.errors).toBeUndefined();
      expect(repeated.data).toEqual(once.data);
      const incidents = await t.gql(police, `query($s: [IncidentStatus!]) { policeIncidents(first: 5, filter: { statuses: $s }) { totalCount } }`, {
        s: Array(5000).fill('REPORTED'),
      });
      expect(incidents.errors).toBeUndefined();
    });
    const arrays = sent.flat().filter((p): p is unknown[] => Array.isArray(p) && p.some((v) => v === 'LEFT_BEHIND' || v === 'REPORTED'));
    expect(arrays.length).toBeGreaterThan(0);
    for (const a of arrays) expect(a.length).toBeLessThanOrEqual(2);
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

  it('looks a child up by its ID number however a person writes it — surrounding spaces, a small x — and refuses what is no ID number', async () => {
    const [{ id, id_number }] = await t.sql(`SELECT id, id_number FROM registry.minor WHERE id_number LIKE '%X' ORDER BY id LIMIT 1`);
    const q = `query($n: String!) { minorByIdNumber(idNumber: $n) { id } }`;
    const police = await t.token(Department.POLICE);
    for (const written of [` ${id_number}`, `\u3000${id_number.toLowerCase()}`, `\ufeff${id_number}\u00a0`]) {
      const r = await t.gql(police, q, { n: written });
      expect([JSON.stringify(written), r.errors, r.data.minorByIdNumber]).toEqual([JSON.stringify(written), undefined, { id }]);
    }
    const malformed = await t.gql(police, q, { n: `${id_number.slice(0, 17)}\u200b` });
    expect([errorCodes(malformed), malformed.errors![0].extensions!.field]).toEqual([['BAD_USER_INPUT'], 'idNumber']);
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
    // Above 1,000 a count under a test of the child is "more than 1,000".
    expect((await t.gql(token, list('{ ageMin: 6, ageMax: 12 }'))).data.minors.totalCount).toBe(Math.min(a, 1001));
    // The due date tells the last visit's time: only those who read the visits filter by it.
    const [{ d }] = await t.sql(`SELECT count(*)::int AS d FROM registry.minor WHERE next_visit_due < now()`);
    const due = list(`{ nextVisitDueBefore: "${new Date().toISOString()}" }`);
    expect((await t.gql(await t.token(Department.CIVIL_AFFAIRS), due)).data.minors.totalCount).toBe(Math.min(d, 1001));
    expect(errorCodes(await t.gql(token, due))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await t.gql(token, list('{ ageMin: 19 }')))).toEqual(['BAD_USER_INPUT']);
  });
});
