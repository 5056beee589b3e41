import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { earliestMinorBirth, requireLine, requireText } from '../src/common/validation';
import { childAtLeast, daysAgo, INSIDE_STREET } from './support/department-records';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

const NUL = 'a\u0000b';
const LONE_SURROGATE = '酒店\ud83d';
const BELL = 'a\u0007b';

describe('requireText', () => {
  it('refuses U+0000, other control characters and lone surrogates, naming the field', () => {
    for (const bad of [NUL, LONE_SURROGATE, 'x\udc00', BELL, 'a\u000bb', 'a\u001bb', 'a\u007fb']) {
      expect(() => requireText('note', bad, 100)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'note' }) }));
    }
  });

  it('keeps multi-line text, tabs and characters outside the BMP', () => {
    expect(requireText('note', ' 第一行\n\t第二行\r\n😀 ', 100)).toBe('第一行\n\t第二行\r\n😀');
  });

  it('refuses bidirectional controls, line and paragraph separators, C1 controls, and text with nothing visible', () => {
    for (const bad of ['a\u202Eb', 'a\u202Ab', 'a\u2066b', 'a\u2069b', 'a\u200Fb', 'a\u2028b', 'a\u2029b', 'a\u0085b', 'a\u009Bb', '\u200B', ' \u200B\u3000', '\u0301']) {
      expect(() => requireText('note', bad, 100)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'note' }) }));
    }
  });

  it('refuses text of only characters drawn blank: Hangul fillers (letters), the blank braille pattern (a symbol), invisible marks and selectors', () => {
    for (const blank of ['\u3164', '\uFFA0', '\u115F\u1160', '\u2800', '\u034F', '\uFE0F', '\u{E0100}', '\u0301\u034F', ' \u3164\n\t\u2800 ', '\u{1D159}\u{1D159}', '\u{16FE4}']) {
      expect(() => requireText('note', blank, 100)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'note' }) }));
    }
  });

  it('keeps invisible characters beside visible ones in multi-line text: an emoji’s variation selector or joiner, a ZWNJ in Persian', () => {
    for (const ok of ['已处理👍\uFE0F', '👨\u200D👩\u200D👧 一家三口在家', 'می\u200Cخواهد', '刘\u3164子轩']) expect(requireText('note', ok, 100)).toBe(ok);
  });
});

describe('requireLine', () => {
  it('refuses format characters, tabs and line breaks in one line of text, besides what requireText refuses', () => {
    for (const bad of ['\u200B', '刘\u200B轩', '刘\u200D轩', '刘\uFEFF轩', '刘\u00AD轩', '\u202E轩子刘', '刘\n轩', '刘\t轩', '刘\u2028轩', NUL]) {
      expect(() => requireLine('name', bad, 50)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'name' }) }));
    }
  });

  it('refuses characters drawn as nothing inside a line, which make a name look like another (刘\u034F子轩 is drawn 刘子轩)', () => {
    const lookalikes = ['刘\u034F子轩', '刘子\uFE0F轩', '葛\u{E0100}', '刘\u3164子轩', '刘\uFFA0子轩', '刘\u115F子轩', '刘\u2800子轩', '刘\u{E0041}子轩', 'ᠪᠠ\u180Bᠲᠤ', '👍\uFE0F', '刘\u{16FE4}子轩', '刘\u{1D159}子轩'];
    for (const bad of lookalikes) {
      expect(() => requireLine('name', bad, 50)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'name' }) }));
    }
  });

  it('refuses a space other than U+0020 inside a line: a no-break, thin or ideographic space is drawn as one', () => {
    for (const bad of ['刘\u00A0子轩', '刘\u2009子轩', '刘\u202F子轩', '刘\u3000子轩', '清波街道\u20071号']) {
      expect(() => requireLine('name', bad, 50)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'name' }) }));
    }
  });

  it('keeps names and addresses as people write them', () => {
    const names = ['李小明', '阿卜杜拉·买买提', 'ئابدۇرېھىم', 'བཀྲ་ཤིས', 'ᠪᠠᠲᠤ', 'ꀉꁌꐥꌠ', 'Nguyễn', "O'Brien-Smith", '浙江省杭州市上城区 清波街道 1号', '𠮷野'];
    for (const ok of names) expect(requireLine('name', ` ${ok} `, 50)).toBe(ok);
  });

  it('keeps a line in NFC, as drawn: combining accents composed, a compatibility ideograph its unified one; two spaces in a row refused', () => {
    expect([requireLine('name', 'Nguye\u0302\u0303n', 50), requireLine('name', '王\uF9DC', 50)]).toEqual(['Nguy\u1EC5n', '王\u9686']);
    expect(() => requireLine('name', 'Maria  Garcia', 50)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'name' }) }));
  });
});

