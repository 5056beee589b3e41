import type { TestHub } from './test-hub';

/**
 * An attacker's exact linear reasoning over published statistics: every published cell of
 * minorCounts (each measure, each combination of the given dimensions it is broken down by, every
 * level down to the finest) and of statisticsRates is a linear equation over the summary's finest cells; a hidden
 * cell is disclosed when those equations, with the registry's documented rules (every RED child is
 * overdue, no UNASSESSED child is), pin its value — unless the rules alone do (RED on time is 0
 * to every reader, its rate's numerator hidden or not). Solved exactly, modulo a prime.
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
export class Span {
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
/** The rates counted from visits, refused to those who may not read visits. */
const VISIT_RATE = /^statisticsRates\.regions\.\d+\.(intervention|assistance|visitsOnTime)$/;
/** What a family of finest cells counts, by summary column. */
const FAMILY_COLUMN: Record<string, string> = { M: 'minors', O: 'overdue', S: 'screened', C: 'with_category', A: 'assisted', V: 'visited_since_assessment' };

export interface Disclosure {
  /** Visit statistics refused to the token (FORBIDDEN), by path: nothing of them is published to it. */
  refused: string[];
  /** Hidden cells whose value the published cells pin, with their true value. */
  disclosed: { label: string; display: string; value: number }[];
  /**
   * With `intervals`: hidden cells pinned when the reader also reasons with bounds — no count is
   * negative, no more children are overdue than there are, a hidden count of a region's children is at
   * least 1 and at least any published count of them with a category, and what the hidden cells'
   * displays say.
   */
  pinned?: { label: string; display: string; value: number }[];
  /** The same finest cells shown published in one answer and hidden in another. */
  inconsistent: string[];
  hidden: number;
  published: number;
}

/**
 * Everything `token` can ask down to `level` with `dims`, over district 330102. `families`: M and
 * O always; S, C, A, V add the rates' own populations (screening, assistance, intervention).
 * `known`: counts of minors the reader has from elsewhere (an officer's minors { totalCount }).
 * A visit statistic refused to the token (FORBIDDEN on its path) publishes nothing; any other
 * error fails.
 */
