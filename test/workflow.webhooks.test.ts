import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createSocket, Socket } from 'node:dgram';
import dns from 'node:dns';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { HubConfig, loadConfig } from '../src/config/hub.config';
import { buildPolicy } from '../src/server/bootstrap';
import { AddressClass, classifyAddress, MAX_LOOKUPS_IN_FLIGHT, MAX_REGISTRATION_LOOKUPS } from '../src/subgraphs/workflow/webhook.destination';
import { runEscalations, startWorkflowJobs } from '../src/subgraphs/workflow/workflow.jobs';
import { deliverWebhooks, LOOKUPS_BUSY_ERROR } from '../src/subgraphs/workflow/workflow.webhooks';
import { eventOf, post } from './support/audit-helpers';
import { deliveriesOf, insertWebhook } from './support/webhooks';
import { DEFAULT_PURPOSE, errorCodes, GqlResult, postGraphQL, startTestHub, TestHub, testConfig } from './support/test-hub';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU } = Department;
const REGISTER = `mutation($url: String!) { registerWebhook(url: $url) { webhook { id url } } }`;
const DEACTIVATE = `mutation($id: ID!) { deactivateWebhook(id: $id) { active } }`;
const ASSESS = `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: RED, reasons: "webhook destination test" }) { id } }`;
/** What a delivery audits itself with: the test hub's trail and the policy. */
const trail = (t: TestHub) => ({ audit: t.hub.audit, policy: buildPolicy() });
const ENV = { HUB_WEBHOOK_MAX_ATTEMPTS: '2', HUB_WEBHOOK_RETRY_BASE_MS: '1000', HUB_WEBHOOK_TIMEOUT_MS: '1500' };

interface Receiver {
  server: Server;
  url: string;
  received: string[];
}
/** A receiver answering `status`, after `meanwhile` (given the request's headers) has run. */
async function receiver(status = 204, meanwhile?: (headers: IncomingMessage['headers']) => Promise<void>): Promise<Receiver> {
  const received: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // Other test files run beside this one: a request of theirs to a port since closed, which this
    // receiver now listens on (a hub's health poll), is no delivery. Deliveries are POSTs to /hook.
    if (req.method !== 'POST' || req.url !== '/hook') {
      res.writeHead(404).end();
      return;
    }
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      received.push(body);
      await meanwhile?.(req.headers);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}
const close = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));

/** Registration outcome per URL: 'ok', or the error code and field. */
async function outcomes(t: TestHub, token: string, urls: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const url of urls) {
    const r = await t.gql(token, REGISTER, { url });
    out[url] = r.errors ? `${errorCodes(r).join()} ${r.errors[0].extensions?.field}` : 'ok';
  }
  return out;
}
const all = (urls: string[], outcome: string) => Object.fromEntries(urls.map((u) => [u, outcome]));

/** A production-mode webhook configuration (what NODE_ENV=production sets), with an allow-list. */
function strict(base: HubConfig, allowedHosts: string[]): HubConfig['workflow'] {
  return { ...base.workflow, webhook: { ...base.workflow.webhook, strictDestinations: true, allowedHosts } };
}

