import { randomUUID } from 'node:crypto';
import { Department, Role } from '../src/auth/principal';
import { buildPolicy } from '../src/server/bootstrap';
import { SUBJECT_TOKENS } from './support/schema-calls';
import { eventOf, post } from './support/audit-helpers';
import { INSIDE_STREET } from './support/department-records';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';
import { expectAnsweredAsUnknown } from './support/unknown-id';

jest.setTimeout(600_000);

const { WOMENS_FEDERATION: WF, CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO } = Department;
const DISTRICT = '330102';

const forbiddenFields = (r: { errors?: { extensions?: Record<string, any> }[] }) =>
  [...new Set((r.errors ?? []).filter((e) => e.extensions?.code === 'FORBIDDEN').map((e) => e.extensions!.field as string))].sort();

/**
 * Red team 48 (rt48d): women's federation and Youth League records, read by every department and
 * role, through nested paths and lists, and written by their owners inside and outside their
 * jurisdiction. No bug was found in this area by red team 48; these tests pin what held.
 */
describe('women’s federation and Youth League records (red team 48)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  /** A child of the street with a care plan that has visits, and a plan of a child of another street. */
  const streetChild = async () =>
    (
      await t.sql(`SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE '${INSIDE_STREET}%' AND registry.is_minor(m.birth_date, now())
         AND EXISTS (SELECT 1 FROM womens_federation.care_plan p WHERE p.minor_id = m.id AND p.last_visit_on IS NOT NULL) ORDER BY m.id LIMIT 1`)
    )[0] as { id: string };
  const outsidePlan = async () =>
    (
      await t.sql(`SELECT p.id, p.minor_id, to_char(p.started_on, 'YYYY-MM-DD') AS started_on FROM womens_federation.care_plan p JOIN registry.minor m ON m.id = p.minor_id
         WHERE m.grid_code NOT LIKE '${INSIDE_STREET}%' AND registry.is_minor(m.birth_date, now()) AND p.status = 'ACTIVE'
           AND p.started_on > current_date - 3000 ORDER BY p.id LIMIT 1`)
    )[0] as { id: string; minor_id: string; started_on: string };

  it('pin: a street officer asking for a child of another street, with its WF/YL records, is answered as for an unknown id', async () => {
    // Pinned by red team 48: Minor's reference resolution and recordsByMinor both apply the jurisdiction.
    const wf = await t.token(WF, { region: INSIDE_STREET });
    const out = await outsidePlan();
    const Q = `query($id: ID!) { minor(id: $id) { id carePlans { id visits { id notes } } familyEducationSessions { id } volunteerVisits { id } } }`;
    const r = await expectAnsweredAsUnknown(t, wf, Q, { id: out.minor_id }, { id: randomUUID() });
    expect(r.json.data).toEqual({ minor: null });
  });

  it('pin: a history page’s `after` naming another child’s record (in or out of the jurisdiction) is refused as an unknown id', async () => {
    const wf = await t.token(WF, { region: INSIDE_STREET });
    const child = await streetChild();
    const [otherIn] = await t.sql(
      `SELECT p.id FROM womens_federation.care_plan p JOIN registry.minor m ON m.id = p.minor_id WHERE m.grid_code LIKE '${INSIDE_STREET}%' AND m.id <> $1 ORDER BY p.id LIMIT 1`,
      [child.id],
    );
    const out = await outsidePlan();
    const Q = `query($id: ID!, $a: ID) { minor(id: $id) { id carePlans(after: $a) { id } } }`;
    const unknown = (await t.gql(wf, Q, { id: child.id, a: randomUUID() })).errors;
    expect(unknown?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await t.gql(wf, Q, { id: child.id, a: otherIn.id })).errors).toEqual(unknown);
    expect((await t.gql(wf, Q, { id: child.id, a: out.id })).errors).toEqual(unknown);
  });

  it('pin: a school reaching the child again through CarePlan.minor is refused what its row denies, and the audit records each DENY', async () => {
    const ed = await t.token(ED);
    const child = await streetChild();
    const r = await post(t, ed, {
      query: `query($id: ID!) { minor(id: $id) { carePlans { id caregiver lastVisitOn visits { id } minor { domesticViolenceSupports { id } familyEducationSessions { id } } } } }`,
      variables: { id: child.id },
    });
    expect(r.json.data.minor.carePlans.length).toBeGreaterThan(0);
    for (const plan of r.json.data.minor.carePlans) {
      expect(plan.lastVisitOn).toBeNull();
      expect(plan.visits).toBeNull();
      expect(plan.minor).toEqual({ domesticViolenceSupports: null, familyEducationSessions: null });
    }
    expect(forbiddenFields(r.json)).toEqual(['CarePlan.lastVisitOn', 'CarePlan.visits', 'Minor.domesticViolenceSupports', 'Minor.familyEducationSessions']);
    const event = await eventOf(t, r.requestId);
    const read = event.reads.find((x: any) => x.minorId === child.id);
    expect(read.fields).toMatchObject({
      'Minor.carePlans': 'ALLOW',
      'CarePlan.caregiver': 'ALLOW',
      'CarePlan.lastVisitOn': 'DENY',
      'CarePlan.visits': 'DENY',
      'Minor.domesticViolenceSupports': 'DENY',
      'Minor.familyEducationSessions': 'DENY',
    });
  });

  it('pin: civil affairs’ care-plan list serves the lead’s fields, refuses the federation’s own notes at any depth, and counts only the jurisdiction', async () => {
    const ca = await t.token(CA, { region: INSIDE_STREET });
    const r = await post(t, ca, {
      query: `{ carePlans(first: 100) { totalCount nodes { id lastVisitOn measures minor { id familyEducationSessions { id attendee notes } } } } }`,
    });
    const [{ n }] = await t.sql(
      `SELECT count(*)::int AS n FROM womens_federation.care_plan p JOIN registry.minor m ON m.id = p.minor_id WHERE m.grid_code LIKE '${INSIDE_STREET}%' AND registry.is_minor(m.birth_date, now())`,
    );
    const page = r.json.data.carePlans;
    expect(page.totalCount).toBe(n);
    expect(page.nodes.every((p: any) => p.measures === null)).toBe(true);
    const sessions = page.nodes.flatMap((p: any) => p.minor.familyEducationSessions);
    expect(sessions.length).toBeGreaterThan(0);
    expect(sessions.every((s: any) => s.notes === null && typeof s.attendee === 'string')).toBe(true);
    expect(forbiddenFields(r.json)).toEqual(['CarePlan.measures', 'FamilyEducationSession.notes']);
    const grids = await t.sql(`SELECT DISTINCT m.grid_code FROM registry.minor m WHERE m.id = ANY($1)`, [page.nodes.map((p: any) => p.minor.id)]);
    expect(grids.every((g) => g.grid_code.startsWith(INSIDE_STREET))).toBe(true);
  });

  it('pin: police list prevention cases filtered by kind (a field they read), counted within the jurisdiction, without the Youth League’s measures or follow-ups', async () => {
    const po = await t.token(PO);
    const r = await t.gql(po, `{ preventionCases(first: 5, filter: { kinds: [SERIOUS_MISBEHAVIOUR] }) { totalCount nodes { id kind measures followUps { id } } } }`);
    const [{ n }] = await t.sql(
      `SELECT count(*)::int AS n FROM youth_league.prevention_case p JOIN registry.minor m ON m.id = p.minor_id
        WHERE m.grid_code LIKE '${DISTRICT}%' AND registry.is_minor(m.birth_date, now()) AND p.kind = 'SERIOUS_MISBEHAVIOUR'`,
    );
    expect(r.data.preventionCases.totalCount).toBe(n);
    expect(r.data.preventionCases.nodes.every((c: any) => c.kind === 'SERIOUS_MISBEHAVIOUR' && c.measures === null && c.followUps === null)).toBe(true);
    expect(forbiddenFields(r)).toEqual(['PreventionCase.followUps', 'PreventionCase.measures']);
    // Schools, the federation and the roles may not list them at all.
    for (const [d, role] of [[ED], [WF], [CA, 'DASHBOARD'], [CA, 'AUDITOR']] as [Department, any][]) {
      const denied = await t.gql(await t.token(d, role ? { role } : {}), `{ preventionCases(first: 1) { totalCount } carePlans(first: 1) { totalCount } }`);
      expect(denied.data?.preventionCases ?? null).toBeNull();
      expect(errorCodes(denied)).toContain('FORBIDDEN');
    }
  });

  it('pin: a batch of children’s history pages gives each child its own newest records, as Postgres orders them', async () => {
    const ca = await t.token(CA);
    const r = await t.gql(
      ca,
      `{ minors(first: 100) { edges { node { id carePlans(first: 1) { id minor { id } } volunteerVisits(first: 2) { id } preventionCases(first: 1) { id } } } } }`,
    );
    expect(r.errors).toBeUndefined();
    const nodes = r.data.minors.edges.map((e: any) => e.node);
    expect(nodes.length).toBe(100);
    const ids = (rows: { id: string }[]) => rows.map((x) => x.id);
    for (const m of nodes) {
      const plans = await t.sql(`SELECT id FROM womens_federation.care_plan WHERE minor_id = $1 ORDER BY started_on DESC, id ASC LIMIT 1`, [m.id]);
      const visits = await t.sql(`SELECT id FROM youth_league.volunteer_visit WHERE minor_id = $1 ORDER BY visited_on DESC, id ASC LIMIT 2`, [m.id]);
      const cases = await t.sql(`SELECT id FROM youth_league.prevention_case WHERE minor_id = $1 ORDER BY opened_on DESC, id ASC LIMIT 1`, [m.id]);
      expect([ids(m.carePlans), ids(m.volunteerVisits), ids(m.preventionCases)]).toEqual([ids(plans), ids(visits), ids(cases)]);
      expect(m.carePlans.every((p: any) => p.minor.id === m.id)).toBe(true);
    }
  });

  it('pin: a care visit on another street’s plan, dated before that plan started, is NOT_FOUND as for an unknown plan (not an error that tells the start)', async () => {
    const wf = await t.token(WF, { region: INSIDE_STREET });
    const out = await outsidePlan();
    const early = new Date(Date.parse(`${out.started_on}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    const before = await t.sql(`SELECT count(*)::int AS n FROM womens_federation.care_visit`);
    const V = `mutation($p: ID!, $on: String!) { recordCareVisit(planId: $p, input: { visitedOn: $on, visitor: "张", notes: "走访" }) { id } }`;
    const r = await expectAnsweredAsUnknown(t, wf, V, { p: out.id, on: early }, { p: randomUUID(), on: early });
    expect(errorCodes(r.json)).toEqual(['NOT_FOUND']);
    expect(await t.sql(`SELECT count(*)::int AS n FROM womens_federation.care_visit`)).toEqual(before);
  });

  it('pin: a visit recorded by the federation is audited with the plan’s lastVisitOn change and the visit’s fields read', async () => {
    const wf = await t.token(WF, { region: INSIDE_STREET });
    const [plan] = await t.sql(
      `SELECT p.id, p.minor_id FROM womens_federation.care_plan p JOIN registry.minor m ON m.id = p.minor_id
        WHERE m.grid_code LIKE '${INSIDE_STREET}%' AND p.status = 'ACTIVE' AND (p.last_visit_on IS NULL OR p.last_visit_on < current_date - 3) ORDER BY p.id LIMIT 1`,
    );
    const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
    const r = await post(t, wf, {
      query: `mutation($p: ID!, $on: String!) { recordCareVisit(planId: $p, input: { visitedOn: $on, visitor: "张", notes: "走访" }) { id visitedOn notes } }`,
      variables: { p: plan.id, on: today },
    });
    expect(r.json.errors).toBeUndefined();
    const event = await eventOf(t, r.requestId);
    expect(event.changes).toEqual(
      expect.arrayContaining([
        { mutation: 'recordCareVisit', id: plan.id, minorId: plan.minor_id, fields: ['lastVisitOn'] },
        expect.objectContaining({ mutation: 'recordCareVisit', id: r.json.data.recordCareVisit.id, minorId: plan.minor_id }),
      ]),
    );
    expect(event.reads.find((x: any) => x.minorId === plan.minor_id).fields).toEqual({ 'CareVisit.id': 'ALLOW', 'CareVisit.visitedOn': 'ALLOW', 'CareVisit.notes': 'ALLOW' });
  });
  it('pin (sweep): every subject, every WF/YL field, at depth 1 and 2, served and audited as the policy says', async () => {
    const policy = buildPolicy();
    const [child] = await t.sql(`SELECT m.id FROM registry.minor m WHERE m.grid_code LIKE '${DISTRICT}%' AND registry.is_minor(m.birth_date, now()) ORDER BY
      (EXISTS (SELECT 1 FROM womens_federation.care_plan p WHERE p.minor_id = m.id AND p.last_visit_on IS NOT NULL))::int +
      (EXISTS (SELECT 1 FROM womens_federation.family_education_session p WHERE p.minor_id = m.id))::int +
      (EXISTS (SELECT 1 FROM womens_federation.violence_support p WHERE p.minor_id = m.id))::int +
      (EXISTS (SELECT 1 FROM womens_federation.children_home_attendance p WHERE p.minor_id = m.id))::int +
      (EXISTS (SELECT 1 FROM youth_league.prevention_case p WHERE p.minor_id = m.id AND p.last_follow_up_on IS NOT NULL))::int +
      (EXISTS (SELECT 1 FROM youth_league.idle_support p WHERE p.minor_id = m.id))::int +
      (EXISTS (SELECT 1 FROM youth_league.volunteer_visit p WHERE p.minor_id = m.id))::int DESC, m.id LIMIT 1`);
    const REC = `carePlans(first: 2) { id kind startedOn status caregiver lastVisitOn measures visits(first: 2) { id visitedOn visitor notes } INNER }
      familyEducationSessions(first: 2) { id heldOn topic attendee instructor notes INNER }
      domesticViolenceSupports(first: 2) { id kind startedOn status notes INNER }
      childrenHomeAttendances(first: 2) { id home attendedOn activity INNER }
      preventionCases(first: 2) { id openedOn status caseWorker kind behaviour lastFollowUpOn measures followUps(first: 2) { id followedUpOn note } INNER }
      idleSupports(first: 2) { id kind startedOn provider status note INNER }
      volunteerVisits(first: 2) { id visitedOn volunteer notes INNER }`;
    const inner = REC.replace(/INNER/g, 'minor { id }');
    const outers = REC.split('\n').map((l) => l.trim());
    const QS = outers.map((o) => `query($id: ID!) { minor(id: $id) { id ${o.replace(/INNER/g, `minor { id ${inner} }`)} } }`);
    const TYPES: Record<string, string> = { carePlans: 'CarePlan', visits: 'CareVisit', familyEducationSessions: 'FamilyEducationSession', domesticViolenceSupports: 'DomesticViolenceSupport',
      childrenHomeAttendances: 'ChildrenHomeAttendance', preventionCases: 'PreventionCase', followUps: 'MisbehaviourFollowUp', idleSupports: 'IdleSupport', volunteerVisits: 'VolunteerVisit', minor: 'Minor' };
    const problems: string[] = [];
    let checked = 0;
    for (const [subject, dept, role] of SUBJECT_TOKENS) for (const Q of QS) {
      const token = await t.token(dept, { role, user: role === Role.OFFICER ? undefined : `${role.toLowerCase()}-probe` });
      const r = await post(t, token, { query: Q, variables: { id: child.id } });
      if (!r.json?.data?.minor) { if (policy.access(subject, 'Query.minor') !== 'DENY' && policy.access(subject, 'Minor.id') !== 'DENY') problems.push(`${subject}: minor null ${JSON.stringify(r.json?.errors?.[0])}`); continue; }
      const forbidden = new Set((r.json.errors ?? []).map((e: any) => JSON.stringify(e.path)));
      const other = (r.json.errors ?? []).filter((e: any) => e.extensions?.code !== 'FORBIDDEN');
      if (other.length) problems.push(`${subject}: errors ${JSON.stringify(other[0])}`);
      const seen: Record<string, string> = {};
      const walk = (v: any, type: string, path: (string | number)[]) => {
        for (const [k, val] of Object.entries(v)) {
          const key = `${type}.${k}`;
          const p = [...path, k];
          const access = policy.access(subject, key);
          checked++;
          if (forbidden.has(JSON.stringify(p))) {
            if (access !== 'DENY') problems.push(`${subject}: ${key} FORBIDDEN but ${access}`);
            seen[key] = 'DENY';
            continue;
          }
          if (val !== null && access === 'DENY') problems.push(`${subject}: ${key} served but DENY at ${p.join('.')}`);
          if (val !== null) seen[key] = access;
          if (Array.isArray(val)) val.forEach((x, i) => x && walk(x, TYPES[k]!, [...p, i]));
          else if (val && typeof val === 'object') walk(val, TYPES[k] ?? 'Minor', p);
        }
      };
      walk(r.json.data.minor, 'Minor', ['minor']);
      const ev = await eventOf(t, r.requestId);
      const fields = Object.assign({}, ...ev.reads.filter((x: any) => x.minorId === child.id).map((x: any) => x.fields));
      for (const [key, a] of Object.entries(seen)) if (fields[key] !== a && !(a === 'ALLOW' && fields[key] === 'ALLOW')) problems.push(`${subject}: audit ${key} = ${fields[key]}, served ${a}`);
      for (const [key, a] of Object.entries(fields)) if (a !== policy.access(subject, key)) problems.push(`${subject}: audit ${key} = ${a} but policy ${policy.access(subject, key)}`);
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(300);
  });

  it('pin: each child of a care-plan and a prevention-case list page is audited with every field served or refused, at its access', async () => {
    const checks: [Department, string, Record<string, string>, string][] = [
      [CA, `{ carePlans(first: 10) { nodes { id caregiver measures minor { id } visits { id visitedOn notes } } } }`,
        { 'CarePlan.id': 'ALLOW', 'CarePlan.caregiver': 'ALLOW', 'CarePlan.measures': 'DENY', 'CarePlan.visits': 'ALLOW' }, 'carePlans'],
      [PO, `{ preventionCases(first: 10) { nodes { id kind caseWorker measures minor { id } followUps { id } } } }`,
        { 'PreventionCase.id': 'ALLOW', 'PreventionCase.kind': 'ALLOW', 'PreventionCase.caseWorker': 'ALLOW', 'PreventionCase.measures': 'DENY', 'PreventionCase.followUps': 'DENY' }, 'preventionCases'],
    ];
    for (const [d, query, want, root] of checks) {
      const r = await post(t, await t.token(d, { region: INSIDE_STREET }), { query });
      const nodes = r.json.data[root].nodes;
      expect(nodes.length).toBeGreaterThan(0);
      const event = await eventOf(t, r.requestId);
      for (const node of nodes) {
        const fields = Object.assign({}, ...event.reads.filter((x: any) => x.minorId === node.minor.id).map((x: any) => x.fields));
        expect(fields).toMatchObject(want);
        if (root === 'carePlans' && node.visits.length) expect(fields).toMatchObject({ 'CareVisit.visitedOn': 'ALLOW', 'CareVisit.notes': 'DENY' });
      }
    }
  });

  it('pin: a follow-up on another street’s closed prevention case is NOT_FOUND as for an unknown case, not “the case is closed”', async () => {
    const yl = await t.token(Department.YOUTH_LEAGUE, { region: INSIDE_STREET });
    const [closed] = await t.sql(
      `SELECT p.id FROM youth_league.prevention_case p JOIN registry.minor m ON m.id = p.minor_id
        WHERE m.grid_code NOT LIKE '${INSIDE_STREET}%' AND registry.is_minor(m.birth_date, now()) AND p.status = 'CLOSED' ORDER BY p.id LIMIT 1`,
    );
    const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
    const F = `mutation($c: ID!, $on: String!) { recordMisbehaviourFollowUp(caseId: $c, input: { followedUpOn: $on, note: "谈话" }) { id } }`;
    const r = await expectAnsweredAsUnknown(t, yl, F, { c: closed.id, on: today }, { c: randomUUID(), on: today });
    expect(errorCodes(r.json)).toEqual(['NOT_FOUND']);
  });

  it('pin: a care plan’s visit page `after` another street’s visit is refused as an unknown id', async () => {
    const wf = await t.token(WF, { region: INSIDE_STREET });
    const child = await streetChild();
    const [outVisit] = await t.sql(
      `SELECT v.id FROM womens_federation.care_visit v JOIN registry.minor m ON m.id = v.minor_id WHERE m.grid_code NOT LIKE '${INSIDE_STREET}%' ORDER BY v.id LIMIT 1`,
    );
    const Q = `query($id: ID!, $a: ID) { minor(id: $id) { carePlans { id visits(after: $a) { id } } } }`;
    const unknown = await t.gql(wf, Q, { id: child.id, a: randomUUID() });
    expect(errorCodes(unknown)).toContain('BAD_USER_INPUT');
    expect(await t.gql(wf, Q, { id: child.id, a: outVisit.id })).toEqual(unknown);
  });
  it('pin: a WF or YL department token with a non-officer role reads and writes none of the records (the role decides, not the department)', async () => {
    const child = await streetChild();
    for (const d of [WF, Department.YOUTH_LEAGUE]) {
      for (const role of [Role.AUDITOR, Role.DASHBOARD, Role.REPORTER, Role.EMPLOYER]) {
        const tok = await t.token(d, { role, user: `${role.toLowerCase()}-probe` });
        const r = await t.gql(tok, `query($id: ID!) { minor(id: $id) { id carePlans { id } volunteerVisits { id } } carePlans(first: 1) { totalCount } preventionCases(first: 1) { totalCount } }`, { id: child.id });
        expect(r.data).toEqual({ minor: null, carePlans: null, preventionCases: null });
        expect(errorCodes(r)).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
        const before = await t.sql(`SELECT count(*)::int AS n FROM womens_federation.care_plan`);
        const w = await t.gql(tok, `mutation($id: ID!) { createCarePlan(minorId: $id, input: { kind: LEFT_BEHIND, startedOn: "2026-12-01", status: ACTIVE, caregiver: "x", measures: "y" }) { id } }`, { id: child.id });
        expect(errorCodes(w)).toEqual(['FORBIDDEN']);
        expect(await t.sql(`SELECT count(*)::int AS n FROM womens_federation.care_plan`)).toEqual(before);
      }
    }
  });
});