export async function disclosure(
  t: TestHub,
  token: string,
  opts: {
    level: string;
    dims: string[];
    families: string[];
    district?: string;
    intervals?: boolean;
    known?: { region: string; fixed: Record<string, string[]>; value: number }[];
  },
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

  /** `whole`: a region's count of children, summed over every dimension. */
  type Obs = { label: string; coef: Map<number, number>; cell: { value: number | null; suppressed: boolean; display: string }; whole?: boolean };
  const observed: Obs[] = [];
  const refused: string[] = [];
  const answered = (r: { data?: any; errors?: any[] }, refusable: RegExp | null) => {
    for (const e of r.errors ?? []) {
      const path = (e.path ?? []).join('.');
      if (e.extensions?.code !== 'FORBIDDEN' || !refusable?.test(path)) throw new Error(JSON.stringify(r.errors));
      refused.push(path);
    }
    return r.data;
  };
  const C = '{ value suppressed display }';
  const subsets = Array.from({ length: 1 << opts.dims.length }, (_, m) => opts.dims.filter((_, i) => m & (1 << i)));
  const finest = LEVELS.indexOf(opts.level);
  for (const [measure, family] of [['MINORS', 'M'], ['OVERDUE_VISITS', 'O']]) {
    for (let li = 0; li <= finest; li++) {
      // Overdue visits are broken down by risk level only.
      for (const by of subsets.filter((b) => measure === 'MINORS' || b.every((d) => d === 'RISK_LEVEL'))) {
        const r = await t.gql(token, `{ minorCounts(level: ${LEVELS[li]}, by: [${by}], measure: ${measure}) { cells { regionCode riskLevel ageBand gender count ${C} } } }`);
        const table = answered(r, measure === 'OVERDUE_VISITS' ? /^minorCounts$/ : null).minorCounts;
        for (const c of table?.cells ?? []) {
          const fixed = Object.fromEntries(by.map((d) => [d, [c[DIMS[d].field]]]));
          observed.push({
            label: `${measure} ${LEVELS[li]} [${by}] ${c.regionCode} ${by.map((d) => c[DIMS[d].field]).join('/')}`,
            coef: form(family, c.regionCode, fixed),
            cell: c.count,
            whole: measure === 'MINORS' && by.length === 0,
          });
        }
      }
    }
  }
  const R = `{ numerator ${C} denominator ${C} }`;
  const byRisk = opts.dims.includes('RISK_LEVEL');
  for (let li = 0; li <= finest; li++) {
    const r = await t.gql(token, `{ statisticsRates(level: ${LEVELS[li]}) { regions { regionCode screening ${R} intervention ${R} assistance ${R} visitsOnTime { riskLevel rate ${R} } } } }`);
    for (const g of answered(r, VISIT_RATE).statisticsRates.regions) {
      const at = `rates ${LEVELS[li]} ${g.regionCode}`;
      const push = (label: string, coef: Map<number, number>, cell: Obs['cell']) => observed.push({ label: `${at} ${label}`, coef, cell });
      push('screening population', form('M', g.regionCode, {}), g.screening.denominator);
      if (families.includes('S')) push('screened', form('S', g.regionCode, {}), g.screening.numerator);
      if (families.includes('C') && g.assistance) push('assistance population', form('C', g.regionCode, {}), g.assistance.denominator);
      if (families.includes('A') && g.assistance) push('assisted', form('A', g.regionCode, {}), g.assistance.numerator);
      if (!byRisk) continue;
      const high = { RISK_LEVEL: ['RED', 'ORANGE'] };
      if (g.intervention) push('intervention population', form('M', g.regionCode, high), g.intervention.denominator);
      if (families.includes('V') && g.intervention) push('intervened', form('V', g.regionCode, high), g.intervention.numerator);
      for (const v of g.visitsOnTime ?? []) {
        const level = { RISK_LEVEL: [v.riskLevel] };
        push(`on time ${v.riskLevel} population`, form('M', g.regionCode, level), v.rate.denominator);
        push(`on time ${v.riskLevel}`, form('O', g.regionCode, level, -1, form('M', g.regionCode, level)), v.rate.numerator);
      }
    }
  }

  const span = new Span(truth.length);
  // What the rules alone tell is no disclosure.
  const rules = new Span(truth.length);
  const bounds = new Bounds(truth.length);
  const combos = dimValues.reduce<number[][]>((cs, vs) => cs.flatMap((c) => vs.map((_, i) => [...c, i])), [[]]);
  atoms.forEach((_, r) => {
    for (const c of combos) {
      const overdue = new Map([[index('O', r, c), 1], [index('M', r, c), -1]]);
      bounds.add(overdue, -Infinity, 0);
      if (!byRisk) continue;
      // The documented rules: every RED child is overdue, no UNASSESSED child is.
      const level = DIMS.RISK_LEVEL.values[c[opts.dims.indexOf('RISK_LEVEL')]];
      if (level === 'RED') {
        span.add(overdue);
        rules.add(overdue);
        bounds.add(overdue, 0, 0);
      }
      if (level === 'UNASSESSED') {
        span.add(new Map([[index('O', r, c), 1]]));
        rules.add(new Map([[index('O', r, c), 1]]));
        bounds.add(new Map([[index('O', r, c), 1]]), 0, 0);
      }
    }
  });
  for (const k of opts.known ?? []) {
    const coef = form('M', k.region, k.fixed);
    if (k.value !== valueOf(coef)) throw new Error(`known ${k.region}: ${k.value}, true ${valueOf(coef)}`);
    span.add(coef);
    rules.add(coef);
    bounds.add(coef, k.value, k.value);
  }
  const published = observed.filter((o) => !o.cell.suppressed);
  for (const o of published) {
    if (o.cell.value !== valueOf(o.coef)) throw new Error(`${o.label}: published ${o.cell.value}, true ${valueOf(o.coef)}`);
    span.add(o.coef);
    bounds.add(o.coef, o.cell.value, o.cell.value);
  }
  const key = (coef: Map<number, number>) => [...coef].filter(([, c]) => c).sort((a, b) => a[0] - b[0]).join(';');
  const publishedForms = new Map(published.map((o) => [key(o.coef), o.label]));
  const hidden = observed.filter((o) => o.cell.suppressed && !rules.determines(o.coef));
  const inconsistent = hidden.filter((o) => publishedForms.has(key(o.coef))).map((o) => `${o.label} hidden, published as ${publishedForms.get(key(o.coef))}`);
  const disclosed = hidden.filter((o) => span.determines(o.coef)).map((o) => ({ label: o.label, display: o.cell.display, value: valueOf(o.coef) }));
  if (!opts.intervals) return { refused, disclosed, inconsistent, hidden: hidden.length, published: published.length };

  // A region without children shows 0, so a hidden count of a region's children is at least 1; and a
  // published count of its children with a category is at least as many.
  for (const o of hidden) if (o.whole) bounds.add(o.coef, 1, Infinity);
  for (let li = 0; li <= finest; li++) {
    const r = await t.gql(token, `{ minorCounts(level: ${LEVELS[li]}, by: [CATEGORY]) { cells { regionCode count { value suppressed } } } }`);
    for (const c of answered(r, null).minorCounts.cells) if (!c.count.suppressed) bounds.add(form('M', c.regionCode, {}), c.count.value, Infinity);
  }
  // A display that sets hidden cells apart ("<5" and "x" for "at least k") puts each in a class:
  // the reader is granted each class's true range. One display for every hidden cell says nothing.
  const classes = new Map<string, number[]>();
  for (const o of hidden) classes.set(o.cell.display, [...(classes.get(o.cell.display) ?? []), valueOf(o.coef)]);
  const ranged = classes.size > 1 ? hidden : [];
  for (const o of ranged) {
    const values = classes.get(o.cell.display)!;
    bounds.add(o.coef, Math.min(...values), Math.max(...values));
  }
  if (!bounds.propagate()) throw new Error('the published statistics and the truth disagree');
  // Shaving: a value of a hidden cell of bounded class that leaves the bounds infeasible is ruled out.
  for (const o of ranged.filter((x) => Math.max(...classes.get(x.cell.display)!) < Infinity)) {
    const [lo, hi] = bounds.range(o.coef);
    const feasible: number[] = [];
    if (hi - lo >= 10) continue;
    for (let v = lo; v <= hi; v++) if (bounds.with(o.coef, v).propagate()) feasible.push(v);
    if (feasible.length) bounds.add(o.coef, feasible[0], feasible[feasible.length - 1]);
  }
  if (!bounds.propagate()) throw new Error('the published statistics and the truth disagree');
  const pinned = hidden.filter((o) => new Set(bounds.range(o.coef)).size === 1).map((o) => ({ label: o.label, display: o.cell.display, value: valueOf(o.coef) }));
  return { refused, disclosed, pinned, inconsistent, hidden: hidden.length, published: published.length };
}

