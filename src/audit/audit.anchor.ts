import type { DataSource } from 'typeorm';
import { repeatEvery } from '../common/repeat';
import { loggableError } from '../errors/hub.exception';

/**
 * A point of the hash chain kept outside the database: an event's `seq` and its `hash`. The chain
 * proves that nothing inside it changed, but whoever can write `audit.event` (the database's owner,
 * a superuser) can cut off its newest events, or rewrite it from some event on and recompute every
 * later hash, and the chain verifies all the same. An anchor recorded before either no longer
 * matches: the chain is shorter than the anchor, or its event at the anchor's `seq` has another
 * hash (audit.verify.ts).
 */
export interface ChainAnchor {
  seq: number;
  hash: string;
}

/** The line the hub logs, and the one `npm run audit:verify -- --anchors FILE` looks for in a log. */
export const anchorLine = (a: ChainAnchor) => `audit anchor seq=${a.seq} hash=${a.hash}`;

/**
 * Every anchor line in a text (a log file, whatever else it holds), in order. The first event is 1:
 * a `seq=0` line, which no hub logs, anchors no event, and had `audit:verify` call a chain checked
 * against it OK (`auditVerify` refuses it).
 */
export function anchorsIn(text: string): ChainAnchor[] {
  return [...text.matchAll(/audit anchor seq=([1-9]\d*) hash=([0-9a-f]{64})\b/g)].map((m) => ({ seq: Number(m[1]), hash: m[2] }));
}

/** The chain's head, and the hash of the event at the sequence number given (the newest this process wrote). */
const HEAD_AND_OWN = `SELECT h.seq, h.hash, (SELECT e.hash FROM audit.event e WHERE e.seq = $1) AS own_hash
  FROM (SELECT seq, hash FROM audit.event ORDER BY seq DESC LIMIT 1) h`;

/**
 * Logs the chain's head every `intervalSeconds` when it has moved, once at start and once more as it
 * stops: the log is shipped off the database's machine (journald, a log service), so the hub's own
 * log is a record of the chain that the database's owner cannot reach. 0 turns it off. Every process
 * that appends to the trail anchors it (bootstrap.ts, startSlices): the gateway, whose events are
 * most of it, as well as the process serving the audit subgraph.
 *
 * The head is the later of the database's and the newest event this process wrote (`written`): read
 * from the database alone, a tail cut off since the last tick was taken for the chain's end, and the
 * events this process wrote, never anchored, went missing unnoticed. A chain that no longer holds
 * the newest event this process wrote, as it wrote it — cut before it, or cut and written on past
 * it — is such a cut: said at once, on stderr, and the event anchored, which verification then finds
 * missing (TRUNCATED) or another (ANCHOR). `written` is read before the database is: an event
 * committed in between is then in the chain read, not taken for a cut.
 *
 * Without the last one, the events since the last tick (up to an interval of them) were anchored by
 * nothing while the process was down, and the next start anchored whatever head it found: a tail cut
 * off meanwhile passed for the chain's end. Its caller stops it once the requests have been answered
 * and the other background work, which appends to the chain too, has stopped (bootstrap.ts).
 */
export function startAnchoring(ds: DataSource, intervalSeconds: number, written: () => ChainAnchor | null, log: (m: string) => void = console.log): { stop(): Promise<void> } {
  let last = '';
  const anchor = () => {
    const own = written();
    return ds.query(HEAD_AND_OWN, [own?.seq ?? 0]).then(
      (rows: { seq: string; hash: string; own_hash: string | null }[]) => {
        const stored = rows[0] ? { seq: Number(rows[0].seq), hash: rows[0].hash } : null;
        const cut = own !== null && rows[0]?.own_hash !== own.hash;
        if (cut) console.error(`[hub] audit chain cut: event ${own.seq}, which this process wrote, is ${rows[0]?.own_hash ? 'not the one it wrote' : 'missing'} (its head is event ${stored?.seq ?? 0})`);
        const head = cut ? own : stored;
        const line = head && anchorLine(head);
        if (!line || line === last) return;
        last = line;
        log(`[hub] ${line}`);
      },
      (e) => console.error(`[hub] audit anchor not read: ${loggableError(e)}`),
    );
  };
  const timer = repeatEvery(intervalSeconds, anchor);
  return {
    stop: async () => {
      await timer.stop();
      if (intervalSeconds > 0) await anchor();
    },
  };
}
