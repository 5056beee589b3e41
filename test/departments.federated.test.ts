import { Department, Role } from '../src/auth/principal';
import { startSubgraphServer, SubgraphServer } from '../src/server/subgraph.server';
import { INSIDE_STREET } from './support/department-records';
import { cloneTemplateDatabase, errorCodes, postAsGateway, startTestHub, TestHub, testConfig } from './support/test-hub';

/** The five department subgraphs together: one request across all six, and jurisdiction at `_entities`. */
describe('department subgraphs, federated', () => {
  let t: TestHub;
  const servers: Record<string, SubgraphServer> = {};
  let workflow: SubgraphServer;
  const secret = 'test-gateway-secret-of-sufficient-length';
  // One field per department subgraph on Minor, with a record type that every seeded child can have.
  const FIELDS: Record<string, { field: string; table: string }> = {
    education: { field: 'schoolEnrollments', table: 'education.school_enrollment' },
    police: { field: 'policeIncidents', table: 'police.incident' },
    justice: { field: 'incarceratedParents', table: 'justice.incarcerated_parent' },
    youth_league: { field: 'volunteerVisits', table: 'youth_league.volunteer_visit' },
    womens_federation: { field: 'carePlans', table: 'womens_federation.care_plan' },
  };

  beforeAll(async () => {
    const databaseUrl = await cloneTemplateDatabase();
    const config = testConfig({ databaseUrl, gatewaySecret: secret });
    for (const name of Object.keys(FIELDS)) servers[name] = await startSubgraphServer(name, config, 0);
    workflow = await startSubgraphServer('workflow', config, 0);
    // Education is called over signed HTTP, the others in-process: the plan crosses both kinds of boundary.
    t = await startTestHub({ databaseUrl, gatewaySecret: secret, subgraphUrls: { education: servers.education.url } });
  });
  afterAll(async () => {
    await t?.stop();
    for (const s of Object.values(servers)) await s.stop();
    await workflow?.stop();
  });

  it('answers one request touching all six subgraphs, each part matching its department’s tables', async () => {
    // The child most departments hold records about (enrolled and with an incident first).
    const [child] = await t.sql(`
      SELECT m.id, m.name FROM registry.minor m
      ORDER BY (SELECT count(*) FROM education.school_enrollment x WHERE x.minor_id = m.id) > 0
             AND (SELECT count(*) FROM police.incident x WHERE x.minor_id = m.id) > 0 DESC,
               ((SELECT count(*) FROM justice.incarcerated_parent x WHERE x.minor_id = m.id) > 0)::int
             + ((SELECT count(*) FROM youth_league.volunteer_visit x WHERE x.minor_id = m.id) > 0)::int
             + ((SELECT count(*) FROM womens_federation.care_plan x WHERE x.minor_id = m.id) > 0)::int DESC, m.id
      LIMIT 1`);
    const q = `query($id: ID!) { minor(id: $id) { id name ${Object.values(FIELDS).map((f) => `${f.field} { id }`).join(' ')} } }`;
    const r = await t.gql(await t.token(Department.CIVIL_AFFAIRS), q, { id: child.id });
    expect(r.errors).toBeUndefined();
    expect(r.data.minor.name).toBe(child.name);
    let departmentsWithRecords = 0;
    for (const { field, table } of Object.values(FIELDS)) {
      const ids = (await t.sql(`SELECT id FROM ${table} WHERE minor_id = $1`, [child.id])).map((x: any) => x.id).sort();
      expect(r.data.minor[field].map((x: any) => x.id).sort()).toEqual(ids);
      if (ids.length) departmentsWithRecords++;
    }
    expect(departmentsWithRecords).toBeGreaterThanOrEqual(3);
  });

  it('a street-level officer gets nothing about a child of another street through the gateway', async () => {
    const [outside] = await t.sql(`SELECT minor_id AS id FROM education.dropout_report r JOIN registry.minor m ON m.id = r.minor_id WHERE m.grid_code NOT LIKE $1 LIMIT 1`, [`${INSIDE_STREET}%`]);
    const street = await t.token(Department.EDUCATION, { region: INSIDE_STREET });
    const r = await t.gql(street, `query($id: ID!) { minor(id: $id) { id dropoutReports { id } } }`, { id: outside.id });
    expect(r.data.minor).toBeNull();
    const list = await t.gql(street, `{ dropoutReports(first: 1000) { nodes { minor { id } } } }`);
    expect(list.data.dropoutReports.nodes.map((n: any) => n.minor.id)).not.toContain(outside.id);
  });

  it.each(Object.entries(FIELDS))('%s resolves `_entities` only for children in the assertion’s jurisdiction', async (name, { field, table }) => {
    const [inside] = await t.sql(`SELECT r.minor_id AS id FROM ${table} r JOIN registry.minor m ON m.id = r.minor_id WHERE m.grid_code LIKE $1 ORDER BY 1 LIMIT 1`, [`${INSIDE_STREET}%`]);
    const [outside] = await t.sql(`SELECT r.minor_id AS id FROM ${table} r JOIN registry.minor m ON m.id = r.minor_id WHERE m.grid_code NOT LIKE $1 ORDER BY 1 LIMIT 1`, [`${INSIDE_STREET}%`]);
    const expected = await t.sql(`SELECT id FROM ${table} WHERE minor_id = $1`, [inside.id]);
    const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Minor { id ${field} { id } } } }`;
    const variables = { r: [inside, outside, { id: '00000000-0000-4000-8000-000000000000' }].map((m) => ({ __typename: 'Minor', id: m.id })) };
    const r = await postAsGateway(t.config, servers[name].url, name, { userId: 'u', department: Department.CIVIL_AFFAIRS, role: Role.OFFICER, region: INSIDE_STREET }, query, variables);
    expect(r.errors).toBeUndefined();
    expect(r.data._entities[0].id).toBe(inside.id);
    expect(r.data._entities[0][field].map((x: any) => x.id).sort()).toEqual(expected.map((x: any) => x.id).sort());
    // Outside the jurisdiction answers exactly like an unknown child.
    expect(r.data._entities.slice(1)).toEqual([null, null]);
  });

  it('the workflow resolves `_entities` only for children in the assertion’s jurisdiction: a report made in the street about a child of another names no child', async () => {
    const [inside] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id LIMIT 1`, [`${INSIDE_STREET}%`]);
    const [outside] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code NOT LIKE $1 ORDER BY id LIMIT 1`, [`${INSIDE_STREET}%`]);
    const [place] = await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE $1 ORDER BY code LIMIT 1`, [`${INSIDE_STREET}%`]);
    const officer = await t.token(Department.POLICE, { region: INSIDE_STREET, user: 'po-street' });
    const filed = await t.gql(officer, `mutation($input: FileReportInput!) { fileMandatoryReport(input: $input) { id } }`, {
      input: { harmType: 'NEGLECT', observation: '邻居听到哭喊', location: '楼道', regionCode: place.code, urgency: 'NORMAL', childId: outside.id },
    });
    expect(filed.errors).toBeUndefined();
    const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Minor { id mandatoryReports { id observation } referrals { id } } } }`;
    const variables = { r: [inside, outside].map((m) => ({ __typename: 'Minor', id: m.id })) };
    const r = await postAsGateway(t.config, workflow.url, 'workflow', { userId: 'po-street', department: Department.POLICE, role: Role.OFFICER, region: INSIDE_STREET }, query, variables);
    expect(r.errors).toBeUndefined();
    expect(r.data._entities[0].id).toBe(inside.id);
    // The report lies in the street, its child outside it: to this caller it is a record of no child (docs/workflows.md).
    expect(r.data._entities[1]).toBeNull();
  });

  it('answers the errors of several subgraphs in the order of their paths, whichever fetch ends first', async () => {
    // Refused by police, youth league and education, fetched in parallel: their errors once came
    // in the order the fetches ended, so the same request answered differently from one call to
    // the next.
    const [child] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id LIMIT 1`, [`${INSIDE_STREET}%`]);
    const token = await t.token(Department.WOMENS_FEDERATION, { region: INSIDE_STREET });
    const q = `query($id: ID!) { minor(id: $id) { policeIncidents { id } idleSupports { id } bullyingCases { id } } }`;
    for (let i = 0; i < 5; i++) {
      const r = await t.gql(token, q, { id: child.id });
      expect(r.errors?.map((e: any) => [e.path.join('.'), e.extensions.code])).toEqual([
        ['minor.bullyingCases', 'FORBIDDEN'],
        ['minor.idleSupports', 'FORBIDDEN'],
        ['minor.policeIncidents', 'FORBIDDEN'],
      ]);
    }
  });

  it('applies the field policy at `_entities` too', async () => {
    const [p] = await t.sql(`SELECT minor_id FROM police.incident ORDER BY minor_id LIMIT 1`);
    const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Minor { policeIncidents { narrative } policeProtectionCase { hasOpenCase } } } }`;
    const variables = { r: [{ __typename: 'Minor', id: p.minor_id }] };
    const r = await postAsGateway(t.config, servers.police.url, 'police', { userId: 'u', department: Department.EDUCATION, role: Role.OFFICER, region: '330102' }, query, variables);
    expect(r.data._entities[0].policeIncidents).toBeNull();
    expect(typeof r.data._entities[0].policeProtectionCase.hasOpenCase).toBe('boolean');
    expect(errorCodes(r)).toEqual(['FORBIDDEN']);
  });
});
