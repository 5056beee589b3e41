import { connect, createServer, type Socket } from 'node:net';
import { format } from 'node:util';
import { Client, type Pool } from 'pg';
import { QueryFailedError } from 'typeorm';
import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { openDataSource } from '../src/db/data-source';
import { eventsOf, post } from './support/audit-helpers';
import { cloneTemplateDatabase, startTestHub, TestHub, asAdministrator } from './support/test-hub';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The process busy for `ms` (a burst of other requests): nothing the database sends meanwhile is read. */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

/**
 * `request` with the process busy for 600 ms as its first statement's connection is handed out:
 * TypeORM logs a statement after taking its connection from the pool and before sending it.
 */
async function busyAsHandedOut<T>(t: TestHub, request: () => Promise<T>): Promise<T> {
  const counter = t.hub.db.statements as unknown as { logQuery: (...a: unknown[]) => void };
  const logQuery = counter.logQuery.bind(counter);
  let first = true;
  const spy = jest.spyOn(counter, 'logQuery').mockImplementation((...a) => {
    if (first) busy(600);
    first = false;
    logQuery(...a);
  });
  try {
    return await request();
  } finally {
    spy.mockRestore();
  }
}

/** The same database over TCP, as a hub reaches a Postgres on another machine (not its Unix socket). */
function overTcp(url: string): string {
  const u = new URL(url);
  u.searchParams.delete('host');
  return u.toString();
}

const MINORS = `{ minors(first: 2) { edges { node { id name } } } }`;
const VISIT = `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "入户走访" }) { id } }`;

async function asAdministratorRows(url: string, statement: string): Promise<any[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(statement)).rows;
  } finally {
    await c.end();
  }
}

async function expectTrailWhole(t: TestHub): Promise<void> {
  const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR });
  const chain = await t.gql(auditor, `{ auditVerify { ok } }`, undefined, {});
  expect(chain.data?.auditVerify).toEqual({ ok: true });
}

/**
 * idle_session_timeout set by a DBA for the database, the role or the cluster: Postgres ends a
 * session idle longer (SQLSTATE 57P05), where the hub's pools keep theirs ten minutes. Ended while
 * it idles, the pool drops it; ended in the turn of the event loop that hands it out (the process
 * busy), the statement sent on it is answered 57P05 over TCP — a refused audit append, and a
 * masked internal error for the request.
 */
