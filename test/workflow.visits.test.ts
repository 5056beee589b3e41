import { Department, Role } from '../src/auth/principal';
import { buildPolicy } from '../src/server/bootstrap';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';
import { expectAfterFilteredOut, expectAfterRefusedAlike, expectPagedToItsEnd, expectStatementsPerPageFlat, pagedIds, WorkflowList } from './support/workflow-pages';

const OVERDUE = `query($r: ID, $l: [RiskLevel!]) { overdueVisits(regionCode: $r, riskLevels: $l, first: 500) { minor { id } riskLevel gridCode nextVisitDue lastVisitAt daysOverdue responsibleWorker } }`;

/** 分级保护: the overdue-visit list per region and worker, and notifications for RED/ORANGE. */
describe('workflow: visit SLA', () => {
  let t: TestHub;
  const policy = buildPolicy();
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  it('lists exactly the children overdue in the region, most urgent level first, with the responsible worker', async () => {
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const r = await t.gql(civil, OVERDUE, { r: '330102001' });
    expect(r.errors).toBeUndefined();
    const truth = await t.sql(
      `SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' AND next_visit_due < now() AND risk_level IS NOT NULL`,
    );
    const list = r.data.overdueVisits;
    expect(list.map((v: any) => v.minor.id).sort()).toEqual(truth.map((x) => x.id).sort());
    const order = ['RED', 'ORANGE', 'YELLOW', 'BLUE'];
    for (let i = 1; i < list.length; i++) expect(order.indexOf(list[i].riskLevel)).toBeGreaterThanOrEqual(order.indexOf(list[i - 1].riskLevel));
    for (const v of list) {
      expect(v.gridCode.startsWith('330102001')).toBe(true);
      expect(v.daysOverdue).toBeGreaterThanOrEqual(0);
      expect(v.responsibleWorker).toEqual(expect.any(String));
    }
  });

  it('records what the list tested as read of each child it names: overdue, and of the levels asked', async () => {
    const r = await post(t, await t.token(Department.CIVIL_AFFAIRS), { query: `{ overdueVisits(riskLevels: [RED, RED], first: 500) { minor { id } } }` });
    const named: string[] = r.json.data.overdueVisits.map((v: { minor: { id: string } }) => v.minor.id);
    expect(named.length).toBeGreaterThan(0);
    const reads = (await eventOf(t, r.requestId)).reads as { minorId: string; fields: Record<string, string> }[];
    expect(reads.map((x) => x.minorId).sort()).toEqual([...named].sort());
    for (const x of reads) expect(x.fields).toMatchObject({ 'Minor.nextVisitDue': 'ALLOW', 'Minor.riskLevel': 'ALLOW', 'OverdueVisit.minor': 'ALLOW' });
  });

  it('keeps the list inside the caller’s jurisdiction', async () => {
    const street = await t.token(Department.POLICE, { region: '330102001' });
    const r = await t.gql(street, OVERDUE, { l: ['RED'] });
    expect(r.errors).toBeUndefined();
    expect(r.data.overdueVisits.length).toBeGreaterThan(0);
    expect(r.data.overdueVisits.every((v: any) => v.gridCode.startsWith('330102001') && v.riskLevel === 'RED')).toBe(true);
    const outside = await t.gql(street, OVERDUE, { r: '330102002' });
    expect(errorCodes(outside)).toEqual(['BAD_USER_INPUT']);
    expect(outside.errors![0].extensions!.field).toBe('regionCode');
    expect(errorCodes(await t.gql(await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD }), OVERDUE, {}))).toEqual(['FORBIDDEN']);
  });

  it('is answered only to those who read the visit history (Visit.visitedAt): its due dates, and when a child joins it, tell the last visit', async () => {
    const q = `{ overdueVisits(first: 500) { minor { id } lastVisitAt } }`;
    const visited = await t.sql(
      `SELECT m.id, max(v.visited_at) AS at FROM registry.minor m JOIN registry.visit v ON v.minor_id = m.id
        WHERE m.next_visit_due < now() AND m.risk_level IS NOT NULL GROUP BY m.id`,
    );
    const last = new Map(visited.map((v) => [v.id, v.at.toISOString()]));
    const civil = await t.gql(await t.token(Department.CIVIL_AFFAIRS), q);
    expect(civil.errors).toBeUndefined();
    expect(civil.data.overdueVisits.filter((v: any) => last.has(v.minor.id)).length).toBeGreaterThan(0);
    for (const v of civil.data.overdueVisits) expect(v.lastVisitAt).toBe(last.get(v.minor.id) ?? null);
    for (const d of [Department.EDUCATION, Department.YOUTH_LEAGUE]) {
      const r = await t.gql(await t.token(d), `{ overdueVisits(first: 500) { minor { id } riskLevel } }`);
      expect([r.data?.overdueVisits, errorCodes(r), r.errors![0].path]).toEqual([null, ['FORBIDDEN'], ['overdueVisits']]);
    }
  });

  describe('paging', () => {
    const STREET = '330102001';
    const PAGE = `query($first: Int!, $after: ID, $r: ID, $l: [RiskLevel!]) { overdueVisits(regionCode: $r, riskLevels: $l, first: $first, after: $after) { minor { id } riskLevel nextVisitDue } }`;
    const ORDER = `array_position(ARRAY['RED','ORANGE','YELLOW','BLUE'], risk_level), next_visit_due, id`;
    const overdue = (where: string) =>
      t.sql(`SELECT id FROM registry.minor WHERE next_visit_due < now() AND registry.is_minor(birth_date, now()) AND risk_level IS NOT NULL AND ${where} ORDER BY ${ORDER}`);
    const list = (token: string, variables: Record<string, unknown> = {}): WorkflowList => ({
      t,
      token,
      query: PAGE,
      list: 'overdueVisits',
      idOf: (v) => v.minor.id,
      variables,
    });

    it('goes on after the child a page ended with, to the end of the list: past 500 in the district, through children of one level and due date', async () => {
      // Three children of one level due at the same instant: the order breaks their tie by id.
      const [a, b, c] = await overdue(`grid_code LIKE '${STREET}%' AND risk_level = 'ORANGE'`);
      await t.sql(`UPDATE registry.minor SET next_visit_due = (SELECT min(next_visit_due) FROM registry.minor WHERE id = ANY($1)) WHERE id = ANY($1)`, [[a.id, b.id, c.id]]);
      const civil = await t.token(Department.CIVIL_AFFAIRS);
      const street = await expectPagedToItsEnd(list(civil, { r: STREET }));
      expect(street).toEqual((await overdue(`grid_code LIKE '${STREET}%'`)).map((m) => m.id));
      const tied = [a.id, b.id, c.id].sort();
      expect(street.slice(street.indexOf(tied[0]), street.indexOf(tied[0]) + 3)).toEqual(tied);
      const district = (await overdue('TRUE')).map((m) => m.id);
      expect(district.length).toBeGreaterThan(500);
      expect(await pagedIds(list(civil), 500)).toEqual(district);
      expect(await expectPagedToItsEnd(list(civil, { r: STREET, l: ['ORANGE', 'BLUE'] }))).toEqual(
        (await overdue(`grid_code LIKE '${STREET}%' AND risk_level IN ('ORANGE', 'BLUE')`)).map((m) => m.id),
      );
    });

    it('records the child it goes on after as tested, as each child it names: that it is still overdue, of a level asked', async () => {
      const [first, second, third] = (await overdue(`grid_code LIKE '${STREET}%' AND risk_level = 'RED'`)).map((m) => m.id);
      const r = await post(t, await t.token(Department.CIVIL_AFFAIRS), { query: PAGE, variables: { first: 2, after: first, r: STREET, l: ['RED'] } });
      expect(r.json.data.overdueVisits.map((v: { minor: { id: string } }) => v.minor.id)).toEqual([second, third]);
      const reads = (await eventOf(t, r.requestId)).reads as { minorId: string; fields: Record<string, string> }[];
      expect(reads.map((x) => x.minorId).sort()).toEqual([first, second, third].sort());
      expect(reads.find((x) => x.minorId === first)!.fields).toEqual({ 'Minor.nextVisitDue': 'ALLOW', 'Minor.grid': 'ALLOW', 'Minor.riskLevel': 'ALLOW' });
    });

    it('refuses a child the list does not name as a random id: of another street, of a level not asked, not overdue, no id', async () => {
      const street = await t.token(Department.CIVIL_AFFAIRS, { region: STREET });
      const [elsewhere] = await overdue(`grid_code NOT LIKE '${STREET}%'`);
      const [orange] = await overdue(`grid_code LIKE '${STREET}%' AND risk_level = 'ORANGE'`);
      const [onTime] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND next_visit_due > now() LIMIT 1`);
      await expectAfterRefusedAlike(list(street, { l: ['RED', 'YELLOW'] }), [elsewhere.id]);
      await expectAfterFilteredOut(
        list(street, { l: ['RED', 'YELLOW'] }),
        [orange, onTime].map(({ id }) => ({ id, minorId: id })),
        { 'Minor.nextVisitDue': 'ALLOW', 'Minor.riskLevel': 'ALLOW' },
      );
    });

    it('reads a page in the same statements whatever its size', async () => {
      const civil = await t.token(Department.CIVIL_AFFAIRS);
      const [start] = await overdue('TRUE');
      await expectStatementsPerPageFlat(list(civil), start.id);
    });
  });

  it('raises one notification to civil affairs per overdue RED or ORANGE child and due date', async () => {
    const now = new Date();
    await runEscalations(t.hub.db.ds, t.config, policy, now);
    const expected = await t.sql(`SELECT id, grid_code FROM registry.minor WHERE risk_level IN ('RED','ORANGE') AND next_visit_due < $1`, [now]);
    const told = await t.sql(`SELECT minor_id, department, region_code, payload FROM workflow.notification WHERE kind = 'VISIT_OVERDUE'`);
    expect(told.map((n) => n.minor_id).sort()).toEqual(expected.map((m) => m.id).sort());
    expect(told.every((n) => n.department === 'CIVIL_AFFAIRS')).toBe(true);
    const grid = Object.fromEntries(expected.map((m) => [m.id, m.grid_code]));
    for (const n of told) {
      expect(n.region_code).toBe(grid[n.minor_id]);
      expect(['RED', 'ORANGE']).toContain(n.payload['Minor.riskLevel']);
    }
    await runEscalations(t.hub.db.ds, t.config, policy, new Date(now.getTime() + 60_000));
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE kind = 'VISIT_OVERDUE'`))[0].n).toBe(told.length);
  });
  it('tells every overdue RED/ORANGE child in one run, however many there are, and none twice', async () => {
    // More than the job's batch (500) overdue and not yet told: it used to read the same first 500 every run.
    await t.sql(
      `UPDATE registry.minor SET risk_level = 'RED', next_visit_due = now() - interval '3 days'
        WHERE id IN (SELECT id FROM registry.minor ORDER BY id LIMIT 1200)`,
    );
    const now = new Date();
    const untold = async () =>
      (await t.sql(
        `SELECT count(*)::int AS n FROM registry.minor m WHERE m.risk_level IN ('RED','ORANGE') AND m.next_visit_due < $1
           AND NOT EXISTS (SELECT 1 FROM workflow.notification n WHERE n.kind = 'VISIT_OVERDUE' AND n.minor_id = m.id AND n.payload->>'Minor.nextVisitDue' = to_char(m.next_visit_due AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`,
        [now],
      ))[0].n;
    expect(await untold()).toBeGreaterThan(1000);
    const first = await runEscalations(t.hub.db.ds, t.config, policy, now);
    expect(await untold()).toBe(0);
    expect(first.overdueVisits).toBeGreaterThan(1000);
    const count = async () => (await t.sql(`SELECT count(*)::int AS n, count(DISTINCT dedupe_key)::int AS k FROM workflow.notification WHERE kind = 'VISIT_OVERDUE'`))[0];
    const after = await count();
    expect(after.n).toBe(after.k);
    const again = await runEscalations(t.hub.db.ds, t.config, policy, new Date(now.getTime() + 60_000));
    expect(again.overdueVisits).toBe(0);
    expect(await count()).toEqual(after);
  });
});
