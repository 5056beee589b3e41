import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { anchorLine, anchorsIn, startAnchoring, type ChainAnchor } from '../src/audit/audit.anchor';
import { verifyChain } from '../src/audit/audit.verify';
import { chainHash } from '../src/audit/canonical';
import { Department, Role } from '../src/auth/principal';
import { asDba, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

const run = promisify(execFile);

/**
 * What the chain alone cannot show — its newest events cut off, or the chain rewritten from an
 * event on with every later hash recomputed, by whoever may write `audit.event` — shown against
 * anchors: heads the hub logged, kept off the database's machine.
 */
describe('audit chain anchors', () => {
  let t: TestHub;
  let police: string;
  let auditor: string;
  let minorId: string;

  beforeAll(async () => {
    t = await startTestHub();
    police = await t.token(Department.POLICE, { user: 'anchored-officer' });
    auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR });
    [{ id: minorId }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
    for (let i = 0; i < 3; i++) await post(t, police, { query: `{ regions { code } }` });
  });
  afterAll(() => t?.stop());

  const head = async (): Promise<ChainAnchor> => {
    await t.hub.audit.drain();
    const [row] = await t.sql(`SELECT seq::int AS seq, hash FROM audit.event ORDER BY seq DESC LIMIT 1`);
    return { seq: row.seq, hash: row.hash };
  };
  const VERIFY = `query($anchors: [AuditChainAnchor!]) { auditVerify(anchors: $anchors) { ok events anchorsChecked firstBreak { seq reason detail } } }`;
  const verifyApi = async (anchors: ChainAnchor[]) => {
    const r = await t.gql(auditor, VERIFY, { anchors: anchors.map((a) => ({ seq: String(a.seq), hash: a.hash })) }, {});
    expect(r.errors).toBeUndefined();
    return r.data.auditVerify;
  };

  /** An officer's read of a child, and the head anchored right after it. */
  async function anchoredRead(): Promise<{ requestId: string; seq: number; anchor: ChainAnchor }> {
    const read = await post(t, police, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: minorId } });
    expect(read.status).toBe(200);
    const anchor = await head();
    const [{ seq }] = await t.sql(`SELECT seq::int AS seq FROM audit.event WHERE request_id = $1`, [read.requestId]);
    return { requestId: read.requestId, seq, anchor };
  }

  /**
   * Runs `work` on the trail tampered from `seq` on, then puts those events back as they were. An
   * event the hub wrote meanwhile (the API's own) follows the writer's head, the untampered one, and
   * is kept: the chain is whole again.
   */
  async function tampered<T>(seq: number, tamper: (c: Client) => Promise<void>, work: () => Promise<T>): Promise<T> {
    return asDba(t, async (c) => {
      await c.query(`CREATE TEMP TABLE kept AS SELECT * FROM audit.event WHERE seq >= $1`, [seq]);
      try {
        await tamper(c);
        return await work();
      } finally {
        await t.hub.audit.drain();
        await c.query(`DELETE FROM audit.event WHERE seq >= $1 AND seq <= (SELECT max(seq) FROM kept)`, [seq]);
        await c.query(`INSERT INTO audit.event SELECT * FROM kept`);
        await c.query(`DROP TABLE kept`);
      }
    });
  }

  it('logs the head once at start and again only when it moved', async () => {
    const lines: string[] = [];
    const first = await head();
    const anchoring = startAnchoring(t.hub.db.ds, 1, () => null, (m) => lines.push(m));
    try {
      await new Promise((r) => setTimeout(r, 1300));
      expect(lines).toEqual([`[hub] ${anchorLine(first)}`]);
      await post(t, police, { query: `{ regions { code } }` });
      const moved = await head();
      await new Promise((r) => setTimeout(r, 1300));
      expect(lines).toEqual([`[hub] ${anchorLine(first)}`, `[hub] ${anchorLine(moved)}`]);
      expect(anchorsIn(lines.join('\n'))).toEqual([first, moved]);
    } finally {
      await anchoring.stop();
    }
  });

  it('verifies a sound chain against every anchor given', async () => {
    const { anchor } = await anchoredRead();
    const status = await verifyApi([{ seq: 1, hash: (await t.sql(`SELECT hash FROM audit.event WHERE seq = 1`))[0].hash }, anchor]);
    expect(status).toEqual({ ok: true, events: expect.any(Number), anchorsChecked: 2, firstBreak: null });
  });

  it('reports a chain whose newest events were cut off as TRUNCATED, which the chain alone verifies', async () => {
    const { requestId, seq, anchor } = await anchoredRead();
    const status = await tampered(
      seq,
      async (c) => void (await c.query(`DELETE FROM audit.event WHERE seq >= $1`, [seq])),
      async () => {
        expect(await t.sql(`SELECT 1 FROM audit.event WHERE request_id = $1`, [requestId])).toEqual([]);
        // As stored, as the CLI walks it: the hub's writer still holds the head from before the cut.
        const query = (text: string, params: unknown[]) => t.sql(text, params);
        expect((await verifyChain(query)).ok).toBe(true);
        return verifyChain(query, [anchor]);
      },
    );
    expect(status.ok).toBe(false);
    expect(status.firstBreak).toEqual({ seq, requestId: null, reason: 'TRUNCATED', detail: `the chain ends at event ${seq - 1}, and event ${anchor.seq} was anchored` });
  });

  it('reports an event rewritten with every later hash recomputed as ANCHOR, through the API', async () => {
    const { seq, anchor } = await anchoredRead();
    const status = await tampered(
      seq,
      async (c) => {
        // The officer's read becomes someone else's, of no child; every later event re-chained.
        const rows = (await c.query(`SELECT seq::int AS seq, prev_hash, body FROM audit.event WHERE seq >= $1 ORDER BY seq`, [seq])).rows;
        let prev = rows[0].prev_hash;
        for (const r of rows) {
          const body = r.seq === seq ? r.body.replace('"anchored-officer"', '"someone-else"') : r.body;
          const hash = chainHash(prev, r.seq, body);
          await c.query(`UPDATE audit.event SET prev_hash = $2, hash = $3, body = $4 WHERE seq = $1`, [r.seq, prev, hash, body]);
          if (r.seq === seq) await c.query(`UPDATE audit.event SET user_id = 'someone-else' WHERE seq = $1`, [seq]);
          prev = hash;
        }
      },
      async () => verifyApi([anchor]),
    );
    expect(status.ok).toBe(false);
    expect(status.anchorsChecked).toBe(0);
    expect(status.firstBreak).toEqual({ seq: String(anchor.seq), reason: 'ANCHOR', detail: `the event's hash is not the one anchored (${anchor.hash})` });
    expect((await verifyApi([anchor])).ok).toBe(true);
  });

  it('refuses malformed anchors, and more than a request may give, as BAD_USER_INPUT', async () => {
    const { anchor } = await anchoredRead();
    for (const bad of [{ seq: '0', hash: anchor.hash }, { seq: '-1', hash: anchor.hash }, { seq: '1e3', hash: anchor.hash }, { seq: '1', hash: anchor.hash.toUpperCase() }, { seq: '1', hash: 'ab' }]) {
      const r = await t.gql(auditor, VERIFY, { anchors: [bad] }, {});
      expect([bad, errorCodes(r)]).toEqual([bad, ['BAD_USER_INPUT']]);
    }
    const many = Array.from({ length: 10_001 }, () => ({ seq: '1', hash: anchor.hash }));
    expect(errorCodes(await t.gql(auditor, VERIFY, { anchors: many }, {}))).toEqual(['BAD_USER_INPUT']);
    // Still the trail's: refused to an officer, anchors or not.
    expect(errorCodes(await t.gql(police, VERIFY, { anchors: [{ seq: '1', hash: anchor.hash }] }, {}))).toEqual(['FORBIDDEN']);
  });

  it('`npm run audit:verify -- --anchors FILE` checks the anchor lines of a log, and exits 1 on a rewritten chain', async () => {
    const { seq, anchor } = await anchoredRead();
    const log = path.join(mkdtempSync(path.join(os.tmpdir(), 'anchors-')), 'hub.log');
    writeFileSync(log, `[hub] listening\n[hub] ${anchorLine({ seq: 1, hash: (await t.sql(`SELECT hash FROM audit.event WHERE seq = 1`))[0].hash })}\nnoise\n[hub] ${anchorLine(anchor)}\n`);
    const cli = path.join(__dirname, '..', 'src', 'cli', 'audit-verify.cli.ts');
    const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
    const env = { ...process.env, DATABASE_URL: t.databaseUrl };
    expect((await run(tsx, [cli, '--anchors', log], { env })).stdout).toMatch(/^audit chain OK: \d+ events, head [0-9a-f]{64}, 2 of 2 anchors matched$/m);
    const broken = await tampered(
      seq,
      async (c) => void (await c.query(`DELETE FROM audit.event WHERE seq >= $1`, [seq])),
      () => run(tsx, [cli, '--anchors', log], { env }).then(() => null, (e) => e),
    );
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(`BROKEN at event ${seq} (request ?): TRUNCATED`);
    const empty = path.join(path.dirname(log), 'empty.log');
    writeFileSync(empty, 'no anchors here\n');
    const refused = await run(tsx, [cli, '--anchors', empty], { env }).then(() => null, (e) => e);
    expect([refused.code, refused.stderr]).toEqual([2, expect.stringContaining('holds no "audit anchor seq=… hash=…" line')]);
  });
});
