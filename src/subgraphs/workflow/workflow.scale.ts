import type { Rng } from '../../common/rng';
import { DEFAULT_REFERRAL_ANSWER_HOURS, DEFAULT_REFERRAL_COMPLETE_DAYS, DEFAULT_REPORT_DEADLINES } from '../../config/hub.config';
import type { ChildRecords, SeedChild } from '../shared/seed';
import { HarmType as H, NotificationKind, ReferralStatus as RS, ReferralType as RT, ReportStatus as S, ReportUrgency as U } from './workflow.enums';

const HOUR = 3_600_000;
const hoursFrom = (at: Date, hours: number) => new Date(at.getTime() + hours * HOUR);

/** Which harm a report about a child of a category describes, who usually reports it, and how urgent it is. */
const REPORTED: readonly (readonly [category: string, harms: H[], reporter: string, urgency: U, chance: number])[] = [
  ['DOMESTIC_VIOLENCE', [H.DOMESTIC_VIOLENCE, H.PHYSICAL_ABUSE], 'EDUCATION', U.HIGH, 0.5],
  ['CRIME_VICTIM', [H.SEXUAL_ABUSE, H.PHYSICAL_ABUSE, H.TRAFFICKING], 'EDUCATION', U.URGENT, 0.5],
  ['LACK_OF_GUARDIANSHIP', [H.NEGLECT, H.ABANDONMENT], 'CIVIL_AFFAIRS', U.NORMAL, 0.4],
  ['STREET_RUNAWAY', [H.MISSING], 'POLICE', U.URGENT, 0.3],
];
const UNITS: Record<string, string[]> = {
  EDUCATION: ['清波小学', '湖滨小学', '开元中学', '建兰中学'],
  CIVIL_AFFAIRS: ['社区儿童主任', '街道未成年人保护工作站'],
  POLICE: ['清波派出所', '湖滨派出所'],
};
/** Each status a report reaches, in order, with the department that moves it there. */
const PATHS: readonly (readonly [S, string][])[] = [
  [],
  [[S.VERIFYING, 'POLICE']],
  [[S.VERIFYING, 'POLICE'], [S.HANDLED, 'POLICE']],
  [[S.VERIFYING, 'POLICE'], [S.HANDLED, 'CIVIL_AFFAIRS'], [S.CLOSED, 'CIVIL_AFFAIRS']],
  [[S.VERIFYING, 'POLICE'], [S.UNFOUNDED, 'POLICE']],
];
/** Referrals civil affairs (the lead) sends for a category, to whom, and how often. */
const REFERRED: readonly (readonly [category: string, type: RT, to: string, chance: number, need: string])[] = [
  ['POVERTY', RT.EDUCATION_AID, 'EDUCATION', 0.2, '家庭困难，申请教育资助'],
  ['INCARCERATED_PARENT', RT.LEGAL_AID, 'JUSTICE', 0.15, '父亲服刑，需法律援助办理监护事宜'],
  ['DOMESTIC_VIOLENCE', RT.COUNSELLING, 'WOMENS_FEDERATION', 0.3, '目睹家暴，需心理疏导'],
  ['LEFT_BEHIND', RT.FAMILY_EDUCATION_GUIDANCE, 'WOMENS_FEDERATION', 0.05, '监护人需家庭教育指导'],
  ['IDLE', RT.PLACEMENT, 'YOUTH_LEAGUE', 0.2, '闲散未成年人，需就学就业帮扶'],
];

const T = {
  report: 'workflow.mandatory_report',
  transition: 'workflow.report_transition',
  referral: 'workflow.referral',
  notification: 'workflow.notification',
};

type Emit = (table: string, row: unknown[]) => void;

/**
 * Notifications are generated, not emitted through the policy: the payload holds only fields every
 * recipient of the kind may read, so nothing a recipient is refused ends up in its inbox.
 */
