import { createHmac } from 'node:crypto';
import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { chinaDay, yearsBefore } from '../src/common/dates';
import { buildPolicy } from '../src/server/bootstrap';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { deliverWebhooks } from '../src/subgraphs/workflow/workflow.webhooks';
import { errorCodes, startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';
import { closeReceiver, receiver } from './support/webhooks';

jest.setTimeout(600_000);

/**
 * docs/workflows.md, sentence by sentence (red team 20): the concrete promises of mandatory reports,
 * referrals, notifications, escalations, webhooks and the pre-employment check, at their edges.
 */
const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU } = Department;
const DAY = 86_400_000;
const DISTRICT = '330102';
const STREET = '330102001';
const OTHER_STREET = '330102003';
const policy = buildPolicy();

const FILE = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`;
const STEP = `mutation($id: ID!, $to: ReportStatus!, $note: String!) { transitionReport(id: $id, to: $to, note: $note) { id status } }`;
const REFER = `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`;

describe('workflows.md claims (redteam20, in-process)', () => {
  let t: TestHub;
  let kids: { id: string; id_number: string; grid_code: string }[];
  let next = 0;
  const kid = () => kids[next++];

  beforeAll(async () => {
    t = await startTestHub();
    kids = await t.sql(
      `SELECT id, trim(id_number) AS id_number, grid_code FROM registry.minor
        WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now() + interval '400 days') ORDER BY id LIMIT 40`,
    );
  });
  afterAll(() => t.stop());
  afterEach(() => {
    t.config.workflow.clockOffsetMs = 0;
  });

  const run = (at: number | Date) => runEscalations(t.hub.db.ds, t.config, policy, new Date(at));
  const notesOf = (subject: string, kind: string) =>
    t.sql(`SELECT department, region_code, minor_id, payload, created_at FROM workflow.notification WHERE subject_id = $1 AND kind = $2 ORDER BY created_at, department`, [subject, kind]);

  /** A registered child of the street whose 18th birthday (in China) is `days` from now. */
  async function nearlyAdult(days: number, serial: number): Promise<{ id: string; grid_code: string }> {
    const birth = yearsBefore(new Date(Date.now() + days * DAY), 18);
    const idNumber = buildIdNumber('330102', birth, serial);
    const [row] = await t.sql(
      `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code, created_at, updated_at)
       SELECT gen_random_uuid(), '将成年红队二十', gender, $2::date, $3, household_registration, current_address, grid_code, now(), now() FROM registry.minor WHERE id = $1 RETURNING id, grid_code`,
      [kids[39].id, birth, idNumber],
    );
    return row;
  }

  it('a referral whose child turns 18 before it is answered: still accepted and completed (the loop is closed), naming no child to anyone, its REFERRAL_OUTCOME without Minor.*', async () => {
    const civil = await t.token(CA, { user: 'ca-rt20-a' });
    const edu = await t.token(ED, { user: 'ed-rt20-a' });
    const child = await nearlyAdult(3, 811);
    const made = await t.gql(civil, REFER, { i: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: ED, need: '学费资助' } });
    expect(made.errors).toBeUndefined();
    const id = made.data.createReferral.id;
    // Five days on: an adult.
    t.config.workflow.clockOffsetMs = 5 * DAY;
    const refused = await t.gql(civil, REFER, { i: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: ED, need: '学费资助' } });
    expect(errorCodes(refused)).toEqual(['NOT_FOUND']);
    const acc = await t.gql(edu, `mutation($id: ID!) { acceptReferral(id: $id) { id status minor { id } } }`, { id });
    expect(acc.errors).toBeUndefined();
    expect(acc.data.acceptReferral).toEqual({ id, status: 'ACCEPTED', minor: null });
    const done = await t.gql(edu, `mutation($id: ID!) { completeReferral(id: $id, outcome: "已资助") { id status minor { id } } }`, { id });
    expect(done.errors).toBeUndefined();
    expect(done.data.completeReferral).toEqual({ id, status: 'COMPLETED', minor: null });
    const seen = await t.gql(civil, `query($id: ID!) { referral(id: $id) { id status minor { id } } }`, { id });
    expect(seen.data.referral).toEqual({ id, status: 'COMPLETED', minor: null });
    const outcomes = await notesOf(id, 'REFERRAL_OUTCOME');
    expect(outcomes.map((n: any) => [n.department, n.region_code, n.minor_id])).toEqual([
      [CA, DISTRICT, null],
      [CA, DISTRICT, null],
    ]);
    for (const n of outcomes) expect(Object.keys(n.payload).filter((k) => !k.startsWith('Referral.'))).toEqual([]);
    // Through the inbox too.
    const inbox = await t.gql(civil, `{ notifications(first: 500) { kind subjectId minor { id } payload { field value } } }`);
    expect(inbox.errors).toBeUndefined();
    const mine = inbox.data.notifications.filter((n: any) => n.subjectId === id);
    expect(mine.length).toBe(2);
    for (const n of mine) {
      expect(n.minor).toBeNull();
      expect(n.payload.map((p: any) => p.field).filter((f: string) => !f.startsWith('Referral.'))).toEqual([]);
    }
  });

  it('who answers a referral: the receiving department; civil affairs (lead, not a party) and the referrer FORBIDDEN; a department not on it NOT_FOUND', async () => {
    const police = await t.token(PO, { user: 'po-rt20-b' });
    const civil = await t.token(CA, { user: 'ca-rt20-b' });
    const justice = await t.token(JU, { user: 'ju-rt20-b' });
    const child = kid();
    const made = await t.gql(police, REFER, { i: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: ED, need: '学费' } });
    expect(made.errors).toBeUndefined();
    const id = made.data.createReferral.id;
    const accept = (token: string) => t.gql(token, `mutation($id: ID!) { acceptReferral(id: $id) { id } }`, { id });
    expect(errorCodes(await accept(civil))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await accept(police))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await accept(justice))).toEqual(['NOT_FOUND']);
    const decline = (token: string) => t.gql(token, `mutation($id: ID!) { declineReferral(id: $id, reason: "无") { id } }`, { id });
    expect(errorCodes(await decline(civil))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await decline(justice))).toEqual(['NOT_FOUND']);
    const [row] = await t.sql(`SELECT status FROM workflow.referral WHERE id = $1`, [id]);
    expect(row.status).toBe('PENDING');
  });

  it('a referral is addressed to the referrer’s region: the receiving department’s officers whose jurisdiction covers it see it (a grid officer of the street does not), and only they answer', async () => {
    const child = kid();
    const streetCivil = await t.token(CA, { region: STREET, user: 'ca-rt20-c' });
    const made = await t.gql(streetCivil, REFER, { i: { minorId: child.id, type: 'MEDICAL_AID', toDepartment: ED, need: '就医' } });
    expect(made.errors).toBeUndefined();
    const id = made.data.createReferral.id;
    const gridEdu = await t.token(ED, { region: child.grid_code, user: 'ed-rt20-c-grid' });
    const otherEdu = await t.token(ED, { region: OTHER_STREET, user: 'ed-rt20-c-other' });
    const streetEdu = await t.token(ED, { region: STREET, user: 'ed-rt20-c-street' });
    const read = (token: string) => t.gql(token, `query($id: ID!) { referral(id: $id) { id } }`, { id });
    expect((await read(gridEdu)).data.referral).toBeNull();
    expect((await read(otherEdu)).data.referral).toBeNull();
    expect((await read(streetEdu)).data.referral).toEqual({ id });
    const notice = async (token: string) =>
      ((await t.gql(token, `{ notifications(first: 500) { kind subjectId } }`)).data.notifications as any[]).filter((n) => n.subjectId === id).map((n) => n.kind);
    expect(await notice(gridEdu)).toEqual([]);
    expect(await notice(otherEdu)).toEqual([]);
    expect(await notice(streetEdu)).toEqual(['REFERRAL_RECEIVED']);
    expect(errorCodes(await t.gql(gridEdu, `mutation($id: ID!) { acceptReferral(id: $id) { id } }`, { id }))).toEqual(['NOT_FOUND']);
    const ok = await t.gql(streetEdu, `mutation($id: ID!) { acceptReferral(id: $id) { id status } }`, { id });
    expect(ok.data.acceptReferral).toEqual({ id, status: 'ACCEPTED' });
    // The outcome flows back to the referrer at the referral's region (the street).
    expect((await notesOf(id, 'REFERRAL_OUTCOME')).map((n: any) => [n.department, n.region_code, n.minor_id])).toEqual([[CA, STREET, child.id]]);
  });

  it('a report’s escalations hold what the doc lists and no more: VERIFICATION (RECEIVED, verifyDueAt), then HANDLING of a VERIFYING report (handleDueAt only)', async () => {
    const reporter = await t.token(ED, { role: Role.REPORTER, user: 'teacher-rt20-d' });
    const police = await t.token(PO, { user: 'po-rt20-d' });
    const child = kid();
    const f = await t.gql(reporter, FILE, { input: { harmType: 'NEGLECT', observation: '红队二十观察', location: '红队二十地点', regionCode: STREET, urgency: 'HIGH', childIdNumber: child.id_number } }, {});
    expect(f.errors).toBeUndefined();
    const id = f.data.fileMandatoryReport.id;
    const [r] = await t.sql(`SELECT verify_due_at, handle_due_at FROM workflow.mandatory_report WHERE id = $1`, [id]);
    await run(r.verify_due_at.getTime() + 1);
    let esc = await notesOf(id, 'ESCALATION');
    expect(esc.map((e: any) => [e.department, e.region_code, e.minor_id])).toEqual([[CA, DISTRICT, child.id]]);
    expect(esc[0].payload).toEqual({
      'MandatoryReport.harmType': 'NEGLECT',
      'MandatoryReport.urgency': 'HIGH',
      'MandatoryReport.status': 'RECEIVED',
      'MandatoryReport.regionCode': STREET,
      'MandatoryReport.overdue': 'true',
      'MandatoryReport.verifyDueAt': r.verify_due_at.toISOString(),
    });
    expect((await t.gql(police, STEP, { id, to: 'VERIFYING', note: '核查中' })).errors).toBeUndefined();
    await run(r.handle_due_at.getTime());
    expect((await notesOf(id, 'ESCALATION')).length).toBe(1);
    await run(r.handle_due_at.getTime() + 1);
    esc = await notesOf(id, 'ESCALATION');
    expect(esc.length).toBe(2);
    expect(esc[1].payload).toEqual({
      'MandatoryReport.harmType': 'NEGLECT',
      'MandatoryReport.urgency': 'HIGH',
      'MandatoryReport.status': 'VERIFYING',
      'MandatoryReport.regionCode': STREET,
      'MandatoryReport.overdue': 'true',
      'MandatoryReport.handleDueAt': r.handle_due_at.toISOString(),
    });
  });

  it('REASSESSMENT_REQUESTED goes to the civil affairs of the grid the child lives in when the job runs, naming it, with the HANDLED step’s note', async () => {
    const reporter = await t.token(ED, { role: Role.REPORTER, user: 'teacher-rt20-e' });
    const police = await t.token(PO, { user: 'po-rt20-e' });
    const child = kid();
    const f = await t.gql(reporter, FILE, { input: { harmType: 'NEGLECT', observation: '无人照看', location: '社区', regionCode: child.grid_code, urgency: 'NORMAL', childId: child.id } }, {});
    const id = f.data.fileMandatoryReport.id;
    expect((await t.gql(police, STEP, { id, to: 'VERIFYING', note: '核查' })).errors).toBeUndefined();
    expect((await t.gql(police, STEP, { id, to: 'HANDLED', note: '红队二十处置说明' })).errors).toBeUndefined();
    const [newGrid] = await t.sql(`SELECT code FROM registry.region WHERE code LIKE '${OTHER_STREET}%' AND level = (SELECT level FROM registry.region WHERE code = $1) LIMIT 1`, [child.grid_code]);
    const civil = await t.token(CA, { user: 'ca-rt20-e' });
    const moved = await t.gql(civil, `mutation($id: ID!, $g: ID) { updateMinor(id: $id, input: { gridCode: $g }) { id } }`, { id: child.id, g: newGrid.code });
    expect(moved.errors).toBeUndefined();
    await run(Date.now() + 1000);
    const req = await notesOf(id, 'REASSESSMENT_REQUESTED');
    expect(req.map((n: any) => [n.department, n.region_code, n.minor_id])).toEqual([[CA, newGrid.code, child.id]]);
    expect(req[0].payload['ReportTransition.note']).toBe('红队二十处置说明');
    expect(req[0].payload['MandatoryReport.harmType']).toBe('NEGLECT');
    expect(typeof req[0].payload['Minor.name']).toBe('string');
    await run(Date.now() + 2000);
    expect((await notesOf(id, 'REASSESSMENT_REQUESTED')).length).toBe(1);
  });

  it('a mandatory report at a street is routed to police and civil affairs of that street: a grid officer of it neither reads it nor is told', async () => {
    const reporter = await t.token(ED, { role: Role.REPORTER, user: 'teacher-rt20-f' });
    const child = kid();
    const f = await t.gql(reporter, FILE, { input: { harmType: 'NEGLECT', observation: '无人照看', location: '街道', regionCode: STREET, urgency: 'NORMAL', childIdNumber: child.id_number } }, {});
    const id = f.data.fileMandatoryReport.id;
    expect((await notesOf(id, 'MANDATORY_REPORT')).map((n: any) => [n.department, n.region_code, n.minor_id])).toEqual([
      [CA, STREET, child.id],
      [PO, STREET, child.id],
    ]);
    const gridPolice = await t.token(PO, { region: child.grid_code, user: 'po-rt20-f-grid' });
    expect((await t.gql(gridPolice, `query($id: ID!) { mandatoryReport(id: $id) { id } }`, { id })).data.mandatoryReport).toBeNull();
    expect(errorCodes(await t.gql(gridPolice, STEP, { id, to: 'VERIFYING', note: '核查' }))).toEqual(['NOT_FOUND']);
    const streetPolice = await t.token(PO, { region: STREET, user: 'po-rt20-f-street' });
    const seen = await t.gql(streetPolice, `query($id: ID!) { mandatoryReport(id: $id) { id minor { id } } }`, { id });
    expect(seen.data.mandatoryReport).toEqual({ id, minor: { id: child.id } });
  });

  it('a webhook body is exactly id, kind, department, regionCode, minorId, subjectId, createdAt, payload, signed over "<timestamp>.<body>", x-hub-delivery the delivery id', async () => {
    const rx = await receiver();
    try {
      const streetCivil = await t.token(CA, { region: STREET, user: 'ca-rt20-g' });
      const reg = await t.gql(streetCivil, `mutation($u: String!) { registerWebhook(url: $u) { webhook { id } secret } }`, { u: rx.url });
      expect(reg.errors).toBeUndefined();
      const { webhook: { id: webhookId }, secret } = reg.data.registerWebhook;
      const reporter = await t.token(ED, { role: Role.REPORTER, user: 'teacher-rt20-g' });
      const child = kid();
      const f = await t.gql(reporter, FILE, { input: { harmType: 'NEGLECT', observation: '无人照看', location: '街道', regionCode: child.grid_code, urgency: 'NORMAL', childIdNumber: child.id_number } }, {});
      const reportId = f.data.fileMandatoryReport.id;
      const [note] = await t.sql(`SELECT id, created_at FROM workflow.notification WHERE subject_id = $1 AND department = 'CIVIL_AFFAIRS'`, [reportId]);
      const [delivery] = await t.sql(`SELECT id FROM workflow.webhook_delivery WHERE webhook_id = $1 AND notification_id = $2`, [webhookId, note.id]);
      expect(delivery).toBeDefined();
      const now = Date.now() + 1000;
      await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(now), { audit: t.hub.audit, policy });
      const got = rx.got.find((g) => JSON.parse(g.body).id === note.id)!;
      expect(got).toBeDefined();
      const body = JSON.parse(got.body);
      expect(Object.keys(body).sort()).toEqual(['createdAt', 'department', 'id', 'kind', 'minorId', 'payload', 'regionCode', 'subjectId']);
      expect([body.kind, body.department, body.regionCode, body.minorId, body.subjectId]).toEqual(['MANDATORY_REPORT', CA, child.grid_code, child.id, reportId]);
      expect(new Date(body.createdAt).getTime()).toBe(note.created_at.getTime());
      const ts = String(got.headers['x-hub-timestamp']);
      expect(ts).toBe(String(Math.floor(now / 1000)));
      expect(got.headers['x-hub-signature']).toBe(`sha256=${createHmac('sha256', secret).update(`${ts}.${got.body}`).digest('hex')}`);
      expect(got.headers['x-hub-delivery']).toBe(delivery.id);
      // The body's payload is the inbox's.
      const inbox = await t.gql(streetCivil, `{ notifications(first: 500) { id payload { field value } } }`);
      const served = inbox.data.notifications.find((n: any) => n.id === note.id);
      expect(Object.fromEntries(served.payload.map((p: any) => [p.field, p.value]))).toEqual(body.payload);
    } finally {
      await closeReceiver(rx.server);
    }
  });
});

describe('workflows.md claims (redteam20, in-process: deadlines and webhook spellings)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  it('HUB_REPORT_DEADLINES defaults: URGENT 60/1440, HIGH 240/4320, NORMAL 1440/10080 minutes from receipt; a referral 72 h to answer and 30 days from acceptance to complete', async () => {
    const reporter = await t.token(ED, { role: Role.REPORTER, user: 'teacher-rt20-h' });
    for (const [urgency, v, h] of [['URGENT', 60, 1440], ['HIGH', 240, 4320], ['NORMAL', 1440, 10080]] as const) {
      const f = await t.gql(reporter, FILE, { input: { harmType: 'NEGLECT', observation: '观察', location: '街道', regionCode: STREET, urgency } }, {});
      expect(f.errors).toBeUndefined();
      const [r] = await t.sql(`SELECT received_at, verify_due_at, handle_due_at FROM workflow.mandatory_report WHERE id = $1`, [f.data.fileMandatoryReport.id]);
      expect([(r.verify_due_at - r.received_at) / 60_000, (r.handle_due_at - r.received_at) / 60_000]).toEqual([v, h]);
    }
    const civil = await t.token(CA, { user: 'ca-rt20-h' });
    const [child] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${OTHER_STREET}%' AND registry.is_minor(birth_date, now() + interval '60 days') ORDER BY id LIMIT 1`);
    const made = await t.gql(civil, REFER, { i: { minorId: child.id, type: 'MEDICAL_AID', toDepartment: PO, need: '就医' } });
    const id = made.data.createReferral.id;
    const accepted = await t.gql(await t.token(PO, { user: 'po-rt20-h' }), `mutation($id: ID!) { acceptReferral(id: $id) { answeredAt completeDueAt createdAt answerDueAt } }`, { id });
    expect(accepted.errors).toBeUndefined();
    const a = accepted.data.acceptReferral;
    expect(Date.parse(a.answerDueAt) - Date.parse(a.createdAt)).toBe(72 * 3_600_000);
    expect(Date.parse(a.completeDueAt) - Date.parse(a.answeredAt)).toBe(30 * DAY);
  });

  it('a URL already an active webhook of the department in the region is refused however it is spelt; another query string is another destination', async () => {
    const token = await t.token(PO, { region: STREET, user: 'po-rt20-i' });
    const reg = (u: string) => t.gql(token, `mutation($u: String!) { registerWebhook(url: $u) { webhook { id } } }`, { u });
    const first = await reg('http://127.0.0.1:9/rt20/hook');
    expect(first.errors).toBeUndefined();
    for (const u of ['HTTP://127.0.0.1:9/rt20/hook', 'http://127.0.0.1:9//rt20//hook/', 'http://127.0.0.1:9/rt20/%68ook', 'http://127.0.0.1:9/%72t20/hoo%6B', 'http://127.0.0.1.:9/rt20/hook', 'http://127.0.0.1:9/rt20/hook?']) {
      const r = await reg(u);
      expect([u, errorCodes(r), r.errors?.[0]?.extensions?.field]).toEqual([u, ['BAD_USER_INPUT'], 'url']);
    }
    expect((await reg('http://127.0.0.1:9/rt20/hook?x=1')).errors).toBeUndefined();
    // Another region of the same department: its own place.
    expect((await t.gql(await t.token(PO, { region: OTHER_STREET, user: 'po-rt20-i2' }), `mutation($u: String!) { registerWebhook(url: $u) { webhook { id } } }`, { u: 'http://127.0.0.1:9/rt20/hook' })).errors).toBeUndefined();
  });
  it('odd inputs are answered with typed errors, never an internal one: nil UUIDs, destinations the table refuses, a future observation', async () => {
    const NIL = '00000000-0000-0000-0000-000000000000';
    const civil = await t.token(CA, { user: 'ca-rt20-n' });
    const police = await t.token(PO, { user: 'po-rt20-n' });
    const reporter = await t.token(ED, { role: Role.REPORTER, user: 'teacher-rt20-n' });
    const cases: [string, string, string, Record<string, unknown>, string[], string?][] = [
      ['referral nil child', civil, REFER, { i: { minorId: NIL, type: 'MEDICAL_AID', toDepartment: ED, need: '就医' } }, ['NOT_FOUND']],
      ['step nil report', police, STEP, { id: NIL, to: 'VERIFYING', note: '核查' }, ['NOT_FOUND']],
      ['ack nil', civil, `mutation($id: ID!) { acknowledge(id: $id) { id } }`, { id: NIL }, ['NOT_FOUND']],
      ['deactivate nil', civil, `mutation($id: ID!) { deactivateWebhook(id: $id) { id } }`, { id: NIL }, ['NOT_FOUND']],
      ['revoke nil', police, `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "撤销") }`, { id: NIL }, ['NOT_FOUND']],
      ['report nil child', reporter, FILE, { input: { harmType: 'NEGLECT', observation: '观察', location: '街道', regionCode: STREET, urgency: 'NORMAL', childId: NIL } }, []],
      ['report future', reporter, FILE, { input: { harmType: 'NEGLECT', observation: '观察', location: '街道', regionCode: STREET, urgency: 'NORMAL', observedAt: new Date(Date.now() + 5 * 60_000).toISOString() } }, ['BAD_USER_INPUT'], 'observedAt'],
      ['report unknown region', reporter, FILE, { input: { harmType: 'NEGLECT', observation: '观察', location: '街道', regionCode: '330199', urgency: 'NORMAL' } }, ['BAD_USER_INPUT'], 'regionCode'],
    ];
    for (const url of ['http://[::ffff:169.254.169.254]/x', 'http://[64:ff9b::a9fe:a9fe]/x', 'http://0.0.0.0/x', 'http://[::]/x', 'http://224.0.0.1/x', 'http://198.18.0.1/x', 'http://[2001:db8::1]/x', 'http://[fec0::1]/x', 'http://[2002:a9fe:a9fe::1]/x', 'http://[64:ff9b:1::1]/x', 'http://user@127.0.0.1/x', 'http://127.0.0.1/x#', 'ftp://127.0.0.1/x', 'http://255.255.255.255/x']) {
      cases.push([`register ${url}`, police, `mutation($u: String!) { registerWebhook(url: $u) { webhook { id } } }`, { u: url }, ['BAD_USER_INPUT'], 'url']);
    }
    const problems: string[] = [];
    for (const [name, token, q, v, codes, field] of cases) {
      const r = await t.gql(token, q, v, name.startsWith('report') || name.startsWith('register') || name.startsWith('deactivate') || name.startsWith('revoke') ? {} : undefined);
      const got = [errorCodes(r), r.errors?.[0]?.extensions?.field];
      if (JSON.stringify(got[0]) !== JSON.stringify(codes) || (field && got[1] !== field)) problems.push(`${name}: ${JSON.stringify(r.errors ?? r.data)}`);
    }
    expect(problems).toEqual([]);
  });

  it('a mandatory report’s observation time may be a reporter’s device a minute ahead, not more: 30 s ahead is taken, 2 minutes refused on observedAt', async () => {
    const reporter = await t.token(ED, { role: Role.REPORTER, user: 'teacher-rt20-o' });
    const file = (ms: number, observation: string) =>
      t.gql(reporter, FILE, { input: { harmType: 'NEGLECT', observation, location: '街道', regionCode: STREET, urgency: 'NORMAL', observedAt: new Date(Date.now() + ms).toISOString() } }, {});
    const taken = await file(30_000, '红队二十未来观察甲');
    const refused = await file(120_000, '红队二十未来观察乙');
    const stored = await t.sql(`SELECT observation FROM workflow.mandatory_report WHERE observation LIKE '红队二十未来观察%'`);
    expect([errorCodes(taken), errorCodes(refused), refused.errors?.[0]?.extensions?.field, stored.map((x: any) => x.observation)]).toEqual([[], ['BAD_USER_INPUT'], 'observedAt', ['红队二十未来观察甲']]);
  });

  it('a bar ending today in China answers RESTRICTED today and CLEAR two days on, when barredPersons still lists it (not revoked) with its end date', async () => {
    const keeper = await t.token(PO, { user: 'po-rt20-q' });
    const employer = await t.token(ED, { role: Role.EMPLOYER, user: 'employer-rt20-q' });
    const today = chinaDay(new Date());
    const idNumber = buildIdNumber('330102', '1980-03-04', 917);
    const add = await t.gql(keeper, `mutation($i: BarredPersonInput!) { addBarredPerson(input: $i) { id restrictedUntil } }`, { i: { idNumber, name: '钱某', offence: 'ABUSE', judgementReference: '(2025)浙0102刑初2020号', restrictedUntil: today } }, {});
    expect(add.errors).toBeUndefined();
    const barId = add.data.addBarredPerson.id;
    const check = async () => (await t.gql(employer, `mutation($i: EmploymentCheckInput!) { employmentCheck(input: $i) { answer } }`, { i: { idNumber, name: '钱某', authorizationReference: 'RT20-Q' } }, {})).data.employmentCheck.answer;
    expect(await check()).toBe('RESTRICTED');
    try {
      t.config.workflow.clockOffsetMs = 2 * DAY;
      expect(await check()).toBe('CLEAR');
      const listed = await t.gql(keeper, `{ barredPersons(first: 500) { id restrictedUntil revokedAt } }`, undefined, {});
      expect(listed.data.barredPersons.filter((b: any) => b.id === barId)).toEqual([{ id: barId, restrictedUntil: today, revokedAt: null }]);
    } finally {
      t.config.workflow.clockOffsetMs = 0;
    }
  });

  it('HUB_WEBHOOK_MAX_PER_REGION active webhooks per department and region, then LIMIT_EXCEEDED; a deactivated webhook frees its place and its URL', async () => {
    const max = t.config.workflow.webhook.maxPerRegion;
    t.config.workflow.webhook.maxPerRegion = 2;
    try {
      const token = await t.token(JU, { region: STREET, user: 'ju-rt20-m' });
      const reg = (u: string) => t.gql(token, `mutation($u: String!) { registerWebhook(url: $u) { webhook { id } } }`, { u });
      const a = await reg('http://127.0.0.1:9/rt20m/a');
      const b = await reg('http://127.0.0.1:9/rt20m/b');
      expect([a.errors, b.errors]).toEqual([undefined, undefined]);
      expect(errorCodes(await reg('http://127.0.0.1:9/rt20m/c'))).toEqual(['LIMIT_EXCEEDED']);
      // Another department in the same region, and the same department one level up, have places of their own.
      expect((await t.gql(await t.token(Department.WOMENS_FEDERATION, { region: STREET, user: 'wf-rt20-m' }), `mutation { registerWebhook(url: "http://127.0.0.1:9/rt20m/c") { webhook { id } } }`)).errors).toBeUndefined();
      expect((await t.gql(await t.token(JU, { region: DISTRICT, user: 'ju-rt20-m2' }), `mutation { registerWebhook(url: "http://127.0.0.1:9/rt20m/c") { webhook { id } } }`)).errors).toBeUndefined();
      const off = await t.gql(token, `mutation($id: ID!) { deactivateWebhook(id: $id) { id active } }`, { id: a.data.registerWebhook.webhook.id });
      expect(off.data.deactivateWebhook.active).toBe(false);
      expect((await reg('http://127.0.0.1:9/rt20m/a')).errors).toBeUndefined();
      expect(errorCodes(await reg('http://127.0.0.1:9/rt20m/c'))).toEqual(['LIMIT_EXCEEDED']);
    } finally {
      t.config.workflow.webhook.maxPerRegion = max;
    }
  });
});

