import { Department } from '../src/auth/principal';
import { post, storedEventOf } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

/**
 * Red team 26 (rt26-gateway): the hub's HTTP edge as a hostile or buggy department system hits it,
 * in production mode (`production: true`: introspection off, suggestions dropped).
 */

/** `depth` inline fragments without a type condition, one inside the other, around `inner`: three tokens a level. */
const nestedInline = (depth: number, inner: string) => `${'...{ '.repeat(depth)}${inner}${' }'.repeat(depth)}`;

describe('gateway input (rt26)', () => {
  let t: TestHub;
  let log: jest.SpyInstance;
  beforeAll(async () => {
    t = await startTestHub({ production: true });
  });
  afterAll(() => t.stop());
  beforeEach(() => {
    log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => log.mockRestore());

  // validation-bound.ts bounds a document's depth by its fields only (MAX_DEPTH, 12): inline
  // fragments nest without limit within MAX_TOKENS (5,000 tokens: 1,650 levels of `...{ }`). An
  // operation the fast path cannot answer alone goes to the gateway's query planner, whose
  // normalisation (@apollo/federation-internals, InlineFragmentSelection.normalize) recurses per
  // level and overflows the stack: the client got a masked 500 INTERNAL_SERVER_ERROR, the trail an
  // ERROR, and the log a RangeError — for a request anyone with a token can send, no purpose needed.
  it('refuses inline fragments nested past the depth bound as LIMIT_EXCEEDED, not a 500 from the query planner', async () => {
    const token = await t.token(Department.POLICE);
    // Two subgraphs' roots (registry, statistics): the planned path. Nothing of a child: no purpose.
    const query = `{ regions { code } ${nestedInline(1650, 'statisticsFreshness { refreshIntervalSeconds }')} }`;
    const r = await post(t, token, { query }, {});
    expect([r.status, r.json?.errors?.map((e: { extensions: { code: string } }) => e.extensions.code)]).toEqual([413, ['LIMIT_EXCEEDED']]);
    expect(await storedEventOf(t, r.requestId)).toMatchObject({ outcome: 'LIMIT_EXCEEDED', errorCodes: ['LIMIT_EXCEEDED'] });
    expect(log.mock.calls.map((c) => String(c[0]))).not.toContain('[hub] unexpected error');
  });

  it('also for a read of one child with a department field deep inside inline fragments', async () => {
    const token = await t.token(Department.POLICE);
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor WHERE registry.is_minor(birth_date, now()) ORDER BY id LIMIT 1`);
    const query = `query($id: ID!) { minor(id: $id) { name ${nestedInline(1650, 'policeProtectionCase { __typename }')} } }`;
    const r = await post(t, token, { query, variables: { id } });
    expect([r.status, r.json?.errors?.map((e: { extensions: { code: string } }) => e.extensions.code)]).toEqual([413, ['LIMIT_EXCEEDED']]);
    expect(await storedEventOf(t, r.requestId)).toMatchObject({ outcome: 'LIMIT_EXCEEDED', errorCodes: ['LIMIT_EXCEEDED'] });
  });

  // RFC 8259 §8.1: JSON exchanged between systems is UTF-8. body-parser takes any charset starting
  // `utf-` (its isValidCharset), and iconv-lite decodes UTF-7, where `+AHs-` is `{`: the text a
  // proxy, a WAF or a packet capture reads is not the operation the hub runs and audits.
  it('refuses a JSON body declared in UTF-7 (415) instead of decoding and running it', async () => {
    const token = await t.token(Department.POLICE);
    const res = await fetch(t.hub.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-7', 'x-purpose': 'CASE_HANDLING' },
      body: '{"query":"{ minors(first: 1) +AHs- edges { node { name idNumber } } } }"}',
    });
    const json = (await res.json()) as { data?: unknown; errors?: { extensions: { code: string } }[] };
    expect([res.status, json.data, json.errors?.map((e) => e.extensions.code)]).toEqual([415, undefined, ['BAD_USER_INPUT']]);
    expect(await storedEventOf(t, res.headers.get('x-request-id')!)).toMatchObject({ outcome: 'INVALID', errorCodes: ['BAD_USER_INPUT'] });
  });

  // Pinned (passes): a request a browser could send cross-site without a preflight (a simple
  // content type) is refused before anything runs, and audited as refused.
  it('runs nothing sent with a simple content type (CSRF), and audits each refusal', async () => {
    const token = await t.token(Department.POLICE);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain; application/json']) {
      const res = await fetch(t.hub.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': type, 'x-purpose': 'CASE_HANDLING' },
        body: JSON.stringify({ query: '{ minors(first: 1) { edges { node { name } } } }' }),
      });
      const json = (await res.json()) as { data?: unknown };
      expect([type, res.status, json.data]).toEqual([type, 400, undefined]);
      expect([type, (await storedEventOf(t, res.headers.get('x-request-id')!)).outcome]).toEqual([type, 'INVALID']);
    }
  });
});
