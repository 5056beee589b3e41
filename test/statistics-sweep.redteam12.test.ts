import { Department, Role } from '../src/auth/principal';
import { startTestHub, TestHub } from './support/test-hub';
import { YOUNGEST_WITH_CATEGORY } from '../src/subgraphs/registry/registry.constants';

/** The oldest age of each band. */
const BAND_OLDEST: Record<string, number> = { AGE_0_2: 2, AGE_3_5: 5, AGE_6_11: 11, AGE_12_14: 14, AGE_15_17: 17 };
const tooYoungFor = (category: string | null, band: string | null) =>
  category !== null && band !== null && BAND_OLDEST[band] < ((YOUNGEST_WITH_CATEGORY as Record<string, number>)[category] ?? 0);

jest.setTimeout(600_000);

/**
 * Every table `minorCounts` answers — each level a reader may ask for, each combination of the
 * additive dimensions and the categories, children and overdue visits — as readers of several
 * departments, roles and levels, all asked by one reader before any is checked. Whatever a reader
 * is served, together: no published count is small; and every line a published total closes —
 * a table's cells under its `total`, a finer table's cells under a coarser table's cell (one
 * additive dimension more, or one region level down) — hides either nothing or at least two
 * cells adding up to k or more, so that no hidden cell is its total less the published ones. The
 * rates of children beside them follow the counts' rule (rateLeaks).
 */
const DIMENSIONS = ['RISK_LEVEL', 'AGE_BAND', 'GENDER', 'CATEGORY'] as const;
const ADDITIVE = ['RISK_LEVEL', 'AGE_BAND', 'GENDER'];
const LEVELS = ['DISTRICT', 'STREET', 'COMMUNITY', 'GRID'] as const;
const CODE_LENGTH: Record<string, number> = { DISTRICT: 6, STREET: 9, COMMUNITY: 12, GRID: 15 };
const KEY_OF: Record<string, string> = { RISK_LEVEL: 'riskLevel', AGE_BAND: 'ageBand', GENDER: 'gender', CATEGORY: 'category' };

type Count = { value: number | null; suppressed: boolean; display: string };
type Cell = { regionCode: string; riskLevel: string | null; category: string | null; ageBand: string | null; gender: string | null; count: Count };
interface Table {
  level: string;
  by: string[];
  measure: string;
  total: Count;
  cells: Cell[];
}

const subsets = <T,>(xs: readonly T[]): T[][] => xs.reduce<T[][]>((all, x) => [...all, ...all.map((s) => [...s, x])], [[]]);

