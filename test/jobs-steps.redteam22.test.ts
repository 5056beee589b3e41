import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { buildPolicy } from '../src/server/bootstrap';
import { hubClock } from '../src/server/hub.context';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { deliverWebhooks } from '../src/subgraphs/workflow/workflow.webhooks';
import { startHubsApart, startTestHub, TestHub } from './support/test-hub';
import { closeReceiver, insertWebhook, onlyWebhooks, queueDeliveries, receiver } from './support/webhooks';

jest.setTimeout(300_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Red team 22 (rt223): regression review of 3835c0f (accepted webhook outcomes held past 100 ms are
 * written one at a time after the batch) and 91225f5 (CHILD_RED at timeAfter(…, minor.updatedAt);
 * the escalation job dates reports' / referrals' lapses and reassessments no earlier than their step).
 */
describe('webhook delivery: accepted outcomes held, written after the batch (3835c0f)', () => {
  let t: TestHub;
  const STATEMENT_MS = 3000;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_STATEMENT_TIMEOUT_MS: String(STATEMENT_MS), HUB_WEBHOOK_TIMEOUT_MS: '1500', HUB_WEBHOOK_RETRY_BASE_MS: '1000' } });
  });
  afterAll(() => t?.stop());

  const pass = () => deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(), { audit: t.hub.audit, policy: buildPolicy() });

  // The docs: a deactivation under way holds the row to its commit, "and is then replaced": the
  // receiver accepted it, so it is DELIVERED. Since 3835c0f the held accepted outcomes are written one
  // at a time and the first one that times out (a stuck session on another row) ends the loop: the
  // deactivated delivery behind it keeps FAILED 'webhook deactivated' though its receiver accepted it,
  // and — not PENDING — it is never sent again either. Before 3835c0f each waited on its own.
  it('an accepted delivery whose deactivation committed is recorded DELIVERED even when another held delivery of the batch is stuck', async () => {
    let stuck: Client | null = null;
    let deact: Client | null = null;
    let hookA = '';
    let hookB = '';
    const a = await receiver(async () => {
      stuck = new Client({ connectionString: t.databaseUrl });
      await stuck.connect();
      await stuck.query('BEGIN');
      await stuck.query(`SELECT 1 FROM workflow.webhook_delivery WHERE webhook_id = $1 FOR UPDATE`, [hookA]);
      return 204;
    });
    const b = await receiver(async () => {
      // Answered a little after A, so that A's outcome is held first.
      deact = new Client({ connectionString: t.databaseUrl });
      await deact.connect();
      await deact.query('BEGIN');
      await deact.query(`UPDATE workflow.webhook SET active = false WHERE id = $1`, [hookB]);
      await deact.query(`UPDATE workflow.webhook_delivery SET status = 'FAILED', last_error = 'webhook deactivated' WHERE webhook_id = $1 AND status = 'PENDING'`, [hookB]);
      await sleep(60);
      // The deactivation commits 400 ms later: past the 100 ms an outcome first waits, long before the statement timeout.
      setTimeout(() => void deact!.query('COMMIT'), 400);
      return 204;
    });
    hookA = await insertWebhook(t, 'EDUCATION', '330102001', a.url);
    hookB = await insertWebhook(t, 'EDUCATION', '330102002', b.url);
    await queueDeliveries(t, hookA, '330102001', 1, 'rt223-stuck');
    await queueDeliveries(t, hookB, '330102002', 1, 'rt223-deact');
    await onlyWebhooks(t, [hookA, hookB]);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const running = pass().then(
        (x) => x,
        (e: Error) => e,
      );
      // Holds A's row past the statement timeout, then lets go.
      await sleep(STATEMENT_MS + 1500);
      await (stuck as Client | null)?.query('ROLLBACK');
      const outcome = await running;
      const [rowB] = await t.sql(`SELECT status, last_error FROM workflow.webhook_delivery WHERE webhook_id = $1`, [hookB]);
      // What the pass logged (the stuck one, then "1 more … left leased behind it").
      const said = log.mock.calls.map((c) => String(c[0])).join(' | ');
      expect([a.got.length, b.got.length]).toEqual([1, 1]);
      if (rowB.status !== 'DELIVERED') console.warn(`pass outcome ${JSON.stringify(outcome)}; logged: ${said}`);
      expect(rowB).toEqual({ status: 'DELIVERED', last_error: null });
      expect(outcome).toEqual({ delivered: 1, failed: 0 });
    } finally {
      log.mockRestore();
      await (stuck as Client | null)?.end().catch(() => undefined);
      await (deact as Client | null)?.end().catch(() => undefined);
      await closeReceiver(a.server);
      await closeReceiver(b.server);
    }
  });

  it('held: an accepted delivery whose deactivation committed after 100 ms is DELIVERED and counted once', async () => {
    let deact: Client | null = null;
    let hook = '';
    const rx = await receiver(async (n) => {
      if (n === 1) {
        deact = new Client({ connectionString: t.databaseUrl });
        await deact.connect();
        await deact.query('BEGIN');
        await deact.query(`UPDATE workflow.webhook SET active = false WHERE id = $1`, [hook]);
        await deact.query(`UPDATE workflow.webhook_delivery SET status = 'FAILED', last_error = 'webhook deactivated' WHERE webhook_id = $1 AND status = 'PENDING'`, [hook]);
        setTimeout(() => void deact!.query('COMMIT'), 500);
      }
      return 204;
    });
    hook = await insertWebhook(t, 'EDUCATION', '330102003', rx.url);
    await queueDeliveries(t, hook, '330102003', 3, 'rt223-deact-all');
    await onlyWebhooks(t, [hook]);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const outcome = await pass();
      const rows = await t.sql(`SELECT status, count(*)::int AS n FROM workflow.webhook_delivery WHERE webhook_id = $1 GROUP BY status ORDER BY status`, [hook]);
      expect(rx.got.length).toBe(3);
      expect(rows).toEqual([{ status: 'DELIVERED', n: 3 }]);
      expect(outcome).toEqual({ delivered: 3, failed: 0 });
    } finally {
      log.mockRestore();
      await (deact as Client | null)?.end().catch(() => undefined);
      await closeReceiver(rx.server);
    }
  });
});

