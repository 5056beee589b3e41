import { Department, Role } from '../src/auth/principal';
import { yearsBefore } from '../src/common/dates';
import { buildIdNumber } from '../src/common/id-number';
import { post } from './support/audit-helpers';
import { errorCodes, startTestHub, statementsDuring, TestHub } from './support/test-hub';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO } = Department;

const FILE = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id status receivedAt } }`;
const CHECK = `mutation($input: EmploymentCheckInput!) { employmentCheck(input: $input) { answer } }`;
const EVENTS = `query($r: ID!) { auditEvents(filter: { requestId: $r }) { edges { node { operationName document variableNames purpose { code reference } errorCodes changes { mutation id minorId fields } reads { minorId fields { field access } } } } } }`;

/** What a statement is, whatever its values: the text with its placeholders. */
const shapes = (sent: { query: string }[]) => sent.map((s) => s.query.replace(/\s+/g, ' '));

/**
 * The four non-officer roles probed as adversaries holding their own token: a reporter (强制报告),
 * an employer (入职查询), a dashboard service account and a data officer. Each may call only what its
 * column of docs/permissions.md allows; these check that nothing it may call tells it a fact of a
 * child it may not read — the registry's answer to an ID number, a child's record, the text of a report.
 */
describe('non-officer roles: nothing of a child beyond their column', () => {
  let t: TestHub;
  let child: { id: string; id_number: string; grid_code: string };
  /** A valid number no one registered: a minor's birth date, a sequence the demo never draws. */
  let unregistered: string;
  /** A valid number of an adult, whom the registry holds as no child. */
  let adult: string;

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_EMPLOYMENT_CHECK_MIN_MS: '1' } });
    [child] = await t.sql(`SELECT id, trim(id_number) AS id_number, grid_code FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
    unregistered = buildIdNumber('330102', '2015-03-04', 997);
    adult = buildIdNumber('330102', yearsBefore(new Date(), 30), 5);
    expect(await t.sql(`SELECT 1 FROM registry.minor WHERE trim(id_number) IN ($1, $2)`, [unregistered, adult])).toEqual([]);
  });
  afterAll(() => t.stop());

  describe('REPORTER', () => {
    const input = (child: Record<string, string>) => ({
      harmType: 'NEGLECT',
      observation: '连续三天未吃早饭，衣着单薄',
      location: '清波小学门口',
      regionCode: '330102001',
      urgency: 'NORMAL',
      ...child,
    });

    it('is answered a filing alike, statement for statement, whether it names a registered child (by number or id), an unregistered number or an adult’s, under any purpose it declares', async () => {
      const reporter = await t.token(ED, { role: Role.REPORTER, region: '330102001', user: 'teacher-rt10' });
      // Once before: the first request of a token reads its region, cached after.
      await t.gql(reporter, `{ myReports { id } }`, {}, {});
      const answers: unknown[] = [];
      const runs: string[][] = [];
      const named: Record<string, string>[] = [{ childIdNumber: child.id_number }, { childId: child.id }, { childIdNumber: unregistered }, { childIdNumber: adult }, { childId: '0f1b8d5e-1111-4222-8333-444455556666' }];
      const purposes: Record<string, string>[] = [{}, { 'x-purpose': 'MANDATORY_REPORT' }, { 'x-purpose': `REFERRAL; ${child.id}` }];
      for (const who of named) {
        for (const headers of purposes) {
          let r: Awaited<ReturnType<typeof post>> | undefined;
          runs.push(shapes(await statementsDuring(t, async () => void (r = await post(t, reporter, { query: FILE, variables: { input: input(who) } }, headers)))));
          const { id, receivedAt, ...rest } = r!.json.data?.fileMandatoryReport ?? {};
          answers.push({ status: r!.status, data: rest, errors: r!.json.errors, headers: [...r!.headers.keys()].sort() });
        }
      }
      // The same three answers (no purpose, a purpose, a referral purpose it holds no referral for) for every child named.
      for (let i = 3; i < answers.length; i++) expect(answers[i]).toEqual(answers[i % 3]);
      expect(answers[0]).toMatchObject({ status: 200, data: { status: 'RECEIVED' } });
      expect(answers[2]).toMatchObject({ status: 400 });
      for (let i = 3; i < runs.length; i++) expect(runs[i]).toEqual(runs[i % 3]);
    });

    it('reads back only its own reports: the same user id in another case, width or department sees none of them, and another reporter’s report is no cursor', async () => {
      const reporter = await t.token(ED, { role: Role.REPORTER, region: '330102001', user: 'teacher-li' });
      const filed = await t.gql(reporter, FILE, { input: input({ childIdNumber: child.id_number }) }, {});
      const mine = filed.data.fileMandatoryReport.id;
      const own = await t.gql(reporter, `{ myReports(first: 500) { id status receivedAt } }`, {}, {});
      expect(own.data.myReports.map((r: { id: string }) => r.id)).toEqual([mine]);
      for (const [department, user] of [
        [ED, 'Teacher-Li'],
        [ED, 'TEACHER-LI'],
        [PO, 'teacher-li'],
        [CA, 'teacher-li'],
      ] as const) {
        const other = await t.token(department, { role: Role.REPORTER, region: '330102001', user });
        const r = await t.gql(other, `{ myReports(first: 500) { id } }`, {}, {});
        expect({ user, department, reports: r.data.myReports }).toEqual({ user, department, reports: [] });
        const paged = await t.gql(other, `query($a: ID) { myReports(after: $a) { id } }`, { a: mine }, {});
        const unknown = await t.gql(other, `query($a: ID) { myReports(after: $a) { id } }`, { a: '0f1b8d5e-1111-4222-8333-444455556666' }, {});
        expect(paged.errors).toEqual(unknown.errors);
        expect(errorCodes(paged)).toEqual(['BAD_USER_INPUT']);
      }
      // In another width, or with the hyphen U+2010, the id passes for this one: no token may carry it.
      for (const user of ['ｔｅａｃｈｅｒ-ｌｉ', 'teacher‐li']) {
        const r = await t.gql(await t.token(ED, { role: Role.REPORTER, region: '330102001', user }), `{ myReports(first: 500) { id } }`, {}, {});
        expect({ user, codes: errorCodes(r) }).toEqual({ user, codes: ['UNAUTHENTICATED'] });
      }
    });
  });

  describe('EMPLOYER', () => {
    it('is answered CLEAR for a registered child’s number as for any other, in the same statements, none of which reads the registry', async () => {
      const employer = await t.token(ED, { role: Role.EMPLOYER, user: 'kindergarten-rt10' });
      // Once before: the first check records or checks the registry's key, once per process.
      await post(t, employer, { query: CHECK, variables: { input: { idNumber: unregistered, name: '李四', authorizationReference: 'HR-0' } } }, {});
      const runs: string[][] = [];
      for (const idNumber of [child.id_number, unregistered, adult]) {
        let r: Awaited<ReturnType<typeof post>> | undefined;
        const sent = await statementsDuring(t, async () => void (r = await post(t, employer, { query: CHECK, variables: { input: { idNumber, name: '张三', authorizationReference: 'HR-2026-7' } } }, {})));
        expect({ status: r!.status, json: r!.json }).toEqual({ status: 200, json: { data: { employmentCheck: { answer: 'CLEAR' } } } });
        expect(sent.filter((s) => /registry\./.test(s.query))).toEqual([]);
        runs.push(shapes(sent));
      }
      expect(runs[1]).toEqual(runs[0]);
      expect(runs[2]).toEqual(runs[0]);
    });
  });

  describe('DASHBOARD', () => {
    it('is refused every child-record root field alike for a registered child and a random id, and a dashboard below a street gets no counts, rates or trend', async () => {
      const dashboard = await t.token(CA, { role: Role.DASHBOARD });
      const ask = (id: string) =>
        t.gql(dashboard, `query($id: ID!) { minor(id: $id) { __typename } referral(id: $id) { __typename } mandatoryReport(id: $id) { __typename } minorAccessHistory(minorId: $id) { seq } }`, { id });
      const real = await ask(child.id);
      expect(real).toEqual(await ask('0f1b8d5e-1111-4222-8333-444455556666'));
      expect(errorCodes(real)).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
      for (const region of ['330102001001', '330102001001001']) {
        const below = await t.token(CA, { role: Role.DASHBOARD, region });
        const r = await t.gql(
          below,
          `{ a: minorCounts(level: GRID) { total { value } } b: minorCounts(level: STREET) { total { value } } statisticsRates(level: GRID) { total { screening { display } } } monthlyTrend(months: 3) { points { count { value } } } }`,
        );
        expect(r.status).toBe(200);
        expect(r.data).toEqual({ a: null, b: null, statisticsRates: null, monthlyTrend: null });
        expect(r.errors!.map((e) => e.extensions?.code).sort()).toEqual(['BAD_USER_INPUT', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
      }
    });
  });

  describe('AUDITOR', () => {
    it('reads a reporter’s filing as who, when and which fields: none of the report’s text nor the ID number it named, inline or sent as variables', async () => {
      const reporter = await t.token(ED, { role: Role.REPORTER, region: '330102001', user: 'teacher-zhou' });
      const auditor = await t.token(CA, { role: Role.AUDITOR, region: '330102001' });
      const texts = ['邻居反映夜间常有哭喊声', '湖滨路17号302室', '约八岁男孩，左臂有疤', child.id_number, 'RT10-1'];
      const inline = `mutation { fileMandatoryReport(input: { harmType: SEXUAL_ABUSE, observation: "${texts[0]}", location: "${texts[1]}", childDescription: "${texts[2]}", childIdNumber: "${texts[3]}", reporterUnit: "${texts[4]}", regionCode: "330102001", urgency: URGENT }) { id } }`;
      const sent = [
        await post(t, reporter, { query: inline }, {}),
        await post(t, reporter, { query: FILE, variables: { input: { harmType: 'SEXUAL_ABUSE', observation: texts[0], location: texts[1], childDescription: texts[2], childIdNumber: texts[3], reporterUnit: texts[4], regionCode: '330102001', urgency: 'URGENT' } } }, {}),
      ];
      for (const r of sent) {
        expect(r.json.errors).toBeUndefined();
        await t.hub.audit.drain();
        const seen = await t.gql(auditor, EVENTS, { r: r.requestId });
        expect(seen.errors).toBeUndefined();
        const [event] = seen.data.auditEvents.edges.map((e: { node: any }) => e.node);
        // The filer's jurisdiction holds the child: the change names it, by id only.
        expect(event.changes.map(({ mutation, minorId }: { mutation: string; minorId: string }) => ({ mutation, minorId }))).toEqual([{ mutation: 'fileMandatoryReport', minorId: child.id }]);
        const answered = JSON.stringify(seen);
        const stored = JSON.stringify(await t.sql(`SELECT body FROM audit.event WHERE request_id = $1`, [r.requestId]));
        for (const text of [...texts, 'SEXUAL_ABUSE', 'URGENT']) {
          expect({ text, answered: answered.includes(text), stored: stored.includes(text) }).toEqual({ text, answered: false, stored: false });
        }
      }
    });
  });
});
