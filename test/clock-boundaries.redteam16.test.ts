import { Department, POLICY_SUBJECTS, PolicySubject, Role } from '../src/auth/principal';
import { Access } from '../src/policy/policy.types';
import { buildPolicy } from '../src/server/bootstrap';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { refreshStatistics } from '../src/subgraphs/statistics/statistics.refresh';
import { callIds, FullType, Fuzzer, INTROSPECTION, selectionOf, SUBJECT_TOKENS, SWEEP_ENV, typeText } from './support/schema-calls';
import { chinaDay, yearsBefore } from '../src/common/dates';
import { buildIdNumber } from '../src/common/id-number';
import { randomBytes } from 'node:crypto';
import type { HubConfig } from '../src/config/hub.config';
import { startSubgraphServer, SubgraphServer } from '../src/server/subgraph.server';
import { SUBGRAPHS } from '../src/subgraphs';
import { post, storedEventOf } from './support/audit-helpers';
import { cloneTemplateDatabase, errorCodes, GqlResult, startTestHub, statementsDuring, TestHub, testConfig } from './support/test-hub';

jest.setTimeout(300_000);

const DAY = 86_400_000;
const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + DAY).toISOString().slice(0, 10);

/** Sets the hub's clock so that a request sent now is served at `iso` (plus the few ms it takes to arrive). */
const clockAt = (t: TestHub, iso: string) => {
  t.config.workflow.clockOffsetMs = Date.parse(iso) - Date.now();
};

const CREATE = `mutation($input: CreateMinorInput!) { createMinor(input: $input) { id birthDate age } }`;
const minorInput = (idNumber: string, grid: string, extra: Record<string, unknown> = {}) => ({
  name: '王小雨',
  idNumber,
  householdRegistration: '浙江省杭州市上城区',
  currentAddress: '浙江省杭州市上城区1号',
  gridCode: grid,
  ...extra,
});

/** A copy of a registered child with another birth date and ID number, written straight to the table. */
async function twin(t: TestHub, of: string, birthDate: string, seq: number): Promise<{ id: string; idNumber: string }> {
  const idNumber = buildIdNumber('330102', birthDate, seq);
  const [{ id }] = await t.sql(
    `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code, created_at, updated_at)
     SELECT gen_random_uuid(), name, gender, $2::date, $3, household_registration, current_address, grid_code, '2007-01-01T00:00:00Z', '2007-01-01T00:00:00Z' FROM registry.minor WHERE id = $1 RETURNING id`,
    [of, birthDate, idNumber],
  );
  return { id, idNumber };
}

/**
 * Born 29 February 2008: 17 through 28 February 2026 in China, 18 from 00:00 on 1 March in China,
 * which is 16:00 UTC on 28 February. Every registry and workflow read path must turn at that
 * instant, not at the UTC midnight eight hours later, and not a day late (29 Feb -> 1 Mar).
 */
