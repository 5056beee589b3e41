import { buildIdNumber } from '../src/common/id-number';
import { Department } from '../src/auth/principal';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

/** A street officer sees their street's children only; others are indistinguishable from missing. */
describe('jurisdiction (row level)', () => {
  let t: TestHub;
  const STREET = '330102001';
  let inside: { id: string; id_number: string; grid_code: string };
  let outside: { id: string; id_number: string; grid_code: string };

  beforeAll(async () => {
    t = await startTestHub();
    [inside] = await t.sql(`SELECT id, id_number, grid_code FROM registry.minor WHERE grid_code LIKE $1 ORDER BY id LIMIT 1`, [`${STREET}%`]);
    [outside] = await t.sql(`SELECT id, id_number, grid_code FROM registry.minor WHERE grid_code NOT LIKE $1 ORDER BY id LIMIT 1`, [`${STREET}%`]);
  });
  afterAll(() => t.stop());

  const streetOfficer = () => t.token(Department.POLICE, { region: STREET });

  it('lists only children in the subtree, and counts only them', async () => {
    const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM registry.minor WHERE grid_code LIKE $1`, [`${STREET}%`]);
    const token = await streetOfficer();
    const seen: string[] = [];
    let after: string | null = null;
    let total = 0;
    do {
      const r: any = await t.gql(token, `query($after: String) { minors(first: 200, after: $after) { totalCount edges { node { id grid { code } } } pageInfo { hasNextPage endCursor } } }`, { after });
      expect(r.errors).toBeUndefined();
      total = r.data.minors.totalCount;
      for (const e of r.data.minors.edges) {
        expect(e.node.grid.code.startsWith(STREET)).toBe(true);
        seen.push(e.node.id);
      }
      after = r.data.minors.pageInfo.hasNextPage ? r.data.minors.pageInfo.endCursor : null;
    } while (after);
    expect(total).toBe(n);
    expect(seen).toHaveLength(n);
    expect(new Set(seen).size).toBe(n);
    expect([...seen].sort()).toEqual(seen); // stable order by id
  });

  it('answers an id outside exactly like an id that does not exist', async () => {
    const token = await streetOfficer();
    const q = `query($id: ID!) { minor(id: $id) { id name } }`;
    const own = await t.gql(token, q, { id: inside.id });
    expect(own.data.minor.id).toBe(inside.id);
    const other = await t.gql(token, q, { id: outside.id });
    const missing = await t.gql(token, q, { id: '00000000-0000-4000-8000-000000000000' });
    expect(other).toEqual(missing);
    expect(other.data).toEqual({ minor: null });
    expect(other.errors).toBeUndefined();
  });

  it('answers an ID number outside exactly like an unknown one', async () => {
    const token = await streetOfficer();
    const q = `query($n: String!) { minorByIdNumber(idNumber: $n) { id } }`;
    expect((await t.gql(token, q, { n: inside.id_number })).data.minorByIdNumber.id).toBe(inside.id);
    const other = await t.gql(token, q, { n: outside.id_number });
    const unknown = await t.gql(token, q, { n: buildIdNumber('110105', '2010-01-01', 1) }); // a valid number no child has
    expect(other).toEqual(unknown);
    expect(other.data).toEqual({ minorByIdNumber: null });
  });

  it('does not widen the subtree through a region filter', async () => {
    const token = await streetOfficer();
    const r = await t.gql(token, `{ minors(first: 5, filter: { regionCode: "330102002" }) { totalCount edges { node { id } } } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data.minors).toEqual({ totalCount: 0, edges: [] });
  });

  it('filters by a grid: its children in id order, pages included; a grid outside gives nothing', async () => {
    const token = await streetOfficer();
    const q = `query($g: String!, $after: String) { minors(first: 3, after: $after, filter: { regionCode: $g }) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }`;
    const expected = (await t.sql(`SELECT id FROM registry.minor WHERE grid_code = $1 ORDER BY id`, [inside.grid_code])).map((r: { id: string }) => r.id);
    expect(expected.length).toBeGreaterThan(3);
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const r: any = await t.gql(token, q, { g: inside.grid_code, after });
      expect(r.errors).toBeUndefined();
      expect(r.data.minors.totalCount).toBe(expected.length);
      seen.push(...r.data.minors.edges.map((e: { node: { id: string } }) => e.node.id));
      after = r.data.minors.pageInfo.hasNextPage ? r.data.minors.pageInfo.endCursor : null;
    } while (after);
    expect(seen).toEqual(expected);
    const other = await t.gql(token, q, { g: outside.grid_code, after: null });
    expect(other.errors).toBeUndefined();
    expect(other.data.minors).toEqual({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  it('shows only the jurisdiction’s part of the region tree', async () => {
    const r = await t.gql(await streetOfficer(), `{ regions { code parent { code } } }`);
    const codes = r.data.regions.map((x: any) => x.code);
    expect(codes[0]).toBe(STREET);
    expect(codes.every((c: string) => c.startsWith(STREET))).toBe(true);
    expect(r.data.regions[0].parent).toBeNull(); // the district above is not theirs
  });

  // The row rule is a code prefix; the region tree keeps that equal to the subtree.
  it.each([
    ['a root whose code extends the district’s', `('3301029', NULL, 'DISTRICT')`],
    ['a grid hung directly under the district', `('330102009001001', '330102', 'GRID')`],
    ['a street two levels wide', `('330102009001', '330102', 'STREET')`],
    ['a street whose code does not extend its parent’s', `('330103009', '330102', 'STREET')`],
  ])('the region tree refuses %s, so a subtree stays a code prefix', async (_what, row) => {
    await expect(t.sql(`INSERT INTO registry.region (code, parent_code, level, name) VALUES ${row.slice(0, -1)}, 'x')`)).rejects.toThrow(/region_code_by_level|region_check/);
  });

  it('keeps every child in a grid', async () => {
    await expect(t.sql(`UPDATE registry.minor SET grid_code = $1 WHERE id = $2`, [STREET, inside.id])).rejects.toThrow(/minor_in_grid/);
    const district = await t.gql(await t.token(Department.POLICE, { region: '330102' }), `query($id: ID!) { minor(id: $id) { grid { code } } }`, { id: inside.id });
    expect(district.data.minor.grid.code).toBe(inside.grid_code);
  });

  it('refuses writes outside the subtree as not found, and writes nothing', async () => {
    const token = await t.token(Department.CIVIL_AFFAIRS, { region: STREET });
    const before = await t.sql(`SELECT count(*)::int AS n FROM registry.visit`);
    const r = await t.gql(token, `mutation($id: ID!) { recordVisit(minorId: $id, input: { notes: "x" }) { id } }`, { id: outside.id });
    expect(errorCodes(r)).toEqual(['NOT_FOUND']);
    expect(await t.sql(`SELECT count(*)::int AS n FROM registry.visit`)).toEqual(before);
  });
});
