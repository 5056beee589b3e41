import { Pool, type PoolClient, type QueryResult } from 'pg';
import { type Backend, BACKEND_COLUMNS, endBackend, isConnectionLoss, settleWithin, SETTLE_WAIT_MS } from '../db/lost-session';
import { boundedPoolOptions, IDLE_CONNECTION_MS } from '../db/time-limits';
import { loggableSummary } from '../errors/hub.exception';
import type { ChainAnchor } from './audit.anchor';
import type { AuditEventBody } from './audit.types';
import { canonicalJson, chainHash, GENESIS_HASH, indexColumns } from './canonical';

interface Pending {
  body: AuditEventBody;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** Where audit events go. */
export interface AuditSink {
  /** Settles once the event is durable; the caller releases no data before that. */
  append(body: AuditEventBody): Promise<void>;
  /** Resolves once everything appended so far is written (or failed). */
  drain(): Promise<void>;
  /** The newest event this process wrote (committed), null before its first: what its anchors vouch for (audit.anchor.ts). */
  written(): ChainAnchor | null;
}

/** Benchmarks only (HUB_BENCH_DISABLE=audit): measures what the trail costs by dropping it. */
export class DiscardingAuditSink implements AuditSink {
  async append(): Promise<void> {}
  async drain(): Promise<void> {}
  written(): null {
    return null;
  }
}

// Each event's columns are parameters of their own, in a VALUES row: Postgres takes a text
// parameter as it is, where one JSON parameter for the batch (entry 18) was parsed twice — to check
// it, then by json_to_recordset — about 15 µs of its backend's CPU per event (bench/RESULTS.md,
// entry 55). No value needs escaping: the body is JSON.stringify's output, and the other columns
// are checked where they are made (isTokenSubject, the codes' enums), so none holds a NUL or an
// unpaired surrogate.
const APPEND_INTO = 'INSERT INTO audit.event (seq, prev_hash, hash, body, request_id, occurred_at, user_id, department, region, outcome, purpose, minor_ids) VALUES ';
const APPEND_COLUMNS = 12;
/**
 * Batches of up to this many events are named statements, each size parsed and planned once per
 * connection; larger ones, which only a burst of requests makes, are planned each time.
 */
const PREPARED_BATCH = 64;
/** Postgres's bound on a statement's parameters. */
const MAX_BATCH = Math.floor(65535 / APPEND_COLUMNS);

const appendTexts: string[] = [];
function appendStatement(events: number): { name?: string; text: string } {
  let text = appendTexts[events];
  if (!text) {
    const rows = [];
    for (let e = 0, p = 1; e < events; e++) {
      const row = [];
      for (let c = 0; c < APPEND_COLUMNS; c++) row.push(`$${p++}`);
      rows.push(`(${row.join(', ')})`);
    }
    text = APPEND_INTO + rows.join(', ');
    if (events <= PREPARED_BATCH) appendTexts[events] = text;
  }
  return events <= PREPARED_BATCH ? { name: `audit-append-${events}`, text } : { text };
}

const READ_HEAD = 'SELECT seq, hash FROM audit.event ORDER BY seq DESC LIMIT 1';
type HeadRow = { seq: string; hash: string };
const headOf = (rows: HeadRow[]): Head => (rows.length ? { seq: Number(rows[0].seq), hash: rows[0].hash } : { seq: 0, hash: GENESIS_HASH });

/** How long a batch keeps retrying `seq` conflicts with other writers, and lost connections, before it is refused. */
const RETRY_WINDOW_MS = 2000;
/**
 * A batch's retry after a collision: the trail's append lock alone, then the head, which must be
 * read after the lock is granted: READ COMMITTED whatever the database's default, since a
 * REPEATABLE READ snapshot, taken as the lock is asked for, missed the INSERTs committed while
 * it was waited on, and the batch collided again. The lock is held to the COMMIT. A session that
 * goes silent holding it (its hub partitioned away just as it was granted) is ended by Postgres
 * once idle for a quarter of the pool's lock timeout: with the pool's own idle limit, the other
 * instances' INSERTs queued behind it reached that same timeout first, and were refused.
 */
const APPEND_ALONE = `BEGIN ISOLATION LEVEL READ COMMITTED;
  SELECT set_config('idle_in_transaction_session_timeout', greatest(extract(epoch FROM current_setting('lock_timeout')::interval) * 250, 250)::int::text, true);
  SELECT pg_advisory_xact_lock(hashtext('audit.event'), hashtext('append')); ${READ_HEAD}`;
/**
 * How long an append keeps retrying and settling before it is refused. Not a bound on the append:
 * the statement under way when this runs out may still take up to the pool's timeout (`auditWriterPool`).
 */
export const AUDIT_APPEND_RETRYING_MS = RETRY_WINDOW_MS + SETTLE_WAIT_MS;

/**
 * The writer's pool: connected as the append-only writer role, each statement (a lock wait
 * included) and each attempt to connect bounded by `timeoutMs`. A trail that stalls — audit.event
 * locked, Postgres accepting connections but not answering them — then refuses appends, so the
 * requests waiting on them are answered `AUDIT_UNAVAILABLE` instead of piling up.
 *
 * `statement_timeout` does not cover a commit waiting on its WAL flush (a stalled disk), nor a
 * connection whose server is never heard from again (a silent partition, a dropped NAT entry):
 * without a bound of its own the batch would wait for ever, and every append behind it. So the
 * hub also waits for each reply at most `timeoutMs` + 1 s (`query_timeout`), then treats the
 * connection as lost: it is closed, and a batch whose INSERT was sent is settled like any other
 * lost one (`AuditWriter.settle`) — found committed, or refused, in doubt if the database cannot
 * be reached to make sure.
 */
export function auditWriterPool(url: string, timeoutMs: number, logPrefix: string): Pool {
  const pool = new Pool({
    connectionString: url,
    max: 2,
    // Kept through a lull as the request pool's are: a batch on a new session waits for its connection.
    idleTimeoutMillis: IDLE_CONNECTION_MS,
    application_name: 'hub audit writer',
    // An event is durable before its answer leaves: a commit that returned before its WAL flush
    // (`synchronous_commit = off`, set for the database, the role or the cluster to speed up other
    // work) could be lost in a crash after the answer was sent. A session option outranks them all.
    ...boundedPoolOptions(timeoutMs, '-c role=hub_audit_writer -c synchronous_commit=on'),
  });
  // An idle connection dropped by the server (e.g. Postgres stopping first on SIGTERM) is not a
  // failed write: the next append reconnects, and a write that fails still fails closed.
  pool.on('error', (e) => console.error(`${logPrefix} audit pool connection lost:`, loggableSummary(e)));
  return pool;
}

// Read as the login role (`SET ROLE NONE`): with the writer role taken by `SET ROLE`, the login's
// own sessions are hidden in pg_stat_activity and may not be signalled.
const WHO_AM_I = `SET ROLE NONE; SELECT ${BACKEND_COLUMNS} FROM pg_stat_activity WHERE pid = pg_backend_pid(); RESET ROLE`;

/**
 * A batch whose outcome the writer could not establish: its connection was lost after the INSERT
 * was sent, and the database could not then be reached to end that session and look. Its events
 * may be stored (or be stored by the lost session) although the append was refused.
 */
export class AuditInDoubtError extends Error {
  constructor(first: number, last: number, cause: unknown) {
    super(`audit batch in doubt: events ${first}–${last} may be stored although the append is refused (${(cause as Error)?.message ?? cause})`, { cause });
    this.name = 'AuditInDoubtError';
  }
}

/**
 * Appends events to the hash chain with group commit: requests that finish while a batch is
 * being committed wait for the next batch, which carries all of them in a single INSERT (one
 * round trip, one fsync). A request's promise settles only once its event is durable; the
 * caller releases no data before that.
 *
 * The chain head is kept in memory. Another process appending to the same trail (several hub
 * instances) makes our next INSERT collide on `seq`, so the chain never forks. The batch is then
 * tried again alone: in a transaction holding the trail's append lock (`APPEND_ALONE`), which
 * every INSERT takes shared (trigger `event_append_lock`, migration 1795403500000), it reads the
 * head and appends with no other writer between the two. Retrying on a re-read head without the
 * lock did not always get through: a writer whose head stays in memory appends in one round trip
 * and could win every race for the 2 s a batch is retried, and the batch was refused. The lock is
 * taken only after a collision, so a lone instance pays nothing for it but the trigger's shared
 * lock; it is held from its grant to the COMMIT (the INSERT and the COMMIT: two round trips, the
 * events' JSON made beforehand), while the other writers' INSERTs wait. A batch that collided is
 * tried alone at least once, however long its INSERT waited on another's lock; it is refused once
 * it has been tried for 2 s, or if a wait on the lock passes the pool's `lock_timeout`.
 *
 * A batch whose connection is lost after its INSERT was sent is in doubt: the reply may have been
 * lost after the commit, or the server may not even know yet and still be running the INSERT
 * (waiting on a lock, say) and commit it later. So before deciding, the writer ends that session
 * on a fresh connection (`pg_terminate_backend` of the pid and start time it read, once, when it
 * first used the connection) and waits until the process has gone: its transaction is then over,
 * committed or rolled back, for good. Only then does it look for the batch's last row (one
 * primary-key probe): found, the batch is done (only the reply was lost); not found, it is sent again
 * (at least once, then until 2 s after its first attempt). Seeing and signalling the login role's own
 * sessions needs that role, which every role may do to its own: the writer takes it back
 * (`SET ROLE NONE`) for those statements only. Postgres 14 or later (`pg_terminate_backend`'s wait).
 * The normal path costs nothing for this but one statement per new connection.
 *
 * One case stays open: if the database cannot be reached to make sure (for 2 s: the network stays
 * down), the append is refused with an `AuditInDoubtError`, yet the lost INSERT may have committed,
 * or may still commit once the server notices nothing more. The trail can then hold an event for a
 * request whose client got `AUDIT_UNAVAILABLE` and no data: it over-records, never under-records.
 * The error (logged by the caller) names the events' sequence numbers.
 */
export class AuditWriter implements AuditSink {
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private head: Head | null = null;
  private newest: Head | null = null;
  private readonly backends = new WeakMap<PoolClient, Backend>();
  private readonly listened = new WeakSet<PoolClient>();

