import { Department } from '../src/auth/principal';
import { DifficultyCategory } from '../src/subgraphs/registry/registry.enums';
import { refreshStatistics } from '../src/subgraphs/statistics';
import { eventOf, post } from './support/audit-helpers';
import { disclosure } from './support/statistics-disclosure';
import { errorCodes, startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO } = Department;

/**
 * Regression review (redteam18, group 04): fixes of "unchanged" audit events, the paged history
 * lists and the workflow lists' `after`, probed through the public endpoint.
 */
describe.each([
  ['in process', false],
  ['with every subgraph served alone', true],
])('regressions j, %s (redteam18)', (_mode, distributed) => {
  let t: TestHub;
  let civil: string;
  let police: string;
  let education: string;

  beforeAll(async () => {
    t = distributed ? await startDistributedTestHub() : await startTestHub();
    civil = await t.token(CA, { user: 'rt18-civil' });
    police = await t.token(PO, { user: 'rt18-police' });
    education = await t.token(ED, { user: 'rt18-education' });
  });
  afterAll(async () => {
    await t?.stop();
  });

  const child = async (offset: number) =>
    (await t.sql(`SELECT id, name, school, grid_code FROM registry.minor WHERE registry.is_minor(birth_date, now()) ORDER BY id OFFSET $1 LIMIT 1`, [offset]))[0];

  it('records no change for an updateMinor / department update / acknowledgement that finds everything as asked', async () => {
    const m = await child(11);
    const UPDATE = `mutation($id: ID!, $input: UpdateMinorInput!) { updateMinor(id: $id, input: $input) { id name } }`;
    const same = await post(t, civil, { query: UPDATE, variables: { id: m.id, input: { name: m.name, gridCode: m.grid_code } } });
    expect(same.json.errors).toBeUndefined();
    expect(await eventOf(t, same.requestId)).toMatchObject({ outcome: 'SUCCESS', changes: [] });

    const CREATE = `mutation($m: ID!, $i: PoliceIncidentInput!) { createPoliceIncident(minorId: $m, input: $i) { id } }`;
    const input = { type: 'MISSING', occurredOn: '2025-01-02', status: 'REPORTED', handlingUnit: '西湖派出所', narrative: '走失后寻回' };
    const made = await t.gql(police, CREATE, { m: m.id, i: input });
    expect(made.errors).toBeUndefined();
    const id = made.data.createPoliceIncident.id;
    const UPD = `mutation($id: ID!, $i: PoliceIncidentInput!) { updatePoliceIncident(id: $id, input: $i) { id status } }`;
    const closed = await post(t, police, { query: UPD, variables: { id, i: { ...input, status: 'CLOSED' } } });
    expect(closed.json.errors).toBeUndefined();
    expect((await eventOf(t, closed.requestId)).changes).toEqual([{ fields: ['id', 'input.status'], id, minorId: m.id, mutation: 'updatePoliceIncident' }]);
    const again = await post(t, police, { query: UPD, variables: { id, i: { ...input, status: 'CLOSED' } } });
    expect(again.json.errors).toBeUndefined();
    expect(await eventOf(t, again.requestId)).toMatchObject({ outcome: 'SUCCESS', changes: [] });
  });

  it('records no change for a category the child has, an acknowledgement made before and a webhook already inactive', async () => {
    const m = await child(13);
    const ADD = `mutation($id: ID!) { addCategory(minorId: $id, category: LACK_OF_GUARDIANSHIP) { id categories { category } } }`;
    const first = await post(t, civil, { query: ADD, variables: { id: m.id } });
    expect(first.json.errors).toBeUndefined();
    const again = await post(t, civil, { query: ADD, variables: { id: m.id } });
    expect(again.json.errors).toBeUndefined();
    expect(await eventOf(t, again.requestId)).toMatchObject({ outcome: 'SUCCESS', changes: [] });
    // The guardianship-failure notice the first call queued, acknowledged twice.
    const [n] = await t.sql(`SELECT id FROM workflow.notification WHERE minor_id = $1 AND department = 'CIVIL_AFFAIRS' AND kind = 'GUARDIANSHIP_FAILURE' ORDER BY created_at DESC LIMIT 1`, [m.id]);
    const ACK = `mutation($id: ID!) { acknowledge(id: $id) { id acknowledgedBy } }`;
    const ack1 = await post(t, civil, { query: ACK, variables: { id: n.id } });
    expect(ack1.json.errors).toBeUndefined();
    expect((await eventOf(t, ack1.requestId)).changes).toHaveLength(1);
    const ack2 = await post(t, civil, { query: ACK, variables: { id: n.id } });
    expect(ack2.json).toEqual(ack1.json);
    expect(await eventOf(t, ack2.requestId)).toMatchObject({ outcome: 'SUCCESS', changes: [] });
    const reg = await t.gql(civil, `mutation { registerWebhook(url: "http://localhost:9/rt18") { webhook { id } } }`);
    expect(reg.errors).toBeUndefined();
    const DEACT = `mutation($id: ID!) { deactivateWebhook(id: $id) { id active } }`;
    const d1 = await post(t, civil, { query: DEACT, variables: { id: reg.data.registerWebhook.webhook.id } });
    expect(d1.json.errors).toBeUndefined();
    expect((await eventOf(t, d1.requestId)).changes).toHaveLength(1);
    const d2 = await post(t, civil, { query: DEACT, variables: { id: reg.data.registerWebhook.webhook.id.toUpperCase() } });
    expect(d2.json).toEqual(d1.json);
    expect(await eventOf(t, d2.requestId)).toMatchObject({ outcome: 'SUCCESS', changes: [] });
  });

  it('pages a child’s referrals to their end for a department that sees only some of them, and refuses another department’s as after like an unknown id', async () => {
    const m = await child(12);
    const REFER = `mutation($m: ID!, $to: String!) { createReferral(input: { minorId: $m, type: COUNSELLING, toDepartment: $to, need: "需要心理疏导" }) { id } }`;
    const mine: string[] = [];
    const others: string[] = [];
    for (let i = 0; i < 6; i++) {
      const byCivil = await t.gql(civil, REFER, { m: m.id, to: 'POLICE' });
      expect(byCivil.errors).toBeUndefined();
      others.push(byCivil.data.createReferral.id);
      if (i % 2 === 0) {
        const byEd = await t.gql(education, REFER, { m: m.id, to: 'POLICE' });
        expect(byEd.errors).toBeUndefined();
        mine.push(byEd.data.createReferral.id);
      }
    }
    const Q = `query($m: ID!, $a: ID) { minor(id: $m) { id referrals(first: 2, after: $a) { id fromDepartment } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (let n = 0; n < 5; n++) {
      const r: any = await t.gql(education, Q, { m: m.id, a: after });
      expect(r.errors).toBeUndefined();
      const page = r.data.minor.referrals as { id: string; fromDepartment: string }[];
      for (const p of page) expect(p.fromDepartment).toBe('EDUCATION');
      seen.push(...page.map((p) => p.id));
      if (page.length < 2) break;
      after = page[page.length - 1].id;
    }
    expect([...seen].sort()).toEqual([...mine].sort());
    const refusedOther = await t.gql(education, Q, { m: m.id, a: others[0] });
    const refusedRandom = await t.gql(education, Q, { m: m.id, a: '6f1c3a52-6a0e-4d8e-9b1c-0a5f2e7d9c11' });
    expect(errorCodes(refusedOther)).toEqual(['BAD_USER_INPUT']);
    expect(refusedOther.errors![0].message).toBe(refusedRandom.errors![0].message);
    expect(refusedOther.data).toEqual(refusedRandom.data);
  });
});

/** Scalars (and nulls) a JSON answer holds: what the cost limit estimates. */
const leaves = (v: unknown): number => (v !== null && typeof v === 'object' ? Object.values(v as object).reduce<number>((n, x) => n + leaves(x), 0) : 1);

describe('the cost limit and a child’s categories (redteam18)', () => {
  const LIMIT = 10_000;
  let t: TestHub;
  let civil: string;
  beforeAll(async () => {
    t = await startTestHub({ maxQueryCost: LIMIT });
    civil = await t.token(CA, { user: 'rt18-cost' });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('prices a child’s categories at what the API lets a child hold (one of each category), so an answer stays within HUB_MAX_QUERY_COST', async () => {
    const real: string[] = Object.values(DifficultyCategory).filter((c) => c !== DifficultyCategory.NEEDS_SUPPORT);
    // A child (of 13 or more: EARLY_MARRIAGE is of none under 12) may hold every category through the API's own addCategory.
    const [m] = await t.sql(`SELECT id FROM registry.minor WHERE registry.is_minor(birth_date, now()) AND birth_date < (now() - interval '13 years')::date ORDER BY id LIMIT 1`);
    const ADD = `mutation($id: ID!, $c: DifficultyCategory!) { addCategory(minorId: $id, category: $c) { id } }`;
    for (const c of real) expect(errorCodes(await t.gql(civil, ADD, { id: m.id, c }))).toEqual([]);
    expect((await t.sql(`SELECT count(*)::int AS n FROM registry.minor_category WHERE minor_id = $1`, [m.id]))[0].n).toBe(real.length);
    // The same for the page's other children, written directly (as the same API calls would).
    await t.sql(
      `INSERT INTO registry.minor_category (minor_id, category, identified_at)
       SELECT m.id, c, m.birth_date FROM (SELECT id, birth_date FROM registry.minor ORDER BY id LIMIT 300) m CROSS JOIN unnest($1::text[]) c
       ON CONFLICT DO NOTHING`,
      [real],
    );
    const page = (n: number) => `{ minors(first: 100) { edges { node { ${Array.from({ length: n }, (_, i) => `c${i}: categories { category identifiedAt }`).join(' ')} } } } }`;
    // Priced at 5 categories, eight aliases passed for under 10,000 values and answered 27,200.
    const refused = await post(t, civil, { query: page(8) });
    expect([refused.status, refused.json.errors[0].extensions.code]).toEqual([413, 'LIMIT_EXCEEDED']);
    // One is served, within the limit it was admitted under.
    const served = await post(t, civil, { query: page(1) });
    expect([served.status, served.json.errors, leaves(served.json.data) <= LIMIT, served.json.data.minors.edges[0].node.c0.length]).toEqual([200, undefined, true, real.length]);
  });
});

describe('reports’ and referrals’ rates across levels (redteam18)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
    await refreshStatistics(t.hub.db.ds);
  });
  afterAll(async () => {
    await t?.stop();
  });

  const CELL = 'value suppressed';
  const RATE = `numerator { ${CELL} } denominator { ${CELL} } percent suppressed`;
  type Cell = { value: number | null; suppressed: boolean };
  type Rate = { numerator: Cell; denominator: Cell; percent: number | null; suppressed: boolean };

  it.each([
    ['CIVIL_AFFAIRS', CA],
    ['EDUCATION', ED],
    ['POLICE', PO],
  ])('never lets %s derive a hidden numerator or denominator of a report or referral rate from its parent and siblings', async (_name, dept) => {
    const token = await t.token(dept as Department, { user: 'rt18-stats' });
    const levels = ['DISTRICT', 'STREET', 'COMMUNITY', 'GRID'];
    const byLevel = new Map<string, Map<string, { reports: Rate; referrals: Rate }>>();
    for (const level of levels) {
      const r = await t.gql(
        token,
        `query($l: RegionLevel!) { statisticsRates(level: $l) { total { regionCode reportsHandledInTime { ${RATE} } referralsHandledInTime { ${RATE} } } regions { regionCode reportsHandledInTime { ${RATE} } referralsHandledInTime { ${RATE} } } } }`,
        { l: level },
      );
      expect(r.errors).toBeUndefined();
      const m = new Map<string, { reports: Rate; referrals: Rate }>();
      for (const g of [r.data.statisticsRates.total, ...r.data.statisticsRates.regions]) m.set(g.regionCode, { reports: g.reportsHandledInTime, referrals: g.referralsHandledInTime });
      byLevel.set(level, m);
    }
    const leaks: string[] = [];
    for (let i = 1; i < levels.length; i++) {
      const parents = byLevel.get(levels[i - 1])!;
      const children = byLevel.get(levels[i])!;
      for (const [code, parent] of parents) {
        const kids = [...children].filter(([c]) => c !== code && c.startsWith(code)).map(([, v]) => v);
        if (!kids.length) continue;
        for (const which of ['reports', 'referrals'] as const) {
          for (const part of ['numerator', 'denominator'] as const) {
            const whole = parent[which][part];
            if (whole.suppressed) continue;
            const hidden = kids.filter((k) => k[which][part].suppressed);
            if (hidden.length === 1) leaks.push(`${levels[i]} under ${code}: ${which}.${part} one hidden beside published siblings and parent`);
          }
        }
      }
    }
    // And within a rate: a hidden rate whose parts are both published tells the rate.
    for (const [level, m] of byLevel) {
      for (const [code, v] of m) {
        for (const which of ['reports', 'referrals'] as const) {
          const rate = v[which];
          if (rate.suppressed && !rate.numerator.suppressed && !rate.denominator.suppressed && (rate.denominator.value ?? 0) > 0) leaks.push(`${level} ${code}: ${which} rate hidden, both parts published`);
        }
      }
    }
    expect(leaks).toEqual([]);
  });
});

describe('statistics of a street officer: no hidden cell pinned by what its own answers publish (redteam18)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
    await refreshStatistics(t.hub.db.ds);
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** The hub as a street officer asks it: a level above its street is not its to ask, and tells it nothing. */
  const streetView = (): TestHub => ({
    ...t,
    gql: (async (token: string | null, query: string, variables?: Record<string, unknown>) => {
      if (/level: DISTRICT\b/.test(query)) return { status: 200, data: /statisticsRates/.test(query) ? { statisticsRates: { regions: [] } } : { minorCounts: null } };
      return t.gql(token, query, variables);
    }) as TestHub['gql'],
  });

  it.each([
    ['POLICE', PO, 'GRID', ['RISK_LEVEL'], ['M', 'O', 'S', 'C', 'A', 'V']],
    ['POLICE', PO, 'GRID', ['RISK_LEVEL', 'GENDER'], ['M', 'O']],
    ['EDUCATION', ED, 'GRID', ['RISK_LEVEL'], ['M', 'O', 'S', 'C', 'A', 'V']],
  ])('%s officer of street 330102001, %s × %j', async (_n, dept, level, dims, families) => {
    const token = await t.token(dept as Department, { region: '330102001', user: 'rt18-street' });
    // What the officer lists of its own street: each grid's children by risk level (minors { totalCount }).
    const grids: { code: string }[] = await t.sql(`SELECT trim(code) AS code FROM registry.region WHERE code LIKE '330102001%' AND level = 'GRID' ORDER BY code`);
    const RISKS = ['RED', 'ORANGE', 'YELLOW', 'BLUE'];
    const known: { region: string; fixed: Record<string, string[]>; value: number }[] = [];
    if ((dims as string[]).length === 1) {
      for (const { code } of grids) {
        const d = await t.gql(token, `{ ${RISKS.map((r) => `${r}: minors(filter: { regionCode: "${code}", riskLevels: [${r}] }, first: 1) { totalCount }`).join(' ')} }`);
        expect(d.errors).toBeUndefined();
        for (const risk of RISKS) known.push({ region: code, fixed: { RISK_LEVEL: [risk] }, value: d.data[risk].totalCount });
      }
    }
    const found = await disclosure(streetView(), token, { level: level as string, dims: dims as string[], families: families as string[], known });
    // Hidden cells the officer's own lists tell are not counted as hidden (the rules determine them).
    if (!known.length) expect(found.hidden).toBeGreaterThan(0);
    expect(found.inconsistent).toEqual([]);
    expect(found.disclosed).toEqual([]);
  }, 300_000);
});
