import { Client } from 'pg';
import { SESSION_FORMAT } from './session-format';

/**
 * How much longer than a statement's own timeout the hub waits for its reply. The server's
 * `statement_timeout` answers first when it can (a clean error, nothing in doubt); this margin
 * is what that error may take to arrive.
 */
export const REPLY_MARGIN_MS = 1000;

/**
 * How long a request pool keeps a connection no request uses: ten minutes, where node-postgres
 * closes one after 10 s. A session opened after a lull starts cold — its statements prepared
 * again, and each shared buffer it reads mapped into the new backend the first time: for the
 * first seconds of load after 15 s without a request, a page of 100 children cost Postgres twice
 * its CPU and answered at the 99th percentile in about 1 s instead of 200 ms (bench/optimisations.md,
 * entry 51). A burst after a quiet minute is how department systems call.
 */
export const IDLE_CONNECTION_MS = 10 * 60_000;

/**
 * node-postgres pool options bounding every wait of a session on `timeoutMs`: each statement and
 * each lock it waits for (`statement_timeout`, `lock_timeout`: Postgres cancels it), a transaction
 * left idle (`idle_in_transaction_session_timeout`: Postgres ends the session, so its locks go),
 * a connection from the pool or to the server (`connectionTimeoutMillis`), and the reply
 * (`query_timeout`, `REPLY_MARGIN_MS` longer: what `statement_timeout` cannot cover — a commit
 * waiting on its WAL flush, a server that is never heard from again). `extraOptions`: further
 * `-c` settings of the session, after the hub's SESSION_FORMAT.
 */
export function boundedPoolOptions(timeoutMs: number, extraOptions = '') {
  const limits = ['statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout'].map((s) => `-c ${s}=${timeoutMs}`).join(' ');
  return {
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs + REPLY_MARGIN_MS,
    options: `${SESSION_FORMAT} ${extraOptions} ${limits}`.replace(/\s+/g, ' '),
  };
}

/**
 * A connection whose reply did not come within `query_timeout`: node-postgres gives up on the
 * query but keeps the connection, still busy with it, and hands it back to the pool, where every
 * later statement would queue behind a reply that may never come. It is closed instead, and the
 * pool opens another. What the lost session had open is rolled back only if Postgres had not yet
 * received its COMMIT: a transaction whose COMMIT reply is the one lost may have committed, and is
 * settled before it is answered (src/db/commit-outcome.ts).
 */
export class ReplyBoundClient extends Client {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const sent = (Client.prototype.query as (...a: unknown[]) => unknown).apply(this, args);
    if (sent instanceof Promise) sent.catch((e: unknown) => (e as Error)?.message === 'Query read timeout' && this.lose());
    return sent;
  }

  private lose(): void {
    (this as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  }
}
