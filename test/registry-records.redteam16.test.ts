import { Department } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { nextVisitDue } from '../src/subgraphs/registry/resolvers/minor-mutation.resolver';
import { RiskLevel } from '../src/subgraphs/registry/registry.enums';
import { eventOf, post } from './support/audit-helpers';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';
import { birthYearsAgo } from './support/birth-dates';

jest.setTimeout(300_000);

/**
 * Red team 16: the registry's sub-record writes by CIVIL_AFFAIRS (guardians, categories,
 * assessments, visits) and their side effects (riskLevel, nextVisitDue, notifications,
 * overdueVisits), their refusals (typed, nothing half-written), their audit events, and the masks
 * other departments see on the new values.
 */
const { CIVIL_AFFAIRS: CA, POLICE: PO, EDUCATION: ED } = Department;
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; rt16d' };
const STREET = '330102001';
const OTHER_STREET = '330102002';
const LEAK = /select |insert |update |relation "|syntax error|postgres|typeorm|QueryFailed|constraint|violat|\sat \S+ \(|\.ts:\d/i;

const ADD_GUARDIAN = `mutation($m: ID!, $i: GuardianInput!) { addGuardian(minorId: $m, input: $i) { id relationship name phone address situation situationNote } }`;
const REMOVE_GUARDIAN = `mutation($g: ID!) { removeGuardian(guardianId: $g) }`;
const ADD_CATEGORY = `mutation($m: ID!, $c: DifficultyCategory!, $d: String) { addCategory(minorId: $m, category: $c, identifiedAt: $d) { id categories { category identifiedAt } } }`;
const REMOVE_CATEGORY = `mutation($m: ID!, $c: DifficultyCategory!) { removeCategory(minorId: $m, category: $c) { id categories { category identifiedAt } } }`;
const ASSESS = `mutation($m: ID!, $i: AssessmentInput!) { recordAssessment(minorId: $m, input: $i) { id level assessedAt nextVisitDue assessor reasons } }`;
const VISIT = `mutation($m: ID!, $i: VisitInput!) { recordVisit(minorId: $m, input: $i) { id visitedAt visitor notes } }`;

