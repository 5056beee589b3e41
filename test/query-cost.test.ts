import { Lexer, Source, TokenKind } from 'graphql';
import { Department, Role } from '../src/auth/principal';
import { eventCount, eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';
import { MAX_TOKENS } from '../src/audit/validation-bound';
import { REFUSED_FIELD_COST } from '../src/audit/query-cost';
import { HUB } from '../bench/scenarios';

/** Lexical tokens as graphql-js counts them against MAX_TOKENS. */
const tokens = (query: string) => {
  const lexer = new Lexer(new Source(query));
  let n = 0;
  while (lexer.advance().kind !== TokenKind.EOF) n++;
  return n;
};
const aliased = (n: number, field: string) => Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ');
/**
 * What a red-team probe sent 2000 times in one request (the hub ran out of memory answering it),
 * with a field more in the child and in each list: 30 of them, within the bound of subgraph hops
 * (validation-bound.ts), are more than the cost limit serves.
 */
const CHILDREN = `minors(first: 1000) { totalCount edges { node { name idNumber guardians { name phone } visits { notes visitedAt } } } }`;
const TABLE = `minorCounts(level: STREET, by: [RISK_LEVEL]) { cells { regionCode regionName riskLevel count { value suppressed display } } }`;

/**
 * The cost limit: an estimate of the values a response may hold, made before anything executes,
 * refuses what would exhaust the hub, with LIMIT_EXCEEDED like the depth limit, and audited.
 */
describe('query cost limit', () => {
  let t: TestHub;
  let civil: string;
  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(Department.CIVIL_AFFAIRS);
  });
  afterAll(() => t.stop());

  /** Refused before execution: 413, no data, and exactly one audit event, outcome LIMIT_EXCEEDED. */
  async function expectRefused(body: unknown, token = civil, message = /^The response could hold about \d+ values, more than the \d+ served in one request/): Promise<void> {
    const before = await eventCount(t);
    const r = await post(t, token, body);
    expect(r.status).toBe(413);
    expect(r.json.data).toBeUndefined();
    expect(r.json.errors.map((e: any) => e.extensions.code)).toEqual(['LIMIT_EXCEEDED']);
    expect(r.json.errors[0].message).toMatch(message);
    expect(await eventCount(t)).toBe(before + 1);
    const event = await eventOf(t, r.requestId);
    expect(event).toMatchObject({ outcome: 'LIMIT_EXCEEDED', errorCodes: ['LIMIT_EXCEEDED'], reads: [] });
  }

  it('refuses 30 aliases of a page of 1000 children quickly, and audits the refusal', async () => {
    // The probe sent 2000: over 5,000 tokens, that text is refused for its length now, and 100 for
    // the planning they cost (subgraph hops, below); 30 are neither.
    const query = `{ ${aliased(30, CHILDREN)} }`;
    expect(tokens(query)).toBeLessThan(MAX_TOKENS); // under the body, text, token and hop limits: only the cost limit stops it
    await expectRefused({ query });
  });

  it('refuses an operation longer than 64 KiB (literals aside) before anything runs, keeping only its beginning and hash in the trail', async () => {
    // Any token, reading nothing: 31,000 aliases of `__typename` once left 690 KB in the append-only
    // trail per request; under the token limit, long aliases make the length.
    const query = `{ ${aliased(1000, `__typename`).replace(/a(\d+):/g, `a$1${'_'.repeat(60)}:`)} }`;
    expect(tokens(query)).toBeLessThan(MAX_TOKENS);
    const before = await eventCount(t);
    const r = await post(t, await t.token(Department.POLICE, { role: Role.REPORTER }), { query }, {});
    expect([r.status, r.json.data, r.json.errors.map((e: any) => e.extensions.code)]).toEqual([413, undefined, ['LIMIT_EXCEEDED']]);
    expect(await eventCount(t)).toBe(before + 1);
    const event = await eventOf(t, r.requestId);
    expect(event).toMatchObject({ outcome: 'LIMIT_EXCEEDED', reads: [] });
    expect(event.document.length).toBeLessThan(4096);
    expect(event.documentHash).toMatch(/^[0-9a-f]{64}$/);
    // Below the limit, the same kind of document is served and kept whole.
    const served = await post(t, civil, { query: `{ ${aliased(1000, '__typename')} }` }, {});
    expect([served.status, served.json.errors]).toEqual([200, undefined]);
    expect((await eventOf(t, served.requestId)).document).toContain('a999:__typename');
  });

  it('refuses an operation declaring more than 100 variables, and its event keeps the HMACs of 100', async () => {
    // 3,000 declared variables in a 64 KiB document stored some 300 KB of HMACs per request.
    const names = Array.from({ length: 300 }, (_, i) => `v${i}`);
    const query = `query(${names.map((n) => `$${n}: RiskLevel!`).join(', ')}) { minors(first: 1, filter: { riskLevels: [${names.map((n) => `$${n}`).join(', ')}] }) { totalCount } }`;
    const r = await post(t, civil, { query, variables: Object.fromEntries(names.map((n) => [n, 'RED'])) });
    expect([r.status, r.json.errors.map((e: any) => e.extensions.code)]).toEqual([413, ['LIMIT_EXCEEDED']]);
    const [{ stored }] = await t.sql(`SELECT body::jsonb -> 'variables' AS stored FROM audit.event WHERE request_id = $1`, [r.requestId]);
    expect(Object.keys(stored)).toHaveLength(100);
  });

  it('refuses 20 aliases of a statistics table by grid', async () => {
    await expectRefused({ query: `{ ${aliased(20, TABLE.replace('STREET', 'GRID'))} }` }, await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD }));
  });

  it('prices the region tree by its regions: four levels of children under `regions` are served', async () => {
    const tree = await post(t, civil, { query: `{ regions { code name children { code name children { code name children { code name } } } } }` }, {});
    expect(tree.json.errors).toBeUndefined();
    expect(tree.json.data.regions.length).toBeGreaterThan(0);
  });

  it('prices a page of the trail by the fields of children it may answer, however its events store them: three pages of 500 are refused, one served', async () => {
    // Each event's reads as 100 children of a field each, what a page answers per event asked: a
    // read of thousands of children is one entry of the stored event, and was priced as five.
    const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR });
    const page = `auditEvents(first: 500) { edges { node { seq reads { minorId fields { field access } } } } }`;
    await expectRefused({ query: `{ ${aliased(3, page)} }` }, auditor);
    const one = await post(t, auditor, { query: `{ ${page} }` }, {});
    expect([one.status, one.json.errors]).toEqual([200, undefined]);
  });

  it('costs a page size given as a variable by its value, request by request', async () => {
    const query = `query($n: Int!) { ${aliased(30, CHILDREN.replace('first: 1000', 'first: $n'))} }`;
    const small = await post(t, civil, { query, variables: { n: 10 } });
    expect(small.status).toBe(200);
    expect(small.json.errors).toBeUndefined();
    expect(small.json.data.a29.edges).toHaveLength(10);
    await expectRefused({ query, variables: { n: 1000 } });
    // The same document again with a small page: the refusal was not remembered for the document.
    expect((await post(t, civil, { query, variables: { n: 10 } })).status).toBe(200);
    // A page size the operation defaults counts as well.
    await expectRefused({ query: query.replace('$n: Int!', '$n: Int = 1000') });
  });

  it('still serves a page of 1000 children with their guardians and visits', async () => {
    const r = await post(t, civil, { query: `{ ${CHILDREN} }` });
    expect(r.status).toBe(200);
    expect(r.json.errors).toBeUndefined();
    expect(r.json.data.minors.edges).toHaveLength(1000);
    expect((await eventOf(t, r.requestId)).outcome).toBe('SUCCESS');
  });

  it('counts what fragments and aliases select wherever they are spread', async () => {
    const page = `fragment Page on MinorConnection { totalCount edges { node { ...Child } } }
      fragment Child on Minor { name idNumber guardians { name phone } visits { notes visitedAt } }`;
    // A named fragment spread under many aliases counts under each of them.
    await expectRefused({ query: `{ ${aliased(30, 'minors(first: 1000) { ...Page }')} } ${page}` });
    // An inline fragment is no cheaper than the fields it holds.
    await expectRefused({ query: `{ ${aliased(30, 'minors(first: 1000) { ... on MinorConnection { edges { node { ... on Minor { name idNumber guardians { name phone } visits { notes visitedAt } } } } } }')} }` });
    // Aliases inside a fragment, spread twice in each of 40 fragments: about 2^40 pages, refused
    // without walking them one by one (the depth check neither): each spread counted, as the query
    // planner expands it, `a` and `b` gather at the root past the bound on one name in one place.
    let bomb = `query { ...F0 }`;
    for (let i = 0; i < 40; i++) bomb += ` fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`;
    bomb += ` fragment F40 on Query { a: minors(first: 1000) { ...Page } b: minors(first: 1000) { ...Page } } ${page}`;
    await expectRefused({ query: bomb }, civil, /^Selecting one response name more than 10 times in one place/);
  });

  it('refuses a list without a page size longer than 50 for that parent alone, never cut short, and audits the refusal', async () => {
    // The lists left unpaged are those the domain keeps short (a child's guardians, a report's
    // steps); written past the API, they grow like any other.
    const [{ minor_id: a, id: report }] = await t.sql(`SELECT minor_id, id FROM workflow.mandatory_report WHERE minor_id IS NOT NULL ORDER BY id LIMIT 1`);
    const [{ id: b }] = await t.sql(`SELECT id FROM registry.minor WHERE id <> $1 ORDER BY id LIMIT 1`, [a]);
    // Rows added here are marked, and taken away at the end: the other tests read these children.
    const count = async (table: string, where: string, id: string) => (await t.sql(`SELECT count(*)::int AS n FROM ${table} WHERE ${where} = $1`, [id]))[0].n as number;
    const seededGuardians = await count('registry.guardian', 'minor_id', a);
    const seededSteps = await count('workflow.report_transition', 'report_id', report);
    const guardiansOfB = await count('registry.guardian', 'minor_id', b);
    const guardians = async (n: number) => {
      await t.sql(`DELETE FROM registry.guardian WHERE minor_id = $1 AND name LIKE '测试监护人%'`, [a]);
      await t.sql(
        `INSERT INTO registry.guardian (id, minor_id, relationship, name, situation)
         SELECT gen_random_uuid(), $1, 'OTHER_RELATIVE', '测试监护人' || k, 'NORMAL' FROM generate_series(1, $2::int) k`,
        [a, n - seededGuardians],
      );
    };
    const steps = async (n: number) => {
      await t.sql(`DELETE FROM workflow.report_transition WHERE report_id = $1 AND note = '测试步骤'`, [report]);
      await t.sql(
        `INSERT INTO workflow.report_transition (id, report_id, minor_id, from_status, to_status, officer_id, department, note, at)
         SELECT gen_random_uuid(), $1, $2, 'RECEIVED', 'VERIFYING', 'officer-1', 'POLICE', '测试步骤', now() - k * interval '1 hour' FROM generate_series(1, $3::int) k`,
        [report, a, n - seededSteps],
      );
    };
    const query = `query($a: ID!, $b: ID!) {
      a: minor(id: $a) { name guardians { name } mandatoryReports { id transitions { toStatus } } }
      b: minor(id: $b) { name guardians { name } } }`;
    await Promise.all([guardians(50), steps(50)]);
    const whole = await post(t, civil, { query, variables: { a, b } });
    expect([whole.status, whole.json.errors]).toEqual([200, undefined]);
    expect(whole.json.data.a.guardians).toHaveLength(50);
    expect(whole.json.data.a.mandatoryReports.find((m: any) => m.id === report).transitions).toHaveLength(50);

    // One more of each: the child's guardians and the report's steps are refused; the rest is served.
    await Promise.all([guardians(51), steps(51)]);
    const r = await post(t, civil, { query, variables: { a, b } });
    expect(r.status).toBe(200);
    expect(r.json.data.a.name).toEqual(expect.any(String));
    expect(r.json.data.a.guardians).toBeNull();
    expect(r.json.data.a.mandatoryReports.find((m: any) => m.id === report).transitions).toBeNull();
    expect(r.json.data.b.guardians).toHaveLength(guardiansOfB);
    const reportIndex = r.json.data.a.mandatoryReports.findIndex((m: any) => m.id === report);
    expect(r.json.errors.map((e: any) => [e.extensions.code, e.message, e.path])).toEqual(
      expect.arrayContaining([
        ['LIMIT_EXCEEDED', 'More than 50 Guardian records in one list are not served', ['a', 'guardians']],
        ['LIMIT_EXCEEDED', 'More than 50 ReportTransition records in one list are not served', ['a', 'mandatoryReports', reportIndex, 'transitions']],
      ]),
    );
    expect(r.json.errors).toHaveLength(2);
    const event = await eventOf(t, r.requestId);
    // Released beside the refusals, as an alias that runs into a limit beside others is.
    expect(event).toMatchObject({ outcome: 'PARTIAL', errorCodes: ['LIMIT_EXCEEDED'] });
    expect(event.reads.find((c: any) => c.minorId === a).fields).toMatchObject({ 'Minor.guardians': 'DENY', 'MandatoryReport.transitions': 'DENY', 'Minor.name': 'ALLOW' });
    await Promise.all([guardians(seededGuardians), steps(seededSteps)]);
  });

  it('serves the same fragment spread in a small page', async () => {
    const r = await post(t, civil, { query: `{ minors(first: 10) { ...Page } } fragment Page on MinorConnection { edges { node { name guardians { name } } } }` });
    expect([r.status, r.json.errors, r.json.data.minors.edges.length]).toEqual([200, undefined, 10]);
  });
});