describe('workflows.md claims (redteam20, distributed)', () => {
  let t: TestHub;
  let kids: { id: string; id_number: string; grid_code: string }[];
  let next = 0;
  const kid = () => kids[next++];
  beforeAll(async () => {
    t = await startDistributedTestHub();
    kids = await t.sql(
      `SELECT id, trim(id_number) AS id_number, grid_code FROM registry.minor
        WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now() + interval '400 days') ORDER BY id DESC LIMIT 20`,
    );
  });
  afterAll(() => t.stop());
  const run = (at: number | Date) => runEscalations(t.hub.db.ds, t.config, policy, new Date(at));
  const notesOf = (subject: string, kind: string) =>
    t.sql(`SELECT department, region_code, minor_id, payload FROM workflow.notification WHERE subject_id = $1 AND kind = $2 ORDER BY created_at, department`, [subject, kind]);

  it('a referral whose child has turned 18 is still answered, naming no child, its outcome without Minor.*', async () => {
    const civil = await t.token(CA, { user: 'ca-rt20-da' });
    const edu = await t.token(ED, { user: 'ed-rt20-da' });
    const child = kid();
    const made = await t.gql(civil, REFER, { i: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: ED, need: '学费资助' } });
    expect(made.errors).toBeUndefined();
    const id = made.data.createReferral.id;
    // The child is 18 now (its birth date as registered, corrected).
    await t.sql(`UPDATE registry.minor SET birth_date = (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '18 years 3 days' WHERE id = $1`, [child.id]);
    const acc = await t.gql(edu, `mutation($id: ID!) { acceptReferral(id: $id) { id status minor { id } } }`, { id });
    expect(acc.errors).toBeUndefined();
    expect(acc.data.acceptReferral).toEqual({ id, status: 'ACCEPTED', minor: null });
    const seen = await t.gql(civil, `query($id: ID!) { referral(id: $id) { id minor { id } } }`, { id });
    expect(seen.data.referral).toEqual({ id, minor: null });
    const out = await notesOf(id, 'REFERRAL_OUTCOME');
    expect(out.map((n: any) => [n.department, n.minor_id])).toEqual([[CA, null]]);
    expect(Object.keys(out[0].payload).filter((k) => !k.startsWith('Referral.'))).toEqual([]);
    expect(errorCodes(await t.gql(civil, REFER, { i: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: ED, need: '学费资助' } }))).toEqual(['NOT_FOUND']);
  });

  it('who answers a referral and who takes each report step, as the tables say: the receiver answers (lead and referrer FORBIDDEN, others NOT_FOUND); UNFOUNDED is police’s, CLOSED civil affairs’', async () => {
    const police = await t.token(PO, { user: 'po-rt20-dc' });
    const civil = await t.token(CA, { user: 'ca-rt20-dc' });
    const justice = await t.token(JU, { user: 'ju-rt20-dc' });
    const child = kid();
    const id = (await t.gql(police, REFER, { i: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: ED, need: '学费' } })).data.createReferral.id;
    const accept = (token: string) => t.gql(token, `mutation($id: ID!) { acceptReferral(id: $id) { id status } }`, { id });
    expect(errorCodes(await accept(civil))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await accept(police))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await accept(justice))).toEqual(['NOT_FOUND']);
    expect((await accept(await t.token(ED, { user: 'ed-rt20-dc' }))).data.acceptReferral).toEqual({ id, status: 'ACCEPTED' });

    const reporter = await t.token(ED, { role: Role.REPORTER, user: 'teacher-rt20-dc' });
    const file = async () => (await t.gql(reporter, FILE, { input: { harmType: 'NEGLECT', observation: '观察', location: '街道', regionCode: STREET, urgency: 'NORMAL' } }, {})).data.fileMandatoryReport.id as string;
    const step = (token: string, rid: string, to: string) => t.gql(token, STEP, { id: rid, to, note: '记录' });
    const a = await file();
    expect(errorCodes(await step(civil, a, 'HANDLED'))).toEqual(['BAD_USER_INPUT']);
    expect((await step(civil, a, 'VERIFYING')).data.transitionReport.status).toBe('VERIFYING');
    expect(errorCodes(await step(civil, a, 'UNFOUNDED'))).toEqual(['FORBIDDEN']);
    expect((await step(police, a, 'HANDLED')).data.transitionReport.status).toBe('HANDLED');
    expect(errorCodes(await step(police, a, 'CLOSED'))).toEqual(['FORBIDDEN']);
    expect((await step(civil, a, 'CLOSED')).data.transitionReport.status).toBe('CLOSED');
    const b = await file();
    expect((await step(police, b, 'VERIFYING')).errors).toBeUndefined();
    expect((await step(police, b, 'UNFOUNDED')).data.transitionReport.status).toBe('UNFOUNDED');
    const tr = await t.gql(civil, `query($id: ID!) { mandatoryReport(id: $id) { transitions { fromStatus toStatus department } } }`, { id: a });
    expect(tr.data.mandatoryReport.transitions).toEqual([
      { fromStatus: 'RECEIVED', toStatus: 'VERIFYING', department: CA },
      { fromStatus: 'VERIFYING', toStatus: 'HANDLED', department: PO },
      { fromStatus: 'HANDLED', toStatus: 'CLOSED', department: CA },
    ]);
  });

  it('a report at a street: told to that street’s police and civil affairs, hidden from a grid officer; its escalation to the district holds only what the doc lists', async () => {
    const reporter = await t.token(ED, { role: Role.REPORTER, user: 'teacher-rt20-db' });
    const child = kid();
    const f = await t.gql(reporter, FILE, { input: { harmType: 'NEGLECT', observation: '红队二十观察', location: '红队二十地点', regionCode: STREET, urgency: 'URGENT', childIdNumber: child.id_number } }, {});
    expect(f.errors).toBeUndefined();
    const id = f.data.fileMandatoryReport.id;
    expect((await notesOf(id, 'MANDATORY_REPORT')).map((n: any) => [n.department, n.region_code, n.minor_id])).toEqual([
      [CA, STREET, child.id],
      [PO, STREET, child.id],
    ]);
    const gridPolice = await t.token(PO, { region: child.grid_code, user: 'po-rt20-db-grid' });
    expect((await t.gql(gridPolice, `query($id: ID!) { mandatoryReport(id: $id) { id } }`, { id })).data.mandatoryReport).toBeNull();
    const [r] = await t.sql(`SELECT verify_due_at, handle_due_at FROM workflow.mandatory_report WHERE id = $1`, [id]);
    await run(r.handle_due_at.getTime() + 1);
    const esc = await notesOf(id, 'ESCALATION');
    expect(esc.map((e: any) => [e.department, e.region_code, e.minor_id])).toEqual([[CA, DISTRICT, child.id]]);
    expect(Object.keys(esc[0].payload).sort()).toEqual([
      'MandatoryReport.handleDueAt', 'MandatoryReport.harmType', 'MandatoryReport.overdue', 'MandatoryReport.regionCode', 'MandatoryReport.status', 'MandatoryReport.urgency', 'MandatoryReport.verifyDueAt',
    ]);
    // Read from the district's inbox: the escalation names the child, its payload as stored.
    const district = await t.token(CA, { region: DISTRICT, user: 'ca-rt20-db' });
    const inbox = await t.gql(district, `{ notifications(first: 500, unacknowledged: true) { kind subjectId minor { id } payload { field } } }`);
    expect(inbox.errors).toBeUndefined();
    const mine = inbox.data.notifications.filter((n: any) => n.subjectId === id && n.kind === 'ESCALATION');
    expect(mine.map((n: any) => n.minor?.id)).toEqual([child.id]);
    expect(mine[0].payload.length).toBe(7);
  });
});

