import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client } from 'pg';
import { anchorsIn, type ChainAnchor } from '../src/audit/audit.anchor';
import { verifyChain, type ChainStatus } from '../src/audit/audit.verify';
import { chainHash, GENESIS_HASH } from '../src/audit/canonical';
import { Department, Role } from '../src/auth/principal';
import { asDba, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

const run = promisify(execFile);
const DISTRICT = '330102';
const STREET_A = '330102001';

/**
 * Red team 17: the audit chain's verification (audit.verify.ts, audit.anchor.ts, canonical.ts,
 * auditVerify, `npm run audit:verify`), reviewed line by line: tampering it may miss, false alarms
 * on an untouched trail, and its errors. Every tamper is committed as a superuser (triggers off),
 * checked by the walk the CLI runs and by `auditVerify` through the public endpoint, then undone.
 */
describe('audit chain verification (red team 17)', () => {
  let t: TestHub;
  let districtAuditor: string;
  let officerA: string;
  let childA: string;

  const VERIFY = `query($anchors: [AuditChainAnchor!]) { auditVerify(anchors: $anchors) { ok events headHash anchorsChecked firstBreak { seq requestId reason detail } } }`;
  const verifyApi = (anchors: ChainAnchor[] = []) => t.gql(districtAuditor, VERIFY, { anchors: anchors.map((a) => ({ seq: String(a.seq), hash: a.hash })) }, {});
  const walk = (anchors: ChainAnchor[] = []) => verifyChain((text, params) => t.sql(text, params), anchors).catch((e: Error) => e);

  type Row = { seq: number; prev_hash: string; hash: string; body: string };
  const rows = async (): Promise<Row[]> =>
    (await t.sql(`SELECT seq, prev_hash, hash, body FROM audit.event ORDER BY seq`)).map((r: Row) => ({ ...r, seq: Number(r.seq) }));

  /** Runs `tamper` as a superuser, checks the walk and auditVerify, then puts the trail back as it was. */
  async function tampered(tamper: (c: Client) => Promise<unknown>, anchors: ChainAnchor[] = [], after?: () => Promise<void>): Promise<{ walk: ChainStatus | Error; api: any }> {
    await t.hub.audit.drain();
    return asDba(t, async (c) => {
      await c.query(`CREATE TEMP TABLE kept AS SELECT * FROM audit.event`);
      try {
        await tamper(c);
        const w = await walk(anchors);
        const api = await verifyApi(anchors);
        await after?.();
        return { walk: w, api };
      } finally {
        await t.hub.audit.drain();
        await c.query(`DELETE FROM audit.event`);
        await c.query(`ALTER TABLE audit.event ALTER COLUMN body SET NOT NULL`);
        await c.query(`INSERT INTO audit.event SELECT * FROM kept`);
        await c.query(`DROP TABLE kept`);
        await c.query(`ALTER TABLE audit.event DROP CONSTRAINT IF EXISTS event_seq_check`);
        await c.query(`ALTER TABLE audit.event ADD CONSTRAINT event_seq_check CHECK (seq > 0)`);
        (t.hub.audit as unknown as { head: unknown }).head = null;
      }
    });
  }

  beforeAll(async () => {
    t = await startTestHub();
    districtAuditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: DISTRICT, user: 'rt17c-district-auditor' });
    officerA = await t.token(Department.POLICE, { region: STREET_A, user: 'rt17c-police-a' });
    [{ id: childA }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id LIMIT 1`, [`${STREET_A}%`]);
    const read = `query($id: ID!) { minor(id: $id) { name idNumber } }`;
    for (let i = 0; i < 6; i++) await post(t, officerA, { query: read, variables: { id: childA } });
    await t.hub.audit.drain();
  });
  afterAll(() => t?.stop());

  afterEach(async () => {
    await t.hub.audit.drain();
    const sound = await walk();
    expect(sound).toMatchObject({ ok: true, firstBreak: null });
  });

  it('verifies the untouched trail', async () => {
    const w = await walk();
    expect(w).toMatchObject({ ok: true, firstBreak: null });
    const api = await verifyApi();
    expect(api.errors).toBeUndefined();
    expect(api.data.auditVerify).toMatchObject({ ok: true, firstBreak: null });
  });

  const sameMeaning: [string, (body: string) => string][] = [
    ['keys reordered', (b) => JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(b)).reverse()))],
    ['a number spelt otherwise', (b) => b.replace(/"durationMs":([0-9.]+)/, (_m, n) => `"durationMs":${Number(n).toExponential()}`)],
    ['a letter as a Unicode escape', (b) => b.replace('"requestId":"', '"requestId":"\\u00' + b.split('"requestId":"')[1][0].charCodeAt(0).toString(16).padStart(2, '0')).replace(/("requestId":"\\u00[0-9a-f]{2})./, '$1')],
    ['a key given twice, the second as the first', (b) => b.replace(/}$/, `,"outcome":${JSON.stringify(JSON.parse(b).outcome)}}`)],
    ['whitespace added', (b) => b.replace(/,/g, ', ')],
  ];
  it.each(sameMeaning)('finds a body rewritten to the same meaning (%s), its hash not recomputed (MODIFIED)', async (_name, rewrite) => {
    let seq = 0;
    const r = await tampered(async (c) => {
      const row = (await rows())[2];
      seq = row.seq;
      const body = rewrite(row.body);
      expect(body).not.toBe(row.body);
      expect(JSON.parse(body)).toEqual(JSON.parse(row.body));
      await c.query(`UPDATE audit.event SET body = $2 WHERE seq = $1`, [seq, body]);
    });
    expect({ walk: r.walk, api: r.api.data?.auditVerify }).toMatchObject({
      walk: { ok: false, firstBreak: { seq, reason: 'MODIFIED' } },
      api: { ok: false, firstBreak: { seq: String(seq), reason: 'MODIFIED' } },
    });
  });

  it('finds an event forged before the first (seq 0, its CHECK dropped) that the auditor’s search lists', async () => {
    const forgedId = randomUUID();
    let listed: any;
    let history: any;
    let cli: { code: number; stdout: string } | undefined;
    const r = await tampered(
      async (c) => {
        const [first] = await rows();
        const model = (await rows()).find((x) => x.body.includes('"rt17c-police-a"') && x.body.includes('"minorIds"'))!;
        const body = model.body.replace(/"requestId":"[^"]+"/, `"requestId":"${forgedId}"`);
        await c.query(`ALTER TABLE audit.event DROP CONSTRAINT event_seq_check`);
        await c.query(
          `INSERT INTO audit.event (seq, prev_hash, hash, body, request_id, occurred_at, user_id, department, region, outcome, purpose, minor_ids)
           SELECT 0, $1, $2, $3, $4, occurred_at, user_id, department, region, outcome, purpose, minor_ids FROM audit.event WHERE seq = $5`,
          [GENESIS_HASH, chainHash(GENESIS_HASH, 0, body), body, forgedId, model.seq],
        );
        expect(first.seq).toBe(1);
      },
      [],
      async () => {
        listed = await t.gql(districtAuditor, `query($r: ID) { auditEvents(filter: { requestId: $r }) { edges { node { seq userId } } } }`, { r: forgedId }, {});
        history = await t.gql(districtAuditor, `query($id: ID!) { minorAccessHistory(minorId: $id) { seq userId } }`, { id: childA }, {});
        const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
        const env = { ...process.env, DATABASE_URL: t.databaseUrl };
        cli = await run(tsx, [path.join(__dirname, '..', 'src', 'cli', 'audit-verify.cli.ts')], { env }).then(
          (o) => ({ code: 0, stdout: o.stdout }),
          (e) => ({ code: e.code, stdout: e.stdout }),
        );
      },
    );
    // The auditor is shown the forged event as one of the trail's…
    expect(listed.data?.auditEvents?.edges).toEqual([{ node: { seq: '0', userId: 'rt17c-police-a' } }]);
    // …and in the child's “who looked at this child”.
    expect(history.data?.minorAccessHistory).toContainEqual({ seq: '0', userId: 'rt17c-police-a' });
    // …so verification must not call the trail sound.
    expect({ walk: r.walk, api: r.api.data?.auditVerify, cli }).toMatchObject({ walk: { ok: false }, api: { ok: false }, cli: { code: 1 } });
  });

  it('finds an event forged at a negative seq', async () => {
    const r = await tampered(async (c) => {
      const model = (await rows())[2];
      const body = model.body.replace(/"requestId":"[^"]+"/, `"requestId":"${randomUUID()}"`);
      await c.query(`ALTER TABLE audit.event DROP CONSTRAINT event_seq_check`);
      await c.query(
        `INSERT INTO audit.event SELECT -5, prev_hash, $2, $3, gen_random_uuid(), occurred_at, user_id, department, region, outcome, purpose, minor_ids FROM audit.event WHERE seq = $1`,
        [model.seq, chainHash(GENESIS_HASH, -5, body), body],
      );
    });
    expect({ walk: r.walk, api: r.api.data?.auditVerify }).toMatchObject({ walk: { ok: false }, api: { ok: false } });
  });

  it('names an event whose body was set to null (NOT NULL dropped) in the middle of the chain, at its own seq', async () => {
    let seq = 0;
    const r = await tampered(async (c) => {
      const all = await rows();
      seq = all[3].seq;
      await c.query(`ALTER TABLE audit.event ALTER COLUMN body DROP NOT NULL`);
      await c.query(`UPDATE audit.event SET body = NULL WHERE seq = $1`, [seq]);
    });
    expect({ walk: r.walk, api: r.api.data?.auditVerify }).toMatchObject({ walk: { ok: false, firstBreak: { seq } }, api: { ok: false, firstBreak: { seq: String(seq) } } });
  });

  it('does not call sound a trail whose newest event’s body was set to null (NOT NULL dropped)', async () => {
    let head = 0;
    const r = await tampered(async (c) => {
      head = (await rows()).at(-1)!.seq;
      await c.query(`ALTER TABLE audit.event ALTER COLUMN body DROP NOT NULL`);
      await c.query(`UPDATE audit.event SET body = NULL WHERE seq = $1`, [head]);
    });
    // The event is still in the table, its body gone: not a tail cut off (which the chain alone cannot see).
    expect({ walk: r.walk, api: r.api.data?.auditVerify }).toMatchObject({ walk: { ok: false, firstBreak: { seq: head } }, api: { ok: false, firstBreak: { seq: String(head) } } });
  });

  it('lets the auditor page past an event whose body was set to null, or says the trail is damaged', async () => {
    let pages: any[] = [];
    let nulled = 0;
    await tampered(
      async (c) => {
        nulled = (await rows())[3].seq;
        await c.query(`ALTER TABLE audit.event ALTER COLUMN body DROP NOT NULL`);
        await c.query(`UPDATE audit.event SET body = NULL WHERE seq = $1`, [nulled]);
      },
      [],
      async () => {
        let after: string | null = null;
        for (let i = 0; i < 10; i++) {
          const page: any = await t.gql(districtAuditor, `query($a: String) { auditEvents(first: 500, after: $a) { edges { node { seq } } pageInfo { hasNextPage endCursor } } }`, { a: after }, {});
          pages.push(page);
          if (page.errors || !page.data.auditEvents.pageInfo.hasNextPage || !page.data.auditEvents.pageInfo.endCursor) break;
          after = page.data.auditEvents.pageInfo.endCursor;
        }
      },
    );
    const damaged = pages.some((p) => errorCodes(p).includes('AUDIT_TRAIL_DAMAGED'));
    const seen = pages.flatMap((p) => p.data?.auditEvents?.edges ?? []).map((e: any) => Number(e.node.seq));
    // Either the listing says the trail was altered, or the events before the damaged one can still be reached.
    if (!damaged) expect(seen).toContain(nulled - 1);
  });

  it('verifies a trail written by two hubs at once and across a restart, against every anchor they logged', async () => {
    const lines: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((...m: unknown[]) => void lines.push(m.join(' ')));
    let second: TestHub | undefined;
    try {
      second = await startTestHub({ databaseUrl: t.databaseUrl, env: { HUB_AUDIT_ANCHOR_SECONDS: '1' } });
      const officer2 = await second.token(Department.POLICE, { region: STREET_A, user: 'rt17c-police-2' });
      const read = `query($id: ID!) { minor(id: $id) { name idNumber guardians { phone } } }`;
      const big = `query($id: ID!) { ${Array.from({ length: 400 }, (_, i) => `a${i}: minor(id: $id) { id }`).join(' ')} }`;
      await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          i % 2 ? post(t, officerA, { query: i % 6 === 1 ? big : read, variables: { id: childA } }) : post(second!, officer2, { query: read, variables: { id: childA } }),
        ),
      );
      await new Promise((r) => setTimeout(r, 1300));
      await Promise.all(Array.from({ length: 20 }, (_, i) => post(i % 2 ? t : second!, i % 2 ? officerA : officer2, { query: read, variables: { id: childA } })));
      await second.stop();
      second = undefined;
    } finally {
      spy.mockRestore();
      await second?.stop();
    }
    const anchors = anchorsIn(lines.join('\n'));
    expect(anchors.length).toBeGreaterThanOrEqual(2);
    await t.hub.audit.drain();
    // The first hub's cached head is stale now: its next event follows the second's.
    await post(t, officerA, { query: `{ regions { code } }` });
    const w = await walk(anchors);
    expect(w).toMatchObject({ ok: true, firstBreak: null, anchorsChecked: anchors.length });
    const api = await verifyApi(anchors);
    expect(api.errors).toBeUndefined();
    expect(api.data.auditVerify).toMatchObject({ ok: true, firstBreak: null, anchorsChecked: anchors.length });
  });

  it('verifies an untouched trail of unusual but legitimate requests (purpose in Chinese and an emoji, odd names, oversized documents, a mutation)', async () => {
    const civilA = await t.token(Department.CIVIL_AFFAIRS, { region: STREET_A, user: 'rt17c-civil-a' });
    const ref = { 'x-purpose': `CASE_HANDLING; ${encodeURIComponent('2026-民-0042 😀 𠮷')}` };
    await post(t, officerA, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: childA } }, ref);
    await post(t, officerA, { query: `query($__proto__: ID!) { minor(id: $__proto__) { name } }`, variables: { __proto__: childA } }, ref);
    await post(t, officerA, { query: `query ${'N'.repeat(300)}($id: ID!) { minor(id: $id) { name } }`, variables: { id: childA } });
    const vars = Array.from({ length: 100 }, (_, i) => `$v${i}: String`).join(' ');
    await post(t, officerA, { query: `query(${vars}) { regions { code } }`, variables: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`v${i}`, `值${i}\u0000\ud800`])) });
    await post(t, officerA, { query: `{ ${Array.from({ length: 9000 }, (_, i) => `a${i}: __typename`).join(' ')} }` });
    await post(t, officerA, { query: `{ minor(id: 1 }` });
    await post(t, null, { query: `{ regions { code } }` });
    const m = await post(t, civilA, { query: `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "家访 😀" }) { visitedAt } }`, variables: { id: childA } });
    expect(m.status).toBe(200);
    await t.hub.audit.drain();
    const w = await walk();
    expect(w).toMatchObject({ ok: true, firstBreak: null });
    const api = await verifyApi();
    expect(api.errors).toBeUndefined();
    expect(api.data.auditVerify).toMatchObject({ ok: true, firstBreak: null });
  });
});