describe('webhooks: address classification', () => {
  // [address, class]: each special-purpose range at its edges, and the IPv6 forms that carry an IPv4 address.
  const cases: [string, AddressClass][] = [
    ['8.8.8.8', 'public'],
    ['0.0.0.0', 'unspecified'],
    ['0.255.255.255', 'unspecified'],
    ['1.0.0.0', 'public'],
    ['10.0.0.1', 'private'],
    ['100.63.255.255', 'public'],
    ['100.64.0.1', 'private'],
    ['100.127.255.255', 'private'],
    ['100.128.0.0', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['172.15.255.255', 'public'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.0', 'public'],
    ['192.0.0.1', 'reserved'], // IETF protocol assignments
    ['192.0.0.255', 'reserved'],
    ['192.0.1.1', 'public'],
    ['192.0.2.1', 'reserved'], // documentation
    ['192.88.99.1', 'reserved'], // former 6to4 relays
    ['192.168.1.1', 'private'],
    ['198.17.255.255', 'public'],
    ['198.18.0.1', 'reserved'], // benchmarking
    ['198.19.255.255', 'reserved'],
    ['198.20.0.0', 'public'],
    ['198.51.100.7', 'reserved'], // documentation
    ['203.0.113.7', 'reserved'], // documentation
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'], // IPv4-mapped
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:8.8.8.8', 'public'],
    ['::ffff:0:127.0.0.1', 'loopback'], // IPv4-translated (SIIT)
    ['::ffff:0:a9fe:a9fe', 'link-local'],
    ['::ffff:0:10.0.0.1', 'private'],
    ['::ffff:0:8.8.8.8', 'public'],
    ['::127.0.0.1', 'loopback'], // IPv4-compatible
    ['::8.8.8.8', 'public'],
    ['64:ff9b::a9fe:a9fe', 'link-local'], // NAT64, well-known prefix
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::192.0.2.1', 'reserved'],
    ['64:ff9b::808:808', 'public'],
    ['64:ff9b:1::a9fe:a9fe', 'reserved'], // local-use NAT64
    ['64:ff9b:1:ffff::808:808', 'reserved'],
    ['2002:7f00:1::1', 'loopback'], // 6to4
    ['2002:a9fe:a9fe::', 'link-local'],
    ['2002:c612:1::1', 'reserved'],
    ['2002:808:808::1', 'public'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'], // Teredo
    ['2001:2::1', 'reserved'], // benchmarking
    ['2001:1ff::1', 'reserved'],
    ['2001:200::1', 'public'],
    ['2001:db8::1', 'reserved'], // documentation
    ['2001:db9::1', 'public'],
    ['3fff::1', 'reserved'], // documentation
    ['2606:4700:4700::1111', 'public'],
    ['fc00::1', 'private'],
    ['fdff:ffff::1', 'private'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'reserved'], // site-local
    ['feff::1', 'reserved'],
    ['ff02::1', 'multicast'],
    ['100::1', 'reserved'], // discard-only
    ['100:0:0:1::1', 'reserved'],
    ['::2', 'unspecified'], // IPv4-compatible 0.0.0.2
    ['::1:0:0:1', 'reserved'], // ::/8 outside the forms above
    ['1::1', 'reserved'],
    ['4000::1', 'reserved'], // outside global unicast
    ['not an address', 'reserved'],
  ];
  it.each(cases)('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });
});

describe('webhooks: destination policy (SSRF)', () => {
  describe('outside production', () => {
    let t: TestHub;
    let justice: string;
    beforeAll(async () => {
      t = await startTestHub({ env: ENV });
      justice = await t.token(JU, { user: 'ju-dest' });
    });
    afterAll(() => t.stop());

    it('refuses link-local (cloud metadata), unspecified, multicast, broadcast and their IPv4-mapped forms, and hosts that do not resolve', async () => {
      const refused = [
        'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
        'http://2852039166/', // 169.254.169.254 as an integer
        'http://[fe80::1]/',
        'http://0.0.0.0/',
        'http://0/',
        'http://[::]/',
        'http://224.0.0.1/',
        'http://[ff02::1]/',
        'http://255.255.255.255/',
        'http://[::ffff:169.254.169.254]/',
        'http://[::ffff:a9fe:a9fe]/',
        'http://[::ffff:0.0.0.0]/',
        'http://[::ffff:224.0.0.1]/',
        'https://no-such-host.invalid/hook',
        // Reserved and special-purpose ranges, and IPv6 forms carrying a refused IPv4 address.
        'http://192.0.0.1/',
        'http://192.0.2.1/',
        'http://198.18.0.1/',
        'http://198.51.100.1/',
        'http://203.0.113.1/',
        'http://240.0.0.1/',
        'http://[::ffff:0:169.254.169.254]/',
        'http://[64:ff9b::a9fe:a9fe]/latest/meta-data/',
        'http://[64:ff9b:1::a9fe:a9fe]/latest/meta-data/',
        'http://[2002:a9fe:a9fe::1]/',
        'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/',
        'http://[2001:db8::1]/',
        'http://[fec0::1]/',
        'http://[100::1]/',
      ];
      expect(await outcomes(t, justice, refused)).toEqual(all(refused, 'BAD_USER_INPUT url'));
      expect(await t.sql(`SELECT url FROM workflow.webhook WHERE created_by = 'ju-dest'`)).toEqual([]);
    });

    it('tells a developer why a destination is refused', async () => {
      const r = await t.gql(justice, REGISTER, { url: 'http://[64:ff9b::a9fe:a9fe]/latest/meta-data/' });
      expect(r.errors?.[0]).toMatchObject({ message: 'url: is not an allowed destination: 64:ff9b::a9fe:a9fe resolves to 64:ff9b::a9fe:a9fe, link-local', extensions: { code: 'BAD_USER_INPUT', field: 'url' } });
    });

    it('refuses a URL already active for the department and region, and more than HUB_WEBHOOK_MAX_PER_REGION active webhooks there', async () => {
      const street = '330102001';
      const max = t.config.workflow.webhook.maxPerRegion;
      expect(max).toBe(10);
      const officer = await t.token(JU, { user: 'ju-cap', region: street });
      const colleague = await t.token(JU, { user: 'ju-cap-2', region: street });
      const url = (i: number) => `http://127.0.0.1:9/cap/${i}`;
      try {
        expect(await outcomes(t, officer, [url(0)])).toEqual({ [url(0)]: 'ok' });
        // The same destination again, by anyone of the department there, however the URL is spelt.
        const spellings = [url(0), 'HTTP://127.0.0.1:9/cap/0', 'http://127.0.0.1:9/cap/0/', 'http://127.0.0.1:9/cap/%30', 'http://127.0.0.1:9/c%61p/0?', 'http://127.0.0.1:9//cap//0'];
        expect(await outcomes(t, colleague, spellings)).toEqual(all(spellings, 'BAD_USER_INPUT url'));
        // Credentials (shown to whoever lists the webhooks) and fragments are refused outright.
        const odd = ['http://user:pass@127.0.0.1:9/cap/x', 'http://x@127.0.0.1:9/cap/y', 'http://127.0.0.1:9/cap/z#a', 'http://127.0.0.1:9/cap/w#'];
        expect(await outcomes(t, colleague, odd)).toEqual(all(odd, 'BAD_USER_INPUT url'));
        const dup = await t.gql(officer, REGISTER, { url: url(0) });
        expect(dup.errors?.[0].message).toBe('url: is already an active webhook of the department in this region');
        const more = Array.from({ length: max - 1 }, (_, i) => url(i + 1));
        expect(await outcomes(t, colleague, more)).toEqual(all(more, 'ok'));
        const over = await t.gql(officer, REGISTER, { url: url(max) });
        expect(errorCodes(over)).toEqual(['LIMIT_EXCEEDED']);
        expect(over.errors?.[0].message).toBe(`At most ${max} active webhooks per department and region`);
        expect(over.data?.registerWebhook ?? null).toBeNull();
        const active = () => t.sql(`SELECT url FROM workflow.webhook WHERE department = 'JUSTICE' AND region_code = $1 AND active ORDER BY url`, [street]);
        expect(await active()).toHaveLength(max);
        // Other departments, and the department elsewhere, have their own allowance; the URL too.
        expect(await outcomes(t, await t.token(ED, { user: 'ed-cap', region: street }), [url(0)])).toEqual({ [url(0)]: 'ok' });
        expect(await outcomes(t, await t.token(JU, { user: 'ju-cap-3', region: '330102002' }), [url(0)])).toEqual({ [url(0)]: 'ok' });
        // A deactivated webhook frees its place, and its URL.
        const { id } = (await t.gql(officer, `{ webhooks { id url } }`)).data.webhooks.find((w: any) => w.url === url(0));
        expect((await t.gql(officer, DEACTIVATE, { id })).errors).toBeUndefined();
        expect(await outcomes(t, officer, [url(0), url(max)])).toEqual({ [url(0)]: 'ok', [url(max)]: 'LIMIT_EXCEEDED undefined' });
      } finally {
        await t.sql(`UPDATE workflow.webhook SET active = false WHERE created_by LIKE '__-cap%'`);
      }
    });

    it('holds the limits when registrations race', async () => {
      const street = '330102003';
      const max = t.config.workflow.webhook.maxPerRegion;
      const tokens = await Promise.all(Array.from({ length: max + 4 }, (_, i) => t.token(JU, { user: `ju-race-${i}`, region: street })));
      try {
        const same = await Promise.all(tokens.slice(0, 4).map((tk) => t.gql(tk, REGISTER, { url: 'http://127.0.0.1:9/race/same' })));
        expect(same.map((r) => (r.errors ? errorCodes(r).join() : 'ok')).sort()).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT', 'ok']);
        const distinct = await Promise.all(tokens.map((tk, i) => t.gql(tk, REGISTER, { url: `http://127.0.0.1:9/race/${i}` })));
        expect(distinct.filter((r) => !r.errors)).toHaveLength(max - 1);
        expect(distinct.filter((r) => errorCodes(r).join() === 'LIMIT_EXCEEDED')).toHaveLength(tokens.length - (max - 1));
        expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.webhook WHERE department = 'JUSTICE' AND region_code = $1 AND active`, [street]))[0].n).toBe(max);
      } finally {
        await t.sql(`UPDATE workflow.webhook SET active = false WHERE created_by LIKE 'ju-race-%'`);
      }
    });

    it('allows loopback and private networks (development)', async () => {
      const allowed = ['http://127.0.0.1:9/hook', 'http://localhost:9/hook', 'http://10.1.2.3/hook', 'https://192.168.10.20/hook', 'http://[fd00::5]/hook'];
      try {
        expect(await outcomes(t, justice, allowed)).toEqual(all(allowed, 'ok'));
      } finally {
        await t.sql(`UPDATE workflow.webhook SET active = false WHERE created_by = 'ju-dest'`);
      }
    });

    it('audits a registration as a change naming the new webhook’s id', async () => {
      const reg = await post(t, justice, { query: REGISTER, variables: { url: 'http://127.0.0.1:9/audited' } });
      expect(reg.json.errors).toBeUndefined();
      const id = reg.json.data.registerWebhook.webhook.id;
      try {
        expect((await eventOf(t, reg.requestId)).changes).toEqual([{ mutation: 'registerWebhook', id, minorId: null, fields: ['url'] }]);
      } finally {
        await t.sql(`UPDATE workflow.webhook SET active = false WHERE id = $1`, [id]);
      }
    });
  });

  describe('in production', () => {
    let t: TestHub;
    let justice: string;
    beforeAll(async () => {
      const base = testConfig({ env: ENV });
      // The dev identity stays (tokens are signed as in the other tests); production mode, its audit key and its webhook policy.
      t = await startTestHub({
        env: ENV,
        production: true,
        audit: { ...base.audit, key: randomBytes(32).toString('base64') },
        workflow: strict(base, ['10.20.30.40', 'localhost', '127.0.0.1']),
      });
      justice = await t.token(JU, { user: 'ju-prod' });
    });
    afterAll(() => t?.stop());

    it('refuses loopback always and private networks unless the host is allow-listed', async () => {
      const refused = [
        'https://localhost/hook', // allow-listed, but loopback
        'https://127.0.0.1/hook', // likewise
        'https://127.1.2.3/hook',
        'https://[::1]/hook',
        'https://2130706433/hook',
        'https://[::ffff:127.0.0.1]/hook',
        'https://10.0.0.1/hook',
        'https://172.16.5.5/hook',
        'https://192.168.1.1/hook',
        'https://100.64.0.1/hook',
        'https://[fd00::1]/hook',
        'https://[::ffff:10.0.0.1]/hook',
        'https://169.254.169.254/hook',
        'http://10.20.30.40/hook', // allow-listed, but not TLS
      ];
      expect(await outcomes(t, justice, refused)).toEqual(all(refused, 'BAD_USER_INPUT url'));
      expect(await outcomes(t, justice, ['https://10.20.30.40/hook'])).toEqual({ 'https://10.20.30.40/hook': 'ok' });
      expect((await t.sql(`SELECT url FROM workflow.webhook WHERE created_by = 'ju-prod'`)).map((r) => r.url)).toEqual(['https://10.20.30.40/hook']);
    });

    it('tells the client only that a destination is refused, whatever the reason (no DNS oracle), and logs why', async () => {
      const officer = await t.token(JU, { user: 'ju-oracle' });
      const reasons: Record<string, RegExp> = {
        'https://localhost/x': /localhost resolves to (127\.0\.0\.1|::1), loopback/,
        'https://no-such-host.invalid/': /no-such-host\.invalid does not resolve/,
        'https://10.0.0.1/x': /10\.0\.0\.1 resolves to 10\.0\.0\.1, private \(not in HUB_WEBHOOK_ALLOWED_HOSTS\)/,
        'https://[::ffff:0:127.0.0.1]/x': /loopback/,
        'https://[64:ff9b:1::a9fe:a9fe]/latest/meta-data/': /reserved/,
        'https://[64:ff9b::a9fe:a9fe]/latest/meta-data/': /link-local/,
        'https://198.18.0.1/x': /reserved/,
        'https://[2001:db8::1]/x': /reserved/,
      };
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        for (const [url, why] of Object.entries(reasons)) {
          log.mockClear();
          const r = await t.gql(officer, REGISTER, { url });
          expect(r.errors).toEqual([expect.objectContaining({ message: 'url: is not an allowed destination', extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'url' }) })]);
          expect(log).toHaveBeenCalledTimes(1);
          expect(String(log.mock.calls[0][0])).toMatch(/^\[hub\] webhook registration refused \(request [0-9a-f-]{36}, JUSTICE ju-oracle\): /);
          expect(String(log.mock.calls[0][0])).toMatch(why);
        }
      } finally {
        log.mockRestore();
      }
      // An address that carries a public IPv4 address is public.
      expect(await outcomes(t, officer, ['https://[64:ff9b::808:808]/hook', 'https://[::ffff:0:8.8.8.8]/hook'])).toEqual(
        all(['https://[64:ff9b::808:808]/hook', 'https://[::ffff:0:8.8.8.8]/hook'], 'ok'),
      );
      expect((await t.sql(`SELECT url FROM workflow.webhook WHERE created_by = 'ju-oracle' ORDER BY url`)).map((r) => r.url)).toEqual([
        'https://[64:ff9b::808:808]/hook',
        'https://[::ffff:0:808:808]/hook',
      ]);
    });
  });

  describe('look-ups, with a name server that never answers', () => {
    // Production as deployed: its identity provider's ES256 tokens, which jose verifies on libuv's
    // pool of four threads — the threads getaddrinfo held while a name server stayed silent.
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const TIMEOUT = 2000;
    const env = {
      ...ENV,
      NODE_ENV: 'production',
      HUB_JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      HUB_JWT_ALGORITHMS: 'ES256',
      HUB_AUDIT_KEY: 'production-test-audit-key-0123456789',
      HUB_WEBHOOK_TIMEOUT_MS: String(TIMEOUT),
    };
    let t: TestHub;
    /** The name of every query the name server read. */
    const asked: string[] = [];
    let silent: Socket;
    const systemServers = dns.getServers();
    let log: jest.SpyInstance;
    beforeAll(async () => {
      silent = createSocket('udp4').on('message', (m: Buffer) => {
        const labels: string[] = [];
        for (let i = 12; m[i]; i += m[i] + 1) labels.push(m.toString('latin1', i + 1, i + 1 + m[i]));
        asked.push(labels.join('.'));
      });
      await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
      // The hub asks the process's name servers: here one that reads every query and answers none.
      dns.setServers([`127.0.0.1:${silent.address().port}`]);
      t = await startTestHub({ env });
    });
    beforeEach(() => {
      log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    });
    afterEach(() => log.mockRestore());
    afterAll(async () => {
      await t?.stop();
      dns.setServers(systemServers);
      await new Promise<void>((resolve) => (silent ? silent.close(resolve) : resolve()));
    });

    /** A token of the identity provider, for a user the hub has not seen (no verification cached). */
    const signed = (department: Department) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ department, role: 'OFFICER', region: '330102' })
        .setProtectedHeader({ alg: 'ES256' })
        .setSubject(`${department.toLowerCase()}-${randomUUID().slice(0, 8)}`)
        .setIssuer(t.config.jwt.issuer)
        .setAudience(t.config.jwt.audience)
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(privateKey);
    };
    const silentHost = (i: number) => `h${i}.silent.example`;
    /** Registrations of `https://<host>/hook` at once, each with the time it took. */
    const register = (token: string, hosts: string[]) =>
      hosts.map((host) => {
        const started = Date.now();
        return t.gql(token, REGISTER, { url: `https://${host}/hook` }).then((r) => ({ r, ms: Date.now() - started }));
      });
    /** Until the name server has been asked about every host: their look-ups are under way. */
    const lookingUp = async (hosts: string[]) => {
      for (const until = Date.now() + TIMEOUT / 2; !hosts.every((h) => asked.includes(h)); ) {
        if (Date.now() > until) throw new Error(`not asked of the name server: ${hosts.filter((h) => !asked.includes(h)).join(', ')}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const refusedQuietly = (r: GqlResult) =>
      expect(r.errors).toEqual([expect.objectContaining({ message: 'url: is not an allowed destination', extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'url' }) })]);
    /** The reasons the hub logged for the registrations it refused. */
    const reasons = () => log.mock.calls.map((c) => String(c[0]).replace(/^\[hub\] webhook registration refused \(request [0-9a-f-]{36}, JUSTICE [^)]+\): /, ''));
    const redChildIn = async (grid: string) => {
      const [c] = await t.sql(`SELECT id FROM registry.minor WHERE risk_level <> 'RED' AND grid_code LIKE $1 ORDER BY id LIMIT 1`, [`${grid}%`]);
      expect((await t.gql(await signed(CA), ASSESS, { id: c.id })).errors).toBeUndefined();
    };
    const insertHook = async (region: string, url: string) => {
      const id = randomUUID();
      await t.sql(`INSERT INTO workflow.webhook (id, department, region_code, url, secret, active, created_by, created_at) VALUES ($1, 'EDUCATION', $2, $3, 'secret', true, 'direct', now())`, [id, region, url]);
      return id;
    };

    it('answers a caller at once while look-ups of silent names outnumber libuv’s threads', async () => {
      const officer = await signed(JU);
      const fresh = await signed(PO);
      const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
      const hosts = [1, 2, 3, 4, 5, 6, 7, 8].map(silentHost);
      let settled = 0;
      const pending = register(officer, hosts).map((p) => p.finally(() => settled++));
      await lookingUp(hosts);
      const started = Date.now();
      // To the address: the client's own look-up of localhost would wait on the same pool.
      const read = await postGraphQL(t.hub.url.replace('localhost', '127.0.0.1'), fresh, 'query($id: ID!) { minor(id: $id) { name } }', { id }, DEFAULT_PURPOSE);
      const ms = Date.now() - started;
      // Answered (a token never verified before, ES256) while all eight look-ups were still waiting.
      expect({ errors: read.errors, name: typeof read.data?.minor?.name, settled }).toEqual({ errors: undefined, name: 'string', settled: 0 });
      expect(ms).toBeLessThan(1000);
      for (const { r } of await Promise.all(pending)) refusedQuietly(r);
    });

    it('refuses a host whose look-up has not answered within the request timeout, and logs why', async () => {
      const [{ r, ms }] = await Promise.all(register(await signed(JU), [silentHost(100)]));
      refusedQuietly(r);
      expect(reasons()).toEqual([`${silentHost(100)} did not resolve within ${TIMEOUT} ms`]);
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT - 50);
      expect(ms).toBeLessThan(TIMEOUT + 1000);
    });

    it('answers localhost and names under .localhost as loopback without asking DNS, and delivers to them', async () => {
      const started = Date.now();
      const urls = ['https://localhost/hook', 'https://localhost./hook', 'https://hooks.localhost/hook'];
      expect(await outcomes(t, await signed(JU), urls)).toEqual(all(urls, 'BAD_USER_INPUT url'));
      expect(Date.now() - started).toBeLessThan(1000);
      expect(reasons()).toEqual(['localhost resolves to 127.0.0.1, loopback', 'localhost. resolves to 127.0.0.1, loopback', 'hooks.localhost resolves to 127.0.0.1, loopback']);
      // A development policy delivers to a receiver named localhost, on the first loopback address.
      const rx = await receiver();
      const hook = await insertHook('330102001', rx.url.replace('127.0.0.1', 'localhost'));
      try {
        await redChildIn('330102001');
        const cfg = { ...t.config.workflow.webhook, strictDestinations: false };
        expect(await deliverWebhooks(t.hub.db.ds, cfg, () => new Date(Date.now() + 60_000), trail(t))).toEqual({ delivered: 1, failed: 0 });
        expect(rx.received).toHaveLength(1);
      } finally {
        await t.sql(`UPDATE workflow.webhook SET active = false WHERE id = $1`, [hook]);
        await close(rx.server);
      }
      expect(asked.filter((name) => name.includes('localhost'))).toEqual([]);
    });

    it(`refuses a registration at once past ${MAX_REGISTRATION_LOOKUPS} registrations' look-ups in flight, which leave deliveries theirs, and leaves a delivery past ${MAX_LOOKUPS_IN_FLIGHT} uncounted for a later pass`, async () => {
      const officer = await signed(JU);
      // Deliveries to as many silent hosts as the registrations leave room for, and one more.
      const hooks = await Promise.all(
        Array.from({ length: MAX_LOOKUPS_IN_FLIGHT - MAX_REGISTRATION_LOOKUPS + 1 }, (_, i) => insertHook('330102002', `https://${silentHost(300 + i)}/hook`)),
      );
      await redChildIn('330102002');
      const deliveries = () => t.sql(`SELECT status, attempts, last_error FROM workflow.webhook_delivery WHERE webhook_id = ANY($1)`, [hooks]);
      const cfg = t.config.workflow.webhook;
      const now = Date.now() + 60_000;
      try {
        const hosts = Array.from({ length: MAX_REGISTRATION_LOOKUPS }, (_, i) => silentHost(200 + i));
        // A host asked for twice at once is one look-up.
        const pending = register(officer, [...hosts, hosts[0]]);
        await lookingUp(hosts);
        const [{ r, ms }] = await Promise.all(register(officer, [silentHost(250)]));
        refusedQuietly(r);
        expect(ms).toBeLessThan(1000);
        expect(reasons()).toEqual([`${silentHost(250)} was not looked up: ${MAX_REGISTRATION_LOOKUPS} registrations’ look-ups in flight`]);
        // The registrations' look-ups still under way, the deliveries take the rest of the look-ups, but one.
        expect(await deliverWebhooks(t.hub.db.ds, cfg, () => new Date(now), trail(t))).toEqual({ delivered: 0, failed: 0 });
        const after = await deliveries();
        expect(after.filter((d) => d.last_error === LOOKUPS_BUSY_ERROR)).toEqual([{ status: 'PENDING', attempts: 0, last_error: LOOKUPS_BUSY_ERROR }]);
        expect(after.filter((d) => d.attempts === 1 && /did not resolve within/.test(d.last_error))).toHaveLength(MAX_LOOKUPS_IN_FLIGHT - MAX_REGISTRATION_LOOKUPS);
        expect(asked).not.toContain(silentHost(250));
        expect((await Promise.all(pending)).map(({ r }) => errorCodes(r).join())).toEqual(Array(MAX_REGISTRATION_LOOKUPS + 1).fill('BAD_USER_INPUT'));
        // The next pass after its lease looks the destination up, and counts the attempt.
        await deliverWebhooks(t.hub.db.ds, cfg, () => new Date(now + 60_000), trail(t));
        expect((await deliveries()).filter((d) => d.last_error === LOOKUPS_BUSY_ERROR)).toEqual([]);
      } finally {
        await t.sql(`UPDATE workflow.webhook SET active = false WHERE id = ANY($1)`, [hooks]);
      }
    });
  });

  describe('at delivery', () => {
    let t: TestHub;
    let civil: string;
    beforeAll(async () => {
      t = await startTestHub({ env: ENV });
      civil = await t.token(CA, { user: 'ca-dest' });
    });
    afterAll(() => t.stop());

    const makeRed = async (gridPrefix: string) => {
      const [c] = await t.sql(`SELECT id FROM registry.minor WHERE risk_level <> 'RED' AND grid_code LIKE $1 ORDER BY id LIMIT 1`, [`${gridPrefix}%`]);
      expect((await t.gql(civil, ASSESS, { id: c.id })).errors).toBeUndefined();
    };
    const insertHook = (department: string, region: string, url: string) => insertWebhook(t, department, region, url);
    const deliveries = (webhookId: string) => deliveriesOf(t, webhookId);

    it('does not contact a loopback or link-local destination under the production policy, and records the refusal', async () => {
      const rx = await receiver();
      try {
        // https, as production registers them: an http URL is refused there before its address is looked at.
        const loopback = await insertHook(ED, '330102003', rx.url.replace('http:', 'https:'));
        const named = await insertHook(ED, '330102003', rx.url.replace('http:', 'https:').replace('127.0.0.1', 'localhost'));
        const metadata = await insertHook(ED, '330102003', 'https://169.254.169.254/latest/meta-data/');
        await makeRed('330102003');
        const cfg = strict(t.config, ['localhost', '127.0.0.1']).webhook;
        const now = Date.now() + 60_000;
        expect(await deliverWebhooks(t.hub.db.ds, cfg, () => new Date(now), trail(t))).toEqual({ delivered: 0, failed: 0 });
        expect(rx.received).toEqual([]);
        for (const id of [loopback, named]) expect(await deliveries(id)).toEqual([{ status: 'PENDING', attempts: 1, last_error: expect.stringMatching(/^refused by the destination policy: .*loopback/) }]);
        expect(await deliveries(metadata)).toEqual([{ status: 'PENDING', attempts: 1, last_error: expect.stringMatching(/^refused by the destination policy: .*link-local/) }]);
        // Retried and given up on like any other failure.
        expect(await deliverWebhooks(t.hub.db.ds, cfg, () => new Date(now + 1000), trail(t))).toEqual({ delivered: 0, failed: 3 });
        expect(rx.received).toEqual([]);
        for (const id of [loopback, named, metadata]) expect((await deliveries(id))[0]).toMatchObject({ status: 'FAILED', attempts: 2 });
      } finally {
        await t.sql(`UPDATE workflow.webhook SET active = false WHERE created_by = 'direct'`);
        await close(rx.server);
      }
    });

    it('refuses a link-local destination at delivery outside production too', async () => {
      const hook = await insertHook(PO, '330102004', 'http://[::ffff:169.254.169.254]/latest/meta-data/');
      try {
        await makeRed('330102004');
        await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(Date.now() + 60_000), trail(t));
        expect(await deliveries(hook)).toEqual([{ status: 'PENDING', attempts: 1, last_error: expect.stringMatching(/^refused by the destination policy: .*link-local/) }]);
      } finally {
        await t.sql(`UPDATE workflow.webhook SET active = false WHERE id = $1`, [hook]);
      }
    });

    it('sends nothing more to a deactivated webhook and cancels its pending deliveries', async () => {
      const rx = await receiver(503);
      try {
        const edu = await t.token(ED, { user: 'ed-deact', region: '330102001' });
        const reg = await t.gql(edu, REGISTER, { url: rx.url });
        expect(reg.errors).toBeUndefined();
        const id = reg.data.registerWebhook.webhook.id;
        await makeRed('330102001');
        const now = Date.now() + 60_000;
        await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(now), trail(t)); // 503: stays PENDING for a retry
        expect(rx.received).toHaveLength(1);
        expect(await deliveries(id)).toEqual([{ status: 'PENDING', attempts: 1, last_error: 'HTTP 503' }]);
        expect((await t.gql(edu, DEACTIVATE, { id })).data.deactivateWebhook.active).toBe(false);
        expect(await deliveries(id)).toEqual([{ status: 'FAILED', attempts: 1, last_error: 'webhook deactivated' }]);
        await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(now + 3_600_000), trail(t));
        expect(rx.received).toHaveLength(1);
      } finally {
        await close(rx.server);
      }
    });

    it('deactivates a webhook named by its id in capitals, as the hub spells it', async () => {
      const rx = await receiver();
      try {
        const edu = await t.token(ED, { user: 'ed-deact-caps', region: '330102002' });
        const id: string = (await t.gql(edu, REGISTER, { url: rx.url })).data.registerWebhook.webhook.id;
        const r = await t.gql(edu, `mutation($id: ID!) { deactivateWebhook(id: $id) { id active } }`, { id: id.toUpperCase() });
        expect(r).toEqual({ status: 200, data: { deactivateWebhook: { id, active: false } } });
        expect(await t.sql(`SELECT active FROM workflow.webhook WHERE id = $1`, [id])).toEqual([{ active: false }]);
      } finally {
        await close(rx.server);
      }
    });

    it('records deactivating a webhook as a change once: deactivating it again changes nothing, and its event records none', async () => {
      const rx = await receiver(503);
      try {
        const edu = await t.token(ED, { user: 'ed-deact-again', region: '330102003' });
        const id: string = (await t.gql(edu, REGISTER, { url: rx.url })).data.registerWebhook.webhook.id;
        await makeRed('330102003');
        const now = Date.now() + 60_000;
        await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(now), trail(t)); // 503: stays PENDING
        expect(await deliveries(id)).toEqual([{ status: 'PENDING', attempts: 1, last_error: 'HTTP 503' }]);
        const first = await post(t, edu, { query: DEACTIVATE, variables: { id } });
        expect(first.json).toEqual({ data: { deactivateWebhook: { active: false } } });
        expect((await eventOf(t, first.requestId)).changes).toEqual([{ mutation: 'deactivateWebhook', id, minorId: null, fields: ['id'] }]);
        const state = async () => [await t.sql(`SELECT active FROM workflow.webhook WHERE id = $1`, [id]), await deliveries(id)];
        const after = await state();
        expect(after).toEqual([[{ active: false }], [{ status: 'FAILED', attempts: 1, last_error: 'webhook deactivated' }]]);

        const again = await post(t, edu, { query: DEACTIVATE, variables: { id } });
        expect(again.json).toEqual({ data: { deactivateWebhook: { active: false } } });
        expect(await eventOf(t, again.requestId)).toMatchObject({ outcome: 'SUCCESS', operationType: 'mutation', changes: [] });
        expect(await state()).toEqual(after);
      } finally {
        await close(rx.server);
      }
    });

    it('takes each webhook’s oldest due delivery in turn, so that one webhook’s backlog does not hold back another’s', async () => {
      const busy = await receiver();
      const quiet = await receiver();
      try {
        const backlogged = await insertHook(ED, '330102', busy.url);
        for (let i = 0; i < 3; i++) await makeRed('330102');
        const other = await insertHook(PO, '330102', quiet.url);
        await makeRed('330102'); // one more for the education webhook, and the police webhook's first, the newest of all
        const due = await t.sql(`SELECT webhook_id, count(*)::int AS n FROM workflow.webhook_delivery WHERE status = 'PENDING' AND webhook_id = ANY($1) GROUP BY 1`, [[backlogged, other]]);
        expect(Object.fromEntries(due.map((r) => [r.webhook_id, r.n]))).toEqual({ [backlogged]: 4, [other]: 1 });
        const now = Date.now() + 60_000;
        // A pass of two: the oldest of each webhook, not the two oldest overall.
        expect(await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(now), trail(t), { batch: 2 })).toEqual({ delivered: 2, failed: 0 });
        expect(busy.received).toHaveLength(1);
        expect(quiet.received).toHaveLength(1);
        const [oldest] = await t.sql(
          `SELECT d.status FROM workflow.webhook_delivery d JOIN workflow.notification n ON n.id = d.notification_id WHERE d.webhook_id = $1 ORDER BY n.created_at LIMIT 1`,
          [backlogged],
        );
        expect(oldest.status).toBe('DELIVERED');
        // The rest follow in later passes, as before.
        expect(await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(now), trail(t), { batch: 2 })).toEqual({ delivered: 2, failed: 0 });
        expect(await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(now), trail(t), { batch: 2 })).toEqual({ delivered: 1, failed: 0 });
        expect(busy.received).toHaveLength(4);
        expect(quiet.received).toHaveLength(1);
      } finally {
        await t.sql(`UPDATE workflow.webhook SET active = false WHERE created_by = 'direct'`);
        await close(busy.server);
        await close(quiet.server);
      }
    });

    it('does not lease a pending delivery of an inactive webhook', async () => {
      const rx = await receiver();
      try {
        const hook = await insertHook(ED, '330102002', rx.url);
        await makeRed('330102002');
        // Deactivated behind the mutation's back: the delivery is still PENDING.
        await t.sql(`UPDATE workflow.webhook SET active = false WHERE id = $1`, [hook]);
        await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(Date.now() + 60_000), trail(t));
        expect(rx.received).toEqual([]);
        expect(await deliveries(hook)).toEqual([{ status: 'PENDING', attempts: 0, last_error: null }]);
      } finally {
        await close(rx.server);
      }
    });

    it('leaves no pending delivery of a webhook deactivated while a notification for it is emitted', async () => {
      // Timing dependent (the notification must read the webhooks while the deactivation's
      // transaction is open), hence many rounds: unlocked, a run left 2 to 9 of 30 PENDING.
      const wf = await t.token(Department.WOMENS_FEDERATION, { user: 'wf-race', region: '330102001' });
      const kids = await t.sql(`SELECT id FROM registry.minor WHERE risk_level IS DISTINCT FROM 'RED' AND grid_code LIKE '330102001%' ORDER BY id DESC LIMIT 30`);
      expect(kids).toHaveLength(30);
      const hooks: string[] = [];
      for (const [i, kid] of kids.entries()) {
        const id: string = (await t.gql(wf, REGISTER, { url: `http://127.0.0.1:9/race${i}` })).data.registerWebhook.webhook.id;
        hooks.push(id);
        const [red, off] = await Promise.all([t.gql(civil, ASSESS, { id: kid.id }), t.gql(wf, DEACTIVATE, { id })]);
        expect(red.errors).toBeUndefined();
        expect(off.data.deactivateWebhook.active).toBe(false);
      }
      const left = await t.sql(`SELECT status, count(*)::int AS n FROM workflow.webhook_delivery WHERE webhook_id = ANY($1) GROUP BY status`, [hooks]);
      // Each round's delivery is either never queued (the webhook read inactive) or cancelled with it.
      expect(left.filter((r) => r.status !== 'FAILED')).toEqual([]);
    });
  });
});

