import { Department } from '../src/auth/principal';
import { daysAgo } from './support/department-records';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 38 (rt38-depts): each department's own records — create/update/record writes, their
 * validation, sub-records and the history pages of a child's records (src/subgraphs/shared/).
 *
 * No failing finding in this area this round. The tests below pin two behaviours verified through the
 * public endpoint in a broader form than the table-driven suites (test/support/department-records.ts),
 * which try a few invalid values per record type:
 *  - every create mutation of the five departments answers malformed text (NUL, NEL, a line separator, a
 *    lone surrogate, an Arabic letter mark, a zero-width space alone, a BOM alone, 5,000 characters) and
 *    malformed or out-of-range dates (30 February, year 9999, year 1, a time, an empty string, a sign,
 *    no zero padding, full-width digits) with BAD_USER_INPUT naming the field — never a 500 from a
 *    CHECK constraint or the date column — and writes nothing;
 *  - a sub-record list (CarePlan.visits) asked as several aliased pages of one plan in one request
 *    (one batched statement, `pagesOf`) answers each page as it is answered alone, and a cursor of
 *    another plan of the same child is refused on that path only.
 */
const { ED, PO, JU, YL, WF } = {
  ED: Department.EDUCATION,
  PO: Department.POLICE,
  JU: Department.JUSTICE,
  YL: Department.YOUTH_LEAGUE,
  WF: Department.WOMENS_FEDERATION,
};
const STREET = '330102001';

type Create = [owner: Department, mutation: string, inputType: string, table: string, input: Record<string, unknown>];
const CREATES: Create[] = [
  [ED, 'createSchoolEnrollment', 'SchoolEnrollmentInput', 'education.school_enrollment', { school: '清波小学', grade: 3, status: 'ENROLLED', enrolledOn: '2024-09-01' }],
  [ED, 'createDropoutReport', 'DropoutReportInput', 'education.dropout_report', { school: '清波小学', reportedOn: '2025-09-01', daysAbsent: 10 }],
  [ED, 'createBullyingCase', 'BullyingCaseInput', 'education.bullying_case', { school: '清波小学', occurredOn: '2025-09-01', role: 'VICTIM', severity: 'GENERAL', status: 'OPEN', description: '课间冲突' }],
  [ED, 'createEducationAid', 'EducationAidInput', 'education.education_aid', { kind: 'TUITION_WAIVER', amountYuan: 100, grantedOn: '2025-09-01', schoolYear: '2025-2026' }],
  [PO, 'createPoliceIncident', 'PoliceIncidentInput', 'police.incident', { type: 'RUNAWAY', occurredOn: '2025-09-01', status: 'REPORTED', handlingUnit: '清波派出所', narrative: '离家出走' }],
  [PO, 'createGuardianAdmonishment', 'GuardianAdmonishmentInput', 'police.guardian_admonishment', { guardian: 'FATHER', admonishedOn: '2025-09-01', issuingUnit: '清波派出所', reason: '训诫' }],
  [PO, 'createIdentityVerification', 'IdentityVerificationInput', 'police.identity_verification', { verifiedOn: '2025-09-01', result: 'MATCHED', householdStatus: 'REGISTERED', householdPlace: '浙江省杭州市上城区', note: '核验' }],
  [JU, 'createIncarceratedParent', 'IncarceratedParentInput', 'justice.incarcerated_parent', { parent: 'FATHER', kind: 'SERVING_SENTENCE', institution: '浙江省第一监狱', since: '2020-01-01', expectedRelease: '2030-01-01', status: 'IN_CUSTODY' }],
  [JU, 'createCommunityCorrection', 'CommunityCorrectionInput', 'justice.community_correction', { startedOn: '2025-01-01', endsOn: '2026-06-01', status: 'ACTIVE', supervisingOffice: '清波司法所', notes: '报到' }],
  [JU, 'createLegalAidCase', 'LegalAidCaseInput', 'justice.legal_aid_case', { openedOn: '2025-01-01', matter: 'OTHER', status: 'OPEN', provider: '律师事务所', details: '咨询' }],
  [YL, 'createPreventionCase', 'PreventionCaseInput', 'youth_league.prevention_case', { kind: 'GENERAL_PREVENTION', openedOn: '2025-01-01', status: 'OPEN', caseWorker: '社工王', measures: '谈心' }],
  // Work is of no child under 16, judged on the child's age then: a child of 16 today (`child`) works from a date of this year.
  [YL, 'createIdleSupport', 'IdleSupportInput', 'youth_league.idle_support', { kind: 'EMPLOYMENT', startedOn: daysAgo(30), provider: '就业见习基地', status: 'IN_PROGRESS', note: '跟进' }],
  [YL, 'createVolunteerVisit', 'VolunteerVisitInput', 'youth_league.volunteer_visit', { visitedOn: '2025-01-01', volunteer: '志愿者1号', notes: '陪伴' }],
  [WF, 'createCarePlan', 'CarePlanInput', 'womens_federation.care_plan', { kind: 'LEFT_BEHIND', startedOn: '2025-01-01', status: 'ACTIVE', caregiver: '祖母', measures: '每月走访' }],
  [WF, 'createFamilyEducationSession', 'FamilyEducationSessionInput', 'womens_federation.family_education_session', { heldOn: '2025-01-01', topic: '亲子沟通', attendee: '母亲', instructor: '王老师', notes: '记录' }],
  [WF, 'createDomesticViolenceSupport', 'DomesticViolenceSupportInput', 'womens_federation.violence_support', { kind: 'SHELTER', startedOn: '2025-01-01', status: 'ACTIVE', notes: '安置' }],
  [WF, 'createChildrenHomeAttendance', 'ChildrenHomeAttendanceInput', 'womens_federation.children_home_attendance', { home: '清波儿童之家', attendedOn: '2025-01-01', activity: '绘本阅读' }],
];
/** Text no field may hold, one line or many (control, separator, lone surrogate, bidi mark, nothing visible, too long). */
const BAD_TEXT = ['\u0000x', 'x\u2028y', '\ud800x', 'a\u0085b', 'a\u061cb', '\u200b', 'x\u000by', 'x'.repeat(5000)];
/** Dates no field may hold. */
const BAD_DATES = ['2024-02-30', '9999-12-31', '0001-01-01', '2024-01-01T00:00:00', '+2024-01-01', '2024-1-1', '２０２４-01-01'];
const isDate = (v: unknown) => typeof v === 'string' && /^\d{4}-\d\d-\d\d$/.test(v);
const isText = (k: string, v: unknown) => typeof v === 'string' && !isDate(v) && !/^[A-Z_]+$/.test(v) && k !== 'schoolYear';

