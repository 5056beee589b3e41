/**
 * What the audit writer and the requests' transactions share about a connection lost with a write
 * in flight (a COMMIT, a batch's INSERT): until the server process of that session has ended, it
 * may still be running the write and commit it, so the outcome is looked up only once it has gone.
 */

/** The server process behind a connection: its pid and its start (pids are reused). */
export interface Backend {
  pid: number;
  started: string;
}

/** The columns of `pg_stat_activity` that make a `Backend`. */
export const BACKEND_COLUMNS = `pid, extract(epoch FROM backend_start)::text AS started`;

// Ends that process if it still runs, waiting (up to 500 ms) until it has gone. No row: it has gone.
const END_BACKEND = `SELECT pg_terminate_backend(pid, 500) FROM pg_stat_activity WHERE pid = $1 AND extract(epoch FROM backend_start) = $2::numeric`;

/** How long a lost write may be settled for: reaching the database, and the lost session ending. */
export const SETTLE_WAIT_MS = 2000;

interface Queryable {
  query(text: string, values: unknown[]): Promise<{ rowCount: number | null }>;
}

/**
 * Ends the process of `backend`, from another session that may signal it (the same login role),
 * and returns once it has gone. Each statement its own transaction: a fresh view of pg_stat_activity.
 */
export async function endBackend(client: Queryable, backend: Backend, until: number): Promise<void> {
  while ((await client.query(END_BACKEND, [backend.pid, backend.started])).rowCount) {
    if (Date.now() >= until) throw new Error(`the lost session (pid ${backend.pid}) has not ended`);
  }
}

/**
 * `look` (on a fresh connection: end the lost session, then see what it left) until it answers. A
 * connection that fails too is tried again (the database restarting, the network recovering) for up
 * to SETTLE_WAIT_MS; then, or on any other error, the outcome is not known: `inDoubt` of the error.
 */
export async function settleWithin<T>(look: (until: number) => Promise<T>, inDoubt: (cause: unknown) => Error): Promise<T> {
  const until = Date.now() + SETTLE_WAIT_MS;
  for (;;) {
    try {
      return await look(until);
    } catch (e) {
      if (Date.now() >= until || !(isConnectionLoss(e) || isUnreachable(e))) throw inDoubt(e);
      await sleep(50);
    }
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The server ended the session (administrator command, crash, shutdown, the database dropped, an
 * idle_session_timeout set for the database, the role or the cluster: SQLSTATE class 57P — every
 * code of it — and 08), the socket closed under the query, or no reply came in time
 * (`query_timeout`: whatever was sent may still run, as on a closed socket). Errors about the
 * statement itself are not. A pooled session the server ends while it idles is dropped by the pool
 * as a rule; one handed out in the same turn of the event loop (a busy process) has its next
 * statement answered 57P05 over TCP (EPIPE over a Unix socket), and was a refused audit append and
 * a masked internal error. Looks through a TypeORM QueryFailedError to the driver's error.
 */
export function isConnectionLoss(e: unknown): boolean {
  const { code, message, driverError } = e as { code?: string; message?: string; driverError?: unknown };
  if (driverError) return isConnectionLoss(driverError);
  if (code && /^(57P[0-9A-Z]{2}|08\d{3}|ECONNRESET|EPIPE)$/.test(code)) return true;
  // node-postgres's refusal of a statement on a client whose session ended between two statements.
  return !code && /^(Connection terminated|connection error|Query read timeout$|Client has encountered a connection error and is not queryable)/i.test(message ?? '');
}

/** Postgres could not be reached at all (nothing was sent); ENOENT: its Unix socket is gone while it restarts. */
export function isUnreachable(e: unknown): boolean {
  return /^(ECONNREFUSED|ENOENT|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)$/.test((e as { code?: string }).code ?? '');
}
