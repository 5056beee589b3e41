import { randomUUID } from 'node:crypto';
import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { eventsOf, post } from './support/audit-helpers';
import { errorCodes, GqlResult, startTestHub, statementsDuring, TestHub } from './support/test-hub';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU, YOUTH_LEAGUE: YL } = Department;
const STREET = '330102001';
const OTHER_STREET = '330102002';

const CREATE = `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id status } }`;
const ACCEPT = `mutation($id: ID!) { acceptReferral(id: $id, note: "受理") { id status } }`;
const DECLINE = `mutation($id: ID!, $reason: String!) { declineReferral(id: $id, reason: $reason) { id status } }`;
const COMPLETE = `mutation($id: ID!, $outcome: String!) { completeReferral(id: $id, outcome: $outcome) { id status } }`;
const FILE = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id status } }`;
const STEP = `mutation($id: ID!, $to: ReportStatus!, $note: String!) { transitionReport(id: $id, to: $to, note: $note) { id status } }`;
const CHECK = `mutation($input: EmploymentCheckInput!) { employmentCheck(input: $input) { checkId answer } }`;
const ADD_BAR = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id } }`;
const REMOVE_BAR = `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "判决撤销") }`;
const REGISTER = `mutation($url: String!) { registerWebhook(url: $url) { webhook { id url } } }`;

