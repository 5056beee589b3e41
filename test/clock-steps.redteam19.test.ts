import { Department, Role } from '../src/auth/principal';
import { addDays } from '../src/common/dates';
import { buildIdNumber } from '../src/common/id-number';
import { buildPolicy } from '../src/server/bootstrap';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { startHubsApart, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const STREET = '330102001';
const ASSESS = `mutation($id: ID!, $input: AssessmentInput!) { recordAssessment(minorId: $id, input: $input) { id level assessedAt } }`;
const VISIT = `mutation($id: ID!, $input: VisitInput!) { recordVisit(minorId: $id, input: $input) { id visitedAt } }`;
const MINOR = `query($id: ID!) { minor(id: $id) { id riskLevel nextVisitDue updatedAt } }`;

/**
 * Regression review (red team 19) of 262d7b9 / e404c24 / 67b3385: steps taken on a gateway whose
 * clock runs behind the one that took the step before. Two hubs on one database, one 10 s behind.
 */
describe('steps taken on a gateway whose clock runs behind (redteam 19)', () => {
  let ahead: TestHub;
  let behind: TestHub;
  let offset = 0;
  const child = async () => {
    const [c] = await ahead.sql(
      `SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now())
         AND risk_level IS DISTINCT FROM 'RED' ORDER BY id OFFSET ${40 + offset++} LIMIT 1`,
    );
    return c as { id: string; grid_code: string };
  };
  let stopHubs: () => Promise<void>;
  beforeAll(async () => {
    ({ ahead, behind, stop: stopHubs } = await startHubsApart());
  });
  afterAll(() => stopHubs?.());

  it('a visit (no time given) taken right after an ORANGE assessment, on a gateway behind, sets the next visit due from the visit', async () => {
    const c = await child();
    const a = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS, { user: 'ca-ahead' }), ASSESS, { id: c.id, input: { level: 'ORANGE', reasons: '家庭监护薄弱' } });
    expect(a.errors).toBeUndefined();
    const v = await behind.gql(await behind.token(Department.CIVIL_AFFAIRS, { user: 'ca-behind' }), VISIT, { id: c.id, input: { notes: '评估后随即入户走访' } });
    expect(v.errors).toBeUndefined();
    const m = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS), MINOR, { id: c.id });
    expect(m.errors).toBeUndefined();
    // The visit followed the assessment: it is the child's last contact, and the week runs from it; the
    // plan's intervention rate (RegionRates.intervention, from statistics.minor_facts) counts the child as visited since.
    const [fact] = await ahead.sql(`SELECT visited_since_assessment FROM statistics.minor_facts WHERE id = $1`, [c.id]);
    expect({
      visitAfterAssessment: Date.parse(v.data.recordVisit.visitedAt) > Date.parse(a.data.recordAssessment.assessedAt),
      nextVisitDue: m.data.minor.nextVisitDue,
      visitedSinceAssessment: fact.visited_since_assessment,
    }).toEqual({ visitAfterAssessment: true, nextVisitDue: addDays(new Date(v.data.recordVisit.visitedAt), 7).toISOString(), visitedSinceAssessment: true });
  });

  it('an ORANGE assessment (no time given) taken right after a visit, on a gateway behind: the week runs from the assessment, and the child is not counted as visited since it', async () => {
    const c = await child();
    const v = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS, { user: 'ca-ahead' }), VISIT, { id: c.id, input: { notes: '入户走访' } });
    expect(v.errors).toBeUndefined();
    const a = await behind.gql(await behind.token(Department.CIVIL_AFFAIRS, { user: 'ca-behind' }), ASSESS, { id: c.id, input: { level: 'ORANGE', reasons: '走访后评估' } });
    expect(a.errors).toBeUndefined();
    const m = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS), MINOR, { id: c.id });
    expect(m.errors).toBeUndefined();
    const [fact] = await ahead.sql(`SELECT visited_since_assessment FROM statistics.minor_facts WHERE id = $1`, [c.id]);
    expect({
      assessmentAfterVisit: Date.parse(a.data.recordAssessment.assessedAt) > Date.parse(v.data.recordVisit.visitedAt),
      nextVisitDue: m.data.minor.nextVisitDue,
      visitedSinceAssessment: fact.visited_since_assessment,
    }).toEqual({ assessmentAfterVisit: true, nextVisitDue: addDays(new Date(a.data.recordAssessment.assessedAt), 7).toISOString(), visitedSinceAssessment: false });
  });

  it('a RED notification acknowledged, on a gateway behind, right after the escalation job took it up is not acknowledged before it was escalated', async () => {
    const c = await child();
    const red = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS, { user: 'ca-ahead' }), ASSESS, { id: c.id, input: { level: 'RED', reasons: '遭受侵害迹象' } });
    expect(red.errors).toBeUndefined();
    // Two hours and more pass (the notice is made older), then the job on the instance ahead escalates it.
    await ahead.sql(`UPDATE workflow.notification SET created_at = created_at - interval '3 hours' WHERE kind = 'CHILD_RED' AND subject_id = $1`, [red.data.recordAssessment.id]);
    await runEscalations(ahead.hub.db.ds, ahead.config, buildPolicy(), new Date());
    const [n] = await ahead.sql(`SELECT id FROM workflow.notification WHERE kind = 'CHILD_RED' AND subject_id = $1 AND department = 'POLICE'`, [red.data.recordAssessment.id]);
    const r = await behind.gql(await behind.token(Department.POLICE, { user: 'po-behind' }), `mutation($id: ID!) { acknowledge(id: $id) { id acknowledgedAt escalatedAt } }`, { id: n.id });
    expect(r.errors).toBeUndefined();
    expect(r.data.acknowledge.escalatedAt).not.toBeNull();
    expect(Date.parse(r.data.acknowledge.acknowledgedAt)).toBeGreaterThanOrEqual(Date.parse(r.data.acknowledge.escalatedAt));
  });

  it('a referral accepted, on a gateway behind, right after the job escalated it as unanswered is not answered before it was escalated', async () => {
    const c = await child();
    const made = await ahead.gql(
      await ahead.token(Department.CIVIL_AFFAIRS, { user: 'ca-ahead' }),
      `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`,
      { input: { minorId: c.id, type: 'COUNSELLING', toDepartment: 'POLICE', need: '需要心理疏导' } },
    );
    expect(made.errors).toBeUndefined();
    const id = made.data.createReferral.id;
    // Its answer deadline passed (the referral made older), and the instance ahead escalates it.
    await ahead.sql(`UPDATE workflow.referral SET created_at = created_at - interval '100 hours', answer_due_at = answer_due_at - interval '100 hours' WHERE id = $1`, [id]);
    await runEscalations(ahead.hub.db.ds, ahead.config, buildPolicy(), new Date());
    const r = await behind.gql(await behind.token(Department.POLICE, { user: 'po-behind' }), `mutation($id: ID!) { acceptReferral(id: $id) { id answeredAt escalatedAt } }`, { id });
    expect(r.errors).toBeUndefined();
    expect(r.data.acceptReferral.escalatedAt).not.toBeNull();
    expect(Date.parse(r.data.acceptReferral.answeredAt)).toBeGreaterThanOrEqual(Date.parse(r.data.acceptReferral.escalatedAt));
  });

  it('a report verified, on a gateway behind, right after the job escalated it as unverified is not verified before it was escalated', async () => {
    const c = await child();
    const reporter = await ahead.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-rt19' });
    const filed = await ahead.gql(reporter, `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`, {
      input: { harmType: 'PHYSICAL_ABUSE', observation: '手臂多处淤青', location: '教室', regionCode: c.grid_code, urgency: 'URGENT', childId: c.id },
    });
    expect(filed.errors).toBeUndefined();
    const id = filed.data.fileMandatoryReport.id;
    await ahead.sql(
      `UPDATE workflow.mandatory_report SET received_at = received_at - interval '2 hours', updated_at = updated_at - interval '2 hours', verify_due_at = verify_due_at - interval '2 hours' WHERE id = $1`,
      [id],
    );
    await runEscalations(ahead.hub.db.ds, ahead.config, buildPolicy(), new Date());
    const [lapse] = await ahead.sql(`SELECT verify_escalated_at FROM workflow.mandatory_report WHERE id = $1`, [id]);
    expect(lapse.verify_escalated_at).not.toBeNull();
    const r = await behind.gql(
      await behind.token(Department.POLICE, { user: 'po-behind' }),
      `mutation($id: ID!) { transitionReport(id: $id, to: VERIFYING, note: "已出警核实") { id transitions { toStatus at } } }`,
      { id },
    );
    expect(r.errors).toBeUndefined();
    const step = r.data.transitionReport.transitions.find((s: { toStatus: string }) => s.toStatus === 'VERIFYING');
    expect(Date.parse(step.at)).toBeGreaterThanOrEqual(lapse.verify_escalated_at.getTime());
  });

  it('an explicit assessedAt equal to the latest assessment’s instant: the graver (RED) is the child’s level and is told', async () => {
    const c = await child();
    const o = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS, { user: 'ca-ahead' }), ASSESS, { id: c.id, input: { level: 'ORANGE', reasons: '家庭监护薄弱' } });
    expect(o.errors).toBeUndefined();
    const red = await behind.gql(await behind.token(Department.CIVIL_AFFAIRS, { user: 'ca-behind' }), ASSESS, {
      id: c.id,
      input: { level: 'RED', reasons: '同一时刻的复核', assessedAt: o.data.recordAssessment.assessedAt },
    });
    expect(red.errors).toBeUndefined();
    const m = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS), MINOR, { id: c.id });
    expect(m.data.minor.riskLevel).toBe('RED');
    const told = await ahead.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE kind = 'CHILD_RED' AND subject_id = $1`, [red.data.recordAssessment.id]);
    expect(told[0].n).toBeGreaterThan(0);
    expect(Date.parse(m.data.minor.updatedAt)).toBeGreaterThanOrEqual(Date.parse(o.data.recordAssessment.assessedAt));
  });

  it('an assessment given a time 59 s ahead is accepted, and the next one given none is dated after it and accepted', async () => {
    const c = await child();
    const ca = await behind.token(Department.CIVIL_AFFAIRS, { user: 'ca-behind' });
    const soon = new Date(Date.now() - 10_000 + 59_000).toISOString();
    const a = await behind.gql(ca, ASSESS, { id: c.id, input: { level: 'YELLOW', reasons: '预约评估', assessedAt: soon } });
    expect(a.errors).toBeUndefined();
    const b = await behind.gql(ca, ASSESS, { id: c.id, input: { level: 'RED', reasons: '随即复核' } });
    expect(b.errors).toBeUndefined();
    expect(Date.parse(b.data.recordAssessment.assessedAt)).toBeGreaterThan(Date.parse(soon));
    const m = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS), MINOR, { id: c.id });
    expect(m.data.minor.riskLevel).toBe('RED');
    const [n] = await ahead.sql(`SELECT created_at FROM workflow.notification WHERE kind = 'CHILD_RED' AND subject_id = $1 LIMIT 1`, [b.data.recordAssessment.id]);
    expect(n.created_at.toISOString()).toBe(b.data.recordAssessment.assessedAt);
  });
});

describe('bars listed again, and referrals escalated at completion, on a gateway behind (redteam 19)', () => {
  let ahead: TestHub;
  let behind: TestHub;
  let stopHubs: () => Promise<void>;
  beforeAll(async () => {
    ({ ahead, behind, stop: stopHubs } = await startHubsApart());
  });
  afterAll(() => stopHubs?.());

  it('a bar revoked ahead and listed again behind (same person and judgement) is not listed before the revocation it follows', async () => {
    const input = { idNumber: buildIdNumber('330102', '1980-05-06', 219), name: '孙某', offence: 'SEXUAL_HARM', judgementReference: '(rt19)relist-1' };
    const ADD_BAR = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id createdAt } }`;
    const first = await ahead.gql(await ahead.token(Department.POLICE, { user: 'po-ahead' }), ADD_BAR, { input });
    expect(first.errors).toBeUndefined();
    const revoked = await ahead.gql(await ahead.token(Department.POLICE, { user: 'po-ahead' }), `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "再审改判") }`, { id: first.data.addBarredPerson.id });
    expect(revoked.errors).toBeUndefined();
    const again = await behind.gql(await behind.token(Department.POLICE, { user: 'po-behind' }), ADD_BAR, { input: { ...input, name: '孙某（再审维持）' } });
    expect(again.errors).toBeUndefined();
    const list = await ahead.gql(await ahead.token(Department.POLICE), `{ barredPersons(first: 500, includeRevoked: true) { id createdAt revokedAt } }`);
    expect(list.errors).toBeUndefined();
    const old = list.data.barredPersons.find((b: { id: string }) => b.id === first.data.addBarredPerson.id);
    expect(Date.parse(again.data.addBarredPerson.createdAt)).toBeGreaterThanOrEqual(Date.parse(old.revokedAt));
  });

  it('a pre-employment check or re-screening on a gateway behind is dated no earlier than the listing it answers RESTRICTED from, nor the revocation it answers CLEAR after', async () => {
    const input = { idNumber: buildIdNumber('330102', '1979-03-04', 235), name: '钱某', offence: 'ABUSE', judgementReference: '(owner)check-after-1' };
    const police = await ahead.token(Department.POLICE, { user: 'po-ahead' });
    const listed = await ahead.gql(police, `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id createdAt } }`, { input });
    expect(listed.errors).toBeUndefined();
    const employer = await behind.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'kindergarten-behind' });
    const check = () =>
      behind.gql(employer, `mutation($input: EmploymentCheckInput!) { employmentCheck(input: $input) { answer checkedAt } }`, {
        input: { idNumber: input.idNumber, name: input.name, authorizationReference: '授权书-落后' },
      });
    const rescreen = () =>
      behind.gql(employer, `mutation($c: [RescreenCandidateInput!]!) { employmentRescreen(candidates: $c, authorizationReference: "年度复查-落后") { checkedAt answers { answer } } }`, {
        c: [{ idNumber: input.idNumber, name: input.name }],
      });
    const restricted = await check();
    expect(restricted.data.employmentCheck.answer).toBe('RESTRICTED');
    expect(Date.parse(restricted.data.employmentCheck.checkedAt)).toBeGreaterThanOrEqual(Date.parse(listed.data.addBarredPerson.createdAt));
    const revoked = await ahead.gql(police, `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "再审改判无罪") }`, { id: listed.data.addBarredPerson.id });
    expect(revoked.errors).toBeUndefined();
    const [{ revoked_at }] = await ahead.sql(`SELECT revoked_at FROM workflow.barred_person WHERE id = $1`, [listed.data.addBarredPerson.id]);
    const clear = await check();
    expect(clear.data.employmentCheck.answer).toBe('CLEAR');
    expect(Date.parse(clear.data.employmentCheck.checkedAt)).toBeGreaterThanOrEqual(revoked_at.getTime());
    const batch = await rescreen();
    expect(batch.data.employmentRescreen.answers).toEqual([{ answer: 'CLEAR' }]);
    expect(Date.parse(batch.data.employmentRescreen.checkedAt)).toBeGreaterThanOrEqual(revoked_at.getTime());
    // As answered, so recorded.
    const recorded = await ahead.sql(`SELECT answer, checked_at FROM workflow.employment_check WHERE employer_id = 'kindergarten-behind' ORDER BY checked_at, batch_id NULLS FIRST`);
    expect(recorded.map((r: { answer: string; checked_at: Date }) => [r.answer, r.checked_at.toISOString()])).toEqual([
      ['RESTRICTED', restricted.data.employmentCheck.checkedAt],
      ['CLEAR', clear.data.employmentCheck.checkedAt],
      ['CLEAR', batch.data.employmentRescreen.checkedAt],
    ]);
  });

  it('a referral completed behind, right after the job escalated it as not completed, is not completed before it was escalated', async () => {
    const [c] = await ahead.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 80 LIMIT 1`);
    const made = await ahead.gql(
      await ahead.token(Department.CIVIL_AFFAIRS, { user: 'ca-ahead' }),
      `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`,
      { input: { minorId: c.id, type: 'LEGAL_AID', toDepartment: 'JUSTICE', need: '需要法律援助' } },
    );
    expect(made.errors).toBeUndefined();
    const id = made.data.createReferral.id;
    const justice = await behind.token(Department.JUSTICE, { user: 'ju-behind' });
    expect((await behind.gql(justice, `mutation($id: ID!) { acceptReferral(id: $id) { id } }`, { id })).errors).toBeUndefined();
    // Its completion deadline passed (the referral made older), and the instance ahead escalates it.
    await ahead.sql(
      `UPDATE workflow.referral SET created_at = created_at - interval '60 days', answer_due_at = answer_due_at - interval '60 days',
              answered_at = answered_at - interval '60 days', complete_due_at = complete_due_at - interval '60 days' WHERE id = $1`,
      [id],
    );
    await runEscalations(ahead.hub.db.ds, ahead.config, buildPolicy(), new Date());
    const r = await behind.gql(justice, `mutation($id: ID!) { completeReferral(id: $id, outcome: "已提供法律援助") { completedAt escalatedAt } }`, { id });
    expect(r.errors).toBeUndefined();
    expect(r.data.completeReferral.escalatedAt).not.toBeNull();
    expect(Date.parse(r.data.completeReferral.completedAt)).toBeGreaterThanOrEqual(Date.parse(r.data.completeReferral.escalatedAt));
  });
});

/** The same in distributed mode: the gateway behind and its subgraphs (same offset), another hub ahead on the database. */
describe('distributed mode: steps taken through a gateway behind (redteam 19)', () => {
  let ahead: TestHub;
  let behind: TestHub;
  let stopHubs: () => Promise<void>;
  beforeAll(async () => {
    ({ ahead, behind, stop: stopHubs } = await startHubsApart(true));
  });
  afterAll(() => stopHubs?.());

  it('a RED (no time) after an ORANGE leaves the child RED, told at the assessment’s time', async () => {
    const [c] = await ahead.sql(
      `SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) AND risk_level IS DISTINCT FROM 'RED' ORDER BY id OFFSET 70 LIMIT 1`,
    );
    const o = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS, { user: 'ca-ahead' }), ASSESS, { id: c.id, input: { level: 'ORANGE', reasons: '家庭监护薄弱' } });
    expect(o.errors).toBeUndefined();
    const red = await behind.gql(await behind.token(Department.CIVIL_AFFAIRS, { user: 'ca-behind' }), ASSESS, { id: c.id, input: { level: 'RED', reasons: '发现遭受侵害迹象' } });
    expect(red.errors).toBeUndefined();
    expect(Date.parse(red.data.recordAssessment.assessedAt)).toBeGreaterThan(Date.parse(o.data.recordAssessment.assessedAt));
    const m = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS), MINOR, { id: c.id });
    expect(m.data.minor.riskLevel).toBe('RED');
    expect(m.data.minor.updatedAt).toBe(red.data.recordAssessment.assessedAt);
    const told = await ahead.sql(`SELECT DISTINCT created_at FROM workflow.notification WHERE kind = 'CHILD_RED' AND subject_id = $1`, [red.data.recordAssessment.id]);
    expect(told.map((n) => n.created_at.toISOString())).toEqual([red.data.recordAssessment.assessedAt]);
  });

  it('a referral made ahead and accepted then completed behind: steps and notices in the order taken', async () => {
    const [c] = await ahead.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 71 LIMIT 1`);
    const made = await ahead.gql(
      await ahead.token(Department.CIVIL_AFFAIRS, { user: 'ca-ahead' }),
      `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id createdAt } }`,
      { input: { minorId: c.id, type: 'COUNSELLING', toDepartment: 'POLICE', need: '需要心理疏导' } },
    );
    expect(made.errors).toBeUndefined();
    const id = made.data.createReferral.id;
    const police = await behind.token(Department.POLICE, { user: 'po-behind' });
    const acc = await behind.gql(police, `mutation($id: ID!) { acceptReferral(id: $id) { answeredAt } }`, { id });
    expect(acc.errors).toBeUndefined();
    const done = await behind.gql(police, `mutation($id: ID!) { completeReferral(id: $id, outcome: "已完成疏导") { completedAt } }`, { id });
    expect(done.errors).toBeUndefined();
    expect(Date.parse(acc.data.acceptReferral.answeredAt)).toBeGreaterThan(Date.parse(made.data.createReferral.createdAt));
    expect(Date.parse(done.data.completeReferral.completedAt)).toBeGreaterThan(Date.parse(acc.data.acceptReferral.answeredAt));
    const inbox = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS), `{ notifications(first: 50) { kind subjectId createdAt payload { field value } } }`);
    expect(inbox.errors).toBeUndefined();
    const outcomes = inbox.data.notifications.filter((n: { kind: string; subjectId: string }) => n.kind === 'REFERRAL_OUTCOME' && n.subjectId === id);
    expect(outcomes.map((n: { createdAt: string }) => n.createdAt)).toEqual([done.data.completeReferral.completedAt, acc.data.acceptReferral.answeredAt]);
  });
});
