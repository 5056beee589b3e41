import { Department, Role } from '../src/auth/principal';
import { buildPolicy } from '../src/server/bootstrap';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { eventOf, post } from './support/audit-helpers';
import { pagedIds } from './support/workflow-pages';
import { errorCodes, startDistributedTestHub, startTestHub, statementsDuring, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU } = Department;
const STREET = '330102001';
const OTHER_STREET = '330102002';

const FILE = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id status receivedAt } }`;
const STEP = `mutation($id: ID!, $to: ReportStatus!, $note: String!) { transitionReport(id: $id, to: $to, note: $note) { id status transitions { fromStatus toStatus } } }`;
const CREATE = `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id status regionCode } }`;

/**
 * Workflow resolvers, red team 17: a code review of the report, referral, notification and visit
 * resolvers, each suspicion confirmed or refuted through the public endpoint.
 */
describe.each(['in process', 'distributed'] as const)('workflow resolvers: red team 17 (%s)', (mode) => {
  // Tests that run the escalation job, count statements or move the gateway's clock in this process.
  const inProcessOnly = (name: string, fn: () => Promise<void>) => mode === 'in process' && it(name, fn);
  let t: TestHub;
  let child: { id: string; grid_code: string; id_number: string };
  let elsewhere: { id: string; grid_code: string; id_number: string };
  let streetCivil: string;
  let streetPolice: string;
  let otherPolice: string;
  let districtCivil: string;
  let districtPolice: string;
  let streetEdu: string;
  let streetJustice: string;
  let reporter: string;

  beforeAll(async () => {
    t = mode === 'in process' ? await startTestHub() : await startDistributedTestHub();
    [child] = await t.sql(`SELECT id, grid_code, trim(id_number) AS id_number FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 11 LIMIT 1`);
    [elsewhere] = await t.sql(`SELECT id, grid_code, trim(id_number) AS id_number FROM registry.minor WHERE grid_code LIKE '${OTHER_STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 11 LIMIT 1`);
    streetCivil = await t.token(CA, { region: STREET, user: 'rt17-civil' });
    streetPolice = await t.token(PO, { region: STREET, user: 'rt17-police' });
    otherPolice = await t.token(PO, { region: OTHER_STREET, user: 'rt17-other-police' });
    districtCivil = await t.token(CA, { user: 'rt17-district-civil' });
    districtPolice = await t.token(PO, { user: 'rt17-district-police' });
    streetEdu = await t.token(ED, { region: STREET, user: 'rt17-edu' });
    streetJustice = await t.token(JU, { region: STREET, user: 'rt17-justice' });
    reporter = await t.token(ED, { role: Role.REPORTER, user: 'rt17-teacher' });
  });
  afterAll(() => t?.stop());
  afterEach(() => {
    t.config.workflow.clockOffsetMs = 0;
  });

  const fileReport = async (over: Record<string, unknown> = {}): Promise<string> => {
    const r = await t.gql(
      reporter,
      FILE,
      { input: { harmType: 'NEGLECT', observation: '孩子长期独自在家', location: '某小区3栋', regionCode: STREET, urgency: 'NORMAL', ...over } },
      {},
    );
    expect(r.errors).toBeUndefined();
    return r.data.fileMandatoryReport.id;
  };
  const step = (token: string, id: string, to: string, note = '已核查') => t.gql(token, STEP, { id, to, note });
  const refer = async (token: string, to: Department, minorId: string, type = 'LEGAL_AID'): Promise<string> => {
    const r = await t.gql(token, CREATE, { input: { minorId, type, toDepartment: to, need: '需要法律援助' } });
    expect(r.errors).toBeUndefined();
    return r.data.createReferral.id;
  };

  describe('mandatory reports', () => {
    it('two steps of one report in one document: the second answer lists both steps', async () => {
      const id = await fileReport();
      const r = await t.gql(
        streetPolice,
        `mutation($id: ID!) {
          a: transitionReport(id: $id, to: VERIFYING, note: "开始核查") { status transitions { fromStatus toStatus } }
          b: transitionReport(id: $id, to: HANDLED, note: "已处置") { status transitions { fromStatus toStatus } }
        }`,
        { id },
      );
      expect(r.errors).toBeUndefined();
      expect(r.data.a.transitions).toEqual([{ fromStatus: 'RECEIVED', toStatus: 'VERIFYING' }]);
      expect(r.data.b).toEqual({
        status: 'HANDLED',
        transitions: [
          { fromStatus: 'RECEIVED', toStatus: 'VERIFYING' },
          { fromStatus: 'VERIFYING', toStatus: 'HANDLED' },
        ],
      });
    });

    it('the state machine: every step refused as documented, nothing written by a refusal', async () => {
      const id = await fileReport();
      const codes = async (token: string, to: string) => errorCodes(await step(token, id, to));
      // RECEIVED
      expect(await codes(streetPolice, 'HANDLED')).toEqual(['BAD_USER_INPUT']);
      expect(await codes(streetPolice, 'CLOSED')).toEqual(['BAD_USER_INPUT']);
      expect(await codes(streetPolice, 'UNFOUNDED')).toEqual(['BAD_USER_INPUT']);
      expect(await codes(streetPolice, 'RECEIVED')).toEqual(['BAD_USER_INPUT']);
      expect(await codes(otherPolice, 'VERIFYING')).toEqual(['NOT_FOUND']);
      expect(await codes(streetEdu, 'VERIFYING')).toEqual(['FORBIDDEN']);
      expect(await codes(streetCivil, 'VERIFYING')).toEqual([]);
      // VERIFYING
      expect(await codes(streetCivil, 'UNFOUNDED')).toEqual(['FORBIDDEN']);
      expect(await codes(streetCivil, 'CLOSED')).toEqual(['BAD_USER_INPUT']);
      expect(await codes(streetPolice, 'HANDLED')).toEqual([]);
      // HANDLED
      expect(await codes(streetPolice, 'CLOSED')).toEqual(['FORBIDDEN']);
      expect(await codes(streetCivil, 'VERIFYING')).toEqual(['BAD_USER_INPUT']);
      expect(await codes(districtCivil, 'CLOSED')).toEqual([]);
      // CLOSED is final
      for (const to of ['RECEIVED', 'VERIFYING', 'HANDLED', 'UNFOUNDED', 'CLOSED']) expect(await codes(districtCivil, to)).toEqual(['BAD_USER_INPUT']);
      const rows = await t.sql(`SELECT from_status, to_status FROM workflow.report_transition WHERE report_id = $1 ORDER BY at, id`, [id]);
      expect(rows).toHaveLength(3);
      const [rep] = await t.sql(`SELECT status FROM workflow.mandatory_report WHERE id = $1`, [id]);
      expect(rep.status).toBe('CLOSED');
    });

    it('a blank or over-long note is refused on note, before anything is written', async () => {
      const id = await fileReport();
      for (const note of ['', '   ', '\u200b', 'x'.repeat(2001)]) {
        const r = await step(streetPolice, id, 'VERIFYING', note);
        expect([errorCodes(r), r.errors?.[0].extensions?.field]).toEqual([['BAD_USER_INPUT'], 'note']);
      }
      expect(await t.sql(`SELECT 1 FROM workflow.report_transition WHERE report_id = $1`, [id])).toHaveLength(0);
    });
  });

  describe('who may call', () => {
    it.each([Role.REPORTER, Role.AUDITOR, Role.DASHBOARD, Role.EMPLOYER])('a %s token is refused the inbox, referrals, steps and the visit list', async (role) => {
      const token = await t.token(CA, { role, user: `rt17-${role.toLowerCase()}` });
      const id = await fileReport();
      const calls: [string, Record<string, unknown>][] = [
        [`{ notifications { id } }`, {}],
        [`{ referrals { id } }`, {}],
        [`{ overdueVisits { minor { id } } }`, {}],
        [`{ mandatoryReports { id } }`, {}],
        [STEP, { id, to: 'VERIFYING', note: 'x' }],
        [CREATE, { input: { minorId: child.id, type: 'LEGAL_AID', toDepartment: 'POLICE', need: 'x' } }],
        [`mutation($id: ID!) { acknowledge(id: $id) { id } }`, { id }],
        [`{ webhooks { id } }`, {}],
        [`mutation { registerWebhook(url: "http://127.0.0.1:9/rt17") { secret } }`, {}],
        [`mutation($id: ID!) { deactivateWebhook(id: $id) { id } }`, { id }],
        [`query($id: ID!) { referral(id: $id) { id } }`, { id }],
        [`query($id: ID!) { mandatoryReport(id: $id) { id } }`, { id }],
        [`{ overdueReports { id } }`, {}],
        ...(role === Role.REPORTER ? [] : ([[`{ myReports { id } }`, {}]] as [string, Record<string, unknown>][])),
      ];
      for (const [q, v] of calls) {
        const r = await t.gql(token, q, v);
        expect([q, r.data ? Object.values(r.data)[0] ?? null : null, errorCodes(r)]).toEqual([q, null, ['FORBIDDEN']]);
      }
      expect(await t.sql(`SELECT 1 FROM workflow.report_transition WHERE report_id = $1`, [id])).toHaveLength(0);
    });
  });

  describe('filing', () => {
    it('odd times of observation are refused as input, never an internal error', async () => {
      for (const observedAt of ['2026-13-45T00:00:00Z', 'yesterday', '-000001-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '1899-12-31T23:59:59Z', 1e20, -1, '']) {
        const r = await t.gql(reporter, FILE, { input: { harmType: 'NEGLECT', observation: 'x', location: 'y', regionCode: STREET, urgency: 'NORMAL', observedAt } }, {});
        const codes = errorCodes(r);
        expect([observedAt, codes.length, codes.filter((c) => c !== 'BAD_USER_INPUT' && c !== 'GRAPHQL_VALIDATION_FAILED')]).toEqual([observedAt, 1, []]);
        expect(JSON.stringify(r.errors)).not.toMatch(/stack|SELECT|INSERT|postgres/i);
      }
    });

    it('an id and a number naming different children link none; the same child by both links it', async () => {
      const mismatch = await fileReport({ childId: child.id, childIdNumber: elsewhere.id_number });
      const both = await fileReport({ childId: child.id.toUpperCase(), childIdNumber: child.id_number.toLowerCase() });
      const rows = await t.sql(`SELECT id, minor_id FROM workflow.mandatory_report WHERE id = ANY($1)`, [[mismatch, both]]);
      const byId = Object.fromEntries(rows.map((r: any) => [r.id, r.minor_id]));
      expect(byId).toEqual({ [mismatch]: null, [both]: child.id });
    });

    it('a region code that is not the hub’s, or malformed, is refused on regionCode and writes nothing', async () => {
      const before = (await t.sql(`SELECT count(*)::int AS n FROM workflow.mandatory_report`))[0].n;
      for (const regionCode of ['330102999', '33010', '33010200１', '330102001 ', 'abc']) {
        const r = await t.gql(reporter, FILE, { input: { harmType: 'NEGLECT', observation: 'x', location: 'y', regionCode, urgency: 'NORMAL' } }, {});
        expect([regionCode, errorCodes(r), r.errors?.[0].extensions?.field]).toEqual([regionCode, ['BAD_USER_INPUT'], 'regionCode']);
      }
      expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.mandatory_report`))[0].n).toBe(before);
    });
  });

  describe('referrals', () => {
    const ACCEPT = `mutation($id: ID!) { acceptReferral(id: $id, note: "接收") { id status minor { id } } }`;
    const DECLINE = `mutation($id: ID!) { declineReferral(id: $id, reason: "无法处理") { id status } }`;
    const COMPLETE = `mutation($id: ID!) { completeReferral(id: $id, outcome: "已完成") { id status } }`;

    it('two referrals of one child in one document: the second answer lists both among the child’s referrals', async () => {
      const [kid] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 31 LIMIT 1`);
      const r = await t.gql(
        streetPolice,
        `mutation($m: ID!) {
          a: createReferral(input: { minorId: $m, type: LEGAL_AID, toDepartment: "JUSTICE", need: "一" }) { id minor { id referrals(first: 10) { id } mandatoryReports { id } } }
          b: createReferral(input: { minorId: $m, type: MEDICAL_AID, toDepartment: "CIVIL_AFFAIRS", need: "二" }) { id minor { id referrals(first: 10) { id } } }
        }`,
        { m: kid.id },
      );
      expect(r.errors).toBeUndefined();
      expect(r.data.b.minor.referrals.map((x: any) => x.id).sort()).toEqual([r.data.a.id, r.data.b.id].sort());
    });

    it('only the receiver answers, from the one status each answer is taken in', async () => {
      const id = await refer(streetPolice, JU, child.id);
      const codes = async (token: string, q: string) => errorCodes(await t.gql(token, q, { id }));
      expect(await codes(streetEdu, ACCEPT)).toEqual(['NOT_FOUND']);
      expect(await codes(streetCivil, ACCEPT)).toEqual(['FORBIDDEN']);
      expect(await codes(streetPolice, ACCEPT)).toEqual(['FORBIDDEN']);
      expect(await codes(streetJustice, COMPLETE)).toEqual(['BAD_USER_INPUT']);
      expect(await codes(streetJustice, ACCEPT)).toEqual([]);
      expect(await codes(streetJustice, ACCEPT)).toEqual(['BAD_USER_INPUT']);
      expect(await codes(streetJustice, DECLINE)).toEqual(['BAD_USER_INPUT']);
      expect(await codes(streetJustice, COMPLETE)).toEqual([]);
      for (const q of [ACCEPT, DECLINE, COMPLETE]) expect(await codes(streetJustice, q)).toEqual(['BAD_USER_INPUT']);
      const outcomes = await t.sql(`SELECT dedupe_key FROM workflow.notification WHERE kind = 'REFERRAL_OUTCOME' AND subject_id = $1 ORDER BY created_at`, [id]);
      expect(outcomes).toHaveLength(2);
    });

    it('a referral cannot be made to oneself, to no department, about a child elsewhere or unknown', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ toDepartment: 'POLICE' }, 'BAD_USER_INPUT'],
        [{ toDepartment: 'police' }, 'BAD_USER_INPUT'],
        [{ toDepartment: 'AUDITOR' }, 'BAD_USER_INPUT'],
        [{ toDepartment: '' }, 'BAD_USER_INPUT'],
        [{ minorId: elsewhere.id }, 'NOT_FOUND'],
        [{ minorId: '00000000-0000-0000-0000-000000000000' }, 'NOT_FOUND'],
        [{ minorId: 'nope' }, 'NOT_FOUND'],
        [{ need: ' ' }, 'BAD_USER_INPUT'],
      ];
      for (const [over, code] of cases) {
        const r = await t.gql(streetPolice, CREATE, { input: { minorId: child.id, type: 'LEGAL_AID', toDepartment: 'JUSTICE', need: '需要', ...over } });
        expect([over, errorCodes(r)]).toEqual([over, [code]]);
      }
    });

    it('after its child moved away the referral, its answer and its outcome name no child and carry none of the child’s record', async () => {
      const [mover] = await t.sql(`SELECT id, name FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 21 LIMIT 1`);
      const id = await refer(streetCivil, PO, mover.id, 'PLACEMENT');
      const [away] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '${OTHER_STREET}%' ORDER BY code LIMIT 1`);
      await t.sql(`UPDATE registry.minor SET grid_code = $2 WHERE id = $1`, [mover.id, away.code]);
      const r = await post(t, streetPolice, { query: ACCEPT, variables: { id } });
      expect(r.json.errors).toBeUndefined();
      expect(r.json.data.acceptReferral).toMatchObject({ status: 'ACCEPTED', minor: null });
      expect(JSON.stringify(await eventOf(t, r.requestId))).not.toContain(mover.id);
      const inbox = await t.gql(streetCivil, `{ notifications(first: 20) { subjectId kind minor { id } payload { field value } } }`);
      const outcome = inbox.data.notifications.find((n: any) => n.subjectId === id && n.kind === 'REFERRAL_OUTCOME');
      expect(outcome.minor).toBeNull();
      expect(JSON.stringify(outcome.payload)).not.toContain(mover.name);
      const received = (await t.gql(streetPolice, `{ notifications(first: 20) { subjectId kind minor { id } payload { field value } } }`)).data.notifications.find(
        (n: any) => n.subjectId === id && n.kind === 'REFERRAL_RECEIVED',
      );
      // Told while the child lived there, read now it does not: the child's record is gone from it.
      expect(received.minor).toBeNull();
      expect(received.payload.map((f: any) => f.field).filter((f: string) => !f.startsWith('Referral.'))).toEqual([]);
      const seen = await t.gql(streetPolice, `query($id: ID!) { referral(id: $id) { id minor { id } grantedFields } }`, { id });
      expect(seen.data.referral.minor).toBeNull();
    });
  });

  describe('visit list', () => {
    it('a region outside the caller’s, or no region code, is refused on regionCode', async () => {
      const streetCa = streetCivil;
      for (const regionCode of [OTHER_STREET, '330102', '33010200', '3301020011111111', 'x', '']) {
        const r = await t.gql(streetCa, `query($r: ID) { overdueVisits(regionCode: $r) { minor { id } } }`, { r: regionCode });
        expect([regionCode, errorCodes(r), r.errors?.[0].extensions?.field]).toEqual([regionCode, ['BAD_USER_INPUT'], 'regionCode']);
      }
      const ok = await t.gql(streetCa, `query($r: ID) { overdueVisits(regionCode: $r, first: 500) { minor { id } gridCode } }`, { r: STREET });
      expect(ok.errors).toBeUndefined();
      for (const v of ok.data.overdueVisits) expect(v.gridCode.startsWith(STREET)).toBe(true);
      expect(errorCodes(await t.gql(streetEdu, `{ overdueVisits { minor { id } } }`))).toEqual(['FORBIDDEN']);
    });
  });

  describe('clocks', () => {
    // Only the gateway's clock moves here: a remote subgraph refuses it (README, HUB_CLOCK_OFFSET_MS).
    inProcessOnly('a step, an answer and an acknowledgement on a clock behind are never recorded before what they follow', async () => {
      const id = await fileReport();
      t.config.workflow.clockOffsetMs = -3_600_000;
      const s1 = await step(streetPolice, id, 'VERIFYING');
      expect(s1.errors).toBeUndefined();
      const [rep] = await t.sql(`SELECT received_at, updated_at FROM workflow.mandatory_report WHERE id = $1`, [id]);
      const [tr] = await t.sql(`SELECT at FROM workflow.report_transition WHERE report_id = $1`, [id]);
      expect(new Date(tr.at).getTime()).toBeGreaterThanOrEqual(new Date(rep.received_at).getTime());
      t.config.workflow.clockOffsetMs = 0;
      const ref = await refer(streetPolice, JU, child.id);
      t.config.workflow.clockOffsetMs = -3_600_000;
      expect((await t.gql(streetJustice, `mutation($id: ID!) { acceptReferral(id: $id) { id } }`, { id: ref })).errors).toBeUndefined();
      t.config.workflow.clockOffsetMs = -7_200_000;
      expect((await t.gql(streetJustice, `mutation($id: ID!) { completeReferral(id: $id, outcome: "好") { id } }`, { id: ref })).errors).toBeUndefined();
      const [r] = await t.sql(`SELECT created_at, answered_at, completed_at, closed_at, complete_due_at FROM workflow.referral WHERE id = $1`, [ref]);
      expect(r.answered_at.getTime()).toBeGreaterThanOrEqual(r.created_at.getTime());
      expect(r.completed_at.getTime()).toBeGreaterThanOrEqual(r.answered_at.getTime());
      expect(r.closed_at.getTime()).toBe(r.completed_at.getTime());
      const [n] = await t.sql(`SELECT id, created_at FROM workflow.notification WHERE subject_id = $1 AND kind = 'REFERRAL_RECEIVED'`, [ref]);
      expect((await t.gql(streetJustice, `mutation($id: ID!) { acknowledge(id: $id) { id acknowledgedAt } }`, { id: n.id })).errors).toBeUndefined();
      const [n2] = await t.sql(`SELECT acknowledged_at FROM workflow.notification WHERE id = $1`, [n.id]);
      expect(n2.acknowledged_at.getTime()).toBeGreaterThanOrEqual(n.created_at.getTime());
    });

    it('an empty enum filter is refused naming it, not read as no filter', async () => {
      for (const [q, field] of [
        [`{ referrals(status: []) { id } }`, 'status'],
        [`{ mandatoryReports(status: []) { id } }`, 'status'],
        [`{ overdueVisits(riskLevels: []) { minor { id } } }`, 'riskLevels'],
      ]) {
        const r = await t.gql(streetPolice, q);
        expect([q, errorCodes(r), r.errors?.[0].extensions?.field]).toEqual([q, ['BAD_USER_INPUT'], field]);
      }
    });
  });

  describe('a child who has turned 18', () => {
    it('cannot be referred, and old records name no one', async () => {
      const [kid] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 41 LIMIT 1`);
      const ref = await refer(streetPolice, JU, kid.id);
      const rep = await fileReport({ childId: kid.id });
      // Eighteen today in China.
      await t.sql(`UPDATE registry.minor SET birth_date = ((now() AT TIME ZONE 'Asia/Shanghai')::date - INTERVAL '18 years')::date WHERE id = $1`, [kid.id]);
      const again = await t.gql(streetPolice, CREATE, { input: { minorId: kid.id, type: 'LEGAL_AID', toDepartment: 'JUSTICE', need: '再' } });
      expect(errorCodes(again)).toEqual(['NOT_FOUND']);
      const seen = await t.gql(streetPolice, `query($r: ID!, $m: ID!) { referral(id: $r) { minor { id } } mandatoryReport(id: $m) { minor { id } childIdNumber } }`, { r: ref, m: rep });
      expect(seen.errors).toBeUndefined();
      expect(seen.data.referral.minor).toBeNull();
      expect(seen.data.mandatoryReport.minor).toBeNull();
      const v = await t.gql(streetCivil, `{ overdueVisits(first: 500) { minor { id } } }`);
      expect(v.data.overdueVisits.map((x: any) => x.minor.id)).not.toContain(kid.id);
    });
  });

  describe('odd input never reaches the client as an internal error', () => {
    const big = '字'.repeat(100_001);
    const weird = ['', ' ', '\u0000', '\ud800', 'a\u202eb', big, '00000000-0000-0000-0000-000000000000', '{00000000-0000-0000-0000-000000000000}', 'ÀÉ', '1e400', '%', '_', "'; --"];
    const calls: [string, string, (v: string) => Record<string, unknown>][] = [
      ['step id', STEP, (v) => ({ id: v, to: 'VERIFYING', note: 'x' })],
      ['step note', STEP, (v) => ({ id: '00000000-0000-4000-8000-000000000000', to: 'VERIFYING', note: v })],
      ['accept', `mutation($v: ID!) { acceptReferral(id: $v) { id } }`, (v) => ({ v })],
      ['accept note', `mutation($v: String) { acceptReferral(id: "00000000-0000-4000-8000-000000000000", note: $v) { id } }`, (v) => ({ v })],
      ['decline', `mutation($v: String!) { declineReferral(id: "00000000-0000-4000-8000-000000000000", reason: $v) { id } }`, (v) => ({ v })],
      ['ack', `mutation($v: ID!) { acknowledge(id: $v) { id } }`, (v) => ({ v })],
      ['referral', `query($v: ID!) { referral(id: $v) { id } }`, (v) => ({ v })],
      ['report', `query($v: ID!) { mandatoryReport(id: $v) { id } }`, (v) => ({ v })],
      ['refs after', `query($v: ID) { referrals(after: $v) { id } }`, (v) => ({ v })],
      ['notes after', `query($v: ID) { notifications(after: $v) { id } }`, (v) => ({ v })],
      ['overdue after', `query($v: ID) { overdueReports(after: $v) { id } }`, (v) => ({ v })],
      ['visits after', `query($v: ID) { overdueVisits(after: $v) { minor { id } } }`, (v) => ({ v })],
      ['visits region', `query($v: ID) { overdueVisits(regionCode: $v) { minor { id } } }`, (v) => ({ v })],
      ['deactivate', `mutation($v: ID!) { deactivateWebhook(id: $v) { id } }`, (v) => ({ v })],
      ['webhook url', `mutation($v: String!) { registerWebhook(url: $v) { secret } }`, (v) => ({ v: v === big ? `http://127.0.0.1/${big}` : v })],
      ['create minorId', CREATE, (v) => ({ input: { minorId: v, type: 'LEGAL_AID', toDepartment: 'JUSTICE', need: 'x' } })],
      ['create to', CREATE, (v) => ({ input: { minorId: child.id, type: 'LEGAL_AID', toDepartment: v, need: 'x' } })],
      ['create need', CREATE, (v) => ({ input: { minorId: child.id, type: 'LEGAL_AID', toDepartment: 'JUSTICE', need: v } })],
      ['file region', FILE, (v) => ({ input: { harmType: 'NEGLECT', observation: 'x', location: 'y', regionCode: v, urgency: 'NORMAL' } })],
      ['file childId', FILE, (v) => ({ input: { harmType: 'NEGLECT', observation: 'x', location: 'y', regionCode: STREET, urgency: 'NORMAL', childId: v } })],
      ['file idNumber', FILE, (v) => ({ input: { harmType: 'NEGLECT', observation: 'x', location: 'y', regionCode: STREET, urgency: 'NORMAL', childIdNumber: v } })],
      ['file unit', FILE, (v) => ({ input: { harmType: 'NEGLECT', observation: 'x', location: 'y', regionCode: STREET, urgency: 'NORMAL', reporterUnit: v } })],
      ['file desc', FILE, (v) => ({ input: { harmType: 'NEGLECT', observation: 'x', location: 'y', regionCode: STREET, urgency: 'NORMAL', childDescription: v } })],
    ];
    it.each(calls)('%s', async (_name, q, vars) => {
      for (const v of weird) {
        const r = await t.gql(streetPolice, q, vars(v));
        const codes = errorCodes(r);
        expect([_name, v.slice(0, 40), codes.filter((c) => !['BAD_USER_INPUT', 'NOT_FOUND', 'GRAPHQL_VALIDATION_FAILED', 'LIMIT_EXCEEDED', 'COST_LIMIT_EXCEEDED', 'PAYLOAD_TOO_LARGE'].includes(c))]).toEqual([_name, v.slice(0, 40), []]);
        expect((r.errors ?? []).map((e) => e.message).join(" ")).not.toMatch(/\n\s+at |QueryFailed|syntax error|relation "|invalid input syntax|violates/);
      }
    });
  });

  describe('after the child moved out of the reader’s jurisdiction', () => {
    it('a report, its steps and its notification name no child and their reads and changes are of no child', async () => {
      const [mover] = await t.sql(`SELECT id, name, trim(id_number) AS id_number FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 61 LIMIT 1`);
      const rep = await fileReport({ childIdNumber: mover.id_number });
      const before = await t.gql(streetPolice, `query($id: ID!) { mandatoryReport(id: $id) { minor { id } } }`, { id: rep });
      expect(before.data.mandatoryReport.minor).toEqual({ id: mover.id });
      const [away] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '${OTHER_STREET}%' ORDER BY code LIMIT 1`);
      await t.sql(`UPDATE registry.minor SET grid_code = $2 WHERE id = $1`, [mover.id, away.code]);
      const stepped = await post(t, streetPolice, { query: STEP, variables: { id: rep, to: 'VERIFYING', note: '核查' } });
      expect(stepped.json.errors).toBeUndefined();
      expect(JSON.stringify(await eventOf(t, stepped.requestId))).not.toContain(mover.id);
      const read = await post(t, streetPolice, {
        query: `query($id: ID!) { mandatoryReport(id: $id) { id minor { id } transitions { fromStatus note } } overdueReports { id } mandatoryReports(status: [VERIFYING], first: 500) { id minor { id } } notifications(first: 100) { id subjectId minor { id } payload { field value } } }`,
        variables: { id: rep },
      });
      expect(read.json.errors).toBeUndefined();
      expect(read.json.data.mandatoryReport.minor).toBeNull();
      const note = read.json.data.notifications.find((n: any) => n.subjectId === rep);
      expect(note.minor).toBeNull();
      expect(JSON.stringify(note.payload)).not.toContain(mover.name);
      const ack = await post(t, streetPolice, { query: `mutation($id: ID!) { acknowledge(id: $id) { id minor { id } payload { field value } } }`, variables: { id: note.id } });
      expect(ack.json.errors).toBeUndefined();
      for (const r of [read, ack]) expect(JSON.stringify(await eventOf(t, r.requestId))).not.toContain(mover.id);
      // The district still reads it as the child's.
      const d = await t.gql(districtPolice, `query($id: ID!) { mandatoryReport(id: $id) { minor { id } } }`, { id: rep });
      expect(d.data.mandatoryReport.minor).toEqual({ id: mover.id });
    });
  });

  describe('the filer learns nothing of the registry from the cost', () => {
    inProcessOnly('filing by id, reading, stepping and acknowledging a report about a child elsewhere cost what one about no one costs', async () => {
      const policeFiler = streetPolice;
      const file = async (over: Record<string, unknown>) => {
        const r = await t.gql(policeFiler, FILE, { input: { harmType: 'NEGLECT', observation: '孩子', location: '某处', regionCode: STREET, urgency: 'NORMAL', ...over } }, {});
        expect(r.errors).toBeUndefined();
        return r.data.fileMandatoryReport.id as string;
      };
      const shapes = async (over: Record<string, unknown>) => {
        const out: string[][] = [];
        const norm = (qs: { query: string }[]) => qs.map((q) => q.query.replace(/\s+/g, ' ').replace(/'[^']*'/g, "''"));
        let id = '';
        out.push(norm(await statementsDuring(t, async () => { id = await file(over); })));
        out.push(norm(await statementsDuring(t, async () => {
          expect((await t.gql(policeFiler, `query($id: ID!) { mandatoryReport(id: $id) { id minor { id } overdue transitions { id } } }`, { id })).errors).toBeUndefined();
        })));
        out.push(norm(await statementsDuring(t, async () => { expect((await step(policeFiler, id, 'VERIFYING')).errors).toBeUndefined(); })));
        out.push(norm(await statementsDuring(t, async () => { expect((await step(policeFiler, id, 'HANDLED')).errors).toBeUndefined(); })));
        const [n] = await t.sql(`SELECT id FROM workflow.notification WHERE subject_id = $1 AND department = 'POLICE'`, [id]);
        out.push(norm(await statementsDuring(t, async () => {
          expect((await t.gql(policeFiler, `mutation($id: ID!) { acknowledge(id: $id) { id minor { id } payload { field value } } }`, { id: n.id })).errors).toBeUndefined();
        })));
        return out;
      };
      // Warm both paths once (prepared statements, caches), then compare.
      await shapes({ childId: elsewhere.id });
      await shapes({ childId: '9f1c6a52-7d1e-4c3e-9a51-0b7f7f0e2a11' });
      const linked = await shapes({ childId: elsewhere.id });
      const unknown = await shapes({ childId: '9f1c6a52-7d1e-4c3e-9a51-0b7f7f0e2a11' });
      expect(linked.map((x) => x.length)).toEqual(unknown.map((x) => x.length));
      expect(linked).toEqual(unknown);
    });
  });

  describe('a child’s own history', () => {
    it('lists only the referrals the caller’s department is party to (civil affairs all), addressed inside its jurisdiction', async () => {
      const [kid] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 51 LIMIT 1`);
      const poToJu = await refer(streetPolice, JU, kid.id);
      const caToEd = await refer(streetCivil, ED, kid.id, 'EDUCATION_AID');
      const rep = await fileReport({ childId: kid.id });
      const q = `query($m: ID!) { minor(id: $m) { id referrals(first: 100) { id } } }`;
      const ids = async (token: string) => ((await t.gql(token, q, { m: kid.id })).data.minor?.referrals ?? []).map((r: any) => r.id).sort();
      expect(await ids(streetEdu)).toEqual([caToEd]);
      expect(await ids(streetJustice)).toEqual([poToJu]);
      expect(await ids(streetCivil)).toEqual([poToJu, caToEd].sort());
      // Moved to the next street: its civil affairs reaches the child, not what was addressed to the old street.
      const [away] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '${OTHER_STREET}%' ORDER BY code LIMIT 1`);
      await t.sql(`UPDATE registry.minor SET grid_code = $2 WHERE id = $1`, [kid.id, away.code]);
      const otherCivil = await t.token(CA, { region: OTHER_STREET, user: 'rt17-other-civil' });
      const r = await t.gql(otherCivil, `query($m: ID!) { minor(id: $m) { id referrals(first: 100) { id } mandatoryReports(first: 100) { id } } }`, { m: kid.id });
      expect(r.errors).toBeUndefined();
      expect(r.data.minor).toEqual({ id: kid.id, referrals: [], mandatoryReports: [] });
      // And a cursor of the old street's referral is refused to it like an unknown id.
      const c = await t.gql(otherCivil, `query($m: ID!, $a: ID) { minor(id: $m) { referrals(first: 1, after: $a) { id } } }`, { m: kid.id, a: poToJu });
      expect(errorCodes(c)).toEqual(['BAD_USER_INPUT']);
      const d = await t.gql(districtCivil, `query($m: ID!) { minor(id: $m) { referrals(first: 100) { id } mandatoryReports(first: 100) { id } } }`, { m: kid.id });
      expect(d.data.minor.referrals.map((x: any) => x.id).sort()).toEqual([poToJu, caToEd].sort());
      expect(d.data.minor.mandatoryReports.map((x: any) => x.id)).toEqual([rep]);
    });
  });

  describe('a child’s history page sizes', () => {
    it('referrals and mandatoryReports of a child answer first 1 and 100, refuse 0 and 101 on first', async () => {
      for (const list of ['referrals', 'mandatoryReports']) {
        const q = `query($m: ID!, $f: Int) { minor(id: $m) { id ${list}(first: $f) { id } } }`;
        for (const f of [1, 100]) expect([list, f, errorCodes(await t.gql(streetCivil, q, { m: child.id, f }))]).toEqual([list, f, []]);
        for (const f of [0, 101]) {
          const r = await t.gql(streetCivil, q, { m: child.id, f });
          expect([list, f, errorCodes(r), r.errors?.[0].extensions?.field]).toEqual([list, f, ['BAD_USER_INPUT'], 'first']);
        }
      }
    });
  });

  describe('pages through ties and past 500', () => {
    inProcessOnly('an inbox of many notifications told at one instant pages to its end, each once, in order', async () => {
      // One escalation run at a fixed instant: every notification it writes has the same created_at.
      const summary = await runEscalations(t.hub.db.ds, t.config, buildPolicy(), new Date(Date.now() + 1000));
      expect(summary.failed).toBe(0);
      const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE department = 'CIVIL_AFFAIRS' AND region_code LIKE '${STREET}%'`);
      const [{ ties }] = await t.sql(`SELECT max(c)::int AS ties FROM (SELECT count(*) AS c FROM workflow.notification WHERE department = 'CIVIL_AFFAIRS' AND region_code LIKE '${STREET}%' GROUP BY created_at) x`);
      expect(ties).toBeGreaterThan(5);
      const l = { t, token: streetCivil, query: `query($first: Int!, $after: ID) { notifications(first: $first, after: $after) { id } }`, list: 'notifications', idOf: (x: any) => x.id };
      const all = await pagedIds(l, 500);
      expect(all.length).toBe(n);
      expect(new Set(all).size).toBe(n);
      expect(await pagedIds(l, 7)).toEqual(all);
    });

    it('the district’s overdue children, more than 500, page on to their end', async () => {
      const l = { t, token: districtCivil, query: `query($first: Int!, $after: ID) { overdueVisits(first: $first, after: $after) { minor { id } } }`, list: 'overdueVisits', idOf: (x: any) => x.minor.id };
      const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM registry.minor WHERE registry.is_minor(birth_date, now()) AND next_visit_due < now() AND risk_level IS NOT NULL`);
      const all = await pagedIds(l, 500);
      expect(all.length).toBe(n);
      expect(new Set(all).size).toBe(n);
      const byLevel = await pagedIds({ ...l, variables: { } }, 97);
      expect(byLevel).toEqual(all);
    });
  });

  describe('webhooks', () => {
    it('one destination however spelt is registered once per department and region; the eleventh is LIMIT_EXCEEDED', async () => {
      const token = await t.token(JU, { region: STREET, user: `rt17-hooks-${mode.replace(' ', '-')}` });
      const reg = (url: string) => t.gql(token, `mutation($u: String!) { registerWebhook(url: $u) { webhook { id url } } }`, { u: url });
      const first = await reg('http://127.0.0.1:8081/hub/in');
      expect(first.errors).toBeUndefined();
      for (const same of ['HTTP://127.0.0.1:8081/hub/in/', 'http://127.1:8081//hub/in', 'http://2130706433:8081/hub/%69n', 'http://0x7f.0.0.1:8081/hub/in?', 'http://127.0.0.1.:8081/hub/./in']) {
        const r = await reg(same);
        expect([same, errorCodes(r), r.errors?.[0].extensions?.field]).toEqual([same, ['BAD_USER_INPUT'], 'url']);
      }
      for (let i = 2; i <= 10; i++) expect((await reg(`http://127.0.0.1:8081/hub/in${i}`)).errors).toBeUndefined();
      const over = await reg('http://127.0.0.1:8081/hub/in11');
      expect(errorCodes(over)).toEqual(['LIMIT_EXCEEDED']);
      const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM workflow.webhook WHERE department = 'JUSTICE' AND region_code = $1 AND active`, [STREET]);
      expect(n).toBe(10);
      // A deactivation frees its place; deactivating again changes nothing.
      const d1 = await t.gql(token, `mutation($id: ID!) { deactivateWebhook(id: $id) { id active } }`, { id: first.data.registerWebhook.webhook.id.toUpperCase() });
      expect(d1.data.deactivateWebhook).toEqual({ id: first.data.registerWebhook.webhook.id, active: false });
      expect((await reg('http://127.0.0.1:8081/hub/in')).errors).toBeUndefined();
      // Another street's justice neither lists nor deactivates them.
      const other = await t.token(JU, { region: OTHER_STREET, user: 'rt17-hooks-other' });
      expect((await t.gql(other, `{ webhooks(first: 500) { id } }`)).data.webhooks).toEqual([]);
      expect(errorCodes(await t.gql(other, `mutation($id: ID!) { deactivateWebhook(id: $id) { id } }`, { id: first.data.registerWebhook.webhook.id }))).toEqual(['NOT_FOUND']);
    });
  });

  describe('list pages', () => {
    const lists: [string, string, string][] = [
      ['notifications', `query($f: Int) { notifications(first: $f) { id } }`, 'streetPolice'],
      ['referrals', `query($f: Int) { referrals(first: $f) { id } }`, 'streetPolice'],
      ['mandatoryReports', `query($f: Int) { mandatoryReports(first: $f) { id } }`, 'streetPolice'],
      ['overdueReports', `query($f: Int) { overdueReports(first: $f) { id } }`, 'streetPolice'],
      ['overdueVisits', `query($f: Int) { overdueVisits(first: $f) { minor { id } } }`, 'streetPolice'],
      ['webhooks', `query($f: Int) { webhooks(first: $f) { id } }`, 'streetPolice'],
      ['myReports', `query($f: Int) { myReports(first: $f) { id } }`, 'reporter'],
    ];
    it.each(lists)('%s: first 1 and 500 answered, 0, -1, 501 refused on first', async (_name, q, who) => {
      const token = who === 'reporter' ? reporter : streetPolice;
      for (const f of [1, 500]) expect(errorCodes(await t.gql(token, q, { f }))).toEqual([]);
      for (const f of [0, -1, 501]) {
        const r = await t.gql(token, q, { f });
        expect([errorCodes(r), r.errors?.[0].extensions?.field]).toEqual([['BAD_USER_INPUT'], 'first']);
      }
    });
  });
});
