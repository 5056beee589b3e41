import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { yearsBefore } from '../src/common/dates';
import { personHash, registryKeyCheck } from '../src/subgraphs/workflow/workflow.employment';
import { asDba, eventOf, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub, testConfig } from './support/test-hub';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO } = Department;
const COMPILED = `query Child($id: ID!) { minor(id: $id) { id gender riskLevel } }`;
const MOVE = `mutation($id: ID!, $grid: ID!) { updateMinor(id: $id, input: { gridCode: $grid }) { id } }`;
const STREET = '330102001';
const OTHER_STREET = '330102002';

/**
 * What the hub keeps between requests (verified tokens, per-subject schemas, compiled read plans,
 * cost estimates, fetch documents) must never outlive what it was based on: a child moved or turned
 * 18 after a compiled read of it, another token of the same subject with other claims. (A closed
 * referral's grant: workflow.referrals.test.ts.)
 */
describe('caches against changes of authority and data (redteam 10)', () => {
  let t: TestHub;
  let child: string;
  let birth: string;
  let grid: string;

  beforeAll(async () => {
    t = await startTestHub();
    [{ id: child, birth_date: birth, grid_code: grid }] = await t.sql(
      `SELECT id, birth_date::text AS birth_date, grid_code FROM registry.minor WHERE grid_code LIKE '${STREET}%' ORDER BY id LIMIT 1`,
    );
  });
  afterAll(() => t?.stop());

  it('a child moved out of the caller’s street is no longer served, by the compiled path either', async () => {
    const civil = await t.token(CA, { region: '330102' });
    const here = await t.token(ED, { region: STREET, user: 'ed-move' });
    const there = await t.token(ED, { region: OTHER_STREET, user: 'ed-move' });
    const [{ code: target }] = await t.sql(`SELECT code FROM registry.region WHERE code LIKE '${OTHER_STREET}%' AND length(code) = 15 ORDER BY code LIMIT 1`);
    const before = t.hub.compiledReadsServed()!;
    const first = await post(t, here, { query: COMPILED, variables: { id: child } }, { 'x-purpose': 'CASE_HANDLING' });
    expect(first.json.data.minor.id).toBe(child);
    expect(t.hub.compiledReadsServed()! - before).toBe(1);
    expect((await t.gql(civil, MOVE, { id: child, grid: target })).errors).toBeUndefined();
    try {
      const after = await post(t, here, { query: COMPILED, variables: { id: child } }, { 'x-purpose': 'CASE_HANDLING' });
      expect(after.json).toEqual({ data: { minor: null } });
      expect((await eventOf(t, after.requestId)).reads).toEqual([]);
      const moved = await post(t, there, { query: COMPILED, variables: { id: child } }, { 'x-purpose': 'CASE_HANDLING' });
      expect(moved.json.data.minor.id).toBe(child);
    } finally {
      await t.gql(civil, MOVE, { id: child, grid });
    }
  });

  it('a child who turns 18 between two reads is no longer served', async () => {
    const here = await t.token(ED, { region: STREET, user: 'ed-age' });
    const before = t.hub.compiledReadsServed()!;
    const first = await post(t, here, { query: COMPILED, variables: { id: child } }, { 'x-purpose': 'CASE_HANDLING' });
    expect(first.json.data.minor.id).toBe(child);
    expect(t.hub.compiledReadsServed()! - before).toBe(1);
    await t.sql(`UPDATE registry.minor SET birth_date = $2 WHERE id = $1`, [child, yearsBefore(new Date(), 18)]);
    try {
      const after = await post(t, here, { query: COMPILED, variables: { id: child } }, { 'x-purpose': 'CASE_HANDLING' });
      expect(after.json).toEqual({ data: { minor: null } });
      expect((await eventOf(t, after.requestId)).reads).toEqual([]);
    } finally {
      await t.sql(`UPDATE registry.minor SET birth_date = $2 WHERE id = $1`, [child, birth]);
    }
  });

  it('two tokens of one subject with other claims are each served as their own claims say', async () => {
    const query = `query($id: ID!) { minor(id: $id) { id idNumber name } }`;
    const asEd = await t.token(ED, { region: STREET, user: 'same-person' });
    const asPolice = await t.token(PO, { region: STREET, user: 'same-person' });
    const asPoliceElsewhere = await t.token(PO, { region: OTHER_STREET, user: 'same-person' });
    const asDashboard = await t.token(PO, { region: STREET, user: 'same-person', role: Role.DASHBOARD });
    const h = { 'x-purpose': 'CASE_HANDLING' };
    const ed = await post(t, asEd, { query, variables: { id: child } }, h);
    const police = await post(t, asPolice, { query, variables: { id: child } }, h);
    const elsewhere = await post(t, asPoliceElsewhere, { query, variables: { id: child } }, h);
    const dashboard = await post(t, asDashboard, { query, variables: { id: child } }, h);
    const again = await post(t, asEd, { query, variables: { id: child } }, h);
    expect(police.json.data.minor.idNumber).toMatch(/^\d{17}[\dX]$/);
    expect(ed.json.data.minor.idNumber).not.toEqual(police.json.data.minor.idNumber);
    expect(again.json).toEqual(ed.json);
    expect(elsewhere.json.data).toEqual({ minor: null });
    expect(dashboard.json.data?.minor ?? null).toBeNull();
    expect((await eventOf(t, elsewhere.requestId)).reads).toEqual([]);
    expect((await eventOf(t, ed.requestId)).department).toBe(ED);
    expect((await eventOf(t, police.requestId)).department).toBe(PO);
  });
});

