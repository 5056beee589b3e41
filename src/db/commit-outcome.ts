import type { DataSource, EntityManager } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';
import { COMMIT_OUTCOME_UNKNOWN_MESSAGE, HubErrorCode, HubException } from '../errors/hub.exception';
import { type Backend, BACKEND_COLUMNS, endBackend, isConnectionLoss, settleWithin, SETTLE_WAIT_MS } from './lost-session';
import { boundedPoolOptions, ReplyBoundClient } from './time-limits';

type Work = (em: EntityManager) => Promise<unknown>;

/** What a transaction wrote, if anything (`xid` null: nothing), and the server process it ran in. */
type Mark = Backend & { xid: string | null };

// Read last in the transaction, before its COMMIT: one statement.
const MARK = `SELECT pg_current_xact_id_if_assigned()::text AS xid, ${BACKEND_COLUMNS} FROM pg_stat_activity WHERE pid = pg_backend_pid()`;

/** Transactions that declared themselves read-only (`readOnly`): they have nothing to settle. */
const readOnlyManagers = new WeakSet<EntityManager>();

/** Makes the transaction of `em` read-only, so that its COMMIT needs no settling if its reply is lost. */
export async function readOnly(em: EntityManager): Promise<void> {
  await em.query('SET TRANSACTION READ ONLY');
  readOnlyManagers.add(em);
}

/** How a lost COMMIT's transaction ended, once its session has: `pg_xact_status` (committed, aborted; null: too old to tell). */
type Outcome = string | null;

/**
 * Makes `ds.transaction` settle a COMMIT whose reply is lost (no reply within `query_timeout`, the
 * connection dropped: a network stall, a stuck pooler or proxy, a failover) instead of answering it
 * as a rollback. Postgres may have committed: the change, its notifications and webhook deliveries
 * would stand while the client was told to try again (a second referral, everyone notified twice)
 * and the trail recorded no change. So each transaction that wrote reads, just before its COMMIT,
 * its transaction id and server process (one statement; none for a `readOnly` one), and a COMMIT
 * lost so is settled as the audit writer settles a lost batch: from a connection of its own (outside
 * the pool, which may be full) that session is ended and waited for — once it has gone its
 * transaction is over for good — then `pg_xact_status` says how: committed, the transaction's result
 * is answered (and its change recorded as any other); aborted, the error stands (DATABASE_UNAVAILABLE
 * for a timeout: nothing was done, try again); anything else, or the database not reached within
 * SETTLE_WAIT_MS, COMMIT_OUTCOME_UNKNOWN — the change may be stored, so retrying is not safe, and the
 * event is in doubt. An error Postgres answered the COMMIT with (a serialization failure, a deferred
 * constraint) is a rollback and stands. So every write of a request goes through `transaction`: a
 * statement sent alone (`ds.query`) commits with no COMMIT to settle, and its lost reply would be
 * answered as a rollback. `url`: the pool's database.
 */
export function settlingLostCommits(ds: DataSource, url: string): void {
  const transaction = ds.transaction.bind(ds) as (...args: [IsolationLevel, Work] | [Work]) => Promise<unknown>;
  ds.transaction = (async (...args: [IsolationLevel, Work] | [Work]) => {
    const [isolation, run] = args.length === 2 ? args : [undefined, args[0]];
    let mark: Mark | undefined;
    let result: unknown;
    const marked: Work = async (em) => {
      result = await run(em);
      if (!readOnlyManagers.has(em)) [mark] = await em.query(MARK);
      return result;
    };
    try {
      return await (isolation ? transaction(isolation, marked) : transaction(marked));
    } catch (e) {
      // Only the COMMIT follows the mark; a transaction that wrote nothing changes nothing, lost or not.
      if (!mark?.xid || !isConnectionLoss(e)) throw e;
      const outcome = await outcomeOf(url, mark).catch((cause: unknown) => cause as Error);
      if (outcome === 'committed') {
        console.error(`[hub] the reply to a COMMIT was lost (${(e as Error).message}); transaction ${mark.xid} committed, and is answered so`);
        return result;
      }
      if (outcome === 'aborted') throw e;
      // For the operator who checks the records the event in doubt names: the transaction to look up.
      const why = outcome instanceof Error ? outcome.message : `pg_xact_status: ${outcome}`;
      console.error(`[hub] the outcome of transaction ${mark.xid} is unknown, its COMMIT's reply lost (${(e as Error).message}; ${why}): SELECT pg_xact_status('${mark.xid}') tells`);
      throw new HubException(HubErrorCode.COMMIT_OUTCOME_UNKNOWN, COMMIT_OUTCOME_UNKNOWN_MESSAGE);
    }
  }) as DataSource['transaction'];
}

/** Ends the session of `mark` and returns how its transaction ended. */
function outcomeOf(url: string, mark: Mark): Promise<Outcome> {
  return settleWithin(
    async (until) => {
      const client = new ReplyBoundClient({ connectionString: url, ...boundedPoolOptions(SETTLE_WAIT_MS) });
      client.on('error', () => undefined); // a loss reaches the query in flight; the client is dropped
      try {
        await client.connect();
        await endBackend(client, mark, until);
        const { rows }: { rows: { status: Outcome }[] } = await client.query('SELECT pg_xact_status($1::xid8) AS status', [mark.xid]);
        return rows[0].status;
      } finally {
        void client.end().catch(() => undefined);
      }
    },
    (cause) => (cause instanceof Error ? cause : new Error(String(cause))),
  );
}
