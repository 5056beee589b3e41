import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { format, promisify } from 'node:util';
import { Department } from '../src/auth/principal';
import { DATA, refusalOf } from './support/config-refusal';
import { statusForUser } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 23 (rt23c): regression review of 5e921a1 + 53803f2 (token subjects: IN_A_WORD_OF_ITS_SCRIPT,
 * STRAY_SIGN), 0e550ff + 53803f2 + 645db24 (DATABASE_URL, HUB_SUBGRAPH_URLS, parseArgs) and b98b1ee.
 * README `--user`: "so that no two ids look alike to an auditor".
 */


const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const cli = path.join(__dirname, '..', 'src', 'cli', 'token.cli.ts');
/** `npm run token -- …` as a user runs it. */
const tokenTool = (args: string[]) =>
  promisify(execFile)(tsx, [cli, ...args], { env: { ...process.env, ...DATA } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: String(e.stdout), stderr: String(e.stderr) }),
  );

describe('HUB_SUBGRAPH_URLS credentials are never echoed (0e550ff, red team 23)', () => {
  // minipass-fetch (the gateway's fetcher) sends a URL's user:password as Basic auth: a subgraph
  // behind a proxy asking for it is configured so. Each refusal quotes the entry whole.
  it.each([
    ['a query string (0e550ff)', 'registry=https://svc:s3cr3t-PW@registry.internal/graphql?v=1', 'test'],
    ['a fragment (0e550ff)', 'registry=https://svc:s3cr3t-PW@registry.internal/graphql#x', 'test'],
    ['http: in production', 'registry=http://svc:s3cr3t-PW@registry.internal/graphql', 'production'],
  ])('an entry with %s is refused without echoing its password', (_what, raw, NODE_ENV) => {
    const refused = refusalOf({
      NODE_ENV,
      HUB_SUBGRAPH_URLS: raw,
      HUB_JWKS_URL: 'https://idp.example/jwks',
      HUB_GATEWAY_SECRET: randomBytes(32).toString('hex'),
      HUB_AUDIT_KEY: randomBytes(32).toString('hex'),
    });
    expect(refused).toMatch(/HUB_SUBGRAPH_URLS/);
    expect(refused).not.toMatch(/s3cr3t/);
  });
});

describe('the hub, red team 23', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t?.stop());

  const statusFor = (user: string) => statusForUser(t, user);

  // 53803f2 refuses `police-١_1` (Arabic-Indic one) and `policeः1` (visarga for a colon) beside Latin,
  // but exempts every character of Script=Common (token.service.ts:88): the hyphen, colon and digit
  // one drawn exactly as ASCII's, Common's own, pass for the ASCII id — the default `police-officer-1` too.
  it.each([
    ['police\u2010officer\u20101', 'police-officer-1 (U+2010 HYPHEN)'],
    ['police\u2212officer\u22121', 'police-officer-1 (U+2212 MINUS SIGN)'],
    ['police-\u{1D7E3}_1', 'police-1_1 (U+1D7E3 MATHEMATICAL SANS-SERIF DIGIT ONE)'],
    ['police-officer-\u{1D7CF}', 'police-officer-1 (U+1D7CF MATHEMATICAL BOLD DIGIT ONE)'],
    ['police\u22361', 'police:1 (U+2236 RATIO)'],
  ])('a token for %s, passing for %s, is refused (401)', async (user, _passesFor) => {
    expect([user, await statusFor(user)]).toEqual([user, 401]);
  });

  // 53803f2's STRAY_SIGN lets a sign of a script through after a letter of any script but Latin, not
  // only of its own: after a Han letter (HOME, allowed beside Latin), Devanagari's visarga, Hebrew's
  // sof pasuq and Arabic's ١ pass for `:` and `1` in an id the hub accepts (`police-中:1`, `police-中11`).
  it.each([
    ['police-\u4E2D\u09031', 'police-中:1'],
    ['police-\u674E\u05C31', 'police-李:1'],
    ['police-\u4E2D\u06611', 'police-中11'],
  ])('a token for %s, passing for %s, is refused (401)', async (user, _passesFor) => {
    expect([user, await statusFor(user)]).toEqual([user, 401]);
  });

  // No Latin letter at all, so neither FOREIGN_LETTER nor STRAY_SIGN looks: mathematical
  // alphanumerics (Script=Common letters, NFKC `police-officer-1`) are the ASCII id drawn again.
  it('a token for 𝗉𝗈𝗅𝗂𝖼𝖾-𝗈𝖿𝖿𝗂𝖼𝖾𝗋-𝟣 (mathematical sans-serif, passing for police-officer-1) is refused, and npm run token refuses it', async () => {
    const user = '\u{1D5C9}\u{1D5C8}\u{1D5C5}\u{1D5C2}\u{1D5BC}\u{1D5BE}-\u{1D5C8}\u{1D5BF}\u{1D5BF}\u{1D5C2}\u{1D5BC}\u{1D5BE}\u{1D5CB}-\u{1D7E3}';
    expect(user.normalize('NFKC')).toBe('police-officer-1');
    const signed = await tokenTool(['--department', 'POLICE', '--user', user]);
    expect([signed.code, signed.stdout]).toEqual([2, '']);
    expect(await statusFor(user)).toBe(401);
  });

  // 5e921a1: a tatweel counts as the word's "right after a letter of [Arabic]". A tatweel only
  // stretches a join: after a letter that joins nothing on its left (alef, dal, ra, waw, hamza) or
  // with no Arabic letter after it, it is a free-standing baseline stroke, an underscore — and alef
  // is drawn as the ١ 53803f2 refuses: `police-اـ1` passes for `police-١_1` / `police-l_1`.
  it.each(['police-\u0627\u06401', 'police-\u062F\u06401', 'police-\u0621\u06401', 'police-\u0639\u06401'])(
    'a token for %s (a tatweel joining nothing) is refused (401)',
    async (user) => {
      expect([user, await statusFor(user)]).toEqual([user, 401]);
    },
  );
});

// A subgraph URL's credentials reach the log through the fetcher's error message
// (minipass-fetch: "request to http://svc:s3cr3t@… failed"), which loggableError prints whole.
it('a subgraph URL\'s password is not logged when the subgraph is unreachable (red team 23)', async () => {
  const lines: string[] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((...args) => void lines.push(format(...args)));
  const t = await startTestHub({ gatewaySecret: randomBytes(32).toString('hex'), subgraphUrls: { registry: 'http://svc:s3cr3t-PW@127.0.0.1:9/graphql' } });
  try {
    const r = await t.gql(await t.token(Department.CIVIL_AFFAIRS), '{ regions { code } }', undefined, {});
    expect(r.errors?.length).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes('registry'))).toBe(true);
    expect(lines.filter((l) => l.includes('s3cr3t'))).toEqual([]);
  } finally {
    spy.mockRestore();
    await t.stop();
  }
});
