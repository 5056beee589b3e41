import { Department, Role } from '../src/auth/principal';
import { startSubgraphServer, SubgraphServer } from '../src/server/subgraph.server';
import { cloneTemplateDatabase, errorCodes, GqlResult, postAsGateway, startTestHub, TestHub, testConfig } from './support/test-hub';

/**
 * The prepared-statement read paths (EntityReader / queryByKeys, recordsByMinor, recordsByParent,
 * minorReferenceResolvers, police's open-case summary, the workflow's loaders) keep every row rule:
 * an attacker's probes through the public endpoint, in process and with police and the workflow
 * served remotely (and, for `_entities`, through a subgraph served alone, with the gateway's signed
 * assertion as the gateway would send it), checked against what the database holds.
 */

const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;
const STREET = '330102001';
const OTHER_STREET = '330102002';
const DISTRICT = '330102';
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

/** Every department record list on Minor: field, table, order column (then id), sub-records. */
const RECORDS: { field: string; table: string; order: string; sub?: { field: string; table: string; key: string; order: string } }[] = [
  { field: 'schoolEnrollments', table: 'education.school_enrollment', order: 'enrolled_on' },
  { field: 'dropoutReports', table: 'education.dropout_report', order: 'reported_on', sub: { field: 'persuasionActions', table: 'education.persuasion_action', key: 'report_id', order: 'acted_on' } },
  { field: 'bullyingCases', table: 'education.bullying_case', order: 'occurred_on' },
  { field: 'educationAid', table: 'education.education_aid', order: 'granted_on' },
  { field: 'policeIncidents', table: 'police.incident', order: 'occurred_on' },
  { field: 'guardianAdmonishments', table: 'police.guardian_admonishment', order: 'admonished_on' },
  { field: 'identityVerifications', table: 'police.identity_verification', order: 'verified_on' },
  { field: 'incarceratedParents', table: 'justice.incarcerated_parent', order: 'since' },
  { field: 'communityCorrections', table: 'justice.community_correction', order: 'started_on' },
  { field: 'legalAidCases', table: 'justice.legal_aid_case', order: 'opened_on' },
  { field: 'preventionCases', table: 'youth_league.prevention_case', order: 'opened_on', sub: { field: 'followUps', table: 'youth_league.follow_up', key: 'case_id', order: 'followed_up_on' } },
  { field: 'idleSupports', table: 'youth_league.idle_support', order: 'started_on' },
  { field: 'volunteerVisits', table: 'youth_league.volunteer_visit', order: 'visited_on' },
  { field: 'carePlans', table: 'womens_federation.care_plan', order: 'started_on', sub: { field: 'visits', table: 'womens_federation.care_visit', key: 'plan_id', order: 'visited_on' } },
  { field: 'familyEducationSessions', table: 'womens_federation.family_education_session', order: 'held_on' },
  { field: 'domesticViolenceSupports', table: 'womens_federation.violence_support', order: 'started_on' },
  { field: 'childrenHomeAttendances', table: 'womens_federation.children_home_attendance', order: 'attended_on' },
];

/** Every department's and the workflow's part of a child (what CIVIL_AFFAIRS may read of all of them). */
const CHILD_FIELDS = [
  ...RECORDS.map((r) => `${r.field} { id ${r.sub ? `${r.sub.field} { id }` : ''} }`),
  'policeProtectionCase { hasOpenCase contactUnit openSince }',
  'referrals { id minor { id } } mandatoryReports { id minor { id } transitions { note } }',
];
const CHILD_SELECTION = `id\n  ${CHILD_FIELDS.join('\n  ')}`;

type Expected = Record<string, unknown>;

