import { Department } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { chinaDay } from '../src/common/dates';
import { eventOf, post } from './support/audit-helpers';
import { DEPARTMENT_MUTATION_CALLS } from './support/department-probes';
import { buildPolicy } from '../src/server/bootstrap';
import { Access } from '../src/policy/policy.types';
import { expectAnsweredAsUnknown } from './support/unknown-id';
import { errorCodes, startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

/**
 * Red team 20: the promises of docs/departments.md, sentence by sentence, at their edges — date
 * bounds at the turn of the day in China, school years at the turn of the year, a child who has
 * turned 18 or moved, sub-records on their parent's date, fresh loaders after a write — in process
 * and with every subgraph served alone.
 */
const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;
const ZERO = '00000000-0000-4000-8000-000000000000';
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; rt20' };
const STREET = '330102001';
const OTHER_STREET = '330102002';
const DAY = 86_400_000;
const dayOffset = (n: number) => chinaDay(new Date(Date.now() + n * DAY));

const OWNER: Record<string, Department> = {};
for (const name of Object.keys(DEPARTMENT_MUTATION_CALLS)) {
  const type = name.replace(/^(create|update|record)/, '');
  OWNER[name] = ['SchoolEnrollment', 'DropoutReport', 'PersuasionAction', 'BullyingCase', 'EducationAid'].includes(type)
    ? ED
    : ['PoliceIncident', 'GuardianAdmonishment', 'IdentityVerification'].includes(type)
      ? PO
      : ['IncarceratedParent', 'CommunityCorrection', 'LegalAidCase'].includes(type)
        ? JU
        : ['PreventionCase', 'MisbehaviourFollowUp', 'IdleSupport', 'VolunteerVisit'].includes(type)
          ? YL
          : WF;
}
/** A department mutation of the shared probe table about `id`, its record date `date`. */
const call = (name: string, id: string, date: string, selection = 'id') =>
  `mutation { ${DEPARTMENT_MUTATION_CALLS[name].replace(ZERO, id).replace('"2020-01-02"', `"${date}"`).replace('"2021-01-01"', '"2035-01-01"').replace('{ __typename }', `{ ${selection} }`)} }`;
const CREATES_ABOUT_A_CHILD = Object.keys(DEPARTMENT_MUTATION_CALLS).filter((n) => n.startsWith('create'));
/**
 * A child old enough for every record (work from 16, a dropout from 6, a community correction from
 * 12: record-ages.redteam43), for records dated within the year: a child of 16 or 17 today.
 */
const OLD_ENOUGH = `birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '16 years'`;
/**
 * The creates no child that young can have, and the field naming their date: dated the earliest day a
 * record may be (the child at most 1 then), they are refused for the child's age, naming no date.
 */
const AGE_BOUNDED: Record<string, string> = { createDropoutReport: 'reportedOn', createCommunityCorrection: 'startedOn', createIdleSupport: 'startedOn', createSchoolEnrollment: 'enrolledOn' };

const POLICY = buildPolicy();
const DENIED = (d: Department, key: string) => key !== '' && POLICY.access(d, key) === Access.DENY;

const clockAt = (t: TestHub, iso: string) => {
  t.config.workflow.clockOffsetMs = Date.parse(iso) - Date.now();
};

describe('departments.md claims at the turn of the day and year in China (in process, hub clock shifted) (redteam20)', () => {
  let t: TestHub;
  let minorId: string;
  const tokens: Partial<Record<Department, string>> = {};
  beforeAll(async () => {
    t = await startTestHub();
    [{ id: minorId }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) AND ${OLD_ENOUGH} ORDER BY id LIMIT 1`);
    for (const d of [ED, PO, JU, YL, WF]) tokens[d] = await t.token(d, { user: `rt20-${d.toLowerCase()}` });
  });
  afterAll(async () => {
    t.config.workflow.clockOffsetMs = 0;
    await t?.stop();
  });

  it('a record may be dated the day after 18 years before today in China, not on that day — the bound turns at 16:00 UTC (1 March 2026 in Beijing: 2 March 2008; 28 February: 29 February, a child born then being 17)', async () => {
    const refusedAt: Record<string, string> = {};
    const acceptedAt: Record<string, string> = {};
    for (const [clock, earliest, before] of [
      ['2026-02-28T16:30:00.000Z', '2008-03-02', '2008-03-01'],
      ['2026-02-28T15:30:00.000Z', '2008-02-29', '2008-02-28'],
    ] as const) {
      clockAt(t, clock);
      for (const name of CREATES_ABOUT_A_CHILD) {
        const token = tokens[OWNER[name]]!;
        if (name === 'createIncarceratedParent') continue; // custody `since` may predate the child
        const ok = await t.gql(token, call(name, minorId, earliest), undefined, PURPOSE);
        // The date taken, a record is refused for the child alone: dated before the child (born in
        // 2010) was born, or of what no child of that age has (naming no date).
        const childOnly = (r: typeof ok) =>
          errorCodes(r).join() === 'BAD_USER_INPUT' &&
          ((r.errors![0].extensions!.field !== AGE_BOUNDED[name] && /is of no child under/.test(r.errors![0].message)) || /before the child was born/.test(r.errors![0].message));
        if (!childOnly(ok)) acceptedAt[`${name} ${clock}`] = JSON.stringify(ok.errors ?? ok.data);
        const no = await t.gql(token, call(name, minorId, before), undefined, PURPOSE);
        if (errorCodes(no).join() !== 'BAD_USER_INPUT' || (name in AGE_BOUNDED && no.errors![0].extensions!.field !== AGE_BOUNDED[name]))
          refusedAt[`${name} ${clock}`] = JSON.stringify(no.errors ?? no.data);
      }
    }
    t.config.workflow.clockOffsetMs = 0;
    expect(acceptedAt).toEqual({});
    expect(refusedAt).toEqual({});
  });

  it('a parent’s custody `since` may predate every registered child (1990)', async () => {
    const r = await t.gql(tokens[JU]!, call('createIncarceratedParent', minorId, '1990-05-01', 'id since'), undefined, PURPOSE);
    expect(r.errors).toBeUndefined();
    expect(r.data.createIncarceratedParent.since).toBe('1990-05-01');
  });

  it('an aid’s schoolYear runs from the year 18 years ago to next year, by the year in China: at 00:30 on 1 January 2027 in Beijing 2028-2029 and 2009-2010 are taken, 2008-2009 is not', async () => {
    // A child of 17 on both sides of the turn of the year, born before the 2008-2009 school year ended:
    // the years 18 years ago are of its schooling (an aid is not for a year that ended before its birth).
    // Put straight into the registry: born 2009-03-15, a minor at the clocks below whatever the day the test runs.
    const [{ id: minorId }] = await t.sql(
      `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code)
       SELECT gen_random_uuid(), '林晓', 'MALE', '2009-03-15', $1, '浙江省杭州市上城区', '浙江省杭州市上城区清波街道8号', grid_code FROM registry.minor WHERE grid_code LIKE '${STREET}%' LIMIT 1
       RETURNING id`,
      [buildIdNumber('330199', '2009-03-15', 731)],
    );
    const aid = (year: string) =>
      t.gql(
        tokens[ED]!,
        `mutation($m: ID!, $y: String!) { createEducationAid(minorId: $m, input: { kind: SCHOLARSHIP, amountYuan: 500, grantedOn: "2026-09-01", schoolYear: $y }) { id schoolYear } }`,
        { m: minorId, y: year },
        PURPOSE,
      );
    clockAt(t, '2026-12-31T16:30:00.000Z');
    const late = await aid('2028-2029');
    const early = await aid('2009-2010');
    const tooEarly = await aid('2008-2009');
    const tooLate = await aid('2029-2030');
    clockAt(t, '2026-12-31T15:30:00.000Z');
    const stillLate = await aid('2028-2029');
    const stillEarly = await aid('2008-2009');
    t.config.workflow.clockOffsetMs = 0;
    expect(late.errors).toBeUndefined();
    expect(early.errors).toBeUndefined();
    expect(errorCodes(tooEarly)).toEqual(['BAD_USER_INPUT']);
    expect(tooEarly.errors![0].extensions!.field).toBe('schoolYear');
    expect(errorCodes(tooLate)).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(stillLate)).toEqual(['BAD_USER_INPUT']);
    expect(stillEarly.errors).toBeUndefined();
  });

  it('a sub-record dated today in Beijing at 04:00 (20:00 UTC the day before) is taken, under a parent dated today too', async () => {
    const now = new Date();
    const target = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1, 20, 0, 0));
    clockAt(t, target.toISOString());
    const today = chinaDay(target);
    const plan = await t.gql(tokens[WF]!, call('createCarePlan', minorId, today, 'id startedOn'), undefined, PURPOSE);
    const kase = await t.gql(tokens[YL]!, call('createPreventionCase', minorId, today, 'id'), undefined, PURPOSE);
    const report = await t.gql(tokens[ED]!, call('createDropoutReport', minorId, today, 'id'), undefined, PURPOSE);
    expect([plan.errors, kase.errors, report.errors]).toEqual([undefined, undefined, undefined]);
    const visit = await t.gql(tokens[WF]!, call('recordCareVisit', plan.data.createCarePlan.id, today, 'visitedOn'), undefined, PURPOSE);
    const follow = await t.gql(tokens[YL]!, call('recordMisbehaviourFollowUp', kase.data.createPreventionCase.id, today, 'followedUpOn'), undefined, PURPOSE);
    const act = await t.gql(tokens[ED]!, call('recordPersuasionAction', report.data.createDropoutReport.id, today, 'actedOn'), undefined, PURPOSE);
    t.config.workflow.clockOffsetMs = 0;
    expect([visit.errors, follow.errors, act.errors]).toEqual([undefined, undefined, undefined]);
    expect([visit.data.recordCareVisit.visitedOn, follow.data.recordMisbehaviourFollowUp.followedUpOn, act.data.recordPersuasionAction.actedOn]).toEqual([today, today, today]);
  });
  it('the lists’ day windows count days in China: at 04:00 in Beijing an incident, a visit and a release dated today in Beijing are today’s', async () => {
    const now = new Date();
    const target = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1, 20, 0, 0));
    const today = chinaDay(target);
    const yesterday = chinaDay(new Date(target.getTime() - DAY));
    const tomorrow = chinaDay(new Date(target.getTime() + DAY));
    clockAt(t, target.toISOString());
    const [{ id: kid }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) ORDER BY id OFFSET 7 LIMIT 1`);
    const inc = async (d: string) => (await t.gql(tokens[PO]!, call('createPoliceIncident', kid, d), undefined, PURPOSE)).data.createPoliceIncident.id as string;
    const incToday = await inc(today);
    const incYesterday = await inc(yesterday);
    const plan = async (visited: string) => {
      const p = await t.gql(tokens[WF]!, call('createCarePlan', kid, yesterday), undefined, PURPOSE);
      const v = await t.gql(tokens[WF]!, call('recordCareVisit', p.data.createCarePlan.id, visited), undefined, PURPOSE);
      expect(v.errors).toBeUndefined();
      return p.data.createCarePlan.id as string;
    };
    const visitedToday = await plan(today);
    const visitedYesterday = await plan(yesterday);
    const parent = async (release: string) => {
      const r = await t.gql(
        tokens[JU]!,
        `mutation($m: ID!, $r: String) { createIncarceratedParent(minorId: $m, input: { parent: MOTHER, kind: COMPULSORY_REHAB, institution: "戒毒所", since: "2020-01-01", expectedRelease: $r, status: IN_CUSTODY }) { id } }`,
        { m: kid, r: release },
        PURPOSE,
      );
      expect(r.errors).toBeUndefined();
      return r.data.createIncarceratedParent.id as string;
    };
    const releasedYesterday = await parent(yesterday);
    const releasedToday = await parent(today);
    const releasedTomorrow = await parent(tomorrow);
    const ids = async (d: Department, q: string) => {
      const r: any = await t.gql(tokens[d]!, `{ ${q} { totalCount nodes { id } } }`, undefined, PURPOSE);
      expect(r.errors).toBeUndefined();
      return (Object.values(r.data)[0] as any).nodes.map((n: { id: string }) => n.id) as string[];
    };
    const recent = await ids(PO, 'policeIncidents(filter: { occurredWithinDays: 1 }, first: 1000)');
    const unvisited = await ids(WF, 'carePlans(filter: { notVisitedWithinDays: 1 }, first: 1000)');
    const releasing = await ids(JU, 'incarceratedParents(filter: { releaseWithinDays: 1 }, first: 1000)');
    t.config.workflow.clockOffsetMs = 0;
    expect([recent.includes(incToday), recent.includes(incYesterday)]).toEqual([true, false]);
    expect([unvisited.includes(visitedToday), unvisited.includes(visitedYesterday)]).toEqual([false, true]);
    expect([releasing.includes(releasedYesterday), releasing.includes(releasedToday), releasing.includes(releasedTomorrow)]).toEqual([false, true, true]);
  });
});

