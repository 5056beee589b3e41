import { Department, Role } from '../src/auth/principal';
import { refreshStatistics } from '../src/subgraphs/statistics';
import { addRegionChain } from './support/statistics-fixtures';
import { startTestHub, TestHub } from './support/test-hub';

jest.setTimeout(900_000);

const D = '330102';
const LEVELS = ['DISTRICT', 'STREET', 'COMMUNITY', 'GRID'] as const;
const CELL = 'value suppressed';

type Pub = Map<string, number | null>; // region code → published value (null: hidden)

/**
 * docs/statistics.md: "Along the region tree, a published cell minus the published cells any number of
 * levels below it leaves 0 or at least k, in every table". For one series (one combination of values,
 * one per region node), the reader subtracts from a published cell the published cells of disjoint
 * descendants, going down through every hidden one: the remainder must be 0 or at least k.
 */
function regionRemainders(series: Pub, children: Map<string, string[]>, k: number): { code: string; published: number; remainder: number }[] {
  const covered = (code: string): number =>
    (children.get(code) ?? []).reduce((s, c) => {
      const v = series.get(c);
      return s + (v === undefined ? 0 : v !== null ? v : covered(c));
    }, 0);
  const out: { code: string; published: number; remainder: number }[] = [];
  for (const [code, v] of series) {
    if (v === null || !(children.get(code) ?? []).length) continue;
    const remainder = v - covered(code);
    if (remainder > 0 && remainder < k) out.push({ code, published: v, remainder });
  }
  return out;
}

/** The levels from the top down to a reader's finest. */
const levelsTo = (finest: (typeof LEVELS)[number]) => LEVELS.slice(0, LEVELS.indexOf(finest) + 1);

describe('statistics: part and whole along the region tree, every table (red team 41)', () => {
  let t: TestHub;
  const children = new Map<string, string[]>();
  let k: number;

  beforeAll(async () => {
    t = await startTestHub();
    k = t.config.statistics.suppressionK;
    const rows = await t.sql(`SELECT code, parent_code FROM registry.region WHERE code LIKE $1 ORDER BY code`, [`${D}%`]);
    for (const r of rows) if (r.parent_code) (children.get(r.parent_code) ?? children.set(r.parent_code, []).get(r.parent_code)!).push(r.code);
  });
  afterAll(async () => {
    await t?.stop();
  });

  const FIELD: Record<string, string> = { CATEGORY: 'category', RISK_LEVEL: 'riskLevel', AGE_BAND: 'ageBand', GENDER: 'gender' };
  async function countsSeries(token: string, by: string[], keyOf: (c: any) => string, levels: readonly string[] = LEVELS): Promise<Map<string, Pub>> {
    const series = new Map<string, Pub>();
    for (const level of levels) {
      const r = await t.gql(token, `query($l: RegionLevel!, $by: [StatisticsDimension!]!) { minorCounts(level: $l, by: $by) { cells { regionCode ${by.map((d) => FIELD[d]).join(' ')} count { value } } } }`, { l: level, by });
      expect(r.errors).toBeUndefined();
      for (const c of r.data.minorCounts.cells) {
        const key = keyOf(c);
        (series.get(key) ?? series.set(key, new Map()).get(key)!).set(c.regionCode, c.count.value);
      }
    }
    return series;
  }

  async function rateSeries(token: string, finest: (typeof LEVELS)[number] = 'GRID'): Promise<Map<string, Pub>> {
    const series = new Map<string, Pub>();
    const add = (key: string, code: string, v: number | null) => (series.get(key) ?? series.set(key, new Map()).get(key)!).set(code, v);
    const RATE = `numerator { ${CELL} } denominator { ${CELL} }`;
    for (const level of levelsTo(finest)) {
      const r = await t.gql(
        token,
        `query($l: RegionLevel!) { statisticsRates(level: $l) { regions { regionCode screening { ${RATE} } intervention { ${RATE} } assistance { ${RATE} } reportsHandledInTime { ${RATE} } referralsHandledInTime { ${RATE} } } } }`,
        { l: level },
      );
      for (const reg of r.data.statisticsRates.regions) {
        for (const name of ['screening', 'intervention', 'assistance', 'reportsHandledInTime', 'referralsHandledInTime']) {
          const rate = reg[name];
          if (!rate) continue;
          const num = rate.numerator.suppressed ? null : rate.numerator.value;
          const den = rate.denominator.suppressed ? null : rate.denominator.value;
          add(`${name}/MET`, reg.regionCode, num);
          add(`${name}/ALL`, reg.regionCode, den);
          add(`${name}/NOT_MET`, reg.regionCode, num !== null && den !== null ? den - num : null);
        }
      }
    }
    return series;
  }

  const violations = (all: Map<string, Pub>) =>
    [...all].flatMap(([key, s]) => regionRemainders(s, children, k).map((v) => ({ series: key, ...v })));

  it('category tables of a district civil affairs officer (by category; by category and risk level)', async () => {
    const ca = await t.token(Department.CIVIL_AFFAIRS, { region: D, user: 'rt41-ca' });
    const a = await countsSeries(ca, ['CATEGORY'], (c) => c.category);
    const b = await countsSeries(ca, ['CATEGORY', 'RISK_LEVEL'], (c) => `${c.category}/${c.riskLevel}`, LEVELS.slice(0, 3));
    expect([...violations(a), ...violations(b)]).toEqual([]);
  });

  it('category tables of a district school officer (folded)', async () => {
    const ed = await t.token(Department.EDUCATION, { region: D, user: 'rt41-ed' });
    const a = await countsSeries(ed, ['CATEGORY'], (c) => c.category);
    const b = await countsSeries(ed, ['CATEGORY', 'GENDER'], (c) => `${c.category}/${c.gender}`);
    expect([...violations(a), ...violations(b)]).toEqual([]);
  });

  it('the rates of a district police officer: numerators, denominators and their differences', async () => {
    const po = await t.token(Department.POLICE, { region: D, user: 'rt41-po' });
    expect(violations(await rateSeries(po))).toEqual([]);
  });

  it('the rates of a district dashboard (district and streets)', async () => {
    const dash = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: D, user: 'rt41-dash' });
    expect(violations(await rateSeries(dash, 'STREET'))).toEqual([]);
  });

  it('the children lattice of a district police officer (by risk level; overdue)', async () => {
    const po = await t.token(Department.POLICE, { region: D, user: 'rt41-po2' });
    const a = await countsSeries(po, ['RISK_LEVEL'], (c) => c.riskLevel);
    expect(violations(a)).toEqual([]);
  });
});

