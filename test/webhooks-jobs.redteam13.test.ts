import { randomUUID } from 'node:crypto';
import { createSocket, Socket } from 'node:dgram';
import dns from 'node:dns';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Department, Role } from '../src/auth/principal';
import { buildPolicy } from '../src/server/bootstrap';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { checkDestination } from '../src/subgraphs/workflow/webhook.destination';
import { deliverWebhooks, signWebhook } from '../src/subgraphs/workflow/workflow.webhooks';
import { closeReceiver as close, insertWebhook, receiver } from './support/webhooks';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO } = Department;
const REGISTER = `mutation($url: String!) { registerWebhook(url: $url) { secret webhook { id url regionCode } } }`;
const DEACTIVATE = `mutation($id: ID!) { deactivateWebhook(id: $id) { id active } }`;
const LIST = `query($after: ID) { webhooks(first: 10, after: $after) { id } }`;
const ASSESS = `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: RED, reasons: "redteam13" }) { id } }`;
const ENV = { HUB_WEBHOOK_MAX_ATTEMPTS: '3', HUB_WEBHOOK_RETRY_BASE_MS: '1000', HUB_WEBHOOK_TIMEOUT_MS: '1500' };
const STREET = '330102001';
const LEAK = /QueryFailed|relation |column |syntax|\.ts:\d|\bat [A-Za-z.]+ \(/i;

describe('webhooks and workflow jobs: red team 13', () => {
  let t: TestHub;
  let civil: string;
  const trail = () => ({ audit: t.hub.audit, policy: buildPolicy() });
  const deliverAt = (ms: number) => deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(ms), trail());
  const deactivateAll = () => t.sql(`UPDATE workflow.webhook SET active = false`);

  beforeAll(async () => {
    t = await startTestHub({ env: ENV });
    civil = await t.token(CA, { user: 'ca-rt13' });
  });
  afterAll(() => t.stop());

  const makeRed = async (gridPrefix: string) => {
    const [c] = await t.sql(
      `SELECT id, grid_code FROM registry.minor WHERE risk_level <> 'RED' AND grid_code LIKE $1 AND registry.is_minor(birth_date, now()) AND NOT EXISTS
        (SELECT 1 FROM workflow.notification n WHERE n.minor_id = registry.minor.id) ORDER BY id LIMIT 1`,
      [`${gridPrefix}%`],
    );
    const r = await t.gql(civil, ASSESS, { id: c.id });
    expect(r.errors).toBeUndefined();
    return c as { id: string; grid_code: string };
  };

  it('lets no non-officer role (auditor, dashboard, reporter, employer) register, list or deactivate a department’s webhooks', async () => {
    const hook = await insertWebhook(t, CA, STREET, 'http://127.0.0.1:9/non-officer');
    try {
      for (const role of [Role.AUDITOR, Role.DASHBOARD, Role.REPORTER, Role.EMPLOYER]) {
        const token = await t.token(CA, { role, region: STREET, user: `rt13-${role.toLowerCase()}` });
        const reg = await t.gql(token, REGISTER, { url: `http://127.0.0.1:9/${role}` });
        expect({ role, codes: errorCodes(reg), data: reg.data?.registerWebhook ?? null }).toEqual({ role, codes: ['FORBIDDEN'], data: null });
        const list = await t.gql(token, LIST, {});
        expect({ role, list: list.data?.webhooks ?? null }).toEqual({ role, list: null });
        const off = await t.gql(token, DEACTIVATE, { id: hook });
        expect({ role, off: off.data?.deactivateWebhook ?? null }).toEqual({ role, off: null });
      }
      expect(await t.sql(`SELECT count(*)::int AS n FROM workflow.webhook WHERE url LIKE 'http://127.0.0.1:9/%' AND created_by LIKE 'rt13-%'`)).toEqual([{ n: 0 }]);
      expect(await t.sql(`SELECT active FROM workflow.webhook WHERE id = $1`, [hook])).toEqual([{ active: true }]);
    } finally {
      await deactivateAll();
    }
  });

  it('answers malformed or oversized host names as a refused destination, never an internal error', async () => {
    const ed = await t.token(ED, { region: STREET, user: 'ed-rt13-hosts' });
    const label = 'a'.repeat(63);
    const urls = [
      `http://${[label, label, label, label, label].join('.')}/hook`, // > 255 characters
      `http://${'b'.repeat(64)}.example/hook`, // a label over 63
      'http://a..b/hook',
      'http://-x-.example/hook',
      'http://x_y.invalid./hook',
      'http://%F0%9F%98%80.example/hook',
    ];
    for (const url of urls) {
      const r = await t.gql(ed, REGISTER, { url });
      const codes = errorCodes(r);
      expect({ url, codes, field: r.errors?.[0]?.extensions?.field }).toEqual({ url, codes: ['BAD_USER_INPUT'], field: 'url' });
      expect(r.errors![0].message).not.toMatch(LEAK);
    }
  });

  it('refuses another spelling of an active URL of the department and region', async () => {
    const rx = await receiver();
    const ed = await t.token(ED, { region: STREET, user: 'ed-rt13-spell' });
    const port = new URL(rx.url).port;
    try {
      const first = await t.gql(ed, REGISTER, { url: `http://localhost:${port}/hook` });
      expect(first.errors).toBeUndefined();
      for (const again of [`http://LOCALHOST.:${port}/hook`, `HTTP://localhost:${port}//hook/`, `http://localhost:${port}/ho%6Fk`, `http://localhost:${port}/hook?`, `http://localhost:${port}/./hook`, `http://@localhost:${port}/hook`, `http://localhost:${port}/a/../hook`, `http://localhost:${port}/%2e/hook`, `http://loc%61lhost:${port}/hook`]) {
        const r = await t.gql(ed, REGISTER, { url: again });
        expect({ again, codes: errorCodes(r), field: r.errors?.[0]?.extensions?.field }).toEqual({ again, codes: ['BAD_USER_INPUT'], field: 'url' });
      }
    } finally {
      await deactivateAll();
      await close(rx.server);
    }
  });

  it('does not let a street officer deactivate, or page after, the district’s webhook of its own department, nor another department’s', async () => {
    const district = await insertWebhook(t, ED, '330102', 'http://127.0.0.1:9/district-ed');
    const police = await insertWebhook(t, PO, STREET, 'http://127.0.0.1:9/street-po');
    const street = await t.token(ED, { region: STREET, user: 'ed-rt13-street' });
    try {
      const random = randomUUID();
      const shape = async (id: string) => {
        const r = await t.gql(street, DEACTIVATE, { id });
        return { codes: errorCodes(r), data: r.data?.deactivateWebhook ?? null, message: r.errors?.[0]?.message };
      };
      const unknown = await shape(random);
      expect(unknown.codes).toEqual(['NOT_FOUND']);
      expect(await shape(district)).toEqual(unknown);
      expect(await shape(police)).toEqual(unknown);
      const page = async (after: string) => {
        const r = await t.gql(street, LIST, { after });
        return { codes: errorCodes(r), field: r.errors?.[0]?.extensions?.field, data: r.data?.webhooks ?? null };
      };
      const unknownPage = await page(random);
      expect(unknownPage.codes).toEqual(['BAD_USER_INPUT']);
      expect(await page(district)).toEqual(unknownPage);
      expect(await page(police)).toEqual(unknownPage);
      expect(await t.sql(`SELECT active FROM workflow.webhook WHERE id = ANY($1) ORDER BY active`, [[district, police]])).toEqual([{ active: true }, { active: true }]);
    } finally {
      await deactivateAll();
    }
  });

  it('signs what it sends with the secret given at registration, and leaves one hub:webhook-delivery event per attempt, numbered, none for a refused destination', async () => {
    const rx = await receiver((n) => (n === 1 ? 500 : 204));
    const ed = await t.token(ED, { region: '330102002', user: 'ed-rt13-retry' });
    try {
      const reg = await t.gql(ed, REGISTER, { url: rx.url });
      expect(reg.errors).toBeUndefined();
      const { secret, webhook } = reg.data.registerWebhook;
      const refusedHook = await insertWebhook(t, ED, '330102002', 'http://169.254.169.254/latest');
      const c = await makeRed('330102002');
      const [d] = await t.sql(
        `SELECT d.id FROM workflow.webhook_delivery d JOIN workflow.notification n ON n.id = d.notification_id WHERE n.minor_id = $1 AND d.webhook_id = $2`,
        [c.id, webhook.id],
      );
      const [refused] = await t.sql(
        `SELECT d.id FROM workflow.webhook_delivery d JOIN workflow.notification n ON n.id = d.notification_id WHERE n.minor_id = $1 AND d.webhook_id = $2`,
        [c.id, refusedHook],
      );
      const now = Date.now() + 60_000;
      await deliverAt(now);
      await deliverAt(now + 5_000);
      expect(await t.sql(`SELECT status, attempts FROM workflow.webhook_delivery WHERE id = $1`, [d.id])).toEqual([{ status: 'DELIVERED', attempts: 2 }]);
      const [r] = await t.sql(`SELECT status, attempts, last_error FROM workflow.webhook_delivery WHERE id = $1`, [refused.id]);
      expect(r).toMatchObject({ status: 'PENDING', attempts: 2 });
      expect(r.last_error).toMatch(/^refused by the destination policy/);

      expect(rx.got).toHaveLength(2);
      expect(rx.got[0].body).toBe(rx.got[1].body); // a retry sends the same body
      for (const g of rx.got) {
        expect(g.headers['x-hub-signature']).toBe(signWebhook(secret, String(g.headers['x-hub-timestamp']), g.body));
        expect(g.headers['x-hub-delivery']).toBe(d.id);
      }
      await t.hub.audit.drain();
      const events = await t.sql(`SELECT user_id, department, region, outcome, body FROM audit.event WHERE body LIKE $1 ORDER BY seq`, [`%(delivery ${d.id}, attempt%`]);
      expect(events.map((e) => [e.user_id, e.department, e.region, e.outcome, JSON.parse(e.body).operationName.replace(/.*\(delivery [^,]+, /, '')])).toEqual([
        ['hub:webhook-delivery', ED, '330102002', 'SUCCESS', 'attempt 1)'],
        ['hub:webhook-delivery', ED, '330102002', 'SUCCESS', 'attempt 2)'],
      ]);
      for (const e of events) expect(JSON.parse(e.body).reads).toEqual([expect.objectContaining({ minorIds: [c.id] })]);
      expect(await t.sql(`SELECT count(*)::int AS n FROM audit.event WHERE body LIKE $1`, [`%delivery ${refused.id}%`])).toEqual([{ n: 0 }]);
    } finally {
      await deactivateAll();
      await close(rx.server);
    }
  });

  it('posts each delivery once, with one audit event, when two senders run the same pass at once', async () => {
    const rx = await receiver();
    const ed = await t.token(ED, { region: '330102003', user: 'ed-rt13-race' });
    try {
      const reg = await t.gql(ed, REGISTER, { url: rx.url });
      expect(reg.errors).toBeUndefined();
      const hook = reg.data.registerWebhook.webhook.id;
      for (let i = 0; i < 3; i++) await makeRed('330102003');
      const ids = (await t.sql(`SELECT id FROM workflow.webhook_delivery WHERE webhook_id = $1`, [hook])).map((r) => r.id);
      expect(ids.length).toBe(3);
      const at = Date.now() + 60_000;
      await Promise.all([deliverAt(at), deliverAt(at), deliverAt(at)]);
      const sent = rx.got.map((g) => String(g.headers['x-hub-delivery']));
      expect(sent.sort()).toEqual([...ids].sort());
      await t.hub.audit.drain();
      for (const id of ids) expect(await t.sql(`SELECT count(*)::int AS n FROM audit.event WHERE body LIKE $1`, [`%(delivery ${id}, attempt%`])).toEqual([{ n: 1 }]);
    } finally {
      await deactivateAll();
      await close(rx.server);
    }
  });

  it('escalates an unacknowledged RED once when two hubs run the escalation job at once, queueing one delivery to the civil-affairs webhook above', async () => {
    const hook = await insertWebhook(t, CA, '330102004', 'http://127.0.0.1:9/escalations');
    try {
      const c = await makeRed('330102004');
      const reds = await t.sql(`SELECT id FROM workflow.notification WHERE minor_id = $1 AND kind = 'CHILD_RED'`, [c.id]);
      expect(reds.length).toBeGreaterThan(0);
      const later = new Date(Date.now() + 3 * 3600_000);
      const policy = buildPolicy();
      const runs = await Promise.allSettled([runEscalations(t.hub.db.ds, t.config, policy, later), runEscalations(t.hub.db.ds, t.config, policy, later)]);
      expect(runs.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
      const escalations = await t.sql(`SELECT id, subject_id, region_code, minor_id FROM workflow.notification WHERE kind = 'ESCALATION' AND subject_id = ANY($1)`, [reds.map((r) => r.id)]);
      expect(escalations.length).toBe(reds.length);
      for (const e of escalations) {
        expect(c.grid_code.startsWith(e.region_code)).toBe(true);
        expect(e.minor_id).toBe(c.id);
      }
      const queued = await t.sql(`SELECT notification_id FROM workflow.webhook_delivery WHERE webhook_id = $1 AND notification_id = ANY($2)`, [hook, escalations.map((e) => e.id)]);
      expect(queued.length).toBe(escalations.length);
      expect(new Set(queued.map((q) => q.notification_id)).size).toBe(queued.length);
    } finally {
      await deactivateAll();
    }
  });

  it('shows the deliveries to the auditors of the webhook’s region by the hub’s user id, and to no other street’s', async () => {
    const rx = await receiver();
    const ed = await t.token(ED, { region: '330102003', user: 'ed-rt13-audited' });
    try {
      const reg = await t.gql(ed, REGISTER, { url: rx.url });
      expect(reg.errors).toBeUndefined();
      const c = await makeRed('330102003');
      await deliverAt(Date.now() + 60_000);
      expect(rx.got.length).toBe(1);
      await t.hub.audit.drain();
      const Q = `query($u: String!) { auditEvents(filter: { userId: $u }, first: 200) { edges { node { userId region operationType operationName role } } } }`;
      const mine = await t.gql(await t.token(CA, { role: Role.AUDITOR, region: '330102003', user: 'aud-rt13-here' }), Q, { u: 'hub:webhook-delivery' }, {});
      expect(mine.errors).toBeUndefined();
      const nodes = mine.data.auditEvents.edges.map((e: any) => e.node);
      expect(nodes.filter((n: any) => n.operationName.includes(reg.data.registerWebhook.webhook.id))).toEqual([
        expect.objectContaining({ userId: 'hub:webhook-delivery', region: '330102003', operationType: 'webhook', role: null }),
      ]);
      const other = await t.gql(await t.token(CA, { role: Role.AUDITOR, region: '330102004', user: 'aud-rt13-there' }), Q, { u: 'hub:webhook-delivery' }, {});
      expect(other.errors).toBeUndefined();
      expect(other.data.auditEvents.edges.filter((e: any) => e.node.operationName.includes(reg.data.registerWebhook.webhook.id))).toEqual([]);
      const hist = await t.gql(await t.token(CA, { role: Role.AUDITOR, region: '330102004', user: 'aud-rt13-there' }), `query($id: ID!) { minorAccessHistory(minorId: $id) { userId } }`, { id: c.id }, {});
      expect((hist.data?.minorAccessHistory ?? []).filter((h: any) => h.userId === 'hub:webhook-delivery')).toEqual([]);
    } finally {
      await deactivateAll();
      await close(rx.server);
    }
  });

  it('records a delivery in flight when its webhook is deactivated as the receiver answered: delivered if accepted, cancelled if refused', async () => {
    const ed = await t.token(ED, { region: '330102002', user: 'ed-rt13-flight' });
    const seen: string[] = [];
    let hookId = '';
    let status = 204;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', async () => {
        seen.push(String(req.headers['x-hub-delivery']));
        const off = await t.gql(ed, DEACTIVATE, { id: hookId });
        expect(off.errors).toBeUndefined();
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const [answer, expected] of [
        [204, { status: 'DELIVERED', last_error: null }],
        [500, { status: 'FAILED', last_error: 'webhook deactivated' }],
      ] as const) {
        status = answer;
        const reg = await t.gql(ed, REGISTER, { url: `${base}/h${answer}` });
        expect(reg.errors).toBeUndefined();
        hookId = reg.data.registerWebhook.webhook.id;
        await makeRed('330102002');
        const [d] = await t.sql(`SELECT id FROM workflow.webhook_delivery WHERE webhook_id = $1`, [hookId]);
        await deliverAt(Date.now() + 60_000);
        expect(seen).toContain(d.id);
        expect(await t.sql(`SELECT status, last_error FROM workflow.webhook_delivery WHERE id = $1`, [d.id])).toEqual([expected]);
        // The webhook is inactive: nothing of it is posted again.
        const before = seen.length;
        await deliverAt(Date.now() + 3600_000);
        expect(seen.length).toBe(before);
      }
    } finally {
      await deactivateAll();
      await close(server);
    }
  });

  it('answers odd arguments of the webhook operations in the API’s terms, never an internal error or a stack', async () => {
    const ed = await t.token(ED, { region: STREET, user: 'ed-rt13-odd' });
    const cases: [string, Record<string, unknown>, string[]][] = [
      [DEACTIVATE, { id: '' }, ['NOT_FOUND']],
      [DEACTIVATE, { id: 'x'.repeat(10_000) }, ['NOT_FOUND']],
      [DEACTIVATE, { id: '00000000-0000-0000-0000-000000000000' }, ['NOT_FOUND']],
      [LIST, { after: 'not-a-uuid' }, ['BAD_USER_INPUT']],
      [LIST, { after: '' }, ['BAD_USER_INPUT']],
      [`query { webhooks(first: 0) { id } }`, {}, ['BAD_USER_INPUT']],
      [`query { webhooks(first: 501) { id } }`, {}, ['BAD_USER_INPUT']],
      [REGISTER, { url: '' }, ['BAD_USER_INPUT']],
      [REGISTER, { url: 'http://a\u0000b/hook' }, ['BAD_USER_INPUT']],
      [REGISTER, { url: 'http://[::1/hook' }, ['BAD_USER_INPUT']],
      [REGISTER, { url: 'javascript:alert(1)' }, ['BAD_USER_INPUT']],
      [REGISTER, { url: 'http://127.0.0.1:99999/hook' }, ['BAD_USER_INPUT']],
      [REGISTER, { url: `http://127.0.0.1:9/${'p'.repeat(600)}` }, ['BAD_USER_INPUT']],
      [REGISTER, { url: 'http://127.0.0.1:9/hook#frag' }, ['BAD_USER_INPUT']],
      [REGISTER, { url: 'http://user:pw@127.0.0.1:9/hook' }, ['BAD_USER_INPUT']],
      [REGISTER, { url: 'http://[fe80::1%25eth0]/hook' }, ['BAD_USER_INPUT']],
      [REGISTER, { url: 'http://0x7f.0.0.1:9/odd-hex' }, []],
      [REGISTER, { url: 'http://0xa9.0xfe.0xa9.0xfe/meta' }, ['BAD_USER_INPUT']],
      [REGISTER, { url: 'http://2852039166/meta' }, ['BAD_USER_INPUT']],
      [REGISTER, { url: 'http://0251.0376.0251.0376/meta' }, ['BAD_USER_INPUT']],
      [REGISTER, { url: 'http://[::ffff:0:a9fe:a9fe]/meta' }, ['BAD_USER_INPUT']],
      [REGISTER, { url: 'http://[2002:a9fe:a9fe::1]/meta' }, ['BAD_USER_INPUT']],
    ];
    try {
      for (const [query, variables, codes] of cases) {
        const r = await t.gql(ed, query, variables);
        expect({ query, variables, codes: errorCodes(r) }).toEqual({ query, variables, codes });
        for (const e of r.errors ?? []) {
          expect(e.message).not.toMatch(LEAK);
          expect(JSON.stringify(e.extensions ?? {})).not.toMatch(/stacktrace|QueryFailed/i);
        }
      }
    } finally {
      await t.sql(`UPDATE workflow.webhook SET active = false`);
    }
  });
});