describe('jurisdiction of the prepared read paths', () => {
  const secret = 'prepared-reads-gateway-secret-of-sufficient-length';
  let t: TestHub; // everything in-process (fast path + planner)
  let d: TestHub; // police and workflow over signed HTTP
  const servers: Record<string, SubgraphServer> = {};
  let inside: { id: string; id_number: string; grid_code: string; name: string };
  let inside2: { id: string };
  let outside: { id: string; id_number: string; grid_code: string; name: string };

  beforeAll(async () => {
    const databaseUrl = await cloneTemplateDatabase();
    const config = testConfig({ databaseUrl, gatewaySecret: secret });
    for (const name of ['police', 'workflow']) servers[name] = await startSubgraphServer(name, config, 0);
    t = await startTestHub({ databaseUrl, gatewaySecret: secret });
    d = await startTestHub({ databaseUrl, gatewaySecret: secret, subgraphUrls: { police: servers.police.url, workflow: servers.workflow.url } });
    // The children with records in the most departments, one pair in the street, one outside it.
    const richest = (cond: string) =>
      t.sql(
        `SELECT m.id, trim(m.id_number) AS id_number, m.grid_code, m.name FROM registry.minor m WHERE ${cond}
         ORDER BY ${RECORDS.map((r) => `(EXISTS (SELECT 1 FROM ${r.table} x WHERE x.minor_id = m.id))::int`).join(' + ')} DESC, m.id LIMIT 2`,
        [`${STREET}%`],
      );
    [inside, inside2] = await richest(`m.grid_code LIKE $1`);
    [outside] = await richest(`m.grid_code NOT LIKE $1 AND m.grid_code LIKE '${OTHER_STREET}%'`);
  }, 180_000);
  afterAll(async () => {
    await d?.stop();
    await t?.stop();
    for (const s of Object.values(servers)) await s.stop();
  });

  /** What the database says a child's part looks like for a caller whose jurisdiction is `region` (CIVIL_AFFAIRS: every referral in it). */
  async function expectedChild(minorId: string, region: string): Promise<Expected> {
    const out: Expected = { id: minorId };
    for (const r of RECORDS) {
      const rows = await t.sql(`SELECT id FROM ${r.table} WHERE minor_id = $1 ORDER BY ${r.order} DESC, id ASC`, [minorId]);
      const list = [];
      for (const row of rows) {
        if (!r.sub) {
          list.push({ id: row.id });
          continue;
        }
        const subs = await t.sql(`SELECT id FROM ${r.sub.table} WHERE ${r.sub.key} = $1 ORDER BY ${r.sub.order} DESC, id ASC`, [row.id]);
        list.push({ id: row.id, [r.sub.field]: subs });
      }
      out[r.field] = list;
    }
    const [open] = await t.sql(
      `SELECT to_char(min(occurred_on), 'YYYY-MM-DD') AS since, (array_agg(handling_unit ORDER BY occurred_on DESC, id))[1] AS unit
       FROM police.incident WHERE minor_id = $1 AND status <> 'CLOSED'`,
      [minorId],
    );
    out.policeProtectionCase = { hasOpenCase: open.since !== null, contactUnit: open.unit ?? null, openSince: open.since ?? null };
    out.referrals = (await t.sql(`SELECT id FROM workflow.referral WHERE minor_id = $1 AND region_code LIKE $2 ORDER BY created_at DESC, id`, [minorId, `${region}%`])).map((x) => ({
      id: x.id,
      minor: { id: minorId },
    }));
    const reports = await t.sql(`SELECT id FROM workflow.mandatory_report WHERE minor_id = $1 AND region_code LIKE $2 ORDER BY received_at DESC, id`, [minorId, `${region}%`]);
    out.mandatoryReports = [];
    for (const rep of reports) {
      const tr = await t.sql(`SELECT note FROM workflow.report_transition WHERE report_id = $1 ORDER BY at, id`, [rep.id]);
      (out.mandatoryReports as unknown[]).push({ id: rep.id, minor: { id: minorId }, transitions: tr });
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Fixtures: referrals and reports on both sides of the street boundary, with transitions.
  // ---------------------------------------------------------------------------------------------
  let referralInside: string; // CA of the street → EDUCATION, about `inside`
  let referralOutside: string; // CA of the other street → EDUCATION, about `outside`
  let reportInside: string; // filed at a grid of the street, about `inside`
  let reportAwayAboutInside: string; // filed at the other street, about `inside`

  beforeAll(async () => {
    const CREATE = `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`;
    const ref = async (region: string, minorId: string) => {
      const r = await t.gql(await t.token(CA, { region, user: `ca-${region}` }), CREATE, { input: { minorId, type: 'EDUCATION_AID', toDepartment: ED, need: `need-${minorId}` } });
      expect(r.errors).toBeUndefined();
      return r.data.createReferral.id as string;
    };
    referralInside = await ref(STREET, inside.id);
    referralOutside = await ref(OTHER_STREET, outside.id);
    const FILE = `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`;
    const reporter = await t.token(ED, { role: Role.REPORTER, user: 'probe-teacher' });
    const file = async (regionCode: string, childId: string) => {
      const r = await t.gql(reporter, FILE, { input: { harmType: 'NEGLECT', observation: 'obs', location: 'loc', regionCode, urgency: 'NORMAL', childId } }, {});
      expect(r.errors).toBeUndefined();
      return r.data.fileMandatoryReport.id as string;
    };
    reportInside = await file(inside.grid_code, inside.id);
    reportAwayAboutInside = await file(outside.grid_code, inside.id);
    const STEP = `mutation($id: ID!, $note: String!) { transitionReport(id: $id, to: VERIFYING, note: $note) { id } }`;
    for (const id of [reportInside, reportAwayAboutInside]) {
      const r = await t.gql(await t.token(PO), STEP, { id, note: `note-of-${id}` });
      expect(r.errors).toBeUndefined();
    }
  }, 60_000);

  // ---------------------------------------------------------------------------------------------
  // 1. One child by id: outside the street answers exactly like an unknown id, on every path.
  // ---------------------------------------------------------------------------------------------
  describe.each([
    [CA, 'civil affairs'],
    [PO, 'police'],
  ])('a street officer of %s', (department) => {
    const fields: Record<string, string> = {
      [CA]: CHILD_SELECTION,
      [PO]: `id name policeIncidents { id } policeProtectionCase { hasOpenCase contactUnit openSince } guardianAdmonishments { id } identityVerifications { id } referrals { id } mandatoryReports { id transitions { note } }`,
    };
    it.each(['in-process', 'distributed'])('%s: a child of another street is answered exactly like an unknown id (data and errors)', async (which) => {
      const hub = which === 'in-process' ? t : d;
      const token = await hub.token(department, { region: STREET });
      const q = `query($id: ID!) { minor(id: $id) { ${fields[department]} } }`;
      const other = await hub.gql(token, q, { id: outside.id });
      const missing = await hub.gql(token, q, { id: UNKNOWN });
      expect(other).toEqual(missing);
      expect(other.data).toEqual({ minor: null });
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 2. Batches mixing children in and out of the jurisdiction, duplicates and malformed ids, in
  //    one request: every alias gets its own child's records, in order, or null.
  // ---------------------------------------------------------------------------------------------
  it.each(['in-process', 'distributed'])('%s: one request of mixed ids maps every record to its own child (aliases, duplicates, malformed ids)', async (which) => {
    const hub = which === 'in-process' ? t : d;
    const token = await hub.token(CA, { region: STREET });
    const ids: Record<string, string> = {
      a: inside.id,
      b: outside.id,
      c: inside2.id,
      dup: inside.id,
      upper: inside.id.toUpperCase(),
      unknown: UNKNOWN,
      junk: 'not-a-uuid',
      quote: `${inside.id}' OR '1'='1`,
      like: '%',
      array: `{${inside.id},${outside.id}}`,
    };
    // Ten children with all of CHILD_SELECTION go between subgraphs 230 times, past the bound of
    // 64 (src/audit/validation-bound.ts): every request asks all ten, three fields of it at a time.
    const r: { data: Record<string, any> } = { data: {} };
    for (let i = 0; i < CHILD_FIELDS.length; i += 3) {
      const part = `id ${CHILD_FIELDS.slice(i, i + 3).join(' ')}`;
      const q = `query(${Object.keys(ids).map((k) => `$${k}: ID!`).join(', ')}) { ${Object.keys(ids).map((k) => `${k}: minor(id: $${k}) { ${part} }`).join('\n')} }`;
      const asked = await hub.gql(token, q, ids);
      expect(asked.errors).toBeUndefined();
      for (const k of Object.keys(ids)) {
        // A child is found by every part of the request or by none.
        if (i) expect([k, asked.data[k] === null]).toEqual([k, r.data[k] === null]);
        r.data[k] = asked.data[k] && { ...r.data[k], ...asked.data[k] };
      }
    }
    const inExp = await expectedChild(inside.id, STREET);
    expect(r.data.a).toEqual(inExp);
    expect(r.data.dup).toEqual(inExp);
    expect(r.data.c).toEqual(await expectedChild(inside2.id, STREET));
    for (const k of ['b', 'unknown', 'junk', 'quote', 'like', 'array']) expect([k, r.data[k]]).toEqual([k, null]);
    // An upper-case spelling of an id inside is either the same child or nothing; never another's records.
    expect([null, inExp]).toContainEqual(r.data.upper);
    // The fixture report filed in the other street about `inside` stays out of the street officer's view.
    expect((r.data.a.mandatoryReports as { id: string }[]).map((x) => x.id)).toEqual(expect.arrayContaining([reportInside]));
    expect((r.data.a.mandatoryReports as { id: string }[]).map((x) => x.id)).not.toContain(reportAwayAboutInside);
  });

  it.each(['in-process', 'distributed'])('%s: a whole page of children (street and district) gets each child exactly its own records, in order', async (which) => {
    const hub = which === 'in-process' ? t : d;
    for (const region of [STREET, DISTRICT]) {
      const token = await hub.token(CA, { region });
      let after: string | null = null;
      let seen = 0;
      const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM registry.minor WHERE grid_code LIKE $1`, [`${region}%`]);
      do {
        const r: GqlResult = await hub.gql(token, `query($after: String) { minors(first: 250, after: $after) { pageInfo { hasNextPage endCursor } edges { node { ${CHILD_SELECTION} } } } }`, { after });
        expect(r.errors).toBeUndefined();
        const nodes = r.data.minors.edges.map((e: any) => e.node);
        // Ground truth for the whole page in a handful of statements.
        const pageIds = nodes.map((x: any) => x.id);
        for (const rec of RECORDS) {
          const rows = await t.sql(`SELECT minor_id, id FROM ${rec.table} WHERE minor_id = ANY($1::uuid[]) ORDER BY minor_id, ${rec.order} DESC, id ASC`, [pageIds]);
          const byMinor = new Map<string, string[]>();
          for (const row of rows) byMinor.set(row.minor_id, [...(byMinor.get(row.minor_id) ?? []), row.id]);
          for (const node of nodes) expect([node.id, rec.field, node[rec.field].map((x: any) => x.id)]).toEqual([node.id, rec.field, byMinor.get(node.id) ?? []]);
        }
        const open = await t.sql(
          `SELECT minor_id, to_char(min(occurred_on), 'YYYY-MM-DD') AS since, (array_agg(handling_unit ORDER BY occurred_on DESC, id))[1] AS unit
           FROM police.incident WHERE minor_id = ANY($1::uuid[]) AND status <> 'CLOSED' GROUP BY minor_id`,
          [pageIds],
        );
        const openBy = new Map(open.map((o: any) => [o.minor_id, o]));
        for (const node of nodes) {
          const o: any = openBy.get(node.id);
          expect([node.id, node.policeProtectionCase]).toEqual([node.id, { hasOpenCase: !!o, contactUnit: o?.unit ?? null, openSince: o?.since ?? null }]);
          for (const x of node.referrals) expect(x.minor.id).toBe(node.id);
          for (const x of node.mandatoryReports) expect(x.minor.id).toBe(node.id);
        }
        seen += nodes.length;
        after = r.data.minors.pageInfo.hasNextPage ? r.data.minors.pageInfo.endCursor : null;
      } while (after);
      expect(seen).toBe(n);
    }
  }, 180_000);

  // ---------------------------------------------------------------------------------------------
  // 3. Prepared statements are per connection and keep a generic plan after five executions:
  //    alternating callers (jurisdiction, department) on the same statements must never see
  //    each other's rows, neither for one key (`= $1`) nor for a batch (`= ANY($1)`).
  // ---------------------------------------------------------------------------------------------
  it('alternating callers on the same prepared statements, 10 rounds, one key and two keys', async () => {
    const callers = [
      { dept: CA, region: STREET, sees: true },
      { dept: CA, region: OTHER_STREET, sees: false },
      { dept: PO, region: STREET, sees: true },
      { dept: ED, region: OTHER_STREET, sees: false },
      { dept: ED, region: STREET, sees: true },
    ];
    const one = `query($id: ID!) { minor(id: $id) { id policeProtectionCase { hasOpenCase } referrals { id } schoolEnrollments { id } } }`;
    const two = `query($a: ID!, $b: ID!) { a: minor(id: $a) { id referrals { id } schoolEnrollments { id } } b: minor(id: $b) { id referrals { id } schoolEnrollments { id } } }`;
    const enrolments = (await t.sql(`SELECT id FROM education.school_enrollment WHERE minor_id = $1 ORDER BY enrolled_on DESC, id`, [inside.id])).map((x) => ({ id: x.id }));
    for (let round = 0; round < 10; round++) {
      for (const c of callers) {
        for (const hub of [t, d]) {
          const token = await hub.token(c.dept, { region: c.region });
          const r1 = await hub.gql(token, one, { id: inside.id });
          expect(r1.errors).toBeUndefined();
          if (!c.sees) {
            expect(r1.data.minor).toBeNull();
          } else {
            expect(r1.data.minor.schoolEnrollments).toEqual(enrolments);
            // Only CIVIL_AFFAIRS (lead) and EDUCATION (receiver) are party to the fixture referral.
            expect(r1.data.minor.referrals.some((x: any) => x.id === referralInside)).toBe(c.dept !== PO);
            expect(r1.data.minor.referrals.some((x: any) => x.id === referralOutside)).toBe(false);
          }
          const r2 = await hub.gql(token, two, { a: inside.id, b: outside.id });
          expect(r2.errors).toBeUndefined();
          if (c.region === STREET) {
            expect(r2.data.a.schoolEnrollments).toEqual(enrolments);
            expect(r2.data.b).toBeNull();
          } else {
            expect(r2.data.a).toBeNull();
            expect(r2.data.b.referrals.map((x: any) => x.id)).toContain(referralOutside);
            expect(r2.data.b.referrals.map((x: any) => x.id)).not.toContain(referralInside);
          }
        }
      }
    }
  }, 180_000);

  // ---------------------------------------------------------------------------------------------
  // 4. Referrals: parties only, within the jurisdiction, on every path (list, by id, on the child,
  //    nested through another record's child).
  // ---------------------------------------------------------------------------------------------
  it.each(['in-process', 'distributed'])('%s: a referral is seen only by its parties (and civil affairs) whose jurisdiction covers its region', async (which) => {
    const hub = which === 'in-process' ? t : d;
    const paths = [
      async (token: string) => ((await hub.gql(token, `{ referrals(first: 500) { id } }`)).data?.referrals ?? []).map((x: any) => x.id),
      async (token: string) => [(await hub.gql(token, `query($id: ID!) { referral(id: $id) { id } }`, { id: referralInside })).data?.referral?.id].filter(Boolean),
      async (token: string) => ((await hub.gql(token, `query($id: ID!) { minor(id: $id) { referrals { id } } }`, { id: inside.id })).data?.minor?.referrals ?? []).map((x: any) => x.id),
      // Through a department record's child, resolved in the department subgraph and then the workflow's.
      async (token: string) => {
        const r = await hub.gql(token, `query($g: String!) { minors(first: 1000, filter: { regionCode: $g }) { edges { node { schoolEnrollments { minor { id referrals { id } } } } } } }`, { g: inside.grid_code });
        return (r.data?.minors?.edges ?? []).flatMap((e: any) => (e.node.schoolEnrollments ?? []).flatMap((s: any) => s.minor.referrals ?? [])).map((x: any) => x.id);
      },
    ];
    const cases: [Department, string, boolean][] = [
      [CA, STREET, true],
      [CA, DISTRICT, true],
      [ED, STREET, true],
      [ED, DISTRICT, true],
      [CA, OTHER_STREET, false],
      [ED, OTHER_STREET, false],
      [PO, STREET, false],
      [PO, DISTRICT, false],
      [JU, DISTRICT, false],
      [YL, STREET, false],
      [WF, DISTRICT, false],
    ];
    for (const [dept, region, sees] of cases) {
      const token = await hub.token(dept, { region });
      for (const [i, path] of paths.entries()) {
        if (i === 3 && dept !== CA && dept !== ED) continue; // schoolEnrollments: not every department reads them
        expect([dept, region, i, (await path(token)).includes(referralInside)]).toEqual([dept, region, i, sees]);
      }
    }
  }, 120_000);

  // ---------------------------------------------------------------------------------------------
  // 5. Mandatory reports: only those made in the caller's jurisdiction, even on a child in it.
  // ---------------------------------------------------------------------------------------------
  it.each(['in-process', 'distributed'])('%s: reports made in another street never show on a child, nor their transitions', async (which) => {
    const hub = which === 'in-process' ? t : d;
    for (const dept of [PO, CA]) {
      const street = await hub.token(dept, { region: STREET });
      const r = await hub.gql(street, `query($id: ID!) { minor(id: $id) { mandatoryReports { id transitions { note } } } }`, { id: inside.id });
      expect(r.errors).toBeUndefined();
      const ids = r.data.minor.mandatoryReports.map((x: any) => x.id);
      expect(ids).toContain(reportInside);
      expect(ids).not.toContain(reportAwayAboutInside);
      expect(JSON.stringify(r.data)).not.toContain(`note-of-${reportAwayAboutInside}`);
      const list = await hub.gql(street, `{ mandatoryReports(first: 500) { id } overdueReports(first: 500) { id } }`);
      expect(JSON.stringify(list.data)).not.toContain(reportAwayAboutInside);
      const one = await hub.gql(street, `query($id: ID!) { mandatoryReport(id: $id) { id } }`, { id: reportAwayAboutInside });
      expect(one.data).toEqual({ mandatoryReport: null });
    }
  });

  // ---------------------------------------------------------------------------------------------
  // 6. `_entities` on a subgraph served alone, as the gateway would call it: mixed batches.
  // ---------------------------------------------------------------------------------------------
  async function entities(name: string, principal: { department: Department; region: string }, reps: unknown[], selection: string) {
    const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Minor { id ${selection} } } }`;
    return postAsGateway(t.config, servers[name].url, name, { userId: 'probe', role: Role.OFFICER, ...principal }, query, { r: reps });
  }
  const rep = (id: unknown) => ({ __typename: 'Minor', id });

  it('police `_entities`: a batch mixing inside, outside, duplicate, upper-case, unknown and malformed ids maps each to its own child or null', async () => {
    const reps = [inside.id, outside.id, inside2.id, inside.id, inside.id.toUpperCase(), UNKNOWN, 'not-a-uuid', outside.id].map(rep);
    const sel = `policeIncidents { id } guardianAdmonishments { id } identityVerifications { id } policeProtectionCase { hasOpenCase contactUnit openSince }`;
    const r = await entities('police', { department: PO, region: STREET }, reps, sel);
    expect(r.errors).toBeUndefined();
    const exp = async (id: string) => {
      const e = await expectedChild(id, STREET);
      return { id, policeIncidents: e.policeIncidents, guardianAdmonishments: e.guardianAdmonishments, identityVerifications: e.identityVerifications, policeProtectionCase: e.policeProtectionCase };
    };
    const a = await exp(inside.id);
    expect(r.data._entities[0]).toEqual(a);
    expect(r.data._entities[1]).toBeNull();
    expect(r.data._entities[2]).toEqual(await exp(inside2.id));
    expect(r.data._entities[3]).toEqual(a);
    expect([null, { ...a, id: inside.id.toUpperCase() }]).toContainEqual(r.data._entities[4]);
    expect(r.data._entities.slice(5)).toEqual([null, null, null]);
  });

  it('workflow `_entities`: a child outside resolves to null, as in the departments; of a child inside, nothing made outside the jurisdiction comes back', async () => {
    const r = await entities('workflow', { department: CA, region: STREET }, [rep(outside.id), rep(inside.id)], `referrals { id } mandatoryReports { id transitions { note } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data._entities[0]).toBeNull();
    expect(r.data._entities[1].referrals.map((x: any) => x.id)).toContain(referralInside);
    expect(r.data._entities[1].mandatoryReports.map((x: any) => x.id)).not.toContain(reportAwayAboutInside);
  });

  // ---------------------------------------------------------------------------------------------
  // 7. Region codes an attacker might pick: prefix siblings, LIKE wildcards.
  // ---------------------------------------------------------------------------------------------
  it.each(['33010', '3301020', '33010_', '33010%', '330102%', '330102_01', '%'])('a token for region %j is refused (UNAUTHENTICATED)', async (region) => {
    const r = await t.gql(await t.token(PO, { region }), `query($id: ID!) { minor(id: $id) { id } }`, { id: inside.id });
    expect(r.status).toBe(401);
    expect(errorCodes(r)).toEqual(['UNAUTHENTICATED']);
    expect(r.data).toBeUndefined();
  });

  it.each(['330102%', '33010_001', '%', '3301'])('a region filter %j cannot reach beyond the subtree (refused or narrowed)', async (regionCode) => {
    const r = await t.gql(await t.token(CA, { region: STREET }), `query($g: String!) { minors(first: 5, filter: { regionCode: $g }) { totalCount } }`, { g: regionCode });
    expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
  });

  it('a mandatory report’s region cannot be a LIKE pattern (it must be an exact region)', async () => {
    const r = await t.gql(await t.token(PO, { region: STREET }), `mutation($i: FileReportInput!) { fileMandatoryReport(input: $i) { id } }`, {
      i: { harmType: 'NEGLECT', observation: 'o', location: 'l', regionCode: '330102%', urgency: 'NORMAL' },
    });
    expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].extensions!.field).toBe('regionCode');
  });
});
