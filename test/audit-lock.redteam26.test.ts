import { Client } from 'pg';
import { verifyChain } from '../src/audit/audit.verify';
import { AuditWriter, auditWriterPool } from '../src/audit/audit.writer';
import { cloneTemplateDatabase } from './support/test-hub';
import { appendOn, connected, event, Network, outcome, until } from './support/trail-writers';

/**
 * Red team 26: the trail's append lock (475455a). A batch that collided on `seq` is retried
 * "alone": BEGIN; pg_advisory_xact_lock; read head; INSERT; COMMIT, every INSERT taking the lock
 * shared (trigger event_append_lock).
 */

describe('audit writer: the append lock of a batch retried alone (red team 26)', () => {
  it.each(['read committed', 'repeatable read', 'serializable'])('with the database defaulting to %s (ALTER DATABASE … SET default_transaction_isolation), a batch retried alone still gets through when another instance\'s INSERT is in flight as it asks for the lock', async (isolation) => {
    const url = await cloneTemplateDatabase();
    const admin = await connected(url);
    const [{ name }] = (await admin.query(`SELECT current_database() AS name`)).rows;
    await admin.query(`ALTER DATABASE "${name}" SET default_transaction_isolation = '${isolation}'`);
    const loserPool = auditWriterPool(url, 5000, '[rt26 loser]');
    const rival = await connected(url, '-c role=hub_audit_writer -c default_transaction_isolation=read\\ committed');
    const loserClients = new Set<unknown>();
    loserPool.on('connect', (c) => loserClients.add(c));
    const lockAwaited = async () => (await admin.query(`SELECT 1 FROM pg_locks WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND locktype = 'advisory' AND NOT granted`)).rowCount;
    const query = Client.prototype.query;
    const onRival = (text: string) => (query as (text: string) => Promise<unknown>).call(rival, text);
    let alone = 0;
    // Another instance's INSERT is in flight (its shared lock held, not yet committed) as the loser
    // asks for the lock alone; it commits while the loser waits.
    const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
      const send = () => (query as (...a: unknown[]) => Promise<unknown>).apply(this, args);
      const text = typeof args[0] === 'string' ? args[0] : '';
      if (!loserClients.has(this) || !text.includes('pg_advisory_xact_lock')) return send() as never;
      alone++;
      return (async () => {
        await onRival('BEGIN');
        await appendOn(rival, 'rival');
        const reply = send();
        reply.catch(() => undefined);
        await until('the loser to wait on the lock', lockAwaited);
        await onRival('COMMIT');
        return reply;
      })() as never;
    });
    const loser = new AuditWriter(loserPool);
    try {
      await loser.append(event('warm-up')); // its head in memory
      const fresh = await connected(url); // the database's default, as a session of the hub's sees it
      expect((await fresh.query(`SHOW transaction_isolation`)).rows).toEqual([{ transaction_isolation: isolation }]);
      await fresh.end();
      await appendOn(rival, 'rival-first'); // the loser's head is now stale: its next INSERT collides
      const mine = event('outraced');
      const outcome = await loser.append(mine).then(() => 'stored', (e: Error) => `refused: ${e.message}`);
      expect({ outcome, alone }).toEqual({ outcome: 'stored', alone: 1 });
      expect((await admin.query(`SELECT count(*)::int AS n FROM audit.event WHERE request_id = $1`, [mine.requestId])).rows).toEqual([{ n: 1 }]);
      expect(await verifyChain(async (text, params) => (await admin.query(text, params)).rows)).toEqual(expect.objectContaining({ ok: true, firstBreak: null }));
    } finally {
      spy.mockRestore();
      await loserPool.end();
      await rival.end();
      await admin.query(`ALTER DATABASE "${name}" RESET default_transaction_isolation`);
      await admin.end();
    }
  });

  it('a batch retried alone whose lock reply is lost (the hub\'s side of the connection closed, Postgres keeping the session and its lock): neither it nor another instance\'s append made meanwhile is refused', async () => {
    const url = await cloneTemplateDatabase();
    const admin = await connected(url);
    const network = new Network(new URL(url));
    await network.start();
    const loserPool = auditWriterPool(network.via(url), 5000, '[rt26 loser]');
    const rivalPool = auditWriterPool(url, 5000, '[rt26 rival]');
    const loser = new AuditWriter(loserPool);
    const rival = new AuditWriter(rivalPool);
    const lockAwaited = async () => (await admin.query(`SELECT 1 FROM pg_locks WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND locktype = 'advisory' AND NOT granted`)).rowCount;
    try {
      await loser.append(event('warm-up'));
      await rival.append(event('rival-first')); // the loser's next INSERT collides: it is retried alone
      // The reply to the statement taking the lock alone is lost: the hub's side of that connection
      // is closed, while Postgres, as across a partition, keeps the session and its lock.
      let lose = true;
      network.cut = (sent) => {
        if (!lose || !sent.includes("pg_advisory_xact_lock(hashtext('audit.event'), hashtext('append'))")) return false;
        lose = false;
        return true;
      };
      const mine = event('lock-reply-lost');
      const appended = outcome(loser.append(mine));
      // The other instance appends once the loser's batch is through, or is tried again behind the lost session's lock.
      await Promise.race([appended, until('the loser\'s batch to be stored or tried again', lockAwaited)]);
      const other = event('other-instance');
      const rivalAppended = outcome(rival.append(other));
      const [loserOutcome, rivalOutcome] = [await appended, await rivalAppended];
      const { rows } = await admin.query(`SELECT request_id::text AS id, count(*)::int AS n FROM audit.event WHERE request_id = ANY($1) GROUP BY 1`, [[mine.requestId, other.requestId]]);
      const stored = (id: string) => rows.find((r) => r.id === id)?.n ?? 0;
      const { ok } = await verifyChain(async (text, params) => (await admin.query(text, params)).rows);
      expect({ loser: loserOutcome, rival: rivalOutcome, storedMine: stored(mine.requestId), storedOther: stored(other.requestId), chainOk: ok }).toEqual({
        loser: 'stored',
        rival: 'stored',
        storedMine: 1,
        storedOther: 1,
        chainOk: true,
      });
    } finally {
      await network.stop();
      await Promise.all([loserPool.end(), rivalPool.end()]);
      await admin.end();
    }
  });
});
