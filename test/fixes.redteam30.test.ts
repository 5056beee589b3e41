import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { eventOf, post } from './support/audit-helpers';
import { type LostReplyProxy, startHubBehindLostReplyProxy } from './support/lost-reply-proxy';
import { DEFAULT_PURPOSE, errorCodes, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO } = Department;

/**
 * Red team 30 (rt30-fixes): a re-review of the changes of 47075e9..1f13013 — SAME_VALUE and the
 * grants that now open the household registration, refused `after` cursors, myReports, region codes,
 * the barred-person registry's judgement key — through the public endpoint.
 */
describe('fixes since 47075e9, red team 30', () => {
  let t: TestHub;
  let civil: string;
  let education: string;
  let police: string;
  let child: { id: string };

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_EMPLOYMENT_CHECK_MIN_MS: '10' } });
    civil = await t.token(CA, { region: '330102001', user: 'rt30-civil' });
    education = await t.token(ED, { region: '330102001', user: 'rt30-education' });
    police = await t.token(PO, { region: '330102001', user: 'rt30-police' });
    // A child of the street the police have not verified yet: its verifications are the one made below.
    [child] = await t.sql(
      `SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE '330102001%' AND registry.is_minor(m.birth_date, now() + interval '30 days')
          AND NOT EXISTS (SELECT 1 FROM police.identity_verification v WHERE v.minor_id = m.id) ORDER BY m.id LIMIT 1`,
    );
  });
  afterAll(() => t?.stop());

  // docs/workflows.md ("Field grants"): "both fields of the same value alike ... one exact beside the other
  // masked would show the masked one (start-up refuses such a grant, SAME_VALUE)". The four referral types
  // now open Minor.householdRegistration (户籍地) to the receiving department, but the police's record of
  // the same 户籍地, IdentityVerification.householdPlace ("Same rule as the registry's 户籍地",
  // police.policy.ts), is in no grant and no SAME_VALUE pair: under an EDUCATION_AID grant a school reads
  // the registration exactly on the child and the same place masked on the child's identity verification.
  it('serves the police’s household place as the registry’s household registration under a grant that opens it', async () => {
    // A child registered (户籍) where it lives: the registry's 户籍地 and the police's verified one are one address.
    const place = '浙江省杭州市上城区小营街道大学路社区12幢3单元401室';
    expect((await t.gql(civil, `mutation($id: ID!, $in: UpdateMinorInput!) { updateMinor(id: $id, input: $in) { id } }`, { id: child.id, in: { householdRegistration: place } })).errors).toBeUndefined();
    const verified = await t.gql(
      police,
      `mutation($m: ID!, $in: IdentityVerificationInput!) { createIdentityVerification(minorId: $m, input: $in) { id householdPlace } }`,
      { m: child.id, in: { verifiedOn: '2026-01-05', result: 'MATCHED', householdStatus: 'REGISTERED', householdPlace: place } },
    );
    expect(verified.errors).toBeUndefined();
    const referral = await t.gql(civil, `mutation($in: CreateReferralInput!) { createReferral(input: $in) { id grantedFields } }`, {
      in: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: ED, need: '家庭困难，入学资助' },
    });
    expect(referral.errors).toBeUndefined();
    expect(referral.data.createReferral.grantedFields).toContain('Minor.householdRegistration');
    const r = await post(
      t,
      education,
      { query: `query($id: ID!) { minor(id: $id) { householdRegistration identityVerifications { householdPlace } } }`, variables: { id: child.id } },
      { 'x-purpose': `REFERRAL; ${referral.data.createReferral.id}` },
    );
    expect(r.json.errors).toBeUndefined();
    const minor = r.json.data.minor;
    // Now: householdRegistration is the exact place, householdPlace the same place masked (浙江省杭州市上城区********).
    expect(minor.householdRegistration).toBe(place);
    expect(minor.identityVerifications.map((v: any) => v.householdPlace)).toEqual([place]);
  });

  // docs/workflows.md ("Pre-employment check"): a judgement is listed once per person "however its number is
  // spelt — full-width or ASCII brackets and digits, any brackets or none". judgementKey drops punctuation
  // (\p{P}) only, and the angle brackets `<>` / `＜＞` are symbols (\p{Sm}): `＜2024＞浙0102刑初88号` is listed
  // beside `(2024)浙0102刑初88号`, one judgement twice — revoking the bar it rests on leaves the other in force.
  it('refuses the same judgement of the same person written with angle brackets', async () => {
    const justice = await t.token(Department.JUSTICE, { user: 'rt30-justice' });
    const ADD = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id } }`;
    const answers = [];
    for (const [sequence, spelling] of [[611, '＜2024＞浙0102刑初88号'], [612, '<2024>浙0102刑初88号']] as const) {
      const person = buildIdNumber('330102', '1979-03-04', sequence);
      const list = (token: string, judgementReference: string) => t.gql(token, ADD, { input: { idNumber: person, name: '王某', offence: 'SEXUAL_HARM', judgementReference } });
      expect(errorCodes(await list(police, '(2024)浙0102刑初88号'))).toEqual([]);
      const again = await list(justice, spelling);
      answers.push([spelling, errorCodes(again), again.errors?.[0]?.extensions?.field]);
    }
    expect(answers).toEqual([
      ['＜2024＞浙0102刑初88号', ['BAD_USER_INPUT'], 'input.judgementReference'],
      ['<2024>浙0102刑初88号', ['BAD_USER_INPUT'], 'input.judgementReference'],
    ]);
  });

  // Pin: a refused `after` the caller may not see — another street's report to mandatoryReports and
  // overdueReports, another street's referral to referrals — is answered as an unknown id is and records
  // nothing (workflow.pages.ts RefusedAfter looks the item up under the list's rule without its filters).
  it('pin: another street’s report or referral as `after` answers as an unknown id and records nothing', async () => {
    const [{ code: grid }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '330102002%' ORDER BY code LIMIT 1`);
    const [there] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code = $1 ORDER BY id LIMIT 1`, [grid]);
    const reporter = await t.token(ED, { role: Role.REPORTER, user: 'rt30-teacher', region: '330102002' });
    const filed = await t.gql(
      reporter,
      `mutation($in: FileReportInput!) { fileMandatoryReport(input: $in) { id } }`,
      { in: { harmType: 'NEGLECT', observation: 'rt30 pin', location: 'park', regionCode: grid, urgency: 'URGENT', childId: there.id } },
      {},
    );
    expect(filed.errors).toBeUndefined();
    const civilThere = await t.token(CA, { region: '330102002', user: 'rt30-civil-2' });
    const referred = await t.gql(civilThere, `mutation($in: CreateReferralInput!) { createReferral(input: $in) { id } }`, {
      in: { minorId: there.id, type: 'MEDICAL_AID', toDepartment: ED, need: '就医' },
    });
    expect(referred.errors).toBeUndefined();
    const unknown = '6f1c2b9e-0000-4000-8000-00000000abce';
    const REPORTS = `query($after: ID) { mandatoryReports(first: 1, status: [CLOSED], after: $after) { id } }`;
    const OVERDUE = `query($after: ID) { overdueReports(first: 1, after: $after) { id } }`;
    const REFERRALS = `query($after: ID) { referrals(first: 1, status: [DECLINED], after: $after) { id } }`;
    const asked: [string, string, string][] = [
      [police, REPORTS, filed.data.fileMandatoryReport.id],
      [police, REPORTS, unknown],
      [police, OVERDUE, filed.data.fileMandatoryReport.id],
      [police, OVERDUE, unknown],
      [civil, REFERRALS, referred.data.createReferral.id],
      [civil, REFERRALS, unknown],
    ];
    const answers = [];
    for (const [token, query, after] of asked) {
      const r = await post(t, token, { query, variables: { after } });
      const event = await eventOf(t, r.requestId);
      answers.push({ status: r.status, errors: r.json.errors?.map((e: any) => [e.extensions?.code, e.extensions?.field]), reads: event.reads });
    }
    expect(answers).toEqual(asked.map(() => ({ status: 200, errors: [['BAD_USER_INPUT', 'after']], reads: [] })));
  });
});

// README ("Errors" / audit): a mutation answered COMMIT_OUTCOME_UNKNOWN "may be stored and is not in its event,
// which still names the child the write found (a create's as an update's: it is in that child's
// minorAccessHistory)". createRecord and createReferral now record the child before the commit; createMinor
// records nothing of the child it inserts until the answer is served, so a registration whose COMMIT reply
// is lost leaves a registered child whose access history does not show who registered it.
describe('registry writes with a 1 s statement timeout, red team 30', () => {
  let t: TestHub;
  let proxy: LostReplyProxy;
  let databaseUrl: string;

  beforeAll(async () => {
    ({ t, proxy, databaseUrl } = await startHubBehindLostReplyProxy());
  });
  afterAll(async () => {
    await t?.stop();
    await proxy?.close();
  });

  it('createMinor whose commit is in doubt is in the registered child’s access history', async () => {
    const civil = await t.token(CA, { region: '330102001', user: 'rt30-registrar' });
    const auditor = await t.token(CA, { role: Role.AUDITOR, region: '330102001' });
    const [{ code: grid }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '330102001%' ORDER BY code LIMIT 1`);
    const idNumber = buildIdNumber('330102', '2015-05-06', 733);
    proxy.loseNextCommit('INSERT INTO "registry"."minor"', 'reply', 3000);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    let requestId: string;
    try {
      const r = await post(
        t,
        civil,
        {
          query: `mutation($i: CreateMinorInput!) { createMinor(input: $i) { id } }`,
          variables: { i: { name: '周小明', idNumber, householdRegistration: '浙江省杭州市上城区', currentAddress: '浙江省杭州市上城区小营街道江城路1号', gridCode: grid } },
        },
        DEFAULT_PURPOSE,
      );
      expect(proxy.lost()).toBe(true);
      expect(errorCodes(r.json)).toEqual(['COMMIT_OUTCOME_UNKNOWN']);
      requestId = r.requestId;
    } finally {
      log.mockRestore();
      await new Promise((resolve) => setTimeout(resolve, 3500)); // the database reachable again
    }
    // It committed, as it happens: the child is registered.
    const [stored] = await t.sql(`SELECT id FROM registry.minor WHERE id_number = $1`, [idNumber]);
    expect(stored).toBeDefined();
    await t.hub.audit.drain();
    const history = await t.gql(auditor, `query($m: ID!) { minorAccessHistory(minorId: $m) { requestId } }`, { m: stored.id }, {});
    expect(history.errors).toBeUndefined();
    expect(history.data.minorAccessHistory.map((h: { requestId: string }) => h.requestId)).toContain(requestId);
  });

  // minor-mutation.resolver.ts updateMinor now checks its input before it looks the child up and locks it,
  // "as every other write's: a refusal it earns whatever the child is does not wait on a lock, nor answer
  // NOT_FOUND first" — but a grid outside the caller's jurisdiction (requireGrid: which depends on the
  // caller and the code only, as createMinor checks it before anything) is still checked after lockMinor:
  // answered NOT_FOUND for an id the caller does not have, and, while another write holds the child, waited
  // out to DATABASE_UNAVAILABLE (503, "try again shortly") for a request that can never succeed.
  it('updateMinor refuses a grid of another street BAD_USER_INPUT at once, whatever the id and whoever holds the child', async () => {
    const civil = await t.token(CA, { region: '330102001', user: 'rt30-mover' });
    const [{ code: elsewhere }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '330102002%' ORDER BY code LIMIT 1`);
    const [{ id: child }] = await t.sql(
      `SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' AND registry.is_minor(birth_date, now() + interval '30 days') ORDER BY id OFFSET 7 LIMIT 1`,
    );
    const move = (id: string) =>
      post(t, civil, { query: `mutation($id: ID!, $g: ID) { updateMinor(id: $id, input: { gridCode: $g }) { id } }`, variables: { id, g: elsewhere } }, DEFAULT_PURPOSE);
    const refusal = (r: { status: number; json: any }) => [r.status, (r.json.errors ?? []).map((e: any) => [e.extensions?.code, e.extensions?.field])];
    const expected = [200, [['BAD_USER_INPUT', 'gridCode']]];
    // Control: the caller's own child, not held, is refused so.
    expect(refusal(await move(child))).toEqual(expected);
    const answers = [refusal(await move('00000000-0000-4000-8000-000000000000'))];
    const locker = new Client({ connectionString: databaseUrl });
    await locker.connect();
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM registry.minor WHERE id = $1 FOR UPDATE', [child]);
      answers.push(refusal(await move(child)));
    } finally {
      log.mockRestore();
      await locker.query('ROLLBACK');
      await locker.end();
    }
    expect(answers).toEqual([expected, expected]);
  });

  // Control: the same history names a later read of the child (the query and the auditor's scope are right).
  it('pin: a read of a registered child is in its access history', async () => {
    const civil = await t.token(CA, { region: '330102001', user: 'rt30-reader' });
    const auditor = await t.token(CA, { role: Role.AUDITOR, region: '330102001' });
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor WHERE id_number = $1`, [buildIdNumber('330102', '2015-05-06', 733)]);
    const read = await post(t, civil, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id } }, DEFAULT_PURPOSE);
    expect(read.json.data.minor).toEqual({ name: '周小明' });
    await t.hub.audit.drain();
    const history = await t.gql(auditor, `query($m: ID!) { minorAccessHistory(minorId: $m) { requestId } }`, { m: id }, {});
    expect(history.data.minorAccessHistory.map((h: { requestId: string }) => h.requestId)).toContain(read.requestId);
  });
});
