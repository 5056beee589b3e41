import { chainHash, GENESIS_HASH } from './canonical';

export interface ChainBreak {
  seq: number;
  requestId: string | null;
  /** MODIFIED: body no longer matches its hash. LINK: prev_hash does not name the event before (inserted, reordered). MISSING: a gap (deleted). */
  reason: 'MODIFIED' | 'LINK' | 'MISSING';
  detail: string;
}

export interface ChainStatus {
  ok: boolean;
  events: number;
  /** Hash of the newest event: anchor it outside the database to detect a rewritten chain. */
  headHash: string;
  firstBreak: ChainBreak | null;
}

export type Query = (text: string, params: unknown[]) => Promise<any[]>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Re-walks the whole chain in order and reports the first broken link. */
export async function verifyChain(query: Query, pageSize = 5000): Promise<ChainStatus> {
  let expectedSeq = 1;
  let prev = GENESIS_HASH;
  let events = 0;
  let after = 0;
  for (;;) {
    const rows: { seq: string; prev_hash: string; hash: string; body: string; request_id: string | null }[] = await query(
      'SELECT seq, prev_hash, hash, body, request_id FROM audit.event WHERE seq > $1 ORDER BY seq LIMIT $2',
      [after, pageSize],
    );
    for (const row of rows) {
      const seq = Number(row.seq);
      const brk = (reason: ChainBreak['reason'], detail: string): ChainStatus => ({
        ok: false,
        events,
        headHash: prev,
        firstBreak: { seq, requestId: row.request_id, reason, detail },
      });
      if (seq !== expectedSeq) return brk('MISSING', `expected event ${expectedSeq}, found ${seq}`);
      if (row.prev_hash !== prev) return brk('LINK', 'prev_hash does not match the preceding event');
      if (chainHash(row.prev_hash, seq, row.body) !== row.hash) return brk('MODIFIED', 'body does not match its hash');
      prev = row.hash;
      expectedSeq += 1;
      events += 1;
      after = seq;
    }
    if (rows.length < pageSize) return { ok: true, events, headHash: prev, firstBreak: null };
  }
}
