import type { TestHub } from './test-hub';

/**
 * An attacker's exact linear reasoning over published statistics: every published cell of
 * minorCounts (each measure, each combination of the given dimensions it is broken down by, every
 * level down to the finest) and of statisticsRates is a linear equation over the summary's finest cells; a hidden
 * cell is disclosed when those equations, with the registry's documented rules (every RED child is
 * overdue, no UNASSESSED child is), pin its value. Solved exactly, modulo a prime.
 */
const P = 1_000_003;
const mod = (x: number) => ((x % P) + P) % P;
function inverse(a: number): number {
  let [t, nt, r, nr] = [0, 1, P, mod(a)];
  while (nr) {
    const q = Math.floor(r / nr);
    [t, nt] = [nt, t - q * nt];
    [r, nr] = [nr, r - q * nr];
  }
  return mod(t);
}

/** Row-reduced published equations; `determines` says whether they fix a linear form. */
class Span {
  private rows: { pivot: number; row: Float64Array }[] = [];
  constructor(private readonly n: number) {}
  private reduce(coef: Map<number, number>): Float64Array {
    const v = new Float64Array(this.n);
    for (const [i, c] of coef) v[i] = mod(v[i] + c);
    for (const { pivot, row } of this.rows) {
      const c = v[pivot];
      if (!c) continue;
      for (let j = 0; j < this.n; j++) if (row[j]) v[j] = mod(v[j] - c * row[j]);
    }
    return v;
  }
  add(coef: Map<number, number>): void {
    const v = this.reduce(coef);
    const pivot = v.findIndex((x) => x !== 0);
    if (pivot < 0) return;
    const ip = inverse(v[pivot]);
    for (let j = 0; j < this.n; j++) if (v[j]) v[j] = mod(v[j] * ip);
    this.rows.push({ pivot, row: v });
  }
  determines(coef: Map<number, number>): boolean {
    return this.reduce(coef).every((x) => x === 0);
  }
}

const DIMS: Record<string, { column: string; values: string[]; field: string }> = {
  RISK_LEVEL: { column: 'risk_level', values: ['RED', 'ORANGE', 'YELLOW', 'BLUE', 'UNASSESSED'], field: 'riskLevel' },
  AGE_BAND: { column: 'age_band', values: ['AGE_0_2', 'AGE_3_5', 'AGE_6_11', 'AGE_12_14', 'AGE_15_17'], field: 'ageBand' },
  GENDER: { column: 'gender', values: ['MALE', 'FEMALE'], field: 'gender' },
};
const LEVELS = ['DISTRICT', 'STREET', 'COMMUNITY', 'GRID'];
/** What a family of finest cells counts, by summary column. */
const FAMILY_COLUMN: Record<string, string> = { M: 'minors', O: 'overdue', S: 'screened', C: 'with_category', A: 'assisted', V: 'visited_since_assessment' };

export interface Disclosure {
  /** Hidden cells whose value the published cells pin, with their true value. */
  disclosed: { label: string; display: string; value: number }[];
  /** The same finest cells shown published in one answer and hidden in another. */
  inconsistent: string[];
  hidden: number;
  published: number;
}

/**
 * Everything `token` can ask down to `level` with `dims`, over district 330102. `families`: M and
 * O always; S, C, A, V add the rates' own populations (screening, assistance, intervention).
 */
