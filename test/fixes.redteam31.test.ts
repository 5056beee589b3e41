import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { eventsOf, post } from './support/audit-helpers';
import { childWithVerifiedPlace, HOUSEHOLD_PLACE } from './support/household-place';
import { type LostReplyProxy, startHubBehindLostReplyProxy } from './support/lost-reply-proxy';
import { DEFAULT_PURPOSE, errorCodes, startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU } = Department;

const CHECK = `mutation($input: EmploymentCheckInput!) { employmentCheck(input: $input) { answer } }`;
const ADD = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id judgementReference } }`;
const REMOVE = `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "再审改判无罪") }`;

/**
 * Red team 31 (rt31-fixes): a re-review of the changes of 1f13013..be4b378 — the police's household
 * place as a SAME_VALUE pair under the address grants, the judgement key of letters and digits,
 * createMinor / updateMinor's audit, `Expect` served, and webhook events naming their subject —
 * through the public endpoint.
 */
describe('barred-person registry: the judgement key, red team 31', () => {
  let t: TestHub;
  let police: string;
  let justice: string;
  let employer: string;

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_EMPLOYMENT_CHECK_MIN_MS: '10' } });
    police = await t.token(PO, { user: 'rt31-police' });
    justice = await t.token(JU, { user: 'rt31-justice' });
    employer = await t.token(ED, { role: Role.EMPLOYER, user: 'rt31-kindergarten' });
  });
  afterAll(() => t?.stop());

  const list = (token: string, idNumber: string, judgementReference: string) =>
    t.gql(token, ADD, { input: { idNumber, name: '李某', offence: 'SEXUAL_HARM', judgementReference } });
  const check = async (idNumber: string) => {
    const r = await t.gql(employer, CHECK, { input: { idNumber, name: '李某', authorizationReference: 'AUTH-rt31' } }, {});
    expect(errorCodes(r)).toEqual([]);
    return r.data.employmentCheck.answer;
  };

  // docs/workflows.md ("Pre-employment check"): "A person may be under several bars, one per judgement: a
  // judgement is listed once per person ... however its number is spelt". judgementKey
  // (employment.resolver.ts) keeps only letters and digits, so the separator INSIDE the serial number is
  // dropped with the cosmetic brackets: `刑初123-1号` and `刑初1231号`, `刑初12、13号` (a judgement of two
  // joined cases) and `刑初1213号`, and — new since symbols are dropped too — `刑初45～46号` and `刑初4546号` are each one key — two judgements read as one. The second is refused as
  // "already listed"; when the first is overturned and its bar revoked, the person is answered CLEAR
  // though the other judgement's bar was never listed.
  it('lists a second judgement whose number differs from the first only by a separator inside the number', async () => {
    const answers = [];
    for (const [sequence, first, second] of [
      [711, '(2024)浙0102刑初123-1号', '(2024)浙0102刑初1231号'],
      [712, '(2024)浙0102刑初12、13号', '(2024)浙0102刑初1213号'],
      // New with this key: `～` (NFKC `~`, a math symbol, \p{Sm}) was kept by the key before, now dropped.
      [713, '(2024)浙0102刑初45～46号', '(2024)浙0102刑初4546号'],
    ] as const) {
      const person = buildIdNumber('330102', '1978-06-07', sequence);
      const listed = await list(police, person, first);
      expect(errorCodes(listed)).toEqual([]);
      const other = await list(justice, person, second);
      // The first judgement is overturned: its bar is revoked; the second judgement still bars the person.
      expect(errorCodes(await t.gql(police, REMOVE, { id: listed.data.addBarredPerson.id }))).toEqual([]);
      answers.push([second, errorCodes(other), await check(person)]);
    }
    expect(answers).toEqual([
      ['(2024)浙0102刑初1231号', [], 'RESTRICTED'],
      ['(2024)浙0102刑初1213号', [], 'RESTRICTED'],
      ['(2024)浙0102刑初4546号', [], 'RESTRICTED'],
    ]);
  });
});

// Pin. docs/workflows.md ("Field grants"): the address grants open the child's address, its household
// registration "(and the police's record of it, IdentityVerification.householdPlace)" together. In
// distributed mode the police subgraph, served alone, takes the grant from the gateway's assertion: the
// receiving school reads the police's household place exactly as the registry's, under each grant.
describe('the police’s household place under an address grant, distributed mode, red team 31', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startDistributedTestHub();
  });
  afterAll(() => t?.stop());

  it('pin: serves the household place exactly beside the household registration under each address grant', async () => {
    const civil = await t.token(CA, { region: '330102001', user: 'rt31-civil' });
    const education = await t.token(ED, { region: '330102001', user: 'rt31-education' });
    const police = await t.token(PO, { region: '330102001', user: 'rt31-police' });
    const child = { id: await childWithVerifiedPlace(t, civil, police) };
    const place = HOUSEHOLD_PLACE;
    const wf = await t.token(Department.WOMENS_FEDERATION, { region: '330102001', user: 'rt31-wf' });
    const results: unknown[] = [];
    for (const [from, type] of [[civil, 'EDUCATION_AID'], [wf, 'LIVING_ASSISTANCE'], [civil, 'PLACEMENT']] as const) {
      const referral = await t.gql(from, `mutation($in: CreateReferralInput!) { createReferral(input: $in) { id grantedFields } }`, {
        in: { minorId: child.id, type, toDepartment: ED, need: '家庭困难' },
      });
      expect(referral.errors).toBeUndefined();
      const r = await post(
        t,
        education,
        { query: `query($id: ID!) { minor(id: $id) { householdRegistration currentAddress identityVerifications { householdPlace } } }`, variables: { id: child.id } },
        { 'x-purpose': `REFERRAL; ${referral.data.createReferral.id}` },
      );
      expect(r.json.errors).toBeUndefined();
      const minor = r.json.data.minor;
      results.push([type, minor.householdRegistration, minor.currentAddress, minor.identityVerifications.map((v: { householdPlace: string }) => v.householdPlace)]);
    }
    expect(results).toEqual([
      ['EDUCATION_AID', place, place, [place]],
      ['LIVING_ASSISTANCE', place, place, [place]],
      ['PLACEMENT', place, place, [place]],
    ]);
  });
});

// README ("Errors"): a lost COMMIT is settled — "aborted: DATABASE_UNAVAILABLE"; only one whose outcome
// stays unknown is in doubt, its event naming "the child the write found (a create's as an update's)".
// createMinor now records the child it inserts as found before its COMMIT (minor-mutation.resolver.ts,
// `ctx.access.found(minor.id, 'Minor')`), and nothing takes that back when the COMMIT is settled as rolled
// back: the event of a registration that stored nothing records a read (`Minor.__typename`) of a child id
// that exists nowhere — a child told to the caller that was never registered. (An update's or a department
// record's create names a child that exists and was found; only the create's id is made up.)
describe('createMinor whose COMMIT is lost before it ran, red team 31', () => {
  let t: TestHub;
  let proxy: LostReplyProxy;

  beforeAll(async () => {
    ({ t, proxy } = await startHubBehindLostReplyProxy());
  });
  afterAll(async () => {
    await t?.stop();
    await proxy?.close();
  });

  it('records no child in the event of a registration settled as rolled back', async () => {
    const civil = await t.token(CA, { region: '330102001', user: 'rt31-registrar' });
    const [{ code: grid }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '330102001%' ORDER BY code LIMIT 1`);
    const idNumber = buildIdNumber('330102', '2015-05-06', 734);
    proxy.loseNextCommit('INSERT INTO "registry"."minor"', 'commit');
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    let r!: Awaited<ReturnType<typeof post>>;
    try {
      r = await post(
        t,
        civil,
        {
          query: `mutation($i: CreateMinorInput!) { createMinor(input: $i) { id } }`,
          variables: { i: { name: '吴小明', idNumber, householdRegistration: '浙江省杭州市上城区', currentAddress: '浙江省杭州市上城区小营街道江城路1号', gridCode: grid } },
        },
        DEFAULT_PURPOSE,
      );
    } finally {
      log.mockRestore();
    }
    expect(proxy.lost()).toBe(true);
    expect([r.status, errorCodes(r.json)]).toEqual([503, ['DATABASE_UNAVAILABLE']]);
    // Nothing was registered.
    expect(await t.sql(`SELECT id FROM registry.minor WHERE id_number = $1`, [idNumber])).toEqual([]);
    const events = await eventsOf(t, r.requestId);
    // Now: the ERROR event's reads are [{ fields: { 'Minor.__typename': 'ALLOW' }, minorIds: [<an id no child has>] }].
    expect(events.map((e) => [e.outcome, e.body.errorCodes, e.body.reads, e.body.changes])).toEqual([
      ['STARTED', [], [], []],
      ['ERROR', ['DATABASE_UNAVAILABLE'], [], []],
    ]);
  });
});