/**
 * Under a limit of 100,000, what 500,000 would refuse only in documents longer than the token
 * limit (validation-bound.ts) lets through.
 */
describe('query cost limit: 100,000', () => {
  let t: TestHub;
  let civil: string;
  beforeAll(async () => {
    t = await startTestHub({ maxQueryCost: 100_000 });
    civil = await t.token(Department.CIVIL_AFFAIRS);
  });
  afterAll(() => t.stop());

  async function expectRefused(body: unknown): Promise<void> {
    const r = await post(t, civil, body);
    expect([r.status, r.json.data, r.json.errors.map((e: any) => e.extensions.code)]).toEqual([413, undefined, ['LIMIT_EXCEEDED']]);
    expect(r.json.errors[0].message).toMatch(/^The response could hold about \d+ values, more than the 100000 served in one request/);
    expect((await eventOf(t, r.requestId)).outcome).toBe('LIMIT_EXCEEDED');
  }

  it('weighs introspection at what it holds: 40 full introspections are refused, one served (outside production)', async () => {
    const type = `type { kind name ofType { kind name ofType { kind name } } }`;
    const full = `__schema { types { name description fields(includeDeprecated: true) { name description args { name ${type} defaultValue } ${type} } enumValues(includeDeprecated: true) { name } } }`;
    await expectRefused({ query: `{ ${aliased(40, full)} }` });
    const one = await post(t, civil, { query: `{ ${full} }` });
    expect(one.json.errors).toBeUndefined();
  });

  it('weighs introspection’s lists at the schema’s lengths: aliases of every type’s fields, or of the longest type’s, are refused past the limit', async () => {
    // Every value of an answer: objects, scalars and list items alike.
    const values = (v: unknown): number => (Array.isArray(v) ? v.length + v.reduce((n: number, x) => n + values(x), 0) : v !== null && typeof v === 'object' ? Object.values(v).reduce((n: number, x) => n + values(x), 1) : 1);
    for (const [unit, times, units] of [
      // Each type's fields, ten times over, ten times: priced at 5 types of 5 fields, it passed for 7,500 values.
      [(k: number) => `__schema { ${aliased(k, `types { name ${aliased(k, 'fields { name type { name } }')} }`)} }`, 10, 100],
      // The query type's 58 fields, priced at 5.
      [(k: number) => `__type(name: "Query") { ${aliased(k, 'fields { name args { name } }')} }`, 400, 400],
    ] as const) {
      const small = await post(t, civil, { query: `{ ${unit(1)} }` });
      expect(small.json.errors).toBeUndefined();
      // What the refused request would have answered, at least: the small answer once per alias of an alias.
      expect(values(small.json.data) * units).toBeGreaterThan(100_000);
      await expectRefused({ query: `{ ${unit(times)} }` });
    }
  });

});

