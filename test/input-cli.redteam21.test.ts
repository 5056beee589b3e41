import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Department } from '../src/auth/principal';
import { post, storedEventOf } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 21 (rt215): regression review of d8b206e (requireLine composes before measuring),
 * 0efd146 / 2f6b777 / cc51de9 (user id script rules: kana marks, tatweel, Bopomofo; parseArgs),
 * 04ef33d (x-purpose reference: two spaces), 12d3170 (decimalFlag for CLI number flags).
 */
const { CIVIL_AFFAIRS: CA } = Department;
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; rt21' };

const run = promisify(execFile);
const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const cli = (name: string) => path.join(__dirname, '..', 'src', 'cli', `${name}.cli.ts`);
/** A tool's exit code and output. */
const tool = (name: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  run(tsx, [cli(name), ...args], { env }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: String(e.stdout), stderr: String(e.stderr) }),
  );

describe('regressions of d8b206e / 0efd146 / 2f6b777 / cc51de9 / 04ef33d / 12d3170 (redteam21, rt215)', () => {
  let t: TestHub;

  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t?.stop());

  const statusOf = async (user: string) => (await post(t, await t.token(CA, { user, region: '330102001' }), { query: '{ regions { code } }' }, PURPOSE)).status;

  // --- parseArgs (cc51de9): "What it cannot read as asked is refused, never taken for something else" ---

  // audit:verify takes `--anchors LOG` to check the chain against heads logged off the database's
  // machine (what the chain alone cannot show: its tail cut off, or rewritten with every later hash
  // recomputed). A file without anchor lines is refused (exit 2, audit.anchor.test.ts); an EMPTY path
  // — `--anchors "$ANCHOR_LOG"` with the variable unset, or `--anchors=` — is taken as no `--anchors`
  // at all (`flags.anchors ? … : []`), and the tool answers "audit chain OK", exit 0, having checked
  // no anchor: a truncated chain would pass the check its operator asked for.
  it('audit:verify refuses an empty --anchors instead of verifying without anchors and answering OK', async () => {
    const env = { ...process.env, DATABASE_URL: t.databaseUrl };
    const control = await tool('audit-verify', [], env);
    expect([control.code, control.stdout]).toEqual([0, expect.stringMatching(/^audit chain OK: \d+ events/m)]);
    const got: Record<string, { code: number; ok: boolean }> = {};
    for (const [name, args] of Object.entries({ 'equals-empty': ['--anchors='], 'empty-arg': ['--anchors', ''] })) {
      const r = await tool('audit-verify', args, env);
      got[name] = { code: r.code, ok: /audit chain OK/.test(r.stdout) };
    }
    expect(got).toEqual({ 'equals-empty': { code: 2, ok: false }, 'empty-arg': { code: 2, ok: false } });
  });

  // --- cc51de9: user id script rules --------------------------------------------------------------

  // 0efd146 let a tatweel stand inside an Arabic word beside Latin (`ali-عـلي`), looking behind over
  // any Script_Extensions=Arabic character, so a haraka (fatha, shadda, superscript alef: Mn,
  // Script Inherited, scx Arabic) written on the letter before it was part of the word. cc51de9,
  // whose message is about kana marks after Han and Bopomofo's tone marks, narrowed the Arabic
  // look-behind to `\p{Script=Arabic}\u0640*` too: a tatweel after a vowelled letter is no longer
  // "in a word of its script", and `ali-عَـلي` (fatha on the ain, then the tatweel), served by 2f6b777,
  // is now 401 — though `ali-عَلي` (no tatweel) and `ali-عـَلي` (haraka after it) are served.
  it('still serves an Arabic word beside Latin whose tatweel follows a vowelled letter (ali-عَـلي), as 2f6b777 did', async () => {
    const got: Record<string, number> = {};
    for (const user of ['ali-عـلي', 'ali-عَلي', 'ali-عـَلي', 'ali-عَـلي', 'ali-مُـحمد', 'ali-عّـلي']) got[user] = await statusOf(user);
    expect(got).toEqual({ 'ali-عـلي': 200, 'ali-عَلي': 200, 'ali-عـَلي': 200, 'ali-عَـلي': 200, 'ali-مُـحمد': 200, 'ali-عّـلي': 200 });
    // Inconsistent as it stands: a mark of Script=Arabic itself (U+0610, an honorific sign) before
    // the tatweel passes the look-behind, the commoner harakat (Script Inherited) do not.
    expect(await statusOf('ali-ع\u0610ـلي')).toBe(200);
    // Kana likewise: the combining semi-voiced mark (U+309A, Inherited; コ゚ has no precomposed form,
    // Japanese writes its nasal ga-row so) before ー: served by 2f6b777, 401 since cc51de9.
    expect(await statusOf('tanaka-コ\u309Aー')).toBe(200);
  });

  // cc51de9's rule, in its comment and README: kana's marks, Bopomofo's tone marks and the tatweel
  // "count as theirs right after a LETTER of their script ... not elsewhere (`police-中ｰ1`), where
  // they are drawn as a hyphen or an underscore". Its look-behind asks for `\p{Script=Katakana}` /
  // `\p{Script=Arabic}`, which hold far more than letters: Arabic's digits (١ U+0661, ۱ U+06F1),
  // punctuation (٭ U+066D, the full stop ۔ U+06D4, drawn as a dash), symbols (۞), the circled
  // katakana ㋐ (U+32D0, a symbol) and 🈀 (Hiragana). After any of them the mark is taken as a word's:
  // `police-١ـ1` is served beside the different id `police-١_1`, and `police-㋐ｰ1` beside
  // `police-㋐-1` — what cc51de9 refused for `police-中ｰ1` and `police-、ｰ1`.
  it('refuses ｰ / ـ after a digit, punctuation mark or symbol of kana or Arabic beside Latin (police-١ـ1, police-㋐ｰ1)', async () => {
    const got: Record<string, number> = {};
    for (const user of ['police-١ـ1', 'police-٭ـ1', 'police-۔ـ1', 'police-۞ـ1', 'police-㋐ｰ1', 'police-🈀ー1', 'police-˪ˉ1', 'police-、ｰ1']) got[user] = await statusOf(user);
    expect(got).toEqual({ 'police-١ـ1': 401, 'police-٭ـ1': 401, 'police-۔ـ1': 401, 'police-۞ـ1': 401, 'police-㋐ｰ1': 401, 'police-🈀ー1': 401, 'police-˪ˉ1': 401, 'police-、ｰ1': 401 });
    // With an ASCII hyphen or underscore instead they are refused too: a digit or symbol of a
    // script of its own beside Latin, outside a word of that script (١ passes for a one).
    expect([await statusOf('police-١_1'), await statusOf('police-㋐-1')]).toEqual([401, 401]);
  });

  // --- 12d3170: bench's number flags through decimalFlag --------------------------------------

  // Before 12d3170 `--soak 0` skipped the soak (`if (SOAK > 0 && want('soak'))`, and the report's
  // "not measured" row), as `--high-load 0` skips the second load (its refusal still says "0: not
  // measured"). 12d3170 put --soak in the `value >= 1` loop with --minors and --runs: `--soak 0` is
  // now refused. Run with an invalid --pg-port so that neither version goes on to start a Postgres:
  // the refusal must name --pg-port, not --soak.
  it('npm run bench still takes --soak 0 (no soak), as before 12d3170', async () => {
    const r = await run(tsx, [path.join(__dirname, '..', 'bench', 'run.ts'), '--soak', '0', '--high-load', '0', '--pg-port', 'x']).then(
      () => ({ code: 0, stderr: '' }),
      (e) => ({ code: e.code as number, stderr: String(e.stderr) }),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toMatch(/--soak/);
    expect(r.stderr).toMatch(/--pg-port/);
  });

  // 12d3170: "bench's flags were unchecked". `--only` still is: a scenario named otherwise than
  // s1…s5 / soak / gateways (`--only S1`, `--only s6`, `--only s1;s2`) is no scenario, the run
  // builds, loads its data set (minutes), measures nothing and writes an empty bench/RESULTS.md over
  // the last one. Refused before anything runs, as every other flag now is.
  it('npm run bench refuses an --only naming no scenario before anything runs', async () => {
    const r = await run(tsx, [path.join(__dirname, '..', 'bench', 'run.ts'), '--only', 'S1', '--pg-port', 'x']).then(
      () => ({ code: 0, stderr: '' }),
      (e) => ({ code: e.code as number, stderr: String(e.stderr) }),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--only/);
  });

  // --- 04ef33d: x-purpose reference with two spaces, on the compiled-read path ------------------

  // The compiled read (`minor(id:)` alone) parses x-purpose itself and falls back on any doubt: a
  // reference with two spaces (as sent, or percent-encoded) must be refused there as on the general
  // path, BAD_USER_INPUT naming x-purpose, with no child read and no purpose recorded.
  it('refuses a two-space reference on the compiled-read path as on the general one (held)', async () => {
    const police = await t.token(Department.POLICE, { user: 'rt21-police' });
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor WHERE registry.is_minor(birth_date, now()) ORDER BY id LIMIT 1`);
    const body = { query: 'query One($id: ID!) { minor(id: $id) { name } }', variables: { id } };
    for (const header of ['CASE_HANDLING; 2026  0042', 'CASE_HANDLING; 2026%20%200042', 'case_handling;2026 %200042']) {
      const r = await post(t, police, body, { 'x-purpose': header });
      expect([header, r.status, r.json?.errors?.[0]?.extensions?.code, r.json?.errors?.[0]?.extensions?.field, r.json?.data?.minor ?? null]).toEqual([header, 400, 'BAD_USER_INPUT', 'x-purpose', null]);
      const event = await storedEventOf(t, r.requestId);
      expect([header, event.purpose ?? null]).toEqual([header, null]);
    }
    // Control: one space is served on that path.
    const ok = await post(t, police, body, { 'x-purpose': 'CASE_HANDLING; 2026 0042' });
    expect([ok.status, ok.json?.data?.minor?.name].map(Boolean)).toEqual([true, true]);
  });
});