describe('a child born 29 February turning 18 at the midnight in China (hub clock shifted) (redteam16)', () => {
  let t: TestHub;
  let grid: string;
  let civil: string;
  let police: string;
  let leap: { id: string; idNumber: string };
  let guardianId: string;
  let referralId: string;
  let reportId: string;
  const BEFORE = '2026-02-28T15:59:59.000Z'; // 23:59:59 on 28 Feb in China
  const AT = '2026-02-28T16:00:00.000Z'; // 00:00 on 1 Mar in China
  const UTC_MIDNIGHT_BEFORE = '2026-02-28T23:59:59.000Z'; // still 28 Feb in UTC, 1 Mar 07:59 in China

  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(Department.CIVIL_AFFAIRS);
    police = await t.token(Department.POLICE);
    const [{ id: existing, grid_code }] = await t.sql(`SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
    grid = grid_code;
    leap = await twin(t, existing, '2008-02-29', 811);
    // Written while still 17 (an hour before the midnight in China).
    clockAt(t, '2026-02-28T15:00:00.000Z');
    const a = await t.gql(civil, `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: RED, reasons: "立即处置", assessedAt: "2026-02-28T14:00:00Z" }) { id nextVisitDue } }`, { id: leap.id });
    expect(a.errors).toBeUndefined();
    const g = await t.gql(civil, `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: MOTHER, name: "李梅", situation: NORMAL }) { id } }`, { id: leap.id });
    expect(g.errors).toBeUndefined();
    guardianId = g.data.addGuardian.id;
    clockAt(t, '2026-02-28T15:00:00.000Z');
    const r = await t.gql(civil, `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, { i: { minorId: leap.id, type: fuzzType, toDepartment: 'EDUCATION', need: '需要教育救助' } });
    expect(r.errors).toBeUndefined();
    referralId = r.data.createReferral.id;
    const reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER });
    clockAt(t, '2026-02-28T15:00:00.000Z');
    const f = await t.gql(reporter, `mutation($i: FileReportInput!) { fileMandatoryReport(input: $i) { id } }`, { i: { harmType: 'NEGLECT', observation: '观察到', location: '学校', regionCode: grid, urgency: 'NORMAL', childId: leap.id } });
    expect(f.errors).toBeUndefined();
    reportId = f.data.fileMandatoryReport.id;
  });
  afterAll(async () => {
    t.config.workflow.clockOffsetMs = 0;
    await t.stop();
  });
  const fuzzType = 'EDUCATION_AID';

  const readAll = async () => {
    const minor = await t.gql(civil, `query($id: ID!) { minor(id: $id) { id age } }`, { id: leap.id });
    const byNumber = await t.gql(civil, `query($n: String!) { minorByIdNumber(idNumber: $n) { id age } }`, { n: leap.idNumber });
    const list = async (f: Record<string, unknown>) => {
      const r = await t.gql(civil, `query($f: MinorFilter) { minors(filter: $f, first: 500) { totalCount edges { node { id } } } }`, { f: { regionCode: grid, ...f } });
      expect(r.errors).toBeUndefined();
      return { total: r.data.minors.totalCount as number, listed: (r.data.minors.edges as { node: { id: string } }[]).some((e) => e.node.id === leap.id) };
    };
    const overdue = await t.gql(civil, `{ overdueVisits(first: 500) { minor { id } } }`);
    const referral = await t.gql(civil, `query($id: ID!) { referral(id: $id) { id minor { id } } }`, { id: referralId });
    const report = await t.gql(civil, `query($id: ID!) { mandatoryReport(id: $id) { id minor { id } } }`, { id: reportId });
    const byPolice = await t.gql(police, `query($id: ID!) { minor(id: $id) { id age } }`, { id: leap.id });
    return {
      errors: [minor, byNumber, overdue, referral, report, byPolice].flatMap((r) => r.errors ?? []),
      minor: minor.data?.minor,
      byNumber: byNumber.data?.minorByIdNumber,
      byPolice: byPolice.data?.minor,
      all: await list({}),
      seventeen: await list({ ageMin: 17, ageMax: 17 }),
      upTo17: await list({ ageMax: 17 }),
      overdue: ((overdue.data?.overdueVisits ?? []) as { minor: { id: string } | null }[]).some((v) => v.minor?.id === leap.id),
      referralChild: referral.data?.referral?.minor?.id ?? null,
      reportChild: report.data?.mandatoryReport?.minor?.id ?? null,
    };
  };

  it('at 23:59:59 on 28 February in China the child is 17 on every read path', async () => {
    clockAt(t, BEFORE);
    const r = await readAll();
    expect(r.errors).toEqual([]);
    expect(r.minor).toEqual({ id: leap.id, age: 17 });
    expect(r.byNumber).toEqual({ id: leap.id, age: 17 });
    expect(r.byPolice).toEqual({ id: leap.id, age: 17 });
    expect(r.all.listed).toBe(true);
    expect(r.seventeen.listed).toBe(true);
    expect(r.upTo17.listed).toBe(true);
    expect(r.overdue).toBe(true);
  });

  it('at 23:59:59 on 28 February in China a referral and a report about the child name the child, as the registry still serves it (README: the workflow reads a report\'s or referral\'s child at the request\'s clock)', async () => {
    // In one request: a referral made about the child (accepted: the child is 17 at the request's clock) names the child it was made about.
    clockAt(t, BEFORE);
    const made = await t.gql(civil, `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id minor { id } } }`, { i: { minorId: leap.id, type: 'MEDICAL_AID', toDepartment: 'EDUCATION', need: '需要医疗救助' } });
    expect(made.errors).toBeUndefined();
    expect(made.data.createReferral.minor).toEqual({ id: leap.id });
    clockAt(t, BEFORE);
    const r = await readAll();
    expect(r.minor).toEqual({ id: leap.id, age: 17 });
    expect(r.referralChild).toBe(leap.id);
    expect(r.reportChild).toBe(leap.id);
  });

  it('at 00:00 on 1 March in China (16:00 UTC on 28 February) the child is gone from every read path and every count', async () => {
    clockAt(t, BEFORE);
    const before = await readAll();
    clockAt(t, AT);
    const r = await readAll();
    expect(r.errors).toEqual([]);
    expect(r.minor).toBeNull();
    expect(r.byNumber).toBeNull();
    expect(r.byPolice).toBeNull();
    expect(r.all).toEqual({ total: before.all.total - 1, listed: false });
    expect(r.seventeen).toEqual({ total: before.seventeen.total - 1, listed: false });
    expect(r.upTo17).toEqual({ total: before.upTo17.total - 1, listed: false });
    expect(r.overdue).toBe(false);
    expect(r.referralChild).toBeNull();
    expect(r.reportChild).toBeNull();
    // And still gone at the UTC day's last second (07:59:59 on 1 March in China).
    clockAt(t, UTC_MIDNIGHT_BEFORE);
    const later = await readAll();
    expect([later.minor, later.byNumber, later.all.listed, later.seventeen.listed, later.overdue]).toEqual([null, null, false, false, false]);
  });

  it('at 00:00 on 1 March in China every registry write about the child answers NOT_FOUND and writes nothing', async () => {
    const count = async () =>
      (
        await t.sql(
          `SELECT (SELECT count(*) FROM registry.risk_assessment WHERE minor_id = $1)::int + (SELECT count(*) FROM registry.visit WHERE minor_id = $1)::int
             + (SELECT count(*) FROM registry.guardian WHERE minor_id = $1)::int + (SELECT count(*) FROM registry.minor_category WHERE minor_id = $1)::int
             + (SELECT count(*) FROM workflow.referral WHERE minor_id = $1)::int AS n, (SELECT updated_at::text FROM registry.minor WHERE id = $1) AS u`,
          [leap.id],
        )
      )[0];
    const before = await count();
    const writes: [string, string, Record<string, unknown>][] = [
      ['updateMinor', `mutation($id: ID!) { updateMinor(id: $id, input: { name: "王小雪" }) { id } }`, { id: leap.id }],
      ['addGuardian', `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: FATHER, name: "王强", situation: NORMAL }) { id } }`, { id: leap.id }],
      ['removeGuardian', `mutation($id: ID!) { removeGuardian(guardianId: $id) }`, { id: guardianId }],
      ['addCategory', `mutation($id: ID!) { addCategory(minorId: $id, category: POVERTY) { id } }`, { id: leap.id }],
      ['recordAssessment', `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: BLUE, reasons: "随访" }) { id } }`, { id: leap.id }],
      ['recordVisit', `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "入户走访" }) { id } }`, { id: leap.id }],
      ['createReferral', `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, { i: { minorId: leap.id, type: fuzzType, toDepartment: 'EDUCATION', need: '需要' } }],
    ];
    const got: [string, unknown][] = [];
    for (const [name, q, v] of writes) {
      clockAt(t, AT);
      const r = await t.gql(civil, q, v);
      got.push([name, errorCodes(r)]);
    }
    expect(got).toEqual(writes.map(([name]) => [name, ['NOT_FOUND']]));
    expect(await count()).toEqual(before);
  });

  it('to the millisecond: 17 at 15:59:59.999 UTC, gone at 16:00:00.000 UTC (the hub clock held there)', async () => {
    const frozen = async (iso: string) => {
      const real = Date.now();
      const spy = jest.spyOn(Date, 'now').mockReturnValue(real);
      try {
        t.config.workflow.clockOffsetMs = Date.parse(iso) - real;
        const r = await t.gql(civil, `query($id: ID!, $n: String!, $f: MinorFilter) { minor(id: $id) { age } minorByIdNumber(idNumber: $n) { age } minors(filter: $f, first: 500) { edges { node { id } } } overdueVisits(first: 500) { minor { id } } }`, { id: leap.id, n: leap.idNumber, f: { regionCode: grid, ageMax: 17 } });
        expect(r.errors).toBeUndefined();
        return [r.data.minor?.age ?? null, r.data.minorByIdNumber?.age ?? null, r.data.minors.edges.some((e: { node: { id: string } }) => e.node.id === leap.id), r.data.overdueVisits.some((v: { minor: { id: string } | null }) => v.minor?.id === leap.id)];
      } finally {
        spy.mockRestore();
      }
    };
    expect(await frozen('2026-02-28T15:59:59.999Z')).toEqual([17, 17, true, true]);
    expect(await frozen('2026-02-28T16:00:00.000Z')).toEqual([null, null, false, false]);
    // The compiled read (one child by id, scalar fields) turns at the same millisecond.
    const compiled = async (iso: string) => {
      const real = Date.now();
      const spy = jest.spyOn(Date, 'now').mockReturnValue(real);
      try {
        t.config.workflow.clockOffsetMs = Date.parse(iso) - real;
        const r = await t.gql(civil, `query Child($id: ID!) { minor(id: $id) { id age } }`, { id: leap.id });
        expect(r.errors).toBeUndefined();
        return r.data.minor;
      } finally {
        spy.mockRestore();
      }
    };
    const served = t.hub.compiledReadsServed() ?? 0;
    expect(await compiled('2026-02-28T15:59:59.999Z')).toEqual({ id: leap.id, age: 17 });
    expect(t.hub.compiledReadsServed()).toBe(served + 1);
    expect(await compiled('2026-02-28T16:00:00.000Z')).toBeNull();
  });

  it('the escalation job at 00:00 on 1 March in China tells no one the child is overdue; at 23:59:59.999 it tells civil affairs, naming the child', async () => {
    await runEscalations(t.hub.db.ds, t.config, buildPolicy(), new Date(AT));
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE kind = 'VISIT_OVERDUE' AND minor_id = $1`, [leap.id]))[0].n).toBe(0);
    const [{ n: told0 }] = await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE kind = 'VISIT_OVERDUE'`);
    await runEscalations(t.hub.db.ds, t.config, buildPolicy(), new Date('2026-02-28T15:59:59.999Z'));
    const [{ n: told1 }] = await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE kind = 'VISIT_OVERDUE'`);
    // Told (the child is 17 at the job's instant), and the notice names the child it is about.
    expect(told1).toBeGreaterThan(told0);
    const named = await t.sql(`SELECT minor_id, dedupe_key FROM workflow.notification WHERE kind = 'VISIT_OVERDUE' AND dedupe_key LIKE '%' || $1 || '%'`, [leap.id]);
    expect(named.length).toBeGreaterThan(0);
    expect(named.map((r: { minor_id: string | null }) => r.minor_id)).toEqual(named.map(() => leap.id));
  });

  it('createMinor takes a child born 29 February 2008 at 23:59:59 on 28 February in China and refuses one at 00:00 on 1 March', async () => {
    const n1 = buildIdNumber('330102', '2008-02-29', 821);
    const n2 = buildIdNumber('330102', '2008-02-29', 823);
    clockAt(t, AT);
    const adult = await t.gql(civil, CREATE, { input: minorInput(n1, grid) });
    expect(errorCodes(adult)).toEqual(['BAD_USER_INPUT']);
    expect(adult.errors![0].message).toMatch(/adult/);
    clockAt(t, BEFORE);
    const child = await t.gql(civil, CREATE, { input: minorInput(n2, grid) });
    expect(child.errors).toBeUndefined();
    expect(child.data.createMinor.age).toBe(17);
    expect(await t.sql(`SELECT count(*)::int AS n FROM registry.minor WHERE id_number = $1`, [n1])).toEqual([{ n: 0 }]);
  });

  it('minor { age } turns at 16:00 UTC on the birthday, not at the UTC midnight', async () => {
    const [{ id: existing }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code = $1 ORDER BY id LIMIT 1`, [grid]);
    const kid = await twin(t, existing, '2014-03-01', 831);
    const ageAt = async (iso: string) => {
      clockAt(t, iso);
      const r = await t.gql(civil, `query($id: ID!) { minor(id: $id) { age } }`, { id: kid.id });
      expect(r.errors).toBeUndefined();
      return r.data.minor.age;
    };
    expect(await ageAt('2026-02-28T15:59:59.000Z')).toBe(11);
    expect(await ageAt('2026-02-28T16:00:00.000Z')).toBe(12);
    expect(await ageAt('2026-02-28T23:59:59.000Z')).toBe(12);
  });
});

/**
 * A child whose 18th birthday is today in China, by the real clock (the departments' view counts by the
 * database's now(), which HUB_CLOCK_OFFSET_MS does not shift): every record of every department about
 * them leaves every list and count, every write about them or their records answers NOT_FOUND, and a
 * workflow record naming them names no child (README "Ageing out").
 */
describe('children whose 18th birthday is today in China, every department and every write (redteam16)', () => {
  let t: TestHub;
  let schema: { queryType: { name: string }; mutationType: { name: string }; types: FullType[] };
  let ids: Record<string, string>;
  let aged: string[];
  const tokens = new Map<PolicySubject, string>();
  const policy = buildPolicy();
  const send = (subject: PolicySubject, query: string, variables: Record<string, unknown> = {}) => t.gql(tokens.get(subject)!, query, variables);
  const made = async (subject: PolicySubject, query: string, variables: Record<string, unknown>) => {
    const a = await send(subject, query, variables);
    expect(a.errors).toBeUndefined();
    return Object.values(a.data!)[0] as { id: string };
  };
  const MINOR_TABLES = [
    'education.school_enrollment', 'education.dropout_report', 'education.bullying_case', 'education.education_aid',
    'justice.incarcerated_parent', 'justice.community_correction', 'justice.legal_aid_case',
    'police.incident', 'police.guardian_admonishment', 'police.identity_verification',
    'registry.guardian', 'womens_federation.care_plan', 'womens_federation.family_education_session', 'womens_federation.violence_support', 'womens_federation.children_home_attendance',
    'youth_league.prevention_case', 'youth_league.idle_support', 'youth_league.volunteer_visit',
    'workflow.mandatory_report', 'workflow.referral', 'workflow.notification',
  ];

  beforeAll(async () => {
    t = await startTestHub({ env: SWEEP_ENV });
    for (const [subject, department, role] of SUBJECT_TOKENS) tokens.set(subject, await t.token(department, { role, user: `age-${String(subject).toLowerCase()}` }));
    const intro = await send(POLICY_SUBJECTS[0], INTROSPECTION);
    expect(intro.errors).toBeUndefined();
    schema = intro.data.__schema;
    const enums = new Map(schema.types.map((ty) => [ty.name, (ty.enumValues ?? []).map((v) => v.name)]));
    ids = await callIds(t, made, (name) => enums.get(name)![0]);
    // The children of every record the calls name, and the first child: 18 today in China.
    const children = new Set<string>([ids.minor]);
    for (const table of MINOR_TABLES) {
      const [schemaName, tableName] = table.split('.');
      const recordIds = Object.values(ids);
      const rows = await t.sql(`SELECT DISTINCT minor_id FROM "${schemaName}"."${tableName}" WHERE id::text = ANY($1) AND minor_id IS NOT NULL`, [recordIds]);
      for (const r of rows) children.add(r.minor_id);
    }
    for (const [table, parent, key] of [['education.persuasion_action', 'education.dropout_report', 'report_id'], ['womens_federation.care_visit', 'womens_federation.care_plan', 'plan_id'], ['youth_league.follow_up', 'youth_league.prevention_case', 'case_id']]) {
      void table;
      const rows = await t.sql(`SELECT minor_id FROM ${parent} WHERE id::text = ANY($1)`, [Object.values(ids)]);
      for (const r of rows) children.add(r.minor_id);
      void key;
    }
    aged = [...children];
    const eighteenToday = yearsBefore(new Date(), 18);
    let seq = 901;
    for (const id of aged) {
      await t.sql(`UPDATE registry.minor SET birth_date = $2::date, id_number = $3 WHERE id = $1`, [id, eighteenToday, buildIdNumber('330102', eighteenToday, seq)]);
      seq += 2;
    }
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('the children aged out are many, and the registry serves none of them', async () => {
    expect(aged.length).toBeGreaterThan(3);
    for (const id of aged) {
      const r = await send(Department.CIVIL_AFFAIRS, `query($id: ID!) { minor(id: $id) { id } }`, { id });
      expect([id, r.errors, r.data.minor]).toEqual([id, undefined, null]);
    }
    expect(await t.sql(`SELECT count(*)::int AS n FROM registry.minor_jurisdiction WHERE minor_id = ANY($1)`, [aged])).toEqual([{ n: 0 }]);
  });

  it('the statistics, refreshed, count none of the children aged out (under 18 on the refresh day)', async () => {
    await refreshStatistics(t.hub.db.ds);
    const r = await send(Department.CIVIL_AFFAIRS, `{ minorCounts(level: DISTRICT) { total { value } } }`);
    expect(r.errors).toBeUndefined();
    const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM registry.minor WHERE registry.is_minor(birth_date, now())`);
    const [{ all }] = await t.sql(`SELECT count(*)::int AS all FROM registry.minor`);
    expect(all).toBeGreaterThan(n);
    expect(r.data.minorCounts.total.value).toBe(n);
  });

  it('no workflow list names a child aged out, to any department', async () => {
    const queries = [
      `{ referrals(first: 500) { id minor { id } } }`,
      `{ mandatoryReports(first: 500) { id minor { id } transitions { id } } }`,
      `{ notifications(first: 500) { id minor { id } } }`,
      `{ overdueVisits(first: 500) { minor { id } } }`,
      `{ overdueReports(first: 500) { id minor { id } } }`,
      `{ minors(first: 500, filter: { ageMin: 17 }) { totalCount edges { node { id } } } }`,
    ];
    const leaks: string[] = [];
    let answered = 0;
    for (const [subject] of SUBJECT_TOKENS) {
      for (const q of queries) {
        const r = await send(subject, q);
        const text = JSON.stringify(r.data ?? {});
        if (r.data && Object.values(r.data).some((v) => v != null)) answered++;
        for (const id of aged) if (text.includes(id)) leaks.push(`${String(subject)} ${q}: names ${id}`);
        if ((r.errors ?? []).some((e) => !['FORBIDDEN', 'NOT_FOUND'].includes(e.extensions?.code))) leaks.push(`${String(subject)} ${q}: ${JSON.stringify(r.errors)}`);
      }
    }
    expect(leaks).toEqual([]);
    expect(answered).toBeGreaterThan(10);
    // The records are still there, naming them (nothing is deleted).
    const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM workflow.referral WHERE minor_id = ANY($1)`, [aged]);
    expect(n).toBeGreaterThan(0);
  });

  it('the escalation job tells no one of a child aged out: no overdue visit, no reassessment (the mark cleared all the same)', async () => {
    // One aged-out child RED and long overdue, and a handled report about another awaiting its reassessment request.
    await t.sql(`UPDATE registry.minor SET risk_level = 'RED', next_visit_due = now() - interval '30 days' WHERE id = $1`, [aged[0]]);
    const reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER });
    const f = await t.gql(reporter, `mutation($i: FileReportInput!) { fileMandatoryReport(input: $i) { id } }`, { i: { harmType: 'NEGLECT', observation: '观察到', location: '学校', regionCode: ids.grid, urgency: 'NORMAL' } });
    expect(f.errors).toBeUndefined();
    const reportId = f.data.fileMandatoryReport.id;
    await t.sql(`UPDATE workflow.mandatory_report SET minor_id = $2, status = 'HANDLED', reassessment_due = true WHERE id = $1`, [reportId, aged[1]]);
    const [{ since }] = await t.sql(`SELECT now() AS since`);
    await runEscalations(t.hub.db.ds, t.config, buildPolicy(), new Date());
    const told = await t.sql(`SELECT kind, minor_id FROM workflow.notification WHERE created_at >= $1 AND kind IN ('VISIT_OVERDUE', 'REASSESSMENT_REQUESTED') AND minor_id = ANY($2)`, [since, aged]);
    expect(told).toEqual([]);
    // The job ran: the children still under 18 and overdue were told.
    expect((await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE created_at >= $1 AND kind = 'VISIT_OVERDUE'`, [since]))[0].n).toBeGreaterThan(0);
    expect(await t.sql(`SELECT reassessment_due FROM workflow.mandatory_report WHERE id = $1`, [reportId])).toEqual([{ reassessment_due: false }]);
  });

  it('a CHILD_RED notification told while the child was 17 shows none of the child once the child turns 18', async () => {
    const eighteenToday = yearsBefore(new Date(), 18);
    const birth = nextDay(eighteenToday);
    const c = await send(Department.CIVIL_AFFAIRS, CREATE, { input: minorInput(buildIdNumber('330102', birth, 991), ids.grid) });
    expect(c.errors).toBeUndefined();
    const id = c.data.createMinor.id;
    const a = await send(Department.CIVIL_AFFAIRS, `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: RED, reasons: "家暴线索，立即处置" }) { id } }`, { id });
    expect(a.errors).toBeUndefined();
    const inbox = async () => {
      const r = await send(Department.POLICE, `{ notifications(first: 500) { id kind minor { id } payload { field value } } }`);
      expect(r.errors).toBeUndefined();
      const [{ nid }] = await t.sql(`SELECT id AS nid FROM workflow.notification WHERE minor_id = $1 AND kind = 'CHILD_RED' AND department = 'POLICE'`, [id]);
      return r.data.notifications.find((n: { id: string }) => n.id === nid);
    };
    const told = await inbox();
    expect(told.minor).toEqual({ id });
    expect(told.payload.some((f: { field: string }) => f.field.startsWith('Minor.'))).toBe(true);
    await t.sql(`UPDATE registry.minor SET birth_date = $2::date, id_number = $3 WHERE id = $1`, [id, eighteenToday, buildIdNumber('330102', eighteenToday, 993)]);
    const later = await inbox();
    expect(later.minor).toBeNull();
    expect(later.payload.filter((f: { field: string }) => !/^(MandatoryReport|ReportTransition|Referral|Notification)\./.test(f.field))).toEqual([]);
    expect(JSON.stringify(later)).not.toContain('家暴线索');
  });

  it('an overdueVisits cursor naming a child aged out (RED, long overdue) is refused as an unknown id is', async () => {
    await t.sql(`UPDATE registry.minor SET risk_level = 'RED', next_visit_due = now() - interval '30 days' WHERE id = $1`, [aged[2]]);
    const page = async (after: string) => {
      const r = await send(Department.CIVIL_AFFAIRS, `query($a: ID) { overdueVisits(first: 5, after: $a) { minor { id } } }`, { a: after });
      return { data: r.data?.overdueVisits ?? null, errors: (r.errors ?? []).map((e) => ({ message: e.message, code: e.extensions?.code, field: e.extensions?.field })) };
    };
    const unknown = await page('0190f1e2-0000-7000-8000-00000000abcd');
    expect(unknown.errors).toEqual([{ message: expect.any(String), code: 'BAD_USER_INPUT', field: 'after' }]);
    expect(await page(aged[2])).toEqual(unknown);
  });

  it('a read or write naming a child aged out leaves the same answer, audit event and statements as one naming no child', async () => {
    const random = '0190f1e2-0000-7000-8000-00000000beef';
    const [{ id: agedRecord }] = await t.sql(`SELECT id FROM education.dropout_report WHERE minor_id = ANY($1) ORDER BY id LIMIT 1`, [aged]);
    const today = chinaDay(new Date());
    const calls: [PolicySubject, string, (id: string) => Record<string, unknown>, string][] = [
      [Department.CIVIL_AFFAIRS, `query($id: ID!) { minor(id: $id) { id name } }`, (id) => ({ id }), aged[0]],
      [Department.POLICE, `query($id: ID!) { minor(id: $id) { id name } }`, (id) => ({ id }), aged[0]],
      [Department.CIVIL_AFFAIRS, `mutation($id: ID!) { updateMinor(id: $id, input: { name: "王小雪" }) { id } }`, (id) => ({ id }), aged[0]],
      [Department.CIVIL_AFFAIRS, `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "入户走访" }) { id } }`, (id) => ({ id }), aged[0]],
      [Department.EDUCATION, `mutation($id: ID!, $d: String!) { createDropoutReport(minorId: $id, input: { school: "湖滨小学", reportedOn: $d, daysAbsent: 3 }) { id } }`, (id) => ({ id, d: today }), aged[0]],
      [Department.EDUCATION, `mutation($id: ID!, $d: String!) { updateDropoutReport(id: $id, input: { school: "湖滨小学", reportedOn: $d, daysAbsent: 4 }) { id } }`, (id) => ({ id, d: today }), agedRecord],
      [Department.CIVIL_AFFAIRS, `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, (id) => ({ i: { minorId: id, type: 'EDUCATION_AID', toDepartment: 'EDUCATION', need: '需要' } }), aged[0]],
    ];
    const problems: string[] = [];
    for (const [subject, query, vars, agedId] of calls) {
      const run = async (id: string) => {
        let answer!: { status: number; requestId: string; json: any };
        const statements = await statementsDuring(t, async () => {
          answer = await post(t, tokens.get(subject)!, { query, variables: vars(id) }, { 'x-purpose': 'CASE_HANDLING; age-out' });
        });
        const event = await storedEventOf(t, answer.requestId);
        const text = (x: unknown) => JSON.stringify(x).split(id).join('<ID>');
        return {
          status: answer.status,
          answer: text({ data: answer.json.data, errors: (answer.json.errors ?? []).map((e: any) => ({ message: e.message, code: e.extensions?.code })) }),
          outcome: event.outcome,
          minorIds: text((await t.sql(`SELECT minor_ids FROM audit.event WHERE request_id = $1 ORDER BY seq`, [answer.requestId])).map((r: { minor_ids: string[] }) => r.minor_ids)),
          event: text({ reads: event.reads, changes: event.changes, errorCodes: event.errorCodes, operationType: event.operationType }),
          statements: statements.map((s) => s.query.replace(/\s+/g, ' ')).join(' | '),
        };
      };
      const a = await run(agedId);
      const b = await run(random);
      for (const k of Object.keys(a) as (keyof typeof a)[]) if (a[k] !== b[k]) problems.push(`${query.slice(0, 60)} ${k}:\n  aged:   ${String(a[k]).slice(0, 600)}\n  random: ${String(b[k]).slice(0, 600)}`);
    }
    expect(problems).toEqual([]);
  });

  it('each department list leaves out the records of the children aged out, in its nodes and its totalCount', async () => {
    const lists: [PolicySubject, string, string][] = [
      [Department.EDUCATION, 'dropoutReports', 'education.dropout_report'],
      [Department.POLICE, 'policeIncidents', 'police.incident'],
      [Department.JUSTICE, 'incarceratedParents', 'justice.incarcerated_parent'],
      [Department.WOMENS_FEDERATION, 'carePlans', 'womens_federation.care_plan'],
      [Department.YOUTH_LEAGUE, 'preventionCases', 'youth_league.prevention_case'],
    ];
    const problems: string[] = [];
    for (const [subject, field, table] of lists) {
      const theirs = new Set((await t.sql(`SELECT id FROM ${table} WHERE minor_id = ANY($1)`, [aged])).map((r: { id: string }) => r.id));
      const [{ n: expected }] = await t.sql(`SELECT count(*)::int AS n FROM ${table} x WHERE EXISTS (SELECT 1 FROM registry.minor_jurisdiction j WHERE j.minor_id = x.minor_id)`);
      const seen: string[] = [];
      let after: string | null = null;
      let total = -1;
      for (let i = 0; i < 50; i++) {
        const r: GqlResult = await send(subject, `query($after: String) { ${field}(first: 100, after: $after) { totalCount nextCursor nodes { id } } }`, { after });
        if (r.errors) {
          problems.push(`${field}: ${JSON.stringify(r.errors)}`);
          break;
        }
        total = r.data[field].totalCount;
        seen.push(...r.data[field].nodes.map((x: { id: string }) => x.id));
        after = r.data[field].nextCursor;
        if (!after) break;
      }
      const leaked = seen.filter((id) => theirs.has(id));
      if (leaked.length) problems.push(`${field}: lists ${leaked.length} records of children aged out`);
      if (total !== expected || seen.length !== expected) problems.push(`${field}: totalCount ${total}, listed ${seen.length}, records of minors ${expected}`);
      if (!theirs.size) problems.push(`${field}: no record of an aged-out child to test`);
    }
    expect(problems).toEqual([]);
  });

  it('every write naming a child aged out or one of their records answers NOT_FOUND and writes nothing; a report naming them links no child', async () => {
    const fuzzer = new Fuzzer(ids, new Date());
    for (const ty of schema.types) fuzzer.types.set(ty.name, ty);
    const mutations = fuzzer.types.get(schema.mutationType.name)!.fields!.filter((f) => !f.name.startsWith('_'));
    // Not about a registered child's file: a report or referral stays a record (of no child), bars, webhooks, checks, new children.
    const UNRELATED = new Set(['createMinor', 'fileMandatoryReport', 'transitionReport', 'employmentCheck', 'employmentRescreen', 'addBarredPerson', 'removeBarredPerson', 'acknowledge', 'registerWebhook', 'deactivateWebhook', 'acceptReferral', 'declineReferral', 'completeReferral']);
    const rowsOfAged = async () => {
      const parts = [...MINOR_TABLES, 'registry.risk_assessment', 'registry.visit', 'registry.minor_category'].filter((x) => !x.startsWith('workflow.'));
      const [row] = await t.sql(`SELECT ${parts.map((p, i) => `(SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM ${p} x WHERE x.minor_id = ANY($1)) AS c${i}`).join(', ')}, (SELECT md5(string_agg(m::text, '|' ORDER BY m.id)) FROM registry.minor m WHERE m.id = ANY($1)) AS minors`, [aged]);
      return row;
    };
    const before = await rowsOfAged();
    const served: string[] = [];
    let swept = 0;
    for (const field of mutations) {
      if (UNRELATED.has(field.name)) continue;
      const args: Record<string, unknown> = {};
      for (const arg of field.args) {
        const v = fuzzer.valid(arg.type, arg.name, field.name, fuzzer.marker(), 3, true);
        if (v !== null) args[arg.name] = v;
      }
      const decl = field.args.filter((a) => a.name in args).map((a) => `$${a.name}: ${typeText(a.type)}`);
      const use = field.args.filter((a) => a.name in args).map((a) => `${a.name}: $${a.name}`);
      const query = `mutation W${decl.length ? `(${decl.join(', ')})` : ''} { ${field.name}${use.length ? `(${use.join(', ')})` : ''}${selectionOf(field.type, fuzzer)} }`;
      const allowed = POLICY_SUBJECTS.filter((s) => policy.access(s, `Mutation.${field.name}`) !== Access.DENY);
      for (const s of allowed) {
        const r = await send(s, query, args);
        const codes = errorCodes(r);
        if (r.data?.[field.name] != null || !codes.every((c) => ['NOT_FOUND', 'FORBIDDEN', 'BAD_USER_INPUT'].includes(c))) served.push(`${field.name} as ${String(s)}: ${JSON.stringify(r)}`);
        // The department that owns the record (or civil affairs, the registry's) gets NOT_FOUND, as for an id of nothing.
      }
      swept++;
    }
    expect(served).toEqual([]);
    expect(swept).toBeGreaterThanOrEqual(45);
    expect(await rowsOfAged()).toEqual(before);
    // A report filed naming the child's id or ID number links no child.
    const reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER });
    const [{ id_number }] = await t.sql(`SELECT id_number FROM registry.minor WHERE id = $1`, [aged[0]]);
    for (const named of [{ childId: aged[0] }, { childIdNumber: id_number }]) {
      const f = await t.gql(reporter, `mutation($i: FileReportInput!) { fileMandatoryReport(input: $i) { id } }`, { i: { harmType: 'NEGLECT', observation: '观察到', location: '学校', regionCode: ids.grid, urgency: 'NORMAL', ...named } });
      expect(f.errors).toBeUndefined();
      expect(await t.sql(`SELECT minor_id FROM workflow.mandatory_report WHERE id = $1`, [f.data.fileMandatoryReport.id])).toEqual([{ minor_id: null }]);
    }
  });
});

/** Dates and instants given at the edges: typed BAD_USER_INPUT naming the field, nothing written. */
describe('date inputs at the edges of the calendar and of the day in China (redteam16)', () => {
  let t: TestHub;
  let grid: string;
  let civil: string;
  let child: string;
  let newborn: string;
  let today: string;
  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(Department.CIVIL_AFFAIRS);
    [{ grid_code: grid }] = await t.sql(`SELECT grid_code FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
    // A registered child of 10, and a newborn born today in China.
    today = chinaDay(new Date());
    const ten = `${Number(today.slice(0, 4)) - 10}-06-15`;
    const a = await t.gql(civil, CREATE, { input: minorInput(buildIdNumber('330102', ten, 951), grid) });
    expect(a.errors).toBeUndefined();
    child = a.data.createMinor.id;
    const b = await t.gql(civil, CREATE, { input: minorInput(buildIdNumber('330102', today, 953), grid) });
    expect(b.errors).toBeUndefined();
    expect(b.data.createMinor.age).toBe(0);
    newborn = b.data.createMinor.id;
  });
  afterAll(async () => {
    await t.stop();
  });

  const written = async () =>
    (
      await t.sql(
        `SELECT (SELECT count(*) FROM registry.visit)::int AS v, (SELECT count(*) FROM registry.risk_assessment)::int AS a, (SELECT count(*) FROM registry.minor)::int AS m,
                (SELECT count(*) FROM education.dropout_report)::int AS d, (SELECT count(*) FROM registry.minor_category)::int AS c`,
      )
    )[0];
  it('refuses instants that are no instant — 30 February, a leap second, year 0000 and 10000, no offset, a date alone, a number — as BAD_USER_INPUT, writing nothing', async () => {
    const before = await written();
    const bad: unknown[] = [
      '2026-02-30T10:00:00Z',
      '2025-02-29T10:00:00Z',
      '2016-12-31T23:59:60Z',
      '2026-06-30T23:59:60Z',
      '0000-01-01T00:00:00Z',
      '10000-01-01T00:00:00Z',
      '+010000-01-01T00:00:00Z',
      '-000001-01-01T00:00:00Z',
      '2026-12-01T10:00:00',
      '2026-12-01',
      '2026-12-01T10:00:00+24:00',
      '2026-12-01T10:00:00+08:60',
      '2026-12-01 10:00:00Z',
      '2026-12-01T24:00:00Z',
      1764950400,
      1764950400000,
      '',
      'now',
    ];
    const problems: string[] = [];
    for (const v of bad) {
      for (const [name, q] of [
        ['recordVisit', `mutation($id: ID!, $at: DateTimeISO) { recordVisit(minorId: $id, input: { notes: "入户走访", visitedAt: $at }) { id } }`],
        ['recordAssessment', `mutation($id: ID!, $at: DateTimeISO) { recordAssessment(minorId: $id, input: { level: BLUE, reasons: "随访", assessedAt: $at }) { id } }`],
      ]) {
        const r = await t.gql(civil, q, { id: child, at: v });
        const codes = errorCodes(r);
        if (JSON.stringify(codes) !== '["BAD_USER_INPUT"]' || r.data?.[name]) problems.push(`${name} ${JSON.stringify(v)}: ${JSON.stringify(r)}`);
      }
      // As a literal in the document too.
      if (typeof v === 'string') {
        const r = await t.gql(civil, `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "入户走访", visitedAt: ${JSON.stringify(v)} }) { id } }`, { id: child });
        if (JSON.stringify(errorCodes(r)) !== '["BAD_USER_INPUT"]') problems.push(`literal ${JSON.stringify(v)}: ${JSON.stringify(r)}`);
      }
      // (Year 0000 is an instant a filter may name: before it, nothing is due.)
      const f = await t.gql(civil, `query($at: DateTimeISO) { minors(filter: { nextVisitDueBefore: $at }, first: 1) { totalCount } }`, { at: v });
      if (v !== '0000-01-01T00:00:00Z' && JSON.stringify(errorCodes(f)) !== '["BAD_USER_INPUT"]') problems.push(`nextVisitDueBefore ${JSON.stringify(v)}: ${JSON.stringify(f)}`);
    }
    expect(problems).toEqual([]);
    expect(await written()).toEqual(before);
  });

  it('refuses calendar dates that are no date — 2026-02-30, 29 February of a common year, 0000, 10000, with a time or an offset, unpadded, full-width — as BAD_USER_INPUT naming the field, writing nothing', async () => {
    const before = await written();
    const education = await t.token(Department.EDUCATION);
    const bad = ['2026-02-30', '2025-02-29', '2026-13-01', '2026-00-10', '0000-01-01', '10000-01-01', '+10000-01-01', '2026-12-01T00:00:00Z', '2026-12-01+08:00', '2026-12-01Z', '2026-1-5', '20261201', '２０２６-１２-０１', '1899-12-31', '2026/12/01'];
    const problems: string[] = [];
    for (const d of bad) {
      const r = await t.gql(education, `mutation($id: ID!, $d: String!) { createDropoutReport(minorId: $id, input: { school: "湖滨小学", reportedOn: $d, daysAbsent: 3 }) { id } }`, { id: child, d });
      if (JSON.stringify(errorCodes(r)) !== '["BAD_USER_INPUT"]' || r.errors?.[0].extensions?.field !== 'reportedOn') problems.push(`reportedOn ${JSON.stringify(d)}: ${JSON.stringify(r)}`);
      const c = await t.gql(civil, `mutation($id: ID!, $d: String) { addCategory(minorId: $id, category: POVERTY, identifiedAt: $d) { id } }`, { id: child, d });
      if (JSON.stringify(errorCodes(c)) !== '["BAD_USER_INPUT"]') problems.push(`identifiedAt ${JSON.stringify(d)}: ${JSON.stringify(c)}`);
      const m = await t.gql(civil, CREATE, { input: minorInput(buildIdNumber('330102', '2015-03-01', 961), grid, { birthDate: d }) });
      if (JSON.stringify(errorCodes(m)) !== '["BAD_USER_INPUT"]') problems.push(`birthDate ${JSON.stringify(d)}: ${JSON.stringify(m)}`);
    }
    expect(problems).toEqual([]);
    expect(await written()).toEqual(before);
  });

  it('createMinor: born today in China is 0, tomorrow in China is refused (the future), 1900 and year-0000 numbers are refused', async () => {
    const before = await written();
    const tomorrow = nextDay(today);
    const future = await t.gql(civil, CREATE, { input: minorInput(buildIdNumber('330102', tomorrow, 971), grid) });
    expect(errorCodes(future)).toEqual(['BAD_USER_INPUT']);
    expect(future.errors![0].extensions!.field).toBe('idNumber');
    const old = await t.gql(civil, CREATE, { input: minorInput(buildIdNumber('330102', '1900-01-01', 973), grid) });
    expect(errorCodes(old)).toEqual(['BAD_USER_INPUT']);
    const zero = await t.gql(civil, CREATE, { input: minorInput(buildIdNumber('330102', '0000-01-01', 975), grid) });
    expect(errorCodes(zero)).toEqual(['BAD_USER_INPUT']);
    const leapless = await t.gql(civil, CREATE, { input: minorInput(buildIdNumber('330102', '2015-02-29', 977), grid) });
    expect(errorCodes(leapless)).toEqual(['BAD_USER_INPUT']);
    expect(await written()).toEqual(before);
  });

  it('a newborn born today in China is 0 in the age filter and may have a category identified today in China, not on the UTC date before', async () => {
    const listed = async (f: Record<string, unknown>) => {
      const r = await t.gql(civil, `query($f: MinorFilter) { minors(filter: $f, first: 500) { edges { node { id } } } }`, { f: { regionCode: grid, ...f } });
      return { codes: errorCodes(r), listed: r.data?.minors ? r.data.minors.edges.some((e: { node: { id: string } }) => e.node.id === newborn) : null };
    };
    expect(await listed({ ageMin: 0, ageMax: 0 })).toEqual({ codes: [], listed: true });
    expect(await listed({ ageMin: 1 })).toEqual({ codes: [], listed: false });
    for (const f of [{ ageMin: -1 }, { ageMax: 18 }, { ageMin: 18 }, { ageMax: -1 }]) expect([f, (await listed(f)).codes]).toEqual([f, ['BAD_USER_INPUT']]);
    const before = await written();
    const yesterday = new Date(Date.parse(`${today}T00:00:00Z`) - DAY).toISOString().slice(0, 10);
    const early = await t.gql(civil, `mutation($id: ID!, $d: String) { addCategory(minorId: $id, category: ORPHAN, identifiedAt: $d) { id } }`, { id: newborn, d: yesterday });
    expect(errorCodes(early)).toEqual(['BAD_USER_INPUT']);
    expect(await written()).toEqual(before);
    const ok = await t.gql(civil, `mutation($id: ID!, $d: String) { addCategory(minorId: $id, category: ORPHAN, identifiedAt: $d) { categories { category identifiedAt } } }`, { id: newborn, d: today });
    expect(ok.errors).toBeUndefined();
    expect(ok.data.addCategory.categories).toEqual([{ category: 'ORPHAN', identifiedAt: today }]);
  });

  it('a department date of a child is accepted back to the day after 18 years ago in China, and refused on that day itself (born then, a person is 18 today)', async () => {
    const education = await t.token(Department.EDUCATION);
    const eighteen = yearsBefore(new Date(), 18);
    const earliest = new Date(Date.parse(`${eighteen}T00:00:00Z`) + DAY).toISOString().slice(0, 10);
    // A child born that day (17 today): no record of a child is dated before its birth.
    const born = await t.gql(civil, CREATE, { input: minorInput(buildIdNumber('330102', earliest, 955), grid) });
    expect(born.data.createMinor.age).toBe(17);
    const oldest = born.data.createMinor.id;
    const dropout = (d: string) => t.gql(education, `mutation($id: ID!, $d: String!) { createDropoutReport(minorId: $id, input: { school: "湖滨小学", reportedOn: $d, daysAbsent: 3 }) { id reportedOn } }`, { id: oldest, d });
    const refused = await dropout(eighteen);
    expect(errorCodes(refused)).toEqual(['BAD_USER_INPUT']);
    expect(refused.errors![0].extensions!.field).toBe('reportedOn');
    // The date taken, a dropout that day is refused for the child's age alone (no child under 6 drops out,
    // and the child was 0 then: record-ages.redteam43), naming no date.
    const young = await dropout(earliest);
    expect(errorCodes(young)).toEqual(['BAD_USER_INPUT']);
    expect(young.errors![0].extensions!.field).toBe('minorId');
    expect(young.errors![0].message).toMatch(/is of no child under 6/);
    // A record of any age is taken that day: a bullying case.
    const bullying = (d: string) =>
      t.gql(education, `mutation($id: ID!, $d: String!) { createBullyingCase(minorId: $id, input: { school: "湖滨小学", occurredOn: $d, role: VICTIM, severity: GENERAL, status: OPEN, description: "x" }) { id occurredOn } }`, { id: oldest, d });
    const refusedCase = await bullying(eighteen);
    expect(errorCodes(refusedCase)).toEqual(['BAD_USER_INPUT']);
    expect(refusedCase.errors![0].extensions!.field).toBe('occurredOn');
    const ok = await bullying(earliest);
    expect(ok.errors).toBeUndefined();
    expect(ok.data.createBullyingCase.occurredOn).toBe(earliest);
  });

  it('a newborn born today in China may be visited from 00:00 in China (16:00 UTC yesterday), not a millisecond before, whatever the offset written', async () => {
    const visit = (at: string) => t.gql(civil, `mutation($id: ID!, $at: DateTimeISO) { recordVisit(minorId: $id, input: { notes: "新生儿探访", visitedAt: $at }) { id visitedAt } }`, { id: newborn, at });
    const midnight = Date.parse(`${today}T00:00:00+08:00`);
    const early = await visit(new Date(midnight - 1).toISOString());
    expect(errorCodes(early)).toEqual(['BAD_USER_INPUT']);
    const earlyOffset = await visit(`${today}T00:00:00.000+08:01`);
    expect(errorCodes(earlyOffset)).toEqual(['BAD_USER_INPUT']);
    const ok = await visit(`${today}T00:00:00+08:00`);
    expect(ok.errors).toBeUndefined();
    expect(ok.data.recordVisit.visitedAt).toBe(new Date(midnight).toISOString());
    const okUtc = await visit(new Date(midnight).toISOString().replace('.000Z', '-00:00'));
    expect(okUtc.errors).toBeUndefined();
  });
});