const STREET = '330102001';
const ASSESS = `mutation($id: ID!, $input: AssessmentInput!) { recordAssessment(minorId: $id, input: $input) { id level assessedAt } }`;
const FILE = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id status receivedAt } }`;
const STEP = `mutation($id: ID!, $to: ReportStatus!) { transitionReport(id: $id, to: $to, note: "核查中") { id status updatedAt } }`;

describe('the escalation job on a clock behind a gateway (91225f5 and its siblings)', () => {
  let ahead: TestHub;
  let behind: TestHub;
  let stopHubs: () => Promise<void>;
  let offset = 0;
  const freshChild = async () => {
    const [c] = await ahead.sql(
      `SELECT id, grid_code FROM registry.minor m WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now() + interval '1 year')
         AND birth_date < now() - interval '3 years' AND risk_level IS DISTINCT FROM 'RED' AND risk_level IS DISTINCT FROM 'ORANGE'
         AND NOT EXISTS (SELECT 1 FROM registry.risk_assessment a WHERE a.minor_id = m.id)
         AND NOT EXISTS (SELECT 1 FROM registry.visit v WHERE v.minor_id = m.id)
         AND NOT EXISTS (SELECT 1 FROM workflow.notification n WHERE n.minor_id = m.id)
       ORDER BY id OFFSET ${60 + offset++} LIMIT 1`,
    );
    expect(c).toBeDefined();
    return c as { id: string; grid_code: string };
  };
  beforeAll(async () => {
    ({ ahead, behind, stop: stopHubs } = await startHubsApart());
  });
  afterAll(() => stopHubs?.());

  // Sibling of 91225f5 in the same job: VISIT_OVERDUE is still dated at the job's clock. A RED
  // assessment (entered late, with its time) taken on a gateway ahead makes the child's visit overdue
  // at once; the job behind then tells VISIT_OVERDUE ("Minor.riskLevel": RED) dated before the
  // assessment — and before the CHILD_RED — that left the child so.
  it('sibling: a VISIT_OVERDUE told by the job behind is dated no earlier than the RED assessment (ahead) that made the visit overdue', async () => {
    const c = await freshChild();
    // The seed's backlog of overdue visits told first, so that the inbox below is not all of them.
    const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await runEscalations(ahead.hub.db.ds, ahead.config, buildPolicy(), hubClock(behind.config));
    } finally {
      quiet.mockRestore();
    }
    const ca = await ahead.token(Department.CIVIL_AFFAIRS, { user: 'ca-ahead-rt223' });
    const red = await ahead.gql(ca, ASSESS, { id: c.id, input: { level: 'RED', reasons: '补录：前日入户评估为红色', assessedAt: new Date(Date.now() - 2 * 86_400_000).toISOString() } });
    expect(red.errors).toBeUndefined();
    const [m] = await ahead.sql(`SELECT risk_level, next_visit_due, updated_at FROM registry.minor WHERE id = $1`, [c.id]);
    expect(m.risk_level).toBe('RED');
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await runEscalations(behind.hub.db.ds, behind.config, buildPolicy(), hubClock(behind.config));
    } finally {
      log.mockRestore();
    }
    const [childRed] = await ahead.sql(`SELECT min(created_at) AS at FROM workflow.notification WHERE kind = 'CHILD_RED' AND minor_id = $1`, [c.id]);
    const [overdue] = await ahead.sql(`SELECT min(created_at) AS at FROM workflow.notification WHERE kind = 'VISIT_OVERDUE' AND minor_id = $1`, [c.id]);
    expect(childRed.at).not.toBeNull();
    expect(overdue.at).not.toBeNull();
    // As civil affairs reads it (newest first): the overdue visit, told after the RED, is listed below it.
    const inbox = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS), `{ notifications(first: 300) { kind createdAt minor { id } } }`);
    expect(inbox.errors).toBeUndefined();
    const kinds = inbox.data.notifications.filter((n: { minor: { id: string } | null }) => n.minor?.id === c.id).map((n: { kind: string }) => n.kind);
    expect(kinds).toEqual(['VISIT_OVERDUE', 'CHILD_RED']);
    expect({ overdueAfterStep: overdue.at.getTime() >= m.updated_at.getTime(), overdueAfterChildRed: overdue.at.getTime() >= childRed.at.getTime() }).toEqual({
      overdueAfterStep: true,
      overdueAfterChildRed: true,
    });
  });

  it('held: a report stepped ahead, escalated by the job behind, then by the job ahead and behind again, is told once per stage', async () => {
    const c = await freshChild();
    const filed = await ahead.gql(await ahead.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-rt223' }), FILE, {
      input: { harmType: 'NEGLECT', observation: '长期无人照看', location: '家中', regionCode: c.grid_code, urgency: 'NORMAL', childId: c.id },
    });
    expect(filed.errors).toBeUndefined();
    const id = filed.data.fileMandatoryReport.id;
    await ahead.sql(
      `UPDATE workflow.mandatory_report SET received_at = received_at - interval '30 days', updated_at = updated_at - interval '30 days',
              verify_due_at = verify_due_at - interval '30 days', verify_escalated_at = now() - interval '29 days', handle_due_at = now() - interval '20 seconds' WHERE id = $1`,
      [id],
    );
    const stepped = await ahead.gql(await ahead.token(Department.POLICE, { user: 'po-ahead-rt223' }), STEP, { id, to: 'VERIFYING' });
    expect(stepped.errors).toBeUndefined();
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await runEscalations(behind.hub.db.ds, behind.config, buildPolicy(), hubClock(behind.config));
      await runEscalations(ahead.hub.db.ds, ahead.config, buildPolicy(), hubClock(ahead.config));
      await runEscalations(behind.hub.db.ds, behind.config, buildPolicy(), new Date(Date.now() + 60_000));
    } finally {
      log.mockRestore();
    }
    const rows = await ahead.sql(`SELECT kind, department, created_at FROM workflow.notification WHERE kind = 'ESCALATION' AND subject_id = $1`, [id]);
    expect(rows.map((r: { department: string }) => r.department)).toEqual(['CIVIL_AFFAIRS']);
    const [marks] = await ahead.sql(`SELECT handle_escalated_at, updated_at FROM workflow.mandatory_report WHERE id = $1`, [id]);
    expect(rows[0].created_at.getTime()).toBe(marks.handle_escalated_at.getTime());
    expect(marks.handle_escalated_at.getTime()).toBeGreaterThanOrEqual(marks.updated_at.getTime());
  });

  it('held: a referral escalated for its answer by the job ahead, accepted behind, escalates for its completion once, after the acceptance, whichever job runs', async () => {
    const c = await freshChild();
    const created = await ahead.gql(await ahead.token(Department.CIVIL_AFFAIRS, { user: 'ca-ahead-rt223' }), `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`, {
      input: { minorId: c.id, type: 'EDUCATION_AID', toDepartment: Department.EDUCATION, need: '家庭困难，需要帮扶' },
    });
    expect(created.errors).toBeUndefined();
    const id = created.data.createReferral.id;
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      // Past its answer deadline by the job ahead's clock only.
      await ahead.sql(`UPDATE workflow.referral SET answer_due_at = now() + interval '2 seconds' WHERE id = $1`, [id]);
      await runEscalations(behind.hub.db.ds, behind.config, buildPolicy(), hubClock(behind.config));
      await runEscalations(ahead.hub.db.ds, ahead.config, buildPolicy(), new Date(Date.now() + 5000));
      const [r1] = await ahead.sql(`SELECT escalated_at FROM workflow.referral WHERE id = $1`, [id]);
      expect(r1.escalated_at).not.toBeNull();
      const acc = await behind.gql(await behind.token(Department.EDUCATION, { user: 'edu-behind-rt223' }), `mutation($id: ID!) { acceptReferral(id: $id) { id status } }`, { id });
      expect(acc.errors).toBeUndefined();
      const [r2] = await ahead.sql(`SELECT answered_at, escalated_at, complete_due_at FROM workflow.referral WHERE id = $1`, [id]);
      expect(r2.answered_at.getTime()).toBeGreaterThan(r1.escalated_at.getTime());
      // Its completion deadline passes (moved, as if 30 days went by): every job, on either clock, tells it once.
      await ahead.sql(`UPDATE workflow.referral SET complete_due_at = answered_at + interval '1 millisecond' WHERE id = $1`, [id]);
      await runEscalations(behind.hub.db.ds, behind.config, buildPolicy(), new Date(Date.now() + 60_000));
      await runEscalations(ahead.hub.db.ds, ahead.config, buildPolicy(), new Date(Date.now() + 70_000));
      await runEscalations(behind.hub.db.ds, behind.config, buildPolicy(), new Date(Date.now() + 80_000));
    } finally {
      log.mockRestore();
    }
    const rows = await ahead.sql(`SELECT dedupe_key, created_at FROM workflow.notification WHERE kind = 'ESCALATION' AND subject_id = $1 ORDER BY created_at`, [id]);
    expect(rows.map((r: { dedupe_key: string }) => r.dedupe_key.split(':').slice(3).join(':'))).toEqual(['ANSWER:CIVIL_AFFAIRS', 'COMPLETION:CIVIL_AFFAIRS']);
    const [r3] = await ahead.sql(`SELECT answered_at, escalated_at FROM workflow.referral WHERE id = $1`, [id]);
    expect(r3.escalated_at.getTime()).toBe(rows[1].created_at.getTime());
    expect(r3.escalated_at.getTime()).toBeGreaterThan(r3.answered_at.getTime());
  });
});
