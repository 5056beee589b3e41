/** The benchmark's queries: each scenario as the hub, PostGraphile and the floor ask it. */

export interface Sample {
  ids: string[];
  /** Children with records in several departments (a mandatory report, so police, workflow and more). */
  cases: string[];
  grids: string[];
  /** The district every caller's jurisdiction is. */
  region: string;
}

export interface Call {
  path: string;
  body: (s: Sample, i: number) => unknown;
}

const pick = <T>(list: T[], i: number) => list[i % list.length];

export const HUB = {
  single: {
    path: '/graphql',
    body: (s: Sample, i: number) => ({
      query: `query Child($id: ID!) { minor(id: $id) { id name idNumber gender birthDate riskLevel nextVisitDue } }`,
      variables: { id: pick(s.ids, i) },
    }),
  },
  page: (first: number): Call => ({
    path: '/graphql',
    body: (s, i) => ({
      query: `query Page($grid: String!, $first: Int!) { minors(first: $first, filter: { regionCode: $grid }) { edges { node {
        id name guardians { name phone relationship } categories { category } latestAssessment { level assessedAt } } } } }`,
      variables: { grid: pick(s.grids, i), first },
    }),
  }),
  /** One child with every department's records a civil-affairs officer (the lead) may read. */
  crossDepartment: {
    path: '/graphql',
    body: (s: Sample, i: number) => ({
      query: `query Whole($id: ID!) { minor(id: $id) { id name riskLevel categories { category }
        schoolEnrollments { school grade status enrolledOn } dropoutReports { reportedOn status persuasionActions { actedOn method } }
        bullyingCases { occurredOn role status } educationAid { kind amountYuan grantedOn }
        policeIncidents { type occurredOn status handlingUnit } policeProtectionCase { hasOpenCase contactUnit openSince }
        guardianAdmonishments { guardian admonishedOn issuingUnit } identityVerifications { verifiedOn result householdStatus householdPlace }
        incarceratedParents { parent kind institution since expectedRelease status } communityCorrections { startedOn endsOn status supervisingOffice }
        legalAidCases { openedOn matter status provider }
        preventionCases { kind behaviour openedOn status caseWorker followUps { followedUpOn } } idleSupports { kind startedOn provider status }
        volunteerVisits { visitedOn volunteer }
        carePlans { kind startedOn status caregiver lastVisitOn visits { visitedOn visitor } } familyEducationSessions { heldOn topic }
        domesticViolenceSupports { kind startedOn status } childrenHomeAttendances { home attendedOn activity }
        referrals { type status toDepartment createdAt } mandatoryReports { harmType urgency status receivedAt } } }`,
      variables: { id: pick(s.cases, i) },
    }),
  },
  /** A page of 100 children of a grid, each with its education records: the gateway batches them into one `_entities` call. */
  federatedPage: {
    path: '/graphql',
    body: (s: Sample, i: number) => ({
      query: `query Fed($grid: String!) { minors(first: 100, filter: { regionCode: $grid }) { edges { node {
        id name schoolEnrollments { school grade status enrolledOn } } } } }`,
      variables: { grid: pick(s.grids, i) },
    }),
  },
  /** Counts by street × risk level × category over the caller's whole district, from the statistics summaries. */
  aggregate: {
    path: '/graphql',
    body: () => ({
      query: `{ minorCounts(level: STREET, by: [RISK_LEVEL, CATEGORY]) { refreshedAt total { value }
        cells { regionCode riskLevel category count { value display } } } }`,
    }),
  },
};

export const POSTGRAPHILE = {
  single: {
    path: '/graphql',
    body: (s: Sample, i: number) => ({
      query: `query Child($id: UUID!) { minorById(id: $id) { id name idNumber gender birthDate riskLevel nextVisitDue } }`,
      variables: { id: pick(s.ids, i) },
    }),
  },
  page: {
    path: '/graphql',
    body: (s: Sample, i: number) => ({
      query: `query Page($grid: String!) { allMinors(first: 100, condition: { gridCode: $grid }, orderBy: ID_ASC) { nodes {
        id name guardiansByMinorId { nodes { name phone relationship } } minorCategoriesByMinorId { nodes { category } }
        riskAssessmentsByMinorId(first: 1, orderBy: ASSESSED_AT_DESC) { nodes { level assessedAt } } } } }`,
      variables: { grid: pick(s.grids, i) },
    }),
  },
  federatedPage: {
    path: '/graphql',
    body: (s: Sample, i: number) => ({
      query: `query Fed($grid: String!) { allMinors(first: 100, condition: { gridCode: $grid }, orderBy: ID_ASC) { nodes {
        id name schoolEnrollmentsByMinorId { nodes { school grade status enrolledOn } } } } }`,
      variables: { grid: pick(s.grids, i) },
    }),
  },
};

export const FLOOR = {
  single: { path: '/minor', body: (s: Sample, i: number) => ({ id: pick(s.ids, i) }) },
  page: { path: '/page', body: (s: Sample, i: number) => ({ grid: pick(s.grids, i), first: 100 }) },
  /** The raw GROUP BY over the registry tables that scenario 5's summaries stand in for. */
  aggregate: { path: '/aggregate', body: (s: Sample) => ({ region: s.region }) },
};
