import { createHash } from 'crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { readOnly } from '../../db/commit-outcome';
import { badInput, HubErrorCode, HubException } from '../../errors/hub.exception';
import { RegionLevel } from '../registry/registry.enums';
import { depth, LEVELS, MAX_CELLS } from './statistics.config';
import { tableCache } from './statistics.cache';
import { type Summaries, summariesOf } from './statistics.refresh';
import { Cell, hideDetermined, hideDisclosed, Line, protectJointly, protectLines, suppressSmall } from './statistics.suppression';

/*
 * Builds a protected table from the summaries. A table is a region level plus dimensions; its
 * suppression depends on the coarser tables whose cells are its lines' totals: the same
 * dimensions one level up (a region is the sum of its sub-regions) and one dimension fewer (a
 * row's margin). Those are computed and protected first, down from the district, with the same
 * rules, so a cell has the same status in every answer that shows it. One SQL statement reads the
 * finest rows from the summary tables, and all of them are sums of those.
 *
 * Everything is computed over the whole district the caller's jurisdiction lies in and then cut
 * to the jurisdiction: officers of one street and of the district see the same suppression
 * pattern for the same cells, which is what keeps their answers from being differenced.
 */

export interface DimSpec {
  /** Column of the summary (or the outcome alias). */
  column: string;
  values: readonly string[];
  /** False for categories: a child counts in several, so they do not sum to a margin. */
  additive: boolean;
  /** When set, broken down together with these dimensions (by column) only, never with others. */
  with?: readonly string[];
}

export interface CubeSource {
  table: 'statistics.minor_cube' | 'statistics.category_cube' | 'statistics.workflow_cube';
  /** What a cell counts: a column of the table, or MET/NOT_MET counts unpivoted as `outcome`. */
  value: string | { met: string; notMet: string };
  /** Population restriction, as SQL on the table (alias c) with $2, $3 … parameters. */
  where?: { sql: string; params: unknown[] };
  /**
   * Cells every reader knows to be zero by the registry's own rules (dimension column → value,
   * e.g. RED children whose visit is not overdue). When they are zero they are published as such
   * and count as known in every line: hiding them would protect nothing.
   */
  knownZero?: Record<string, string>[];
  /**
   * Rows may be placed at a region above the grid (a report filed for a street, a referral made at
   * a district; NULL codes below it): such a row counts in its region and the region's ancestors,
   * in no sub-region. Its region's line then has one more member, the region's own rows
   * (`ownRows`): never shown, but protected like the sub-regions, since the region minus its
   * published sub-regions is exactly that.
   */
  placedAbove?: boolean;
}

export interface RegionNode {
  code: string;
  name: string;
  level: RegionLevel;
  parentCode: string | null;
}

export interface TableCell extends Cell {
  node: RegionNode;
  /** Values aligned with the table's dimensions, null where the cell sums over one. */
  values: (string | null)[];
}

export interface ProtectedTable {
  /**
   * The cells at `level` (the table's or a coarser one) broken down by the dimensions flagged in
   * `broken` (summed over the others), every combination (zeros included: a missing row is a zero).
   */
  cells(level: RegionLevel, broken: readonly boolean[]): TableCell[];
  /** Any cell of the computed lattice, for margins. */
  cell(node: string, values: (string | null)[]): TableCell | undefined;
}

export interface TableOptions {
  /** The district every table is computed over. */
  anchor: string;
  nodes: Map<RegionLevel, RegionNode[]>;
  level: RegionLevel;
  dims: readonly DimSpec[];
  source: CubeSource;
  k: number;
  /**
   * Zeros count as small (hidden like any count below k) in every cell, or — a rate of events, whose
   * 0 % and 100 % are the indicator itself — in the shown wholes only (`'wholes'`: the cells summed
   * over every dimension of a region node the table shows; never a region's own rows, which no
   * reader sees, nor a part beside a published whole).
   */
  zeroIsSmall: true | 'wholes';
  /**
   * A rate's table: its parts (the cells broken down, the numerator among them) are hidden wherever
   * their whole (the denominator) is, before their lines are protected. A part of 0, or equal to its
   * whole, beside a hidden whole is a 0 % or 100 % of a small group, and a part published there would
   * be a region's part minus its sub-regions' even if the answer hid it; a population that follows
   * from the counts (`population`) would give one part as the population minus the other.
   */
  rate?: boolean;
  /**
   * A rate's population (the cells summed over every dimension) that is a sum or difference of
   * cells of another table: it is published exactly where every cell of one of its `ways` (cells
   * of `of` at the same node, adding up to it) is, and is never protected on its own, so that it
   * tells nothing the counts do not (RED + ORANGE children: both counts, or all children minus
   * the other levels).
   */
  population?: { of: TableOptions; ways: (string | null)[][][] };
  /**
   * A table whose cells bound this one's from above (children with a category, or with any, are
   * children): a cell is hidden wherever the cell of `of` at its node is, with this table's values in
   * `columns` and the others summed. Published beside a hidden count of the same children, a count of
   * 5 with a category told a hidden street at least 5, and with every hidden street at least 1 (a
   * region without children shows 0), two streets of one child each read back (red team 33).
   */
  within?: { of: TableOptions; columns: readonly string[] };
  /**
   * Protect the whole lattice at once (statistics.suppression.ts `protectJointly`) instead of
   * table by table on fixed coarser tables; for a lattice every question of its summary is
   * answered from, where the order of tables would otherwise decide what can be protected.
   */
  joint?: boolean;
}