describe('department records (rt38-depts)', () => {
  let t: TestHub;
  let child: string;
  const tokens = new Map<Department, string>();

  beforeAll(async () => {
    t = await startTestHub();
    for (const d of [ED, PO, JU, YL, WF]) tokens.set(d, await t.token(d, { region: STREET, user: `rt38-${d.toLowerCase()}` }));
    [{ id: child }] = await t.sql(
      `SELECT m.id FROM registry.minor m JOIN registry.minor_jurisdiction j ON j.minor_id = m.id
        WHERE j.grid_code LIKE $1 AND m.birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '16 years' ORDER BY m.id LIMIT 1`,
      [`${STREET}%`],
    );
  });
  afterAll(() => t?.stop());

  // Pin: validation before any write, for every text and date field of every department record.
  it('pin: every create answers malformed text and dates BAD_USER_INPUT naming the field, never a 500, and writes nothing', async () => {
    const answered: string[] = [];
    const expected: string[] = [];
    for (const [owner, mutation, inputType, table, input] of CREATES) {
      const q = `mutation($id: ID!, $i: ${inputType}!) { ${mutation}(minorId: $id, input: $i) { id } }`;
      const token = tokens.get(owner)!;
      const [{ n: before }] = await t.sql(`SELECT count(*)::int AS n FROM ${table} WHERE minor_id = $1`, [child]);
      for (const [field, value] of Object.entries(input)) {
        const bad = isDate(value) ? BAD_DATES : isText(field, value) ? BAD_TEXT : [];
        for (const b of bad) {
          const r = await t.gql(token, q, { id: child, i: { ...input, [field]: b } });
          answered.push(`${mutation}.${field}=${JSON.stringify(b).slice(0, 12)}: ${r.status} ${errorCodes(r).join(',')} ${r.errors?.[0]?.extensions?.field ?? ''}`);
          expected.push(`${mutation}.${field}=${JSON.stringify(b).slice(0, 12)}: 200 BAD_USER_INPUT ${field}`);
        }
      }
      const [{ n: after }] = await t.sql(`SELECT count(*)::int AS n FROM ${table} WHERE minor_id = $1`, [child]);
      expect([table, after]).toEqual([table, before]);
      // The valid input is taken (the refusals above were for the value alone).
      const ok = await t.gql(token, q, { id: child, i: input });
      expect([mutation, errorCodes(ok)]).toEqual([mutation, []]);
    }
    expect(answered).toEqual(expected);
  });

  // Pin: aliased pages of one sub-record list in one request (one batched statement) answer as the pages asked alone.
  it('pin: aliased pages of a plan’s visits in one request answer as each page alone; another plan’s cursor is refused on its path only', async () => {
    const wf = tokens.get(WF)!;
    const plan = async () =>
      (await t.gql(wf, `mutation($id: ID!) { createCarePlan(minorId: $id, input: {kind: MIGRANT, startedOn: "2025-01-01", status: ACTIVE, caregiver: "母亲", measures: "走访"}) { id } }`, { id: child })).data
        .createCarePlan.id as string;
    const [p1, p2] = [await plan(), await plan()];
    const visit = async (p: string, on: string) => {
      const r = await t.gql(wf, `mutation($p: ID!, $on: String!) { recordCareVisit(planId: $p, input: {visitedOn: $on, visitor: "执委", notes: "走访"}) { id } }`, { p, on });
      expect(errorCodes(r)).toEqual([]);
      return r.data.recordCareVisit.id as string;
    };
    // Two visits share a day: the id decides between them.
    for (const on of ['2025-02-01', '2025-03-01', '2025-03-01', '2025-04-01', '2025-05-01', '2025-06-01', '2025-07-01']) await visit(p1, on);
    const other = await visit(p2, '2025-02-01');
    const page = `query($p: ID!, $first: Int!, $after: ID) { minor(id: $p) { carePlans(first: 100) { id visits(first: $first, after: $after) { id visitedOn } } } }`;
    const alone = async (first: number, after: string | null) => {
      const r = await t.gql(wf, page, { p: child, first, after });
      // A cursor of p1 is refused on the child's other plans' lists, alike (docs/departments.md): only p1's page is compared.
      const at = (r.data.minor.carePlans as { id: string }[]).findIndex((c) => c.id === p1);
      expect((r.errors ?? []).filter((e: any) => e.path?.[2] === at)).toEqual([]);
      return r.data.minor.carePlans[at].visits as { id: string; visitedOn: string }[];
    };
    const all = await alone(100, null);
    expect(all.map((v) => v.visitedOn)).toEqual(['2025-07-01', '2025-06-01', '2025-05-01', '2025-04-01', '2025-03-01', '2025-03-01', '2025-02-01']);
    const expected = { a: await alone(2, null), b: await alone(3, all[1].id), c: await alone(5, all[3].id), d: await alone(1, all[6].id) };
    expect(expected.b.map((v) => v.id)).toEqual(all.slice(2, 5).map((v) => v.id));
    const together = await t.gql(
      wf,
      `query($id: ID!, $b: ID!, $c: ID!, $d: ID!, $o: ID!) { minor(id: $id) { carePlans(first: 100) { id
         a: visits(first: 2) { id visitedOn } b: visits(first: 3, after: $b) { id visitedOn }
         c: visits(first: 5, after: $c) { id visitedOn } d: visits(first: 1, after: $d) { id visitedOn } o: visits(first: 1, after: $o) { id } } } }`,
      { id: child, b: all[1].id, c: all[3].id, d: all[6].id, o: other },
    );
    const plans = together.data.minor.carePlans as Record<string, any>[];
    const one = plans.find((c) => c.id === p1)!;
    expect({ a: one.a, b: one.b, c: one.c, d: one.d }).toEqual(expected);
    // The other plan's visit is no row of p1's list: refused on p1's `o` (and on every other plan's paths that name a p1 cursor), p2's `o` answers.
    const refusedPaths = (together.errors ?? []).map((e: any) => [e.extensions?.code, e.path?.slice(-1)[0]]);
    expect(refusedPaths).toContainEqual(['BAD_USER_INPUT', 'o']);
    expect(new Set(refusedPaths.map((p: string[]) => p[0]))).toEqual(new Set(['BAD_USER_INPUT']));
    expect(one.o).toBeNull();
    expect(plans.find((c) => c.id === p2)!.o).toEqual([]);
  });
});