/** No stack trace, SQL text or driver detail in any error a client is shown. */
function expectClean(r: GqlResult): void {
  const text = JSON.stringify(r.errors ?? []);
  expect(text).not.toMatch(/\bat [\w.<>]+ \(|stacktrace|SELECT |INSERT |UPDATE |QueryFailedError|violates|syntax error|relation "/i);
  for (const e of r.errors ?? []) expect(e.extensions?.code).toBeDefined();
}
const refusedWith = (r: GqlResult, code: string) => {
  expectClean(r);
  expect([errorCodes(r), r.errors?.map((e) => e.message)]).toEqual([[code], expect.anything()]);
};

describe('workflow and registry mutations: red team', () => {
  let t: TestHub;
  let civil: string;
  let education: string;
  let police: string;
  let child: string;
  let otherChild: string;

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_EMPLOYMENT_CHECK_MIN_MS: '10', HUB_EMPLOYMENT_CHECKS_PER_HOUR: '50' } });
    civil = await t.token(CA, { user: 'rt-civil', region: STREET });
    education = await t.token(ED, { user: 'rt-edu', region: STREET });
    police = await t.token(PO, { user: 'rt-police', region: STREET });
    [{ id: child }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 AND birth_date > now() - interval '15 years' ORDER BY id LIMIT 1`, [`${STREET}%`]);
    [{ id: otherChild }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 AND birth_date > now() - interval '15 years' ORDER BY id LIMIT 1`, [`${OTHER_STREET}%`]);
  });
  afterAll(() => t.stop());

  async function refer(to: Department = ED, token = civil, minorId = child): Promise<string> {
    const r = await t.gql(token, CREATE, { input: { minorId, type: 'EDUCATION_AID', toDepartment: to, need: '家庭困难' } });
    expect(r.errors).toBeUndefined();
    return r.data.createReferral.id;
  }

  describe('referral state machine', () => {
    it('refuses every step from a closed referral, and closing twice, with BAD_USER_INPUT and no row changed', async () => {
      const declined = await refer();
      expect((await t.gql(education, DECLINE, { id: declined, reason: '不在职责范围' })).data.declineReferral.status).toBe('DECLINED');
      const completed = await refer();
      expect((await t.gql(education, ACCEPT, { id: completed })).data.acceptReferral.status).toBe('ACCEPTED');
      expect((await t.gql(education, COMPLETE, { id: completed, outcome: '已资助' })).data.completeReferral.status).toBe('COMPLETED');
      for (const id of [declined, completed]) {
        const before = await t.sql(`SELECT * FROM workflow.referral WHERE id = $1`, [id]);
        refusedWith(await t.gql(education, ACCEPT, { id }), 'BAD_USER_INPUT');
        refusedWith(await t.gql(education, DECLINE, { id, reason: 'x' }), 'BAD_USER_INPUT');
        refusedWith(await t.gql(education, COMPLETE, { id, outcome: 'x' }), 'BAD_USER_INPUT');
        expect(await t.sql(`SELECT * FROM workflow.referral WHERE id = $1`, [id])).toEqual(before);
      }
      // Completing a pending one skips acceptance.
      refusedWith(await t.gql(education, COMPLETE, { id: await refer(), outcome: 'x' }), 'BAD_USER_INPUT');
    });

    it('takes exactly one of concurrent accept / decline / accept of one referral, and tells the referrer once', async () => {
      const id = await refer();
      const results = await Promise.all([
        t.gql(education, ACCEPT, { id }),
        t.gql(education, DECLINE, { id, reason: '无法承接' }),
        t.gql(education, ACCEPT, { id }),
        t.gql(education, DECLINE, { id, reason: '无法承接' }),
      ]);
      results.forEach(expectClean);
      expect(results.filter((r) => !r.errors)).toHaveLength(1);
      expect(results.filter((r) => r.errors).flatMap(errorCodes)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT']);
      const told = await t.sql(`SELECT kind FROM workflow.notification WHERE subject_id = $1 AND kind = 'REFERRAL_OUTCOME'`, [id]);
      expect(told).toHaveLength(1);
    });

    it('lets only the receiver answer: the sender is refused FORBIDDEN (it sees the referral), a third department NOT_FOUND like a random id', async () => {
      const id = await refer(ED);
      refusedWith(await t.gql(civil, ACCEPT, { id }), 'FORBIDDEN');
      const youth = await t.token(YL, { region: STREET });
      const a = await t.gql(youth, ACCEPT, { id });
      const b = await t.gql(youth, ACCEPT, { id: randomUUID() });
      refusedWith(a, 'NOT_FOUND');
      expect(a.errors).toEqual(b.errors);
      // The receiver in another street: as unknown too.
      const elsewhere = await t.token(ED, { region: OTHER_STREET });
      expect((await t.gql(elsewhere, ACCEPT, { id })).errors).toEqual(b.errors);
      // Malformed ids: the same answer, never a database error.
      for (const bad of ['', 'x', "' OR 1=1 --", '00000000-0000-0000-0000-00000000000g', 'a'.repeat(10_000), '\u0000']) {
        expect((await t.gql(education, ACCEPT, { id: bad })).errors).toEqual(b.errors);
      }
      expect(await t.sql(`SELECT status FROM workflow.referral WHERE id = $1`, [id])).toEqual([{ status: 'PENDING' }]);
    });

    it('refuses a referral of a child outside the jurisdiction as a missing child, and to its own department or bad text as BAD_USER_INPUT', async () => {
      const outside = await t.gql(civil, CREATE, { input: { minorId: otherChild, type: 'EDUCATION_AID', toDepartment: ED, need: 'x' } });
      const unknown = await t.gql(civil, CREATE, { input: { minorId: randomUUID(), type: 'EDUCATION_AID', toDepartment: ED, need: 'x' } });
      refusedWith(outside, 'NOT_FOUND');
      expect(outside.errors).toEqual(unknown.errors);
      for (const need of ['', '   ', '\u200B', 'a\u0000b', 'x'.repeat(2001), '\u202Eevil']) {
        refusedWith(await t.gql(civil, CREATE, { input: { minorId: child, type: 'EDUCATION_AID', toDepartment: ED, need } }), 'BAD_USER_INPUT');
      }
      refusedWith(await t.gql(civil, CREATE, { input: { minorId: child, type: 'EDUCATION_AID', toDepartment: CA, need: 'x' } }), 'BAD_USER_INPUT');
      const n = await t.sql(`SELECT count(*)::int AS n FROM workflow.referral WHERE minor_id = $1 AND need = 'x'`, [otherChild]);
      expect(n).toEqual([{ n: 0 }]);
    });
  });

  describe('mandatory report state machine', () => {
    const input = (over: Record<string, unknown> = {}) => ({
      harmType: 'NEGLECT',
      observation: '无人照看',
      location: '小区门口',
      regionCode: STREET,
      urgency: 'NORMAL',
      ...over,
    });
    const file = async (over: Record<string, unknown> = {}) => {
      const r = await t.gql(await t.token(ED, { role: Role.REPORTER }), FILE, { input: input(over) }, {});
      expect(r.errors).toBeUndefined();
      return r.data.fileMandatoryReport.id as string;
    };

    it('takes one of two concurrent steps from RECEIVED and records one transition', async () => {
      const id = await file();
      const results = await Promise.all([
        t.gql(police, STEP, { id, to: 'VERIFYING', note: '核查' }),
        t.gql(civil, STEP, { id, to: 'VERIFYING', note: '核查' }),
        t.gql(police, STEP, { id, to: 'VERIFYING', note: '核查' }),
      ]);
      results.forEach(expectClean);
      expect(results.filter((r) => !r.errors)).toHaveLength(1);
      expect(await t.sql(`SELECT count(*)::int AS n FROM workflow.report_transition WHERE report_id = $1`, [id])).toEqual([{ n: 1 }]);
    });

    it('refuses skipping, going back and leaving a terminal status; civil affairs may not declare UNFOUNDED', async () => {
      const id = await file();
      refusedWith(await t.gql(police, STEP, { id, to: 'HANDLED', note: 'n' }), 'BAD_USER_INPUT');
      refusedWith(await t.gql(police, STEP, { id, to: 'RECEIVED', note: 'n' }), 'BAD_USER_INPUT');
      expect((await t.gql(police, STEP, { id, to: 'VERIFYING', note: 'n' })).errors).toBeUndefined();
      refusedWith(await t.gql(civil, STEP, { id, to: 'UNFOUNDED', note: 'n' }), 'FORBIDDEN');
      expect((await t.gql(police, STEP, { id, to: 'UNFOUNDED', note: 'n' })).errors).toBeUndefined();
      for (const to of ['RECEIVED', 'VERIFYING', 'HANDLED', 'CLOSED', 'UNFOUNDED']) {
        refusedWith(await t.gql(civil, STEP, { id, to, note: 'n' }), 'BAD_USER_INPUT');
      }
      const handled = await file();
      await t.gql(police, STEP, { id: handled, to: 'VERIFYING', note: 'n' });
      await t.gql(police, STEP, { id: handled, to: 'HANDLED', note: 'n' });
      refusedWith(await t.gql(police, STEP, { id: handled, to: 'CLOSED', note: 'n' }), 'FORBIDDEN');
      expect((await t.gql(civil, STEP, { id: handled, to: 'CLOSED', note: 'n' })).errors).toBeUndefined();
      refusedWith(await t.gql(civil, STEP, { id: handled, to: 'CLOSED', note: 'n' }), 'BAD_USER_INPUT');
      expect(await t.sql(`SELECT count(*)::int AS n FROM workflow.report_transition WHERE report_id = $1`, [handled])).toEqual([{ n: 3 }]);
    });

    it('answers a report of another street as an unknown id, and bad filing input as BAD_USER_INPUT, nothing written', async () => {
      const id = await file({ regionCode: OTHER_STREET });
      const a = await t.gql(police, STEP, { id, to: 'VERIFYING', note: 'n' });
      const b = await t.gql(police, STEP, { id: randomUUID(), to: 'VERIFYING', note: 'n' });
      refusedWith(a, 'NOT_FOUND');
      expect(a.errors).toEqual(b.errors);
      const reporter = await t.token(ED, { role: Role.REPORTER, user: 'rt-reporter-bad' });
      const bad: Record<string, unknown>[] = [
        { observation: '' },
        { observation: 'a\u0000b' },
        { location: 'l'.repeat(201) },
        { location: 'a\nb' },
        { observedAt: new Date(Date.now() + 86_400_000).toISOString() },
        { observedAt: '1800-01-01T00:00:00Z' },
        { regionCode: "330102' OR '1'='1" },
        { regionCode: '999999' },
        { regionCode: '' },
        { childIdNumber: '330102200001010000' },
        { childIdNumber: 'x'.repeat(19) },
        { childId: 'not-a-uuid' },
        { reporterUnit: 'u'.repeat(101) },
      ];
      for (const over of bad) {
        const r = await t.gql(reporter, FILE, { input: input(over) }, {});
        expectClean(r);
        expect([over, errorCodes(r)]).toEqual([over, ['BAD_USER_INPUT']]);
      }
      expect(await t.sql(`SELECT count(*)::int AS n FROM workflow.mandatory_report WHERE reporter_id = 'rt-reporter-bad'`)).toEqual([{ n: 0 }]);
    });
  });

  describe('a report naming a registered child outside the jurisdiction is no oracle on the registry', () => {
    /**
     * fileMandatoryReport takes care that a registered number costs no statement more than an
     * unknown one (the filer must not learn whether the registry knows the child). A police officer
     * may file, then read and step their own report, and so must those: asSeenBy / loadedRecordOf
     * once looked the child up only when the report named one, and HANDLED asked the registry and
     * notified only then.
     */
    const READ_REPORT = `query($id: ID!) { mandatoryReport(id: $id) { status childIdNumber minor { id } } }`;
    const statements = async (run: () => Promise<unknown>) =>
      (await statementsDuring(t, async () => void (await run()))).map((s) => s.query.replace(/\$\d+/g, '$').replace(/\s+/g, ' '));

    it('costs the same statements to read and to step a report whether its ID number is a child registered elsewhere or no one', async () => {
      const [{ id_number: registered }] = await t.sql(`SELECT trim(id_number) AS id_number FROM registry.minor WHERE id = $1`, [otherChild]);
      const unregistered = buildIdNumber('330102', '2016-03-04', 777);
      expect(await t.sql(`SELECT 1 FROM registry.minor WHERE id_number = $1`, [unregistered])).toEqual([]);
      const file = async (childIdNumber: string) => {
        const r = await t.gql(police, FILE, { input: { harmType: 'NEGLECT', observation: '无人照看', location: '路口', regionCode: STREET, urgency: 'NORMAL', childIdNumber } }, {});
        expect(r.errors).toBeUndefined();
        return r.data.fileMandatoryReport.id as string;
      };
      // Filing itself is alike (fileMandatoryReport's own care), which the checks below hold the later steps to.
      await file(unregistered); // warm-up: the first request loads the region directory
      const filedLinked = await statements(() => file(registered));
      const filedUnlinked = await statements(() => file(unregistered));
      expect(filedLinked).toEqual(filedUnlinked);
      const [linked, unlinked] = [await file(registered), await file(unregistered)];
      // Stored: one links the child (of another street), the other none.
      expect((await t.sql(`SELECT minor_id FROM workflow.mandatory_report WHERE id = $1`, [linked]))[0].minor_id).toBe(otherChild);
      expect((await t.sql(`SELECT minor_id FROM workflow.mandatory_report WHERE id = $1`, [unlinked]))[0].minor_id).toBeNull();
      // Pasted as people paste it (a byte-order mark, an ideographic space, the check character in lower case), one number is one number, as in every input of one.
      const pasted = await file(`\uFEFF${registered.toLowerCase()}\u3000`);
      expect(await t.sql(`SELECT minor_id, child_id_number FROM workflow.mandatory_report WHERE id = $1`, [pasted])).toEqual([{ minor_id: otherChild, child_id_number: registered }]);

      // The answers are alike: no child named in either.
      const a = await t.gql(police, READ_REPORT, { id: linked });
      const b = await t.gql(police, READ_REPORT, { id: unlinked });
      expect(a.data.mandatoryReport.minor).toBeNull();
      expect(b.data.mandatoryReport.minor).toBeNull();

      // ... and so must be the work behind them.
      const readLinked = await statements(() => t.gql(police, READ_REPORT, { id: linked }));
      const readUnlinked = await statements(() => t.gql(police, READ_REPORT, { id: unlinked }));
      const steps: Record<string, string[][]> = { read: [readLinked, readUnlinked] };
      for (const to of ['VERIFYING', 'HANDLED']) {
        steps[to] = [
          await statements(() => t.gql(police, STEP, { id: linked, to, note: '处置' })),
          await statements(() => t.gql(police, STEP, { id: unlinked, to, note: '处置' })),
        ];
      }
      const counts = Object.fromEntries(Object.entries(steps).map(([k, [l, u]]) => [k, { linked: l.length, unlinked: u.length }]));
      expect(counts).toEqual({
        read: { linked: readUnlinked.length, unlinked: readUnlinked.length },
        VERIFYING: { linked: steps.VERIFYING[1].length, unlinked: steps.VERIFYING[1].length },
        HANDLED: { linked: steps.HANDLED[1].length, unlinked: steps.HANDLED[1].length },
      });
    });
  });

  describe('audit of every mutation, taken or refused', () => {
    it('records a STARTED and a final event for each workflow and registry mutation, refused ones included', async () => {
      const pending = await refer();
      const employer = await t.token(ED, { role: Role.EMPLOYER, user: 'rt-audit-employer' });
      const calls: [string, string, Record<string, unknown>, Record<string, string>][] = [
        [civil, CREATE, { input: { minorId: child, type: 'COUNSELLING', toDepartment: ED, need: '心理' } }, { 'x-purpose': 'CASE_HANDLING' }],
        [civil, CREATE, { input: { minorId: otherChild, type: 'COUNSELLING', toDepartment: ED, need: '心理' } }, { 'x-purpose': 'CASE_HANDLING' }],
        [education, ACCEPT, { id: pending }, { 'x-purpose': 'CASE_HANDLING' }],
        [education, ACCEPT, { id: pending }, { 'x-purpose': 'CASE_HANDLING' }],
        [education, DECLINE, { id: randomUUID(), reason: 'r' }, { 'x-purpose': 'CASE_HANDLING' }],
        [police, STEP, { id: randomUUID(), to: 'VERIFYING', note: 'n' }, { 'x-purpose': 'CASE_HANDLING' }],
        [employer, CHECK, { input: { idNumber: 'bad', name: 'n', authorizationReference: 'r' } }, {}],
        [police, REMOVE_BAR, { id: randomUUID() }, {}],
        [civil, `mutation($id: ID!) { acknowledge(id: $id) { id } }`, { id: randomUUID() }, { 'x-purpose': 'CASE_HANDLING' }],
        [civil, `mutation($m: ID!) { recordVisit(minorId: $m, input: { notes: "走访" }) { id } }`, { m: otherChild }, { 'x-purpose': 'CASE_HANDLING' }],
      ];
      for (const [token, query, variables, headers] of calls) {
        const r = await post(t, token, { query, variables }, headers);
        const events = await eventsOf(t, r.requestId);
        const refused = Boolean(r.json.errors);
        expect([query.slice(0, 40), events.map((e) => e.outcome)[0], events.length]).toEqual([query.slice(0, 40), 'STARTED', 2]);
        expect(events[1].outcome === 'SUCCESS').toBe(!refused);
      }
    });
  });

  describe('list bounds and forged cursors', () => {
    const lists = [
      ['referrals', `query($first: Int, $after: ID) { referrals(first: $first, after: $after) { id } }`],
      ['notifications', `query($first: Int, $after: ID) { notifications(first: $first, after: $after) { id } }`],
      ['mandatoryReports', `query($first: Int, $after: ID) { mandatoryReports(first: $first, after: $after) { id } }`],
      ['overdueReports', `query($first: Int, $after: ID) { overdueReports(first: $first, after: $after) { id } }`],
    ] as const;

    it.each(lists)('%s: refuses first out of 1..500 with a typed error', async (_name, q) => {
      for (const first of [-1, 0]) refusedWith(await t.gql(civil, q, { first }), 'BAD_USER_INPUT');
      // Past the page bound: refused, by the page bound or by the query-cost limit before it runs.
      for (const first of [501, 2_147_483_647]) {
        const r = await t.gql(civil, q, { first });
        expectClean(r);
        expect(['BAD_USER_INPUT', 'LIMIT_EXCEEDED']).toContain(errorCodes(r)[0]);
        expect(r.data?.[_name] ?? null).toBeNull();
      }
      const huge = await t.gql(civil, q, { first: 2 ** 40 });
      expectClean(huge);
      expect(huge.errors?.length).toBeGreaterThan(0);
      expect(huge.data?.[_name] ?? null).toBeNull();
    });

    it.each(lists)('%s: refuses a forged, malformed or foreign `after` alike', async (_name, q) => {
      // An id of another list (a referral given to the notifications, etc.): a real id, not of this list.
      const foreign = await refer();
      const answers = await Promise.all(
        [randomUUID(), 'garbage', "'); DROP TABLE workflow.referral; --", '', foreign.toUpperCase(), child].map((after) => t.gql(civil, q, { first: 5, after })),
      );
      // `referrals` legitimately contains `foreign`: leave that one out.
      const refused = answers.filter((_, i) => !(_name === 'referrals' && i === 4));
      for (const r of refused) refusedWith(r, 'BAD_USER_INPUT');
      expect(new Set(refused.map((r) => JSON.stringify(r.errors)))).toHaveProperty('size', 1);
    });
  });

  describe('入职查询 as an oracle', () => {
    let employer: string;
    const barred = buildIdNumber('330102', '1980-05-04', 321);
    beforeAll(async () => {
      employer = await t.token(ED, { role: Role.EMPLOYER, user: 'rt-kindergarten' });
      const r = await t.gql(police, ADD_BAR, { input: { idNumber: barred, name: '张某', offence: 'SEXUAL_HARM', judgementReference: '(2025)浙0102刑初1号' } }, {});
      expect(r.errors).toBeUndefined();
    });
    const check = (idNumber: string, token = employer, name = '候选人') =>
      t.gql(token, CHECK, { input: { idNumber, name, authorizationReference: 'AUTH-RT' } }, {});

    it('answers RESTRICTED / CLEAR only; a name that does not match changes nothing; the answer carries no more', async () => {
      const a = await check(barred, employer, '完全不同的名字');
      expect(a.errors).toBeUndefined();
      expect(a.data.employmentCheck.answer).toBe('RESTRICTED');
      expect(Object.keys(a.data.employmentCheck).sort()).toEqual(['answer', 'checkId']);
      expect((await check(barred.toLowerCase())).data.employmentCheck.answer).toBe('RESTRICTED');
      expect((await check(buildIdNumber('330102', '1980-05-04', 322))).data.employmentCheck.answer).toBe('CLEAR');
      // Asking for more of the result type is refused by the schema, not answered.
      const more = await t.gql(employer, `mutation($i: EmploymentCheckInput!) { employmentCheck(input: $i) { answer offence } }`, { i: { idNumber: barred, name: 'n', authorizationReference: 'r' } }, {});
      expectClean(more);
      expect(more.errors?.length).toBeGreaterThan(0);
    });

    it('refuses invalid ID numbers and oversized input as BAD_USER_INPUT before counting; other roles FORBIDDEN', async () => {
      for (const id of ['', '33010219800504321', '330102198005043210', '３３０１０２１９８００５０４３２１X', `${barred}\u0000`, '330102198002303217']) {
        refusedWith(await check(id), 'BAD_USER_INPUT');
      }
      refusedWith(await check(barred, employer, 'n'.repeat(51)), 'BAD_USER_INPUT');
      for (const token of [civil, police, await t.token(ED, { role: Role.REPORTER })]) refusedWith(await check(barred, token), 'FORBIDDEN');
      for (const q of [`{ barredPersons { id name } }`]) refusedWith(await t.gql(employer, q, {}, {}), 'FORBIDDEN');
      refusedWith(await t.gql(employer, REMOVE_BAR, { id: randomUUID() }, {}), 'FORBIDDEN');
    });

    it('lets exactly one of two concurrent revocations of a bar succeed', async () => {
      const idNumber = buildIdNumber('330102', '1970-01-01', 11);
      const added = await t.gql(police, ADD_BAR, { input: { idNumber, name: '李某', offence: 'ABUSE', judgementReference: '(2025)浙0102刑初2号' } }, {});
      const id = added.data.addBarredPerson.id;
      const rs = await Promise.all([t.gql(police, REMOVE_BAR, { id }, {}), t.gql(await t.token(JU), REMOVE_BAR, { id }, {})]);
      rs.forEach(expectClean);
      expect(rs.filter((r) => !r.errors)).toHaveLength(1);
      expect(rs.flatMap(errorCodes)).toEqual(expect.arrayContaining(['NOT_FOUND']));
      expect((await check(idNumber)).data.employmentCheck.answer).toBe('CLEAR');
    });

    it('takes one of two concurrent listings of one judgement, the other a BAD_USER_INPUT', async () => {
      const idNumber = buildIdNumber('330102', '1971-01-01', 13);
      const input = { idNumber, name: '赵某', offence: 'ABUSE', judgementReference: '(2025)浙0102刑初3号' };
      const rs = await Promise.all([t.gql(police, ADD_BAR, { input }, {}), t.gql(police, ADD_BAR, { input }, {}), t.gql(police, ADD_BAR, { input }, {})]);
      rs.forEach(expectClean);
      expect(rs.filter((r) => !r.errors)).toHaveLength(1);
      expect(rs.filter((r) => r.errors).flatMap(errorCodes)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT']);
    });
  });

  describe('webhook destinations (SSRF), refused everywhere', () => {
    it('refuses link-local / metadata in every spelling, and unspecified', async () => {
      const urls = [
        'http://169.254.169.254/latest/meta-data/',
        'http://2852039166/',
        'http://0xa9fea9fe/',
        'http://0251.0376.0251.0376/',
        'http://169.254.43518/',
        'http://[::ffff:169.254.169.254]/',
        'http://[::ffff:a9fe:a9fe]/',
        'http://[0:0:0:0:0:ffff:169.254.169.254]/',
        'http://[64:ff9b::169.254.169.254]/',
        'http://[2002:a9fe:a9fe::1]/',
        'http://[fe80::1]/',
        'http://[::]/',
        'http://0.0.0.0/',
        'http://0/',
        'http://169.254.169.254./',
        'http://[::ffff:0.0.0.0]/',
      ];
      for (const url of urls) {
        const r = await t.gql(police, REGISTER, { url }, {});
        expectClean(r);
        expect([url, errorCodes(r)]).toEqual([url, ['BAD_USER_INPUT']]);
      }
      expect(await t.sql(`SELECT count(*)::int AS n FROM workflow.webhook WHERE created_by = 'rt-police'`)).toEqual([{ n: 0 }]);
    });

    it('refuses malformed URLs and other schemes as BAD_USER_INPUT', async () => {
      for (const url of ['', 'not a url', 'file:///etc/passwd', 'gopher://127.0.0.1/', 'ftp://example.com/', `http://example.com/${'a'.repeat(600)}`, 'http://u:p@127.0.0.1/', 'http://127.0.0.1/#x']) {
        const r = await t.gql(police, REGISTER, { url }, {});
        expectClean(r);
        expect([url, errorCodes(r)]).toEqual([url, ['BAD_USER_INPUT']]);
      }
    });
  });

  describe('registry mutations', () => {
    const ADD_GUARDIAN = `mutation($m: ID!, $i: GuardianInput!) { addGuardian(minorId: $m, input: $i) { id } }`;
    const VISIT = `mutation($m: ID!, $i: VisitInput!) { recordVisit(minorId: $m, input: $i) { id } }`;
    const ASSESS = `mutation($m: ID!, $i: AssessmentInput!) { recordAssessment(minorId: $m, input: $i) { id } }`;
    const UPDATE = `mutation($m: ID!, $i: UpdateMinorInput!) { updateMinor(id: $m, input: $i) { id } }`;
    const CATEGORY = `mutation($m: ID!, $d: String) { addCategory(minorId: $m, category: ORPHAN, identifiedAt: $d) { id } }`;

    it('answers a child of another street as an unknown id for every write, writing nothing', async () => {
      const writes: [string, Record<string, unknown>][] = [
        [ADD_GUARDIAN, { i: { relationship: 'FATHER', name: '某', phone: '13800000000' } }],
        [VISIT, { i: { notes: '走访' } }],
        [ASSESS, { i: { level: 'RED', reasons: 'r' } }],
        [UPDATE, { i: { name: '改名' } }],
        [CATEGORY, {}],
      ];
      const before = await t.sql(`SELECT updated_at, risk_level FROM registry.minor WHERE id = $1`, [otherChild]);
      for (const [q, v] of writes) {
        const a = await t.gql(civil, q, { m: otherChild, ...v });
        const b = await t.gql(civil, q, { m: randomUUID(), ...v });
        refusedWith(a, 'NOT_FOUND');
        expect(a.errors).toEqual(b.errors);
      }
      expect(await t.sql(`SELECT updated_at, risk_level FROM registry.minor WHERE id = $1`, [otherChild])).toEqual(before);
    });

    it('refuses future dates, bad phones, grids outside the jurisdiction, with nothing written', async () => {
      const future = new Date(Date.now() + 2 * 86_400_000).toISOString();
      const [{ code: foreignGrid }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE $1 LIMIT 1`, [`${OTHER_STREET}%`]);
      const cases: [string, Record<string, unknown>][] = [
        [VISIT, { i: { notes: 'n', visitedAt: future } }],
        [ASSESS, { i: { level: 'BLUE', reasons: 'r', assessedAt: future } }],
        [CATEGORY, { d: '2999-01-01' }],
        [CATEGORY, { d: '2024-02-30' }],
        [ADD_GUARDIAN, { i: { relationship: 'FATHER', name: '某', phone: 'call me' } }],
        [ADD_GUARDIAN, { i: { relationship: 'FATHER', name: '', phone: '13800000000' } }],
        [UPDATE, { i: { gridCode: foreignGrid } }],
        [UPDATE, { i: { gridCode: '330102001\u0000' } }],
        [UPDATE, { i: { name: 'a\tb' } }],
      ];
      const before = await t.sql(`SELECT * FROM registry.minor WHERE id = $1`, [child]);
      for (const [q, v] of cases) {
        const r = await t.gql(civil, q, { m: child, ...v });
        expectClean(r);
        expect([v, errorCodes(r)]).toEqual([v, ['BAD_USER_INPUT']]);
      }
      expect(await t.sql(`SELECT * FROM registry.minor WHERE id = $1`, [child])).toEqual(before);
    });

    it('tells a child newly at RED once, and a guardianship failure once, however many concurrent writes record it', async () => {
      const [{ id: fresh }] = await t.sql(
        `SELECT id FROM registry.minor WHERE grid_code LIKE $1 AND birth_date > now() - interval '15 years' AND risk_level IS DISTINCT FROM 'RED'
           AND NOT EXISTS (SELECT 1 FROM registry.minor_category c WHERE c.minor_id = minor.id AND c.category = 'DOMESTIC_VIOLENCE') ORDER BY id OFFSET 3 LIMIT 1`,
        [`${STREET}%`],
      );
      const rs = await Promise.all([1, 2, 3, 4].map(() => t.gql(civil, ASSESS, { m: fresh, i: { level: 'RED', reasons: '紧急' } })));
      rs.forEach(expectClean);
      expect(rs.filter((r) => r.errors)).toHaveLength(0);
      const red = await t.sql(`SELECT department FROM workflow.notification WHERE kind = 'CHILD_RED' AND minor_id = $1 ORDER BY department`, [fresh]);
      expect(red.map((r) => r.department)).toEqual(['CIVIL_AFFAIRS', 'EDUCATION', 'POLICE', 'WOMENS_FEDERATION']);
      const q = `mutation($m: ID!) { addCategory(minorId: $m, category: DOMESTIC_VIOLENCE) { id } }`;
      (await Promise.all([1, 2, 3].map(() => t.gql(civil, q, { m: fresh })))).forEach((r) => expect(r.errors).toBeUndefined());
      const failure = await t.sql(`SELECT department FROM workflow.notification WHERE kind = 'GUARDIANSHIP_FAILURE' AND minor_id = $1`, [fresh]);
      expect(failure.length).toBeGreaterThan(0);
      expect(failure).toHaveLength(new Set(failure.map((r) => r.department)).size);
    });

    it('takes one of two concurrent registrations of one ID number, the other a BAD_USER_INPUT', async () => {
      const birth = new Date(Date.now() - 5 * 365 * 86_400_000).toISOString().slice(0, 10);
      const idNumber = buildIdNumber('330102', birth, 991);
      const [{ code: grid }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE $1 LIMIT 1`, [`${STREET}%`]);
      const q = `mutation($i: CreateMinorInput!) { createMinor(input: $i) { id } }`;
      const i = { name: '测试', idNumber, householdRegistration: '杭州', currentAddress: '杭州', gridCode: grid };
      const rs = await Promise.all([t.gql(civil, q, { i }), t.gql(civil, q, { i }), t.gql(civil, q, { i })]);
      rs.forEach(expectClean);
      expect(rs.filter((r) => !r.errors)).toHaveLength(1);
      expect(rs.filter((r) => r.errors).flatMap(errorCodes)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT']);
    });
  });
});
