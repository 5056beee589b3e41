import { Department, Role } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

/**
 * Red-team probes of every path that reaches a child: the same child reached through `minor(id:)`
 * and through a record that names it (a referral, a mandatory report, a notification, a
 * department's record, the child's own history) must be served the same fields, masks and
 * refusals, and recorded alike; a child outside the caller's jurisdiction or turned 18 must be
 * reached by none.
 */
const { CIVIL_AFFAIRS: CA, EDUCATION: ED, POLICE: PO, JUSTICE: JU, YOUTH_LEAGUE: YL, WOMENS_FEDERATION: WF } = Department;
const DEPARTMENTS = [CA, ED, PO, JU, YL, WF];
const DISTRICT = '330102';
const STREET = '330102001';
const OTHER_STREET = '330102002';

const CHILD_FIELDS = `id name gender idNumber householdRegistration currentAddress school riskLevel age grid { code }
  categories { category identifiedAt } guardians { id relationship name phone address situation situationNote }
  latestAssessment { level reasons } policeProtectionCase { hasOpenCase }`;

/** Every object in `data` that is the child `id`, with the path it was found at. */
function childrenIn(data: unknown, id: string, path: string[] = [], found: { path: string; value: any }[] = []) {
  if (Array.isArray(data)) data.forEach((v, i) => childrenIn(v, id, [...path, String(i)], found));
  else if (data && typeof data === 'object') {
    if ((data as any).id === id && 'name' in (data as any)) found.push({ path: path.join('.'), value: data });
    for (const [k, v] of Object.entries(data)) childrenIn(v, id, [...path, k], found);
  }
  return found;
}

/** Errors as field name and code, whatever path led there. */
const refusals = (errors: { path?: (string | number)[]; extensions?: any }[] | undefined, under: (string | number)[]) =>
  (errors ?? [])
    .filter((e) => under.every((p, i) => e.path?.[i] === p || p === '*'))
    .map((e) => `${e.path?.slice(under.length).filter((p) => typeof p === 'string').join('.')}:${e.extensions?.code}`)
    .sort();

