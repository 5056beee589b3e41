import { Department } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, WOMENS_FEDERATION: WF } = Department;

/**
 * A child's history past its newest 100 rows: every history list (history-page.ts) takes `after`,
 * the id of the last row of the page before, and goes on from there in the list's order as the
 * caller reads it. A cursor that is not a row of that child's list as the caller reads it is
 * refused, one message for every reason.
 */
describe('history pages (`after`)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  const STREET = '330102001';
  const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
  const column = async (text: string, params: unknown[]) => ids(await t.sql(text, params));
  /** Children of the street without rows in `table`, by id. */
  const children = async (n: number) => column(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id LIMIT $2`, [`${STREET}%`, n]);

  /**
   * Every page of a list, `first` at a time, each `after` the last id of the page before, until a
   * page shorter than `first`: `read(first, after)` answers one page.
   */
  async function walk(read: (first: number, after: string | null) => Promise<string[]>, first: number): Promise<{ rows: string[]; pages: number }> {
    const rows: string[] = [];
    let after: string | null = null;
    for (let pages = 1; pages <= 200; pages++) {
      const page = await read(first, after);
      rows.push(...page);
      if (page.length < first) return { rows, pages };
      after = page[page.length - 1];
    }
    throw new Error('the walk did not end');
  }

  /** A list of the child `child` read through `minor(id:)`, `path` the list's field (and the fields above it). */
  const reader = (token: string, child: string, list: (args: string) => string, pick: (minor: any) => { id: string }[]) => async (first: number, after: string | null) => {
    const r = await t.gql(token, `query($id: ID!, $first: Int, $after: ID) { minor(id: $id) { ${list('first: $first, after: $after')} } }`, { id: child, first, after });
    expect(r.errors).toBeUndefined();
    return ids(pick(r.data.minor));
  };
  const refusal = async (token: string, child: string, list: (args: string) => string, after: string) => {
    const r = await t.gql(token, `query($id: ID!, $after: ID) { minor(id: $id) { id ${list('after: $after')} } }`, { id: child, after });
    return [errorCodes(r), r.errors?.map((e) => e.message), r.errors?.[0].extensions?.field, r.data?.minor?.id ?? null];
  };
  const REFUSED = (child: string) => [['BAD_USER_INPUT'], ['after: not a row of this list: pass the id of the last row of the page before'], 'after', child];

  describe('the registry’s visits', () => {
    let child: string;
    let other: string;
    let newest: string[];
    const visits = (args: string) => `visits(${args}) { id }`;
    const pick = (m: any) => m.visits;

    beforeAll(async () => {
      [child, other] = await children(2);
      // Five years of weekly visits, two of them the same instant (the id breaks their tie).
      await t.sql(
        `INSERT INTO registry.visit (id, minor_id, visited_at, visitor, notes)
         SELECT gen_random_uuid(), $1, date_trunc('day', now()) - make_interval(days => 7 * (k / 2 * 2)), 'child-director-1', '入户走访 ' || k FROM generate_series(1, 260) k`,
        [child],
      );
      newest = await column(`SELECT id FROM registry.visit WHERE minor_id = $1 ORDER BY visited_at DESC, id`, [child]);
      expect(newest.length).toBeGreaterThan(260);
    });

    it.each([3, 7, 100])('walks every visit once, newest first, %i at a time, and the walk ends', async (first) => {
      const walked = await walk(reader(await t.token(CA), child, visits, pick), first);
      expect(walked.rows).toEqual(newest);
      expect(walked.pages).toBe(Math.floor(newest.length / first) + 1);
    });

    it('takes the cursor in capitals, and answers nothing after the last row', async () => {
      const civil = await t.token(CA);
      expect(await reader(civil, child, visits, pick)(2, newest[10].toUpperCase())).toEqual(newest.slice(11, 13));
      expect(await reader(civil, child, visits, pick)(100, newest[newest.length - 1])).toEqual([]);
    });

    it('refuses alike another child’s visit, an assessment of the same child, an unknown id and no id', async () => {
      const civil = await t.token(CA);
      const [otherVisit] = await column(`SELECT id FROM registry.visit WHERE minor_id = $1 LIMIT 1`, [other]);
      const [assessment] = await column(`SELECT id FROM registry.risk_assessment WHERE minor_id = $1 LIMIT 1`, [child]);
      const [outside] = await column(`SELECT v.id FROM registry.visit v JOIN registry.minor m ON m.id = v.minor_id WHERE m.grid_code NOT LIKE $1 LIMIT 1`, [`${STREET}%`]);
      expect([otherVisit, assessment, outside].every(Boolean)).toBe(true);
      for (const after of [otherVisit, assessment, outside, '00000000-0000-0000-0000-000000000000', 'not-an-id', `${newest[0]}x`]) {
        expect([after, ...(await refusal(civil, child, visits, after))]).toEqual([after, ...REFUSED(child)]);
      }
      // The street's officer, whose jurisdiction holds the child but not the other street's visit.
      const street = await t.token(CA, { region: STREET });
      expect(await refusal(street, child, visits, outside)).toEqual(REFUSED(child));
      expect(await reader(street, child, visits, pick)(3, newest[0])).toEqual(newest.slice(1, 4));
    });

    it('records the child’s read on a page after the first, as on the first', async () => {
      const civil = await t.token(CA);
      const r = await post(t, civil, { query: `query($id: ID!, $a: ID) { minor(id: $id) { visits(first: 5, after: $a) { id visitor } } }`, variables: { id: child, a: newest[150] } });
      expect(r.json.errors).toBeUndefined();
      expect(ids(r.json.data.minor.visits)).toEqual(newest.slice(151, 156));
      const read = (await eventOf(t, r.requestId)).reads.find((x: { minorId: string }) => x.minorId === child);
      expect(read.fields).toMatchObject({ 'Minor.visits': 'ALLOW', 'Visit.id': 'ALLOW', 'Visit.visitor': 'ALLOW' });
      // A refused cursor is recorded as a refused page size is: the list refused, none of its rows read.
      const reads = async (args: string) => {
        const refused = await post(t, civil, { query: `query($id: ID!) { minor(id: $id) { id visits(${args}) { id visitor } } }`, variables: { id: child } });
        const e = await eventOf(t, refused.requestId);
        return [refused.json.errors[0].extensions.code, e.outcome, e.reads];
      };
      const [otherVisit] = await column(`SELECT id FROM registry.visit WHERE minor_id <> $1 LIMIT 1`, [child]);
      const asFirst = await reads('first: 0');
      expect(asFirst).toEqual(['BAD_USER_INPUT', 'PARTIAL', [{ minorId: child, fields: { 'Minor.id': 'ALLOW', 'Minor.visits': 'DENY' } }]]);
      expect(await reads(`after: "${otherVisit}"`)).toEqual(asFirst);
      expect(await reads('after: "x"')).toEqual(asFirst);
    });

    it('answers aliases with many cursors and sizes, under a page of children, in the statements of one', async () => {
      const civil = await t.token(CA);
      const run = async (lists: string) => {
        const before = t.hub.db.statements.count;
        const r = await t.gql(civil, `{ minors(first: 40, filter: { regionCode: "${STREET}" }) { edges { node { id ${lists} } } } }`);
        return { data: r.data, errors: r.errors ?? [], statements: t.hub.db.statements.count - before };
      };
      await run('visits(first: 100) { id }'); // warm-up
      const one = await run('visits(first: 100) { id }');
      const cursors = [0, 1, 50, 99, 100, 150, 200, 250];
      const aliases = cursors.map((c, i) => `v${c}: visits(first: ${i + 3}, after: "${newest[c]}") { id }`).join(' ');
      const many = await run(`first: visits(first: 100) { id } ${aliases}`);
      expect(one.errors).toEqual([]);
      expect(many.statements).toBe(one.statements);
      const edges = many.data.minors.edges;
      expect(edges.length).toBeGreaterThan(10);
      const mine = edges.findIndex((e: any) => e.node.id === child);
      // The child's cursors are refused on each other child of the page, on that child's own path only.
      expect(many.errors).toHaveLength((edges.length - 1) * cursors.length);
      for (const e of many.errors) expect([e.extensions?.code, e.path?.[2] === mine]).toEqual(['BAD_USER_INPUT', false]);
      // A cursor of one child is refused on every other child of the page, each on its own path, and answered on its own.
      const node = edges[mine].node;
      expect(ids(node.first)).toEqual(newest.slice(0, 100));
      cursors.forEach((c, i) => expect(ids(node[`v${c}`])).toEqual(newest.slice(c + 1, c + 1 + i + 3)));
    });
  });

  describe('a department’s records of a child: identityVerifications', () => {
    let child: string;
    let byDate: string[];
    let byId: string[];
    const list = (args: string) => `identityVerifications(${args}) { id }`;
    const pick = (m: any) => m.identityVerifications;

    beforeAll(async () => {
      [child] = await column(
        `SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE $1 AND NOT EXISTS (SELECT 1 FROM police.identity_verification v WHERE v.minor_id = m.id) ORDER BY m.id LIMIT 1`,
        [`${STREET}%`],
      );
      await t.sql(
        `INSERT INTO police.identity_verification (id, minor_id, verified_on, result, household_status, household_place)
         SELECT gen_random_uuid(), $1, current_date - (k * 37 % 150) * 3, 'MATCHED', 'REGISTERED', '浙江省杭州市上城区清波街道' FROM generate_series(1, 230) k`,
        [child],
      );
      byDate = await column(`SELECT id FROM police.identity_verification WHERE minor_id = $1 ORDER BY verified_on DESC, id`, [child]);
      byId = await column(`SELECT id FROM police.identity_verification WHERE minor_id = $1 ORDER BY id`, [child]);
      expect(byDate).toHaveLength(230);
      expect(byDate).not.toEqual(byId);
    });

    it.each([PO, CA])('%s, who reads verifiedOn, walks them newest first', async (dept) => {
      expect((await walk(reader(await t.token(dept), child, list, pick), 100)).rows).toEqual(byDate);
    });

    it.each([ED, WF])('%s, denied verifiedOn, walks them by id — and its cursors follow its own order', async (dept) => {
      const token = await t.token(dept);
      expect((await walk(reader(token, child, list, pick), 40)).rows).toEqual(byId);
      // The row the police's page ended with goes on in this caller's order, not the police's.
      expect(await reader(token, child, list, pick)(3, byDate[0])).toEqual(byId.slice(byId.indexOf(byDate[0]) + 1).slice(0, 3));
    });

    it('refuses another child’s verification, an incident of the same child and an unknown id alike', async () => {
      const police = await t.token(PO);
      const [elsewhere] = await column(`SELECT id FROM police.identity_verification WHERE minor_id <> $1 LIMIT 1`, [child]);
      await t.sql(
        `INSERT INTO police.incident (id, minor_id, type, occurred_on, status, handling_unit, narrative)
         SELECT gen_random_uuid(), $1, type, occurred_on, status, handling_unit, narrative FROM police.incident LIMIT 1`,
        [child],
      );
      const [incident] = await column(`SELECT id FROM police.incident WHERE minor_id = $1 LIMIT 1`, [child]);
      for (const after of [elsewhere, incident, '00000000-0000-0000-0000-000000000001', '']) {
        expect([after, ...(await refusal(police, child, list, after))]).toEqual([after, ...REFUSED(child)]);
      }
    });
  });

  describe('a record’s sub-records: a care plan’s visits', () => {
    let plan: string;
    let child: string;
    let newest: string[];

    beforeAll(async () => {
      [{ id: plan, minor_id: child }] = await t.sql(
        `SELECT p.id, p.minor_id FROM womens_federation.care_plan p JOIN registry.minor m ON m.id = p.minor_id WHERE m.grid_code LIKE $1
         ORDER BY p.started_on DESC, p.id LIMIT 1`,
        [`${STREET}%`],
      );
      await t.sql(
        `INSERT INTO womens_federation.care_visit (id, plan_id, minor_id, visited_on, visitor, notes)
         SELECT gen_random_uuid(), $1, $2, current_date - k / 3, '妇联执委-1号', '关爱走访' FROM generate_series(1, 210) k`,
        [plan, child],
      );
      newest = await column(`SELECT id FROM womens_federation.care_visit WHERE plan_id = $1 ORDER BY visited_on DESC, id`, [plan]);
    });

    const read = (token: string) => async (first: number, after: string | null) => {
      const r = await t.gql(token, `query($id: ID!, $first: Int, $after: ID) { minor(id: $id) { carePlans(first: 100) { id visits(first: $first, after: $after) { id } } } }`, {
        id: child,
        first,
        after,
      });
      expect(r.errors).toBeUndefined();
      return ids(r.data.minor.carePlans.find((p: any) => p.id === plan).visits);
    };

    it('walks every visit of the plan once, newest first', async () => {
      expect(newest.length).toBeGreaterThan(210);
      expect((await walk(read(await t.token(WF)), 100)).rows).toEqual(newest);
    });

    it('refuses a visit of another plan and the plan’s own id as the cursor', async () => {
      const wf = await t.token(WF);
      const [otherVisit] = await column(`SELECT id FROM womens_federation.care_visit WHERE plan_id <> $1 LIMIT 1`, [plan]);
      for (const after of [otherVisit, plan]) {
        const r = await t.gql(wf, `query($id: ID!, $after: ID) { minor(id: $id) { carePlans(first: 100) { id visits(after: $after) { id } } } }`, { id: child, after });
        const mine = r.data.minor.carePlans.findIndex((p: any) => p.id === plan);
        const onPlan = r.errors?.filter((e) => e.path?.[2] === mine) ?? [];
        expect(onPlan.map((e) => [e.extensions?.code, e.message])).toEqual([['BAD_USER_INPUT', 'after: not a row of this list: pass the id of the last row of the page before']]);
      }
    });
  });

  describe('a workflow list: a child’s mandatory reports', () => {
    let child: string;
    beforeAll(async () => {
      [child] = await column(
        `SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE $1 AND NOT EXISTS (SELECT 1 FROM workflow.mandatory_report r WHERE r.minor_id = m.id) ORDER BY m.id DESC LIMIT 1`,
        [`${STREET}%`],
      );
      // 140 reports about places of the street, received in pairs at the same instant, and one about another street's.
      await t.sql(
        `INSERT INTO workflow.mandatory_report (id, reporter_id, reporter_department, harm_type, observation, observed_at, location, region_code, urgency, status, minor_id, received_at, verify_due_at, handle_due_at, updated_at)
         SELECT gen_random_uuid(), 'r', 'EDUCATION', 'NEGLECT', 'o', at, 'l', CASE WHEN k = 1 THEN '330102002' ELSE $2 END, 'URGENT', 'CLOSED', $1, at, at + interval '1 hour', at + interval '1 day', at
         FROM generate_series(1, 141) k, LATERAL (SELECT date_trunc('minute', now()) - (k / 2) * interval '1 day' AS at) c`,
        [child, STREET],
      );
    });
    const newest = (region: string) =>
      column(`SELECT id FROM workflow.mandatory_report WHERE minor_id = $1 AND region_code LIKE $2 ORDER BY received_at DESC, id`, [child, `${region}%`]);
    const list = (args: string) => `mandatoryReports(${args}) { id }`;
    const pick = (m: any) => m.mandatoryReports;

    it('walks them newest first, each within the caller’s jurisdiction, and refuses one outside it like an unknown one', async () => {
      const district = await newest('330102');
      expect(district).toHaveLength(141);
      expect((await walk(reader(await t.token(PO), child, list, pick), 100)).rows).toEqual(district);
      const street = await t.token(PO, { region: STREET });
      const mine = await newest(STREET);
      expect((await walk(reader(street, child, list, pick), 33)).rows).toEqual(mine);
      const [elsewhere] = district.filter((id) => !mine.includes(id));
      expect(await refusal(street, child, list, elsewhere)).toEqual(REFUSED(child));
      expect(await refusal(street, child, list, '00000000-0000-0000-0000-000000000003')).toEqual(REFUSED(child));
    });
  });

  describe('a workflow list: a child’s referrals', () => {
    let child: string;
    beforeAll(async () => {
      [child] = await column(
        `SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE $1 AND NOT EXISTS (SELECT 1 FROM workflow.referral r WHERE r.minor_id = m.id) ORDER BY m.id LIMIT 1`,
        [`${STREET}%`],
      );
      // 180 referrals, 120 to schools and 60 to the police, closed; and one addressed to the whole district.
      await t.sql(
        `INSERT INTO workflow.referral (id, minor_id, type, need, from_department, from_user, to_department, region_code, status, created_at, answer_due_at, answered_at, answered_by, answer_reason, closed_at)
         SELECT gen_random_uuid(), $1, 'COUNSELLING', '心理疏导', 'CIVIL_AFFAIRS', 'director-zhao', CASE WHEN k % 3 = 0 THEN 'POLICE' ELSE 'EDUCATION' END, CASE WHEN k = 1 THEN '330102' ELSE $2 END,
                'DECLINED', at, at + interval '48 hours', at + interval '1 hour', 'teacher-office', '不属本部门职责', at + interval '1 hour'
         FROM generate_series(1, 180) k, LATERAL (SELECT now() - (k * 37 % 90) * interval '1 day' AS at) c`,
        [child, STREET],
      );
    });
    const newest = (to: Department | null, region: string) =>
      column(
        `SELECT id FROM workflow.referral WHERE minor_id = $1 AND ($2::text IS NULL OR to_department = $2) AND region_code LIKE $3 ORDER BY created_at DESC, id`,
        [child, to, `${region}%`],
      );
    const list = (args: string) => `referrals(${args}) { id }`;
    const pick = (m: any) => m.referrals;

    it('walks each department’s referrals of the child, newest first, its own only', async () => {
      const civil = await newest(null, '330102');
      expect(civil).toHaveLength(180);
      expect((await walk(reader(await t.token(CA), child, list, pick), 100)).rows).toEqual(civil);
      expect((await walk(reader(await t.token(ED), child, list, pick), 50)).rows).toEqual(await newest(ED, '330102'));
      expect((await walk(reader(await t.token(CA, { region: STREET }), child, list, pick), 100)).rows).toEqual(await newest(null, STREET));
    });

    it('refuses a referral of the child the caller may not see — another department’s, another jurisdiction’s — like an unknown one', async () => {
      const [toPolice] = await newest(PO, '330102');
      const [districtWide] = await column(`SELECT id FROM workflow.referral WHERE minor_id = $1 AND region_code = '330102'`, [child]);
      const education = await t.token(ED);
      expect(await refusal(education, child, list, toPolice)).toEqual(REFUSED(child));
      const street = await t.token(CA, { region: STREET });
      expect(await refusal(street, child, list, districtWide)).toEqual(REFUSED(child));
      expect(await refusal(street, child, list, '00000000-0000-0000-0000-000000000002')).toEqual(REFUSED(child));
      // Both are rows of the district civil affairs' list.
      const civil = await newest(null, '330102');
      const district = await t.token(CA);
      for (const after of [toPolice, districtWide]) expect(await reader(district, child, list, pick)(1, after)).toEqual([civil[civil.indexOf(after) + 1]]);
    });
  });
});
