import { Department, POLICY_SUBJECTS, PolicySubject, Role } from '../src/auth/principal';
import { eventOf, eventsOf, post } from './support/audit-helpers';
import { startDistributedTestHub, startTestHub, subjectToken, TestHub } from './support/test-hub';

/**
 * GraphQL language features against the field policy, the masks and the audit (redteam 16):
 * aliases, fragments, @skip/@include, variables, several operations, the same root field twice.
 * Each shape is asked on the compiled read (where eligible), on the fast path and on the planner
 * (a second root field of another subgraph), and the masked values, refusals and events compared.
 */
describe.each(['in-process', 'distributed'] as const)('query shapes against policy, masks and audit, %s (redteam 16)', (mode) => {
  let t: TestHub;
  const STREET = '330102001';
  let own: string;
  let other: string;
  const UNKNOWN = '00000000-0000-4000-8000-000000000000';
  const PURPOSE = { 'x-purpose': 'CASE_HANDLING' };

  beforeAll(async () => {
    t = mode === 'in-process' ? await startTestHub() : await startDistributedTestHub();
    [{ id: own }] = await t.sql(
      `SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE '${STREET}%' AND EXISTS (SELECT 1 FROM registry.guardian g WHERE g.minor_id = m.id AND g.phone IS NOT NULL AND g.address IS NOT NULL AND g.address <> '')
         AND EXISTS (SELECT 1 FROM education.school_enrollment e WHERE e.minor_id = m.id) ORDER BY m.id LIMIT 1`,
    );
    [{ id: other }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code NOT LIKE '${STREET}%' ORDER BY id LIMIT 1`);
  });
  afterAll(() => t?.stop());

  const tokenFor = (subject: PolicySubject, region = STREET) => subjectToken(t, subject, { region, user: `${subject}-rt16` });
  const DEPARTMENTS = Object.values(Department);

  async function ask(token: string, query: string, variables?: Record<string, unknown>, operationName?: string) {
    const before = t.hub.compiledReadsServed() ?? 0;
    const r = await post(t, token, { query, variables, operationName }, PURPOSE);
    const compiled = (t.hub.compiledReadsServed() ?? 0) - before === 1;
    const event = await eventOf(t, r.requestId);
    return { ...r, compiled, event };
  }

  /** The parts of an answer that must be the same whichever path served it. */
  const summary = (r: { status: number; json: any; event: any }, root = 'minor') => ({
    status: r.status,
    data: r.json?.data?.[root],
    errors: (r.json?.errors ?? []).filter((e: any) => !e.path || e.path[0] === root).map((e: any) => ({ path: e.path, code: e.extensions?.code, message: e.message })),
    reads: r.event.reads,
    outcome: r.event.outcome,
  });

  const noStack = (r: { json: any }) => {
    const text = JSON.stringify(r.json);
    expect(text).not.toMatch(/stacktrace|\bat [A-Za-z_.]+ \(|node_modules|\.ts:\d+|SELECT |QueryFailedError/);
  };

  it('a masked field aliased to an allowed field’s name stays masked, and the allowed one under the masked one’s name stays exact, on every path and for every department', async () => {
    for (const subject of DEPARTMENTS) {
      const token = await tokenFor(subject);
      const plain = await ask(token, `query P($id: ID!) { minor(id: $id) { name idNumber currentAddress gender } }`, { id: own });
      const aliased = `minor(id: $id) { name: idNumber idNumber: name gender: currentAddress currentAddress: gender a: idNumber b: idNumber }`;
      const shapes = [`query A($id: ID!) { ${aliased} }`, `query B($id: ID!) { ${aliased} __typename }`, `query C($id: ID!) { ${aliased} statisticsScope { level } }`];
      const p = plain.json.data.minor;
      const expected = { name: p.idNumber, idNumber: p.name, gender: p.currentAddress, currentAddress: p.gender, a: p.idNumber, b: p.idNumber };
      const answers = [];
      for (const q of shapes) {
        const r = await ask(token, q, { id: own });
        noStack(r);
        expect({ subject, q, minor: r.json.data?.minor }).toEqual({ subject, q, minor: expected });
        answers.push(summary(r));
      }
      expect(answers[0].reads).toEqual(plain.event.reads);
      for (const a of answers.slice(1)) expect({ subject, ...a }).toEqual({ subject, ...answers[0] });
    }
  });

  it('a denied field under two aliases is refused on each, and audited once as refused, on every path', async () => {
    const token = await tokenFor(Department.EDUCATION);
    const body = `minor(id: $id) { x: birthDate y: birthDate name: birthDate visits { id } }`;
    const results = [];
    for (const q of [`query($id: ID!) { ${body} }`, `query($id: ID!) { ${body} statisticsScope { level } }`]) {
      const r = await ask(token, q, { id: own });
      noStack(r);
      expect(r.json.data.minor).toEqual({ x: null, y: null, name: null, visits: null });
      results.push(summary(r));
    }
    expect(results[0]).toEqual(results[1]);
    expect(results[0].errors.map((e: any) => [e.path.join('.'), e.code]).sort()).toEqual([
      ['minor.name', 'FORBIDDEN'],
      ['minor.visits', 'FORBIDDEN'],
      ['minor.x', 'FORBIDDEN'],
      ['minor.y', 'FORBIDDEN'],
    ]);
    expect(results[0].reads).toEqual([{ minorId: own, fields: { 'Minor.birthDate': 'DENY', 'Minor.visits': 'DENY' } }]);
  });

  it('__typename aliased or aliasing: kept names refused as invalid, others served alike on every path', async () => {
    const token = await tokenFor(Department.EDUCATION);
    for (const body of [`minor(id: $id) { __typename: name }`, `minor(id: $id) { id: name }`, `minor(id: $id) { __typename: birthDate }`]) {
      for (const q of [`query($id: ID!) { ${body} }`, `query($id: ID!) { ${body} statisticsScope { level } }`]) {
        const r = await ask(token, q, { id: own });
        noStack(r);
        expect([r.status, r.json.data, r.json.errors?.map((e: any) => e.extensions?.code)]).toEqual([400, undefined, ['GRAPHQL_VALIDATION_FAILED']]);
        expect([r.event.outcome, r.event.reads]).toEqual(['INVALID', []]);
      }
    }
    const results = [];
    for (const q of [`query($id: ID!) { minor(id: $id) { kind: __typename name: __typename t: __typename } }`, `query($id: ID!) { minor(id: $id) { kind: __typename name: __typename t: __typename } statisticsScope { level } }`]) {
      const r = await ask(token, q, { id: own });
      expect(r.json.data.minor).toEqual({ kind: 'Minor', name: 'Minor', t: 'Minor' });
      results.push(summary(r));
    }
    expect(results[0]).toEqual(results[1]);
    expect(results[0].reads).toEqual([{ minorId: own, fields: { 'Minor.__typename': 'ALLOW' } }]);
    // Another street's child: null exactly as an unknown id, and nobody named.
    for (const id of [other, UNKNOWN]) {
      const r = await ask(token, `query($id: ID!) { minor(id: $id) { kind: __typename } }`, { id });
      expect([r.status, r.json, r.event.reads, r.event.outcome]).toEqual([200, { data: { minor: null } }, [], 'SUCCESS']);
    }
  });

  it('@skip/@include (literal and variable): a skipped field is neither served, nor refused, nor audited; on every path', async () => {
    const token = await tokenFor(Department.EDUCATION);
    const variants: [string, Record<string, unknown>][] = [
      [`query($id: ID!) { minor(id: $id) { name birthDate @skip(if: true) visits @include(if: false) { id } idNumber @skip(if: true) } }`, { id: own }],
      [`query($id: ID!, $s: Boolean!, $i: Boolean!) { minor(id: $id) { name birthDate @skip(if: $s) visits @include(if: $i) { id } idNumber @skip(if: $s) } }`, { id: own, s: true, i: false }],
      [`query($id: ID!, $s: Boolean = true) { minor(id: $id) { name birthDate @skip(if: $s) ... on Minor @include(if: false) { visits { id } idNumber } } }`, { id: own }],
      [`query($id: ID!, $s: Boolean = true) { minor(id: $id) { name ...Hidden @skip(if: $s) } } fragment Hidden on Minor { birthDate visits { id } idNumber updatedAt }`, { id: own }],
      [`query($id: ID!) { minor(id: $id) { name schoolEnrollments @skip(if: true) { id } policeIncidents @skip(if: true) { id } } }`, { id: own }],
      [`query($id: ID!, $s: Boolean = true, $i: Boolean = false) { minor(id: $id) { name schoolEnrollments @skip(if: $s) { id } policeIncidents @include(if: $i) { id } birthDate @skip(if: $s) } }`, { id: own }],
      [`query($id: ID!) { minor(id: $id) { name birthDate @skip(if: false) @include(if: false) idNumber @skip(if: true) @include(if: true) } }`, { id: own }],
    ];
    for (const [query, variables] of variants) {
      const results = [];
      for (const q of [query, query.replace(/\{ minor\(id: \$id\)/, '{ statisticsScope { level } minor(id: $id)')]) {
        const r = await ask(token, q, variables);
        noStack(r);
        expect({ q, status: r.status, minor: r.json.data?.minor, errors: r.json.errors }).toEqual({ q, status: 200, minor: { name: expect.any(String) }, errors: undefined });
        // The planner fetches the key (Minor.id) for a conditional entity fetch; the audit records it as it does for any planned entity fetch.
        const reads = r.event.reads.map((g: any) => ({ ...g, fields: Object.fromEntries(Object.entries(g.fields).filter(([k]) => k !== 'Minor.id')) }));
        expect({ q, reads, outcome: r.event.outcome, errorCodes: r.event.errorCodes }).toEqual({ q, reads: [{ minorId: own, fields: { 'Minor.name': 'ALLOW' } }], outcome: 'SUCCESS', errorCodes: [] });
        results.push(summary(r));
      }
      expect(results[0]).toEqual(results[1]);
    }
    // A root field skipped: no child looked up, none audited; a denied root field skipped is no refusal.
    for (const subject of [Department.EDUCATION, Role.DASHBOARD, Role.AUDITOR] as PolicySubject[]) {
      const tk = await tokenFor(subject);
      const r = await ask(tk, `query($id: ID!, $s: Boolean!) { minor(id: $id) @skip(if: $s) { name } regions { code } }`, { id: own, s: true });
      expect({ subject, status: r.status, errors: r.json.errors, hasMinor: 'minor' in (r.json.data ?? {}) }).toEqual({ subject, status: 200, errors: undefined, hasMinor: false });
      expect({ subject, reads: r.event.reads, outcome: r.event.outcome }).toEqual({ subject, reads: [], outcome: 'SUCCESS' });
    }
  });

  it('variables left to their defaults in @include/@skip decide alike on every path, nested in a subgraph fetch or an entity fetch', async () => {
    const token = await tokenFor(Department.EDUCATION);
    const q = `query($id: ID!, $yes: Boolean = true, $no: Boolean = false) { minor(id: $id) { name idNumber @include(if: $yes) gender @skip(if: $no) schoolEnrollments { id school @include(if: $yes) status @skip(if: $no) enrolledOn @skip(if: $yes) } } }`;
    const results = [];
    for (const query of [q, q.replace(/ }$/, ' statisticsScope { level } }')]) {
      const r = await ask(token, query, { id: own });
      noStack(r);
      expect({ status: r.status, errors: r.json.errors }).toEqual({ status: 200, errors: undefined });
      const m = r.json.data.minor;
      expect(Object.keys(m).sort()).toEqual(['gender', 'idNumber', 'name', 'schoolEnrollments']);
      expect(m.idNumber).toMatch(/^\d{6}\*{12}$/);
      for (const e of m.schoolEnrollments) expect(Object.keys(e).sort()).toEqual(['id', 'school', 'status']);
      results.push(summary(r));
    }
    expect(results[0]).toEqual(results[1]);
  });

  it('a field included by one selection and skipped by another is served once and audited as served', async () => {
    const token = await tokenFor(Department.EDUCATION);
    const q = `query($id: ID!) { minor(id: $id) { idNumber @skip(if: true) ... on Minor { idNumber } } }`;
    for (const query of [q, q.replace(/ }$/, ' statisticsScope { level } }')]) {
      const r = await ask(token, query, { id: own });
      expect(r.json.data.minor.idNumber).toMatch(/^\d{6}\*{12}$/);
      expect(r.event.reads).toEqual([{ minorId: own, fields: { 'Minor.idNumber': 'MASK' } }]);
    }
  });

  it('named, inline and nested fragments are served, masked and audited as the plain selection, on every path', async () => {
    for (const subject of DEPARTMENTS) {
      const token = await tokenFor(subject);
      const fields = `idNumber name currentAddress guardians { name phone address }`;
      const plain = await ask(token, `query($id: ID!) { minor(id: $id) { ${fields} } }`, { id: own });
      const shapes = [
        `query($id: ID!) { minor(id: $id) { ...A } } fragment A on Minor { idNumber ...B } fragment B on Minor { name ... on Minor { currentAddress guardians { ...G } } } fragment G on Guardian { name phone address }`,
        `query($id: ID!) { minor(id: $id) { ... { idNumber name } ... on Minor { currentAddress guardians { ... on Guardian { name phone } address } } } }`,
        `query($id: ID!) { ...Q } fragment Q on Query { minor(id: $id) { ${fields} } }`,
        `query($id: ID!) { ...Q statisticsScope { level } } fragment Q on Query { minor(id: $id) { ${fields} } }`,
      ];
      for (const q of shapes) {
        const r = await ask(token, q, { id: own });
        noStack(r);
        expect({ subject, q, ...summary(r) }).toEqual({ subject, q, ...summary(plain) });
      }
    }
  });

  it('a fragment on the wrong type, a cycle of fragments, an unknown or unused fragment: a typed validation error, audited INVALID, nothing read', async () => {
    const token = await tokenFor(Department.CIVIL_AFFAIRS);
    const docs = [
      `query($id: ID!) { minor(id: $id) { ...G } } fragment G on Guardian { name }`,
      `query($id: ID!) { minor(id: $id) { ... on Guardian { phone } } }`,
      `query($id: ID!) { minor(id: $id) { ...A } } fragment A on Minor { name ...B } fragment B on Minor { idNumber ...A }`,
      `query($id: ID!) { minor(id: $id) { ...A } } fragment A on Minor { ...A }`,
      `query($id: ID!) { minor(id: $id) { ...Missing } }`,
      `query($id: ID!) { minor(id: $id) { name } } fragment Unused on Minor { idNumber }`,
      `query($id: ID!) { minor(id: $id) { ...A } } fragment A on Minor { name } fragment A on Minor { idNumber }`,
      `query($id: ID!) { minor(id: $id) { ...A statisticsScope { level } } } fragment A on Query { regions { code } }`,
    ];
    for (const query of docs) {
      for (const q of [query, query.replace(/\{ minor\(id: \$id\)/, '{ statisticsScope { level } minor(id: $id)')]) {
        const r = await ask(token, q, { id: own });
        noStack(r);
        expect({ q, status: r.status, data: r.json.data, codes: r.json.errors?.map((e: any) => e.extensions?.code) }).toEqual({ q, status: 400, data: undefined, codes: expect.arrayContaining(['GRAPHQL_VALIDATION_FAILED']) });
        expect({ q, outcome: r.event.outcome, reads: r.event.reads }).toEqual({ q, outcome: 'INVALID', reads: [] });
      }
    }
  });

  it('variables missing, null, of the wrong type, undeclared or with defaults: typed BAD_USER_INPUT or validation errors, never a stack trace; defaults served alike on every path', async () => {
    const token = await tokenFor(Department.EDUCATION);
    const base = `query($id: ID!) { minor(id: $id) { name } }`;
    const bad: [string, Record<string, unknown> | undefined, number, string][] = [
      [base, undefined, 400, 'BAD_USER_INPUT'],
      [base, {}, 400, 'BAD_USER_INPUT'],
      [base, { id: null }, 400, 'BAD_USER_INPUT'],
      [base, { id: { a: 1 } }, 400, 'BAD_USER_INPUT'],
      [base, { id: [own] }, 400, 'BAD_USER_INPUT'],
      [base, { id: true }, 400, 'BAD_USER_INPUT'],
      [`query($id: ID!, $f: Int!) { minor(id: $id) { name schoolEnrollments(first: $f) { id } } }`, { id: own, f: 'ten' }, 400, 'BAD_USER_INPUT'],
      [`query($id: ID!, $f: Int!) { minor(id: $id) { name schoolEnrollments(first: $f) { id } } }`, { id: own, f: 2 ** 40 }, 400, 'BAD_USER_INPUT'],
      [`query($r: [RiskLevel!]) { minors(first: 1, filter: { riskLevels: $r }) { totalCount } }`, { r: ['PURPLE'] }, 400, 'BAD_USER_INPUT'],
      [`query($r: [RiskLevel!]) { minors(first: 1, filter: { riskLevels: $r }) { totalCount } }`, { r: [null] }, 400, 'BAD_USER_INPUT'],
      [`query { minor(id: $id) { name } }`, { id: own }, 400, 'GRAPHQL_VALIDATION_FAILED'],
      [`query($id: String!) { minor(id: $id) { name } }`, { id: own }, 400, 'GRAPHQL_VALIDATION_FAILED'],
      [`query($id: ID!, $id: ID!) { minor(id: $id) { name } }`, { id: own }, 400, 'GRAPHQL_VALIDATION_FAILED'],
      [`query($id: ID!, $unused: Int) { minor(id: $id) { name } }`, { id: own }, 400, 'GRAPHQL_VALIDATION_FAILED'],
      [`query($id: ID!, $s: Boolean!) { minor(id: $id) { name idNumber @skip(if: $s) } }`, { id: own, s: 'false' }, 400, 'BAD_USER_INPUT'],
      [`query($id: ID!, $s: Boolean) { minor(id: $id) { name idNumber @skip(if: $s) } }`, { id: own, s: true }, 400, 'GRAPHQL_VALIDATION_FAILED'],
      [`query($id: ID!) { minor(id: $id) { name idNumber @skip(if: true) @skip(if: false) } }`, { id: own }, 400, 'GRAPHQL_VALIDATION_FAILED'],
      [`query($id: ID!) @skip(if: true) { minor(id: $id) { name } }`, { id: own }, 400, 'GRAPHQL_VALIDATION_FAILED'],
      [`query($id: ID!) { minor(id: $id) { name idNumber @unknownDirective } }`, { id: own }, 400, 'GRAPHQL_VALIDATION_FAILED'],
      [`query($id: ID!) { minor(id: $id) { name ... @defer { idNumber birthDate } } }`, { id: own }, 400, 'GRAPHQL_VALIDATION_FAILED'],
      [`query($id: Minor) { minor(id: $id) { name } }`, { id: own }, 400, 'GRAPHQL_VALIDATION_FAILED'],
    ];
    for (const [query, variables, status, code] of bad) {
      const planned = query.replace(/ }$/, ' statisticsScope { level } }');
      const answers = [];
      for (const q of [query, planned]) {
        const r = await ask(token, q, variables);
        noStack(r);
        expect({ q, variables, status: r.status, data: r.json.data, codes: [...new Set(r.json.errors?.map((e: any) => e.extensions?.code))] }).toEqual({ q, variables, status, data: undefined, codes: [code] });
        expect({ q, outcome: r.event.outcome, reads: r.event.reads }).toEqual({ q, outcome: 'INVALID', reads: [] });
        answers.push(r.json.errors.map((e: any) => e.message));
      }
      expect(answers[0]).toEqual(answers[1]);
    }
    // A default stands in for a missing variable; an extra undeclared variable sent along changes nothing.
    const results = [];
    for (const q of [`query($id: ID! = "${own}") { minor(id: $id) { name idNumber } }`, `query($id: ID! = "${own}") { minor(id: $id) { name idNumber } statisticsScope { level } }`]) {
      const r = await ask(token, q, { extra: 'x' });
      expect(r.json.data.minor.idNumber).toMatch(/^\d{6}\*{12}$/);
      results.push(summary(r));
    }
    expect(results[0]).toEqual(results[1]);
  });

  it('several operations: without operationName refused before anything runs; with it only that one runs, audited under its name', async () => {
    const token = await tokenFor(Department.CIVIL_AFFAIRS);
    const doc = `query A($id: ID!) { minor(id: $id) { name } } query B($id: ID!) { minor(id: $id) { idNumber } } query C { regions { code } }`;
    for (const op of [undefined, 'Nope', '']) {
      const r = await ask(token, doc, { id: own }, op);
      noStack(r);
      expect({ op, status: r.status, data: r.json.data, codes: r.json.errors?.map((e: any) => e.extensions?.code) }).toEqual({ op, status: 400, data: undefined, codes: ['OPERATION_RESOLUTION_FAILURE'] });
      expect({ op, outcome: r.event.outcome, reads: r.event.reads }).toEqual({ op, outcome: 'INVALID', reads: [] });
    }
    const a = await ask(token, doc, { id: own }, 'A');
    expect([a.json.data, a.event.operationName, a.event.reads]).toEqual([{ minor: { name: expect.any(String) } }, 'A', [{ minorId: own, fields: { 'Minor.name': 'ALLOW' } }]]);
    const b = await ask(token, doc, { id: own }, 'B');
    expect([Object.keys(b.json.data.minor), b.event.operationName, b.event.reads]).toEqual([['idNumber'], 'B', [{ minorId: own, fields: { 'Minor.idNumber': 'ALLOW' } }]]);
    const c = await ask(token, doc, { id: own }, 'C');
    expect([c.status, c.json.errors, c.event.operationName, c.event.reads]).toEqual([200, undefined, 'C', []]);
  });

  it('a mutation and a query in one document: the query named runs alone without a STARTED event; the mutation named runs once, with its STARTED event', async () => {
    const token = await tokenFor(Department.CIVIL_AFFAIRS);
    const [{ school }] = await t.sql(`SELECT school FROM registry.minor WHERE id = $1`, [own]);
    const doc = `query Q($id: ID!) { minor(id: $id) { school } } mutation M($id: ID!, $school: String) { updateMinor(id: $id, input: { school: $school }) { school } }`;
    const q = await ask(token, doc, { id: own, school: 'RT16 学校' }, 'Q');
    expect([q.status, q.json.data, q.json.errors]).toEqual([200, { minor: { school } }, undefined]);
    expect((await eventsOf(t, q.requestId)).map((e) => e.outcome)).toEqual(['SUCCESS']);
    expect(q.event.changes).toEqual([]);
    expect((await t.sql(`SELECT school FROM registry.minor WHERE id = $1`, [own]))[0].school).toBe(school);
    const m = await ask(token, doc, { id: own, school: 'RT16 学校' }, 'M');
    expect([m.status, m.json.errors, m.json.data]).toEqual([200, undefined, { updateMinor: { school: 'RT16 学校' } }]);
    expect((await eventsOf(t, m.requestId)).map((e) => [e.outcome, e.body.operationName, e.body.operationType])).toEqual([
      ['STARTED', 'M', 'mutation'],
      ['SUCCESS', 'M', 'mutation'],
    ]);
    expect(m.event.changes).toEqual([{ fields: ['id', 'input.school'], id: own, minorId: own, mutation: 'updateMinor' }]);
    // Without a name the two are refused, the mutation not run.
    const none = await ask(token, doc, { id: own, school: 'RT16 其他' });
    expect([none.status, none.json.errors?.map((e: any) => e.extensions?.code)]).toEqual([400, ['OPERATION_RESOLUTION_FAILURE']]);
    expect((await eventsOf(t, none.requestId)).map((e) => e.outcome)).toEqual(['INVALID']);
    await ask(token, doc, { id: own, school }, 'M');
  });

  it('a mutation reached through a named, inline or conditional fragment needs its purpose, and one skipped changes nothing', async () => {
    const token = await tokenFor(Department.CIVIL_AFFAIRS);
    const [{ school }] = await t.sql(`SELECT school FROM registry.minor WHERE id = $1`, [own]);
    const shapes = [
      `mutation M($id: ID!) { ...F } fragment F on Mutation { updateMinor(id: $id, input: { school: "RT16 片段" }) { id } }`,
      `mutation M($id: ID!) { ... on Mutation { updateMinor(id: $id, input: { school: "RT16 片段" }) { id } } }`,
      `mutation M($id: ID!) { ... @include(if: true) { u: updateMinor(id: $id, input: { school: "RT16 片段" }) { id } } }`,
      `mutation M($id: ID!) { __typename ...F } fragment F on Mutation { updateMinor(id: $id, input: { school: "RT16 片段" }) { k: __typename } }`,
    ];
    for (const q of shapes) {
      const r = await post(t, token, { query: q, variables: { id: own } }, {});
      expect({ q, status: r.status, codes: r.json?.errors?.map((e: any) => e.extensions?.code), data: r.json?.data }).toEqual({ q, status: 400, codes: ['BAD_USER_INPUT'], data: undefined });
      expect((await eventsOf(t, r.requestId)).map((e) => e.outcome)).toEqual(['INVALID']);
    }
    expect((await t.sql(`SELECT school FROM registry.minor WHERE id = $1`, [own]))[0].school).toBe(school);
    // Skipped: the STARTED event and a final one, no change recorded or made.
    for (const q of [
      `mutation M($id: ID!, $s: Boolean!) { updateMinor(id: $id, input: { school: "RT16 跳过" }) @skip(if: $s) { id } }`,
      `mutation M($id: ID!, $s: Boolean!) { ...F @skip(if: $s) } fragment F on Mutation { updateMinor(id: $id, input: { school: "RT16 跳过" }) { id } }`,
    ]) {
      const r = await post(t, token, { query: q, variables: { id: own, s: true } }, PURPOSE);
      expect({ q, status: r.status, json: r.json }).toEqual({ q, status: 200, json: { data: {} } });
      const events = await eventsOf(t, r.requestId);
      expect(events.map((e) => [e.outcome, e.body.changes ?? []])).toEqual([
        ['STARTED', []],
        ['SUCCESS', []],
      ]);
    }
    expect((await t.sql(`SELECT school FROM registry.minor WHERE id = $1`, [own]))[0].school).toBe(school);
  });

  it('the same root field twice under two aliases, one child in jurisdiction and one outside: the outside one null exactly as an unknown id, only the own child audited, on every path', async () => {
    for (const subject of DEPARTMENTS) {
      const token = await tokenFor(subject);
      const results: Record<string, any> = {};
      for (const [label, second] of [
        ['other', other],
        ['unknown', UNKNOWN],
      ]) {
        for (const extra of ['', ' statisticsScope { level }']) {
          const r = await ask(token, `query($a: ID!, $b: ID!) { mine: minor(id: $a) { name idNumber } theirs: minor(id: $b) { name idNumber birthDate visits { id } }${extra} }`, { a: own, b: second });
          noStack(r);
          const s = { status: r.status, mine: r.json.data.mine, theirs: r.json.data.theirs, errors: (r.json.errors ?? []).map((e: any) => [e.path?.join('.'), e.extensions?.code]), reads: r.event.reads, outcome: r.event.outcome };
          expect({ subject, label, extra, theirs: s.theirs, reads: s.reads.map((g: any) => g.minorId) }).toEqual({ subject, label, extra, theirs: null, reads: [own] });
          results[`${label}${extra}`] = s;
        }
      }
      expect({ subject, ...results.other }).toEqual({ subject, ...results.unknown });
      expect({ subject, ...results['other statisticsScope { level }'] }).toEqual({ subject, ...results['unknown statisticsScope { level }'] });
    }
  });

  it('the same child twice under two aliases with different fields: the union audited, each served as the policy says', async () => {
    const token = await tokenFor(Department.EDUCATION);
    for (const extra of ['', ' statisticsScope { level }']) {
      const r = await ask(token, `query($a: ID!) { x: minor(id: $a) { name } y: minor(id: $a) { idNumber birthDate } }`.replace(/ }$/, `${extra} }`), { a: own });
      expect(r.json.data.y.idNumber).toMatch(/^\d{6}\*{12}$/);
      expect(r.json.data.y.birthDate).toBeNull();
      expect((r.json.errors ?? []).map((e: any) => [e.path.join('.'), e.extensions.code])).toEqual([['y.birthDate', 'FORBIDDEN']]);
      expect(r.event.reads).toEqual([{ minorId: own, fields: { 'Minor.birthDate': 'DENY', 'Minor.idNumber': 'MASK', 'Minor.name': 'ALLOW' } }]);
      expect(r.event.outcome).toBe('PARTIAL');
    }
  });

  it('the non-department roles are refused a child under any alias or fragment, and nothing of the child is audited', async () => {
    for (const subject of [Role.AUDITOR, Role.DASHBOARD, Role.REPORTER, Role.EMPLOYER] as PolicySubject[]) {
      const token = await tokenFor(subject);
      const shapes = [
        `query($id: ID!) { minor(id: $id) { name } }`,
        `query($id: ID!) { regions: minor(id: $id) { name } }`,
        `query($id: ID!) { ...F } fragment F on Query { minor(id: $id) { kind: __typename } }`,
        `query($id: ID!) { ... on Query { m: minor(id: $id) { __typename } } }`,
      ];
      for (const q of shapes) {
        const r = await ask(token, q, { id: own });
        noStack(r);
        const root = Object.keys(r.json.data ?? {})[0];
        expect({ subject, q, value: r.json.data?.[root], codes: r.json.errors?.map((e: any) => e.extensions?.code) }).toEqual({ subject, q, value: null, codes: ['FORBIDDEN'] });
        expect({ subject, q, reads: r.event.reads, outcome: r.event.outcome }).toEqual({ subject, q, reads: [], outcome: 'DENIED' });
      }
    }
  });

  it('a child reached again through another subgraph’s record is masked, refused and audited as when read directly', async () => {
    for (const subject of [Department.EDUCATION, Department.POLICE, Department.YOUTH_LEAGUE, Department.WOMENS_FEDERATION, Department.CIVIL_AFFAIRS]) {
      const token = await tokenFor(subject);
      const fields = `idNumber name currentAddress birthDate guardians { name phone address }`;
      const direct = await ask(token, `query($id: ID!) { minor(id: $id) { ${fields} } }`, { id: own });
      const nested = await ask(token, `query($id: ID!) { minor(id: $id) { schoolEnrollments { minor { ${fields} } } } }`, { id: own });
      noStack(nested);
      const enrollments = nested.json.data.minor.schoolEnrollments;
      expect(enrollments.length).toBeGreaterThan(0);
      for (const e of enrollments) expect({ subject, m: e.minor }).toEqual({ subject, m: direct.json.data.minor });
      const directReads = direct.event.reads[0].fields;
      const nestedReads = nested.event.reads.find((g: any) => g.minorId === own).fields;
      for (const [k, v] of Object.entries(directReads)) expect({ subject, k, v: nestedReads[k] }).toEqual({ subject, k, v });
      const codes = (r: any) => [...new Set((r.json.errors ?? []).map((e: any) => `${e.path.slice(-1)[0]}:${e.extensions.code}`))].sort();
      expect({ subject, codes: codes(nested) }).toEqual({ subject, codes: codes(direct) });
    }
  });

  it('a child whose every selected field is skipped is still told to exist, and audited as such, on every path; another street’s child is null and unnamed', async () => {
    const token = await tokenFor(Department.EDUCATION);
    const q = `query($id: ID!, $s: Boolean = true) { minor(id: $id) { name @skip(if: $s) birthDate @include(if: false) } }`;
    for (const query of [q, q.replace(/ }$/, ' statisticsScope { level } }')]) {
      const mine = await ask(token, query, { id: own });
      expect([mine.status, mine.json.data.minor, mine.json.errors]).toEqual([200, {}, undefined]);
      expect(mine.event.reads).toEqual([{ minorId: own, fields: { 'Minor.__typename': 'ALLOW' } }]);
      for (const id of [other, UNKNOWN]) {
        const theirs = await ask(token, query, { id });
        expect([theirs.status, theirs.json.data.minor, theirs.json.errors, theirs.event.reads]).toEqual([200, null, undefined, []]);
      }
    }
  });

  it('deeply nested entity fields across subgraphs: refused, masked and audited as read directly, for every department', async () => {
    const direct = `idNumber name currentAddress birthDate nextVisitDue guardians { name phone address situation }`;
    for (const subject of DEPARTMENTS) {
      const token = await tokenFor(subject);
      const d = await ask(token, `query($id: ID!) { minor(id: $id) { ${direct} } }`, { id: own });
      const q = `query($id: ID!) { minor(id: $id) { schoolEnrollments(first: 1) { minor { identityVerifications(first: 1) { minor { referrals(first: 1) { id } schoolEnrollments(first: 1) { minor { ${direct} } } } } } } } }`;
      const r = await ask(token, q, { id: own });
      noStack(r);
      // Walk down as far as the answer goes; wherever it stops there must be a FORBIDDEN for that path.
      const paths = (r.json.errors ?? []).map((e: any) => ({ path: e.path.join('.'), code: e.extensions?.code }));
      for (const e of paths) expect({ subject, e }).toEqual({ subject, e: { path: e.path, code: 'FORBIDDEN' } });
      const leaf = r.json.data?.minor?.schoolEnrollments?.[0]?.minor?.identityVerifications?.[0]?.minor?.schoolEnrollments?.[0]?.minor;
      if (leaf) {
        expect({ subject, leaf }).toEqual({ subject, leaf: d.json.data.minor });
        const fieldsOf = (ev: any) => ev.reads.find((g: any) => g.minorId === own)?.fields ?? {};
        for (const [k, v] of Object.entries(fieldsOf(d.event))) expect({ subject, k, v: fieldsOf(r.event)[k] }).toEqual({ subject, k, v });
      }
      expect({ subject, children: r.event.reads.map((g: any) => g.minorIds ?? g.minorId).flat() }).toEqual({ subject, children: [own] });
    }
  });

  it('errors name the aliased path the client sees, and each such path holds null in the answer, on the fast path and across subgraphs', async () => {
    const at = (data: any, path: (string | number)[]) => path.reduce((o, k) => (o == null ? undefined : o[k]), data);
    for (const subject of [Department.EDUCATION, Department.YOUTH_LEAGUE, Department.JUSTICE]) {
      const token = await tokenFor(subject);
      const q = `query($id: ID!) { kid: minor(id: $id) { dob: birthDate v: visits { id } g: guardians { s: situation n: name } e: schoolEnrollments(first: 2) { who: minor { dob2: birthDate addr: currentAddress inc: policeIncidents { id } } } } }`;
      const r = await ask(token, q, { id: own });
      noStack(r);
      expect(r.json.data.kid).not.toBeNull();
      for (const e of r.json.errors ?? []) {
        expect({ subject, path: e.path, code: e.extensions?.code }).toEqual({ subject, path: e.path, code: 'FORBIDDEN' });
        expect({ subject, path: e.path, value: at(r.json.data, e.path) }).toEqual({ subject, path: e.path, value: null });
        expect({ subject, path: e.path, alias: typeof e.path[e.path.length - 1] === 'string' && ['dob', 'v', 's', 'n', 'e', 'dob2', 'addr', 'inc', 'who'].includes(e.path[e.path.length - 1]) }).toEqual({ subject, path: e.path, alias: true });
      }
      // Every null leaf of a field the policy refuses has its error.
      const paths = new Set((r.json.errors ?? []).map((e: any) => e.path.join('.')));
      const walk = (o: any, path: (string | number)[]) => {
        if (o === null) {
          expect({ subject, missing: path.join('.'), has: paths.has(path.join('.')) || ['addr'].includes(String(path[path.length - 1])) }).toEqual({ subject, missing: path.join('.'), has: true });
          return;
        }
        if (typeof o !== 'object') return;
        for (const [k, v] of Object.entries(o)) walk(v, [...path, Array.isArray(o) ? Number(k) : k]);
      };
      walk(r.json.data, []);
    }
  });

  it('every subject: one subgraph’s documents with fragments, aliases and directives answer, refuse, mask and audit alike on the fast path and the planner', async () => {
    const docs: [string, string, Record<string, unknown>][] = [
      [
        'minors',
        `query($yes: Boolean = true) { minors(first: 5, filter: { riskLevels: [RED, ORANGE, YELLOW, BLUE] }) { totalCount edges { node { ...M k: id @include(if: $yes) } } } } fragment M on Minor { id name idNumber a: currentAddress guardians { ... on Guardian { name p: phone address @skip(if: false) } } categories { category } birthDate @include(if: $yes) }`,
        {},
      ],
      ['minor', `query($id: ID!) { m: minor(id: $id) { ...on Minor { n: name i: idNumber } visits @skip(if: false) { id } nextVisitDue updatedAt householdRegistration } }`, { id: own }],
      ['dropoutReports', `{ dropoutReports(first: 5) { nodes { id status daysAbsent d: persuasionActions { id } minor { id } } } }`, {}],
      ['policeIncidents', `{ policeIncidents(first: 5) { nodes { id type narrative n: narrative minor { i: id } } } }`, {}],
      ['referrals', `{ referrals(first: 5) { id status need grantedFields minor { id } } }`, {}],
      ['notifications', `{ notifications(first: 5) { id kind minor { id } } }`, {}],
    ];
    for (const subject of POLICY_SUBJECTS) {
      const token = await tokenFor(subject);
      for (const [root, q, variables] of docs) {
        const alone = await ask(token, q, variables);
        const planned = await ask(token, q.replace(/^(query[^{]*)?\{/, (m) => `${m} statisticsScope { level }`), variables);
        noStack(alone);
        noStack(planned);
        const key = Object.keys(alone.json.data ?? {})[0] ?? root;
        const view = (r: any) => ({
          status: r.status === 400 ? 400 : 200,
          data: r.json.data?.[key],
          errors: (r.json.errors ?? []).filter((e: any) => !e.path || e.path[0] === key).map((e: any) => [e.path?.join('.'), e.extensions?.code, e.message]),
          reads: r.event.reads,
        });
        expect({ subject, root, ...view(planned) }).toEqual({ subject, root, ...view(alone) });
        if (subject === Department.CIVIL_AFFAIRS || subject === Department.POLICE) expect({ subject, root, status: alone.status, errors: (alone.json.errors ?? []).filter((e: any) => e.extensions?.code !== 'FORBIDDEN') }).toEqual({ subject, root, status: 200, errors: [] });
      }
    }
  });

  it('under a referral’s grant: the fields it opens are exact under any alias or fragment and only for its child; another child read along withholds the answer, one skipped does not', async () => {
    const [{ id: second }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND id <> $1 ORDER BY id LIMIT 1`, [own]);
    const [{ id: referral }] = await t.sql(
      `INSERT INTO workflow.referral (id, minor_id, type, need, from_department, from_user, to_department, region_code, status, created_at, answer_due_at)
       VALUES (gen_random_uuid(), $1, 'EDUCATION_AID', 'rt16', 'CIVIL_AFFAIRS', 'civil_affairs-rt16', 'EDUCATION', $2, 'ACCEPTED', now(), now() + interval '3 days') RETURNING id`,
      [own, STREET],
    );
    const token = await tokenFor(Department.EDUCATION);
    const headers = { 'x-purpose': `REFERRAL; ${referral}` };
    const civil = await ask(await tokenFor(Department.CIVIL_AFFAIRS), `query($id: ID!) { minor(id: $id) { currentAddress guardians { name phone address } } }`, { id: own });
    const exact = civil.json.data.minor;
    const shapes = [
      `query($id: ID!) { minor(id: $id) { currentAddress guardians { name phone address } } }`,
      `query($id: ID!) { minor(id: $id) { ...F } } fragment F on Minor { currentAddress guardians { ... on Guardian { name phone address } } }`,
      `query($id: ID!) { minor(id: $id) { currentAddress guardians { name phone address } } statisticsScope { level } }`,
      `query($id: ID!, $other: ID!, $s: Boolean = true) { minor(id: $id) { currentAddress guardians { name phone address } } o: minor(id: $other) @skip(if: $s) { name } }`,
    ];
    for (const q of shapes) {
      const r = await post(t, token, { query: q, variables: q.includes('$other') ? { id: own, other: second } : { id: own } }, headers);
      noStack(r);
      expect({ q, status: r.status, minor: r.json.data?.minor, errors: r.json.errors }).toEqual({ q, status: 200, minor: exact, errors: undefined });
      const ev = await eventOf(t, r.requestId);
      expect({ q, reads: ev.reads }).toEqual({ q, reads: [{ minorId: own, fields: expect.objectContaining({ 'Minor.currentAddress': 'ALLOW', 'Guardian.name': 'ALLOW', 'Guardian.phone': 'ALLOW', 'Guardian.address': 'ALLOW' }) }] });
    }
    // Aliased twice, one of them the granted child, the other a child the grant does not cover.
    for (const [q, vars] of [
      [`query($id: ID!, $other: ID!) { a: minor(id: $id) { currentAddress } b: minor(id: $other) { currentAddress } }`, { id: own, other: second }],
      [`query($id: ID!, $other: ID!) { a: minor(id: $id) { currentAddress } b: minor(id: $other) { k: __typename } }`, { id: own, other: second }],
      [`query($id: ID!, $other: ID!) { a: minor(id: $id) { currentAddress } ...O } fragment O on Query { b: minor(id: $other) { name @include(if: false) } }`, { id: own, other: second }],
    ] as [string, Record<string, unknown>][]) {
      const r = await post(t, token, { query: q, variables: vars }, headers);
      expect({ q, status: r.status, data: r.json.data, codes: r.json.errors?.map((e: any) => e.extensions?.code) }).toEqual({ q, status: 403, data: undefined, codes: ['FORBIDDEN'] });
      const ev = await eventOf(t, r.requestId);
      for (const g of ev.reads) for (const v of Object.values(g.fields)) expect({ q, v }).toEqual({ q, v: 'DENY' });
    }
  });

  it('literal arguments of every form (block strings, escapes, coerced scalars, lists from one value, out of range): a typed answer, never an internal error, the event’s codes the answer’s', async () => {
    const token = await tokenFor(Department.EDUCATION);
    const escaped = own.split('').map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    const docs: [string, 'own' | 'none' | 'refused' | 'partial'][] = [
      [`{ minor(id: "${own}") { name } }`, 'own'],
      [`{ minor(id: """${own}""") { name } }`, 'own'],
      [`{ minor(id: "${escaped}") { name } }`, 'own'],
      [`{ minor(id: "${other}") { name } }`, 'none'],
      [`{ minor(id: 5) { name } }`, 'none'],
      [`{ minor(id: null) { name } }`, 'refused'],
      [`{ minor(id: 1.5) { name } }`, 'refused'],
      [`{ minors(first: 0) { totalCount } }`, 'refused'],
      [`{ minors(first: -1) { totalCount } }`, 'refused'],
      [`{ minors(first: 1.5) { totalCount } }`, 'refused'],
      [`{ minors(first: 2147483648) { totalCount } }`, 'refused'],
      [`{ minors(first: 1, filter: { riskLevels: RED }) { totalCount } }`, 'none'],
      [`{ minors(first: 1, filter: { riskLevels: [] }) { totalCount } }`, 'refused'],
      [`{ minors(first: 1, filter: { categories: CRIME_VICTIM }) { totalCount } }`, 'refused'],
      [`{ minors(first: 1, filter: { ageMin: -1 }) { totalCount } }`, 'refused'],
      [`{ minors(first: 1, filter: { ageMin: 18 }) { totalCount } }`, 'refused'],
      [`{ minors(first: 1, filter: { regionCode: "330102%" }) { totalCount } }`, 'refused'],
      [`{ minors(first: 1, filter: { regionCode: "330102002" }) { totalCount } }`, 'none'],
      [`{ minors(first: 1, filter: { nextVisitDueBefore: "2030-01-01T00:00:00Z" }) { totalCount } }`, 'refused'],
      [`query($f: MinorFilter = { riskLevels: [] }) { minors(first: 1, filter: $f) { totalCount } }`, 'refused'],
      [`query($f: MinorFilter = { nextVisitDueBefore: "2030-01-01T00:00:00Z" }) { minors(first: 1, filter: $f) { totalCount } }`, 'refused'],
      [`{ minors(first: 1, after: "not-a-cursor") { totalCount } }`, 'refused'],
      [`{ minor(id: "${own}") { schoolEnrollments(first: 0) { id } } }`, 'partial'],
      [`{ minor(id: "${own}") { schoolEnrollments(after: "x") { id } } }`, 'partial'],
    ];
    for (const [query, expectation] of docs) {
      for (const q of [query, query.replace(/^(query(\([^)]*\))?\s*)?\{/, (m) => `${m} statisticsScope { level }`)]) {
        const r = await ask(token, q);
        noStack(r);
        const codes = (r.json.errors ?? []).map((e: any) => e.extensions?.code);
        expect({ q, internal: codes.includes('INTERNAL_SERVER_ERROR'), status: [200, 400].includes(r.status) }).toEqual({ q, internal: false, status: true });
        expect({ q, codes: [...r.event.errorCodes].sort() }).toEqual({ q, codes: [...codes].sort() });
        const named = r.event.reads.map((g: any) => g.minorId);
        if (expectation === 'own') expect({ q, named, name: typeof r.json.data?.minor?.name }).toEqual({ q, named: [own], name: 'string' });
        if (expectation === 'refused') expect({ q, refused: codes.some((c: string) => ['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED', 'FORBIDDEN'].includes(c)), named }).toEqual({ q, refused: true, named: [] });
        if (expectation === 'none') expect({ q, codes, minor: r.json.data?.minor ?? null }).toEqual({ q, codes: [], minor: null });
        if (expectation === 'partial') expect({ q, codes: codes.filter((c: string) => c !== 'FORBIDDEN'), named, data: r.json.data?.minor }).toEqual({ q, codes: ['BAD_USER_INPUT'], named: [own], data: { schoolEnrollments: null } });
      }
    }
  });

  it('one history list under several aliases with different pages, and another child’s row as a cursor: each alias its own page, the foreign cursor refused with nothing of either list', async () => {
    const token = await tokenFor(Department.CIVIL_AFFAIRS);
    const [x, y] = await t.sql(
      `SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE '${STREET}%' AND (SELECT count(*) FROM registry.visit v WHERE v.minor_id = m.id) >= 3 ORDER BY m.id LIMIT 2`,
    );
    expect(y).toBeDefined();
    const one = async (first: number, after?: string) => {
      const r = await ask(token, `query($id: ID!, $first: Int!, $after: ID) { minor(id: $id) { visits(first: $first, after: $after) { id } } }`, { id: x.id, first, after });
      return r.json.data.minor.visits.map((v: any) => v.id);
    };
    const a = await one(1);
    const b = await one(3);
    const c = await one(2, a[0]);
    expect(c).toEqual(b.slice(1, 3));
    for (const extra of ['', ' statisticsScope { level }']) {
      const r = await ask(
        token,
        `query($x: ID!, $y: ID!, $cur: ID!) { m: minor(id: $x) { a: visits(first: 1) { id } b: visits(first: 3) { id } c: visits(first: 2, after: $cur) { id } } n: minor(id: $y) { d: visits(first: 2, after: $cur) { id } e: visits(first: 1) { id } }${extra} }`,
        { x: x.id, y: y.id, cur: a[0] },
      );
      noStack(r);
      expect(r.json.data.m).toEqual({ a: a.map((id: string) => ({ id })), b: b.map((id: string) => ({ id })), c: c.map((id: string) => ({ id })) });
      expect(r.json.data.n.d).toBeNull();
      expect(r.json.data.n.e).toHaveLength(1);
      expect([...b, ...c]).not.toContain(r.json.data.n.e[0].id);
      expect((r.json.errors ?? []).map((e: any) => [e.path.join('.'), e.extensions.code])).toEqual([['n.d', 'BAD_USER_INPUT']]);
    }
  });

  it('aliases beginning with two underscores are answered alike on every path, masked and audited as the field they name', async () => {
    for (const subject of [Department.EDUCATION, Department.CIVIL_AFFAIRS]) {
      const token = await tokenFor(subject);
      const plain = await ask(token, `query($id: ID!) { minor(id: $id) { idNumber name guardians { phone } } }`, { id: own });
      const results = [];
      for (const q of [
        `query($id: ID!) { __m: minor(id: $id) { __schema: idNumber __type: name __g: guardians { __p: phone } } }`,
        `query($id: ID!) { __m: minor(id: $id) { __schema: idNumber __type: name __g: guardians { __p: phone } } statisticsScope { level } }`,
        `query($id: ID!) { __m: minor(id: $id) { __schema: idNumber __type: name __g: guardians { __p: phone } schoolEnrollments { id } } }`,
      ]) {
        const r = await ask(token, q, { id: own });
        noStack(r);
        const m = r.json.data?.__m;
        expect({ subject, q, m: m && { idNumber: m.__schema, name: m.__type, guardians: m.__g?.map((g: any) => ({ phone: g.__p })) } }).toEqual({ subject, q, m: plain.json.data.minor });
        const fields = r.event.reads.find((g: any) => g.minorId === own)?.fields ?? {};
        for (const [k, v] of Object.entries(plain.event.reads[0].fields)) expect({ subject, q, k, v: fields[k] }).toEqual({ subject, q, k, v });
        results.push(r.status);
      }
    }
  });

  it('minorByIdNumber twice under aliases, one number in jurisdiction and one outside: the outside one null exactly as an unregistered number, only the own child audited', async () => {
    const [{ id_number: mine }] = await t.sql(`SELECT id_number FROM registry.minor WHERE id = $1`, [own]);
    const [{ id_number: theirs }] = await t.sql(`SELECT id_number FROM registry.minor WHERE id = $1`, [other]);
    // An unregistered number with a valid check digit: the other child's, its sequence moved on until none is registered.
    const checkDigit = (s: string) => '10X98765432'[s.split('').reduce((n, c, i) => n + Number(c) * [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2][i], 0) % 11];
    let unknown = '';
    for (let seq = 100; seq < 999; seq++) {
      const body = `${theirs.slice(0, 14)}${seq}`;
      const candidate = `${body}${checkDigit(body)}`;
      if (!(await t.sql(`SELECT 1 FROM registry.minor WHERE id_number = $1`, [candidate])).length) {
        unknown = candidate;
        break;
      }
    }
    expect(checkDigit(mine.slice(0, 17))).toBe(mine[17].toUpperCase());
    for (const subject of [Department.POLICE, Department.CIVIL_AFFAIRS]) {
      const token = await tokenFor(subject);
      const results: Record<string, any> = {};
      for (const [label, n] of [
        ['other street', theirs],
        ['unregistered', unknown],
      ]) {
        for (const extra of ['', ' statisticsScope { level }']) {
          const r = await ask(token, `query($a: String!, $b: String!) { mine: minorByIdNumber(idNumber: $a) { id name } theirs: minorByIdNumber(idNumber: $b) { id name }${extra} }`, { a: mine, b: n });
          noStack(r);
          expect({ subject, label, mine: r.json.data.mine?.id, theirs: r.json.data.theirs, errors: r.json.errors, named: r.event.reads.map((g: any) => g.minorId) }).toEqual({ subject, label, mine: own, theirs: null, errors: undefined, named: [own] });
          results[`${extra}`] = results[`${extra}`] ?? [];
          results[`${extra}`].push({ status: r.status, reads: r.event.reads, outcome: r.event.outcome });
        }
      }
      for (const list of Object.values(results)) expect(list[0]).toEqual(list[1]);
    }
  });

  it('an id spelt otherwise (case, braces, no hyphens, NUL, very long) is the same child or none, within the jurisdiction, never an internal error', async () => {
    const token = await tokenFor(Department.EDUCATION);
    const spellings = [own.toUpperCase(), `{${own}}`, own.replace(/-/g, ''), `${own}\u0000`, `${own} `, 'x'.repeat(10000), other.toUpperCase(), other.replace(/-/g, ''), "' OR 1=1 --"];
    for (const id of spellings) {
      for (const q of [`query($id: ID!) { minor(id: $id) { name } }`, `query($id: ID!) { minor(id: $id) { name } statisticsScope { level } }`]) {
        const r = await ask(token, q, { id });
        noStack(r);
        expect({ id: id.slice(0, 50), q, status: r.status, errors: r.json.errors }).toEqual({ id: id.slice(0, 50), q, status: 200, errors: undefined });
        const named = r.event.reads.map((g: any) => g.minorId);
        if (r.json.data.minor) expect({ id: id.slice(0, 50), named }).toEqual({ id: id.slice(0, 50), named: [own] });
        else expect(named).toEqual([]);
      }
    }
  });

  it('an education-only list of records with their child’s id answers the same children on the fast path and the planner', async () => {
    const token = await tokenFor(Department.EDUCATION, '330102');
    const shapes = [
      `{ dropoutReports(first: 50) { nodes { id minor { id } } } }`,
      `{ dropoutReports(first: 50) { nodes { id minor { id } } } regions { code } }`,
      `{ dropoutReports(first: 50) { nodes { id minor { id name } } } }`,
      `{ dropoutReports(first: 50) { nodes { id minor { k: __typename } } } }`,
    ];
    const answers = [];
    for (const q of shapes) {
      const r = await ask(token, q);
      noStack(r);
      expect({ q, status: r.status, errors: r.json.errors }).toEqual({ q, status: 200, errors: undefined });
      const rows = r.json.data.dropoutReports.nodes.map((d: any) => [d.id, d.minor === null]);
      answers.push({ rows, children: r.event.reads.flatMap((g: any) => g.minorId) .sort() });
    }
    expect(answers[0].rows.length).toBeGreaterThan(0);
    for (const a of answers.slice(1)) expect(a).toEqual(answers[0]);
  });
});

