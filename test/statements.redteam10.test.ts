import { Department, Role } from '../src/auth/principal';
import { refreshStatistics } from '../src/subgraphs/statistics';
import { GqlResult, startTestHub, statementsDuring, TestHub } from './support/test-hub';
import { DEPARTMENT_RECORD_TABLES } from './support/record-tables';

/**
 * Statement-count sweep: every list a role can page, selected with its relations, root or nested in
 * a child or in a page of children, costs a number of SQL statements that does not grow with the
 * page size (first: 1, 5, 50, 100).
 */
const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;
/**
 * The sizes asked. A smaller page may hold no row of some kind (a child with no care plan, a report
 * with no step), whose relation then costs no statement, or no hop back to the registry: so the
 * count may rise from 1 to 5 to 50, bounded by the relations selected, and must not rise from 50 to
 * 100, where every kind is on the page (it may fall, at a last page that needs no look-ahead).
 */
const SIZES = [1, 5, 50, 100];
const MINOR_REF = 'minor { id name guardians { name } categories { category } }';

/** Statistics: a finer level is more cells, not more statements. */
const STAT_LEVELS = ['DISTRICT', 'STREET', 'COMMUNITY', 'GRID'];
const STATISTICS = (level: string) => `{
  minorCounts(level: ${level}, by: [RISK_LEVEL, GENDER]) { cells { regionCode count { value suppressed } } total { value } }
  overdue: minorCounts(measure: OVERDUE_VISITS, level: ${level}, by: [RISK_LEVEL]) { cells { regionCode count { value } } }
  statisticsRates(level: ${level}) { regions { regionCode screening { percent numerator { value } } visitsOnTime { riskLevel rate { percent } } } total { regionCode } }
  monthlyTrend(months: 24) { points { month series count { value } } }
}`;

/** Every list of a child, `first: n`, each with its own relations, by the subgraph that serves it. */
const CHILD_LISTS: Record<string, (n: string) => string> = {
  registry: (n) => `name gender birthDate idNumber householdRegistration currentAddress school riskLevel nextVisitDue updatedAt age
    guardians { relationship name phone address situation situationNote } categories { category } latestAssessment { level } grid { code name parent { code } }
    assessments(first: ${n}) { level } visits(first: ${n}) { visitedAt }`,
  education: (n) => `schoolEnrollments(first: ${n}) { status ${MINOR_REF} } dropoutReports(first: ${n}) { status ${MINOR_REF} persuasionActions(first: ${n}) { method } }
    bullyingCases(first: ${n}) { role ${MINOR_REF} } educationAid(first: ${n}) { kind ${MINOR_REF} }`,
  police: (n) => `policeIncidents(first: ${n}) { type ${MINOR_REF} } policeProtectionCase { hasOpenCase } guardianAdmonishments(first: ${n}) { admonishedOn ${MINOR_REF} }
    identityVerifications(first: ${n}) { result ${MINOR_REF} }`,
  justice: (n) => `incarceratedParents(first: ${n}) { kind ${MINOR_REF} } communityCorrections(first: ${n}) { status ${MINOR_REF} } legalAidCases(first: ${n}) { matter ${MINOR_REF} }`,
  youth_league: (n) => `preventionCases(first: ${n}) { kind ${MINOR_REF} followUps(first: ${n}) { followedUpOn } } idleSupports(first: ${n}) { kind ${MINOR_REF} }
    volunteerVisits(first: ${n}) { visitedOn ${MINOR_REF} }`,
  womens_federation: (n) => `carePlans(first: ${n}) { kind ${MINOR_REF} visits(first: ${n}) { visitedOn } } familyEducationSessions(first: ${n}) { topic ${MINOR_REF} }
    domesticViolenceSupports(first: ${n}) { kind ${MINOR_REF} } childrenHomeAttendances(first: ${n}) { home ${MINOR_REF} }`,
  workflow: (n) => `referrals(first: ${n}) { id status grantedFields overdue ${MINOR_REF} }
    mandatoryReports(first: ${n}) { id status overdue transitions { toStatus } ${MINOR_REF} }`,
};
const GROUP_OF: Record<Department, string> = {
  CIVIL_AFFAIRS: 'registry', EDUCATION: 'education', POLICE: 'police', JUSTICE: 'justice', YOUTH_LEAGUE: 'youth_league', WOMENS_FEDERATION: 'womens_federation',
};
/** The first list of each group, whose rows the page size applies to. */
const FIRST_LIST: Record<string, string> = {
  registry: 'visits', education: 'schoolEnrollments', police: 'policeIncidents', justice: 'incarceratedParents',
  youth_league: 'idleSupports', womens_federation: 'familyEducationSessions', workflow: 'referrals',
};

