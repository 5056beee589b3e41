import { Department } from '../../auth/principal';
import { MaskKind, policyRow, PolicyRow } from '../../policy/policy.types';
import { fieldRows, ownerWriteRows, pageRows } from '../shared/record-policy';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;
const ALL = [CA, ED, PO, JU, YL, WF];

/**
 * Who reads what of police records. Incident type and narrative can reveal sexual harm,
 * trafficking or abuse: only police and, as summaries, civil affairs (the lead) see incidents.
 * Everyone else learns only that a protection case is open and whom to call.
 */
export const policePolicy: PolicyRow[] = [
  policyRow('Minor', 'policeIncidents', { allow: [PO, CA] }, 'Incidents reveal the harm a child suffered (protect victims, avoid second harm): police, and civil affairs as the lead.'),
  ...fieldRows('PoliceIncident', ['id', 'minor', 'type', 'occurredOn', 'status', 'handlingUnit'], [PO, CA], 'The summary civil affairs coordinates protection with: type, date, status, handling unit.'),
  policyRow('PoliceIncident', 'narrative', { allow: [PO] }, 'Police narratives (案情) are investigation records: police only, not even in the lead’s summary.'),
  policyRow('Query', 'policeIncidents', { allow: [PO, CA] }, 'Incident list of the jurisdiction for those who read incidents; each filter needs read access to its field.'),
  ...pageRows('PoliceIncidentPage', [PO, CA], 'policeIncidents'),

  policyRow(
    'Minor',
    'policeProtectionCase',
    { allow: ALL },
    'Every department working with the child must know a protection case is open and whom to contact, so as not to act against it or question the child again.',
  ),
  ...fieldRows('ProtectionCaseStatus', ['hasOpenCase', 'contactUnit', 'openSince'], ALL, 'Yes/no, since when, and the contact unit: no incident type or detail.'),

  policyRow(
    'Minor',
    'guardianAdmonishments',
    { allow: [PO, CA, WF] },
    '训诫 shows a guardian failing the duty of care: civil affairs as lead, the women’s federation for the family-education guidance that follows it.',
  ),
  ...fieldRows('GuardianAdmonishment', ['id', 'minor', 'guardian', 'admonishedOn', 'issuingUnit'], [PO, CA, WF], 'Who was admonished, when, by which unit.'),
  policyRow('GuardianAdmonishment', 'reason', { allow: [PO] }, 'The reason recounts the incident: police only.'),

  policyRow(
    'Minor',
    'identityVerifications',
    { allow: [PO, CA, ED, WF] },
    'Household-registration facts: schools enrol children without 户口, the women’s federation works with migrant families; verification itself is police and civil-affairs work.',
  ),
  policyRow('IdentityVerification', 'id', { allow: [PO, CA, ED, WF] }, 'Opaque key.'),
  policyRow('IdentityVerification', 'minor', { allow: [PO, CA, ED, WF] }, 'The child the facts belong to.'),
  ...fieldRows('IdentityVerification', ['verifiedOn', 'result'], [PO, CA], '身份比对 is police and civil-affairs work (the registry’s ID number is theirs too).'),
  policyRow('IdentityVerification', 'householdStatus', { allow: [PO, CA, ED, WF] }, 'Whether the child has a 户口: it decides enrollment and which support applies.'),
  policyRow(
    'IdentityVerification',
    'householdPlace',
    { allow: [PO, CA, WF], mask: [ED], as: MaskKind.ADDRESS },
    'The registry’s 户籍地 again, so its rule (SAME_VALUE): schools see the district only.',
  ),
  policyRow('IdentityVerification', 'note', { allow: [PO] }, 'Working notes of the verification.'),

  ...ownerWriteRows(
    PO,
    ['createPoliceIncident', 'updatePoliceIncident', 'createGuardianAdmonishment', 'updateGuardianAdmonishment', 'createIdentityVerification', 'updateIdentityVerification'],
    'The police ledger (警情, 训诫, 身份比对)',
  ),
];

