import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { buildPolicy } from '../src/server/bootstrap';
import { hubClock } from '../src/server/hub.context';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { startHubsApart, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const STREET = '330102001';
const ASSESS = `mutation($id: ID!, $input: AssessmentInput!) { recordAssessment(minorId: $id, input: $input) { id level assessedAt } }`;
const ADD_CATEGORY = `mutation($id: ID!) { addCategory(minorId: $id, category: LACK_OF_GUARDIANSHIP) { id updatedAt } }`;
const FILE = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id status receivedAt } }`;
const STEP = `mutation($id: ID!, $to: ReportStatus!) { transitionReport(id: $id, to: $to, note: "已处理") { id status updatedAt transitions { toStatus at } } }`;

/**
 * Regression review (red team 21) of b69b9f1 (latestFollowUp), f21ed05 (latestTime), 6d250af and
 * a16d5c7 (bar relisted after a revocation; a guardianship failure told after the child's last step).
 * Sibling writes that may still be dated before the event they follow: two hubs on one database,
 * one 10 s behind (startHubsApart), and the escalation job run on either's clock.
 */
describe('sibling steps on a gateway (or job) behind (redteam 21)', () => {
  let ahead: TestHub;
  let behind: TestHub;
  let offset = 0;
  /** A child of the street with no assessment nor visit, not RED. */
  const freshChild = async () => {
    const [c] = await ahead.sql(
      `SELECT id, grid_code FROM registry.minor m WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now())
         AND birth_date < now() - interval '3 years' AND risk_level IS DISTINCT FROM 'RED'
         AND NOT EXISTS (SELECT 1 FROM registry.risk_assessment a WHERE a.minor_id = m.id)
         AND NOT EXISTS (SELECT 1 FROM registry.visit v WHERE v.minor_id = m.id)
         AND NOT EXISTS (SELECT 1 FROM registry.minor_category k WHERE k.minor_id = m.id AND k.category = 'LACK_OF_GUARDIANSHIP')
       ORDER BY id OFFSET ${20 + offset++} LIMIT 1`,
    );
    expect(c).toBeDefined();
    return c as { id: string; grid_code: string };
  };
  const inboxKinds = async (t: TestHub, minorId: string) => {
    const inbox = await t.gql(await t.token(Department.CIVIL_AFFAIRS), `{ notifications(first: 300) { kind createdAt minor { id } } }`);
    expect(inbox.errors).toBeUndefined();
    return inbox.data.notifications.filter((n: { minor: { id: string } | null }) => n.minor?.id === minorId).map((n: { kind: string }) => n.kind);
  };
  let stopHubs: () => Promise<void>;
  beforeAll(async () => {
    ({ ahead, behind, stop: stopHubs } = await startHubsApart());
  });
  afterAll(() => stopHubs?.());

  it('a RED assessment (no time) behind, right after a guardianship failure recorded ahead, is told after it (newest first in the inbox)', async () => {
    const c = await freshChild();
    const cat = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS, { user: 'ca-ahead-rt21' }), ADD_CATEGORY, { id: c.id });
    expect(cat.errors).toBeUndefined();
    const red = await behind.gql(await behind.token(Department.CIVIL_AFFAIRS, { user: 'ca-behind-rt21' }), ASSESS, { id: c.id, input: { level: 'RED', reasons: '监护缺失后评估为红色' } });
    expect(red.errors).toBeUndefined();
    const [failAt] = await ahead.sql(`SELECT max(created_at) AS at FROM workflow.notification WHERE kind = 'GUARDIANSHIP_FAILURE' AND minor_id = $1`, [c.id]);
    const [redAt] = await ahead.sql(`SELECT min(created_at) AS at FROM workflow.notification WHERE kind = 'CHILD_RED' AND minor_id = $1`, [c.id]);
    expect(redAt.at).not.toBeNull();
    expect(await inboxKinds(ahead, c.id)).toEqual(['CHILD_RED', 'GUARDIANSHIP_FAILURE']);
    expect(redAt.at.getTime()).toBeGreaterThanOrEqual(failAt.at.getTime());
  });

  it('a RED assessment given a past assessedAt behind, right after a guardianship failure recorded ahead, is told after it', async () => {
    const c = await freshChild();
    const cat = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS, { user: 'ca-ahead-rt21' }), ADD_CATEGORY, { id: c.id });
    expect(cat.errors).toBeUndefined();
    const red = await behind.gql(await behind.token(Department.CIVIL_AFFAIRS, { user: 'ca-behind-rt21' }), ASSESS, {
      id: c.id,
      input: { level: 'RED', reasons: '补录：上午入户评估为红色', assessedAt: new Date(Date.now() - 3_600_000).toISOString() },
    });
    expect(red.errors).toBeUndefined();
    expect(await inboxKinds(ahead, c.id)).toEqual(['CHILD_RED', 'GUARDIANSHIP_FAILURE']);
  });

  it('the job on a clock behind asks for a reassessment no earlier than the HANDLED step (ahead) that asked for it', async () => {
    const c = await freshChild();
    const filed = await ahead.gql(await ahead.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-rt21' }), FILE, {
      input: { harmType: 'NEGLECT', observation: '长期无人照看', location: '家中', regionCode: c.grid_code, urgency: 'NORMAL', childId: c.id },
    });
    expect(filed.errors).toBeUndefined();
    const id = filed.data.fileMandatoryReport.id;
    const po = await ahead.token(Department.POLICE, { user: 'po-ahead-rt21' });
    expect((await ahead.gql(po, STEP, { id, to: 'VERIFYING' })).errors).toBeUndefined();
    const handled = await ahead.gql(po, STEP, { id, to: 'HANDLED' });
    expect(handled.errors).toBeUndefined();
    const handledAt = Date.parse(handled.data.transitionReport.updatedAt);
    // The escalation job of the instance whose clock is behind runs right after.
    await runEscalations(behind.hub.db.ds, behind.config, buildPolicy(), hubClock(behind.config));
    const [req] = await ahead.sql(`SELECT created_at FROM workflow.notification WHERE kind = 'REASSESSMENT_REQUESTED' AND subject_id = $1`, [id]);
    expect(req).toBeDefined();
    expect(req.created_at.getTime()).toBeGreaterThanOrEqual(handledAt);
  });

  it('the job on a clock behind escalates a report VERIFYING (stepped ahead) past its handling deadline no earlier than that step', async () => {
    const c = await freshChild();
    const filed = await ahead.gql(await ahead.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-rt21b' }), FILE, {
      input: { harmType: 'NEGLECT', observation: '长期无人照看', location: '家中', regionCode: c.grid_code, urgency: 'NORMAL', childId: c.id },
    });
    expect(filed.errors).toBeUndefined();
    const id = filed.data.fileMandatoryReport.id;
    // Filed long ago; its verification lapse already taken up; its handling deadline passed 5 s ago.
    await ahead.sql(
      `UPDATE workflow.mandatory_report SET received_at = received_at - interval '30 days', updated_at = updated_at - interval '30 days',
              verify_due_at = verify_due_at - interval '30 days', verify_escalated_at = now() - interval '29 days', handle_due_at = now() - interval '20 seconds' WHERE id = $1`,
      [id],
    );
    const stepped = await ahead.gql(await ahead.token(Department.POLICE, { user: 'po-ahead-rt21' }), STEP, { id, to: 'VERIFYING' });
    expect(stepped.errors).toBeUndefined();
    const verifyingAt = Date.parse(stepped.data.transitionReport.updatedAt);
    await runEscalations(behind.hub.db.ds, behind.config, buildPolicy(), hubClock(behind.config));
    const [marks] = await ahead.sql(`SELECT handle_escalated_at FROM workflow.mandatory_report WHERE id = $1`, [id]);
    expect(marks.handle_escalated_at).not.toBeNull();
    expect(marks.handle_escalated_at.getTime()).toBeGreaterThanOrEqual(verifyingAt);
  });

  it('held: a bar revoked and listed anew three times, alternating gateways, is each time dated after the revocation before it', async () => {
    const input = { idNumber: buildIdNumber('330102', '1975-11-12', 513), name: '孙某', offence: 'SEXUAL_HARM', judgementReference: '(rt21)cycle' };
    const hubs = [ahead, behind, ahead, behind];
    let previousRevokedAt = 0;
    for (let i = 0; i < hubs.length; i++) {
      const h = hubs[i];
      const po = await h.token(Department.POLICE, { user: `po-${i}-rt21` });
      const added = await h.gql(po, `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id createdAt } }`, { input });
      expect(added.errors).toBeUndefined();
      expect(Date.parse(added.data.addBarredPerson.createdAt)).toBeGreaterThanOrEqual(previousRevokedAt);
      const again = await h.gql(po, `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id } }`, { input });
      expect(again.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const other = hubs[(i + 1) % hubs.length];
      const removed = await other.gql(await other.token(Department.POLICE, { user: `po-r${i}-rt21` }), `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "改判") }`, { id: added.data.addBarredPerson.id });
      expect(removed.errors).toBeUndefined();
      const [row] = await ahead.sql(`SELECT created_at, revoked_at FROM workflow.barred_person WHERE id = $1`, [added.data.addBarredPerson.id]);
      expect(row.revoked_at.getTime()).toBeGreaterThanOrEqual(row.created_at.getTime());
      previousRevokedAt = row.revoked_at.getTime();
    }
  });

  it('held: an assessment given no time after a visit given a time 50 s ahead is accepted and dated after that visit', async () => {
    const c = await freshChild();
    const ca = await ahead.token(Department.CIVIL_AFFAIRS, { user: 'ca-ahead-rt21' });
    const v = await ahead.gql(ca, `mutation($id: ID!, $input: VisitInput!) { recordVisit(minorId: $id, input: $input) { id visitedAt } }`, {
      id: c.id,
      input: { notes: '走访', visitedAt: new Date(Date.now() + 50_000).toISOString() },
    });
    expect(v.errors).toBeUndefined();
    const a = await behind.gql(await behind.token(Department.CIVIL_AFFAIRS, { user: 'ca-behind-rt21' }), ASSESS, { id: c.id, input: { level: 'YELLOW', reasons: '走访后评估' } });
    expect(a.errors).toBeUndefined();
    expect(Date.parse(a.data.recordAssessment.assessedAt)).toBeGreaterThan(Date.parse(v.data.recordVisit.visitedAt));
  });
});
