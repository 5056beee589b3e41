import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { errorCodes, GqlResult, startTestHub, TestHub } from './support/test-hub';
import { birthYearsAgo } from './support/birth-dates';
import { post } from './support/audit-helpers';

jest.setTimeout(300_000);

/**
 * Red team 33 (rt33-today): today's fixes — 2fb2c81 (EMPLOYMENT_CHECK never serves a child's data),
 * 48d394e (a recorded time finer than the millisecond is refused), ba6dbe1 + 2629d7f (revoking a bar
 * revokes the person's other bars of the same judgement key).
 */
const CHECK = `mutation($input: EmploymentCheckInput!) { employmentCheck(input: $input) { answer } }`;
const ADD = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id } }`;
const REMOVE = `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "再审改判无罪") }`;

describe('today’s fixes (rt33-today)', () => {
  let t: TestHub;
  let police: string;
  let justice: string;
  let employer: string;
  let civil: string;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_EMPLOYMENT_CHECK_MIN_MS: '10' } });
    police = await t.token(Department.POLICE, { user: 'rt33t-police' });
    justice = await t.token(Department.JUSTICE, { user: 'rt33t-justice' });
    employer = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'rt33t-kindergarten' });
    civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'rt33t-civil' });
  });
  afterAll(() => t?.stop());

  const check = async (idNumber: string) => {
    const r = await t.gql(employer, CHECK, { input: { idNumber, name: '张某', authorizationReference: 'AUTH-rt33t' } }, {});
    expect(errorCodes(r)).toEqual([]);
    return r.data.employmentCheck.answer as string;
  };
  const list = (token: string, idNumber: string, judgementReference: string, offence = 'SEXUAL_HARM') =>
    t.gql(token, ADD, { input: { idNumber, name: '张某', offence, judgementReference } });
  // A bar an earlier release let in (the registry's own listing refuses it now): the person's row copied.
  const legacyCopy = async (barId: string, reference: string, offence = 'ABUSE') =>
    (
      await t.sql(
        `INSERT INTO workflow.barred_person (id, id_number_hash, name, offence, judgement_reference, restricted_until, created_by, created_by_department, created_by_region, created_at)
         SELECT gen_random_uuid(), id_number_hash, name, $3, $2, restricted_until, created_by, created_by_department, created_by_region, created_at FROM workflow.barred_person WHERE id = $1 RETURNING id`,
        [barId, reference, offence],
      )
    )[0].id as string;

  // Bug: judgementKey's separator rule tests `\d`, ASCII only, while it keeps every \p{N} digit and
  // NFKC folds circled digits, superscripts and Roman numerals: the separator between two
  // Arabic-Indic (or Chinese) numbers is dropped, `١٢-١٣号` (judgements 12 and 13) keys as `١٢١٣号`
  // (judgement 1213), `Ⅺ、Ⅰ号` as `Ⅻ号`, `①②号` as `12号`, `1²号` as `12号`. Listed first, one keeps the
  // other out ("already listed"); a legacy pair is revoked together (ba6dbe1): the judgement that was
  // overturned takes the other with it, and a barred person is answered CLEAR.
  it('revoking one judgement leaves a different judgement that keys alike in force (RESTRICTED)', async () => {
    const pairs = [
      [901, '(2024)浙0102刑初١٢١٣号', '(2024)浙0102刑初١٢-١٣号'],
      [902, '(2024)浙0102刑初Ⅻ号', '(2024)浙0102刑初Ⅺ、Ⅰ号'],
      [903, '(2024)浙0102刑初12号', '(2024)浙0102刑初①②号'],
      [904, '(2024)浙0102刑初一二一三号', '(2024)浙0102刑初一二、一三号'],
    ] as const;
    const outcome = [];
    for (const [sequence, first, other] of pairs) {
      const person = buildIdNumber('330102', '1978-06-07', sequence);
      const listed = await list(police, person, first);
      expect(errorCodes(listed)).toEqual([]);
      const barId: string = listed.data.addBarredPerson.id;
      const second = await list(justice, person, other, 'ABUSE');
      if (errorCodes(second).length) await legacyCopy(barId, other);
      expect(errorCodes(await t.gql(police, REMOVE, { id: barId }))).toEqual([]);
      outcome.push([other, errorCodes(second), await check(person)]);
    }
    expect(outcome).toEqual(pairs.map(([, , other]) => [other, [], 'RESTRICTED']));
  });

  // Bug: a legacy reference with no letter or digit (`——`, `／`: judgement number unknown when listed,
  // before 2629d7f refused such references) keys to ''. 2629d7f says such a reference names no
  // judgement, yet ba6dbe1 compares keys: revoking one such bar revokes every other such bar of the
  // person, whatever its offence, and the person is answered CLEAR.
  it('revoking a legacy bar whose reference names no judgement leaves the person’s other such bar in force', async () => {
    const person = buildIdNumber('330102', '1977-03-04', 905);
    const listed = await list(police, person, '(2018)浙0102刑初7号');
    expect(errorCodes(listed)).toEqual([]);
    const barId: string = listed.data.addBarredPerson.id;
    await t.sql(`UPDATE workflow.barred_person SET judgement_reference = '——' WHERE id = $1`, [barId]);
    const other = await legacyCopy(barId, '／', 'ABUSE');
    expect(errorCodes(await t.gql(police, REMOVE, { id: barId }))).toEqual([]);
    const rows = await t.sql(`SELECT revoked_at IS NOT NULL AS revoked FROM workflow.barred_person WHERE id = $1`, [other]);
    expect([rows, await check(person)]).toEqual([[{ revoked: false }], 'RESTRICTED']);
  });

  // Bug: `marked` (src/schema/date-time.scalar.ts) reads the fraction's digits 4 to 9 only: a time given
  // past the nanosecond (`…00.7420000000001Z`) is not marked finer, passes requireNotFuture and is cut to
  // …00.742Z: an ORANGE given after a RED stands at the RED's instant, where the graver counts.
  it('refuses an assessment time finer than the millisecond past the ninth digit', async () => {
    const [{ code: grid }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' ORDER BY code LIMIT 1`);
    const created = await t.gql(civil, `mutation($input: CreateMinorInput!) { createMinor(input: $input) { id } }`, {
      input: {
        name: '李小明',
        idNumber: buildIdNumber('330102', birthYearsAgo(9), 906),
        householdRegistration: '浙江省杭州市上城区清波街道',
        currentAddress: '浙江省杭州市上城区清波街道清波东社区1号',
        gridCode: grid,
      },
    });
    expect(errorCodes(created)).toEqual([]);
    const id: string = created.data.createMinor.id;
    const ASSESS = `mutation($id: ID!, $input: AssessmentInput!) { recordAssessment(minorId: $id, input: $input) { id } }`;
    const assess = (level: string, assessedAt: string) => t.gql(civil, ASSESS, { id, input: { level, reasons: '复核', assessedAt } });
    expect(errorCodes(await assess('RED', '2026-01-01T00:00:00.742Z'))).toEqual([]);
    const later: GqlResult = await assess('ORANGE', '2026-01-01T00:00:00.7420000000001Z');
    const minor = await t.gql(civil, `query($id: ID!) { minor(id: $id) { riskLevel } }`, { id });
    // Refused, the child is RED as recorded; accepted, it should be ORANGE (the later), and is RED.
    expect([errorCodes(later), later.errors?.[0]?.extensions?.field, minor.data.minor.riskLevel]).toEqual([['BAD_USER_INPUT'], 'assessedAt', 'RED']);
  });

  // Bug: the purpose rule refuses EMPLOYMENT_CHECK only where the plugin's `needsPurpose` holds; a
  // count of children selected by their records (`minors(filter:…) { totalCount }`), which needs a
  // purpose on its own path (minor-connection.resolver.ts countOf: `if (!ctx.purpose)`), is answered
  // under EMPLOYMENT_CHECK: how many RED children the officer's area holds. So are a department record
  // page's `totalCount` and `nextCursor` under a filter (record-page.ts: `if (!ctx.purpose)`).
  it('refuses EMPLOYMENT_CHECK for a count of children selected by their records, and a filtered record page’s count and cursor', async () => {
    const outcome = [];
    for (const query of [
      `{ minors(first: 1, filter: { riskLevels: [RED] }) { totalCount } }`,
      `{ policeIncidents(first: 5, filter: { occurredWithinDays: 366 }) { totalCount nextCursor } }`,
    ]) {
      const unpurposed = await post(t, police, { query }, {});
      expect(unpurposed.json.errors?.[0]?.extensions?.field).toBe('x-purpose');
      const r = await post(t, police, { query }, { 'x-purpose': 'EMPLOYMENT_CHECK' });
      const served = Object.values(r.json.data ?? {}).flatMap((page) => Object.values((page ?? {}) as object)).filter((v) => v !== null);
      outcome.push([query, served, (r.json.errors ?? []).map((e: { extensions: { field?: string } }) => e.extensions.field)[0]]);
    }
    expect(outcome).toEqual(outcome.map(([query]) => [query, [], 'x-purpose']));
  });
});
