import { randomUUID } from 'node:crypto';
import { Department, Role } from '../src/auth/principal';
import { eventOf, post, storedEventOf } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';
import { expectAnsweredAsUnknown } from './support/unknown-id';

/** Red-team probes of the data officer's surface: what the trail discloses, and to whom. */
describe('the auditor’s surface (red team 2)', () => {
  let t: TestHub;
  const STREET = '330102001';
  const OTHER_STREET = '330102002';
  let child: { id: string; name: string; id_number: string; current_address: string; household_registration: string };
  let other: { id: string; id_number: string };

  beforeAll(async () => {
    t = await startTestHub();
    [child] = await t.sql(`SELECT id, name, id_number, current_address, household_registration FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id LIMIT 1`, [`${STREET}%`]);
    [other] = await t.sql(`SELECT id, id_number FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id LIMIT 1`, [`${OTHER_STREET}%`]);
  });
  afterAll(() => t.stop());

  it('keeps every literal kind, variable and input text out of the stored events and of the auditor’s answer', async () => {
    const civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'rt2-civil' });
    const marker = 'RT2MARKER家访记录';
    const docs: { query: string; variables?: Record<string, unknown>; operationName?: string }[] = [
      { query: `query($n: String = "${child.id_number}") { minorByIdNumber(idNumber: $n) { id } }` },
      { query: `query Q($id: ID = "${child.id}", $f: Boolean = true) { minor(id: $id) { name @include(if: $f) ...F } } fragment F on Minor { idNumber @skip(if: false) }` },
      { query: `{ minors(first: 3, filter: { regionCode: "${STREET}", categories: [CRIME_VICTIM, DOMESTIC_VIOLENCE], riskLevels: [RED], ageMin: 3, ageMax: 17 }) { totalCount } }` },
      { query: `"""${child.name} ${child.id_number}""" scalar S query { minor(id: "${child.id}") { name(x: "${child.current_address}") } }` },
      { query: `query { minor(id: "${child.id}") @foo(x: { a: "${child.name}", b: [1.5, "${child.household_registration}"] }) { name } }` },
      { query: `query($x: [String!] = ["${child.name}"]) { minor(id: "${child.id}") { name } }` },
      { query: `mutation { recordVisit(minorId: "${child.id}", input: { notes: "${marker}" }) { visitedAt } }` },
      { query: `mutation($in: VisitInput!) { recordVisit(minorId: "${child.id}", input: $in) { visitedAt } }`, variables: { in: { notes: marker } } },
      { query: `mutation($in: UpdateMinorInput!) { updateMinor(id: "${child.id}", input: $in) { id } }`, variables: { in: { currentAddress: child.current_address } } },
      { query: `{ minor(id: "${child.id}") { name } }`, operationName: 'Nope' },
      { query: `query { minor(id: """${child.id_number}""") { name } }` },
      // Refused before Apollo parses it (validation-bound.ts): too many tokens.
      { query: `query { minor(id: "${child.id}") { name ${Array.from({ length: 3000 }, (_, i) => `a${i}: name`).join(' ')} } }` },
      // A value nested past MAX_VARIABLE_DEPTH, refused before validation.
      { query: `query($v: [[String]]) { minor(id: "${child.name}") { name } }`, variables: { v: JSON.parse(`${'['.repeat(40)}"${child.name}"${']'.repeat(40)}`) } },
      // Over 64 KiB once literals are stripped: the event keeps its first 2 KiB.
      { query: `query { minor(id: "${child.id_number}") { ${Array.from({ length: 9000 }, (_, i) => `x${i}:__typename`).join(' ')} } }` },
    ];
    const ids: string[] = [];
    for (const d of docs) ids.push((await post(t, civil, d, { 'x-purpose': 'CASE_HANDLING' })).requestId);
    await t.hub.audit.drain();
    const rows: { body: string }[] = await t.sql(`SELECT body FROM audit.event WHERE request_id = ANY($1::uuid[])`, [ids]);
    expect(rows.length).toBeGreaterThanOrEqual(docs.length);
    const secrets = [child.name, child.id_number, child.current_address, child.household_registration, marker, 'CRIME_VICTIM', 'DOMESTIC_VIOLENCE'];
    for (const { body } of rows) for (const s of secrets) expect([s, body.includes(s)]).toEqual([s, false]);

    const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, user: 'rt2-auditor' });
    const page = await post(
      t,
      auditor,
      { query: `{ auditEvents(first: 100, filter: { userId: "rt2-civil" }) { edges { node { operationName document variableNames purpose { code reference } errorCodes outcome reads { minorId fields { field access } } changes { mutation id minorId fields } } } } }` },
      {},
    );
    expect(page.json.errors).toBeUndefined();
    const text = JSON.stringify(page.json);
    for (const s of secrets) expect([s, text.includes(s)]).toEqual([s, false]);
  });

  it('answers a street auditor’s search by a child of another street, busy with events there, as by an unknown id', async () => {
    const otherOfficer = await t.token(Department.POLICE, { region: OTHER_STREET, user: 'rt2-other-street' });
    for (let i = 0; i < 3; i++) await post(t, otherOfficer, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: other.id } });
    const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: STREET, user: 'rt2-street-auditor' });
    const search = `query($id: ID!) { auditEvents(filter: { minorId: $id }, first: 5) { edges { cursor node { seq } } pageInfo { hasNextPage endCursor } } }`;
    expect((await expectAnsweredAsUnknown(t, auditor, search, { id: other.id }, { id: randomUUID() }, { id: randomUUID() })).json).toEqual({
      data: { auditEvents: { edges: [], pageInfo: { hasNextPage: false, endCursor: null } } },
    });
    // Another child of that street, busy there too: the search above is in this auditor's trail now.
    const [{ id: busy }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id OFFSET 1 LIMIT 1`, [`${OTHER_STREET}%`]);
    for (let i = 0; i < 3; i++) await post(t, otherOfficer, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: busy } });
    const history = `query($id: ID!) { minorAccessHistory(minorId: $id, first: 5) { seq } }`;
    expect((await expectAnsweredAsUnknown(t, auditor, history, { id: busy }, { id: randomUUID() }, { id: randomUUID() })).json).toEqual({ data: { minorAccessHistory: [] } });
  });

  it('refuses tampered cursors, page sizes and dates as bad input, never a 500', async () => {
    const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR });
    const cases: [string, Record<string, unknown>][] = [
      ['query($a: String) { auditEvents(after: $a, first: 1) { edges { cursor } } }', { a: '999999999999999999' }],
      ['query($a: String) { auditEvents(after: $a, first: 1) { edges { cursor } } }', { a: '000000000000000000' }],
      ['query($a: String) { auditEvents(after: $a, first: 1) { edges { cursor } } }', { a: '1 OR 1=1' }],
      ['query($a: String) { auditEvents(after: $a, first: 1) { edges { cursor } } }', { a: '-1' }],
      ['query($a: String) { auditEvents(after: $a, first: 1) { edges { cursor } } }', { a: '١٢' }],
      ['query($a: String) { minorAccessHistory(minorId: "00000000-0000-4000-8000-000000000000", after: $a, first: 1) { seq } }', { a: '999999999999999999' }],
      ['query($f: Int!) { auditEvents(first: $f) { edges { cursor } } }', { f: 0 }],
      ['query($f: Int!) { minorAccessHistory(minorId: "00000000-0000-4000-8000-000000000000", first: $f) { seq } }', { f: 1001 }],
      ['query($d: DateTimeISO) { auditEvents(filter: { from: $d }, first: 1) { edges { cursor } } }', { d: '0000-01-01T00:00:00Z' }],
      ['query($d: DateTimeISO) { auditEvents(filter: { to: $d }, first: 1) { edges { cursor } } }', { d: '9999-12-31T23:59:59.999Z' }],
      ['query($d: DateTimeISO) { auditEvents(filter: { to: $d }, first: 1) { edges { cursor } } }', { d: '2026-12-31T23:59:60Z' }],
      ['query($d: DateTimeISO) { auditAnomalies(from: $d, to: "0000-01-20T00:00:00Z") { kind } }', { d: '0000-01-01T00:00:00Z' }],
      ['query($d: DateTimeISO) { auditAnomalies(from: $d, to: "9999-12-31T23:59:59Z") { kind } }', { d: '9999-12-20T00:00:00Z' }],
      ['query($d: DateTimeISO) { auditAnomalies(from: $d, to: "2026-01-02T00:00:00+23:59") { kind } }', { d: '2026-01-01T00:00:00-23:59' }],
      ['query($u: String) { auditEvents(filter: { userId: $u, department: $u }, first: 1) { edges { cursor } } }', { u: 'x'.repeat(200_000) }],
      ['query($m: ID) { auditEvents(filter: { minorId: $m }, first: 1) { edges { cursor } } }', { m: '{00000000-0000-4000-8000-000000000000}' }],
      ['query($m: ID!) { minorAccessHistory(minorId: $m) { seq } }', { m: '00000000000040008000000000000000' }],
    ];
    const seen: unknown[] = [];
    for (const [query, variables] of cases) {
      const r = await post(t, auditor, { query, variables }, {});
      seen.push([query.slice(0, 60), JSON.stringify(variables).slice(0, 60), r.status, r.json?.errors?.map((e: any) => e.extensions?.code) ?? null]);
    }
    for (const s of seen as any[]) {
      expect(s[2]).toBeLessThan(500);
      expect(s[3] ?? []).not.toContain('INTERNAL_SERVER_ERROR');
    }
  });

  it('keeps every non-auditor out of the trail, through fragments too', async () => {
    const tokens = [
      ...Object.values(Department).map((d) => t.token(d)),
      t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD }),
      t.token(Department.CIVIL_AFFAIRS, { role: Role.REPORTER }),
      t.token(Department.CIVIL_AFFAIRS, { role: Role.EMPLOYER }),
    ];
    const queries = [
      `{ ...on Query { auditEvents(first: 1) { edges { node { seq reads { minorId } } } } } }`,
      `query { ...Q } fragment Q on Query { minorAccessHistory(minorId: "${child.id}") { userId } }`,
      `{ auditAnomalies { kind } }`,
      `{ auditVerify { ok events } }`,
    ];
    const seen: unknown[] = [];
    for (const token of await Promise.all(tokens)) {
      for (const query of queries) {
        const r = await post(t, token, { query }, { 'x-purpose': 'CASE_HANDLING' });
        const data = r.json?.data ? Object.values(r.json.data).filter((v) => v !== null) : [];
        seen.push([r.status, data.length, (r.json?.errors ?? []).map((e: any) => e.extensions?.code)]);
        expect(data).toEqual([]);
        expect(r.status).toBeLessThan(500);
      }
    }
    expect(seen.every((s: any) => s[2].every((c: string) => c === 'FORBIDDEN'))).toBe(true);
  });

  it('names in a caller’s event only the children the caller may reach (a refused look-up names none)', async () => {
    const officer = await t.token(Department.CIVIL_AFFAIRS, { region: STREET, user: 'rt2-street-officer' });
    const probes: { query: string; variables?: Record<string, unknown> }[] = [
      { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: other.id } },
      { query: `query($n: String!) { minorByIdNumber(idNumber: $n) { name } }`, variables: { n: other.id_number } },
      { query: `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "x" }) { visitedAt } }`, variables: { id: other.id } },
      { query: `mutation($id: ID!) { addCategory(minorId: $id, category: POVERTY) { id } }`, variables: { id: other.id } },
      { query: `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: RED, reasons: "x" }) { id } }`, variables: { id: other.id } },
      { query: `query($id: ID!) { _entities(representations: [{ __typename: "Minor", id: $id }]) { __typename } }`, variables: { id: other.id } },
    ];
    const named: unknown[] = [];
    for (const p of probes) {
      const r = await post(t, officer, p, { 'x-purpose': 'CASE_HANDLING' });
      const e = await eventOf(t, r.requestId);
      named.push([p.query.slice(0, 40), r.status, e.reads.map((x: any) => x.minorId), e.changes.map((c: any) => c.minorId)]);
    }
    for (const n of named as any[]) {
      expect(n[2]).not.toContain(other.id);
      expect(n[3]).not.toContain(other.id);
    }
  });

  it('names no child in the event of a look-up or filter refused for the field it tests', async () => {
    const school = await t.token(Department.EDUCATION, { user: 'rt2-school' });
    const youth = await t.token(Department.YOUTH_LEAGUE, { user: 'rt2-youth' });
    const probes: [string, { query: string; variables?: Record<string, unknown> }][] = [
      [school, { query: `query($n: String!) { minorByIdNumber(idNumber: $n) { id } }`, variables: { n: child.id_number } }],
      [school, { query: `{ minors(first: 50, filter: { categories: [CRIME_VICTIM] }) { edges { node { id } } } }` }],
      [youth, { query: `{ minors(first: 50, filter: { nextVisitDueBefore: "2099-01-01" }) { edges { node { id } } } }` }],
      [school, { query: `{ a: minors(first: 5) { edges { node { id } } } b: minors(first: 50, filter: { categories: [DOMESTIC_VIOLENCE] }) { edges { node { id } } } }` }],
    ];
    const seen: unknown[] = [];
    for (const [token, p] of probes) {
      const r = await post(t, token, p, { 'x-purpose': 'CASE_HANDLING' });
      const e = await storedEventOf(t, r.requestId);
      seen.push([r.status, (r.json.errors ?? []).map((x: any) => x.extensions?.code), e.reads.map((g: any) => [Object.keys(g.fields), g.minorIds.length])]);
    }
    const fieldsRead = seen.flatMap((s: any) => s[2].flatMap((g: any) => g[0]));
    expect(fieldsRead).not.toContain('MinorCategory.category');
    expect(fieldsRead).not.toContain('Minor.nextVisitDue');
    // Only the unfiltered alias's five children are named; the refused look-up and filters name none.
    expect(seen.map((s: any) => s[2])).toEqual([[], [], [], [[['Minor.id', 'MinorEdge.node'], 5]]]);
  });

  // Pinned as README's "side channel (1)" documents it (an owner's decision): the refusal is recorded
  // as a look-up of the child registered under the number, so the caller's auditors see the child's
  // id — of another street — in the caller's event.
  it('createMinor with another street’s child’s number names that child in the caller’s event, as README side channel (1) documents', async () => {
    const officer = await t.token(Department.CIVIL_AFFAIRS, { region: STREET, user: 'rt2-street-registrar' });
    const [grid] = await t.sql(`SELECT code FROM registry.region WHERE code LIKE $1 AND length(code) = 15 LIMIT 1`, [`${STREET}%`]);
    const r = await post(
      t,
      officer,
      {
        query: `mutation($i: CreateMinorInput!) { createMinor(input: $i) { id } }`,
        variables: { i: { name: '王小明', idNumber: other.id_number, gender: 'MALE', householdRegistration: '浙江省杭州市上城区', currentAddress: '杭州市上城区清波街道1号', gridCode: grid.code } },
      },
      { 'x-purpose': 'CASE_HANDLING' },
    );
    const e = await storedEventOf(t, r.requestId);
    expect([r.json.errors.map((x: any) => x.extensions.code), e.region, e.reads]).toEqual([['BAD_USER_INPUT'], STREET, [{ fields: { 'Minor.idNumber': 'ALLOW' }, minorIds: [other.id] }]]);
  });
});