describe('sessions ended by the database’s idle_session_timeout', () => {
  let t: TestHub;
  let civil: string;
  let log: jest.SpyInstance;

  beforeAll(async () => {
    const databaseUrl = await cloneTemplateDatabase();
    await asAdministrator(databaseUrl, [`ALTER DATABASE DB SET idle_session_timeout = '300ms'`]);
    t = await startTestHub({ databaseUrl: overTcp(databaseUrl) });
    civil = await t.token(Department.CIVIL_AFFAIRS);
  });
  beforeEach(() => {
    log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => log.mockRestore());
  afterAll(() => t.stop());

  it('a session ended while it idles: the next request is served, and every request audited once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await post(t, civil, { query: MINORS });
      expect([r.status, r.json.errors]).toEqual([200, undefined]);
      ids.push(r.requestId);
      await sleep(500);
    }
    for (const id of ids) expect((await eventsOf(t, id)).map((e) => e.outcome)).toEqual(['SUCCESS']);
    await expectTrailWhole(t);
  });

  it('a request’s session ended as it is handed out: DATABASE_UNAVAILABLE (503, Retry-After), not a masked error, audited once', async () => {
    await post(t, civil, { query: MINORS });
    const r = await busyAsHandedOut(t, () => post(t, civil, { query: MINORS }));
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('5');
    expect(r.json.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['DATABASE_UNAVAILABLE']);
    expect(JSON.stringify(r.json)).not.toMatch(/idle-session|57P05|terminat/);
    expect(log.mock.calls.map((c) => format(...c)).join('\n')).toMatch(/the database ended the session.*: .*\[code 57P05\]/);
    // The audit writer's session idled as long, ended too: its append was sent again, once.
    expect((await eventsOf(t, r.requestId)).map((e) => [e.outcome, e.body.errorCodes])).toEqual([['ERROR', ['DATABASE_UNAVAILABLE']]]);
    const next = await post(t, civil, { query: MINORS });
    expect([next.status, next.json.errors]).toEqual([200, undefined]);
    await expectTrailWhole(t);
  });

  it('a mutation’s session ended as it is handed out: nothing written, DATABASE_UNAVAILABLE (503), its events STARTED and ERROR', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
    const visits = async () => (await t.sql(`SELECT count(*)::int AS n FROM registry.visit WHERE minor_id = $1`, [id]))[0].n;
    const before = await visits();
    const r = await busyAsHandedOut(t, () => post(t, civil, { query: VISIT, variables: { id } }));
    expect([r.status, r.headers.get('retry-after')]).toEqual([503, '5']);
    expect(r.json.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['DATABASE_UNAVAILABLE']);
    expect(await visits()).toBe(before);
    expect((await eventsOf(t, r.requestId)).map((e) => [e.outcome, e.body.errorCodes])).toEqual([
      ['STARTED', []],
      ['ERROR', ['DATABASE_UNAVAILABLE']],
    ]);
    await expectTrailWhole(t);
  });

  it('the audit writer’s session ended as it is handed out: the batch is written on a fresh one, once, and the read answered', async () => {
    await post(t, civil, { query: MINORS });
    const pool = (t.hub.audit as unknown as { pool: Pool }).pool;
    const connect = pool.connect.bind(pool) as (...a: unknown[]) => Promise<unknown>;
    let first = true;
    const spy = jest.spyOn(pool, 'connect').mockImplementation(((...a: unknown[]) => {
      if (a.length) return connect(...a); // pool.query's own, with a callback
      return connect().then((client) => {
        if (first) busy(600);
        first = false;
        return client;
      });
    }) as never);
    let r: Awaited<ReturnType<typeof post>>;
    try {
      r = await post(t, civil, { query: MINORS });
    } finally {
      spy.mockRestore();
    }
    expect(first).toBe(false);
    expect([r.status, r.json.errors]).toEqual([200, undefined]);
    expect(r.json.data.minors.edges).toHaveLength(2);
    expect((await eventsOf(t, r.requestId)).map((e) => e.outcome)).toEqual(['SUCCESS']);
    await expectTrailWhole(t);
  });
});

/**
 * The hub refuses to start on a read-only database; one that turns read only while it runs (a
 * failover, default_transaction_read_only turned on for maintenance) refuses every write with
 * SQLSTATE 25006 — which was answered as a masked internal error.
 */
