import { Department } from '../src/auth/principal';
import { yearsBefore } from '../src/common/dates';
import { daysAgo, expectMaskedFailure, INSIDE_STREET, recordSuite, withFailingTrigger } from './support/department-records';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

/** 教育: enrollment, dropout reports and 劝返, bullying, aid — writes, visibility, lists. */
describe('education subgraph', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());
  const hub = () => t;
  const ED = Department.EDUCATION;

  recordSuite(hub, {
    owner: ED,
    type: 'SchoolEnrollment',
    table: 'education.school_enrollment',
    create: 'createSchoolEnrollment',
    update: 'updateSchoolEnrollment',
    input: { school: '清波小学', grade: 3, status: 'ENROLLED', enrolledOn: '2024-09-01' },
    updated: { school: '清波小学', grade: 4, status: 'SUSPENDED', enrolledOn: '2024-09-01' },
    invalid: [
      ['grade 0', { grade: 0 }, 'grade'],
      ['an empty school', { school: ' ' }, 'school'],
      ['an impossible date', { enrolledOn: '2024-02-30' }, 'enrolledOn'],
      ['a date in the future', { enrolledOn: daysAgo(-3) }, 'enrolledOn'],
    ],
  });
  recordSuite(hub, {
    owner: ED,
    type: 'DropoutReport',
    table: 'education.dropout_report',
    create: 'createDropoutReport',
    update: 'updateDropoutReport',
    input: { school: '开元中学', reportedOn: daysAgo(10), daysAbsent: 25 },
    updated: { school: '开元中学', reportedOn: daysAgo(12), daysAbsent: 30 },
    invalid: [
      ['negative days absent', { daysAbsent: -1 }, 'daysAbsent'],
      ['a report in the future', { reportedOn: daysAgo(-1) }, 'reportedOn'],
    ],
  });
  recordSuite(hub, {
    owner: ED,
    type: 'PersuasionAction',
    table: 'education.persuasion_action',
    create: 'recordPersuasionAction',
    parentArg: 'reportId',
    parentSql: `SELECT r.id FROM education.dropout_report r JOIN registry.minor m ON m.id = r.minor_id
                WHERE r.status = 'OPEN' AND r.reported_on < current_date - 2 AND m.grid_code {{jurisdiction}} ORDER BY r.id LIMIT 1`,
    input: { actedOn: daysAgo(1), method: 'HOME_VISIT', actor: '班主任 李老师', note: '与祖母面谈' },
    invalid: [
      ['an empty note', { note: '' }, 'note'],
      ['an action before the report', { actedOn: daysAgo(6000) }, 'actedOn'],
    ],
  });
  recordSuite(hub, {
    owner: ED,
    type: 'BullyingCase',
    table: 'education.bullying_case',
    create: 'createBullyingCase',
    update: 'updateBullyingCase',
    input: { school: '建兰中学', occurredOn: daysAgo(5), role: 'VICTIM', severity: 'GENERAL', status: 'OPEN', description: '被同学索要财物' },
    updated: { school: '建兰中学', occurredOn: daysAgo(5), role: 'VICTIM', severity: 'SERIOUS', status: 'CLOSED', description: '已处理' },
    invalid: [['a too long description', { description: '长'.repeat(2001) }, 'description']],
  });
  recordSuite(hub, {
    owner: ED,
    type: 'EducationAid',
    table: 'education.education_aid',
    create: 'createEducationAid',
    update: 'updateEducationAid',
    input: { kind: 'LIVING_SUBSIDY', amountYuan: 1000, grantedOn: daysAgo(30), schoolYear: '2025-2026' },
    updated: { kind: 'LIVING_SUBSIDY', amountYuan: 1250, grantedOn: daysAgo(30), schoolYear: '2025-2026' },
    invalid: [
      ['a school year that is not two consecutive years', { schoolYear: '2025-2027' }, 'schoolYear'],
      ['a zero amount', { amountYuan: 0 }, 'amountYuan'],
    ],
  });

  const openReport = async () =>
    (await t.sql(`SELECT id, minor_id, reported_on FROM education.dropout_report WHERE status = 'OPEN' AND reported_on < current_date - 2 ORDER BY id DESC LIMIT 1`))[0];
  const ACTION = `mutation($r: ID!, $i: PersuasionActionInput!) { recordPersuasionAction(reportId: $r, input: $i) { id actedOn } }`;

  it('closes a report with the outcome of its last persuasion action, and refuses actions on a closed report', async () => {
    const report = await openReport();
    const token = await t.token(ED);
    const r = await t.gql(token, ACTION, { r: report.id, i: { actedOn: daysAgo(1), method: 'JOINT_VISIT', actor: '镇政府 张干事', note: '联合劝返', outcome: 'RETURNED_TO_SCHOOL' } });
    expect(r.errors).toBeUndefined();
    const [row] = await t.sql(`SELECT status, outcome, to_char(closed_on, 'YYYY-MM-DD') AS closed_on FROM education.dropout_report WHERE id = $1`, [report.id]);
    expect(row).toEqual({ status: 'CLOSED', outcome: 'RETURNED_TO_SCHOOL', closed_on: daysAgo(1) });
    const again = await t.gql(token, ACTION, { r: report.id, i: { actedOn: daysAgo(0), method: 'PHONE_CALL', actor: 'x', note: 'x' } });
    expect(errorCodes(again)).toEqual(['BAD_USER_INPUT']);
    expect(again.errors![0].extensions!.field).toBe('reportId');
  });

  describe('dates of a report and its persuasion actions', () => {
    const REPORT = `mutation($m: ID!, $i: DropoutReportInput!) { createDropoutReport(minorId: $m, input: $i) { id } }`;
    const UPDATE = `mutation($id: ID!, $i: DropoutReportInput!) { updateDropoutReport(id: $id, input: $i) { id reportedOn } }`;
    const newReport = async (token: string, reportedOn: string) => {
      // A child old enough to drop out (no child under 6 does).
      const [{ id: minorId }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${INSIDE_STREET}%' AND birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '16 years' ORDER BY id LIMIT 1`);
      const c = await t.gql(token, REPORT, { m: minorId, i: { school: '清波小学', reportedOn, daysAbsent: 12 } });
      expect(c.errors).toBeUndefined();
      return c.data.createDropoutReport.id as string;
    };
    const row = async (id: string) =>
      (await t.sql(`SELECT to_char(reported_on, 'YYYY-MM-DD') AS reported_on, status, to_char(closed_on, 'YYYY-MM-DD') AS closed_on FROM education.dropout_report WHERE id = $1`, [id]))[0];

    it('refuses moving the report after its first persuasion action, and accepts a date up to it', async () => {
      const token = await t.token(ED);
      const id = await newReport(token, daysAgo(20));
      expect((await t.gql(token, ACTION, { r: id, i: { actedOn: daysAgo(15), method: 'HOME_VISIT', actor: '班主任', note: '家访' } })).errors).toBeUndefined();
      const u = await t.gql(token, UPDATE, { id, i: { school: '清波小学', reportedOn: daysAgo(5), daysAbsent: 12 } });
      expect(errorCodes(u)).toEqual(['BAD_USER_INPUT']);
      expect(u.errors![0].extensions!.field).toBe('reportedOn');
      expect((await row(id)).reported_on).toBe(daysAgo(20));
      const ok = await t.gql(token, UPDATE, { id, i: { school: '清波小学', reportedOn: daysAgo(15), daysAbsent: 12 } });
      expect(ok.errors).toBeUndefined();
      expect((await row(id)).reported_on).toBe(daysAgo(15));
    });

    it('refuses closing a report with an action before its latest one, leaving it open; an earlier action without an outcome is recorded', async () => {
      const token = await t.token(ED);
      const id = await newReport(token, daysAgo(30));
      expect((await t.gql(token, ACTION, { r: id, i: { actedOn: daysAgo(5), method: 'HOME_VISIT', actor: 'a', note: 'n' } })).errors).toBeUndefined();
      expect((await t.gql(token, ACTION, { r: id, i: { actedOn: daysAgo(20), method: 'PHONE_CALL', actor: 'a', note: '补录' } })).errors).toBeUndefined();
      const close = await t.gql(token, ACTION, { r: id, i: { actedOn: daysAgo(25), method: 'PHONE_CALL', actor: 'a', note: 'n', outcome: 'RETURNED_TO_SCHOOL' } });
      expect(errorCodes(close)).toEqual(['BAD_USER_INPUT']);
      expect(close.errors![0].extensions!.field).toBe('actedOn');
      expect(await row(id)).toEqual({ reported_on: daysAgo(30), status: 'OPEN', closed_on: null });
      expect((await t.sql(`SELECT count(*)::int AS n FROM education.persuasion_action WHERE report_id = $1`, [id]))[0].n).toBe(2);
      const closed = await t.gql(token, ACTION, { r: id, i: { actedOn: daysAgo(5), method: 'JOINT_VISIT', actor: 'a', note: 'n', outcome: 'RETURNED_TO_SCHOOL' } });
      expect(closed.errors).toBeUndefined();
      expect(await row(id)).toEqual({ reported_on: daysAgo(30), status: 'CLOSED', closed_on: daysAgo(5) });
    });
  });

  it('rolls back a persuasion action whose closing of the report fails, masking the database error', async () => {
    const report = await openReport();
    const before = await t.sql(`SELECT count(*)::int AS n FROM education.persuasion_action WHERE report_id = $1`, [report.id]);
    await withFailingTrigger(t, 'education.dropout_report', 'UPDATE', async () => {
      const r = await t.gql(await t.token(ED), ACTION, { r: report.id, i: { actedOn: daysAgo(1), method: 'HOME_VISIT', actor: 'x', note: 'x', outcome: 'NOT_RETURNED' } });
      expectMaskedFailure(r);
    });
    expect(await t.sql(`SELECT count(*)::int AS n FROM education.persuasion_action WHERE report_id = $1`, [report.id])).toEqual(before);
    expect((await t.sql(`SELECT status FROM education.dropout_report WHERE id = $1`, [report.id]))[0].status).toBe('OPEN');
  });

  describe('visibility across departments', () => {
    const READ = `query($id: ID!) { minor(id: $id) {
      schoolEnrollments { school status grade }
      dropoutReports { status daysAbsent persuasionActions { method note } }
      educationAid { kind amountYuan } } }`;
    let child: Record<string, any>;
    beforeAll(async () => {
      [child] = await t.sql(`
        SELECT r.minor_id, e.school, e.status, e.grade, r.status AS report_status, r.days_absent
        FROM education.dropout_report r JOIN education.school_enrollment e ON e.minor_id = r.minor_id
        WHERE EXISTS (SELECT 1 FROM education.persuasion_action a WHERE a.report_id = r.id)
          AND (SELECT count(*) FROM education.dropout_report d WHERE d.minor_id = r.minor_id) = 1
          AND (SELECT count(*) FROM education.school_enrollment d WHERE d.minor_id = r.minor_id) = 1
        ORDER BY r.minor_id LIMIT 1`);
      expect(child).toBeDefined();
    });
    const denied = (r: any) => (r.errors ?? []).map((e: any) => e.extensions.field).sort();

    it('EDUCATION reads all of its records', async () => {
      const r = await t.gql(await t.token(ED), READ, { id: child.minor_id });
      expect(r.errors).toBeUndefined();
      expect(r.data.minor.schoolEnrollments).toEqual([{ school: child.school, status: child.status, grade: child.grade }]);
      expect(r.data.minor.dropoutReports[0]).toMatchObject({ status: child.report_status, daysAbsent: child.days_absent });
      expect(r.data.minor.dropoutReports[0].persuasionActions[0].note).toEqual(expect.any(String));
    });

    it('POLICE see enrollment and dropout status, not grades, absences, persuasion or aid', async () => {
      const r = await t.gql(await t.token(Department.POLICE), READ, { id: child.minor_id });
      expect(r.data.minor.schoolEnrollments).toEqual([{ school: child.school, status: child.status, grade: null }]);
      expect(r.data.minor.dropoutReports).toEqual([{ status: child.report_status, daysAbsent: null, persuasionActions: null }]);
      expect(r.data.minor.educationAid).toBeNull();
      expect(denied(r)).toEqual(['DropoutReport.daysAbsent', 'DropoutReport.persuasionActions', 'Minor.educationAid', 'SchoolEnrollment.grade']);
    });

    it('CIVIL_AFFAIRS sees summaries and aid, not the persuasion notes', async () => {
      const r = await t.gql(await t.token(Department.CIVIL_AFFAIRS), READ, { id: child.minor_id });
      expect(r.data.minor.dropoutReports[0].persuasionActions[0]).toEqual({ method: expect.any(String), note: null });
      const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM education.education_aid WHERE minor_id = $1`, [child.minor_id]);
      expect(r.data.minor.educationAid).toHaveLength(n);
      expect([...new Set(denied(r))]).toEqual(['PersuasionAction.note']);
    });

    it('JUSTICE and the WOMENS_FEDERATION get no dropout reports; JUSTICE no enrollment', async () => {
      const ju = await t.gql(await t.token(Department.JUSTICE), READ, { id: child.minor_id });
      expect(ju.data.minor).toEqual({ schoolEnrollments: null, dropoutReports: null, educationAid: null });
      const wf = await t.gql(await t.token(Department.WOMENS_FEDERATION), READ, { id: child.minor_id });
      expect(wf.data.minor.schoolEnrollments[0].status).toBe(child.status);
      expect(wf.data.minor.dropoutReports).toBeNull();
    });
  });

  describe('dropoutReports list', () => {
    const LIST = `query($f: DropoutReportFilter, $first: Int, $after: String) { dropoutReports(filter: $f, first: $first, after: $after) {
      totalCount nextCursor nodes { id school status minor { id name riskLevel } } } }`;

    it('lists the open reports of one school in the jurisdiction, pages through them, and resolves each child from the registry', async () => {
      const [{ school }] = await t.sql(`SELECT school FROM education.dropout_report WHERE status = 'OPEN' GROUP BY school ORDER BY count(*) DESC, school LIMIT 1`);
      const expected = await t.sql(
        `SELECT r.id, m.name, m.risk_level FROM education.dropout_report r JOIN registry.minor m ON m.id = r.minor_id WHERE r.status = 'OPEN' AND r.school = $1 ORDER BY r.id`,
        [school],
      );
      expect(expected.length).toBeGreaterThan(2);
      const token = await t.token(ED);
      const seen: any[] = [];
      let after: string | null = null;
      do {
        const r: any = await t.gql(token, LIST, { f: { statuses: ['OPEN'], school }, first: 2, after });
        expect(r.errors).toBeUndefined();
        expect(r.data.dropoutReports.totalCount).toBe(expected.length);
        seen.push(...r.data.dropoutReports.nodes);
        after = r.data.dropoutReports.nextCursor;
      } while (after);
      expect(seen.map((n) => [n.id, n.minor.name, n.minor.riskLevel])).toEqual(expected.map((e) => [e.id, e.name, e.risk_level]));
    });

    it('keeps to the caller’s street, and refuses departments that may not read dropout reports', async () => {
      const [{ n }] = await t.sql(
        `SELECT count(*)::int AS n FROM education.dropout_report r JOIN registry.minor m ON m.id = r.minor_id WHERE m.grid_code LIKE $1`,
        [`${INSIDE_STREET}%`],
      );
      const r = await t.gql(await t.token(ED, { region: INSIDE_STREET }), LIST, { first: 1000 });
      expect(r.data.dropoutReports.totalCount).toBe(n);
      const ids = r.data.dropoutReports.nodes.map((x: any) => x.minor.id);
      const grids = await t.sql(`SELECT DISTINCT grid_code FROM registry.minor WHERE id = ANY($1)`, [ids]);
      expect(grids.every((g: any) => g.grid_code.startsWith(INSIDE_STREET))).toBe(true);
      for (const d of [Department.JUSTICE, Department.WOMENS_FEDERATION]) {
        const denied = await t.gql(await t.token(d), LIST, {});
        expect(errorCodes(denied)).toEqual(['FORBIDDEN']);
        expect(denied.data?.dropoutReports ?? null).toBeNull();
      }
    });

    it('answers "children in my schools with an open dropout report or risk ≥ ORANGE" in one request', async () => {
      const q = `{ open: dropoutReports(filter: { statuses: [OPEN] }, first: 1000) { nodes { minor { id } } }
                   atRisk: minors(filter: { riskLevels: [RED, ORANGE] }, first: 1000) { edges { node { id schoolEnrollments { status } } } } }`;
      const r = await t.gql(await t.token(ED), q);
      expect(r.errors).toBeUndefined();
      const ids = new Set([...r.data.open.nodes.map((n: any) => n.minor.id), ...r.data.atRisk.edges.map((e: any) => e.node.id)]);
      const expected = await t.sql(`
        SELECT id FROM registry.minor WHERE risk_level IN ('RED','ORANGE')
        UNION SELECT minor_id FROM education.dropout_report WHERE status = 'OPEN'`);
      expect([...ids].sort()).toEqual(expected.map((e: any) => e.id).sort());
    });
  });

  /**
   * A child's records follow the registry's rule through the jurisdiction view: from the day in
   * China the child turns 18, their records are no one's, as for a child of another street; the
   * rows stay.
   */
  describe('a child who has turned 18', () => {
    const LIST = `{ dropoutReports(first: 1000) { totalCount nodes { id minor { id } } } }`;
    const READ = `query($id: ID!) { minor(id: $id) { id schoolEnrollments { id } dropoutReports { id } } }`;
    let adult: string;
    let almost: string;
    let births: { id: string; birth_date: string }[];
    const reportsOf = async (id: string) => (await t.sql(`SELECT id FROM education.dropout_report WHERE minor_id = $1 ORDER BY id`, [id])).map((r: { id: string }) => r.id);

    beforeAll(async () => {
      births = await t.sql(`
        SELECT m.id, m.birth_date::text AS birth_date FROM registry.minor m
        WHERE m.grid_code LIKE $1 AND EXISTS (SELECT 1 FROM education.dropout_report r WHERE r.minor_id = m.id)
          AND EXISTS (SELECT 1 FROM education.school_enrollment e WHERE e.minor_id = m.id)
        ORDER BY m.id LIMIT 2`, [`${INSIDE_STREET}%`]);
      [adult, almost] = births.map((b) => b.id);
      // 18 years ago today in China: 18 today. The day after: 17 until tomorrow.
      const today = yearsBefore(new Date(), 18);
      const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
      await t.sql(`UPDATE registry.minor SET birth_date = $2 WHERE id = $1`, [adult, today]);
      await t.sql(`UPDATE registry.minor SET birth_date = $2 WHERE id = $1`, [almost, tomorrow]);
    });
    afterAll(async () => {
      for (const b of births) await t.sql(`UPDATE registry.minor SET birth_date = $2 WHERE id = $1`, [b.id, b.birth_date]);
    });

    it('leaves their records out of every list and count, and out of the child’s file, while the rows stay', async () => {
      for (const [department, region] of [[ED, '330102'], [ED, INSIDE_STREET], [Department.CIVIL_AFFAIRS, INSIDE_STREET]] as const) {
        const token = await t.token(department, { region });
        const [{ n }] = await t.sql(
          `SELECT count(*)::int AS n FROM education.dropout_report r JOIN registry.minor m ON m.id = r.minor_id WHERE m.grid_code LIKE $1 AND m.id <> $2`,
          [`${region}%`, adult],
        );
        const list = await t.gql(token, LIST);
        expect(list.errors).toBeUndefined();
        expect(list.data.dropoutReports.totalCount).toBe(n);
        const ids = list.data.dropoutReports.nodes.map((x: { id: string }) => x.id);
        expect(list.data.dropoutReports.nodes.map((x: { minor: { id: string } }) => x.minor.id)).not.toContain(adult);
        expect(ids).toEqual(expect.arrayContaining(await reportsOf(almost)));
        for (const id of await reportsOf(adult)) expect(ids).not.toContain(id);
        const gone = await t.gql(token, READ, { id: adult });
        expect(gone).toEqual(await t.gql(token, READ, { id: '00000000-0000-4000-8000-000000000000' }));
        expect(gone.data.minor).toBeNull();
        const still = await t.gql(token, READ, { id: almost });
        expect(still.data.minor.dropoutReports.map((x: { id: string }) => x.id).sort()).toEqual(await reportsOf(almost));
      }
      expect((await reportsOf(adult)).length).toBeGreaterThan(0);
    });

    it('refuses writes about them, or to their records, as NOT_FOUND, writing nothing', async () => {
      const token = await t.token(ED);
      const input = { school: '开元中学', reportedOn: daysAgo(3), daysAbsent: 21 };
      const [report] = await reportsOf(adult);
      const before = await t.sql(`SELECT row_to_json(r)::text AS row FROM education.dropout_report r WHERE minor_id = $1 ORDER BY id`, [adult]);
      const create = `mutation($m: ID!, $i: DropoutReportInput!) { createDropoutReport(minorId: $m, input: $i) { id } }`;
      const update = `mutation($id: ID!, $i: DropoutReportInput!) { updateDropoutReport(id: $id, input: $i) { id } }`;
      for (const r of [await t.gql(token, create, { m: adult, i: input }), await t.gql(token, update, { id: report, i: input })]) {
        expect(errorCodes(r)).toEqual(['NOT_FOUND']);
        expect(r.data?.createDropoutReport ?? r.data?.updateDropoutReport ?? null).toBeNull();
      }
      expect(await t.sql(`SELECT row_to_json(r)::text AS row FROM education.dropout_report r WHERE minor_id = $1 ORDER BY id`, [adult])).toEqual(before);
      const ok = await t.gql(token, create, { m: almost, i: input });
      expect(ok.errors).toBeUndefined();
    });
  });
});
