import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { childAtLeast, daysAgo } from './support/department-records';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, YOUTH_LEAGUE: YL } = Department;
const STREET = '330102001';
const OTHER_STREET = '330102002';

const FILE = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id status receivedAt } }`;
const STEP = `mutation($id: ID!, $to: ReportStatus!, $note: String!) { transitionReport(id: $id, to: $to, note: $note) { id status } }`;
const CREATE = `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`;
const ACCEPT = `mutation($id: ID!) { acceptReferral(id: $id) { id status } }`;
const DECLINE = `mutation($id: ID!) { declineReferral(id: $id, reason: "不属本部门") { id status } }`;
const COMPLETE = `mutation($id: ID!) { completeReferral(id: $id, outcome: "已资助") { id status outcome } }`;

const codes = (j: any): string[] => (j?.errors ?? []).map((e: any) => e.extensions?.code);
const noLeak = (j: any) => {
  const s = JSON.stringify(j);
  expect(s).not.toMatch(/stacktrace|QueryFailedError|SELECT |INSERT |UPDATE |duplicate key|deadlock|could not serialize/i);
};

/** Red team 15: races on the workflow's state machines (reports, dropout cases, referrals) through the public endpoint. */
describe('workflow state races (redteam15)', () => {
  let t: TestHub;
  let streetPolice: string[];
  let streetCivil: string;
  let otherPolice: string;
  let otherCivil: string;
  let reporter: string;

  beforeAll(async () => {
    t = await startTestHub();
    streetPolice = await Promise.all([1, 2, 3].map((i) => t.token(PO, { region: STREET, user: `rt15-po-${i}` })));
    streetCivil = await t.token(CA, { region: STREET, user: 'rt15-ca' });
    otherPolice = await t.token(PO, { region: OTHER_STREET, user: 'rt15-po-other' });
    otherCivil = await t.token(CA, { region: OTHER_STREET, user: 'rt15-ca-other' });
    reporter = await t.token(ED, { role: Role.REPORTER, user: 'rt15-teacher' });
  });
  afterAll(() => t?.stop());

  const child = async (n: number, street = STREET) =>
    (await t.sql(`SELECT id, grid_code, trim(id_number) AS id_number FROM registry.minor WHERE grid_code LIKE $1 AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET $2 LIMIT 1`, [`${street}%`, n]))[0];
  /**
   * A child old enough to drop out (no child under 6 does: record-ages.redteam43) — 16 or 17, old enough for
   * every record — counted from the other end of the ids, so as to be none of `child`'s.
   */
  const oldChild = (n: number) => childAtLeast(t, STREET, 16, n);

  const fileReport = async (over: Record<string, unknown> = {}): Promise<string> => {
    const r = await t.gql(reporter, FILE, {
      input: { harmType: 'NEGLECT', observation: '孩子长期独自在家，无人照料', location: '某小区3栋', regionCode: STREET, urgency: 'NORMAL', observedAt: new Date(Date.now() - 60_000).toISOString(), ...over },
    }, {});
    expect(r.errors).toBeUndefined();
    return r.data.fileMandatoryReport.id;
  };
  const step = (token: string, id: string, to: string, note = '核查') => post(t, token, { query: STEP, variables: { id, to, note } });

  describe('mandatory reports (强制报告)', () => {
    it('steps a report once when the same step races: one winner, one transition row, one change audited, the rest BAD_USER_INPUT', async () => {
      const m = await child(11);
      const id = await fileReport({ childId: m.id });
      const rs = await Promise.all([...streetPolice, streetCivil, ...streetPolice, streetCivil].map((tok) => step(tok, id, 'VERIFYING')));
      rs.forEach((r) => noLeak(r.json));
      const ok = rs.filter((r) => !r.json.errors);
      expect(ok.length).toBe(1);
      expect(rs.filter((r) => r.json.errors).map((r) => codes(r.json))).toEqual(Array(7).fill(['BAD_USER_INPUT']));
      const steps = await t.sql(`SELECT from_status, to_status FROM workflow.report_transition WHERE report_id = $1`, [id]);
      expect(steps).toEqual([{ from_status: 'RECEIVED', to_status: 'VERIFYING' }]);
      const events = await Promise.all(rs.map((r) => eventOf(t, r.requestId)));
      const changed = events.filter((e) => e.changes.length > 0);
      expect(changed.length).toBe(1);
      expect(changed[0].changes).toEqual([expect.objectContaining({ mutation: 'transitionReport', id })]);
      for (const e of events.filter((x) => x.changes.length === 0)) expect(e.outcome).not.toBe('SUCCESS');
      // The read back agrees.
      const back = await t.gql(streetCivil, `query($id: ID!) { mandatoryReport(id: $id) { status transitions { fromStatus toStatus } } }`, { id });
      expect(back.data.mandatoryReport).toEqual({ status: 'VERIFYING', transitions: [{ fromStatus: 'RECEIVED', toStatus: 'VERIFYING' }] });
    });

    it('settles conflicting steps from VERIFYING (HANDLED vs UNFOUNDED) once; the report never skips a step', async () => {
      const id = await fileReport();
      expect((await step(streetPolice[0], id, 'VERIFYING')).json.errors).toBeUndefined();
      const rs = await Promise.all([
        ...streetPolice.map((p) => step(p, id, 'UNFOUNDED')),
        ...streetPolice.map((p) => step(p, id, 'HANDLED')),
        step(streetCivil, id, 'HANDLED'),
        step(streetCivil, id, 'CLOSED'),
        step(streetCivil, id, 'RECEIVED'),
      ]);
      rs.forEach((r) => noLeak(r.json));
      expect(rs.filter((r) => !r.json.errors).length).toBeLessThanOrEqual(2); // HANDLED then CLOSED may both pass in order
      // Steps at one instant (a step is dated no earlier than the one before it) in the order taken, as the hub lists them.
      const steps = await t.sql(`SELECT from_status, to_status FROM workflow.report_transition WHERE report_id = $1 ORDER BY at, array_position(ARRAY['RECEIVED','VERIFYING','HANDLED'], from_status)`, [id]);
      // A chain: each step's from is the previous step's to.
      for (let i = 1; i < steps.length; i++) expect(steps[i].from_status).toBe(steps[i - 1].to_status);
      const [row] = await t.sql(`SELECT status FROM workflow.mandatory_report WHERE id = $1`, [id]);
      expect(row.status).toBe(steps[steps.length - 1].to_status);
      const changedEvents = (await Promise.all(rs.map((r) => eventOf(t, r.requestId)))).filter((e) => e.changes.length);
      expect(changedEvents.length).toBe(steps.length - 1);
    });

    it('closes a handled report once when civil affairs closes it concurrently, and a HANDLED step asks for one reassessment', async () => {
      const m = await child(12);
      const id = await fileReport({ childId: m.id });
      expect((await step(streetPolice[0], id, 'VERIFYING')).json.errors).toBeUndefined();
      const handled = await Promise.all([streetPolice[0], streetPolice[1], streetCivil].map((tok) => step(tok, id, 'HANDLED')));
      expect(handled.filter((r) => !r.json.errors).length).toBe(1);
      const civils = await Promise.all([1, 2, 3, 4, 5].map((i) => t.token(CA, { region: STREET, user: `rt15-closer-${i}` })));
      const closed = await Promise.all(civils.map((c) => step(c, id, 'CLOSED')));
      closed.forEach((r) => noLeak(r.json));
      expect(closed.filter((r) => !r.json.errors).length).toBe(1);
      expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.report_transition WHERE report_id = $1 AND to_status = 'CLOSED'`, [id]))[0].n).toBe(1);
      expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.report_transition WHERE report_id = $1 AND to_status = 'HANDLED'`, [id]))[0].n).toBe(1);
    });

    it('steps a report naming another street’s child without naming the child in the step’s answer or its audit event', async () => {
      const away = await child(13, OTHER_STREET);
      const id = await fileReport({ childIdNumber: away.id_number });
      const rs = await Promise.all([step(streetPolice[0], id, 'VERIFYING'), step(streetPolice[1], id, 'VERIFYING')]);
      const won = rs.find((r) => !r.json.errors)!;
      const lost = rs.find((r) => r.json.errors)!;
      expect(codes(lost.json)).toEqual(['BAD_USER_INPUT']);
      for (const r of rs) {
        const e = await eventOf(t, r.requestId);
        expect(JSON.stringify(e)).not.toContain(away.id);
      }
      expect((await eventOf(t, won.requestId)).changes).toEqual([expect.objectContaining({ mutation: 'transitionReport', id, minorId: null })]);
      const h = await post(t, streetPolice[0], { query: STEP.replace('{ id status }', '{ id status minor { id } transitions { toStatus } }'), variables: { id, to: 'HANDLED', note: '已处置' } });
      expect(h.json.errors).toBeUndefined();
      expect(h.json.data.transitionReport).toEqual({ id, status: 'HANDLED', minor: null, transitions: [{ toStatus: 'VERIFYING' }, { toStatus: 'HANDLED' }] });
      expect(JSON.stringify(await eventOf(t, h.requestId))).not.toContain(away.id);
    });

    it('refuses a step of another street’s report as NOT_FOUND, exactly as an unknown id, and a forbidden step the same whatever the state', async () => {
      const id = await fileReport();
      const unknown = '00000000-0000-4000-8000-0000000000aa';
      const [a, b, c, d] = await Promise.all([
        step(otherPolice, id, 'VERIFYING'),
        step(otherPolice, unknown, 'VERIFYING'),
        step(otherCivil, id, 'CLOSED'),
        step(otherCivil, unknown, 'CLOSED'),
      ]);
      for (const r of [a, b, c, d]) expect(codes(r.json)).toEqual(['NOT_FOUND']);
      expect(a.json.errors[0].message).toBe(b.json.errors[0].message);
      expect(c.json.errors[0].message).toBe(d.json.errors[0].message);
      // Their audit events alike: no child, no read, no change (the other street's auditors read them).
      const strip = (e: any) => ({ reads: e.reads, changes: e.changes, outcome: e.outcome, errorCodes: e.errorCodes });
      expect(strip(await eventOf(t, a.requestId))).toEqual(strip(await eventOf(t, b.requestId)));
      expect(strip(await eventOf(t, c.requestId))).toEqual(strip(await eventOf(t, d.requestId)));
      // Education (not a stepping department) is refused without learning the state.
      const edu = await t.token(ED, { region: STREET, user: 'rt15-edu-step' });
      const e = await step(edu, id, 'VERIFYING');
      expect(codes(e.json)).toEqual(['FORBIDDEN']);
      noLeak(e.json);
      const e2 = await step(edu, '00000000-0000-4000-8000-0000000000aa', 'VERIFYING');
      expect([codes(e2.json), e2.json.errors[0].message]).toEqual([codes(e.json), e.json.errors[0].message]);
      // The filer (a reporter) may not step the report it filed, and learns nothing of its existence.
      const f = await step(reporter, id, 'VERIFYING');
      const g = await step(reporter, '00000000-0000-4000-8000-0000000000aa', 'VERIFYING');
      expect([codes(f.json), f.json.errors[0].message]).toEqual([codes(g.json), g.json.errors[0].message]);
      const [row] = await t.sql(`SELECT status FROM workflow.mandatory_report WHERE id = $1`, [id]);
      expect(row.status).toBe('RECEIVED');
    });
  });

  describe('steps taken on a clock behind the one that took the step before', () => {
    afterEach(() => {
      t.config.workflow.clockOffsetMs = 0;
    });
    it('never records a report step, a referral answer or an acknowledgement before what it follows', async () => {
      const m = await child(14);
      const id = await fileReport({ childId: m.id });
      const refer = (await t.gql(streetCivil, CREATE, { i: { minorId: m.id, type: 'EDUCATION_AID', toDepartment: ED, need: '学费' } })).data.createReferral.id;
      const edu = await t.token(ED, { region: STREET, user: 'rt15-clock-edu' });
      t.config.workflow.clockOffsetMs = -3_600_000;
      expect((await step(streetPolice[0], id, 'VERIFYING')).json.errors).toBeUndefined();
      expect((await step(streetCivil, id, 'HANDLED')).json.errors).toBeUndefined();
      const [rep] = await t.sql(`SELECT received_at, updated_at FROM workflow.mandatory_report WHERE id = $1`, [id]);
      const steps = await t.sql(`SELECT at FROM workflow.report_transition WHERE report_id = $1 ORDER BY at`, [id]);
      for (const s of steps) expect(s.at.getTime()).toBeGreaterThanOrEqual(rep.received_at.getTime());
      expect((await step(streetCivil, id, 'CLOSED')).json.errors).toBeUndefined();
      const back = await t.gql(streetCivil, `query($id: ID!) { mandatoryReport(id: $id) { status transitions { fromStatus toStatus } } }`, { id });
      expect(back.data.mandatoryReport).toEqual({
        status: 'CLOSED',
        transitions: [
          { fromStatus: 'RECEIVED', toStatus: 'VERIFYING' },
          { fromStatus: 'VERIFYING', toStatus: 'HANDLED' },
          { fromStatus: 'HANDLED', toStatus: 'CLOSED' },
        ],
      });
      expect((await t.gql(edu, ACCEPT, { id: refer })).errors).toBeUndefined();
      t.config.workflow.clockOffsetMs = -7_200_000;
      expect((await t.gql(edu, COMPLETE, { id: refer })).errors).toBeUndefined();
      const [r] = await t.sql(`SELECT created_at, answered_at, completed_at, closed_at FROM workflow.referral WHERE id = $1`, [refer]);
      expect(r.answered_at.getTime()).toBeGreaterThanOrEqual(r.created_at.getTime());
      expect(r.completed_at.getTime()).toBeGreaterThanOrEqual(r.answered_at.getTime());
      const [n] = await t.sql(`SELECT id, created_at FROM workflow.notification WHERE subject_id = $1 AND kind = 'REFERRAL_RECEIVED'`, [refer]);
      expect((await t.gql(edu, `mutation($id: ID!) { acknowledge(id: $id) { id acknowledgedAt } }`, { id: n.id })).errors).toBeUndefined();
      const [ack] = await t.sql(`SELECT acknowledged_at FROM workflow.notification WHERE id = $1`, [n.id]);
      expect(ack.acknowledged_at.getTime()).toBeGreaterThanOrEqual(n.created_at.getTime());
      // The REFERRAL_OUTCOME told of the completion is not written before the acceptance's either.
      const outs = await t.sql(`SELECT created_at FROM workflow.notification WHERE subject_id = $1 AND kind = 'REFERRAL_OUTCOME' ORDER BY created_at`, [refer]);
      expect(outs.length).toBe(2);
    });
  });

  describe('dropout reports (辍学)', () => {
    const CREATE_DROPOUT = `mutation($m: ID!, $i: DropoutReportInput!) { createDropoutReport(minorId: $m, input: $i) { id status } }`;
    const ACTION = `mutation($r: ID!, $i: PersuasionActionInput!) { recordPersuasionAction(reportId: $r, input: $i) { id } }`;
    let edus: string[];
    beforeAll(async () => {
      edus = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => t.token(ED, { region: STREET, user: `rt15-edu-${i}` })));
    });

    it('closes a dropout case once when closing actions race: one action with an outcome, one closedOn, one change naming the close', async () => {
      const m = await oldChild(0);
      const created = await t.gql(edus[0], CREATE_DROPOUT, { m: m.id, i: { school: '清波小学', reportedOn: daysAgo(5), daysAbsent: 9 } });
      expect(created.errors).toBeUndefined();
      const rid = created.data.createDropoutReport.id;
      expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE subject_id = $1`, [rid]))[0].n).toBeGreaterThan(0);
      const outcomes = ['RETURNED_TO_SCHOOL', 'RETURNED_TO_SCHOOL', 'RETURNED_TO_SCHOOL', 'RETURNED_TO_SCHOOL', 'RETURNED_TO_SCHOOL', 'RETURNED_TO_SCHOOL'];
      const rs = await Promise.all(
        edus.map((e, i) => post(t, e, { query: ACTION, variables: { r: rid, i: { actedOn: daysAgo(1), method: 'HOME_VISIT', actor: '班主任', note: `劝返 ${i}`, outcome: outcomes[i] } } })),
      );
      rs.forEach((r) => noLeak(r.json));
      const errs = rs.filter((r) => r.json.errors);
      if (errs.some((r) => codes(r.json).includes('GRAPHQL_VALIDATION_FAILED') || codes(r.json).includes('BAD_USER_INPUT') && /method|outcome|input/.test(r.json.errors[0].extensions.field ?? '') && !/reportId/.test(r.json.errors[0].extensions.field ?? ''))) {
        throw new Error(JSON.stringify(errs[0].json));
      }
      expect(rs.filter((r) => !r.json.errors).length).toBe(1);
      expect(errs.map((r) => codes(r.json))).toEqual(Array(5).fill(['BAD_USER_INPUT']));
      expect((await t.sql(`SELECT count(*)::int AS n FROM education.persuasion_action WHERE report_id = $1`, [rid]))[0].n).toBe(1);
      const [row] = await t.sql(`SELECT status FROM education.dropout_report WHERE id = $1`, [rid]);
      expect(row.status).toBe('CLOSED');
      const events = await Promise.all(rs.map((r) => eventOf(t, r.requestId)));
      expect(events.filter((e) => e.changes.length).length).toBe(1);
      // The report's notifications are not emitted again by the close.
      expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE subject_id = $1`, [rid]))[0].n).toBe(3);
    });
    it('keeps a closed case’s actions no later than its close when plain and closing actions race', async () => {
      const m = await oldChild(1);
      const created = await t.gql(edus[0], CREATE_DROPOUT, { m: m.id, i: { school: '清波小学', reportedOn: daysAgo(10), daysAbsent: 12 } });
      const rid = created.data.createDropoutReport.id;
      const rs = await Promise.all(
        edus.map((e, i) =>
          post(t, e, { query: ACTION, variables: { r: rid, i: { actedOn: daysAgo(i % 2 ? 1 : 6), method: 'PHONE_CALL', actor: '班主任', note: `劝返 ${i}`, ...(i % 2 ? {} : { outcome: 'NOT_RETURNED' }) } } }),
        ),
      );
      rs.forEach((r) => noLeak(r.json));
      for (const r of rs.filter((x) => x.json.errors)) expect(codes(r.json)).toEqual(['BAD_USER_INPUT']);
      const [rep] = await t.sql(`SELECT status, closed_on::text AS closed_on, outcome FROM education.dropout_report WHERE id = $1`, [rid]);
      const acts = await t.sql(`SELECT acted_on::text AS acted_on FROM education.persuasion_action WHERE report_id = $1`, [rid]);
      // A closing action is refused when dated before the latest action: should a plain one (dated
      // later) commit first, none closes the case; else exactly one does, and no action follows it.
      const closes = rs.filter((r, i) => i % 2 === 0 && !r.json.errors).length;
      expect([rep.status, closes]).toEqual(rep.status === 'CLOSED' ? ['CLOSED', 1] : ['OPEN', 0]);
      for (const a of acts) expect(rep.closed_on === null || a.acted_on <= rep.closed_on).toBe(true);
      expect(acts.length).toBe(rs.filter((r) => !r.json.errors).length);
      const events = await Promise.all(rs.map((r) => eventOf(t, r.requestId)));
      expect(events.filter((e) => e.changes.length).length).toBe(acts.length);
    });

    it('keeps a case’s report date no later than its close and its actions when a correction races the closing action', async () => {
      const UPDATE_DROPOUT = `mutation($id: ID!, $i: DropoutReportInput!) { updateDropoutReport(id: $id, input: $i) { id } }`;
      for (let round = 0; round < 3; round++) {
        const m = await oldChild(3 + round);
        const rid = (await t.gql(edus[0], CREATE_DROPOUT, { m: m.id, i: { school: '清波小学', reportedOn: daysAgo(10), daysAbsent: 12 } })).data.createDropoutReport.id;
        const rs = await Promise.all([
          post(t, edus[1], { query: UPDATE_DROPOUT, variables: { id: rid, i: { school: '清波小学', reportedOn: daysAgo(2), daysAbsent: 12 } } }),
          post(t, edus[2], { query: ACTION, variables: { r: rid, i: { actedOn: daysAgo(5), method: 'HOME_VISIT', actor: '班主任', note: '劝返', outcome: 'RETURNED_TO_SCHOOL' } } }),
          post(t, edus[3], { query: ACTION, variables: { r: rid, i: { actedOn: daysAgo(6), method: 'PHONE_CALL', actor: '班主任', note: '电话' } } }),
        ]);
        rs.forEach((r) => noLeak(r.json));
        for (const r of rs.filter((x) => x.json.errors)) expect(codes(r.json)).toEqual(['BAD_USER_INPUT']);
        const [rep] = await t.sql(`SELECT reported_on::text AS reported_on, closed_on::text AS closed_on FROM education.dropout_report WHERE id = $1`, [rid]);
        const acts = await t.sql(`SELECT acted_on::text AS acted_on FROM education.persuasion_action WHERE report_id = $1`, [rid]);
        if (rep.closed_on) expect(rep.reported_on <= rep.closed_on).toBe(true);
        for (const x of acts) expect([x.acted_on >= rep.reported_on, !rep.closed_on || x.acted_on <= rep.closed_on]).toEqual([true, true]);
      }
    });

    it('refuses another street’s school, and departments that do not write the ledger, alike for a real and an unknown report', async () => {
      const m = await oldChild(2);
      const rid = (await t.gql(edus[0], CREATE_DROPOUT, { m: m.id, i: { school: '清波小学', reportedOn: daysAgo(3), daysAbsent: 7 } })).data.createDropoutReport.id;
      const unknown = '00000000-0000-4000-8000-0000000000cc';
      const otherEdu = await t.token(ED, { region: OTHER_STREET, user: 'rt15-edu-other2' });
      const yl = await t.token(YL, { region: STREET, user: 'rt15-yl2' });
      const input = { actedOn: daysAgo(1), method: 'HOME_VISIT', actor: 'x', note: 'y', outcome: 'RETURNED_TO_SCHOOL' };
      const pairs = [otherEdu, yl, streetCivil, streetPolice[0]];
      for (const tok of pairs) {
        const [a, b] = await Promise.all([post(t, tok, { query: ACTION, variables: { r: rid, i: input } }), post(t, tok, { query: ACTION, variables: { r: unknown, i: input } })]);
        noLeak(a.json);
        expect(codes(a.json)).toEqual(codes(b.json));
        expect(a.json.errors[0].message).toBe(b.json.errors[0].message);
        expect(a.status).toBe(b.status);
      }
      // And the notice of it: another street's school cannot acknowledge it, exactly as an unknown id.
      const [n] = await t.sql(`SELECT id FROM workflow.notification WHERE subject_id = $1 AND department = 'EDUCATION'`, [rid]);
      const ACK = `mutation($id: ID!) { acknowledge(id: $id) { id } }`;
      const [x, y] = await Promise.all([post(t, otherEdu, { query: ACK, variables: { id: n.id } }), post(t, otherEdu, { query: ACK, variables: { id: unknown } })]);
      expect([codes(x.json), x.json.errors[0].message]).toEqual([codes(y.json), y.json.errors[0].message]);
      const [rep] = await t.sql(`SELECT status FROM education.dropout_report WHERE id = $1`, [rid]);
      expect(rep.status).toBe('OPEN');
    });
  });

  describe('referrals (转介)', () => {
    let edus: string[];
    beforeAll(async () => {
      edus = await Promise.all([1, 2, 3, 4].map((i) => t.token(ED, { region: STREET, user: `rt15-red-${i}` })));
    });
    const refer = async (minorId: string, type = 'EDUCATION_AID', from = streetCivil): Promise<string> => {
      const r = await t.gql(from, CREATE, { i: { minorId, type, toDepartment: ED, need: '学费困难' } });
      expect(r.errors).toBeUndefined();
      return r.data.createReferral.id;
    };
    const outcomes = async (id: string) => (await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE subject_id = $1 AND kind = 'REFERRAL_OUTCOME'`, [id]))[0].n;

    it('completes an accepted referral once when completes and declines race; declines of an accepted referral are refused', async () => {
      const m = await child(30);
      const id = await refer(m.id);
      expect((await t.gql(edus[0], ACCEPT, { id })).errors).toBeUndefined();
      const rs = await Promise.all(edus.flatMap((e) => [post(t, e, { query: COMPLETE, variables: { id } }), post(t, e, { query: DECLINE, variables: { id } }), post(t, e, { query: ACCEPT, variables: { id } })]));
      rs.forEach((r) => noLeak(r.json));
      expect(rs.filter((r) => !r.json.errors).map((r) => Object.keys(r.json.data)[0])).toEqual(['completeReferral']);
      expect(rs.filter((r) => r.json.errors).every((r) => codes(r.json).join() === 'BAD_USER_INPUT')).toBe(true);
      const [row] = await t.sql(`SELECT status, completed_at, closed_at, answered_at FROM workflow.referral WHERE id = $1`, [id]);
      expect(row.status).toBe('COMPLETED');
      expect(row.closed_at).toEqual(row.completed_at);
      expect(await outcomes(id)).toBe(2);
      const events = await Promise.all(rs.map((r) => eventOf(t, r.requestId)));
      expect(events.filter((e) => e.changes.length).map((e) => e.changes[0].mutation)).toEqual(['completeReferral']);
    });

    it('refuses an answer by a department not on the referral as NOT_FOUND like an unknown id, and by another street’s receiver alike', async () => {
      const m = await child(31);
      const id = await refer(m.id);
      const unknown = '00000000-0000-4000-8000-0000000000bb';
      const yl = await t.token(YL, { region: STREET, user: 'rt15-yl' });
      const otherEdu = await t.token(ED, { region: OTHER_STREET, user: 'rt15-edu-other' });
      const rs = await Promise.all([post(t, yl, { query: ACCEPT, variables: { id } }), post(t, yl, { query: ACCEPT, variables: { id: unknown } }), post(t, otherEdu, { query: ACCEPT, variables: { id } }), post(t, otherEdu, { query: ACCEPT, variables: { id: unknown } }), post(t, otherCivil, { query: ACCEPT, variables: { id } })]);
      for (const r of rs) expect([codes(r.json), r.json.data?.acceptReferral ?? null]).toEqual([['NOT_FOUND'], null]);
      expect(new Set(rs.map((r) => r.json.errors[0].message)).size).toBe(1);
      const strip = (e: any) => JSON.stringify({ reads: e.reads, changes: e.changes, outcome: e.outcome, errorCodes: e.errorCodes });
      const evs = await Promise.all(rs.map((r) => eventOf(t, r.requestId)));
      expect(new Set(evs.map(strip)).size).toBe(1);
      // Civil affairs of the street sees the referral: FORBIDDEN, nothing changed.
      const ca = await post(t, streetCivil, { query: ACCEPT, variables: { id } });
      expect(codes(ca.json)).toEqual(['FORBIDDEN']);
      const [row] = await t.sql(`SELECT status FROM workflow.referral WHERE id = $1`, [id]);
      expect(row.status).toBe('PENDING');
      await t.gql(edus[0], DECLINE, { id });
    });

    it('answers a referral while its child moves out of the street: the outcome names the child to no one it cannot see', async () => {
      const district = await t.token(CA, { user: 'rt15-district-mover', region: '330102' });
      const [{ code: away }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '${OTHER_STREET}%' ORDER BY code LIMIT 1`);
      for (let round = 0; round < 4; round++) {
        const m = await child(40 + round);
        const id = await refer(m.id);
        const move = t.gql(district, `mutation($m: ID!, $g: ID!) { updateMinor(id: $m, input: { gridCode: $g }) { id } }`, { m: m.id, g: away });
        const answered = post(t, edus[round % edus.length], { query: `mutation($id: ID!) { acceptReferral(id: $id) { id status minor { id } } }`, variables: { id } });
        const [mv, an] = await Promise.all([move, answered]);
        expect(mv.errors).toBeUndefined();
        noLeak(an.json);
        expect(an.json.errors).toBeUndefined();
        // The referrer (street civil affairs) now cannot see the child: its inbox names no child and no Minor.* field.
        const inbox = await t.gql(streetCivil, `query { notifications(first: 20) { subjectId kind minor { id } payload { field value } } }`);
        const n = inbox.data.notifications.find((x: any) => x.subjectId === id && x.kind === 'REFERRAL_OUTCOME');
        expect(n.minor).toBeNull();
        expect(n.payload.map((p: any) => p.field).filter((f: string) => f.startsWith('Minor.'))).toEqual([]);
        // The referral still completes, loop closed.
        const done = await post(t, edus[0], { query: COMPLETE, variables: { id } });
        expect(done.json.errors).toBeUndefined();
      }
    });

    it('completes a referral under its own purpose: the answer, the purpose and the change are recorded right', async () => {
      const m = await child(50);
      const id = await refer(m.id);
      expect((await t.gql(edus[0], ACCEPT, { id })).errors).toBeUndefined();
      const r = await post(t, edus[1], { query: `mutation($id: ID!) { completeReferral(id: $id, outcome: "已资助") { id status outcome grantedFields minor { id } } }`, variables: { id } }, { 'x-purpose': `REFERRAL; ${id}` });
      noLeak(r.json);
      expect([r.status, r.json.errors]).toEqual([200, undefined]);
      expect(r.json.data.completeReferral).toMatchObject({ id, status: 'COMPLETED', outcome: '已资助', minor: { id: m.id } });
      // A closed referral opens nothing any more, and still tells what it opened (civil affairs reads its type's whole list).
      expect(r.json.data.completeReferral.grantedFields).toEqual(['Minor.currentAddress', 'Minor.householdRegistration', 'IdentityVerification.householdPlace', 'Guardian.name', 'Guardian.phone', 'Guardian.address']);
      const e = await eventOf(t, r.requestId);
      expect(e.purpose).toEqual({ code: 'REFERRAL', reference: id });
      expect(e.outcome).toBe('SUCCESS');
      expect(e.changes).toEqual([expect.objectContaining({ mutation: 'completeReferral', id, minorId: m.id })]);
      // A second completion under the (now closed) referral's purpose is refused before it runs, typed.
      const again = await post(t, edus[2], { query: COMPLETE, variables: { id } }, { 'x-purpose': `REFERRAL; ${id}` });
      expect([again.status, codes(again.json)]).toEqual([400, ['BAD_USER_INPUT']]);
      expect(again.json.errors[0].extensions.field).toBe('x-purpose');
    });

    it('reads the granted fields in the answer of the completion made under the referral’s purpose (the grant ends from the next request on)', async () => {
      const m = await child(51);
      const [{ current_address }] = await t.sql(`SELECT current_address FROM registry.minor WHERE id = $1`, [m.id]);
      const id = await refer(m.id);
      expect((await t.gql(edus[0], ACCEPT, { id })).errors).toBeUndefined();
      const r = await post(t, edus[1], { query: `mutation($id: ID!) { completeReferral(id: $id, outcome: "已资助") { id status minor { id currentAddress } } }`, variables: { id } }, { 'x-purpose': `REFERRAL; ${id}` });
      noLeak(r.json);
      const [row] = await t.sql(`SELECT status FROM workflow.referral WHERE id = $1`, [id]);
      expect(row.status).toBe('COMPLETED');
      // The purpose was accepted and the change made under it: the answer must not then claim the
      // x-purpose header was invalid (docs/workflows.md: such a refusal comes "before anything runs").
      expect(r.json.errors?.map((x: any) => [x.extensions.code, x.extensions.field, x.path?.join('.')]) ?? []).toEqual([]);
      expect(r.json.data.completeReferral.minor).toEqual({ id: m.id, currentAddress: current_address });
      const e = await eventOf(t, r.requestId);
      expect(e.changes).toEqual([expect.objectContaining({ mutation: 'completeReferral', id })]);
    });

    it('reads the granted fields in the answer of a decline made under the referral’s purpose, as of an accept', async () => {
      const m = await child(55);
      const [{ current_address }] = await t.sql(`SELECT current_address FROM registry.minor WHERE id = $1`, [m.id]);
      const accepted = await refer(m.id);
      const a = await post(t, edus[1], { query: `mutation($id: ID!) { acceptReferral(id: $id) { id status minor { id currentAddress } } }`, variables: { id: accepted } }, { 'x-purpose': `REFERRAL; ${accepted}` });
      expect([a.json.errors, a.json.data.acceptReferral.minor]).toEqual([undefined, { id: m.id, currentAddress: current_address }]);
      const declined = await refer(m.id);
      const d = await post(t, edus[1], { query: `mutation($id: ID!) { declineReferral(id: $id, reason: "转卫健") { id status minor { id currentAddress } } }`, variables: { id: declined } }, { 'x-purpose': `REFERRAL; ${declined}` });
      expect((await t.sql(`SELECT status FROM workflow.referral WHERE id = $1`, [declined]))[0].status).toBe('DECLINED');
      expect(d.json.errors?.map((x: any) => [x.extensions.code, x.extensions.field]) ?? []).toEqual([]);
      expect(d.json.data.declineReferral.minor).toEqual({ id: m.id, currentAddress: current_address });
      await t.gql(edus[0], COMPLETE, { id: accepted });
    });

    it('answers a read under the referral’s purpose racing its completion either whole under the grant or refused before it runs, never half', async () => {
      const m = await child(53);
      const READ = `query($m: ID!, $r: ID!) { referral(id: $r) { id status } minor(id: $m) { id currentAddress guardians { phone } } }`;
      const seen: string[] = [];
      for (let round = 0; round < 12; round++) {
        const id = await refer(m.id);
        expect((await t.gql(edus[0], ACCEPT, { id })).errors).toBeUndefined();
        const delay = round % 4;
        const [r] = await Promise.all([
          post(t, edus[1], { query: READ, variables: { m: m.id, r: id } }, { 'x-purpose': `REFERRAL; ${id}` }),
          new Promise((res) => setTimeout(res, delay)).then(() => post(t, edus[2], { query: COMPLETE, variables: { id } })),
        ]);
        noLeak(r.json);
        const shape = `${r.status}:${(r.json.errors ?? []).map((x: any) => `${x.extensions.code}/${x.extensions.field ?? ''}/${(x.path ?? []).join('.')}`).join(',')}`;
        seen.push(shape);
      }
      // Whole (200, no error) or refused before it ran (400 on x-purpose, no data).
      for (const s of seen) expect(['200:', '400:BAD_USER_INPUT/x-purpose/']).toContain(s);
    });

    it('answers a read under the referral’s purpose whose referral is completed while the read runs whole or refused before it ran, never a field error on x-purpose', async () => {
      const m = await child(54);
      const id = await refer(m.id);
      expect((await t.gql(edus[0], ACCEPT, { id })).errors).toBeUndefined();
      // The registry is held a moment (a busy database), so that the referral's completion by a
      // colleague commits after the purpose was checked and before the child's fields are read.
      const holder = new Client({ connectionString: t.databaseUrl });
      await holder.connect();
      let r: Awaited<ReturnType<typeof post>>;
      try {
        await holder.query(`BEGIN`);
        await holder.query(`LOCK TABLE registry.minor IN ACCESS EXCLUSIVE MODE`);
        const reading = post(t, edus[1], { query: `query($m: ID!) { minor(id: $m) { id currentAddress } }`, variables: { m: m.id } }, { 'x-purpose': `REFERRAL; ${id}` });
        await new Promise((res) => setTimeout(res, 400));
        await t.sql(`UPDATE workflow.referral SET status = 'COMPLETED', completed_at = now(), completed_by = 'rt15-colleague', outcome = '已资助', closed_at = now() WHERE id = $1`, [id]);
        await holder.query(`COMMIT`);
        r = await reading;
      } finally {
        await holder.end();
      }
      noLeak(r.json);
      const shape = `${r.status}:${(r.json.errors ?? []).map((x: any) => `${x.extensions.code}/${x.extensions.field ?? ''}/${(x.path ?? []).join('.')}`).join(',')}`;
      expect(['200:', '400:BAD_USER_INPUT/x-purpose/']).toContain(shape);
    });

    it('races completions under the referral’s purpose: one completes, the rest typed refusals, one outcome told', async () => {
      const m = await child(52);
      const id = await refer(m.id);
      expect((await t.gql(edus[0], ACCEPT, { id })).errors).toBeUndefined();
      const rs = await Promise.all(edus.flatMap((e) => [post(t, e, { query: COMPLETE, variables: { id } }, { 'x-purpose': `REFERRAL; ${id}` }), post(t, e, { query: DECLINE, variables: { id } }, { 'x-purpose': `REFERRAL; ${id}` })]));
      rs.forEach((r) => noLeak(r.json));
      expect(rs.filter((r) => !r.json.errors).length).toBe(1);
      for (const r of rs.filter((x) => x.json.errors)) expect(codes(r.json)).toEqual(['BAD_USER_INPUT']);
      expect(await outcomes(id)).toBe(2);
      const events = await Promise.all(rs.map((r) => eventOf(t, r.requestId)));
      expect(events.filter((e) => e.changes.length).length).toBe(1);
    });
  });
});

/** The completion under the referral's purpose, with every subgraph served alone (distributed mode). */
describe('workflow state races (redteam15, distributed)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startDistributedTestHub({});
  });
  afterAll(() => t?.stop());

  it('reads the granted fields in the answer of a completion made under the referral’s purpose, distributed', async () => {
    const civil = await t.token(CA, { region: STREET, user: 'rt15d-ca' });
    const edu = await t.token(ED, { region: STREET, user: 'rt15d-edu' });
    const [m] = await t.sql(`SELECT id, current_address FROM registry.minor WHERE grid_code LIKE $1 AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 60 LIMIT 1`, [`${STREET}%`]);
    const id = (await t.gql(civil, CREATE, { i: { minorId: m.id, type: 'EDUCATION_AID', toDepartment: ED, need: '学费困难' } })).data.createReferral.id;
    expect((await t.gql(edu, ACCEPT, { id })).errors).toBeUndefined();
    const r = await post(t, edu, { query: `mutation($id: ID!) { completeReferral(id: $id, outcome: "已资助") { id status minor { id currentAddress } } }`, variables: { id } }, { 'x-purpose': `REFERRAL; ${id}` });
    noLeak(r.json);
    expect((await t.sql(`SELECT status FROM workflow.referral WHERE id = $1`, [id]))[0].status).toBe('COMPLETED');
    expect(r.json.errors?.map((x: any) => [x.extensions.code, x.extensions.field, x.path?.join('.')]) ?? []).toEqual([]);
    expect(r.json.data.completeReferral.minor).toEqual({ id: m.id, currentAddress: m.current_address });
  });
});
