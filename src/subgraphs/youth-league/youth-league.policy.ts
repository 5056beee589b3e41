import { Department } from '../../auth/principal';
import { policyRow, PolicyRow } from '../../policy/policy.types';
import { fieldRows, ownerWriteRows, pageRows } from '../shared/record-policy';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;

/**
 * Who reads what of Youth League records. Serious misbehaviour is handled with police (矫治教育)
 * and justice (community correction), so they see which behaviour; schools cooperate with the
 * case worker (家校协同) and see that a case is open and whom to call, not why.
 */
const CASE = [YL, CA, PO, JU, ED];
const BEHAVIOUR = [YL, CA, PO, JU];

export const youthLeaguePolicy: PolicyRow[] = [
  policyRow('Minor', 'preventionCases', { allow: CASE }, 'Prevention is joint work: police and justice on serious misbehaviour, the school with the case worker.'),
  ...fieldRows('PreventionCase', ['id', 'minor', 'openedOn', 'status', 'caseWorker'], CASE, 'That a case is open, since when, and the case worker to contact.'),
  ...fieldRows('PreventionCase', ['kind', 'behaviour', 'lastFollowUpOn'], BEHAVIOUR, 'Which behaviour and how closely it is followed: for those who act on it (police, justice) and the lead; not schools.'),
  policyRow('PreventionCase', 'measures', { allow: [YL] }, 'Measures agreed with the child and family: the Youth League’s casework.'),
  policyRow('PreventionCase', 'followUps', { allow: [YL, CA] }, 'Follow-up history for the case worker; civil affairs sees the dates.'),
  ...fieldRows('MisbehaviourFollowUp', ['id', 'followedUpOn'], [YL, CA], 'When the child was followed up.'),
  policyRow('MisbehaviourFollowUp', 'note', { allow: [YL] }, 'What the case worker found: the Youth League’s own.'),
  policyRow('Query', 'preventionCases', { allow: [YL, CA, PO] }, 'Case lists for the Youth League, the lead and police (who refer serious misbehaviour); each filter needs read access to its field.'),
  ...pageRows('PreventionCasePage', [YL, CA, PO], 'preventionCases'),

  policyRow('Minor', 'idleSupports', { allow: [YL, CA, ED] }, 'Return-to-school, training or work for idle minors: schools take back returners (控辍保学), civil affairs sees summaries.'),
  ...fieldRows('IdleSupport', ['id', 'minor', 'kind', 'startedOn', 'provider', 'status'], [YL, CA, ED], 'What support, where, and how it is going.'),
  policyRow('IdleSupport', 'note', { allow: [YL] }, 'Case worker’s notes.'),

  policyRow('Minor', 'volunteerVisits', { allow: [YL, CA, WF] }, 'Visits to the child: the women’s federation coordinates care visits to left-behind children with them.'),
  ...fieldRows('VolunteerVisit', ['id', 'minor', 'visitedOn', 'volunteer'], [YL, CA, WF], 'Who visited when.'),
  policyRow('VolunteerVisit', 'notes', { allow: [YL] }, 'Notes from the home: the Youth League’s own.'),

  ...ownerWriteRows(
    YL,
    ['createPreventionCase', 'updatePreventionCase', 'recordMisbehaviourFollowUp', 'createIdleSupport', 'updateIdleSupport', 'createVolunteerVisit', 'updateVolunteerVisit'],
    'The Youth League ledger (预防犯罪, 闲散, 志愿服务)',
  ),
];