describe('variable names that are Object.prototype members (redteam 16)', () => {
  let t: TestHub;
  let own: string;
  beforeAll(async () => {
    t = await startTestHub();
    [{ id: own }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
  });
  afterAll(() => t?.stop());

  it('a variable named $__proto__ is served or refused as the client’s input, alike on the compiled read, the fast path and the planner', async () => {
    const token = await t.token(Department.EDUCATION, { region: '330102001' });
    const results = [];
    for (const q of [
      `query($__proto__: ID!) { minor(id: $__proto__) { name } }`,
      `query($__proto__: ID!) { minor(id: $__proto__) { name __typename } }`,
      `query($__proto__: ID!) { minor(id: $__proto__) { name } statisticsScope { level } }`,
    ]) {
      const before = t.hub.compiledReadsServed() ?? 0;
      const r = await post(t, token, `{"query": ${JSON.stringify(q)}, "variables": {"__proto__": ${JSON.stringify(own)}}}`, { 'x-purpose': 'CASE_HANDLING' });
      const compiled = (t.hub.compiledReadsServed() ?? 0) - before;
      const codes = (r.json.errors ?? []).map((e: any) => e.extensions?.code);
      expect({ q, codes: codes.filter((c: string) => c === 'INTERNAL_SERVER_ERROR') }).toEqual({ q, codes: [] });
      results.push({ q, compiled, status: r.status, name: r.json.data?.minor?.name, codes });
    }
    expect(results[1]).toEqual({ ...results[0], q: results[1].q, compiled: 0 });
    expect(results[2]).toEqual({ ...results[0], q: results[2].q, compiled: 0 });
  });
});

describe('the audit trail’s once-per-request fields under conditional aliases (redteam 16)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t?.stop());

  it.each([
    ['auditEvents', (c: string) => `auditEvents(first: 1) ${c} { edges { node { seq } } }`],
    ['auditAnomalies', (c: string) => `auditAnomalies ${c} { kind }`],
    ['auditVerify', (c: string) => `auditVerify ${c} { ok events }`],
  ] as [string, (c: string) => string][])('%s aliased twice, each under its own @include variable, is answered once, on the fast path and on the planner', async (field, sel) => {
    const token = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: '330102', user: 'auditor-rt16' });
    const headers = { 'x-purpose': 'SUPERVISION' };
    for (const [label, extra, vars] of [
      ['alone, literal', '', null],
      ['alone, variables', '', { a: true, b: true }],
      ['planned, literal', ' regions { code }', null],
      ['planned, variables', ' regions { code }', { a: true, b: true }],
    ] as [string, string, Record<string, boolean> | null][]) {
      const q = vars
        ? `query($a: Boolean!, $b: Boolean!) { x: ${sel('@include(if: $a)')} y: ${sel('@include(if: $b)')}${extra} }`
        : `{ x: ${sel('@include(if: true)')} y: ${sel('@include(if: true)')}${extra} }`;
      const r = await post(t, token, { query: q, variables: vars ?? undefined }, headers);
      const codes = (r.json.errors ?? []).map((e: any) => e.extensions?.code);
      const answered = ['x', 'y'].filter((k) => r.json.data?.[k] != null);
      expect({ field, label, status: r.status, answered: answered.length, limit: codes.filter((c: string) => c === 'LIMIT_EXCEEDED').length }).toEqual({ field, label, status: 200, answered: 1, limit: 1 });
    }
  });
});