describe('webhooks: host names a name server answers with non-public addresses (red team 13)', () => {
  let t: TestHub;
  let ns: Socket;
  const systemServers = dns.getServers();
  /** name (lower case) → addresses, per record type. */
  const zone: Record<string, { A?: string[]; AAAA?: string[] }> = {};
  const asked: string[] = [];
  const v6 = (a: string) => {
    const [l, r] = a.split('::');
    const L = l ? l.split(':') : [];
    const R = r ? r.split(':') : [];
    const groups = r === undefined ? L : [...L, ...Array(8 - L.length - R.length).fill('0'), ...R];
    const b = Buffer.alloc(16);
    groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
    return b;
  };
  beforeAll(async () => {
    ns = createSocket('udp4').on('message', (m: Buffer, rinfo) => {
      let i = 12;
      const labels: string[] = [];
      for (; m[i]; i += m[i] + 1) labels.push(m.toString('latin1', i + 1, i + 1 + m[i]));
      const qtype = m.readUInt16BE(i + 1);
      const name = labels.join('.').toLowerCase();
      asked.push(`${name}/${qtype}`);
      const records = (qtype === 1 ? zone[name]?.A : qtype === 28 ? zone[name]?.AAAA : undefined) ?? [];
      const header = Buffer.alloc(12);
      m.copy(header, 0, 0, 2);
      header.writeUInt16BE(zone[name] ? 0x8180 : 0x8183, 2); // NOERROR, or NXDOMAIN for a name not in the zone
      header.writeUInt16BE(1, 4);
      header.writeUInt16BE(records.length, 6);
      const rrs = records.map((a) => {
        const rdata = qtype === 1 ? Buffer.from(a.split('.').map(Number)) : v6(a);
        const rr = Buffer.alloc(12);
        rr.writeUInt16BE(0xc00c, 0);
        rr.writeUInt16BE(qtype, 2);
        rr.writeUInt16BE(1, 4);
        rr.writeUInt32BE(60, 6);
        rr.writeUInt16BE(rdata.length, 10);
        return Buffer.concat([rr, rdata]);
      });
      ns.send(Buffer.concat([header, m.subarray(12, i + 5), ...rrs]), rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => ns.bind(0, '127.0.0.1', resolve));
    dns.setServers([`127.0.0.1:${ns.address().port}`]);
    t = await startTestHub({ env: ENV });
  });
  afterAll(async () => {
    await t?.stop();
    dns.setServers(systemServers);
    await new Promise<void>((resolve) => ns.close(() => resolve()));
  });
  const trail = () => ({ audit: t.hub.audit, policy: buildPolicy() });

  it('refuses at registration a name any of whose addresses is link-local, unspecified or reserved, in whatever IPv6 form, and accepts one resolving to loopback outside production', async () => {
    Object.assign(zone, {
      'meta.rt13.test': { A: ['169.254.169.254'] },
      'mixed.rt13.test': { A: ['93.184.216.34'], AAAA: ['fe80::1'] },
      'mapped.rt13.test': { AAAA: ['::ffff:a9fe:a9fe'] },
      'nat64.rt13.test': { AAAA: ['64:ff9b::a9fe:a9fe'] },
      'zero.rt13.test': { A: ['0.0.0.0'] },
      'docs.rt13.test': { A: ['192.0.2.10'] },
      'loop.rt13.test': { A: ['127.0.0.1'] },
    });
    const ed = await t.token(ED, { region: STREET, user: 'ed-rt13-dns' });
    const outcome = async (url: string) => {
      const r = await t.gql(ed, REGISTER, { url });
      return r.errors ? `${errorCodes(r).join()} ${r.errors[0].extensions?.field}` : 'ok';
    };
    for (const host of ['meta', 'mixed', 'mapped', 'nat64', 'zero', 'docs']) {
      expect({ host, got: await outcome(`http://${host}.rt13.test/hook`) }).toEqual({ host, got: 'BAD_USER_INPUT url' });
      expect({ host, got: await outcome(`http://${host.toUpperCase()}.rt13.test./hook`) }).toEqual({ host, got: 'BAD_USER_INPUT url' });
    }
    expect(await outcome('http://loop.rt13.test:9/hook')).toBe('ok');
    await t.sql(`UPDATE workflow.webhook SET active = false`);
  });

  it('checks the name again at delivery: a name re-pointed to a private, loopback or link-local address is not posted to under the production policy', async () => {
    const rx = await receiver();
    const port = new URL(rx.url).port;
    const strictCfg = { ...t.config.workflow.webhook, strictDestinations: true, allowedHosts: [] as string[] };
    try {
      zone['moved.rt13.test'] = { A: ['93.184.216.34'] };
      const hooks = {
        loopback: await insertWebhook(t, ED, '330102002', `https://moved-loop.rt13.test:${port}/hook`),
        private: await insertWebhook(t, ED, '330102002', `https://moved-private.rt13.test:${port}/hook`),
        linkLocal: await insertWebhook(t, ED, '330102002', `https://moved-meta.rt13.test:${port}/hook`),
        mappedLoop: await insertWebhook(t, ED, '330102002', `https://moved-mapped.rt13.test:${port}/hook`),
      };
      Object.assign(zone, {
        'moved-loop.rt13.test': { A: ['127.0.0.1'] },
        'moved-private.rt13.test': { A: ['10.1.2.3'] },
        'moved-meta.rt13.test': { AAAA: ['fe80::a9fe:a9fe'] },
        'moved-mapped.rt13.test': { AAAA: ['::ffff:7f00:1'] },
      });
      const [c] = await t.sql(`SELECT id FROM registry.minor WHERE risk_level <> 'RED' AND grid_code LIKE '330102002%' AND NOT EXISTS
        (SELECT 1 FROM workflow.notification n WHERE n.minor_id = registry.minor.id) ORDER BY id DESC LIMIT 1`);
      expect((await t.gql(await t.token(CA, { user: 'ca-rt13-dns' }), ASSESS, { id: c.id })).errors).toBeUndefined();
      await deliverWebhooks(t.hub.db.ds, strictCfg, () => new Date(Date.now() + 60_000), trail());
      expect(rx.got).toEqual([]);
      for (const [kind, id] of Object.entries(hooks)) {
        const rows = await t.sql(`SELECT status, attempts, last_error FROM workflow.webhook_delivery WHERE webhook_id = $1`, [id]);
        expect({ kind, n: rows.length }).toEqual({ kind, n: 1 });
        expect({ kind, attempts: rows[0].attempts, refused: /^refused by the destination policy/.test(rows[0].last_error ?? '') }).toEqual({ kind, attempts: 1, refused: true });
        await t.hub.audit.drain();
        expect(await t.sql(`SELECT count(*)::int AS n FROM audit.event WHERE body LIKE $1`, [`%to webhook ${id}%`])).toEqual([{ n: 0 }]);
      }
    } finally {
      await t.sql(`UPDATE workflow.webhook SET active = false`);
      await close(rx.server);
    }
  });

  it('connects outside production to the loopback address the name resolved to, under the name', async () => {
    const got: { host?: string }[] = [];
    const server = createServer((req, res) => {
      got.push({ host: req.headers.host });
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      zone['recv.rt13.test'] = { A: ['127.0.0.1'] };
      const ed = await t.token(ED, { region: '330102003', user: 'ed-rt13-recv' });
      const reg = await t.gql(ed, REGISTER, { url: `http://recv.rt13.test:${port}/hook` });
      expect(reg.errors).toBeUndefined();
      const [c] = await t.sql(`SELECT id FROM registry.minor WHERE risk_level <> 'RED' AND grid_code LIKE '330102003%' AND NOT EXISTS
        (SELECT 1 FROM workflow.notification n WHERE n.minor_id = registry.minor.id) ORDER BY id DESC LIMIT 1`);
      expect((await t.gql(await t.token(CA, { user: 'ca-rt13-recv' }), ASSESS, { id: c.id })).errors).toBeUndefined();
      // Re-pointed after registration to link-local: refused at delivery even outside production.
      zone['recv.rt13.test'] = { A: ['169.254.169.254'] };
      await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(Date.now() + 60_000), trail());
      expect(got).toEqual([]);
      zone['recv.rt13.test'] = { A: ['127.0.0.1'] };
      await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(Date.now() + 120_000), trail());
      expect(got).toEqual([{ host: `recv.rt13.test:${port}` }]);
    } finally {
      await t.sql(`UPDATE workflow.webhook SET active = false`);
      await close(server);
    }
  });

  it('lets an allow-listed name reach private addresses under the production policy, never loopback, link-local or another name', async () => {
    Object.assign(zone, {
      'internal.rt13.test': { A: ['10.0.0.9'], AAAA: ['fd00::9'] },
      'cgnat.rt13.test': { A: ['100.64.0.9'] },
      'sneaky.rt13.test': { A: ['10.0.0.9', '127.0.0.1'] },
      'meta2.rt13.test': { AAAA: ['::ffff:a9fe:a9fe'] },
      'other.rt13.test': { A: ['10.0.0.9'] },
    });
    const policy = { ...t.config.workflow.webhook, strictDestinations: true, allowedHosts: ['internal.rt13.test', 'cgnat.rt13.test', 'sneaky.rt13.test', 'meta2.rt13.test'] };
    const verdict = (url: string) =>
      checkDestination(policy, new URL(url), 'delivery').then(
        (to) => `to ${to.address}`,
        (e) => `refused: ${(e as Error).message}`,
      );
    expect(await verdict('https://internal.rt13.test/hook')).toBe('to 10.0.0.9');
    expect(await verdict('https://INTERNAL.rt13.test/hook')).toBe('to 10.0.0.9');
    expect(await verdict('https://cgnat.rt13.test/hook')).toBe('to 100.64.0.9');
    expect(await verdict('https://sneaky.rt13.test/hook')).toMatch(/^refused: .*127\.0\.0\.1, loopback/);
    expect(await verdict('https://meta2.rt13.test/hook')).toMatch(/^refused: .*link-local/);
    expect(await verdict('https://other.rt13.test/hook')).toMatch(/^refused: .*private/);
    expect(await verdict('http://internal.rt13.test/hook')).toMatch(/^refused: http: is not https/);
  });
});
