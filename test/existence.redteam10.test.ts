import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { DEPARTMENT_MUTATION_CALLS } from './support/department-probes';
import { eventsOf, post } from './support/audit-helpers';
import { databaseWith, DEFAULT_PURPOSE, startTestHub, statementsDuring, TestHub } from './support/test-hub';
import { DEPARTMENT_RECORD_TABLES } from './support/record-tables';

/**
 * A sweep of "no existence leaks across jurisdictions": every root field and mutation that names a
 * record by id or key is asked, by each department's officer at a street and at a grid of it, once
 * with a record of another street and once with an id of the same shape naming nothing. The two
 * answers must be the same once the id is replaced by a placeholder — status, body (data, codes,
 * messages, extensions), headers but the request id and date, the statements the database ran and
 * the audit events — and neither may write anything outside the audit trail.
 */
const STREET = '330102001';
const OTHER_STREET = '330102002';
/** A second district, added to the demo data: its child and one record of each department about it. */
const OTHER_DISTRICT = '330103';
const FAR_CHILD = '7a1f0c2e-5b7d-4c1e-9a3b-2d4e6f8a0b1c';
const FAR_NUMBER = buildIdNumber('330103', '2011-06-07', 321);
const FAR_GRID = `${OTHER_DISTRICT}001001001`;
/** The other district's tree, its child (a copy of the first demo child's row) and a copy of one record of each kind about it. */
const OTHER_DISTRICT_SQL = [
  `INSERT INTO registry.region (code, parent_code, level, name) VALUES
     ('${OTHER_DISTRICT}', NULL, 'DISTRICT', '下城区'), ('${OTHER_DISTRICT}001', '${OTHER_DISTRICT}', 'STREET', '街道'),
     ('${OTHER_DISTRICT}001001', '${OTHER_DISTRICT}001', 'COMMUNITY', '社区'), ('${FAR_GRID}', '${OTHER_DISTRICT}001001', 'GRID', '网格')`,
  `INSERT INTO registry.minor SELECT (jsonb_populate_record(m, jsonb_build_object('id', '${FAR_CHILD}', 'id_number', '${FAR_NUMBER}', 'grid_code', '${FAR_GRID}', 'birth_date', '2011-06-07'))).*
     FROM registry.minor m ORDER BY id LIMIT 1`,
  `INSERT INTO registry.guardian SELECT (jsonb_populate_record(g, jsonb_build_object('id', gen_random_uuid(), 'minor_id', '${FAR_CHILD}'))).*
     FROM registry.guardian g ORDER BY id LIMIT 1`,
  ...DEPARTMENT_RECORD_TABLES.map(
    (tb) => `INSERT INTO ${tb} SELECT (jsonb_populate_record(r, jsonb_build_object('id', gen_random_uuid(), 'minor_id', '${FAR_CHILD}'))).* FROM ${tb} r ORDER BY id LIMIT 1`,
  ),
];
const DEPARTMENTS = Object.values(Department);