interface Case {
  name: string;
  department: Department;
  role?: Role;
  /** The query with `$n` for the page size. */
  query: string;
  variables?: Record<string, unknown>;
  /** The rows of the page the size applies to. */
  rows: (data: any) => unknown[];
}

const page = (name: string, department: Department, list: string, fields: string): Case => ({
  name,
  department,
  query: `query($n: Int!) { ${list}(first: $n) { nodes { id ${fields} ${MINOR_REF} } nextCursor totalCount } }`,
  rows: (d) => d[list].nodes,
});

const ROOT_LISTS: Case[] = [
  ...Object.entries(CHILD_LISTS).map(([group, lists]) => ({
    name: `minors { ${group} lists(first: 2) }`,
    department: CA,
    query: `query($n: Int!) { minors(first: $n) { totalCount edges { node { id name ${lists('2')} } } } }`,
    rows: (d: any) => d.minors.edges,
  })),
  page('dropoutReports', ED, 'dropoutReports', 'status persuasionActions(first: 3) { method }'),
  page('incarceratedParents', JU, 'incarceratedParents', 'kind'),
  page('policeIncidents', PO, 'policeIncidents', 'type'),
  page('carePlans', WF, 'carePlans', 'kind visits(first: 3) { visitedOn }'),
  page('preventionCases', YL, 'preventionCases', 'kind followUps(first: 3) { followedUpOn }'),
  {
    name: 'referrals',
    department: CA,
    query: `query($n: Int!) { referrals(first: $n) { id status grantedFields overdue ${MINOR_REF} } }`,
    rows: (d) => d.referrals,
  },
  {
    name: 'referrals (received, police)',
    department: PO,
    query: `query($n: Int!) { referrals(first: $n) { id status grantedFields overdue ${MINOR_REF} } }`,
    rows: (d) => d.referrals,
  },
  {
    name: 'mandatoryReports',
    department: CA,
    query: `query($n: Int!) { mandatoryReports(first: $n) { id status overdue transitions { toStatus note } ${MINOR_REF} } }`,
    rows: (d) => d.mandatoryReports,
  },
  {
    name: 'overdueReports',
    department: PO,
    query: `query($n: Int!) { overdueReports(first: $n) { id status overdue transitions { toStatus } ${MINOR_REF} } }`,
    rows: (d) => d.overdueReports,
  },
  {
    name: 'myReports',
    department: ED,
    role: Role.REPORTER,
    query: `query($n: Int!) { myReports(first: $n) { id status receivedAt } }`,
    rows: (d) => d.myReports,
  },
  {
    name: 'notifications',
    department: CA,
    query: `query($n: Int!) { notifications(first: $n) { id kind payload { field value } ${MINOR_REF} } }`,
    rows: (d) => d.notifications,
  },
  {
    name: 'overdueVisits',
    department: CA,
    query: `query($n: Int!) { overdueVisits(first: $n) { riskLevel daysOverdue responsibleWorker ${MINOR_REF} } }`,
    rows: (d) => d.overdueVisits,
  },
  {
    name: 'barredPersons',
    department: PO,
    query: `query($n: Int!) { barredPersons(first: $n, includeRevoked: true) { id name revokedAt revocationReason } }`,
    rows: (d) => d.barredPersons,
  },
  {
    name: 'webhooks',
    department: CA,
    query: `query($n: Int!) { webhooks(first: $n) { id url active } }`,
    rows: (d) => d.webhooks,
  },
  {
    name: 'auditEvents',
    department: CA,
    role: Role.AUDITOR,
    query: `query($n: Int!) { auditEvents(first: $n) { edges { node { seq purpose { code } reads { minorId fields { field access } } changes { mutation id } } } } }`,
    rows: (d) => d.auditEvents.edges,
  },
  {
    name: 'minorAccessHistory',
    department: CA,
    role: Role.AUDITOR,
    query: `query($n: Int!, $child: ID!) { minorAccessHistory(first: $n, minorId: $child) { seq purpose { code } fields { field access } changes { mutation } } }`,
    rows: (d) => d.minorAccessHistory,
  },
  ...(
    [
      ['dropoutReports', ED],
      ['incarceratedParents', JU],
      ['policeIncidents', PO],
      ['carePlans', WF],
      ['preventionCases', YL],
    ] as const
  ).map(([list, department]) => ({
    name: `${list} { minor { registry, workflow, own lists } }`,
    department,
    query: `query($n: Int!) { ${list}(first: $n) { nodes { id minor { id ${CHILD_LISTS.registry('2')} ${CHILD_LISTS.workflow('2')} ${CHILD_LISTS[GROUP_OF[department]]('2')} } } } }`,
    rows: (d: any) => d[list].nodes,
  })),
  ...(['referrals', 'mandatoryReports', 'notifications', 'overdueVisits'] as const).flatMap((list) =>
    (['registry', 'womens_federation', 'education'] as const).map((group) => ({
      name: `${list} { minor { ${group} lists } }`,
      department: CA,
      query: `query($n: Int!) { ${list}(first: $n) { minor { id ${CHILD_LISTS[group]('2')} } } }`,
      rows: (d: any) => d[list],
    })),
  ),
  ...[PO, ED, JU, YL, WF].map((department) => ({
    name: `referrals { minor { registry lists } } as ${department} (fields its open referrals grant)`,
    department,
    query: `query($n: Int!) { referrals(first: $n) { id grantedFields minor { id ${CHILD_LISTS.registry('2')} } } }`,
    rows: (d: any) => d.referrals,
  })),
  {
    name: 'overdueReports { minor { police lists } } as police',
    department: PO,
    query: `query($n: Int!) { overdueReports(first: $n) { id minor { id ${CHILD_LISTS.registry('2')} ${CHILD_LISTS.police('2')} } } }`,
    rows: (d: any) => d.overdueReports,
  },
  // Filtered: a filter is a condition of the page's statement, never a test per row.
  {
    name: 'minors(filter: every condition)',
    department: CA,
    query: `query($n: Int!) { minors(first: $n, filter: { regionCode: "330102", riskLevels: [RED, ORANGE, YELLOW, BLUE], ageMin: 0, ageMax: 17, nextVisitDueBefore: "2100-01-01T00:00:00Z" }) { totalCount edges { node { id name ${CHILD_LISTS.registry('2')} } } } }`,
    rows: (d: any) => d.minors.edges,
  },
  {
    ...page('dropoutReports(filter)', ED, 'dropoutReports', 'status'),
    query: `query($n: Int!) { dropoutReports(first: $n, filter: { statuses: [OPEN, CLOSED] }) { nodes { id status ${MINOR_REF} } totalCount } }`,
  },
  {
    ...page('carePlans(filter)', WF, 'carePlans', 'kind'),
    query: `query($n: Int!) { carePlans(first: $n, filter: { notVisitedWithinDays: 1 }) { nodes { id kind lastVisitOn ${MINOR_REF} } totalCount } }`,
  },
  {
    ...page('incarceratedParents(filter)', JU, 'incarceratedParents', 'kind'),
    query: `query($n: Int!) { incarceratedParents(first: $n, filter: { releaseWithinDays: 366 }) { nodes { id kind ${MINOR_REF} } totalCount } }`,
  },
  {
    ...page('policeIncidents(filter)', PO, 'policeIncidents', 'type'),
    query: `query($n: Int!) { policeIncidents(first: $n, filter: { occurredWithinDays: 366 }) { nodes { id type ${MINOR_REF} } totalCount } }`,
  },
  {
    name: 'auditEvents(filter: minorId)',
    department: CA,
    role: Role.AUDITOR,
    query: `query($n: Int!, $child: ID!) { auditEvents(first: $n, filter: { minorId: $child }) { edges { node { seq reads { minorId fields { field access } } } } } }`,
    rows: (d: any) => d.auditEvents.edges,
  },
];

