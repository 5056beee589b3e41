import { createHmac } from 'node:crypto';
import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

const CHECK = `mutation($input: EmploymentCheckInput!) { employmentCheck(input: $input) { answer } }`;
const RESCREEN = `mutation($c: [RescreenCandidateInput!]!) { employmentRescreen(candidates: $c, authorizationReference: "2026-年度复查") { answers { index answer } } }`;
const ADD = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id } }`;

const KEY = 'registry-key-one-0123456789abcdefghijklmnopqrstuvwxyz';
const ROTATED = 'registry-key-two-0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * The registry holds only HMACs of ID numbers under HUB_AUDIT_KEY: a hub started with another key
 * finds no listed person. It must refuse to answer rather than answer CLEAR for everyone.
 */
describe('workflow: the barred-person registry under another HUB_AUDIT_KEY', () => {
  const barred = buildIdNumber('330102', '1980-05-04', 123);
  let databaseUrl: string;
  const start = (key: string) =>
    startTestHub({ ...(databaseUrl ? { databaseUrl } : {}), env: { HUB_EMPLOYMENT_CHECK_MIN_MS: '10', HUB_AUDIT_KEY: key } });
  const employerOf = (t: TestHub, user: string) => t.token(Department.EDUCATION, { role: Role.EMPLOYER, user });
  const check = async (t: TestHub, user: string) => t.gql(await employerOf(t, user), CHECK, { input: { idNumber: barred, name: '张某', authorizationReference: 'AUTH-1' } }, {});

  beforeAll(async () => {
    const t = await start(KEY);
    databaseUrl = t.databaseUrl;
    try {
      const police = await t.token(Department.POLICE);
      expect((await t.gql(police, ADD, { input: { idNumber: barred, name: '张某', offence: 'SEXUAL_HARM', judgementReference: '(2024)浙0102刑初123号' } })).errors).toBeUndefined();
      expect((await check(t, 'school-before')).data.employmentCheck.answer).toBe('RESTRICTED');
    } finally {
      await t.stop();
    }
  });

  it('refuses checks, re-screenings and listings instead of answering CLEAR for a listed person, and records no check', async () => {
    const t = await start(ROTATED);
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const r = await check(t, 'school-rotated');
      expect(r.data?.employmentCheck ?? null).toBeNull();
      expect(errorCodes(r)).toEqual(['INTERNAL_SERVER_ERROR']);
      const rescreen = await t.gql(await employerOf(t, 'school-rotated-rescreen'), RESCREEN, { c: [{ idNumber: barred, name: '张某' }] }, {});
      expect(errorCodes(rescreen)).toEqual(['INTERNAL_SERVER_ERROR']);
      const police = await t.token(Department.POLICE);
      const other = buildIdNumber('330102', '1981-06-07', 457);
      expect(errorCodes(await t.gql(police, ADD, { input: { idNumber: other, name: '李某', offence: 'ABUSE', judgementReference: '(2025)浙0102刑初9号' } }))).toEqual(['INTERNAL_SERVER_ERROR']);
      expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.employment_check WHERE employer_id LIKE 'school-rotated%'`))[0].n).toBe(0);
      expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.barred_person`))[0].n).toBe(1);
      // The operator is told why, without the key.
      const logged = errors.mock.calls.map((c) => c.join(' ')).join('\n');
      expect(logged).toContain('HUB_AUDIT_KEY');
      expect(logged).not.toContain(ROTATED);
      expect(logged).not.toContain(KEY);
    } finally {
      errors.mockRestore();
      await t.stop();
    }
  });

  it('answers again under the key the registry was hashed with', async () => {
    const t = await start(KEY);
    try {
      expect((await check(t, 'school-restored')).data.employmentCheck.answer).toBe('RESTRICTED');
    } finally {
      await t.stop();
    }
  });

  it('takes the key another process records at the same moment as recorded, not as another', async () => {
    const t = await startTestHub({ env: { HUB_EMPLOYMENT_CHECK_MIN_MS: '10', HUB_AUDIT_KEY: KEY } });
    const other = new Client({ connectionString: t.databaseUrl });
    await other.connect();
    try {
      // Another process's first use, not yet committed: this one's insert waits on it, then does nothing.
      await other.query('BEGIN');
      await other.query(`INSERT INTO workflow.barred_person_key (key_check) VALUES ($1)`, [createHmac('sha256', KEY).update('barred-person-key-check').digest('hex')]);
      const answer = check(t, 'school-first');
      await new Promise((resolve) => setTimeout(resolve, 300));
      await other.query('COMMIT');
      const r = await answer;
      expect(r.errors).toBeUndefined();
      expect(r.data.employmentCheck.answer).toBe('CLEAR');
    } finally {
      await other.end();
      await t.stop();
    }
  });
});
