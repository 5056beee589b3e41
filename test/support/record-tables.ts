/** Every department's table of records about a child (a `minor_id` column), for sweeps that copy or look up one of each kind. */
export const DEPARTMENT_RECORD_TABLES: readonly string[] = [
  'education.school_enrollment', 'education.dropout_report', 'education.bullying_case', 'education.education_aid',
  'police.incident', 'police.guardian_admonishment', 'police.identity_verification',
  'justice.incarcerated_parent', 'justice.community_correction', 'justice.legal_aid_case',
  'youth_league.prevention_case', 'youth_league.idle_support', 'youth_league.volunteer_visit',
  'womens_federation.care_plan', 'womens_federation.family_education_session', 'womens_federation.violence_support', 'womens_federation.children_home_attendance',
];
