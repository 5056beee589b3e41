import { Department } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { daysAgo, INSIDE_STREET } from './support/department-records';
import { startTestHub, TestHub } from './support/test-hub';

/** Department records, red team 4: what the audit trail says a department's update changed. */
describe('department records, red team 4', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  // Old enough for every record (work from 16, a dropout from 6, a community correction from 12).
  const insideChild = async () =>
    (await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${INSIDE_STREET}%' AND registry.is_minor(birth_date, now()) AND birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '16 years' ORDER BY id LIMIT 1`))[0].id as string;

  // An update takes every field and replaces the record's; most corrections change one of them (an
  // incident closed, a plan ended). "Who changed the narrative of incident X" must not be answered
  // by every officer who closed it: the event names the fields the update changed, as updateMinor's.
  describe('an update names in its event only the fields it changed', () => {
    it('updatePoliceIncident closing an incident names its status, not the narrative, type, date or unit it resent', async () => {
      const token = await t.token(Department.POLICE);
      const input = { type: 'ABUSE', occurredOn: daysAgo(4), status: 'INVESTIGATING', handlingUnit: '清波派出所', narrative: '邻居报警, 已出警' };
      const c = await t.gql(token, `mutation($m: ID!, $i: PoliceIncidentInput!) { createPoliceIncident(minorId: $m, input: $i) { id } }`, { m: await insideChild(), i: input });
      expect(c.errors).toBeUndefined();
      const id = c.data.createPoliceIncident.id;
      const UPDATE = `mutation($id: ID!, $i: PoliceIncidentInput!) { updatePoliceIncident(id: $id, input: $i) { id status narrative } }`;
      const closed = await post(t, token, { query: UPDATE, variables: { id, i: { ...input, status: 'CLOSED' } } });
      expect(closed.json.errors).toBeUndefined();
      const [{ minor_id: minorId }] = await t.sql(`SELECT minor_id, status FROM police.incident WHERE id = $1`, [id]);
      expect((await eventOf(t, closed.requestId)).changes).toEqual([{ fields: ['id', 'input.status'], id, minorId, mutation: 'updatePoliceIncident' }]);

      // Surrounding whitespace is not a change either: the stored text is the trimmed text.
      const both = await post(t, token, { query: UPDATE, variables: { id, i: { ...input, status: 'REPORTED', handlingUnit: ' 清波派出所 ', narrative: '已送返监护人' } } });
      expect(both.json.errors).toBeUndefined();
      expect((await eventOf(t, both.requestId)).changes).toEqual([{ fields: ['id', 'input.narrative', 'input.status'], id, minorId, mutation: 'updatePoliceIncident' }]);
    });

    it.each([
      [
        'updateCarePlan reopening an ended plan',
        Department.WOMENS_FEDERATION,
        `mutation($m: ID!, $i: CarePlanInput!) { createCarePlan(minorId: $m, input: $i) { id } }`,
        `mutation($id: ID!, $i: CarePlanInput!) { updateCarePlan(id: $id, input: $i) { id } }`,
        { kind: 'LEFT_BEHIND', startedOn: daysAgo(40), status: 'ENDED', caregiver: '祖母', measures: '每月走访' },
        { status: 'ACTIVE' },
        'womens_federation.care_plan',
      ],
      [
        'updateDropoutReport correcting the days absent',
        Department.EDUCATION,
        `mutation($m: ID!, $i: DropoutReportInput!) { createDropoutReport(minorId: $m, input: $i) { id } }`,
        `mutation($id: ID!, $i: DropoutReportInput!) { updateDropoutReport(id: $id, input: $i) { id } }`,
        { school: '清波小学', reportedOn: daysAgo(10), daysAbsent: 12 },
        { daysAbsent: 15 },
        'education.dropout_report',
      ],
      [
        'updatePreventionCase closing a case',
        Department.YOUTH_LEAGUE,
        `mutation($m: ID!, $i: PreventionCaseInput!) { createPreventionCase(minorId: $m, input: $i) { id } }`,
        `mutation($id: ID!, $i: PreventionCaseInput!) { updatePreventionCase(id: $id, input: $i) { id } }`,
        { kind: 'SERIOUS_MISBEHAVIOUR', behaviour: 'GANG_FIGHTING', openedOn: daysAgo(30), status: 'OPEN', caseWorker: '团干部 李', measures: '每周谈心' },
        { status: 'CLOSED' },
        'youth_league.prevention_case',
      ],
    ] as const)('%s names that field alone', async (_what, department, create, update, input, change, table) => {
      const token = await t.token(department);
      const c = await t.gql(token, create, { m: await insideChild(), i: input });
      expect(c.errors).toBeUndefined();
      const id = Object.values(c.data as Record<string, { id: string }>)[0].id;
      const u = await post(t, token, { query: update, variables: { id, i: { ...input, ...change } } });
      expect(u.json.errors).toBeUndefined();
      const [{ minor_id: minorId }] = await t.sql(`SELECT minor_id FROM ${table} WHERE id = $1`, [id]);
      const mutation = Object.keys(u.json.data)[0];
      expect((await eventOf(t, u.requestId)).changes).toEqual([{ fields: ['id', ...Object.keys(change).map((k) => `input.${k}`)], id, minorId, mutation }]);
    });
  });
});
