import type { Pool } from 'pg';
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
}

/** Benchmarks only (HUB_BENCH_DISABLE=audit): measures what the trail costs by dropping it. */
export class DiscardingAuditSink implements AuditSink {
  async append(): Promise<void> {}
  async drain(): Promise<void> {}
}

// One JSON parameter for the whole batch: V8 and Postgres (de)serialise it natively, where text[]
// parameters are escaped element by element in JavaScript (a page of 100 children makes a body
// of tens of kilobytes). Named, so each connection parses and plans it once.
const APPEND = `INSERT INTO audit.event (seq, prev_hash, hash, body, request_id, occurred_at, user_id, department, region, outcome, purpose, minor_ids)
  SELECT s, p, h, b, r, t, u, d, g, o, pu, m FROM json_to_recordset($1::json)
    AS x(s bigint, p char(64), h char(64), b text, r uuid, t timestamptz, u text, d text, g text, o text, pu text, m text[])`;

/** How long a batch keeps retrying `seq` conflicts with other writers before it is refused. */
const CONFLICT_WINDOW_MS = 2000;

/**
 * Appends events to the hash chain with group commit: requests that finish while a batch is
 * being committed wait for the next batch, which carries all of them in a single INSERT (one
 * round trip, one fsync). A request's promise settles only once its event is durable; the
 * caller releases no data before that.
 *
 * The chain head is kept in memory. Another process appending to the same trail (several hub
 * instances) makes our next INSERT collide on `seq`; we then re-read the head and retry, so the
 * chain never forks: at once the first time, then after a short random pause (so that writers
 * colliding again do not keep colliding), for up to 2 s before the batch is refused. A batch
 * whose connection is lost (Postgres restarted or terminated it) is tried once more on a fresh
 * connection, unless its last row is found already stored: a commit whose reply was lost must not
 * be written twice.
 */
export class AuditWriter implements AuditSink {
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private head: { seq: number; hash: string } | null = null;

  /** `pool` must connect as (or `SET ROLE` to) hub_audit_writer: INSERT and SELECT only. */
  constructor(private readonly pool: Pool, private readonly maxBatch = 500) {}

  append(body: AuditEventBody): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ body, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
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

  private async readHead(): Promise<{ seq: number; hash: string }> {
    const { rows } = await this.pool.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit.event ORDER BY seq DESC LIMIT 1');
    return rows.length ? { seq: Number(rows[0].seq), hash: rows[0].hash } : { seq: 0, hash: GENESIS_HASH };
  }

  private async write(bodies: AuditEventBody[], deadline = Date.now() + CONFLICT_WINDOW_MS, conflicts = 0, lostConnection = false): Promise<void> {
    const head = (this.head ??= await this.readHead());
    let { seq, hash: prev } = head;
    const rows = [];
    for (const body of bodies) {
      const text = canonicalJson(body);
      seq += 1;
      const hash = chainHash(prev, seq, text);
      const [r, t, u, d, g, o, pu, m] = indexColumns(body);
      rows.push({ s: seq, p: prev, h: hash, b: text, r, t, u, d, g, o, pu, m });
      prev = hash;
    }
    try {
      await this.pool.query({ name: 'audit-append', text: APPEND, values: [JSON.stringify(rows)] });
      this.head = { seq, hash: prev };
    } catch (e) {
      this.head = null; // whatever happened, trust only the database next time
      if ((e as { code?: string }).code === '23505' && Date.now() < deadline) {
        if (conflicts) await sleep(Math.random() * Math.min(2 ** conflicts, 50));
        return this.write(bodies, deadline, conflicts + 1, lostConnection);
      }
      if (isConnectionLoss(e) && !lostConnection) {
        if (await this.stored(seq, prev)) return; // it committed; only the reply was lost
        return this.write(bodies, deadline, conflicts, true);
      }
      throw e;
    }
  }

  /** Whether the event `seq` is in the trail with this hash (one primary-key probe). */
  private async stored(seq: number, hash: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ hash: string }>('SELECT hash FROM audit.event WHERE seq = $1', [seq]);
    return rows[0]?.hash === hash;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The server ended the session (administrator command, crash, shutdown: SQLSTATE class 57P and
 * 08) or the socket closed under the query. Errors about the statement itself are not retried.
 */
function isConnectionLoss(e: unknown): boolean {
  const { code, message } = e as { code?: string; message?: string };
  if (code && /^(57P0[1-3]|08\d{3}|ECONNRESET|EPIPE)$/.test(code)) return true;
  return !code && /^Connection terminated|connection error/i.test(message ?? '');
}
