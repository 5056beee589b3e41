import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { SUBGRAPHS } from '../subgraphs';
import { loggableSummary } from '../errors/hub.exception';
import { MAINTENANCE_POOL, MAINTENANCE_SESSION, withoutSessionEndingTimeouts } from './session-format';
import { StatementCounter } from './statement-counter';
import { settlingLostCommits } from './commit-outcome';
import { boundedPoolOptions, IDLE_CONNECTION_MS, ReplyBoundClient } from './time-limits';

function dataSource(url: string, statements: StatementCounter, extra: Record<string, unknown>): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: SUBGRAPHS.flatMap((s) => s.entities),
    migrations: SUBGRAPHS.flatMap((s) => s.migrations),
    migrationsTableName: 'hub_migrations',
    synchronize: false,
    logging: ['query'],
    logger: statements,
    extra,
  });
}

/**
 * The advisory lock under which a database is migrated and seeded (any constant that is this
 * hub's alone): replicas starting at once, or a rolling deploy, would otherwise each run the
 * pending migrations (one crashes on a duplicate schema or table) and each seed an empty registry.
 */
const PREPARE_LOCK = 0x6875625f6d6967n; // "hub_mig"

/**
 * Every slice's tables, each slice's in the Postgres schema named after it, with no time limit on
 * the database: migrations (run here, never `synchronize`), seeding and the statistics refresh
 * legitimately run for minutes at city scale. Not for requests (openRequestDataSource).
 *
 * Migrations, then `prepare` (the demo seed), run holding PREPARE_LOCK, taken on a connection of
 * their own, so one process at a time does them and the next finds them done: what is pending is
 * decided once the lock is held.
 */
export async function openDataSource(url: string, statements = new StatementCounter(), max = 20, prepare?: (ds: DataSource) => Promise<void>): Promise<DataSource> {
  const lock = new Client({ connectionString: url, options: MAINTENANCE_SESSION });
  // The lock's session lost (a restart, an administrator ending it): the lock went with it, and
  // another process may have migrated or seeded alongside. The start fails, to be made again.
  let lockLost: Error | undefined;
  lock.on('error', (e) => (lockLost ??= e));
  await lock.connect();
  const ds = dataSource(url, statements, { max, ...MAINTENANCE_POOL });
  try {
    await withoutSessionEndingTimeouts(lock);
    await lock.query('SELECT pg_advisory_lock($1)', [PREPARE_LOCK.toString()]);
    await ds.initialize();
    await refuseUnwritable(ds);
    await refuseTriggersOff(ds);
    await refuseMigrationsTableElsewhere(ds);
    await ds.runMigrations({ transaction: 'each' });
    await prepare?.(ds);
    if (lockLost) throw new Error(`the session holding the migrations' lock was lost while they ran (${loggableSummary(lockLost)}): another process may have migrated or seeded at the same time; start again`);
    return ds;
  } catch (e) {
    if (ds.isInitialized) await ds.destroy();
    throw e;
  } finally {
    // Ending the session releases its advisory lock.
    await lock.end();
  }
}

/**
 * Every request appends to the audit trail: on a database whose transactions are read only (its or
 * the login role's default_transaction_read_only, a standby) the hub started and then answered every
 * request AUDIT_UNAVAILABLE and every write an internal error. It does not start instead.
 */
async function refuseUnwritable(ds: DataSource): Promise<void> {
  const [{ readOnly, standby }] = await ds.query(`SELECT current_setting('transaction_read_only') = 'on' AS "readOnly", pg_is_in_recovery() AS standby`);
  if (readOnly || standby) {
    throw new Error(
      standby
        ? 'DATABASE_URL is a standby (read only): the hub writes every request to its audit trail and needs the primary'
        : 'the database\'s transactions are read only (default_transaction_read_only set for the database, the role or the cluster): the hub writes every request to its audit trail and does not start',
    );
  }
}

/**
 * Under session_replication_role `replica` (or `local`) set for the database or the login role, as
 * for a replication apply or a restore, Postgres fires no ordinary trigger in the hub's sessions:
 * no foreign key or its cascade, and no append-only guard on audit.event. Only a superuser may set
 * it, so a session cannot take it back (`-c`): the hub does not start instead.
 */
async function refuseTriggersOff(ds: DataSource): Promise<void> {
  const [{ role }] = await ds.query(`SELECT current_setting('session_replication_role') AS role`);
  if (role !== 'origin') {
    throw new Error(`session_replication_role is '${role}' for the hub's sessions (set for the database, the role or the cluster): foreign keys and the audit trail's append-only guard would not be enforced; the hub does not start`);
  }
}

/**
 * The hub's sessions look for `hub_migrations` in public (SESSION_FORMAT's search_path). Its tables
 * there without it are a database migrated under another search_path: running every migration again
 * would fail on the first (`schema "registry" already exists`), saying nothing of why.
 */
async function refuseMigrationsTableElsewhere(ds: DataSource): Promise<void> {
  const [{ elsewhere }] = await ds.query(
    `SELECT string_agg(quote_ident(schemaname), ', ') AS elsewhere FROM pg_catalog.pg_tables
      WHERE tablename = 'hub_migrations' AND schemaname <> 'public' AND to_regclass('public.hub_migrations') IS NULL AND to_regnamespace('registry') IS NOT NULL`,
  );
  if (elsewhere) throw new Error(`the hub's migrations table is in ${elsewhere}, not public: move it (ALTER TABLE … SET SCHEMA public) before starting the hub`);
}

/**
 * The pool every in-process subgraph answers requests from, each wait on the database bounded by
 * `timeoutMs` (boundedPoolOptions): a table someone holds locked, or a server that stops
 * answering, fails the requests that need it (DATABASE_UNAVAILABLE) instead of holding its
 * connections until none is left for anyone. A transaction whose COMMIT reply is lost is settled
 * (settlingLostCommits): answered as committed, rolled back or unknown, as it ended. Opened on a
 * migrated database.
 */
export async function openRequestDataSource(url: string, timeoutMs: number, statements: StatementCounter): Promise<DataSource> {
  const ds = dataSource(url, statements, {
    max: 20,
    idleTimeoutMillis: IDLE_CONNECTION_MS,
    application_name: 'hub',
    Client: ReplyBoundClient,
    ...boundedPoolOptions(timeoutMs),
  });
  await ds.initialize();
  settlingLostCommits(ds, url);
  return ds;
}
