import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { personHash, registryKeyCheck } from '../src/subgraphs/workflow/workflow.employment';
import { asDba } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub, testConfig } from './support/test-hub';

const { EDUCATION: ED, POLICE: PO } = Department;

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
    t = await startTestHub({ env: { HUB_WORKFLOW_JOB_INTERVAL_MS: '0', HUB_EMPLOYMENT_CHECK_MIN_MS: '10', HUB_AUDIT_KEY: KEY } });
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
