import type { PolicyRow } from '../../src/policy/policy.types';
import type { TestHub } from './test-hub';

/**
 * Probes of the department subgraphs' types for test/policy.exhaustive.test.ts: each record type
 * is read through `minor(id) { <extension field> { … } }` on a child that has exactly one such
 * record (sub-records: exactly one parent with exactly one sub-record), the truth read from
 * Postgres (row_to_json: dates as YYYY-MM-DD, numbers as numbers).
 */
type Path = (string | number)[];
export interface DepartmentProbe {
  query: string;
  variables?: Record<string, unknown>;
  path: Path;
  truth?: unknown;
}

interface RecordSource {
  field: string;
  table: string;
  /** A sub-record reached through its parent's `via` field, joined on `key`. */
  sub?: { via: string; table: string; key: string };
  /** Extra condition, e.g. a value a mask can show. */
  where?: string;
}

const RECORDS: Record<string, RecordSource> = {
  SchoolEnrollment: { field: 'schoolEnrollments', table: 'education.school_enrollment' },
  DropoutReport: { field: 'dropoutReports', table: 'education.dropout_report' },
  PersuasionAction: { field: 'dropoutReports', table: 'education.dropout_report', sub: { via: 'persuasionActions', table: 'education.persuasion_action', key: 'report_id' } },
  BullyingCase: { field: 'bullyingCases', table: 'education.bullying_case' },
  EducationAid: { field: 'educationAid', table: 'education.education_aid' },
  PoliceIncident: { field: 'policeIncidents', table: 'police.incident' },
  GuardianAdmonishment: { field: 'guardianAdmonishments', table: 'police.guardian_admonishment' },
  IdentityVerification: { field: 'identityVerifications', table: 'police.identity_verification', where: 'r.household_place IS NOT NULL' },
  IncarceratedParent: { field: 'incarceratedParents', table: 'justice.incarcerated_parent' },
  CommunityCorrection: { field: 'communityCorrections', table: 'justice.community_correction' },
  LegalAidCase: { field: 'legalAidCases', table: 'justice.legal_aid_case' },
  PreventionCase: { field: 'preventionCases', table: 'youth_league.prevention_case', where: 'r.last_follow_up_on IS NOT NULL' },
  MisbehaviourFollowUp: { field: 'preventionCases', table: 'youth_league.prevention_case', sub: { via: 'followUps', table: 'youth_league.follow_up', key: 'case_id' } },
  IdleSupport: { field: 'idleSupports', table: 'youth_league.idle_support' },
  VolunteerVisit: { field: 'volunteerVisits', table: 'youth_league.volunteer_visit' },
  CarePlan: { field: 'carePlans', table: 'womens_federation.care_plan', where: 'r.last_visit_on IS NOT NULL' },
  CareVisit: { field: 'carePlans', table: 'womens_federation.care_plan', sub: { via: 'visits', table: 'womens_federation.care_visit', key: 'plan_id' } },
  FamilyEducationSession: { field: 'familyEducationSessions', table: 'womens_federation.family_education_session' },
  DomesticViolenceSupport: { field: 'domesticViolenceSupports', table: 'womens_federation.violence_support' },
  ChildrenHomeAttendance: { field: 'childrenHomeAttendances', table: 'womens_federation.children_home_attendance' },
};

const PAGES: Record<string, string> = {
  DropoutReportPage: 'dropoutReports',
  PoliceIncidentPage: 'policeIncidents',
  IncarceratedParentPage: 'incarceratedParents',
  PreventionCasePage: 'preventionCases',
  CarePlanPage: 'carePlans',
};

const ZERO = '00000000-0000-4000-8000-000000000000';
const camelToSnake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export interface DepartmentRecords {
  rows: Map<string, Record<string, any>>;
  /** A child with an open police incident, and its protection status as the police loader derives it. */
  protectionCase: { minorId: string; hasOpenCase: boolean; contactUnit: string; openSince: string };
}

/** Ground truth: one record per type, from Postgres. */
export async function loadDepartmentRecords(t: TestHub): Promise<DepartmentRecords> {
  const rows = new Map<string, Record<string, any>>();
  for (const [type, src] of Object.entries(RECORDS)) {
    const only = (table: string, alias: string, key: string) => `(SELECT count(*) FROM ${table} x WHERE x.${key} = ${alias}.${key}) = 1`;
    const sql = src.sub
      ? `SELECT row_to_json(s) AS row FROM ${src.sub.table} s JOIN ${src.table} r ON r.id = s.${src.sub.key}
         WHERE ${only(src.table, 'r', 'minor_id')} AND ${only(src.sub.table, 's', src.sub.key)} ORDER BY s.id LIMIT 1`
      : `SELECT row_to_json(r) AS row FROM ${src.table} r WHERE ${only(src.table, 'r', 'minor_id')} ${src.where ? `AND ${src.where}` : ''} ORDER BY r.id LIMIT 1`;
    const [found] = await t.sql(sql);
    if (!found) throw new Error(`demo data has no probe record for ${type}`);
    rows.set(type, found.row);
  }
  const [pc] = await t.sql(`
    SELECT minor_id, to_char(min(occurred_on), 'YYYY-MM-DD') AS open_since, (array_agg(handling_unit ORDER BY occurred_on DESC, id))[1] AS unit
    FROM police.incident WHERE status <> 'CLOSED' GROUP BY minor_id ORDER BY minor_id LIMIT 1`);
  return { rows, protectionCase: { minorId: pc.minor_id, hasOpenCase: true, contactUnit: pc.unit, openSince: pc.open_since } };
}

