import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { format, promisify } from 'node:util';
import { statusForUser } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 24 (rt24a): regression review of 0bcb1db (token subjects: isAsciiCompatibility,
 * COMMON_SIGN, SIGN_IN_A_WORD_OF_ITS_SCRIPT, JOINS_NO_LEFT) and c8471fa (a subgraph URL's
 * `user:password@` never quoted). README `--user`: "so that no two ids look alike to an auditor";
 * `HUB_SUBGRAPH_URLS`: "No error or log line quotes a URL's `user:password@`".
 */

const DATA = { HUB_DATA_DIR: process.env.HUB_TEST_DATA_DIR };
const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const cli = path.join(__dirname, '..', 'src', 'cli', 'token.cli.ts');
/** `npm run token -- …` as a user runs it. */
const tokenTool = (args: string[]) =>
  promisify(execFile)(tsx, [cli, ...args], { env: { ...process.env, ...DATA } }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e) => ({ code: e.code as number, stdout: String(e.stdout) }),
  );

describe('the hub, red team 24', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t?.stop());

  const statusFor = (user: string) => statusForUser(t, user);

  // 0bcb1db refuses U+2010 and U+2212 beside Latin (COMMON_SIGN: Nd, Pd, Pc, Po, Sm only), but the
  // MODIFIER LETTER MINUS SIGN U+02D7 is Sk (Common): Unicode's confusables map it to `-`.
  // Latin letters past Extended-A are never looked at outside readsAsHub: the small capital ᴏ
  // U+1D0F (confusable with `o`), the dental click ǀ U+01C0 (drawn as `l`). A soft-dotted `i`
  // takes a combining dot above in place of its own (Unicode's Soft_Dotted): `i\u0307` is drawn `i`.
  it.each([
    ['police\u02D7officer\u02D71', 'police-officer-1 (U+02D7 MODIFIER LETTER MINUS SIGN)'],
    ['p\u1D0Flice-\u1D0Ffficer-1', 'police-officer-1 (U+1D0F LATIN LETTER SMALL CAPITAL O)'],
    ['poli\u0307ce-officer-1', 'police-officer-1 (i + U+0307 COMBINING DOT ABOVE)'],
    ['teacher-\u01C0i', 'teacher-li (U+01C0 LATIN LETTER DENTAL CLICK)'],
    // The same ids without a Latin letter: COMMON_SIGN and isStraySign only looked beside Latin, so a
    // Han name took Arabic's ١ or the hyphen U+2010 — while 0bcb1db refuses `张三１` as passing for
    // `张三1`. All-Cyrillic ids drawn exactly as ASCII ones (`јое-1` for `joe-1`) mix no scripts.
    ['\u5F20\u4E09\u0661', '张三1 (U+0661 ARABIC-INDIC DIGIT ONE)'],
    ['\u5F20\u4E09\u20101', '张三-1 (U+2010 HYPHEN)'],
    ['\u0458\u043E\u0435-1', 'joe-1 (Cyrillic је, о, е)'],
    // Beside Latin a letter of Arabic or Hebrew was allowed on its own (FOREIGN_LETTER), though 0bcb1db
    // itself notes alef is drawn as the ١ it refuses: alef U+0627 and vav U+05D5 are a vertical stroke,
    // Unicode's confusables for `l`, so `teacher-اi` is drawn as `teacher-li` (one RTL letter keeps its place).
    ['teacher-\u0627i', 'teacher-li (U+0627 ARABIC LETTER ALEF)'],
    ['teacher-\u05D5i', 'teacher-li (U+05D5 HEBREW LETTER VAV)'],
  ])('a token for %s, passing for %s, is refused (401)', async (user, _passesFor) => {
    expect([user, await statusFor(user)]).toEqual([user, 401]);
  });

  // ... and npm run token signs one, though it checks the id as the hub does to refuse it first.
  it('npm run token refuses --user police˗officer˗1 (U+02D7), which passes for the default police-officer-1', async () => {
    const signed = await tokenTool(['--department', 'POLICE', '--user', 'police\u02D7officer\u02D71']);
    expect([signed.code, signed.stdout]).toEqual([2, '']);
  });

  // Wrongly refused: the Chinese 间隔号 of a minority name is U+00B7 (GB 18030's A1A4, what Chinese
  // input methods type), yet only the katakana `・` is exempted beside Latin (CJK_WORD_PUNCTUATION),
  // so `li-阿卜杜拉・买买提` is an id and `li-阿卜杜拉·买买提` is not; and Uzbek's official Latin
  // letters oʻ and gʻ are written with U+02BB (a Common letter, FOREIGN_LETTER), drawn as the ‘
  // README keeps (`O’Brien`). Neither passes for another id.
  it.each([
    ['li-\u963F\u535C\u675C\u62C9\u00B7\u4E70\u4E70\u63D0', 'li-阿卜杜拉·买买提 (Uyghur name in Chinese, U+00B7)'],
    ['G\u02BBulomov', 'Gʻulomov (Uzbek Latin, U+02BB)'],
    // Judged in every id now, the signs of a Han or Arabic word stay: full-width punctuation after a
    // Han letter, the Arabic comma after an Arabic letter.
    ['\u674E\u660E\uFF1A\u6C11\u653F', '李明：民政 (U+FF1A FULLWIDTH COLON)'],
    ['\u0639\u0644\u064A\u060C\u062D\u0633\u0646', 'علي،حسن (U+060C ARABIC COMMA)'],
  ])('a token for %s (%s) is accepted', async (user, _what) => {
    expect([user, await statusFor(user)]).toEqual([user, 200]);
  });
});

// `npm run compose` writes the supergraph and then logs a line naming every subgraph's URL whole,
// `user:password@` included (compose.cli.ts:21), where README promises a log line blanks it.
it("npm run compose's log line does not quote a subgraph URL's password", async () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rt24a-')), 'supergraph.graphql');
  const saved = { argv: process.argv, env: { ...process.env } };
  const lines: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...args) => void lines.push(format(...args)));
  const error = jest.spyOn(console, 'error').mockImplementation((...args) => void lines.push(format(...args)));
  const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
  try {
    Object.assign(process.env, DATA, { HUB_SUBGRAPH_URLS: 'registry=https://svc:s3cr3t-PW@registry.internal/graphql' });
    process.argv = ['node', 'compose.cli.ts', '--out', out];
    jest.isolateModules(() => require('../src/cli/compose.cli'));
    for (let i = 0; i < 600 && !lines.length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(lines.some((l) => l.includes('registry'))).toBe(true);
    expect(lines.filter((l) => l.includes('s3cr3t'))).toEqual([]);
  } finally {
    process.argv = saved.argv;
    process.env = saved.env;
    log.mockRestore();
    error.mockRestore();
    exit.mockRestore();
  }
});