/**
 * The barred-person registry (从业限制) is readable only under the key its bars were hashed with, and the
 * hub refuses checks under any other (workflow.employment.ts `requireRegistryKey`). That decision was
 * kept for the life of the process after the first use: a database restored beside another
 * deployment's key under a running hub — its bars, and the check value of that key — had every person
 * listed answered CLEAR until the hub restarted, where a hub started on it refuses.
 */
describe('the barred-person registry’s key, held to the database as it is at each use (redteam 10)', () => {
  const KEY = 'registry-key-one-0123456789abcdefghijklmnopqrstuvwxyz';
  const OTHER = 'registry-key-two-0123456789abcdefghijklmnopqrstuvwxyz';
  const CHECK = `mutation($input: EmploymentCheckInput!) { employmentCheck(input: $input) { answer } }`;
  const ADD = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id } }`;
  const barred = buildIdNumber('330102', '1980-05-04', 123);
  let t: TestHub;

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_EMPLOYMENT_CHECK_MIN_MS: '10', HUB_AUDIT_KEY: KEY } });
  });
  afterAll(() => t?.stop());

  const check = async (user: string) =>
    t.gql(await t.token(ED, { role: Role.EMPLOYER, user }), CHECK, { input: { idNumber: barred, name: '张某', authorizationReference: 'AUTH-1' } }, {});

  it('refuses checks once the registry holds bars hashed under another key, on a hub that has used it already', async () => {
    const police = await t.token(PO);
    expect((await t.gql(police, ADD, { input: { idNumber: barred, name: '张某', offence: 'SEXUAL_HARM', judgementReference: '(2024)浙0102刑初123号' } })).errors).toBeUndefined();
    expect((await check('employer-before')).data.employmentCheck.answer).toBe('RESTRICTED');

    const other = testConfig({ env: { HUB_AUDIT_KEY: OTHER } });
    await asDba(t, async (c) => {
      await c.query(`UPDATE workflow.barred_person SET id_number_hash = $1`, [personHash(other, barred)]);
      await c.query(`UPDATE workflow.barred_person_key SET key_check = $1`, [registryKeyCheck(other)]);
    });
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const r = await check('employer-after');
      expect(r.data?.employmentCheck ?? null).toBeNull();
      expect(errorCodes(r)).toEqual(['INTERNAL_SERVER_ERROR']);
      expect(errors.mock.calls.map((c) => c.join(' ')).join('\n')).toContain('HUB_AUDIT_KEY is not the key');
    } finally {
      errors.mockRestore();
    }
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.employment_check WHERE employer_id = 'employer-after'`))[0].n).toBe(0);
  });
});