/**
 * Interval reasoning over integer, non-negative cells: each constraint bounds a linear form; each
 * cell's bounds are tightened from the others' until nothing changes (bound propagation).
 */
class Bounds {
  private readonly constraints: { coef: [number, number][]; lo: number; hi: number }[] = [];
  constructor(
    n: number,
    private readonly lo = new Float64Array(n),
    private readonly hi = new Float64Array(n).fill(1e9),
  ) {}
  add(coef: Map<number, number>, lo: number, hi: number): void {
    this.constraints.push({ coef: [...coef].filter(([, c]) => c), lo, hi });
  }
  /** A copy with `coef` fixed at `value`. */
  with(coef: Map<number, number>, value: number): Bounds {
    const copy = new Bounds(0, this.lo.slice(), this.hi.slice());
    copy.constraints.push(...this.constraints);
    copy.add(coef, value, value);
    return copy;
  }
  range(coef: Map<number, number>): [number, number] {
    let [lo, hi] = [0, 0];
    for (const [i, a] of coef) {
      lo += a > 0 ? a * this.lo[i] : a * this.hi[i];
      hi += a > 0 ? a * this.hi[i] : a * this.lo[i];
    }
    return [lo, hi];
  }
  /** False when the constraints cannot all hold. */
  propagate(): boolean {
    for (let round = 0; round < 300; round++) {
      let changed = false;
      for (const c of this.constraints) {
        let [sLo, sHi] = [0, 0];
        for (const [i, a] of c.coef) {
          sLo += a > 0 ? a * this.lo[i] : a * this.hi[i];
          sHi += a > 0 ? a * this.hi[i] : a * this.lo[i];
        }
        if (sLo > c.hi || sHi < c.lo) return false;
        for (const [i, a] of c.coef) {
          const restLo = sLo - (a > 0 ? a * this.lo[i] : a * this.hi[i]);
          const restHi = sHi - (a > 0 ? a * this.hi[i] : a * this.lo[i]);
          let [l, h] = [(c.lo - restHi) / a, (c.hi - restLo) / a];
          if (a < 0) [l, h] = [h, l];
          [l, h] = [Math.ceil(l - 1e-9), Math.floor(h + 1e-9)];
          if (l > this.lo[i]) [this.lo[i], changed] = [l, true];
          if (h < this.hi[i]) [this.hi[i], changed] = [h, true];
          if (this.lo[i] > this.hi[i]) return false;
        }
      }
      if (!changed) return true;
    }
    return true;
  }
}