let seq = 600;
describe.each([
  ['in process', false],
  ['with every subgraph served alone', true],
])('registry sub-record writes (red team 16), %s', (_mode, distributed) => {
  let t: TestHub;
  let ca: string; // district civil affairs
  let caStreet: string; // civil affairs of STREET only
  let police: string;
  let education: string;
  let gridHere: string;
  let gridThere: string;

  beforeAll(async () => {
    t = distributed ? await startDistributedTestHub() : await startTestHub();
    ca = await t.token(CA, { user: 'rt16d-ca' });
    caStreet = await t.token(CA, { region: STREET, user: 'rt16d-ca-street' });
    police = await t.token(PO);
    education = await t.token(ED);
    [{ code: gridHere }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE $1 ORDER BY code LIMIT 1`, [`${STREET}%`]);
    [{ code: gridThere }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE $1 ORDER BY code LIMIT 1`, [`${OTHER_STREET}%`]);
  });
  afterAll(() => t.stop());

  const gql = (token: string, query: string, variables: Record<string, unknown>) => post(t, token, { query, variables }, PURPOSE);

  /** A new child of `grid`, registered by district civil affairs. */
  const newChild = async (grid: string, years = 9, days = 10): Promise<{ id: string; birthDate: string }> => {
    const birthDate = birthYearsAgo(years, days);
    const r = await t.gql(
      ca,
      `mutation($i: CreateMinorInput!) { createMinor(input: $i) { id birthDate } }`,
      {
        i: {
          name: '王小明',
          idNumber: buildIdNumber('330102', birthDate, seq++),
          householdRegistration: '浙江省杭州市上城区清波街道',
          currentAddress: '浙江省杭州市上城区清波街道清波东社区1号',
          gridCode: grid,
        },
      },
      PURPOSE,
    );
    expect(r.errors).toBeUndefined();
    return r.data.createMinor;
  };

  /** Everything the registry and workflow hold about one child, to compare before and after a refused write. */
  const stateOf = async (minorId: string) => {
    const [row] = await t.sql(
      `SELECT (SELECT row_to_json(m)::text FROM registry.minor m WHERE m.id = $1) AS minor,
              (SELECT coalesce(string_agg(row_to_json(g)::text, '|' ORDER BY g.id), '') FROM registry.guardian g WHERE g.minor_id = $1) AS guardians,
              (SELECT coalesce(string_agg(row_to_json(c)::text, '|' ORDER BY c.category), '') FROM registry.minor_category c WHERE c.minor_id = $1) AS categories,
              (SELECT coalesce(string_agg(row_to_json(a)::text, '|' ORDER BY a.id), '') FROM registry.risk_assessment a WHERE a.minor_id = $1) AS assessments,
              (SELECT coalesce(string_agg(row_to_json(v)::text, '|' ORDER BY v.id), '') FROM registry.visit v WHERE v.minor_id = $1) AS visits,
              (SELECT count(*)::int FROM workflow.notification n WHERE n.minor_id = $1) AS notifications`,
      [minorId],
    );
    return row;
  };
  const totals = async () =>
    (
      await t.sql(`SELECT (SELECT count(*) FROM registry.guardian) || '/' || (SELECT count(*) FROM registry.minor_category) || '/' ||
                          (SELECT count(*) FROM registry.risk_assessment) || '/' || (SELECT count(*) FROM registry.visit) || '/' ||
                          (SELECT count(*) FROM workflow.notification) || '/' || (SELECT max(updated_at)::text FROM registry.minor) AS s`)
    )[0].s as string;

  const shapeOf = (a: Awaited<ReturnType<typeof gql>>) => ({
    status: a.status,
    data: a.json?.data,
    errors: (a.json?.errors ?? []).map((e: any) => ({ message: e.message, path: e.path, extensions: e.extensions })),
  });
  const eventShape = (e: Record<string, any>) => ({ outcome: e.outcome, errorCodes: e.errorCodes, reads: e.reads, changes: e.changes });

  // ---------------------------------------------------------------------------------------------
  describe('another street’s child or guardian answers exactly as an unknown id', () => {
    let there: { id: string };
    let thereGuardian: string;
    const unknown = '0f6e8a52-4c1b-4d4e-9a7b-2f1e5d3c9b11';

    beforeAll(async () => {
      there = await newChild(gridThere);
      const g = await gql(ca, ADD_GUARDIAN, { m: there.id, i: { relationship: 'MOTHER', name: '张丽', phone: '13900001803' } });
      expect(g.json.errors).toBeUndefined();
      thereGuardian = g.json.data.addGuardian.id;
      const a = await gql(ca, ASSESS, { m: there.id, i: { level: 'YELLOW', reasons: '监护不力' } });
      expect(a.json.errors).toBeUndefined();
      const c = await gql(ca, ADD_CATEGORY, { m: there.id, c: 'LEFT_BEHIND' });
      expect(c.json.errors).toBeUndefined();
    });

    const calls: [string, string, (id: string) => Record<string, unknown>][] = [
      ['addGuardian', ADD_GUARDIAN, (id) => ({ m: id, i: { relationship: 'FATHER', name: '王强', phone: '13900001804' } })],
      ['addCategory', ADD_CATEGORY, (id) => ({ m: id, c: 'LACK_OF_GUARDIANSHIP' })],
      ['addCategory (a category the child has)', ADD_CATEGORY, (id) => ({ m: id, c: 'LEFT_BEHIND' })],
      ['addCategory (dated before any birth)', ADD_CATEGORY, (id) => ({ m: id, c: 'POVERTY', d: '1901-01-01' })],
      ['removeCategory (one the child has)', REMOVE_CATEGORY, (id) => ({ m: id, c: 'LEFT_BEHIND' })],
      ['removeCategory (one it has not)', REMOVE_CATEGORY, (id) => ({ m: id, c: 'ORPHAN' })],
      ['recordAssessment RED', ASSESS, (id) => ({ m: id, i: { level: 'RED', reasons: '立即处置' } })],
      ['recordAssessment dated before any birth', ASSESS, (id) => ({ m: id, i: { level: 'BLUE', reasons: 'x', assessedAt: '1901-01-01T00:00:00Z' } })],
      ['recordVisit', VISIT, (id) => ({ m: id, i: { notes: '走访' } })],
      ['recordVisit dated before any birth', VISIT, (id) => ({ m: id, i: { notes: '走访', visitedAt: '1901-01-01T00:00:00Z' } })],
    ];
    it.each(calls)('%s on another street’s child', async (_what, query, vars) => {
      const before = await stateOf(there.id);
      const all = await totals();
      const other = await gql(caStreet, query, vars(there.id));
      const none = await gql(caStreet, query, vars(unknown));
      expect(shapeOf(other).errors.map((e: any) => e.extensions?.code)).toEqual(['NOT_FOUND']);
      expect(shapeOf(other)).toEqual(shapeOf(none));
      expect(eventShape(await eventOf(t, other.requestId))).toEqual(eventShape(await eventOf(t, none.requestId)));
      expect((await eventOf(t, other.requestId)).reads).toEqual([]);
      expect(await stateOf(there.id)).toEqual(before);
      expect(await totals()).toBe(all);
    });

    it('removeGuardian of another street’s guardian', async () => {
      const before = await stateOf(there.id);
      const other = await gql(caStreet, REMOVE_GUARDIAN, { g: thereGuardian });
      const none = await gql(caStreet, REMOVE_GUARDIAN, { g: unknown });
      expect(shapeOf(other).errors.map((e: any) => e.extensions?.code)).toEqual(['NOT_FOUND']);
      expect(shapeOf(other)).toEqual(shapeOf(none));
      expect(eventShape(await eventOf(t, other.requestId))).toEqual(eventShape(await eventOf(t, none.requestId)));
      expect(await stateOf(there.id)).toEqual(before);
    });

    it('a guardian id, an assessment id or a visit id given as a child id is an unknown child', async () => {
      const [{ id: assessmentId }] = await t.sql(`SELECT id FROM registry.risk_assessment WHERE minor_id = $1`, [there.id]);
      for (const id of [thereGuardian, assessmentId]) {
        const a = await gql(ca, ADD_CATEGORY, { m: id, c: 'POVERTY' });
        const none = await gql(ca, ADD_CATEGORY, { m: unknown, c: 'POVERTY' });
        expect(shapeOf(a)).toEqual(shapeOf(none));
        expect(eventShape(await eventOf(t, a.requestId))).toEqual(eventShape(await eventOf(t, none.requestId)));
      }
      // and a child's id given as a guardian's
      const a = await gql(ca, REMOVE_GUARDIAN, { g: there.id });
      const none = await gql(ca, REMOVE_GUARDIAN, { g: unknown });
      expect(shapeOf(a)).toEqual(shapeOf(none));
      expect(await stateOf(there.id)).toEqual(await stateOf(there.id));
    });

    it('a non-UUID id answers as an unknown one, with no SQL text', async () => {
      for (const bad of ['1', "x' OR 1=1 --", '0f6e8a52-4c1b-4d4e-9a7b-2f1e5d3c9b1\u0000', 'a'.repeat(5000)]) {
        for (const [query, vars] of [
          [ADD_GUARDIAN, { m: bad, i: { relationship: 'FATHER', name: '王强' } }],
          [REMOVE_GUARDIAN, { g: bad }],
          [ADD_CATEGORY, { m: bad, c: 'POVERTY' }],
          [REMOVE_CATEGORY, { m: bad, c: 'POVERTY' }],
          [ASSESS, { m: bad, i: { level: 'BLUE', reasons: 'x' } }],
          [VISIT, { m: bad, i: { notes: 'x' } }],
        ] as [string, Record<string, unknown>][]) {
          const a = await gql(ca, query, vars);
          expect(a.json.errors.map((e: any) => e.extensions?.code)).toEqual(['NOT_FOUND']);
          expect(JSON.stringify(a.json)).not.toMatch(LEAK);
        }
      }
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('a child who has turned 18 answers as an unknown id', () => {
    let adult: { id: string };
    let adultGuardian: string;
    const unknown = '0f6e8a52-4c1b-4d4e-9a7b-2f1e5d3c9b13';
    beforeAll(async () => {
      adult = await newChild(gridHere);
      adultGuardian = (await gql(ca, ADD_GUARDIAN, { m: adult.id, i: { relationship: 'MOTHER', name: '陈芳' } })).json.data.addGuardian.id;
      await gql(ca, ADD_CATEGORY, { m: adult.id, c: 'POVERTY' });
      // set-up only: the child's birthday moved 18 years and a day back
      await t.sql(`UPDATE registry.minor SET birth_date = (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '18 years 1 day' WHERE id = $1`, [adult.id]);
    });
    const calls: [string, string, (id: string) => Record<string, unknown>][] = [
      ['addGuardian', ADD_GUARDIAN, (id) => ({ m: id, i: { relationship: 'FATHER', name: '王强' } })],
      ['addCategory', ADD_CATEGORY, (id) => ({ m: id, c: 'LACK_OF_GUARDIANSHIP' })],
      ['removeCategory', REMOVE_CATEGORY, (id) => ({ m: id, c: 'POVERTY' })],
      ['recordAssessment', ASSESS, (id) => ({ m: id, i: { level: 'RED', reasons: 'x' } })],
      ['recordVisit', VISIT, (id) => ({ m: id, i: { notes: 'x' } })],
    ];
    it.each(calls)('%s', async (_w, query, vars) => {
      const before = await stateOf(adult.id);
      const a = await gql(ca, query, vars(adult.id));
      const none = await gql(ca, query, vars(unknown));
      expect(shapeOf(a).errors.map((e: any) => e.extensions?.code)).toEqual(['NOT_FOUND']);
      expect(shapeOf(a)).toEqual(shapeOf(none));
      expect(eventShape(await eventOf(t, a.requestId))).toEqual(eventShape(await eventOf(t, none.requestId)));
      expect(await stateOf(adult.id)).toEqual(before);
    });
    it('removeGuardian of the adult’s guardian', async () => {
      const before = await stateOf(adult.id);
      const a = await gql(ca, REMOVE_GUARDIAN, { g: adultGuardian });
      const none = await gql(ca, REMOVE_GUARDIAN, { g: unknown });
      expect(shapeOf(a)).toEqual(shapeOf(none));
      expect(eventShape(await eventOf(t, a.requestId))).toEqual(eventShape(await eventOf(t, none.requestId)));
      expect(await stateOf(adult.id)).toEqual(before);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('CHILD_RED and moves', () => {
    const move = async (id: string, grid: string) => {
      const r = await gql(ca, `mutation($id: ID!, $g: ID!) { updateMinor(id: $id, input: { gridCode: $g }) { id grid { code } } }`, { id, g: grid });
      expect(r.json.errors).toBeUndefined();
    };
    const redIn = async (id: string) =>
      (await t.sql(`SELECT region_code, department FROM workflow.notification WHERE minor_id = $1 AND kind = 'CHILD_RED' ORDER BY 1, 2`, [id])).map((r: any) => `${r.region_code}:${r.department}`);

    it('a child at RED who moved and is assessed RED again: the new grid is told, once', async () => {
      const c = await newChild(gridHere);
      await gql(ca, ASSESS, { m: c.id, i: { level: 'RED', reasons: 'a', assessedAt: new Date(Date.now() - 86400_000).toISOString() } });
      await move(c.id, gridThere);
      expect((await redIn(c.id)).filter((x) => x.startsWith(gridThere))).toEqual([]);
      await gql(ca, ASSESS, { m: c.id, i: { level: 'RED', reasons: 'b' } });
      await gql(ca, ASSESS, { m: c.id, i: { level: 'RED', reasons: 'c' } });
      expect((await redIn(c.id)).filter((x) => x.startsWith(gridThere))).toEqual(['CIVIL_AFFAIRS', 'EDUCATION', 'POLICE', 'WOMENS_FEDERATION'].map((d) => `${gridThere}:${d}`));
    });

    it('a child at RED who moved, assessed RED with an earlier date than the RED it is at: the new grid is told', async () => {
      const c = await newChild(gridHere);
      await gql(ca, ASSESS, { m: c.id, i: { level: 'RED', reasons: 'a', assessedAt: new Date(Date.now() - 86400_000).toISOString() } });
      await move(c.id, gridThere);
      const r = await gql(ca, ASSESS, { m: c.id, i: { level: 'RED', reasons: 'back-dated', assessedAt: new Date(Date.now() - 2 * 86400_000).toISOString() } });
      expect(r.json.errors).toBeUndefined();
      expect((await redIn(c.id)).filter((x) => x.startsWith(gridThere))).toEqual(['CIVIL_AFFAIRS', 'EDUCATION', 'POLICE', 'WOMENS_FEDERATION'].map((d) => `${gridThere}:${d}`));
      // They are told of the RED assessment made here (its reasons to civil affairs, which reads them).
      const told = await t.sql(
        `SELECT DISTINCT subject_id, payload->>'RiskAssessment.reasons' AS reasons FROM workflow.notification WHERE minor_id = $1 AND kind = 'CHILD_RED' AND region_code = $2 AND department = 'CIVIL_AFFAIRS'`,
        [c.id, gridThere],
      );
      expect(told).toEqual([{ subject_id: r.json.data.recordAssessment.id, reasons: 'back-dated' }]);
    });

    it('a child at RED who moved, given a back-dated BLUE assessment: nobody is told it is newly RED', async () => {
      const c = await newChild(gridHere);
      await gql(ca, ASSESS, { m: c.id, i: { level: 'RED', reasons: 'a', assessedAt: new Date(Date.now() - 86400_000).toISOString() } });
      await move(c.id, gridThere);
      const r = await gql(ca, ASSESS, { m: c.id, i: { level: 'BLUE', reasons: 'old', assessedAt: new Date(Date.now() - 20 * 86400_000).toISOString() } });
      expect(r.json.errors).toBeUndefined();
      expect((await redIn(c.id)).filter((x) => x.startsWith(gridThere))).toEqual([]);
    });

    it('LACK_OF_GUARDIANSHIP removed and given again after a move, same day: the new grid is told once', async () => {
      const c = await newChild(gridHere);
      await gql(ca, ADD_CATEGORY, { m: c.id, c: 'LACK_OF_GUARDIANSHIP' });
      await move(c.id, gridThere);
      await gql(ca, REMOVE_CATEGORY, { m: c.id, c: 'LACK_OF_GUARDIANSHIP' });
      await Promise.all([0, 1, 2].map(() => gql(ca, ADD_CATEGORY, { m: c.id, c: 'LACK_OF_GUARDIANSHIP' })));
      const rows = await t.sql(`SELECT region_code || ':' || department AS k FROM workflow.notification WHERE minor_id = $1 AND kind = 'GUARDIANSHIP_FAILURE' ORDER BY 1`, [c.id]);
      expect(rows.map((r: any) => r.k)).toEqual([
        ...['CIVIL_AFFAIRS', 'POLICE', 'WOMENS_FEDERATION'].map((d) => `${gridHere}:${d}`),
        ...['CIVIL_AFFAIRS', 'POLICE', 'WOMENS_FEDERATION'].map((d) => `${gridThere}:${d}`),
      ].sort());
    });

    it('the CHILD_RED payload: POLICE reads the reasons, EDUCATION the masked number and address and no reasons', async () => {
      const c = await newChild(gridHere);
      const a = await gql(ca, ASSESS, { m: c.id, i: { level: 'RED', reasons: '家暴线索 立即处置' } });
      const q = `{ notifications(first: 200) { kind subjectId minor { id } payload { field value } } }`;
      const find = async (token: string) => {
        const r = await gql(token, q, {});
        expect(r.json.errors).toBeUndefined();
        const n = r.json.data.notifications.find((x: any) => x.kind === 'CHILD_RED' && x.subjectId === a.json.data.recordAssessment.id);
        return Object.fromEntries(n.payload.map((p: any) => [p.field, p.value]));
      };
      const po = await find(police);
      expect(po['RiskAssessment.reasons']).toBe('家暴线索 立即处置');
      const ed = await find(education);
      expect(ed['RiskAssessment.reasons']).toBeUndefined();
      expect(ed['Minor.idNumber']).toMatch(/^330102\*{12}$/);
      expect(ed['Minor.currentAddress']).toBe('浙江省杭州市上城区********');
    });

    it('LACK_OF_GUARDIANSHIP tells civil affairs, police and the women’s federation; DOMESTIC_VIOLENCE not the federation', async () => {
      const c = await newChild(gridHere);
      await gql(ca, ADD_CATEGORY, { m: c.id, c: 'LACK_OF_GUARDIANSHIP' });
      await gql(ca, ADD_CATEGORY, { m: c.id, c: 'DOMESTIC_VIOLENCE' });
      const rows = await t.sql(`SELECT payload->>'MinorCategory.category' AS c, department FROM workflow.notification WHERE minor_id = $1 AND kind = 'GUARDIANSHIP_FAILURE' ORDER BY 1, 2`, [c.id]);
      expect(rows.map((r: any) => `${r.c}:${r.department}`)).toEqual([
        'DOMESTIC_VIOLENCE:CIVIL_AFFAIRS', 'DOMESTIC_VIOLENCE:POLICE',
        'LACK_OF_GUARDIANSHIP:CIVIL_AFFAIRS', 'LACK_OF_GUARDIANSHIP:POLICE', 'LACK_OF_GUARDIANSHIP:WOMENS_FEDERATION',
      ]);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('other departments read the new values masked', () => {
    it('JUSTICE, YOUTH_LEAGUE and WOMENS_FEDERATION read a new guardian, category, assessment and visit as the table says', async () => {
      const c = await newChild(gridHere);
      await gql(ca, ADD_GUARDIAN, { m: c.id, i: { relationship: 'FATHER', name: '刘建国', phone: '13912341803', address: '浙江省杭州市上城区清波街道清波东社区3号', situation: 'SERVING_SENTENCE', situationNote: '服刑' } });
      await gql(ca, ADD_CATEGORY, { m: c.id, c: 'INCARCERATED_PARENT' });
      await gql(ca, ASSESS, { m: c.id, i: { level: 'YELLOW', reasons: '父亲服刑' } });
      await gql(ca, VISIT, { m: c.id, i: { notes: '家中情况' } });
      const q = `query($id: ID!) { minor(id: $id) { categories { category } guardians { name phone address situation situationNote } latestAssessment { level reasons assessor } nextVisitDue visits { notes visitor } } }`;
      const read = async (d: Department) => {
        const r = await gql(await t.token(d), q, { id: c.id });
        return { data: r.json.data.minor, denied: (r.json.errors ?? []).map((e: any) => e.extensions.field).sort() };
      };
      const ju = await read(Department.JUSTICE);
      expect(ju.data.categories).toEqual([{ category: 'INCARCERATED_PARENT' }]);
      expect(ju.data.guardians).toEqual([{ name: '刘建国', phone: '139****1803', address: '浙江省杭州市上城区********', situation: 'SERVING_SENTENCE', situationNote: '服刑' }]);
      expect(ju.data.latestAssessment).toEqual({ level: 'YELLOW', reasons: '父亲服刑', assessor: 'rt16d-ca' });
      expect(ju.denied).toEqual(['Visit.notes']);
      const yl = await read(Department.YOUTH_LEAGUE);
      expect(yl.data.categories).toEqual([{ category: 'NEEDS_SUPPORT' }]);
      expect(yl.data.guardians).toEqual([{ name: '刘**', phone: '139****1803', address: null, situation: null, situationNote: null }]);
      expect(yl.data.latestAssessment).toEqual({ level: 'YELLOW', reasons: null, assessor: null });
      expect(yl.data.nextVisitDue).toBeNull();
      expect(yl.data.visits).toBeNull();
      const wf = await read(Department.WOMENS_FEDERATION);
      expect(wf.data.categories).toEqual([{ category: 'NEEDS_SUPPORT' }]);
      expect(wf.data.guardians).toEqual([{ name: '刘建国', phone: '13912341803', address: '浙江省杭州市上城区清波街道清波东社区3号', situation: null, situationNote: null }]);
      expect(wf.data.latestAssessment).toEqual({ level: 'YELLOW', reasons: null, assessor: 'rt16d-ca' });
      expect(wf.denied).toEqual(['Guardian.situation', 'Guardian.situationNote', 'RiskAssessment.reasons', 'Visit.notes']);
    });

    it('a mutation’s answer is recorded as a read of the child it shows', async () => {
      const c = await newChild(gridHere);
      const r = await gql(ca, ADD_CATEGORY, { m: c.id, c: 'POVERTY' });
      const e = await eventOf(t, r.requestId);
      expect(e.reads).toEqual([expect.objectContaining({ minorId: c.id })]);
      const fields = JSON.stringify(e.reads[0]);
      expect(fields).toContain('MinorCategory.category');
      expect(fields).toContain('MinorCategory.identifiedAt');
    });
  });


  // ---------------------------------------------------------------------------------------------
  describe('several writes in one request, ids in another case', () => {
    it('a write served beside one refused NOT_FOUND: the first stands, the event records its change and nothing of the other street’s child', async () => {
      const here = await newChild(gridHere);
      const there = await newChild(gridThere);
      const before = await stateOf(there.id);
      const r = await gql(
        caStreet,
        `mutation($a: ID!, $b: ID!) { a: recordVisit(minorId: $a, input: { notes: "甲" }) { id } b: recordVisit(minorId: $b, input: { notes: "乙" }) { id } }`,
        { a: here.id, b: there.id },
      );
      expect(r.json.data.a.id).toBeTruthy();
      expect(r.json.data.b).toBeNull();
      expect(r.json.errors.map((e: any) => [e.extensions.code, e.path])).toEqual([['NOT_FOUND', ['b']]]);
      const e = await eventOf(t, r.requestId);
      expect(e.outcome).toBe('PARTIAL');
      expect(e.changes).toEqual([{ mutation: 'recordVisit', id: r.json.data.a.id, minorId: here.id, fields: ['input.notes', 'minorId'] }]);
      expect(JSON.stringify(e.reads)).not.toContain(there.id);
      expect(await stateOf(there.id)).toEqual(before);
    });

    it('writes in one document: each later field answers what the earlier ones wrote', async () => {
      const c = await newChild(gridHere);
      const r = await gql(
        ca,
        `mutation($m: ID!) {
          a: addCategory(minorId: $m, category: POVERTY) { riskLevel nextVisitDue latestAssessment { level } guardians { name } visits { notes } }
          b: recordAssessment(minorId: $m, input: { level: YELLOW, reasons: "y", assessedAt: "2026-01-01T00:00:00Z" }) { id }
          c: addGuardian(minorId: $m, input: { relationship: MOTHER, name: "陈芳" }) { id }
          d: recordVisit(minorId: $m, input: { notes: "v", visitedAt: "2026-02-01T00:00:00Z" }) { id }
          e: addCategory(minorId: $m, category: ORPHAN) { riskLevel nextVisitDue latestAssessment { level } guardians { name } visits { notes } categories { category } }
          f: removeCategory(minorId: $m, category: POVERTY) { categories { category } }
        }`,
        { m: c.id },
      );
      expect(r.json.errors).toBeUndefined();
      expect(r.json.data.a).toEqual({ riskLevel: null, nextVisitDue: null, latestAssessment: null, guardians: [], visits: [] });
      expect(r.json.data.e).toEqual({
        riskLevel: 'YELLOW',
        nextVisitDue: nextVisitDue(RiskLevel.YELLOW, new Date('2026-02-01T00:00:00Z')).toISOString(),
        latestAssessment: { level: 'YELLOW' },
        guardians: [{ name: '陈芳' }],
        visits: [{ notes: 'v' }],
        categories: [{ category: 'ORPHAN' }, { category: 'POVERTY' }].sort((x, y) => x.category.localeCompare(y.category)),
      });
      expect(r.json.data.f).toEqual({ categories: [{ category: 'ORPHAN' }] });
      const e = await eventOf(t, r.requestId);
      expect(e.changes.map((x: any) => x.mutation)).toEqual(['addCategory', 'recordAssessment', 'addGuardian', 'recordVisit', 'addCategory', 'removeCategory']);
    });

    it('an upper-case child id writes the same child and is audited with its canonical id', async () => {
      const c = await newChild(gridHere);
      const r = await gql(ca, VISIT, { m: c.id.toUpperCase(), i: { notes: '走访' } });
      expect(r.json.errors).toBeUndefined();
      const e = await eventOf(t, r.requestId);
      expect(e.changes).toEqual([{ mutation: 'recordVisit', id: r.json.data.recordVisit.id, minorId: c.id, fields: ['input.notes', 'minorId'] }]);
      const g = (await gql(ca, ADD_GUARDIAN, { m: c.id.toUpperCase(), i: { relationship: 'MOTHER', name: '陈芳' } })).json.data.addGuardian.id;
      const rm = await gql(ca, REMOVE_GUARDIAN, { g: g.toUpperCase() });
      expect(rm.json.data.removeGuardian).toBe(g);
      expect((await eventOf(t, rm.requestId)).changes).toEqual([{ mutation: 'removeGuardian', id: g, minorId: c.id, fields: ['guardianId'] }]);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('refusals stating the child’s record record the field they state', () => {
    it('a visit before birth records Minor.birthDate; an 11th guardian Minor.guardians', async () => {
      const c = await newChild(gridHere, 2);
      const r = await gql(ca, VISIT, { m: c.id, i: { notes: 'x', visitedAt: new Date(Date.now() - 3 * 365 * 86400_000).toISOString() } });
      expect(r.json.errors.map((e: any) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
      expect(JSON.stringify((await eventOf(t, r.requestId)).reads)).toContain('Minor.birthDate');
      for (let i = 0; i < 10; i++) await gql(ca, ADD_GUARDIAN, { m: c.id, i: { relationship: 'OTHER_RELATIVE', name: '王二' } });
      const eleventh = await gql(ca, ADD_GUARDIAN, { m: c.id, i: { relationship: 'OTHER_RELATIVE', name: '王二' } });
      expect(eleventh.json.errors.map((e: any) => [e.extensions.code, e.extensions.field])).toEqual([['BAD_USER_INPUT', 'minorId']]);
      const e = await eventOf(t, eleventh.requestId);
      expect(JSON.stringify(e.reads)).toContain('Minor.guardians');
      expect(e.changes).toEqual([]);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('other departments may not write the registry, and learn nothing from trying', () => {
    it.each([Department.POLICE, Department.EDUCATION, Department.WOMENS_FEDERATION])('%s: every sub-record write is FORBIDDEN alike for a real child and an unknown id, nothing written', async (d) => {
      const token = await t.token(d);
      const c = await newChild(gridHere);
      const g = (await gql(ca, ADD_GUARDIAN, { m: c.id, i: { relationship: 'MOTHER', name: '陈芳' } })).json.data.addGuardian.id;
      await gql(ca, ADD_CATEGORY, { m: c.id, c: 'POVERTY' });
      const before = await stateOf(c.id);
      const unknown = '0f6e8a52-4c1b-4d4e-9a7b-2f1e5d3c9b14';
      for (const [query, vars] of [
        [ADD_GUARDIAN, (id: string) => ({ m: id, i: { relationship: 'FATHER', name: '王强' } })],
        [REMOVE_GUARDIAN, (id: string) => ({ g: id === c.id ? g : id })],
        [ADD_CATEGORY, (id: string) => ({ m: id, c: 'ORPHAN' })],
        [REMOVE_CATEGORY, (id: string) => ({ m: id, c: 'POVERTY' })],
        [ASSESS, (id: string) => ({ m: id, i: { level: 'RED', reasons: 'x' } })],
        [VISIT, (id: string) => ({ m: id, i: { notes: 'x' } })],
      ] as [string, (id: string) => Record<string, unknown>][]) {
        const real = await gql(token, query, vars(c.id));
        const none = await gql(token, query, vars(unknown));
        expect(shapeOf(real).errors.map((e: any) => e.extensions?.code)).toEqual(['FORBIDDEN']);
        expect(shapeOf(real)).toEqual(shapeOf(none));
        const e = await eventOf(t, real.requestId);
        expect(eventShape(e)).toEqual(eventShape(await eventOf(t, none.requestId)));
        expect(e.changes).toEqual([]);
      }
      expect(await stateOf(c.id)).toEqual(before);
    });
  });

  describe('dates are days in China', () => {
    it('an omitted identifiedAt is today in China; today in China is not the future', async () => {
      const c = await newChild(gridHere);
      const chinaToday = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
      const a = await gql(ca, ADD_CATEGORY, { m: c.id, c: 'POVERTY' });
      expect(a.json.data.addCategory.categories).toEqual([{ category: 'POVERTY', identifiedAt: chinaToday }]);
      const b = await gql(ca, ADD_CATEGORY, { m: c.id, c: 'ORPHAN', d: chinaToday });
      expect(b.json.errors).toBeUndefined();
    });
    it('a guardian name of 50 characters outside the BMP is accepted, 51 refused', async () => {
      const c = await newChild(gridHere);
      const ok = await gql(ca, ADD_GUARDIAN, { m: c.id, i: { relationship: 'FATHER', name: '𠀀'.repeat(50) } });
      expect(ok.json.errors).toBeUndefined();
      const bad = await gql(ca, ADD_GUARDIAN, { m: c.id, i: { relationship: 'FATHER', name: '𠀀'.repeat(51) } });
      expect(bad.json.errors.map((e: any) => [e.extensions.code, e.extensions.field])).toEqual([['BAD_USER_INPUT', 'name']]);
      const lone = await gql(ca, ADD_GUARDIAN, { m: c.id, i: { relationship: 'FATHER', name: '刘\uD840' } });
      expect(lone.json.errors.map((e: any) => [e.extensions.code, e.extensions.field])).toEqual([['BAD_USER_INPUT', 'name']]);
    });
  });
  // ---------------------------------------------------------------------------------------------
  describe('categories', () => {
    it('the same category twice: the second changes nothing, audits no change, tells no one again', async () => {
      const c = await newChild(gridHere);
      const first = await gql(ca, ADD_CATEGORY, { m: c.id, c: 'LACK_OF_GUARDIANSHIP' });
      expect(first.json.errors).toBeUndefined();
      const e1 = await eventOf(t, first.requestId);
      expect(e1.outcome).toBe('SUCCESS');
      expect(e1.changes).toEqual([{ mutation: 'addCategory', id: c.id, minorId: c.id, fields: ['category', 'minorId'] }]);
      const before = await stateOf(c.id);
      expect(before.notifications).toBeGreaterThan(0);
      const second = await gql(ca, ADD_CATEGORY, { m: c.id, c: 'LACK_OF_GUARDIANSHIP', d: birthYearsAgo(1) });
      expect(second.json.errors).toBeUndefined();
      expect(second.json.data.addCategory.categories).toEqual(first.json.data.addCategory.categories);
      expect((await eventOf(t, second.requestId)).changes).toEqual([]);
      expect(await stateOf(c.id)).toEqual(before);
    });

    it('removing a category never added: BAD_USER_INPUT naming the category, nothing written, the refusal audited without change', async () => {
      const c = await newChild(gridHere);
      await gql(ca, ADD_CATEGORY, { m: c.id, c: 'POVERTY' });
      const before = await stateOf(c.id);
      const r = await gql(ca, REMOVE_CATEGORY, { m: c.id, c: 'ORPHAN' });
      expect(r.json.errors.map((e: any) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', 'category']]);
      expect(r.json.data?.removeCategory ?? null).toBeNull();
      const e = await eventOf(t, r.requestId);
      expect(e.outcome).toBe('INVALID');
      expect(e.errorCodes).toEqual(['BAD_USER_INPUT']);
      expect(e.changes).toEqual([]);
      expect(JSON.stringify(e.reads)).toContain('Minor.categories');
      expect(await stateOf(c.id)).toEqual(before);
    });

    it('removing the last category leaves the child with none, audited as a change', async () => {
      const c = await newChild(gridHere);
      await gql(ca, ADD_CATEGORY, { m: c.id, c: 'POVERTY' });
      const r = await gql(ca, REMOVE_CATEGORY, { m: c.id, c: 'POVERTY' });
      expect(r.json.errors).toBeUndefined();
      expect(r.json.data.removeCategory.categories).toEqual([]);
      expect((await eventOf(t, r.requestId)).changes).toEqual([{ mutation: 'removeCategory', id: c.id, minorId: c.id, fields: ['category', 'minorId'] }]);
      expect(await t.sql(`SELECT 1 FROM registry.minor_category WHERE minor_id = $1`, [c.id])).toEqual([]);
      // and removing it once more is refused
      const again = await gql(ca, REMOVE_CATEGORY, { m: c.id, c: 'POVERTY' });
      expect(again.json.errors.map((e: any) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    });

    it('NEEDS_SUPPORT, a future or impossible date, a date before birth are refused, nothing written', async () => {
      const c = await newChild(gridHere, 3);
      const before = await stateOf(c.id);
      const tomorrow = new Date(Date.now() + 2 * 86400_000).toISOString().slice(0, 10);
      for (const [vars, field] of [
        [{ c: 'NEEDS_SUPPORT' }, 'category'],
        [{ c: 'POVERTY', d: tomorrow }, 'identifiedAt'],
        [{ c: 'POVERTY', d: '2025-02-30' }, 'identifiedAt'],
        [{ c: 'POVERTY', d: '2020-1-1' }, 'identifiedAt'],
        [{ c: 'POVERTY', d: birthYearsAgo(4) }, 'identifiedAt'],
      ] as [Record<string, unknown>, string][]) {
        const r = await gql(ca, ADD_CATEGORY, { m: c.id, ...vars });
        expect([r.status, r.json.errors.map((e: any) => [e.extensions?.code, e.extensions?.field])]).toEqual([200, [['BAD_USER_INPUT', field]]]);
        expect((await eventOf(t, r.requestId)).changes).toEqual([]);
      }
      expect(await stateOf(c.id)).toEqual(before);
    });

    it('addCategory and removeCategory of one category at once: every answer typed, the end state that of some serial order, one notification', async () => {
      const c = await newChild(gridHere);
      const calls = Array.from({ length: 12 }, (_, i) =>
        i % 2 === 0 ? gql(ca, ADD_CATEGORY, { m: c.id, c: 'DOMESTIC_VIOLENCE' }) : gql(ca, REMOVE_CATEGORY, { m: c.id, c: 'DOMESTIC_VIOLENCE' }),
      );
      const answers = await Promise.all(calls);
      for (const a of answers) {
        expect(a.status).toBe(200);
        for (const e of a.json.errors ?? []) expect(e.extensions?.code).toBe('BAD_USER_INPUT');
      }
      const adds = answers.filter((_, i) => i % 2 === 0);
      const removes = answers.filter((_, i) => i % 2 === 1);
      const removed = removes.filter((a) => !a.json.errors).length;
      const addedEvents = await Promise.all(adds.map((a) => eventOf(t, a.requestId)));
      const added = addedEvents.filter((e) => e.changes.length === 1).length;
      const has = (await t.sql(`SELECT 1 FROM registry.minor_category WHERE minor_id = $1 AND category = 'DOMESTIC_VIOLENCE'`, [c.id])).length;
      // Serial: adds that stored and removes that deleted alternate starting with an add.
      expect(added - removed).toBe(has);
      expect(added).toBeGreaterThan(0);
      // Once per category, identified day and grid.
      const n = await t.sql(`SELECT department FROM workflow.notification WHERE minor_id = $1 AND kind = 'GUARDIANSHIP_FAILURE' ORDER BY 1`, [c.id]);
      expect(n.map((r: any) => r.department)).toEqual(['CIVIL_AFFAIRS', 'POLICE']);
    });

    it('children differing only in which sensitive category they were given read alike to EDUCATION, whatever order they were added in', async () => {
      const q = `query($id: ID!) { minor(id: $id) { categories { category identifiedAt } } }`;
      const seen: string[] = [];
      for (const [sensitive, order] of [['CRIME_VICTIM', 0], ['DOMESTIC_VIOLENCE', 1], ['INCARCERATED_PARENT', 0], ['DOMESTIC_VIOLENCE', 0]] as [string, number][]) {
        const c = await newChild(gridHere);
        const cats = [['DISABILITY', '2024-03-01'], [sensitive, '2024-03-01'], ['DROPOUT', '2024-03-01'], ['POVERTY', '2023-01-01']];
        for (const [cat, d] of order ? cats.reverse() : cats) expect((await gql(ca, ADD_CATEGORY, { m: c.id, c: cat, d })).json.errors).toBeUndefined();
        const ed = await gql(education, q, { id: c.id });
        seen.push(JSON.stringify(ed.json.data.minor.categories));
      }
      expect(new Set(seen).size).toBe(1);
      expect(JSON.parse(seen[0]).map((x: any) => x.category)).not.toContain('CRIME_VICTIM');
    });

    it('a sensitive category just added: EDUCATION sees NEEDS_SUPPORT, POLICE the category', async () => {
      const c = await newChild(gridHere);
      const r = await gql(ca, ADD_CATEGORY, { m: c.id, c: 'CRIME_VICTIM' });
      expect(r.json.errors).toBeUndefined();
      const q = `query($id: ID!) { minor(id: $id) { categories { category identifiedAt } } }`;
      const ed = await gql(education, q, { id: c.id });
      expect(ed.json.errors).toBeUndefined();
      expect(ed.json.data.minor.categories.map((x: any) => x.category)).toEqual(['NEEDS_SUPPORT']);
      const po = await gql(police, q, { id: c.id });
      expect(po.json.data.minor.categories.map((x: any) => x.category)).toEqual(['CRIME_VICTIM']);
      const e = await eventOf(t, ed.requestId);
      expect(JSON.stringify(e.reads)).toContain('MinorCategory.category');
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('guardians', () => {
    it('addGuardian: written, audited with the child, read back masked for EDUCATION and in clear for POLICE', async () => {
      const c = await newChild(gridHere);
      const input = { relationship: 'FATHER', name: '刘建国', phone: '13912341803', address: '浙江省杭州市上城区清波街道清波东社区3号', situation: 'SERVING_SENTENCE', situationNote: '2024年起服刑' };
      const r = await gql(ca, ADD_GUARDIAN, { m: c.id, i: input });
      expect(r.json.errors).toBeUndefined();
      const g = r.json.data.addGuardian;
      expect(g).toMatchObject(input);
      const e = await eventOf(t, r.requestId);
      expect(e.outcome).toBe('SUCCESS');
      expect(e.changes).toHaveLength(1);
      expect(e.changes[0]).toMatchObject({ mutation: 'addGuardian', id: g.id, minorId: c.id });
      expect(e.changes[0].fields).toEqual(expect.arrayContaining(['minorId', 'input.name', 'input.phone', 'input.relationship']));
      // the answer's guardian fields are recorded as read of the child
      expect(e.reads).toHaveLength(1);
      expect(e.reads[0].minorId).toBe(c.id);
      for (const f of ['Guardian.name', 'Guardian.phone', 'Guardian.address', 'Guardian.situation', 'Guardian.situationNote']) expect(JSON.stringify(e.reads[0])).toContain(f);
      const q = `query($id: ID!) { minor(id: $id) { guardians { id relationship name phone address situation situationNote } } }`;
      const ed = await gql(education, q, { id: c.id });
      expect(ed.json.data.minor.guardians).toEqual([
        { id: g.id, relationship: 'FATHER', name: '刘**', phone: '139****1803', address: '浙江省杭州市上城区********', situation: null, situationNote: null },
      ]);
      expect(ed.json.errors.map((x: any) => x.extensions.field).sort()).toEqual(['Guardian.situation', 'Guardian.situationNote']);
      const po = await gql(police, q, { id: c.id });
      expect(po.json.errors).toBeUndefined();
      expect(po.json.data.minor.guardians).toEqual([{ id: g.id, ...input }]);
    });

    it('removeGuardian: removed, audited with its child, twice is an unknown id', async () => {
      const c = await newChild(gridHere);
      const g = (await gql(ca, ADD_GUARDIAN, { m: c.id, i: { relationship: 'MOTHER', name: '陈芳' } })).json.data.addGuardian.id;
      const r = await gql(ca, REMOVE_GUARDIAN, { g });
      expect(r.json).toEqual({ data: { removeGuardian: g } });
      expect((await eventOf(t, r.requestId)).changes).toEqual([{ mutation: 'removeGuardian', id: g, minorId: c.id, fields: ['guardianId'] }]);
      const again = await gql(ca, REMOVE_GUARDIAN, { g });
      const none = await gql(ca, REMOVE_GUARDIAN, { g: '0f6e8a52-4c1b-4d4e-9a7b-2f1e5d3c9b12' });
      expect(shapeOf(again)).toEqual(shapeOf(none));
      expect(eventShape(await eventOf(t, again.requestId))).toEqual(eventShape(await eventOf(t, none.requestId)));
    });

    it('removing one guardian twice at once: one succeeds, the other is NOT_FOUND, one change audited', async () => {
      const c = await newChild(gridHere);
      const g = (await gql(ca, ADD_GUARDIAN, { m: c.id, i: { relationship: 'MOTHER', name: '陈芳' } })).json.data.addGuardian.id;
      const answers = await Promise.all([0, 1, 2, 3].map(() => gql(ca, REMOVE_GUARDIAN, { g })));
      const ok = answers.filter((a) => !a.json.errors);
      expect(ok).toHaveLength(1);
      for (const a of answers.filter((x) => x.json.errors)) expect(a.json.errors.map((e: any) => e.extensions.code)).toEqual(['NOT_FOUND']);
      const events = await Promise.all(answers.map((a) => eventOf(t, a.requestId)));
      expect(events.flatMap((e) => e.changes)).toHaveLength(1);
    });

    const bad: [string, Record<string, unknown>, string][] = [
      ['an empty name', { name: '' }, 'name'],
      ['a whitespace name', { name: '   ' }, 'name'],
      ['an ideographic-space name', { name: '\u3000\u3000' }, 'name'],
      ['a 10 KB name', { name: '刘'.repeat(10_000) }, 'name'],
      ['a name with a BEL', { name: '刘\u0007建国' }, 'name'],
      ['a name with a NUL', { name: '刘\u0000建国' }, 'name'],
      ['a name with a line break', { name: '刘\n建国' }, 'name'],
      ['a name with a right-to-left override', { name: '刘\u202E建国' }, 'name'],
      ['a name with a zero-width space', { name: '刘\u200B建国' }, 'name'],
      ['a phone of letters', { phone: 'call me' }, 'phone'],
      ['a phone too short', { phone: '12345' }, 'phone'],
      ['a phone of 10 KB', { phone: '1'.repeat(10_000) }, 'phone'],
      ['a phone with a NUL', { phone: '1391234\u00001803' }, 'phone'],
      ['a phone with full-width digits', { phone: '１３９１２３４１８０３' }, 'phone'],
      ['a phone with Arabic-Indic digits', { phone: '١٣٩١٢٣٤١٨٠٣' }, 'phone'],
      ['a phone of a plus only', { phone: '+' }, 'phone'],
      ['a phone with a double dash', { phone: '139--12341803' }, 'phone'],
      ['an address of 10 KB', { address: '浙'.repeat(10_000) }, 'address'],
      ['an address with a BEL', { address: '浙江省\u0007杭州市' }, 'address'],
      ['a situation note of 10 KB', { situationNote: '注'.repeat(10_000) }, 'situationNote'],
      ['a situation note with a bidi override', { situationNote: '服刑\u202E中' }, 'situationNote'],
      ['a situation note of only invisible characters', { situationNote: '\u200B\u200B' }, 'situationNote'],
    ];
    it.each(bad)('addGuardian with %s: BAD_USER_INPUT naming the field, nothing written', async (_what, over, field) => {
      const c = await newChild(gridHere);
      const before = await stateOf(c.id);
      const r = await gql(ca, ADD_GUARDIAN, { m: c.id, i: { relationship: 'FATHER', name: '刘建国', ...over } });
      expect(r.json.errors.map((e: any) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      expect(r.json.errors[0].extensions.field).toBe(field);
      expect(JSON.stringify(r.json)).not.toMatch(LEAK);
      const e = await eventOf(t, r.requestId);
      expect([e.outcome, e.errorCodes, e.changes]).toEqual(['INVALID', ['BAD_USER_INPUT'], []]);
      expect(await stateOf(c.id)).toEqual(before);
    });

    it.each([
      ['an explicit null situation', { situation: null }],
      ['an unknown relationship', { relationship: 'UNCLE' }],
      ['a number for a name', { name: 12 }],
    ])('addGuardian with %s: BAD_USER_INPUT, nothing written', async (_what, over) => {
      const c = await newChild(gridHere);
      const before = await stateOf(c.id);
      const r = await gql(ca, ADD_GUARDIAN, { m: c.id, i: { relationship: 'FATHER', name: '刘建国', ...over } });
      expect(r.json.errors.map((e: any) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      expect(JSON.stringify(r.json)).not.toMatch(LEAK);
      expect(await stateOf(c.id)).toEqual(before);
    });

    it.each([
      ['13912341803', '139****1803'],
      ['+86-139-1234-1803', '+86****1803'],
      ['0571-87654321', '****4321'],
      ['87654321', '****4321'],
    ])('a phone %s is kept as given and masked for EDUCATION as %s', async (phone, masked) => {
      const c = await newChild(gridHere);
      const r = await gql(ca, ADD_GUARDIAN, { m: c.id, i: { relationship: 'MOTHER', name: '欧阳小红', phone } });
      expect(r.json.errors).toBeUndefined();
      expect(r.json.data.addGuardian.phone).toBe(phone);
      const q = `query($id: ID!) { minor(id: $id) { guardians { name phone } } }`;
      const ed = await gql(education, q, { id: c.id });
      expect(ed.json.data.minor.guardians).toEqual([{ name: '欧阳**', phone: masked }]);
      const po = await gql(police, q, { id: c.id });
      expect(po.json.data.minor.guardians).toEqual([{ name: '欧阳小红', phone }]);
    });

    it('an 11th guardian is refused even when ten are added at once', async () => {
      const c = await newChild(gridHere);
      const answers = await Promise.all(Array.from({ length: 14 }, (_, i) => gql(ca, ADD_GUARDIAN, { m: c.id, i: { relationship: 'OTHER_RELATIVE', name: `王${'一二三四五六七八九十甲乙丙丁'[i]}` } })));
      expect(answers.filter((a) => !a.json.errors)).toHaveLength(10);
      for (const a of answers.filter((x) => x.json.errors)) expect(a.json.errors.map((e: any) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
      expect((await t.sql(`SELECT count(*)::int AS n FROM registry.guardian WHERE minor_id = $1`, [c.id]))[0].n).toBe(10);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('assessments', () => {
    const minorState = async (id: string) =>
      (await t.sql(`SELECT risk_level, next_visit_due FROM registry.minor WHERE id = $1`, [id]))[0] as { risk_level: string; next_visit_due: Date | null };

    it.each(['RED', 'ORANGE', 'YELLOW', 'BLUE'] as RiskLevel[])('%s sets the level, the due date by its interval and latestAssessment', async (level) => {
      const c = await newChild(gridHere);
      const at = new Date(Date.now() - 3 * 86400_000);
      const r = await gql(ca, ASSESS, { m: c.id, i: { level, reasons: `评估 ${level}`, assessedAt: at.toISOString() } });
      expect(r.json.errors).toBeUndefined();
      const due = nextVisitDue(level, at).toISOString();
      expect(r.json.data.recordAssessment).toMatchObject({ level, assessedAt: at.toISOString(), nextVisitDue: due, assessor: 'rt16d-ca' });
      const s = await minorState(c.id);
      expect([s.risk_level, s.next_visit_due!.toISOString()]).toEqual([level, due]);
      const e = await eventOf(t, r.requestId);
      expect(e.changes).toEqual([{ mutation: 'recordAssessment', id: r.json.data.recordAssessment.id, minorId: c.id, fields: ['input.assessedAt', 'input.level', 'input.reasons', 'minorId'] }]);
      const red = await t.sql(`SELECT department FROM workflow.notification WHERE minor_id = $1 AND kind = 'CHILD_RED' ORDER BY 1`, [c.id]);
      expect(red.map((x: any) => x.department)).toEqual(level === 'RED' ? ['CIVIL_AFFAIRS', 'EDUCATION', 'POLICE', 'WOMENS_FEDERATION'] : []);
      // read back: EDUCATION sees the level and date, not the reasons, assessor, or the child's due date
      const q = `query($id: ID!) { minor(id: $id) { riskLevel nextVisitDue latestAssessment { level assessedAt nextVisitDue assessor reasons } } }`;
      const ed = await gql(education, q, { id: c.id });
      expect(ed.json.data.minor).toEqual({ riskLevel: level, nextVisitDue: null, latestAssessment: { level, assessedAt: at.toISOString(), nextVisitDue: due, assessor: null, reasons: null } });
      expect(ed.json.errors.map((x: any) => x.extensions.field).sort()).toEqual(['Minor.nextVisitDue', 'RiskAssessment.assessor', 'RiskAssessment.reasons']);
      const po = await gql(police, q, { id: c.id });
      expect(po.json.errors).toBeUndefined();
      expect(po.json.data.minor).toEqual({ riskLevel: level, nextVisitDue: due, latestAssessment: { level, assessedAt: at.toISOString(), nextVisitDue: due, assessor: 'rt16d-ca', reasons: `评估 ${level}` } });
    });

    it('a back-dated assessment does not displace the latest: level, due date and latestAssessment stay', async () => {
      const c = await newChild(gridHere);
      const now = new Date(Date.now() - 60_000);
      await gql(ca, ASSESS, { m: c.id, i: { level: 'ORANGE', reasons: 'a', assessedAt: now.toISOString() } });
      const old = new Date(Date.now() - 40 * 86400_000);
      const r = await gql(ca, ASSESS, { m: c.id, i: { level: 'RED', reasons: 'old red', assessedAt: old.toISOString() } });
      expect(r.json.errors).toBeUndefined();
      const s = await minorState(c.id);
      expect([s.risk_level, s.next_visit_due!.toISOString()]).toEqual(['ORANGE', nextVisitDue(RiskLevel.ORANGE, now).toISOString()]);
      const la = await gql(ca, `query($id: ID!) { minor(id: $id) { riskLevel latestAssessment { level assessedAt } } }`, { id: c.id });
      expect(la.json.data.minor).toEqual({ riskLevel: 'ORANGE', latestAssessment: { level: 'ORANGE', assessedAt: now.toISOString() } });
      // a RED not the latest tells no one
      expect(await t.sql(`SELECT 1 FROM workflow.notification WHERE minor_id = $1 AND kind = 'CHILD_RED'`, [c.id])).toEqual([]);
    });

    it('two at one instant: the graver is the latest', async () => {
      const c = await newChild(gridHere);
      const at = new Date(Date.now() - 86400_000).toISOString();
      await gql(ca, ASSESS, { m: c.id, i: { level: 'RED', reasons: 'r', assessedAt: at } });
      await gql(ca, ASSESS, { m: c.id, i: { level: 'BLUE', reasons: 'b', assessedAt: at } });
      const s = await minorState(c.id);
      expect([s.risk_level, s.next_visit_due!.toISOString()]).toEqual(['RED', at]);
      const la = await gql(ca, `query($id: ID!) { minor(id: $id) { latestAssessment { level } assessments(first: 1) { level } } }`, { id: c.id });
      expect(la.json.data.minor).toEqual({ latestAssessment: { level: 'RED' }, assessments: [{ level: 'RED' }] });
    });

    it('many assessments at once: the stored level and due date are those of the latest, latestAssessment agrees, one CHILD_RED per department', async () => {
      const c = await newChild(gridHere);
      const base = Date.now() - 10 * 86400_000;
      const levels: RiskLevel[] = [RiskLevel.RED, RiskLevel.BLUE, RiskLevel.YELLOW, RiskLevel.ORANGE, RiskLevel.RED, RiskLevel.BLUE, RiskLevel.RED, RiskLevel.YELLOW];
      const inputs = levels.map((level, i) => ({ level, reasons: `r${i}`, assessedAt: new Date(base + ((i * 5) % levels.length) * 3600_000).toISOString() }));
      const answers = await Promise.all(inputs.map((i) => gql(ca, ASSESS, { m: c.id, i })));
      for (const a of answers) expect(a.json.errors).toBeUndefined();
      const latest = [...inputs].sort((a, b) => b.assessedAt.localeCompare(a.assessedAt))[0];
      const s = await minorState(c.id);
      expect([s.risk_level, s.next_visit_due!.toISOString()]).toEqual([latest.level, nextVisitDue(latest.level, new Date(latest.assessedAt)).toISOString()]);
      const la = await gql(ca, `query($id: ID!) { minor(id: $id) { riskLevel nextVisitDue latestAssessment { level assessedAt reasons } } }`, { id: c.id });
      expect(la.json.data.minor.latestAssessment).toEqual({ level: latest.level, assessedAt: latest.assessedAt, reasons: latest.reasons });
      // The child may have gone RED, then not, then RED again in the order the writes were served:
      // each CHILD_RED names a distinct RED assessment, every recipient is told the same ones.
      const red = await t.sql(
        `SELECT n.department, array_agg(n.subject_id::text ORDER BY n.subject_id) AS subjects, bool_and(a.level = 'RED') AS all_red
           FROM workflow.notification n LEFT JOIN registry.risk_assessment a ON a.id = n.subject_id
          WHERE n.minor_id = $1 AND n.kind = 'CHILD_RED' GROUP BY 1 ORDER BY 1`,
        [c.id],
      );
      if (red.length) expect(red.map((r: any) => r.department)).toEqual(['CIVIL_AFFAIRS', 'EDUCATION', 'POLICE', 'WOMENS_FEDERATION']);
      for (const r of red) {
        expect(r.all_red).toBe(true);
        expect(new Set(r.subjects).size).toBe(r.subjects.length);
        expect(r.subjects).toEqual(red[0].subjects);
      }
    });

    it('two RED assessments at once on a child not at RED: one CHILD_RED per department', async () => {
      const c = await newChild(gridHere);
      const answers = await Promise.all([0, 1, 2, 3].map((i) => gql(ca, ASSESS, { m: c.id, i: { level: 'RED', reasons: `r${i}` } })));
      for (const a of answers) expect(a.json.errors).toBeUndefined();
      const red = await t.sql(`SELECT department, count(*)::int AS n FROM workflow.notification WHERE minor_id = $1 AND kind = 'CHILD_RED' GROUP BY 1 ORDER BY 1`, [c.id]);
      expect(red).toEqual(['CIVIL_AFFAIRS', 'EDUCATION', 'POLICE', 'WOMENS_FEDERATION'].map((department) => ({ department, n: 1 })));
    });

    it.each([
      ['before the child was born', () => ({ assessedAt: new Date(Date.now() - 10 * 365 * 86400_000).toISOString() }), 'assessedAt'],
      ['in the future', () => ({ assessedAt: new Date(Date.now() + 3600_000).toISOString() }), 'assessedAt'],
      ['empty reasons', () => ({ reasons: ' \n\t ' }), 'reasons'],
      ['reasons of 10 KB', () => ({ reasons: '理'.repeat(10_000) }), 'reasons'],
      ['reasons with a bidi override', () => ({ reasons: 'a\u202Eb' }), 'reasons'],
      ['reasons with a NUL', () => ({ reasons: 'a\u0000b' }), 'reasons'],
    ] as [string, () => Record<string, unknown>, string][])('an assessment %s: BAD_USER_INPUT, nothing written, nobody told', async (_w, over, field) => {
      const c = await newChild(gridHere, 9);
      const before = await stateOf(c.id);
      const r = await gql(ca, ASSESS, { m: c.id, i: { level: 'RED', reasons: 'x', ...over() } });
      expect(r.json.errors.map((e: any) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', field]]);
      expect(JSON.stringify(r.json)).not.toMatch(LEAK);
      const e = await eventOf(t, r.requestId);
      expect([e.outcome, e.changes]).toEqual(['INVALID', []]);
      expect(await stateOf(c.id)).toEqual(before);
    });

    it('an assessment on the day of birth (China) is accepted', async () => {
      const c = await newChild(gridHere, 0, 5);
      const at = new Date(`${c.birthDate}T00:00:00+08:00`).toISOString();
      const r = await gql(ca, ASSESS, { m: c.id, i: { level: 'BLUE', reasons: 'x', assessedAt: at } });
      expect(r.json.errors).toBeUndefined();
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('visits', () => {
    const minorState = async (id: string) =>
      (await t.sql(`SELECT risk_level, next_visit_due, updated_at FROM registry.minor WHERE id = $1`, [id]))[0] as { risk_level: string; next_visit_due: Date | null; updated_at: Date };
    const overdue = async (token: string, id: string) => {
      const r = await gql(token, `{ overdueVisits(first: 500) { minor { id } riskLevel nextVisitDue lastVisitAt responsibleWorker } }`, {});
      expect(r.json.errors).toBeUndefined();
      return r.json.data.overdueVisits.find((o: any) => o.minor?.id === id) ?? null;
    };

    it('a visit after the assessment moves nextVisitDue by the level and takes the child off overdueVisits', async () => {
      const c = await newChild(gridHere);
      const assessed = new Date(Date.now() - 20 * 86400_000);
      await gql(ca, ASSESS, { m: c.id, i: { level: 'ORANGE', reasons: '结对帮扶', assessedAt: assessed.toISOString() } });
      expect(await overdue(ca, c.id)).toMatchObject({ riskLevel: 'ORANGE', nextVisitDue: nextVisitDue(RiskLevel.ORANGE, assessed).toISOString(), lastVisitAt: null, responsibleWorker: 'rt16d-ca' });
      const visitedAt = new Date(Date.now() - 2 * 86400_000);
      const r = await gql(ca, VISIT, { m: c.id, i: { notes: '入户走访', visitedAt: visitedAt.toISOString() } });
      expect(r.json.errors).toBeUndefined();
      expect(r.json.data.recordVisit).toMatchObject({ visitedAt: visitedAt.toISOString(), visitor: 'rt16d-ca', notes: '入户走访' });
      const s = await minorState(c.id);
      expect(s.next_visit_due!.toISOString()).toBe(nextVisitDue(RiskLevel.ORANGE, visitedAt).toISOString());
      expect(await overdue(ca, c.id)).toBeNull();
      const e = await eventOf(t, r.requestId);
      expect(e.changes).toEqual([{ mutation: 'recordVisit', id: r.json.data.recordVisit.id, minorId: c.id, fields: ['input.notes', 'input.visitedAt', 'minorId'] }]);
      // read back: POLICE sees the visit, EDUCATION neither it nor the due date
      const q = `query($id: ID!) { minor(id: $id) { nextVisitDue visits { visitedAt visitor notes } } }`;
      const po = await gql(police, q, { id: c.id });
      expect(po.json.errors).toBeUndefined();
      expect(po.json.data.minor).toEqual({ nextVisitDue: s.next_visit_due!.toISOString(), visits: [{ visitedAt: visitedAt.toISOString(), visitor: 'rt16d-ca', notes: '入户走访' }] });
      const ed = await gql(education, q, { id: c.id });
      expect(ed.json.data.minor).toEqual({ nextVisitDue: null, visits: null });
      expect(ed.json.errors.map((x: any) => x.extensions.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
      const edOverdue = await gql(education, `{ overdueVisits { minor { id } } }`, {});
      expect(edOverdue.json.errors.map((x: any) => x.extensions.code)).toEqual(['FORBIDDEN']);
    });

    it('a visit dated before the latest assessment changes no due date', async () => {
      const c = await newChild(gridHere);
      const assessed = new Date(Date.now() - 5 * 86400_000);
      await gql(ca, ASSESS, { m: c.id, i: { level: 'YELLOW', reasons: 'x', assessedAt: assessed.toISOString() } });
      const before = await minorState(c.id);
      const r = await gql(ca, VISIT, { m: c.id, i: { notes: '补录', visitedAt: new Date(Date.now() - 30 * 86400_000).toISOString() } });
      expect(r.json.errors).toBeUndefined();
      const after = await minorState(c.id);
      expect(after.next_visit_due!.toISOString()).toBe(before.next_visit_due!.toISOString());
      expect(after.next_visit_due!.toISOString()).toBe(nextVisitDue(RiskLevel.YELLOW, assessed).toISOString());
    });

    it('a back-dated visit older than the last visit changes no due date', async () => {
      const c = await newChild(gridHere);
      await gql(ca, ASSESS, { m: c.id, i: { level: 'ORANGE', reasons: 'x', assessedAt: new Date(Date.now() - 20 * 86400_000).toISOString() } });
      const last = new Date(Date.now() - 1 * 86400_000);
      await gql(ca, VISIT, { m: c.id, i: { notes: 'a', visitedAt: last.toISOString() } });
      await gql(ca, VISIT, { m: c.id, i: { notes: 'b', visitedAt: new Date(Date.now() - 10 * 86400_000).toISOString() } });
      expect((await minorState(c.id)).next_visit_due!.toISOString()).toBe(nextVisitDue(RiskLevel.ORANGE, last).toISOString());
      expect(await overdue(ca, c.id)).toBeNull();
    });

    it('a visit of a child never assessed leaves the due date empty', async () => {
      const c = await newChild(gridHere);
      const r = await gql(ca, VISIT, { m: c.id, i: { notes: '初访' } });
      expect(r.json.errors).toBeUndefined();
      expect((await minorState(c.id)).next_visit_due).toBeNull();
    });

    it('a new assessment after a visit moves the due date from the assessment', async () => {
      const c = await newChild(gridHere);
      await gql(ca, ASSESS, { m: c.id, i: { level: 'BLUE', reasons: 'x', assessedAt: new Date(Date.now() - 20 * 86400_000).toISOString() } });
      await gql(ca, VISIT, { m: c.id, i: { notes: 'a', visitedAt: new Date(Date.now() - 10 * 86400_000).toISOString() } });
      const at = new Date(Date.now() - 86400_000);
      await gql(ca, ASSESS, { m: c.id, i: { level: 'RED', reasons: 'x', assessedAt: at.toISOString() } });
      expect((await minorState(c.id)).next_visit_due!.toISOString()).toBe(at.toISOString());
      expect(await overdue(ca, c.id)).toMatchObject({ riskLevel: 'RED', nextVisitDue: at.toISOString() });
    });

    it('visits and an assessment at once: the due date is that of some serial order', async () => {
      const c = await newChild(gridHere);
      await gql(ca, ASSESS, { m: c.id, i: { level: 'ORANGE', reasons: 'x', assessedAt: new Date(Date.now() - 30 * 86400_000).toISOString() } });
      const times = [5, 3, 8, 1, 4].map((d) => new Date(Date.now() - d * 86400_000).toISOString());
      const assessedAt = new Date(Date.now() - 2 * 86400_000).toISOString();
      const answers = await Promise.all([
        ...times.map((v) => gql(ca, VISIT, { m: c.id, i: { notes: 'v', visitedAt: v } })),
        gql(ca, ASSESS, { m: c.id, i: { level: 'YELLOW', reasons: 'y', assessedAt } }),
      ]);
      for (const a of answers) expect(a.json.errors).toBeUndefined();
      // latest assessment YELLOW at -2d; the last visit after it is at -1d
      const s = await minorState(c.id);
      expect([s.risk_level, s.next_visit_due!.toISOString()]).toEqual(['YELLOW', nextVisitDue(RiskLevel.YELLOW, new Date(times[3])).toISOString()]);
    });

    it.each([
      ['before the child was born', () => new Date(Date.now() - 10 * 365 * 86400_000).toISOString(), 'visitedAt'],
      ['in the future', () => new Date(Date.now() + 3600_000).toISOString(), 'visitedAt'],
      ['before 1900', () => '1899-12-31T00:00:00Z', 'visitedAt'],
    ] as [string, () => string, string][])('a visit %s: BAD_USER_INPUT, nothing written', async (_w, at, field) => {
      const c = await newChild(gridHere, 9);
      await gql(ca, ASSESS, { m: c.id, i: { level: 'ORANGE', reasons: 'x' } });
      const before = await stateOf(c.id);
      const r = await gql(ca, VISIT, { m: c.id, i: { notes: 'x', visitedAt: at() } });
      expect(r.json.errors.map((e: any) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', field]]);
      const e = await eventOf(t, r.requestId);
      expect([e.outcome, e.changes]).toEqual(['INVALID', []]);
      expect(await stateOf(c.id)).toEqual(before);
    });

    it.each([
      ['not a time', 'yesterday'],
      ['an impossible date', '2025-02-30T00:00:00Z'],
      ['a huge year', '+275760-09-13T00:00:00Z'],
      ['empty', ''],
      ['a number', 1e20],
      ['a small number', 0],
      ['a boolean', true],
      ['an object', { t: 1 }],
      ['month 13', '2026-13-01T00:00:00Z'],
      ['a time with a NUL', '2026-01-01T00:00:00Z\u0000'],
    ] as [string, unknown][])('a visitedAt that is %s: BAD_USER_INPUT, no SQL text', async (_w, visitedAt) => {
      const c = await newChild(gridHere);
      const before = await stateOf(c.id);
      const r = await gql(ca, VISIT, { m: c.id, i: { notes: 'x', visitedAt } });
      expect(r.json.errors.map((e: any) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      expect(JSON.stringify(r.json)).not.toMatch(LEAK);
      expect(await stateOf(c.id)).toEqual(before);
    });
  });
});
