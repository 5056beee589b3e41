import { Department } from '../../auth/principal';
import { policyRow, PolicyRow } from '../../policy/policy.types';
import { fieldRows, ownerWriteRows, pageRows } from '../shared/record-policy';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;

/**
 * Who reads what of the women's federation's records: who cares for the child and how the family
 * is supported. Free-text notes from the family's home stay with the federation; domestic-violence
 * support stays within the circle that knows the exact DOMESTIC_VIOLENCE category.
 */
const CARE = [WF, CA, ED, JU];
const VIOLENCE = [WF, CA, PO, JU];
/**
 * Guidance is what a police admonishment of a guardian orders (责令接受家庭教育指导) and what the
 * federation gives after domestic violence: that a child's family had it, when and on what tells
 * the DOMESTIC_VIOLENCE category to a reader who sees it masked — a school's token singled out 45
 * such children of the demo data, none wrongly, beside NEEDS_SUPPORT and the other categories. So
 * the same circle as that category; schools run their parent schools on their own.
 */
const SESSION = VIOLENCE;
const HOME = [WF, CA, YL];

export const womensFederationPolicy: PolicyRow[] = [
  policyRow(
    'Minor',
    'carePlans',
    { allow: CARE },
    'Who looks after a left-behind or migrant child: the school needs the caregiver for everyday contact, justice for children whose parent is in custody.',
  ),
  ...fieldRows('CarePlan', ['id', 'minor', 'kind', 'startedOn', 'status', 'caregiver'], CARE, 'Kind, period, status and the caregiver to contact.'),
  policyRow('CarePlan', 'lastVisitOn', { allow: [WF, CA] }, 'Visit follow-up is the federation’s and the lead’s (overdue lists).'),
  policyRow('CarePlan', 'measures', { allow: [WF] }, 'Care measures describe the household in detail: the federation’s own.'),
  policyRow('CarePlan', 'visits', { allow: [WF, CA] }, 'Care-visit history; civil affairs coordinates visits with its child directors.'),
  ...fieldRows('CareVisit', ['id', 'visitedOn', 'visitor'], [WF, CA], 'Who visited when.'),
  policyRow('CareVisit', 'notes', { allow: [WF] }, 'Notes from the home: the federation’s own.'),
  policyRow('Query', 'carePlans', { allow: [WF, CA] }, 'Care-plan lists (e.g. not visited in 30 days) for the federation and the lead; each filter needs read access to its field.'),
  ...pageRows('CarePlanPage', [WF, CA], 'carePlans'),

  policyRow(
    'Minor',
    'familyEducationSessions',
    { allow: SESSION },
    '家庭教育指导 is often ordered after police admonishment or with a court/justice matter: the circle of the exact DOMESTIC_VIOLENCE category, which the guidance would tell schools.',
  ),
  ...fieldRows('FamilyEducationSession', ['id', 'minor', 'heldOn', 'topic'], SESSION, 'That guidance took place, when, on what.'),
  ...fieldRows('FamilyEducationSession', ['attendee', 'instructor'], [WF, CA], 'Who attended and who guided: the federation and the lead.'),
  policyRow('FamilyEducationSession', 'notes', { allow: [WF] }, 'Guidance notes about the family: the federation’s own.'),

  policyRow(
    'Minor',
    'domesticViolenceSupports',
    { allow: VIOLENCE },
    'Same circle as the exact DOMESTIC_VIOLENCE category: civil affairs, police (protection orders), justice (legal aid); not schools or the Youth League. And the federation, whose own ledger it is (反家暴): it knows the category of the children it supports, and reads it masked for the others.',
  ),
  ...fieldRows('DomesticViolenceSupport', ['id', 'minor', 'kind', 'startedOn', 'status'], VIOLENCE, 'What support, since when, whether ongoing.'),
  policyRow('DomesticViolenceSupport', 'notes', { allow: [WF] }, 'Notes on the victims’ situation: the federation’s own (avoid second harm).'),

  policyRow('Minor', 'childrenHomeAttendances', { allow: HOME }, '儿童之家 activities are run with Youth League volunteers; civil affairs funds the homes.'),
  ...fieldRows('ChildrenHomeAttendance', ['id', 'minor', 'home', 'attendedOn', 'activity'], HOME, 'Attendance at a community children’s home.'),

  ...ownerWriteRows(
    WF,
    [
      'createCarePlan',
      'updateCarePlan',
      'recordCareVisit',
      'createFamilyEducationSession',
      'updateFamilyEducationSession',
      'createDomesticViolenceSupport',
      'updateDomesticViolenceSupport',
      'createChildrenHomeAttendance',
      'updateChildrenHomeAttendance',
    ],
    'The women’s federation ledger (留守流动关爱, 家庭教育指导, 反家暴, 儿童之家)',
  ),
];