/**
 * Bound propagation over one rate's table as a reader holds it: per region node its whole (denominator)
 * and two parts (MET, NOT_MET), MET + NOT_MET = whole, and along the region tree each of the three the
 * sum of the sub-regions' (plus, for reports and referrals, the region's own rows, unknown to the reader).
 * No count is negative. Returns the hidden cells whose bounds meet.
 */
function pinnedInRates(
  pub: Map<string, { whole: number | null; met: number | null; not?: number | null }>,
  children: Map<string, string[]>,
  ownRows: boolean,
): { cell: string; value: number }[] {
  type V = { lo: number; hi: number; known: boolean };
  const vars = new Map<string, V>();
  const v = (name: string, value: number | null | undefined): string => {
    if (!vars.has(name)) vars.set(name, value == null ? { lo: 0, hi: Infinity, known: false } : { lo: value, hi: value, known: true });
    return name;
  };
  const eqs: { total: string; members: string[] }[] = [];
  for (const [code, c] of pub) {
    const w = v(`${code}/ALL`, c.whole);
    const m = v(`${code}/MET`, c.not !== undefined || c.whole !== null ? c.met : null);
    const n = v(`${code}/NOT_MET`, c.not !== undefined ? c.not : c.whole !== null && c.met !== null ? c.whole - c.met : null);
    eqs.push({ total: w, members: [m, n] });
  }
  for (const [code] of pub) {
    const subs = (children.get(code) ?? []).filter((s) => pub.has(s));
    if (!subs.length) continue;
    for (const part of ['ALL', 'MET', 'NOT_MET']) {
      const members = subs.map((s) => `${s}/${part}`);
      if (ownRows) members.push(v(`${code}+/${part}`, null));
      eqs.push({ total: `${code}/${part}`, members });
    }
    if (ownRows) eqs.push({ total: `${code}+/ALL`, members: [`${code}+/MET`, `${code}+/NOT_MET`] });
  }
  for (let changed = true, rounds = 0; changed && rounds < 1000; rounds++) {
    changed = false;
    const tighten = (name: string, lo: number, hi: number) => {
      const x = vars.get(name)!;
      if (lo > x.lo) (x.lo = lo), (changed = true);
      if (hi < x.hi) (x.hi = hi), (changed = true);
    };
    for (const e of eqs) {
      const ms = e.members.map((m) => vars.get(m)!);
      const sumLo = ms.reduce((s, x) => s + x.lo, 0);
      const sumHi = ms.reduce((s, x) => s + x.hi, 0);
      tighten(e.total, sumLo, sumHi);
      const t = vars.get(e.total)!;
      e.members.forEach((m, i) => tighten(m, t.lo - (sumHi - ms[i].hi), t.hi - (sumLo - ms[i].lo)));
    }
  }
  return [...vars].filter(([name, x]) => !x.known && !name.includes('+') && x.lo === x.hi).map(([cell, x]) => ({ cell, value: x.lo }));
}