/** Due dates at the edges: each list turns at the due instant, months counted on the calendar in China. */
describe('deadlines and due dates at the boundary (redteam16)', () => {
  let t: TestHub;
  let grid: string;
  let civil: string;
  beforeAll(async () => {
    t = await startTestHub();
    civil = await t.token(Department.CIVIL_AFFAIRS);
    [{ grid_code: grid }] = await t.sql(`SELECT grid_code FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
  });
  afterAll(async () => {
    t.config.workflow.clockOffsetMs = 0;
    await t.stop();
  });
  let seq = 501;
  const newChild = async () => {
    t.config.workflow.clockOffsetMs = 0;
    const r = await t.gql(civil, CREATE, { input: minorInput(buildIdNumber('330102', '2015-05-05', (seq += 2)), grid) });
    expect(r.errors).toBeUndefined();
    return r.data.createMinor.id as string;
  };
  const assess = async (id: string, level: string, at: string) => {
    t.config.workflow.clockOffsetMs = 0;
    const r = await t.gql(civil, `mutation($id: ID!, $at: DateTimeISO) { recordAssessment(minorId: $id, input: { level: ${level}, reasons: "评估", assessedAt: $at }) { nextVisitDue } }`, { id, at });
    expect(r.errors).toBeUndefined();
    return r.data.recordAssessment.nextVisitDue as string;
  };

  it('the next visit falls due by months on the calendar in China, across the UTC/China day split', async () => {
    const cases: [string, string, string][] = [
      // 23:59:59 on 31 January in China: a month on is 23:59:59 on 28 February in China.
      ['YELLOW', '2026-01-31T15:59:59.000Z', '2026-02-28T15:59:59.000Z'],
      // 00:00 on 1 February in China (31 January in UTC): a month on is 00:00 on 1 March in China.
      ['YELLOW', '2026-01-31T16:00:00.000Z', '2026-02-28T16:00:00.000Z'],
      // 23:30 on 30 November in China: three months on is the last day of February, 23:30.
      ['BLUE', '2025-11-30T15:30:00.000Z', '2026-02-28T15:30:00.000Z'],
      // 00:30 on 1 December in China (30 November in UTC): 00:30 on 1 March in China.
      ['BLUE', '2025-11-30T16:30:00.000Z', '2026-02-28T16:30:00.000Z'],
      ['ORANGE', '2026-02-28T15:59:59.000Z', '2026-03-07T15:59:59.000Z'],
      ['RED', '2026-02-28T16:00:00.000Z', '2026-02-28T16:00:00.000Z'],
    ];
    for (const [level, at, due] of cases) {
      const id = await newChild();
      expect([level, at, await assess(id, level, at)]).toEqual([level, at, due]);
      const r = await t.gql(civil, `query($id: ID!) { minor(id: $id) { nextVisitDue } }`, { id });
      expect(r.data.minor.nextVisitDue).toBe(due);
    }
  });

  it('overdueVisits and nextVisitDueBefore turn at the due instant, whatever offset the filter is written in', async () => {
    const id = await newChild();
    const due = await assess(id, 'ORANGE', '2026-11-20T15:59:59.500Z');
    expect(due).toBe('2026-11-27T15:59:59.500Z');
    const listed = async (at: string) => {
      t.config.workflow.clockOffsetMs = Date.parse(at) - Date.now();
      const r = await t.gql(civil, `query($g: ID) { overdueVisits(regionCode: $g, first: 500) { minor { id } nextVisitDue daysOverdue } }`, { g: grid });
      expect(r.errors).toBeUndefined();
      return r.data.overdueVisits.find((v: { minor: { id: string } }) => v.minor?.id === id) ?? null;
    };
    expect(await listed('2026-11-27T15:59:58.000Z')).toBeNull();
    expect(await listed('2026-11-27T16:00:00.000Z')).toEqual({ minor: { id }, nextVisitDue: due, daysOverdue: 0 });
    const filtered = async (before: string) => {
      t.config.workflow.clockOffsetMs = 0;
      const r = await t.gql(civil, `query($f: MinorFilter) { minors(filter: $f, first: 500) { edges { node { id } } } }`, { f: { regionCode: grid, nextVisitDueBefore: before } });
      expect(r.errors).toBeUndefined();
      return (r.data.minors.edges as { node: { id: string } }[]).some((e) => e.node.id === id);
    };
    expect(await filtered('2026-11-27T15:59:59.500Z')).toBe(false); // before: not at
    expect(await filtered('2026-11-27T15:59:59.501Z')).toBe(true);
    expect(await filtered('2026-11-27T23:59:59.501+08:00')).toBe(true);
    expect(await filtered('2026-11-27T23:59:59.500+08:00')).toBe(false);
    expect(await filtered('2026-11-28T00:00:00+07:59')).toBe(true);
    expect(await filtered('2026-11-28T00:00:00+08:01')).toBe(false);
  });

  it('a bar ending on a day is in force to the end of that day in China, and one ending yesterday in China (today in UTC) is refused', async () => {
    const police = await t.token(Department.POLICE);
    const employer = await t.token(Department.EDUCATION, { role: Role.EMPLOYER, user: 'employer-boundary' });
    const bar = (idNumber: string, until: string) =>
      t.gql(police, `mutation($i: BarredPersonInput!) { addBarredPerson(input: $i) { id restrictedUntil } }`, { i: { idNumber, name: '张某', offence: 'ABUSE', judgementReference: `(2026)浙0102刑初${idNumber.slice(-4)}号`, restrictedUntil: until } });
    // Real clock: the day in China is a day ahead of the UTC day from 16:00 to 24:00 UTC.
    t.config.workflow.clockOffsetMs = Date.parse(`${new Date().toISOString().slice(0, 10)}T20:00:00Z`) - Date.now();
    const utcToday = new Date(Date.now() + t.config.workflow.clockOffsetMs).toISOString().slice(0, 10);
    const chinaToday = nextDay(utcToday);
    t.config.workflow.clockOffsetMs = Date.parse(`${utcToday}T20:00:00Z`) - Date.now();
    const past = await bar(buildIdNumber('330102', '1980-03-03', 311), utcToday);
    expect(errorCodes(past)).toEqual(['BAD_USER_INPUT']);
    expect(past.errors![0].extensions!.field).toBe('input.restrictedUntil');
    t.config.workflow.clockOffsetMs = Date.parse(`${utcToday}T20:00:00Z`) - Date.now();
    const person = buildIdNumber('330102', '1980-03-03', 313);
    const ok = await bar(person, chinaToday);
    expect(ok.errors).toBeUndefined();
    const check = async (at: string) => {
      t.config.workflow.clockOffsetMs = Date.parse(at) - Date.now();
      const r = await t.gql(employer, `mutation($i: EmploymentCheckInput!) { employmentCheck(input: $i) { answer } }`, { i: { idNumber: person, name: '张某', authorizationReference: '授权书2026-01' } });
      expect(r.errors).toBeUndefined();
      return r.data.employmentCheck.answer;
    };
    // 23:59:59 in China on the end date; then 00:00 in China the day after (16:00 UTC on the end date).
    expect(await check(`${utcToday}T15:59:59.000Z`)).toBe('RESTRICTED');
    expect(await check(`${chinaToday}T15:59:59.000Z`)).toBe('RESTRICTED');
    expect(await check(`${chinaToday}T16:00:01.000Z`)).toBe('CLEAR');
  });

  it('the monthly trend counts visits and assessments by the month in China: 00:30 on 1 December in December, 23:30 on 30 November in November', async () => {
    const id = await newChild();
    const visit = async (at: string) => {
      t.config.workflow.clockOffsetMs = 0;
      const r = await t.gql(civil, `mutation($id: ID!, $at: DateTimeISO) { recordVisit(minorId: $id, input: { notes: "走访", visitedAt: $at }) { id } }`, { id, at });
      expect(r.errors).toBeUndefined();
    };
    for (let i = 0; i < 6; i++) {
      await assess(id, 'BLUE', `2025-11-30T15:3${i}:00.000Z`); // 23:3x on 30 November in China
      await assess(id, 'BLUE', `2025-11-30T16:3${i}:00.000Z`); // 00:3x on 1 December in China
      await visit(`2025-11-30T15:4${i}:00.000Z`);
      await visit(`2025-12-01T00:4${i}:00+08:00`);
    }
    await refreshStatistics(t.hub.db.ds);
    t.config.workflow.clockOffsetMs = 0;
    const r = await t.gql(civil, `{ monthlyTrend(months: 36) { points { month series count { value } } } }`);
    expect(r.errors).toBeUndefined();
    const got = (month: string, series: string) => r.data.monthlyTrend.points.find((p: { month: string; series: string }) => p.month === month && p.series === series)?.count.value;
    const inChina = async (table: string, column: string, month: string) =>
      (
        await t.sql(
          `SELECT count(*)::int AS n FROM registry.${table} x JOIN registry.minor m ON m.id = x.minor_id WHERE m.grid_code LIKE '330102%' AND to_char(x.${column} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') = $1`,
          [month],
        )
      )[0].n;
    const want = {
      novV: await inChina('visit', 'visited_at', '2025-11'),
      decV: await inChina('visit', 'visited_at', '2025-12'),
      novA: await inChina('risk_assessment', 'assessed_at', '2025-11'),
      decA: await inChina('risk_assessment', 'assessed_at', '2025-12'),
    };
    expect(Object.values(want).every((n) => n >= 6)).toBe(true);
    expect({ novV: got('2025-11', 'VISITS'), decV: got('2025-12', 'VISITS'), novA: got('2025-11', 'ASSESSMENTS'), decA: got('2025-12', 'ASSESSMENTS') }).toEqual(want);
  });

  it('a mandatory report is overdue, listed and escalated from its verification deadline on, not before', async () => {
    const reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER });
    t.config.workflow.clockOffsetMs = Date.parse('2026-11-30T15:30:00.000Z') - Date.now();
    const f = await t.gql(reporter, `mutation($i: FileReportInput!) { fileMandatoryReport(input: $i) { id receivedAt } }`, { i: { harmType: 'NEGLECT', observation: '观察到', location: '学校', regionCode: grid, urgency: 'URGENT' } });
    expect(f.errors).toBeUndefined();
    const { id, receivedAt } = f.data.fileMandatoryReport;
    const verifyDue = Date.parse(receivedAt) + 60 * 60_000;
    const at = async (ms: number) => {
      t.config.workflow.clockOffsetMs = ms - Date.now();
      const one = await t.gql(civil, `query($id: ID!) { mandatoryReport(id: $id) { overdue verifyDueAt } }`, { id });
      t.config.workflow.clockOffsetMs = ms - Date.now();
      const list = await t.gql(civil, `{ overdueReports(first: 500) { id } }`);
      expect([one.errors, list.errors]).toEqual([undefined, undefined]);
      return { overdue: one.data.mandatoryReport.overdue, due: one.data.mandatoryReport.verifyDueAt, listed: list.data.overdueReports.some((r: { id: string }) => r.id === id) };
    };
    expect(await at(verifyDue - 2_000)).toEqual({ overdue: false, due: new Date(verifyDue).toISOString(), listed: false });
    expect(await at(verifyDue + 2_000)).toEqual({ overdue: true, due: new Date(verifyDue).toISOString(), listed: true });
    // At the very millisecond of the deadline (the hub's clock held there), and the millisecond after: the field, the list and the job agree.
    const frozen = async (ms: number) => {
      const real = Date.now();
      const spy = jest.spyOn(Date, 'now').mockReturnValue(real);
      try {
        t.config.workflow.clockOffsetMs = ms - real;
        return await at(ms);
      } finally {
        spy.mockRestore();
      }
    };
    expect(await frozen(verifyDue)).toEqual({ overdue: false, due: new Date(verifyDue).toISOString(), listed: false });
    expect(await frozen(verifyDue + 1)).toEqual({ overdue: true, due: new Date(verifyDue).toISOString(), listed: true });
    const escalated = async () => (await t.sql(`SELECT count(*)::int AS n FROM workflow.notification WHERE subject_id = $1 AND kind = 'ESCALATION'`, [id]))[0].n;
    await runEscalations(t.hub.db.ds, t.config, buildPolicy(), new Date(verifyDue));
    expect(await escalated()).toBe(0);
    await runEscalations(t.hub.db.ds, t.config, buildPolicy(), new Date(verifyDue + 1));
    expect(await escalated()).toBe(1);
  });
});

