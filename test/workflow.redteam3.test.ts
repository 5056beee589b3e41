import { Department, Role } from '../src/auth/principal';
import { startTestHub, TestHub } from './support/test-hub';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO } = Department;

const FILE = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`;
const STEP = `mutation($id: ID!, $to: ReportStatus!, $note: String!) { transitionReport(id: $id, to: $to, note: $note) { id status } }`;
const REPORT = `query($id: ID!) { mandatoryReport(id: $id) { receivedAt transitions { fromStatus toStatus at } } }`;
const CREATE = `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`;
const ACCEPT = `mutation($id: ID!) { acceptReferral(id: $id) { id } }`;
const COMPLETE = `mutation($id: ID!) { completeReferral(id: $id, outcome: "已发放资助") { id } }`;
const REFERRAL = `query($id: ID!) { referral(id: $id) { createdAt answeredAt completedAt completeDueAt closedAt } }`;

/**
 * Every step of a report or referral has a time, and the steps of one record follow each other. The
 * time is the request's `ctx.now`, read when its body is in — before the record's row lock is
 * waited for, and on the clock of whichever gateway took the request (in distributed mode a remote
 * subgraph accepts one up to 15 s from its own). A step taken right after another, on a clock a
 * few seconds behind, must still not be recorded before it.
 */
describe('workflow steps: red team 3', () => {
  let t: TestHub;
  let child: { id: string; grid_code: string };
  let police: string;
  let civil: string;

  beforeAll(async () => {
    t = await startTestHub();
    [child] = await t.sql(`SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
    police = await t.token(PO, { user: 'officer-li' });
    civil = await t.token(CA, { user: 'director-zhao' });
  });
  afterAll(() => t.stop());
  afterEach(() => {
    t.config.workflow.clockOffsetMs = 0;
  });

  const behind = () => {
    t.config.workflow.clockOffsetMs = -10_000;
  };
  const ok = (r: { errors?: unknown }) => expect(r.errors).toBeUndefined();

  it('records no step of a report before the step before it, and lists the steps in the order they were taken', async () => {
    const reporter = await t.token(ED, { role: Role.REPORTER, user: 'teacher-wang' });
    const filed = await t.gql(reporter, FILE, {
      input: { harmType: 'NEGLECT', observation: '长期无人照看', location: '清波街道', regionCode: child.grid_code, urgency: 'URGENT', childDescription: '约十岁男孩' },
    });
    ok(filed);
    const id = filed.data.fileMandatoryReport.id;
    ok(await t.gql(police, STEP, { id, to: 'VERIFYING', note: '已出警核查' }));
    behind();
    ok(await t.gql(police, STEP, { id, to: 'HANDLED', note: '已处置' }));
    ok(await t.gql(civil, STEP, { id, to: 'CLOSED', note: '已结案' }));
    t.config.workflow.clockOffsetMs = 0;

    const r = await t.gql(civil, REPORT, { id }, { 'x-purpose': 'CASE_HANDLING' });
    ok(r);
    const { receivedAt, transitions } = r.data.mandatoryReport;
    expect(transitions.map((s: { toStatus: string }) => s.toStatus)).toEqual(['VERIFYING', 'HANDLED', 'CLOSED']);
    const times = [receivedAt, ...transitions.map((s: { at: string }) => s.at)].map((at: string) => new Date(at).getTime());
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]);
    const [row] = await t.sql(`SELECT updated_at FROM workflow.mandatory_report WHERE id = $1`, [id]);
    expect(new Date(row.updated_at).getTime()).toBe(times[times.length - 1]);
  });

  it('records no answer of a referral before it was made, nor its completion before its acceptance', async () => {
    const education = await t.token(ED, { user: 'teacher-office' });
    const made = await t.gql(civil, CREATE, { input: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: ED, need: '家庭困难，需要帮扶' } });
    ok(made);
    const id = made.data.createReferral.id;
    behind();
    ok(await t.gql(education, ACCEPT, { id }));
    t.config.workflow.clockOffsetMs = 0;
    ok(await t.gql(education, COMPLETE, { id }));

    const made2 = await t.gql(civil, CREATE, { input: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: ED, need: '家庭困难，需要帮扶' } });
    ok(made2);
    const id2 = made2.data.createReferral.id;
    ok(await t.gql(education, ACCEPT, { id: id2 }));
    behind();
    ok(await t.gql(education, COMPLETE, { id: id2 }));
    t.config.workflow.clockOffsetMs = 0;

    for (const ref of [id, id2]) {
      const r = await t.gql(civil, REFERRAL, { id: ref }, { 'x-purpose': 'CASE_HANDLING' });
      ok(r);
      const { createdAt, answeredAt, completedAt, closedAt } = r.data.referral;
      const [made, answered, completed, closed] = [createdAt, answeredAt, completedAt, closedAt].map((at: string) => new Date(at).getTime());
      expect(answered).toBeGreaterThanOrEqual(made);
      expect(completed).toBeGreaterThanOrEqual(answered);
      expect(closed).toBe(completed);
    }
  });

  it('records no acknowledgement of a notification before the notification was written', async () => {
    const education = await t.token(ED, { user: 'teacher-office' });
    const made = await t.gql(civil, CREATE, { input: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: ED, need: '家庭困难，需要帮扶' } });
    ok(made);
    const [{ id }] = await t.sql(`SELECT id FROM workflow.notification WHERE subject_id = $1 AND kind = 'REFERRAL_RECEIVED'`, [made.data.createReferral.id]);
    behind();
    const r = await t.gql(education, `mutation($id: ID!) { acknowledge(id: $id) { createdAt acknowledgedAt } }`, { id });
    ok(r);
    const { createdAt, acknowledgedAt } = r.data.acknowledge;
    expect(new Date(acknowledgedAt).getTime()).toBeGreaterThanOrEqual(new Date(createdAt).getTime());
  });
});
