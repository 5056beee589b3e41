import { Department, Role } from '../src/auth/principal';
import { post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 26 (rt26-auditq): what data officers read from the audit subgraph — auditEvents and its
 * filters and pages, minorAccessHistory, auditAnomalies — through the public endpoint only.
 */
describe('audit queries, red team 26', () => {
  let t: TestHub;
  let auditor: string;
  const STREET = '330102001';
  let children: string[];

  beforeAll(async () => {
    t = await startTestHub();
    auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, user: 'rt26-auditor' });
    children = (await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id LIMIT 100`, [`${STREET}%`])).map((m) => m.id);
  });
  afterAll(() => t?.stop());

  // `filter.from` is inclusive and `to` exclusive (README, auditor-api.redteam17). DateTimeISO takes
  // any number of fractional digits, and graphql-scalars' parseDateTime builds a JS Date, which keeps
  // milliseconds only: `from` 0.5 ms after an event is read as the event's own millisecond (the event
  // is answered though it lies before `from`), and `to` 0.5 ms after it likewise (the event is left
  // out though it lies before `to`). Events are stamped to the millisecond, so a bound a client takes
  // from any microsecond clock (Postgres, a SIEM) misplaces the events of its millisecond.
  it('auditEvents: a `from` or `to` with a sub-millisecond fraction bounds the events as written, not truncated to its millisecond', async () => {
    const officer = await t.token(Department.POLICE, { region: STREET, user: 'rt26-window' });
    const read = await post(t, officer, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: children[0] } });
    expect(read.status).toBe(200);
    await t.hub.audit.drain();
    const Q = `query($f: AuditEventFilter) { auditEvents(filter: $f) { edges { node { requestId time } } } }`;
    const ids = async (f: object) => {
      const r = await t.gql(auditor, Q, { f: { requestId: read.requestId, ...f } }, {});
      expect(r.errors).toBeUndefined();
      return r.data.auditEvents.edges.map((e: any) => e.node.requestId);
    };
    const all = await t.gql(auditor, Q, { f: { requestId: read.requestId } }, {});
    const time: string = all.data.auditEvents.edges[0].node.time; // e.g. 2026-12-06T18:56:15.858Z
    expect(time).toMatch(/\.\d{3}Z$/);
    const halfAMillisecondLater = time.replace(/Z$/, '5Z'); // …15.8585Z
    // Controls: the millisecond itself.
    expect(await ids({ from: time })).toEqual([read.requestId]);
    expect(await ids({ to: time })).toEqual([]);
    // The event lies before both bounds: not from it on, but before it. auditAnomalies reads its
    // window the same way: half a millisecond from `from` to `to` is refused "from: must be before to".
    const window = await t.gql(auditor, `query($f: DateTimeISO, $t: DateTimeISO) { auditAnomalies(from: $f, to: $t) { kind } }`, { f: time, t: halfAMillisecondLater }, {});
    expect({
      fromHalfAMillisecondLater: await ids({ from: halfAMillisecondLater }),
      toHalfAMillisecondLater: await ids({ to: halfAMillisecondLater }),
      anomaliesOverHalfAMillisecond: { errors: window.errors?.map((e: any) => e.message), answered: Array.isArray(window.data?.auditAnomalies) },
    }).toEqual({
      fromHalfAMillisecondLater: [],
      toHalfAMillisecondLater: [read.requestId],
      anomaliesOverHalfAMillisecond: { errors: undefined, answered: true },
    });
  });

  // README ("Audit trail"): a page of auditEvents stops early "once ... the fields of children it
  // answers pass 100 per event asked". The resolver counts the fields of children the events *hold*
  // (fieldReads over every body), whether or not `reads` is selected: a page asking for request ids
  // only answers no child's field, yet a bulk reader's events cut it to one event, so listing such a
  // reader's requests takes one request per event.
  it('auditEvents: a page that selects no reads is not cut short by the fields of children it does not answer', async () => {
    const bulk = await t.token(Department.POLICE, { region: STREET, user: 'rt26-bulk' });
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await post(t, bulk, { query: `{ minors(first: 100) { edges { node { name gender age } } } }` });
      expect(r.status).toBe(200);
      made.unshift(r.requestId);
    }
    await t.hub.audit.drain();
    // With reads selected the bound applies as documented (5 × 100 fields asked).
    const withReads = await t.gql(auditor, `{ auditEvents(first: 5, filter: { userId: "rt26-bulk" }) { edges { node { requestId reads { minorId } } } pageInfo { hasNextPage } } }`, {}, {});
    expect(withReads.errors).toBeUndefined();
    expect(withReads.data.auditEvents.edges.length).toBeLessThan(5);
    // Without: nothing of the children is answered, so the page holds the five events asked.
    const ids = await t.gql(auditor, `{ auditEvents(first: 5, filter: { userId: "rt26-bulk" }) { edges { node { requestId } } pageInfo { hasNextPage } } }`, {}, {});
    expect(ids.errors).toBeUndefined();
    expect(ids.data.auditEvents).toEqual({ edges: made.map((requestId) => ({ node: { requestId } })), pageInfo: { hasNextPage: false } });
  });

  // Pin: through the gateway's planned path (a root field of another subgraph beside the trail's),
  // the data officer's own event records the children an answered page names and the child looked
  // up, and each trail field is still answered once per request.
  it('pin: a query mixing the trail with another subgraph records the officer’s reads and look-ups, and answers auditEvents once', async () => {
    const officer = await t.token(Department.POLICE, { region: STREET, user: 'rt26-mixed' });
    const read = await post(t, officer, { query: `{ a: minor(id: "${children[1]}") { name } b: minor(id: "${children[2]}") { name } }` });
    expect(read.status).toBe(200);
    await t.hub.audit.drain();
    const mixed = await post(
      t,
      auditor,
      {
        query: `query($m: ID!) { regions { code } auditEvents(filter: { userId: "rt26-mixed" }) { edges { node { reads { minorId } } } } minorAccessHistory(minorId: $m) { seq } }`,
        variables: { m: children[3] },
      },
      {},
    );
    expect(mixed.json.errors).toBeUndefined();
    await t.hub.audit.drain();
    const ev = await t.gql(auditor, `query($r: ID!) { auditEvents(filter: { requestId: $r }) { edges { node { reads { minorId fields { field } } } } } }`, { r: mixed.requestId }, {});
    const reads = ev.data.auditEvents.edges[0].node.reads.map((c: any) => [c.minorId, c.fields.map((f: any) => f.field)]);
    expect(reads).toEqual(
      expect.arrayContaining([
        [children[1], ['AuditEvent.reads']],
        [children[2], ['AuditEvent.reads']],
        [children[3], ['Query.minorAccessHistory']],
      ]),
    );
    const twice = await post(t, auditor, { query: `{ regions { code } a: auditEvents(first: 1) { edges { cursor } } b: auditEvents(first: 1) { edges { cursor } } }` }, {});
    expect(twice.json.errors.map((e: any) => [e.path, e.extensions.code])).toEqual([[['b'], 'LIMIT_EXCEEDED']]);
  });
});