describe('statement counts do not grow with the page size', () => {
  let t: TestHub;
  let child: string;
  const report: string[] = [];
  beforeAll(async () => {
    t = await startTestHub();
    // The child with the most records of every kind.
    [{ id: child }] = await t.sql(`SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE '330102001%' ORDER BY m.id LIMIT 1`);
    await fill(t, child);
  });
  afterAll(async () => {
    console.log(report.join('\n'));
    await t?.stop();
  });

  async function statementsFor(c: Case, n: number): Promise<{ rows: number; statements: number }> {
    const token = await t.token(c.department, { role: c.role });
    const before = t.hub.db.statements.count;
    let r: GqlResult = { status: 0 };
    const sent = await statementsDuring(t, async () => {
      r = await t.gql(token, c.query, { n, child, ...c.variables });
    });
    // DEBUG_STATEMENTS=<part of a case's name>: the report lists that case's statements at each size.
    if (process.env.DEBUG_STATEMENTS && c.name.includes(process.env.DEBUG_STATEMENTS)) {
      report.push(`--- ${c.name} first ${n}\n` + sent.map((s) => '   ' + s.query.replace(/\s+/g, ' ').slice(0, 160)).join('\n'));
    }
    // A field the role may not read is refused (FORBIDDEN) and the rest answered: still counted.
    expect([c.name, (r.errors ?? []).filter((e) => e.extensions?.code !== 'FORBIDDEN')]).toEqual([c.name, []]);
    return { rows: c.rows(r.data).length, statements: t.hub.db.statements.count - before };
  }

  async function sweep(c: Case) {
    await statementsFor(c, 5); // warm-up (the region directory, prepared statements)
    const at = [] as { rows: number; statements: number }[];
    for (const n of SIZES) at.push(await statementsFor(c, n));
    report.push(`${c.name.padEnd(48)} ${SIZES.map((n, i) => `first ${n}: ${at[i].rows} rows ${at[i].statements} st`).join(' | ')}`);
    return at;
  }

  const expectFlat = (c: Case, at: { rows: number; statements: number }[]) => {
    const counts = at.map((a) => a.statements);
    // No rise from 50 to 100 (a statement per row would add 50); none at all from 5 on where the page
    // of 5 already holds every kind, which the report shows.
    expect([c.name, counts[3] <= counts[2]]).toEqual([c.name, true]);
  };

  it.each(ROOT_LISTS.map((c) => [c.name, c] as const))('root list %s', async (_name, c) => {
    const at = await sweep(c);
    expectFlat(c, at);
  });

  it('statistics at every level of the jurisdiction, as a civil affairs officer', async () => {
    await refreshStatistics(t.hub.db.ds);
    const token = await t.token(CA);
    const at: { level: string; cells: number; statements: number }[] = [];
    // Warm-up of the freshness and scope only: each level's tables are then computed, not taken from the cache.
    await t.gql(token, `{ statisticsFreshness { refreshedAt } statisticsScope { level } }`);
    for (const level of STAT_LEVELS) {
      const before = t.hub.db.statements.count;
      let r: GqlResult = { status: 0 };
      const sent = await statementsDuring(t, async () => {
        r = await t.gql(token, STATISTICS(level));
      });
      if (process.env.DEBUG_STATEMENTS === 'statistics') report.push(`--- ${level}\n` + sent.map((s) => '   ' + s.query.replace(/\s+/g, ' ').slice(0, 200) + ' ' + JSON.stringify(s.parameters).slice(0, 100)).join('\n'));
      expect([level, r.errors]).toEqual([level, undefined]);
      at.push({ level, cells: r.data.minorCounts.cells.length, statements: t.hub.db.statements.count - before });
    }
    report.push(`${'statistics (minorCounts x2, statisticsRates, monthlyTrend)'.padEnd(48)} ${at.map((a) => `${a.level}: ${a.cells} cells ${a.statements} st`).join(' | ')}`);
    // The first level also computes the monthly trend, which later levels take from the cache.
    const [district, ...finer] = at.map((a) => a.statements);
    expect(new Set(finer).size).toBe(1);
    expect(finer[0]).toBeLessThanOrEqual(district);
  });

  it('the regions of a street and of the whole district, each with its parent and children, in the same statements', async () => {
    // Each root field asked alone: two root fields' look-ups of the same loader share a statement or
    // not as their database replies happen to fall, which a busy machine changes.
    const REGIONS = `{ regions { code parent { code parent { code } } children { code children { code } } } }`;
    const GRIDS = `{ minors(first: 100) { edges { node { grid { code parent { code parent { code children { code } } } } } } } }`;
    const at: { region: string; regions: number; statements: number[] }[] = [];
    for (const region of ['330102', '330102001', '330102', '330102001']) {
      const token = await t.token(CA, { region });
      const statements: number[] = [];
      let regions = 0;
      for (const query of [REGIONS, GRIDS]) {
        const before = t.hub.db.statements.count;
        const r = await t.gql(token, query);
        expect(r.errors).toBeUndefined();
        statements.push(t.hub.db.statements.count - before);
        regions ||= r.data.regions?.length;
      }
      at.push({ region, regions, statements });
    }
    report.push(`${'regions { parent children }, minors { grid { parent… } }'.padEnd(48)} ${at.slice(2).map((a) => `${a.region}: ${a.regions} regions ${a.statements.join(' + ')} st`).join(' | ')}`);
    expect(at[2].regions).toBeGreaterThan(at[3].regions);
    expect(at[2].statements).toEqual(at[3].statements);
  });

  it.each(Object.keys(CHILD_LISTS))('the %s lists of one child, at first 1, 5, 50 and 100', async (group) => {
    const c: Case = {
      name: `minor { ${group} lists(first: n) }`,
      department: CA,
      query: `query($n: Int!, $child: ID!) { minor(id: $child) { id ${CHILD_LISTS[group]('$n')} } }`,
      rows: (d) => d.minor[FIRST_LIST[group]],
    };
    const at = await sweep(c);
    expect(at.map((a) => a.rows)).toEqual(SIZES);
    expectFlat(c, at);
  });

  // Every department asks every subgraph's lists: another department's records are refused, masked
  // or opened by a referral's grant field by field, never by a statement per child.
  const pages = Object.values(Department).flatMap((department) => Object.keys(CHILD_LISTS).map((group) => [department, group] as const));
  it.each(pages)('a page of 1, 5, 50 and 100 children, as %s, each with the %s lists', async (department, group) => {
    const c: Case = {
      name: `minors { ${group} lists(first: 3) } as ${department}`,
      department,
      query: `query($n: Int!) { minors(first: $n) { edges { node { id ${CHILD_LISTS[group]('3')} } } } }`,
      rows: (d) => d.minors.edges,
    };
    const at = await sweep(c);
    expect(at.map((a) => a.rows)).toEqual(SIZES);
    expectFlat(c, at);
  });
});

