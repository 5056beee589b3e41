import { Department, Role } from '../src/auth/principal';
import { eventOf, eventsOf, post } from './support/audit-helpers';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

/**
 * Regression review (red team 20, rt201) of fa53227 (payload / grantedFields priced at 7), 74bae2a
 * (auditEvents records its child look-up once its events are read), 5f976c1 (events of requests
 * refused after the document parsed name the operation and its variables' HMACs) and be57ea3.
 */
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; rt201' };
/** Eleven fields under one response name: refused in the HTTP layer (the validation bound), after the document parsed. */
const eleven = (field: string) => ` ${field}`.repeat(11);
const deep = (n: number): unknown => (n === 0 ? 'x' : [deep(n - 1)]);

describe.each([
  ['in process', false],
  ['distributed', true],
])('refused requests named and hashed (5f976c1), %s (redteam20 rt201)', (_mode, distributed) => {
  let t: TestHub;
  let civil: string;
  let child: string;
  beforeAll(async () => {
    t = distributed ? await startDistributedTestHub() : await startTestHub();
    civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'rt201-civil' });
    [{ id: child }] = await t.sql(`SELECT id FROM registry.minor WHERE birth_date > now() - interval '17 years' ORDER BY id LIMIT 1`);
  });
  afterAll(() => t?.stop());

  it('an operationName the document does not define is recorded alike whether the bound or the plugin refuses it', async () => {
    const byPlugin = await post(t, civil, { query: 'query Probe { __typename }', operationName: 'Nope' }, PURPOSE);
    expect([byPlugin.status, byPlugin.json.errors[0].extensions.code]).toEqual([400, 'OPERATION_RESOLUTION_FAILURE']);
    const pluginEvent = await eventOf(t, byPlugin.requestId);
    const byBound = await post(t, civil, { query: `query Probe { ${eleven('__typename')} }`, operationName: 'Nope' }, PURPOSE);
    expect([byBound.status, byBound.json.errors[0].extensions.code]).toEqual([413, 'LIMIT_EXCEEDED']);
    const boundEvent = await eventOf(t, byBound.requestId);
    expect([boundEvent.operationName, boundEvent.operationType]).toEqual([pluginEvent.operationName, pluginEvent.operationType]);
  });

  it('a persisted-query extension beside a document that parsed (Apollo refuses it, PERSISTED_QUERY_NOT_SUPPORTED): named and hashed as the other refusals after parsing', async () => {
    const extensions = { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } };
    const r = await post(t, civil, { query: 'mutation M($id: ID!) { updateMinor(id: $id, input: { currentAddress: "x" }) { id } }', variables: { id: child }, extensions }, PURPOSE);
    expect([r.json.data, r.json.errors.map((e: any) => e.extensions.code)]).toEqual([undefined, ['PERSISTED_QUERY_NOT_SUPPORTED']]);
    const events = await eventsOf(t, r.requestId);
    expect(events.map((e) => e.outcome)).toEqual(['INVALID']);
    // As the same document refused by validation is recorded (the test below): a mutation attempted, its variable's HMAC.
    const invalid = await post(t, civil, { query: 'mutation M($id: ID!) { updateMinor(id: $id, input: { noSuchField: 1 }) { id } }', variables: { id: child } }, PURPOSE);
    const invalidEvent = await eventOf(t, invalid.requestId);
    expect([events[0].body.operationName, events[0].body.operationType, events[0].body.variables]).toEqual(['M', 'mutation', invalidEvent.variables]);
    expect(events[0].body.document).toContain('updateMinor');
  });

  it('an operationName the document does not define, refused by Apollo before its pipeline (variables a string): recorded as the plugin records it', async () => {
    const byPlugin = await post(t, civil, { query: 'query Probe { __typename }', operationName: 'Nope' }, PURPOSE);
    const pluginEvent = await eventOf(t, byPlugin.requestId);
    const r = await post(t, civil, { query: 'query Probe { __typename }', operationName: 'Nope', variables: '{}' }, PURPOSE);
    expect(r.status).toBe(400);
    const event = await eventOf(t, r.requestId);
    expect(event.operationName).toBe(pluginEvent.operationName);
  });

  it('an input-object variable of a mutation: the same HMAC in its STARTED event, its final event and a request the bound refuses', async () => {
    const input = { currentAddress: 'rt201 hmac street 1', school: null };
    const doc = (sel: string) => `mutation M($id: ID!, $input: UpdateMinorInput!) { updateMinor(id: $id, input: $input) { ${sel} } }`;
    const ok = await post(t, civil, { query: doc('id'), variables: { id: child, input } }, PURPOSE);
    expect([ok.status, ok.json.errors]).toEqual([200, undefined]);
    const served = await eventsOf(t, ok.requestId);
    expect(served.map((e) => e.outcome)).toEqual(['STARTED', 'SUCCESS']);
    const r = await post(t, civil, { query: doc(eleven('id')), variables: { id: child, input } }, PURPOSE);
    expect(r.status).toBe(413);
    const refused = await eventOf(t, r.requestId);
    expect([served[0].body.variables, served[1].body.variables]).toEqual([refused.variables, refused.variables]);
    expect(Object.keys(refused.variables)).toEqual(['id', 'input']);
  });

  it('several operations and no operationName: refused by the bound, the event names none and hashes nothing, no 500', async () => {
    const r = await post(t, civil, { query: `query A($v: String) { ${eleven('__typename')} } query B { __typename }`, variables: { v: 'x' } }, PURPOSE);
    expect([r.status, r.json.errors[0].extensions.code]).toEqual([413, 'LIMIT_EXCEEDED']);
    const event = await eventOf(t, r.requestId);
    expect([event.operationName, event.operationType, event.variables]).toEqual([null, null, {}]);
    // Naming B: the event is B's, with B's variables (none).
    const b = await post(t, civil, { query: `query A($v: String) { ${eleven('__typename')} } query B { __typename }`, variables: { v: 'x' }, operationName: 'B' }, PURPOSE);
    expect(b.status).toBe(413);
    const eb = await eventOf(t, b.requestId);
    expect([eb.operationName, eb.operationType, eb.variables]).toEqual(['B', 'query', {}]);
  });

  it('several operations, operationName naming one: the bound\'s event hashes that operation\'s variables only, a deep one left out', async () => {
    const query = `query A($a: String) { ${eleven('__typename')} } query B($b: String, $d: [String]) { ${eleven('__typename')} }`;
    const r = await post(t, civil, { query, variables: { a: 'x', b: 'y', d: deep(40) }, operationName: 'B' }, PURPOSE);
    expect([r.status, r.json.errors[0].extensions.code]).toEqual([413, 'LIMIT_EXCEEDED']);
    const event = await eventOf(t, r.requestId);
    expect([event.operationName, Object.keys(event.variables)]).toEqual(['B', ['b']]);
  });

  it('a mutation refused by validation is a mutation attempted: named, INVALID, no change, no STARTED event, its variables hashed', async () => {
    const r = await post(t, civil, { query: 'mutation M($id: ID!) { updateMinor(id: $id, input: { noSuchField: 1 }) { id } }', variables: { id: child } }, PURPOSE);
    expect([r.status, r.json.errors[0].extensions.code]).toEqual([400, 'GRAPHQL_VALIDATION_FAILED']);
    const events = await eventsOf(t, r.requestId);
    expect(events.map((e) => e.outcome)).toEqual(['INVALID']);
    expect(events[0].body).toMatchObject({ operationName: 'M', operationType: 'mutation', changes: [], reads: [], errorCodes: ['GRAPHQL_VALIDATION_FAILED'] });
    expect(Object.keys(events[0].body.variables)).toEqual(['id']);
  });

  it('a mutation refused by the bound: named, LIMIT_EXCEEDED, nothing changed, no STARTED event', async () => {
    const [{ updated_at: before }] = await t.sql(`SELECT updated_at FROM registry.minor WHERE id = $1`, [child]);
    const r = await post(t, civil, { query: `mutation M($id: ID!) { updateMinor(id: $id, input: { currentAddress: "x" }) { ${eleven('id')} } }`, variables: { id: child } }, PURPOSE);
    expect([r.status, r.json.errors[0].extensions.code]).toEqual([413, 'LIMIT_EXCEEDED']);
    const events = await eventsOf(t, r.requestId);
    expect(events.map((e) => e.outcome)).toEqual(['LIMIT_EXCEEDED']);
    expect(events[0].body).toMatchObject({ operationName: 'M', operationType: 'mutation', changes: [] });
    const [{ updated_at: after }] = await t.sql(`SELECT updated_at FROM registry.minor WHERE id = $1`, [child]);
    expect(after).toEqual(before);
  });

  it.each([
    ['an array', [1, 2]],
    ['a string', '{"v":"x"}'],
    ['null', null],
    ['a number', 5],
    ['true', true],
  ])('variables given as %s, refused by the bound: 413, no variable hashed', async (_what, variables) => {
    const r = await post(t, civil, { query: `query P($v: String) { ${eleven('__typename')} v: __typename @skip(if: false) }`, variables }, PURPOSE);
    expect([r.status, r.json.errors.map((e: any) => e.extensions.code)]).toEqual([413, ['LIMIT_EXCEEDED']]);
    const event = await eventOf(t, r.requestId);
    expect([event.operationName, event.variables]).toEqual(['P', {}]);
  });

  it.each([
    ['an array', [1, 2]],
    ['a string', '{"v":"x"}'],
    ['a number', 5],
  ])('variables given as %s to a valid document (Apollo refuses before its pipeline): one event, named, no 500', async (_what, variables) => {
    const r = await post(t, civil, { query: 'query P($v: String) { __typename }', variables }, PURPOSE);
    expect(r.status).toBe(400);
    const events = await eventsOf(t, r.requestId);
    expect(events).toHaveLength(1);
    expect([events[0].body.operationName, events[0].body.variables]).toEqual(['P', {}]);
  });

  it('twenty thousand variables beside a declared one, refused by the bound: answered quickly, only the declared one hashed', async () => {
    const variables: Record<string, unknown> = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`u${i}`, { a: [i] }]));
    variables.id = child;
    const started = performance.now();
    const r = await post(t, civil, { query: `query P($id: ID!) { minor(id: $id) { ${eleven('name')} } }`, variables }, PURPOSE);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(r.status).toBe(413);
    expect(Object.keys((await eventOf(t, r.requestId)).variables)).toEqual(['id']);
  });

  it('a variable nested past the bound beside a shallow one: 400, the shallow one hashed as when served', async () => {
    const query = 'query P($a: [String], $b: String) { __typename @skip(if: false) a: __typename b: __typename }';
    const r = await post(t, civil, { query, variables: { a: deep(40), b: 'shallow' } }, PURPOSE);
    expect([r.status, r.json.errors[0].extensions.code]).toEqual([400, 'BAD_USER_INPUT']);
    const refused = await eventOf(t, r.requestId);
    expect(Object.keys(refused.variables)).toEqual(['b']);
    const ok = await post(t, civil, { query: 'query P($b: String) { x: __typename @skip(if: false) }', variables: { b: 'shallow' } }, PURPOSE);
    const okEvent = await eventOf(t, ok.requestId);
    expect(okEvent.variables.b ?? (await eventsOf(t, ok.requestId))).toBe(refused.variables.b);
  });

  it('a variable exactly at the depth bound is served, and hashed alike when the bound refuses its document', async () => {
    const v = deep(31);
    const query = (n: number) => `query P($a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[String]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]) { ${' __typename'.repeat(n)} }`;
    const ok = await post(t, civil, { query: query(1), variables: { a: v } }, PURPOSE);
    const okEvent = await eventsOf(t, ok.requestId);
    const refused = await post(t, civil, { query: query(11), variables: { a: v } }, PURPOSE);
    expect(refused.status).toBe(413);
    const refusedEvent = await eventOf(t, refused.requestId);
    expect(okEvent.map((e) => e.body.variables)).toEqual([refusedEvent.variables]);
  });

  it('a variable named __proto__: hashed when refused by the bound, equal to its HMAC when served', async () => {
    const query = (n: number) => `query P($__proto__: Boolean!) { ${' __typename @include(if: $__proto__)'.repeat(n)} }`;
    const body = (n: number) => `{"query": ${JSON.stringify(query(n))}, "variables": {"__proto__": true}}`;
    const ok = await post(t, civil, body(1), PURPOSE);
    expect([ok.status, ok.json.data]).toEqual([200, { __typename: 'Query' }]);
    const served = await eventOf(t, ok.requestId);
    expect(Object.keys(served.variables)).toEqual(['__proto__']);
    const r = await post(t, civil, body(11), PURPOSE);
    expect(r.status).toBe(413);
    const refused = await eventOf(t, r.requestId);
    expect(refused.variables).toEqual(served.variables);
  });

  it('a child id sent to a read served (compiled when in process) and to one refused by the bound: the same HMAC', async () => {
    const before = t.hub.compiledReadsServed();
    const ok = await post(t, civil, { query: 'query Child($id: ID!) { minor(id: $id) { name } }', variables: { id: child } }, PURPOSE);
    expect([ok.status, ok.json.errors]).toEqual([200, undefined]);
    if (!distributed) expect(t.hub.compiledReadsServed()).toBe((before ?? 0) + 1);
    const served = await eventOf(t, ok.requestId);
    const r = await post(t, civil, { query: `query Child($id: ID!) { minor(id: $id) { ${eleven('name')} } }`, variables: { id: child } }, PURPOSE);
    expect(r.status).toBe(413);
    expect((await eventOf(t, r.requestId)).variables).toEqual(served.variables);
    // And refused by validation, and by Apollo Server before its pipeline (operationName not a string).
    const invalid = await post(t, civil, { query: 'query Child($id: ID!) { minor(id: $id) { noSuchField } }', variables: { id: child } }, PURPOSE);
    expect(invalid.status).toBe(400);
    expect((await eventOf(t, invalid.requestId)).variables).toEqual(served.variables);
    const apollo = await post(t, civil, { query: 'query Child($id: ID!) { minor(id: $id) { name } }', variables: { id: child }, operationName: 7 }, PURPOSE);
    expect(apollo.status).toBe(400);
    expect((await eventOf(t, apollo.requestId)).variables).toEqual(served.variables);
  });
});

