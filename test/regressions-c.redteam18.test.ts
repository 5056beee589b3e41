import { Department, Role } from '../src/auth/principal';
import { eventOf, eventsOf, post } from './support/audit-helpers';
import { insertWebhook } from './support/webhooks';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const { CIVIL_AFFAIRS: CA, POLICE: PO, EDUCATION: ED } = Department;
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; rt18' };

/**
 * Red team 18 (group 2): regression review of recent fixes — each probe goes through the public
 * endpoint and asserts what README / docs promise.
 */
describe('red team 18: regressions of recent fixes (in process)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t?.stop());

  const someChild = async (): Promise<string> => (await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' ORDER BY id LIMIT 1`))[0].id;

  // 8b048d6: minor(id:) in capitals
  it('minor(id:) in capitals answers the child, with department fields beside', async () => {
    const child = await someChild();
    const r = await post(t, await t.token(PO), { query: `query($id: ID!) { minor(id: $id) { id name policeIncidents(first: 1) { id } } }`, variables: { id: child.toUpperCase() } }, PURPOSE);
    expect(r.json.errors).toBeUndefined();
    expect(r.json.data.minor.id).toBe(child);
    const e = await eventOf(t, r.requestId);
    expect(e.reads.map((x: any) => x.minorId)).toEqual([child]);
  });

  // 8cd47c4: auditEvents(filter: { requestId })
  it('auditEvents(filter: { requestId }) finds a request by its id in capitals as in lower case', async () => {
    const child = await someChild();
    const r = await post(t, await t.token(PO), { query: `query($id: ID!) { minor(id: $id) { id } }`, variables: { id: child } }, PURPOSE);
    expect(r.status).toBe(200);
    await eventsOf(t, r.requestId);
    const auditor = await t.token(CA, { role: Role.AUDITOR });
    const q = `query($r: ID!) { auditEvents(filter: { requestId: $r }) { edges { node { requestId } } } }`;
    const lower = await post(t, auditor, { query: q, variables: { r: r.requestId } }, { 'x-purpose': 'SUPERVISION' });
    expect(lower.json.errors).toBeUndefined();
    expect(lower.json.data.auditEvents.edges.map((e: any) => e.node.requestId)).toEqual([r.requestId]);
    const upper = await post(t, auditor, { query: q, variables: { r: r.requestId.toUpperCase() } }, { 'x-purpose': 'SUPERVISION' });
    expect(upper.json.errors).toBeUndefined();
    expect(upper.json.data.auditEvents.edges.map((e: any) => e.node.requestId)).toEqual([r.requestId]);
  });

  // 82c4091: a page size no Int holds
  it('a page size no Int holds, as a literal, is refused as invalid (400), not priced (413)', async () => {
    const r = await post(t, await t.token(PO), { query: `{ policeIncidents(first: 2147483648) { nodes { id } } }` }, PURPOSE);
    expect(r.status).toBe(400);
    expect(r.json.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('a page size no Int holds, as a variable beside a valid one, is refused BAD_USER_INPUT', async () => {
    const r = await post(
      t,
      await t.token(PO),
      { query: `query($a: Int!, $b: Int!) { a: policeIncidents(first: $a) { nodes { id } } b: policeIncidents(first: $b) { nodes { id } } }`, variables: { a: 2147483648, b: 5 } },
      PURPOSE,
    );
    expect(r.status).toBe(400);
    expect(r.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  // fe9c7de: webhooks paged
  it('webhooks: another department’s webhook as `after` is refused as an unknown id is; first out of range refused', async () => {
    const other = await insertWebhook(t, 'EDUCATION', '330102', 'https://edu.example/hook');
    const own1 = await insertWebhook(t, 'POLICE', '330102', 'https://po.example/hook1');
    const own2 = await insertWebhook(t, 'POLICE', '330102', 'https://po.example/hook2');
    const token = await t.token(PO);
    const list = async (args: string) => post(t, token, { query: `{ webhooks${args} { id active } }` }, {});
    const all = await list('');
    expect(all.json.errors).toBeUndefined();
    const ids = all.json.data.webhooks.map((w: any) => w.id);
    expect(ids).toEqual(expect.arrayContaining([own1, own2]));
    expect(ids).not.toContain(other);
    const next = await list(`(first: 1, after: "${own1.toUpperCase()}")`);
    expect(next.json.errors).toBeUndefined();
    expect(next.json.data.webhooks.map((w: any) => w.id)).toEqual([ids[ids.indexOf(own1) + 1]]);
    const foreign = await list(`(after: "${other}")`);
    const unknown = await list(`(after: "00000000-0000-4000-8000-000000000000")`);
    expect(foreign.status).toBe(unknown.status);
    expect(foreign.json.errors.map((e: any) => [e.message, e.extensions.code])).toEqual(unknown.json.errors.map((e: any) => [e.message, e.extensions.code]));
    for (const first of [0, 501, -1]) {
      const r = await list(`(first: ${first})`);
      expect(r.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    // deactivating another department's webhook: not found, as an unknown one
    const d1 = await post(t, token, { query: `mutation { deactivateWebhook(id: "${other}") { id } }` }, {});
    const d2 = await post(t, token, { query: `mutation { deactivateWebhook(id: "00000000-0000-4000-8000-000000000000") { id } }` }, {});
    expect(d1.json.errors.map((e: any) => [e.message, e.extensions.code])).toEqual(d2.json.errors.map((e: any) => [e.message, e.extensions.code]));
    expect((await t.sql(`SELECT active FROM workflow.webhook WHERE id = $1`, [other]))[0].active).toBe(true);
    // deactivated stays listed
    const d3 = await post(t, token, { query: `mutation { deactivateWebhook(id: "${own1.toUpperCase()}") { id active } }` }, {});
    expect(d3.json.errors).toBeUndefined();
    expect(d3.json.data.deactivateWebhook).toEqual({ id: own1, active: false });
    const after = await list('');
    expect(after.json.data.webhooks.find((w: any) => w.id === own1)).toEqual({ id: own1, active: false });
  });

  // 8cd47c4: every answer's x-request-id finds its event
  it('auditEvents(filter: { requestId }) finds the one event of each refused request by the id its answer named', async () => {
    const auditor = await t.token(CA, { role: Role.AUDITOR });
    const police = await t.token(PO);
    const url = t.hub.url;
    const send = async (init: RequestInit) => {
      const res = await fetch(url, init);
      await res.text();
      return { status: res.status, id: res.headers.get('x-request-id') };
    };
    const json = { 'content-type': 'application/json' };
    const cases: [string, RequestInit][] = [
      ['no token', { method: 'POST', headers: json, body: JSON.stringify({ query: '{ regions { code } }' }) }],
      ['bad token', { method: 'POST', headers: { ...json, authorization: 'Bearer x.y.z' }, body: JSON.stringify({ query: '{ regions { code } }' }) }],
      ['not JSON', { method: 'POST', headers: { ...json, authorization: `Bearer ${police}` }, body: '{"query": ' }],
      ['a batch', { method: 'POST', headers: { ...json, authorization: `Bearer ${police}` }, body: JSON.stringify([{ query: '{ regions { code } }' }]) }],
      ['no query', { method: 'POST', headers: { ...json, authorization: `Bearer ${police}` }, body: JSON.stringify({}) }],
      ['GET', { method: 'GET', headers: { authorization: `Bearer ${police}` } }],
      ['invalid', { method: 'POST', headers: { ...json, authorization: `Bearer ${police}` }, body: JSON.stringify({ query: '{ nope }' }) }],
      ['too large', { method: 'POST', headers: { ...json, authorization: `Bearer ${police}` }, body: JSON.stringify({ query: `{ regions { code } } # ${'x'.repeat(2_000_000)}` }) }],
    ];
    for (const [name, init] of cases) {
      const r = await send(init);
      expect([name, typeof r.id]).toEqual([name, 'string']);
      await t.hub.audit.drain();
      const found = await post(t, auditor, { query: `query($r: ID!) { auditEvents(filter: { requestId: $r }) { edges { node { requestId outcome } } } }`, variables: { r: r.id } }, { 'x-purpose': 'SUPERVISION' });
      expect([name, r.status, found.json.errors]).toEqual([name, r.status, undefined]);
      expect([name, found.json.data.auditEvents.edges.length]).toEqual([name, 1]);
    }
  });

  // 93bcee6 x 4e62fec: a page cursor under a referral's purpose
  it('under a referral’s purpose, a filtered page’s nextCursor deciding by other children is withheld, its reads refused', async () => {
    const civil = await t.token(CA);
    const education = await t.token(ED, { user: 'rt18-referral' });
    const [{ id: child }] = await t.sql(`SELECT minor_id AS id FROM registry.minor_jurisdiction ORDER BY minor_id LIMIT 1 OFFSET 40`);
    const r0 = await t.gql(civil, `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, {
      i: { minorId: child, type: 'EDUCATION_AID', toDepartment: 'EDUCATION', need: '家庭困难' },
    });
    expect(r0.errors).toBeUndefined();
    const referral = r0.data.createReferral.id;
    const r = await post(t, education, { query: `{ dropoutReports(first: 3, filter: { statuses: [OPEN, CLOSED] }) { nextCursor } }` }, { 'x-purpose': `REFERRAL; ${referral}` });
    const e = await eventOf(t, r.requestId);
    const deciding = e.reads.filter((x: any) => x.minorId !== child);
    expect(deciding.length).toBeGreaterThan(0);
    expect([r.status, r.json.data, r.json.errors?.map((x: any) => x.extensions.code)]).toEqual([403, undefined, ['FORBIDDEN']]);
    expect(e.outcome).toBe('DENIED');
    for (const g of e.reads) for (const a of Object.values(g.fields)) expect(a).toBe('DENY');
  });

  // 8cd47c4: a request id does not reach past the auditor's jurisdiction
  it('auditEvents(filter: { requestId }) of a request made in another street answers nothing to a street’s auditor', async () => {
    const [a, b] = (await t.sql(`SELECT code FROM registry.region WHERE length(code) = 9 AND code LIKE '330102%' ORDER BY code LIMIT 2`)).map((r: any) => r.code);
    const police = await t.token(PO, { region: b });
    const r = await post(t, police, { query: `{ regions { code } }` }, {});
    expect(r.status).toBe(200);
    await eventsOf(t, r.requestId);
    const q = `query($r: ID!) { auditEvents(filter: { requestId: $r }) { edges { node { requestId } } } }`;
    const own = await post(t, await t.token(CA, { role: Role.AUDITOR, region: b }), { query: q, variables: { r: r.requestId } }, { 'x-purpose': 'SUPERVISION' });
    expect(own.json.data.auditEvents.edges).toHaveLength(1);
    const other = await post(t, await t.token(CA, { role: Role.AUDITOR, region: a }), { query: q, variables: { r: r.requestId } }, { 'x-purpose': 'SUPERVISION' });
    expect(other.json.errors).toBeUndefined();
    expect(other.json.data.auditEvents.edges).toEqual([]);
  });

  // 93bcee6: an answer naming another child by its type name alone, under a referral's purpose
  it('under a referral’s purpose, another child found (even by __typename alone, even in capitals) withholds the answer', async () => {
    const civil = await t.token(CA);
    const education = await t.token(ED, { user: 'rt18-referral-2' });
    const [{ id: child }, { id: other }] = await t.sql(`SELECT minor_id AS id FROM registry.minor_jurisdiction ORDER BY minor_id LIMIT 2 OFFSET 50`);
    const r0 = await t.gql(civil, `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, {
      i: { minorId: child, type: 'EDUCATION_AID', toDepartment: 'EDUCATION', need: '家庭困难' },
    });
    const referral = r0.data.createReferral.id;
    const purpose = { 'x-purpose': `REFERRAL; ${referral}` };
    const own = await post(t, education, { query: `query($a: ID!) { minor(id: $a) { __typename name } }`, variables: { a: child.toUpperCase() } }, purpose);
    expect([own.status, own.json.errors]).toEqual([200, undefined]);
    for (const q of [`query($a: ID!) { minor(id: $a) { __typename } }`, `query($a: ID!) { minor(id: $a) { id } }`]) {
      const r = await post(t, education, { query: q, variables: { a: other.toUpperCase() } }, purpose);
      expect([q, r.status, r.json.data]).toEqual([q, 403, undefined]);
      const e = await eventOf(t, r.requestId);
      expect(e.outcome).toBe('DENIED');
    }
  });

  // 8cd47c4 x 8b048d6: the compiled read's answer names its event, for an id in capitals too
  it('a compiled read of a child asked in capitals: served, its x-request-id finds its one event naming the child', async () => {
    const child = await someChild();
    const before = t.hub.compiledReadsServed()!;
    const r = await post(t, await t.token(PO), { query: 'query ($v: ID!) { minor(id: $v) { name } }', variables: { v: child.toUpperCase() } }, { 'x-purpose': 'CASE_HANDLING' });
    expect(r.json.errors).toBeUndefined();
    expect(r.json.data.minor.name).toEqual(expect.any(String));
    expect(t.hub.compiledReadsServed()! - before).toBe(1);
    await t.hub.audit.drain();
    const found = await post(
      t,
      await t.token(CA, { role: Role.AUDITOR }),
      { query: `query($r: ID!) { auditEvents(filter: { requestId: $r }) { edges { node { requestId outcome reads { minorId fields { field access } } } } } }`, variables: { r: r.requestId } },
      { 'x-purpose': 'SUPERVISION' },
    );
    expect(found.json.errors).toBeUndefined();
    expect(found.json.data.auditEvents.edges.map((e: any) => e.node)).toEqual([
      { requestId: r.requestId, outcome: 'SUCCESS', reads: [{ minorId: child, fields: [{ field: 'Minor.name', access: 'ALLOW' }] }] },
    ]);
  });

  // 8cd47c4 / 0bd0e19: a refused auditEvents look-up reads no child's history
  it('auditEvents refused for its requestId filter records no look-up of the child its minorId filter names', async () => {
    const child = await someChild();
    const auditor = await t.token(CA, { role: Role.AUDITOR, user: 'rt18-auditor-refused' });
    const q = `query($m: ID!, $r: ID!) { auditEvents(filter: { minorId: $m, requestId: $r }) { edges { node { seq } } } }`;
    // A refused page size is checked before the look-up: nothing read
    const page = await post(t, auditor, { query: `query($m: ID!) { auditEvents(first: 0, filter: { minorId: $m }) { edges { node { seq } } } }`, variables: { m: child } }, { 'x-purpose': 'SUPERVISION' });
    expect((await eventOf(t, page.requestId)).reads).toEqual([]);
    // So must a refused requestId: no look-up was made, nothing of the child's history was answered.
    for (const bad of ['not-a-request', '']) {
      const r = await post(t, auditor, { query: q, variables: { m: child, r: bad } }, { 'x-purpose': 'SUPERVISION' });
      expect(r.json.errors?.map((e: any) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
      const e = await eventOf(t, r.requestId);
      expect([bad, e.outcome, e.reads]).toEqual([bad, 'INVALID', []]);
    }
  });

  // 0bd0e19: empty filters refused
  it('auditEvents: an empty or blank filter value is refused, never the whole trail', async () => {
    const auditor = await t.token(CA, { role: Role.AUDITOR });
    for (const f of ['userId: ""', 'department: ""', 'minorId: ""', 'requestId: ""']) {
      const r = await post(t, auditor, { query: `{ auditEvents(filter: { ${f} }) { edges { node { seq } } } }` }, { 'x-purpose': 'SUPERVISION' });
      expect([f, r.json.errors?.[0]?.extensions?.code]).toEqual([f, 'BAD_USER_INPUT']);
    }
  });

  // 58ea2e1: a refused `after` of a department list, and the page after a valid one, answered alike in both modes
  it('history `after` on a department list: refusal typed and placed, next page correct', async () => {
    const police = await t.token(PO);
    const [{ minor_id: child }] = await t.sql(`SELECT minor_id FROM police.incident i JOIN registry.minor_jurisdiction j USING (minor_id) GROUP BY minor_id HAVING count(*) >= 1 ORDER BY count(*) DESC, minor_id LIMIT 1`);
    const all = await post(t, police, { query: `query($id: ID!) { minor(id: $id) { policeIncidents(first: 100) { id } } }`, variables: { id: child } }, PURPOSE);
    expect(all.json.errors).toBeUndefined();
    const ids = all.json.data.minor.policeIncidents.map((x: any) => x.id);
    const next = await post(t, police, { query: `query($id: ID!, $a: ID) { minor(id: $id) { name policeIncidents(first: 100, after: $a) { id } } }`, variables: { id: child, a: ids[0].toUpperCase() } }, PURPOSE);
    expect(next.json.errors).toBeUndefined();
    expect(next.json.data.minor.policeIncidents.map((x: any) => x.id)).toEqual(ids.slice(1));
    const bad = await post(t, police, { query: `query($id: ID!, $a: ID) { minor(id: $id) { name policeIncidents(first: 5, after: $a) { id } } }`, variables: { id: child, a: '00000000-0000-4000-8000-000000000000' } }, PURPOSE);
    expect(bad.status).toBe(200);
    expect(bad.json.data.minor.name).toEqual(expect.any(String));
    expect(bad.json.data.minor.policeIncidents).toBeNull();
    expect(bad.json.errors.map((e: any) => [e.extensions.code, e.extensions.field, e.path])).toEqual([['BAD_USER_INPUT', 'after', ['minor', 'policeIncidents']]]);
    expect((await eventOf(t, bad.requestId)).outcome).toBe('PARTIAL');
  });
});

describe('red team 18: regressions of recent fixes (every subgraph served alone)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startDistributedTestHub();
  });
  afterAll(() => t?.stop());

  // 4e62fec in distributed mode
  it('a record page’s nextCursor under a filter needs a purpose', async () => {
    const token = await t.token(PO, { user: 'rt18-cursor' });
    const query = `{ policeIncidents(first: 3, filter: { types: [SEXUAL_HARM, DOMESTIC_VIOLENCE] }) { __typename nextCursor } }`;
    const refused = await post(t, token, { query }, {});
    expect(refused.json.errors?.map((e: any) => [e.extensions.code, e.extensions.field])).toEqual([['BAD_USER_INPUT', 'x-purpose']]);
    expect((await eventOf(t, refused.requestId)).reads).toEqual([]);
    const served = await post(t, token, { query }, PURPOSE);
    expect(served.json.errors).toBeUndefined();
    expect((await eventOf(t, served.requestId)).reads.length).toBeGreaterThan(0);
  });

  // 127feb1 / b21dde8 in distributed mode
  it('root __typename beside a refused root field: DENIED', async () => {
    const education = await t.token(ED);
    for (const query of [`{ __typename policeIncidents(first: 1) { nodes { id } } }`, `{ t: __typename ...R } fragment R on Query { policeIncidents(first: 1) { nodes { id } } }`]) {
      const r = await post(t, education, { query }, PURPOSE);
      expect(r.json.errors.map((e: any) => e.extensions.code)).toEqual(['FORBIDDEN']);
      expect((await eventOf(t, r.requestId)).outcome).toBe('DENIED');
    }
  });

  // e7d0863 in distributed mode
  it('minorByIdNumber records the number read of the child found, whatever is selected', async () => {
    const police = await t.token(PO);
    const [child] = await t.sql(`SELECT minor_id AS id, trim(m.id_number) AS n FROM registry.minor_jurisdiction j JOIN registry.minor m ON m.id = j.minor_id ORDER BY minor_id LIMIT 1 OFFSET 12`);
    for (const [selection, fields] of [
      ['__typename', {}],
      ['id', { 'Minor.id': 'ALLOW' }],
    ] as const) {
      const r = await post(t, police, { query: `query($n: String!) { minorByIdNumber(idNumber: $n) { ${selection} } }`, variables: { n: child.n.toLowerCase() } }, PURPOSE);
      expect(r.json.errors).toBeUndefined();
      expect((await eventOf(t, r.requestId)).reads).toEqual([{ minorId: child.id, fields: { ...fields, 'Minor.idNumber': 'ALLOW' } }]);
    }
  });

  // 8b048d6 in distributed mode
  it('minor(id:) in capitals answers the child', async () => {
    const [{ id: child }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' ORDER BY id LIMIT 1`);
    const r = await post(t, await t.token(PO), { query: `query($id: ID!) { minor(id: $id) { id name policeIncidents(first: 1) { id } } }`, variables: { id: child.toUpperCase() } }, PURPOSE);
    expect(r.json.errors).toBeUndefined();
    expect(r.json.data.minor.id).toBe(child);
  });

  // 58ea2e1: a refused `after` of a department list, and the page after a valid one, answered alike in both modes
  it('history `after` on a department list: refusal typed and placed, next page correct', async () => {
    const police = await t.token(PO);
    const [{ minor_id: child }] = await t.sql(`SELECT minor_id FROM police.incident i JOIN registry.minor_jurisdiction j USING (minor_id) GROUP BY minor_id HAVING count(*) >= 1 ORDER BY count(*) DESC, minor_id LIMIT 1`);
    const all = await post(t, police, { query: `query($id: ID!) { minor(id: $id) { policeIncidents(first: 100) { id } } }`, variables: { id: child } }, PURPOSE);
    expect(all.json.errors).toBeUndefined();
    const ids = all.json.data.minor.policeIncidents.map((x: any) => x.id);
    const next = await post(t, police, { query: `query($id: ID!, $a: ID) { minor(id: $id) { name policeIncidents(first: 100, after: $a) { id } } }`, variables: { id: child, a: ids[0].toUpperCase() } }, PURPOSE);
    expect(next.json.errors).toBeUndefined();
    expect(next.json.data.minor.policeIncidents.map((x: any) => x.id)).toEqual(ids.slice(1));
    const bad = await post(t, police, { query: `query($id: ID!, $a: ID) { minor(id: $id) { name policeIncidents(first: 5, after: $a) { id } } }`, variables: { id: child, a: '00000000-0000-4000-8000-000000000000' } }, PURPOSE);
    expect(bad.status).toBe(200);
    expect(bad.json.data.minor.name).toEqual(expect.any(String));
    expect(bad.json.data.minor.policeIncidents).toBeNull();
    expect(bad.json.errors.map((e: any) => [e.extensions.code, e.extensions.field, e.path])).toEqual([['BAD_USER_INPUT', 'after', ['minor', 'policeIncidents']]]);
    expect((await eventOf(t, bad.requestId)).outcome).toBe('PARTIAL');
  });
});
