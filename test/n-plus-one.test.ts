import { Department } from '../src/auth/principal';
import { startTestHub, TestHub } from './support/test-hub';

/** Per-request DataLoaders: the statement count of a page does not grow with its size. */
describe('N+1', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  const PAGE = `query($first: Int!) { minors(first: $first) { edges { node {
    id name grid { code name } categories { category } guardians { name phone situation }
    latestAssessment { level assessedAt } assessments { level } visits { visitedAt } } } } }`;

  async function statementsFor(first: number): Promise<number> {
    const token = await t.token(Department.CIVIL_AFFAIRS);
    const before = t.hub.db.statements.count;
    const r = await t.gql(token, PAGE, { first });
    expect(r.errors).toBeUndefined();
    expect(r.data.minors.edges).toHaveLength(first);
    return t.hub.db.statements.count - before;
  }

  it('lists 10, 100 and 1000 minors with their relations in the same number of statements', async () => {
    await statementsFor(10); // warm-up: the first request also loads the region directory
    const ten = await statementsFor(10);
    expect(await statementsFor(100)).toBe(ten);
    expect(await statementsFor(1000)).toBe(ten);
    // count + page + one per relation (grid, categories, guardians, latest, assessments, visits)
    expect(ten).toBeLessThanOrEqual(9);
  });
});

/** The same across subgraphs: the gateway batches entity fetches, each department loads a relation in one statement. */
describe('N+1 across the department subgraphs', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  const PAGE = `query($first: Int!, $records: Int) { minors(first: $first) { edges { node {
    id name guardians { situation }
    schoolEnrollments(first: $records) { status } dropoutReports(first: $records) { status persuasionActions(first: $records) { method } } bullyingCases(first: $records) { role } educationAid(first: $records) { kind }
    policeIncidents(first: $records) { type } policeProtectionCase { hasOpenCase } guardianAdmonishments(first: $records) { admonishedOn } identityVerifications(first: $records) { result }
    incarceratedParents(first: $records) { kind } communityCorrections(first: $records) { status } legalAidCases(first: $records) { matter }
    preventionCases(first: $records) { kind followUps(first: $records) { followedUpOn } } idleSupports(first: $records) { kind } volunteerVisits(first: $records) { visitedOn }
    carePlans(first: $records) { kind visits(first: $records) { visitedOn } } familyEducationSessions(first: $records) { topic } domesticViolenceSupports(first: $records) { kind } childrenHomeAttendances(first: $records) { home } } } } }`;
  const LIST = `query($first: Int!) { policeIncidents(first: $first) { nodes { type minor { name guardians { situation } carePlans { caregiver } } } } }`;

  async function statementsFor(query: string, first: number, count: (data: any) => number, records?: number): Promise<number> {
    const token = await t.token(Department.CIVIL_AFFAIRS);
    const before = t.hub.db.statements.count;
    const r = await t.gql(token, query, { first, records });
    expect(r.errors).toBeUndefined();
    expect(count(r.data)).toBe(first);
    return t.hub.db.statements.count - before;
  }

  it('lists 10, 100 and 1000 children with every department’s records in a bounded, size-independent number of statements', async () => {
    const rows = (d: any) => d.minors.edges.length;
    await statementsFor(PAGE, 10, rows); // warm-up
    // A page of 10 may hold no dropout report, prevention case or care plan, so their sub-records
    // (persuasion actions, follow-ups, visits) cost no statement at all; 100 and 1000 hold every kind.
    const ten = await statementsFor(PAGE, 10, rows);
    const hundred = await statementsFor(PAGE, 100, rows);
    // 1000 children with 20 (the default page) of each of twenty record lists could hold 1.6 million
    // values, more than the cost limit serves: that page asks for 5 of each.
    expect(await statementsFor(PAGE, 1000, rows, 5)).toBe(hundred);
    expect(ten).toBeLessThanOrEqual(hundred);
    // registry: page + guardians (a count only when `totalCount` is asked); per department: the
    // reference (jurisdiction) check + one per relation (education 5, police 4, justice 3, youth
    // league 4, women's federation 5).
    expect(hundred).toBe(2 + 5 * 1 + 21);
  });

  it('lists 10 and 100 police incidents with their children from the registry and the women’s federation alike', async () => {
    const rows = (d: any) => d.policeIncidents.nodes.length;
    const ten = await statementsFor(LIST, 10, rows);
    expect(await statementsFor(LIST, 100, rows)).toBe(ten);
  });
});
