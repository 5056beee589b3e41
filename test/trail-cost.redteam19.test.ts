import { Department, Role } from '../src/auth/principal';
import { asDba, eventOf, post } from './support/audit-helpers';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

const CA = Department.CIVIL_AFFAIRS;
const codes = (r: { json: any }) => (r.json?.errors ?? []).map((e: { extensions?: { code?: string } }) => e.extensions?.code);

describe('trail cost (redteam19 rt191)', () => {
  let t: TestHub;
  let civil: string;
  let auditor: string;

  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(CA, { user: 'rt19-civil' });
    auditor = await t.token(CA, { role: Role.AUDITOR, user: 'rt19-auditor' });
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** The reads the hub recorded for one request's event (its audit), as child → fields. */
  const readsOf = async (requestId: string) => (await eventOf(t, requestId)).reads as { minorId: string; fields: Record<string, string> }[];

  describe('refuseAliasedFields (3cdb646): what GraphQL merges is one field, not an alias', () => {
    let child: string;
    beforeAll(async () => {
      [{ id: child }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' ORDER BY id LIMIT 1`);
      const r = await post(t, civil, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: child } }, { 'x-purpose': 'CASE_HANDLING; rt19' });
      expect(r.json.errors).toBeUndefined();
      await t.hub.audit.drain();
    });

    it.each([
      ['the same field in a named fragment and beside it', `fragment A on AuditEvent { seq document } { auditEvents(filter: { userId: "rt19-civil" }, first: 1) { edges { node { seq document ...A } } } }`],
      ['the same alias in two fragments', `fragment A on AuditEvent { d: document r: reads { minorId } } fragment B on AuditEvent { d: document r: reads { fields { field } } } { auditEvents(filter: { userId: "rt19-civil" }, first: 1) { edges { node { ...A ...B } } } }`],
      ['the same field in inline fragments at two depths', `{ auditEvents(filter: { userId: "rt19-civil" }, first: 1) { edges { node { seq } } ... on AuditEventConnection { edges { node { ... on AuditEvent { seq reads { minorId } } } } } } }`],
      ['the same field in two selections of one parent', `{ auditEvents(filter: { userId: "rt19-civil" }, first: 1) { edges { node { reads { minorId } } } edges { node { reads { fields { field access } } } } } }`],
      ['the same field under @include and @skip on one key', `{ auditEvents(filter: { userId: "rt19-civil" }, first: 1) { edges { node { document @include(if: true) document @skip(if: false) } } } }`],
      ['a fragment spread twice', `fragment A on AuditEvent { seq reads { minorId } } { auditEvents(filter: { userId: "rt19-civil" }, first: 1) { edges { node { ...A ...A } } } }`],
      ['a history with the same field in a fragment', `fragment H on MinorAccess { seq fields { field } } query($id: ID!) { minorAccessHistory(minorId: $id, first: 2) { ...H fields { access } } }`],
    ])('%s is served', async (_name, query) => {
      const r = await post(t, auditor, { query, variables: { id: child } }, {});
      expect([r.status, codes(r)]).toEqual([200, []]);
    });

    it.each([
      ['an alias in a nested named fragment', `fragment A on AuditEvent { ...B seq } fragment B on AuditEvent { d2: document } { auditEvents(filter: { userId: "rt19-civil" }, first: 1) { edges { node { document ...A } } } }`],
      ['an alias under an inline fragment of the connection', `{ auditEvents(filter: { userId: "rt19-civil" }, first: 1) { edges { cursor } ... on AuditEventConnection { e2: edges { cursor } } } }`],
      ['a history’s changes aliased in a fragment', `fragment H on MinorAccess { c2: changes { mutation } } query($id: ID!) { minorAccessHistory(minorId: $id, first: 2) { changes { mutation } ...H } }`],
    ])('%s is refused LIMIT_EXCEEDED, and audited so, recording no child', async (_name, query) => {
      const r = await post(t, auditor, { query, variables: { id: child } }, {});
      expect([r.status, codes(r), Object.values(r.json.data ?? {})]).toEqual([200, ['LIMIT_EXCEEDED'], [null]]);
      const e = await eventOf(t, r.requestId);
      expect([e.outcome, e.errorCodes, e.reads]).toEqual(['LIMIT_EXCEEDED', ['LIMIT_EXCEEDED'], []]);
    });

    it('a look-up of a child that meets a damaged event is recorded alike by auditEvents(filter: { minorId }) and minorAccessHistory (sibling of 4f14343)', async () => {
      const [{ seq, body }] = await t.sql(`SELECT seq, body FROM audit.event WHERE $1::uuid = ANY(minor_ids) ORDER BY seq DESC LIMIT 1`, [child]);
      await asDba(t, (c) => c.query(`UPDATE audit.event SET body = '{}' WHERE seq = $1`, [seq]));
      try {
        const page = await post(t, auditor, { query: `query($id: ID!) { auditEvents(filter: { minorId: $id }, first: 5) { edges { node { seq } } } }`, variables: { id: child } }, {});
        const history = await post(t, auditor, { query: `query($id: ID!) { minorAccessHistory(minorId: $id, first: 5) { seq } }`, variables: { id: child } }, {});
        const looked = async (r: { requestId: string }) => (await readsOf(r.requestId)).some((x) => x.minorId === child);
        expect([codes(page), codes(history)]).toEqual([['AUDIT_TRAIL_DAMAGED'], ['AUDIT_TRAIL_DAMAGED']]);
        // Both errors name the damaged event of this child's (its seq): the same look-up, the same record.
        expect([page.json.errors[0].extensions.seq, history.json.errors[0].extensions.seq]).toEqual([String(seq), String(seq)]);
        expect([await looked(page), await looked(history)]).toEqual([true, true]);
      } finally {
        await asDba(t, (c) => c.query(`UPDATE audit.event SET body = $2 WHERE seq = $1`, [seq, body]));
      }
    });

    it('an auditEvents page filtered by a child and refused for an alias records no look-up of the child (4f14343)', async () => {
      const r = await post(t, auditor, { query: `query($id: ID!) { auditEvents(filter: { minorId: $id }, first: 2) { edges { node { seq s2: seq } } } }`, variables: { id: child } }, {});
      expect(codes(r)).toEqual(['LIMIT_EXCEEDED']);
      expect(await readsOf(r.requestId)).toEqual([]);
      const ok = await post(t, auditor, { query: `query($id: ID!) { auditEvents(filter: { minorId: $id }, first: 2) { edges { node { seq } } } }`, variables: { id: child } }, {});
      expect(codes(ok)).toEqual([]);
      expect((await readsOf(ok.requestId)).map((x) => [x.minorId, Object.keys(x.fields)])).toEqual([[child, ['Query.auditEvents']]]);
    });
  });

  describe('introspection priced at the schema’s lengths under fragments and aliases (2ce1ad6 / 1a056b6)', () => {
    const LIMIT = 500_000;
    const F = `fragment F on __Type { name kind description fields { name description type { name kind } args { name } } }`;
    /** Values an answer holds as the cost walk counts them: each field 1, each list item once more. */
    const values = (v: unknown): number => (Array.isArray(v) ? v.length + v.reduce((n, x) => n + values(x), 0) : v && typeof v === 'object' ? Object.values(v).reduce((n: number, x) => n + 1 + values(x), 0) : 0);
    let perAlias: number;
    beforeAll(async () => {
      const r = await post(t, civil, { query: `${F} { __schema { types { ...F } } }` }, {});
      expect(codes(r)).toEqual([]);
      perAlias = values(r.json.data.__schema);
    });
    const aliases = (n: number, sel: string) => Array.from({ length: n }, (_, i) => `a${i}: ${sel}`).join(' ');

    it.each([
      ['aliases of types, direct', (n: number) => `${F} { __schema { ${aliases(n, 'types { ...F }')} } }`],
      ['aliases of types in a named fragment on __Schema', (n: number) => `${F} fragment S on __Schema { ${aliases(n, 'types { ...F }')} } { __schema { ...S } }`],
      ['aliases of types in an inline fragment', (n: number) => `${F} { __schema { ... on __Schema { ${aliases(n, 'types { ...F }')} } } }`],
      ['aliases of types in a fragment on Query', (n: number) => `${F} fragment Q on Query { __schema { ${aliases(n, 'types { ...F }')} } } { ...Q }`],
    ])('%s answering past the limit is refused', async (_name, make) => {
      const n = Math.ceil((LIMIT * 1.5) / perAlias);
      const r = await post(t, civil, { query: make(n) }, {});
      expect([n, codes(r)]).toEqual([n, ['LIMIT_EXCEEDED']]);
      const e = await eventOf(t, r.requestId);
      expect([e.outcome, e.errorCodes]).toEqual(['LIMIT_EXCEEDED', ['LIMIT_EXCEEDED']]);
    });
  });
});