export async function disclosure(
  t: TestHub,
  token: string,
  opts: { level: string; dims: string[]; families: string[]; district?: string },
): Promise<Disclosure> {
  const district = opts.district ?? '330102';
  const regions: { code: string; level: string }[] = await t.sql(`SELECT trim(code) AS code, level FROM registry.region WHERE code LIKE $1 ORDER BY code`, [`${district}%`]);
  const atoms = regions.filter((r) => r.level === opts.level).map((r) => r.code);
  const atomIndex = new Map(atoms.map((c, i) => [c, i]));
  const dimValues = opts.dims.map((d) => DIMS[d].values);
  const perFamily = dimValues.reduce((n, v) => n * v.length, atoms.length);
  const families = opts.families;
  const index = (family: string, region: number, values: number[]) =>
    families.indexOf(family) * perFamily + values.reduce((i, v, d) => i * dimValues[d].length + v, region);

  const truth = new Float64Array(families.length * perFamily);
  const column = { STREET: 'street_code', COMMUNITY: 'community_code', GRID: 'grid_code' }[opts.level as 'STREET'];
  for (const r of await t.sql(`SELECT * FROM statistics.minor_cube WHERE district_code = $1`, [district])) {
    const region = atomIndex.get(String(r[column]).trim());
    if (region === undefined) continue;
    const values = opts.dims.map((d) => DIMS[d].values.indexOf(r[DIMS[d].column]));
    for (const f of families) truth[index(f, region, values)] += Number(r[FAMILY_COLUMN[f]]);
  }

  /** The finest cells of `family` under `region` with the given dimension values (others summed). */
  const form = (family: string, region: string, fixed: Record<string, string[]>, sign = 1, into = new Map<number, number>()) => {
    let combos: number[][] = [[]];
    for (const d of opts.dims) {
      const allowed = (fixed[d] ?? DIMS[d].values).map((v) => DIMS[d].values.indexOf(v));
      combos = combos.flatMap((c) => allowed.map((a) => [...c, a]));
    }
    atoms.forEach((code, r) => {
      if (!code.startsWith(region)) return;
      for (const c of combos) {
        const i = index(family, r, c);
        into.set(i, (into.get(i) ?? 0) + sign);
      }
    });
    return into;
  };
  const valueOf = (coef: Map<number, number>) => [...coef].reduce((s, [i, c]) => s + c * truth[i], 0);

  type Obs = { label: string; coef: Map<number, number>; cell: { value: number | null; suppressed: boolean; display: string } };
  const observed: Obs[] = [];
  const C = '{ value suppressed display }';
  const subsets = Array.from({ length: 1 << opts.dims.length }, (_, m) => opts.dims.filter((_, i) => m & (1 << i)));
  const finest = LEVELS.indexOf(opts.level);
  for (const [measure, family] of [['MINORS', 'M'], ['OVERDUE_VISITS', 'O']]) {
    for (let li = 0; li <= finest; li++) {
      // Overdue visits are broken down by risk level only.
      for (const by of subsets.filter((b) => measure === 'MINORS' || b.every((d) => d === 'RISK_LEVEL'))) {
        const r = await t.gql(token, `{ minorCounts(level: ${LEVELS[li]}, by: [${by}], measure: ${measure}) { cells { regionCode riskLevel ageBand gender count ${C} } } }`);
        if (r.errors) throw new Error(JSON.stringify(r.errors));
        for (const c of r.data.minorCounts.cells) {
          const fixed = Object.fromEntries(by.map((d) => [d, [c[DIMS[d].field]]]));
          observed.push({ label: `${measure} ${LEVELS[li]} [${by}] ${c.regionCode} ${by.map((d) => c[DIMS[d].field]).join('/')}`, coef: form(family, c.regionCode, fixed), cell: c.count });
        }
      }
    }
  }
  const R = `{ numerator ${C} denominator ${C} }`;
  const byRisk = opts.dims.includes('RISK_LEVEL');
  for (let li = 0; li <= finest; li++) {
    const r = await t.gql(token, `{ statisticsRates(level: ${LEVELS[li]}) { regions { regionCode screening ${R} intervention ${R} assistance ${R} visitsOnTime { riskLevel rate ${R} } } } }`);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    for (const g of r.data.statisticsRates.regions) {
      const at = `rates ${LEVELS[li]} ${g.regionCode}`;
      const push = (label: string, coef: Map<number, number>, cell: Obs['cell']) => observed.push({ label: `${at} ${label}`, coef, cell });
      push('screening population', form('M', g.regionCode, {}), g.screening.denominator);
      if (families.includes('S')) push('screened', form('S', g.regionCode, {}), g.screening.numerator);
      if (families.includes('C')) push('assistance population', form('C', g.regionCode, {}), g.assistance.denominator);
      if (families.includes('A')) push('assisted', form('A', g.regionCode, {}), g.assistance.numerator);
      if (!byRisk) continue;
      const high = { RISK_LEVEL: ['RED', 'ORANGE'] };
      push('intervention population', form('M', g.regionCode, high), g.intervention.denominator);
      if (families.includes('V')) push('intervened', form('V', g.regionCode, high), g.intervention.numerator);
      for (const v of g.visitsOnTime) {
        const level = { RISK_LEVEL: [v.riskLevel] };
        push(`on time ${v.riskLevel} population`, form('M', g.regionCode, level), v.rate.denominator);
        push(`on time ${v.riskLevel}`, form('O', g.regionCode, level, -1, form('M', g.regionCode, level)), v.rate.numerator);
      }
    }
  }

  const span = new Span(truth.length);
  if (byRisk) {
    // The documented rules: every RED child is overdue, no UNASSESSED child is.
    const risk = opts.dims.indexOf('RISK_LEVEL');
    const combos = dimValues.reduce<number[][]>((cs, vs) => cs.flatMap((c) => vs.map((_, i) => [...c, i])), [[]]);
    atoms.forEach((_, r) => {
      for (const c of combos) {
        const level = DIMS.RISK_LEVEL.values[c[risk]];
        if (level === 'RED') span.add(new Map([[index('O', r, c), 1], [index('M', r, c), -1]]));
        if (level === 'UNASSESSED') span.add(new Map([[index('O', r, c), 1]]));
      }
    });
  }
  const published = observed.filter((o) => !o.cell.suppressed);
  for (const o of published) {
    if (o.cell.value !== valueOf(o.coef)) throw new Error(`${o.label}: published ${o.cell.value}, true ${valueOf(o.coef)}`);
    span.add(o.coef);
  }
  const key = (coef: Map<number, number>) => [...coef].filter(([, c]) => c).sort((a, b) => a[0] - b[0]).join(';');
  const publishedForms = new Map(published.map((o) => [key(o.coef), o.label]));
  const hidden = observed.filter((o) => o.cell.suppressed);
  const inconsistent = hidden.filter((o) => publishedForms.has(key(o.coef))).map((o) => `${o.label} hidden, published as ${publishedForms.get(key(o.coef))}`);
  const disclosed = hidden.filter((o) => span.determines(o.coef)).map((o) => ({ label: o.label, display: o.cell.display, value: valueOf(o.coef) }));
  return { disclosed, inconsistent, hidden: hidden.length, published: published.length };
}