export const DEPARTMENT_QUERY_PROBES: Record<string, DepartmentProbe> = Object.fromEntries(
  Object.values(PAGES).map((q) => [q, { query: `{ ${q}(first: 1) { __typename } }`, path: [q] }]),
);

const D = '"2020-01-02"';
export const DEPARTMENT_MUTATION_CALLS: Record<string, string> = {
  createSchoolEnrollment: `createSchoolEnrollment(minorId: "${ZERO}", input: { school: "x", grade: 1, status: ENROLLED, enrolledOn: ${D} }) { __typename }`,
  updateSchoolEnrollment: `updateSchoolEnrollment(id: "${ZERO}", input: { school: "x", grade: 1, status: ENROLLED, enrolledOn: ${D} }) { __typename }`,
  createDropoutReport: `createDropoutReport(minorId: "${ZERO}", input: { school: "x", reportedOn: ${D}, daysAbsent: 1 }) { __typename }`,
  updateDropoutReport: `updateDropoutReport(id: "${ZERO}", input: { school: "x", reportedOn: ${D}, daysAbsent: 1 }) { __typename }`,
  recordPersuasionAction: `recordPersuasionAction(reportId: "${ZERO}", input: { actedOn: ${D}, method: PHONE_CALL, actor: "x", note: "x" }) { __typename }`,
  createBullyingCase: `createBullyingCase(minorId: "${ZERO}", input: { school: "x", occurredOn: ${D}, role: VICTIM, severity: GENERAL, status: OPEN, description: "x" }) { __typename }`,
  updateBullyingCase: `updateBullyingCase(id: "${ZERO}", input: { school: "x", occurredOn: ${D}, role: VICTIM, severity: GENERAL, status: OPEN, description: "x" }) { __typename }`,
  createEducationAid: `createEducationAid(minorId: "${ZERO}", input: { kind: SCHOLARSHIP, amountYuan: 1, grantedOn: ${D}, schoolYear: "2019-2020" }) { __typename }`,
  updateEducationAid: `updateEducationAid(id: "${ZERO}", input: { kind: SCHOLARSHIP, amountYuan: 1, grantedOn: ${D}, schoolYear: "2019-2020" }) { __typename }`,
  createPoliceIncident: `createPoliceIncident(minorId: "${ZERO}", input: { type: MISSING, occurredOn: ${D}, status: REPORTED, handlingUnit: "x", narrative: "x" }) { __typename }`,
  updatePoliceIncident: `updatePoliceIncident(id: "${ZERO}", input: { type: MISSING, occurredOn: ${D}, status: REPORTED, handlingUnit: "x", narrative: "x" }) { __typename }`,
  createGuardianAdmonishment: `createGuardianAdmonishment(minorId: "${ZERO}", input: { guardian: FATHER, admonishedOn: ${D}, issuingUnit: "x", reason: "x" }) { __typename }`,
  updateGuardianAdmonishment: `updateGuardianAdmonishment(id: "${ZERO}", input: { guardian: FATHER, admonishedOn: ${D}, issuingUnit: "x", reason: "x" }) { __typename }`,
  createIdentityVerification: `createIdentityVerification(minorId: "${ZERO}", input: { verifiedOn: ${D}, result: NO_RECORD, householdStatus: UNREGISTERED }) { __typename }`,
  updateIdentityVerification: `updateIdentityVerification(id: "${ZERO}", input: { verifiedOn: ${D}, result: NO_RECORD, householdStatus: UNREGISTERED }) { __typename }`,
  createIncarceratedParent: `createIncarceratedParent(minorId: "${ZERO}", input: { parent: FATHER, kind: SERVING_SENTENCE, institution: "x", since: ${D}, status: IN_CUSTODY }) { __typename }`,
  updateIncarceratedParent: `updateIncarceratedParent(id: "${ZERO}", input: { parent: FATHER, kind: SERVING_SENTENCE, institution: "x", since: ${D}, status: IN_CUSTODY }) { __typename }`,
  createCommunityCorrection: `createCommunityCorrection(minorId: "${ZERO}", input: { startedOn: ${D}, endsOn: "2021-01-01", status: ACTIVE, supervisingOffice: "x" }) { __typename }`,
  updateCommunityCorrection: `updateCommunityCorrection(id: "${ZERO}", input: { startedOn: ${D}, endsOn: "2021-01-01", status: ACTIVE, supervisingOffice: "x" }) { __typename }`,
  createLegalAidCase: `createLegalAidCase(minorId: "${ZERO}", input: { openedOn: ${D}, matter: OTHER, status: OPEN, provider: "x", details: "x" }) { __typename }`,
  updateLegalAidCase: `updateLegalAidCase(id: "${ZERO}", input: { openedOn: ${D}, matter: OTHER, status: OPEN, provider: "x", details: "x" }) { __typename }`,
  createPreventionCase: `createPreventionCase(minorId: "${ZERO}", input: { kind: GENERAL_PREVENTION, openedOn: ${D}, status: OPEN, caseWorker: "x", measures: "x" }) { __typename }`,
  updatePreventionCase: `updatePreventionCase(id: "${ZERO}", input: { kind: GENERAL_PREVENTION, openedOn: ${D}, status: OPEN, caseWorker: "x", measures: "x" }) { __typename }`,
  recordMisbehaviourFollowUp: `recordMisbehaviourFollowUp(caseId: "${ZERO}", input: { followedUpOn: ${D}, note: "x" }) { __typename }`,
  createIdleSupport: `createIdleSupport(minorId: "${ZERO}", input: { kind: EMPLOYMENT, startedOn: ${D}, provider: "x", status: IN_PROGRESS }) { __typename }`,
  updateIdleSupport: `updateIdleSupport(id: "${ZERO}", input: { kind: EMPLOYMENT, startedOn: ${D}, provider: "x", status: IN_PROGRESS }) { __typename }`,
  createVolunteerVisit: `createVolunteerVisit(minorId: "${ZERO}", input: { visitedOn: ${D}, volunteer: "x", notes: "x" }) { __typename }`,
  updateVolunteerVisit: `updateVolunteerVisit(id: "${ZERO}", input: { visitedOn: ${D}, volunteer: "x", notes: "x" }) { __typename }`,
  createCarePlan: `createCarePlan(minorId: "${ZERO}", input: { kind: MIGRANT, startedOn: ${D}, status: ACTIVE, caregiver: "x", measures: "x" }) { __typename }`,
  updateCarePlan: `updateCarePlan(id: "${ZERO}", input: { kind: MIGRANT, startedOn: ${D}, status: ACTIVE, caregiver: "x", measures: "x" }) { __typename }`,
  recordCareVisit: `recordCareVisit(planId: "${ZERO}", input: { visitedOn: ${D}, visitor: "x", notes: "x" }) { __typename }`,
  createFamilyEducationSession: `createFamilyEducationSession(minorId: "${ZERO}", input: { heldOn: ${D}, topic: "x", attendee: "x", instructor: "x" }) { __typename }`,
  updateFamilyEducationSession: `updateFamilyEducationSession(id: "${ZERO}", input: { heldOn: ${D}, topic: "x", attendee: "x", instructor: "x" }) { __typename }`,
  createDomesticViolenceSupport: `createDomesticViolenceSupport(minorId: "${ZERO}", input: { kind: SHELTER, startedOn: ${D}, status: ACTIVE, notes: "x" }) { __typename }`,
  updateDomesticViolenceSupport: `updateDomesticViolenceSupport(id: "${ZERO}", input: { kind: SHELTER, startedOn: ${D}, status: ACTIVE, notes: "x" }) { __typename }`,
  createChildrenHomeAttendance: `createChildrenHomeAttendance(minorId: "${ZERO}", input: { home: "x", attendedOn: ${D}, activity: "x" }) { __typename }`,
  updateChildrenHomeAttendance: `updateChildrenHomeAttendance(id: "${ZERO}", input: { home: "x", attendedOn: ${D}, activity: "x" }) { __typename }`,
};

