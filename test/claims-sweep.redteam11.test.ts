import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { exportJWK, SignJWT } from 'jose';
import { Department, Role } from '../src/auth/principal';
import { gatewaySecret } from '../src/config/secrets';
import { ASSERTION_HEADER, GATEWAY_ASSERTION_CHALLENGE, requestDigest, signAssertion } from '../src/gateway/gateway-assertion';
import { startSubgraphServer, SubgraphServer } from '../src/server/subgraph.server';
import { post } from './support/audit-helpers';
import { cloneTemplateDatabase, postGraphQL, sendRaw, startTestHub, TestHub, testConfig } from './support/test-hub';

/**
 * A sweep of client token claims: every claim the hub reads (sub, department, role, region, iss,
 * aud, exp, iat, nbf) and the header (alg, kid, crit…) made missing, null, of another JSON type,
 * duplicated, oversized or a look-alike, each sent to a read, a compiled read, a mutation and the
 * audit trail, of a hub serving every subgraph in process and of one serving the registry and the
 * audit trail remotely. Every such token is refused UNAUTHENTICATED (401, WWW-Authenticate, no
 * data), reads and writes nothing, and leaves one event that names no caller: none of the token's
 * claims is trusted. The subgraphs served alone refuse whatever the gateway did not sign.
 */
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const HS256 = '{"alg":"HS256","typ":"JWT"}';

function rawJwt(headerText: string, payloadText: string, key: Buffer | string | null, hash = 'sha256'): string {
  const input = `${b64(headerText)}.${b64(payloadText)}`;
  return `${input}.${key === null ? '' : createHmac(hash, key).update(input).digest('base64url')}`;
}

const ROOT = '330102';
const STREET = '330102001';

/** The tables of every schema but the audit trail's, as text: unchanged by a refused request. */
async function fingerprint(t: TestHub): Promise<Record<string, string>> {
  const tables: { s: string; n: string }[] = await t.sql(
    `SELECT table_schema AS s, table_name AS n FROM information_schema.tables
      WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema', 'audit') ORDER BY 1, 2`,
  );
  const out: Record<string, string> = {};
  for (const { s, n } of tables) {
    const [{ h }] = await t.sql(`SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM "${s}"."${n}" x`);
    out[`${s}.${n}`] = h;
  }
  return out;
}