describe('statistics: the rates tables bounded as a reader would (red team 41)', () => {
  let t: TestHub;
  const children = new Map<string, string[]>();

  beforeAll(async () => {
    t = await startTestHub();
    const rows = await t.sql(`SELECT code, parent_code FROM registry.region WHERE code LIKE $1 ORDER BY code`, [`${D}%`]);
    for (const r of rows) if (r.parent_code) (children.get(r.parent_code) ?? children.set(r.parent_code, []).get(r.parent_code)!).push(r.code);
  });
  afterAll(async () => {
    await t?.stop();
  });

  async function rates(token: string, finest: (typeof LEVELS)[number]) {
    const out = new Map<string, Map<string, { whole: number | null; met: number | null }>>();
    const RATE = `numerator { value } denominator { value }`;
    for (const level of levelsTo(finest)) {
      const r = await t.gql(
        token,
        `query($l: RegionLevel!) { statisticsRates(level: $l) { regions { regionCode screening { ${RATE} } intervention { ${RATE} } assistance { ${RATE} } reportsHandledInTime { ${RATE} } referralsHandledInTime { ${RATE} } } } }`,
        { l: level },
      );
      for (const reg of r.data.statisticsRates.regions) {
        for (const name of ['screening', 'intervention', 'assistance', 'reportsHandledInTime', 'referralsHandledInTime']) {
          if (!reg[name]) continue;
          (out.get(name) ?? out.set(name, new Map()).get(name)!).set(reg.regionCode, { whole: reg[name].denominator.value, met: reg[name].numerator.value });
        }
      }
    }
    return out;
  }

  it('a district police officer: no hidden numerator, part or denominator pinned by the bounds', async () => {
    const po = await t.token(Department.POLICE, { region: D, user: 'rt41-po3' });
    const all = await rates(po, 'GRID');
    const pinned = [...all].flatMap(([name, pub]) => pinnedInRates(pub, children, name.endsWith('HandledInTime')).map((p) => ({ rate: name, ...p })));
    expect(pinned).toEqual([]);
  });

  it('a district dashboard: no hidden numerator, part or denominator pinned by the bounds', async () => {
    const dash = await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: D, user: 'rt41-dash2' });
    const all = await rates(dash, 'STREET');
    const pinned = [...all].flatMap(([name, pub]) => pinnedInRates(pub, children, name.endsWith('HandledInTime')).map((p) => ({ rate: name, ...p })));
    expect(pinned).toEqual([]);
  });
});

