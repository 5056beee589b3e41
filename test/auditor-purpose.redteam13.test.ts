import { Department, Role } from '../src/auth/principal';
import { eventOf, post, storedEventOf } from './support/audit-helpers';
import { exchange } from './support/raw-socket';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const STREET_A = '330102001';
const STREET_B = '330102002';
const LEAK = /QueryFailed|syntax|relation |column |timestamp|out of range|invalid input|\.ts:\d|\bat [A-Za-z.]+ \(/i;

/** Red-team probes of the data officer's reads of the trail and of the declared purpose (redteam13). */
describe('auditor reads and the declared purpose (redteam13)', () => {
  let t: TestHub;
  let districtAuditor: string;
  let streetAuditor: string;
  let officerB: string;
  let officerA: string;
  let childA: string;
  let childB: string;

  beforeAll(async () => {
    t = await startTestHub();
    districtAuditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, user: 'auditor-district' });
    streetAuditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: STREET_A, user: 'auditor-a' });
    officerA = await t.token(Department.CIVIL_AFFAIRS, { region: STREET_A, user: 'officer-a' });
    officerB = await t.token(Department.CIVIL_AFFAIRS, { region: STREET_B, user: 'officer-b' });
    [{ id: childA }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET_A}%' AND registry.is_minor(birth_date, now()) ORDER BY id LIMIT 1`);
    [{ id: childB }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET_B}%' AND registry.is_minor(birth_date, now()) ORDER BY id LIMIT 1`);
    // Some reads by each street's officer.
    const a = await post(t, officerA, { query: `query($id: ID!) { minor(id: $id) { id name } }`, variables: { id: childA } });
    expect(a.json.errors).toBeUndefined();
    const b = await post(t, officerB, { query: `query($id: ID!) { minor(id: $id) { id name } }`, variables: { id: childB } });
    expect(b.json.errors).toBeUndefined();
  });
  afterAll(() => t.stop());

  const EVENTS = `query($f: AuditEventFilter, $first: Int, $after: String) { auditEvents(filter: $f, first: $first, after: $after) { edges { node { seq userId region reads { minorId } } } pageInfo { hasNextPage endCursor } } }`;

  it('answers a street auditor only the events of callers in the street (and unknown callers), never a child of another street', async () => {
    const r = await post(t, streetAuditor, { query: EVENTS, variables: { first: 500 } }, {});
    expect(r.json.errors).toBeUndefined();
    const nodes = r.json.data.auditEvents.edges.map((e: any) => e.node);
    expect(nodes.length).toBeGreaterThan(0);
    for (const n of nodes) {
      if (n.region !== null) expect(n.region.startsWith(STREET_A)).toBe(true);
      for (const read of n.reads) expect(read.minorId).not.toBe(childB);
    }
    expect(nodes.some((n: any) => n.userId === 'officer-b')).toBe(false);
    // Filtering for the other street's officer by name answers nothing.
    const byUser = await post(t, streetAuditor, { query: EVENTS, variables: { f: { userId: 'officer-b' } } }, {});
    expect(byUser.json.data.auditEvents.edges).toEqual([]);
  });

  it('answers another street’s child in minorAccessHistory exactly as an unknown id', async () => {
    const H = `query($id: ID!) { minorAccessHistory(minorId: $id) { userId fields { field } } }`;
    const outside = await post(t, streetAuditor, { query: H, variables: { id: childB } }, {});
    const unknown = await post(t, streetAuditor, { query: H, variables: { id: '00000000-0000-4000-8000-00000000abcd' } }, {});
    expect(outside.status).toBe(unknown.status);
    expect(outside.json.errors).toEqual(unknown.json.errors);
    const strip = (x: any[]) => x.map((m) => ({ ...m }));
    // Only the auditor's own earlier look-up of that id may appear, for either.
    expect(strip(outside.json.data.minorAccessHistory).every((m: any) => m.userId === 'auditor-a')).toBe(true);
    expect(strip(unknown.json.data.minorAccessHistory).every((m: any) => m.userId === 'auditor-a')).toBe(true);
    // The district auditor sees officer-b's read of child B.
    const district = await post(t, districtAuditor, { query: H, variables: { id: childB } }, {});
    expect(district.json.data.minorAccessHistory.some((m: any) => m.userId === 'officer-b')).toBe(true);
  });

  it('does not flag another street’s caller to a street auditor (anomalies are scoped)', async () => {
    // officer-b makes 6 refused requests (an officer reading the trail) → REPEATED_FORBIDDEN for a district auditor.
    for (let i = 0; i < 6; i++) await post(t, officerB, { query: `{ auditEvents(first: 1) { edges { cursor } } }` }, {});
    const A = `{ auditAnomalies { kind userId requestIds } }`;
    const district = await post(t, districtAuditor, { query: A }, {});
    expect(district.json.errors).toBeUndefined();
    expect(district.json.data.auditAnomalies.some((a: any) => a.userId === 'officer-b' && a.kind === 'REPEATED_FORBIDDEN')).toBe(true);
    const street = await post(t, streetAuditor, { query: A }, {});
    expect(street.json.errors).toBeUndefined();
    expect(street.json.data.auditAnomalies.some((a: any) => a.userId === 'officer-b')).toBe(false);
  });

  it('refuses the trail to officers, dashboards and reporters with a typed FORBIDDEN, audited', async () => {
    const dash = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, user: 'dash-1' });
    for (const tok of [officerA, dash]) {
      const r = await post(t, tok, { query: `query($id: ID!) { minorAccessHistory(minorId: $id) { userId } }`, variables: { id: childA } }, {});
      expect(r.json.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(JSON.stringify(r.json)).not.toMatch(LEAK);
      expect((await eventOf(t, r.requestId)).errorCodes).toContain('FORBIDDEN');
    }
  });

  it('audits the auditor’s own reads: a page with reads names each child as read of AuditEvent.reads', async () => {
    const r = await post(t, districtAuditor, { query: EVENTS, variables: { f: { userId: 'officer-a' }, first: 10 } }, {});
    expect(r.json.errors).toBeUndefined();
    const named = new Set<string>(r.json.data.auditEvents.edges.flatMap((e: any) => e.node.reads.map((x: any) => x.minorId)));
    expect(named.has(childA)).toBe(true);
    const ev = await eventOf(t, r.requestId);
    const mine = ev.reads.filter((x: any) => x.fields['AuditEvent.reads']).map((x: any) => x.minorId);
    expect(new Set(mine)).toEqual(named);
  });

  it.each([
    ['letters', 'abc'],
    ['negative', '-1'],
    ['19 digits', '9223372036854775807'],
    ['sql', "1; DROP TABLE audit.event"],
    ['empty', ''],
    ['spaces', ' 12'],
  ])('refuses a forged after cursor (%s) with BAD_USER_INPUT, no SQL text', async (_n, after) => {
    const r = await post(t, districtAuditor, { query: EVENTS, variables: { after } }, {});
    if (after === '') {
      // An empty cursor: either refused typed, or read as no cursor.
      expect(r.json.errors?.[0]?.extensions?.code ?? 'none').toMatch(/BAD_USER_INPUT|none/);
    } else {
      expect(r.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    expect(JSON.stringify(r.json)).not.toMatch(LEAK);
    const h = await post(t, districtAuditor, { query: `query($a: String) { minorAccessHistory(minorId: "${childA}", after: $a) { seq } }`, variables: { a: after } }, {});
    if (after !== '') expect(h.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(h.json)).not.toMatch(LEAK);
  });

  it.each([0, -1, 501, 2 ** 31 - 1])('refuses a page size of %p typed', async (first) => {
    const r = await post(t, districtAuditor, { query: EVENTS, variables: { first } }, {});
    expect(r.json.errors?.[0]?.extensions?.code).toMatch(/^(BAD_USER_INPUT|LIMIT_EXCEEDED)$/);
    expect(r.json.data?.auditEvents ?? null).toBeNull();
  });

  it.each([
    ['year -271821', '-271821-04-20T00:00:00.000Z'],
    ['year 275760', '+275760-09-13T00:00:00.000Z'],
    ['year 0', '0000-01-01T00:00:00.000Z'],
    ['not a date', '2026-13-45T00:00:00Z'],
  ])('answers an auditEvents time filter at the edge (%s) without an internal error', async (_n, when) => {
    for (const f of [{ from: when }, { to: when }]) {
      const r = await post(t, districtAuditor, { query: EVENTS, variables: { f, first: 1 } }, {});
      const codes = (r.json.errors ?? []).map((e: any) => e.extensions?.code);
      expect(codes).not.toContain('INTERNAL_SERVER_ERROR');
      expect(r.status).toBeLessThan(500);
      expect(JSON.stringify(r.json)).not.toMatch(LEAK);
    }
  });

  it.each([
    ['year -271821', '-271821-04-20T00:00:00.000Z', '-271821-04-21T00:00:00.000Z'],
    ['year 275760', '+275760-09-12T00:00:00.000Z', '+275760-09-13T00:00:00.000Z'],
  ])('answers auditAnomalies at the edge of time (%s) without an internal error', async (_n, from, to) => {
    const r = await post(t, districtAuditor, { query: `query($f: DateTimeISO, $t: DateTimeISO) { auditAnomalies(from: $f, to: $t) { kind } }`.replace(/DateTimeISO/g, await dateType()), variables: { f: from, t: to } }, {});
    const codes = (r.json.errors ?? []).map((e: any) => e.extensions?.code);
    expect(codes).not.toContain('INTERNAL_SERVER_ERROR');
    expect(r.status).toBeLessThan(500);
    expect(JSON.stringify(r.json)).not.toMatch(LEAK);
  });

  async function dateType(): Promise<string> {
    const r = await post(t, districtAuditor, { query: `{ __type(name: "AuditEventFilter") { inputFields { name type { name } } } }` }, {});
    return r.json.data.__type.inputFields.find((f: any) => f.name === 'from').type.name;
  }

  it('answers a very long filter.userId with nothing or a typed refusal', async () => {
    const r = await post(t, districtAuditor, { query: EVENTS, variables: { f: { userId: 'x'.repeat(100_000) } } }, {});
    if (r.json.errors) expect(r.json.errors[0].extensions.code).toMatch(/BAD_USER_INPUT|LIMIT_EXCEEDED/);
    else expect(r.json.data.auditEvents.edges).toEqual([]);
    expect(JSON.stringify(r.json)).not.toMatch(LEAK);
  });

  it('takes LIKE metacharacters in filters literally', async () => {
    for (const userId of ['%', 'officer-_', 'officer-%']) {
      const r = await post(t, districtAuditor, { query: EVENTS, variables: { f: { userId } } }, {});
      expect(r.json.errors).toBeUndefined();
      expect(r.json.data.auditEvents.edges).toEqual([]);
    }
  });

  const MINOR = `query($id: ID!) { minor(id: $id) { id } }`;

  it.each([
    ['missing', undefined],
    ['unknown code', 'NOSY'],
    ['reference too long', `CASE_HANDLING; ${'x'.repeat(201)}`],
    ['reference with a NUL', 'CASE_HANDLING; 2026%000042'],
    ['reference with a zero-width space', 'CASE_HANDLING; 2026%E2%80%8B0042'],
    ['reference with a bidi override', 'CASE_HANDLING; %E2%80%AE2400-6202'],
    ['reference with a C1 control', 'CASE_HANDLING; 2026\u00850042'],
    ['reference with a line separator', 'CASE_HANDLING; 2026%E2%80%A80042'],
    ['code only a semicolon', ';2026-0042'],
  ])('refuses a child read with a %s purpose, typed on x-purpose, and audits it', async (_n, purpose) => {
    const r = await post(t, officerA, { query: MINOR, variables: { id: childA } }, purpose === undefined ? {} : { 'x-purpose': purpose });
    expect([r.status, r.json.data, r.json.errors?.[0]?.extensions]).toEqual([400, undefined, { code: 'BAD_USER_INPUT', field: 'x-purpose' }]);
    const ev = await eventOf(t, r.requestId);
    expect(ev.errorCodes).toEqual(['BAD_USER_INPUT']);
    expect(ev.reads).toEqual([]);
  });

  it('records an accepted purpose faithfully, its reference exactly as declared (a percent-encoded one decoded)', async () => {
    const cases: [string, { code: string; reference?: string }][] = [
      ['CASE_HANDLING; 2026-0042', { code: 'CASE_HANDLING', reference: '2026-0042' }],
      ['screening', { code: 'SCREENING' }],
      // Not valid percent-encoding (a lone surrogate): kept as sent.
      ['CASE_HANDLING; 2026%ED%A0%800042', { code: 'CASE_HANDLING', reference: '2026%ED%A0%800042' }],
      ['CASE_HANDLING; 2026-%E6%B0%91-0042', { code: 'CASE_HANDLING', reference: '2026-民-0042' }],
      ['CASE_HANDLING; a;b', { code: 'CASE_HANDLING', reference: 'a;b' }],
      [`CASE_HANDLING; ${'y'.repeat(200)}`, { code: 'CASE_HANDLING', reference: 'y'.repeat(200) }],
    ];
    for (const [header, recorded] of cases) {
      const r = await post(t, officerA, { query: MINOR, variables: { id: childA } }, { 'x-purpose': header });
      expect(r.json.errors).toBeUndefined();
      expect((await eventOf(t, r.requestId)).purpose).toEqual(recorded);
    }
  });

  it('records a purpose reference in NFD and its NFC twin alike (or refuses the NFD one), as user ids are held to NFC', async () => {
    // "José" precomposed and decomposed: an auditor reads both as the same reference.
    const nfc = await post(t, officerA, { query: MINOR, variables: { id: childA } }, { 'x-purpose': `CASE_HANDLING; ${encodeURIComponent('José-1')}` });
    const nfd = await post(t, officerA, { query: MINOR, variables: { id: childA } }, { 'x-purpose': `CASE_HANDLING; ${encodeURIComponent('Jose\u0301-1')}` });
    const a = (await eventOf(t, nfc.requestId)).purpose;
    const b = nfd.status === 400 ? null : (await eventOf(t, nfd.requestId)).purpose;
    // Either refused (as a user id not in NFC is) or stored as the same text.
    if (b !== null) expect(b).toEqual(a);
  });

  it('keeps child field values out of the events an auditor reads (names only, literals blanked)', async () => {
    const SECRET_NAME = '红队秘密名';
    const SECRET_PHONE = '13912345678';
    const civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'civil-values' });
    const w = await post(t, civil, {
      query: `mutation($id: ID!, $p: String) { addGuardian(minorId: $id, input: { relationship: OTHER_RELATIVE, name: "${SECRET_NAME}", phone: $p, situation: NORMAL }) { id name phone } }`,
      variables: { id: childA, p: SECRET_PHONE },
    });
    expect(w.json.errors).toBeUndefined();
    const idNumber = (await t.sql(`SELECT trim(id_number) AS n FROM registry.minor WHERE id = $1`, [childA]))[0].n;
    const look = await post(t, civil, { query: `{ minorByIdNumber(idNumber: "${idNumber}") { id name } }` });
    expect(look.json.errors).toBeUndefined();
    const Q = `query($r: ID) { auditEvents(filter: { requestId: $r }) { edges { node { document operationName variableNames purpose { code reference } errorCodes reads { minorId fields { field access } } changes { mutation id minorId fields } } } } }`;
    for (const rid of [w.requestId, look.requestId]) {
      const r = await post(t, districtAuditor, { query: Q, variables: { r: rid } }, {});
      expect(r.json.errors).toBeUndefined();
      expect(r.json.data.auditEvents.edges.length).toBeGreaterThan(0);
      const text = JSON.stringify(r.json);
      expect(text).not.toContain(SECRET_NAME);
      expect(text).not.toContain(SECRET_PHONE);
      expect(text).not.toContain(idNumber);
      const raw = JSON.stringify(await t.sql(`SELECT body FROM audit.event WHERE request_id = $1`, [rid]));
      expect(raw).not.toContain(SECRET_NAME);
      expect(raw).not.toContain(SECRET_PHONE);
      expect(raw).not.toContain(idNumber);
    }
  });

  it('answers auditEvents filtered by another street’s child exactly as by an unknown id, and records the look-up', async () => {
    const Q = `query($id: ID!) { auditEvents(filter: { minorId: $id }) { edges { node { userId } } pageInfo { hasNextPage } } }`;
    const outside = await post(t, streetAuditor, { query: Q, variables: { id: childB } }, {});
    const unknown = await post(t, streetAuditor, { query: Q, variables: { id: '00000000-0000-4000-8000-00000000abce' } }, {});
    const users = (r: any) => r.json.data.auditEvents.edges.map((e: any) => e.node.userId).filter((u: string) => u !== 'auditor-a');
    expect(users(outside)).toEqual(users(unknown));
    expect(users(outside)).toEqual([]);
    const ev = await eventOf(t, outside.requestId);
    expect(ev.reads.map((x: any) => x.minorId)).toEqual([childB]);
  });

  it('records the auditor’s read of changes as AuditEvent.changes of that child', async () => {
    const civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'civil-changes' });
    const w = await post(t, civil, { query: `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: OTHER_RELATIVE, name: "变更", situation: NORMAL }) { id } }`, variables: { id: childA } });
    expect(w.json.errors).toBeUndefined();
    const r = await post(t, districtAuditor, { query: `query($r: ID) { auditEvents(filter: { requestId: $r }) { edges { node { changes { minorId } } } } }`, variables: { r: w.requestId } }, {});
    expect(r.json.errors).toBeUndefined();
    const ev = await eventOf(t, r.requestId);
    expect(ev.reads).toEqual([{ minorId: childA, fields: { 'AuditEvent.changes': 'ALLOW' } }]);
  });

  it('flags a data officer who reviews a bulk read as MANY_CHILDREN to another data officer', async () => {
    const bulk = await t.token(Department.CIVIL_AFFAIRS, { user: 'bulk-reader' });
    const b = await post(t, bulk, { query: `{ minors(first: 50) { edges { node { id } } } }` });
    expect(b.json.errors).toBeUndefined();
    expect(b.json.data.minors.edges.length).toBe(50);
    const reviewer = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, user: 'auditor-reviewer' });
    const r = await post(t, reviewer, { query: `query($r: ID) { auditEvents(filter: { requestId: $r }) { edges { node { reads { minorId } } } } }`, variables: { r: b.requestId } }, {});
    expect(r.json.errors).toBeUndefined();
    const a = await post(t, districtAuditor, { query: `{ auditAnomalies { kind userId count } }` }, {});
    expect(a.json.data.auditAnomalies).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'MANY_CHILDREN', userId: 'auditor-reviewer' })]));
  });

  it('treats two x-purpose headers as malformed or as the first, never a reference stitched from both', async () => {
    const res = await fetch(t.hub.url, {
      method: 'POST',
      headers: [
        ['content-type', 'application/json'],
        ['authorization', `Bearer ${officerA}`],
        ['x-purpose', 'CASE_HANDLING; 2026-1'],
        ['x-purpose', 'SCREENING'],
      ],
      body: JSON.stringify({ query: MINOR, variables: { id: childA } }),
    });
    const json: any = await res.json();
    const rid = res.headers.get('x-request-id')!;
    // fetch joins the two into one `x-purpose: CASE_HANDLING; 2026-1, SCREENING`, as a proxy may.
    expect(res.status).toBe(400);
    expect(json.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'x-purpose' });
    expect(json.data).toBeUndefined();
    expect((await eventOf(t, rid)).reads).toEqual([]);
  });

  it('refuses two x-purpose header lines sent as such, in either order, with no read', async () => {
    const body = JSON.stringify({ query: MINOR, variables: { id: childA } });
    for (const [first, second] of [['CASE_HANDLING; 2026-1', 'SCREENING'], ['SCREENING', 'CASE_HANDLING']]) {
      const raw = await exchange(Number(new URL(t.hub.url).port), [
        `POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\nauthorization: Bearer ${officerA}\r\n` +
          `x-purpose: ${first}\r\nx-purpose: ${second}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      ]);
      const text = raw.toString();
      expect(text.startsWith('HTTP/1.1 400')).toBe(true);
      expect(text).toContain('"field":"x-purpose"');
      expect(text).toContain('declare one purpose');
      const rid = /x-request-id: (\S+)/i.exec(text)![1];
      expect((await eventOf(t, rid)).reads).toEqual([]);
    }
  });

  it('does not name another street’s child in a street reporter’s event (the street auditor cannot tell it is registered)', async () => {
    const [child] = await t.sql(`SELECT id, trim(id_number) AS id_number, grid_code FROM registry.minor WHERE grid_code LIKE '${STREET_B}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 2 LIMIT 1`);
    const reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, region: STREET_A, user: 'teacher-a' });
    const filed = await post(
      t,
      reporter,
      { query: `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`, variables: { input: { harmType: 'PHYSICAL_ABUSE', observation: '淤青', location: '教室', regionCode: child.grid_code, urgency: 'URGENT', childIdNumber: child.id_number } } },
      {},
    );
    const stored = await t.sql(`SELECT region, minor_ids::text[] AS ids FROM audit.event WHERE request_id = $1`, [filed.requestId]);
    for (const e of stored) expect(e.ids).not.toContain(child.id);
    const H = `query($id: ID!) { minorAccessHistory(minorId: $id) { userId } }`;
    const seen = await post(t, streetAuditor, { query: H, variables: { id: child.id } }, {});
    expect(seen.json.data.minorAccessHistory.filter((m: any) => m.userId !== 'auditor-a')).toEqual([]);
  });

  it('never records a user id taken from a token that fails its signature', async () => {
    const good = officerA.split('.');
    const payload = JSON.parse(Buffer.from(good[1], 'base64url').toString());
    payload.sub = 'framed-user';
    const forged = [good[0], Buffer.from(JSON.stringify(payload)).toString('base64url'), good[2]].join('.');
    const r = await post(t, forged, { query: `{ regions { code } }` }, {});
    expect(r.status).toBe(401);
    const rows = await storedEventOf(t, r.requestId);
    expect(rows.userId ?? null).not.toBe('framed-user');
    expect(rows.userId ?? null).not.toBe('officer-a');
  });

  it.each([
    ['trailing space', 'officer-a '],
    ['zero-width joiner', 'officer\u200d-a'],
    ['Cyrillic o', '\u043efficer-a'],
    ['hub prefix', 'hub:webhook-delivery'],
    ['NFD', 'Jose\u0301'],
    ['fullwidth hub', '\uff48\uff55\uff42:x'],
  ])('refuses a token whose user id looks like another (%s), audited without that id', async (_n, user) => {
    const tok = await t.token(Department.CIVIL_AFFAIRS, { user, region: STREET_A });
    const r = await post(t, tok, { query: `{ regions { code } }` }, {});
    expect(r.status).toBe(401);
    const ev = await storedEventOf(t, r.requestId);
    expect(ev.userId ?? null).not.toBe(user);
  });

  it.each([['%'], ['3301'], ['_________'], ['330102%']])('refuses (or scopes to nothing) an auditor token whose region %p is no region of the tree', async (region) => {
    let tok: string;
    try {
      tok = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region, user: 'auditor-odd' });
    } catch {
      return; // refused at signing
    }
    const r = await post(t, tok, { query: EVENTS, variables: { f: { userId: 'officer-b' } } }, {});
    if (r.status === 200 && r.json.data?.auditEvents) expect(r.json.data.auditEvents.edges).toEqual([]);
    else expect(r.status).toBeGreaterThanOrEqual(400);
  });

  it.each([
    ['Hangul filler', 'CASE_HANDLING; 2026%E3%85%A40042'],
    ['blank braille', 'CASE_HANDLING; 2026%E2%A0%800042'],
    ['variation selector', 'CASE_HANDLING; 2026%EF%B8%8F0042'],
    ['BOM inside', 'CASE_HANDLING; 2026%EF%BB%BF0042'],
    ['tag letter', 'CASE_HANDLING; 2026%F3%A0%81%810042'],
    ['halfwidth Hangul filler', 'CASE_HANDLING; 2026%EF%BE%A00042'],
    ['Hangul choseong filler', 'CASE_HANDLING; 2026%E1%85%9F0042'],
    ['musical null notehead', 'CASE_HANDLING; 2026%F0%9D%85%990042'],
    ['Khitan filler', 'CASE_HANDLING; 2026%F0%96%BF%A40042'],
    ['soft hyphen', 'CASE_HANDLING; 2026%C2%AD0042'],
    ['combining grapheme joiner', 'CASE_HANDLING; 2026%CD%8F0042'],
    ['variation selector 17', 'CASE_HANDLING; 2026%F3%A0%84%800042'],
    ['Hangul jungseong filler', 'CASE_HANDLING; 2026%E1%85%A00042'],
    ['Mongolian FVS', 'CASE_HANDLING; 2026%E1%A0%8B0042'],
    ['word joiner', 'CASE_HANDLING; 2026%E2%81%A00042'],
  ])('refuses a purpose reference with an unseen character (%s)', async (_n, purpose) => {
    const r = await post(t, officerA, { query: MINOR, variables: { id: childA } }, { 'x-purpose': purpose });
    expect([r.status, r.json.errors?.[0]?.extensions]).toEqual([400, { code: 'BAD_USER_INPUT', field: 'x-purpose' }]);
  });

  it('refuses or records faithfully a malformed purpose on a request that needs none', async () => {
    const r = await post(t, districtAuditor, { query: `{ regions { code } }` }, { 'x-purpose': 'NOSY; x' });
    if (r.status === 400) expect(r.json.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'x-purpose' });
    else expect((await eventOf(t, r.requestId)).purpose ?? null).toBeNull();
  });
  it('ignores a request id the client sends, and finds a request by its id in capitals', async () => {
    const forced = '01900000-0000-7000-8000-000000000001';
    const r1 = await post(t, officerA, { query: MINOR, variables: { id: childA } }, { 'x-purpose': 'CASE_HANDLING', 'x-request-id': forced });
    expect(r1.requestId).not.toBe(forced);
    const q = `query($r: ID) { auditEvents(filter: { requestId: $r }) { edges { node { userId } } } }`;
    const lower = await post(t, districtAuditor, { query: q, variables: { r: r1.requestId } }, {});
    const upper = await post(t, districtAuditor, { query: q, variables: { r: r1.requestId.toUpperCase() } }, {});
    expect(lower.json.data.auditEvents.edges).toEqual([{ node: { userId: 'officer-a' } }]);
    expect(upper.json.data.auditEvents.edges).toEqual(lower.json.data.auditEvents.edges);
    const byForced = await post(t, districtAuditor, { query: q, variables: { r: forced } }, {});
    expect(byForced.json.data.auditEvents.edges).toEqual([]);
  });

  it.each([
    ['userId NUL', { userId: 'officer-a\u0000' }],
    ['department NUL', { department: 'CIVIL_AFFAIRS\u0000' }],
    ['userId lone surrogate', { userId: 'officer-\ud800' }],
    ['minorId NUL', { minorId: '\u0000' }],
    ['requestId not uuid', { requestId: 'abc' }],
  ])('refuses a filter holding what the trail cannot (%s) typed, no database text', async (_n, f) => {
    const r = await post(t, districtAuditor, { query: EVENTS, variables: { f } }, {});
    expect(r.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(r.json)).not.toMatch(LEAK);
  });
  it('pages the trail and a child’s history without skipping or repeating an event', async () => {
    const all = await post(t, streetAuditor, { query: `{ auditEvents(first: 500) { edges { cursor } pageInfo { hasNextPage } } }` }, {});
    const full: string[] = all.json.data.auditEvents.edges.map((e: any) => e.cursor);
    expect(all.json.data.auditEvents.pageInfo.hasNextPage).toBe(false);
    const paged: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 200; i++) {
      const r: any = await post(t, streetAuditor, { query: `query($a: String) { auditEvents(first: 3, after: $a) { edges { cursor } pageInfo { hasNextPage endCursor } } }`, variables: { a: after } }, {});
      expect(r.json.errors).toBeUndefined();
      paged.push(...r.json.data.auditEvents.edges.map((e: any) => e.cursor));
      if (!r.json.data.auditEvents.pageInfo.hasNextPage) break;
      after = r.json.data.auditEvents.pageInfo.endCursor;
    }
    // The paging requests add events of their own, newer than the first page's: every event of `full` is seen once.
    const older = paged.filter((c) => full.includes(c));
    expect(older).toEqual(full);
    expect(new Set(paged).size).toBe(paged.length);

    const H = `query($id: ID!, $a: String) { minorAccessHistory(minorId: $id, first: 2, after: $a) { seq userId } }`;
    const whole = await post(t, districtAuditor, { query: `query($id: ID!) { minorAccessHistory(minorId: $id) { seq } }`, variables: { id: childA } }, {});
    const seqs: string[] = whole.json.data.minorAccessHistory.map((m: any) => m.seq);
    const got: string[] = [];
    let a: string | null = null;
    for (let i = 0; i < 200; i++) {
      const r: any = await post(t, districtAuditor, { query: H, variables: { id: childA, a } }, {});
      const page = r.json.data.minorAccessHistory;
      got.push(...page.map((m: any) => m.seq));
      if (page.length < 2) break;
      a = page[page.length - 1].seq;
    }
    expect(got.filter((x) => seqs.includes(x))).toEqual(seqs);
    expect(new Set(got).size).toBe(got.length);
  });

  it('records the purpose a REFERRAL request declared when its reference is refused', async () => {
    const edu = await t.token(Department.EDUCATION, { region: STREET_A, user: 'edu-a' });
    const ref = '00000000-0000-4000-8000-00000000dead';
    const r = await post(t, edu, { query: MINOR, variables: { id: childA } }, { 'x-purpose': `REFERRAL; ${ref}` });
    expect([r.status, r.json.errors?.[0]?.extensions]).toEqual([400, { code: 'BAD_USER_INPUT', field: 'x-purpose' }]);
    const ev = await eventOf(t, r.requestId);
    expect(ev.purpose).toEqual({ code: 'REFERRAL', reference: ref });
    expect(ev.reads).toEqual([]);
  });

  it('never names another street’s child in a street officer’s event when the officer asks for it (reads and writes)', async () => {
    const [b] = await t.sql(`SELECT id, trim(id_number) AS n FROM registry.minor WHERE grid_code LIKE '${STREET_B}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 4 LIMIT 1`);
    const calls: [string, Record<string, unknown>][] = [
      [`query($id: ID!) { minor(id: $id) { id name } }`, { id: b.id }],
      [`query($n: String!) { minorByIdNumber(idNumber: $n) { id } }`, { n: b.n }],
      [`mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: OTHER_RELATIVE, name: "越界", situation: NORMAL }) { id } }`, { id: b.id }],
      [`mutation($id: ID!) { updateMinor(id: $id, input: { school: "越界小学" }) { id } }`, { id: b.id }],
      [`mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, { i: { minorId: b.id, type: 'EDUCATION_AID', toDepartment: 'EDUCATION', need: '越界' } }],
    ];
    for (const [query, variables] of calls) {
      const r = await post(t, officerA, { query, variables });
      await eventOf(t, r.requestId);
      const rows = await t.sql(`SELECT minor_ids::text[] AS ids, body FROM audit.event WHERE request_id = $1`, [r.requestId]);
      for (const row of rows) {
        expect(row.ids).not.toContain(b.id);
        expect(row.body).not.toContain(b.id);
      }
      expect(JSON.stringify(r.json)).not.toMatch(LEAK);
    }
    const H = `query($id: ID!) { minorAccessHistory(minorId: $id) { userId } }`;
    const seen = await post(t, streetAuditor, { query: H, variables: { id: b.id } }, {});
    expect(seen.json.data.minorAccessHistory.filter((m: any) => m.userId !== 'auditor-a')).toEqual([]);
  });

});

describe('an auditor’s reads recorded with every subgraph served alone (redteam13)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startDistributedTestHub();
  });
  afterAll(() => t.stop());

  it('records a look-up by minorId, the reads and the changes an auditor is answered', async () => {
    const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, user: 'auditor-d' });
    const civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'civil-d' });
    const [{ id: child }] = await t.sql(`SELECT id FROM registry.minor WHERE registry.is_minor(birth_date, now()) ORDER BY id LIMIT 1`);
    const w = await post(t, civil, { query: `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: OTHER_RELATIVE, name: "远程", situation: NORMAL }) { id name } }`, variables: { id: child } });
    expect(w.json.errors).toBeUndefined();
    const r = await post(t, auditor, { query: `query($r: ID) { auditEvents(filter: { requestId: $r }) { edges { node { outcome reads { minorId } changes { minorId } } } } }`, variables: { r: w.requestId } }, {});
    expect(r.json.errors).toBeUndefined();
    const ev = await eventOf(t, r.requestId);
    expect(ev.reads).toEqual([{ minorId: child, fields: { 'AuditEvent.changes': 'ALLOW', 'AuditEvent.reads': 'ALLOW' } }]);
    const h = await post(t, auditor, { query: `query($id: ID!) { minorAccessHistory(minorId: $id, first: 5) { userId } }`, variables: { id: child.toUpperCase() } }, {});
    expect(h.json.errors).toBeUndefined();
    expect((await eventOf(t, h.requestId)).reads).toEqual([{ minorId: child, fields: { 'Query.minorAccessHistory': 'ALLOW' } }]);
  });

  it('scopes a street auditor to the street, remotely too', async () => {
    const officerB = await t.token(Department.CIVIL_AFFAIRS, { region: STREET_B, user: 'officer-b-d' });
    const [{ id: childB }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET_B}%' AND registry.is_minor(birth_date, now()) ORDER BY id LIMIT 1`);
    const read = await post(t, officerB, { query: `query($id: ID!) { minor(id: $id) { id } }`, variables: { id: childB } });
    expect(read.json.errors).toBeUndefined();
    for (let i = 0; i < 6; i++) await post(t, officerB, { query: `{ auditEvents(first: 1) { edges { cursor } } }` }, {});
    const street = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: STREET_A, user: 'auditor-a-d' });
    const e = await post(t, street, { query: `{ auditEvents(first: 500) { edges { node { userId region } } } }` }, {});
    expect(e.json.errors).toBeUndefined();
    for (const { node } of e.json.data.auditEvents.edges) if (node.region !== null) expect(node.region.startsWith(STREET_A)).toBe(true);
    const h = await post(t, street, { query: `query($id: ID!) { minorAccessHistory(minorId: $id) { userId } }`, variables: { id: childB } }, {});
    expect(h.json.data.minorAccessHistory.filter((m: any) => m.userId !== 'auditor-a-d')).toEqual([]);
    const a = await post(t, street, { query: `{ auditAnomalies { userId } }` }, {});
    expect(a.json.data.auditAnomalies.filter((x: any) => x.userId === 'officer-b-d')).toEqual([]);
    const v = await post(t, street, { query: `{ auditVerify { ok events } }` }, {});
    expect(v.json.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(v.json.data?.auditVerify ?? null).toBeNull();
  });
});
