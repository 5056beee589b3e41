import { eventOf, eventsOf } from './support/audit-helpers';
import { identityProvider } from './support/identity-provider';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 43 (HTTP/GraphQL hardening, production mode). One gap found: a GET's event named no
 * operation, though the URL carried it. The pins hold, under NODE_ENV=production, what the README
 * promises of the HTTP surface and what a fix elsewhere in it (body parsing, CSRF, batching, the
 * POST-only route, error masking) could break.
 */
describe('production: the HTTP surface refuses before anything runs, and audits each refusal under its caller (red team 43)', () => {
  const { env, sign } = identityProvider();
  const STREET = '330102001';
  const CREATE = 'mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }';
  let t: TestHub;
  let token: string;
  let child: string;
  beforeAll(async () => {
    t = await startTestHub({ env });
    token = await sign(t.config, 'rt43-officer', { department: 'CIVIL_AFFAIRS', role: 'OFFICER', region: STREET }, 3600);
    [{ id: child }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id LIMIT 1`, [`${STREET}%`]);
  });
  afterAll(async () => {
    await t?.stop();
  });

  const referrals = async () => (await t.sql(`SELECT count(*)::int AS n FROM workflow.referral WHERE minor_id = $1`, [child]))[0].n;

  it('a mutation sent by GET, as text/plain or a form (no preflight), or in a batch, is refused: nothing written, no STARTED event, one refusal under its caller', async () => {
    expect(t.config.production).toBe(true);
    const variables = { i: { minorId: child, type: 'EDUCATION_AID', toDepartment: 'EDUCATION', need: '家庭困难，需要帮扶' } };
    const json = JSON.stringify({ query: CREATE, variables });
    const before = await referrals();
    const cases: [string, RequestInit, number][] = [
      ['GET', { method: 'GET' }, 405],
      ['text/plain', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: json }, 400],
      ['form', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `query=${encodeURIComponent(CREATE)}` }, 400],
      ['batch', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ query: CREATE, variables }]) }, 400],
    ];
    for (const [what, init, status] of cases) {
      const url = what === 'GET' ? `${t.hub.url}?query=${encodeURIComponent(CREATE)}&variables=${encodeURIComponent(JSON.stringify(variables))}` : t.hub.url;
      const res = await fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}`, 'x-purpose': 'CASE_HANDLING' } });
      const body = (await res.json()) as { data?: unknown };
      const events = await eventsOf(t, res.headers.get('x-request-id')!);
      expect([what, res.status, body.data ?? null, events.map((e) => [e.outcome, e.body.userId ?? null])]).toEqual([what, status, null, [['INVALID', 'rt43-officer']]]);
      // Production: no stack, no internals in what the refusal says.
      expect(JSON.stringify(body)).not.toMatch(/stacktrace|\bat [\w.]+ \(|node_modules/);
    }
    expect(await referrals()).toBe(before);
  });

  it('/health says only that the hub is up: no version, framework or database detail', async () => {
    const res = await fetch(t.hub.url.replace('/graphql', '/health'));
    expect([res.status, await res.json(), res.headers.get('x-powered-by'), res.headers.get('server')]).toEqual([200, { status: 'ok' }, null, null]);
  });
  /**
   * A GET was refused (405) before its query was read, and its event named no operation — no type,
   * name, document or variable HMACs — though the URL the hub received held them all (postOnly,
   * src/audit/audit.http.ts).
   */
  it('a mutation sent by GET is refused, and its event names the mutation attempted, its document and the HMACs of its variables, as a refused POST\'s does', async () => {
    const variables = { i: { minorId: child, type: 'EDUCATION_AID', toDepartment: 'EDUCATION', need: '家庭困难，需要帮扶' } };
    const query = CREATE.replace('mutation(', 'mutation Refer(');
    const res = await fetch(`${t.hub.url}?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(JSON.stringify(variables))}&operationName=Refer`, {
      headers: { authorization: `Bearer ${token}`, 'x-purpose': 'CASE_HANDLING' },
    });
    expect(res.status).toBe(405);
    const [event] = (await eventsOf(t, res.headers.get('x-request-id')!)).map((e) => e.body);
    expect([event.outcome, event.userId, event.operationType, event.operationName, event.document !== null, Object.keys(event.variables ?? {})]).toEqual([
      'INVALID',
      'rt43-officer',
      'mutation',
      'Refer',
      true,
      ['i'],
    ]);
  });

  it('pin: a GET with repeated, array-like or invalid parameters is refused 405 with one event, and names the operation when it is one', async () => {
    const base = t.hub.url;
    const urls = [
      `${base}?query=${encodeURIComponent('query Q { regions { code } }')}&query=x&operationName=Q&operationName=R`,
      `${base}?query=${encodeURIComponent('query Q($a: ID!) { minor(id: $a) { id } }')}&variables=${encodeURIComponent('{"a": ')}&operationName[]=Q`,
      `${base}?query=${encodeURIComponent('query Q($a: ID!) { minor(id: $a) { id } }')}&variables=${encodeURIComponent(JSON.stringify({ a: JSON.parse('['.repeat(1000) + ']'.repeat(1000)) }))}`,
      `${base}?variables=1&variables=2&query[a]=1`,
      `${base}?query=${encodeURIComponent('query Q($a: ID!) { minor(id: $a) { id } }')}&operationName=Q&variables=${encodeURIComponent('{"a":"x","__proto__":{"b":1}}')}`,
    ];
    for (const url of urls) {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, 'x-purpose': 'CASE_HANDLING' } });
      const requestId = res.headers.get('x-request-id')!;
      expect(res.status).toBe(405);
      const events = await eventsOf(t, requestId);
      expect(events.length).toBe(1);
    }
    const res = await fetch(`${base}?query=${encodeURIComponent('query Q($a: ID!) { minor(id: $a) { id } }')}&operationName=Q&variables=${encodeURIComponent('{"a":"x"}')}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const e = await eventOf(t, res.headers.get('x-request-id')!);
    expect(e.operationName).toBe('Q');
  });
});
