import { Department, Role } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

/**
 * Audit completeness as a data officer reads it: an event's `reads` are what left the hub, the
 * way each field left — not more. (The matrix of ways a child's field leaves the hub, each
 * recorded as served, is in the audit, fast-path, compiled-read and department suites.)
 */
describe('audit: what an answer withheld under a referral’s purpose released', () => {
  let t: TestHub;
  let civil: string;
  let education: string;
  let auditor: string;
  let child: string;
  let other: string;
  let referral: string;
  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(Department.CIVIL_AFFAIRS);
    education = await t.token(Department.EDUCATION);
    auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR });
    [child, other] = (await t.sql(`SELECT minor_id AS id FROM registry.minor_jurisdiction ORDER BY minor_id LIMIT 2 OFFSET 30`)).map((r) => r.id);
    const r = await t.gql(civil, `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, {
      i: { minorId: child, type: 'EDUCATION_AID', toDepartment: 'EDUCATION', need: '家庭困难' },
    });
    expect(r.errors).toBeUndefined();
    referral = r.data.createReferral.id;
  });
  afterAll(() => t.stop());

  const history = async (minorId: string) =>
    (await t.gql(auditor, `query($id: ID!) { minorAccessHistory(minorId: $id) { requestId outcome fields { field access } } }`, { id: minorId }, {})).data.minorAccessHistory;

  it('records the fields of an answer withheld whole as refused, not as served', async () => {
    const r = await post(
      t,
      education,
      { query: `query($a: ID!, $b: ID!) { a: minor(id: $a) { name } b: minor(id: $b) { name school } }`, variables: { a: child, b: other } },
      { 'x-purpose': `REFERRAL; ${referral}` },
    );
    expect([r.status, r.json.data, r.json.errors.map((e: any) => e.extensions.code)]).toEqual([403, undefined, ['FORBIDDEN']]);
    const e = await eventOf(t, r.requestId);
    expect(e.outcome).toBe('DENIED');
    // Nothing of either child left: neither name, nor the other's school.
    expect(e.reads).toEqual(
      [
        { minorId: child, fields: { 'Minor.name': 'DENY' } },
        { minorId: other, fields: { 'Minor.name': 'DENY', 'Minor.school': 'DENY' } },
      ].sort((x, y) => (x.minorId < y.minorId ? -1 : 1)),
    );
    // As the data officer reads the other child's history: a refused attempt, not a read under someone else's referral.
    const seen = (await history(other)).find((h: any) => h.requestId === r.requestId);
    expect(seen).toEqual({
      requestId: r.requestId,
      outcome: 'DENIED',
      fields: [
        { field: 'Minor.name', access: 'DENY' },
        { field: 'Minor.school', access: 'DENY' },
      ],
    });
  });

  it('records a withheld mutation answer’s fields as refused, and its change as made', async () => {
    // A notice of the other child, acknowledged under the referral: the acknowledgement stands, its answer is withheld.
    const other2 = await t.gql(civil, `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, {
      i: { minorId: other, type: 'LEGAL_AID', toDepartment: 'EDUCATION', need: '法律援助' },
    });
    const [notice] = await t.sql(`SELECT id FROM workflow.notification WHERE subject_id = $1 AND department = 'EDUCATION'`, [other2.data.createReferral.id]);
    const r = await post(
      t,
      education,
      { query: `mutation($n: ID!) { acknowledge(id: $n) { id minor { id name } } }`, variables: { n: notice.id } },
      { 'x-purpose': `REFERRAL; ${referral}` },
    );
    expect([r.status, r.json.data, r.json.errors[0].extensions.code]).toEqual([403, undefined, 'FORBIDDEN']);
    const e = await eventOf(t, r.requestId);
    expect([e.outcome, e.changes.map((c: any) => [c.mutation, c.id, c.minorId])]).toEqual(['PARTIAL', [['acknowledge', notice.id, other]]]);
    expect(e.reads).toEqual([{ minorId: other, fields: { 'Minor.id': 'DENY', 'Minor.name': 'DENY', 'Notification.id': 'DENY', 'Notification.minor': 'DENY' } }]);
  });
});

describe('audit: the outcome of an answer that served nothing but the root type’s name', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  it('is DENIED when every root field was refused, whatever `__typename` or introspection of the root beside them says', async () => {
    const education = await t.token(Department.EDUCATION);
    // `Query` is no data: an auditor looking for what was released (SUCCESS or PARTIAL) must not find a refusal.
    for (const query of [
      `{ __typename policeIncidents(first: 1) { nodes { id } } }`,
      `{ t: __typename ...R } fragment R on Query { policeIncidents(first: 1) { nodes { id } } }`,
      `{ ... on Query { __typename } policeIncidents(first: 1) { nodes { id } } }`,
      // The schema is no child's data either (introspection: development only).
      `{ __schema { queryType { name } } policeIncidents(first: 1) { nodes { id } } }`,
      `{ s: __type(name: "Minor") { name } policeIncidents(first: 1) { nodes { id } } }`,
    ]) {
      const r = await post(t, education, { query });
      expect(r.json.errors.map((e: any) => e.extensions.code)).toEqual(['FORBIDDEN']);
      expect((await eventOf(t, r.requestId)).outcome).toBe('DENIED');
    }
    // A root field served beside it is served.
    const served = await post(t, education, { query: `{ __typename regions { code } policeIncidents(first: 1) { nodes { id } } }` });
    expect((await eventOf(t, served.requestId)).outcome).toBe('PARTIAL');
  });
});

describe('audit: a look-up by ID number', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  it('records the number as read of the child it found, whatever is selected: the answer tells that child holds it', async () => {
    const police = await t.token(Department.POLICE);
    const [child] = await t.sql(`SELECT minor_id AS id, trim(m.id_number) AS n FROM registry.minor_jurisdiction j JOIN registry.minor m ON m.id = j.minor_id ORDER BY minor_id LIMIT 1 OFFSET 12`);
    for (const [selection, fields] of [
      ['__typename', {}],
      ['id', { 'Minor.id': 'ALLOW' }],
      ['name', { 'Minor.name': 'ALLOW' }],
    ] as const) {
      const r = await post(t, police, { query: `query($n: String!) { minorByIdNumber(idNumber: $n) { ${selection} } }`, variables: { n: child.n } });
      expect(r.json.errors).toBeUndefined();
      expect((await eventOf(t, r.requestId)).reads).toEqual([{ minorId: child.id, fields: { ...fields, 'Minor.idNumber': 'ALLOW' } }]);
    }
    // A number of no child in reach names none.
    const none = await post(t, police, { query: `query($n: String!) { minorByIdNumber(idNumber: $n) { id } }`, variables: { n: '11010519491231002X' } });
    expect([none.json.data, (await eventOf(t, none.requestId)).reads]).toEqual([{ minorByIdNumber: null }, []]);
  });
});
