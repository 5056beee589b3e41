import { answerRows, Call, HUB, loadAnswered, Sample } from '../bench/scenarios';
import { Department } from '../src/auth/principal';
import { DEMO_ROOT_REGION } from '../src/subgraphs/registry/registry.constants';
import { startTestHub, TestHub } from './support/test-hub';

/**
 * bench/run.ts measures a scenario at the rate its server answers: an answer holding nothing (a child
 * refused as unknown, an empty page) or a 200 carrying GraphQL errors is as fast as it is useless.
 * Before measuring, the harness checked only that one answer had no `errors` and a `data` — and
 * `{ data: { minor: null } }` has one — and under load it counted a 200 with errors as served.
 */
describe('bench scenarios: what counts as an answer', () => {
  const single = HUB.single as Call;

  it('refuses an answer that holds no record, a partial answer, and a refusal', () => {
    const id = '00000000-0000-4000-8000-000000000001';
    expect(answerRows(single, 200, JSON.stringify({ data: { minor: { id, name: 'x' } } }))).toEqual([`${id} x`]);
    expect(() => answerRows(single, 200, JSON.stringify({ data: { minor: null } }))).toThrow(/no record/);
    expect(() => answerRows(HUB.page(100), 200, JSON.stringify({ data: { minors: { edges: [] } } }))).toThrow(/no record/);
    expect(() => answerRows(single, 200, JSON.stringify({ data: { minor: { id, name: 'x' } }, errors: [{ message: 'refused' }] }))).toThrow(/refused/);
    expect(() => answerRows(single, 200, JSON.stringify({ data: null, errors: [{ message: 'refused' }] }))).toThrow();
    expect(() => answerRows(single, 401, JSON.stringify({ errors: [{ message: 'no' }] }))).toThrow(/401/);
    expect(() => answerRows(single, 200, 'oops')).toThrow(/not JSON/);
  });

  it('counts a 200 carrying GraphQL errors or holding nothing as not answered under load, and a value quoting "errors" as answered', () => {
    expect(loadAnswered(JSON.stringify({ data: { minor: null }, errors: [{ message: 'x' }] }))).toBe(false);
    expect(loadAnswered(JSON.stringify({ errors: [{ message: 'x' }] }))).toBe(false);
    expect(loadAnswered(JSON.stringify({ data: { minor: { name: '"errors": []' } } }))).toBe(true);
    // An answer holding nothing, as each server gives one.
    for (const data of [{ minor: null }, { minors: { edges: [] } }, { minorById: null }, { allMinors: { nodes: [] } }, null, []]) expect(loadAnswered(JSON.stringify({ data }))).toBe(false);
    for (const data of [{ minor: { id: 'x' } }, { minors: { edges: [{ node: { id: 'x' } }] } }, [{ id: 'x' }], { minorCounts: { total: { value: 1 }, cells: [] } }])
      expect(loadAnswered(JSON.stringify({ data }))).toBe(true);
  });

  describe('against a hub', () => {
    let t: TestHub;
    let sample: Sample;
    beforeAll(async () => {
      t = await startTestHub();
      const ids = (await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id LIMIT 5`, [`${DEMO_ROOT_REGION}%`])).map((r) => r.id);
      const cases = (
        await t.sql(`SELECT DISTINCT r.minor_id FROM workflow.mandatory_report r JOIN registry.minor m ON m.id = r.minor_id WHERE m.grid_code LIKE $1 LIMIT 5`, [`${DEMO_ROOT_REGION}%`])
      ).map((r) => r.minor_id);
      const grids = (
        await t.sql(`SELECT grid_code FROM registry.minor WHERE grid_code LIKE $1 GROUP BY grid_code ORDER BY count(*) DESC LIMIT 3`, [`${DEMO_ROOT_REGION}%`])
      ).map((r) => r.grid_code);
      sample = { ids, cases, grids, region: DEMO_ROOT_REGION };
    });
    afterAll(() => t?.stop());

    const ask = async (call: Call, department: Department, i = 0, region = DEMO_ROOT_REGION) => {
      const res = await fetch(t.hub.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(department, { region })}`, 'x-purpose': 'CASE_HANDLING' },
        body: JSON.stringify(call.body(sample, i)),
      });
      return answerRows(call, res.status, await res.text());
    };

    it("answers each of the benchmark's scenarios with records, as the benchmark asks them", async () => {
      expect(sample.ids.length && sample.cases.length && sample.grids.length).toBeTruthy();
      expect(await ask(single, Department.POLICE)).toEqual([expect.stringContaining(sample.ids[0])]);
      for (const first of [10, 100, 1000]) expect((await ask(HUB.page(first), Department.CIVIL_AFFAIRS)).length).toBeGreaterThan(0);
      expect(await ask(HUB.crossDepartment as Call, Department.CIVIL_AFFAIRS)).toEqual([expect.stringContaining(sample.cases[0])]);
      expect((await ask(HUB.federatedPage as Call, Department.CIVIL_AFFAIRS)).length).toBeGreaterThan(0);
      expect((await ask(HUB.aggregate as Call, Department.CIVIL_AFFAIRS)).length).toBeGreaterThan(0);
    });

    it("refuses, as the harness now does, the answer about a child outside the caller's jurisdiction: no error, no record", async () => {
      const [{ grid_code: grid }] = await t.sql(`SELECT grid_code FROM registry.minor WHERE id = $1`, [sample.ids[0]]);
      const [{ code: elsewhere }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'STREET' AND code <> $1 AND code LIKE $2 LIMIT 1`, [grid.slice(0, 9), `${DEMO_ROOT_REGION}%`]);
      await expect(ask(single, Department.POLICE, 0, elsewhere)).rejects.toThrow(/no record/);
      // And under load: a 200 without errors, which autocannon counts as served.
      const res = await fetch(t.hub.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(Department.POLICE, { region: elsewhere })}`, 'x-purpose': 'CASE_HANDLING' },
        body: JSON.stringify(single.body(sample, 0)),
      });
      const body = await res.text();
      expect([res.status, loadAnswered(body)]).toEqual([200, false]);
    });
  });
});