/**
 * Distributed mode: the request's instant is the gateway's, handed to each subgraph in its assertion.
 * Here every subgraph's own clock runs 10 s off the gateway's (within the 15 s accepted), around the
 * midnight in China on which a child born 29 February turns 18: every answer goes by the gateway's
 * instant, none by the subgraph's.
 */
describe('distributed: subgraphs whose clocks straddle the midnight in China serve by the request’s instant (redteam16)', () => {
  let t: TestHub;
  let subConfig: HubConfig;
  const servers: SubgraphServer[] = [];
  let grid: string;
  let civil: string;
  let leap: { id: string; idNumber: string };
  beforeAll(async () => {
    const databaseUrl = await cloneTemplateDatabase();
    const secret = randomBytes(32).toString('hex');
    subConfig = testConfig({ databaseUrl, gatewaySecret: secret });
    for (const s of SUBGRAPHS) servers.push(await startSubgraphServer(s.name, subConfig, 0));
    t = await startTestHub({ databaseUrl, gatewaySecret: secret, subgraphUrls: Object.fromEntries(SUBGRAPHS.map((s, i) => [s.name, servers[i].url])) });
    civil = await t.token(Department.CIVIL_AFFAIRS);
    const [{ id: existing, grid_code }] = await t.sql(`SELECT id, grid_code FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
    grid = grid_code;
    leap = await twin(t, existing, '2008-02-29', 841);
  });
  afterAll(async () => {
    await t?.stop();
    for (const s of servers) await s.stop();
  });
  /** The gateway at `iso`, the subgraphs `skewMs` off it. */
  const clocks = (iso: string, skewMs: number) => {
    const offset = Date.parse(iso) - Date.now();
    t.config.workflow.clockOffsetMs = offset;
    subConfig.workflow.clockOffsetMs = offset + skewMs;
  };
  const read = async () => {
    const r = await t.gql(
      civil,
      `query($id: ID!, $n: String!, $f: MinorFilter) { minor(id: $id) { id age } minorByIdNumber(idNumber: $n) { id } minors(filter: $f, first: 500) { totalCount edges { node { id } } } }`,
      { id: leap.id, n: leap.idNumber, f: { regionCode: grid, ageMin: 17, ageMax: 17 } },
    );
    expect(r.errors).toBeUndefined();
    return { minor: r.data.minor, byNumber: r.data.minorByIdNumber?.id ?? null, listed: r.data.minors.edges.some((e: { node: { id: string } }) => e.node.id === leap.id), total: r.data.minors.totalCount };
  };

  it('at 23:59:55 in China by the gateway (00:00:05 by the subgraphs) the child is 17; at 00:00:05 by the gateway (23:59:55 by the subgraphs) gone', async () => {
    clocks('2026-02-28T15:59:55.000Z', 10_000);
    const before = await read();
    expect(before).toEqual({ minor: { id: leap.id, age: 17 }, byNumber: leap.id, listed: true, total: expect.any(Number) });
    clocks('2026-02-28T16:00:05.000Z', -10_000);
    const after = await read();
    expect(after).toEqual({ minor: null, byNumber: null, listed: false, total: before.total - 1 });
  });

  it('createMinor and the registry writes go by the gateway’s instant too', async () => {
    clocks('2026-02-28T15:59:55.000Z', 10_000);
    const ok = await t.gql(civil, CREATE, { input: minorInput(buildIdNumber('330102', '2008-02-29', 843), grid) });
    expect(ok.errors).toBeUndefined();
    expect(ok.data.createMinor.age).toBe(17);
    clocks('2026-02-28T15:59:55.000Z', 10_000);
    const v = await t.gql(civil, `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "入户走访" }) { id visitedAt } }`, { id: leap.id });
    expect(v.errors).toBeUndefined();
    expect(Date.parse(v.data.recordVisit.visitedAt)).toBeLessThan(Date.parse('2026-02-28T16:00:00.000Z'));
    clocks('2026-02-28T16:00:05.000Z', -10_000);
    const adult = await t.gql(civil, CREATE, { input: minorInput(buildIdNumber('330102', '2008-02-29', 845), grid) });
    expect(errorCodes(adult)).toEqual(['BAD_USER_INPUT']);
    clocks('2026-02-28T16:00:05.000Z', -10_000);
    const gone = await t.gql(civil, `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "入户走访" }) { id } }`, { id: leap.id });
    expect(errorCodes(gone)).toEqual(['NOT_FOUND']);
  });
});