/** `work`'s result, or 'blocked' if it takes longer than `ms` (the timer cleared either way). */
async function within<T>(ms: number, work: Promise<T>): Promise<T | 'blocked'> {
  let timer!: NodeJS.Timeout;
  try {
    return await Promise.race([work, new Promise<'blocked'>((resolve) => (timer = setTimeout(() => resolve('blocked'), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  json: unknown;
  statements: string[];
  events: unknown[];
}

describe('existence sweep: another street’s record answers as a record that never existed', () => {
  let t: TestHub;
  let tables: string[];
  let grid: string;
  const outside: Record<string, string> = {};
  const outsideByStatus: Record<string, string[]> = {};

  const fingerprint = async (): Promise<string> => {
    const parts = tables.map((tb) => `(SELECT count(*)::text || ':' || coalesce(max(xmin::text::bigint), 0)::text FROM ${tb})`);
    const [row] = await t.sql(`SELECT concat_ws(',', ${parts.join(', ')}) AS f`);
    return row.f;
  };

  async function answer(token: string, query: string, variables: Record<string, unknown>, headers: Record<string, string>): Promise<Answer> {
    let r!: Awaited<ReturnType<typeof post>>;
    const sent = await statementsDuring(t, async () => {
      r = await post(t, token, { query, variables }, headers);
    });
    const named = (text: string) =>
      Object.entries(variables).reduce((s, [name, value]) => (typeof value === 'string' ? s.split(value).join(`$${name}`) : s), text);
    const events = (await eventsOf(t, r.requestId)).map(({ outcome, body: { requestId: _r, time: _t, durationMs: _d, variables: hashed, ...body } }) => ({
      outcome,
      body: { ...JSON.parse(named(JSON.stringify(body))), variables: Object.keys(hashed ?? {}) },
    }));
    const kept: Record<string, string> = {};
    r.headers.forEach((v, k) => {
      if (!['x-request-id', 'date'].includes(k)) kept[k] = v;
    });
    return { status: r.status, headers: kept, json: JSON.parse(named(JSON.stringify(r.json))), statements: sent.map((s) => s.query), events };
  }

  const differences: string[] = [];
  let probes = 0;

  /** Asks once each way (after a warm-up); records a difference rather than stopping, so that one run lists them all. */
  async function probe(
    label: string,
    token: string,
    query: string,
    out: Record<string, unknown>,
    unknown: Record<string, unknown>,
    opts: { headers?: Record<string, string>; writes?: boolean } = {},
  ): Promise<void> {
    const headers = opts.headers ?? DEFAULT_PURPOSE;
    probes++;
    await answer(token, query, unknown, headers);
    const before = opts.writes ? '' : await fingerprint();
    // A write's own new id differs between any two requests.
    const fresh = (x: Answer): Answer => (opts.writes ? JSON.parse(JSON.stringify(x).replace(/"id":"[0-9a-f-]{36}"/g, '"id":"NEW"')) : x);
    const a = fresh(await answer(token, query, out, headers));
    const mid = opts.writes ? '' : await fingerprint();
    const b = fresh(await answer(token, query, { ...unknown }, headers));
    if (!opts.writes && before !== mid) differences.push(`${label}: the outside request wrote`);
    for (const k of ['status', 'headers', 'json', 'statements', 'events'] as const) {
      const [x, y] = [JSON.stringify(a[k]), JSON.stringify(b[k])];
      if (x === y) continue;
      let at = 0;
      while (x[at] === y[at]) at++;
      const from = Math.max(0, at - 150);
      differences.push(`${label}: ${k} differ at ${at}\n  outside: …${x.slice(from, at + 300)}\n  unknown: …${y.slice(from, at + 300)}`);
    }
  }

  const tokens = async (): Promise<[string, string][]> => {
    const out: [string, string][] = [];
    for (const d of DEPARTMENTS) {
      out.push([`${d}@street`, await t.token(d, { region: STREET })]);
      out.push([`${d}@grid`, await t.token(d, { region: grid })]);
    }
    return out;
  };

  beforeAll(async () => {
    t = await startTestHub({ databaseUrl: await databaseWith(OTHER_DISTRICT_SQL) });
    tables = (
      await t.sql(
        `SELECT table_schema || '.' || table_name AS t FROM information_schema.tables
          WHERE table_type = 'BASE TABLE' AND table_schema IN ('registry', 'education', 'police', 'justice', 'youth_league', 'womens_federation', 'workflow')
          ORDER BY 1`,
      )
    ).map((r) => r.t);
    [{ grid_code: grid }] = await t.sql(`SELECT grid_code FROM registry.minor WHERE grid_code LIKE $1 ORDER BY grid_code LIMIT 1`, [`${STREET}%`]);
    const [child] = await t.sql(`SELECT id, trim(id_number) AS n, grid_code FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id LIMIT 1`, [`${OTHER_STREET}%`]);
    outside.minor = child.id;
    outside.idNumber = child.n;
    outside.grid = child.grid_code;
    [{ id: outside.guardian }] = await t.sql(`SELECT g.id FROM registry.guardian g JOIN registry.minor m ON m.id = g.minor_id WHERE m.grid_code LIKE $1 ORDER BY g.id LIMIT 1`, [`${OTHER_STREET}%`]);
    [{ id: outside.inside }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id LIMIT 1`, [`${STREET}%`]);
    for (const table of tables.filter((tb) => !tb.startsWith('registry.') && !tb.startsWith('workflow.'))) {
      const cols = (await t.sql(`SELECT column_name FROM information_schema.columns WHERE table_schema || '.' || table_name = $1`, [table])).map((r) => r.column_name);
      if (!cols.includes('minor_id')) continue;
      const status = cols.includes('status') ? 'r.status' : '(r.minor_id IS NOT NULL)';
      const rows = await t.sql(
        `SELECT DISTINCT ON (${status}) r.id FROM ${table} r JOIN registry.minor m ON m.id = r.minor_id WHERE m.grid_code NOT LIKE $1 ORDER BY ${status}, r.id`,
        [`${STREET}%`],
      );
      outsideByStatus[table] = rows.map((r) => r.id);
    }
    // Workflow records of the district about the other street's child, in each state.
    const district = await t.token(Department.CIVIL_AFFAIRS);
    const education = await t.token(Department.EDUCATION);
    const refer = `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`;
    const made = async () => (await t.gql(district, refer, { i: { minorId: child.id, type: 'COUNSELLING', need: 'x', toDepartment: 'EDUCATION' } })).data.createReferral.id as string;
    outside.pending = await made();
    outside.accepted = await made();
    outside.declined = await made();
    outside.completed = await made();
    await t.gql(education, `mutation($id: ID!) { acceptReferral(id: $id) { id } }`, { id: outside.accepted });
    await t.gql(education, `mutation($id: ID!) { declineReferral(id: $id, reason: "no") { id } }`, { id: outside.declined });
    await t.gql(education, `mutation($id: ID!) { acceptReferral(id: $id) { id } }`, { id: outside.completed });
    await t.gql(education, `mutation($id: ID!) { completeReferral(id: $id, outcome: "done") { id } }`, { id: outside.completed });
    const reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-elsewhere' });
    const file = async () =>
      (
        await t.gql(
          reporter,
          `mutation($i: FileReportInput!) { fileMandatoryReport(input: $i) { id } }`,
          { i: { harmType: 'NEGLECT', observation: 'o', location: 'l', regionCode: OTHER_STREET, urgency: 'NORMAL', childId: child.id } },
          {},
        )
      ).data.fileMandatoryReport.id as string;
    const police = await t.token(Department.POLICE);
    const step = (id: string, to: string) => t.gql(police, `mutation($id: ID!, $to: ReportStatus!) { transitionReport(id: $id, to: $to, note: "n") { id } }`, { id, to });
    outside.received = await file();
    outside.verifying = await file();
    await step(outside.verifying, 'VERIFYING');
    outside.handled = await file();
    await step(outside.handled, 'VERIFYING');
    await step(outside.handled, 'HANDLED');
    outside.closed = await file();
    await step(outside.closed, 'VERIFYING');
    await step(outside.closed, 'HANDLED');
    await step(outside.closed, 'CLOSED');
    for (const d of DEPARTMENTS) {
      const rows = await t.sql(`SELECT id, acknowledged_at IS NOT NULL AS ack FROM workflow.notification WHERE department = $1 AND (region_code LIKE $2 OR minor_id = $3) ORDER BY id`, [d, `${OTHER_STREET}%`, child.id]);
      if (rows[0]) outside[`notification:${d}`] = rows[0].id;
    }
    const [acked] = await t.sql(`SELECT id FROM workflow.notification WHERE (region_code LIKE $1 OR minor_id = $2) AND department = 'EDUCATION' ORDER BY id DESC LIMIT 1`, [`${OTHER_STREET}%`, child.id]);
    await t.gql(education, `mutation($id: ID!) { acknowledge(id: $id) { id } }`, { id: acked.id });
    outside.acked = acked.id;
    for (const d of DEPARTMENTS) {
      const r = await t.gql(await t.token(d), `mutation { registerWebhook(url: "http://127.0.0.1:9/existence-${d.toLowerCase()}") { webhook { id } } }`, {}, {});
      outside[`webhook:${d}`] = r.data.registerWebhook.webhook.id;
    }
  }, 120_000);
  afterAll(() => t?.stop());

  const rid = () => ({ id: randomUUID() });

  beforeEach(() => {
    differences.length = 0;
  });

  it('registry: minor, minorByIdNumber and the registry’s mutations', async () => {
    const unknownNumber = buildIdNumber('330102', '2012-03-04', 777);
    for (const [who, token] of await tokens()) {
      await probe(`${who} minor`, token, `query($id: ID!) { minor(id: $id) { id name idNumber riskLevel guardians { name } } }`, { id: outside.minor }, rid());
      // The compiled read's own shape (src/compiled-read): a child not in the subtree falls back, an unknown id too.
      await probe(`${who} minor compiled`, token, `query Child($id: ID!) { minor(id: $id) { id name idNumber gender birthDate riskLevel nextVisitDue } }`, { id: outside.minor }, rid());
      await probe(`${who} minor __typename`, token, `query($id: ID!) { minor(id: $id) { __typename } }`, { id: outside.minor }, rid());
      await probe(`${who} minorByIdNumber`, token, `query($n: String!) { minorByIdNumber(idNumber: $n) { id } }`, { n: outside.idNumber }, { n: unknownNumber });
      const mutations: [string, string][] = [
        ['updateMinor', `mutation($id: ID!) { updateMinor(id: $id, input: { school: "x" }) { id } }`],
        ['updateMinor bad grid', `mutation($id: ID!) { updateMinor(id: $id, input: { gridCode: "1" }) { id } }`],
        ['updateMinor empty name', `mutation($id: ID!) { updateMinor(id: $id, input: { name: "" }) { id } }`],
        ['addGuardian', `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: FATHER, name: "王某", phone: "13900001111" }) { id } }`],
        ['addGuardian bad phone', `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: FATHER, name: "王某", phone: "x" }) { id } }`],
        ['addCategory', `mutation($id: ID!) { addCategory(minorId: $id, category: POVERTY) { id } }`],
        ['addCategory early', `mutation($id: ID!) { addCategory(minorId: $id, category: POVERTY, identifiedAt: "1990-01-01") { id } }`],
        ['addCategory future', `mutation($id: ID!) { addCategory(minorId: $id, category: POVERTY, identifiedAt: "2999-01-01") { id } }`],
        ['removeCategory', `mutation($id: ID!) { removeCategory(minorId: $id, category: POVERTY) { id } }`],
        ['removeCategory ORPHAN', `mutation($id: ID!) { removeCategory(minorId: $id, category: ORPHAN) { id } }`],
        ['recordAssessment', `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: BLUE, reasons: "x" }) { id } }`],
        ['recordAssessment early', `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: BLUE, reasons: "x", assessedAt: "1990-01-01T00:00:00Z" }) { id } }`],
        ['recordVisit', `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "x" }) { id } }`],
        ['recordVisit early', `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "x", visitedAt: "1990-01-01T00:00:00Z" }) { id } }`],
      ];
      for (const [name, q] of mutations) await probe(`${who} ${name}`, token, q, { id: outside.minor }, rid());
      await probe(`${who} removeGuardian`, token, `mutation($id: ID!) { removeGuardian(guardianId: $id) }`, { id: outside.guardian }, rid());
      // A child of the caller's moved to another street's grid, or to a grid that does not exist.
      await probe(`${who} updateMinor to outside grid`, token, `mutation($id: ID!, $g: ID) { updateMinor(id: $id, input: { gridCode: $g }) { id } }`, { id: outside.inside, g: outside.grid }, { id: outside.inside, g: '330102999999999' });
      await probe(
        `${who} createMinor in outside grid`,
        token,
        `mutation($g: ID!) { createMinor(input: { name: "李某", idNumber: "${buildIdNumber('330102', '2013-05-06', 555)}", householdRegistration: "h", currentAddress: "a", gridCode: $g }) { id } }`,
        { g: outside.grid },
        { g: '330102999999999' },
      );
      await probe(`${who} minors regionCode`, token, `query($g: String) { minors(filter: { regionCode: $g }) { totalCount edges { node { id } } } }`, { g: outside.grid }, { g: '330102999999999' });
    }
    expect(differences).toEqual([]);
  }, 600_000);

  it('department records: create about another street’s child, update and add to its records', async () => {
    const early = (call: string) => call.replace(/"2020-01-02"/g, '"1990-01-01"');
    const future = (call: string) => call.replace(/"2020-01-02"/g, '"2999-01-01"');
    const TABLE: Record<string, string> = {
      SchoolEnrollment: 'education.school_enrollment',
      DropoutReport: 'education.dropout_report',
      BullyingCase: 'education.bullying_case',
      EducationAid: 'education.education_aid',
      PoliceIncident: 'police.incident',
      GuardianAdmonishment: 'police.guardian_admonishment',
      IdentityVerification: 'police.identity_verification',
      IncarceratedParent: 'justice.incarcerated_parent',
      CommunityCorrection: 'justice.community_correction',
      LegalAidCase: 'justice.legal_aid_case',
      PreventionCase: 'youth_league.prevention_case',
      IdleSupport: 'youth_league.idle_support',
      VolunteerVisit: 'youth_league.volunteer_visit',
      CarePlan: 'womens_federation.care_plan',
      FamilyEducationSession: 'womens_federation.family_education_session',
      DomesticViolenceSupport: 'womens_federation.violence_support',
      ChildrenHomeAttendance: 'womens_federation.children_home_attendance',
    };
    const SUB: Record<string, string> = { recordPersuasionAction: 'DropoutReport', recordMisbehaviourFollowUp: 'PreventionCase', recordCareVisit: 'CarePlan' };
    const OWNER: Record<string, Department> = {
      education: Department.EDUCATION,
      police: Department.POLICE,
      justice: Department.JUSTICE,
      youth_league: Department.YOUTH_LEAGUE,
      womens_federation: Department.WOMENS_FEDERATION,
    };
    for (const [name, call] of Object.entries(DEPARTMENT_MUTATION_CALLS)) {
      const table = TABLE[SUB[name] ?? name.replace(/^(update|create)/, '')];
      const owner = OWNER[table.split('.')[0]];
      // The owner at a street and at a grid; another department is refused by the policy before any look-up.
      const who: [string, string][] = [
        [`${owner}@street`, await t.token(owner, { region: STREET })],
        [`${owner}@grid`, await t.token(owner, { region: grid })],
        ['CIVIL_AFFAIRS@street', await t.token(Department.CIVIL_AFFAIRS, { region: STREET })],
      ];
      for (const [w, token] of who) {
        const q = (c: string) => `mutation($id: ID!) { ${c.replace(/"00000000-0000-4000-8000-000000000000"/, '$id').replace('{ __typename }', '{ id }')} }`;
        const targets = name.startsWith('create') ? [outside.minor] : outsideByStatus[table];
        if (!targets?.length) throw new Error(`no outside record for ${name}`);
        const who = w;
        for (const id of targets) {
          await probe(`${who} ${name} ${id}`, token, q(call), { id }, rid());
          await probe(`${who} ${name} early ${id}`, token, q(early(call)), { id }, rid());
          await probe(`${who} ${name} future ${id}`, token, q(future(call)), { id }, rid());
        }
      }
    }
    expect(differences).toEqual([]);
  }, 900_000);

  it('workflow: referrals, reports, notifications, webhooks, and `after` cursors', async () => {
    for (const [who, token] of await tokens()) {
      await probe(`${who} createReferral`, token, `mutation($id: ID!) { createReferral(input: { minorId: $id, type: COUNSELLING, need: "x", toDepartment: "EDUCATION" }) { id } }`, { id: outside.minor }, rid());
      await probe(`${who} createReferral to self/bad`, token, `mutation($id: ID!) { createReferral(input: { minorId: $id, type: COUNSELLING, need: "x", toDepartment: "NOBODY" }) { id } }`, { id: outside.minor }, rid());
      await probe(`${who} createReferral empty need`, token, `mutation($id: ID!) { createReferral(input: { minorId: $id, type: COUNSELLING, need: "", toDepartment: "POLICE" }) { id } }`, { id: outside.minor }, rid());
      for (const state of ['pending', 'accepted', 'declined', 'completed']) {
        const id = outside[state];
        await probe(`${who} referral ${state}`, token, `query($id: ID!) { referral(id: $id) { id need status } }`, { id }, rid());
        await probe(`${who} acceptReferral ${state}`, token, `mutation($id: ID!) { acceptReferral(id: $id, note: "n") { id } }`, { id }, rid());
        await probe(`${who} declineReferral ${state}`, token, `mutation($id: ID!) { declineReferral(id: $id, reason: "r") { id } }`, { id }, rid());
        await probe(`${who} declineReferral empty ${state}`, token, `mutation($id: ID!) { declineReferral(id: $id, reason: "") { id } }`, { id }, rid());
        await probe(`${who} completeReferral ${state}`, token, `mutation($id: ID!) { completeReferral(id: $id, outcome: "o") { id } }`, { id }, rid());
        await probe(`${who} completeReferral empty ${state}`, token, `mutation($id: ID!) { completeReferral(id: $id, outcome: "") { id } }`, { id }, rid());
        await probe(`${who} referrals after ${state}`, token, `query($id: ID) { referrals(after: $id) { id } }`, { id }, rid());
      }
      for (const state of ['received', 'verifying', 'handled', 'closed']) {
        const id = outside[state];
        await probe(`${who} mandatoryReport ${state}`, token, `query($id: ID!) { mandatoryReport(id: $id) { id status } }`, { id }, rid());
        for (const to of ['RECEIVED', 'VERIFYING', 'HANDLED', 'CLOSED', 'UNFOUNDED']) {
          await probe(`${who} transitionReport ${state}→${to}`, token, `mutation($id: ID!) { transitionReport(id: $id, to: ${to}, note: "n") { id } }`, { id }, rid());
        }
        await probe(`${who} transitionReport ${state} empty note`, token, `mutation($id: ID!) { transitionReport(id: $id, to: VERIFYING, note: "") { id } }`, { id }, rid());
        await probe(`${who} mandatoryReports after ${state}`, token, `query($id: ID) { mandatoryReports(after: $id) { id } }`, { id }, rid());
        await probe(`${who} overdueReports after ${state}`, token, `query($id: ID) { overdueReports(after: $id) { id } }`, { id }, rid());
        await probe(`${who} myReports after ${state}`, token, `query($id: ID) { myReports(after: $id) { id } }`, { id }, rid());
      }
      for (const [key, id] of Object.entries(outside).filter(([k]) => k.startsWith('notification:') || k === 'acked')) {
        await probe(`${who} acknowledge ${key}`, token, `mutation($id: ID!) { acknowledge(id: $id) { id } }`, { id }, rid());
        await probe(`${who} notifications after ${key}`, token, `query($id: ID) { notifications(after: $id) { id } }`, { id }, rid());
      }
      for (const [key, id] of Object.entries(outside).filter(([k]) => k.startsWith('webhook:'))) {
        await probe(`${who} deactivateWebhook ${key}`, token, `mutation($id: ID!) { deactivateWebhook(id: $id) { id } }`, { id }, rid());
        await probe(`${who} webhooks after ${key}`, token, `query($id: ID) { webhooks(after: $id) { id } }`, { id }, rid());
      }
      await probe(`${who} overdueVisits after`, token, `query($id: ID) { overdueVisits(after: $id) { riskLevel } }`, { id: outside.minor }, rid());
      await probe(`${who} overdueVisits region`, token, `query($g: ID) { overdueVisits(regionCode: $g) { riskLevel } }`, { g: outside.grid }, { g: '330102999999999' });
    }
    expect(differences).toEqual([]);
  }, 900_000);

  it('mandatory reports naming another street’s child, by id or ID number', async () => {
    const unknownNumber = buildIdNumber('330102', '2012-03-04', 777);
    const q = `mutation($id: ID, $n: String, $r: ID!) { fileMandatoryReport(input: { harmType: NEGLECT, observation: "o", location: "l", regionCode: $r, urgency: NORMAL, childId: $id, childIdNumber: $n }) { status } }`;
    const who: [string, string][] = [
      ...(await tokens()),
      ['REPORTER', await t.token(Department.EDUCATION, { role: Role.REPORTER, region: STREET })],
    ];
    for (const [w, token] of who) {
      await probe(`${w} file by id`, token, q, { id: outside.minor, n: null, r: STREET }, { id: randomUUID(), n: null, r: STREET }, { writes: true });
      await probe(`${w} file by number`, token, q, { id: null, n: outside.idNumber, r: STREET }, { id: null, n: unknownNumber, r: STREET }, { writes: true });
    }
    expect(differences).toEqual([]);
  }, 600_000);

  it('another district: its child and its records, to each department at the district, a street and a grid', async () => {
    const unknownNumber = buildIdNumber('330102', '2012-03-04', 777);
    const who: [string, string][] = [...(await tokens())];
    for (const d of DEPARTMENTS) who.push([`${d}@district`, await t.token(d, { region: '330102' })]);
    const far: Record<string, string> = {};
    for (const tb of DEPARTMENT_RECORD_TABLES) [{ id: far[tb] }] = await t.sql(`SELECT id FROM ${tb} WHERE minor_id = $1`, [FAR_CHILD]);
    // The other district's own referral, report and notifications.
    const farCivil = await t.token(Department.CIVIL_AFFAIRS, { region: OTHER_DISTRICT });
    const farReferral = (
      await t.gql(farCivil, `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, { i: { minorId: FAR_CHILD, type: 'COUNSELLING', need: 'x', toDepartment: 'EDUCATION' } })
    ).data.createReferral.id as string;
    const farReport = (
      await t.gql(
        await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-far' }),
        `mutation { fileMandatoryReport(input: { harmType: NEGLECT, observation: "o", location: "l", regionCode: "${FAR_GRID}", urgency: NORMAL, childIdNumber: "${FAR_NUMBER}" }) { id } }`,
        {},
        {},
      )
    ).data.fileMandatoryReport.id as string;
    const farNotices = (await t.sql(`SELECT id, department FROM workflow.notification WHERE region_code LIKE $1 ORDER BY id`, [`${OTHER_DISTRICT}%`])) as { id: string; department: string }[];
    expect(farNotices.length).toBeGreaterThan(0);
    for (const [w, token] of who) {
      await probe(`${w} far referral`, token, `query($id: ID!) { referral(id: $id) { id } }`, { id: farReferral }, rid());
      await probe(`${w} far acceptReferral`, token, `mutation($id: ID!) { acceptReferral(id: $id) { id } }`, { id: farReferral }, rid());
      await probe(`${w} far referrals after`, token, `query($id: ID) { referrals(after: $id) { id } }`, { id: farReferral }, rid());
      await probe(`${w} far mandatoryReport`, token, `query($id: ID!) { mandatoryReport(id: $id) { id } }`, { id: farReport }, rid());
      await probe(`${w} far transitionReport`, token, `mutation($id: ID!) { transitionReport(id: $id, to: VERIFYING, note: "n") { id } }`, { id: farReport }, rid());
      await probe(`${w} far mandatoryReports after`, token, `query($id: ID) { mandatoryReports(after: $id) { id } }`, { id: farReport }, rid());
      for (const n of farNotices) {
        await probe(`${w} far acknowledge ${n.department}`, token, `mutation($id: ID!) { acknowledge(id: $id) { id } }`, { id: n.id }, rid());
        await probe(`${w} far notifications after ${n.department}`, token, `query($id: ID) { notifications(after: $id) { id } }`, { id: n.id }, rid());
      }
    }
    for (const [w, token] of who) {
      await probe(`${w} minor`, token, `query($id: ID!) { minor(id: $id) { id name idNumber riskLevel guardians { name } } }`, { id: FAR_CHILD }, rid());
      await probe(`${w} minorByIdNumber`, token, `query($n: String!) { minorByIdNumber(idNumber: $n) { id } }`, { n: FAR_NUMBER }, { n: unknownNumber });
      await probe(`${w} updateMinor`, token, `mutation($id: ID!) { updateMinor(id: $id, input: { school: "x" }) { id } }`, { id: FAR_CHILD }, rid());
      await probe(`${w} recordVisit`, token, `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "x" }) { id } }`, { id: FAR_CHILD }, rid());
      await probe(`${w} addGuardian`, token, `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: FATHER, name: "王某" }) { id } }`, { id: FAR_CHILD }, rid());
      await probe(`${w} createReferral`, token, `mutation($id: ID!) { createReferral(input: { minorId: $id, type: COUNSELLING, need: "x", toDepartment: "EDUCATION" }) { id } }`, { id: FAR_CHILD }, rid());
      await probe(`${w} createMinor in far grid`, token,
        `mutation($g: ID!) { createMinor(input: { name: "李某", idNumber: "${buildIdNumber('330102', '2013-05-06', 555)}", householdRegistration: "h", currentAddress: "a", gridCode: $g }) { id } }`,
        { g: FAR_GRID }, { g: '330103999999999' });
      await probe(`${w} minors regionCode far`, token, `query($g: String) { minors(filter: { regionCode: $g }) { totalCount } }`, { g: FAR_GRID }, { g: '330103999999999' });
      for (const [name, call] of Object.entries(DEPARTMENT_MUTATION_CALLS)) {
        if (!name.startsWith('create') && !name.startsWith('update')) continue;
        const q = `mutation($id: ID!) { ${call.replace(/"00000000-0000-4000-8000-000000000000"/, '$id').replace('{ __typename }', '{ id }')} }`;
        const tb = DEPARTMENT_RECORD_TABLES.find((x) => x.split('.')[1].replace(/_/g, '') === name.replace(/^(create|update)/, '').toLowerCase()
          || ({ PoliceIncident: 'police.incident', DomesticViolenceSupport: 'womens_federation.violence_support' } as Record<string, string>)[name.replace(/^(create|update)/, '')] === x);
        if (!tb) throw new Error(`no table for ${name}`);
        await probe(`${w} ${name}`, token, q, { id: name.startsWith('create') ? FAR_CHILD : far[tb] }, rid());
      }
    }
    expect(differences).toEqual([]);
  }, 900_000);

  it('the sweep tells two answers apart when they differ: a child of the street against an unknown id', async () => {
    const token = await t.token(Department.POLICE, { region: STREET });
    await probe('sanity', token, `query($id: ID!) { minor(id: $id) { __typename } }`, { id: outside.inside }, rid());
    expect(differences.join('\n')).toMatch(/sanity: json differ/);
    expect(differences.join('\n')).toMatch(/sanity: statements differ|sanity: events differ/);
    // The records asked for exist, and their own jurisdiction reads them.
    const there = await t.gql(await t.token(Department.CIVIL_AFFAIRS, { region: OTHER_DISTRICT }), `query($id: ID!) { minor(id: $id) { id } }`, { id: FAR_CHILD });
    expect(there.data.minor).toEqual({ id: FAR_CHILD });
    const incident = await t.gql(await t.token(Department.POLICE, { region: OTHER_DISTRICT }), `mutation($id: ID!) { updatePoliceIncident(id: $id, input: { type: MISSING, occurredOn: "2024-01-02", status: REPORTED, handlingUnit: "x", narrative: "x" }) { id } }`, {
      id: (await t.sql(`SELECT id FROM police.incident WHERE minor_id = $1`, [FAR_CHILD]))[0].id,
    });
    expect(incident.errors).toBeUndefined();
    const referral = await t.gql(await t.token(Department.EDUCATION), `query($id: ID!) { referral(id: $id) { id } }`, { id: outside.pending });
    expect(referral.data.referral).toEqual({ id: outside.pending });
  });

  it('a lock another transaction holds on the outside record is not waited for: the answer comes as quickly as for an unknown id', async () => {
    const holder = new Client({ connectionString: t.databaseUrl });
    await holder.connect();
    const slow: string[] = [];
    const calls: [string, Department, string, string][] = [];
    const recordTable = (name: string) =>
      Object.keys(outsideByStatus).find((tb) => tb.split('.')[1].replace(/_/g, '') === name.replace(/^(create|update|record)/, '').toLowerCase())
      ?? ({ PoliceIncident: 'police.incident', DomesticViolenceSupport: 'womens_federation.violence_support', PersuasionAction: 'education.dropout_report',
        MisbehaviourFollowUp: 'youth_league.prevention_case', CareVisit: 'womens_federation.care_plan' } as Record<string, string>)[name.replace(/^(create|update|record)/, '')];
    for (const [name, call] of Object.entries(DEPARTMENT_MUTATION_CALLS)) {
      const q = `mutation($id: ID!) { ${call.replace(/"00000000-0000-4000-8000-000000000000"/, '$id').replace('{ __typename }', '{ id }')} }`;
      const tb = recordTable(name);
      const owner = ({ education: Department.EDUCATION, police: Department.POLICE, justice: Department.JUSTICE, youth_league: Department.YOUTH_LEAGUE, womens_federation: Department.WOMENS_FEDERATION } as Record<string, Department>)[tb.split('.')[0]];
      if (name.startsWith('create')) calls.push([name, owner, q, `registry.minor:${outside.minor}`]);
      else calls.push([name, owner, q, `${tb}:${outsideByStatus[tb][0]}`]);
    }
    for (const [name, q] of [
      ['updateMinor', `mutation($id: ID!) { updateMinor(id: $id, input: { school: "x" }) { id } }`],
      ['addGuardian', `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: FATHER, name: "王某" }) { id } }`],
      ['addCategory', `mutation($id: ID!) { addCategory(minorId: $id, category: POVERTY) { id } }`],
      ['removeCategory', `mutation($id: ID!) { removeCategory(minorId: $id, category: POVERTY) { id } }`],
      ['recordAssessment', `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: BLUE, reasons: "x" }) { id } }`],
      ['recordVisit', `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "x" }) { id } }`],
      ['createReferral', `mutation($id: ID!) { createReferral(input: { minorId: $id, type: COUNSELLING, need: "x", toDepartment: "EDUCATION" }) { id } }`],
    ]) calls.push([name, Department.CIVIL_AFFAIRS, q, `registry.minor:${outside.minor}`]);
    calls.push(['removeGuardian', Department.CIVIL_AFFAIRS, `mutation($id: ID!) { removeGuardian(guardianId: $id) }`, `registry.guardian:${outside.guardian}`]);
    calls.push(['acceptReferral', Department.EDUCATION, `mutation($id: ID!) { acceptReferral(id: $id) { id } }`, `workflow.referral:${outside.pending}`]);
    calls.push(['declineReferral', Department.EDUCATION, `mutation($id: ID!) { declineReferral(id: $id, reason: "r") { id } }`, `workflow.referral:${outside.pending}`]);
    calls.push(['completeReferral', Department.EDUCATION, `mutation($id: ID!) { completeReferral(id: $id, outcome: "o") { id } }`, `workflow.referral:${outside.accepted}`]);
    calls.push(['transitionReport', Department.POLICE, `mutation($id: ID!) { transitionReport(id: $id, to: VERIFYING, note: "n") { id } }`, `workflow.mandatory_report:${outside.received}`]);
    calls.push(['acknowledge', Department.EDUCATION, `mutation($id: ID!) { acknowledge(id: $id) { id } }`, `workflow.notification:${outside['notification:EDUCATION']}`]);
    calls.push(['deactivateWebhook', Department.POLICE, `mutation($id: ID!) { deactivateWebhook(id: $id) { id } }`, `workflow.webhook:${outside['webhook:POLICE']}`]);
    calls.push(['fileMandatoryReport', Department.POLICE, `mutation($id: ID) { fileMandatoryReport(input: { harmType: NEGLECT, observation: "o", location: "l", regionCode: "${STREET}", urgency: NORMAL, childId: $id }) { status } }`, `registry.minor:${outside.minor}`]);
    try {
      // The control: the record's own jurisdiction does wait for the lock.
      await holder.query('BEGIN');
      try {
        await holder.query(`SELECT 1 FROM workflow.referral WHERE id = $1 FOR UPDATE`, [outside.pending]);
        const own = t.gql(await t.token(Department.EDUCATION), `mutation($id: ID!) { acceptReferral(id: $id) { id } }`, { id: outside.pending });
        expect(await within(1000, own)).toBe('blocked');
        await holder.query('ROLLBACK');
        await own;
      } finally {
        await holder.query('ROLLBACK');
      }
      outside.pending = await (async () => {
        const r = await t.gql(await t.token(Department.CIVIL_AFFAIRS), `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, { i: { minorId: outside.minor, type: 'COUNSELLING', need: 'x', toDepartment: 'EDUCATION' } });
        return r.data.createReferral.id as string;
      })();
      for (const [name, department, q, target] of calls) {
        const [table, id] = target.split(':');
        for (const region of [STREET, grid]) {
          const token = await t.token(department, { region });
          await holder.query('BEGIN');
          try {
            await holder.query(`SELECT 1 FROM ${table} WHERE id = $1 FOR UPDATE`, [id]);
            const started = Date.now();
            const r = await within(2500, t.gql(token, q, { id }));
            if (r === 'blocked' || Date.now() - started > 1500) slow.push(`${name} at ${region} waited for the lock on ${table}`);
          } finally {
            await holder.query('ROLLBACK');
          }
        }
      }
    } finally {
      await holder.end();
    }
    expect(slow).toEqual([]);
  }, 300_000);

  it('audit: a street auditor’s access history and event search for another street’s child or request', async () => {
    const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR, region: STREET });
    const untouched = (await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id DESC LIMIT 3`, [`${OTHER_STREET}%`])).map((r) => r.id as string);
    const [{ request_id: request }] = await t.sql(`SELECT request_id FROM audit.event WHERE region LIKE '330102002%' OR region = '330102' ORDER BY seq DESC LIMIT 1`);
    // An id asked once is in the trail (the auditor's own question): each side asks one never asked before.
    const once = async (query: string, out: Record<string, unknown>, unknown: Record<string, unknown>) => {
      await answer(auditor, query, rid(), DEFAULT_PURPOSE);
      const a = await answer(auditor, query, out, DEFAULT_PURPOSE);
      const b = await answer(auditor, query, unknown, DEFAULT_PURPOSE);
      expect(a).toEqual(b);
    };
    await once(`query($id: ID!) { minorAccessHistory(minorId: $id) { seq } }`, { id: untouched[0] }, rid());
    await once(`query($id: ID) { auditEvents(filter: { minorId: $id }) { edges { node { seq } } } }`, { id: untouched[1] }, rid());
    await once(`query($id: ID) { auditEvents(filter: { requestId: $id }) { edges { node { seq } } } }`, { id: request }, rid());
  });

  it('history lists of a child of the street, paged on from a row of another street’s child', async () => {
    const LISTS: [string, string][] = [
      ['visits', 'registry.visit'], ['assessments', 'registry.risk_assessment'],
      ['schoolEnrollments', 'education.school_enrollment'], ['dropoutReports', 'education.dropout_report'], ['bullyingCases', 'education.bullying_case'], ['educationAid', 'education.education_aid'],
      ['policeIncidents', 'police.incident'], ['guardianAdmonishments', 'police.guardian_admonishment'], ['identityVerifications', 'police.identity_verification'],
      ['incarceratedParents', 'justice.incarcerated_parent'], ['communityCorrections', 'justice.community_correction'], ['legalAidCases', 'justice.legal_aid_case'],
      ['preventionCases', 'youth_league.prevention_case'], ['idleSupports', 'youth_league.idle_support'], ['volunteerVisits', 'youth_league.volunteer_visit'],
      ['carePlans', 'womens_federation.care_plan'], ['familyEducationSessions', 'womens_federation.family_education_session'],
      ['domesticViolenceSupports', 'womens_federation.violence_support'], ['childrenHomeAttendances', 'womens_federation.children_home_attendance'],
      ['referrals', 'workflow.referral'], ['mandatoryReports', 'workflow.mandatory_report'],
    ];
    for (const d of DEPARTMENTS) {
      const token = await t.token(d, { region: STREET });
      for (const [field, table] of LISTS) {
        const [row] = await t.sql(`SELECT id FROM ${table} WHERE minor_id = $1 OR minor_id IN (SELECT id FROM registry.minor WHERE grid_code NOT LIKE $2) ORDER BY (minor_id = $1) DESC, id LIMIT 1`, [outside.minor, `${STREET}%`]);
        if (!row) throw new Error(`no outside row in ${table}`);
        await probe(`${d} Minor.${field}(after)`, token, `query($c: ID!, $id: ID) { minor(id: $c) { id ${field}(after: $id) { id } } }`, { c: outside.inside, id: row.id }, { c: outside.inside, id: randomUUID() });
      }
    }
    expect(differences).toEqual([]);
  }, 300_000);

  it('a report naming a child of the street by number and another id links as one naming that number and an unknown id', async () => {
    // Preferring the id, the filing linked another street's child when the id was a registered
    // child's and the street's child when it was no one's: the filer read the link back (and the
    // street's officers the notification), an oracle on whether any id is a registered child's.
    const [inside] = await t.sql(`SELECT id, trim(id_number) AS n FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id DESC LIMIT 1`, [`${STREET}%`]);
    const police = await t.token(Department.POLICE, { region: STREET });
    const file = `mutation($id: ID, $n: String) { fileMandatoryReport(input: { harmType: NEGLECT, observation: "o", location: "l", regionCode: "${STREET}", urgency: NORMAL, childId: $id, childIdNumber: $n }) { id } }`;
    const filed = async (childId: string) => {
      const id = (await t.gql(police, file, { id: childId, n: inside.n })).data.fileMandatoryReport.id as string;
      const report = (await t.gql(police, `query($id: ID!) { mandatoryReport(id: $id) { minor { id } childIdNumber } }`, { id })).data.mandatoryReport;
      const [told] = await t.sql(`SELECT minor_id, payload ? 'Minor.name' AS named FROM workflow.notification WHERE subject_id = $1 AND department = 'POLICE'`, [id]);
      return { report, told };
    };
    const [a, b] = [await filed(outside.minor), await filed(randomUUID())];
    expect(a).toEqual(b);
    // An id and a number naming one child link it, each alone links its child.
    const both = await t.gql(police, file, { id: inside.id, n: inside.n });
    const linked = await t.sql(`SELECT minor_id FROM workflow.mandatory_report WHERE id = $1`, [both.data.fileMandatoryReport.id]);
    expect(linked).toEqual([{ minor_id: inside.id }]);
    const byId = await t.gql(police, file, { id: inside.id, n: null });
    expect(await t.sql(`SELECT minor_id FROM workflow.mandatory_report WHERE id = $1`, [byId.data.fileMandatoryReport.id])).toEqual([{ minor_id: inside.id }]);
    const byNumber = await t.gql(police, file, { id: null, n: inside.n });
    expect(await t.sql(`SELECT minor_id FROM workflow.mandatory_report WHERE id = $1`, [byNumber.data.fileMandatoryReport.id])).toEqual([{ minor_id: inside.id }]);
  });

  it('another department’s notification, webhook and referral in the caller’s own street', async () => {
    const mine: Record<string, string> = {};
    const [child] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id LIMIT 1 OFFSET 5`, [`${STREET}%`]);
    const referral = (
      await t.gql(await t.token(Department.EDUCATION, { region: STREET }), `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, {
        i: { minorId: child.id, type: 'COUNSELLING', need: 'x', toDepartment: 'POLICE' },
      })
    ).data.createReferral.id as string;
    await t.gql(
      await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-street' }),
      `mutation { fileMandatoryReport(input: { harmType: NEGLECT, observation: "o", location: "l", regionCode: "${STREET}", urgency: NORMAL }) { status } }`,
      {},
      {},
    );
    for (const d of DEPARTMENTS) {
      const [n] = await t.sql(`SELECT id FROM workflow.notification WHERE department = $1 AND region_code LIKE $2 AND acknowledged_at IS NULL ORDER BY id LIMIT 1`, [d, `${STREET}%`]);
      if (n) mine[`notification:${d}`] = n.id;
      const r = await t.gql(await t.token(d, { region: STREET }), `mutation { registerWebhook(url: "http://127.0.0.1:9/street-${d.toLowerCase()}") { webhook { id } } }`, {}, {});
      mine[`webhook:${d}`] = r.data.registerWebhook.webhook.id;
    }
    expect(Object.keys(mine).filter((k) => k.startsWith('notification:')).length).toBeGreaterThan(0);
    for (const d of DEPARTMENTS) {
      const token = await t.token(d, { region: STREET });
      for (const [key, id] of Object.entries(mine).filter(([k]) => !k.endsWith(`:${d}`))) {
        const q = key.startsWith('webhook:') ? `mutation($id: ID!) { deactivateWebhook(id: $id) { id } }` : `mutation($id: ID!) { acknowledge(id: $id) { id } }`;
        await probe(`${d} ${key}`, token, q, { id }, rid());
        const list = key.startsWith('webhook:') ? `query($id: ID) { webhooks(after: $id) { id } }` : `query($id: ID) { notifications(after: $id) { id } }`;
        await probe(`${d} after ${key}`, token, list, { id }, rid());
      }
      // Neither party to the referral (civil affairs, the lead, reads all of its jurisdiction's).
      if (![Department.EDUCATION, Department.POLICE, Department.CIVIL_AFFAIRS].includes(d)) {
        await probe(`${d} referral of others`, token, `query($id: ID!) { referral(id: $id) { id } }`, { id: referral }, rid());
        await probe(`${d} acceptReferral of others`, token, `mutation($id: ID!) { acceptReferral(id: $id) { id } }`, { id: referral }, rid());
        await probe(`${d} referrals after others`, token, `query($id: ID) { referrals(after: $id) { id } }`, { id: referral }, rid());
      }
    }
    // The sender is no receiver: it cannot answer its own referral, and is told so only as a party.
    expect(differences).toEqual([]);
  }, 300_000);

  it('ids as a client may spell them (capitals), and without a purpose', async () => {
    for (const d of DEPARTMENTS) {
      const token = await t.token(d, { region: STREET });
      const up = () => ({ id: randomUUID().toUpperCase() });
      await probe(`${d} minor in capitals`, token, `query($id: ID!) { minor(id: $id) { id name } }`, { id: outside.minor.toUpperCase() }, up());
      await probe(`${d} referral in capitals`, token, `query($id: ID!) { referral(id: $id) { id } }`, { id: outside.pending.toUpperCase() }, up());
      await probe(`${d} acceptReferral in capitals`, token, `mutation($id: ID!) { acceptReferral(id: $id) { id } }`, { id: outside.pending.toUpperCase() }, up());
      await probe(`${d} mandatoryReport in capitals`, token, `query($id: ID!) { mandatoryReport(id: $id) { id } }`, { id: outside.received.toUpperCase() }, up());
      await probe(`${d} recordVisit in capitals`, token, `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "x" }) { id } }`, { id: outside.minor.toUpperCase() }, up());
      await probe(`${d} minor without purpose`, token, `query($id: ID!) { minor(id: $id) { id name } }`, { id: outside.minor }, rid(), { headers: {} });
      await probe(`${d} recordVisit without purpose`, token, `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "x" }) { id } }`, { id: outside.minor }, rid(), { headers: {} });
    }
    expect(differences).toEqual([]);
  }, 300_000);

  it('a report filed in the street naming another street’s child reads, steps and notifies as one naming an unregistered number', async () => {
    const reporter = await t.token(Department.EDUCATION, { role: Role.REPORTER, user: 'teacher-pair' });
    const file = async (n: string) =>
      (
        await t.gql(
          reporter,
          `mutation($n: String) { fileMandatoryReport(input: { harmType: NEGLECT, observation: "o", location: "l", regionCode: "${STREET}", urgency: NORMAL, childIdNumber: $n }) { id } }`,
          { n },
          {},
        )
      ).data.fileMandatoryReport.id as string;
    const linked = await file(outside.idNumber);
    const unlinked = await file(buildIdNumber('330102', '2012-03-04', 779));
    expect((await t.sql(`SELECT minor_id FROM workflow.mandatory_report WHERE id = $1`, [linked]))[0].minor_id).toBe(outside.minor);
    const read = `query($id: ID!) { mandatoryReport(id: $id) { id reporterDepartment harmType observation location regionCode urgency status overdue minor { id } transitions { fromStatus toStatus note department } } }`;
    const pair = async (label: string, token: string, query: string) => {
      // Both exist: no warm-up by an unknown id, each asked as the other.
      await answer(token, query, { id: unlinked }, DEFAULT_PURPOSE);
      const a = await answer(token, query, { id: linked }, DEFAULT_PURPOSE);
      const b = await answer(token, query, { id: unlinked }, DEFAULT_PURPOSE);
      for (const k of ['status', 'headers', 'json', 'statements', 'events'] as const) {
        if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) differences.push(`${label}: ${k} differ\n  linked: ${JSON.stringify(a[k]).slice(0, 800)}\n  unlinked: ${JSON.stringify(b[k]).slice(0, 800)}`);
      }
    };
    const police = await t.token(Department.POLICE, { region: STREET });
    const civil = await t.token(Department.CIVIL_AFFAIRS, { region: STREET });
    await pair('read', police, read);
    await pair('read by civil affairs', civil, read);
    const step = (to: string) => `mutation($id: ID!) { transitionReport(id: $id, to: ${to}, note: "n") { id status minor { id } transitions { toStatus } } }`;
    // Each step once per report: the first asks the unlinked one (pair's warm-up), so step them by hand.
    for (const to of ['VERIFYING', 'HANDLED', 'CLOSED']) {
      const b = await answer(police, step(to), { id: unlinked }, DEFAULT_PURPOSE);
      const a = await answer(police, step(to), { id: linked }, DEFAULT_PURPOSE);
      for (const k of ['status', 'headers', 'json', 'statements', 'events'] as const) {
        if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) differences.push(`step ${to}: ${k} differ\n  linked: ${JSON.stringify(a[k]).slice(0, 800)}\n  unlinked: ${JSON.stringify(b[k]).slice(0, 800)}`);
      }
      await pair(`read after ${to}`, police, read);
    }
    const payloads = await t.sql(`SELECT subject_id, department, region_code, minor_id, payload FROM workflow.notification WHERE subject_id = ANY($1) ORDER BY department`, [[linked, unlinked]]);
    // The times are each filing's own.
    const of = (id: string) =>
      payloads
        .filter((p) => p.subject_id === id)
        .map(({ subject_id: _s, payload: { 'MandatoryReport.observedAt': _o, 'MandatoryReport.verifyDueAt': _v, ...payload }, ...rest }) => ({ ...rest, payload }));
    expect(of(linked)).toEqual(of(unlinked));
    expect(differences).toEqual([]);
  });

  afterAll(() => {
    // eslint-disable-next-line no-console
    console.log(`existence sweep: ${probes} probes`);
  });
});
