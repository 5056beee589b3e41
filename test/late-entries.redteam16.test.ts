import { Department } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { buildPolicy } from '../src/server/bootstrap';
import { refreshStatistics } from '../src/subgraphs/statistics/statistics.refresh';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { eventOf, post } from './support/audit-helpers';
import { startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';
import { birthYearsAgo } from './support/birth-dates';

jest.setTimeout(300_000);

/**
 * Red team 16: late entries — records typed in after the fact, dated before records already
 * there — alone and with a child's move between grids: what is derived from "the latest" (risk
 * level, due date, latest assessment, a parent's latest sub-record date, overdue lists,
 * notifications, escalations, audit changes) stays right.
 */
const { CIVIL_AFFAIRS: CA, POLICE: PO, EDUCATION: ED, WOMENS_FEDERATION: WF, YOUTH_LEAGUE: YL } = Department;
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; rt16f' };
const STREET = '330102001';
const OTHER_STREET = '330102002';
const DAY = 86_400_000;

const ASSESS = `mutation($m: ID!, $i: AssessmentInput!) { recordAssessment(minorId: $m, input: $i) { id level assessedAt nextVisitDue } }`;
const VISIT = `mutation($m: ID!, $i: VisitInput!) { recordVisit(minorId: $m, input: $i) { id visitedAt } }`;
const MOVE = `mutation($m: ID!, $g: ID!) { updateMinor(id: $m, input: { gridCode: $g }) { id grid { code } } }`;
const CHILD = `query($m: ID!) { minor(id: $m) { id riskLevel nextVisitDue latestAssessment { id level assessedAt } assessments(first: 100) { id level assessedAt } visits(first: 100) { id visitedAt } } }`;

let seq = 700;
const ago = (days: number, hours = 0) => new Date(Date.now() - days * DAY - hours * 3_600_000).toISOString();
const dayAgo = (days: number) => new Date(Date.now() + 8 * 3_600_000 - days * DAY).toISOString().slice(0, 10);

describe.each([
  ['in process', false],
  ['with every subgraph served alone', true],
])('late entries (red team 16), %s', (_mode, distributed) => {
  let t: TestHub;
  let ca: string;
  let police: string;
  let education: string;
  let wf: string;
  let yl: string;
  let gridA: string;
  let gridB: string;
  const policy = buildPolicy();

  beforeAll(async () => {
    t = distributed ? await startDistributedTestHub() : await startTestHub();
    ca = await t.token(CA, { user: 'rt16f-ca' });
    police = await t.token(PO, { user: 'rt16f-po' });
    education = await t.token(ED, { user: 'rt16f-ed' });
    wf = await t.token(WF, { user: 'rt16f-wf' });
    yl = await t.token(YL, { user: 'rt16f-yl' });
    [{ code: gridA }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE $1 ORDER BY code LIMIT 1`, [`${STREET}%`]);
    [{ code: gridB }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE $1 ORDER BY code LIMIT 1`, [`${OTHER_STREET}%`]);
  });
  afterAll(() => t.stop());

  const gql = (token: string, query: string, variables: Record<string, unknown>) => post(t, token, { query, variables }, PURPOSE);
  const ok = async (token: string, query: string, variables: Record<string, unknown>) => {
    const r = await gql(token, query, variables);
    expect(r.json.errors).toBeUndefined();
    return r;
  };
  const newChild = async (grid: string): Promise<string> => {
    const birthDate = birthYearsAgo(10);
    const r = await t.gql(
      ca,
      `mutation($i: CreateMinorInput!) { createMinor(input: $i) { id } }`,
      {
        i: {
          name: '李小红',
          idNumber: buildIdNumber('330102', birthDate, seq++),
          householdRegistration: '浙江省杭州市上城区清波街道',
          currentAddress: '浙江省杭州市上城区清波街道清波东社区2号',
          gridCode: grid,
        },
      },
      PURPOSE,
    );
    expect(r.errors).toBeUndefined();
    return r.data.createMinor.id;
  };
  const assess = async (m: string, level: string, assessedAt?: string) =>
    (await ok(ca, ASSESS, { m, i: { level, reasons: `rt16f ${level}`, ...(assessedAt ? { assessedAt } : {}) } })).json.data.recordAssessment;
  const visit = async (m: string, visitedAt?: string) => (await ok(ca, VISIT, { m, i: { notes: 'rt16f 走访', ...(visitedAt ? { visitedAt } : {}) } })).json.data.recordVisit;
  const child = async (m: string) => (await ok(ca, CHILD, { m })).json.data.minor;
  const stored = async (m: string) => (await t.sql(`SELECT risk_level, next_visit_due FROM registry.minor WHERE id = $1`, [m]))[0];
  const notes = async (m: string, kind: string) =>
    t.sql(
      `SELECT department, region_code, subject_id, dedupe_key, payload FROM workflow.notification WHERE minor_id = $1 AND kind = $2 ORDER BY created_at, department`,
      [m, kind],
    );
  const escalate = (at: Date) => runEscalations(t.hub.db.ds, t.config, policy, at);


  // --------------------------------------------------------------------------------------------
  describe('registry: assessments and visits entered late', () => {
    it('an assessment dated before the latest changes neither level, due date nor latestAssessment, and tells no one', async () => {
      const m = await newChild(gridA);
      const y = await assess(m, 'YELLOW', ago(3));
      const before = await child(m);
      const late = await assess(m, 'ORANGE', ago(10));
      const after = await child(m);
      expect(after.riskLevel).toBe('YELLOW');
      expect(after.nextVisitDue).toBe(before.nextVisitDue);
      expect(after.latestAssessment.id).toBe(y.id);
      expect(after.assessments.map((a: any) => a.id)).toEqual([y.id, late.id]);
      expect(await notes(m, 'CHILD_RED')).toEqual([]);
    });

    it('a RED dated before a later ORANGE leaves the child ORANGE, told to no one, not listed overdue as RED', async () => {
      const m = await newChild(gridA);
      const o = await assess(m, 'ORANGE', ago(1));
      await assess(m, 'RED', ago(5));
      const c = await child(m);
      expect(c.riskLevel).toBe('ORANGE');
      expect(c.latestAssessment.id).toBe(o.id);
      expect(new Date(c.nextVisitDue).getTime()).toBe(new Date(o.assessedAt).getTime() + 7 * DAY);
      expect(await notes(m, 'CHILD_RED')).toEqual([]);
      const list = await ok(ca, `{ overdueVisits(first: 500) { minor { id } riskLevel } }`, {});
      expect(list.json.data.overdueVisits.filter((v: any) => v.minor.id === m)).toEqual([]);
    });

    it('a visit dated before the latest visit leaves the due date, and the visit after the assessment still counts', async () => {
      const m = await newChild(gridA);
      await assess(m, 'ORANGE', ago(20));
      const v1 = await visit(m, ago(2));
      const due = (await child(m)).nextVisitDue;
      expect(new Date(due).getTime()).toBe(new Date(v1.visitedAt).getTime() + 7 * DAY);
      const r = await ok(ca, VISIT, { m, i: { notes: 'late', visitedAt: ago(10) } });
      const c = await child(m);
      expect(c.nextVisitDue).toBe(due);
      const e = await eventOf(t, r.requestId);
      expect(e.changes.map((x: any) => x.mutation)).toEqual(['recordVisit']);
    });

    it('a visit dated before the latest assessment leaves the due date of the assessment', async () => {
      const m = await newChild(gridA);
      const a = await assess(m, 'ORANGE', ago(3));
      await visit(m, ago(6));
      expect(new Date((await child(m)).nextVisitDue).getTime()).toBe(new Date(a.assessedAt).getTime() + 7 * DAY);
      expect(new Date((await stored(m)).next_visit_due).getTime()).toBe(new Date(a.assessedAt).getTime() + 7 * DAY);
    });

    it('a late assessment dated after the latest visit but before now moves the due date from it (it is the latest)', async () => {
      const m = await newChild(gridA);
      await assess(m, 'BLUE', ago(30));
      await visit(m, ago(10));
      const y = await assess(m, 'ORANGE', ago(9));
      const c = await child(m);
      expect(c.riskLevel).toBe('ORANGE');
      expect(new Date(c.nextVisitDue).getTime()).toBe(new Date(y.assessedAt).getTime() + 7 * DAY);
    });

    it('two assessments at one instant: the graver one rules, whichever was entered first; CHILD_RED once, naming the RED one', async () => {
      const at = ago(2);
      const m1 = await newChild(gridA);
      await assess(m1, 'YELLOW', at);
      const red1 = await assess(m1, 'RED', at);
      const m2 = await newChild(gridA);
      const red2 = await assess(m2, 'RED', at);
      await assess(m2, 'YELLOW', at);
      await assess(m2, 'ORANGE', at);
      for (const [m, red] of [[m1, red1], [m2, red2]] as const) {
        const c = await child(m);
        expect(c.riskLevel).toBe('RED');
        expect(c.latestAssessment.id).toBe(red.id);
        expect(c.assessments[0].id).toBe(red.id);
        expect(new Date(c.nextVisitDue).getTime()).toBe(new Date(at).getTime());
        const n = await notes(m, 'CHILD_RED');
        expect(n.map((x: any) => x.department).sort()).toEqual(['CIVIL_AFFAIRS', 'EDUCATION', 'POLICE', 'WOMENS_FEDERATION']);
        expect(new Set(n.map((x: any) => x.subject_id))).toEqual(new Set([red.id]));
      }
    });

    it('a visit at the same instant as the latest visit or assessment leaves everything as it was', async () => {
      const m = await newChild(gridA);
      const a = await assess(m, 'ORANGE', ago(4));
      await visit(m, a.assessedAt);
      expect(new Date((await child(m)).nextVisitDue).getTime()).toBe(new Date(a.assessedAt).getTime() + 7 * DAY);
      const v = await visit(m, ago(1));
      await visit(m, v.visitedAt);
      expect(new Date((await child(m)).nextVisitDue).getTime()).toBe(new Date(v.visitedAt).getTime() + 7 * DAY);
    });

    it('records at one instant page one at a time in the order of the whole list (assessments and visits)', async () => {
      const m = await newChild(gridA);
      const at = ago(3);
      for (const level of ['BLUE', 'RED', 'YELLOW', 'ORANGE', 'RED']) await assess(m, level, at);
      for (let i = 0; i < 4; i++) await visit(m, ago(1));
      const v = await visit(m, ago(2));
      for (let i = 0; i < 3; i++) await visit(m, v.visitedAt);
      const whole = await child(m);
      expect(whole.assessments.map((a: any) => a.level)).toEqual(['RED', 'RED', 'ORANGE', 'YELLOW', 'BLUE']);
      expect(whole.latestAssessment.id).toBe(whole.assessments[0].id);
      for (const list of ['assessments', 'visits']) {
        const ids: string[] = [];
        let after: string | null = null;
        for (;;) {
          const r: any = await ok(ca, `query($m: ID!, $a: ID) { minor(id: $m) { ${list}(first: 1, after: $a) { id } } }`, { m, a: after });
          const page = r.json.data.minor[list];
          if (!page.length) break;
          ids.push(page[0].id);
          after = page[0].id;
          expect(ids.length).toBeLessThan(20);
        }
        expect(ids).toEqual(whole[list].map((x: any) => x.id));
      }
    });

    it('a category given again with an earlier (late) identified day keeps its day, records no change and tells no one again', async () => {
      const ADD = `mutation($m: ID!, $d: String) { addCategory(minorId: $m, category: LACK_OF_GUARDIANSHIP, identifiedAt: $d) { categories { category identifiedAt } } }`;
      const m = await newChild(gridA);
      await ok(ca, ADD, { m, d: dayAgo(5) });
      expect((await notes(m, 'GUARDIANSHIP_FAILURE')).length).toBe(3);
      const again = await ok(ca, ADD, { m, d: dayAgo(40) });
      expect(again.json.data.addCategory.categories).toEqual([{ category: 'LACK_OF_GUARDIANSHIP', identifiedAt: dayAgo(5) }]);
      expect((await eventOf(t, again.requestId)).changes).toEqual([]);
      expect((await notes(m, 'GUARDIANSHIP_FAILURE')).length).toBe(3);
      // moved, then removed and given again with the late day: the new grid is told, naming that day
      await ok(ca, MOVE, { m, g: gridB });
      await ok(ca, `mutation($m: ID!) { removeCategory(minorId: $m, category: LACK_OF_GUARDIANSHIP) { id } }`, { m });
      await ok(ca, ADD, { m, d: dayAgo(40) });
      const n = await notes(m, 'GUARDIANSHIP_FAILURE');
      expect(n.filter((x: any) => x.region_code === gridB).map((x: any) => x.payload['MinorCategory.identifiedAt'])).toEqual([dayAgo(40), dayAgo(40), dayAgo(40)]);
    });
  });

  // --------------------------------------------------------------------------------------------
  describe('registry: late entries and a move between grids', () => {
    it('a RED child moved, then a RED dated before its latest RED: the new grid is told once, naming that assessment', async () => {
      const m = await newChild(gridA);
      const r1 = await assess(m, 'RED', ago(2));
      await ok(ca, MOVE, { m, g: gridB });
      const r0 = await assess(m, 'RED', ago(6));
      const n = await notes(m, 'CHILD_RED');
      expect(n.filter((x: any) => x.region_code === gridA).map((x: any) => x.subject_id)).toEqual([r1.id, r1.id, r1.id, r1.id]);
      expect(n.filter((x: any) => x.region_code === gridB).map((x: any) => x.subject_id)).toEqual([r0.id, r0.id, r0.id, r0.id]);
      // and a second late RED tells no one again
      await assess(m, 'RED', ago(7));
      expect((await notes(m, 'CHILD_RED')).length).toBe(8);
      const c = await child(m);
      expect(c.latestAssessment.id).toBe(r1.id);
      expect(c.riskLevel).toBe('RED');
    });

    it('a child moved, then a RED dated before the move while its latest is YELLOW: no one is told, the level stays', async () => {
      const m = await newChild(gridA);
      await assess(m, 'YELLOW', ago(1));
      await ok(ca, MOVE, { m, g: gridB });
      await assess(m, 'RED', ago(8));
      expect(await notes(m, 'CHILD_RED')).toEqual([]);
      expect((await child(m)).riskLevel).toBe('YELLOW');
    });

    it('a RED child moved, then a non-RED assessment dated before its RED: the level stays RED, no one told', async () => {
      const m = await newChild(gridA);
      await assess(m, 'RED', ago(2));
      await ok(ca, MOVE, { m, g: gridB });
      await assess(m, 'BLUE', ago(5));
      const c = await child(m);
      expect(c.riskLevel).toBe('RED');
      expect((await notes(m, 'CHILD_RED')).filter((x: any) => x.region_code === gridB)).toEqual([]);
    });

    it('a RED child moved, then a RED at the same instant as its latest: the new grid is told, naming the new one', async () => {
      const m = await newChild(gridA);
      const r1 = await assess(m, 'RED', ago(2));
      await ok(ca, MOVE, { m, g: gridB });
      const r2 = await assess(m, 'RED', r1.assessedAt);
      const n = await notes(m, 'CHILD_RED');
      expect(n.filter((x: any) => x.region_code === gridB).map((x: any) => x.subject_id)).toEqual([r2.id, r2.id, r2.id, r2.id]);
      expect((await child(m)).riskLevel).toBe('RED');
    });

    it('a child RED again after a BLUE, moved back at RED into a grid told only of its earlier RED: that grid is told of the RED it lives at now', async () => {
      const m = await newChild(gridB);
      const old = await assess(m, 'RED', ago(60));
      await assess(m, 'BLUE', ago(50)); // the RED episode ends in B
      await ok(ca, MOVE, { m, g: gridA });
      const again = await assess(m, 'RED', ago(10)); // newly RED, told to A
      await ok(ca, MOVE, { m, g: gridB });
      const late = await assess(m, 'RED', ago(12)); // a late RED entered in B, dated before the latest
      const n = await notes(m, 'CHILD_RED');
      expect(n.filter((x: any) => x.region_code === gridA).map((x: any) => x.subject_id)).toEqual([again.id, again.id, again.id, again.id]);
      // B was told of the RED that ended 50 days ago, never of this one
      expect(n.filter((x: any) => x.region_code === gridB && x.subject_id !== old.id).map((x: any) => x.subject_id)).toEqual([late.id, late.id, late.id, late.id]);
    });
  });

  // --------------------------------------------------------------------------------------------
  describe('registry: late visits and the visit escalation', () => {
    it('VISIT_OVERDUE: told once per due date and grid; a late visit that changes nothing tells nothing again', async () => {
      const m = await newChild(gridA);
      await assess(m, 'ORANGE', ago(20));
      const now = new Date();
      await escalate(now);
      let n = await notes(m, 'VISIT_OVERDUE');
      expect(n.map((x: any) => x.region_code)).toEqual([gridA]);
      // a late visit dated before the assessment: nothing changes, nothing told
      const r = await ok(ca, VISIT, { m, i: { notes: 'late', visitedAt: ago(25) } });
      expect((await eventOf(t, r.requestId)).changes.length).toBe(1);
      await escalate(new Date());
      expect((await notes(m, 'VISIT_OVERDUE')).length).toBe(1);
      // a late visit after the assessment, still overdue by its new date: told again for that date
      const v = await visit(m, ago(15));
      await escalate(new Date());
      n = await notes(m, 'VISIT_OVERDUE');
      expect(n.length).toBe(2);
      expect(new Date(n[1].payload['Minor.nextVisitDue']).getTime()).toBe(new Date(v.visitedAt).getTime() + 7 * DAY);
      // an older late visit: nothing
      await visit(m, ago(18));
      await escalate(new Date());
      expect((await notes(m, 'VISIT_OVERDUE')).length).toBe(2);
      // moved: the new grid is told once
      await ok(ca, MOVE, { m, g: gridB });
      await escalate(new Date());
      await escalate(new Date());
      n = await notes(m, 'VISIT_OVERDUE');
      expect(n.map((x: any) => x.region_code)).toEqual([gridA, gridA, gridB]);
      // a late visit dated before the move that ends the lapse: off the list, no one told again
      await visit(m, ago(1));
      await escalate(new Date());
      expect((await notes(m, 'VISIT_OVERDUE')).length).toBe(3);
      const list = await ok(ca, `{ overdueVisits(first: 500) { minor { id } } }`, {});
      expect(list.json.data.overdueVisits.filter((x: any) => x.minor.id === m)).toEqual([]);
    });

    it('overdueVisits shows the latest visit, not a late one entered after it', async () => {
      const m = await newChild(gridA);
      await assess(m, 'ORANGE', ago(30));
      const v = await visit(m, ago(12));
      const other = await t.token(CA, { user: 'rt16f-ca-typist' });
      await ok(other, VISIT, { m, i: { notes: 'late, typed by another officer', visitedAt: ago(20) } });
      const list = await ok(ca, `{ overdueVisits(first: 500) { minor { id } lastVisitAt responsibleWorker nextVisitDue } }`, {});
      const row = list.json.data.overdueVisits.find((x: any) => x.minor.id === m);
      expect(new Date(row.lastVisitAt).getTime()).toBe(new Date(v.visitedAt).getTime());
      expect(new Date(row.nextVisitDue).getTime()).toBe(new Date(v.visitedAt).getTime() + 7 * DAY);
      expect(row.responsibleWorker).toBe('rt16f-ca');
    });
  });
  // --------------------------------------------------------------------------------------------
  describe('departments: sub-records entered late', () => {
    const PLAN = `mutation($m: ID!, $i: CarePlanInput!) { createCarePlan(minorId: $m, input: $i) { id } }`;
    const CARE_VISIT = `mutation($p: ID!, $i: CareVisitInput!) { recordCareVisit(planId: $p, input: $i) { id visitedOn } }`;
    const PLAN_READ = `query($m: ID!) { minor(id: $m) { carePlans { id lastVisitOn visits(first: 100) { id visitedOn } } } }`;
    const CASE = `mutation($m: ID!, $i: PreventionCaseInput!) { createPreventionCase(minorId: $m, input: $i) { id } }`;
    const FOLLOW = `mutation($c: ID!, $i: MisbehaviourFollowUpInput!) { recordMisbehaviourFollowUp(caseId: $c, input: $i) { id followedUpOn } }`;
    const CASE_READ = `query($m: ID!) { minor(id: $m) { preventionCases { id lastFollowUpOn followUps(first: 100) { id followedUpOn } } } }`;
    const DROPOUT = `mutation($m: ID!, $i: DropoutReportInput!) { createDropoutReport(minorId: $m, input: $i) { id } }`;
    const ACTION = `mutation($r: ID!, $i: PersuasionActionInput!) { recordPersuasionAction(reportId: $r, input: $i) { id actedOn } }`;
    const DROPOUT_READ = `query($m: ID!) { minor(id: $m) { dropoutReports { id status outcome closedOn persuasionActions(first: 100) { id actedOn } } } }`;
    const INCIDENT = `mutation($m: ID!, $i: PoliceIncidentInput!) { createPoliceIncident(minorId: $m, input: $i) { id } }`;

    it('care visits: a late one dated before the latest leaves lastVisitOn, claims no change of the plan, keeps it off the overdue list', async () => {
      const m = await newChild(gridA);
      const plan = (await ok(wf, PLAN, { m, i: { kind: 'LEFT_BEHIND', startedOn: dayAgo(60), status: 'ACTIVE', caregiver: '祖母', measures: '每月走访' } })).json.data.createCarePlan.id;
      const first = await ok(wf, CARE_VISIT, { p: plan, i: { visitedOn: dayAgo(3), visitor: '妇联干部', notes: 'ok' } });
      expect((await eventOf(t, first.requestId)).changes.map((c: any) => [c.mutation, c.id, c.fields])).toContainEqual(['recordCareVisit', plan, ['lastVisitOn']]);
      const late = await ok(wf, CARE_VISIT, { p: plan, i: { visitedOn: dayAgo(40), visitor: '妇联干部', notes: 'paper form' } });
      const same = await ok(wf, CARE_VISIT, { p: plan, i: { visitedOn: dayAgo(3), visitor: '妇联干部', notes: 'same day' } });
      for (const r of [late, same]) {
        const changes = (await eventOf(t, r.requestId)).changes;
        expect(changes.filter((c: any) => c.id === plan)).toEqual([]);
      }
      const read = (await ok(wf, PLAN_READ, { m })).json.data.minor.carePlans[0];
      expect(read.lastVisitOn).toBe(dayAgo(3));
      expect(read.visits.map((v: any) => v.visitedOn)).toEqual([dayAgo(3), dayAgo(3), dayAgo(40)]);
      const list = await ok(wf, `{ carePlans(filter: { notVisitedWithinDays: 30 }, first: 1000) { nodes { id } nextCursor } }`, {});
      expect(list.json.data.carePlans.nodes.map((n: any) => n.id)).not.toContain(plan);
    });

    it('prevention follow-ups: a late one dated before the latest leaves lastFollowUpOn and claims no change of the case', async () => {
      const m = await newChild(gridA);
      const c = (await ok(yl, CASE, { m, i: { kind: 'GENERAL_PREVENTION', openedOn: dayAgo(50), status: 'OPEN', caseWorker: '团干部', measures: '帮教' } })).json.data.createPreventionCase.id;
      await ok(yl, FOLLOW, { c, i: { followedUpOn: dayAgo(2), note: 'a' } });
      const late = await ok(yl, FOLLOW, { c, i: { followedUpOn: dayAgo(20), note: 'b' } });
      const same = await ok(yl, FOLLOW, { c, i: { followedUpOn: dayAgo(2), note: 'c' } });
      for (const r of [late, same]) expect((await eventOf(t, r.requestId)).changes.filter((x: any) => x.id === c)).toEqual([]);
      const read = (await ok(yl, CASE_READ, { m })).json.data.minor.preventionCases[0];
      expect(read.lastFollowUpOn).toBe(dayAgo(2));
      expect(read.followUps.map((f: any) => f.followedUpOn)).toEqual([dayAgo(2), dayAgo(2), dayAgo(20)]);
    });

    it('persuasion actions: a closing action dated before the latest action is refused; on its day it closes on that day', async () => {
      const m = await newChild(gridA);
      const r = (await ok(education, DROPOUT, { m, i: { school: '清波小学', reportedOn: dayAgo(30), daysAbsent: 20 } })).json.data.createDropoutReport.id;
      await ok(education, ACTION, { r, i: { actedOn: dayAgo(5), method: 'HOME_VISIT', actor: '班主任', note: 'a' } });
      const late = await ok(education, ACTION, { r, i: { actedOn: dayAgo(15), method: 'PHONE_CALL', actor: '班主任', note: 'late, paper form' } });
      expect((await eventOf(t, late.requestId)).changes.filter((x: any) => x.id === r)).toEqual([]);
      let read = (await ok(education, DROPOUT_READ, { m })).json.data.minor.dropoutReports[0];
      expect(read.status).toBe('OPEN');
      const early = await gql(education, ACTION, { r, i: { actedOn: dayAgo(10), method: 'HOME_VISIT', actor: '班主任', note: 'x', outcome: 'RETURNED_TO_SCHOOL' } });
      expect(early.json.errors?.map((e: any) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', 'actedOn']]);
      read = (await ok(education, DROPOUT_READ, { m })).json.data.minor.dropoutReports[0];
      expect(read.status).toBe('OPEN');
      expect(read.persuasionActions.length).toBe(2);
      const close = await ok(education, ACTION, { r, i: { actedOn: dayAgo(5), method: 'HOME_VISIT', actor: '班主任', note: 'y', outcome: 'RETURNED_TO_SCHOOL' } });
      expect((await eventOf(t, close.requestId)).changes.filter((x: any) => x.id === r).map((x: any) => x.fields)).toEqual([['closedOn', 'outcome', 'status']]);
      read = (await ok(education, DROPOUT_READ, { m })).json.data.minor.dropoutReports[0];
      expect([read.status, read.outcome, read.closedOn]).toEqual(['CLOSED', 'RETURNED_TO_SCHOOL', dayAgo(5)]);
      // a late action after the close is refused (the report is closed), nothing written
      const after = await gql(education, ACTION, { r, i: { actedOn: dayAgo(20), method: 'HOME_VISIT', actor: '班主任', note: 'z' } });
      expect(after.json.errors?.map((e: any) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      expect((await ok(education, DROPOUT_READ, { m })).json.data.minor.dropoutReports[0].persuasionActions.length).toBe(3);
    });

    it('a dropout report entered late (dated before an earlier one) is told once, to the child’s grid, naming that report', async () => {
      const m = await newChild(gridA);
      const r1 = (await ok(education, DROPOUT, { m, i: { school: '清波小学', reportedOn: dayAgo(3), daysAbsent: 10 } })).json.data.createDropoutReport.id;
      await ok(ca, MOVE, { m, g: gridB });
      const r0 = (await ok(education, DROPOUT, { m, i: { school: '清波小学', reportedOn: dayAgo(40), daysAbsent: 30 } })).json.data.createDropoutReport.id;
      const n = await notes(m, 'DROPOUT');
      expect(n.filter((x: any) => x.subject_id === r1).map((x: any) => x.region_code)).toEqual([gridA, gridA, gridA]);
      expect(n.filter((x: any) => x.subject_id === r0).map((x: any) => x.region_code)).toEqual([gridB, gridB, gridB]);
      const p = n.find((x: any) => x.subject_id === r0 && x.department === 'EDUCATION').payload;
      expect(p['DropoutReport.reportedOn']).toBe(dayAgo(40));
    });

    it('police protection case: a late, older open incident moves openSince back, not the contact unit', async () => {
      const m = await newChild(gridA);
      await ok(police, INCIDENT, { m, i: { type: 'RUNAWAY', occurredOn: dayAgo(2), status: 'REPORTED', handlingUnit: '清波派出所', narrative: 'a' } });
      await ok(police, INCIDENT, { m, i: { type: 'RUNAWAY', occurredOn: dayAgo(20), status: 'INVESTIGATING', handlingUnit: '湖滨派出所', narrative: 'late' } });
      const read = (await ok(education, `query($m: ID!) { minor(id: $m) { policeProtectionCase { hasOpenCase contactUnit openSince } } }`, { m })).json.data.minor.policeProtectionCase;
      expect(read).toEqual({ hasOpenCase: true, contactUnit: '清波派出所', openSince: dayAgo(20) });
    });
  });
  // --------------------------------------------------------------------------------------------
  describe('workflow: escalations of what was entered late', () => {
    it('a RED entered late (dated days ago) escalates unacknowledged only HUB_RED_ACK_MINUTES after it was told, once', async () => {
      const m = await newChild(gridA);
      await assess(m, 'RED', ago(5));
      const told = await t.sql(`SELECT id FROM workflow.notification WHERE minor_id = $1 AND kind = 'CHILD_RED'`, [m]);
      expect(told.length).toBe(4);
      const escalations = async () =>
        t.sql(`SELECT subject_id, region_code FROM workflow.notification WHERE kind = 'ESCALATION' AND subject_id = ANY($1::uuid[]) ORDER BY subject_id`, [told.map((x: any) => x.id)]);
      await escalate(new Date(Date.now() + 10 * 60_000));
      expect(await escalations()).toEqual([]);
      await escalate(new Date(Date.now() + (t.config.workflow.redAckMinutes + 5) * 60_000));
      await escalate(new Date(Date.now() + (t.config.workflow.redAckMinutes + 6) * 60_000));
      const e = await escalations();
      expect(e.length).toBe(4);
      expect(new Set(e.map((x: any) => x.subject_id))).toEqual(new Set(told.map((x: any) => x.id)));
    });

    it('a mandatory report filed late (observed days ago) is not overdue at once: deadlines run from its filing', async () => {
      const m = await newChild(gridA);
      const [{ id_number }] = await t.sql(`SELECT trim(id_number) AS id_number FROM registry.minor WHERE id = $1`, [m]);
      const filed = await ok(
        police,
        `mutation($i: FileReportInput!) { fileMandatoryReport(input: $i) { id receivedAt } }`,
        { i: { harmType: 'PHYSICAL_ABUSE', observation: '手臂淤青', observedAt: ago(10), location: '家中', regionCode: gridA, urgency: 'URGENT', childIdNumber: id_number } },
      );
      const id = filed.json.data.fileMandatoryReport.id;
      const list = await ok(ca, `{ overdueReports(first: 500) { id } }`, {});
      expect(list.json.data.overdueReports.map((r: any) => r.id)).not.toContain(id);
      await escalate(new Date());
      expect(await t.sql(`SELECT 1 FROM workflow.notification WHERE kind = 'ESCALATION' AND subject_id = $1`, [id])).toEqual([]);
    });
  });
  // --------------------------------------------------------------------------------------------
  describe('statistics after a refresh', () => {
    it('the monthly trend counts a late assessment and visit in the month they are dated, not the month entered', async () => {
      const TREND = `{ monthlyTrend(months: 12) { points { month series count { value } } } }`;
      const read = async () => {
        await refreshStatistics(t.hub.db.ds);
        const r = await ok(ca, TREND, {});
        return new Map<string, number>(r.json.data.monthlyTrend.points.map((p: any) => [`${p.month}|${p.series}`, p.count.value]));
      };
      const m = await newChild(gridA);
      const before = await read();
      const dated = ago(95);
      const month = new Date(Date.parse(dated) + 8 * 3_600_000).toISOString().slice(0, 7);
      const thisMonth = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 7);
      await assess(m, 'YELLOW', ago(2));
      await assess(m, 'RED', dated);
      await visit(m, dated);
      const after = await read();
      expect(after.get(`${month}|ASSESSMENTS`)! - before.get(`${month}|ASSESSMENTS`)!).toBe(1);
      expect(after.get(`${month}|VISITS`)! - before.get(`${month}|VISITS`)!).toBe(1);
      expect(after.get(`${thisMonth}|VISITS`)).toBe(before.get(`${thisMonth}|VISITS`));
      const twoAgo = new Date(Date.parse(ago(2)) + 8 * 3_600_000).toISOString().slice(0, 7);
      expect(after.get(`${twoAgo}|ASSESSMENTS`)! - before.get(`${twoAgo}|ASSESSMENTS`)!).toBe(1);
    });

    it('干预率 counts a visit on or after the latest assessment only, whatever order they were entered in', async () => {
      const RATES = `{ statisticsRates(level: DISTRICT) { total { intervention { numerator { value } denominator { value } } } } }`;
      const read = async () => {
        await refreshStatistics(t.hub.db.ds);
        const r = await ok(ca, RATES, {});
        const i = r.json.data.statisticsRates.total.intervention;
        return [i.numerator.value, i.denominator.value];
      };
      const [n0, d0] = await read();
      const c1 = await newChild(gridA); // ORANGE, visited only before it (a late visit)
      await assess(c1, 'ORANGE', ago(3));
      await visit(c1, ago(10));
      const c2 = await newChild(gridA); // ORANGE, visited at its very instant
      const a2 = await assess(c2, 'ORANGE', ago(5));
      await visit(c2, a2.assessedAt);
      const c3 = await newChild(gridA); // YELLOW and a late RED at one instant (RED rules), visited after
      await assess(c3, 'YELLOW', ago(2, 1));
      await assess(c3, 'RED', ago(2, 1));
      await visit(c3, ago(1));
      const c4 = await newChild(gridA); // RED latest, a late ORANGE before it, a visit between: not visited since the latest
      await assess(c4, 'RED', ago(2));
      await assess(c4, 'ORANGE', ago(6));
      await visit(c4, ago(4));
      const [n1, d1] = await read();
      expect([n1 - n0, d1 - d0]).toEqual([2, 4]);
    });
  });
});
