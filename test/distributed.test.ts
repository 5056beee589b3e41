import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { RemoteGraphQLDataSource } from '@apollo/gateway';
import { Client } from 'pg';
import { decodeJwt, SignJWT } from 'jose';
import { Department, Role } from '../src/auth/principal';
import { chinaDay, yearsBefore } from '../src/common/dates';
import type { HubConfig } from '../src/config/hub.config';
import * as assertions from '../src/gateway/gateway-assertion';
import { ASSERTION_HEADER, requestDigest, signAssertion, verifyAssertion } from '../src/gateway/gateway-assertion';
import { gatewaySecret } from '../src/config/secrets';
import { SignedRemoteDataSource } from '../src/gateway/signed-remote.data-source';
import { startSubgraphServer, SubgraphServer } from '../src/server/subgraph.server';
import { eventOf, eventsOf, post } from './support/audit-helpers';
import { cloneTemplateDatabase, errorCodes, postAsGateway, postGraphQL, sendRaw, startTestHub, TestHub, testConfig } from './support/test-hub';

/**
 * An assertion signed by hand with the gateway's secret, to the registry, with claims or times
 * `signAssertion` would never write: `iat`/`exp` in seconds (now and 15 s after it unless given).
 */
function handSigned(
  secret: Uint8Array,
  principal: { userId: string; department: Department; role: Role; region: string },
  claims: Record<string, unknown>,
  times: { iat?: number; exp?: number | string } = {},
): Promise<string> {
  return new SignJWT({ department: principal.department, role: principal.role, region: principal.region, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(principal.userId)
    .setIssuer('hub-gateway')
    .setAudience('subgraph:registry')
    .setIssuedAt(times.iat)
    .setExpirationTime(times.exp ?? '15s')
    .setJti(randomUUID())
    .sign(secret);
}

/**
 * Distributed mode: the registry subgraph served alone over HTTP, the gateway given its URL (the
 * others stay in-process). The subgraph answers only the gateway's signed requests.
 */
describe('distributed mode', () => {
  let subgraph: SubgraphServer;
  /** Served alone for their `_entities` only; the hub runs them in-process. */
  const alone: Record<string, SubgraphServer> = {};
  let t: TestHub;
  const secret = 'test-gateway-secret-of-sufficient-length';
  /** The subgraphs' configuration: their clock's offset is moved with it. */
  let config: HubConfig;

  beforeAll(async () => {
    const databaseUrl = await cloneTemplateDatabase();
    config = testConfig({ databaseUrl, gatewaySecret: secret });
    subgraph = await startSubgraphServer('registry', config, 0);
    for (const name of ['police', 'workflow']) alone[name] = await startSubgraphServer(name, config, 0);
    // No job timer in the hub: what the workflow jobs do is a subgraph process's below.
    t = await startTestHub({ databaseUrl, gatewaySecret: secret, subgraphUrls: { registry: subgraph.url } });
  });
  afterAll(async () => {
    await t?.stop();
    await subgraph?.stop();
    for (const s of Object.values(alone)) await s.stop();
  });

  it('serves the same policy through the gateway over HTTP', async () => {
    const r = await t.gql(await t.token(Department.EDUCATION), `{ minors(first: 1, filter: { riskLevels: [RED] }) { edges { node { idNumber birthDate } } } }`);
    expect(r.data.minors.edges[0].node.idNumber).toMatch(/^\d{6}\*{12}$/);
    expect(r.data.minors.edges[0].node.birthDate).toBeNull();
    expect(errorCodes(r)).toEqual(['FORBIDDEN']);
    expect(r.errors![0].path).toEqual(['minors', 'edges', 0, 'node', 'birthDate']);
  });

  it('brings back what the remote subgraph read into the gateway’s audit event, and only there', async () => {
    const r = await post(t, await t.token(Department.EDUCATION, { user: 'remote-reader' }), { query: `{ minors(first: 2) { edges { node { id idNumber } } } }` });
    expect(r.json.extensions?.hubAccess).toBeUndefined();
    const ids = r.json.data.minors.edges.map((e: any) => e.node.id).sort();
    const e = await eventOf(t, r.requestId);
    expect(e.reads).toEqual(ids.map((minorId: string) => ({ minorId, fields: { 'MinorEdge.node': 'ALLOW', 'Minor.id': 'ALLOW', 'Minor.idNumber': 'MASK' } })));
  });

  it('refuses a client calling the subgraph directly, with or without a client token', async () => {
    const clientToken = await t.token(Department.CIVIL_AFFAIRS);
    for (const token of [null, clientToken]) {
      const r = await postGraphQL(subgraph.url, token, `{ minors(first: 1) { totalCount } }`);
      expect(r.status).toBe(401);
      expect(errorCodes(r)).toEqual(['UNAUTHENTICATED']);
      expect(r.data).toBeUndefined();
    }
    // A client token passed off as the gateway's assertion is not one.
    const r = await postGraphQL(subgraph.url, null, `{ minors(first: 1) { totalCount } }`, undefined, { [ASSERTION_HEADER]: clientToken });
    expect(errorCodes(r)).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses an assertion signed with another secret or addressed to another subgraph', async () => {
    const principal = { userId: 'u', department: Department.POLICE, role: Role.OFFICER, region: '330102' };
    const query = `{ regions { code } }`;
    const wrongKey = await signAssertion(new TextEncoder().encode('some-other-secret-some-other-secret'), 'registry', { principal, requestId: 'r1' }, { query });
    const wrongAudience = await signAssertion(gatewaySecret(t.config), 'education', { principal, requestId: 'r2' }, { query });
    const expired = await handSigned(gatewaySecret(t.config), principal, { rid: 'r3', req: requestDigest({ query }) }, { iat: Math.floor(Date.now() / 1000) - 60, exp: Math.floor(Date.now() / 1000) - 45 });
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      for (const assertion of [wrongKey, wrongAudience, expired]) {
        const r = await postGraphQL(subgraph.url, null, query, undefined, { [ASSERTION_HEADER]: assertion });
        expect(errorCodes(r)).toEqual(['UNAUTHENTICATED']);
        expect(r.errors![0].message).toBe('Invalid gateway signature');
      }
      // Each refusal logged by the subgraph with its reason, for operators watching for interception;
      // never the token, and no request id the signature does not vouch for.
      const lines = log.mock.calls.map((c) => c.join(' '));
      expect(lines).toEqual([
        expect.stringMatching(/^\[subgraph registry\] refused a gateway assertion: bad signature from \S+$/),
        expect.stringMatching(/^\[subgraph registry\] refused a gateway assertion: wrong audience from \S+$/),
        expect.stringMatching(/^\[subgraph registry\] refused a gateway assertion: expired from \S+$/),
      ]);
      for (const token of [wrongKey, wrongAudience, expired]) for (const part of token.split('.')) expect(lines.join('\n')).not.toContain(part);
    } finally {
      log.mockRestore();
    }
  });

  it('carries the declared purpose to the subgraph inside the signed assertion (field grants depend on it)', async () => {
    const principal = { userId: 'u', department: Department.EDUCATION, role: Role.OFFICER, region: '330102' };
    const purpose = { code: 'REFERRAL', reference: '转介-0042' } as const;
    const request = { query: `{ regions { code } }` };
    const token = await signAssertion(gatewaySecret(t.config), 'registry', { principal, requestId: 'r5', purpose: purpose as never }, request);
    expect(await verifyAssertion(gatewaySecret(t.config), 'registry', token, request)).toEqual({ principal, requestId: 'r5', purpose, digest: requestDigest(request) });
  });

  it('carries the grant the gateway settled for a referral purpose, and refuses one that is no grant or comes without its purpose', async () => {
    const principal = { userId: 'u', department: Department.EDUCATION, role: Role.OFFICER, region: '330102' };
    const purpose = { code: 'REFERRAL', reference: '8d0f3b7e-2a44-4c1e-9a51-0c0f5e0b1a11' } as never;
    const request = { query: `{ regions { code } }` };
    const grant = { minorId: '01666e24-a0ad-4f16-8a88-56a9bc69bebc', fields: new Set(['Minor.currentAddress', 'Guardian.phone']) };
    const sign = (a: object) => signAssertion(gatewaySecret(t.config), 'registry', { principal, requestId: 'r6', ...a }, request);
    expect((await verifyAssertion(gatewaySecret(t.config), 'registry', await sign({ purpose, grant }), request)).grant).toEqual(grant);
    for (const bad of [{ purpose, grant: { minorId: 'not-a-child', fields: new Set() } }, { grant }]) {
      await expect(verifyAssertion(gatewaySecret(t.config), 'registry', await sign(bad), request)).rejects.toMatchObject({ reason: 'bad claims' });
    }
  });

  it('signs assertions valid for 15 s: a captured one is soon useless', async () => {
    const principal = { userId: 'u', department: Department.EDUCATION, role: Role.OFFICER, region: '330102' };
    const { iat, exp } = decodeJwt(await signAssertion(gatewaySecret(t.config), 'registry', { principal, requestId: 'r-life' }, { query: '{ regions { code } }' }));
    expect(exp! - iat!).toBe(15);
  });

  describe('an assertion bound to the request it accompanies', () => {
    interface Captured {
      assertion: string;
      query: string;
      operationName?: string;
      variables?: Record<string, unknown>;
    }

    /** The gateway's fetches to the remote registry while `ask` runs, with the assertion each carried. */
    async function capture(ask: () => Promise<unknown>): Promise<Captured[]> {
      const spy = jest.spyOn(SignedRemoteDataSource.prototype, 'willSendRequest');
      try {
        await ask();
        return spy.mock.calls.map(([{ request }]) => ({
          assertion: request.http!.headers.get(ASSERTION_HEADER)!,
          query: request.query!,
          operationName: request.operationName,
          variables: request.variables,
        }));
      } finally {
        spy.mockRestore();
      }
    }

    /** What someone holding a captured assertion would send to the subgraph. */
    async function replay(assertion: string, body: Record<string, unknown>) {
      const res = await fetch(subgraph.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [ASSERTION_HEADER]: assertion },
        body: JSON.stringify(body),
      });
      return { status: res.status, ...((await res.json()) as { data?: any; errors?: any[] }) };
    }

    it('refuses a captured assertion sent with another query: 401, UNAUTHENTICATED, no data', async () => {
      const [sent] = await capture(async () => t.gql(await t.token(Department.EDUCATION), `query Codes { regions { code } }`, undefined));
      expect(sent.assertion).toBeTruthy();
      const r = await replay(sent.assertion, { query: `{ minors(first: 3) { edges { node { name idNumber } } } }` });
      expect(r.status).toBe(401);
      expect(r.errors!.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
      expect(r.errors![0].message).toBe('Invalid gateway signature');
      expect(r.data).toBeUndefined();
      // Nor with the query it was signed for under another operation name.
      const renamed = await replay(sent.assertion, { query: sent.query, operationName: 'Other', variables: sent.variables });
      expect(renamed.status).toBe(401);
      expect(renamed.data).toBeUndefined();
    });

    it('refuses a captured assertion sent with other variables', async () => {
      const query = `query($first: Int) { minors(first: $first) { edges { node { id idNumber } } } }`;
      const [sent] = await capture(async () => t.gql(await t.token(Department.CIVIL_AFFAIRS), query, { first: 1 }));
      expect(sent.variables).toEqual({ first: 1 });
      for (const variables of [{ first: 3 }, {}, null]) {
        const r = await replay(sent.assertion, { query: sent.query, operationName: sent.operationName, variables });
        expect(r.status).toBe(401);
        expect(r.errors!.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
        expect(r.data).toBeUndefined();
      }
    });

    const principal = { userId: 'u', department: Department.CIVIL_AFFAIRS, role: Role.OFFICER, region: '330102' };

    it('refuses an assertion signed for one query and sent with another, or signed with other variables', async () => {
      const minors = `query($first: Int) { minors(first: $first) { edges { node { name idNumber } } } }`;
      for (const [signed, sent] of [
        [{ query: `{ regions { code } }` }, { query: minors, variables: { first: 3 } }],
        [{ query: minors, variables: { first: 1 } }, { query: minors, variables: { first: 3 } }],
      ]) {
        const assertion = await signAssertion(gatewaySecret(t.config), 'registry', { principal, requestId: 'bound' }, signed);
        const r = await postGraphQL(subgraph.url, null, sent.query, sent.variables, { [ASSERTION_HEADER]: assertion });
        expect(r.status).toBe(401);
        expect(errorCodes(r)).toEqual(['UNAUTHENTICATED']);
        expect(r.data).toBeUndefined();
      }
    });

    it('refuses an assertion without the request binding, and a request without a query', async () => {
      const query = `{ regions { code } }`;
      const unbound = await handSigned(gatewaySecret(t.config), principal, { rid: 'unbound' });
      expect(errorCodes(await postGraphQL(subgraph.url, null, query, undefined, { [ASSERTION_HEADER]: unbound }))).toEqual(['UNAUTHENTICATED']);
      // Signed for "no query": nothing for the subgraph to run, and refused before it tries.
      const forNothing = await signAssertion(gatewaySecret(t.config), 'registry', { principal, requestId: 'empty' }, {});
      const r = await fetch(subgraph.url, { method: 'POST', headers: { 'content-type': 'application/json', [ASSERTION_HEADER]: forNothing }, body: '{}' });
      expect(r.status).toBe(401);
    });

    it('accepts an assertion once, with exactly the request it was signed for', async () => {
      const request = { query: `query Few($first: Int) { minors(first: $first) { totalCount } }`, operationName: 'Few', variables: { first: 1 } };
      const assertion = await signAssertion(gatewaySecret(t.config), 'registry', { principal, requestId: 'once' }, request);
      const r = await replay(assertion, request);
      expect(r.errors).toBeUndefined();
      expect(r.data.minors.totalCount).toEqual(expect.any(Number));
      // Presented again, within its 15 s: a replay, refused and logged as one.
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        const again = await replay(assertion, request);
        expect([again.status, again.data, again.errors!.map((e) => e.extensions?.code)]).toEqual([401, undefined, ['UNAUTHENTICATED']]);
        expect(log.mock.calls.map((c) => c.join(' '))).toEqual([expect.stringMatching(/^\[subgraph registry\] refused a gateway assertion: replayed \(request once\) from \S+$/)]);
      } finally {
        log.mockRestore();
      }
    });

    it('refuses a captured assertion sent as a GET — its signed body, another query in the URL — or POSTed with a query string; the gateway’s own fetch still runs', async () => {
      // Apollo Server runs a GET's query from its URL: the body would pass the binding, the URL's query would run.
      const other = `{ minors(first: 5) { edges { node { name idNumber currentAddress guardians { phone } } } } }`;
      const willSendRequest = SignedRemoteDataSource.prototype.willSendRequest;
      const taken: { status: number; allow?: string; json: any }[] = [];
      // Someone on the gateway→subgraph channel, quicker than the gateway.
      const spy = jest.spyOn(SignedRemoteDataSource.prototype, 'willSendRequest').mockImplementation(async function (this: SignedRemoteDataSource, opts) {
        await willSendRequest.call(this, opts);
        const { request } = opts;
        const headers = { 'content-type': 'application/json', [ASSERTION_HEADER]: request.http!.headers.get(ASSERTION_HEADER)! };
        const signed = JSON.stringify({ query: request.query, operationName: request.operationName, variables: request.variables });
        for (const method of ['GET', 'POST']) taken.push(await sendRaw(`${subgraph.url}?query=${encodeURIComponent(other)}`, method, headers, signed));
      });
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        const r = await post(t, await t.token(Department.CIVIL_AFFAIRS, { user: 'regions-only' }), { query: `query Codes { regions { code } }` });
        expect(taken.map((x) => [x.status, x.json.data, x.json.errors.map((e: any) => e.extensions.code)])).toEqual([
          [405, undefined, ['BAD_REQUEST']],
          [400, undefined, ['BAD_REQUEST']],
        ]);
        expect(taken[0].allow).toBe('POST');
        // Refused before the assertion was spent: the gateway's fetch with it is served, nothing in doubt.
        expect(r.json.errors).toBeUndefined();
        expect(r.json.data.regions.length).toBeGreaterThan(0);
        expect([(await eventOf(t, r.requestId)).outcome, (await eventOf(t, r.requestId)).errorCodes]).toEqual(['SUCCESS', []]);
        // Each logged as the subgraph's other refusals are, with the request whose assertion was taken.
        expect(log.mock.calls.map((c) => c.map(String).join(' ')).filter((l) => l.startsWith('[subgraph'))).toEqual([
          expect.stringMatching(new RegExp(`^\\[subgraph registry\\] refused a request: not POST \\(request ${r.requestId}\\) from \\S+$`)),
          expect.stringMatching(new RegExp(`^\\[subgraph registry\\] refused a request: query string \\(request ${r.requestId}\\) from \\S+$`)),
        ]);
      } finally {
        spy.mockRestore();
        log.mockRestore();
      }
    });

    it('runs only the request the assertion was signed for as Apollo Server parsed it, whatever body the binding was checked against', async () => {
      const signed = { query: `{ regions { code } }` };
      const assertion = await signAssertion(gatewaySecret(t.config), 'registry', { principal, requestId: 'parsed' }, signed);
      // A transport by which the body checked is not the request that runs, as a GET's was.
      const verify = assertions.verifyAssertion;
      const spy = jest.spyOn(assertions, 'verifyAssertion').mockImplementation((secret, name, token, _body, replays) => verify(secret, name, token, signed, replays));
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        const r = await postGraphQL(subgraph.url, null, `{ minors(first: 3) { edges { node { name idNumber } } } }`, undefined, { [ASSERTION_HEADER]: assertion });
        expect(spy).toHaveBeenCalled();
        expect([r.status, r.data, errorCodes(r)]).toEqual([401, undefined, ['UNAUTHENTICATED']]);
        expect(log.mock.calls.map((c) => c.join(' '))).toEqual([expect.stringMatching(/^\[subgraph registry\] refused a gateway assertion: other request \(request parsed\) from \S+$/)]);
      } finally {
        spy.mockRestore();
        log.mockRestore();
      }
    });

    it('refuses a captured assertion replayed with its own request: a mutation does not run twice', async () => {
      const [child] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' ORDER BY id LIMIT 1`);
      const visits = async () => (await t.sql(`SELECT count(*)::int AS n FROM registry.visit WHERE minor_id = $1`, [child.id]))[0].n;
      const before = await visits();
      const [sent] = await capture(async () =>
        t.gql(await t.token(Department.CIVIL_AFFAIRS), `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "家访" }) { visitedAt } }`, { id: child.id }),
      );
      expect(await visits()).toBe(before + 1);
      const r = await replay(sent.assertion, { query: sent.query, operationName: sent.operationName, variables: sent.variables });
      expect([r.status, r.data]).toEqual([401, undefined]);
      expect(await visits()).toBe(before + 1);
    });

    it('carries the time the gateway waits for the fetch: past it the subgraph commits nothing; an assertion without it (a gateway of the release before) runs without a deadline', async () => {
      const [child] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' AND birth_date > now() - interval '15 years' ORDER BY id OFFSET 1 LIMIT 1`);
      const visits = async () => (await t.sql(`SELECT count(*)::int AS n FROM registry.visit WHERE minor_id = $1`, [child.id]))[0].n;
      const request = { query: `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "家访" }) { id } }`, variables: { id: child.id } };
      const [sent] = await capture(async () => t.gql(await t.token(Department.CIVIL_AFFAIRS), request.query, request.variables));
      expect(decodeJwt(sent.assertion).budgetMs).toBe(t.config.subgraphTimeoutMs);
      /** The visit sent with `budgetMs` while another session holds the child's row for 1.2 s. */
      const visitHeld = async (budgetMs: number | undefined) => {
        const locker = new Client({ connectionString: t.databaseUrl });
        await locker.connect();
        await locker.query('BEGIN');
        await locker.query('SELECT 1 FROM registry.minor WHERE id = $1 FOR UPDATE', [child.id]);
        const held = new Promise((r) => setTimeout(r, 1_200)).then(() => locker.query('COMMIT')).then(() => locker.end());
        const assertion = await signAssertion(gatewaySecret(t.config), 'registry', { principal, requestId: randomUUID(), budgetMs }, request);
        const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
        try {
          const r = await replay(assertion, request);
          await held;
          return { ...r, logged: log.mock.calls.map((c) => c.join(' ')) };
        } finally {
          log.mockRestore();
        }
      };
      // 1 s to answer: the row comes free after the deadline (a quarter of it kept for the way back).
      let before = await visits();
      const late = await visitHeld(1_000);
      expect([late.status, late.data, late.errors!.map((e) => [e.message, e.extensions?.code])]).toEqual([
        200,
        { recordVisit: null },
        [['The database did not answer in time; try again shortly', 'DATABASE_UNAVAILABLE']],
      ]);
      expect(late.logged).toEqual([expect.stringMatching(/^\[subgraph registry\] request \S+: past the gateway's deadline, a transaction rolled back before its commit$/)]);
      expect(await visits()).toBe(before);
      // No budget: waited for as long as the statement limit allows, and committed.
      before = await visits();
      const old = await visitHeld(undefined);
      expect([old.status, old.errors, old.data.recordVisit.id]).toEqual([200, undefined, expect.any(String)]);
      expect(await visits()).toBe(before + 1);
      // A budget that is not a whole number of ms within HUB_SUBGRAPH_TIMEOUT_MS's bounds is refused.
      for (const budgetMs of [0, 1.5, 600_001, '3000']) {
        const assertion = await signAssertion(gatewaySecret(t.config), 'registry', { principal, requestId: 'budget', budgetMs: budgetMs as number }, request);
        const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
        const r = await replay(assertion, request);
        const logged = log.mock.calls.map((c) => c.join(' '));
        log.mockRestore();
        expect([r.status, r.data, r.errors!.map((e) => e.extensions?.code), logged]).toEqual([
          401,
          undefined,
          ['UNAUTHENTICATED'],
          [expect.stringMatching(/refused a gateway assertion: bad claims \(request budget\)/)],
        ]);
      }
      expect(await visits()).toBe(before + 1);
    });
  });

  describe('the request’s instant, carried in the assertion', () => {
    const principal = { userId: 'u', department: Department.CIVIL_AFFAIRS, role: Role.OFFICER, region: '330102' };
    let child: { id: string; birth: string };
    /** The next midnight in China, on which `child` turns 18. */
    let midnight: number;

    beforeAll(async () => {
      [child] = await t.sql(`SELECT m.id, m.birth_date::text AS birth FROM registry.minor m WHERE m.grid_code LIKE '330102001%' AND EXISTS (SELECT 1 FROM education.dropout_report r WHERE r.minor_id = m.id) ORDER BY m.id LIMIT 1`);
      midnight = Date.parse(`${chinaDay(new Date(Date.now() + 86_400_000))}T00:00:00+08:00`);
      await t.sql(`UPDATE registry.minor SET birth_date = $2 WHERE id = $1`, [child.id, yearsBefore(new Date(midnight), 18)]);
    });
    afterAll(async () => {
      config.workflow.clockOffsetMs = 0;
      t.config.workflow.clockOffsetMs = 0;
      await t.sql(`UPDATE registry.minor SET birth_date = $2 WHERE id = $1`, [child.id, child.birth]);
    });

    it('is the same in every fetch of a request, and the subgraph serves the fetch by it, not by its own clock', async () => {
      const token = await t.token(Department.EDUCATION, { region: '330102001' });
      const spy = jest.spyOn(SignedRemoteDataSource.prototype, 'willSendRequest');
      const before = Date.now();
      let r, claims;
      try {
        r = await t.gql(token, `query($id: ID!) { minor(id: $id) { id age } dropoutReports(first: 1000) { nodes { minor { id age } } } }`, { id: child.id });
        claims = spy.mock.calls.map(([{ request }]) => decodeJwt(request.http!.headers.get(ASSERTION_HEADER)!));
      } finally {
        spy.mockRestore();
      }
      expect(r.errors).toBeUndefined();
      // The child at the top and the reports' children: two fetches to the remote registry, one instant, taken as the request arrived.
      expect(claims).toHaveLength(2);
      expect(claims[1].at).toBe(claims[0].at);
      expect(claims[0].at).toEqual(expect.any(Number));
      expect([before <= (claims[0].at as number), (claims[0].at as number) <= Date.now()]).toEqual([true, true]);
      for (const c of claims) expect(c.ageMs).toEqual(expect.any(Number));

      // A fetch signed 10 s after that midnight reaches a subgraph whose clock reads 5 s before it.
      config.workflow.clockOffsetMs = midnight - 5_000 - Date.now();
      const request = { query: `query($id: ID!) { minor(id: $id) { id age } }`, variables: { id: child.id } };
      const ask = async (assertion: { now?: Date; ageMs?: number }) =>
        postGraphQL(subgraph.url, null, request.query, request.variables, {
          [ASSERTION_HEADER]: await signAssertion(gatewaySecret(t.config), 'registry', { principal, requestId: randomUUID(), ...assertion }, request),
        });
      const subgraphClock = () => Date.now() + config.workflow.clockOffsetMs;
      expect((await ask({ now: new Date(subgraphClock() + 10_000) })).data).toEqual({ minor: null });
      // A request that had run 50 s when this fetch was signed: its instant is the one that counts.
      expect((await ask({ now: new Date(subgraphClock() - 50_000), ageMs: 50_000 })).data).toEqual({ minor: { id: child.id, age: 17 } });
      // An assertion of a gateway of the release before carries none: the subgraph's own clock.
      expect((await ask({})).data).toEqual({ minor: { id: child.id, age: 17 } });
    });

    it('is refused, and logged, when the gateway’s clock as it signed was more than 15 s from the subgraph’s; refused as bad claims when it is no instant', async () => {
      config.workflow.clockOffsetMs = midnight - 5_000 - Date.now();
      const subgraphClock = () => Date.now() + config.workflow.clockOffsetMs;
      const request = { query: `query($id: ID!) { minor(id: $id) { id age } }`, variables: { id: child.id } };
      const refused = async (claims: Record<string, unknown>) => {
        const assertion = await handSigned(gatewaySecret(t.config), principal, { rid: 'clock', req: requestDigest(request), ...claims });
        const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
        try {
          const r = await postGraphQL(subgraph.url, null, request.query, request.variables, { [ASSERTION_HEADER]: assertion });
          return [r.status, r.data, errorCodes(r), log.mock.calls.map((c) => c.join(' '))];
        } finally {
          log.mockRestore();
        }
      };
      const skew = [401, undefined, ['UNAUTHENTICATED'], [expect.stringMatching(/^\[subgraph registry\] refused a gateway assertion: clock skew \(request clock\) from \S+$/)]];
      // Ahead of the subgraph's clock, behind it, and behind it by more than the request's age.
      expect(await refused({ at: subgraphClock() + 20_000, ageMs: 0 })).toEqual(skew);
      expect(await refused({ at: subgraphClock() - 20_000, ageMs: 0 })).toEqual(skew);
      expect(await refused({ at: subgraphClock() - 60_000, ageMs: 40_000 })).toEqual(skew);
      const bad = [401, undefined, ['UNAUTHENTICATED'], [expect.stringMatching(/refused a gateway assertion: bad claims \(request clock\)/)]];
      for (const claims of [{ ageMs: 0 }, { at: subgraphClock() }, { at: subgraphClock() + 0.5, ageMs: 0 }, { at: subgraphClock() + 1_000, ageMs: -1_000 }, { at: String(subgraphClock()), ageMs: 0 }]) {
        expect(await refused(claims)).toEqual(bad);
      }
    });
  });

  it('refuses an assertion whose region is no region code, though signed with the gateway’s secret', async () => {
    for (const region of ['', '%', '330102%', '3301O2']) {
      const r = await postAsGateway(t.config, subgraph.url, 'registry', { userId: 'u', department: Department.POLICE, role: Role.OFFICER, region }, `{ minors(first: 1) { totalCount } }`, {});
      expect([r.status, r.data, errorCodes(r)]).toEqual([401, undefined, ['UNAUTHENTICATED']]);
    }
  });

  it('refuses an assertion whose subject no client token could carry, though signed with the gateway’s secret', async () => {
    // A NUL or an unpaired surrogate could not be written to the trail (the event's user_id); an empty or padded id, or one
    // mimicking the hub's own, could be mistaken for another by an auditor.
    for (const userId of ['', 'a\u0000b', 'a\ud800b', ' u', 'hub:webhook-delivery']) {
      const r = await postAsGateway(t.config, subgraph.url, 'registry', { userId, department: Department.POLICE, role: Role.OFFICER, region: '330102' }, `{ minors(first: 1) { totalCount } }`, {});
      expect([userId, r.status, r.data, errorCodes(r)]).toEqual([userId, 401, undefined, ['UNAUTHENTICATED']]);
    }
    const r = await postAsGateway(t.config, subgraph.url, 'registry', { userId: 'u', department: Department.POLICE, role: Role.OFFICER, region: '330102' }, `{ minors(first: 1) { totalCount } }`, {});
    expect([r.status, r.errors]).toEqual([200, undefined]);
  });

  it('limits `_entities` to the jurisdiction in the gateway’s assertion', async () => {
    const [inside] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
    const [outside] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code NOT LIKE '330102001%' ORDER BY id LIMIT 1`);
    const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Minor { id name } } }`;
    const variables = { r: [{ __typename: 'Minor', id: inside.id }, { __typename: 'Minor', id: outside.id }, { __typename: 'Minor', id: '00000000-0000-4000-8000-000000000000' }] };
    const r = await postAsGateway(t.config, subgraph.url, 'registry', { userId: 'u', department: Department.POLICE, role: Role.OFFICER, region: '330102001' }, query, variables);
    expect(r.errors).toBeUndefined();
    expect(r.data._entities).toEqual([{ id: inside.id, name: expect.any(String) }, null, null]);
  });

  it('applies field policy to entities too', async () => {
    const [m] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
    const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Minor { idNumber birthDate } } }`;
    const variables = { r: [{ __typename: 'Minor', id: m.id }] };
    const r = await postAsGateway(t.config, subgraph.url, 'registry', { userId: 'u', department: Department.EDUCATION, role: Role.OFFICER, region: '330102' }, query, variables);
    expect(r.data._entities[0].idNumber).toMatch(/^\d{6}\*{12}$/);
    expect(r.data._entities[0].birthDate).toBeNull();
    expect(errorCodes(r)).toEqual(['FORBIDDEN']);
  });

  it('masks a database error of the remote subgraph as in process, logged once, where it happened', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
    // Valid input the database then refuses (a trigger standing in for any database failure).
    await t.sql(`CREATE FUNCTION registry.fail_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom in registry.risk_assessment'; END $$`);
    await t.sql(`CREATE TRIGGER fail_write BEFORE INSERT ON registry.risk_assessment FOR EACH ROW EXECUTE FUNCTION registry.fail_write()`);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const r = await t.gql(await t.token(Department.CIVIL_AFFAIRS), `mutation($id: ID!, $reasons: String!) { recordAssessment(minorId: $id, input: { level: RED, reasons: $reasons }) { id } }`, {
        id,
        reasons: 'a reason',
      });
      expect(r.errors).toEqual([{ message: 'Internal server error', path: ['recordAssessment'], extensions: { code: 'INTERNAL_SERVER_ERROR', serviceName: 'registry' } }]);
      const logged = log.mock.calls.filter(([m]) => m === '[hub] unexpected error');
      expect(logged).toHaveLength(1);
      expect(String(logged[0][1])).toContain('boom in registry.risk_assessment');
    } finally {
      log.mockRestore();
      await t.sql(`DROP TRIGGER fail_write ON registry.risk_assessment`);
      await t.sql(`DROP FUNCTION registry.fail_write()`);
    }
  });

  it('refuses a DateTimeISO variable or literal the registry would refuse at the gateway, before any subgraph is called', async () => {
    // The supergraph checks DateTimeISO as the subgraphs do (checkCustomScalars): as an in-process hub.
    const before = '-005000-01-01T00:00:00.000Z';
    const variable = await post(t, await t.token(Department.CIVIL_AFFAIRS), {
      query: `query($before: DateTimeISO) { minors(first: 1, filter: { nextVisitDueBefore: $before }) { totalCount } }`,
      variables: { before },
    });
    const literal = await post(t, await t.token(Department.CIVIL_AFFAIRS), { query: `{ minors(first: 1, filter: { nextVisitDueBefore: "not-a-date" }) { totalCount } }` });
    const at = (column: number) => [{ line: 1, column }];
    expect([variable.status, variable.json]).toEqual([
      400,
      { errors: [{ message: `Variable "$before" got invalid value "${before}"; DateTime cannot represent an invalid date-time-string ${before}.`, locations: at(7), extensions: { code: 'BAD_USER_INPUT' } }] },
    ]);
    expect([literal.status, literal.json]).toEqual([
      400,
      { errors: [{ message: 'DateTime cannot represent an invalid date-time-string not-a-date.', locations: at(50), extensions: { code: 'BAD_USER_INPUT' } }] },
    ]);
    for (const r of [variable, literal]) {
      const e = await eventOf(t, r.requestId);
      expect([e.outcome, e.errorCodes]).toEqual(['INVALID', ['BAD_USER_INPUT']]);
    }
  });

  it('a workflow subgraph process audits its webhook deliveries itself, on the same trail, before it sends them', async () => {
    const received: string[] = [];
    const rx = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => rx.listen(0, '127.0.0.1', resolve));
    let jobs: SubgraphServer | undefined;
    try {
      const street = '330102003';
      const url = `http://127.0.0.1:${(rx.address() as AddressInfo).port}/hook`;
      const reg = await t.gql(await t.token(Department.EDUCATION, { region: street, user: 'ed-distributed' }), `mutation($url: String!) { registerWebhook(url: $url) { webhook { id } } }`, { url });
      expect(reg.errors).toBeUndefined();
      const [c] = await t.sql(`SELECT id FROM registry.minor WHERE risk_level <> 'RED' AND grid_code LIKE $1 ORDER BY id LIMIT 1`, [`${street}%`]);
      const assess = await t.gql(await t.token(Department.CIVIL_AFFAIRS), `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: RED, reasons: "distributed webhook" }) { id } }`, { id: c.id });
      expect(assess.errors).toBeUndefined();

      // `npm run subgraph -- workflow` with its timer on: the only process delivering.
      jobs = await startSubgraphServer('workflow', testConfig({ databaseUrl: t.databaseUrl, gatewaySecret: secret, env: { HUB_WORKFLOW_JOB_INTERVAL_MS: '50' } }), 0);
      const sent = () => received.map((b) => JSON.parse(b)).filter((b) => b.minorId === c.id);
      for (const until = Date.now() + 20_000; !sent().length && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
      await jobs.stop(); // waits for the pass under way and the writer
      jobs = undefined;
      const [delivered] = sent();
      expect(delivered).toMatchObject({ kind: 'CHILD_RED', department: Department.EDUCATION });

      const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: street });
      const h = await t.gql(auditor, `query($id: ID!) { minorAccessHistory(minorId: $id) { userId department role outcome fields { field } } }`, { id: c.id }, {});
      expect(h.errors).toBeUndefined();
      expect(h.data.minorAccessHistory.filter((e: any) => e.userId === 'hub:webhook-delivery')).toEqual([
        { userId: 'hub:webhook-delivery', department: Department.EDUCATION, role: null, outcome: 'SUCCESS', fields: Object.keys(delivered.payload).sort().map((field) => ({ field })) },
      ]);
      // One chain for both writers.
      expect((await t.gql(await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR }), `{ auditVerify { ok } }`, {}, {})).data.auditVerify).toEqual({ ok: true });
    } finally {
      await jobs?.stop();
      await new Promise<void>((resolve) => rx.close(() => resolve()));
    }
  });

  describe('a remote answer that does not come back: the event is in doubt, and flagged', () => {
    const visit = `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "家访" }) { id } }`;
    const read = `query($id: ID!) { minor(id: $id) { name idNumber } }`;
    const inDoubt = ['INTERNAL_SERVER_ERROR', 'SUBGRAPH_ANSWER_LOST', 'SUBGRAPH_ANSWER_LOST:registry'];
    let child: string;
    const visits = async () => (await t.sql(`SELECT count(*)::int AS n FROM registry.visit WHERE minor_id = $1`, [child]))[0].n;

    beforeAll(async () => {
      [{ id: child }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' ORDER BY id OFFSET 2 LIMIT 1`);
    });

    /** Runs `ask` with every remote fetch's answer lost once the subgraph has answered (a connection reset on the way back). */
    async function losingAnswers<T>(ask: () => Promise<T>): Promise<{ result: T; logged: string[] }> {
      const proto = RemoteGraphQLDataSource.prototype as any;
      const sendRequest = proto.sendRequest;
      proto.sendRequest = async function (this: unknown, ...args: unknown[]) {
        await sendRequest.apply(this, args);
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      };
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        const result = await ask();
        return { result, logged: log.mock.calls.map((c) => c.map(String).join(' ')) };
      } finally {
        proto.sendRequest = sendRequest;
        log.mockRestore();
      }
    }

    /** The user's ACCESS_IN_DOUBT flags (other flags depend on the hour the test runs). */
    async function flagsOf(userId: string) {
      const r = await t.gql(await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR }), `{ auditAnomalies { kind userId department count description requestIds } }`, undefined, {});
      expect(r.errors).toBeUndefined();
      return r.data.auditAnomalies.filter((f: any) => f.userId === userId && f.kind === 'ACCESS_IN_DOUBT');
    }

    /** What the client got: the masked error it gets today, nothing of the loss or of the subgraph. */
    function expectMasked(json: any) {
      expect(json.errors.map((e: any) => [e.message, e.extensions])).toEqual([['Internal server error', { code: 'INTERNAL_SERVER_ERROR', serviceName: 'registry' }]]);
      expect(JSON.stringify(json)).not.toMatch(/SUBGRAPH_ANSWER_LOST|ECONNRESET|socket|localhost|127\.0\.0\.1|hubAccess/);
    }

    it('a mutation whose answer is lost after its commit: its final event says so, and auditAnomalies flags it', async () => {
      const before = await visits();
      const { result: r } = await losingAnswers(async () => post(t, await t.token(Department.CIVIL_AFFAIRS, { user: 'lost-writer' }), { query: visit, variables: { id: child } }));
      expectMasked(r.json);
      expect(await visits()).toBe(before + 1); // the subgraph did write
      const events = await eventsOf(t, r.requestId);
      expect(events.map((e) => [e.outcome, e.body.errorCodes, e.body.changes])).toEqual([
        ['STARTED', [], []],
        ['ERROR', inDoubt, []],
      ]);
      expect(await flagsOf('lost-writer')).toEqual([
        {
          kind: 'ACCESS_IN_DOUBT',
          userId: 'lost-writer',
          department: Department.CIVIL_AFFAIRS,
          count: 1,
          description: expect.stringMatching(/^1 requests \(1 of them mutations\) whose answer from subgraph registry was lost/),
          requestIds: [r.requestId],
        },
      ]);
    });

    it('a mutation whose answer is lost after its commit, its final event failing too: 500 "check before making them again", not 503', async () => {
      const before = await visits();
      const proto = RemoteGraphQLDataSource.prototype as any;
      const sendRequest = proto.sendRequest;
      // The subgraph commits and answers; the trail then refuses writes (its STARTED event is in), and the answer is lost.
      proto.sendRequest = async function (this: unknown, ...args: unknown[]) {
        await sendRequest.apply(this, args);
        await t.sql(`REVOKE INSERT ON audit.event FROM hub_audit_writer`);
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      };
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      let r;
      try {
        r = await post(t, await t.token(Department.CIVIL_AFFAIRS, { user: 'lost-and-unaudited' }), { query: visit, variables: { id: child } });
      } finally {
        proto.sendRequest = sendRequest;
        await t.sql(`GRANT INSERT ON audit.event TO hub_audit_writer`);
        log.mockRestore();
      }
      expect(await visits()).toBe(before + 1); // the subgraph did write
      expect([r.status, r.headers.get('retry-after'), r.json.errors.map((e: any) => e.message)]).toEqual([
        500,
        null,
        ['The request could not be audited; no data is released. Its changes were made, or may have been: check before making them again'],
      ]);
    });

    it('a mutation whose answer is lost after its commit, beside a field refused DATABASE_UNAVAILABLE: not 503, no Retry-After', async () => {
      const before = await visits();
      const proto = RemoteGraphQLDataSource.prototype as any;
      const sendRequest = proto.sendRequest;
      let call = 0;
      // The first fetch commits and its answer is lost; the registry then refuses the next as it does on a pool or statement timeout.
      proto.sendRequest = async function (this: unknown, ...args: unknown[]) {
        if (call++ === 0) {
          await sendRequest.apply(this, args);
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        }
        return { data: { b: null }, errors: [{ message: 'The database did not answer in time; try again shortly', path: ['b'], extensions: { code: 'DATABASE_UNAVAILABLE' } }], extensions: { hubAccess: { reads: [], changes: [] } } };
      };
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      let r;
      try {
        r = await post(t, await t.token(Department.CIVIL_AFFAIRS, { user: 'lost-beside-unavailable' }), {
          // x, an in-process subgraph's field (refused), keeps a and b in two fetches to the registry.
          query: `mutation($id: ID!) {
            a: recordVisit(minorId: $id, input: { notes: "家访一" }) { id }
            x: createDropoutReport(minorId: "00000000-0000-4000-8000-000000000000", input: { school: "x", reportedOn: "2026-01-05", daysAbsent: 20 }) { id }
            b: recordVisit(minorId: $id, input: { notes: "家访二" }) { id }
          }`,
          variables: { id: child },
        });
      } finally {
        proto.sendRequest = sendRequest;
        log.mockRestore();
      }
      expect(await visits()).toBe(before + 1);
      expect(r.json.errors.map((e: any) => e.extensions.code)).toContain('DATABASE_UNAVAILABLE');
      expect([r.status, r.headers.get('retry-after')]).toEqual([200, null]);
    });

    it('a read whose answer is lost: its event says so, and auditAnomalies flags it', async () => {
      const { result: r } = await losingAnswers(async () => post(t, await t.token(Department.CIVIL_AFFAIRS, { user: 'lost-reader' }), { query: read, variables: { id: child } }));
      expectMasked(r.json);
      const e = await eventOf(t, r.requestId);
      expect([e.outcome, e.errorCodes, e.reads]).toEqual(['ERROR', inDoubt, []]);
      expect(await flagsOf('lost-reader')).toEqual([
        expect.objectContaining({ kind: 'ACCESS_IN_DOUBT', count: 1, description: expect.stringContaining('(0 of them mutations)'), requestIds: [r.requestId] }),
      ]);
    });

    it('an ordinary distributed mutation and read: nothing in doubt, nothing flagged', async () => {
      const before = await visits();
      const w = await post(t, await t.token(Department.CIVIL_AFFAIRS, { user: 'sound-writer' }), { query: visit, variables: { id: child } });
      const q = await post(t, await t.token(Department.CIVIL_AFFAIRS, { user: 'sound-reader' }), { query: read, variables: { id: child } });
      expect([w.json.errors, q.json.errors]).toEqual([undefined, undefined]);
      expect(await visits()).toBe(before + 1);
      const [started, done] = await eventsOf(t, w.requestId);
      expect([started.outcome, done.outcome, done.body.errorCodes, done.body.changes.length]).toEqual(['STARTED', 'SUCCESS', [], 1]);
      const e = await eventOf(t, q.requestId);
      expect([e.outcome, e.errorCodes, e.reads.map((x: any) => x.minorId)]).toEqual(['SUCCESS', [], [child]]);
      expect([...(await flagsOf('sound-writer')), ...(await flagsOf('sound-reader'))]).toEqual([]);
    });

    it('an assertion presented first by someone else: the gateway’s refused fetch leaves the event in doubt, and the subgraph logs the replay', async () => {
      const willSendRequest = SignedRemoteDataSource.prototype.willSendRequest;
      let taken: any = null;
      // A TLS-terminating proxy that logs headers and bodies, and is quicker than the gateway.
      const spy = jest.spyOn(SignedRemoteDataSource.prototype, 'willSendRequest').mockImplementation(async function (this: any, opts) {
        await willSendRequest.call(this, opts);
        const { request } = opts;
        const res = await fetch(subgraph.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [ASSERTION_HEADER]: request.http!.headers.get(ASSERTION_HEADER)! },
          body: JSON.stringify({ query: request.query, operationName: request.operationName, variables: request.variables }),
        });
        taken = await res.json();
      });
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        const r = await post(t, await t.token(Department.CIVIL_AFFAIRS, { user: 'intercepted' }), { query: read, variables: { id: child } });
        expect(taken.data.minor.name).toEqual(expect.any(String)); // what the channel's authentication must prevent
        expectMasked(r.json);
        expect((await eventOf(t, r.requestId)).errorCodes).toEqual(inDoubt);
        const lines = log.mock.calls.map((c) => c.map(String).join(' '));
        expect(lines.filter((l) => l.startsWith('[subgraph'))).toEqual([
          expect.stringMatching(new RegExp(`^\\[subgraph registry\\] refused a gateway assertion: replayed \\(request ${r.requestId}\\) from \\S+$`)),
        ]);
        expect(await flagsOf('intercepted')).toEqual([expect.objectContaining({ kind: 'ACCESS_IN_DOUBT', requestIds: [r.requestId] })]);
      } finally {
        spy.mockRestore();
        log.mockRestore();
      }
    });
  });

  describe('a remote answer with data and an error that carries an HTTP status (LIMIT_EXCEEDED: 413)', () => {
    // workflow served alone and in process, on one database: one active webhook per department and region.
    const env = { HUB_WEBHOOK_MAX_PER_REGION: '1' };
    let workflow: SubgraphServer;
    let remote: TestHub;
    let local: TestHub;

    beforeAll(async () => {
      const databaseUrl = await cloneTemplateDatabase();
      workflow = await startSubgraphServer('workflow', testConfig({ databaseUrl, gatewaySecret: secret, env }), 0);
      remote = await startTestHub({ databaseUrl, gatewaySecret: secret, subgraphUrls: { workflow: workflow.url }, env });
      local = await startTestHub({ databaseUrl, env });
    });
    afterAll(async () => {
      await remote?.stop();
      await local?.stop();
      await workflow?.stop();
    });

    it('is an answer: the client gets the committed step’s data and LIMIT_EXCEEDED as in process, the event records the change, the log nothing of the report', async () => {
      const [child] = await remote.sql(`SELECT trim(id_number) AS id_number, grid_code FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
      const observation = '手臂多处淤青-自述被继父殴打-distributed-413';
      const reporter = await remote.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-413' });
      const file = async () => {
        const input = { harmType: 'PHYSICAL_ABUSE', observation, location: '清波小学', regionCode: child.grid_code, urgency: 'URGENT', reporterUnit: '清波小学', childIdNumber: child.id_number };
        const r = await remote.gql(reporter, `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`, { input }, {});
        expect(r.errors).toBeUndefined();
        return r.data.fileMandatoryReport.id as string;
      };
      const police = await remote.token(Department.POLICE, { user: 'officer-413' });
      expect((await remote.gql(police, `mutation { registerWebhook(url: "http://127.0.0.1:9/hook-one") { webhook { id } } }`)).errors).toBeUndefined();
      // The step commits; the second webhook is over the limit.
      const query = `mutation($id: ID!) {
        step: transitionReport(id: $id, to: VERIFYING, note: "413") { id status observation location }
        hook: registerWebhook(url: "http://127.0.0.1:9/hook-two") { webhook { id } }
      }`;
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
      const answers: { id: string; hub: TestHub; r: Awaited<ReturnType<typeof post>> }[] = [];
      let logged = '';
      try {
        for (const hub of [remote, local]) {
          const id = await file();
          answers.push({ id, hub, r: await post(hub, police, { query, variables: { id } }) });
        }
        logged = [...log.mock.calls, ...warn.mock.calls].map((c) => c.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')).join('\n');
      } finally {
        log.mockRestore();
        warn.mockRestore();
      }
      const answered = ({ id, r }: (typeof answers)[number]) => ({
        status: r.status,
        // Locations aside: an operation the fast path runs whole keeps them, a planned fetch's errors do not.
        json: { ...r.json, errors: r.json.errors?.map(({ locations: _l, ...e }: any) => e), data: { ...r.json.data, step: { ...r.json.data?.step, id: r.json.data?.step?.id === id } } },
      });
      expect(answered(answers[0])).toEqual(answered(answers[1]));
      expect(answered(answers[0])).toEqual({
        status: 200,
        json: {
          data: { step: { id: true, status: 'VERIFYING', observation, location: '清波小学' }, hook: null },
          errors: [{ message: 'At most 1 active webhooks per department and region', path: ['hook'], extensions: { code: 'LIMIT_EXCEEDED', serviceName: 'workflow' } }],
        },
      });
      for (const { id, hub, r } of answers) {
        expect((await hub.sql(`SELECT status FROM workflow.mandatory_report WHERE id = $1`, [id]))[0].status).toBe('VERIFYING');
        const events = await eventsOf(hub, r.requestId);
        expect(events.map((e) => [e.outcome, e.body.errorCodes, e.body.changes.map((c: any) => [c.mutation, c.id])])).toEqual([
          ['STARTED', [], []],
          ['PARTIAL', ['LIMIT_EXCEEDED'], [['transitionReport', id]]],
        ]);
        expect(events[1].body.reads.map((g: any) => Object.keys(g.fields).sort())).toEqual([['MandatoryReport.id', 'MandatoryReport.location', 'MandatoryReport.observation', 'MandatoryReport.status']]);
      }
      expect(logged).not.toContain(observation);
    });
  });

  describe('a gateway whose subgraphs fail it', () => {
    let wrong: TestHub;
    const down = 'http://127.0.0.1:1/graphql';
    /** What the education subgraph's stand-in answers next: status, content type, body. */
    let answer: [number, string, string] = [200, 'application/json', '{}'];
    /** Where the stand-in's redirects point, and what arrived there. */
    const elsewhere: { headers: string[]; body: string }[] = [];
    const catcher = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c)).on('end', () => {
        elsewhere.push({ headers: Object.keys(req.headers), body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{}}');
      });
    });
    const garbled = createServer((req, res) => {
      const location = answer[0] >= 300 && answer[0] < 400 ? { location: `http://localhost:${(catcher.address() as AddressInfo).port}/graphql` } : {};
      req.resume().on('end', () => res.writeHead(answer[0], { 'content-type': answer[1], ...location }).end(answer[2]));
    });

    beforeAll(async () => {
      await new Promise<void>((resolve) => garbled.listen(0, '127.0.0.1', resolve));
      await new Promise<void>((resolve) => catcher.listen(0, '127.0.0.1', resolve));
      // Signs with another secret (the registry answers HTTP 401), police is not listening, and
      // education is a stand-in answering what each test sets.
      wrong = await startTestHub({
        databaseUrl: t.databaseUrl,
        gatewaySecret: 'another-gateway-secret-of-sufficient-length',
        subgraphUrls: { registry: subgraph.url, police: down, education: `http://127.0.0.1:${(garbled.address() as AddressInfo).port}/graphql` },
      });
    });
    afterAll(async () => {
      await wrong?.stop();
      await new Promise<void>((resolve) => garbled.close(() => resolve()));
      await new Promise<void>((resolve) => catcher.close(() => resolve()));
    });

    const name = '王小明-answer-of-a-failing-subgraph';
    it.each([
      ['refuses it, with data beside its errors', 500, 'application/json', JSON.stringify({ data: { dropoutReports: { name } }, errors: [{ message: name, extensions: { code: 'INTERNAL_SERVER_ERROR' } }], extensions: { hubAccess: { reads: [], changes: [] } } }), 'HTTP 500, errors [INTERNAL_SERVER_ERROR]'],
      ['answers JSON that does not parse', 200, 'application/json', `{"data": {"dropoutReports": ${name}}}`, 'not a JSON object'],
      ['answers something else than JSON', 200, 'text/html', `<p>${name}</p>`, 'not a JSON object'],
    ])('a subgraph that %s: the hub logs the status, error codes or what is wrong with the body, none of the answer', async (_what, status, type, body, cause) => {
      answer = [status, type, body];
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        const r = await wrong.gql(await wrong.token(Department.EDUCATION), `{ dropoutReports(first: 1) { totalCount } }`);
        expect(r.errors).toEqual([{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', serviceName: 'education' } }]);
        expect(JSON.stringify(r)).not.toContain(name);
        const lines = log.mock.calls.map((c) => c.map(String).join(' '));
        expect(lines).toEqual([expect.stringMatching(/^\[hub\] unexpected failure of subgraph education: /)]);
        expect(lines[0]).toContain(cause);
        expect(lines[0]).not.toContain(name);
      } finally {
        log.mockRestore();
      }
    });

    it.each([307, 308, 302])('a subgraph that redirects (HTTP %i): the fetch is not repeated where it points, neither its assertion nor its body', async (status) => {
      answer = [status, 'text/plain', ''];
      elsewhere.length = 0;
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        const r = await wrong.gql(await wrong.token(Department.EDUCATION), `query ($n: Int) { dropoutReports(first: $n) { totalCount } }`, { n: 1 });
        expect(r.errors).toEqual([{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', serviceName: 'education' } }]);
        expect(elsewhere).toEqual([]);
        const lines = log.mock.calls.map((c) => c.map(String).join(' '));
        expect(lines).toEqual([expect.stringMatching(/^\[hub\] unexpected failure of subgraph education: .*redirect/)]);
      } finally {
        log.mockRestore();
      }
    });

    it.each([
      ['refuses the gateway’s assertion (HTTP 401)', 'registry', `{ regions { code } }`],
      ['cannot be reached', 'police', `{ policeIncidents(first: 1) { totalCount } }`],
    ])('a subgraph that %s: the client gets "Internal server error", nothing of the subgraph’s URL or answer', async (_what, serviceName, query) => {
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        const r = await wrong.gql(await wrong.token(Department.POLICE), query);
        // Not UNAUTHENTICATED: the client's token is good, the fault is the hub's.
        expect(r.errors).toEqual([{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', serviceName } }]);
        expect(JSON.stringify(r)).not.toMatch(/127\.0\.0\.1|localhost|ECONNREFUSED|401/);
        // The cause, once on the hub's side; the registry (in this process) logs its refusal too.
        expect(log.mock.calls.filter(([m]) => String(m).startsWith('[hub]'))).toHaveLength(1);
        const refusals = log.mock.calls.filter(([m]) => String(m).startsWith('[subgraph'));
        expect(refusals.map((c) => c.join(' '))).toEqual(serviceName === 'registry' ? [expect.stringContaining('refused a gateway assertion: bad signature')] : []);
      } finally {
        log.mockRestore();
      }
    });
  });

  describe('a remote subgraph that takes the fetch and never answers (a hung process, a stalled proxy, a network that drops everything)', () => {
    const limitMs = 1000;
    /** Past the limit, what the client waits at most: the test fails, not hangs, where the fetch has no limit. */
    const patienceMs = limitMs + 3000;
    let slow: TestHub;
    /** What the education subgraph's stand-in does with a fetch: never answer, or send the headers and stop. */
    let stall: 'headers' | 'body' = 'headers';
    /** Fetches the stand-in has received whole. */
    let received = 0;
    const sockets = new Set<Socket>();
    const hung = createServer((req, res) => {
      req.resume().on('end', () => {
        received += 1;
        if (stall === 'body') res.writeHead(200, { 'content-type': 'application/json' }).write('{"data":');
      });
    });
    hung.on('connection', (s: Socket) => sockets.add(s.on('close', () => sockets.delete(s))));

    beforeAll(async () => {
      await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
      slow = await startTestHub({
        databaseUrl: t.databaseUrl,
        gatewaySecret: secret,
        env: { HUB_SUBGRAPH_TIMEOUT_MS: String(limitMs) },
        subgraphUrls: { education: `http://127.0.0.1:${(hung.address() as AddressInfo).port}/graphql` },
      });
    });
    afterAll(async () => {
      // Its connections first: a hub still waiting on one would otherwise wait out its stop.
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => hung.close(() => resolve()));
      await slow?.stop();
    });

    /** Asks the hub as a client would, giving up after patienceMs; what it got and how long it took. */
    async function ask(user: string, body: unknown) {
      const token = await slow.token(Department.EDUCATION, { user });
      const before = received;
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      const started = Date.now();
      try {
        const res = await fetch(slow.hub.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-purpose': 'CASE_HANDLING' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(patienceMs),
        });
        const json = await res.json();
        return { status: res.status, requestId: res.headers.get('x-request-id')!, json, ms: Date.now() - started, fetches: received - before, logged: log.mock.calls.map((c) => c.map(String).join(' ')) };
      } finally {
        log.mockRestore();
      }
    }

    const inDoubt = ['INTERNAL_SERVER_ERROR', 'SUBGRAPH_ANSWER_LOST', 'SUBGRAPH_ANSWER_LOST:education'];
    /** The answer of a fetch whose answer is lost, as the other losses give it: the field null, its error masked. */
    const masked = (field: string) => ({ data: { [field]: null }, errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', serviceName: 'education' } }] });
    const timedOut = `[hub] unexpected failure of subgraph education: no answer within ${limitMs} ms (HUB_SUBGRAPH_TIMEOUT_MS)`;

    it.each([
      ['never answers', 'headers'],
      ['sends its headers and never the body', 'body'],
    ] as const)('a read it %s: the client gets "Internal server error" once HUB_SUBGRAPH_TIMEOUT_MS has passed, and the event is in doubt', async (_what, how) => {
      stall = how;
      const r = await ask(`hung-reader-${how}`, { query: `{ dropoutReports(first: 1) { totalCount } }` });
      expect(r.fetches).toBe(1);
      expect(r.ms).toBeGreaterThanOrEqual(limitMs);
      expect(r.ms).toBeLessThan(limitMs + 2000);
      expect([r.status, r.json]).toEqual([200, masked('dropoutReports')]);
      expect(r.logged).toEqual([timedOut]);
      const e = await eventOf(slow, r.requestId);
      expect([e.outcome, e.errorCodes, e.reads]).toEqual(['ERROR', inDoubt, []]);
    });

    it('a mutation it never answers: its final event follows its STARTED one, in doubt, and auditAnomalies flags it', async () => {
      stall = 'headers';
      // A child old enough to drop out (no child under 6 does), so that the write the subgraph runs is taken.
      const [{ id }] = await slow.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' AND birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '16 years' ORDER BY id LIMIT 1`);
      const r = await ask('hung-writer', {
        query: `mutation($id: ID!) { createDropoutReport(minorId: $id, input: { school: "清波小学", reportedOn: "2026-01-05", daysAbsent: 20 }) { id } }`,
        variables: { id },
      });
      expect(r.fetches).toBe(1);
      expect(r.ms).toBeGreaterThanOrEqual(limitMs);
      expect(r.ms).toBeLessThan(limitMs + 2000);
      expect([r.status, r.json]).toEqual([200, masked('createDropoutReport')]);
      expect(r.logged).toEqual([timedOut]);
      const events = await eventsOf(slow, r.requestId);
      expect(events.map((e) => [e.outcome, e.body.errorCodes, e.body.changes])).toEqual([
        ['STARTED', [], []],
        ['ERROR', inDoubt, []],
      ]);
      const flags = await slow.gql(await slow.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR }), `{ auditAnomalies { kind userId count description requestIds } }`, undefined, {});
      expect(flags.data.auditAnomalies.filter((f: any) => f.userId === 'hung-writer' && f.kind === 'ACCESS_IN_DOUBT')).toEqual([
        expect.objectContaining({ count: 1, description: expect.stringMatching(/^1 requests \(1 of them mutations\) whose answer from subgraph education was lost/), requestIds: [r.requestId] }),
      ]);
    });
  });

  describe('a remote fetch of several writes, each within the statement limit, that together outlast HUB_SUBGRAPH_TIMEOUT_MS', () => {
    // The statement limit at its minimum, the gateway's limit at its default for it (1000 + 2000):
    // the subgraph's deadline is 2 s after a fetch arrives (1 s of the 3 kept for the way back).
    const env = { HUB_STATEMENT_TIMEOUT_MS: '1000' };
    let tight: TestHub;
    let registry: SubgraphServer;
    beforeAll(async () => {
      registry = await startSubgraphServer('registry', testConfig({ databaseUrl: t.databaseUrl, gatewaySecret: secret, env }), 0);
      tight = await startTestHub({ databaseUrl: t.databaseUrl, gatewaySecret: secret, subgraphUrls: { registry: registry.url }, env });
    });
    afterAll(async () => {
      await tight?.stop();
      await registry?.stop();
    });

    it('commits nothing past the deadline: the writes done before it are answered and recorded, the others refused DATABASE_UNAVAILABLE, nothing in doubt', async () => {
      expect([tight.config.statementTimeoutMs, tight.config.subgraphTimeoutMs]).toEqual([1000, 3000]);
      const ids: string[] = (
        await tight.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' AND birth_date > now() - interval '15 years' ORDER BY id DESC LIMIT 4`)
      ).map((c: { id: string }) => c.id);
      const visitsOf = async (id: string) => (await tight.sql(`SELECT count(*)::int AS n FROM registry.visit WHERE minor_id = $1`, [id]))[0].n as number;
      const before = await Promise.all(ids.map(visitsOf));
      // Each child's row held 0.8 s longer than the one before (another request's long write): every
      // wait within the 1 s statement limit, the four together past the gateway's 3 s. The first two
      // commit before the deadline, the third reaches its COMMIT after it, the fourth would begin after it.
      const lockers = await Promise.all(
        ids.map(async (id) => {
          const c = new Client({ connectionString: tight.databaseUrl });
          await c.connect();
          await c.query('BEGIN');
          await c.query('SELECT 1 FROM registry.minor WHERE id = $1 FOR UPDATE', [id]);
          return c;
        }),
      );
      const token = await tight.token(Department.CIVIL_AFFAIRS, { user: 'deadline-visitor' });
      const query = `mutation(${ids.map((_, i) => `$m${i}: ID!`).join(', ')}) { ${ids.map((_, i) => `v${i}: recordVisit(minorId: $m${i}, input: { notes: "走访" }) { id }`).join(' ')} }`;
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      let r: Awaited<ReturnType<typeof post>>;
      let logged: string[];
      let released: Promise<void>[] = [];
      try {
        const answer = post(tight, token, { query, variables: Object.fromEntries(ids.map((id, i) => [`m${i}`, id])) });
        // Timed from the fetch's first wait on a held row, not from sending the request: on a loaded
        // machine the fetch reached the subgraph late enough for the third write to commit in time.
        for (let waiting = 0; !waiting; ) {
          [{ n: waiting }] = await tight.sql(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
          if (!waiting) await new Promise((resolve) => setTimeout(resolve, 5));
        }
        released = lockers.map((c, i) => new Promise((resolve) => setTimeout(resolve, 800 * (i + 1))).then(() => c.query('COMMIT')).then(() => c.end()));
        r = await answer;
        // Long enough for a subgraph still at work to finish: the last row is free at 3.2 s.
        await Promise.all(released);
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        logged = log.mock.calls.map((c) => c.map(String).join(' '));
      } finally {
        log.mockRestore();
      }
      const added = (await Promise.all(ids.map(visitsOf))).map((n, i) => n - before[i]);
      expect(added).toEqual([1, 1, 0, 0]);
      const refused = { message: 'The database did not answer in time; try again shortly', extensions: { code: 'DATABASE_UNAVAILABLE', serviceName: 'registry' } };
      expect([r.status, r.json.data, r.json.errors.map(({ message, path, extensions }: any) => ({ message, path, extensions }))]).toEqual([
        200,
        { v0: { id: expect.any(String) }, v1: { id: expect.any(String) }, v2: null, v3: null },
        [
          { ...refused, path: ['v2'] },
          { ...refused, path: ['v3'] },
        ],
      ]);
      expect(logged.filter((l) => l.startsWith('[subgraph registry]'))).toEqual([
        expect.stringMatching(/past the gateway's deadline, a transaction rolled back before its commit$/),
        expect.stringMatching(/past the gateway's deadline, a transaction not begun$/),
      ]);
      // The subgraph answered within the gateway's limit: the event records both visits, and only them.
      const events = await eventsOf(tight, r.requestId);
      expect(events.map((e) => [e.outcome, e.body.errorCodes])).toEqual([
        ['STARTED', []],
        ['PARTIAL', ['DATABASE_UNAVAILABLE']],
      ]);
      expect(events[1].body.changes.map((c: any) => [c.mutation, c.id, c.minorId])).toEqual([
        ['recordVisit', r.json.data.v0.id, ids[0]],
        ['recordVisit', r.json.data.v1.id, ids[1]],
      ]);
    }, 30_000);
  });

  // A representation is the gateway's to write, but a subgraph does not trust its key: an id that
  // is not the text of a UUID (an array would print as one) is no child, and nothing is loaded for it.
  it.each([
    ['registry', 'name'],
    ['police', 'policeIncidents { id }'],
    ['workflow', 'referrals { id }'],
  ])('%s `_entities`: a key that is not a string UUID resolves to null, beside the others of its batch', async (name, selection) => {
    const [inside] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
    const url = name === 'registry' ? subgraph.url : alone[name].url;
    const ids = [inside.id, [inside.id], null, 42, { id: inside.id }, `{${inside.id}}`, inside.id];
    const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Minor { id ${selection} } } }`;
    const variables = { r: ids.map((id) => ({ __typename: 'Minor', id })) };
    const rejections: unknown[] = [];
    const onRejection = (e: unknown) => rejections.push(e);
    process.on('unhandledRejection', onRejection);
    try {
      const r = await postAsGateway(t.config, url, name, { userId: 'u', department: Department.CIVIL_AFFAIRS, role: Role.OFFICER, region: '330102' }, query, variables);
      expect(r.errors).toBeUndefined();
      const entities = r.data._entities;
      expect(entities.map((e: { id: string } | null) => e?.id ?? null)).toEqual([inside.id, null, null, null, null, null, inside.id]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      process.off('unhandledRejection', onRejection);
    }
    expect(rejections).toEqual([]);
  });
});

/**
 * The deadline binds every write of a subgraph, not only those written in a mutation's own
 * transaction: `removeBarredPerson` once revoked a bar through a query builder of the data source,
 * which took a connection of its own and committed after the gateway had given up — a bar lifted
 * with nothing in the trail saying by whom.
 */
describe('distributed mode: a revocation of a bar past the gateway’s deadline', () => {
  let workflow: SubgraphServer;
  let config: ReturnType<typeof testConfig>;
  const principal = { userId: 'po-revoker', department: Department.POLICE, role: Role.OFFICER, region: '330102' };
  beforeAll(async () => {
    config = testConfig({ databaseUrl: await cloneTemplateDatabase(), gatewaySecret: 'test-gateway-secret-of-sufficient-length' });
    workflow = await startSubgraphServer('workflow', config, 0);
  });
  afterAll(async () => {
    await workflow?.stop();
  });

  it('is rolled back, DATABASE_UNAVAILABLE, and the bar still restricts', async () => {
    const added = await postAsGateway(config, workflow.url, 'workflow', principal, `mutation($i: BarredPersonInput!) { addBarredPerson(input: $i) { id } }`, {
      i: { idNumber: '11010519491231002X', name: '张三', offence: 'ABUSE', judgementReference: '(2026)浙0102刑初77号' },
    });
    expect(added.errors).toBeUndefined();
    const id = (added.data as { addBarredPerson: { id: string } }).addBarredPerson.id;
    // Another session holds the bar's row for 1.2 s; the fetch has 1 s (a quarter kept for the way back).
    const locker = new Client({ connectionString: config.databaseUrl });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM workflow.barred_person WHERE id = $1 FOR UPDATE', [id]);
    const held = new Promise((r) => setTimeout(r, 1_200)).then(() => locker.query('COMMIT')).then(() => locker.end());
    const request = { query: `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "judgement overturned") }`, variables: { id } };
    const assertion = await signAssertion(gatewaySecret(config), 'workflow', { principal, requestId: randomUUID(), budgetMs: 1_000 }, request);
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const res = await fetch(workflow.url, { method: 'POST', headers: { 'content-type': 'application/json', [ASSERTION_HEADER]: assertion }, body: JSON.stringify(request) });
      const body = (await res.json()) as { data: unknown; errors?: { extensions?: { code?: string } }[] };
      await held;
      expect([body.data, body.errors?.map((e) => e.extensions?.code)]).toEqual([{ removeBarredPerson: null }, ['DATABASE_UNAVAILABLE']]);
      expect(log.mock.calls.map((c) => c.join(' '))).toEqual([expect.stringMatching(/past the gateway's deadline, a transaction rolled back before its commit$/)]);
    } finally {
      log.mockRestore();
    }
    const c = new Client({ connectionString: config.databaseUrl });
    await c.connect();
    const [row] = (await c.query('SELECT revoked_at FROM workflow.barred_person WHERE id = $1', [id])).rows;
    await c.end();
    expect(row.revoked_at).toBeNull();
  });
});
