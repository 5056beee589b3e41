import { Department } from '../src/auth/principal';
import { daysAgo, INSIDE_STREET } from './support/department-records';
import { startTestHub, TestHub } from './support/test-hub';

/** Department records, red team 3: what one request answers after it wrote. */
describe('department records, red team 3', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());
  // Old enough for every record (work from 16, a dropout from 6, a community correction from 12).
  const child = async () => (await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${INSIDE_STREET}%' AND birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '16 years' ORDER BY id LIMIT 1`))[0].id as string;

  describe('a mutation request that reads a list, writes to it, and reads it again', () => {
    it('answers a plan’s visits as they are after the visit it recorded, beside the lastVisitOn that visit moved on', async () => {
      const wf = await t.token(Department.WOMENS_FEDERATION);
      const input = `{ kind: LEFT_BEHIND, startedOn: "${daysAgo(30)}", status: ACTIVE, caregiver: "祖母", measures: "每月走访" }`;
      const c = await t.gql(wf, `mutation($m: ID!) { createCarePlan(minorId: $m, input: ${input}) { id } }`, { m: await child() });
      expect(c.errors).toBeUndefined();
      const r = await t.gql(
        wf,
        `mutation($id: ID!) {
          before: updateCarePlan(id: $id, input: ${input}) { lastVisitOn visits { visitedOn } }
          visit: recordCareVisit(planId: $id, input: { visitedOn: "${daysAgo(2)}", visitor: "执委", notes: "走访" }) { id }
          after: updateCarePlan(id: $id, input: ${input}) { lastVisitOn visits { visitedOn } }
        }`,
        { id: c.data.createCarePlan.id },
        { 'x-purpose': 'CASE_HANDLING' },
      );
      expect(r.errors).toBeUndefined();
      expect(r.data.before).toEqual({ lastVisitOn: null, visits: [] });
      expect(r.data.after).toEqual({ lastVisitOn: daysAgo(2), visits: [{ visitedOn: daysAgo(2) }] });
    });

    it('answers a report’s persuasion actions as they are after the closing action it recorded', async () => {
      const ed = await t.token(Department.EDUCATION);
      const input = `{ school: "清波小学", reportedOn: "${daysAgo(10)}", daysAbsent: 12 }`;
      const c = await t.gql(ed, `mutation($m: ID!) { createDropoutReport(minorId: $m, input: ${input}) { id } }`, { m: await child() });
      expect(c.errors).toBeUndefined();
      const r = await t.gql(
        ed,
        `mutation($id: ID!) {
          before: updateDropoutReport(id: $id, input: ${input}) { status persuasionActions { actedOn } }
          close: recordPersuasionAction(reportId: $id, input: { actedOn: "${daysAgo(1)}", method: HOME_VISIT, actor: "班主任", note: "家访", outcome: RETURNED_TO_SCHOOL }) { id }
          after: updateDropoutReport(id: $id, input: ${input}) { status closedOn persuasionActions { actedOn } }
        }`,
        { id: c.data.createDropoutReport.id },
        { 'x-purpose': 'CASE_HANDLING' },
      );
      expect(r.errors).toBeUndefined();
      expect(r.data.before).toEqual({ status: 'OPEN', persuasionActions: [] });
      expect(r.data.after).toEqual({ status: 'CLOSED', closedOn: daysAgo(1), persuasionActions: [{ actedOn: daysAgo(1) }] });
    });
  });
});
