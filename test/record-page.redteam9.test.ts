import { Department } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

const { POLICE: PO, EDUCATION: ED, JUSTICE: JU, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; 2026-0090' };
const DISTRICT = '330102';

type Read = { minorId: string; fields: Record<string, string> };
const readsOf = async (t: TestHub, requestId: string): Promise<Record<string, Record<string, string>>> =>
  Object.fromEntries(((await eventOf(t, requestId)).reads as Read[]).map((r) => [r.minorId, r.fields]));

/**
 * A department record page's `totalCount` under a filter is a read of the records it counts: in a
 * street of a few children, the number of SEXUAL_HARM incidents tells whose; varied by type,
 * status or window it tells each one. Selected alone it named no child and needed no purpose, so
 * the trail held nothing of the children it depended on. Like `minors { totalCount }`, it now
 * needs a purpose, records each counted record's child as read of what the filter tested, and
 * answers at most 1,001 ("more than 1,000"), recording none from 1,002 on.
 */
describe('a record page’s totalCount under a filter (red team 9)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  const childrenOf = async (where: string): Promise<string[]> =>
    (
      await t.sql(
        `SELECT DISTINCT i.minor_id FROM police.incident i JOIN registry.minor_jurisdiction j ON j.minor_id = i.minor_id AND j.grid_code LIKE '${DISTRICT}%' WHERE ${where}`,
      )
    )
      .map((r: { minor_id: string }) => r.minor_id)
      .sort();

  it('records each counted record’s child as read of the fields the filter tested, whatever page the count is asked on', async () => {
    const expected = await childrenOf(`i.type = 'SEXUAL_HARM'`);
    expect(expected.length).toBeGreaterThan(3);
    const token = await t.token(PO, { user: 'po-count' });
    const whole = await post(t, token, { query: `{ policeIncidents(filter: { types: [SEXUAL_HARM] }) { totalCount } }` }, PURPOSE);
    expect(whole.json.errors).toBeUndefined();
    const [{ n }] = await t.sql(
      `SELECT count(*)::int AS n FROM police.incident i JOIN registry.minor_jurisdiction j ON j.minor_id = i.minor_id AND j.grid_code LIKE '${DISTRICT}%' WHERE i.type = 'SEXUAL_HARM'`,
    );
    expect(whole.json.data.policeIncidents.totalCount).toBe(n);
    const reads = await readsOf(t, whole.requestId);
    expect(Object.keys(reads).sort()).toEqual(expected);
    for (const fields of Object.values(reads)) expect(fields).toEqual({ 'PoliceIncident.type': 'ALLOW' });

    // A page after the first: the count is still of every match, and so is what it read.
    const first = await post(t, token, { query: `{ policeIncidents(first: 2, filter: { types: [SEXUAL_HARM] }) { nextCursor } }` }, PURPOSE);
    const after = first.json.data.policeIncidents.nextCursor;
    const later = await post(t, token, { query: `query($a: String) { policeIncidents(first: 2, after: $a, filter: { types: [SEXUAL_HARM] }) { totalCount } }`, variables: { a: after } }, PURPOSE);
    expect(later.json.errors).toBeUndefined();
    expect(later.json.data.policeIncidents.totalCount).toBe(n);
    expect(Object.keys(await readsOf(t, later.requestId)).sort()).toEqual(expected);
  });

  // A page of one leaves the count to read the matches with a statement of its own, in every department.
  it.each([
    [PO, 'policeIncidents', '{ statuses: [REPORTED] }', 'PoliceIncident.status'],
    [ED, 'dropoutReports', '{ statuses: [OPEN] }', 'DropoutReport.status'],
    [JU, 'incarceratedParents', '{ statuses: [IN_CUSTODY] }', 'IncarceratedParent.status'],
    [YL, 'preventionCases', '{ statuses: [OPEN] }', 'PreventionCase.status'],
    [WF, 'carePlans', '{ statuses: [ACTIVE] }', 'CarePlan.status'],
  ])('%s: %s of one record counts and records every match, as the whole list names them', async (department, list, filter, field) => {
    const token = await t.token(department, { user: `one-${department}` });
    const all = await post(t, token, { query: `{ ${list}(first: 1000, filter: ${filter}) { nodes { minor { id } } } }` }, PURPOSE);
    expect(all.json.errors).toBeUndefined();
    const nodes = all.json.data[list].nodes as { minor: { id: string } }[];
    expect(nodes.length).toBeGreaterThan(1);
    const one = await post(t, token, { query: `{ ${list}(first: 1, filter: ${filter}) { totalCount } }` }, PURPOSE);
    expect(one.json.errors).toBeUndefined();
    expect(one.json.data[list].totalCount).toBe(nodes.length);
    const reads = await readsOf(t, one.requestId);
    expect(Object.keys(reads).sort()).toEqual([...new Set(nodes.map((n) => n.minor.id))].sort());
    for (const fields of Object.values(reads)) expect(fields).toEqual({ [field]: 'ALLOW' });
  });

  it.each([
    [PO, 'policeIncidents(filter: { statuses: [REPORTED] })'],
    [ED, 'dropoutReports(first: 3, filter: { statuses: [OPEN] })'],
  ])('%s: needs a purpose under a filter, refused on its own path, reading nothing', async (department, list) => {
    const root = list.slice(0, list.indexOf('('));
    const refused = await post(t, await t.token(department, { user: `count-${department}` }), { query: `{ ${list} { totalCount } }` }, {});
    expect(refused.status).toBe(200);
    expect(refused.json.errors.map((e: any) => [e.extensions.code, e.extensions.field, e.path])).toEqual([['BAD_USER_INPUT', 'x-purpose', [root, 'totalCount']]]);
    // The count alone is null, on its own path (nullable since red team 24): the page stands.
    expect(refused.json.data?.[root]).toEqual({ totalCount: null });
    expect((await eventOf(t, refused.requestId)).reads).toEqual([]);
  });

  it('needs none without a filter, which tests nothing: the count is exact and names no child', async () => {
    const r = await post(t, await t.token(PO), { query: `{ policeIncidents(first: 3) { totalCount } }` }, {});
    expect(r.json.errors).toBeUndefined();
    const [{ n }] = await t.sql(
      `SELECT count(*)::int AS n FROM police.incident i JOIN registry.minor_jurisdiction j ON j.minor_id = i.minor_id AND j.grid_code LIKE '${DISTRICT}%'`,
    );
    expect(r.json.data.policeIncidents.totalCount).toBe(n);
    expect((await eventOf(t, r.requestId)).reads).toEqual([]);
  });

  it('is exact up to 1,000 and “more than 1,000” (1,001) above, recording every child up to 1,001 matches, and from 1,002 on each child without whose matches no more than 1,000 would match', async () => {
    const matching = async () =>
      (
        await t.sql(
          `SELECT count(*)::int AS n FROM police.incident i JOIN registry.minor_jurisdiction j ON j.minor_id = i.minor_id AND j.grid_code LIKE '${DISTRICT}%' WHERE i.type = 'TRAFFICKING'`,
        )
      )[0].n as number;
    const addUpTo = async (total: number) => {
      const missing = total - (await matching());
      await t.sql(
        `INSERT INTO police.incident (id, minor_id, type, occurred_on, status, handling_unit, narrative)
         SELECT gen_random_uuid(), minor_id, 'TRAFFICKING', current_date - 1, 'REPORTED', '测试派出所', 'x'
         FROM (SELECT j.minor_id FROM registry.minor_jurisdiction j, generate_series(1, 5) WHERE j.grid_code LIKE '${DISTRICT}%' ORDER BY random() LIMIT $1) x`,
        [missing],
      );
      expect(await matching()).toBe(total);
    };
    const token = await t.token(PO, { user: 'po-cap' });
    const count = () => post(t, token, { query: `{ policeIncidents(first: 5, filter: { types: [TRAFFICKING] }) { totalCount } }` }, PURPOSE);
    // The children of at least `n` matches: without theirs, `total - n` match.
    const childrenOfAtLeast = async (n: number) =>
      (
        await t.sql(
          `SELECT i.minor_id FROM police.incident i JOIN registry.minor_jurisdiction j ON j.minor_id = i.minor_id AND j.grid_code LIKE '${DISTRICT}%'
            WHERE i.type = 'TRAFFICKING' GROUP BY i.minor_id HAVING count(*) >= $1`,
          [n],
        )
      )
        .map((r: { minor_id: string }) => r.minor_id)
        .sort();
    for (const [total, answer, deciding] of [
      [1000, 1000, 1],
      [1001, 1001, 1],
      // A child of two matches of 1,002 moves the answer from 1,000 to 1,001.
      [1002, 1001, 2],
      // None of 500: no child changes the answer.
      [1500, 1001, 500],
    ] as const) {
      await addUpTo(total);
      const r = await count();
      expect([total, r.json.errors, r.json.data.policeIncidents.totalCount]).toEqual([total, undefined, answer]);
      const reads = await readsOf(t, r.requestId);
      const expected = await childrenOfAtLeast(deciding);
      expect([total, expected.length > 0]).toEqual([total, total < 1500]);
      expect([total, Object.keys(reads).sort()]).toEqual([total, expected]);
      for (const fields of Object.values(reads)) expect(fields).toEqual({ 'PoliceIncident.type': 'ALLOW' });
    }
  });
});
