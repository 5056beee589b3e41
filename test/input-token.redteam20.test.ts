import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { Department } from '../src/auth/principal';
import { post, storedEventOf } from './support/audit-helpers';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 20 (rt202): regression review of d8b206e (requireLine composes NFC before measuring),
 * 0efd146 (ー / ｰ / tatweel / kana repeat marks inside a word of their script beside Latin),
 * 04ef33d (x-purpose reference: two spaces refused), 12d3170 (decimalFlag for CLI number flags).
 */
const { CIVIL_AFFAIRS: CA, EDUCATION: ED } = Department;
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; rt20' };
const codes = (r: { json: any }) => (r.json?.errors ?? []).map((e: any) => e.extensions?.code);

const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const TOKEN_CLI = path.join(__dirname, '..', 'src', 'cli', 'token.cli.ts');
/** `npm run token -- …`: the token printed, or the refusal on stderr. */
const tokenCli = (args: string[]) =>
  promisify(execFile)(tsx, [TOKEN_CLI, ...args]).then(
    (r) => ({ token: r.stdout.trim() as string | null, stderr: null as string | null }),
    (e) => ({ token: null as string | null, stderr: String(e.stderr) }),
  );

describe('regressions of d8b206e / 0efd146 / 04ef33d / 12d3170 (redteam20, rt202)', () => {
  let t: TestHub;
  let civil: string;
  let education: string;
  let child: string;

  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(CA, { user: 'rt20-civil', region: '330102001' });
    education = await t.token(ED, { user: 'rt20-edu', region: '330102001' });
    // Old enough for every record (a dropout is of no child under 6).
    [{ id: child }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' AND registry.is_minor(birth_date, now()) AND birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '16 years' ORDER BY id LIMIT 1`);
  });
  afterAll(() => t?.stop());

  const statusOf = async (user: string) => (await post(t, await t.token(CA, { user, region: '330102001' }), { query: '{ regions { code } }' }, PURPOSE)).status;

  // --- 0efd146 -------------------------------------------------------------------------------

  // Controls: what 0efd146 set out to allow, and what it says stays refused.
  it('serves tanaka-コーチ / ali-عـلي and still refuses ｰ, ـ beside Latin alone', async () => {
    const got: Record<string, number> = {};
    for (const user of ['tanaka-コーチ', 'ali-عـلي', 'yamada-ﾗｰﾒﾝ', 'police-中-1', 'policeｰ1', 'police_ـ1', 'policeﾞ1', 'hubｰx', 'hｰb:x', 'hubー']) got[user] = await statusOf(user);
    expect(got).toEqual({ 'tanaka-コーチ': 200, 'ali-عـلي': 200, 'yamada-ﾗｰﾒﾝ': 200, 'police-中-1': 200, 'policeｰ1': 401, 'police_ـ1': 401, 'policeﾞ1': 401, 'hubｰx': 401, 'hｰb:x': 401, 'hubー': 401 });
  });

  // IN_A_WORD_OF_ITS_SCRIPT's look-behind takes a Han letter as "a word of its script" for the kana
  // marks: ー (U+30FC), ｰ (U+FF70), ﾞ, ﾟ have Script_Extensions Hiragana+Katakana only, not Han. The
  // commit, its comment and README allow them "within a word of kana" ("Letters Unicode gives to no
  // script but those of the word they are written in"); after a Han letter they are in no word of
  // theirs, and beside Latin ｰ is drawn as the hyphen of `police-中-1`, a different id.
  it('refuses kana length marks written after a Han letter beside Latin (police-中ｰ1 passes for police-中-1)', async () => {
    const got: Record<string, number> = {};
    for (const user of ['police-中ｰ1', 'police-中ｰofficer', 'officer中ﾞs', 'police-中、ｰ1']) got[user] = await statusOf(user);
    expect(got).toEqual({ 'police-中ｰ1': 401, 'police-中ｰofficer': 401, 'officer中ﾞs': 401, 'police-中、ｰ1': 401 });
  });

  // Sibling of 0efd146: Bopomofo, a script README lets a user id mix with Latin, writes its tones with
  // the spacing modifier letters ˊ ˇ ˋ (Script Common, Script_Extensions Bopomofo) — as kana its ー.
  // 0efd146 covered kana and Arabic only: an id `wang-ㄨㄤˊ` is refused as mixing a foreign letter.
  it('serves a user id with a Bopomofo word written with its tone mark beside Latin (wang-ㄨㄤˊ)', async () => {
    expect(await statusOf('wang-ㄨㄤˊ')).toBe(200);
  });

  // The CLI decides with the hub's own isTokenSubject: the same ids are refused there.
  it('npm run token agrees with the hub on the ids 0efd146 changed', async () => {
    const got: Record<string, boolean> = {};
    for (const user of ['tanaka-コーチ', 'ali-عـلي', 'policeｰ1', 'hubｰx']) got[user] = (await tokenCli(['--department', 'POLICE', '--user', user])).token !== null;
    expect(got).toEqual({ 'tanaka-コーチ': true, 'ali-عـلي': true, 'policeｰ1': false, 'hubｰx': false });
  });

  // --- CLI flags (12d3170 and parseArgs) -------------------------------------------------------

  it('npm run token reads --expires-in in decimal digits only, and accepts leading zeros and 15 digits', async () => {
    const lived = async (v: string) => {
      const r = await tokenCli(['--department', 'POLICE', '--expires-in', v]);
      return r.token ? ((p) => (p.exp as number) - (p.iat as number))(decodeJwt(r.token)) : r.stderr?.includes('--expires-in') ? 'refused' : r.stderr;
    };
    const got: Record<string, unknown> = {};
    for (const v of ['00060', '0', '000', '+5', ' 5', '5 ', '', '-5', '٥', '999999999999999', '1000000000000000']) got[JSON.stringify(v)] = await lived(v);
    expect(got).toEqual({
      '"00060"': 60,
      '"0"': 'refused',
      '"000"': 'refused',
      '"+5"': 'refused',
      '" 5"': 'refused',
      '"5 "': 'refused',
      '""': 'refused',
      '"-5"': 'refused',
      '"٥"': 'refused',
      '"999999999999999"': 999999999999999,
      '"1000000000000000"': 'refused',
    });
  });

  // parseArgs splits `--name=value` with split('=', 2), which keeps only the text up to the SECOND
  // '=': `--user=ops=lead` signs a token for `ops`, another user, and `--expires-in=60=0` lives 60 s.
  // The same class as 12d3170: a typing error silently taken for a value — here, another identity
  // in the audit trail.
  it('npm run token --user=a=b signs for the user a=b (or refuses), never for a', async () => {
    const r = await tokenCli(['--department', 'POLICE', '--user=ops=lead']);
    expect(r.token ? decodeJwt(r.token).sub : 'refused').toMatch(/^(ops=lead|refused)$/);
    const e = await tokenCli(['--department', 'POLICE', '--expires-in=60=0']);
    expect(e.token ? 'signed' : 'refused').toBe('refused');
  });

  // A stray positional argument is silently ignored by the token CLI: `--user --region 330102001`
  // signs a token for user `--region` in the DEFAULT region 330102 — the whole district, a wider
  // jurisdiction than the 330102001 typed.
  it('npm run token refuses a stray positional argument instead of signing a wider default region', async () => {
    const r = await tokenCli(['--department', 'POLICE', '--user', '--region', '330102001']);
    const claims = r.token ? decodeJwt(r.token) : null;
    expect([claims?.sub ?? null, claims?.region ?? null]).toEqual([null, null]);
  });

  // subgraph.cli.ts cannot be run under tsx (type-graphql needs the build's decorator metadata):
  // its --port goes through the same decimalFlag, then the 0–65535 check.
  it('decimalFlag (subgraph --port, seed:scale) reads decimal digits only', () => {
    const { decimalFlag } = require('../src/cli/args');
    const port = (v: string | undefined) => decimalFlag(v, 4001);
    const ok = (n: number) => Number.isInteger(n) && n >= 0 && n <= 65535;
    const got = Object.fromEntries(['00080', '65535', '65536', '+80', '0x50', ' 80', '80 ', '1e3', '000000000065536', '', '٨٠'].map((v) => [v, ok(port(v)) ? port(v) : 'refused']));
    expect(got).toEqual({ '00080': 80, '65535': 65535, '65536': 'refused', '+80': 'refused', '0x50': 'refused', ' 80': 'refused', '80 ': 'refused', '1e3': 'refused', '000000000065536': 'refused', '': 'refused', '٨٠': 'refused' });
    expect(port(undefined)).toBe(4001);
  });

  // --- d8b206e ------------------------------------------------------------------------------

  // A filter by school composes like the stored value: decomposed and precomposed spellings of one
  // school find the same reports.
  it('dropoutReports(filter: {school}) finds a school stored composed whichever way it is spelt', async () => {
    const decomposed = 'Escuela Jose\u0301 Marti\u0301 rt20';
    const composed = decomposed.normalize('NFC');
    const made = await post(t, education, { query: `mutation($m: ID!, $s: String!) { createDropoutReport(minorId: $m, input: { school: $s, reportedOn: "2026-11-01", daysAbsent: 5 }) { id school } }`, variables: { m: child, s: decomposed } }, PURPOSE);
    expect(codes(made)).toEqual([]);
    expect(made.json.data.createDropoutReport.school).toBe(composed);
    const find = async (s: string) => (await post(t, education, { query: `query($s: String) { dropoutReports(filter: { school: $s }) { totalCount } }`, variables: { s } }, PURPOSE)).json?.data?.dropoutReports?.totalCount;
    expect([await find(composed), await find(decomposed), await find(` ${decomposed} `)]).toEqual([1, 1, 1]);
  });

  // Measured composed: 50 letters typed with combining accents (100 code points) fit a 50-letter
  // name; a lone surrogate is still refused as input, not an internal error, after normalize().
  it('createMinor name: 50 letters decomposed fit; lone surrogate and 51 composed are BAD_USER_INPUT', async () => {
    const input = (name: string, n: number) => ({
      name,
      idNumber: require('../src/common/id-number').buildIdNumber('330102', '2015-03-04', 800 + n),
      householdRegistration: '浙江省杭州市上城区',
      currentAddress: '浙江省杭州市上城区1号',
      gridCode: undefined as unknown as string,
    });
    const [{ code: grid }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '330102001%' ORDER BY code LIMIT 1`);
    const create = (name: string, n: number) =>
      post(t, civil, { query: `mutation($i: CreateMinorInput!) { createMinor(input: $i) { id name } }`, variables: { i: { ...input(name, n), gridCode: grid } } }, PURPOSE);
    const fits = await create('e\u0301'.repeat(50), 1);
    expect(codes(fits)).toEqual([]);
    expect(fits.json.data.createMinor.name).toBe('\u00e9'.repeat(50));
    const tooLong = await create('e\u0301'.repeat(51), 2);
    const lone = await create('王\uD800小', 3);
    expect([codes(tooLong), codes(lone)]).toEqual([['BAD_USER_INPUT'], ['BAD_USER_INPUT']]);
    expect(JSON.stringify(tooLong.json) + JSON.stringify(lone.json)).not.toMatch(/INTERNAL|stack|violates/i);
  });

  // A judgement listed once per person: its reference is composed before the unique index sees it,
  // so the decomposed and precomposed spellings of one reference are one judgement.
  it('addBarredPerson: one judgement reference in two Unicode spellings is listed once', async () => {
    const police = await t.token(Department.POLICE, { user: 'rt20-police' });
    const idNumber = require('../src/common/id-number').buildIdNumber('330102', '1980-05-04', 321);
    const ADD = `mutation($i: BarredPersonInput!) { addBarredPerson(input: $i) { id judgementReference } }`;
    const ref = '(2026)浙0102刑初42号 Re\u0301sume\u0301';
    const first = await post(t, police, { query: ADD, variables: { i: { idNumber, name: 'Jose\u0301', offence: 'ABUSE', judgementReference: ref } } }, PURPOSE);
    expect(codes(first)).toEqual([]);
    expect(first.json.data.addBarredPerson.judgementReference).toBe(ref.normalize('NFC'));
    const again = await post(t, police, { query: ADD, variables: { i: { idNumber, name: 'José', offence: 'ABUSE', judgementReference: ref.normalize('NFC') } } }, PURPOSE);
    expect(codes(again)).toEqual(['BAD_USER_INPUT']);
  });

  // 04ef33d added a check after the others; a reference at the limit, or with the characters the
  // header's own syntax uses, is still served and audited as it was sent.
  it('x-purpose references of exactly 200 characters, with % ; , and Chinese, are served and audited as sent', async () => {
    const refs = ['民'.repeat(200), '100%', 'a;b', 'a, b', '2026-民-0042', 'x'.repeat(199) + '%'];
    for (const ref of refs) {
      const header = /^[\x20-\x7e]*$/.test(ref) && !ref.includes('%') ? ref : encodeURIComponent(ref);
      const r = await post(t, civil, { query: `query($id: ID!) { minor(id: $id) { id } }`, variables: { id: child } }, { 'x-purpose': `CASE_HANDLING; ${header}` });
      expect([ref, r.status, codes(r)]).toEqual([ref, 200, []]);
      const ev = await storedEventOf(t, r.requestId);
      expect(ev.purpose).toEqual({ code: 'CASE_HANDLING', reference: ref });
    }
    const over = await post(t, civil, { query: '{ regions { code } }' }, { 'x-purpose': `CASE_HANDLING; ${encodeURIComponent('民'.repeat(201))}` });
    expect([over.status, codes(over)]).toEqual([400, ['BAD_USER_INPUT']]);
  });
});

describe('x-purpose references in distributed mode (gateway-assertion re-parses them) (rt202)', () => {
  let t: TestHub;
  let civil: string;
  let child: string;
  beforeAll(async () => {
    t = await startDistributedTestHub();
    civil = await t.token(CA, { user: 'rt20-civil-d', region: '330102001' });
    [{ id: child }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' AND registry.is_minor(birth_date, now()) ORDER BY id LIMIT 1`);
  });
  afterAll(() => t?.stop());

  it('serves at the subgraph every reference the gateway accepts (200 chars, %, ;, comma, Chinese, %25)', async () => {
    const headers = [
      `CASE_HANDLING; ${encodeURIComponent('民'.repeat(200))}`,
      'CASE_HANDLING; 100%',
      'CASE_HANDLING; 100%25',
      'CASE_HANDLING; a;b',
      'CASE_HANDLING; a, b',
      'CASE_HANDLING; a%3Bb%2C c',
      'CASE_HANDLING; %E6%B0%91 50%',
      'CASE_HANDLING; ' + 'x'.repeat(199) + '%',
      'CASE_HANDLING; 2026 0042',
      'CASE_HANDLING; café',
    ];
    for (const h of headers) {
      const r = await post(t, civil, { query: `query($id: ID!) { minor(id: $id) { id name } }`, variables: { id: child } }, { 'x-purpose': h });
      expect([h, r.status, codes(r), r.json?.data?.minor?.id]).toEqual([h, 200, [], child]);
      const ev = await storedEventOf(t, r.requestId);
      const raw = h.slice('CASE_HANDLING; '.length);
      let expected = raw;
      try {
        expected = decodeURIComponent(raw);
      } catch {
        /* kept as sent */
      }
      expect([h, ev.purpose]).toEqual([h, { code: 'CASE_HANDLING', reference: expected }]);
    }
    const two = await post(t, civil, { query: `query($id: ID!) { minor(id: $id) { id } }`, variables: { id: child } }, { 'x-purpose': 'CASE_HANDLING; 2026%20%200042' });
    expect([two.status, codes(two)]).toEqual([400, ['BAD_USER_INPUT']]);
  });
});
