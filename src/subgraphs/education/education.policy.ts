import { Department } from '../../auth/principal';
import { policyRow, PolicyRow } from '../../policy/policy.types';
import { fieldRows, ownerWriteRows, pageRows } from '../shared/record-policy';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;

/**
 * Who reads what of education's records. EDUCATION reads all of its own; CIVIL_AFFAIRS (the lead)
 * summaries; the others what their duty needs. Not listed = DENY (JUSTICE reads none of these:
 * its duty toward children of incarcerated parents runs through the family situation, not school).
 */
const ENROLLMENT = [ED, CA, PO, YL, WF];
const DROPOUT = [ED, CA, PO, YL];
const BULLYING = [ED, CA, YL];

export const educationPolicy: PolicyRow[] = [
  policyRow(
    'Minor',
    'schoolEnrollments',
    { allow: ENROLLMENT },
    'Whether and where a child is in school: police (控辍保学 and missing children), Youth League (idle minors) and women’s federation (left-behind care) need it.',
  ),
  ...fieldRows('SchoolEnrollment', ['id', 'minor', 'school', 'status', 'enrolledOn'], ENROLLMENT, 'Enrollment status, as for `Minor.schoolEnrollments`.'),
  policyRow('SchoolEnrollment', 'grade', { allow: [ED, CA] }, 'The school year is the school’s record; civil affairs sees it in its summary, police need only whether the child is enrolled.'),

  policyRow(
    'Minor',
    'dropoutReports',
    { allow: DROPOUT },
    '控辍保学 is joint work: police help find and return children, the Youth League takes over idle dropouts; the women’s federation and justice have no duty here.',
  ),
  ...fieldRows('DropoutReport', ['id', 'minor', 'school', 'reportedOn', 'status', 'outcome', 'closedOn'], DROPOUT, 'Whether a dropout case is open and how it ended.'),
  policyRow('DropoutReport', 'daysAbsent', { allow: [ED, CA, YL] }, 'Attendance detail for the school, the lead and the Youth League’s return-to-school support; police need only the status.'),
  policyRow('DropoutReport', 'persuasionActions', { allow: [ED, CA] }, '劝返 is the school’s casework; civil affairs follows it as the lead.'),
  policyRow('Query', 'dropoutReports', { allow: DROPOUT }, 'Dropout list of the jurisdiction for those who read dropout reports; each filter needs read access to its field.'),
  ...pageRows('DropoutReportPage', DROPOUT, 'dropoutReports'),
  ...fieldRows('PersuasionAction', ['id', 'actedOn', 'method', 'actor'], [ED, CA], 'When, how and by whom: the summary civil affairs coordinates joint persuasion (联合劝返) with.'),
  policyRow('PersuasionAction', 'note', { allow: [ED] }, 'Notes from the family’s home describe it in detail: the school’s own.'),

  policyRow(
    'Minor',
    'bullyingCases',
    { allow: BULLYING },
    'Bullying, on either side, is a prevention flag for the Youth League; civil affairs sees summaries. Police are involved through their own incidents, not the school file.',
  ),
  ...fieldRows('BullyingCase', ['id', 'minor', 'school', 'occurredOn', 'role', 'severity', 'status'], BULLYING, 'Summary of the case: role, severity, status.'),
  policyRow('BullyingCase', 'description', { allow: [ED] }, 'What happened, naming other children: the school’s own.'),

  policyRow('Minor', 'educationAid', { allow: [ED, CA] }, 'Assistance: civil affairs coordinates all 救助 and must avoid double support; nobody else needs it.'),
  ...fieldRows('EducationAid', ['id', 'minor', 'kind', 'amountYuan', 'grantedOn', 'schoolYear'], [ED, CA], 'Aid granted, for assistance coordination by civil affairs.'),

  ...ownerWriteRows(
    ED,
    [
      'createSchoolEnrollment',
      'updateSchoolEnrollment',
      'createDropoutReport',
      'updateDropoutReport',
      'recordPersuasionAction',
      'createBullyingCase',
      'updateBullyingCase',
      'createEducationAid',
      'updateEducationAid',
    ],
    'Education’s ledger (学籍, 控辍保学, 欺凌, 资助)',
  ),
];
