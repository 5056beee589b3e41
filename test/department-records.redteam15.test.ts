import { Department, Role } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { errorCodes, postAsGateway, startDistributedTestHub, startTestHub, TestHub } from './support/test-hub';
import { applyMask } from '../src/policy/masks';
import { MaskKind } from '../src/policy/policy.types';

jest.setTimeout(180_000);

const { CIVIL_AFFAIRS: CA, POLICE: PO, EDUCATION: ED, JUSTICE: JU, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;
const PURPOSE = { 'x-purpose': 'CASE_HANDLING; rt15' };
const STREET = '330102001';
const OTHER_STREET = '330102002';

type ListSpec = { dept: Department; list: string; table: string; fields: string; filter: string; testedField: string };
const LISTS: ListSpec[] = [
  { dept: PO, list: 'policeIncidents', table: 'police.incident', fields: 'id type status occurredOn', filter: '{ statuses: [REPORTED, INVESTIGATING, CLOSED] }', testedField: 'PoliceIncident.status' },
  { dept: ED, list: 'dropoutReports', table: 'education.dropout_report', fields: 'id status school reportedOn', filter: '{ statuses: [OPEN, CLOSED] }', testedField: 'DropoutReport.status' },
  { dept: JU, list: 'incarceratedParents', table: 'justice.incarcerated_parent', fields: 'id status kind since', filter: '{ statuses: [IN_CUSTODY, RELEASED] }', testedField: 'IncarceratedParent.status' },
  { dept: YL, list: 'preventionCases', table: 'youth_league.prevention_case', fields: 'id status kind openedOn', filter: '{ statuses: [OPEN, CLOSED] }', testedField: 'PreventionCase.status' },
  { dept: WF, list: 'carePlans', table: 'womens_federation.care_plan', fields: 'id status kind startedOn', filter: '{ statuses: [ACTIVE, ENDED] }', testedField: 'CarePlan.status' },
];

const GQL_ERROR_LEAK = /select |relation "|syntax error|postgres|typeorm|QueryFailedError|\sat \S+ \(|stacktrace/i;

describe('department records (red team 15)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  const idsIn = async (table: string, region: string): Promise<string[]> =>
    (await t.sql(`SELECT r.id FROM ${table} r JOIN registry.minor_jurisdiction j ON j.minor_id = r.minor_id WHERE j.grid_code LIKE $1 ORDER BY r.id`, [`${region}%`])).map(
      (r: { id: string }) => r.id,
    );

  describe.each(LISTS)('$list', (spec) => {
    it('a street officer pages through exactly the records of the street; totalCount and nextCursor agree', async () => {
      const expected = await idsIn(spec.table, STREET);
      expect(expected.length).toBeGreaterThan(0);
      const token = await t.token(spec.dept, { region: STREET });
      const seen: string[] = [];
      let after: string | null = null;
      let total: number | null = null;
      for (let i = 0; i < 50; i++) {
        const r: any = await t.gql(token, `query($a: String) { ${spec.list}(first: 7, after: $a) { totalCount nextCursor nodes { ${spec.fields} minor { id grid { code } } } } }`, { a: after }, PURPOSE);
        expect(r.errors).toBeUndefined();
        const page = r.data[spec.list];
        total = page.totalCount;
        for (const n of page.nodes) {
          expect(n.minor).not.toBeNull();
          expect(n.minor.grid.code.startsWith(STREET)).toBe(true);
          seen.push(n.id);
        }
        after = page.nextCursor;
        if (!after) break;
      }
      expect(seen).toEqual(expected);
      expect(total).toBe(expected.length);
    });

    it('community and grid officers: every filter’s page, count and cursor hold exactly their records', async () => {
      const regions: string[] = (
        await t.sql(`SELECT DISTINCT left(j.grid_code, 12) AS c, j.grid_code AS g FROM ${spec.table} r JOIN registry.minor_jurisdiction j ON j.minor_id = r.minor_id ORDER BY 2 LIMIT 1`)
      ).flatMap((r: any) => [r.c, r.g]);
      for (const region of regions) {
        const expected = await idsIn(spec.table, region);
        const token = await t.token(spec.dept, { region });
        for (const filter of ['null', spec.filter]) {
          const seen: string[] = [];
          let after: string | null = null;
          let total = -1;
          for (let i = 0; i < 1000; i++) {
            const r: any = await t.gql(token, `query($a: String) { ${spec.list}(first: 3, after: $a, filter: ${filter}) { totalCount nextCursor nodes { id } } }`, { a: after }, PURPOSE);
            expect(r.errors).toBeUndefined();
            total = r.data[spec.list].totalCount;
            seen.push(...r.data[spec.list].nodes.map((n: any) => n.id));
            after = r.data[spec.list].nextCursor;
            if (!after) break;
          }
          expect([region, filter, seen]).toEqual([region, filter, expected]);
          expect(total).toBe(expected.length);
        }
      }
    });

    it('a token for a region not in the tree (another district, a street or grid that does not exist) is refused, never served an empty page', async () => {
      for (const region of ['330103', '330102009', '330102001099']) {
        const token = await t.token(spec.dept, { region });
        const r = await t.gql(token, `{ ${spec.list}(first: 1000) { totalCount nextCursor nodes { id } } }`, undefined, PURPOSE);
        expect([region, r.status, errorCodes(r), r.data ?? null]).toEqual([region, 401, ['UNAUTHENTICATED'], null]);
      }
    });

    it('a cursor made from another street’s record id pages on only within the caller’s street', async () => {
      const others = await idsIn(spec.table, OTHER_STREET);
      const mine = await idsIn(spec.table, STREET);
      const token = await t.token(spec.dept, { region: STREET });
      const kind = (await t.gql(token, `{ ${spec.list}(first: 1) { nextCursor } }`, undefined, PURPOSE)) as any;
      const prefix = Buffer.from(kind.data[spec.list].nextCursor, 'base64url').toString().split(':')[0];
      const cursor = Buffer.from(`${prefix}:${others[0]}`).toString('base64url');
      const r = await t.gql(token, `query($a: String) { ${spec.list}(first: 1000, after: $a) { nodes { id } } }`, { a: cursor }, PURPOSE);
      expect(r.errors).toBeUndefined();
      expect(r.data[spec.list].nodes.map((n: any) => n.id)).toEqual(mine.filter((id) => id > others[0]));
    });

    it('bad page sizes and cursors are BAD_USER_INPUT with no SQL or stack, nothing served', async () => {
      const token = await t.token(spec.dept, { region: STREET });
      for (const [first, after] of [
        [0, null],
        [-1, null],
        [1001, null],
        [2147483647, null],
        [5, 'garbage'],
        [5, Buffer.from('police-incident:not-a-uuid').toString('base64url')],
        [5, Buffer.from('care-plan:00000000-0000-0000-0000-00000000000g').toString('base64url')],
        [5, Buffer.from('x'.repeat(5000)).toString('base64url')],
        [5, Buffer.from('\u0000:\u0000').toString('base64url')],
      ] as [number, string | null][]) {
        const r = await t.gql(token, `query($f: Int!, $a: String) { ${spec.list}(first: $f, after: $a) { totalCount nodes { id } } }`, { f: first, a: after }, PURPOSE);
        expect(errorCodes(r)).toEqual([first > 1000 ? expect.stringMatching(/^(BAD_USER_INPUT|LIMIT_EXCEEDED)$/) : 'BAD_USER_INPUT']);
        expect(JSON.stringify(r.errors)).not.toMatch(GQL_ERROR_LEAK);
        expect(r.data?.[spec.list] ?? null).toBeNull();
      }
    });
  });

  it('numeric filters: zero, negative, huge are BAD_USER_INPUT with nothing served', async () => {
    for (const [dept, list, filter] of [
      [PO, 'policeIncidents', 'occurredWithinDays'],
      [JU, 'incarceratedParents', 'releaseWithinDays'],
      [WF, 'carePlans', 'notVisitedWithinDays'],
      [CA, 'policeIncidents', 'occurredWithinDays'],
      [CA, 'carePlans', 'notVisitedWithinDays'],
    ] as [Department, string, string][]) {
      const token = await t.token(dept, { region: STREET });
      for (const v of [0, -1, 367, 2147483647, -2147483648]) {
        const r = await t.gql(token, `query($v: Int) { ${list}(filter: { ${filter}: $v }) { totalCount nodes { id } } }`, { v }, PURPOSE);
        expect(errorCodes(r)).toEqual(['BAD_USER_INPUT']);
        expect(JSON.stringify(r.errors)).not.toMatch(GQL_ERROR_LEAK);
      }
    }
  });

  it('school filter: odd strings are refused or match nothing, never an internal error', async () => {
    const token = await t.token(ED, { region: STREET });
    for (const school of ['\u0000', "' OR 1=1 --", '%', '_', 'a'.repeat(101), '', ' ', '\uD800']) {
      const r = await t.gql(token, `query($s: String) { dropoutReports(filter: { school: $s }) { totalCount nodes { id } } }`, { s: school }, PURPOSE);
      const codes = errorCodes(r);
      if (codes.length) expect(codes).toEqual(['BAD_USER_INPUT']);
      else expect(r.data.dropoutReports).toEqual({ totalCount: 0, nodes: [] });
      expect(JSON.stringify(r.errors ?? [])).not.toMatch(GQL_ERROR_LEAK);
    }
  });

  const childWith = async (table: string, region: string): Promise<string> =>
    (await t.sql(`SELECT r.minor_id FROM ${table} r JOIN registry.minor_jurisdiction j ON j.minor_id = r.minor_id WHERE j.grid_code LIKE $1 ORDER BY r.minor_id LIMIT 1`, [`${region}%`]))[0].minor_id;

  type Read = { minorId: string; fields: Record<string, string> };
  const readsOf = async (requestId: string): Promise<Record<string, Record<string, string>>> =>
    Object.fromEntries(((await eventOf(t, requestId)).reads as Read[]).map((r) => [r.minorId, r.fields]));

  it('a root list answered with __typename only records every child it found, with the filter tested', async () => {
    const token = await t.token(PO, { region: STREET, user: 'po-typename' });
    const expected = (
      await t.sql(
        `SELECT DISTINCT i.minor_id FROM police.incident i JOIN registry.minor_jurisdiction j ON j.minor_id = i.minor_id AND j.grid_code LIKE '${STREET}%' WHERE i.status = 'REPORTED' ORDER BY 1`,
      )
    ).map((r: any) => r.minor_id);
    expect(expected.length).toBeGreaterThan(0);
    const r = await post(t, token, { query: `{ policeIncidents(first: 1000, filter: { statuses: [REPORTED] }) { nodes { __typename } } }` }, PURPOSE);
    expect(r.json.errors).toBeUndefined();
    const reads = await readsOf(r.requestId);
    expect(Object.keys(reads).sort()).toEqual(expected);
    for (const f of Object.values(reads)) expect(f).toMatchObject({ 'PoliceIncident.status': 'ALLOW' });
  });

  it('sub-records read through a child (persuasion actions, care visits, follow-ups) are recorded against that child', async () => {
    const ca = await t.token(CA, { user: 'ca-sub' });
    const a = (await t.sql(`SELECT r.minor_id FROM education.persuasion_action r ORDER BY r.id LIMIT 1`))[0].minor_id;
    const b = (await t.sql(`SELECT r.minor_id FROM womens_federation.care_visit r ORDER BY r.id LIMIT 1`))[0].minor_id;
    const c = (await t.sql(`SELECT r.minor_id FROM youth_league.follow_up r ORDER BY r.id LIMIT 1`))[0]?.minor_id;
    const q = `query($a: ID!, $b: ID!, $c: ID!) {
      a: minor(id: $a) { dropoutReports { persuasionActions { actedOn } } }
      b: minor(id: $b) { carePlans { visits { visitedOn } } }
      c: minor(id: $c) { preventionCases { followUps { followedUpOn } } } }`;
    const r = await post(t, ca, { query: q, variables: { a, b, c } }, PURPOSE);
    expect(r.json.errors).toBeUndefined();
    const reads = await readsOf(r.requestId);
    expect(reads[a]).toMatchObject({ 'PersuasionAction.actedOn': 'ALLOW' });
    expect(reads[b]).toMatchObject({ 'CareVisit.visitedOn': 'ALLOW' });
    expect(reads[c]).toMatchObject({ 'MisbehaviourFollowUp.followedUpOn': 'ALLOW' });
  });

  // What each department reads of the child of its own record, nested in its root list.
  const NESTED: [Department, string, string][] = [
    [YL, 'preventionCases', `idNumber householdRegistration schoolEnrollments { status grade } dropoutReports { daysAbsent persuasionActions { id } } policeIncidents { id } carePlans { id } guardians { name phone address situation } categories { category }`],
    [WF, 'carePlans', `idNumber currentAddress birthDate guardians { name phone situation } categories { category } guardianAdmonishments { issuingUnit reason } dropoutReports { id } identityVerifications { householdPlace result }`],
    [JU, 'incarceratedParents', `idNumber currentAddress guardians { phone address situation } categories { category } communityCorrections { notes } legalAidCases { details } carePlans { caregiver lastVisitOn measures } schoolEnrollments { id } incarceratedParents { institution }`],
    [ED, 'dropoutReports', `idNumber currentAddress guardians { name phone address } categories { category } identityVerifications { householdPlace householdStatus verifiedOn } bullyingCases { description } preventionCases { kind caseWorker } volunteerVisits { id }`],
    [PO, 'policeIncidents', `idNumber birthDate guardians { situationNote } incarceratedParents { institution kind } communityCorrections { notes status } legalAidCases { id } dropoutReports { daysAbsent status } preventionCases { measures kind }`],
    [CA, 'carePlans', `carePlans(first: 3) { measures visits(first: 3) { notes visitor } } policeIncidents(first: 3) { narrative type } dropoutReports(first: 3) { persuasionActions(first: 3) { note actor } } preventionCases(first: 3) { measures followUps(first: 3) { note } } incarceratedParents(first: 3) { institution } legalAidCases(first: 3) { details matter } familyEducationSessions(first: 3) { notes attendee }`],
  ];

  const answerOf = async (hub: TestHub, dept: Department, list: string, sel: string) => {
    const token = await hub.token(dept, { region: STREET, user: `nested-${dept}` });
    const r = await hub.gql(token, `{ ${list}(first: ${dept === CA ? 8 : 100}) { nodes { id minor { id ${sel} } } } }`, undefined, PURPOSE);
    const errors = (r.errors ?? []).map((e: any) => `${e.extensions?.code} ${JSON.stringify(e.path)}`).sort();
    return { data: r.data, errors };
  };

  it.each(NESTED)('%s: %s → minor: masks and refusals follow docs/permissions.md', async (dept, list, sel) => {
    const { data, errors } = await answerOf(t, dept, list, sel);
    if (!data?.[list]) throw new Error(JSON.stringify(errors));
    expect(data[list].nodes.length).toBeGreaterThan(0);
    // No error other than FORBIDDEN.
    for (const e of errors) expect(e).toMatch(/^FORBIDDEN /);
    const minors = data[list].nodes.map((n: any) => n.minor);
    const refused = new Set(errors.map((e: string) => JSON.parse(e.slice('FORBIDDEN '.length)).filter((p: unknown) => typeof p === 'string').slice(3).join('.')));
    const present = (field: string) => {
      const parts = field.split('.');
      let items: any[] = minors;
      for (const part of parts.slice(0, -1)) items = items.flatMap((i) => (Array.isArray(i?.[part]) ? i[part] : []));
      return items.length > 0;
    };
    const expectRefused = (field: string) => {
      if (present(field)) expect([...refused]).toContain(field);
    };
    const expectServed = (field: string) => expect([...refused]).not.toContain(field);
    const ids = minors.map((m: any) => m.id);
    const stored = await t.sql(`SELECT id, id_number, current_address FROM registry.minor WHERE id = ANY($1)`, [ids]);
    const byId = new Map(stored.map((s: any) => [s.id, s]));
    for (const m of minors) {
      if ('idNumber' in m && m.idNumber !== null) {
        const full = (byId.get(m.id) as any).id_number;
        expect(m.idNumber).toBe([PO, CA].includes(dept) ? full : applyMask(MaskKind.ID_NUMBER, full));
      }
      for (const c of m.categories ?? []) {
        if (![CA, PO, JU].includes(dept)) expect(['CRIME_VICTIM', 'DOMESTIC_VIOLENCE', 'INCARCERATED_PARENT']).not.toContain(c.category);
      }
    }
    if (dept === YL) {
      ['idNumber', 'householdRegistration', 'schoolEnrollments.grade', 'dropoutReports.persuasionActions', 'policeIncidents', 'carePlans', 'guardians.address', 'guardians.situation'].forEach(expectRefused);
      ['schoolEnrollments.status', 'dropoutReports.daysAbsent', 'guardians.name', 'guardians.phone'].forEach(expectServed);
    }
    if (dept === WF) {
      ['birthDate', 'guardians.situation', 'guardianAdmonishments.reason', 'dropoutReports', 'identityVerifications.result'].forEach(expectRefused);
      ['currentAddress', 'guardians.name', 'guardianAdmonishments.issuingUnit', 'identityVerifications.householdPlace'].forEach(expectServed);
    }
    if (dept === JU) {
      ['carePlans.lastVisitOn', 'carePlans.measures', 'schoolEnrollments'].forEach(expectRefused);
      ['legalAidCases.details', 'communityCorrections.notes', 'incarceratedParents.institution', 'carePlans.caregiver', 'guardians.situation'].forEach(expectServed);
    }
    if (dept === ED) {
      ['identityVerifications.verifiedOn', 'preventionCases.kind', 'volunteerVisits'].forEach(expectRefused);
      ['identityVerifications.householdPlace', 'bullyingCases.description', 'preventionCases.caseWorker'].forEach(expectServed);
    }
    if (dept === PO) {
      ['incarceratedParents.institution', 'communityCorrections.notes', 'legalAidCases', 'dropoutReports.daysAbsent', 'preventionCases.measures'].forEach(expectRefused);
      ['birthDate', 'guardians.situationNote', 'incarceratedParents.kind', 'communityCorrections.status', 'dropoutReports.status', 'preventionCases.kind'].forEach(expectServed);
    }
    if (dept === CA) {
      ['carePlans.measures', 'carePlans.visits.notes', 'policeIncidents.narrative', 'dropoutReports.persuasionActions.note', 'preventionCases.measures', 'preventionCases.followUps.note', 'incarceratedParents.institution', 'legalAidCases.details', 'familyEducationSessions.notes'].forEach(expectRefused);
    }
  });

  it.each([CA, PO, ED, JU, YL, WF])('%s: every field served of a child’s department records is in the audit event of the child', async (dept) => {
    const ALL = `__typename id
      policeIncidents { __typename id type occurredOn status handlingUnit narrative }
      policeProtectionCase { __typename hasOpenCase contactUnit openSince }
      guardianAdmonishments { __typename id guardian admonishedOn issuingUnit reason }
      identityVerifications { __typename id verifiedOn result householdStatus householdPlace note }
      schoolEnrollments { __typename id school status enrolledOn grade }
      dropoutReports { __typename id school reportedOn status outcome closedOn daysAbsent persuasionActions { __typename id actedOn method actor note } }
      bullyingCases { __typename id school occurredOn role severity status description }
      educationAid { __typename id kind amountYuan grantedOn schoolYear }
      incarceratedParents { __typename id parent kind since expectedRelease status institution }
      communityCorrections { __typename id startedOn endsOn status supervisingOffice notes }
      legalAidCases { __typename id openedOn matter status provider details }
      preventionCases { __typename id openedOn status caseWorker kind behaviour lastFollowUpOn measures followUps { __typename id followedUpOn note } }
      idleSupports { __typename id kind startedOn provider status note }
      volunteerVisits { __typename id visitedOn volunteer notes }
      carePlans { __typename id kind startedOn status caregiver lastVisitOn measures visits { __typename id visitedOn visitor notes } }
      familyEducationSessions { __typename id heldOn topic attendee instructor notes }
      domesticViolenceSupports { __typename id kind startedOn status notes }
      childrenHomeAttendances { __typename id home attendedOn activity }`;
    // A child with as many kinds of department records as the data hold.
    const [{ minor_id: child }] = await t.sql(`
      SELECT m.id AS minor_id FROM registry.minor_jurisdiction j JOIN registry.minor m ON m.id = j.minor_id WHERE j.grid_code LIKE '${STREET}%'
      ORDER BY (SELECT count(DISTINCT x) FROM (
        SELECT 'a' x FROM police.incident WHERE minor_id = m.id UNION ALL SELECT 'b' FROM education.dropout_report WHERE minor_id = m.id
        UNION ALL SELECT 'c' FROM justice.incarcerated_parent WHERE minor_id = m.id UNION ALL SELECT 'd' FROM youth_league.prevention_case WHERE minor_id = m.id
        UNION ALL SELECT 'e' FROM womens_federation.care_plan WHERE minor_id = m.id UNION ALL SELECT 'f' FROM police.identity_verification WHERE minor_id = m.id
        UNION ALL SELECT 'g' FROM education.school_enrollment WHERE minor_id = m.id UNION ALL SELECT 'h' FROM police.guardian_admonishment WHERE minor_id = m.id) s) DESC, m.id LIMIT 1`);
    const token = await t.token(dept, { region: STREET, user: `rt15-all-${dept}` });
    const r = await post(t, token, { query: `query($id: ID!) { minor(id: $id) { ${ALL} } }`, variables: { id: child } }, PURPOSE);
    expect(r.json.data.minor.id).toBe(child);
    for (const e of r.json.errors ?? []) expect(e.extensions.code).toBe('FORBIDDEN');
    const served = new Set<string>();
    const walk = (o: any) => {
      if (Array.isArray(o)) return o.forEach(walk);
      if (!o || typeof o !== 'object') return;
      for (const [k, v] of Object.entries(o)) {
        if (k === '__typename') continue;
        if (v !== null) served.add(`${o.__typename}.${k}`);
        walk(v);
      }
    };
    walk(r.json.data.minor);
    const reads = (await readsOf(r.requestId))[child] ?? {};
    const missing = [...served].filter((k) => !(k in reads) || reads[k] === 'DENY');
    expect(missing).toEqual([]);
    // And nothing refused is recorded as served.
    const refusedPaths = (r.json.errors ?? []).length;
    expect(Object.entries(reads).filter(([, a]) => a === 'DENY').length).toBeGreaterThanOrEqual(refusedPaths > 0 ? 1 : 0);
  });

  it.each(LISTS.map((l) => [l.dept, l.list, l.table]))('%s: a district page of 1000 %s records every child it returned, as the auditor reads the event', async (dept, list, table) => {
    const token = await t.token(dept as Department, { user: `rt15-big-${dept}` });
    const r = await post(t, token, { query: `{ ${list}(first: 1000) { nodes { id minor { id } } } }` }, PURPOSE);
    expect(r.json.errors).toBeUndefined();
    const returned = [...new Set(r.json.data[list].nodes.map((n: any) => n.minor.id))].sort();
    const expected = (
      await t.sql(`SELECT r.minor_id FROM ${table} r JOIN registry.minor_jurisdiction j ON j.minor_id = r.minor_id ORDER BY r.id LIMIT 1000`)
    ).map((x: any) => x.minor_id);
    expect(returned).toEqual([...new Set(expected)].sort());
    const auditor = await t.token(CA, { role: Role.AUDITOR, user: 'rt15-auditor' });
    const a = await t.gql(auditor, `query($id: ID!) { auditEvents(filter: { requestId: $id }, first: 5) { edges { node { outcome reads { minorId } } } } }`, { id: r.requestId }, {});
    expect(a.errors).toBeUndefined();
    const nodes = a.data.auditEvents.edges.map((e: any) => e.node);
    expect(nodes).toHaveLength(1);
    expect(nodes[0].reads.map((x: any) => x.minorId).sort()).toEqual(returned);
  });

  it.each([
    [PO, 'policeIncidents', 'police.incident'],
    [ED, 'dropoutReports', 'education.dropout_report'],
    [JU, 'incarceratedParents', 'justice.incarcerated_parent'],
    [YL, 'preventionCases', 'youth_league.prevention_case'],
    [WF, 'carePlans', 'womens_federation.care_plan'],
    [ED, 'identityVerifications', 'police.identity_verification'],
  ] as [Department, string, string][])('%s: nested %s: hostile first/after refused on the path alike, an upper-case own row pages as the lower-case one', async (dept, field, table) => {
    const token = await t.token(dept, { region: STREET, user: `rt15-hist-${dept}` });
    // A child of the street with two rows of the list (a copy of one of its rows under a new id, where the data hold one).
    const [{ id: seedRow }] = await t.sql(
      `SELECT r.id FROM ${table} r JOIN registry.minor_jurisdiction j ON j.minor_id = r.minor_id AND j.grid_code LIKE '${STREET}%' ORDER BY r.minor_id LIMIT 1`,
    );
    const inserted: { id: string }[] = await t.sql(
      `INSERT INTO ${table} SELECT (jsonb_populate_record(NULL::${table}, to_jsonb(r) || jsonb_build_object('id', gen_random_uuid()))).* FROM ${table} r WHERE r.id = $1 AND (SELECT count(*) FROM ${table} x WHERE x.minor_id = r.minor_id) < 2 RETURNING id`,
      [seedRow],
    );
    try {
    const [{ minor_id: child }] = await t.sql(
      `SELECT r.minor_id FROM ${table} r JOIN registry.minor_jurisdiction j ON j.minor_id = r.minor_id AND j.grid_code LIKE '${STREET}%' GROUP BY r.minor_id HAVING count(*) >= 2 ORDER BY r.minor_id LIMIT 1`,
    );
    const [{ minor_id: sibling }] = await t.sql(
      `SELECT r.minor_id FROM ${table} r JOIN registry.minor_jurisdiction j ON j.minor_id = r.minor_id AND j.grid_code LIKE '${STREET}%' WHERE r.minor_id <> $1 ORDER BY r.minor_id LIMIT 1`,
      [child],
    );
    const [{ id: otherStreetRow }] = await t.sql(
      `SELECT r.id FROM ${table} r JOIN registry.minor_jurisdiction j ON j.minor_id = r.minor_id AND j.grid_code LIKE '${OTHER_STREET}%' ORDER BY r.id LIMIT 1`,
    );
    const [{ id: siblingRow }] = await t.sql(`SELECT id FROM ${table} WHERE minor_id = $1 LIMIT 1`, [sibling]);
    const q = `query($id: ID!, $f: Int!, $a: ID) { minor(id: $id) { id name ${field}(first: $f, after: $a) { id } } }`;
    const all = await t.gql(token, q, { id: child, f: 100, a: null }, PURPOSE);
    expect(all.errors).toBeUndefined();
    const rows = all.data.minor[field].map((r: any) => r.id);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const lower = await t.gql(token, q, { id: child, f: 100, a: rows[0] }, PURPOSE);
    const upper = await t.gql(token, q, { id: child, f: 100, a: rows[0].toUpperCase() }, PURPOSE);
    expect(lower.errors).toBeUndefined();
    expect(upper).toEqual(lower);
    expect(lower.data.minor[field].map((r: any) => r.id)).toEqual(rows.slice(1));
    const refusals: Record<string, unknown> = {};
    for (const [name, f, a] of [
      ['zero', 0, null],
      ['negative', -1, null],
      ['over', 101, null],
      ['huge', 2147483647, null],
      ['unknown', 5, '6f1c1f62-1b5c-4c8e-9d55-0d6f5a4f9e11'],
      ['otherStreet', 5, otherStreetRow],
      ['sibling', 5, siblingRow],
      ['childId', 5, child],
      ['notId', 5, 'x'],
      ['empty', 5, ''],
    ] as [string, number, string | null][]) {
      const r = await t.gql(token, q, { id: child, f, a }, PURPOSE);
      expect(JSON.stringify(r.errors ?? [])).not.toMatch(GQL_ERROR_LEAK);
      refusals[name] = { name: r.data?.minor?.name != null, list: r.data?.minor?.[field] ?? null, errors: (r.errors ?? []).map((e: any) => [e.extensions?.code, e.extensions?.field, e.message, (e.path ?? []).join('.')]) };
    }
    const pageRefusal = (field: string) => ({ name: true, list: null, errors: [['BAD_USER_INPUT', 'first', 'first: must be between 1 and 100', `minor.${field}`]] });
    const cursorRefusal = refusals.unknown;
    expect((cursorRefusal as any).errors[0][0]).toBe('BAD_USER_INPUT');
    for (const k of ['otherStreet', 'sibling', 'childId', 'notId', 'empty']) expect([k, refusals[k]]).toEqual([k, cursorRefusal]);
    for (const k of ['zero', 'negative', 'over']) expect([k, refusals[k]]).toEqual([k, pageRefusal(field)]);
    expect(['huge', (refusals.huge as any).errors.map((e: any) => e[0])]).toEqual(['huge', [expect.stringMatching(/^(BAD_USER_INPUT|LIMIT_EXCEEDED)$/)]]);
    } finally {
      for (const { id } of inserted) await t.sql(`DELETE FROM ${table} WHERE id = $1`, [id]);
    }
  });

  it('a child looked up by its id in capitals is served the same department records, and audited under the same id', async () => {
    const child = await childWith('police.incident', STREET);
    const token = await t.token(CA, { region: STREET, user: 'rt15-caps' });
    const q = `query($id: ID!) { minor(id: $id) { id policeIncidents { id type } carePlans { id } dropoutReports { id } policeProtectionCase { hasOpenCase } } }`;
    const lower = await post(t, token, { query: q, variables: { id: child } }, PURPOSE);
    const upper = await post(t, token, { query: q, variables: { id: child.toUpperCase() } }, PURPOSE);
    expect(upper.json).toEqual(lower.json);
    expect(Object.keys(await readsOf(upper.requestId))).toEqual([child]);
  });

  it('a token whose region is no node of the tree (a code between levels, a prefix of several streets) is refused, never served a slice', async () => {
    for (const region of ['3301020', '33010200', '3301020010', '33010200100', '33010200100100', '330102001001001', '330102001001999']) {
      const token = await t.token(PO, { region });
      const r = await t.gql(token, `{ policeIncidents(first: 1000) { totalCount nodes { id } } }`, undefined, PURPOSE);
      const exists = (await t.sql(`SELECT 1 FROM registry.region WHERE code = $1`, [region])).length > 0;
      if (exists) {
        expect(r.errors).toBeUndefined();
        continue;
      }
      expect([region, r.status, errorCodes(r), r.data ?? null]).toEqual([region, 401, ['UNAUTHENTICATED'], null]);
    }
  });

  it('a nested list’s after naming another street’s row is audited exactly as an unknown id', async () => {
    const token = await t.token(PO, { region: STREET, user: 'rt15-after-audit' });
    const child = await childWith('police.incident', STREET);
    const [{ id: otherRow }] = await t.sql(
      `SELECT r.id FROM police.incident r JOIN registry.minor_jurisdiction j ON j.minor_id = r.minor_id AND j.grid_code LIKE '${OTHER_STREET}%' ORDER BY r.id LIMIT 1`,
    );
    const q = `query($id: ID!, $a: ID) { minor(id: $id) { name policeIncidents(after: $a) { id } guardianAdmonishments(after: $a) { id } identityVerifications(after: $a) { id } } }`;
    const strip = (e: Record<string, any>) => ({ outcome: e.outcome, reads: e.reads, errors: e.errors, refusals: e.refusals });
    const a = await post(t, token, { query: q, variables: { id: child, a: otherRow } }, PURPOSE);
    const b = await post(t, token, { query: q, variables: { id: child, a: '6f1c1f62-1b5c-4c8e-9d55-0d6f5a4f9e11' } }, PURPOSE);
    expect(a.json).toEqual(b.json);
    expect(strip(await eventOf(t, a.requestId))).toEqual(strip(await eventOf(t, b.requestId)));
  });

  it.each(LISTS.map((l) => [l.dept, l.list, l.table]))('%s: %s unfiltered, __typename only: every child found is recorded', async (dept, list, table) => {
    const token = await t.token(dept as Department, { region: STREET, user: `rt15-tn-${dept}` });
    const r = await post(t, token, { query: `{ ${list}(first: 1000) { nodes { __typename } } }` }, PURPOSE);
    expect(r.json.errors).toBeUndefined();
    const expected = [...new Set(
      (await t.sql(`SELECT r.minor_id FROM ${table} r JOIN registry.minor_jurisdiction j ON j.minor_id = r.minor_id AND j.grid_code LIKE '${STREET}%'`)).map((x: any) => x.minor_id),
    )].sort();
    expect(r.json.data[list].nodes.length).toBeGreaterThan(0);
    expect(Object.keys(await readsOf(r.requestId)).sort()).toEqual(expected);
  });

  describe('under a referral’s purpose (reads that referral’s child only)', () => {
    const CREATE = `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`;
    const refer = async (to: Department, minorId: string): Promise<string> => {
      const ca = await t.token(CA, { region: STREET, user: 'rt15-referrer' });
      const r = await t.gql(ca, CREATE, { input: { minorId, type: 'LEGAL_AID', toDepartment: to, need: '需要法律援助' } });
      expect(r.errors).toBeUndefined();
      return r.data.createReferral.id;
    };
    const LIST_OF: Record<string, [string, string, string]> = {
      [PO]: ['policeIncidents', 'police.incident', '{ statuses: [REPORTED, INVESTIGATING] }'],
      [ED]: ['dropoutReports', 'education.dropout_report', '{ statuses: [OPEN] }'],
      [JU]: ['incarceratedParents', 'justice.incarcerated_parent', '{ statuses: [IN_CUSTODY] }'],
      [YL]: ['preventionCases', 'youth_league.prevention_case', '{ statuses: [OPEN] }'],
      [WF]: ['carePlans', 'womens_federation.care_plan', '{ statuses: [ACTIVE] }'],
    };

    it.each([PO, ED, JU, YL, WF])('%s: a root list, or a filtered count or cursor, naming other children is refused whole', async (dept) => {
      const [list, table, filter] = LIST_OF[dept];
      const child = await childWith(table, STREET);
      const ref = await refer(dept, child);
      const token = await t.token(dept, { region: STREET, user: `rt15-receiver-${dept}` });
      const h = { 'x-purpose': `REFERRAL; ${ref}` };
      const outcomes: Record<string, unknown> = {};
      for (const [name, q] of Object.entries({
        nodes: `{ ${list}(first: 1000) { nodes { id } } }`,
        typename: `{ ${list}(first: 1000) { nodes { __typename } } }`,
        filteredCount: `{ ${list}(filter: ${filter}) { totalCount } }`,
        filteredCursor: `{ ${list}(first: 1, filter: ${filter}) { nextCursor } }`,
      })) {
        const r = await post(t, token, { query: q }, h);
        const e = await eventOf(t, r.requestId);
        const others = (e.reads as Read[]).map((x) => x.minorId).filter((m) => m !== child);
        outcomes[name] = { status: r.status, codes: (r.json.errors ?? []).map((x: any) => x.extensions?.code), served: r.status === 200 && others.length > 0 };
      }
      for (const [name, o] of Object.entries(outcomes)) expect([name, o]).toEqual([name, { status: 403, codes: ['FORBIDDEN'], served: false }]);
    });
  });

  describe('distributed mode', () => {
    let d: TestHub;
    beforeAll(async () => {
      d = await startDistributedTestHub();
    });
    afterAll(() => d?.stop());

    it.each(NESTED)('%s: %s → minor answers as in-process (data and errors)', async (dept, list, sel) => {
      const local = await answerOf(t, dept, list, sel);
      const remote = await answerOf(d, dept, list, sel);
      expect(remote.errors).toEqual(local.errors);
      expect(remote.data).toEqual(local.data);
    });

    it('IdentityVerification.householdPlace is masked for schools in every path: nested in-process, through the gateway, and a subgraph’s _entities', async () => {
      const rows = await t.sql(
        `SELECT v.minor_id, v.household_place FROM police.identity_verification v JOIN registry.minor_jurisdiction j ON j.minor_id = v.minor_id AND j.grid_code LIKE '${STREET}%' WHERE v.household_place IS NOT NULL AND v.household_place <> '' ORDER BY v.id LIMIT 3`,
      );
      expect(rows.length).toBeGreaterThan(0);
      for (const { minor_id: child, household_place: place } of rows) {
        const masked = applyMask(MaskKind.ADDRESS, place);
        expect(masked).not.toBe(place);
        const q = `query($id: ID!) { minor(id: $id) { identityVerifications(first: 100) { householdPlace } } }`;
        for (const hub of [t, d]) {
          const token = await hub.token(ED, { region: STREET, user: 'rt15-school-mask' });
          const r = await hub.gql(token, q, { id: child }, PURPOSE);
          expect(r.errors).toBeUndefined();
          const places = r.data.minor.identityVerifications.map((v: any) => v.householdPlace);
          expect(places).toContain(masked);
          expect(places).not.toContain(place);
        }
        const principal = { userId: 'rt15-school-ent', department: ED, role: Role.OFFICER, region: STREET };
        const ent = await postAsGateway(d.config, d.config.subgraphUrls.police, 'police', principal, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Minor { identityVerifications(first: 100) { householdPlace } } } }`, {
          r: [{ __typename: 'Minor', id: child }],
        });
        const entPlaces = ent.data._entities[0].identityVerifications.map((v: any) => v.householdPlace);
        expect(entPlaces).toContain(masked);
        expect(entPlaces).not.toContain(place);
      }
    });

    it.each(NESTED)('%s: %s → minor records the same reads distributed as in-process', async (dept, list, sel) => {
      const reads = async (hub: TestHub) => {
        const token = await hub.token(dept, { region: STREET, user: `rt15-par-${dept}` });
        const r = await post(hub, token, { query: `{ ${list}(first: ${dept === CA ? 8 : 100}, filter: ${LISTS.find((l) => l.list === list)!.filter}) { totalCount nextCursor nodes { id minor { id ${sel} } } } }` }, PURPOSE);
        const e = await eventOf(hub, r.requestId);
        return { status: r.status, outcome: e.outcome, reads: Object.fromEntries((e.reads as Read[]).map((x) => [x.minorId, x.fields])) };
      };
      const local = await reads(t);
      const remote = await reads(d);
      expect(remote).toEqual(local);
    });

    it.each(LISTS.map((l) => [l.dept, l.list, l.table]))('%s: %s __typename only, with and without a filter: the same children recorded as in-process', async (dept, list) => {
      const filter = LISTS.find((l) => l.list === list)!.filter;
      for (const q of [`{ ${list}(first: 1000) { nodes { __typename } } }`, `{ ${list}(first: 1000, filter: ${filter}) { nodes { __typename } } }`, `{ ${list}(first: 2, filter: ${filter}) { totalCount nextCursor } }`]) {
        const run = async (hub: TestHub) => {
          const token = await hub.token(dept as Department, { region: STREET, user: `rt15-tnd-${dept}` });
          const r = await post(hub, token, { query: q }, PURPOSE);
          const e = await eventOf(hub, r.requestId);
          return { json: r.json, reads: Object.fromEntries((e.reads as Read[]).map((x) => [x.minorId, x.fields])) };
        };
        expect(await run(d)).toEqual(await run(t));
      }
    });

    const SUBGRAPH_FIELDS: [string, Department, string][] = [
      ['police', PO, 'policeIncidents { id narrative } policeProtectionCase { hasOpenCase contactUnit openSince } identityVerifications { id }'],
      ['police', ED, 'policeProtectionCase { hasOpenCase contactUnit openSince } identityVerifications { id householdPlace }'],
      ['education', ED, 'dropoutReports { id daysAbsent } schoolEnrollments { id grade }'],
      ['justice', JU, 'incarceratedParents { id institution } communityCorrections { id notes }'],
      ['youth_league', YL, 'preventionCases { id measures } idleSupports { id note }'],
      ['womens_federation', WF, 'carePlans { id measures visits { notes } } domesticViolenceSupports { id notes }'],
    ];

    it.each(SUBGRAPH_FIELDS)('_entities of %s as %s: a child of another street answers as an unknown id; one of the street is served', async (subgraph, dept, sel) => {
      const inside = await childWith(
        { police: 'police.incident', education: 'education.dropout_report', justice: 'justice.incarcerated_parent', youth_league: 'youth_league.prevention_case', womens_federation: 'womens_federation.care_plan' }[subgraph]!,
        STREET,
      );
      const outside = await childWith(
        { police: 'police.incident', education: 'education.dropout_report', justice: 'justice.incarcerated_parent', youth_league: 'youth_league.prevention_case', womens_federation: 'womens_federation.care_plan' }[subgraph]!,
        OTHER_STREET,
      );
      const principal = { userId: `ent-${dept}`, department: dept, role: Role.OFFICER, region: STREET };
      const q = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Minor { id ${sel} } } }`;
      const ask = (id: string) => postAsGateway(d.config, d.config.subgraphUrls[subgraph], subgraph, principal, q, { r: [{ __typename: 'Minor', id }] });
      const unknown = await ask('6f1c1f62-1b5c-4c8e-9d55-0d6f5a4f9e11');
      const out = await ask(outside);
      expect(out).toEqual(unknown);
      expect(unknown.data?._entities).toEqual([null]);
      const inn = await ask(inside);
      expect(inn.data._entities[0]).not.toBeNull();
      expect(inn.data._entities[0].id).toBe(inside);
    });
  });
});