/** A small deterministic pseudo-random generator (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe('statistics: small random districts, screening and counts as a reader bounds them (red team 41)', () => {
  let t: TestHub;
  const children = new Map<string, string[]>();
  const SEEDS = Array.from({ length: 40 }, (_, i) => i + 1);
  const districtOf = (seed: number) => `33${String(1000 + seed).padStart(4, '0')}`;

  beforeAll(async () => {
    t = await startTestHub();
    for (const seed of SEEDS) {
      const r = rng(seed);
      const d = districtOf(seed);
      for (let s = 1; s <= 3; s++) {
        for (let c = 1; c <= 1 + Math.floor(r() * 2); c++) {
          for (let g = 1; g <= 1 + Math.floor(r() * 2); g++) {
            const grid = `${d}00${s}00${c}00${g}`;
            await addRegionChain(t, grid);
            const n = Math.floor(r() * 13);
            const p = r();
            for (let i = 0; i < n; i++) {
              const screened = r() < p;
              const [{ id }] = await t.sql(
                `INSERT INTO registry.minor (id, name, gender, birth_date, id_number, household_registration, current_address, grid_code)
                 VALUES (gen_random_uuid(), '红队', $2, (current_date - INTERVAL '10 years')::date, upper(substr(md5(gen_random_uuid()::text), 1, 18)), '浙江省杭州市上城区', '浙江省杭州市上城区测试路1号', $1) RETURNING id`,
                [grid, r() < 0.5 ? 'MALE' : 'FEMALE'],
              );
              if (screened) await t.sql(`INSERT INTO registry.minor_category (minor_id, category, identified_at) VALUES ($1, 'LEFT_BEHIND', current_date)`, [id]);
              if (r() < 0.3) await t.sql(`INSERT INTO registry.minor_category (minor_id, category, identified_at) VALUES ($1, 'POVERTY', current_date)`, [id]);
            }
          }
        }
      }
    }
    const rows = await t.sql(`SELECT code, parent_code FROM registry.region WHERE code LIKE '331%'`);
    for (const r of rows) if (r.parent_code) (children.get(r.parent_code) ?? children.set(r.parent_code, []).get(r.parent_code)!).push(r.code);
    await refreshStatistics(t.hub.db.ds);
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** A district's police officer, who reads down to grids, and its dashboard, down to streets. */
  const readersOf = async (seed: number) => {
    const d = districtOf(seed);
    return [
      ['police', await t.token(Department.POLICE, { region: d, user: `rt41-po-${seed}` }), 'GRID'],
      ['dashboard', await t.token(Department.CIVIL_AFFAIRS, { role: Role.DASHBOARD, region: d, user: `rt41-dash-${seed}` }), 'STREET'],
    ] as const;
  };

  /** Each reader (police by grid, a dashboard by street) of each seed's district, in turn. */
  const eachReader = async (seeds: readonly number[], look: (seed: number, who: string, token: string, finest: (typeof LEVELS)[number]) => Promise<void>) => {
    for (const seed of seeds) for (const [who, token, finest] of await readersOf(seed)) await look(seed, who, token, finest);
  };

  async function screening(token: string, finest: (typeof LEVELS)[number]) {
    const out = new Map<string, { whole: number | null; met: number | null }>();
    for (const level of levelsTo(finest)) {
      const r = await t.gql(token, `query($l: RegionLevel!) { statisticsRates(level: $l) { regions { regionCode screening { numerator { value } denominator { value } } } } }`, { l: level });
      expect(r.errors).toBeUndefined();
      for (const reg of r.data.statisticsRates.regions) out.set(reg.regionCode, { whole: reg.screening.denominator.value, met: reg.screening.numerator.value });
    }
    return out;
  }

  it('police (grids) and dashboards (streets): no hidden screening cell pinned', async () => {
    const found: unknown[] = [];
    let hiddenSeen = 0;
    await eachReader(SEEDS, async (seed, who, token, finest) => {
      const pub = await screening(token, finest);
      hiddenSeen += [...pub.values()].filter((x) => x.met === null).length;
      for (const p of pinnedInRates(pub, children, false)) found.push({ seed, who, ...p });
      const met = new Map([...pub].map(([c, x]) => [c, x.met]));
      const not = new Map([...pub].map(([c, x]) => [c, x.whole !== null && x.met !== null ? x.whole - x.met : null]));
      for (const v of [...regionRemainders(met, children, 5), ...regionRemainders(not, children, 5)]) found.push({ seed, who, remainder: v });
    });
    expect(found).toEqual([]);
    expect(hiddenSeen).toBeGreaterThan(0); // the check met hidden cells
  });

  async function byCategoryGender(token: string, finest: (typeof LEVELS)[number]) {
    const out = new Map<string, Map<string, { whole: number | null; met: number | null; not: number | null }>>();
    for (const level of levelsTo(finest)) {
      for (const by of [['CATEGORY'], ['CATEGORY', 'GENDER']]) {
        const r = await t.gql(token, `query($l: RegionLevel!, $by: [StatisticsDimension!]!) { minorCounts(level: $l, by: $by) { cells { regionCode category gender count { value } } } }`, { l: level, by });
        expect(r.errors).toBeUndefined();
        for (const c of r.data.minorCounts.cells) {
          const m = out.get(c.category) ?? out.set(c.category, new Map()).get(c.category)!;
          const e = m.get(c.regionCode) ?? m.set(c.regionCode, { whole: null, met: null, not: null }).get(c.regionCode)!;
          if (c.gender === null) e.whole = c.count.value;
          else if (c.gender === 'MALE') e.met = c.count.value;
          else e.not = c.count.value;
        }
      }
    }
    return out;
  }

  it('category tables by gender (police by grid, dashboards by street): no hidden cell pinned within one table', async () => {
    const found: unknown[] = [];
    let hiddenSeen = 0;
    await eachReader(SEEDS, async (seed, who, token, finest) => {
      const all = await byCategoryGender(token, finest);
      for (const [category, pub] of all) {
        if (!['LEFT_BEHIND', 'POVERTY'].includes(category)) continue;
        hiddenSeen += [...pub.values()].filter((x) => x.whole === null).length;
        for (const p of pinnedInRates(pub, children, false)) found.push({ seed, who, category, ...p });
      }
    });
    expect(found).toEqual([]);
    expect(hiddenSeen).toBeGreaterThan(0); // the check met hidden cells
  });

  it('pins: a screening denominator is the count of children (same status), and no numerator beside a hidden denominator', async () => {
    const found: unknown[] = [];
    await eachReader(SEEDS.slice(0, 20), async (seed, who, token, finest) => {
      for (const level of levelsTo(finest)) {
        const r = await t.gql(
          token,
          `query($l: RegionLevel!) { minorCounts(level: $l) { cells { regionCode count { value suppressed } } }
             statisticsRates(level: $l) { regions { regionCode screening { numerator { value suppressed } denominator { value suppressed } }
               assistance { numerator { suppressed } denominator { suppressed } } reportsHandledInTime { numerator { suppressed } denominator { suppressed } } } } }`,
          { l: level },
        );
        const counts = new Map(r.data.minorCounts.cells.map((c: any) => [c.regionCode, c.count]));
        for (const reg of r.data.statisticsRates.regions) {
          if (JSON.stringify(counts.get(reg.regionCode)) !== JSON.stringify(reg.screening.denominator)) found.push({ seed, who, level, reg: reg.regionCode, count: counts.get(reg.regionCode), den: reg.screening.denominator });
          for (const name of ['screening', 'assistance', 'reportsHandledInTime']) {
            const rate = reg[name];
            if (rate && !rate.numerator.suppressed && rate.denominator.suppressed) found.push({ seed, who, level, reg: reg.regionCode, name });
          }
        }
      }
    });
    expect(found).toEqual([]);
  });
});

describe('the reader models above find what they are built to find (red team 41)', () => {
  it('bounds pin a hidden street that a published district and street leave whole, and the remainder rule flags a small remainder', () => {
    const children = new Map([['D', ['S1', 'S2', 'S3']]]);
    // District 20 of whom 20 screened; S1 10 of 10 published; S2 and S3 hidden, but S2 + S3 = 10, all screened.
    const pub = new Map([
      ['D', { whole: 20, met: 20 }],
      ['S1', { whole: 10, met: 10 }],
      ['S2', { whole: null, met: null }],
      ['S3', { whole: null, met: null }],
    ]);
    expect(pinnedInRates(pub, children, false)).toEqual(expect.arrayContaining([{ cell: 'S2/NOT_MET', value: 0 }, { cell: 'S3/NOT_MET', value: 0 }]));
    expect(regionRemainders(new Map<string, number | null>([['D', 12], ['S1', 10], ['S2', null], ['S3', 0]]), children, 5)).toEqual([{ code: 'D', published: 12, remainder: 2 }]);
  });
});
