import { Department } from '../src/auth/principal';
import { REFUSED_FIELD_COST } from '../src/audit/query-cost';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

const aliased = (n: number, field: string) => Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ');
const page = (n: number, field: string) => `{ minors(first: 1000) { edges { node { id ${aliased(n, field)} } } } }`;

/**
 * A field refused on every object that holds it answers null and an error with its path: some
 * 230 bytes of answer and, in the hub, a few KB and a tenth of a millisecond of CPU each, where a
 * value served is some 20 bytes and a couple of microseconds. Priced at 1 like a value, a
 * school's `minors(first: 1000)` with 490 aliases of `birthDate` passed the cost limit and was
 * answered 490,000 FORBIDDEN errors: 113 MB, and a hub started as `npm start` starts it (a heap of
 * 512 MB) ran out of memory on it. The same with `visits(first: 0)`, or an `after` that is no row
 * of the list, for anyone: each child's list refused BAD_USER_INPUT.
 */
describe('refusals a request can be answered', () => {
  let t: TestHub;
  let civil: string;
  let school: string;
  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(Department.CIVIL_AFFAIRS);
    school = await t.token(Department.EDUCATION);
  });
  afterAll(() => t.stop());

  const bound = () => t.config.maxQueryCost / REFUSED_FIELD_COST;

  async function expectRefusedBeforeExecution(token: string, query: string): Promise<void> {
    const r = await post(t, token, { query });
    expect(r.status).toBe(413);
    expect(r.json.data).toBeUndefined();
    expect(r.json.errors.map((e: any) => e.extensions.code)).toEqual(['LIMIT_EXCEEDED']);
    const event = await eventOf(t, r.requestId);
    expect(event).toMatchObject({ outcome: 'LIMIT_EXCEEDED', errorCodes: ['LIMIT_EXCEEDED'], reads: [] });
  }

  it('refuses, before it runs, a page whose refused fields would answer more errors than the cost limit allows', async () => {
    // 20 aliases over 1000 children: 20,000 errors, twice the bound.
    expect(20 * 1000).toBeGreaterThan(bound());
    await expectRefusedBeforeExecution(school, page(20, 'birthDate'));
    // Fragments and inline fragments count alike.
    await expectRefusedBeforeExecution(school, `{ minors(first: 1000) { edges { node { ...F } } } } fragment F on Minor { ${aliased(20, 'updatedAt')} }`);
    await expectRefusedBeforeExecution(school, `{ minors(first: 1000) { edges { node { guardians { ${aliased(2, 'situation')} } } } } }`);
  });

  it('serves the same page to whoever may read the field: the price is the refusal’s, not the field’s', async () => {
    const r = await post(t, civil, { query: page(20, 'birthDate') });
    expect(r.status).toBe(200);
    expect(r.json.errors).toBeUndefined();
    expect(r.json.data.minors.edges).toHaveLength(1000);
  });

  it('serves a page with a few refused fields, its errors within the bound', async () => {
    const r = await post(t, school, { query: `{ minors(first: 1000) { edges { node { id name birthDate } } } }` });
    expect(r.status).toBe(200);
    expect(r.json.data.minors.edges).toHaveLength(1000);
    expect(r.json.errors).toHaveLength(1000);
    expect(r.json.errors.every((e: any) => e.extensions.code === 'FORBIDDEN')).toBe(true);
  });

  it('refuses, before it runs, a page of history lists each refused for its child by its arguments', async () => {
    // `first` out of 1–100 and an `after` that is no row of the child's list are refused per
    // child (BAD_USER_INPUT): 20,000 errors each.
    await expectRefusedBeforeExecution(civil, page(20, 'visits(first: 0) { id }'));
    await expectRefusedBeforeExecution(civil, page(20, 'visits(first: -1) { id }'));
    await expectRefusedBeforeExecution(civil, page(20, 'visits(first: 1, after: "00000000-0000-7000-8000-000000000000") { id }'));
    await expectRefusedBeforeExecution(civil, `query($a: ID) { minors(first: 1000) { edges { node { ${aliased(20, 'visits(first: 1, after: $a) { id }')} } } } }`.replace('query($a: ID)', 'query($a: ID = "00000000-0000-7000-8000-000000000000")'));
  });

  it('still serves a child’s next page after a cursor, and a page of children with their first pages', async () => {
    const first = await post(t, civil, { query: `{ minors(first: 50) { edges { node { id visits(first: 1) { id } } } } }` });
    expect(first.json.errors).toBeUndefined();
    const child = first.json.data.minors.edges.find((e: any) => e.node.visits.length)!.node;
    const next = await post(t, civil, { query: `query($id: ID!, $after: ID) { minor(id: $id) { visits(first: 5, after: $after) { id } } }`, variables: { id: child.id, after: child.visits[0].id } });
    expect(next.status).toBe(200);
    expect(next.json.errors).toBeUndefined();
  });
});
