import { Department } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const { CIVIL_AFFAIRS: CA, YOUTH_LEAGUE: YL } = Department;

/**
 * Red team 34 (rt34-yl): 62c3665 refuses the Youth League the masked ID number, whose region code
 * tells the 户籍 district it is refused (SHOWS_PART_OF). Every other way an officer refused the number
 * (or part of it) still learns it, and other masks that tell part of a field the same department is refused.
 *
 * The child: a migrant registered in Beijing (ID number issued in 110101, 户籍地 北京市东城区) living in a
 * grid of 330102, so that nothing else the Youth League reads (its grid, its jurisdiction) tells 110101.
 */
describe('the ID number and its region code, red team 34', () => {
  let t: TestHub;
  let civil: string;
  let league: string;
  let childId: string;
  let idNumber: string;
  /** Another child of 330102, the one a referral to the Youth League is about. */
  let otherId: string;

  const purpose = (reference: string) => ({ 'x-purpose': reference });
  const refer = async (minorId: string, type: string) => {
    const r = await t.gql(civil, `mutation($in: CreateReferralInput!) { createReferral(input: $in) { id } }`, { in: { minorId, type, toDepartment: YL, need: 'rt34' } });
    expect(r.errors).toBeUndefined();
    return r.data.createReferral.id as string;
  };

  beforeAll(async () => {
    t = await startTestHub({});
    civil = await t.token(CA, { region: '330102', user: 'rt34-civil' });
    league = await t.token(YL, { region: '330102', user: 'rt34-league' });
    const [grid] = await t.sql(`SELECT code FROM registry.region WHERE code LIKE '330102%' AND length(code) = 15 ORDER BY code LIMIT 1`);
    idNumber = buildIdNumber('110101', '2014-03-05', 123);
    const created = await t.gql(civil, `mutation($in: CreateMinorInput!) { createMinor(input: $in) { id } }`, {
      in: { name: '张小明', idNumber, householdRegistration: '北京市东城区东华门街道南池子大街1号', currentAddress: '浙江省杭州市上城区小营街道大学路1号', gridCode: grid.code },
    });
    expect(created.errors).toBeUndefined();
    childId = created.data.createMinor.id;
    const [other] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' AND registry.is_minor(birth_date, now()) AND id <> $1 ORDER BY id LIMIT 1`, [childId]);
    otherId = other.id;
  });
  afterAll(() => t?.stop());

  // `myReports` records a read of each child its receipts are linked to (report.resolver.ts), and under a
  // referral's purpose an answer that read another child is withheld (audit.plugin.ts willSendResponse, 403).
  // A report filed with `childId` and `childIdNumber` is linked only when both name the same child — which the
  // filer is never to learn. Filed by the Youth League with a guessed number, then `myReports(first: 1)` under
  // the purpose of any referral addressed to it: 200 when the guess is wrong, 403 when it is the child's ID
  // number. ~500 guesses per birth date give the whole number (and its region code, the 户籍 district) to any
  // department, refused it (Youth League) or shown it masked (schools, justice, women's federation).
  it('myReports under a referral’s purpose answers alike whether or not a report filed with a guessed ID number was linked to the child', async () => {
    const referral = await refer(otherId, 'COUNSELLING');
    const file = async (childIdNumber: string) => {
      const r = await t.gql(league, `mutation($in: FileReportInput!) { fileMandatoryReport(input: $in) { status } }`, {
        in: { harmType: 'NEGLECT', observation: '孩子长期无人照看', location: '小区门口', regionCode: '330102', urgency: 'NORMAL', childId, childIdNumber },
      });
      expect([r.errors, r.data.fileMandatoryReport.status]).toEqual([undefined, 'RECEIVED']);
    };
    const newest = async () => (await post(t, league, { query: `{ myReports(first: 1) { status } }` }, purpose(`REFERRAL; ${referral}`))).status;

    await file(buildIdNumber('110101', '2014-03-05', 125)); // a wrong guess: not linked
    const afterWrongGuess = await newest();
    await file(idNumber); // the child's number: linked
    const afterRightGuess = await newest();
    expect(afterRightGuess).toBe(afterWrongGuess);
  });

  // The table, beside SHOWS_PART_OF: the PHONE mask keeps the first 3 characters, which for a landline
  // are its area code (010 Beijing, 021 Shanghai, 020 Guangzhou, 025 Nanjing …, 057x Zhejiang): the city of the
  // guardian's home, told to the Youth League, which is refused `Guardian.address` (and the child's addresses).
  it('the Youth League’s masked guardian phone does not tell the area code of a landline, the city of an address it is refused', async () => {
    // With its trunk 0 or without it (red team 35): `571-87001234` is Hangzhou, `10-65123456` Beijing.
    const codes: Record<string, string> = { '010-65123456': '010', '571-87001234': '571', '10-65123456': '10-' };
    for (const phone of Object.keys(codes)) {
      const added = await t.gql(civil, `mutation($m: ID!, $p: String) { addGuardian(minorId: $m, input: { relationship: OTHER_RELATIVE, name: "张大山", phone: $p, address: "北京市朝阳区建外街道光华路1号" }) { id } }`, { m: childId, p: phone });
      expect(added.errors).toBeUndefined();
    }
    const r = await t.gql(league, `query($id: ID!) { minor(id: $id) { guardians { phone address } } }`, { id: childId });
    expect(new Set(errorCodes(r))).toEqual(new Set(['FORBIDDEN'])); // the addresses, refused
    const guardians: { phone: string; address: string | null }[] = r.data.minor.guardians;
    expect(guardians.map((g) => g.address)).toEqual([null, null, null]);
    expect(guardians.map((g) => g.phone).sort()).toEqual(['****1234', '****3456', '****3456']);
  });

  // 46f6b23: without a child-bound purpose, myReports still answers its receipts and records the read
  // of the linked child of the filer's jurisdiction.
  it('myReports answers and audits as before without a child-bound purpose', async () => {
    const filed = await t.gql(league, `mutation($in: FileReportInput!) { fileMandatoryReport(input: $in) { status } }`, {
      in: { harmType: 'NEGLECT', observation: '孩子长期无人照看', location: '小区门口', regionCode: '330102', urgency: 'NORMAL', childId },
    });
    expect(filed.errors).toBeUndefined();
    const plain = await post(t, league, { query: `{ myReports(first: 1) { status } }` }, purpose('CASE_HANDLING; rt35'));
    expect([plain.status, plain.json.data.myReports]).toEqual([200, [{ status: 'RECEIVED' }]]);
    const event = await eventOf(t, plain.requestId);
    expect(event.reads).toEqual([{ minorId: childId, fields: { 'ReportReceipt.receivedAt': 'ALLOW', 'ReportReceipt.status': 'ALLOW' } }]);
  });

  // Pin: a payload stored for the Youth League before 62c3665, holding the masked ID number, is served
  // without it, and the read's audit event does not list the field.
  it('pin: a stored payload’s masked ID number is not served to the Youth League, nor recorded as read', async () => {
    await t.sql(
      `INSERT INTO workflow.notification (id, kind, department, region_code, minor_id, subject_id, payload, created_at, dedupe_key)
       SELECT gen_random_uuid(), 'DROPOUT', 'YOUTH_LEAGUE', grid_code, id, NULL, $2::jsonb, now(), 'rt34-before-62c3665' FROM registry.minor WHERE id = $1`,
      [childId, JSON.stringify({ 'Minor.idNumber': '110101************', 'DropoutReport.daysAbsent': '20' })],
    );
    const r = await post(t, league, { query: `{ notifications { minor { id } payload { field value } } }` }, purpose('CASE_HANDLING; rt34'));
    const told = r.json.data.notifications.find((n: { minor: { id: string } | null }) => n.minor?.id === childId && JSON.stringify(n).includes('daysAbsent'));
    expect(told.payload).toEqual([{ field: 'DropoutReport.daysAbsent', value: '20' }]);
    expect(JSON.stringify(r.json)).not.toContain('110101');
    const event = await eventOf(t, r.requestId);
    expect(JSON.stringify(event.reads)).not.toContain('Minor.idNumber');
  });

  // Pin: none of the number on the Youth League's paths to the child — its own records, a referral (under its
  // grant too, which opens the 户籍地 exactly), the inbox, a page — aliases and fragments alike.
  it('pin: the Youth League reads no part of the ID number on any path to the child', async () => {
    const opened = await t.gql(league, `mutation($m: ID!) { createPreventionCase(minorId: $m, input: { kind: GENERAL_PREVENTION, openedOn: "2026-01-01", status: OPEN, caseWorker: "w", measures: "m" }) { id } }`, { m: childId });
    expect(opened.errors).toBeUndefined();
    const referral = await refer(childId, 'LIVING_ASSISTANCE');
    const [{ grid_code: grid }] = await t.sql(`SELECT grid_code FROM registry.minor WHERE id = $1`, [childId]);
    const child = `a: minor(id: $id) { n: idNumber ...F }
      b: minor(id: $id) { preventionCases { minor { idNumber } } }
      c: referral(id: $r) { minor { ...F } }`;
    // Under the referral's purpose a request reads its child only: the inbox and a page read others.
    const requests: [string, Record<string, unknown>, Record<string, string>][] = [
      [`query($id: ID!, $r: ID!, $g: String) { ${child} d: notifications { minor { idNumber } } e: minors(filter: { regionCode: $g }, first: 100) { edges { node { id idNumber } } } } fragment F on Minor { idNumber }`,
        { id: childId, r: referral, g: grid }, purpose('CASE_HANDLING; rt34')],
      [`query($id: ID!, $r: ID!) { ${child} } fragment F on Minor { idNumber }`, { id: childId, r: referral }, purpose(`REFERRAL; ${referral}`)],
    ];
    for (const [query, variables, headers] of requests) {
      const r = await post(t, league, { query, variables }, headers);
      expect([r.status, r.json.errors?.filter((e: { extensions: { code: string } }) => e.extensions.code !== 'FORBIDDEN')]).toEqual([200, []]);
      expect(JSON.stringify(r.json.data)).not.toContain('110101');
      expect(new Set((r.json.errors ?? []).map((e: { extensions: { field?: string } }) => e.extensions.field))).toEqual(new Set(['Minor.idNumber']));
    }
  });
});