describe('query cost limit: HUB_MAX_QUERY_COST', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ maxQueryCost: 1_000 });
  });
  afterAll(() => t.stop());

  it('serves up to the configured maximum and refuses beyond it', async () => {
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    // A child's guardians are priced at the 10 a child may have, not at the 5 of a list without a bound.
    const page = (first: number) => `{ minors(first: ${first}) { edges { node { name guardians { name } } } } }`;
    const served = await post(t, civil, { query: page(70) }); // about 900 values
    expect([served.status, served.json.errors]).toEqual([200, undefined]);
    const refused = await post(t, civil, { query: page(100) }); // about 1300
    expect([refused.status, refused.json.errors[0].extensions.code]).toEqual([413, 'LIMIT_EXCEEDED']);
    expect(refused.json.errors[0].message).toMatch(/^The response could hold about 1302 values/);
  });

  it('prices a child’s history by the page asked, 20 when none is: visits, assessments, a department’s records and their sub-records, referrals', async () => {
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const page = (children: number, history: string) => `{ minors(first: ${children}) { edges { node { ${history} } } } }`;
    /** The estimate a refusal names; null when served. */
    const estimate = async (query: string) => {
      const r = await post(t, civil, { query });
      if (r.status === 200 && !r.json.errors) return null;
      expect([r.status, r.json.errors[0].extensions.code]).toEqual([413, 'LIMIT_EXCEEDED']);
      return Number(/about (\d+) values/.exec(r.json.errors[0].message)![1]);
    };
    // Each child: itself, its list and an item per visit or assessment; then the edges and the page.
    expect(await estimate(page(40, 'visits { notes }'))).toBeNull(); // 40 × 22 + 2
    expect(await estimate(page(50, 'visits { notes }'))).toBe(50 * 22 + 2);
    expect(await estimate(page(9, 'visits(first: 100) { notes }'))).toBeNull();
    expect(await estimate(page(10, 'visits(first: 100) { notes }'))).toBe(10 * 102 + 2);
    expect(await estimate(page(200, 'assessments(first: 4) { level }'))).toBe(200 * 6 + 2);
    expect(await estimate(page(40, 'childrenHomeAttendances { home }'))).toBeNull();
    expect(await estimate(page(50, 'childrenHomeAttendances { home }'))).toBe(50 * 22 + 2);
    expect(await estimate(page(10, 'referrals(first: 100) { id }'))).toBe(10 * 102 + 2);
    // A plan's visits within each plan: 1 + 20 × (1 + 20) for a child's plans.
    expect(await estimate(page(10, 'carePlans { visits { visitedOn } }'))).toBe(10 * 422 + 2);
    expect(await estimate(page(10, 'carePlans(first: 2) { visits(first: 100) { visitedOn } }'))).toBe(10 * 204 + 2);
    // A page after a cursor holds `first` rows like the first page, and is priced alike — or as the
    // refusal it is for every child whose list the cursor is not of (REFUSED_FIELD_COST), if dearer.
    const after = 'after: "00000000-0000-0000-0000-000000000000"';
    expect(await estimate(page(10, `visits(first: 100, ${after}) { notes }`))).toBe(10 * 102 + 2);
    expect(await estimate(page(50, `visits(${after}) { notes } `))).toBe(50 * (1 + REFUSED_FIELD_COST) + 2);
    expect(await estimate(page(10, `referrals(first: 100, ${after}) { id }`))).toBe(10 * 102 + 2);
    expect(await estimate(page(10, `carePlans(first: 2, ${after}) { visits(first: 100, ${after}) { visitedOn } }`))).toBe(10 * 204 + 2);
  });

  it('weighs each root field as a statement of its own: two aliases of a one-cell count are refused, one served', async () => {
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const total = `minorCounts(level: DISTRICT) { total { value } }`;
    const one = await post(t, civil, { query: `{ ${total} }` });
    expect([one.status, one.json.errors]).toEqual([200, undefined]);
    const two = await post(t, civil, { query: `{ ${aliased(2, total)} }` });
    expect([two.status, two.json.errors]).toEqual([413, [{ message: expect.stringMatching(/^The response could hold about 2000 values, more than the 1000 served in one request/), extensions: { code: 'LIMIT_EXCEEDED' } }]]);
  });
});

