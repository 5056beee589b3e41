import { Department, Role } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

const { CIVIL_AFFAIRS: CA } = Department;
const DISTRICT = '330102';

/**
 * Red team 46 (rt46c): the data officer's queries of the trail — who may ask, what they see, what the
 * anomaly flags say, and what the officer's own questions leave in the trail.
 */
describe('auditor queries (red team 46)', () => {
  let t: TestHub;
  let auditor: string;
  let children: string[];

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_ANOMALY_DISTINCT_MINORS: '5' } });
    auditor = await t.token(CA, { role: Role.AUDITOR, region: DISTRICT, user: 'rt46-auditor' });
    children = (
      await t.sql(
        `SELECT m.id FROM registry.minor m JOIN registry.minor_jurisdiction j ON j.minor_id = m.id
          WHERE j.grid_code LIKE $1 AND registry.is_minor(m.birth_date, now()) ORDER BY m.id LIMIT 40`,
        [`${DISTRICT}%`],
      )
    ).map((r) => r.id);
  });
  afterAll(() => t.stop());

  async function anomalies(): Promise<any[]> {
    const r = await post(t, auditor, { query: `{ auditAnomalies { kind userId department count description requestIds } }` }, {});
    expect(r.json.errors).toBeUndefined();
    return r.json.data.auditAnomalies;
  }

  it('UNUSUAL_PURPOSE counts reads only: 20 writes that read nothing and 1 read under another purpose are no "1 of 21 reads"', async () => {
    const officer = await t.token(CA, { region: DISTRICT, user: 'rt46-writer' });
    // 20 writes under CASE_HANDLING whose answers show nothing of the child (only __typename of the record made).
    for (let i = 0; i < 20; i++) {
      const w = await post(
        t,
        officer,
        { query: `mutation($m: ID!) { addGuardian(minorId: $m, input: { relationship: OTHER_RELATIVE, name: "监护人", situation: NORMAL }) { __typename } }`, variables: { m: children[i] } },
        { 'x-purpose': 'CASE_HANDLING' },
      );
      expect(w.json.errors).toBeUndefined();
      const e = await eventOf(t, w.requestId);
      expect(e.reads).toEqual([]);
      expect(e.changes.map((c: any) => c.minorId)).toEqual([children[i]]);
    }
    // One read, under SCREENING.
    const r = await post(t, officer, { query: `query($m: ID!) { minor(id: $m) { name } }`, variables: { m: children[30] } }, { 'x-purpose': 'SCREENING' });
    expect(r.json.errors).toBeUndefined();
    const flags = (await anomalies()).filter((a) => a.userId === 'rt46-writer' && a.kind === 'UNUSUAL_PURPOSE');
    // README: "a purpose below this share of a user's reads (with at least 20 reads) is flagged" — this user read once.
    expect(flags).toEqual([]);
    // Pin: nor is this user one who read many children — its writes' answers showed none of them.
    expect((await anomalies()).filter((a) => a.userId === 'rt46-writer' && a.kind === 'MANY_CHILDREN')).toEqual([]);
  });

  it('UNUSUAL_PURPOSE is not hidden by writes: 1 read under SCREENING among 21 reads is flagged, whatever 2 writes under SCREENING beside it', async () => {
    const officer = await t.token(CA, { region: DISTRICT, user: 'rt46-hider' });
    for (let i = 0; i < 20; i++) {
      const r = await post(t, officer, { query: `query($m: ID!) { minor(id: $m) { name } }`, variables: { m: children[i] } }, { 'x-purpose': 'CASE_HANDLING' });
      expect(r.json.errors).toBeUndefined();
    }
    const odd = await post(t, officer, { query: `query($m: ID!) { minor(id: $m) { name } }`, variables: { m: children[35] } }, { 'x-purpose': 'SCREENING' });
    expect(odd.json.errors).toBeUndefined();
    // Two writes under the same purpose, their answers showing nothing of the children.
    for (const m of [children[36], children[37]]) {
      const w = await post(
        t,
        officer,
        { query: `mutation($m: ID!) { addGuardian(minorId: $m, input: { relationship: OTHER_RELATIVE, name: "监护人", situation: NORMAL }) { __typename } }`, variables: { m } },
        { 'x-purpose': 'SCREENING' },
      );
      expect(w.json.errors).toBeUndefined();
      expect((await eventOf(t, w.requestId)).reads).toEqual([]);
    }
    const flags = (await anomalies()).filter((a) => a.userId === 'rt46-hider' && a.kind === 'UNUSUAL_PURPOSE');
    // 1 of 21 reads (share 0.048 < 0.05): the read under SCREENING is the one to look at.
    expect(flags.map((f) => ({ count: f.count, requestIds: f.requestIds }))).toEqual([{ count: 1, requestIds: [odd.requestId] }]);
  });

  it('pin: MANY_CHILDREN counts what a mutation\'s answer shows of children (5 writes answering the guardian\'s name, threshold 5)', async () => {
    const officer = await t.token(CA, { region: DISTRICT, user: 'rt46-shower' });
    for (let i = 0; i < 5; i++) {
      const w = await post(t, officer, {
        query: `mutation($m: ID!) { addGuardian(minorId: $m, input: { relationship: OTHER_RELATIVE, name: "监护人", situation: NORMAL }) { name } }`,
        variables: { m: children[i] },
      });
      expect(w.json.errors).toBeUndefined();
    }
    const flags = (await anomalies()).filter((a) => a.userId === 'rt46-shower' && a.kind === 'MANY_CHILDREN');
    expect(flags.map((f) => f.count)).toEqual([5]);
  });

  it('pin: a data officer who reads the children of a bulk reader\'s events counts towards MANY_CHILDREN, seen by another officer', async () => {
    const other = await t.token(CA, { role: Role.AUDITOR, region: DISTRICT, user: 'rt46-auditor-2' });
    const officer = await t.token(CA, { region: DISTRICT, user: 'rt46-bulk' });
    const page = await post(t, officer, { query: `{ minors(first: 6) { edges { node { name } } } }` });
    expect(page.json.errors).toBeUndefined();
    const r = await post(t, other, { query: `query($r: ID) { auditEvents(filter: { requestId: $r }) { edges { node { reads { minorId } } } } }`, variables: { r: page.requestId } }, {});
    expect(r.json.errors).toBeUndefined();
    const named = r.json.data.auditEvents.edges[0].node.reads.length;
    expect(named).toBeGreaterThanOrEqual(6);
    const flags = (await anomalies()).filter((a) => a.userId === 'rt46-auditor-2' && a.kind === 'MANY_CHILDREN');
    expect(flags.map((f) => ({ count: f.count, requestIds: f.requestIds }))).toEqual([{ count: named, requestIds: [r.requestId] }]);
  });
});
