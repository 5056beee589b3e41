import { randomUUID } from 'node:crypto';
import { Department } from '../src/auth/principal';
import { buildPolicy } from '../src/server/bootstrap';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { startTestHub, TestHub } from './support/test-hub';

/**
 * A rolling deploy: the release before (0a92024, 5b29245) keeps serving and running its jobs on the
 * database this release has just migrated, and so does one rolled back to. What it writes is
 * written as its code wrote it — the statement of its emitNotification, copied here.
 */
describe('upgrade: the release before writing beside this one', () => {
  let t: TestHub;
  const policy = buildPolicy();
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  /** The release before's emitNotification, one department: its ids of the rows it inserted. */
  const toldByReleaseBefore = async (n: { kind: string; department: string; region: string; minorId: string; payload: Record<string, unknown>; dedupeKey: string }) =>
    (
      await t.sql(
        `INSERT INTO workflow.notification (id, kind, department, region_code, minor_id, subject_id, payload, created_at, dedupe_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
        [randomUUID(), n.kind, n.department, n.region, n.minorId, null, JSON.stringify(n.payload), new Date(), `${n.dedupeKey}:${n.department}`],
      )
    ).map((r: { id: string }) => r.id);

  /** The release before's VISIT_OVERDUE of a child as its job told it: keyed by child and due date, at the child's grid. */
  const overdueByReleaseBefore = (c: { id: string; grid_code: string; risk_level: string; next_visit_due: Date }) =>
    toldByReleaseBefore({
      kind: 'VISIT_OVERDUE',
      department: Department.CIVIL_AFFAIRS,
      region: c.grid_code,
      minorId: c.id,
      payload: { 'Minor.riskLevel': c.risk_level, 'Minor.nextVisitDue': c.next_visit_due, 'OverdueVisit.responsibleWorker': null },
      dedupeKey: `VISIT_OVERDUE:${c.id}:${new Date(c.next_visit_due).toISOString()}`,
    });

  const overdueNotices = async (minorId: string) =>
    (await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE kind = 'VISIT_OVERDUE' AND minor_id = $1`, [minorId]))[0].n;

  it('tells no child overdue twice: neither one this release told, nor one the release before told after the migration', async () => {
    const now = new Date();
    await runEscalations(t.hub.db.ds, t.config, policy, now);
    // Told by this release: the release before, looking for its own form of the key, finds none.
    const [told] = await t.sql(
      `SELECT m.id, m.grid_code, m.risk_level, m.next_visit_due FROM registry.minor m
        WHERE m.risk_level IN ('RED', 'ORANGE') AND m.next_visit_due < $1 ORDER BY m.id LIMIT 1`,
      [now],
    );
    expect(await overdueNotices(told.id)).toBe(1);
    expect(await overdueByReleaseBefore(told)).toEqual([]);
    expect(await overdueNotices(told.id)).toBe(1);

    // Told first by the release before: this release's job does not tell it again.
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor WHERE risk_level = 'BLUE' AND next_visit_due > $1 ORDER BY id LIMIT 1`, [now]);
    await t.sql(`UPDATE registry.minor SET risk_level = 'RED', next_visit_due = $2::timestamptz - interval '2 days' WHERE id = $1`, [id, now]);
    const [fresh] = await t.sql(`SELECT id, grid_code, risk_level, next_visit_due FROM registry.minor WHERE id = $1`, [id]);
    expect(await overdueByReleaseBefore(fresh)).toHaveLength(1);
    const again = await runEscalations(t.hub.db.ds, t.config, policy, new Date(now.getTime() + 60_000));
    expect(again.overdueVisits).toBe(0);
    expect(await overdueNotices(fresh.id)).toBe(1);
    // And the release before, asked again, tells it no more.
    expect(await overdueByReleaseBefore(fresh)).toEqual([]);
    expect(await overdueNotices(fresh.id)).toBe(1);
  });

  it('a guardianship failure the release before told is not told again when the category is given again on its day in the same grid', async () => {
    const [child] = await t.sql(
      `SELECT id, grid_code FROM registry.minor m
        WHERE NOT EXISTS (SELECT 1 FROM registry.minor_category c WHERE c.minor_id = m.id AND c.category = 'LACK_OF_GUARDIANSHIP')
          AND birth_date < '2026-01-01' ORDER BY id LIMIT 1`,
    );
    const day = '2026-11-02';
    // As the release before recorded it: the category, and a notification per department keyed without the grid.
    await t.sql(`INSERT INTO registry.minor_category (minor_id, category, identified_at) VALUES ($1, 'LACK_OF_GUARDIANSHIP', $2)`, [child.id, day]);
    for (const department of [Department.CIVIL_AFFAIRS, Department.POLICE, Department.WOMENS_FEDERATION]) {
      expect(
        await toldByReleaseBefore({
          kind: 'GUARDIANSHIP_FAILURE',
          department,
          region: child.grid_code,
          minorId: child.id,
          payload: { 'MinorCategory.category': 'LACK_OF_GUARDIANSHIP', 'MinorCategory.identifiedAt': day },
          dedupeKey: `GUARDIANSHIP_FAILURE:${child.id}:LACK_OF_GUARDIANSHIP:${day}`,
        }),
      ).toHaveLength(1);
    }
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const removed = await t.gql(civil, `mutation($m: ID!) { removeCategory(minorId: $m, category: LACK_OF_GUARDIANSHIP) { id } }`, { m: child.id });
    expect(removed.errors).toBeUndefined();
    const given = await t.gql(civil, `mutation($m: ID!, $d: String) { addCategory(minorId: $m, category: LACK_OF_GUARDIANSHIP, identifiedAt: $d) { id } }`, { m: child.id, d: day });
    expect(given.errors).toBeUndefined();
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE kind = 'GUARDIANSHIP_FAILURE' AND minor_id = $1`, [child.id]))[0].n).toBe(3);
  });

  it('a notification the release before writes with the ID number’s old mask is stored and served with the region code alone', async () => {
    const [child] = await t.sql(`SELECT id, id_number, name, grid_code FROM registry.minor ORDER BY id LIMIT 1`);
    const old = child.id_number.slice(0, 6) + '*'.repeat(8) + child.id_number.slice(-4);
    const [school] = await toldByReleaseBefore({
      kind: 'CHILD_RED',
      department: Department.EDUCATION,
      region: child.grid_code,
      minorId: child.id,
      payload: { 'Minor.name': child.name, 'Minor.idNumber': old },
      dedupeKey: `CHILD_RED:${randomUUID()}`,
    });
    const [police] = await toldByReleaseBefore({
      kind: 'CHILD_RED',
      department: Department.POLICE,
      region: child.grid_code,
      minorId: child.id,
      payload: { 'Minor.name': child.name, 'Minor.idNumber': child.id_number },
      dedupeKey: `CHILD_RED:${randomUUID()}`,
    });
    const stored = Object.fromEntries(
      (await t.sql(`SELECT id, payload->>'Minor.idNumber' AS shown FROM workflow.notification WHERE id = ANY($1)`, [[school, police]])).map((r: { id: string; shown: string }) => [r.id, r.shown]),
    );
    expect(stored).toEqual({ [school]: child.id_number.slice(0, 6) + '*'.repeat(12), [police]: child.id_number });

    const r = await t.gql(await t.token(Department.EDUCATION), `{ notifications(first: 100) { id payload { field value } } }`);
    expect(r.errors).toBeUndefined();
    const served = r.data.notifications.find((n: { id: string }) => n.id === school);
    expect(served.payload).toContainEqual({ field: 'Minor.idNumber', value: child.id_number.slice(0, 6) + '*'.repeat(12) });
  });
});