describe.each([
  ['in process', false],
  ['distributed', true],
])('auditEvents child look-up record (74bae2a), %s, redteam20 rt201', (_mode, distributed) => {
  let t: TestHub;
  let auditor: string;
  beforeAll(async () => {
    t = distributed ? await startDistributedTestHub() : await startTestHub();
    auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, user: 'rt201-auditor' });
  });
  afterAll(() => t?.stop());

  const q = 'query($f: AuditEventFilter, $first: Int, $after: String) { auditEvents(filter: $f, first: $first, after: $after) { edges { node { seq } } } }';

  it('a filter by a child that finds no event is still a look-up of the child', async () => {
    const nobody = '0194c5c4-0000-7000-8000-00000000abcd';
    const r = await post(t, auditor, { query: q, variables: { f: { minorId: nobody } } }, {});
    expect([r.status, r.json.errors, r.json.data.auditEvents.edges]).toEqual([200, undefined, []]);
    const event = await eventOf(t, r.requestId);
    expect(event.reads).toEqual([{ minorId: nobody, fields: { 'Query.auditEvents': 'ALLOW' } }]);
  });

  it('a second auditEvents of the request, filtered by a child and refused once per request, records no look-up of that child', async () => {
    const minorId = '0194c5c4-0000-7000-8000-00000000abcf';
    const r = await post(t, auditor, { query: `query($m: ID) { a: auditEvents(first: 1) { edges { node { seq } } } b: auditEvents(first: 1, filter: { minorId: $m }) { edges { node { seq } } } }`, variables: { m: minorId } }, {});
    const codes = (r.json.errors ?? []).map((e: any) => [e.path?.[0], e.extensions.code]);
    expect(codes).toEqual([['b', 'LIMIT_EXCEEDED']]);
    expect((await eventOf(t, r.requestId)).reads).toEqual([]);
  });

  it.each([
    ['a page of 0', { first: 0 }],
    ['a cursor not the API\'s', { after: 'x' }],
    ['an empty userId', { f2: { userId: '' } }],
    ['a requestId that is none', { f2: { requestId: 'nope' } }],
  ])('refused before reading (%s): no look-up recorded', async (_what, extra: Record<string, unknown>) => {
    const minorId = '0194c5c4-0000-7000-8000-00000000abce';
    const { f2, ...rest } = extra as { f2?: Record<string, unknown> };
    const r = await post(t, auditor, { query: q, variables: { f: { minorId, ...(f2 ?? {}) }, ...rest } }, {});
    expect(r.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await eventOf(t, r.requestId)).reads).toEqual([]);
  });
});