/** Values in an answer as the estimate counts them: every field, and every item of a list of scalars. */
const valuesOf = (v: unknown): number =>
  Array.isArray(v)
    ? v.reduce((n: number, x) => n + (x !== null && typeof x === 'object' ? valuesOf(x) : 1), 0)
    : v !== null && typeof v === 'object'
      ? Object.values(v).reduce((n: number, x) => n + 1 + valuesOf(x), 0)
      : 0;

/**
 * The region tree priced region by region at its level. A region's `children` were once priced at
 * one on average across a list of regions, true going down; `parent { children }` goes up and down
 * again, each region naming all its siblings, and a dashboard token read 529,864 values through a
 * limit of 100,000. A district shaped as the cost model takes one: 20 streets of 10 communities of
 * 10 grids.
 */
describe('query cost limit: the region tree', () => {
  const LIMIT = 100_000;
  const DISTRICT = '330103';
  let t: TestHub;
  let dashboard: string;
  beforeAll(async () => {
    t = await startTestHub({ maxQueryCost: LIMIT });
    const rows: string[][] = [[DISTRICT, '', 'DISTRICT', '模型区']];
    for (let s = 1; s <= 20; s++) {
      const street = `${DISTRICT}${String(s).padStart(3, '0')}`;
      rows.push([street, DISTRICT, 'STREET', `街道${s}`]);
      for (let c = 1; c <= 10; c++) {
        const community = `${street}${String(c).padStart(3, '0')}`;
        rows.push([community, street, 'COMMUNITY', `社区${s}-${c}`]);
        for (let g = 1; g <= 10; g++) rows.push([`${community}${String(g).padStart(3, '0')}`, community, 'GRID', `网格${s}-${c}-${g}`]);
      }
    }
    const column = (i: number) => rows.map((r) => r[i] || null);
    await t.sql(`INSERT INTO registry.region (code, parent_code, level, name) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])`, [0, 1, 2, 3].map(column));
    dashboard = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: DISTRICT });
  });
  afterAll(() => t.stop());

  /** The estimate of one root field, as the hub states it refusing 60 aliases of it (each weighs at least the district's 2,221 regions). */
  async function estimateOf(field: string): Promise<number> {
    const r = await post(t, dashboard, { query: `{ ${aliased(60, field)} }` }, {});
    expect([r.status, r.json.errors[0].extensions.code]).toEqual([413, 'LIMIT_EXCEEDED']);
    return Number(/about (\d+) values/.exec(r.json.errors[0].message)![1]) / 60;
  }

  it('refuses going up and down the tree again and again: each turn multiplies by the siblings', async () => {
    const turns = (n: number) => `regions { code ${'parent { children { code '.repeat(n)}${'} } '.repeat(n)}}`;
    // Through fragments alike: two turns, one spelt with named fragments and an inline one.
    const spelt = `{ regions { ...Up } } fragment Up on Region { code parent { ...Down } } fragment Down on Region { children { code parent { ... on Region { children { code } } } } }`;
    for (const query of [`{ ${turns(2)} }`, `{ ${turns(5)} }`, spelt]) {
      const r = await post(t, dashboard, { query }, {});
      expect([r.status, r.json.data, r.json.errors?.map((e: any) => e.extensions.code)]).toEqual([413, undefined, ['LIMIT_EXCEEDED']]);
    }
    // From a child's grid as well: up to the district and down its whole tree, for each child of the page.
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const r = await post(t, civil, { query: `{ minors(first: 100) { edges { node { grid { parent { parent { parent { children { children { children { code } } } } } } } } } } }` });
    expect([r.status, r.json.errors?.map((e: any) => e.extensions.code)]).toEqual([413, ['LIMIT_EXCEEDED']]);
  });

  it('answers an accepted walk of the tree, up or down, with no more values than its estimate', async () => {
    for (const field of [
      `regions { code parent { children { code } } }`,
      `regions { code parent { code parent { children { code parent { code } } } } }`,
      `regions { code name children { code name children { code name children { code name } } } }`,
    ]) {
      const r = await post(t, dashboard, { query: `{ ${field} }` }, {});
      expect([r.status, r.json.errors]).toEqual([200, undefined]);
      expect(r.json.data.regions).toHaveLength(2221);
      expect(valuesOf(r.json.data)).toBeLessThanOrEqual(await estimateOf(field));
    }
  });
});

