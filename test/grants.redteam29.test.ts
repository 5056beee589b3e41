import { Client } from 'pg';
import { Department } from '../src/auth/principal';
import { applyMask } from '../src/policy/masks';
import { MaskKind } from '../src/policy/policy.types';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED } = Department;
const CREATE = `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id grantedFields } }`;
const DECLINE = `mutation($id: ID!, $reason: String!) { declineReferral(id: $id, reason: $reason) { id } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateMinorInput!) { updateMinor(id: $id, input: $input) { id } }`;

/**
 * Referral field grants (docs/workflows.md, "Field grants"): what one open referral opens to its
 * receiving department, of its one child, under `x-purpose: REFERRAL; <referral id>`.
 */
describe('referral field grants (redteam 29)', () => {
  let t: TestHub;
  let civil: string;
  let education: string;
  let child: { id: string; current_address: string };

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_STATEMENT_TIMEOUT_MS: '1500' } });
    civil = await t.token(CA, { region: '330102001' });
    education = await t.token(ED, { region: '330102001' });
    [child] = await t.sql(`SELECT id, current_address FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
  });
  afterAll(() => t.stop());

  async function refer(type: string): Promise<{ id: string; grantedFields: string[] }> {
    const r = await t.gql(civil, CREATE, { input: { minorId: child.id, type, toDepartment: ED, need: '家庭困难，需要帮扶' } });
    expect(r.errors).toBeUndefined();
    return r.data.createReferral;
  }

  // Policy.rebuildLeaks refuses a grant that serves one of two fields holding the same value exactly
  // and the other masked (SAME_VALUE: "one shows what the other's mask hides"), but SAME_VALUE pairs
  // only Guardian.address with Minor.currentAddress. A child registered (户籍) at the address it lives
  // at holds one address in Minor.householdRegistration and Minor.currentAddress, and the four kinds
  // of referral that open the address serve it exactly beside the household registration masked.
  it('serves a child’s household registration as its current address when the two are one address: a grant opening the address leaves neither masked beside the other exact', async () => {
    const updated = await t.gql(civil, UPDATE, { id: child.id, input: { householdRegistration: child.current_address } });
    expect(updated.errors).toBeUndefined();
    const QUERY = `query($id: ID!) { minor(id: $id) { currentAddress householdRegistration } }`;

    // Without the grant, education reads both masked, alike.
    const plain = await post(t, education, { query: QUERY, variables: { id: child.id } }, { 'x-purpose': 'CASE_HANDLING' });
    expect(plain.json.data.minor).toEqual({
      currentAddress: applyMask(MaskKind.ADDRESS, child.current_address),
      householdRegistration: applyMask(MaskKind.ADDRESS, child.current_address),
    });

    for (const type of ['EDUCATION_AID', 'LIVING_ASSISTANCE', 'PLACEMENT', 'FAMILY_EDUCATION_GUIDANCE']) {
      const referral = await refer(type);
      expect(referral.grantedFields).toContain('Minor.currentAddress');
      const r = await post(t, education, { query: QUERY, variables: { id: child.id } }, { 'x-purpose': `REFERRAL; ${referral.id}` });
      expect([type, r.status, r.json.errors]).toEqual([type, 200, undefined]);
      const { currentAddress, householdRegistration } = r.json.data.minor;
      // Now: currentAddress is the exact address, householdRegistration the same address masked.
      expect([type, householdRegistration]).toEqual([type, currentAddress]);
      const e = await eventOf(t, r.requestId);
      const fields = e.reads.find((x: { minorId: string }) => x.minorId === child.id).fields;
      expect([type, fields['Minor.householdRegistration']]).toEqual([type, fields['Minor.currentAddress']]);
      await t.gql(education, DECLINE, { id: referral.id, reason: '转其他部门' });
    }
  });

  // Pinned: the grant's look-up is the one statement a REFERRAL purpose adds before anything runs;
  // held up by a lock on the referrals it is a database outage (503, Retry-After), audited as an
  // error with the purpose declared — not a refusal of the purpose, which would tell the client its
  // referral is not open, and not an internal error.
  it('answers a purpose check held up by a lock on the referrals DATABASE_UNAVAILABLE, audited with the purpose', async () => {
    const referral = await refer('EDUCATION_AID');
    const locker = new Client({ connectionString: t.databaseUrl });
    await locker.connect();
    let res: Response;
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE workflow.referral IN ACCESS EXCLUSIVE MODE');
      res = await fetch(t.hub.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${education}`, 'x-purpose': `REFERRAL; ${referral.id}` },
        body: JSON.stringify({ query: `query($id: ID!) { minor(id: $id) { currentAddress } }`, variables: { id: child.id } }),
      });
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    const body: any = await res.json();
    expect([res.status, res.headers.get('retry-after'), body.data, body.errors.map((x: any) => x.extensions.code)]).toEqual([503, '5', undefined, ['DATABASE_UNAVAILABLE']]);
    const e = await eventOf(t, res.headers.get('x-request-id')!);
    expect([e.outcome, e.errorCodes, e.purpose, e.reads]).toEqual(['ERROR', ['DATABASE_UNAVAILABLE'], { code: 'REFERRAL', reference: referral.id }, []]);
    // Released, the same request is served under the grant.
    const again = await post(t, education, { query: `query($id: ID!) { minor(id: $id) { currentAddress } }`, variables: { id: child.id } }, { 'x-purpose': `REFERRAL; ${referral.id}` });
    expect(again.json).toEqual({ data: { minor: { currentAddress: child.current_address } } });
    await t.gql(education, DECLINE, { id: referral.id, reason: 'x' });
  });
});
