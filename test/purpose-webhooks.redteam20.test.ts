import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { buildPolicy } from '../src/server/bootstrap';
import { deliverWebhooks } from '../src/subgraphs/workflow/workflow.webhooks';
import { eventOf, eventsOf, post } from './support/audit-helpers';
import { errorCodes, startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';
import { insertWebhook } from './support/webhooks';

jest.setTimeout(300_000);

const { CIVIL_AFFAIRS: CA, POLICE: PO, EDUCATION: ED } = Department;
const STREET = '330102001';
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; rt20-3' };

/**
 * Red team 20 (rt203): regression review of 7edbc0f (under a referral's purpose, a mutation that loads
 * a record naming no child, and a filtered list whose `after` item names none, are withheld) and
 * f409475 (a webhook delivery's outcome waits 100 ms at most for its row).
 */
describe.each(['in process', 'distributed'] as const)('7edbc0f, red team 20 (rt203), %s', (mode) => {
  let t: TestHub;
  let child: { id: string; grid_code: string; id_number: string };
  let streetCivil: string;
  let streetPolice: string;
  let referralId: string;
  let ownReport: string;
  const under = () => ({ 'x-purpose': `REFERRAL; ${referralId}` });
  const shape = (r: { status: number; json: any }) => [r.status, errorCodes({ status: r.status, errors: r.json?.errors })];

  const file = async (user: string, extra: Record<string, unknown>) => {
    const reporter = await t.token(ED, { role: Role.REPORTER, user });
    const filed = await t.gql(
      reporter,
      `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`,
      { input: { harmType: 'PHYSICAL_ABUSE', observation: '手臂多处淤青', location: '教室', regionCode: STREET, urgency: 'URGENT', ...extra } },
      {},
    );
    if (filed.errors) throw new Error(JSON.stringify(filed.errors));
    return filed.data.fileMandatoryReport.id as string;
  };

  beforeAll(async () => {
    t = mode === 'in process' ? await startTestHub() : await startDistributedTestHub();
    [child] = await t.sql(
      `SELECT id, grid_code, trim(id_number) AS id_number FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 21 LIMIT 1`,
    );
    streetCivil = await t.token(CA, { region: STREET, user: 'rt203-civil' });
    streetPolice = await t.token(PO, { region: STREET, user: 'rt203-police' });
    const ref = await t.gql(streetCivil, `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`, {
      input: { minorId: child.id, toDepartment: 'POLICE', type: 'LEGAL_AID', need: '需要法律援助' },
    }, PURPOSE);
    expect(ref.errors).toBeUndefined();
    referralId = ref.data.createReferral.id;
    ownReport = await file('rt203-teacher-own', { childIdNumber: child.id_number });
  });
  afterAll(() => t?.stop());

  // noteTested now notes a null child as "served about someone unnamed"; PageInfo.endCursor passes the
  // page's last child, null on an EMPTY page (policy.middleware exempts PageInfo for exactly this reason).
  it('under REFERRAL, an empty filtered page of minors with pageInfo { endCursor } names no child and is served', async () => {
    const q = `query { minors(filter: { ageMin: 17, ageMax: 0 }, first: 5) { edges { node { id } } pageInfo { endCursor hasNextPage } } }`;
    const control = await post(t, streetPolice, { query: q }, PURPOSE);
    expect([control.status, control.json.errors ?? null, control.json.data]).toEqual([200, null, { minors: { edges: [], pageInfo: { endCursor: null, hasNextPage: false } } }]);
    const r = await post(t, streetPolice, { query: q }, under());
    expect([r.status, r.json.errors ?? null, r.json.data]).toEqual([200, null, { minors: { edges: [], pageInfo: { endCursor: null, hasNextPage: false } } }]);
  });

  it('under REFERRAL, a filtered page of minors holding only the referral\'s child, with endCursor, is served (control)', async () => {
    const cursor = (id: string) => Buffer.from(`minor:${id}`).toString('base64url');
    const [pred] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code = $1 AND registry.is_minor(birth_date, now()) AND id < $2 ORDER BY id DESC LIMIT 1`, [child.grid_code, child.id]);
    const q = `query($g: String!, $a: String) { minors(filter: { regionCode: $g }, first: 1, after: $a) { edges { node { id } } pageInfo { endCursor } } }`;
    const r = await post(t, streetPolice, { query: q, variables: { g: child.grid_code, a: pred ? cursor(pred.id) : null } }, under());
    expect([r.status, r.json.errors ?? null, r.json.data]).toEqual([200, null, { minors: { edges: [{ node: { id: child.id } }], pageInfo: { endCursor: cursor(child.id) } } }]);
  });

  it('under REFERRAL, the filtered page after the last child of the referral child\'s grid (empty) with endCursor is served', async () => {
    const cursor = (id: string) => Buffer.from(`minor:${id}`).toString('base64url');
    const [last] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code = $1 AND registry.is_minor(birth_date, now()) ORDER BY id DESC LIMIT 1`, [child.grid_code]);
    const q = `query($g: String!, $a: String) { minors(filter: { regionCode: $g }, first: 1, after: $a) { edges { node { id } } pageInfo { endCursor } } }`;
    const r = await post(t, streetPolice, { query: q, variables: { g: child.grid_code, a: cursor(last.id) } }, under());
    expect([r.status, r.json.errors ?? null, r.json.data]).toEqual([200, null, { minors: { edges: [], pageInfo: { endCursor: null } } }]);
  });

  it('under REFERRAL, an empty filtered page of minors with only pageInfo { endCursor } is served', async () => {
    const q = `query { minors(filter: { riskLevels: [RED], ageMin: 17, ageMax: 0 }, first: 1) { pageInfo { endCursor } } }`;
    const r = await post(t, streetPolice, { query: q }, under());
    expect([r.status, r.json.errors ?? null, r.json.data]).toEqual([200, null, { minors: { pageInfo: { endCursor: null } } }]);
  });

  it('control: under REFERRAL, the same empty filtered page with only hasNextPage, or an unfiltered empty page with endCursor, is served', async () => {
    const a = await post(t, streetPolice, { query: `query { minors(filter: { ageMin: 17, ageMax: 0 }, first: 1) { edges { node { id } } pageInfo { hasNextPage } } }` }, under());
    expect([a.status, a.json.errors ?? null, a.json.data]).toEqual([200, null, { minors: { edges: [], pageInfo: { hasNextPage: false } } }]);
    const [last] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id DESC LIMIT 1`);
    const b = await post(t, streetPolice, { query: `query($a: String) { minors(first: 1, after: $a) { edges { node { id } } pageInfo { endCursor } } }`, variables: { a: Buffer.from(`minor:${last.id}`).toString('base64url') } }, under());
    expect([b.status, b.json.errors ?? null, b.json.data]).toEqual([200, null, { minors: { edges: [], pageInfo: { endCursor: null } } }]);
  });

  it('under REFERRAL, accepting then completing the referral itself is served, audited SUCCESS', async () => {
    const a = await post(t, streetPolice, { query: `mutation($id: ID!) { acceptReferral(id: $id) { __typename id status } }`, variables: { id: referralId } }, under());
    expect([a.status, a.json.errors ?? null, a.json.data?.acceptReferral?.status]).toEqual([200, null, 'ACCEPTED']);
    const ea = await eventOf(t, a.requestId);
    expect(ea.outcome).toBe('SUCCESS');
    // A refused second acceptance, under its own purpose, states its own error, not the purpose's.
    const again = await post(t, streetPolice, { query: `mutation($id: ID!) { acceptReferral(id: $id) { __typename } }`, variables: { id: referralId } }, under());
    expect(shape(again)).toEqual([200, ['BAD_USER_INPUT']]);
  });

  it('under REFERRAL, a refused step on a report about the referral\'s own child tells its own error, not FORBIDDEN', async () => {
    const r = await post(t, streetPolice, { query: `mutation($r: ID!) { transitionReport(id: $r, to: CLOSED, note: "结案") { __typename } }`, variables: { r: ownReport } }, under());
    expect(shape(r)).toEqual([200, ['BAD_USER_INPUT']]);
  });

  it('under REFERRAL, a step on a report about the referral\'s own child is served', async () => {
    const r = await post(t, streetPolice, { query: `mutation($r: ID!) { transitionReport(id: $r, to: VERIFYING, note: "核实中") { __typename status } }`, variables: { r: ownReport } }, under());
    expect([r.status, r.json.errors ?? null, r.json.data]).toEqual([200, null, { transitionReport: { __typename: 'MandatoryReport', status: 'VERIFYING' } }]);
  });

  it('under REFERRAL, acknowledging a notification about the referral\'s own child is served', async () => {
    const [n] = await t.sql(`SELECT id FROM workflow.notification WHERE subject_id = $1 AND department = 'POLICE' AND minor_id = $2`, [ownReport, child.id]);
    expect(n).toBeDefined();
    const r = await post(t, streetPolice, { query: `mutation($id: ID!) { acknowledge(id: $id) { __typename } }`, variables: { id: n.id } }, under());
    expect([r.status, r.json.errors ?? null]).toEqual([200, null]);
  });

  it('under its own REFERRAL purpose, completing a referral whose child moved away: the completion stands, its answer is withheld (documented), audited PARTIAL', async () => {
    const [mover] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 27 LIMIT 1`);
    const ref = await t.gql(streetCivil, `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`, {
      input: { minorId: mover.id, toDepartment: 'POLICE', type: 'LEGAL_AID', need: '需要法律援助' },
    }, PURPOSE);
    expect(ref.errors).toBeUndefined();
    const id = ref.data.createReferral.id as string;
    const acc = await t.gql(streetPolice, `mutation($id: ID!) { acceptReferral(id: $id) { id } }`, { id }, PURPOSE);
    expect(acc.errors).toBeUndefined();
    const [elsewhere] = await t.sql(`SELECT grid_code FROM registry.minor WHERE grid_code NOT LIKE '${STREET}%' AND grid_code LIKE '330102%' LIMIT 1`);
    await t.sql(`UPDATE registry.minor SET grid_code = $2 WHERE id = $1`, [mover.id, elsewhere.grid_code]);
    const r = await post(t, streetPolice, { query: `mutation($id: ID!) { completeReferral(id: $id, outcome: "已提供法律援助") { __typename } }`, variables: { id } }, { 'x-purpose': `REFERRAL; ${id}` });
    const [row] = await t.sql(`SELECT status FROM workflow.referral WHERE id = $1`, [id]);
    expect(row.status).toBe('COMPLETED');
    expect(shape(r)).toEqual([403, ['FORBIDDEN']]);
    const events = await eventsOf(t, r.requestId);
    expect(events.map((e) => e.outcome)).toEqual(['STARTED', 'PARTIAL']);
    expect(events[1].body.changes).toEqual([expect.objectContaining({ mutation: 'completeReferral', id, minorId: null })]);
  });

  it('under CASE_HANDLING (and no purpose), a step on a report of an unregistered child is served as before', async () => {
    const unnamed = await file('rt203-teacher-u1', { childDescription: '约八岁女孩' });
    const r = await post(t, streetPolice, { query: `mutation($r: ID!) { transitionReport(id: $r, to: VERIFYING, note: "核实") { __typename status } }`, variables: { r: unnamed } }, PURPOSE);
    expect([r.status, r.json.errors ?? null, r.json.data]).toEqual([200, null, { transitionReport: { __typename: 'MandatoryReport', status: 'VERIFYING' } }]);
    const refused = await post(t, streetPolice, { query: `mutation($r: ID!) { transitionReport(id: $r, to: CLOSED, note: "结案") { __typename } }`, variables: { r: unnamed } }, PURPOSE);
    expect(shape(refused)).toEqual([200, ['BAD_USER_INPUT']]);
  });

  it('under REFERRAL, a step that changes a report of an unregistered child: withheld 403, the change stands and its event says so (PARTIAL)', async () => {
    const unnamed = await file('rt203-teacher-u2', { childDescription: '约九岁男孩' });
    const r = await post(t, streetPolice, { query: `mutation($r: ID!) { transitionReport(id: $r, to: VERIFYING, note: "核实") { __typename } }`, variables: { r: unnamed } }, under());
    expect([r.status, r.json.data ?? null, errorCodes({ status: r.status, errors: r.json.errors })]).toEqual([403, null, ['FORBIDDEN']]);
    expect(r.json.errors[0].message).toContain('the mutation ran');
    const [row] = await t.sql(`SELECT status FROM workflow.mandatory_report WHERE id = $1`, [unnamed]);
    expect(row.status).toBe('VERIFYING');
    const events = await eventsOf(t, r.requestId);
    expect(events.map((e) => e.outcome)).toEqual(['STARTED', 'PARTIAL']);
    const final = events[1].body;
    expect(final.errorCodes).toEqual(['FORBIDDEN']);
    expect(final.changes).toEqual([expect.objectContaining({ mutation: 'transitionReport', id: unnamed, minorId: null })]);
    expect(final.purpose).toEqual({ code: 'REFERRAL', reference: referralId });
    expect(JSON.stringify(final.reads ?? [])).not.toContain('ALLOW');
  });
});

