import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client } from 'pg';
import type { ChainAnchor } from '../src/audit/audit.anchor';
import { verifyChain, type ChainStatus } from '../src/audit/audit.verify';
import { canonicalJson, chainHash } from '../src/audit/canonical';
import { Department, Role } from '../src/auth/principal';
import { asDba, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';
import { expectAnsweredAsUnknown } from './support/unknown-id';

const run = promisify(execFile);

const DISTRICT = '330102';
const STREET_A = '330102001';
const STREET_B = '330102002';

/**
 * Red team 11: the trail as a database administrator could leave it, and the data officer's own API.
 * Every tamper is made on a committed trail (as `hub_audit_reader` reads it), checked by the walk the
 * CLI runs and by `auditVerify` through the public endpoint, and then undone.
 */
describe('audit trail tampering and the auditor’s API (red team 11)', () => {
  let t: TestHub;
  let districtAuditor: string;
  let streetAuditorA: string;
  let streetAuditorB: string;
  let officerA: string;
  let officerB: string;
  let civilA: string;
  let districtCivil: string;
  let childA: string;
  let childA2: string;
  let childB: string;

  beforeAll(async () => {
    t = await startTestHub();
    districtAuditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: DISTRICT, user: 'rt11-district-auditor' });
    streetAuditorA = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: STREET_A, user: 'rt11-auditor-a' });
    streetAuditorB = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: STREET_B, user: 'rt11-auditor-b' });
    officerA = await t.token(Department.POLICE, { region: STREET_A, user: 'rt11-police-a' });
    officerB = await t.token(Department.POLICE, { region: STREET_B, user: 'rt11-police-b' });
    civilA = await t.token(Department.CIVIL_AFFAIRS, { region: STREET_A, user: 'rt11-civil-a' });
    districtCivil = await t.token(Department.CIVIL_AFFAIRS, { region: DISTRICT, user: 'rt11-civil-district' });
    [{ id: childA }, { id: childA2 }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id LIMIT 2`, [`${STREET_A}%`]);
    [{ id: childB }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id LIMIT 1`, [`${STREET_B}%`]);
    // A realistic mix: reads of one child and of pages, a mutation (STARTED + final), refusals, an
    // unauthenticated request, an invalid one, and the data officers' own reads.
    const read = `query($id: ID!) { minor(id: $id) { name idNumber guardians { phone } } }`;
    await post(t, officerA, { query: read, variables: { id: childA } });
    await post(t, officerB, { query: read, variables: { id: childB } }, { 'x-purpose': 'SCREENING' });
    await post(t, districtCivil, { query: `{ minors(first: 5) { edges { node { id name riskLevel } } } }` });
    await post(t, civilA, { query: `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "家访" }) { visitedAt } }`, variables: { id: childA2 } });
    await post(t, officerA, { query: `{ auditEvents(first: 1) { edges { cursor } } }` });
    await post(t, null, { query: `{ regions { code } }` });
    await post(t, officerB, { query: `{ minor(id: 1 }` });
    await post(t, streetAuditorA, { query: `query($id: ID!) { minorAccessHistory(minorId: $id) { seq } }`, variables: { id: childA } }, {});
    for (let i = 0; i < 4; i++) await post(t, officerA, { query: read, variables: { id: childA2 } });
    await t.hub.audit.drain();
  });
  afterAll(() => t?.stop());

  describe('tampering with the stored trail', () => {
    type Row = { seq: number; prev_hash: string; hash: string; body: string };
    const rows = async (): Promise<Row[]> =>
      (await t.sql(`SELECT seq::int AS seq, prev_hash, hash, body FROM audit.event ORDER BY seq`)).map((r: Row) => ({ ...r, seq: Number(r.seq) }));
    /** A middle event of a police officer's read of a child under a purpose: every column holds something. */
    const target = async (): Promise<Row> => {
      const all = await rows();
      const candidates = all.filter((r) => r.seq > 2 && r.seq < all.length - 2 && r.body.includes('"rt11-police-a"') && r.body.includes('"minorIds"'));
      return candidates[0];
    };
    const VERIFY = `query($anchors: [AuditChainAnchor!]) { auditVerify(anchors: $anchors) { ok events headHash anchorsChecked firstBreak { seq requestId reason detail } } }`;

    /**
     * Runs the tamper as a superuser with the triggers off and commits it, then checks the walk (as
     * the CLI runs it) and `auditVerify` through the API; puts the trail back as it was after. Events
     * written meanwhile (the API's own, which may follow a forged head) go with it, and the writer
     * re-reads its head.
     */
    async function tampered(tamper: (c: Client) => Promise<unknown>, anchors: ChainAnchor[] = []): Promise<{ walk: ChainStatus | Error; api: any }> {
      await t.hub.audit.drain();
      return asDba(t, async (c) => {
        await c.query(`CREATE TEMP TABLE kept AS SELECT * FROM audit.event`);
        try {
          await tamper(c);
          const walk = await verifyChain((text, params) => t.sql(text, params), anchors).catch((e: Error) => e);
          const api = await t.gql(districtAuditor, VERIFY, { anchors: anchors.map((a) => ({ seq: String(a.seq), hash: a.hash })) }, {});
          return { walk, api };
        } finally {
          await t.hub.audit.drain();
          await c.query(`DELETE FROM audit.event`);
          await c.query(`INSERT INTO audit.event SELECT * FROM kept`);
          await c.query(`DROP TABLE kept`);
          (t.hub.audit as unknown as { head: unknown }).head = null;
        }
      });
    }
    /** What a found break must look like: not sound, the first break at `seq` for `reason`, in the walk and the API alike. */
    function expectBreak(r: { walk: ChainStatus | Error; api: any }, seq: number, reason: string) {
      expect(r.walk).not.toBeInstanceOf(Error);
      expect(r.walk).toMatchObject({ ok: false, firstBreak: { seq, reason } });
      expect(r.api.errors).toBeUndefined();
      expect(r.api.data.auditVerify).toMatchObject({ ok: false, firstBreak: { seq: String(seq), reason } });
    }

    afterEach(async () => {
      await t.hub.audit.drain();
      const sound = await verifyChain((text, params) => t.sql(text, params));
      expect(sound.firstBreak).toBeNull();
    });

    it('verifies the untampered trail', async () => {
      const r = await tampered(async () => undefined);
      expect(r.walk).toMatchObject({ ok: true, firstBreak: null });
      expect(r.api.data.auditVerify).toMatchObject({ ok: true, firstBreak: null });
    });

    const columnTampers: [string, (seq: number) => [string, unknown[]]][] = [
      ['request_id', (s) => [`UPDATE audit.event SET request_id = $2 WHERE seq = $1`, [s, randomUUID()]]],
      ['occurred_at by a second', (s) => [`UPDATE audit.event SET occurred_at = occurred_at + interval '1 second' WHERE seq = $1`, [s]]],
      ['occurred_at by a millisecond', (s) => [`UPDATE audit.event SET occurred_at = occurred_at + interval '1 millisecond' WHERE seq = $1`, [s]]],
      ['occurred_at by half a millisecond', (s) => [`UPDATE audit.event SET occurred_at = occurred_at + interval '500 microseconds' WHERE seq = $1`, [s]]],
      ['user_id', (s) => [`UPDATE audit.event SET user_id = 'someone-else' WHERE seq = $1`, [s]]],
      ['user_id to null', (s) => [`UPDATE audit.event SET user_id = NULL WHERE seq = $1`, [s]]],
      ['department', (s) => [`UPDATE audit.event SET department = 'EDUCATION' WHERE seq = $1`, [s]]],
      ['region', (s) => [`UPDATE audit.event SET region = '330102002' WHERE seq = $1`, [s]]],
      ['region to null', (s) => [`UPDATE audit.event SET region = NULL WHERE seq = $1`, [s]]],
      ['outcome', (s) => [`UPDATE audit.event SET outcome = 'DENIED' WHERE seq = $1`, [s]]],
      ['purpose', (s) => [`UPDATE audit.event SET purpose = 'SCREENING' WHERE seq = $1`, [s]]],
      ['purpose to null', (s) => [`UPDATE audit.event SET purpose = NULL WHERE seq = $1`, [s]]],
      ['minor_ids emptied', (s) => [`UPDATE audit.event SET minor_ids = '{}' WHERE seq = $1`, [s]]],
      ['minor_ids with another child', (s) => [`UPDATE audit.event SET minor_ids = minor_ids || $2::uuid WHERE seq = $1`, [s, randomUUID()]]],
      ['minor_ids with a child twice', (s) => [`UPDATE audit.event SET minor_ids = minor_ids || minor_ids WHERE seq = $1`, [s]]],
      ['minor_ids with a null', (s) => [`UPDATE audit.event SET minor_ids = minor_ids || NULL::uuid WHERE seq = $1`, [s]]],
      ['hash', (s) => [`UPDATE audit.event SET hash = repeat('a', 64) WHERE seq = $1`, [s]]],
      ['body', (s) => [`UPDATE audit.event SET body = replace(body, '"ALLOW"', '"DENY"') WHERE seq = $1`, [s]]],
    ];
    it.each(columnTampers)('finds the event whose %s was changed, and names it (MODIFIED)', async (_name, sql) => {
      const { seq } = await target();
      const r = await tampered((c) => c.query(...sql(seq)));
      expectBreak(r, seq, 'MODIFIED');
    });

    it('finds an event whose children were set to null, the column’s NOT NULL dropped for it (MODIFIED)', async () => {
      const { seq } = await target();
      try {
        const r = await tampered(async (c) => {
          await c.query(`ALTER TABLE audit.event ALTER COLUMN minor_ids DROP NOT NULL`);
          await c.query(`UPDATE audit.event SET minor_ids = NULL WHERE seq = $1`, [seq]);
        });
        expectBreak(r, seq, 'MODIFIED');
      } finally {
        await asDba(t, (c) => c.query(`ALTER TABLE audit.event ALTER COLUMN minor_ids SET NOT NULL`));
      }
    });

    it('finds an event whose prev_hash was changed (LINK)', async () => {
      const { seq } = await target();
      expectBreak(await tampered((c) => c.query(`UPDATE audit.event SET prev_hash = repeat('b', 64) WHERE seq = $1`, [seq])), seq, 'LINK');
    });

    it('finds an event whose seq was changed: moved past the head, the gap (MISSING)', async () => {
      const { seq } = await target();
      expectBreak(await tampered((c) => c.query(`UPDATE audit.event SET seq = 900000000 WHERE seq = $1`, [seq])), seq + 1, 'MISSING');
    });

    it('finds a body rewritten with its own hash recomputed: where the next event no longer links (LINK)', async () => {
      const { seq, prev_hash, body } = await target();
      const forged = body.replace(/"ALLOW"/g, '"MASK"');
      expect(forged).not.toBe(body);
      expectBreak(await tampered((c) => c.query(`UPDATE audit.event SET body = $2, hash = $3 WHERE seq = $1`, [seq, forged, chainHash(prev_hash, seq, forged)])), seq + 1, 'LINK');
    });

    // A body rewritten as something that is no event, its hash recomputed: the walk must name it,
    // not fail on it (a failure answers the data officer "Internal server error" and nothing else).
    const notEvents: [string, (body: any) => string][] = [
      ['an empty object', () => '{}'],
      ['null', () => 'null'],
      ['an array', () => '[]'],
      ['a string', () => '"x"'],
      ['reads that are not reads', (b) => canonicalJson({ ...b, reads: [null] })],
      ['reads as text', (b) => canonicalJson({ ...b, reads: 'x' })],
      ['a read whose children are a number', (b) => canonicalJson({ ...b, reads: [{ fields: {}, minorIds: 5 }] })],
      ['changes that are not changes', (b) => canonicalJson({ ...b, changes: [null] })],
      ['no changes', (b) => canonicalJson({ ...b, changes: undefined })],
      ['no JSON', () => '{"requestId":'],
      ['a read without fields', (b) => canonicalJson({ ...b, reads: b.reads.map(({ fields: _f, ...r }: any) => r) })],
      ['a read whose children are an object', (b) => canonicalJson({ ...b, reads: [{ fields: {}, minorIds: { a: 1 } }] })],
      ['no request id', (b) => canonicalJson({ ...b, requestId: undefined })],
      ['a time that is none', (b) => canonicalJson({ ...b, time: 'yesterday' })],
      ['an outcome that is none', (b) => canonicalJson({ ...b, outcome: 'FINE' })],
      ['no variables', (b) => canonicalJson({ ...b, variables: null })],
      ['error codes as text', (b) => canonicalJson({ ...b, outcome: 'ERROR', errorCodes: 'SUBGRAPH_ANSWER_LOST' })],
    ];
    it.each(notEvents)('finds a body rewritten as %s with its own hash recomputed (MODIFIED), in the middle and at the head', async (_name, forge) => {
      const { seq, prev_hash, body } = await target();
      const forged = forge(JSON.parse(body));
      expectBreak(await tampered((c) => c.query(`UPDATE audit.event SET body = $2, hash = $3 WHERE seq = $1`, [seq, forged, chainHash(prev_hash, seq, forged)])), seq, 'MODIFIED');
      const all = await rows();
      const last = all[all.length - 1];
      const atHead = forge(JSON.parse(last.body));
      expectBreak(
        await tampered((c) => c.query(`UPDATE audit.event SET body = $2, hash = $3 WHERE seq = $1`, [last.seq, atHead, chainHash(last.prev_hash, last.seq, atHead)])),
        last.seq,
        'MODIFIED',
      );
    });

    // The auditor's reads that meet such an event say where it is, typed: the pages after it, and
    // what the trail holds before it, are answered as before.
    it.each(notEvents)('answers the auditor a page or a history holding a body rewritten as %s AUDIT_TRAIL_DAMAGED, naming it where it can, and the rest of the trail as before', async (_name, forge) => {
      const { seq, prev_hash, body } = await target();
      const child = JSON.parse(body).reads[0].minorIds[0] as string;
      const forged = forge(JSON.parse(body));
      const PAGE = `query($after: String) { auditEvents(first: 5, after: $after) { edges { node { seq requestId outcome reads { minorId } changes { id } } } } }`;
      const HISTORY = `query($m: ID!) { minorAccessHistory(minorId: $m) { seq requestId outcome fields { field } } }`;
      const ANOMALIES = `{ auditAnomalies { kind count } }`;
      const before = {
        past: (await t.gql(districtAuditor, PAGE, { after: String(seq) }, {})).data.auditEvents.edges.map((e: any) => e.node.seq),
        anomalies: (await t.gql(districtAuditor, ANOMALIES, {}, {})).errors,
      };
      await tampered(async (c) => {
        await c.query(`UPDATE audit.event SET body = $2, hash = $3 WHERE seq = $1`, [seq, forged, chainHash(prev_hash, seq, forged)]);
        const page = await t.gql(districtAuditor, PAGE, { after: String(seq + 1) }, {});
        expect([page.data?.auditEvents ?? null, page.errors?.map((e: any) => [e.extensions.code, e.extensions.seq, e.message.includes(`Event ${seq} `)])]).toEqual([null, [['AUDIT_TRAIL_DAMAGED', String(seq), true]]]);
        // A child's history reads the child's part of each event: one left whole is answered.
        const history = await t.gql(districtAuditor, HISTORY, { m: child }, {});
        if (['changes that are not changes', 'no variables', 'error codes as text'].includes(_name)) {
          expect([history.errors, history.data.minorAccessHistory.some((e: any) => e.seq === String(seq))]).toEqual([undefined, true]);
        } else {
          expect(history.data?.minorAccessHistory ?? null).toBeNull();
          // A body Postgres cannot read as JSON is found by the statement, whose position it does not tell.
          expect(history.errors?.map((e: any) => [e.extensions.code, e.extensions.seq])).toEqual([['AUDIT_TRAIL_DAMAGED', _name === 'no JSON' ? undefined : String(seq)]]);
        }
        const past = await t.gql(districtAuditor, PAGE, { after: String(seq) }, {});
        expect([past.errors, past.data.auditEvents.edges.map((e: any) => e.node.seq)]).toEqual([undefined, before.past]);
        const anomalies = await t.gql(districtAuditor, ANOMALIES, {}, {});
        expect(anomalies.errors?.map((e: any) => e.extensions.code)).toEqual(_name === 'no JSON' ? ['AUDIT_TRAIL_DAMAGED'] : before.anomalies);
      });
    });

    it('`npm run audit:verify` names a body that is no event too, exit code 1 (not 2, "cannot be read")', async () => {
      const { seq, prev_hash } = await target();
      const cli = path.join(__dirname, '..', 'src', 'cli', 'audit-verify.cli.ts');
      const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
      const env = { ...process.env, DATABASE_URL: t.databaseUrl };
      await tampered(async (c) => {
        await c.query(`UPDATE audit.event SET body = '{}', hash = $2 WHERE seq = $1`, [seq, chainHash(prev_hash, seq, '{}')]);
        const broken = await run(tsx, [cli], { env }).then(
          () => null,
          (e) => e,
        );
        expect(broken?.code).toBe(1);
        expect(broken.stdout).toContain(`BROKEN at event ${seq}`);
        expect(broken.stdout).toContain('MODIFIED — the hashed body is not an audit event');
      });
    });

    it('finds the first, a middle and the last event deleted (the last against the head anchored)', async () => {
      expectBreak(await tampered((c) => c.query(`DELETE FROM audit.event WHERE seq = 1`)), 2, 'MISSING');
      const { seq } = await target();
      expectBreak(await tampered((c) => c.query(`DELETE FROM audit.event WHERE seq = $1`, [seq])), seq + 1, 'MISSING');
      const all = await rows();
      const head = all[all.length - 1];
      expectBreak(await tampered((c) => c.query(`DELETE FROM audit.event WHERE seq = $1`, [head.seq]), [{ seq: head.seq, hash: head.hash }]), head.seq, 'TRUNCATED');
    });

    it('finds a forged event inserted after the head that does not link, or whose hash is not its own', async () => {
      const all = await rows();
      const head = all[all.length - 1];
      const body = head.body.replace(head.body.match(/"requestId":"([^"]+)"/)![1], randomUUID());
      const insert = (prev: string, hash: string) => (c: Client) =>
        c.query(
          `INSERT INTO audit.event SELECT seq + 1, $2, $3, $4, request_id, occurred_at, user_id, department, region, outcome, purpose, minor_ids FROM audit.event WHERE seq = $1`,
          [head.seq, prev, hash, body],
        );
      expectBreak(await tampered(insert(repeatHex('c'), chainHash(repeatHex('c'), head.seq + 1, body))), head.seq + 1, 'LINK');
      expectBreak(await tampered(insert(head.hash, repeatHex('d'))), head.seq + 1, 'MODIFIED');
    });

    it('finds two events swapped (LINK at the first)', async () => {
      const { seq } = await target();
      const swap = async (c: Client) => {
        await c.query(`UPDATE audit.event SET seq = 900000000 WHERE seq = $1`, [seq]);
        await c.query(`UPDATE audit.event SET seq = $1 WHERE seq = $2`, [seq, seq + 1]);
        await c.query(`UPDATE audit.event SET seq = $1 WHERE seq = 900000000`, [seq + 1]);
      };
      expectBreak(await tampered(swap), seq, 'LINK');
    });

    it('finds the tail cut off against the head anchored (TRUNCATED)', async () => {
      const all = await rows();
      const head = all[all.length - 1];
      const r = await tampered((c) => c.query(`DELETE FROM audit.event WHERE seq > $1`, [head.seq - 3]), [{ seq: head.seq, hash: head.hash }]);
      expectBreak(r, head.seq - 2, 'TRUNCATED');
    });

    it('finds the chain rewritten without an event and every hash recomputed, against any anchor from before (ANCHOR, TRUNCATED)', async () => {
      const { seq } = await target();
      const all = await rows();
      const rewrite = async (c: Client) => {
        await c.query(`DELETE FROM audit.event WHERE seq >= $1`, [seq]);
        let prev = all.find((r) => r.seq === seq)!.prev_hash;
        for (const r of all.filter((r) => r.seq > seq)) {
          const hash = chainHash(prev, r.seq - 1, r.body);
          await c.query(
            `INSERT INTO audit.event SELECT $1, $2, $3, body, request_id, occurred_at, user_id, department, region, outcome, purpose, minor_ids FROM kept WHERE seq = $4`,
            [r.seq - 1, prev, hash, r.seq],
          );
          prev = hash;
        }
      };
      const anchored = all.find((r) => r.seq === seq + 1)!;
      expectBreak(await tampered(rewrite, [{ seq: anchored.seq, hash: anchored.hash }]), anchored.seq, 'ANCHOR');
      const head = all[all.length - 1];
      expectBreak(await tampered(rewrite, [{ seq: head.seq, hash: head.hash }]), head.seq, 'TRUNCATED');
    });

    it('reports an anchor altered (another hash, another seq, past the head) against the sound chain', async () => {
      const all = await rows();
      const { seq, hash } = all[3];
      expectBreak(await tampered(async () => undefined, [{ seq, hash: repeatHex('e') }]), seq, 'ANCHOR');
      expectBreak(await tampered(async () => undefined, [{ seq: seq + 1, hash }]), seq + 1, 'ANCHOR');
      const past = all.length + 5;
      expectBreak(await tampered(async () => undefined, [{ seq: past, hash }]), all.length + 1, 'TRUNCATED');
    });
  });

  describe('the auditor’s queries', () => {
    const EVENT = `seq requestId userId department region outcome purpose { code } reads { minorId } changes { minorId }`;
    const PAGE = `query($f: AuditEventFilter, $first: Int!, $after: String) { auditEvents(filter: $f, first: $first, after: $after) { edges { cursor node { ${EVENT} } } pageInfo { hasNextPage endCursor } } }`;
    let requestB: string;
    let since: string;
    let childB2: string;
    let childB3: string;

    beforeAll(async () => {
      since = new Date(Date.now() - 60_000).toISOString();
      const streetB: { id: string }[] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id LIMIT 3`, [`${STREET_B}%`]);
      [childB2, childB3] = [streetB[1].id, streetB[2].id];
      for (const id of [childB2, childB3]) await post(t, officerB, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id } });
      // Street B busy: reads, a refusal, a change; street A quieter.
      requestB = (await post(t, officerB, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: childB } }, { 'x-purpose': 'SCREENING' })).requestId;
      await post(t, officerB, { query: `{ auditEvents(first: 1) { edges { cursor } } }` });
      await post(t, await t.token(Department.CIVIL_AFFAIRS, { region: STREET_B, user: 'rt11-civil-b' }), {
        query: `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "家访" }) { visitedAt } }`,
        variables: { id: childB },
      });
      await post(t, officerA, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: childA } });
      await t.hub.audit.drain();
    });

    /** Every page of `filter` as `token` sees it, `first` at a time. */
    async function allPages(token: string, filter: Record<string, unknown> | null, first: number, between?: () => Promise<unknown>): Promise<any[]> {
      const seen: any[] = [];
      let after: string | null = null;
      for (let n = 0; n < 1000; n++) {
        const r: any = await t.gql(token, PAGE, { f: filter, first, after }, {});
        expect(r.errors).toBeUndefined();
        seen.push(...r.data.auditEvents.edges.map((e: any) => e.node));
        if (!r.data.auditEvents.pageInfo.hasNextPage) return seen;
        after = r.data.auditEvents.pageInfo.endCursor;
        if (between) await between();
      }
      throw new Error('no last page');
    }

    it('answers a street’s auditor, under every filter, only events of callers in the street (or of no caller)', async () => {
      const auditors = new Set(['rt11-auditor-a', 'rt11-auditor-b', 'rt11-district-auditor']);
      const filters: Record<string, unknown>[] = [
        {},
        { userId: 'rt11-police-b' },
        { userId: 'rt11-police-a' },
        { department: 'POLICE' },
        { minorId: childB },
        { minorId: childA },
        { requestId: requestB },
        ...['STARTED', 'SUCCESS', 'PARTIAL', 'DENIED', 'UNAUTHENTICATED', 'INVALID', 'LIMIT_EXCEEDED', 'ERROR'].map((outcome) => ({ outcome })),
        { purpose: 'SCREENING' },
        { purpose: 'CASE_HANDLING' },
        { from: since },
        { to: new Date().toISOString() },
        { from: since, to: new Date(Date.now() + 60_000).toISOString(), department: 'POLICE', outcome: 'SUCCESS' },
      ];
      for (const [auditor, street, other] of [
        [streetAuditorA, STREET_A, STREET_B],
        [streetAuditorB, STREET_B, STREET_A],
      ]) {
        for (const f of filters) {
          const events = await allPages(auditor, f, 3);
          for (const e of events) {
            expect([f, e.region === null || e.region.startsWith(street)]).toEqual([f, true]);
            // No child of the other street is named in what this auditor is answered, but for the
            // data officers' own look-ups of it (any id looked up is recorded, known or not).
            if (auditors.has(e.userId)) continue;
            const named = [...e.reads, ...e.changes].map((x: any) => x.minorId);
            expect([f, named.includes(other === STREET_B ? childB : childA)]).toEqual([f, false]);
          }
        }
      }
      // The district's auditor sees both streets.
      const district = await allPages(districtAuditor, { department: 'POLICE' }, 50);
      expect(new Set(district.map((e) => e.region))).toEqual(new Set([STREET_A, STREET_B]));
    });

    it('answers another street’s child, user and request as it answers unknown ones: history, search, anomalies', async () => {
      // A child of street B read there, never looked up before: as an id the trail does not hold.
      const history = `query($id: ID!) { minorAccessHistory(minorId: $id) { seq } }`;
      expect((await expectAnsweredAsUnknown(t, streetAuditorA, history, { id: childB2 }, { id: randomUUID() }, { id: randomUUID() })).json).toEqual({ data: { minorAccessHistory: [] } });
      const search = `query($id: ID!) { auditEvents(filter: { minorId: $id }, first: 5) { edges { cursor } pageInfo { hasNextPage endCursor } } }`;
      await expectAnsweredAsUnknown(t, streetAuditorA, search, { id: childB3 }, { id: randomUUID() }, { id: randomUUID() });
      await expectAnsweredAsUnknown(t, streetAuditorA, `query($u: String!) { auditEvents(filter: { userId: $u }, first: 5) { edges { cursor } pageInfo { hasNextPage } } }`, { u: 'rt11-police-b' }, { u: 'rt11-nobody' });
      const byRequest = await t.gql(streetAuditorA, PAGE, { f: { requestId: requestB }, first: 5 }, {});
      expect(byRequest.data.auditEvents).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
      const anomalies = await t.gql(streetAuditorA, `{ auditAnomalies { userId department count requestIds } }`, undefined, {});
      expect(anomalies.errors).toBeUndefined();
      const inA = new Set((await t.sql(`SELECT request_id::text AS r FROM audit.event WHERE region LIKE $1`, [`${STREET_A}%`])).map((r: { r: string }) => r.r));
      for (const a of anomalies.data.auditAnomalies) for (const id of a.requestIds) expect(inA.has(id)).toBe(true);
      expect(errorCodes(await t.gql(streetAuditorA, `{ auditVerify { ok } }`, undefined, {}))).toEqual(['FORBIDDEN']);
    });

    it('pages the trail without skipping or repeating an event while new ones are written', async () => {
      await t.hub.audit.drain();
      const [{ top }] = await t.sql(`SELECT max(seq)::int AS top FROM audit.event`);
      const writeMore = () =>
        Promise.all([
          post(t, officerA, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: childA } }),
          post(t, officerB, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: childB } }),
          post(t, districtCivil, { query: `{ regions { code } }` }),
        ]);
      for (const [auditor, scope, filter] of [
        [districtAuditor, `${DISTRICT}%`, null],
        [streetAuditorA, `${STREET_A}%`, null],
        [districtAuditor, `${DISTRICT}%`, { department: 'POLICE' }],
        [districtAuditor, `${DISTRICT}%`, { minorId: childA }],
      ] as const) {
        const pending = writeMore();
        const seen = (await allPages(auditor, filter as Record<string, unknown> | null, 4, writeMore)).map((e) => Number(e.seq));
        await pending;
        expect(new Set(seen).size).toBe(seen.length);
        expect([...seen].sort((a, b) => b - a)).toEqual(seen);
        const where = filter?.department ? `AND department = 'POLICE'` : filter?.minorId ? `AND minor_ids @> ARRAY[$3]::uuid[]` : '';
        const expected = (
          await t.sql(`SELECT seq::int AS seq FROM audit.event WHERE (region LIKE $1 OR region IS NULL) AND seq <= $2 ${where} ORDER BY seq DESC`, [
            scope,
            top,
            ...(filter?.minorId ? [filter.minorId] : []),
          ])
        ).map((r: { seq: number }) => Number(r.seq));
        expect(seen.filter((s) => s <= top)).toEqual(expected);
      }
    });

    it('pages a child’s history without skipping or repeating an event while new ones are written', async () => {
      await t.hub.audit.drain();
      const [{ top }] = await t.sql(`SELECT max(seq)::int AS top FROM audit.event`);
      const seen: number[] = [];
      let after: string | null = null;
      for (;;) {
        await post(t, officerA, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: childA2 } });
        const r: any = await t.gql(streetAuditorA, `query($id: ID!, $a: String) { minorAccessHistory(minorId: $id, first: 2, after: $a) { seq } }`, { id: childA2, a: after }, {});
        expect(r.errors).toBeUndefined();
        const seqs = r.data.minorAccessHistory.map((h: { seq: string }) => Number(h.seq));
        seen.push(...seqs);
        if (seqs.length < 2) break;
        after = String(seqs[seqs.length - 1]);
      }
      expect(new Set(seen).size).toBe(seen.length);
      const expected = (
        await t.sql(`SELECT seq::int AS seq FROM audit.event WHERE region LIKE $1 AND minor_ids @> ARRAY[$2]::uuid[] AND seq <= $3 ORDER BY seq DESC`, [`${STREET_A}%`, childA2, top])
      ).map((r: { seq: number }) => Number(r.seq));
      expect(seen.filter((s) => s <= top)).toEqual(expected);
    });

    it('records as read by the auditor every child an answer names, and only what it names', async () => {
      // A page selecting the children read and changed: each of them in the auditor's event.
      const page = await post(t, districtAuditor, { query: PAGE, variables: { f: null, first: 400 } }, {});
      expect(page.json.errors).toBeUndefined();
      const named = new Set<string>(page.json.data.auditEvents.edges.flatMap((e: any) => [...e.node.reads, ...e.node.changes].map((x: any) => x.minorId).filter(Boolean)));
      expect(named.size).toBeGreaterThan(1);
      const [own] = await t.sql(`SELECT minor_ids::text[] AS m, body FROM audit.event WHERE request_id = $1`, [page.requestId]);
      expect(new Set(own.m)).toEqual(named);
      // The same page without them names no child; a look-up by a child names that child alone.
      const bare = await post(t, districtAuditor, { query: `{ auditEvents(first: 40) { edges { node { seq userId operationName document } } } }` }, {});
      expect((await t.sql(`SELECT minor_ids::text[] AS m FROM audit.event WHERE request_id = $1`, [bare.requestId]))[0].m).toEqual([]);
      const look = await post(t, streetAuditorA, { query: `query($id: ID!) { auditEvents(filter: { minorId: $id }, first: 1) { pageInfo { hasNextPage } } }`, variables: { id: childA } }, {});
      expect((await t.sql(`SELECT minor_ids::text[] AS m FROM audit.event WHERE request_id = $1`, [look.requestId]))[0].m).toEqual([childA]);
      // And the child's history shows the data officers who saw it.
      const history = await t.gql(districtAuditor, `query($id: ID!) { minorAccessHistory(minorId: $id, first: 1000) { requestId userId role } }`, { id: childA }, {});
      const ids = history.data.minorAccessHistory.map((h: any) => h.requestId);
      expect(ids).toContain(look.requestId);
      if (named.has(childA)) expect(ids).toContain(page.requestId);
    });
  });
});

const repeatHex = (c: string) => c.repeat(64);
