import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { SignJWT, UnsecuredJWT } from 'jose';
import { Department, Role } from '../src/auth/principal';
import { TokenService } from '../src/auth/token.service';
import { ASSERTION_HEADER, signAssertion } from '../src/gateway/gateway-assertion';
import { startSubgraphServer, SubgraphServer } from '../src/server/subgraph.server';
import { identityProvider } from './support/identity-provider';
import { errorCodes, postGraphQL, sendRaw, startTestHub, TestHub, testConfig } from './support/test-hub';

const QUERY = '{ regions { code } }';

describe('bearer tokens', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  const expectUnauthenticated = async (authorization: string | null) => {
    const res = await fetch(t.hub.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization !== null ? { authorization } : {}) },
      body: JSON.stringify({ query: QUERY }),
    });
    const body = (await res.json()) as any;
    expect(res.status).toBe(401);
    // RFC 6750: a 401 names the scheme a client is to authenticate with.
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(body.data).toBeUndefined();
    expect(body.errors.map((e: any) => e.extensions.code)).toEqual(['UNAUTHENTICATED']);
  };

  it('serves a valid token', async () => {
    const r = await t.gql(await t.token(Department.POLICE), QUERY);
    expect(r.status).toBe(200);
    expect(r.errors).toBeUndefined();
    expect(r.data.regions.length).toBeGreaterThan(3);
  });

  it('refuses a missing token', () => expectUnauthenticated(null));

  it('refuses a malformed header or token', async () => {
    await expectUnauthenticated('Token abc');
    await expectUnauthenticated('Bearer not.a.jwt');
    await expectUnauthenticated('Bearer ');
  });

  it('refuses an unsigned token (alg: none)', async () => {
    const unsigned = new UnsecuredJWT({ department: 'POLICE', role: 'OFFICER', region: '330102' })
      .setSubject('mallory')
      .setIssuer(t.config.jwt.issuer)
      .setAudience(t.config.jwt.audience)
      .setExpirationTime('1h')
      .encode();
    await expectUnauthenticated(`Bearer ${unsigned}`);
  });

  it('refuses a token signed with another key', async () => {
    const forged = await new SignJWT({ department: 'POLICE', role: 'OFFICER', region: '330102' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setIssuer(t.config.jwt.issuer)
      .setAudience(t.config.jwt.audience)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('not-the-hub-secret-not-the-hub-secret'));
    await expectUnauthenticated(`Bearer ${forged}`);
  });

  it('refuses an expired token', async () => {
    await expectUnauthenticated(`Bearer ${await t.token(Department.POLICE, { expiresIn: -60 })}`);
  });

  it('refuses a token with an unknown department, role or jurisdiction', async () => {
    const secret = new TextEncoder().encode(require('node:fs').readFileSync(`${t.config.dataDir}/jwt-secret`, 'utf8').trim());
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('u1')
        .setIssuer(t.config.jwt.issuer)
        .setAudience(t.config.jwt.audience)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(secret);
    await expectUnauthenticated(`Bearer ${await sign({ department: 'COURTS', role: 'OFFICER', region: '330102' })}`);
    await expectUnauthenticated(`Bearer ${await sign({ department: 'POLICE', role: 'ADMIN', region: '330102' })}`);
    await expectUnauthenticated(`Bearer ${await sign({ department: 'POLICE', role: 'OFFICER', region: '999999' })}`);
    await expectUnauthenticated(`Bearer ${await sign({ department: 'POLICE', role: 'OFFICER' })}`);
  });

  it('refuses a subject the audit trail could not store, and serves any other', async () => {
    const secret = new TextEncoder().encode(require('node:fs').readFileSync(`${t.config.dataDir}/jwt-secret`, 'utf8').trim());
    const sign = (sub: string) =>
      new SignJWT({ department: 'POLICE', role: 'OFFICER', region: '330102' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(sub)
        .setIssuer(t.config.jwt.issuer)
        .setAudience(t.config.jwt.audience)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(secret);
    for (const sub of ['', 'a\u0000b', 'line\nbreak', 'a\ud800b', 'x'.repeat(201)]) await expectUnauthenticated(`Bearer ${await sign(sub)}`);
    // Ids that would look like another, or like the hub's own, to an auditor reading the trail.
    for (const sub of ['a\u0085b', 'a\u009bb', '\u200bpolice-1', 'police\u202e1', ' police-1', 'police-1 ', 'a\u2028b', 'hub:webhook-delivery', 'HUB:webhook-delivery', 'hub：webhook-delivery', 'ｈｕｂ:x', '\u04bbub:webhook-delivery', 'h\u03c5b:x', '\u04bb\u057d\u042c:x', 'officer-l\u0456', 'h\u034fub:x', 'hu\ufe0fb:x', 'h\u180bub:x', 'hub\ua789x', 'hub\u02d0x', 'hub\u2236x', 'hub\u05c3x', 'hub\u2806x', '\ua4e7\ua4f4\ua4d0:x', '\u029c\u1d1c\u0299:x']) {
      await expectUnauthenticated(`Bearer ${await sign(sub)}`);
    }
    // Ids drawn exactly as another: an invisible letter or mark (Hangul fillers, a variation selector,
    // the combining grapheme joiner, the blank braille pattern), a private-use or unassigned code
    // point, a space that is not U+0020 or two of them, an accent decomposed.
    for (const sub of ['police-officer-1\u3164', 'police-officer-1\uffa0', 'police-officer-1\ufe0f', 'police-\u034fofficer-1', 'police-officer-1\u2800', 'officer-zhao\u{16FE4}', 'officer-zhao\u{1D159}', 'police-officer-\ue0001', 'police-officer-\u03781', 'li\u00a0ming', 'li\u3000ming', 'li  ming', 'Jose\u0301']) {
      await expectUnauthenticated(`Bearer ${await sign(sub)}`);
    }
    // `hub` then a colon of any script, or any punctuation, or nothing; b, h or u spelt with a hook,
    // a bar or another script's letter.
    for (const sub of ['hub\u205awebhook-delivery', 'hub\u16ecwebhook-delivery', 'hub\u1361webhook-delivery', 'hub\u0703webhook-delivery', 'hub\u0704x', 'hub\u2e35x', 'hub\ufe55x', 'hub\ua4fdx', 'hub\u0903x', 'hub.x', 'hub x', 'HUB', 'hu\u0253:webhook-delivery', 'hu\u0183:x', 'hu\u1d6c:x', 'h\u1959b:webhook-delivery', '\u0127ub:x', '\u0266u\u0180:x', '\u13c2ub:x', 'h\u00b5b:x']) {
      await expectUnauthenticated(`Bearer ${await sign(sub)}`);
    }
    // Any character but those ids here are written in (ASCII, Latin-1 and Latin Extended-A letters,
    // Han, kana, Hangul, Bopomofo) may be drawn as h, u or b: a Canadian syllabic B, an Ethiopic U,
    // the union sign, 凵; then a colon, or a letter drawn as a dot, a `!`, a `'`, a `/` or a `?`.
    for (const sub of ['HU\u15f7:webhook-delivery', 'hu\u15f7:webhook-delivery', 'h\u1200b:webhook-delivery', 'h\u222ab:webhook-delivery', '\u157c\u1200\u15f7:webhook-delivery', 'h\u51f5b:x', '\u157c\u144c\u15f7\u1427webhook-delivery', 'hub\ua78fx', 'hub\u01c3x', 'hub\ua78cx', 'hub\u0660x', '\u2c8e\u222a\u2c82\u2cc7webhook-delivery', 'hub\u13aewebhook-delivery']) {
      await expectUnauthenticated(`Bearer ${await sign(sub)}`);
    }
    for (const sub of ['民警-张三 😀', '\u{20bb7}'.repeat(200), 'hubei-police-1', 'Иванов', 'Ιωάννης', 'Արամ', 'hubert', 'hub-x', 'hubøe', 'Huß Max', '李明', '李明（民政）', '王小明@gov.cn', '张伟', 'li ming', 'zhang.wei01', 'li.ming@example.gov.cn', 'Lǚ Bù', 'José', 'Nguyễn Văn Hưng', 'Şükrü Öztürk', 'İsmail Yılmaz', 'ئەخمەت', 'محمد', 'བཀྲ་ཤིས', 'ᠪᠠᠲᠤ', 'ꆈꌠꁱ', 'דוד', 'สมชาย', 'police-officer-1']) {
      const ok = await t.gql(await sign(sub), '{ __typename }');
      expect(ok.errors).toBeUndefined();
    }
  });

  describe('lifetime', () => {
    const HOUR = 3600;
    const sign = (times: { iat: number | null; exp: number; nbf?: number }) => {
      const secret = new TextEncoder().encode(fs.readFileSync(`${t.config.dataDir}/jwt-secret`, 'utf8').trim());
      let jwt = new SignJWT({ department: 'POLICE', role: 'OFFICER', region: '330102' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('u-lifetime')
        .setIssuer(t.config.jwt.issuer)
        .setAudience(t.config.jwt.audience)
        .setExpirationTime(times.exp);
      if (times.iat !== null) jwt = jwt.setIssuedAt(times.iat);
      if (times.nbf !== undefined) jwt = jwt.setNotBefore(times.nbf);
      return jwt.sign(secret);
    };
    const serves = async (token: string) => {
      const r = await t.gql(token, QUERY);
      expect(r.errors).toBeUndefined();
    };

    it('refuses a token without iat, even one expiring in 50 years', async () => {
      const now = Math.floor(Date.now() / 1000);
      await expectUnauthenticated(`Bearer ${await sign({ iat: null, exp: now + 50 * 365 * 24 * HOUR })}`);
      await expectUnauthenticated(`Bearer ${await sign({ iat: null, exp: now + 600 })}`);
    });

    it('refuses a token issued more than HUB_TOKEN_MAX_AGE_SECONDS (12 h) ago, whatever its exp', async () => {
      const now = Math.floor(Date.now() / 1000);
      expect(t.config.jwt.maxTokenAgeSeconds).toBe(12 * HOUR);
      await expectUnauthenticated(`Bearer ${await sign({ iat: now - 12 * HOUR - 1, exp: now + 600 })}`);
      await expectUnauthenticated(`Bearer ${await sign({ iat: now - 40 * 365 * 24 * HOUR, exp: now + 50 * 365 * 24 * HOUR })}`);
      await serves(await sign({ iat: now - 12 * HOUR + 60, exp: now + 600 }));
    });

    it('tolerates 30 s of clock skew for iat and nbf in the future, none for exp', async () => {
      const now = Math.floor(Date.now() / 1000);
      await serves(await sign({ iat: now + 20, nbf: now + 20, exp: now + 600 }));
      await expectUnauthenticated(`Bearer ${await sign({ iat: now + 60, exp: now + 600 })}`);
      await expectUnauthenticated(`Bearer ${await sign({ iat: now, nbf: now + 60, exp: now + 600 })}`);
      await expectUnauthenticated(`Bearer ${await sign({ iat: now - 60, exp: now - 1 })}`);
    });

    it('serves dev tokens (npm run token) for their default 8 h', async () => {
      await serves(await t.token(Department.POLICE));
    });

    // The hub refuses a token whose subject it cannot store (401, naming no claim): the CLI says
    // which flag is wrong rather than print such a token; likewise a lifetime that is no number.
    it('refuses, naming the flag, to print a dev token the hub would refuse', async () => {
      const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
      const cli = path.join(__dirname, '..', 'src', 'cli', 'token.cli.ts');
      const refusal = (args: string[]) => promisify(execFile)(tsx, [cli, '--department', 'POLICE', ...args]).then(() => null, (e) => e.stderr as string);
      expect(await refusal(['--user', 'hub:x'])).toMatch(/^token: --user is a user id the hub accepts/);
      expect(await refusal(['--user', 'officer\u200b1'])).toMatch(/^token: --user/);
      expect(await refusal(['--expires-in', 'abc'])).toMatch(/^token: --expires-in is a whole number of seconds above 0/);
      expect(await refusal(['--expires-in', '0'])).toMatch(/^token: --expires-in/);
    });

    it('does not serve a token from its verification cache once it is older than the maximum age', async () => {
      const tokens = await TokenService.create(testConfig({ env: { HUB_TOKEN_MAX_AGE_SECONDS: '60' } }));
      const now = Math.floor(Date.now() / 1000);
      const token = await sign({ iat: now - 58, exp: now + 600 });
      await expect(tokens.verify(`Bearer ${token}`)).resolves.toMatchObject({ userId: 'u-lifetime' });
      await new Promise((r) => setTimeout(r, 3100));
      await expect(tokens.verify(`Bearer ${token}`)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    });
  });

  it('answers a parse error with a typed error, not a stack trace', async () => {
    const r = await postGraphQL(t.hub.url, await t.token(Department.POLICE, { role: Role.OFFICER }), '{ regions { code }');
    expect(errorCodes(r)).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(JSON.stringify(r)).not.toMatch(/at .*\.js:\d+/);
  });

  it('serves /health', async () => {
    const res = await fetch(t.hub.url.replace('/graphql', '/health'));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('serves /graphql over POST only: a GET would carry an ID number in the URL, where proxies and histories keep it', async () => {
    const police = await t.token(Department.POLICE);
    const [{ id_number: idNumber }] = await t.sql(`SELECT trim(id_number) AS id_number FROM registry.minor ORDER BY id LIMIT 1`);
    const url = `${t.hub.url}?${new URLSearchParams({ query: 'query($n: String!) { minorByIdNumber(idNumber: $n) { name } }', variables: JSON.stringify({ n: idNumber }) })}`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${police}`, 'apollo-require-preflight': 'true', 'x-purpose': 'CASE_HANDLING' } });
    expect([res.status, res.headers.get('allow')]).toEqual([405, 'POST']);
    const body: any = await res.json();
    expect([body.data, body.errors[0].extensions.code]).toEqual([undefined, 'BAD_REQUEST']);
    const [event] = await t.sql(`SELECT outcome, body::jsonb -> 'errorCodes' AS codes, user_id FROM audit.event WHERE request_id = $1`, [res.headers.get('x-request-id')]);
    expect(event).toEqual({ outcome: 'INVALID', codes: ['BAD_REQUEST'], user_id: 'police-test' });
    // Nor Apollo's landing page (scripts from its CDN, the server's version) to a browser.
    const page = await fetch(t.hub.url, { headers: { authorization: `Bearer ${police}`, accept: 'text/html' } });
    expect([page.status, page.headers.get('content-type')]).toEqual([405, 'application/json; charset=utf-8']);
  });

  it('runs the request in a POST’s body, never one in its URL, and refuses a GET whatever body it carries — on the general path and the compiled read alike', async () => {
    const police = await t.token(Department.POLICE);
    const [{ id, name }] = await t.sql(`SELECT id, name FROM registry.minor ORDER BY id LIMIT 1`);
    const headers = { authorization: `Bearer ${police}`, 'content-type': 'application/json', 'x-purpose': 'CASE_HANDLING' };
    // Apollo Server takes a GET's request from the URL: the body would be what was looked at, the URL's what ran.
    const url = `${t.hub.url}?${new URLSearchParams({ query: 'query($id: ID!) { minor(id: $id) { idNumber guardians { phone } } }', variables: JSON.stringify({ id }) })}`;
    for (const query of ['query($id: ID!) { minor(id: $id) { name } }', 'query($id: ID!) { minor(id: $id) { name guardians { relationship } } }']) {
      const body = JSON.stringify({ query, variables: { id } });
      const posted = await sendRaw(url, 'POST', headers, body);
      expect([posted.status, posted.json.errors, posted.json.data.minor.name, posted.json.data.minor.idNumber]).toEqual([200, undefined, name, undefined]);
      const got = await sendRaw(url, 'GET', headers, body);
      expect([got.status, got.allow, got.json.data, errorCodes(got.json)]).toEqual([405, 'POST', undefined, ['BAD_REQUEST']]);
    }
  });

  it('tells no browser to guess the type of an answer, on the general path and the compiled read alike', async () => {
    const police = await t.token(Department.POLICE);
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
    for (const query of ['query($id: ID!) { minor(id: $id) { name } }', 'query($id: ID!) { minor(id: $id) { name guardians { name } } }']) {
      const res = await fetch(t.hub.url, { method: 'POST', headers: { authorization: `Bearer ${police}`, 'content-type': 'application/json', 'x-purpose': 'CASE_HANDLING' }, body: JSON.stringify({ query, variables: { id } }) });
      expect([res.status, res.headers.get('x-content-type-options'), res.headers.get('cache-control')]).toEqual([200, 'nosniff', 'no-store']);
    }
  });

  it('tells no cache to keep a refusal made before GraphQL runs: no token, a forged one, a GET, a body too large, a selection too deep', async () => {
    const police = await t.token(Department.POLICE);
    const headers = { 'content-type': 'application/json', 'x-purpose': 'CASE_HANDLING' };
    const deep = `{ regions ${'{ code children '.repeat(14)}{ code }${' }'.repeat(14)} }`;
    const cases: [string, RequestInit, number][] = [
      ['no token', { method: 'POST', headers, body: JSON.stringify({ query: '{ regions { code } }' }) }, 401],
      ['a forged token', { method: 'POST', headers: { ...headers, authorization: 'Bearer abc.def.ghi' }, body: JSON.stringify({ query: '{ regions { code } }' }) }, 401],
      ['a GET', { method: 'GET', headers: { authorization: `Bearer ${police}` } }, 405],
      ['a body too large', { method: 'POST', headers: { ...headers, authorization: `Bearer ${police}` }, body: JSON.stringify({ query: `{ regions { code } } # ${'x'.repeat(1_100_000)}` }) }, 413],
      ['a selection too deep', { method: 'POST', headers: { ...headers, authorization: `Bearer ${police}` }, body: JSON.stringify({ query: deep }) }, 413],
    ];
    for (const [what, init, status] of cases) {
      const res = await fetch(t.hub.url, init);
      expect([what, res.status, res.headers.get('x-content-type-options'), res.headers.get('cache-control')]).toEqual([what, status, 'nosniff', 'no-store']);
    }
  });
});

/** Production: validation errors name no field, type or argument the caller did not write. */
describe('production: no schema details in client errors', () => {
  const { env, sign } = identityProvider();
  const gatewaySecret = 'production-test-gateway-secret-0123456789';
  const TYPO = '{ regionz { code } regions { cod } }';
  let t: TestHub;
  let registry: SubgraphServer;
  beforeAll(async () => {
    t = await startTestHub({ env });
    registry = await startSubgraphServer('registry', testConfig({ databaseUrl: t.databaseUrl, gatewaySecret, env }), 0);
  });
  afterAll(async () => {
    await registry?.stop();
    await t?.stop();
  });

  const messages = (r: { errors?: { message: string }[] }) => (r.errors ?? []).map((e) => e.message).join('\n');
  /** A token of the identity provider whose public key the production hub holds. */
  const signed = (sub: string, claims: Record<string, string>) => sign(t.config, sub, claims);


  it('the hub refuses a misspelt query without suggesting names ("Did you mean")', async () => {
    expect(t.config.production).toBe(true);
    const token = await signed('prod-officer', { department: 'POLICE', role: 'OFFICER', region: '330102' });
    expect((await t.gql(token, QUERY)).errors).toBeUndefined();
    const r = await t.gql(token, TYPO);
    expect(errorCodes(r)).toEqual(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_VALIDATION_FAILED']);
    expect(messages(r)).toMatch(/Cannot query field "regionz"/);
    expect(messages(r)).not.toMatch(/Did you mean|"regions"|"code"/);
  });

  it('refuses a variable of a misspelt input field or enum value without suggesting one, on one subgraph or across several', async () => {
    // Any token: an employer's too, who may read no child.
    const token = await signed('prod-employer', { department: 'EDUCATION', role: 'EMPLOYER', region: '330102' });
    for (const query of [
      'query($f: MinorFilter) { minors(first: 1, filter: $f) { totalCount } }',
      'query($f: MinorFilter) { minors(first: 1, filter: $f) { totalCount } statisticsFreshness { __typename } }',
    ]) {
      for (const [f, said] of [[{ riskLevelz: ['RED'] }, /"riskLevelz" is not defined/], [{ riskLevels: ['RE'] }, /"RE" does not exist/]] as const) {
        const r = await t.gql(token, query, { f });
        expect([r.status, errorCodes(r)]).toEqual([400, ['BAD_USER_INPUT']]);
        expect(messages(r)).toMatch(said);
        expect(messages(r)).not.toMatch(/Did you mean|"riskLevels"|enum value "RED"/);
      }
    }
  });

  it('a subgraph server shows no landing page to a browser (third-party scripts, the server version)', async () => {
    const page = await fetch(registry.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBeGreaterThanOrEqual(400);
    expect(await page.text()).not.toMatch(/<html|apollographql|@apollo\/server/i);
  });

  it('a subgraph refuses it likewise', async () => {
    const principal = { userId: 'prod-officer', department: Department.POLICE, role: Role.OFFICER, region: '330102' };
    const assertion = await signAssertion(new TextEncoder().encode(gatewaySecret), 'registry', { principal, requestId: 'prod-typo' }, { query: TYPO });
    const r = await postGraphQL(registry.url, null, TYPO, undefined, { [ASSERTION_HEADER]: assertion });
    expect(errorCodes(r)).toEqual(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_VALIDATION_FAILED']);
    expect(messages(r)).toMatch(/Cannot query field "regionz"/);
    expect(messages(r)).not.toMatch(/Did you mean|"regions"|"code"/);
  });
});
