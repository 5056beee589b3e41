import net from 'node:net';
import { Department } from '../src/auth/principal';
import { storedEventOf } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

/**
 * Red-team cases for compiled reads (src/compiled-read): requests sent to a hub with compiled reads
 * and to one without (HUB_BENCH_DISABLE=compiled) on the same database, through the public HTTP
 * endpoint. Whatever the compiled path answers must be what the general path answers, with the same
 * audit event; the counter of compiled answers shows which path answered.
 */
describe('compiled reads (red team)', () => {
  let fast: TestHub;
  let general: TestHub;
  let minorId: string;
  let police: string;
  const STREET = '330102001';
  const BENCH = `query Child($id: ID!) { minor(id: $id) { id name idNumber gender birthDate riskLevel nextVisitDue } }`;

  beforeAll(async () => {
    fast = await startTestHub();
    general = await startTestHub({ databaseUrl: fast.databaseUrl, env: { HUB_BENCH_DISABLE: 'compiled' } });
    [{ id: minorId }] = await fast.sql(
      `SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND next_visit_due IS NOT NULL AND risk_level IS NOT NULL ORDER BY id LIMIT 1`,
    );
    police = await fast.token(Department.POLICE);
  });
  afterAll(async () => {
    await general?.stop();
    await fast?.stop();
  });

  type Step = Buffer | { pause: number };

  /** Sends the steps over one socket; resolves with everything received once the server closes. */
  function exchange(port: number, steps: Step[], wait = 1500): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = net.connect(port, '127.0.0.1');
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(timer);
        socket.destroy();
        resolve(Buffer.concat(chunks));
      };
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(finish, wait);
      };
      socket.on('data', (c) => {
        chunks.push(c);
        arm();
      });
      socket.on('close', finish);
      socket.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? finish() : reject(e)));
      socket.on('connect', async () => {
        for (const step of steps) {
          if (Buffer.isBuffer(step)) socket.write(step);
          else await new Promise((r) => setTimeout(r, step.pause));
        }
        arm();
      });
    });
  }

  function request(host: string, body: string, headers: [string, string][], version = 'HTTP/1.1'): Buffer {
    const bytes = Buffer.from(body, 'utf8');
    const lines = [`POST /graphql ${version}`, `Host: ${host}`, ...headers.map(([n, v]) => `${n}: ${v}`), `Content-Length: ${bytes.length}`, 'Connection: close'];
    return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), bytes]);
  }

  const std = (token = police): [string, string][] => [
    ['Authorization', `Bearer ${token}`],
    ['Content-Type', 'application/json'],
    ['x-purpose', 'CASE_HANDLING'],
  ];

  function statusAndId(raw: Buffer): { status: string; requestId: string | null; body: string } {
    const text = raw.toString('utf8');
    const [head, ...rest] = text.split('\r\n\r\n');
    const lines = head.split('\r\n');
    const id = lines.find((l) => l.toLowerCase().startsWith('x-request-id:'));
    return { status: lines[0], requestId: id ? id.slice(id.indexOf(':') + 1).trim() : null, body: rest.join('\r\n\r\n') };
  }

  it('records the same duration for a read whose body arrived slowly (the compiled path counts from the headers, the audit plugin from the body)', async () => {
    // The audit plugin once took its own start in requestDidStart, once the body was in, while the
    // compiled path counted from the headers: 1.5 s apart for this request.
    const body = JSON.stringify({ query: BENCH, variables: { id: minorId } });
    const seen: { status: string; durationMs: number; compiled: number }[] = [];
    for (const t of [fast, general]) {
      const bytes = request(`127.0.0.1:${t.hub.port}`, body, std());
      const split = bytes.length - 10;
      const before = fast.hub.compiledReadsServed()!;
      const raw = await exchange(t.hub.port, [bytes.subarray(0, split), { pause: 1500 }, bytes.subarray(split)], 500);
      const r = statusAndId(raw);
      const event = await storedEventOf(t, r.requestId!);
      seen.push({ status: r.status, durationMs: event.durationMs as number, compiled: fast.hub.compiledReadsServed()! - before });
    }
    const [a, b] = seen;
    expect([a.status, b.status]).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    expect([a.compiled, b.compiled]).toEqual([1, 0]);
    // Same event: same duration, give or take the request's own few milliseconds, the upload included.
    expect(Math.abs(a.durationMs - b.durationMs)).toBeLessThan(500);
    expect(b.durationMs).toBeGreaterThanOrEqual(1400);
  });

  interface Answer {
    status: number;
    text: string;
    contentType: string | null;
    event: Record<string, unknown>;
  }

  async function ask(t: TestHub, body: string, headers: Record<string, string>): Promise<Answer> {
    const res = await fetch(t.hub.url, { method: 'POST', headers, body });
    const text = await res.text();
    const { requestId, time, durationMs, ...event } = await storedEventOf(t, res.headers.get('x-request-id')!); // eslint-disable-line @typescript-eslint/no-unused-vars
    return { status: res.status, text, contentType: res.headers.get('content-type'), event };
  }

  async function both(body: unknown, headers: Record<string, string> = {}) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const h = { authorization: `Bearer ${police}`, 'content-type': 'application/json', 'x-purpose': 'CASE_HANDLING', ...headers };
    const before = fast.hub.compiledReadsServed()!;
    const a = await ask(fast, text, h);
    const compiled = fast.hub.compiledReadsServed()! - before;
    const b = await ask(general, text, h);
    expect(a).toEqual(b);
    return { compiled, answer: b };
  }

  it('answers further request shapes as the general path does, compiling only what it serves plainly', async () => {
    const ok = { query: BENCH, variables: { id: minorId } };
    const cases: [string, unknown, number, Record<string, string>?][] = [
      ['an operation name given for an anonymous operation', { query: BENCH.replace('query Child', 'query'), variables: { id: minorId }, operationName: 'Child' }, 0],
      ['an extra variable that is null', { ...ok, variables: { id: minorId, other: null } }, 0],
      ['an id given as a numeric string', { ...ok, variables: { id: '12345' } }, 0],
      ['an id given as an object', { ...ok, variables: { id: { id: minorId } } }, 0],
      ['a variable named __proto__', `{"query":${JSON.stringify(BENCH.replace(/\$id/g, '$__proto__'))},"variables":{"__proto__":"${minorId}"}}`, 1],
      ['a variable named constructor, given as id', { query: BENCH.replace(/\$id/g, '$constructor'), variables: { id: minorId } }, 0],
      ['variables an array', { query: BENCH, variables: [minorId] }, 0],
      ['operationName false', { ...ok, operationName: false }, 0],
      ['extensions null', { ...ok, extensions: null }, 0],
      ['a purpose in lower case naming a referral', ok, 0, { 'x-purpose': 'referral; 00000000-0000-4000-8000-000000000000' }],
      ['a text/plain body (CSRF-style)', ok, 0, { 'content-type': 'text/plain' }],
      ['a form body', ok, 0, { 'content-type': 'application/x-www-form-urlencoded' }],
      ['an accept with parameters', ok, 0, { accept: 'application/json; charset=utf-8' }],
    ];
    for (const [name, body, compiles, headers] of cases) {
      const r = await both(body, headers);
      expect([name, r.compiled]).toEqual([name, compiles]);
    }
  });

  it('treats duplicate purpose headers joined into a valid purpose, and HTTP/1.0 keep-alive, as the general path does', async () => {
    const body = JSON.stringify({ query: BENCH, variables: { id: minorId } });
    const cases: [string, [string, string][], string, number][] = [
      // Node joins them with ", ": "CASE_HANDLING; ref-1, ref-2", a valid purpose with that reference.
      ['two purpose headers', [...std().slice(0, 2), ['x-purpose', 'CASE_HANDLING; ref-1'], ['x-purpose', 'ref-2']], 'HTTP/1.1', 1],
      ['HTTP/1.0 keep-alive', [...std(), ['Connection', 'keep-alive']], 'HTTP/1.0', 1],
    ];
    for (const [name, headers, version, compiles] of cases) {
      const seen: { text: string; event: Record<string, unknown> }[] = [];
      let compiled = 0;
      for (const t of [fast, general]) {
        const before = fast.hub.compiledReadsServed()!;
        const raw = await exchange(t.hub.port, [request(`127.0.0.1:${t.hub.port}`, body, headers, version)], 500);
        if (t === fast) compiled = fast.hub.compiledReadsServed()! - before;
        const r = statusAndId(raw);
        const { requestId, time, durationMs, ...event } = await storedEventOf(t, r.requestId!); // eslint-disable-line @typescript-eslint/no-unused-vars
        const text = raw
          .toString('latin1')
          .replace(/\r\nDate: [^\r]*/i, '')
          .replace(/x-request-id: [^\r]*/i, 'x-request-id: <id>');
        seen.push({ text, event });
      }
      expect([name, compiled]).toEqual([name, compiles]);
      expect([name, seen[0]]).toEqual([name, seen[1]]);
    }
  });
});
