import { Department } from '../src/auth/principal';
import { post, storedEventOf } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

/**
 * Red team, round 4, of the gateway's public endpoint: what a client's own response names can do
 * to a planned operation. The query planner adds `__typename` and an entity's key fields (`id`) to
 * the fetches it makes, under those very response names, and merges the answers by name.
 */
describe('federation red team, round 4', () => {
  let t: TestHub;
  let child: string;
  beforeAll(async () => {
    t = await startTestHub();
    [{ id: child }] = await t.sql(
      `SELECT m.id FROM registry.minor m WHERE registry.is_minor(m.birth_date, now()) AND EXISTS (SELECT 1 FROM police.incident p WHERE p.minor_id = m.id) ORDER BY m.id LIMIT 1`,
    );
  });
  afterAll(() => t.stop());

  const ask = async (department: Department, query: string, variables?: Record<string, unknown>) => {
    const r = await post(t, await t.token(department), { query, variables });
    return { ...r, event: await storedEventOf(t, r.requestId) };
  };

  // `policeIncidents { __typename: narrative }` had the gateway take the narrative for the record's
  // type: to the police (who read it) `policeIncidents: null` with the gateway's own diagnostics in
  // `extensions.valueCompletion` and no error; to civil affairs (refused it: null) an internal error.
  // `minor { id: name policeIncidents { id } }` answered the child's id as its name: the planner
  // keeps `id` for the key it fetches, and dropped the client's field.
  it.each([
    [Department.POLICE, `query($id: ID!) { minor(id: $id) { policeIncidents { __typename: narrative id } } }`],
    [Department.CIVIL_AFFAIRS, `query($id: ID!) { minor(id: $id) { policeIncidents { __typename: narrative id } } }`],
    [Department.CIVIL_AFFAIRS, `query($id: ID!) { minor(id: $id) { id: name policeIncidents { id } } }`],
    [Department.POLICE, `query($id: ID!) { minor(id: $id) { __typename: name policeIncidents { id } } }`],
    [Department.POLICE, `query { policeIncidents(first: 3) { nodes { id minor { id: idNumber } } } }`],
    // Answered alone by the registry, the same document is refused the same way.
    [Department.POLICE, `query($id: ID!) { minor(id: $id) { id: name } }`],
    [Department.POLICE, `query($id: ID!) { minor(id: $id) { ...F } } fragment F on Minor { __typename: name }`],
  ])('%s: a response name the planner keeps for its own fields is refused as invalid, audited, nothing read: %s', async (department, query) => {
    const r = await ask(department, query, query.includes('$id') ? { id: child } : undefined);
    expect([r.status, r.json.data, r.json.extensions, r.json.errors.map((e: any) => e.extensions.code)]).toEqual([400, undefined, undefined, ['GRAPHQL_VALIDATION_FAILED']]);
    expect(r.json.errors[0].message).toMatch(/^The response name "(id|__typename)" /);
    expect(r.event).toMatchObject({ outcome: 'INVALID', errorCodes: ['GRAPHQL_VALIDATION_FAILED'], reads: [] });
  });

  it('serves the key and __typename under other names, and other fields under the key’s name where no key is kept', async () => {
    const r = await ask(
      Department.POLICE,
      `query($id: ID!) { minor(id: $id) { key: id kind: __typename id __typename policeIncidents { id: narrative kind: __typename } } }`,
      { id: child },
    );
    expect(r.json.errors).toBeUndefined();
    expect(r.json.data.minor).toMatchObject({ key: child, kind: 'Minor', id: child, __typename: 'Minor' });
    const narratives = (await t.sql(`SELECT narrative FROM police.incident WHERE minor_id = $1`, [child])).map((i) => i.narrative);
    for (const incident of r.json.data.minor.policeIncidents) expect(incident).toEqual({ id: expect.any(String), kind: 'PoliceIncident' });
    expect(r.json.data.minor.policeIncidents.map((i: { id: string }) => i.id).sort()).toEqual(narratives.sort());
  });
});
