import { Department } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

describe('registry writes (red team 3)', () => {
  let t: TestHub;
  let civil: string;
  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(Department.CIVIL_AFFAIRS);
  });
  afterAll(() => t.stop());

  const UPDATE = `mutation($id: ID!, $input: UpdateMinorInput!) { updateMinor(id: $id, input: $input) { name school currentAddress } }`;

  it('names in the event of an update only the fields it changed: not those given null, nor those given the value they held', async () => {
    const [m] = await t.sql(`SELECT id, name, current_address, household_registration FROM registry.minor ORDER BY id OFFSET 20 LIMIT 1`);
    const r = await post(t, civil, {
      query: UPDATE,
      variables: { id: m.id, input: { name: m.name, currentAddress: null, householdRegistration: null, school: '清波中学（红队）' } },
    });
    expect(r.json).toEqual({ data: { updateMinor: { name: m.name, school: '清波中学（红队）', currentAddress: m.current_address } } });
    expect((await eventOf(t, r.requestId)).changes).toEqual([{ fields: ['id', 'input.school'], id: m.id, minorId: m.id, mutation: 'updateMinor' }]);
    const [after] = await t.sql(`SELECT name, current_address, household_registration, school FROM registry.minor WHERE id = $1`, [m.id]);
    expect(after).toEqual({ name: m.name, current_address: m.current_address, household_registration: m.household_registration, school: '清波中学（红队）' });

    // A move and a new name given together are both named; the school given as it is, is not.
    const [{ code }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code <> (SELECT grid_code FROM registry.minor WHERE id = $1) ORDER BY code LIMIT 1`, [m.id]);
    const moved = await post(t, civil, { query: UPDATE, variables: { id: m.id, input: { name: '何小轩', school: '清波中学（红队）', gridCode: code } } });
    expect(moved.json.errors).toBeUndefined();
    expect((await eventOf(t, moved.requestId)).changes).toEqual([{ fields: ['id', 'input.gridCode', 'input.name'], id: m.id, minorId: m.id, mutation: 'updateMinor' }]);
  });
});
