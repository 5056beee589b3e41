import { randomUUID } from 'node:crypto';
import { Department } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, YOUTH_LEAGUE: YL, JUSTICE: JU } = Department;
const STREET = '330102001';
const ADD = `mutation($id: ID!, $i: GuardianInput!) { addGuardian(minorId: $id, input: $i) { id } }`;
const REMOVE = `mutation($g: ID!) { removeGuardian(guardianId: $g) }`;
const REFER = `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id grantedFields } }`;
const DECLINE = `mutation($id: ID!, $reason: String!) { declineReferral(id: $id, reason: $reason) { id } }`;
const GUARDIANS = `query($id: ID!) { minor(id: $id) { id guardians { id relationship name phone address situation } } }`;

/**
 * Red team 45 (rt45b): a child's guardians — one row per child even when two siblings share a
 * parent, masked per department, opened per child by a referral, removed down to none.
 */
describe.each([['in process', startTestHub], ['distributed', () => startDistributedTestHub()]] as const)('guardians (red team 45), %s', (_name, start) => {
  let t: TestHub;
  let civil: string;
  let a: string;
  let b: string;
  const PHONE = '13911112222';
  const ADDRESS = '浙江省杭州市上城区小营街道红星社区8幢301室';

  beforeAll(async () => {
    t = await start();
    civil = await t.token(CA, { region: STREET });
    const kids = await t.sql(
      `SELECT m.id FROM registry.minor m JOIN registry.minor_jurisdiction j ON j.minor_id = m.id WHERE j.grid_code LIKE $1 ORDER BY m.id LIMIT 2`,
      [`${STREET}%`],
    );
    [a, b] = kids.map((k: { id: string }) => k.id);
    // Siblings: the same mother, recorded once for each child.
    for (const id of [a, b]) {
      const r = await t.gql(civil, ADD, { id, i: { relationship: 'MOTHER', name: '陈美华', phone: PHONE, address: ADDRESS, situation: 'WORKING_AWAY' } });
      expect(r.errors).toBeUndefined();
    }
  });
  afterAll(async () => {
    await t?.stop();
  });

  const mother = (minor: any) => minor.guardians.find((g: any) => g.relationship === 'MOTHER' && (g.phone === PHONE || String(g.phone).endsWith('2222')));

  it('keeps a guardian shared by siblings as a row per child: a referral about one opens that child’s row only', async () => {
    const education = await t.token(ED, { region: STREET });
    const ref = await t.gql(civil, REFER, { i: { minorId: a, type: 'EDUCATION_AID', toDepartment: ED, need: '家庭困难，需要帮扶' } });
    expect(ref.errors).toBeUndefined();
    const id = ref.data.createReferral.id;
    const own = await post(t, education, { query: GUARDIANS, variables: { id: a } }, { 'x-purpose': `REFERRAL; ${id}` });
    expect(mother(own.json.data.minor)).toMatchObject({ name: '陈美华', phone: PHONE, address: ADDRESS });
    const sibling = await post(t, education, { query: GUARDIANS, variables: { id: b } }, { 'x-purpose': `REFERRAL; ${id}` });
    expect(sibling.status).toBe(403);
    expect(JSON.stringify(sibling.json)).not.toContain(PHONE);
    const e = await eventOf(t, sibling.requestId);
    expect(e.reads.every((r: any) => Object.values(r.fields).every((v) => v === 'DENY'))).toBe(true);
    // Without the purpose the sibling's row is masked as ever.
    const plain = await post(t, education, { query: `query($id: ID!) { minor(id: $id) { guardians { relationship name phone } } }`, variables: { id: b } });
    expect(mother(plain.json.data.minor)).toEqual({ relationship: 'MOTHER', name: '陈**', phone: '139****2222' });
    await t.gql(education, DECLINE, { id, reason: '不需要' });
  });

  it('records each guardian field as it was served: MASK for a masked one, DENY for one refused', async () => {
    const Q = `query($id: ID!) { minor(id: $id) { guardians { relationship name phone address situation } } }`;
    const expected: Record<string, Record<string, string>> = {
      [ED]: { 'Guardian.relationship': 'ALLOW', 'Guardian.name': 'MASK', 'Guardian.phone': 'MASK', 'Guardian.address': 'MASK', 'Guardian.situation': 'DENY', 'Minor.guardians': 'ALLOW' },
      [YL]: { 'Guardian.relationship': 'ALLOW', 'Guardian.name': 'MASK', 'Guardian.phone': 'MASK', 'Guardian.address': 'DENY', 'Guardian.situation': 'DENY', 'Minor.guardians': 'ALLOW' },
      [JU]: { 'Guardian.relationship': 'ALLOW', 'Guardian.name': 'ALLOW', 'Guardian.phone': 'MASK', 'Guardian.address': 'MASK', 'Guardian.situation': 'ALLOW', 'Minor.guardians': 'ALLOW' },
    };
    for (const [dept, fields] of Object.entries(expected)) {
      const r = await post(t, await t.token(dept as Department, { region: STREET }), { query: Q, variables: { id: a } });
      expect(JSON.stringify(r.json.data)).not.toContain(PHONE);
      const e = await eventOf(t, r.requestId);
      expect([dept, e.reads]).toEqual([dept, [{ minorId: a, fields }]]);
    }
  });

  it('removes a child’s last guardian, leaving none, audited with the child; again it is an unknown id', async () => {
    const [{ id: c }] = await t.sql(
      `SELECT m.id FROM registry.minor m JOIN registry.minor_jurisdiction j ON j.minor_id = m.id WHERE j.grid_code LIKE $1 AND m.id NOT IN ($2, $3) ORDER BY m.id LIMIT 1`,
      [`${STREET}%`, a, b],
    );
    const ids = (await t.sql(`SELECT id FROM registry.guardian WHERE minor_id = $1`, [c])).map((g: { id: string }) => g.id);
    for (const g of ids) {
      const r = await post(t, civil, { query: REMOVE, variables: { g } });
      expect(r.json).toEqual({ data: { removeGuardian: g } });
      expect((await eventOf(t, r.requestId)).changes).toEqual([{ mutation: 'removeGuardian', id: g, minorId: c, fields: ['guardianId'] }]);
    }
    const left = await t.gql(civil, GUARDIANS, { id: c });
    expect(left.data.minor.guardians).toEqual([]);
    const again = ids.length ? await post(t, civil, { query: REMOVE, variables: { g: ids[0] } }) : null;
    const unknown = await post(t, civil, { query: REMOVE, variables: { g: randomUUID() } });
    if (again) expect(again.json.errors.map((x: any) => [x.message, x.extensions.code])).toEqual(unknown.json.errors.map((x: any) => [x.message, x.extensions.code]));
    // A child's own id, or its sibling's, is no guardian's: answered as any unknown id, naming no child.
    for (const g of [a, b]) {
      const r = await post(t, civil, { query: REMOVE, variables: { g } });
      expect(r.json.errors.map((x: any) => [x.message, x.extensions.code])).toEqual(unknown.json.errors.map((x: any) => [x.message, x.extensions.code]));
      expect((await eventOf(t, r.requestId)).reads).toEqual([]);
    }
  });
});

