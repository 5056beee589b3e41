import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { yearsBefore } from '../src/common/dates';
import { buildIdNumber } from '../src/common/id-number';
import { buildPolicy } from '../src/server/bootstrap';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { eventOf, post } from './support/audit-helpers';
import { DEFAULT_PURPOSE, startTestHub, TestHub } from './support/test-hub';
import { expectAnsweredAsUnknown } from './support/unknown-id';

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU, WOMENS_FEDERATION: WF, YOUTH_LEAGUE: YL } = Department;
const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const STREET = '330102001';
const NEXT_STREET = '330102002';

const FILE = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`;
const STEP = `mutation($id: ID!, $to: ReportStatus!, $note: String!) { transitionReport(id: $id, to: $to, note: $note) { id status updatedAt transitions { fromStatus toStatus department officerId at } } }`;
const CREATE = `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`;
const ACCEPT = `mutation($id: ID!) { acceptReferral(id: $id, note: "受理") { id status answeredAt completeDueAt closedAt } }`;
const DECLINE = `mutation($id: ID!) { declineReferral(id: $id, reason: "不属于本部门职责") { id status answeredAt closedAt } }`;
const COMPLETE = `mutation($id: ID!) { completeReferral(id: $id, outcome: "已落实助学金") { id status completedAt closedAt } }`;
const ADD_BAR = `mutation($input: BarredPersonInput!) { addBarredPerson(input: $input) { id createdAt } }`;
const REVOKE = `mutation($id: ID!) { removeBarredPerson(id: $id, reason: "判决已撤销") }`;
const ACK = `mutation($id: ID!) { acknowledge(id: $id) { id acknowledgedAt acknowledgedBy } }`;

type Outcome = 'OK' | 'BAD_USER_INPUT' | 'FORBIDDEN' | 'NOT_FOUND';

/**
 * Every (status × step × caller) of the workflow's state machines against docs/workflows.md: the
 * documented steps succeed once, are audited as a change and recorded with the status before and
 * after; everything else is refused with its typed error, changes nothing, and is audited as a
 * refusal; a record the caller may not reach is answered like an unknown id; times never go back.
 */
describe('state machines: every status × step × caller', () => {
  let t: TestHub;
  let child: { id: string; id_number: string; grid_code: string };
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestHub();
    [child] = await t.sql(`SELECT id, trim(id_number) AS id_number, grid_code FROM registry.minor WHERE grid_code LIKE '${STREET}%' ORDER BY id LIMIT 1`);
    const mint = async (name: string, d: Department, opts: { role?: Role; region?: string; user?: string } = {}) => (tokens[name] = await t.token(d, { user: name, ...opts }));
    await mint('po-district', PO);
    await mint('ca-district', CA);
    await mint('po-street', PO, { region: STREET });
    await mint('ca-street', CA, { region: STREET });
    await mint('po-next-street', PO, { region: NEXT_STREET });
    await mint('ca-next-street', CA, { region: NEXT_STREET });
    await mint('ed-district', ED);
    await mint('ed-street', ED, { region: STREET });
    await mint('ed-next-street', ED, { region: NEXT_STREET });
    await mint('ju-district', JU);
    await mint('ju-next-street', JU, { region: NEXT_STREET });
    await mint('wf-street', WF, { region: STREET });
    await mint('yl-district', YL);
    await mint('reporter', ED, { role: Role.REPORTER });
    await mint('auditor', CA, { role: Role.AUDITOR });
    await mint('employer', ED, { role: Role.EMPLOYER });
  });
  afterAll(() => t.stop());
  afterEach(() => {
    t.config.workflow.clockOffsetMs = 0;
  });

  async function call(who: string, query: string, variables: Record<string, unknown>) {
    const r = await post(t, tokens[who], { query, variables }, DEFAULT_PURPOSE);
    const codes: string[] = (r.json?.errors ?? []).map((e: any) => e.extensions?.code);
    return { ...r, codes, data: r.json?.data };
  }

  /** A refusal: one typed error, no change in the audit event, which records the error. */
  async function expectRefused(r: Awaited<ReturnType<typeof call>>, code: Outcome, label: string) {
    expect({ label, codes: r.codes }).toEqual({ label, codes: [code] });
    expect(JSON.stringify(r.json)).not.toMatch(/stack|SELECT |INSERT |UPDATE |typeorm|QueryFailed/i);
    const e = await eventOf(t, r.requestId);
    expect({ label, changes: e.changes, errorCodes: e.errorCodes }).toEqual({ label, changes: [], errorCodes: expect.arrayContaining([code]) });
    expect({ label, outcome: e.outcome }).toEqual({ label, outcome: code === 'FORBIDDEN' ? 'DENIED' : 'INVALID' });
  }

  // ---------------------------------------------------------------- mandatory reports
  describe('mandatory reports', () => {
    const STATUSES = ['RECEIVED', 'VERIFYING', 'HANDLED', 'CLOSED', 'UNFOUNDED'] as const;
    const STEPS: Record<string, { to: string; by: Department[] }[]> = {
      RECEIVED: [{ to: 'VERIFYING', by: [PO, CA] }],
      VERIFYING: [
        { to: 'HANDLED', by: [PO, CA] },
        { to: 'UNFOUNDED', by: [PO] },
      ],
      HANDLED: [{ to: 'CLOSED', by: [CA] }],
      CLOSED: [],
      UNFOUNDED: [],
    };
    const PATH: Record<string, [string, string][]> = {
      RECEIVED: [],
      VERIFYING: [['VERIFYING', 'po-district']],
      HANDLED: [
        ['VERIFYING', 'po-district'],
        ['HANDLED', 'po-district'],
      ],
      CLOSED: [
        ['VERIFYING', 'po-district'],
        ['HANDLED', 'po-district'],
        ['CLOSED', 'ca-district'],
      ],
      UNFOUNDED: [
        ['VERIFYING', 'po-district'],
        ['UNFOUNDED', 'po-district'],
      ],
    };
    /** Callers, with what they are: a department of the report's jurisdiction, one outside it, or a subject the shield refuses. */
    const CALLERS: { who: string; dept?: Department; reaches: boolean; handler: boolean }[] = [
      { who: 'po-district', dept: PO, reaches: true, handler: true },
      { who: 'ca-district', dept: CA, reaches: true, handler: true },
      { who: 'po-street', dept: PO, reaches: true, handler: true },
      { who: 'ca-street', dept: CA, reaches: true, handler: true },
      { who: 'po-next-street', dept: PO, reaches: false, handler: true },
      { who: 'ca-next-street', dept: CA, reaches: false, handler: true },
      { who: 'ed-district', dept: ED, reaches: true, handler: false },
      { who: 'ju-district', dept: JU, reaches: true, handler: false },
      { who: 'reporter', reaches: true, handler: false },
      { who: 'auditor', reaches: true, handler: false },
    ];

    const expected = (status: string, to: string, c: (typeof CALLERS)[number]): Outcome => {
      if (!c.handler) return 'FORBIDDEN';
      if (!c.reaches) return 'NOT_FOUND';
      const step = STEPS[status].find((s) => s.to === to);
      if (!step) return 'BAD_USER_INPUT';
      return step.by.includes(c.dept!) ? 'OK' : 'FORBIDDEN';
    };

    async function reportIn(status: string): Promise<string> {
      const r = await call('reporter', FILE, {
        input: { harmType: 'NEGLECT', observation: '孩子长期独自在家', location: '小区门口', regionCode: child.grid_code, urgency: 'NORMAL', childIdNumber: child.id_number },
      });
      expect(r.json.errors).toBeUndefined();
      const id = r.data.fileMandatoryReport.id;
      for (const [to, who] of PATH[status]) {
        const s = await call(who, STEP, { id, to, note: '记录' });
        expect(s.json.errors).toBeUndefined();
      }
      return id;
    }
    const snapshot = async (id: string) => ({
      report: (await t.sql(`SELECT status, updated_at, reassessment_due FROM workflow.mandatory_report WHERE id = $1`, [id]))[0],
      steps: (await t.sql(`SELECT count(*)::int AS n FROM workflow.report_transition WHERE report_id = $1`, [id]))[0].n,
    });

    it.each(STATUSES)('from %s: every step by every caller is taken or refused as the diagram says', async (status) => {
      const fixture = await reportIn(status);
      for (const to of STATUSES) {
        for (const c of CALLERS) {
          const want = expected(status, to, c);
          const label = `${status} → ${to} by ${c.who}`;
          if (want === 'OK') {
            const id = await reportIn(status);
            const before = await snapshot(id);
            const r = await call(c.who, STEP, { id, to, note: '核查记录' });
            expect({ label, errors: r.json.errors }).toEqual({ label, errors: undefined });
            const stepped = r.data.transitionReport;
            expect(stepped.status).toBe(to);
            const last = stepped.transitions[stepped.transitions.length - 1];
            expect(last).toMatchObject({ fromStatus: status, toStatus: to, department: c.dept, officerId: c.who });
            expect(stepped.transitions).toHaveLength(before.steps + 1);
            // Never before the step it follows.
            for (let i = 1; i < stepped.transitions.length; i++) expect(Date.parse(stepped.transitions[i].at)).toBeGreaterThanOrEqual(Date.parse(stepped.transitions[i - 1].at));
            const e = await eventOf(t, r.requestId);
            expect(e.changes).toEqual([expect.objectContaining({ mutation: 'transitionReport', id })]);
            // Once: the same step again is impossible from where it now is.
            const again = await call(c.who, STEP, { id, to, note: '核查记录' });
            const after = await snapshot(id);
            await expectRefused(again, 'BAD_USER_INPUT', `${label} again`);
            expect(await snapshot(id)).toEqual(after);
          } else {
            const before = await snapshot(fixture);
            const r = await call(c.who, STEP, { id: fixture, to, note: '核查记录' });
            await expectRefused(r, want, label);
            if (want === 'BAD_USER_INPUT') expect(r.json.errors[0].extensions.field).toBe('to');
            // A refusal stating the report's status records it as read of the child (README "Audit trail");
            // one by a caller the report is unknown to, or the shield refused, records no child.
            const stated = want !== 'NOT_FOUND' && c.handler;
            expect({ label, reads: (await eventOf(t, r.requestId)).reads }).toEqual({
              label,
              reads: stated ? [{ minorId: child.id, fields: expect.objectContaining({ 'MandatoryReport.status': 'ALLOW' }) }] : [],
            });
            expect({ label, after: await snapshot(fixture) }).toEqual({ label, after: before });
          }
        }
      }
    });

    it('a report outside the caller’s jurisdiction is answered as an unknown id, in every status', async () => {
      for (const status of ['RECEIVED', 'VERIFYING'] as const) {
        const id = await reportIn(status);
        const to = status === 'RECEIVED' ? 'VERIFYING' : 'HANDLED';
        await expectAnsweredAsUnknown(t, tokens['po-next-street'], STEP, { id, to, note: '核查' }, { id: UNKNOWN, to, note: '核查' });
      }
    });

    it('a report naming another street’s child: stepped and refused by the place’s officers without naming the child', async () => {
      const [far] = await t.sql(`SELECT id, trim(id_number) AS id_number FROM registry.minor WHERE grid_code LIKE '${NEXT_STREET}%' ORDER BY id LIMIT 1`);
      const filed = await call('reporter', FILE, {
        input: { harmType: 'NEGLECT', observation: '孩子长期独自在家', location: '小区门口', regionCode: child.grid_code, urgency: 'NORMAL', childIdNumber: far.id_number },
      });
      const id = filed.data.fileMandatoryReport.id;
      expect((await t.sql(`SELECT minor_id FROM workflow.mandatory_report WHERE id = $1`, [id]))[0].minor_id).toBe(far.id);
      for (const [who, to, want] of [
        ['po-street', 'CLOSED', 'BAD_USER_INPUT'],
        ['ca-street', 'UNFOUNDED', 'BAD_USER_INPUT'],
        ['po-street', 'VERIFYING', 'OK'],
        ['ca-street', 'UNFOUNDED', 'FORBIDDEN'],
        ['po-street', 'HANDLED', 'OK'],
        ['po-street', 'CLOSED', 'FORBIDDEN'],
        ['ca-street', 'CLOSED', 'OK'],
        ['ca-street', 'CLOSED', 'BAD_USER_INPUT'],
      ] as const) {
        const r = await call(who, `mutation($id: ID!, $to: ReportStatus!, $note: String!) { transitionReport(id: $id, to: $to, note: $note) { id status minor { id } transitions { fromStatus } } }`, { id, to, note: '记录' });
        const label = `${to} by ${who}`;
        if (want === 'OK') {
          expect({ label, errors: r.json.errors }).toEqual({ label, errors: undefined });
          expect(r.data.transitionReport.minor).toBeNull();
        } else await expectRefused(r, want, label);
        const e = await eventOf(t, r.requestId);
        expect({ label, reads: e.reads }).toEqual({ label, reads: [] });
        expect(JSON.stringify(e)).not.toContain(far.id);
      }
      // The district's officers reach the child, and read the report as the child's.
      const seen = await call('ca-district', `query($id: ID!) { mandatoryReport(id: $id) { status minor { id } } }`, { id });
      expect(seen.data.mandatoryReport).toEqual({ status: 'CLOSED', minor: { id: far.id } });
    });

    it('a step on a clock behind the step before it is recorded at that step’s time, never earlier', async () => {
      const id = await reportIn('RECEIVED');
      const [{ updated_at: filed }] = await t.sql(`SELECT updated_at FROM workflow.mandatory_report WHERE id = $1`, [id]);
      t.config.workflow.clockOffsetMs = -10_000;
      const r = await call('po-district', STEP, { id, to: 'VERIFYING', note: '核查' });
      expect(r.json.errors).toBeUndefined();
      expect(Date.parse(r.data.transitionReport.transitions[0].at)).toBe(filed.getTime());
    });

    it('terminal reports stay terminal however the step is asked (concurrently too)', async () => {
      const id = await reportIn('VERIFYING');
      const results = await Promise.all([
        call('po-district', STEP, { id, to: 'HANDLED', note: '处置' }),
        call('po-street', STEP, { id, to: 'UNFOUNDED', note: '不实' }),
        call('ca-district', STEP, { id, to: 'HANDLED', note: '处置' }),
      ]);
      const ok = results.filter((r) => !r.json.errors);
      expect(ok).toHaveLength(1);
      for (const r of results.filter((x) => x.json.errors)) expect(r.codes).toEqual(['BAD_USER_INPUT']);
      const steps = await t.sql(`SELECT from_status, to_status FROM workflow.report_transition WHERE report_id = $1 ORDER BY at`, [id]);
      expect(steps.map((s) => s.from_status)).toEqual(['RECEIVED', 'VERIFYING']);
    });
  });

  // ---------------------------------------------------------------- referrals
  describe('referrals', () => {
    const STATUSES = ['PENDING', 'ACCEPTED', 'DECLINED', 'COMPLETED'] as const;
    const MUTATIONS = [
      { name: 'accept', doc: ACCEPT, root: 'acceptReferral', from: 'PENDING', to: 'ACCEPTED' },
      { name: 'decline', doc: DECLINE, root: 'declineReferral', from: 'PENDING', to: 'DECLINED' },
      { name: 'complete', doc: COMPLETE, root: 'completeReferral', from: 'ACCEPTED', to: 'COMPLETED' },
    ];
    // Made by the women's federation of the child's street, to education.
    const CALLERS: { who: string; visible: boolean; receiver: boolean; shield?: boolean }[] = [
      { who: 'ed-district', visible: true, receiver: true },
      { who: 'ed-street', visible: true, receiver: true },
      { who: 'ed-next-street', visible: false, receiver: true },
      { who: 'wf-street', visible: true, receiver: false },
      { who: 'ca-district', visible: true, receiver: false },
      { who: 'ca-next-street', visible: false, receiver: false },
      { who: 'po-district', visible: false, receiver: false },
      { who: 'ju-district', visible: false, receiver: false },
      { who: 'reporter', visible: false, receiver: false, shield: true },
      { who: 'auditor', visible: false, receiver: false, shield: true },
    ];
    const expected = (status: string, m: (typeof MUTATIONS)[number], c: (typeof CALLERS)[number]): Outcome => {
      if (c.shield) return 'FORBIDDEN';
      if (!c.visible) return 'NOT_FOUND';
      if (!c.receiver) return 'FORBIDDEN';
      return status === m.from ? 'OK' : 'BAD_USER_INPUT';
    };

    async function referralIn(status: string, minorId = child.id): Promise<string> {
      const r = await call('wf-street', CREATE, { input: { minorId, type: 'EDUCATION_AID', toDepartment: ED, need: '家庭困难，需要助学' } });
      expect(r.json.errors).toBeUndefined();
      const id = r.data.createReferral.id;
      const path: Record<string, string[]> = { PENDING: [], ACCEPTED: [ACCEPT], DECLINED: [DECLINE], COMPLETED: [ACCEPT, COMPLETE] };
      for (const doc of path[status]) expect((await call('ed-street', doc, { id })).json.errors).toBeUndefined();
      return id;
    }
    const snapshot = async (id: string) => (await t.sql(`SELECT * FROM workflow.referral WHERE id = $1`, [id]))[0];

    it.each(STATUSES)('from %s: accept, decline and complete by every caller as the diagram says', async (status) => {
      const fixture = await referralIn(status);
      for (const m of MUTATIONS) {
        for (const c of CALLERS) {
          const want = expected(status, m, c);
          const label = `${m.name} ${status} by ${c.who}`;
          if (want === 'OK') {
            const id = await referralIn(status);
            const before = await snapshot(id);
            const r = await call(c.who, m.doc, { id });
            expect({ label, errors: r.json.errors }).toEqual({ label, errors: undefined });
            const after = await snapshot(id);
            expect(after.status).toBe(m.to);
            expect(r.data[m.root].status).toBe(m.to);
            // Times: answeredAt on an answer, completedAt on completion, closedAt when the grant ends.
            if (m.name !== 'complete') {
              expect(after.answered_at.getTime()).toBeGreaterThanOrEqual(before.created_at.getTime());
              expect(after.completed_at).toBeNull();
            } else {
              expect(after.answered_at).toEqual(before.answered_at);
              expect(after.completed_at.getTime()).toBeGreaterThanOrEqual(before.answered_at.getTime());
            }
            if (m.name === 'accept') expect(after.closed_at).toBeNull();
            else expect(after.closed_at).not.toBeNull();
            expect(after.created_at).toEqual(before.created_at);
            const e = await eventOf(t, r.requestId);
            expect(e.changes).toEqual([expect.objectContaining({ mutation: m.root, id })]);
            const again = await call(c.who, m.doc, { id });
            await expectRefused(again, 'BAD_USER_INPUT', `${label} again`);
            expect(await snapshot(id)).toEqual(after);
          } else {
            const before = await snapshot(fixture);
            const r = await call(c.who, m.doc, { id: fixture });
            await expectRefused(r, want, label);
            const stated = want === 'BAD_USER_INPUT' ? 'Referral.status' : want === 'FORBIDDEN' && !c.shield ? 'Referral.toDepartment' : null;
            expect({ label, reads: (await eventOf(t, r.requestId)).reads }).toEqual({
              label,
              reads: stated ? [{ minorId: child.id, fields: expect.objectContaining({ [stated]: 'ALLOW' }) }] : [],
            });
            expect({ label, after: await snapshot(fixture) }).toEqual({ label, after: before });
          }
        }
      }
    });

    it('a referral a caller does not reach is answered as an unknown id', async () => {
      const id = await referralIn('PENDING');
      await expectAnsweredAsUnknown(t, tokens['po-district'], ACCEPT, { id }, { id: UNKNOWN });
      await expectAnsweredAsUnknown(t, tokens['ed-next-street'], DECLINE, { id }, { id: UNKNOWN });
    });

    it('answers on a clock behind are never recorded before the referral, nor a completion before its acceptance', async () => {
      const id = await referralIn('PENDING');
      t.config.workflow.clockOffsetMs = -10_000;
      expect((await call('ed-street', ACCEPT, { id })).json.errors).toBeUndefined();
      t.config.workflow.clockOffsetMs = -20_000;
      expect((await call('ed-street', COMPLETE, { id })).json.errors).toBeUndefined();
      const r = await snapshot(id);
      // Each just after the step before (a millisecond), so that their notices are listed in the order taken.
      expect(r.answered_at.getTime()).toBe(r.created_at.getTime() + 1);
      expect(r.completed_at.getTime()).toBe(r.answered_at.getTime() + 1);
      expect(r.closed_at.getTime()).toBe(r.completed_at.getTime());
      expect(r.complete_due_at.getTime()).toBeGreaterThan(r.answered_at.getTime());
    });

    it('concurrent answers: exactly one wins, the others are refused and change nothing', async () => {
      const id = await referralIn('PENDING');
      const results = await Promise.all([call('ed-street', ACCEPT, { id }), call('ed-district', DECLINE, { id }), call('ed-street', DECLINE, { id })]);
      expect(results.filter((r) => !r.json.errors)).toHaveLength(1);
      for (const r of results.filter((x) => x.json.errors)) expect(r.codes).toEqual(['BAD_USER_INPUT']);
      const outcomes = await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE kind = 'REFERRAL_OUTCOME' AND subject_id = $1`, [id]);
      expect(outcomes[0].n).toBe(1);
    });

    it('a referral whose child moved away can still be answered, naming no child to the street it was addressed to', async () => {
      const [mover] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' ORDER BY id DESC LIMIT 1`);
      const id = await referralIn('PENDING', mover.id);
      const [away] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '${NEXT_STREET}%' ORDER BY code LIMIT 1`);
      await t.sql(`UPDATE registry.minor SET grid_code = $2 WHERE id = $1`, [mover.id, away.code]);
      const r = await call('ed-street', `mutation($id: ID!) { acceptReferral(id: $id) { id status minor { id } } }`, { id });
      expect(r.json.errors).toBeUndefined();
      expect(r.data.acceptReferral).toMatchObject({ status: 'ACCEPTED', minor: null });
      const e = await eventOf(t, r.requestId);
      expect(e.changes).toEqual([expect.objectContaining({ mutation: 'acceptReferral', id, minorId: null })]);
      expect(JSON.stringify(e)).not.toContain(mover.id);
      // The new street's education reaches the child, not the referral (addressed to the old street).
      const there = await call('ed-next-street', COMPLETE, { id });
      expect(there.codes).toEqual(['NOT_FOUND']);
    });
  });

  describe('a referral whose child has turned 18', () => {
    it('is answered and completed as one naming no child, to every reader and in every notification', async () => {
      const [grown] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' ORDER BY id LIMIT 1 OFFSET 2`);
      const made = await call('wf-street', CREATE, { input: { minorId: grown.id, type: 'EDUCATION_AID', toDepartment: ED, need: '家庭困难，需要助学' } });
      const id = made.data.createReferral.id;
      const birth = yearsBefore(new Date(), 18);
      await t.sql(`UPDATE registry.minor SET birth_date = $2, id_number = $3, gender = 'MALE' WHERE id = $1`, [grown.id, birth, buildIdNumber('330102', birth, 951)]);
      const SEEN = `{ id status minor { id } }`;
      for (const [who, doc, root] of [
        ['ed-street', `mutation($id: ID!) { acceptReferral(id: $id) ${SEEN} }`, 'acceptReferral'],
        ['ed-street', `mutation($id: ID!) { completeReferral(id: $id, outcome: "已资助") ${SEEN} }`, 'completeReferral'],
        ['ca-district', `query($id: ID!) { referral(id: $id) ${SEEN} }`, 'referral'],
      ] as const) {
        const r = await call(who, doc, { id });
        expect(r.json.errors).toBeUndefined();
        expect(r.data[root].minor).toBeNull();
        expect(JSON.stringify(await eventOf(t, r.requestId))).not.toContain(grown.id);
      }
      const told = await t.sql(`SELECT minor_id, payload::text AS payload FROM workflow.notification WHERE subject_id = $1 AND kind = 'REFERRAL_OUTCOME'`, [id]);
      expect(told.map((n) => [n.minor_id, n.payload.includes('Minor.')])).toEqual([
        [null, false],
        [null, false],
      ]);
      // No longer a child: a new referral about them is refused as about no one.
      const again = await call('wf-street', CREATE, { input: { minorId: grown.id, type: 'EDUCATION_AID', toDepartment: ED, need: '家庭困难，需要助学' } });
      expect(again.codes).toEqual(['NOT_FOUND']);
    });
  });

  // ---------------------------------------------------------------- escalation per stage
  describe('escalation follows the status', () => {
    const DAY = 86_400_000;
    const policy = buildPolicy();
    const escalate = (at: number) => runEscalations(t.hub.db.ds, t.config, policy, new Date(at));
    const told = async (subject: string) =>
      (await t.sql(`SELECT dedupe_key FROM workflow.notification WHERE kind = 'ESCALATION' AND subject_id = $1 ORDER BY dedupe_key`, [subject])).map((n) => n.dedupe_key);

    it('a referral escalates once unanswered, once more accepted and not completed, and never once closed', async () => {
      const make = async () => {
        const r = await call('wf-street', CREATE, { input: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: ED, need: '家庭困难，需要助学' } });
        return r.data.createReferral.id as string;
      };
      const [open, declined, done] = [await make(), await make(), await make()];
      const start = Date.now();
      expect((await call('ed-street', DECLINE, { id: declined })).json.errors).toBeUndefined();
      expect((await call('ed-street', ACCEPT, { id: done })).json.errors).toBeUndefined();
      expect((await call('ed-street', COMPLETE, { id: done })).json.errors).toBeUndefined();
      await escalate(start + 4 * DAY);
      await escalate(start + 4 * DAY + 1000);
      expect(await told(open)).toEqual([`ESCALATION:referral:${open}:ANSWER:CIVIL_AFFAIRS`]);
      // Accepted after the answer escalated: the completion deadline runs from the acceptance.
      t.config.workflow.clockOffsetMs = 4 * DAY;
      expect((await call('ed-street', ACCEPT, { id: open })).json.errors).toBeUndefined();
      t.config.workflow.clockOffsetMs = 0;
      await escalate(start + 20 * DAY);
      expect(await told(open)).toEqual([`ESCALATION:referral:${open}:ANSWER:CIVIL_AFFAIRS`]);
      await escalate(start + 40 * DAY);
      await escalate(start + 41 * DAY);
      expect(await told(open)).toEqual([`ESCALATION:referral:${open}:ANSWER:CIVIL_AFFAIRS`, `ESCALATION:referral:${open}:COMPLETION:CIVIL_AFFAIRS`]);
      const [row] = await t.sql(`SELECT escalated_at FROM workflow.referral WHERE id = $1`, [open]);
      expect(row.escalated_at.getTime()).toBe(start + 40 * DAY);
      for (const closed of [declined, done]) expect(await told(closed)).toEqual([]);
    });

    it('two escalation passes at once escalate a referral once, and its escalatedAt is the time it was told', async () => {
      const made = await call('wf-street', CREATE, { input: { minorId: child.id, type: 'MEDICAL_AID', toDepartment: ED, need: '需要医疗救助' } });
      const id = made.data.createReferral.id;
      const [{ answer_due_at: due }] = await t.sql(`SELECT answer_due_at FROM workflow.referral WHERE id = $1`, [id]);
      const start = due.getTime() - 4 * DAY + 1000;
      // Every record overdue before this one escalated first, so that both passes meet this referral alone.
      await escalate(due.getTime() - 1);
      expect(await told(id)).toEqual([]);
      const holder = new Client({ connectionString: t.databaseUrl });
      await holder.connect();
      try {
        // A row another session holds locked is left for the next pass, not waited for (takeLapse).
        await holder.query('BEGIN');
        await holder.query(`SELECT 1 FROM workflow.referral WHERE id = $1 FOR UPDATE`, [id]);
        await Promise.all([escalate(start + 4 * DAY + 60_000), escalate(start + 4 * DAY)]);
        expect(await told(id)).toEqual([]);
        await holder.query('COMMIT');
      } finally {
        await holder.end();
      }
      await Promise.all([escalate(start + 4 * DAY + 60_000), escalate(start + 4 * DAY)]);
      const notified = await t.sql(`SELECT created_at FROM workflow.notification WHERE kind = 'ESCALATION' AND subject_id = $1`, [id]);
      expect(notified).toHaveLength(1);
      const [row] = await t.sql(`SELECT escalated_at FROM workflow.referral WHERE id = $1`, [id]);
      expect(row.escalated_at).toEqual(notified[0].created_at);
    });

    it('a report escalates per deadline while RECEIVED or VERIFYING, and never once handled, unfounded or closed', async () => {
      const fileOne = async () => {
        const r = await call('reporter', FILE, {
          input: { harmType: 'NEGLECT', observation: '孩子长期独自在家', location: '小区门口', regionCode: child.grid_code, urgency: 'URGENT', childIdNumber: child.id_number },
        });
        return r.data.fileMandatoryReport.id as string;
      };
      const start = Date.now();
      const [received, verifying, handled, unfounded] = [await fileOne(), await fileOne(), await fileOne(), await fileOne()];
      const step = async (id: string, to: string, who = 'po-district') => expect((await call(who, STEP, { id, to, note: '记录' })).json.errors).toBeUndefined();
      await step(verifying, 'VERIFYING');
      await step(handled, 'VERIFYING');
      await step(handled, 'HANDLED');
      await step(unfounded, 'VERIFYING');
      await step(unfounded, 'UNFOUNDED');
      // URGENT: 60 minutes to start verifying, a day to handle (the defaults).
      await escalate(start + 2 * 3_600_000);
      expect(await told(received)).toEqual([`ESCALATION:report:${received}:VERIFICATION:CIVIL_AFFAIRS`]);
      for (const id of [verifying, handled, unfounded]) expect(await told(id)).toEqual([]);
      await escalate(start + 2 * DAY);
      await escalate(start + 3 * DAY);
      expect(await told(received)).toEqual([`ESCALATION:report:${received}:HANDLING:CIVIL_AFFAIRS`, `ESCALATION:report:${received}:VERIFICATION:CIVIL_AFFAIRS`]);
      expect(await told(verifying)).toEqual([`ESCALATION:report:${verifying}:HANDLING:CIVIL_AFFAIRS`]);
      for (const id of [handled, unfounded]) expect(await told(id)).toEqual([]);
    });
  });

  // ---------------------------------------------------------------- bars
  describe('barred persons', () => {
    let n = 0;
    async function bar(): Promise<{ id: string; createdAt: string }> {
      n++;
      const idNumber = buildIdNumber('330102', '19800101', 100 + n);
      const r = await call('po-district', ADD_BAR, { input: { idNumber, name: '张某', offence: 'SEXUAL_HARM', judgementReference: `(2024)浙0102刑初${n}号` } });
      expect(r.json.errors).toBeUndefined();
      return r.data.addBarredPerson;
    }
    const CALLERS: { who: string; keeper: boolean }[] = [
      { who: 'po-district', keeper: true },
      { who: 'ju-next-street', keeper: true },
      { who: 'ca-district', keeper: false },
      { who: 'ed-district', keeper: false },
      { who: 'yl-district', keeper: false },
      { who: 'reporter', keeper: false },
      { who: 'auditor', keeper: false },
      { who: 'employer', keeper: false },
    ];

    it('active → revoked once by a keeper; refused to everyone else; a revoked bar stays revoked, answered as an unknown one', async () => {
      for (const c of CALLERS) {
        const b = await bar();
        const before = (await t.sql(`SELECT * FROM workflow.barred_person WHERE id = $1`, [b.id]))[0];
        const r = await call(c.who, REVOKE, { id: b.id });
        if (!c.keeper) {
          await expectRefused(r, 'FORBIDDEN', `revoke by ${c.who}`);
          expect((await t.sql(`SELECT * FROM workflow.barred_person WHERE id = $1`, [b.id]))[0]).toEqual(before);
          continue;
        }
        expect(r.json.errors).toBeUndefined();
        const after = (await t.sql(`SELECT * FROM workflow.barred_person WHERE id = $1`, [b.id]))[0];
        expect(after).toMatchObject({ revoked_by: c.who, revocation_reason: '判决已撤销' });
        expect(after.revoked_at.getTime()).toBeGreaterThanOrEqual(after.created_at.getTime());
        const e = await eventOf(t, r.requestId);
        expect(e.changes).toEqual([expect.objectContaining({ mutation: 'removeBarredPerson', id: b.id })]);
        for (const k of CALLERS.filter((x) => x.keeper)) {
          const again = await call(k.who, REVOKE, { id: b.id });
          await expectRefused(again, 'NOT_FOUND', `revoke again by ${k.who}`);
          expect((await t.sql(`SELECT * FROM workflow.barred_person WHERE id = $1`, [b.id]))[0]).toEqual(after);
        }
        await expectAnsweredAsUnknown(t, tokens[c.who], REVOKE, { id: b.id }, { id: UNKNOWN });
      }
    });

    it('a judgement is listed once among the bars in force, and may be listed anew once its bar is revoked', async () => {
      const idNumber = buildIdNumber('330102', '19790101', 777);
      const input = { idNumber, name: '李某', offence: 'ABUSE', judgementReference: '(2023)浙0102刑初77号' };
      const first = await call('ju-district', ADD_BAR, { input });
      expect(first.json.errors).toBeUndefined();
      const twice = await call('po-district', ADD_BAR, { input });
      await expectRefused(twice, 'BAD_USER_INPUT', 'listed twice');
      expect(twice.json.errors[0].extensions.field).toBe('input.judgementReference');
      expect((await call('po-district', REVOKE, { id: first.data.addBarredPerson.id })).json.errors).toBeUndefined();
      const anew = await call('po-district', ADD_BAR, { input });
      expect(anew.json.errors).toBeUndefined();
      expect(anew.data.addBarredPerson.id).not.toBe(first.data.addBarredPerson.id);
    });

    it('a revocation on a clock behind the listing is never recorded before the bar was listed', async () => {
      const b = await bar();
      t.config.workflow.clockOffsetMs = -10_000;
      expect((await call('ju-next-street', REVOKE, { id: b.id })).json.errors).toBeUndefined();
      const [row] = await t.sql(`SELECT created_at, revoked_at FROM workflow.barred_person WHERE id = $1`, [b.id]);
      expect(row.revoked_at.getTime()).toBeGreaterThanOrEqual(row.created_at.getTime());
    });
  });

  // ---------------------------------------------------------------- webhooks
  describe('webhooks', () => {
    it('active → inactive once, by its department in its region; others answered as an unknown id; never active again', async () => {
      const reg = await call('po-street', `mutation { registerWebhook(url: "http://127.0.0.1:9/state-machines") { webhook { id } } }`, {});
      expect(reg.json.errors).toBeUndefined();
      const id = reg.data.registerWebhook.webhook.id;
      const OFF = `mutation($id: ID!) { deactivateWebhook(id: $id) { id active } }`;
      for (const who of ['ca-street', 'po-next-street', 'ed-street']) await expectRefused(await call(who, OFF, { id }), 'NOT_FOUND', `deactivate by ${who}`);
      for (const who of ['reporter', 'auditor', 'employer']) await expectRefused(await call(who, OFF, { id }), 'FORBIDDEN', `deactivate by ${who}`);
      await expectAnsweredAsUnknown(t, tokens['po-next-street'], OFF, { id }, { id: UNKNOWN });
      expect((await t.sql(`SELECT active FROM workflow.webhook WHERE id = $1`, [id]))[0].active).toBe(true);
      const first = await call('po-district', OFF, { id });
      expect(first.data.deactivateWebhook).toEqual({ id, active: false });
      expect((await eventOf(t, first.requestId)).changes).toEqual([expect.objectContaining({ mutation: 'deactivateWebhook', id })]);
      const second = await call('po-street', OFF, { id });
      expect(second.data.deactivateWebhook).toEqual({ id, active: false });
      expect((await eventOf(t, second.requestId)).changes).toEqual([]);
      expect((await t.sql(`SELECT active FROM workflow.webhook WHERE id = $1`, [id]))[0].active).toBe(false);
    });
  });

  // ---------------------------------------------------------------- notifications
  describe('notifications', () => {
    it('unacknowledged → acknowledged once, by the department told in its jurisdiction; others answered as unknown', async () => {
      const r = await call('reporter', FILE, {
        input: { harmType: 'NEGLECT', observation: '孩子长期独自在家', location: '小区门口', regionCode: child.grid_code, urgency: 'NORMAL', childIdNumber: child.id_number },
      });
      const [n] = await t.sql(`SELECT id, created_at FROM workflow.notification WHERE subject_id = $1 AND department = 'POLICE'`, [r.data.fileMandatoryReport.id]);
      for (const who of ['ca-district', 'ed-district', 'po-next-street', 'ju-district']) {
        const refused = await call(who, ACK, { id: n.id });
        await expectRefused(refused, 'NOT_FOUND', `ack by ${who}`);
      }
      for (const who of ['reporter', 'auditor', 'employer']) await expectRefused(await call(who, ACK, { id: n.id }), 'FORBIDDEN', `ack by ${who}`);
      await expectAnsweredAsUnknown(t, tokens['ca-district'], ACK, { id: n.id }, { id: UNKNOWN });
      expect((await t.sql(`SELECT acknowledged_at FROM workflow.notification WHERE id = $1`, [n.id]))[0].acknowledged_at).toBeNull();
      t.config.workflow.clockOffsetMs = -10_000;
      const first = await call('po-street', ACK, { id: n.id });
      expect(first.json.errors).toBeUndefined();
      expect(Date.parse(first.data.acknowledge.acknowledgedAt)).toBe(n.created_at.getTime());
      t.config.workflow.clockOffsetMs = 0;
      const second = await call('po-district', ACK, { id: n.id });
      expect(second.json.errors).toBeUndefined();
      expect(second.data.acknowledge).toEqual(first.data.acknowledge);
      expect((await eventOf(t, second.requestId)).changes).toEqual([]);
    });
  });
});