describe('a database that turns read only while the hub runs', () => {
  let t: TestHub;
  let civil: string;
  let minorId: string;
  let log: jest.SpyInstance;
  // The hub's sessions opened before: ended by the administrator, the pools open new ones, read only.
  const endSessions = (application: string) =>
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = '${application}' AND state = 'idle'`;
  const visits = async () => (await t.sql(`SELECT count(*)::int AS n FROM registry.visit WHERE minor_id = $1`, [minorId]))[0].n;

  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(Department.CIVIL_AFFAIRS);
    [{ id: minorId }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
  });
  beforeEach(() => {
    log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    await asAdministrator(t.databaseUrl, [`SET default_transaction_read_only = off`, `ALTER DATABASE DB RESET default_transaction_read_only`, endSessions('hub'), endSessions('hub audit writer')]);
    await sleep(200);
    log.mockRestore();
  });
  afterAll(() => t.stop());

  it('a write is answered DATABASE_UNAVAILABLE (503, Retry-After), nothing written, and audited; reads go on', async () => {
    await post(t, civil, { query: MINORS });
    await asAdministrator(t.databaseUrl, [`ALTER DATABASE DB SET default_transaction_read_only = on`, endSessions('hub')]);
    await sleep(200);
    const before = await visits();
    const r = await post(t, civil, { query: VISIT, variables: { id: minorId } });
    expect([r.status, r.headers.get('retry-after')]).toEqual([503, '5']);
    expect(r.json).toEqual({
      data: { recordVisit: null },
      errors: [expect.objectContaining({ message: 'The database did not answer in time; try again shortly', extensions: { code: 'DATABASE_UNAVAILABLE', serviceName: 'registry' } })],
    });
    expect(await visits()).toBe(before);
    expect((await eventsOf(t, r.requestId)).map((e) => [e.outcome, e.body.errorCodes])).toEqual([
      ['STARTED', []],
      ['ERROR', ['DATABASE_UNAVAILABLE']],
    ]);
    expect(log.mock.calls.map((c) => format(...c)).join('\n')).toMatch(/the database refused a write: its transactions are read only .*\[code 25006\]/);
    // The trail's sessions are still writable: a read is served, and audited.
    const read = await post(t, civil, { query: MINORS });
    expect([read.status, read.json.errors]).toEqual([200, undefined]);
    expect((await eventsOf(t, read.requestId)).map((e) => e.outcome)).toEqual(['SUCCESS']);
  });

  it('once the trail cannot be written either, a read is refused AUDIT_UNAVAILABLE and releases nothing, a write is not run', async () => {
    await post(t, civil, { query: MINORS });
    await asAdministrator(t.databaseUrl, [`ALTER DATABASE DB SET default_transaction_read_only = on`, endSessions('hub'), endSessions('hub audit writer')]);
    await sleep(200);
    const [{ n: events }] = await t.sql(`SELECT count(*)::int AS n FROM audit.event`);
    const [{ name }] = await t.sql(`SELECT name FROM registry.minor ORDER BY id LIMIT 1`);
    const read = await post(t, civil, { query: `{ minors(first: 1) { edges { node { id name } } } }` });
    expect(read.status).toBe(503);
    expect(read.json).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'AUDIT_UNAVAILABLE' } }] });
    expect(JSON.stringify(read.json)).not.toContain(name);
    const before = await visits();
    const write = await post(t, civil, { query: VISIT, variables: { id: minorId } });
    expect(write.status).toBe(503);
    expect(write.json).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'AUDIT_UNAVAILABLE' } }] });
    expect(await visits()).toBe(before);
    expect((await t.sql(`SELECT count(*)::int AS n FROM audit.event`))[0].n).toBe(events);

    await asAdministrator(t.databaseUrl, [`SET default_transaction_read_only = off`, `ALTER DATABASE DB RESET default_transaction_read_only`, endSessions('hub'), endSessions('hub audit writer')]);
    await sleep(200);
    const again = await post(t, civil, { query: VISIT, variables: { id: minorId } });
    expect([again.status, again.json.errors]).toEqual([200, undefined]);
    expect(await visits()).toBe(before + 1);
    await expectTrailWhole(t);
  });
});

/**
 * Start-up migrates and seeds holding an advisory lock on a session of its own, so that replicas
 * starting at once take turns (test/database-settings.redteam8.test.ts: under idle limits). That
 * session lost anyway — a restart, an administrator ending it — took the lock with it unheard, and
 * its error, with no listener, was an uncaught exception.
 */
describe('the migrations’ lock', () => {
  it('lost while they run, fails the start saying so', async () => {
    const databaseUrl = await cloneTemplateDatabase();
    const started = openDataSource(databaseUrl, undefined, 2, async (maintenance) => {
      await maintenance.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_advisory_lock%'`);
      await sleep(200);
    });
    await expect(started).rejects.toThrow(/the session holding the migrations' lock was lost while they ran \(.*57P01.*\)/);
  });
});

