import { Department, Role } from '../src/auth/principal';
import { buildPolicy } from '../src/server/bootstrap';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { eventOf, post } from './support/audit-helpers';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO } = Department;
const STREET = '330102001';
const OTHER_STREET = '330102002';
const HOUR = 3_600_000;

const CREATE = `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id status regionCode } }`;
const FILE = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id status receivedAt } }`;

/**
 * Workflow states, red team 14: what the referral's purpose covers besides the referral's child (in
 * process and with every subgraph served alone, where what a subgraph served travels to the gateway
 * in its access record), and where escalations go from the top of the region tree.
 */
describe.each(['in process', 'distributed'] as const)('workflow states: red team 14 (%s)', (mode) => {
  let t: TestHub;
  let child: { id: string; grid_code: string; id_number: string };
  let elsewhere: { id: string; grid_code: string; id_number: string };
  let streetCivil: string;
  let streetPolice: string;
  let districtCivil: string;
  let reporter: string;

  beforeAll(async () => {
    const env = { HUB_REFERRAL_ANSWER_HOURS: '48' };
    t = mode === 'in process' ? await startTestHub({ env }) : await startDistributedTestHub(env);
    [child] = await t.sql(`SELECT id, grid_code, trim(id_number) AS id_number FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 7 LIMIT 1`);
    [elsewhere] = await t.sql(`SELECT id, grid_code, trim(id_number) AS id_number FROM registry.minor WHERE grid_code LIKE '${OTHER_STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 7 LIMIT 1`);
    streetCivil = await t.token(CA, { region: STREET, user: 'rt14-civil' });
    streetPolice = await t.token(PO, { region: STREET, user: 'rt14-police' });
    districtCivil = await t.token(CA, { user: 'rt14-district-civil' });
    reporter = await t.token(ED, { role: Role.REPORTER, user: 'rt14-teacher' });
  });
  afterAll(() => t?.stop());
  afterEach(() => {
    t.config.workflow.clockOffsetMs = 0;
  });

  const refer = async (token: string, to: Department, minorId: string, type = 'LEGAL_AID'): Promise<string> => {
    const r = await t.gql(token, CREATE, { input: { minorId, type, toDepartment: to, need: '需要法律援助' } });
    expect(r.errors).toBeUndefined();
    return r.data.createReferral.id;
  };
  const fileReport = async (over: Record<string, unknown>): Promise<string> => {
    const r = await t.gql(
      reporter,
      FILE,
      { input: { harmType: 'NEGLECT', observation: '孩子长期独自在家，无人照料', location: '某小区3栋', regionCode: STREET, urgency: 'NORMAL', observedAt: new Date(Date.now() - 60_000).toISOString(), ...over } },
      {},
    );
    expect(r.errors).toBeUndefined();
    return r.data.fileMandatoryReport.id;
  };

  describe('a read under a referral’s purpose covers the referral’s child only', () => {
    it('refuses whole the receiver’s inbox when it holds a notification about someone else (a report of an unregistered child)', async () => {
      const ref = await refer(streetCivil, PO, child.id);
      const report = await fileReport({ childDescription: '约八岁男孩，穿蓝色校服' });
      const q = `{ notifications(first: 1) { id kind subjectId payload { field value } } }`;
      // Under an ordinary purpose: the newest notification of the street's police is that report.
      const plain = await t.gql(streetPolice, q);
      expect(plain.errors).toBeUndefined();
      expect(plain.data.notifications[0]).toMatchObject({ kind: 'MANDATORY_REPORT', subjectId: report });
      // Under the referral: a notification about someone else is refused whole (docs/workflows.md, Field grants).
      const r = await post(t, streetPolice, { query: q }, { 'x-purpose': `REFERRAL; ${ref}` });
      expect([r.status, r.json.data ?? null, r.json.errors?.map((e: any) => e.extensions.code)]).toEqual([403, null, ['FORBIDDEN']]);
    });

    it('refuses whole a look-up of a report about another child, linked or not, under the referral', async () => {
      const ref = await refer(streetCivil, PO, child.id);
      const unlinked = await fileReport({ childDescription: '约十岁女孩' });
      // Filed about a place in the street, naming (by ID number) a registered child of another street.
      const linkedElsewhere = await fileReport({ childIdNumber: elsewhere.id_number });
      const q = `query($id: ID!) { mandatoryReport(id: $id) { id observation childIdNumber childDescription location } }`;
      const seen: Record<string, unknown> = {};
      const audited: unknown[] = [];
      for (const [name, id] of Object.entries({ unlinked, linkedElsewhere })) {
        const plain = await t.gql(streetPolice, q, { id });
        expect(plain.errors).toBeUndefined();
        expect(plain.data.mandatoryReport.id).toBe(id);
        const r = await post(t, streetPolice, { query: q, variables: { id } }, { 'x-purpose': `REFERRAL; ${ref}` });
        seen[name] = [r.status, r.json.data?.mandatoryReport ?? null, r.json.errors?.map((e: any) => e.extensions.code)];
        // Whatever it answers, the trail must not show a referral-purpose read that released another child's report.
        const e = await eventOf(t, r.requestId);
        if (r.status === 200) audited.push({ name, outcome: e.outcome, purpose: e.purpose, reads: e.reads });
      }
      expect(seen).toEqual({ unlinked: [403, null, ['FORBIDDEN']], linkedElsewhere: [403, null, ['FORBIDDEN']] });
      expect(audited).toEqual([]);
    });
  });

  // The escalation job runs in the hub's process whichever way the subgraphs are served.
  if (mode === 'in process') describe('escalation from the top of the region tree', () => {
    it('escalates a referral addressed to the district to the district itself', async () => {
      const [region] = await t.sql(`SELECT code, parent_code FROM registry.region WHERE code = '330102'`);
      const ref = await refer(districtCivil, ED, child.id, 'EDUCATION_AID');
      const summary = await runEscalations(t.hub.db.ds, t.config, buildPolicy(), new Date(Date.now() + 49 * HOUR));
      expect(summary.failed).toBe(0);
      const [row] = await t.sql(`SELECT escalation_region FROM workflow.referral WHERE id = $1`, [ref]);
      expect([region, row.escalation_region]).toEqual([region, '330102']);
      const told = await t.sql(`SELECT department, region_code FROM workflow.notification WHERE kind = 'ESCALATION' AND subject_id = $1`, [ref]);
      expect(told).toEqual([{ department: CA, region_code: '330102' }]);
      const inbox = await t.gql(districtCivil, `{ notifications(first: 500) { subjectId kind } }`);
      expect(inbox.data.notifications).toContainEqual({ subjectId: ref, kind: 'ESCALATION' });
    });
  });
});
