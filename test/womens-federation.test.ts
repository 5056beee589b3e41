import { Department } from '../src/auth/principal';
import { daysAgo, expectMaskedFailure, INSIDE_STREET, recordSuite, withFailingTrigger } from './support/department-records';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

/** 妇联: care plans and visits, family-education guidance, support after domestic violence, 儿童之家. */
describe('womens federation subgraph', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());
  const hub = () => t;
  const WF = Department.WOMENS_FEDERATION;
  const ACTIVE_PLAN = `SELECT r.id FROM womens_federation.care_plan r JOIN registry.minor m ON m.id = r.minor_id
                       WHERE r.status = 'ACTIVE' AND r.started_on < current_date - 2 AND m.grid_code {{jurisdiction}} ORDER BY r.id LIMIT 1`;

  recordSuite(hub, {
    owner: WF,
    type: 'CarePlan',
    table: 'womens_federation.care_plan',
    create: 'createCarePlan',
    update: 'updateCarePlan',
    input: { kind: 'LEFT_BEHIND', startedOn: daysAgo(60), status: 'ACTIVE', caregiver: '祖母', measures: '每月走访' },
    updated: { kind: 'LEFT_BEHIND', startedOn: daysAgo(60), status: 'ENDED', caregiver: '母亲', measures: '母亲返乡, 结束' },
    invalid: [['an empty caregiver', { caregiver: '' }, 'caregiver']],
  });
  recordSuite(hub, {
    owner: WF,
    type: 'CareVisit',
    table: 'womens_federation.care_visit',
    create: 'recordCareVisit',
    parentArg: 'planId',
    parentSql: ACTIVE_PLAN,
    input: { visitedOn: daysAgo(1), visitor: '妇联执委-3号', notes: '生活正常' },
    invalid: [['a visit before the plan started', { visitedOn: daysAgo(6000) }, 'visitedOn']],
  });
  recordSuite(hub, {
    owner: WF,
    type: 'FamilyEducationSession',
    table: 'womens_federation.family_education_session',
    create: 'createFamilyEducationSession',
    update: 'updateFamilyEducationSession',
    input: { heldOn: daysAgo(4), topic: '亲子沟通', attendee: '母亲', instructor: '王老师', notes: null },
    updated: { heldOn: daysAgo(4), topic: '亲子沟通', attendee: '父亲', instructor: '王老师', notes: '父亲首次参加' },
    invalid: [['an empty topic', { topic: '' }, 'topic']],
  });
  recordSuite(hub, {
    owner: WF,
    type: 'DomesticViolenceSupport',
    table: 'womens_federation.violence_support',
    create: 'createDomesticViolenceSupport',
    update: 'updateDomesticViolenceSupport',
    input: { kind: 'COUNSELLING', startedOn: daysAgo(9), status: 'ACTIVE', notes: '心理疏导' },
    updated: { kind: 'COUNSELLING', startedOn: daysAgo(9), status: 'CLOSED', notes: '疏导结束' },
    invalid: [['a start in the future', { startedOn: daysAgo(-5) }, 'startedOn']],
  });
  recordSuite(hub, {
    owner: WF,
    type: 'ChildrenHomeAttendance',
    table: 'womens_federation.children_home_attendance',
    create: 'createChildrenHomeAttendance',
    update: 'updateChildrenHomeAttendance',
    input: { home: '清波儿童之家', attendedOn: daysAgo(2), activity: '绘本阅读' },
    updated: { home: '清波儿童之家', attendedOn: daysAgo(2), activity: '手工课' },
    invalid: [['an empty activity', { activity: '' }, 'activity']],
  });

  // A child who goes to the 儿童之家 every week has 52 attendances after a year, and a plan followed
  // for years as many visits: each list is answered a page at a time, newest first, whatever its length.
  describe('a child’s attendances and a plan’s visits, a page at a time', () => {
    const ATTENDANCES = `query($a: ID!, $b: ID!, $first: Int) {
      a: minor(id: $a) { childrenHomeAttendances(first: $first) { id } }
      b: minor(id: $b) { childrenHomeAttendances { id } } }`;
    const VISITS = `query($id: ID!, $first: Int) { minor(id: $id) { carePlans(first: 100) { id visits(first: $first) { id } } } }`;
    let a: string;
    let b: string;
    let plan: string;
    const ids = (rows: { id: string }[]) => rows.map((r) => r.id);

    beforeAll(async () => {
      [{ minor_id: a, id: plan }] = await t.sql(`
        SELECT p.minor_id, p.id FROM womens_federation.care_plan p JOIN registry.minor m ON m.id = p.minor_id
        WHERE m.grid_code LIKE '${INSIDE_STREET}%' AND NOT EXISTS (SELECT 1 FROM womens_federation.children_home_attendance x WHERE x.minor_id = p.minor_id)
        ORDER BY p.id LIMIT 1`);
      [{ id: b }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${INSIDE_STREET}%' AND id <> $1 ORDER BY id LIMIT 1`, [a]);
      await t.sql(`DELETE FROM womens_federation.children_home_attendance WHERE minor_id = $1`, [b]);
      // A year of weekly attendances and two months of daily visits, inserted in no particular order.
      await t.sql(
        `INSERT INTO womens_federation.children_home_attendance (id, minor_id, home, attended_on, activity)
         SELECT gen_random_uuid(), $1::uuid, '清波儿童之家', current_date - (k * 37 % 60) * 7, '绘本阅读' FROM generate_series(1, 60) k
         UNION ALL SELECT gen_random_uuid(), $2::uuid, '清波儿童之家', current_date - k, '手工课' FROM generate_series(1, 3) k`,
        [a, b],
      );
      await t.sql(
        `INSERT INTO womens_federation.care_visit (id, plan_id, minor_id, visited_on, visitor, notes)
         SELECT gen_random_uuid(), $1, $2, current_date - (k * 37 % 60), '妇联执委-1号', '关爱走访' FROM generate_series(1, 60) k`,
        [plan, a],
      );
    });

    it('answers the newest 20 by default and up to 100 when asked, each child its own; refuses a page outside 1–100', async () => {
      const newest = ids(await t.sql(`SELECT id FROM womens_federation.children_home_attendance WHERE minor_id = $1 ORDER BY attended_on DESC, id`, [a]));
      expect(newest).toHaveLength(60);
      const token = await t.token(WF);
      const page = async (first?: number) => {
        const r = await t.gql(token, ATTENDANCES, { a, b, first });
        expect(r.errors).toBeUndefined();
        expect(r.data.b.childrenHomeAttendances).toHaveLength(3);
        return ids(r.data.a.childrenHomeAttendances);
      };
      expect(await page()).toEqual(newest.slice(0, 20));
      expect(await page(7)).toEqual(newest.slice(0, 7));
      expect(await page(100)).toEqual(newest);
      for (const first of [0, 101]) {
        const r = await t.gql(token, ATTENDANCES, { a, b, first });
        expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
        expect([r.errors![0].extensions!.field, r.data.a.childrenHomeAttendances, r.data.b.childrenHomeAttendances.length]).toEqual(['first', null, 3]);
      }
    });

    it('answers a plan’s newest 20 visits by default, all of them (60 added) with `first: 100`', async () => {
      const newest = ids(await t.sql(`SELECT id FROM womens_federation.care_visit WHERE plan_id = $1 ORDER BY visited_on DESC, id`, [plan]));
      expect(newest.length).toBeGreaterThanOrEqual(60);
      const token = await t.token(WF);
      const visits = async (first?: number) => {
        const r = await t.gql(token, VISITS, { id: a, first });
        expect(r.errors).toBeUndefined();
        return ids(r.data.minor.carePlans.find((p: { id: string }) => p.id === plan).visits);
      };
      expect(await visits()).toEqual(newest.slice(0, 20));
      expect(await visits(100)).toEqual(newest.slice(0, 100));
      expect(errorCodes(await t.gql(token, VISITS, { id: a, first: 101 }))).toEqual(['BAD_USER_INPUT']);
    });
  });

  it('a care visit moves the plan’s last visit forward, atomically', async () => {
    const [plan] = await t.sql(`SELECT id FROM womens_federation.care_plan WHERE status = 'ACTIVE' AND last_visit_on < current_date - 40 ORDER BY id LIMIT 1`);
    const VISIT = `mutation($p: ID!, $on: String!) { recordCareVisit(planId: $p, input: { visitedOn: $on, visitor: "x", notes: "x" }) { id } }`;
    const token = await t.token(WF);
    await withFailingTrigger(t, 'womens_federation.care_plan', 'UPDATE', async () => {
      expectMaskedFailure(await t.gql(token, VISIT, { p: plan.id, on: daysAgo(1) }));
    });
    expect(await t.sql(`SELECT id FROM womens_federation.care_visit WHERE plan_id = $1 AND visited_on = current_date - 1`, [plan.id])).toEqual([]);
    expect((await t.gql(token, VISIT, { p: plan.id, on: daysAgo(1) })).errors).toBeUndefined();
    expect((await t.sql(`SELECT to_char(last_visit_on, 'YYYY-MM-DD') AS d FROM womens_federation.care_plan WHERE id = $1`, [plan.id]))[0].d).toBe(daysAgo(1));
  });

  it('refuses moving a plan’s start after any of its visits, not only after the latest, and accepts a start up to the first', async () => {
    const PLAN = { kind: 'LEFT_BEHIND', status: 'ACTIVE', caregiver: '祖父母', measures: '每月走访' };
    const UPDATE = `mutation($p: ID!, $i: CarePlanInput!) { updateCarePlan(id: $p, input: $i) { id } }`;
    const VISIT = `mutation($p: ID!, $on: String!) { recordCareVisit(planId: $p, input: { visitedOn: $on, visitor: "v", notes: "n" }) { id } }`;
    const startedOn = async (id: string) => (await t.sql(`SELECT to_char(started_on, 'YYYY-MM-DD') AS d FROM womens_federation.care_plan WHERE id = $1`, [id]))[0].d;
    const token = await t.token(WF);
    const [{ id: minorId }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${INSIDE_STREET}%' ORDER BY id LIMIT 1`);
    const c = await t.gql(token, `mutation($m: ID!, $i: CarePlanInput!) { createCarePlan(minorId: $m, input: $i) { id } }`, { m: minorId, i: { ...PLAN, startedOn: daysAgo(100) } });
    const plan = c.data.createCarePlan.id;
    for (const on of [daysAgo(90), daysAgo(10)]) expect((await t.gql(token, VISIT, { p: plan, on })).errors).toBeUndefined();

    const u = await t.gql(token, UPDATE, { p: plan, i: { ...PLAN, startedOn: daysAgo(50) } });
    expect(errorCodes(u)).toEqual(['BAD_USER_INPUT']);
    expect(u.errors![0].extensions!.field).toBe('startedOn');
    expect(await startedOn(plan)).toBe(daysAgo(100));
    expect((await t.gql(token, UPDATE, { p: plan, i: { ...PLAN, startedOn: daysAgo(90) } })).errors).toBeUndefined();
    expect(await startedOn(plan)).toBe(daysAgo(90));
  });

  it('answers "left-behind children without a visit in 30 days"', async () => {
    const LIST = `{ carePlans(filter: { kinds: [LEFT_BEHIND], statuses: [ACTIVE], notVisitedWithinDays: 30 }, first: 1000) {
      totalCount nodes { id lastVisitOn minor { id name } } } }`;
    const expected = await t.sql(`
      SELECT id FROM womens_federation.care_plan
      WHERE kind = 'LEFT_BEHIND' AND status = 'ACTIVE' AND (last_visit_on IS NULL OR last_visit_on <= statistics.china_day(now()) - 30) ORDER BY id`);
    expect(expected.length).toBeGreaterThan(0);
    const r = await t.gql(await t.token(WF), LIST);
    expect(r.errors).toBeUndefined();
    expect(r.data.carePlans.nodes.map((n: any) => n.id)).toEqual(expected.map((e: any) => e.id));
    expect(r.data.carePlans.nodes.every((n: any) => n.lastVisitOn === null || n.lastVisitOn <= daysAgo(30))).toBe(true);
    expect(errorCodes(await t.gql(await t.token(Department.EDUCATION), LIST))).toEqual(['FORBIDDEN']);
  });

  it('refuses schools family-education guidance, which tells them the DOMESTIC_VIOLENCE category they see masked', async () => {
    const [c] = await t.sql(`
      SELECT s.minor_id FROM womens_federation.family_education_session s
      JOIN registry.minor_category mc ON mc.minor_id = s.minor_id AND mc.category = 'DOMESTIC_VIOLENCE' ORDER BY s.minor_id LIMIT 1`);
    const q = `query($id: ID!) { minor(id: $id) { categories { category } familyEducationSessions { heldOn topic } } }`;
    const ed = await t.gql(await t.token(Department.EDUCATION), q, { id: c.minor_id });
    expect(ed.data.minor.familyEducationSessions).toBeNull();
    expect(ed.data.minor.categories.map((x: { category: string }) => x.category)).toContain('NEEDS_SUPPORT');
    expect(ed.errors!.map((e) => [e.extensions!.code, e.extensions!.field])).toEqual([['FORBIDDEN', 'Minor.familyEducationSessions']]);
    for (const department of [Department.CIVIL_AFFAIRS, Department.POLICE, Department.JUSTICE, Department.WOMENS_FEDERATION]) {
      const r = await t.gql(await t.token(department), q, { id: c.minor_id });
      expect(r.data.minor.familyEducationSessions.length).toBeGreaterThan(0);
      expect(r.errors).toBeUndefined();
    }
  });

  it('shows schools the caregiver, not the care measures, visits or violence support', async () => {
    const [c] = await t.sql(`
      SELECT p.minor_id, p.caregiver FROM womens_federation.care_plan p
      WHERE (SELECT count(*) FROM womens_federation.care_plan x WHERE x.minor_id = p.minor_id) = 1 ORDER BY p.minor_id LIMIT 1`);
    const q = `query($id: ID!) { minor(id: $id) { carePlans { caregiver measures lastVisitOn } domesticViolenceSupports { kind } } }`;
    const ed = await t.gql(await t.token(Department.EDUCATION), q, { id: c.minor_id });
    expect(ed.data.minor).toEqual({ carePlans: [{ caregiver: c.caregiver, measures: null, lastVisitOn: null }], domesticViolenceSupports: null });
    expect([...new Set(ed.errors!.map((e) => e.extensions!.field))].sort()).toEqual(['CarePlan.lastVisitOn', 'CarePlan.measures', 'Minor.domesticViolenceSupports']);
    const ca = await t.gql(await t.token(Department.CIVIL_AFFAIRS), q, { id: c.minor_id });
    expect(ca.data.minor.carePlans[0].measures).toBeNull();
    expect(Array.isArray(ca.data.minor.domesticViolenceSupports)).toBe(true);
  });
});
