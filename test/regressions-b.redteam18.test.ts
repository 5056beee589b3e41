import { Department } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { daysAgo, INSIDE_STREET } from './support/department-records';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 18, regression review (group 1): the recent fixes' siblings — the distributed mode, the
 * URL's other spellings, the same class of write in other resolvers.
 */
describe.each([
  ['in process', false],
  ['with every subgraph served alone', true],
])('regressions (redteam18 b), %s', (_mode, distributed) => {
  let t: TestHub;
  beforeAll(async () => {
    t = distributed ? await startDistributedTestHub() : await startTestHub();
  });
  afterAll(() => t?.stop());

  const child = async (offset: number) =>
    (await t.sql(`SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE '${INSIDE_STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET $1 LIMIT 1`, [offset]))[0] as {
      id: string;
      grid_code: string;
    };

  // 9b8659b / 1c08ab7: a department update's event names the fields it changed only.
  it('names in a department update’s event only the field it changed (9b8659b)', async () => {
    const police = await t.token(Department.POLICE, { user: 'p-rt18b' });
    const m = await child(3);
    const input = { type: 'ABUSE', occurredOn: daysAgo(4), status: 'INVESTIGATING', handlingUnit: '清波派出所', narrative: '邻居报警' };
    const c = await t.gql(police, `mutation($m: ID!, $i: PoliceIncidentInput!) { createPoliceIncident(minorId: $m, input: $i) { id } }`, { m: m.id, i: input });
    expect(c.errors).toBeUndefined();
    const id = c.data.createPoliceIncident.id;
    const UPDATE = `mutation($id: ID!, $i: PoliceIncidentInput!) { updatePoliceIncident(id: $id, input: $i) { id status } }`;
    const r = await post(t, police, { query: UPDATE, variables: { id, i: { ...input, status: 'CLOSED' } } });
    expect(r.json.errors).toBeUndefined();
    expect((await eventOf(t, r.requestId)).changes).toEqual([{ fields: ['id', 'input.status'], id, minorId: m.id, mutation: 'updatePoliceIncident' }]);
    // The same again changes nothing and records no change.
    const again = await post(t, police, { query: UPDATE, variables: { id, i: { ...input, status: 'CLOSED' } } });
    expect(again.json.errors).toBeUndefined();
    expect((await eventOf(t, again.requestId)).changes).toEqual([]);
  });

  // e5aba20 / 2d1b667: refused before anything runs, whatever spelling of the path reaches /graphql.
  it.each(['/graphql', '/graphql/', '/GraphQL', '/graphql?x=1'])('refuses a mutation accepting no JSON before it runs on %s, no-store (e5aba20)', async (path) => {
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const m = await child(4);
    const guardians = async () => (await t.sql(`SELECT count(*)::int AS n FROM registry.guardian WHERE minor_id = $1`, [m.id]))[0].n;
    const before = await guardians();
    const url = new URL(path, t.hub.url).toString();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${civil}`, 'x-purpose': 'CASE_HANDLING', accept: 'text/html' },
      body: JSON.stringify({ query: `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: OTHER_RELATIVE, name: "王五" }) { id } }`, variables: { id: m.id } }),
    });
    const body = await res.text();
    expect([path, res.status, res.headers.get('cache-control')]).toEqual([path, 406, 'no-store']);
    expect(body).not.toMatch(/"data"/);
    expect(await guardians()).toBe(before);
  });
});

/**
 * 8c7b404 recorded a referral's answer and completion no earlier than the step before them (the
 * request's clock may run behind the one that recorded that step). The REFERRAL_OUTCOME notification
 * each step tells the referrer, written in the same transaction, still takes the request's clock:
 * a completion taken on a clock behind the acceptance's is told before the acceptance was, so the
 * referrer's inbox (newest first) lists ACCEPTED as the referral's latest news, and the completion's
 * notice is dated before the completion it tells.
 */
describe.each([
  ['in process', false],
  ['with every subgraph served alone', true],
])('steps on a clock behind the one before them (redteam18 b, 8c7b404 siblings), %s', (_mode, distributed) => {
  let t: TestHub;
  beforeAll(async () => {
    t = distributed ? await startDistributedTestHub() : await startTestHub();
  });
  afterAll(() => t?.stop());
  afterEach(() => {
    t.config.workflow.clockOffsetMs = 0;
  });

  it('tells the referrer each outcome no earlier than the step it tells, and the completion no earlier than the acceptance', async () => {
    const [child] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${INSIDE_STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 7 LIMIT 1`);
    const civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'rt18b-civil' });
    const education = await t.token(Department.EDUCATION, { user: 'rt18b-edu' });
    const made = await t.gql(civil, `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`, {
      input: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: Department.EDUCATION, need: '家庭困难，需要帮扶' },
    });
    expect(made.errors).toBeUndefined();
    const id = made.data.createReferral.id;
    expect((await t.gql(education, `mutation($id: ID!) { acceptReferral(id: $id) { id } }`, { id })).errors).toBeUndefined();
    // The completion is taken on a clock 10 s behind the acceptance's (another gateway's).
    t.config.workflow.clockOffsetMs = -10_000;
    expect((await t.gql(education, `mutation($id: ID!) { completeReferral(id: $id, outcome: "已发放资助") { id } }`, { id })).errors).toBeUndefined();
    t.config.workflow.clockOffsetMs = 0;

    const ref = await t.gql(civil, `query($id: ID!) { referral(id: $id) { answeredAt completedAt } }`, { id });
    expect(ref.errors).toBeUndefined();
    const inbox = await t.gql(civil, `{ notifications(first: 200) { kind subjectId createdAt payload { field value } } }`);
    expect(inbox.errors).toBeUndefined();
    const told = (inbox.data.notifications as { kind: string; subjectId: string; createdAt: string; payload: { field: string; value: string }[] }[])
      .filter((n) => n.kind === 'REFERRAL_OUTCOME' && n.subjectId === id)
      .map((n) => ({ status: n.payload.find((p) => p.field === 'Referral.status')?.value, at: new Date(n.createdAt).getTime() }));
    // Newest first, as the inbox lists them: the completion is the latest news.
    expect(told.map((n) => n.status)).toEqual(['COMPLETED', 'ACCEPTED']);
    const [completed, accepted] = told;
    expect(accepted.at).toBeGreaterThanOrEqual(new Date(ref.data.referral.answeredAt).getTime());
    expect(completed.at).toBeGreaterThanOrEqual(new Date(ref.data.referral.completedAt).getTime());
  });

  // The same class in the registry: the record's updatedAt, which a visit stamps (README), set from
  // the request's clock. An update taken right after a visit, on a clock behind, dates the record's
  // last change before the visit that changed it.
  it('never dates a child’s last change before the visit recorded just before it', async () => {
    const civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'rt18b-civil' });
    const [m] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${INSIDE_STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 8 LIMIT 1`);
    const v = await t.gql(civil, `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "rt18b 走访" }) { visitedAt } }`, { id: m.id });
    expect(v.errors).toBeUndefined();
    t.config.workflow.clockOffsetMs = -10_000;
    const u = await t.gql(civil, `mutation($id: ID!) { updateMinor(id: $id, input: { school: "rt18b 中学" }) { updatedAt } }`, { id: m.id });
    t.config.workflow.clockOffsetMs = 0;
    expect(u.errors).toBeUndefined();
    expect(new Date(u.data.updateMinor.updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(v.data.recordVisit.visitedAt).getTime());
  });
});
