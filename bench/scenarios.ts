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
  /**
   * The records an answer's `data` holds, one string each (a child's id with what was read of it),
   * so that an answer can be checked to hold any, and the servers of a scenario to answer the same.
   */
  rows: (data: any) => string[];
}

const pick = <T>(list: T[], i: number) => list[i % list.length];

/**
 * The records of a successful answer, or why it is not one: not 2xx, not JSON, GraphQL errors (a
 * partial answer included), no data, or no record at all. An answer holding nothing — a child
 * refused as unknown (`minor: null`), a page of nobody — is as fast as it is useless, and measured
 * at its rate the benchmark would price nothing.
 */
export function answerRows(call: Call, status: number, text: string): string[] {
  let body: { data?: unknown; errors?: unknown };
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${status}, not JSON: ${text.slice(0, 300)}`);
  }
  if (status < 200 || status >= 300 || body.errors !== undefined || body.data === undefined || body.data === null) throw new Error(`${status} ${text.slice(0, 300)}`);
  const rows = call.rows(body.data);
  if (!rows.length) throw new Error(`${status}, no record answered: ${text.slice(0, 300)}`);
  return rows;
}

/**
 * Whether a body the load generator received under load is an answer: GraphQL errors come with
 * 200 (a partial answer, a refused field) and would otherwise be counted as served, and so would an
 * answer holding nothing (`{"data":{"minor":null}}`, `{"data":{"minors":{"edges":[]}}}`, the floor's
 * `{"data":null}`). A text value holding `"errors":` is escaped (`\"errors\":`) and does not match.
 * Looked at as text, not parsed: the load generator shares the machine it measures.
 */
export const loadAnswered = (body: string): boolean => !/"errors"\s*:/.test(body) && !EMPTY.test(body);
const EMPTY = /^\{"data":(?:null|\[\]|\{"\w+":(?:null|\[\]|\{"\w+":\[\]\})\})/;

const count = (xs: unknown[] | null | undefined) => (xs ? xs.length : 0);
const childOf = (m: { id: string; name: string } | null | undefined) => (m ? [`${m.id} ${m.name}`] : []);
/** A page's child with how many guardians and categories it has and whether it has an assessment: PostGraphile's and the floor's answers read the same. */
const pageRow = (id: string, name: string, guardians: unknown[], categories: unknown[], latest: unknown) =>
  `${id} ${name} guardians ${count(guardians)} categories ${count(categories)} assessed ${latest ? 'yes' : 'no'}`;

export const HUB = {
  single: {
    path: '/graphql',
    body: (s: Sample, i: number) => ({
      query: `query Child($id: ID!) { minor(id: $id) { id name idNumber gender birthDate riskLevel nextVisitDue } }`,
      variables: { id: pick(s.ids, i) },
    }),
    rows: (d: any) => childOf(d.minor),
  },
  page: (first: number): Call => ({
    path: '/graphql',
    body: (s, i) => ({
      query: `query Page($grid: String!, $first: Int!) { minors(first: $first, filter: { regionCode: $grid }) { edges { node {
        id name guardians { name phone relationship } categories { category } latestAssessment { level assessedAt } } } } }`,
      variables: { grid: pick(s.grids, i), first },
    }),
    rows: (d: any) => (d.minors?.edges ?? []).map(({ node: n }: any) => pageRow(n.id, n.name, n.guardians, n.categories, n.latestAssessment)),
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
    rows: (d: any) => childOf(d.minor),
  },
  /** A page of 100 children of a grid, each with its education records: the gateway batches them into one `_entities` call. */
  federatedPage: {
    path: '/graphql',
    body: (s: Sample, i: number) => ({
      query: `query Fed($grid: String!) { minors(first: 100, filter: { regionCode: $grid }) { edges { node {
        id name schoolEnrollments { school grade status enrolledOn } } } } }`,
      variables: { grid: pick(s.grids, i) },
    }),
    rows: (d: any) => (d.minors?.edges ?? []).map(({ node: n }: any) => `${n.id} ${n.name} enrollments ${count(n.schoolEnrollments)}`),
  },
  /** Counts by street × risk level × category over the caller's whole district, from the statistics summaries. */
  aggregate: {
    path: '/graphql',
    body: () => ({
      query: `{ minorCounts(level: STREET, by: [RISK_LEVEL, CATEGORY]) { refreshedAt total { value }
        cells { regionCode riskLevel category count { value display } } } }`,
    }),
    /** The cells with a count shown: small counts are suppressed, so they are not the floor's rows. */
    rows: (d: any) => (d.minorCounts?.cells ?? []).flatMap((c: any) => (c.count.value === null ? [] : [`${c.regionCode} ${c.riskLevel} ${c.category} ${c.count.value}`])),
  },
};

export const POSTGRAPHILE = {
  single: {
    path: '/graphql',
    body: (s: Sample, i: number) => ({
      query: `query Child($id: UUID!) { minorById(id: $id) { id name idNumber gender birthDate riskLevel nextVisitDue } }`,
      variables: { id: pick(s.ids, i) },
    }),
    rows: (d: any) => childOf(d.minorById),
  },
  page: {
    path: '/graphql',
    body: (s: Sample, i: number) => ({
      query: `query Page($grid: String!) { allMinors(first: 100, condition: { gridCode: $grid }, orderBy: ID_ASC) { nodes {
        id name guardiansByMinorId { nodes { name phone relationship } } minorCategoriesByMinorId { nodes { category } }
        riskAssessmentsByMinorId(first: 1, orderBy: ASSESSED_AT_DESC) { nodes { level assessedAt } } } } }`,
      variables: { grid: pick(s.grids, i) },
    }),
    rows: (d: any) =>
      (d.allMinors?.nodes ?? []).map((n: any) => pageRow(n.id, n.name, n.guardiansByMinorId.nodes, n.minorCategoriesByMinorId.nodes, n.riskAssessmentsByMinorId.nodes[0])),
  },
  federatedPage: {
    path: '/graphql',
    body: (s: Sample, i: number) => ({
      query: `query Fed($grid: String!) { allMinors(first: 100, condition: { gridCode: $grid }, orderBy: ID_ASC) { nodes {
        id name schoolEnrollmentsByMinorId { nodes { school grade status enrolledOn } } } } }`,
      variables: { grid: pick(s.grids, i) },
    }),
    rows: (d: any) => (d.allMinors?.nodes ?? []).map((n: any) => `${n.id} ${n.name} enrollments ${count(n.schoolEnrollmentsByMinorId.nodes)}`),
  },
};

export const FLOOR = {
  single: { path: '/minor', body: (s: Sample, i: number) => ({ id: pick(s.ids, i) }), rows: childOf },
  page: {
    path: '/page',
    body: (s: Sample, i: number) => ({ grid: pick(s.grids, i), first: 100 }),
    rows: (d: any[]) => d.map((m) => pageRow(m.id, m.name, m.guardians, m.categories, m.latestAssessment)),
  },
  /** The raw GROUP BY over the registry tables that scenario 5's summaries stand in for. */
  aggregate: {
    path: '/aggregate',
    body: (s: Sample) => ({ region: s.region }),
    rows: (d: any[]) => d.map((r) => `${r.street} ${r.risk_level} ${r.category} ${r.minors}`),
  },
} satisfies Record<string, Call>;
