import { createHmac, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, SignJWT } from 'jose';
import { Department, Role } from '../src/auth/principal';
import { TokenService } from '../src/auth/token.service';
import { gatewaySecret } from '../src/config/secrets';
import { ASSERTION_HEADER, signAssertion } from '../src/gateway/gateway-assertion';
import { SignedRemoteDataSource } from '../src/gateway/signed-remote.data-source';
import { startSubgraphServer, SubgraphServer } from '../src/server/subgraph.server';
import { eventOf, post } from './support/audit-helpers';
import { cloneTemplateDatabase, errorCodes, postGraphQL, startTestHub, TestHub, testConfig } from './support/test-hub';

/**
 * Red-team probes of authentication: client tokens in each mode the hub verifies them (the
 * development HS256 secret, an identity provider's public key, its JWKS), and the gateway's
 * assertions to subgraphs served alone. Every forged or malformed credential must be refused
 * UNAUTHENTICATED, audited without a principal, and never widen what the caller sees.
 */
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** A JWS built by hand from the exact JSON texts given (duplicate keys and all), HMAC-signed with `key` unless null. */
function rawJwt(headerText: string, payloadText: string, key: Buffer | string | null, hash = 'sha256'): string {
  const input = `${b64(headerText)}.${b64(payloadText)}`;
  return `${input}.${key === null ? '' : createHmac(hash, key).update(input).digest('base64url')}`;
}

