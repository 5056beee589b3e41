import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import { Client, Pool } from 'pg';
import { Access } from '../src/policy/policy.types';
import { verifyChain } from '../src/audit/audit.verify';
import { canonicalJson } from '../src/audit/canonical';
import { AuditInDoubtError, AuditWriter, auditWriterPool } from '../src/audit/audit.writer';
import { cloneTemplateDatabase } from './support/test-hub';
import { connected, event, TcpProxy, until } from './support/trail-writers';

/**
 * The writer against what happens between a hub and its database: other hub instances appending
 * to the same trail, connections lost while Postgres still runs the batch's INSERT, and a database
 * or network that stops answering without closing anything.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A pool as the hub's: the append-only writer role taken per connection. */
function writerPool(url: string, applicationName: string): Pool {
  const pool = new Pool({ connectionString: url, max: 2, options: '-c role=hub_audit_writer', application_name: applicationName });
  pool.on('error', () => undefined); // idle connections dropped by the tests
  return pool;
}

/**
 * The network between a pool and Postgres. `cut()` drops the hub's side of every open connection:
 * the hub sees "Connection terminated unexpectedly", while Postgres, as across a partition or a
 * dropped NAT entry, does not notice and keeps running what it was sent.
 */
class Network extends TcpProxy {
  private readonly held: (() => void)[] = [];
  /** Connections opened from now on hold the batch INSERT (and what follows it) until `release()`. */
  holdInserts = false;
  /** New connections are dropped at once. */
  down = false;
  /** The reply to the next batch INSERT is lost: the connection is cut instead. */
  loseInsertReply = false;
  /** Replies to batch INSERTs (and what follows them on their connection) never arrive, as from a commit stuck on its WAL flush. */
  swallowInsertReplies = false;
  /** Nothing passes either way, on open connections or new ones, and nothing is closed: a silent partition. */
  silent = false;
  /** Batch INSERTs that reached Postgres. */
  insertsDelivered = 0;

  protected join(client: net.Socket, connect: () => net.Socket): void {
    if (this.down) return void client.destroy();
    const upstream = connect();
    const hold = this.holdInserts;
    let insertSent = false;
    let swallowing = false;
    client.on('data', (chunk: Buffer) => {
      if (this.silent) return;
      // Its text the first time on a connection; after that only its statement's name.
      const insert = chunk.includes('INSERT INTO audit.event') || chunk.includes('audit-append');
      insertSent ||= insert;
      swallowing ||= insert && this.swallowInsertReplies;
      const send = () => {
        if (insert) this.insertsDelivered++;
        upstream.write(chunk);
      };
      if (hold && (insert || this.held.length)) this.held.push(send);
      else send();
    });
    upstream.on('data', (chunk: Buffer) => {
      if (this.silent || swallowing) return;
      if (insertSent && this.loseInsertReply) {
        this.loseInsertReply = false;
        return void client.destroy();
      }
      if (!client.destroyed) client.write(chunk);
    });
  }

  cut(): void {
    for (const { client } of this.links) client.destroy();
  }

  get heldCount(): number {
    return this.held.length;
  }

  release(): void {
    this.holdInserts = false;
    for (const send of this.held.splice(0)) send();
  }

  override async stop(): Promise<void> {
    this.release();
    await super.stop();
  }
}

