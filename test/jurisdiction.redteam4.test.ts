import { Department } from '../src/auth/principal';
import { buildPolicy } from '../src/server/bootstrap';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { startTestHub, TestHub } from './support/test-hub';

/** A child who moves: what the region it moves to is told of it (red team 4). */
describe('a child who moves at RED or ORANGE while overdue for a visit', () => {
  let t: TestHub;
  const policy = buildPolicy();
  const STREET = '330102001';
  const OTHER_STREET = '330102002';

  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  it('is told to civil affairs of its new grid by the next run, once; the old grid keeps its notice, naming no child', async () => {
    const [child] = await t.sql(`SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id LIMIT 1`, [`${STREET}%`]);
    await t.sql(`UPDATE registry.minor SET risk_level = 'RED', next_visit_due = now() - interval '3 days' WHERE id = $1`, [child.id]);
    const [{ code: elsewhere }] = await t.sql(`SELECT code FROM registry.region WHERE code LIKE $1 AND level = 'GRID' ORDER BY code LIMIT 1`, [`${OTHER_STREET}%`]);
    const told = () => t.sql(`SELECT region_code, count(*)::int AS n FROM workflow.notification WHERE kind = 'VISIT_OVERDUE' AND minor_id = $1 GROUP BY 1 ORDER BY 1`, [child.id]);
    const inbox = async (region: string) => {
      const r = await t.gql(await t.token(Department.CIVIL_AFFAIRS, { region }), `{ notifications(first: 500) { kind minor { id } payload { field } } }`);
      expect(r.errors).toBeUndefined();
      return r.data.notifications.filter((n: any) => n.kind === 'VISIT_OVERDUE' && n.minor?.id === child.id);
    };

    const now = Date.now();
    await runEscalations(t.hub.db.ds, t.config, policy, new Date(now));
    expect(await told()).toEqual([{ region_code: child.grid_code, n: 1 }]);

    // Moved by the district, still overdue by the same due date at the same level.
    const moved = await t.gql(await t.token(Department.CIVIL_AFFAIRS), `mutation($id: ID!, $g: ID!) { updateMinor(id: $id, input: { gridCode: $g }) { id } }`, { id: child.id, g: elsewhere });
    expect(moved.errors).toBeUndefined();
    await runEscalations(t.hub.db.ds, t.config, policy, new Date(now + 60_000));
    expect(await told()).toEqual([
      { region_code: child.grid_code, n: 1 },
      { region_code: elsewhere, n: 1 },
    ]);
    // The new street's civil affairs is told of the child; the street it left reads its notice without it.
    expect(await inbox(OTHER_STREET)).toEqual([{ kind: 'VISIT_OVERDUE', minor: { id: child.id }, payload: expect.arrayContaining([{ field: 'Minor.nextVisitDue' }]) }]);
    expect(await inbox(STREET)).toEqual([]);

    // Once per grid and due date: a later run tells no one again; nor does moving back to a grid already told.
    await runEscalations(t.hub.db.ds, t.config, policy, new Date(now + 120_000));
    expect((await t.gql(await t.token(Department.CIVIL_AFFAIRS), `mutation($id: ID!, $g: ID!) { updateMinor(id: $id, input: { gridCode: $g }) { id } }`, { id: child.id, g: child.grid_code })).errors).toBeUndefined();
    await runEscalations(t.hub.db.ds, t.config, policy, new Date(now + 180_000));
    expect(await told()).toEqual([
      { region_code: child.grid_code, n: 1 },
      { region_code: elsewhere, n: 1 },
    ]);
  });
});
