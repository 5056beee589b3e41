import { Department, Role } from '../src/auth/principal';
import { chinaDay } from '../src/common/dates';
import { buildIdNumber } from '../src/common/id-number';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const { CIVIL_AFFAIRS: CA, POLICE: PO, EDUCATION: ED } = Department;
const STREET = '330102001';
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; rt18h' };

/**
 * Red team 18 (group 02): regression review of recent fixes — audit naming of children on no-op
 * and refused writes, barred-person revocation, purpose binding, ID-number spelling.
 */
describe.each(['in process', 'distributed'] as const)('regressions, red team 18 (h), %s', (mode) => {
  let t: TestHub;
  let child: { id: string; grid_code: string; id_number: string; name: string };
  let other: { id: string; grid_code: string; id_number: string };
  let streetCivil: string;
  let streetPolice: string;
  let districtCivil: string;

  beforeAll(async () => {
    t = mode === 'in process' ? await startTestHub() : await startDistributedTestHub();
    [child] = await t.sql(
      `SELECT id, grid_code, trim(id_number) AS id_number, name FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 7 LIMIT 1`,
    );
    [other] = await t.sql(
      `SELECT id, grid_code, trim(id_number) AS id_number FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 9 LIMIT 1`,
    );
    streetCivil = await t.token(CA, { region: STREET, user: 'rt18h-civil' });
    streetPolice = await t.token(PO, { region: STREET, user: 'rt18h-police' });
    districtCivil = await t.token(CA, { user: 'rt18h-district-civil' });
  });
  afterAll(() => t?.stop());

  it('a no-op updateMinor answering only __typename names the child in its event (bae13b0 / 1d14691, mutation side)', async () => {
    const r = await post(t, streetCivil, { query: `mutation($id: ID!) { updateMinor(id: $id, input: {}) { __typename } }`, variables: { id: child.id } }, PURPOSE);
    expect(r.json.errors).toBeUndefined();
    expect(r.json.data.updateMinor).toEqual({ __typename: 'Minor' });
    const e = await eventOf(t, r.requestId);
    expect(e.changes).toEqual([]);
    expect(e.reads.map((x: { minorId: string }) => x.minorId)).toEqual([child.id]);
  });

  it('a no-op police incident update answering only __typename names the child in its event', async () => {
    const input = { type: 'RUNAWAY', occurredOn: chinaDay(new Date(Date.now() - 3 * 86_400_000)), status: 'REPORTED', handlingUnit: '派出所', narrative: '离家' };
    const c = await t.gql(streetPolice, `mutation($m: ID!, $i: PoliceIncidentInput!) { createPoliceIncident(minorId: $m, input: $i) { id } }`, { m: child.id, i: input }, PURPOSE);
    expect(c.errors).toBeUndefined();
    const id = c.data.createPoliceIncident.id;
    const r = await post(t, streetPolice, { query: `mutation($id: ID!, $i: PoliceIncidentInput!) { updatePoliceIncident(id: $id, input: $i) { __typename } }`, variables: { id, i: input } }, PURPOSE);
    expect(r.json.errors).toBeUndefined();
    const e = await eventOf(t, r.requestId);
    expect(e.changes).toEqual([]);
    expect(e.reads.map((x: { minorId: string }) => x.minorId)).toEqual([child.id]);
  });

  it('createMinor of a registered ID number spelt with a small x or padded is refused and names the registered child (c58d253)', async () => {
    const [withX]: { id: string; id_number: string }[] = await t.sql(
      `SELECT id, trim(id_number) AS id_number FROM registry.minor WHERE id_number LIKE '%X' AND registry.is_minor(birth_date, now()) ORDER BY id LIMIT 1`,
    );
    expect(withX).toBeDefined();
    for (const spelt of [withX.id_number.toLowerCase(), ` ${withX.id_number}\u3000`]) {
      const r = await post(
        t,
        districtCivil,
        {
          query: `mutation($i: CreateMinorInput!) { createMinor(input: $i) { id } }`,
          variables: { i: { idNumber: spelt, name: '张三', householdRegistration: '浙江省杭州市', currentAddress: '浙江省杭州市上城区1号', gridCode: child.grid_code } },
        },
        PURPOSE,
      );
      expect([r.status, errorCodes({ status: r.status, errors: r.json.errors })]).toEqual([200, ['BAD_USER_INPUT']]);
      expect(r.json.errors[0].message).toMatch(/already registered/);
      const e = await eventOf(t, r.requestId);
      expect(e.reads).toEqual([{ minorId: withX.id, fields: { 'Minor.idNumber': 'ALLOW' } }]);
    }
  });

  it('addCategory refused for a date before birth names the child with the birth date read (1d14691)', async () => {
    const r = await post(
      t,
      streetCivil,
      { query: `mutation($m: ID!) { addCategory(minorId: $m, category: LEFT_BEHIND, identifiedAt: "1990-01-01") { __typename } }`, variables: { m: child.id } },
      PURPOSE,
    );
    expect(errorCodes({ status: r.status, errors: r.json.errors })).toEqual(['BAD_USER_INPUT']);
    const e = await eventOf(t, r.requestId);
    expect(e.reads).toEqual([{ minorId: child.id, fields: { 'Minor.birthDate': 'ALLOW' } }]);
  });

  it('a report step refused for its status names the report\'s child (1d14691)', async () => {
    const reporter = await t.token(ED, { role: Role.REPORTER, user: 'rt18h-teacher' });
    const filed = await t.gql(
      reporter,
      `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`,
      { input: { harmType: 'NEGLECT', observation: '孩子长期独自在家', location: '某小区3栋', regionCode: STREET, urgency: 'NORMAL', childIdNumber: child.id_number } },
      {},
    );
    expect(filed.errors).toBeUndefined();
    const id = filed.data.fileMandatoryReport.id;
    const r = await post(
      t,
      streetCivil,
      { query: `mutation($id: ID!) { transitionReport(id: $id, to: CLOSED, note: "结案") { __typename } }`, variables: { id } },
      PURPOSE,
    );
    expect(errorCodes({ status: r.status, errors: r.json.errors })).toEqual(['BAD_USER_INPUT']);
    const e = await eventOf(t, r.requestId);
    expect(e.reads.map((x: { minorId: string }) => x.minorId)).toEqual([child.id]);
  });

  describe('purpose REFERRAL binds a request to its child (f9f8ece, 2235dee)', () => {
    let referralId: string;
    let edu: string;
    beforeAll(async () => {
      const ref = await t.gql(streetCivil, `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`, {
        input: { minorId: child.id, toDepartment: 'EDUCATION', type: 'EDUCATION_AID', need: '需要助学金' },
      }, PURPOSE);
      expect(ref.errors).toBeUndefined();
      referralId = ref.data.createReferral.id;
      edu = await t.token(ED, { region: STREET, user: 'rt18h-edu' });
      // A notification to EDUCATION about `other`: a referral for it.
      const ref2 = await t.gql(streetCivil, `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`, {
        input: { minorId: other.id, toDepartment: 'EDUCATION', type: 'MEDICAL_AID', need: '需要医疗救助' },
      }, PURPOSE);
      expect(ref2.errors).toBeUndefined();
      otherReferral = ref2.data.createReferral.id;
    });
    let otherReferral: string;
    const under = () => ({ 'x-purpose': `REFERRAL; ${referralId}` });

    it('the referral\'s own child is served, its granted address exact', async () => {
      const r = await post(t, edu, { query: `query($id: ID!) { minor(id: $id) { id currentAddress guardians { name } } }`, variables: { id: child.id } }, under());
      expect(r.json.errors).toBeUndefined();
      expect(r.json.data.minor.id).toBe(child.id);
    });

    it.each([
      ['another child by id', `query($id: ID!, $o: ID!) { minor(id: $id) { id } other: minor(id: $o) { __typename } }`],
      ['a page of children', `query($id: ID!) { minor(id: $id) { id } minors(first: 5) { edges { __typename } } }`],
      ['a count under a test', `query($id: ID!) { minor(id: $id) { id } minors(first: 1, filter: { ageMin: 0, regionCode: "${STREET}" }) { totalCount } }`],
      ['the inbox', `query($id: ID!) { minor(id: $id) { id } notifications(first: 50) { kind } }`],
    ])('%s beside it is refused whole (403)', async (_what, query) => {
      const r = await post(t, edu, { query, variables: { id: child.id, o: other.id, n: other.id_number } }, under());
      expect([r.status, r.json.data ?? null, errorCodes({ status: r.status, errors: r.json.errors })]).toEqual([403, null, ['FORBIDDEN']]);
    });

    it('a no-op acknowledgement of a notification about another child is withheld', async () => {
      const [n] = await t.sql(`SELECT id FROM workflow.notification WHERE subject_id = $1 AND department = 'EDUCATION'`, [otherReferral]);
      const first = await t.gql(edu, `mutation($id: ID!) { acknowledge(id: $id) { id } }`, { id: n.id }, PURPOSE);
      expect(first.errors).toBeUndefined();
      const r = await post(t, edu, { query: `mutation($id: ID!) { acknowledge(id: $id) { id payload { field value } minor { id } } }`, variables: { id: n.id } }, under());
      expect([r.status, errorCodes({ status: r.status, errors: r.json.errors })]).toEqual([403, ['FORBIDDEN']]);
      expect(JSON.stringify(r.json)).not.toContain(other.id);
    });
  });

  describe('barred persons: revocation (22d77ea, edf2d7e, 452d0f5)', () => {
    const ADD = `mutation($i: BarredPersonInput!) { addBarredPerson(input: $i) { id } }`;
    const REVOKE = `mutation($id: ID!, $r: String!) { removeBarredPerson(id: $id, reason: $r) }`;
    const CHECK = `mutation($i: EmploymentCheckInput!) { employmentCheck(input: $i) { answer } }`;
    const adult = buildIdNumber('330102', '1985-03-04', 123);
    let keeper: string;
    let employer: string;
    beforeAll(async () => {
      keeper = await t.token(Department.JUSTICE, { user: 'rt18h-justice' });
      employer = await t.token(ED, { role: Role.EMPLOYER, user: 'rt18h-employer' });
    });

    it('revoked once, concurrently: one revocation stands, the other is NOT_FOUND; the judgement may be listed again', async () => {
      const a = await t.gql(keeper, ADD, { i: { idNumber: adult, name: '王五', offence: 'ABUSE', judgementReference: '(2020)浙0102刑初1号' } }, {});
      expect(a.errors).toBeUndefined();
      const id = a.data.addBarredPerson.id;
      const check1 = await t.gql(employer, CHECK, { i: { idNumber: adult, name: '王五', authorizationReference: 'AUTH-1' } }, {});
      expect(check1.data?.employmentCheck?.answer).toBe('RESTRICTED');
      const both = await Promise.all([0, 1].map((i) => post(t, keeper, { query: REVOKE, variables: { id: id.toUpperCase(), r: `改判 ${i}` } }, {})));
      const codes = both.map((b) => (b.json.errors ? b.json.errors[0].extensions.code : 'OK')).sort();
      expect(codes).toEqual(['NOT_FOUND', 'OK']);
      const won = both.find((b) => !b.json.errors)!;
      expect(won.json.data.removeBarredPerson).toBe(id);
      const e = await eventOf(t, won.requestId);
      expect(e.changes).toEqual([expect.objectContaining({ mutation: 'removeBarredPerson', id })]);
      const lost = both.find((b) => b.json.errors)!;
      const el = await eventOf(t, lost.requestId);
      expect(el.changes).toEqual([]);
      const check2 = await t.gql(employer, CHECK, { i: { idNumber: adult, name: '王五', authorizationReference: 'AUTH-2' } }, {});
      expect(check2.data?.employmentCheck?.answer).toBe('CLEAR');
      const again = await t.gql(keeper, ADD, { i: { idNumber: adult, name: '王五', offence: 'ABUSE', judgementReference: '(2020)浙0102刑初1号' } }, {});
      expect(again.errors).toBeUndefined();
      const listed = await t.gql(keeper, `{ barredPersons(includeRevoked: true) { id revokedAt revocationReason } }`, {}, {});
      expect(listed.errors).toBeUndefined();
      expect(listed.data.barredPersons.filter((b: { id: string }) => [id, again.data.addBarredPerson.id].includes(b.id))).toHaveLength(2);
    });

    it('a blank reason is refused and revokes nothing', async () => {
      const a = await t.gql(keeper, ADD, { i: { idNumber: adult, name: '王五', offence: 'OTHER', judgementReference: '(2021)浙0102刑初9号' } }, {});
      expect(a.errors).toBeUndefined();
      for (const r of ['', '   ', '\u200b']) {
        const res = await t.gql(keeper, REVOKE, { id: a.data.addBarredPerson.id, r }, {});
        expect(errorCodes(res)).toEqual(['BAD_USER_INPUT']);
      }
      const [row] = await t.sql(`SELECT revoked_at FROM workflow.barred_person WHERE id = $1`, [a.data.addBarredPerson.id]);
      expect(row.revoked_at).toBeNull();
    });

    it('restrictedUntil today in China is taken, yesterday refused', async () => {
      const today = chinaDay(new Date());
      const yesterday = chinaDay(new Date(Date.now() - 86_400_000));
      const ok = await t.gql(keeper, ADD, { i: { idNumber: adult, name: '王五', offence: 'OTHER', judgementReference: '(2022)浙0102刑初7号', restrictedUntil: today } }, {});
      expect(ok.errors).toBeUndefined();
      const no = await t.gql(keeper, ADD, { i: { idNumber: adult, name: '王五', offence: 'OTHER', judgementReference: '(2022)浙0102刑初8号', restrictedUntil: yesterday } }, {});
      expect(errorCodes(no)).toEqual(['BAD_USER_INPUT']);
    });
  });

  // 320766a refused Latin mixed with Greek, Cyrillic, Armenian, Cherokee or Coptic letters, "which pass
  // for each other" (README, --user): other scripts whose letters are drawn as Latin capitals still pass.
  it.each([
    ['Lisu ꓑ for P', 'ꓑolice-officer-1', 'Police-officer-1'],
    ['Lisu ꓮ and ꓓ for A and D', 'ꓮꓓMIN-1', 'ADMIN-1'],
    ['Canadian syllabics ᗷ for B', 'ᗷob-police', 'Bob-police'],
    ['Tifinagh ⵔ for O', 'ⵔfficer-7', 'Officer-7'],
  ])('a user id mixing Latin with a lookalike script (%s) is refused like one mixing it with Cyrillic', async (_what, disguised, genuine) => {
    const ok = await post(t, await t.token(PO, { user: genuine }), { query: '{ __typename }' }, {});
    expect(ok.status).toBe(200);
    const r = await post(t, await t.token(PO, { user: disguised }), { query: '{ __typename }' }, {});
    expect([r.status, errorCodes({ status: r.status, errors: r.json?.errors })]).toEqual([401, ['UNAUTHENTICATED']]);
  });

  it('refused registrations of registered numbers, and no-op updates, count towards MANY_CHILDREN and show in the children\'s histories (c58d253, 46ccb94)', async () => {
    if (mode !== 'in process') return; // the threshold is lowered in this process's configuration
    const kids: { id: string; id_number: string; grid_code: string }[] = await t.sql(
      `SELECT id, trim(id_number) AS id_number, grid_code FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 20 LIMIT 3`,
    );
    const prober = await t.token(CA, { user: 'rt18h-prober' });
    const noop = await t.token(CA, { user: 'rt18h-noop' });
    const requests: string[] = [];
    for (const k of kids) {
      const r = await post(t, prober, {
        query: `mutation($i: CreateMinorInput!) { createMinor(input: $i) { id } }`,
        variables: { i: { idNumber: k.id_number, name: '李四', householdRegistration: '浙江省杭州市', currentAddress: '浙江省杭州市上城区2号', gridCode: k.grid_code } },
      }, PURPOSE);
      expect(errorCodes({ status: r.status, errors: r.json.errors })).toEqual(['BAD_USER_INPUT']);
      requests.push(r.requestId);
      const u = await post(t, noop, { query: `mutation($id: ID!) { updateMinor(id: $id, input: {}) { __typename } }`, variables: { id: k.id } }, PURPOSE);
      expect(u.json.errors).toBeUndefined();
    }
    const auditor = await t.token(CA, { role: Role.AUDITOR, user: 'rt18h-auditor' });
    const history = await t.gql(auditor, `query($m: ID!) { minorAccessHistory(minorId: $m, first: 20) { requestId userId fields { field access } } }`, { m: kids[0].id }, {});
    expect(history.errors).toBeUndefined();
    expect(history.data.minorAccessHistory.map((h: { requestId: string }) => h.requestId)).toContain(requests[0]);
    const saved = t.config.audit.anomalies.distinctMinors;
    t.config.audit.anomalies.distinctMinors = 3;
    try {
      const a = await t.gql(auditor, `{ auditAnomalies { kind userId department count } }`, {}, {});
      expect(a.errors).toBeUndefined();
      const many = a.data.auditAnomalies.filter((x: { kind: string }) => x.kind === 'MANY_CHILDREN').map((x: { userId: string }) => x.userId);
      expect(many).toEqual(expect.arrayContaining(['rt18h-prober', 'rt18h-noop']));
    } finally {
      t.config.audit.anomalies.distinctMinors = saved;
    }
  });

  // 6fb457b / 3d4e498: a count under a filter records every child it depends on, exact up to 1,001 and
  // "1,001" above. A department page counts records, not children: a child with two matching records
  // moves the count from 1,000 to 1,002, answered "1,001" with no child recorded.
  it('a record page\'s count that a child\'s records move past 1,001 names that child (records are not children)', async () => {
    const police = await t.token(PO, { user: 'rt18h-counter' });
    const FILTER = { types: ['TRAFFICKING'], statuses: ['INVESTIGATING'] };
    const COUNT = `query($f: PoliceIncidentFilter) { policeIncidents(filter: $f, first: 1) { totalCount } }`;
    const [target]: { id: string }[] = await t.sql(
      `SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE '330102%' AND registry.is_minor(m.birth_date, now())
         AND NOT EXISTS (SELECT 1 FROM police.incident i WHERE i.minor_id = m.id) ORDER BY m.id LIMIT 1`,
    );
    const others: { id: string }[] = await t.sql(
      `SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE '330102%' AND registry.is_minor(m.birth_date, now()) AND m.id <> $1 ORDER BY m.id DESC LIMIT 100`,
      [target.id],
    );
    const [{ n }] = await t.sql(
      `SELECT count(*)::int AS n FROM police.incident i JOIN registry.minor m ON m.id = i.minor_id
        WHERE m.grid_code LIKE '330102%' AND registry.is_minor(m.birth_date, now()) AND i.type = 'TRAFFICKING' AND i.status = 'INVESTIGATING'`,
    );
    expect(n).toBeLessThan(1000);
    const insert = `INSERT INTO police.incident (id, minor_id, type, occurred_on, status, handling_unit, narrative)
                    SELECT gen_random_uuid(), m, 'TRAFFICKING', current_date - 3, 'INVESTIGATING', '派出所', 'rt18h' FROM unnest($1::uuid[]) AS m`;
    await t.sql(insert, [Array.from({ length: 1000 - n }, (_, i) => others[i % others.length].id)]);
    const ask = async () => {
      const r = await post(t, police, { query: COUNT, variables: { f: FILTER } }, PURPOSE);
      expect(r.json.errors).toBeUndefined();
      const e = await eventOf(t, r.requestId);
      return { count: r.json.data.policeIncidents.totalCount as number, named: e.reads.map((x: { minorId: string }) => x.minorId) as string[] };
    };
    const without = await ask();
    expect(without.count).toBe(1000);
    expect(without.named).not.toContain(target.id);
    await t.sql(insert, [[target.id, target.id]]);
    const withTarget = await ask();
    // The answer moved because of the target's records alone …
    expect(withTarget.count).not.toBe(without.count);
    // … so the trail must say that the target's records were tested.
    expect(withTarget.named).toContain(target.id);
  });
});
