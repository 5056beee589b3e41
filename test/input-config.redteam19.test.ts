import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { Department } from '../src/auth/principal';
import { seedScale } from '../src/cli/seed-scale.cli';
import { buildIdNumber } from '../src/common/id-number';
import { startSubgraphServer, SubgraphServer } from '../src/server/subgraph.server';
import { post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 19 (rt194): regression review of 498b4e7 (one-line text kept in NFC, two spaces refused),
 * bebe302 (configuration: blanks unset, decimal digits), 4cf0f1b (npm run subgraph --port decimal),
 * a84e932 (/graphql serves its own path only), probed through the public endpoint and the CLIs.
 */
const { CIVIL_AFFAIRS: CA, EDUCATION: ED } = Department;
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; rt19' };
const CREATE = `mutation($i: CreateMinorInput!) { createMinor(input: $i) { id name } }`;

/** A request with any method, path and body; answers status, content type and the text. */
function raw(url: string, method: string, headers: Record<string, string>, body: string): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type'] ?? ''), text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('regressions of 498b4e7 / bebe302 / 4cf0f1b / a84e932 (redteam19, rt194)', () => {
  let t: TestHub;
  let civil: string;
  let education: string;
  let grid: string;
  let child: string;
  let seq = 700;

  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(CA, { user: 'rt19-civil', region: '330102001' });
    education = await t.token(ED, { user: 'rt19-edu', region: '330102001' });
    [{ code: grid }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '330102001%' ORDER BY code LIMIT 1`);
    // Old enough for every record (a dropout is of no child under 6).
    [{ id: child }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' AND registry.is_minor(birth_date, now()) AND birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '16 years' ORDER BY id LIMIT 1`);
  });
  afterAll(() => t?.stop());

  const send = (token: string, query: string, variables: Record<string, unknown> = {}) => post(t, token, { query, variables }, PURPOSE);
  const minorInput = (extra: Record<string, unknown> = {}) => ({
    name: '王小雨',
    idNumber: buildIdNumber('330102', '2015-03-04', seq++),
    householdRegistration: '浙江省杭州市上城区',
    currentAddress: '浙江省杭州市上城区1号',
    gridCode: grid,
    ...extra,
  });
  const codes = (r: { json: any }) => (r.json?.errors ?? []).map((e: any) => e.extensions?.code);

  // requireLine counts the characters of the text as sent, then stores its NFC. NFC is not always
  // shorter: a Hebrew presentation form (U+FB2C, `שּׁ`) is three code points composed, a Devanagari
  // nukta letter (U+0958, `क़`) two. A name within 50 characters as sent may be 150 once stored, past
  // the column's CHECK (length(name) BETWEEN 1 AND 50): a check violation, not the field's refusal.
  it('refuses, as BAD_USER_INPUT naming the field, a one-line text whose NFC is longer than its limit', async () => {
    const longOnceComposed = '\uFB2C'.repeat(20); // 20 code points sent, 60 stored
    expect(longOnceComposed.normalize('NFC').length).toBe(60);

    const created = await send(civil, CREATE, { i: minorInput({ name: longOnceComposed }) });
    const guardian = await send(civil, `mutation($m: ID!, $n: String!) { addGuardian(minorId: $m, input: { relationship: GRANDPARENT, name: $n, phone: "13900001111", situation: NORMAL }) { id } }`, { m: child, n: '\u0958'.repeat(40) });
    const dropout = await send(education, `mutation($m: ID!, $s: String!) { createDropoutReport(minorId: $m, input: { school: $s, reportedOn: "2026-11-01", daysAbsent: 5 }) { id } }`, { m: child, s: '\uFB2C'.repeat(40) });
    const renamed = await send(civil, `mutation($id: ID!, $n: String!) { updateMinor(id: $id, input: { name: $n }) { id } }`, { id: child, n: '\u0958'.repeat(30) });
    expect({ createMinor: codes(created), addGuardian: codes(guardian), createDropoutReport: codes(dropout), updateMinor: codes(renamed) }).toEqual({
      createMinor: ['BAD_USER_INPUT'],
      addGuardian: ['BAD_USER_INPUT'],
      createDropoutReport: ['BAD_USER_INPUT'],
      updateMinor: ['BAD_USER_INPUT'],
    });
  });

  // Where no CHECK guards the column the text is stored past its limit without a word: a judgement
  // reference (at most 200 characters) of 100 presentation forms is stored as 300.
  it('does not store a bar\'s judgement reference longer than its limit once composed', async () => {
    const police = await t.token(Department.POLICE, { user: 'rt19-police' });
    const reference = '\uFB2C'.repeat(100);
    const r = await send(police, `mutation($i: BarredPersonInput!) { addBarredPerson(input: $i) { id } }`, {
      i: { idNumber: buildIdNumber('330102', '1990-01-01', seq++), name: '张某', offence: 'ABUSE', judgementReference: reference },
    });
    const stored: { n: number }[] = await t.sql(`SELECT count(*)::int AS n FROM workflow.barred_person WHERE length(judgement_reference) > 200`);
    expect({ codes: codes(r), longerStored: stored[0].n }).toEqual({ codes: ['BAD_USER_INPUT'], longerStored: 0 });
  });

  // The same limit the other way round: a name of 50 characters as drawn and stored, typed with
  // combining accents (as some keyboards write Vietnamese), is more than 50 code points as sent.
  // README: "`Jose` with a combining accent is stored `José`" — the limit is the stored name's.
  it('accepts a name typed decomposed whose NFC, the name stored, is within the limit', async () => {
    const composed = 'Nguyễn Thị Minh Khai Trần Hưng Đạo Lê Lợi Hồ Xuâ'; // 49-50 characters composed
    expect(Array.from(composed).length).toBeLessThanOrEqual(50);
    const decomposed = composed.normalize('NFD');
    expect(Array.from(decomposed).length).toBeGreaterThan(50);
    const created = await send(civil, CREATE, { i: minorInput({ name: decomposed }) });
    expect(created.json.errors).toBeUndefined();
    expect(created.json.data.createMinor.name).toBe(composed);
  });

  // 498b4e7 composes the stored text and the dropout filter alike: a school typed decomposed finds
  // the one stored composed; the same name re-sent decomposed to updateMinor changes nothing.
  it('finds a record by a one-line filter typed decomposed, and an update to the same name decomposed changes nothing', async () => {
    const school = 'Trường Nguyễn Du rt19';
    const made = await send(education, `mutation($m: ID!, $s: String!) { createDropoutReport(minorId: $m, input: { school: $s, reportedOn: "2026-11-01", daysAbsent: 5 }) { id school } }`, { m: child, s: school.normalize('NFD') });
    expect(made.json.errors).toBeUndefined();
    expect(made.json.data.createDropoutReport.school).toBe(school);
    const found = await send(education, `query($s: String!) { dropoutReports(filter: { school: $s }) { nodes { id } } }`, { s: school.normalize('NFD') });
    expect(found.json.errors).toBeUndefined();
    expect(found.json.data.dropoutReports.nodes.map((n: { id: string }) => n.id)).toEqual([made.json.data.createDropoutReport.id]);

    const name = 'José Nguyễn';
    const created = await send(civil, CREATE, { i: minorInput({ name }) });
    expect(created.json.errors).toBeUndefined();
    const id = created.json.data.createMinor.id as string;
    const [{ updated_at: before }] = await t.sql(`SELECT updated_at FROM registry.minor WHERE id = $1`, [id]);
    const again = await send(civil, `mutation($id: ID!, $n: String!) { updateMinor(id: $id, input: { name: $n }) { id name } }`, { id, n: name.normalize('NFD') });
    expect(again.json.errors).toBeUndefined();
    expect(again.json.data.updateMinor.name).toBe(name);
    const [{ updated_at: after }] = await t.sql(`SELECT updated_at FROM registry.minor WHERE id = $1`, [id]);
    expect(after).toEqual(before);
  });

  // The line's refusals are applied to the text as sent: every other space, tab and zero-width
  // character is refused as before; two spaces in a row now too.
  it('refuses in a name tabs, NBSP, ideographic space, zero-width characters and two spaces; accepts one space', async () => {
    for (const bad of ['王\t小雨', '王\u00A0小雨', '王\u3000小雨', '王\u200B小雨', '王\u2060小雨', '王  小雨', '王 \u2000小雨', 'Maria\u0020\u0020Garcia']) {
      const r = await send(civil, CREATE, { i: minorInput({ name: bad }) });
      expect([bad, codes(r)]).toEqual([bad, ['BAD_USER_INPUT']]);
    }
    const ok = await send(civil, CREATE, { i: minorInput({ name: '  Maria Garcia ' }) });
    expect(ok.json.errors).toBeUndefined();
    expect(ok.json.data.createMinor.name).toBe('Maria Garcia');
  });

  // 498b4e7 refuses a user id mixing Latin with a letter of any script outside the hub's. But some
  // letters of kana and Arabic words are of no script (Unicode's Common): the katakana prolonged sound
  // mark ー (U+30FC, in コーチ, ユーザー), its half-width ｰ, the Arabic tatweel ـ (U+0640). README: "no
  // Latin letters mixed with letters of any script but Han, kana, Hangul, Bopomofo, Arabic, …": an id
  // of Latin and kana, `tanaka-コチ`, is one; `tanaka-コーチ` was one before 498b4e7 and is 401 since.
  it('serves a token whose user id mixes Latin with a kana or Arabic word written with ー or ـ', async () => {
    const answers: Record<string, number> = {};
    for (const user of ['tanaka-コチ', 'tanaka-コーチ', 'yamada-ﾗｰﾒﾝ', 'ali-عـلي']) {
      const r = await send(await t.token(CA, { user, region: '330102001' }), '{ regions { code } }');
      answers[user] = r.status;
    }
    expect(answers).toEqual({ 'tanaka-コチ': 200, 'tanaka-コーチ': 200, 'yamada-ﾗｰﾒﾝ': 200, 'ali-عـلي': 200 });
  });

  // The x-purpose reference follows the rules of a line of text (src/audit/purpose.ts: "As a line of
  // text (common/validation.ts)") and is kept in NFC "as user ids". 498b4e7 refused two spaces in a
  // row in names, addresses (and ids refused them already): drawn as one, `2026  0042` is read by an
  // auditor as the `2026 0042` it is stored apart from. The reference still takes them.
  it('refuses an x-purpose reference with two spaces in a row, as a line of text and a user id', async () => {
    const one = await post(t, civil, { query: '{ regions { code } }' }, { 'x-purpose': 'CASE_HANDLING; 2026 0042' });
    expect(one.status).toBe(200);
    const two = await post(t, civil, { query: `query($id: ID!) { minor(id: $id) { id } }`, variables: { id: child } }, { 'x-purpose': 'CASE_HANDLING; 2026  0042' });
    expect([two.status, two.json.errors?.[0]?.extensions?.code]).toEqual([400, 'BAD_USER_INPUT']);
  });

  // a84e932: /graphql serves its own path (and /graphql/), every other path is a JSON 404.
  it('answers every path but /graphql as a JSON 404 on the hub, never HTML or a 500', async () => {
    const base = t.hub.url.replace(/\/graphql$/, '');
    const body = JSON.stringify({ query: '{ __typename }' });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${civil}`, ...PURPOSE };
    for (const [method, p] of [
      ...['/graphql/x', '/graphql/x/', '//graphql', '/graphql%2Fx', '/graphql/..%2Fgraphql', '/graphqlx', '/health/x', '/graphql/%', '/%', '/dashboard/nothing', '/dashboard/../graphql/x'].map((p) => ['POST', p]),
      ['GET', '/graphql/x'],
      ['PUT', '/graphql/x'],
      ['OPTIONS', '/graphql/x'],
    ]) {
      const r = await raw(base + p, method, headers, method === 'GET' ? '' : body);
      expect([method, p, r.status, r.type]).toEqual([method, p, 404, expect.stringMatching(/json/)]);
      expect(JSON.parse(r.text).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    for (const p of ['/graphql', '/graphql/', '/GRAPHQL', '/Graphql/']) {
      const r = await raw(base + p, 'POST', headers, body);
      expect([p, r.status, JSON.parse(r.text)]).toEqual([p, 200, { data: { __typename: 'Query' } }]);
    }
  });

  describe('a subgraph server', () => {
    let sub: SubgraphServer;
    beforeAll(async () => {
      sub = await startSubgraphServer('registry', { ...t.config, gatewaySecret: 'b'.repeat(64) }, 0);
    });
    afterAll(() => sub?.stop());

    it('answers every path but /graphql as a JSON 404, never HTML or a 500', async () => {
      const base = sub.url.replace(/\/graphql$/, '');
      const body = JSON.stringify({ query: '{ __typename }' });
      for (const p of ['/graphql/x', '//graphql', '/graphql%2Fx', '/health/x', '/graphql/%', '/%']) {
        const r = await raw(base + p, 'POST', { 'content-type': 'application/json' }, body);
        expect([p, r.status, r.type]).toEqual([p, 404, expect.stringMatching(/json/)]);
      }
      // The bare path without the gateway's assertion is refused, as JSON.
      const r = await raw(base + '/graphql/', 'POST', { 'content-type': 'application/json' }, body);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.type).toMatch(/json/);
    });
  });

  // 4cf0f1b: `npm run subgraph --port` is read in decimal digits only (Number('0x10') is 16). The
  // other CLIs read their numbers with Number() still.
  it('npm run token refuses an --expires-in not written in decimal digits (0x10, 1e3), as subgraph --port', async () => {
    const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
    const cli = path.join(__dirname, '..', 'src', 'cli', 'token.cli.ts');
    const run = (args: string[]) =>
      promisify(execFile)(tsx, [cli, '--department', 'POLICE', ...args]).then(
        (r) => ({ token: r.stdout.trim(), stderr: null as string | null }),
        (e) => ({ token: null as string | null, stderr: e.stderr as string }),
      );
    for (const lifetime of ['0x10', '1e3', '0b101']) {
      const r = await run(['--expires-in', lifetime]);
      const lived = r.token ? ((p) => (p.exp as number) - (p.iat as number))(decodeJwt(r.token)) : null;
      expect([lifetime, lived, r.stderr]).toEqual([lifetime, null, expect.stringMatching(/--expires-in/)]);
    }
  });

  it('npm run seed:scale refuses --minors or --districts not written in decimal digits', async () => {
    const env = { HUB_DATA_DIR: process.env.HUB_TEST_DATA_DIR, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };
    await expect(seedScale(['--minors', '2e6', '--districts', '1'], env)).rejects.toThrow(/^--minors must be a positive integer/);
    await expect(seedScale(['--minors', '20000000', '--districts', '1e1'], env)).rejects.toThrow(/^--districts must be a whole number/);
  });
});
