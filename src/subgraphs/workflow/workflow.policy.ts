import { Department, PolicySubject, Role } from '../../auth/principal';
import type { Policy } from '../../policy/policy';
import { Access, ALL_DEPARTMENTS, policyRow, PolicyRow } from '../../policy/policy.types';
import { VISIT_READERS } from '../registry/registry.policy';
import type { Referral } from './entities/referral.entity';
import { NotificationKind, ReferralType } from './workflow.enums';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;
const ALL = ALL_DEPARTMENTS;
const REPORT_HANDLERS = [CA, PO];
const FILERS: PolicySubject[] = [Role.REPORTER, ...ALL];
const BAR_KEEPERS = [PO, JU];
const EMPLOYER: PolicySubject[] = [Role.EMPLOYER];

const rows = (type: string, fields: string[], allow: readonly PolicySubject[], reason: string) =>
  fields.map((f) => policyRow(type, f, { allow }, reason));

/**
 * Field grants of an open referral, per referral type: what the receiving department needs to
 * work the need and does not otherwise read. Every key is a field of a child's record in the
 * registry; the grant lifts DENY or MASK to ALLOW for that one child while the referral is open
 * (PENDING or ACCEPTED), under purpose `REFERRAL; <referral id>`.
 *
 * A grant must not open `Minor.birthDate` to a department that sees `Minor.idNumber` masked: the
 * birth date is 8 of the masked digits, so the two together leave only the sequence to guess
 * (refused at start-up, Policy.rebuildLeaks). MEDICAL_AID needs the age, which every department reads. Nor may it open a
 * guardian's situation or its note without the exact categories: SERVING_SENTENCE is the
 * INCARCERATED_PARENT the category mask hides. A placement needs the whole picture (both); medical
 * aid and living assistance need neither. The child's address, its household registration (and the
 * police's record of it) and a guardian's address are opened together: a guardian at home lives there,
 * and a child living where it is registered has the one address twice, so one open beside the other
 * masked would show it (SAME_VALUE).
 */
export const referralGrants: Readonly<Record<ReferralType, readonly string[]>> = {
  [ReferralType.EDUCATION_AID]: ['Minor.currentAddress', 'Minor.householdRegistration', 'IdentityVerification.householdPlace', 'Guardian.name', 'Guardian.phone', 'Guardian.address'],
  [ReferralType.MEDICAL_AID]: ['Guardian.phone'],
  [ReferralType.LEGAL_AID]: ['MinorCategory.category', 'Guardian.situation', 'Guardian.situationNote'],
  [ReferralType.LIVING_ASSISTANCE]: ['Minor.currentAddress', 'Minor.householdRegistration', 'IdentityVerification.householdPlace', 'Guardian.phone', 'Guardian.address'],
  [ReferralType.COUNSELLING]: ['MinorCategory.category', 'RiskAssessment.reasons'],
  [ReferralType.PLACEMENT]: ['Minor.currentAddress', 'Minor.householdRegistration', 'IdentityVerification.householdPlace', 'Guardian.name', 'Guardian.phone', 'Guardian.address', 'Guardian.situation', 'Guardian.situationNote', 'MinorCategory.category'],
  [ReferralType.FAMILY_EDUCATION_GUIDANCE]: ['Minor.currentAddress', 'Minor.householdRegistration', 'IdentityVerification.householdPlace', 'Guardian.name', 'Guardian.phone', 'Guardian.address'],
};

/** The most fields one referral opens: what the cost limit prices `Referral.grantedFields` at. */
export const MAX_GRANTED_FIELDS = Math.max(...Object.values(referralGrants).map((fields) => fields.length));

/**
 * What one referral opens to its receiving department: its type's fields that the referring
 * department reads exactly itself. A department cannot hand on what its own row denies or masks —
 * else a school or the Youth League, reading a crime victim as NEEDS_SUPPORT, could open the
 * category to any other department by referring the child for legal aid. Subsets so taken stay
 * free of the leaks start-up refuses: the referrer's own row reads the whole of any part and both
 * of two fields of the same value alike (Policy.rebuildLeaks). Nor a field the receiving department
 * cannot reach (Policy.reachable): listed, it told justice and the Youth League they could read the
 * police's record of the 户籍地, which neither reaches.
 */
