import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { eventsOf, post, storedEventOf } from './support/audit-helpers';
import { type Loss, type LostReplyProxy, startHubBehindLostReplyProxy } from './support/lost-reply-proxy';
import { openDataSource } from '../src/db/data-source';
import { isDatabaseTimeout } from '../src/errors/hub.exception';
import { buildPolicy, openDatabase } from '../src/server/bootstrap';
import { startSubgraphServer } from '../src/server/subgraph.server';
import { refreshStatistics, statisticsSubgraph } from '../src/subgraphs/statistics';
import { cloneTemplateDatabase, DEFAULT_PURPOSE, startTestHub, TestHub, testConfig } from './support/test-hub';

/**
 * The request path's time limit (HUB_STATEMENT_TIMEOUT_MS, here 1 s): a table held locked, or a
 * pool every connection of which waits on it, fails the requests that need it, typed and audited,
 * instead of leaving them (and everyone behind them) without an answer. Jest's timeout is what
 * catches a hang.
 */
describe('database time limits', () => {
  let t: TestHub;
  let locker: Client;
  let police: string;
  let civil: string;
  let minorId: string;

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_STATEMENT_TIMEOUT_MS: '1000' } });
    police = await t.token(Department.POLICE);
    civil = await t.token(Department.CIVIL_AFFAIRS);
    [{ id: minorId }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
    locker = new Client({ connectionString: t.databaseUrl });
    await locker.connect();
  });
  afterAll(async () => {
    await locker?.end();
    await t?.stop();
  });

  /** Runs `probe` while another session holds `table` locked in `mode`; the lock is released whatever happens. */
  async function whileLocked<T>(table: string, mode: string, probe: () => Promise<T>): Promise<T> {
    await locker.query('BEGIN');
    try {
      await locker.query(`LOCK TABLE ${table} IN ${mode} MODE`);
      return await probe();
    } finally {
      await locker.query('ROLLBACK');
    }
  }

  async function ask(token: string, query: string, variables: Record<string, unknown> = {}) {
    const res = await fetch(t.hub.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...DEFAULT_PURPOSE },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), requestId: res.headers.get('x-request-id')!, text: await res.text() };
  }

  const refusedAsUnavailable = (r: { status: number; retryAfter: string | null; text: string }) => {
    expect(r.status).toBe(503);
    expect(r.retryAfter).toBe('5');
    const body = JSON.parse(r.text);
    expect(body.errors).toHaveLength(1);
    // Nothing of the statement, of Postgres's words or of a stack reaches the client.
    const { message, extensions, path: _path, locations: _locations, ...rest } = body.errors[0];
    expect(message).toBe('The database did not answer in time; try again shortly');
    expect(extensions).toEqual({ code: 'DATABASE_UNAVAILABLE', serviceName: 'registry' });
    expect(rest).toEqual({});
  };

  // A compiled read (src/compiled-read) hands its failure to the general path, which answers it.
  it.each([
    ['the general path', `query($id: ID!) { m: minor(id: $id) { name } }`],
    ['a compiled read', `query($id: ID!) { minor(id: $id) { name } }`],
  ])('answers a read of a table held locked DATABASE_UNAVAILABLE (503, Retry-After), audited as ERROR: %s', async (_path, query) => {
    const r = await whileLocked('registry.minor', 'ACCESS EXCLUSIVE', () => ask(police, query, { id: minorId }));
    refusedAsUnavailable(r);
    expect(await storedEventOf(t, r.requestId)).toMatchObject({ outcome: 'ERROR', errorCodes: ['DATABASE_UNAVAILABLE'], reads: [] });

    // Released, the same request is served.
    const again = await ask(police, query, { id: minorId });
    expect(again.status).toBe(200);
    expect(JSON.parse(again.text).data).toEqual({ [query.includes('m:') ? 'm' : 'minor']: { name: expect.any(String) } });
  });

  it('keeps reads stuck on one locked table from stalling a request to another one: each is answered, typed', async () => {
    const education = await t.token(Department.EDUCATION);
    const [stuck, other] = await whileLocked('registry.minor', 'ACCESS EXCLUSIVE', async () => {
      // More than the pool's 20 connections, all waiting on the lock.
      const stuck = Promise.all(Array.from({ length: 25 }, () => ask(police, `query($id: ID!) { m: minor(id: $id) { name } }`, { id: minorId })));
      const other = ask(education, `{ regions { code } }`);
      return Promise.all([stuck, other]);
    });
    for (const r of stuck) refusedAsUnavailable(r);
    // The regions table is not locked: answered, or refused for want of a connection in time — never left hanging.
    if (other.status === 200) expect(JSON.parse(other.text).data.regions.length).toBeGreaterThan(0);
    else refusedAsUnavailable(other);
    expect((await ask(education, `{ regions { code } }`)).status).toBe(200);
  });

  it('refuses a mutation whose table is held locked: nothing written, its trail STARTED then ERROR', async () => {
    const state = async () =>
      (
        await t.sql(`SELECT (SELECT count(*)::int FROM registry.visit WHERE minor_id = $1) AS visits, (SELECT next_visit_due FROM registry.minor WHERE id = $1) AS due`, [
          minorId,
        ])
      )[0];
    const before = await state();
    const mutation = `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "家访" }) { visitedAt } }`;
    const r = await whileLocked('registry.visit', 'SHARE', () => ask(civil, mutation, { id: minorId }));
    refusedAsUnavailable(r);
    expect(await state()).toEqual(before);
    const events = await eventsOf(t, r.requestId);
    expect(events.map((e) => e.outcome)).toEqual(['STARTED', 'ERROR']);
    expect(events[1].body).toMatchObject({ errorCodes: ['DATABASE_UNAVAILABLE'], changes: [] });

    // Released, the same mutation is made.
    const again = await ask(civil, mutation, { id: minorId });
    expect(again.status).toBe(200);
    expect((await state()).visits).toBe(before.visits + 1);
  });

  it('answers a guardian’s removal that waited too long for its child’s lock DATABASE_UNAVAILABLE, not NOT_FOUND for a guardian that exists', async () => {
    const [{ id, minor_id }] = await t.sql(`SELECT id, minor_id FROM registry.guardian ORDER BY id LIMIT 1`);
    const remove = `mutation($g: ID!) { removeGuardian(guardianId: $g) }`;
    await locker.query('BEGIN');
    let r;
    try {
      await locker.query(`SELECT 1 FROM registry.minor WHERE id = $1 FOR UPDATE`, [minor_id]);
      r = await ask(civil, remove, { g: id });
    } finally {
      await locker.query('ROLLBACK');
    }
    refusedAsUnavailable(r);
    expect(await t.sql(`SELECT 1 AS n FROM registry.guardian WHERE id = $1`, [id])).toEqual([{ n: 1 }]);
    const events = await eventsOf(t, r.requestId);
    expect(events.map((e) => [e.outcome, e.body.errorCodes ?? [], e.body.changes])).toEqual([
      ['STARTED', [], []],
      ['ERROR', ['DATABASE_UNAVAILABLE'], []],
    ]);
  });

  it('refuses an acknowledgement whose child the database cannot place in time: not made, nothing recorded as changed', async () => {
    const [child] = await t.sql(`SELECT id FROM registry.minor WHERE risk_level = 'YELLOW' AND grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
    const assess = `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: RED, reasons: "家暴致伤，需立即干预" }) { id } }`;
    expect(JSON.parse((await ask(civil, assess, { id: child.id })).text).errors).toBeUndefined();
    const [told] = await t.sql(`SELECT id FROM workflow.notification WHERE minor_id = $1 AND kind = 'CHILD_RED' AND department = 'EDUCATION'`, [child.id]);
    const education = await t.token(Department.EDUCATION, { user: 'edu-ack' });
    const acknowledge = `mutation($id: ID!) { acknowledge(id: $id) { acknowledgedBy } }`;
    const acknowledgedBy = async () => (await t.sql(`SELECT acknowledged_by FROM workflow.notification WHERE id = $1`, [told.id]))[0].acknowledged_by;

    // Which children the caller may be named is the registry's: held locked, the acknowledgement
    // fails whole — not made, then reported as unavailable and recorded without its change.
    const r = await whileLocked('registry.minor', 'ACCESS EXCLUSIVE', () => ask(education, acknowledge, { id: told.id }));
    expect(r.status).toBe(503);
    expect(JSON.parse(r.text).errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['DATABASE_UNAVAILABLE']);
    expect(await acknowledgedBy()).toBeNull();
    expect((await eventsOf(t, r.requestId)).map((e) => [e.outcome, e.body.changes])).toEqual([
      ['STARTED', []],
      ['ERROR', []],
    ]);

    const again = await ask(education, acknowledge, { id: told.id });
    expect([again.status, JSON.parse(again.text).data]).toEqual([200, { acknowledge: { acknowledgedBy: 'edu-ack' } }]);
    expect(await acknowledgedBy()).toBe('edu-ack');
  });

  /** Holds `table` locked in `mode` for `ms` from when it resolves; `released` settles once the lock is gone. */
  async function lockFor(table: string, mode: string, ms: number): Promise<{ released: Promise<void> }> {
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE ${table} IN ${mode} MODE`);
    return { released: new Promise((resolve) => setTimeout(() => locker.query('ROLLBACK').then(() => resolve()), ms)) };
  }

  it('refreshes the statistics on the pool without the limit: a refresh that waits longer than it completes', async () => {
    const stamp = async () => (await t.sql(`SELECT refreshed_at FROM statistics.refresh`))[0].refreshed_at.getTime();
    // The requests' pool gives up on the lock (so the wait below is longer than the limit) …
    let { released } = await lockFor('registry.minor', 'ACCESS EXCLUSIVE', 2500);
    expect(isDatabaseTimeout(await refreshStatistics(t.hub.db.ds).then(() => null, (e: unknown) => e))).toBe(true);
    await released;
    // … the slice's refresh timer, on the maintenance pool, waits it out (summaries an hour old: it refreshes).
    await t.sql(`UPDATE statistics.refresh SET refreshed_at = now() - interval '1 hour'`);
    const before = await stamp();
    ({ released } = await lockFor('registry.minor', 'ACCESS EXCLUSIVE', 2500));
    const runtime = { ds: t.hub.db.ds, maintenance: t.hub.db.maintenance, config: { ...t.config, statistics: { ...t.config.statistics, refreshSeconds: 600 } }, policy: buildPolicy(), audit: t.hub.audit };
    await statisticsSubgraph.start!(runtime).stop(); // waits for the refresh the start began
    await released;
    expect(await stamp()).toBeGreaterThan(before);
  });

  it('runs migrations without the limit: one that waits longer than it for a lock is applied', async () => {
    const databaseUrl = await cloneTemplateDatabase();
    const undo = await openDataSource(databaseUrl, undefined, 1);
    await undo.undoLastMigration({ transaction: 'each' }); // registry.is_minor and the view using it
    await undo.destroy();
    const other = new Client({ connectionString: databaseUrl });
    await other.connect();
    try {
      await other.query('BEGIN');
      // The migration replaces this view: it needs the view to itself.
      await other.query('LOCK TABLE registry.minor_jurisdiction IN ACCESS SHARE MODE');
      const released = new Promise((resolve) => setTimeout(() => other.query('ROLLBACK').then(resolve), 2500));
      const db = await openDatabase(testConfig({ databaseUrl, env: { HUB_STATEMENT_TIMEOUT_MS: '1000' } }));
      await released;
      try {
        expect(await db.ds.query(`SELECT to_regprocedure('registry.is_minor(date, timestamptz)') IS NOT NULL AS applied`)).toEqual([{ applied: true }]);
      } finally {
        await db.close();
      }
    } finally {
      await other.end();
    }
  });
});

