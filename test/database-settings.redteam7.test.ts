import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { auditEvent } from '../src/audit/audit-event';
import { AuditOutcome } from '../src/audit/audit.types';
import { AuditWriter, auditWriterPool } from '../src/audit/audit.writer';
import { Access } from '../src/policy/policy.types';
import { Department, Role } from '../src/auth/principal';
import { DEMO_ROOT_REGION } from '../src/subgraphs/registry/registry.constants';
import { openDataSource } from '../src/db/data-source';
import { refreshStatistics } from '../src/subgraphs/statistics';
import { errorCodes, startTestHub, TestHub, testConfig, asAdministrator, databaseWith } from './support/test-hub';
import { startHub } from '../src/server/hub.server';

/** The ordinary work of a day through the public endpoint: a list and its next page, a write, the trail and its check. */
async function ordinaryDay(t: TestHub): Promise<void> {
  const civil = await t.token(Department.CIVIL_AFFAIRS);
  const list = await t.gql(civil, `{ minors(first: 5) { edges { cursor node { id name birthDate age } } } }`);
  expect(list.errors).toBeUndefined();
  const next = await t.gql(civil, `query($a: String) { minors(first: 5, after: $a) { edges { node { id } } } }`, { a: list.data.minors.edges[4].cursor });
  expect(next.errors).toBeUndefined();
  const id = list.data.minors.edges[0].node.id;
  const v = await t.gql(civil, `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "入户走访：王小雨" }) { id notes } }`, { id });
  expect(v.errors).toBeUndefined();
  expect(v.data.recordVisit.notes).toBe('入户走访：王小雨');
  const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR });
  const chain = await t.gql(auditor, `{ auditVerify { ok } }`, undefined, {});
  expect(chain.errors).toBeUndefined();
  expect(chain.data.auditVerify.ok).toBe(true);
  await refreshStatistics(t.hub.db.maintenance);
}

/**
 * Operators and functions resolve through the session's search_path. Postgres searches pg_catalog
 * first only when the path does not name it: a path set for the database, the role or the cluster
 * as `public, pg_catalog` let whoever can create in public (or an extension installed there) stand
 * in for `=` or now() in the hub's statements — its jurisdiction checks among them.
 */