/** The probe of a department type's field, or undefined for types of other subgraphs. */
export function departmentProbe(row: PolicyRow, records: DepartmentRecords, objectFields: ReadonlySet<string>): DepartmentProbe | undefined {
  const key = `${row.type}.${row.field}`;
  const f = row.field;
  const selection = objectFields.has(key) ? `${f} { __typename }` : f;
  if (PAGES[row.type]) {
    const q = PAGES[row.type];
    return { query: `{ ${q}(first: 1) { ${selection} } }`, path: [q, f] };
  }
  if (row.type === 'ProtectionCaseStatus') {
    const pc = records.protectionCase;
    return {
      query: `query($id: ID!) { minor(id: $id) { policeProtectionCase { ${f} } } }`,
      variables: { id: pc.minorId },
      path: ['minor', 'policeProtectionCase', f],
      truth: pc[f as 'hasOpenCase' | 'contactUnit' | 'openSince'],
    };
  }
  const src = RECORDS[row.type];
  if (!src) return undefined;
  const rec = records.rows.get(row.type)!;
  const truth = objectFields.has(key) ? undefined : rec[camelToSnake(f)];
  const inner = src.sub ? `${src.field} { ${src.sub.via} { ${selection} } }` : `${src.field} { ${selection} }`;
  return {
    query: `query($id: ID!) { minor(id: $id) { ${inner} } }`,
    variables: { id: rec.minor_id },
    path: src.sub ? ['minor', src.field, 0, src.sub.via, 0, f] : ['minor', src.field, 0, f],
    truth,
  };
}