/**
 * A hub's sessions outlive a lull (IDLE_CONNECTION_MS): node-postgres closed a connection after
 * 10 s without use, and each request after a quiet spell paid for new sessions — statements
 * prepared again, shared buffers mapped into new backends (bench/optimisations.md, entry 51).
 */
describe('database sessions through a lull', () => {
  let t: TestHub;
  let observer: Client;
  beforeAll(async () => {
    t = await startTestHub();
    observer = new Client({ connectionString: t.databaseUrl });
    await observer.connect();
  });
  afterAll(async () => {
    await observer?.end();
    await t?.stop();
  });

  it('keeps the request pool’s and the audit writer’s sessions open past node-postgres’s 10 s idle, named for whoever lists them', async () => {
    const sessions = async () =>
      (
        await observer.query(
          `SELECT pid, application_name FROM pg_stat_activity WHERE datname = current_database() AND application_name IN ('hub', 'hub audit writer') ORDER BY pid`,
        )
      ).rows as { pid: number; application_name: string }[];
    const police = await t.token(Department.POLICE);
    const r = await post(t, police, { query: `{ minors(first: 5) { edges { node { name } } } }` });
    expect(r.json.errors).toBeUndefined();
    const before = await sessions();
    expect(new Set(before.map((s) => s.application_name))).toEqual(new Set(['hub', 'hub audit writer']));
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    // Every session open before the lull is still there (the hub's jobs may have opened more).
    expect(await sessions()).toEqual(expect.arrayContaining(before));
  }, 30_000);
});