describe('red team 11: a sweep of client token claims', () => {
  const gatewayKey = 'redteam11-gateway-secret-of-sufficient-length';
  let inProcess: TestHub;
  let distributed: TestHub;
  let registry: SubgraphServer;
  let audit: SubgraphServer;
  let secret: Buffer;
  let child: string;
  let claims: (over?: Record<string, unknown>) => Record<string, unknown>;
  /** What each bad token is sent as: a read, a compiled read, a mutation, the audit trail. */
  let shapes: { name: string; body: { query: string; variables?: Record<string, unknown> } }[];

  beforeAll(async () => {
    inProcess = await startTestHub();
    const databaseUrl = await cloneTemplateDatabase();
    const config = testConfig({ databaseUrl, gatewaySecret: gatewayKey });
    registry = await startSubgraphServer('registry', config, 0);
    audit = await startSubgraphServer('audit', config, 0);
    distributed = await startTestHub({ databaseUrl, gatewaySecret: gatewayKey, subgraphUrls: { registry: registry.url, audit: audit.url } });
    secret = Buffer.from(fs.readFileSync(`${inProcess.config.dataDir}/jwt-secret`, 'utf8').trim());
    [{ id: child }] = await inProcess.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id LIMIT 1`);
    const [{ n }] = await distributed.sql(`SELECT count(*)::int AS n FROM registry.minor WHERE id = $1`, [child]);
    expect(n).toBe(1);
    claims = (over = {}) => ({
      sub: 'sweep-officer',
      department: 'CIVIL_AFFAIRS',
      role: 'OFFICER',
      region: ROOT,
      iss: inProcess.config.jwt.issuer,
      aud: inProcess.config.jwt.audience,
      iat: now(),
      exp: now() + 600,
      ...over,
    });
    shapes = [
      { name: 'query', body: { query: `query($id: ID!) { minor(id: $id) { id name guardians { phone } } minors(first: 2) { totalCount edges { node { id name } } } }`, variables: { id: child } } },
      { name: 'compiled read', body: { query: `query($id: ID!) { minor(id: $id) { id name } }`, variables: { id: child } } },
      { name: 'mutation', body: { query: `mutation($id: ID!) { updateMinor(id: $id, input: { school: "红队第十一小学" }) { id school } }`, variables: { id: child } } },
      { name: 'audit trail', body: { query: `{ auditEvents(first: 5) { edges { node { requestId userId reads { minorId } } } } }` } },
    ];
  }, 180_000);
  afterAll(async () => {
    await inProcess?.stop();
    await distributed?.stop();
    await registry?.stop();
    await audit?.stop();
  });

  const signed = (payload: Record<string, unknown>, header = HS256, key: Buffer | string | null = secret, hash = 'sha256') => rawJwt(header, JSON.stringify(payload), key, hash);
  const without = (name: string) => {
    const c = claims();
    delete c[name];
    return c;
  };

  /** Tokens that must be refused, each with why. */
  function badTokens(): [string, string][] {
    const bad: [string, string][] = [];
    const claim = (name: string, values: [string, unknown][]) => {
      bad.push([`${name} missing`, signed(without(name))]);
      for (const [why, value] of values) bad.push([`${name} ${why}`, signed(claims({ [name]: value }))]);
    };
    const shapesOf = (good: unknown): [string, unknown][] => [
      ['null', null],
      ['true', true],
      ['0', 0],
      ['empty string', ''],
      ['array', [good]],
      ['empty array', []],
      ['object', { value: good }],
      ['empty object', {}],
    ];
    claim('sub', [
      ...shapesOf('sweep-officer'),
      ['number', 42],
      ['201 characters', 'x'.repeat(201)],
      ['8000 characters', 'x'.repeat(8000)],
      ['the hub’s own', 'hub:webhook-delivery'],
      ['Cyrillic h', '\u04bbub:webhook-delivery'],
      ['zero-width space', 'sweep\u200b-officer'],
      ['NUL', 'sweep\u0000officer'],
      ['lone surrogate', 'sweep\ud800officer'],
      ['not NFC', 'Jose\u0301'],
      ['padded', ' sweep-officer'],
      ['mixed scripts', 'sweep-оfficer'],
    ]);
    claim('department', [
      ...shapesOf('CIVIL_AFFAIRS'),
      ['lower case', 'civil_affairs'],
      ['padded', 'CIVIL_AFFAIRS '],
      ['Cyrillic А', 'CIVIL_\u0410FFAIRS'],
      ['Greek Ι', 'C\u0399VIL_AFFAIRS'],
      ['full width', 'ＣＩＶＩＬ＿ＡＦＦＡＩＲＳ'],
      ['zero-width joiner', 'CIVIL\u200d_AFFAIRS'],
      ['NUL', 'CIVIL_AFFAIRS\u0000'],
      ['two of them', 'CIVIL_AFFAIRS,POLICE'],
      ['a court (no policy row)', 'COURTS'],
      ['a role', 'AUDITOR'],
      ['__proto__', '__proto__'],
      ['constructor', 'constructor'],
      ['very long', 'CIVIL_AFFAIRS'.repeat(500)],
    ]);
    claim('role', [
      ...shapesOf('OFFICER'),
      ['lower case', 'officer'],
      ['Cyrillic О', '\u041eFFICER'],
      ['Greek Ο', '\u039fFFICER'],
      ['full width', 'ＯＦＦＩＣＥＲ'],
      ['padded', 'OFFICER '],
      ['soft hyphen', 'OFF\u00adICER'],
      ['ADMIN', 'ADMIN'],
      ['a department', 'POLICE'],
      ['two of them', 'OFFICER,AUDITOR'],
      ['toString', 'toString'],
      ['very long', 'OFFICER'.repeat(800)],
    ]);
    claim('region', [
      ...shapesOf(ROOT),
      ['number', 330102],
      ['float', 330102.5],
      ['%', '%'],
      ['pattern', '3301%'],
      ['underscore', '33010_'],
      ['no such district', '999999'],
      ['no such street', '330102999'],
      ['no such grid', '330102001001999'],
      ['not a level (7 digits)', '3301020'],
      ['16 digits', '3301020010010010'],
      ['5 digits', '33010'],
      ['Arabic-Indic digits', '٣٣٠١٠٢'],
      ['full-width digits', '３３０１０２'],
      ['trailing newline', `${ROOT}\n`],
      ['zero-width space', `${ROOT}\u200b`],
      ['exponent', '3.30102e5'],
      ['very long', '3'.repeat(5000)],
    ]);
    claim('iss', [...shapesOf(inProcess.config.jwt.issuer), ['another', 'someone-else'], ['the gateway', 'hub-gateway'], ['padded', `${inProcess.config.jwt.issuer} `], ['upper case', inProcess.config.jwt.issuer.toUpperCase()]]);
    claim('aud', [
      ['null', null],
      ['0', 0],
      ['empty string', ''],
      ['empty array', []],
      ['object', { value: inProcess.config.jwt.audience }],
      ['another', 'someone-else'],
      ['a subgraph', 'subgraph:registry'],
      ['others only', ['subgraph:registry', 'subgraph:audit']],
      ['nested array', [[inProcess.config.jwt.audience]]],
    ]);
    claim('exp', [
      ['null', null],
      ['string', String(now() + 600)],
      ['array', [now() + 600]],
      ['object', { value: now() + 600 }],
      ['true', true],
      ['past', now() - 1],
      ['zero', 0],
      ['negative', -1],
    ]);
    claim('iat', [
      ['null', null],
      ['string', String(now())],
      ['array', [now()]],
      ['object', { value: now() }],
      ['true', true],
      ['a minute ahead', now() + 60],
      ['an hour ahead', now() + 3600],
      ['far ahead', 1e15],
      ['13 h ago, exp in 50 years', now() - 13 * 3600],
      ['zero', 0],
      ['negative', -1],
    ]);
    bad.push(['iat 13 h ago with a 50-year exp', signed(claims({ iat: now() - 13 * 3600, exp: now() + 50 * 365 * 86400 }))]);
    for (const [why, nbf] of [
      ['an hour ahead', now() + 3600],
      ['string', String(now())],
      ['null', null],
      ['array', [now()]],
      ['far ahead', 1e15],
    ] as [string, unknown][]) {
      bad.push([`nbf ${why}`, signed(claims({ nbf }))]);
    }
    // Text no JSON.stringify writes: infinities, duplicates, a payload that is no object.
    const text = (payload: string) => rawJwt(HS256, payload, secret);
    const base = JSON.stringify(claims());
    bad.push(['iat Infinity (1e309)', text(base.replace(/"iat":\d+/, '"iat":1e309'))]);
    bad.push(['iat -Infinity', text(base.replace(/"iat":\d+/, '"iat":-1e309'))]);
    bad.push(['exp -Infinity', text(base.replace(/"exp":\d+/, '"exp":-1e309'))]);
    bad.push(['nbf Infinity', text(base.replace(/}$/, ',"nbf":1e309}'))]);
    bad.push(['duplicate region, the last unknown', text(base.replace(`"region":"${ROOT}"`, `"region":"${ROOT}","region":"999999"`))]);
    bad.push(['duplicate department, the last a look-alike', text(base.replace('"department":"CIVIL_AFFAIRS"', '"department":"CIVIL_AFFAIRS","department":"CIVIL_\u0410FFAIRS"'))]);
    bad.push(['duplicate role, the last unknown', text(base.replace('"role":"OFFICER"', '"role":"OFFICER","role":"ROOT"'))]);
    bad.push(['duplicate sub, the last the hub’s', text(base.replace('"sub":"sweep-officer"', '"sub":"sweep-officer","sub":"hub:webhook-delivery"'))]);
    bad.push(['payload an array', text(`[${base}]`)]);
    bad.push(['payload a string', text(JSON.stringify(base))]);
    bad.push(['payload null', text('null')]);
    bad.push(['payload not JSON', text(base.slice(0, -1))]);
    // Headers and signatures.
    const payload = claims();
    bad.push(['alg none, unsigned', signed(payload, '{"alg":"none"}', null)]);
    bad.push(['alg none, signed', signed(payload, '{"alg":"none"}')]);
    bad.push(['alg None', signed(payload, '{"alg":"None"}', null)]);
    bad.push(['alg hs256', signed(payload, '{"alg":"hs256"}')]);
    bad.push(['alg HS384 with the secret', signed(payload, '{"alg":"HS384"}', secret, 'sha384')]);
    bad.push(['alg HS512 with the secret', signed(payload, '{"alg":"HS512"}', secret, 'sha512')]);
    bad.push(['alg RS256, HMAC signature', signed(payload, '{"alg":"RS256"}')]);
    bad.push(['alg ES256, HMAC signature', signed(payload, '{"alg":"ES256"}')]);
    bad.push(['alg missing', signed(payload, '{"typ":"JWT"}')]);
    bad.push(['alg an array', signed(payload, '{"alg":["HS256"]}')]);
    bad.push(['duplicate alg, the last none', signed(payload, '{"alg":"HS256","alg":"none"}', null)]);
    bad.push(['header an array', signed(payload, '["HS256"]')]);
    bad.push(['header not JSON', signed(payload, '{"alg":"HS256"')]);
    bad.push(['unknown crit', signed(payload, '{"alg":"HS256","crit":["x-hub"],"x-hub":1}')]);
    bad.push(['b64 false', signed(payload, '{"alg":"HS256","b64":false,"crit":["b64"]}')]);
    bad.push(['kid to an empty key', signed(payload, '{"alg":"HS256","kid":"/dev/null"}', '')]);
    bad.push(['kid to the gateway secret, signed with it', signed(payload, '{"alg":"HS256","kid":"gateway-secret"}', gatewayKey)]);
    bad.push(['signed with the gateway secret', signed(payload, HS256, gatewayKey)]);
    bad.push(['signed with the data directory’s gateway-secret', signed(payload, HS256, gatewaySecret(testConfig()) as Buffer)]);
    bad.push(['signed with the audit key', signed(payload, HS256, fs.existsSync(`${inProcess.config.dataDir}/audit-key`) ? fs.readFileSync(`${inProcess.config.dataDir}/audit-key`, 'utf8').trim() : 'audit')]);
    bad.push(['signed with an empty key', signed(payload, HS256, '')]);
    bad.push(['signed with the secret’s trimmed text', signed(payload, HS256, secret.toString().slice(0, -1))]);
    const good = signed(payload);
    const [h, p, s] = good.split('.');
    bad.push(['signature missing', `${h}.${p}.`]);
    bad.push(['signature cut', `${h}.${p}.${s.slice(0, -2)}`]);
    bad.push(['signature of another payload', `${h}.${b64(JSON.stringify(claims({ region: STREET })))}.${s}`]);
    bad.push(['two parts', `${h}.${p}`]);
    bad.push(['four parts', `${good}.${s}`]);
    bad.push(['JWE-shaped', `${h}.${p}.${s}.${s}.${s}`]);
    bad.push(['base64 padding', `${h}=.${p}.${s}`]);
    return bad;
  }

  /** A request to `t` with `token` in the authorization header as given (raw, not necessarily Bearer). */
  const send = (t: TestHub, authorization: string, body: unknown) =>
    post(t, null, body, { authorization, 'x-purpose': 'CASE_HANDLING; sweep', accept: 'application/json' });

  async function expectRefusedEverywhere(t: TestHub, label: string, tokens: [string, string][], authorization = (token: string) => `Bearer ${token}`) {
    const before = await fingerprint(t);
    const requestIds: string[] = [];
    const answers: unknown[] = [];
    for (const [why, token] of tokens) {
      for (const shape of shapes) {
        const r = await send(t, authorization(token), shape.body);
        requestIds.push(r.requestId);
        answers.push({
          why: `${label}: ${why} → ${shape.name}`,
          status: r.status,
          challenge: r.headers.get('www-authenticate'),
          codes: r.json?.errors?.map((e: any) => e.extensions?.code),
          data: r.json?.data ?? null,
          leaks: /stack|select |relation |at [A-Za-z]+ \(|\.ts:\d/i.test(JSON.stringify(r.json)),
        });
      }
    }
    expect(answers).toEqual(answers.map((a: any) => ({ why: a.why, status: 401, challenge: 'Bearer', codes: ['UNAUTHENTICATED'], data: null, leaks: false })));
    expect(new Set(requestIds.filter(Boolean)).size).toBe(tokens.length * shapes.length);
    await t.hub.audit.drain();
    const rows: { request_id: string; outcome: string; body: string }[] = await t.sql(`SELECT request_id, outcome, body FROM audit.event WHERE request_id = ANY($1) ORDER BY seq`, [requestIds]);
    const events = rows.map((row) => {
      const b = JSON.parse(row.body);
      return { requestId: row.request_id, outcome: row.outcome, caller: [b.userId, b.department, b.role, b.region], reads: b.reads, changes: b.changes, purpose: b.purpose };
    });
    // One event each, no STARTED (no mutation ran), and no caller in it.
    expect(events).toEqual(requestIds.map((requestId) => ({ requestId, outcome: 'UNAUTHENTICATED', caller: [null, null, null, null], reads: [], changes: [], purpose: null })));
    expect(await fingerprint(t)).toEqual(before);
  }

  it('sanity: the well-formed token is served by every shape, on both hubs', async () => {
    for (const t of [inProcess, distributed]) {
      for (const shape of shapes.filter((x) => x.name !== 'mutation' && x.name !== 'audit trail')) {
        const r = await send(t, `Bearer ${signed(claims())}`, shape.body);
        expect([shape.name, r.status, r.json.errors]).toEqual([shape.name, 200, undefined]);
        expect(r.json.data.minor.id).toBe(child);
      }
      const auditor = await send(t, `Bearer ${signed(claims({ role: 'AUDITOR' }))}`, shapes[3].body);
      expect([auditor.status, auditor.json.errors]).toEqual([200, undefined]);
    }
  });

  it('refuses every malformed, missing, mistyped, look-alike or duplicated claim, header or signature, on the hub serving in process', async () => {
    await expectRefusedEverywhere(inProcess, 'in process', badTokens());
  }, 600_000);

  it('refuses them alike on the hub serving the registry and the audit trail remotely', async () => {
    await expectRefusedEverywhere(distributed, 'distributed', badTokens());
  }, 600_000);

  it('refuses what is no bearer token at all, audited without a caller', async () => {
    const token = signed(claims());
    const headers: [string, string][] = [
      ['no scheme', token],
      ['Basic', `Basic ${token}`],
      ['Bearer twice', `Bearer Bearer ${token}`],
      ['two tokens', `Bearer ${token} ${token}`],
      ['a comma', `Bearer ${token},${token}`],
      ['empty', 'Bearer '],
      ['NBSP', `Bearer\u00a0${token}`.replace(/[^\x00-\xff]/g, ' ')],
      ['a tab and a trailing space', `Bearer\t${token} `],
      ['a quoted token', `Bearer "${token}"`],
    ];
    const tokens = headers.map(([why, header]): [string, string] => [why, header]);
    await expectRefusedEverywhere(inProcess, 'header', tokens.filter(([why]) => why !== 'a tab and a trailing space' && why !== 'NBSP'), (header) => header);
  });

  it('serves the token’s four claims and nothing else: unknown claims, a purpose, a nested principal, duplicated keys as signed', async () => {
    const extra = claims({
      purpose: 'EMERGENCY',
      pur: { code: 'EMERGENCY' },
      principal: { userId: 'root', department: 'POLICE', region: '330102' },
      userId: 'root',
      departments: ['POLICE', 'JUSTICE'],
      roles: ['AUDITOR'],
      scope: 'admin',
      admin: true,
      rid: randomUUID(),
      req: 'x',
      budgetMs: 1,
      at: 0,
      grants: [{ minorId: child }],
      jurisdiction: '330102',
    });
    const cases: [string, string, string[]][] = [
      ['extra claims', signed({ ...extra, region: STREET }), ['sweep-officer', 'CIVIL_AFFAIRS', 'OFFICER', STREET]],
      ['an audience list with the hub’s', signed(claims({ aud: ['someone-else', inProcess.config.jwt.audience], region: STREET })), ['sweep-officer', 'CIVIL_AFFAIRS', 'OFFICER', STREET]],
      ['exp far ahead (capped by the maximum age)', signed(claims({ exp: now() + 50 * 365 * 86400, region: STREET })), ['sweep-officer', 'CIVIL_AFFAIRS', 'OFFICER', STREET]],
      ['exp Infinity', rawJwt(HS256, JSON.stringify(claims({ region: STREET })).replace(/"exp":\d+/, '"exp":1e309'), secret), ['sweep-officer', 'CIVIL_AFFAIRS', 'OFFICER', STREET]],
      [
        'duplicate region, the last the street',
        rawJwt(HS256, JSON.stringify(claims()).replace(`"region":"${ROOT}"`, `"region":"${ROOT}","region":"${STREET}"`), secret),
        ['sweep-officer', 'CIVIL_AFFAIRS', 'OFFICER', STREET],
      ],
      [
        'duplicate department, the last EDUCATION',
        rawJwt(HS256, JSON.stringify(claims({ region: STREET })).replace('"department":"CIVIL_AFFAIRS"', '"department":"CIVIL_AFFAIRS","department":"EDUCATION"'), secret),
        ['sweep-officer', 'EDUCATION', 'OFFICER', STREET],
      ],
      ['a DASHBOARD claiming POLICE', signed(claims({ role: 'DASHBOARD', department: 'POLICE', region: STREET })), ['sweep-officer', 'POLICE', 'DASHBOARD', STREET]],
    ];
    for (const t of [inProcess, distributed]) {
      for (const [why, token, caller] of cases) {
        const r = await send(t, `Bearer ${token}`, { query: `{ regions { code } }` });
        expect([why, r.status, r.json.errors]).toEqual([why, 200, undefined]);
        expect([why, r.json.data.regions.every((x: any) => x.code.startsWith(caller[3]))]).toEqual([why, true]);
        await t.hub.audit.drain();
        const [row] = await t.sql(`SELECT body FROM audit.event WHERE request_id = $1`, [r.requestId]);
        const b = JSON.parse(row.body);
        expect([why, b.userId, b.department, b.role, b.region, b.purpose?.code]).toEqual([why, ...caller, 'CASE_HANDLING']);
      }
      // The longest subject, in four-byte characters, is written as the actor of a change like any other.
      const longest = Array.from({ length: 200 }, (_, i) => String.fromCodePoint(0x20000 + i)).join('');
      const change = await send(t, `Bearer ${signed(claims({ sub: longest }))}`, shapes[2].body);
      expect([change.status, change.json.errors, change.json.data?.updateMinor?.id]).toEqual([200, undefined, child]);
      await t.hub.audit.drain();
      const written = await t.sql(`SELECT outcome, body FROM audit.event WHERE request_id = $1 ORDER BY seq`, [change.requestId]);
      expect(written.map((w: any) => [w.outcome, JSON.parse(w.body).userId === longest])).toEqual([
        ['STARTED', true],
        ['SUCCESS', true],
      ]);
      // The street officer with extra claims reads no child of another street, whatever they say.
      const [other] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' AND grid_code NOT LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) LIMIT 1`);
      const r = await send(t, `Bearer ${cases[0][1]}`, { query: `query($id: ID!) { minor(id: $id) { id } }`, variables: { id: other.id } });
      expect([r.status, r.json.data?.minor ?? null]).toEqual([200, null]);
    }
  });

  describe('a hub verifying an identity provider’s public key', () => {
    const idp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const mallory = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = idp.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    let withKey: TestHub;
    beforeAll(async () => {
      withKey = await startTestHub({ env: { HUB_JWT_PUBLIC_KEY: pem, HUB_JWT_ALGORITHMS: 'ES256' } });
    }, 120_000);
    afterAll(() => withKey?.stop());
    const es256 = (payload: Record<string, unknown>, header: Record<string, unknown> = { alg: 'ES256' }, key = idp.privateKey) =>
      new SignJWT(payload).setProtectedHeader(header as never).sign(key);

    it('serves its tokens, and refuses the development secret’s, alg confusion, other keys and bad claims alike', async () => {
      const good = await es256(claims());
      const served = await send(withKey, `Bearer ${good}`, shapes[1].body);
      expect([served.status, served.json.errors, served.json.data?.minor?.id]).toEqual([200, undefined, child]);
      const payload = JSON.stringify(claims());
      const jwk = await exportJWK(mallory.publicKey);
      const tokens: [string, string][] = [
        ['the development secret (npm run token)', signed(claims())],
        ['HS256 keyed with the PEM', rawJwt('{"alg":"HS256"}', payload, pem)],
        ['HS256 keyed with the DER', rawJwt('{"alg":"HS256"}', payload, idp.publicKey.export({ type: 'spki', format: 'der' }))],
        ['alg none', rawJwt('{"alg":"none"}', payload, null)],
        ['another key', await es256(claims(), { alg: 'ES256' }, mallory.privateKey)],
        ['another key, embedded', await es256(claims(), { alg: 'ES256', jwk }, mallory.privateKey)],
        ['another key, kid and jku elsewhere', await es256(claims(), { alg: 'ES256', kid: 'idp-1', jku: 'http://127.0.0.1:1/jwks', x5u: 'http://127.0.0.1:1/x5u' }, mallory.privateKey)],
        ['RS256', await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey)],
        ['PS256', await new SignJWT(claims()).setProtectedHeader({ alg: 'PS256' }).sign(rsa.privateKey)],
        ['region unknown', await es256(claims({ region: '330102999' }))],
        ['role look-alike', await es256(claims({ role: '\u041eFFICER' }))],
        ['department array', await es256(claims({ department: ['CIVIL_AFFAIRS'] }))],
        ['sub the hub’s', await es256(claims({ sub: 'hub:webhook-delivery' }))],
        ['iat missing', await es256(without('iat'))],
        ['iat an hour ahead', await es256(claims({ iat: now() + 3600 }))],
        ['issued 13 h ago, exp in 50 years', await es256(claims({ iat: now() - 13 * 3600, exp: now() + 50 * 365 * 86400 }))],
        ['aud other', await es256(claims({ aud: 'subgraph:registry' }))],
        ['iss other', await es256(claims({ iss: 'hub-gateway' }))],
      ];
      await expectRefusedEverywhere(withKey, 'public key', tokens);
    }, 300_000);
  });

  describe('the subgraphs served alone', () => {
    const query = `query($id: ID!) { minor(id: $id) { id name } }`;
    const mutation = `mutation($id: ID!) { updateMinor(id: $id, input: { school: "红队第十一小学" }) { id } }`;
    const principal = { userId: 'sweep-officer', department: Department.CIVIL_AFFAIRS, role: Role.OFFICER, region: ROOT };

    /** Hand-built assertion claims, signed with `key` (the gateway's secret unless given). */
    const assertion = (over: Record<string, unknown>, body: { query: string; variables?: unknown }, { key = gatewayKey, header = HS256, hash = 'sha256', audience = 'subgraph:registry' } = {}) =>
      rawJwt(
        header,
        JSON.stringify({
          sub: principal.userId,
          department: principal.department,
          role: principal.role,
          region: principal.region,
          rid: randomUUID(),
          req: requestDigest(body),
          iss: 'hub-gateway',
          aud: audience,
          iat: now(),
          exp: now() + 15,
          jti: randomUUID(),
          ...over,
        }),
        key,
        hash,
      );

    it('refuses, 401 and no data, every request not signed by the gateway for it, and writes nothing', async () => {
      const before = await fingerprint(distributed);
      const answers: unknown[] = [];
      const clientToken = signed(claims());
      for (const [name, server] of [
        ['registry', registry],
        ['audit', audit],
      ] as const) {
        for (const text of [query, mutation, `{ _service { sdl } }`, `{ auditEvents(first: 1) { edges { node { requestId } } } }`]) {
          const body = { query: text, variables: text.includes('$id') ? { id: child } : undefined };
          const aud = `subgraph:${name}`;
          const headers: [string, Record<string, string>][] = [
            ['nothing', {}],
            ['a client token', { authorization: `Bearer ${clientToken}` }],
            ['a client token as the assertion', { [ASSERTION_HEADER]: clientToken }],
            ['signed with the client secret', { [ASSERTION_HEADER]: assertion({ aud }, body, { key: secret as never }) }],
            ['alg none', { [ASSERTION_HEADER]: assertion({ aud }, body, { key: null as never, header: '{"alg":"none"}' }) }],
            ['HS384 with the gateway secret', { [ASSERTION_HEADER]: assertion({ aud }, body, { header: '{"alg":"HS384"}', hash: 'sha384' }) }],
            ['HS512 with the gateway secret', { [ASSERTION_HEADER]: assertion({ aud }, body, { header: '{"alg":"HS512"}', hash: 'sha512' }) }],
            ['for the other subgraph', { [ASSERTION_HEADER]: assertion({ aud: name === 'registry' ? 'subgraph:audit' : 'subgraph:registry' }, body) }],
            ['for an audience list', { [ASSERTION_HEADER]: assertion({ aud: ['subgraph:elsewhere', 'x'] }, body) }],
            ['the client issuer', { [ASSERTION_HEADER]: assertion({ aud, iss: inProcess.config.jwt.issuer }, body) }],
            ['expired', { [ASSERTION_HEADER]: assertion({ aud, iat: now() - 60, exp: now() - 30 }, body) }],
            ['not yet valid', { [ASSERTION_HEADER]: assertion({ aud, nbf: now() + 3600 }, body) }],
            ['good for a day', { [ASSERTION_HEADER]: assertion({ aud, exp: now() + 86_400 }, body) }],
            ['good for 17 s', { [ASSERTION_HEADER]: assertion({ aud, exp: now() + 17 }, body) }],
            ['without iat', { [ASSERTION_HEADER]: assertion({ aud, iat: undefined }, body) }],
            ['iat a string', { [ASSERTION_HEADER]: assertion({ aud, iat: String(now()) }, body) }],
            ['for another request', { [ASSERTION_HEADER]: assertion({ aud, req: requestDigest({ query: '{ __typename }' }) }, body) }],
            ['without req', { [ASSERTION_HEADER]: assertion({ aud, req: undefined }, body) }],
            ['without jti', { [ASSERTION_HEADER]: assertion({ aud, jti: undefined }, body) }],
            ['without rid', { [ASSERTION_HEADER]: assertion({ aud, rid: undefined }, body) }],
            ['a region pattern', { [ASSERTION_HEADER]: assertion({ aud, region: '%' }, body) }],
            ['region null', { [ASSERTION_HEADER]: assertion({ aud, region: null }, body) }],
            ['a look-alike role', { [ASSERTION_HEADER]: assertion({ aud, role: '\u041eFFICER' }, body) }],
            ['a department array', { [ASSERTION_HEADER]: assertion({ aud, department: ['CIVIL_AFFAIRS'] }, body) }],
            ['the hub’s subject', { [ASSERTION_HEADER]: assertion({ aud, sub: 'hub:webhook-delivery' }, body) }],
            ['sub an object', { [ASSERTION_HEADER]: assertion({ aud, sub: { id: 'x' } }, body) }],
            ['budget 0', { [ASSERTION_HEADER]: assertion({ aud, budgetMs: 0 }, body) }],
            ['budget a string', { [ASSERTION_HEADER]: assertion({ aud, budgetMs: '1000' }, body) }],
            ['instant a day ahead', { [ASSERTION_HEADER]: assertion({ aud, at: Date.now() + 86_400_000, ageMs: 0 }, body) }],
            ['instant without its age', { [ASSERTION_HEADER]: assertion({ aud, at: Date.now() }, body) }],
            ['two assertions', { [ASSERTION_HEADER]: `${assertion({ aud }, body)}, ${assertion({ aud }, body)}` }],
          ];
          for (const [why, h] of headers) {
            const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...h }, body: JSON.stringify(body) });
            const r = (await res.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
            answers.push({
              why: `${name}: ${text.slice(0, 24)} ${why}`,
              status: res.status,
              challenge: res.headers.get('www-authenticate'),
              cache: res.headers.get('cache-control'),
              codes: r.errors?.map((e) => e.extensions?.code),
              data: r.data ?? null,
            });
          }
        }
      }
      // A 401 names how to authenticate (RFC 9110) and, like every answer, is for no cache to keep.
      expect(answers).toEqual(answers.map((a: any) => ({ why: a.why, status: 401, challenge: GATEWAY_ASSERTION_CHALLENGE, cache: 'no-store', codes: ['UNAUTHENTICATED'], data: null })));
      // Sent in a way the gateway never sends, with its own (valid) assertion: refused before it is looked at.
      const body = { query, variables: { id: child } };
      for (const [why, method, contentType, text] of [
        ['a batch', 'POST', 'application/json', JSON.stringify([body])],
        ['text/plain', 'POST', 'text/plain', JSON.stringify(body)],
        ['GET', 'GET', 'application/json', JSON.stringify(body)],
      ] as const) {
        const signedFor = await signAssertion(gatewaySecret(testConfig({ gatewaySecret: gatewayKey })), 'registry', { principal, requestId: randomUUID() }, body);
        const r = await sendRaw(registry.url, method, { 'content-type': contentType, [ASSERTION_HEADER]: signedFor }, text).catch((e) => ({ status: 0, json: String(e) }));
        expect([why, r.status >= 400 && r.status < 500, JSON.stringify(r.json).includes('"name"')]).toEqual([why, true, false]);
      }
      expect(await fingerprint(distributed)).toEqual(before);
    }, 300_000);

    it('sanity: the same hand-built assertion signed with the gateway secret is served', async () => {
      const body = { query, variables: { id: child } };
      const r = await postGraphQL(registry.url, null, body.query, body.variables, { [ASSERTION_HEADER]: assertion({}, body) });
      expect([r.status, r.errors, r.data?.minor?.id]).toEqual([200, undefined, child]);
    });
  });
});