/**
 * The protected table for `opts`, from the cache when the same table was computed on the same
 * summaries (statistics.cache.ts). `em` must be the answer's snapshot and `summaries` those read
 * through it (statistics.refresh.ts `summariesOf`): their generation and stamp are part of the key, so a
 * cached table is never one of other summaries. The result is shared between requests and must
 * not be changed; the caller's jurisdiction cut comes after.
 */
export async function protectedTable(em: EntityManager, opts: TableOptions, summaries: Summaries): Promise<ProtectedTable> {
  return tableCache(em.connection).get(summaries, tableKey(opts), opts, () => computeTable(em, opts, summaries));
}

/**
 * After a refresh, computes again on the new summaries the tables that were cached on the old
 * ones, most recently used first, so that a question asked before is not the one to pay for the
 * first answer (an officer's grid table: about twice the raw GROUP BY). Same computation, same
 * keys as a request's; each request still cuts its answer to its own jurisdiction.
 */
export async function warmTables(ds: DataSource): Promise<number> {
  return ds.transaction('REPEATABLE READ', async (em) => {
    await readOnly(em);
    const summaries = await summariesOf(em);
    const cache = tableCache(ds);
    cache.see(summaries);
    const previous = cache.takePrevious();
    for (const opts of previous) await protectedTable(em, opts, summaries);
    return previous.length;
  });
}

/**
 * Everything the computation reads besides the summaries: the district, every node of the levels
 * used (code, parent and name, since cached cells carry their node), the level, the dimensions
 * with their values, the source with its parameters, k and the zero rule.
 */
function tableKey(opts: TableOptions): string {
  const levels = LEVELS.slice(0, depth(opts.level) + 1);
  const nodes = levels.map((level) => (opts.nodes.get(level) ?? []).map((n) => [n.code, n.parentCode, n.level, n.name]));
  const population = opts.population && [tableKey(opts.population.of), opts.population.ways];
  const within = opts.within && [tableKey(opts.within.of), opts.within.columns];
  return createHash('sha256')
    .update(JSON.stringify([opts.anchor, opts.level, opts.dims, opts.source, opts.k, opts.zeroIsSmall, !!opts.rate, nodes, population, !!opts.joint, within]))
    .digest('base64');
}

const REGION_COLUMNS = ['district_code', 'street_code', 'community_code', 'grid_code'];

/** The member of a region's line that holds the rows placed at the region itself (`placedAbove`). */
const ownRowsCode = (code: string) => `${code}+`;
const ownRows = (region: RegionNode, level: RegionLevel): RegionNode => ({ code: ownRowsCode(region.code), name: region.name, level, parentCode: region.code });

/**
 * Dimension subsets the lattice needs: all, or only those keeping non-additive dimensions, and
 * none breaking a dimension down with one outside its `with`.
 */
function subsets(dims: readonly DimSpec[]): number[] {
  const required = dims.reduce((m, d, i) => (d.additive ? m : m | (1 << i)), 0);
  const allowed = (mask: number) =>
    dims.every((d, i) => !(mask & (1 << i)) || !d.with || dims.every((o, j) => j === i || !(mask & (1 << j)) || d.with!.includes(o.column)));
  const masks: number[] = [];
  for (let mask = 0; mask < 1 << dims.length; mask++) if ((mask & required) === required && allowed(mask)) masks.push(mask);
  const bits = (m: number) => m.toString(2).replace(/0/g, '').length;
  return masks.sort((a, b) => bits(a) - bits(b) || a - b);
}

