import { Department, PolicySubject, Role } from '../../auth/principal';
import { ALL_DEPARTMENTS, MaskKind, policyRow, PolicyRow, structuralRows } from '../../policy/policy.types';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;
const ALL = ALL_DEPARTMENTS;
const OFFICIAL_REGIONS: PolicySubject[] = [...ALL, Role.DASHBOARD, Role.AUDITOR];
/**
 * Who reads the visit history (dates and visitors): those who visit. Any other field that tells a
 * visit's date takes this list, so the two cannot drift: the workflow's `OverdueVisit.lastVisitAt`,
 * and every due date a visit sets (`Minor.nextVisitDue` less the level's interval is the last visit's
 * time, to the millisecond), with the filters and lists that test it, and the record's `updatedAt`,
 * which a visit stamps (PARTS_OF keeps them together).
 */
export const VISIT_READERS: readonly PolicySubject[] = [CA, PO, JU, WF];

/**
 * Who reads what of the registry. Departments are officers of that department; AUDITOR and
 * DASHBOARD read no child's file. Rows not listed are DENY for everyone.
 */
export const registryPolicy: PolicyRow[] = [
  // Entry points.
  policyRow('Query', 'minor', { allow: ALL }, 'Every department finds the children its duty concerns; jurisdiction limits which.'),
  policyRow('Query', 'minorByIdNumber', { allow: [CA, PO] }, 'A look-up by ID number is an oracle for the full number: only those who may read it.'),
  policyRow('Query', 'minors', { allow: ALL }, 'Lists within the jurisdiction; each filter needs read access to its field.'),
  policyRow('Query', 'regions', { allow: OFFICIAL_REGIONS }, 'The jurisdiction tree is administrative, not personal data.'),
  ...structuralRows('MinorConnection', ['edges', 'pageInfo', 'totalCount'], ALL, 'Paging structure of `minors`.'),
  ...structuralRows('MinorEdge', ['cursor', 'node'], ALL, 'Paging structure of `minors`.'),
  ...structuralRows('PageInfo', ['hasNextPage', 'endCursor'], ALL, 'Paging structure of `minors`.'),

  // 基本信息
  policyRow('Minor', 'id', { allow: ALL }, 'Opaque key; how departments refer to the same child.'),
  policyRow('Minor', 'name', { allow: ALL }, 'Basic information every department works with.'),
  policyRow('Minor', 'gender', { allow: ALL }, 'Basic information.'),
  policyRow('Minor', 'age', { allow: ALL }, 'Basic information; the age, not the birth date.'),
  policyRow(
    'Minor',
    'birthDate',
    { allow: [CA, PO] },
    'The full birth date is the middle of the ID number: with the masked number it would rebuild it. Others get `age`.',
  ),
  policyRow(
    'Minor',
    'idNumber',
    { allow: [CA, PO], mask: [ED, JU, WF], as: MaskKind.ID_NUMBER },
    'Identity verification (身份比对) is police and civil-affairs work. The mask keeps the region code, the county where the number was issued (where the child’s 户口 was): shown to those who read the 户籍地 at least masked, not the Youth League.',
  ),
  policyRow(
    'Minor',
    'householdRegistration',
    { allow: [CA, PO, WF], mask: [ED, JU], as: MaskKind.ADDRESS },
    '户籍地: civil affairs and police hold it; the women’s federation works with migrant and left-behind families.',
  ),
  policyRow(
    'Minor',
    'currentAddress',
    { allow: [CA, PO, WF], mask: [ED, JU], as: MaskKind.ADDRESS },
    'Home visits are civil affairs, police and women’s federation work; schools and justice need the district only.',
  ),
  policyRow('Minor', 'school', { allow: ALL }, 'Where the child studies; schools and prevention work need it.'),
  policyRow('Minor', 'grid', { allow: ALL }, 'The grid is the unit of 属地管理 for every department.'),
  policyRow(
    'Minor',
    'categories',
    { allow: ALL },
    'Every department sees that a child is in difficulty; which sensitive category is masked below.',
  ),
  policyRow('Minor', 'guardians', { allow: ALL }, 'Who to contact; each guardian field has its own row.'),
  policyRow('Minor', 'riskLevel', { allow: ALL }, '分级保护 applies to every department’s follow-up.'),
  policyRow(
    'Minor',
    'nextVisitDue',
    { allow: VISIT_READERS },
    'A visit sets it to the visit’s time plus the level’s interval, so it tells the last visit’s time: those who read the visit history.',
  ),
  policyRow('Minor', 'latestAssessment', { allow: ALL }, 'Level and dates; reasons have their own row.'),
  policyRow('Minor', 'assessments', { allow: ALL }, 'History of levels; reasons have their own row.'),
  policyRow('Minor', 'visits', { allow: VISIT_READERS }, 'Visit history is casework of those who visit.'),
  policyRow(
    'Minor',
    'updatedAt',
    { allow: VISIT_READERS },
    'A visit stamps it (with no time given, to the visit’s millisecond), as every change to the record does: those who read the visit history.',
  ),

  // 困境类型
  policyRow(
    'MinorCategory',
    'category',
    { allow: [CA, PO, JU], mask: [ED, YL, WF], as: MaskKind.SENSITIVE_CATEGORY },
    'Crime victim, domestic violence and incarcerated parent are known exactly only to civil affairs, police and justice (protect victims, avoid second harm); others see NEEDS_SUPPORT.',
  ),
  policyRow('MinorCategory', 'identifiedAt', { allow: ALL }, 'When the difficulty was identified.'),

  // 监护人
  policyRow('Guardian', 'id', { allow: ALL }, 'Opaque key.'),
  policyRow('Guardian', 'relationship', { allow: ALL }, 'Who the guardian is to the child.'),
  policyRow(
    'Guardian',
    'name',
    { allow: [CA, PO, JU, WF], mask: [ED, YL], as: MaskKind.NAME },
    'Schools and the Youth League address the family through the school or case worker.',
  ),
  policyRow(
    'Guardian',
    'phone',
    { allow: [CA, PO, WF], mask: [ED, JU, YL], as: MaskKind.PHONE },
    'Guardian contact for those who visit families; others see that a number exists.',
  ),
  policyRow(
    'Guardian',
    'address',
    { allow: [CA, PO, WF], mask: [ED, JU], as: MaskKind.ADDRESS },
    'Same rule as the child’s address.',
  ),
  policyRow(
    'Guardian',
    'situation',
    { allow: [CA, PO, JU] },
    'Serving a sentence, drug rehabilitation, illness: civil affairs, police and justice only.',
  ),
  policyRow('Guardian', 'situationNote', { allow: [CA, PO, JU] }, 'Same rule as the situation.'),

  // 风险评估
  policyRow('RiskAssessment', 'id', { allow: ALL }, 'Opaque key.'),
  policyRow('RiskAssessment', 'level', { allow: ALL }, 'The level every department follows up on.'),
  policyRow('RiskAssessment', 'assessedAt', { allow: ALL }, 'When.'),
  policyRow('RiskAssessment', 'nextVisitDue', { allow: ALL }, 'Follow-up date.'),
  policyRow('RiskAssessment', 'assessor', { allow: [CA, PO, JU, WF] }, 'Contact person for the assessment.'),
  policyRow('RiskAssessment', 'reasons', { allow: [CA, PO, JU] }, 'Reasons may reveal sensitive categories.'),

  // 走访
  policyRow('Visit', 'id', { allow: VISIT_READERS }, 'Opaque key.'),
  policyRow('Visit', 'visitedAt', { allow: VISIT_READERS }, 'Visit history.'),
  policyRow('Visit', 'visitor', { allow: VISIT_READERS }, 'Who visited.'),
  policyRow('Visit', 'notes', { allow: [CA, PO] }, 'Notes from the home describe the family in detail.'),

  // 辖区
  policyRow('Region', 'code', { allow: OFFICIAL_REGIONS }, 'Administrative data.'),
  policyRow('Region', 'name', { allow: OFFICIAL_REGIONS }, 'Administrative data.'),
  policyRow('Region', 'level', { allow: OFFICIAL_REGIONS }, 'Administrative data.'),
  policyRow('Region', 'parentCode', { allow: OFFICIAL_REGIONS }, 'Administrative data.'),
  policyRow('Region', 'parent', { allow: OFFICIAL_REGIONS }, 'Administrative data; null above the caller’s jurisdiction.'),
  policyRow('Region', 'children', { allow: OFFICIAL_REGIONS }, 'Administrative data.'),

  // 写入 (民政 owns the registry)
  ...['createMinor', 'updateMinor', 'addGuardian', 'removeGuardian', 'addCategory', 'removeCategory', 'recordAssessment', 'recordVisit'].map(
    (m) => policyRow('Mutation', m, { allow: [CA] }, 'The registry is civil affairs’ ledger (基本信息档案); other departments write their own records.'),
  ),
];
