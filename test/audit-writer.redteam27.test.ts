import { verifyChain } from '../src/audit/audit.verify';
import { AuditWriter, auditWriterPool } from '../src/audit/audit.writer';
import { cloneTemplateDatabase } from './support/test-hub';
import { appendOn, connected, event, Network, outcome, until } from './support/trail-writers';

/**
 * Red team 27: the audit writer's append path after 475455a and 41a9e22 (a batch that collided
 * on `seq` retried alone under the trail's append lock; a session lost while asking for the lock ended).
 */

describe('audit writer: appends of several instances under the append lock (red team 27)', () => {
  it('four instances appending at once, connections lost at random points: every event answered stored is stored once, none refused but in doubt, the chain whole, no lock or transaction left', async () => {
    const url = await cloneTemplateDatabase();
    const admin = await connected(url);
    const instances = await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        const network = new Network(new URL(url));
        await network.start();
        let seed = 7 + i * 13;
        const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
        network.cut = () => rand() < 0.06;
        const pool = auditWriterPool(network.via(url), 5000, `[rt27 ${i}]`);
        return { network, pool, writer: new AuditWriter(pool, 8) };
      }),
    );
    const outcomes: { id: string; outcome: string }[] = [];
    try {
      await Promise.all(
        instances.map(async ({ writer }, i) => {
          for (let round = 0; round < 25; round++) {
            const burst = Array.from({ length: 1 + ((round * 7 + i) % 5) }, () => event(`i${i}`));
            await Promise.all(
              burst.map((b) =>
                writer.append(b).then(
                  () => outcomes.push({ id: b.requestId, outcome: 'stored' }),
                  (e: Error) => outcomes.push({ id: b.requestId, outcome: `${e.name}: ${e.message}` }),
                ),
              ),
            );
          }
        }),
      );
      for (const { network } of instances) network.cut = () => false;
      const { rows } = await admin.query(`SELECT request_id::text AS id, count(*)::int AS n FROM audit.event GROUP BY 1`);
      const stored = new Map(rows.map((r) => [r.id as string, r.n as number]));
      const wrong = outcomes.filter(({ id, outcome }) => (outcome === 'stored' ? stored.get(id) !== 1 : !outcome.startsWith('AuditInDoubtError') || (stored.get(id) ?? 0) > 1));
      const { ok, firstBreak } = await verifyChain(async (text, params) => (await admin.query(text, params)).rows);
      const locks = (await admin.query(`SELECT count(*)::int AS n FROM pg_locks WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND locktype = 'advisory'`)).rows[0].n;
      expect({ wrong: wrong.slice(0, 5), wrongCount: wrong.length, ok, firstBreak, locks }).toEqual({ wrong: [], wrongCount: 0, ok: true, firstBreak: null, locks: 0 });
    } finally {
      for (const { network, pool } of instances) {
        await network.stop();
        await pool.end();
      }
      await admin.end();
    }
  }, 240_000);

  it('one instance silently partitioned just as it is granted the append lock alone: another instance\'s append queued behind it is not refused', async () => {
    const url = await cloneTemplateDatabase();
    const admin = await connected(url);
    const network = new Network(new URL(url));
    await network.start();
    const loserPool = auditWriterPool(network.via(url), 5000, '[rt27 partitioned]');
    const otherPool = auditWriterPool(url, 5000, '[rt27 other]');
    const loser = new AuditWriter(loserPool);
    const other = new AuditWriter(otherPool);
    const inFlight = await connected(url, '-c role=hub_audit_writer');
    const waiting = async () => (await admin.query(`SELECT count(*)::int AS n FROM pg_locks WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND locktype = 'advisory' AND NOT granted`)).rows[0].n as number;
    try {
      await loser.append(event('warm-up'));
      await other.append(event('other-first')); // the loser's head is stale: its next INSERT collides
      // A third instance's INSERT in flight (its shared lock held) as the loser asks for the lock alone.
      await inFlight.query('BEGIN');
      await appendOn(inFlight, 'third');
      const loserAppended = outcome(loser.append(event('partitioned')));
      await until('the loser to wait on the lock alone', async () => (await waiting()) >= 1);
      const mine = event('queued-behind');
      const appended = outcome(other.append(mine));
      await until('the other instance\'s INSERT to queue behind it', async () => (await waiting()) >= 2);
      network.blackhole = true; // the loser's connection goes silent, both ways
      await inFlight.query('COMMIT'); // the loser's session is granted the lock, its reply lost
      const stored = await appended;
      await loserAppended;
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM audit.event WHERE request_id = $1`, [mine.requestId]);
      const { ok } = await verifyChain(async (text, params) => (await admin.query(text, params)).rows);
      expect({ other: stored, storedOnce: rows[0].n === 1, chainOk: ok }).toEqual({ other: 'stored', storedOnce: true, chainOk: true });
    } finally {
      await network.stop();
      await Promise.all([loserPool.end(), otherPool.end()]);
      await inFlight.end();
      await admin.end();
    }
  }, 60_000);

  it('a batch whose lock reply is lost while the database cannot be reached to end that session is refused as not stored (not in doubt), and is not stored', async () => {
    const url = await cloneTemplateDatabase();
    const admin = await connected(url);
    const network = new Network(new URL(url));
    await network.start();
    const loserPool = auditWriterPool(network.via(url), 5000, '[rt27 unreachable]');
    const otherPool = auditWriterPool(url, 5000, '[rt27 other]');
    const loser = new AuditWriter(loserPool);
    const other = new AuditWriter(otherPool);
    try {
      await loser.append(event('warm-up'));
      await other.append(event('other-first'));
      network.cut = (sent) => {
        if (!sent.includes("pg_advisory_xact_lock(hashtext('audit.event'), hashtext('append'))")) return false;
        network.refuse = true;
        return true;
      };
      const mine = event('unreachable');
      const refused = await loser.append(mine).then(() => null, (e: Error) => e);
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM audit.event WHERE request_id = $1`, [mine.requestId]);
      expect({ refused: refused !== null, inDoubt: refused?.name === 'AuditInDoubtError', stored: rows[0].n }).toEqual({ refused: true, inDoubt: false, stored: 0 });
    } finally {
      await network.stop();
      await Promise.all([loserPool.end(), otherPool.end()]);
      await admin.end();
    }
  }, 60_000);
});
