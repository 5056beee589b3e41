import { Client } from 'pg';
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
const ADD_BAR = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id createdAt } }`;

/**
 * Regression review (red team 20) of b69b9f1 (latestFollowUp), f21ed05 (latestTime, report escalation
 * marks on the entity) and 6d250af (a bar listed anew dated no earlier than the revocation).
 * Two hubs on one database, one 10 s behind (as test/clock-steps.redteam19.test.ts).
 */
describe('step times on a gateway behind (redteam 20)', () => {
  let ahead: TestHub;
  let behind: TestHub;
  let offset = 0;
  /** A child of the street with no assessment nor visit yet. */
  const freshChild = async () => {
    const [c] = await ahead.sql(
      `SELECT id, grid_code FROM registry.minor m WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now())
         AND birth_date < now() - interval '3 years'
         AND NOT EXISTS (SELECT 1 FROM registry.risk_assessment a WHERE a.minor_id = m.id)
         AND NOT EXISTS (SELECT 1 FROM registry.visit v WHERE v.minor_id = m.id)
       ORDER BY id OFFSET ${10 + offset++} LIMIT 1`,
    );
    expect(c).toBeDefined();
    return c as { id: string; grid_code: string };
  };
  let stopHubs: () => Promise<void>;
  beforeAll(async () => {
    ({ ahead, behind, stop: stopHubs } = await startHubsApart());
  });
  afterAll(() => stopHubs?.());

  it('MandatoryReport exposes neither escalation mark; a report escalated for HANDLING while RECEIVED, verified behind, is stepped after both marks', async () => {
    const intro = await ahead.gql(await ahead.token(Department.POLICE), `{ __type(name: "MandatoryReport") { fields { name } } }`);
    expect(intro.errors).toBeUndefined();
    const names = intro.data.__type.fields.map((f: { name: string }) => f.name);
    expect(names).not.toContain('verifyEscalatedAt');
    expect(names).not.toContain('handleEscalatedAt');
    const c = await freshChild();
    const reporter = await ahead.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-rt20' });
    const filed = await ahead.gql(reporter, `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id status } }`, {
      input: { harmType: 'NEGLECT', observation: '长期无人照看', location: '家中', regionCode: c.grid_code, urgency: 'NORMAL', childId: c.id },
    });
    expect(filed.errors).toBeUndefined();
    const id = filed.data.fileMandatoryReport.id;
    await ahead.sql(
      `UPDATE workflow.mandatory_report SET received_at = received_at - interval '30 days', updated_at = updated_at - interval '30 days',
              verify_due_at = verify_due_at - interval '30 days', handle_due_at = handle_due_at - interval '30 days' WHERE id = $1`,
      [id],
    );
    await runEscalations(ahead.hub.db.ds, ahead.config, buildPolicy(), new Date());
    const [marks] = await ahead.sql(`SELECT verify_escalated_at, handle_escalated_at FROM workflow.mandatory_report WHERE id = $1`, [id]);
    expect(marks.handle_escalated_at).not.toBeNull();
    const po = await behind.token(Department.POLICE, { user: 'po-behind-rt20' });
    const list = await behind.gql(po, `{ mandatoryReports(first: 500) { id status overdue } }`);
    expect(list.errors).toBeUndefined();
    expect(list.data.mandatoryReports.find((r: { id: string }) => r.id === id)).toMatchObject({ status: 'RECEIVED', overdue: true });
    const r = await behind.gql(po, `mutation($id: ID!) { transitionReport(id: $id, to: VERIFYING, note: "已核实") { id status updatedAt transitions { toStatus at } } }`, { id });
    expect(r.errors).toBeUndefined();
    const step = r.data.transitionReport.transitions.find((s: { toStatus: string }) => s.toStatus === 'VERIFYING');
    expect(Date.parse(step.at)).toBeGreaterThanOrEqual(marks.handle_escalated_at.getTime());
    expect(r.data.transitionReport.updatedAt).toBe(step.at);
  });

  it('a visit given a past visitedAt between two assessments changes neither level nor due date; one given no time after, counts', async () => {
    const c = await freshChild();
    const ca = await ahead.token(Department.CIVIL_AFFAIRS, { user: 'ca-ahead-rt20' });
    const caBehind = await behind.token(Department.CIVIL_AFFAIRS, { user: 'ca-behind-rt20' });
    const t1 = new Date(Date.now() - 20 * 86_400_000).toISOString();
    const t2 = new Date(Date.now() - 15 * 86_400_000).toISOString();
    expect((await ahead.gql(ca, ASSESS, { id: c.id, input: { level: 'YELLOW', reasons: '初评', assessedAt: t1 } })).errors).toBeUndefined();
    const a2 = await ahead.gql(ca, ASSESS, { id: c.id, input: { level: 'ORANGE', reasons: '复评' } });
    expect(a2.errors).toBeUndefined();
    const v = await behind.gql(caBehind, VISIT, { id: c.id, input: { notes: '补录走访', visitedAt: t2 } });
    expect(v.errors).toBeUndefined();
    let m = await ahead.gql(ca, MINOR, { id: c.id });
    expect(m.data.minor.riskLevel).toBe('ORANGE');
    expect(m.data.minor.nextVisitDue).toBe(addDays(new Date(a2.data.recordAssessment.assessedAt), 7).toISOString());
    let [fact] = await ahead.sql(`SELECT visited_since_assessment FROM statistics.minor_facts WHERE id = $1`, [c.id]);
    expect(fact.visited_since_assessment).toBe(false);
    const v2 = await behind.gql(caBehind, VISIT, { id: c.id, input: { notes: '随即走访' } });
    expect(v2.errors).toBeUndefined();
    expect(Date.parse(v2.data.recordVisit.visitedAt)).toBeGreaterThan(Date.parse(a2.data.recordAssessment.assessedAt));
    m = await ahead.gql(ca, MINOR, { id: c.id });
    expect(m.data.minor.nextVisitDue).toBe(addDays(new Date(v2.data.recordVisit.visitedAt), 7).toISOString());
    [fact] = await ahead.sql(`SELECT visited_since_assessment FROM statistics.minor_facts WHERE id = $1`, [c.id]);
    expect(fact.visited_since_assessment).toBe(true);
  });

  it('a guardianship failure recorded behind right after a RED assessment ahead is told no earlier than the RED (newest first in the inbox)', async () => {
    const c = await freshChild();
    const red = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS, { user: 'ca-ahead-rt20' }), ASSESS, { id: c.id, input: { level: 'RED', reasons: '遭受侵害迹象' } });
    expect(red.errors).toBeUndefined();
    const cat = await behind.gql(
      await behind.token(Department.CIVIL_AFFAIRS, { user: 'ca-behind-rt20' }),
      `mutation($id: ID!) { addCategory(minorId: $id, category: LACK_OF_GUARDIANSHIP) { id updatedAt } }`,
      { id: c.id },
    );
    expect(cat.errors).toBeUndefined();
    const [redAt] = await ahead.sql(`SELECT max(created_at) AS at FROM workflow.notification WHERE kind = 'CHILD_RED' AND minor_id = $1`, [c.id]);
    const [failAt] = await ahead.sql(`SELECT min(created_at) AS at FROM workflow.notification WHERE kind = 'GUARDIANSHIP_FAILURE' AND minor_id = $1`, [c.id]);
    expect(failAt.at).not.toBeNull();
    // The civil affairs inbox, newest first, lists the guardianship failure (told after) above the RED.
    const inbox = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS), `{ notifications(first: 200) { kind createdAt minor { id } } }`);
    expect(inbox.errors).toBeUndefined();
    const kinds = inbox.data.notifications.filter((n: { minor: { id: string } | null }) => n.minor?.id === c.id).map((n: { kind: string }) => n.kind);
    expect(kinds).toEqual(['GUARDIANSHIP_FAILURE', 'CHILD_RED']);
    expect(failAt.at.getTime()).toBeGreaterThanOrEqual(redAt.at.getTime());
    // The notice is dated at the record's step: the child's updatedAt it moved (or kept).
    expect(failAt.at.toISOString()).toBe(cat.data.addCategory.updatedAt);
  });

  it('addBarredPerson: the createdAt answered is the one stored and listed, newest first above the revoked bar', async () => {
    const input = { idNumber: buildIdNumber('330102', '1979-03-04', 317), name: '钱某', offence: 'SEXUAL_HARM', judgementReference: '(rt20)relist-1' };
    const po = await ahead.token(Department.POLICE, { user: 'po-ahead-rt20' });
    const first = await ahead.gql(po, ADD_BAR, { input });
    expect(first.errors).toBeUndefined();
    expect((await ahead.gql(po, `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "再审改判") }`, { id: first.data.addBarredPerson.id })).errors).toBeUndefined();
    const again = await behind.gql(await behind.token(Department.POLICE, { user: 'po-behind-rt20' }), ADD_BAR, { input });
    expect(again.errors).toBeUndefined();
    const [stored] = await ahead.sql(`SELECT created_at FROM workflow.barred_person WHERE id = $1`, [again.data.addBarredPerson.id]);
    expect(again.data.addBarredPerson.createdAt).toBe(stored.created_at.toISOString());
    const list = await ahead.gql(po, `{ barredPersons(first: 500, includeRevoked: true) { id createdAt revokedAt } }`);
    expect(list.errors).toBeUndefined();
    const ids = list.data.barredPersons.map((b: { id: string }) => b.id);
    expect(ids.indexOf(again.data.addBarredPerson.id)).toBeLessThan(ids.indexOf(first.data.addBarredPerson.id));
  });

  it('a bar listed anew while the revocation (taken ahead) is committing waits for it, and is still not dated before that revocation', async () => {
    const input = { idNumber: buildIdNumber('330102', '1981-07-08', 415), name: '李某', offence: 'SEXUAL_HARM', judgementReference: '(rt20)relist-race' };
    const first = await ahead.gql(await ahead.token(Department.POLICE, { user: 'po-ahead-rt20' }), ADD_BAR, { input });
    expect(first.errors).toBeUndefined();
    const client = new Client({ connectionString: ahead.databaseUrl });
    await client.connect();
    try {
      // The revocation of the gateway ahead (its clock is the database's), its commit not yet made (as removeBarredPerson writes it).
      await client.query('BEGIN');
      await client.query(`UPDATE workflow.barred_person SET revoked_at = GREATEST(created_at, now()), revoked_by = 'po-ahead', revoked_by_department = 'POLICE', revoked_by_region = '330102', revocation_reason = '再审改判' WHERE id = $1`, [
        first.data.addBarredPerson.id,
      ]);
      const again = behind.gql(await behind.token(Department.POLICE, { user: 'po-behind-rt20' }), ADD_BAR, { input });
      await new Promise((r) => setTimeout(r, 1500));
      await client.query('COMMIT');
      const r = await again;
      expect(r.errors).toBeUndefined();
      const [old] = await ahead.sql(`SELECT revoked_at FROM workflow.barred_person WHERE id = $1`, [first.data.addBarredPerson.id]);
      expect(Date.parse(r.data.addBarredPerson.createdAt)).toBeGreaterThanOrEqual(old.revoked_at.getTime());
    } finally {
      await client.end();
    }
  });
});

describe('distributed mode: b69b9f1 / f21ed05 through a gateway behind (redteam 20)', () => {
  let ahead: TestHub;
  let behind: TestHub;
  let stopHubs: () => Promise<void>;
  beforeAll(async () => {
    ({ ahead, behind, stop: stopHubs } = await startHubsApart(true));
  });
  afterAll(() => stopHubs?.());

  it('reports are filed, listed and read with the new columns; the schema exposes neither mark', async () => {
    const intro = await behind.gql(await behind.token(Department.POLICE), `{ __type(name: "MandatoryReport") { fields { name } } }`);
    expect(intro.errors).toBeUndefined();
    const names = intro.data.__type.fields.map((f: { name: string }) => f.name);
    expect(names.filter((n: string) => /scalat/i.test(n))).toEqual([]);
    const [c] = await ahead.sql(`SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 95 LIMIT 1`);
    const filed = await behind.gql(await behind.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-rt20d' }), `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id status receivedAt } }`, {
      input: { harmType: 'NEGLECT', observation: '无人照看', location: '家中', regionCode: c.grid_code, urgency: 'NORMAL', childId: c.id },
    });
    expect(filed.errors).toBeUndefined();
    const id = filed.data.fileMandatoryReport.id;
    const po = await behind.token(Department.POLICE, { user: 'po-behind-rt20' });
    const one = await behind.gql(po, `query($id: ID!) { mandatoryReport(id: $id) { id status overdue transitions { toStatus } minor { id } } }`, { id });
    expect(one.errors).toBeUndefined();
    expect(one.data.mandatoryReport).toMatchObject({ id, status: 'RECEIVED', overdue: false, transitions: [] });
    const r = await behind.gql(po, `mutation($id: ID!) { transitionReport(id: $id, to: VERIFYING, note: "核实") { id status updatedAt } }`, { id });
    expect(r.errors).toBeUndefined();
    expect(Date.parse(r.data.transitionReport.updatedAt)).toBeGreaterThanOrEqual(Date.parse(filed.data.fileMandatoryReport.receivedAt));
  });

  it('a report verified through the gateway behind right after the job (ahead) escalated it is not verified before the escalation', async () => {
    const [c] = await ahead.sql(`SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 97 LIMIT 1`);
    const filed = await ahead.gql(await ahead.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-rt20e' }), `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`, {
      input: { harmType: 'NEGLECT', observation: '无人照看', location: '家中', regionCode: c.grid_code, urgency: 'URGENT', childId: c.id },
    });
    expect(filed.errors).toBeUndefined();
    const id = filed.data.fileMandatoryReport.id;
    await ahead.sql(`UPDATE workflow.mandatory_report SET received_at = received_at - interval '2 hours', updated_at = updated_at - interval '2 hours', verify_due_at = verify_due_at - interval '2 hours' WHERE id = $1`, [id]);
    await runEscalations(ahead.hub.db.ds, ahead.config, buildPolicy(), new Date());
    const [lapse] = await ahead.sql(`SELECT verify_escalated_at FROM workflow.mandatory_report WHERE id = $1`, [id]);
    expect(lapse.verify_escalated_at).not.toBeNull();
    const r = await behind.gql(await behind.token(Department.CIVIL_AFFAIRS, { user: 'ca-behind-rt20' }), `mutation($id: ID!) { transitionReport(id: $id, to: VERIFYING, note: "核实") { updatedAt transitions { toStatus at } } }`, { id });
    expect(r.errors).toBeUndefined();
    expect(Date.parse(r.data.transitionReport.updatedAt)).toBeGreaterThanOrEqual(lapse.verify_escalated_at.getTime());
  });

  it('a visit (no time) behind right after an assessment ahead, then an assessment (no time) behind: each after the one before', async () => {
    const [c] = await ahead.sql(
      `SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) AND risk_level IS DISTINCT FROM 'RED' ORDER BY id OFFSET 96 LIMIT 1`,
    );
    const a = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS, { user: 'ca-ahead' }), ASSESS, { id: c.id, input: { level: 'YELLOW', reasons: '一般' } });
    expect(a.errors).toBeUndefined();
    const caB = await behind.token(Department.CIVIL_AFFAIRS, { user: 'ca-behind' });
    const v = await behind.gql(caB, VISIT, { id: c.id, input: { notes: '走访' } });
    expect(v.errors).toBeUndefined();
    const b = await behind.gql(caB, ASSESS, { id: c.id, input: { level: 'ORANGE', reasons: '走访后升级' } });
    expect(b.errors).toBeUndefined();
    expect(Date.parse(v.data.recordVisit.visitedAt)).toBeGreaterThan(Date.parse(a.data.recordAssessment.assessedAt));
    expect(Date.parse(b.data.recordAssessment.assessedAt)).toBeGreaterThan(Date.parse(v.data.recordVisit.visitedAt));
    const m = await behind.gql(caB, MINOR, { id: c.id });
    expect(m.data.minor).toMatchObject({ riskLevel: 'ORANGE', nextVisitDue: addDays(new Date(b.data.recordAssessment.assessedAt), 7).toISOString(), updatedAt: b.data.recordAssessment.assessedAt });
  });
});
