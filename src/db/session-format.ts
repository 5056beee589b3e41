/**
 * `-c` settings every session of the hub starts with, whatever the database, role or cluster set.
 *
 * DateStyle: node-postgres reads dates and times in the ISO output style only: under another
 * DateStyle ('SQL, DMY', 'German') it read every timestamptz as null and handed a `date` cast to text
 * on as '17/10/2021' — a child's birth date served in another format, `age` an internal error,
 * deadlines null, next visits computed from nulls. The hub writes only ISO 8601, which every style reads.
 *
 * search_path: every table of the hub is named with its schema, but the operators and functions of
 * its statements (`=`, now(), lower() …) resolve through the path, and Postgres searches pg_catalog
 * first only when the path does not name it. A path set as `public, pg_catalog` let whoever may
 * create in public (or an extension installed there) stand in for the `=` of a jurisdiction check;
 * a path starting with another schema (the login role's own, `"$user"`) or empty hid TypeORM's
 * `hub_migrations` (named without a schema), and the hub ran its migrations again from the first.
 * `public` alone: pg_catalog ahead of it, and `hub_migrations` where a default install made it.
 *
 * gin_fuzzy_search_limit: past it a GIN index scan drops matches at random. “Who looked at this
 * child” (minorAccessHistory, auditEvents by minorId: the GIN index of audit.event's minor_ids)
 * answered 16 of a child's 1500 accesses as if they were all.
 */
export const SESSION_FORMAT = '-c DateStyle=ISO -c search_path=public -c gin_fuzzy_search_limit=0';

/**
 * Sessions that migrate, seed, refresh the statistics or re-walk the trail: without the requests'
 * time limits (they run for minutes at city scale) — a statement_timeout, lock_timeout or
 * idle_in_transaction_session_timeout set for the database, the role or the cluster included, under
 * which the statistics stopped refreshing, and a transaction waiting between its statements (a
 * seed generating its next rows) was ended.
 */
export const MAINTENANCE_SESSION = `${SESSION_FORMAT} -c statement_timeout=0 -c lock_timeout=0 -c idle_in_transaction_session_timeout=0`;

/**
 * Limits of later servers that end a maintenance session, set for the database, the role or the
 * cluster. transaction_timeout (Postgres 17) ended their transactions — the statistics refresh is
 * one, minutes at city scale. idle_session_timeout (Postgres 14) ended the session holding the
 * migrations' advisory lock, idle while the migrations and the seed ran on others: the lock went to
 * the next replica mid-migration, and the hub died of the lost session (its `error` unhandled),
 * start after start, wherever migrating took longer than that limit.
 * Not `-c` options: a server without one refuses the connection over a setting it does not know.
 * Taken back on each new connection where the server has them (node-postgres' `onConnect`).
 */
export async function withoutSessionEndingTimeouts(client: { query(text: string): Promise<unknown> }): Promise<void> {
  await client.query(`SELECT pg_catalog.set_config(name, '0', false) FROM pg_catalog.pg_settings WHERE name IN ('transaction_timeout', 'idle_session_timeout')`);
}

/** node-postgres options of a maintenance session (MAINTENANCE_SESSION, withoutSessionEndingTimeouts). */
export const MAINTENANCE_POOL = { options: MAINTENANCE_SESSION, onConnect: withoutSessionEndingTimeouts };
