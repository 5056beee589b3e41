import { randomUUID } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { Client } from 'pg';
import { auditEvent } from '../src/audit/audit-event';
import { AuditOutcome } from '../src/audit/audit.types';
import { verifyChain } from '../src/audit/audit.verify';
import { canonicalJson, chainHash, GENESIS_HASH, indexColumns } from '../src/audit/canonical';
import { AuditWriter, auditWriterPool } from '../src/audit/audit.writer';
import { Department, Role } from '../src/auth/principal';
import { cloneTemplateDatabase } from './support/test-hub';

/**
 * Red team 26: the trail's append lock (475455a). A batch that collided on `seq` is retried
 * "alone": BEGIN; pg_advisory_xact_lock; read head; INSERT; COMMIT, every INSERT taking the lock
 * shared (trigger event_append_lock).
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function event(userId: string) {
  return auditEvent({
    requestId: randomUUID(),
    startedAt: performance.now(),
    principal: { userId, department: Department.POLICE, role: Role.OFFICER, region: '330102' } as never,
    clientAddress: '127.0.0.1',
    outcome: AuditOutcome.SUCCESS,
    errorCodes: [],
    operationName: null,
    operationType: 'query',
    document: { text: '{regions{code}}', hash: '0'.repeat(64) },
    variables: {},
    purpose: null,
    access: { reads: [], changes: [] },
  });
}

async function connected(url: string, options?: string): Promise<Client> {
  const c = new Client({ connectionString: url, options });
  await c.connect();
  return c;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, ms = 10000): Promise<T> {
  for (const end = Date.now() + ms; ; ) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Appends one chain-correct event on `c`, inside whatever transaction `c` has open (another hub instance's INSERT). */
async function appendOn(c: Client, userId: string): Promise<string> {
  const { rows } = await c.query(`SELECT seq, hash FROM audit.event ORDER BY seq DESC LIMIT 1`);
  const [seq, prev] = rows.length ? [Number(rows[0].seq) + 1, rows[0].hash as string] : [1, GENESIS_HASH];
  const body = event(userId);
  const text = canonicalJson(body);
  const [r, t, u, d, g, o, pu, m] = indexColumns(body);
  await c.query(
    `INSERT INTO audit.event (seq, prev_hash, hash, body, request_id, occurred_at, user_id, department, region, outcome, purpose, minor_ids)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [seq, prev, chainHash(prev, seq, text), text, r, t, u, d, g, o, pu, `{${m.join(',')}}`],
  );
  return body.requestId;
}

/**
 * A TCP proxy between a pool and Postgres. `loseLockReply`: the reply to the next statement taking
 * the trail's append lock alone is lost — the hub's side of that connection is closed, while
 * Postgres, as across a partition, does not notice and keeps the session (and its lock).
 */
class Network {
  private server!: net.Server;
  private readonly links: { client: net.Socket; upstream: net.Socket }[] = [];
  loseLockReply = false;
  port = 0;

  constructor(private readonly target: URL) {}

  async start(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(path.join(this.target.searchParams.get('host')!, `.s.PGSQL.${this.target.port}`));
      this.links.push({ client, upstream });
      let lockSent = false;
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
      client.on('data', (chunk: Buffer) => {
        lockSent ||= chunk.includes("pg_advisory_xact_lock(hashtext('audit.event append'))");
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (lockSent && this.loseLockReply) {
          this.loseLockReply = false;
          return void client.destroy();
        }
        if (!client.destroyed) client.write(chunk);
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  via(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    u.searchParams.delete('host');
    return u.toString();
  }

  async stop(): Promise<void> {
    for (const { client, upstream } of this.links) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

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
    const lockAwaited = async () => (await admin.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)).rowCount;
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
    const lockAwaited = async () => (await admin.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)).rowCount;
    const outcome = (p: Promise<void>) => p.then(() => 'stored', (e: Error) => `refused: ${e.message}`);
    try {
      await loser.append(event('warm-up'));
      await rival.append(event('rival-first')); // the loser's next INSERT collides: it is retried alone
      network.loseLockReply = true;
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