/**
 * Bounds checked before graphql-js validates a document (src/audit/validation-bound.ts): its
 * validation compares every pair of fields answering to one name, and a few kilobytes of them held
 * the hub's event loop for seconds — every caller, /health and the audit writer waiting — before
 * any of the limits above was looked at. Refused like them, and audited.
 */
describe('limits checked before validation', () => {
  let t: TestHub;
  let employer: string;
  const probe = (n: number, name: string) =>
    `query ${name} { minor(id: "00000000-0000-4000-8000-000000000000") {${' grid { parent { code } }'.repeat(n)} } statisticsFreshness { __typename } }`;
  beforeAll(async () => {
    t = await startTestHub();
    // Any token will do: this one may read no child at all.
    employer = await t.token(Department.EDUCATION, { role: Role.EMPLOYER });
  });
  afterAll(() => t.stop());

  async function expectRefused(query: string, message: RegExp): Promise<Record<string, any>> {
    const before = await eventCount(t);
    const r = await post(t, employer, { query }, {});
    expect([r.status, r.json.data, r.json.errors]).toEqual([413, undefined, [{ message: expect.stringMatching(message), extensions: { code: 'LIMIT_EXCEEDED' } }]]);
    expect(await eventCount(t)).toBe(before + 1);
    const event = await eventOf(t, r.requestId);
    expect(event).toMatchObject({ outcome: 'LIMIT_EXCEEDED', errorCodes: ['LIMIT_EXCEEDED'], userId: expect.any(String), reads: [] });
    return event;
  }

  it('refuses a response name selected more than 10 times in one place, and serves it 10 times', async () => {
    // The red team's probe: 7.5 KB, valid, under the depth and cost limits; 1.5–4 s of the event loop.
    const query = probe(300, 'Qa');
    const event = await expectRefused(query, /^Selecting one response name more than 10 times in one place is not served/);
    expect(event.document).toContain('grid{parent{code}}');
    // Through fragments and inline fragments alike: what validation merges at one place is counted there.
    await expectRefused(`{ minor(id: "x") { ...A ...B ... on Minor { grid { code } } } } fragment A on Minor {${' grid { code }'.repeat(5)} } fragment B on Minor {${' grid { code }'.repeat(5)} }`, /^Selecting one response name more than 10/);
    // graphql-js stopped this one itself ("Validation aborted."), 180–360 ms later.
    await expectRefused(`{${' regions { code }'.repeat(500)} }`, /^Selecting one response name more than 10/);
    const served = await post(t, await t.token(Department.CIVIL_AFFAIRS), { query: probe(10, 'Qb') });
    expect([served.status, served.json.data, served.json.errors]).toEqual([200, { minor: null, statisticsFreshness: expect.any(Object) }, undefined]);
  });

  it('refuses a variable nested deeper than 32 levels as BAD_USER_INPUT, its event naming the operation, and serves one 32 deep to validation', async () => {
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const nested = (n: number) => `${'['.repeat(n)}"x"${']'.repeat(n)}`;
    // 20,000 deep (40 KB): the audit's hash of the value once overflowed the stack, answered 500 with an event naming no operation.
    for (const [query, type, name] of [
      ['mutation Remove($g: ID!) { removeGuardian(guardianId: $g) }', 'mutation', 'Remove'],
      ['query($id: ID!) { minor(id: $id) { name } }', 'query', null],
    ] as const) {
      const before = await eventCount(t);
      const r = await post(t, civil, `{"query":${JSON.stringify(query)},"variables":{"g":${nested(20_000)},"id":${nested(33)}}}`);
      expect([r.status, r.json.errors]).toEqual([400, [{ message: 'variables: a value nests deeper than 32 levels', extensions: { code: 'BAD_USER_INPUT' } }]]);
      expect(await eventCount(t)).toBe(before + 1);
      expect(await eventOf(t, r.requestId)).toMatchObject({ outcome: 'INVALID', errorCodes: ['BAD_USER_INPUT'], operationType: type, operationName: name, document: expect.stringContaining(type === 'mutation' ? 'removeGuardian' : 'minor') });
    }
    const within = await post(t, civil, { query: 'query($id: ID!) { minor(id: $id) { name } }', variables: { id: JSON.parse(nested(32)) } });
    expect([within.status, within.json.errors[0].extensions.code]).toEqual([400, 'BAD_USER_INPUT']);
    expect(within.json.errors[0].message).toMatch(/^Variable "\$id" got invalid value/);
  });

  it('refuses before validation: a document that is also invalid is refused for its size, not its errors', async () => {
    await expectRefused(`{${' noSuchField'.repeat(11)} }`, /^Selecting one response name more than 10/);
    const invalid = await post(t, employer, { query: `{${' noSuchField'.repeat(10)} }` }, {});
    expect(invalid.json.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses more than 5,000 tokens, 50 fragments or 5,000 fields where fragments are spread', async () => {
    const event = await expectRefused(`{ ${aliased(2000, '__typename')} }`, /^Documents of more than 5000 tokens are not served$/);
    expect(event.document).toBeNull(); // not parsed: nothing to keep but the refusal
    const fragments = Array.from({ length: 51 }, (_, i) => `fragment F${i} on Query { f${i}: __typename }`).join(' ');
    await expectRefused(`{ ${Array.from({ length: 51 }, (_, i) => `...F${i}`).join(' ')} } ${fragments}`, /^Documents defining more than 50 fragments are not served$/);
    // Ten aliases of a fragment holding ten aliases of a fragment…: 10^4 fields from 200 tokens.
    let nested = `{ regions { ...L0 } }`;
    for (let i = 0; i < 4; i++) nested += ` fragment L${i} on Region { ${aliased(10, `parent { ...L${i + 1} }`)} }`;
    nested += ` fragment L4 on Region { code }`;
    await expectRefused(nested, /^Operations selecting more than 5000 fields \(a fragment counted wherever it is spread and where it is defined\) are not served$/);
    // Deeper than the depth limit, through a fragment: refused here, where it is cheap.
    await expectRefused(`{ regions { ...D } } fragment D on Region { ${'parent { '.repeat(12)}code${' }'.repeat(12)} }`, /^Selections deeper than 12 levels are not served$/);
  });

  it('refuses more than 64 subgraph hops, wherever aliases and fragments put them, and serves one child with every department\'s records', async () => {
    const hops = /^Operations going between subgraphs more than 64 times \(a fragment counted wherever it is spread\) are not served$/;
    // The red team's probes, within every bound above, each held the planner 150–700 ms. 40 children
    // (a hop into the registry each), each to its referrals (the workflow) and five times to the
    // referral's child, which six other subgraphs resolve as well: 7 KB.
    let nest = 'id';
    for (let i = 0; i < 5; i++) nest = `id referrals { id minor { ${nest} } }`;
    const event = await expectRefused(`query($id: ID!) { ${aliased(40, `minor(id: $id) { ${nest} }`)} }`, hops);
    expect(event.document).toContain('a39:minor(id:$id)');
    // 780 aliases of six departments' records in one child: 21 KB.
    const records = ['schoolEnrollments', 'dropoutReports', 'referrals', 'mandatoryReports', 'bullyingCases', 'educationAid'];
    const of = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `r${from + i}: ${records[(from + i) % records.length]} { id }`).join(' ');
    await expectRefused(`query($id: ID!) { minor(id: $id) { id ${of(780)} } }`, hops);
    // At the bound: the child and 63 records of other subgraphs are served, 64 refused.
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
    const atBound = await post(t, civil, { query: `query($id: ID!) { minor(id: $id) { id ${of(63)} } }`, variables: { id } });
    expect([atBound.status, atBound.json.errors, atBound.json.data.minor.id]).toEqual([200, undefined, id]);
    await expectRefused(`query($id: ID!) { minor(id: $id) { id ${of(64)} } }`, hops);
    // A fragment counts where it is spread: 33 each, twice.
    await expectRefused(`query($id: ID!) { a: minor(id: $id) { ...R } b: minor(id: $id) { ...R } } fragment R on Minor { ${of(32)} }`, hops);
    // A field no subgraph resolves counts nothing here: validation refuses it.
    const unknown = await post(t, employer, { query: `{ ${aliased(100, 'noSuchField { id }')} }` }, {});
    expect(unknown.json.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    // The widest operation of the repository (bench scenario 3) makes 21.
    const whole = HUB.crossDepartment.body({ ids: [], cases: [id], grids: [], region: '' }, 0) as { query: string; variables: Record<string, unknown> };
    const served = await post(t, civil, whole);
    expect([served.status, served.json.errors, served.json.data.minor.id]).toEqual([200, undefined, id]);
  });
});
