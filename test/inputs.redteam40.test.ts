import { Department } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { eventOf, post } from './support/audit-helpers';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

/**
 * Red team 40 (rt40-inputs): input handling across the subgraphs' mutations and filtered queries,
 * through the public endpoint, in process and with every subgraph served alone.
 */
const STREET = '330102001';
const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO } = Department;
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; rt40' };
/** A month that does not exist: DateTimeISO (graphql-scalars) refuses it. */
const BAD_TIME = '2026-13-01T00:00:00Z';

const report = (observedAt: string) =>
  `fileMandatoryReport(input: {observation: "rt40 观察", location: "学校门口", observedAt: ${observedAt}, harmType: NEGLECT, urgency: NORMAL, regionCode: "${STREET}"}) { id }`;
const enrolment = (school: string, grade = '3') =>
  `createSchoolEnrollment(minorId: $m, input: {school: "${school}", grade: ${grade}, status: ENROLLED, enrolledOn: "2024-09-01"}) { id }`;

describe.each([
  ['in process', false],
  ['with every subgraph served alone', true],
])('input refusals, %s (red team 40)', (_mode, distributed) => {
  let t: TestHub;
  let child: string;
  let n = 0;
  const unique = (what: string) => `rt40-${distributed ? 'd' : 'p'}-${what}-${++n}`;

  beforeAll(async () => {
    t = distributed ? await startDistributedTestHub() : await startTestHub();
    [{ id: child }] = await t.sql(
      `SELECT m.id FROM registry.minor m JOIN registry.minor_jurisdiction j ON j.minor_id = m.id
        WHERE j.grid_code LIKE $1 AND m.birth_date < now() - interval '10 years' ORDER BY m.id LIMIT 1`,
      [`${STREET}%`],
    );
  });
  afterAll(() => t?.stop());

  const send = async (dept: Department, query: string, variables: Record<string, unknown>) => {
    const r = await post(t, await t.token(dept, { region: STREET, user: 'rt40-officer' }), { query, variables }, PURPOSE);
    const e = await eventOf(t, r.requestId);
    return {
      status: r.status,
      data: r.json?.data ?? null,
      codes: (r.json?.errors ?? []).map((x: any) => x.extensions?.code),
      event: { outcome: e.outcome, errorCodes: e.errorCodes, changes: (e.changes ?? []).map((c: any) => c.mutation) },
    };
  };
  const enrolled = async (school: string) => Number((await t.sql(`SELECT count(*)::int AS n FROM education.school_enrollment WHERE school = $1`, [school]))[0].n);
  const referred = async (need: string) => Number((await t.sql(`SELECT count(*)::int AS n FROM workflow.referral WHERE need = $1`, [need]))[0].n);

  // BUG. A variable's value the DateTimeISO scalar refuses is a refused request (BAD_USER_INPUT, as
  // an Int out of range is: HTTP 400, nothing runs). The supergraph knows DateTimeISO by name only,
  // so the gateway runs the plan, and only the fetch that uses the variable is refused: the request's
  // other root mutations, in another subgraph, run and commit. The client is told its input was
  // refused, the event is PARTIAL with the change in it, and a retry with the date corrected writes
  // the enrolment (or referral) a second time.
  it('writes nothing for a mutation request whose DateTimeISO variable is refused, whichever subgraph its other mutations are in', async () => {
    const school = unique('enrol');
    const asSchool = await send(ED, `mutation($m: ID!, $t: DateTimeISO!) { ${report('$t')} ${enrolment(school)} }`, { m: child, t: BAD_TIME });
    const need = unique('need');
    const asCivil = await send(
      CA,
      `mutation($m: ID!, $t: DateTimeISO) { recordVisit(minorId: $m, input: {visitedAt: $t, notes: "rt40 走访"}) { id } createReferral(input: {minorId: $m, type: EDUCATION_AID, toDepartment: "EDUCATION", need: "${need}"}) { id } }`,
      { m: child, t: BAD_TIME },
    );
    const seen = (r: Awaited<ReturnType<typeof send>>, written: number) => ({ codes: r.codes, outcome: r.event.outcome, changes: r.event.changes, written });
    expect({ school: seen(asSchool, await enrolled(school)), civil: seen(asCivil, await referred(need)) }).toEqual({
      school: { codes: ['BAD_USER_INPUT'], outcome: 'INVALID', changes: [], written: 0 },
      civil: { codes: ['BAD_USER_INPUT'], outcome: 'INVALID', changes: [], written: 0 },
    });
  });

  // BUG, the same for a literal of the document: the supergraph takes any literal for DateTimeISO,
  // so a document the subgraph finds invalid (GRAPHQL_VALIDATION_FAILED there, answered
  // BAD_USER_INPUT) has its other mutations run. An invalid Int literal is refused before anything runs.
  it('writes nothing for a mutation document holding a DateTimeISO literal the scalar refuses', async () => {
    const school = unique('enrol-literal');
    const r = await send(ED, `mutation($m: ID!) { ${report(`"${BAD_TIME}"`)} ${enrolment(school)} }`, { m: child });
    // Refused as the client's input, however a fix labels it (BAD_USER_INPUT today, or as the Int literal's validation failure).
    const refused = r.codes.length > 0 && r.codes.every((c: string) => c === 'BAD_USER_INPUT' || c === 'GRAPHQL_VALIDATION_FAILED');
    expect({ refused, changes: r.event.changes, written: await enrolled(school) }).toEqual({ refused: true, changes: [], written: 0 });
  });

  // Pin: the refusals that already stop the whole request, which a fix must keep so — an Int
  // variable out of range (HTTP 400, nothing runs), an invalid Int literal, and a refused DateTimeISO
  // variable when every mutation of the request is in the subgraph that refuses it (one fetch).
  it('pin: writes nothing for a refused Int variable or literal, nor for a refused date when the request’s mutations share one subgraph', async () => {
    const intVar = unique('int-var');
    const a = await send(ED, `mutation($m: ID!, $g: Int!) { ${report('"2026-12-01T00:00:00Z"')} ${enrolment(intVar, '$g')} }`, { m: child, g: 2 ** 31 });
    const intLiteral = unique('int-literal');
    const b = await send(ED, `mutation($m: ID!) { ${report('"2026-12-01T00:00:00Z"')} ${enrolment(intLiteral, '2147483648')} }`, { m: child });
    const need = unique('same-subgraph');
    const c = await send(ED, `mutation($m: ID!, $t: DateTimeISO!) { ${report('$t')} createReferral(input: {minorId: $m, type: EDUCATION_AID, toDepartment: "CIVIL_AFFAIRS", need: "${need}"}) { id } }`, { m: child, t: BAD_TIME });
    expect([
      [a.status, a.codes, await enrolled(intVar)],
      [b.status, b.codes, await enrolled(intLiteral)],
      [c.codes, c.event.changes, await referred(need)],
    ]).toEqual([
      [400, ['BAD_USER_INPUT'], 0],
      [400, ['GRAPHQL_VALIDATION_FAILED'], 0],
      [['BAD_USER_INPUT'], [], 0],
    ]);
  });

  // BUG. A bar's end (restrictedUntil) is checked to be a date and not past, but has no upper bound:
  // 9999-12-31, or 2207 typed for 2027, is listed, and every employment check answers RESTRICTED
  // for centuries. The hub refuses such dates everywhere else as typing errors: a sentence's or a
  // correction's end more than 25 years ahead (requireSentenceEnd: "2207 for 2027 … was taken"), a
  // department record dated 9999; a bar for life is asked for by leaving the date out.
  it('refuses a bar whose end lies centuries ahead (9999-12-31, 2207 for 2027) as a typing error, listing nothing', async () => {
    const answers: unknown[] = [];
    for (const until of ['9999-12-31', '2207-01-01']) {
      const name = unique('bar').replace(/[^a-z0-9]/g, '');
      const idNumber = buildIdNumber('330102', '1980-05-05', 100 + n);
      const r = await post(
        t,
        await t.token(PO, { region: STREET }),
        {
          query: `mutation($i: BarredPersonInput!) { addBarredPerson(input: $i) { id restrictedUntil } }`,
          variables: { i: { idNumber, name: `张${name}`, offence: 'ABUSE', judgementReference: `(2024)浙0102刑初${n}号`, restrictedUntil: until } },
        },
        PURPOSE,
      );
      const [{ n: listed }] = await t.sql(`SELECT count(*)::int AS n FROM workflow.barred_person WHERE name = $1`, [`张${name}`]);
      answers.push([until, (r.json.errors ?? []).map((e: any) => [e.extensions?.code, e.extensions?.field]), listed]);
    }
    expect(answers).toEqual([
      ['9999-12-31', [['BAD_USER_INPUT', 'input.restrictedUntil']], 0],
      ['2207-01-01', [['BAD_USER_INPUT', 'input.restrictedUntil']], 0],
    ]);
  });

  // BUG (low). A report's observedAt is checked only not to be in the future nor before 1900: a
  // report observed in 1901 or 2000 — before any child the hub serves was born (the day after 18 years
  // ago) — is filed. Every department record refuses such a date as a typing error
  // (requireChildhoodDate, "no registered child was born earlier"), which tells nothing of any child.
  it('refuses a mandatory report observed before any child the hub serves was born, filing nothing', async () => {
    const answers: unknown[] = [];
    for (const observedAt of ['1901-01-01T00:00:00.000Z', '2000-06-01T00:00:00.000Z']) {
      const location = unique('place');
      const r = await post(
        t,
        await t.token(ED, { region: STREET }),
        {
          query: `mutation($i: FileReportInput!) { fileMandatoryReport(input: $i) { id } }`,
          variables: { i: { observation: '孩子长期无人照看', location, observedAt, harmType: 'NEGLECT', urgency: 'NORMAL', regionCode: STREET } },
        },
        PURPOSE,
      );
      const [{ n: filed }] = await t.sql(`SELECT count(*)::int AS n FROM workflow.mandatory_report WHERE location = $1`, [location]);
      answers.push([observedAt, (r.json.errors ?? []).map((e: any) => [e.extensions?.code, e.extensions?.field]), filed]);
    }
    expect(answers).toEqual([
      ['1901-01-01T00:00:00.000Z', [['BAD_USER_INPUT', 'observedAt']], 0],
      ['2000-06-01T00:00:00.000Z', [['BAD_USER_INPUT', 'observedAt']], 0],
    ]);
  });
});
