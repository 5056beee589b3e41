import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { buildPolicy } from '../src/server/bootstrap';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { deliverWebhooks } from '../src/subgraphs/workflow/workflow.webhooks';
import { eventsOf, post } from './support/audit-helpers';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';
import { insertWebhook } from './support/webhooks';

jest.setTimeout(300_000);

/**
 * Red team 19 (rt195): regression review of de1c576 (escalation items wait 100 ms for a lock, SET LOCAL
 * lock_timeout, then are left for the next pass) and 7f78bd9 (barred persons record createdByDepartment /
 * createdByRegion). Every test asserts what README, docs/workflows.md and docs/permissions.md promise.
 */
const { POLICE: PO, JUSTICE: JU, EDUCATION: ED, CIVIL_AFFAIRS: CA } = Department;
const ADD = `mutation($i: BarredPersonInput!) { addBarredPerson(input: $i) { id createdBy createdByDepartment createdByRegion } }`;
const LIST = `query($r: Boolean) { barredPersons(first: 500, includeRevoked: $r) { id createdBy createdByDepartment createdByRegion revokedByDepartment } }`;

describe('jobs and bars (red team 19, rt195)', () => {
  let t: TestHub;
  let police: string;
  let justice: string;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_STATEMENT_TIMEOUT_MS: '1000', HUB_WEBHOOK_TIMEOUT_MS: '1500', HUB_WEBHOOK_RETRY_BASE_MS: '1000' } });
    police = await t.token(PO, { user: 'rt195-po', region: '330102' });
    justice = await t.token(JU, { user: 'rt195-ju', region: '330102001' });
  });
  afterAll(() => t.stop());

  describe('7f78bd9: who listed a bar', () => {
    it('the new fields are refused to an employer, an education officer and civil affairs, as createdBy is', async () => {
      const employer = await t.token(ED, { role: Role.EMPLOYER, user: 'rt195-kg' });
      const edu = await t.token(ED, { user: 'rt195-edu' });
      const ca = await t.token(CA, { user: 'rt195-ca' });
      for (const tok of [employer, edu, ca]) {
        const r = await t.gql(tok, `{ barredPersons(first: 5) { createdByDepartment createdByRegion } }`);
        expect(r.data?.barredPersons ?? null).toBeNull();
        expect(r.errors?.length).toBeGreaterThan(0);
        expect(JSON.stringify(r)).not.toMatch(/POLICE|JUSTICE|3301/);
      }
    });

    it('a bar listed before the migration (no department or region) reads as null, without error, beside new ones', async () => {
      const a = await t.gql(police, ADD, { i: { idNumber: buildIdNumber('330102', '1980-02-03', 411), name: '新某', offence: 'ABUSE', judgementReference: '(2026)rt195-1号' } });
      expect(a.errors).toBeUndefined();
      expect(a.data.addBarredPerson).toMatchObject({ createdBy: 'rt195-po', createdByDepartment: 'POLICE', createdByRegion: '330102' });
      // A bar as the release before listed it: no department or region (after one listed through the API, so the registry's key is recorded).
      const id = randomUUID();
      await t.sql(
        `INSERT INTO workflow.barred_person (id, id_number_hash, name, offence, judgement_reference, restricted_until, created_by, created_at)
         SELECT $1, id_number_hash, '旧某', offence, '(2020)旧1号', NULL, 'old-keeper', created_at - interval '1 day' FROM workflow.barred_person WHERE id = $2`,
        [id, a.data.addBarredPerson.id],
      );
      const list = await t.gql(justice, LIST, { r: true });
      expect(list.errors).toBeUndefined();
      const byId = new Map((list.data.barredPersons as { id: string }[]).map((p) => [p.id, p]));
      expect(byId.get(id)).toEqual({ id, createdBy: 'old-keeper', createdByDepartment: null, createdByRegion: null, revokedByDepartment: null });
      expect(byId.get(a.data.addBarredPerson.id)).toMatchObject({ createdByDepartment: 'POLICE', createdByRegion: '330102' });
    });

    it('a bar listed by police and revoked by justice keeps who listed it; listing and revocation are each audited with the caller', async () => {
      const added = await post(t, police, { query: ADD, variables: { i: { idNumber: buildIdNumber('330102', '1981-03-04', 413), name: '赵某', offence: 'ABUSE', judgementReference: '(2026)rt195-2号' } } });
      expect(added.json.errors).toBeUndefined();
      const id = added.json.data.addBarredPerson.id;
      const addEvents = await eventsOf(t, added.requestId);
      const addFinal = addEvents[addEvents.length - 1];
      expect([addFinal.outcome, addFinal.body.department, addFinal.body.region, addFinal.body.userId]).toEqual(['SUCCESS', 'POLICE', '330102', 'rt195-po']);
      expect(addFinal.body.changes).toEqual([expect.objectContaining({ mutation: 'addBarredPerson', id })]);
      const removed = await post(t, justice, { query: `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "再审改判") }`, variables: { id } });
      expect(removed.json).toEqual({ data: { removeBarredPerson: id } });
      const rmEvents = await eventsOf(t, removed.requestId);
      const rmFinal = rmEvents[rmEvents.length - 1];
      expect([rmFinal.outcome, rmFinal.body.department, rmFinal.body.region]).toEqual(['SUCCESS', 'JUSTICE', '330102001']);
      expect(rmFinal.body.changes).toEqual([expect.objectContaining({ mutation: 'removeBarredPerson', id })]);
      const list = await t.gql(police, LIST, { r: true });
      const bar = (list.data.barredPersons as { id: string }[]).find((p) => p.id === id);
      expect(bar).toEqual({ id, createdBy: 'rt195-po', createdByDepartment: 'POLICE', createdByRegion: '330102', revokedByDepartment: 'JUSTICE' });
    });
  });

  describe('de1c576: lock waits of the escalation items', () => {
    const holdRow = async (sql: string, params: unknown[]) => {
      const c = new Client({ connectionString: t.databaseUrl });
      await c.connect();
      await c.query('BEGIN');
      await c.query(sql, params);
      return {
        release: async () => {
          await c.query('ROLLBACK').catch(() => undefined);
          await c.end();
        },
      };
    };

    it('after a pass whose items ran into held rows, no pooled session keeps the 100 ms lock_timeout', async () => {
      const [m] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' AND birth_date > (now() - interval '15 years')::date AND risk_level IS DISTINCT FROM 'RED' ORDER BY id LIMIT 1 OFFSET 3`);
      const street = await t.token(CA, { user: 'rt195-ca-street', region: '330102001' });
      const hook = await insertWebhook(t, 'CIVIL_AFFAIRS', '330102001', 'http://127.0.0.1:9/rt195');
      const red = await t.gql(street, `mutation($m: ID!) { recordAssessment(minorId: $m, input: { level: RED, reasons: "rt195" }) { id } }`, { m: m.id });
      expect(red.errors).toBeUndefined();
      const held = await holdRow(`SELECT 1 FROM workflow.webhook WHERE id = $1 FOR UPDATE`, [hook]);
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      let summary;
      try {
        summary = await runEscalations(t.hub.db.ds, t.config, buildPolicy(), new Date(Date.now() + 3 * 3600_000));
      } finally {
        log.mockRestore();
        await held.release();
      }
      expect(summary.failed).toBeGreaterThan(0);
      // Every session of the pool at once: each answers the hub's own lock_timeout.
      const settings = await Promise.all(Array.from({ length: 12 }, () => t.hub.db.ds.query(`SELECT current_setting('lock_timeout') AS v, pg_sleep(0.05)`)));
      expect(new Set(settings.map(([r]: { v: string }[]) => r.v))).toEqual(new Set(['1s']));
      // And a request that waits 400 ms for a registry write's lock is served, not refused after 100 ms.
      const [other] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' AND birth_date > (now() - interval '15 years')::date ORDER BY id LIMIT 1 OFFSET 5`);
      for (let i = 0; i < 4; i++) {
        const h = await holdRow(`SELECT 1 FROM registry.minor WHERE id = $1 FOR UPDATE`, [other.id]);
        setTimeout(() => void h.release(), 400);
        const r = await t.gql(street, `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "rt195 走访" }) { id } }`, { id: other.id });
        expect(r.errors).toBeUndefined();
      }
    });

    it('an overdue-visit child held by a registry write is told at the next pass, once; a third pass tells nothing more', async () => {
      const now = new Date(Date.now() + 400 * 86_400_000);
      // One pass to tell every overdue child not yet told, then one child made newly overdue at this clock.
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        await runEscalations(t.hub.db.ds, t.config, buildPolicy(), now);
        const [m] = await t.sql(
          `SELECT id FROM registry.minor WHERE grid_code LIKE '330102002%' AND birth_date > (now() - interval '12 years')::date AND risk_level IN ('RED','ORANGE') ORDER BY id LIMIT 1`,
        );
        expect(m).toBeDefined();
        const due = new Date(now.getTime() - 2 * 86_400_000);
        await t.sql(`UPDATE registry.minor SET next_visit_due = $2 WHERE id = $1`, [m.id, due]);
        const count = async () => (await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE kind = 'VISIT_OVERDUE' AND minor_id = $1`, [m.id]))[0].n;
        const before = await count();
        const held = await (async () => {
          const c = new Client({ connectionString: t.databaseUrl });
          await c.connect();
          await c.query('BEGIN');
          await c.query(`SELECT 1 FROM registry.minor WHERE id = $1 FOR UPDATE`, [m.id]);
          return c;
        })();
        let first;
        try {
          first = await runEscalations(t.hub.db.ds, t.config, buildPolicy(), now);
        } finally {
          await held.query('ROLLBACK');
          await held.end();
        }
        expect(first.failed).toBeGreaterThan(0);
        expect(await count()).toBe(before);
        const second = await runEscalations(t.hub.db.ds, t.config, buildPolicy(), now);
        const told = await count();
        expect(told).toBeGreaterThan(before);
        expect(second.overdueVisits).toBe(told - before);
        const third = await runEscalations(t.hub.db.ds, t.config, buildPolicy(), now);
        expect([third.overdueVisits, await count()]).toEqual([0, told]);
      } finally {
        log.mockRestore();
      }
    });
  });

  describe('sibling of de1c576: the webhook delivery pass', () => {
    it('a delivery whose row another session holds while its POST is in flight is left; the pass goes on to the next batch', async () => {
      let holder: Client | null = null;
      const got: string[] = [];
      // A receiver that, at the first delivery, has another session lock that delivery's row before it answers.
      const server = createServer((req, res) => {
        req.resume();
        req.on('end', async () => {
          const id = req.headers['x-hub-delivery'] as string;
          got.push(id);
          if (got.length === 1) {
            holder = new Client({ connectionString: t.databaseUrl });
            await holder.connect();
            await holder.query('BEGIN');
            await holder.query(`SELECT 1 FROM workflow.webhook_delivery WHERE id = $1 FOR UPDATE`, [id]);
          }
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const hook = await insertWebhook(t, 'EDUCATION', '330102003', url);
      const civil = await t.token(CA, { user: 'rt195-ca-003', region: '330102003' });
      const kids = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102003%' AND birth_date > (now() - interval '15 years')::date AND risk_level IS DISTINCT FROM 'RED' ORDER BY id LIMIT 2`);
      expect(kids).toHaveLength(2);
      for (const k of kids) {
        const r = await t.gql(civil, `mutation($m: ID!) { recordAssessment(minorId: $m, input: { level: RED, reasons: "rt195" }) { id } }`, { m: k.id });
        expect(r.errors).toBeUndefined();
      }
      const queued = await t.sql(`SELECT id FROM workflow.webhook_delivery WHERE webhook_id = $1 AND status = 'PENDING'`, [hook]);
      expect(queued).toHaveLength(2);
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      let outcome: unknown;
      try {
        // Other pending deliveries (other webhooks) are pushed out of the way.
        await t.sql(`UPDATE workflow.webhook_delivery SET next_attempt_at = now() + interval '10 years' WHERE webhook_id <> $1 AND status = 'PENDING'`, [hook]);
        outcome = await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(Date.now() + 60_000), { audit: t.hub.audit, policy: buildPolicy() }, { batch: 1, budgetMs: 60_000 }).then(
          (r) => r,
          (e: Error) => e,
        );
      } finally {
        log.mockRestore();
        await (holder as Client | null)?.query('ROLLBACK').catch(() => undefined);
        await (holder as Client | null)?.end();
        server.closeAllConnections?.();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      const statuses = await t.sql(`SELECT id, status FROM workflow.webhook_delivery WHERE webhook_id = $1 ORDER BY id`, [hook]);
      // Both were posted in this one pass (the second batch leased despite the first's held row): at
      // most the held one is left PENDING for a later pass, the other is DELIVERED.
      expect([outcome instanceof Error ? String(outcome) : 'resolved', got.length, statuses.filter((d) => d.status === 'DELIVERED').length >= 1]).toEqual(['resolved', 2, true]);
    });

    it('a webhook row held by a deactivation under way does not hold up the deliveries of other webhooks', async () => {
      const got: string[] = [];
      const server = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          got.push(req.headers['x-hub-delivery'] as string);
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const heldHook = await insertWebhook(t, 'POLICE', '330102004', `${url}?held`);
      const hook = await insertWebhook(t, 'EDUCATION', '330102004', url);
      const civil = await t.token(CA, { user: 'rt195-ca-004', region: '330102004' });
      const [k] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102004%' AND birth_date > (now() - interval '15 years')::date AND risk_level IS DISTINCT FROM 'RED' ORDER BY id LIMIT 1`);
      const r = await t.gql(civil, `mutation($m: ID!) { recordAssessment(minorId: $m, input: { level: RED, reasons: "rt195" }) { id } }`, { m: k.id });
      expect(r.errors).toBeUndefined();
      await t.sql(`UPDATE workflow.webhook_delivery SET next_attempt_at = now() + interval '10 years' WHERE webhook_id NOT IN ($1, $2) AND status = 'PENDING'`, [hook, heldHook]);
      const holder = new Client({ connectionString: t.databaseUrl });
      await holder.connect();
      let outcome: unknown;
      try {
        await holder.query('BEGIN');
        await holder.query(`UPDATE workflow.webhook SET active = false WHERE id = $1`, [heldHook]);
        outcome = await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(Date.now() + 60_000), { audit: t.hub.audit, policy: buildPolicy() }).then(
          (x) => x,
          (e: Error) => e,
        );
      } finally {
        await holder.query('ROLLBACK').catch(() => undefined);
        await holder.end();
        server.closeAllConnections?.();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      expect(outcome).not.toBeInstanceOf(Error);
      const [{ status }] = await t.sql(`SELECT status FROM workflow.webhook_delivery WHERE webhook_id = $1`, [hook]);
      expect(status).toBe('DELIVERED');
    });
  });
});

