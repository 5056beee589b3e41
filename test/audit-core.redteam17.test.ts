import { Department } from '../src/auth/principal';
import { eventCount, eventOf, eventsOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(120_000);

/** Code review of src/audit (plugin, writer, access log, HTTP side, purpose, nulls, bound), confirmed through /graphql. */
describe('audit core (red team 17)', () => {
  let t: TestHub;
  let police: string;
  let minor: { id: string };
  const PURPOSE = { 'x-purpose': 'CASE_HANDLING; 2026-0042' };

  beforeAll(async () => {
    t = await startTestHub({ maxQueryCost: 2_000 });
    police = await t.token(Department.POLICE, { user: 'officer-rt17' });
    [minor] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' AND registry.is_minor(birth_date, now()) ORDER BY id LIMIT 1`);
  });
  afterAll(() => t.stop());

  async function exactlyOneEvent<T>(action: () => Promise<T>): Promise<T> {
    const before = await eventCount(t);
    const result = await action();
    expect(await eventCount(t)).toBe(before + 1);
    return result;
  }

  it('records the declared purpose of a query refused for its cost', async () => {
    const q = `query Big { a: minors(first: 1000) { edges { node { id name guardians { name phone } } } } }`;
    const r = await exactlyOneEvent(() => post(t, police, { query: q }, PURPOSE));
    expect([r.status, r.json.data ?? null, r.json.errors[0].extensions.code]).toEqual([413, null, 'LIMIT_EXCEEDED']);
    const e = await eventOf(t, r.requestId);
    expect(e.outcome).toBe('LIMIT_EXCEEDED');
    expect(e.purpose).toEqual({ code: 'CASE_HANDLING', reference: '2026-0042' });
  });

  it('records the declared purpose of a query refused for a null in a non-null position', async () => {
    const q = `query N($id: ID = "x") { minor(id: $id) { name } }`;
    const r = await exactlyOneEvent(() => post(t, police, { query: q, variables: { id: null } }, PURPOSE));
    expect([r.status, r.json.errors[0].extensions.code]).toEqual([400, 'BAD_USER_INPUT']);
    const e = await eventOf(t, r.requestId);
    expect(e.outcome).toBe('INVALID');
    expect(e.purpose).toEqual({ code: 'CASE_HANDLING', reference: '2026-0042' });
  });

  it('names the mutation in the event of a mutation refused for its depth, as for a deep variable', async () => {
    let sel = 'id';
    for (let i = 0; i < 14; i++) sel = `guardians { minor { ${sel} } }`;
    const q = `mutation Deep($id: ID!) { updateMinor(id: $id, input: { school: "x" }) { id ${sel} } }`;
    const r = await exactlyOneEvent(() => post(t, police, { query: q, variables: { id: minor.id }, operationName: 'Deep' }, PURPOSE));
    expect(r.json.errors[0].extensions.code).toBe('LIMIT_EXCEEDED');
    const e = await eventOf(t, r.requestId);
    expect(e.outcome).toBe('LIMIT_EXCEEDED');
    expect([e.operationType, e.operationName, e.purpose]).toEqual(['mutation', 'Deep', { code: 'CASE_HANDLING', reference: '2026-0042' }]);
  });

  it('audits a batched request once, with nothing served', async () => {
    const q = { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: minor.id } };
    const r = await exactlyOneEvent(() => post(t, police, [q, q], PURPOSE));
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(r.json ?? '')).not.toMatch(/"name"/);
    const events = await eventsOf(t, r.requestId);
    expect(events.map((e) => e.outcome)).toEqual(['INVALID']);
  });

  it('audits a GET with a query as refused, and serves nothing', async () => {
    const before = await eventCount(t);
    const url = `${t.hub.url}?query=${encodeURIComponent(`{ minor(id: "${minor.id}") { name } }`)}`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${police}`, ...PURPOSE } });
    const text = await res.text();
    expect(res.status).toBe(405);
    expect(text).not.toMatch(/"name"/);
    expect(await eventCount(t)).toBe(before + 1);
  });
  it('refuses a purpose reference with a space that is not U+0020, as every other line of text is (a no-break space reads as a space)', async () => {
    for (const reference of ['2026%C2%A00042', '2026%E3%80%800042', '2026%E2%80%AF0042']) {
      const r = await post(t, police, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: minor.id } }, { 'x-purpose': `CASE_HANDLING; ${reference}` });
      expect([reference, r.status, r.json.errors?.[0]?.extensions]).toEqual([reference, 400, { code: 'BAD_USER_INPUT', field: 'x-purpose' }]);
    }
  });

  it('records the declared purpose of a request refused for a variable nested too deep', async () => {
    let v: unknown = 1;
    for (let i = 0; i < 40; i++) v = [v];
    const r = await exactlyOneEvent(() => post(t, police, { query: `query Deep($id: ID!, $x: [ID]) { minor(id: $id) { name } }`, variables: { id: minor.id, x: v } }, PURPOSE));
    expect([r.status, r.json.errors[0].extensions.code]).toEqual([400, 'BAD_USER_INPUT']);
    const e = await eventOf(t, r.requestId);
    expect([e.outcome, e.operationName]).toEqual(['INVALID', 'Deep']);
    expect(e.purpose).toEqual({ code: 'CASE_HANDLING', reference: '2026-0042' });
  });

  it.each([
    ['an object for an ID', { id: { a: 1 } }],
    ['a list for an ID', { id: ['x'] }],
    ['a float for an Int', { id: null, first: 1.5 }],
  ])('refuses a variable of the wrong type as the client’s input, audited INVALID (%s)', async (_n, variables) => {
    const q = `query W($id: ID, $first: Int) { minor(id: $id) { name } minors(first: $first) { totalCount } }`;
    const r = await exactlyOneEvent(() => post(t, police, { query: q, variables }, PURPOSE));
    expect(r.json.data ?? null).toBeNull();
    expect(r.status).toBe(400);
    expect(r.json.errors.every((e: any) => e.extensions?.code === 'BAD_USER_INPUT' || e.extensions?.code === 'GRAPHQL_VALIDATION_FAILED')).toBe(true);
    expect((await eventOf(t, r.requestId)).outcome).toBe('INVALID');
  });
  it('records the declared purpose of a request refused by validation', async () => {
    const r = await exactlyOneEvent(() => post(t, police, { query: `query V($id: ID!) { minor(id: $id) { name noSuchField } }`, variables: { id: minor.id } }, PURPOSE));
    expect([r.status, r.json.errors[0].extensions.code]).toEqual([400, 'GRAPHQL_VALIDATION_FAILED']);
    const e = await eventOf(t, r.requestId);
    expect(e.outcome).toBe('INVALID');
    expect(e.purpose).toEqual({ code: 'CASE_HANDLING', reference: '2026-0042' });
  });

  it.each([
    ['JSON null', 'null', {}],
    ['a JSON string', '"{ regions { code } }"', {}],
    ['an empty batch', '[]', {}],
    ['an empty object', '{}', {}],
    ['variables as a string', JSON.stringify({ query: '{ regions { code } }', variables: '{"a":1}' }), {}],
    ['a query that is a number', JSON.stringify({ query: 5 }), {}],
    ['bad gzip', 'not gzip at all', { 'content-encoding': 'gzip' }],
    ['unknown encoding', '{}', { 'content-encoding': 'br2' }],
    ['latin1 charset', JSON.stringify({ query: '{ regions { code } }' }), { 'content-type': 'application/json; charset=latin1' }],
    ['text/plain', JSON.stringify({ query: '{ regions { code } }' }), { 'content-type': 'text/plain' }],
    ['no content type', JSON.stringify({ query: '{ regions { code } }' }), { 'content-type': '' }],
    ['extensions not an object', JSON.stringify({ query: '{ regions { code } }', extensions: 'x' }), {}],
  ])('a malformed body (%s) leaves exactly one event and no 500', async (_n, body, headers) => {
    const before = await eventCount(t);
    const h: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${police}`, ...PURPOSE, ...headers };
    if (h['content-type'] === '') delete h['content-type'];
    const res = await fetch(t.hub.url, { method: 'POST', headers: h, body });
    const text = await res.text();
    expect([res.status < 500, text]).toEqual([true, text]);
    expect(text).not.toMatch(/at .*\.(ts|js):\d+|stack/i);
    expect(await eventCount(t)).toBe(before + 1);
    const events = await eventsOf(t, res.headers.get('x-request-id')!);
    expect(events.length).toBe(1);
    expect(['INVALID', 'SUCCESS', 'LIMIT_EXCEEDED']).toContain(events[0].outcome);
    if (res.status >= 400) expect(events[0].outcome).not.toBe('SUCCESS');
  });
  it.each([
    ['edges { __typename }', 'edges { __typename }'],
    ['edges { node { __typename } }', 'edges { node { __typename } }'],
    ['edges { cursor }', 'edges { cursor }'],
    ['edges aliased twice', 'a: edges { __typename } b: edges { __typename }'],
    ['edges in a fragment', '...E', 'fragment E on MinorConnection { edges { __typename } }'],
  ])('a filtered page whose edges select nothing of the child still records each child it answers with (%s)', async (_n, sel, frag = '') => {
    const q = `query P { minors(first: 3, filter: { riskLevels: [RED, ORANGE, YELLOW, BLUE] }) { ${sel} } } ${frag}`;
    const r = await post(t, police, { query: q }, PURPOSE);
    expect(r.json.errors).toBeUndefined();
    const conn = r.json.data.minors;
    const edges = (conn.edges ?? conn.a ?? []).length;
    expect(edges).toBeGreaterThan(0);
    const e = await eventOf(t, r.requestId);
    const children = new Set(e.reads.map((x: any) => x.minorId));
    expect(children.size).toBeGreaterThanOrEqual(edges);
  });
  it.each([
    ['a null required input field', (m: string) => ({ i: { minorId: m, type: 'EDUCATION_AID', toDepartment: 'EDUCATION', need: null } })],
    ['an unknown input field', (m: string) => ({ i: { minorId: m, type: 'EDUCATION_AID', toDepartment: 'EDUCATION', need: 'x', extra: 1 } })],
    ['an enum value that does not exist', (m: string) => ({ i: { minorId: m, type: 'NOPE', toDepartment: 'EDUCATION', need: 'x' } })],
    ['a list for an input object', (m: string) => ({ i: [{ minorId: m, type: 'EDUCATION_AID', toDepartment: 'EDUCATION', need: 'x' }] })],
  ])('a mutation whose variable does not coerce (%s): 400 BAD_USER_INPUT, nothing changed, audited INVALID after its STARTED event', async (_n, vars) => {
    const civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'ca-rt17' });
    const before = (await t.sql(`SELECT count(*)::int AS n FROM workflow.referral`))[0].n;
    const r = await post(t, civil, { query: `mutation R($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, variables: vars(minor.id) }, PURPOSE);
    expect([r.status, r.json.data ?? null, r.json.errors.map((e: any) => e.extensions?.code)]).toEqual([400, null, ['BAD_USER_INPUT']]);
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.referral`))[0].n).toBe(before);
    const events = await eventsOf(t, r.requestId);
    expect(events.map((e) => e.outcome).filter((o) => o !== 'STARTED')).toEqual(['INVALID']);
    expect(events.at(-1)!.body.changes).toEqual([]);
  });
  it('POST to /graphql/x: not the endpoint, a JSON 404 that serves nothing and so records nothing', async () => {
    const before = await eventCount(t);
    const res = await fetch(t.hub.url + '/x', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${police}`, ...PURPOSE },
      body: JSON.stringify({ query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: minor.id } }),
    });
    const body: any = await res.json();
    expect([res.status, body.data, body.errors.map((e: any) => e.extensions.code), await eventCount(t)]).toEqual([404, undefined, ['NOT_FOUND'], before]);
  });
  it.each([
    ['HEAD', '', 'HEAD'],
    ['OPTIONS', '', 'OPTIONS'],
    ['PUT', '', 'PUT'],
    ['POST to /graphql/', '/', 'POST'],
    ['POST to /graphql?x=1', '?x=1', 'POST'],
  ])('%s: exactly one event, and no child data without it', async (_n, suffix, method) => {
    const before = await eventCount(t);
    const body = method === 'POST' || method === 'PUT' ? JSON.stringify({ query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: minor.id } }) : undefined;
    const res = await fetch(t.hub.url + suffix, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${police}`, ...PURPOSE }, body });
    const text = await res.text();
    const after = await eventCount(t);
    if (res.status === 200 && /"name"/.test(text)) {
      const e = await eventOf(t, res.headers.get('x-request-id')!);
      expect(e.reads.map((x: any) => x.minorId)).toEqual([minor.id]);
    }
    expect(after).toBe(before + 1);
  });
});
