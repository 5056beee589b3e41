import { Department } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, statementsDuring, TestHub } from './support/test-hub';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, WOMENS_FEDERATION: WF } = Department;
const CREATE = `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`;
const DECLINE = `mutation($id: ID!, $reason: String!) { declineReferral(id: $id, reason: $reason) { id } }`;
const READ = `query($id: ID!) { minor(id: $id) { currentAddress guardians { name phone situation } categories { category } } }`;
const RANDOM = '00000000-0000-4000-8000-000000000000';

/**
 * A referral's purpose names a record of the workflow: one of another department or street, or one
 * closed, must tell the caller nothing a random id would not — answer, status, audit outcome and
 * the statements sent, one by one — and a malformed reference is a typed refusal, never a 500.
 */
describe('referral purposes: nothing told of a referral the caller may not use', () => {
  let t: TestHub;
  let child: string;
  let education: string;

  beforeAll(async () => {
    t = await startTestHub();
    [{ id: child }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
    education = await t.token(ED, { region: '330102001' });
  });
  afterAll(() => t.stop());

  async function refer(to: Department, region: string, minorId: string): Promise<string> {
    const r = await t.gql(await t.token(CA, { region }), CREATE, { input: { minorId, type: 'PLACEMENT', toDepartment: to, need: '需要安置' } });
    expect(r.errors).toBeUndefined();
    return r.data.createReferral.id;
  }

  it('answers a referral of another department, of another street, or closed, statement by statement as a random id', async () => {
    const [{ id: elsewhere }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102002%' ORDER BY id LIMIT 1`);
    const closed = await refer(ED, '330102001', child);
    await t.gql(education, DECLINE, { id: closed, reason: '不属本部门职责' });
    const cases = {
      random: RANDOM,
      otherDepartment: await refer(WF, '330102001', child),
      otherStreet: await refer(ED, '330102002', elsewhere),
      closed,
    };
    const seen: Record<string, unknown> = {};
    for (const [name, reference] of Object.entries(cases)) {
      let r!: Awaited<ReturnType<typeof post>>;
      const statements = await statementsDuring(t, async () => {
        r = await post(t, education, { query: READ, variables: { id: child } }, { 'x-purpose': `REFERRAL; ${reference}` });
      });
      const e = await eventOf(t, r.requestId);
      // The id itself differs; everything else must not.
      seen[name] = {
        status: r.status,
        json: r.json,
        event: [e.outcome, e.errorCodes, e.reads],
        statements: statements.map((s) => [s.query, JSON.parse(JSON.stringify(s.parameters).split(reference).join('<reference>'))]),
      };
    }
    expect(seen.random).toMatchObject({ status: 400, json: { errors: [{ extensions: { code: 'BAD_USER_INPUT', field: 'x-purpose' } }] } });
    for (const name of Object.keys(cases)) expect([name, seen[name]]).toEqual([name, seen.random]);
  });

  it('refuses a malformed or look-alike reference as BAD_USER_INPUT on x-purpose, never as a server error', async () => {
    const id = await refer(ED, '330102001', child);
    const refusals = [
      `REFERRAL; ${id.toUpperCase()}`,
      `REFERRAL; {${id}}`,
      `REFERRAL; urn:uuid:${id}`,
      `REFERRAL; ${id.replace(/-/g, '')}`,
      `REFERRAL; ${id}; ${id}`,
      `REFERRAL; ${id},${id}`,
      `REFERRAL; ${encodeURIComponent(id.replace(/[0-9]/, (d) => String.fromCharCode(0xff10 + Number(d))))}`, // a full-width digit
      `REFERRAL; ${encodeURIComponent(id.replace('-', '\u2010'))}`, // a hyphen look-alike
      `REFERRAL; ${id}%00`,
      `REFERRAL; %E0%A4%A`,
      `REFERRAL; ${'a'.repeat(5000)}`,
    ];
    for (const purpose of refusals) {
      const r = await post(t, education, { query: READ, variables: { id: child } }, { 'x-purpose': purpose });
      expect([purpose.slice(0, 60), r.status, r.json.data, r.json.errors.map((e: any) => [e.extensions.code, e.extensions.field])]).toEqual([
        purpose.slice(0, 60),
        400,
        undefined,
        [['BAD_USER_INPUT', 'x-purpose']],
      ]);
      expect((await eventOf(t, r.requestId)).reads).toEqual([]);
    }
    // Spacing and the code's case are the header's syntax, not the reference: these name the referral.
    for (const purpose of [`referral;   ${id}   `, ` REFERRAL ; ${id}`, `REFERRAL;${id}`, `REFERRAL%3B%20${id}`]) {
      const r = await post(t, education, { query: READ, variables: { id: child } }, { 'x-purpose': purpose });
      expect([purpose, r.status, r.json.errors]).toEqual([purpose, 200, undefined]);
    }
    await t.gql(education, DECLINE, { id, reason: 'x' });
  });
});