describe('webhooks: every delivery is a disclosure in the audit trail', () => {
  const HISTORY = `query($id: ID!) { minorAccessHistory(minorId: $id) { requestId userId department role purpose { code } outcome fields { field access } changes { mutation } } }`;
  const EVENTS = `query($id: ID!) { auditEvents(filter: { minorId: $id }) { edges { node { requestId userId region operationType operationName variableNames document errorCodes } } } }`;
  const STREET = '330102001';
  let t: TestHub;
  let civil: string;
  let auditor: string;
  let rx: Receiver;
  let hook: string;
  beforeAll(async () => {
    t = await startTestHub({ env: ENV });
    civil = await t.token(CA, { user: 'ca-audited' });
    auditor = await t.token(CA, { role: Role.AUDITOR, region: STREET, user: 'auditor-webhooks' });
    rx = await receiver();
    const reg = await t.gql(await t.token(ED, { user: 'ed-audited', region: STREET }), REGISTER, { url: rx.url });
    expect(reg.errors).toBeUndefined();
    hook = reg.data.registerWebhook.webhook.id;
  });
  afterAll(async () => {
    await close(rx.server);
    await t.stop();
  });

  /** A child of the street newly assessed RED: a CHILD_RED notification to EDUCATION, queued for the webhook. */
  const newRedChild = async (): Promise<{ minorId: string; notificationId: string; deliveryId: string }> => {
    const [c] = await t.sql(`SELECT id FROM registry.minor WHERE risk_level NOT IN ('RED') AND grid_code LIKE $1 AND NOT EXISTS
      (SELECT 1 FROM workflow.notification n WHERE n.minor_id = registry.minor.id) ORDER BY id LIMIT 1`, [`${STREET}%`]);
    expect((await t.gql(civil, ASSESS, { id: c.id })).errors).toBeUndefined();
    const [d] = await t.sql(
      `SELECT d.id, n.id AS notification_id FROM workflow.webhook_delivery d JOIN workflow.notification n ON n.id = d.notification_id
        WHERE d.webhook_id = $1 AND n.minor_id = $2 AND n.kind = 'CHILD_RED'`,
      [hook, c.id],
    );
    return { minorId: c.id, notificationId: d.notification_id, deliveryId: d.id };
  };
  const delivery = (id: string) => t.sql(`SELECT status, attempts, last_error FROM workflow.webhook_delivery WHERE id = $1`, [id]).then((r) => r[0]);
  /** The child's history as the auditor reads it, the deliveries only. */
  const deliveriesInHistory = async (minorId: string) => {
    const r = await t.gql(auditor, HISTORY, { id: minorId }, {});
    expect(r.errors).toBeUndefined();
    return r.data.minorAccessHistory.filter((h: any) => h.userId === 'hub:webhook-delivery');
  };
  const posted = (minorId: string) => rx.received.map((b) => JSON.parse(b)).filter((b) => b.minorId === minorId);

  it('leaves one event naming the child, with the fields sent, in the auditor’s minorAccessHistory', async () => {
    const child = await newRedChild();
    expect(await deliveriesInHistory(child.minorId)).toEqual([]);
    expect(await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(Date.now() + 60_000), trail(t))).toMatchObject({ delivered: 1 });
    const [sent] = posted(child.minorId);
    expect(sent).toMatchObject({ id: child.notificationId, kind: 'CHILD_RED', department: ED });
    const fields = Object.keys(sent.payload).sort();
    expect(fields).toEqual(expect.arrayContaining(['Minor.name', 'Minor.idNumber', 'Minor.currentAddress', 'RiskAssessment.level']));

    const history = await deliveriesInHistory(child.minorId);
    expect(history).toEqual([
      {
        requestId: expect.any(String),
        userId: 'hub:webhook-delivery',
        department: ED,
        role: null,
        purpose: null,
        outcome: 'SUCCESS',
        fields: fields.map((field) => ({ field, access: expect.stringMatching(/^(ALLOW|MASK)$/) })),
        changes: [],
      },
    ]);
    // Education gets the ID number masked (payloadFor), and the trail says so.
    const access = Object.fromEntries(history[0].fields.map((f: any) => [f.field, f.access]));
    expect(access).toMatchObject({ 'Minor.idNumber': 'MASK', 'Minor.name': 'ALLOW', 'RiskAssessment.level': 'ALLOW' });

    // Which notification went to which webhook, in the webhook's region; never the URL or a value.
    const events = await t.gql(auditor, EVENTS, { id: child.minorId }, {});
    const node = events.data.auditEvents.edges.map((e: any) => e.node).find((n: any) => n.requestId === history[0].requestId);
    expect(node).toMatchObject({ region: STREET, operationType: 'webhook', variableNames: [], document: null, errorCodes: [] });
    expect(node.operationName).toContain(child.notificationId);
    expect(node.operationName).toContain(hook);
    expect(node.operationName).toContain('CHILD_RED');
    // And the assessment that raised it, as the notification names it.
    const [{ subject_id: subject }] = await t.sql(`SELECT subject_id FROM workflow.notification WHERE id = $1`, [child.notificationId]);
    expect(subject).toEqual(expect.any(String));
    expect(node.operationName).toContain(`about ${subject}`);
    expect(node.operationName).not.toContain('127.0.0.1');
    const [stored] = await t.sql(`SELECT body FROM audit.event WHERE request_id = $1`, [history[0].requestId]);
    for (const value of Object.values(sent.payload) as string[]) expect(stored.body).not.toContain(JSON.stringify(value));
    expect(await delivery(child.deliveryId)).toEqual({ status: 'DELIVERED', attempts: 1, last_error: null });
  });

  it('names a child who moved out of the webhook’s region before the delivery no more: not in the body, not in the trail, not in the inbox', async () => {
    const child = await newRedChild();
    const [{ name }] = await t.sql(`SELECT name FROM registry.minor WHERE id = $1`, [child.minorId]);
    const [away] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code NOT LIKE $1 ORDER BY code LIMIT 1`, [`${STREET}%`]);
    const moved = await t.gql(civil, `mutation($id: ID!, $g: ID!) { updateMinor(id: $id, input: { gridCode: $g }) { id } }`, { id: child.minorId, g: away.code });
    expect(moved.errors).toBeUndefined();
    const before = rx.received.length;
    expect(await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(Date.now() + 60_000), trail(t))).toMatchObject({ delivered: 1 });
    const [sent] = rx.received.slice(before).map((b) => JSON.parse(b)).filter((b) => b.id === child.notificationId);
    expect(sent).toMatchObject({ kind: 'CHILD_RED', minorId: null });
    expect(Object.keys(sent.payload).filter((k) => /^(Minor|Guardian|MinorCategory|RiskAssessment|Visit)\./.test(k))).toEqual([]);
    expect(JSON.stringify(sent)).not.toContain(name);
    expect(await deliveriesInHistory(child.minorId)).toEqual([]);
    // The street's education officers read the stored notification as about no child.
    const inbox = await post(t, await t.token(ED, { region: STREET, user: 'ed-inbox' }), { query: `{ notifications(first: 500) { id minor { id } payload { field value } } }` });
    const told = inbox.json.data.notifications.find((n: any) => n.id === child.notificationId);
    expect(told.minor).toBeNull();
    expect(JSON.stringify(told.payload)).not.toContain(name);
    expect(told.payload.map((f: any) => f.field).filter((k: string) => /^(Minor|RiskAssessment)\./.test(k))).toEqual([]);
    expect(JSON.stringify(await eventOf(t, inbox.requestId))).not.toContain(child.minorId);
  });

  it('sends nothing while the trail cannot be written, keeps the delivery pending, and delivers it once the trail is back', async () => {
    const child = await newRedChild();
    const now = Date.now() + 60_000;
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await t.sql(`REVOKE INSERT ON audit.event FROM hub_audit_writer`);
      expect(await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(now), trail(t))).toEqual({ delivered: 0, failed: 0 });
      // A second pass after the lease: still nothing, still not counted against the receiver.
      expect(await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(now + 60_000), trail(t))).toEqual({ delivered: 0, failed: 0 });
    } finally {
      await t.sql(`GRANT INSERT ON audit.event TO hub_audit_writer`);
      log.mockRestore();
    }
    expect(posted(child.minorId)).toEqual([]);
    expect(await delivery(child.deliveryId)).toEqual({ status: 'PENDING', attempts: 0, last_error: 'audit unavailable: not sent' });
    expect(await deliveriesInHistory(child.minorId)).toEqual([]);

    expect(await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(now + 120_000), trail(t))).toMatchObject({ delivered: 1 });
    expect(posted(child.minorId)).toHaveLength(1);
    expect(await delivery(child.deliveryId)).toEqual({ status: 'DELIVERED', attempts: 1, last_error: null });
    expect(await deliveriesInHistory(child.minorId)).toEqual([expect.objectContaining({ department: ED, outcome: 'SUCCESS' })]);
  });
});

describe('webhooks: delivery passes, the job’s clock and leases', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  let t: TestHub;
  let civil: string;
  beforeAll(async () => {
    // A short request timeout makes a short lease (4 s of audit retrying + 3 × 0.8 s).
    t = await startTestHub({ env: { ...ENV, HUB_WEBHOOK_TIMEOUT_MS: '800' } });
    civil = await t.token(CA, { user: 'ca-passes' });
  });
  afterAll(() => t.stop());
  afterEach(() => t.sql(`UPDATE workflow.webhook SET active = false`));

  const register = async (department: Department, region: string, url: string) => {
    const r = await t.gql(await t.token(department, { region, user: `${department.toLowerCase()}-passes` }), REGISTER, { url });
    expect(r.errors).toBeUndefined();
    return r.data.registerWebhook.webhook.id as string;
  };
  /** A child of the region newly assessed RED: a CHILD_RED for the departments told, queued for their webhooks. */
  const makeRed = async (gridPrefix: string): Promise<string> => {
    const [c] = await t.sql(`SELECT id FROM registry.minor WHERE risk_level <> 'RED' AND grid_code LIKE $1 ORDER BY id LIMIT 1`, [`${gridPrefix}%`]);
    expect((await t.gql(civil, ASSESS, { id: c.id })).errors).toBeUndefined();
    return c.id;
  };
  const pending = (webhookId: string) =>
    t.sql(`SELECT count(*)::int AS n FROM workflow.webhook_delivery WHERE webhook_id = $1 AND status = 'PENDING'`, [webhookId]).then((r) => r[0].n as number);
  /** The hub's jobs on a 200 ms timer, as the server runs them. */
  const jobs = (log: (m: string) => void = () => undefined) =>
    startWorkflowJobs(t.hub.db.ds, { ...t.config, workflow: { ...t.config.workflow, jobIntervalMs: 200 } }, buildPolicy(), t.hub.audit, log);

  it('sends a new CHILD_RED in the next batch whatever backlog of overdue visits its webhook has, and clears the backlog in one pass', async () => {
    const rx = await receiver();
    try {
      const hook = await register(CA, '330102', rx.url);
      // The first escalation pass tells civil affairs of every overdue RED and ORANGE child at once.
      await runEscalations(t.hub.db.ds, t.config, buildPolicy(), new Date());
      const backlog = await pending(hook);
      expect(backlog).toBeGreaterThan(300);
      const child = await makeRed('330102'); // the newest of all
      const clock = () => new Date(Date.now() + 60_000);
      // Fifty posts at once on a shared machine: more than this file's short timeout, so that none is retried.
      const cfg = { ...t.config.workflow.webhook, timeoutMs: 10_000 };
      // One batch (a pass with no time to spare): the CHILD_RED is in it, ahead of the overdue visits told before it.
      expect(await deliverWebhooks(t.hub.db.ds, cfg, clock, trail(t), { batch: 50 })).toEqual({ delivered: 50, failed: 0 });
      const first = rx.received.map((b) => JSON.parse(b));
      expect(first.filter((b) => b.kind === 'CHILD_RED' && b.minorId === child)).toHaveLength(1);
      expect(first.filter((b) => b.kind === 'VISIT_OVERDUE').length).toBeGreaterThan(0);
      // A pass with time goes on batch after batch until nothing due is left.
      expect(await deliverWebhooks(t.hub.db.ds, cfg, clock, trail(t), { batch: 50, budgetMs: 60_000 })).toEqual({ delivered: backlog + 1 - 50, failed: 0 });
      expect(await pending(hook)).toBe(0);
      expect(new Set(rx.received.map((b) => JSON.parse(b).id)).size).toBe(backlog + 1);
    } finally {
      await close(rx.server);
    }
  });

  it.each([
    [503, 'fails'],
    [204, 'succeeds'],
  ])('leaves a delivery that another sender took over to it when its own attempt %i %s', async (status) => {
    const takenOver = new Date(Date.now() + 3_600_000);
    const rx = await receiver(status, async (headers) => {
      // Meanwhile this sender's lease ran out and another instance leased the delivery: its lease, its outcome.
      await t.sql(`UPDATE workflow.webhook_delivery SET next_attempt_at = $2 WHERE id = $1`, [headers['x-hub-delivery'], takenOver]);
    });
    try {
      const hook = await register(ED, '330102002', rx.url);
      await makeRed('330102002');
      expect(await deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(Date.now() + 60_000), trail(t))).toEqual({ delivered: 0, failed: 0 });
      expect(rx.received).toHaveLength(1);
      expect(await t.sql(`SELECT status, attempts, last_error, next_attempt_at FROM workflow.webhook_delivery WHERE webhook_id = $1`, [hook])).toEqual([
        { status: 'PENDING', attempts: 0, last_error: null, next_attempt_at: takenOver },
      ]);
    } finally {
      await close(rx.server);
    }
  });

  it('posts while the escalation step is held up, under a lease still held and stamped when sent, and a second sender meanwhile does not post it again', async () => {
    // Longer than a delivery's lease: an escalation step this slow is a backlog after downtime, or city scale.
    const HELD_MS = 7500;
    const seen: { delivery: string; at: number; stamped: number; leaseUntil: number }[] = [];
    let second: Promise<unknown> | undefined;
    const rx = await receiver(204, async (headers) => {
      const [row] = await t.sql(`SELECT next_attempt_at FROM workflow.webhook_delivery WHERE id = $1`, [headers['x-hub-delivery']]);
      seen.push({ delivery: String(headers['x-hub-delivery']), at: Date.now(), stamped: Number(headers['x-hub-timestamp']) * 1000, leaseUntil: row.next_attempt_at.getTime() });
      // Another hub instance's pass, while this one is posting.
      second ??= deliverWebhooks(t.hub.db.ds, t.config.workflow.webhook, () => new Date(), trail(t));
      await sleep(300);
    });
    const lock = new Client({ connectionString: t.databaseUrl });
    await lock.connect();
    try {
      const hook = await register(ED, '330102001', rx.url);
      await makeRed('330102001');
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE workflow.referral IN ACCESS EXCLUSIVE MODE'); // the escalation step's first read waits
      const running = jobs();
      const released = sleep(HELD_MS)
        .then(() => lock.query('ROLLBACK'))
        .then(() => Date.now());
      const start = Date.now();
      while (!seen.length && Date.now() - start < HELD_MS + 15_000) await sleep(50);
      const releasedAt = await released;
      await running.stop();
      await second;
      expect(seen.length).toBeGreaterThan(0);
      const [first] = seen;
      expect({
        postedWhileEscalationsHeld: first.at < releasedAt,
        leaseHeldWhilePosting: first.leaseUntil > first.at,
        stampedWhenSent: first.at - first.stamped < 2000,
        postsOfIt: seen.filter((s) => s.delivery === first.delivery).length,
      }).toEqual({ postedWhileEscalationsHeld: true, leaseHeldWhilePosting: true, stampedWhenSent: true, postsOfIt: 1 });
      expect(await t.sql(`SELECT status, attempts FROM workflow.webhook_delivery WHERE webhook_id = $1`, [hook])).toEqual([{ status: 'DELIVERED', attempts: 1 }]);
    } finally {
      await lock.end();
      await close(rx.server);
    }
  });

  it('keeps delivering while the escalation step fails', async () => {
    const rx = await receiver();
    const log: string[] = [];
    try {
      await register(ED, '330102003', rx.url);
      const child = await makeRed('330102003');
      await t.sql(`ALTER TABLE workflow.referral RENAME TO referral_away`);
      try {
        const running = jobs((m) => log.push(m));
        const start = Date.now();
        while (!rx.received.length && Date.now() - start < 10_000) await sleep(50);
        await running.stop();
      } finally {
        await t.sql(`ALTER TABLE workflow.referral_away RENAME TO referral`);
      }
      expect(rx.received.map((b) => JSON.parse(b))).toEqual([expect.objectContaining({ kind: 'CHILD_RED', minorId: child })]);
      expect(log).toContainEqual(expect.stringMatching(/^\[hub\] workflow escalations failed: .*referral/));
    } finally {
      await close(rx.server);
    }
  });
});

describe('webhooks: HUB_WEBHOOK_ALLOWED_HOSTS', () => {
  const env = { HUB_DATA_DIR: process.env.HUB_TEST_DATA_DIR };
  it('is read as a case-insensitive list of host names or addresses; anything else stops the boot', () => {
    expect(loadConfig({ ...env, HUB_WEBHOOK_ALLOWED_HOSTS: ' Hooks.Edu.Gov.Internal, 10.20.30.40 ,' }).workflow.webhook).toMatchObject({
      allowedHosts: ['hooks.edu.gov.internal', '10.20.30.40'],
      strictDestinations: false,
    });
    expect(loadConfig(env).workflow.webhook.allowedHosts).toEqual([]);
    for (const bad of ['https://hooks.example', 'hooks.example:8443', '*.example', 'hooks.example/path', 'a b']) {
      expect(() => loadConfig({ ...env, HUB_WEBHOOK_ALLOWED_HOSTS: bad })).toThrow(/HUB_WEBHOOK_ALLOWED_HOSTS/);
    }
  });

  it('HUB_WEBHOOK_MAX_PER_REGION: 10 active webhooks per department and region unless set, 1–100', () => {
    expect(loadConfig(env).workflow.webhook.maxPerRegion).toBe(10);
    expect(loadConfig({ ...env, HUB_WEBHOOK_MAX_PER_REGION: '3' }).workflow.webhook.maxPerRegion).toBe(3);
    for (const bad of ['0', '101', '2.5', 'ten']) {
      expect(() => loadConfig({ ...env, HUB_WEBHOOK_MAX_PER_REGION: bad })).toThrow(/HUB_WEBHOOK_MAX_PER_REGION/);
    }
  });
});