describe('audit writer', () => {
  let url: string;
  let db: Client;
  const verify = () => verifyChain(async (text, params) => (await db.query(text, params)).rows);
  const storedSeqs = async (requestId: string) => (await db.query(`SELECT seq FROM audit.event WHERE request_id = $1 ORDER BY seq`, [requestId])).rows.map((r) => Number(r.seq));

  beforeAll(async () => {
    url = await cloneTemplateDatabase();
    db = await connected(url);
  });
  afterAll(() => db?.end());

  it('commits every batch durably (synchronous_commit on) whatever the database or the login role default to', async () => {
    const [{ db: name, login }] = (await db.query(`SELECT current_database() AS db, current_user AS login`)).rows;
    await db.query(`ALTER DATABASE "${name}" SET synchronous_commit = off`);
    await db.query(`ALTER ROLE "${login}" IN DATABASE "${name}" SET synchronous_commit = off`);
    const pool = auditWriterPool(url, 5000, '[audit.writer.test]');
    try {
      const plain = await connected(url);
      expect((await plain.query(`SHOW synchronous_commit`)).rows).toEqual([{ synchronous_commit: 'off' }]);
      await plain.end();
      expect((await pool.query(`SHOW synchronous_commit`)).rows).toEqual([{ synchronous_commit: 'on' }]);
    } finally {
      await pool.end();
      await db.query(`ALTER ROLE "${login}" IN DATABASE "${name}" RESET synchronous_commit`);
      await db.query(`ALTER DATABASE "${name}" RESET synchronous_commit`);
    }
  });

  it('several writers on one trail (hub instances, each its own pool): every append resolves, each event stored once, the chain unbroken', async () => {
    const pools = ['a', 'b', 'c'].map((n) => writerPool(url, `writers-${n}`));
    const writers = pools.map((p) => new AuditWriter(p));
    const ids: string[] = [];
    const appends: Promise<void>[] = [];
    try {
      // Each instance takes a steady stream of requests of its own, as under ordinary load: their
      // batches overlap, and each one's head is stale whenever another has committed since.
      await Promise.all(
        writers.map(async (w, i) => {
          for (let wave = 0; wave < 150; wave++) {
            for (let k = 0; k < 1 + ((wave * 7 + i * 5) % 12); k++) {
              const e = event(`writer-${i}`);
              ids.push(e.requestId);
              appends.push(w.append(e));
            }
            await sleep(wave % 3);
          }
        }),
      );
    } finally {
      await Promise.allSettled(appends);
      await Promise.all(pools.map((p) => p.end()));
    }
    const refused = (await Promise.allSettled(appends)).filter((o) => o.status === 'rejected');
    expect({ refused: refused.length, first: refused[0]?.reason?.message }).toEqual({ refused: 0, first: undefined });
    const { rows } = await db.query(`SELECT request_id::text AS id, count(*)::int AS n FROM audit.event WHERE request_id = ANY($1) GROUP BY 1`, [ids]);
    expect(rows).toHaveLength(ids.length);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    expect(await verify()).toEqual(expect.objectContaining({ ok: true, firstBreak: null }));
  });

  it('a batch another instance outraces at every try still gets through: retried alone under the trail\'s append lock, no INSERT can come between its head and its own', async () => {
    const loser = writerPool(url, 'writer-outraced');
    const rivals = writerPool(url, 'writer-rival');
    const loserClients = new Set<unknown>();
    loser.on('connect', (c) => loserClients.add(c));
    const rivalEvents: ReturnType<typeof event>[] = [];
    const rivalAppends: Promise<void>[] = [];
    const appendLockAwaited = async () => (await db.query(`SELECT 1 FROM pg_locks WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND locktype = 'advisory' AND NOT granted`)).rowCount;
    const query = Client.prototype.query;
    // Just before each of the loser's INSERTs, another instance appends the next event: a writer
    // whose head stays in memory needs one round trip for it, where the loser had to read the head.
    const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
      const send = () => (query as (...a: unknown[]) => Promise<unknown>).apply(this, args);
      if (!loserClients.has(this) || !(args[0] as { text?: string })?.text?.startsWith('INSERT INTO audit.event')) return send() as never;
      const e = event('rival');
      rivalEvents.push(e);
      const rival = new AuditWriter(rivals).append(e);
      rivalAppends.push(rival);
      let settled = false;
      rival.finally(() => (settled = true)).catch(() => undefined);
      return until('the rival to append or to wait on the lock', async () => settled || appendLockAwaited()).then(send) as never;
    });
    const mine = event('outraced');
    try {
      await expect(new AuditWriter(loser).append(mine)).resolves.toBeUndefined();
    } finally {
      spy.mockRestore();
      await Promise.allSettled(rivalAppends);
      await Promise.all([loser.end(), rivals.end()]);
    }
    // Outraced once, then through alone: the rival held back until the loser committed, then through itself.
    expect(rivalAppends).toHaveLength(2);
    expect((await Promise.allSettled(rivalAppends)).map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    for (const e of [mine, ...rivalEvents]) expect(await storedSeqs(e.requestId)).toHaveLength(1);
    expect((await storedSeqs(rivalEvents[0].requestId))[0]).toBeLessThan((await storedSeqs(mine.requestId))[0]);
    expect((await storedSeqs(mine.requestId))[0]).toBeLessThan((await storedSeqs(rivalEvents[1].requestId))[0]);
    expect(await verify()).toEqual(expect.objectContaining({ ok: true, firstBreak: null }));
  });

  it('indexes the UUIDs an event names, in lower case, under minor_ids; a name that is no UUID is kept in the body only and does not fail the batch', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const pool = writerPool(url, 'writer-minor-ids');
    try {
      const e = event('minor-ids');
      e.reads = [{ fields: { 'Minor.name': Access.ALLOW }, minorIds: [a.toUpperCase(), 'not-a-child', b] }];
      e.changes = [{ mutation: 'addCategory', id: null, minorId: a, fields: ['minorId'] }];
      await new AuditWriter(pool).append(e);
      const [row] = (await db.query(`SELECT minor_ids, body FROM audit.event WHERE request_id = $1`, [e.requestId])).rows;
      expect([...row.minor_ids].sort()).toEqual([a, b].sort());
      expect(JSON.parse(row.body).reads[0].minorIds).toEqual([a.toUpperCase(), 'not-a-child', b]);
      expect((await db.query(`SELECT count(*)::int AS n FROM audit.event WHERE minor_ids @> ARRAY[$1]::uuid[]`, [a])).rows[0].n).toBe(1);
      expect(await verify()).toEqual(expect.objectContaining({ ok: true, firstBreak: null }));
    } finally {
      await pool.end();
    }
  });

  it('stores batches of every size as the events were written — named statements up to 64 events, one planned each time above, 500 at most — and refuses a batch bound Postgres could not take', async () => {
    const pool = writerPool(url, 'writer-batch-sizes');
    const writer = new AuditWriter(pool);
    const events: ReturnType<typeof event>[] = [];
    // The statements the writer sends: name and events.
    const sent: [string | undefined, number][] = [];
    const query = Client.prototype.query;
    const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
      const q = args[0] as { name?: string; text?: string; values?: unknown[] };
      if (q?.text?.startsWith('INSERT INTO audit.event')) sent.push([q.name, q.values!.length / 12]);
      return (query as (...a: unknown[]) => never).apply(this, args);
    });
    try {
      // Appended at once, n events go as a batch of one and one of n − 1 (the writer sends what
      // waits as soon as the batch before is in); 600 as 1, 500 and 99.
      for (const n of [2, 3, 64, 65, 66, 600]) {
        const wave = Array.from({ length: n }, (_, i) => {
          const e = event(`batch-${n}`);
          // Client text the body holds as JSON escapes: quotes, backslashes, a NUL, an unpaired surrogate, CJK, an emoji.
          e.document = `{ minors(first: ${i}) { nodes { name } } } # "\\ \u0000 \ud800 未成年人 😀`;
          return e;
        });
        events.push(...wave);
        await Promise.all(wave.map((e) => writer.append(e)));
      }
    } finally {
      spy.mockRestore();
      await pool.end();
    }
    const named = (n: number) => [`audit-append-${n}`, n];
    expect(sent).toEqual([named(1), named(1), named(1), named(2), named(1), named(63), named(1), named(64), named(1), [undefined, 65], named(1), [undefined, 500], [undefined, 99]]);
    const { rows } = await db.query(`SELECT request_id::text AS id, body FROM audit.event WHERE user_id LIKE 'batch-%' ORDER BY seq`);
    expect(rows.map((r) => r.id)).toEqual(events.map((e) => e.requestId));
    expect(rows.map((r) => r.body)).toEqual(events.map((e) => canonicalJson(e)));
    expect(await verify()).toEqual(expect.objectContaining({ ok: true, firstBreak: null }));
    expect(() => new AuditWriter(pool, 5462)).toThrow(RangeError);
  });

  describe.each([
    ['the test cluster’s login (a superuser)', false],
    ['an ordinary login role that is a member of hub_audit_writer', true],
  ])('a connection lost on the hub’s side while Postgres still runs the INSERT, logged in as %s', (_, ordinary) => {
    let login: string;
    let role: string | undefined;
    let network: Network;
    let pool: Pool;
    let writer: AuditWriter;
    let lock: Client;
    const app = `writer-lost-${randomBytes(3).toString('hex')}`;

    beforeAll(async () => {
      login = url;
      if (ordinary) {
        role = `audit_login_${randomBytes(4).toString('hex')}`;
        await db.query(`CREATE ROLE ${role} LOGIN PASSWORD 'x' IN ROLE hub_audit_writer`);
        const u = new URL(url);
        u.username = role;
        u.password = 'x';
        login = u.toString();
      }
    });
    afterAll(async () => {
      if (role) await db.query(`DROP ROLE ${role}`);
    });

    beforeEach(async () => {
      network = new Network(new URL(url));
      await network.start();
      pool = writerPool(network.via(login), app);
      writer = new AuditWriter(pool);
      await writer.append(event('warm-up')); // head known, connection in use
      lock = await connected(url);
    });
    afterEach(async () => {
      await lock.end();
      await network.stop();
      await pool.end();
    });

    /** Makes the batch's INSERT wait (a SHARE lock: INSERTs wait, SELECTs do not); returns its backend's pid. */
    async function insertWaiting(): Promise<number> {
      return until('the INSERT to wait on the lock', async () => {
        const { rows } = await db.query(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO audit.event%'`,
          [app],
        );
        return rows[0]?.pid as number | undefined;
      });
    }
    const alive = async (pid: number) => (await db.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1`, [pid])).rows.length > 0;

    it('ends that session before sending the batch again, so the event is stored once', async () => {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE audit.event IN SHARE MODE');
      const e = event('lost');
      const appended = writer.append(e);
      const first = await insertWaiting();
      network.holdInserts = true; // the batch sent again waits on the way until the first INSERT is over
      network.cut();
      await until('the batch to be sent again', async () => network.heldCount > 0);
      const firstEndedBeforeResend = !(await alive(first));
      await lock.query('COMMIT'); // had it not been ended, the first INSERT would commit now
      await until('the first INSERT to be over', async () => !(await db.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'`, [first])).rows.length);
      network.release();
      await appended;
      expect(await storedSeqs(e.requestId)).toHaveLength(1);
      expect(firstEndedBeforeResend).toBe(true);
      expect(await verify()).toEqual(expect.objectContaining({ ok: true, firstBreak: null }));
    });

    it('does not send a batch again whose commit only lost its reply', async () => {
      const e = event('reply-lost');
      network.loseInsertReply = true;
      network.holdInserts = true; // a second INSERT would wait here
      await writer.append(e);
      expect(network.heldCount).toBe(0);
      expect(await storedSeqs(e.requestId)).toHaveLength(1);
      expect(await verify()).toEqual(expect.objectContaining({ ok: true, firstBreak: null }));
    });

    it('refuses the batch as in doubt, naming its events, when the database cannot be reached to make sure', async () => {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE audit.event IN SHARE MODE');
      const [{ seq: head }] = (await db.query(`SELECT max(seq)::int AS seq FROM audit.event`)).rows;
      const appended = writer.append(event('in-doubt'));
      await insertWaiting();
      network.down = true;
      network.cut();
      const error = await appended.then(() => null, (err: unknown) => err);
      await lock.query('ROLLBACK');
      expect(error).toBeInstanceOf(AuditInDoubtError);
      expect((error as Error).message).toContain(`events ${head + 1}–${head + 1} may be stored`);
    });
  });

  describe('a database that stops answering, its connections left open (the pool as the hub builds it, HUB_AUDIT_TIMEOUT_MS = 1000)', () => {
    let network: Network;
    let pool: Pool;
    let writer: AuditWriter;

    beforeEach(async () => {
      network = new Network(new URL(url));
      await network.start();
      pool = auditWriterPool(network.via(url), 1000, '[audit.writer.test]');
      writer = new AuditWriter(pool);
      await writer.append(event('warm-up')); // head known, a connection open
    });
    afterEach(async () => {
      await network.stop();
      await pool.end();
    });

    /** How the append settled and how long it took; a writer without a bound of its own never settles (the test times out). */
    async function settled(appended: Promise<void>): Promise<{ error: unknown; ms: number }> {
      const start = Date.now();
      const error = await appended.then(() => null, (err: unknown) => err);
      return { error, ms: Date.now() - start };
    }

    it('a commit whose reply never comes (as one stuck on its WAL flush) is looked for once the reply is overdue: found, the append resolves, the event stored once', async () => {
      const e = event('reply-overdue');
      network.swallowInsertReplies = true;
      const { error, ms } = await settled(writer.append(e));
      expect(error).toBeNull();
      expect(ms).toBeGreaterThanOrEqual(2000); // it did wait for the reply: timeout + margin
      expect(network.insertsDelivered).toBe(2); // the warm-up's and this one: not sent again
      expect(await storedSeqs(e.requestId)).toHaveLength(1);
      expect(await verify()).toEqual(expect.objectContaining({ ok: true, firstBreak: null }));
    });

    it('a silent partition refuses the append as in doubt within a bound, and appends resume once the network is back', async () => {
      network.silent = true;
      // Refused after the reply's wait (2 s) and settling (2 s, each connection attempt up to 1 s).
      const { error } = await settled(writer.append(event('partitioned')));
      expect(error).toBeInstanceOf(AuditInDoubtError);
      network.silent = false;
      const after = event('after-partition');
      await writer.append(after);
      expect(await storedSeqs(after.requestId)).toHaveLength(1);
      expect(await verify()).toEqual(expect.objectContaining({ ok: true, firstBreak: null }));
    });
  });
});
