import { Department, POLICY_SUBJECTS, PolicySubject } from '../src/auth/principal';
import { yearsBefore } from '../src/common/dates';
import { storedEventOf } from './support/audit-helpers';
import { startTestHub, subjectToken, TestHub } from './support/test-hub';

/**
 * Differential test of compiled reads against the general path: request shapes × every policy
 * subject × children (in the caller's street, in another street, turned 18, unknown, malformed id),
 * each sent to a hub with compiled reads and to one without (HUB_BENCH_DISABLE=compiled) on the same
 * database; status, body, the headers a client sees and the audit event must be the same.
 */
describe('compiled reads, differential (redteam 6)', () => {
  let fast: TestHub;
  let general: TestHub;
  const STREET = '330102001';
  let own: string;
  let other: string;
  let adult: { id: string; birth_date: string };
  const UNKNOWN = '00000000-0000-4000-8000-000000000000';
  const MALFORMED = 'not-a-uuid';
  const withFields = (fields: string, name = 'Child') => `query ${name}($id: ID!) { minor(id: $id) { ${fields} } }`;

  beforeAll(async () => {
    fast = await startTestHub();
    general = await startTestHub({ databaseUrl: fast.databaseUrl, env: { HUB_BENCH_DISABLE: 'compiled' } });
    [{ id: own }] = await fast.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND next_visit_due IS NOT NULL ORDER BY id LIMIT 1`);
    [{ id: other }] = await fast.sql(`SELECT id FROM registry.minor WHERE grid_code NOT LIKE '${STREET}%' ORDER BY id LIMIT 1`);
    [adult] = await fast.sql(`SELECT id, birth_date::text AS birth_date FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND id <> $1 ORDER BY id LIMIT 1`, [own]);
    await fast.sql(`UPDATE registry.minor SET birth_date = $2 WHERE id = $1`, [adult.id, yearsBefore(new Date(), 18)]);
  });
  afterAll(async () => {
    if (adult) await fast?.sql(`UPDATE registry.minor SET birth_date = $2 WHERE id = $1`, [adult.id, adult.birth_date]);
    await general?.stop();
    await fast?.stop();
  });

  const tokenFor = (subject: PolicySubject, region: string) => subjectToken(fast, subject, { region, user: `${subject}-street` });

  async function ask(t: TestHub, token: string, body: unknown, headers: Record<string, string>, method = 'POST') {
    const res = await fetch(t.hub.url, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      body: method === 'GET' ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    const { requestId, time, durationMs, ...event } = await storedEventOf(t, res.headers.get('x-request-id')!);
    const seen = ['content-type', 'cache-control', 'www-authenticate', 'retry-after', 'allow'].map((h) => [h, res.headers.get(h)]);
    return { status: res.status, text, headers: Object.fromEntries(seen), event };
  }

  let compiledCount = 0;
  async function both(label: string, token: string, body: unknown, headers: Record<string, string> = { 'x-purpose': 'CASE_HANDLING' }, method = 'POST') {
    const before = fast.hub.compiledReadsServed()!;
    const a = await ask(fast, token, body, headers, method);
    const compiled = fast.hub.compiledReadsServed()! - before;
    compiledCount += compiled;
    const b = await ask(general, token, body, headers, method);
    expect({ label, ...a }).toEqual({ label, ...b });
    return { compiled: compiled === 1, b };
  }

  const children = (): [string, unknown][] => [
    ['own', own],
    ['other street', other],
    ['turned 18', adult.id],
    ['unknown', UNKNOWN],
    ['malformed', MALFORMED],
  ];

  it('answers every subject alike for every child, either way', async () => {
    const docs = [withFields('id name gender riskLevel school age'), withFields('id name idNumber birthDate nextVisitDue updatedAt currentAddress householdRegistration')];
    for (const subject of POLICY_SUBJECTS) {
      const token = await tokenFor(subject, STREET);
      for (const query of docs) for (const [name, id] of children()) await both(`${subject} ${name} ${query}`, token, { query, variables: { id } });
    }
    expect(compiledCount).toBeGreaterThan(0);
  });

  it('answers reads under a referral’s purpose alike, either way', async () => {
    const civil = await fast.token(Department.CIVIL_AFFAIRS);
    for (const department of Object.values(Department).filter((d) => d !== Department.CIVIL_AFFAIRS)) {
      const created = await fast.gql(civil, `mutation { createReferral(input: { minorId: "${own}", type: PLACEMENT, toDepartment: "${department}", need: "n" }) { id } }`);
      const referral = created.data.createReferral.id;
      const token = await fast.token(department, { region: STREET });
      for (const [name, id] of children()) {
        for (const purpose of [`REFERRAL; ${referral}`, 'REFERRAL', `REFERRAL; ${UNKNOWN}`]) {
          await both(`${department} ${purpose} ${name}`, token, { query: withFields('id name gender'), variables: { id } }, { 'x-purpose': purpose });
        }
      }
    }
  });

  it('answers request shapes beside the plain one alike, either way', async () => {
    const shapes: [string, unknown, string?][] = [
      ['alias', { query: withFields('id who: name'), variables: { id: own } }],
      ['alias on root', { query: `query Child($id: ID!) { m: minor(id: $id) { id name } }`, variables: { id: own } }],
      ['fragment', { query: `${withFields('...F')} fragment F on Minor { id name }`, variables: { id: own } }],
      ['inline fragment', { query: withFields('... on Minor { id name }'), variables: { id: own } }],
      ['include var true', { query: `query Child($id: ID!, $x: Boolean!) { minor(id: $id) { id name @include(if: $x) } }`, variables: { id: own, x: true } }],
      ['skip var true', { query: `query Child($id: ID!, $x: Boolean!) { minor(id: $id) { id name @skip(if: $x) } }`, variables: { id: own, x: true } }],
      ['include var missing', { query: `query Child($id: ID!, $x: Boolean!) { minor(id: $id) { id name @include(if: $x) } }`, variables: { id: own } }],
      ['include var wrong type', { query: `query Child($id: ID!, $x: Boolean!) { minor(id: $id) { id name @include(if: $x) } }`, variables: { id: own, x: 'yes' } }],
      ['root skip', { query: `query Child($id: ID!) { minor(id: $id) @skip(if: true) { id name } }`, variables: { id: own } }],
      ['id as number', { query: withFields('id name'), variables: { id: 1 } }],
      ['id as object', { query: withFields('id name'), variables: { id: { a: 1 } } }],
      ['id missing', { query: withFields('id name'), variables: {} }],
      ['id null', { query: withFields('id name'), variables: { id: null } }],
      ['id upper case', { query: withFields('id name'), variables: { id: own.toUpperCase() } }],
      ['extra variable', { query: withFields('id name'), variables: { id: own, x: 1 } }],
      ['__typename', { query: withFields('__typename id'), variables: { id: own } }],
      ['only __typename', { query: withFields('__typename'), variables: { id: own } }],
      ['root __typename', { query: `query Child($id: ID!) { __typename minor(id: $id) { id } }`, variables: { id: own } }],
      ['nested', { query: withFields('id grid { code }'), variables: { id: own } }],
      ['repeated field', { query: withFields('id name name'), variables: { id: own } }],
      ['two operations, named', { query: `${withFields('id name')} query Other { regions { code } }`, variables: { id: own }, operationName: 'Child' }],
      ['two operations, unnamed', { query: `${withFields('id name')} query Other { regions { code } }`, variables: { id: own } }],
      ['unknown operationName', { query: withFields('id name'), variables: { id: own }, operationName: 'Nope' }],
      ['introspection', { query: `query Child($id: ID!) { minor(id: $id) { id name } __schema { queryType { name } } }`, variables: { id: own } }],
      ['__type in minor', { query: `query Child($id: ID!) { minor(id: $id) { id } __type(name: "Minor") { name } }`, variables: { id: own } }],
      ['persisted query', { query: withFields('id name'), variables: { id: own }, extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }],
      ['persisted only', { variables: { id: own }, extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }],
      ['batch', [{ query: withFields('id name'), variables: { id: own } }]],
      ['a second root field', { query: `query Child($id: ID!) { minor(id: $id) { id } regions { code } }`, variables: { id: own } }],
      ['department field', { query: withFields('id name policeProtectionCase { hasOpenCase }'), variables: { id: own } }],
      ['variable default', { query: `query Child($id: ID! = "${own}") { minor(id: $id) { id name } }`, variables: { id: own } }],
      ['variable directive', { query: `query Child($id: ID! @deprecated) { minor(id: $id) { id name } }`, variables: { id: own } }],
      ['anonymous', { query: `query ($id: ID!) { minor(id: $id) { id name } }`, variables: { id: own } }],
      ['anonymous, operationName given', { query: `query ($id: ID!) { minor(id: $id) { id name } }`, variables: { id: own }, operationName: 'Child' }],
      ['unused fragment', { query: `${withFields('id')} fragment F on Minor { name }`, variables: { id: own } }],
      ['shorthand ID', { query: `query Child($id: ID!) { minor(id: $id) { id, name, } }`, variables: { id: own } }],
    ];
    for (const subject of POLICY_SUBJECTS) {
      const token = await tokenFor(subject, STREET);
      for (const [name, body] of shapes) await both(`${subject} ${name}`, token, body);
      for (const [name, id] of children()) {
        await both(`${subject} ${name} GET`, token, { query: withFields('id name'), variables: { id } }, { 'x-purpose': 'CASE_HANDLING' }, 'GET');
      }
    }
  });
});

describe('compiled reads with the field policy off (benchmarks), differential (redteam 6)', () => {
  let fast: TestHub;
  let general: TestHub;
  beforeAll(async () => {
    fast = await startTestHub({ env: { HUB_BENCH_DISABLE: 'policy' } });
    general = await startTestHub({ databaseUrl: fast.databaseUrl, env: { HUB_BENCH_DISABLE: 'policy,compiled' } });
  });
  afterAll(async () => {
    await general?.stop();
    await fast?.stop();
  });

  it('serves every subject what the general path serves it', async () => {
    const [{ id }] = await fast.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
    const query = `query Child($id: ID!) { minor(id: $id) { id name idNumber birthDate nextVisitDue } }`;
    let compiled = 0;
    for (const subject of POLICY_SUBJECTS) {
      const token = await subjectToken(fast, subject);
      const ask = async (t: TestHub) => {
        const res = await fetch(t.hub.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-purpose': 'CASE_HANDLING' },
          body: JSON.stringify({ query, variables: { id } }),
        });
        const text = await res.text();
        const { requestId, time, durationMs, ...event } = await storedEventOf(t, res.headers.get('x-request-id')!);
        return { subject, status: res.status, text, event };
      };
      const before = fast.hub.compiledReadsServed()!;
      const a = await ask(fast);
      compiled += fast.hub.compiledReadsServed()! - before;
      expect(a).toEqual(await ask(general));
    }
    expect(compiled).toBeGreaterThan(0);
  });
});
