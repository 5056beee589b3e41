import { Department, Role } from '../src/auth/principal';
import { buildPolicy } from '../src/server/bootstrap';
import { MAX_PAYLOAD_FIELDS } from '../src/subgraphs/workflow/workflow.notify';
import { MAX_GRANTED_FIELDS, referralGrants } from '../src/subgraphs/workflow/workflow.policy';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const { CIVIL_AFFAIRS: CA, EDUCATION: ED } = Department;
const MIN = 60_000;

/** Scalars (and nulls) a JSON answer holds: what the cost limit estimates. */
const leaves = (v: unknown): number => (v !== null && typeof v === 'object' ? Object.values(v as object).reduce<number>((n, x) => n + leaves(x), 0) : 1);
const aliased = (n: number, field: string) => Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ');

/**
 * The cost limit prices a list without paging at what the domain bounds it by. A notification's
 * payload and a referral's granted fields were priced at 5, though an escalation of a report tells
 * 7 fields and a placement opens 7 (8 since it opens the household registration with the address): aliases of them on a page answered more than the limit admitted.
 */
describe('the cost limit and a notification’s payload, a referral’s granted fields (redteam19)', () => {
  const LIMIT = 10_000;
  const PAGE = 10;
  let t: TestHub;
  let civil: string;

  beforeAll(async () => {
    t = await startTestHub({ maxQueryCost: LIMIT, env: { HUB_REPORT_DEADLINES: 'URGENT=60/1440,HIGH=240/4320,NORMAL=1440/10080' } });
    civil = await t.token(CA, { user: 'rt19-cost' });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('bounds are what the domain tells and opens at most', () => {
    expect(MAX_GRANTED_FIELDS).toBe(Math.max(...Object.values(referralGrants).map((f) => f.length)));
    expect([MAX_PAYLOAD_FIELDS, MAX_GRANTED_FIELDS]).toEqual([7, 9]);
  });

  it('prices a payload at the 7 fields an escalation of a report past both its deadlines tells', async () => {
    const [kid] = await t.sql(
      `SELECT trim(m.id_number) AS id_number, m.grid_code, r.parent_code AS parent
         FROM registry.minor m JOIN registry.region r ON r.code = m.grid_code
        WHERE m.grid_code LIKE '330102001%' AND registry.is_minor(m.birth_date, now() + interval '30 days') ORDER BY m.id LIMIT 1`,
    );
    const reporter = await t.token(ED, { role: Role.REPORTER, user: 'rt19-teacher' });
    const FILE = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`;
    const reports: string[] = [];
    for (let i = 0; i < PAGE; i++) {
      const r = await t.gql(reporter, FILE, {
        input: { harmType: 'PHYSICAL_ABUSE', observation: `手臂多处淤青 ${i}`, location: '清波小学', regionCode: kid.grid_code, urgency: 'URGENT', childIdNumber: kid.id_number },
      }, {});
      expect(errorCodes(r)).toEqual([]);
      reports.push(r.data.fileMandatoryReport.id);
    }
    // Never verified nor handled: one escalation each, naming both deadlines missed.
    const summary = await runEscalations(t.hub.db.ds, t.config, buildPolicy(), new Date(Date.now() + 1441 * MIN));
    expect([summary.reports >= PAGE, summary.failed]).toEqual([true, 0]);
    // The same pass told of the demo data's overdue visits too, at the same time: the page is to hold these ten only.
    await t.sql(`DELETE FROM workflow.notification WHERE department = $1 AND NOT coalesce(subject_id = ANY($2::uuid[]), false)`, [CA, reports]);
    const upper = await t.token(CA, { region: kid.parent, user: 'rt19-upper' });
    const page = (n: number) => `{ notifications(first: ${PAGE}) { ${aliased(n, 'payload { field value }')} } }`;

    const served = await post(t, upper, { query: page(66) });
    expect([served.status, served.json.errors]).toEqual([200, undefined]);
    const notifications: Record<string, unknown[]>[] = served.json.data.notifications;
    expect(notifications.map((n) => n.a0.length)).toEqual(Array(PAGE).fill(MAX_PAYLOAD_FIELDS));
    expect(leaves(served.json.data)).toBeLessThanOrEqual(LIMIT);
    // Priced at 5 fields, 90 aliases passed for 9,901 and answered 12,600 values.
    const refused = await post(t, upper, { query: page(90) });
    expect([refused.status, refused.json.errors?.[0]?.extensions?.code, refused.json.data]).toEqual([413, 'LIMIT_EXCEEDED', undefined]);
  });

  it('prices granted fields at the 9 a placement opens', async () => {
    const kids = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' AND registry.is_minor(birth_date, now()) ORDER BY id LIMIT ${PAGE}`);
    const CREATE = `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id grantedFields } }`;
    for (const k of kids) {
      const r = await t.gql(civil, CREATE, { input: { minorId: k.id, type: 'PLACEMENT', toDepartment: ED, need: '需要安置' } });
      expect(errorCodes(r)).toEqual([]);
      expect(r.data.createReferral.grantedFields).toEqual(referralGrants.PLACEMENT);
    }
    const page = (n: number) => `{ referrals(direction: SENT, first: ${PAGE}) { ${aliased(n, 'grantedFields')} } }`;
    const served = await post(t, civil, { query: page(99) });
    expect([served.status, served.json.errors]).toEqual([200, undefined]);
    expect(served.json.data.referrals.map((r: { a0: string[] }) => r.a0.length)).toEqual(Array(PAGE).fill(MAX_GRANTED_FIELDS));
    expect(leaves(served.json.data)).toBeLessThanOrEqual(LIMIT);
    // Priced at 5, 166 aliases passed for 9,961 and answered 11,620 values.
    const refused = await post(t, civil, { query: page(166) });
    expect([refused.status, refused.json.errors?.[0]?.extensions?.code, refused.json.data]).toEqual([413, 'LIMIT_EXCEEDED', undefined]);
  });
});
