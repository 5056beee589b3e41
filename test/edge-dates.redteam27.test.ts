import { Department, Role } from '../src/auth/principal';
import { post, storedEventOf } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 27 (rt27-edge): the gateway edge as fixed in 471b556 (fragment nesting bound, charset
 * refusal) and the sub-millisecond time bounds of b9af8ac, through the public endpoint only.
 */

/** `depth` inline fragments without a type condition, one inside the other, around `inner`. */
const nestedInline = (depth: number, inner: string) => `${'...{ '.repeat(depth)}${inner}${' }'.repeat(depth)}`;

describe('gateway edge and time bounds (rt27)', () => {
  let t: TestHub;
  let log: jest.SpyInstance;
  beforeAll(async () => {
    t = await startTestHub({ production: true });
  });
  afterAll(() => t?.stop());
  beforeEach(() => {
    log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => log.mockRestore());

  // validation-bound.ts (Walk.place, `spread.has(name)`) follows a fragment once per place of the
  // response, "as graphql-js compares it once", and counts MAX_SELECTIONS and MAX_FRAGMENT_NESTING
  // on that one walk. The gateway's query planner expands every spread: L(j) spreads L(j-1) twice
  // (once bare, once inside an inline fragment), so 18 layers are 2^18 copies of L0's 45 nested
  // inline fragments — 12 million selections from a 1 KB document within every bound (tokens,
  // fragments, nesting ≤ 64, cost 262,144 < 500,000). @apollo/query-planner's
  // validateRecursiveSelections throws past 10 million: a 500 INTERNAL_SERVER_ERROR, the trail an
  // ERROR, "[hub] unexpected error" in the log. (With 15 layers it stays under that limit and the
  // planner held the event loop for 98 s on this machine, every other caller waiting.)
  it('refuses a fragment spread twice at one place, 18 layers deep, as LIMIT_EXCEEDED instead of a 500 from the query planner', async () => {
    const token = await t.token(Department.POLICE);
    const K = 18;
    const fragments = [`fragment L0 on StatisticsFreshness { ${nestedInline(63 - K, 'refreshIntervalSeconds')} }`];
    for (let j = 1; j <= K; j++) fragments.push(`fragment L${j} on StatisticsFreshness { ...L${j - 1} ...{ ...L${j - 1} } }`);
    // Two subgraphs' roots (registry, statistics): the planned path. Nothing of a child: no purpose.
    const query = `{ regions { code } statisticsFreshness { ...L${K} } } ${fragments.join(' ')}`;
    const r = await post(t, token, { query }, {});
    expect([r.status, r.json?.errors?.map((e: { extensions: { code: string } }) => e.extensions.code)]).toEqual([413, ['LIMIT_EXCEEDED']]);
    expect(await storedEventOf(t, r.requestId)).toMatchObject({ outcome: 'LIMIT_EXCEEDED', errorCodes: ['LIMIT_EXCEEDED'] });
    expect(log.mock.calls.map((c) => String(c[0]))).not.toContain('[hub] unexpected error');
  });

  // audit.http.ts charsetRefused reads the first `;\s*charset=` anywhere in the header, inside a
  // quoted parameter value too; body-parser (content-type 2.x) parses the parameters and takes the
  // real `charset` parameter, here utf-7, which iconv-lite decodes: `+AHs-` is `{`, and the operation
  // a proxy or a capture reads is not the one the hub runs — the bypass 471b556 closed, reopened.
  it('refuses a body declared UTF-7 even when another parameter’s quoted value holds "; charset=utf-8"', async () => {
    const token = await t.token(Department.POLICE);
    const res = await fetch(t.hub.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; x="; charset=utf-8"; charset=utf-7', 'x-purpose': 'CASE_HANDLING' },
      body: '{"query":"{ regions +AHs- code } }"}',
    });
    const json = (await res.json()) as { data?: unknown; errors?: { extensions: { code: string } }[] };
    expect([res.status, json.data, json.errors?.map((e) => e.extensions.code)]).toEqual([415, undefined, ['BAD_USER_INPUT']]);
    expect(await storedEventOf(t, res.headers.get('x-request-id')!)).toMatchObject({ outcome: 'INVALID', errorCodes: ['BAD_USER_INPUT'] });
  });

  // auditAnomalies turns each bound into the next millisecond (millisecondBound) and only then
  // checks `since >= until`: `from` …000.0001 and `to` …000.0009 (from < to, 0.8 µs apart) both
  // become …001 and the request is refused "from: must be before to" — false. No event lies in
  // such a window (events are stamped to the millisecond): the answer is an empty list.
  it('auditAnomalies: a window within one millisecond, from before to, is answered (empty), not refused "from: must be before to"', async () => {
    const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, user: 'rt27-auditor' });
    const r = await t.gql(auditor, `query($f: DateTimeISO, $t: DateTimeISO) { auditAnomalies(from: $f, to: $t) { kind } }`, { f: '2026-12-01T10:00:00.0001Z', t: '2026-12-01T10:00:00.0009Z' }, {});
    expect({ errors: r.errors?.map((e: { message: string }) => e.message), data: r.data?.auditAnomalies }).toEqual({ errors: undefined, data: [] });
  });

  // Pin (passes): an inline literal with an offset and 4 fractional digits bounds the events as
  // written (from is after the event's millisecond, to is after it too), and trailing zeros past
  // the millisecond do not move the bound.
  it('pin: auditEvents bounds from inline literals with an offset, finer than a millisecond or padded with zeros', async () => {
    const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, user: 'rt27-auditor' });
    const officer = await t.token(Department.POLICE, { region: '330102001', user: 'rt27-pin' });
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
    const read = await post(t, officer, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id } });
    expect(read.status).toBe(200);
    await t.hub.audit.drain();
    const all = await t.gql(auditor, `{ auditEvents(filter: { requestId: "${read.requestId}" }) { edges { node { time } } } }`, {}, {});
    const time = new Date(all.data.auditEvents.edges[0].node.time as string);
    const plus8 = new Date(time.getTime() + 8 * 3_600_000).toISOString().replace(/Z$/, '5+08:00'); // half a millisecond after the event
    const padded = time.toISOString().replace(/Z$/, '0000Z'); // the event's own millisecond
    const count = async (bound: string, value: string) => {
      const r = await t.gql(auditor, `{ auditEvents(filter: { requestId: "${read.requestId}", ${bound}: "${value}" }) { edges { cursor } } }`, {}, {});
      return r.errors ? r.errors[0].message : r.data.auditEvents.edges.length;
    };
    expect({ fromPlus8: await count('from', plus8), toPlus8: await count('to', plus8), fromPadded: await count('from', padded), toPadded: await count('to', padded) }).toEqual({
      fromPlus8: 0,
      toPlus8: 1,
      fromPadded: 1,
      toPadded: 0,
    });
  });
});