/** f409475: webhook delivery outcomes wait 100 ms at most for the row. */
describe('f409475, red team 20 (rt203)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_STATEMENT_TIMEOUT_MS: '2000', HUB_WEBHOOK_TIMEOUT_MS: '1500', HUB_WEBHOOK_RETRY_BASE_MS: '1000' } });
  });
  afterAll(() => t.stop());

  const redFor = async (street: string, user: string, offset = 0) => {
    const civil = await t.token(CA, { user, region: street });
    const [k] = await t.sql(
      `SELECT id FROM registry.minor WHERE grid_code LIKE '${street}%' AND registry.is_minor(birth_date, now()) AND risk_level IS DISTINCT FROM 'RED' ORDER BY id LIMIT 1 OFFSET ${offset}`,
    );
    const r = await t.gql(civil, `mutation($m: ID!) { recordAssessment(minorId: $m, input: { level: RED, reasons: "rt203" }) { id } }`, { m: k.id });
    expect(r.errors).toBeUndefined();
    return k.id as string;
  };
  const receiverWith = async (onPost: (deliveryId: string) => Promise<void>) => {
    const got: string[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', async () => {
        const id = req.headers['x-hub-delivery'] as string;
        got.push(id);
        await onPost(id);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const close = () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      });
    return { got, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, close };
  };
  const onlyHooks = (ids: string[]) =>
    t.sql(`UPDATE workflow.webhook_delivery SET next_attempt_at = now() + interval '10 years' WHERE NOT (webhook_id = ANY($1::uuid[])) AND status = 'PENDING'`, [ids]);
  const pass = (clock: () => Date) => deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, clock, { audit: t.hub.audit, policy: buildPolicy() });

  // docs/workflows.md: "a POST already in flight completes, and one the receiver accepts is recorded
  // DELIVERED, its `webhook deactivated` replaced: it was delivered". A deactivation whose transaction
  // takes longer than 100 ms to commit (a webhook with a backlog of thousands of pending deliveries to fail)
  // now makes the outcome writer give up; the deactivation then commits FAILED over a delivered POST.
  it('a delivery the receiver accepted while a slow deactivation held its row is recorded DELIVERED, as documented', async () => {
    let holder: Client | null = null;
    let hook = '';
    const rx = await receiverWith(async () => {
      // The deactivation's own statements (deactivateWebhook), its commit 400 ms away.
      holder = new Client({ connectionString: t.databaseUrl });
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query(`UPDATE workflow.webhook SET active = false WHERE id = $1 AND active`, [hook]);
      await holder.query(`UPDATE workflow.webhook_delivery SET status = 'FAILED', last_error = 'webhook deactivated' WHERE webhook_id = $1 AND status = 'PENDING'`, [hook]);
      const h = holder;
      setTimeout(() => void h.query('COMMIT').then(() => h.end()), 400);
    });
    hook = await insertWebhook(t, 'EDUCATION', '330102002', rx.url);
    await redFor('330102002', 'rt203-ca-002');
    await onlyHooks([hook]);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await pass(() => new Date());
    } finally {
      log.mockRestore();
      await new Promise((r) => setTimeout(r, 600));
      await rx.close();
    }
    expect(rx.got).toHaveLength(1);
    const rows = await t.sql(`SELECT status, attempts, last_error FROM workflow.webhook_delivery WHERE webhook_id = $1`, [hook]);
    expect(rows).toEqual([{ status: 'DELIVERED', attempts: 1, last_error: null }]);
  });

  it('through the public endpoint: a delivery the receiver accepted while deactivateWebhook (taking >100 ms) held its row is recorded DELIVERED', async () => {
    // The deactivation is slowed after it has locked the in-flight delivery: another pending delivery of
    // the same webhook (not due) is held by another session until 400 ms after the receiver answers (any lock wait, or a backlog of
    // thousands of pending deliveries to fail, does the same).
    let holder: Client | null = null;
    let hook = '';
    let extra = '';
    let deactivation: Promise<unknown> | null = null;
    const education = await t.token(ED, { user: 'rt203-edu-004', region: '330102004' });
    const rx = await receiverWith(async () => {
      // Its row version written after the lease's (a table scan comes to it after the in-flight one).
      await t.sql(`UPDATE workflow.webhook_delivery SET next_attempt_at = next_attempt_at + interval '1 second' WHERE id = $1`, [extra]);
      holder = new Client({ connectionString: t.databaseUrl });
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM workflow.webhook_delivery WHERE id = $1 FOR UPDATE`, [extra]);
      const h = holder;
      deactivation = post(t, education, { query: `mutation($id: ID!) { deactivateWebhook(id: $id) { id active } }`, variables: { id: hook } }, {});
      // Answered once the deactivation is waiting for the held row (it has failed the in-flight one by then).
      for (let i = 0; i < 100; i++) {
        const waiting = await t.sql(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE workflow.webhook_delivery SET status = ''FAILED''%'`);
        if (waiting.length) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      setTimeout(() => void h.query('COMMIT').then(() => h.end()), 400);
    });
    hook = await insertWebhook(t, 'EDUCATION', '330102004', rx.url);
    await redFor('330102004', 'rt203-ca-004');
    const [n] = await t.sql(`SELECT notification_id FROM workflow.webhook_delivery WHERE webhook_id = $1`, [hook]);
    const [x] = await t.sql(
      `INSERT INTO workflow.notification (id, kind, department, region_code, minor_id, subject_id, payload, created_at)
       SELECT 'ffffffff-ffff-4fff-bfff-ffffffffffff', kind, department, region_code, minor_id, subject_id, payload, created_at FROM workflow.notification WHERE id = $1 RETURNING id`,
      [n.notification_id],
    );
    [{ id: extra }] = await t.sql(
      `INSERT INTO workflow.webhook_delivery (id, webhook_id, notification_id, status, attempts, next_attempt_at) VALUES (gen_random_uuid(), $1, $2, 'PENDING', 0, now() + interval '1 day') RETURNING id`,
      [hook, x.id],
    );
    await onlyHooks([hook]);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    let answer: any;
    try {
      await pass(() => new Date());
      answer = await deactivation;
    } finally {
      log.mockRestore();
      await rx.close();
    }
    expect(rx.got).toHaveLength(1);
    expect([answer.status, answer.json.errors ?? null, answer.json.data]).toEqual([200, null, { deactivateWebhook: { id: hook, active: false } }]);
    const rows = await t.sql(`SELECT status, attempts, last_error FROM workflow.webhook_delivery WHERE webhook_id = $1 AND id <> $2`, [hook, extra]);
    expect(rows).toEqual([{ status: 'DELIVERED', attempts: 1, last_error: null }]);
  });

  it('a delivery whose outcome was left for a held row is posted again after its lease, once, and audited per POST', async () => {
    let holder: Client | null = null;
    const rx = await receiverWith(async (id) => {
      if (holder) return;
      holder = new Client({ connectionString: t.databaseUrl });
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM workflow.webhook_delivery WHERE id = $1 FOR UPDATE`, [id]);
    });
    const hook = await insertWebhook(t, 'EDUCATION', '330102003', rx.url);
    await redFor('330102003', 'rt203-ca-003');
    await onlyHooks([hook]);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await pass(() => new Date());
      await (holder as Client | null)?.query('ROLLBACK');
      await (holder as Client | null)?.end();
      const [left] = await t.sql(`SELECT id, status, attempts FROM workflow.webhook_delivery WHERE webhook_id = $1`, [hook]);
      expect([left.status, left.attempts]).toEqual(['PENDING', 0]);
      // Before its lease runs out: not posted again.
      await pass(() => new Date());
      expect(rx.got).toHaveLength(1);
      // After it (clock an hour on): posted again, then delivered.
      await pass(() => new Date(Date.now() + 3600_000));
      expect(rx.got).toHaveLength(2);
      const rows = await t.sql(`SELECT status, attempts FROM workflow.webhook_delivery WHERE webhook_id = $1`, [hook]);
      expect(rows).toEqual([{ status: 'DELIVERED', attempts: 1 }]);
      await pass(() => new Date(Date.now() + 7200_000));
      expect(rx.got).toHaveLength(2);
      await t.hub.audit.drain();
      const ev = await t.sql(`SELECT body FROM audit.event WHERE body LIKE $1`, [`%delivery ${left.id}%`]);
      expect(ev).toHaveLength(2);
    } finally {
      log.mockRestore();
      await rx.close();
    }
  });

  it('audit unavailable while the delivery row is held: the pass ends normally, nothing is sent, and the delivery is sent once audit and row are back', async () => {
    let holder: Client | null = null;
    const rx = await receiverWith(async () => undefined);
    const hook = await insertWebhook(t, 'EDUCATION', '330102001', rx.url);
    await redFor('330102001', 'rt203-ca-001', 40);
    await onlyHooks([hook]);
    const [d] = await t.sql(`SELECT id FROM workflow.webhook_delivery WHERE webhook_id = $1`, [hook]);
    const failing = {
      append: async () => {
        holder = new Client({ connectionString: t.databaseUrl });
        await holder.connect();
        await holder.query('BEGIN');
        await holder.query(`SELECT 1 FROM workflow.webhook_delivery WHERE id = $1 FOR UPDATE`, [d.id]);
        throw new Error('audit store down');
      },
    };
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const outcome = await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(), { audit: failing as never, policy: buildPolicy() }).then(
        (x) => x,
        (e: Error) => e,
      );
      expect(outcome).toEqual({ delivered: 0, failed: 0 });
      await (holder as Client | null)?.query('ROLLBACK');
      await (holder as Client | null)?.end();
      expect(rx.got).toHaveLength(0);
      const [left] = await t.sql(`SELECT status, attempts FROM workflow.webhook_delivery WHERE id = $1`, [d.id]);
      expect([left.status, left.attempts]).toEqual(['PENDING', 0]);
      await pass(() => new Date(Date.now() + 3600_000));
      expect(rx.got).toHaveLength(1);
      const [done] = await t.sql(`SELECT status, attempts FROM workflow.webhook_delivery WHERE id = $1`, [d.id]);
      expect([done.status, done.attempts]).toEqual(['DELIVERED', 1]);
    } finally {
      log.mockRestore();
      await rx.close();
    }
  });
});
