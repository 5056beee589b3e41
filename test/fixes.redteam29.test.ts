import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 29 (rt29-fixes): a re-review of the fixes committed since 47075e9 — the barred-person
 * registry's judgement key, a refused `after` recorded as a test of its child, myReports read back
 * as a read of the linked child — through the public endpoint.
 */
const ADD = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id judgementReference } }`;

describe('fixes since 47075e9, red team 29', () => {
  let t: TestHub;
  let police: string;
  let justice: string;
  let civil: string;
  /** Children of the demo registry, by street (the first 9 digits of the grid). */
  let kids: { id: string; street: string; grid: string }[];

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_EMPLOYMENT_CHECK_MIN_MS: '10' } });
    police = await t.token(Department.POLICE, { user: 'rt29-police' });
    justice = await t.token(Department.JUSTICE, { user: 'rt29-justice' });
    civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'rt29-civil' });
    const listed = await t.gql(civil, `{ minors(first: 300) { edges { node { id grid { code } } } } }`);
    expect(listed.errors).toBeUndefined();
    kids = listed.data.minors.edges.map((e: any) => ({ id: e.node.id, grid: e.node.grid.code, street: e.node.grid.code.slice(0, 9) }));
  });
  afterAll(() => t?.stop());

  const list = (token: string, idNumber: string, judgementReference: string) =>
    t.gql(token, ADD, { input: { idNumber, name: '李某', offence: 'SEXUAL_HARM', judgementReference } });

  /** The fields an event records read of one child ({} when its reads name the child nowhere). */
  const readOf = (event: Record<string, any>, minorId: string): Record<string, string> =>
    (event.reads as { minorId: string; fields: Record<string, string> }[]).find((r) => r.minorId === minorId)?.fields ?? {};

  // docs/workflows.md: "a judgement is listed once per person among the bars not revoked ... however its
  // number is spelt" (employment.resolver.ts `judgementKey`). A 案号's sequence number is as often written
  // with the ordinal 第 as without it — the pre-2016 form was `（2015）杭西刑初字第123号`, and clerks still
  // write `刑初第123号` — yet the key keeps 第, so police's `(2024)浙0102刑初456号` and justice's
  // `（2024）浙0102刑初第456号`, one judgement, are listed twice: revoking the bar the overturned
  // judgement rests on leaves the person RESTRICTED by the other copy.
  it('refuses the same judgement of the same person written with 第 before its number', async () => {
    const person = buildIdNumber('330102', '1981-06-07', 317);
    expect(errorCodes(await list(police, person, '(2024)浙0102刑初456号'))).toEqual([]);
    const again = await list(justice, person, '（2024）浙0102刑初第456号');
    expect([errorCodes(again), again.errors?.[0]?.extensions?.field]).toEqual([['BAD_USER_INPUT'], 'input.judgementReference']);
  });

  // The same key folds 〔〕 and 【】 into (), but not the white lenticular brackets 〖〗 that typesetters
  // use for 【】, nor a number written without its brackets: `〖2024〗浙0102刑初457号` and
  // `2024浙0102刑初457号` are each listed beside `(2024)浙0102刑初457号`. Dropping every bracket from
  // the key is safe: the year (four digits) is followed by the court's code, which starts with a character.
  it('refuses the same judgement of the same person written with 〖〗 or without brackets', async () => {
    const person = buildIdNumber('330102', '1982-07-08', 419);
    expect(errorCodes(await list(police, person, '(2024)浙0102刑初457号'))).toEqual([]);
    const answers = [];
    for (const spelling of ['〖2024〗浙0102刑初457号', '2024浙0102刑初457号']) {
      const again = await list(justice, person, spelling);
      answers.push([spelling, errorCodes(again), again.errors?.[0]?.extensions?.field]);
    }
    expect(answers).toEqual([
      ['〖2024〗浙0102刑初457号', ['BAD_USER_INPUT'], 'input.judgementReference'],
      ['2024浙0102刑初457号', ['BAD_USER_INPUT'], 'input.judgementReference'],
    ]);
  });

  // Pin: two listings of one judgement at once, in two spellings, by two departments: one is taken,
  // the other refused (the registry's write lock, then the person's bars compared by key).
  it('pin: two concurrent listings of one judgement in two spellings list it once', async () => {
    const person = buildIdNumber('330102', '1976-11-21', 529);
    const both = await Promise.all([list(police, person, '〔2022〕浙0102刑初9号'), list(justice, person, '（２０２２）浙0102 刑初9号')]);
    expect(both.map(errorCodes).sort()).toEqual([[], ['BAD_USER_INPUT']]);
    const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM workflow.barred_person WHERE revoked_at IS NULL AND judgement_reference LIKE '%刑初9号'`);
    expect(n).toBe(1);
  });

  // README ("Ageing out"): from the day someone turns 18 the hub answers for them "exactly as for a child
  // that does not exist", one rule (`registry.is_minor`) applied "by the workflow where it reads the
  // registry: a report's ... child". myReports' new look-up (report.resolver.ts) reads registry.minor by
  // grid alone: a report filed about a child of the filer's street, read back once that child has turned
  // 18, is recorded as a read of them — of someone the hub names to no one (`asSeenBy`, `minor(id:)`
  // answer null), and whom the filing itself would not have linked (`isMinorAt`).
  it('myReports records no read of a linked person who has turned 18 since the report was filed', async () => {
    const kid = kids[kids.length - 1];
    const reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'rt29-teacher', region: kid.street });
    const filed = await post(
      t,
      reporter,
      {
        query: `mutation($in: FileReportInput!) { fileMandatoryReport(input: $in) { id } }`,
        variables: { in: { harmType: 'NEGLECT', observation: 'rt29: left alone', location: 'school gate', regionCode: kid.grid, urgency: 'URGENT', childId: kid.id } },
      },
      {},
    );
    expect(filed.json.errors).toBeUndefined();
    const MINE = { query: `{ myReports(first: 5) { id status receivedAt } }` };
    // Control: a child of the filer's street, read back as such.
    const before = await post(t, reporter, MINE, {});
    expect(before.json.errors).toBeUndefined();
    expect(readOf(await eventOf(t, before.requestId), kid.id)).toEqual({ 'ReportReceipt.receivedAt': 'ALLOW', 'ReportReceipt.status': 'ALLOW' });
    // The child turns 18: the hub now answers for them as for no child at all.
    await t.sql(`UPDATE registry.minor SET birth_date = $2::date WHERE id = $1`, [kid.id, `${new Date().getUTCFullYear() - 19}-01-01`]);
    expect((await t.gql(civil, `query($id: ID!) { minor(id: $id) { id } }`, { id: kid.id })).data.minor).toBeNull();
    const after = await post(t, reporter, MINE, {});
    expect(after.json.errors).toBeUndefined();
    expect(after.json.data.myReports.map((r: any) => r.id)).toContain(filed.json.data.fileMandatoryReport.id);
    expect((await eventOf(t, after.requestId)).reads.map((r: any) => r.minorId)).not.toContain(kid.id);
  });

  // Pin: a refused `after` the caller may not see — a child of another street given to overdueVisits
  // (in capitals), a notification of another street's police — records nothing and is answered as an
  // unknown id is; odd values (NUL, not an id) are refused the same way, never a 500.
  it('pin: a refused `after` of another street records nothing and answers as an unknown id', async () => {
    const here = kids[0];
    const there = kids.find((k) => k.street !== here.street && k.id !== kids[kids.length - 1].id)!;
    expect(there).toBeDefined();
    const unknown = '6f1c2b9e-0000-4000-8000-00000000abcd';
    // A notification to the police of the other street: a report filed there.
    const reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'rt29-teacher-2', region: there.street });
    const filed = await t.gql(
      reporter,
      `mutation($in: FileReportInput!) { fileMandatoryReport(input: $in) { id } }`,
      { in: { harmType: 'NEGLECT', observation: 'rt29 pin', location: 'park', regionCode: there.grid, urgency: 'URGENT', childId: there.id } },
      {},
    );
    expect(filed.errors).toBeUndefined();
    const [{ id: notice }] = await t.sql(`SELECT id FROM workflow.notification WHERE subject_id = $1 AND department = 'POLICE'`, [filed.data.fileMandatoryReport.id]);
    const streetPolice = await t.token(Department.POLICE, { user: 'rt29-street-police', region: here.street });
    const streetCivil = await t.token(Department.CIVIL_AFFAIRS, { user: 'rt29-street-civil', region: here.street });
    const NOTES = `query($after: ID) { notifications(first: 1, unacknowledged: true, after: $after) { id } }`;
    const VISITS = `query($after: ID) { overdueVisits(first: 1, riskLevels: [RED, ORANGE], after: $after) { riskLevel } }`;
    const asked: [string, string, string][] = [
      [streetPolice, NOTES, notice],
      [streetPolice, NOTES, notice.toUpperCase()],
      [streetPolice, NOTES, unknown],
      [streetPolice, NOTES, 'x\u0000y'],
      [streetCivil, VISITS, there.id.toUpperCase()],
      [streetCivil, VISITS, unknown],
      [streetCivil, VISITS, 'x\u0000y'],
    ];
    const answers = [];
    for (const [token, query, after] of asked) {
      const r = await post(t, token, { query, variables: { after } });
      const event = await eventOf(t, r.requestId);
      answers.push({ status: r.status, errors: r.json.errors?.map((e: any) => [e.extensions?.code, e.extensions?.field, e.message]), reads: event.reads });
    }
    const message = answers[2].errors?.[0]?.[2];
    expect(answers).toEqual(asked.map(() => ({ status: 200, errors: [['BAD_USER_INPUT', 'after', message]], reads: [] })));
  });
});
