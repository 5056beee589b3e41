import { Department, Role } from '../src/auth/principal';
import { applyMask } from '../src/policy/masks';
import { MaskKind } from '../src/policy/policy.types';
import { eventOf, eventsOf, post } from './support/audit-helpers';
import { daysAgo, expectMaskedFailure, INSIDE_STREET, recordSuite, withFailingTrigger } from './support/department-records';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

/** 公安: incidents, admonishments, identity verification — writes, visibility, lists. */
describe('police subgraph', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());
  const hub = () => t;
  const PO = Department.POLICE;

  recordSuite(hub, {
    owner: PO,
    type: 'PoliceIncident',
    table: 'police.incident',
    create: 'createPoliceIncident',
    update: 'updatePoliceIncident',
    input: { type: 'RUNAWAY', occurredOn: daysAgo(2), status: 'REPORTED', handlingUnit: '清波派出所', narrative: '离家出走, 已找回' },
    updated: { type: 'RUNAWAY', occurredOn: daysAgo(2), status: 'CLOSED', handlingUnit: '清波派出所', narrative: '已送返监护人' },
    invalid: [
      ['an empty narrative', { narrative: '' }, 'narrative'],
      ['a date in the future', { occurredOn: daysAgo(-1) }, 'occurredOn'],
      ['a malformed date', { occurredOn: '2026/01/01' }, 'occurredOn'],
    ],
  });
  recordSuite(hub, {
    owner: PO,
    type: 'GuardianAdmonishment',
    table: 'police.guardian_admonishment',
    create: 'createGuardianAdmonishment',
    update: 'updateGuardianAdmonishment',
    input: { guardian: 'FATHER', admonishedOn: daysAgo(1), issuingUnit: '湖滨派出所', reason: '酒后殴打子女' },
    updated: { guardian: 'MOTHER', admonishedOn: daysAgo(1), issuingUnit: '湖滨派出所', reason: '长期疏于照料' },
    invalid: [['an empty issuing unit', { issuingUnit: '' }, 'issuingUnit']],
  });
  recordSuite(hub, {
    owner: PO,
    type: 'IdentityVerification',
    table: 'police.identity_verification',
    create: 'createIdentityVerification',
    update: 'updateIdentityVerification',
    input: { verifiedOn: daysAgo(3), result: 'MATCHED', householdStatus: 'REGISTERED', householdPlace: '浙江省杭州市上城区清波街道', note: null },
    updated: { verifiedOn: daysAgo(3), result: 'NO_RECORD', householdStatus: 'UNREGISTERED', householdPlace: null, note: '无户籍' },
    invalid: [
      ['a place for an unregistered child', { householdStatus: 'UNREGISTERED' }, 'householdPlace'],
      ['no place for a registered child', { householdPlace: null }, 'householdPlace'],
    ],
  });

  it('writes nothing when the insert fails in the database, and masks the error', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor ORDER BY id LIMIT 1`);
    const before = await t.sql(`SELECT count(*)::int AS n FROM police.incident`);
    await withFailingTrigger(t, 'police.incident', 'INSERT', async () => {
      const r = await t.gql(await t.token(PO), `mutation($m: ID!) { createPoliceIncident(minorId: $m, input: { type: MISSING, occurredOn: "${daysAgo(1)}", status: REPORTED, handlingUnit: "x", narrative: "x" }) { id } }`, { m: id });
      expectMaskedFailure(r);
    });
    expect(await t.sql(`SELECT count(*)::int AS n FROM police.incident`)).toEqual(before);
  });

  describe('visibility across departments', () => {
    const READ = `query($id: ID!) { minor(id: $id) {
      policeProtectionCase { hasOpenCase contactUnit openSince }
      policeIncidents { type status handlingUnit narrative }
      guardianAdmonishments { admonishedOn reason }
      identityVerifications { householdStatus householdPlace result } } }`;
    let child: Record<string, any>;
    let expectedCase: Record<string, any>;
    beforeAll(async () => {
      [child] = await t.sql(`
        SELECT i.minor_id, v.household_place, v.household_status, v.result FROM police.incident i
        JOIN police.identity_verification v ON v.minor_id = i.minor_id AND v.household_place IS NOT NULL
        WHERE i.status <> 'CLOSED' AND (SELECT count(*) FROM police.identity_verification x WHERE x.minor_id = i.minor_id) = 1
        ORDER BY i.minor_id LIMIT 1`);
      if (!child) {
        // No seeded child has both: give one an open incident.
        [child] = await t.sql(`SELECT minor_id, household_place, household_status, result FROM police.identity_verification WHERE household_place IS NOT NULL ORDER BY minor_id LIMIT 1`);
        await t.sql(`INSERT INTO police.incident VALUES (gen_random_uuid(), $1, 'ABUSE', current_date - 3, 'INVESTIGATING', '紫阳派出所', '测试')`, [child.minor_id]);
      }
      [expectedCase] = await t.sql(
        `SELECT to_char(min(occurred_on), 'YYYY-MM-DD') AS since, (array_agg(handling_unit ORDER BY occurred_on DESC, id))[1] AS unit
         FROM police.incident WHERE minor_id = $1 AND status <> 'CLOSED'`,
        [child.minor_id],
      );
    });
    const deniedFields = (r: any) => [...new Set((r.errors ?? []).map((e: any) => e.extensions.field))].sort();

    it('EDUCATION learns only that a protection case is open and whom to call, and the district of the 户籍', async () => {
      const r = await t.gql(await t.token(Department.EDUCATION), READ, { id: child.minor_id });
      expect(r.data.minor.policeProtectionCase).toEqual({ hasOpenCase: true, contactUnit: expectedCase.unit, openSince: expectedCase.since });
      expect(r.data.minor.policeIncidents).toBeNull();
      expect(r.data.minor.guardianAdmonishments).toBeNull();
      expect(r.data.minor.identityVerifications).toEqual([
        { householdStatus: child.household_status, householdPlace: applyMask(MaskKind.ADDRESS, child.household_place), result: null },
      ]);
      expect(deniedFields(r)).toEqual(['IdentityVerification.result', 'Minor.guardianAdmonishments', 'Minor.policeIncidents']);
    });

    it('CIVIL_AFFAIRS sees incident summaries, not narratives; POLICE see everything', async () => {
      const ca = await t.gql(await t.token(Department.CIVIL_AFFAIRS), READ, { id: child.minor_id });
      const incidents = await t.sql(`SELECT type, status, handling_unit, narrative FROM police.incident WHERE minor_id = $1 ORDER BY occurred_on DESC, id`, [child.minor_id]);
      expect(ca.data.minor.policeIncidents).toEqual(incidents.map((i: any) => ({ type: i.type, status: i.status, handlingUnit: i.handling_unit, narrative: null })));
      expect(deniedFields(ca).every((f) => f === 'PoliceIncident.narrative' || f === 'GuardianAdmonishment.reason')).toBe(true);
      const po = await t.gql(await t.token(PO), READ, { id: child.minor_id });
      expect(po.errors).toBeUndefined();
      expect(po.data.minor.policeIncidents.map((i: any) => i.narrative)).toEqual(incidents.map((i: any) => i.narrative));
    });

    it('the YOUTH_LEAGUE sees the protection status only', async () => {
      const r = await t.gql(await t.token(Department.YOUTH_LEAGUE), READ, { id: child.minor_id });
      expect(r.data.minor.policeProtectionCase.hasOpenCase).toBe(true);
      expect(deniedFields(r)).toEqual(['Minor.guardianAdmonishments', 'Minor.identityVerifications', 'Minor.policeIncidents']);
    });

    it('shows no open case for a child without open incidents', async () => {
      const [{ id }] = await t.sql(`SELECT id FROM registry.minor m WHERE NOT EXISTS (SELECT 1 FROM police.incident i WHERE i.minor_id = m.id AND i.status <> 'CLOSED') ORDER BY id LIMIT 1`);
      const r = await t.gql(await t.token(Department.EDUCATION), `query($id: ID!) { minor(id: $id) { policeProtectionCase { hasOpenCase contactUnit openSince } } }`, { id });
      expect(r.data.minor.policeProtectionCase).toEqual({ hasOpenCase: false, contactUnit: null, openSince: null });
    });
  });

  // The order of a list tells how its records compare on the order's field, selected or not: a
  // department denied IdentityVerification.verifiedOn (schools, the women's federation) would learn
  // which of a child's verifications, with its household status, is the newest.
  describe('order of identityVerifications', () => {
    const CREATE = `mutation($m: ID!, $on: String!, $s: HouseholdStatus!, $p: String) { createIdentityVerification(minorId: $m, input: { verifiedOn: $on, result: MATCHED, householdStatus: $s, householdPlace: $p }) { id } }`;
    const UPDATE = `mutation($id: ID!, $on: String!, $s: HouseholdStatus!, $p: String) { updateIdentityVerification(id: $id, input: { verifiedOn: $on, result: MATCHED, householdStatus: $s, householdPlace: $p }) { id } }`;
    const READ = `query($id: ID!) { minor(id: $id) { identityVerifications { id householdStatus } } }`;
    const OLD = { s: 'REGISTERED', p: '浙江省杭州市上城区清波街道' };
    const NEW = { s: 'MOVED_OUT', p: '安徽省阜阳市临泉县' };
    let minorId: string;
    let older: string;
    let newer: string;
    let between: string;
    const order = async (dept: Department) => {
      const r = await t.gql(await t.token(dept), READ, { id: minorId });
      expect(r.errors).toBeUndefined();
      return r.data.minor.identityVerifications.map((v: any) => v.id) as string[];
    };
    const dateOrder = async () => (await t.sql(`SELECT id FROM police.identity_verification WHERE minor_id = $1 ORDER BY verified_on DESC, id`, [minorId])).map((r: any) => r.id);

    beforeAll(async () => {
      [{ id: minorId }] = await t.sql(
        `SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE '${INSIDE_STREET}%' AND NOT EXISTS (SELECT 1 FROM police.identity_verification v WHERE v.minor_id = m.id) ORDER BY m.id LIMIT 1`,
      );
      const po = await t.token(PO);
      const create = async (on: string, v: { s: string; p: string }) => (await t.gql(po, CREATE, { m: minorId, on, ...v })).data.createIdentityVerification.id as string;
      older = await create(daysAgo(300), OLD);
      newer = await create(daysAgo(5), NEW);
      between = await create(daysAgo(100), OLD);
    });

    it.each([Department.EDUCATION, Department.WOMENS_FEDERATION])('%s, denied verifiedOn, gets them by id: police swapping two dates changes nothing it sees', async (reader) => {
      const ids = [older, newer, between].sort();
      expect(await order(reader)).toEqual(ids);
      const po = await t.token(PO);
      expect((await t.gql(po, UPDATE, { id: older, on: daysAgo(5), ...OLD })).errors).toBeUndefined();
      expect((await t.gql(po, UPDATE, { id: newer, on: daysAgo(300), ...NEW })).errors).toBeUndefined();
      expect(await order(reader)).toEqual(ids);
      // Swapped back for the next reader.
      await t.gql(po, UPDATE, { id: older, on: daysAgo(300), ...OLD });
      await t.gql(po, UPDATE, { id: newer, on: daysAgo(5), ...NEW });
    });

    it('POLICE and CIVIL_AFFAIRS, who read verifiedOn, get the newest first, before and after the dates are swapped', async () => {
      expect(await order(PO)).toEqual([newer, between, older]);
      expect(await order(Department.CIVIL_AFFAIRS)).toEqual([newer, between, older]);
      const po = await t.token(PO);
      await t.gql(po, UPDATE, { id: older, on: daysAgo(5), ...OLD });
      await t.gql(po, UPDATE, { id: newer, on: daysAgo(300), ...NEW });
      expect(await dateOrder()).toEqual([older, between, newer]);
      expect(await order(PO)).toEqual([older, between, newer]);
      expect(await order(Department.CIVIL_AFFAIRS)).toEqual([older, between, newer]);
    });

    it('pages them alike: the first 20 by id to a reader denied verifiedOn, the newest 20 to the others; 60 with `first: 100`', async () => {
      const [{ id: child }] = await t.sql(
        `SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE '${INSIDE_STREET}%' AND m.id <> $1 AND NOT EXISTS (SELECT 1 FROM police.identity_verification v WHERE v.minor_id = m.id) ORDER BY m.id LIMIT 1`,
        [minorId],
      );
      await t.sql(
        `INSERT INTO police.identity_verification (id, minor_id, verified_on, result, household_status, household_place)
         SELECT gen_random_uuid(), $1, current_date - (k * 37 % 60) * 5, 'MATCHED', 'REGISTERED', '浙江省杭州市上城区清波街道' FROM generate_series(1, 60) k`,
        [child],
      );
      const byId = (await t.sql(`SELECT id FROM police.identity_verification WHERE minor_id = $1 ORDER BY id`, [child])).map((r: any) => r.id);
      const newest = (await t.sql(`SELECT id FROM police.identity_verification WHERE minor_id = $1 ORDER BY verified_on DESC, id`, [child])).map((r: any) => r.id);
      expect(byId.slice(0, 20)).not.toEqual(newest.slice(0, 20));
      const page = async (dept: Department, first?: number) => {
        const r = await t.gql(await t.token(dept), `query($id: ID!, $first: Int) { minor(id: $id) { identityVerifications(first: $first) { id } } }`, { id: child, first });
        expect(r.errors).toBeUndefined();
        return r.data.minor.identityVerifications.map((v: any) => v.id);
      };
      for (const reader of [Department.EDUCATION, Department.WOMENS_FEDERATION]) {
        expect(await page(reader)).toEqual(byId.slice(0, 20));
        expect(await page(reader, 100)).toEqual(byId);
      }
      for (const reader of [PO, Department.CIVIL_AFFAIRS]) {
        expect(await page(reader)).toEqual(newest.slice(0, 20));
        expect(await page(reader, 100)).toEqual(newest);
      }
    });
  });

  describe('policeIncidents list', () => {
    const LIST = `query($f: PoliceIncidentFilter) { policeIncidents(filter: $f, first: 1000) {
      totalCount nodes { id occurredOn minor { id guardians { relationship situation } } } } }`;

    it('answers "children with an incident in the last 30 days and their guardians’ situation"', async () => {
      const expected = await t.sql(`SELECT i.id, i.minor_id FROM police.incident i WHERE i.occurred_on > statistics.china_day(now()) - 30 ORDER BY i.id`);
      expect(expected.length).toBeGreaterThan(0);
      const r = await t.gql(await t.token(PO), LIST, { f: { occurredWithinDays: 30 } });
      expect(r.errors).toBeUndefined();
      expect(r.data.policeIncidents.totalCount).toBe(expected.length);
      expect(r.data.policeIncidents.nodes.map((n: any) => n.id)).toEqual(expected.map((e: any) => e.id));
      const node = r.data.policeIncidents.nodes[0];
      const guardians = await t.sql(`SELECT relationship, situation FROM registry.guardian WHERE minor_id = $1 ORDER BY id`, [node.minor.id]);
      expect(node.minor.guardians).toEqual(guardians);
    });

    it('records what the filter tested as read for each incident’s child the answer names: a list by type tells each child’s incident type', async () => {
      const Q = `query($f: PoliceIncidentFilter) { policeIncidents(filter: $f, first: 2) { nodes { minor { name } } } }`;
      const r = await post(t, await t.token(Department.CIVIL_AFFAIRS, { user: 'ca-filter' }), { query: Q, variables: { f: { types: ['DOMESTIC_VIOLENCE'], occurredWithinDays: 366 } } });
      expect(r.json.errors).toBeUndefined();
      const children = await t.sql(
        `SELECT DISTINCT minor_id FROM (SELECT minor_id FROM police.incident WHERE type = 'DOMESTIC_VIOLENCE' AND occurred_on > statistics.china_day(now()) - 366 ORDER BY id LIMIT 2) x`,
      );
      const e = await eventOf(t, r.requestId);
      const reads = Object.fromEntries(e.reads.map((x: { minorId: string; fields: Record<string, string> }) => [x.minorId, x.fields]));
      expect(Object.keys(reads).sort()).toEqual(children.map((c: { minor_id: string }) => c.minor_id).sort());
      for (const fields of Object.values(reads)) {
        expect(fields).toMatchObject({ 'PoliceIncident.type': 'ALLOW', 'PoliceIncident.occurredOn': 'ALLOW', 'Minor.name': 'ALLOW' });
      }
      // Whether there is a next page depends on the page's records and the one after it.
      const next = await post(t, await t.token(PO), { query: `{ policeIncidents(first: 1, filter: { types: [DOMESTIC_VIOLENCE] }) { nextCursor } }` });
      const firstTwo = await t.sql(`SELECT DISTINCT minor_id FROM (SELECT minor_id FROM police.incident WHERE type = 'DOMESTIC_VIOLENCE' ORDER BY id LIMIT 2) x`);
      const told = (await eventOf(t, next.requestId)).reads as { minorId: string; fields: Record<string, string> }[];
      expect(told.map((x) => x.minorId).sort()).toEqual(firstTwo.map((c: { minor_id: string }) => c.minor_id).sort());
      for (const x of told) expect(x.fields['PoliceIncident.type']).toBe('ALLOW');
      // Only the count: it depends on every match, and reads each one's child (record-page.redteam9).
      const counted = await post(t, await t.token(PO), { query: `{ policeIncidents(filter: { types: [DOMESTIC_VIOLENCE] }) { totalCount } }` });
      const all = await t.sql(`SELECT DISTINCT minor_id FROM police.incident WHERE type = 'DOMESTIC_VIOLENCE'`);
      const countedReads = (await eventOf(t, counted.requestId)).reads as { minorId: string; fields: Record<string, string> }[];
      expect(countedReads.map((x) => x.minorId).sort()).toEqual(all.map((c: { minor_id: string }) => c.minor_id).sort());
      for (const x of countedReads) expect(x.fields).toEqual({ 'PoliceIncident.type': 'ALLOW' });
    });

    it('filters by type; refuses a bad window and departments that may not read incidents', async () => {
      const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM police.incident WHERE type = 'DOMESTIC_VIOLENCE' AND status <> 'CLOSED'`);
      const r = await t.gql(await t.token(Department.CIVIL_AFFAIRS), LIST, { f: { types: ['DOMESTIC_VIOLENCE'], statuses: ['REPORTED', 'INVESTIGATING'] } });
      expect(r.data.policeIncidents.totalCount).toBe(n);
      const bad = await t.gql(await t.token(PO), LIST, { f: { occurredWithinDays: 0 } });
      expect(errorCodes(bad)).toEqual(['BAD_USER_INPUT']);
      expect(bad.errors![0].extensions!.field).toBe('filter.occurredWithinDays');
      for (const d of [Department.EDUCATION, Department.JUSTICE, Department.YOUTH_LEAGUE, Department.WOMENS_FEDERATION]) {
        expect(errorCodes(await t.gql(await t.token(d), LIST, {}))).toEqual(['FORBIDDEN']);
      }
    });
  });
  it('a child id written in capitals: the record, the answer and the audit name the child as the registry does', async () => {
    const [{ id: minorId }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${INSIDE_STREET}%' ORDER BY id LIMIT 1`);
    const r = await post(t, await t.token(PO, { user: 'po-capitals' }), {
      query: `mutation($m: ID!) { createPoliceIncident(minorId: $m, input: { type: SEXUAL_HARM, occurredOn: "${daysAgo(1)}", status: REPORTED, handlingUnit: "清波派出所", narrative: "大写" }) { id minor { id } } }`,
      variables: { m: minorId.toUpperCase() },
    });
    expect(r.json.errors).toBeUndefined();
    expect(r.json.data.createPoliceIncident.minor).toEqual({ id: minorId });
    const [final] = (await eventsOf(t, r.requestId)).slice(-1);
    expect(final.body.changes.map((c: { minorId: string }) => c.minorId)).toEqual([minorId]);
    expect((await t.sql(`SELECT minor_ids FROM audit.event WHERE request_id = $1 AND outcome = 'SUCCESS'`, [r.requestId]))[0].minor_ids).toEqual([minorId]);
    // The auditor finds the write under the child's id, however they spell it.
    const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, user: 'auditor-capitals' });
    for (const id of [minorId, minorId.toUpperCase()]) {
      const h = await t.gql(auditor, `query($id: ID!) { minorAccessHistory(minorId: $id) { requestId } }`, { id }, {});
      expect(h.data.minorAccessHistory.map((a: { requestId: string }) => a.requestId)).toContain(r.requestId);
    }
  });
});
