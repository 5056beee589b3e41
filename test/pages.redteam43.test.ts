import { Department } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO } = Department;
const STREET = '330102001';
const CREATE = `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`;
const cursorOf = (id: string) => Buffer.from(`minor:${id}`).toString('base64url');

/**
 * Red team 43 (rt43-pages): list queries, cursors and page sizes.
 *
 * Whether a page has a next one (`minors { pageInfo { hasNextPage } }`, a record page's `nextCursor`
 * being non-null) is an answer about the row after the page, which a client places anywhere with
 * `after`. The resolvers record that row's child (`decidedBy`) only under a filter: without one the
 * trail names only the page's own (last) child. So under a REFERRAL purpose bound to the page's child,
 * whether another child (or another child's record) follows is served, and the trail never names that
 * child — while the very same question under a filter that keeps everything (the caller's own street,
 * every incident type) is withheld (403) for reading that other child.
 */
describe('list pages (red team 43)', () => {
  let t: TestHub;
  let civil: string;
  let children: string[];

  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(CA, { region: STREET });
    children = (
      await t.sql(`SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE $1 AND registry.is_minor(m.birth_date, now()) ORDER BY m.id`, [`${STREET}%`])
    ).map((r: any) => r.id);
    expect(children.length).toBeGreaterThan(5);
  });
  afterAll(async () => {
    await t.stop();
  });

  async function referralPurpose(child: string, to: Department = ED): Promise<Record<string, string>> {
    const r = await t.gql(civil, CREATE, { i: { minorId: child, type: 'EDUCATION_AID', toDepartment: to, need: '家庭困难，需要帮扶' } });
    expect(r.errors).toBeUndefined();
    return { 'x-purpose': `REFERRAL; ${r.data.createReferral.id}` };
  }

  it('pin: under a referral’s purpose, minors { pageInfo { hasNextPage } } of a page holding another child is withheld, as its cursor is', async () => {
    const token = await t.token(ED, { region: STREET, user: 'rt43-hasnext' });
    const purpose = await referralPurpose(children[0]);
    const n = children.length;
    const after = cursorOf(children[n - 3]);
    // The same page's cursor (the id of children[n - 2]) is withheld: a read of another child than the referral's.
    const cursor = await post(t, token, { query: `query($a: String) { minors(first: 1, after: $a) { edges { cursor } } }`, variables: { a: after } }, purpose);
    expect(cursor.status).toBe(403);

    const r = await post(t, token, { query: `query($a: String) { minors(first: 1, after: $a) { pageInfo { hasNextPage } } }`, variables: { a: after } }, purpose);
    const e = await eventOf(t, r.requestId);
    // Pin: the page's own child (children[n - 2], another than the referral's) is recorded through PageInfo, and the answer withheld.
    expect({ status: r.status, outcome: e.outcome }).toEqual({ status: 403, outcome: 'DENIED' });
  });

  it('under a referral’s purpose for the page’s own child, hasNextPage telling whether another child follows it is withheld (or that child recorded)', async () => {
    const token = await t.token(ED, { region: STREET, user: 'rt43-hasnext-own' });
    const n = children.length;
    // The referral's child is children[n - 2]: the page after children[n - 3] is that child alone, and
    // whether there is a next page is whether children[n - 1] is still a child of the street.
    const purpose = await referralPurpose(children[n - 2]);
    const q = { query: `query($a: String) { minors(first: 1, after: $a) { pageInfo { hasNextPage endCursor } } }`, variables: { a: cursorOf(children[n - 3]) } };
    // The same question with the street as a filter (the caller's whole jurisdiction: the same children,
    // the same answer) records children[n - 1], and is withheld.
    const filtered = await post(t, token, { ...q, query: q.query.replace('minors(', `minors(filter: { regionCode: "${STREET}" }, `) }, purpose);
    expect(filtered.status).toBe(403);
    const r = await post(t, token, q, purpose);
    const e = await eventOf(t, r.requestId);
    const read = new Set(e.reads.map((x: any) => x.minorId));
    // Seen: 200 { hasNextPage: true, endCursor: <children[n-2]> }, the trail naming children[n - 2] only.
    expect(r.status === 403 || read.has(children[n - 1])).toBe(true);
  });

  it('with a case purpose, the children that hasNextPage after a placed cursor depends on are in the trail', async () => {
    const token = await t.token(ED, { region: STREET, user: 'rt43-hasnext-case' });
    const n = children.length;
    const r = await post(
      t,
      token,
      { query: `query($a: String) { minors(first: 1, after: $a) { pageInfo { hasNextPage } } }`, variables: { a: cursorOf(children[n - 3]) } },
      { 'x-purpose': 'CASE_HANDLING; rt43' },
    );
    expect(r.json).toEqual({ data: { minors: { pageInfo: { hasNextPage: true } } } });
    const read = new Set((await eventOf(t, r.requestId)).reads.map((x: any) => x.minorId));
    // Seen: children[n - 2] (the page's, through PageInfo) only; children[n - 1], which decided the answer, is not in the trail.
    expect([read.has(children[n - 2]), read.has(children[n - 1])]).toEqual([true, true]);
  });

  /**
   * The same for a department's record page: `nextCursor` is non-null exactly when a record follows
   * the page, and the resolver records that record's child (`decidedBy`) only under a filter. Under a
   * referral's purpose bound to the page's own child, whether another child's record follows is served
   * and unrecorded — the same page under a filter that keeps every record is withheld.
   */
  it('under a referral’s purpose for the page’s own child, policeIncidents { nextCursor } telling whether another child’s record follows is withheld (or that child recorded)', async () => {
    const records: { id: string; minor_id: string }[] = await t.sql(
      `SELECT i.id, i.minor_id FROM police.incident i JOIN registry.minor_jurisdiction j ON j.minor_id = i.minor_id WHERE j.grid_code LIKE $1 ORDER BY i.id`,
      [`${STREET}%`],
    );
    // A record followed by another child's record, with one before it.
    const k = records.findIndex((r, i) => i > 0 && i + 1 < records.length && records[i + 1].minor_id !== r.minor_id);
    expect(k).toBeGreaterThan(0);
    const [page, next] = [records[k], records[k + 1]];
    const token = await t.token(PO, { region: STREET, user: 'rt43-nextcursor-own' });
    const purpose = await referralPurpose(page.minor_id, PO);
    const after = Buffer.from(`police-incident:${records[k - 1].id}`).toString('base64url');
    const types = (await t.sql(`SELECT DISTINCT type FROM police.incident`)).map((r: any) => r.type).join(', ');
    const q = (filter: string) => ({ query: `query($a: String) { policeIncidents(first: 1, after: $a${filter}) { nextCursor } }`, variables: { a: after } });
    // Under a filter every record passes: the same answer, withheld.
    const filtered = await post(t, token, q(`, filter: { types: [${types}] }`), purpose);
    expect(filtered.status).toBe(403);
    const r = await post(t, token, q(''), purpose);
    const read = new Set((await eventOf(t, r.requestId)).reads.map((x: any) => x.minorId));
    // Seen: 200 { nextCursor: <page.id> } — non-null because next exists — the trail naming page's child only.
    expect(r.status === 403 || read.has(next.minor_id)).toBe(true);
  });
  /**
   * Red team 44: `edges` and `nodes` of a one-item page placed with `after` just before a named child
   * answer the same question as `hasNextPage` (an edge or none): withheld under a referral's purpose too.
   */
  it('minors(first: 1, after) { edges { __typename } } under a referral’s purpose, telling whether another child follows, is withheld (or that child recorded)', async () => {
    const token = await t.token(ED, { region: STREET, user: 'rt44-edges' });
    const purpose = await referralPurpose(children[0]);
    const n = children.length;
    const q = { query: `query($a: String) { minors(first: 1, after: $a) { edges { __typename } } }`, variables: { a: cursorOf(children[n - 2]) } };
    // The same question under a filter that keeps the whole street is withheld.
    const filtered = await post(t, token, { ...q, query: q.query.replace('minors(', `minors(filter: { regionCode: "${STREET}" }, `) }, purpose);
    expect(filtered.status).toBe(403);
    const r = await post(t, token, q, purpose);
    const read = new Set((await eventOf(t, r.requestId)).reads.map((x: any) => x.minorId));
    // Seen: 200 { edges: [{ __typename: "MinorEdge" }] } — children[n - 1] exists — and the trail names no child.
    expect({ status: r.status, recorded: r.status === 403 || read.has(children[n - 1]) }).toEqual({ status: 403, recorded: true });
  });

  it('policeIncidents(first: 1, after) { nodes { __typename } } under a referral’s purpose, telling whether another child’s record follows, is withheld (or that child recorded)', async () => {
    const records: { id: string; minor_id: string }[] = await t.sql(
      `SELECT i.id, i.minor_id FROM police.incident i JOIN registry.minor_jurisdiction j ON j.minor_id = i.minor_id WHERE j.grid_code LIKE $1 ORDER BY i.id`,
      [`${STREET}%`],
    );
    const k = records.findIndex((r, i) => i + 1 < records.length && records[i + 1].minor_id !== r.minor_id);
    expect(k).toBeGreaterThanOrEqual(0);
    const [page, next] = [records[k], records[k + 1]];
    const token = await t.token(PO, { region: STREET, user: 'rt44-nodes' });
    const purpose = await referralPurpose(page.minor_id, PO);
    const after = Buffer.from(`police-incident:${page.id}`).toString('base64url');
    const types = (await t.sql(`SELECT DISTINCT type FROM police.incident`)).map((r: any) => r.type).join(', ');
    const q = (filter: string) => ({ query: `query($a: String) { policeIncidents(first: 1, after: $a${filter}) { nodes { __typename } } }`, variables: { a: after } });
    const filtered = await post(t, token, q(`, filter: { types: [${types}] }`), purpose);
    expect(filtered.status).toBe(403);
    const r = await post(t, token, q(''), purpose);
    const read = new Set((await eventOf(t, r.requestId)).reads.map((x: any) => x.minorId));
    // Seen: 200 { nodes: [{ __typename: "PoliceIncident" }] }, the trail not naming next's child.
    expect({ status: r.status, recorded: r.status === 403 || read.has(next.minor_id) }).toEqual({ status: 403, recorded: true });
  });

});

