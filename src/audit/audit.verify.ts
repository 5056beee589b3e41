import type { ChainAnchor } from './audit.anchor';
import { readEventBody } from './audit-event';
import { canonicalJson, chainHash, GENESIS_HASH, indexColumns } from './canonical';

export interface ChainBreak {
  seq: number;
  requestId: string | null;
  /**
   * MODIFIED: body no longer matches its hash, is no audit event, or a search column disagrees
   * with it. LINK: prev_hash does not name the event before (inserted, reordered). MISSING: a gap
   * (deleted). ANCHOR: the event's hash is not the one an anchor recorded (the chain rewritten from
   * it or before it, every later hash recomputed). TRUNCATED: the chain ends before an anchored
   * event (its newest events cut off).
   */
  reason: 'MODIFIED' | 'LINK' | 'MISSING' | 'ANCHOR' | 'TRUNCATED';
  detail: string;
}

export interface ChainStatus {
  ok: boolean;
  events: number;
  /** Hash of the newest event: anchor it outside the database to detect a rewritten chain. */
  headHash: string;
  /** How many of the anchors given were checked against the chain (all of them when it is sound). */
  anchorsChecked: number;
  firstBreak: ChainBreak | null;
}

interface Row {
  seq: string;
  prev_hash: string;
  hash: string;
  body: string;
  request_id: string | null;
  occurred_at: string;
  /** Whether occurred_at is a whole millisecond, as the writer stores the body's `time`. */
  whole_ms: boolean;
  user_id: string | null;
  department: string | null;
  region: string | null;
  outcome: string;
  purpose: string | null;
  minor_ids: string[] | null;
}

/**
 * What is wrong with an event whose hash checks out, or null. Whoever can write `audit.event` can
 * recompute an event's own hash over any body: one that is no event (`{}`, reads that are no reads)
 * is a break to name, not an error that ends the walk — the data officer was answered "Internal
 * server error" and nothing about where the trail was broken.
 */
function bodyDisagrees(row: Row): string | null {
  const body = readEventBody(row.body);
  if (!body) return 'the hashed body is not an audit event';
  return columnsAgree(row, indexColumns(body)) ? null : 'search columns disagree with the hashed body';
}

/**
 * The searchable copies must say what the body says, or a search could hide an event. The instant
 * to the microsecond, as Postgres stores it: the writer stores the body's millisecond, and one moved
 * within it (`new Date` drops microseconds) had verified. Compared in SQL, where timestamps are whole
 * microseconds on every Postgres (`extract(epoch …)` is a float before 14).
 */
function columnsAgree(row: Row, [requestId, time, userId, department, region, outcome, purpose, minorIds]: ReturnType<typeof indexColumns>): boolean {
  return (
    row.whole_ms &&
    canonicalJson([requestId, new Date(time).getTime(), userId, department, region, outcome, purpose, minorIds]) ===
      // A null where the table says NOT NULL is the table altered for it: no list of children, and no failure.
      canonicalJson([row.request_id, new Date(row.occurred_at).getTime(), row.user_id, row.department, row.region, row.outcome, row.purpose, row.minor_ids && [...row.minor_ids].sort()])
  );
}

export type Query = (text: string, params: unknown[]) => Promise<any[]>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Bodies one page of the walk holds before its last, in bytes (the last whatever its size): any caller
 * can make their events large (a document of up to 1 MB), and 5,000 such bodies at once were more
 * than the hub's heap — an auditor's routine verification then ended the process.
 */
export const VERIFY_PAGE_BYTES = 8 * 1024 * 1024;

/**
 * Re-walks the whole chain in order and reports the first broken link, each anchor (audit.anchor.ts)
 * checked as the walk passes its event. A page is at most `pageSize` events and VERIFY_PAGE_BYTES
 * of bodies (`octet_length` of a stored body reads its size, not the body; the events past the
 * bound are left to the next page unread).
 */
export async function verifyChain(query: Query, anchors: readonly ChainAnchor[] = [], pageSize = 5000, pageBytes = VERIFY_PAGE_BYTES): Promise<ChainStatus> {
  let expectedSeq = 1;
  let prev = GENESIS_HASH;
  let events = 0;
  // None before the first page: an event below 1 (the table's CHECK dropped) is read, not skipped.
  let after: number | null = null;
  let anchorsChecked = 0;
  // Two anchors of one event (two hubs logging one head, a log kept twice) are both checked: a
  // log holding two hashes for one event holds one the chain never had.
  const anchored = new Map<number, string[]>();
  let lastAnchored = 0;
  for (const a of anchors) {
    anchored.set(a.seq, [...(anchored.get(a.seq) ?? []), a.hash]);
    lastAnchored = Math.max(lastAnchored, a.seq);
  }
  for (;;) {
    const rows: Row[] = await query(
      `SELECT seq, prev_hash, hash, body, request_id, occurred_at, whole_ms, user_id, department, region, outcome, purpose, minor_ids
         FROM (SELECT seq, prev_hash, hash, body, request_id, to_json(occurred_at) #>> '{}' AS occurred_at,
                      occurred_at = date_trunc('milliseconds', occurred_at) AS whole_ms, user_id, department, region, outcome, purpose, minor_ids,
                      sum(coalesce(octet_length(body), 0)) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING) - coalesce(octet_length(body), 0) AS before
                 FROM audit.event WHERE ($1::bigint IS NULL OR seq > $1) ORDER BY seq LIMIT $2) e
        WHERE before < $3 ORDER BY seq`,
      [after, pageSize, pageBytes],
    );
    for (const row of rows) {
      const seq = Number(row.seq);
      const brk = (reason: ChainBreak['reason'], detail: string): ChainStatus => ({
        ok: false,
        events,
        headHash: prev,
        anchorsChecked,
        firstBreak: { seq, requestId: row.request_id, reason, detail },
      });
      if (seq < expectedSeq) return brk('LINK', `event ${seq} lies before event ${expectedSeq}: the trail numbers its events from 1`);
      if (seq !== expectedSeq) return brk('MISSING', `expected event ${expectedSeq}, found ${seq}`);
      if (row.prev_hash !== prev) return brk('LINK', 'prev_hash does not match the preceding event');
      // Only with the table's NOT NULL dropped: its size was null, and the page's bound had left it out unread.
      if (row.body === null) return brk('MODIFIED', 'the event has no body');
      if (chainHash(row.prev_hash, seq, row.body) !== row.hash) return brk('MODIFIED', 'body does not match its hash');
      const disagrees = bodyDisagrees(row);
      if (disagrees) return brk('MODIFIED', disagrees);
      const hashes = anchored.get(seq) ?? [];
      const wrong = hashes.find((hash) => hash !== row.hash);
      if (wrong) return brk('ANCHOR', `the event's hash is not the one anchored (${wrong})`);
      anchorsChecked += hashes.length;
      prev = row.hash;
      expectedSeq += 1;
      events += 1;
      after = seq;
    }
    if (!rows.length) {
      if (lastAnchored > events) {
        const detail = `the chain ends at event ${events}, and event ${lastAnchored} was anchored`;
        return { ok: false, events, headHash: prev, anchorsChecked, firstBreak: { seq: events + 1, requestId: null, reason: 'TRUNCATED', detail } };
      }
      return { ok: true, events, headHash: prev, anchorsChecked, firstBreak: null };
    }
  }
}