function notify(rng: Rng, emit: Emit, kind: NotificationKind, department: string, child: SeedChild, region: string, subjectId: string, payload: object, at: Date, anchor: Date) {
  const acknowledged = anchor.getTime() - at.getTime() > 48 * HOUR;
  emit(T.notification, [rng.uuid(), kind, department, region, child.id, subjectId, JSON.stringify(payload), at, acknowledged ? hoursFrom(at, rng.int(1, 24)) : null, acknowledged ? `${department.toLowerCase()}-officer` : null, null, `${kind}:${subjectId}:${department}`]);
}

function report(child: SeedChild, rng: Rng, anchor: Date, emit: Emit, harms: H[], reporter: string, urgency: U) {
  const id = rng.uuid();
  const harm = rng.pick(harms);
  const received = hoursFrom(anchor, -rng.int(1, 400 * 24));
  // Generated against the default deadlines (a deployment's own apply to its real reports).
  const verifyHours = DEFAULT_REPORT_DEADLINES[urgency].verifyMinutes / 60;
  const handleHours = DEFAULT_REPORT_DEADLINES[urgency].handleMinutes / 60;
  const ageHours = (anchor.getTime() - received.getTime()) / HOUR;
  // Old reports have run their course; recent ones may still be open.
  const path = ageHours > handleHours ? rng.weighted([[PATHS[3], 6], [PATHS[4], 2], [PATHS[2], 1], [PATHS[1], 1]] as const) : rng.pick(PATHS.slice(0, 3));
  let status = S.RECEIVED;
  let at = received;
  for (const [to, department] of path) {
    at = hoursFrom(at, Math.min(rng.int(1, handleHours), ageHours / (path.length + 1)));
    emit(T.transition, [rng.uuid(), id, child.id, status, to, `${department.toLowerCase()}-officer-${rng.int(1, 20)}`, department, `${status} → ${to}`, at]);
    status = to;
  }
  const unit = rng.pick(UNITS[reporter]);
  emit(T.report, [id, `reporter-${rng.int(1, 500)}`, reporter, unit, harm, '发现儿童疑似遭受侵害, 依法强制报告', hoursFrom(received, -rng.int(1, 48)), unit, child.gridCode, child.id, null, null, urgency, status, received, hoursFrom(received, verifyHours), hoursFrom(received, handleHours), at]);
  for (const department of ['POLICE', 'CIVIL_AFFAIRS']) {
    notify(rng, emit, NotificationKind.MANDATORY_REPORT, department, child, child.gridCode, id, { 'MandatoryReport.harmType': harm, 'MandatoryReport.urgency': urgency }, received, anchor);
  }
}

function referral(child: SeedChild, rng: Rng, anchor: Date, emit: Emit, type: RT, to: string, need: string) {
  const id = rng.uuid();
  const region = child.gridCode.slice(0, 9);
  const created = hoursFrom(anchor, -rng.int(1, 300 * 24));
  const answerDue = hoursFrom(created, DEFAULT_REFERRAL_ANSWER_HOURS);
  const ageHours = (anchor.getTime() - created.getTime()) / HOUR;
  const status = ageHours < DEFAULT_REFERRAL_ANSWER_HOURS && rng.chance(0.6) ? RS.PENDING : rng.weighted([[RS.ACCEPTED, 3], [RS.COMPLETED, 6], [RS.DECLINED, 1]] as const);
  const answered = status === RS.PENDING ? null : hoursFrom(created, rng.int(1, Math.min(DEFAULT_REFERRAL_ANSWER_HOURS, Math.max(1, Math.floor(ageHours)))));
  const completed = status === RS.COMPLETED ? hoursFrom(answered!, Math.min(rng.int(24, DEFAULT_REFERRAL_COMPLETE_DAYS * 24), (anchor.getTime() - answered!.getTime()) / HOUR)) : null;
  const closed = status === RS.DECLINED ? answered : completed;
  const by = `${to.toLowerCase()}-officer`;
  emit(T.referral, [
    id, child.id, type, need, 'CIVIL_AFFAIRS', 'civil-affairs-officer', to, region, status, created, answerDue,
    answered && status !== RS.DECLINED ? hoursFrom(answered, DEFAULT_REFERRAL_COMPLETE_DAYS * 24) : null, answered, answered && by, status === RS.DECLINED ? '不属本部门职责, 建议转民政' : null,
    completed, completed && by, completed && '已落实帮扶措施', closed, null, null,
  ]);
  notify(rng, emit, NotificationKind.REFERRAL_RECEIVED, to, child, region, id, { 'Referral.type': type, 'Referral.fromDepartment': 'CIVIL_AFFAIRS' }, created, anchor);
}

