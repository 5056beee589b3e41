import { Department } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, JUSTICE: JU, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;

/**
 * Red team 35 (rt35-pol): a regression review of 62c3665 (SHOWS_PART_OF), b1aa618 (Policy.reachable),
 * 09676ae (the PHONE mask of a number with its area code) and 46f6b23 (myReports under a child-bound purpose).
 *
 * The child: a migrant registered in Beijing (ID number issued in 110101) living in a grid of 330102.
 */
describe('today’s policy changes, red team 35', () => {
  let t: TestHub;
  let civil: string;
  let league: string;
  let childId: string;

  beforeAll(async () => {
    t = await startTestHub({});
    civil = await t.token(CA, { region: '330102', user: 'rt35-civil' });
    league = await t.token(YL, { region: '330102', user: 'rt35-league' });
    const [grid] = await t.sql(`SELECT code FROM registry.region WHERE code LIKE '330102%' AND length(code) = 15 ORDER BY code LIMIT 1`);
    const created = await t.gql(civil, `mutation($in: CreateMinorInput!) { createMinor(input: $in) { id } }`, {
      in: { name: '张小明', idNumber: buildIdNumber('110101', '2014-03-05', 123), householdRegistration: '北京市东城区东华门街道南池子大街1号', currentAddress: '浙江省杭州市上城区小营街道大学路1号', gridCode: grid.code },
    });
    expect(created.errors).toBeUndefined();
    childId = created.data.createMinor.id;
  });
  afterAll(() => t?.stop());

  // 09676ae: maskPhone (src/policy/masks.ts:100) hides the first 3 only of a number starting with the trunk 0.
  // The validator (src/common/validation.ts:112 requirePhone) takes a landline written with its area code but
  // without the 0 — `571-87001234` (Hangzhou), `10-65123456` (Beijing) — and the mask still shows its first 3
  // characters, the area code: the city of the guardian's home, to the Youth League, refused every address.
  it('the Youth League’s masked guardian phone does not tell the area code of a landline written without its trunk 0', async () => {
    const codes: Record<string, string> = { '571-87001234': '571', '10-65123456': '10-' };
    for (const phone of Object.keys(codes)) {
      const added = await t.gql(civil, `mutation($m: ID!, $p: String) { addGuardian(minorId: $m, input: { relationship: MOTHER, name: "李小红", phone: $p, address: "北京市朝阳区建外街道光华路1号" }) { id } }`, { m: childId, p: phone });
      expect(added.errors).toBeUndefined();
    }
    const r = await t.gql(league, `query($id: ID!) { minor(id: $id) { guardians { phone address } } }`, { id: childId });
    expect(new Set(errorCodes(r))).toEqual(new Set(['FORBIDDEN'])); // the addresses, refused
    const phones: string[] = r.data.minor.guardians.map((g: { phone: string }) => g.phone);
    expect(phones).toHaveLength(2);
    for (const phone of phones) expect(Object.values(codes).filter((code) => phone.startsWith(code))).toEqual([]);
  });

  // Pin (b1aa618): per receiving department, a civil-affairs referral opens its type's whole list
  // (docs/workflows.md) but the police's record of the 户籍地 to justice and the Youth League, refused it.
  it('pin: grantedFields of a civil-affairs EDUCATION_AID referral per receiver, and the grant serves the 户籍地 to the Youth League', async () => {
    const all = ['Minor.currentAddress', 'Minor.householdRegistration', 'IdentityVerification.householdPlace', 'Guardian.name', 'Guardian.phone', 'Guardian.address'];
    const got: Record<string, string[]> = {};
    const ids: Record<string, string> = {};
    for (const to of [ED, JU, YL, WF]) {
      const r = await t.gql(civil, `mutation($in: CreateReferralInput!) { createReferral(input: $in) { id grantedFields } }`, { in: { minorId: childId, type: 'EDUCATION_AID', toDepartment: to, need: 'rt35' } });
      expect(r.errors).toBeUndefined();
      got[to] = r.data.createReferral.grantedFields;
      ids[to] = r.data.createReferral.id;
    }
    const without = all.filter((f) => f !== 'IdentityVerification.householdPlace');
    expect(got).toEqual({ [ED]: all, [JU]: without, [YL]: without, [WF]: all });
    const r = await post(t, league, { query: `query($id: ID!) { minor(id: $id) { householdRegistration idNumber } }`, variables: { id: childId } }, { 'x-purpose': `REFERRAL; ${ids[YL]}` });
    expect(r.status).toBe(200);
    expect(r.json.data.minor.householdRegistration).toBe('北京市东城区东华门街道南池子大街1号');
    expect(r.json.data.minor.idNumber).toBeNull();
  });

  // Pin (46f6b23): without a child-bound purpose, myReports still answers its receipts and records the read
  // of the linked child of the filer's jurisdiction; under a referral's purpose it is withheld (403).
  it('pin: myReports answers and audits as before without a child-bound purpose, and is withheld under one', async () => {
    const filed = await t.gql(league, `mutation($in: FileReportInput!) { fileMandatoryReport(input: $in) { status } }`, {
      in: { harmType: 'NEGLECT', observation: '孩子长期无人照看', location: '小区门口', regionCode: '330102', urgency: 'NORMAL', childId },
    });
    expect(filed.errors).toBeUndefined();
    const plain = await post(t, league, { query: `{ myReports(first: 1) { status } }` }, { 'x-purpose': 'CASE_HANDLING; rt35' });
    expect([plain.status, plain.json.data.myReports]).toEqual([200, [{ status: 'RECEIVED' }]]);
    const event = await eventOf(t, plain.requestId);
    expect(JSON.stringify(event.reads)).toContain(childId);
    expect(JSON.stringify(event.reads)).toContain('ReportReceipt.status');
    const referral = await t.gql(civil, `mutation($in: CreateReferralInput!) { createReferral(input: $in) { id } }`, { in: { minorId: childId, type: 'COUNSELLING', toDepartment: YL, need: 'rt35 b' } });
    expect(referral.errors).toBeUndefined();
    const bound = await post(t, league, { query: `{ myReports(first: 1) { status } }` }, { 'x-purpose': `REFERRAL; ${referral.data.createReferral.id}` });
    expect(bound.status).toBe(403);
  });
});
