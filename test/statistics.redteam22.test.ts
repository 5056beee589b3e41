import { Department, Role } from '../src/auth/principal';
import { refreshStatistics } from '../src/subgraphs/statistics';
import { startTestHub, TestHub } from './support/test-hub';
import { addMinors } from './support/statistics-fixtures';

jest.setTimeout(300_000);

/**
 * Regression review (red team 22) of e78adad (sparse exact check, hideDetermined skipping tables
 * whose hidden count is unchanged) and 008dc5a (statistics.refresh.generation keys the table cache).
 */
const DISTRICT = '330102';
const STREET1 = '330102001';
const FAN = '330177';
const GRID_BY_GENDER = `{ minorCounts(level: GRID, by: [GENDER]) { refreshedAt total { value suppressed } cells { regionCode gender count { value suppressed } } } }`;

const P = 2147483647n;
const mod = (a: bigint) => ((a % P) + P) % P;
const inv = (a: bigint) => {
  let [t, nt, r, nr] = [0n, 1n, P, mod(a)];
  while (nr) {
    const q = r / nr;
    [t, nt] = [nt, t - q * nt];
    [r, nr] = [nr, r - q * nr];
  }
  return mod(t);
};
/** What a reader solves exactly (reduced row echelon form over a large prime field): unknown → value. */
function solveExactly(equations: { coef: Map<string, number>; rhs: number }[]): Map<string, number> {
  const names = [...new Set(equations.flatMap((e) => [...e.coef.keys()]))];
  const idx = new Map(names.map((n, i) => [n, i]));
  const RHS = -1;
  const pivots = new Map<number, Map<number, bigint>>();
  for (const e of equations) {
    const row = new Map<number, bigint>();
    for (const [n, c] of e.coef) if (c) row.set(idx.get(n)!, mod(BigInt(c)));
    row.set(RHS, mod(BigInt(e.rhs)));
    const sub = (target: Map<number, bigint>, src: Map<number, bigint>, f: bigint) => {
      for (const [u, x] of src) {
        const y = mod((target.get(u) ?? 0n) - f * x);
        if (y === 0n) target.delete(u);
        else target.set(u, y);
      }
    };
    for (const [j, pr] of pivots) {
      const f = row.get(j);
      if (f) sub(row, pr, f);
    }
    const cols = [...row.keys()].filter((u) => u !== RHS);
    if (!cols.length) continue;
    const j = Math.min(...cols);
    const pi = inv(row.get(j)!);
    for (const [u, x] of row) row.set(u, mod(x * pi));
    for (const pr of pivots.values()) {
      const f = pr.get(j);
      if (f) sub(pr, row, f);
    }
    pivots.set(j, row);
  }
  const out = new Map<string, number>();
  for (const [j, r] of pivots) if ([...r.keys()].filter((u) => u !== RHS).length === 1) out.set(names[j], Number(r.get(RHS) ?? 0n));
  return out;
}

