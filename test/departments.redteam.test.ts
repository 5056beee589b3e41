import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Department } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { daysAgo, expectMaskedFailure, INSIDE_STREET, withFailingTrigger } from './support/department-records';
import { errorCodes, GqlResult, startTestHub, TestHub } from './support/test-hub';
import { expectAnsweredAsUnknown } from './support/unknown-id';

/**
 * Red-team probes of the department subgraphs' writes beyond the table-driven suites
 * (department-records.ts): races on one record, odd ids, input the GraphQL layer coerces, and
 * what the audit trail says a sub-record mutation changed.
 */
describe('department subgraphs, red team', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  const { EDUCATION: ED, POLICE: PO, WOMENS_FEDERATION: WF, YOUTH_LEAGUE: YL } = Department;
  // Old enough for every record (work from 16, a dropout from 6, a community correction from 12).
  const insideChild = async () =>
    (await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${INSIDE_STREET}%' AND registry.is_minor(birth_date, now()) AND birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '16 years' ORDER BY id LIMIT 1`))[0].id as string;
  const noLeak = (r: GqlResult) => expect(JSON.stringify(r.errors ?? [])).not.toMatch(/SELECT |INSERT |UPDATE |invalid input syntax|\.ts:|\n\s+at /);

  const REPORT = `mutation($m: ID!, $i: DropoutReportInput!) { createDropoutReport(minorId: $m, input: $i) { id } }`;
  const ACTION = `mutation($r: ID!, $i: PersuasionActionInput!) { recordPersuasionAction(reportId: $r, input: $i) { id actedOn } }`;
  const PLAN = `mutation($m: ID!, $i: CarePlanInput!) { createCarePlan(minorId: $m, input: $i) { id } }`;
  const UPDATE_PLAN = `mutation($id: ID!, $i: CarePlanInput!) { updateCarePlan(id: $id, input: $i) { id startedOn status } }`;
  const VISIT = `mutation($p: ID!, $i: CareVisitInput!) { recordCareVisit(planId: $p, input: $i) { id visitedOn } }`;
  const INCIDENT = `mutation($m: ID!, $i: PoliceIncidentInput!) { createPoliceIncident(minorId: $m, input: $i) { id narrative } }`;
  const UPDATE_INCIDENT = `mutation($id: ID!, $i: PoliceIncidentInput!) { updatePoliceIncident(id: $id, input: $i) { id status } }`;
  const incident = { type: 'RUNAWAY', occurredOn: daysAgo(3), status: 'REPORTED', handlingUnit: '清波派出所', narrative: '离家两日后寻回' };

  const newReport = async (token: string, reportedOn: string) => {
    const c = await t.gql(token, REPORT, { m: await insideChild(), i: { school: '清波小学', reportedOn, daysAbsent: 12 } });
    expect(c.errors).toBeUndefined();
    return c.data.createDropoutReport.id as string;
  };

  describe('concurrent writes to one record', () => {
    it('closes a dropout report once when several closing actions race: one action, one outcome, the rest refused', async () => {
      const token = await t.token(ED);
      const id = await newReport(token, daysAgo(30));
      const outcomes = ['RETURNED_TO_SCHOOL', 'VOCATIONAL_SCHOOL', 'MEDICAL_DEFERRAL', 'NOT_RETURNED', 'RETURNED_TO_SCHOOL', 'NOT_RETURNED'];
      const rs = await Promise.all(
        outcomes.map((outcome, n) => t.gql(token, ACTION, { r: id, i: { actedOn: daysAgo(2 + n), method: 'HOME_VISIT', actor: `老师${n}`, note: '劝返', outcome } })),
      );
      const ok = rs.filter((r) => !r.errors);
      expect(ok).toHaveLength(1);
      for (const r of rs.filter((r) => r.errors)) {
        expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
        expect(r.errors![0].extensions!.field).toBe('reportId');
      }
      expect((await t.sql(`SELECT count(*)::int AS n FROM education.persuasion_action WHERE report_id = $1`, [id]))[0].n).toBe(1);
      const [row] = await t.sql(`SELECT status, to_char(closed_on, 'YYYY-MM-DD') AS closed_on FROM education.dropout_report WHERE id = $1`, [id]);
      expect(row).toEqual({ status: 'CLOSED', closed_on: ok[0].data.recordPersuasionAction.actedOn });
    });

    it('never leaves a care visit dated before its plan’s start when a start correction and a visit race', async () => {
      const token = await t.token(WF);
      for (let round = 0; round < 6; round++) {
        const c = await t.gql(token, PLAN, { m: await insideChild(), i: { kind: 'LEFT_BEHIND', startedOn: daysAgo(30), status: 'ACTIVE', caregiver: '祖母', measures: '每月走访' } });
        expect(c.errors).toBeUndefined();
        const id = c.data.createCarePlan.id;
        const [u, v] = await Promise.all([
          t.gql(token, UPDATE_PLAN, { id, i: { kind: 'LEFT_BEHIND', startedOn: daysAgo(10), status: 'ACTIVE', caregiver: '祖母', measures: '每月走访' } }),
          t.gql(token, VISIT, { p: id, i: { visitedOn: daysAgo(20), visitor: '妇联执委-1号', notes: '走访' } }),
        ]);
        // Exactly one of the two stands; the other is refused as bad input, never a database error.
        expect([u, v].filter((r) => !r.errors)).toHaveLength(1);
        for (const r of [u, v].filter((r) => r.errors)) expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
        const [bad] = await t.sql(
          `SELECT count(*)::int AS n FROM womens_federation.care_visit v JOIN womens_federation.care_plan p ON p.id = v.plan_id WHERE p.id = $1 AND v.visited_on < p.started_on`,
          [id],
        );
        expect(bad.n).toBe(0);
      }
    });

    it('serialises concurrent updates of one incident: the row ends as one of the inputs, each change audited', async () => {
      const token = await t.token(PO);
      const c = await t.gql(token, INCIDENT, { m: await insideChild(), i: incident });
      const id = c.data.createPoliceIncident.id;
      const statuses = ['INVESTIGATING', 'CLOSED', 'REPORTED', 'INVESTIGATING', 'CLOSED'];
      const rs = await Promise.all(statuses.map((status, n) => post(t, token, { query: UPDATE_INCIDENT, variables: { id, i: { ...incident, status, handlingUnit: `单位${n}` } } })));
      for (const r of rs) expect(r.json.errors).toBeUndefined();
      const [row] = await t.sql(`SELECT status, handling_unit FROM police.incident WHERE id = $1`, [id]);
      const n = Number(row.handling_unit.replace('单位', ''));
      expect(row.status).toBe(statuses[n]);
      for (const r of rs) expect((await eventOf(t, r.requestId)).changes).toEqual([expect.objectContaining({ mutation: 'updatePoliceIncident', id })]);
    });
  });

  describe('ids that are not a record’s', () => {
    const odd = (u: string) => [
      'not-a-uuid',
      `{${u}}`,
      ` ${u}`,
      `${u} `,
      `${u}\u0000`,
      `urn:uuid:${u}`,
      u.replace(/-/g, ''),
      `${u}' OR '1'='1`,
      'x'.repeat(10_000),
      '00000000-0000-0000-0000-000000000000',
    ];

    it('answers NOT_FOUND, without SQL, for every spelling Postgres would accept but the hub does not, writing nothing', async () => {
      const token = await t.token(PO);
      const c = await t.gql(token, INCIDENT, { m: await insideChild(), i: incident });
      const id = c.data.createPoliceIncident.id as string;
      const before = (await t.sql(`SELECT row_to_json(r) AS row FROM police.incident r WHERE id = $1`, [id]))[0].row;
      for (const bad of odd(id)) {
        const u = await t.gql(token, UPDATE_INCIDENT, { id: bad, i: { ...incident, status: 'CLOSED' } });
        expect(errorCodes(u)).toEqual(['NOT_FOUND']);
        noLeak(u);
      }
      expect((await t.sql(`SELECT row_to_json(r) AS row FROM police.incident r WHERE id = $1`, [id]))[0].row).toEqual(before);
      const child = await insideChild();
      const count = async () => (await t.sql(`SELECT count(*)::int AS n FROM police.incident`))[0].n;
      const n = await count();
      for (const bad of odd(child)) {
        const r = await t.gql(token, INCIDENT, { m: bad, i: incident });
        expect(errorCodes(r)).toEqual(['NOT_FOUND']);
        noLeak(r);
      }
      expect(await count()).toBe(n);
    });

    it('an id of another record type, in the caller’s own jurisdiction, is NOT_FOUND like an unknown one', async () => {
      const ed = await t.token(ED, { region: INSIDE_STREET });
      const report = await newReport(ed, daysAgo(15));
      const wf = await t.token(WF, { region: INSIDE_STREET });
      const visit = { visitedOn: daysAgo(1), visitor: '妇联执委-1号', notes: '走访' };
      const r = await expectAnsweredAsUnknown(t, wf, VISIT, { p: report, i: visit }, { p: randomUUID(), i: visit });
      expect(errorCodes(r.json)).toEqual(['NOT_FOUND']);
    });

    it('a CLOSED report outside the jurisdiction is answered as an unknown id, not as a closed one', async () => {
      const [outside] = await t.sql(
        `SELECT r.id FROM education.dropout_report r JOIN registry.minor m ON m.id = r.minor_id WHERE r.status = 'CLOSED' AND m.grid_code NOT LIKE '${INSIDE_STREET}%'
           AND registry.is_minor(m.birth_date, now()) ORDER BY r.id LIMIT 1`,
      );
      expect(outside).toBeDefined();
      const street = await t.token(ED, { region: INSIDE_STREET });
      const action = { actedOn: daysAgo(1), method: 'HOME_VISIT', actor: '班主任', note: '家访' };
      const r = await expectAnsweredAsUnknown(t, street, ACTION, { r: outside.id, i: action }, { r: randomUUID(), i: action });
      expect(errorCodes(r.json)).toEqual(['NOT_FOUND']);
    });

    it('a record id in capitals updates the record; the audit names it as the database does', async () => {
      const token = await t.token(PO);
      const c = await t.gql(token, INCIDENT, { m: await insideChild(), i: incident });
      const id = c.data.createPoliceIncident.id as string;
      const u = await post(t, token, { query: UPDATE_INCIDENT, variables: { id: id.toUpperCase(), i: { ...incident, status: 'INVESTIGATING' } } });
      expect(u.json.errors).toBeUndefined();
      expect(u.json.data.updatePoliceIncident.id).toBe(id);
      expect((await eventOf(t, u.requestId)).changes).toEqual([expect.objectContaining({ id })]);
    });
  });

  describe('row locks as an oracle', () => {
    it('an update of a record outside the jurisdiction does not wait for another transaction’s lock on it', async () => {
      const [outside] = await t.sql(
        `SELECT r.id FROM police.incident r JOIN registry.minor m ON m.id = r.minor_id WHERE m.grid_code NOT LIKE '${INSIDE_STREET}%' ORDER BY r.id LIMIT 1`,
      );
      const holder = new Client({ connectionString: t.databaseUrl });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query(`SELECT 1 FROM police.incident WHERE id = $1 FOR UPDATE`, [outside.id]);
        await holder.query(`UPDATE police.incident SET handling_unit = handling_unit WHERE id = $1`, [outside.id]);
        const street = await t.token(PO, { region: INSIDE_STREET });
        const started = Date.now();
        const r = await Promise.race([
          t.gql(street, UPDATE_INCIDENT, { id: outside.id, i: incident }),
          new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 3000)),
        ]);
        expect(r).not.toBe('blocked');
        expect(errorCodes(r as GqlResult)).toEqual(['NOT_FOUND']);
        expect(Date.now() - started).toBeLessThan(1500);
      } finally {
        await holder.query('ROLLBACK');
        await holder.end();
      }
    });
  });

  describe('input the GraphQL layer coerces', () => {
    it.each([
      ['an Int past 32 bits', { daysAbsent: 2 ** 31 }],
      ['a float', { daysAbsent: 1.5 }],
      ['a number as text', { daysAbsent: '12' }],
      ['a school as a list', { school: ['清波小学'] }],
      ['a school as an object', { school: { a: 1 } }],
    ])('refuses %s as BAD_USER_INPUT, without SQL, writing nothing', async (_what, over) => {
      const token = await t.token(ED);
      const n = (await t.sql(`SELECT count(*)::int AS n FROM education.dropout_report`))[0].n;
      const r = await t.gql(token, REPORT, { m: await insideChild(), i: { school: '清波小学', reportedOn: daysAgo(3), daysAbsent: 12, ...over } });
      expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
      noLeak(r);
      expect((await t.sql(`SELECT count(*)::int AS n FROM education.dropout_report`))[0].n).toBe(n);
    });

    it.each([
      ['an enum value in lower case', { status: 'reported' }, null],
      ['an enum value that does not exist', { type: 'HOMICIDE' }, null],
      ['a NUL in the narrative', { narrative: '寻回\u0000' }, 'narrative'],
      ['a lone surrogate in the narrative', { narrative: '寻回\ud800' }, 'narrative'],
      ['a narrative of 4001 characters', { narrative: '案'.repeat(4001) }, 'narrative'],
      ['a narrative of 4001 astral characters', { narrative: '𠀀'.repeat(4001) }, 'narrative'],
      ['a handling unit with a line break', { handlingUnit: '清波\n派出所' }, 'handlingUnit'],
      ['a handling unit with a zero-width space', { handlingUnit: '清波\u200b派出所' }, 'handlingUnit'],
      ['a date with a time', { occurredOn: `${daysAgo(3)}T00:00:00Z` }, 'occurredOn'],
      ['the year 0', { occurredOn: '0000-01-01' }, 'occurredOn'],
      ['a 5-digit year', { occurredOn: '20240-01-01' }, 'occurredOn'],
      ['tomorrow', { occurredOn: daysAgo(-1) }, 'occurredOn'],
    ])('refuses %s as BAD_USER_INPUT, writing nothing', async (_what, over, field) => {
      const token = await t.token(PO);
      const n = (await t.sql(`SELECT count(*)::int AS n FROM police.incident`))[0].n;
      const r = await t.gql(token, INCIDENT, { m: await insideChild(), i: { ...incident, ...over } });
      expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
      if (field) expect(r.errors![0].extensions!.field).toBe(field);
      noLeak(r);
      expect((await t.sql(`SELECT count(*)::int AS n FROM police.incident`))[0].n).toBe(n);
    });

    it('accepts 4000 astral characters, which Postgres also counts as 4000', async () => {
      const r = await t.gql(await t.token(PO), INCIDENT, { m: await insideChild(), i: { ...incident, narrative: '𠀀'.repeat(4000) } });
      expect(r.errors).toBeUndefined();
    });
  });

  describe('writes that fail half-way', () => {
    it.each([['workflow.notification'], ['workflow.webhook_delivery']])(
      'createDropoutReport whose notification fails in %s leaves no report and no notification, and audits no change',
      async (table) => {
        const token = await t.token(ED);
        // A delivery row is written only for an active webhook of a recipient covering the region.
        const hook = randomUUID();
        await t.sql(
          `INSERT INTO workflow.webhook (id, department, region_code, url, secret, active, created_by, created_at) VALUES ($1, 'EDUCATION', '330102', 'https://example.org/h', 'x', true, 'redteam', now())`,
          [hook],
        );
        const count = async () => (await t.sql(`SELECT (SELECT count(*) FROM education.dropout_report)::int AS r, (SELECT count(*) FROM workflow.notification)::int AS n`))[0];
        const before = await count();
        let r!: Awaited<ReturnType<typeof post>>;
        await withFailingTrigger(t, table, 'INSERT', async () => {
          r = await post(t, token, { query: REPORT, variables: { m: await insideChild(), i: { school: '清波小学', reportedOn: daysAgo(3), daysAbsent: 9 } } });
          expectMaskedFailure(r.json);
        });
        await t.sql(`UPDATE workflow.webhook SET active = false WHERE id = $1`, [hook]);
        expect(await count()).toEqual(before);
        expect((await eventOf(t, r.requestId)).changes).toEqual([]);
      },
    );

    it('two mutations in one request: the first stands and is audited when the second is refused', async () => {
      const token = await t.token(PO);
      const q = `mutation($m: ID!, $i: PoliceIncidentInput!, $bad: ID!) { a: createPoliceIncident(minorId: $m, input: $i) { id } b: updatePoliceIncident(id: $bad, input: $i) { id } }`;
      const r = await post(t, token, { query: q, variables: { m: await insideChild(), i: incident, bad: randomUUID() } });
      expect(errorCodes(r.json)).toEqual(['NOT_FOUND']);
      const id = r.json.data.a.id;
      expect((await t.sql(`SELECT count(*)::int AS n FROM police.incident WHERE id = $1`, [id]))[0].n).toBe(1);
      const event = await eventOf(t, r.requestId);
      expect(event.outcome).toBe('PARTIAL');
      expect(event.changes).toEqual([expect.objectContaining({ mutation: 'createPoliceIncident', id })]);
    });
  });

  describe('the audit of a sub-record that moves its parent on', () => {
    it('recordPersuasionAction that closes a report names the report it closed among the event’s changes', async () => {
      const token = await t.token(ED);
      const id = await newReport(token, daysAgo(20));
      const r = await post(t, token, {
        query: ACTION,
        variables: { r: id, i: { actedOn: daysAgo(2), method: 'JOINT_VISIT', actor: '镇政府 张干事', note: '联合劝返', outcome: 'NOT_RETURNED' } },
      });
      expect(r.json.errors).toBeUndefined();
      const [report] = await t.sql(`SELECT status, minor_id FROM education.dropout_report WHERE id = $1`, [id]);
      expect(report.status).toBe('CLOSED');
      // "Who closed report X" is answered by the event alone, as for updateDropoutReport.
      const changes: { id: string; mutation: string; minorId: string; fields: string[] }[] = (await eventOf(t, r.requestId)).changes;
      expect(changes).toContainEqual({ fields: ['closedOn', 'outcome', 'status'], id, minorId: report.minor_id, mutation: 'recordPersuasionAction' });
      expect(changes.find((c) => c.id === r.json.data.recordPersuasionAction.id)).toMatchObject({ mutation: 'recordPersuasionAction' });
      // An action without an outcome leaves the report as it was, and names only itself.
      const open = await newReport(token, daysAgo(20));
      const plain = await post(t, token, { query: ACTION, variables: { r: open, i: { actedOn: daysAgo(2), method: 'JOINT_VISIT', actor: '镇政府 张干事', note: '联合劝返' } } });
      expect(plain.json.errors).toBeUndefined();
      expect((await eventOf(t, plain.requestId)).changes.map((c: { id: string }) => c.id)).toEqual([plain.json.data.recordPersuasionAction.id]);
    });

    it.each([
      ['recordCareVisit', WF, `SELECT id, minor_id FROM womens_federation.care_plan WHERE status = 'ACTIVE' AND (last_visit_on IS NULL OR last_visit_on < current_date - 3) ORDER BY id LIMIT 1`,
        `mutation($p: ID!, $on: String!) { recordCareVisit(planId: $p, input: { visitedOn: $on, visitor: "v", notes: "n" }) { id } }`, 'lastVisitOn'],
      ['recordMisbehaviourFollowUp', YL, `SELECT id, minor_id FROM youth_league.prevention_case WHERE status = 'OPEN' AND (last_follow_up_on IS NULL OR last_follow_up_on < current_date - 3) ORDER BY id LIMIT 1`,
        `mutation($p: ID!, $on: String!) { recordMisbehaviourFollowUp(caseId: $p, input: { followedUpOn: $on, note: "n" }) { id } }`, 'lastFollowUpOn'],
    ] as const)('%s names its parent when it moves the parent’s latest date on, and not when an older entry leaves it', async (mutation, department, parentSql, query, field) => {
      const token = await t.token(department);
      const [parent] = await t.sql(parentSql);
      const latest = await post(t, token, { query, variables: { p: parent.id, on: daysAgo(1) } });
      expect(latest.json.errors).toBeUndefined();
      expect((await eventOf(t, latest.requestId)).changes).toContainEqual({ fields: [field], id: parent.id, minorId: parent.minor_id, mutation });
      const older = await post(t, token, { query, variables: { p: parent.id, on: daysAgo(2) } });
      expect(older.json.errors).toBeUndefined();
      expect((await eventOf(t, older.requestId)).changes.map((c: { id: string }) => c.id)).toEqual([older.json.data[mutation].id]);
    });
  });

  describe('youth league', () => {
    it('a follow-up on a case whose child turned 18 meanwhile is NOT_FOUND, as an unknown case', async () => {
      const token = await t.token(YL, { region: INSIDE_STREET });
      const [c] = await t.sql(
        `SELECT r.id, r.minor_id FROM youth_league.prevention_case r JOIN registry.minor m ON m.id = r.minor_id
          WHERE r.status = 'OPEN' AND m.grid_code LIKE '${INSIDE_STREET}%' AND registry.is_minor(m.birth_date, now()) ORDER BY r.id LIMIT 1`,
      );
      expect(c).toBeDefined();
      const [{ birth_date: birth }] = await t.sql(`SELECT birth_date::text FROM registry.minor WHERE id = $1`, [c.minor_id]);
      try {
        await t.sql(`UPDATE registry.minor SET birth_date = (now() AT TIME ZONE '+08:00')::date - interval '18 years' WHERE id = $1`, [c.minor_id]);
        const fu = { followedUpOn: daysAgo(0), note: '回访' };
        const r = await expectAnsweredAsUnknown(
          t,
          token,
          `mutation($c: ID!, $i: MisbehaviourFollowUpInput!) { recordMisbehaviourFollowUp(caseId: $c, input: $i) { id } }`,
          { c: c.id, i: fu },
          { c: randomUUID(), i: fu },
        );
        expect(errorCodes(r.json)).toEqual(['NOT_FOUND']);
      } finally {
        await t.sql(`UPDATE registry.minor SET birth_date = $2 WHERE id = $1`, [c.minor_id, birth]);
      }
    });
  });
});
