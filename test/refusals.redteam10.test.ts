import { Department } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

/**
 * A write refused for what the child's record holds records the field its refusal states (README,
 * "for each child returned the fields read"). Civil affairs sees every referral in its jurisdiction
 * and may call any answer: "Only the receiving department answers a referral" tells it the referral
 * was not addressed to civil affairs — a fact of `Referral.toDepartment` — and the trail recorded
 * only that the referral was found.
 */
describe('refusals recorded as reads of what they state (red team 10)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_WORKFLOW_JOB_INTERVAL_MS: '0' } });
  });
  afterAll(() => t.stop());

  it('records Referral.toDepartment when a referral answer is refused to a department it was not addressed to', async () => {
    const [child] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 5 LIMIT 1`);
    const created = await t.gql(await t.token(Department.EDUCATION), `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`, {
      input: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: Department.WOMENS_FEDERATION, need: '家庭困难，需要帮扶' },
    });
    expect(created.errors).toBeUndefined();
    const r = await post(t, await t.token(Department.CIVIL_AFFAIRS, { user: 'ca-not-addressed' }), {
      query: `mutation($id: ID!) { acceptReferral(id: $id) { id } }`,
      variables: { id: created.data.createReferral.id },
    });
    expect(r.json.errors.map((e: any) => e.extensions.code)).toEqual(['FORBIDDEN']);
    expect((await eventOf(t, r.requestId)).reads).toEqual([{ minorId: child.id, fields: expect.objectContaining({ 'Referral.toDepartment': 'ALLOW' }) }]);
  });

  it('records nothing of a child outside the caller’s jurisdiction, whose referral names no child to it', async () => {
    // Addressed to the street the child has since left: the referral is still answered, naming no child there.
    const [child] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 6 LIMIT 1`);
    const street = '330102001';
    const created = await t.gql(await t.token(Department.EDUCATION, { region: street }), `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`, {
      input: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: Department.WOMENS_FEDERATION, need: '家庭困难，需要帮扶' },
    });
    expect(created.errors).toBeUndefined();
    const [elsewhere] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code NOT LIKE '${street}%' ORDER BY code LIMIT 1`);
    await t.sql(`UPDATE registry.minor SET grid_code = $2 WHERE id = $1`, [child.id, elsewhere.code]);
    const r = await post(t, await t.token(Department.CIVIL_AFFAIRS, { user: 'ca-moved', region: street }), {
      query: `mutation($id: ID!) { acceptReferral(id: $id) { id } }`,
      variables: { id: created.data.createReferral.id },
    });
    expect(r.json.errors.map((e: any) => e.extensions.code)).toEqual(['FORBIDDEN']);
    expect((await eventOf(t, r.requestId)).reads).toEqual([]);
  });
});
