import { Department } from '../src/auth/principal';
import { eventOf, post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(300_000);

/**
 * Red team 29 (rt29-registry): the registry's read side through the gateway. One failing case (a
 * `regionCode` that is no region's code answered as a prefix), and pins of behaviours verified
 * through the public endpoint that no earlier file pins in this form.
 */
describe('registry reads, red team 29', () => {
  let t: TestHub;
  let ca: string;
  let ed: string;

  beforeAll(async () => {
    t = await startTestHub();
    ca = await t.token(Department.CIVIL_AFFAIRS, { user: 'rt29-ca' });
    ed = await t.token(Department.EDUCATION, { user: 'rt29-ed' });
  });
  afterAll(() => t?.stop());

  const codesOf = (json: any) => (json?.errors ?? []).map((e: any) => e.extensions?.code);

  // A grant (an open EDUCATION_AID referral from civil affairs) opens the child's address and
  // household registration and its guardians' contact to education for that child only (the two
  // addresses together: SAME_VALUE): the rest stays masked or refused, and a
  // page whose answer depends on another child of the grid is withheld whole.
  it('under a referral’s purpose: the granted fields exact, the others as the table says, another child’s read refused whole', async () => {
    const [c] = await t.sql(
      `SELECT m.id, m.grid_code FROM registry.minor m
        WHERE EXISTS (SELECT 1 FROM registry.guardian g WHERE g.minor_id = m.id AND g.address IS NOT NULL AND g.phone IS NOT NULL)
          AND EXISTS (SELECT 1 FROM registry.minor p WHERE p.grid_code = m.grid_code AND p.id < m.id)
          AND EXISTS (SELECT 1 FROM registry.minor n WHERE n.grid_code = m.grid_code AND n.id > m.id)
        ORDER BY m.id LIMIT 1`,
    );
    const [row] = await t.sql(`SELECT current_address, household_registration FROM registry.minor WHERE id = $1`, [c.id]);
    const [before] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code = $1 AND id < $2 ORDER BY id DESC LIMIT 1`, [c.grid_code, c.id]);
    const made = await t.gql(ca, `mutation($m: ID!) { createReferral(input: { minorId: $m, type: EDUCATION_AID, toDepartment: "EDUCATION", need: "助学" }) { id } }`, { m: c.id });
    expect(made.errors).toBeUndefined();
    const REF = { 'x-purpose': `REFERRAL; ${made.data.createReferral.id}` };

    const read = await post(t, ed, { query: `query($id: ID!) { minor(id: $id) { currentAddress householdRegistration idNumber guardians { address situation } } }`, variables: { id: c.id } }, REF);
    expect(read.status).toBe(200);
    expect(read.json.data.minor.currentAddress).toBe(row.current_address);
    expect(read.json.data.minor.householdRegistration).toBe(row.household_registration);
    expect(read.json.data.minor.idNumber).toMatch(/^\d{6}\*{12}$/);
    expect(new Set(codesOf(read.json))).toEqual(new Set(['FORBIDDEN']));

    const after = Buffer.from(`minor:${before.id}`).toString('base64url');
    const PAGE = (info: string) => `query($g: String!, $a: String) { minors(first: 1, filter: { regionCode: $g }, after: $a) { edges { node { id } } pageInfo { ${info} } } }`;
    // The end cursor names the referral's child only: served.
    const end = await post(t, ed, { query: PAGE('endCursor'), variables: { g: c.grid_code, a: after } }, REF);
    expect([end.status, end.json.data.minors.edges.map((e: any) => e.node.id)]).toEqual([200, [c.id]]);
    // Whether there is a next page depends on the grid's next child: withheld whole.
    const next = await post(t, ed, { query: PAGE('hasNextPage'), variables: { g: c.grid_code, a: after } }, REF);
    expect([next.status, codesOf(next.json), next.json.data]).toEqual([403, ['FORBIDDEN'], undefined]);
    expect((await eventOf(t, next.requestId)).outcome).toBe('DENIED');
  });

  // A history list of the registry reached through another subgraph's `_entities` checks its
  // arguments as at the root: typed refusals on each path, the rest of the answer served.
  it('a visit or assessment page asked through another subgraph’s records refuses bad arguments typed, on each path', async () => {
    for (const list of ['visits(first: 0)', 'visits(after: "x")', 'assessments(first: 101)', 'assessments(after: "00000000-0000-0000-0000-000000000000")']) {
      const r = await t.gql(ca, `{ policeIncidents(first: 3) { nodes { id minor { id ${list} { id } } } } }`);
      expect({ list, status: r.status, codes: [...new Set(codesOf(r))] }).toEqual({ list, status: 200, codes: ['BAD_USER_INPUT'] });
      expect(r.errors!.map((e) => e.path!.slice(-1)[0])).toEqual(r.data.policeIncidents.nodes.map(() => list.split('(')[0]));
      expect(r.data.policeIncidents.nodes.every((n: any) => typeof n.id === 'string' && typeof n.minor.id === 'string')).toBe(true);
    }
  });

  // Region codes have one width per level (district 6, street 9, community 12, grid 15: the
  // migrations enforce it), and the filter is "a region code inside the caller's jurisdiction". A
  // code of no level (7, 8, 10, 11, 13 or 14 digits) names no region, yet `isRegionCode` takes any
  // 6 to 15 digits and the filter reads it as a LIKE prefix: `33010200` (a street's code missing its
  // last digit) answers the children of streets 001–009 — the whole demo district, 2,400 — where an
  // unknown grid's code answers none. A client's typo is served as a real region's list and count.
  it('a regionCode of no level names no region: not answered as the children of every region it prefixes', async () => {
    const street = await t.token(Department.CIVIL_AFFAIRS, { region: '330102001', user: 'rt29-ca-street' });
    const Q = `query($g: String!) { minors(first: 5, filter: { regionCode: $g }) { totalCount } }`;
    // The children each code is answered with (a refusal, BAD_USER_INPUT, answers none).
    const answered: [string, number][] = [];
    for (const [token, code] of [[ca, '33010200'], [ca, '3301020010'], [ca, '33010200100100'], [street, '3301020']] as const) {
      const r = await t.gql(token, Q, { g: code });
      answered.push([code, codesOf(r).includes('BAD_USER_INPUT') ? 0 : r.data.minors.totalCount]);
    }
    // An unknown code of a real width answers none, as these should.
    expect((await t.gql(ca, Q, { g: '330102009' })).data.minors.totalCount).toBe(0);
    expect(answered).toEqual(answered.map(([code]) => [code, 0]));
  });
});
