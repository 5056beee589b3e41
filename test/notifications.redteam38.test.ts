import { Department } from '../src/auth/principal';
import { buildPolicy } from '../src/server/bootstrap';
import { hubClock } from '../src/server/hub.context';
import { deliverWebhooks } from '../src/subgraphs/workflow/workflow.webhooks';
import { startTestHub, TestHub } from './support/test-hub';
import { closeReceiver, onlyWebhooks, receiver } from './support/webhooks';

jest.setTimeout(300_000);

/**
 * Red team 38: notifications, their inbox and acknowledgements, the escalation job and webhook
 * deliveries, with two hubs on one database whose clocks differ as distributed mode accepts.
 */
const { CIVIL_AFFAIRS: CA, POLICE: PO } = Department;
const STREET = '330102001';
const ASSESS = `mutation($m: ID!, $i: AssessmentInput!) { recordAssessment(minorId: $m, input: $i) { id } }`;
const REGISTER = `mutation($url: String!) { registerWebhook(url: $url) { webhook { id } } }`;
const policy = buildPolicy();

describe('notifications and webhooks, two hubs apart (rt38)', () => {
  // Two instances of one deployment on one database, the second's clock 15 s behind the first's
  // (distributed mode accepts 15 s), each running the delivery job on its own clock as the server
  // does (`hubClock`, `startWorkflowJobs`).
  let ahead: TestHub;
  let behind: TestHub;
  let offset = 7;

  beforeAll(async () => {
    ahead = await startTestHub();
    behind = await startTestHub({ databaseUrl: ahead.databaseUrl, env: { HUB_CLOCK_OFFSET_MS: '-15000' } });
  });
  afterAll(async () => {
    await behind?.stop();
    await ahead?.stop();
  });

  const pass = (t: TestHub, cfg: TestHub['config']['workflow']['webhook']) => deliverWebhooks(t.hub.db.ds, cfg, () => hubClock(t.config), { audit: t.hub.audit, policy });

  /** A webhook of the street's police, and a CHILD_RED told through the hub behind (due on its clock) queued for it alone. */
  const queuedRed = async (url: string): Promise<{ id: string; notification_id: string }> => {
    const police = await behind.token(PO, { user: `rt38-po-${offset}`, region: STREET });
    const reg = await behind.gql(police, REGISTER, { url });
    expect(reg.errors).toBeUndefined();
    const hook: string = reg.data.registerWebhook.webhook.id;
    const [kid] = await behind.sql(
      `SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now() + interval '30 days')
        AND risk_level IS DISTINCT FROM 'RED' ORDER BY id OFFSET ${offset++} LIMIT 1`,
    );
    const red = await behind.gql(await behind.token(CA), ASSESS, { m: kid.id, i: { level: 'RED', reasons: '红队三八 两个实例' } });
    expect(red.errors).toBeUndefined();
    await onlyWebhooks(behind, [hook]);
    const [queued] = await behind.sql(`SELECT d.id, d.notification_id FROM workflow.webhook_delivery d WHERE d.webhook_id = $1`, [hook]);
    expect(queued).toBeDefined();
    return queued;
  };

  // docs/workflows.md: "Deliveries are leased (FOR UPDATE SKIP LOCKED, and next_attempt_at moved past
  // the look-up, the audit append's retrying and the POST: 4 s + 3 × the request timeout, from the
  // clock as the batch is leased) so two hub instances never post the same one at once". The lease is
  // a time on the leasing instance's clock, and whether it has run out is judged on the other's
  // (`next_attempt_at <= $1`, $1 its own clock): an instance whose clock runs ahead by more than the
  // lease is long finds a delivery the one behind has just leased already due, leases it again and
  // posts it while the first POST is in flight — with a 3 s request timeout (a 13 s lease) at once.
  it('a delivery leased by the hub behind is not posted again, while its POST is in flight, by the hub ahead (3 s request timeout)', async () => {
    const cfg = { ...ahead.config.workflow.webhook, timeoutMs: 3000 };
    let aheadPass: Promise<unknown> | null = null;
    const rx = await receiver(async (n) => {
      // The first POST (the hub behind's) is answered once the hub ahead has run its own pass.
      if (n === 1) await (aheadPass = pass(ahead, cfg));
      return 204;
    });
    try {
      const queued = await queuedRed(rx.url);
      await pass(behind, cfg);
      expect(aheadPass).not.toBeNull();
      const posted = rx.got.map((g) => ({ id: JSON.parse(g.body).id, delivery: g.headers['x-hub-delivery'] }));
      expect(posted).toEqual([{ id: queued.notification_id, delivery: queued.id }]);
    } finally {
      await closeReceiver(rx.server);
    }
  });

  // The same with the default request timeout (5 s, a lease of 19 s): to the hub 15 s ahead the lease
  // has 4 s left, less than a POST may take (5 s) — a receiver that answers in 4.5 s gets it twice.
  it('a delivery leased by the hub behind is not posted again, while its POST is in flight, by the hub ahead (default timeout)', async () => {
    const cfg = ahead.config.workflow.webhook;
    expect(cfg.timeoutMs).toBe(5000);
    let aheadPass: Promise<unknown> | null = null;
    const rx = await receiver(async (n) => {
      if (n === 1) {
        await new Promise((resolve) => setTimeout(resolve, 4500));
        aheadPass = pass(ahead, cfg);
      }
      return 204;
    });
    try {
      const queued = await queuedRed(rx.url);
      await pass(behind, cfg);
      expect(aheadPass).not.toBeNull();
      await aheadPass;
      const posted = rx.got.map((g) => ({ id: JSON.parse(g.body).id, delivery: g.headers['x-hub-delivery'] }));
      expect(posted).toEqual([{ id: queued.notification_id, delivery: queued.id }]);
    } finally {
      await closeReceiver(rx.server);
    }
  });
});
