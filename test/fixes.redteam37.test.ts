import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const EMPLOYMENT_CHECK = { 'x-purpose': 'EMPLOYMENT_CHECK; rt37' };
const ADD = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id judgementReference } }`;
const REMOVE = `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "再审改判无罪") }`;
const CHECK = `mutation($input: EmploymentCheckInput!) { employmentCheck(input: $input) { answer } }`;

/** What a response refused, as [code, field]. */
const refusals = (json: any) => (json?.errors ?? []).map((e: any) => [e.extensions?.code, e.extensions?.field ?? null]);

/**
 * Red team 37 (rt37-fixes): the four commits of 2026-12-07 (eb7f93b..1e5558e) — EMPLOYMENT_CHECK
 * refusals, department pages' nextCursor as a read, the DateTime scalar's sub-millisecond digits,
 * and judgement keys — through the public endpoint.
 */
describe('the fixes of 2026-12-07 (red team 37)', () => {
  let t: TestHub;
  let police: string;
  let justice: string;
  let employer: string;

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_EMPLOYMENT_CHECK_MIN_MS: '10' } });
    police = await t.token(Department.POLICE, { user: 'rt37-police' });
    justice = await t.token(Department.JUSTICE, { user: 'rt37-justice' });
    employer = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'rt37-kindergarten' });
  });
  afterAll(() => t?.stop());

  const list = (token: string, idNumber: string, judgementReference: string) =>
    t.gql(token, ADD, { input: { idNumber, name: '王某', offence: 'SEXUAL_HARM', judgementReference } });
  const check = async (idNumber: string) => {
    const r = await t.gql(employer, CHECK, { input: { idNumber, name: '王某', authorizationReference: 'AUTH-rt37' } }, {});
    expect(errorCodes(r)).toEqual([]);
    return r.data.employmentCheck.answer as string;
  };

  // Bug: judgementKey (src/subgraphs/workflow/resolvers/employment.resolver.ts) drops every run of
  // characters that are neither letters nor numbers before it folds compatibility forms (NFKC).
  // Judgement numbers copied out of a PDF judgement commonly come as CJK Kangxi radicals — `⼀`
  // (U+2F00), `⼆` (U+2F06), symbols (So) that NFKC folds to 一 and 二 — and the key drops them
  // as punctuation: `(2010)⼀中刑初字第1234号` (Beijing No. 1 Intermediate Court) and
  // `(2010)⼆中刑初字第1234号` (No. 2) both key as `2010中刑初字1234号`, and so do the case numbers
  // `第⼀⼆三四号` and `第⼆⼀三四号` (1234 and 2134, as `三四号`). Two judgements keyed alike are one
  // to the registry: the second court's bar is refused as "already listed", and a revocation of the
  // first (its judgement overturned) would take the second's with it.
  it('lists two judgements of two courts, or of two numbers, written with Kangxi radicals, as two bars', async () => {
    const person = buildIdNumber('110102', '1976-05-06', 371);
    expect(errorCodes(await list(police, person, '(2010)⼀中刑初字第1234号'))).toEqual([]);
    const otherCourt = await list(justice, person, '(2010)⼆中刑初字第1234号');
    expect(errorCodes(await list(police, person, '(2011)一中刑初字第⼀⼆三四号'))).toEqual([]);
    const otherNumber = await list(justice, person, '(2011)一中刑初字第⼆⼀三四号');
    expect([refusals(otherCourt), refusals(otherNumber)]).toEqual([[], []]);
  });

  // The same bug the other way: one judgement, `(2010)一中刑初字第1234号` as typed and as pasted from
  // a PDF with the Kangxi radical `⼀` for 一 (drawn alike), keys as `2010-一中刑初字1234号` and
  // `2010中刑初字1234号`. docs/workflows.md: "a judgement is listed once per person … however its
  // number is spelt"; listed twice, and once overturned and revoked, the copy keeps the person
  // RESTRICTED to every employer (the very case commit db62171 fixed for brackets).
  it('lists (2010)一中刑初字第1234号 once however its 一 is encoded, and its revocation clears the person', async () => {
    const person = buildIdNumber('110102', '1976-05-06', 372);
    const first = await list(police, person, '(2010)一中刑初字第1234号');
    expect(errorCodes(first)).toEqual([]);
    const again = await list(justice, person, '(2010)⼀中刑初字第1234号');
    expect(errorCodes(await t.gql(police, REMOVE, { id: first.data.addBarredPerson.id }))).toEqual([]);
    expect([refusals(again), await check(person)]).toEqual([[['BAD_USER_INPUT', 'input.judgementReference']], 'CLEAR']);
  });

  // Held (pinned): under EMPLOYMENT_CHECK a receipt read beside another subgraph's field (the
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
    expect([r.status, r.json.data ?? null, refusals(r.json), served]).toEqual([400, null, [['BAD_USER_INPUT', 'x-purpose']], []]);
  });
});
