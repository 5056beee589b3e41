import { Department, Role } from '../src/auth/principal';
import { yearsBefore } from '../src/common/dates';
import { buildIdNumber } from '../src/common/id-number';
import { buildPolicy } from '../src/server/bootstrap';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, poolSize, startTestHub, TestHub } from './support/test-hub';
import { expectAfterFilteredOut, expectAfterRefusedAlike, expectPagedToItsEnd, expectStatementsPerPageFlat, WorkflowList } from './support/workflow-pages';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU } = Department;
const MIN = 60_000;

const FILE = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id status receivedAt } }`;
const STEP = `mutation($id: ID!, $to: ReportStatus!, $note: String!) { transitionReport(id: $id, to: $to, note: $note) { id status transitions { fromStatus toStatus officerId department note at } } }`;
const OVERDUE = `{ overdueReports { id status overdue } }`;

/** 强制报告: filing, routing, the state machine and who may take each step, deadlines. */
describe('workflow: mandatory reports', () => {
  let t: TestHub;
  let child: { id: string; id_number: string; grid_code: string; name: string };
  let reporter: string;
  let police: string;
  let civil: string;

  beforeAll(async () => {
    // Deadlines: URGENT verify within 60 min, handle within 1 day; NORMAL 1 day / 7 days (the defaults, set here to be explicit).
    t = await startTestHub({ env: { HUB_REPORT_DEADLINES: 'URGENT=60/1440,HIGH=240/4320,NORMAL=1440/10080' } });
    [child] = await t.sql(`SELECT id, trim(id_number) AS id_number, grid_code, name FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
    reporter = await t.token(ED, { role: Role.REPORTER, user: 'teacher-wang' });
    police = await t.token(PO, { user: 'officer-li' });
    civil = await t.token(CA, { user: 'director-zhao' });
  });
  afterAll(() => t.stop());
  afterEach(() => {
    t.config.workflow.clockOffsetMs = 0;
  });

  const input = (over: Record<string, unknown> = {}) => ({
    harmType: 'PHYSICAL_ABUSE',
    observation: '手臂多处淤青，自述被家长殴打',
    location: '清波小学三年级教室',
    regionCode: child.grid_code,
    urgency: 'URGENT',
    reporterUnit: '清波小学',
    childIdNumber: child.id_number,
    ...over,
  });

  async function file(over: Record<string, unknown> = {}, token = reporter): Promise<string> {
    const r = await t.gql(token, FILE, { input: input(over) }, {});
    expect(r.errors).toBeUndefined();
    return r.data.fileMandatoryReport.id;
  }

  it('files a report without a purpose, links the known child, sets deadlines by urgency and tells police and civil affairs at once', async () => {
    const r = await post(t, reporter, { query: FILE, variables: { input: input() } }, {});
    expect(r.json.errors).toBeUndefined();
    const { id, status } = r.json.data.fileMandatoryReport;
    expect(status).toBe('RECEIVED');
    const [row] = await t.sql(`SELECT minor_id, reporter_id, received_at, verify_due_at, handle_due_at FROM workflow.mandatory_report WHERE id = $1`, [id]);
    expect(row.minor_id).toBe(child.id);
    expect(row.reporter_id).toBe('teacher-wang');
    expect(row.verify_due_at.getTime() - row.received_at.getTime()).toBe(60 * MIN);
    expect(row.handle_due_at.getTime() - row.received_at.getTime()).toBe(1440 * MIN);
    const told = await t.sql(`SELECT department, region_code, payload FROM workflow.notification WHERE subject_id = $1 ORDER BY department`, [id]);
    expect(told.map((n) => n.department)).toEqual([CA, PO]);
    for (const n of told) {
      expect(n.region_code).toBe(child.grid_code);
      expect(n.payload).toMatchObject({ 'MandatoryReport.harmType': 'PHYSICAL_ABUSE', 'MandatoryReport.urgency': 'URGENT', 'Minor.name': child.name });
    }
    const e = await eventOf(t, r.requestId);
    expect(e).toMatchObject({ userId: 'teacher-wang', role: 'REPORTER', outcome: 'SUCCESS' });
    expect(e.changes).toEqual([expect.objectContaining({ mutation: 'fileMandatoryReport', id, minorId: child.id })]);
    expect(JSON.stringify(e)).not.toContain(child.id_number);
  });

  it('tells the reporter nothing about whether the child was found, and keeps unknown children by description', async () => {
    const unknown = await t.gql(reporter, FILE, { input: input({ childIdNumber: null, childId: '00000000-0000-4000-8000-000000000000', childDescription: '约10岁男孩' }) }, {});
    expect(unknown.errors).toBeUndefined();
    expect(Object.keys(unknown.data.fileMandatoryReport).sort()).toEqual(['id', 'receivedAt', 'status']);
    const [row] = await t.sql(`SELECT minor_id, child_description FROM workflow.mandatory_report WHERE id = $1`, [unknown.data.fileMandatoryReport.id]);
    expect(row).toEqual({ minor_id: null, child_description: '约10岁男孩' });
  });

  it('files a registered number with the same statements as an unknown one: the filing’s time tells the reporter nothing', async () => {
    const statementsFor = async (childIdNumber: string) => {
      const before = t.hub.db.statements.count;
      expect((await t.gql(reporter, FILE, { input: input({ childIdNumber }) }, {})).errors).toBeUndefined();
      return t.hub.db.statements.count - before;
    };
    const unknown = buildIdNumber('110105', '2015-01-01', 2);
    expect(await t.sql(`SELECT 1 FROM registry.minor WHERE id_number = $1`, [unknown])).toEqual([]);
    await statementsFor(unknown); // warm-up: the first request also loads the region directory
    expect(await statementsFor(child.id_number)).toBe(await statementsFor(unknown));
  });

  it('gives the child’s link only to readers whose jurisdiction covers the child: naming a child of another street teaches the filer nothing', async () => {
    // An officer of the next street files about a place there, naming this street's child: the
    // report, its notification and the officer's inbox read exactly as for an unregistered child.
    const NEXT = '330102002';
    const officer = await t.token(PO, { region: NEXT, user: 'officer-next-street' });
    const [place] = await t.sql(`SELECT grid_code FROM registry.minor WHERE grid_code LIKE '${NEXT}%' LIMIT 1`);
    const probe = async (naming: Record<string, unknown>) => {
      const filed = await t.gql(officer, FILE, { input: input({ regionCode: place.grid_code, childIdNumber: null, ...naming }) });
      expect(filed.errors).toBeUndefined();
      const id = filed.data.fileMandatoryReport.id;
      const report = await t.gql(officer, `query($id: ID!) { mandatoryReport(id: $id) { minor { id } } }`, { id });
      const inbox = await t.gql(officer, `{ notifications(first: 500) { subjectId minor { id } payload { field value } } }`);
      expect([report.errors, inbox.errors]).toEqual([undefined, undefined]);
      const told = inbox.data.notifications.find((n: { subjectId: string }) => n.subjectId === id);
      return { id, seen: { report: report.data.mandatoryReport, minor: told.minor, fields: told.payload.map((p: { field: string }) => p.field) } };
    };
    const unregistered = await probe({ childIdNumber: buildIdNumber('110105', '2015-01-01', 1) });
    expect(await t.sql(`SELECT 1 FROM registry.minor WHERE id_number = $1`, [buildIdNumber('110105', '2015-01-01', 1)])).toEqual([]);
    expect(unregistered.seen).toEqual({ report: { minor: null }, minor: null, fields: expect.not.arrayContaining(['Minor.name']) });
    const byIdNumber = await probe({ childIdNumber: child.id_number });
    const byId = await probe({ childId: child.id });
    expect(byIdNumber.seen).toEqual(unregistered.seen);
    expect(byId.seen).toEqual(unregistered.seen);
    const webhookBodies = await t.sql(`SELECT minor_id, payload FROM workflow.notification WHERE subject_id = ANY($1)`, [[byIdNumber.id, byId.id]]);
    expect(webhookBodies.map((n) => [n.minor_id, JSON.stringify(n.payload).includes(child.name)])).toEqual(webhookBodies.map(() => [null, false]));
    // Nor do the auditors of the filer's street learn it from the filing: its event names no child of
    // another street (a reporter of the next street files; its street's auditor looks for the child).
    const nextReporter = await t.token(ED, { role: Role.REPORTER, region: NEXT, user: 'teacher-next-street' });
    await file({ regionCode: place.grid_code }, nextReporter);
    const auditor = await t.token(CA, { role: Role.AUDITOR, region: NEXT });
    const history = await t.gql(auditor, `query($id: ID!) { minorAccessHistory(minorId: $id) { userId } }`, { id: child.id }, {});
    expect(history.errors).toBeUndefined();
    expect(history.data.minorAccessHistory.filter((h: { userId: string }) => h.userId === 'teacher-next-street')).toEqual([]);
    // The link itself is kept, and a reader covering both streets (the district) sees it.
    const links = await t.sql(`SELECT minor_id FROM workflow.mandatory_report WHERE id = ANY($1)`, [[byIdNumber.id, byId.id]]);
    expect(links.map((r) => r.minor_id)).toEqual([child.id, child.id]);
    const district = await t.gql(police, `query($id: ID!) { mandatoryReport(id: $id) { minor { id } } }`, { id: byId.id });
    expect(district.data.mandatoryReport.minor).toEqual({ id: child.id });
    // A report made in the child's own grid links the child on the notification too.
    const home = await file();
    const inbox = await t.gql(police, `{ notifications(first: 500) { subjectId minor { id } } }`);
    expect(inbox.data.notifications.find((n: { subjectId: string }) => n.subjectId === home).minor).toEqual({ id: child.id });
  });

  it('names the linked child in a reader’s audit event only when the reader’s jurisdiction covers the child', async () => {
    // A report made in the next street about this street's child: the next street's officer reads
    // and steps it as a report about no registered child, and so do their street's auditors.
    const NEXT = '330102002';
    const [place] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '${NEXT}%' ORDER BY code LIMIT 1`);
    const id = await file({ regionCode: place.code }, await t.token(ED, { role: Role.REPORTER, region: NEXT, user: 'teacher-next-street-2' }));
    const officer = await t.token(PO, { region: NEXT, user: 'officer-next-street-2' });
    const READ = `query($id: ID!) { mandatoryReport(id: $id) { id observation minor { id } transitions { note } } }`;
    const read = await post(t, officer, { query: READ, variables: { id } });
    expect(read.json.data.mandatoryReport).toMatchObject({ id, minor: null });
    const stepped = await post(t, officer, { query: STEP, variables: { id, to: 'VERIFYING', note: '核查' } });
    expect(stepped.json.errors).toBeUndefined();
    const listed = await post(t, officer, { query: `{ mandatoryReports(first: 500) { id observation minor { id } transitions { note } } }` });
    expect(listed.json.data.mandatoryReports.find((r: { id: string }) => r.id === id)).toMatchObject({ minor: null, transitions: [{ note: '核查' }] });
    for (const r of [read, stepped, listed]) expect(JSON.stringify(await eventOf(t, r.requestId))).not.toContain(child.id);
    expect((await eventOf(t, stepped.requestId)).changes).toEqual([{ mutation: 'transitionReport', id, minorId: null, fields: ['id', 'note', 'to'] }]);
    const auditor = await t.token(CA, { role: Role.AUDITOR, region: NEXT, user: 'auditor-next-street' });
    const history = await t.gql(auditor, `query($id: ID!) { minorAccessHistory(minorId: $id) { userId } }`, { id: child.id }, {});
    expect(history.errors).toBeUndefined();
    expect(history.data.minorAccessHistory.filter((h: { userId: string }) => h.userId === 'officer-next-street-2')).toEqual([]);

    // The step keeps the child, and the district, which covers both streets, reads it as the child's.
    expect(await t.sql(`SELECT minor_id FROM workflow.report_transition WHERE report_id = $1`, [id])).toEqual([{ minor_id: child.id }]);
    const district = await post(t, police, { query: READ, variables: { id } });
    expect(district.json.data.mandatoryReport.minor).toEqual({ id: child.id });
    expect((await eventOf(t, district.requestId)).reads).toEqual([
      { minorId: child.id, fields: expect.objectContaining({ 'MandatoryReport.observation': 'ALLOW', 'ReportTransition.note': 'ALLOW' }) },
    ]);
  });

  it.each([
    ['an empty observation', { observation: ' ' }, 'observation'],
    ['an unknown region', { regionCode: '999999' }, 'regionCode'],
    ['a region code that is not digits', { regionCode: '3301\u0000' }, 'regionCode'],
    ['a malformed ID number', { childIdNumber: '12345' }, 'childIdNumber'],
    ['a time in the future', { observedAt: new Date(Date.now() + 3_600_000).toISOString() }, 'observedAt'],
  ])('refuses %s with BAD_USER_INPUT naming the field, writing nothing', async (_what, over, field) => {
    const [{ n: before }] = await t.sql(`SELECT count(*)::int AS n FROM workflow.mandatory_report`);
    const r = await t.gql(reporter, FILE, { input: input(over) }, {});
    expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].extensions!.field).toBe(field);
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.mandatory_report`))[0].n).toBe(before);
  });

  it('records a status filter as a read of each listed report’s status, for the child it names', async () => {
    const filed = await t.gql(reporter, `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`, { input: input({ childId: child.id }) }, {});
    expect(filed.errors).toBeUndefined();
    const r = await post(t, police, { query: `{ mandatoryReports(status: [RECEIVED], first: 500) { id minor { id } } }` });
    const mine = r.json.data.mandatoryReports.find((m: { id: string }) => m.id === filed.data.fileMandatoryReport.id);
    expect(mine.minor).toEqual({ id: child.id });
    const read = (await eventOf(t, r.requestId)).reads.find((x: { minorId: string }) => x.minorId === child.id);
    expect(read.fields).toMatchObject({ 'MandatoryReport.status': 'ALLOW', 'MandatoryReport.minor': 'ALLOW' });
  });

  it('lets a reporter read back only the status of their own reports, and nothing else', async () => {
    const mine = await file();
    const other = await t.token(ED, { role: Role.REPORTER, user: 'doctor-chen' });
    await file({}, other);
    const r = await t.gql(reporter, `{ myReports { id status } }`, {}, {});
    expect(r.data.myReports.map((x: any) => x.id)).toContain(mine);
    const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM workflow.mandatory_report WHERE reporter_id = 'teacher-wang'`);
    expect(r.data.myReports).toHaveLength(n);
    for (const q of [
      `{ mandatoryReports { id } }`,
      `{ overdueReports { id } }`,
      `query($id: ID!) { mandatoryReport(id: $id) { id } }`,
      `query($id: ID!) { minor(id: $id) { name } }`,
      `{ notifications { id } }`,
      `{ referrals { id } }`,
    ]) {
      const denied = await t.gql(reporter, q, { id: mine });
      expect(errorCodes(denied)).toEqual(['FORBIDDEN']);
    }
    const step = await t.gql(reporter, STEP, { id: mine, to: 'VERIFYING', note: 'x' });
    expect(errorCodes(step)).toEqual(['FORBIDDEN']);
  });

  it('myReports are the filer’s within their department: the same user id in another department’s token sees none of them', async () => {
    const mine = await file();
    for (const stranger of [
      await t.token(Department.WOMENS_FEDERATION, { role: Role.REPORTER, user: 'teacher-wang', region: '330102002' }),
      await t.token(Department.YOUTH_LEAGUE, { user: 'teacher-wang' }),
      await t.token(PO, { role: Role.REPORTER, user: 'teacher-wang' }),
    ]) {
      const r = await t.gql(stranger, `{ myReports(first: 500) { id status } }`, {}, {});
      expect(r.errors).toBeUndefined();
      expect(r.data.myReports).toEqual([]);
    }
    const own = await t.gql(reporter, `{ myReports(first: 500) { id } }`, {}, {});
    expect(own.data.myReports.map((x: any) => x.id)).toContain(mine);
  });

  it('routes reports to police and civil affairs with jurisdiction over the place only', async () => {
    const id = await file();
    const seen = async (token: string) => (await t.gql(token, `{ mandatoryReports(first: 500) { id } }`)).data?.mandatoryReports?.map((r: any) => r.id) ?? [];
    expect(await seen(police)).toContain(id);
    expect(await seen(civil)).toContain(id);
    expect(await seen(await t.token(PO, { region: '330102002' }))).not.toContain(id);
    expect(errorCodes(await t.gql(await t.token(ED), `{ mandatoryReports { id } }`))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await t.gql(await t.token(JU), `{ mandatoryReports { id } }`))).toEqual(['FORBIDDEN']);
  });

  it('lists on the child the reports about it that were made in the caller’s jurisdiction, newest first', async () => {
    const older = await file();
    const newer = await file({ urgency: 'NORMAL' });
    // About the same child, observed in the next street: outside a street officer's jurisdiction.
    const [elsewhere] = await t.sql(`SELECT grid_code FROM registry.minor WHERE grid_code LIKE '330102002%' LIMIT 1`);
    const away = await file({ regionCode: elsewhere.grid_code });
    const onChild = async (token: string) => {
      const r = await t.gql(token, `query($id: ID!) { minor(id: $id) { mandatoryReports { id } } }`, { id: child.id });
      expect(r.errors).toBeUndefined();
      return (r.data.minor.mandatoryReports as { id: string }[]).map((x) => x.id);
    };
    const district = await onChild(police);
    expect(district.filter((id) => [older, newer, away].includes(id))).toEqual([away, newer, older]);
    expect(await onChild(civil)).toEqual(district);
    const street = await onChild(await t.token(PO, { region: '330102001' }));
    expect(street).toEqual(expect.arrayContaining([older, newer]));
    expect(street).not.toContain(away);
  });

  describe('paging', () => {
    const STREET = '330102003';
    const PAGE = `query($first: Int!, $after: ID, $s: [ReportStatus!]) { mandatoryReports(status: $s, first: $first, after: $after) { id status } }`;
    const MINE = `query($first: Int!, $after: ID) { myReports(first: $first, after: $after) { id status } }`;
    const list = (token: string, variables: Record<string, unknown> = {}): WorkflowList => ({ t, token, query: PAGE, list: 'mandatoryReports', idOf: (r) => r.id, variables });
    const mine = (token: string): WorkflowList => ({ t, token, query: MINE, list: 'myReports', idOf: (r) => r.id });
    const listed = (where: string) =>
      t.sql(`SELECT id FROM workflow.mandatory_report WHERE ${where} ORDER BY received_at DESC, id`).then((rows) => rows.map((r) => r.id as string));
    /**
     * `n` reports by `reporter` about the region's children, three at each instant (ties on
     * received_at), every fourth being verified; due in a year, so that no clock the deadline tests
     * set makes them overdue.
     */
    const reportMany = (reporter: string, department: Department, region: string, n: number) =>
      t.sql(
        `INSERT INTO workflow.mandatory_report (id, reporter_id, reporter_department, harm_type, observation, observed_at, location, region_code, urgency, status, minor_id, received_at, verify_due_at, handle_due_at, updated_at)
         SELECT gen_random_uuid(), $1, $2, 'NEGLECT', '无人照看', now(), '社区', m.grid_code, 'NORMAL', CASE WHEN i % 4 = 0 THEN 'VERIFYING' ELSE 'RECEIVED' END,
                CASE WHEN i % 5 = 0 THEN NULL ELSE m.id END, now() - (i / 3) * interval '1 minute', now() + interval '1 year', now() + interval '1 year', now()
           FROM generate_series(0, $4 - 1) i
           JOIN LATERAL (SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE $3 ORDER BY id OFFSET i LIMIT 1) m ON TRUE`,
        [reporter, department, `${region}%`, n],
      );
    let streetPolice: string;
    let pager: string;
    beforeAll(async () => {
      await reportMany('teacher-paging', ED, STREET, 150);
      streetPolice = await t.token(PO, { region: STREET, user: 'po-paging' });
      pager = await t.token(ED, { role: Role.REPORTER, user: 'teacher-paging' });
    });

    it('goes on after the report a page ended with, to the end of the list, through reports received at one instant', async () => {
      const inStreet = `region_code LIKE '${STREET}%'`;
      expect(await expectPagedToItsEnd(list(streetPolice))).toEqual(await listed(inStreet));
      expect(await expectPagedToItsEnd(list(streetPolice, { s: ['RECEIVED'] }))).toEqual(await listed(`${inStreet} AND status = 'RECEIVED'`));
      expect(await expectPagedToItsEnd(mine(pager))).toEqual(await listed(`reporter_id = 'teacher-paging' AND reporter_department = 'EDUCATION'`));
    });

    it('refuses a report the list does not name as a random id: of another street, of a status not asked, another reporter’s, no id', async () => {
      await reportMany('teacher-paging', ED, '330102002', 1);
      await reportMany('teacher-paging', PO, STREET, 1);
      const [elsewhere] = await listed(`region_code LIKE '330102002%'`);
      const [verifying] = await listed(`region_code LIKE '${STREET}%' AND status = 'VERIFYING'`);
      await expectAfterRefusedAlike(list(streetPolice, { s: ['RECEIVED'] }), [elsewhere]);
      const [{ minor_id }] = await t.sql(`SELECT minor_id FROM workflow.mandatory_report WHERE id = $1`, [verifying]);
      await expectAfterFilteredOut(list(streetPolice, { s: ['RECEIVED'] }), [{ id: verifying, minorId: minor_id }], { 'MandatoryReport.status': 'ALLOW' });
      // A report of the same user id in another department's token is someone else's.
      const [samenamed] = await listed(`reporter_id = 'teacher-paging' AND reporter_department = 'POLICE'`);
      const [others] = await listed(`reporter_id <> 'teacher-paging'`);
      await expectAfterRefusedAlike(mine(pager), [samenamed, others]);
    });

    it('reads a page in the same statements whatever its size', async () => {
      await expectStatementsPerPageFlat(list(streetPolice), (await listed(`region_code LIKE '${STREET}%'`))[0]);
      await expectStatementsPerPageFlat(mine(pager), (await listed(`reporter_id = 'teacher-paging' AND reporter_department = 'EDUCATION'`))[0]);
    });
  });

  describe('state machine', () => {
    const step = (token: string, id: string, to: string, note = `step to ${to}`) => t.gql(token, STEP, { id, to, note });

    it('records each step with officer, department, note and time', async () => {
      const id = await file();
      t.config.workflow.clockOffsetMs = 10 * MIN;
      const r = await step(police, id, 'VERIFYING', '已出警核查');
      expect(r.errors).toBeUndefined();
      expect(r.data.transitionReport.status).toBe('VERIFYING');
      const [tr] = r.data.transitionReport.transitions;
      expect(tr).toMatchObject({ fromStatus: 'RECEIVED', toStatus: 'VERIFYING', officerId: 'officer-li', department: PO, note: '已出警核查' });
      expect(Math.abs(new Date(tr.at).getTime() - (Date.now() + 10 * MIN))).toBeLessThan(30_000);
    });

    // [from-path, to, who, expected]
    const cases: [string[], string, Department, 'ok' | 'FORBIDDEN' | 'BAD_USER_INPUT'][] = [
      [[], 'VERIFYING', PO, 'ok'],
      [[], 'VERIFYING', CA, 'ok'],
      [[], 'VERIFYING', ED, 'FORBIDDEN'],
      [[], 'HANDLED', PO, 'BAD_USER_INPUT'],
      [[], 'CLOSED', CA, 'BAD_USER_INPUT'],
      [[], 'UNFOUNDED', PO, 'BAD_USER_INPUT'],
      [['VERIFYING'], 'HANDLED', PO, 'ok'],
      [['VERIFYING'], 'HANDLED', CA, 'ok'],
      [['VERIFYING'], 'UNFOUNDED', PO, 'ok'],
      [['VERIFYING'], 'UNFOUNDED', CA, 'FORBIDDEN'],
      [['VERIFYING'], 'CLOSED', CA, 'BAD_USER_INPUT'],
      [['VERIFYING', 'HANDLED'], 'CLOSED', CA, 'ok'],
      [['VERIFYING', 'HANDLED'], 'CLOSED', PO, 'FORBIDDEN'],
      [['VERIFYING', 'HANDLED', 'CLOSED'], 'VERIFYING', PO, 'BAD_USER_INPUT'],
      [['VERIFYING', 'UNFOUNDED'], 'HANDLED', PO, 'BAD_USER_INPUT'],
    ];
    it.each(cases)('from %j: → %s by %s is %s', async (path, to, who, expected) => {
      const id = await file();
      for (const s of path) expect((await step(s === 'CLOSED' ? civil : police, id, s)).errors).toBeUndefined();
      const r = await step(await t.token(who), id, to);
      const [{ status }] = await t.sql(`SELECT status FROM workflow.mandatory_report WHERE id = $1`, [id]);
      if (expected === 'ok') {
        expect(r.errors).toBeUndefined();
        expect(status).toBe(to);
      } else {
        expect(errorCodes(r)).toEqual([expected]);
        if (expected === 'BAD_USER_INPUT') expect(r.errors![0].extensions!.field).toBe('to');
        expect(status).toBe(path.length ? path[path.length - 1] : 'RECEIVED');
      }
    });

    it('refuses a step without a note, and a report outside the officer’s jurisdiction reads as missing', async () => {
      const id = await file();
      const r = await step(police, id, 'VERIFYING', '  ');
      expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0].extensions!.field).toBe('note');
      expect(errorCodes(await step(await t.token(PO, { region: '330102002' }), id, 'VERIFYING'))).toEqual(['NOT_FOUND']);
      expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.report_transition WHERE report_id = $1`, [id]))[0].n).toBe(0);
    });

    it('asks civil affairs to reassess a registered child once the report is handled: the escalation job asks, once, not the step', async () => {
      const id = await file();
      await step(police, id, 'VERIFYING');
      await step(police, id, 'HANDLED', '已固定证据，对监护人训诫');
      const told = () =>
        t.sql(
          `SELECT department, minor_id, region_code, payload->>'Minor.name' AS name, payload->>'ReportTransition.note' AS note
             FROM workflow.notification WHERE subject_id = $1 AND kind = 'REASSESSMENT_REQUESTED'`,
          [id],
        );
      const due = async () => (await t.sql(`SELECT reassessment_due FROM workflow.mandatory_report WHERE id = $1`, [id]))[0].reassessment_due;
      // The step sends nothing (it must cost the same whether or not the report names a registered child).
      expect(await told()).toEqual([]);
      expect(await due()).toBe(true);
      const first = await runEscalations(t.hub.db.ds, t.config, buildPolicy(), new Date());
      expect(first.reassessments).toBeGreaterThanOrEqual(1);
      const asked = [{ department: CA, minor_id: child.id, region_code: child.grid_code, name: child.name, note: '已固定证据，对监护人训诫' }];
      expect(await told()).toEqual(asked);
      expect(await due()).toBe(false);
      const again = await runEscalations(t.hub.db.ds, t.config, buildPolicy(), new Date(Date.now() + MIN));
      expect(again.reassessments).toBe(0);
      expect(await told()).toEqual(asked);
    }, 120_000);

    it('marks no report unlinked to a registered child, and leaves the mark of a handled one until the job has asked, whatever later step', async () => {
      const unlinked = await file({ childIdNumber: buildIdNumber('330102', '2016-03-04', 778) });
      expect(await t.sql(`SELECT minor_id FROM workflow.mandatory_report WHERE id = $1`, [unlinked])).toEqual([{ minor_id: null }]);
      await step(police, unlinked, 'VERIFYING');
      await step(police, unlinked, 'HANDLED');
      const linked = await file();
      await step(police, linked, 'VERIFYING');
      await step(police, linked, 'HANDLED');
      await step(civil, linked, 'CLOSED');
      expect(await t.sql(`SELECT id, reassessment_due FROM workflow.mandatory_report WHERE id = ANY($1) ORDER BY reassessment_due`, [[unlinked, linked]])).toEqual([
        { id: unlinked, reassessment_due: false },
        { id: linked, reassessment_due: true },
      ]);
    });

    it('answers a burst of steps of one report larger than the pool: one taken, the rest refused, and the hub answers after it', async () => {
      // Each step locks the report in a transaction, holding a pooled connection, and the others
      // wait for the lock holding theirs: a look-up through the pool inside the transaction
      // waited for a connection that none of them gave back, and every request of the hub hung.
      const id = await file();
      const answers = await Promise.all(Array.from({ length: poolSize(t) + 5 }, () => step(police, id, 'VERIFYING')));
      const outcomes = answers.map((a) => errorCodes(a)[0] ?? a.data.transitionReport.status).sort();
      expect(outcomes).toEqual([...Array(answers.length - 1).fill('BAD_USER_INPUT'), 'VERIFYING']);
      const read = await t.gql(civil, `query($id: ID!) { minor(id: $id) { name } }`, { id: child.id });
      expect(read.data.minor).toEqual({ name: child.name });
    }, 30_000);

    it('audits each step as a change of the child’s record', async () => {
      const id = await file();
      const r = await post(t, police, { query: STEP, variables: { id, to: 'VERIFYING', note: '核查' } }, { 'x-purpose': `MANDATORY_REPORT; ${id}` });
      expect(r.json.errors).toBeUndefined();
      const e = await eventOf(t, r.requestId);
      expect(e.purpose).toEqual({ code: 'MANDATORY_REPORT', reference: id });
      expect(e.changes).toEqual([{ mutation: 'transitionReport', id, minorId: child.id, fields: ['id', 'note', 'to'] }]);
      expect(e.reads).toEqual([{ minorId: child.id, fields: expect.objectContaining({ 'MandatoryReport.status': 'ALLOW', 'ReportTransition.note': 'ALLOW' }) }]);
    });
  });

  describe('deadlines', () => {
    it('lists a report as overdue once verification has not started in time, and again once handling is late', async () => {
      const urgent = await file({ urgency: 'URGENT' });
      const normal = await file({ urgency: 'NORMAL' });
      const overdue = async () => (await t.gql(police, OVERDUE)).data.overdueReports.map((r: any) => r.id);
      expect(await overdue()).not.toContain(urgent);
      t.config.workflow.clockOffsetMs = 61 * MIN;
      expect(await overdue()).toContain(urgent);
      expect(await overdue()).not.toContain(normal);
      const r = await t.gql(police, `query($id: ID!) { mandatoryReport(id: $id) { overdue } }`, { id: urgent });
      expect(r.data.mandatoryReport.overdue).toBe(true);
      // Verification started (late): no longer overdue until the handling deadline passes.
      expect((await t.gql(police, STEP, { id: urgent, to: 'VERIFYING', note: '迟到的核查' })).errors).toBeUndefined();
      expect(await overdue()).not.toContain(urgent);
      t.config.workflow.clockOffsetMs = 1441 * MIN;
      expect(await overdue()).toContain(urgent);
      expect(await overdue()).toContain(normal);
    });

    it('records what the list tested as read of each child it names: the status and the deadline passed, whatever is selected', async () => {
      const [a, b] = await t.sql(`SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE '330102003%' ORDER BY id LIMIT 2`);
      const received = await file({ childIdNumber: null, childId: a.id, regionCode: a.grid_code });
      const verifying = await file({ childIdNumber: null, childId: b.id, regionCode: b.grid_code });
      expect((await t.gql(police, STEP, { id: verifying, to: 'VERIFYING', note: '核查' })).errors).toBeUndefined();
      t.config.workflow.clockOffsetMs = 1441 * MIN;
      // Nothing of the report selected but its id and child: the answer still tells its status and that a deadline passed.
      const r = await post(t, police, { query: `{ overdueReports(first: 500) { id minor { id } } }` });
      expect(r.json.errors).toBeUndefined();
      expect(r.json.data.overdueReports.map((x: { id: string }) => x.id)).toEqual(expect.arrayContaining([received, verifying]));
      const { reads } = await eventOf(t, r.requestId);
      const fieldsOf = (minorId: string) => reads.find((x: { minorId: string }) => x.minorId === minorId).fields;
      expect(fieldsOf(a.id)).toMatchObject({ 'MandatoryReport.status': 'ALLOW', 'MandatoryReport.verifyDueAt': 'ALLOW' });
      expect(fieldsOf(a.id)).not.toHaveProperty(['MandatoryReport.handleDueAt']);
      expect(fieldsOf(b.id)).toMatchObject({ 'MandatoryReport.status': 'ALLOW', 'MandatoryReport.handleDueAt': 'ALLOW' });
      expect(fieldsOf(b.id)).not.toHaveProperty(['MandatoryReport.verifyDueAt']);
    });

    describe('paging', () => {
      const STREET = '330102004';
      const PAGE = `query($first: Int!, $after: ID) { overdueReports(first: $first, after: $after) { id status } }`;
      const list = (token: string): WorkflowList => ({ t, token, query: PAGE, list: 'overdueReports', idOf: (r) => r.id });
      /** Read four days on: the reports below fall due from three days on, later than any clock the tests above set. */
      const LATER = 4 * 1440 * MIN;
      const overdueIn = (region: string) =>
        t
          .sql(
            `SELECT id, status, minor_id FROM workflow.mandatory_report
              WHERE region_code LIKE $1 AND ((status = 'RECEIVED' AND verify_due_at < $2) OR (status = 'VERIFYING' AND handle_due_at < $2))
              ORDER BY CASE status WHEN 'RECEIVED' THEN verify_due_at ELSE handle_due_at END, id`,
            [`${region}%`, new Date(Date.now() + LATER)],
          )
          .then((rows) => rows as { id: string; status: string; minor_id: string | null }[]);
      /**
       * `n` reports about the region's children, due from three days on, three at each minute (ties
       * on the deadline the list orders by): every fourth VERIFYING, whose handling deadline that is,
       * the rest RECEIVED, whose verification deadline it is; every fifth naming no child.
       */
      const reportDue = (region: string, n: number) =>
        t.sql(
          `INSERT INTO workflow.mandatory_report (id, reporter_id, reporter_department, harm_type, observation, observed_at, location, region_code, urgency, status, minor_id, received_at, verify_due_at, handle_due_at, updated_at)
           SELECT gen_random_uuid(), 'teacher-overdue', 'EDUCATION', 'NEGLECT', '无人照看', now(), '社区', m.grid_code, 'NORMAL', s.status, CASE WHEN i % 5 = 0 THEN NULL ELSE m.id END, now(),
                  CASE s.status WHEN 'RECEIVED' THEN s.due ELSE s.due - interval '1 day' END, CASE s.status WHEN 'RECEIVED' THEN s.due + interval '7 days' ELSE s.due END, now()
             FROM generate_series(0, $2 - 1) i
             CROSS JOIN LATERAL (SELECT CASE WHEN i % 4 = 0 THEN 'VERIFYING' ELSE 'RECEIVED' END AS status, now() + interval '3 days' + (i / 3) * interval '1 minute' AS due) s
             JOIN LATERAL (SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE $1 AND registry.is_minor(birth_date, now() + interval '5 days') ORDER BY id OFFSET i LIMIT 1) m ON TRUE`,
          [`${region}%`, n],
        );
      /** One report of the region, naming no child, with its status and its deadlines that many days on. */
      const reportOne = (region: string, status: string, verifyInDays: number, handleInDays: number) =>
        t
          .sql(
            `INSERT INTO workflow.mandatory_report (id, reporter_id, reporter_department, harm_type, observation, observed_at, location, region_code, urgency, status, received_at, verify_due_at, handle_due_at, updated_at)
             VALUES (gen_random_uuid(), 'teacher-overdue', 'EDUCATION', 'NEGLECT', '无人照看', now(), '社区', $1, 'NORMAL', $2, now(), now() + $3 * interval '1 day', now() + $4 * interval '1 day', now())
             RETURNING id`,
            [region, status, verifyInDays, handleInDays],
          )
          .then(([r]) => r.id as string);
      let streetPolice: string;
      beforeAll(async () => {
        await reportDue(STREET, 150);
        streetPolice = await t.token(PO, { region: STREET, user: 'po-overdue-paging' });
      });
      beforeEach(() => {
        t.config.workflow.clockOffsetMs = LATER;
      });

      it('goes on after the report a page ended with, most overdue first, to the end of the list, through reports due at one instant', async () => {
        expect(await expectPagedToItsEnd(list(streetPolice))).toEqual((await overdueIn(STREET)).map((r) => r.id));
      });

      it('refuses a report the list does not name as a random id: of another street, not yet overdue, verifying with only its verification deadline passed, handled, no id', async () => {
        const refused = [
          await reportOne('330102003001001', 'RECEIVED', 3, 10),
          await reportOne(`${STREET}001001`, 'RECEIVED', 10, 17),
          await reportOne(`${STREET}001001`, 'VERIFYING', 3, 10),
          await reportOne(`${STREET}001001`, 'HANDLED', 1, 2),
        ];
        // Each fails one of the list's conditions: the first is overdue (the district lists it), the others are not.
        const district = (await overdueIn('330102')).map((r) => r.id);
        expect(refused.map((id) => district.includes(id))).toEqual([true, false, false, false]);
        await expectAfterRefusedAlike(list(streetPolice), refused.slice(0, 1));
        // The others are the street's: refused, each tells it is not overdue (and names no child).
        const overdueTests = { 'MandatoryReport.status': 'ALLOW', 'MandatoryReport.verifyDueAt': 'ALLOW', 'MandatoryReport.handleDueAt': 'ALLOW' };
        await expectAfterFilteredOut(list(streetPolice), refused.slice(1).map((id) => ({ id, minorId: null })), overdueTests);
      });

      it('records the report it goes on after as tested, as each one it names: the status and the deadline it passed', async () => {
        // Two reports one after the other, each naming a child — two children (the street's other
        // reports, the demo's among them, may name a child these name too) —, one RECEIVED and one VERIFYING.
        const listed = await overdueIn(STREET);
        const at = listed.findIndex(
          (r, i) => i > 0 && r.minor_id && listed[i - 1].minor_id && r.minor_id !== listed[i - 1].minor_id && r.status !== listed[i - 1].status,
        );
        const [after, next] = [listed[at - 1], listed[at]];
        const r = await post(t, streetPolice, { query: `query($after: ID) { overdueReports(first: 1, after: $after) { id } }`, variables: { after: after.id } });
        expect(r.json).toEqual({ data: { overdueReports: [{ id: next.id }] } });
        const reads = (await eventOf(t, r.requestId)).reads as { minorId: string; fields: Record<string, string> }[];
        expect(reads.map((x) => x.minorId).sort()).toEqual([after.minor_id, next.minor_id].sort());
        for (const report of [after, next]) {
          const [passed, not] = report.status === 'RECEIVED' ? ['verifyDueAt', 'handleDueAt'] : ['handleDueAt', 'verifyDueAt'];
          const { fields } = reads.find((x) => x.minorId === report.minor_id)!;
          expect(fields).toMatchObject({ 'MandatoryReport.status': 'ALLOW', [`MandatoryReport.${passed}`]: 'ALLOW' });
          expect(fields).not.toHaveProperty([`MandatoryReport.${not}`]);
        }
      });

      it('reads a page in the same statements whatever its size', async () => {
        await expectStatementsPerPageFlat(list(streetPolice), (await overdueIn(STREET))[0].id);
      });
    });
  });

  it('a report about a child who has since turned 18 names no child, asks for no reassessment, and a new one naming them links none', async () => {
    const [grown] = await t.sql(`SELECT id, trim(id_number) AS id_number, grid_code FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1 OFFSET 1`);
    const before = await file({ childIdNumber: grown.id_number, regionCode: grown.grid_code });
    const read = `query($id: ID!) { mandatoryReport(id: $id) { id minor { id } } }`;
    expect((await t.gql(civil, read, { id: before })).data.mandatoryReport.minor).toEqual({ id: grown.id });
    // 18 today in China.
    const birth = yearsBefore(new Date(), 18);
    const idNumber = buildIdNumber('330102', birth, 901);
    await t.sql(`UPDATE registry.minor SET birth_date = $2, id_number = $3, gender = 'MALE' WHERE id = $1`, [grown.id, birth, idNumber]);

    for (const token of [civil, police]) {
      const r = await t.gql(token, read, { id: before });
      expect(r.errors).toBeUndefined();
      expect(r.data.mandatoryReport).toEqual({ id: before, minor: null });
    }
    const step = (token: string, to: string) => t.gql(token, STEP, { id: before, to, note: `step to ${to}` });
    expect((await step(police, 'VERIFYING')).errors).toBeUndefined();
    expect((await step(police, 'HANDLED')).errors).toBeUndefined();
    // The step marks it alike (it cannot tell an adult from a child without costing more); the job
    // clears the mark and asks no one.
    expect(await t.sql(`SELECT reassessment_due FROM workflow.mandatory_report WHERE id = $1`, [before])).toEqual([{ reassessment_due: true }]);
    await runEscalations(t.hub.db.ds, t.config, buildPolicy(), new Date());
    expect(await t.sql(`SELECT reassessment_due FROM workflow.mandatory_report WHERE id = $1`, [before])).toEqual([{ reassessment_due: false }]);
    expect(await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE kind = 'REASSESSMENT_REQUESTED' AND subject_id = $1`, [before])).toEqual([{ n: 0 }]);

    const after = await file({ childIdNumber: idNumber, regionCode: grown.grid_code });
    expect(await t.sql(`SELECT minor_id, child_id_number FROM workflow.mandatory_report WHERE id = $1`, [after])).toEqual([{ minor_id: null, child_id_number: idNumber }]);
    const told = await t.sql(`SELECT minor_id, payload::text AS payload FROM workflow.notification WHERE subject_id = $1`, [after]);
    expect(told.length).toBeGreaterThan(0);
    expect(told.map((n) => [n.minor_id, n.payload.includes('Minor.')])).toEqual(told.map(() => [null, false]));
  }, 120_000);
});