/** Text a client sends is refused with BAD_USER_INPUT naming the field, not an internal error, and nothing is written. */
describe('text inputs and filters through the endpoint', () => {
  let t: TestHub;
  let minorId: string;
  let gridCode: string;
  beforeAll(async () => {
    t = await startTestHub();
    [{ id: minorId, grid_code: gridCode }] = await t.sql(`SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE '${INSIDE_STREET}%' ORDER BY id LIMIT 1`);
  });
  afterAll(() => t.stop());

  const counts = async () =>
    (
      await t.sql(`SELECT (SELECT count(*) FROM education.school_enrollment)::int AS enrollments, (SELECT count(*) FROM workflow.referral)::int AS referrals,
                          (SELECT count(*) FROM workflow.mandatory_report)::int AS reports, (SELECT count(*) FROM workflow.notification)::int AS notifications,
                          (SELECT count(*) FROM registry.risk_assessment)::int AS assessments`)
    )[0];
  const refused = (r: { errors?: { extensions?: Record<string, any> }[] }, field: string) => {
    expect(errorCodes(r as never)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].extensions!.field).toBe(field);
  };

  it.each([
    ['U+0000', NUL],
    ['a lone surrogate', LONE_SURROGATE],
    ['a control character', BELL],
  ])('refuses %s in a department record, a referral, a mandatory report and an assessment, writing nothing', async (_what, text) => {
    const before = await counts();
    const ed = await t.token(Department.EDUCATION);
    refused(
      await t.gql(ed, `mutation($m: ID!, $s: String!) { createSchoolEnrollment(minorId: $m, input: { school: $s, grade: 3, status: ENROLLED, enrolledOn: "${daysAgo(10)}" }) { id } }`, { m: minorId, s: text }),
      'school',
    );
    const ca = await t.token(Department.CIVIL_AFFAIRS);
    refused(
      await t.gql(ca, `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, { i: { minorId, type: 'EDUCATION_AID', toDepartment: 'EDUCATION', need: text } }),
      'need',
    );
    refused(
      await t.gql(await t.token(Department.EDUCATION, { role: Role.REPORTER }), `mutation($i: FileReportInput!) { fileMandatoryReport(input: $i) { id } }`, {
        i: { harmType: 'NEGLECT', observation: '手臂淤青', location: text, regionCode: gridCode, urgency: 'NORMAL' },
      }, {}),
      'location',
    );
    refused(
      await t.gql(ca, `mutation($m: ID!, $r: String!) { recordAssessment(minorId: $m, input: { level: YELLOW, reasons: $r }) { id } }`, { m: minorId, r: text }),
      'reasons',
    );
    expect(await counts()).toEqual(before);
  });

  it.each([
    ['U+0000', NUL],
    ['a lone surrogate', LONE_SURROGATE],
  ])('refuses %s in a text filter', async (_what, text) => {
    const ed = await t.token(Department.EDUCATION);
    refused(await t.gql(ed, `query($s: String!) { dropoutReports(filter: { school: $s }) { totalCount } }`, { s: text }), 'filter.school');
    const ca = await t.token(Department.CIVIL_AFFAIRS);
    refused(await t.gql(ca, `query($n: String!) { minorByIdNumber(idNumber: $n) { id } }`, { n: text }), 'idNumber');
    const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR });
    refused(await t.gql(auditor, `query($d: String!) { auditEvents(filter: { department: $d }) { edges { cursor } } }`, { d: text }, {}), 'filter.department');
  });

  it('refuses a date or time before 1900 (a year typed short), writing nothing', async () => {
    const before = await counts();
    refused(
      await t.gql(await t.token(Department.EDUCATION, { role: Role.REPORTER }), `mutation($i: FileReportInput!) { fileMandatoryReport(input: $i) { id } }`, {
        i: { harmType: 'NEGLECT', observation: '手臂淤青', location: '家中', regionCode: gridCode, urgency: 'NORMAL', observedAt: '0001-01-01T00:00:00Z' },
      }, {}),
      'observedAt',
    );
    refused(
      await t.gql(await t.token(Department.EDUCATION), `mutation($m: ID!) { createSchoolEnrollment(minorId: $m, input: { school: "实验小学", grade: 3, status: ENROLLED, enrolledOn: "1009-09-01" }) { id } }`, { m: minorId }),
      'enrolledOn',
    );
    expect(await counts()).toEqual(before);
  });

  it('refuses invisible and direction-changing characters in a child’s and a guardian’s name and in notes, writing nothing', async () => {
    const ca = await t.token(Department.CIVIL_AFFAIRS);
    const state = async () =>
      (await t.sql(`SELECT name, (SELECT count(*)::int FROM registry.guardian WHERE minor_id = $1) AS guardians, (SELECT count(*)::int FROM registry.visit WHERE minor_id = $1) AS visits FROM registry.minor WHERE id = $1`, [minorId]))[0];
    const before = await state();
    for (const name of ['\u202E轩子刘', '刘\u200B轩', '刘\u2028轩']) {
      refused(await t.gql(ca, `mutation($m: ID!, $n: String!) { updateMinor(id: $m, input: { name: $n }) { name } }`, { m: minorId, n: name }), 'name');
    }
    for (const name of ['\u200B', '\u200D\u200C', '李\u202E四', '\uFFA0', '李\u034F四']) {
      refused(await t.gql(ca, `mutation($m: ID!, $n: String!) { addGuardian(minorId: $m, input: { relationship: OTHER_RELATIVE, name: $n }) { id } }`, { m: minorId, n: name }), 'name');
    }
    for (const notes of ['入户\u2028祖母在家', '入户\u0085祖母在家', '家访\u202E记录', '\u200B', '\u2800', '\u3164\n\u3164']) {
      refused(await t.gql(ca, `mutation($m: ID!, $n: String!) { recordVisit(minorId: $m, input: { notes: $n }) { id } }`, { m: minorId, n: notes }), 'notes');
    }
    expect(await state()).toEqual(before);
  });

  it('refuses a department record dated before any registered child was born (the day after 18 years ago), without comparing with the child’s birth date; accepts one on that day', async () => {
    const before = await counts();
    const ed = await t.token(Department.EDUCATION);
    const earliest = earliestMinorBirth(new Date());
    const dayBefore = new Date(Date.parse(earliest) - 86_400_000).toISOString().slice(0, 10);
    const ENROL = `mutation($m: ID!, $d: String!) { createSchoolEnrollment(minorId: $m, input: { school: "实验小学", grade: 3, status: ENROLLED, enrolledOn: $d }) { id } }`;
    const answers = [];
    for (const d of ['1901-01-01', dayBefore]) {
      const r = await t.gql(ed, ENROL, { m: minorId, d });
      refused(r, 'enrolledOn');
      answers.push(r.errors![0].message);
    }
    // The same refusal whatever the child: it says nothing of this child's birth date.
    const [{ id: other }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${INSIDE_STREET}%' AND birth_date <> (SELECT birth_date FROM registry.minor WHERE id = $1) ORDER BY id LIMIT 1`, [minorId]);
    expect((await t.gql(ed, ENROL, { m: other, d: dayBefore })).errors![0].message).toBe(answers[1]);
    refused(
      await t.gql(await t.token(Department.POLICE), `mutation($m: ID!) { createPoliceIncident(minorId: $m, input: { type: ABUSE, occurredOn: "1901-01-01", status: REPORTED, handlingUnit: "派出所", narrative: "n" }) { id } }`, { m: minorId }),
      'occurredOn',
    );
    refused(
      await t.gql(await t.token(Department.YOUTH_LEAGUE), `mutation($m: ID!) { createVolunteerVisit(minorId: $m, input: { visitedOn: "${dayBefore}", volunteer: "志愿者", notes: "n" }) { id } }`, { m: minorId }),
      'visitedOn',
    );
    expect(await counts()).toEqual(before);
    // On that day: taken by the date rule for a child of 17, by their age born by then; an enrollment
    // then is refused by its age rule (no child of 5 then is a minor now).
    const born = await t.gql(
      await t.token(Department.CIVIL_AFFAIRS),
      `mutation($input: CreateMinorInput!) { createMinor(input: $input) { id age } }`,
      { input: { name: '王小雨', idNumber: buildIdNumber('330102', earliest, 959), householdRegistration: '浙江省杭州市上城区', currentAddress: '浙江省杭州市上城区1号', gridCode } },
    );
    expect(born.data.createMinor.age).toBe(17);
    const seventeen = born.data.createMinor.id;
    const visit = `mutation($m: ID!) { createVolunteerVisit(minorId: $m, input: { visitedOn: "${earliest}", volunteer: "志愿者", notes: "n" }) { id } }`;
    expect((await t.gql(await t.token(Department.YOUTH_LEAGUE), visit, { m: seventeen })).errors).toBeUndefined();
    refused(await t.gql(ed, ENROL, { m: seventeen, d: earliest }), 'minorId');
  });

  it('refuses an education aid for a school year outside the registered children’s schooling, writing nothing', async () => {
    const ed = await t.token(Department.EDUCATION);
    const aids = async () => (await t.sql(`SELECT count(*)::int AS n FROM education.education_aid`))[0].n;
    const before = await aids();
    const year = new Date().getUTCFullYear();
    const AID = `mutation($m: ID!, $y: String!) { createEducationAid(minorId: $m, input: { kind: SCHOLARSHIP, amountYuan: 500, grantedOn: "${daysAgo(1)}", schoolYear: $y }) { id } }`;
    for (const y of ['0000-0001', `${year - 19}-${year - 18}`, `${year + 2}-${year + 3}`, '2999-3000']) refused(await t.gql(ed, AID, { m: minorId, y }), 'schoolYear');
    expect(await aids()).toBe(before);
    // The years 18 years ago are of the schooling of a child of 17 (an aid is not for a year that ended before the child's birth).
    const { id: seventeen } = await childAtLeast(t, INSIDE_STREET, 17, 0);
    for (const y of [`${year - 18}-${year - 17}`, `${year + 1}-${year + 2}`]) expect((await t.gql(ed, AID, { m: seventeen, y })).errors).toBeUndefined();
  });

  it('stores multi-line text with tabs as given', async () => {
    const ca = await t.token(Department.CIVIL_AFFAIRS);
    const r = await t.gql(ca, `mutation($m: ID!, $n: String!) { recordVisit(minorId: $m, input: { notes: $n }) { id } }`, { m: minorId, n: '入户\n\t祖母在家' });
    expect(r.errors).toBeUndefined();
    const [row] = await t.sql(`SELECT notes FROM registry.visit WHERE id = $1`, [r.data.recordVisit.id]);
    expect(row.notes).toBe('入户\n\t祖母在家');
  });
});
