import { Client } from 'pg';
import diagnostics from 'node:diagnostics_channel';
import { connect as tcp, type Socket } from 'node:net';
import { Department } from '../src/auth/principal';
import { MAX_PIPELINED } from '../src/server/http-listener';
import { startTestHub, type TestHub } from './support/test-hub';
import { graphqlRequest, openConnection, responsesIn, type HeldConnection } from './support/raw-socket';

/**
 * Connections whose clients do not take their answers (src/server/http-listener.ts). Node starts
 * every request pipelined in one read of the socket, and an answer the client does not read stays
 * in the hub's memory: a client that pipelined large pages and read nothing kept them all for as
 * long as it kept the connection open.
 */
jest.setTimeout(90_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('connections that do not take their answers', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_ANSWER_STALL_MS: '1000' } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  const connect = () => openConnection(t.hub.port);

  const eventsOf = async (requestId: string) =>
    (await t.sql(`SELECT outcome, body FROM audit.event WHERE request_id = $1 ORDER BY seq`, [requestId])).map((r: { outcome: string; body: string }) => ({
      outcome: r.outcome,
      errorCodes: JSON.parse(r.body).errorCodes,
    }));

  it('closes a connection whose complete answers are not taken within HUB_ANSWER_STALL_MS', async () => {
    const user = 'stalled-reader';
    const token = await t.token(Department.CIVIL_AFFAIRS, { user });
    // Pages of a few MB each: more than the kernel's buffers take for a client that reads nothing.
    const page = (a: number) => `p${a}: minors(first: 1000) { edges { node { id name idNumber currentAddress householdRegistration guardians { name phone address } } } }`;
    const query = `{ ${[0, 1, 2].map(page).join(' ')} }`;
    const N = 3;
    const socket: Socket = tcp(t.hub.port, '127.0.0.1');
    socket.on('error', () => undefined);
    let closed = false;
    socket.on('close', () => (closed = true));
    await new Promise((r) => socket.once('connect', r));
    socket.pause();
    socket.write(graphqlRequest(token, query).repeat(N));
    // Built and audited: the hub has done its part.
    const answered = async () => {
      await t.hub.audit.drain();
      return (await t.sql(`SELECT count(*)::int AS n FROM audit.event WHERE body::jsonb->>'userId' = $1`, [user]))[0].n as number;
    };
    for (let i = 0; i < 120 && (await answered()) < N; i++) await sleep(250);
    expect(await answered()).toBe(N);
    // The stall limit, twice over (Node lets a first expiry pass while the write queue moved).
    await sleep(4_000);
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.resume();
    for (let i = 0; i < 100 && !closed; i++) await sleep(50);
    const whole = responsesIn(Buffer.concat(received));
    socket.destroy();
    expect({ closedByTheHub: closed, complete: whole.length < N }).toEqual({ closedByTheHub: true, complete: true });
    expect(whole.every((r) => r.status === 200)).toBe(true);
  });

  it('keeps a connection open while its answer is being built for longer than HUB_ANSWER_STALL_MS', async () => {
    const token = await t.token(Department.CIVIL_AFFAIRS);
    const id = (await t.sql(`SELECT id FROM registry.minor WHERE birth_date > now() - interval '15 years' ORDER BY id LIMIT 1`))[0].id as string;
    // Another session holds the child's row for 2.5 s: the answer takes longer than the stall limit to build.
    const locker = new Client({ connectionString: t.databaseUrl });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM registry.minor WHERE id = $1 FOR UPDATE', [id]);
    const held = sleep(2_500).then(async () => {
      await locker.query('COMMIT');
      await locker.end();
    });
    const socket: Socket = tcp(t.hub.port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => undefined);
    await new Promise((r) => socket.once('connect', r));
    socket.write(graphqlRequest(token, `mutation { recordVisit(minorId: "${id}", input: { notes: "slow answer" }) { id } }`));
    for (let i = 0; i < 200 && !responsesIn(Buffer.concat(received)).length; i++) await sleep(50);
    await held;
    const [answer] = responsesIn(Buffer.concat(received));
    socket.destroy();
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ data: { recordVisit: { id: expect.any(String) } } });
  });

  it(`refuses a request pipelined behind ${MAX_PIPELINED} unanswered ones on its connection, audited, and closes the connection after it`, async () => {
    const token = await t.token(Department.CIVIL_AFFAIRS);
    const connection = await connect();
    connection.socket.write(graphqlRequest(token, '{ minors(first: 1) { totalCount } }').repeat(MAX_PIPELINED + 2));
    for (let i = 0; i < 200 && !connection.closed; i++) await sleep(50);
    const answers = responsesIn(Buffer.concat(connection.received));
    expect(connection.closed).toBe(true);
    expect(answers.map((a) => a.status)).toEqual([...Array(MAX_PIPELINED).fill(200), 400]);
    const refusal = answers[MAX_PIPELINED];
    expect(refusal.headers.connection).toBe('close');
    expect(JSON.parse(refusal.body)).toEqual({ errors: [{ message: expect.stringContaining('pipelined'), extensions: { code: 'BAD_REQUEST' } }] });
    await t.hub.audit.drain();
    expect(await eventsOf(refusal.headers['x-request-id'])).toEqual([{ outcome: 'INVALID', errorCodes: ['BAD_REQUEST'] }]);
  });

  it('adds no listener to a connection per request pipelined on it', async () => {
    // The server's side of the connection, seen as each request starts: a listener per request
    // would hold all of a pipelining client's until the last answer went, and Node warns past ten.
    const closeListeners: number[] = [];
    let clientPort = 0;
    const onStart = (message: unknown) => {
      const { socket } = message as { socket: Socket };
      if (socket.remotePort === clientPort) closeListeners.push(socket.listenerCount('close'));
    };
    diagnostics.subscribe('http.server.request.start', onStart);
    try {
      const token = await t.token(Department.CIVIL_AFFAIRS);
      const { socket, received } = await connect();
      clientPort = socket.localPort!;
      socket.write(graphqlRequest(token, '{ minors(first: 1) { totalCount } }').repeat(MAX_PIPELINED));
      for (let i = 0; i < 200 && responsesIn(Buffer.concat(received)).length < MAX_PIPELINED; i++) await sleep(50);
      socket.destroy();
      expect(responsesIn(Buffer.concat(received)).map((a) => a.status)).toEqual(Array(MAX_PIPELINED).fill(200));
      expect(closeListeners).toHaveLength(MAX_PIPELINED);
      // The first request's own listeners are added once it starts; none after it.
      expect(closeListeners.slice(1)).toEqual(Array(MAX_PIPELINED - 1).fill(closeListeners[1]));
    } finally {
      diagnostics.unsubscribe('http.server.request.start', onStart);
    }
  });
});

