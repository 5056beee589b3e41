import { Department } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Every write, attacked through its inputs: each bad value is refused with a typed error naming no
 * SQL, constraint or stack, the database holds nothing more than before, and the request's event is
 * the refusal's (INVALID, no change).
 */
const TABLES = [
  'education.bullying_case', 'education.dropout_report', 'education.education_aid', 'education.school_enrollment',
  'justice.community_correction', 'justice.incarcerated_parent', 'justice.legal_aid_case',
  'police.guardian_admonishment', 'police.identity_verification', 'police.incident',
  'registry.guardian', 'registry.minor_category', 'registry.minor', 'registry.risk_assessment', 'registry.visit',
  'womens_federation.care_plan', 'womens_federation.children_home_attendance', 'womens_federation.violence_support', 'womens_federation.family_education_session',
  'workflow.barred_person', 'workflow.mandatory_report', 'workflow.notification', 'workflow.referral',
  'youth_league.idle_support', 'youth_league.prevention_case', 'youth_league.volunteer_visit',
];
const LEAK = /constraint|violat|relation |column |syntax error|QueryFailed|invalid input|\.ts:\d|\bat [A-Za-z.]+ \(/i;
const TYPED = new Set(['BAD_USER_INPUT', 'LIMIT_EXCEEDED']);

type Kind = 'line' | 'optional' | 'day' | 'futureDay' | 'int' | 'enum' | 'instant';
interface Write {
  mutation: string;
  department: Department;
  input: string;
  /** The argument naming the child, if any. */
  childArg?: string;
  fields: Record<string, [Kind, unknown]>;
}

const D = '2024-03-01';
/** A day of this year: work is of no child under 16 on its date, and the child below is 16 today. */
const RECENT = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
const WRITES: Write[] = [
  { mutation: 'createSchoolEnrollment', department: Department.EDUCATION, input: 'SchoolEnrollmentInput', childArg: 'minorId', fields: { school: ['line', '一中'], grade: ['int', 3], status: ['enum', 'ENROLLED'], enrolledOn: ['day', D] } },
  { mutation: 'createDropoutReport', department: Department.EDUCATION, input: 'DropoutReportInput', childArg: 'minorId', fields: { school: ['line', '一中'], reportedOn: ['day', D], daysAbsent: ['int', 3] } },
  { mutation: 'createBullyingCase', department: Department.EDUCATION, input: 'BullyingCaseInput', childArg: 'minorId', fields: { school: ['line', '一中'], occurredOn: ['day', D], role: ['enum', 'VICTIM'], severity: ['enum', 'GENERAL'], status: ['enum', 'OPEN'], description: ['line', '推搡'] } },
  { mutation: 'createEducationAid', department: Department.EDUCATION, input: 'EducationAidInput', childArg: 'minorId', fields: { kind: ['enum', 'SCHOLARSHIP'], amountYuan: ['int', 100], grantedOn: ['day', D], schoolYear: ['line', '2024-2025'] } },
  { mutation: 'createIncarceratedParent', department: Department.JUSTICE, input: 'IncarceratedParentInput', childArg: 'minorId', fields: { parent: ['enum', 'FATHER'], kind: ['enum', 'SERVING_SENTENCE'], institution: ['line', '第一监狱'], since: ['day', D], expectedRelease: ['futureDay', '2027-01-01'], status: ['enum', 'IN_CUSTODY'] } },
  { mutation: 'createCommunityCorrection', department: Department.JUSTICE, input: 'CommunityCorrectionInput', childArg: 'minorId', fields: { startedOn: ['day', D], endsOn: ['futureDay', '2027-01-01'], status: ['enum', 'ACTIVE'], supervisingOffice: ['line', '司法所'], notes: ['optional', '按时报到'] } },
  { mutation: 'createLegalAidCase', department: Department.JUSTICE, input: 'LegalAidCaseInput', childArg: 'minorId', fields: { openedOn: ['day', D], matter: ['enum', 'OTHER'], status: ['enum', 'OPEN'], provider: ['line', '法律援助中心'], details: ['line', '抚养费'] } },
  { mutation: 'createPoliceIncident', department: Department.POLICE, input: 'PoliceIncidentInput', childArg: 'minorId', fields: { type: ['enum', 'ABUSE'], occurredOn: ['day', D], status: ['enum', 'REPORTED'], handlingUnit: ['line', '派出所'], narrative: ['line', '接报'] } },
  { mutation: 'createGuardianAdmonishment', department: Department.POLICE, input: 'GuardianAdmonishmentInput', childArg: 'minorId', fields: { guardian: ['enum', 'FATHER'], admonishedOn: ['day', D], issuingUnit: ['line', '派出所'], reason: ['line', '疏于照料'] } },
  { mutation: 'createIdentityVerification', department: Department.POLICE, input: 'IdentityVerificationInput', childArg: 'minorId', fields: { verifiedOn: ['day', D], result: ['enum', 'MATCHED'], householdStatus: ['enum', 'REGISTERED'], householdPlace: ['line', '西湖区'], note: ['optional', '核实'] } },
  { mutation: 'createCarePlan', department: Department.WOMENS_FEDERATION, input: 'CarePlanInput', childArg: 'minorId', fields: { kind: ['enum', 'LEFT_BEHIND'], startedOn: ['day', D], status: ['enum', 'ACTIVE'], caregiver: ['line', '祖母'], measures: ['line', '每月走访'] } },
  { mutation: 'createFamilyEducationSession', department: Department.WOMENS_FEDERATION, input: 'FamilyEducationSessionInput', childArg: 'minorId', fields: { heldOn: ['day', D], topic: ['line', '亲子沟通'], attendee: ['line', '母亲'], instructor: ['line', '讲师'], notes: ['optional', '参加'] } },
  { mutation: 'createDomesticViolenceSupport', department: Department.WOMENS_FEDERATION, input: 'DomesticViolenceSupportInput', childArg: 'minorId', fields: { kind: ['enum', 'SHELTER'], startedOn: ['day', D], status: ['enum', 'ACTIVE'], notes: ['line', '安置'] } },
  { mutation: 'createChildrenHomeAttendance', department: Department.WOMENS_FEDERATION, input: 'ChildrenHomeAttendanceInput', childArg: 'minorId', fields: { home: ['line', '儿童之家'], attendedOn: ['day', D], activity: ['line', '阅读'] } },
  { mutation: 'createPreventionCase', department: Department.YOUTH_LEAGUE, input: 'PreventionCaseInput', childArg: 'minorId', fields: { kind: ['enum', 'GENERAL_PREVENTION'], openedOn: ['day', D], status: ['enum', 'OPEN'], caseWorker: ['line', '社工'], measures: ['line', '帮教'] } },
  { mutation: 'createIdleSupport', department: Department.YOUTH_LEAGUE, input: 'IdleSupportInput', childArg: 'minorId', fields: { kind: ['enum', 'EMPLOYMENT'], startedOn: ['day', RECENT], provider: ['line', '职校'], status: ['enum', 'IN_PROGRESS'], note: ['optional', '推荐'] } },
  { mutation: 'createVolunteerVisit', department: Department.YOUTH_LEAGUE, input: 'VolunteerVisitInput', childArg: 'minorId', fields: { visitedOn: ['day', D], volunteer: ['line', '志愿者'], notes: ['line', '陪伴'] } },
  { mutation: 'addGuardian', department: Department.CIVIL_AFFAIRS, input: 'GuardianInput', childArg: 'minorId', fields: { relationship: ['enum', 'FATHER'], name: ['line', '张三'], phone: ['optional', '13900001111'], address: ['optional', '西湖区'], situation: ['enum', 'NORMAL'], situationNote: ['optional', '外出务工'] } },
  { mutation: 'recordAssessment', department: Department.CIVIL_AFFAIRS, input: 'AssessmentInput', childArg: 'minorId', fields: { level: ['enum', 'BLUE'], reasons: ['line', '稳定'], assessedAt: ['instant', '2025-01-01T00:00:00Z'] } },
  { mutation: 'recordVisit', department: Department.CIVIL_AFFAIRS, input: 'VisitInput', childArg: 'minorId', fields: { notes: ['line', '走访'], visitedAt: ['instant', '2025-01-01T00:00:00Z'] } },
  { mutation: 'fileMandatoryReport', department: Department.EDUCATION, input: 'FileReportInput', fields: { harmType: ['enum', 'NEGLECT'], observation: ['line', '无人照料'], location: ['line', '校门口'], regionCode: ['line', '330102'], urgency: ['enum', 'NORMAL'], reporterUnit: ['optional', '一中'], childDescription: ['optional', '十岁左右'], observedAt: ['instant', '2025-01-01T00:00:00Z'] } },
  { mutation: 'addBarredPerson', department: Department.POLICE, input: 'BarredPersonInput', fields: { idNumber: ['line', '11010519491231002X'], name: ['line', '李四'], offence: ['enum', 'ABUSE'], judgementReference: ['line', '(2024)浙0102刑初1号'], restrictedUntil: ['futureDay', '2030-01-01'] } },
];

const TEXT = ['', '   ', 'a\u0000b', 'a\uD800b', '\u202E反转', '\u200B', '\u3164', '字'.repeat(5000)];
const BAD: Record<Kind, unknown[]> = {
  line: [...TEXT, null],
  optional: TEXT.slice(2),
  day: ['0000-01-01', '1899-12-31', '9999-12-31', '2026-02-30', '2025-1-1', '2025-01-01T00:00:00+08:00', 'today', null],
  futureDay: ['0000-01-01', '2026-02-30', '2025-1-1', 'a\u0000b'],
  int: [2147483648, -1, 1.5, '3', null],
  enum: ['BOGUS', 'a\u0000b', null],
  instant: ['0000-01-01T00:00:00Z', '1899-12-31T23:59:59Z', '9999-12-31T23:59:59Z', '2026-02-30T00:00:00Z', '+275760-09-13T00:00:00Z', 'now'],
};

describe('writes attacked through their inputs (red team 6)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  const counts = async () => Promise.all(TABLES.map(async (table) => `${table}=${(await t.sql(`SELECT count(*)::int AS n FROM ${table}`))[0].n}`));

  it('refuses every bad value of every write with a typed error, writes nothing and records the refusal', async () => {
    // Old enough for every valid write (work from 16, a dropout from 6, a community correction from 12), so that
    // no refusal below is for the child's age rather than for the value sent.
    const [child] = await t.sql(
      `SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' AND birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '16 years' ORDER BY id LIMIT 1`,
    );
    const before = await counts();
    const problems: string[] = [];
    let sampled = 0;
    for (const w of WRITES) {
      const token = await t.token(w.department);
      const query = `mutation($input: ${w.input}!${w.childArg ? `, $child: ID!` : ''}) { ${w.mutation}(input: $input${w.childArg ? `, ${w.childArg}: $child` : ''}) { __typename } }`;
      const valid = Object.fromEntries(Object.entries(w.fields).map(([k, [, v]]) => [k, v]));
      for (const [field, [kind]] of Object.entries(w.fields)) {
        for (const value of BAD[kind]) {
          const r = await post(t, token, { query, variables: { input: { ...valid, [field]: value }, child: child.id } });
          const label = `${w.mutation}.${field} = ${JSON.stringify(value)?.slice(0, 24)}`;
          const errors: { extensions?: { code?: string } }[] = r.json?.errors ?? [];
          const text = JSON.stringify(r.json);
          if (r.status >= 500 || !errors.length || errors.some((e) => !TYPED.has(e.extensions?.code ?? ''))) problems.push(`${label}: ${r.status} ${text.slice(0, 300)}`);
          else if (LEAK.test(text)) problems.push(`${label} leaks: ${text.slice(0, 300)}`);
          else if (r.json?.data?.[w.mutation]) problems.push(`${label}: answered data ${text.slice(0, 200)}`);
          // The trail: one request in a few, so that the sweep stays quick.
          if (sampled++ % 7 === 0) {
            const event = await eventOf(t, r.requestId);
            if (event.outcome !== 'INVALID' || event.changes.length) problems.push(`${label}: event ${event.outcome} ${JSON.stringify(event.changes)}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(await counts()).toEqual(before);
  });
});