describe('trail cost in distributed mode (redteam19 rt191)', () => {
  let t: TestHub;
  let civil: string;
  let auditor: string;
  let child: string;
  beforeAll(async () => {
    t = await startDistributedTestHub();
    civil = await t.token(CA, { user: 'rt19-civil' });
    auditor = await t.token(CA, { role: Role.AUDITOR, user: 'rt19-auditor' });
    [{ id: child }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102%' ORDER BY id LIMIT 1`);
    const r = await post(t, civil, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: child } }, { 'x-purpose': 'CASE_HANDLING; rt19' });
    expect(r.json.errors).toBeUndefined();
    await t.hub.audit.drain();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it.each([
    ['the same alias in two fragments', `fragment A on AuditEvent { d: document r: reads { minorId } } fragment B on AuditEvent { d: document r: reads { fields { field } } } { auditEvents(filter: { userId: "rt19-civil" }, first: 1) { edges { node { ...A ...B } } } }`, []],
    ['the same field in two selections of one parent', `{ auditEvents(filter: { userId: "rt19-civil" }, first: 1) { edges { node { reads { minorId } } } edges { node { reads { fields { field access } } } } } }`, []],
    ['a history with the same field in a fragment', `fragment H on MinorAccess { seq fields { field } } query($id: ID!) { minorAccessHistory(minorId: $id, first: 2) { ...H fields { access } } }`, []],
    ['an alias in a nested named fragment', `fragment A on AuditEvent { ...B seq } fragment B on AuditEvent { d2: document } { auditEvents(filter: { userId: "rt19-civil" }, first: 1) { edges { node { document ...A } } } }`, ['LIMIT_EXCEEDED']],
    ['a history’s fields aliased', `query($id: ID!) { minorAccessHistory(minorId: $id, first: 2) { fields { field } f2: fields { access } } }`, ['LIMIT_EXCEEDED']],
    ['an anomaly’s description aliased', `{ auditAnomalies { kind d0: description d1: description } }`, ['LIMIT_EXCEEDED']],
  ])('%s: as in one process', async (_name, query, expected) => {
    const r = await post(t, auditor, { query, variables: { id: child } }, {});
    expect(codes(r)).toEqual(expected);
    const e = await eventOf(t, r.requestId);
    expect([e.outcome, e.reads.some((x: { minorId: string }) => x.minorId === child)]).toEqual(expected.length ? ['LIMIT_EXCEEDED', false] : [e.outcome, e.reads.some((x: { minorId: string }) => x.minorId === child)]);
  });

  it('a second auditEvents in one request is refused, the first answered', async () => {
    const r = await post(t, auditor, { query: `{ a: auditEvents(first: 2) { edges { cursor } } b: auditEvents(first: 2) { edges { cursor } } }` }, {});
    expect([Array.isArray(r.json.data.a?.edges), r.json.data.b, codes(r)]).toEqual([true, null, ['LIMIT_EXCEEDED']]);
  });

  it('a look-up of a child meeting a damaged event is recorded alike by auditEvents(filter: { minorId }) and minorAccessHistory', async () => {
    const [{ seq, body }] = await t.sql(`SELECT seq, body FROM audit.event WHERE $1::uuid = ANY(minor_ids) ORDER BY seq DESC LIMIT 1`, [child]);
    await asDba(t, (c) => c.query(`UPDATE audit.event SET body = '{}' WHERE seq = $1`, [seq]));
    try {
      const page = await post(t, auditor, { query: `query($id: ID!) { auditEvents(filter: { minorId: $id }, first: 5) { edges { node { seq } } } }`, variables: { id: child } }, {});
      const history = await post(t, auditor, { query: `query($id: ID!) { minorAccessHistory(minorId: $id, first: 5) { seq } }`, variables: { id: child } }, {});
      const looked = async (r: { requestId: string }) => ((await eventOf(t, r.requestId)).reads as { minorId: string }[]).some((x) => x.minorId === child);
      expect([codes(page), codes(history)]).toEqual([['AUDIT_TRAIL_DAMAGED'], ['AUDIT_TRAIL_DAMAGED']]);
      expect([await looked(page), await looked(history)]).toEqual([true, true]);
    } finally {
      await asDba(t, (c) => c.query(`UPDATE audit.event SET body = $2 WHERE seq = $1`, [seq, body]));
    }
  });
});
