import { Department, POLICY_SUBJECTS, PolicySubject, Role } from '../src/auth/principal';
import { yearsBefore } from '../src/common/dates';
import { post, storedEventOf } from './support/audit-helpers';
import { startTestHub, subjectToken, TestHub, TokenOptions } from './support/test-hub';

/**
 * Compiled reads (src/compiled-read) answer a single-child look-up ahead of Express and Apollo.
 * They must be invisible: every request here is sent to a hub with them and to a hub without
 * them (HUB_BENCH_DISABLE=compiled) on the same database, and the two answers — status, bytes,
 * headers — and the two audit events must be the same. The counter of compiled answers tells
 * which requests the compiled path took, so that a case cannot pass by never reaching it.
 */
describe('compiled reads', () => {
  let fast: TestHub;
  let general: TestHub;
  let minorId: string;
  let sparseId: string;
  let outsideId: string;
  const STREET = '330102001';
  const BENCH = `query Child($id: ID!) { minor(id: $id) { id name idNumber gender birthDate riskLevel nextVisitDue } }`;
  const withFields = (fields: string) => `query Child($id: ID!) { minor(id: $id) { ${fields} } }`;

  beforeAll(async () => {
    fast = await startTestHub();
    general = await startTestHub({ databaseUrl: fast.databaseUrl, env: { HUB_BENCH_DISABLE: 'compiled' } });
    [{ id: minorId }] = await fast.sql(
      `SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND next_visit_due IS NOT NULL AND risk_level IS NOT NULL ORDER BY id LIMIT 1`,
    );
    [{ id: sparseId }] = await fast.sql(`SELECT id FROM registry.minor WHERE risk_level IS NULL OR school IS NULL OR next_visit_due IS NULL ORDER BY id LIMIT 1`);
    [{ id: outsideId }] = await fast.sql(`SELECT id FROM registry.minor WHERE grid_code NOT LIKE '${STREET}%' ORDER BY id LIMIT 1`);
  });
  afterAll(async () => {
    await general?.stop();
    await fast?.stop();
  });

  const tokenFor = (subject: PolicySubject, opts: TokenOptions = {}) => subjectToken(fast, subject, opts);

  interface Answer {
    status: number;
    text: string;
    headers: Record<string, string | null>;
    event: Record<string, unknown>;
  }

  async function ask(t: TestHub, token: string | null, body: unknown, headers: Record<string, string>): Promise<Answer> {
    const res = await fetch(t.hub.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    const { requestId, time, durationMs, ...event } = await storedEventOf(t, res.headers.get('x-request-id')!);
    expect([requestId, time, typeof durationMs]).toEqual([res.headers.get('x-request-id'), expect.any(String), 'number']);
    return { status: res.status, text, headers: { 'content-type': res.headers.get('content-type'), 'cache-control': res.headers.get('cache-control') }, event };
  }

  /** Sends the request to both hubs; expects the same answer and event; returns whether the compiled path answered. */
  async function both(token: string | null, body: unknown, headers: Record<string, string> = { 'x-purpose': 'CASE_HANDLING' }) {
    const before = fast.hub.compiledReadsServed()!;
    const a = await ask(fast, token, body, headers);
    const compiled = fast.hub.compiledReadsServed()! - before;
    const b = await ask(general, token, body, headers);
    expect(a).toEqual(b);
    return { compiled: compiled === 1, answer: b, json: JSON.parse(b.text) };
  }

  it('answers POLICE’s look-up of one child on the compiled path, as the general path does', async () => {
    const r = await both(await fast.token(Department.POLICE), { query: BENCH, variables: { id: minorId } });
    expect(r.compiled).toBe(true);
    expect(r.json.data.minor).toEqual(expect.objectContaining({ id: minorId, idNumber: expect.stringMatching(/^\d{17}[\dX]$/) }));
    expect(r.answer.event).toEqual(
      expect.objectContaining({ outcome: 'SUCCESS', purpose: { code: 'CASE_HANDLING' }, reads: [expect.objectContaining({ minorIds: [minorId] })] }),
    );
    expect(general.hub.compiledReadsServed()).toBeNull();
  });

  it('gives every subject the same answer and event for every field of Minor either way, compiling only what the table allows outright', async () => {
    const type = await general.gql(await fast.token(Department.CIVIL_AFFAIRS), `{ __type(name: "Minor") { fields { name type { kind ofType { kind } } } } }`);
    const leaf = (t: { kind: string; ofType?: { kind: string } }) => ['SCALAR', 'ENUM'].includes(t.kind === 'NON_NULL' ? t.ofType!.kind : t.kind);
    const fields: string[] = type.data.__type.fields.filter((f: any) => leaf(f.type)).map((f: any) => f.name);
    expect(fields).toEqual(expect.arrayContaining(['id', 'name', 'idNumber', 'birthDate', 'currentAddress', 'riskLevel', 'nextVisitDue', 'age']));
    const documents = [...fields.map((f) => withFields(f)), withFields(fields.join(' ')), BENCH];
    let compiled = 0;
    let declined = 0;
    for (const subject of POLICY_SUBJECTS) {
      const token = await tokenFor(subject);
      for (const query of documents) {
        for (const id of [minorId, sparseId]) {
          const r = await both(token, { query, variables: { id } });
          if (!r.compiled) {
            declined++;
            continue;
          }
          compiled++;
          // Compiled only what the general path serves plainly: no error, nothing masked or refused.
          expect(r.json.errors).toBeUndefined();
          expect((r.answer.event.reads as { fields: Record<string, string> }[]).flatMap((g) => Object.values(g.fields)).every((a) => a === 'ALLOW')).toBe(true);
        }
      }
    }
    expect(compiled).toBeGreaterThan(0);
    expect(declined).toBeGreaterThan(0);
  });

  it('leaves refused and masked fields to the general path', async () => {
    const education = await fast.token(Department.EDUCATION);
    const denied = await both(education, { query: withFields('id birthDate'), variables: { id: minorId } }); // EDUCATION: DENY
    expect([denied.compiled, denied.json.errors[0].extensions.code]).toEqual([false, 'FORBIDDEN']);
    const masked = await both(education, { query: withFields('id idNumber'), variables: { id: minorId } }); // EDUCATION: MASK
    expect([masked.compiled, masked.json.data.minor.idNumber]).toEqual([false, expect.stringMatching(/^\d{6}\*{12}$/)]);
    // A visit stamps the record's updatedAt: refused to those refused the visits, here too; served compiled to the others.
    const stamped = await both(education, { query: withFields('id updatedAt'), variables: { id: minorId } }); // EDUCATION: DENY
    expect([stamped.compiled, stamped.json.data.minor.updatedAt, stamped.json.errors[0].extensions.code]).toEqual([false, null, 'FORBIDDEN']);
    const civil = await both(await fast.token(Department.CIVIL_AFFAIRS), { query: withFields('id updatedAt'), variables: { id: minorId } });
    expect([civil.compiled, civil.json.data.minor.updatedAt]).toEqual([true, expect.any(String)]);
    const employer = await both(await fast.token(Department.EDUCATION, { role: Role.EMPLOYER }), { query: withFields('id'), variables: { id: minorId } });
    expect([employer.compiled, employer.json.errors[0].extensions.code]).toEqual([false, 'FORBIDDEN']);
  });

  it('leaves every other request shape to the general path, with the same answer', async () => {
    const police = await fast.token(Department.POLICE);
    const ok = { query: BENCH, variables: { id: minorId } };
    const cases: [string, unknown, boolean, Record<string, string>?][] = [
      ['anonymous operation', { query: withFields('id name').replace('query Child', 'query'), variables: { id: minorId } }, true],
      ['the operation named', { ...ok, operationName: 'Child' }, true],
      ['another operation named', { ...ok, operationName: 'Other' }, false],
      // The event holds 200 characters of a name either way (the document has it whole).
      ['a name of 1000 characters', { query: withFields('id name').replace('query Child', `query ${'N'.repeat(1000)}`), variables: { id: minorId } }, true],
      ['an alias', { query: withFields('id who: name'), variables: { id: minorId } }, false],
      ['a fragment', { query: `${withFields('...F')} fragment F on Minor { id name }`, variables: { id: minorId } }, false],
      ['__typename', { query: withFields('id __typename'), variables: { id: minorId } }, false],
      ['a field twice', { query: withFields('id name name'), variables: { id: minorId } }, false],
      ['a directive', { query: withFields('id name @include(if: true)'), variables: { id: minorId } }, false],
      ['a related record', { query: withFields('id guardians { name }'), variables: { id: minorId } }, false],
      ['an inline id', { query: `{ minor(id: "${minorId}") { id name } }` }, false],
      ['an extra variable', { ...ok, variables: { id: minorId, other: 1 } }, false],
      ['no variables', { query: BENCH }, false],
      ['an id that is a number', { query: BENCH, variables: { id: 12345 } }, false],
      ['an id that is not a UUID', { query: BENCH, variables: { id: 'not-a-uuid' } }, false],
      ['an unknown child', { query: BENCH, variables: { id: '00000000-0000-4000-8000-000000000000' } }, false],
      ['extensions', { ...ok, extensions: { persistedQuery: { version: 1, sha256Hash: 'x' } } }, false],
      ['a text longer than any compiled one', { ...ok, query: `${BENCH} #${'x'.repeat(2100)}` }, false],
      ['a batch', [ok], false],
      ['a JSON string', '"query"', false],
      ['invalid JSON', '{"query": ', false],
      ['no purpose', ok, false, {}],
      ['a malformed purpose', ok, false, { 'x-purpose': 'CURIOSITY' }],
      ['a purpose with a reference', ok, true, { 'x-purpose': `CASE_HANDLING; ${encodeURIComponent('2026-民-0042')}` }],
      // Checked against the referral it names: the general path refuses this one.
      ['a referral purpose', ok, false, { 'x-purpose': 'REFERRAL; 00000000-0000-4000-8000-000000000000' }],
      ['a charset', ok, true, { 'x-purpose': 'CASE_HANDLING', 'content-type': 'application/json; charset=utf-8' }],
      ['another media type asked for', ok, false, { 'x-purpose': 'CASE_HANDLING', accept: 'application/graphql-response+json' }],
    ];
    for (const [name, body, compiles, headers] of cases) {
      const r = await both(police, body, headers);
      expect([name, r.compiled]).toEqual([name, compiles]);
    }
  });

  it('leaves callers the general path refuses to it, and children outside the caller’s jurisdiction', async () => {
    const ok = { query: BENCH, variables: { id: minorId } };
    const refusals: [string, string | null][] = [
      ['no token', null],
      ['a bad token', 'not-a-token'],
      ['an expired token', await fast.token(Department.POLICE, { expiresIn: -60 })],
      ['a token of an unknown region', await fast.token(Department.POLICE, { region: '999999' })],
    ];
    for (const [name, token] of refusals) {
      const r = await both(token, ok);
      expect([name, r.compiled, r.answer.status]).toEqual([name, false, 401]);
    }
    const street = await fast.token(Department.POLICE, { region: STREET, user: 'street-officer' });
    const inside = await both(street, ok);
    expect(inside.compiled).toBe(true);
    const outside = await both(street, { query: BENCH, variables: { id: outsideId } });
    expect([outside.compiled, outside.json]).toEqual([false, { data: { minor: null } }]);
  });

  it('leaves a child who has turned 18 to the general path, which answers null as for an unknown child; the day before, compiled', async () => {
    const [adult, almost] = await fast.sql(`SELECT id, birth_date::text AS birth_date FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND id <> $1 ORDER BY id LIMIT 2`, [minorId]);
    const today = yearsBefore(new Date(), 18);
    const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    try {
      await fast.sql(`UPDATE registry.minor SET birth_date = $2 WHERE id = $1`, [adult.id, today]);
      await fast.sql(`UPDATE registry.minor SET birth_date = $2 WHERE id = $1`, [almost.id, tomorrow]);
      const police = await fast.token(Department.POLICE);
      const gone = await both(police, { query: BENCH, variables: { id: adult.id } });
      expect([gone.compiled, gone.json]).toEqual([false, { data: { minor: null } }]);
      const still = await both(police, { query: BENCH, variables: { id: almost.id } });
      expect([still.compiled, still.json.data.minor.birthDate]).toEqual([true, tomorrow]);
    } finally {
      for (const m of [adult, almost]) await fast.sql(`UPDATE registry.minor SET birth_date = $2 WHERE id = $1`, [m.id, m.birth_date]);
    }
  });

  it('releases nothing when the audit event cannot be written', async () => {
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const before = fast.hub.compiledReadsServed();
    try {
      await fast.sql(`REVOKE INSERT ON audit.event FROM hub_audit_writer`);
      const res = await post(fast, await fast.token(Department.POLICE), { query: BENCH, variables: { id: minorId } });
      expect(res.status).toBe(503);
      expect(res.json).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'AUDIT_UNAVAILABLE' } }] });
    } finally {
      await fast.sql(`GRANT INSERT ON audit.event TO hub_audit_writer`);
      log.mockRestore();
    }
    expect(fast.hub.compiledReadsServed()).toBe(before);
    const again = await both(await fast.token(Department.POLICE), { query: BENCH, variables: { id: minorId } });
    expect(again.compiled).toBe(true);
  });
});