/**
 * Cells are addressed by number, not by string keys: node index × `radix` + the dimension
 * coordinates in mixed radix, where a dimension's coordinate is its value's index, or the number
 * of its values for "summed over". A line's total is then the member's id with one coordinate
 * changed, which is what keeps building the lattice cheap at tens of thousands of cells.
 */
interface Lattice {
  nodeIndex: Map<string, number>;
  valueIndex: Map<string, number>[];
  stride: number[];
  radix: number;
}

function latticeOf(dims: readonly DimSpec[], nodes: readonly RegionNode[]): Lattice {
  const stride = dims.map(() => 1);
  for (let i = dims.length - 2; i >= 0; i--) stride[i] = stride[i + 1] * (dims[i + 1].values.length + 1);
  return {
    nodeIndex: new Map(nodes.map((n, i) => [n.code, i])),
    valueIndex: dims.map((d) => new Map(d.values.map((v, i) => [v, i]))),
    stride,
    radix: dims.length ? stride[0] * (dims[0].values.length + 1) : 1,
  };
}

/** The combinations of a subset in canonical order (first dimension slowest), with their offsets. */
function combinations(dims: readonly DimSpec[], lattice: Lattice, mask: number): { values: (string | null)[]; offset: number }[] {
  let out: { values: (string | null)[]; offset: number }[] = [{ values: [], offset: 0 }];
  dims.forEach((d, i) => {
    const coords = mask & (1 << i) ? d.values.map((_, j) => j) : [d.values.length];
    out = out.flatMap((p) => coords.map((j) => ({ values: [...p.values, d.values[j] ?? null], offset: p.offset + j * lattice.stride[i] })));
  });
  return out;
}

