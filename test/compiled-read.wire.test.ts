import { SignJWT } from 'jose';
import { spawn } from 'node:child_process';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Department } from '../src/auth/principal';
import { devSecret } from '../src/config/secrets';
import { storedEventOf } from './support/audit-helpers';
import { exchange, type Step } from './support/raw-socket';
import { startTestHub, TestHub } from './support/test-hub';

/**
 * Compiled reads (src/compiled-read) on the wire: requests at the edges of what the compiled path
 * accepts, sent byte for byte over a raw socket to a hub with compiled reads and to one without
 * (HUB_BENCH_DISABLE=compiled) on the same database. The raw answers (status line, header names in
 * order and case, values, body) and the audit events each request left, counted, must be the same.
 * test/compiled-read.test.ts covers the per-role and per-field matrix and the common request shapes;
 * this file what `fetch` cannot see: headers as sent, socket reuse, pipelining, 100-continue, odd
 * headers and bodies, token and purpose edge cases, clients that stall or hang up.
 */
describe('compiled reads on the wire', () => {
  let fast: TestHub;
  let general: TestHub;
  let minorId: string;
  let outsideId: string;
  let police: string;
  const STREET = '330102001';
  const BENCH = `query Child($id: ID!) { minor(id: $id) { id name idNumber gender birthDate riskLevel nextVisitDue } }`;

  beforeAll(async () => {
    fast = await startTestHub();
    general = await startTestHub({ databaseUrl: fast.databaseUrl, env: { HUB_BENCH_DISABLE: 'compiled' } });
    [{ id: minorId }] = await fast.sql(
      `SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND next_visit_due IS NOT NULL AND risk_level IS NOT NULL ORDER BY id LIMIT 1`,
    );
    [{ id: outsideId }] = await fast.sql(`SELECT id FROM registry.minor WHERE grid_code NOT LIKE '${STREET}%' ORDER BY id LIMIT 1`);
    police = await fast.token(Department.POLICE);
  });
  afterAll(async () => {
    await general?.stop();
    await fast?.stop();
  });

  // ---------------------------------------------------------------------------------------------
  // Raw HTTP: what goes on the wire, and what the trail holds for it.

  interface RawResponse {
    statusLine: string;
    /** Header lines as sent (name case and order kept), Date and x-request-id values blanked. */
    headerLines: string[];
    body: string;
    requestId: string | null;
  }

  /** Splits what a socket received into responses (100 Continue included), by Content-Length. */
  function parseResponses(raw: Buffer): RawResponse[] {
    const out: RawResponse[] = [];
    let at = 0;
    while (at < raw.length) {
      const end = raw.indexOf('\r\n\r\n', at);
      if (end < 0) break;
      const head = raw.subarray(at, end).toString('latin1').split('\r\n');
      const statusLine = head[0];
      let length = 0;
      let requestId: string | null = null;
      const headerLines = head.slice(1).map((line) => {
        const i = line.indexOf(':');
        const name = line.slice(0, i);
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === 'content-length') length = Number(value);
        if (name.toLowerCase() === 'x-request-id') {
          requestId = value;
          return `${name}: <id>`;
        }
        if (name.toLowerCase() === 'date') return `${name}: <date>`;
        return line;
      });
      const bodyStart = end + 4;
      const status = Number(statusLine.split(' ')[1]);
      const hasBody = status >= 200 && status !== 204 && status !== 304;
      const body = hasBody ? raw.subarray(bodyStart, bodyStart + length).toString('utf8') : '';
      out.push({ statusLine, headerLines, body, requestId });
      at = bodyStart + (hasBody ? length : 0);
    }
    return out;
  }

  async function lastSeq(t: TestHub): Promise<number> {
    await fast.hub.audit.drain();
    await general.hub.audit.drain();
    return Number((await t.sql(`SELECT coalesce(max(seq), 0) AS s FROM audit.event`))[0].s);
  }

  const strip = ({ requestId, time, durationMs, ...event }: Record<string, unknown>) => event; // eslint-disable-line @typescript-eslint/no-unused-vars

  interface Observed {
    responses: Omit<RawResponse, 'requestId'>[];
    /**
     * Events the request(s) left, without request id, time and duration, in a canonical order:
     * pipelined requests run concurrently, so their events may reach the chain in either order.
     */
    events: Record<string, unknown>[];
    /** Whether each response's x-request-id names one of those events. */
    named: boolean[];
  }

  async function observe(t: TestHub, steps: Step[], wait?: number): Promise<Observed> {
    const from = await lastSeq(t);
    const raw = await exchange(t.hub.port, steps, wait);
    // Events written after the answer (HttpAudit's `finish` fallback) are drained here.
    await new Promise((r) => setTimeout(r, 50));
    const to = await lastSeq(t);
    const rows: { body: string }[] = await t.sql(`SELECT body FROM audit.event WHERE seq > $1 AND seq <= $2 ORDER BY seq`, [from, to]);
    const bodies = rows.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    const responses = parseResponses(raw);
    return {
      responses: responses.map(({ requestId, ...r }) => r), // eslint-disable-line @typescript-eslint/no-unused-vars
      events: bodies.map(strip).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
      named: responses.filter((r) => !r.statusLine.includes(' 100 ')).map((r) => !!r.requestId && bodies.some((b) => b.requestId === r.requestId)),
    };
  }

  /**
   * The same bytes to both hubs: same raw answers (status line, header names in order, values, body)
   * and the same events, as many of them. Returns how many answers the compiled path gave.
   */
  async function rawBoth(build: (host: string) => Step[], wait?: number): Promise<{ compiled: number; seen: Observed }> {
    const before = fast.hub.compiledReadsServed()!;
    const a = await observe(fast, build(`127.0.0.1:${fast.hub.port}`), wait);
    const compiled = fast.hub.compiledReadsServed()! - before;
    const b = await observe(general, build(`127.0.0.1:${general.hub.port}`), wait);
    expect(a).toEqual(b);
    return { compiled, seen: b };
  }

  function post(host: string, body: string | Buffer, headers: [string, string][] = [], opts: { path?: string; method?: string; close?: boolean } = {}): Buffer {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    const lines = [
      `${opts.method ?? 'POST'} ${opts.path ?? '/graphql'} HTTP/1.1`,
      `Host: ${host}`,
      ...headers.map(([n, v]) => `${n}: ${v}`),
      `Content-Length: ${bytes.length}`,
      ...(opts.close === false ? [] : ['Connection: close']),
    ];
    return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), bytes]);
  }

  const okBody = () => JSON.stringify({ query: BENCH, variables: { id: minorId } });
  const std = (token = police): [string, string][] => [
    ['Authorization', `Bearer ${token}`],
    ['Content-Type', 'application/json'],
    ['x-purpose', 'CASE_HANDLING'],
  ];
  const without = (headers: [string, string][], name: string) => headers.filter(([n]) => n.toLowerCase() !== name.toLowerCase());

  // ---------------------------------------------------------------------------------------------

  it('sends the same bytes on the wire and one named event', async () => {
    const r = await rawBoth((host) => [post(host, okBody(), std())]);
    expect(r.compiled).toBe(1);
    expect(r.seen.responses).toHaveLength(1);
    expect(r.seen.named).toEqual([true]);
    expect(r.seen.events).toHaveLength(1);
  });

  it('sends the same answer on a keep-alive connection (no Connection: close)', async () => {
    const r = await rawBoth((host) => [post(host, okBody(), std(), { close: false })], 800);
    expect(r.compiled).toBe(1);
  });

  it('treats request-target variants as the general path does (query string, trailing slash, case, absolute form, other methods)', async () => {
    const cases: [string, (host: string) => Step[], number][] = [
      ['query string', (h) => [post(h, okBody(), std(), { path: '/graphql?x=1' })], 0],
      ['trailing slash', (h) => [post(h, okBody(), std(), { path: '/graphql/' })], 0],
      ['upper case path', (h) => [post(h, okBody(), std(), { path: '/GRAPHQL' })], 0],
      ['double slash', (h) => [post(h, okBody(), std(), { path: '//graphql' })], 0],
      ['absolute form', (h) => [post(h, okBody(), std(), { path: `http://${h}/graphql` })], 0],
      ['PUT', (h) => [post(h, okBody(), std(), { method: 'PUT' })], 0],
      ['PATCH', (h) => [post(h, okBody(), std(), { method: 'PATCH' })], 0],
      ['OPTIONS', (h) => [post(h, '', std(), { method: 'OPTIONS' })], 0],
      ['HEAD', (h) => [post(h, '', std(), { method: 'HEAD' })], 0],
    ];
    for (const [name, build, compiles] of cases) {
      const r = await rawBoth(build);
      expect([name, r.compiled]).toEqual([name, compiles]);
    }
  });

  it('treats header variants as the general path does', async () => {
    const base = std();
    const street = await fast.token(Department.POLICE, { region: STREET, user: 'street-officer' });
    const education = await fast.token(Department.EDUCATION);
    const cases: [string, [string, string][], number][] = [
      ['upper-case media type', [...without(base, 'content-type'), ['Content-Type', 'APPLICATION/JSON']], 1],
      ['charset in upper case', [...without(base, 'content-type'), ['Content-Type', 'application/json; charset=UTF-8']], 1],
      ['charset without space', [...without(base, 'content-type'), ['Content-Type', 'application/json;charset=utf-8']], 0],
      ['a quoted charset', [...without(base, 'content-type'), ['Content-Type', 'application/json; charset="utf-8"']], 0],
      ['latin1 charset', [...without(base, 'content-type'), ['Content-Type', 'application/json; charset=latin1']], 0],
      ['utf-16 charset', [...without(base, 'content-type'), ['Content-Type', 'application/json; charset=utf-16']], 0],
      ['text/plain', [...without(base, 'content-type'), ['Content-Type', 'text/plain']], 0],
      ['application/graphql+json', [...without(base, 'content-type'), ['Content-Type', 'application/graphql+json']], 0],
      ['no content type', without(base, 'content-type'), 0],
      ['two content types (json first)', [...base, ['Content-Type', 'text/plain']], 1],
      ['accept */*', [...base, ['Accept', '*/*']], 1],
      ['accept application/json', [...base, ['Accept', 'application/json']], 1],
      ['accept a list', [...base, ['Accept', 'application/json, */*']], 0],
      ['accept text/html', [...base, ['Accept', 'text/html']], 0],
      ['accept empty', [...base, ['Accept', '']], 0],
      ['accept two headers', [...base, ['Accept', 'application/json'], ['Accept', 'application/json']], 0],
      ['content-encoding identity', [...base, ['Content-Encoding', 'identity']], 0],
      ['lower-case bearer', [...without(base, 'authorization'), ['authorization', `bearer ${police}`]], 1],
      ['bearer with two spaces', [...without(base, 'authorization'), ['authorization', `Bearer  ${police}`]], 1],
      ['bearer with a tab', [...without(base, 'authorization'), ['authorization', `Bearer\t${police}`]], 1],
      ['Basic scheme', [...without(base, 'authorization'), ['authorization', `Basic ${police}`]], 0],
      ['empty authorization', [...without(base, 'authorization'), ['authorization', '']], 0],
      // Node keeps the first of duplicate Authorization headers: both paths must agree on which.
      ['two authorizations, valid first', [...base, ['Authorization', 'Bearer not-a-token']], 1],
      ['two authorizations, invalid first', [['Authorization', 'Bearer not-a-token'], ...base], 0],
      ['two authorizations, street officer first', [['Authorization', `Bearer ${street}`], ...base], 1],
      ['two authorizations, education (masked) first', [['Authorization', `Bearer ${education}`], ...base], 0],
      // Duplicate x-purpose headers are joined with ", " by Node.
      ['two purposes', [...base, ['x-purpose', 'REFERRAL']], 0],
      ['purpose in lower case', [...without(base, 'x-purpose'), ['x-purpose', 'case_handling']], 1],
      ['purpose with spaces', [...without(base, 'x-purpose'), ['x-purpose', '  CASE_HANDLING  ;  ref 1  ']], 1],
      ['purpose percent-encoded', [...without(base, 'x-purpose'), ['x-purpose', 'CASE%5FHANDLING%3B%20%E6%A1%88-1']], 1],
      ['purpose with broken percent-encoding', [...without(base, 'x-purpose'), ['x-purpose', 'CASE_HANDLING; 100%']], 1],
      ['purpose with raw latin-1 bytes', [...without(base, 'x-purpose'), ['x-purpose', 'CASE_HANDLING; caf\u00e9']], 1],
      ['purpose of only spaces', [...without(base, 'x-purpose'), ['x-purpose', '   ']], 0],
      ['purpose empty', [...without(base, 'x-purpose'), ['x-purpose', '']], 0],
      ['purpose ;', [...without(base, 'x-purpose'), ['x-purpose', ';']], 0],
      ['purpose with 200-character reference', [...without(base, 'x-purpose'), ['x-purpose', `CASE_HANDLING; ${'r'.repeat(200)}`]], 1],
      ['purpose with 201-character reference', [...without(base, 'x-purpose'), ['x-purpose', `CASE_HANDLING; ${'r'.repeat(201)}`]], 0],
      // Checked against the referral it names, on the general path (which refuses this one).
      ['purpose REFERRAL naming no referral', [...without(base, 'x-purpose'), ['x-purpose', 'REFERRAL; 00000000-0000-4000-8000-000000000000']], 0],
      ['x-forwarded-for', [...base, ['X-Forwarded-For', '10.9.8.7']], 1],
      ['expect 100-continue', [...base, ['Expect', '100-continue']], 1],
      // Served, the expectation ignored (RFC 9110 §10.1.1), on either path: Node had answered 417 unaudited.
      ['expect something else', [...base, ['Expect', 'something']], 1],
      ['upgrade requested', [...base, ['Upgrade', 'websocket'], ['Connection', 'Upgrade']], 1],
      ['h2c upgrade requested', [...base, ['Upgrade', 'h2c'], ['HTTP2-Settings', 'AAMAAABkAAQAoAAAAAIAAAAA']], 1],
      ['an Origin of another site', [...base, ['Origin', 'https://evil.example']], 1],
      ['apollo-require-preflight', [...base, ['apollo-require-preflight', 'true']], 1],
      ['x-http-method-override GET', [...base, ['X-HTTP-Method-Override', 'GET']], 1],
    ];
    for (const [name, headers, compiles] of cases) {
      const r = await rawBoth((host) => [post(host, okBody(), headers)]);
      expect([name, r.compiled]).toEqual([name, compiles]);
    }
  });

  it('treats body variants as the general path does', async () => {
    const q = (o: unknown) => JSON.stringify(o);
    const cases: [string, string | Buffer, number][] = [
      ['a UTF-8 BOM', `\ufeff${okBody()}`, 1],
      ['leading whitespace', `  \r\n\t${okBody()}`, 1],
      ['trailing whitespace', `${okBody()} \n`, 1],
      ['trailing garbage', `${okBody()}x`, 0],
      ['two JSON values', `${okBody()}${okBody()}`, 0],
      ['duplicate query key, compiled shape last', `{"query":"{ regions { code } }","query":${JSON.stringify(BENCH)},"variables":{"id":"${minorId}"}}`, 1],
      ['duplicate query key, compiled shape first', `{"query":${JSON.stringify(BENCH)},"query":"{ regions { code } }","variables":{"id":"${minorId}"}}`, 0],
      ['duplicate id key, outside child last', `{"query":${JSON.stringify(BENCH)},"variables":{"id":"${minorId}","id":"${outsideId}"}}`, 1],
      ['duplicate variables key', `{"query":${JSON.stringify(BENCH)},"variables":{"id":"nope"},"variables":{"id":"${minorId}"}}`, 1],
      ['escaped key names', `{"\\u0071uery":${JSON.stringify(BENCH)},"variables":{"\\u0069d":"${minorId}"}}`, 1],
      ['escaped id value', `{"query":${JSON.stringify(BENCH)},"variables":{"id":"${minorId.replace(/-/g, '\\u002d')}"}}`, 1],
      ['a __proto__ key', `{"query":${JSON.stringify(BENCH)},"variables":{"id":"${minorId}"},"__proto__":{"x":1}}`, 0],
      ['a __proto__ variable', `{"query":${JSON.stringify(BENCH.replace(/\$id/g, '$__proto__'))},"variables":{"__proto__":"${minorId}"}}`, -1],
      ['operationName null', q({ query: BENCH, variables: { id: minorId }, operationName: null }), 1],
      ['operationName empty', q({ query: BENCH, variables: { id: minorId }, operationName: '' }), 0],
      ['operationName a number', q({ query: BENCH, variables: { id: minorId }, operationName: 1 }), 0],
      ['variables null', q({ query: BENCH, variables: null }), 0],
      ['variables a string', q({ query: BENCH, variables: JSON.stringify({ id: minorId }) }), 0],
      ['query not a string', q({ query: { kind: 'Document' }, variables: { id: minorId } }), 0],
      ['invalid UTF-8 in a comment', Buffer.concat([Buffer.from(`{"query":"query Child($id: ID!) { minor(id: $id) { id name } } #`), Buffer.from([0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from(`","variables":{"id":"${minorId}"}}`)]), 1],
      ['NUL in a comment', q({ query: `${BENCH} #\u0000`, variables: { id: minorId } }), 1],
      ['U+2028 in a comment', q({ query: `${BENCH} #\u2028x`, variables: { id: minorId } }), 1],
      ['unicode BOM inside the query', q({ query: `\ufeff${BENCH}`, variables: { id: minorId } }), 1],
      ['a comma-separated selection', q({ query: BENCH.replace(/ name /, ', name, '), variables: { id: minorId } }), 1],
      ['a block string in a comment', q({ query: `${BENCH} # """x"""`, variables: { id: minorId } }), 1],
      ['variable declared nullable', q({ query: BENCH.replace('ID!', 'ID'), variables: { id: minorId } }), 0],
      ['variable declared String!', q({ query: BENCH.replace('ID!', 'String!'), variables: { id: minorId } }), 0],
      ['subscription', q({ query: BENCH.replace('query Child', 'subscription Child'), variables: { id: minorId } }), 0],
      ['mutation', q({ query: BENCH.replace('query Child', 'mutation Child'), variables: { id: minorId } }), 0],
      ['an unknown field', q({ query: BENCH.replace(' name ', ' name nope '), variables: { id: minorId } }), 0],
      ['a department field', q({ query: BENCH.replace(' name ', ' name schoolEnrollments { school } '), variables: { id: minorId } }), 0],
      ['a body of 64 KiB (padded)', q({ query: BENCH, variables: { id: minorId } }).replace('{', `{${' '.repeat(64 * 1024 - okBody().length)}`), 1],
      ['a body of 64 KiB + 1', q({ query: BENCH, variables: { id: minorId } }).replace('{', `{${' '.repeat(64 * 1024 - okBody().length + 1)}`), 0],
      ['a body over 1 MB', q({ query: BENCH, variables: { id: minorId } }).replace('{', `{${' '.repeat(1024 * 1024)}`), 0],
      ['an empty object', '{}', 0],
      ['null', 'null', 0],
      ['a number', '1', 0],
      ['only whitespace', '   ', 0],
    ];
    for (const [name, body, compiles] of cases) {
      const r = await rawBoth((host) => [post(host, body, std())]);
      if (compiles >= 0) expect([name, r.compiled]).toEqual([name, compiles]);
    }
  });

  it('treats ids at the edges of the UUID syntax as the general path does', async () => {
    // The id in capitals is the child's (both paths answer it); the others are no child's id.
    const ids: [string, unknown, number][] = [
      ['upper case', minorId.toUpperCase(), 1],
      ['braces', `{${minorId}}`, 0],
      ['surrounding spaces', ` ${minorId} `, 0],
      ['no hyphens', minorId.replace(/-/g, ''), 0],
      ['a trailing newline', `${minorId}\n`, 0],
      ['NUL after', `${minorId}\u0000`, 0],
      ['urn form', `urn:uuid:${minorId}`, 0],
      ['an SQL pattern', '%', 0],
      ['an array', [minorId], 0],
      ['null', null, 0],
      ['empty', '', 0],
    ];
    for (const [name, id, compiles] of ids) {
      const r = await rawBoth((host) => [post(host, JSON.stringify({ query: BENCH, variables: { id } }), std())]);
      expect([name, r.compiled]).toEqual([name, compiles]);
    }
  });

  it('treats token edge cases as the general path does', async () => {
    const secret = new TextEncoder().encode(devSecret(fast.config.dataDir, 'jwt-secret'));
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256' }, opts: { exp?: number; iss?: string; aud?: string; sub?: string } = {}) => {
      let jwt = new SignJWT({ department: 'POLICE', role: 'OFFICER', region: '330102', ...claims }).setProtectedHeader(header as never).setIssuedAt(now);
      jwt = jwt.setIssuer(opts.iss ?? fast.config.jwt.issuer).setAudience(opts.aud ?? fast.config.jwt.audience).setSubject(opts.sub ?? 'edge-officer');
      if (opts.exp !== 0) jwt = jwt.setExpirationTime(opts.exp ?? now + 600);
      return jwt.sign(secret);
    };
    const tokens: [string, string, number][] = [
      ['valid', await sign({}), 1],
      ['not yet valid (nbf in 1 h)', await sign({ nbf: now + 3600 }), 0],
      ['expires in 2 s', await sign({}, undefined, { exp: now + 2 }), 1],
      ['no exp', await sign({}, undefined, { exp: 0 }), 0],
      ['other audience', await sign({}, undefined, { aud: 'someone-else' }), 0],
      ['other issuer', await sign({}, undefined, { iss: 'someone-else' }), 0],
      ['empty region', await sign({ region: '' }), 0],
      ['unknown department', await sign({ department: 'COURT' }), 0],
      ['lower-case department', await sign({ department: 'police' }), 0],
      ['role AUDITOR of POLICE', await sign({ role: 'AUDITOR' }), 0],
      ['region with a LIKE wildcard', await sign({ region: '3301%' }), 0],
      ['region longer than any node', await sign({ region: '330102001001001999' }), 0],
      ['sub with a control character', await sign({}, undefined, { sub: 'a\u0007b' }), 0],
      ['sub with non-Latin text', await sign({}, undefined, { sub: '警官-甲' }), 1],
      ['extra claims', await sign({ scope: 'admin', jti: 'x' }), 1],
    ];
    for (const [name, token, compiles] of tokens) {
      const r = await rawBoth((host) => [post(host, okBody(), std(token))]);
      expect([name, r.compiled]).toEqual([name, compiles]);
    }
  });

  it('answers an expired-but-once-verified token as the general path does', async () => {
    // Verified (and cached) while valid on both hubs, then used after its expiry.
    const token = await fast.token(Department.POLICE, { expiresIn: 2 });
    const fresh = await rawBoth((host) => [post(host, okBody(), std(token))]);
    expect(fresh.compiled).toBe(1);
    await new Promise((r) => setTimeout(r, 2600));
    const expired = await rawBoth((host) => [post(host, okBody(), std(token))]);
    expect(expired.compiled).toBe(0);
    expect(expired.seen.responses[0].statusLine).toContain(' 401 ');
  });

  it('answers a token of a region removed after it was first seen as the general path does', async () => {
    // A street of the district with no children yet.
    const code = '330102099';
    await fast.sql(`INSERT INTO registry.region (code, name, level, parent_code) VALUES ($1, 'test street', 'STREET', '330102')`, [code]);
    const token = await fast.token(Department.POLICE, { region: code });
    const child = [{ id: minorId }];
    await rawBoth((host) => [post(host, JSON.stringify({ query: BENCH, variables: { id: child[0].id } }), std(token))]);
    await fast.sql(`DELETE FROM registry.region WHERE code = $1`, [code]);
    const after = await rawBoth((host) => [post(host, JSON.stringify({ query: BENCH, variables: { id: child[0].id } }), std(token))]);
    expect(after.compiled).toBe(0);
  });

  it('answers two pipelined requests on one socket as the general path does', async () => {
    const other = JSON.stringify({ query: BENCH, variables: { id: outsideId } });
    const street = await fast.token(Department.POLICE, { region: STREET, user: 'street-officer' });
    const cases: [string, (h: string) => Step[], number][] = [
      ['compiled, compiled', (h) => [Buffer.concat([post(h, okBody(), std(), { close: false }), post(h, other, std())])], 2],
      ['fallback, compiled', (h) => [Buffer.concat([post(h, okBody(), without(std(), 'x-purpose'), { close: false }), post(h, okBody(), std())])], 1],
      ['compiled, fallback', (h) => [Buffer.concat([post(h, okBody(), std(), { close: false }), post(h, okBody(), without(std(), 'authorization'))])], 1],
      ['compiled, unauthenticated for the same child', (h) => [Buffer.concat([post(h, okBody(), std(), { close: false }), post(h, okBody(), std('not-a-token'))])], 1],
      ['street officer inside, then outside', (h) => [Buffer.concat([post(h, okBody(), std(street), { close: false }), post(h, other, std(street))])], 1],
      ['compiled, then GET /health', (h) => [Buffer.concat([post(h, okBody(), std(), { close: false }), Buffer.from(`GET /health HTTP/1.1\r\nHost: ${h}\r\nConnection: close\r\n\r\n`)])], 1],
    ];
    for (const [name, build, compiles] of cases) {
      const r = await rawBoth(build);
      expect([name, r.compiled]).toEqual([name, compiles]);
    }
  });

  it('answers a request whose body arrives slowly, in pieces, as the general path does', async () => {
    const body = Buffer.from(okBody());
    const r = await rawBoth((h) => {
      const head = post(h, body, std());
      const split = head.length - body.length;
      return [head.subarray(0, split), { pause: 100 }, head.subarray(split, split + 10), { pause: 100 }, head.subarray(split + 10)];
    });
    expect(r.compiled).toBe(1);
  });

  it('leaves the same trail when the client gives up half-way through the body', async () => {
    const body = Buffer.from(okBody());
    // Valid token: the general path reads the body after authenticating; the compiled path before.
    const partial = (token: string) => (h: string) => {
      const head = post(h, body, std(token));
      return [head.subarray(0, head.length - 10)];
    };
    // (A bad token half-way through the body: see the next test.)
    for (const token of [police]) {
      const from = { fast: await lastSeq(fast) };
      const a = await exchange(fast.hub.port, partial(token)(`127.0.0.1:${fast.hub.port}`), 300);
      await new Promise((r) => setTimeout(r, 300));
      const fastEvents = (await lastSeq(fast)) - from.fast;
      const g = await lastSeq(general);
      const b = await exchange(general.hub.port, partial(token)(`127.0.0.1:${general.hub.port}`), 300);
      await new Promise((r) => setTimeout(r, 300));
      const generalEvents = (await lastSeq(general)) - g;
      expect([token === police ? 'valid token' : 'bad token', parseResponses(a).map((x) => x.statusLine), fastEvents]).toEqual([
        token === police ? 'valid token' : 'bad token',
        parseResponses(b).map((x) => x.statusLine),
        generalEvents,
      ]);
    }
  });

  it('leaves the same trail when the audit store refuses writes (no data, 503, and the same events)', async () => {
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await fast.sql(`REVOKE INSERT ON audit.event FROM hub_audit_writer`);
      const r = await rawBoth((host) => [post(host, okBody(), std())]);
      expect(r.compiled).toBe(0);
      expect(r.seen.responses[0].statusLine).toContain(' 503 ');
      expect(r.seen.events).toEqual([]);
    } finally {
      await fast.sql(`GRANT INSERT ON audit.event TO hub_audit_writer`);
      log.mockRestore();
    }
  });

  it('does not answer from a token whose audit user id the store refuses', async () => {
    // A `sub` the trail cannot store would fail a whole group commit; the token service refuses it up front.
    const secret = new TextEncoder().encode(devSecret(fast.config.dataDir, 'jwt-secret'));
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ department: 'POLICE', role: 'OFFICER', region: '330102' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(fast.config.jwt.issuer)
      .setAudience(fast.config.jwt.audience)
      .setSubject('\ud800x')
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(secret);
    const r = await rawBoth((host) => [post(host, okBody(), std(token))]);
    expect(r.compiled).toBe(0);
  });

  it('treats message framing variants as the general path does', async () => {
    const body = okBody();
    const head = (h: string, extra: string[]) =>
      [`POST /graphql HTTP/1.1`, `Host: ${h}`, `Authorization: Bearer ${police}`, 'Content-Type: application/json', 'x-purpose: CASE_HANDLING', ...extra].join('\r\n') + '\r\n\r\n';
    const chunked = (h: string) => `${head(h, ['Transfer-Encoding: chunked', 'Connection: close'])}${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const cases: [string, (h: string) => Step[], number][] = [
      ['chunked body', (h) => [chunked(h)], 0],
      ['content-length with leading zeros', (h) => [`${head(h, [`Content-Length: 000${Buffer.byteLength(body)}`, 'Connection: close'])}${body}`], 1],
      ['two equal content-lengths', (h) => [`${head(h, [`Content-Length: ${Buffer.byteLength(body)}`, `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close'])}${body}`], 0],
      ['HTTP/1.0', (h) => [post(h, body, std()).toString('latin1').replace('HTTP/1.1', 'HTTP/1.0')], 1],
    ];
    for (const [name, build, compiles] of cases) {
      const r = await rawBoth(build);
      if (compiles >= 0) expect([name, r.compiled]).toEqual([name, compiles]);
    }
  });

  it('leaves the same event when the client hangs up right after sending its request', async () => {
    // The client's address is taken when the request arrives, as the general path takes it: by the
    // time the event is built a client that hung up has no socket address any more.
    const body = okBody();
    const cases: [string, (h: string) => Step[]][] = [
      ['garbage after the request', (h) => [Buffer.concat([post(h, body, std(), { close: false }), Buffer.from('\u0001\u0002 garbage\r\n\r\n')])]],
      ['FIN right after the request', (h) => [post(h, body, std(), { close: false }), { end: 'fin' }]],
    ];
    const seen: { fast: unknown[]; general: unknown[] }[] = [];
    for (const [name, build] of cases) {
      const a = await observe(fast, build(`127.0.0.1:${fast.hub.port}`), 500);
      const b = await observe(general, build(`127.0.0.1:${general.hub.port}`), 500);
      seen.push({ fast: [name, a.events.map((e) => [e.outcome, e.clientAddress])], general: [name, b.events.map((e) => [e.outcome, e.clientAddress])] });
    }
    expect(seen.map((x) => x.fast)).toEqual(seen.map((x) => x.general));
  });

  it('refuses a caller with a bad token as soon as the headers arrive, as the general path does', async () => {
    // Both authenticate on the headers: a caller with a bad token who sends the headers and half the
    // body, then waits, gets its 401 at once, and no body is buffered or parsed for it.
    const body = Buffer.from(okBody());
    const answers: string[][] = [];
    for (const t of [fast, general]) {
      const bytes = post(`127.0.0.1:${t.hub.port}`, body, std('not-a-token'), { close: false });
      const raw = await exchange(t.hub.port, [bytes.subarray(0, bytes.length - body.length / 2)], 1000);
      answers.push(parseResponses(raw).map((x) => x.statusLine));
    }
    expect(answers[1]).toEqual(['HTTP/1.1 401 Unauthorized']);
    expect(answers[0]).toEqual(answers[1]);
  });

  it('keeps none of the body of a caller it refuses at the headers, as the general path keeps none', async () => {
    // 100 callers without a valid token each send 65,000 bytes of a 64 KiB body and wait. Both
    // paths answer 401 at the headers; the compiled path once kept every chunk of such bodies (off
    // the V8 heap, for as long as each connection stayed open). The clients run in a process of
    // their own so that only the hubs' buffers count here.
    const clients = 100;
    const sent = 65_000;
    const script = (port: number) => `
      const net = require('node:net');
      let answered = 0;
      for (let i = 0; i < ${clients}; i++) {
        const s = net.connect(${port}, '127.0.0.1');
        s.on('error', () => {});
        s.once('data', (c) => { if (c.toString('latin1').startsWith('HTTP/1.1 401 ') && ++answered === ${clients}) console.log('answered'); });
        s.on('connect', () => {
          s.write('POST /graphql HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer not-a-token\\r\\nContent-Type: application/json\\r\\nx-purpose: CASE_HANDLING\\r\\nContent-Length: 65536\\r\\n\\r\\n');
          s.write(Buffer.alloc(${sent}, 0x20));
        });
      }
      setInterval(() => {}, 1000);
    `;
    // Buffers another request left are freed by a collection of their own, not by these clients.
    // V8 frees the memory of dead buffers on a background thread after a collection: collected
    // until the figure settles, what is left is what is still held.
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const settled = async (): Promise<number> => {
      let last = Infinity;
      for (let i = 0; i < 20; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 50));
        const now = process.memoryUsage().arrayBuffers;
        if (now === last) return now;
        last = now;
      }
      return last;
    };
    const held = async (t: TestHub): Promise<number> => {
      const before = await settled();
      const child = spawn(process.execPath, ['-e', script(t.hub.port)], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (c) => String(c).includes('answered') && resolve());
          child.once('exit', () => reject(new Error('the clients stopped before every 401')));
        });
        // Every 401 is out: give the rest of the bodies time to arrive.
        await new Promise((r) => setTimeout(r, 1500));
        return (await settled()) - before;
      } finally {
        child.kill();
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    const general1 = await held(general);
    const fast1 = await held(fast);
    // Kept, the bodies would be 6.2 MB; a quarter of that is far above what either path allocates otherwise.
    expect(fast1).toBeLessThan(general1 + (clients * sent) / 4);
  }, 60_000);

  it('refuses as the general path does a token that expires while the body is still arriving', async () => {
    // Both authenticate when the headers arrive, and check the token's expiry again once the body is in.
    const statuses: string[] = [];
    for (const t of [fast, general]) {
      const token = await t.token(Department.POLICE, { expiresIn: 2 });
      const bytes = post(`127.0.0.1:${t.hub.port}`, okBody(), std(token));
      const split = bytes.length - 20;
      const raw = await exchange(t.hub.port, [bytes.subarray(0, split), { pause: 3000 }, bytes.subarray(split)]);
      statuses.push(parseResponses(raw).map((r) => r.statusLine).join());
    }
    expect(statuses[1]).toBe('HTTP/1.1 401 Unauthorized');
    expect(statuses[0]).toBe(statuses[1]);
  });

  it('refuses, as the general path does, a request the compiled path would decline anyway whose token expired while its body arrived', async () => {
    // Read by the listener, declined once the body is in (a shape it does not compile; a compiled
    // shape for a child outside the caller's subtree), and handed to Express after the token expired.
    const cases: [string, string, string][] = [
      ['a shape it does not compile', JSON.stringify({ query: `query Child($id: ID!) { minor(id: $id) { id name guardians { name } } }`, variables: { id: minorId } }), '330102'],
      ['a child outside the subtree', JSON.stringify({ query: BENCH, variables: { id: outsideId } }), STREET],
    ];
    for (const [name, body, region] of cases) {
      const seen: Observed[] = [];
      for (const t of [fast, general]) {
        const token = await t.token(Department.POLICE, { region, user: 'expiring-officer', expiresIn: 2 });
        const bytes = post(`127.0.0.1:${t.hub.port}`, body, std(token));
        const split = bytes.length - 20;
        const before = fast.hub.compiledReadsServed()!;
        seen.push(await observe(t, [bytes.subarray(0, split), { pause: 3000 }, bytes.subarray(split)], 500));
        expect(fast.hub.compiledReadsServed()! - before).toBe(0);
      }
      const [a, b] = seen;
      expect([name, b.responses.map((r) => r.statusLine)]).toEqual([name, ['HTTP/1.1 401 Unauthorized']]);
      expect(JSON.parse(b.responses[0].body)).toEqual({ errors: [expect.objectContaining({ message: 'Token expired', extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })] });
      expect(b.responses[0].body).not.toContain(minorId);
      // Who tried is known: the token was good when the headers came.
      expect(b.events.map((e) => [e.outcome, e.userId])).toEqual([['UNAUTHENTICATED', 'expiring-officer']]);
      expect([name, a]).toEqual([name, b]);
    }
  });

  it('times the refusal of a body the compiled path read from the headers, as the general path does', async () => {
    // The listener reads a body that is not JSON and hands it to Express, whose refusal's event
    // counts from the headers on both hubs: the slow body's wait is in its duration.
    const durations: number[] = [];
    for (const t of [fast, general]) {
      const bytes = post(`127.0.0.1:${t.hub.port}`, '{"query": "{ regions { code } }", ', std());
      const split = bytes.length - 5;
      const seen = await observe(t, [bytes.subarray(0, split), { pause: 1500 }, bytes.subarray(split)], 500);
      expect([seen.responses.map((r) => r.statusLine), seen.events.map((e) => e.outcome)]).toEqual([['HTTP/1.1 400 Bad Request'], ['INVALID']]);
      const [{ body }] = await t.sql(`SELECT body FROM audit.event ORDER BY seq DESC LIMIT 1`);
      durations.push(JSON.parse(body).durationMs);
    }
    // Counted from the headers as the server read them, which a loaded machine reads some
    // milliseconds after they were sent while the last bytes are read at once: the 1.5 s wait is in
    // the duration, less that lag (a duration not counting it is a few ms).
    expect(durations.map((d) => d >= 1000)).toEqual([true, true]);
  });

  it('answers from the general path when the compiled path’s audit write fails once: one event, written before the data', async () => {
    // The one difference a client can see, on purpose (src/compiled-read/README.md): the compiled
    // path withholds its answer and hands the request on, and the general path writes its own event.
    // The general hub, meeting the same single failure, answers 503 with no data and no event.
    await fast.sql(`CREATE SEQUENCE IF NOT EXISTS public.wire_fail_seq`);
    await fast.sql(`GRANT USAGE ON SEQUENCE public.wire_fail_seq TO hub_audit_writer`);
    await fast.sql(`CREATE OR REPLACE FUNCTION public.wire_fail_once() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
      BEGIN IF nextval('public.wire_fail_seq') = 1 THEN RAISE EXCEPTION 'test: the audit store fails once'; END IF; RETURN NULL; END $$`);
    await fast.sql(`SELECT setval('public.wire_fail_seq', 1000)`);
    await fast.sql(`CREATE TRIGGER wire_fail_once BEFORE INSERT ON audit.event FOR EACH STATEMENT EXECUTE FUNCTION public.wire_fail_once()`);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const build = (host: string) => [post(host, okBody(), std())];
      await fast.sql(`SELECT setval('public.wire_fail_seq', 1, false)`);
      const before = fast.hub.compiledReadsServed()!;
      const a = await observe(fast, build(`127.0.0.1:${fast.hub.port}`));
      expect(fast.hub.compiledReadsServed()! - before).toBe(0);
      expect(a.responses.map((r) => r.statusLine)).toEqual(['HTTP/1.1 200 OK']);
      expect(a.named).toEqual([true]);
      expect(a.events.map((e) => e.outcome)).toEqual(['SUCCESS']);
      await fast.sql(`SELECT setval('public.wire_fail_seq', 1, false)`);
      const b = await observe(general, build(`127.0.0.1:${general.hub.port}`));
      expect(b.responses.map((r) => r.statusLine)).toEqual(['HTTP/1.1 503 Service Unavailable']);
      expect(b.events).toEqual([]);
    } finally {
      log.mockRestore();
      await fast.sql(`DROP TRIGGER wire_fail_once ON audit.event`);
    }
  });

  it('records the same event under concurrent compiled reads of many children', async () => {
    const ids: { id: string }[] = await fast.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 20`);
    const send = async (t: TestHub) => {
      const res = await Promise.all(
        ids.map(async ({ id }) => {
          const r = await fetch(t.hub.url, {
            method: 'POST',
            headers: { authorization: `Bearer ${police}`, 'content-type': 'application/json', 'x-purpose': 'SCREENING' },
            body: JSON.stringify({ query: BENCH, variables: { id } }),
          });
          return { status: r.status, text: await r.text(), event: strip(await storedEventOf(t, r.headers.get('x-request-id')!)) };
        }),
      );
      return res;
    };
    const before = fast.hub.compiledReadsServed()!;
    const a = await send(fast);
    expect(fast.hub.compiledReadsServed()! - before).toBe(ids.length);
    const b = await send(general);
    expect(a).toEqual(b);
  });

  it('records the same duration for a read whose body arrived slowly: both paths count from the headers', async () => {
    const durations: number[] = [];
    for (const t of [fast, general]) {
      const bytes = post(`127.0.0.1:${t.hub.port}`, okBody(), std());
      const split = bytes.length - 10;
      const before = fast.hub.compiledReadsServed()!;
      const [answer] = parseResponses(await exchange(t.hub.port, [bytes.subarray(0, split), { pause: 1500 }, bytes.subarray(split)], 500));
      expect([answer.statusLine, fast.hub.compiledReadsServed()! - before]).toEqual(['HTTP/1.1 200 OK', t === fast ? 1 : 0]);
      durations.push((await storedEventOf(t, answer.requestId!)).durationMs);
    }
    // The audit plugin once started its clock when the body was in: 0 ms against the compiled path's 1.5 s.
    expect(Math.abs(durations[0] - durations[1])).toBeLessThan(500);
    expect(durations[1]).toBeGreaterThanOrEqual(1400);
  });

  it('declines, as the general path answers them, request shapes beside the plain one', async () => {
    const ok = { query: BENCH, variables: { id: minorId } };
    const cases: [string, unknown, number, [string, string][]?][] = [
      ['an operation name given for an anonymous operation', { query: BENCH.replace('query Child', 'query'), variables: { id: minorId }, operationName: 'Child' }, 0],
      ['an extra variable that is null', { ...ok, variables: { id: minorId, other: null } }, 0],
      ['an id given as a numeric string', { ...ok, variables: { id: '12345' } }, 0],
      ['an id given as an object', { ...ok, variables: { id: { id: minorId } } }, 0],
      ['a variable named __proto__', `{"query":${JSON.stringify(BENCH.replace(/\$id/g, '$__proto__'))},"variables":{"__proto__":"${minorId}"}}`, 1],
      ['a variable named constructor, given as id', { query: BENCH.replace(/\$id/g, '$constructor'), variables: { id: minorId } }, 0],
      ['variables an array', { query: BENCH, variables: [minorId] }, 0],
      ['operationName false', { ...ok, operationName: false }, 0],
      ['extensions null', { ...ok, extensions: null }, 0],
      ['a purpose in lower case naming a referral', ok, 0, [...without(std(), 'x-purpose'), ['x-purpose', 'referral; 00000000-0000-4000-8000-000000000000']]],
      ['a text/plain body (CSRF-style)', ok, 0, [...without(std(), 'content-type'), ['Content-Type', 'text/plain']]],
      ['a form body', ok, 0, [...without(std(), 'content-type'), ['Content-Type', 'application/x-www-form-urlencoded']]],
      ['an accept with parameters', ok, 0, [...std(), ['Accept', 'application/json; charset=utf-8']]],
      // Two x-purpose lines are refused (not joined into "CASE_HANDLING; ref-1, ref-2"): the general path answers the refusal.
      ['two purpose headers', ok, 0, [...without(std(), 'x-purpose'), ['x-purpose', 'CASE_HANDLING; ref-1'], ['x-purpose', 'ref-2']]],
    ];
    for (const [name, body, compiles, headers] of cases) {
      const r = await rawBoth((host) => [post(host, typeof body === 'string' ? body : JSON.stringify(body), headers ?? std())]);
      expect([name, r.compiled]).toEqual([name, compiles]);
    }
  });
});