/**
 * Workflow records consistent with the registry: mandatory reports (with their steps and the
 * notifications to police and civil affairs) for about half of the abused, neglected and runaway
 * children, old ones closed or unfounded, recent ones open; referrals from civil affairs to the
 * department that helps with a category, each with the recipient's notification. Webhooks, the
 * barred-person registry and employment checks are not about children and are not generated.
 */
export const workflowRecords: ChildRecords = {
  seed: 20261206,
  tables: [
    {
      name: T.report,
      columns: [['id', 'uuid'], ['reporter_id', 'text'], ['reporter_department', 'text'], ['reporter_unit', 'text'], ['harm_type', 'text'], ['observation', 'text'], ['observed_at', 'timestamptz'],
        ['location', 'text'], ['region_code', 'varchar'], ['minor_id', 'uuid'], ['child_id_number', 'bpchar'], ['child_description', 'text'], ['urgency', 'text'], ['status', 'text'],
        ['received_at', 'timestamptz'], ['verify_due_at', 'timestamptz'], ['handle_due_at', 'timestamptz'], ['updated_at', 'timestamptz']],
    },
    {
      name: T.transition,
      columns: [['id', 'uuid'], ['report_id', 'uuid'], ['minor_id', 'uuid'], ['from_status', 'text'], ['to_status', 'text'], ['officer_id', 'text'], ['department', 'text'], ['note', 'text'], ['at', 'timestamptz']],
    },
    {
      name: T.referral,
      columns: [['id', 'uuid'], ['minor_id', 'uuid'], ['type', 'text'], ['need', 'text'], ['from_department', 'text'], ['from_user', 'text'], ['to_department', 'text'], ['region_code', 'varchar'],
        ['status', 'text'], ['created_at', 'timestamptz'], ['answer_due_at', 'timestamptz'], ['complete_due_at', 'timestamptz'], ['answered_at', 'timestamptz'], ['answered_by', 'text'],
        ['answer_reason', 'text'], ['completed_at', 'timestamptz'], ['completed_by', 'text'], ['outcome', 'text'], ['closed_at', 'timestamptz'], ['escalated_at', 'timestamptz'], ['escalation_region', 'varchar']],
    },
    {
      name: T.notification,
      columns: [['id', 'uuid'], ['kind', 'text'], ['department', 'text'], ['region_code', 'varchar'], ['minor_id', 'uuid'], ['subject_id', 'uuid'], ['payload', 'jsonb'], ['created_at', 'timestamptz'],
        ['acknowledged_at', 'timestamptz'], ['acknowledged_by', 'text'], ['escalated_at', 'timestamptz'], ['dedupe_key', 'text']],
    },
  ],
  generate(child, rng, anchor, emit) {
    for (const [category, harms, reporter, urgency, chance] of REPORTED) {
      if (child.categories.has(category) && rng.chance(chance)) report(child, rng, anchor, emit, harms, reporter, urgency);
    }
    for (const [category, type, to, chance, need] of REFERRED) {
      if (child.categories.has(category) && rng.chance(chance)) referral(child, rng, anchor, emit, type, to, need);
    }
  },
};
