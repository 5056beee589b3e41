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
