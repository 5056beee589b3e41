import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Department } from '../src/auth/principal';
import { loadConfig } from '../src/config/hub.config';
import { devSecret } from '../src/config/secrets';
import { eventsOf, post } from './support/audit-helpers';
import { type LostReplyProxy, startHubBehindLostReplyProxy } from './support/lost-reply-proxy';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Client } from 'pg';
import { cloneTemplateDatabase, DEFAULT_PURPOSE, errorCodes, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(120_000);

/**
 * redteam17: the database layer (src/db) and the configuration (src/config), reviewed line by line,
 * each suspicion confirmed or refuted here.
 */

describe('config: a variable set to blanks (redteam17)', () => {
  // config.redteam4: `HUB_ANOMALY_UTC_OFFSET= ` is the default "as every other variable", because
  // Number('') is 0 moved OFF_HOURS eight hours. Number(' ') is 0 too: the whole-number settings
  // whose 0 means "off" or "never" were switched off by a blank.
  it.each([
    ['HUB_WORKFLOW_JOB_INTERVAL_MS', (c: ReturnType<typeof loadConfig>) => c.workflow.jobIntervalMs, 60_000],
    ['HUB_AUDIT_ANCHOR_SECONDS', (c: ReturnType<typeof loadConfig>) => c.audit.anchorSeconds, 300],
    ['HUB_STATISTICS_REFRESH_SECONDS', (c: ReturnType<typeof loadConfig>) => c.statistics.refreshSeconds, 300],
    ['HUB_SHUTDOWN_GRACE_MS', (c: ReturnType<typeof loadConfig>) => c.shutdownGraceMs, 20_000],
    ['PORT', (c: ReturnType<typeof loadConfig>) => c.port, 4000],
    ['HUB_EMBEDDED_PG_PORT', (c: ReturnType<typeof loadConfig>) => c.embeddedPgPort, 54329],
  ])('%s set to a blank is its default, as unset, never 0', (name, read, fallback) => {
    for (const blank of [' ', '\t', '  \n']) {
      expect([name, JSON.stringify(blank), read(loadConfig({ [name]: blank }))]).toEqual([name, JSON.stringify(blank), fallback]);
    }
  });

  it('refuses HUB_EMBEDDED_PG_PORT=0: Postgres takes no port 0 (1–65535), and the cluster would not start (PORT=0, a free port, is the listener’s)', () => {
    expect(loadConfig({ PORT: '0' }).port).toBe(0);
    expect(() => loadConfig({ HUB_EMBEDDED_PG_PORT: '0' })).toThrow(/HUB_EMBEDDED_PG_PORT/);
  });

  it('refuses a whole-number setting written in hex, binary or octal form (README: a whole number in range)', () => {
    for (const bad of ['0x3E8', '0b1111101000', '0o1750']) {
      expect(() => loadConfig({ HUB_STATEMENT_TIMEOUT_MS: bad })).toThrow(/HUB_STATEMENT_TIMEOUT_MS must be a whole number/);
    }
  });
});

describe('config: malformed lists (redteam17)', () => {
  it('refuses a subgraph URL with no host, as it refuses one with no scheme', () => {
    for (const bad of ['registry=http://', 'registry=https:///graphql', 'registry=http://exa mple:4001/graphql']) {
      expect(() => loadConfig({ HUB_SUBGRAPH_URLS: bad })).toThrow(/HUB_SUBGRAPH_URLS/);
    }
  });

  it('refuses a subject given twice in HUB_STATISTICS_FINEST_LEVELS, as HUB_REPORT_DEADLINES and HUB_SUBGRAPH_URLS refuse a name twice', () => {
    expect(() => loadConfig({ HUB_STATISTICS_FINEST_LEVELS: 'DASHBOARD=STREET,DASHBOARD=DISTRICT' })).toThrow(/HUB_STATISTICS_FINEST_LEVELS/);
  });
});

describe('config: secrets files (redteam17)', () => {
  it('creates each development secret 0600, leaves no draft behind, and reads it back the same', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rt17-secrets-'));
    const old = process.umask(0o000);
    try {
      for (const name of ['jwt-secret', 'gateway-secret', 'pg-password', 'audit-key'] as const) {
        const s = devSecret(path.join(dir, 'data'), name);
        const st = fs.statSync(path.join(dir, 'data', name));
        expect([name, (st.mode & 0o777).toString(8)]).toEqual([name, '600']);
        expect(devSecret(path.join(dir, 'data'), name)).toBe(s);
      }
      expect(fs.readdirSync(path.join(dir, 'data')).sort()).toEqual(['audit-key', 'gateway-secret', 'jwt-secret', 'pg-password']);
    } finally {
      process.umask(old);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * commit-outcome.ts / lost-session.ts: a COMMIT whose reply is lost is settled from a fresh
 * connection, and "a connection that fails too is tried again (the database restarting, the
 * network recovering) for up to SETTLE_WAIT_MS" — isUnreachable lists ECONNREFUSED, ETIMEDOUT …
 * but the hub (embedded Postgres, and every `?host=/dir` URL) connects over a Unix socket, whose
 * absence while Postgres restarts is ENOENT.
 */
describe('a COMMIT whose reply is lost, the socket briefly absent (redteam17)', () => {
  let proxy: LostReplyProxy;
  let t: TestHub;
  let civil: string;
  let child: string;
  const REFERRAL_INSERT = 'INSERT INTO "workflow"."referral"';

  beforeAll(async () => {
    ({ t, proxy } = await startHubBehindLostReplyProxy());
    civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'rt17-lost-commit' });
    [{ id: child }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' AND birth_date > now() - interval '15 years' ORDER BY id LIMIT 1`);
  });
  afterAll(async () => {
    await t?.stop();
    await proxy?.close();
  });

  /**
   * A referral whose COMMIT's reply is lost while the database's Unix socket is moved away for 2.6 s
   * (query_timeout is 2 s after the COMMIT; settling may retry for 2 s more), `meanwhile` standing in
   * its place; its answer, what the hub logged, and whether it was stored.
   */
  async function referralWhileSocketAway(need: string, meanwhile: (here: string) => void) {
    const dir = new URL(proxy.url).searchParams.get('host')!;
    const here = path.join(dir, fs.readdirSync(dir).find((f) => f.startsWith('.s.PGSQL.'))!);
    const away = path.join(dir, 'moved-away');
    proxy.loseNextCommit(REFERRAL_INSERT, 'reply');
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const answer = post(t, civil, { query: `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, variables: { i: { minorId: child, type: 'EDUCATION_AID', toDepartment: Department.EDUCATION, need } } }, DEFAULT_PURPOSE);
      while (!proxy.lost()) await new Promise((r) => setTimeout(r, 5));
      const lostAt = Date.now();
      fs.renameSync(here, away); // the database "restarting"
      meanwhile(here);
      await new Promise((r) => setTimeout(r, 2600 - (Date.now() - lostAt)));
      fs.rmSync(here, { force: true });
      fs.renameSync(away, here);
      const r = await answer;
      const logged = log.mock.calls.map((c) => c.map(String).join(' '));
      return { r, logged, stored: await t.sql(`SELECT id FROM workflow.referral WHERE need = $1`, [need]) };
    } finally {
      if (fs.existsSync(away)) {
        fs.rmSync(here, { force: true });
        fs.renameSync(away, here);
      }
      log.mockRestore();
    }
  }

  it('control: the socket a stale file for under a second (ECONNREFUSED) then back: answered as made', async () => {
    // A socket file bound and never listened on: connecting to it is ECONNREFUSED.
    const { r, stored } = await referralWhileSocketAway('套接字拒绝连接时回复丢失的转介', (here) =>
      execFileSync('python3', ['-c', 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])', here]),
    );
    expect(stored).toHaveLength(1);
    expect([r.status, r.json.errors]).toEqual([200, undefined]);
  });

  it('committed, the Unix socket gone for under a second then back: answered as made (retried like ECONNREFUSED), not COMMIT_OUTCOME_UNKNOWN', async () => {
    // No file at all (ENOENT), as while Postgres restarts.
    const { r, logged, stored } = await referralWhileSocketAway('套接字短暂消失时回复丢失的转介', () => undefined);
    // (It logged, before the fix: "… unknown, its COMMIT's reply lost (Query read timeout; Error: connect ENOENT …)".)
    expect(logged.filter((l) => /outcome of transaction \d+ is unknown/.test(l))).toEqual([]);
    expect(stored).toHaveLength(1); // Postgres committed it
    expect([r.status, r.json.errors]).toEqual([200, undefined]);
    const events = await eventsOf(t, r.requestId);
    expect(events.map((e) => [e.outcome, e.body.errorCodes])).toEqual([
      ['STARTED', []],
      ['SUCCESS', []],
    ]);
  });
});

/**
 * A pass-through proxy to the Postgres of `databaseUrl` that, once armed with a marker, holds back
 * what the server answers on the connection that sent a statement containing it, and hands all of
 * it on at once when the server closes that connection: the server's reply to that statement and,
 * right behind it, the FATAL it sent as it ended the session (a restart or failover, an
 * administrator's pg_terminate_backend, transaction_timeout or idle_in_transaction_session_timeout
 * firing while the transaction waits between two statements). Nothing else is changed.
 */
async function heldReplyProxy(databaseUrl: string) {
  const real = new URL(databaseUrl);
  const socketName = `.s.PGSQL.${real.port}`;
  const target = path.join(real.searchParams.get('host')!, socketName);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rt17-held-'));
  let armed: string | null = null;
  let holding = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    let hold = false;
    let requestPool: boolean | undefined; // only the requests' sessions (application_name hub), not the audit writer's
    const held: Buffer[] = [];
    client.on('data', (chunk) => {
      requestPool ??= !chunk.toString('latin1').includes('hub audit writer');
      if (armed && requestPool && chunk.toString('latin1').includes(armed)) {
        armed = null;
        hold = holding = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => (hold ? held.push(chunk) : client.write(chunk)));
    upstream.on('close', () => (hold ? client.end(Buffer.concat(held)) : client.destroy()));
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(path.join(dir, socketName), resolve));
  const url = new URL(databaseUrl);
  url.searchParams.set('host', dir);
  return {
    url: url.toString(),
    arm(marker: string) {
      armed = marker;
      holding = false;
    },
    holding: () => holding,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * lost-session.ts: a session the server ends is DATABASE_UNAVAILABLE ("the database ended the
 * session": 57P01 administrator command or restart, 25P03 idle in transaction, 25P04
 * transaction_timeout) — Postgres rolled the transaction back, and the same request again may pass.
 * Here the session is ended while the request's transaction waits between two statements: the
 * FATAL reaches node-postgres with no statement in flight.
 */
describe('a request’s session ended between two statements of its transaction (redteam17)', () => {
  let databaseUrl: string;
  let proxy: Awaited<ReturnType<typeof heldReplyProxy>>;
  let t: TestHub;
  let civil: string;
  let minorId: string;
  let admin: Client;

  beforeAll(async () => {
    databaseUrl = await cloneTemplateDatabase();
    proxy = await heldReplyProxy(databaseUrl);
    t = await startTestHub({ databaseUrl: proxy.url, env: { HUB_STATEMENT_TIMEOUT_MS: '5000' } });
    civil = await t.token(Department.CIVIL_AFFAIRS);
    [{ id: minorId }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' AND birth_date > now() - interval '15 years' ORDER BY id LIMIT 1`);
    admin = new Client({ connectionString: databaseUrl });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await t?.stop();
    await proxy?.close();
  });

  it('the hub’s own idle_in_transaction_session_timeout (25P03) ending it while the reply is on its way: DATABASE_UNAVAILABLE, not an internal error', async () => {
    // The reply to the lock held back (a busy process or network) for the statement limit (5 s):
    // Postgres, its transaction idle that long, ends the session (25P03, listed as a time limit).
    const notes = '空闲事务超时终止的会话';
    proxy.arm('FOR UPDATE');
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const r = await post(t, civil, { query: `mutation($id: ID!, $n: String!) { recordVisit(minorId: $id, input: { notes: $n }) { id } }`, variables: { id: minorId, n: notes } }, DEFAULT_PURPOSE);
      expect(proxy.holding()).toBe(true);
      expect(await admin.query(`SELECT 1 FROM registry.visit WHERE notes = $1`, [notes]).then((q) => q.rowCount)).toBe(0);
      expect([r.status, errorCodes({ status: r.status, ...r.json })]).toEqual([503, ['DATABASE_UNAVAILABLE']]);
    } finally {
      log.mockRestore();
    }
  });

  it.each([
    ['after the child’s row is locked', 'FOR UPDATE'],
    ['after the visit’s INSERT', 'INSERT INTO "registry"."visit"'],
  ])('%s: DATABASE_UNAVAILABLE, nothing written, no internal error', async (_when, marker) => {
    const notes = `会话在语句之间被终止 ${marker}`;
    proxy.arm(marker);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const visit = post(t, civil, { query: `mutation($id: ID!, $n: String!) { recordVisit(minorId: $id, input: { notes: $n }) { id } }`, variables: { id: minorId, n: notes } }, DEFAULT_PURPOSE);
      const until = Date.now() + 5000;
      while (!proxy.holding() && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      expect(proxy.holding()).toBe(true);
      // The server has answered and waits, idle in the transaction; its session is ended now.
      let ended = 0;
      while (!ended && Date.now() < until) {
        const rows = await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'hub' AND state = 'idle in transaction' AND strpos(query, $1) > 0`,
          [marker],
        );
        ended = rows.rowCount ?? 0;
        if (!ended) await new Promise((r) => setTimeout(r, 5));
      }
      expect(ended).toBe(1);
      const r = await visit;
      const logged = log.mock.calls.map((c) => c.map(String).join(' '));
      // Postgres rolled the transaction back with the session: nothing written (this holds).
      expect(await admin.query(`SELECT 1 FROM registry.visit WHERE notes = $1`, [notes]).then((q) => q.rowCount)).toBe(0);
      const events = await eventsOf(t, r.requestId);
      // It was HTTP 200, INTERNAL_SERVER_ERROR, the log "[hub] unexpected error QueryRunnerAlreadyReleasedError: Query runner already released".
      expect([r.status, errorCodes({ status: r.status, ...r.json }), logged.filter((l) => /unexpected error/i.test(l))]).toEqual([503, ['DATABASE_UNAVAILABLE'], []]);
      expect(events.map((e) => [e.outcome, e.body.errorCodes])).toEqual([
        ['STARTED', []],
        ['ERROR', ['DATABASE_UNAVAILABLE']],
      ]);
    } finally {
      log.mockRestore();
    }
  });
});
