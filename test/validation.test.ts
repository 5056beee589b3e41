import { Department, Role } from '../src/auth/principal';
import { requireText } from '../src/common/validation';
import { daysAgo, INSIDE_STREET } from './support/department-records';
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

  it('stores multi-line text with tabs as given', async () => {
    const ca = await t.token(Department.CIVIL_AFFAIRS);
    const r = await t.gql(ca, `mutation($m: ID!, $n: String!) { recordVisit(minorId: $m, input: { notes: $n }) { id } }`, { m: minorId, n: '入户\n\t祖母在家' });
    expect(r.errors).toBeUndefined();
    const [row] = await t.sql(`SELECT notes FROM registry.visit WHERE id = $1`, [r.data.recordVisit.id]);
    expect(row.notes).toBe('入户\n\t祖母在家');
  });
});
