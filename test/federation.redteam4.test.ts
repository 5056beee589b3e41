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

  /**
   * Round 10: a client's variable names. The gateway sends the records it takes to another subgraph
   * (an entity fetch: a child's police incidents) as the variable `$representations`, beside the
   * client's own variables, and refuses to build such a fetch when the client declared a variable of
   * that name (`Variables cannot contain key "representations"`): an internal error on a field the
   * client chose the variable of.
   */
  describe('a variable name the gateway keeps', () => {
    it.each([
      [Department.POLICE, `query($representations: Int!, $id: ID!) { minor(id: $id) { policeIncidents(first: $representations) { id } } }`, { representations: 2 }],
      [Department.CIVIL_AFFAIRS, `query($id: ID!, $representations: Int!) { minors(first: 2) { edges { node { policeIncidents(first: $representations) { id } } } } minor(id: $id) { name } }`, { representations: 2 }],
      // Answered alone by the registry (and by the compiled read), the same name is refused the same way.
      [Department.POLICE, `query Child($representations: ID!) { minor(id: $representations) { id name } }`, {}],
      [Department.POLICE, `query($representations: Int!) { minors(first: $representations) { totalCount } }`, { representations: 1 }],
    ])('%s: a variable named $representations, which the gateway keeps for its entity fetches, is refused as invalid, audited, nothing read: %s', async (department, query, variables) => {
      const r = await ask(department, query, { id: child, ...variables, ...(query.includes('minor(id: $representations)') ? { representations: child } : {}) });
      expect([r.status, r.json.data, r.json.errors?.map((e: any) => e.extensions.code)]).toEqual([400, undefined, ['GRAPHQL_VALIDATION_FAILED']]);
      expect(r.json.errors[0].message).toMatch(/^The variable name "\$representations" /);
      expect(r.event).toMatchObject({ outcome: 'INVALID', errorCodes: ['GRAPHQL_VALIDATION_FAILED'], reads: [] });
    });

    it('is refused by the general path where the compiled read would have answered the same shape', async () => {
      const served = t.hub.compiledReadsServed()!;
      const named = await ask(Department.POLICE, `query Child($id: ID!) { minor(id: $id) { id name } }`, { id: child });
      expect([named.status, t.hub.compiledReadsServed()]).toEqual([200, served + 1]);
      const kept = await ask(Department.POLICE, `query Child($representations: ID!) { minor(id: $representations) { id name } }`, { representations: child });
      expect([kept.status, t.hub.compiledReadsServed(), kept.event.outcome]).toEqual([400, served + 1, 'INVALID']);
    });

    it('refuses a mutation declaring $representations before it runs: nothing written', async () => {
      const before = (await t.sql(`SELECT count(*)::int AS n FROM registry.visit WHERE minor_id = $1`, [child]))[0].n;
      const r = await ask(
        Department.CIVIL_AFFAIRS,
        `mutation($id: ID!, $representations: String!) { recordVisit(minorId: $id, input: { notes: $representations }) { id } }`,
        { id: child, representations: '走访' },
      );
      expect([r.status, r.json.errors?.map((e: any) => e.extensions.code)]).toEqual([400, ['GRAPHQL_VALIDATION_FAILED']]);
      expect((await t.sql(`SELECT count(*)::int AS n FROM registry.visit WHERE minor_id = $1`, [child]))[0].n).toBe(before);
    });

    it('serves variables of other names, a differently cased one among them, through an entity fetch', async () => {
      const r = await ask(Department.POLICE, `query($Representations: Int!, $id: ID!) { minor(id: $id) { policeIncidents(first: $Representations) { id } } }`, { id: child, Representations: 2 });
      expect(r.json.errors).toBeUndefined();
      expect(r.json.data.minor.policeIncidents.length).toBeGreaterThan(0);
    });
  });
});
