import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Department } from '../src/auth/principal';
import { chinaDay } from '../src/common/dates';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(600_000);

const { EDUCATION: ED, POLICE: PO, JUSTICE: JU, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;
const STREET = '330102001';
const OTHER_STREET = '330102002';
const daysAgo = (n: number) => chinaDay(new Date(Date.now() - n * 86_400_000));
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; rt48' };
/** Eight years and a month ago: before the birth of a child aged 7, by the birth date and by the age alike. */
const BEFORE_BIRTH = daysAgo(365 * 8 + 40);

interface Kind {
  dept: Department;
  type: string;
  table: string;
  create: string;
  update: string;
  day: string;
  input: Record<string, unknown>;
  /** Another field's new value, the date left as it is. */
  other: Record<string, unknown>;
}

/** Every department record with a date of its own and an update, as the schema lists them. */
const KINDS: Kind[] = [
  { dept: PO, type: 'PoliceIncident', table: 'police.incident', create: 'createPoliceIncident', update: 'updatePoliceIncident', day: 'occurredOn',
    input: { type: 'RUNAWAY', occurredOn: daysAgo(3), status: 'REPORTED', handlingUnit: '湖滨派出所', narrative: '离家出走' }, other: { status: 'CLOSED' } },
  { dept: PO, type: 'GuardianAdmonishment', table: 'police.guardian_admonishment', create: 'createGuardianAdmonishment', update: 'updateGuardianAdmonishment', day: 'admonishedOn',
    input: { guardian: 'FATHER', admonishedOn: daysAgo(3), issuingUnit: '清波派出所', reason: '酒后殴打子女' }, other: { reason: '酒后殴打子女, 已训诫' } },
  { dept: PO, type: 'IdentityVerification', table: 'police.identity_verification', create: 'createIdentityVerification', update: 'updateIdentityVerification', day: 'verifiedOn',
    input: { verifiedOn: daysAgo(3), result: 'MATCHED', householdStatus: 'REGISTERED', householdPlace: '浙江省杭州市上城区' }, other: { note: '复核' } },
  { dept: ED, type: 'SchoolEnrollment', table: 'education.school_enrollment', create: 'createSchoolEnrollment', update: 'updateSchoolEnrollment', day: 'enrolledOn',
    input: { school: '清波小学', grade: 1, status: 'ENROLLED', enrolledOn: daysAgo(3) }, other: { grade: 2 } },
  { dept: ED, type: 'DropoutReport', table: 'education.dropout_report', create: 'createDropoutReport', update: 'updateDropoutReport', day: 'reportedOn',
    input: { school: '开元小学', reportedOn: daysAgo(3), daysAbsent: 25 }, other: { daysAbsent: 26 } },
  { dept: ED, type: 'BullyingCase', table: 'education.bullying_case', create: 'createBullyingCase', update: 'updateBullyingCase', day: 'occurredOn',
    input: { school: '建兰小学', occurredOn: daysAgo(3), role: 'VICTIM', severity: 'GENERAL', status: 'OPEN', description: '被同学索要财物' }, other: { status: 'CLOSED' } },
  { dept: ED, type: 'EducationAid', table: 'education.education_aid', create: 'createEducationAid', update: 'updateEducationAid', day: 'grantedOn',
    input: { kind: 'LIVING_SUBSIDY', amountYuan: 1000, grantedOn: daysAgo(3), schoolYear: '2025-2026' }, other: { amountYuan: 1200 } },
  { dept: JU, type: 'LegalAidCase', table: 'justice.legal_aid_case', create: 'createLegalAidCase', update: 'updateLegalAidCase', day: 'openedOn',
    input: { openedOn: daysAgo(3), matter: 'CHILD_SUPPORT', status: 'OPEN', provider: '上城区法律援助中心', details: '追索抚养费' }, other: { details: '追索抚养费, 已立案' } },
  { dept: YL, type: 'PreventionCase', table: 'youth_league.prevention_case', create: 'createPreventionCase', update: 'updatePreventionCase', day: 'openedOn',
    input: { kind: 'SERIOUS_MISBEHAVIOUR', behaviour: 'GANG_FIGHTING', openedOn: daysAgo(3), status: 'OPEN', caseWorker: '社工 陈老师', measures: '每周谈心' }, other: { measures: '每周两次谈心' } },
  { dept: YL, type: 'IdleSupport', table: 'youth_league.idle_support', create: 'createIdleSupport', update: 'updateIdleSupport', day: 'startedOn',
    input: { kind: 'VOCATIONAL_TRAINING', startedOn: daysAgo(3), provider: '上城区职业高级中学', status: 'IN_PROGRESS', note: null }, other: { note: '按时参加' } },
  { dept: YL, type: 'VolunteerVisit', table: 'youth_league.volunteer_visit', create: 'createVolunteerVisit', update: 'updateVolunteerVisit', day: 'visitedOn',
    input: { visitedOn: daysAgo(3), volunteer: '青年志愿者-7号', notes: '陪伴学习' }, other: { notes: '陪伴学习, 辅导作业' } },
  { dept: WF, type: 'CarePlan', table: 'womens_federation.care_plan', create: 'createCarePlan', update: 'updateCarePlan', day: 'startedOn',
    input: { kind: 'LEFT_BEHIND', startedOn: daysAgo(3), status: 'ACTIVE', caregiver: '祖母', measures: '每月走访' }, other: { measures: '每两周走访' } },
  { dept: WF, type: 'FamilyEducationSession', table: 'womens_federation.family_education_session', create: 'createFamilyEducationSession', update: 'updateFamilyEducationSession', day: 'heldOn',
    input: { heldOn: daysAgo(3), topic: '亲子沟通', attendee: '母亲', instructor: '王老师', notes: null }, other: { notes: '母亲参加' } },
  { dept: WF, type: 'DomesticViolenceSupport', table: 'womens_federation.violence_support', create: 'createDomesticViolenceSupport', update: 'updateDomesticViolenceSupport', day: 'startedOn',
    input: { kind: 'COUNSELLING', startedOn: daysAgo(3), status: 'ACTIVE', notes: '心理疏导' }, other: { notes: '心理疏导, 每周一次' } },
  { dept: WF, type: 'ChildrenHomeAttendance', table: 'womens_federation.children_home_attendance', create: 'createChildrenHomeAttendance', update: 'updateChildrenHomeAttendance', day: 'attendedOn',
    input: { home: '清波儿童之家', attendedOn: daysAgo(3), activity: '绘本阅读' }, other: { activity: '绘本阅读, 手工' } },
];

/** A community correction is of no child under 12: created only, its date refused before the age is judged. */
const CORRECTION: Kind = { dept: JU, type: 'CommunityCorrection', table: 'justice.community_correction', create: 'createCommunityCorrection', update: 'updateCommunityCorrection', day: 'startedOn',
  input: { startedOn: daysAgo(3), endsOn: daysAgo(-300), status: 'ACTIVE', supervisingOffice: '清波司法所', notes: null }, other: {} };

const codes = (json: any) => (json.errors ?? []).map((e: any) => e.extensions?.code);

/**
 * Red team 48 (rt48a): round 46's department-record fixes — `requireBorn` (no record dated before
 * the child was born), `lockRecord`'s second look at the child's jurisdiction, and the identity
 * check's UNREGISTERED ⇒ NO_RECORD rule.
 */
describe('department records after round 46 (red team 48)', () => {
  let t: TestHub;
  /** A child of the street aged 7 today (born 7 to 8 years ago): BEFORE_BIRTH is before it was born. */
  let child: { id: string; birth: string };
  const tokens = new Map<Department, string>();
  const tok = async (d: Department) => {
    if (!tokens.has(d)) tokens.set(d, await t.token(d, { region: STREET }));
    return tokens.get(d)!;
  };
  const count = async (table: string, minorId: string) => (await t.sql(`SELECT count(*)::int AS n FROM ${table} WHERE minor_id = $1`, [minorId]))[0].n as number;
  const createQ = (k: Kind) => `mutation($m: ID!, $i: ${k.type}Input!) { ${k.create}(minorId: $m, input: $i) { id } }`;
  const updateQ = (k: Kind) => `mutation($id: ID!, $i: ${k.type}Input!) { ${k.update}(id: $id, input: $i) { id } }`;

  beforeAll(async () => {
    t = await startTestHub();
    [child] = await t.sql(
      `SELECT m.id, m.birth_date::text AS birth FROM registry.minor m
        WHERE m.grid_code LIKE $1 AND m.birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '7 years'
          AND m.birth_date > (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '8 years' + interval '2 days'
        ORDER BY m.id LIMIT 1`,
      [`${STREET}%`],
    );
    expect(child).toBeDefined();
    expect(child.birth > BEFORE_BIRTH).toBe(true);
  });
  afterAll(() => t?.stop());

  // Pin: every create of every department with a date of its own refuses it 8 years before a
  // 7-year-old's birth, naming the date's field, writing nothing; police (reads the birth date) records
  // the refusal as a read of Minor.birthDate, the others as a read of Minor.age and never of the birth
  // date, whose value the message does not state to them.
  it.each([...KINDS, CORRECTION].map((k) => [k.create, k] as const))('%s refuses a date before the child was born, naming the field, writing nothing, audited as the right read', async (_n, k) => {
    const before = await count(k.table, child.id);
    const r = await post(t, await tok(k.dept), { query: createQ(k), variables: { m: child.id, i: { ...k.input, [k.day]: BEFORE_BIRTH } } }, PURPOSE);
    const e = await eventOf(t, r.requestId);
    const read = Object.assign({}, ...e.reads.filter((x: any) => x.minorId === child.id).map((x: any) => x.fields));
    const police = k.dept === PO;
    expect({
      codes: codes(r.json),
      field: r.json.errors?.[0]?.extensions?.field,
      written: (await count(k.table, child.id)) - before,
      birthDateRead: read['Minor.birthDate'] ?? null,
      ageRead: police ? 'n/a' : read['Minor.age'] ?? null,
      statesBirth: JSON.stringify(r.json).includes(child.birth),
    }).toEqual({ codes: ['BAD_USER_INPUT'], field: k.day, written: 0, birthDateRead: police ? 'ALLOW' : null, ageRead: police ? 'n/a' : 'ALLOW', statesBirth: police });
  });

  // Pin: every update refuses a date moved before the birth (the row as it was), and takes a change of
  // another field of a record whose date is fine, naming only that field in the event.
  it.each(KINDS.map((k) => [k.update, k] as const))('%s refuses a date moved before the birth and takes a change of another field', async (_n, k) => {
    const token = await tok(k.dept);
    const made = await t.gql(token, createQ(k), { m: child.id, i: k.input }, PURPOSE);
    expect(made.errors).toBeUndefined();
    const id = made.data[k.create].id;
    const row = async () => (await t.sql(`SELECT row_to_json(r) AS row FROM ${k.table} r WHERE id = $1`, [id]))[0].row;
    const stored = await row();
    const moved = await post(t, token, { query: updateQ(k), variables: { id, i: { ...k.input, [k.day]: BEFORE_BIRTH } } }, PURPOSE);
    expect({ codes: codes(moved.json), field: moved.json.errors?.[0]?.extensions?.field, unchanged: (await row()) === null ? null : JSON.stringify(await row()) === JSON.stringify(stored) }).toEqual({
      codes: ['BAD_USER_INPUT'],
      field: k.day,
      unchanged: true,
    });
    const other = await post(t, token, { query: updateQ(k), variables: { id, i: { ...k.input, ...k.other } } }, PURPOSE);
    expect(other.json.errors).toBeUndefined();
    expect((await eventOf(t, other.requestId)).changes).toEqual([expect.objectContaining({ mutation: k.update, id, fields: ['id', ...Object.keys(k.other).map((f) => `input.${f}`)].sort() })]);
  });

  // Pin: the sub-records, which take no `day` of their own, are bounded through their parent: none
  // dated before the child was born gets in.
  it('refuses a care visit, a persuasion action and a follow-up dated before the child was born', async () => {
    const wf = await tok(WF);
    const ed = await tok(ED);
    const yl = await tok(YL);
    const plan = await t.gql(wf, createQ(KINDS.find((k) => k.type === 'CarePlan')!), { m: child.id, i: KINDS.find((k) => k.type === 'CarePlan')!.input }, PURPOSE);
    const report = await t.gql(ed, createQ(KINDS.find((k) => k.type === 'DropoutReport')!), { m: child.id, i: KINDS.find((k) => k.type === 'DropoutReport')!.input }, PURPOSE);
    const kase = await t.gql(yl, createQ(KINDS.find((k) => k.type === 'PreventionCase')!), { m: child.id, i: KINDS.find((k) => k.type === 'PreventionCase')!.input }, PURPOSE);
    expect([plan.errors, report.errors, kase.errors]).toEqual([undefined, undefined, undefined]);
    const v = await t.gql(wf, `mutation($p: ID!, $on: String!) { recordCareVisit(planId: $p, input: { visitedOn: $on, visitor: "v", notes: "n" }) { id } }`, { p: plan.data.createCarePlan.id, on: BEFORE_BIRTH }, PURPOSE);
    const a = await t.gql(ed, `mutation($p: ID!, $on: String!) { recordPersuasionAction(reportId: $p, input: { actedOn: $on, method: HOME_VISIT, actor: "班主任", note: "n" }) { id } }`, { p: report.data.createDropoutReport.id, on: BEFORE_BIRTH }, PURPOSE);
    const f = await t.gql(yl, `mutation($c: ID!, $on: String!) { recordMisbehaviourFollowUp(caseId: $c, input: { followedUpOn: $on, note: "n" }) { id } }`, { c: kase.data.createPreventionCase.id, on: BEFORE_BIRTH }, PURPOSE);
    expect([errorCodes(v), errorCodes(a), errorCodes(f)]).toEqual([['BAD_USER_INPUT'], ['BAD_USER_INPUT'], ['BAD_USER_INPUT']]);
  });

  // Pin: an officer of another street updating a record of this street's child, even with a date
  // before the birth (which would be refused if the record were found), is answered exactly as for
  // an unknown id: NOT_FOUND, same message, nothing of the child in the event.
  it('answers an out-of-jurisdiction record as an unknown id, whatever the date, and records nothing of the child', async () => {
    const po = await tok(PO);
    const k = KINDS[0];
    const made = await t.gql(po, createQ(k), { m: child.id, i: k.input }, PURPOSE);
    const id = made.data[k.create].id;
    const elsewhere = await t.token(PO, { region: OTHER_STREET });
    const strip = (json: any) => ({ data: json.data, errors: (json.errors ?? []).map((e: any) => ({ message: e.message, code: e.extensions?.code, field: e.extensions?.field ?? null })) });
    const known = await post(t, elsewhere, { query: updateQ(k), variables: { id, i: { ...k.input, [k.day]: BEFORE_BIRTH } } }, PURPOSE);
    const unknown = await post(t, elsewhere, { query: updateQ(k), variables: { id: randomUUID(), i: { ...k.input, [k.day]: BEFORE_BIRTH } } }, PURPOSE);
    expect(strip(known.json)).toEqual(strip(unknown.json));
    expect(codes(known.json)).toEqual(['NOT_FOUND']);
    const e = await eventOf(t, known.requestId);
    expect(JSON.stringify(e.reads)).not.toContain(child.id);
  });

  // Pin: lockRecord's second look at the child, on a sub-record's path: a care visit whose plan is
  // found while a move of the child out of the street is under way (the child's row locked, its grid
  // changed, not yet committed) waits for the move, then answers NOT_FOUND, writing nothing and
  // recording nothing of the plan as changed.
  it('refuses a care visit that waited on a move of the child out of the street, as NOT_FOUND, writing nothing', async () => {
    const wf = await tok(WF);
    const k = KINDS.find((x) => x.type === 'CarePlan')!;
    const [mover] = await t.sql(
      `SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE $1 AND registry.is_minor(m.birth_date, now()) AND m.id <> $2 ORDER BY m.id DESC OFFSET 3 LIMIT 1`,
      [`${STREET}%`, child.id],
    );
    const [{ code: elsewhere }] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE '${OTHER_STREET}%' ORDER BY code LIMIT 1`);
    const plan = await t.gql(wf, createQ(k), { m: mover.id, i: k.input }, PURPOSE);
    expect(plan.errors).toBeUndefined();
    const planId = plan.data.createCarePlan.id;
    const visits = async () => (await t.sql(`SELECT count(*)::int AS n FROM womens_federation.care_visit WHERE plan_id = $1`, [planId]))[0].n as number;
    const other = new Client({ connectionString: t.databaseUrl });
    await other.connect();
    let visit: Promise<{ status: number; requestId: string; json: any }> | undefined;
    try {
      await other.query('BEGIN');
      await other.query(`SELECT 1 FROM registry.minor WHERE id = $1 FOR UPDATE`, [mover.id]);
      await other.query(`UPDATE registry.minor SET grid_code = $2 WHERE id = $1`, [mover.id, elsewhere]);
      visit = post(t, wf, { query: `mutation($p: ID!, $on: String!) { recordCareVisit(planId: $p, input: { visitedOn: $on, visitor: "v", notes: "n" }) { id } }`, variables: { p: planId, on: daysAgo(1) } }, PURPOSE);
      for (let tries = 0; ; tries++) {
        const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%minor_jurisdiction%'`);
        if (n > 0) break;
        if (tries > 2000) throw new Error('the visit never waited on the child');
        await new Promise((r) => setTimeout(r, 10));
      }
      await other.query('COMMIT');
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
      await other.end();
    }
    const r = await visit!;
    const e = await eventOf(t, r.requestId);
    expect({ codes: codes(r.json), visits: await visits(), changes: e.changes }).toEqual({ codes: ['NOT_FOUND'], visits: 0, changes: [] });
  });

  // Pin: no record the hub holds (the seed's included) is dated before its child's birth — an update of
  // such a record resending its date (to close an incident, say) would now be refused.
  it('holds no department record dated before its child was born', async () => {
    const own: [string, string][] = [
      ['police.incident', 'occurred_on'], ['police.guardian_admonishment', 'admonished_on'], ['police.identity_verification', 'verified_on'],
      ['education.school_enrollment', 'enrolled_on'], ['education.dropout_report', 'reported_on'], ['education.persuasion_action', 'acted_on'],
      ['education.bullying_case', 'occurred_on'], ['education.education_aid', 'granted_on'], ['justice.community_correction', 'started_on'],
      ['justice.legal_aid_case', 'opened_on'], ['youth_league.prevention_case', 'opened_on'], ['youth_league.follow_up', 'followed_up_on'],
      ['youth_league.idle_support', 'started_on'], ['youth_league.volunteer_visit', 'visited_on'], ['womens_federation.care_plan', 'started_on'],
      ['womens_federation.care_visit', 'visited_on'], ['womens_federation.family_education_session', 'held_on'],
      ['womens_federation.violence_support', 'started_on'], ['womens_federation.children_home_attendance', 'attended_on'],
    ];
    const early: Record<string, number> = {};
    for (const [table, column] of own) {
      const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM ${table} r JOIN registry.minor m ON m.id = r.minor_id WHERE r.${column} < m.birth_date`);
      if (n) early[table] = n;
    }
    expect(early).toEqual({});
  });

  // Pin: a date after today in China is refused, for police (exact) and for a department judging by the age.
  it('refuses a record dated tomorrow in China', async () => {
    const tomorrow = daysAgo(-1);
    const r = await Promise.all(
      [KINDS[0], KINDS.find((k) => k.type === 'CarePlan')!].map(async (k) => errorCodes(await t.gql(await tok(k.dept), createQ(k), { m: child.id, i: { ...k.input, [k.day]: tomorrow } }, PURPOSE))),
    );
    expect(r).toEqual([['BAD_USER_INPUT'], ['BAD_USER_INPUT']]);
  });

  // Found by red team 48: an education aid's `schoolYear` — the school year the aid pays for — escaped
  // the birth bound round 46 gave every record's own date. validEducationAid
  // (education.validation.ts) bounded it by the eldest registered child (from 18 years
  // ago), the bound requireChildhoodDate gave dates before round 46, and createEducationAid /
  // updateEducationAid passed only `grantedOn` to requireBorn: a
  // living subsidy for the 2016-2017 school year, granted today, was stored for a 7-year-old born
  // after it ended. By the age alone (as requireOldEnough judges, telling no more than Minor.age),
  // a school year that ended more than age + 1 years ago predates the child.
  it('refuses an education aid for a school year that ended before the child was born (create and update)', async () => {
    const ed = await tok(ED);
    const k = KINDS.find((x) => x.type === 'EducationAid')!;
    const year = Number(daysAgo(0).slice(0, 4));
    const past = `${year - 10}-${year - 9}`;
    const before = await count(k.table, child.id);
    const c = await t.gql(ed, createQ(k), { m: child.id, i: { ...k.input, schoolYear: past } }, PURPOSE);
    const written = (await count(k.table, child.id)) - before;
    const made = await t.gql(ed, createQ(k), { m: child.id, i: k.input }, PURPOSE);
    expect(made.errors).toBeUndefined();
    const id = made.data[k.create].id;
    const u = await t.gql(ed, updateQ(k), { id, i: { ...k.input, schoolYear: past } }, PURPOSE);
    const [row] = await t.sql(`SELECT school_year FROM education.education_aid WHERE id = $1`, [id]);
    expect({ create: errorCodes(c), written, update: errorCodes(u), stored: row.school_year }).toEqual({ create: ['BAD_USER_INPUT'], written: 0, update: ['BAD_USER_INPUT'], stored: k.input.schoolYear });
  });

  // Found by red team 48: README side channel (9) rests on "UNREGISTERED comes with NO_RECORD and no
  // other status does" — NO_RECORD and UNREGISTERED go together, both ways. Round 46 made
  // validVerification (police.validation.ts) refuse UNREGISTERED without NO_RECORD, but not the
  // other way: a REGISTERED or MOVED_OUT child with a place of registration, yet "no record" in the
  // population register, was stored — a check that found nothing cannot say where the 户口 is. Schools
  // and the women's federation then read a status the result contradicted.
  it('refuses a verification that finds no record yet gives a registered (or moved-out) household with its place', async () => {
    const po = await tok(PO);
    const before = await count('police.identity_verification', child.id);
    const q = `mutation($m: ID!, $i: IdentityVerificationInput!) { createIdentityVerification(minorId: $m, input: $i) { id } }`;
    const a = await t.gql(po, q, { m: child.id, i: { verifiedOn: daysAgo(1), result: 'NO_RECORD', householdStatus: 'REGISTERED', householdPlace: '浙江省杭州市上城区' } }, PURPOSE);
    const b = await t.gql(po, q, { m: child.id, i: { verifiedOn: daysAgo(1), result: 'NO_RECORD', householdStatus: 'MOVED_OUT', householdPlace: '浙江省杭州市上城区' } }, PURPOSE);
    expect({ a: errorCodes(a), b: errorCodes(b), written: (await count('police.identity_verification', child.id)) - before }).toEqual({ a: ['BAD_USER_INPUT'], b: ['BAD_USER_INPUT'], written: 0 });
  });

  // Pin: the rule on update too — a verification of an unregistered child cannot be turned MATCHED.
  it('refuses an update of an unregistered child’s verification to MATCHED, the row as it was', async () => {
    const po = await tok(PO);
    const q = `mutation($m: ID!, $i: IdentityVerificationInput!) { createIdentityVerification(minorId: $m, input: $i) { id } }`;
    const made = await t.gql(po, q, { m: child.id, i: { verifiedOn: daysAgo(1), result: 'NO_RECORD', householdStatus: 'UNREGISTERED' } }, PURPOSE);
    expect(made.errors).toBeUndefined();
    const id = made.data.createIdentityVerification.id;
    const u = await t.gql(po, `mutation($id: ID!, $i: IdentityVerificationInput!) { updateIdentityVerification(id: $id, input: $i) { id } }`, { id, i: { verifiedOn: daysAgo(1), result: 'MATCHED', householdStatus: 'UNREGISTERED' } }, PURPOSE);
    const [row] = await t.sql(`SELECT result FROM police.identity_verification WHERE id = $1`, [id]);
    expect({ codes: errorCodes(u), result: row.result }).toEqual({ codes: ['BAD_USER_INPUT'], result: 'NO_RECORD' });
  });
});