async function computeTable(em: EntityManager, opts: TableOptions, summaries: Summaries): Promise<ProtectedTable & { size: number }> {
  const { dims, k } = opts;
  const population = opts.population && { table: await protectedTable(em, opts.population.of, summaries), ways: opts.population.ways };
  const within = opts.within && {
    table: await protectedTable(em, opts.within.of, summaries),
    // For each dimension of `of`, the index of this table's dimension of the same column, or -1: summed.
    at: opts.within.of.dims.map((d) => (opts.within!.columns.includes(d.column) ? dims.findIndex((o) => o.column === d.column) : -1)),
  };
  const masks = subsets(dims);
  const levels = LEVELS.slice(0, depth(opts.level) + 1);
  const shown = levels.map((level) => opts.nodes.get(level) ?? []);
  const levelNodes = shown.map((nodes, li) => (li > 0 && opts.source.placedAbove ? [...nodes, ...shown[li - 1].map((n) => ownRows(n, levels[li]))] : nodes));
  const isShown = new Set(shown.flat());
  const lattice = latticeOf(dims, levelNodes.flat());
  const { nodeIndex, valueIndex, stride, radix } = lattice;
  const combos = new Map(masks.map((mask) => [mask, combinations(dims, lattice, mask)]));
  const knownZero = (values: (string | null)[]) =>
    (opts.source.knownZero ?? []).some((rule) =>
      Object.entries(rule).every(([column, value]) => dims.some((d, i) => d.column === column && values[i] === value)),
    );
  const known = new Map(masks.map((mask) => [mask, combos.get(mask)!.map(({ values }) => knownZero(values))]));

  let size = 0;
  for (const nodes of levelNodes) for (const mask of masks) size += nodes.length * combos.get(mask)!.length;
  if (size > MAX_CELLS) {
    // A joint lattice is the district's whole, down to GRID, whatever the caller asked: nothing a
    // caller could change would make it fit, so it is no BAD_USER_INPUT on `by` (docs/statistics.md,
    // "Size of a district").
    if (opts.joint) {
      throw new HubException(HubErrorCode.LIMIT_EXCEEDED, `The statistics of district ${opts.anchor} need ${size} cells (at most ${MAX_CELLS}): it has too many regions to be protected at once`);
    }
    throw badInput('by', `this table needs ${size} cells (at most ${MAX_CELLS}): choose a coarser level or fewer dimensions`);
  }

  // The finest rows only; every coarser (level, subset) is their sum, added up below. One plain
  // GROUP BY costs Postgres and the driver far less than GROUPING SETS over all 32 sets.
  const { value } = opts.source;
  const from =
    typeof value === 'string'
      ? `${opts.source.table} c`
      : `${opts.source.table} c CROSS JOIN LATERAL (VALUES ('MET', c.${value.met}), ('NOT_MET', c.${value.notMet})) AS o(outcome, n)`;
  const summed = typeof value === 'string' ? `c.${value}` : 'o.n';
  const dimExprs = dims.map((d) => (d.column === 'outcome' ? 'o.outcome' : `c.${d.column}`));
  const groupBy = [...REGION_COLUMNS.slice(0, levels.length).map((r) => `c.${r}`), ...dimExprs];
  const aliases = groupBy.map((_, i) => `g${i}`);
  const rows: Record<string, string | null>[] = await em.query(
    `SELECT ${groupBy.map((e, i) => `${e} AS ${aliases[i]}`).join(', ')}, sum(${summed})::bigint AS n
     FROM ${from}
     WHERE c.district_code = $1 ${opts.source.where ? `AND (${opts.source.where.sql})` : ''}
     GROUP BY ${groupBy.join(', ')}`,
    [opts.anchor, ...(opts.source.where?.params ?? [])],
  );
  const childless = opts.source.table === 'statistics.workflow_cube' ? new Set<string>() : await childlessNodes(em, opts.anchor, shown.flat());
  const counts = new Float64Array(levelNodes.reduce((n, nodes) => n + nodes.length, 0) * radix);
  const rowNodes = levels.map(() => -1);
  const coords = dims.map(() => -1);
  for (const r of rows) {
    const n = Number(r.n);
    for (let li = 0; li < levels.length; li++) {
      const code = r[aliases[li]];
      const above = li > 0 ? r[aliases[li - 1]] : null;
      rowNodes[li] = (code !== null ? nodeIndex.get(code) : above !== null ? nodeIndex.get(ownRowsCode(above)) : undefined) ?? -1;
    }
    for (let i = 0; i < dims.length; i++) coords[i] = valueIndex[i].get(r[aliases[levels.length + i]] as string) ?? -1;
    for (const mask of masks) {
      // A value outside the dimension's list is still in the population: it counts where that
      // dimension is summed over, and nowhere else.
      let offset = 0;
      let i = 0;
      for (; i < dims.length; i++) {
        const c = mask & (1 << i) ? coords[i] : dims[i].values.length;
        if (c < 0) break;
        offset += c * stride[i];
      }
      if (i < dims.length) continue;
      for (let li = 0; li < levels.length; li++) if (rowNodes[li] >= 0) counts[rowNodes[li] * radix + offset] += n;
    }
  }

  const cells: (TableCell | undefined)[] = new Array(counts.length);
  const kinds = dims.length + 1;
  let order = 0;
  const runs = new Map<string, TableCell[]>();
  const joint: Line[] = [];
  /** The joint lattice's lines, table by table: what `hideDetermined` solves one at a time. */
  const tables: Line[][] = [];
  for (const [li, level] of levels.entries()) {
    for (const mask of masks) {
      // This table's own cells, in canonical order (node code, then dimension values).
      const run: TableCell[] = [];
      const ids: number[] = [];
      const isKnown = known.get(mask)!;
      for (const node of levelNodes[li]) {
        const base = nodeIndex.get(node.code)! * radix;
        combos.get(mask)!.forEach(({ values, offset }, j) => {
          const value = counts[base + offset];
          const cell: TableCell = { node, values, value, suppressed: false, fixed: isKnown[j] && value === 0, order: order++ };
          if (mask === 0 && population) {
            cell.suppressed = !population.ways.some((way) => way.every((part) => population.table.cell(node.code, part)?.suppressed === false));
            cell.fixed = true;
          }
          cells[base + offset] = cell;
          run.push(cell);
          ids.push(base + offset);
        });
      }
      const zeroIsSmall = (c: TableCell) => opts.zeroIsSmall === true || (mask === 0 && isShown.has(c.node));
      suppressSmall(run.filter(zeroIsSmall), k, true);
      suppressSmall(run.filter((c) => !zeroIsSmall(c)), k, false);
      for (const c of run) {
        if (childless.has(c.node.code)) {
          c.suppressed = false;
          c.fixed = true;
        } else if (mask === 0 && opts.joint) c.atLeast = 1;
      }
      if (within) {
        for (const c of run) {
          if (c.fixed) continue;
          const bound = within.table.cell(c.node.code, within.at.map((i) => (i < 0 ? null : c.values[i])));
          if (!bound || bound.suppressed) c.suppressed = true;
        }
      }
      if (mask !== 0 && opts.rate) {
        const whole = combos.get(0)![0].offset;
        for (let c = 0; c < run.length; c++) if (cells[ids[c] - (ids[c] % radix) + whole]!.suppressed) run[c].suppressed = true;
      }
      // A line is identified by its total and by what its members sum over (a dimension or the region).
      const lines = new Map<number, Line>();
      const addTo = (totalId: number, kind: number, member: TableCell) => {
        const total = totalId >= 0 ? cells[totalId] : undefined;
        if (!total) throw new Error(`statistics lattice: no total for ${member.node.code} ${member.values.join('|')} (${kind})`);
        const key = totalId * kinds + kind;
        const line = lines.get(key);
        if (line) line.members.push(member);
        else lines.set(key, { members: [member], total });
      };
      for (let c = 0; c < run.length; c++) {
        const cell = run[c];
        const id = ids[c];
        for (let i = 0; i < dims.length; i++) {
          if (!dims[i].additive || cell.values[i] === null) continue;
          addTo(id + (dims[i].values.length - valueIndex[i].get(cell.values[i]!)!) * stride[i], i, cell);
        }
        if (li > 0) {
          const parent = nodeIndex.get(cell.node.parentCode!);
          addTo(parent === undefined ? -1 : parent * radix + (id % radix), dims.length, cell);
        }
      }
      runs.set(`${level}/${mask}`, opts.source.placedAbove ? run.filter((c) => isShown.has(c.node)) : run);
      // A population from another table's published cells is known wherever it is shown; its
      // lines protect nothing the other table's do not.
      if (mask === 0 && population) continue;
      if (opts.joint) {
        for (const line of lines.values()) joint.push(line);
        tables.push([...lines.values()]);
        continue;
      }
      const table = [...lines.values()];
      protectLines(table, k);
      await hideDetermined([table], () => protectLines(table, k));
      for (const cell of run) cell.fixed = true;
    }
  }
  if (opts.joint) {
    protectJointly(joint, k);
    await hideDisclosed(tables, () => protectJointly(joint, k));
  }
  const cell = (node: string, values: (string | null)[]) => {
    const n = nodeIndex.get(node);
    if (n === undefined || values.length !== dims.length) return undefined;
    let id = n * radix;
    for (let i = 0; i < dims.length; i++) {
      const c = values[i] === null ? dims[i].values.length : valueIndex[i].get(values[i]!);
      if (c === undefined) return undefined;
      id += c * stride[i];
    }
    return cells[id];
  };
  const cellsOf = (level: RegionLevel, broken: readonly boolean[]) => {
    const mask = broken.reduce((m, b, i) => (b ? m | (1 << i) : m), 0);
    const run = broken.length === dims.length ? runs.get(`${level}/${mask}`) : undefined;
    if (!run) throw new Error(`statistics lattice: no table ${level} ${broken.join(',')}`);
    return run;
  };
  return { cells: cellsOf, cell, size };
}

