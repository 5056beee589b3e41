import { Department } from '../src/auth/principal';
import { startTestHub, TestHub } from './support/test-hub';

/** Per-request DataLoaders: the statement count of a page does not grow with its size. */
describe('N+1', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  const PAGE = `query($first: Int!) { minors(first: $first) { edges { node {
    id name grid { code name } categories { category } guardians { name phone situation }
    latestAssessment { level assessedAt } assessments { level } visits { visitedAt } } } } }`;

  async function statementsFor(first: number): Promise<number> {
    const token = await t.token(Department.CIVIL_AFFAIRS);
    const before = t.hub.db.statements.count;
    const r = await t.gql(token, PAGE, { first });
    expect(r.errors).toBeUndefined();
    expect(r.data.minors.edges).toHaveLength(first);
    return t.hub.db.statements.count - before;
  }

  it('lists 10, 100 and 1000 minors with their relations in the same number of statements', async () => {
    await statementsFor(10); // warm-up: the first request also loads the region directory
    const ten = await statementsFor(10);
    expect(await statementsFor(100)).toBe(ten);
    expect(await statementsFor(1000)).toBe(ten);
    // count + page + one per relation (grid, categories, guardians, latest, assessments, visits)
    expect(ten).toBeLessThanOrEqual(9);
  });
});

/** The same across subgraphs: the gateway batches entity fetches, each department loads a relation in one statement. */
describe('N+1 across the department subgraphs', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  const PAGE = `query($first: Int!, $records: Int) { minors(first: $first) { edges { node {
    id name guardians { situation }
    schoolEnrollments(first: $records) { status } dropoutReports(first: $records) { status persuasionActions(first: $records) { method } } bullyingCases(first: $records) { role } educationAid(first: $records) { kind }
    policeIncidents(first: $records) { type } policeProtectionCase { hasOpenCase } guardianAdmonishments(first: $records) { admonishedOn } identityVerifications(first: $records) { result }
    incarceratedParents(first: $records) { kind } communityCorrections(first: $records) { status } legalAidCases(first: $records) { matter }
    preventionCases(first: $records) { kind followUps(first: $records) { followedUpOn } } idleSupports(first: $records) { kind } volunteerVisits(first: $records) { visitedOn }
    carePlans(first: $records) { kind visits(first: $records) { visitedOn } } familyEducationSessions(first: $records) { topic } domesticViolenceSupports(first: $records) { kind } childrenHomeAttendances(first: $records) { home } } } } }`;
  const LIST = `query($first: Int!) { policeIncidents(first: $first) { nodes { type minor { name guardians { situation } carePlans { caregiver } } } } }`;

  async function statementsFor(query: string, first: number, count: (data: any) => number, records?: number): Promise<number> {
    const token = await t.token(Department.CIVIL_AFFAIRS);
    const before = t.hub.db.statements.count;
    const r = await t.gql(token, query, { first, records });
    expect(r.errors).toBeUndefined();
    expect(count(r.data)).toBe(first);
    return t.hub.db.statements.count - before;
  }

  it('lists 10, 100 and 1000 children with every department’s records in a bounded, size-independent number of statements', async () => {
    const rows = (d: any) => d.minors.edges.length;
    await statementsFor(PAGE, 10, rows); // warm-up
    // A page of 10 may hold no dropout report, prevention case or care plan, so their sub-records
    // (persuasion actions, follow-ups, visits) cost no statement at all; 100 and 1000 hold every kind.
    const ten = await statementsFor(PAGE, 10, rows);
    const hundred = await statementsFor(PAGE, 100, rows);
    // 1000 children with 20 (the default page) of each of twenty record lists could hold 1.6 million
    // values, more than the cost limit serves: that page asks for 5 of each.
    expect(await statementsFor(PAGE, 1000, rows, 5)).toBe(hundred);
    expect(ten).toBeLessThanOrEqual(hundred);
    // registry: page + guardians (a count only when `totalCount` is asked); per department: the
    // reference (jurisdiction) check + one per relation (education 5, police 4, justice 3, youth
    // league 4, women's federation 5).
    expect(hundred).toBe(2 + 5 * 1 + 21);
  });

  it('lists 10 and 100 police incidents with their children from the registry and the women’s federation alike', async () => {
    const rows = (d: any) => d.policeIncidents.nodes.length;
    const ten = await statementsFor(LIST, 10, rows);
    expect(await statementsFor(LIST, 100, rows)).toBe(ten);
  });
});

