import { Department, Role } from '../src/auth/principal';
import { buildPolicy } from '../src/server/bootstrap';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO } = Department;
const DAY = 86_400_000;

const FILE = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id status receivedAt } }`;
const STEP = `mutation($id: ID!, $to: ReportStatus!, $note: String!) { transitionReport(id: $id, to: $to, note: $note) { id status } }`;
const ACK = `mutation($id: ID!) { acknowledge(id: $id) { id acknowledgedAt acknowledgedBy } }`;

/**
 * Red team 31 (rt31-reports): mandatory reports (强制报告) and notifications (信息通报) end to end —
 * filing, the state machine, the inbox and acknowledgement, the escalation jobs — through the public endpoint.
 */
describe('mandatory reports and notifications, red team 31', () => {
  let t: TestHub;
  const policy = buildPolicy();
  let kid: { id: string; id_number: string; grid_code: string };
  let reporter: string;
  let police: string;
  let civil: string;
  let districtCivil: string;
  let districtPolice: string;

  beforeAll(async () => {
    t = await startTestHub({});
    [kid] = await t.sql(
      `SELECT m.id, trim(m.id_number) AS id_number, m.grid_code FROM registry.minor m
        WHERE m.grid_code LIKE '330102001%' AND registry.is_minor(m.birth_date, now() + interval '30 days') ORDER BY m.id LIMIT 1`,
    );
    reporter = await t.token(ED, { role: Role.REPORTER, user: 'rt31-teacher' });
    police = await t.token(PO, { region: '330102001', user: 'rt31-police' });
    civil = await t.token(CA, { region: '330102001', user: 'rt31-civil' });
    districtCivil = await t.token(CA, { region: '330102', user: 'rt31-district-civil' });
    districtPolice = await t.token(PO, { region: '330102', user: 'rt31-district-police' });
  });
  afterAll(() => t?.stop());

  const input = (over: Record<string, unknown> = {}) => ({
    harmType: 'PHYSICAL_ABUSE',
    observation: '手臂多处淤青，自述被家长殴打',
    location: '清波小学',
    regionCode: kid.grid_code,
    urgency: 'URGENT',
    childIdNumber: kid.id_number,
    ...over,
  });
  const file = async (over: Record<string, unknown> = {}): Promise<string> => {
    const r = await t.gql(reporter, FILE, { input: input(over) }, {});
    expect(r.errors).toBeUndefined();
    return r.data.fileMandatoryReport.id;
  };

  // The demo seed (workflow.seed.ts, "so that the inboxes and overdue lists are not empty") writes a
  // VERIFYING and a CLOSED report straight into the table: no step is recorded for either, and their
  // updatedAt is their filing. docs/workflows.md: "Each step (transitionReport) ... is recorded with
  // officer, department and time (MandatoryReport.transitions, oldest first)". The district reads a
  // CLOSED report that was never verified, handled or closed by anyone.
  it('the demo reports past RECEIVED list the steps that brought them to their status', async () => {
    const r = await t.gql(districtCivil, `{ mandatoryReports(first: 500) { id status receivedAt updatedAt reporterId transitions { fromStatus toStatus } } }`);
    expect(r.errors).toBeUndefined();
    const demo = r.data.mandatoryReports.filter((m: { reporterId: string; status: string }) => m.reporterId === 'reporter-demo' && m.status !== 'RECEIVED');
    expect(demo.map((m: { status: string }) => m.status).sort()).toEqual(['CLOSED', 'VERIFYING']);
    for (const m of demo) {
      expect({ id: m.id, last: m.transitions.at(-1)?.toStatus ?? null }).toEqual({ id: m.id, last: m.status });
      expect(new Date(m.updatedAt).getTime()).toBeGreaterThan(new Date(m.receivedAt).getTime());
    }
  });

  // The same seed routes none of its reports: docs/workflows.md "The report is routed at once: a
  // MANDATORY_REPORT notification to POLICE and CIVIL_AFFAIRS at the report's region". The district's
  // police read three reports about their children in mandatoryReports and have never been told of any.
  it('the demo reports were told to police and civil affairs, as every filed report is', async () => {
    const reports = await t.gql(districtPolice, `{ mandatoryReports(first: 500) { id reporterId } }`);
    const inbox = await t.gql(districtPolice, `{ notifications(first: 500) { kind subjectId } }`);
    expect([reports.errors, inbox.errors]).toEqual([undefined, undefined]);
    const demo = reports.data.mandatoryReports.filter((m: { reporterId: string }) => m.reporterId === 'reporter-demo').map((m: { id: string }) => m.id);
    expect(demo).toHaveLength(3);
    const told = new Set(inbox.data.notifications.filter((n: { kind: string }) => n.kind === 'MANDATORY_REPORT').map((n: { subjectId: string }) => n.subjectId));
    expect(demo.filter((id: string) => !told.has(id))).toEqual([]);
  });

  // Pins (pass): concurrency of the escalation job, of acknowledgements and of steps.
  it('held: three escalation passes at once tell one overdue report once per deadline, and four acknowledgements at once record one change', async () => {
    const id = await file();
    const later = new Date(Date.now() + 2 * DAY);
    await Promise.all([0, 1, 2].map(() => runEscalations(t.hub.db.ds, t.config, policy, later)));
    const escalations = await t.sql(`SELECT dedupe_key FROM workflow.notification WHERE subject_id = $1 AND kind = 'ESCALATION'`, [id]);
    expect(escalations.map((e) => e.dedupe_key)).toEqual([`ESCALATION:report:${id}:HANDLING:CIVIL_AFFAIRS`]);

    const [n] = await t.sql(`SELECT id FROM workflow.notification WHERE subject_id = $1 AND kind = 'MANDATORY_REPORT' AND department = 'CIVIL_AFFAIRS'`, [id]);
    const other = await t.token(CA, { region: '330102001', user: 'rt31-civil-2' });
    const acks = await Promise.all([civil, other, civil, other].map((tok) => post(t, tok, { query: ACK, variables: { id: n.id } })));
    const answers = acks.map((a) => a.json.data.acknowledge);
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    const changes = await Promise.all(acks.map(async (a) => (await eventOf(t, a.requestId)).changes.length));
    expect(changes.sort()).toEqual([0, 0, 0, 1]);

    // Steps at once: one taken, the others refused typed; a street that does not cover it reads it as missing.
    const steps = await Promise.all([police, civil, police].map((tok) => t.gql(tok, STEP, { id, to: 'VERIFYING', note: '出警核查' })));
    expect(steps.map((s) => errorCodes(s).join()).sort()).toEqual(['', 'BAD_USER_INPUT', 'BAD_USER_INPUT']);
    const elsewhere = await t.token(PO, { region: '330102002', user: 'rt31-next-street' });
    const foreign = await t.gql(elsewhere, STEP, { id, to: 'HANDLED', note: 'x' });
    const unknown = await t.gql(elsewhere, STEP, { id: '00000000-0000-4000-8000-000000000000', to: 'HANDLED', note: 'x' });
    expect([foreign.errors, foreign.data]).toEqual([unknown.errors, unknown.data]);
  });
});
