import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import type { AuditEventBody } from '../src/audit/audit.types';
import { buildPolicy } from '../src/server/bootstrap';
import { CHILD_LEFT_ERROR, deliverWebhooks, RECHECK_UNAVAILABLE_ERROR } from '../src/subgraphs/workflow/workflow.webhooks';
import { startTestHub, TestHub } from './support/test-hub';
import { closeReceiver, insertWebhook, onlyWebhooks, queueDeliveries, receiver } from './support/webhooks';

jest.setTimeout(300_000);

/**
 * Red team 24 (rt24d): regression review of 077d450 (a leased delivery read again, with its webhook,
 * right before its POST) and 2eca912 (toldRedHere: a CHILD_RED counts once anyone was told of the RED
 * the child is at), and the notification / webhook paths around them.
 */
const { CIVIL_AFFAIRS: CA, POLICE: PO } = Department;
const STREET = '330102001';
const OTHER_STREET = '330102002';
const ASSESS = `mutation($m: ID!, $i: AssessmentInput!) { recordAssessment(minorId: $m, input: $i) { id } }`;
const MOVE = `mutation($id: ID!, $i: UpdateMinorInput!) { updateMinor(id: $id, input: $i) { id } }`;
const REGISTER = `mutation($url: String!) { registerWebhook(url: $url) { webhook { id } } }`;
const policy = buildPolicy();

