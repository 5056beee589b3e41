import { Department } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
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

  it.each(['1------', '0-0-0-0-0-0', '13900001111-', '-13900001111', '139--0000-1111', '+-13900001111', '123456'])(
    'refuses %s as a guardian’s phone, writing nothing',
    async (phone) => {
      const [m] = await t.sql(`SELECT id FROM registry.minor ORDER BY id OFFSET 21 LIMIT 1`);
      const guardians = async () => (await t.sql(`SELECT count(*)::int AS n FROM registry.guardian WHERE minor_id = $1`, [m.id]))[0].n;
      const before = await guardians();
      const r = await t.gql(civil, `mutation($id: ID!, $p: String) { addGuardian(minorId: $id, input: { relationship: FATHER, name: "张三", phone: $p }) { id } }`, { id: m.id, p: phone });
      expect(r.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['BAD_USER_INPUT', 'phone: must be a phone number']]);
      expect(await guardians()).toBe(before);
    },
  );

  it.each(['13900001803', '0571-87001234', '+8613900001803', '+86-139-0000-1803', '0571-87001234-801', '87001234'])('accepts %s as a guardian’s phone', async (phone) => {
    const [m] = await t.sql(`SELECT id FROM registry.minor ORDER BY id OFFSET 22 LIMIT 1`);
    await t.sql(`DELETE FROM registry.guardian WHERE minor_id = $1`, [m.id]);
    const r = await t.gql(civil, `mutation($id: ID!, $p: String) { addGuardian(minorId: $id, input: { relationship: FATHER, name: "张三", phone: $p }) { phone } }`, { id: m.id, p: phone });
    expect(r.errors).toBeUndefined();
    expect(r.data.addGuardian.phone).toBe(phone);
  });

  it('follows the graver of two assessments dated the same instant, whichever was recorded first: level, due date, latest assessment, CHILD_RED', async () => {
    const [{ code }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' ORDER BY code LIMIT 1`);
    const ASSESS = `mutation($id: ID!, $l: RiskLevel!) { recordAssessment(minorId: $id, input: { level: $l, reasons: "同日评估", assessedAt: "2026-11-02T00:00:00+08:00" }) { id } }`;
    // Eight children, four each way round: ordered by their random ids, about half had kept the YELLOW.
    for (let i = 0; i < 8; i++) {
      const created = await t.gql(civil, `mutation($input: CreateMinorInput!) { createMinor(input: $input) { id } }`, {
        input: { name: '同日', idNumber: buildIdNumber('330102', '2016-05-0' + (i + 1), 501 + 2 * i), householdRegistration: '浙江省杭州市上城区', currentAddress: '浙江省杭州市上城区清波街道1号', gridCode: code },
      });
      const id = created.data.createMinor.id;
      const order = i % 2 ? ['RED', 'YELLOW'] : ['YELLOW', 'RED'];
      const ids: Record<string, string> = {};
      for (const l of order) ids[l] = (await t.gql(civil, ASSESS, { id, l })).data.recordAssessment.id;
      const q = await t.gql(civil, `query($id: ID!) { minor(id: $id) { riskLevel nextVisitDue latestAssessment { id } assessments { level } } }`, { id });
      expect(q.data.minor).toEqual({
        riskLevel: 'RED',
        nextVisitDue: '2026-11-01T16:00:00.000Z',
        latestAssessment: { id: ids.RED },
        assessments: [{ level: 'RED' }, { level: 'YELLOW' }],
      });
      expect(await t.sql(`SELECT DISTINCT subject_id FROM workflow.notification WHERE kind = 'CHILD_RED' AND minor_id = $1`, [id])).toEqual([{ subject_id: ids.RED }]);
    }
  });

  it('tells the departments of a RED child’s new grid when it is assessed RED there, once; not its old grid again', async () => {
    const [m] = await t.sql(`SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE '330102001%' AND risk_level IS DISTINCT FROM 'RED' ORDER BY id OFFSET 3 LIMIT 1`);
    const [{ code }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '330102002%' ORDER BY code LIMIT 1`);
    const RED = `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: RED, reasons: "立即干预" }) { id } }`;
    const told = () => t.sql(`SELECT region_code, count(*)::int AS n FROM workflow.notification WHERE kind = 'CHILD_RED' AND minor_id = $1 GROUP BY region_code ORDER BY region_code`, [m.id]);
    expect((await t.gql(civil, RED, { id: m.id })).errors).toBeUndefined();
    expect(await told()).toEqual([{ region_code: m.grid_code, n: 4 }]);
    // Again RED where it was told: not newly RED to anyone there.
    expect((await t.gql(civil, RED, { id: m.id })).errors).toBeUndefined();
    expect(await told()).toEqual([{ region_code: m.grid_code, n: 4 }]);

    expect((await t.gql(civil, `mutation($id: ID!, $g: ID!) { updateMinor(id: $id, input: { gridCode: $g }) { id } }`, { id: m.id, g: code })).errors).toBeUndefined();
    const assessed = await t.gql(civil, RED, { id: m.id });
    expect(assessed.errors).toBeUndefined();
    expect(await told()).toEqual([{ region_code: m.grid_code, n: 4 }, { region_code: code, n: 4 }]);
    const police = await t.token(Department.POLICE, { region: '330102002' });
    const inbox = await t.gql(police, `{ notifications(first: 50) { kind minor { id } } }`);
    expect(inbox.data.notifications.filter((n: any) => n.minor?.id === m.id)).toEqual([{ kind: 'CHILD_RED', minor: { id: m.id } }]);
    expect((await t.gql(civil, RED, { id: m.id })).errors).toBeUndefined();
    expect(await told()).toEqual([{ region_code: m.grid_code, n: 4 }, { region_code: code, n: 4 }]);
  });

  it('tells a guardianship-failure category given again after the child moved to the departments of its new grid, on the same identified day', async () => {
    const [m] = await t.sql(`SELECT id, grid_code FROM registry.minor m WHERE grid_code LIKE '330102001%' AND NOT EXISTS (SELECT 1 FROM registry.minor_category c WHERE c.minor_id = m.id AND c.category = 'LACK_OF_GUARDIANSHIP') ORDER BY id OFFSET 5 LIMIT 1`);
    const [{ code }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '330102002%' ORDER BY code LIMIT 1`);
    const ADD = `mutation($id: ID!) { addCategory(minorId: $id, category: LACK_OF_GUARDIANSHIP, identifiedAt: "2026-06-01") { id } }`;
    const REMOVE = `mutation($id: ID!) { removeCategory(minorId: $id, category: LACK_OF_GUARDIANSHIP) { id } }`;
    const told = () => t.sql(`SELECT region_code, count(*)::int AS n FROM workflow.notification WHERE kind = 'GUARDIANSHIP_FAILURE' AND minor_id = $1 GROUP BY region_code ORDER BY region_code`, [m.id]);
    expect((await t.gql(civil, ADD, { id: m.id })).errors).toBeUndefined();
    // Removed and given again where it was told: told once.
    expect((await t.gql(civil, REMOVE, { id: m.id })).errors).toBeUndefined();
    expect((await t.gql(civil, ADD, { id: m.id })).errors).toBeUndefined();
    expect(await told()).toEqual([{ region_code: m.grid_code, n: 3 }]);
    expect((await t.gql(civil, REMOVE, { id: m.id })).errors).toBeUndefined();
    expect((await t.gql(civil, `mutation($id: ID!, $g: ID!) { updateMinor(id: $id, input: { gridCode: $g }) { id } }`, { id: m.id, g: code })).errors).toBeUndefined();
    expect((await t.gql(civil, ADD, { id: m.id })).errors).toBeUndefined();
    expect(await told()).toEqual([{ region_code: m.grid_code, n: 3 }, { region_code: code, n: 3 }]);
  });
});