describe('every path to a child serves it as minor(id:) does', () => {
  let t: TestHub;
  let child: string;
  let grid: string;
  const referrals: Record<string, string> = {};
  let report: string;

  beforeAll(async () => {
    t = await startTestHub();
    // A child of the street with a sensitive category, guardians, and records in several departments.
    [{ id: child, grid_code: grid }] = await t.sql(
      `SELECT m.id, m.grid_code FROM registry.minor m
        WHERE m.grid_code LIKE $1 AND registry.is_minor(m.birth_date, now()) AND m.birth_date < now() - interval '8 years'
          AND EXISTS (SELECT 1 FROM registry.minor_category c WHERE c.minor_id = m.id AND c.category IN ('DOMESTIC_VIOLENCE','CRIME_VICTIM','INCARCERATED_PARENT'))
          AND EXISTS (SELECT 1 FROM registry.guardian g WHERE g.minor_id = m.id)
        ORDER BY m.id LIMIT 1`,
      [`${STREET}%`],
    );
    const civil = await t.token(CA, { region: STREET, user: 'np-civil' });
    for (const [to, type] of [[ED, 'EDUCATION_AID'], [WF, 'FAMILY_EDUCATION_GUIDANCE'], [YL, 'COUNSELLING'], [PO, 'LEGAL_AID'], [JU, 'LEGAL_AID']] as const) {
      const r = await t.gql(civil, `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`, {
        input: { minorId: child, type, toDepartment: to, need: '需要帮助' },
      });
      expect(r.errors).toBeUndefined();
      referrals[to] = r.data.createReferral.id;
    }
    const ed = await t.token(ED, { region: STREET, user: 'np-edu' });
    const r2 = await t.gql(ed, `mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }`, {
      input: { minorId: child, type: 'LIVING_ASSISTANCE', toDepartment: CA, need: '生活困难' },
    });
    expect(r2.errors).toBeUndefined();
    referrals[CA] = r2.data.createReferral.id;
    const reporter = await t.token(ED, { role: Role.REPORTER, region: STREET, user: 'np-teacher' });
    const f = await t.gql(reporter, `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`, {
      input: { harmType: 'PHYSICAL_ABUSE', observation: '身上有伤', location: '学校', regionCode: STREET, urgency: 'HIGH', childId: child },
    });
    expect(f.errors).toBeUndefined();
    report = f.data.fileMandatoryReport.id;
  }, 120_000);
  afterAll(() => t?.stop());

  const PATHS: Record<string, string> = {
    minors: `minors(first: 100, filter: { regionCode: $grid }) { edges { node { ...C } } }`,
    referrals: `referrals(first: 100) { minor { ...C } }`,
    referral: `referral(id: $ref) { minor { ...C } }`,
    reports: `mandatoryReports(first: 100) { minor { ...C } }`,
    report: `mandatoryReport(id: $report) { minor { ...C } }`,
    notifications: `notifications(first: 100) { minor { ...C } }`,
    // 250: a page of 1000 with every field above, ten guardians each, could answer some 40,000 refusals
    // to the Youth League (REFUSED_FIELD_COST), past the cost limit.
    overdue: `overdueVisits(first: 250) { minor { ...C } }`,
    ownReferrals: `minor(id: $id) { referrals { minor { ...C } } }`,
    ownReports: `minor(id: $id) { mandatoryReports { minor { ...C } } }`,
    dropouts: `dropoutReports(first: 100) { nodes { minor { ...C } } }`,
    incidents: `policeIncidents(first: 100) { nodes { minor { ...C } } }`,
    parents: `incarceratedParents(first: 100) { nodes { minor { ...C } } }`,
    carePlans: `carePlans(first: 100) { nodes { minor { ...C } } }`,
    prevention: `preventionCases(first: 100) { nodes { minor { ...C } } }`,
    own_dropoutReports: `minor(id: $id) { dropoutReports(first: 5) { minor { ...C } } }`,
    own_policeIncidents: `minor(id: $id) { policeIncidents(first: 5) { minor { ...C } } }`,
    own_incarceratedParents: `minor(id: $id) { incarceratedParents(first: 5) { minor { ...C } } }`,
    own_carePlans: `minor(id: $id) { carePlans(first: 5) { minor { ...C } } }`,
    own_preventionCases: `minor(id: $id) { preventionCases(first: 5) { minor { ...C } } }`,
    own_domesticViolenceSupports: `minor(id: $id) { domesticViolenceSupports(first: 5) { minor { ...C } } }`,
    own_identityVerifications: `minor(id: $id) { identityVerifications(first: 5) { minor { ...C } } }`,
    own_schoolEnrollments: `minor(id: $id) { schoolEnrollments(first: 5) { minor { ...C } } }`,
    own_familyEducationSessions: `minor(id: $id) { familyEducationSessions(first: 5) { minor { ...C } } }`,
    own_guardianAdmonishments: `minor(id: $id) { guardianAdmonishments(first: 5) { minor { ...C } } }`,
  };

  it.each(DEPARTMENTS.flatMap((d) => ['district', 'street', 'grid'].map((level) => [d, level] as const)))(
    '%s at %s level: the child reached along every path is the child minor(id:) answers, fields, masks and refusals alike',
    async (department, level) => {
      const region = level === 'district' ? DISTRICT : level === 'street' ? STREET : grid;
      const token = await t.token(department, { region, user: `np-${department}-${level}` });
      const vars = { id: child, grid, ref: referrals[department], report };
      const direct = await t.gql(token, `query($id: ID!) { minor(id: $id) { ...C } } fragment C on Minor { ${CHILD_FIELDS} }`, { id: child });
      expect(direct.data.minor?.id).toBe(child);
      const expected = refusals(direct.errors, ['minor']);
      const seen: string[] = [];
      for (const [name, path] of Object.entries(PATHS)) {
        const types: Record<string, string> = { id: 'ID!', grid: 'String', ref: 'ID!', report: 'ID!' };
        const used = Object.keys(types).filter((v) => path.includes(`$${v}`));
        const q = `query${used.length ? `(${used.map((v) => `$${v}: ${types[v]}`).join(', ')})` : ''} { ${path} } fragment C on Minor { ${CHILD_FIELDS} }`;
        const r = await t.gql(token, q, vars);
        expect([name, r.status]).toEqual([name, 200]);
        for (const { path: at, value } of childrenIn(r.data, child)) {
          seen.push(name);
          expect([name, at, value]).toEqual([name, at, direct.data.minor]);
          const under = at.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
          expect([name, at, refusals(r.errors, under)]).toEqual([name, at, expected]);
        }
      }
      // Sanity: a few paths reached the child for everyone.
      expect(seen).toContain('minors');
    },
  );

  it.each([ED, WF, YL, PO, JU, CA])('%s under purpose REFERRAL: a grant opens the same fields of the child along every path', async (department) => {
    const token = await t.token(department, { region: STREET, user: `np-${department}-grant` });
    const headers = { 'x-purpose': `REFERRAL; ${referrals[department]}` };
    const vars = { id: child, ref: referrals[department] };
    const q = (path: string, v: string) => `query(${v}) { ${path} } fragment C on Minor { ${CHILD_FIELDS} }`;
    const direct = await t.gql(token, q(`minor(id: $id) { ...C }`, '$id: ID!'), { id: child }, headers);
    expect(direct.data.minor?.id).toBe(child);
    // The grant is in force: the education aid opens the child's address to the school, exactly.
    if (department === ED) {
      const plain = await t.gql(token, `query($id: ID!) { minor(id: $id) { currentAddress } }`, { id: child });
      expect(direct.data.minor.currentAddress).not.toEqual(plain.data.minor.currentAddress);
    }
    const expected = refusals(direct.errors, ['minor']);
    for (const [name, path, v] of [
      ['referral', `referral(id: $ref) { minor { ...C } }`, '$ref: ID!'],
      ['ownReferrals', `minor(id: $id) { referrals { minor { ...C } } }`, '$id: ID!'],
      ['aliased', `a: minor(id: $id) { ... on Minor { x: guardians { phone } } ...C }`, '$id: ID!'],
    ]) {
      const r = await t.gql(token, q(path, v), vars, headers);
      const found = childrenIn(r.data, child);
      expect([name, found.length > 0]).toEqual([name, true]);
      for (const { path: at, value } of found) {
        expect([name, at, value]).toEqual([name, at, name === 'aliased' ? { ...direct.data.minor, x: expect.anything() } : direct.data.minor]);
        const under = at.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
        expect([name, at, refusals(r.errors, under)]).toEqual([name, at, expected]);
      }
    }
  });

  it.each([Role.AUDITOR, Role.DASHBOARD, Role.REPORTER, Role.EMPLOYER])('%s reaches the child along no path, and no event names it', async (role) => {
    for (const region of [DISTRICT, STREET, grid]) {
      const token = await t.token(ED, { role, region, user: `np-${role}-${region}` });
      for (const [name, path] of Object.entries(PATHS)) {
        const types: Record<string, string> = { id: 'ID!', grid: 'String', ref: 'ID!', report: 'ID!' };
        const used = Object.keys(types).filter((v) => path.includes(`$${v}`));
        const q = `query${used.length ? `(${used.map((v) => `$${v}: ${types[v]}`).join(', ')})` : ''} { ${path} } fragment C on Minor { ${CHILD_FIELDS} }`;
        const vars = Object.fromEntries(used.map((v) => [v, ({ id: child, grid, ref: referrals[ED], report } as Record<string, string>)[v]]));
        const r = await post(t, token, { query: q, variables: vars });
        expect([role, name, JSON.stringify(r.json).includes(child)]).toEqual([role, name, false]);
        expect([role, name, JSON.stringify(await eventOf(t, r.requestId)).includes(child)]).toEqual([role, name, false]);
      }
    }
  });

  it('one child reached twice in one request, by two paths with different fields, aliases, fragments and directives: the event records the union, each as served', async () => {
    const token = await t.token(ED, { region: STREET, user: 'np-twice' });
    const q = `query($id: ID!, $ref: ID!, $yes: Boolean!, $no: Boolean!) {
      a: minor(id: $id) { n: name ... on Minor { age } school @skip(if: $no) riskLevel @include(if: $no) }
      b: referral(id: $ref) { minor { ...F idNumber @include(if: $yes) } }
    }
    fragment F on Minor { __typename categories { c: category } guardians { phone } }`;
    const r = await post(t, token, { query: q, variables: { id: child, ref: referrals[ED], yes: true, no: false } });
    expect(r.json.errors).toBeUndefined();
    const direct = await t.gql(token, `query($id: ID!) { minor(id: $id) { name age school idNumber categories { category } guardians { phone } } }`, { id: child });
    expect(r.json.data.a).toEqual({ n: direct.data.minor.name, age: direct.data.minor.age, school: direct.data.minor.school });
    expect(r.json.data.b.minor).toEqual({
      __typename: 'Minor',
      categories: direct.data.minor.categories.map((c: any) => ({ c: c.category })),
      guardians: direct.data.minor.guardians,
      idNumber: direct.data.minor.idNumber,
    });
    const event = await eventOf(t, r.requestId);
    const fields = event.reads.filter((x: any) => x.minorId === child).flatMap((x: any) => Object.entries(x.fields).map(([f, a]) => `${f}:${a}`));
    expect(fields).toEqual(expect.arrayContaining(['Minor.name:ALLOW', 'Minor.age:ALLOW', 'Minor.school:ALLOW', 'Minor.idNumber:MASK', 'MinorCategory.category:MASK', 'Guardian.phone:MASK', 'Referral.minor:ALLOW']));
    expect(fields.some((f: string) => f.startsWith('Minor.riskLevel'))).toBe(false);
  });

  /** Every path at once, as one request: what it answers of the child and what its event records. */
  async function everyPath(department: Department, region: string) {
    const token = await t.token(department, { region, user: `np-${department}-${region}` });
    const found: string[] = [];
    const named: string[] = [];
    const payloads: string[] = [];
    for (const [name, path] of Object.entries(PATHS)) {
      const types: Record<string, string> = { id: 'ID!', grid: 'String', ref: 'ID!', report: 'ID!' };
      const used = Object.keys(types).filter((v) => path.includes(`$${v}`));
      const q = `query${used.length ? `(${used.map((v) => `$${v}: ${types[v]}`).join(', ')})` : ''} { ${path} } fragment C on Minor { ${CHILD_FIELDS} }`;
      const vars = Object.fromEntries(used.map((v) => [v, ({ id: child, grid, ref: referrals[department], report } as Record<string, string>)[v]]));
      const r = await post(t, token, { query: q, variables: vars });
      expect([name, r.status]).toEqual([name, 200]);
      if (JSON.stringify(r.json.data).includes(child)) found.push(name);
      const event = await eventOf(t, r.requestId);
      if (JSON.stringify(event).includes(child)) named.push(name);
    }
    const n = await post(t, token, { query: `{ notifications(first: 100) { kind minor { id } payload { field value } } referrals(first: 100) { id need minor { id } } }` });
    for (const x of n.json.data?.notifications ?? []) for (const f of x.payload) if (!/^(MandatoryReport|ReportTransition|Referral)\./.test(f.field) && !x.minor) payloads.push(`${x.kind} ${f.field}`);
    return { found, named, payloads };
  }

  it('a child who moved to another street is reached along no path by the street it left, nor named in its events; the district still reaches it', async () => {
    const before = await everyPath(CA, STREET);
    expect(before.found.length).toBeGreaterThan(3);
    const [{ code: elsewhere }] = await t.sql(`SELECT code FROM registry.region WHERE code LIKE $1 AND level = 'GRID' ORDER BY code LIMIT 1`, [`${OTHER_STREET}%`]);
    const civil = await t.token(CA, { region: DISTRICT, user: 'np-mover' });
    const moved = await t.gql(civil, `mutation($id: ID!, $input: UpdateMinorInput!) { updateMinor(id: $id, input: $input) { id } }`, { id: child, input: { gridCode: elsewhere } });
    expect(moved.errors).toBeUndefined();
    for (const d of DEPARTMENTS) {
      const after = await everyPath(d, STREET);
      expect([d, after.found, after.named, after.payloads]).toEqual([d, [], [], []]);
      const district = await everyPath(d, DISTRICT);
      expect([d, district.found.length > 0]).toEqual([d, true]);
    }
  });

  it('a child who turned 18 is reached along no path by anyone, nor named in any event', async () => {
    await t.sql(`UPDATE registry.minor SET birth_date = ((now() AT TIME ZONE '+08:00')::date - INTERVAL '18 years')::date WHERE id = $1`, [child]);
    for (const d of DEPARTMENTS) {
      for (const region of [DISTRICT, STREET, OTHER_STREET]) {
        const after = await everyPath(d, region);
        expect([d, region, after.found, after.named, after.payloads]).toEqual([d, region, [], [], []]);
      }
    }
  });
});