describe('notifications and webhooks (rt24d)', () => {
  let t: TestHub;
  let offset = 0;
  /** A different child of the street for every test. */
  const child = async (): Promise<{ id: string; grid_code: string }> => {
    const [kid] = await t.sql(
      `SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now() + interval '30 days')
        AND risk_level IS DISTINCT FROM 'RED' ORDER BY id OFFSET ${40 + offset++} LIMIT 1`,
    );
    return kid;
  };
  const gridOf = async (street: string, not?: string): Promise<string> =>
    (await t.sql(`SELECT code FROM registry.region WHERE code LIKE '${street}%' AND length(code) = 15 AND code IS DISTINCT FROM $1 ORDER BY code LIMIT 1`, [not ?? null]))[0].code;
  const ago = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();
  const toldIn = async (minorId: string, grid: string) =>
    (await t.sql(`SELECT subject_id, department FROM workflow.notification WHERE kind = 'CHILD_RED' AND minor_id = $1 AND region_code = $2 ORDER BY created_at, department`, [minorId, grid])).map(
      (r) => `${r.department}:${r.subject_id}`,
    );

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_WEBHOOK_TIMEOUT_MS: '1500', HUB_WEBHOOK_RETRY_BASE_MS: '1000', HUB_STATEMENT_TIMEOUT_MS: '2000' } });
  });
  afterAll(() => t?.stop());

  // docs/workflows.md: "a notification … delivered to a webhook whose region no longer holds it (a
  // delivery waits for its retries), names no child and shows none of the fields of the child's
  // record". 077d450 reads the delivery and its webhook again right before the POST, after the
  // look-up and audit append, but the body was built at the lease: a move committed in that window
  // (the same window the deactivation fix closes) still has the child's name, ID number, address and
  // the assessment's reasons posted to the old street's police system.
  it('a child moved out of the webhook’s region after the lease, before the POST, is not named in the posted body', async () => {
    const rx = await receiver(() => 204);
    try {
      const kid = await child();
      const away = await gridOf(OTHER_STREET);
      const police = await t.token(PO, { user: 'rt24d-po', region: STREET });
      const reg = await t.gql(police, REGISTER, { url: rx.url });
      expect(reg.errors).toBeUndefined();
      const hook: string = reg.data.registerWebhook.webhook.id;
      const ca = await t.token(CA);
      const red = await t.gql(ca, ASSESS, { m: kid.id, i: { level: 'RED', reasons: '红队二四 家暴迹象' } });
      expect(red.errors).toBeUndefined();
      await onlyWebhooks(t, [hook]);
      let moved: unknown = null;
      const audit = {
        append: async (body: AuditEventBody) => {
          await t.hub.audit.append(body);
          // The child moves to another street while the attempt is audited, before the POST.
          if (moved) return;
          const r = await t.gql(ca, MOVE, { id: kid.id, i: { gridCode: away } });
          moved = r.errors ?? r.data.updateMinor.id;
        },
        drain: () => t.hub.audit.drain(),
        written: () => t.hub.audit.written(),
      };
      await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(), { audit, policy });
      expect(moved).toBe(kid.id);
      // Not sent, and not counted: sent at the next lease, naming no child.
      expect(rx.got).toEqual([]);
      expect(await t.sql(`SELECT status, attempts, last_error FROM workflow.webhook_delivery WHERE webhook_id = $1`, [hook])).toEqual([
        { status: 'PENDING', attempts: 0, last_error: CHILD_LEFT_ERROR },
      ]);
      await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(Date.now() + 3_600_000), { audit, policy });
      const bodies = rx.got.map((g) => JSON.parse(g.body));
      expect(bodies.map((b) => ({ minorId: b.minorId, fields: Object.keys(b.payload).filter((k) => k.startsWith('Minor.') || k.startsWith('RiskAssessment.')) }))).toEqual([
        { minorId: null, fields: [] },
      ]);
      // The attempt audited before the child left is answered by an event of the same request
      // withholding it, every field DENY: nothing of the child left the hub (red team 25).
      const events = (await t.sql(`SELECT body FROM audit.event WHERE body::jsonb->>'userId' = 'hub:webhook-delivery' AND body LIKE $1 ORDER BY seq`, [`%${hook}%`])).map(
        (r) => JSON.parse(r.body) as AuditEventBody,
      );
      // The child's access history, as the district's auditor reads it.
      const auditor = await t.token(CA, { role: Role.AUDITOR, region: '330102', user: 'rt25h-auditor' });
      const history = await t.gql(auditor, `query($id: ID!) { minorAccessHistory(minorId: $id) { requestId userId outcome fields { access } } }`, { id: kid.id }, {});
      expect(history.errors).toBeUndefined();
      const deliveries = history.data.minorAccessHistory.filter((h: { userId: string }) => h.userId === 'hub:webhook-delivery');
      expect({
        events: events.map((e) => ({ outcome: e.outcome, readsChild: JSON.stringify(e.reads).includes(kid.id), withheld: e.operationName!.includes(`withheld, ${CHILD_LEFT_ERROR}`) })),
        history: deliveries.map((h: { requestId: string; outcome: string; fields: { access: string }[] }) => ({
          outcome: h.outcome,
          sameRequest: h.requestId === events[0].requestId,
          access: [...new Set(h.fields.map((f) => f.access))],
        })),
      }).toEqual({
        events: [
          { outcome: 'SUCCESS', readsChild: true, withheld: false },
          { outcome: 'DENIED', readsChild: true, withheld: true },
          { outcome: 'SUCCESS', readsChild: false, withheld: false },
        ],
        history: [
          { outcome: 'DENIED', sameRequest: true, access: ['DENY'] },
          { outcome: 'SUCCESS', sameRequest: true, access: ['ALLOW'] },
        ],
      });
    } finally {
      await closeReceiver(rx.server);
    }
  });

  // 077d450 added a database read (stillDue) between the audit append and the POST. When that read
  // fails (the database not answering in time), nothing has been sent and the destination was not
  // found wanting, exactly the case docs/workflows.md treats as "not an attempt" (audit unavailable,
  // look-ups at capacity). Instead the error is taken for the receiver's: the attempt is counted,
  // last_error names a Postgres code, the back-off doubles, and at maxAttempts the delivery is given
  // up FAILED, never having been posted, while the trail holds one "deliver … attempt n" event per try.
  it('a delivery whose pre-POST re-read fails is not counted as an attempt (nothing was sent)', async () => {
    const rx = await receiver(() => 204);
    const holder = new Client({ connectionString: t.databaseUrl });
    await holder.connect();
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const hook = await insertWebhook(t, 'EDUCATION', STREET, rx.url);
      await queueDeliveries(t, hook, STREET, 1, 'rt24d-stilldue-fails');
      await onlyWebhooks(t, [hook]);
      const audit = {
        append: async (body: AuditEventBody) => {
          await t.hub.audit.append(body);
          // A migration of a rolling deploy (or any stall) holds the webhook table past the statement timeout.
          await holder.query('BEGIN');
          await holder.query('LOCK TABLE workflow.webhook IN ACCESS EXCLUSIVE MODE');
        },
        drain: () => t.hub.audit.drain(),
        written: () => t.hub.audit.written(),
      };
      await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(), { audit, policy });
      await holder.query('COMMIT');
      const rows = await t.sql(`SELECT status, attempts, last_error FROM workflow.webhook_delivery WHERE webhook_id = $1`, [hook]);
      expect({ posted: rx.got.length, rows }).toEqual({ posted: 0, rows: [{ status: 'PENDING', attempts: 0, last_error: RECHECK_UNAVAILABLE_ERROR }] });
    } finally {
      errors.mockRestore();
      await holder.end();
      await closeReceiver(rx.server);
    }
  });

  // 2eca912, docs/workflows.md: a CHILD_RED "assessed RED in a grid not yet told of it at the RED it
  // is at (… the event names that assessment, even one dated before the RED the child was at, and the
  // grid counts as told of that RED from then on)". toldRedHere counts such a notice only if someone
  // had already been told of a RED dated since the last other level. When the RED the child is at was
  // split off by a late ORANGE entry (so no one was told of it yet), the grid told by the late RED
  // entry does not count as told, and the next RED assessment tells all four departments again.
  it('CHILD_RED: a grid told by a late entry at the RED the child is at is not told again at the next RED (RED split off by a late ORANGE)', async () => {
    const kid = await child();
    const ca = await t.token(CA);
    const steps = [
      { level: 'BLUE', reasons: '红队二四 平稳', assessedAt: ago(12) },
      { level: 'RED', reasons: '红队二四 红一', assessedAt: ago(10) }, // told (a new RED)
      { level: 'RED', reasons: '红队二四 红二', assessedAt: ago(6) }, // the same RED: no one told
      { level: 'ORANGE', reasons: '红队二四 补录橙', assessedAt: ago(8) }, // late: the child at a RED (ago 6) no one was told of
      { level: 'RED', reasons: '红队二四 补录红', assessedAt: ago(9) }, // late: the grid is told, naming it
    ];
    const ids: string[] = [];
    for (const i of steps) {
      const r = await t.gql(ca, ASSESS, { m: kid.id, i });
      expect(r.errors).toBeUndefined();
      ids.push(r.data.recordAssessment.id);
    }
    const police = async () => (await toldIn(kid.id, kid.grid_code)).filter((x) => x.startsWith('POLICE:'));
    expect(await police()).toEqual([`POLICE:${ids[1]}`, `POLICE:${ids[4]}`]);
    // Still at the same RED, assessed RED again in the grid that was told of it by the late entry.
    const again = await t.gql(ca, ASSESS, { m: kid.id, i: { level: 'RED', reasons: '红队二四 仍红' } });
    expect(again.errors).toBeUndefined();
    expect(await police()).toEqual([`POLICE:${ids[1]}`, `POLICE:${ids[4]}`]);
  });

  it('held: RED → ORANGE → RED tells the grid again; RED again at the same RED does not', async () => {
    const kid = await child();
    const ca = await t.token(CA);
    const a1 = await t.gql(ca, ASSESS, { m: kid.id, i: { level: 'RED', reasons: '红队二四 一', assessedAt: ago(3) } });
    const o = await t.gql(ca, ASSESS, { m: kid.id, i: { level: 'ORANGE', reasons: '红队二四 二', assessedAt: ago(2) } });
    const a2 = await t.gql(ca, ASSESS, { m: kid.id, i: { level: 'RED', reasons: '红队二四 三', assessedAt: ago(1) } });
    const a3 = await t.gql(ca, ASSESS, { m: kid.id, i: { level: 'RED', reasons: '红队二四 四' } });
    expect([a1, o, a2, a3].map((r) => r.errors)).toEqual([undefined, undefined, undefined, undefined]);
    const told = await toldIn(kid.id, kid.grid_code);
    expect(told.filter((x) => x.startsWith('POLICE:'))).toEqual([`POLICE:${a1.data.recordAssessment.id}`, `POLICE:${a2.data.recordAssessment.id}`]);
  });

  it('held: a RED child moved to another street is told there at its next RED assessment, and the old grid is not told again', async () => {
    const kid = await child();
    const away = await gridOf(OTHER_STREET);
    const ca = await t.token(CA);
    const a1 = await t.gql(ca, ASSESS, { m: kid.id, i: { level: 'RED', reasons: '红队二四 五' } });
    expect((await t.gql(ca, MOVE, { id: kid.id, i: { gridCode: away } })).errors).toBeUndefined();
    const a2 = await t.gql(ca, ASSESS, { m: kid.id, i: { level: 'RED', reasons: '红队二四 六' } });
    expect((await t.gql(ca, MOVE, { id: kid.id, i: { gridCode: kid.grid_code } })).errors).toBeUndefined();
    const a3 = await t.gql(ca, ASSESS, { m: kid.id, i: { level: 'RED', reasons: '红队二四 七' } });
    expect([a1, a2, a3].map((r) => r.errors)).toEqual([undefined, undefined, undefined]);
    expect((await toldIn(kid.id, away)).filter((x) => x.startsWith('POLICE:'))).toEqual([`POLICE:${a2.data.recordAssessment.id}`]);
    expect((await toldIn(kid.id, kid.grid_code)).filter((x) => x.startsWith('POLICE:'))).toEqual([`POLICE:${a1.data.recordAssessment.id}`]);
  });

  it('held: two RED assessments of an ORANGE child at once tell each department once', async () => {
    const kid = await child();
    const ca = await t.token(CA);
    expect((await t.gql(ca, ASSESS, { m: kid.id, i: { level: 'ORANGE', reasons: '红队二四 八', assessedAt: ago(2) } })).errors).toBeUndefined();
    const both = await Promise.all([1, 2].map((i) => t.gql(ca, ASSESS, { m: kid.id, i: { level: 'RED', reasons: `红队二四 并发${i}` } })));
    expect(both.map((r) => r.errors)).toEqual([undefined, undefined]);
    const told = await toldIn(kid.id, kid.grid_code);
    expect(told.map((x) => x.split(':')[0]).sort()).toEqual(['CIVIL_AFFAIRS', 'EDUCATION', 'POLICE', 'WOMENS_FEDERATION']);
  });
});