describe.each([
  ['in process', false],
  ['with every subgraph served alone', true],
])('departments.md claims, %s (redteam20)', (_mode, distributed) => {
  let t: TestHub;
  const tokens: Partial<Record<Department, string>> = {};
  let streetTokens: Partial<Record<Department, string>> = {};
  let offset = 0;
  let oldOffset = 0;
  beforeAll(async () => {
    t = distributed ? await startDistributedTestHub() : await startTestHub();
    for (const d of [CA, ED, PO, JU, YL, WF]) tokens[d] = await t.token(d, { user: `rt20-${d.toLowerCase()}` });
    streetTokens = {};
    for (const d of [ED, PO, JU, YL, WF]) streetTokens[d] = await t.token(d, { region: STREET, user: `rt20-street-${d.toLowerCase()}` });
  });
  afterAll(async () => {
    await t?.stop();
  });
  const freshChild = async (): Promise<{ id: string; grid_code: string; birth_date: string }> =>
    (
      await t.sql(
        `SELECT id, grid_code, birth_date::text AS birth_date FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) AND birth_date < now() - interval '10 years' ORDER BY id OFFSET $1 LIMIT 1`,
        [20 + offset++],
      )
    )[0];
  /**
   * A fresh child old enough for every record (`recordsOf`), each call another, and without a record in the
   * lists a test counts: ageing it out takes from each list only the records the test made.
   */
  const freshOldChild = async (): Promise<{ id: string; grid_code: string; birth_date: string }> =>
    (
      await t.sql(
        `SELECT id, grid_code, birth_date::text AS birth_date FROM registry.minor m WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) AND ${OLD_ENOUGH}
           AND NOT EXISTS (SELECT 1 FROM education.dropout_report x WHERE x.minor_id = m.id) AND NOT EXISTS (SELECT 1 FROM police.incident x WHERE x.minor_id = m.id)
           AND NOT EXISTS (SELECT 1 FROM justice.incarcerated_parent x WHERE x.minor_id = m.id) AND NOT EXISTS (SELECT 1 FROM youth_league.prevention_case x WHERE x.minor_id = m.id)
           AND NOT EXISTS (SELECT 1 FROM womens_federation.care_plan x WHERE x.minor_id = m.id)
         ORDER BY id OFFSET $1 LIMIT 1`,
        [oldOffset++],
      )
    )[0];

  /** One record of every type about `minorId`, created through the API: update mutation name → record id. */
  const recordsOf = async (minorId: string, date: string): Promise<Record<string, string>> => {
    const ids: Record<string, string> = {};
    for (const name of CREATES_ABOUT_A_CHILD) {
      const r = await t.gql(tokens[OWNER[name]]!, call(name, minorId, date), undefined, PURPOSE);
      expect(r.errors).toBeUndefined();
      ids[name.replace(/^create/, 'update')] = (Object.values(r.data)[0] as { id: string }).id;
    }
    return ids;
  };

  it('a record dated on the child’s own birthday is taken, and one dated before it (within 18 years) too: the bound is fixed, not the birth date', async () => {
    const m = await freshChild();
    const onBirthday = await t.gql(tokens[WF]!, call('createChildrenHomeAttendance', m.id, m.birth_date, 'id attendedOn'), undefined, PURPOSE);
    expect(onBirthday.errors).toBeUndefined();
    expect(onBirthday.data.createChildrenHomeAttendance.attendedOn).toBe(m.birth_date);
    const dayBefore = chinaDay(new Date(Date.parse(`${m.birth_date}T12:00:00Z`) - DAY - 8 * 3_600_000));
    const before = await t.gql(tokens[YL]!, call('createVolunteerVisit', m.id, dayBefore, 'id visitedOn'), undefined, PURPOSE);
    expect(before.errors).toBeUndefined();
  });

  it('a record dated years before the child was born is refused by every create, naming its date, as a read of Minor.age (police, which reads it: Minor.birthDate); a parent’s custody is not', async () => {
    const [young] = await t.sql(
      `SELECT id, birth_date::text AS birth_date FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND birth_date > (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '3 years' ORDER BY id LIMIT 1`,
    );
    const date = dayOffset(-5 * 365);
    const seen: Record<string, unknown> = {};
    for (const name of CREATES_ABOUT_A_CHILD) {
      const r = await post(t, tokens[OWNER[name]]!, { query: call(name, young.id, date) }, PURPOSE);
      const field = DEPARTMENT_MUTATION_CALLS[name].match(/(\w+): "2020-01-02"/)![1];
      const reads = (await eventOf(t, r.requestId)).reads.find((x: { minorId: string }) => x.minorId === young.id)?.fields ?? {};
      seen[name] = r.json.errors ? [r.json.errors[0].extensions.field, /before the child was born/.test(r.json.errors[0].message), Object.keys(reads).filter((k) => k.startsWith('Minor.'))] : 'taken';
      if (name !== 'createIncarceratedParent') expect([name, seen[name]]).toEqual([name, [field, true, [OWNER[name] === PO ? 'Minor.birthDate' : 'Minor.age']]]);
    }
    expect(seen.createIncarceratedParent).toBe('taken');
  });

  it('every update of a child who has turned 18 today in Beijing, or of one moved to another street, answers NOT_FOUND like an unknown id, writing nothing', async () => {
    const aged = await freshOldChild();
    const moved = await freshOldChild();
    const date = dayOffset(-30);
    const agedIds = await recordsOf(aged.id, date);
    const movedIds = await recordsOf(moved.id, date);
    // Turned 18 today in China (as registry.is_minor counts at the database's now()).
    await t.sql(`UPDATE registry.minor SET birth_date = ((now() AT TIME ZONE INTERVAL '+08:00')::date - INTERVAL '18 years')::date WHERE id = $1`, [aged.id]);
    const [{ g: otherGrid }] = await t.sql(`SELECT grid_code AS g FROM registry.minor WHERE grid_code LIKE '${OTHER_STREET}%' LIMIT 1`);
    await t.sql(`UPDATE registry.minor SET grid_code = $2 WHERE id = $1`, [moved.id, otherGrid]);
    const wrong: Record<string, unknown> = {};
    for (const [name, id] of Object.entries(agedIds)) {
      const r = await t.gql(tokens[OWNER[name]]!, call(name, id, dayOffset(-29)), undefined, PURPOSE);
      if (errorCodes(r).join() !== 'NOT_FOUND') wrong[`aged ${name}`] = r.errors ?? r.data;
    }
    for (const [name, id] of Object.entries(movedIds)) {
      const r = await t.gql(streetTokens[OWNER[name]]!, call(name, id, dayOffset(-29)), undefined, PURPOSE);
      if (errorCodes(r).join() !== 'NOT_FOUND') wrong[`moved ${name}`] = r.errors ?? r.data;
    }
    // Sub-records under their parents, and new records about either child.
    for (const [name, parent] of [
      ['recordCareVisit', 'updateCarePlan'],
      ['recordMisbehaviourFollowUp', 'updatePreventionCase'],
      ['recordPersuasionAction', 'updateDropoutReport'],
    ] as const) {
      const a = await t.gql(tokens[OWNER[name]]!, call(name, agedIds[parent], dayOffset(-29)), undefined, PURPOSE);
      if (errorCodes(a).join() !== 'NOT_FOUND') wrong[`aged ${name}`] = a.errors ?? a.data;
      const b = await t.gql(streetTokens[OWNER[name]]!, call(name, movedIds[parent], dayOffset(-29)), undefined, PURPOSE);
      if (errorCodes(b).join() !== 'NOT_FOUND') wrong[`moved ${name}`] = b.errors ?? b.data;
    }
    for (const name of CREATES_ABOUT_A_CHILD) {
      const a = await t.gql(tokens[OWNER[name]]!, call(name, aged.id, dayOffset(-29)), undefined, PURPOSE);
      if (errorCodes(a).join() !== 'NOT_FOUND') wrong[`aged ${name}`] = a.errors ?? a.data;
      const b = await t.gql(streetTokens[OWNER[name]]!, call(name, moved.id, dayOffset(-29)), undefined, PURPOSE);
      if (errorCodes(b).join() !== 'NOT_FOUND') wrong[`moved ${name}`] = b.errors ?? b.data;
    }
    expect(wrong).toEqual({});
    // Nothing moved: every record still holds the first date.
    const created = [...Object.values(agedIds), ...Object.values(movedIds)];
    const dates = await t.sql(
      `SELECT count(*)::int AS n FROM (
         SELECT id, attended_on AS d FROM womens_federation.children_home_attendance UNION ALL SELECT id, visited_on FROM youth_league.volunteer_visit
         UNION ALL SELECT id, occurred_on FROM police.incident UNION ALL SELECT id, enrolled_on FROM education.school_enrollment) x
       WHERE id = ANY($1::uuid[]) AND d <> $2::date`,
      [created, date],
    );
    expect(dates[0].n).toBe(0);
    // The district officer of the new street's district still writes the moved child's records.
    const district = await t.gql(tokens[WF]!, call('updateChildrenHomeAttendance', movedIds.updateChildrenHomeAttendance, dayOffset(-29), 'id attendedOn'), undefined, PURPOSE);
    expect(district.errors).toBeUndefined();
  });

  it('a record moved to the aged-out child leaves every list and its count (the lists’ owners, whole district)', async () => {
    const aged = await freshOldChild();
    const ids = await recordsOf(aged.id, dayOffset(-3));
    const LISTS: [Department, string, string][] = [
      [ED, 'dropoutReports', ids.updateDropoutReport],
      [PO, 'policeIncidents', ids.updatePoliceIncident],
      [JU, 'incarceratedParents', ids.updateIncarceratedParent],
      [YL, 'preventionCases', ids.updatePreventionCase],
      [WF, 'carePlans', ids.updateCarePlan],
    ];
    const page = async (d: Department, list: string) => {
      const seen: string[] = [];
      let after: string | null = null;
      let total = -1;
      for (let i = 0; i < 100; i++) {
        const r: any = await t.gql(tokens[d]!, `query($a: String) { ${list}(first: 1000, after: $a) { totalCount nextCursor nodes { id } } }`, { a: after }, PURPOSE);
        expect(r.errors).toBeUndefined();
        total = r.data[list].totalCount;
        seen.push(...r.data[list].nodes.map((n: { id: string }) => n.id));
        after = r.data[list].nextCursor;
        if (!after) break;
      }
      return { seen, total };
    };
    const before: Record<string, number> = {};
    for (const [d, list, id] of LISTS) {
      const p = await page(d, list);
      expect(p.seen).toContain(id);
      before[list] = p.total;
    }
    await t.sql(`UPDATE registry.minor SET birth_date = ((now() AT TIME ZONE INTERVAL '+08:00')::date - INTERVAL '18 years')::date WHERE id = $1`, [aged.id]);
    for (const [d, list, id] of LISTS) {
      const p = await page(d, list);
      expect(p.seen).not.toContain(id);
      expect(p.total).toBe(before[list] - 1);
    }
  });

  it('a sub-record may fall on its parent’s date, and a correction may move the parent onto its earliest sub-record but not a day past it', async () => {
    const m = await freshChild();
    const d0 = dayOffset(-20);
    const d1 = dayOffset(-19);
    const wrong: Record<string, unknown> = {};
    for (const [create, record, update, field] of [
      ['createCarePlan', 'recordCareVisit', 'updateCarePlan', 'startedOn'],
      ['createPreventionCase', 'recordMisbehaviourFollowUp', 'updatePreventionCase', 'openedOn'],
      ['createDropoutReport', 'recordPersuasionAction', 'updateDropoutReport', 'reportedOn'],
    ] as const) {
      const owner = tokens[OWNER[create]]!;
      const p = await t.gql(owner, call(create, m.id, d0), undefined, PURPOSE);
      expect(p.errors).toBeUndefined();
      const parentId = (Object.values(p.data)[0] as { id: string }).id;
      // Two sub-records: on the parent's own date and a day later.
      const s0 = await t.gql(owner, call(record, parentId, d1), undefined, PURPOSE);
      const s1 = await t.gql(owner, call(record, parentId, d0), undefined, PURPOSE);
      if (s0.errors || s1.errors) wrong[`${record} on/after the parent`] = s0.errors ?? s1.errors;
      const early = await t.gql(owner, call(record, parentId, dayOffset(-21)), undefined, PURPOSE);
      const subField = { recordCareVisit: 'visitedOn', recordMisbehaviourFollowUp: 'followedUpOn', recordPersuasionAction: 'actedOn' }[record];
      if (errorCodes(early).join() !== 'BAD_USER_INPUT' || early.errors![0].extensions?.field !== subField) wrong[`${record} before the parent`] = early.errors ?? early.data;
      const onFirst = await t.gql(owner, call(update, parentId, d0), undefined, PURPOSE);
      if (onFirst.errors) wrong[`${update} onto the first sub-record`] = onFirst.errors;
      const past = await t.gql(owner, call(update, parentId, d1), undefined, PURPOSE);
      if (errorCodes(past).join() !== 'BAD_USER_INPUT' || past.errors![0].extensions?.field !== field) wrong[`${update} past the first sub-record`] = past.errors ?? past.data;
    }
    expect(wrong).toEqual({});
  });

  it('a later root field of a mutation reads a case’s follow-ups and a child’s attendance as the field before it wrote them', async () => {
    const m = await freshChild();
    const d0 = dayOffset(-10);
    const kase = await t.gql(tokens[YL]!, call('createPreventionCase', m.id, d0), undefined, PURPOSE);
    expect(kase.errors).toBeUndefined();
    const id = kase.data.createPreventionCase.id;
    const input = `{ kind: GENERAL_PREVENTION, openedOn: "${d0}", status: OPEN, caseWorker: "x", measures: "x" }`;
    const r = await t.gql(
      tokens[YL]!,
      `mutation($id: ID!) {
        before: updatePreventionCase(id: $id, input: ${input}) { lastFollowUpOn followUps { followedUpOn } }
        f: recordMisbehaviourFollowUp(caseId: $id, input: { followedUpOn: "${dayOffset(-2)}", note: "帮教" }) { id }
        after: updatePreventionCase(id: $id, input: ${input}) { lastFollowUpOn followUps { followedUpOn } }
      }`,
      { id },
      PURPOSE,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.before).toEqual({ lastFollowUpOn: null, followUps: [] });
    expect(r.data.after).toEqual({ lastFollowUpOn: dayOffset(-2), followUps: [{ followedUpOn: dayOffset(-2) }] });
  });

  it('history lists come newest first, ties by id, and `after` walks them whole — by id alone for schools and the federation reading verifications', async () => {
    const [m] = await t.sql(
      `SELECT id FROM registry.minor m WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) AND birth_date < now() - interval '10 years'
         AND NOT EXISTS (SELECT 1 FROM womens_federation.care_plan p WHERE p.minor_id = m.id) ORDER BY id DESC LIMIT 1`,
    );
    const days = [dayOffset(-5), dayOffset(-3), dayOffset(-3), dayOffset(-9), dayOffset(-3), dayOffset(-1), dayOffset(-9)];
    const made: { id: string; day: string }[] = [];
    for (const d of days) {
      const r = await t.gql(tokens[PO]!, call('createIdentityVerification', m.id, d), undefined, PURPOSE);
      expect(r.errors).toBeUndefined();
      made.push({ id: r.data.createIdentityVerification.id, day: d });
    }
    const plan = await t.gql(tokens[WF]!, call('createCarePlan', m.id, dayOffset(-20)), undefined, PURPOSE);
    const planId = plan.data.createCarePlan.id;
    const visits: { id: string; day: string }[] = [];
    for (const d of days) {
      const r = await t.gql(tokens[WF]!, call('recordCareVisit', planId, d), undefined, PURPOSE);
      expect(r.errors).toBeUndefined();
      visits.push({ id: r.data.recordCareVisit.id, day: d });
    }
    const byDate = (rows: { id: string; day: string }[]) => [...rows].sort((a, b) => (a.day === b.day ? (a.id < b.id ? -1 : 1) : a.day < b.day ? 1 : -1)).map((r) => r.id);
    const byId = (rows: { id: string }[]) => rows.map((r) => r.id).sort();
    const walk = async (token: string, list: (after: string | null) => string, pick: (data: any) => { id: string }[]) => {
      const seen: string[] = [];
      let after: string | null = null;
      for (let i = 0; i < 10; i++) {
        const r: any = await t.gql(token, `query($m: ID!) { minor(id: $m) { id ${list(after)} } }`, { m: m.id }, PURPOSE);
        expect(r.errors).toBeUndefined();
        const page = pick(r.data.minor);
        seen.push(...page.map((p) => p.id));
        if (page.length < 2) break;
        after = page[page.length - 1].id;
      }
      return seen;
    };
    const verifications = (after: string | null) => `identityVerifications(first: 2${after ? `, after: "${after}"` : ''}) { id householdStatus }`;
    expect(await walk(tokens[PO]!, verifications, (d) => d.identityVerifications)).toEqual(byDate(made));
    expect(await walk(tokens[CA]!, verifications, (d) => d.identityVerifications)).toEqual(byDate(made));
    expect(await walk(tokens[ED]!, verifications, (d) => d.identityVerifications)).toEqual(byId(made));
    expect(await walk(tokens[WF]!, verifications, (d) => d.identityVerifications)).toEqual(byId(made));
    const planVisits = (after: string | null) => `carePlans { id visits(first: 2${after ? `, after: "${after}"` : ''}) { id } }`;
    const ofPlan = (d: any) => d.carePlans.find((p: { id: string }) => p.id === planId).visits;
    expect(await walk(tokens[WF]!, planVisits, ofPlan)).toEqual(byDate(visits));
    expect(await walk(tokens[CA]!, planVisits, ofPlan)).toEqual(byDate(visits));
  });

  it('the page’s "whole picture" query, as each department: every field served or refused FORBIDDEN as the table says, nothing else', async () => {
    const [m] = await t.sql(
      `SELECT id FROM registry.minor m WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) AND ${OLD_ENOUGH}
         AND EXISTS (SELECT 1 FROM registry.guardian g WHERE g.minor_id = m.id) ORDER BY id DESC OFFSET 3 LIMIT 1`,
    );
    await recordsOf(m.id, dayOffset(-6));
    const QUERY = `query ($id: ID!) {
      minor(id: $id) {
        name age riskLevel guardians { relationship situation }
        schoolEnrollments { school status } dropoutReports { status }
        policeProtectionCase { hasOpenCase contactUnit }
        incarceratedParents { kind expectedRelease }
        preventionCases { status caseWorker }
        carePlans { kind caregiver }
      }
    }`;
    const KEYS: Record<string, string> = {
      'minor.name': 'Minor.name', 'minor.age': 'Minor.age', 'minor.riskLevel': 'Minor.riskLevel', 'minor.guardians': 'Minor.guardians',
      'minor.guardians.relationship': 'Guardian.relationship', 'minor.guardians.situation': 'Guardian.situation',
      'minor.schoolEnrollments': 'Minor.schoolEnrollments', 'minor.schoolEnrollments.school': 'SchoolEnrollment.school', 'minor.schoolEnrollments.status': 'SchoolEnrollment.status',
      'minor.dropoutReports': 'Minor.dropoutReports', 'minor.dropoutReports.status': 'DropoutReport.status',
      'minor.policeProtectionCase': 'Minor.policeProtectionCase', 'minor.policeProtectionCase.hasOpenCase': 'ProtectionCaseStatus.hasOpenCase',
      'minor.policeProtectionCase.contactUnit': 'ProtectionCaseStatus.contactUnit',
      'minor.incarceratedParents': 'Minor.incarceratedParents', 'minor.incarceratedParents.kind': 'IncarceratedParent.kind', 'minor.incarceratedParents.expectedRelease': 'IncarceratedParent.expectedRelease',
      'minor.preventionCases': 'Minor.preventionCases', 'minor.preventionCases.status': 'PreventionCase.status', 'minor.preventionCases.caseWorker': 'PreventionCase.caseWorker',
      'minor.carePlans': 'Minor.carePlans', 'minor.carePlans.kind': 'CarePlan.kind', 'minor.carePlans.caregiver': 'CarePlan.caregiver',
    };
    const wrong: Record<string, unknown> = {};
    for (const d of [CA, ED, PO, JU, YL, WF]) {
      const r = await t.gql(tokens[d]!, QUERY, { id: m.id }, PURPOSE);
      const refused = new Set<string>();
      for (const e of r.errors ?? []) {
        if (e.extensions?.code !== 'FORBIDDEN') wrong[`${d} ${JSON.stringify(e.path)}`] = e;
        refused.add((e.path ?? []).filter((k) => typeof k === 'string').join('.'));
      }
      const expected = new Set(
        Object.entries(KEYS)
          .filter(([path, key]) => DENIED(d, key) && !DENIED(d, KEYS[path.split('.').slice(0, -1).join('.')] ?? ''))
          .map(([path]) => path),
      );
      const got = [...refused].sort();
      const want = [...expected].sort();
      if (JSON.stringify(got) !== JSON.stringify(want)) wrong[`${d} refused`] = { got, want };
      // What is allowed is served: a list the child has records in is not empty.
      for (const [path, key] of Object.entries(KEYS)) {
        if (path.split('.').length !== 2 || DENIED(d, key)) continue;
        const v = r.data?.minor?.[path.split('.')[1]];
        if (v === null || v === undefined || (Array.isArray(v) && !v.length)) wrong[`${d} ${path}`] = v;
      }
    }
    expect(wrong).toEqual({});
  });

  it('a school is kept in NFC and found so: a report filed as decomposed `José` is listed under the composed name and the reverse, and updating it so changes nothing', async () => {
    const m = await freshChild();
    const composed = `Escola Jos\u00e9 ${distributed ? 'd' : 'p'}`;
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    const CREATE = `mutation($m: ID!, $s: String!, $d: String!) { createDropoutReport(minorId: $m, input: { school: $s, reportedOn: $d, daysAbsent: 3 }) { id school } }`;
    const made = await t.gql(tokens[ED]!, CREATE, { m: m.id, s: decomposed, d: dayOffset(-4) }, PURPOSE);
    expect(made.errors).toBeUndefined();
    expect(made.data.createDropoutReport.school).toBe(composed);
    const id = made.data.createDropoutReport.id;
    for (const name of [composed, decomposed, ` ${composed} `]) {
      const r: any = await t.gql(tokens[ED]!, `query($s: String!) { dropoutReports(filter: { school: $s }, first: 10) { totalCount nodes { id } } }`, { s: name }, PURPOSE);
      expect(r.errors).toBeUndefined();
      expect(r.data.dropoutReports.nodes.map((n: { id: string }) => n.id)).toEqual([id]);
    }
    const same = await post(t, tokens[ED]!, { query: `mutation($id: ID!, $s: String!, $d: String!) { updateDropoutReport(id: $id, input: { school: $s, reportedOn: $d, daysAbsent: 3 }) { id } }`, variables: { id, s: decomposed, d: dayOffset(-4) } }, PURPOSE);
    expect(same.json.errors).toBeUndefined();
    expect((await eventOf(t, same.requestId)).changes).toEqual([]);
  });

  it('a correction racing a sub-record never leaves a sub-record dated before its parent (the earliest read under the parent’s row lock)', async () => {
    const m = await freshChild();
    const broken: Record<string, unknown> = {};
    for (const [create, record, update, table, parentCol, subTable, subCol, subParent] of [
      ['createCarePlan', 'recordCareVisit', 'updateCarePlan', 'womens_federation.care_plan', 'started_on', 'womens_federation.care_visit', 'visited_on', 'plan_id'],
      ['createPreventionCase', 'recordMisbehaviourFollowUp', 'updatePreventionCase', 'youth_league.prevention_case', 'opened_on', 'youth_league.follow_up', 'followed_up_on', 'case_id'],
      ['createDropoutReport', 'recordPersuasionAction', 'updateDropoutReport', 'education.dropout_report', 'reported_on', 'education.persuasion_action', 'acted_on', 'report_id'],
    ] as const) {
      const owner = tokens[OWNER[create]]!;
      for (let i = 0; i < 6; i++) {
        const p = await t.gql(owner, call(create, m.id, dayOffset(-30)), undefined, PURPOSE);
        const parentId = (Object.values(p.data)[0] as { id: string }).id;
        const [u, r] = await Promise.all([
          t.gql(owner, call(update, parentId, dayOffset(-10)), undefined, PURPOSE),
          t.gql(owner, call(record, parentId, dayOffset(-20)), undefined, PURPOSE),
        ]);
        for (const x of [u, r]) for (const e of x.errors ?? []) if (e.extensions?.code !== 'BAD_USER_INPUT') broken[`${record} ${i}`] = e;
        if (!u.errors && !r.errors) broken[`${record} ${i} both`] = 'both succeeded';
        const bad = await t.sql(`SELECT count(*)::int AS n FROM ${subTable} s JOIN ${table} p ON p.id = s.${subParent} WHERE p.id = $1 AND s.${subCol} < p.${parentCol}`, [parentId]);
        if (bad[0].n) broken[`${record} ${i} stored`] = bad[0].n;
      }
    }
    expect(broken).toEqual({});
  });

  it('an update replaces the record’s fields: an optional one left out is cleared, and the event names it', async () => {
    const m = await freshChild();
    const made = await t.gql(
      tokens[JU]!,
      `mutation($m: ID!) { createIncarceratedParent(minorId: $m, input: { parent: FATHER, kind: SERVING_SENTENCE, institution: "某监狱", since: "2022-01-01", expectedRelease: "2027-06-30", status: IN_CUSTODY }) { id expectedRelease } }`,
      { m: m.id },
      PURPOSE,
    );
    expect(made.errors).toBeUndefined();
    const id = made.data.createIncarceratedParent.id;
    const upd = await post(
      t,
      tokens[JU]!,
      { query: `mutation($id: ID!) { updateIncarceratedParent(id: $id, input: { parent: FATHER, kind: SERVING_SENTENCE, institution: "某监狱", since: "2022-01-01", status: IN_CUSTODY }) { id expectedRelease } }`, variables: { id } },
      PURPOSE,
    );
    expect(upd.json.errors).toBeUndefined();
    expect(upd.json.data.updateIncarceratedParent.expectedRelease).toBeNull();
    expect((await eventOf(t, upd.requestId)).changes.map((c: { fields: string[] }) => c.fields)).toEqual([['id', 'input.expectedRelease']]);
    const note = await t.gql(tokens[PO]!, `mutation($m: ID!) { createIdentityVerification(minorId: $m, input: { verifiedOn: "${dayOffset(-3)}", result: NO_RECORD, householdStatus: UNREGISTERED, note: "待补录" }) { id note } }`, { m: m.id }, PURPOSE);
    expect(note.errors).toBeUndefined();
    const cleared = await t.gql(tokens[PO]!, `mutation($id: ID!) { updateIdentityVerification(id: $id, input: { verifiedOn: "${dayOffset(-3)}", result: NO_RECORD, householdStatus: UNREGISTERED }) { id note } }`, { id: note.data.createIdentityVerification.id }, PURPOSE);
    expect(cleared.errors).toBeUndefined();
    expect(cleared.data.updateIdentityVerification.note).toBeNull();
  });

  it('an update resending every field as it is records no change; one changing only the date names only it', async () => {
    const m = await freshOldChild();
    const d0 = dayOffset(-12);
    const ids = await recordsOf(m.id, d0);
    const wrong: Record<string, unknown> = {};
    for (const [name, id] of Object.entries(ids)) {
      const same = await post(t, tokens[OWNER[name]]!, { query: call(name, id, d0) }, PURPOSE);
      if (same.json.errors) {
        wrong[`${name} same`] = same.json.errors;
        continue;
      }
      const ev = await eventOf(t, same.requestId);
      if (ev.outcome !== 'SUCCESS' || ev.changes.length !== 0) wrong[`${name} same`] = ev.changes;
      const moved = await post(t, tokens[OWNER[name]]!, { query: call(name, id, dayOffset(-11)) }, PURPOSE);
      if (moved.json.errors) {
        wrong[`${name} moved`] = moved.json.errors;
        continue;
      }
      const ev2 = await eventOf(t, moved.requestId);
      const fields = ev2.changes.map((c: { fields: string[] }) => c.fields);
      if (fields.length !== 1 || fields[0].length !== 2 || fields[0][0] !== 'id') wrong[`${name} moved`] = ev2.changes;
    }
    expect(wrong).toEqual({});
  });
});

