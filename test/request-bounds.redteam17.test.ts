import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

/** Values a response holds as the cost limit counts them: every object, scalar and list item. */
function values(v: unknown): number {
  if (Array.isArray(v)) return v.length + v.reduce<number>((n, x) => n + values(x), 0);
  if (v !== null && typeof v === 'object') return Object.values(v).reduce<number>((n, x) => n + 1 + values(x), 0);
  return 0;
}
const aliased = (n: number, field: string) => Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ');

describe('request bounds (red team 17)', () => {
  let t: TestHub;
  let civil: string;
  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(Department.CIVIL_AFFAIRS);
  });
  afterAll(() => t.stop());

  /** Served (200) requests must hold no more values than HUB_MAX_QUERY_COST: else the estimate under-counted. */
  async function servedWithin(query: string, token = civil) {
    const r = await post(t, token, { query });
    const bytes = JSON.stringify(r.json).length;
    const n = r.json?.data ? values(r.json.data) : 0;
    return { status: r.status, n, bytes, codes: (r.json?.errors ?? []).map((e: any) => e.extensions?.code), requestId: r.requestId, json: r.json };
  }

  it('a page of the trail with aliases of variableNames (priced at 5 names, up to 100 stored): refused as costing more than HUB_MAX_QUERY_COST values', async () => {
    // 60 requests each declaring the 100 variables an operation may declare: their events name 100 each.
    const user = 'rt182-vars';
    const officer = await t.token(Department.CIVIL_AFFAIRS, { user });
    const vars = Array.from({ length: 100 }, (_, i) => i);
    const doc = `query V(${vars.map((i) => `$v${i}: Boolean!`).join(', ')}) { ${vars.map((i) => `t${i}: __typename @skip(if: $v${i})`).join(' ')} }`;
    const variables = Object.fromEntries(vars.map((i) => [`v${i}`, false]));
    for (let b = 0; b < 6; b++) {
      const sent = await Promise.all(Array.from({ length: 10 }, () => post(t, officer, { query: doc, variables })));
      for (const r of sent) expect(r.status).toBe(200);
    }
    const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, user: 'rt182-auditor' });
    const one = await servedWithin(`{ auditEvents(first: 60, filter: { userId: "${user}" }) { edges { node { variableNames } } } }`, auditor);
    expect(one.status).toBe(200);
    expect(one.json.data.auditEvents.edges).toHaveLength(60);
    expect(one.json.data.auditEvents.edges[0].node.variableNames).toHaveLength(100);
    const r = await servedWithin(`{ auditEvents(first: 60, filter: { userId: "${user}" }) { edges { node { ${aliased(200, 'variableNames')} } } } }`, auditor);
    expect([r.status, r.codes]).toEqual([413, ['LIMIT_EXCEEDED']]);
  });

  it('a re-screening of 1000 candidates (priced at 5 answers) with aliased answer fields: refused as costing more than HUB_MAX_QUERY_COST values', async () => {
    const employer = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'rt182-employer' });
    const day = (i: number) => new Date(Date.UTC(1980, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
    const candidates = Array.from({ length: 1000 }, (_, i) => ({ idNumber: buildIdNumber('330102', day(i), 100 + (i % 10)), name: '张三' }));
    const query = `mutation($c: [RescreenCandidateInput!]!) { employmentRescreen(candidates: $c, authorizationReference: "annual") { answers { ${aliased(600, 'index')} } } }`;
    const r = await post(t, employer, { query, variables: { c: candidates } });
    expect([r.status, (r.json?.errors ?? []).map((e: any) => e.extensions?.code)]).toEqual([413, ['LIMIT_EXCEEDED']]);
  });

  it.each([
    ['a list literal', (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`, 2400],
    ['an object literal', (n: number) => `${'{a:'.repeat(n)}1${'}'.repeat(n)}`, 1200],
  ])('%s nested as deep as 5,000 tokens allow, in an argument: a typed 4xx answer, audited, no stack overflow', async (_what, nest, n) => {
    const query = `{ minor(id: ${nest(n)}) { name } }`;
    const r = await post(t, civil, { query });
        // The engine's own failure is no answer for a client (the document-size bounds answer LIMIT_EXCEEDED).
    expect(JSON.stringify(r.json)).not.toMatch(/Maximum call stack|RangeError/);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.json.errors[0].extensions.code).toMatch(/^(GRAPHQL_VALIDATION_FAILED|GRAPHQL_PARSE_FAILED|LIMIT_EXCEEDED|BAD_USER_INPUT)$/);
    expect((await eventOf(t, r.requestId)).outcome).not.toBe('INTERNAL_ERROR');
  });

  it.each([
    ['inline fragments', 1600, (n: number, inner: string) => `{ ${'... {'.repeat(n)} ${inner} ${'}'.repeat(n)} }`],
    ['inline fragments with a type condition', 950, (n: number, inner: string) => `{ ${'... on Query {'.repeat(n)} ${inner} ${'}'.repeat(n)} }`],
  ])('%s nested as deep as 5,000 tokens allow: served or a typed 4xx, audited, no stack overflow', async (_what, n, nest) => {
    const r = await post(t, civil, { query: nest(n, 'minors(first: 1) { totalCount }') });
    expect(JSON.stringify(r.json)).not.toMatch(/Maximum call stack|RangeError|Internal server error/);
    expect(r.status === 200 || (r.status >= 400 && r.status < 500)).toBe(true);
    expect((await eventOf(t, r.requestId)).outcome).not.toBe('INTERNAL_ERROR');
  });

});
