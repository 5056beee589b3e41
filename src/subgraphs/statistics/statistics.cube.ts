import type { EntityManager } from 'typeorm';
import { badInput } from '../../errors/hub.exception';
import { RegionLevel } from '../registry/registry.enums';
import { depth, LEVELS, MAX_CELLS } from './statistics.config';
import { Cell, Line, protectLines, suppressSmall } from './statistics.suppression';

/*
 * Builds a protected table from the summaries. A table is a region level plus dimensions; its
 * suppression depends on the coarser tables whose cells are its lines' totals: the same
 * dimensions one level up (a region is the sum of its sub-regions) and one dimension fewer (a
 * row's margin). Those are computed and protected first, down from the district, with the same
 * rules, so a cell has the same status in every answer that shows it. One SQL statement with
 * GROUPING SETS aggregates all of them on the summary tables.
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
}

export interface CubeSource {
  table: 'statistics.minor_cube' | 'statistics.category_cube' | 'statistics.workflow_cube';
  /** What a cell counts: a column of the table, or MET/NOT_MET counts unpivoted as `outcome`. */
  value: string | { met: string; notMet: string };
  /** Population restriction, as SQL on the table (alias c) with $2, $3 … parameters. */
  where?: { sql: string; params: unknown[] };
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
  /** The requested table's cells, every combination (zeros included: a missing row is a zero). */
  cells: TableCell[];
  /** Any cell of the computed lattice, for margins. */
  cell(node: string, values: (string | null)[]): TableCell | undefined;
}

const REGION_COLUMNS = ['district_code', 'street_code', 'community_code', 'grid_code'];
const keyOf = (node: string, values: (string | null)[]) => `${node}|${values.map((v) => v ?? '*').join('|')}`;

/** Dimension subsets the lattice needs: all, or only those keeping non-additive dimensions. */
function subsets(dims: readonly DimSpec[]): number[] {
  const required = dims.reduce((m, d, i) => (d.additive ? m : m | (1 << i)), 0);
  const masks: number[] = [];
  for (let mask = 0; mask < 1 << dims.length; mask++) if ((mask & required) === required) masks.push(mask);
  const bits = (m: number) => m.toString(2).replace(/0/g, '').length;
  return masks.sort((a, b) => bits(a) - bits(b) || a - b);
}

function combinations(dims: readonly DimSpec[], mask: number): (string | null)[][] {
  let out: (string | null)[][] = [[]];
  dims.forEach((d, i) => {
    const vals: (string | null)[] = mask & (1 << i) ? [...d.values] : [null];
    out = out.flatMap((prefix) => vals.map((v) => [...prefix, v]));
  });
  return out;
}

export async function protectedTable(
  em: EntityManager,
  opts: {
    anchor: string;
    nodes: Map<RegionLevel, RegionNode[]>;
    level: RegionLevel;
    dims: readonly DimSpec[];
    source: CubeSource;
    k: number;
    zeroIsSmall: boolean;
  },
): Promise<ProtectedTable> {
  const { dims, k } = opts;
  const levelDepth = depth(opts.level);
  const masks = subsets(dims);
  const levels = LEVELS.slice(0, levelDepth + 1);

  let size = 0;
  for (const level of levels) for (const mask of masks) size += (opts.nodes.get(level)?.length ?? 0) * combinations(dims, mask).length;
  if (size > MAX_CELLS) {
    throw badInput('by', `this table needs ${size} cells (at most ${MAX_CELLS}): choose a coarser level or fewer dimensions`);
  }

  // One statement: every (level, subset) as a grouping set; absent columns come back NULL.
  const sets = levels.flatMap((_, li) =>
    masks.map((mask) => `(${[REGION_COLUMNS[li], ...dims.filter((_, i) => mask & (1 << i)).map((d) => d.column)].join(', ')})`),
  );
  const { value } = opts.source;
  const from =
    typeof value === 'string'
      ? `${opts.source.table} c`
      : `${opts.source.table} c CROSS JOIN LATERAL (VALUES ('MET', c.${value.met}), ('NOT_MET', c.${value.notMet})) AS o(outcome, n)`;
  const summed = typeof value === 'string' ? `c.${value}` : 'o.n';
  const dimColumns = dims.map((d) => (d.column === 'outcome' ? 'o.outcome' : `c.${d.column}`) + ` AS ${d.column}`);
  const regionColumns = REGION_COLUMNS.slice(0, levels.length);
  const rows: Record<string, string | number | null>[] = await em.query(
    `SELECT ${[...regionColumns.map((r) => `c.${r} AS ${r}`), ...dimColumns].join(', ')}, sum(${summed})::bigint AS n
     FROM ${from}
     WHERE c.district_code = $1 ${opts.source.where ? `AND (${opts.source.where.sql})` : ''}
     GROUP BY GROUPING SETS (${sets.join(', ')})`,
    [opts.anchor, ...(opts.source.where?.params ?? [])],
  );
  const counts = new Map<string, number>();
  for (const r of rows) {
    const node = regionColumns.map((c) => r[c]).find((v) => v !== null) as string;
    counts.set(keyOf(node, dims.map((d) => r[d.column] as string | null)), Number(r.n));
  }

  const cells = new Map<string, TableCell>();
  let order = 0;
  let top: TableCell[] = [];
  for (const level of levels) {
    for (const mask of masks) {
      // This table's own cells, in canonical order (node code, then dimension values).
      const run: TableCell[] = [];
      const combos = combinations(dims, mask);
      for (const node of opts.nodes.get(level) ?? []) {
        for (const values of combos) {
          const key = keyOf(node.code, values);
          const cell: TableCell = { node, values, value: counts.get(key) ?? 0, suppressed: false, fixed: false, order: order++ };
          cells.set(key, cell);
          run.push(cell);
        }
      }
      suppressSmall(run, k, opts.zeroIsSmall);
      const lines = new Map<string, Line>();
      const addTo = (lineKey: string, total: TableCell | undefined, member: TableCell) => {
        if (!total) throw new Error(`statistics lattice: no total for line ${lineKey}`);
        (lines.get(lineKey) ?? lines.set(lineKey, { members: [], total }).get(lineKey)!).members.push(member);
      };
      for (const cell of run) {
        dims.forEach((d, i) => {
          if (!d.additive || cell.values[i] === null) return;
          const without = cell.values.map((v, j) => (j === i ? null : v));
          addTo(`d${i}:${keyOf(cell.node.code, without)}`, cells.get(keyOf(cell.node.code, without)), cell);
        });
        if (depth(level) > 0) {
          addTo(`r:${keyOf(cell.node.parentCode!, cell.values)}`, cells.get(keyOf(cell.node.parentCode!, cell.values)), cell);
        }
      }
      protectLines([...lines.values()], k);
      for (const cell of run) cell.fixed = true;
      if (level === opts.level && mask === masks[masks.length - 1]) top = run;
    }
  }
  return { cells: top, cell: (node, values) => cells.get(keyOf(node, values)) };
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
