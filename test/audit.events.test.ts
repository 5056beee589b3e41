import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { auditEvent, outcomeOf } from '../src/audit/audit-event';
import { AuditOutcome, type AuditEventBody } from '../src/audit/audit.types';
import { Access } from '../src/policy/policy.types';
import { eventCount, eventOf, eventsOf, post, storedEventOf } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

/** Every request leaves one event with what was served, to whom, and why; a mutation a STARTED event before it. */
describe('audit events', () => {
  let t: TestHub;
  let minor: { id: string; id_number: string };
  let police: string;
  let education: string;

  beforeAll(async () => {
    const hour = new Date().getUTCHours();
    t = await startTestHub({
      env: {
        HUB_ANOMALY_DISTINCT_MINORS: '5',
        HUB_ANOMALY_FORBIDDEN_ATTEMPTS: '3',
        HUB_ANOMALY_UNUSUAL_PURPOSE_SHARE: '0.1',
        HUB_ANOMALY_UTC_OFFSET: '0',
        // Working hours that exclude the current hour, so every read now is "off hours".
        HUB_ANOMALY_WORKING_HOURS: hour < 12 ? '13-14' : '1-2',
      },
    });
    [minor] = await t.sql(`SELECT id, id_number FROM registry.minor ORDER BY id LIMIT 1`);
    police = await t.token(Department.POLICE, { user: 'officer-li' });
    education = await t.token(Department.EDUCATION, { user: 'teacher-wang' });
  });
  afterAll(() => t.stop());

  async function exactlyOne<T>(action: () => Promise<T>): Promise<T> {
    const before = await eventCount(t);
    const result = await action();
    expect(await eventCount(t)).toBe(before + 1);
    return result;
  }

  it('records a successful read with caller, operation, purpose and the fields served per child', async () => {
    const r = await exactlyOne(() =>
      post(t, police, { query: `query Lookup($id: ID!) { minor(id: $id) { name idNumber guardians { phone } } }`, variables: { id: minor.id }, operationName: 'Lookup' }, { 'x-purpose': 'CASE_HANDLING; 2026-0042' }),
    );
    expect(r.status).toBe(200);
    const e = await eventOf(t, r.requestId);
    expect(e).toMatchObject({
      userId: 'officer-li',
      department: 'POLICE',
      role: 'OFFICER',
      region: '330102',
      operationName: 'Lookup',
      operationType: 'query',
      outcome: 'SUCCESS',
      errorCodes: [],
      purpose: { code: 'CASE_HANDLING', reference: '2026-0042' },
      changes: [],
    });
    expect(e.clientAddress).toMatch(/127\.0\.0\.1|::1/);
    expect(e.documentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(e.durationMs).toBeGreaterThan(0);
    expect(e.reads).toEqual([{ minorId: minor.id, fields: { 'Minor.name': 'ALLOW', 'Minor.idNumber': 'ALLOW', 'Minor.guardians': 'ALLOW', 'Guardian.phone': 'ALLOW' } }]);
  });

  it('marks masked and denied fields as such (PARTIAL) for each child actually returned', async () => {
    const r = await exactlyOne(() => post(t, education, { query: `{ minors(first: 3) { edges { node { id idNumber birthDate age } } } }` }));
    expect(r.json.data.minors.edges).toHaveLength(3);
    const e = await eventOf(t, r.requestId);
    expect(e.outcome).toBe('PARTIAL');
    expect(e.errorCodes).toEqual(['FORBIDDEN']);
    const ids = r.json.data.minors.edges.map((x: any) => x.node.id).sort();
    expect(e.reads.map((x: any) => x.minorId)).toEqual(ids);
    for (const read of e.reads) {
      expect(read.fields).toEqual({ 'MinorEdge.node': 'ALLOW', 'Minor.id': 'ALLOW', 'Minor.idNumber': 'MASK', 'Minor.birthDate': 'DENY', 'Minor.age': 'ALLOW' });
    }
  });

  it('records an answer that carried data as PARTIAL, though a field failed beside it', async () => {
    const rows = await t.sql(`SELECT minor_id FROM registry.guardian WHERE minor_id IN (SELECT id FROM registry.minor ORDER BY id LIMIT 3) ORDER BY minor_id LIMIT 1`);
    const [guardian] = await t.sql(`SELECT id, relationship FROM registry.guardian WHERE minor_id = $1 LIMIT 1`, [rows[0].minor_id]);
    // A value the schema's enum does not know fails that one field (a masked internal error).
    await t.sql(`UPDATE registry.guardian SET relationship = 'NOT_A_RELATIONSHIP' WHERE id = $1`, [guardian.id]);
    try {
      const police = await t.token(Department.POLICE);
      const r = await post(t, police, { query: `{ minors(first: 3) { edges { node { id name guardians { relationship } } } } }` });
      expect(r.json.data.minors.edges.map((x: any) => x.node.name).every(Boolean)).toBe(true);
      expect(r.json.errors.map((x: any) => x.extensions.code)).toContain('INTERNAL_SERVER_ERROR');
      const e = await eventOf(t, r.requestId);
      expect([e.outcome, e.reads.map((x: any) => x.minorId).sort()]).toEqual(['PARTIAL', r.json.data.minors.edges.map((x: any) => x.node.id).sort()]);
    } finally {
      await t.sql(`UPDATE registry.guardian SET relationship = $2 WHERE id = $1`, [guardian.id, guardian.relationship]);
    }
  });

  it('stores the children a request read alike in one entry, and indexes every one of them', async () => {
    const r = await post(t, education, { query: `{ minors(first: 4) { edges { node { id idNumber } } } }` });
    const ids = r.json.data.minors.edges.map((x: any) => x.node.id).sort();
    expect(ids).toHaveLength(4);
    const stored = await storedEventOf(t, r.requestId);
    expect(stored.reads).toEqual([{ fields: { 'Minor.id': 'ALLOW', 'Minor.idNumber': 'MASK', 'MinorEdge.node': 'ALLOW' }, minorIds: ids }]);
    const [row] = await t.sql(`SELECT minor_ids FROM audit.event WHERE request_id = $1`, [r.requestId]);
    expect([...row.minor_ids].sort()).toEqual(ids);
  });

  it('treats a page’s cursors as the children they name: a purpose is required, and each child is recorded', async () => {
    const cursors = `{ minors(first: 3) { edges { cursor } pageInfo { endCursor } } }`;
    const refused = await exactlyOne(() => post(t, education, { query: cursors }, {}));
    expect([refused.status, refused.json.data, refused.json.errors[0].extensions.field]).toEqual([400, undefined, 'x-purpose']);
    const r = await post(t, education, { query: cursors });
    expect(r.json.errors).toBeUndefined();
    const ids = r.json.data.minors.edges.map((x: any) => Buffer.from(x.cursor, 'base64url').toString().replace(/^minor:/, ''));
    expect(ids).toHaveLength(3);
    const e = await eventOf(t, r.requestId);
    expect(e.reads.map((x: any) => x.minorId)).toEqual([...ids].sort());
    for (const read of e.reads) {
      const last = read.minorId === ids[2];
      expect(read.fields).toEqual({ 'MinorEdge.cursor': 'ALLOW', ...(last ? { 'PageInfo.endCursor': 'ALLOW' } : {}) });
    }
    // A count names no child: no purpose needed, nobody recorded.
    const count = await post(t, education, { query: `{ minors(first: 3) { totalCount } }` }, {});
    expect(count.json.errors).toBeUndefined();
    expect((await eventOf(t, count.requestId)).reads).toEqual([]);
  });

  it('records a child whose record is returned with nothing of it selected but __typename: its existence was told', async () => {
    const [byNumber] = await t.sql(`SELECT id, trim(id_number) AS n FROM registry.minor ORDER BY id DESC LIMIT 1`);
    const r = await post(t, police, {
      query: `query($id: ID!, $n: String!, $none: ID!) { a: minor(id: $id) { __typename } b: minorByIdNumber(idNumber: $n) { __typename } c: minor(id: $none) { __typename } }`,
      variables: { id: minor.id, n: byNumber.n, none: randomUUID() },
    });
    expect(r.json).toEqual({ data: { a: { __typename: 'Minor' }, b: { __typename: 'Minor' }, c: null } });
    const e = await eventOf(t, r.requestId);
    // The look-up by number also tells that the child holds it (a filter on it): recorded as its read.
    const told = (minorId: string) => (minorId === byNumber.id ? { 'Minor.idNumber': 'ALLOW' } : { 'Minor.__typename': 'ALLOW' });
    expect(e.reads).toEqual([minor.id, byNumber.id].sort().map((minorId) => ({ minorId, fields: told(minorId) })));
    // A page's nodes alike; a child with a field read is recorded with that field only.
    const page = await post(t, education, { query: `{ minors(first: 2) { edges { __typename } } one: minors(first: 1) { edges { node { id } } } }` });
    const ids: string[] = (await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 2`)).map((x) => x.id);
    const reads = (await eventOf(t, page.requestId)).reads;
    expect(reads).toEqual([
      { minorId: ids[0], fields: { 'MinorEdge.node': 'ALLOW', 'Minor.id': 'ALLOW' } },
      { minorId: ids[1], fields: { 'MinorEdge.__typename': 'ALLOW' } },
    ]);
  });

  it('records the child of a record a mutation loaded and then refused: the refusal told of the record', async () => {
    const civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'refused-writer' });
    const [{ id: child }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id OFFSET 50 LIMIT 1`);
    // An assessment dated before birth: the answer says the child exists (an unknown id is NOT_FOUND).
    const r = await post(t, civil, { query: `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: BLUE, reasons: "r", assessedAt: "1990-01-01T00:00:00Z" }) { level } }`, variables: { id: child } });
    expect(r.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    // …and bounds its birth date: the field the refusal states is recorded as read.
    expect((await eventOf(t, r.requestId)).reads).toEqual([{ minorId: child, fields: { 'Minor.birthDate': 'ALLOW' } }]);
    // A step the state machine refuses tells the report's status.
    const reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'refused-reporter' });
    const [{ grid_code: grid }] = await t.sql(`SELECT grid_code FROM registry.minor WHERE id = $1`, [child]);
    const filed = await t.gql(reporter, `mutation($i: FileReportInput!) { fileMandatoryReport(input: $i) { id } }`, { i: { harmType: 'NEGLECT', observation: 'o', location: 'l', regionCode: grid, urgency: 'NORMAL', childId: child } }, {});
    const step = await post(t, police, { query: `mutation($id: ID!) { transitionReport(id: $id, to: CLOSED, note: "n") { id } }`, variables: { id: filed.data.fileMandatoryReport.id } });
    expect(step.json.errors[0].message).toMatch(/RECEIVED report cannot become CLOSED/);
    expect((await eventOf(t, step.requestId)).reads).toEqual([{ minorId: child, fields: { 'MandatoryReport.status': 'ALLOW' } }]);
  });

  it('records a change made under a referral’s purpose about another child as PARTIAL, its answer withheld: never DENIED', async () => {
    // The purpose binds reads to the referral's child (docs/workflows.md): the mutation commits, and
    // its answer, which names the other child, is withheld.
    const civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'director-zhao', region: '330102001' });
    const [a, b] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 2`);
    const made = await t.gql(civil, `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`, {
      input: { minorId: a.id, type: 'EDUCATION_AID', toDepartment: Department.EDUCATION, need: '家庭困难，需要帮扶' },
    });
    expect(made.errors).toBeUndefined();
    const referral = made.data.createReferral.id;
    const enrolments = async () => (await t.sql(`SELECT id FROM education.school_enrollment WHERE minor_id = $1`, [b.id])).map((r) => r.id);
    const before = await enrolments();
    const r = await post(
      t,
      education,
      {
        query: `mutation($m: ID!, $i: SchoolEnrollmentInput!) { createSchoolEnrollment(minorId: $m, input: $i) { id } }`,
        variables: { m: b.id, i: { school: '第一小学', grade: 3, status: 'ENROLLED', enrolledOn: '2026-09-01' } },
      },
      { 'x-purpose': `REFERRAL; ${referral}` },
    );
    expect([r.status, r.json.data, r.json.errors.map((x: any) => x.extensions.code)]).toEqual([403, undefined, ['FORBIDDEN']]);
    const created = (await enrolments()).filter((id) => !before.includes(id));
    expect(created).toHaveLength(1);
    const e = await storedEventOf(t, r.requestId);
    expect([e.outcome, e.errorCodes, e.purpose, e.changes.map((c: any) => [c.mutation, c.id, c.minorId])]).toEqual([
      'PARTIAL',
      ['FORBIDDEN'],
      { code: 'REFERRAL', reference: referral },
      [['createSchoolEnrollment', created[0], b.id]],
    ]);
  });

  it('records a fully refused request as DENIED', async () => {
    const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR });
    const r = await exactlyOne(() => post(t, auditor, { query: `{ minors(first: 1) { totalCount } }` }));
    expect(errorCodes({ status: r.status, ...r.json })).toEqual(['FORBIDDEN']);
    expect((await eventOf(t, r.requestId)).outcome).toBe('DENIED');
  });

  it('records an unauthenticated request', async () => {
    const r = await exactlyOne(() => post(t, null, { query: `{ regions { code } }` }));
    expect(r.status).toBe(401);
    const e = await eventOf(t, r.requestId);
    expect(e).toMatchObject({ outcome: 'UNAUTHENTICATED', userId: null, errorCodes: ['UNAUTHENTICATED'] });
  });

  it('records parse and validation errors as INVALID', async () => {
    for (const query of ['{ minors(first: 1) { totalCount }', '{ minors(first: 1) { nope } }']) {
      const r = await exactlyOne(() => post(t, police, { query }));
      const e = await eventOf(t, r.requestId);
      expect(e.outcome).toBe('INVALID');
      expect(e.userId).toBe('officer-li');
    }
  });

  it('records requests over a limit: body too large, selection too deep', async () => {
    const big = await exactlyOne(() => post(t, police, JSON.stringify({ query: `{ regions { code } }`, variables: { pad: 'x'.repeat(1_100_000) } })));
    expect(big.status).toBe(413);
    expect((await eventOf(t, big.requestId)).outcome).toBe('LIMIT_EXCEEDED');
    const deep = `{ regions { children { children { children { children { children { children { children { children { children { children { children { children { code } } } } } } } } } } } } } }`;
    const r = await exactlyOne(() => post(t, police, { query: deep }));
    expect(r.json.errors[0].extensions.code).toBe('LIMIT_EXCEEDED');
    expect((await eventOf(t, r.requestId)).outcome).toBe('LIMIT_EXCEEDED');
  });

  it('refuses a body it cannot read (unsupported charset or encoding) as JSON with its status, and records it', async () => {
    for (const [headers, status] of [
      [{ 'x-purpose': 'CASE_HANDLING', 'content-type': 'application/json; charset=latin1' }, 415],
      [{ 'x-purpose': 'CASE_HANDLING', 'content-encoding': 'br2' }, 415],
    ] as const) {
      const r = await exactlyOne(() => post(t, police, { query: `{ regions { code } }` }, headers));
      expect([r.status, r.json?.errors?.[0]?.extensions]).toEqual([status, { code: 'BAD_USER_INPUT' }]);
      expect(r.json.errors[0].message).toMatch(/^Request body cannot be read: unsupported (charset|content encoding)/);
      expect((await eventOf(t, r.requestId)).outcome).toBe('INVALID');
    }
  });

  it('records a request Apollo refuses before running it', async () => {
    const r = await exactlyOne(() => post(t, police, { variables: {} }));
    expect(r.status).toBe(400);
    expect((await eventOf(t, r.requestId)).outcome).toBe('INVALID');
    // Persisted queries are off (one cache of texts for every caller would tell who asked what):
    // refused as such (HTTP 200, as the protocol has clients then send the text), with or without the text.
    for (const body of [{ query: '{ regions { code } }' }, {}]) {
      const pq = await exactlyOne(() => post(t, police, { ...body, extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } }));
      expect([pq.json.data, pq.json.errors.map((e: any) => e.extensions.code)]).toEqual([undefined, ['PERSISTED_QUERY_NOT_SUPPORTED']]);
      expect((await eventOf(t, pq.requestId)).outcome).toBe('INVALID');
    }
    // The schema has no subscriptions: a request error, not the gateway's internal one.
    const sub = await exactlyOne(() => post(t, police, { query: `subscription S($id: ID!) { minor(id: $id) { name } }`, variables: { id: minor.id } }));
    expect([sub.status, sub.json.data, sub.json.errors]).toEqual([400, undefined, [{ message: 'Subscriptions are not served', extensions: { code: 'BAD_REQUEST' } }]]);
    expect((await eventOf(t, sub.requestId)).outcome).toBe('INVALID');
  });

  it('requires a purpose for children’s data, audits the refusal, and serves counts without one', async () => {
    const missing = await exactlyOne(() => post(t, police, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: minor.id } }, {}));
    expect(missing.status).toBe(400);
    expect(missing.json.data).toBeUndefined();
    expect(missing.json.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'x-purpose' });
    const e = await eventOf(t, missing.requestId);
    expect(e).toMatchObject({ outcome: 'INVALID', purpose: null, reads: [] });

    const bad = await post(t, police, { query: `{ minors(first: 1) { edges { node { id } } } }` }, { 'x-purpose': 'CURIOSITY' });
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');

    const count = await post(t, police, { query: `{ minors(first: 1) { totalCount } regions { code } }` }, {});
    expect(count.json.errors).toBeUndefined();
    expect((await eventOf(t, count.requestId)).outcome).toBe('SUCCESS');
  });

  it('keeps variable values and inline literals out of the trail', async () => {
    const r = await post(t, police, { query: `query($n: String!) { minorByIdNumber(idNumber: $n) { name } a: minorByIdNumber(idNumber: "${minor.id_number.trim()}") { id } }`, variables: { n: minor.id_number.trim() } });
    expect(r.json.errors).toBeUndefined();
    const [{ body }] = await t.sql(`SELECT body FROM audit.event WHERE request_id = $1`, [r.requestId]);
    expect(body).not.toContain(minor.id_number.trim());
    const e = JSON.parse(body);
    expect(Object.keys(e.variables)).toEqual(['n']);
    expect(e.variables.n).toMatch(/^[0-9a-f]{64}$/);
    expect(e.document).toContain('minorByIdNumber(idNumber:"")');
  });

  it('writes into the trail no client text that is not part of the operation: undeclared variables, names that are no names, control characters', async () => {
    const r = await post(t, police, { query: `query Read($id: ID!) { minor(id: $id) { name } }`, variables: { id: minor.id, 'x\u0000': 1, '刘子轩 read by auditor-1': 'y' } });
    expect(r.json.errors).toBeUndefined();
    const [{ body }] = await t.sql(`SELECT body FROM audit.event WHERE request_id = $1`, [r.requestId]);
    expect(Object.keys(JSON.parse(body).variables)).toEqual(['id']);
    expect(body).not.toContain('刘子轩');

    for (const reference of ['2026-1%0Aoutcome: DENIED', 'a%00b', 'a%1B[2J', 'a%E2%80%AEb', 'a%E2%80%8Bb', '2026-%CD%8F0042', '%E3%85%A4', '%E2%A0%80']) {
      const refused = await exactlyOne(() => post(t, police, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: minor.id } }, { 'x-purpose': `CASE_HANDLING; ${reference}` }));
      expect([refused.status, refused.json.data, refused.json.errors[0].extensions]).toEqual([400, undefined, { code: 'BAD_USER_INPUT', field: 'x-purpose' }]);
      expect((await eventOf(t, refused.requestId)).purpose).toBeNull();
    }
    const named = await post(t, police, { query: `query Read { regions { code } }`, operationName: 'Read\u0000\u001b[2J' });
    expect(named.status).toBe(400);
    expect((await eventOf(t, named.requestId)).operationName).toBeNull();
    // A name the document defines is in the document, also in the event: the name field holds 200 characters of it.
    const long = `Q${'x'.repeat(5000)}`;
    const longName = await post(t, police, { query: `query ${long} { regions { code } }` });
    expect(longName.json.errors).toBeUndefined();
    expect((await eventOf(t, longName.requestId)).operationName).toBe(long.slice(0, 200));

    // Every event stays readable as JSON by the data officer's searches.
    const auditor = await t.token(Department.POLICE, { role: Role.AUDITOR, user: 'auditor-text' });
    const anomalies = await t.gql(auditor, `{ auditAnomalies { kind } }`, undefined, {});
    expect(anomalies.errors).toBeUndefined();
  });

  it('records a variable named `$__proto__` like any other, on the compiled read and the general path alike', async () => {
    // A second hub on the same database with compiled reads off (as in compiled-read.wire.test.ts).
    const general = await startTestHub({ databaseUrl: t.databaseUrl, env: { HUB_BENCH_DISABLE: 'compiled' } });
    try {
      const seen = [];
      for (const hub of [t, general]) {
        for (const query of [
          'query Q($__proto__: ID!) { minor(id: $__proto__) { name } }',
          // An alias: not a compiled read, the general path answers it on either hub.
          'query Q($__proto__: ID!) { m: minor(id: $__proto__) { name } }',
        ]) {
          const compiledBefore = hub.hub.compiledReadsServed() ?? 0;
          // Written out: JSON.stringify of an object literal would have no `__proto__` key to write.
          const r = await post(hub, police, `{"query":${JSON.stringify(query)},"variables":{"__proto__":"${minor.id}"}}`);
          expect(r.json.errors).toBeUndefined();
          const e = await storedEventOf(hub, r.requestId);
          seen.push({
            compiled: (hub.hub.compiledReadsServed() ?? 0) > compiledBefore,
            variables: Object.entries(e.variables).map(([name, hmac]) => [name, typeof hmac === 'string' && /^[0-9a-f]{64}$/.test(hmac)]),
            hmac: Object.getOwnPropertyDescriptor(e.variables, '__proto__')?.value,
            reads: e.reads.flatMap((g: { minorIds: string[] }) => g.minorIds),
          });
        }
      }
      expect(seen.map(({ compiled, variables, reads }) => ({ compiled, variables, reads }))).toEqual([
        { compiled: true, variables: [['__proto__', true]], reads: [minor.id] },
        { compiled: false, variables: [['__proto__', true]], reads: [minor.id] },
        { compiled: false, variables: [['__proto__', true]], reads: [minor.id] },
        { compiled: false, variables: [['__proto__', true]], reads: [minor.id] },
      ]);
      // The same value, so the same HMAC whichever path answered.
      expect(new Set(seen.map((s) => s.hmac)).size).toBe(1);
    } finally {
      await general.stop();
    }
  });

  it('keeps inline enum and boolean literals out of the trail: the auditor may not read what they say of the children named', async () => {
    const r = await post(t, police, { query: `{ minors(first: 5, filter: { riskLevels: [RED, ORANGE], categories: [CRIME_VICTIM] }) { edges { node { id } } } }` });
    expect(r.json.errors).toBeUndefined();
    const [{ body }] = await t.sql(`SELECT body FROM audit.event WHERE request_id = $1`, [r.requestId]);
    const e = JSON.parse(body);
    for (const literal of ['RED', 'ORANGE', 'CRIME_VICTIM']) expect(e.document).not.toContain(literal);
    expect(e.document).toContain('riskLevels:[_ _]');
    const flag = await post(t, police, { query: `{ minor(id: "${minor.id}") { id name @include(if: true) } }` });
    expect(flag.json.errors).toBeUndefined();
    expect((await eventOf(t, flag.requestId)).document).toContain('@include(if:false)');
  });

  it('records what a mutation changed: ids and field names, not values', async () => {
    const civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'director-zhao' });
    const r = await post(t, civil, { query: `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "secret family detail" }) { visitedAt } }`, variables: { id: minor.id } });
    expect(r.json.errors).toBeUndefined();
    const [{ id: visitId }] = await t.sql(`SELECT id FROM registry.visit WHERE minor_id = $1 AND notes = 'secret family detail'`, [minor.id]);
    const e = await eventOf(t, r.requestId);
    expect(e.operationType).toBe('mutation');
    expect(e.changes).toEqual([{ mutation: 'recordVisit', id: visitId, minorId: minor.id, fields: ['input.notes', 'minorId'] }]);
    expect(JSON.stringify(e)).not.toContain('secret family detail');
  });

  describe('a mutation is recorded as started before it runs', () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let civil: string;
    let startedMutation = '';
    beforeAll(async () => {
      civil = await t.token(Department.CIVIL_AFFAIRS, { user: 'director-qian' });
    });

    it('refuses a mutation when its STARTED event cannot be written: 503, nothing changed, nobody notified, no webhook queued', async () => {
      const [child] = await t.sql(`SELECT id, risk_level FROM registry.minor WHERE risk_level IS DISTINCT FROM 'RED' AND grid_code LIKE '330102%' ORDER BY id LIMIT 1`);
      // A police system listening for notifications, so that a RED assessment would queue a delivery.
      const hook = await t.gql(await t.token(Department.POLICE), `mutation { registerWebhook(url: "http://127.0.0.1:9/started-test") { webhook { id } } }`);
      expect(hook.errors).toBeUndefined();
      const counts = async () =>
        (
          await t.sql(
            `SELECT (SELECT count(*) FROM registry.visit WHERE minor_id = $1)::int AS visits,
                    (SELECT count(*) FROM registry.guardian WHERE minor_id = $1)::int AS guardians,
                    (SELECT count(*) FROM registry.risk_assessment WHERE minor_id = $1)::int AS assessments,
                    (SELECT risk_level FROM registry.minor WHERE id = $1) AS risk_level,
                    (SELECT count(*) FROM workflow.notification WHERE minor_id = $1)::int AS notifications,
                    (SELECT count(*) FROM workflow.webhook_delivery)::int AS deliveries,
                    (SELECT count(*) FROM workflow.webhook)::int AS webhooks,
                    (SELECT count(*) FROM audit.event)::int AS events`,
            [child.id],
          )
        )[0];
      const mutation = {
        query: `mutation($id: ID!) {
          recordVisit(minorId: $id, input: { notes: "unaudited visit" }) { visitedAt }
          addGuardian(minorId: $id, input: { relationship: OTHER_RELATIVE, name: "审计测试", phone: "13900001111", situation: NORMAL }) { id }
          recordAssessment(minorId: $id, input: { level: RED, reasons: "audit down" }) { id level }
        }`,
        variables: { id: child.id },
      };
      // The registry alone answers `mutation` (fast path); with a workflow field beside it the gateway plans it.
      const planned = {
        query: `mutation($id: ID!) {
          recordVisit(minorId: $id, input: { notes: "unaudited planned visit" }) { visitedAt }
          registerWebhook(url: "http://127.0.0.1:9/unaudited") { secret }
        }`,
        variables: { id: child.id },
      };
      await t.hub.audit.drain();
      const before = await counts();
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      const refused: Awaited<ReturnType<typeof post>>[] = [];
      try {
        await t.sql(`REVOKE INSERT ON audit.event FROM hub_audit_writer`);
        refused.push(await post(t, civil, mutation), await post(t, civil, planned));
        await t.hub.audit.drain();
      } finally {
        await t.sql(`GRANT INSERT ON audit.event TO hub_audit_writer`);
        log.mockRestore();
      }
      for (const r of refused) {
        expect(r.status).toBe(503);
        expect(r.json).toEqual({ errors: [{ message: 'The request could not be audited; no data is released', extensions: { code: 'AUDIT_UNAVAILABLE' } }] });
      }
      expect(await counts()).toEqual(before);

      // The same mutation with the trail up changes, notifies and queues (so the refusal above was a real probe).
      const up = await post(t, civil, mutation);
      expect(up.status).toBe(200);
      expect(up.json.errors).toBeUndefined();
      const after = await counts();
      expect(after).toMatchObject({ visits: before.visits + 1, guardians: before.guardians + 1, assessments: before.assessments + 1, risk_level: 'RED' });
      expect(after.notifications).toBeGreaterThan(before.notifications);
      expect(after.deliveries).toBeGreaterThan(before.deliveries);
      const upPlanned = await post(t, civil, planned);
      expect(upPlanned.json.errors).toBeUndefined();
      expect((await counts()).webhooks).toBe(before.webhooks + 1);
    });

    it('answers a mutation whose final event cannot be written after its change was made: no data, and not 503 — the client is told to check, not to retry', async () => {
      const visits = async () => (await t.sql(`SELECT count(*)::int AS n FROM registry.visit WHERE minor_id = $1`, [minor.id]))[0].n;
      const before = await visits();
      // The visit's INSERT waits on the lock while its STARTED event is stored; then the trail refuses writes.
      const lock = new Client({ connectionString: t.databaseUrl });
      await lock.connect();
      const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      let pending: ReturnType<typeof post> | null = null;
      try {
        await lock.query('BEGIN');
        await lock.query('LOCK TABLE registry.visit IN SHARE MODE');
        pending = post(t, civil, { query: `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "final event lost" }) { visitedAt } }`, variables: { id: minor.id } });
        let waiting = 0;
        for (let i = 0; i < 300 && !waiting; i++) {
          [{ n: waiting }] = await t.sql(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO%visit%'`,
          );
          if (!waiting) await sleep(10);
        }
        expect(waiting).toBe(1);
        await t.sql(`REVOKE INSERT ON audit.event FROM hub_audit_writer`);
        await lock.query('COMMIT');
        const r = await pending;
        expect(await visits()).toBe(before + 1);
        expect([r.status, r.headers.get('retry-after'), r.json]).toEqual([
          500,
          null,
          { errors: [{ message: 'The request could not be audited; no data is released. Its changes were made, or may have been: check before making them again', extensions: { code: 'AUDIT_UNAVAILABLE' } }] },
        ]);
      } finally {
        await lock.query('ROLLBACK').catch(() => undefined);
        await lock.end();
        await pending?.catch(() => undefined);
        await t.sql(`GRANT INSERT ON audit.event TO hub_audit_writer`);
        log.mockRestore();
      }
    });

    it('writes the STARTED event, durable, before the mutation changes anything; then its final event with the same requestId', async () => {
      const name = `VisitStarted${Date.now()}`;
      const visits = async () => (await t.sql(`SELECT count(*)::int AS n FROM registry.visit WHERE minor_id = $1`, [minor.id]))[0].n;
      const before = await visits();
      // Hold the visit table so that the mutation's INSERT waits; the trail must already hold its STARTED event.
      const lock = new Client({ connectionString: t.databaseUrl });
      await lock.connect();
      let pending: ReturnType<typeof post> | null = null;
      try {
        await lock.query('BEGIN');
        await lock.query('LOCK TABLE registry.visit IN SHARE MODE');
        pending = post(t, civil, { query: `mutation ${name}($id: ID!) { recordVisit(minorId: $id, input: { notes: "started first" }) { visitedAt } }`, variables: { id: minor.id } });
        let waiting = 0;
        for (let i = 0; i < 300 && !waiting; i++) {
          [{ n: waiting }] = await t.sql(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO%visit%'`,
          );
          if (!waiting) await sleep(10);
        }
        expect(waiting).toBe(1); // the mutation is executing, its change not yet made
        const stored = await t.sql(`SELECT outcome, body FROM audit.event WHERE body::jsonb ->> 'operationName' = $1`, [name]);
        expect(stored.map((e) => e.outcome)).toEqual(['STARTED']);
        expect(await visits()).toBe(before);
      } finally {
        await lock.query('COMMIT').catch(() => undefined);
        await lock.end();
        await pending?.catch(() => undefined); // answered before the next test, whatever failed here
      }
      const r = await pending!;
      expect(r.status).toBe(200);
      expect(r.json.errors).toBeUndefined();
      expect(await visits()).toBe(before + 1);

      const events = await eventsOf(t, r.requestId);
      expect(events.map((e) => e.outcome)).toEqual(['STARTED', 'SUCCESS']);
      const [started, final] = events;
      expect(started.seq).toBeLessThan(final.seq);
      // The same request as the final event describes, with nothing read or changed yet.
      const same = ({ requestId, userId, department, role, region, clientAddress, operationName, operationType, documentHash, document, variables, purpose }: Record<string, any>) =>
        ({ requestId, userId, department, role, region, clientAddress, operationName, operationType, documentHash, document, variables, purpose });
      expect(same(started.body)).toEqual(same(final.body));
      expect(started.body).toMatchObject({ requestId: r.requestId, operationName: name, operationType: 'mutation', outcome: 'STARTED', errorCodes: [], reads: [], changes: [] });
      expect(final.body.changes).toEqual([expect.objectContaining({ mutation: 'recordVisit', minorId: minor.id })]);
      // The helpers' "event of a request" is the final one.
      expect((await storedEventOf(t, r.requestId)).outcome).toBe('SUCCESS');
      expect((await t.sql(`SELECT minor_ids FROM audit.event WHERE seq = $1`, [started.seq]))[0].minor_ids).toEqual([]);
      startedMutation = r.requestId;
    });

    it('refuses an operation name the document does not define before anything runs, on the fast path and the planned one alike', async () => {
      const visits = async () => (await t.sql(`SELECT count(*)::int AS n FROM registry.visit WHERE minor_id = $1`, [minor.id]))[0].n;
      const before = await visits();
      const long = 'N'.repeat(5000);
      for (const [query, operationName] of [
        // One subgraph answers it alone (the fast path); a second subgraph's root field forces the plan.
        [`mutation Record($id: ID!) { recordVisit(minorId: $id, input: { notes: "unnamed" }) { visitedAt } }`, 'Nope'],
        [`mutation Record($id: ID!) { recordVisit(minorId: $id, input: { notes: "unnamed" }) { visitedAt } }`, long],
        [`query Read($id: ID!) { minor(id: $id) { name } statisticsScope { level } }`, 'Nope'],
        [`mutation A($id: ID!) { recordVisit(minorId: $id, input: { notes: "a" }) { visitedAt } } mutation B($id: ID!) { recordVisit(minorId: $id, input: { notes: "b" }) { visitedAt } }`, undefined],
      ] as const) {
        // No purpose: the purpose rule is not what refuses it.
        const r = await post(t, civil, { query, variables: { id: minor.id }, operationName }, {});
        expect([r.status, r.json.data, r.json.errors.map((e: any) => e.extensions.code)]).toEqual([400, undefined, ['OPERATION_RESOLUTION_FAILURE']]);
        const events = await eventsOf(t, r.requestId);
        expect(events.map((e) => e.outcome)).toEqual(['INVALID']);
        // A name the document lacks is kept only if it is a name, and not at any length.
        expect(events[0].body.operationName).toBe(operationName?.slice(0, 200) ?? null);
      }
      const get = await fetch(`${t.hub.url}?${new URLSearchParams({ query: `mutation R($id: ID!) { recordVisit(minorId: $id, input: { notes: "get" }) { visitedAt } }`, variables: JSON.stringify({ id: minor.id }), operationName: 'Nope' })}`, {
        headers: { authorization: `Bearer ${civil}`, 'apollo-require-preflight': 'true' },
      });
      expect(get.status).toBe(405);
      expect(await visits()).toBe(before);
    });

    it('leaves one event for a query and for a mutation refused before it runs; the auditor finds STARTED events of mutations only', async () => {
      const query = await exactlyOne(() => post(t, police, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: minor.id } }));
      expect(query.status).toBe(200);
      const invalid = await exactlyOne(() => post(t, civil, { query: `mutation($id: ID!) { recordVisit(minorId: $id, input: { nope: 1 }) { visitedAt } }`, variables: { id: minor.id } }));
      expect(invalid.json.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect((await eventsOf(t, query.requestId)).map((e) => e.outcome)).toEqual(['SUCCESS']);
      expect((await eventsOf(t, invalid.requestId)).map((e) => e.outcome)).toEqual(['INVALID']);

      const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, user: 'auditor-started' });
      const r = await t.gql(auditor, `{ auditEvents(filter: { outcome: STARTED }, first: 500) { edges { node { requestId operationType outcome reads { minorId } changes { mutation } } } } }`, undefined, {});
      expect(r.errors).toBeUndefined();
      const nodes = r.data.auditEvents.edges.map((e: any) => e.node);
      expect(nodes.map((n: any) => n.requestId)).toEqual(expect.arrayContaining([startedMutation]));
      for (const n of nodes) expect(n).toMatchObject({ operationType: 'mutation', outcome: 'STARTED', reads: [], changes: [] });
      expect(nodes.map((n: any) => n.requestId)).not.toEqual(expect.arrayContaining([query.requestId]));
      expect(nodes.map((n: any) => n.requestId)).not.toEqual(expect.arrayContaining([invalid.requestId]));
      // Who looked at the child: the mutation once, by its final event.
      const history = await t.gql(auditor, `query($id: ID!) { minorAccessHistory(minorId: $id) { requestId outcome } }`, { id: minor.id }, {});
      expect(history.data.minorAccessHistory.filter((h: any) => h.requestId === startedMutation)).toEqual([{ requestId: startedMutation, outcome: 'SUCCESS' }]);
    });
  });

  describe('the data officer’s view', () => {
    let auditor: string;
    beforeAll(async () => {
      auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, user: 'auditor-1' });
    });

    it('shows who looked at a child, with fields and purpose', async () => {
      await post(t, education, { query: `query($id: ID!) { minor(id: $id) { name idNumber } }`, variables: { id: minor.id } }, { 'x-purpose': 'SCREENING' });
      const r = await t.gql(auditor, `query($id: ID!) { minorAccessHistory(minorId: $id) { userId department purpose { code } fields { field access } changes { mutation } } }`, { id: minor.id }, {});
      expect(r.errors).toBeUndefined();
      const teacher = r.data.minorAccessHistory.find((h: any) => h.userId === 'teacher-wang' && h.purpose?.code === 'SCREENING');
      expect(teacher).toEqual({ userId: 'teacher-wang', department: 'EDUCATION', purpose: { code: 'SCREENING' }, fields: [{ field: 'Minor.idNumber', access: 'MASK' }, { field: 'Minor.name', access: 'ALLOW' }], changes: [] });
      expect(r.data.minorAccessHistory.some((h: any) => h.changes.some((c: any) => c.mutation === 'recordVisit'))).toBe(true);
    });

    it('records which child an auditor looked into: their look-ups are in the child’s history', async () => {
      const auditor2 = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, user: 'auditor-2' });
      const look = await post(t, auditor2, { query: `query($id: ID!) { minorAccessHistory(minorId: $id) { requestId } }`, variables: { id: minor.id } }, {});
      expect(look.json.errors).toBeUndefined();
      const search = await post(t, auditor2, { query: `query($id: ID!) { auditEvents(filter: { minorId: $id }, first: 1) { edges { cursor } } }`, variables: { id: minor.id.toUpperCase() } }, {});
      expect(search.json.errors).toBeUndefined();
      for (const r of [look, search]) expect((await t.sql(`SELECT minor_ids FROM audit.event WHERE request_id = $1`, [r.requestId]))[0].minor_ids).toEqual([minor.id]);
      const h = await t.gql(auditor, `query($id: ID!) { minorAccessHistory(minorId: $id) { requestId userId role fields { field } } }`, { id: minor.id }, {});
      expect(h.data.minorAccessHistory.filter((a: any) => a.userId === 'auditor-2')).toEqual([
        { requestId: search.requestId, userId: 'auditor-2', role: 'AUDITOR', fields: [{ field: 'Query.auditEvents' }] },
        { requestId: look.requestId, userId: 'auditor-2', role: 'AUDITOR', fields: [{ field: 'Query.minorAccessHistory' }] },
      ]);
    });

    it('pages through a child’s history, so that a flood of reads cannot push an earlier one out of sight', async () => {
      const [{ id: child }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id OFFSET 7 LIMIT 1`);
      for (let i = 0; i < 23; i++) {
        const body = auditEvent({ requestId: randomUUID(), startedAt: performance.now(), principal: { userId: `flooder-${i % 3}`, department: Department.POLICE, role: Role.OFFICER, region: '330102' }, clientAddress: null, outcome: AuditOutcome.SUCCESS, errorCodes: [] });
        body.reads = [{ fields: { 'Minor.name': Access.ALLOW }, minorIds: [child] }];
        await t.hub.audit.append(body);
      }
      const stored = (await t.sql(`SELECT seq::text AS s FROM audit.event WHERE minor_ids @> ARRAY[$1]::uuid[] ORDER BY seq DESC`, [child])).map((r) => r.s);
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page: any = await t.gql(auditor, `query($id: ID!, $after: String) { minorAccessHistory(minorId: $id, first: 5, after: $after) { seq } }`, { id: child, after }, {});
        expect(page.errors).toBeUndefined();
        const seqs = page.data.minorAccessHistory.map((h: { seq: string }) => h.seq);
        seen.push(...seqs);
        if (seqs.length < 5) break;
        after = seqs[seqs.length - 1];
      }
      // Every event of the child once, newest first (the pages' own look-ups are newer than `stored`).
      expect(seen.filter((s) => stored.includes(s))).toEqual(stored);
      expect(new Set(seen).size).toBe(seen.length);
      for (const [first, after] of [[0, null], [1001, null], [5, '1 OR 1=1']] as const) {
        expect(errorCodes(await t.gql(auditor, `query($id: ID!, $f: Int!, $a: String) { minorAccessHistory(minorId: $id, first: $f, after: $a) { seq } }`, { id: child, f: first, a: after }, {}))).toEqual(['BAD_USER_INPUT']);
      }
    });

    it('keeps pages of large events within bounds: the trail in pages of at most 8 MiB of bodies, a child’s history whole', async () => {
      const [{ id: child }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id OFFSET 30 LIMIT 1`);
      const planted: string[] = [];
      for (let i = 0; i < 10; i++) {
        // A document of a megabyte, as a request of long aliases leaves one.
        const body = auditEvent({ requestId: randomUUID(), startedAt: performance.now(), principal: { userId: 'padder', department: Department.POLICE, role: Role.OFFICER, region: '330102' }, clientAddress: null, outcome: AuditOutcome.SUCCESS, errorCodes: [], document: { text: 'x'.repeat(1_000_000), hash: '0'.repeat(64) } });
        body.reads = [{ fields: { 'Minor.name': Access.ALLOW }, minorIds: [child] }];
        await t.hub.audit.append(body);
        planted.unshift(body.requestId);
      }
      const PAGE = `query($after: String) { auditEvents(filter: { userId: "padder" }, first: 20, after: $after) { edges { node { requestId document } } pageInfo { hasNextPage endCursor } } }`;
      const one: any = await t.gql(auditor, PAGE, { after: null }, {});
      expect(one.errors).toBeUndefined();
      expect([one.data.auditEvents.edges.length, one.data.auditEvents.pageInfo.hasNextPage]).toEqual([9, true]);
      const two: any = await t.gql(auditor, PAGE, { after: one.data.auditEvents.pageInfo.endCursor }, {});
      expect([two.data.auditEvents.edges.length, two.data.auditEvents.pageInfo.hasNextPage]).toEqual([1, false]);
      expect([...one.data.auditEvents.edges, ...two.data.auditEvents.edges].map((e: any) => e.node.requestId)).toEqual(planted);
      expect(two.data.auditEvents.edges[0].node.document).toHaveLength(1_000_000);
      // Only the child's part of each event is read for its history: all ten in one page.
      const history: any = await t.gql(auditor, `query($id: ID!) { minorAccessHistory(minorId: $id, first: 20) { requestId userId fields { field access } } }`, { id: child }, {});
      expect(history.errors).toBeUndefined();
      const padded = history.data.minorAccessHistory.filter((h: any) => h.userId === 'padder');
      expect(padded.map((h: any) => h.requestId)).toEqual(planted);
      expect(padded[0].fields).toEqual([{ field: 'Minor.name', access: 'ALLOW' }]);
    });

    it('answers what it builds within bounds: a page of the trail holds 100 fields of children per event asked, however grouped they are stored', async () => {
      // Stored grouped, a read of 300 children × 25 fields is one entry of 300 ids; answered, it is
      // 7,500 fields of children (a bulk reader's event of 41 KiB answered about 1 MiB).
      const children: string[] = (await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 300`)).map((m) => m.id);
      const fields = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`Minor.field${String(i).padStart(2, '0')}`, Access.ALLOW]));
      const planted: string[] = [];
      for (let i = 0; i < 4; i++) {
        const body = auditEvent({ requestId: randomUUID(), startedAt: performance.now(), principal: { userId: 'bulk-reader', department: Department.POLICE, role: Role.OFFICER, region: '330102' }, clientAddress: null, outcome: AuditOutcome.SUCCESS, errorCodes: [] });
        body.reads = [{ fields, minorIds: children }];
        await t.hub.audit.append(body);
        planted.unshift(body.requestId);
      }
      const PAGE = `query($first: Int!, $after: String) { auditEvents(filter: { userId: "bulk-reader" }, first: $first, after: $after) { edges { node { requestId reads { minorId fields { field } } } } pageInfo { hasNextPage endCursor } } }`;
      const reviewer = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, user: 'auditor-bulk' });
      const pageOf = async (first: number, after: string | null) => {
        const r: any = await t.gql(reviewer, PAGE, { first, after }, {});
        expect(r.errors).toBeUndefined();
        const answered = r.data.auditEvents.edges.reduce((n: number, e: any) => n + e.node.reads.reduce((k: number, c: any) => k + c.fields.length, 0), 0);
        return { ...r.data.auditEvents, answered };
      };
      // 200 events asked: 20,000 fields of children, two such events; the next page goes on from there.
      const one = await pageOf(200, null);
      expect([one.edges.length, one.answered, one.pageInfo.hasNextPage]).toEqual([2, 15_000, true]);
      const two = await pageOf(200, one.pageInfo.endCursor);
      expect([two.edges.length, two.pageInfo.hasNextPage]).toEqual([2, false]);
      expect([...one.edges, ...two.edges].map((e: any) => e.node.requestId)).toEqual(planted);
      expect(two.edges[0].node.reads.map((c: any) => c.minorId)).toEqual(children);
      // A page holds one event whatever its size, so paging never stalls.
      const single = await pageOf(1, null);
      expect([single.edges.map((e: any) => e.node.requestId), single.answered, single.pageInfo.hasNextPage]).toEqual([[planted[0]], 7_500, true]);
      // The children whose reads the data officer saw count as theirs: reviewing a bulk reader is flagged like bulk reading.
      const flags = (await t.gql(auditor, `{ auditAnomalies { kind userId count } }`, undefined, {})).data.auditAnomalies;
      expect(flags.find((f: any) => f.kind === 'MANY_CHILDREN' && f.userId === 'auditor-bulk')?.count).toBe(300);
    });

    it('answers each field of the trail’s queries once: a field under two names anywhere in one is LIMIT_EXCEEDED before anything is read', async () => {
      // A page holds its first event whatever its size, and the cost limit prices its reads at 100:
      // each alias of `reads` over an event of 300 children × 25 fields answered 15,300 values more.
      const children: string[] = (await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 300`)).map((m) => m.id);
      const fields = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`Minor.field${String(i).padStart(2, '0')}`, Access.ALLOW]));
      const read = auditEvent({ requestId: randomUUID(), startedAt: performance.now(), principal: { userId: 'alias-reader', department: Department.POLICE, role: Role.OFFICER, region: '330102' }, clientAddress: null, outcome: AuditOutcome.SUCCESS, errorCodes: [] });
      read.reads = [{ fields, minorIds: children }];
      read.changes = [{ mutation: 'updateMinor', id: children[0], minorId: children[0], fields: ['name', 'school'] }];
      await t.hub.audit.append(read);
      const reviewer = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, user: 'auditor-aliases' });
      const ask = async (query: string) => {
        const r = await post(t, reviewer, { query }, {});
        return { data: r.json.data, errors: (r.json.errors ?? []).map((e: any) => [e.extensions.code, e.path]), read: (await eventOf(t, r.requestId)).reads };
      };
      const page = (selection: string, filter = 'userId: "alias-reader"') => `{ auditEvents(filter: { ${filter} }, first: 1) { ${selection} } }`;
      // Every field once, through fragments and under another name alike: served.
      const whole = await ask(`fragment R on ChildReadRecord { minorId } ${page('edges { node { document rs: reads { ...R fields { field access __typename } } changes { mutation fields } } }')}`);
      expect([whole.errors, whole.data.auditEvents.edges[0].node.rs.length, whole.data.auditEvents.edges[0].node.rs[299].fields.length]).toEqual([[], 300, 25]);
      // A field under a second name, at any depth, spread from a fragment or not: refused, nothing read.
      for (const query of [
        page('edges { node { reads { minorId } again: reads { minorId } } }'),
        page('edges { node { reads { fields { field f2: field } } } }'),
        page('edges { node { reads { minorId } } } more: edges { cursor }'),
        page('edges { node { seq } n2: node { seq } }'),
        page('edges { node { document d2: document } }'),
        page('edges { node { changes { mutation } c2: changes { fields } } }'),
        `fragment R on ChildReadRecord { id2: minorId } ${page('edges { node { reads { minorId ...R } } }')}`,
        page('edges { node { reads { minorId } again: reads { minorId } } }', `minorId: "${children[0]}"`),
        `{ minorAccessHistory(minorId: "${children[0]}", first: 5) { seq fields { field } f2: fields { access } } }`,
        `{ auditAnomalies { kind d0: description d1: description } }`,
      ]) {
        const r = await ask(query);
        expect([query, r.errors.map(([code]: string[]) => code), Object.values(r.data ?? {}), r.read]).toEqual([query, ['LIMIT_EXCEEDED'], [null], []]);
      }
    });

    it('answers each of the trail’s queries once per request: an alias more is LIMIT_EXCEEDED', async () => {
      for (const query of [
        `{ a: auditEvents(first: 500) { edges { cursor } } b: auditEvents(first: 500) { edges { cursor } } }`,
        `query($id: ID!) { a: minorAccessHistory(minorId: $id) { seq } b: minorAccessHistory(minorId: $id) { seq } }`,
      ]) {
        const r = await t.gql(auditor, query, { id: minor.id }, {});
        expect([Array.isArray(r.data.a) || Array.isArray(r.data.a?.edges), r.data.b, r.errors!.map((e: any) => [e.extensions.code, e.path])]).toEqual([true, null, [['LIMIT_EXCEEDED', ['b']]]]);
      }
    });

    it('records the children an auditor sees in a page of the trail: the child’s history lists the data officer who saw its reads', async () => {
      const [seen, written] = (await t.sql(`SELECT id FROM registry.minor ORDER BY id OFFSET 40 LIMIT 2`)).map((m) => m.id as string);
      const officer = await t.token(Department.CIVIL_AFFAIRS, { user: 'officer-zhao' });
      await post(t, officer, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: seen } });
      const visit = await post(t, officer, { query: `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "家访" }) { visitedAt } }`, variables: { id: written } });
      expect(visit.json.errors).toBeUndefined();
      const auditor3 = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, user: 'auditor-3' });
      // Paged by user, not by child: only what the page answers of children is recorded.
      const blind = await post(t, auditor3, { query: `{ auditEvents(filter: { userId: "officer-zhao" }, first: 5) { edges { node { requestId userId } } } }` }, {});
      expect(blind.json.errors).toBeUndefined();
      expect((await eventOf(t, blind.requestId)).reads).toEqual([]);
      const page = await post(t, auditor3, { query: `{ auditEvents(filter: { userId: "officer-zhao" }, first: 5) { edges { node { reads { minorId } changes { minorId } } } } }` }, {});
      const nodes = page.json.data.auditEvents.edges.map((e: any) => e.node);
      expect(nodes.flatMap((n: any) => n.reads.map((c: any) => c.minorId))).toContain(seen);
      expect(nodes.flatMap((n: any) => n.changes.map((c: any) => c.minorId))).toContain(written);
      const history = async (id: string) =>
        (await t.gql(auditor, `query($id: ID!) { minorAccessHistory(minorId: $id) { requestId userId fields { field } } }`, { id }, {})).data.minorAccessHistory.filter((h: any) => h.userId === 'auditor-3');
      expect(await history(seen)).toEqual([{ requestId: page.requestId, userId: 'auditor-3', fields: [{ field: 'AuditEvent.reads' }] }]);
      expect(await history(written)).toEqual([{ requestId: page.requestId, userId: 'auditor-3', fields: expect.arrayContaining([{ field: 'AuditEvent.changes' }]) }]);
    });

    it('refuses a child id, a user id or a request id the trail cannot hold, empty ones too, as bad input', async () => {
      for (const [query, variables, field] of [
        [`query($id: ID!) { minorAccessHistory(minorId: $id) { requestId } }`, { id: 'a\u0000b' }, 'minorId'],
        [`query($id: ID!) { minorAccessHistory(minorId: $id) { requestId } }`, { id: '330102201901304569' }, 'minorId'],
        [`query($id: ID!) { auditEvents(filter: { minorId: $id }) { edges { cursor } } }`, { id: 'x' }, 'filter.minorId'],
        [`query($u: String!) { auditEvents(filter: { userId: $u }) { edges { cursor } } }`, { u: 'officer\u0000li' }, 'filter.userId'],
        // Empty: skipped, each answered the whole trail as that user's, department's, child's or request's.
        [`query($u: String!) { auditEvents(filter: { userId: $u }) { edges { cursor } } }`, { u: '' }, 'filter.userId'],
        [`query($d: String!) { auditEvents(filter: { department: $d }) { edges { cursor } } }`, { d: '' }, 'filter.department'],
        [`query($id: ID!) { auditEvents(filter: { minorId: $id }) { edges { cursor } } }`, { id: '' }, 'filter.minorId'],
        [`query($id: ID!) { auditEvents(filter: { requestId: $id }) { edges { cursor } } }`, { id: '' }, 'filter.requestId'],
      ] as const) {
        const r = await t.gql(auditor, query, variables, {});
        expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
        expect(r.errors![0].extensions!.field).toBe(field);
      }
    });

    it('finds an event by a user id no token may carry any more: one stored before the token rules grew stricter', async () => {
      const legacy = 'police-officer-1\u3164';
      const body = auditEvent({ requestId: randomUUID(), startedAt: performance.now(), principal: { userId: legacy, department: Department.POLICE, role: Role.OFFICER, region: '330102' }, clientAddress: null, outcome: AuditOutcome.SUCCESS, errorCodes: [] });
      body.reads = [{ fields: { 'Minor.name': Access.ALLOW }, minorIds: [minor.id] }];
      await t.hub.audit.append(body);
      const r = await t.gql(auditor, `query($u: String!) { auditEvents(filter: { userId: $u }) { edges { node { userId requestId } } } }`, { u: legacy }, {});
      expect(r.errors).toBeUndefined();
      expect(r.data.auditEvents.edges).toEqual([{ node: { userId: legacy, requestId: body.requestId } }]);
    });

    it('reads events stored one entry per child, as before 2026-12: history, search and verification', async () => {
      const body = auditEvent({
        requestId: '00000000-0000-4000-8000-000000000001',
        startedAt: performance.now(),
        principal: { userId: 'legacy-reader', department: Department.POLICE, role: Role.OFFICER, region: '330102' },
        clientAddress: null,
        outcome: AuditOutcome.SUCCESS,
        errorCodes: [],
      });
      body.reads = [{ minorId: minor.id, fields: { 'Minor.name': Access.ALLOW } }];
      await t.hub.audit.append(body);
      const r = await t.gql(auditor, `query($id: ID!) { minorAccessHistory(minorId: $id) { userId fields { field access } } }`, { id: minor.id }, {});
      expect(r.data.minorAccessHistory.find((h: any) => h.userId === 'legacy-reader')).toEqual({ userId: 'legacy-reader', fields: [{ field: 'Minor.name', access: 'ALLOW' }] });
      const search = await t.gql(auditor, `query($id: ID!) { auditEvents(filter: { minorId: $id, userId: "legacy-reader" }) { edges { node { reads { minorId fields { field } } } } } }`, { id: minor.id }, {});
      expect(search.data.auditEvents.edges).toEqual([{ node: { reads: [{ minorId: minor.id, fields: [{ field: 'Minor.name' }] }] } }]);
      // Events from before ids were written in lower case may spell the child in capitals, in either form.
      const upper = minor.id.toUpperCase();
      for (const [user, reads, changes] of [
        ['legacy-upper-one', [{ minorId: upper, fields: { 'Minor.age': Access.ALLOW } }], []],
        ['legacy-upper-group', [{ minorIds: [upper], fields: { 'Minor.age': Access.ALLOW } }], []],
        ['legacy-upper-change', [], [{ mutation: 'recordVisit', id: 'v', minorId: upper, fields: ['input.notes'] }]],
      ] as const) {
        const e = auditEvent({ requestId: randomUUID(), startedAt: performance.now(), principal: { userId: user, department: Department.POLICE, role: Role.OFFICER, region: '330102' }, clientAddress: null, outcome: AuditOutcome.SUCCESS, errorCodes: [] });
        e.reads = reads as any;
        e.changes = changes as any;
        await t.hub.audit.append(e);
      }
      const history = (await t.gql(auditor, `query($id: ID!) { minorAccessHistory(minorId: $id) { userId fields { field } changes { mutation } } }`, { id: minor.id }, {})).data.minorAccessHistory;
      expect(history.filter((h: any) => h.userId.startsWith('legacy-upper')).sort((a: any, b: any) => (a.userId < b.userId ? -1 : 1))).toEqual([
        { userId: 'legacy-upper-change', fields: [], changes: [{ mutation: 'recordVisit' }] },
        { userId: 'legacy-upper-group', fields: [{ field: 'Minor.age' }], changes: [] },
        { userId: 'legacy-upper-one', fields: [{ field: 'Minor.age' }], changes: [] },
      ]);
      expect((await t.gql(auditor, `{ auditVerify { ok } }`, undefined, {})).data.auditVerify.ok).toBe(true);
    });

    it('filters the trail and pages through it', async () => {
      const r = await t.gql(auditor, `{ auditEvents(filter: { userId: "officer-li", outcome: SUCCESS }, first: 2) { edges { cursor node { userId outcome } } pageInfo { hasNextPage endCursor } } }`, undefined, {});
      expect(r.errors).toBeUndefined();
      expect(r.data.auditEvents.edges.length).toBeGreaterThan(0);
      for (const e of r.data.auditEvents.edges) expect(e.node).toEqual({ userId: 'officer-li', outcome: 'SUCCESS' });
      const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM audit.event WHERE user_id = 'officer-li' AND outcome = 'SUCCESS'`);
      let seen = r.data.auditEvents.edges.length;
      let after = r.data.auditEvents.pageInfo.endCursor;
      while (after && seen < n) {
        const next = await t.gql(auditor, `query($a: String) { auditEvents(filter: { userId: "officer-li", outcome: SUCCESS }, first: 2, after: $a) { edges { node { seq } } pageInfo { endCursor hasNextPage } } }`, { a: after }, {});
        seen += next.data.auditEvents.edges.length;
        after = next.data.auditEvents.pageInfo.hasNextPage ? next.data.auditEvents.pageInfo.endCursor : null;
      }
      expect(seen).toBe(n);
    });

    it('lets only an auditor at a district verify the chain, which is the whole hub’s', async () => {
      const street = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: '330102001' });
      const r = await t.gql(street, `{ auditVerify { ok events headHash } }`, undefined, {});
      expect(errorCodes(r)).toEqual(['FORBIDDEN']);
      expect(r.data?.auditVerify ?? null).toBeNull();
      expect((await t.gql(auditor, `{ auditVerify { ok } }`, undefined, {})).data.auditVerify.ok).toBe(true);
    });

    it('audits the auditor, and keeps departments out of the trail and auditors out of children’s files', async () => {
      const r = await post(t, auditor, { query: `{ auditVerify { ok events } }` }, {});
      expect(r.json.data.auditVerify.ok).toBe(true);
      expect((await eventOf(t, r.requestId)).userId).toBe('auditor-1');
      for (const d of Object.values(Department)) {
        const refused = await t.gql(await t.token(d), `{ auditEvents(first: 1) { edges { node { seq } } } }`);
        expect(errorCodes(refused)).toEqual(['FORBIDDEN']);
      }
      expect(errorCodes(await t.gql(auditor, `query($id: ID!) { minor(id: $id) { name } }`, { id: minor.id }))).toEqual(['FORBIDDEN']);
    });

    it('limits an auditor to events of callers in their jurisdiction', async () => {
      await post(t, await t.token(Department.POLICE, { region: '330102002', user: 'street-2-officer' }), { query: `{ regions { code } }` });
      const streetAuditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: '330102001' });
      const r = await t.gql(streetAuditor, `{ auditEvents(first: 500) { edges { node { region userId } } } }`, undefined, {});
      expect(r.errors).toBeUndefined();
      for (const e of r.data.auditEvents.edges) expect(e.node.region === null || e.node.region.startsWith('330102001')).toBe(true);
      const district = await t.gql(auditor, `{ auditEvents(filter: { userId: "street-2-officer" }) { edges { node { userId } } } }`, undefined, {});
      expect(district.data.auditEvents.edges.length).toBe(1);
    });

    it('finds a request’s events by the id its answer named, within the auditor’s jurisdiction only', async () => {
      const before = Date.now();
      const civil = await t.token(Department.CIVIL_AFFAIRS, { region: '330102002', user: 'street-2-director' });
      const [child] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102002%' ORDER BY id LIMIT 1`);
      const visit = await post(t, civil, { query: `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "asked about" }) { visitedAt } }`, variables: { id: child.id } });
      expect(visit.json.errors).toBeUndefined();
      // A UUID of version 7 whose first 48 bits are the request's millisecond: the index of request ids grows at its end.
      expect(visit.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const ms = parseInt(visit.requestId.replace('-', '').slice(0, 12), 16);
      expect(ms).toBeGreaterThanOrEqual(before);
      expect(ms).toBeLessThanOrEqual(Date.now());
      const stored = (await t.sql(`SELECT seq::text AS seq, outcome FROM audit.event WHERE request_id = $1 ORDER BY seq DESC`, [visit.requestId])).map((e) => [e.seq, e.outcome]);
      expect(stored.map(([, outcome]) => outcome)).toEqual(['SUCCESS', 'STARTED']);
      const byId = `query($id: ID!) { auditEvents(filter: { requestId: $id }) { edges { node { seq requestId outcome userId } } } }`;
      for (const spelt of [visit.requestId, visit.requestId.toUpperCase()]) {
        const found = await t.gql(auditor, byId, { id: spelt }, {});
        expect(found.errors).toBeUndefined();
        expect(found.data.auditEvents.edges.map((e: any) => [e.node.seq, e.node.outcome])).toEqual(stored);
        expect(new Set(found.data.auditEvents.edges.map((e: any) => `${e.node.requestId} ${e.node.userId}`))).toEqual(new Set([`${visit.requestId} street-2-director`]));
      }
      // Another street's auditor is answered as for an id the trail does not hold.
      const streetAuditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: '330102001' });
      for (const id of [visit.requestId, randomUUID()]) {
        const other = await t.gql(streetAuditor, byId, { id }, {});
        expect(other).toEqual({ status: 200, data: { auditEvents: { edges: [] } } });
      }
      const bad = await t.gql(auditor, byId, { id: `${visit.requestId}' OR 1=1` }, {});
      expect(errorCodes(bad)).toEqual(['BAD_USER_INPUT']);
      expect(bad.data?.auditEvents ?? null).toBeNull();
    });

    it('flags anomalies with the events behind them', async () => {
      const browser = await t.token(Department.POLICE, { user: 'browser' });
      const ids: string[] = (await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 6`)).map((m) => m.id);
      const browsing: string[] = [];
      for (const id of ids) browsing.push((await post(t, browser, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id } })).requestId);
      const prober = await t.token(Department.EDUCATION, { user: 'prober' });
      const probing: string[] = [];
      for (let i = 0; i < 3; i++) probing.push((await post(t, prober, { query: `{ minors(first: 1, filter: { categories: [CRIME_VICTIM] }) { totalCount } }` })).requestId);
      const habitual = await t.token(Department.POLICE, { user: 'habitual' });
      let odd = '';
      for (let i = 0; i < 20; i++) {
        const r = await post(t, habitual, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id: ids[0] } }, { 'x-purpose': i === 7 ? 'SUPERVISION' : 'CASE_HANDLING' });
        if (i === 7) odd = r.requestId;
      }

      const r = await t.gql(auditor, `{ auditAnomalies { kind userId count requestIds description } }`, undefined, {});
      expect(r.errors).toBeUndefined();
      const flags = r.data.auditAnomalies;
      const many = flags.find((f: any) => f.kind === 'MANY_CHILDREN' && f.userId === 'browser');
      expect(many.count).toBe(6);
      expect([...many.requestIds].sort()).toEqual([...browsing].sort());
      const forb = flags.find((f: any) => f.kind === 'REPEATED_FORBIDDEN' && f.userId === 'prober');
      expect([...forb.requestIds].sort()).toEqual([...probing].sort());
      const purpose = flags.find((f: any) => f.kind === 'UNUSUAL_PURPOSE' && f.userId === 'habitual');
      expect(purpose.requestIds).toEqual([odd]);
      expect(flags.some((f: any) => f.kind === 'OFF_HOURS' && f.userId === 'browser' && f.count === 6)).toBe(true);
      expect(flags.some((f: any) => f.kind === 'MANY_CHILDREN' && f.userId === 'habitual')).toBe(false);
    });

    it('counts what a mutation’s answer showed as reads: whole files read through no-op updates are flagged', async () => {
      const ids: string[] = (await t.sql(`SELECT id FROM registry.minor ORDER BY id OFFSET 20 LIMIT 6`)).map((m) => m.id);
      const reader = await t.token(Department.CIVIL_AFFAIRS, { user: 'mutating-reader' });
      const requests: string[] = [];
      for (const id of ids) {
        const r = await post(t, reader, { query: `mutation($id: ID!) { updateMinor(id: $id, input: {}) { name idNumber guardians { phone } } }`, variables: { id } });
        expect(r.json.errors).toBeUndefined();
        requests.push(r.requestId);
      }
      const r = await t.gql(auditor, `{ auditAnomalies { kind userId count requestIds } }`, undefined, {});
      const many = r.data.auditAnomalies.find((f: any) => f.kind === 'MANY_CHILDREN' && f.userId === 'mutating-reader');
      expect(many && [many.count, [...many.requestIds].sort()]).toEqual([6, [...requests].sort()]);
    });

    it('tells apart users of different departments who carry the same user id', async () => {
      // A user id is unique only within the department that issued it: two people, three children each.
      const ids: string[] = (await t.sql(`SELECT id FROM registry.minor ORDER BY id OFFSET 10 LIMIT 6`)).map((m) => m.id);
      const police = await t.token(Department.POLICE, { user: 'namesake' });
      const education = await t.token(Department.EDUCATION, { user: 'namesake' });
      for (const [i, id] of ids.entries()) await post(t, i < 3 ? police : education, { query: `query($id: ID!) { minor(id: $id) { name } }`, variables: { id } });
      const r = await t.gql(auditor, `{ auditAnomalies { kind userId department count } }`, undefined, {});
      expect(r.errors).toBeUndefined();
      const theirs = r.data.auditAnomalies.filter((f: any) => f.userId === 'namesake');
      expect(theirs.filter((f: any) => f.kind === 'MANY_CHILDREN')).toEqual([]);
      expect(theirs.filter((f: any) => f.kind === 'OFF_HOURS').map((f: any) => [f.department, f.count]).sort()).toEqual([
        ['EDUCATION', 3],
        ['POLICE', 3],
      ]);
    });

    it('counts the most distinct children a user read in any window as a sliding window over every read would', async () => {
      // Synthetic reads (seeded, so the same on every run) by users of their own, over one hour
      // two days ago, each compared with a brute force over windows starting at each read.
      let seed = 7;
      const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
      const children = (await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 40`)).map((m) => m.id as string);
      const base = Date.now() - 2 * 86_400_000;
      const windowMs = 10 * 60_000;
      const expected = new Map<string, number>();
      for (let u = 0; u < 6; u++) {
        const userId = `window-reader-${u}`;
        const reads: { at: number; ids: string[] }[] = [];
        for (let e = 0; e < 40; e++) {
          const at = base + Math.floor(random() * 3_600_000 * (u < 3 ? 1 : 0.2));
          const ids = [...new Set(Array.from({ length: 1 + Math.floor(random() * 3) }, () => children[Math.floor(random() * (u % 2 ? 12 : 40))]))];
          reads.push({ at, ids });
          const body = auditEvent({ requestId: randomUUID(), startedAt: performance.now(), principal: { userId, department: Department.POLICE, role: Role.OFFICER, region: '330102' }, clientAddress: null, outcome: AuditOutcome.SUCCESS, errorCodes: [] });
          body.time = new Date(at).toISOString();
          body.reads = [{ fields: { 'Minor.name': Access.ALLOW }, minorIds: ids }];
          await t.hub.audit.append(body);
        }
        let most = 0;
        for (const { at: s } of reads) most = Math.max(most, new Set(reads.filter((r) => r.at >= s && r.at < s + windowMs).flatMap((r) => r.ids)).size);
        expected.set(userId, most);
      }
      const r = await t.gql(auditor, `query($from: DateTimeISO) { auditAnomalies(from: $from) { kind userId count } }`, { from: new Date(base - 60_000).toISOString() }, {});
      expect(r.errors).toBeUndefined();
      const flagged = new Map(r.data.auditAnomalies.filter((f: any) => f.kind === 'MANY_CHILDREN' && f.userId.startsWith('window-reader-')).map((f: any) => [f.userId, f.count]));
      expect([...expected.values()].some((n) => n < 5)).toBe(false);
      expect(Object.fromEntries(flagged)).toEqual(Object.fromEntries(expected));
    });

    it('scans a window of at most 31 days, once per request', async () => {
      const long = await t.gql(auditor, `query($from: DateTimeISO) { auditAnomalies(from: $from) { kind } }`, { from: '1970-01-01T00:00:00Z' }, {});
      expect([long.data?.auditAnomalies ?? null, long.errors!.map((e: any) => [e.extensions.code, e.extensions.field])]).toEqual([null, [['BAD_USER_INPUT', 'from']]]);
      const month = await t.gql(auditor, `query($from: DateTimeISO) { auditAnomalies(from: $from) { kind } }`, { from: new Date(Date.now() - 30 * 86_400_000).toISOString() }, {});
      expect(month.errors).toBeUndefined();
      const twice = await t.gql(auditor, `{ a: auditAnomalies { kind } b: auditAnomalies { kind } }`, undefined, {});
      expect([Array.isArray(twice.data.a), twice.data.b, twice.errors!.map((e: any) => e.extensions.code)]).toEqual([true, null, ['LIMIT_EXCEEDED']]);
    });

    it('flags people, not the hub’s own deliveries to department systems', async () => {
      const children = (await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 8`)).map((m) => m.id as string);
      const body = auditEvent({ requestId: randomUUID(), startedAt: performance.now(), principal: { userId: 'hub:webhook-delivery', department: Department.POLICE, role: null as never, region: '330102' }, clientAddress: null, outcome: AuditOutcome.SUCCESS, errorCodes: [] });
      body.reads = [{ fields: { 'Minor.name': Access.ALLOW }, minorIds: children }];
      await t.hub.audit.append(body);
      const r = await t.gql(auditor, `{ auditAnomalies { kind userId } }`, undefined, {});
      expect(r.data.auditAnomalies.filter((f: any) => f.userId.startsWith('hub:'))).toEqual([]);
      // And no token may carry such a user id.
      expect(errorCodes(await t.gql(await t.token(Department.POLICE, { user: 'hub:webhook-delivery' }), `{ regions { code } }`))).toEqual(['UNAUTHENTICATED']);
    });

    it('flags a mutation recorded as started with no final event, once it is no longer running', async () => {
      const writer = await t.token(Department.CIVIL_AFFAIRS, { user: 'unfinished-writer' });
      const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
      const done = await post(t, writer, { query: `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "家访" }) { visitedAt } }`, variables: { id } });
      expect((await eventsOf(t, done.requestId)).map((e) => e.outcome)).toEqual(['STARTED', 'SUCCESS']);
      // As the hub leaves it when it stops between the two: a STARTED event alone, ten minutes old,
      // and one alone that may still be running (a minute old).
      const [{ body: started }] = await eventsOf(t, done.requestId);
      const alone = (minutes: number) => ({ ...started, requestId: randomUUID(), time: new Date(Date.now() - minutes * 60_000).toISOString() });
      const old = alone(10);
      await t.hub.audit.append(old as AuditEventBody);
      await t.hub.audit.append(alone(1) as AuditEventBody);
      const r = await t.gql(auditor, `{ auditAnomalies { kind userId count requestIds } }`, undefined, {});
      expect(r.errors).toBeUndefined();
      expect(r.data.auditAnomalies.filter((f: any) => f.kind === 'UNFINISHED_MUTATION')).toEqual([
        { kind: 'UNFINISHED_MUTATION', userId: 'unfinished-writer', count: 1, requestIds: [old.requestId] },
      ]);
    });
  });
});

describe('outcomeOf', () => {
  it('records an answer that carried data as PARTIAL whatever the error beside it, UNAUTHENTICATED included', () => {
    // Distributed mode: one subgraph refused the gateway's assertion (401, forwarded), another served its part.
    expect(outcomeOf(['UNAUTHENTICATED', 'SUBGRAPH_ANSWER_LOST', 'SUBGRAPH_ANSWER_LOST:police'], { minor: { name: '张三' }, policeCases: null })).toBe(AuditOutcome.PARTIAL);
    for (const code of ['FORBIDDEN', 'LIMIT_EXCEEDED', 'INTERNAL_SERVER_ERROR', 'BAD_USER_INPUT']) {
      expect(outcomeOf([code, 'UNAUTHENTICATED'], { regions: [] })).toBe(AuditOutcome.PARTIAL);
    }
  });

  it('keeps a request refused at the door, with no data, UNAUTHENTICATED', () => {
    expect(outcomeOf(['UNAUTHENTICATED'], null)).toBe(AuditOutcome.UNAUTHENTICATED);
    expect(outcomeOf(['UNAUTHENTICATED'], undefined)).toBe(AuditOutcome.UNAUTHENTICATED);
    expect(outcomeOf(['UNAUTHENTICATED', 'FORBIDDEN'], { minor: null, policeCases: null })).toBe(AuditOutcome.UNAUTHENTICATED);
    expect(outcomeOf([], { minor: null })).toBe(AuditOutcome.SUCCESS);
  });

  it('records a request that made a change as PARTIAL though its answer was refused or failed, never DENIED', () => {
    for (const code of ['FORBIDDEN', 'INTERNAL_SERVER_ERROR', 'UNAUTHENTICATED']) expect(outcomeOf([code], null, true)).toBe(AuditOutcome.PARTIAL);
    expect(outcomeOf([], { createSchoolEnrollment: { id: 'x' } }, true)).toBe(AuditOutcome.SUCCESS);
    expect(outcomeOf(['FORBIDDEN'], null, false)).toBe(AuditOutcome.DENIED);
  });
});