/**
 * A write whose COMMIT reaches Postgres and whose reply never comes back (a network stall, a stuck
 * pooler, a failover), played by a proxy that drops what follows the COMMIT on its connection: the
 * hub gives up on the reply after the statement limit + 1 s, then settles what became of the
 * transaction before answering — never "rolled back, try again" for a change that stands.
 */
describe('a COMMIT whose reply is lost', () => {
  let proxy: LostReplyProxy;
  let databaseUrl: string;
  let t: TestHub;
  let civil: string;
  let child: string;
  const referral = `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`;
  const REFERRAL_INSERT = 'INSERT INTO "workflow"."referral"';

  beforeAll(async () => {
    ({ t, proxy, databaseUrl } = await startHubBehindLostReplyProxy());
    civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'lost-commit' });
    [{ id: child }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' AND birth_date > now() - interval '15 years' ORDER BY id LIMIT 1`);
  });
  afterAll(async () => {
    await t?.stop();
    await proxy?.close();
  });

  /** Sends a referral of `need` for the child, with the next COMMIT after it lost as `loss`; returns the answer, what was stored and what was logged. */
  async function referWhileLosing(need: string, loss: Loss, unreachableMs?: number) {
    proxy.loseNextCommit(REFERRAL_INSERT, loss, unreachableMs);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const r = await post(t, civil, { query: referral, variables: { i: { minorId: child, type: 'EDUCATION_AID', toDepartment: Department.EDUCATION, need } } }, DEFAULT_PURPOSE);
      expect(proxy.lost()).toBe(true);
      const stored = await t.sql(
        `SELECT f.id, (SELECT count(*)::int FROM workflow.notification n WHERE n.subject_id = f.id AND n.kind = 'REFERRAL_RECEIVED') AS told FROM workflow.referral f WHERE f.need = $1`,
        [need],
      );
      return { r, stored, logged: log.mock.calls.map((c) => c.map(String).join(' ')) };
    } finally {
      log.mockRestore();
    }
  }

  it('committed: answered as made, its change in the final event, the referral stored once and its department told once', async () => {
    const { r, stored } = await referWhileLosing('回复丢失的转介', 'reply');
    expect([r.status, r.json.errors]).toEqual([200, undefined]);
    const id = r.json.data.createReferral.id;
    expect(stored).toEqual([{ id, told: 1 }]);
    const events = await eventsOf(t, r.requestId);
    expect(events.map((e) => [e.outcome, e.body.errorCodes, e.body.changes.map((c: { mutation: string; id: string }) => [c.mutation, c.id])])).toEqual([
      ['STARTED', [], []],
      ['SUCCESS', [], [['createReferral', id]]],
    ]);
  });

  it('committed, a bar listed in one statement: answered as made, stored once', async () => {
    const idNumber = buildIdNumber('330102', '1979-02-03', 415);
    proxy.loseNextCommit('INSERT INTO workflow.barred_person', 'reply');
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    let r;
    try {
      r = await post(t, await t.token(Department.POLICE), {
        query: `mutation($i: BarredPersonInput!) { addBarredPerson(input: $i) { id } }`,
        variables: { i: { idNumber, name: '王某', offence: 'ABUSE', judgementReference: '(2024)浙0102刑初7号' } },
      }, {});
    } finally {
      log.mockRestore();
    }
    expect(proxy.lost()).toBe(true);
    expect([r.status, r.json.errors]).toEqual([200, undefined]);
    expect(await t.sql(`SELECT id FROM workflow.barred_person WHERE judgement_reference = '(2024)浙0102刑初7号'`)).toEqual([{ id: r.json.data.addBarredPerson.id }]);
    expect((await storedEventOf(t, r.requestId)).changes.map((c: { mutation: string }) => c.mutation)).toEqual(['addBarredPerson']);
  });

  it('committed in a remote subgraph (distributed mode): answered as made through the gateway, its change in the event', async () => {
    const env = { HUB_STATEMENT_TIMEOUT_MS: '1000' };
    const gatewaySecret = 'test-gateway-secret-of-sufficient-length';
    const workflow = await startSubgraphServer('workflow', testConfig({ databaseUrl: proxy.url, gatewaySecret, env }), 0);
    const gateway = await startTestHub({ databaseUrl: proxy.url, gatewaySecret, subgraphUrls: { workflow: workflow.url }, env });
    try {
      const need = '子图中回复丢失的转介';
      proxy.loseNextCommit(REFERRAL_INSERT, 'reply');
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      let r;
      try {
        r = await post(gateway, await gateway.token(Department.CIVIL_AFFAIRS), { query: referral, variables: { i: { minorId: child, type: 'EDUCATION_AID', toDepartment: Department.EDUCATION, need } } }, DEFAULT_PURPOSE);
      } finally {
        log.mockRestore();
      }
      expect(proxy.lost()).toBe(true);
      expect([r.status, r.json.errors]).toEqual([200, undefined]);
      expect(await t.sql(`SELECT id FROM workflow.referral WHERE need = $1`, [need])).toEqual([{ id: r.json.data.createReferral.id }]);
      const final = await storedEventOf(gateway, r.requestId);
      expect([final.outcome, final.errorCodes, final.changes.map((c: { mutation: string }) => c.mutation)]).toEqual(['SUCCESS', [], ['createReferral']]);
    } finally {
      await gateway.stop();
      await workflow.stop();
    }
  });

  it('the COMMIT itself lost, never run: DATABASE_UNAVAILABLE, nothing stored, nothing claimed', async () => {
    const { r, stored } = await referWhileLosing('提交丢失的转介', 'commit');
    expect([r.status, r.json.errors.map((e: { message: string; extensions: { code: string } }) => [e.extensions.code, e.message])]).toEqual([
      503,
      [['DATABASE_UNAVAILABLE', 'The database did not answer in time; try again shortly']],
    ]);
    expect(stored).toEqual([]);
    const events = await eventsOf(t, r.requestId);
    expect(events.map((e) => [e.outcome, e.body.errorCodes, e.body.changes])).toEqual([
      ['STARTED', [], []],
      ['ERROR', ['DATABASE_UNAVAILABLE'], []],
    ]);
  });

  it('the database out of reach to find out: COMMIT_OUTCOME_UNKNOWN, not "try again", the event in doubt and flagged', async () => {
    // Committed, as it happens; the hub cannot know that, and must not say it was not.
    const { r, stored, logged } = await referWhileLosing('结果不明的转介', 'reply', 3000);
    expect(stored).toEqual([{ id: expect.any(String), told: 1 }]);
    expect(r.status).toBe(200); // not 503: no Retry-After inviting a second referral
    expect(r.json.errors.map((e: { message: string; extensions: Record<string, unknown> }) => [e.message, e.extensions])).toEqual([
      ['The database did not confirm whether this change was saved; check before making it again', { code: 'COMMIT_OUTCOME_UNKNOWN', serviceName: 'workflow' }],
    ]);
    // The operator is told which transaction to look up.
    expect(logged).toContainEqual(expect.stringMatching(/the outcome of transaction \d+ is unknown.*SELECT pg_xact_status\('\d+'\) tells/));
    const events = await eventsOf(t, r.requestId);
    expect(events.map((e) => [e.outcome, e.body.errorCodes, e.body.changes])).toEqual([
      ['STARTED', [], []],
      ['ERROR', ['COMMIT_OUTCOME_UNKNOWN'], []],
    ]);
    const flags = await t.gql(await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR }), `{ auditAnomalies { kind userId count description requestIds } }`, undefined, {});
    expect(flags.data.auditAnomalies.filter((f: { userId: string; kind: string }) => f.userId === 'lost-commit' && f.kind === 'ACCESS_IN_DOUBT')).toEqual([
      {
        kind: 'ACCESS_IN_DOUBT',
        userId: 'lost-commit',
        count: 1,
        description: expect.stringMatching(/^1 mutations whose commit the database did not confirm/),
        requestIds: [r.requestId],
      },
    ]);
  });
  it('one change in doubt beside another refused for want of the database: not 503, no Retry-After', async () => {
    // The refused one alone would be 503 "try again shortly"; the whole request retried would make
    // the referral, which may well be stored, a second time.
    const need = '结果不明的转介（两个变更）';
    const locker = new Client({ connectionString: databaseUrl });
    await locker.connect();
    proxy.loseNextCommit(REFERRAL_INSERT, 'reply', 3000);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    let r;
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE registry.guardian IN EXCLUSIVE MODE'); // the guardian's INSERT waits, reads pass
      r = await post(
        t,
        civil,
        {
          query: `mutation($i: CreateReferralInput!, $m: ID!) { a: createReferral(input: $i) { id } b: addGuardian(minorId: $m, input: { relationship: FATHER, name: "张三" }) { id } }`,
          variables: { i: { minorId: child, type: 'EDUCATION_AID', toDepartment: Department.EDUCATION, need }, m: child },
        },
        DEFAULT_PURPOSE,
      );
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
      log.mockRestore();
    }
    expect(proxy.lost()).toBe(true);
    expect(await t.sql(`SELECT count(*)::int AS n FROM workflow.referral WHERE need = $1`, [need])).toEqual([{ n: 1 }]);
    expect(r.json.errors.map((e: { path: string[]; extensions: { code: string } }) => [e.path.join('.'), e.extensions.code])).toEqual([
      ['a', 'COMMIT_OUTCOME_UNKNOWN'],
      ['b', 'DATABASE_UNAVAILABLE'],
    ]);
    expect([r.status, r.headers.get('retry-after')]).toEqual([200, null]);
  });
});