/** A Postgres error message (ErrorResponse) as the server sends one to a connection it refuses. */
function refusal(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`);
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}

/**
 * Postgres refusing a new session — no connection slot left (53300: max_connections, reached by
 * other clients), starting up or shutting down (57P03) — while the hub's open sessions go on: the
 * requests' pool, growing or replacing a session it lost, gets the refusal, the audit writer keeps
 * its own. The request was audited and answered a masked internal error. Here a proxy in front of
 * the database passes sessions through, or answers the requests' pool's new ones as Postgres would
 * refuse them.
 */
describe('the database refusing the requests’ pool a new session', () => {
  let t: TestHub;
  let civil: string;
  let minorId: string;
  let refusing: { code: string; message: string } | null = null;
  let log: jest.SpyInstance;
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    // The startup message names the session's application: the requests' pool's ('hub') is refused.
    client.once('data', (startup) => {
      if (refusing && startup.includes('application_name\0hub\0')) return client.end(refusal(refusing.code, refusing.message));
      const real = new URL(databaseUrl);
      const upstream = connect(`${real.searchParams.get('host')}/.s.PGSQL.${real.port}`);
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.write(startup);
      client.pipe(upstream).pipe(client);
    });
  });
  let databaseUrl: string;

  beforeAll(async () => {
    databaseUrl = await cloneTemplateDatabase();
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const via = new URL(databaseUrl);
    via.searchParams.delete('host');
    via.hostname = '127.0.0.1';
    via.port = String((proxy.address() as { port: number }).port);
    t = await startTestHub({ databaseUrl: via.toString() });
    civil = await t.token(Department.CIVIL_AFFAIRS);
    [{ id: minorId }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
  });
  beforeEach(() => {
    log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => {
    refusing = null;
    log.mockRestore();
  });
  afterAll(async () => {
    await t.stop();
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => proxy.close(resolve));
  });

  it.each([
    ['53300', 'sorry, too many clients already'],
    ['57P03', 'the database system is starting up'],
  ])('%s: a read and a write are answered DATABASE_UNAVAILABLE (503, Retry-After), audited, nothing written', async (code, message) => {
    await post(t, civil, { query: MINORS });
    // The pool's idle sessions ended: the next request needs a new one.
    await asAdministrator(databaseUrl, [`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'hub' AND state = 'idle'`]);
    await sleep(200);
    refusing = { code, message };
    const read = await post(t, civil, { query: MINORS });
    const visits = async () => (await asAdministratorRows(databaseUrl, `SELECT count(*)::int AS n FROM registry.visit WHERE minor_id = '${minorId}'`))[0].n;
    const before = await visits();
    const write = await post(t, civil, { query: VISIT, variables: { id: minorId } });
    refusing = null;
    for (const r of [read, write]) {
      expect([r.status, r.headers.get('retry-after')]).toEqual([503, '5']);
      expect(r.json.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['DATABASE_UNAVAILABLE']);
    }
    expect(await visits()).toBe(before);
    expect((await eventsOf(t, read.requestId)).map((e) => [e.outcome, e.body.errorCodes])).toEqual([['ERROR', ['DATABASE_UNAVAILABLE']]]);
    expect(log.mock.calls.map((c) => format(...c)).join('\n')).toContain(`[code ${code}]`);
    const again = await post(t, civil, { query: MINORS });
    expect([again.status, again.json.errors]).toEqual([200, undefined]);
  });
});

/**
 * Start-up and the command-line tools printed a failure's message as it was: a data exception
 * quotes the value it could not take (a child's ID number), where the hub's log keeps only what
 * loggableError does.
 */
describe('start-up and command-line failures, as logged', () => {
  const ID = buildIdNumber('330102', '2015-03-01', 515);
  let databaseError: Error;

  beforeAll(async () => {
    const c = new Client({ connectionString: await cloneTemplateDatabase() });
    await c.connect();
    try {
      databaseError = await c.query(`SELECT id FROM registry.minor WHERE id = $1`, [ID]).then(
        () => new Error('no error'),
        (e: Error) => e,
      );
    } finally {
      await c.end();
    }
    expect(databaseError.message).toContain(ID);
  });

  /** What `module` (run as its script) printed on failing, its start (`mocked`'s `fn`) failing with `error`. */
  async function failureOutput(module: string, mocked: { module: string; fn: string }, error: unknown, argv: string[] = []): Promise<{ code: unknown; printed: string }> {
    const lines: string[] = [];
    const spies = (['log', 'error', 'warn'] as const).map((m) => jest.spyOn(console, m).mockImplementation((...a) => void lines.push(format(...a))));
    let exited!: (code: unknown) => void;
    const exit = new Promise((resolve) => (exited = resolve));
    const exitSpy = jest.spyOn(process, 'exit').mockImplementation(((code: unknown) => exited(code)) as never);
    const args = process.argv;
    process.argv = [args[0], module, ...argv];
    try {
      jest.isolateModules(() => {
        jest.doMock(mocked.module, () => ({ ...jest.requireActual(mocked.module), [mocked.fn]: () => Promise.reject(error) }));
        require(module);
      });
      const code = await exit;
      return { code, printed: lines.join('\n') };
    } finally {
      process.argv = args;
      exitSpy.mockRestore();
      spies.forEach((s) => s.mockRestore());
      jest.dontMock(mocked.module);
    }
  }

  it.each([
    ['the driver’s error', () => databaseError],
    ['TypeORM’s, with the statement’s parameters', () => new QueryFailedError('SELECT id FROM registry.minor WHERE id = $1', [ID], databaseError)],
    ['wrapped as a cause', () => new Error('migration failed', { cause: databaseError })],
  ])('a start-up failing on a Postgres error quoting a value (%s) does not print the value', async (_, error) => {
    const { code, printed } = await failureOutput('../src/main', { module: '../src/server/hub.server', fn: 'startHub' }, error());
    expect(code).toBe(1);
    expect(printed).toMatch(/\[hub\] failed to start: .*invalid input syntax for type uuid.*\[code 22P02\]/);
    expect(printed).not.toContain(ID);
    expect(printed).not.toContain(ID.slice(0, 14));
  });

  it('a start-up failure the hub words itself is printed as written', async () => {
    const { printed } = await failureOutput('../src/main', { module: '../src/server/hub.server', fn: 'startHub' }, new Error('DATABASE_URL is a standby (read only): the hub needs the primary'));
    expect(printed).toBe('[hub] failed to start: DATABASE_URL is a standby (read only): the hub needs the primary');
  });

  it('audit:verify failing on a Postgres error quoting a value does not print the value', async () => {
    const env = process.env.DATABASE_URL;
    process.env.DATABASE_URL = await cloneTemplateDatabase();
    try {
      const { code, printed } = await failureOutput('../src/cli/audit-verify.cli', { module: '../src/audit/audit.verify', fn: 'verifyChain' }, databaseError);
      expect(code).toBe(2);
      expect(printed).toMatch(/^audit:verify: .*\[code 22P02\]$/);
      expect(printed).not.toContain(ID);
    } finally {
      if (env === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = env;
    }
  });

  it('a command-line tool’s own refusal reads as written', async () => {
    const { code, printed } = await failureOutput('../src/cli/subgraph.cli', { module: '../src/server/subgraph.server', fn: 'startSubgraphServer' }, new Error('unknown subgraph: nope'), ['nope']);
    expect(code).toBe(1);
    expect(printed).toBe('subgraph: unknown subgraph: nope');
  });

  it.each([[''], ['0x10'], ['1e3'], ['65536']])('npm run subgraph refuses --port %j, which is no TCP port written in decimal', async (port) => {
    const { code, printed } = await failureOutput('../src/cli/subgraph.cli', { module: '../src/server/subgraph.server', fn: 'startSubgraphServer' }, new Error('started'), ['registry', '--port', port]);
    // An empty value is no value at all (parseArgs), the others no port.
    expect([code, printed]).toEqual([1, port === '' ? 'subgraph: --port needs a value' : 'subgraph: --port is a TCP port, 0 to 65535']);
  });
});