describe('a search_path set by someone else', () => {
  it('does not redirect the operators and functions of the hub’s statements', async () => {
    const redirected = (name: string, args: string, returns: string) =>
      `CREATE FUNCTION public.${name}(${args}) RETURNS ${returns} LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'redirected: ${name}'; END $$`;
    const databaseUrl = await databaseWith([
      redirected('uuid_eq', 'uuid, uuid', 'boolean'),
      `CREATE OPERATOR public.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = public.uuid_eq)`,
      redirected('text_eq', 'text, text', 'boolean'),
      `CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.text_eq)`,
      redirected('now', '', 'timestamptz'),
      redirected('lower', 'text', 'text'),
      `ALTER DATABASE DB SET search_path = public, pg_catalog`,
    ]);
    const t = await startTestHub({ databaseUrl });
    try {
      await ordinaryDay(t);
    } finally {
      await t.stop();
    }
  });

  it('a schema first in the path (the login role’s own, "$user") does not hide the hub’s migrations table', async () => {
    const databaseUrl = await databaseWith([`CREATE SCHEMA elsewhere`, `CREATE SCHEMA AUTHORIZATION CURRENT_USER`, `ALTER DATABASE DB SET search_path = elsewhere, public`]);
    const t = await startTestHub({ databaseUrl });
    try {
      await ordinaryDay(t);
      expect(await t.sql(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'hub_migrations'`)).toEqual([{ n: 1 }]);
    } finally {
      await t.stop();
    }
  });

  it('a database migrated under another path is refused, saying where its migrations table is', async () => {
    const databaseUrl = await databaseWith([`CREATE SCHEMA elsewhere`, `ALTER TABLE public.hub_migrations SET SCHEMA elsewhere`]);
    const started = await startHub(testConfig({ databaseUrl })).then(
      (hub) => hub.stop().then(() => 'started'),
      (e: Error) => e.message,
    );
    expect(started).toMatch(/migrations table is in elsewhere, not public/);
    await asAdministrator(databaseUrl, [`SELECT 1 FROM elsewhere.hub_migrations`]);
  });

  it('an empty path does too', async () => {
    const t = await startTestHub({ databaseUrl: await databaseWith([`ALTER DATABASE DB SET search_path = ''`]) });
    try {
      await ordinaryDay(t);
    } finally {
      await t.stop();
    }
  });
});

/**
 * Every request writes its audit event: a database whose transactions are read only (the
 * database's or the role's default_transaction_read_only, or a standby) started the hub, which then
 * answered every request AUDIT_UNAVAILABLE and every write an internal error. It refuses to start.
 */
describe('a database whose transactions are read only', () => {
  it('the hub refuses to start, saying why', async () => {
    const databaseUrl = await databaseWith([`ALTER DATABASE DB SET default_transaction_read_only = on`]);
    const started = await startHub(testConfig({ databaseUrl })).then(
      (hub) => hub.stop().then(() => 'started'),
      (e: Error) => e.message,
    );
    expect(started).toMatch(/read.only/i);
  });
});

/**
 * Under session_replication_role = replica (set for the database or the login role, as for a
 * replication apply or a restore) Postgres fires no ordinary trigger: foreign keys, their cascades
 * and audit.event's append-only guard stood unenforced on every session of the hub.
 */
describe('a database whose sessions replicate (session_replication_role)', () => {
  it('the hub refuses to start, saying why, where the audit trail would have been left unguarded', async () => {
    const databaseUrl = await databaseWith([`ALTER DATABASE DB SET session_replication_role = replica`]);
    const probe = new Client({ connectionString: databaseUrl });
    await probe.connect();
    try {
      await probe.query(`BEGIN`);
      // The trail's guard does not fire: the login role may empty it.
      await probe.query(`TRUNCATE audit.event`);
      await probe.query(`ROLLBACK`);
    } finally {
      await probe.end();
    }
    const started = await startHub(testConfig({ databaseUrl })).then(
      (hub) => hub.stop().then(() => 'started'),
      (e: Error) => e.message,
    );
    expect(started).toMatch(/session_replication_role/);
  });
});

/**
 * gin_fuzzy_search_limit, set for the database to bound what a GIN index scan returns, drops matches
 * at random past it: “who looked at this child” (minorAccessHistory, auditEvents by minorId, both
 * on the GIN index of audit.event's minor_ids once the trail is large) answered a random sample of
 * the accesses as if it were all of them.
 */
describe('a GIN search limit set for the database', () => {
  it('does not thin out a child’s access history', async () => {
    // enable_seqscan and enable_indexscan off stand in for a trail large enough that the planner takes the index anyway.
    const databaseUrl = await databaseWith([`ALTER DATABASE DB SET gin_fuzzy_search_limit = 20`, `ALTER DATABASE DB SET enable_seqscan = off`, `ALTER DATABASE DB SET enable_indexscan = off`]);
    const t = await startTestHub({ databaseUrl });
    const pool = auditWriterPool(databaseUrl, 5000, '[test]');
    try {
      const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
      const writer = new AuditWriter(pool);
      const looked = 1500;
      await Promise.all(
        Array.from({ length: looked }, (_, i) =>
          writer.append(
            auditEvent({
              requestId: randomUUID(),
              startedAt: performance.now(),
              principal: { userId: `officer-${i}`, department: Department.POLICE, role: Role.OFFICER, region: DEMO_ROOT_REGION } as never,
              clientAddress: '127.0.0.1',
              outcome: AuditOutcome.SUCCESS,
              errorCodes: [],
              operationName: null,
              operationType: 'query',
              document: { text: '{minor(id:"x"){name}}', hash: '0'.repeat(64) },
              variables: {},
              purpose: null,
              access: { reads: [{ minorIds: [id], fields: { 'Minor.name': Access.ALLOW } }], changes: [] },
            }),
          ),
        ),
      );
      // As a vacuum does, the index's pending entries into its posting tree.
      await t.sql(`SELECT gin_clean_pending_list('audit.event_minor_idx')`);
      await t.sql(`ANALYZE audit.event`);
      const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR });
      const history = await t.gql(auditor, `query($id: ID!) { minorAccessHistory(minorId: $id, first: 1000) { seq } }`, { id }, {});
      expect(history.errors).toBeUndefined();
      expect(history.data.minorAccessHistory.length).toBe(1000);
      const events = await t.gql(auditor, `query($id: ID!) { auditEvents(first: 500, filter: { minorId: $id }) { edges { node { seq } } } }`, { id }, {});
      expect(events.errors).toBeUndefined();
      expect(events.data.auditEvents.edges.length).toBe(500);
    } finally {
      await pool.end();
      await t.stop();
    }
  });
});

/**
 * Migrations, the demo seed and the statistics refresh run without the requests' time limits (they
 * take minutes at city scale): a statement_timeout or lock_timeout set for the database, the role
 * or the cluster applied to them all the same, and the statistics stopped refreshing at scale.
 */
describe('time limits set for the database', () => {
  it('bound the requests by the hub’s own, and leave the maintenance pool unbounded', async () => {
    const databaseUrl = await databaseWith([`ALTER DATABASE DB SET statement_timeout = 50`, `ALTER DATABASE DB SET lock_timeout = 10`]);
    const ds = await openDataSource(databaseUrl, undefined, 1);
    try {
      expect(await ds.query(`SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l`)).toEqual([{ s: '0', l: '0' }]);
      await ds.query(`SELECT pg_sleep(0.2)`);
    } finally {
      await ds.destroy();
    }
  });
});

/**
 * transaction_timeout (Postgres 17) set for the database ends a session whose transaction runs
 * longer, with 25P04: the statistics refresh (one transaction, minutes at city scale) could never
 * finish, and a request's transaction ended so was answered an internal error, where Postgres had
 * rolled it back and the same request again may pass.
 */
describe('a transaction_timeout set for the database', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ databaseUrl: await databaseWith([`ALTER DATABASE DB SET transaction_timeout = '300ms'`]) });
  });
  afterAll(() => t.stop());

  it('does not bound the maintenance pool’s transactions', async () => {
    await t.hub.db.maintenance.transaction(async (em) => {
      await em.query(`SELECT pg_sleep(0.5)`);
    });
  });

  it('a request’s transaction it ends is answered DATABASE_UNAVAILABLE, with nothing written', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
    const [{ n: before }] = await t.sql(`SELECT count(*)::int AS n FROM registry.visit WHERE minor_id = $1`, [id]);
    const holder = new Client({ connectionString: t.databaseUrl });
    await holder.connect();
    try {
      await holder.query(`SET transaction_timeout = 0`);
      await holder.query(`BEGIN`);
      await holder.query(`SELECT 1 FROM registry.minor WHERE id = $1 FOR UPDATE`, [id]);
      const visit = t.gql(await t.token(Department.CIVIL_AFFAIRS), `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "入户走访" }) { id } }`, { id });
      await new Promise((r) => setTimeout(r, 800));
      await holder.query(`ROLLBACK`);
      expect(errorCodes(await visit)).toEqual(['DATABASE_UNAVAILABLE']);
    } finally {
      await holder.end();
    }
    expect(await t.sql(`SELECT count(*)::int AS n FROM registry.visit WHERE minor_id = $1`, [id])).toEqual([{ n: before }]);
  });
});
