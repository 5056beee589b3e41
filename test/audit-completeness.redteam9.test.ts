import { Department } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

/**
 * What an answer tells of a child without the field being selected must still be in the request's
 * event: the trail is where a data officer reads who learnt what of which child.
 */
describe('audit completeness (redteam 9)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_WORKFLOW_JOB_INTERVAL_MS: '0' } });
  });
  afterAll(() => t.stop());

  it('records the risk level of each child overdueVisits lists: the list is ordered by it, most urgent first', async () => {
    // Only the ids selected, no level asked: the order alone ranks the children by level.
    const r = await post(t, await t.token(Department.CIVIL_AFFAIRS), { query: `{ overdueVisits(first: 500) { minor { id } } }` });
    const named: string[] = r.json.data.overdueVisits.map((v: { minor: { id: string } }) => v.minor.id);
    const levels = await t.sql(`SELECT DISTINCT risk_level FROM registry.minor WHERE id = ANY($1)`, [named]);
    expect(levels.length).toBeGreaterThan(1);
    const reads = (await eventOf(t, r.requestId)).reads as { minorId: string; fields: Record<string, string> }[];
    expect(reads.map((x) => x.minorId).sort()).toEqual([...named].sort());
    for (const x of reads) expect(x.fields).toMatchObject({ 'Minor.riskLevel': 'ALLOW', 'Minor.nextVisitDue': 'ALLOW' });
  });
});