/**
 * A history list loads in one statement per batch whatever page sizes the request asks: aliases of
 * one list with 100 different `first` under a page of children cost what one alias does (a loader
 * per page size made 201 statements of the registry's two lists, 1–3 s, which the cost limit did
 * not see), and each alias still answers its own newest `first`.
 */
describe('N+1 across page sizes', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  const SIZES = Array.from({ length: 100 }, (_, i) => i + 1);
  // A document goes between subgraphs at most 64 times, each alias of a department's list once: 51 sizes of those.
  const HOPS = SIZES.filter((n) => n % 2 || n === 100);
  const aliases = (prefix: string, list: string, sizes = SIZES) => sizes.map((n) => `${prefix}${n}: ${list}(first: ${n}) { id }`).join(' ');
  const ids = (rows: { id: string }[]) => rows.map((r) => r.id);

  async function run(token: string, query: string) {
    const before = t.hub.db.statements.count;
    const r = await t.gql(token, query);
    expect(r.errors).toBeUndefined();
    return { data: r.data, statements: t.hub.db.statements.count - before };
  }
  const page = (lists: string) => `{ minors(first: 40) { edges { node { id ${lists} } } } }`;
  const node = (data: any, id: string) => data.minors.edges.find((e: any) => e.node.id === id).node;
  const pageIds = async (token: string) => ids((await run(token, page(''))).data.minors.edges.map((e: any) => e.node));
  /** Every alias `<prefix>n` of `node` holds the first n of `newest`. */
  const expectPages = (node: any, prefix: string, newest: string[], sizes = SIZES) => {
    for (const n of sizes) expect([n, ids(node[`${prefix}${n}`])]).toEqual([n, newest.slice(0, n)]);
  };

  it('answers 100 sizes of a child’s visits and assessments, under a page of 40 children, in the statements of one', async () => {
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const [a, b] = await pageIds(civil);
    // Two years of weekly visits and ten of monthly assessments for one child; the other keeps its few.
    await t.sql(
      `INSERT INTO registry.visit (id, minor_id, visited_at, visitor, notes)
       SELECT gen_random_uuid(), $1, now() - make_interval(days => 7 * k), 'child-director-1', '入户走访 ' || k FROM generate_series(1, 104) k`,
      [a],
    );
    await t.sql(
      `INSERT INTO registry.risk_assessment (id, minor_id, level, reasons, assessor, assessed_at, next_visit_due)
       SELECT gen_random_uuid(), $1, 'ORANGE', '结对帮扶 ' || k, 'grid-worker-1', now() - make_interval(days => 30 * k), now() - make_interval(days => 30 * k - 7) FROM generate_series(1, 120) k`,
      [a],
    );
    const newest = async (table: string, column: string, id: string) =>
      ids(await t.sql(`SELECT id FROM registry.${table} WHERE minor_id = $1 ORDER BY ${column} DESC, id LIMIT 100`, [id]));

    await run(civil, page('visits(first: 100) { id } assessments(first: 100) { id }')); // warm-up
    const one = await run(civil, page('visits(first: 100) { id } assessments(first: 100) { id }'));
    // the page + one per list
    expect(one.statements).toBe(3);
    const many = await run(civil, page(`${aliases('v', 'visits')} ${aliases('a', 'assessments')}`));
    expect(many.statements).toBe(one.statements);

    expect(await newest('visit', 'visited_at', a)).toHaveLength(100);
    for (const id of [a, b]) {
      expectPages(node(many.data, id), 'v', await newest('visit', 'visited_at', id));
      expectPages(node(many.data, id), 'a', await newest('risk_assessment', 'assessed_at', id));
    }
  });

  it('answers 51 sizes of a department’s list of a child, under a page of 40 children, in the statements of one', async () => {
    const wf = await t.token(Department.WOMENS_FEDERATION);
    const [child] = await pageIds(wf);
    await t.sql(
      `INSERT INTO womens_federation.children_home_attendance (id, minor_id, home, attended_on, activity)
       SELECT gen_random_uuid(), $1, '清波儿童之家', current_date - 7 * k, '绘本阅读' FROM generate_series(1, 110) k`,
      [child],
    );
    const attendances = 'childrenHomeAttendances(first: 100) { id }';
    await run(wf, page(attendances)); // warm-up
    const one = await run(wf, page(attendances));
    // the page, the women's federation's reference check, the list
    expect(one.statements).toBe(3);
    const many = await run(wf, page(aliases('h', 'childrenHomeAttendances', HOPS)));
    expect(many.statements).toBe(one.statements);
    const newest = ids(await t.sql(`SELECT id FROM womens_federation.children_home_attendance WHERE minor_id = $1 ORDER BY attended_on DESC, id LIMIT 100`, [child]));
    expect(newest).toHaveLength(100);
    expectPages(node(many.data, child), 'h', newest, HOPS);
    // The next pages: 51 cursors and sizes, still the statements of one; each answers the rows after its cursor.
    const all = ids(await t.sql(`SELECT id FROM womens_federation.children_home_attendance WHERE minor_id = $1 ORDER BY attended_on DESC, id`, [child]));
    const after = (await run(wf, `{ minor(id: "${child}") { ${HOPS.map((n) => `h${n}: childrenHomeAttendances(first: ${n}, after: "${all[n]}") { id }`).join(' ')} } }`));
    const single = await run(wf, `{ minor(id: "${child}") { childrenHomeAttendances(first: 100, after: "${all[0]}") { id } } }`);
    expect(after.statements).toBe(single.statements);
    for (const n of HOPS) expect([n, ids(after.data.minor[`h${n}`])]).toEqual([n, all.slice(n + 1, 2 * n + 1)]);
  });

  it('answers 100 sizes of a care plan’s visits, under a page of 40 children, in the statements of one', async () => {
    const wf = await t.token(Department.WOMENS_FEDERATION);
    // The newest plan of a child of the page, so that `carePlans(first: 1)` answers it.
    const [{ id: plan, minor_id: child }] = await t.sql(
      `SELECT DISTINCT ON (p.minor_id) p.id, p.minor_id FROM womens_federation.care_plan p
       WHERE p.minor_id = ANY($1) ORDER BY p.minor_id, p.started_on DESC, p.id LIMIT 1`,
      [await pageIds(wf)],
    );
    await t.sql(
      `INSERT INTO womens_federation.care_visit (id, plan_id, minor_id, visited_on, visitor, notes)
       SELECT gen_random_uuid(), $1, $2, current_date - k, '妇联执委-1号', '关爱走访' FROM generate_series(1, 110) k`,
      [plan, child],
    );
    const visits = (lists: string) => page(`carePlans(first: 1) { id ${lists} }`);
    await run(wf, visits('visits(first: 100) { id }')); // warm-up
    const one = await run(wf, visits('visits(first: 100) { id }'));
    // the page, the reference check, the plans, their visits
    expect(one.statements).toBe(4);
    const many = await run(wf, visits(aliases('w', 'visits')));
    expect(many.statements).toBe(one.statements);
    const [newestPlan] = node(many.data, child).carePlans;
    expect(newestPlan.id).toBe(plan);
    const newest = ids(await t.sql(`SELECT id FROM womens_federation.care_visit WHERE plan_id = $1 ORDER BY visited_on DESC, id LIMIT 100`, [plan]));
    expect(newest).toHaveLength(100);
    expectPages(newestPlan, 'w', newest);
    // 100 cursors and sizes of the plan's visits: still the statements of one.
    const all = ids(await t.sql(`SELECT id FROM womens_federation.care_visit WHERE plan_id = $1 ORDER BY visited_on DESC, id`, [plan]));
    const ofChild = (lists: string) => `{ minor(id: "${child}") { carePlans(first: 1) { id ${lists} } } }`;
    const single = await run(wf, ofChild(`visits(first: 100, after: "${all[0]}") { id }`));
    const paged = await run(wf, ofChild(SIZES.map((n) => `w${n}: visits(first: ${n}, after: "${all[n]}") { id }`).join(' ')));
    expect(paged.statements).toBe(single.statements);
    const [pagedPlan] = paged.data.minor.carePlans;
    for (const n of SIZES) expect([n, ids(pagedPlan[`w${n}`])]).toEqual([n, all.slice(n + 1, 2 * n + 1)]);
  });
});