describe('departments.md: a child who has turned 18 is indistinguishable from one without records (in process) (redteam20)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('writes about the child and updates of its records answer as an unknown id does: body, audit events and statements alike', async () => {
    const [aged] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '${STREET}%' AND registry.is_minor(birth_date, now()) AND ${OLD_ENOUGH} ORDER BY id OFFSET 4 LIMIT 1`);
    const tokens: Partial<Record<Department, string>> = {};
    for (const d of [ED, PO, JU, YL, WF]) tokens[d] = await t.token(d, { user: `rt20-aged-${d.toLowerCase()}` });
    const ids: Record<string, string> = {};
    for (const name of CREATES_ABOUT_A_CHILD) {
      const r = await t.gql(tokens[OWNER[name]]!, call(name, aged.id, dayOffset(-40)), undefined, PURPOSE);
      expect(r.errors).toBeUndefined();
      ids[name.replace(/^create/, 'update')] = (Object.values(r.data)[0] as { id: string }).id;
    }
    await t.sql(`UPDATE registry.minor SET birth_date = ((now() AT TIME ZONE INTERVAL '+08:00')::date - INTERVAL '18 years')::date WHERE id = $1`, [aged.id]);
    const unknown = '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f';
    const warm = '7f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f';
    const asVariable = (name: string) => call(name, ZERO, dayOffset(-39)).replace('mutation {', 'mutation($id: ID!) {').replace(`"${ZERO}"`, '$id');
    for (const name of ['updateCarePlan', 'updatePoliceIncident', 'updateLegalAidCase', 'updateEducationAid', 'updateIdleSupport']) {
      await expectAnsweredAsUnknown(t, tokens[OWNER[name]]!, asVariable(name), { id: ids[name] }, { id: unknown }, { id: warm });
    }
    for (const [name, parent] of [
      ['recordCareVisit', 'updateCarePlan'],
      ['recordMisbehaviourFollowUp', 'updatePreventionCase'],
      ['recordPersuasionAction', 'updateDropoutReport'],
    ] as const) {
      await expectAnsweredAsUnknown(t, tokens[OWNER[name]]!, asVariable(name), { id: ids[parent] }, { id: unknown }, { id: warm });
    }
    for (const name of ['createCarePlan', 'createPoliceIncident', 'createIncarceratedParent', 'createDropoutReport']) {
      await expectAnsweredAsUnknown(t, tokens[OWNER[name]]!, asVariable(name), { id: aged.id }, { id: unknown }, { id: warm });
    }
  });
});

describe('departments.md "Demo data": the seeded records agree with the children and their sub-records (redteam20)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('sub-records lie between their parent’s date and today, and the parent keeps the latest of them (closedOn, lastVisitOn, lastFollowUpOn)', async () => {
    const q = async (sql: string) => (await t.sql(`SELECT count(*)::int AS n FROM (${sql}) x`))[0].n as number;
    const today = `((now() AT TIME ZONE INTERVAL '+08:00')::date)`;
    const found = {
      actionsBeforeReport: await q(`SELECT a.id FROM education.persuasion_action a JOIN education.dropout_report r ON r.id = a.report_id WHERE a.acted_on < r.reported_on`),
      actionsAfterClose: await q(`SELECT a.id FROM education.persuasion_action a JOIN education.dropout_report r ON r.id = a.report_id WHERE r.closed_on IS NOT NULL AND a.acted_on > r.closed_on`),
      closedWithoutActions: await q(`SELECT r.id FROM education.dropout_report r WHERE r.status = 'CLOSED' AND NOT EXISTS (SELECT 1 FROM education.persuasion_action a WHERE a.report_id = r.id)`),
      closedNotOnLastAction: await q(`SELECT r.id FROM education.dropout_report r WHERE r.status = 'CLOSED' AND r.closed_on <> (SELECT max(acted_on) FROM education.persuasion_action a WHERE a.report_id = r.id)`),
      visitsBeforePlan: await q(`SELECT v.id FROM womens_federation.care_visit v JOIN womens_federation.care_plan p ON p.id = v.plan_id WHERE v.visited_on < p.started_on`),
      lastVisitNotLatest: await q(`SELECT p.id FROM womens_federation.care_plan p WHERE p.last_visit_on IS DISTINCT FROM (SELECT max(visited_on) FROM womens_federation.care_visit v WHERE v.plan_id = p.id)`),
      followUpsBeforeCase: await q(`SELECT f.id FROM youth_league.follow_up f JOIN youth_league.prevention_case c ON c.id = f.case_id WHERE f.followed_up_on < c.opened_on`),
      lastFollowUpNotLatest: await q(`SELECT c.id FROM youth_league.prevention_case c WHERE c.last_follow_up_on IS DISTINCT FROM (SELECT max(followed_up_on) FROM youth_league.follow_up f WHERE f.case_id = c.id)`),
      futureRecords: await q(
        `SELECT d FROM (SELECT enrolled_on d FROM education.school_enrollment UNION ALL SELECT reported_on FROM education.dropout_report UNION ALL SELECT acted_on FROM education.persuasion_action
           UNION ALL SELECT occurred_on FROM education.bullying_case UNION ALL SELECT granted_on FROM education.education_aid UNION ALL SELECT occurred_on FROM police.incident
           UNION ALL SELECT admonished_on FROM police.guardian_admonishment UNION ALL SELECT verified_on FROM police.identity_verification UNION ALL SELECT since FROM justice.incarcerated_parent
           UNION ALL SELECT started_on FROM justice.community_correction UNION ALL SELECT opened_on FROM justice.legal_aid_case UNION ALL SELECT opened_on FROM youth_league.prevention_case
           UNION ALL SELECT followed_up_on FROM youth_league.follow_up UNION ALL SELECT started_on FROM youth_league.idle_support UNION ALL SELECT visited_on FROM youth_league.volunteer_visit
           UNION ALL SELECT started_on FROM womens_federation.care_plan UNION ALL SELECT visited_on FROM womens_federation.care_visit UNION ALL SELECT held_on FROM womens_federation.family_education_session
           UNION ALL SELECT started_on FROM womens_federation.violence_support UNION ALL SELECT attended_on FROM womens_federation.children_home_attendance) r WHERE d > ${today}`,
      ),
      schoolAgeChildWithSchoolNotEnrolled: await q(
        `SELECT m.id FROM registry.minor m WHERE m.school IS NOT NULL AND m.birth_date <= (now() AT TIME ZONE INTERVAL '+08:00')::date - INTERVAL '6 years' AND NOT EXISTS (SELECT 1 FROM education.school_enrollment e WHERE e.minor_id = m.id)`,
      ),
      custodyGuardianWithoutRecord: await q(
        `SELECT g.id FROM registry.guardian g WHERE g.situation IN ('SERVING_SENTENCE', 'COMPULSORY_REHAB') AND NOT EXISTS (SELECT 1 FROM justice.incarcerated_parent p WHERE p.minor_id = g.minor_id)`,
      ),
    };
    expect(found).toEqual(Object.fromEntries(Object.keys(found).map((k) => [k, 0])));
  });

  it('every DROPOUT child of school age with a school has a dropout report, as the page says', async () => {
    const rows = await t.sql(
      `SELECT m.id FROM registry.minor_category c JOIN registry.minor m ON m.id = c.minor_id
        WHERE c.category = 'DROPOUT' AND m.school IS NOT NULL AND m.birth_date <= (now() - interval '6 years')::date
          AND NOT EXISTS (SELECT 1 FROM education.dropout_report r WHERE r.minor_id = c.minor_id)`,
    );
    const reported = await t.sql(`SELECT count(DISTINCT minor_id)::int AS n FROM education.dropout_report`);
    expect([rows, reported[0].n > 0]).toEqual([[], true]);
  });
});