describe('every table of counts and every rate of children, checked together for each reader (redteam12)', () => {
  let t: TestHub;

  beforeAll(async () => {
    // The finest tables of every dimension (grids × 4 dimensions) are more cells than one request may hold by default.
    t = await startTestHub({ env: { HUB_MAX_QUERY_COST: '100000000' } });
  });
  afterAll(() => t?.stop());

  /** Every table the token is served, with the finest level its scope allows. */
  async function servedTables(token: string): Promise<{ tables: Table[]; k: number }> {
    const scope = await t.gql(token, `{ statisticsScope { level finestLevel suppressionK } }`);
    expect(scope.errors).toBeUndefined();
    const { level: own, finestLevel, suppressionK: k } = scope.data.statisticsScope;
    const tables: Table[] = [];
    for (const level of LEVELS.slice(LEVELS.indexOf(own), LEVELS.indexOf(finestLevel) + 1)) {
      for (const measure of ['MINORS', 'OVERDUE_VISITS']) {
        for (const by of measure === 'MINORS' ? subsets(DIMENSIONS) : [[], ['RISK_LEVEL']]) {
          const r = await t.gql(
            token,
            `query($level: RegionLevel!, $by: [StatisticsDimension!], $measure: StatisticsMeasure) { minorCounts(level: $level, by: $by, measure: $measure) {
              total { value suppressed display } cells { regionCode riskLevel category ageBand gender count { value suppressed display } } } }`,
            { level, by, measure },
          );
          // Overdue visits are refused whole to those who may not read visits.
          if (measure === 'OVERDUE_VISITS' && r.errors?.[0]?.extensions?.code === 'FORBIDDEN') continue;
          expect([level, by, measure, r.errors]).toEqual([level, by, measure, undefined]);
          tables.push({ level, by, measure, ...r.data.minorCounts });
        }
      }
    }
    return { tables, k };
  }

  /** What a reader could recover from its tables: small counts published, lines with too little hidden. */
  function leaks(tables: Table[], k: number): string[] {
    const out: string[] = [];
    const name = (x: Table) => `${x.measure} ${x.level} by [${x.by.join(', ')}]`;
    const cellKey = (c: Cell, level: string, dims: string[]) =>
      [c.regionCode.slice(0, CODE_LENGTH[level]), ...dims.map((d) => (c as unknown as Record<string, string>)[KEY_OF[d]])].join('|');
    /** A line: published total, its members. Hidden members: none, or two or more adding up to k. */
    const line = (what: string, total: Count, members: Count[]) => {
      if (total.suppressed || !members.length) return;
      const hidden = members.filter((m) => m.suppressed);
      const rest = total.value! - members.reduce((n, m) => n + (m.value ?? 0), 0);
      if (!hidden.length && rest !== 0) out.push(`${what}: published members add up to ${total.value! - rest}, not ${total.value}`);
      if (hidden.length === 1) out.push(`${what}: one hidden member, ${rest} by difference`);
      if (hidden.length > 1 && rest < k) out.push(`${what}: ${hidden.length} hidden members add up to ${rest}, below ${k}`);
    };
    for (const x of tables) {
      for (const c of [x.total, ...x.cells.map((cell) => cell.count)]) {
        if (c.suppressed !== (c.value === null) || c.display !== (c.suppressed ? 'x' : String(c.value))) out.push(`${name(x)}: a cell reads ${JSON.stringify(c)}`);
      }
      // No published count is small; 0 only where the registry's rules make it known (no UNASSESSED child is overdue, no
      // child has a category younger than YOUNGEST_WITH_CATEGORY allows).
      for (const c of x.cells) {
        const v = c.count.value;
        const knownZero = (x.measure === 'OVERDUE_VISITS' && c.riskLevel === 'UNASSESSED') || tooYoungFor(c.category, c.ageBand);
        if (v !== null && v < k && !(v === 0 && knownZero)) out.push(`${name(x)}: ${JSON.stringify(c)} published`);
      }
      if (!x.by.includes('CATEGORY')) line(`${name(x)} under its total`, x.total, x.cells.map((c) => c.count));
    }
    // A finer table's cells under a coarser one's: one additive dimension more at the same level, or the same dimensions one level down.
    for (const fine of tables) {
      for (const coarse of tables) {
        if (coarse.measure !== fine.measure) continue;
        const extra = fine.by.filter((d) => !coarse.by.includes(d));
        const sameDims = extra.length === 0 && fine.by.length === coarse.by.length;
        const oneMore = extra.length === 1 && ADDITIVE.includes(extra[0]) && fine.by.length === coarse.by.length + 1;
        const oneDown = LEVELS.indexOf(fine.level as never) === LEVELS.indexOf(coarse.level as never) + 1;
        if (!((oneMore && fine.level === coarse.level) || (sameDims && oneDown))) continue;
        const members = new Map<string, Count[]>();
        for (const c of fine.cells) {
          const key = cellKey(c, coarse.level, coarse.by);
          members.set(key, [...(members.get(key) ?? []), c.count]);
        }
        for (const c of coarse.cells) line(`${name(fine)} under ${name(coarse)} cell ${cellKey(c, coarse.level, coarse.by)}`, c.count, members.get(cellKey(c, coarse.level, coarse.by)) ?? []);
      }
    }
    return out;
  }

  const RATE = `numerator { value suppressed display } denominator { value suppressed display } percent suppressed`;
  type Rate = { numerator: Count; denominator: Count; percent: number | null; suppressed: boolean };

  /**
   * The rates of children (screening, intervention, assistance, visits on time) of every level the
   * reader is served, against its tables of counts: parts follow the counts' rule (no small count,
   * no numerator beside a hidden denominator, no small difference between them), and the screening
   * rate's population is the region's count, with the same status.
   */
  async function rateLeaks(token: string, tables: Table[], k: number): Promise<string[]> {
    const out: string[] = [];
    const levels = [...new Set(tables.map((x) => x.level))];
    for (const level of levels) {
      const r = await t.gql(
        token,
        `query($level: RegionLevel!) { statisticsRates(level: $level) { regions { regionCode screening { ${RATE} } intervention { ${RATE} } assistance { ${RATE} }
          visitsOnTime { riskLevel rate { ${RATE} } } } } }`,
        { level },
      );
      // Visit rates are refused, on their paths, to those who may not read visits; the rest is served.
      expect((r.errors ?? []).filter((e: { extensions?: { code?: string } }) => e.extensions?.code !== 'FORBIDDEN')).toEqual([]);
      const counts = tables.find((x) => x.level === level && x.measure === 'MINORS' && !x.by.length)!;
      for (const region of r.data.statisticsRates.regions) {
        const rates: [string, Rate | null][] = [
          ['screening', region.screening],
          ['intervention', region.intervention],
          ['assistance', region.assistance],
          ...((region.visitsOnTime ?? []) as { riskLevel: string; rate: Rate }[]).map((v): [string, Rate] => [`visitsOnTime ${v.riskLevel}`, v.rate]),
        ];
        for (const [what, rate] of rates) {
          if (!rate) continue;
          const { numerator: n, denominator: d } = rate;
          const where = `${level} ${region.regionCode} ${what}`;
          if (!n.suppressed && d.suppressed) out.push(`${where}: numerator ${n.value} beside a hidden denominator`);
          // No RED child is on time (RED is due at once): a 0 every reader knows.
          const knownZero = what === 'visitsOnTime RED' && n.value === 0;
          for (const [part, c] of [['numerator', n], ['denominator', d]] as const) if (!c.suppressed && c.value! < k && !(part === 'numerator' && knownZero)) out.push(`${where}: ${part} ${c.value} published`);
          if (!n.suppressed && !d.suppressed && d.value! - n.value! > 0 && d.value! - n.value! < k) out.push(`${where}: ${n.value} of ${d.value}, a difference of ${d.value! - n.value!}`);
          if (!rate.suppressed && (n.suppressed || d.suppressed)) out.push(`${where}: a percent beside a hidden part`);
        }
        const count = counts.cells.find((c) => c.regionCode === region.regionCode)!.count;
        if (count.suppressed !== region.screening.denominator.suppressed || count.value !== region.screening.denominator.value) {
          out.push(`${level} ${region.regionCode}: screened among ${JSON.stringify(region.screening.denominator)}, counted ${JSON.stringify(count)}`);
        }
      }
    }
    return out;
  }

  it.each([
    ['a district dashboard', Department.CIVIL_AFFAIRS, Role.DASHBOARD, '330102'],
    ['a district civil affairs officer', Department.CIVIL_AFFAIRS, Role.OFFICER, '330102'],
    ['a district school officer', Department.EDUCATION, Role.OFFICER, '330102'],
    ['a street police officer', Department.POLICE, Role.OFFICER, '330102001'],
    ['a community Youth League officer', Department.YOUTH_LEAGUE, Role.OFFICER, '330102001001'],
  ])('publishes to %s no small count and no line with one hidden cell or less than k hidden, across every table and rate of children it is served', async (_who, department, role, region) => {
    const token = await t.token(department, { role, region });
    const { tables, k } = await servedTables(token);
    expect(tables.length).toBeGreaterThan(16);
    expect(tables.some((x) => x.cells.some((c) => c.count.suppressed))).toBe(true);
    const found = [...leaks(tables, k), ...(await rateLeaks(token, tables, k))];
    if (found.length) console.log(found.slice(0, 40).join('\n'));
    expect(found).toEqual([]);
    // The check finds what it looks for: one hidden cell of a table shown as 1.
    const shown = structuredClone(tables);
    shown.find((x) => x.cells.some((c) => c.count.suppressed))!.cells.find((c) => c.count.suppressed)!.count = { value: 1, suppressed: false, display: '1' };
    expect(leaks(shown, k).length).toBeGreaterThan(0);
  });
});