  /** `pool` must connect as (or `SET ROLE` to) hub_audit_writer: INSERT and SELECT only. */
  constructor(private readonly pool: Pool, private readonly maxBatch = 500) {
    if (!(maxBatch >= 1 && maxBatch <= MAX_BATCH)) throw new RangeError(`AuditWriter: a batch holds 1–${MAX_BATCH} events`);
    // A new connection's loss can arrive with its first reply, before `connect()` below sees it.
    pool.on('connect', (client) => this.listen(client));
  }

  append(body: AuditEventBody): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ body, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  written(): ChainAnchor | null {
    return this.newest;
  }

  private wrote(last: Head): void {
    if (!this.newest || last.seq > this.newest.seq) this.newest = last;
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          await this.write(batch.map((p) => p.body));
          for (const p of batch) p.resolve();
        } catch (e) {
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  private async readHead(): Promise<Head> {
    return headOf((await this.pool.query<HeadRow>(READ_HEAD)).rows);
  }

  /** On `client`, in a transaction holding the append lock alone: the head no other writer can move before COMMIT. */
  private async lockHead(client: PoolClient): Promise<Head> {
    const results = (await client.query(APPEND_ALONE)) as unknown as QueryResult<HeadRow>[];
    return headOf(results[3].rows);
  }

  private async write(bodies: AuditEventBody[]): Promise<void> {
    const deadline = Date.now() + RETRY_WINDOW_MS;
    // What does not depend on the head, made once and not while the append lock is held.
    const rows = bodies.map((body) => {
      const [r, t, u, d, g, o, pu, m] = indexColumns(body);
      // The children are lower-case UUIDs (indexColumns): an array literal needs no quoting.
      return { text: canonicalJson(body), columns: [r, t, u, d, g, o, pu, `{${m.join(',')}}`] };
    });
    for (let conflicts = 0, losses = 0; ; ) {
      const alone = conflicts > 0;
      let client: PoolClient | undefined;
      let locking: Backend | undefined;
      let sent: { backend: Backend; first: number; last: Head } | undefined;
      try {
        // Its process is read before the lock is taken, not while the other writers wait on it.
        if (alone) locking = await this.backendOf((client = await this.connect()));
        const head = client ? await this.lockHead(client) : (this.head ??= await this.readHead());
        let { seq, hash: prev } = head;
        const values = [];
        for (const { text, columns } of rows) {
          seq += 1;
          const hash = chainHash(prev, seq, text);
          values.push(seq, prev, hash, text, ...columns);
          prev = hash;
        }
        client ??= await this.connect();
        sent = { backend: await this.backendOf(client), first: head.seq + 1, last: { seq, hash: prev } };
        await client.query({ ...appendStatement(bodies.length), values });
        if (alone) await client.query('COMMIT');
        client.release();
        this.head = sent.last;
        this.wrote(sent.last);
        return;
      } catch (e) {
        this.head = null; // whatever happened, trust only the database next time
        const lost = isConnectionLoss(e);
        // A connection left in the lock's transaction is closed, which ends it, rather than reused.
        client?.release(lost || alone ? (e as Error) : undefined);
        if (lost) {
          if (sent) {
            // It committed; only the reply was lost.
            if (await this.settle(sent.backend, sent.first, sent.last)) return this.wrote(sent.last);
          } else if (locking) {
            // Nothing sent to settle, but the session may hold the append lock, every writer's
            // INSERT waiting on it until Postgres notices (idle_in_transaction_session_timeout).
            await this.endLockingSession(locking);
          }
          if (!losses++ || Date.now() < deadline) continue;
        } else if ((e as { code?: string }).code === '23505' && (!alone || Date.now() < deadline)) {
          conflicts++;
          continue;
        }
        throw e;
      }
    }
  }

  /**
   * A pooled connection. While checked out, its loss also reaches the query in flight; it is
   * emitted as an 'error' too, which must not go unhandled (the pool listens only while it idles).
   */
  private async connect(): Promise<PoolClient> {
    const client = await this.pool.connect();
    this.listen(client);
    return client;
  }

  private listen(client: PoolClient): void {
    if (this.listened.has(client)) return;
    this.listened.add(client);
    client.on('error', () => undefined);
  }

  /** The server process of `client`, read once per connection. */
  private async backendOf(client: PoolClient): Promise<Backend> {
    let backend = this.backends.get(client);
    if (!backend) {
      const results = (await client.query(WHO_AM_I)) as unknown as QueryResult<{ pid: number; started: string }>[];
      const row = results[1].rows[0];
      backend = { pid: row.pid, started: row.started };
      this.backends.set(client, backend);
    }
    return backend;
  }

  /**
   * Whether the batch whose INSERT was sent on the lost connection of `backend` is stored, its
   * events being `first`…`last`. That session is ended first, so that it cannot commit afterwards.
   * A fresh connection that fails too is tried again (the database restarting, the network
   * recovering) for up to SETTLE_WAIT_MS; then the batch is in doubt (`AuditInDoubtError`).
   */
  private settle(backend: Backend, first: number, last: Head): Promise<boolean> {
    return settleWithin(
      (until) => this.endAndLook(backend, last, until),
      (e) => new AuditInDoubtError(first, last.seq, e),
    );
  }

  /** Ends the lost session of `backend`, which had asked for the append lock and sent no INSERT. */
  private async endLockingSession(backend: Backend): Promise<void> {
    await settleWithin(
      (until) => this.endAndLook(backend, null, until),
      (e) => e as Error,
    );
  }

  /** Ends the session of `backend`, then whether `last` is stored (none: false). */
  private async endAndLook(backend: Backend, last: Head | null, until: number): Promise<boolean> {
    const client = await this.connect();
    let reusable = false;
    try {
      await client.query('SET ROLE NONE');
      await endBackend(client, backend, until);
      await client.query('RESET ROLE');
      const stored = last ? (await client.query<{ hash: string }>('SELECT hash FROM audit.event WHERE seq = $1', [last.seq])).rows[0]?.hash === last.hash : false;
      reusable = true;
      return stored;
    } finally {
      // A connection left with the login role, or waiting on a reply that never came, is closed, not reused.
      client.release(!reusable);
    }
  }
}

interface Head {
  seq: number;
  hash: string;
}

