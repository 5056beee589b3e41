import { Department } from '../src/auth/principal';
import { UNPAGED_LIST_LIMIT } from '../src/subgraphs/shared/list-limit';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

const { EDUCATION: ED, JUSTICE: JU, POLICE: PO } = Department;

/** List queries, their pages and their arguments, as a client can send them. */
describe('lists (red team 6)', () => {
  let t: TestHub;
  beforeAll(async () => {
    // A low cost limit, so that a few aliases show how a list is priced (the hops between subgraphs are bounded too).
    t = await startTestHub({ env: { HUB_MAX_QUERY_COST: '5000' } });
  });
  afterAll(() => t.stop());

  /**
   * A department's webhooks stay on its list once deactivated, and each deactivation frees a place
   * for the next registration: the list grows with every register-and-deactivate, without bound.
   * Unpaged, it was priced at a handful of items by the cost limit and answered whole: each alias
   * of it, passed as a root field's thousand, answered every webhook the department ever had.
   */
  describe('webhooks', () => {
    const street = '330102004';
    const HISTORY = UNPAGED_LIST_LIMIT + 10;
    let officer: string;
    let ids: string[];

    beforeAll(async () => {
      officer = await t.token(JU, { user: 'ju-hooks', region: street });
      ids = [];
      for (let i = 0; i < HISTORY; i++) {
        const reg = await t.gql(officer, `mutation($u: String!) { registerWebhook(url: $u) { webhook { id } } }`, { u: `http://127.0.0.1:9/history/${i}` });
        expect(reg.errors).toBeUndefined();
        const id = reg.data.registerWebhook.webhook.id;
        expect((await t.gql(officer, `mutation($id: ID!) { deactivateWebhook(id: $id) { active } }`, { id })).data.deactivateWebhook).toEqual({ active: false });
        ids.push(id);
      }
    });

    it('answers a page, not every webhook the department ever had: an unpaged list never holds more than its bound', async () => {
      const r = await t.gql(officer, `{ webhooks { id } }`);
      expect(r.errors).toBeUndefined();
      expect(r.data.webhooks.length).toBeLessThanOrEqual(UNPAGED_LIST_LIMIT);
    });

    it('pages through all of them in the order they were registered, each once, `after` the last id of the page before', async () => {
      const seen: string[] = [];
      let after: string | null = null;
      for (let pages = 0; pages < 10; pages++) {
        const r: any = await t.gql(officer, `query($a: ID) { webhooks(first: 25, after: $a) { id } }`, { a: after });
        expect(r.errors).toBeUndefined();
        seen.push(...r.data.webhooks.map((w: { id: string }) => w.id));
        if (r.data.webhooks.length < 25) break;
        after = seen[seen.length - 1];
      }
      expect(seen).toEqual(ids);
      // In capitals too, as every id.
      const upper = await t.gql(officer, `query($a: ID) { webhooks(first: 1, after: $a) { id } }`, { a: ids[0].toUpperCase() });
      expect(upper.data.webhooks).toEqual([{ id: ids[1] }]);
    });

    it('refuses a page size outside 1–500 and an `after` that is no webhook of the caller’s list, BAD_USER_INPUT naming the argument', async () => {
      for (const first of [0, -1, 501]) {
        const r = await t.gql(officer, `query($f: Int) { webhooks(first: $f) { id } }`, { f: first });
        expect([errorCodes(r), r.errors?.[0].extensions?.field]).toEqual([['BAD_USER_INPUT'], 'first']);
      }
      const otherDepartment = await t.token(PO, { user: 'po-hooks', region: street });
      for (const [token, after] of [
        [officer, 'not-an-id'],
        [officer, '00000000-0000-0000-0000-000000000000'],
        // Another department's list, with the justice webhook as its cursor.
        [otherDepartment, ids[0]],
      ]) {
        const r = await t.gql(token, `query($a: ID) { webhooks(after: $a) { id } }`, { a: after });
        expect([errorCodes(r), r.errors?.[0].extensions?.field, r.data?.webhooks ?? null]).toEqual([['BAD_USER_INPUT'], 'after', null]);
      }
    });

    it('prices the list by its page: aliases of large pages are refused before they run', async () => {
      const aliases = (first: number) => Array.from({ length: 3 }, (_, i) => `w${i}: webhooks(first: ${first}) { id url active createdAt }`).join(' ');
      const large = await t.gql(officer, `{ ${aliases(500)} }`);
      expect(errorCodes(large)).toEqual(['LIMIT_EXCEEDED']);
      expect(large.errors![0].message).toMatch(/^The response could hold about [0-9,]+ values/);
      expect(large.data ?? null).toBeNull();
      const small = await t.gql(officer, `{ ${aliases(50)} }`);
      expect(small.errors).toBeUndefined();
      expect(small.data.w2).toHaveLength(50);
    });

    it('still deactivates a webhook by its id, in capitals or not, and answers another department’s as none', async () => {
      const reg = await t.gql(officer, `mutation($u: String!) { registerWebhook(url: $u) { webhook { id } } }`, { u: 'http://127.0.0.1:9/history/last' });
      const id: string = reg.data.registerWebhook.webhook.id;
      const other = await t.gql(await t.token(PO, { user: 'po-hooks', region: street }), `mutation($id: ID!) { deactivateWebhook(id: $id) { active } }`, { id });
      expect(errorCodes(other)).toEqual(['NOT_FOUND']);
      const r = await t.gql(officer, `mutation($id: ID!) { deactivateWebhook(id: $id) { id active } }`, { id: id.toUpperCase() });
      expect(r.data.deactivateWebhook).toEqual({ id, active: false });
    });
  });

  /**
   * A department's record page records its filter's tests as read of the children its `nextCursor`
   * depends on (the page's and the one after it): selected alone, `nextCursor` asks for no child's
   * record type, and so went without a purpose — the trail held reads of children with none. Without
   * a filter it is the id of the page's last record all the same (red team 36).
   */
  describe('a record page’s nextCursor under a filter', () => {
    const cases: [Department, string, string, string][] = [
      [PO, 'policeIncidents(first: 3, filter: { types: [SEXUAL_HARM, DOMESTIC_VIOLENCE] })', 'PoliceIncident.type', 'police.incident'],
      [ED, 'dropoutReports(first: 3, filter: { statuses: [OPEN, CLOSED] })', 'DropoutReport.status', 'education.dropout_report'],
    ];

    it.each(cases)('%s: needs a purpose, refused on its own path beside the rest, reading nothing', async (department, list, field, table) => {
      const token = await t.token(department, { user: `cursor-${department}` });
      // `totalCount` under a filter needs a purpose too (record-page.redteam9): the rest of the page is `__typename`.
      const query = `{ ${list} { __typename nextCursor } }`;
      const refused = await post(t, token, { query }, {});
      const root = list.slice(0, list.indexOf('('));
      expect(refused.json.data[root].__typename).toEqual(expect.stringMatching(/Page$/));
      expect(refused.json.data[root].nextCursor).toBeNull();
      expect(refused.json.errors.map((e: any) => [e.extensions.code, e.extensions.field, e.path])).toEqual([['BAD_USER_INPUT', 'x-purpose', [root, 'nextCursor']]]);
      expect((await eventOf(t, refused.requestId)).reads).toEqual([]);

      const served = await post(t, token, { query }, { 'x-purpose': 'CASE_HANDLING; 2026-0042' });
      expect(served.json.errors).toBeUndefined();
      expect(served.json.data[root].nextCursor).toEqual(expect.any(String));
      const event = await eventOf(t, served.requestId);
      expect(event.purpose).toEqual({ code: 'CASE_HANDLING', reference: '2026-0042' });
      expect(event.reads.length).toBeGreaterThan(0);
      // The cursor is the last record's id, a read of `<Type>.id` of its child (red team 36).
      const idField = `${field.split('.')[0]}.id`;
      const recordId = Buffer.from(served.json.data[root].nextCursor, 'base64url').toString().split(':')[1];
      const [{ minor_id: last }] = await t.sql(`SELECT minor_id FROM ${table} WHERE id = $1`, [recordId]);
      for (const r of event.reads) expect(r.fields).toEqual(r.minorId === last ? { [field]: 'ALLOW', [idField]: 'ALLOW' } : { [field]: 'ALLOW' });
    });

    it('needs one without a filter too: the cursor is the id of the page’s last record, a read of its child', async () => {
      const r = await post(t, await t.token(PO), { query: `{ policeIncidents(first: 3) { totalCount nextCursor } }` }, {});
      expect(r.json.data.policeIncidents).toEqual({ totalCount: expect.any(Number), nextCursor: null });
      expect(r.json.errors.map((e: any) => [e.extensions.code, e.extensions.field, e.path])).toEqual([['BAD_USER_INPUT', 'x-purpose', ['policeIncidents', 'nextCursor']]]);
      expect((await eventOf(t, r.requestId)).reads).toEqual([]);
    });
  });

  /**
   * A page size a variable gives that no Int holds is the client's error: refused as GraphQL refuses
   * such a variable (BAD_USER_INPUT, HTTP 400), not priced at its value — 2^31 was answered
   * LIMIT_EXCEEDED (413), "The response could hold about 2147483654 values", for a page that could
   * never run. A valid variable still prices the page.
   */
  it('refuses a page size no Int holds as the variable it is, BAD_USER_INPUT, before anything runs', async () => {
    const ca = await t.token(Department.CIVIL_AFFAIRS);
    for (const first of [2 ** 31, 1e300, -(2 ** 31) - 1]) {
      const r = await post(t, ca, { query: `query($f: Int) { minors(first: $f) { edges { cursor } } }`, variables: { f: first } });
      expect([r.status, errorCodes(r.json)]).toEqual([400, ['BAD_USER_INPUT']]);
      expect(r.json.errors[0].message).toMatch(/^Variable "\$f" got invalid value/);
      expect(r.json.data ?? null).toBeNull();
    }
    const priced = await post(t, ca, { query: `query($f: Int) { minors(first: $f) { edges { node { id name gender age school } } } }`, variables: { f: 1000 } });
    expect([priced.status, errorCodes(priced.json)]).toEqual([413, ['LIMIT_EXCEEDED']]);
    // A refused variable leaves the others out of the price too: nothing runs, on one subgraph (the
    // fast path) or planned across several.
    for (const query of [
      `query($f: Int, $bad: Int) { minors(first: $f) { edges { node { id name gender age school } } } b: minors(first: $bad) { totalCount } }`,
      `query($f: Int, $bad: Int) { policeIncidents(first: $f) { nodes { id type minor { name gender age school } } } b: regions { code } c: policeIncidents(first: $bad) { totalCount } }`,
    ]) {
      const r = await post(t, ca, { query, variables: { f: 1000, bad: 2 ** 31 } });
      expect([r.status, errorCodes(r.json), r.json.data ?? null]).toEqual([400, ['BAD_USER_INPUT'], null]);
      expect(r.json.errors[0].message).toMatch(/^Variable "\$bad" got invalid value/);
      expect((await eventOf(t, r.requestId)).reads).toEqual([]);
    }
  });
});
