import { Department, Role } from '../src/auth/principal';
import { buildPolicy } from '../src/server/bootstrap';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { deliverWebhooks } from '../src/subgraphs/workflow/workflow.webhooks';
import { startTestHub, TestHub } from './support/test-hub';
import { closeReceiver, insertWebhook, onlyWebhooks, receiver } from './support/webhooks';

jest.setTimeout(300_000);

const { CIVIL_AFFAIRS: CA, EDUCATION: ED } = Department;
const FILE = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`;
const MIN = 60_000;
const ASSESS = `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: RED, reasons: "rt42a" }) { id } }`;
const MOVE = `mutation($id: ID!, $g: ID) { updateMinor(id: $id, input: { gridCode: $g }) { id } }`;
const ACK = `mutation($id: ID!) { acknowledge(id: $id) { id acknowledgedAt } }`;

/**
 * Red team 42 (rt42a): the escalation job and the webhook deliveries of what it tells, driven as the
 * hub drives them (a RED assessment through the endpoint, runEscalations on two "instances" at once,
 * deliverWebhooks), checking who is told, what the body names, and how the delivery is audited.
 */
describe('escalations and their deliveries (rt42a)', () => {
  let t: TestHub;
  let civil: string;
  const policy = buildPolicy();
  const trail = () => ({ audit: t.hub.audit, policy });

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_WEBHOOK_TIMEOUT_MS: '1500', HUB_WEBHOOK_RETRY_BASE_MS: '1000' } });
    civil = await t.token(CA, { user: 'rt42a-ca' });
  });
  afterAll(() => t?.stop());

  /** A registered minor not yet RED and named by no notification, with a grid of the same level outside its grid's parent region. */
  const pickChild = async (skip: string[]) => {
    const [c] = await t.sql(
      `SELECT m.id, m.grid_code, g.parent_code AS parent,
              (SELECT o.code FROM registry.region o WHERE length(o.code) = length(m.grid_code) AND o.code NOT LIKE g.parent_code || '%' ORDER BY o.code LIMIT 1) AS outside
         FROM registry.minor m JOIN registry.region g ON g.code = m.grid_code
        WHERE m.risk_level IS DISTINCT FROM 'RED' AND registry.is_minor(m.birth_date, now() + interval '30 days')
          AND NOT EXISTS (SELECT 1 FROM workflow.notification n WHERE n.minor_id = m.id) AND NOT (m.id = ANY($1::uuid[]))
        ORDER BY m.id LIMIT 1`,
      [skip],
    );
    expect(c.outside).toBeTruthy();
    return c as { id: string; grid_code: string; parent: string; outside: string };
  };

  const redOf = async (childId: string) => {
    const r = await t.gql(civil, ASSESS, { id: childId });
    expect(r.errors).toBeUndefined();
    return (await t.sql(`SELECT id, department, created_at FROM workflow.notification WHERE kind = 'CHILD_RED' AND minor_id = $1 ORDER BY department`, [childId])) as {
      id: string;
      department: string;
      created_at: Date;
    }[];
  };

  const escalationsOf = (ids: string[]) =>
    t.sql(`SELECT subject_id, department, region_code, minor_id, payload FROM workflow.notification WHERE kind = 'ESCALATION' AND subject_id = ANY($1::uuid[]) ORDER BY subject_id`, [ids]);

  const afterAck = (reds: { created_at: Date }[]) => new Date(Math.max(...reds.map((r) => r.created_at.getTime())) + (t.config.workflow.redAckMinutes + 1) * MIN);

  it('two instances escalating at once tell each unacknowledged RED notification once, one level up, and not the one acknowledged', async () => {
    const c = await pickChild([]);
    const reds = await redOf(c.id);
    expect(reds.length).toBeGreaterThanOrEqual(2);
    // One department acknowledges through the endpoint, as its officer at the grid would.
    const acked = reds[0];
    const officer = await t.token(acked.department as Department, { user: 'rt42a-ack', region: c.grid_code });
    expect((await t.gql(officer, ACK, { id: acked.id })).errors).toBeUndefined();
    const at = afterAck(reds);
    const [a, b] = await Promise.all([runEscalations(t.hub.db.ds, t.config, policy, at), runEscalations(t.hub.db.ds, t.config, policy, at)]);
    expect(a.failed + b.failed).toBe(0);
    const told = await escalationsOf(reds.map((r) => r.id));
    expect(told.map((n: any) => n.subject_id).sort()).toEqual(reds.slice(1).map((r) => r.id).sort());
    for (const n of told) expect({ department: n.department, region: n.region_code, minor: n.minor_id }).toEqual({ department: CA, region: c.parent, minor: c.id });
    // A restart (a third pass later) tells nothing again.
    await runEscalations(t.hub.db.ds, t.config, policy, new Date(at.getTime() + 10 * MIN));
    expect(await escalationsOf(reds.map((r) => r.id))).toHaveLength(told.length);
  });

  it('an escalation delivered after its child moved out of the region told names no child in the body or the audit event', async () => {
    const rx = await receiver(() => 204);
    try {
      // Not the first test's child: that one is named by notifications now.
      const c = await pickChild([]);
      const reds = await redOf(c.id);
      const hook = await insertWebhook(t, CA, c.parent, rx.url);
      const at = afterAck(reds);
      await runEscalations(t.hub.db.ds, t.config, policy, at);
      const told = await escalationsOf(reds.map((r) => r.id));
      expect(told.length).toBe(reds.length);
      for (const n of told) expect(n.minor_id).toBe(c.id);
      // The child moves to another street before the deliveries are sent.
      expect((await t.gql(civil, MOVE, { id: c.id, g: c.outside })).errors).toBeUndefined();
      await onlyWebhooks(t, [hook]);
      const total = await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(at.getTime() + MIN), trail());
      expect(total.failed).toBe(0);
      const all = rx.got.map((g) => JSON.parse(g.body));
      // Every body sent to the parent's webhook after the move names no child that left it.
      for (const body of all) expect({ kind: body.kind, minorId: body.minorId }).toEqual({ kind: body.kind, minorId: null });
      const bodies = all.filter((b) => b.kind === 'ESCALATION' && reds.some((r) => r.id === b.subjectId));
      expect(bodies).toHaveLength(told.length);
      for (const body of bodies) {
        expect(body.minorId).toBeNull();
        expect(Object.keys(body.payload).every((k) => k.startsWith('Notification.'))).toBe(true);
        expect(JSON.stringify(body)).not.toContain(c.id);
      }
      const events = await t.sql(`SELECT department, region, body FROM audit.event WHERE body LIKE $1 ORDER BY seq`, [`%to webhook ${hook}%`]);
      expect(events).toHaveLength(all.length);
      for (const e of events) {
        const body = JSON.parse(e.body);
        expect({ department: e.department, region: e.region, reads: body.reads }).toEqual({ department: CA, region: c.parent, reads: [] });
      }
    } finally {
      await closeReceiver(rx.server);
    }
  });

  it('a report escalated about another street’s child is delivered to the region told naming no child, and audited as of no child', async () => {
    const rx = await receiver(() => 204);
    try {
      const c = await pickChild([]);
      const [grid] = await t.sql(
        `SELECT g.code, g.parent_code AS parent FROM registry.region g WHERE length(g.code) = length($1::text) AND g.parent_code <> $2 AND left(g.code, 9) <> left($1::text, 9) ORDER BY g.code LIMIT 1`,
        [c.grid_code, c.parent],
      );
      const [{ id_number }] = await t.sql(`SELECT trim(id_number) AS id_number FROM registry.minor WHERE id = $1`, [c.id]);
      const reporter = await t.token(ED, { role: Role.REPORTER, user: 'rt42a-teacher' });
      const filed = await t.gql(reporter, FILE, { input: { harmType: 'PHYSICAL_ABUSE', observation: 'rt42a', location: 'rt42a', regionCode: grid.code, urgency: 'URGENT', childIdNumber: id_number } }, {});
      expect(filed.errors).toBeUndefined();
      const id = filed.data.fileMandatoryReport.id;
      const [{ handle_due_at, minor_id }] = await t.sql(`SELECT handle_due_at, minor_id FROM workflow.mandatory_report WHERE id = $1`, [id]);
      expect(minor_id).toBe(c.id);
      const hook = await insertWebhook(t, CA, grid.parent, rx.url);
      const at = new Date(handle_due_at.getTime() + MIN);
      await runEscalations(t.hub.db.ds, t.config, policy, at);
      const told = await escalationsOf([id]);
      expect(told.map((n: any) => ({ region: n.region_code, minor: n.minor_id }))).toEqual([{ region: grid.parent, minor: null }]);
      await onlyWebhooks(t, [hook]);
      await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(at.getTime() + MIN), trail());
      const bodies = rx.got.map((g) => JSON.parse(g.body)).filter((b) => b.subjectId === id);
      expect(bodies).toHaveLength(1);
      expect(bodies[0].minorId).toBeNull();
      expect(JSON.stringify(bodies[0])).not.toContain(c.id);
      expect(Object.keys(bodies[0].payload).sort()).toEqual(
        ['MandatoryReport.handleDueAt', 'MandatoryReport.harmType', 'MandatoryReport.overdue', 'MandatoryReport.regionCode', 'MandatoryReport.status', 'MandatoryReport.urgency', 'MandatoryReport.verifyDueAt'],
      );
      const events = await t.sql(`SELECT body FROM audit.event WHERE body LIKE $1 ORDER BY seq`, [`%about ${id} to webhook ${hook}%`]);
      expect(events.map((e: any) => JSON.parse(e.body).reads)).toEqual([[]]);
    } finally {
      await closeReceiver(rx.server);
    }
  });
});