describe('7f78bd9 in distributed mode (red team 19, rt195)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startDistributedTestHub();
  });
  afterAll(() => t.stop());

  it('the gateway serves who listed a bar to the keepers, and refuses it to an employer', async () => {
    const police = await t.token(PO, { user: 'rt195-po-d', region: '330102' });
    const a = await t.gql(police, ADD, { i: { idNumber: buildIdNumber('330102', '1982-05-06', 415), name: '钱某', offence: 'ABUSE', judgementReference: '(2026)rt195-d1号' } });
    expect(a.errors).toBeUndefined();
    expect(a.data.addBarredPerson).toMatchObject({ createdBy: 'rt195-po-d', createdByDepartment: 'POLICE', createdByRegion: '330102' });
    const justice = await t.token(JU, { user: 'rt195-ju-d', region: '330102' });
    const list = await t.gql(justice, LIST, { r: false });
    expect(list.errors).toBeUndefined();
    expect((list.data.barredPersons as { id: string }[]).find((p) => p.id === a.data.addBarredPerson.id)).toMatchObject({ createdByDepartment: 'POLICE', createdByRegion: '330102' });
    const employer = await t.token(ED, { role: Role.EMPLOYER, user: 'rt195-kg-d' });
    const refused = await t.gql(employer, `{ barredPersons(first: 5) { createdByDepartment } }`);
    expect(refused.data?.barredPersons ?? null).toBeNull();
    expect(JSON.stringify(refused)).not.toMatch(/POLICE|330102/);
  });
});