describe('red team: client tokens and gateway assertions', () => {
  let t: TestHub;
  let police: SubgraphServer;
  let registry: SubgraphServer;
  let secret: Buffer;
  const gatewayKey = 'redteam-gateway-secret-of-sufficient-length';
  const STREET = '330102001';
  let claims: () => Record<string, unknown>;

  beforeAll(async () => {
    const databaseUrl = await cloneTemplateDatabase();
    const config = testConfig({ databaseUrl, gatewaySecret: gatewayKey });
    registry = await startSubgraphServer('registry', config, 0);
    police = await startSubgraphServer('police', config, 0);
    t = await startTestHub({ databaseUrl, gatewaySecret: gatewayKey, subgraphUrls: { registry: registry.url } });
    secret = Buffer.from(fs.readFileSync(`${t.config.dataDir}/jwt-secret`, 'utf8').trim());
    claims = () => ({ sub: 'mallory', department: 'POLICE', role: 'OFFICER', region: STREET, iss: t.config.jwt.issuer, aud: t.config.jwt.audience, iat: now(), exp: now() + 600 });
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    await registry?.stop();
    await police?.stop();
  });

  const HS256 = '{"alg":"HS256","typ":"JWT"}';
  const signedWith = (payload: Record<string, unknown>, header = HS256, key: Buffer | string | null = secret, hash = 'sha256') => rawJwt(header, JSON.stringify(payload), key, hash);

  /** Refused 401 UNAUTHENTICATED, nothing served, audited with no principal. */
  const refused = async (token: string, why: string) => {
    const r = await post(t, null, { query: '{ regions { code } }' }, { authorization: `Bearer ${token}`, 'x-purpose': 'CASE_HANDLING' });
    expect([why, r.status, r.json?.data, r.json?.errors?.map((e: any) => e.extensions.code)]).toEqual([why, 401, undefined, ['UNAUTHENTICATED']]);
    const e = await eventOf(t, r.requestId);
    expect([why, e.userId ?? null, e.department ?? null, e.region ?? null]).toEqual([why, null, null, null]);
  };

  it('sanity: the hand-built HS256 token with the hub’s secret is served, as the street it names', async () => {
    const r = await t.gql(signedWith(claims()), '{ regions { code } }');
    expect(r.errors).toBeUndefined();
    expect(r.data.regions.length).toBeGreaterThan(0);
    expect(r.data.regions.every((x: any) => x.code.startsWith(STREET))).toBe(true);
  });

  it('refuses algorithm confusion in development: none, HS384/HS512 with the right secret, an asymmetric alg, unknown crit', async () => {
    await refused(signedWith(claims(), '{"alg":"none","typ":"JWT"}', null), 'none');
    await refused(signedWith(claims(), '{"alg":"none","typ":"JWT"}', secret), 'none with a signature');
    await refused(signedWith(claims(), '{"alg":"HS384"}', secret, 'sha384'), 'HS384');
    await refused(signedWith(claims(), '{"alg":"HS512"}', secret, 'sha512'), 'HS512');
    await refused(signedWith(claims(), '{"alg":"RS256"}', secret), 'RS256 header, HMAC signature');
    await refused(signedWith(claims(), '{"alg":"HS256","crit":["exp"],"exp":1}', secret), 'crit');
    await refused(signedWith(claims(), '{"alg":"HS256","b64":false,"crit":["b64"]}', secret), 'b64 false');
    // Duplicate keys: the last one is the one read, and a signature is still needed.
    await refused(signedWith(claims(), '{"alg":"HS256","alg":"none"}', null), 'duplicate alg, unsigned');
    await refused(signedWith(claims(), '{"alg":"none","alg":"HS256"}', null), 'duplicate alg, no signature');
    // Key-selection headers name no key the hub would use.
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = await exportJWK(publicKey);
    const embedded = await new SignJWT({ department: 'CIVIL_AFFAIRS', role: 'OFFICER', region: '330102' })
      .setProtectedHeader({ alg: 'ES256', jwk, kid: '../jwt-secret', jku: 'http://127.0.0.1:1/jwks' })
      .setSubject('mallory')
      .setIssuer(t.config.jwt.issuer)
      .setAudience(t.config.jwt.audience)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    await refused(embedded, 'embedded jwk');
    await refused(signedWith(claims(), '{"alg":"HS256","kid":"../../../../dev/null"}', ''), 'kid to an empty key');
  });

  it('refuses claims of a wrong type or value, and region codes that are patterns or of a wrong width', async () => {
    const bad: [string, Record<string, unknown>][] = [
      ['region number', { region: 330102 }],
      ['region array', { region: ['330102'] }],
      ['region %', { region: '%' }],
      ['region prefix%', { region: '330102%' }],
      ['region _', { region: '33010_001' }],
      ['region backslash', { region: '330102\\' }],
      ['region empty', { region: '' }],
      ['region padded', { region: ' 330102' }],
      ['region newline', { region: '330102\n' }],
      ['region full-width digits', { region: '３３０１０２' }],
      ['region Arabic-Indic digits', { region: '٣٣٠١٠٢' }],
      ['region 7 digits', { region: '3301020' }],
      ['region 16 digits', { region: '3301020010010010' }],
      ['region 5 digits', { region: '33010' }],
      ['region unknown street', { region: '330102999' }],
      ['department lower-case', { department: 'police' }],
      ['department array', { department: ['POLICE'] }],
      ['department padded', { department: 'POLICE ' }],
      ['department unknown', { department: 'COURTS' }],
      ['role lower-case', { role: 'officer' }],
      ['role unknown', { role: 'ADMIN' }],
      ['role array', { role: ['OFFICER'] }],
      ['sub number', { sub: 42 }],
      ['sub array', { sub: ['mallory'] }],
      ['sub object', { sub: { id: 'mallory' } }],
      ['iss array', { iss: [t.config.jwt.issuer] }],
      ['iss other', { iss: 'someone-else' }],
      ['aud other', { aud: 'subgraph:registry' }],
      ['aud empty array', { aud: [] }],
      ['exp string', { exp: String(now() + 600) }],
      ['exp negative', { exp: -1 }],
      ['exp past', { exp: now() - 1 }],
      ['exp missing', { exp: undefined }],
      ['iat string', { iat: String(now()) }],
      ['iat missing', { iat: undefined }],
      ['iat an hour ahead', { iat: now() + 3600, exp: now() + 7200 }],
      ['iat far in the future', { iat: 1e15, exp: 1e15 + 600 }],
      ['nbf an hour ahead', { nbf: now() + 3600 }],
      ['nbf string', { nbf: String(now()) }],
      ['issued 13 h ago, exp in 50 years', { iat: now() - 13 * 3600, exp: now() + 50 * 365 * 86400 }],
    ];
    for (const [why, change] of bad) await refused(signedWith({ ...claims(), ...change }), why);
    // Duplicate keys in the payload: the last is read — a token naming the root region last is
    // the root's, exactly as signed, never a union or the first.
    const dup = rawJwt(HS256, JSON.stringify(claims()).replace('"region":"330102001"', '"region":"330102001","region":"999999"'), secret);
    await refused(dup, 'duplicate region, the last unknown');
  });

  it('refuses a very long token with a 401, not a crash', async () => {
    await refused(signedWith({ ...claims(), pad: 'x'.repeat(8_000) }, HS256, 'not-the-secret-not-the-secret-0123'), 'long forged');
    // Past Node's 16 KiB of headers: refused by the HTTP parser, no data and no 5xx.
    const res = await fetch(t.hub.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${'a'.repeat(20_000)}` },
      body: JSON.stringify({ query: '{ regions { code } }' }),
    }).catch(() => null);
    expect([null, 431]).toContain(res?.status ?? null);
  });

  it('serves non-officer roles by their role whatever department they claim: none of them reads a child', async () => {
    const [child] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' ORDER BY id LIMIT 1`);
    for (const role of [Role.REPORTER, Role.EMPLOYER, Role.DASHBOARD, Role.AUDITOR]) {
      for (const department of [Department.CIVIL_AFFAIRS, Department.POLICE]) {
        const token = await t.token(department, { role, user: `${role.toLowerCase()}-x` });
        const r = await t.gql(token, `query($id: ID!) { minor(id: $id) { id name } minors(first: 1) { totalCount } }`, { id: child.id });
        expect([role, department, r.data?.minor ?? null, r.data?.minors ?? null]).toEqual([role, department, null, null]);
        expect(errorCodes(r).every((c) => c === 'FORBIDDEN')).toBe(true);
      }
    }
  });

  it('ignores a gateway assertion a client sends to the hub: the caller is the token’s, in the token’s jurisdiction', async () => {
    const forged = await signAssertion(Buffer.from(gatewayKey), 'registry', { principal: { userId: 'root', department: Department.CIVIL_AFFAIRS, role: Role.OFFICER, region: '330102' }, requestId: 'x' }, { query: '{ minors(first: 1) { totalCount } }' });
    const street = await t.token(Department.POLICE, { region: STREET, user: 'street-1' });
    const plain = await t.gql(street, '{ minors(first: 1) { totalCount } }');
    const withForged = await t.gql(street, '{ minors(first: 1) { totalCount } }', undefined, { 'x-purpose': 'CASE_HANDLING', [ASSERTION_HEADER]: forged });
    expect(withForged.data.minors.totalCount).toBe(plain.data.minors.totalCount);
    const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM registry.minor WHERE grid_code LIKE '330102%' AND registry.is_minor(birth_date, now())`);
    expect(plain.data.minors.totalCount).toBeLessThan(n);
  });

  describe('a subgraph served alone', () => {
    const principal = { userId: 'u', department: Department.POLICE, role: Role.OFFICER, region: STREET };
    // Each refusal is logged by the subgraph (distributed.test.ts checks the lines): kept out of the output here.
    let log: jest.SpyInstance;
    beforeEach(() => (log = jest.spyOn(console, 'error').mockImplementation(() => undefined)));
    afterEach(() => log.mockRestore());

    it('answers neither `_service` nor `_entities` without the gateway’s assertion, with or without a client token', async () => {
      const [child] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
      const token = await t.token(Department.POLICE);
      for (const url of [registry.url, police.url]) {
        for (const [query, variables] of [
          ['{ _service { sdl } }', undefined],
          ['query($r: [_Any!]!) { _entities(representations: $r) { ... on Minor { id } } }', { r: [{ __typename: 'Minor', id: child.id }] }],
        ] as const) {
          for (const auth of [null, token]) {
            const r = await postGraphQL(url, auth, query, variables as never);
            expect([r.status, r.data, errorCodes(r)]).toEqual([401, undefined, ['UNAUTHENTICATED']]);
          }
          // A client token in the assertion header is no assertion.
          const r = await postGraphQL(url, null, query, variables as never, { [ASSERTION_HEADER]: token });
          expect([r.status, r.data]).toEqual([401, undefined]);
        }
      }
    });

    it('refuses an assertion whose principal was altered after signing, or that was signed for another subgraph or another deployment', async () => {
      const request = { query: '{ minors(first: 1) { totalCount } }' };
      const good = await signAssertion(gatewaySecret(t.config), 'registry', { principal, requestId: 'alter' }, request);
      const [h, p, s] = good.split('.');
      const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
      for (const change of [{ region: '330102' }, { department: 'CIVIL_AFFAIRS' }, { sub: 'someone-else' }, { exp: payload.exp + 3600 }, { aud: 'subgraph:police' }]) {
        const altered = `${h}.${b64(JSON.stringify({ ...payload, ...change }))}.${s}`;
        const r = await postGraphQL(registry.url, null, request.query, undefined, { [ASSERTION_HEADER]: altered });
        expect([change, r.status, r.data]).toEqual([change, 401, undefined]);
      }
      // Addressed to the police subgraph, presented to the registry.
      const toPolice = await signAssertion(gatewaySecret(t.config), 'police', { principal, requestId: 'aud' }, request);
      expect((await postGraphQL(registry.url, null, request.query, undefined, { [ASSERTION_HEADER]: toPolice })).status).toBe(401);
      // Another deployment's gateway (its own secret), same subgraph name.
      const elsewhere = await signAssertion(Buffer.from('another-deployments-gateway-secret-0123456789'), 'registry', { principal, requestId: 'dep' }, request);
      expect((await postGraphQL(registry.url, null, request.query, undefined, { [ASSERTION_HEADER]: elsewhere })).status).toBe(401);
      // Signed with the HS256 client secret of the hub (a dev token's key), not the gateway's.
      const withClientKey = await signAssertion(secret, 'registry', { principal, requestId: 'ck' }, request);
      expect((await postGraphQL(registry.url, null, request.query, undefined, { [ASSERTION_HEADER]: withClientKey })).status).toBe(401);
      // The good one still serves, once.
      expect((await postGraphQL(registry.url, null, request.query, undefined, { [ASSERTION_HEADER]: good })).status).toBe(200);
      expect((await postGraphQL(registry.url, null, request.query, undefined, { [ASSERTION_HEADER]: good })).status).toBe(401);
    });

    it('takes the request’s instant from the hub’s clock only: nothing a client sends moves the `at` of the gateway’s assertions', async () => {
      const spy = jest.spyOn(SignedRemoteDataSource.prototype, 'willSendRequest');
      const before = Date.now();
      try {
        const token = await t.token(Department.CIVIL_AFFAIRS);
        const headers = { 'x-purpose': 'CASE_HANDLING', date: 'Thu, 01 Jan 2015 00:00:00 GMT', 'x-hub-now': '2015-01-01T00:00:00Z', 'x-request-start': '1420070400000' };
        const r = await t.gql(token, '{ minors(first: 1) { totalCount } }', undefined, headers);
        expect(r.errors).toBeUndefined();
        const sent = spy.mock.calls.map(([{ request }]) => JSON.parse(Buffer.from(request.http!.headers.get(ASSERTION_HEADER)!.split('.')[1], 'base64url').toString()));
        expect(sent.length).toBeGreaterThan(0);
        for (const c of sent) expect([c.at >= before, c.at <= Date.now(), c.ageMs >= 0, c.ageMs < 15_000]).toEqual([true, true, true, true]);
      } finally {
        spy.mockRestore();
      }
    });
  });
});

describe('red team: client tokens of an identity provider (public key, JWKS)', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const mallory = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const body = { department: 'POLICE', role: 'OFFICER', region: '330102' };
  const base = (header: Record<string, unknown>) =>
    new SignJWT(body).setProtectedHeader(header as never).setSubject('idp-user').setIssuer('minor-protection-hub').setAudience('minor-protection-hub').setIssuedAt().setExpirationTime('10m');
  const expectRefused = async (tokens: TokenService, token: string, why: string) => {
    const outcome = await tokens.verify(`Bearer ${token}`).then(
      () => 'accepted',
      (e) => e.extensions?.code,
    );
    expect([why, outcome]).toEqual([why, 'UNAUTHENTICATED']);
  };

  it('with a public key (production): refuses HS256 keyed with the key’s own text or bytes, another key, another curve or family, none', async () => {
    const pem = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const der = ec.publicKey.export({ type: 'spki', format: 'der' });
    const tokens = await TokenService.create(
      testConfig({ env: { NODE_ENV: 'production', HUB_JWT_PUBLIC_KEY: pem, HUB_JWT_ALGORITHMS: 'ES256', HUB_AUDIT_KEY: 'production-test-audit-key-0123456789' } }),
    );
    await expect(tokens.verify(`Bearer ${await base({ alg: 'ES256' }).sign(ec.privateKey)}`)).resolves.toMatchObject({ userId: 'idp-user', region: '330102' });
    const payload = { sub: 'idp-user', ...body, iss: 'minor-protection-hub', aud: 'minor-protection-hub', iat: now(), exp: now() + 600 };
    await expectRefused(tokens, rawJwt('{"alg":"HS256"}', JSON.stringify(payload), pem), 'HS256 keyed with the PEM');
    await expectRefused(tokens, rawJwt('{"alg":"HS256"}', JSON.stringify(payload), pem.trim()), 'HS256 keyed with the trimmed PEM');
    await expectRefused(tokens, rawJwt('{"alg":"HS256"}', JSON.stringify(payload), der), 'HS256 keyed with the DER');
    await expectRefused(tokens, rawJwt('{"alg":"none"}', JSON.stringify(payload), null), 'none');
    await expectRefused(tokens, await base({ alg: 'ES256' }).sign(mallory.privateKey), 'another EC key');
    await expectRefused(tokens, await base({ alg: 'ES256', jwk: await exportJWK(mallory.publicKey) }).sign(mallory.privateKey), 'another key, embedded');
    await expectRefused(tokens, await base({ alg: 'RS256' }).sign(rsa.privateKey), 'RS256');
    await expectRefused(tokens, await base({ alg: 'PS256' }).sign(rsa.privateKey), 'PS256');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    await expectRefused(tokens, await base({ alg: 'ES384' }).sign(p384.privateKey), 'ES384');
  });

  it('with the default algorithms and an RSA key: RS256 served, ES256 and HS256 refused', async () => {
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const tokens = await TokenService.create(testConfig({ env: { HUB_JWT_PUBLIC_KEY: pem } }));
    await expect(tokens.verify(`Bearer ${await base({ alg: 'RS256' }).sign(rsa.privateKey)}`)).resolves.toMatchObject({ userId: 'idp-user' });
    await expectRefused(tokens, await base({ alg: 'ES256' }).sign(mallory.privateKey), 'ES256 with another key');
    const payload = { sub: 'idp-user', ...body, iss: 'minor-protection-hub', aud: 'minor-protection-hub', iat: now(), exp: now() + 600 };
    await expectRefused(tokens, rawJwt('{"alg":"HS256"}', JSON.stringify(payload), pem), 'HS256 keyed with the PEM');
  });

  describe('with a JWKS', () => {
    let server: Server;
    let url: string;
    let tokens: TokenService;
    let jwks: string;
    beforeAll(async () => {
      const key = { ...(await exportJWK(ec.publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
      jwks = JSON.stringify({ keys: [key] });
      server = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(jwks);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
      tokens = await TokenService.create(testConfig({ env: { HUB_JWKS_URL: url } }));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('serves the provider’s key by its kid, and refuses another key under that kid, an unknown kid, an embedded key or jku, HS256 with the key set as secret', async () => {
      await expect(tokens.verify(`Bearer ${await base({ alg: 'ES256', kid: 'idp-1' }).sign(ec.privateKey)}`)).resolves.toMatchObject({ userId: 'idp-user' });
      await expectRefused(tokens, await base({ alg: 'ES256', kid: 'idp-1' }).sign(mallory.privateKey), 'another key, same kid');
      await expectRefused(tokens, await base({ alg: 'ES256', kid: 'mallory' }).sign(mallory.privateKey), 'unknown kid');
      await expectRefused(tokens, await base({ alg: 'ES256', jwk: await exportJWK(mallory.publicKey) }).sign(mallory.privateKey), 'embedded jwk');
      await expectRefused(tokens, await base({ alg: 'ES256', kid: 'idp-1', jku: `${url}?mallory` }).sign(mallory.privateKey), 'jku');
      const payload = { sub: 'idp-user', ...body, iss: 'minor-protection-hub', aud: 'minor-protection-hub', iat: now(), exp: now() + 600 };
      const { x } = JSON.parse(jwks).keys[0];
      for (const key of [jwks, x, Buffer.from(x, 'base64url')]) await expectRefused(tokens, rawJwt('{"alg":"HS256","kid":"idp-1"}', JSON.stringify(payload), key), 'HS256 keyed with the key set');
      await expectRefused(tokens, rawJwt('{"alg":"none","kid":"idp-1"}', JSON.stringify(payload), null), 'none');
    });
  });
});
