import { Department, Role } from '../src/auth/principal';
import { chinaDay } from '../src/common/dates';
import { buildIdNumber } from '../src/common/id-number';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';
import { expectAfterRefusedAlike, expectPagedToItsEnd, expectStatementsPerPageFlat, WorkflowList } from './support/workflow-pages';

const CHECK = `mutation($input: EmploymentCheckInput!) { employmentCheck(input: $input) { checkId answer checkedAt } }`;
const ADD = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id name offence } }`;
const RESCREEN = `mutation($c: [RescreenCandidateInput!]!) { employmentRescreen(candidates: $c, authorizationReference: "2026-年度复查") { batchId answers { index answer } } }`;
const MIN_MS = 150;

/** 入职查询: only CLEAR or RESTRICTED, recorded, rate-limited, same timing either way. */
describe('workflow: pre-employment check', () => {
  let t: TestHub;
  let police: string;
  let employer: string;
  const barred = buildIdNumber('330102', '1980-05-04', 123);
  const expired = buildIdNumber('330102', '1975-01-02', 457);
  const clear = buildIdNumber('330102', '1990-07-08', 789);

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_EMPLOYMENT_CHECK_MIN_MS: String(MIN_MS), HUB_EMPLOYMENT_CHECKS_PER_HOUR: '8', HUB_RESCREENS_PER_YEAR: '1' } });
    police = await t.token(Department.POLICE, { user: 'officer-li' });
    employer = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'kindergarten-7' });
    const add = (idNumber: string, restrictedUntil?: string) =>
      t.gql(police, ADD, { input: { idNumber, name: '张某', offence: 'SEXUAL_HARM', judgementReference: '(2024)浙0102刑初123号', restrictedUntil } });
    expect((await add(barred)).errors).toBeUndefined();
    // Listed in 2019 until 2020: an end date in the past is refused today.
    t.config.workflow.clockOffsetMs = Date.parse('2019-06-01T00:00:00Z') - Date.now();
    try {
      expect((await add(expired, '2020-01-01')).errors).toBeUndefined();
    } finally {
      t.config.workflow.clockOffsetMs = 0;
    }
  });
  afterAll(() => t.stop());

  const check = (idNumber: string, token = employer) => post(t, token, { query: CHECK, variables: { input: { idNumber, name: '候选人', authorizationReference: 'AUTH-001' } } }, {});

  it('keeps only a keyed hash of the ID number, and the offence for police and justice only', async () => {
    const rows = await t.sql(`SELECT * FROM workflow.barred_person`);
    expect(JSON.stringify(rows)).not.toContain(barred);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.id_number_hash))).toBe(true);
    expect((await t.gql(await t.token(Department.JUSTICE), `{ barredPersons { offence } }`)).data.barredPersons).toHaveLength(2);
    for (const token of [employer, await t.token(Department.CIVIL_AFFAIRS), await t.token(Department.EDUCATION)]) {
      expect(errorCodes(await t.gql(token, `{ barredPersons { offence } }`))).toEqual(['FORBIDDEN']);
    }
    // A judgement is listed once per person.
    const again = await t.gql(police, ADD, { input: { idNumber: barred, name: '张某', offence: 'ABUSE', judgementReference: '(2024)浙0102刑初123号' } });
    expect([errorCodes(again), again.errors?.[0].extensions?.field]).toEqual([['BAD_USER_INPUT'], 'input.judgementReference']);
  });

  it('refuses an end date that does not exist or has already passed (the bar would be void), before anything is written', async () => {
    const today = chinaDay(new Date());
    const inputOf = (restrictedUntil: string, serial: number) => ({
      input: { idNumber: buildIdNumber('330102', '1981-05-04', serial), name: '王某', offence: 'ABUSE', judgementReference: '(2024)浙0102刑初7号', restrictedUntil },
    });
    const bad = ['2024-02-30', '2023-02-29', '0000-01-01', '1001-01-01', '2020-01-01', '', '2030-1-01', '2030-01-01T00:00:00Z'];
    for (const [i, d] of bad.entries()) {
      const r = await t.gql(police, ADD, inputOf(d, 600 + i));
      expect([d, errorCodes(r), r.errors?.[0].extensions?.field]).toEqual([d, ['BAD_USER_INPUT'], 'input.restrictedUntil']);
    }
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.barred_person WHERE judgement_reference = '(2024)浙0102刑初7号'`))[0].n).toBe(0);
    for (const [i, d] of [today, '2028-02-29'].entries()) {
      const r = await t.gql(police, `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { restrictedUntil } }`, inputOf(d, 700 + i));
      expect(r.errors).toBeUndefined();
      expect(r.data.addBarredPerson.restrictedUntil).toBe(d);
    }
    await t.sql(`DELETE FROM workflow.barred_person WHERE judgement_reference = '(2024)浙0102刑初7号'`);
  });

  it('answers RESTRICTED or CLEAR and nothing else, records every check, and audits it', async () => {
    const r = await check(barred);
    expect(r.json.errors).toBeUndefined();
    expect(Object.keys(r.json.data.employmentCheck).sort()).toEqual(['answer', 'checkId', 'checkedAt']);
    expect(r.json.data.employmentCheck.answer).toBe('RESTRICTED');
    expect(JSON.stringify(r.json)).not.toMatch(/SEXUAL|浙0102|张某/);
    expect((await check(clear)).json.data.employmentCheck.answer).toBe('CLEAR');
    expect((await check(expired)).json.data.employmentCheck.answer).toBe('CLEAR');
    const [row] = await t.sql(`SELECT employer_id, candidate_hash, answer, authorization_reference, checked_at FROM workflow.employment_check WHERE id = $1`, [r.json.data.employmentCheck.checkId]);
    expect(row).toMatchObject({ employer_id: 'kindergarten-7', answer: 'RESTRICTED', authorization_reference: 'AUTH-001' });
    expect(row.candidate_hash).toMatch(/^[0-9a-f]{64}$/);
    const e = await eventOf(t, r.requestId);
    expect(e).toMatchObject({ role: 'EMPLOYER', outcome: 'SUCCESS' });
    expect(e.changes).toEqual([{ mutation: 'employmentCheck', id: r.json.data.employmentCheck.checkId, minorId: null, fields: ['input.authorizationReference', 'input.idNumber', 'input.name'] }]);
    expect(JSON.stringify(e)).not.toContain(barred);
  });

  it('takes at least the fixed minimum time for either answer', async () => {
    for (const id of [barred, clear]) {
      const started = performance.now();
      await check(id, await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: `timing-${id}` }));
      expect(performance.now() - started).toBeGreaterThanOrEqual(MIN_MS - 5);
    }
  });

  it('is for employers only', async () => {
    for (const token of [police, await t.token(Department.CIVIL_AFFAIRS), await t.token(Department.EDUCATION, { role: Role.REPORTER })]) {
      expect((await check(clear, token)).json.errors[0].extensions.code).toBe('FORBIDDEN');
    }
    expect((await check('12345')).json.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.idNumber' });
  });

  it('limits each employer per hour (LIMIT_EXCEEDED), without affecting other employers', async () => {
    const busy = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'training-centre-9' });
    for (let i = 0; i < 8; i++) expect((await check(clear, busy)).json.errors).toBeUndefined();
    const refused = await check(clear, busy);
    expect(refused.json.errors[0].extensions.code).toBe('LIMIT_EXCEEDED');
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.employment_check WHERE employer_id = 'training-centre-9'`))[0].n).toBe(8);
    expect((await check(clear, await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'school-3' }))).json.errors).toBeUndefined();
    // A user id is unique only within the department that issued it: the same one from another
    // department is another employer, whose quota this one cannot use up.
    const namesake = await t.token(Department.CIVIL_AFFAIRS, { role: Role.EMPLOYER, user: 'training-centre-9' });
    expect((await check(clear, namesake)).json.errors).toBeUndefined();
  });

  it('re-screens current staff in one operation, answers in order, once per year', async () => {
    const school = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'school-rescreen' });
    const staff = [clear, barred, expired, buildIdNumber('330102', '1988-02-03', 321)].map((idNumber) => ({ idNumber, name: '教职工' }));
    const sent = await post(t, school, { query: RESCREEN, variables: { c: staff } }, {});
    const r = sent.json;
    expect(r.errors).toBeUndefined();
    expect(r.data.employmentRescreen.answers).toEqual([
      { index: 0, answer: 'CLEAR' },
      { index: 1, answer: 'RESTRICTED' },
      { index: 2, answer: 'CLEAR' },
      { index: 3, answer: 'CLEAR' },
    ]);
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.employment_check WHERE batch_id = $1`, [r.data.employmentRescreen.batchId]))[0].n).toBe(4);
    // The audit names the batch, as every row of it does.
    expect((await eventOf(t, sent.requestId)).changes).toEqual([{ mutation: 'employmentRescreen', id: r.data.employmentRescreen.batchId, minorId: null, fields: ['authorizationReference', 'candidates'] }]);
    expect(errorCodes(await t.gql(school, RESCREEN, { c: staff }, {}))).toEqual(['LIMIT_EXCEEDED']);
    const tooMany = Array.from({ length: 1001 }, () => ({ idNumber: clear, name: 'x' }));
    const big = await t.gql(await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'big' }), RESCREEN, { c: tooMany }, {});
    expect(errorCodes(big)).toEqual(['BAD_USER_INPUT']);
    expect(big.errors![0].extensions!.field).toBe('candidates');
  });

  it('revokes a bar instead of deleting it: with a reason, recorded on the row with who revoked it, audited; no longer restricting', async () => {
    const REVOKE = `mutation($id: ID!, $reason: String!) { removeBarredPerson(id: $id, reason: $reason) }`;
    const LIST = `query($all: Boolean) { barredPersons(includeRevoked: $all) { id name offence judgementReference revokedAt revokedBy revokedByDepartment revokedByRegion revocationReason } }`;
    const person = buildIdNumber('330102', '1979-03-03', 555);
    const added = await t.gql(police, ADD, { input: { idNumber: person, name: '李某', offence: 'SEXUAL_HARM', judgementReference: '(2020)浙0102刑初1号' } });
    const id = added.data.addBarredPerson.id;
    const school = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'school-revocation' });
    const answer = async () => (await check(person, school)).json.data.employmentCheck.answer;
    expect(await answer()).toBe('RESTRICTED');

    // A justice officer whose token is for a single grid may revoke (the policy: any officer of police or justice).
    const gridJustice = await t.token(Department.JUSTICE, { region: '330102004003002', user: 'ju-grid' });
    for (const reason of ['', '   ', 'x\u0000y', 'x'.repeat(2001)]) {
      const r = await t.gql(gridJustice, REVOKE, { id, reason });
      expect([errorCodes(r), r.errors?.[0].extensions?.field]).toEqual([['BAD_USER_INPUT'], 'reason']);
    }
    expect(errorCodes(await t.gql(gridJustice, `mutation($id: ID!) { removeBarredPerson(id: $id) }`, { id }))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    for (const token of [employer, await t.token(Department.EDUCATION), await t.token(Department.CIVIL_AFFAIRS)]) {
      expect(errorCodes(await t.gql(token, REVOKE, { id, reason: '撤销' }))).toEqual(['FORBIDDEN']);
    }
    expect(await answer()).toBe('RESTRICTED');

    const reason = '再审改判无罪 (2025)浙01刑再3号';
    const r = await post(t, gridJustice, { query: REVOKE, variables: { id, reason } });
    expect(r.json).toEqual({ data: { removeBarredPerson: id } });
    expect(await answer()).toBe('CLEAR');
    const rescreen = await t.gql(await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'school-revocation-rescreen' }), RESCREEN, { c: [{ idNumber: person, name: '李某' }] }, {});
    expect(rescreen.data.employmentRescreen.answers).toEqual([{ index: 0, answer: 'CLEAR' }]);

    // Nothing lost: who was barred, for what and on which judgement, and who revoked it, when and why.
    const [row] = await t.sql(`SELECT * FROM workflow.barred_person WHERE id = $1`, [id]);
    expect(row).toMatchObject({
      name: '李某',
      offence: 'SEXUAL_HARM',
      judgement_reference: '(2020)浙0102刑初1号',
      created_by: 'officer-li',
      revoked_by: 'ju-grid',
      revoked_by_department: 'JUSTICE',
      revoked_by_region: '330102004003002',
      revocation_reason: reason,
    });
    expect(row.revoked_at).toBeInstanceOf(Date);
    const revokedAt = row.revoked_at.toISOString();

    // In force only, unless asked; readable by the keepers.
    const justice = await t.token(Department.JUSTICE);
    expect((await t.gql(justice, LIST, {})).data.barredPersons.map((p: any) => p.id)).not.toContain(id);
    expect((await t.gql(justice, LIST, { all: true })).data.barredPersons.find((p: any) => p.id === id)).toEqual({
      id,
      name: '李某',
      offence: 'SEXUAL_HARM',
      judgementReference: '(2020)浙0102刑初1号',
      revokedAt,
      revokedBy: 'ju-grid',
      revokedByDepartment: 'JUSTICE',
      revokedByRegion: '330102004003002',
      revocationReason: reason,
    });
    expect(errorCodes(await t.gql(await t.token(Department.CIVIL_AFFAIRS), `{ barredPersons(includeRevoked: true) { id } }`))).toEqual(['FORBIDDEN']);

    // Audited like other writes: who, and the change (the record and the arguments given, never their values).
    const e = await eventOf(t, r.requestId);
    expect(e).toMatchObject({ userId: 'ju-grid', department: 'JUSTICE', region: '330102004003002', outcome: 'SUCCESS' });
    expect(e.changes).toEqual([{ mutation: 'removeBarredPerson', id, minorId: null, fields: ['id', 'reason'] }]);
    expect(JSON.stringify(e)).not.toContain('再审');

    // Revoked once: a second revocation, an unknown id and a malformed one are all not found, and the first revocation stands.
    for (const other of [id, '00000000-0000-4000-8000-000000000000', 'nope']) {
      expect(errorCodes(await t.gql(police, REVOKE, { id: other, reason: 'again' }))).toEqual(['NOT_FOUND']);
    }
    expect((await t.sql(`SELECT revoked_by, revocation_reason FROM workflow.barred_person WHERE id = $1`, [id]))[0]).toEqual({ revoked_by: 'ju-grid', revocation_reason: reason });

    // The person may be listed again on a new judgement, once: concurrent listings are one bar, not a 500.
    const relist = () => t.gql(police, ADD, { input: { idNumber: person, name: '李某', offence: 'SEXUAL_HARM', judgementReference: '(2026)浙0102刑初9号' } });
    const results = await Promise.all([relist(), relist(), relist(), relist()]);
    expect(results.map((x) => errorCodes(x)[0] ?? 'OK').sort()).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT', 'OK']);
    expect(results.find((x) => x.errors)!.errors![0].extensions!.field).toBe('input.judgementReference');
    expect(await answer()).toBe('RESTRICTED');
    expect((await t.sql(`SELECT count(*)::int AS n, count(revoked_at)::int AS revoked FROM workflow.barred_person WHERE name = '李某'`))[0]).toEqual({ n: 2, revoked: 1 });
  });

  it('refuses to list a person under 12, the youngest age of criminal responsibility: such a number is a child’s', async () => {
    const china = new Date(Date.now() + 8 * 3_600_000);
    const day = (yearsAgo: number, days = 0) => new Date(Date.UTC(china.getUTCFullYear() - yearsAgo, china.getUTCMonth(), china.getUTCDate() + days)).toISOString().slice(0, 10);
    const list = (birth: string, serial: number) =>
      t.gql(police, ADD, { input: { idNumber: buildIdNumber('330102', birth, serial), name: '孙某', offence: 'ABUSE', judgementReference: `(2026)浙0102刑初${serial}号` } });
    for (const [birth, serial] of [[day(5), 901], [day(12, 1), 902]] as const) {
      const refused = await list(birth, serial);
      expect([birth, errorCodes(refused), refused.errors?.[0].extensions?.field]).toEqual([birth, ['BAD_USER_INPUT'], 'input.idNumber']);
    }
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.barred_person WHERE name = '孙某'`))[0].n).toBe(0);
    // Twelve today: listed.
    expect((await list(day(12), 903)).errors).toBeUndefined();
  });

  it('revokes a bar named by its id in capitals: the answer and the audit name the bar as the hub spells it', async () => {
    const added = await t.gql(police, ADD, { input: { idNumber: buildIdNumber('330102', '1980-05-05', 123), name: '张某', offence: 'SEXUAL_HARM', judgementReference: '(2021)浙0102刑初7号' } });
    const id: string = added.data.addBarredPerson.id;
    const r = await post(t, police, { query: `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "再审改判") }`, variables: { id: id.toUpperCase() } });
    expect(r.json).toEqual({ data: { removeBarredPerson: id } });
    expect((await eventOf(t, r.requestId)).changes).toEqual([{ mutation: 'removeBarredPerson', id, minorId: null, fields: ['id', 'reason'] }]);
  });

  it('keeps a later judgement’s bar in: neither a bar that has ended nor one listed first with an early end blocks it', async () => {
    const police = await t.token(Department.POLICE);
    const employer = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'school-later-judgement' });
    const add = (idNumber: string, judgementReference: string, restrictedUntil?: string) =>
      t.gql(police, ADD, { input: { idNumber, name: '赵某', offence: 'ABUSE', judgementReference, restrictedUntil } });
    const answer = async (idNumber: string) =>
      (await t.gql(employer, `mutation($input: EmploymentCheckInput!) { employmentCheck(input: $input) { answer } }`, { input: { idNumber, name: '赵某', authorizationReference: '授权-later' } }, {})).data
        .employmentCheck.answer;
    // A bar listed in 2019 that ended in 2020, never revoked: a new judgement is listed, and restricts.
    const ended = buildIdNumber('330102', '1979-03-04', 611);
    t.config.workflow.clockOffsetMs = Date.parse('2019-06-01T00:00:00Z') - Date.now();
    try {
      expect((await add(ended, '(2019)浙0102刑初1号', '2020-01-01')).errors).toBeUndefined();
    } finally {
      t.config.workflow.clockOffsetMs = 0;
    }
    expect(await answer(ended)).toBe('CLEAR');
    expect((await add(ended, '(2026)浙0102刑初2号')).errors).toBeUndefined();
    expect(await answer(ended)).toBe('RESTRICTED');
    // A bar ending today, listed first, does not keep out the bar for life on the real judgement.
    const preempted = buildIdNumber('330102', '1980-04-05', 622);
    expect((await add(preempted, '(2026)浙0102刑初3号', chinaDay(new Date()))).errors).toBeUndefined();
    expect((await add(preempted, '(2026)浙0102刑初4号')).errors).toBeUndefined();
    t.config.workflow.clockOffsetMs = 2 * 86_400_000;
    try {
      expect(await answer(preempted)).toBe('RESTRICTED');
    } finally {
      t.config.workflow.clockOffsetMs = 0;
    }
  });

  describe('paging', () => {
    const PAGE = `query($first: Int!, $after: ID, $all: Boolean) { barredPersons(includeRevoked: $all, first: $first, after: $after) { id } }`;
    const list = (token: string, variables: Record<string, unknown> = {}): WorkflowList => ({ t, token, query: PAGE, list: 'barredPersons', idOf: (p) => p.id, variables });
    const listed = (where: string) =>
      t.sql(`SELECT id FROM workflow.barred_person WHERE ${where} ORDER BY created_at DESC, id`).then((rows) => rows.map((r) => r.id as string));
    let justice: string;
    beforeAll(async () => {
      // 150 bars, three listed at each instant (ties on created_at), every fourth revoked.
      await t.sql(
        `INSERT INTO workflow.barred_person (id, id_number_hash, name, offence, judgement_reference, created_by, created_at, revoked_at, revoked_by, revoked_by_department, revoked_by_region, revocation_reason)
         SELECT gen_random_uuid(), md5('paging' || i) || md5('bar' || i), '某' || i, 'ABUSE', '(2025)浙0102刑初' || i || '号', 'officer-paging', now() - (i / 3) * interval '1 minute',
                CASE WHEN i % 4 = 0 THEN now() END, CASE WHEN i % 4 = 0 THEN 'officer-paging' END, CASE WHEN i % 4 = 0 THEN 'POLICE' END,
                CASE WHEN i % 4 = 0 THEN '330102' END, CASE WHEN i % 4 = 0 THEN '再审改判' END
           FROM generate_series(0, 149) i`,
      );
      justice = await t.token(Department.JUSTICE, { user: 'ju-paging' });
    });

    it('goes on after the bar a page ended with, newest first, to the end of the registry, through bars listed at one instant', async () => {
      expect(await expectPagedToItsEnd(list(justice))).toEqual(await listed('revoked_at IS NULL'));
      expect(await expectPagedToItsEnd(list(justice, { all: true }))).toEqual(await listed('TRUE'));
    });

    it('refuses a bar the list does not name as a random id: a revoked one unless revoked bars are asked, no id', async () => {
      const [revoked] = await listed('revoked_at IS NOT NULL');
      await expectAfterRefusedAlike(list(justice), [revoked]);
      expect((await t.gql(justice, PAGE, { first: 1, after: revoked, all: true })).errors).toBeUndefined();
    });

    it('reads a page in the same statements whatever its size', async () => {
      await expectStatementsPerPageFlat(list(justice, { all: true }), (await listed('TRUE'))[0]);
    });
  });
});
