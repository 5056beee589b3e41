import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import zlib from 'node:zlib';
import { exportJWK, SignJWT } from 'jose';
import { Client } from 'pg';
import { Department } from '../src/auth/principal';
import { eventCount } from './support/audit-helpers';
import { exchange } from './support/raw-socket';
import { DEMO_ROOT_REGION } from '../src/subgraphs/registry/registry.constants';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 17: the hub's transport and authentication, by code review of the token service, the
 * listener, the hub and subgraph servers, the gateway's assertion and its signed data source.
 */

const QUERY = '{ regions { code } }';

const head = (method: string, path: string, headers: Record<string, string>) =>
  `${method} ${path} HTTP/1.1\r\nHost: hub\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

describe('transport and authentication (redteam17)', () => {
  let t: TestHub;
  const logged: string[] = [];
  let log: jest.SpyInstance;
  beforeAll(async () => {
    log = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
    t = await startTestHub();
  });
  afterAll(async () => {
    log.mockRestore();
    await t?.stop();
  });
  beforeEach(() => void logged.splice(0));

  const eventsOfUser = async (user: string) => {
    await t.hub.audit.drain();
    return t.sql(`SELECT outcome, body::jsonb->'errorCodes' AS codes FROM audit.event WHERE body::jsonb->>'userId' = $1 ORDER BY seq`, [user]);
  };

  /** Opens a connection, sends `text`, waits `ms`, then closes it (FIN and close, as a client giving up does). */
  const received = new Map<string | Buffer, Buffer[]>();
  const sendAndHangUp = (text: string | Buffer, ms: number, half = false) =>
    new Promise<void>((resolve) => {
      const got: Buffer[] = [];
      received.set(text, got);
      const s = net.connect(t.hub.port, '127.0.0.1', () => {
        s.write(text, () => {
          setTimeout(() => {
            if (half) s.end();
            else s.destroy();
            setTimeout(resolve, 50);
          }, ms);
        });
      });
      s.on('data', (c: Buffer) => got.push(c));
      s.on('error', () => undefined);
    });

  // First in the file: the hub's jurisdiction directory is still cold, so the first request looks the regions up.
  it('audits a request whose client hangs up while its caller is being authenticated (a slow region look-up): mid-body, or after a whole body with a FIN', async () => {
    const users = [`rt17-hangup-slow-${Date.now()}`, `rt17-fin-slow-${Date.now()}`, `rt17-hangup-compiled-${Date.now()}`];
    const [partial, whole, compiledShape] = await Promise.all(users.map((user) => t.token(Department.POLICE, { user })));
    const body = JSON.stringify({ query: QUERY });
    const before = await eventCount(t);
    const locker = new Client({ connectionString: t.databaseUrl });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      // The look-up of the regions waits, as behind a slow database (or a key set being fetched).
      await locker.query('LOCK TABLE registry.region IN ACCESS EXCLUSIVE MODE');
      await Promise.all([
        sendAndHangUp(head('POST', '/graphql', { Authorization: `Bearer ${partial}`, 'Content-Type': 'application/json', 'Content-Length': String(body.length + 50) }) + body, 300),
        sendAndHangUp(head('POST', '/graphql', { Authorization: `Bearer ${whole}`, 'Content-Type': 'application/json', 'Content-Length': String(body.length) }) + body, 300, true),
        // The same hang-up on a request the compiled-read listener reads first (x-purpose, a plain JSON body): audited.
        sendAndHangUp(
          head('POST', '/graphql', { Authorization: `Bearer ${compiledShape}`, 'Content-Type': 'application/json', 'x-purpose': 'CASE_HANDLING', 'Content-Length': String(body.length + 50) }) + body,
          300,
        ),
      ]);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await locker.query('COMMIT');
      await locker.end();
    }
    await new Promise((r) => setTimeout(r, 1000));
    const events = await Promise.all(users.map(async (user) => ({ user: user.replace(/-\d+$/, ''), events: (await eventsOfUser(user)).length })));
    // What the half-closed client (still reading) was answered, if anything: never a plain-text 500.
    const answers = [...received.values()].map((b) => Buffer.concat(b).toString('utf8')).filter(Boolean);
    expect(answers.filter((a) => !/content-type: application\/json/i.test(a) || /req\.body|middleware/.test(a))).toEqual([]);
    expect({ events, all: (await eventCount(t)) - before }).toEqual({
      events: [
        { user: 'rt17-hangup-slow', events: 1 },
        { user: 'rt17-fin-slow', events: 1 },
        { user: 'rt17-hangup-compiled', events: 1 },
      ],
      all: 3,
    });
  });

  it('audits a request whose client hangs up mid-body just after sending it (first-seen tokens), logging no internal error', async () => {
    expect((await t.gql(await t.token(Department.POLICE), QUERY)).status).toBe(200); // the jurisdiction directory warm
    const results: unknown[] = [];
    for (let i = 0; i < 12; i++) {
      const user = `rt17-hangup-${i}-${Date.now()}`;
      const token = await t.token(Department.POLICE, { user });
      const body = JSON.stringify({ query: QUERY });
      const text = head('POST', '/graphql', { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': String(body.length + 50) }) + body;
      await sendAndHangUp(text, i % 3);
      await new Promise((r) => setTimeout(r, 300));
      results.push({ i, events: await eventsOfUser(user) });
    }
    const internal = logged.filter((l) => /unexpected error|not readable/.test(l));
    expect({ results: results.filter((r) => (r as { events: unknown[] }).events.length !== 1), internal }).toEqual({ results: [], internal: [] });
  });

  it('audits a whole request whose client half-closes at once (a FIN after its last byte): one event, whatever it was answered', async () => {
    expect((await t.gql(await t.token(Department.POLICE), QUERY)).status).toBe(200); // the jurisdiction directory warm
    const results: unknown[] = [];
    for (let i = 0; i < 6; i++) {
      const user = `rt17-fin-${i}-${Date.now()}`;
      const token = await t.token(Department.POLICE, { user });
      const body = JSON.stringify({ query: QUERY });
      const text = head('POST', '/graphql', { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': String(body.length) }) + body;
      await sendAndHangUp(text, 0, true);
      await new Promise((r) => setTimeout(r, 500));
      results.push({ i, events: await eventsOfUser(user) });
    }
    expect(results.filter((r) => (r as { events: unknown[] }).events.length !== 1)).toEqual([]);
  });
  it('audits a compressed request whose client hangs up mid-body, and lets it go: one event, no request held for ever', async () => {
    expect((await t.gql(await t.token(Department.POLICE), QUERY)).status).toBe(200); // the jurisdiction directory warm
    const results: unknown[] = [];
    for (const encoding of ['identity', 'gzip', 'deflate', 'br']) {
      const user = `rt17-gzip-hangup-${encoding}-${Date.now()}`;
      const token = await t.token(Department.POLICE, { user });
      // The hang-up comes 200 ms after the headers, long after the caller was authenticated: the body is being read.
      const body = Buffer.from(JSON.stringify({ query: QUERY, variables: { pad: 'x'.repeat(5000) } }));
      const compressed = encoding === 'identity' ? body : encoding === 'gzip' ? zlib.gzipSync(body) : encoding === 'deflate' ? zlib.deflateSync(body) : zlib.brotliCompressSync(body);
      const text = Buffer.concat([
        Buffer.from(head('POST', '/graphql', { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Encoding': encoding, 'Content-Length': String(compressed.length) })),
        compressed.subarray(0, Math.floor(compressed.length / 2)),
      ]);
      await sendAndHangUp(text, 200);
      await new Promise((r) => setTimeout(r, 1500));
      results.push({ encoding, events: (await eventsOfUser(user)).length });
    }
    expect(results).toEqual(['identity', 'gzip', 'deflate', 'br'].map((encoding) => ({ encoding, events: 1 })));
  });
  it('answers a POST asking to upgrade the connection (websocket, h2c) as any other: served or refused as JSON, audited', async () => {
    const user = `rt17-upgrade-${Date.now()}`;
    const token = await t.token(Department.POLICE, { user });
    const body = JSON.stringify({ query: QUERY });
    const answers: unknown[] = [];
    for (const upgrade of ['websocket', 'h2c']) {
      const before = (await eventsOfUser(user)).length;
      const text =
        head('POST', '/graphql', { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Connection: 'Upgrade, close', Upgrade: upgrade, 'Content-Length': String(body.length) }) + body;
      const raw = (await exchange(t.hub.port, [text], 3000)).toString('utf8');
      const [headText, ...rest] = raw.split('\r\n\r\n');
      await new Promise((r) => setTimeout(r, 300));
      answers.push({ upgrade, status: headText.split('\r\n')[0], json: /content-type: application\/json/i.test(headText), body: rest.join('').slice(0, 120), events: (await eventsOfUser(user)).length - before });
    }
    expect(answers).toEqual([
      { upgrade: 'websocket', status: 'HTTP/1.1 200 OK', json: true, body: expect.stringContaining('"data"'), events: 1 },
      { upgrade: 'h2c', status: 'HTTP/1.1 200 OK', json: true, body: expect.stringContaining('"data"'), events: 1 },
    ]);
  });
  it('refuses a compressed body that does not decompress as it refuses any body it cannot read: BAD_USER_INPUT, in the hub’s words, audited alike', async () => {
    const token = await t.token(Department.POLICE);
    const json = JSON.stringify({ query: QUERY });
    const gz = zlib.gzipSync(json);
    const cases: [string, string, Buffer][] = [
      ['unsupported charset (control)', 'identity', Buffer.from(json)],
      ['gzip, corrupt', 'gzip', Buffer.concat([gz.subarray(0, 10), Buffer.from('not deflate data at all, not at all')])],
      ['gzip, not gzip', 'gzip', Buffer.from(json)],
      ['deflate, not deflate', 'deflate', Buffer.from(json)],
      ['br, not brotli', 'br', Buffer.from(json)],
    ];
    const answers = [];
    for (const [what, encoding, body] of cases) {
      const headers: Record<string, string> = { Authorization: `Bearer ${token}`, 'Content-Type': what.startsWith('unsupported') ? 'application/json; charset=latin1' : 'application/json', 'Content-Length': String(body.length), Connection: 'close' };
      if (encoding !== 'identity') headers['Content-Encoding'] = encoding;
      const raw = (await exchange(t.hub.port, [Buffer.concat([Buffer.from(head('POST', '/graphql', headers)), body])], 3000)).toString('utf8');
      const [headText, ...rest] = raw.split('\r\n\r\n');
      const requestId = /x-request-id: (\S+)/i.exec(headText)?.[1];
      await t.hub.audit.drain();
      const [event] = await t.sql(`SELECT body::jsonb->'errorCodes' AS codes FROM audit.event WHERE request_id = $1`, [requestId]);
      const error = JSON.parse(rest.join('')).errors[0];
      answers.push({ what, code: error.extensions.code, readable: /^Request body/.test(error.message), message: error.message, event: event?.codes });
    }
    expect(answers.map(({ message: _m, ...a }) => a)).toEqual(cases.map(([what]) => ({ what, code: 'BAD_USER_INPUT', readable: true, event: ['BAD_USER_INPUT'] })));
  });

  it('answers odd request targets with JSON, typed, never an HTML page or a stack, and audits those it serves as /graphql', async () => {
    const token = await t.token(Department.POLICE);
    const body = JSON.stringify({ query: QUERY });
    const answers = [];
    for (const path of ['/graphql/%', '/graphql%', '/graphql/%E0%A4%A', '/graphql?%', '/graphql?a=%ZZ', '//graphql', '/graphql;x', '/GRAPHQL', '/graphql/', 'http://hub/graphql', '*']) {
      const raw = (await exchange(t.hub.port, [head('POST', path, { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': String(body.length), Connection: 'close' }) + body], 3000)).toString('utf8');
      const [headText, ...rest] = raw.split('\r\n\r\n');
      const text = rest.join('\r\n\r\n');
      const status = Number(headText.split(' ')[1]);
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      answers.push({ path, status, json: json !== null || (status === 400 && text === ''), leak: /<html|<pre|\bat .*:\d+|node_modules|URIError/i.test(text) });
    }
    expect(answers.filter((a) => !a.json || a.leak)).toEqual([]);
  });

  it('audits a request Apollo Server refuses before its pipeline (no query) pipelined behind a slow one, its client gone before the answers', async () => {
    const slowUser = `rt17-pipe-slow-${Date.now()}`;
    const user = `rt17-pipe-refused-${Date.now()}`;
    const [slowToken, token] = await Promise.all([t.token(Department.POLICE, { user: slowUser }), t.token(Department.POLICE, { user })]);
    // Both tokens verified and the directory warm, so that nothing but the first answer is slow.
    expect((await t.gql(slowToken, QUERY)).status).toBe(200);
    expect((await t.gql(token, QUERY)).status).toBe(200);
    const before = (await eventsOfUser(user)).length;
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
    const slow = JSON.stringify({ query: `query($id: ID!) { minor(id: $id) { id name } }`, variables: { id } });
    const noQuery = JSON.stringify({ variables: {} });
    const locker = new Client({ connectionString: t.databaseUrl });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE registry.minor IN ACCESS EXCLUSIVE MODE');
      const text =
        head('POST', '/graphql', { Authorization: `Bearer ${slowToken}`, 'Content-Type': 'application/json', 'x-purpose': 'CASE_HANDLING; rt17', 'Content-Length': String(Buffer.byteLength(slow)) }) +
        slow +
        head('POST', '/graphql', { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': String(noQuery.length) }) +
        noQuery;
      await sendAndHangUp(text, 500);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await locker.query('COMMIT');
      await locker.end();
    }
    await new Promise((r) => setTimeout(r, 1500));
    expect({ slow: (await eventsOfUser(slowUser)).length, refused: (await eventsOfUser(user)).length - before }).toEqual({ slow: 2, refused: 1 });
  });
});

describe('transport and authentication, with every subgraph served alone (redteam17)', () => {
  let local: TestHub;
  let d: TestHub;
  const logged: string[] = [];
  let log: jest.SpyInstance;
  beforeAll(async () => {
    log = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
    local = await startTestHub();
    d = await startDistributedTestHub();
  });
  afterAll(async () => {
    log.mockRestore();
    await local?.stop();
    await d?.stop();
  });

  /** POSTs the body text as written (numbers spelt as the client spells them). */
  const postText = async (hub: TestHub, token: string, text: string) => {
    const res = await fetch(hub.hub.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-purpose': 'CASE_HANDLING; rt17' }, body: text });
    return { status: res.status, requestId: res.headers.get('x-request-id')!, json: (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
  };

  it('refuses a value that would make a fetch larger than a subgraph reads (1e20 re-spelt as 21 digits) before sending it, not as an internal failure in doubt', async () => {
    // The supergraph took any JSON value for a custom scalar (DateTimeISO) and sent it on as
    // JSON.stringify spells it — each `1e20` (4 bytes) as `100000000000000000000`; it now checks it.
    const query = 'query($before: DateTimeISO) { minors(first: 1, filter: { nextVisitDueBefore: $before }) { totalCount } }';
    const text = `{"query":${JSON.stringify(query)},"variables":{"before":[${Array(60_000).fill('1e20').join(',')}]}}`;
    expect(text.length).toBeLessThan(400_000);
    const answers = [];
    for (const hub of [local, d]) {
      logged.splice(0);
      const r = await postText(hub, await hub.token(Department.CIVIL_AFFAIRS), text);
      await hub.hub.audit.drain();
      const [event] = await hub.sql(`SELECT outcome, body::jsonb->'errorCodes' AS codes FROM audit.event WHERE request_id = $1 AND outcome <> 'STARTED'`, [r.requestId]);
      answers.push({ status: r.status, codes: (r.json.errors ?? []).map((e) => e.extensions?.code), event, internal: logged.filter((l) => /unexpected/.test(l)).map((l) => l.slice(0, 200)) });
    }
    // Refused by the gateway's DateTimeISO before any fetch, in process and distributed alike.
    const refused = { status: 400, codes: ['BAD_USER_INPUT'], event: { outcome: 'INVALID', codes: ['BAD_USER_INPUT'] }, internal: [] };
    expect(answers).toEqual([refused, refused]);
  });
});

describe('transport and authentication, tokens of an identity provider’s key set (redteam17)', () => {
  const oldKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const newKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let server: Server;
  let t: TestHub;
  beforeAll(async () => {
    // A provider rolling its key: the old one still published beside the new (RFC 7517: `kid` optional in a token's header).
    const keys = [
      { ...(await exportJWK(oldKey.publicKey)), kid: 'idp-2026-1', alg: 'ES256', use: 'sig' },
      { ...(await exportJWK(newKey.publicKey)), kid: 'idp-2026-2', alg: 'ES256', use: 'sig' },
    ];
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t = await startTestHub({ env: { HUB_JWKS_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks` } });
  });
  afterAll(async () => {
    await t?.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const token = (key: KeyObject, header: Record<string, unknown>) =>
    new SignJWT({ department: 'POLICE', role: 'OFFICER', region: DEMO_ROOT_REGION })
      .setProtectedHeader({ alg: 'ES256', ...header })
      .setSubject('idp-user')
      .setIssuer(t.config.jwt.issuer)
      .setAudience(t.config.jwt.audience)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(key);

  it('serves a token of the provider’s key whether or not its header names the key (`kid`), while the set holds two keys', async () => {
    const statuses: [string, number][] = [];
    for (const [what, key, header] of [
      ['old key, kid', oldKey.privateKey, { kid: 'idp-2026-1' }],
      ['new key, kid', newKey.privateKey, { kid: 'idp-2026-2' }],
      ['old key, no kid', oldKey.privateKey, {}],
      ['new key, no kid', newKey.privateKey, {}],
    ] as const) {
      statuses.push([what, (await t.gql(await token(key, header), QUERY)).status]);
    }
    // And a forged one, no kid, still refused.
    statuses.push(['another key, no kid', (await t.gql(await token(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, {}), QUERY)).status]);
    expect(statuses).toEqual([
      ['old key, kid', 200],
      ['new key, kid', 200],
      ['old key, no kid', 200],
      ['new key, no kid', 200],
      ['another key, no kid', 401],
    ]);
  });
});
