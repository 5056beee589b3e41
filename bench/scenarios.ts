/** The benchmark's queries: each scenario as the hub, PostGraphile and the floor ask it. */

export interface Sample {
  ids: string[];
  grids: string[];
  streets: string[];
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
  /** Until the department subgraphs exist: one child's whole registry record. */
  crossDepartment: {
    path: '/graphql',
    body: (s: Sample, i: number) => ({
      query: `query Whole($id: ID!) { minor(id: $id) { id name idNumber age currentAddress grid { name } categories { category identifiedAt }
        guardians { name phone situation } assessments { level assessedAt reasons } visits { visitedAt notes } riskLevel nextVisitDue } }`,
      variables: { id: pick(s.ids, i) },
    }),
  },
  /** Until department records exist: a page of 100 with each child's visits and assessments. */
  federatedPage: {
    path: '/graphql',
    body: (s: Sample, i: number) => ({
      query: `query Fed($grid: String!) { minors(first: 100, filter: { regionCode: $grid }) { edges { node { id name visits { visitedAt } assessments { level } } } } }`,
      variables: { grid: pick(s.grids, i) },
    }),
  },
  /** Until the statistics views exist: counts by risk level and category in a street. */
  aggregate: {
    path: '/graphql',
    body: (s: Sample, i: number) => ({
      query: `query Agg($street: String!) {
        red: minors(first: 1, filter: { regionCode: $street, riskLevels: [RED] }) { totalCount }
        orange: minors(first: 1, filter: { regionCode: $street, riskLevels: [ORANGE], categories: [LEFT_BEHIND] }) { totalCount }
        dropout: minors(first: 1, filter: { regionCode: $street, categories: [DROPOUT] }) { totalCount } }`,
      variables: { street: pick(s.streets, i) },
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
};

export const FLOOR = {
  single: { path: '/minor', body: (s: Sample, i: number) => ({ id: pick(s.ids, i) }) },
  page: { path: '/page', body: (s: Sample, i: number) => ({ grid: pick(s.grids, i), first: 100 }) },
};
