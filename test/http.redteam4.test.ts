import { Department } from '../src/auth/principal';
import { RegionDirectory } from '../src/server/region-directory';
import { post, storedEventOf } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

/** Red team, round 4, of the hub's HTTP surface: what the trail says of answers given outside GraphQL. */
describe('HTTP surface, round 4', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  // Express answers what escapes the middleware before Apollo Server (here the look-up of the
  // token's region failing otherwise than by a timeout) with a masked 500, and the `finish`
  // fallback wrote its event as the client's mistake: INVALID, BAD_REQUEST.
  it('records an internal error answered before GraphQL as the error it is, not as a bad request', async () => {
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const lookup = jest.spyOn(RegionDirectory.prototype, 'has').mockRejectedValue(new Error('connection to the database lost'));
    try {
      const r = await post(t, await t.token(Department.POLICE), { query: '{ regions { code } }' }, {});
      expect([r.status, r.json]).toEqual([500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }]);
      expect(await storedEventOf(t, r.requestId)).toMatchObject({ outcome: 'ERROR', errorCodes: ['INTERNAL_SERVER_ERROR'] });
    } finally {
      lookup.mockRestore();
      log.mockRestore();
    }
  });
});

describe('HTTP surface, round 4: caching', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  // The README promises `Cache-Control: no-store` on every answer of /graphql; Apollo Server's own
  // refusals before its pipeline (no body, a batch, an Accept it cannot serve) carried none, and its
  // refusal of a persisted-query hash `private, no-cache, must-revalidate`.
  it('says no-store on every answer of /graphql, Apollo Server’s own refusals included, each audited', async () => {
    const token = await t.token(Department.POLICE);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-purpose': 'CASE_HANDLING' };
    const cases: [string, Record<string, string>, string, number][] = [
      ['an answer', headers, JSON.stringify({ query: '{ regions { code } }' }), 200],
      ['no body', headers, '', 400],
      ['a batch', headers, '[]', 400],
      ['an Accept it cannot serve', { ...headers, accept: 'text/html' }, JSON.stringify({ query: '{ regions { code } }' }), 406],
      ['a persisted-query hash', headers, JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }), 200],
      ['a validation error', headers, JSON.stringify({ query: '{ regionz }' }), 400],
    ];
    for (const [what, h, body, status] of cases) {
      const res = await fetch(t.hub.url, { method: 'POST', headers: h, body });
      expect([what, res.status, res.headers.get('cache-control')]).toEqual([what, status, 'no-store']);
      await res.text();
      expect([what, (await storedEventOf(t, res.headers.get('x-request-id')!)).outcome]).toEqual([what, what === 'an answer' ? 'SUCCESS' : 'INVALID']);
    }
  });
});

describe('HTTP surface, round 4: an answer the client does not accept', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  // Apollo Server negotiates the answer's media type only once the operation has run: a mutation
  // sent with `Accept: text/html` committed, its event recording the change, and its client was
  // told 406 with no data — a refusal, which invites sending it again, making the change twice; a
  // read left an event of children read whose data never left.
  it('refuses, before anything runs, a request accepting neither JSON type: 406, audited, nothing changed or read', async () => {
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor WHERE registry.is_minor(birth_date, now()) ORDER BY id LIMIT 1`);
    const guardians = async () => (await t.sql(`SELECT count(*)::int AS n FROM registry.guardian WHERE minor_id = $1`, [id]))[0].n;
    const before = await guardians();
    const mutation = { query: `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: OTHER_RELATIVE, name: "王五" }) { id } }`, variables: { id } };
    const read = { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id } };
    for (const [body, accept] of [
      [mutation, 'text/html'],
      [read, 'text/html'],
      [read, 'application/xml, text/plain;q=0.5'],
      [read, 'application/json;q=0'],
    ] as const) {
      const r = await post(t, civil, body, { 'x-purpose': 'CASE_HANDLING', accept });
      expect([accept, r.status, r.json.data, r.json.errors.map((e: any) => e.extensions.code)]).toEqual([accept, 406, undefined, ['BAD_REQUEST']]);
      const events = await t.sql(`SELECT outcome, body FROM audit.event WHERE request_id = $1`, [r.requestId]);
      expect(events.map((e) => e.outcome)).toEqual(['INVALID']);
      expect(JSON.parse(events[0].body)).toMatchObject({ errorCodes: ['BAD_REQUEST'], reads: [], changes: [], userId: 'civil_affairs-test' });
    }
    expect(await guardians()).toBe(before);
    // Served as before: no Accept, an empty one, either JSON type, a wildcard among others.
    for (const accept of [undefined, '', '*/*', 'application/json', 'application/graphql-response+json', 'text/html, application/*;q=0.1']) {
      const r = await post(t, civil, read, { 'x-purpose': 'CASE_HANDLING', ...(accept === undefined ? {} : { accept }) });
      expect([accept, r.status, r.json.data.minor.name]).toEqual([accept, 200, expect.any(String)]);
    }
  });
});
