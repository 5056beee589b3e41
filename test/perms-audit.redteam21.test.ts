import { Department, Role } from '../src/auth/principal';
import { eventsOf, post } from './support/audit-helpers';
import { postWithStalledBody } from './support/raw-socket';
import { errorCodes, startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const { CIVIL_AFFAIRS: CA, POLICE: PO, EDUCATION: ED } = Department;
const STREET = '330102001';
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; rt21-perms' };

/**
 * Red team 21 (rt211): regression review of 7edbc0f / 823099c (referral-purpose withholding of
 * records naming no child: mutations, filtered lists' `after`, empty pages' cursors), 74bae2a
 * (auditEvents look-up recorded), 5f976c1 / fecd929 (refused requests' events name the operation and
 * the variables' HMACs). Siblings the commits did not touch, both modes.
 */
describe.each(['in process', 'distributed'] as const)('perms & audit, red team 21, %s', (mode) => {
  let t: TestHub;
  let child: { id: string; grid_code: string; id_number: string };
  let streetCivil: string;
  let streetPolice: string;
  let referralId: string;
  let unnamedReport: string;
  let movedReferral: string;
  const under = () => ({ 'x-purpose': `REFERRAL; ${referralId}` });
  const refused = (r: { status: number; json: any }) => [r.status, r.json?.data ?? null, errorCodes({ status: r.status, errors: r.json?.errors })];

  beforeAll(async () => {
    t = mode === 'in process' ? await startTestHub() : await startDistributedTestHub();
    [child] = await t.sql(
      `SELECT id, grid_code, trim(id_number) AS id_number FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 21 LIMIT 1`,
    );
    streetCivil = await t.token(CA, { region: STREET, user: 'rt21p-civil' });
    streetPolice = await t.token(PO, { region: STREET, user: 'rt21p-police' });
    const ref = await t.gql(streetCivil, `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`, {
      input: { minorId: child.id, toDepartment: 'POLICE', type: 'LEGAL_AID', need: '需要法律援助' },
    }, PURPOSE);
    expect(ref.errors).toBeUndefined();
    referralId = ref.data.createReferral.id;
    const reporter = await t.token(ED, { role: Role.REPORTER, user: 'rt21p-teacher' });
    const filed = await t.gql(
      reporter,
      `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`,
      { input: { harmType: 'PHYSICAL_ABUSE', observation: '手臂多处淤青', location: '教室', regionCode: STREET, urgency: 'URGENT', childDescription: '约十岁男孩，未知姓名' } },
      {},
    );
    expect(filed.errors).toBeUndefined();
    unnamedReport = filed.data.fileMandatoryReport.id;
    // A referral about a child who has since moved to another street, accepted before the move.
    const [mover] = await t.sql(
      `SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 23 LIMIT 1`,
    );
    const ref2 = await t.gql(streetCivil, `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`, {
      input: { minorId: mover.id, toDepartment: 'POLICE', type: 'LEGAL_AID', need: '需要法律援助' },
    }, PURPOSE);
    expect(ref2.errors).toBeUndefined();
    movedReferral = ref2.data.createReferral.id;
    const acc = await t.gql(streetPolice, `mutation($id: ID!) { acceptReferral(id: $id) { id } }`, { id: movedReferral }, PURPOSE);
    expect(acc.errors).toBeUndefined();
    const [elsewhere] = await t.sql(`SELECT grid_code FROM registry.minor WHERE grid_code NOT LIKE '${STREET}%' AND grid_code LIKE '330102%' LIMIT 1`);
    await t.sql(`UPDATE registry.minor SET grid_code = $2 WHERE id = $1`, [mover.id, elsewhere.grid_code]);
  });
  afterAll(() => t?.stop());

  it('control: the referral\'s own child is served under its purpose', async () => {
    const r = await post(t, streetPolice, { query: `query($id: ID!) { minor(id: $id) { id } }`, variables: { id: child.id } }, under());
    expect(r.json.errors).toBeUndefined();
    expect(r.json.data.minor.id).toBe(child.id);
  });

  // 7edbc0f sibling: overdueReports, whose filter is fixed (status + deadline), after an unnamed report.
  it('under REFERRAL overdueReports after an unregistered child\'s report (the page after it empty) is refused whole', async () => {
    // The least overdue of all: nothing comes after it.
    await t.sql(`UPDATE workflow.mandatory_report SET status = 'RECEIVED', verify_due_at = now() - interval '200 milliseconds' WHERE id = $1`, [unnamedReport]);
    const q = { query: `query($r: ID!) { overdueReports(first: 1, after: $r) { __typename } }`, variables: { r: unnamedReport } };
    const control = await post(t, streetPolice, q, PURPOSE);
    expect([control.status, control.json.errors ?? null, control.json.data]).toEqual([200, null, { overdueReports: [] }]);
    const r = await post(t, streetPolice, q, under());
    expect(refused(r)).toEqual([403, null, ['FORBIDDEN']]);
  });

  // 7edbc0f sibling: referrals filtered by status/direction, after a referral whose child moved away.
  it.each([
    ['status', `query($r: ID!) { referrals(status: [ACCEPTED], first: 1, after: $r) { __typename } }`],
    ['direction', `query($r: ID!) { referrals(direction: RECEIVED, first: 1, after: $r) { __typename } }`],
  ])('under REFERRAL referrals filtered by %s, after a referral whose child moved away (page after it empty), is refused whole', async (_what, query) => {
    await t.sql(`UPDATE workflow.referral SET created_at = '1990-01-01T00:00:00Z' WHERE id = $1`, [movedReferral]);
    const q = { query, variables: { r: movedReferral } };
    const control = await post(t, streetPolice, q, PURPOSE);
    expect([control.status, control.json.errors ?? null, control.json.data]).toEqual([200, null, { referrals: [] }]);
    const r = await post(t, streetPolice, q, under());
    expect(refused(r)).toEqual([403, null, ['FORBIDDEN']]);
  });

  // 823099c sibling: an empty filtered page asking what depends on its (absent) records, under REFERRAL.
  it.each([
    ['a department record page\'s nextCursor and totalCount', `query { policeIncidents(filter: { occurredWithinDays: 1, types: [RUNAWAY], statuses: [CLOSED] }, first: 5) { nextCursor totalCount } }`],
    ['minors\' endCursor, hasNextPage and totalCount', `query { minors(filter: { regionCode: "330102001999999", riskLevels: [RED] }, first: 5) { totalCount pageInfo { endCursor hasNextPage } } }`],
  ])('under REFERRAL an empty filtered page: %s answered, not refused', async (_what, query) => {
    const control = await post(t, streetPolice, { query }, PURPOSE);
    expect([control.status, control.json.errors ?? null, JSON.stringify(control.json.data)]).toEqual([200, null, expect.stringContaining('"totalCount":0')]);
    const r = await post(t, streetPolice, { query }, under());
    expect([r.status, r.json.errors ?? null, r.json.data]).toEqual([200, null, control.json.data]);
  });

  it.each([
    ['overdueVisits in an empty grid', `query { overdueVisits(regionCode: "330102001999999", first: 5) { __typename daysOverdue } }`, { overdueVisits: [] }],
  ])('under REFERRAL an empty filtered workflow page: %s answered as under another purpose', async (_what, query, expected) => {
    const control = await post(t, streetPolice, { query }, PURPOSE);
    if (expected) expect([control.status, control.json.errors ?? null, control.json.data]).toEqual([200, null, expected]);
    const r = await post(t, streetPolice, { query }, under());
    expect([r.status, r.json.errors ?? null, r.json.data]).toEqual([control.status, control.json.errors ?? null, control.json.data]);
  });

  // 5f976c1 sibling: a refusal made once the body is in but before the bound parses it — the token
  // expired while the body arrived (HttpAudit.instant). The hub holds the text; the event names nothing.
  it('a mutation whose token expired while its body arrived: its UNAUTHENTICATED event names the operation and hashes its variables', async () => {
    const user = `rt21-expiring-${mode === 'in process' ? 'p' : 'd'}`;
    const token = await t.token(PO, { region: STREET, user, expiresIn: 2 });
    const body = JSON.stringify({ query: `mutation Ack($id: ID!) { acknowledge(id: $id) { id } }`, variables: { id: '0195b3d2-0000-7000-8000-000000000000' } });
    const raw = await postWithStalledBody(t.hub.port, token, body, 'CASE_HANDLING; rt21', 10);
    expect(raw.split('\r\n')[0]).toBe('HTTP/1.1 401 Unauthorized');
    const requestId = /x-request-id: ([0-9a-f-]+)/i.exec(raw)![1];
    const events = await eventsOf(t, requestId);
    expect(events.map((e) => [e.outcome, e.body.userId])).toEqual([['UNAUTHENTICATED', user]]);
    // The same operation refused by validation (a field it lacks) names it and hashes $id.
    const other = await post(t, await t.token(PO, { region: STREET, user }), { query: `mutation Ack($id: ID!) { acknowledge(id: $id) { nope } }`, variables: { id: '0195b3d2-0000-7000-8000-000000000000' } });
    const named = (await eventsOf(t, other.requestId))[0].body;
    expect([named.operationName, named.operationType, Object.keys(named.variables)]).toEqual(['Ack', 'mutation', ['id']]);
    const e = events[0].body;
    expect([e.operationName, e.operationType, e.variables]).toEqual([named.operationName, named.operationType, named.variables]);
  });

  // 7edbc0f, (b): a first acknowledgement (a change) of an unregistered child's notice under REFERRAL.
  it('under REFERRAL a first acknowledgement of an unregistered child\'s notice: answer withheld, the change stands and is audited PARTIAL with its change', async () => {
    const reporter = await t.token(ED, { role: Role.REPORTER, user: 'rt21p-teacher2' });
    const filed = await t.gql(
      reporter,
      `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`,
      { input: { harmType: 'NEGLECT', observation: '长期无人照看', location: '家中', regionCode: STREET, urgency: 'NORMAL', childDescription: '约八岁女孩' } },
      {},
    );
    expect(filed.errors).toBeUndefined();
    const [n] = await t.sql(`SELECT id FROM workflow.notification WHERE subject_id = $1 AND department = 'POLICE'`, [filed.data.fileMandatoryReport.id]);
    const r = await post(t, streetPolice, { query: `mutation($id: ID!) { acknowledge(id: $id) { id acknowledgedAt } }`, variables: { id: n.id } }, under());
    expect(refused(r)).toEqual([403, null, ['FORBIDDEN']]);
    const [row] = await t.sql(`SELECT acknowledged_at FROM workflow.notification WHERE id = $1`, [n.id]);
    expect(row.acknowledged_at).not.toBeNull();
    const events = await eventsOf(t, r.requestId);
    expect(events.map((e) => e.outcome)).toEqual(['STARTED', 'PARTIAL']);
    const e = events[1].body;
    expect([e.changes.length, e.changes[0]?.minorId ?? null, e.reads, e.purpose]).toEqual([1, null, [], { code: 'REFERRAL', reference: referralId }]);
  });
});