/**
 * The regions of `nodes` where the registry holds no child. Every count of children there is 0, and
 * "none of the children here is X" is about nobody, so they are published as known zeros, as the
 * registry's rules are: a hidden one would be pinned by its region's published 0 all the same, and
 * protect nothing as a complement. Hidden as small, they had pinned every line they are in: two
 * streets loaded ahead of their children, or one with two communities, left no cell to hide and
 * every statistics answer of the district failed (red team 32). So a hidden count of a region's
 * children is 1 or more to every reader (`atLeast`), which the bound pass reasons with. Events
 * (reports, referrals) are placed where they were filed, children or not: their tables keep the
 * zero rule.
 */
async function childlessNodes(em: EntityManager, anchor: string, nodes: readonly RegionNode[]): Promise<Set<string>> {
  // One row per populated grid (the cube's key leads with the district and the grid).
  const rows: { street_code: string; community_code: string; grid_code: string }[] = await em.query(
    `SELECT DISTINCT street_code, community_code, grid_code FROM statistics.minor_cube WHERE district_code = $1`,
    [anchor],
  );
  const populated = new Set(rows.flatMap((r) => [r.street_code, r.community_code, r.grid_code]));
  if (rows.length) populated.add(anchor);
  return new Set(nodes.filter((n) => !populated.has(n.code)).map((n) => n.code));
}

/** The caller's district and every region under it, by level; nodes in code order. */
export async function districtNodes(em: EntityManager, anchor: string): Promise<Map<RegionLevel, RegionNode[]>> {
  const rows: { code: string; name: string; level: RegionLevel; parent_code: string | null }[] = await em.query(
    `SELECT code, name, level, parent_code FROM registry.region WHERE code LIKE $1 ORDER BY code`,
    [`${anchor}%`],
  );
  const byLevel = new Map<RegionLevel, RegionNode[]>();
  for (const r of rows) {
    const node = { code: r.code, name: r.name, level: r.level, parentCode: r.parent_code };
    (byLevel.get(r.level) ?? byLevel.set(r.level, []).get(r.level)!).push(node);
  }
  return byLevel;
}