const CHILD_TABLES = ['registry.visit', 'registry.risk_assessment', ...DEPARTMENT_RECORD_TABLES];
/** Sub-records: table, parent column, parent table. */
const SUB_TABLES = [
  ['education.persuasion_action', 'report_id', 'education.dropout_report'],
  ['youth_league.follow_up', 'case_id', 'youth_league.prevention_case'],
  ['womens_federation.care_visit', 'plan_id', 'womens_federation.care_plan'],
];

/** Enough rows of every list for a page of 50: of `child`, and in the jurisdiction. */
async function fill(t: TestHub, child: string): Promise<void> {
  const copy = (table: string, set: string, params: unknown[]) =>
    t.sql(
      `INSERT INTO ${table} SELECT (jsonb_populate_record(NULL::${table}, to_jsonb(r) || jsonb_build_object('id', gen_random_uuid()) || ${set})).*
         FROM (SELECT r.* FROM ${table} r LIMIT 1) r, generate_series(1, 110) k`,
      params,
    );
  for (const table of CHILD_TABLES) await copy(table, `jsonb_build_object('minor_id', $1::uuid)`, [child]);
  for (const [table, column, parent] of SUB_TABLES) {
    const [{ id }] = await t.sql(`SELECT id FROM ${parent} WHERE minor_id = $1 ORDER BY id LIMIT 1`, [child]);
    await copy(table, `jsonb_build_object('minor_id', $1::uuid, '${column}', $2::uuid)`, [child, id]);
  }
  // 110 children of the jurisdiction, each with a referral to police, a report (overdue, with two steps),
  // a notification to civil affairs; bars and webhooks; reports an education reporter filed.
  const kids = `(SELECT id, grid_code, row_number() OVER (ORDER BY id) k FROM registry.minor ORDER BY id LIMIT 110) m`;
  await t.sql(`INSERT INTO workflow.referral (id, minor_id, type, need, from_department, from_user, to_department, region_code, status, created_at, answer_due_at)
    SELECT gen_random_uuid(), m.id, 'LEGAL_AID', 'need ' || k, 'CIVIL_AFFAIRS', 'civil_affairs-test',
           (ARRAY['POLICE','EDUCATION','JUSTICE','YOUTH_LEAGUE','WOMENS_FEDERATION'])[1 + k % 5], m.grid_code, 'PENDING', now() - make_interval(mins => k::int), now() - interval '1 hour' FROM ${kids}`);
  await t.sql(`INSERT INTO workflow.mandatory_report (id, reporter_id, reporter_department, harm_type, observation, observed_at, location, region_code, minor_id, urgency, status, received_at, verify_due_at, handle_due_at, updated_at)
    SELECT gen_random_uuid(), 'education-test', 'EDUCATION', 'NEGLECT', 'seen ' || k, now() - interval '2 days', 'school', m.grid_code, m.id, 'NORMAL', 'VERIFYING',
           now() - make_interval(mins => k::int), now() - interval '1 day', now() - interval '1 hour', now() - interval '1 hour' FROM ${kids}`);
  await t.sql(`INSERT INTO workflow.report_transition (id, report_id, minor_id, from_status, to_status, officer_id, department, note, at)
    SELECT gen_random_uuid(), r.id, r.minor_id, s.f, s.t, 'police-test', 'POLICE', 'step', r.received_at + s.d
      FROM workflow.mandatory_report r, (VALUES ('RECEIVED', 'VERIFYING', interval '1 minute')) s(f, t, d) WHERE r.reporter_id = 'education-test'`);
  await t.sql(`INSERT INTO workflow.notification (id, kind, department, region_code, minor_id, subject_id, payload, created_at)
    SELECT gen_random_uuid(), 'REFERRAL_RECEIVED', 'CIVIL_AFFAIRS', m.grid_code, m.id, gen_random_uuid(), jsonb_build_object('Minor.name', 'n', 'Referral.type', 'LEGAL_AID'), now() - make_interval(mins => k::int) FROM ${kids}`);
  await t.sql(`INSERT INTO workflow.barred_person (id, id_number_hash, name, offence, judgement_reference, created_by, created_at)
    SELECT gen_random_uuid(), encode(sha256(('bar' || k)::bytea), 'hex'), 'p' || k, 'ABUSE', 'ref ' || k, 'police-test', now() - make_interval(mins => k) FROM generate_series(1, 110) k`);
  await t.sql(`INSERT INTO workflow.webhook (id, department, region_code, url, secret, active, created_by, created_at)
    SELECT gen_random_uuid(), 'CIVIL_AFFAIRS', '330102', 'https://example.org/h' || k, 's', true, 'civil_affairs-test', now() - make_interval(mins => k) FROM generate_series(1, 110) k`);
  // 110 referrals and reports of the child itself, and one step of each report.
  await t.sql(`INSERT INTO workflow.referral (id, minor_id, type, need, from_department, from_user, to_department, region_code, status, created_at, answer_due_at)
    SELECT gen_random_uuid(), m.id, 'LEGAL_AID', 'need ' || k, 'CIVIL_AFFAIRS', 'civil_affairs-test', 'POLICE', m.grid_code, 'PENDING', now() - make_interval(hours => k), now() + interval '1 hour'
      FROM registry.minor m, generate_series(1, 110) k WHERE m.id = $1`, [child]);
  await t.sql(`INSERT INTO workflow.mandatory_report (id, reporter_id, reporter_department, harm_type, observation, observed_at, location, region_code, minor_id, urgency, status, received_at, verify_due_at, handle_due_at, updated_at)
    SELECT gen_random_uuid(), 'teacher-1', 'EDUCATION', 'NEGLECT', 'seen ' || k, now() - interval '2 days', 'school', m.grid_code, m.id, 'NORMAL', 'VERIFYING',
           now() - make_interval(hours => k), now() - interval '1 day', now() + interval '1 hour', now() - interval '1 hour' FROM registry.minor m, generate_series(1, 110) k WHERE m.id = $1`, [child]);
  await t.sql(`INSERT INTO workflow.report_transition (id, report_id, minor_id, from_status, to_status, officer_id, department, note, at)
    SELECT gen_random_uuid(), r.id, r.minor_id, 'RECEIVED', 'VERIFYING', 'police-test', 'POLICE', 'step', r.received_at + interval '1 minute'
      FROM workflow.mandatory_report r WHERE r.reporter_id = 'teacher-1'`);
  // The child first of the overdue visits and reports, so that every page of them holds every kind of record.
  await t.sql(
    `UPDATE workflow.mandatory_report SET verify_due_at = now() - interval '4 days', handle_due_at = now() - interval '3 days'
      WHERE id = (SELECT id FROM workflow.mandatory_report WHERE minor_id = $1 AND reporter_id = 'teacher-1' ORDER BY id LIMIT 1)`,
    [child],
  );
  await t.sql(`UPDATE registry.minor SET risk_level = 'RED', next_visit_due = now() - interval '1000 days' WHERE id = $1`, [child]);
  // 110 reads of the child, for its access history.
  const token = await t.token(CA);
  for (let i = 0; i < 110; i++) expect((await t.gql(token, `query($id: ID!) { minor(id: $id) { name } }`, { id: child })).errors).toBeUndefined();
}
