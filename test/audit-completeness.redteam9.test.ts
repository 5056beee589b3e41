import { Department, Role } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

/**
 * What an answer tells of a child without the field being selected must still be in the request's
 * event: the trail is where a data officer reads who learnt what of which child.
 */
describe('audit completeness (redteam 9)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  it('records the risk level of each child overdueVisits lists: the list is ordered by it, most urgent first', async () => {
    // Only the ids selected, no level asked: the order alone ranks the children by level.
    const r = await post(t, await t.token(Department.CIVIL_AFFAIRS), { query: `{ overdueVisits(first: 500) { minor { id } } }` });
    const named: string[] = r.json.data.overdueVisits.map((v: { minor: { id: string } }) => v.minor.id);
    const levels = await t.sql(`SELECT DISTINCT risk_level FROM registry.minor WHERE id = ANY($1)`, [named]);
    expect(levels.length).toBeGreaterThan(1);
    const reads = (await eventOf(t, r.requestId)).reads as { minorId: string; fields: Record<string, string> }[];
    expect(reads.map((x) => x.minorId).sort()).toEqual([...named].sort());
    for (const x of reads) expect(x.fields).toMatchObject({ 'Minor.riskLevel': 'ALLOW', 'Minor.nextVisitDue': 'ALLOW' });
  });
  it('records the status a refused report step states, as a read of the report’s child', async () => {
    const [child] = await t.sql(`SELECT id, trim(id_number) AS id_number, grid_code FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
    const reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-rt9' });
    const filed = await t.gql(
      reporter,
      `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`,
      { input: { harmType: 'PHYSICAL_ABUSE', observation: '手臂多处淤青', location: '教室', regionCode: child.grid_code, urgency: 'URGENT', childIdNumber: child.id_number } },
      {},
    );
    expect(filed.errors).toBeUndefined();
    const r = await post(t, await t.token(Department.POLICE), {
      query: `mutation($id: ID!) { transitionReport(id: $id, to: CLOSED, note: "结案") { id } }`,
      variables: { id: filed.data.fileMandatoryReport.id },
    });
    // The refusal names the report's status.
    expect(r.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(r.json.errors[0].message).toContain('RECEIVED');
    const reads = (await eventOf(t, r.requestId)).reads as { minorId: string; fields: Record<string, string> }[];
    expect(reads).toEqual([{ minorId: child.id, fields: expect.objectContaining({ 'MandatoryReport.status': 'ALLOW' }) }]);
  });

  it('records the status a refused referral answer states, as a read of the referral’s child', async () => {
    const [child] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 3 LIMIT 1`);
    const created = await t.gql(await t.token(Department.CIVIL_AFFAIRS), `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`, {
      input: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: Department.EDUCATION, need: '家庭困难，需要帮扶' },
    });
    expect(created.errors).toBeUndefined();
    const education = await t.token(Department.EDUCATION);
    const complete = { query: `mutation($id: ID!) { completeReferral(id: $id, outcome: "已帮扶") { id } }`, variables: { id: created.data.createReferral.id } };
    const r = await post(t, education, complete);
    expect(r.json.errors[0].message).toContain('PENDING');
    const reads = (await eventOf(t, r.requestId)).reads as { minorId: string; fields: Record<string, string> }[];
    expect(reads).toEqual([{ minorId: child.id, fields: expect.objectContaining({ 'Referral.status': 'ALLOW' }) }]);
  });
  it('records what a refused registry write states of the child: a category it lacks, its birth date as a bound', async () => {
    const [child] = await t.sql(
      `SELECT m.id, to_char(m.birth_date, 'YYYY-MM-DD') AS birth_date FROM registry.minor m
        WHERE m.grid_code LIKE '330102001%' AND registry.is_minor(m.birth_date, now())
          AND NOT EXISTS (SELECT 1 FROM registry.minor_category c WHERE c.minor_id = m.id AND c.category = 'LEFT_BEHIND')
        ORDER BY m.id LIMIT 1`,
    );
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const lacks = await post(t, civil, { query: `mutation($id: ID!) { removeCategory(minorId: $id, category: LEFT_BEHIND) { id } }`, variables: { id: child.id } });
    expect(lacks.json.errors[0].message).toContain('does not have this category');
    expect((await eventOf(t, lacks.requestId)).reads).toEqual([{ minorId: child.id, fields: expect.objectContaining({ 'Minor.categories': 'ALLOW' }) }]);
    const before = await post(t, civil, {
      query: `mutation($id: ID!, $at: DateTimeISO) { recordVisit(minorId: $id, input: { visitedAt: $at, notes: "走访" }) { id } }`,
      variables: { id: child.id, at: '2000-01-01T00:00:00.000Z' },
    });
    expect(before.json.errors[0].message).toContain('before the child was born');
    expect((await eventOf(t, before.requestId)).reads).toEqual([{ minorId: child.id, fields: expect.objectContaining({ 'Minor.birthDate': 'ALLOW' }) }]);
  });
  it('records what a refused department write states of its record: a care plan’s start', async () => {
    const token = await t.token(Department.WOMENS_FEDERATION);
    const [plan] = await t.sql(`SELECT id, minor_id, to_char(started_on - 1, 'YYYY-MM-DD') AS before FROM womens_federation.care_plan WHERE status = 'ACTIVE' AND started_on > current_date - 365 * 17 ORDER BY id LIMIT 1`);
    const r = await post(t, token, {
      query: `mutation($p: ID!, $on: String!) { recordCareVisit(planId: $p, input: { visitedOn: $on, visitor: "v", notes: "n" }) { id } }`,
      variables: { p: plan.id, on: plan.before },
    });
    expect(r.json.errors).toEqual([expect.objectContaining({ message: expect.stringContaining('before the plan started') })]);
    expect((await eventOf(t, r.requestId)).reads).toEqual([{ minorId: plan.minor_id, fields: expect.objectContaining({ 'CarePlan.startedOn': 'ALLOW' }) }]);
  });

  /**
   * Red team 10. A write refused for what the child's record holds records the field its refusal states (README,
   * "for each child returned the fields read"). Civil affairs sees every referral in its jurisdiction
   * and may call any answer: "Only the receiving department answers a referral" tells it the referral
   * was not addressed to civil affairs — a fact of `Referral.toDepartment` — and the trail recorded
   * only that the referral was found.
   */
  describe('a referral answer refused to a department it was not addressed to', () => {
    it('records Referral.toDepartment when a referral answer is refused to a department it was not addressed to', async () => {
      const [child] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 5 LIMIT 1`);
      const created = await t.gql(await t.token(Department.EDUCATION), `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`, {
        input: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: Department.WOMENS_FEDERATION, need: '家庭困难，需要帮扶' },
      });
      expect(created.errors).toBeUndefined();
      const r = await post(t, await t.token(Department.CIVIL_AFFAIRS, { user: 'ca-not-addressed' }), {
        query: `mutation($id: ID!) { acceptReferral(id: $id) { id } }`,
        variables: { id: created.data.createReferral.id },
      });
      expect(r.json.errors.map((e: any) => e.extensions.code)).toEqual(['FORBIDDEN']);
      expect((await eventOf(t, r.requestId)).reads).toEqual([{ minorId: child.id, fields: expect.objectContaining({ 'Referral.toDepartment': 'ALLOW' }) }]);
    });

    it('records nothing of a child outside the caller’s jurisdiction, whose referral names no child to it', async () => {
      // Addressed to the street the child has since left: the referral is still answered, naming no child there.
      const [child] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 6 LIMIT 1`);
      const street = '330102001';
      const created = await t.gql(await t.token(Department.EDUCATION, { region: street }), `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`, {
        input: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: Department.WOMENS_FEDERATION, need: '家庭困难，需要帮扶' },
      });
      expect(created.errors).toBeUndefined();
      const [elsewhere] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code NOT LIKE '${street}%' ORDER BY code LIMIT 1`);
      await t.sql(`UPDATE registry.minor SET grid_code = $2 WHERE id = $1`, [child.id, elsewhere.code]);
      const r = await post(t, await t.token(Department.CIVIL_AFFAIRS, { user: 'ca-moved', region: street }), {
        query: `mutation($id: ID!) { acceptReferral(id: $id) { id } }`,
        variables: { id: created.data.createReferral.id },
      });
      expect(r.json.errors.map((e: any) => e.extensions.code)).toEqual(['FORBIDDEN']);
      expect((await eventOf(t, r.requestId)).reads).toEqual([]);
    });
  });
});