/** Red team 44: distributed, the subgraph's resolver records the same. */
describe('paging, distributed (red team 44)', () => {
  it('pin: distributed, alone and planned, hasNextPage under a referral’s purpose for the page’s own child is withheld or records the child after it', async () => {
    const t = await startDistributedTestHub();
    try {
      const civil = await t.token(CA, { region: STREET });
      const children: string[] = (
        await t.sql(`SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE $1 AND registry.is_minor(m.birth_date, now()) ORDER BY m.id`, [`${STREET}%`])
      ).map((r: any) => r.id);
      const n = children.length;
      const ref = await t.gql(civil, CREATE, { i: { minorId: children[n - 2], type: 'EDUCATION_AID', toDepartment: ED, need: '家庭困难，需要帮扶' } });
      expect(ref.errors).toBeUndefined();
      const purpose = { 'x-purpose': `REFERRAL; ${ref.data.createReferral.id}` };
      const token = await t.token(ED, { region: STREET, user: 'rt44-dist' });
      for (const beside of ['', ' regions { code }']) {
        const q = { query: `query($a: String) { minors(first: 1, after: $a) { pageInfo { hasNextPage } }${beside} }`, variables: { a: cursorOf(children[n - 3]) } };
        const r = await post(t, token, q, purpose);
        const read = new Set((await eventOf(t, r.requestId)).reads.map((x: any) => x.minorId));
        expect(r.status === 403 || read.has(children[n - 1])).toBe(true);
      }
    } finally {
      await t.stop();
    }
  });
});
