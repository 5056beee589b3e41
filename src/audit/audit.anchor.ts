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

/** Every anchor line in a text (a log file, whatever else it holds), in order. */
export function anchorsIn(text: string): ChainAnchor[] {
  return [...text.matchAll(/audit anchor seq=(\d+) hash=([0-9a-f]{64})\b/g)].map((m) => ({ seq: Number(m[1]), hash: m[2] }));
}

/**
 * Logs the chain's head every `intervalSeconds` when it has moved, once at start and once more as it
 * stops: the log is shipped off the database's machine (journald, a log service), so the hub's own
 * log is a record of the chain that the database's owner cannot reach. 0 turns it off.
 *
 * Without the last one, the events since the last tick (up to an interval of them) were anchored by
 * nothing while the process was down, and the next start anchored whatever head it found: a tail cut
 * off meanwhile passed for the chain's end. Its caller stops it once the requests have been answered
 * and the other background work, which appends to the chain too, has stopped (bootstrap.ts).
 */
export function startAnchoring(ds: DataSource, intervalSeconds: number, log: (m: string) => void = console.log): { stop(): Promise<void> } {
  let last = '';
  const anchor = () =>
    ds.query(`SELECT seq, hash FROM audit.event ORDER BY seq DESC LIMIT 1`).then(
      (rows: { seq: string; hash: string }[]) => {
        const head = rows[0] && anchorLine({ seq: Number(rows[0].seq), hash: rows[0].hash });
        if (!head || head === last) return;
        last = head;
        log(`[hub] ${head}`);
      },
      (e) => console.error(`[hub] audit anchor not read: ${loggableError(e)}`),
    );
  const timer = repeatEvery(intervalSeconds, anchor);
  return {
    stop: async () => {
      await timer.stop();
      if (intervalSeconds > 0) await anchor();
    },
  };
}
