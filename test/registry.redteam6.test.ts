import { Department } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

describe('registry reads by id (red team 6)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  it('answers a child asked for by its id in capitals, as every write accepts it, and records the read under the id as stored', async () => {
    const police = await t.token(Department.POLICE);
    const [m] = await t.sql(`SELECT id, name FROM registry.minor ORDER BY id OFFSET 5 LIMIT 1`);
    const query = `query($id: ID!) { minor(id: $id) { id name guardians { relationship } policeIncidents { id } } }`;
    const lower = await post(t, police, { query, variables: { id: m.id } });
    const upper = await post(t, police, { query, variables: { id: m.id.toUpperCase() } });
    expect(lower.json.data.minor).toMatchObject({ id: m.id, name: m.name });
    expect(upper.json).toEqual(lower.json);
    const [a, b] = [await eventOf(t, lower.requestId), await eventOf(t, upper.requestId)];
    expect(b.reads).toEqual(a.reads);
    expect(b.reads.map((r: { minorId: string }) => r.minorId)).toEqual([m.id]);

    // Outside the caller's jurisdiction it stays no child, in either case.
    const street = await t.token(Department.POLICE, { region: '330102001' });
    const [away] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code NOT LIKE '330102001%' ORDER BY id LIMIT 1`);
    for (const id of [away.id, away.id.toUpperCase()]) {
      expect((await post(t, street, { query: `query($id: ID!) { minor(id: $id) { id } }`, variables: { id } })).json).toEqual({ data: { minor: null } });
    }
  });
});