export function referralGrantedFields(policy: Policy, referral: Pick<Referral, 'type' | 'fromDepartment' | 'toDepartment'>): readonly string[] {
  const handed = referralGrants[referral.type].filter((key) => policy.access(referral.fromDepartment, key) === Access.ALLOW);
  const opened = new Set(handed);
  return handed.filter((key) => policy.reachable(referral.toDepartment, key, opened));
}

/**
 * Who must be told of each event (信息通报), among the departments with jurisdiction over the
 * event's region. Referral events go to the parties named on the referral instead; escalations to
 * CIVIL_AFFAIRS one level up.
 */
export const notificationRecipients: Readonly<Record<NotificationKind, readonly Department[]>> = {
  [NotificationKind.CHILD_RED]: [CA, PO, ED, WF],
  [NotificationKind.GUARDIANSHIP_FAILURE]: [CA, PO, WF],
  [NotificationKind.DROPOUT]: [ED, CA, YL],
  [NotificationKind.MANDATORY_REPORT]: [PO, CA],
  [NotificationKind.REFERRAL_RECEIVED]: [],
  [NotificationKind.REFERRAL_OUTCOME]: [],
  [NotificationKind.ESCALATION]: [CA],
  [NotificationKind.VISIT_OVERDUE]: [CA],
  [NotificationKind.REASSESSMENT_REQUESTED]: [CA],
};

const REPORT = 'Mandatory reports go to police and civil affairs with jurisdiction over the place (强制报告); no one else reads them.';
const REFERRAL = 'Every department refers and receives; each sees only the referrals it sent or received, civil affairs (lead) all in its jurisdiction.';
const NOTIFICATION = 'Each department reads its own inbox; the payload was filtered and masked for it when the event happened.';
const WEBHOOK = 'A department registers its own systems for its own notifications.';
const BARRED = '从业限制 is kept by police and justice; the offence never leaves them.';
const CHECK = '入职查询: the employer learns CLEAR or RESTRICTED and nothing else.';
const VISITS =
  'Overdue visits (分级保护) are the casework of those who visit: the due date, and when a child joins the list, tell the last visit’s time (`Minor.nextVisitDue`).';