describe('connections over HUB_MAX_CONNECTIONS', () => {
  let t: TestHub;
  const MAX = 10;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_MAX_CONNECTIONS: String(MAX) } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  const open = () => openConnection(t.hub.port);
  const answered = async (connection: HeldConnection, n: number) => {
    for (let i = 0; i < 200 && responsesIn(Buffer.concat(connection.received)).length < n && !connection.closed; i++) await sleep(50);
    return responsesIn(Buffer.concat(connection.received));
  };

  it('closes a connection beyond the cap before it is served, says so in the log once, and serves again once one closes', async () => {
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const token = await t.token(Department.CIVIL_AFFAIRS);
      const held = [];
      for (let i = 0; i < MAX; i++) held.push(await open());
      // The hub has counted them all once each has served a request.
      for (const c of held) c.socket.write(graphqlRequest(token, '{ minors(first: 1) { totalCount } }'));
      for (const c of held) expect((await answered(c, 1)).map((a) => a.status)).toEqual([200]);

      const over = [await open(), await open()];
      for (const c of over) c.socket.write(graphqlRequest(token, '{ minors(first: 1) { totalCount } }'));
      for (let i = 0; i < 100 && over.some((c) => !c.closed); i++) await sleep(50);
      expect(over.map((c) => ({ closed: c.closed, answers: responsesIn(Buffer.concat(c.received)).length }))).toEqual([
        { closed: true, answers: 0 },
        { closed: true, answers: 0 },
      ]);
      const lines = logged.mock.calls.map((args) => String(args[0])).filter((line) => line.includes('HUB_MAX_CONNECTIONS'));
      expect(lines).toEqual([expect.stringMatching(/^\[hub\] closed a connection from (::ffff:)?127\.0\.0\.1: 10 connections \(HUB_MAX_CONNECTIONS\) are open$/)]);

      // The connections within the cap go on being served.
      held[0].socket.write(graphqlRequest(token, '{ minors(first: 1) { totalCount } }'));
      expect((await answered(held[0], 2)).map((a) => a.status)).toEqual([200, 200]);

      held[1].socket.destroy();
      for (let i = 0; i < 100 && !held[1].closed; i++) await sleep(20);
      await sleep(100);
      const next = await open();
      next.socket.write(graphqlRequest(token, '{ minors(first: 1) { totalCount } }'));
      expect((await answered(next, 1)).map((a) => a.status)).toEqual([200]);
      for (const c of [...held, next]) c.socket.destroy();
    } finally {
      logged.mockRestore();
    }
  });
});
