import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { buildPolicy } from '../src/server/bootstrap';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { eventOf, post } from './support/audit-helpers';
import { daysAgo, expectMaskedFailure, withFailingTrigger } from './support/department-records';
import { errorLogOfEachTest } from './support/error-log';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, WOMENS_FEDERATION: WF } = Department;
const STREET = '330102001';

/**
 * Concurrency of the writes: many different mutations on one child at once, each taking its own
 * locks (the child's row, a record's, a report's, a referral's, webhooks shared by emitters, the
 * unique dedupe keys of notifications). Whatever interleaving Postgres picks, none may end in a
 * deadlock or any other error shown as INTERNAL_SERVER_ERROR.
 */
describe('concurrent writes, red team 2', () => {
  let t: TestHub;
  let child: { id: string; id_number: string; grid_code: string };
  const { logged, noInternal } = errorLogOfEachTest(/unexpected|rolled back/i);

  beforeAll(async () => {
    t = await startTestHub();
    // Old enough for every record (work from 16, a dropout from 6, a community correction from 12).
    [child] = await t.sql(
      `SELECT id, trim(id_number) AS id_number, grid_code FROM registry.minor WHERE grid_code LIKE $1 AND registry.is_minor(birth_date, now())
         AND birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '16 years' ORDER BY id LIMIT 1`,
      [`${STREET}%`],
    );
  });
  afterAll(() => t.stop());

  it('answers a burst of every kind of write on one child without an internal error', async () => {
    const civil = await t.token(CA, { user: 'c-burst', region: STREET });
    const edu = await t.token(ED, { user: 'e-burst', region: STREET });
    const police = await t.token(PO, { user: 'p-burst', region: STREET });
    const wf = await t.token(WF, { user: 'w-burst', region: STREET });
    const reporter = await t.token(ED, { role: Role.REPORTER, user: 'r-burst' });
    // Webhooks that emitters lock FOR SHARE, some deactivated during the burst.
    const hooks: string[] = [];
    for (const [i, token] of [civil, police, edu].entries()) {
      const r = await t.gql(token, `mutation($u: String!) { registerWebhook(url: $u) { webhook { id } } }`, { u: `http://127.0.0.1:9/burst/${i}` });
      expect(r.errors).toBeUndefined();
      hooks.push(r.data.registerWebhook.webhook.id);
    }
    const plan = (await t.gql(wf, `mutation($m: ID!, $i: CarePlanInput!) { createCarePlan(minorId: $m, input: $i) { id } }`, {
      m: child.id,
      i: { kind: 'LEFT_BEHIND', startedOn: daysAgo(60), status: 'ACTIVE', caregiver: '祖母', measures: '每月走访' },
    })).data?.createCarePlan?.id;
    expect(plan).toBeDefined();
    const report = (await t.gql(edu, `mutation($m: ID!, $i: DropoutReportInput!) { createDropoutReport(minorId: $m, input: $i) { id } }`, {
      m: child.id,
      i: { school: '清波小学', reportedOn: daysAgo(40), daysAbsent: 12 },
    })).data?.createDropoutReport?.id;
    expect(report).toBeDefined();
    const referral = async () =>
      (await t.gql(civil, `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, {
        i: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: ED, need: '学费' },
      })).data.createReferral.id as string;
    const file = () =>
      t.gql(reporter, `mutation($i: FileReportInput!) { fileMandatoryReport(input: $i) { id } }`, {
        i: { harmType: 'NEGLECT', observation: '无人照看', location: '小区', regionCode: child.grid_code, urgency: 'URGENT', childIdNumber: child.id_number },
      }, {});
    const mandatory = (await file()).data.fileMandatoryReport.id as string;

    for (let round = 0; round < 3; round++) {
      const referrals = await Promise.all([referral(), referral()]);
      const rs = await Promise.all([
        t.gql(civil, `mutation($m: ID!) { recordAssessment(minorId: $m, input: { level: RED, reasons: "危" }) { id } }`, { m: child.id }),
        t.gql(civil, `mutation($m: ID!) { recordAssessment(minorId: $m, input: { level: YELLOW, reasons: "缓" }) { id } }`, { m: child.id }),
        t.gql(civil, `mutation($m: ID!) { recordVisit(minorId: $m, input: { notes: "走访" }) { id } }`, { m: child.id }),
        t.gql(civil, `mutation($m: ID!) { addCategory(minorId: $m, category: DOMESTIC_VIOLENCE) { id } }`, { m: child.id }),
        t.gql(civil, `mutation($m: ID!) { removeCategory(minorId: $m, category: DOMESTIC_VIOLENCE) { id } }`, { m: child.id }),
        t.gql(civil, `mutation($m: ID!) { addCategory(minorId: $m, category: LACK_OF_GUARDIANSHIP, identifiedAt: "${daysAgo(round)}") { id } }`, { m: child.id }),
        t.gql(civil, `mutation($m: ID!) { updateMinor(id: $m, input: { school: "清波小学${round}" }) { id } }`, { m: child.id }),
        t.gql(civil, `mutation($m: ID!) { addGuardian(minorId: $m, input: { relationship: GRANDPARENT, name: "王${round}", situation: NORMAL }) { id } }`, { m: child.id }),
        file(),
        file(),
        t.gql(police, `mutation($id: ID!) { transitionReport(id: $id, to: VERIFYING, note: "核查") { id } }`, { id: mandatory }),
        t.gql(civil, `mutation($id: ID!) { transitionReport(id: $id, to: VERIFYING, note: "核查") { id } }`, { id: mandatory }),
        t.gql(edu, `mutation($id: ID!) { acceptReferral(id: $id) { id } }`, { id: referrals[0] }),
        t.gql(edu, `mutation($id: ID!) { declineReferral(id: $id, reason: "否") { id } }`, { id: referrals[0] }),
        t.gql(edu, `mutation($id: ID!) { declineReferral(id: $id, reason: "否") { id } }`, { id: referrals[1] }),
        t.gql(edu, `mutation($m: ID!, $i: DropoutReportInput!) { createDropoutReport(minorId: $m, input: $i) { id } }`, {
          m: child.id,
          i: { school: '清波小学', reportedOn: daysAgo(5), daysAbsent: 10 },
        }),
        t.gql(edu, `mutation($r: ID!, $i: PersuasionActionInput!) { recordPersuasionAction(reportId: $r, input: $i) { id } }`, {
          r: report,
          i: { actedOn: daysAgo(3), method: 'HOME_VISIT', actor: '老师', note: '劝返' },
        }),
        t.gql(wf, `mutation($p: ID!, $i: CareVisitInput!) { recordCareVisit(planId: $p, input: $i) { id } }`, { p: plan, i: { visitedOn: daysAgo(round), visitor: 'v', notes: 'n' } }),
        t.gql(wf, `mutation($id: ID!, $i: CarePlanInput!) { updateCarePlan(id: $id, input: $i) { id } }`, {
          id: plan,
          i: { kind: 'LEFT_BEHIND', startedOn: daysAgo(61 + round), status: 'ACTIVE', caregiver: `祖母${round}`, measures: '每月走访' },
        }),
        t.gql(round === 1 ? police : civil, `mutation($id: ID!) { deactivateWebhook(id: $id) { id } }`, { id: hooks[round === 1 ? 1 : 0] }),
        t.gql(police, `mutation($u: String!) { registerWebhook(url: $u) { webhook { id } } }`, { u: `http://127.0.0.1:9/burst/p${round}` }),
        ...(await t.sql(`SELECT id FROM workflow.notification WHERE department = 'CIVIL_AFFAIRS' AND acknowledged_at IS NULL ORDER BY created_at DESC LIMIT 3`)).map((n) =>
          t.gql(civil, `mutation($id: ID!) { acknowledge(id: $id) { id } }`, { id: n.id }),
        ),
      ]);
      noInternal(rs);
    }
  });

  it('answers a referral answer refused at its COMMIT (a serialization failure) DATABASE_UNAVAILABLE: nothing written, nobody told, an ERROR event with no change', async () => {
    const civil = await t.token(CA, { user: 'c-commit', region: STREET });
    const edu = await t.token(ED, { user: 'e-commit', region: STREET });
    await t.gql(civil, `mutation($u: String!) { registerWebhook(url: $u) { webhook { id } } }`, { u: 'http://127.0.0.1:9/commit' });
    const id = (await t.gql(civil, `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, {
      i: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: ED, need: '学费' },
    })).data.createReferral.id as string;
    const written = `SELECT (SELECT count(*)::int FROM workflow.notification) AS n, (SELECT count(*)::int FROM workflow.webhook_delivery) AS d`;
    const before = await t.sql(written);
    // Postgres answers the COMMIT with 40001, as a serializable transaction's conflict found at commit would.
    await t.sql(`CREATE FUNCTION workflow.fail_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom at commit' USING ERRCODE = '40001'; END $$`);
    await t.sql(`CREATE CONSTRAINT TRIGGER fail_commit AFTER INSERT ON workflow.notification DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION workflow.fail_commit()`);
    try {
      const r = await post(t, edu, { query: `mutation($id: ID!) { acceptReferral(id: $id) { id status } }`, variables: { id } });
      expect([r.status, r.headers.get('retry-after'), r.json]).toEqual([
        503,
        '5',
        { data: { acceptReferral: null }, errors: [expect.objectContaining({ message: 'The database did not answer in time; try again shortly', extensions: expect.objectContaining({ code: 'DATABASE_UNAVAILABLE' }) })] },
      ]);
      expect(await eventOf(t, r.requestId)).toMatchObject({ outcome: 'ERROR', changes: [], errorCodes: ['DATABASE_UNAVAILABLE'] });
      expect(logged.join('\n')).toMatch(/the database rolled back a transaction to settle a conflict: QueryFailedError: boom at commit \[code 40001\]/);
    } finally {
      await t.sql(`DROP TRIGGER fail_commit ON workflow.notification`);
      await t.sql(`DROP FUNCTION workflow.fail_commit()`);
    }
    expect((await t.sql(`SELECT status FROM workflow.referral WHERE id = $1`, [id]))[0].status).toBe('PENDING');
    expect(await t.sql(written)).toEqual(before);
    // Nothing stood, so the same answer again is taken.
    expect((await t.gql(edu, `mutation($id: ID!) { acceptReferral(id: $id) { status } }`, { id })).data.acceptReferral.status).toBe('ACCEPTED');
  });

  it('answers a write Postgres picks as a deadlock’s victim DATABASE_UNAVAILABLE, nothing of it written', async () => {
    // Another session (an operator's, another process's) holds the webhook a RED assessment's
    // notification queues a delivery for, then waits for the child the assessment holds.
    const civil = await t.token(CA, { user: 'c-deadlock', region: STREET });
    const hook = (await t.gql(civil, `mutation($u: String!) { registerWebhook(url: $u) { webhook { id } } }`, { u: 'http://127.0.0.1:9/deadlock' })).data.registerWebhook.webhook.id;
    const [m] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 AND registry.is_minor(birth_date, now()) AND risk_level IS DISTINCT FROM 'RED' ORDER BY id DESC LIMIT 1`, [`${STREET}%`]);
    const count = async () =>
      (await t.sql(`SELECT (SELECT count(*)::int FROM registry.risk_assessment WHERE minor_id = $1) AS a, (SELECT count(*)::int FROM workflow.notification WHERE minor_id = $1) AS n`, [m.id]))[0];
    const before = await count();
    const other = new Client({ connectionString: t.databaseUrl });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`UPDATE workflow.webhook SET active = active WHERE id = $1`, [hook]);
      const assessed = post(t, civil, { query: `mutation($m: ID!) { recordAssessment(minorId: $m, input: { level: RED, reasons: "危" }) { id } }`, variables: { m: m.id } });
      await new Promise((resolve) => setTimeout(resolve, 400));
      await other.query(`SELECT 1 FROM registry.minor WHERE id = $1 FOR UPDATE`, [m.id]);
      const r = await assessed;
      expect([r.status, r.json.errors?.map((e: any) => e.extensions.code)]).toEqual([503, ['DATABASE_UNAVAILABLE']]);
      expect(await eventOf(t, r.requestId)).toMatchObject({ outcome: 'ERROR', changes: [] });
      expect(logged.join('\n')).toMatch(/rolled back a transaction to settle a conflict: .*\[code 40P01/);
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
      await other.end();
    }
    expect(await count()).toEqual(before);
  });

  it('refuses a street officer’s write on a child another officer moves out of the street meanwhile as an unknown child, writing nothing', async () => {
    const district = await t.token(CA, { user: 'c-district', region: '330102' });
    const street = await t.token(CA, { user: 'c-street', region: STREET });
    const [m] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 AND registry.is_minor(birth_date, now()) AND (risk_level IS NULL OR risk_level <> 'RED') ORDER BY id DESC LIMIT 1`, [`${STREET}%`]);
    const [{ code: elsewhere }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '330102002%' ORDER BY code LIMIT 1`);
    const rs = await Promise.all([
      t.gql(district, `mutation($m: ID!, $g: ID!) { updateMinor(id: $m, input: { gridCode: $g }) { id } }`, { m: m.id, g: elsewhere }),
      ...Array.from({ length: 4 }, () => t.gql(street, `mutation($m: ID!) { recordAssessment(minorId: $m, input: { level: RED, reasons: "危" }) { id } }`, { m: m.id })),
    ]);
    noInternal(rs);
    // The move is taken; every assessment either went before it or found the child gone.
    expect(rs[0].errors).toBeUndefined();
    for (const r of rs.slice(1)) expect(errorCodes(r)).toEqual(r.errors ? ['NOT_FOUND'] : []);
  });


  it('holds an employer to its hourly checks and yearly re-screenings when they are sent at once, the rest LIMIT_EXCEEDED', async () => {
    const { workflow } = t.config;
    const saved = { perHour: workflow.employmentChecksPerHour, perYear: workflow.rescreensPerYear, min: workflow.employmentCheckMinMs };
    Object.assign(workflow, { employmentChecksPerHour: 5, rescreensPerYear: 2, employmentCheckMinMs: 10 });
    try {
      const employer = await t.token(ED, { role: Role.EMPLOYER, user: 'burst-employer' });
      const person = (n: number) => ({ idNumber: buildIdNumber('330102', '1990-01-01', 100 + n), name: '张三' });
      const rs = await Promise.all([
        ...Array.from({ length: 12 }, (_, n) =>
          t.gql(employer, `mutation($i: EmploymentCheckInput!) { employmentCheck(input: $i) { answer } }`, { i: { ...person(n), authorizationReference: `auth-${n}` } }, {}),
        ),
        ...Array.from({ length: 5 }, (_, n) =>
          t.gql(employer, `mutation($c: [RescreenCandidateInput!]!) { employmentRescreen(candidates: $c, authorizationReference: "annual") { batchId } }`, { c: [person(50 + n)] }, {}),
        ),
      ]);
      noInternal(rs);
      const taken = (from: number, to: number) => rs.slice(from, to).filter((r) => !r.errors).length;
      expect([taken(0, 12), taken(12, 17)]).toEqual([5, 2]);
      for (const r of rs.filter((r) => r.errors)) expect(errorCodes(r)).toEqual(['LIMIT_EXCEEDED']);
      const [{ checks, batches }] = await t.sql(
        `SELECT count(*) FILTER (WHERE batch_id IS NULL)::int AS checks, count(DISTINCT batch_id)::int AS batches FROM workflow.employment_check WHERE employer_id = 'burst-employer'`,
      );
      expect([checks, batches]).toEqual([5, 2]);
    } finally {
      Object.assign(workflow, { employmentChecksPerHour: saved.perHour, rescreensPerYear: saved.perYear, employmentCheckMinMs: saved.min });
    }
  });

  it('acknowledges a notification once when acknowledgements race: one change, the rest answered alike as no change', async () => {
    const civil = await t.token(CA, { user: 'c-ack', region: STREET });
    const [n] = await t.sql(`SELECT id FROM workflow.notification WHERE department = 'CIVIL_AFFAIRS' AND region_code LIKE $1 AND acknowledged_at IS NULL ORDER BY created_at LIMIT 1`, [`${STREET}%`]);
    const rs = await Promise.all(Array.from({ length: 6 }, () => post(t, civil, { query: `mutation($id: ID!) { acknowledge(id: $id) { id acknowledgedAt } }`, variables: { id: n.id } })));
    noInternal(rs.map((r) => r.json));
    expect(new Set(rs.map((r) => r.json.data.acknowledge.acknowledgedAt)).size).toBe(1);
    const changes = await Promise.all(rs.map(async (r) => (await eventOf(t, r.requestId)).changes.length));
    expect(changes.sort()).toEqual([0, 0, 0, 0, 0, 1]);
  });


  it.each([
    ['its webhook delivery', 'workflow.webhook_delivery'],
    ['its notification', 'workflow.notification'],
  ])('leaves nothing of a dropout report when %s fails to be written: no report, no notification, no delivery, an ERROR event with no change', async (_what, table) => {
    const edu = await t.token(ED, { user: `e-fail-${table}`, region: STREET });
    await t.gql(edu, `mutation($u: String!) { registerWebhook(url: $u) { webhook { id } } }`, { u: `http://127.0.0.1:9/fail/${table}` });
    const written = `SELECT (SELECT count(*)::int FROM education.dropout_report) AS r, (SELECT count(*)::int FROM workflow.notification) AS n, (SELECT count(*)::int FROM workflow.webhook_delivery) AS d`;
    const before = await t.sql(written);
    await withFailingTrigger(t, table, 'INSERT', async () => {
      const r = await post(t, edu, {
        query: `mutation($m: ID!, $i: DropoutReportInput!) { createDropoutReport(minorId: $m, input: $i) { id } }`,
        variables: { m: child.id, i: { school: '清波小学', reportedOn: daysAgo(2), daysAbsent: 9 } },
      });
      expectMaskedFailure(r.json);
      expect(await eventOf(t, r.requestId)).toMatchObject({ outcome: 'ERROR', changes: [], errorCodes: ['INTERNAL_SERVER_ERROR'] });
    });
    expect(await t.sql(written)).toEqual(before);
  });


  it('tells a dropout report to the departments of the grid its child lived in when it was made, naming the child, while a move of the child waits', async () => {
    const edu = await t.token(ED, { user: 'e-dropout-move', region: STREET });
    const district = await t.token(CA, { user: 'c-dropout-mover', region: '330102' });
    // Old enough to drop out, and not `child` (the first of them).
    const [m] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 AND registry.is_minor(birth_date, now()) AND birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '16 years' ORDER BY id OFFSET 4 LIMIT 1`, [`${STREET}%`]);
    const [{ code: elsewhere }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '330102002%' ORDER BY code LIMIT 1`);
    // The report's insert is held a moment after the child was found, as a busy database may hold it.
    await t.sql(`CREATE FUNCTION education.slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.6); RETURN NEW; END $$`);
    await t.sql(`CREATE TRIGGER slow_insert BEFORE INSERT ON education.dropout_report FOR EACH ROW EXECUTE FUNCTION education.slow_insert()`);
    try {
      const reported = t.gql(edu, `mutation($m: ID!, $i: DropoutReportInput!) { createDropoutReport(minorId: $m, input: $i) { id } }`, {
        m: m.id,
        i: { school: '清波小学', reportedOn: daysAgo(1), daysAbsent: 8 },
      });
      await new Promise((resolve) => setTimeout(resolve, 250));
      const moved = await t.gql(district, `mutation($m: ID!, $g: ID!) { updateMinor(id: $m, input: { gridCode: $g }) { id } }`, { m: m.id, g: elsewhere });
      const r = await reported;
      expect([r.errors, moved.errors]).toEqual([undefined, undefined]);
      const told = await t.sql(`SELECT department, minor_id FROM workflow.notification WHERE subject_id = $1 ORDER BY department`, [r.data.createDropoutReport.id]);
      expect(told.length).toBeGreaterThan(0);
      for (const n of told) expect(n.minor_id).toBe(m.id);
    } finally {
      await t.sql(`DROP TRIGGER slow_insert ON education.dropout_report`);
      await t.sql(`DROP FUNCTION education.slow_insert()`);
    }
  });

  describe('the escalation job tells of a child as the child is when it tells, not as its batch read it', () => {
    const DAY = 86_400_000;
    /** Runs the job, calling `meanwhile` once, right after the batch read whose rows name `minorId`. */
    async function escalateWith(minorId: string, meanwhile: () => Promise<void>): Promise<void> {
      const ds = t.hub.db.ds;
      const query = ds.query.bind(ds);
      let done = false;
      const spy = jest.spyOn(ds, 'query').mockImplementation(async (...args: Parameters<typeof ds.query>) => {
        const rows = await query(...args);
        if (!done && Array.isArray(rows) && rows.some((r) => r?.minor_id === minorId)) {
          done = true;
          await meanwhile();
        }
        return rows;
      });
      try {
        await runEscalations(ds, t.config, buildPolicy(), new Date());
      } finally {
        spy.mockRestore();
      }
      expect(done).toBe(true);
    }
    const moveOut = async (minorId: string) => {
      const district = await t.token(CA, { user: 'c-mover', region: '330102' });
      const [{ code }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '330102002%' ORDER BY code DESC LIMIT 1`);
      const r = await t.gql(district, `mutation($m: ID!, $g: ID!) { updateMinor(id: $m, input: { gridCode: $g }) { id } }`, { m: minorId, g: code });
      expect(r.errors).toBeUndefined();
      return code as string;
    };
    const freshChild = async (n: number) =>
      (await t.sql(
        `SELECT id FROM registry.minor m WHERE grid_code LIKE $1 AND registry.is_minor(birth_date, now()) AND birth_date < now() - interval '2 years'
            AND NOT EXISTS (SELECT 1 FROM registry.risk_assessment a WHERE a.minor_id = m.id) AND NOT EXISTS (SELECT 1 FROM registry.visit v WHERE v.minor_id = m.id)
          ORDER BY id LIMIT 1 OFFSET $2`,
        [`${STREET}%`, n],
      ))[0].id as string;

    it('asks the civil affairs of the grid a handled report’s child has just moved to for the reassessment, naming the child', async () => {
      const police = await t.token(PO, { user: 'p-reassess', region: STREET });
      const reporter = await t.token(ED, { role: Role.REPORTER, user: 'r-reassess' });
      const minorId = await freshChild(1);
      const [{ id_number }] = await t.sql(`SELECT trim(id_number) AS id_number FROM registry.minor WHERE id = $1`, [minorId]);
      const [{ grid_code }] = await t.sql(`SELECT grid_code FROM registry.minor WHERE id = $1`, [minorId]);
      const filed = await t.gql(reporter, `mutation($i: FileReportInput!) { fileMandatoryReport(input: $i) { id } }`, {
        i: { harmType: 'NEGLECT', observation: '无人照看', location: '小区', regionCode: grid_code, urgency: 'URGENT', childIdNumber: id_number },
      }, {});
      const id = filed.data.fileMandatoryReport.id;
      for (const to of ['VERIFYING', 'HANDLED']) {
        expect((await t.gql(police, `mutation($id: ID!, $to: ReportStatus!) { transitionReport(id: $id, to: $to, note: "处置") { id } }`, { id, to })).errors).toBeUndefined();
      }
      let moved = '';
      await escalateWith(minorId, async () => {
        moved = await moveOut(minorId);
      });
      expect(await t.sql(`SELECT department, region_code, minor_id FROM workflow.notification WHERE subject_id = $1 AND kind = 'REASSESSMENT_REQUESTED'`, [id])).toEqual([
        { department: CA, region_code: moved, minor_id: minorId },
      ]);
    });

    it('does not tell of a lapsed visit that a visit recorded meanwhile has ended, and tells a moved child’s lapse to its new grid', async () => {
      const civil = await t.token(CA, { user: 'c-overdue', region: '330102' });
      const [visited, moving] = [await freshChild(2), await freshChild(3)];
      for (const m of [visited, moving]) {
        const assessed = await t.gql(civil, `mutation($m: ID!, $at: DateTimeISO) { recordAssessment(minorId: $m, input: { level: ORANGE, reasons: "每周走访", assessedAt: $at }) { id } }`, {
          m,
          at: new Date(Date.now() - 10 * DAY).toISOString(),
        });
        expect(assessed.errors).toBeUndefined();
      }
      const told = (m: string) => t.sql(`SELECT department, region_code, minor_id FROM workflow.notification WHERE kind = 'VISIT_OVERDUE' AND dedupe_key LIKE $1 ORDER BY department`, [`VISIT_OVERDUE:${m}:%`]);
      let moved = '';
      // Both lapses are read in one batch; the visit and the move come after it.
      await escalateWith(visited, async () => {
        expect((await t.gql(civil, `mutation($m: ID!) { recordVisit(minorId: $m, input: { notes: "已走访" }) { id } }`, { m: visited })).errors).toBeUndefined();
        moved = await moveOut(moving);
      });
      expect(await told(visited)).toEqual([]);
      const lapses = await told(moving);
      expect(lapses.length).toBeGreaterThan(0);
      for (const n of lapses) expect(n).toMatchObject({ region_code: moved, minor_id: moving });
    });
  });
});