export const workflowPolicy: PolicyRow[] = [
  // 强制报告
  policyRow('Mutation', 'fileMandatoryReport', { allow: FILERS }, 'Anyone with the duty to report (teacher, doctor, community worker, hotel) files; officers too.'),
  policyRow('Query', 'myReports', { allow: FILERS }, 'A reporter reads back only the status of their own reports.'),
  ...rows('ReportReceipt', ['id', 'status', 'receivedAt'], FILERS, 'What a reporter may know of their report: that it is being dealt with.'),
  ...rows('Query', ['mandatoryReports', 'mandatoryReport', 'overdueReports'], REPORT_HANDLERS, REPORT),
  policyRow('Mutation', 'transitionReport', { allow: REPORT_HANDLERS }, 'Verification and handling are police and civil-affairs work; who may take which step is checked per transition.'),
  ...rows(
    'MandatoryReport',
    ['id', 'reporterId', 'reporterDepartment', 'reporterUnit', 'harmType', 'observation', 'observedAt', 'location', 'regionCode', 'minor', 'childIdNumber',
      'childDescription', 'urgency', 'status', 'receivedAt', 'verifyDueAt', 'handleDueAt', 'overdue', 'updatedAt', 'transitions'],
    REPORT_HANDLERS,
    REPORT,
  ),
  ...rows('ReportTransition', ['id', 'fromStatus', 'toStatus', 'officerId', 'department', 'note', 'at'], REPORT_HANDLERS, REPORT),
  policyRow('Minor', 'mandatoryReports', { allow: REPORT_HANDLERS }, REPORT),

  // 转介
  ...rows('Query', ['referrals', 'referral'], ALL, REFERRAL),
  ...rows('Mutation', ['createReferral', 'acceptReferral', 'declineReferral', 'completeReferral'], ALL, 'Any department refers a need it cannot meet; only the receiving department answers and completes.'),
  ...rows(
    'Referral',
    ['id', 'minor', 'type', 'need', 'fromDepartment', 'fromUser', 'toDepartment', 'regionCode', 'status', 'createdAt', 'answerDueAt',
      'completeDueAt', 'answeredAt', 'answeredBy', 'answerReason', 'completedAt', 'completedBy', 'outcome', 'closedAt', 'escalatedAt',
      'escalationRegion', 'overdue'],
    ALL,
    REFERRAL,
  ),
  policyRow('Referral', 'grantedFields', { allow: ALL }, 'The fields a referral opens to the receiving department while it is open (PENDING or ACCEPTED): those of its type the referring department reads exactly and the receiving department can reach; listed whatever its status (see docs/workflows.md).'),
  policyRow('Minor', 'referrals', { allow: ALL }, REFERRAL),

  // 信息通报
  policyRow('Query', 'notifications', { allow: ALL }, NOTIFICATION),
  policyRow('Mutation', 'acknowledge', { allow: ALL }, NOTIFICATION),
  ...rows(
    'Notification',
    ['id', 'kind', 'department', 'regionCode', 'minor', 'subjectId', 'payload', 'createdAt', 'acknowledgedAt', 'acknowledgedBy', 'escalatedAt'],
    ALL,
    NOTIFICATION,
  ),
  ...rows('NotificationField', ['field', 'value'], ALL, NOTIFICATION),
  ...rows('Query', ['webhooks'], ALL, WEBHOOK),
  ...rows('Mutation', ['registerWebhook', 'deactivateWebhook'], ALL, WEBHOOK),
  ...rows('Webhook', ['id', 'department', 'regionCode', 'url', 'active', 'createdBy', 'createdAt'], ALL, WEBHOOK),
  ...rows('WebhookRegistration', ['webhook', 'secret', 'maxAttempts'], ALL, WEBHOOK),

  // 入职查询
  ...rows('Query', ['barredPersons'], BAR_KEEPERS, BARRED),
  ...rows('Mutation', ['addBarredPerson', 'removeBarredPerson'], BAR_KEEPERS, BARRED),
  ...rows('BarredPerson', ['id', 'name', 'offence', 'judgementReference', 'restrictedUntil', 'createdBy', 'createdAt'], BAR_KEEPERS, BARRED),
  ...rows(
    'BarredPerson',
    ['createdByDepartment', 'createdByRegion'],
    BAR_KEEPERS,
    'Who listed a bar, as who revoked it: a user id is one only within its department, and police and justice both list.',
  ),
  ...rows(
    'BarredPerson',
    ['revokedAt', 'revokedBy', 'revokedByDepartment', 'revokedByRegion', 'revocationReason'],
    BAR_KEEPERS,
    'A revocation is the keepers’ record: who revoked a bar, when and why, for police and justice to review it (and list the person again).',
  ),
  ...rows('Mutation', ['employmentCheck', 'employmentRescreen'], EMPLOYER, CHECK),
  ...rows('EmploymentCheckResult', ['checkId', 'answer', 'checkedAt'], EMPLOYER, CHECK),
  ...rows('RescreenResult', ['batchId', 'checkedAt', 'answers'], EMPLOYER, CHECK),
  ...rows('RescreenAnswer', ['index', 'answer'], EMPLOYER, CHECK),

  // 分级保护
  policyRow('Query', 'overdueVisits', { allow: VISIT_READERS }, VISITS),
  ...rows('OverdueVisit', ['minor', 'riskLevel', 'gridCode', 'nextVisitDue', 'daysOverdue', 'responsibleWorker'], VISIT_READERS, VISITS),
  policyRow('OverdueVisit', 'lastVisitAt', { allow: VISIT_READERS }, 'The date of a visit is visit history (`Visit.visitedAt`): the same departments read it, from the same list.'),
];
