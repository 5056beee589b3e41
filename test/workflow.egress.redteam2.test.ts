import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Department } from '../src/auth/principal';
import { HubConfig } from '../src/config/hub.config';
import { buildPolicy } from '../src/server/bootstrap';
import { deliverWebhooks } from '../src/subgraphs/workflow/workflow.webhooks';
import { post } from './support/audit-helpers';
import { closeReceiver as close, deliveriesOf, insertWebhook } from './support/webhooks';
import { errorCodes, startTestHub, statementsDuring, TestHub } from './support/test-hub';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO } = Department;
const ASSESS = `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: RED, reasons: "egress red team" }) { id } }`;
const ACK = `mutation($id: ID!) { acknowledge(id: $id) { id } }`;
const DEACTIVATE = `mutation($id: ID!) { deactivateWebhook(id: $id) { id } }`;
const trail = (t: TestHub) => ({ audit: t.hub.audit, policy: buildPolicy() });

/** A receiver whose handler is `handle`; every request's body is kept. */
async function receiver(handle: (req: IncomingMessage, res: ServerResponse) => void, host = '127.0.0.1'): Promise<{ server: Server; url: string; received: string[] }> {
  const received: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(body);
      handle(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/hook`, received };
}

/** Egress of notifications and webhooks: red team, second pass. */
describe('notifications and webhooks leaving the hub: red team 2', () => {
  let t: TestHub;
  let civil: string;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_WEBHOOK_MAX_ATTEMPTS: '3', HUB_WEBHOOK_RETRY_BASE_MS: '1000', HUB_WEBHOOK_TIMEOUT_MS: '1500' } });
    civil = await t.token(CA, { user: 'ca-egress' });
  });
  afterAll(() => t.stop());

  const insertHook = (department: string, region: string, url: string) => insertWebhook(t, department, region, url);
  const deliveries = (webhookId: string) => deliveriesOf(t, webhookId);
  const makeRed = async (gridPrefix: string) => {
    const [c] = await t.sql(`SELECT id, name, grid_code, birth_date FROM registry.minor WHERE risk_level <> 'RED' AND grid_code LIKE $1 AND NOT EXISTS
      (SELECT 1 FROM workflow.notification n WHERE n.minor_id = registry.minor.id) ORDER BY id LIMIT 1`, [`${gridPrefix}%`]);
    expect((await t.gql(civil, ASSESS, { id: c.id })).errors).toBeUndefined();
    return c as { id: string; name: string; grid_code: string; birth_date: string };
  };
  const deactivateAll = () => t.sql(`UPDATE workflow.webhook SET active = false WHERE created_by = 'direct'`);

  it('does not post over plain http in production, even to a webhook stored before production', async () => {
    const v6 = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv6' && !a.internal && a.address.startsWith('fd'));
    if (!v6) return; // no private non-loopback address on this machine to receive on
    const rx = await receiver((_req, res) => res.writeHead(204).end(), v6.address);
    try {
      const hook = await insertHook(ED, '330102001003', rx.url);
      await makeRed('330102001003');
      const cfg: HubConfig['workflow']['webhook'] = { ...t.config.workflow.webhook, strictDestinations: true, allowedHosts: [v6.address] };
      await deliverWebhooks(t.hub.db.ds, cfg, () => new Date(Date.now() + 60_000), trail(t));
      expect(rx.received).toEqual([]);
      expect(await deliveries(hook)).toEqual([{ status: 'PENDING', attempts: 1, last_error: expect.stringMatching(/^refused by the destination policy: .*https/) }]);
    } finally {
      await deactivateAll();
      await close(rx.server);
    }
  });

  it('follows no redirect, gives up on a receiver that never answers within the timeout, and does not wait for an endless body', async () => {
    const target = await receiver((_req, res) => res.writeHead(204).end());
    const redirect = await receiver((_req, res) => res.writeHead(302, { location: target.url }).end());
    const silent = await receiver(() => undefined);
    const endless = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('x'.repeat(65536)), 5);
      res.on('close', () => clearInterval(timer));
    });
    try {
      const [r, s, e] = [await insertHook(PO, '330102002002', redirect.url), await insertHook(PO, '330102002002', silent.url), await insertHook(PO, '330102002002', endless.url)];
      await makeRed('330102002002');
      const began = Date.now();
      await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(Date.now() + 60_000), trail(t));
      expect(Date.now() - began).toBeLessThan(6_000);
      expect(redirect.received).toHaveLength(1);
      expect(target.received).toEqual([]);
      expect(await deliveries(r)).toEqual([{ status: 'PENDING', attempts: 1, last_error: 'HTTP 302' }]);
      expect(silent.received).toHaveLength(1);
      expect(await deliveries(s)).toEqual([{ status: 'PENDING', attempts: 1, last_error: expect.any(String) }]);
      expect(await deliveries(e)).toEqual([{ status: 'DELIVERED', attempts: 1, last_error: null }]);
    } finally {
      await deactivateAll();
      for (const x of [target, redirect, silent, endless]) await close(x.server);
    }
  });

  it('names no child who turned 18 between the notification and its delivery or reading', async () => {
    const rx = await receiver((_req, res) => res.writeHead(204).end());
    const hook = await insertHook(ED, '330102003003', rx.url);
    const c = await makeRed('330102003003');
    try {
      await t.sql(`UPDATE registry.minor SET birth_date = (now() AT TIME ZONE '+08:00')::date - interval '18 years' WHERE id = $1`, [c.id]);
      await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(Date.now() + 60_000), trail(t));
      expect(await deliveries(hook)).toEqual([{ status: 'DELIVERED', attempts: 1, last_error: null }]);
      const [sent] = rx.received.map((b) => JSON.parse(b));
      expect(sent).toMatchObject({ kind: 'CHILD_RED', minorId: null });
      expect(JSON.stringify(sent)).not.toContain(c.name);
      expect(Object.keys(sent.payload).filter((k) => !/^(MandatoryReport|ReportTransition|Referral)\./.test(k))).toEqual([]);
      const [event] = await t.sql(`SELECT body::text AS body FROM audit.event WHERE body::text LIKE $1`, [`%webhook ${hook}%`]);
      expect(event.body).toContain('hub:webhook-delivery');
      expect(event.body).not.toContain(c.id);

      const edu = await t.token(ED, { region: '330102003003', user: 'ed-aged' });
      const inbox = await post(t, edu, { query: `{ notifications(first: 500) { id minor { id } payload { field value } } }` });
      const [mine] = await t.sql(`SELECT id FROM workflow.notification WHERE minor_id = $1 AND department = 'EDUCATION'`, [c.id]);
      const told = inbox.json.data.notifications.find((n: any) => n.id === mine.id);
      expect(told).toEqual({ id: mine.id, minor: null, payload: [] });
      const ack = await post(t, edu, { query: ACK, variables: { id: mine.id } });
      expect(ack.json).toEqual({ data: { acknowledge: { id: mine.id } } });
      const events = await t.sql(`SELECT body::text AS body FROM audit.event WHERE request_id = ANY($1)`, [[inbox.requestId, ack.requestId]]);
      expect(events.length).toBeGreaterThanOrEqual(2);
      for (const e of events) expect(e.body).not.toContain(c.id);
    } finally {
      await t.sql(`UPDATE registry.minor SET birth_date = $2 WHERE id = $1`, [c.id, c.birth_date]);
      await deactivateAll();
      await close(rx.server);
    }
  });

  it('queues a notification for the webhooks of its own department whose region holds the event only', async () => {
    const hooks = {
      here: await insertHook(ED, '330102001002', 'http://127.0.0.1:9/here'),
      district: await insertHook(ED, '330102', 'http://127.0.0.1:9/district'),
      sibling: await insertHook(ED, '330102001001', 'http://127.0.0.1:9/sibling'),
      grid: await insertHook(ED, '330102001002001', 'http://127.0.0.1:9/grid'),
      otherDepartment: await insertHook(Department.YOUTH_LEAGUE, '330102001002', 'http://127.0.0.1:9/yl'),
    };
    try {
      const c = await makeRed('330102001002002');
      const [n] = await t.sql(`SELECT id FROM workflow.notification WHERE minor_id = $1 AND department = 'EDUCATION'`, [c.id]);
      const queued = async (id: string) => (await t.sql(`SELECT count(*)::int AS n FROM workflow.webhook_delivery WHERE webhook_id = $1 AND notification_id = $2`, [id, n.id]))[0].n;
      const counts = Object.fromEntries(await Promise.all(Object.entries(hooks).map(async ([k, id]) => [k, await queued(id)])));
      expect(counts).toEqual({ here: 1, district: 1, sibling: 0, grid: 0, otherDepartment: 0 });
    } finally {
      await deactivateAll();
    }
  });

  it('answers another street’s or department’s notification and webhook as a random id, in the same statements', async () => {
    const c = await makeRed('330102004002');
    const [theirs] = await t.sql(`SELECT id FROM workflow.notification WHERE minor_id = $1 AND department = 'EDUCATION'`, [c.id]);
    const [police] = await t.sql(`SELECT id FROM workflow.notification WHERE minor_id = $1 AND department = 'POLICE'`, [c.id]);
    const hook = await insertHook(ED, '330102004002', 'http://127.0.0.1:9/hook');
    try {
      const elsewhere = await t.token(ED, { region: '330102004001', user: 'ed-elsewhere' });
      const shape = async (token: string, query: string, id: string) => {
        let r: any;
        const sent = await statementsDuring(t, async () => {
          r = await t.gql(token, query, { id });
        });
        return { errors: errorCodes(r), data: r.data, statements: sent.map((s) => s.query.replace(/\$\d+/g, '$')) };
      };
      const policeHere = await t.token(PO, { region: '330102004002', user: 'po-here' });
      for (const [token, query, id] of [
        [elsewhere, ACK, theirs.id],
        [elsewhere, ACK, police.id],
        [await t.token(ED, { region: '330102004002', user: 'ed-here' }), ACK, police.id],
        [elsewhere, DEACTIVATE, hook],
        [policeHere, DEACTIVATE, hook],
      ] as const) {
        expect(await shape(token, query, id)).toEqual(await shape(token, query, randomUUID()));
      }
      expect(await t.sql(`SELECT acknowledged_at FROM workflow.notification WHERE id = ANY($1)`, [[theirs.id, police.id]])).toEqual([{ acknowledged_at: null }, { acknowledged_at: null }]);
      expect(await t.sql(`SELECT active FROM workflow.webhook WHERE id = $1`, [hook])).toEqual([{ active: true }]);
    } finally {
      await deactivateAll();
    }
  });
});
