import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { buildIdNumber } from '../src/common/id-number';
import { expectAnsweredAsUnknown } from './support/unknown-id';
import { buildPolicy } from '../src/server/bootstrap';
import { runEscalations } from '../src/subgraphs/workflow/workflow.jobs';
import { eventOf, post } from './support/audit-helpers';
import { DEPARTMENT_RECORD_TABLES } from './support/record-tables';
import { DEPARTMENT_MUTATION_CALLS } from './support/department-probes';
import { chinaDay } from '../src/common/dates';
import { refreshStatistics } from '../src/subgraphs/statistics/statistics.refresh';
import { errorCodes, postAsGateway, startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';
import { SUBGRAPHS } from '../src/subgraphs';

jest.setTimeout(900_000);

/**
 * A child MOVES between streets (CIVIL_AFFAIRS `updateMinor(input: { gridCode })`). After the move the
 * old street's officers of every department must answer for the child exactly as for an unknown id
 * (README "Row level (jurisdiction)") on every read path, and the new street's officers must see it;
 * nothing cached in the old street's reads survives the move. Moves the caller may not make are
 * refused with a typed error and write nothing.
 */
const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;
const DEPTS = [CA, ED, PO, JU, YL, WF];
const STREET_A = '330102001';
const STREET_B = '330102002';
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; moves' };
const MOVE = `mutation Move($id: ID!, $g: ID) { updateMinor(id: $id, input: { gridCode: $g }) { id grid { code } } }`;
const COMPILED = `query Child($id: ID!) { minor(id: $id) { id gender age riskLevel school } }`;
const NESTED: Record<string, string> = {
  CIVIL_AFFAIRS: 'schoolEnrollments { id } dropoutReports { id } policeIncidents { id } incarceratedParents { id } preventionCases { id } carePlans { id } referrals { id } mandatoryReports { id }',
  EDUCATION: 'schoolEnrollments { id } dropoutReports { id } preventionCases { id } referrals { id }',
  POLICE: 'policeIncidents { id } incarceratedParents { id } preventionCases { id } referrals { id } mandatoryReports { id }',
  JUSTICE: 'incarceratedParents { id } preventionCases { id } referrals { id }',
  YOUTH_LEAGUE: 'preventionCases { id } referrals { id }',
  WOMENS_FEDERATION: 'carePlans { id } referrals { id }',
};
const GENERAL = (dept: string) => `query G($id: ID!) { minor(id: $id) { id name grid { code } categories { category } guardians { relationship } latestAssessment { level } policeProtectionCase { hasOpenCase } ${NESTED[dept]} } }`;
const PAGES: Record<string, string[]> = {
  CIVIL_AFFAIRS: ['dropoutReports', 'policeIncidents', 'incarceratedParents', 'preventionCases', 'carePlans'],
  EDUCATION: ['dropoutReports'],
  POLICE: ['dropoutReports', 'policeIncidents', 'preventionCases'],
  JUSTICE: ['incarceratedParents'],
  YOUTH_LEAGUE: ['dropoutReports', 'preventionCases'],
  WOMENS_FEDERATION: ['carePlans'],
};
const VISITS_READERS = new Set<string>([CA, PO, JU, WF]);
const REPORT_READERS = new Set<string>([CA, PO]);

interface Child {
  id: string;
  idNumber: string;
  grid: string;
  records: string[];
}

/** Every read path of a department officer, each answer as text (to look for the child's ids in). */
async function readPaths(t: TestHub, token: string, dept: string, child: Child, grid: string): Promise<Record<string, { text: string; json: any }>> {
  const out: Record<string, { text: string; json: any }> = {};
  const ask = async (name: string, query: string, variables: Record<string, unknown> = {}) => {
    const r = await post(t, token, { query, variables }, PURPOSE);
    out[name] = { text: JSON.stringify(r.json), json: r.json };
    const odd = (r.json?.errors ?? []).filter((e: any) => e.extensions?.code !== 'FORBIDDEN');
    if (odd.length) throw new Error(`${dept} ${name}: ${JSON.stringify(odd)}`);
  };
  await ask('compiled', COMPILED, { id: child.id });
  await ask('general', GENERAL(dept), { id: child.id });
  if (dept === CA || dept === PO) await ask('minorByIdNumber', `query($n: String!) { minorByIdNumber(idNumber: $n) { id name } }`, { n: child.idNumber });
  await ask('minors.grid', `query($g: String) { minors(filter: { regionCode: $g }, first: 1000) { totalCount pageInfo { hasNextPage } edges { cursor node { id } } } }`, { g: grid });
  await ask('minors.all', `{ minors(first: 1000) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }`);
  await ask('minors.count', `{ minors { totalCount } }`);
  await ask('minors.red', `query($g: String) { minors(filter: { regionCode: $g, riskLevels: [RED], ageMin: 0, ageMax: 17, categories: [LACK_OF_GUARDIANSHIP] }, first: 1000) { totalCount edges { node { id } } } }`, { g: grid });
  if (VISITS_READERS.has(dept)) await ask('minors.due', `query($g: String, $d: DateTimeISO) { minors(filter: { regionCode: $g, nextVisitDueBefore: $d }, first: 1000) { totalCount edges { node { id } } } }`, { g: grid, d: new Date(Date.now() + 86_400_000).toISOString() });
  for (const page of PAGES[dept]) await ask(`page.${page}`, `{ ${page}(first: 1000) { totalCount nextCursor nodes { id minor { id } } } }`);
  await ask('notifications', `{ notifications(first: 500) { id kind regionCode minor { id } payload { field value } } }`);
  await ask('referrals', `{ referrals(first: 500) { id regionCode minor { id } } }`);
  if (REPORT_READERS.has(dept)) {
    await ask('mandatoryReports', `{ mandatoryReports(first: 500) { id regionCode minor { id } } }`);
    await ask('overdueReports', `{ overdueReports(first: 500) { id regionCode minor { id } } }`);
  }
  if (VISITS_READERS.has(dept)) await ask('overdueVisits', `query($g: ID) { overdueVisits(regionCode: $g, first: 500) { minor { id } gridCode } }`, { g: grid });
  return out;
}

/** Which answers name the child or any record of it. */
const naming = (answers: Record<string, { text: string }>, child: Child) =>
  Object.entries(answers)
    .filter(([, a]) => a.text.includes(child.id) || child.records.some((r) => a.text.includes(r)))
    .map(([k]) => k)
    .sort();

async function pickChild(t: TestHub, street: string): Promise<Child> {
  const kinds = DEPARTMENT_RECORD_TABLES.map((tb) => `(EXISTS (SELECT 1 FROM ${tb} x WHERE x.minor_id = m.id))::int`).join(' + ');
  const [row] = await t.sql(
    `SELECT m.id, m.id_number, m.grid_code, ${kinds} AS kinds FROM registry.minor m
      WHERE m.grid_code LIKE '${street}%' AND registry.is_minor(m.birth_date, now())
        -- Old enough for every department record (work from 16, a dropout from 6, a community correction from 12).
        AND m.birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '16 years'
        AND m.risk_level IS DISTINCT FROM 'RED'
        AND NOT EXISTS (SELECT 1 FROM registry.minor_category c WHERE c.minor_id = m.id AND c.category = 'LACK_OF_GUARDIANSHIP')
        AND NOT EXISTS (SELECT 1 FROM workflow.referral r WHERE r.minor_id = m.id)
      ORDER BY kinds DESC, m.id LIMIT 1`,
  );
  const records: string[] = [];
  for (const tb of DEPARTMENT_RECORD_TABLES) records.push(...(await t.sql(`SELECT id FROM ${tb} WHERE minor_id = $1`, [row.id])).map((r: any) => r.id));
  return { id: row.id, idNumber: row.id_number, grid: row.grid_code, records };
}

const gridOf = async (t: TestHub, street: string, n = 0) =>
  (await t.sql(`SELECT code FROM registry.region WHERE code LIKE '${street}%' AND level = 'GRID' ORDER BY code OFFSET ${n} LIMIT 1`))[0].code as string;

/** Gives the child a report, a referral and notifications in its street (all before the move). */
async function workflowRecords(t: TestHub, child: Child): Promise<{ report: string; referral: string; notifications: string[] }> {
  const civilA = await t.token(CA, { region: STREET_A, user: 'ca-a' });
  const reporter = await t.token(ED, { role: Role.REPORTER, user: 'teacher-move' });
  const rep = await t.gql(reporter, `mutation($i: FileReportInput!) { fileMandatoryReport(input: $i) { id } }`, {
    i: { harmType: 'NEGLECT', observation: '迁居前观察', location: '学校', regionCode: child.grid, urgency: 'NORMAL', childId: child.id, childIdNumber: child.idNumber },
  });
  expect(rep.errors).toBeUndefined();
  const report = rep.data.fileMandatoryReport.id as string;
  // Overdue for verification, so that `overdueReports` lists it.
  await t.sql(`UPDATE workflow.mandatory_report SET verify_due_at = now() - interval '1 hour' WHERE id = $1`, [report]);
  const ref = await t.gql(civilA, `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, {
    i: { minorId: child.id, type: 'EDUCATION_AID', toDepartment: 'EDUCATION', need: '迁居前转介' },
  });
  expect(ref.errors).toBeUndefined();
  const cat = await t.gql(civilA, `mutation($id: ID!) { addCategory(minorId: $id, category: LACK_OF_GUARDIANSHIP) { id } }`, { id: child.id });
  expect(cat.errors).toBeUndefined();
  const red = await t.gql(civilA, `mutation($id: ID!) { recordAssessment(minorId: $id, input: { level: RED, reasons: "迁居前评估" }) { id } }`, { id: child.id });
  expect(red.errors).toBeUndefined();
  const notifications = (await t.sql(`SELECT id FROM workflow.notification WHERE minor_id = $1`, [child.id])).map((r: any) => r.id as string);
  expect(notifications.length).toBeGreaterThan(0);
  return { report, referral: ref.data.createReferral.id, notifications };
}

describe.each([
  ['in process', false],
  ['with every subgraph served alone', true],
])('a child moved between streets, %s (redteam16)', (_mode, distributed) => {
  let t: TestHub;
  let child: Child;
  let from: string;
  let to: string;
  let wf: { report: string; referral: string; notifications: string[] };
  let originalName: string;

  beforeAll(async () => {
    t = distributed ? await startDistributedTestHub() : await startTestHub();
    child = await pickChild(t, STREET_A);
    from = child.grid;
    to = await gridOf(t, STREET_B, 1);
    wf = await workflowRecords(t, child);
    [{ name: originalName }] = await t.sql(`SELECT name FROM registry.minor WHERE id = $1`, [child.id]);
    // Give the child a name no other child has, so that it can be looked for in every answer.
    const civil = await t.token(CA);
    expect((await t.gql(civil, `mutation($id: ID!) { updateMinor(id: $id, input: { name: "迁居红队童" }) { id } }`, { id: child.id })).errors).toBeUndefined();
  });
  afterAll(() => t?.stop());

  it('every read path of every department of the old street stops naming the child, the new street’s start, after the old street warmed each path', async () => {
    const problems: string[] = [];
    const old: Record<string, string> = {};
    const neu: Record<string, string> = {};
    for (const d of DEPTS) {
      old[d] = await t.token(d, { region: STREET_A, user: `${d.toLowerCase()}-a` });
      neu[d] = await t.token(d, { region: STREET_B, user: `${d.toLowerCase()}-b` });
    }
    // Warm every path as the old street: the child is theirs.
    const before: Record<string, string[]> = {};
    const countsBefore: Record<string, number> = {};
    const compiledBefore = t.hub.compiledReadsServed() ?? 0;
    for (const d of DEPTS) {
      const a = await readPaths(t, old[d], d, child, from);
      before[d] = naming(a, child);
      countsBefore[d] = a['minors.count'].json.data.minors.totalCount;
      if (!before[d].includes('compiled') || !before[d].includes('general')) problems.push(`${d} old street did not see the child before the move: ${before[d]}`);
      // The new street asks too before the move (warming its own paths), and is told nothing.
      const b = naming(await readPaths(t, neu[d], d, child, to), child);
      if (b.length) problems.push(`${d} new street named the child before the move: ${b}`);
    }
    if (!distributed) expect(t.hub.compiledReadsServed()! - compiledBefore).toBeGreaterThanOrEqual(DEPTS.length);

    const district = await t.token(CA);
    const moved = await post(t, district, { query: MOVE, variables: { id: child.id, g: to } }, PURPOSE);
    expect(moved.json).toEqual({ data: { updateMinor: { id: child.id, grid: { code: to } } } });
    expect((await eventOf(t, moved.requestId)).changes).toEqual([{ fields: ['id', 'input.gridCode'], id: child.id, minorId: child.id, mutation: 'updateMinor' }]);

    for (const d of DEPTS) {
      const a = await readPaths(t, old[d], d, child, from);
      const named = naming(a, child);
      if (named.length) problems.push(`${d} old street still names the moved child in: ${named.join(', ')}`);
      if (a.compiled.json.data?.minor !== null) problems.push(`${d} old street compiled read: ${a.compiled.text}`);
      if (a.general.json.data?.minor !== null) problems.push(`${d} old street general read: ${a.general.text}`);
      if (a['minors.count'].json.data.minors.totalCount !== countsBefore[d] - 1) problems.push(`${d} old street count ${a['minors.count'].json.data.minors.totalCount}, was ${countsBefore[d]}`);
      // The old street's copies of the notifications carry nothing of the child's record.
      for (const p of ['notifications', 'referrals', 'mandatoryReports', 'overdueReports']) {
        for (const v of ['迁居红队童', originalName, child.idNumber]) if (a[p]?.text.includes(v)) problems.push(`${d} old street's ${p} still carry ${v}`);
      }

      const b = await readPaths(t, neu[d], d, child, to);
      const seen = naming(b, child);
      for (const p of ['compiled', 'general', 'minors.grid', 'minors.all', 'minors.red', ...(VISITS_READERS.has(d) ? ['minors.due'] : [])]) if (!seen.includes(p)) problems.push(`${d} new street does not see the child in ${p}: ${b[p].text.slice(0, 300)}`);
      if ((d === CA || d === PO) && !seen.includes('minorByIdNumber')) problems.push(`${d} new street minorByIdNumber: ${b.minorByIdNumber.text}`);
      if (VISITS_READERS.has(d) && !seen.includes('overdueVisits')) problems.push(`${d} new street overdueVisits misses the RED child: ${b.overdueVisits.text.slice(0, 300)}`);
      for (const page of PAGES[d]) {
        const ids = await t.sql(`SELECT id FROM ${({ dropoutReports: 'education.dropout_report', policeIncidents: 'police.incident', incarceratedParents: 'justice.incarcerated_parent', preventionCases: 'youth_league.prevention_case', carePlans: 'womens_federation.care_plan' } as Record<string, string>)[page]} WHERE minor_id = $1`, [child.id]);
        if (ids.length && !seen.includes(`page.${page}`)) problems.push(`${d} new street ${page} misses the child's records`);
      }
      // The workflow records stay with the region they were addressed to: they name the child to no one in B.
      for (const p of ['notifications', 'referrals', 'mandatoryReports', 'overdueReports']) if (seen.includes(p)) problems.push(`${d} new street sees old street's ${p}`);
      if (b.general.text.includes(wf.referral) || b.general.text.includes(wf.report)) problems.push(`${d} new street reads the old street's referral or report under the child: ${b.general.text.slice(0, 300)}`);
      if (b.general.json.data?.minor?.grid?.code !== to) problems.push(`${d} new street grid ${b.general.text.slice(0, 200)}`);
    }
    expect(problems).toEqual([]);
  });

  it('after the move the old street’s look-ups and writes of the child and its records are answered, audited and costed as an unknown id', async () => {
    // (The previous test left the child in street B.)
    const civilA = await t.token(CA, { region: STREET_A, user: 'ca-a' });
    const wfA = await t.token(WF, { region: STREET_A, user: 'wf-a' });
    const policeA = await t.token(PO, { region: STREET_A, user: 'po-a' });
    const unknownNumber = buildIdNumber('330102', '2015-06-01', 997);
    expect(await t.sql(`SELECT 1 FROM registry.minor WHERE id_number = $1`, [unknownNumber])).toEqual([]);
    await expectAnsweredAsUnknown(t, civilA, GENERAL(CA), { id: child.id }, { id: randomUUID() });
    await expectAnsweredAsUnknown(t, policeA, `query($n: String!) { minorByIdNumber(idNumber: $n) { id name } }`, { n: child.idNumber }, { n: unknownNumber });
    await expectAnsweredAsUnknown(t, civilA, `mutation($id: ID!) { updateMinor(id: $id, input: { name: "改名" }) { id } }`, { id: child.id }, { id: randomUUID() });
    await expectAnsweredAsUnknown(t, civilA, `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "走访" }) { id } }`, { id: child.id }, { id: randomUUID() });
    await expectAnsweredAsUnknown(t, civilA, `mutation($id: ID!, $g: ID) { updateMinor(id: $id, input: { gridCode: $g }) { id } }`, { id: child.id, g: from }, { id: randomUUID(), g: from });
    const [plan] = await t.sql(`SELECT id FROM womens_federation.care_plan WHERE minor_id = $1 LIMIT 1`, [child.id]);
    if (plan) {
      await expectAnsweredAsUnknown(
        t, wfA,
        `mutation($id: ID!) { updateCarePlan(id: $id, input: { kind: MIGRANT, startedOn: "2020-01-02", status: ACTIVE, caregiver: "x", measures: "x" }) { id } }`,
        { id: plan.id }, { id: randomUUID() },
      );
      await expectAnsweredAsUnknown(t, wfA, `mutation($id: ID!) { createCarePlan(minorId: $id, input: { kind: MIGRANT, startedOn: "2020-01-02", status: ACTIVE, caregiver: "x", measures: "x" }) { id } }`, { id: child.id }, { id: randomUUID() });
    }
    const [guardian] = await t.sql(`SELECT id FROM registry.guardian WHERE minor_id = $1 LIMIT 1`, [child.id]);
    await expectAnsweredAsUnknown(t, civilA, `mutation($id: ID!) { removeGuardian(guardianId: $id) }`, { id: guardian.id }, { id: randomUUID() });
    await expectAnsweredAsUnknown(t, civilA, `mutation($id: ID!) { addGuardian(minorId: $id, input: { relationship: FATHER, name: "王大", phone: "13900001111", situation: WORKING_AWAY }) { id } }`, { id: child.id }, { id: randomUUID() });
    // The new street holds the child but not the records addressed to the old one: they are ids of nothing to it.
    const civilB = await t.token(CA, { region: STREET_B, user: 'ca-b' });
    const edB = await t.token(ED, { region: STREET_B, user: 'ed-b' });
    await expectAnsweredAsUnknown(t, civilB, `query($id: ID!) { referral(id: $id) { id minor { id } } }`, { id: wf.referral }, { id: randomUUID() });
    await expectAnsweredAsUnknown(t, civilB, `query($id: ID!) { mandatoryReport(id: $id) { id minor { id } } }`, { id: wf.report }, { id: randomUUID() });
    await expectAnsweredAsUnknown(t, edB, `mutation($id: ID!) { declineReferral(id: $id, reason: "不在辖区") { id } }`, { id: wf.referral }, { id: randomUUID() });
    // overdueVisits paged on after the moved child: refused like an id of nothing.
    const after = (id: string) => post(t, civilA, { query: `query($a: ID) { overdueVisits(first: 5, after: $a) { minor { id } } }`, variables: { a: id } }, PURPOSE);
    const moved = await after(child.id);
    const unknown = await after(randomUUID());
    expect({ status: moved.status, json: moved.json }).toEqual({ status: unknown.status, json: unknown.json });
    // Nothing was written by any of them.
    const [row] = await t.sql(`SELECT grid_code, name FROM registry.minor WHERE id = $1`, [child.id]);
    expect(row).toEqual({ grid_code: to, name: '迁居红队童' });
  });

  it('the old street’s data officer reads no access to the child after the move, the new street’s reads only its own officers’', async () => {
    const auditorA = await t.token(CA, { region: STREET_A, role: Role.AUDITOR, user: 'aud-a' });
    const auditorB = await t.token(CA, { region: STREET_B, role: Role.AUDITOR, user: 'aud-b' });
    await t.hub.audit.drain();
    const [{ at }] = await t.sql(`SELECT max(occurred_at) AS at FROM audit.event WHERE body::jsonb -> 'changes' @> $1::jsonb`, [JSON.stringify([{ mutation: 'updateMinor', minorId: child.id, fields: ['id', 'input.gridCode'] }])]);
    expect(at).not.toBeNull();
    const history = async (token: string) => {
      const r = await t.gql(token, `query($id: ID!) { minorAccessHistory(minorId: $id, first: 1000) { seq time userId department outcome fields { field access } changes { mutation } } }`, { id: child.id }, { 'x-purpose': 'SUPERVISION' });
      expect(r.errors).toBeUndefined();
      return r.data.minorAccessHistory as { time: string; userId: string }[];
    };
    const a = await history(auditorA);
    const b = await history(auditorB);
    // The old street read the child before the move; after it, none of its reads named the child.
    expect(a.length).toBeGreaterThan(0);
    expect(a.filter((e) => new Date(e.time) > new Date(at)).map((e) => e)).toEqual([]);
    expect(a.every((e) => e.userId.endsWith('-a') || e.userId === 'ca-a')).toBe(true);
    expect(b.length).toBeGreaterThan(0);
    expect(b.every((e) => e.userId.endsWith('-b'))).toBe(true);
  });

  it('a move the caller may not make is refused with a typed error and writes nothing, its events recording no change', async () => {
    const district = await t.token(CA);
    const civilB = await t.token(CA, { region: STREET_B, user: 'ca-b' });
    const civilA = await t.token(CA, { region: STREET_A, user: 'ca-a' });
    const gridA = await gridOf(t, STREET_A, 2);
    const rowOf = async () => (await t.sql(`SELECT row_to_json(m)::text AS r FROM registry.minor m WHERE id = $1`, [child.id]))[0].r;
    const before = await rowOf();
    const problems: string[] = [];
    const refuse = async (who: string, token: string, input: Record<string, unknown>, code: string) => {
      const r = await post(t, token, { query: `mutation($id: ID!, $i: UpdateMinorInput!) { updateMinor(id: $id, input: $i) { id grid { code } } }`, variables: { id: child.id, i: input } }, PURPOSE);
      const codes = (r.json.errors ?? []).map((e: any) => e.extensions?.code);
      if (r.json.data?.updateMinor != null || codes.join() !== code) problems.push(`${who} ${JSON.stringify(input)}: ${JSON.stringify(r.json)}`);
      if (code === 'BAD_USER_INPUT' && r.json.errors?.[0]?.extensions?.field !== 'gridCode') problems.push(`${who} ${JSON.stringify(input)}: field ${JSON.stringify(r.json.errors)}`);
      const events = await eventOf(t, r.requestId);
      if (events.changes.length) problems.push(`${who} ${JSON.stringify(input)}: event records ${JSON.stringify(events.changes)}`);
      if ((await rowOf()) !== before) problems.push(`${who} ${JSON.stringify(input)}: the row changed`);
      return r.json;
    };
    // A second district, whose grid exists but lies outside every 330102 officer's jurisdiction.
    await t.sql(`INSERT INTO registry.region (code, parent_code, level, name) VALUES
      ('330103', NULL, 'DISTRICT', '红队区'), ('330103001', '330103', 'STREET', '红队街道'),
      ('330103001001', '330103001', 'COMMUNITY', '红队社区'), ('330103001001001', '330103001001', 'GRID', '红队网格')
      ON CONFLICT DO NOTHING`);
    const none = await refuse('district', district, { gridCode: '330102009009009' }, 'BAD_USER_INPUT');
    const otherDistrict = await refuse('district', district, { gridCode: '330103001001001' }, 'BAD_USER_INPUT');
    expect(otherDistrict).toEqual(none);
    for (const g of ['330102002001', '330102002', '330102', '330103001001001', '', ' 330102002001001', '33010200200100１', '330102002001001 ']) {
      await refuse('district', district, { gridCode: g }, 'BAD_USER_INPUT');
    }
    await refuse('district', district, { gridCode: '330102009009009', name: '不应写入' }, 'BAD_USER_INPUT');
    // The new street's officer may not move the child out of the street: refused as a grid outside its jurisdiction, whether the grid exists.
    const out = await refuse('street B', civilB, { gridCode: gridA }, 'BAD_USER_INPUT');
    await refuse('street B', civilB, { gridCode: gridA, name: '不应写入', school: '不应写入' }, 'BAD_USER_INPUT');
    expect(out.errors[0].message).toBe(none.errors[0].message);
    // The old street's officer cannot reach the child at all.
    await refuse('street A', civilA, { gridCode: gridA }, 'NOT_FOUND');
    expect(problems).toEqual([]);
  });

  it('the referral’s field grant after the move: the old street’s receivers read nothing, the new street’s may not use it, the district reads under it', async () => {
    const under = { 'x-purpose': `REFERRAL; ${wf.referral}` };
    const q = `query($id: ID!) { minor(id: $id) { id currentAddress } }`;
    const edA = await t.token(ED, { region: STREET_A, user: 'ed-a' });
    const edB = await t.token(ED, { region: STREET_B, user: 'ed-b' });
    const edDistrict = await t.token(ED, { user: 'ed-district' });
    const a = await post(t, edA, { query: q, variables: { id: child.id } }, under);
    const aUnknown = await post(t, edA, { query: q, variables: { id: randomUUID() } }, under);
    expect({ status: a.status, json: a.json }).toEqual({ status: aUnknown.status, json: aUnknown.json });
    expect(a.json).toEqual({ data: { minor: null } });
    expect((await eventOf(t, a.requestId)).reads).toEqual([]);
    const b = await post(t, edB, { query: q, variables: { id: child.id } }, under);
    expect(b.status).toBe(400);
    expect(b.json.errors.map((e: any) => [e.extensions.code, e.extensions.field])).toEqual([['BAD_USER_INPUT', 'x-purpose']]);
    const d = await post(t, edDistrict, { query: q, variables: { id: child.id } }, under);
    const [{ current_address }] = await t.sql(`SELECT current_address FROM registry.minor WHERE id = $1`, [child.id]);
    expect(d.json).toEqual({ data: { minor: { id: child.id, currentAddress: current_address } } });
  });

  it('reads and department writes racing with moves back and forth never show or write the child outside the caller’s street', async () => {
    const district = await t.token(CA);
    const tokens: [string, string, string][] = [];
    for (const [street, tag] of [[STREET_A, 'a'], [STREET_B, 'b']] as const) {
      for (const d of [CA, PO, ED, WF]) tokens.push([street, d, await t.token(d, { region: street, user: `${d.toLowerCase()}-race-${tag}` })]);
    }
    const problems: string[] = [];
    const created: string[] = [];
    for (let round = 0; round < 8; round++) {
      const target = round % 2 === 0 ? from : to;
      const work: Promise<void>[] = [];
      work.push(
        post(t, district, { query: MOVE, variables: { id: child.id, g: target } }, PURPOSE).then((r) => {
          if (r.json.errors) problems.push(`move ${JSON.stringify(r.json.errors)}`);
        }),
      );
      for (const [street, d, token] of tokens) {
        work.push(
          post(t, token, { query: GENERAL(d), variables: { id: child.id } }, PURPOSE).then((r) => {
            const odd = (r.json.errors ?? []).filter((e: any) => e.extensions?.code !== 'FORBIDDEN');
            if (odd.length) problems.push(`${street} ${d} read: ${JSON.stringify(odd)}`);
            const m = r.json.data?.minor;
            if (m && !m.grid.code.startsWith(street)) problems.push(`${street} ${d} read the child in ${m.grid.code}`);
          }),
          post(t, token, { query: COMPILED, variables: { id: child.id } }, PURPOSE).then((r) => {
            if (r.json.errors) problems.push(`${street} ${d} compiled: ${JSON.stringify(r.json.errors)}`);
          }),
        );
        if (d === ED) {
          work.push(
            post(t, token, { query: `mutation($id: ID!) { createDropoutReport(minorId: $id, input: { school: "迁居学校", reportedOn: "2026-11-02", daysAbsent: 3 }) { id } }`, variables: { id: child.id } }, PURPOSE).then((r) => {
              const codes = (r.json.errors ?? []).map((e: any) => e.extensions?.code);
              if (r.json.data?.createDropoutReport) created.push(`${street}:${r.json.data.createDropoutReport.id}`);
              else if (codes.join() !== 'NOT_FOUND') problems.push(`${street} dropout: ${JSON.stringify(r.json)}`);
            }),
          );
        }
      }
      await Promise.all(work);
    }
    // Each report was written while the child lived in the writer's street: its DROPOUT notice went to that street only.
    for (const c of created) {
      const [street, id] = c.split(':');
      const regions = (await t.sql(`SELECT DISTINCT region_code FROM workflow.notification WHERE kind = 'DROPOUT' AND subject_id = $1`, [id])).map((r: any) => r.region_code as string);
      if (!regions.length || regions.some((g) => !g.startsWith(street))) problems.push(`dropout ${id} by ${street} told ${regions}`);
    }
    expect(created.length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
    // Leave the child where the earlier tests left it.
    expect((await t.gql(district, MOVE, { id: child.id, g: to })).errors).toBeUndefined();
  });

  it('escalations after the move name the child only to regions that hold it now', async () => {
    // (The child lives in street B now; its RED notice, report and referral were addressed to street A.)
    const policy = buildPolicy();
    const later = new Date(Date.now() + 5 * 3600_000);
    const seqBefore = (await t.sql(`SELECT coalesce(max(created_at), 'epoch') AS at FROM workflow.notification`))[0].at;
    await runEscalations(t.hub.db.ds, t.config, policy, later);
    const made = await t.sql(`SELECT id, kind, department, region_code, minor_id, subject_id, payload FROM workflow.notification WHERE created_at > $1`, [seqBefore]);
    const problems: string[] = [];
    const ours = made.filter((n: any) => n.minor_id === child.id || [wf.report, wf.referral, ...wf.notifications].includes(n.subject_id));
    for (const n of ours) {
      const covers = to.startsWith(n.region_code);
      if (n.minor_id === child.id && !covers) problems.push(`${n.kind} to ${n.department}@${n.region_code} names the child living in ${to}`);
      const text = JSON.stringify(n.payload);
      if (!covers && (/"Minor\./.test(text) || text.includes(originalName) || text.includes('迁居红队童'))) problems.push(`${n.kind} to ${n.region_code} carries the child's record: ${text}`);
    }
    // The overdue RED child is told to the grid it lives in now.
    if (!made.some((n: any) => n.kind === 'VISIT_OVERDUE' && n.minor_id === child.id && n.region_code === to)) problems.push(`no VISIT_OVERDUE to ${to}: ${JSON.stringify(ours.map((n: any) => [n.kind, n.region_code, n.minor_id]))}`);
    expect(problems).toEqual([]);
    // And what the old street's community reads of them names no child.
    const civilCommunityA = await t.token(CA, { region: from.slice(0, 12), user: 'ca-community-a' });
    const inbox = await t.gql(civilCommunityA, `{ notifications(first: 500) { id kind subjectId minor { id } payload { field value } } }`);
    expect(inbox.errors).toBeUndefined();
    const text = JSON.stringify(inbox.data);
    expect(text.includes(child.id)).toBe(false);
    expect(text.includes(originalName)).toBe(false);
    expect(text.includes(child.idNumber)).toBe(false);
  });

  it('after the move every department write of the old street about the child or its records is answered as for an unknown id', async () => {
    const OWNER: Record<string, Department> = {
      SchoolEnrollment: ED, DropoutReport: ED, PersuasionAction: ED, BullyingCase: ED, EducationAid: ED,
      PoliceIncident: PO, GuardianAdmonishment: PO, IdentityVerification: PO,
      IncarceratedParent: JU, CommunityCorrection: JU, LegalAidCase: JU,
      PreventionCase: YL, MisbehaviourFollowUp: YL, IdleSupport: YL, VolunteerVisit: YL,
      CarePlan: WF, CareVisit: WF, FamilyEducationSession: WF, DomesticViolenceSupport: WF, ChildrenHomeAttendance: WF,
    };
    const PARENT: Record<string, string> = { recordPersuasionAction: 'DropoutReport', recordMisbehaviourFollowUp: 'PreventionCase', recordCareVisit: 'CarePlan' };
    const ZERO = '"00000000-0000-4000-8000-000000000000"';
    const day = chinaDay(new Date(Date.now() - 2 * 86_400_000));
    const call = (name: string) =>
      `mutation($id: ID!) { ${DEPARTMENT_MUTATION_CALLS[name].replace(ZERO, '$id').replace(/"2020-01-02"/g, `"${day}"`).replace('"2021-01-01"', `"${chinaDay(new Date(Date.now() + 300 * 86_400_000))}"`).replace('"2019-2020"', '"2026-2027"').replace('{ __typename }', '{ id }')} }`;
    const typeOf = (name: string) => name.replace(/^(create|update|record)/, '');
    // The district's officers (whose jurisdiction holds street B, where the child lives now) make one of each.
    const made: Record<string, string> = {};
    const problems: string[] = [];
    for (const name of Object.keys(DEPARTMENT_MUTATION_CALLS).filter((n) => n.startsWith('create'))) {
      const r = await t.gql(await t.token(OWNER[typeOf(name)], { user: 'district-owner' }), call(name), { id: child.id });
      if (r.errors) problems.push(`${name} by the district: ${JSON.stringify(r.errors)}`);
      else made[typeOf(name)] = Object.values(r.data as Record<string, { id: string }>)[0].id;
    }
    expect(problems).toEqual([]);
    for (const name of Object.keys(DEPARTMENT_MUTATION_CALLS)) {
      const type = name.startsWith('record') ? PARENT[name] : typeOf(name);
      const owner = OWNER[name.startsWith('record') ? typeOf(name) : type];
      const id = name.startsWith('create') ? child.id : made[type];
      const token = await t.token(owner, { region: STREET_A, user: `${owner.toLowerCase()}-a` });
      try {
        await expectAnsweredAsUnknown(t, token, call(name), { id }, { id: randomUUID() });
      } catch (e) {
        problems.push(`${name}: ${(e as Error).message.slice(0, 1500)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the old street closing the loop on the moved child’s referral, report and notice records the change as of no child', async () => {
    const edA = await t.token(ED, { region: STREET_A, user: 'ed-a' });
    const poA = await t.token(PO, { region: STREET_A, user: 'po-a' });
    const problems: string[] = [];
    const check = async (what: string, token: string, query: string, variables: Record<string, unknown>) => {
      const r = await post(t, token, { query, variables }, PURPOSE);
      if (r.json.errors) problems.push(`${what}: ${JSON.stringify(r.json.errors)}`);
      const text = JSON.stringify(r.json);
      if (text.includes(child.id) || text.includes(child.idNumber) || text.includes(originalName)) problems.push(`${what} answered the child: ${text}`);
      const ev = await eventOf(t, r.requestId);
      if (JSON.stringify(ev.reads).includes(child.id)) problems.push(`${what}: event reads the child ${JSON.stringify(ev.reads)}`);
      if (!ev.changes.length || ev.changes.some((c: any) => c.minorId !== null)) problems.push(`${what}: event changes ${JSON.stringify(ev.changes)}`);
      const [row] = await t.sql(`SELECT minor_ids::text AS ids FROM audit.event WHERE request_id = $1 AND outcome <> 'STARTED'`, [r.requestId]);
      if (String(row.ids).includes(child.id)) problems.push(`${what}: event indexed under the child ${row.ids}`);
    };
    await check('acceptReferral', edA, `mutation($id: ID!) { acceptReferral(id: $id) { id status minor { id } } }`, { id: wf.referral });
    await check('transitionReport', poA, `mutation($id: ID!) { transitionReport(id: $id, to: VERIFYING, note: "核实中") { id status minor { id } } }`, { id: wf.report });
    const [notice] = await t.sql(`SELECT id FROM workflow.notification WHERE minor_id = $1 AND department = 'EDUCATION' AND kind = 'CHILD_RED' AND region_code = $2`, [child.id, from]);
    await check('acknowledge', edA, `mutation($id: ID!) { acknowledge(id: $id) { id minor { id } payload { field value } } }`, { id: notice.id });
    // The referral's answer flows back to the referrer, naming no child.
    const [outcome] = await t.sql(`SELECT minor_id, payload::text AS p FROM workflow.notification WHERE kind = 'REFERRAL_OUTCOME' AND subject_id = $1 ORDER BY created_at DESC LIMIT 1`, [wf.referral]);
    expect(outcome.minor_id).toBeNull();
    expect(outcome.p).not.toContain('"Minor.');
    expect(problems).toEqual([]);
  });

  it('statistics after a refresh count the moved child in its new grid only, for each street and the district', async () => {
    const counts = async (token: string) => {
      const r = await t.gql(token, `{ minorCounts(level: GRID) { cells { regionCode count { value } } } }`);
      expect(r.errors).toBeUndefined();
      return Object.fromEntries(r.data.minorCounts.cells.map((c: any) => [c.regionCode, c.count.value]));
    };
    const district = await t.token(CA);
    const a = await t.token(ED, { region: STREET_A, user: 'ed-a' });
    const b = await t.token(ED, { region: STREET_B, user: 'ed-b' });
    await refreshStatistics(t.hub.db.ds);
    const [{ id: g }] = await t.sql(`SELECT grid_code AS id FROM registry.minor WHERE id = $1`, [child.id]);
    const here = g;
    const there = here === to ? from : to;
    const d0 = await counts(district);
    const b0 = await counts(here.startsWith(STREET_A) ? a : b);
    expect((await t.gql(district, MOVE, { id: child.id, g: there })).errors).toBeUndefined();
    await refreshStatistics(t.hub.db.ds);
    const d1 = await counts(district);
    expect([d1[here] - d0[here], d1[there] - d0[there]]).toEqual([-1, 1]);
    const oldStreet = await counts(here.startsWith(STREET_A) ? a : b);
    expect(oldStreet[here]).toBe(b0[here] - 1);
    expect(Object.keys(oldStreet).every((k) => k.startsWith(here.slice(0, 9)))).toBe(true);
    // Back where the other tests expect it.
    expect((await t.gql(district, MOVE, { id: child.id, g: here })).errors).toBeUndefined();
  });

  it('federation `_entities` of every subgraph answers the old street as for an unknown id and the new street with the child (subgraphs served alone)', async () => {
    if (!distributed) return;
    const urls = t.config.subgraphUrls as Record<string, string>;
    const [{ grid_code: now }] = await t.sql(`SELECT grid_code FROM registry.minor WHERE id = $1`, [child.id]);
    const oldStreet = now.startsWith(STREET_A) ? STREET_B : STREET_A;
    const problems: string[] = [];
    for (const s of SUBGRAPHS) {
      for (const d of DEPTS) {
        const ask = (region: string, id: string) =>
          postAsGateway(t.config, urls[s.name], s.name, { userId: `${d.toLowerCase()}-ent`, department: d, role: Role.OFFICER, region }, `query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Minor { id } } }`, {
            r: [{ __typename: 'Minor', id }],
          });
        const moved = await ask(oldStreet, child.id);
        const unknown = await ask(oldStreet, randomUUID());
        if (JSON.stringify([moved.status, moved.data, errorCodes(moved)]) !== JSON.stringify([unknown.status, unknown.data, errorCodes(unknown)])) {
          problems.push(`${s.name} ${d} old street: ${JSON.stringify(moved)} vs ${JSON.stringify(unknown)}`);
        }
        const here = await ask(now.slice(0, 9), child.id);
        if (!JSON.stringify(here.data ?? null).includes(child.id) && !/Cannot query field|Unknown type|_entities/.test(JSON.stringify(here.errors ?? ''))) {
          problems.push(`${s.name} ${d} new street: ${JSON.stringify(here)}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('a move sent with the other fields null leaves them as they are, the school left out included; null clears the school alone (the schema’s descriptions)', async () => {
    const district = await t.token(CA);
    const [m] = await t.sql(
      `SELECT id, name, school, current_address, household_registration, grid_code FROM registry.minor
        WHERE school IS NOT NULL AND grid_code LIKE '${STREET_A}%' AND registry.is_minor(birth_date, now()) AND id <> $1 ORDER BY id LIMIT 1`,
      [child.id],
    );
    const target = await gridOf(t, STREET_B, 3);
    const UPDATE = `mutation($id: ID!, $i: UpdateMinorInput!) { updateMinor(id: $id, input: $i) { id school grid { code } } }`;
    const row = async () => (await t.sql(`SELECT name, school, current_address, household_registration, grid_code FROM registry.minor WHERE id = $1`, [m.id]))[0];
    const r = await post(t, district, { query: UPDATE, variables: { id: m.id, i: { gridCode: target, name: null, currentAddress: null, householdRegistration: null } } }, PURPOSE);
    expect(r.json.errors).toBeUndefined();
    expect(await row()).toEqual({ name: m.name, school: m.school, current_address: m.current_address, household_registration: m.household_registration, grid_code: target });
    expect((await eventOf(t, r.requestId)).changes).toEqual([{ fields: ['id', 'input.gridCode'], id: m.id, minorId: m.id, mutation: 'updateMinor' }]);
    expect(r.json.data.updateMinor).toEqual({ id: m.id, school: m.school, grid: { code: target } });
    // Sent null, the school is cleared, and nothing else moves.
    const cleared = await post(t, district, { query: UPDATE, variables: { id: m.id, i: { gridCode: null, name: null, school: null } } }, PURPOSE);
    expect(cleared.json.errors).toBeUndefined();
    expect(await row()).toEqual({ name: m.name, school: null, current_address: m.current_address, household_registration: m.household_registration, grid_code: target });
    expect((await eventOf(t, cleared.requestId)).changes).toEqual([{ fields: ['id', 'input.school'], id: m.id, minorId: m.id, mutation: 'updateMinor' }]);
    expect(cleared.json.data.updateMinor).toEqual({ id: m.id, school: null, grid: { code: target } });
  });

  it('the old grid’s and community’s officers of every department are told nothing of the moved child either', async () => {
    const [{ grid_code: now }] = await t.sql(`SELECT grid_code FROM registry.minor WHERE id = $1`, [child.id]);
    const oldGrid = now === to ? from : to;
    const problems: string[] = [];
    for (const region of [oldGrid, oldGrid.slice(0, 12)]) {
      for (const d of DEPTS) {
        const named = naming(await readPaths(t, await t.token(d, { region, user: `${d.toLowerCase()}-${region}` }), d, child, oldGrid), child);
        if (named.length) problems.push(`${d}@${region}: ${named}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the monthly trend after a move: the registry’s series follow the child, its reports and referrals stay with the region they were made for', async () => {
    const district = await t.token(CA);
    const ca = { [STREET_A]: await t.token(CA, { region: STREET_A, user: 'ca-a' }), [STREET_B]: await t.token(CA, { region: STREET_B, user: 'ca-b' }) };
    const trend = async (token: string) => {
      const r = await t.gql(token, `{ monthlyTrend(months: 1) { points { month series count { value } } } }`);
      expect(r.errors).toBeUndefined();
      return Object.fromEntries(r.data.monthlyTrend.points.map((p: any) => [p.series, p.count.value]));
    };
    const [{ grid_code: now }] = await t.sql(`SELECT grid_code FROM registry.minor WHERE id = $1`, [child.id]);
    const there = now === to ? from : to;
    await refreshStatistics(t.hub.db.ds);
    const before = { a: await trend(ca[STREET_A]), b: await trend(ca[STREET_B]), d: await trend(district) };
    expect((await t.gql(district, MOVE, { id: child.id, g: there })).errors).toBeUndefined();
    await refreshStatistics(t.hub.db.ds);
    const after = { a: await trend(ca[STREET_A]), b: await trend(ca[STREET_B]), d: await trend(district) };
    expect([after.a.REPORTS, after.a.REFERRALS, after.b.REPORTS, after.b.REFERRALS]).toEqual([before.a.REPORTS, before.a.REFERRALS, before.b.REPORTS, before.b.REFERRALS]);
    expect(after.d).toEqual(before.d);
    expect((await t.gql(district, MOVE, { id: child.id, g: now })).errors).toBeUndefined();
  });

  it('the reporter’s own reports read back the same after the move, status only', async () => {
    const reporter = await t.token(ED, { role: Role.REPORTER, user: 'teacher-move' });
    const r = await t.gql(reporter, `{ myReports { id status } }`, undefined, {});
    expect(r.errors).toBeUndefined();
    expect(r.data.myReports.map((x: any) => x.id)).toContain(wf.report);
    const text = JSON.stringify(r);
    for (const v of [child.id, child.idNumber, originalName, '迁居红队童']) expect(text.includes(v)).toBe(false);
  });

  /**
   * Runs `read` with its first statement matching `holds` (a condition on `at` and `current_query()`
   * inside `registry.is_minor`) held on an advisory lock until `between` has finished: the read keeps
   * the snapshot its statement took, whatever the machine's speed. `view`: the departments' view is
   * rebuilt on the wrapper too (it binds the function it was created with).
   */
  async function heldAcross<T>(holds: string, view: boolean, read: () => Promise<T>, between: () => Promise<void>): Promise<T> {
    const LOCK = 16_0516;
    const holder = new Client({ connectionString: t.databaseUrl });
    await holder.connect();
    const rebuild = (fn: string) => t.sql(`CREATE OR REPLACE VIEW registry.minor_jurisdiction AS SELECT id AS minor_id, grid_code FROM registry.minor WHERE registry.${fn}(birth_date, now())`);
    await t.sql(`DROP SEQUENCE IF EXISTS public.rt_seq`);
    await t.sql(`CREATE SEQUENCE public.rt_seq`);
    await t.sql(`GRANT ALL ON public.rt_seq TO PUBLIC`);
    await t.sql(`ALTER FUNCTION registry.is_minor(date, timestamptz) RENAME TO is_minor_orig`);
    await t.sql(`CREATE FUNCTION registry.is_minor(birth_date date, at timestamptz) RETURNS boolean LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
      BEGIN
        IF ${holds} AND nextval('public.rt_seq') = 1 THEN
          PERFORM pg_advisory_lock_shared(${LOCK});
          PERFORM pg_advisory_unlock_shared(${LOCK});
        END IF;
        RETURN registry.is_minor_orig(birth_date, at);
      END $$`);
    if (view) await rebuild('is_minor');
    try {
      await holder.query(`SELECT pg_advisory_lock(${LOCK})`);
      const answer = read();
      // The read is held once a session waits for the lock.
      for (;;) {
        const [{ n }] = (await holder.query(`SELECT count(*)::int AS n FROM pg_locks WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND locktype = 'advisory' AND objid = ${LOCK} AND NOT granted`)).rows;
        if (n > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await between();
      await holder.query(`SELECT pg_advisory_unlock(${LOCK})`);
      return await answer;
    } finally {
      await holder.end();
      if (view) await rebuild('is_minor_orig');
      await t.sql(`DROP FUNCTION registry.is_minor(date, timestamptz)`);
      await t.sql(`ALTER FUNCTION registry.is_minor_orig(date, timestamptz) RENAME TO is_minor`);
      await t.sql(`DROP SEQUENCE IF EXISTS public.rt_seq`);
    }
  }

  it('a read whose registry look-up ran before a move and whose department fetches ran after it is answered without error, and audited as what it served', async () => {
    const [{ grid_code: now }] = await t.sql(`SELECT grid_code FROM registry.minor WHERE id = $1`, [child.id]);
    const street = now.slice(0, 9);
    const there = now === to ? from : to;
    const district = await t.token(CA);
    const reader = await t.token(CA, { region: street, user: `ca-interleave-${street}` });
    // The registry's look-up of this request (its instant is a parameter, not now()) is held, with its snapshot from before the move.
    try {
      let moved: any;
      const r = await heldAcross(
        `at <> now() AND current_query() NOT LIKE '%FOR UPDATE%'`,
        false,
        () => post(t, reader, { query: GENERAL(CA), variables: { id: child.id } }, PURPOSE),
        async () => {
          moved = await post(t, district, { query: MOVE, variables: { id: child.id, g: there } }, PURPOSE);
        },
      );
      expect(moved.json.errors).toBeUndefined();
      const odd = (r.json.errors ?? []).filter((e: any) => e.extensions?.code !== 'FORBIDDEN');
      expect(odd).toEqual([]);
      const ev = await eventOf(t, r.requestId);
      // Served as of the look-up before the move; every fetch after it found the child gone and served nothing of it.
      expect(r.json.data.minor.grid.code).toBe(now);
      expect(ev.reads.map((x: any) => x.minorId)).toEqual([child.id]);
      for (const f of ['schoolEnrollments', 'carePlans', 'referrals', 'mandatoryReports', 'policeProtectionCase']) expect(r.json.data.minor[f]).toBeNull();
      expect(Object.keys(ev.reads[0].fields).filter((f) => !/^(Minor\.(id|name|grid|categories|guardians|latestAssessment)|Guardian\.|MinorCategory\.|RiskAssessment\.)/.test(f))).toEqual([]);
    } finally {
      await t.gql(district, MOVE, { id: child.id, g: now });
    }
  });

  it('a department page read before a move whose child is resolved by the registry after it is answered without error, and audited as what it served', async () => {
    const [{ grid_code: now }] = await t.sql(`SELECT grid_code FROM registry.minor WHERE id = $1`, [child.id]);
    const street = now.slice(0, 9);
    const there = now === to ? from : to;
    const district = await t.token(CA);
    const reader = await t.token(WF, { region: street, user: `wf-interleave-${street}` });
    const [plan] = await t.sql(`SELECT id FROM womens_federation.care_plan WHERE minor_id = $1 LIMIT 1`, [child.id]);
    expect(plan).toBeDefined();
    // The page's statement through the departments' view (which passes now()) is held, with its snapshot from before the move.
    try {
      let moved: any;
      const r = await heldAcross(
        `at = now() AND current_query() LIKE '%care_plan%' AND current_query() LIKE '%ORDER BY r.id LIMIT%'`,
        true,
        () => post(t, reader, { query: `{ carePlans(first: 1000) { nodes { id minor { id name grid { code } } } } }` }, PURPOSE),
        async () => {
          moved = await post(t, district, { query: MOVE, variables: { id: child.id, g: there } }, PURPOSE);
        },
      );
      expect(moved.json.errors).toBeUndefined();
      const odd = (r.json.errors ?? []).filter((e: any) => e.extensions?.code !== 'FORBIDDEN');
      expect(odd).toEqual([]);
      const node = r.json.data.carePlans.nodes.find((n: any) => n.id === plan.id);
      const ev = await eventOf(t, r.requestId);
      const readOfChild = ev.reads.find((x: any) => x.minorId === child.id);
      // The page was read before the move: the plan is on it. Whatever of the child it served is
      // recorded; nothing of the record of the street it moved to.
      expect(node).toBeDefined();
      expect(node.minor?.grid?.code ?? now).toBe(now);
      expect(readOfChild).toBeDefined();
      if (node.minor?.name) expect(readOfChild.fields['Minor.name']).toBe('ALLOW');
      else expect(readOfChild.fields['Minor.name']).toBeUndefined();
    } finally {
      await t.gql(district, MOVE, { id: child.id, g: now });
    }
  });
});
