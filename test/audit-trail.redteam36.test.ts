import { Department, Role } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const EMPLOYMENT_CHECK = { 'x-purpose': 'EMPLOYMENT_CHECK; rt36' };

/** The children an event records as served something (ALLOW or MASK), with what. */
const servedReads = (event: Record<string, any>) =>
  event.reads.filter((r: any) => Object.values(r.fields).some((a) => a !== 'DENY')).map((r: any) => [r.minorId, event.purpose?.code, Object.keys(r.fields).sort()]);

/**
 * Red team 36 (rt36-audit): the audit trail — what is recorded of each read of a child, under which
 * purpose, and what the data officers' queries show — through the public endpoint.
 */
describe('the audit trail (red team 36)', () => {
  let t: TestHub;
  let civil: string;
  let kid: { id: string; street: string };

  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(Department.CIVIL_AFFAIRS);
    const node = (await t.gql(civil, `{ minors(first: 1, after: "${Buffer.from('minor:40000000-0000-4000-8000-000000000000').toString('base64url')}") { edges { node { id grid { code } } } } }`)).data.minors.edges[0].node;
    kid = { id: node.id, street: node.grid.code.slice(0, 9) };
  });
  afterAll(() => t?.stop());

  // README, Example queries: "`EMPLOYMENT_CHECK` never serves a child's data: a pre-employment check
  // is about the adult applying, and `employmentCheck` needs no purpose, so a request that reads or
  // changes a child's data under it is refused (`BAD_USER_INPUT`, `extensions.field: "x-purpose"`,
  // HTTP 400)". The refusal is made from the document (a child-record type selected, audit.plugin's
  // needsPurpose) and by three resolvers that read children without one (counts and cursors under a
  // filter). Reads recorded by other resolvers escape it: a filer's `myReports` records the linked
  // child's receipt as read (report.resolver.ts), and is served under EMPLOYMENT_CHECK; the child's
  // history then shows a read of the child justified by a purpose that never justifies one.
  it('refuses myReports under EMPLOYMENT_CHECK when it reads a child, as any read of a child', async () => {
    const reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'rt36-teacher', region: kid.street });
    const filed = await post(
      t,
      reporter,
      {
        query: `mutation($in: FileReportInput!) { fileMandatoryReport(input: $in) { id } }`,
        variables: { in: { harmType: 'NEGLECT', observation: 'rt36: left alone for days', location: 'school gate', regionCode: kid.street, urgency: 'URGENT', childId: kid.id } },
      },
      {},
    );
    expect(filed.json.errors).toBeUndefined();
    const mine = await post(t, reporter, { query: `{ myReports(first: 5) { id status } }` }, EMPLOYMENT_CHECK);
    const event = await eventOf(t, mine.requestId);
    // Refused on x-purpose (the request, or the field on its path), no receipt served, no read of the child released under it.
    expect({
      refusals: (mine.json.errors ?? []).map((e: any) => [e.extensions?.code, e.extensions?.field]),
      receipts: mine.json.data?.myReports ?? null,
      released: servedReads(event),
    }).toEqual({ refusals: [['BAD_USER_INPUT', 'x-purpose']], receipts: null, released: [] });
  });

  // fileMandatoryReport needs no purpose, and links the report to the child it names when registered:
  // under EMPLOYMENT_CHECK it is refused before it runs, the same whether or not the child is
  // registered — refused after, the refusal would tell which.
  it('refuses a report filed under EMPLOYMENT_CHECK before it runs, naming a registered child or not', async () => {
    const reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'rt36-teacher-ec', region: kid.street });
    const file = (childId: string, observation: string) =>
      post(
        t,
        reporter,
        {
          query: `mutation($in: FileReportInput!) { fileMandatoryReport(input: $in) { id } }`,
          variables: { in: { harmType: 'NEGLECT', observation, location: 'school gate', regionCode: kid.street, urgency: 'URGENT', childId } },
        },
        EMPLOYMENT_CHECK,
      );
    const answers = [await file(kid.id, 'rt36-ec: registered'), await file('40000000-0000-4000-8000-0000000000ff', 'rt36-ec: unknown')];
    expect(answers.map((a) => [a.status, a.json.data ?? null, (a.json.errors ?? []).map((e: any) => [e.extensions?.code, e.extensions?.field])])).toEqual([
      [400, null, [['BAD_USER_INPUT', 'x-purpose']]],
      [400, null, [['BAD_USER_INPUT', 'x-purpose']]],
    ]);
    expect(await t.sql(`SELECT id FROM workflow.mandatory_report WHERE observation LIKE 'rt36-ec:%'`)).toEqual([]);
  });

  // The same rule, a data officer's look-up: README, Audit trail: "a look-up of a child
  // (`minorAccessHistory`, `auditEvents` filtered by `minorId`) is itself recorded as a read of that
  // child". Under EMPLOYMENT_CHECK it is served and recorded as such a read, under that purpose.
  it('refuses a data officer’s look-up of a child under EMPLOYMENT_CHECK', async () => {
    const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: kid.street, user: 'rt36-auditor-ec' });
    const history = await post(t, auditor, { query: `query($m: ID!) { minorAccessHistory(minorId: $m, first: 5) { userId fields { field } } }`, variables: { m: kid.id } }, EMPLOYMENT_CHECK);
    const event = await eventOf(t, history.requestId);
    expect({
      refusals: (history.json.errors ?? []).map((e: any) => [e.extensions?.code, e.extensions?.field]),
      history: history.json.data?.minorAccessHistory ?? null,
      released: servedReads(event),
    }).toEqual({ refusals: [['BAD_USER_INPUT', 'x-purpose']], history: null, released: [] });
  });

  // Red team 37, held (pinned): under EMPLOYMENT_CHECK a receipt read beside another subgraph's field (the
  // gateway's plan, not the fast path) is refused whole, 400, as on the fast path, no read released.
  it('refuses myReports beside another subgraph’s field under EMPLOYMENT_CHECK (the gateway path)', async () => {
    const [{ code: street }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'STREET' ORDER BY code LIMIT 1`);
    const officer = await t.token(Department.POLICE, { user: 'rt37-officer', region: street });
    const filed = await post(
      t,
      officer,
      {
        query: `mutation($in: FileReportInput!) { fileMandatoryReport(input: $in) { id } }`,
        variables: { in: { harmType: 'NEGLECT', observation: 'rt37: left alone', location: 'school gate', regionCode: street, urgency: 'URGENT' } },
      },
      {},
    );
    expect(filed.json.errors).toBeUndefined();
    const r = await post(t, officer, { query: `{ regions { code } myReports(first: 5) { id status } }` }, EMPLOYMENT_CHECK);
    const event = await eventOf(t, r.requestId);
    const served = event.reads.filter((g: any) => Object.values(g.fields).some((a) => a !== 'DENY'));
    expect([r.status, r.json.data ?? null, (r.json.errors ?? []).map((e: any) => [e.extensions?.code, e.extensions?.field]), served]).toEqual([400, null, [['BAD_USER_INPUT', 'x-purpose']], []]);
  });
});
