import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { chainHash } from '../src/audit/canonical';
import { verifyChain } from '../src/audit/audit.verify';
import { Department, Role } from '../src/auth/principal';
import { asDba, eventCount, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

const run = promisify(execFile);

/** The trail's guarantees: fail closed, tamper-evident, complete under concurrency, append-only. */
describe('audit chain', () => {
  let t: TestHub;
  let police: string;
  let auditor: string;
  let minorId: string;

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_AUDIT_TIMEOUT_MS: '1000' } });
    police = await t.token(Department.POLICE);
    auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR });
    [{ id: minorId }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
    for (let i = 0; i < 5; i++) await post(t, police, { query: `{ regions { code } }` });
  });
  afterAll(() => t?.stop());

  const verifyApi = async () => (await t.gql(auditor, `{ auditVerify { ok events headHash firstBreak { seq reason requestId } } }`, undefined, {})).data.auditVerify;
  /** Verifies without going through the API: an API call is itself audited and would extend the chain mid-tamper. */
  const verify = async () => {
    await t.hub.audit.drain();
    const s = await verifyChain((text, params) => t.sql(text, params));
    return { ...s, firstBreak: s.firstBreak && { ...s.firstBreak, seq: String(s.firstBreak.seq) } };
  };

  it('keeps the chain unbroken under 200 concurrent requests and loses none', async () => {
    const before = await eventCount(t);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        i % 2 ? post(t, police, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: minorId } }) : post(t, police, { query: `{ regions { code } }` }),
      ),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(await eventCount(t)).toBe(before + 200);
    const ids = await t.sql(`SELECT request_id FROM audit.event WHERE request_id = ANY($1)`, [results.map((r) => r.requestId)]);
    expect(ids).toHaveLength(200);
    const status = await verifyApi();
    expect(status.ok).toBe(true);
    expect(status.firstBreak).toBeNull();
    // Group commit: fewer transactions than requests is the point; the chain must not care.
    const [{ n }] = await t.sql(`SELECT count(DISTINCT prev_hash)::int AS n FROM audit.event`);
    expect(n).toBe(await eventCount(t));
  });

  it('fails closed: when the trail cannot be written the client gets an error and no data', async () => {
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await t.sql(`REVOKE INSERT ON audit.event FROM hub_audit_writer`);
      const before = await eventCount(t);
      const r = await post(t, police, { query: `query($id: ID!) { minor(id: $id) { name idNumber } }`, variables: { id: minorId } });
      expect(r.status).toBe(503);
      expect(r.json.data).toBeUndefined();
      expect(r.json.errors).toEqual([{ message: expect.any(String), extensions: { code: 'AUDIT_UNAVAILABLE' } }]);
      expect(JSON.stringify(r.json)).not.toContain(minorId);
      // Refused before GraphQL (no token), its refusal unwritten: 503 as every refusal is answered, never kept by a cache.
      const unauth = await post(t, null, { query: `{ regions { code } }` });
      expect([unauth.status, unauth.headers.get('cache-control'), unauth.json.errors[0].extensions.code]).toEqual([503, 'no-store', 'AUDIT_UNAVAILABLE']);
      expect(await eventCount(t)).toBe(before);
    } finally {
      await t.sql(`GRANT INSERT ON audit.event TO hub_audit_writer`);
      log.mockRestore();
    }
    const after = await post(t, police, { query: `{ regions { code } }` });
    expect(after.status).toBe(200);
    expect((await verify()).ok).toBe(true);
  });

  it('fails closed, without waiting for it, when the trail is held by a lock (HUB_AUDIT_TIMEOUT_MS)', async () => {
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const dba = new Client({ connectionString: t.databaseUrl });
    await dba.connect();
    try {
      // As a long ALTER TABLE or a stuck maintenance session would: SELECTs go on, INSERTs wait.
      await dba.query(`BEGIN; LOCK TABLE audit.event IN SHARE MODE`);
      const before = await eventCount(t);
      const r = await post(t, police, { query: `query($id: ID!) { minor(id: $id) { name idNumber } }`, variables: { id: minorId } });
      expect(r.status).toBe(503);
      expect(r.json).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'AUDIT_UNAVAILABLE' } }] });
      expect(await eventCount(t)).toBe(before);
    } finally {
      await dba.query('ROLLBACK');
      await dba.end();
      log.mockRestore();
    }
    expect((await post(t, police, { query: `{ regions { code } }` })).status).toBe(200);
    expect((await verify()).ok).toBe(true);
  });

  it('survives the database dropping an idle audit connection, and audits the next request', async () => {
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await post(t, police, { query: `{ regions { code } }` }); // leaves an idle writer connection
      // Test files share one server: only this file's database, or another file's request loses its audit.
      const [{ n }] = await t.sql(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND usename = current_user AND state = 'idle' AND query LIKE 'INSERT INTO audit.event%'`,
      );
      expect(n).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 200)); // the pool sees the loss as an 'error' event
      const before = await eventCount(t);
      const r = await post(t, police, { query: `{ regions { code } }` });
      expect(r.status).toBe(200);
      expect(await eventCount(t)).toBe(before + 1);
      expect(log).toHaveBeenCalledWith('[hub] audit pool connection lost:', expect.any(String));
    } finally {
      log.mockRestore();
    }
  });

  it('writes a batch whose connection is lost mid-write again on a fresh one, exactly once', async () => {
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const lock = new Client({ connectionString: t.databaseUrl });
    await lock.connect();
    try {
      const before = await eventCount(t);
      // Hold the writer's INSERT on a lock, end its session there, then let the retry through.
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE audit.event IN ACCESS EXCLUSIVE MODE');
      const pending = post(t, police, { query: `{ regions { code } }` });
      let pid: number | undefined;
      for (let i = 0; i < 100 && !pid; i++) {
        const { rows } = await lock.query(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO audit.event%'`,
        );
        pid = rows[0]?.pid;
        if (!pid) await new Promise((r) => setTimeout(r, 20));
      }
      expect(pid).toBeDefined();
      await lock.query('SELECT pg_terminate_backend($1)', [pid]);
      await lock.query('COMMIT');
      const r = await pending;
      expect(r.status).toBe(200);
      expect(await eventCount(t)).toBe(before + 1);
      expect(await t.sql(`SELECT seq FROM audit.event WHERE request_id = $1`, [r.requestId])).toHaveLength(1);
      expect(log).not.toHaveBeenCalledWith('[hub] audit write failed; the response is withheld', expect.anything());
    } finally {
      await lock.end();
      log.mockRestore();
    }
    expect((await verify()).ok).toBe(true);
  });

  it('is append-only for the application: the writer role cannot update or delete, and triggers refuse even the owner', async () => {
    const c = new Client({ connectionString: t.databaseUrl });
    await c.connect();
    try {
      await c.query('BEGIN');
      await c.query('SET LOCAL ROLE hub_audit_writer');
      await expect(c.query(`UPDATE audit.event SET body = body WHERE seq = 1`)).rejects.toThrow(/permission denied/);
      await c.query('ROLLBACK');
      await c.query('BEGIN');
      await c.query('SET LOCAL ROLE hub_audit_writer');
      await expect(c.query(`DELETE FROM audit.event WHERE seq = 1`)).rejects.toThrow(/permission denied/);
      await c.query('ROLLBACK');
      await expect(c.query(`UPDATE audit.event SET body = body WHERE seq = 1`)).rejects.toThrow(/append-only/);
      await expect(c.query(`DELETE FROM audit.event WHERE seq = 1`)).rejects.toThrow(/append-only/);
      await expect(c.query(`TRUNCATE audit.event`)).rejects.toThrow(/append-only/);
      await c.query('BEGIN');
      await c.query('SET LOCAL ROLE hub_audit_reader');
      await expect(c.query(`INSERT INTO audit.event (seq, prev_hash, hash, body) VALUES (999999, '', '', '{}')`)).rejects.toThrow(/permission denied/);
      await c.query('ROLLBACK');
    } finally {
      await c.end();
    }
  });

  it('walks the chain in pages bounded by the bytes of their bodies, and verifies once per request', async () => {
    // A caller may make each of their events up to a megabyte (a document of aliases): a page of
    // 5,000 such bodies once ended the hub's process under an auditor's routine verification.
    await post(t, police, { query: `{ ${Array.from({ length: 1000 }, (_, i) => `an_alias_of_typename_${i}: __typename`).join(' ')} }` });
    await t.hub.audit.drain();
    const pages: number[] = [];
    const BOUND = 2048;
    const status = await verifyChain(async (text, params) => {
      const rows = await t.sql(text, params);
      const bytes = rows.map((r: { body: string }) => Buffer.byteLength(r.body));
      pages.push(bytes.slice(0, -1).reduce((a: number, b: number) => a + b, 0)); // the bodies before the page's last
      return rows;
    }, [], 5000, BOUND);
    const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM audit.event`);
    expect([status.ok, status.events]).toEqual([true, n]);
    expect(pages.length).toBeGreaterThan(2);
    for (const p of pages) expect(p).toBeLessThan(BOUND); // a page ends with the body that reaches the bound, whatever its size

    const twice = await t.gql(auditor, `{ a: auditVerify { ok } b: auditVerify { ok } }`, undefined, {});
    expect([twice.data.a, twice.data.b, twice.errors!.map((e: any) => e.extensions.code)]).toEqual([{ ok: true }, null, ['LIMIT_EXCEEDED']]);
  });

  describe('tamper detection', () => {
    it('finds a search column changed to hide an event from a search', async () => {
      const seq = await seqOf(2);
      await asDba(t, (c) => c.query(`UPDATE audit.event SET user_id = 'someone-else' WHERE seq = $1`, [seq]));
      try {
        expect(await verify()).toMatchObject({ ok: false, firstBreak: { seq: String(seq), reason: 'MODIFIED' } });
      } finally {
        await asDba(t, (c) => c.query(`UPDATE audit.event SET user_id = body::jsonb ->> 'userId' WHERE seq = $1`, [seq]));
      }
      expect((await verify()).ok).toBe(true);
    });

    const seqOf = async (offset: number) => Number((await t.sql(`SELECT seq FROM audit.event ORDER BY seq LIMIT 1 OFFSET $1`, [offset]))[0].seq);

    it('finds a modified event', async () => {
      const seq = await seqOf(2);
      const [original] = await t.sql(`SELECT body FROM audit.event WHERE seq = $1`, [seq]);
      await asDba(t, (c) => c.query(`UPDATE audit.event SET body = replace(body, '"POLICE"', '"EDUCATION"') WHERE seq = $1`, [seq]));
      try {
        expect(await verify()).toMatchObject({ ok: false, firstBreak: { seq: String(seq), reason: 'MODIFIED' } });
        // The data officer's query reports the same break (its own event lands at the end).
        expect(await verifyApi()).toMatchObject({ ok: false, firstBreak: { seq: String(seq), reason: 'MODIFIED' } });
      } finally {
        await asDba(t, (c) => c.query(`UPDATE audit.event SET body = $2 WHERE seq = $1`, [seq, original.body]));
      }
      expect((await verify()).ok).toBe(true);
    });

    it('finds a deleted event', async () => {
      const seq = await seqOf(3);
      await asDba(t, async (c) => {
        await c.query(`CREATE TEMP TABLE deleted AS SELECT * FROM audit.event WHERE seq = $1`, [seq]);
        await c.query(`DELETE FROM audit.event WHERE seq = $1`, [seq]);
        try {
          expect(await verify()).toMatchObject({ ok: false, firstBreak: { seq: String(seq + 1), reason: 'MISSING' } });
        } finally {
          await c.query(`INSERT INTO audit.event SELECT * FROM deleted`);
        }
      });
      expect((await verify()).ok).toBe(true);
    });

    it('finds an inserted event, even with a recomputed own hash', async () => {
      const seq = await seqOf(1);
      const rows = await t.sql(`SELECT seq, prev_hash, hash, body FROM audit.event WHERE seq >= $1 ORDER BY seq DESC`, [seq]);
      // Shift everything from `seq` up by one and slip a forged event in at `seq`.
      await asDba(t, async (c) => {
        for (const r of rows) await c.query(`UPDATE audit.event SET seq = seq + 1 WHERE seq = $1`, [r.seq]);
        // A forged copy of the original event at `seq`, its own hash recomputed.
        const original = rows[rows.length - 1];
        const forged = original.body.replace(/"requestId":"[^"]*"/, '"requestId":"00000000-0000-4000-8000-000000000001"');
        await c.query(
          `INSERT INTO audit.event SELECT $1, $2, $3, $4, '00000000-0000-4000-8000-000000000001', occurred_at, user_id, department, region, outcome, purpose, minor_ids
           FROM audit.event WHERE seq = $5`,
          [seq, original.prev_hash, chainHash(original.prev_hash, seq, forged), forged, seq + 1],
        );
      });
      try {
        // The forgery is self-consistent; the chain breaks where the genuine successor no longer links to it.
        expect(await verify()).toMatchObject({ ok: false, firstBreak: { seq: String(seq + 1), reason: 'LINK' } });
      } finally {
        await asDba(t, async (c) => {
          await c.query(`DELETE FROM audit.event WHERE seq = $1`, [seq]);
          for (const r of [...rows].reverse()) await c.query(`UPDATE audit.event SET seq = seq - 1 WHERE seq = $1`, [Number(r.seq) + 1]);
        });
      }
      expect((await verify()).ok).toBe(true);
    });

    it('finds reordered events', async () => {
      const a = await seqOf(1);
      const b = a + 1;
      // Swap two neighbours through a free number (seq must stay positive).
      const swap = () =>
        asDba(t, async (c) => {
          await c.query(`UPDATE audit.event SET seq = 900000000 WHERE seq = $1`, [a]);
          await c.query(`UPDATE audit.event SET seq = $1 WHERE seq = $2`, [a, b]);
          await c.query(`UPDATE audit.event SET seq = $1 WHERE seq = 900000000`, [b]);
        });
      await swap();
      try {
        expect(await verify()).toMatchObject({ ok: false, firstBreak: { seq: String(a), reason: 'LINK' } });
      } finally {
        await swap();
      }
      expect((await verify()).ok).toBe(true);
    });

    it('is reported by `npm run audit:verify` too, with a failing exit code', async () => {
      const cli = path.join(__dirname, '..', 'src', 'cli', 'audit-verify.cli.ts');
      const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
      const env = { ...process.env, DATABASE_URL: t.databaseUrl };
      const ok = await run(tsx, [cli], { env });
      expect(ok.stdout).toMatch(/audit chain OK: \d+ events/);
      const seq = await seqOf(4);
      const [original] = await t.sql(`SELECT body FROM audit.event WHERE seq = $1`, [seq]);
      await asDba(t, (c) => c.query(`UPDATE audit.event SET body = replace(body, 'OFFICER', 'AUDITOR') WHERE seq = $1`, [seq]));
      try {
        const broken = await run(tsx, [cli], { env }).then(
          () => null,
          (e) => e,
        );
        expect(broken.code).toBe(1);
        expect(broken.stdout).toContain(`BROKEN at event ${seq}`);
      } finally {
        await asDba(t, (c) => c.query(`UPDATE audit.event SET body = $2 WHERE seq = $1`, [seq, original.body]));
      }
    });

    it('`npm run audit:verify` reads the trail as hub_audit_reader, not as the owner of the tables', async () => {
      const cli = path.join(__dirname, '..', 'src', 'cli', 'audit-verify.cli.ts');
      const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
      const env = { ...process.env, DATABASE_URL: t.databaseUrl };
      // Without the reader's one grant it cannot read the trail: the owner's would have done.
      await asDba(t, (c) => c.query(`REVOKE SELECT ON audit.event FROM hub_audit_reader`));
      try {
        const refused = await run(tsx, [cli], { env }).then(
          () => null,
          (e) => e,
        );
        expect(refused.code).toBe(2);
        expect(refused.stderr).toContain('audit:verify: permission denied for table event');
      } finally {
        await asDba(t, (c) => c.query(`GRANT SELECT ON audit.event TO hub_audit_reader`));
      }
      expect((await run(tsx, [cli], { env })).stdout).toMatch(/audit chain OK: \d+ events/);
    });
  });
});
