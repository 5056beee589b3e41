import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { SignJWT } from 'jose';
import { Department } from '../src/auth/principal';
import { TokenService } from '../src/auth/token.service';
import { eventCount } from './support/audit-helpers';
import { exchange } from './support/raw-socket';
import { startTestHub, TestHub, testConfig } from './support/test-hub';

/**
 * Red team of the hub's HTTP surface and authentication, through the public endpoint: what a
 * browser on another origin, a client with odd headers, odd tokens or odd bodies gets, and that
 * each refusal leaves an audit event.
 */

const QUERY = '{ regions { code } }';

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One raw HTTP/1.1 exchange on its own connection (the request should say `Connection: close`). */
async function raw(port: number, text: string | Buffer, waitMs = 10_000): Promise<RawAnswer> {
  const all = (await exchange(port, [text], waitMs)).toString('utf8');
  const [head, ...rest] = all.split('\r\n\r\n');
  const [statusLine, ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body: rest.join('\r\n\r\n') };
}

const request = (method: string, path: string, headers: Record<string, string>, body: string | Buffer = '') =>
  Buffer.concat([
    Buffer.from(
      `${method} ${path} HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n${Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('')}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
    ),
    Buffer.isBuffer(body) ? body : Buffer.from(body),
  ]);

describe('HTTP surface and authentication (red team)', () => {
  let t: TestHub;
  let secret: Uint8Array;
  beforeAll(async () => {
    t = await startTestHub();
    secret = new TextEncoder().encode(fs.readFileSync(`${t.config.dataDir}/jwt-secret`, 'utf8').trim());
  });
  afterAll(() => t.stop());

  const finalEvent = async (requestId: string | undefined) => {
    expect(requestId).toBeDefined();
    await t.hub.audit.drain();
    const rows = await t.sql(`SELECT outcome, body FROM audit.event WHERE request_id = $1 AND outcome <> 'STARTED'`, [requestId]);
    expect(rows).toHaveLength(1);
    return { outcome: rows[0].outcome as string, body: JSON.parse(rows[0].body) };
  };

  it('lets no browser on another origin read an answer: no CORS header on a preflight or on an answer', async () => {
    const police = await t.token(Department.POLICE);
    const preflight = await raw(t.hub.port, request('OPTIONS', '/graphql', { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' }));
    const answer = await raw(t.hub.port, request('POST', '/graphql', { Origin: 'https://evil.example', Authorization: `Bearer ${police}`, 'Content-Type': 'application/json' }, JSON.stringify({ query: QUERY })));
    expect([preflight.status, answer.status]).toEqual([401, 200]);
    for (const r of [preflight, answer]) expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('runs no mutation sent as a request a page on another origin could send (text/plain, a form, multipart, no type): refused, each audited', async () => {
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
    const before = (await t.sql(`SELECT count(*)::int AS n FROM registry.guardian WHERE minor_id = $1`, [id]))[0].n;
    const mutation = JSON.stringify({ query: `mutation { addGuardian(minorId: "${id}", input: { relationship: OTHER_RELATIVE, name: "王五" }) { id } }` });
    const form = `query=${encodeURIComponent(`mutation { addGuardian(minorId: "${id}", input: { relationship: OTHER_RELATIVE, name: "王五" }) { id } }`)}`;
    for (const [type, body] of [
      ['text/plain', mutation],
      ['text/plain', form],
      ['application/x-www-form-urlencoded', form],
      ['multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${mutation}\r\n--x--\r\n`],
      [null, mutation],
    ] as const) {
      const r = await raw(t.hub.port, request('POST', '/graphql', { Authorization: `Bearer ${civil}`, 'x-purpose': 'CASE_HANDLING', ...(type ? { 'Content-Type': type } : {}) }, body));
      expect([type, r.status, JSON.parse(r.body).data]).toEqual([type, 400, undefined]);
      expect(await finalEvent(r.headers['x-request-id'])).toMatchObject({ outcome: 'INVALID' });
    }
    expect((await t.sql(`SELECT count(*)::int AS n FROM registry.guardian WHERE minor_id = $1`, [id]))[0].n).toBe(before);
  });

  it('refuses a batched (array) body, audited', async () => {
    const police = await t.token(Department.POLICE);
    const r = await raw(t.hub.port, request('POST', '/graphql', { Authorization: `Bearer ${police}`, 'Content-Type': 'application/json' }, JSON.stringify([{ query: QUERY }, { query: QUERY }])));
    expect([r.status, JSON.parse(r.body).errors[0].extensions.code]).toEqual([400, 'BAD_REQUEST']);
    expect(await finalEvent(r.headers['x-request-id'])).toMatchObject({ outcome: 'INVALID', body: { errorCodes: ['BAD_REQUEST'], userId: 'police-test' } });
  });

  it('takes a token from one "Bearer <token>" Authorization header only: not from the URL or a cookie; of two headers the first counts', async () => {
    const police = await t.token(Department.POLICE);
    const body = JSON.stringify({ query: QUERY });
    const status = async (headers: Record<string, string>, path = '/graphql') => (await raw(t.hub.port, request('POST', path, { 'Content-Type': 'application/json', ...headers }, body))).status;
    // The scheme is case-insensitive and any run of whitespace separates it (RFC 9110): served.
    expect(await status({ Authorization: `bearer ${police}` })).toBe(200);
    expect(await status({ Authorization: `BEARER    ${police}` })).toBe(200);
    for (const authorization of [`Bearer ${police} ${police}`, `Bearer ${police}, Bearer x`, `Basic ${Buffer.from(`${police}:`).toString('base64')}`, `Token ${police}`, police]) {
      expect([authorization.slice(0, 12), await status({ Authorization: authorization })]).toEqual([authorization.slice(0, 12), 401]);
    }
    expect(await status({}, `/graphql?access_token=${police}`)).toBe(401);
    expect(await status({ Cookie: `token=${police}; authorization=Bearer ${police}` })).toBe(401);
    const two = (first: string, second: string) =>
      raw(t.hub.port, `POST /graphql HTTP/1.1\r\nHost: hub\r\nConnection: close\r\nAuthorization: ${first}\r\nAuthorization: ${second}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    expect((await two('Bearer forged', `Bearer ${police}`)).status).toBe(401);
  });

  it('refuses tokens of another algorithm, with nbf beyond the tolerance or expiring now, and claims of the wrong type or with LIKE wildcards', async () => {
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: Record<string, unknown>, o: { alg?: string; iat?: number; exp?: number; nbf?: number } = {}) => {
      let j = new SignJWT({ department: 'POLICE', role: 'OFFICER', region: '330102', ...claims })
        .setProtectedHeader({ alg: o.alg ?? 'HS256' })
        .setSubject('u1')
        .setIssuer(t.config.jwt.issuer)
        .setAudience(t.config.jwt.audience)
        .setIssuedAt(o.iat ?? now)
        .setExpirationTime(o.exp ?? now + 3600);
      if (o.nbf !== undefined) j = j.setNotBefore(o.nbf);
      return j.sign(secret);
    };
    const statusOf = async (token: string) => (await t.gql(token, QUERY)).status;
    expect(await statusOf(await sign({}))).toBe(200);
    expect(await statusOf(await sign({}, { alg: 'HS512' }))).toBe(401);
    expect(await statusOf(await sign({}, { nbf: now + 40 }))).toBe(401);
    expect(await statusOf(await sign({}, { exp: now }))).toBe(401);
    for (const region of ['', '%', '330%', '33010_', '330102%', '330102\n', ' 330102', '٣٣٠١٠٢', 330102, ['330102'], '3301', '3301020', '33010200100']) {
      expect([region, await statusOf(await sign({ region }))]).toEqual([region, 401]);
    }
    for (const claims of [{ department: ['POLICE'] }, { role: 'officer' }, { department: 'POLICE ' }, { role: null }]) {
      expect([claims, await statusOf(await sign(claims))]).toEqual([claims, 401]);
    }
  });

  it('with a public key, refuses a token signed with HMAC using that key as the secret, or unsigned, whatever algorithms are listed', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    for (const algorithms of [['RS256'], ['RS256', 'HS256']]) {
      const config = testConfig({ env: { HUB_JWT_PUBLIC_KEY: pem, HUB_JWT_ALGORITHMS: algorithms.join(',') } });
      const tokens = await TokenService.create(config);
      const claims = { department: 'POLICE', role: 'OFFICER', region: '330102' };
      const base = () => new SignJWT(claims).setSubject('u1').setIssuer(config.jwt.issuer).setAudience(config.jwt.audience).setIssuedAt().setExpirationTime('1h');
      const good = await base().setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
      expect((await tokens.verify(`Bearer ${good}`)).userId).toBe('u1');
      const confused = await base().setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(pem));
      await expect(tokens.verify(`Bearer ${confused}`)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
      const [h, p] = good.split('.');
      const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${p}.`;
      await expect(tokens.verify(`Bearer ${none}`)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
      await expect(tokens.verify(`Bearer ${h}.${p}.`)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    }
  });

  it('refuses bodies it cannot read with a client error naming no internals, each audited: not JSON, invalid UTF-8, an unsupported charset, a compression bomb, a bad encoding', async () => {
    const police = await t.token(Department.POLICE);
    const json = { Authorization: `Bearer ${police}`, 'Content-Type': 'application/json' };
    const invalidUtf8 = Buffer.concat([Buffer.from('{"query":"{ regions { co'), Buffer.from([0xff, 0xfe, 0xc0, 0xaf]), Buffer.from('de } }"}')]);
    const bomb = zlib.gzipSync(Buffer.alloc(50_000_000, 0x20));
    const cases: [string, Buffer, number][] = [
      ['not JSON', request('POST', '/graphql', json, '{"query": '), 400],
      ['null', request('POST', '/graphql', json, 'null'), 400],
      ['invalid UTF-8', request('POST', '/graphql', json, invalidUtf8), 400],
      ['latin1', request('POST', '/graphql', { ...json, 'Content-Type': 'application/json; charset=latin1' }, JSON.stringify({ query: QUERY })), 415],
      ['gzip bomb', request('POST', '/graphql', { ...json, 'Content-Encoding': 'gzip' }, bomb), 413],
      ['not brotli', request('POST', '/graphql', { ...json, 'Content-Encoding': 'br' }, JSON.stringify({ query: QUERY })), 400],
      ['unknown encoding', request('POST', '/graphql', { ...json, 'Content-Encoding': 'x-evil' }, JSON.stringify({ query: QUERY })), 415],
    ];
    for (const [what, req, status] of cases) {
      const r = await raw(t.hub.port, req);
      expect([what, r.status, r.headers['content-type']]).toEqual([what, status, 'application/json; charset=utf-8']);
      expect(r.body).not.toMatch(/\bat .*:\d+|node_modules|\/tmp\/|src\/|SELECT|(?<!Syntax )Error:/);
      expect((await finalEvent(r.headers['x-request-id'])).outcome).not.toBe('SUCCESS');
    }
  });

  it('leaks no version, stack or path from /health, unknown routes and the dashboard, which has a strict CSP', async () => {
    const health = await raw(t.hub.port, request('GET', '/health', {}));
    expect([health.status, JSON.parse(health.body)]).toEqual([200, { status: 'ok' }]);
    for (const path of ['/', '/dashboard/..%2f..%2f..%2fpackage.json', '/dashboard/%2e%2e/%2e%2e/%2e%2e/package.json', '/dashboard/.env', '/dashboard/%E0%A4%A', '/dashboard/vendor', '/package.json']) {
      const r = await raw(t.hub.port, request('GET', path, {}));
      expect([path, r.status]).toEqual([path, 404]);
      expect(r.body).not.toMatch(/"name"|\bat .*:\d+|node_modules|\/tmp\//);
      // A refusal like any other: JSON, typed, for no cache to keep — not Express's HTML page.
      expect([path, r.headers['content-type'], r.headers['cache-control'], JSON.parse(r.body)]).toEqual([
        path,
        'application/json; charset=utf-8',
        'no-store',
        { errors: [{ message: 'Nothing is served at this path', extensions: { code: 'NOT_FOUND' } }] },
      ]);
    }
    for (const r of [health, await raw(t.hub.port, request('GET', '/nowhere', {}))]) {
      expect(Object.keys(r.headers).filter((h) => ['x-powered-by', 'server', 'etag'].includes(h))).toEqual([]);
    }
    const page = await raw(t.hub.port, request('GET', '/dashboard/', {}));
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'.*script-src 'self'.*frame-ancestors 'none'/);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.body).not.toMatch(/<script>|\son\w+=/);
  });

  // Documented (README, "Audit trail"): a request Node's parser cannot read never reaches the hub
  // and leaves no event; it must at least be answered with nothing but its status.
  it('answers a request the HTTP parser refuses (headers too large, both chunked and with a length, a control character in a header) with its status alone, and no event, as documented', async () => {
    const police = await t.token(Department.POLICE);
    const body = JSON.stringify({ query: QUERY });
    for (const [what, text, status] of [
      ['headers too large', request('POST', '/graphql', { Authorization: `Bearer ${police}`, 'Content-Type': 'application/json', 'X-Padding': 'a'.repeat(20_000) }, body), 431],
      ['chunked and a length', `POST /graphql HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer ${police}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`, 400],
      ['control character', request('POST', '/graphql', { Authorization: `Bearer ${police}`, 'Content-Type': 'application/json', 'x-purpose': 'CASE_HANDLING; a\u0001b' }, body), 400],
    ] as const) {
      const before = await eventCount(t);
      const r = await raw(t.hub.port, text);
      expect([what, r.status, r.body]).toEqual([what, status, '']);
      expect([what, (await eventCount(t)) - before]).toEqual([what, 0]);
    }
  });
});