describe('statistics regression review (redteam22)', () => {
  let t: TestHub;
  let logSpy: jest.SpyInstance;

  const ask = async (token: string, query = GRID_BY_GENDER) => {
    const r = await t.gql(token, query);
    expect(r.errors).toBeUndefined();
    return r.data;
  };
  const firstGrid = async () => (await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' AND code LIKE $1 ORDER BY code LIMIT 1`, [`${STREET1}%`]))[0].code;
  const generation = async () => Number((await t.sql(`SELECT generation FROM statistics.refresh`))[0].generation);

  beforeAll(async () => {
    logSpy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    t = await startTestHub();
    // District FAN: one street, one community of 120 grids, 3 to 8 children each (regions are read before any request).
    const addRegion = (code: string, parent: string | null, level: string) =>
      t.sql(`INSERT INTO registry.region (code, parent_code, level, name) VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO NOTHING`, [code, parent, level, `红队22-${code}`]);
    await addRegion(FAN, null, 'DISTRICT');
    await addRegion(`${FAN}001`, FAN, 'STREET');
    await addRegion(`${FAN}001001`, `${FAN}001`, 'COMMUNITY');
    for (let g = 1; g <= 120; g++) await addRegion(`${FAN}001001${String(g).padStart(3, '0')}`, `${FAN}001001`, 'GRID');
    await t.sql(
      `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code, risk_level)
       SELECT gen_random_uuid(), '红队', CASE WHEN (g.n * 5 + i) % 3 = 0 THEN 'MALE' ELSE 'FEMALE' END,
              (current_date - make_interval(years => (1 + ((g.n * 7 + i * 5) % 16))::int))::date,
              upper(substr(md5(gen_random_uuid()::text), 1, 18)), '浙江省杭州市上城区', '浙江省杭州市上城区测试路1号', g.code,
              (ARRAY['RED','ORANGE','YELLOW','BLUE',NULL])[1 + ((g.n * 3 + i * i) % 5)]
       FROM (SELECT code, row_number() OVER (ORDER BY code) AS n FROM registry.region WHERE level = 'GRID' AND code LIKE $1 || '%') g,
            generate_series(1, 2 + (g.n % 7)::int) i`,
      [FAN],
    );
    await refreshStatistics(t.hub.db.ds);
  });
  afterAll(async () => {
    logSpy.mockRestore();
    await t?.stop();
  });

  it('a refresh by a replica of the release before (which writes the stamp alone, and the same stamp again) is a new generation: the next answer is of its summaries', async () => {
    const officer = await t.token(Department.CIVIL_AFFAIRS);
    const grid = await firstGrid();
    const before = await ask(officer);
    const g = await generation();
    await addMinors(t, grid, 3);
    // The release before: the views and the stamp, no generation; here a stamp equal to the last one.
    await t.sql(
      `BEGIN;
       REFRESH MATERIALIZED VIEW CONCURRENTLY statistics.minor_cube;
       UPDATE statistics.refresh SET refreshed_at = refreshed_at;
       COMMIT`,
    );
    expect(await generation()).toBe(g + 1);
    const after = await ask(officer);
    expect(after.minorCounts.total.value).toBe(before.minorCounts.total.value + 3);
  });

  it('after a failover to a standby that missed the last refresh (the generation one back), the next refresh is not answered from the tables of the lost one', async () => {
    const officer = await t.token(Department.CIVIL_AFFAIRS);
    const grid = await firstGrid();
    // The old primary refreshes (generation g) and the hub caches its tables.
    await refreshStatistics(t.hub.db.ds);
    const g = await generation();
    const cached = await ask(officer);
    // Failover: the new primary never received that refresh — its row is the one before (g - 1),
    // stamped earlier. (The standby's row, written as replication would, no trigger firing.)
    await t.sql(
      `ALTER TABLE statistics.refresh DISABLE TRIGGER refresh_generation;
       UPDATE statistics.refresh SET generation = generation - 1, refreshed_at = refreshed_at - interval '5 minutes';
       ALTER TABLE statistics.refresh ENABLE TRIGGER refresh_generation`,
    );
    expect(await generation()).toBe(g - 1);
    // On the new primary, children are registered and the timer refreshes: generation g again, other summaries.
    await addMinors(t, grid, 6);
    await refreshStatistics(t.hub.db.ds);
    expect(await generation()).toBe(g);
    const after = await ask(officer);
    expect(after.minorCounts.refreshedAt).not.toBe(cached.minorCounts.refreshedAt);
    // The answer is of the summaries it reads, not the lost primary's table of the same generation number.
    expect(after.minorCounts.total.value).toBe(cached.minorCounts.total.value + 6);
  });

  const DIMS = [
    ['RISK_LEVEL', 'riskLevel'],
    ['AGE_BAND', 'ageBand'],
    ['GENDER', 'gender'],
  ] as const;
  const tableQ = (level: string, dims: number[]) =>
    `{ minorCounts(level: ${level}, by: [${dims.map((d) => DIMS[d][0]).join(', ')}]) { cells { regionCode riskLevel ageBand gender count { value suppressed } } total { value suppressed } } }`;

  /** Every table at `level` (each set of the lattice's dimensions) with its lines' margins and the level above, solved as a reader would. */
  const probeLevel = async (token: string, level: string, above: string, masks = [0, 1, 2, 3, 4, 5, 6, 7]) => {
    const dash = token;
    const cache = new Map<string, any>();
    const get = async (level: string, dims: number[]) => {
      const key = `${level}/${dims.join(',')}`;
      if (!cache.has(key)) cache.set(key, await ask(dash, tableQ(level, dims)));
      return cache.get(key).minorCounts;
    };
    const name = (c: any, dims: number[], level: string) => `${level}:${c.regionCode}|${dims.map((d) => `${DIMS[d][1]}=${c[DIMS[d][1]]}`).join(',')}`;
    const solvedOut: string[] = [];
    let hiddenSeen = 0;
    const all: { coef: Map<string, number>; rhs: number }[] = [];
    for (const mask of masks) {
      const dims = [0, 1, 2].filter((d) => mask & (1 << d));
      const own = await get(level, dims);
      const equations: { coef: Map<string, number>; rhs: number }[] = [];
      const addLine = (members: any[], mdims: number[], mlevel: string, total: any, tdims: number[], tlevel: string) => {
        const coef = new Map<string, number>();
        let rhs = 0;
        for (const m of members) {
          if (m.count.suppressed) coef.set(name(m, mdims, mlevel), (coef.get(name(m, mdims, mlevel)) ?? 0) + 1);
          else rhs -= m.count.value;
        }
        if (total.count.suppressed) coef.set(name(total, tdims, tlevel), (coef.get(name(total, tdims, tlevel)) ?? 0) - 1);
        else rhs += total.count.value;
        if (coef.size) equations.push({ coef, rhs });
      };
      hiddenSeen += own.cells.filter((c: any) => c.count.suppressed).length;
      // Lines along each dimension of the table, to the street margin without it.
      for (const d of dims) {
        const rest = dims.filter((x) => x !== d);
        const margin = await get(level, rest);
        for (const tcell of margin.cells) {
          const members = own.cells.filter((c: any) => c.regionCode === tcell.regionCode && rest.every((r) => c[DIMS[r][1]] === tcell[DIMS[r][1]]));
          addLine(members, dims, 'STREET', tcell, rest, level);
        }
      }
      // The region lines: the streets of the district to the district's cell.
      const up = await get(above, dims);
      for (const tcell of up.cells) {
        const members = own.cells.filter((c: any) => c.regionCode.startsWith(tcell.regionCode) && dims.every((r) => c[DIMS[r][1]] === tcell[DIMS[r][1]]));
        addLine(members, dims, 'STREET', tcell, dims, above);
      }
      for (const [u, v] of solveExactly(equations)) if (v !== 0) solvedOut.push(`${u} = ${v}`);
      all.push(...equations);
      // The district's own lines along each dimension (to its margins).
      for (const d of dims) {
        const rest = dims.filter((x) => x !== d);
        const margin = await get(above, rest);
        for (const tcell of margin.cells) {
          const members = up.cells.filter((c: any) => c.regionCode === tcell.regionCode && rest.every((r) => c[DIMS[r][1]] === tcell[DIMS[r][1]]));
          const coef = new Map<string, number>();
          let rhs = 0;
          for (const m of members) {
            if (m.count.suppressed) coef.set(name(m, dims, above), 1);
            else rhs -= m.count.value;
          }
          if (tcell.count.suppressed) coef.set(name(tcell, rest, above), -1);
          else rhs += tcell.count.value;
          if (coef.size) all.push({ coef, rhs });
        }
      }
    }
    const across = [...solveExactly(all)].filter(([, v]) => v !== 0);

    return { hiddenSeen, solvedOut, across };
  };

  it('a DASHBOARD solves no hidden non-zero cell of any street table of the demo district, one table at a time or all together', async () => {
    const { hiddenSeen, solvedOut, across } = await probeLevel(await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: DISTRICT }), 'STREET', 'DISTRICT');
    expect(hiddenSeen).toBeGreaterThan(0);
    expect(solvedOut).toEqual([]);
    expect(across).toEqual([]);
  });

  it('a district officer solves no hidden non-zero cell of any community table of the demo district from the table and the margins its lines share', async () => {
    const { hiddenSeen, solvedOut } = await probeLevel(await t.token(Department.CIVIL_AFFAIRS), 'COMMUNITY', 'STREET');
    expect(hiddenSeen).toBeGreaterThan(0);
    expect(solvedOut).toEqual([]);
  });

  it('an officer of a one-community district of 120 grids (a part of thousands of hidden cells) solves no hidden non-zero cell of a grid table', async () => {
    await refreshStatistics(t.hub.db.ds);
    const officer = await t.token(Department.CIVIL_AFFAIRS, { region: FAN });
    const { hiddenSeen, solvedOut } = await probeLevel(officer, 'GRID', 'COMMUNITY', [0, 1, 2, 4, 3, 5, 6]);
    expect(hiddenSeen).toBeGreaterThan(100);
    expect(solvedOut).toEqual([]);
  });

  it('answers many concurrent first questions of a large lattice after a refresh (each computed in its own open snapshot, yielding to the others)', async () => {
    await refreshStatistics(t.hub.db.ds);
    const tokens = await Promise.all(Array.from({ length: 16 }, () => t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: FAN })));
    const q = `{ minorCounts(level: STREET, by: [RISK_LEVEL]) { cells { regionCode riskLevel count { value suppressed } } total { value suppressed } } }`;
    const started = Date.now();
    const answers = await Promise.all(tokens.map((tk) => t.gql(tk, q)));
    const took = Date.now() - started;
    const errors = answers.flatMap((a) => a.errors ?? []).map((e: any) => e.extensions?.code);
    console.log('concurrent first answers', took, 'ms', errors);
    expect(errors).toEqual([]);
    for (const a of answers) expect(a.data).toEqual(answers[0].data);
  });
});
