import type { Pool } from 'pg';
import type { AuditEventBody } from './audit.types';
import { canonicalJson, chainHash, GENESIS_HASH } from './canonical';

/** Serialises chain extension across every process writing to the same database. */
const CHAIN_LOCK = 0x41554454; // "AUDT"

interface Pending {
  body: AuditEventBody;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Appends events to the hash chain with group commit: requests that finish while a batch is
 * being committed wait for the next batch, which carries all of them in one transaction. A
 * request's promise settles only once its event is durable (COMMIT with synchronous_commit on);
 * the caller releases no data before that.
 */
export class AuditWriter {
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;

  constructor(private readonly pool: Pool, private readonly maxBatch = 500) {}

  append(body: AuditEventBody): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ body, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  /** Resolves once everything appended so far is written (or failed). */
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

  private async write(bodies: AuditEventBody[]): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // The application appends as a role that cannot UPDATE or DELETE the trail.
      await client.query('SET LOCAL ROLE hub_audit_writer');
      await client.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
      const { rows } = await client.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit.event ORDER BY seq DESC LIMIT 1');
      let seq = rows.length ? Number(rows[0].seq) : 0;
      let prev = rows.length ? rows[0].hash : GENESIS_HASH;
      const seqs: number[] = [];
      const prevs: string[] = [];
      const hashes: string[] = [];
      const texts: string[] = [];
      for (const body of bodies) {
        const text = canonicalJson(body);
        seq += 1;
        const hash = chainHash(prev, seq, text);
        seqs.push(seq);
        prevs.push(prev);
        hashes.push(hash);
        texts.push(text);
        prev = hash;
      }
      await client.query(
        'INSERT INTO audit.event (seq, prev_hash, hash, body) SELECT * FROM unnest($1::bigint[], $2::char(64)[], $3::char(64)[], $4::text[])',
        [seqs, prevs, hashes, texts],
      );
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }
}
