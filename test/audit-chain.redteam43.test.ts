import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chainHash } from '../src/audit/canonical';
import { verifyChain } from '../src/audit/audit.verify';
import { Department } from '../src/auth/principal';
import { anchorsIn } from '../src/audit/audit.anchor';
import { asDba, eventsOf, post } from './support/audit-helpers';
import { randomBytes } from 'node:crypto';
import { startSubgraphServer, SubgraphServer } from '../src/server/subgraph.server';
import { startTestHub, testConfig, TestHub } from './support/test-hub';

const run = promisify(execFile);

/** Red team 43: the audit chain under mixed concurrent requests, and `npm run audit:verify`'s anchors. */
describe('audit chain (red team 43)', () => {
  let t: TestHub;
  let police: string;
  let minorId: string;
  const cli = path.join(__dirname, '..', 'src', 'cli', 'audit-verify.cli.ts');
  const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');

  beforeAll(async () => {
    t = await startTestHub();
    police = await t.token(Department.POLICE, { user: 'rt43-officer' });
    [{ id: minorId }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
    await post(t, police, { query: `{ regions { code } }` });
  });
  afterAll(() => t?.stop());

  const verify = async () => {
    await t.hub.audit.drain();
    return verifyChain((text, params) => t.sql(text, params));
  };

  it('keeps one final event per request and a sound chain under 45 mixed concurrent requests (reads, mutations, refusals, invalid bodies)', async () => {
    const kinds = [
      () => post(t, police, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: minorId } }),
      () => post(t, null, { query: `{ regions { code } }` }),
      () => post(t, police, '{"query": '),
      () => post(t, police, { query: `{ nope }` }),
      () => post(t, police, [{ query: `{ regions { code } }` }]),
      () => post(t, police, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: minorId } }, {}),
      () => post(t, police, { query: `{ regions { code } }` }, { 'x-purpose': 'CASE_HANDLING', accept: 'text/html' }),
      () => post(t, police, { variables: {} }),
      () => post(t, civil, { query: `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "rt43 ✓" }) { visitedAt } }`, variables: { id: minorId } }),
    ];
    const civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'rt43-civil' });
    const results = await Promise.all(Array.from({ length: 45 }, (_, i) => kinds[i % kinds.length]()));
    for (const [i, r] of results.entries()) {
      expect(r.requestId).toMatch(/./);
      const events = await eventsOf(t, r.requestId);
      expect(events.filter((e) => e.outcome !== 'STARTED')).toHaveLength(1);
      if (i % kinds.length === kinds.length - 1) {
        // A mutation: its STARTED event before its final one, which names the visit it recorded.
        expect(r.json.errors).toBeUndefined();
        expect(events.map((e) => e.outcome)).toEqual(['STARTED', 'SUCCESS']);
        expect(events[1].body.changes).toEqual([expect.objectContaining({ mutation: 'recordVisit', minorId })]);
      }
    }
    const s = await verify();
    expect(s.firstBreak).toBeNull();
    expect(s.ok).toBe(true);
  });

  it('does not anchor, as the hub stops, a tail cut off since its last anchor: the events it wrote and logged nothing of stay detectable (TRUNCATED)', async () => {
    await t.hub.audit.drain();
    const lines: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((...m: unknown[]) => void lines.push(m.join(' ')));
    let second: TestHub | undefined;
    let cut: { seq: number; requestId: string }[] = [];
    try {
      // A hub that anchors (as in production: every 300 s, at start and as it stops).
      second = await startTestHub({ databaseUrl: t.databaseUrl, env: { HUB_AUDIT_ANCHOR_SECONDS: '300' } });
      const officer = await second.token(Department.POLICE, { user: 'rt43-cut-officer' });
      const read = await post(second, officer, { query: `query($id: ID!) { minor(id: $id) { name idNumber guardians { phone } } }`, variables: { id: minorId } });
      expect(read.status).toBe(200);
      expect(read.json.data.minor.name).toEqual(expect.any(String));
      await second.hub.audit.drain();
      cut = (await t.sql(`SELECT seq::int AS seq, request_id AS "requestId" FROM audit.event WHERE request_id = $1`, [read.requestId])) as { seq: number; requestId: string }[];
      expect(cut).toHaveLength(1);
      // Whoever may write audit.event cuts the officer's read of the child off the end of the chain
      // before the next tick, then the hub is stopped (a deploy, a restart).
      await asDba(t, (c) => c.query(`DELETE FROM audit.event WHERE seq >= $1`, [cut[0].seq]));
      await second.stop();
      second = undefined;
    } finally {
      spy.mockRestore();
      await second?.stop();
    }
    const anchors = anchorsIn(lines.join('\n'));
    expect(anchors.length).toBeGreaterThanOrEqual(1);
    // The hub wrote event `cut` and logged it nowhere: its stop anchor read the head off the database,
    // as cut, so the log of the chain that the database's owner cannot reach vouches for the cut chain.
    const s = await verifyChain((text, params) => t.sql(text, params), anchors);
    expect(s.ok).toBe(false);
    expect(s.firstBreak?.reason).toBe('TRUNCATED');
  });

  it('anchors, as a gateway whose audit subgraph runs apart stops, the events it wrote: a tail cut off while it is down stays detectable (TRUNCATED)', async () => {
    await t.hub.audit.drain();
    const lines: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((...m: unknown[]) => void lines.push(m.join(' ')));
    const env = { HUB_AUDIT_ANCHOR_SECONDS: '300' };
    const secret = randomBytes(32).toString('hex');
    let audit: SubgraphServer | undefined;
    let gateway: TestHub | undefined;
    try {
      // Distributed mode: the audit subgraph served alone (it anchors, every 300 s, at start and as it
      // stops); the gateway, which writes every request's event, serves the rest.
      audit = await startSubgraphServer('audit', testConfig({ databaseUrl: t.databaseUrl, gatewaySecret: secret, env }), 0);
      gateway = await startTestHub({ databaseUrl: t.databaseUrl, gatewaySecret: secret, subgraphUrls: { audit: audit.url }, env });
      const officer = await gateway.token(Department.POLICE, { user: 'rt43-gw-officer' });
      const read = await post(gateway, officer, { query: `query($id: ID!) { minor(id: $id) { name idNumber } }`, variables: { id: minorId } });
      expect(read.status).toBe(200);
      expect(read.json.data.minor.name).toEqual(expect.any(String));
      await gateway.hub.audit.drain();
      const [{ seq }] = await t.sql(`SELECT seq::int AS seq FROM audit.event WHERE request_id = $1`, [read.requestId]);
      // The gateway is stopped (a rolling deploy; the audit subgraph's process stays up) …
      await gateway.stop();
      gateway = undefined;
      // … and while it is down the officer's read of the child is cut off the end of the chain.
      await asDba(t, (c) => c.query(`DELETE FROM audit.event WHERE seq >= $1`, [seq]));
    } finally {
      spy.mockRestore();
      await gateway?.stop();
    }
    try {
      const anchors = anchorsIn(lines.join('\n'));
      expect(anchors.length).toBeGreaterThanOrEqual(1);
      const s = await verifyChain((text, params) => t.sql(text, params), anchors);
      expect(s.ok).toBe(false);
      expect(s.firstBreak?.reason).toBe('TRUNCATED');
    } finally {
      await audit?.stop();
    }
  });

  it('`npm run audit:verify --anchors` does not call the chain OK (exit 0) on an anchor line it could check against no event (seq=0), which the API refuses', async () => {
    await t.hub.audit.drain();
    const [{ hash }] = await t.sql(`SELECT hash FROM audit.event ORDER BY seq DESC LIMIT 1`);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rt43-'));
    const log = path.join(dir, 'hub.log');
    writeFileSync(log, `[hub] audit anchor seq=0 hash=${hash}\n`);
    const env = { ...process.env, DATABASE_URL: t.databaseUrl };
    const r = await run(tsx, [cli, '--anchors', log], { env }).then(
      (ok) => ({ code: 0, stdout: ok.stdout, stderr: ok.stderr }),
      (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
    );
    // An anchor that matched no event checked nothing: OK with "0 of 1 anchors matched" passes a
    // script that reads the exit code alone.
    expect(r.code).not.toBe(0);
  });
});

