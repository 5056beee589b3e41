import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { earliestMinorBirth } from '../src/common/validation';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU } = Department;
const DAY = 86_400_000;
const STREET = '330102001';
const OTHER_STREET = '330102002';

const FILE = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id status receivedAt } }`;
const STEP = `mutation($id: ID!, $to: ReportStatus!, $note: String!) { transitionReport(id: $id, to: $to, note: $note) { id status transitions { fromStatus toStatus } } }`;
const SEE = `query($id: ID!) { mandatoryReport(id: $id) { id status minor { id } transitions { fromStatus toStatus } } }`;
const REFER = `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id status grantedFields } }`;
const PHONE = `query($id: ID!) { minor(id: $id) { id guardians { phone } } }`;

/**
 * Red team 49 (rt49c): mandatory reports (强制报告) and referrals (转介) — the dates a report takes,
 * existence leaks to the reporter, the state machine, the jurisdiction of reports, referral grants.
 */
describe('mandatory reports and referrals (red team 49)', () => {
  let t: TestHub;
  let kid: { id: string; id_number: string; grid_code: string; birth_date: string };
  let reporter: string;
  let police: string;
  let civil: string;

  beforeAll(async () => {
    t = await startTestHub({});
    // A young registered child: born within the last six years, so that a time before its birth is
    // still inside the window every report takes (the last 18 years).
    [kid] = await t.sql(
      `SELECT m.id, trim(m.id_number) AS id_number, m.grid_code, to_char(m.birth_date, 'YYYY-MM-DD') AS birth_date FROM registry.minor m
        WHERE m.grid_code LIKE '${STREET}%' AND m.birth_date > now() - interval '6 years' AND registry.is_minor(m.birth_date, now()) ORDER BY m.id LIMIT 1`,
    );
    reporter = await t.token(ED, { role: Role.REPORTER, user: 'rt49c-teacher' });
    police = await t.token(PO, { region: STREET, user: 'rt49c-police' });
    civil = await t.token(CA, { region: STREET, user: 'rt49c-civil' });
  });
  afterAll(() => t?.stop());

  const input = (over: Record<string, unknown> = {}) => ({
    harmType: 'PHYSICAL_ABUSE',
    observation: '手臂多处淤青，自述被家长殴打',
    location: '清波小学',
    regionCode: kid.grid_code,
    urgency: 'URGENT',
    ...over,
  });
  const reportCount = async () => Number((await t.sql(`SELECT count(*) AS n FROM workflow.mandatory_report`))[0].n);
  const file = async (over: Record<string, unknown> = {}): Promise<string> => {
    const r = await t.gql(reporter, FILE, { input: input(over) }, {});
    expect(r.errors).toBeUndefined();
    return r.data.fileMandatoryReport.id;
  };
  /** The answer without what differs between any two filings (ids, times). */
  const shape = (r: { status?: number; data?: unknown; errors?: unknown }) =>
    JSON.parse(JSON.stringify(r).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'ID').replace(/\d{4}-\d{2}-\d{2}T[\d:.]+Z/g, 'TIME'));

  it('refuses a report whose child ID number states a birth date after today (a made-up number), before anything is stored', async () => {
    // Found by red team 49: `fileMandatoryReport` took `childIdNumber` through `requireIdNumber`
    // alone, which checks the digits, the check character and the address code, not that the birth
    // date the number states (`idNumberBirthDate`, digits 7–14) has come. A number "born" on 2030-01-01
    // was filed and handed to police and civil affairs as the child's number. Every other path that
    // takes a number refused it (docs/workflows.md, 入职查询: "a number whose birth date is after today in China …
    // valid but for that, so made up or garbled past its check character — is refused"; the
    // registry by registry.validation.ts). The refusal reads nothing of the registry: the same
    // for every such number, it tells the reporter nothing (requirePersonIdNumber, as employment checks).
    const before = await reportCount();
    const r = await t.gql(reporter, FILE, { input: input({ childIdNumber: buildIdNumber('330102', '2030-01-01', 11) }) }, {});
    expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors?.[0]?.extensions?.field).toBe('childIdNumber');
    expect(await reportCount()).toBe(before);
  });

  it('refuses a report observed before the birth its own child ID number states, a registered child’s number and an unknown one alike', async () => {
    // Found by red team 49: `observedAt` was checked only against the hub's clock and the earliest
    // birth of any child today (`requireChildhoodTime`), not against the child the report names. A
    // report of harm observed in 2020 about a child whose own number says born 2021 was stored, linked to the registered
    // child (`MandatoryReport.minor`), and, once HANDLED, asks civil affairs to reassess the child on
    // an observation from before it was born. Refusing by the registry's birth date would tell the
    // reporter the child exists; but the number the reporter gave states its own birth date
    // (digits 7–14, which registration checks against the birth date), so the check needs no
    // registry read and answers a registered number exactly as an unregistered one.
    // Now refused from the number alone (BAD_USER_INPUT on observedAt), before the transaction.
    const born = new Date(`${kid.birth_date}T00:00:00+08:00`);
    const observedAt = new Date(born.getTime() - 400 * DAY).toISOString();
    const unregistered = buildIdNumber(kid.id_number.slice(0, 6), kid.birth_date, 997);
    expect((await t.sql(`SELECT 1 FROM registry.minor WHERE trim(id_number) = $1`, [unregistered])).length).toBe(0);
    const before = await reportCount();
    const registeredAnswer = await t.gql(reporter, FILE, { input: input({ childIdNumber: kid.id_number, observedAt }) }, {});
    const unknownAnswer = await t.gql(reporter, FILE, { input: input({ childIdNumber: unregistered, observedAt }) }, {});
    // The same answer, whoever the number is: no oracle on the registry.
    expect(shape(registeredAnswer)).toEqual(shape(unknownAnswer));
    expect([errorCodes(registeredAnswer), registeredAnswer.errors?.[0]?.extensions?.field]).toEqual([['BAD_USER_INPUT'], 'observedAt']);
    expect(await reportCount()).toBe(before);
  });

  it('pin: takes a time at most a minute ahead and from the first China day a child of today can have been born, not before', async () => {
    const earliest = earliestMinorBirth(new Date());
    const first = new Date(`${earliest}T00:00:00+08:00`);
    // Midnight in China of that day is 16:00 UTC the day before: taken; a millisecond earlier is refused.
    expect((await t.gql(reporter, FILE, { input: input({ observedAt: first.toISOString() }) }, {})).errors).toBeUndefined();
    const early = await t.gql(reporter, FILE, { input: input({ observedAt: new Date(first.getTime() - 1).toISOString() }) }, {});
    expect([errorCodes(early), early.errors?.[0]?.extensions?.field]).toEqual([['BAD_USER_INPUT'], 'observedAt']);
    const ahead = await t.gql(reporter, FILE, { input: input({ observedAt: new Date(Date.now() + 5 * 60_000).toISOString() }) }, {});
    expect([errorCodes(ahead), ahead.errors?.[0]?.extensions?.field]).toEqual([['BAD_USER_INPUT'], 'observedAt']);
  });

  it('pin: answers a report naming a registered child exactly as one naming an unknown number, and the receipt names neither', async () => {
    const unknown = buildIdNumber(kid.id_number.slice(0, 6), kid.birth_date, 995);
    const a = await t.gql(reporter, FILE, { input: input({ childIdNumber: kid.id_number }) }, {});
    const b = await t.gql(reporter, FILE, { input: input({ childIdNumber: unknown }) }, {});
    expect(shape(a)).toEqual(shape(b));
    expect(a.errors).toBeUndefined();
    const mine = await t.gql(reporter, `{ myReports(first: 500) { id status receivedAt } }`, {}, {});
    const ids = [a.data.fileMandatoryReport.id, b.data.fileMandatoryReport.id];
    const receipts = (mine.data.myReports as { id: string }[]).filter((r) => ids.includes(r.id));
    expect(receipts.map((r) => Object.keys(r).sort())).toEqual([['id', 'receivedAt', 'status'], ['id', 'receivedAt', 'status']]);
    // The handlers of the street do see the link.
    expect((await t.gql(police, SEE, { id: a.data.fileMandatoryReport.id })).data.mandatoryReport.minor).toEqual({ id: kid.id });
  });

  it('pin: refuses steps out of order or by the wrong department, writing nothing, and hides the report from another street', async () => {
    const id = await file({ childIdNumber: kid.id_number });
    const skip = await t.gql(police, STEP, { id, to: 'HANDLED', note: '跳过核查' });
    expect([errorCodes(skip), skip.errors?.[0]?.extensions?.field]).toEqual([['BAD_USER_INPUT'], 'to']);
    expect((await t.gql(police, STEP, { id, to: 'VERIFYING', note: '开始核查' })).errors).toBeUndefined();
    // Only police declare a report unfounded.
    expect(errorCodes(await t.gql(civil, STEP, { id, to: 'UNFOUNDED', note: '不实' }))).toEqual(['FORBIDDEN']);
    // The police of another street neither read nor step it.
    const other = await t.token(PO, { region: OTHER_STREET, user: 'rt49c-other-police' });
    expect((await t.gql(other, SEE, { id })).data.mandatoryReport).toBeNull();
    expect(errorCodes(await t.gql(other, STEP, { id, to: 'HANDLED', note: '越权' }))).toEqual(['NOT_FOUND']);
    // Nothing of the refused steps was written.
    const seen = await t.gql(police, SEE, { id });
    expect(seen.data.mandatoryReport).toMatchObject({ status: 'VERIFYING', transitions: [{ fromStatus: 'RECEIVED', toStatus: 'VERIFYING' }] });
    expect(await t.sql(`SELECT status, reassessment_due FROM workflow.mandatory_report WHERE id = $1`, [id])).toEqual([{ status: 'VERIFYING', reassessment_due: false }]);
    // The step taken is recorded as a change of the report, naming its child.
    const handled = await post(t, police, { query: STEP, variables: { id, to: 'HANDLED', note: '已处置' } });
    expect(handled.json.errors).toBeUndefined();
    expect((await eventOf(t, handled.requestId)).changes).toEqual([{ mutation: 'transitionReport', id, minorId: kid.id, fields: ['id', 'note', 'to'] }]);
  });

  it('refuses a report filed under a referral’s purpose before it runs, whatever child it names', async () => {
    // Found by red team 49: under `REFERRAL; <id>` (a purpose bound to the referral's child) an
    // officer of the receiving department files a mandatory report naming ANOTHER child of its
    // street: `fileMandatoryReport` answered 200 with the receipt, and the trail recorded a change of
    // that other child (`changes[0].minorId`) carrying a purpose that checks out — the referral of a
    // different child. The resolver calls `belongsTo` but never `servedUnnamedChild`, so the
    // purpose-bound check of the audit plugin saw no read of another child. `myReports` withholds every receipt under such a
    // purpose, linked or not ("a receipt … under a purpose bound to one child … is another child's,
    // every one alike"; README: "a record about a child it names to no one … is refused whole"), and
    // `createReferral` / `acceptReferral` of another child under it are withheld (403). The filing's
    // receipt is the same record. Now a filing under a purpose bound to one child is refused before
    // it runs (400 on x-purpose), as under EMPLOYMENT_CHECK, whatever child it names: no oracle.
    const ed = await t.token(ED, { region: STREET, user: 'rt49c-ed-purpose' });
    const [other] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND id <> $1 AND registry.is_minor(birth_date, now()) ORDER BY id LIMIT 1`, [kid.id]);
    const made = await t.gql(civil, REFER, { input: { minorId: kid.id, type: 'MEDICAL_AID', toDepartment: ED, need: '需要联系监护人' } });
    expect(made.errors).toBeUndefined();
    const id: string = made.data.createReferral.id;
    // Precondition: a referral of another child, under that purpose, is withheld.
    const asideReferral = await post(t, ed, { query: REFER, variables: { input: { minorId: other.id, type: 'COUNSELLING', toDepartment: CA, need: '心理疏导' } } }, { 'x-purpose': `REFERRAL; ${id}` });
    expect(asideReferral.status).toBe(403);
    const before = await reportCount();
    const filed = await post(t, ed, { query: FILE, variables: { input: input({ childId: other.id }) } }, { 'x-purpose': `REFERRAL; ${id}` });
    // Refused before it runs, naming the child of no registry alike: nothing filed, no oracle.
    const unknown = await post(t, ed, { query: FILE, variables: { input: input({ childIdNumber: buildIdNumber('330102', '2016-05-05', 13) }) } }, { 'x-purpose': `REFERRAL; ${id}` });
    const answer = (r: typeof filed) => ({ status: r.status, field: r.json.errors?.[0]?.extensions?.field, message: r.json.errors?.[0]?.message, receipt: r.json.data?.fileMandatoryReport ?? null });
    expect(answer(filed)).toMatchObject({ status: 400, field: 'x-purpose', receipt: null });
    expect(answer(unknown)).toEqual(answer(filed));
    expect(await reportCount()).toBe(before);
    await t.gql(ed, `mutation($id: ID!) { declineReferral(id: $id, reason: "rt49c") { status } }`, { id });
  });

  it('pin: a cursor naming a report or referral the caller cannot see is refused exactly as an id that names nothing', async () => {
    const id = await file({});
    const other = await t.token(PO, { region: OTHER_STREET, user: 'rt49c-other-cursor' });
    const nothing = '6f1d7a4e-1234-4abc-8def-0123456789ab';
    const rep2 = await t.token(ED, { role: Role.REPORTER, user: 'rt49c-teacher2' });
    const ed = await t.token(ED, { region: STREET, user: 'rt49c-ed-cursor' });
    const ref = await t.gql(civil, REFER, { input: { minorId: kid.id, type: 'MEDICAL_AID', toDepartment: Department.YOUTH_LEAGUE, need: '需要联系监护人' } });
    expect(ref.errors).toBeUndefined();
    const cases: [string, string, string, Record<string, string> | undefined][] = [
      [other, `query($a: ID) { mandatoryReports(first: 2, after: $a) { id } }`, id, undefined],
      [other, `query($a: ID) { overdueReports(first: 2, after: $a) { id } }`, id, undefined],
      [rep2, `query($a: ID) { myReports(first: 2, after: $a) { id } }`, id, {}],
      [ed, `query($a: ID) { referrals(first: 2, after: $a) { id } }`, ref.data.createReferral.id, undefined],
    ];
    for (const [token, query, foreign, headers] of cases) {
      const seen = await t.gql(token, query, { a: foreign }, headers);
      const none = await t.gql(token, query, { a: nothing }, headers);
      expect(seen).toEqual(none);
      expect(errorCodes(seen)).toEqual(['BAD_USER_INPUT']);
    }
    await t.gql(await t.token(Department.YOUTH_LEAGUE, { region: STREET }), `mutation($id: ID!) { declineReferral(id: $id, reason: "rt49c") { status } }`, { id: ref.data.createReferral.id });
  });

  it('pin: a referral addressed to civil affairs opens nothing to civil affairs’ data officers, dashboards or reporters', async () => {
    const r = await t.gql(police, REFER, { input: { minorId: kid.id, type: 'PLACEMENT', toDepartment: CA, need: '临时安置' } });
    expect(r.errors).toBeUndefined();
    const id: string = r.data.createReferral.id;
    for (const role of [Role.AUDITOR, Role.DASHBOARD, Role.REPORTER]) {
      const token = await t.token(CA, { region: STREET, role, user: `rt49c-${role}` });
      const a = await post(t, token, { query: `query($id: ID!) { minor(id: $id) { id currentAddress guardians { phone } } }`, variables: { id: kid.id } }, { 'x-purpose': `REFERRAL; ${id}` });
      expect([role, a.status, a.json.data ?? null]).toEqual([role, 400, null]);
    }
    await t.gql(civil, `mutation($id: ID!) { declineReferral(id: $id, reason: "rt49c") { status } }`, { id });
  });

  it('pin: a referral’s grant is used only by the receiving department under its exact id, and ends with its decline', async () => {
    const ed = await t.token(ED, { region: STREET, user: 'rt49c-ed' });
    const ju = await t.token(JU, { region: STREET, user: 'rt49c-ju' });
    const r = await t.gql(civil, REFER, { input: { minorId: kid.id, type: 'MEDICAL_AID', toDepartment: ED, need: '需要联系监护人' } });
    expect(r.errors).toBeUndefined();
    const id: string = r.data.createReferral.id;
    const [{ phone }] = await t.sql(`SELECT phone FROM registry.guardian WHERE minor_id = $1 AND phone IS NOT NULL ORDER BY id LIMIT 1`, [kid.id]);
    const read = (token: string, purpose: string) => post(t, token, { query: PHONE, variables: { id: kid.id } }, { 'x-purpose': purpose });
    const open = await read(ed, `REFERRAL; ${id}`);
    expect(JSON.stringify(open.json.data)).toContain(phone);
    // Not the department it is not addressed to, nor the referrer, nor the id in capitals.
    for (const [token, purpose] of [[ju, `REFERRAL; ${id}`], [civil, `REFERRAL; ${id}`], [ed, `REFERRAL; ${id.toUpperCase()}`]]) {
      const refused = await read(token, purpose);
      expect([refused.status, refused.json.errors?.[0]?.extensions?.field]).toEqual([400, 'x-purpose']);
    }
    expect((await t.gql(ed, `mutation($id: ID!) { declineReferral(id: $id, reason: "不属本部门职责") { status } }`, { id })).data.declineReferral).toEqual({ status: 'DECLINED' });
    const closed = await read(ed, `REFERRAL; ${id}`);
    expect([closed.status, closed.json.errors?.[0]?.extensions?.field]).toEqual([400, 'x-purpose']);
    expect(JSON.stringify(closed.json)).not.toContain(phone);
    // Nor is a declined referral taken up again.
    expect(errorCodes(await t.gql(ed, `mutation($id: ID!) { acceptReferral(id: $id) { status } }`, { id }))).toEqual(['BAD_USER_INPUT']);
  });
});
