import { Department } from '../src/auth/principal';
import { chinaDay } from '../src/common/dates';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(180_000);

const { POLICE: PO, EDUCATION: ED, JUSTICE: JU, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;
const STREET = '330102001';
const dayOffset = (n: number) => chinaDay(new Date(Date.now() + n * 86_400_000));

describe('department slices compared (red team 17)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t?.stop());

  // A child old enough for every record dated within the year (work from 16, a dropout from 6, a community correction from 12).
  const childIn = async (region = STREET): Promise<string> =>
    (
      await t.sql(
        `SELECT j.minor_id AS id FROM registry.minor_jurisdiction j JOIN registry.minor m ON m.id = j.minor_id
          WHERE j.grid_code LIKE $1 AND m.birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '16 years' ORDER BY j.minor_id LIMIT 1`,
        [`${region}%`],
      )
    )[0].id;

  // ---- sequencing: every mutation field reads as written ----
  it('education: c: updateDropoutReport after b: recordPersuasionAction (closing) reads the report as written', async () => {
    const minorId = await childIn();
    const ed = await t.token(ED, { region: STREET });
    const created: any = await t.gql(ed, `mutation($m: ID!, $d: String!) { createDropoutReport(minorId: $m, input: { school: "清波小学", reportedOn: $d, daysAbsent: 12 }) { id } }`, {
      m: minorId,
      d: dayOffset(-10),
    });
    expect(created.errors).toBeUndefined();
    const id = created.data.createDropoutReport.id;
    const r: any = await t.gql(
      ed,
      `mutation($id: ID!, $d: String!, $a: String!) {
        a: updateDropoutReport(id: $id, input: { school: "清波小学", reportedOn: $d, daysAbsent: 12 }) { status closedOn persuasionActions { id } }
        b: recordPersuasionAction(reportId: $id, input: { actedOn: $a, method: HOME_VISIT, actor: "班主任", note: "劝返", outcome: RETURNED_TO_SCHOOL }) { id }
        c: updateDropoutReport(id: $id, input: { school: "清波小学", reportedOn: $d, daysAbsent: 12 }) { status closedOn outcome persuasionActions { id } }
      }`,
      { id, d: dayOffset(-10), a: dayOffset(-2) },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.a).toEqual({ status: 'OPEN', closedOn: null, persuasionActions: [] });
    expect(r.data.c).toEqual({ status: 'CLOSED', closedOn: dayOffset(-2), outcome: 'RETURNED_TO_SCHOOL', persuasionActions: [{ id: r.data.b.id }] });
  });

  it('youth league: c: updatePreventionCase after b: recordMisbehaviourFollowUp reads the case as written', async () => {
    const minorId = await childIn();
    const yl = await t.token(YL, { region: STREET });
    const input = `{ kind: GENERAL_PREVENTION, openedOn: "${dayOffset(-10)}", status: OPEN, caseWorker: "社工", measures: "谈心" }`;
    const created: any = await t.gql(yl, `mutation($m: ID!) { createPreventionCase(minorId: $m, input: ${input}) { id } }`, { m: minorId });
    expect(created.errors).toBeUndefined();
    const id = created.data.createPreventionCase.id;
    const r: any = await t.gql(
      yl,
      `mutation($id: ID!, $f: String!) {
        a: updatePreventionCase(id: $id, input: ${input}) { lastFollowUpOn followUps { id } }
        b: recordMisbehaviourFollowUp(caseId: $id, input: { followedUpOn: $f, note: "跟踪" }) { id }
        c: updatePreventionCase(id: $id, input: ${input}) { lastFollowUpOn followUps { id followedUpOn } }
      }`,
      { id, f: dayOffset(-1) },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.a).toEqual({ lastFollowUpOn: null, followUps: [] });
    expect(r.data.c).toEqual({ lastFollowUpOn: dayOffset(-1), followUps: [{ id: r.data.b.id, followedUpOn: dayOffset(-1) }] });
  });

  // ---- the day in China ----
  const creates: [Department, string, (d: string) => string, string][] = [
    [ED, 'createSchoolEnrollment', (d) => `{ school: "x", grade: 1, status: ENROLLED, enrolledOn: "${d}" }`, 'enrolledOn'],
    [ED, 'createBullyingCase', (d) => `{ school: "x", occurredOn: "${d}", role: VICTIM, severity: GENERAL, status: OPEN, description: "x" }`, 'occurredOn'],
    [ED, 'createEducationAid', (d) => `{ kind: SCHOLARSHIP, amountYuan: 1, grantedOn: "${d}", schoolYear: "2025-2026" }`, 'grantedOn'],
    [PO, 'createPoliceIncident', (d) => `{ type: MISSING, occurredOn: "${d}", status: REPORTED, handlingUnit: "x", narrative: "x" }`, 'occurredOn'],
    [PO, 'createGuardianAdmonishment', (d) => `{ guardian: FATHER, admonishedOn: "${d}", issuingUnit: "x", reason: "x" }`, 'admonishedOn'],
    [PO, 'createIdentityVerification', (d) => `{ verifiedOn: "${d}", result: NO_RECORD, householdStatus: UNREGISTERED }`, 'verifiedOn'],
    [JU, 'createIncarceratedParent', (d) => `{ parent: FATHER, kind: SERVING_SENTENCE, institution: "x", since: "${d}", status: IN_CUSTODY }`, 'since'],
    [JU, 'createCommunityCorrection', (d) => `{ startedOn: "${d}", endsOn: "${dayOffset(400)}", status: ACTIVE, supervisingOffice: "x" }`, 'startedOn'],
    [JU, 'createLegalAidCase', (d) => `{ openedOn: "${d}", matter: OTHER, status: OPEN, provider: "x", details: "x" }`, 'openedOn'],
    [YL, 'createIdleSupport', (d) => `{ kind: EMPLOYMENT, startedOn: "${d}", provider: "x", status: IN_PROGRESS }`, 'startedOn'],
    [YL, 'createVolunteerVisit', (d) => `{ visitedOn: "${d}", volunteer: "x", notes: "x" }`, 'visitedOn'],
    [WF, 'createFamilyEducationSession', (d) => `{ heldOn: "${d}", topic: "x", attendee: "x", instructor: "x" }`, 'heldOn'],
    [WF, 'createDomesticViolenceSupport', (d) => `{ kind: SHELTER, startedOn: "${d}", status: ACTIVE, notes: "x" }`, 'startedOn'],
    [WF, 'createChildrenHomeAttendance', (d) => `{ home: "x", attendedOn: "${d}", activity: "x" }`, 'attendedOn'],
  ];
  it.each(creates)('%s %s: a date of today in China is taken, tomorrow in China refused naming the field', async (dept, mutation, input, field) => {
    const minorId = await childIn();
    const token = await t.token(dept, { region: STREET });
    const today: any = await t.gql(token, `mutation($m: ID!) { ${mutation}(minorId: $m, input: ${input(dayOffset(0))}) { id } }`, { m: minorId });
    expect(today.errors).toBeUndefined();
    const tomorrow: any = await t.gql(token, `mutation($m: ID!) { ${mutation}(minorId: $m, input: ${input(dayOffset(1))}) { id } }`, { m: minorId });
    expect(errorCodes(tomorrow)).toEqual(['BAD_USER_INPUT']);
    expect(tomorrow.errors[0].extensions.field).toBe(field);
  });

  // ---- list filters count days in China ----
  const PURPOSE = { 'x-purpose': 'CASE_HANDLING; rt17' };
  it('policeIncidents occurredWithinDays: 1 holds an incident of today in China, not one of yesterday in China', async () => {
    const minorId = await childIn();
    const po = await t.token(PO, { region: STREET });
    const ids: string[] = [];
    for (const d of [dayOffset(0), dayOffset(-1)]) {
      const r: any = await t.gql(po, `mutation($m: ID!, $d: String!) { createPoliceIncident(minorId: $m, input: { type: MISSING, occurredOn: $d, status: REPORTED, handlingUnit: "派出所", narrative: "x" }) { id } }`, { m: minorId, d });
      expect(r.errors).toBeUndefined();
      ids.push(r.data.createPoliceIncident.id);
    }
    const r: any = await t.gql(po, `{ policeIncidents(filter: { occurredWithinDays: 1 }, first: 1000) { nodes { id } } }`, {}, PURPOSE);
    expect(r.errors).toBeUndefined();
    const got = r.data.policeIncidents.nodes.map((n: any) => n.id);
    expect(got).toContain(ids[0]);
    expect(got).not.toContain(ids[1]);
  });

  it('incarceratedParents releaseWithinDays: 1 holds a release today and tomorrow in China, not yesterday or the day after', async () => {
    const minorId = await childIn();
    const ju = await t.token(JU, { region: STREET });
    const ids: Record<number, string> = {};
    for (const n of [-1, 0, 1, 2]) {
      const r: any = await t.gql(
        ju,
        `mutation($m: ID!, $s: String!, $e: String!) { createIncarceratedParent(minorId: $m, input: { parent: MOTHER, kind: COMPULSORY_REHAB, institution: "所", since: $s, expectedRelease: $e, status: IN_CUSTODY }) { id } }`,
        { m: minorId, s: dayOffset(-30), e: dayOffset(n) },
      );
      expect(r.errors).toBeUndefined();
      ids[n] = r.data.createIncarceratedParent.id;
    }
    const r: any = await t.gql(ju, `{ incarceratedParents(filter: { releaseWithinDays: 1 }, first: 1000) { nodes { id } } }`, {}, PURPOSE);
    expect(r.errors).toBeUndefined();
    const got = r.data.incarceratedParents.nodes.map((n: any) => n.id);
    expect([ids[-1], ids[0], ids[1], ids[2]].map((id) => got.includes(id))).toEqual([false, true, true, false]);
  });

  it('carePlans notVisitedWithinDays: 1 leaves out a plan visited today in China, holds one visited yesterday in China', async () => {
    const minorId = await childIn();
    const wf = await t.token(WF, { region: STREET });
    const ids: string[] = [];
    for (const d of [dayOffset(0), dayOffset(-1)]) {
      const p: any = await t.gql(wf, `mutation($m: ID!, $s: String!) { createCarePlan(minorId: $m, input: { kind: MIGRANT, startedOn: $s, status: ACTIVE, caregiver: "祖母", measures: "走访" }) { id } }`, { m: minorId, s: dayOffset(-5) });
      expect(p.errors).toBeUndefined();
      const id = p.data.createCarePlan.id;
      const v: any = await t.gql(wf, `mutation($p: ID!, $d: String!) { recordCareVisit(planId: $p, input: { visitedOn: $d, visitor: "执委", notes: "好" }) { id } }`, { p: id, d });
      expect(v.errors).toBeUndefined();
      ids.push(id);
    }
    const r: any = await t.gql(wf, `{ carePlans(filter: { notVisitedWithinDays: 1 }, first: 1000) { nodes { id lastVisitOn } } }`, {}, PURPOSE);
    expect(r.errors).toBeUndefined();
    const got = r.data.carePlans.nodes.map((n: any) => n.id);
    expect(got).not.toContain(ids[0]);
    expect(got).toContain(ids[1]);
  });

  // ---- concurrent sub-record writes ----
  it('two closing persuasion actions at once: one closes the report, the other is refused as closed (no INTERNAL)', async () => {
    const minorId = await childIn();
    const ed = await t.token(ED, { region: STREET });
    const created: any = await t.gql(ed, `mutation($m: ID!, $d: String!) { createDropoutReport(minorId: $m, input: { school: "清波小学", reportedOn: $d, daysAbsent: 3 }) { id } }`, { m: minorId, d: dayOffset(-10) });
    const id = created.data.createDropoutReport.id;
    const close = (o: string) =>
      t.gql(ed, `mutation($id: ID!, $a: String!) { recordPersuasionAction(reportId: $id, input: { actedOn: $a, method: HOME_VISIT, actor: "班主任", note: "劝返", outcome: ${o} }) { id } }`, { id, a: dayOffset(-1) });
    const rs: any[] = await Promise.all([close('RETURNED_TO_SCHOOL'), close('NOT_RETURNED'), close('VOCATIONAL_SCHOOL')]);
    const codes = rs.map((r) => errorCodes(r)[0] ?? 'OK').sort();
    expect(codes).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT', 'OK']);
    const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM education.persuasion_action WHERE report_id = $1`, [id]);
    expect(n).toBe(1);
  });

  it('a child asked by its id in capitals gets its department records as by the id in lower case', async () => {
    const [{ id }] = await t.sql(
      `SELECT e.minor_id AS id FROM education.school_enrollment e JOIN registry.minor_jurisdiction j ON j.minor_id = e.minor_id WHERE j.grid_code LIKE $1 ORDER BY 1 LIMIT 1`,
      [`${STREET}%`],
    );
    const ed = await t.token(ED, { region: STREET });
    const q = `query($id: ID!) { minor(id: $id) { id schoolEnrollments { id } policeProtectionCase { hasOpenCase } preventionCases { id } carePlans { id } } }`;
    const lower: any = await t.gql(ed, q, { id });
    const upper: any = await t.gql(ed, q, { id: id.toUpperCase() });
    expect(lower.errors).toBeUndefined();
    expect(lower.data.minor.schoolEnrollments.length).toBeGreaterThan(0);
    expect(upper.errors).toBeUndefined();
    expect(upper.data.minor).toEqual(lower.data.minor);
  });

  // ---- a parent's kept date as the bound of its own date, once its sub-records are gone past the API ----
  // docs/departments.md: "The hub deletes no row of these lists; one removed past the API ..." — the parent
  // keeps the date its sub-records set (closedOn, lastVisitOn, lastFollowUpOn), and a correction of its own
  // date past that date must be refused BAD_USER_INPUT naming the field, as education does for closedOn.
  it('education: a closed report whose actions were removed past the API: reportedOn after closedOn is BAD_USER_INPUT', async () => {
    const minorId = await childIn();
    const ed = await t.token(ED, { region: STREET });
    const c: any = await t.gql(ed, `mutation($m: ID!, $d: String!) { createDropoutReport(minorId: $m, input: { school: "清波小学", reportedOn: $d, daysAbsent: 3 }) { id } }`, { m: minorId, d: dayOffset(-10) });
    const id = c.data.createDropoutReport.id;
    const a: any = await t.gql(ed, `mutation($id: ID!, $a: String!) { recordPersuasionAction(reportId: $id, input: { actedOn: $a, method: HOME_VISIT, actor: "班主任", note: "劝返", outcome: NOT_RETURNED }) { id } }`, { id, a: dayOffset(-5) });
    expect(a.errors).toBeUndefined();
    await t.sql(`DELETE FROM education.persuasion_action WHERE report_id = $1`, [id]);
    const r: any = await t.gql(ed, `mutation($id: ID!, $d: String!) { updateDropoutReport(id: $id, input: { school: "清波小学", reportedOn: $d, daysAbsent: 3 }) { id } }`, { id, d: dayOffset(-2) });
    expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors[0].extensions.field).toBe('reportedOn');
  });

  it('women’s federation: a plan whose visits were removed past the API: startedOn after lastVisitOn is BAD_USER_INPUT, not INTERNAL', async () => {
    const minorId = await childIn();
    const wf = await t.token(WF, { region: STREET });
    const input = (d: string) => `{ kind: LEFT_BEHIND, startedOn: "${d}", status: ACTIVE, caregiver: "祖母", measures: "走访" }`;
    const c: any = await t.gql(wf, `mutation($m: ID!) { createCarePlan(minorId: $m, input: ${input(dayOffset(-10))}) { id } }`, { m: minorId });
    const id = c.data.createCarePlan.id;
    const v: any = await t.gql(wf, `mutation($p: ID!, $d: String!) { recordCareVisit(planId: $p, input: { visitedOn: $d, visitor: "执委", notes: "好" }) { id } }`, { p: id, d: dayOffset(-5) });
    expect(v.errors).toBeUndefined();
    await t.sql(`DELETE FROM womens_federation.care_visit WHERE plan_id = $1`, [id]);
    const r: any = await t.gql(wf, `mutation($id: ID!) { updateCarePlan(id: $id, input: ${input(dayOffset(-2))}) { id startedOn } }`, { id });
    expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors[0].extensions.field).toBe('startedOn');
  });

  it('youth league: a case whose follow-ups were removed past the API: openedOn after lastFollowUpOn is BAD_USER_INPUT, not INTERNAL', async () => {
    const minorId = await childIn();
    const yl = await t.token(YL, { region: STREET });
    const input = (d: string) => `{ kind: GENERAL_PREVENTION, openedOn: "${d}", status: OPEN, caseWorker: "社工", measures: "谈心" }`;
    const c: any = await t.gql(yl, `mutation($m: ID!) { createPreventionCase(minorId: $m, input: ${input(dayOffset(-10))}) { id } }`, { m: minorId });
    const id = c.data.createPreventionCase.id;
    const f: any = await t.gql(yl, `mutation($c: ID!, $d: String!) { recordMisbehaviourFollowUp(caseId: $c, input: { followedUpOn: $d, note: "跟踪" }) { id } }`, { c: id, d: dayOffset(-5) });
    expect(f.errors).toBeUndefined();
    await t.sql(`DELETE FROM youth_league.follow_up WHERE case_id = $1`, [id]);
    const r: any = await t.gql(yl, `mutation($id: ID!) { updatePreventionCase(id: $id, input: ${input(dayOffset(-2))}) { id openedOn } }`, { id });
    expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors[0].extensions.field).toBe('openedOn');
  });

  it('care plan: a correction of startedOn raced with visits either refuses or holds every visit at or after the start, lastVisitOn the latest', async () => {
    const minorId = await childIn();
    const wf = await t.token(WF, { region: STREET });
    const input = (d: string) => `{ kind: LEFT_BEHIND, startedOn: "${d}", status: ACTIVE, caregiver: "祖母", measures: "走访" }`;
    const c: any = await t.gql(wf, `mutation($m: ID!) { createCarePlan(minorId: $m, input: ${input(dayOffset(-20))}) { id } }`, { m: minorId });
    const id = c.data.createCarePlan.id;
    const visit = (n: number) => t.gql(wf, `mutation($p: ID!, $d: String!) { recordCareVisit(planId: $p, input: { visitedOn: $d, visitor: "执委", notes: "好" }) { id } }`, { p: id, d: dayOffset(-n) });
    const rs: any[] = await Promise.all([visit(15), t.gql(wf, `mutation($id: ID!) { updateCarePlan(id: $id, input: ${input(dayOffset(-10))}) { id } }`, { id }), visit(12), visit(3), visit(18)]);
    for (const r of rs) expect(errorCodes(r).filter((code) => code !== 'BAD_USER_INPUT')).toEqual([]);
    const [plan] = await t.sql(`SELECT started_on::text AS s, last_visit_on::text AS l FROM womens_federation.care_plan WHERE id = $1`, [id]);
    const visits = (await t.sql(`SELECT visited_on::text AS v FROM womens_federation.care_visit WHERE plan_id = $1 ORDER BY 1`, [id])).map((r: any) => r.v);
    expect(visits.every((v: string) => v >= plan.s)).toBe(true);
    expect(plan.l).toBe(visits[visits.length - 1] ?? null);
  });
});
