import { Department } from '../../auth/principal';
import { policyRow, PolicyRow } from '../../policy/policy.types';
import { fieldRows, ownerWriteRows, pageRows } from '../shared/record-policy';

const { CIVIL_AFFAIRS: CA, POLICE: PO, JUSTICE: JU } = Department;

/**
 * Who reads what of justice records. That a parent is in custody is as sensitive as the
 * registry's INCARCERATED_PARENT category (exactly known to civil affairs, police and justice
 * only); a minor's own correction is a sealed criminal record (犯罪记录封存); legal aid is
 * privileged. Education, the Youth League and the women’s federation read none of these.
 */
const CUSTODY = [JU, CA, PO];

export const justicePolicy: PolicyRow[] = [
  policyRow('Minor', 'incarceratedParents', { allow: CUSTODY }, 'Same circle as the registry’s INCARCERATED_PARENT category and guardian situation: civil affairs, police, justice.'),
  ...fieldRows('IncarceratedParent', ['id', 'minor', 'parent', 'kind', 'since', 'expectedRelease', 'status'], CUSTODY, 'Which parent, since and until when: plans the child’s care and reunion.'),
  policyRow('IncarceratedParent', 'institution', { allow: [JU] }, 'Where the parent is held: justice arranges family visits (亲情会见) itself.'),
  policyRow('Query', 'incarceratedParents', { allow: [JU, CA] }, 'Release planning is justice’s and the lead’s work; each filter needs read access to its field.'),
  ...pageRows('IncarceratedParentPage', [JU, CA], 'incarceratedParents'),

  policyRow(
    'Minor',
    'communityCorrections',
    { allow: CUSTODY },
    '犯罪记录封存: a minor’s criminal record is sealed from all but the bodies handling it (police, justice) and civil affairs as guardian of last resort.',
  ),
  ...fieldRows('CommunityCorrection', ['id', 'minor', 'startedOn', 'endsOn', 'status', 'supervisingOffice'], CUSTODY, 'Period, status and the supervising 司法所.'),
  policyRow('CommunityCorrection', 'notes', { allow: [JU] }, 'Correction casework: justice only.'),

  policyRow('Minor', 'legalAidCases', { allow: [JU, CA] }, 'Legal aid is privileged: civil affairs sees that it exists (matter, status, provider) to coordinate assistance.'),
  ...fieldRows('LegalAidCase', ['id', 'minor', 'openedOn', 'matter', 'status', 'provider'], [JU, CA], 'Summary for civil affairs: matter, status, date and whom to contact.'),
  policyRow('LegalAidCase', 'details', { allow: [JU] }, 'Legal-aid details are privileged: justice only, not in the lead’s summary.'),

  ...ownerWriteRows(
    JU,
    ['createIncarceratedParent', 'updateIncarceratedParent', 'createCommunityCorrection', 'updateCommunityCorrection', 'createLegalAidCase', 'updateLegalAidCase'],
    'The justice ledger (服刑在戒, 社区矫正, 法律援助)',
  ),
];