describe('workflows.md claims (redteam20, in-process: escalations after a move, webhooks at a community)', () => {
  let t: TestHub;
  let kids: { id: string; id_number: string; grid_code: string }[];
  let next = 0;
  const kid = () => kids[next++];
  beforeAll(async () => {
    t = await startTestHub();
    kids = await t.sql(
      `SELECT id, trim(id_number) AS id_number, grid_code FROM registry.minor
        WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now() + interval '400 days') ORDER BY id DESC LIMIT 20`,
    );
  });
  afterAll(() => t.stop());
  const run = (at: number | Date) => runEscalations(t.hub.db.ds, t.config, policy, new Date(at));
  const notesOf = (subject: string, kind: string) =>
    t.sql(`SELECT id, department, region_code, minor_id, payload FROM workflow.notification WHERE subject_id = $1 AND kind = $2 ORDER BY created_at, department`, [subject, kind]);
  const gridElsewhere = async () => (await t.sql(`SELECT grid_code AS code FROM registry.minor WHERE grid_code LIKE '${OTHER_STREET}%' LIMIT 1`))[0].code as string;
  const move = async (id: string, g: string) => {
    const r = await t.gql(await t.token(CA, { user: 'ca-rt20-mover' }), `mutation($id: ID!, $g: ID) { updateMinor(id: $id, input: { gridCode: $g }) { id } }`, { id, g });
    expect(r.errors).toBeUndefined();
  };

  it('a referral addressed to a street whose child moved to another street escalates to the district, which still covers the child: named; one addressed to a community, to the street, which no longer does: not named', async () => {
    const child = kid();
    const community = (await t.sql(`SELECT parent_code FROM registry.region WHERE code = $1`, [child.grid_code]))[0].parent_code as string;
    const streetCivil = await t.token(CA, { region: STREET, user: 'ca-rt20-j1' });
    const commCivil = await t.token(CA, { region: community, user: 'ca-rt20-j2' });
    const a = (await t.gql(streetCivil, REFER, { i: { minorId: child.id, type: 'MEDICAL_AID', toDepartment: ED, need: '就医' } })).data.createReferral.id;
    const b = (await t.gql(commCivil, REFER, { i: { minorId: child.id, type: 'MEDICAL_AID', toDepartment: ED, need: '就医' } })).data.createReferral.id;
    await move(child.id, await gridElsewhere());
    await run(Date.now() + 73 * 3_600_000);
    expect((await notesOf(a, 'ESCALATION')).map((n: any) => [n.region_code, n.minor_id])).toEqual([[DISTRICT, child.id]]);
    const eb = await notesOf(b, 'ESCALATION');
    expect(eb.map((n: any) => [n.region_code, n.minor_id])).toEqual([[STREET, null]]);
    expect(Object.keys(eb[0].payload).filter((k) => !k.startsWith('Referral.'))).toEqual([]);
    // The street's inbox: the escalation names no child; the referral reads minor null there.
    const inbox = await t.gql(streetCivil, `{ notifications(first: 500) { kind subjectId minor { id } } }`);
    expect(inbox.data.notifications.filter((n: any) => n.subjectId === b).map((n: any) => [n.kind, n.minor])).toEqual([['ESCALATION', null]]);
    const seen = await t.gql(streetCivil, `query($id: ID!) { referral(id: $id) { id minor { id } escalationRegion } }`, { id: b });
    expect(seen.data.referral).toEqual({ id: b, minor: null, escalationRegion: STREET });
  });

  it('a CHILD_RED unacknowledged whose child moved to another street: its escalation to the community names no child and carries only Notification.*', async () => {
    const child = kid();
    const civil = await t.token(CA, { user: 'ca-rt20-k' });
    const a = await t.gql(civil, `mutation($m: ID!) { recordAssessment(minorId: $m, input: { level: RED, reasons: "红队二十危险" }) { id } }`, { m: child.id });
    expect(a.errors).toBeUndefined();
    const reds = await t.sql(`SELECT id FROM workflow.notification WHERE kind = 'CHILD_RED' AND subject_id = $1`, [a.data.recordAssessment.id]);
    expect(reds.length).toBe(4);
    await move(child.id, await gridElsewhere());
    await run(Date.now() + 3 * 3_600_000);
    for (const r of reds) {
      const esc = await notesOf(r.id, 'ESCALATION');
      expect(esc.map((e: any) => e.minor_id)).toEqual([null]);
      expect(Object.keys(esc[0].payload).sort()).toEqual(['Notification.createdAt', 'Notification.department', 'Notification.kind']);
    }
  });

  it('a webhook registered by a community officer is sent its department’s notifications of that community only (a street-level report is not its), and a delivery after the child left the community names no child', async () => {
    const rx = await receiver();
    try {
      const child = kid();
      const community = (await t.sql(`SELECT parent_code FROM registry.region WHERE code = $1`, [child.grid_code]))[0].parent_code as string;
      const commPolice = await t.token(PO, { region: community, user: 'po-rt20-l' });
      const reg = await t.gql(commPolice, `mutation($u: String!) { registerWebhook(url: $u) { webhook { id regionCode } } }`, { u: rx.url });
      expect(reg.errors).toBeUndefined();
      expect(reg.data.registerWebhook.webhook.regionCode).toBe(community);
      const hook = reg.data.registerWebhook.webhook.id;
      const reporter = await t.token(ED, { role: Role.REPORTER, user: 'teacher-rt20-l' });
      const atStreet = (await t.gql(reporter, FILE, { input: { harmType: 'NEGLECT', observation: '观察', location: '街道', regionCode: STREET, urgency: 'NORMAL', childIdNumber: child.id_number } }, {})).data.fileMandatoryReport.id;
      const atGrid = (await t.gql(reporter, FILE, { input: { harmType: 'NEGLECT', observation: '观察', location: '网格', regionCode: child.grid_code, urgency: 'NORMAL', childIdNumber: child.id_number } }, {})).data.fileMandatoryReport.id;
      const queued = await t.sql(`SELECT n.subject_id FROM workflow.webhook_delivery d JOIN workflow.notification n ON n.id = d.notification_id WHERE d.webhook_id = $1`, [hook]);
      expect(queued.map((q: any) => q.subject_id)).toEqual([atGrid]);
      await move(child.id, await gridElsewhere());
      const now = Date.now() + 1000;
      await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(now), { audit: t.hub.audit, policy });
      expect(rx.got.length).toBe(1);
      const body = JSON.parse(rx.got[0].body);
      expect([body.subjectId, body.minorId]).toEqual([atGrid, null]);
      expect(Object.keys(body.payload).filter((k: string) => !k.startsWith('MandatoryReport.'))).toEqual([]);
      void atStreet;
    } finally {
      await closeReceiver(rx.server);
    }
  });
});
