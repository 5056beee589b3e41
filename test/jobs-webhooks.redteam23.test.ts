import { Department } from '../src/auth/principal';
import type { AuditEventBody } from '../src/audit/audit.types';
import { buildPolicy } from '../src/server/bootstrap';
import { deliverWebhooks } from '../src/subgraphs/workflow/workflow.webhooks';
import { startTestHub, TestHub } from './support/test-hub';
import { closeReceiver, insertWebhook, onlyWebhooks, queueDeliveries, receiver } from './support/webhooks';

jest.setTimeout(300_000);

const DEACTIVATE = `mutation($id: ID!) { deactivateWebhook(id: $id) { id active } }`;

/**
 * Red team 23 (rt23b): regression review of 3835c0f + 6310475 (accepted webhook outcomes: 100 ms,
 * then one at a time after the batch, then 100 ms again once one is stuck) and 91225f5 + d6d0e7a
 * (the escalation job's notices dated no earlier than the step they follow).
 */
describe('webhook deliveries and deactivation (rt23b)', () => {
  let t: TestHub;
  const STATEMENT_MS = 3000;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_STATEMENT_TIMEOUT_MS: String(STATEMENT_MS), HUB_WEBHOOK_TIMEOUT_MS: '1500', HUB_WEBHOOK_RETRY_BASE_MS: '1000' } });
  });
  afterAll(() => t?.stop());

  // docs/workflows.md: "Only active webhooks are delivered to: deactivateWebhook marks the webhook's
  // pending deliveries FAILED … (a POST already in flight completes …)". A delivery leased but not yet
  // sent — its destination look-up and audit append still under way, seconds at most — is not in
  // flight: nothing has left the hub. The sender never looks at the webhook again after the lease, so
  // a deactivation the department committed (a receiver compromised, a URL handed to someone else)
  // still gets the notification's payload posted to it afterwards, and the delivery recorded DELIVERED.
  it('a delivery leased before a deactivation that commits before anything was sent is not posted to the deactivated webhook', async () => {
    const rx = await receiver(() => 204);
    try {
      const hook = await insertWebhook(t, 'EDUCATION', '330102001', rx.url);
      await queueDeliveries(t, hook, '330102001', 1, 'rt23b-deact-before-post');
      await onlyWebhooks(t, [hook]);
      const education = await t.token(Department.EDUCATION, { user: 'rt23b-edu', region: '330102001' });
      let deactivated: unknown = null;
      // The audit append is the last step before the POST: the department deactivates the webhook
      // meanwhile, through the public endpoint, and the call returns (committed) before the POST.
      const audit = {
        append: async (body: AuditEventBody) => {
          const r = await t.gql(education, DEACTIVATE, { id: hook });
          deactivated = r.errors ?? r.data.deactivateWebhook.active;
          await t.hub.audit.append(body);
        },
        drain: () => t.hub.audit.drain(),
        written: () => t.hub.audit.written(),
      };
      const total = await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(), { audit, policy: buildPolicy() });
      const rows = await t.sql(`SELECT status, last_error FROM workflow.webhook_delivery WHERE webhook_id = $1`, [hook]);
      expect({ deactivated, posted: rx.got.length, total, rows }).toEqual({
        deactivated: false,
        posted: 0,
        total: { delivered: 0, failed: 0 },
        rows: [{ status: 'FAILED', last_error: 'webhook deactivated' }],
      });
    } finally {
      await closeReceiver(rx.server);
    }
  });

  it('held: a webhook deactivated through the endpoint before the pass is neither leased nor posted, its delivery FAILED', async () => {
    const rx = await receiver(() => 204);
    try {
      const hook = await insertWebhook(t, 'EDUCATION', '330102002', rx.url);
      await queueDeliveries(t, hook, '330102002', 3, 'rt23b-deact-before-lease');
      await onlyWebhooks(t, [hook]);
      const education = await t.token(Department.EDUCATION, { user: 'rt23b-edu2', region: '330102002' });
      const r = await t.gql(education, DEACTIVATE, { id: hook });
      expect(r.errors).toBeUndefined();
      const total = await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(), { audit: t.hub.audit, policy: buildPolicy() });
      const rows = await t.sql(`SELECT status, attempts, last_error FROM workflow.webhook_delivery WHERE webhook_id = $1`, [hook]);
      expect({ posted: rx.got.length, total, rows }).toEqual({
        posted: 0,
        total: { delivered: 0, failed: 0 },
        rows: Array(3).fill({ status: 'FAILED', attempts: 0, last_error: 'webhook deactivated' }),
      });
    } finally {
      await closeReceiver(rx.server);
    }
  });
});