/**
 * Red team 44: the anchor compared the database's head with the newest event this process wrote by seq
 * only. A tail holding this process's events, cut by the database's owner and rewritten (a valid chain
 * of other bodies) up to past that seq before the next tick, raises no alarm: the anchor logs the
 * rewritten head, and every anchor logged agrees with the rewritten chain. The process holds the hash
 * of its newest event: the event stored at that seq has another.
 */
describe('audit anchors (red team 44)', () => {
  it('a tail of this process’s events cut and rewritten past its newest seq is said (“audit chain cut”), not anchored as the head', async () => {
    const errors: string[] = [];
    const logs: string[] = [];
    // Before the hub starts: the anchoring takes `console.log` as its logger then.
    const errSpy = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.map(String).join(' ')));
    const logSpy = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void logs.push(a.map(String).join(' ')));
    const t = await startTestHub({ env: { HUB_AUDIT_ANCHOR_SECONDS: '3600' } });
    try {
      const token = await t.token(Department.POLICE, { region: '330102001', user: 'rt44-anchor' });
      for (let i = 0; i < 4; i++) expect((await post(t, token, { query: '{ regions { code } }' })).status).toBe(200);
      await t.hub.audit.drain();
      const [{ n }] = await t.sql(`SELECT max(seq)::int AS n FROM audit.event`);
      const own = (await t.sql(`SELECT hash FROM audit.event WHERE seq = $1`, [n]))[0].hash;
      // The owner cuts this process's last two events and appends three others, chained as the writer would.
      await asDba(t, async (c) => {
        const sources = (await c.query(`SELECT * FROM audit.event WHERE seq >= 1 ORDER BY seq LIMIT 3`)).rows;
        await c.query(`DELETE FROM audit.event WHERE seq >= $1`, [n - 1]);
        let prev = (await c.query(`SELECT hash FROM audit.event WHERE seq = $1`, [n - 2])).rows[0].hash;
        for (let i = 0; i < 3; i++) {
          const r = sources[i];
          const seq = n - 1 + i;
          const hash = chainHash(prev, seq, r.body);
          await c.query(
            `INSERT INTO audit.event (seq, prev_hash, hash, body, request_id, occurred_at, user_id, department, region, outcome, purpose, minor_ids)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
            [seq, prev, hash, r.body, r.request_id, r.occurred_at, r.user_id, r.department, r.region, r.outcome, r.purpose, r.minor_ids],
          );
          prev = hash;
        }
      });
      await t.stop(); // the last anchor
      const anchored = logs.filter((l) => l.includes('audit anchor')).pop();
      // Seen: no "audit chain cut", and the last anchor names the rewritten head (seq n + 1), not event n (its hash `own`).
      expect({ said: errors.some((e) => e.includes('audit chain cut')), anchoredOwn: !!anchored?.includes(own) }).toEqual({ said: true, anchoredOwn: true });
    } finally {
      errSpy.mockRestore();
      logSpy.mockRestore();
    }
  });
});
