import { Department, Role } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 28 (rt28-audit): completeness and exactness of what the trail records as read, through
 * the public endpoint only.
 */
describe('audit of reads, red team 28', () => {
  let t: TestHub;
  let civil: string;

  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'rt28-civil' });
  });
  afterAll(() => t?.stop());

  /** The fields an event records read of one child ({} when it names the child nowhere in its reads). */
  const readOf = (event: Record<string, any>, minorId: string): Record<string, string> =>
    (event.reads as { minorId: string; fields: Record<string, string> }[]).find((r) => r.minorId === minorId)?.fields ?? {};

  // README ("purpose", filters): "a workflow list, paged on with `after: <the last item's id>`, the
  // child of that item too (that it is accepted tells it still matches the filter)". overdueVisits
  // takes any child's id as `after`: accepted, the `after` child is recorded as read of its next
  // visit and level (visit-sla.resolver.ts notes the rows, the item first). Refused ("not an item of
  // this list"), the answer tells as much of the same child — it is not overdue, or not at the levels
  // asked — and the event records nothing. Asking each level in turn reads any child's level and
  // whether its visit is overdue, off the trail: the child's history never shows who asked.
  it('records the `after` child of overdueVisits whose refusal tells it is not overdue, or not at the levels asked', async () => {
    const listed = await t.gql(civil, `{ overdueVisits(first: 500) { minor { id } riskLevel } }`);
    expect(listed.errors).toBeUndefined();
    const overdue: { minor: { id: string }; riskLevel: string }[] = listed.data.overdueVisits;
    const orange = overdue.find((v) => v.riskLevel === 'ORANGE')!;
    expect(orange).toBeDefined();
    const x = orange.minor.id;
    const Q = `query($levels: [RiskLevel!], $after: ID) { overdueVisits(first: 1, riskLevels: $levels, after: $after) { riskLevel } }`;
    // Control: accepted at its own level, the `after` child is recorded.
    const accepted = await post(t, civil, { query: Q, variables: { levels: ['ORANGE'], after: x } });
    expect(accepted.json.errors).toBeUndefined();
    expect(readOf(await eventOf(t, accepted.requestId), x)).toEqual({ 'Minor.nextVisitDue': 'ALLOW', 'Minor.riskLevel': 'ALLOW' });
    // Refused at another level: the caller learns the child is not RED-and-overdue.
    const refused = await post(t, civil, { query: Q, variables: { levels: ['RED'], after: x } });
    expect(refused.json.errors.map((e: any) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    // A child of the caller's street whose visit is not overdue: refused, which tells just that.
    const children = await t.gql(civil, `{ minors(first: 300) { edges { node { id } } } }`);
    const overdueIds = new Set(overdue.map((v) => v.minor.id));
    const y: string = children.data.minors.edges.map((e: any) => e.node.id).find((id: string) => !overdueIds.has(id));
    expect(y).toBeDefined();
    const notOverdue = await post(t, civil, { query: Q, variables: { levels: null, after: y } });
    expect(notOverdue.json.errors.map((e: any) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    expect({
      refusedAtAnotherLevel: readOf(await eventOf(t, refused.requestId), x),
      refusedNotOverdue: readOf(await eventOf(t, notOverdue.requestId), y),
    }).toEqual({
      refusedAtAnotherLevel: { 'Minor.nextVisitDue': 'ALLOW', 'Minor.riskLevel': 'ALLOW' },
      refusedNotOverdue: { 'Minor.nextVisitDue': 'ALLOW', 'Minor.riskLevel': 'ALLOW' },
    });
  });

  // The same for a list of records: `referrals(status:, after:)` accepted records the referral's
  // child as read of `Referral.status`; refused, it tells the referral is not in that status any
  // more (a referral the caller listed a moment before, so known to be its to see), unrecorded.
  it('records the `after` referral’s child when referrals(status:) refuses it: the refusal tells its status', async () => {
    const listed = await t.gql(civil, `{ referrals(first: 100) { id status minor { id } } }`);
    expect(listed.errors).toBeUndefined();
    const pending = listed.data.referrals.find((r: any) => r.status === 'PENDING' && r.minor);
    expect(pending).toBeDefined();
    const Q = `query($s: [ReferralStatus!], $after: ID) { referrals(first: 1, status: $s, after: $after) { id } }`;
    const accepted = await post(t, civil, { query: Q, variables: { s: ['PENDING'], after: pending.id } });
    expect(accepted.json.errors).toBeUndefined();
    expect(readOf(await eventOf(t, accepted.requestId), pending.minor.id)).toEqual(expect.objectContaining({ 'Referral.status': 'ALLOW' }));
    const refused = await post(t, civil, { query: Q, variables: { s: ['ACCEPTED', 'COMPLETED'], after: pending.id } });
    expect(refused.json.errors.map((e: any) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    expect(readOf(await eventOf(t, refused.requestId), pending.minor.id)).toEqual(expect.objectContaining({ 'Referral.status': 'ALLOW' }));
  });

  // docs/workflows.md: "Reading or stepping such a report is not recorded as a read or change of that
  // child for a reader outside the child's jurisdiction ..., as filing it is not for the filer" — and
  // for a filer inside it, filing is recorded against the child (report.resolver.ts `belongsTo`). The
  // filer then reads the report back through `myReports`: its status, HANDLED or UNFOUNDED once the
  // police have verified it — the outcome of a child-protection report about that child. ReportReceipt
  // is no child-record type, so the read is recorded against no one: the child's history shows the
  // teacher who filed about it, never the teacher reading what became of it.
  it('records the status a reporter reads back of a report the trail attributes to the child', async () => {
    const kid = (await t.gql(civil, `{ minors(first: 1, after: "${Buffer.from('minor:40000000-0000-4000-8000-000000000000').toString('base64url')}") { edges { node { id grid { code } } } } }`)).data.minors.edges[0].node;
    const street = kid.grid.code.slice(0, 9);
    const reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'rt28-teacher', region: street });
    const filed = await post(
      t,
      reporter,
      {
        query: `mutation($in: FileReportInput!) { fileMandatoryReport(input: $in) { id } }`,
        variables: { in: { harmType: 'NEGLECT', observation: 'rt28: left alone for days', location: 'school gate', regionCode: kid.grid.code, urgency: 'URGENT', childId: kid.id } },
      },
      {},
    );
    expect(filed.json.errors).toBeUndefined();
    const reportId = filed.json.data.fileMandatoryReport.id;
    // The filing is the child's, in the filer's event and in the child's history.
    expect((await eventOf(t, filed.requestId)).changes.map((c: any) => c.minorId)).toEqual([kid.id]);
    const police = await t.token(Department.POLICE, { user: 'rt28-police' });
    for (const to of ['VERIFYING', 'UNFOUNDED']) {
      const step = await t.gql(police, `mutation($id: ID!, $to: ReportStatus!) { transitionReport(id: $id, to: $to, note: "rt28") { status } }`, { id: reportId, to });
      expect(step.errors).toBeUndefined();
    }
    const mine = await post(t, reporter, { query: `{ myReports(first: 5) { id status } }` }, {});
    expect(mine.json.data.myReports).toContainEqual({ id: reportId, status: 'UNFOUNDED' });
    const event = await eventOf(t, mine.requestId);
    expect(event.reads.map((r: any) => r.minorId)).toContain(kid.id);
  });

  // Pin: a notification's payload is the child's data as it was told, each field recorded as a read
  // of the child (Notification.payload), as a webhook delivery of it is.
  it('pin: records each field of a notification’s payload as read of its child', async () => {
    const kid = (await t.gql(civil, `{ minors(first: 1, after: "${Buffer.from('minor:80000000-0000-4000-8000-000000000000').toString('base64url')}") { edges { node { id name grid { code } } } } }`)).data.minors.edges[0].node;
    const reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'rt28-teacher-2', region: kid.grid.code.slice(0, 9) });
    const filed = await post(
      t,
      reporter,
      { query: `mutation($in: FileReportInput!) { fileMandatoryReport(input: $in) { id } }`, variables: { in: { harmType: 'NEGLECT', observation: 'rt28 pin', location: 'park', regionCode: kid.grid.code, urgency: 'URGENT', childId: kid.id } } },
      {},
    );
    const reportId = filed.json.data.fileMandatoryReport.id;
    const police = await t.token(Department.POLICE, { user: 'rt28-police-2' });
    const r = await post(t, police, { query: `{ notifications(first: 50) { subjectId payload { field value } } }` });
    const n = r.json.data.notifications.find((x: any) => x.subjectId === reportId);
    expect(n.payload).toContainEqual({ field: 'Minor.name', value: kid.name });
    expect(readOf(await eventOf(t, r.requestId), kid.id)).toEqual(
      expect.objectContaining({ 'Minor.name': 'ALLOW', 'MandatoryReport.harmType': 'ALLOW', 'Notification.payload': 'ALLOW', 'Notification.subjectId': 'ALLOW' }),
    );
  });
});
