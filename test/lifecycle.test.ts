import { Client } from 'pg';
import { connect as tcp, type Socket } from 'node:net';
import { Department } from '../src/auth/principal';
import { startSubgraphServer, type SubgraphServer } from '../src/server/subgraph.server';
import { cloneTemplateDatabase, DEFAULT_PURPOSE, startTestHub, testConfig, type TestHub } from './support/test-hub';

/**
 * A stop (SIGTERM, SIGINT: src/main.ts, src/cli/subgraph.cli.ts) finishes the requests it
 * accepted: a mutation waiting on another session's row lock when the stop begins commits, is
 * answered and gets its final event, where it was once cut off with only its STARTED event.
 */
jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const assess = (alias: string, variable: string) => `${alias}: recordAssessment(minorId: $${variable}, input: { level: ORANGE, reasons: "during a stop" }) { id }`;

function request(token: string, query: string, variables: Record<string, unknown>): string {
  const body = JSON.stringify({ query, variables });
  const head = ['POST /graphql HTTP/1.1', 'Host: localhost', 'Content-Type: application/json', `Authorization: Bearer ${token}`, `x-purpose: ${DEFAULT_PURPOSE['x-purpose']}`, `Content-Length: ${Buffer.byteLength(body)}`];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}

/** One HTTP/1.1 connection, written by hand: what the server sends on it, and when it closes it. */
function connection(port: number) {
  const socket: Socket = tcp(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  return {
    send(token: string, query: string, variables: Record<string, unknown>) {
      socket.write(request(token, query, variables));
    },
    /** Sends the first bytes of the request now, the rest when the function returned is called. */
    begin(token: string, query: string, variables: Record<string, unknown>) {
      const text = request(token, query, variables);
      socket.write(text.slice(0, 20));
      return () => void socket.write(text.slice(20));
    },
    received: () => received,
    closed,
    isClosed: () => socket.destroyed,
  };
}

/** The responses in what a connection received, in order: status, headers (lower-cased names), body. */
function responses(raw: string): { status: number; headers: Record<string, string>; body: string }[] {
  const out = [];
  let rest = raw;
  for (let end = rest.indexOf('\r\n\r\n'); rest.startsWith('HTTP/1.1 ') && end > 0; end = rest.indexOf('\r\n\r\n')) {
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const length = Number(headers['content-length'] ?? Infinity);
    out.push({ status: Number(statusLine.split(' ')[1]), headers, body: rest.slice(end + 4, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

describe('stopping with requests in flight', () => {
  let db: Client;
  let locker: Client | undefined;
  let t: TestHub | undefined;
  let subgraph: SubgraphServer | undefined;

  afterEach(async () => {
    await locker?.end();
    locker = undefined;
    await db?.end();
    await t?.stop();
    t = undefined;
    await subgraph?.stop();
    subgraph = undefined;
  });

  /** Stopped once, by the test or after it. */
  function once<S extends { stop(): Promise<void> }>(server: S): S {
    const stop = server.stop;
    let stopping: Promise<void> | undefined;
    return Object.assign(server, { stop: () => (stopping ??= stop()) });
  }

  async function start(env: Record<string, string> = {}) {
    t = once(await startTestHub({ env }));
    db = new Client({ connectionString: t.databaseUrl });
    await db.connect();
    const children = (await db.query(`SELECT id FROM registry.minor WHERE birth_date > now() - interval '15 years' ORDER BY id LIMIT 3`)).rows.map((r) => r.id as string);
    return { t, children, token: await t.token(Department.CIVIL_AFFAIRS) };
  }

  /** Another officer's transaction holds the child's row: a mutation of it waits until `release`. */
  async function holdRow(url: string, id: string) {
    locker = new Client({ connectionString: url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM registry.minor WHERE id = $1 FOR UPDATE', [id]);
    const held = locker;
    return async () => {
      await held.query('COMMIT');
    };
  }

  /** Waits until another session waits on a lock (the mutation is executing, past its STARTED event). */
  async function waitingOnLock() {
    for (let i = 0; i < 400; i++) {
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
      if (rows[0].n > 0) return;
      await sleep(25);
    }
    throw new Error('no session ever waited on the lock');
  }

  const assessments = async (id: string) => (await db.query('SELECT count(*)::int AS n FROM registry.risk_assessment WHERE minor_id = $1', [id])).rows[0].n as number;
  const eventsOf = async (requestId: string) =>
    (await db.query('SELECT outcome, body FROM audit.event WHERE request_id = $1 ORDER BY seq', [requestId])).rows.map((r) => ({ outcome: r.outcome as string, body: JSON.parse(r.body) }));

  it('a mutation waiting on a row lock when the stop begins commits, is answered on a closing connection and has its final event', async () => {
    const { t, children, token } = await start();
    const [child] = children;
    const before = await assessments(child);
    const release = await holdRow(t.databaseUrl, child);
    const conn = connection(t.hub.port);
    conn.send(token, `mutation($a: ID!) { ${assess('a', 'a')} }`, { a: child });
    await waitingOnLock();

    const stopping = t.stop();
    await sleep(300);
    // Stopped accepting: a new connection is refused, not served halfway.
    await expect(fetch(t.hub.url, { method: 'POST' })).rejects.toThrow();
    expect(conn.isClosed()).toBe(false);
    await release();
    await stopping;
    await conn.closed;

    const [answer, ...more] = responses(conn.received());
    expect(more).toEqual([]);
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body)).toEqual({ data: { a: { id: expect.any(String) } } });
    expect(await assessments(child)).toBe(before + 1);
    const events = await eventsOf(answer.headers['x-request-id']);
    expect(events.map((e) => e.outcome)).toEqual(['STARTED', 'SUCCESS']);
    expect(events[1].body.changes.map((c: { minorId: string }) => c.minorId)).toEqual([child]);
  });

  it('a two-field mutation stopped between its fields finishes both, and its final event records both', async () => {
    const { t, children, token } = await start();
    const [first, second] = children;
    const release = await holdRow(t.databaseUrl, second);
    const conn = connection(t.hub.port);
    conn.send(token, `mutation($a: ID!, $b: ID!) { ${assess('a', 'a')} ${assess('b', 'b')} }`, { a: first, b: second });
    await waitingOnLock();

    const stopping = t.stop();
    await sleep(300);
    await release();
    await stopping;
    await conn.closed;

    const [answer] = responses(conn.received());
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).data).toEqual({ a: { id: expect.any(String) }, b: { id: expect.any(String) } });
    const events = await eventsOf(answer.headers['x-request-id']);
    expect(events.map((e) => e.outcome)).toEqual(['STARTED', 'SUCCESS']);
    expect(events[1].body.changes.map((c: { minorId: string }) => c.minorId).sort()).toEqual([first, second].sort());
  });

  it('closes idle keep-alive connections at once, and starts no request that arrives after the stop began', async () => {
    const { t, children, token } = await start();
    const [child, other, third] = children;
    const [otherBefore, thirdBefore] = [await assessments(other), await assessments(third)];
    const idle = connection(t.hub.port);
    idle.send(token, 'query($id: ID!) { minor(id: $id) { id } }', { id: child });
    for (let i = 0; i < 200 && !responses(idle.received()).length; i++) await sleep(25);
    expect(responses(idle.received())[0].status).toBe(200);

    const release = await holdRow(t.databaseUrl, child);
    const busy = connection(t.hub.port);
    busy.send(token, `mutation($a: ID!) { ${assess('a', 'a')} }`, { a: child });
    await waitingOnLock();
    // A client whose request is half sent when the stop begins.
    const slow = connection(t.hub.port);
    const rest = slow.begin(token, `mutation($c: ID!) { ${assess('c', 'c')} }`, { c: third });
    await sleep(100);

    const stopping = t.stop();
    await idle.closed;
    expect(busy.isClosed()).toBe(false);
    rest();
    busy.send(token, `mutation($b: ID!) { ${assess('b', 'b')} }`, { b: other });
    await slow.closed;
    await sleep(200);
    const released = Date.now();
    await release();
    await stopping;
    // Without waiting out the grace period (20 s) for the request that was never started.
    expect(Date.now() - released).toBeLessThan(5_000);
    await busy.closed;

    const [refusal, ...none] = responses(slow.received());
    expect(none).toEqual([]);
    expect(refusal.status).toBe(503);
    expect(refusal.headers.connection).toBe('close');
    expect(JSON.parse(refusal.body)).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'SHUTTING_DOWN' } }] });
    expect((await eventsOf(refusal.headers['x-request-id'])).map((e) => [e.outcome, e.body.errorCodes])).toEqual([['ERROR', ['SHUTTING_DOWN']]]);
    expect(await assessments(third)).toBe(thirdBefore);

    // Pipelined behind an answer that closes its connection: never started, never answered.
    const [answer, ...after] = responses(busy.received());
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(after).toEqual([]);
    expect(await assessments(other)).toBe(otherBefore);
  });

  it('returns after the grace period when a request does not finish, naming it in the log', async () => {
    const { t, children, token } = await start({ HUB_SHUTDOWN_GRACE_MS: '500' });
    const [child] = children;
    await holdRow(t.databaseUrl, child);
    const conn = connection(t.hub.port);
    conn.send(token, `mutation($a: ID!) { ${assess('a', 'a')} }`, { a: child });
    await waitingOnLock();
    const started = (await db.query(`SELECT request_id FROM audit.event WHERE outcome = 'STARTED'`)).rows.map((r) => r.request_id as string);
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const begun = Date.now();
      await t.stop();
      expect(Date.now() - begun).toBeLessThan(5_000);
      await conn.closed;
      expect(responses(conn.received())).toEqual([]);
      expect(logged.mock.calls.map((c) => String(c[0]))).toContainEqual(expect.stringMatching(new RegExp(`^\\[hub\\] stopping after 500 ms with 1 request\\(s\\) unfinished: ${started[0]}$`)));
    } finally {
      logged.mockRestore();
    }
  });

  /**
   * A connection that sent part of its request headers and nothing more (a stalled network, or on
   * purpose), no request in flight: the stop closes it when the grace runs out. Node stops timing
   * out headers once close() is called, so the stop once waited for it for ever.
   */
  async function stopsWithinGrace(server: { stop(): Promise<void> }, port: number, logName: string) {
    const socket: Socket = tcp(port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write('POST /graphql HTTP/1.1\r\nHost: localhost\r\n');
    await sleep(200);
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const begun = Date.now();
      const stopping = server.stop();
      // Bounded, so that a stop that never returns fails the test instead of hanging it.
      const outcome = await Promise.race([stopping.then(() => 'stopped'), sleep(5_000).then(() => 'still stopping')]);
      expect({ outcome, within: Date.now() - begun < 500 + 2_000 }).toEqual({ outcome: 'stopped', within: true });
      await closed;
      expect(logged.mock.calls.map((c) => String(c[0]))).toContainEqual(`${logName} stopping after 500 ms, closing connections with no request in flight`);
    } finally {
      logged.mockRestore();
      socket.destroy();
    }
  }

  it('returns after the grace period when a connection has sent half its request headers and nothing more', async () => {
    const { t } = await start({ HUB_SHUTDOWN_GRACE_MS: '500' });
    await stopsWithinGrace(t, t.hub.port, '[hub]');
  });

  it('a subgraph process returns after the grace period when a connection has sent half its request headers', async () => {
    const env = { HUB_SHUTDOWN_GRACE_MS: '500' };
    subgraph = once(await startSubgraphServer('registry', testConfig({ databaseUrl: await cloneTemplateDatabase(), gatewaySecret: 'test-gateway-secret-of-sufficient-length', env }), 0));
    await stopsWithinGrace(subgraph, Number(new URL(subgraph.url).port), '[subgraph registry]');
  });

  it('a subgraph process stopped mid-mutation finishes it: the gateway gets its answer and records what it changed', async () => {
    const secret = 'test-gateway-secret-of-sufficient-length';
    const databaseUrl = await cloneTemplateDatabase();
    subgraph = once(await startSubgraphServer('registry', testConfig({ databaseUrl, gatewaySecret: secret }), 0));
    t = once(await startTestHub({ databaseUrl, gatewaySecret: secret, subgraphUrls: { registry: subgraph.url } }));
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
    const [first, second] = (await db.query(`SELECT id FROM registry.minor WHERE birth_date > now() - interval '15 years' ORDER BY id LIMIT 2`)).rows.map((r) => r.id as string);
    const token = await t.token(Department.CIVIL_AFFAIRS);
    const release = await holdRow(databaseUrl, second);
    const answer = fetch(t.hub.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...DEFAULT_PURPOSE },
      body: JSON.stringify({ query: `mutation($a: ID!, $b: ID!) { ${assess('a', 'a')} ${assess('b', 'b')} }`, variables: { a: first, b: second } }),
    }).then(async (r) => ({ status: r.status, requestId: r.headers.get('x-request-id')!, json: await r.json() }));
    await waitingOnLock();

    const stopping = subgraph.stop();
    await sleep(300);
    await release();
    await stopping;
    const { status, requestId, json } = await answer;

    expect(status).toBe(200);
    expect(json).toEqual({ data: { a: { id: expect.any(String) }, b: { id: expect.any(String) } } });
    await t.hub.audit.drain();
    const events = await eventsOf(requestId);
    expect(events.map((e) => e.outcome)).toEqual(['STARTED', 'SUCCESS']);
    expect(events[1].body.errorCodes).toEqual([]);
    expect(events[1].body.changes.map((c: { minorId: string }) => c.minorId).sort()).toEqual([first, second].sort());
  });
});
