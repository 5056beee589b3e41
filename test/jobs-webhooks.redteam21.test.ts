import { Client } from 'pg';
import { Department } from '../src/auth/principal';
import { buildPolicy } from '../src/server/bootstrap';
import { deliverWebhooks } from '../src/subgraphs/workflow/workflow.webhooks';
import { post } from './support/audit-helpers';
import { poolSize, startTestHub, TestHub } from './support/test-hub';
import { closeReceiver, insertWebhook, onlyWebhooks, queueDeliveries, receiver } from './support/webhooks';

jest.setTimeout(300_000);

const { EDUCATION: ED } = Department;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Red team 21 (rt214): regression review of f409475 (withShortLockWait for escalation items and
 * webhook outcomes), d2f35a2 (writeDelivered waits as long as a statement may), 0e26e4d (the
 * delivered count) and fa53227 (payload / grantedFields priced at 7).
 */
describe('webhook delivery outcomes, red team 21 (rt214)', () => {
  let t: TestHub;
  const STATEMENT_MS = 3000;
  beforeAll(async () => {
    // The webhook timeout is well past the sibling test's 1.4 s answer: at 1.5 s a loaded CI
    // machine timed the 503 out, and the attempt was recorded as a network error.
    t = await startTestHub({ env: { HUB_STATEMENT_TIMEOUT_MS: String(STATEMENT_MS), HUB_WEBHOOK_TIMEOUT_MS: '3000', HUB_WEBHOOK_RETRY_BASE_MS: '1000' } });
  });
  afterAll(() => t?.stop());

  const pass = (clock: () => Date = () => new Date()) => deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, clock, { audit: t.hub.audit, policy: buildPolicy() });

  it('0e26e4d: one pass over many accepted and many given-up deliveries counts each once', async () => {
    const ok = await receiver(async () => {
      await sleep(Math.random() * 50);
      return 204;
    });
    const bad = await receiver(async () => {
      await sleep(Math.random() * 50);
      return 500;
    });
    try {
      const a = await insertWebhook(t, 'EDUCATION', '330102001', ok.url);
      const b = await insertWebhook(t, 'EDUCATION', '330102002', bad.url);
      await queueDeliveries(t, a, '330102001', 12, 'rt214-count-a');
      await queueDeliveries(t, b, '330102002', 9, 'rt214-count-b');
      // The given-up ones: one attempt short of maxAttempts.
      await t.sql(`UPDATE workflow.webhook_delivery SET attempts = $2 - 1 WHERE webhook_id = $1`, [b, t.config.workflow.webhook.maxAttempts]);
      await onlyWebhooks(t, [a, b]);
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      let total;
      try {
        total = await pass();
      } finally {
        log.mockRestore();
      }
      expect(total).toEqual({ delivered: 12, failed: 9 });
      const rows = await t.sql(`SELECT status, count(*)::int AS n FROM workflow.webhook_delivery WHERE webhook_id = ANY($1::uuid[]) GROUP BY status ORDER BY status`, [[a, b]]);
      expect(rows).toEqual([{ status: 'DELIVERED', n: 12 }, { status: 'FAILED', n: 9 }]);
    } finally {
      await closeReceiver(ok.server);
      await closeReceiver(bad.server);
    }
  });

  // d2f35a2: an accepted delivery now waits for its row for up to the statement timeout, on the
  // request pool (the jobs share db.ds). A batch holds up to 50 deliveries of one webhook; with
  // their rows held (a deactivation failing a large backlog, or a stuck session), every pooled
  // connection waits on them, and the public API gets none.
  it('d2f35a2: accepted deliveries whose rows are held do not take every pooled connection from the public endpoint', async () => {
    expect(poolSize(t)).toBeLessThan(45);
    let holder: Client | null = null;
    let locked: Promise<void> | null = null;
    let hook = '';
    const rx = await receiver(async () => {
      locked ??= (async () => {
        holder = new Client({ connectionString: t.databaseUrl });
        await holder.connect();
        await holder.query('BEGIN');
        await holder.query(`SELECT 1 FROM workflow.webhook_delivery WHERE webhook_id = $1 FOR UPDATE`, [hook]);
      })();
      await locked;
      return 204;
    });
    hook = await insertWebhook(t, 'EDUCATION', '330102003', rx.url);
    await queueDeliveries(t, hook, '330102003', 45, 'rt214-pool');
    await onlyWebhooks(t, [hook]);
    const education = await t.token(ED, { user: 'rt214-edu', region: '330102003' });
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const running = pass().then(
        (x) => x,
        (e: Error) => e,
      );
      // Every accepted delivery is waiting for its row.
      for (let i = 0; i < 200 && rx.got.length < 45; i++) await sleep(20);
      await sleep(300);
      const started = Date.now();
      const r = await post(t, education, { query: `{ webhooks { id active } }` }, {});
      const took = Date.now() - started;
      await (holder as Client | null)?.query('ROLLBACK');
      await (holder as Client | null)?.end();
      const outcome = await running;
      expect(outcome).toEqual(expect.objectContaining({ failed: 0 }));
      // Before d2f35a2 an outcome waited 100 ms for its row and gave its connection back.
      expect([r.status, r.json?.errors?.[0]?.extensions?.code ?? null, took < 1000 ? 'answered promptly' : `answered after ${took} ms`]).toEqual([200, null, 'answered promptly']);
    } finally {
      log.mockRestore();
      await closeReceiver(rx.server);
    }
  });

  // Sibling: the pass's other outcomes (writeOutcome) wait 100 ms for their row, but take a pooled
  // connection first: with the pool held by accepted deliveries waiting (d2f35a2), a failed
  // attempt's outcome cannot get one, its error ends the pass — what f409475 was to prevent.
  it('d2f35a2 sibling: a failed attempt in the same batch is recorded, and the pass ends normally, while accepted ones wait for held rows', async () => {
    let holder: Client | null = null;
    let locked: Promise<void> | null = null;
    let hook = '';
    const rx = await receiver(async (n) => {
      locked ??= (async () => {
        holder = new Client({ connectionString: t.databaseUrl });
        await holder.connect();
        await holder.query('BEGIN');
        await holder.query(`SELECT 1 FROM workflow.webhook_delivery WHERE webhook_id = $1 FOR UPDATE`, [hook]);
      })();
      await locked;
      // The pool's worth answered at once; a second pool's worth a second later, queueing for a connection behind them.
      if (n > poolSize(t)) await sleep(1000);
      return 204;
    });
    const down = await receiver(async () => {
      await sleep(1400);
      return 503;
    });
    hook = await insertWebhook(t, 'EDUCATION', '330102004', rx.url);
    const other = await insertWebhook(t, 'EDUCATION', '330102001', down.url);
    await queueDeliveries(t, hook, '330102004', 2 * poolSize(t), 'rt214-sibling');
    await queueDeliveries(t, other, '330102001', 1, 'rt214-sibling-down');
    await onlyWebhooks(t, [hook, other]);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const running = pass().then(
        (x) => x,
        (e: Error) => e,
      );
      const ended = await Promise.race([running, sleep(STATEMENT_MS * 3).then(() => 'still running')]);
      await (holder as Client | null)?.query('ROLLBACK');
      await (holder as Client | null)?.end();
      const outcome = await running;
      const rows = await t.sql(`SELECT status, attempts, last_error FROM workflow.webhook_delivery WHERE webhook_id = $1`, [other]);
      expect([ended instanceof Error ? `rejected: ${ended.message}` : 'resolved', down.got.length, rows]).toEqual(['resolved', 1, [{ status: 'PENDING', attempts: 1, last_error: 'HTTP 503' }]]);
      expect(outcome).not.toBeInstanceOf(Error);
    } finally {
      log.mockRestore();
      await closeReceiver(rx.server);
      await closeReceiver(down.server);
    }
  });
});
