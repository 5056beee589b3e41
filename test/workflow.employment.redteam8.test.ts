import { execFile } from 'node:child_process';
import path from 'node:path';
import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

const CHECK = `mutation($input: EmploymentCheckInput!) { employmentCheck(input: $input) { answer } }`;
const RESCREEN = `mutation($c: [RescreenCandidateInput!]!) { employmentRescreen(candidates: $c, authorizationReference: "2026-年度复查") { answers { index answer } } }`;
const ADD = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id } }`;
const REMOVE = `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "判决撤销") }`;

const KEY = 'registry-key-one-0123456789abcdefghijklmnopqrstuvwxyz';
const MISTYPED = 'registry-key-two-0123456789abcdefghijklmnopqrstuvwxyz';

const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const cli = path.join(__dirname, '..', 'src', 'cli', 'employment-confirm-key.cli.ts');

/** Runs `npm run employment:confirm-key` with `key` as HUB_AUDIT_KEY and `stdin` as its input. */
function confirmKey(databaseUrl: string, key: string, stdin: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(tsx, [cli], { env: { ...process.env, DATABASE_URL: databaseUrl, HUB_AUDIT_KEY: key } }, (e, stdout, stderr) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
    child.stdin!.end(stdin);
  });
}

/**
 * A database upgraded from a release before migration 1795402000000 holds bars but no record of the
 * key they were hashed with. The first use must not record whatever key the hub was started with:
 * under a mistyped one every listed person would be answered CLEAR, and the right key refused after.
 */
describe('workflow: a barred-person registry upgraded without a recorded key', () => {
  const barred = buildIdNumber('330102', '1980-05-04', 123);
  const revokedOnly = buildIdNumber('330102', '1979-01-02', 245);
  let databaseUrl: string;
  const start = (key: string) =>
    startTestHub({ ...(databaseUrl ? { databaseUrl } : {}), env: { HUB_EMPLOYMENT_CHECK_MIN_MS: '10', HUB_AUDIT_KEY: key } });
  const employerOf = (t: TestHub, user: string) => t.token(Department.EDUCATION, { role: Role.EMPLOYER, user });
  const check = async (t: TestHub, user: string, idNumber = barred) => t.gql(await employerOf(t, user), CHECK, { input: { idNumber, name: '张某', authorizationReference: 'AUTH-1' } }, {});
  const keyRows = async (t: TestHub) => (await t.sql(`SELECT count(*)::int AS n FROM workflow.barred_person_key`))[0].n;

  /** Every registry operation is refused as under a wrong key, nothing recorded, the operator told why. */
  async function expectRefused(t: TestHub, user: string) {
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const r = await check(t, user);
      expect(r.data?.employmentCheck ?? null).toBeNull();
      expect(errorCodes(r)).toEqual(['INTERNAL_SERVER_ERROR']);
      expect(errorCodes(await t.gql(await employerOf(t, `${user}-rescreen`), RESCREEN, { c: [{ idNumber: barred, name: '张某' }] }, {}))).toEqual(['INTERNAL_SERVER_ERROR']);
      const police = await t.token(Department.POLICE);
      const other = buildIdNumber('330102', '1981-06-07', 457);
      expect(errorCodes(await t.gql(police, ADD, { input: { idNumber: other, name: '李某', offence: 'ABUSE', judgementReference: `(2025)浙0102刑初9号-${user}` } }))).toEqual(['INTERNAL_SERVER_ERROR']);
      expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.employment_check WHERE employer_id LIKE $1`, [`${user}%`]))[0].n).toBe(0);
      expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.barred_person`))[0].n).toBe(2);
      expect(await keyRows(t)).toBe(0);
      const logged = errors.mock.calls.map((c) => c.join(' ')).join('\n');
      expect(logged).toContain('employment:confirm-key');
      expect(logged).not.toContain(KEY);
      expect(logged).not.toContain(MISTYPED);
    } finally {
      errors.mockRestore();
    }
  }

  beforeAll(async () => {
    const t = await start(KEY);
    databaseUrl = t.databaseUrl;
    try {
      const police = await t.token(Department.POLICE);
      expect((await t.gql(police, ADD, { input: { idNumber: barred, name: '张某', offence: 'SEXUAL_HARM', judgementReference: '(2024)浙0102刑初123号' } })).errors).toBeUndefined();
      const revoked = await t.gql(police, ADD, { input: { idNumber: revokedOnly, name: '王某', offence: 'ABUSE', judgementReference: '(2023)浙0102刑初7号' } });
      expect((await t.gql(police, REMOVE, { id: revoked.data.addBarredPerson.id })).errors).toBeUndefined();
      // As a release before migration 1795402000000 left it: bars, and no key recorded.
      await t.sql(`DELETE FROM workflow.barred_person_key`);
    } finally {
      await t.stop();
    }
  });

  it('refuses the registry under a mistyped key, and records no key', async () => {
    const t = await start(MISTYPED);
    try {
      await expectRefused(t, 'school-mistyped');
    } finally {
      await t.stop();
    }
  });

  it('refuses it under the right key too, until an operator confirms it', async () => {
    const t = await start(KEY);
    try {
      await expectRefused(t, 'school-unconfirmed');
    } finally {
      await t.stop();
    }
  });

  it('says so in the operator’s log at start, before any check is refused', async () => {
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      // Stopping waits for the start's check of the key.
      await (await start(KEY)).stop();
      const logged = errors.mock.calls.map((c) => c.join(' ')).join('\n');
      expect(logged).toContain('holds bars but no record of the key');
      expect(logged).toContain('employment:confirm-key');
      expect(logged).not.toContain(KEY);
    } finally {
      errors.mockRestore();
    }
  });

  it('counts revoked bars too: a registry of revoked bars only is not taken for an empty one', async () => {
    const t = await start(MISTYPED);
    try {
      await t.sql(`UPDATE workflow.barred_person SET revoked_at = now(), revoked_by = 'police-1', revoked_by_department = 'POLICE', revoked_by_region = '330102', revocation_reason = 'x' WHERE revoked_at IS NULL`);
      await expectRefused(t, 'school-all-revoked');
    } finally {
      await t.sql(`UPDATE workflow.barred_person SET revoked_at = NULL, revoked_by = NULL, revoked_by_department = NULL, revoked_by_region = NULL, revocation_reason = NULL WHERE revocation_reason = 'x'`);
      await t.stop();
    }
  });

  it('`npm run employment:confirm-key` records the key only if the number read from stdin is listed under it', async () => {
    const t = await start(KEY);
    try {
      const wrongKey = await confirmKey(databaseUrl, MISTYPED, `${barred}\n`);
      expect(wrongKey.code).toBe(1);
      expect(wrongKey.stderr).toContain('does not match the registry');
      expect(await keyRows(t)).toBe(0);
      const unlisted = await confirmKey(databaseUrl, KEY, `${buildIdNumber('330102', '1990-01-01', 111)}\n`);
      expect(unlisted.code).toBe(1);
      expect(unlisted.stderr).toContain('does not match the registry');
      expect(await keyRows(t)).toBe(0);
      const invalid = await confirmKey(databaseUrl, KEY, 'not-a-number\n');
      expect(invalid.code).not.toBe(0);
      expect(invalid.stderr).not.toContain('not-a-number');
      expect(await keyRows(t)).toBe(0);
      // A revoked bar was hashed under the registry's key as well. Written as a person writes it.
      const confirmed = await confirmKey(databaseUrl, KEY, ` ${revokedOnly.toLowerCase()} \n`);
      expect(confirmed.stderr).toBe('');
      expect(confirmed.code).toBe(0);
      expect(confirmed.stdout).toContain('confirmed');
      expect(`${confirmed.stdout}${confirmed.stderr}`).not.toContain(revokedOnly);
      expect(await keyRows(t)).toBe(1);
      // Once recorded, another key is not recorded over it.
      const again = await confirmKey(databaseUrl, MISTYPED, `${barred}\n`);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('another key was recorded');
      expect(await keyRows(t)).toBe(1);
    } finally {
      await t.stop();
    }
  });

  it('answers RESTRICTED under the confirmed key, and still refuses the mistyped one', async () => {
    const t = await start(KEY);
    try {
      expect((await check(t, 'school-confirmed')).data.employmentCheck.answer).toBe('RESTRICTED');
    } finally {
      await t.stop();
    }
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    let logged: string[] = [];
    const m = await start(MISTYPED);
    try {
      expect(errorCodes(await check(m, 'school-mistyped-after'))).toEqual(['INTERNAL_SERVER_ERROR']);
    } finally {
      await m.stop();
      logged = errors.mock.calls.map((c) => c.join(' '));
      errors.mockRestore();
    }
    // Said at start as well: the key the registry was hashed with is not this one.
    expect(logged.filter((line) => line.startsWith('[hub] HUB_AUDIT_KEY is not the key the barred-person registry'))).not.toEqual([]);
  });

  it('still records the key on first use of an empty registry', async () => {
    const t = await startTestHub({ env: { HUB_EMPLOYMENT_CHECK_MIN_MS: '10', HUB_AUDIT_KEY: MISTYPED } });
    try {
      expect((await check(t, 'school-empty')).data.employmentCheck.answer).toBe('CLEAR');
      expect(await keyRows(t)).toBe(1);
    } finally {
      await t.stop();
    }
  });
});
