import { Department, Role } from '../src/auth/principal';
import { startSubgraphServer, SubgraphServer } from '../src/server/subgraph.server';
import { cloneTemplateDatabase, errorCodes, postAsGateway, startTestHub, TestHub, testConfig } from './support/test-hub';

/**
 * Red-team probes of the federation boundary: each subgraph served alone (distributed mode) and
 * asked with the gateway's assertion for subjects that read no child's file, or for a child who
 * has aged out; and the gateway's public endpoint for the same questions. A child who may not be
 * read must look exactly like an id that does not exist.
 */
const ZERO = '00000000-0000-4000-8000-000000000000';
const SUBGRAPHS = ['registry', 'education', 'police', 'justice', 'youth_league', 'womens_federation', 'workflow'];
const NON_OFFICERS = [Role.REPORTER, Role.EMPLOYER, Role.DASHBOARD, Role.AUDITOR];

describe('federation red team', () => {
  const alone: Record<string, SubgraphServer> = {};
  let t: TestHub;
  const secret = 'test-gateway-secret-of-sufficient-length';
  let inside: string;
  let root: string;

  beforeAll(async () => {
    const databaseUrl = await cloneTemplateDatabase();
    const config = testConfig({ databaseUrl, gatewaySecret: secret });
    for (const name of SUBGRAPHS) alone[name] = await startSubgraphServer(name, config, 0);
    t = await startTestHub({ databaseUrl, gatewaySecret: secret });
    const [m] = await t.sql(`SELECT id, grid_code FROM registry.minor WHERE registry.is_minor(birth_date, now()) ORDER BY id LIMIT 1`);
    inside = m.id;
    root = m.grid_code.slice(0, 6);
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    for (const s of Object.values(alone)) await s.stop();
  });

  const entities = (name: string, principal: { userId: string; department: Department; role: Role; region: string }, selection: string, ids: string[]) =>
    postAsGateway(t.config, alone[name].url, name, principal, `query($r: [_Any!]!) { _entities(representations: $r) { __typename ${selection} } }`, {
      r: ids.map((id) => ({ __typename: 'Minor', id })),
    });

  // `Query._entities` carries no policy (FEDERATION_FIELDS): the reference resolvers once checked
  // only the region, and a subject that reads no child's file was answered `{ __typename: "Minor" }`
  // (or FORBIDDEN on `id`) for a child of its region and `null` for an id that does not exist, at
  // every subgraph holding a Minor key (mayBeHandedChildren).
  it.each(SUBGRAPHS)('%s `_entities`: for a subject that reads no child, a child in its region answers exactly as an id that does not exist', async (name) => {
    for (const role of NON_OFFICERS) {
      const principal = { userId: `${role.toLowerCase()}-probe`, department: Department.EDUCATION, role, region: root };
      for (const selection of ['', '... on Minor { id }']) {
        const known = await entities(name, principal, selection, [inside]);
        const unknown = await entities(name, principal, selection, [ZERO]);
        expect([role, selection, known.status, known.data, errorCodes(known)]).toEqual([role, selection, unknown.status, unknown.data, errorCodes(unknown)]);
      }
    }
  });

  describe('a child who turned 18', () => {
    let adult: string;
    beforeAll(async () => {
      [{ id: adult }] = await t.sql(
        `SELECT m.id FROM registry.minor m WHERE m.id <> $1 AND m.grid_code LIKE $2 AND registry.is_minor(m.birth_date, now())
           AND EXISTS (SELECT 1 FROM police.incident p WHERE p.minor_id = m.id) ORDER BY m.id DESC LIMIT 1`,
        [inside, `${root}%`],
      );
      // Through the public endpoint first: the child is there before it ages out.
      const token = await t.token(Department.POLICE, { region: root });
      const before = await t.gql(token, `query($id: ID!) { minor(id: $id) { id } }`, { id: adult });
      expect(before.data.minor).toEqual({ id: adult });
      await t.sql(`UPDATE registry.minor SET birth_date = ((now() AT TIME ZONE '+08:00')::date - INTERVAL '18 years' - INTERVAL '1 day')::date WHERE id = $1`, [adult]);
    });

    it.each(SUBGRAPHS)('%s `_entities` answers exactly as for an id that does not exist', async (name) => {
      const principal = { userId: 'civil-probe', department: Department.CIVIL_AFFAIRS, role: Role.OFFICER, region: root };
      expect(adult).toMatch(/^[0-9a-f-]{36}$/);
      const aged = await entities(name, principal, '', [adult]);
      const unknown = await entities(name, principal, '', [ZERO]);
      expect([aged.status, aged.data, errorCodes(aged)]).toEqual([unknown.status, unknown.data, errorCodes(unknown)]);
    });

    it('is not found through the gateway, nor are the incidents about them listed', async () => {
      const token = await t.token(Department.POLICE, { region: root });
      const r = await t.gql(token, `query($id: ID!) { minor(id: $id) { id } policeIncidents(first: 1000) { nodes { minor { id } } } }`, { id: adult });
      expect(r.errors).toBeUndefined();
      expect(r.data.minor).toBeNull();
      expect(r.data.policeIncidents.nodes.map((n: any) => n.minor?.id)).not.toContain(adult);
      const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM police.incident WHERE minor_id = $1`, [adult]);
      expect(n).toBeGreaterThan(0);
    });
  });

  describe('through the public endpoint', () => {
    it.each(NON_OFFICERS)('%s: minor(id) of a child in the region answers exactly as an id that does not exist', async (role) => {
      const token = await t.token(Department.EDUCATION, { role, region: root, user: `${role.toLowerCase()}-probe` });
      const q = `query($id: ID!) { minor(id: $id) { __typename } }`;
      const known = await t.gql(token, q, { id: inside });
      const unknown = await t.gql(token, q, { id: ZERO });
      expect([known.status, known.data, errorCodes(known)]).toEqual([unknown.status, unknown.data, errorCodes(unknown)]);
    });

    it('masks hold under aliases, fragments and nested paths', async () => {
      const token = await t.token(Department.EDUCATION, { region: root });
      const q = `query($id: ID!) {
        a: minor(id: $id) { x: idNumber ...F ... on Minor { y: idNumber } }
        b: minors(first: 5) { edges { node { id z: idNumber ...F } } }
      }
      fragment F on Minor { w: idNumber }`;
      const r = await t.gql(token, q, { id: inside });
      const values: string[] = [];
      const walk = (v: any, key?: string) => {
        if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
        else if (typeof v === 'string' && key && ['x', 'y', 'z', 'w'].includes(key)) values.push(v);
      };
      walk(r.data);
      expect(values.length).toBeGreaterThan(0);
      for (const v of values) expect(v).toMatch(/^\d{6}\*{12}$/);
    });
  });
});

